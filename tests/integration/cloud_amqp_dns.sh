#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 60
# `smartcfg cloud --rabbitmq amqp://USER@NAME:PORT,...` when the DNS server stops answering. As
# integ.cloud_broker_dns: a network namespace of the test's own whose resolv.conf names a DNS
# server of the test's (lib/dns_stub.py, glibc's defaults: 5 s x 2 attempts), which it silences;
# one real RabbitMQ node inside it (scripts/cluster-lib.sh). rabbitmq-c looked each node's name
# up itself, blocking, on the cloud's main loop, at the start and at every reconnect.
#   0. (DNS answering) a name whose first address refuses: the worker connects to its second;
#   1. DNS silent, NAME3 first and 127.0.0.1 second: the worker is ready through the second node
#      within READY_MAX ms (the old code waited out the lookup, 10 s, and then the auth list's
#      own lookup of NAME3, 10 s more); NAME3's auth questions are answered once DNS is back
#      (before: refused for good);
#   2. DNS silent, NAME the only node: a SIGTERM 1 s into the start's lookup ends the cloud
#      within STOP_MAX ms, exit 0;
#   3. started with DNS answering, then DNS silent and the node restarted: the worker reconnects
#      to NAME's address from its last good lookup (before: every reconnect's lookup failed);
#   4. DNS silent, the node gone again: a SIGTERM during the reconnects' lookups ends the cloud
#      within STOP_MAX ms;
#   2b (before 3). DNS silent, --rabbitmq-management http://NAME:PORT: a deleted device's close
#      fails within MGMT_FAIL_MAX ms and a SIGTERM during the next close's lookup ends the cloud
#      within STOP_MAX ms (F192: 10 s each before).
READY_MAX=6000 STOP_MAX=1500 RECONNECT_MAX=15000 MGMT_FAIL_MAX=8500
. "$(dirname "$0")/lib/dns_ns.bash"
dns_ns_enter sc-amqpdns "$0" "$@"
. "$(dirname "$0")/lib/cloud.bash"
NAME=rmq.sc-dns.test
! grep -q "sc-dns.test" /etc/hosts || fail "the test's names are in /etc/hosts"
# NAME2: two addresses, the first refusing (127.0.0.1 would be put first by glibc's sorting
# whatever the answer's order: the node is reached on 127.0.0.2 through a relay)
NAME2=two.sc-dns.test
# NAME3: a node name at an address of its own, whose auth questions come from there
NAME3=far.sc-dns.test
dns_stub_start "$T/dns.out" "$T/dns.log" "$NAME=127.0.0.1" "$NAME2=127.0.0.3,127.0.0.2" "$NAME3=127.0.0.4" \
    --silent-if "$T/dns.silent" || fail "the DNS stub did not start: $(cat "$T/dns.log")"
g=$(dns_addrs "$NAME")
[ "$g" = 127.0.0.1 ] || fail "$NAME does not resolve through the stub ('$g'): $(cat "$T/dns.log")"
g=$(dns_addrs "$NAME2")
[ "$g" = "127.0.0.3 127.0.0.2" ] || fail "$NAME2 does not give 127.0.0.3 first ('$g'): the case cannot be made here"

CL_DIR="$T/cluster"
mkdir -p "$CL_DIR"
. "${SC_SRC:?}/scripts/cluster-lib.sh"
trap 'rc=$?; set +e; cl_cleanup; (exit $rc); cleanup' EXIT
SVC_PASS=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
cl_rmq_setup 1 "$BASE"
cl_rmq_cluster 1 smartcfg-worker "$SVC_PASS" || fail "RabbitMQ did not start"
P=${CL_AMQP[0]}
export SMARTCFG_RABBITMQ_PASSWORD=$SVC_PASS
ok "RabbitMQ node up (AMQP 127.0.0.1:$P), $NAME resolving through the test's DNS server"
ms() { date +%s%3N; }
FAILED=""
bad() { echo "FAIL: $*" >&2; FAILED="$FAILED; $*"; }
# run_cloud NAME RABBITMQ-URL: a worker in the background, its lines in $T/NAME.{out,err}; RPID
run_cloud() {
    "$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --db "$T/$1.db" --json --rabbitmq "$2" \
        > "$T/$1.out" 2> "$T/$1.err" &
    RPID=$!
}
# stop_in NAME MAX: SIGTERM, then its exit status and how long it took (STATUS, TOOK)
stop_in() {
    local t0; t0=$(ms)
    kill -TERM $RPID; STATUS=0; wait $RPID || STATUS=$?; TOOK=$(($(ms) - t0))
    [ $STATUS -eq 0 ] || bad "$1: exit $STATUS (want 0): $(tail -3 "$T/$1.err")"
    [ $TOOK -le $2 ] || bad "$1: the stop took $TOOK ms (want <= $2)"
}

