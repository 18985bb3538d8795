#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Captures whose timestamps misbehave (security F62): a clock set back an hour mid-capture, one
# record 30 days ahead (a corrupted or hostile record), a first record a year ahead. The
# receivers and the replayed device take the capture's time as their clock; it used to stop
# at the highest timestamp seen, so after such a record every frame came at one instant:
# `smartcfg decode` lost an ESP-TOUCH v2 session that followed, and `smartcfg device --radio
# file:` never hopped to the session's channel (0 frames delivered, "the capture ended before
# credentials were decoded"). Both now read the time as continuous there and say so.
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
. "$(dirname "$0")/lib/wait.bash"
SC=${SC_BUILD:?}/smartcfg
LIB=$(dirname "$0")/lib
NS=scdc_clock_$$
TMP=$(mktemp -d /tmp/sc_decode_clock.XXXXXX)
cleanup() { netns_gone "$NS"; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }; done; exit 1; }

for p in v1 v2 airkiss; do
    "$SC" air --protocol $p --ssid FirstAP --password first-pw-1 --phone-mac 3c:28:6d:00:00:01 "$TMP/a-$p.pcap" >/dev/null || fail "air a $p"
    "$SC" air --protocol $p --ssid SecondAP --password second-pw-2 --phone-mac 3c:28:6d:00:00:02 --ip 192.168.1.101 \
        "$TMP/b-$p.pcap" >/dev/null || fail "air b $p"
done
PYTHONPATH=$LIB python3 - "$TMP" <<'PY' || fail "crafting captures"
import struct, sys
d = sys.argv[1]

def recs(path):
    b = open(path, 'rb').read()
    out, o = [], 24
    while o + 16 <= len(b):
        s, us, cl, ol = struct.unpack('<IIII', b[o:o + 16])
        out.append([s + us / 1e6, b[o + 16:o + 16 + cl], ol])
        o += 16 + cl
    return b[:24], out

def write(path, hdr, rs):
    b = bytearray(hdr)
    for t, data, ol in rs:
        s = int(t)
        b += struct.pack('<IIII', s, min(int(round((t - s) * 1e6)), 999999), len(data), ol) + data
    open(path, 'wb').write(b)

for p in ('v1', 'v2', 'airkiss'):
    hdr, a = recs('%s/a-%s.pcap' % (d, p))
    _, b = recs('%s/b-%s.pcap' % (d, p))
    first = [r for r in a if r[0] - a[0][0] <= 3.0]   # the first phone's whole session
    shift = first[-1][0] + 1.0 - b[0][0]              # the second phone a second later
    second = [[t + shift, x, ol] for t, x, ol in b]
    back = [[t - 3600, x, ol] for t, x, ol in second]  # ... on a clock set back an hour
    glitch = [list(first[-1])]
    glitch[0][0] += 30 * 86400                         # one record 30 days ahead between them
    write('%s/two-%s-plain.pcap' % (d, p), hdr, first + second)
    write('%s/two-%s-back.pcap' % (d, p), hdr, first + back)
    write('%s/two-%s-glitch.pcap' % (d, p), hdr, first + glitch + second)
    # one session: its clock set back an hour after the 3rd record; a year-ahead first record
    write('%s/one-%s-back.pcap' % (d, p), hdr, a[:3] + [[t - 3600, x, ol] for t, x, ol in a[3:]])
    write('%s/one-%s-early.pcap' % (d, p), hdr, [[a[0][0] + 365 * 86400, a[0][1], a[0][2]]] + a)
PY

# --- decode: both sessions, whatever the clock did between them ---------------------------
for p in v1 v2 airkiss; do
    for m in plain back glitch; do
        f=$TMP/two-$p-$m.pcap
        "$SC" decode --json "$f" >"$TMP/two-$p-$m.out" 2>"$TMP/two-$p-$m.err"; rc=$?
        [ "$rc" = 0 ] || fail "decode two-$p-$m: exit $rc"
        grep -q '"ssid":"FirstAP".*"password":"first-pw-1"' "$TMP/two-$p-$m.out" || fail "two-$p-$m: no first session"
        grep -q '"ssid":"SecondAP".*"password":"second-pw-2"' "$TMP/two-$p-$m.out" || fail "two-$p-$m: no second session"
        if [ "$m" = plain ]; then
            grep -q "time steps back" "$TMP/two-$p-$m.err" && fail "two-$p-$m: a break reported in a sane capture"
        else
            grep -q "the capture's time steps back or leaps ahead [12] time(s)" "$TMP/two-$p-$m.err" \
                || fail "two-$p-$m: the break is not reported"
        fi
    done
done
echo "decode: both sessions of each protocol across a clock set back an hour and a record 30 days ahead"

# --- the replayed device: credentials decoded (it used to stay on another channel) --------
ip netns add "$NS" || fail "cannot create namespace"
ip -n "$NS" link set lo up
for p in v1 v2 airkiss; do
    for m in back early; do
        tag=dev-$p-$m
        SMARTCFG_DEVICE_SECRET=c2VjcmV0LWRldmljZS1zZWNyZXQ= ip netns exec "$NS" "$SC" device \
            --radio "file:$TMP/one-$p-$m.pcap" --join sim:FirstAP:first-pw-1:127.0.0.2 --product-id ABCDEFGHIJ \
            --device-name dev1 --no-cloud --timeout 30 --json --state-dir "$TMP/state-$tag" \
            >"$TMP/$tag.out" 2>"$TMP/$tag.err" &
        DEV=$!
        wait_line "$DEV" "$TMP/$tag.out" '"event":"credentials"' 20
        kill "$DEV" 2>/dev/null; wait "$DEV" 2>/dev/null
        grep -q '"event":"credentials","t_ms":[0-9]*,"ssid":"FirstAP"' "$TMP/$tag.out" || fail "$tag: no credentials"
    done
done
echo "device --radio file: credentials from each protocol's capture with a clock set back and a year-ahead record"
echo "PASS"
