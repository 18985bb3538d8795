#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 55
# A fleet as an operator runs it (docs/scale.md): two `smartcfg cloud --rabbitmq` workers on one
# RabbitMQ node (management plugin) and one PostgreSQL, sharing the thing queue.
# - F28: --thing-rate holds for the cluster, not per worker: a device flooding its report topic
#   is let through at about the limit in total (each worker allows its part: the rate over the
#   consumers of the thing queue, counted through the management API), not twice it, while
#   another device is answered promptly throughout.
# - F29: a stream of valid logins of one user (AppGetToken through both workers) leaves at most
#   20 AccessTokens in PostgreSQL, the oldest refused, the newest served.
. "$(dirname "$0")/lib/cloud.bash"
export XDG_DATA_HOME="$T/data"   # a database server has no "beside": key and TLS go here
# not under $T (0700): PostgreSQL runs as its own user and must reach its data dir
CL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sc-fleet.XXXXXX")
chmod 711 "$CL_DIR"
. "${SC_SRC:?}/scripts/cluster-lib.sh"
W_PID=()
trap 'rc=$?; set +e; cl_cleanup; (exit $rc); cleanup' EXIT
[ -x "$PG_BIN/postgres" ] || fail "PostgreSQL server binaries not found (make deps: postgresql)"

SVC_PASS=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
CL_MGMT=1 cl_rmq_setup 1 "$BASE"
cl_pg_start > "$T/pg.out" 2>&1 &
PGJOB=$!
cl_rmq_cluster 1 smartcfg-worker "$SVC_PASS" || fail "RabbitMQ did not start"
wait $PGJOB || { cat "$T/pg.out"; fail "PostgreSQL did not start"; }
DB=$(sed -n 's/^URL=//p' "$T/pg.out")
cl_ctl 0 -q set_user_tags smartcfg-worker administrator >/dev/null   # the management API's reads
AMQP=127.0.0.1:${CL_AMQP[0]} RMQTT=127.0.0.1:${CL_MQTT[0]} MGMT=http://127.0.0.1:${CL_MGMTP[0]}
sql() { "$PG_BIN/psql" "$DB" -v ON_ERROR_STOP=1 -Atc "$1"; }
RATE=20   # bursts of 40

WORKER=(--rabbitmq "amqp://smartcfg-worker:$SVC_PASS@$AMQP" --rabbitmq-management "$MGMT" --thing-rate $RATE
        --admin-key-file "$ADMIN_KEY_FILE")
start_cloud "${WORKER[@]}"
H2=$(free_port)
"$SMARTCFG" cloud --http 127.0.0.1:$H2 --db "$DB" --json "${WORKER[@]}" > "$T/cloud.events.w2" 2> "$T/w2.err" &
W_PID+=($!)
for _ in $(seq 300); do
    grep -q -- '--thing-rate: 2 worker(s)' "$T/cloud.err" && grep -q -- '--thing-rate: 2 worker(s)' "$T/w2.err" &&
        grep -q '"event":"ready"' "$T/cloud.events.w2" && break
    kill -0 "${W_PID[0]}" 2>/dev/null || { cat "$T/w2.err"; fail "the second worker exited"; }
    sleep 0.1
done
grep -q -- '--thing-rate: 2 worker(s)' "$T/w2.err" && grep -q -- '--thing-rate: 2 worker(s)' "$T/cloud.err" ||
    fail "the workers did not learn that they are 2: $(grep -h -- --thing-rate "$T/cloud.err" "$T/w2.err")"
ok "two workers on PostgreSQL and RabbitMQ; each counted 2 consumers of the thing queue and took its part of --thing-rate"

P=FLEET00001
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK1=$(post /v1/products/$P/devices '{"device_name":"flood"}' | jget device_secret)
PSK2=$(post /v1/products/$P/devices '{"device_name":"calm"}' | jget device_secret)
creds $P flood "$PSK1" sha256; F=("$MQ_ID" "$MQ_USER" "$MQ_PASS")
creds $P calm "$PSK2" sha256; C=("$MQ_ID" "$MQ_USER" "$MQ_PASS")
# The flooder sends 200 reports a second for 8 s; meanwhile the calm device asks get_status
# 4 times a second. Counted: the flooder's reports answered code 0; the calm device's answers
# (all code 0) and their latency.
PYTHONPATH="$SC_SRC/tests/integration/lib" python3 - "$RMQTT" "$P" "${F[@]}" "${C[@]}" > "$T/flood.out" 2>&1 <<'PY' \
    || fail "flood: $(cat "$T/flood.out")"
import json, socket, struct, sys, threading, time
from mqtt_wire import packet, read_packet, s16, session
addr, p, fid, fuser, fpw, cid, cuser, cpw = sys.argv[1:9]
host, port = addr.rsplit(":", 1)
codes = {}
def reader(s, sink):
    s.settimeout(1)
    while not stop.is_set():
        try:
            kind, body = read_packet(s)
        except socket.timeout:
            continue
        except (EOFError, OSError):
            return
        if kind >> 4 == 3:
            tl = struct.unpack("!H", body[:2])[0]
            sink(json.loads(body[2 + tl:]), time.time())
