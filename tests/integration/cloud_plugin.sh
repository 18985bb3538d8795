#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The smartcfg_auth broker plugin under a real mosquitto started by `smartcfg cloud`:
# signed usernames (HMAC-SHA256 and HMAC-SHA1), refusals, topic confinement, no secret in logs.
. "$(dirname "$0")/lib/cloud.bash"
. "$(dirname "$0")/lib/wait.bash"
# The plugin's events reach cloud.events through the cloud (a pipe and its thread), a moment
# after the client's own answer: each is waited for (seen PATTERN: up to 10 s), not looked
# for once.
seen() { wait_line "$CLOUD_PID" "$T/cloud.events" "$1" 10; }
command -v mosquitto_pub >/dev/null || fail "mosquitto-clients not installed (make deps)"

start_cloud
P=PLUGTEST01
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK1=$(post /v1/products/$P/devices '{"device_name":"dev1"}' | jget device_secret)
PSK2=$(post /v1/products/$P/devices '{"device_name":"dev2"}' | jget device_secret)
[ -n "$PSK1" ] && [ -n "$PSK2" ] || fail "devices not created"

pub() { mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 "$@" 2>&1; }

for alg in sha256 sha1; do
    creds $P dev1 "$PSK1" $alg
    out=$(pub -t "\$thing/up/service/$P/dev1" -m '{"method":"noop"}') || fail "$alg: right secret refused: $out"
    ok "admits the right secret ($alg)"
done
seen '"event":"device_connected","t_ms":[0-9]*,"client":"PLUGTEST01dev1","product_id":"PLUGTEST01","alg":"hmacsha1"' \
    || fail "no device_connected event"

creds $P dev1 "$PSK2" sha256   # dev2's secret for dev1
out=$(pub -t "\$thing/up/service/$P/dev1" -m x) && fail "wrong secret admitted"
grep -qi "not authori" <<<"$out" || fail "wrong secret: unexpected error: $out"
ok "refuses a wrong secret"

creds $P dev1 "$PSK1" sha256 $(( $(date +%s) - 10 ))
out=$(pub -t "\$thing/up/service/$P/dev1" -m x) && fail "expired username admitted"
ok "refuses an expired username"

creds $P dev1 "$PSK1" sha256 $(( $(date +%s) + 3600 ))
pub -t "\$thing/up/service/$P/dev1" -m x >/dev/null || fail "future expiry refused"
ok "admits a username expiring in the future"

creds $P ghost "$PSK1" sha256
out=$(pub -t "\$thing/up/service/$P/ghost" -m x) && fail "unknown device admitted"
ok "refuses an unknown device"

creds $P dev1 "$PSK1" sha256
out=$(mosquitto_pub "${MQ[@]}" -i "${P}dev2" -u "$MQ_USER" -P "$MQ_PASS" -t x -m x 2>&1) && fail "client id / username mismatch admitted"
out=$(mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "${MQ_PASS%%;*};hmacmd5" -t x -m x 2>&1) && fail "unknown algorithm admitted"
out=$(mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -t x -m x 2>&1) && fail "anonymous admitted"
ok "refuses mismatched client id, unknown algorithm, anonymous"

# Foreign topics. Subscribe: the broker answers SUBACK with a failure code.
out=$(timeout 5 mosquitto_sub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -t "\$thing/down/service/$P/dev2" -W 1 2>&1 || true)
grep -q "denied" <<<"$out" || fail "foreign subscribe not denied: $out"
out=$(timeout 5 mosquitto_sub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -t '$thing/down/#' -W 1 2>&1 || true)
grep -q "denied" <<<"$out" || fail "wildcard subscribe not denied: $out"
out=$(timeout 5 mosquitto_sub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -t "\$thing/down/+/$P/dev1" -W 1 2>&1 || true)
grep -q "denied" <<<"$out" && fail "own wildcard subscribe denied"
ok "subscribe: own \$thing/down/+/P/D allowed, foreign and # refused"

# Publish. QoS 0: MQTT 3.1.1 cannot say no, so the broker drops it silently. QoS 1: the broker
# closes the connection rather than acknowledge it (IoT Explorer sends no PUBACK either), so the
# publisher never gets a false acknowledgement. Either way the service never sees it: a valid
# token published on dev2's topic by dev1 must stay unbound.
TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
pub0() { mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 0 "$@" 2>&1; }
pub0 -t "\$thing/up/service/$P/dev2" -m "{\"method\":\"app_bind_token\",\"clientToken\":\"x-1\",\"params\":{\"token\":\"$TOK\"}}" >/dev/null \
    || fail "a QoS 0 publish on a foreign topic was not dropped silently"
out=$(pub -t "\$thing/up/service/$P/dev2" -m "{\"method\":\"app_bind_token\",\"clientToken\":\"x-2\",\"params\":{\"token\":\"$TOK\"}}") \
    && fail "a QoS 1 publish on a foreign topic was acknowledged: $out"
out=$(pub -t "\$thing/down/service/$P/dev1" -m '{"method":"app_bind_token_reply","code":0}') \
    && fail "a QoS 1 publish on its own down topic was acknowledged: $out"
pub -t "\$thing/up/service/$P/dev1" -m '{"method":"not_a_bind"}' >/dev/null || fail "an allowed QoS 1 publish failed"
sleep 0.5
[ "$(tokenapi AppGetDeviceBindTokenState "{\"Token\":\"$TOK\"}" | jget data.State)" = 1 ] || fail "foreign publish reached the service"
seen "\"event\":\"topic_refused\",\"t_ms\":[0-9]*,\"client\":\"${P}dev1\",\"access\":\"publish\",\"topic\":\"\$thing/up/service/$P/dev2\"" \
    || fail "no topic_refused event for the foreign publish"
seen "\"access\":\"publish\",\"topic\":\"\$thing/down/service/$P/dev1\"" \
    || fail "publishing on its own down topic was not refused"
ok "publish: foreign up topic and own down topic refused and logged (QoS 0 dropped, QoS 1 connection closed, never acknowledged)"

seen 'device_refused.*"reason":"bad_signature"' || fail "no bad_signature refusal event"
seen 'device_refused.*"reason":"expired"' || fail "no expired refusal event"
seen 'device_refused.*"reason":"unknown_device"' || fail "no unknown_device refusal event"

# A hostile client id cannot forge log lines or event fields (mosquitto itself refuses control
# characters in client ids; spaces and '=' reach the plugin, which masks them).
mosquitto_pub "${MQ[@]}" -i $'evil\nsmartcfg_auth: connect_ok client=forged' -u x -P x -t x -m x >/dev/null 2>&1 || true
mosquitto_pub "${MQ[@]}" -i 'evil reason=forged' -u x -P x -t x -m x >/dev/null 2>&1 || true
sleep 0.3
seen '"client":"evil?reason?forged","reason":"bad_username"' || fail "hostile client id not logged in masked form"
grep -q '"client":"forged"' "$T/cloud.events" && fail "forged event from a client id"
grep -q '"reason":"forged"' "$T/cloud.events" && fail "forged field from a client id"
ok "hostile client ids are logged masked, never as forged events"

# No secret anywhere in what we print.
for s in "$PSK1" "$PSK2" "${MQ_PASS%%;*}" "$TOK"; do
    grep -qF -- "$s" "$T/cloud.err" "$T/cloud.events" && fail "a secret leaked into the logs"
done
ok "no device secret, MQTT password or full token in the logs"
stop_cloud
