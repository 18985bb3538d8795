#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 30
# TLS in `smartcfg cloud` (issue 13, deliverable 2), loopback only: certificates made at
# first start (0600 key), HTTPS for the API, MQTT over TLS verified against the cloud's CA,
# TLS-PSK with the device's PSK, the loud warning for a network-facing plain HTTP API; then the
# certificates' lifetimes: a server certificate near its end made again at start, a foreign one
# and a CA near their end warned of (F208), none made by a clock not set yet (F207).
. "$(dirname "$0")/lib/cloud.bash"
MQTTS_PORT=$(free_port)
PSK_PORT=$(free_port)
BASE="https://127.0.0.1:$HTTP_PORT"
start_cloud_tls() {
    NO_LOGIN=1 start_cloud --tls --mqtts 127.0.0.1:$MQTTS_PORT --mqtt-psk 127.0.0.1:$PSK_PORT "$@"
    CURL_TLS=(--cacert "$T/tls/ca.crt")
    login_user tester tester-password-1
}
start_cloud_tls
[ "$(stat -c %a "$T/tls/server.key")" = 600 ] && [ "$(stat -c %a "$T/tls/ca.key")" = 600 ] || fail "TLS keys not 0600"
openssl verify -CAfile "$T/tls/ca.crt" "$T/tls/server.crt" >/dev/null || fail "server certificate not signed by the CA"
grep -q '"https":true' "$T/cloud.events" || fail "ready event does not say https"
ok "CA and server certificate made at first start; keys 0600"

curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/v1/bindings" && fail "plain HTTP answered on the HTTPS port"
curl -s -o /dev/null "$BASE/v1/bindings" && fail "HTTPS without the CA was trusted"
[ "$(get /v1/bindings | jget bindings)" = "[]" ] || fail "HTTPS admin API with the CA"
ok "HTTPS: works with the cloud's CA, refused without it, no plain HTTP"

P=SECTLS0001
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices '{"device_name":"dev1"}' | jget device_secret)
creds $P dev1 "$PSK" sha256
rr() {  # TOKEN PORT extra-args... -> reply code
    local tok=$1 port=$2; shift 2
    timeout 20 mosquitto_rr -h 127.0.0.1 -p "$port" -V mqttv311 "$@" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -W 15 \
        -t "\$thing/up/service/$P/dev1" -e "\$thing/down/service/$P/dev1" \
        -m "{\"method\":\"app_bind_token\",\"clientToken\":\"dev1-1\",\"params\":{\"token\":\"$tok\"}}" | jget code
}
TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
[ "$(rr "$TOK" "$MQTTS_PORT" --cafile "$T/tls/ca.crt" 2>/dev/null)" = 0 ] || fail "bind over MQTT/TLS"
rr "$TOK" "$MQTTS_PORT" --cafile /etc/ssl/certs/ca-certificates.crt >/dev/null 2>&1 && fail "MQTT/TLS trusted a foreign CA"
ok "MQTT over TLS: binds with the cloud's CA; a client with another CA refuses the server"

HEXPSK=$(printf %s "$PSK" | base64 -d | od -An -v -tx1 | tr -d ' \n')
TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
[ "$(rr "$TOK" "$PSK_PORT" --psk "$HEXPSK" --psk-identity "$P"dev1 2>/dev/null)" = 0 ] || fail "bind over TLS-PSK"
rr "$TOK" "$PSK_PORT" --psk 00112233445566778899aabbccddeeff --psk-identity "$P"dev1 >/dev/null 2>&1 \
    && fail "TLS-PSK with a wrong key"
rr "$TOK" "$PSK_PORT" --psk "$HEXPSK" --psk-identity NOSUCHdev >/dev/null 2>&1 && fail "TLS-PSK with an unknown identity"
ok "TLS-PSK: the device's PSK (identity = client id) binds; a wrong key or identity is refused"
stop_cloud

# Network-facing plain HTTP: a loud warning (127.0.0.2 stands for a LAN address; still loopback).
"$SMARTCFG" cloud --http 127.0.0.2:$HTTP_PORT --mqtt 127.0.0.1:$MQTT_PORT --db "$DB" --json \
    > "$T/warn.events" 2> "$T/warn.err" &
CLOUD_PID=$!
for _ in $(seq 600); do
    grep -q '"event":"ready"' "$T/warn.events" && break
    kill -0 $CLOUD_PID 2>/dev/null || fail "cloud on 127.0.0.2 exited at start: $(cat "$T/warn.err")"
    sleep 0.1
done
grep -q 'WARNING: the HTTP API on 127.0.0.2 is reachable from the network WITHOUT TLS' "$T/warn.err" || fail "no warning"
grep -q '"event":"warning"' "$T/warn.events" || fail "no warning event"
stop_cloud
ok "plain HTTP on a non-loopback address: loud warning (stderr and --json)"

