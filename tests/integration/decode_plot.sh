#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `smartcfg decode --plot FILE.svg`: the SVG is well-formed XML (python's parser) with what a
# person debugging provisioning looks for: a dot per frame, guide and data phases, the lock,
# a mark per datum byte as it completes and one completing frame; an unfinished session is
# drawn too (lock and datum marks, no completion); a file name with XML's special characters
# stays well-formed, and so does one that is no UTF-8 or holds a bidi control (F77); an unwritable
# output is an error (exit 1).
set -u
SC=${SC_BUILD:?}/smartcfg
TMP=$(mktemp -d /tmp/sc_decode_plot.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
LIB=$(dirname "$0")/lib

"$SC" air --ssid PlotAP --password plot-pw-99 "$TMP/full.pcap" >"$TMP/air.out" || fail "air"
FRAMES=$(grep -o '[0-9]* frames' "$TMP/air.out" | cut -d' ' -f1)
"$SC" decode --plot "$TMP/full.svg" "$TMP/full.pcap" >/dev/null || fail "decode --plot"
PYTHONPATH=$LIB python3 -c "import pcap_craft as c; c.cut('$TMP/full.pcap', '$TMP/'+'a<&\">.pcap', 2.5)" || fail "cut"
"$SC" decode --plot "$TMP/partial.svg" "$TMP/a<&\">.pcap" >/dev/null 2>&1; RC=$?
[ "$RC" = 3 ] || fail "partial: exit $RC, expected 3"

python3 - "$TMP/full.svg" "$TMP/partial.svg" "$FRAMES" <<'PY' || fail "SVG content"
import sys, xml.etree.ElementTree as ET
NS = '{http://www.w3.org/2000/svg}'

def load(path):
    root = ET.parse(path).getroot()          # raises on malformed XML
    assert root.tag == NS + 'svg', root.tag
    by = {}
    for e in root.iter():
        for c in e.get('class', '').split():
            by.setdefault(c, []).append(e)
    return root, by

root, by = load(sys.argv[1])
assert len(by['frame']) == int(sys.argv[3]), (len(by['frame']), sys.argv[3])
assert by['guide'] and by['data'], 'no guide/data phases'
assert len(by['guide-frame']) > 100, 'guide frames not marked'
assert by['lock'], 'no lock'
assert len(by['done-mark']) == 1, 'one completing frame expected'
datums = [g.find(NS + 'title').text for g in by['datum-mark']]
assert datums and datums[-1].startswith('esptouch-v1: '), datums[-3:]
assert 'decoded (esptouch-v1)' in ''.join(by['done-mark'][0].itertext())
title = root.find(NS + 'title').text
assert title.startswith('smartcfg decode '), title

root, by = load(sys.argv[2])
assert by['lock'] and by['datum-mark'], 'unfinished session: lock and datum marks expected'
assert 'done-mark' not in by, 'nothing completed'
assert root.find(NS + 'title').text.endswith('a<&">.pcap'), root.find(NS + 'title').text
print('plot: %d frames, %d phases, %d datum marks' % (int(sys.argv[3]), len(by.get('phase', [])), len(by['datum-mark'])))
PY

# F77: a file name that is no UTF-8 (a Latin-1 name) made the SVG malformed, so no viewer opened
# it, and one with a bidirectional control showed the name reversed in its title: the byte is
# U+FFFD, the control '?' (as C0 controls were already)
cp "$TMP/full.pcap" "$TMP/"$'caf\xe9.pcap'
cp "$TMP/full.pcap" "$TMP/"$'rtl\xe2\x80\xaecod.pcap'
"$SC" decode --plot "$TMP/latin1.svg" "$TMP/"$'caf\xe9.pcap' >/dev/null || fail "decode --plot, a Latin-1 name"
"$SC" decode --plot "$TMP/bidi.svg" "$TMP/"$'rtl\xe2\x80\xaecod.pcap' >/dev/null || fail "decode --plot, a bidi name"
python3 - "$TMP/latin1.svg" "$TMP/bidi.svg" <<'PY' || fail "SVG of a name that is no UTF-8 or holds a bidi control"
import sys, xml.etree.ElementTree as ET
NS = '{http://www.w3.org/2000/svg}'
t = ET.parse(sys.argv[1]).getroot().find(NS + 'title').text   # raised on the old code: not well-formed
assert t.endswith('/caf\ufffd.pcap'), repr(t)
t = ET.parse(sys.argv[2]).getroot().find(NS + 'title').text
assert t.endswith('/rtl?cod.pcap') and '\u202e' not in t, repr(t)
PY

"$SC" decode --plot "$TMP/no/such/dir/x.svg" "$TMP/full.pcap" >/dev/null 2>"$TMP/err"; RC=$?
[ "$RC" = 1 ] || fail "unwritable plot: exit $RC, expected 1"
grep -q "^smartcfg decode: --plot $TMP/no/such/dir/x.svg: No such file or directory" "$TMP/err" || fail "unwritable message"
# ... and said before the decode: from a pipe that goes on (a live capture likewise) it came
# only at the input's end, after all the waiting (here: still waiting when killed at 8 s)
exec 3< <(exec sleep 20 2>/dev/null)
SLEEPER=$!
timeout 8 "$SC" decode --plot "$TMP/no/such/dir/y.svg" - <&3 >/dev/null 2>"$TMP/err"; RC=$?
exec 3<&-
kill "$SLEEPER" 2>/dev/null
[ "$RC" = 1 ] || fail "unwritable plot of a pipe: exit $RC, expected 1 at once"
grep -q "^smartcfg decode: --plot $TMP/no/such/dir/y.svg: No such file or directory" "$TMP/err" || fail "unwritable message, pipe"
# an existing file the user may not write: at start too (F88; before: still waiting at 8 s)
echo old >"$TMP/ro.svg"
if [ "$(id -u)" = 0 ]; then
    chmod 755 "$TMP"; AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)   # root's file, run as nobody
