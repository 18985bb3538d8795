#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The virtual radio in the sender's multicast mode: `smartcfg send --multicast` over a veth pair
# sends to the rotating 234.n.n.n groups; the device's udp: radio joins all 100 on --iface and
# maps each destination to its 01:00:5e:… MAC; decode, join (sim), ack, token.
set -u
SC=${SC_BUILD:?}/smartcfg
ID=$$
NSA=scdp_ma_$ID
NSD=scdp_md_$ID
VA=scdpma$ID
VD=scdpmd$ID
NET=10.190.$((ID % 200 + 20))
TMP=$(mktemp -d /tmp/scdp_mcast.XXXXXX)
. "$(dirname "$0")/lib/veth_pair.bash"
. "$(dirname "$0")/lib/wait.bash"
fail() { echo "FAIL: $*"; for f in "$TMP"/*.jsonl "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 25; }; done; exit 1; }

veth_pair_up

ip netns exec "$NSD" "$SC" device --radio udp --join sim:McastAP:pw12345678 --iface "$VD" --sim-delay 200 \
    --product-id ABCDEFGHIJ --device-name devmc --no-cloud --token-linger 2 --json --timeout 60 --state-dir "$TMP/state" \
    --log-level debug >"$TMP/dev.jsonl" 2>"$TMP/dev.err" &
DEV=$!
wait_line "$DEV" "$TMP/dev.err" "multicast groups joined" 30   # until the radio is up (or the device gave up), at most 30 s
if grep -q "cannot initialise the device: not supported" "$TMP/dev.err"; then
    echo "FAIL: the device state machine is not in this build" >&2; exit 1
fi
grep -q "100 multicast groups joined" "$TMP/dev.err" || fail "the virtual radio did not join the 234.n.n.n groups"
ip netns exec "$NSA" "$SC" send --ssid McastAP --password pw12345678 --ip "$NET.1" --iface "$VA" \
    --bssid 02:5c:00:00:00:01 --multicast --token tok0123456789 --timeout 40 --json >"$TMP/send.jsonl" 2>"$TMP/send.err"
SRC=$?
wait "$DEV"; RC=$?
[ "$SRC" = 0 ] || fail "smartcfg send exit $SRC"
[ "$RC" = 0 ] || fail "device exit $RC"
grep -q '"event":"credentials","t_ms":[0-9]*,"ssid":"McastAP"' "$TMP/dev.jsonl" || fail "no credentials"
echo "multicast: $(grep -o '"event":"credentials","t_ms":[0-9]*' "$TMP/dev.jsonl")"
echo "PASS"
