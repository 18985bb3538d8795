#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Phone and devices on one host with no Wi-Fi: `smartcfg send` sends ESP-TOUCH over UDP, each
# `smartcfg device --radio udp` turns the datagrams into sniffed frames, decodes, joins a
# simulated AP, acks and takes the token. Two devices share the port (each on its own
# 127.0.0.x address and with its own MAC) in a private network namespace.
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
SC=${SC_BUILD:?}/smartcfg
NS=scdp_virt_$$
TMP=$(mktemp -d /tmp/scdp_virt.XXXXXX)
cleanup() {
    netns_gone "$NS"
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.jsonl "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 25; }; done; exit 1; }
in_ns() { ip netns exec "$NS" "$@"; }

"$SC" send --help 2>&1 | grep -q -- "--dest" || { echo "FAIL: smartcfg send not in this build" >&2; exit 1; }
ip netns add "$NS" || fail "cannot create namespace"
in_ns ip link set lo up

PASSWORD='v1rtual-pass'
TOKEN='00112233445566778899aabbccddeeff'
start_device() { # $1 = address, $2 = name
    in_ns "$SC" device --radio udp --join "sim:HomeNet:$PASSWORD:$1" --product-id ABCDEFGHIJ --device-name "$2" \
        --no-cloud --token-linger 2 --json --timeout 90 --state-dir "$TMP/state-$2" >"$TMP/$2.jsonl" 2>"$TMP/$2.err" &
}
start_device 127.0.0.2 devA; DA=$!
start_device 127.0.0.3 devB; DB=$!
sleep 0.5
if grep -q "cannot initialise the device: not supported" "$TMP/devA.err"; then
    echo "FAIL: the device state machine is not in this build" >&2; exit 1
fi
# Broadcast on loopback reaches every socket bound to port 7001.
in_ns "$SC" send --ssid HomeNet --password "$PASSWORD" --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 --dest 127.255.255.255 \
    --token "$TOKEN" --count 2 --timeout 60 --json >"$TMP/send.jsonl" 2>"$TMP/send.err"
SRC=$?
wait "$DA"; RA=$?
wait "$DB"; RB=$?
[ "$SRC" = 0 ] || fail "smartcfg send exit $SRC"
[ "$RA" = 0 ] || fail "device A exit $RA"
[ "$RB" = 0 ] || fail "device B exit $RB"
for d in devA devB; do
    grep -q '"event":"credentials","t_ms":[0-9]*,"ssid":"HomeNet"' "$TMP/$d.jsonl" || fail "$d: no credentials"
    grep -q '"event":"token"' "$TMP/$d.jsonl" || fail "$d: no token"
    grep -qF -- "$PASSWORD" "$TMP/$d.jsonl" "$TMP/$d.err" && fail "$d: password leaked"
    grep -qF -- "$TOKEN" "$TMP/$d.jsonl" "$TMP/$d.err" && fail "$d: token leaked"
    echo "$d: $(grep -o '"event":"credentials","t_ms":[0-9]*' "$TMP/$d.jsonl") $(grep -o '"event":"token","t_ms":[0-9]*' "$TMP/$d.jsonl")"
done
echo "PASS"
