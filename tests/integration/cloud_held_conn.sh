#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 20
# A pool thread held by a request that waits on the database still answers the connections it
# took meanwhile (docs/cloud.md "Limits"; F196, F197). Another process holds the registry's
# SQLite write lock; bind-token requests ("holders") each hold the thread that serves them on
# SQLite's 5 s busy wait, and other clients' connections ("waiters"), accepted by the same
# thread in the same turn, send their request while it is held (lib/held_conns.py stops the
# cloud a moment so that the accepts come together). Before, a waiter was closed with no answer
# when the thread came back (libmicrohttpd's 5 s idle timeout, and the 10 s header deadline
# after two holds, counted time the server did not read); and a holder answered only after
# 25 s, the registry's clean-up waiting 5 s on each of its four statements first.
. "$(dirname "$0")/lib/cloud.bash"
HOLDER_MAX=15   # s: a holder's own wait (1 s for the lock + SQLite's 5 s) after at most one other's
ROUNDS=5

start_cloud --http-threads 2
python3 - "$DB" "$T/release" > "$T/holder.out" 2>&1 <<'PY' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
c.execute("ROLLBACK")
PY
LOCKER=$!
for _ in $(seq 100); do grep -q locked "$T/holder.out" && break; sleep 0.1; done
grep -q locked "$T/holder.out" || fail "the lock holder did not start: $(cat "$T/holder.out")"

# A waiter answered later than 4 s sat on a held thread (the holder's wait is 5 s; a waiter on
# the free thread is answered busy at once); later than 9 s, on a thread held twice in a row.
held=0; twice=0
for r in $(seq $ROUNDS); do
    python3 "$(dirname "$0")/lib/held_conns.py" "$HTTP_PORT" "$CLOUD_PID" "$ACCESS" 2 6 1.0 > "$T/round.$r" ||
        fail "round $r: held_conns.py failed"
    ! grep -q ' closed ' "$T/round.$r" ||
        fail "round $r: a connection closed with no answer while its thread was held: $(tr '\n' ';' < "$T/round.$r")"
    ! awk '$2 != 200 && $2 != 503' "$T/round.$r" | grep -q . || fail "round $r: $(tr '\n' ';' < "$T/round.$r")"
    slow=$(awk -v m=$HOLDER_MAX '$1 == "holder" && ($4 > m || $4 < 0)' "$T/round.$r")
    [ -z "$slow" ] || fail "round $r: a holder answered after more than $HOLDER_MAX s: $(tr '\n' ';' < "$T/round.$r")"
    awk '$1 == "holder" && $3 == "InternalError.DatabaseUnavailable"' "$T/round.$r" | grep -q . ||
        fail "round $r: no holder waited on the database: $(tr '\n' ';' < "$T/round.$r")"
    h=$(awk '$1 == "waiter" && $4 > 4' "$T/round.$r" | wc -l)
    t=$(awk '$1 == "waiter" && $4 > 9' "$T/round.$r" | wc -l)
    held=$((held + h)); twice=$((twice + t))
    echo "# round $r: $(awk '{print $1, $2, $3}' "$T/round.$r" | sort | uniq -c | tr -s ' \n' ' ')"
    [ "$twice" -gt 0 ] && break   # both cases seen
done
[ "$held" -gt 0 ] || fail "in $r rounds no waiter shared a thread with a holder: nothing was checked"
ok "registry locked elsewhere: $held waiter(s) on a held pool thread answered, none closed ($twice after two holds in a row); each holder answered within $HOLDER_MAX s"
[ "$twice" -gt 0 ] || echo "# no thread was held twice in a row in $r rounds (the header deadline's part was not exercised)"

touch "$T/release"
wait "$LOCKER" || fail "the lock holder failed: $(cat "$T/holder.out")"
wait_readyz '{"ready":true} 200' 8 "after the lock was released"
read -r code _ <<<"$(curl -s -o "$T/after" -w '%{http_code} x' --max-time 10 -X POST "$BASE/tokenapi?cmd=AppCreateDeviceBindToken" \
    -d "{\"Action\":\"AppCreateDeviceBindToken\",\"AccessToken\":\"$ACCESS\"}")"
[ "$code" = 200 ] && [ "$(jget code < "$T/after")" = 0 ] || fail "token API after the release: $code $(cat "$T/after")"
ok "lock released: the token API answers"
