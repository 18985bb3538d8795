#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `smartcfg decode -i IFACE [FILTER]`, tcpdump's habit: `smartcfg send` in one namespace
# broadcasts ESP-TOUCH over a veth pair; decode listens live on the other end with a BPF filter
# and stops at the first result (exit 0). Then: a filter that lets nothing through ends at
# --timeout with exit 3 and the reason; a bad filter is a usage error; Ctrl-C (SIGINT) exits 130
# and says it was stopped by the user; --plot writes the picture of a live run.
set -u
SC=${SC_BUILD:?}/smartcfg
ID=$$
NSA=scdl_a_$ID
NSD=scdl_d_$ID
VA=scdlqa$ID
VD=scdlqd$ID
NET=10.191.$((ID % 200 + 20))
TMP=$(mktemp -d /tmp/sc_decode_live.XXXXXX)
. "$(dirname "$0")/lib/veth_pair.bash"
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done; exit 1; }

veth_pair_up

PASSWORD='live-decode-pw1'
# 1. live decode with a filter; the sender keeps going until decode has its result
ip netns exec "$NSD" "$SC" decode --json --timeout 60 --plot "$TMP/live.svg" -i "$VD" udp and dst host "$NET.255" \
    >"$TMP/dec.out" 2>"$TMP/dec.err" &
DEC=$!
# decode says it listens once the capture is open: only then start the sender
for _ in $(seq 600); do grep -q listening "$TMP/dec.err" && break; sleep 0.1; done
grep -q "listening on $VD (ethernet), filter \"udp and dst host $NET.255\"" "$TMP/dec.err" || fail "decode did not start listening"
ip netns exec "$NSA" "$SC" send --ssid LiveAP --password "$PASSWORD" --ip "$NET.1" --iface "$VA" \
    --bssid 02:5c:00:00:00:01 --dest "$NET.255" --token 00112233445566778899aabbccddeeff --timeout 60 \
    >"$TMP/send.out" 2>"$TMP/send.err" &
SEND=$!
wait "$DEC"; RC=$?
kill "$SEND" 2>/dev/null; wait "$SEND" 2>/dev/null
[ "$RC" = 0 ] || fail "live decode exit $RC, expected 0"
grep -q "\"protocol\":\"esptouch-v1\",\"ssid\":\"LiveAP\".*\"password\":\"$PASSWORD\".*\"phone_ip\":\"$NET.1\"" "$TMP/dec.out" \
    || fail "live decode did not print the session"
python3 - "$TMP/live.svg" <<'PY' || fail "live plot"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = '{http://www.w3.org/2000/svg}'
cls = [e.get('class', '') for e in root.iter()]
assert root.tag == ns + 'svg', root.tag
assert any(c == 'lock' for c in cls), 'no lock line'
assert any(c == 'done-mark' for c in cls), 'no completing frame'
PY

# 2. a filter nothing passes: ends at --timeout (exit 3) and says why
ip netns exec "$NSA" "$SC" send --ssid LiveAP --password "$PASSWORD" --ip "$NET.1" --iface "$VA" \
    --bssid 02:5c:00:00:00:01 --dest "$NET.255" --token 00112233445566778899aabbccddeeff --timeout 60 \
    >"$TMP/send2.out" 2>"$TMP/send2.err" &
SEND=$!
ip netns exec "$NSD" "$SC" decode --timeout 2 -i "$VD" tcp port 9 >"$TMP/to.out" 2>"$TMP/to.err"; RC=$?
[ "$RC" = 3 ] || fail "timeout: exit $RC, expected 3"
grep -q "timed out after 2 s" "$TMP/to.err" || fail "timeout not said"
grep -q "nothing decoded: no frames captured (check the interface and the filter)" "$TMP/to.err" || fail "timeout reason"

# 3. the loopback interface (destination MAC 00:00:00:00:00:00, never a group address): a
#    `smartcfg send` to 127.0.0.1 is seen but cannot decode, and the reason says why
ip netns exec "$NSD" "$SC" decode --json --timeout 3 -i lo udp port 7001 >"$TMP/uni.out" 2>"$TMP/uni.err" &
UNI=$!
for _ in $(seq 600); do grep -q listening "$TMP/uni.err" && break; sleep 0.1; done
ip netns exec "$NSD" "$SC" send --ssid LiveAP --password "$PASSWORD" --ip 127.0.0.1 \
    --bssid 02:5c:00:00:00:01 --dest 127.0.0.1 --token 00112233445566778899aabbccddeeff --timeout 5 \
    >"$TMP/send3.out" 2>"$TMP/send3.err" &
SEND3=$!
wait "$UNI"; RC=$?
kill "$SEND" "$SEND3" 2>/dev/null; wait "$SEND" "$SEND3" 2>/dev/null
[ "$RC" = 3 ] || fail "unicast: exit $RC, expected 3"
python3 -c '
import json,sys
o=json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert o["event"]=="no_result", o
assert o["reason"].startswith("no group-addressed frames"), o
assert o["frames"]>=20 and o["group_frames"]==0, o
assert "00:00:00:00:00:00" in o["reason"], o
' "$TMP/uni.out" || fail "unicast reason"

# 4. a bad filter is a usage error
ip netns exec "$NSD" "$SC" decode -i "$VD" 'udp and and' >/dev/null 2>"$TMP/bad.err"; RC=$?
[ "$RC" = 2 ] || fail "bad filter: exit $RC, expected 2"
grep -q "bad filter 'udp and and'" "$TMP/bad.err" || fail "bad filter message"

# 5. Ctrl-C: exit 130, the reason says the user stopped it
ip netns exec "$NSD" "$SC" decode -i "$VD" >"$TMP/int.out" 2>"$TMP/int.err" &
INT=$!
for _ in $(seq 600); do grep -q listening "$TMP/int.err" && break; sleep 0.1; done
kill -INT "$INT"
wait "$INT"; RC=$?
[ "$RC" = 130 ] || fail "SIGINT: exit $RC, expected 130"
grep -q "nothing decoded: stopped by the user" "$TMP/int.err" || fail "SIGINT reason"
echo "PASS"
