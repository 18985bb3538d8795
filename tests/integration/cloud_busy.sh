#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 30
# A registry that does not take writes must not take the health probes with it (docs/cloud.md
# "Health and metrics"): another process holds the SQLite file's write lock (python's sqlite3,
# BEGIN EXCLUSIVE) while token requests that write keep coming and wait on it. /healthz,
# /readyz and /metrics still answer, each within PROBE_MAX s (with one HTTP thread they waited
# behind every queued request: 5 s each, SQLite's busy timeout); the token requests beyond the
# one waiting on SQLite are answered 503 busy with Retry-After within a bound instead of
# queueing; /readyz says "store" (its SELECT 1 saw nothing wrong: a read gets through a write
# lock); once the lock is gone everything works again, and every token a request was told of is
# in the registry exactly once. With a healthy database, parallel requests are never "busy".
. "$(dirname "$0")/lib/cloud.bash"
PROBE_MAX=3        # s: a probe's answer, whatever the token requests do (the old code: >= 5 s)
BUSY_MAX=3.5       # s: a token request's answer when another holds the lock (1 s wait + margin)

start_cloud
tok() {   # one AppCreateDeviceBindToken: "HTTP-code seconds error-code" on stdout, the body in $1
    local r
    : > "$1"
    r=$(curl -s -o "$1" -D "$1.hdr" -w '%{http_code} %{time_total}' --max-time 30 -X POST -H 'Content-Type: application/json' \
        "$BASE/tokenapi?cmd=AppCreateDeviceBindToken" \
        -d "{\"Action\":\"AppCreateDeviceBindToken\",\"AccessToken\":\"$ACCESS\",\"RequestId\":\"busy\"}") || r="000 30"
    echo "$r $(grep -o '"Code":"[A-Za-z.]*"' "$1" | cut -d'"' -f4 || true)"
}
probe() {   # URL [curl args] -> "code seconds"; a probe that takes over PROBE_MAX fails the test
    local out
    out=$(curl -s -o "$T/probe.body" -w '%{http_code} %{time_total}' --max-time "$PROBE_MAX" "$@") ||
        fail "$1 not answered within $PROBE_MAX s while a token request waits on the database"
    echo "$out"
}

# ---- a healthy database: parallel requests all answered, none busy ---------------------------
PAR=()
for j in $(seq 8); do
    ( for i in $(seq 15); do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -X POST "$BASE/tokenapi?cmd=AppGetFamilyList" \
            -d "{\"Action\":\"AppGetFamilyList\",\"AccessToken\":\"$ACCESS\"}" || echo 000
      done > "$T/par.$j" ) &
    PAR+=($!)
done
wait "${PAR[@]}"
[ "$(cat "$T"/par.* | sort | uniq -c | awk '{print $1 "x" $2}')" = 120x200 ] ||
    fail "120 parallel requests on a healthy database: $(cat "$T"/par.* | sort | uniq -c | tr '\n' ' ')"
ok "healthy database: 120 requests from 8 clients at once all 200 (none busy)"

# ---- the write lock held by another process ----------------------------------------------------
db_lock_hold
LOCKED=$(date +%s%N)
# Six clients, each sending token requests one after another until told to stop (at most
# 15 s): the pool's threads are all taken by them as far as the cloud lets them be.
for j in $(seq 6); do
    ( end=$(( $(date +%s) + 15 )); i=0
      while [ "$(date +%s)" -lt "$end" ] && [ ! -e "$T/clients.stop" ]; do
          i=$((i + 1)); tok "$T/tb.$j.$i" >> "$T/tok.$j"
      done ) &
    eval "C$j=\$!"
