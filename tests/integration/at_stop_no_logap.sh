#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `smartcfg device --at TTY --log-linger S`: a flow the AT host stops (AT+TCSTOPSMART) ends as
# error 3/102, but the host asked for it, so the log soft-AP (ESP-LOG-QUERY, UDP 9876) stays
# down (it was raised for S seconds, as after a real failure). In a namespace of its own: the
# old behaviour bound UDP 9876. About 3 s.
set -u
. "$(dirname "$0")/lib/netns_self.bash"
netns_self SC_AT_STOP_NS sc-atstop "$0"
SC=${SC_BUILD:?}/smartcfg
HOST=${SC_SRC:?}/tests/integration/at_host.py
TMP=$(mktemp -d /tmp/sc_at_stop.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/host.out "$TMP"/host.err "$TMP"/dev.err; do [ -f "$f" ] && { echo "--- $f"; tail -30 "$f"; }; done; exit 1; }
export AT_DEV_OUT=$TMP/dev.out AT_DEV_ERR=$TMP/dev.err
cat >"$TMP/s" <<EOF2
send ATE0
expect OK
send AT+TCDEVINFOSET=0,"PIDAT00001","dev-at","c2VjcmV0LWF0LXN0b3AtdGVzdA=="
expect +TCDEVINFOSET:OK
send AT+TCSTARTSMART
wait 10 +TCSTARTSMART:OK
sleep 0.5
send AT+TCSTOPSMART
wait 10 +TCSTOPSMART:OK
sleep 0.5
touch $TMP/stopped
wait_file 10 $TMP/probed
hangup
EOF2
python3 "$HOST" "$TMP/s" -- "$SC" device --radio udp:7001 --join sim:ap:password1:127.0.0.1 --no-cloud --log-linger 60 \
    --at '{tty}' --state-dir "$TMP/state" --log-level debug >"$TMP/host.out" 2>"$TMP/host.err" &
HP=$!
n=200
while [ ! -e "$TMP/stopped" ] && [ "$n" -gt 0 ] && kill -0 "$HP" 2>/dev/null; do sleep 0.05; n=$((n - 1)); done
[ -e "$TMP/stopped" ] || { wait "$HP"; fail "the AT session did not get to the stop"; }
# the log service answers {"cmdType":3} on UDP 9876 while it is up: nothing must answer now
python3 - >"$TMP/probe" 2>&1 <<'EOF2'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
try:
    s.sendto(b'{"cmdType":3}', ("127.0.0.1", 9876))
    print("answered:", s.recvfrom(4096)[0][:200])
except (socket.timeout, ConnectionRefusedError):
    print("silent")
EOF2
touch "$TMP/probed"
wait "$HP" || fail "AT session: $(cat "$TMP/host.out")"
grep -q "stopped by the AT host" "$TMP/dev.err" || fail "the flow was not stopped by the AT host"
grep -q "serving the provisioning log\|ESP-LOG-QUERY" "$TMP/dev.err" && fail "AT+TCSTOPSMART raised the log soft-AP"
grep -qx silent "$TMP/probe" || fail "UDP 9876 after AT+TCSTOPSMART: $(cat "$TMP/probe")"
echo "ok: AT+TCSTOPSMART leaves the log soft-AP down"
