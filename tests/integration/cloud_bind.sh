#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 33
# Binding over the real broker: app token API (curl) -> device-like MQTT client publishes
# app_bind_token -> reply on its down topic -> token state via the API. Every reply code,
# bind_device_query, family binding, and a restart of `smartcfg cloud` between token creation
# and binding. /healthz, /readyz and /metrics (docs/cloud.md "Health and metrics"): the
# counters move by exactly the binds made here, the text is exposition format, no secret in it.
. "$(dirname "$0")/lib/cloud.bash"
command -v mosquitto_rr >/dev/null || fail "mosquitto-clients not installed (make deps)"

# Tokens live 600 s here: no step below races a lifetime it does not own. The expiry case
# runs on a cloud restarted with a 1 s lifetime and waits for the API to report the expiry.
start_cloud --token-ttl 600
P=BINDTEST01
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK1=$(post /v1/products/$P/devices '{"device_name":"dev1"}' | jget device_secret)
PSK2=$(post /v1/products/$P/devices '{"device_name":"dev2"}' | jget device_secret)

# Health and metrics: no key for the two probes, the admin key for /metrics; odd methods,
# paths and headers get a clear 4xx.
code() { curl -s -o "$T/body" -w '%{http_code}' --max-time 5 "$@"; }
[ "$(code "$BASE/healthz")" = 200 ] && [ "$(cat "$T/body")" = '{"live":true}' ] || fail "/healthz: $(cat "$T/body")"
[ "$(code "$BASE/readyz")" = 200 ] && [ "$(cat "$T/body")" = '{"ready":true}' ] || fail "/readyz: $(cat "$T/body")"
[ "$(code -I "$BASE/readyz")" = 200 ] || fail "HEAD /readyz"
[ "$(code "$BASE/healthz?x=$(head -c 2000 /dev/zero | tr '\0' a)")" = 200 ] || fail "/healthz with a long query"
[ "$(code -X POST -d x=1 "$BASE/healthz")" = 405 ] || fail "POST /healthz"
[ "$(code -X DELETE -H "$(admin_auth)" "$BASE/metrics")" = 405 ] || fail "DELETE /metrics"
[ "$(code "$BASE/metrics")" = 401 ] || fail "/metrics without the key"
[ "$(code -H "Authorization: Bearer $(head -c 4000 /dev/zero | tr '\0' k)" "$BASE/metrics")" = 401 ] || fail "/metrics with a wrong key"
[ "$(code "$BASE/readyz/$(head -c 70000 /dev/zero | tr '\0' a)")" = 414 ] || fail "a 70 KB path"
metrics "$T/m0"
ok "/healthz and /readyz 200 without a key; /metrics 401 without it; POST/DELETE 405, a 70 KB path 414"

# device DEV PSK PAYLOAD -> prints the reply from the device's down topic
device() {
    creds $P "$1" "$2" sha256
    timeout 10 mosquitto_rr "${MQ[@]/mqttv311/mqttv5}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -W 5 \
        -t "\$thing/up/service/$P/$1" -e "\$thing/down/service/$P/$1" -m "$3"
}
bind_msg() { printf '{"method":"app_bind_token","clientToken":"%s-%s","params":{"token":"%s"}}' "$1" "$(date +%s%3N)" "$2"; }
expect_code() {  # REPLY METHOD CODE
    [ "$(echo "$1" | jget method)" = "$2" ] && [ "$(echo "$1" | jget code)" = "$3" ] || fail "expected $2 code $3, got: $1"
}