# 0. DNS answering, NAME2's first address refusing: the worker goes on to its second (as
# rabbitmq-c's own lookup did: each address of the answer in turn; a regression guard).
python3 "$(dirname "$0")/lib/tcp_freeze.py" "127.0.0.2:$P" "127.0.0.1:$P" "$T/relay.never" > "$T/relay.out" 2>&1 &
for _ in $(seq 50); do grep -qs listening "$T/relay.out" && break; sleep 0.1; done
grep -q listening "$T/relay.out" || fail "the relay did not start: $(cat "$T/relay.out")"
! (exec 3<>/dev/tcp/127.0.0.3/$P) 2>/dev/null || fail "127.0.0.3:$P answers: it must refuse"
run_cloud two "amqp://smartcfg-worker@$NAME2:$P"
wait_ready "$T/two.out" $RPID 10 || bad "$NAME2 (127.0.0.3 refusing, then 127.0.0.2): not ready: $(tail -3 "$T/two.err")"
stop_in two $STOP_MAX
ok "$NAME2, its first address refusing: ready through its second"

# 1. DNS silent, the named node first: ready through the second.
touch "$T/dns.silent"
t0=$(ms)
run_cloud first "amqp://smartcfg-worker@$NAME3:$P,127.0.0.1:$P"
up=""
wait_ready "$T/first.out" $RPID 15 && up=1
took=$(($(ms) - t0))
if [ -z "$up" ]; then
    bad "DNS silent, $NAME3 first: not ready within 15 s: $(tail -3 "$T/first.err")"
elif [ $took -gt $READY_MAX ]; then
    bad "DNS silent, $NAME3 first: ready after $took ms (want <= $READY_MAX)"
else
    grep '"event":"service_connected"' "$T/first.out" | grep -q '"host":"127.0.0.1"' ||
        bad "ready, but not through 127.0.0.1: $(grep '"event":"service_connected"' "$T/first.out")"
    grep -q "RabbitMQ node $NAME3: no answer from the resolver within 2 s; trying the next node" "$T/first.err" ||
        bad "no word about the silent node's name"
    ok "DNS silent, $NAME3:$P first: ready through 127.0.0.1:$P after $took ms"
fi
# 1b. NAME3 is also in the default --rabbitmq-auth-from list: its auth questions (from
# 127.0.0.4) are refused while its name has no answer, and answered once it has one (the
# lookup under way since the start gets the answer at glibc's second attempt, 5 s in).
asked_from() {   # the HTTP status of an auth question from 127.0.0.4
    python3 - "$HTTP_PORT" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5, source_address=("127.0.0.4", 0))
c.request("POST", "/rabbitmq/vhost", "username=x&vhost=%2F&ip=127.0.0.4",
          {"Content-Type": "application/x-www-form-urlencoded"})
print(c.getresponse().status)
PY
}
[ "$(asked_from)" = 403 ] || bad "an auth question from $NAME3's address while its name has no answer: not 403"
rm -f "$T/dns.silent"
st="" t0=$(ms)
for _ in $(seq 150); do st=$(asked_from); [ "$st" = 200 ] && break; sleep 0.1; done
if [ "$st" = 200 ]; then
    ok "$NAME3's auth questions: 403 while DNS was silent, answered $(($(ms) - t0)) ms after it answered again"
else
    bad "$NAME3's auth questions after DNS answered again: still $st after 15 s"
fi
touch "$T/dns.silent"
stop_in first $STOP_MAX

# 2. DNS silent, the name the only node: SIGTERM 1 s into the lookup.
run_cloud only "amqp://smartcfg-worker@$NAME:$P"
sleep 1
kill -0 $RPID 2>/dev/null || fail "the cloud ended before the stop: $(cat "$T/only.err")"
stop_in only $STOP_MAX
ok "a SIGTERM while the start looks $NAME up on a silent DNS server: exit $STATUS after $TOOK ms"

# 2b. DNS silent, --rabbitmq-management naming its host (F192): a deleted device's close goes
# to the management API, whose name has no answer. libcurl's threaded resolver was joined when
# a request ended during its lookup: the request's 3 s connect timeout took glibc's 10 s, and
# a stop during it waited as long in the revocation thread. The management server need not
# exist: the lookup is all that is waited on.
MGMT=mgmt.sc-dns.test
"$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --db "$T/mgmt.db" --json --rabbitmq "amqp://smartcfg-worker@127.0.0.1:$P" \
    --rabbitmq-management "http://$MGMT:15672" > "$T/mgmt.out" 2> "$T/mgmt.err" &
