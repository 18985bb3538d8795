# SPDX-License-Identifier: Apache-2.0
# Helpers for the local-cloud integration tests (sourced; not a test itself).
# Needs SC_BUILD (build dir). Starts `smartcfg cloud` on free loopback ports with a SQLite
# file in a private temp dir; everything is torn down on exit.
set -euo pipefail
: "${SC_BUILD:?SC_BUILD must point at the build directory}"
SMARTCFG="$SC_BUILD/smartcfg"
T=$(mktemp -d "${TMPDIR:-/tmp}/sc-cloud-test.XXXXXX")
CLOUD_PID=""
cleanup() {
    local rc=$?
    [ -n "$CLOUD_PID" ] && kill "$CLOUD_PID" 2>/dev/null && wait "$CLOUD_PID" 2>/dev/null
    jobs -p | xargs -r kill 2>/dev/null || true
    if [ $rc -ne 0 ] && [ -f "$T/cloud.err" ]; then echo "--- cloud stderr:"; tail -n 60 "$T/cloud.err"; fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

HTTP_PORT=$(free_port)
MQTT_PORT=$(free_port)
BASE="http://127.0.0.1:$HTTP_PORT"
DB="$T/cloud.db"

# start_cloud [extra args...] — waits for the "ready" event
start_cloud() {
    : > "$T/cloud.events"
    "$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --mqtt 127.0.0.1:$MQTT_PORT --db "$DB" --json "$@" \
        >> "$T/cloud.events" 2>> "$T/cloud.err" &
    CLOUD_PID=$!
    for _ in $(seq 100); do
        grep -q '"event":"service_connected"' "$T/cloud.events" 2>/dev/null && return 0
        kill -0 $CLOUD_PID 2>/dev/null || fail "smartcfg cloud exited at start"
        sleep 0.1
    done
    fail "smartcfg cloud not ready in 10 s"
}

stop_cloud() {
    kill -TERM "$CLOUD_PID"
    wait "$CLOUD_PID" || fail "smartcfg cloud exited non-zero on SIGTERM"
    CLOUD_PID=""
}

post() { curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' "$BASE$1" -d "$2"; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); 
for k in sys.argv[1].split("."):
    d = d[int(k)] if isinstance(d, list) else d[k]
print(d if not isinstance(d,(dict,list)) else json.dumps(d))' "$1"; }

# tokenapi ACTION JSON-PARAMS  (Tencent envelope)
tokenapi() {
    local body
    body=$(python3 -c 'import json,sys; d=json.loads(sys.argv[2]); d.update(Action=sys.argv[1], RequestId="req-1", AccessToken="local"); print(json.dumps(d))' "$1" "$2")
    post "/tokenapi?cmd=$1&uin=test" "$body"
}

# creds P D PSK ALG [EXPIRY] -> sets MQ_USER MQ_PASS MQ_ID
creds() {
    local p=$1 d=$2 psk=$3 alg=$4 exp=${5:-2147483647} hexkey
    MQ_ID="$p$d"
    MQ_USER="$p$d;21010406;ab12C;$exp"
    hexkey=$(printf %s "$psk" | base64 -d | od -An -v -tx1 | tr -d ' \n')
    local h
    h=$(printf %s "$MQ_USER" | openssl dgst -"$alg" -mac HMAC -macopt hexkey:"$hexkey" | sed 's/^.*= //')
    MQ_PASS="$h;hmac$alg"
}

MQ=(-h 127.0.0.1 -p "$MQTT_PORT" -V mqttv311)