else
    chmod 444 "$TMP/ro.svg"; AS=()
fi
exec 3< <(exec sleep 20 2>/dev/null)
SLEEPER=$!
timeout 8 "${AS[@]}" "$SC" decode --plot "$TMP/ro.svg" - <&3 >/dev/null 2>"$TMP/err"; RC=$?
exec 3<&-
kill "$SLEEPER" 2>/dev/null
[ "$RC" = 1 ] || fail "a plot over a file not ours to write, from a pipe: exit $RC, expected 1 at once"
grep -q "^smartcfg decode: --plot $TMP/ro.svg: Permission denied" "$TMP/err" || fail "unwritable file message, pipe: $(cat "$TMP/err")"
[ "$(cat "$TMP/ro.svg")" = old ] || fail "the file not ours changed"
mkdir "$TMP/adir"
"$SC" decode --plot "$TMP/adir" "$TMP/full.pcap" >/dev/null 2>"$TMP/err"; RC=$?
[ "$RC" = 1 ] && grep -q "^smartcfg decode: --plot $TMP/adir: Is a directory" "$TMP/err" || fail "plot into a directory: exit $RC $(cat "$TMP/err")"
"$SC" decode --plot "$TMP/x.svg" "$TMP/full.pcap" "$TMP/full.pcap" >/dev/null 2>&1; RC=$?
[ "$RC" = 2 ] || fail "--plot with two files: exit $RC, expected 2"
# a capture at the plot's name (`--plot *.pcap` with two captures, the input named twice) was
# replaced by the SVG (F101): refused, the capture kept
cp "$TMP/full.pcap" "$TMP/keep.pcap"
SUM=$(md5sum <"$TMP/keep.pcap")
for args in "$TMP/keep.pcap $TMP/full.pcap" "$TMP/keep.pcap $TMP/keep.pcap"; do
    # shellcheck disable=SC2086
    "$SC" decode --plot $args >/dev/null 2>"$TMP/err"; RC=$?
    [ "$RC" = 2 ] && grep -q "^smartcfg decode: --plot $TMP/keep.pcap: is a capture, not overwritten" "$TMP/err" \
        || fail "--plot $args: exit $RC, $(cat "$TMP/err")"
    [ "$(md5sum <"$TMP/keep.pcap")" = "$SUM" ] || fail "--plot $args: the capture was overwritten"
done
echo "PASS"
