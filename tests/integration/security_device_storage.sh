#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue 13, F9 (docs/security.md#device): the device's state dir is read-only, then full
# (each a private mount namespace the test makes: a read-only bind mount, a tiny filled tmpfs).
# A failed record or log write must be an error event in --json and a log line, the flow must
# go on to its own end (here: a failed join, err 10, exit 4), and the next start must say that
# the previous record may be missing.
set -u
SC=${SC_BUILD:?}/smartcfg
TMP=$(mktemp -d /tmp/scss.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.jsonl "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 20; }; done; exit 1; }
command -v unshare >/dev/null || fail "no unshare"

"$SC" air --ssid MyAP --password 'pa55word' --ip 127.0.0.1 "$TMP/cap.pcap" >"$TMP/air.log" 2>&1 || fail "smartcfg air"

# $1 tag, $2 the mount setup run inside the namespace before the device (state dir: $TMP/$1)
run() {
    mkdir -p "$TMP/$1"
    unshare -m --propagation private sh -c "$2 && exec \"\$0\" \"\$@\"" \
        "$SC" device --radio "file:$TMP/cap.pcap" --join "sim:MyAP:wrong-password:127.0.0.2" \
        --product-id ABCDEFGHIJ --device-name devsec --no-cloud --json --timeout 60 --sim-delay 100 \
        --state-dir "$TMP/$1" >"$TMP/$1.jsonl" 2>"$TMP/$1.err"
    RC=$?
}

check() { # $1 tag
    [ "$RC" = 4 ] || fail "$1: exit $RC (want 4: the join failure, the flow went on)"
    grep -q '"event":"error","t_ms":[0-9]*,"err_id":10,' "$TMP/$1.jsonl" || fail "$1: the flow's own error is missing"
    grep -q '"event":"error".*"storage":true' "$TMP/$1.jsonl" || fail "$1: no storage error event"
    grep -q 'storage:.*not saved' "$TMP/$1.err" || fail "$1: no storage log line"
}

RO="mount --bind $TMP/ro $TMP/ro && mount -o remount,bind,ro $TMP/ro"
run ro "$RO"
check ro
run ro "$RO"
check ro
grep -q 'previous record may be missing' "$TMP/ro.jsonl" || fail "ro: the next start did not say the previous record may be missing"
grep -q 'previous run.s error record may be missing' "$TMP/ro.err" || fail "ro: no start-up log line"
echo "read-only: $(grep -c '"storage":true' "$TMP/ro.jsonl") storage events, exit $RC"

FULL="mount -t tmpfs -o size=16k,mode=0700 tmpfs $TMP/full && (dd if=/dev/zero of=$TMP/full/filler bs=4k count=64 2>/dev/null; true)"
run full "$FULL"
check full
echo "full: $(grep -c '"storage":true' "$TMP/full.jsonl") storage events, exit $RC"
# F30: FIFOs planted under the record names (anyone can, in a shared sticky state dir): the
# device used to block at start for ever in open(); now they are not records, the flow runs.
mkdir -p "$TMP/fifo"
for k in errrec.a errrec.b log.a log.b .errrec.a.tmp; do mkfifo "$TMP/fifo/$k" || fail "mkfifo"; done
RC=0
timeout 30 "$SC" device --radio "file:$TMP/cap.pcap" --join "sim:MyAP:wrong-password:127.0.0.2" \
    --product-id ABCDEFGHIJ --device-name devsec --no-cloud --json --timeout 20 --sim-delay 100 \
    --state-dir "$TMP/fifo" >"$TMP/fifo.jsonl" 2>"$TMP/fifo.err" || RC=$?
[ "$RC" = 4 ] || fail "fifo: exit $RC (want 4; 124 = the device hung on a planted FIFO)"
grep -q '"event":"error","t_ms":[0-9]*,"err_id":10,' "$TMP/fifo.jsonl" || fail "fifo: the flow's own error is missing"
[ -f "$TMP/fifo/errrec.a" ] && [ ! -p "$TMP/fifo/errrec.a" ] || fail "fifo: the record was not written over the FIFO"
echo "planted FIFOs: exit $RC"
echo "PASS"
