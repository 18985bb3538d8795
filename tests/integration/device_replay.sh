#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `smartcfg device --radio file:` on a `smartcfg air` capture, in a private network namespace:
# credentials decoded, a simulated join, ESP-TOUCH acks observed on UDP 18266, the token
# exchanged on 8266 (--no-cloud), exit 0; a wrong sim password reports the join failure (err 10).
# No secret appears on stdout, stderr or in the state directory.
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
. "$(dirname "$0")/lib/wait.bash"
SC=${SC_BUILD:?}/smartcfg
PEER=${SC_SRC:?}/tests/integration/udp_peer.py
NS=scdp_replay_$$
TMP=$(mktemp -d /tmp/scdp_replay.XXXXXX)
cleanup() {
    netns_gone "$NS"
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err "$TMP"/*.jsonl; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done; exit 1; }
in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" || fail "cannot create namespace"
in_ns ip link set lo up
in_ns ip addr add 127.0.0.2/8 dev lo 2>/dev/null  # 127/8 is on lo already; harmless

PASSWORD='s3cret-Pa55:word'
SECRET='c2VjcmV0LWRldmljZS1zZWNyZXQ='
TOKEN='0123456789abcdef0123456789abcdef'
"$SC" air --ssid MyAP --password "$PASSWORD" --ip 127.0.0.1 --channel 6 "$TMP/cap.pcap" >"$TMP/air.out" 2>&1 \
    || { grep -q "not implemented" "$TMP/air.out" && { echo "FAIL: smartcfg air not in this build" >&2; exit 1; }; fail "smartcfg air"; }

ESC_PW=${PASSWORD//:/\\:}
run_device() { # $1 = join spec, $2 = tag
    SMARTCFG_DEVICE_SECRET=$SECRET in_ns "$SC" device --radio "file:$TMP/cap.pcap" --join "$1" \
        --product-id ABCDEFGHIJ --device-name dev1 --no-cloud --token-linger 2 --json --timeout 60 \
        --state-dir "$TMP/state-$2" --log-level debug >"$TMP/$2.jsonl" 2>"$TMP/$2.err" &
    DEV=$!
}

# --- the good run --------------------------------------------------------------------
# The listener lives until it is killed below; the device starts once it is bound.
in_ns python3 "$PEER" listen 127.0.0.1 18266 300 "$TMP/acks.out" "$TMP/listen.ready" >"$TMP/listen.out" 2>&1 &
LISTENER=$!
for _ in $(seq 300); do [ -e "$TMP/listen.ready" ] && break; sleep 0.1; done
[ -e "$TMP/listen.ready" ] || fail "the ack listener did not start"
run_device "sim:MyAP:$ESC_PW:127.0.0.2" ok
wait_line "$DEV" "$TMP/ok.jsonl" '"event":"ip"' 15
if grep -q "cannot initialise the device: not supported" "$TMP/ok.err"; then
    echo "FAIL: the device state machine is not in this build" >&2; exit 1
fi
grep -q '"event":"credentials","t_ms":[0-9]*,"ssid":"MyAP"' "$TMP/ok.jsonl" || fail "no credentials event"
grep -q '"event":"ip","t_ms":[0-9]*,"ip":"127.0.0.2"' "$TMP/ok.jsonl" || fail "no ip event"
in_ns python3 "$PEER" token 127.0.0.1 127.0.0.2 "$TOKEN" "$TMP/token.out" >"$TMP/token.log" 2>&1 || fail "token exchange: $(cat "$TMP/token.log")"
cat "$TMP/token.log"
wait "$DEV"; RC=$?
[ "$RC" = 0 ] || fail "device exit $RC (want 0)"
grep -q '"event":"token"' "$TMP/ok.jsonl" || fail "no token event"
grep -q '"event":"state","t_ms":[0-9]*,"state":"done"' "$TMP/ok.jsonl" || fail "no done state"
kill "$LISTENER" 2>/dev/null; wait "$LISTENER" 2>/dev/null
# acks: exactly 11 bytes, T = 9 + 4 + 16 = 29, then the MAC, then 127.0.0.2
NACK=$(grep -c '"hex": "1d[0-9a-f]\{12\}7f000002"' "$TMP/acks.out" 2>/dev/null)
[ "${NACK:-0}" -ge 1 ] || fail "no valid ack datagram on UDP 18266"
echo "acks observed: $NACK; events: $(grep -o '"event":"[a-z]*"' "$TMP/ok.jsonl" | sort | uniq -c | tr -s ' \n' ' ')"

# --- secrets never shown ----------------------------------------------------------------
for s in "$PASSWORD" "$SECRET" "$TOKEN"; do
    if grep -rqF -- "$s" "$TMP/ok.jsonl" "$TMP/ok.err" "$TMP/state-ok" 2>/dev/null; then fail "a secret leaked"; fi
done
# persisted records are private
BADPERM=$(find "$TMP/state-ok" -type f ! -perm 600 2>/dev/null | head -1)
[ -z "$BADPERM" ] || fail "record with loose permissions: $BADPERM"

# --- wrong password ----------------------------------------------------------------------
run_device "sim:MyAP:not-the-password:127.0.0.2" bad
wait "$DEV"; RC=$?
[ "$RC" != 0 ] || fail "wrong password: exit 0"
grep -q '"event":"error","t_ms":[0-9]*,"err_id":10,' "$TMP/bad.jsonl" || fail "wrong password: no err 10 event"
grep -q '"err_id":10,.*"reason":"wrong Wi-Fi password or AP out of range"' "$TMP/bad.jsonl" \
  || fail "wrong password: no plain reason in the error event"
grep -q 'wrong Wi-Fi password or AP out of range' "$TMP/bad.err" || fail "wrong password: reason not on the terminal"
grep -qF -- "$PASSWORD" "$TMP/bad.jsonl" "$TMP/bad.err" && fail "a secret leaked (wrong-password run)"
echo "wrong password: exit $RC, $(grep -o '"err_id":10,"sub_id":-\?[0-9]*' "$TMP/bad.jsonl" | head -1)"

# --- an encrypted v2 session and a device with another key ------------------------------------
# never credentials (no join with a guessed password), an error that says why (it used to say
# "no device key" though the device had one)
"$SC" air --protocol v2 --aes-key 1234567890123456 --ssid MyAP --password "$PASSWORD" --duration 15000 \
    "$TMP/aes.pcap" >/dev/null 2>&1 || fail "smartcfg air (v2, AES)"
SMARTCFG_DEVICE_SECRET=$SECRET in_ns "$SC" device --radio "file:$TMP/aes.pcap" --join "sim:MyAP:$ESC_PW:127.0.0.2" \
    --product-id ABCDEFGHIJ --device-name dev1 --no-cloud --json --timeout 10 --aes-key 6543210987654321 \
    --state-dir "$TMP/state-key" >"$TMP/key.jsonl" 2>"$TMP/key.err"
grep -q '"event":"credentials"' "$TMP/key.jsonl" && fail "wrong key: the device took credentials"
grep -q 'encrypted ESP-TOUCH v2 session: no device key, or not this one' "$TMP/key.err" ||
    fail "wrong key: the reason is not given"
grep -qF -- "$PASSWORD" "$TMP/key.jsonl" "$TMP/key.err" && fail "a secret leaked (wrong-key run)"
echo "wrong v2 key: no credentials, $(grep -c '"err_id":14' "$TMP/key.jsonl") error event(s)"
echo "PASS"
