#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A pool thread held by a request that waits on the database still answers the connections it
# took meanwhile (docs/cloud.md "Limits"; F196, F197). Another process holds the registry's
# SQLite write lock; bind-token requests ("holders") each hold the thread that serves them on
# SQLite's busy wait, and other clients' connections ("waiters"), accepted by the same thread in
# the same turn, send their request while it is held (lib/held_conns.py stops the cloud a moment
# so that the accepts come together). Before, a waiter was closed with no answer when the thread
# came back: libmicrohttpd's 5 s idle timeout ran while SQLite waited its 5 s (and the reaper's
# 10 s header deadline after two such waits in a row); and a holder answered only after 25 s,
# the registry's clean-up waiting 5 s on each of its four statements first. Now a holder waits
# 2 s (HTTP_LOCK_WAIT_MS), and its thread's next requests are answered busy, not waited again.
. "$(dirname "$0")/lib/cloud.bash"
HOLDER_MAX=4.5  # s: a holder's answer: SQLite's 2 s wait (+ the clean-up's 50 ms) and a margin (before: 25 s)
HELD=1.2        # s: a waiter answered later than this sat on a held thread (sent at 0.3 s; a free thread answers at once)
ROUNDS=5

start_cloud --http-threads 2
db_lock_hold

held=0
for r in $(seq $ROUNDS); do
    python3 "$(dirname "$0")/lib/held_conns.py" "$HTTP_PORT" "$CLOUD_PID" "$ACCESS" 3 6 0.3 > "$T/round.$r" ||
        fail "round $r: held_conns.py failed"
    ! grep -q ' closed ' "$T/round.$r" ||
        fail "round $r: a connection closed with no answer while its thread was held: $(tr '\n' ';' < "$T/round.$r")"
    ! awk '$2 != 200 && $2 != 503' "$T/round.$r" | grep -q . || fail "round $r: $(tr '\n' ';' < "$T/round.$r")"
    slow=$(awk -v m=$HOLDER_MAX '$1 == "holder" && ($4 > m || $4 < 0)' "$T/round.$r")
    [ -z "$slow" ] || fail "round $r: a holder answered after more than $HOLDER_MAX s: $(tr '\n' ';' < "$T/round.$r")"
    awk '$1 == "holder" && $3 == "InternalError.DatabaseUnavailable"' "$T/round.$r" | grep -q . ||
        fail "round $r: no holder waited on the database: $(tr '\n' ';' < "$T/round.$r")"
    h=$(awk -v m=$HELD '$1 == "waiter" && $4 > m' "$T/round.$r" | wc -l)
    held=$((held + h))
    sed "s/^/# /" "$T/round.$r"
    echo "# round $r: $(awk '{print $1, $2, $3}' "$T/round.$r" | sort | uniq -c | tr -s ' \n' ' ')"
    [ "$held" -gt 0 ] && break
done
[ "$held" -gt 0 ] || fail "in $r rounds no waiter shared a thread with a holder: nothing was checked"
ok "registry locked elsewhere: $held waiter(s) on a held pool thread answered, none closed; each holder answered within $HOLDER_MAX s"

db_lock_release
wait_readyz '{"ready":true} 200' 8 "after the lock was released"
read -r code _ <<<"$(curl -s -o "$T/after" -w '%{http_code} x' --max-time 10 -X POST "$BASE/tokenapi?cmd=AppCreateDeviceBindToken" \
    -d "{\"Action\":\"AppCreateDeviceBindToken\",\"AccessToken\":\"$ACCESS\"}")"
[ "$code" = 200 ] && [ "$(jget code < "$T/after")" = 0 ] || fail "token API after the release: $code $(cat "$T/after")"
ok "lock released: the token API answers"
