#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End to end through the AT front-end, in a network namespace of its own: a scripted host on a
# pty sets the device info and sends AT+TCSTARTSMART; `smartcfg device --at` replays a
# `smartcfg air` capture (--radio file:), joins a simulated AP, acks, serves the token to an
# app peer on 8266, and the host sees +TCSTARTSMART:OK then +TCSTARTSMART:WIFI_CONNECT_SUCCESS.
#  1. --no-cloud: success after the token handshake;
#  2. a wrong AP password: +TCSTARTSMART:WIFI_CONNECT_FAILED,10,<reason>;
#  2b. soft-AP boarding as the AT test tool's WIFI mode drives it (AT+TCSAP, the app's cmdType 1);
#  3. with `smartcfg cloud`: the device binds the app's token over MQTT (success = bound, as in
#     the reference), then the host's own MQTT session: AT+TCMQTTSTATE? answers 1.
# No secret on the AT line, stdout, stderr or the cloud's logs.
set -euo pipefail
. "$(dirname "$0")/lib/netns_self.bash"
netns_self SC_AT_E2E_NS sc-at-e2e "$0"
. "$(dirname "$0")/lib/cloud.bash"
PEER=${SC_SRC:?}/tests/integration/udp_peer.py
HOST=${SC_SRC:?}/tests/integration/at_host.py

PASSWORD='s3cret-Pa55:word'
"$SMARTCFG" air --ssid MyAP --password "$PASSWORD" --ip 127.0.0.1 --channel 6 "$T/cap.pcap" >"$T/air.out" 2>&1 \
    || fail "smartcfg air: $(cat "$T/air.out")"
