#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue 13, F3 (docs/security.md#device): a LAN host sends {"cmdType":0,"token":"EVILTOKEN"}
# to UDP 8266 every 2 ms from before the app's first request; the app sends its real token
# with the reference schedule. The cloud (mosquitto + a responder that knows only the app's
# token, in a private namespace) refuses EVILTOKEN. The device must bind the app's token and
# exit 0 — it used to take the first token, and fail.
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
. "$(dirname "$0")/lib/wait.bash"
SC=${SC_BUILD:?}/smartcfg
DIR=${SC_SRC:?}/tests/integration
NS=scsp_$$
TMP=$(mktemp -d /tmp/scsp.XXXXXX)
cleanup() {
    netns_gone "$NS"
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.jsonl "$TMP"/*.err "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; grep -v "progress\|ack sent" "$f" | tail -n 25; }; done; exit 1; }
in_ns() { ip netns exec "$NS" "$@"; }
command -v mosquitto >/dev/null || fail "no mosquitto"

ip netns add "$NS" || fail "cannot create namespace"
in_ns ip link set lo up
PORT=18831
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" >"$TMP/mosq.conf"
in_ns mosquitto -c "$TMP/mosq.conf" >"$TMP/mosq.log" 2>&1 &
for _ in $(seq 1 100); do in_ns mosquitto_pub -h 127.0.0.1 -p "$PORT" -t probe -m x 2>/dev/null && break; sleep 0.1; done
SECRET='c2VjcmV0LWRldmljZS1zZWNyZXQ='
TOKEN='abcdefabcdefabcdefabcdefabcdef12'
"$SC" air --ssid CloudAP --password 'cl0ud-pass' --ip 127.0.0.1 "$TMP/cap.pcap" >"$TMP/air.log" 2>&1 || fail "air"

in_ns python3 "$DIR/bind_responder.py" "$PORT" ABCDEFGHIJ dev1 1001 "$TMP/up.log" "$TOKEN" &
for _ in $(seq 1 100); do [ -n "$(in_ns ss -Htn state established "( dport = :$PORT )" 2>/dev/null)" ] && break; sleep 0.1; done
SMARTCFG_DEVICE_SECRET=$SECRET in_ns "$SC" device --radio "file:$TMP/cap.pcap" --join "sim:CloudAP:cl0ud-pass:127.0.0.2" \
    --sim-delay 200 --product-id ABCDEFGHIJ --device-name dev1 --broker "127.0.0.1:$PORT" --json --timeout 90 \
    --state-dir "$TMP/state" --log-level debug >"$TMP/dev.jsonl" 2>"$TMP/dev.err" &
DEV=$!
wait_line "$DEV" "$TMP/dev.jsonl" '"state":"acking"' 30
grep -q '"state":"acking"' "$TMP/dev.jsonl" || fail "the 8266 service never opened"
in_ns python3 "$DIR/sec_udp.py" spray 127.0.0.2 127.0.0.3 EVILTOKEN "$TMP/sprayed" 40 &
SPRAY=$!
for _ in $(seq 1 100); do [ -f "$TMP/sprayed" ] && break; sleep 0.05; done
[ -f "$TMP/sprayed" ] || fail "the sprayer did not start"
in_ns python3 "$DIR/udp_peer.py" token 127.0.0.1 127.0.0.2 "$TOKEN" "$TMP/token.log" >"$TMP/app.log" 2>&1
ARC=$?
wait "$DEV"; RC=$?
kill "$SPRAY" 2>/dev/null
cat "$TMP/app.log"
[ "$ARC" = 0 ] || fail "the app got no identity"
grep -q 'Current_Error' "$TMP/token.log" && fail "the app was sent an error"
[ "$RC" = 0 ] || fail "device exit $RC (want 0: bound with the app's token)"
grep -q '"event":"bound"' "$TMP/dev.jsonl" || fail "no bound event"
grep -q "\"token\":\"$TOKEN\"" "$TMP/up.log" || fail "the app's token was never published"
echo "tokens the device tried, in order: $(grep -o '"token":"[A-Za-z0-9]*"' "$TMP/up.log" | tr '\n' ' ')"
grep -qF "$TOKEN" "$TMP/dev.jsonl" "$TMP/dev.err" && fail "the token leaked"
echo "PASS"
