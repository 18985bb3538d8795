# SPDX-License-Identifier: Apache-2.0
# Helpers for the local-cloud integration tests (sourced; not a test itself).
# Needs SC_BUILD (build dir). Starts `smartcfg cloud` on free loopback ports with a SQLite
# file in a private temp dir; everything is torn down on exit.
set -euo pipefail
: "${SC_BUILD:?SC_BUILD must point at the build directory}"
SMARTCFG="$SC_BUILD/smartcfg"
CLOUD_LIB_TOP=${SC_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/sc-cloud-test.XXXXXX")
CLOUD_PID=""
cleanup() {
    local rc=$?
    [ -n "$CLOUD_PID" ] && kill "$CLOUD_PID" 2>/dev/null && wait "$CLOUD_PID" 2>/dev/null
    jobs -p | xargs -r kill 2>/dev/null || true
    # Every line the cloud printed in this test (bind, OTA, data template, gateway, ...) must
    # follow docs/json.md: a test that passes with an undocumented or misnamed event fails here.
    if [ $rc -eq 0 ] && [ -s "$T/cloud.events" ]; then
        python3 "$CLOUD_LIB_TOP/scripts/json_check.py" "$CLOUD_LIB_TOP/docs/json.md" cloud \
            $(ls "$T"/cloud.events.* 2>/dev/null) "$T/cloud.events" >&2 || {
            echo "FAIL: the cloud's JSON lines break docs/json.md" >&2; rc=1; }
    fi
    if [ $rc -ne 0 ] && [ -f "$T/cloud.err" ]; then echo "--- cloud stderr:"; tail -n 60 "$T/cloud.err"; fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
# The cloud runs mosquitto, which Debian installs in /usr/sbin.
command -v mosquitto >/dev/null || PATH=$PATH:/usr/sbin
command -v mosquitto >/dev/null || fail "mosquitto not installed (make deps)"

# free_port [N]: ports leased to this test, outside the kernel's ephemeral range (lib/free_port.py)
FREE_PORT_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/free_port.py"
PROM_CHECK_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/prom_check.py"
free_port() { python3 "$FREE_PORT_PY" $$ "${1:-1}"; }

HTTP_PORT=$(free_port)
MQTT_PORT=$(free_port)
BASE="http://127.0.0.1:$HTTP_PORT"
DB="$T/cloud.db"

# start_cloud [extra args...] — waits for the "ready" event, then makes sure the test user
# exists and is logged in: ACCESS (its AccessToken) and FAMILY (its family id) are set, and
# tokenapi sends ACCESS. The admin key is made by the cloud in $T/admin.key on first start.
ADMIN_KEY_FILE="$T/admin.key"
CLOUD_SCHEME=http
start_cloud() {
    # a restart keeps the earlier run's lines for the check at exit
    [ -s "$T/cloud.events" ] && mv "$T/cloud.events" "$T/cloud.events.$(date +%s%N)"
    : > "$T/cloud.events"
    "$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --mqtt 127.0.0.1:$MQTT_PORT --db "$DB" --json "$@" \
        >> "$T/cloud.events" 2>> "$T/cloud.err" &
    CLOUD_PID=$!
    local up=""
    for _ in $(seq 150); do
        # both: with --rabbitmq, service_connected comes before the HTTP service listens
        grep -q '"event":"service_connected"' "$T/cloud.events" 2>/dev/null &&
            grep -q '"event":"ready"' "$T/cloud.events" && { up=1; break; }
        kill -0 $CLOUD_PID 2>/dev/null || fail "smartcfg cloud exited at start"
        sleep 0.1
    done
    [ -n "$up" ] || fail "smartcfg cloud not ready in 15 s"
    [ -n "${NO_LOGIN:-}" ] && return 0
    login_user tester "tester-password-1"
}

# login_user NAME PASSWORD — creates the user if needed, logs in; sets ACCESS and FAMILY.
login_user() {
    local r
    post /v1/users "{\"user_name\":\"$1\",\"password\":\"$2\"}" >/dev/null
    r=$(post "/tokenapi?cmd=AppGetToken" "{\"Action\":\"AppGetToken\",\"UserName\":\"$1\",\"Password\":\"$2\"}")
    ACCESS=$(echo "$r" | jget data.Token) || fail "login of $1 failed: $r"
    r=$(post "/tokenapi?cmd=AppGetFamilyList" "{\"Action\":\"AppGetFamilyList\",\"AccessToken\":\"$ACCESS\"}")
    FAMILY=$(echo "$r" | jget data.FamilyList.0.FamilyId) || fail "family list of $1: $r"
}

# with_wallclock CMD...: CMD (start_cloud) with tests/preload/wallclock.c in the cloud (only
# there: not in its mosquitto, nor in curl): the cloud's wall clock shifted by the seconds
# $T/wall holds (none: 0; integ.cloud_wallclock steps it), and each of its waits on the wall
# clock named once on its stderr, "wallclock: ..." (a test that wants none greps for it).
# wall_1970: the shimmed clock reads 1970-01-04 (a board whose clock is not set yet)
wall_1970() { echo $(( 3 * 86400 - $(date +%s) )) > "$T/wall"; }
with_wallclock() {
    LD_PRELOAD="$SC_BUILD/tests/sc_wallclock.so" SC_WALLCLOCK_FILE="$T/wall" SC_WALLCLOCK_PROG=smartcfg \
        SC_WALLCLOCK_REPORT=1 "$@"
}

stop_cloud() {
    kill -TERM "$CLOUD_PID"
    wait "$CLOUD_PID" || fail "smartcfg cloud exited non-zero on SIGTERM"
    CLOUD_PID=""
}

# Every request carries the admin key (the admin API needs it; the others ignore it).
admin_auth() { printf 'Authorization: Bearer %s' "$(cat "$ADMIN_KEY_FILE" 2>/dev/null)"; }
post() { curl -sS --max-time 30 "${CURL_TLS[@]}" -X POST -H 'Content-Type: application/json' -H "$(admin_auth)" "$BASE$1" -d "$2"; }
get() { curl -sS --max-time 30 "${CURL_TLS[@]}" -H "$(admin_auth)" "$BASE$1"; }
# readyz: what /readyz answers, "BODY CODE" (e.g. '{"ready":true} 200'; " 000" when it does not
# answer within 2 s)
readyz() { curl -s --max-time 2 -w ' %{http_code}' "$BASE/readyz" || true; }
# wait_readyz WANT SECONDS [WHAT]: asks /readyz every 0.1 s until it answers WANT; fails (naming
# WHAT, and the last answer) when it still does not after SECONDS
wait_readyz() {
    local r="" end=$((SECONDS + $2))
    while [ $SECONDS -le $end ]; do r=$(readyz); [ "$r" = "$1" ] && return 0; sleep 0.1; done
    fail "/readyz${3:+ $3}: wanted '$1', still '$r' after $2 s"
}
# wait_ready OUT PID SECONDS: true once OUT (a cloud's --json events) holds its "ready" event;
# false when SECONDS pass first, or PID has ended without it (looked at every 0.05 s)
wait_ready() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -q '"event":"ready"' "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.05
    done
    grep -q '"event":"ready"' "$1" 2>/dev/null
}
# db_lock_hold: another process (python's sqlite3) takes the registry's write lock (BEGIN
# EXCLUSIVE, in WAL mode reads still go through) and keeps it until db_lock_release.
db_lock_hold() {
    rm -f "$T/release"
python3 - "$DB" "$T/release" > "$T/holder.out" 2>&1 <<'PY' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
c.execute("ROLLBACK")
PY
    DB_LOCKER=$!
    for _ in $(seq 100); do grep -q locked "$T/holder.out" && break; sleep 0.1; done
    grep -q locked "$T/holder.out" || fail "the lock holder did not start: $(cat "$T/holder.out")"
}
db_lock_release() {
    touch "$T/release"
    wait "$DB_LOCKER" || fail "the lock holder failed: $(cat "$T/holder.out")"
}
CURL_TLS=()
# GET /metrics with the admin key into FILE, checked line by line (lib/prom_check.py);
# mval FILE 'name{labels}' -> that sample's value (empty when absent).
metrics() {
    curl -sS --max-time 10 "${CURL_TLS[@]}" -H "$(admin_auth)" "$BASE/metrics" > "$1" || fail "GET /metrics failed"
    python3 "$PROM_CHECK_PY" "$1" >/dev/null || fail "/metrics is not exposition format 0.0.4"
}
mval() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
# jget PATH (a.b.0.c) -> the value (strings raw, objects/arrays compact JSON); fails when
# the path is missing. jq, not python: a python start costs seconds on a loaded machine.
jget() { jq -r -c --arg p "$1" 'getpath($p | split(".") | map(tonumber? // .)) | if . == null then error("missing") else . end'; }

# tokenapi ACTION JSON-PARAMS  (Tencent envelope)
tokenapi() {
    local body
    body=$(jq -c --arg a "$1" --arg t "${ACCESS:-}" '. + {Action: $a, RequestId: "req-1", AccessToken: $t}' <<<"$2")
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

# dynreg_body PRODUCT DEVICE PRODUCT_SECRET [TIMESTAMP] [NONCE] -> a signed /register/dev body
# (signature computed here with openssl, independently of the cloud's code).
dynreg_body() {
    local p=$1 d=$2 sec=$3 ts=${4:-} nonce=${5:-$RANDOM} hex sig
    [ -n "$ts" ] || ts=$(date +%s)
    hex=$(printf 'deviceName=%s&nonce=%s&productId=%s&timestamp=%s' "$d" "$nonce" "$p" "$ts" \
          | openssl dgst -sha1 -hmac "$sec" | sed 's/^.*= //')
    sig=$(printf %s "$hex" | base64 -w0)
    printf '{"deviceName":"%s","nonce":%s,"productId":"%s","timestamp":%s,"signature":"%s"}' "$d" "$nonce" "$p" "$ts" "$sig"
}

gw_entry() {  # PSK P D -> a signed entry of a gateway bind (docs/at.md "Gateway"), HMAC by openssl
    local r=$RANDOM ts hexkey sig
    ts=$(date +%s)
    hexkey=$(printf %s "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n')
    sig=$(printf '%s%s;%s;%s' "$2" "$3" "$r" "$ts" | openssl dgst -sha256 -mac HMAC -macopt hexkey:"$hexkey" -binary | base64 -w0)
    printf '{"product_id":"%s","device_name":"%s","random":%s,"timestamp":%s,"signmethod":"hmacsha256","signature":"%s"}' \
        "$2" "$3" "$r" "$ts" "$sig"
}
