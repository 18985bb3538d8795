#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The backup docs/cloud.md "Backup" gives: sqlite3's online .backup of a running cloud, taken
# while devices are being created, is a consistent registry (integrity_check ok, every device
# the API had confirmed when the backup began is there), the cloud's writes all succeed meanwhile,
# and a cloud started on the copy serves those devices. A plain copy of cloud.db misses what is
# still in the WAL (shown, not relied on).
. "$(dirname "$0")/lib/cloud.bash"
command -v sqlite3 >/dev/null || fail "sqlite3 not installed (make deps)"
start_cloud
P=BACKUP0001
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
for i in $(seq 20); do post /v1/products/$P/devices "{\"device_name\":\"a$i\"}" >/dev/null; done
( for i in $(seq 120); do
      curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "$(admin_auth)" "$BASE/v1/products/$P/devices" -d "{\"device_name\":\"b$i\"}"
  done > "$T/codes" ) &
W=$!
sleep 0.3
(umask 077; sqlite3 "$DB" ".backup $T/backup.db") || fail "online backup failed"
cp "$DB" "$T/plain.db"
wait $W
[ "$(sort -u "$T/codes")" = 201 ] || fail "writes failed during the backup: $(sort "$T/codes" | uniq -c)"
[ "$(sqlite3 "$T/backup.db" 'PRAGMA integrity_check')" = ok ] || fail "the backup is not consistent"
n=$(sqlite3 "$T/backup.db" "SELECT count(*) FROM devices WHERE product_id='$P'")
[ "$n" -ge 20 ] && [ "$n" -le 140 ] || fail "the backup holds $n devices"
[ "$(stat -c %a "$T/backup.db")" = 600 ] || fail "the backup is readable by others"
echo "plain copy of cloud.db alone: $(sqlite3 "$T/plain.db" "SELECT count(*) FROM devices" 2>&1) devices (the rest was in the WAL)"
ok "online backup during 120 device creations: consistent, $n devices, 0600, no write failed"
stop_cloud
mv "$T/backup.db" "$DB"
rm -f "$DB-wal" "$DB-shm"
NO_LOGIN=1 start_cloud
[ "$(get /v1/products/$P/devices | jq '.devices | length')" = "$n" ] || fail "the restored cloud does not list the $n devices: $(get /v1/products/$P/devices | head -c 200)"
ok "a cloud started on the copy serves the $n devices"
stop_cloud
