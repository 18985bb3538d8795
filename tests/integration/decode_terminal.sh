#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Credentials from the air are anyone's to choose (security F63): an SSID holding terminal
# controls that are valid UTF-8 -- U+009B (CSI to xterm: "\u009b8m" hides all that follows) and
# U+202E (a bidi override: what follows is shown reversed) -- must never reach a terminal raw.
# `smartcfg decode` printed them as they were (text and --json), and every --json line of the
# tools (here `smartcfg device`'s credentials event) carried them raw inside its strings. Now
# decode escapes them byte by byte (\xHH, like C0 controls) and the JSON printer writes them as
# \uXXXX: the same JSON text, no raw control. File names are anyone's to choose too (F66):
# decode's lines show them escaped.
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
. "$(dirname "$0")/lib/wait.bash"
SC=${SC_BUILD:?}/smartcfg
NS=scdt_term_$$
TMP=$(mktemp -d /tmp/sc_decode_term.XXXXXX)
cleanup() { netns_gone "$NS"; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }; done; exit 1; }
# raw C1 (C2 80..C2 9F) or bidi controls (E2 80 8E/8F, E2 80 AA..AE, E2 81 A6..A9, D8 9C) in a file
raw_controls() {
    python3 -c '
import re, sys
b = open(sys.argv[1], "rb").read()
sys.exit(0 if re.search(rb"\xc2[\x80-\x9f]|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c", b) else 1)' "$1"
}

SSID_HEX=4869c29b386d58e280ae6162      # "Hi" CSI "8mX" RLO "ab"
"$SC" air --ssid-hex $SSID_HEX --password term-pw-1 --ip 127.0.0.1 "$TMP/c.pcap" >/dev/null || fail "air"

"$SC" decode "$TMP/c.pcap" >"$TMP/text.out" 2>"$TMP/text.err" || fail "decode exit $?"
grep -qF 'ssid "Hi\xc2\x9b8mX\xe2\x80\xaeab" password "term-pw-1"' "$TMP/text.out" || fail "decode text form"
raw_controls "$TMP/text.out" && fail "raw terminal controls in decode's text output"
"$SC" decode --json "$TMP/c.pcap" >"$TMP/json.out" 2>"$TMP/json.err" || fail "decode --json exit $?"
raw_controls "$TMP/json.out" && fail "raw terminal controls in decode's JSON"
python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["ssid"] == "Hi\\xc2\\x9b8mX\\xe2\\x80\\xaeab", r["ssid"]
assert r["ssid_hex"] == sys.argv[2]' "$TMP/json.out" $SSID_HEX || fail "decode JSON fields"
echo "decode: C1 and bidi controls escaped (text and JSON)"

# a capture whose name holds terminal controls (security F66): OSC retitles the terminal, SGR 8
# hides the credentials printed after the name; the name is escaped like the text fields
EVIL=$TMP/$'evil\e]0;pwned\a\e[8m.pcap'
cp "$TMP/c.pcap" "$EVIL"
printf 'not a capture' >"$EVIL.bad"
"$SC" decode "$EVIL" "$EVIL.bad" "$EVIL.missing" >"$TMP/name.out" 2>"$TMP/name.err"; rc=$?
[ "$rc" = 1 ] || fail "decode of the evil names: exit $rc, want 1"
grep -qF 'evil\x1b]0;pwned\x07\x1b[8m.pcap: protocol esptouch-v1' "$TMP/name.out" || fail "the name is not escaped in the result"
grep -c 'evil\\x1b]0;pwned\\x07\\x1b\[8m.pcap' "$TMP/name.err" | grep -qx 2 || fail "the names are not escaped in the errors"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$TMP/name.out" "$TMP/name.err"; then fail "raw control bytes on the terminal"; fi
# a name with a byte that is no UTF-8: the JSON line stays UTF-8 (the byte is U+FFFD), the
# text line shows it as \xff
NOTU8=$TMP/$'bad\xff.pcap'
cp "$TMP/c.pcap" "$NOTU8"
"$SC" decode --json "$NOTU8" >"$TMP/notu8.out" 2>/dev/null || fail "decode of a name that is no UTF-8: exit $?"
python3 -c '
import json, sys
r = json.loads(open(sys.argv[1], "rb").readline().decode("utf-8"))
assert r["file"] == sys.argv[2] + "/bad\ufffd.pcap", r["file"]' "$TMP/notu8.out" "$TMP" || fail "JSON line with a name that is no UTF-8"
"$SC" decode "$NOTU8" 2>/dev/null | grep -qF 'bad\xff.pcap: protocol' || fail "text line with a name that is no UTF-8"
echo "decode: file names with terminal controls escaped in results and errors"

ip netns add "$NS" || fail "cannot create namespace"
ip -n "$NS" link set lo up
SMARTCFG_DEVICE_SECRET=c2VjcmV0LWRldmljZS1zZWNyZXQ= ip netns exec "$NS" "$SC" device --radio "file:$TMP/c.pcap" \
    --join sim:x:y:127.0.0.2 --product-id ABCDEFGHIJ --device-name dev1 --no-cloud --timeout 30 --json \
    --state-dir "$TMP/state" >"$TMP/dev.out" 2>"$TMP/dev.err" &
DEV=$!
wait_line "$DEV" "$TMP/dev.out" '"event":"credentials"' 20
kill "$DEV" 2>/dev/null; wait "$DEV" 2>/dev/null
grep -q '"event":"credentials"' "$TMP/dev.out" || fail "device: no credentials event"
raw_controls "$TMP/dev.out" && fail "raw terminal controls in the device's JSON lines"
raw_controls "$TMP/dev.err" && fail "raw terminal controls in the device's log"
# the JSON meaning is unchanged: each SSID byte is one code point (docs/json.md)
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("event") == "credentials":
        assert r["ssid"].encode("latin-1").hex() == sys.argv[2], r["ssid"]
        break
else:
    sys.exit(1)' "$TMP/dev.out" $SSID_HEX || fail "device credentials ssid"
grep -qF '"ssid":"HiÂ\u009b8mX' "$TMP/dev.out" || fail "device: U+009B not written as \\u009b"
echo "device --json: U+009B written \\u009b, the same JSON text"
echo "PASS"