done
sleep 1
worst=0; n=0; store_ms=""
# probes for at least 4 s, until /readyz has said store (at most 10 s)
while el=$(( ($(date +%s%N) - LOCKED) / 1000000 )); [ "$el" -lt 10000 ] && { [ -z "$store_ms" ] || [ "$el" -lt 4000 ]; }; do
    for u in healthz readyz; do
        r=$(probe "$BASE/$u") || exit 1
        read -r code secs <<<"$r"
        n=$((n + 1))
        worst=$(awk -v a="$worst" -v b="$secs" 'BEGIN { print (b > a) ? b : a }')
        if [ $u = healthz ]; then
            [ "$code" = 200 ] || fail "/healthz: $code"
        elif [ "$code" = 503 ] && [ "$(cat "$T/probe.body")" = '{"ready":false,"reason":"store"}' ]; then
            [ -n "$store_ms" ] || store_ms=$(( ($(date +%s%N) - LOCKED) / 1000000 ))
        fi
    done
    r=$(probe "$BASE/metrics" -H "$(admin_auth)") || exit 1
    read -r code secs <<<"$r"
    [ "$code" = 200 ] || fail "/metrics: $code"
    n=$((n + 1))
    cp "$T/probe.body" "$T/metrics.txt"
    sleep 0.2
done
# the probe's bound: a write lock not free for 1 s, 3 s without a success, a probe each second;
# the rest is this loop's pace on a loaded machine
[ -n "$store_ms" ] || fail "/readyz never said store with the registry's write lock held 10 s"
[ "$(mval "$T/metrics.txt" smartcfg_cloud_store_up)" = 0 ] || fail "store_up not 0 with the write lock held"
ok "write lock held elsewhere, token requests waiting on it: $n probes each answered within $PROBE_MAX s (worst ${worst} s); /readyz 503 store after $store_ms ms"
db_lock_release   # first: a client may be waiting on SQLite
touch "$T/clients.stop"
for j in $(seq 6); do eval "wait \$C$j"; done

# What the token requests got meanwhile: the one waiting on SQLite its answer (503
# DatabaseUnavailable after SQLite's 5 s, or 200 once the lock was released); every other a
# prompt 503 busy (Retry-After, the token API's envelope) rather than a place in a queue.
cat "$T"/tok.* > "$T/tok.all"
awk '{print $1, $3}' "$T/tok.all" | sort | uniq -c > "$T/tok.codes"
! awk '$1 != 503 && $1 != 200' "$T/tok.all" | grep -q . || fail "token requests under the lock: $(cat "$T/tok.codes")"
busy=$(awk '$3 == "InternalError.ServerBusy"' "$T/tok.all" | wc -l)
[ "$busy" -ge 1 ] || fail "no busy answer: $(cat "$T/tok.codes")"
slow=$(awk -v m="$BUSY_MAX" '$3 == "InternalError.ServerBusy" && $2 > m' "$T/tok.all" | wc -l)
[ "$slow" = 0 ] || fail "$slow busy answers took over $BUSY_MAX s: $(awk '$3 == "InternalError.ServerBusy"' "$T/tok.all" | sort -k2 -n | tail -3)"
ls "$T"/tb.[0-9]* | grep -v '\.hdr$' > "$T/bodies.list"
B=$(grep -l InternalError.ServerBusy "$T"/tb.* | sed -n 1p)   # sed reads all: head would end grep by SIGPIPE (pipefail)
grep -qi '^Retry-After: 1' "$B.hdr" || fail "a busy answer without Retry-After: $(cat "$B.hdr")"
metrics "$T/m2.txt"
[ "$(mval "$T/m2.txt" smartcfg_cloud_http_busy_total)" -ge "$busy" ] || fail "http_busy_total below the $busy busy answers"
ok "token requests meanwhile: $(wc -l < "$T/tok.all") answered, $busy of them busy (503 InternalError.ServerBusy, Retry-After: 1) each within $BUSY_MAX s; the others: $(awk '$3 != "InternalError.ServerBusy" {print $1, ($3 == "" ? "ok" : $3)}' "$T/tok.all" | sort | uniq -c | tr -s ' \n' ' ')"

