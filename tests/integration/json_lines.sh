#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 30
# One JSON convention (docs/json.md, issue 15 item 8): a real provisioning on the virtual radio
# (two devices, one phone with a token, in a namespace of the test's own), a wrong-password
# device, a timed-out send and usage errors, air's and decode's lines, a short life of the cloud -
# and EVERY line the tools print with --json is checked against the event table of docs/json.md
# by scripts/json_check.py (v, event, t_ms/ts, the listed fields, snake_case names).
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
SC=${SC_BUILD:?}/smartcfg
SRC=${SC_SRC:?}
NS=sc_json_$$
TMP=$(mktemp -d /tmp/sc_json.XXXXXX)
cleanup() {
    netns_gone "$NS"
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.jsonl "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done; exit 1; }
in_ns() { ip netns exec "$NS" "$@"; }
check() { python3 "$SRC/scripts/json_check.py" "$SRC/docs/json.md" "$@" || fail "lines of $1 break docs/json.md"; }

ip netns add "$NS" || fail "cannot create namespace"
in_ns ip link set lo up
PASSWORD='js0n-pass'
start_device() { # address, name, password
    in_ns "$SC" device --radio udp --join "sim:HomeNet:$3:$1" --product-id ABCDEFGHIJ --device-name "$2" \
        --no-cloud --token-linger 2 --json --timeout 90 --state-dir "$TMP/state-$2" >"$TMP/$2.jsonl" 2>"$TMP/$2.err" &
}
start_device 127.0.0.2 devA "$PASSWORD"; DA=$!
start_device 127.0.0.3 devB "$PASSWORD"; DB=$!
for _ in $(seq 600); do grep -q '"state":"sniffing"' "$TMP/devA.jsonl" "$TMP/devB.jsonl" 2>/dev/null && \
    [ "$(grep -l '"state":"sniffing"' "$TMP/devA.jsonl" "$TMP/devB.jsonl" | wc -l)" = 2 ] && break; sleep 0.1; done
in_ns "$SC" send --ssid HomeNet --password-file <(echo "$PASSWORD") --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 \
    --dest 127.255.255.255 --token 00112233445566778899aabbccddeeff --count 2 --timeout 60 --json \
    >"$TMP/send.jsonl" 2>"$TMP/send.err"; RS=$?
wait "$DA"; RA=$?
wait "$DB"; RB=$?
[ "$RS" = 0 ] && [ "$RA" = 0 ] && [ "$RB" = 0 ] || fail "provisioning: send $RS, devices $RA $RB"
grep -q '"event":"identity".*"product_id":"ABCDEFGHIJ","device_name":"dev[AB]"' "$TMP/send.jsonl" || fail "identity names"
grep -q '"event":"progress"' "$TMP/send.jsonl" || fail "no progress event from send"

# a device with the wrong password: error events with err_id/sub_id/reason
start_device 127.0.0.4 devC wrong-password; DC=$!
for _ in $(seq 600); do grep -q '"state":"sniffing"' "$TMP/devC.jsonl" 2>/dev/null && break; sleep 0.1; done
in_ns "$SC" send --ssid HomeNet --password-file <(echo "$PASSWORD") --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 \
    --dest 127.255.255.255 --token 00112233445566778899aabbccddeeff --timeout 8 --json >"$TMP/send-bad.jsonl" 2>"$TMP/send-bad.err"
wait "$DC"
grep -q '"event":"error".*"reason":"wrong Wi-Fi password' "$TMP/devC.jsonl" || fail "no wrong-password error event"

# nothing answers: progress every second, a timeout and the summary
in_ns "$SC" send --ssid HomeNet --password-file <(echo "$PASSWORD") --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 \
    --dest 127.0.0.1 --no-token --timeout 3 --json >"$TMP/send-none.jsonl" 2>"$TMP/send-none.err"
[ "$(grep -c '"event":"progress"' "$TMP/send-none.jsonl")" -ge 2 ] || fail "fewer than 2 progress events in 3 s"
# piped without --json: a plain progress line every 5 s (one in a 6 s run)
in_ns "$SC" send --ssid HomeNet --password-file <(echo "$PASSWORD") --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 \
    --dest 127.0.0.1 --no-token --timeout 6 >"$TMP/plain.out" 2>"$TMP/plain.err"
grep -qE '^\[ *5\.[0-9]+s\] progress: .* [0-9]+/6s  datagrams [0-9]+  devices: found 0, token acked 0, bound 0' "$TMP/plain.out" \
    || { cat "$TMP/plain.out"; fail "no plain progress line at 5 s when piped"; }
# usage errors
"$SC" send --json --bogus >"$TMP/send-usage.jsonl" 2>/dev/null
"$SC" device --json --radio >"$TMP/device-usage.jsonl" 2>/dev/null
[ -s "$TMP/send-usage.jsonl" ] && [ -s "$TMP/device-usage.jsonl" ] || fail "no JSON usage errors"

# air and decode: a synthesised capture's summary, its decoded result, a capture with nothing in it
"$SC" air --json "$TMP/cap.pcap" >"$TMP/air.jsonl" 2>"$TMP/air.err" || fail "air"
"$SC" air --json --protocol v2 --second-ssid Other "$TMP/cap2.pcap" >>"$TMP/air.jsonl" 2>>"$TMP/air.err" || fail "air v2"
"$SC" air --json --bogus >>"$TMP/air.jsonl" 2>/dev/null
grep -q '"event":"capture".*"frames":[1-9]' "$TMP/air.jsonl" || fail "no capture summary from air"
"$SC" decode --json "$TMP/cap.pcap" >"$TMP/decode.jsonl" 2>"$TMP/decode.err" || fail "decode"
"$SC" air --json --duration 50 "$TMP/short.pcap" >/dev/null 2>&1 || fail "air short"
"$SC" decode --json "$TMP/short.pcap" >>"$TMP/decode.jsonl" 2>>"$TMP/decode.err"
# a file decode cannot read is a line too (read_error), not only a message on stderr
"$SC" decode --json "$TMP/missing.pcap" >>"$TMP/decode.jsonl" 2>>"$TMP/decode.err"
grep -q '"event":"read_error"' "$TMP/decode.jsonl" || fail "no read_error line from decode"
grep -q '"event":"result"' "$TMP/decode.jsonl" && grep -q '"event":"no_result"' "$TMP/decode.jsonl" || fail "decode lines"

# the cloud (on loopback, free ports): start, a product, a device, a user who logs in and makes a token, SIGTERM
port() { python3 "$(dirname "$0")/lib/free_port.py" $$; }   # leased, outside the ephemeral range
HP=$(port); MP=$(port)
"$SC" cloud --http 127.0.0.1:$HP --mqtt 127.0.0.1:$MP --db "$TMP/cloud.db" --json >"$TMP/cloud.jsonl" 2>"$TMP/cloud.err" &
CP=$!
for _ in $(seq 600); do grep -q '"event":"service_connected"' "$TMP/cloud.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"event":"service_connected"' "$TMP/cloud.jsonl" || fail "cloud not up"
api() { curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $(cat "$TMP/admin.key")" "http://127.0.0.1:$HP$1" -d "$2"; }
api /v1/products '{"product_id":"JSONPROD01"}' >/dev/null
api /v1/products/JSONPROD01/devices '{"device_name":"json_dev"}' >/dev/null
api /v1/users '{"user_name":"jsonuser","password":"json-password-1"}' >/dev/null
ACC=$(api "/tokenapi?cmd=AppGetToken" '{"Action":"AppGetToken","UserName":"jsonuser","Password":"json-password-1"}' | jq -r .data.Token)
api "/tokenapi?cmd=AppCreateDeviceBindToken" "{\"Action\":\"AppCreateDeviceBindToken\",\"AccessToken\":\"$ACC\"}" >/dev/null
kill -TERM $CP; wait $CP; RC=$?; [ $RC = 0 ] || fail "cloud exit $RC on SIGTERM"
for e in ready product_created device_created user_created user_login token_created stopped; do
    grep -q "\"event\":\"$e\"" "$TMP/cloud.jsonl" || fail "cloud: no $e event"
done

check send "$TMP"/send*.jsonl
check device "$TMP"/dev*.jsonl
check air "$TMP/air.jsonl"
check decode "$TMP/decode.jsonl"
check cloud "$TMP/cloud.jsonl"
# one token prefix everywhere: the send's and the cloud's abbreviations look alike
grep -ho '"token":"[^"]*"' "$TMP"/send.jsonl "$TMP/cloud.jsonl" | sort -u | grep -qv '"token":"[0-9A-Za-z]\{1,4\}…"' \
    && fail "a token not abbreviated as xxxx…: $(grep -ho '"token":"[^"]*"' "$TMP"/send.jsonl "$TMP/cloud.jsonl" | sort -u | tr '\n' ' ')"
# the checker itself fails on a line that breaks the table
echo '{"v":1,"event":"identity","t_ms":1,"device":0,"mac":"x","productId":"A","deviceName":"d","ts":1}' >"$TMP/broken.jsonl"
python3 "$SRC/scripts/json_check.py" "$SRC/docs/json.md" send "$TMP/broken.jsonl" >/dev/null && fail "checker accepted a broken line"
echo "json_lines: ok"
