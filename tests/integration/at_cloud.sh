#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The AT MQTT session and AT dynamic registration against the local cloud (`smartcfg cloud`:
# mosquitto + the smartcfg_auth signature check + /register/dev): a host on a pty sets the
# device info, AT+TCMQTTCONN -> +TCMQTTCONN:OK and AT+TCMQTTSTATE? -> 1 (so our IoT Explorer
# credentials pass the cloud's check); a wrong PSK is refused (+TCMQTTCONN:FAIL,-116/-117);
# AT+TCPRDINFOSET + AT+TCDEVREG register a new device, which then connects. No secret shows.
set -euo pipefail
. "$(dirname "$0")/lib/cloud.bash"
. "$(dirname "$0")/lib/at_session.bash"
start_cloud
P=ATPROD0001
PSEC=$(post /v1/products "{\"product_id\":\"$P\"}" | jget product_secret)
PSK=$(post /v1/products/$P/devices '{"device_name":"at_dev1"}' | jget device_secret)
WRONG=$(printf 'not-the-right-key' | base64)


cat >"$T/s1" <<EOF
send ATE0
expect OK
send AT+TCDEVINFOSET=0,"$P","at_dev1","$WRONG"
expect +TCDEVINFOSET:OK
send AT+TCMQTTCONN=0,5000,60,1,0
expect OK
wait_re 10 \+TCMQTTCONN:FAIL,-11[67]\r\n
send AT+TCDEVINFOSET=0,"$P","at_dev1","$PSK"
expect +TCDEVINFOSET:OK
send AT+TCMQTTCONN=0,5000,60,1,0
expect OK
wait 10 +TCMQTTCONN:OK
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:1
expect OK
send AT+TCMQTTDISCONN
expect OK
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:0
hangup
EOF
at_session psk "$T/s1" --register-url "$BASE/register/dev"
ok "AT+TCMQTTCONN with the device secret: the local cloud accepts it, AT+TCMQTTSTATE? 1; a wrong PSK is refused"

cat >"$T/s2" <<EOF
send ATE0
expect OK
send AT+TCPRDINFOSET=0,"$P","$PSEC","at_dev2"
expect +TCPRDINFOSET:OK
send AT+TCDEVREG
expect OK
wait 15 +TCDEVREG:OK
send AT+TCDEVINFOSET?
expect_re \+TCDEVINFOSET:0,"$P","at_dev2",[0-9]+,"ap-guangzhou"\r\n
send AT+TCMQTTCONN=0,5000,60,1,0
wait 10 +TCMQTTCONN:OK
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:1
hangup
EOF
at_session dynreg "$T/s2" --register-url "$BASE/register/dev"
grep -q '"event":"device_registered","t_ms":[0-9]*,"product_id":"ATPROD0001","device_name":"at_dev2"' "$T/cloud.events" \
    || fail "the cloud did not record the registration"
ok "AT+TCPRDINFOSET + AT+TCDEVREG register against /register/dev, then connect"

for s in "$PSK" "$PSEC"; do
    grep -qF -- "$s" <<<"$(grep -h '^<<' "$T"/*-host.err)" && fail "a secret came back on the AT line"
    grep -qF -- "$s" "$T"/*-dev.out "$T"/*-dev.err "$T/cloud.err" && fail "a secret was printed"
done
ok "no secret on the AT line or in the logs"
stop_cloud
