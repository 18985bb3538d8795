#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 12
# Device end to end with each protocol on the virtual radio: `smartcfg send --protocol
# v1|v2|airkiss` sends on real UDP, `smartcfg device --radio udp` (listening for all three,
# the default) decodes, joins the simulated AP, acks in the protocol that locked (v1 UDP
# 18266, v2 18266 + 10000 * port mark, AirKiss the random byte to UDP 10000) and takes the
# token on UDP 8266. Also: a device restricted to other protocols does not take the session,
# and an encrypted v2 session reaches a device that has the key. Each case runs in a private
# namespace of its own, all at once: a case is ~25 s of waiting on the sender's schedule and the
# device's token linger, not of work, so running them side by side costs no margin.
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
SC=${SC_BUILD:?}/smartcfg
NSP=scdp_proto_$$
TMP=$(mktemp -d /tmp/scdp_proto.XXXXXX)
cleanup() {
    netns_gone_prefix "${NSP}_"
    rm -rf "$TMP"
}
trap cleanup EXIT
# fail MESSAGE [NAME]: inside a case (NAME given), the case's files only
fail() {
    echo "FAIL: $1"
    for f in "$TMP"/${2:-}*.jsonl "$TMP"/${2:-}*.err; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 15; }; done
    exit 1
}

PASSWORD='pr0to-pass'
TOKEN='00112233445566778899aabbccddeeff'
# case NAME PROTOCOL RADIO_PORT "device options" "send options" ["the credentials line's fields"]
run_case() {
    local name=$1 proto=$2 port=$3 dopts=$4 sopts=$5 fields=${6:-}
    local NS=${NSP}_$name
    in_ns() { ip netns exec "$NS" "$@"; }
    ip netns add "$NS" || fail "cannot create namespace" "$name"
    in_ns ip link set lo up
    # shellcheck disable=SC2086
    in_ns "$SC" device --radio "udp:$port" --join "sim:HomeNet:$PASSWORD:127.0.0.2" --product-id ABCDEFGHIJ \
        --device-name "dev-$name" --no-cloud --token-linger 2 --json --timeout 150 --state-dir "$TMP/state-$name" $dopts \
        >"$TMP/$name.jsonl" 2>"$TMP/$name.err" &
    local dev=$!
    # The device's radio is bound once it reports the sniffing state (it opens the radio first).
    # Its --timeout runs from its start, not the phone's: it is far above the phone's 50 s so a
    # slow start on a busy machine cannot end the device before the phone is done (a device
    # that is done exits at once, so a passing run does not wait for it).
    for _ in $(seq 600); do grep -q '"state":"sniffing"' "$TMP/$name.jsonl" 2>/dev/null && break; sleep 0.1; done
    grep -q '"state":"sniffing"' "$TMP/$name.jsonl" || fail "$name: the device did not start sniffing in 60 s" "$name"
    # shellcheck disable=SC2086
    in_ns "$SC" send --protocol "$proto" --ssid HomeNet --password "$PASSWORD" --ip 127.0.0.1 \
        --bssid 02:5c:00:00:00:01 --dest 127.255.255.255 --token "$TOKEN" --count 1 --timeout 50 --json $sopts \
        >"$TMP/$name.send.jsonl" 2>"$TMP/$name.send.err"
    local src=$?
    wait "$dev"
    local rd=$?
    [ "$src" = 0 ] || fail "$name: smartcfg send exit $src" "$name"
    [ "$rd" = 0 ] || fail "$name: device exit $rd" "$name"
    grep -q '"event":"credentials","t_ms":[0-9]*,"ssid":"HomeNet"' "$TMP/$name.jsonl" || fail "$name: no credentials" "$name"
    grep -q "session complete: $(case $proto in v1) echo esptouch-v1;; v2) echo esptouch-v2;; *) echo airkiss;; esac)" \
        "$TMP/$name.jsonl" "$TMP/$name.err" || fail "$name: not locked as $proto" "$name"
    grep -q '"event":"ack"' "$TMP/$name.send.jsonl" || fail "$name: the phone got no $proto ack" "$name"
    grep -q "\"event\":\"lock\",.*\"protocol\":\"$(case $proto in v1) echo esptouch-v1;; v2) echo esptouch-v2;; *) echo airkiss;; esac)\"" \
        "$TMP/$name.jsonl" || fail "$name: no lock line naming $proto" "$name"
    # the device says where its ack went: the phone's address (v1) or the broadcast one (v2 and
    # AirKiss carry no phone address; the line said 0.0.0.0)
    grep -q '"event":"ack",.*"peer":"0\.0\.0\.0' "$TMP/$name.jsonl" && fail "$name: ack reported to 0.0.0.0" "$name"
    # the phone says what it sends and where (the text said port 7001 for AirKiss too)
    grep -q "\"event\":\"sending\",.*\"protocol\":\"$(case $proto in v1) echo esptouch-v1;; v2) echo esptouch-v2;; *) echo airkiss;; esac)\".*\"port\":$port," \
        "$TMP/$name.send.jsonl" || fail "$name: the sending line does not name $proto and port $port" "$name"
    # the application hears the protocol and v2's reserved (custom) data
    if [ -n "$fields" ]; then
        grep -q "\"event\":\"credentials\",.*$fields" "$TMP/$name.jsonl" ||
            fail "$name: the credentials line lacks $fields" "$name"
    fi
    grep -q '"event":"token"' "$TMP/$name.jsonl" || fail "$name: no token" "$name"
    grep -qF -- "$PASSWORD" "$TMP/$name.jsonl" "$TMP/$name.err" && fail "$name: password leaked" "$name"
    echo "$name: $(grep -o '"event":"credentials","t_ms":[0-9]*' "$TMP/$name.jsonl")"
}
pids=()
run_case v1 v1 7001 "" "" '"protocol":"esptouch-v1"' & pids+=($!)
run_case v2 v2 7001 "" "--reserved hello --port-mark 1" '"protocol":"esptouch-v2","reserved_hex":"68656c6c6f"' & pids+=($!)
run_case v2aes v2 7001 "--aes-key 1234567890123456" "--aes-key 1234567890123456 --random-iv --reserved-hex 00ff7f80" \
    '"protocol":"esptouch-v2","reserved_hex":"00ff7f80"' & pids+=($!)
