#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# When nothing decodes, `smartcfg decode` says why, on stderr and (--json) in a no_result line:
# each stage a capture can stop at, on a capture crafted to stop there.
set -u
SC=${SC_BUILD:?}/smartcfg
TMP=$(mktemp -d /tmp/sc_decode_why.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 5 "$f"; }; done; exit 1; }
LIB=$(dirname "$0")/lib

"$SC" air --ssid WhyAP --password why-pw-1234 "$TMP/full.pcap" >/dev/null || fail "air"
# the phone's uplink as one-subframe A-MSDUs only: the header's DA is the AP, the broadcast
# address is inside, and "no group-addressed frames" alone misled (a v1 phone's A-MSDUs, read
# by the AirKiss decoder alone, give no lock)
"$SC" air --uplink-only --amsdu --duration 8000 "$TMP/amsdu.pcap" >/dev/null || fail "air amsdu"
# v2 and AirKiss cut after their first lock: the lock events of those two carry no overhead,
# which the reason printed as "overhead 0"
"$SC" air --protocol v2 --duration 300 "$TMP/v2short.pcap" >/dev/null || fail "air v2short"
"$SC" air --protocol airkiss --duration 300 "$TMP/akshort.pcap" >/dev/null || fail "air akshort"
PYTHONPATH=$LIB python3 - "$TMP" <<'PY' || fail "crafting captures"
import sys, pcap_craft as c
d = sys.argv[1]
c.eth(d + '/none.pcap', [])
# a loopback capture: every destination MAC is 00:00:00:00:00:00
c.eth(d + '/loopback.pcap', [(1700000000 + i * 0.008, b'\0' * 6, 100 + i % 50) for i in range(500)])
# broadcast, but lengths that are no guide
c.eth(d + '/noguide.pcap', [(1700000000 + i * 0.008, b'\xff' * 6, 300 + (i * 37) % 200) for i in range(500)])
c.cut(d + '/full.pcap', d + '/guideonly.pcap', 1.0)   # the guide and no data: locked, no datum
c.cut(d + '/full.pcap', d + '/partial.pcap', 2.5)     # stopped during the first data phase
PY

# name, expected exit, text on stderr, JSON check (python expression over o)
check() { # name text cond [decode options]
    local name=$1 text=$2 cond=$3
    shift 3
    "$SC" decode "$@" "$TMP/$name.pcap" >"$TMP/$name.out" 2>"$TMP/$name.err"; local rc=$?
    [ "$rc" = 3 ] || fail "$name: exit $rc, expected 3"
    grep -qF "smartcfg decode: $TMP/$name.pcap: nothing decoded: $text" "$TMP/$name.err" || fail "$name: reason"
    "$SC" decode --json "$@" "$TMP/$name.pcap" >"$TMP/$name.json.out" 2>/dev/null; rc=$?
    [ "$rc" = 3 ] || fail "$name --json: exit $rc, expected 3"
    python3 -c "
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o['event'] == 'no_result' and o['file'] == sys.argv[2], o
assert o['reason'].startswith(sys.argv[3]), o
assert $cond, o
" "$TMP/$name.json.out" "$TMP/$name.pcap" "$text" || fail "$name: JSON"
    echo "$name: $(cat "$TMP/$name.err")"
}
check none "the capture holds no frame the reader could use" "o['frames'] == 0"
check loopback "no group-addressed frames among 500 (" \
    "o['frames'] == 500 and o['group_frames'] == 0 and '00:00:00:00:00:00' in o['reason']"
check noguide "no guide seen: 500 group-addressed frames" "o['group_frames'] == 500 and not o['locked']"
check guideonly "locked (esptouch-v1, channel 6, overhead 82) but no datum complete yet" "o['locked'] and o['needed'] == 0"
check partial "locked (esptouch-v1, channel 6, overhead 82) but incomplete: " \
    "o['locked'] and 0 < o['known'] < o['needed']"
check v2short "locked (esptouch-v2, channel 6, overhead 82) but no datum complete yet" "o['locked'] and o['needed'] == 0"
check akshort "locked (airkiss, channel 6, overhead 82) but no datum complete yet" "o['locked'] and o['needed'] == 0"
check amsdu "no group-addressed frames among 1000, but 1000 are A-MSDU aggregates (" \
    "o['frames'] == 1000 and o['group_frames'] == 0 and 'no guide was seen' in o['reason']" --protocols airkiss
# the N of M in the text is the JSON's known/needed
K=$(python3 -c "import json,sys; o=json.load(open(sys.argv[1])); print(o['known'], 'of', o['needed'])" "$TMP/partial.json.out")
grep -qF "incomplete: $K bytes" "$TMP/partial.err" || fail "partial: text and JSON disagree ($K)"

# an encrypted v2 session: without a key the text asks for one; with a wrong key it says the key
# does not decrypt it (it used to ask for --aes-key though one was given); never a password
"$SC" air --protocol v2 --aes-key 1234567890123456 --duration 8000 "$TMP/aes.pcap" >/dev/null || fail "air aes"
"$SC" decode "$TMP/aes.pcap" >"$TMP/aes_nokey.out" 2>&1 || fail "aes: decode without the key"
grep -qF 'password unknown (encrypted; give --aes-key)' "$TMP/aes_nokey.out" || fail "aes: no key: text"
"$SC" decode --aes-key 6543210987654321 "$TMP/aes.pcap" >"$TMP/aes_wrong.out" 2>&1 || fail "aes: decode, wrong key"
grep -qF 'password unknown (encrypted; the --aes-key given does not decrypt it)' "$TMP/aes_wrong.out" ||
    fail "aes: wrong key: text"
grep -q '12345678' "$TMP/aes_nokey.out" "$TMP/aes_wrong.out" && fail "aes: a password was printed"
echo "PASS"
