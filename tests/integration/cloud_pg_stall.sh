#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 30
# What holds the cloud's waits on PostgreSQL (docs/security.md F199-F201, F209): locks another
# session holds, a worker frozen mid-transaction, a server that hangs. A real server made with
# initdb in a temp dir on a free loopback port, reached through a relay 30 ms away.
#   1. An operator's `LOCK TABLE access_tokens` (an ALTER TABLE, a VACUUM FULL take the same
#      lock): a token request is answered 503 DatabaseUnavailable within ANSWER_MAX s (the API
#      waits HTTP_LOCK_WAIT_MS, 2 s; before: as long as the lock was held), by the server's lock
#      timeout, not by the bound for a silent server, which shut the connection (F209); 200 once
#      it is gone.
#   2. The same on `devices`: a device's CONNECT is refused within ANSWER_MAX s (the broker's
#      plugin waits 250 ms: it holds mosquitto's one thread; before: the whole hold), accepted
#      once it is gone.
#   3. A worker frozen in the middle of a bind's transaction (SIGSTOP: a host that hangs, or a
#      network cut) holds the token's row lock. Another worker's bind of the same token goes
#      through once the server ends the frozen session, IDLE_TXN s after its last statement
#      (before: as long as the worker stayed frozen, two hours for a cut: the server's TCP
#      keepalive); the frozen worker, thawed, acknowledges nothing.
#   4. The server hangs (its processes stopped): CONNECTs refused and the token API 503 within
#      ANSWER_MAX s while a connected device keeps its pings (below).
. "$(dirname "$0")/lib/cloud.bash"
export XDG_DATA_HOME="$T/data"   # a database server has no "beside": key, TLS and firmware go here
command -v mosquitto_rr >/dev/null || fail "mosquitto-clients not installed (make deps)"
. "$(dirname "$0")/lib/pg.bash"
. "$(dirname "$0")/lib/wait.bash"
ANSWER_MAX=4.5   # s: a 2 s wait (a lock: the plugin's 0.25 s), and a loaded machine's margin
IDLE_TXN=10      # s: IDLE_TXN_MS of apps/cloud/cloud_store_pg.c
THAW_MAX=25      # s after the frozen worker's last statement: IDLE_TXN and a loaded machine's margin

