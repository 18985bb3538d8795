#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue 13, F3 and F4 on real sockets (docs/security.md#device): the device's UDP 8266
# service between two namespaces the test makes (veth pair), the attacker in the app's.
#  - tokens the cloud would never issue ("中中中中中", "a\u0000b", control, space, 33 chars) are
#    answered as bad input (err 2) and never become a token event;
#  - 1-byte junk from 16 rotating source ports gets fewer bytes back than it sent (it got ~49x);
#  - {"cmdType":3} from 16 rotating ports while the log soft-AP is down gets nothing;
#  - the app's real request (resent as the app does) is still answered afterwards.
set -u
SC=${SC_BUILD:?}/smartcfg
DIR=${SC_SRC:?}/tests/integration
ID=$$
NSA=scsu_app_$ID
NSD=scsu_dev_$ID
VA=scsua$ID
VD=scsud$ID
NET=10.189.$((ID % 200 + 20))
TMP=$(mktemp -d /tmp/scsu.XXXXXX)
. "$DIR/lib/veth_pair.bash"
. "$DIR/lib/wait.bash"
fail() { echo "FAIL: $*"; for f in "$TMP"/*.log "$TMP"/*.err "$TMP"/*.jsonl; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 30; }; done; exit 1; }

veth_pair_up
TOKEN='fedcba9876543210fedcba9876543210'
"$SC" air --ssid MyAP --password 'pa55word' --ip "$NET.1" "$TMP/cap.pcap" >"$TMP/air.log" 2>&1 || fail "smartcfg air"
ip netns exec "$NSD" "$SC" device --radio "file:$TMP/cap.pcap" --join "sim:MyAP:pa55word" --iface "$VD" \
    --product-id ABCDEFGHIJ --device-name devsec --no-cloud --json --timeout 120 --sim-delay 300 \
    --state-dir "$TMP/state" --log-level debug >"$TMP/dev.jsonl" 2>"$TMP/dev.err" &
DEV=$!
wait_line "$DEV" "$TMP/dev.jsonl" '"state":"wait_token"' 30
grep -q '"state":"wait_token"' "$TMP/dev.jsonl" || fail "device not waiting for the token"

# The app's token first, then an app that keeps resending it (as the real one does every 2 s):
# with a token the device waits for the probes below without a 20 s token deadline, and each
# resend after the floods shows the app is still served.
ip netns exec "$NSA" python3 "$DIR/udp_peer.py" token "$NET.1" "$NET.2" "$TOKEN" "$TMP/token.log" >"$TMP/app.log" 2>&1 \
    || fail "the app got no identity"
( for i in $(seq 1 60); do
    ip netns exec "$NSA" python3 "$DIR/udp_peer.py" token "$NET.1" "$NET.2" "$TOKEN" "$TMP/keep.log" >/dev/null 2>&1 \
        && echo "ok $i" >>"$TMP/keeper.log"
    [ -f "$TMP/stop" ] && break
    sleep 1
  done ) &
KEEP=$!

# F3: bad tokens
ip netns exec "$NSA" python3 "$DIR/sec_udp.py" badtok "$NET.2" "$NET.1" >"$TMP/badtok.log" 2>&1
BRC=$?
cat "$TMP/badtok.log"
[ "$BRC" = 0 ] || fail "a token the cloud never issues was not answered as bad input"
[ "$(grep -c '"event":"token"' "$TMP/dev.jsonl")" = 1 ] || fail "a bad token was accepted"

# F4: junk from 16 rotating ports, then log queries while the log soft-AP is down
ip netns exec "$NSA" python3 "$DIR/sec_udp.py" amp "$NET.2" 8266 "$NET.1" 20000 x >"$TMP/amp.log" 2>&1
ARC=$?
cat "$TMP/amp.log"
[ "$ARC" = 0 ] || fail "amplification: more bytes out than in"
ip netns exec "$NSA" python3 "$DIR/sec_udp.py" amp "$NET.2" 8266 "$NET.1" 2000 '{"cmdType":3}' udp >"$TMP/log.log" 2>&1
cat "$TMP/log.log"
grep -q ' out=0$' "$TMP/log.log" || fail "the log was handed out while the log soft-AP is down"

# the app is still served after the floods: one more answered resend
N=$(grep -c ok "$TMP/keeper.log" 2>/dev/null || echo 0)
for _ in $(seq 1 300); do
    [ "$(grep -c ok "$TMP/keeper.log" 2>/dev/null || echo 0)" -gt "$N" ] && break
    kill -0 "$KEEP" 2>/dev/null || break
    sleep 0.1
done
touch "$TMP/stop"
[ "$(grep -c ok "$TMP/keeper.log" 2>/dev/null || echo 0)" -gt "$N" ] || fail "the app got no identity after the floods"
wait "$KEEP"
kill -0 "$DEV" 2>/dev/null && kill -TERM "$DEV"
wait "$DEV"
grep -qF "pa55word" "$TMP/dev.jsonl" "$TMP/dev.err" && fail "the password leaked"
echo "PASS"
