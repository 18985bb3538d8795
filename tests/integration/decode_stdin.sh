#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `smartcfg decode -` reads the capture from stdin (tcpdump -w - | smartcfg decode -): the same
# result as from the file, the name "-" in the output; stdin given twice is a usage error;
# garbage on stdin is a clear error (exit 1), not a crash.
set -u
SC=${SC_BUILD:?}/smartcfg
TMP=$(mktemp -d /tmp/sc_decode_stdin.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 5 "$f"; }; done; exit 1; }

"$SC" air --ssid StdinAP --password stdin-pw-42 "$TMP/a.pcap" >/dev/null || fail "air"
"$SC" decode --json "$TMP/a.pcap" >"$TMP/file.out" || fail "decode of the file"
"$SC" decode --json - <"$TMP/a.pcap" >"$TMP/stdin.out" 2>"$TMP/stdin.err"; RC=$?
[ "$RC" = 0 ] || fail "decode - exit $RC"
grep -q '^{"v":1,"event":"result","t_ms":[0-9]*,"file":"-","protocol":"esptouch-v1","ssid":"StdinAP".*"password":"stdin-pw-42"' "$TMP/stdin.out" || fail "no result from stdin"
# the same result apart from the file name and the tool's clocks (t_ms, ts)
same() { sed 's/"t_ms":[0-9]*,"file":"[^"]*"//; s/,"ts":[0-9]*}$/}/' "$1"; }
[ "$(same "$TMP/file.out")" = "$(same "$TMP/stdin.out")" ] || fail "stdin and file differ"
# a pipe, not just a redirected file
cat "$TMP/a.pcap" | "$SC" decode - >"$TMP/pipe.out" 2>&1 || fail "decode from a pipe"
grep -q '^-: protocol esptouch-v1 ssid "StdinAP"' "$TMP/pipe.out" || fail "pipe result"

"$SC" decode - - <"$TMP/a.pcap" >/dev/null 2>"$TMP/twice.err"; RC=$?
[ "$RC" = 2 ] || fail "'- -' exit $RC, expected 2"
grep -q "can be given only once" "$TMP/twice.err" || fail "'- -' message"

echo "not a capture at all" | "$SC" decode - >/dev/null 2>"$TMP/junk.err"; RC=$?
[ "$RC" = 1 ] || fail "junk on stdin: exit $RC, expected 1"
grep -q "^smartcfg decode: -: not a readable pcap/pcapng capture" "$TMP/junk.err" || fail "junk message"
"$SC" decode - </dev/null >/dev/null 2>"$TMP/empty.err"; RC=$?
[ "$RC" = 1 ] || fail "empty stdin: exit $RC, expected 1"
# stdin a terminal: said at once, exit 2 (it waited without a word for a capture to be typed)
python3 - "$SC" >"$TMP/tty.out" <<'PY' || fail "decode - on a terminal: $(cat "$TMP/tty.out")"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "decode", "-"])
out, t0 = b"", time.monotonic()
while time.monotonic() - t0 < 20:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    if select.select([fd], [], [], 0.1)[0]:
        try:
            out += os.read(fd, 4096)
        except OSError:
            pass
else:
    os.kill(pid, 9)
    sys.exit("still waiting after 20 s")
try:
    out += os.read(fd, 4096)
except OSError:
    pass
print(out.decode(errors="replace"))
assert b"stdin is a terminal" in out and os.WEXITSTATUS(status) == 2, (out, status)
PY
echo "PASS"
