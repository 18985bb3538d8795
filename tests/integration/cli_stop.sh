#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A user's stop is no failure to remember (issue 15 item 3): `smartcfg device --timeout` and
# Ctrl-C (SIGINT) end the run with a plain reason ("stopped by the user") next to the
# reference's (err, sub), on the terminal and in the JSON error event, and leave no error record
# behind that the next run would report to the app as Previous_Error.
set -u
SC=${SC_BUILD:?}/smartcfg
TMP=$(mktemp -d /tmp/sc_cli_stop.XXXXXX)
DEV=
trap '[ -n "$DEV" ] && kill "$DEV" 2>/dev/null; rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err; do echo "--- $f"; cat "$f"; done; exit 1; }
free_port() { python3 "$(dirname "$0")/lib/free_port.py" $$; }   # leased, outside the ephemeral range
# A background job of a script starts with SIGINT ignored; the launcher gives the device the
# default disposition a terminal's foreground job has, so its own Ctrl-C handling is tested.
dev() { # tag, extra args...  (run in a subshell: it execs the device, so $! is the device)
    local tag=$1; shift
    exec python3 -c 'import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' "$SC" device --radio "udp:$(free_port)" --join sim:MyAP:secret123:127.0.0.2 --product-id ABCDEFGHIJ \
        --device-name dev1 --no-cloud --json --state-dir "$TMP/state" "$@" >"$TMP/$tag.out" 2>"$TMP/$tag.err"
}
check_stop() { # tag
    grep -q '"event":"error".*"err_id":3,"sub_id":101,"reason":"stopped by the user"' "$TMP/$1.out" \
        || fail "$1: no error event with the plain reason"
    grep -q 'stopped by the user' "$TMP/$1.err" || fail "$1: reason not on the terminal"
    # a record is <previous><err_id le16><sub_id le32> (src/diag/errors.c): (3, 101) must not be there
    python3 - "$TMP/state" <<'PY' || fail "$1: the stop was stored as an error record"
import os, sys
d = sys.argv[1]
rec = bytes([3, 0, 101, 0, 0, 0])
sys.exit(any(rec in open(os.path.join(d, f), "rb").read() for f in os.listdir(d) if f.startswith("errrec")))
PY
    return 0
}

# --timeout: the user's own limit
(dev timeout --timeout 1); rc=$?
[ "$rc" = 3 ] || fail "--timeout: exit $rc, want 3"
check_stop timeout

# Ctrl-C once the device is sniffing (the test waits for the state event, however long it takes)
(dev sigint --timeout 600) & DEV=$!
for _ in $(seq 600); do grep -q '"state":"sniffing"' "$TMP/sigint.out" 2>/dev/null && break; sleep 0.1; done
grep -q '"state":"sniffing"' "$TMP/sigint.out" || fail "the device never started sniffing"
kill -INT "$DEV"; wait "$DEV"; rc=$?; DEV=
[ "$rc" = 130 ] || fail "SIGINT: exit $rc, want 130"
check_stop sigint

# A reader that is gone (`smartcfg device --json | head -1`) stops a device that prints nothing
# while it sniffs: exit 130 within seconds, not at its next line (the 300 s window's end). The
# pipe is the device's stdout; the reader reads the first line and closes it.
python3 - "$SC" "$(free_port)" "$TMP/state" "$TMP/pipe.err" <<'PY' || fail "stdout's reader gone: $(cat "$TMP/pipe.err")"
import subprocess, sys, time
sc, port, state, err = sys.argv[1:]
p = subprocess.Popen([sc, "device", "--radio", "udp:" + port, "--join", "sim:MyAP:secret123:127.0.0.2",
                      "--product-id", "ABCDEFGHIJ", "--device-name", "dev1", "--no-cloud", "--json",
                      "--state-dir", state, "--timeout", "120"], stdout=subprocess.PIPE, stderr=open(err, "w"))
assert b'"state":"sniffing"' in p.stdout.readline()
p.stdout.close()
t0 = time.monotonic()
rc = p.wait(timeout=60)
took = time.monotonic() - t0
assert rc == 130, ("exit", rc)
assert took < 30, ("took", took)   # checked once a second; was: until the --timeout, 120 s
print("reader gone: exit 130 after %.1f s" % took)
PY

echo "cli_stop: ok"
