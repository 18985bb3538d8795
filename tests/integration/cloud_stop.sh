#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 60
# `smartcfg cloud --broker` against a broker that a test steers (lib/mqtt_ctl_broker.py):
#  - SIGTERM while the broker has died and every MQTT client of the cloud is inside a reconnect
#    that hangs (its SYNs dropped) ends within the stop's bound (docs/cloud.md: 7 s), well
#    under Docker's 10 s grace; the clients used to be waited for one after the other (12 s+);
#  - GET /readyz says 503 broker until every subscription the cloud needs is granted by a
#    SUBACK (held back, refused with 0x80: the refused filter named in the log), and again
#    after a reconnect until the new SUBACKs come; a refused filter is asked for again on the
#    same connection, every 5 s, and granted once the broker allows it.
. "$(dirname "$0")/lib/cloud.bash"

BPORT=$(free_port)
CTL="$T/ctl"; mkdir "$CTL"
export SMARTCFG_SERVICE_USER=svc-user SMARTCFG_SERVICE_PASSWORD=svc-secret-pw-4711
python3 "$CLOUD_LIB_TOP/tests/integration/lib/mqtt_ctl_broker.py" "$BPORT" "$CTL" > "$T/broker.log" 2>&1 &
BRPID=$!
for _ in $(seq 100); do grep -q '^listening' "$T/broker.log" && break; sleep 0.1; done
grep -q '^listening' "$T/broker.log" || fail "the test broker did not start"

NOTREADY='{"ready":false,"reason":"broker"} 503'
READY='{"ready":true} 200'
# the three clients of the cloud (binding service, data template, OTA) and what each subscribes
nsubs() { grep -c '^subscribe ' "$T/broker.log" || true; }

# --- /readyz and the SUBACKs ---
touch "$CTL/hold"
NO_LOGIN=1 start_cloud --broker 127.0.0.1:$BPORT
for _ in $(seq 100); do [ "$(grep -c '^connect ' "$T/broker.log")" -ge 3 ] && break; sleep 0.1; done
[ "$(grep -c '^connect ' "$T/broker.log")" -ge 3 ] || fail "the cloud's three clients did not connect: $(cat "$T/broker.log")"
N1=$(nsubs)
# All three connected (CONNACK 0), their SUBSCRIBEs in, no SUBACK: not ready, and it stays so.
for _ in $(seq 20); do
    [ "$(readyz)" = "$NOTREADY" ] || fail "/readyz with the SUBACKs held: $(readyz) (want 503 broker)"
    sleep 0.1
done
rm "$CTL/hold"
wait_readyz "$READY" 10
ok "/readyz 503 broker while the SUBACKs of the cloud's $N1 subscriptions are held back, 200 once they come"

# A reconnect: not ready again until the new SUBACKs come.
touch "$CTL/hold" "$CTL/drop"
wait_readyz "$NOTREADY" 5
for _ in $(seq 150); do [ "$(nsubs)" -ge $((2 * N1)) ] && break; sleep 0.1; done
[ "$(nsubs)" -ge $((2 * N1)) ] || fail "the clients did not subscribe again: $(cat "$T/broker.log")"
for _ in $(seq 15); do
    [ "$(readyz)" = "$NOTREADY" ] || fail "/readyz after the reconnect, SUBACKs held: $(readyz)"
    sleep 0.1
done
rm "$CTL/hold"
wait_readyz "$READY" 10
ok "after a reconnect: 503 broker until the subscriptions are granted again, then 200"

# A refusal (0x80) of one filter of each client (OTA, binding service, data template): not
# ready, and each refused filter named in the log once (not the password).
printf '%s\n' '$ota/report/+/+' '$thing/up/service/+/+' '$sys/operation/+/+' > "$CTL/refuse"
touch "$CTL/drop"
wait_readyz "$NOTREADY" 5
for _ in $(seq 150); do [ "$(nsubs)" -ge $((3 * N1)) ] && break; sleep 0.1; done
grep -q '^suback .* .*80' "$T/broker.log" || fail "the test broker refused nothing: $(cat "$T/broker.log")"
for _ in $(seq 20); do
    [ "$(readyz)" = "$NOTREADY" ] || fail "/readyz with a subscription refused: $(readyz)"
    sleep 0.1
done
for f in '$ota/report/+/+' '$thing/up/service/+/+' '$sys/operation/+/+'; do
    for _ in $(seq 30); do grep -qF "the broker refused the subscription to $f " "$T/cloud.err" && break; sleep 0.1; done
    grep -qF "the broker refused the subscription to $f " "$T/cloud.err" || fail "no log line naming the refused $f"
done
! grep -q "$SMARTCFG_SERVICE_PASSWORD" "$T/cloud.err" "$T/cloud.events" || fail "the service password in the log"
ok "SUBACKs refusing a filter of each client (0x80): 503 broker, each filter logged, no secret"

# Each refused filter is asked for again on the same connection (every 5 s): refused again, still
# not ready, not logged again; once the broker grants them (its ACL put right), ready without a
# reconnect. Before, only a new connection asked again, and a refusal ends no connection: 503
# until the broker or the cloud restarted.
nsub_of() { grep -cF "$1" "$T/broker.log" | tr -d ' ' || true; }
CONNS=$(grep -c '^connect ' "$T/broker.log")
OTA0=$(nsub_of ' $ota/report/+/+'); SVC0=$(nsub_of ' $thing/up/service/+/+'); SYS0=$(nsub_of ' $sys/operation/+/+')
for _ in $(seq 150); do
    [ "$(nsub_of ' $ota/report/+/+')" -gt "$OTA0" ] && [ "$(nsub_of ' $thing/up/service/+/+')" -gt "$SVC0" ] &&
        [ "$(nsub_of ' $sys/operation/+/+')" -gt "$SYS0" ] && break
    sleep 0.1
