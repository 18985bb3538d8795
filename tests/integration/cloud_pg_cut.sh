#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 40
# A PostgreSQL server that vanishes while a query waits for its answer (a host down, a network
# cut: nothing comes back, not even a reset) must not hold the cloud's API for hours (F92,
# docs/security.md). The server's processes are stopped (their kernel still acknowledges the
# query: it is in flight), then the route to the server is a blackhole in this test's own
# namespace, then the processes go on (their answers go nowhere). The token request that waits
# on it is answered within ANSWER_MAX s (the API's wait for a server that does not answer, 3 s,
# F201, F209; libpq's keepalives, ~11 s, before it: with the system's, 2 hours, it held the API's
# lock, and every other request was 503 busy, that long); the route back, the token API
# answers again and /readyz is ready. cloud_pg covers a server that hangs with its host up (a
# relay that stops passing bytes), cloud_pg_stall one whose processes are stopped.
. "$(dirname "$0")/lib/netns_self.bash"
netns_self SC_CLOUD_PG_CUT_NS scpgcut "$0"
. "$(dirname "$0")/lib/cloud.bash"
. "$(dirname "$0")/lib/pg.bash"
ANSWER_MAX=6   # s: HTTP_SERVER_WAIT_MS (3 s) after the query went out, and a loaded machine's margin

# The server's address, and a policy rule that can send it into a blackhole: the local table's
# rule (preference 0, consulted first) moves behind it.
SRV=10.99.0.1
ip addr add "$SRV/32" dev lo || fail "cannot add $SRV"
ip route add blackhole default table 99 || fail "cannot make the blackhole table"
{ ip rule add pref 100 lookup local && ip rule del pref 0; } || fail "cannot move the local rule"
cut() { ip rule add pref 10 to "$SRV/32" lookup 99; }
mend() { ip rule del pref 10; }

PGPIDS=()
thaw_pg() { [ ${#PGPIDS[@]} -eq 0 ] || kill -CONT "${PGPIDS[@]}" 2>/dev/null; }   # a stopped server does not stop
pg_on_exit thaw_pg
pg_init "$(free_port)" "$SRV"
pg_start
export XDG_DATA_HOME="$T/data"   # a database server has no "beside": key, TLS and firmware go here
start_cloud --db "postgresql://smartcfg:$PGPASS@$SRV:$PGPORT/postgres" --admin-key-file "$ADMIN_KEY_FILE"
families() {   # FILE -> "HTTP-code seconds"
    curl -s -o "$1" -w '%{http_code} %{time_total}' --max-time "${2:-60}" -X POST "$BASE/tokenapi?cmd=AppGetFamilyList" \
        -d "{\"Action\":\"AppGetFamilyList\",\"AccessToken\":\"$ACCESS\"}" || echo "000 ${2:-60}"
}
read -r code _ <<<"$(families "$T/before")"
[ "$code" = 200 ] || fail "token API before the cut: $code $(cat "$T/before")"

# The server hangs (its processes stopped: their kernel still acknowledges), a request's query
# goes out and is acknowledged, then the host is gone (the blackhole) and the server goes on.
PM=$(head -1 "$PGDIR/data/postmaster.pid")
mapfile -t PGPIDS < <(echo "$PM"; ps -o pid= --ppid "$PM" | tr -d ' ')
kill -STOP "${PGPIDS[@]}"
families "$T/stuck" 90 > "$T/stuck.res" &
STUCK=$!
sleep 1
cut
CUT=$(date +%s%N)
kill -CONT "${PGPIDS[@]}"
for _ in $(seq $((ANSWER_MAX * 10))); do kill -0 $STUCK 2>/dev/null || break; sleep 0.1; done
took=$(( ($(date +%s%N) - CUT) / 1000000 ))
kill -0 $STUCK 2>/dev/null && fail "a token request waiting on a vanished database not answered within $ANSWER_MAX s"
wait $STUCK
read -r code _ <<<"$(cat "$T/stuck.res")"
[ "$code" = 503 ] || [ "$code" = 500 ] || fail "the request on the vanished database: $code $(cat "$T/stuck")"
grep -q '"Token"' "$T/stuck" && fail "an answer with a token from a vanished database"
ok "database gone without a reset mid-query: the request answered $code after $took ms (bound $ANSWER_MAX s)"

mend
ready=""
for _ in $(seq 150); do
    read -r code _ <<<"$(families "$T/after" 5)"
    [ "$code" = 200 ] && [ "$(curl -s --max-time 1 "$BASE/readyz")" = '{"ready":true}' ] && { ready=1; break; }
    sleep 0.2
done
[ -n "$ready" ] || fail "the database back, the token API ($code $(cat "$T/after")) or /readyz not back within 30 s"
ok "the route back: the token API answers 200 and /readyz is ready"
