#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 40
# `smartcfg cloud --broker NAME:PORT` when the DNS server stops answering. The test runs in a
# network namespace of its own whose resolv.conf (/etc/netns/NS/resolv.conf, which `ip netns
# exec` mounts over /etc/resolv.conf) names a DNS server of the test's (lib/dns_stub.py) on
# 127.0.0.53; NAME is in no hosts file. glibc's resolver waits 5 s for each of its 2 attempts
# on a server that does not answer, so a lookup on the cloud's main loop held the loop, and a
# stop signal, 10 s at a time (20 s when the reconnect looked the name up twice), and a broker
# lost while DNS was away was never reached again, its address being known all along.
#   1. a stop while the first lookup waits on the silent server ends the startup at once;
#   2. DNS silent, the broker restarted: the binding service reconnects to the address the last
#      good lookup gave; /readyz answers meanwhile;
#   2b. DNS silent, the broker flapping: the lookup threads and their sockets stay bounded;
#   3. DNS silent, the broker gone: a SIGTERM stops the cloud at once (exit 0);
#   4. a round-robin name (the server rotates its two addresses at each answer), the broker at
#      the one the first answer puts second: the startup's fallback reaches it (it tried the
#      same address twice when it looked the name up again and got the other order).
. "$(dirname "$0")/lib/dns_ns.bash"
dns_ns_enter sc-dns "$0" "$@"
. "$(dirname "$0")/lib/cloud.bash"
command -v mosquitto >/dev/null || fail "no mosquitto broker"
NAME=broker.sc-dns.test RR=rr.sc-dns.test
! grep -q "sc-dns.test" /etc/hosts || fail "the test's names are in /etc/hosts"
dns_stub_start "$T/dns.out" "$T/dns.log" "$NAME=127.0.0.1" --silent-if "$T/dns.silent" \
    || fail "the DNS stub did not start: $(cat "$T/dns.log")"
DNSPID=$DNS_PID
g=$(dns_addrs "$NAME")
[ "$g" = 127.0.0.1 ] || fail "$NAME does not resolve through the stub ('$g'): $(cat "$T/dns.log")"

BPORT=$(free_port)
BADDR=127.0.0.1
broker_up() {
    printf 'listener %s %s\nallow_anonymous true\n' "$BPORT" "$BADDR" > "$T/mosquitto.conf"
    mosquitto -c "$T/mosquitto.conf" >> "$T/broker.log" 2>&1 &
    BRPID=$!
    for _ in $(seq 100); do (exec 3<>/dev/tcp/$BADDR/$BPORT) 2>/dev/null && return 0; sleep 0.1; done
    fail "mosquitto did not listen on $BADDR:$BPORT: $(cat "$T/broker.log")"
}
broker_down() { kill $BRPID 2>/dev/null; wait $BRPID 2>/dev/null || true; }
broker_up
trap 'rc=$?; set +e; broker_down; (exit $rc); cleanup' EXIT
export SMARTCFG_SERVICE_USER=svc-user SMARTCFG_SERVICE_PASSWORD=svc-secret-pw-4711
ms() { date +%s%3N; }
FAILED=""
bad() { echo "FAIL: $*" >&2; FAILED="$FAILED; $*"; }

# 1. The startup's lookup on a silent server, a SIGTERM 1 s in: the stop ends it at once.
touch "$T/dns.silent"
"$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --db "$T/start.db" --broker "$NAME:$BPORT" \
    > "$T/start.out" 2> "$T/start.err" &
SPID=$!
sleep 1
kill -0 $SPID 2>/dev/null || fail "the cloud ended before the stop: $(cat "$T/start.err")"
t0=$(ms); kill -TERM $SPID; rc=0; wait $SPID || rc=$?; took=$(($(ms) - t0))
[ $rc -eq 0 ] || bad "a stop during the startup's lookup: exit $rc (want 0): $(tail -3 "$T/start.err")"
[ $took -le 3000 ] || bad "a stop during the startup's lookup took $took ms (want <= 3000)"
ok "a stop while the startup's lookup waits on a silent DNS server: exit $rc after $took ms"
rm -f "$T/dns.silent"