run_case airkiss airkiss 10001 "" "" '"protocol":"airkiss"' & pids+=($!)
run_case airkiss_only airkiss 10001 "--protocols airkiss" "" & pids+=($!)

# a device listening for v1 only never takes an AirKiss session
NS=${NSP}_neg
in_ns() { ip netns exec "$NS" "$@"; }
ip netns add "$NS" || fail "cannot create namespace"
in_ns ip link set lo up
in_ns "$SC" device --radio udp:10001 --join "sim:HomeNet:$PASSWORD:127.0.0.2" --product-id ABCDEFGHIJ \
    --device-name dev-neg --no-cloud --json --timeout 150 --protocols v1 --state-dir "$TMP/state-neg" \
    >"$TMP/neg.jsonl" 2>"$TMP/neg.err" &
DN=$!
# the device hears the phone's whole 6 s of AirKiss: it is listening before the phone starts
# and is stopped only after the phone is done
for _ in $(seq 600); do grep -q '"state":"sniffing"' "$TMP/neg.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"state":"sniffing"' "$TMP/neg.jsonl" || fail "neg: the device did not start sniffing in 60 s" neg
in_ns "$SC" send --protocol airkiss --ssid HomeNet --password "$PASSWORD" --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 \
    --dest 127.255.255.255 --no-token --count 1 --timeout 6 --json >"$TMP/neg.send.jsonl" 2>&1
grep -q '"event":"sending",' "$TMP/neg.send.jsonl" || fail "neg: the phone did not send" neg
# $DN is the backgrounded in_ns shell: the device is the one process left in the namespace
for p in $(ip netns pids "$NS"); do kill -TERM "$p" 2>/dev/null; done
wait "$DN"
grep -q '"event":"exit"' "$TMP/neg.jsonl" || fail "neg: the device did not stop cleanly" neg
grep -q '"event":"credentials"' "$TMP/neg.jsonl" && fail "a v1-only device decoded AirKiss" neg
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ $rc = 0 ] || { echo "FAIL: a case failed (above)"; exit 1; }
echo "PASS"