# ---- the lock released: everything works again; no token told of is missing or doubled --------
wait_readyz '{"ready":true} 200' 8 "after the lock was released"
read -r code _ <<<"$(tok "$T/after")"
[ "$code" = 200 ] && [ "$(jget code < "$T/after")" = 0 ] || fail "token API after the release: $code $(cat "$T/after")"
jq -r 'select(.code == 0) | .data.Token' $(cat "$T/bodies.list") "$T/after" | sort > "$T/told"
python3 - "$DB" > "$T/stored" <<'PY'
import sqlite3, sys
for (t,) in sqlite3.connect(sys.argv[1]).execute("SELECT token FROM tokens ORDER BY token"):
    print(t)
PY
sort -o "$T/stored" "$T/stored"
[ -z "$(comm -23 "$T/told" "$T/stored")" ] || fail "tokens answered but not stored: $(comm -23 "$T/told" "$T/stored" | head -3)"
[ -z "$(sort "$T/stored" | uniq -d)" ] || fail "a token stored twice"
ok "lock released: /readyz 200, the token API answers; all $(wc -l < "$T/told") tokens answered are stored once"
# The probes close their connection: the next one comes on a new connection (struct cloud_http).
curl -s -D "$T/h.hdr" -o /dev/null "$BASE/healthz"
grep -qi '^Connection: close' "$T/h.hdr" || fail "/healthz keeps its connection: $(cat "$T/h.hdr")"
ok "probe answers close their connection"

# ---- the IoT Explorer topics' MQTT client away from the broker: not ready ("broker") ---------------
# Another client logs in with its client id and the service identity (from the broker
# configuration the cloud wrote), so mosquitto drops the cloud's: data template reports and the
# control downlink go nowhere until it is back (it reconnects after 1 s). /readyz said ready.
BPORT=$(grep '"event":"broker_started"' "$T/cloud.events" | tail -1 | jget port)   # mosquitto's own listener
CONF=$(grep -ls "^listener $BPORT " "${TMPDIR:-/tmp}"/smartcfg-cloud-*/mosquitto.conf | head -1 || true)   # other tests' may come and go
[ -n "$CONF" ] || fail "the cloud's broker configuration not found"
SU=$(awk '$1 == "plugin_opt_service_user" { print $2 }' "$CONF")
SP=$(awk '$1 == "plugin_opt_service_password" { print $2 }' "$CONF")
TID=$(grep -o 'service_connected client=smartcfg-thing-[0-9a-f]*' "$T/cloud.err" | tail -1 | cut -d= -f2)
[ -n "$SU" ] && [ -n "$SP" ] && [ -n "$TID" ] || fail "service identity or the thing client's id not found"
[ "$(curl -s --max-time 1 "$BASE/readyz")" = '{"ready":true}' ] || fail "/readyz before the takeover"
timeout 3 mosquitto_sub -h 127.0.0.1 -p "$BPORT" -i "$TID" -u "$SU" -P "$SP" -t smartcfg/none > /dev/null 2>&1 &
SUB=$!
RZ=""
for _ in $(seq 40); do
    RZ=$(curl -s --max-time 1 -w ' %{http_code}' "$BASE/readyz") || true
    [ "$RZ" = '{"ready":false,"reason":"broker"} 503' ] && break
    sleep 0.05
done
[ "$RZ" = '{"ready":false,"reason":"broker"} 503' ] || fail "/readyz with the thing client kicked off the broker: $RZ"
wait "$SUB" || true
for _ in $(seq 150); do [ "$(curl -s --max-time 1 "$BASE/readyz")" = '{"ready":true}' ] && break; sleep 0.1; done
[ "$(curl -s --max-time 1 "$BASE/readyz")" = '{"ready":true}' ] || fail "/readyz after the thing client came back"
ok "the cloud's MQTT client of the IoT Explorer topics away from the broker: /readyz 503 broker; back: ready"
