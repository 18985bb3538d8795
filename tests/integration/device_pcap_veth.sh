#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The live capture radio on a non-Wi-Fi interface: `smartcfg send` in one namespace broadcasts
# ESP-TOUCH over a veth pair; `smartcfg device --radio pcap:VETH` in the other captures the
# Ethernet frames (hopping is a no-op there), decodes, joins a simulated AP that gives it the
# veth's address, acks over the wire and takes the token (--no-cloud).
set -u
SC=${SC_BUILD:?}/smartcfg
ID=$$
NSA=scdp_pa_$ID
NSD=scdp_pd_$ID
VA=scdpqa$ID
VD=scdpqd$ID
NET=10.189.$((ID % 200 + 20))
TMP=$(mktemp -d /tmp/scdp_pcap.XXXXXX)
. "$(dirname "$0")/lib/veth_pair.bash"
fail() { echo "FAIL: $*"; for f in "$TMP"/*.jsonl "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 25; }; done; exit 1; }

veth_pair_up

PASSWORD='w1red-but-sniffed'
TOKEN='0f1e2d3c4b5a69788796a5b4c3d2e1f0'
ip netns exec "$NSD" "$SC" device --radio "pcap:$VD" --join "sim:WiredAP:$PASSWORD" --iface "$VD" --sim-delay 300 \
    --product-id ABCDEFGHIJ --device-name devpcap --no-cloud --token-linger 2 --json --timeout 90 --state-dir "$TMP/state" \
    >"$TMP/dev.jsonl" 2>"$TMP/dev.err" &
DEV=$!
sleep 0.5
if grep -q "cannot initialise the device: not supported" "$TMP/dev.err"; then
    echo "FAIL: the device state machine is not in this build" >&2; exit 1
fi
kill -0 "$DEV" 2>/dev/null || fail "device did not start"
ip netns exec "$NSA" "$SC" send --ssid WiredAP --password "$PASSWORD" --ip "$NET.1" --iface "$VA" \
    --bssid 02:5c:00:00:00:01 --dest "$NET.255" --token "$TOKEN" --timeout 60 --json >"$TMP/send.jsonl" 2>"$TMP/send.err"
SRC=$?
wait "$DEV"; RC=$?
[ "$SRC" = 0 ] || fail "smartcfg send exit $SRC"
[ "$RC" = 0 ] || fail "device exit $RC"
grep -q '"event":"credentials","t_ms":[0-9]*,"ssid":"WiredAP"' "$TMP/dev.jsonl" || fail "no credentials"
grep -q "\"event\":\"ip\",\"t_ms\":[0-9]*,\"ip\":\"$NET.2\"" "$TMP/dev.jsonl" || fail "no ip"
grep -q "\"event\":\"ack\".*\"ip\":\"$NET.2\"" "$TMP/send.jsonl" || fail "the phone saw no ack from $NET.2"
grep -qF -- "$PASSWORD" "$TMP/dev.jsonl" "$TMP/dev.err" && fail "password leaked"
grep -qF -- "$TOKEN" "$TMP/dev.jsonl" "$TMP/dev.err" && fail "token leaked"
echo "pcap on veth: $(grep -o '"event":"lock","t_ms":[0-9]*,"channel":[0-9]*,"offset":[0-9]*' "$TMP/dev.jsonl" | head -1); $(grep -o '"event":"credentials","t_ms":[0-9]*' "$TMP/dev.jsonl"); $(grep -o '"event":"token","t_ms":[0-9]*' "$TMP/dev.jsonl")"
echo "PASS"