stop = threading.Event()
fs = session(host, port, fid, fuser, fpw, "$thing/down/property/%s/flood" % p)
cs = session(host, port, cid, cuser, cpw, "$thing/down/property/%s/calm" % p)
def flood_sink(m, t):
    codes[m.get("code")] = codes.get(m.get("code"), 0) + 1
sent_at, lat, calm_codes = {}, [], []
def calm_sink(m, t):
    lat.append(t - sent_at.get(m.get("clientToken"), t))
    calm_codes.append(m.get("code"))
threading.Thread(target=reader, args=(fs, flood_sink), daemon=True).start()
threading.Thread(target=reader, args=(cs, calm_sink), daemon=True).start()
start, n, k = time.time(), 0, 0
up_f, up_c = "$thing/up/property/%s/flood" % p, "$thing/up/property/%s/calm" % p
while time.time() < start + 8:
    now = time.time()
    while n < (now - start) * 200:
        m = {"method": "report", "clientToken": "f-%d" % n, "params": {"n": n}}
        fs.sendall(packet(0x30, s16(up_f) + json.dumps(m).encode()))
        n += 1
    if k < (now - start) * 4:
        tok = "c-%d" % k
        sent_at[tok] = time.time()
        cs.sendall(packet(0x30, s16(up_c) + json.dumps({"method": "get_status", "clientToken": tok}).encode()))
        k += 1
    time.sleep(0.002)
dur = time.time() - start
end = time.time() + 15
while time.time() < end and (sum(codes.values()) < n or len(calm_codes) < k):
    time.sleep(0.1)
time.sleep(1)   # a late answer would come now
stop.set()
print(json.dumps({"sent": n, "seconds": round(dur, 2), "codes": codes, "calm_sent": k, "calm_codes": calm_codes,
                  "calm_max_latency": round(max(lat) if lat else -1, 3)}))
PY
R=$(tail -1 "$T/flood.out")
SENT=$(jq .sent <<<"$R") SECS=$(jq .seconds <<<"$R") OK0=$(jq '.codes["0"] // 0' <<<"$R") LIM=$(jq '.codes["429"] // 0' <<<"$R")
# The limit as an operator reads it: the burst (2 x RATE) and RATE a second. Each worker's
# part (cloud_rate_share) lets about 40 % more burst through in total; the old per-worker limit
# let twice the rate and the burst through (2 x 40 + 2 x 20 x 8 = 400).
READ=$(jq -n "2 * $RATE + $RATE * $SECS | floor" )
[ $((OK0 + LIM)) = "$SENT" ] || fail "flood: $SENT reports, $OK0 + $LIM answers: $R"
[ "$OK0" -le $((READ * 14 / 10)) ] || fail "F28: the flooder got $OK0 reports through in $SECS s over two workers (the limit: $READ): $R"
[ "$OK0" -ge $((RATE * ${SECS%.*} * 8 / 10)) ] || fail "F28: the flooder got only $OK0 through in $SECS s (the limit: $READ): $R"
[ "$(jq '.calm_codes | length' <<<"$R")" = "$(jq .calm_sent <<<"$R")" ] && [ "$(jq '[.calm_codes[] | select(. != 0)] | length' <<<"$R")" = 0 ] ||
    fail "the calm device was not answered in full: $R"
jq -e '.calm_max_latency < 3' <<<"$R" >/dev/null || fail "the calm device waited: $R"
ok "F28: a device flooding (200/s for $SECS s) over two workers got $OK0 reports through (the cluster's limit: $READ; per worker it was ~400), $LIM answered 429; the other device answered in full, at most $(jq .calm_max_latency <<<"$R") s"

# ---- F29: AccessTokens bounded per user, on PostgreSQL --------------------------------------
for i in $(seq 12); do
    for b in "$BASE" "http://127.0.0.1:$H2"; do
        r=$(BASE=$b post "/tokenapi?cmd=AppGetToken" '{"Action":"AppGetToken","UserName":"tester","Password":"tester-password-1"}')
        t=$(jget data.Token <<<"$r") || fail "login $i through $b: $r"
        [ -n "${FIRST:-}" ] || FIRST=$t
        LAST=$t
    done
done
N=$(sql "SELECT count(*) FROM access_tokens")
[ "$N" = 20 ] || fail "F29: 25 logins of one user left $N AccessTokens in PostgreSQL"
R=$(ACCESS=$FIRST tokenapi AppGetFamilyList '{}')
[ "$(jget data.Error.Code <<<"$R")" = AuthFailure.InvalidAccessToken ] || fail "F29: the evicted AccessToken still works: $R"
R=$(ACCESS=$LAST BASE=http://127.0.0.1:$H2 tokenapi AppGetFamilyList '{}')
[ -n "$(jget data.FamilyList.0.FamilyId <<<"$R")" ] || fail "F29: the newest AccessToken refused: $R"
ok "F29: 25 logins of one user through both workers leave 20 AccessTokens in PostgreSQL; the oldest refused, the newest served"

kill -TERM "${W_PID[0]}"; wait "${W_PID[0]}" || fail "the second worker exited non-zero on SIGTERM"; W_PID=()
stop_cloud
ok "both workers stop cleanly on SIGTERM"
