#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The registry's disk fills up under a running cloud (a 2 MB tmpfs in a private mount
# namespace the test makes): writes answer 503 (worth a retry, not 500), the log says why
# ("database or disk is full") once per 30 s instead of nothing, reads go on, and once space
# is freed writes succeed again without a restart.
if [ -z "${SC_IN_NS:-}" ]; then
    command -v unshare >/dev/null || { echo "FAIL: no unshare" >&2; exit 1; }
    exec env SC_IN_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib/cloud.bash"
mkdir "$T/full"
mount -t tmpfs -o size=2m,mode=0700 tmpfs "$T/full" || fail "cannot mount a tmpfs (root needed)"
# set +e: under set -e the (exit $rc) that hands cleanup the status would end the trap there
trap 'rc=$?; set +e; umount -l "$T/full" 2>/dev/null; (exit $rc); cleanup' EXIT
DB=$T/full/cloud.db
ADMIN_KEY_FILE=$T/full/admin.key
start_cloud
P=DISKFULL01
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
post /v1/products/$P/devices '{"device_name":"before"}' | jget device_secret >/dev/null || fail "device before the disk filled"
dd if=/dev/zero of="$T/full/filler" bs=64k 2>/dev/null || true   # until the tmpfs is full
code() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "$(admin_auth)" "$BASE$1" -d "$2"; }
codes=""
for i in $(seq 60); do codes="$codes $(code /v1/products/$P/devices "{\"device_name\":\"full$i-with-a-name-long-enough-to-need-pages\"}")"; done
grep -q 503 <<<"$codes" || fail "no write refused with 503 on a full disk: $codes"
! grep -q 500 <<<"$codes" || fail "a full disk answered 500: $codes"
n=$(grep -c 'database or disk is full' "$T/cloud.err" || true)
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || fail "the full disk was said $n times in the log for $(grep -o 503 <<<"$codes" | wc -l) failures"
[ "$(get /v1/products/$P/devices | jq -r '.devices[0].device_name')" = before ] || fail "reads stopped on a full disk"
ok "full disk: writes answer 503, the log says why once ($n line), reads go on"
rm -f "$T/full/filler"
[ "$(code /v1/products/$P/devices '{"device_name":"after"}')" = 201 ] || fail "writes did not resume after space was freed"
ok "space freed: writes resume without a restart"
stop_cloud
