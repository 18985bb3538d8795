#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The device's UDP 8266 token service over real sockets between two network namespaces (app
# and device joined by a veth pair). The app side binds port 8266 like the real app. Checks:
# the bad-input matrix is answered with errors and does not stop the service; a real request
# hidden among 10 000 junk datagrams is still answered; retries are answered again; replies go
# to the request's source address although the ESP-TOUCH data carried another phone IP.
set -u
SC=${SC_BUILD:?}/smartcfg
PEER=${SC_SRC:?}/tests/integration/udp_peer.py
ID=$$
NSA=scdp_app_$ID
NSD=scdp_dev_$ID
VA=scdpa$ID
VD=scdpd$ID
NET=10.188.$((ID % 200 + 20))
TMP=$(mktemp -d /tmp/scdp_8266.XXXXXX)
. "$(dirname "$0")/lib/veth_pair.bash"
. "$(dirname "$0")/lib/wait.bash"
fail() { echo "FAIL: $*"; for f in "$TMP"/*.log "$TMP"/*.err "$TMP"/*.jsonl; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; exit 1; }

veth_pair_up

TOKEN='fedcba9876543210fedcba9876543210'
# The ESP-TOUCH data names a phone at .77; the app really sits at .1.
"$SC" air --ssid MyAP --password 'pa55word' --ip "$NET.77" "$TMP/cap.pcap" >"$TMP/air.log" 2>&1 \
    || { grep -q "not implemented" "$TMP/air.log" && { echo "FAIL: smartcfg air not in this build" >&2; exit 1; }; fail "smartcfg air"; }

ip netns exec "$NSD" "$SC" device --radio "file:$TMP/cap.pcap" --join "sim:MyAP:pa55word" --iface "$VD" \
    --product-id ABCDEFGHIJ --device-name dev8266 --no-cloud --json --timeout 120 --sim-delay 300 \
    --state-dir "$TMP/state" --log-level debug >"$TMP/dev.jsonl" 2>"$TMP/dev.err" &
DEV=$!
wait_line "$DEV" "$TMP/dev.jsonl" '"state":"wait_token"' 20
if grep -q "cannot initialise the device: not supported" "$TMP/dev.err"; then
    echo "FAIL: the device state machine is not in this build" >&2; exit 1
fi
grep -q "\"ip\":\"$NET.2\"" "$TMP/dev.jsonl" || fail "device did not get $NET.2"
grep -q '"state":"wait_token"' "$TMP/dev.jsonl" || fail "device not waiting for the token"

ip netns exec "$NSA" python3 "$PEER" matrix "$NET.1" "$NET.2" "$TOKEN" "$TMP/replies.log" >"$TMP/matrix.log" 2>&1
MRC=$?
cat "$TMP/matrix.log"
[ "$MRC" = 0 ] || fail "8266 matrix"
# every reply came from the device's service address, none went to the IP in the ESP-TOUCH data
grep -q "\"src\": \"$NET.2:8266\"" "$TMP/replies.log" || fail "no reply from $NET.2:8266"
if grep -v "\"src\": \"$NET.2:8266\"" "$TMP/replies.log" | grep -q src; then fail "reply from another source"; fi
kill -0 "$DEV" 2>/dev/null && { kill -TERM "$DEV"; }
wait "$DEV"
grep -q '"event":"token"' "$TMP/dev.jsonl" || fail "no token event"
grep -qF "$TOKEN" "$TMP/dev.jsonl" "$TMP/dev.err" && fail "the token leaked"
grep -qF "pa55word" "$TMP/dev.jsonl" "$TMP/dev.err" && fail "the password leaked"
echo "PASS"
