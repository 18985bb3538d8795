#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 45
# `smartcfg device` through the cloud binding on a real mosquitto broker (in a private
# namespace): decode a capture, join (sim), ack, take the token on 8266, connect with the
# IoT Explorer credentials, publish app_bind_token and act on the reply: code 0 -> bound, exit 0;
# --broker with two addresses, the first one dead -> bound through the second; the first one
# killed while the device waits for its reply -> the link is opened again on the second, bound;
# code != 0 -> err 24 / sub = code, exit 5; no broker -> err 1, exit 5.
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
SC=${SC_BUILD:?}/smartcfg
DIR=${SC_SRC:?}/tests/integration
NS=scdp_cloud_$$
TMP=$(mktemp -d /tmp/scdp_cloud.XXXXXX)
cleanup() {
    netns_gone "$NS"
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.jsonl "$TMP"/*.err "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 25; }; done; exit 1; }
in_ns() { ip netns exec "$NS" "$@"; }
command -v mosquitto >/dev/null || { echo "FAIL: no mosquitto" >&2; exit 1; }

ip netns add "$NS" || fail "cannot create namespace"
in_ns ip link set lo up
PORT=18830
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" >"$TMP/mosq.conf"
in_ns mosquitto -c "$TMP/mosq.conf" >"$TMP/mosq.log" 2>&1 &
SECRET='c2VjcmV0LWRldmljZS1zZWNyZXQ='
TOKEN='abcdefabcdefabcdefabcdefabcdef12'
"$SC" air --ssid CloudAP --password 'cl0ud-pass' --ip 127.0.0.1 "$TMP/cap.pcap" >"$TMP/air.log" 2>&1 \
    || { grep -q "not implemented" "$TMP/air.log" && { echo "FAIL: smartcfg air not in this build" >&2; exit 1; }; fail "air"; }

run() { # $1 = tag, $2 = reply code ("" = no responder), $3 = broker port, $4 = called once the token is in
    rm -f "$TMP/up-$1.log"
    local resp=""
    if [ -n "$2" ]; then
        in_ns python3 "$DIR/bind_responder.py" "$PORT" ABCDEFGHIJ dev1 "$2" "$TMP/up-$1.log" &
        resp=$!
        sleep 0.3
    fi
    SMARTCFG_DEVICE_SECRET=$SECRET in_ns "$SC" device --radio "file:$TMP/cap.pcap" --join "sim:CloudAP:cl0ud-pass:127.0.0.2" \
        --sim-delay 200 --product-id ABCDEFGHIJ --device-name dev1 --broker "127.0.0.1:$3" --json --timeout 90 \
        --state-dir "$TMP/state-$1" --log-level debug >"$TMP/$1.jsonl" 2>"$TMP/$1.err" &
    local dev=$!
    for _ in $(seq 1 100); do
        grep -q '"state":"wait_token"' "$TMP/$1.jsonl" 2>/dev/null && break
        kill -0 "$dev" 2>/dev/null || break
        sleep 0.1
    done
    if grep -q "cannot initialise the device: not supported" "$TMP/$1.err"; then
        echo "FAIL: the device state machine is not in this build" >&2; exit 1
    fi
    in_ns python3 "$DIR/udp_peer.py" token 127.0.0.1 127.0.0.2 "$TOKEN" "$TMP/token-$1.log" >/dev/null 2>&1 \
        || fail "$1: token exchange"
    [ -n "${4:-}" ] && "$4" "$1"
    wait "$dev"; RC=$?
    [ -n "$resp" ] && kill "$resp" 2>/dev/null
    for s in "$SECRET" "$TOKEN" "cl0ud-pass"; do
        grep -qF -- "$s" "$TMP/$1.jsonl" "$TMP/$1.err" && fail "$1: a secret leaked"
        grep -rqF -- "$s" "$TMP/state-$1" && fail "$1: a secret persisted"
    done
    return 0
}

run ok 0 "$PORT"
[ "$RC" = 0 ] || fail "bound run: exit $RC"
grep -q '"event":"bound"' "$TMP/ok.jsonl" || fail "no bound event"
grep -q "\"token\":\"$TOKEN\"" "$TMP/up-ok.log" || fail "app_bind_token did not carry the token"
echo "bound: $(grep -o '"event":"bound","t_ms":[0-9]*' "$TMP/ok.jsonl")"

# --broker A,B: the first address refuses the connection, the device goes on to the second.
run failover 0 "1,127.0.0.1:$PORT"
[ "$RC" = 0 ] || fail "failover run: exit $RC"
grep -q '"event":"bound"' "$TMP/failover.jsonl" || fail "failover run: not bound"
echo "failover: first broker address refused, bound through the second"

# A broker of the list dies while the device waits for its reply (a cluster node killed): the
# device connects again, to the next address, sends its request again and is bound there.
PORT2=18831
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$PORT2" >"$TMP/mosq2.conf"
ip netns exec "$NS" mosquitto -c "$TMP/mosq2.conf" >"$TMP/mosq2.log" 2>&1 &   # not in_ns: $! must be mosquitto
MQ2=$!
kill_first() { # once the request went out on the first broker (nobody answers there)
    for _ in $(seq 1 150); do
        grep -q "app_bind_token published, try 1" "$TMP/$1.err" && break
        sleep 0.1
    done
    grep -q "app_bind_token published, try 1" "$TMP/$1.err" || fail "$1: no request published"
    kill -KILL "$MQ2"
    KILLED_AT=$(date +%s%N)
}
run nodekill 0 "$PORT2,127.0.0.1:$PORT" kill_first
BOUND_AT=$(date +%s%N)
[ "$RC" = 0 ] || fail "node-kill run: exit $RC (a lost link must not end the bind)"
grep -q '"event":"bound"' "$TMP/nodekill.jsonl" || fail "node-kill run: not bound"
grep -q "MQTT link lost while waiting: connecting again (1 of 3)" "$TMP/nodekill.err" || fail "node-kill run: no reconnect logged"
grep -q "\"token\":\"$TOKEN\"" "$TMP/up-nodekill.log" || fail "node-kill run: the second broker never saw the request"
# The cost of the kill: detecting the loss (the kernel resets the TCP link at once), one connect,
# login and subscribe on the second broker, one request and its reply, all on loopback: well
# under a second. 5 s is the issue's bound for a node kill (docs/scale.md).
ms=$(( (BOUND_AT - KILLED_AT) / 1000000 ))
[ "$ms" -lt 5000 ] || fail "node-kill run: bound $ms ms after the kill (want < 5000)"
echo "node kill: the first broker killed while waiting, bound through the second $ms ms later"

run refused 4321 "$PORT"
[ "$RC" = 5 ] || fail "refused run: exit $RC (want 5)"
grep -q '"err_id":24,"sub_id":4321' "$TMP/refused.jsonl" || fail "refused run: no err 24/4321"
echo "refused: exit $RC, err 24/4321"

run nobroker "" 1
[ "$RC" = 5 ] || fail "no-broker run: exit $RC (want 5)"
grep -q '"err_id":1,' "$TMP/nobroker.jsonl" || fail "no-broker run: no err 1"
echo "no broker: exit $RC, $(grep -o '"err_id":1,"sub_id":-\?[0-9]*' "$TMP/nobroker.jsonl" | head -1)"
echo "PASS"