# F208: the server certificate nears its end (825 days after the first start): made again from
# the cloud's CA at the next start, which devices already hold. Before, the old one was served
# past its end and every client refused the cloud from that day on. Here it ends tomorrow.
TLSD="$T/tls"
cp "$TLSD/server.crt" "$T/server.before"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n' > "$T/san.ext"
openssl x509 -req -in <(openssl x509 -x509toreq -in "$TLSD/server.crt" -signkey "$TLSD/server.key" 2>/dev/null) \
    -CA "$TLSD/ca.crt" -CAkey "$TLSD/ca.key" -CAcreateserial -days 1 -extfile "$T/san.ext" \
    -out "$TLSD/server.crt" 2>/dev/null || fail "F208: cannot make the one-day certificate"
! openssl x509 -checkend $((30 * 86400)) -noout -in "$TLSD/server.crt" >/dev/null || fail "F208: the fixture does not end soon"
start_cloud_tls
openssl x509 -checkend $((800 * 86400)) -noout -in "$TLSD/server.crt" >/dev/null ||
    fail "F208: a server certificate ending tomorrow was not made again: $(openssl x509 -enddate -noout -in "$TLSD/server.crt")"
grep -q "TLS: the server certificate $TLSD/server.crt expired within 30 days: made again from the CA" "$T/cloud.err" ||
    fail "F208: the renewal was not told"
[ "$(stat -c %a "$TLSD/server.key")" = 600 ] && [ ! -e "$TLSD/server.key.new" ] || fail "F208: the new key is not 0600 or its temp file stayed"
# ... and /metrics says when each certificate ends, for alerting before it
metrics "$T/m.txt"
for c in ca server; do
    f=$TLSD/$c.crt
    want=$(date -u -d "$(openssl x509 -enddate -noout -in "$f" | cut -d= -f2)" +%s)
    [ "$(mval "$T/m.txt" "smartcfg_cloud_tls_not_after_seconds{cert=\"$c\"}")" = "$want" ] ||
        fail "F208: /metrics: $c ends $(grep tls_not_after "$T/m.txt"), want $want"
done
r=$(get /v1/bindings) && jget bindings <<<"$r" >/dev/null || fail "F208: HTTPS with the CA after the renewal: $r"
TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
[ "$(rr "$TOK" "$MQTTS_PORT" --cafile "$TLSD/ca.crt")" = 0 ] || fail "F208: MQTT over TLS with the CA after the renewal"
stop_cloud
ok "F208: a server certificate ending tomorrow is made again from the CA at start; HTTPS and MQTT/TLS verify with the same CA file"

# ... one of another PKI (no key of its CA here) is not touched, but warned of; so is a CA
# near its end (devices hold it: a new one is the operator's to hand out).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$TLSD/server.key" -out "$TLSD/server.crt" 2>/dev/null ||
    fail "F208: cannot make a foreign certificate"
cp "$TLSD/server.crt" "$T/foreign.crt"
start_tls_only() { NO_LOGIN=1 start_cloud --tls --mqtts 127.0.0.1:$MQTTS_PORT --mqtt-psk 127.0.0.1:$PSK_PORT; }
start_tls_only   # (no login: the foreign certificate is not of the CA curl is given)
cmp -s "$TLSD/server.crt" "$T/foreign.crt" || fail "F208: a certificate of another PKI was replaced"
grep -q '"event":"warning".*server certificate .* expires within 30 days and is not of this cloud.s CA' "$T/cloud.events" ||
    fail "F208: no warning for a foreign certificate ending tomorrow"
stop_cloud
mv "$TLSD" "$T/tls.old"
mkdir -m 700 "$TLSD"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 10 -subj /CN=ca \
    -keyout "$TLSD/ca.key" -out "$TLSD/ca.crt" 2>/dev/null && cp "$T/tls.old/server.key" "$T/tls.old/server.crt" "$TLSD/" ||
    fail "F208: cannot make a CA of 10 days"
start_tls_only
grep -q '"event":"warning".*the TLS CA .* expires within 30 days: devices and apps will refuse the cloud' "$T/cloud.events" ||
    fail "F208: no warning for a CA ending in 10 days"
stop_cloud
ok "F208: a certificate of another PKI ending tomorrow is kept and warned of, and so is a CA ending in 10 days"

# F207: no certificates made by a wall clock not set yet (a Raspberry Pi's first start before its
# NTP sync): dated from 1970 (openssl under the same shim makes a CA of 1970-01-04..1980-01-02),
# they would be long past their end once the clock is set. Before, they were made, served and
# refused by every client after the sync. (The shim is in the cloud only: the timeout ends the
# old code's cloud, which started.)
rm -rf "$TLSD"
wall_1970
rc=0
with_wallclock timeout 20 "$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --mqtt 127.0.0.1:$MQTT_PORT --db "$DB" --tls \
    > /dev/null 2> "$T/unset.err" || rc=$?
[ $rc = 1 ] || fail "F207: a first start with --tls by a 1970 clock: exit $rc, want 1: $(tail -3 "$T/unset.err")"
grep -q "the wall clock reads 1970-01-04, not set yet: TLS certificates made now would be past their end" "$T/unset.err" ||
    fail "F207: not told why: $(tail -3 "$T/unset.err")"
[ ! -e "$TLSD/ca.crt" ] || fail "F207: a CA was made by the 1970 clock"
echo 0 > "$T/wall"
start_cloud_tls
stop_cloud
ok "F207: a first start with --tls by a clock reading 1970 fails (exit 1, told why), makes no certificate; once the clock is set it does"
