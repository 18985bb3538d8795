# SPDX-License-Identifier: Apache-2.0
# Shared by the AT MQTT pty tests: a temp dir, fail(), and a plain mosquitto on a free loopback
# port ($PORT, pid in $BROKER and $TMP/broker.pid; start_broker again restarts it on the same
# port, also from a subshell: the exit stops the newest). Source it after setting TMP_TAG; a
# test's own background processes go in BG_PIDS, stopped at exit too.
TMP=$(mktemp -d "/tmp/sc_${TMP_TAG:?}.XXXXXX")
BROKER=
BG_PIDS=
cleanup() {
    local p
    for p in $BG_PIDS; do kill "$p" 2>/dev/null; done
    [ -n "$BROKER" ] && kill "$BROKER" 2>/dev/null
    [ -f "$TMP/broker.pid" ] && kill "$(cat "$TMP/broker.pid")" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 60 "$f"; }; done; exit 1; }
command -v mosquitto >/dev/null || PATH=$PATH:/usr/sbin
command -v mosquitto >/dev/null || fail "mosquitto not installed (make deps)"
command -v mosquitto_pub >/dev/null || fail "mosquitto_pub not installed (make deps: mosquitto-clients)"

PORT=$(python3 "$(dirname "${BASH_SOURCE[0]}")/free_port.py" $$)   # leased: the broker restarts on it
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$TMP/mosq.conf"
start_broker() {
    mosquitto -c "$TMP/mosq.conf" >>"$TMP/broker.log" 2>&1 &
    BROKER=$!
    echo "$BROKER" >"$TMP/broker.pid"
    for _ in $(seq 1 100); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "broker did not start"
}
start_broker