read -r PGPORT H2 M2 RELAY < <(free_port 4 | tr '\n' ' '; echo)
W2_PID=""
PGPIDS=()
workers_down() {   # RC
    [ ${#PGPIDS[@]} -eq 0 ] || kill -CONT "${PGPIDS[@]}" 2>/dev/null   # a stopped server does not stop
    [ -n "$CLOUD_PID" ] && kill -CONT "$CLOUD_PID" 2>/dev/null   # a frozen worker takes no SIGTERM
    [ -n "$W2_PID" ] && kill "$W2_PID" 2>/dev/null && wait "$W2_PID" 2>/dev/null
    [ "$1" -ne 0 ] && [ -f "$T/w2.err" ] && { echo "--- worker 2 stderr:"; tail -n 30 "$T/w2.err"; }
    return 0
}
pg_on_exit workers_down
pg_init "$PGPORT"
pg_start
# The workers reach the server through a relay that holds each of its answers 30 ms (a server in
# the next availability zone; lib/tcp_freeze.py, never frozen here): a statement behind a lock
# gets PostgreSQL's own lock timeout 2 s and a round trip after it went out (F209).
python3 "$(dirname "$0")/lib/tcp_freeze.py" "$RELAY" "127.0.0.1:$PGPORT" "$T/never-frozen" 30 > "$T/relay.out" 2>&1 &
for _ in $(seq 100); do grep -q listening "$T/relay.out" && break; sleep 0.1; done
grep -q listening "$T/relay.out" || fail "the relay did not start: $(cat "$T/relay.out")"
DB="postgresql://smartcfg:$PGPASS@127.0.0.1:$RELAY/postgres"

# sessions APP 'CONDITION' N: true once N sessions of application_name APP (pg_stat_activity)
# meet CONDITION, looked at every 0.1 s for 10 s
sessions() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name='$1' AND $2")" = "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
cloud_sessions() { sessions smartcfg-cloud "$@"; }
# lock_hold 'LOCK TABLE …': another session (psql, application_name sc-holder) takes the lock in
# a transaction and keeps it until lock_release ends that session.
lock_hold() {
    PGAPPNAME=sc-holder PGPASSWORD=$PGPASS "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U smartcfg -d postgres -Atq \
        -c "BEGIN" -c "$1" -c "SELECT pg_sleep(600)" > /dev/null 2>&1 &
    HOLDER=$!
    sessions sc-holder "query LIKE '%pg_sleep%'" 1 || fail "the lock holder did not take its lock ($1)"
}
lock_release() {
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name='sc-holder'" > /dev/null
    wait "$HOLDER" 2>/dev/null || true
}
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
within() { awk -v ms="$1" -v max="$2" 'BEGIN { exit !(ms <= max * 1000) }'; }

start_cloud --admin-key-file "$ADMIN_KEY_FILE"
P=PGLOCK0001
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK1=$(post /v1/products/$P/devices '{"device_name":"dev1"}' | jget device_secret)
PSK2=$(post /v1/products/$P/devices '{"device_name":"dev2"}' | jget device_secret)

# ---- 1. the token API behind a table lock ---------------------------------------------------
families() {   # FILE MAX -> "HTTP-code"
    curl -s -o "$1" -w '%{http_code}' --max-time "$2" -X POST "$BASE/tokenapi?cmd=AppGetFamilyList" \
        -d "{\"Action\":\"AppGetFamilyList\",\"AccessToken\":\"$ACCESS\"}" || true
}
metrics "$T/m0"
lock_hold "LOCK TABLE access_tokens IN ACCESS EXCLUSIVE MODE"
S=$(date +%s%N)
code=$(families "$T/locked" 20)
took=$(ms_since "$S")
[ "$code" = 503 ] && [ "$(jget data.Error.Code < "$T/locked")" = InternalError.DatabaseUnavailable ] ||
    fail "token API behind a table lock: '$code' $(cat "$T/locked") after $took ms"
within "$took" "$ANSWER_MAX" || fail "token API behind a table lock answered after $took ms (bound $ANSWER_MAX s)"
lock_release
metrics "$T/m1"
[ "$(mval "$T/m1" smartcfg_cloud_store_errors_total)" -gt "$(mval "$T/m0" smartcfg_cloud_store_errors_total)" ] ||
    fail "the lock timeout not counted in smartcfg_cloud_store_errors_total"
# F209: ended by the server's lock timeout, not by the bound for a server that does not answer
# (2 s as well before: it came first, the healthy connection was shut as a silent server's, and
# the next requests were 503 until it reconnected)
! grep "no answer within the connection's wait" "$T/cloud.err" >&2 ||
    fail "F209: the lock wait was taken for a silent server: the connection was shut (above)"
code=$(families "$T/after" 10)
[ "$code" = 200 ] || fail "token API after the lock: $code $(cat "$T/after")"
ok "a table lock held by another session: the token request answered 503 DatabaseUnavailable after $took ms (bound $ANSWER_MAX s), counted as a store error; 200 once it is gone"

# ---- 2. a device's CONNECT behind a table lock ----------------------------------------------
connect_dev1() {   # MAX -> mosquitto_pub's CONNACK line
    creds $P dev1 "$PSK1" sha256
    timeout "$1" mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 \
        -t "\$thing/up/property/$P/dev1" -m '{}' -d 2>&1 | grep -o 'received CONNACK ([0-9]*)' || true
}
lock_hold "LOCK TABLE devices IN ACCESS EXCLUSIVE MODE"
S=$(date +%s%N)
C=$(connect_dev1 20)
took=$(ms_since "$S")
[ "$C" = "received CONNACK (5)" ] || fail "a CONNECT behind a table lock: '${C:-no CONNACK}' after $took ms"
within "$took" "$ANSWER_MAX" || fail "a CONNECT behind a table lock answered after $took ms (bound $ANSWER_MAX s)"
grep -q 'connect_refused client=PGLOCK0001dev1 reason=registry_error' "$T/cloud.err" || fail "no registry_error refusal logged"
lock_release
C=$(connect_dev1 10)
[ "$C" = "received CONNACK (0)" ] || fail "a CONNECT after the lock: '${C:-no CONNACK}'"
ok "a table lock on devices: the CONNECT refused after $took ms (bound $ANSWER_MAX s), not held; accepted once it is gone"

# ---- 3. a worker frozen mid-transaction -----------------------------------------------------
"$SMARTCFG" cloud --http 127.0.0.1:$H2 --mqtt 127.0.0.1:$M2 --db "$DB" --json --admin-key-file "$ADMIN_KEY_FILE" \
    --tls-dir "$T/tls2" > "$T/w2.events" 2> "$T/w2.err" &
W2_PID=$!
wait_ready "$T/w2.events" "$W2_PID" 60 || fail "worker 2 not ready in 60 s"
TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
bind() {   # PORT DEV PSK MAX -> the reply on the device's down topic
    creds $P "$2" "$3" sha256
    timeout "$4" mosquitto_rr -h 127.0.0.1 -p "$1" -V mqttv5 -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -W "$4" \
        -t "\$thing/up/service/$P/$2" -e "\$thing/down/service/$P/$2" \
        -m "$(printf '{"method":"app_bind_token","clientToken":"%s-%s","params":{"token":"%s"}}' "$2" "$(date +%s%N)" "$TOK")" || true
}
# Worker 1's bind waits on the holder's lock (its transaction begun), is frozen there, and the
# lock goes: its statement ends on the server, and the session idles in its transaction.
lock_hold "LOCK TABLE tokens IN EXCLUSIVE MODE"
bind "$MQTT_PORT" dev1 "$PSK1" 90 > "$T/r1" &
R1=$!
cloud_sessions "wait_event_type='Lock'" 1 || fail "worker 1's bind did not reach the locked table"
kill -STOP "$CLOUD_PID"
lock_release
cloud_sessions "state='idle in transaction'" 1 || fail "worker 1's session is not idle in its transaction"
S=$(date +%s%N)
R2=$(bind "$M2" dev2 "$PSK2" "$THAW_MAX")
took=$(ms_since "$S")
[ "$(jget code <<<"$R2" 2>/dev/null)" = 0 ] ||
    fail "worker 2's bind of the frozen worker's token: '${R2:-no reply}' after $took ms (bound $THAW_MAX s)"
cloud_sessions "state='idle in transaction'" 0 || fail "the frozen worker's session still holds its transaction"
kill -CONT "$CLOUD_PID"
wait "$R1" || true
[ "$(jget code < "$T/r1" 2>/dev/null)" != 0 ] || fail "the thawed worker acknowledged a bind: $(cat "$T/r1")"
[ "$(sql "SELECT product_id||'/'||device_name FROM tokens WHERE token='$TOK' AND bound_at IS NOT NULL")" = "$P/dev2" ] ||
    fail "the token's row: $(sql "SELECT product_id, device_name, bound_at FROM tokens WHERE token='$TOK'")"
TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
R=""
for _ in $(seq 20); do   # the thawed worker reconnects on its own
    R=$(bind "$MQTT_PORT" dev1 "$PSK1" 5)
    [ "$(jget code <<<"$R" 2>/dev/null)" = 0 ] && break
    sleep 0.3
done
[ "$(jget code <<<"$R" 2>/dev/null)" = 0 ] || fail "the thawed worker does not bind again: ${R:-no reply}"
ok "a worker frozen mid-transaction: the other worker's bind of its token answered 0 after $took ms (server ends the session $IDLE_TXN s idle; bound $THAW_MAX s); the thawed one acknowledged nothing ($(jget code < "$T/r1" 2>/dev/null || echo 'no reply')) and binds again"

# ---- 4. a server that hangs -------------------------------------------------------------------
# Its processes stopped (a stuck disk, a frozen VM, a relay that stops passing bytes): the
# kernel still takes connections and acknowledges every byte, so neither the keepalives nor
# TCP ever end a wait. A device connected before keeps pinging the broker while another
# device's CONNECT waits on the registry (the plugin: SERVER_WAIT_MS, 2 s, per statement and
# per reconnect), and the token API answers 503 (HTTP_SERVER_WAIT_MS, 3 s); before, each of
# them waited as long as the server hung, the broker's every client with the CONNECT (F201).
kill "$W2_PID" && wait "$W2_PID" 2>/dev/null; W2_PID=""
creds $P dev2 "$PSK2" sha256
PYTHONPATH="$(dirname "$0")/lib" python3 - "$MQTT_PORT" "$MQ_ID" "$MQ_USER" "$MQ_PASS" "$T/pings.end" > "$T/pings" 2>&1 <<'PY' &
import os, socket, sys, time
import mqtt_wire as w
port, cid, user, pw, end = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
s = socket.create_connection(("127.0.0.1", port), timeout=60)
s.sendall(w.connect(cid, user, pw))
kind, body = w.read_packet(s)
assert kind == 0x20 and body[1] == 0, (kind, body)
print("connected", flush=True)
worst = 0.0
while not os.path.exists(end):
    t = time.monotonic()
    s.sendall(b"\xc0\x00")   # PINGREQ
    kind, _ = w.read_packet(s)
    assert kind == 0xD0, kind
    worst = max(worst, time.monotonic() - t)
    time.sleep(0.1)
print("worst %d ms" % (worst * 1000), flush=True)
PY
PINGER=$!
wait_line "$PINGER" "$T/pings" connected 10 || fail "the pinging device did not connect: $(cat "$T/pings")"
PM=$(head -1 "$PGDIR/data/postmaster.pid")
mapfile -t PGPIDS < <(echo "$PM"; ps -o pid= --ppid "$PM" | tr -d ' ')
kill -STOP "${PGPIDS[@]}"
took=()
for i in 1 2 3; do   # the first waits on its statement's answer, the next on a reconnect
    S=$(date +%s%N)
    C=$(connect_dev1 20)
    took+=("$(ms_since "$S")")
    [ "$C" = "received CONNACK (5)" ] || fail "CONNECT $i on a hung server: '${C:-no CONNACK}' after ${took[-1]} ms"
    within "${took[-1]}" "$ANSWER_MAX" || fail "CONNECT $i on a hung server refused after ${took[-1]} ms (bound $ANSWER_MAX s)"
    sleep 0.6
done
S=$(date +%s%N)
code=$(families "$T/hung" 20)
htook=$(ms_since "$S")
[ "$code" = 503 ] || fail "token API on a hung server: '$code' $(cat "$T/hung") after $htook ms"
within "$htook" "$ANSWER_MAX" || fail "token API on a hung server answered after $htook ms (bound $ANSWER_MAX s)"
touch "$T/pings.end"
wait "$PINGER" || fail "the pinging device: $(cat "$T/pings")"
worst=$(grep -o 'worst [0-9]*' "$T/pings" | cut -d' ' -f2)
within "$worst" "$ANSWER_MAX" || fail "a connected device's ping waited $worst ms while the server hung (bound $ANSWER_MAX s)"
kill -CONT "${PGPIDS[@]}"; PGPIDS=()
C=""
for _ in $(seq 30); do   # the reconnects' pauses, 5 s at most
    C=$(connect_dev1 5)
    [ "$C" = "received CONNACK (0)" ] && break
    sleep 0.5
done
[ "$C" = "received CONNACK (0)" ] || fail "CONNECT after the server woke: '${C:-no CONNACK}'"
for _ in $(seq 30); do
    code=$(families "$T/woke" 5)
    [ "$code" = 200 ] && break
    sleep 0.5
done
[ "$code" = 200 ] || fail "token API after the server woke: $code $(cat "$T/woke")"
ok "a hung server: CONNECTs refused after ${took[*]} ms, the token API 503 after $htook ms (bound $ANSWER_MAX s), a connected device's worst ping $worst ms; both served once it woke"