# Token with the default envelope, as the SDK sends it.
R=$(tokenapi AppCreateDeviceBindToken '{}')
[ "$(echo "$R" | jget code)" = 0 ] || fail "create token: $R"
TOK=$(echo "$R" | jget data.Token)
[[ "$TOK" =~ ^[0-9a-f]{32}$ ]] || fail "token is not 32 lower-case hex: $TOK"
[ "$(echo "$R" | jget data.RequestId)" = req-1 ] || fail "RequestId not echoed"
[ "$(tokenapi AppGetDeviceBindTokenState "{\"Token\":\"$TOK\"}" | jget data.State)" = 1 ] || fail "fresh token not waiting"
ok "AppCreateDeviceBindToken; state 1 while waiting"

REPLY=$(device dev1 "$PSK1" "$(bind_msg dev1 "$TOK")") || fail "no reply to app_bind_token"
expect_code "$REPLY" app_bind_token_reply 0
grep -q '^dev1-' <<<"$(jget clientToken <<<"$REPLY")" || fail "clientToken not echoed: $REPLY"
S=$(tokenapi AppGetDeviceBindTokenState "{\"Token\":\"$TOK\"}")
[ "$(echo "$S" | jget data.State)" = 2 ] && [ "$(echo "$S" | jget data.ProductId)" = $P ] \
    && [ "$(echo "$S" | jget data.DeviceName)" = dev1 ] || fail "state after bind: $S"
M=$(tokenapi AppGetMultiDeviceBindTokenState "{\"Token\":\"$TOK\"}")
[ "$(echo "$M" | jget data.Data.0.State)" = 2 ] && [ "$(echo "$M" | jget data.Data.0.DeviceName)" = dev1 ] || fail "multi state: $M"
ok "device binds (code 0); State 2 with ProductId/DeviceName; multi-device state"

expect_code "$(device dev1 "$PSK1" "$(bind_msg dev1 "$TOK")")" app_bind_token_reply 0
ok "same device binding again is idempotent (code 0)"
expect_code "$(device dev2 "$PSK2" "$(bind_msg dev2 "$TOK")")" app_bind_token_reply 409
ok "token reuse by another device -> 409"
expect_code "$(device dev2 "$PSK2" "$(bind_msg dev2 0123456789abcdef0123456789abcdef)")" app_bind_token_reply 404
ok "unknown token -> 404"
expect_code "$(device dev2 "$PSK2" 'this is {not json')" error_reply 400
expect_code "$(device dev2 "$PSK2" '{"method":"app_bind_token","clientToken":"dev2-1","params":{}}')" app_bind_token_reply 400
expect_code "$(device dev2 "$PSK2" '{"method":"app_bind_token","clientToken":"dev2-1","params":{"token":"../../etc"}}')" app_bind_token_reply 400
ok "malformed JSON / missing token / bad token syntax -> 400"

# Exactly the binds above: 2 ok, 1 taken, 1 unknown, 2 malformed (the reply to a message that
# is not JSON is no app_bind_token); 4 token API requests (a create, two state reads, a multi).
metrics "$T/m1"
delta() { echo $(( $(mval "$T/m1" "$1") - $(mval "$T/m0" "$1") )); }
for want in ok:2 taken:1 unknown:1 malformed:2 expired:0 internal:0; do
    [ "$(delta "smartcfg_cloud_bind_requests_total{result=\"${want%:*}\"}")" = "${want#*:}" ] \
        || fail "bind_requests_total{result=${want%:*}} moved by $(delta "smartcfg_cloud_bind_requests_total{result=\"${want%:*}\"}"), not ${want#*:}"
done
[ "$(delta 'smartcfg_cloud_bind_duration_seconds_count')" = 6 ] || fail "bind latency count: $(delta smartcfg_cloud_bind_duration_seconds_count)"
[ "$(delta 'smartcfg_cloud_token_api_requests_total{action="AppCreateDeviceBindToken"}')" = 1 ] \
    && [ "$(delta 'smartcfg_cloud_token_api_requests_total{action="AppGetDeviceBindTokenState"}')" = 2 ] \
    && [ "$(delta 'smartcfg_cloud_token_api_requests_total{action="AppGetMultiDeviceBindTokenState"}')" = 1 ] \
    || fail "token API counters: $(grep -h token_api_requests_total "$T/m0" "$T/m1")"
[ "$(delta 'smartcfg_cloud_mqtt_logins_total{result="accepted"}')" -ge 7 ] || fail "MQTT logins: $(grep mqtt_logins "$T/m1")"
[ "$(mval "$T/m1" smartcfg_cloud_ready)" = 1 ] && [ "$(mval "$T/m1" smartcfg_cloud_mqtt_connections)" -ge 0 ] \
    || fail "ready / connections gauges"
for s in "$(cat "$ADMIN_KEY_FILE")" "$TOK" "$PSK1" "$PSK2" "$ACCESS" tester-password-1 "$P"; do
    grep -qF -- "$s" "$T/m1" && fail "/metrics shows a secret or a name"
done
ok "/metrics: bind counters moved by exactly the 6 binds made, latency count 6, token API by action; no secret"

stop_cloud
start_cloud --token-ttl 1 --token-gc 600   # expired tokens stay readable for the check
TOK2=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
for _ in $(seq 300); do   # until the cloud itself says the token expired (at most 30 s)
    E=$(tokenapi AppGetDeviceBindTokenState "{\"Token\":\"$TOK2\"}")
    [ "$(echo "$E" | jget code)" != 0 ] && break
    sleep 0.1
done
[ "$(echo "$E" | jget code)" != 0 ] && [ "$(echo "$E" | jget data.Error.Code)" = FailedOperation.TokenExpired ] || fail "expired via API: $E"
expect_code "$(device dev2 "$PSK2" "$(bind_msg dev2 "$TOK2")")" app_bind_token_reply 410
stop_cloud
start_cloud --token-ttl 600
E=$(tokenapi AppGetDeviceBindTokenState '{"Token":"0123456789abcdef0123456789abcdef"}')
[ "$(echo "$E" | jget data.Error.Code)" = ResourceNotFound.TokenNotExist ] || fail "unknown via API: $E"
ok "expired token -> 410 to the device, error via the API; unknown token error via the API"

expect_code "$(device dev1 "$PSK1" '{"method":"bind_device_query","clientToken":"dev1-9","timestamp":1}')" bind_device_query_reply 0
expect_code "$(device dev2 "$PSK2" '{"method":"bind_device_query","clientToken":"dev2-9","timestamp":1}')" bind_device_query_reply 404
ok "bind_device_query: bound 0, not bound 404"

F=$(tokenapi AppTokenBindDeviceFamily "{\"FamilyId\":\"$FAMILY\",\"ProductId\":\"$P\",\"DeviceName\":\"dev1\",\"Token\":\"$TOK\",\"RoomId\":\"0\"}")
[ "$(echo "$F" | jget code)" = 0 ] || fail "family bind: $F"
F=$(tokenapi AppTokenBindDeviceFamily "{\"FamilyId\":\"$FAMILY\",\"ProductId\":\"$P\",\"DeviceName\":\"dev2\",\"Token\":\"$TOK\",\"RoomId\":\"0\"}")
[ "$(echo "$F" | jget code)" != 0 ] || fail "family bind of the wrong device accepted"
B=$(get /v1/bindings)
[ "$(echo "$B" | jget bindings.0.family_id)" = "$FAMILY" ] || fail "bindings: $B"
ok "AppTokenBindDeviceFamily recorded (and refused for a device that did not bind)"

# Token API and HTTP robustness.
[ "$(post '/tokenapi?cmd=AppCreateDeviceBindToken' 'not json' | jget code)" != 0 ] || fail "bad JSON accepted"
[ "$(post '/tokenapi?cmd=NoSuchAction' '{}' | jget data.Error.Code)" = InvalidAction ] || fail "unknown action"
code=$(head -c 40000 /dev/zero | tr '\0' a | curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @- "$BASE/tokenapi?cmd=x")
[ "$code" = 413 ] || fail "oversized body: HTTP $code"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/nope")" = 404 ] || fail "unknown path"
ok "bad JSON, unknown action, 40 KB body (413), unknown path -> clear errors"

# Hostile inputs: wrong types, deep nesting, huge payloads. Nothing crashes or hangs.
for body in '[]' 'null' '{"Token":12}' '{"Token":null}' '{"Action":{"a":1}}' '{"Token":"'"$(head -c 3000 /dev/zero | tr '\0' a)"'"}' \
            "$(printf '%.0s[' $(seq 5000))" '{"Token":"\u0000abc"}' '"just a string"'; do
    for a in AppGetDeviceBindTokenState AppTokenBindDeviceFamily AppCreateDeviceBindToken; do
        r=$(post "/tokenapi?cmd=$a" "$body") || fail "HTTP failed on hostile body"
        echo "$r" | jget code >/dev/null || fail "no envelope for hostile body: $r"
    done
    post /register/dev "$body" | jget code >/dev/null || fail "register/dev on hostile body"
    post /v1/products "$body" >/dev/null || fail "admin on hostile body"
done
for msg in '' '{}' '{"method":7}' '{"method":"app_bind_token","clientToken":5,"params":{"token":"'"$TOK"'"}}' \
           '{"method":"app_bind_token","clientToken":"c","params":"x"}' '{"method":"app_bind_token","clientToken":"c","params":{"token":7}}' \
           "$(printf '%.0s{"a":' $(seq 3000))" "$(head -c 100000 /dev/zero | tr '\0' x)"; do
    creds $P dev2 "$PSK2" sha256
    mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -t "\$thing/up/service/$P/dev2" -m "$msg" \
        || fail "publish of a hostile message failed"
done
kill -0 "$CLOUD_PID" || fail "smartcfg cloud died on hostile input"
expect_code "$(device dev1 "$PSK1" "$(bind_msg dev1 "$TOK")")" app_bind_token_reply 0
ok "hostile HTTP bodies and MQTT payloads: clear errors, still serving"

# The per-device limit of the data template topics (--thing-rate, default 30 a second, bursts
# of 60): dev1 sends 400 valid reports at once on one connection; the first ones are stored and
# answered 0, the rest answered 429 without a database write; dev2's report, sent right after
# the flood, is still answered 0 (and promptly: it waits behind cheap refusals, not 400 writes).
creds $P dev1 "$PSK1" sha256; D1=("$MQ_ID" "$MQ_USER" "$MQ_PASS")
creds $P dev2 "$PSK2" sha256; D2=("$MQ_ID" "$MQ_USER" "$MQ_PASS")
R=$(PYTHONPATH="$(dirname "$0")/lib" timeout 60 python3 - "$MQTT_PORT" "$P" "${D1[@]}" "${D2[@]}" <<'PY'
import json, socket, struct, sys, time
import mqtt_wire
from mqtt_wire import connect, packet, read_packet, s16
port, P = int(sys.argv[1]), sys.argv[2]
def session(cid, user, pw, dn):
    return mqtt_wire.session("127.0.0.1", port, cid, user, pw, "$thing/down/property/%s/%s" % (P, dn))
def reply(s, until):
    while time.time() < until:
        s.settimeout(max(0.05, until - time.time()))
        try:
            k, b = read_packet(s)
        except socket.timeout:
            return None
        if k >> 4 == 3:
            return json.loads(b[2 + struct.unpack("!H", b[:2])[0]:])
    return None
d1 = session(sys.argv[3], sys.argv[4], sys.argv[5], "dev1")
d2 = session(sys.argv[6], sys.argv[7], sys.argv[8], "dev2")
up = lambda dn, tok: packet(0x30, s16("$thing/up/property/%s/%s" % (P, dn)) +
                            json.dumps({"method": "report", "clientToken": tok, "params": {"n": 1}}).encode())
d1.sendall(b"".join(up("dev1", "f%d" % i) for i in range(400)))
t0 = time.time()
d2.sendall(up("dev2", "quiet"))
r2 = reply(d2, t0 + 20)
took = time.time() - t0
codes = {}
while sum(codes.values()) < 400:
    r = reply(d1, time.time() + 5)
    if r is None:
        break
    codes[r["code"]] = codes.get(r["code"], 0) + 1
print(json.dumps({"dev2": r2 and r2["code"], "dev2_s": round(took, 3), "ok": codes.get(0, 0), "limited": codes.get(429, 0)}))
PY
) || fail "the flood session failed: $R"
[ "$(echo "$R" | jget dev2)" = 0 ] || fail "per-device limit: dev2's report not answered 0 during dev1's flood: $R"
[ "$(echo "$R" | jget limited)" -ge 100 ] && [ "$(echo "$R" | jget ok)" -ge 60 ] \
    || fail "per-device limit: 400 reports at once should be 60+ answered 0 and the rest 429: $R"
grep -q '"event":"thing_rate_limited".*"device_name":"dev1"' "$T/cloud.events" || fail "no thing_rate_limited event"
! grep -q '"event":"thing_rate_limited".*"device_name":"dev2"' "$T/cloud.events" || fail "dev2 was limited"
ok "per-device limit: a flood of 400 reports is answered 429 past the burst, no write; the other device is answered 0 ($R)"

# One gateway message listing 300 sub-devices (offline: a database write or lookup and an event
# each): each sub-device past the first costs one message of the limit, so past dev2's burst
# (60) they are 429, not 300 lookups and 300 gateway_operation events from one message.
SUBS=$(python3 -c 'import json; print(json.dumps({"type": "offline", "payload": {"devices": [{"product_id": "SUBP%03d" % i, "device_name": "s%d" % i} for i in range(300)]}}))')
R=$(PYTHONPATH="$(dirname "$0")/lib" timeout 30 python3 - "$MQTT_PORT" "$P" "${D2[@]}" "$SUBS" <<'PY'
import json, socket, struct, sys, time
from mqtt_wire import connect, packet, read_packet, s16
port, P = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(connect(sys.argv[3], sys.argv[4], sys.argv[5], keepalive=60))
k, b = read_packet(s)
assert k >> 4 == 2 and b[1] == 0, "CONNACK %r" % b
s.sendall(packet(0x82, struct.pack("!H", 1) + s16("$gateway/operation/result/%s/dev2" % P) + b"\x00"))
k, b = read_packet(s)
assert k >> 4 == 9 and b[2] != 0x80, "SUBACK %r" % b
s.sendall(packet(0x30, s16("$gateway/operation/%s/dev2" % P) + sys.argv[6].encode()))
while True:
    k, b = read_packet(s)
    if k >> 4 == 3:
        r = json.loads(b[2 + struct.unpack("!H", b[:2])[0]:])
        break
codes = {}
for d in r["payload"]["devices"]:
    codes[d["result"]] = codes.get(d["result"], 0) + 1
print(json.dumps({"n": len(r["payload"]["devices"]), "limited": codes.get(429, 0)}))
PY
) || fail "the gateway session failed: $R"
[ "$(echo "$R" | jget n)" = 300 ] && [ "$(echo "$R" | jget limited)" -ge 200 ] \
    || fail "per-device limit: 300 sub-devices in one gateway message should be mostly 429: $R"
ok "per-device limit: sub-devices of one gateway message count against it ($R)"

# Restart between token creation and binding: nothing is lost.
TOK3=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
stop_cloud
start_cloud --token-ttl 600
expect_code "$(device dev2 "$PSK2" "$(bind_msg dev2 "$TOK3")")" app_bind_token_reply 0
[ "$(tokenapi AppGetDeviceBindTokenState "{\"Token\":\"$TOK3\"}" | jget data.State)" = 2 ] || fail "state after restart"
ok "token created before a restart binds after it"

grep -q '"event":"bind_result"' "$T/cloud.events" || fail "no bind_result event"
for s in "$TOK" "$TOK3" "$PSK1" "$PSK2"; do
    grep -qF -- "$s" "$T/cloud.err" "$T/cloud.events" && fail "a secret leaked into the logs"
done
ok "events present, no full token or secret in the logs"

# F82: a wrong admin key spends the per-address budget, and a spent budget is a 429 before the
# key is compared: comparing past it let the right key through at any rate (a 200 among the
# 429s), so the budget never slowed a guesser. One curl, one connection, wrong and right keys
# interleaved: once the budget is spent, the right key is refused too (it was 200 every time).
# The console's POST /v1/console/login checks the same key: it had no budget at all. An address
# with its budget spent leaves the others alone.
burst() {   # burst URL [curl args...] -> one status per line, wrong and right key alternating
    local u=$1; shift
    local a=() i
    for i in $(seq 60); do
        a+=(--next -s -o /dev/null -w '%{http_code}\n' "$@" -H "Authorization: Bearer wrong-$i" "$u"
            --next -s -o /dev/null -w 'R%{http_code}\n' "$@" -H "$(admin_auth)" "$u")
    done
    curl --max-time 30 "${a[@]:1}"
}
n=2   # each check from an address of its own (127.0.0.N): its budget, not the one the rest uses
for ep in /metrics /v1/bindings; do
    out=$(burst "$BASE$ep" --interface 127.0.0.$n); n=$((n + 1))
    # after the first 429, the right key's answers: 200 was every one of them on the old code
    after=$(awk '/^429$/ { s = 1 } s && /^R/' <<<"$out")
    [ -n "$after" ] || fail "$ep: 60 wrong keys never got 429: $(sort <<<"$out" | uniq -c | tr '\n' ' ')"
    good=$(grep -c '^R200$' <<<"$after" || true); all=$(wc -l <<<"$after")
    [ $((good * 2)) -lt "$all" ] || fail "$ep: the right key got 200 in $good of $all tries past the spent budget"
done
a=()
for i in $(seq 40); do a+=(--next -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.$n -X POST -H "Authorization: Bearer wrong-$i" "$BASE/v1/console/login"); done
codes=$(curl --max-time 30 "${a[@]:1}")
grep -qx 429 <<<"$codes" || fail "POST /v1/console/login: 40 wrong keys never got 429: $(sort <<<"$codes" | uniq -c | tr '\n' ' ')"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$(admin_auth)" "$BASE/metrics")" = 200 ] || fail "/metrics from another address"
# app logins spend their own budget, not the admin key's: 40 of them do not lock the admin out
n=$((n + 1)); a=()
for i in $(seq 40); do a+=(--next -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.$n -X POST -d '{"Action":"AppGetToken","UserName":"nobody","Password":"x"}' "$BASE/tokenapi?cmd=AppGetToken"); done
curl --max-time 30 "${a[@]:1}" >/dev/null
[ "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.$n -H "$(admin_auth)" "$BASE/v1/bindings")" = 200 ] \
    || fail "the admin API refused after 40 app logins from the address"
ok "F82: a spent per-address budget refuses even the right admin key (/metrics, admin API), only at that address; the console login has that budget too"
stop_cloud