done
[ "$(nsub_of ' $ota/report/+/+')" -gt "$OTA0" ] && [ "$(nsub_of ' $thing/up/service/+/+')" -gt "$SVC0" ] &&
    [ "$(nsub_of ' $sys/operation/+/+')" -gt "$SYS0" ] || fail "the refused filters were not asked for again: $(tail -20 "$T/broker.log")"
sleep 0.5   # the repeated refusals' SUBACKs are in
[ "$(readyz)" = "$NOTREADY" ] || fail "/readyz with the subscriptions refused again: $(readyz)"
[ "$(grep -cF 'the broker refused the subscription to $ota/report/+/+ ' "$T/cloud.err")" = 1 ] ||
    fail "the repeated refusal logged again: $(grep -F 'refused the subscription' "$T/cloud.err")"
rm "$CTL/refuse"
wait_readyz "$READY" 12
[ "$(grep -c '^connect ' "$T/broker.log")" = "$CONNS" ] || fail "ready only after a reconnect"
grep -qF 'the broker granted the subscription to $ota/report/+/+ now' "$T/cloud.err" || fail "no word that the refusal ended"
ok "the refused filters asked for again on the same connection: ready once granted, no reconnect"

# --- the stop's bound ---
# The broker dies; its port then drops every SYN, so each client's reconnect hangs in
# connect(). Wait until the two threaded clients are inside that reconnect (1 s after the loss,
# doubling: 2.5 s covers the first try), then SIGTERM.
touch "$CTL/die"
for _ in $(seq 50); do grep -q '^dead' "$T/broker.log" && break; sleep 0.1; done
grep -q '^dead' "$T/broker.log" || fail "the test broker did not die"
wait_readyz "$NOTREADY" 5
sleep 2.5
T0=$(date +%s%N)
kill -TERM "$CLOUD_PID"
rc=0; wait "$CLOUD_PID" || rc=$?
T1=$(date +%s%N)
CLOUD_PID=""
MS=$(( (T1 - T0) / 1000000 ))
[ $rc = 0 ] || fail "SIGTERM with the broker dead: exit $rc"
grep -q '"event":"stopped".*"status":0' "$T/cloud.events" || fail "no stopped event"
echo "stop with the broker dead, clients inside a hanging reconnect: $MS ms"
# 7 s by design (docs/cloud.md); 1.5 s for a loaded machine's scheduling, still under 10 s.
[ $MS -le 8500 ] || fail "the stop took $MS ms (bound: 7 s by design, 8.5 s allowed here)"
ok "SIGTERM with the broker dead and the clients in a hanging reconnect: stopped in $MS ms (<= 8.5 s)"
# --- the binding service's first connect, at startup, to the same port (its SYNs dropped) ---
# mosquitto_connect blocked until the kernel gave up (about 2 min): a SIGTERM during startup
# waited all that (a signal during it ended it as "Interrupted system call", exit 1), and a
# broker that never answered was said unreachable only then. Now the first connect waits 10 s
# at most and ends at a signal: a stop (exit 0, within its bound); unreachable: exit 1.
"$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --mqtt 127.0.0.1:$MQTT_PORT --db "$DB" --json \
    --broker 127.0.0.1:$BPORT > "$T/start.events" 2> "$T/start.err" &
SPID=$!
# the HTTP service listens just before the binding service connects
for _ in $(seq 100); do curl -s --max-time 1 -o /dev/null "$BASE/healthz" && break; sleep 0.1; done
sleep 0.5
T0=$(date +%s%N)
kill -TERM "$SPID"
for _ in $(seq 150); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SPID" 2>/dev/null; then kill -KILL "$SPID"; wait "$SPID" 2>/dev/null; fail "SIGTERM during the first connect: still running after 15 s"; fi
rc=0; wait "$SPID" || rc=$?
MS=$(( ($(date +%s%N) - T0) / 1000000 ))
[ $rc = 0 ] || fail "SIGTERM during the first connect: exit $rc ($(tail -3 "$T/start.err"))"
# the other clients (data template, OTA) are in hanging connects too: the stop's 7 s bound
[ $MS -le 8500 ] || fail "SIGTERM during the first connect: stopped in $MS ms (> 8.5 s)"
ok "SIGTERM during the binding service's first connect to a port dropping SYNs: exit 0 in $MS ms"
T0=$(date +%s%N)
rc=0
timeout 30 "$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --mqtt 127.0.0.1:$MQTT_PORT --db "$DB" --json \
    --broker 127.0.0.1:$BPORT > "$T/start.events" 2> "$T/start.err" || rc=$?
MS=$(( ($(date +%s%N) - T0) / 1000000 ))
[ $rc = 1 ] || fail "a broker that never answers at startup: exit $rc, not 1 (after $MS ms)"
grep -q 'binding service cannot reach the broker at 127.0.0.1:'"$BPORT"': no answer within 10 s' "$T/start.err" \
    || fail "no clear word that the broker is unreachable: $(tail -3 "$T/start.err")"
# 10 s, then the stop waits for the other clients in their hanging connects (its 7 s bound)
[ $MS -le 18500 ] || fail "a broker that never answers at startup: exit after $MS ms (> 18.5 s)"
ok "a broker that never answers at startup: exit 1 in $MS ms, said unreachable"
kill "$BRPID" 2>/dev/null || true
