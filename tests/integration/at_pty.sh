#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `smartcfg device --at TTY` through a real pty: a scripted host sets and queries the device
# info (BCC, never the secret), which survives a restart of the device; the bad-input matrix
# gets ERROR / +CME ERROR:204 and the parser recovers; TCSTOPSMART / TCMQTTSTATE answer; a
# hang-up ends the device. The secret never appears on the line, stdout or stderr.
set -u
SC=${SC_BUILD:?}/smartcfg
HOST=${SC_SRC:?}/tests/integration/at_host.py
TMP=$(mktemp -d /tmp/sc_at_pty.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/host.err "$TMP"/dev.err; do [ -f "$f" ] && { echo "--- $f"; tail -40 "$f"; }; done; exit 1; }
SECRET='c2VjcmV0LWF0LXB0eS10ZXN0'
BCC=$(python3 -c "import functools,sys; print(functools.reduce(lambda a,b:a^b, sys.argv[1].encode()))" "$SECRET")
DEV=("$SC" device --radio "udp:$((20000 + RANDOM % 20000))" --join sim:ap:password1:127.0.0.1 --no-cloud --at '{tty}' --state-dir "$TMP/state")
export AT_DEV_OUT=$TMP/dev.out AT_DEV_ERR=$TMP/dev.err

long=$(python3 -c "print('AT+TCSAP=\"' + 'x' * 400 + '\"')")
cat >"$TMP/s1" <<EOF
send AT
expect AT
expect OK
send ATE0
expect OK
send AT
expect OK
send AT+TCDEVINFOSET?
expect +CME ERROR:207
send AT+TCDEVINFOSET=0,"PIDAT00001","dev-at",""
expect +CME ERROR:204
send AT+TCDEVINFOSET=0,"PIDAT00001","dev-at","$SECRET"
expect OK
expect +TCDEVINFOSET:OK
send AT+TCDEVINFOSET?
expect +TCDEVINFOSET:0,"PIDAT00001","dev-at",$BCC,"ap-guangzhou"
expect OK
send AT+TCDEVINFOSET=?
expect +TCDEVINFOSET:"TLS_MODE(1)","PRODUCT_ID","DEVICE_NAME","DEVICE_SECRET_BCC","PRODUCT_REGION"
raw b"AT\x01\x02\r\n"
expect ERROR
send $long
expect ERROR
send AT+TCDEVINFOSET=1,"unterminated
expect ERROR
send AT+NOSUCH
expect ERROR
send AT+TCSAP="ap",1234567
expect +CME ERROR:204
send AT
expect OK
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:0
expect OK
send AT+TCSTOPSMART
expect OK
expect +TCSTOPSMART:OK
send AT+TCMODULE
expect_re Module Mac addr: [0-9a-f]{2}(:[0-9a-f]{2}){5}\r\n
expect OK
absent $SECRET
hangup
EOF
python3 "$HOST" "$TMP/s1" -- "${DEV[@]}" >"$TMP/host.out" 2>>"$TMP/host.err" || fail "session 1: $(cat "$TMP/host.out")"
grep -q "device exit 0" "$TMP/host.out" || fail "device did not exit cleanly on hang-up: $(cat "$TMP/host.out")"

# A second device process on the same state directory has the info (no secret printed).
cat >"$TMP/s2" <<EOF
send ATE0
expect OK
send AT+TCDEVINFOSET?
expect +TCDEVINFOSET:0,"PIDAT00001","dev-at",$BCC,"ap-guangzhou"
expect OK
send AT+TCRESTORE
expect OK
send AT+TCDEVINFOSET?
expect +CME ERROR:207
hangup
EOF
python3 "$HOST" "$TMP/s2" -- "${DEV[@]}" >"$TMP/host.out" 2>>"$TMP/host.err" || fail "session 2: $(cat "$TMP/host.out")"

# (the host's own transcript shows what it sent; only what came back counts)
grep '^<<' "$TMP/host.err" | grep -qF -- "$SECRET" && fail "the secret came back on the line"
grep -qF -- "$SECRET" "$TMP/dev.out" "$TMP/dev.err" && fail "the secret was printed"
echo "ok"