ESC_PW=${PASSWORD//:/\\:}

session() { # TAG JOIN-SPEC SCRIPT [device options...]
    local tag=$1 join=$2 script=$3
    shift 3
    AT_DEV_OUT=$T/$tag-dev.out AT_DEV_ERR=$T/$tag-dev.err python3 "$HOST" "$script" -- \
        "$SMARTCFG" device --radio "file:$T/cap.pcap" --join "$join" --at '{tty}' --state-dir "$T/state-$tag" \
        --log-level debug --timeout 90 "$@" >"$T/$tag-host.out" 2>"$T/$tag-host.err" \
        || { cat "$T/$tag-host.out"; tail -n 40 "$T/$tag-dev.err"; fail "AT session $tag"; }
}
app_token() { # TOKEN: the app's 8266 exchange, in the background (resends every 2 s)
    ( sleep 1; python3 "$PEER" token 127.0.0.1 127.0.0.2 "$1" "$T/token.out" >"$T/token.log" 2>&1 ) &
    APP=$!
}

# --- 1. success without a cloud ----------------------------------------------------------------
SECRET='c2VjcmV0LWF0LWUyZS1zZWNyZXQ='
TOKEN='0123456789abcdef0123456789abcdef'
cat >"$T/ok.script" <<EOF
send ATE0
expect OK
send AT+TCDEVINFOSET=0,"ABCDEFGHIJ","dev1","$SECRET"
expect +TCDEVINFOSET:OK
send AT+TCSTARTSMART
expect OK
expect +TCSTARTSMART:OK
wait 60 +TCSTARTSMART:WIFI_CONNECT_SUCCESS
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:0
hangup
EOF
app_token "$TOKEN"
session ok "sim:MyAP:$ESC_PW:127.0.0.2" "$T/ok.script" --no-cloud
wait "$APP" || fail "token exchange: $(cat "$T/token.log")"
grep -q '"productId": *"ABCDEFGHIJ", *"deviceName": *"dev1"' "$T/token.log" \
    || fail "the app did not get the identity set over AT: $(cat "$T/token.log")"
ok "AT+TCSTARTSMART -> capture decoded, joined, token served -> +TCSTARTSMART:WIFI_CONNECT_SUCCESS"

# --- 2. wrong AP password ------------------------------------------------------------------------
cat >"$T/bad.script" <<EOF
send ATE0
expect OK
send AT+TCDEVINFOSET=0,"ABCDEFGHIJ","dev1","$SECRET"
expect +TCDEVINFOSET:OK
send AT+TCSTARTSMART
expect +TCSTARTSMART:OK
wait_re 60 \+TCSTARTSMART:WIFI_CONNECT_FAILED,10,-?[0-9]+\r\n
hangup
EOF
session bad "sim:MyAP:not-the-password:127.0.0.2" "$T/bad.script" --no-cloud
ok "wrong AP password -> +TCSTARTSMART:WIFI_CONNECT_FAILED,10,<reason>"

# --- 2b. soft-AP boarding (Tencent's AT test tool's WIFI mode) -----------------------------------
# AT+TCSAP raises the soft-AP; the app sends the router's SSID/password and its token to 8266
# (cmdType 1) and gets the identity (cmdType 2); the device joins and the host sees
# +TCSAP:WIFI_CONNECT_SUCCESS. The app starts once the host has seen +TCSAP:OK.
cat >"$T/sap.script" <<EOF
send ATE0
expect OK
send AT+TCDEVINFOSET=0,"ABCDEFGHIJ","dev1","$SECRET"
expect +TCDEVINFOSET:OK
send AT+TCSAP="ESP8266-SoftAP","12345678"
expect OK
expect +TCSAP:OK
touch $T/sap-go
wait 60 +TCSAP:WIFI_CONNECT_SUCCESS
hangup
EOF
( python3 "$PEER" softap 127.0.0.1 MyAP "$PASSWORD" "$TOKEN" "$T/sap.out" "$T/sap-go" >"$T/sap.log" 2>&1 ) &
APP=$!
session sap "sim:MyAP:$ESC_PW:127.0.0.2" "$T/sap.script" --no-cloud
wait "$APP" || fail "soft-AP exchange: $(cat "$T/sap.log")"
grep -q '"productId": *"ABCDEFGHIJ", *"deviceName": *"dev1"' "$T/sap.log" \
    || fail "the app did not get the identity over the soft-AP: $(cat "$T/sap.log")"
ok "AT+TCSAP -> the app's SSID/password/token over the soft-AP -> joined -> +TCSAP:WIFI_CONNECT_SUCCESS"

# --- 3. with the local cloud: bind, then the host's MQTT session --------------------------------
start_cloud
P=ATE2EPROD1
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices '{"device_name":"at_e2e_dev"}' | jget device_secret)
CTOKEN=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
cat >"$T/cloud.script" <<EOF
send ATE0
expect OK
send AT+TCDEVINFOSET=0,"$P","at_e2e_dev","$PSK"
expect +TCDEVINFOSET:OK
send AT+TCSTARTSMART
expect +TCSTARTSMART:OK
wait 60 +TCSTARTSMART:WIFI_CONNECT_SUCCESS
send AT+TCMQTTCONN=0,5000,60,1,0
wait 10 +TCMQTTCONN:OK
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:1
expect OK
hangup
EOF
app_token "$CTOKEN"
session cloud "sim:MyAP:$ESC_PW:127.0.0.2" "$T/cloud.script" --broker "127.0.0.1:$MQTT_PORT"
wait "$APP" || fail "token exchange (cloud): $(cat "$T/token.log")"
grep -q "\"event\":\"bind_result\",\"t_ms\":[0-9]*,\"product_id\":\"$P\",\"device_name\":\"at_e2e_dev\".*\"code\":0" "$T/cloud.events" \
    || fail "the cloud did not record the bind"
ok "with smartcfg cloud: bound -> WIFI_CONNECT_SUCCESS, then AT+TCMQTTCONN and AT+TCMQTTSTATE? 1"

for s in "$PASSWORD" "$SECRET" "$TOKEN" "$PSK" "$CTOKEN"; do
    grep -qF -- "$s" <<<"$(grep -h '^<<' "$T"/*-host.err)" && fail "a secret came back on the AT line"
    grep -qF -- "$s" "$T"/*-dev.out "$T"/*-dev.err "$T/cloud.err" && fail "a secret was printed"
done
ok "no secret on the AT line or in the logs"
stop_cloud