RPID=$!
wait_ready "$T/mgmt.out" $RPID 15 || fail "with --rabbitmq-management on a silent DNS: not ready: $(tail -3 "$T/mgmt.err")"
post /v1/products '{"product_id":"DNSMGMT001"}' > /dev/null
for d in gone1 gone2; do post /v1/products/DNSMGMT001/devices "{\"device_name\":\"$d\"}" > /dev/null; done
unreachable() { grep -c "RabbitMQ management API unreachable" "$T/mgmt.err" || true; }
was="$FAILED" t0=$(ms)
curl -sf -X DELETE -H "$(admin_auth)" "$BASE/v1/products/DNSMGMT001/devices/gone1" > /dev/null || fail "DELETE gone1"
for _ in $(seq 200); do [ "$(unreachable)" -ge 1 ] && break; sleep 0.1; done
took=$(($(ms) - t0))
if [ "$(unreachable)" -lt 1 ]; then
    bad "a close through $MGMT on a silent DNS: no failure logged within 20 s"
elif [ $took -gt $MGMT_FAIL_MAX ]; then
    bad "a close through $MGMT on a silent DNS: failed after $took ms (want <= $MGMT_FAIL_MAX: the close's 2.5 s wait and the 3 s connect timeout)"
fi
# the next close: the stop comes 1 s into its lookup (its due time 2.5 s after the DELETE, the
# revocation thread's look every second at most)
curl -sf -X DELETE -H "$(admin_auth)" "$BASE/v1/products/DNSMGMT001/devices/gone2" > /dev/null || fail "DELETE gone2"
sleep 4.5
stop_in mgmt $STOP_MAX
[ "$FAILED" != "$was" ] || ok "DNS silent, --rabbitmq-management http://$MGMT: a close failed after $took ms (the 3 s connect timeout kept); a SIGTERM during the next one's lookup stopped the cloud in $TOOK ms"

# 3. DNS answering at the start; then silent, and the node restarted.
rm -f "$T/dns.silent"
run_cloud named "amqp://smartcfg-worker@$NAME:$P"
wait_ready "$T/named.out" $RPID 15 || fail "not ready with DNS answering: $(tail -3 "$T/named.err")"
touch "$T/dns.silent"
cl_rmq_kill 0
for _ in $(seq 100); do grep -q '"event":"service_lost"' "$T/named.out" && break; sleep 0.1; done
grep -q '"event":"service_lost"' "$T/named.out" || fail "the worker did not see the node go"
cl_rmq_start 0
cl_rmq_wait 0 60 || fail "RabbitMQ did not start again"
t0=$(ms) up=""
for _ in $(seq $((RECONNECT_MAX / 100))); do
    [ "$(grep -c '"event":"service_connected"' "$T/named.out")" -ge 2 ] && { up=1; break; }
    sleep 0.1
done
took=$(($(ms) - t0))
if [ -n "$up" ]; then
    ok "DNS silent, the node restarted: reconnected to $NAME's known address $took ms after it was back"
else
    bad "DNS silent, the node restarted: no reconnect within $RECONNECT_MAX ms: $(grep -v '^{' "$T/named.err" | tail -3)"
fi
r=""
for _ in $(seq 50); do r=$(curl -s --max-time 2 "$BASE/readyz" || true); [ "$r" = '{"ready":true}' ] && break; sleep 0.1; done
[ "$r" = '{"ready":true}' ] || bad "/readyz 5 s after the reconnect: '$r'"

# 4. DNS silent, the node gone: a stop while the reconnects look the name up. The signal comes
# 5.5 s after a failed try is logged: past the longest back-off (5 s), so inside the next
# try's lookup, which took 10 s on the main loop before.
tries() { grep -c "cannot reach RabbitMQ at $NAME:$P" "$T/named.err" || true; }
n0=$(tries)
cl_rmq_kill 0
for _ in $(seq 250); do [ "$(tries)" -gt "$n0" ] && break; sleep 0.1; done
[ "$(tries)" -gt "$n0" ] || bad "no failed reconnect logged within 25 s of the node's end"
sleep 5.5
stop_in named $STOP_MAX
ok "DNS silent, the node gone: SIGTERM stopped the cloud in $TOOK ms, exit $STATUS"
! grep -q "$SVC_PASS" "$T"/*.err "$T"/*.out || bad "the RabbitMQ password in the log"
[ -z "$FAILED" ] || fail "${FAILED#; }"
