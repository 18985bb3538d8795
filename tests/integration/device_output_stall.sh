#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A device whose log and events nobody reads (a stalled journal, a supervisor's pipe left
# unread): once the pipe was full, every log line blocked the device's one loop, and with it
# the radio, the ESP-TOUCH ack and the UDP 8266 service, so the phone's provisioning failed
# while the reader slept. stdout and stderr now go through queues (ports/posix/output.c): the
# device provisions with both pipes full, and every queued line comes once the reader reads.
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
SC=${SC_BUILD:?}/smartcfg
NS=scdp_stall_$$
TMP=$(mktemp -d /tmp/scdp_stall.XXXXXX)
READERS=()
cleanup() {
    touch "$TMP/release"
    for p in "${READERS[@]}"; do kill "$p" 2>/dev/null; done
    netns_gone "$NS"
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.jsonl "$TMP"/*.err "$TMP"/*.out; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 25; }; done; exit 1; }
in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" || fail "cannot create namespace"
in_ns ip link set lo up

# A reader that opens its FIFO with the smallest pipe (4 KiB) and reads nothing until released.
reader() { # $1 = fifo, $2 = output file
    mkfifo "$1"
    python3 "$(dirname "$0")/lib/stall_reader.py" "$1" "$TMP/release" "$2" "$1.ready" &
    READERS+=($!)
    for _ in $(seq 100); do [ -e "$1.ready" ] && break; sleep 0.1; done
    [ -e "$1.ready" ] || fail "reader of $1 not ready"
    # Fill the pipe before the device opens it: its first line meets a full pipe, whatever
    # the device logs (lines "#fill", left out of the checks below).
    python3 - "$1" <<'PY' || fail "cannot fill $1"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
line = b"#fill" + b"." * 58 + b"\n"
n = 0
try:
    while True:
        n += os.write(fd, line)
except BlockingIOError:
    pass
os.close(fd)
sys.exit(0 if n >= 4096 - len(line) else 1)
PY
}
reader "$TMP/out.fifo" "$TMP/dev.jsonl"
reader "$TMP/err.fifo" "$TMP/dev.err"

PASSWORD='st4lled-reader'
TOKEN='00112233445566778899aabbccddeeff'
in_ns "$SC" device --radio udp --join "sim:HomeNet:$PASSWORD:127.0.0.2" --product-id ABCDEFGHIJ --device-name dev1 \
    --no-cloud --token-linger 2 --json --log-level debug --timeout 90 --state-dir "$TMP/state" \
    >"$TMP/out.fifo" 2>"$TMP/err.fifo" &
DEV=$!
sleep 1
in_ns "$SC" send --ssid HomeNet --password "$PASSWORD" --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 --dest 127.255.255.255 \
    --token "$TOKEN" --count 1 --timeout 45 --json >"$TMP/send.out" 2>"$TMP/send.err"
SRC=$?
[ "$SRC" = 0 ] || { kill "$DEV"; fail "smartcfg send exit $SRC: the device did not provision while its output was unread"; }
grep -q '"event":"identity"' "$TMP/send.out" || { kill "$DEV"; fail "no identity from the device"; }
echo "provisioned with both outputs unread: $(grep -o '"event":"identity","t_ms":[0-9]*' "$TMP/send.out")"
touch "$TMP/release"
wait "$DEV"; RD=$?
for p in "${READERS[@]}"; do wait "$p"; done
READERS=()
[ "$RD" = 0 ] || fail "device exit $RD"
for f in dev.jsonl dev.err; do   # the filler first, whole, then the device's own lines
    [ "$(grep -c '^#fill' "$TMP/$f")" -ge 60 ] || fail "$f: the pipe was not full when the device started"
    grep -v '^#fill' "$TMP/$f" > "$TMP/$f.own"; mv "$TMP/$f.own" "$TMP/$f"
done
grep -q '"event":"token"' "$TMP/dev.jsonl" || fail "queued events lost: no token event"
grep -q '"event":"exit","t_ms":[0-9]*,"code":0' "$TMP/dev.jsonl" || fail "the last event (exit) was not written"
grep -q 'enter sniffing' "$TMP/dev.err" || fail "queued log lines lost: the first step is missing"
bad=$(grep -cvE '^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3} (error|warn |info |debug) ' "$TMP/dev.err")
[ "$bad" = 0 ] || fail "$bad log line(s) torn or mixed"
python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$TMP/dev.jsonl" || fail "a torn event line"
grep -qF -- "$PASSWORD" "$TMP/dev.jsonl" "$TMP/dev.err" && fail "password leaked"
echo "after the reader woke: $(wc -l <"$TMP/dev.jsonl") event lines, $(wc -l <"$TMP/dev.err") log lines, all whole"
echo "PASS"