# 2. Started with DNS answering; then DNS silent and the broker restarted.
NO_LOGIN=1 start_cloud --broker "$NAME:$BPORT"
wait_readyz '{"ready":true} 200' 10 "with the broker reached"
# no lookup under way now: the cloud's own threads and descriptors (phase 2b's baseline)
nthreads() { ls "/proc/$CLOUD_PID/task" | wc -l; }
nfds() { ls "/proc/$CLOUD_PID/fd" | wc -l; }
th0=$(nthreads) fd0=$(nfds)
connects() { grep -c '"event":"service_connected"' "$T/cloud.events"; }
touch "$T/dns.silent"
broker_down
wait_readyz '{"ready":false,"reason":"broker"} 503' 10 "with the broker gone"
sleep 2   # reconnects under way, each asking the silent server
t0=$(ms); r0=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$BASE/readyz" || true); rz=$(($(ms) - t0))
[ "$r0" = 503 ] && [ $rz -le 1500 ] || bad "/readyz while DNS is silent: '$r0' after $rz ms (want 503 within 1500 ms)"
t0=$(ms)
broker_up
up=""
for _ in $(seq 150); do [ "$(connects)" -ge 2 ] && { up=1; break; }; sleep 0.1; done
took=$(($(ms) - t0))
[ -n "$up" ] || bad "DNS silent, the broker back at the address the name had: no reconnect within 15 s"
# ready: the clients of OTA and of the data template (a network thread each) reconnected too
r=""; end=$((SECONDS + 10))
while [ $SECONDS -le $end ]; do r=$(readyz); [ "$r" = '{"ready":true} 200' ] && break; sleep 0.1; done
tr=$(($(ms) - t0))
[ "$r" = '{"ready":true} 200' ] || bad "DNS silent, the broker back: /readyz still '$r' after $tr ms"
[ -n "$up" ] && ok "DNS silent: the binding service reconnected to the broker's known address $took ms after it came back, ready after $tr ms"
ok "/readyz while the reconnects wait on the silent DNS server: $r0 in $rz ms"

# 2b. DNS still silent, the broker flapping: each reconnect of the three clients wants a lookup,
# each lookup waits 10 s on its thread; a client keeps the one under way instead of starting
# another, so at most 3 lookup threads (and their sockets) exist at any time, however many
# reconnects (a thread and a socket per reconnect would pile up: 10 s each, a reconnect every 1 to 2 s).
thmax=0 fdmax=0
for _ in 1 2 3 4 5; do
    broker_down; sleep 1; broker_up; sleep 1.5
    t=$(nthreads) f=$(nfds)
    [ $t -gt $thmax ] && thmax=$t
    [ $f -gt $fdmax ] && fdmax=$f
done
if [ $thmax -gt $((th0 + 3)) ]; then bad "DNS silent, the broker flapping: $thmax threads (want <= $th0 + 3 lookups)"
elif [ $fdmax -gt $((fd0 + 6)) ]; then bad "DNS silent, the broker flapping: $fdmax descriptors (want <= $fd0 + 6)"
else ok "DNS silent, the broker flapping 5 times: at most $thmax threads ($th0 before), $fdmax descriptors ($fd0 before)"
fi

# 3. DNS silent, the broker gone: SIGTERM (reconnects, each waiting for a lookup, under way).
broker_down
sleep 3
t0=$(ms); kill -TERM "$CLOUD_PID"; rc=0; wait "$CLOUD_PID" || rc=$?; took=$(($(ms) - t0)); CLOUD_PID=""
[ $rc -eq 0 ] || bad "the stop with DNS silent and the broker gone: exit $rc"
[ $took -le 3000 ] || bad "the stop with DNS silent and the broker gone took $took ms (want <= 3000)"
ok "DNS silent, the broker gone: SIGTERM stopped the cloud in $took ms, exit $rc"
! grep -q "$SMARTCFG_SERVICE_PASSWORD" "$T/cloud.err" "$T/cloud.events" "$T/start.err" || bad "the service password in the log"
rm -f "$T/dns.silent"

# 4. A round-robin name: 127.0.0.3 (refuses) and 127.0.0.2 (the broker), rotated at each answer
# (not 127.0.0.1: glibc's sorting, RFC 6724's longest matching prefix, puts the source address
# itself first whatever the order of the answer).
BADDR=127.0.0.2
broker_up
kill $DNSPID; wait $DNSPID 2>/dev/null || true
dns_stub_start "$T/dns2.out" "$T/dns2.log" "$RR=127.0.0.3,127.0.0.2" --rotate \
    || fail "the second DNS stub did not start: $(cat "$T/dns2.log")"
o1=$(dns_addrs "$RR"); o2=$(dns_addrs "$RR")
[ "$o1" = "127.0.0.3 127.0.0.2" ] && [ "$o2" = "127.0.0.2 127.0.0.3" ] ||
    fail "the resolver does not keep the round-robin order ('$o1', then '$o2'): the case cannot be made here"
# two A answers so far: the cloud's first lookup gets 127.0.0.3 first
! (exec 3<>/dev/tcp/127.0.0.3/$BPORT) 2>/dev/null || fail "127.0.0.3:$BPORT answers: it must refuse"
rc=0
timeout 30 "$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --db "$T/rr.db" --json --broker "$RR:$BPORT" \
    > "$T/rr.out" 2> "$T/rr.err" &
RPID=$!
if wait_ready "$T/rr.out" $RPID 15; then
    kill -TERM $RPID; wait $RPID || bad "the round-robin run's stop: exit $?"
    ok "a round-robin name whose first answer's first address refuses: started through its other address"
else
    kill -TERM $RPID 2>/dev/null || true; wait $RPID 2>/dev/null || true
    bad "a round-robin name, the broker at its second address: no start: $(grep -m1 'cannot reach' "$T/rr.err" || tail -1 "$T/rr.err")"
fi
[ -z "$FAILED" ] || fail "${FAILED#; }"
