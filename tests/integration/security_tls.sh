#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS in `smartcfg cloud` (issue 13, deliverable 2), loopback only: certificates made at
# first start (0600 key), HTTPS for the API, MQTT over TLS verified against the cloud's CA,
# TLS-PSK with the device's PSK, and the loud warning for a network-facing plain HTTP API.
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
