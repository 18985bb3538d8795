#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 23
# `smartcfg device --tls-psk` (IoT Explorer's key authentication): the device binds through the
# cloud's TLS-PSK listener (`smartcfg cloud --mqtt-psk`) with no CA file -- the key is its decoded
# device secret, the identity <ProductId><DeviceName> -- and the cloud records the bind. A device
# holding a wrong key fails the TLS handshake: exit 5 with err 1 and a reason that says MQTT
# connect. With --at, tls mode 1 is TLS-PSK too: AT+TCMQTTCONN=1 connects with the right key and
# gets +TCMQTTCONN:FAIL,-603 with a wrong one. Neither key (base64 or hex) appears in any output,
# log or state file of those runs. A server that knows no PSK (a certificate listener) fails the
# handshake too. In a network namespace of its own (127.0.0.2, UDP 8266).
set -euo pipefail
. "$(dirname "$0")/lib/netns_self.bash"
netns_self SC_DEVICE_TLS_PSK_NS scpsk "$0"
. "$(dirname "$0")/lib/cloud.bash"
DIR=$(cd "$(dirname "$0")" && pwd)
PSK_PORT=$(free_port)
TLS_PORT=$(free_port)
start_cloud --mqtt-psk 127.0.0.1:$PSK_PORT --mqtts 127.0.0.1:$TLS_PORT
grep -q "\"mqtt_psk_port\":$PSK_PORT" "$T/cloud.events" || fail "the ready event names no TLS-PSK port"
P=PSKPROD001
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices '{"device_name":"pskdev1"}' | jget device_secret)
HEXPSK=$(printf %s "$PSK" | base64 -d | od -An -v -tx1 | tr -d ' \n')
WRONG=$(printf 'not-the-key-0001' | base64)   # 16 bytes, as a real PSK
HEXWRONG=$(printf 'not-the-key-0001' | od -An -v -tx1 | tr -d ' \n')
# usage: TLS-PSK checks no certificate, so a CA file beside it is an error unless a registration
# (HTTPS) needs it; from the command line and from a config file (key tls-psk) alike
usage() {  # WANT-RC ARGS... -> the device's stderr in $T/usage.err
    local want=$1 rc=0; shift
    SMARTCFG_DEVICE_SECRET=$PSK timeout 20 "$SMARTCFG" device --radio "file:$T/none.pcap" --join sim:A:b:127.0.0.2 \
        --product-id $P --device-name pskdev1 --state-dir "$T/usage.state" "$@" >"$T/usage.out" 2>"$T/usage.err" || rc=$?
    [ "$rc" = "$want" ] || fail "smartcfg device $*: exit $rc, want $want: $(cat "$T/usage.err")"
    grep -qiF -- "$HEXPSK" "$T/usage.out" "$T/usage.err" && fail "usage: the key shows"
    ! grep -qF -- "$PSK" "$T/usage.out" "$T/usage.err" || fail "usage: the secret shows"
}
echo "# a CA bundle" >"$T/ca.pem"
MSG="--ca-file with --tls-psk: TLS-PSK checks no certificate"
usage 2 --tls-psk --ca-file "$T/ca.pem"
grep -qF -- "$MSG" "$T/usage.err" || fail "--tls-psk --ca-file: $(cat "$T/usage.err")"
(umask 077; printf 'tls-psk = true\nca-file = %s\n' "$T/ca.pem" >"$T/psk.conf")
usage 2 --config "$T/psk.conf"
grep -qF -- "$MSG" "$T/usage.err" || fail "tls-psk = true, ca-file in a config file: $(cat "$T/usage.err")"
usage 2 --config "$T/psk.conf" --tls-psk --ca-file "$T/ca.pem" --tls
# past the options, on to the radio (exit 1: the capture is not there)
usage 1 --config "$T/psk.conf" --no-tls-psk    # turned off: the CA file is fine
grep -q "none.pcap" "$T/usage.err" || fail "--no-tls-psk: not on to the radio: $(cat "$T/usage.err")"
SMARTCFG_PRODUCT_SECRET=prodsecret0123456789 usage 1 --config "$T/psk.conf"   # the registration's HTTPS
grep -q "none.pcap" "$T/usage.err" || fail "--tls-psk, --ca-file, a product secret: not on to the radio: $(cat "$T/usage.err")"
ok "--ca-file with --tls-psk (command line or config file) is a usage error; --no-tls-psk undoes it"

"$SMARTCFG" air --ssid PskAP --password 'psk-wifi-pass' --ip 127.0.0.1 "$T/cap.pcap" >"$T/air.log" 2>&1 || fail "air"

run() {  # NAME SECRET TOKEN [PORT] -> RC; the device's files are $T/NAME.{ev,err}
    local name=$1 secret=$2 tok=$3 port=${4:-$PSK_PORT}
    SMARTCFG_DEVICE_SECRET=$secret "$SMARTCFG" device --radio "file:$T/cap.pcap" \
        --join sim:PskAP:psk-wifi-pass:127.0.0.2 --sim-delay 100 --product-id $P --device-name pskdev1 \
        --tls-psk --broker 127.0.0.1:$port --state-dir "$T/$name.state" --timeout 30 --json \
        --log-level debug >"$T/$name.ev" 2>"$T/$name.err" &
    local dev=$!
    for _ in $(seq 100); do
        grep -q '"state":"wait_token"' "$T/$name.ev" 2>/dev/null && break
        kill -0 $dev 2>/dev/null || break
        sleep 0.1
    done
    python3 "$DIR/udp_peer.py" token 127.0.0.1 127.0.0.2 "$tok" "$T/$name.token.log" >/dev/null 2>&1 \
        || { kill $dev 2>/dev/null; tail -n 20 "$T/$name.ev" "$T/$name.err"; fail "$name: token exchange"; }
    RC=0
    wait $dev || RC=$?
    # no key in anything this device or the cloud wrote
    local s
    for s in "$PSK" "$HEXPSK" "$WRONG" "$HEXWRONG"; do
        grep -rqiF -- "$s" "$T/$name.ev" "$T/$name.err" "$T/$name.state" "$T/cloud.events" "$T/cloud.err" \
            && fail "$name: a key appears in the output: $(grep -rliF -- "$s" "$T" | tr '\n' ' ')"
    done
    return 0
}

TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
run good "$PSK" "$TOK"
[ "$RC" = 0 ] || { tail -n 20 "$T/good.ev" "$T/good.err"; fail "TLS-PSK bind: exit $RC"; }
grep -q '"event":"bound"' "$T/good.ev" || fail "TLS-PSK bind: no bound event"
grep -q "MQTT connect to 127.0.0.1 (TLS-PSK)" "$T/good.err" || fail "the device did not say it connects with TLS-PSK"
grep -q "\"event\":\"bind_result\",\"t_ms\":[0-9]*,\"product_id\":\"$P\",\"device_name\":\"pskdev1\".*\"code\":0" \
    "$T/cloud.events" || fail "the cloud did not record the TLS-PSK bind"
ok "device --tls-psk binds through the cloud's --mqtt-psk listener, no CA file; no key in any output"

TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
run wrong "$WRONG" "$TOK"
[ "$RC" = 5 ] || { tail -n 20 "$T/wrong.ev" "$T/wrong.err"; fail "wrong key: exit $RC, not 5 (cloud error)"; }
grep -q '"event":"bound"' "$T/wrong.ev" && fail "wrong key: bound"
# err 1 (MQTT connect), sub 71 (EPROTO: the handshake); "failed" when libmosquitto saw it within
# connect(), "refused" when the port's loop did
grep -q '"event":"error","t_ms":[0-9]*,"err_id":1,"sub_id":71,' "$T/wrong.ev" \
    || { tail -n 5 "$T/wrong.ev"; fail "wrong key: no error event with err 1, sub 71 (TLS handshake)"; }
grep -qE "bind failed: MQTT connect (failed|refused) \(71\)" "$T/wrong.err" \
    || fail "wrong key: the reason does not say MQTT connect (71)"
ok "a wrong key fails the TLS-PSK handshake: exit 5, err 1 sub 71; no key in any output"

# F114: a server that knows no PSK (here the cloud's certificate listener, --mqtts; a stranger on
# the broker's address alike) must fail the handshake. libmosquitto's PSK client left TLS 1.3 on,
# where such a server answers with a certificate nobody verified (no CA file): the device sent
# it its CONNECT, username and HMAC password, and bound through it.
TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
run cert "$PSK" "$TOK" "$TLS_PORT"
[ "$RC" = 5 ] || { tail -n 20 "$T/cert.ev" "$T/cert.err"; fail "--tls-psk against a certificate listener: exit $RC, not 5"; }
grep -q '"event":"bound"' "$T/cert.ev" && fail "--tls-psk against a certificate listener: bound"
grep -q '"event":"error","t_ms":[0-9]*,"err_id":1,"sub_id":71,' "$T/cert.ev" \
    || { tail -n 5 "$T/cert.ev"; fail "--tls-psk against a certificate listener: no error event with err 1, sub 71"; }
ok "--tls-psk against a server without the PSK (a certificate listener): the handshake fails, err 1 sub 71"

# --at: tls mode 1 on a device run with --tls-psk is TLS-PSK (the reference module's key
# authentication); the right key connects, a wrong one fails the handshake (-603).
cat >"$T/at.script" <<EOS
send ATE0
expect OK
send AT+TCDEVINFOSET=1,"$P","pskdev1","$PSK"
expect +TCDEVINFOSET:OK
send AT+TCMQTTCONN=1,5000,60,1,0
expect OK
wait 10 +TCMQTTCONN:OK
send AT+TCMQTTDISCONN
expect OK
send AT+TCDEVINFOSET=1,"$P","pskdev1","$WRONG"
expect +TCDEVINFOSET:OK
send AT+TCMQTTCONN=1,5000,60,1,0
wait 10 +TCMQTTCONN:FAIL,-603
hangup
EOS
AT_DEV_OUT=$T/at.out AT_DEV_ERR=$T/at.err python3 "$DIR/at_host.py" "$T/at.script" -- "$SMARTCFG" device \
    --radio udp:17001 --join sim:ap:password1:127.0.0.1 --no-cloud --at '{tty}' --tls-psk \
    --broker 127.0.0.1:$PSK_PORT --state-dir "$T/at.state" --log-level debug >"$T/at-host.out" 2>"$T/at-host.err" \
    || { tail -n 30 "$T/at-host.err" "$T/at.err"; fail "AT tls mode 1 over TLS-PSK: $(cat "$T/at-host.out")"; }
for s in "$PSK" "$HEXPSK" "$WRONG" "$HEXWRONG"; do   # (the AT host's own transcript has them: it sent them)
    grep -qiF -- "$s" "$T/at.out" "$T/at.err" "$T/cloud.events" "$T/cloud.err" && fail "AT: a key appears in the output"
done
ok "--at --tls-psk: AT+TCMQTTCONN=1 connects over TLS-PSK; a wrong key gets +TCMQTTCONN:FAIL,-603; no key in any output"
