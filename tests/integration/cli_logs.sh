#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Device logs for people (issue 15 item 9): one line per step with the wall-clock time; the
# record's "<ms>|function(line):" only at --log-level debug; colour on a terminal (a pty made by
# script(1)), none when piped or with NO_COLOR.
set -u
SC=${SC_BUILD:?}/smartcfg
TMP=$(mktemp -d /tmp/sc_cli_logs.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.log; do echo "--- $f"; cat -A "$f"; done; exit 1; }
free_port() { python3 "$(dirname "$0")/lib/free_port.py" $$; }   # leased, outside the ephemeral range
args() { echo "device --radio udp:$(free_port) --join sim:MyAP:secret123:127.0.0.2 --product-id ABCDEFGHIJ --device-name dev1 --no-cloud --timeout 1 --state-dir $TMP/state"; }

"$SC" $(args) 2>"$TMP/info.log" >/dev/null
TS='^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3} (error|warn |info |debug) '
bad=$(grep -cvE "$TS" "$TMP/info.log")
[ "$bad" = 0 ] || fail "$bad line(s) without wall-clock time and level"
grep -q 'enter sniffing' "$TMP/info.log" || fail "no step line"
[ "$(grep -c 'sniffing$' "$TMP/info.log")" = 1 ] || fail "the step into sniffing is logged more than once"
grep -qE '[0-9]+\|[a-z_]+\([0-9]+\):' "$TMP/info.log" && fail "function/line shown at info"
grep -q $'\033\[' "$TMP/info.log" && fail "colour when piped"

"$SC" $(args) --log-level debug 2>"$TMP/debug.log" >/dev/null
grep -qE '[0-9]+\|set_state\([0-9]+\): \[idle\] enter sniffing' "$TMP/debug.log" || fail "no function/line at debug"

# a terminal: colour on the error lines; with NO_COLOR none
script -qec "$SC $(args)" /dev/null >"$TMP/tty.log" 2>&1
grep -q $'\033\[31merror' "$TMP/tty.log" || fail "no colour on a terminal"
NO_COLOR=1 script -qec "$SC $(args)" /dev/null >"$TMP/nocolor.log" 2>&1
grep -q 'error' "$TMP/nocolor.log" || fail "NO_COLOR run printed no error line"
grep -q $'\033\[3' "$TMP/nocolor.log" && fail "colour despite NO_COLOR"
echo "cli_logs: ok"
