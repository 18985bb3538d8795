#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 35
# The whole Tencent flow after an ESP-TOUCH v2 (plain and AES) and an AirKiss session, with no
# fake anywhere: `smartcfg send --protocol v2|airkiss --cloud` (the phone) takes a token from
# `smartcfg cloud`, provisions `smartcfg device` on its virtual radio (--radio udp), gets the
# ack in that protocol (v2: UDP 18266 + 10000 * port mark; AirKiss: UDP 10000), hands the token
# over UDP 8266; the device publishes app_bind_token through the real mosquitto + smartcfg_auth
# and the phone sees the token's state reach bound through the token API. Plus: after an
# AirKiss session a device whose secret the cloud does not know -- its MQTT login refused, the
# phone gets Current_Error (1, 5) and the device serves its log on UDP 9876; and an AirKiss
# phone with a device restricted to v1,v2 -- nothing decoded, nothing bound. Every JSON line
# of the three programs follows docs/json.md. (v1 has the same flow in integ.cloud_e2e.)
# Each case runs in a network namespace of its own with its own cloud and broker, all at once:
# a case is mostly waiting (the sender's schedule, the binding round trips), not work.
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
DIR=$(cd "$(dirname "$0")" && pwd)

if [ -z "${SC_DCP_CASE:-}" ]; then
    : "${SC_BUILD:?}"
    NSP=scdcp_$$
    OUT=$(mktemp -d /tmp/scdcp.XXXXXX)
    cleanup() {
        netns_gone_prefix "${NSP}_"
        rm -rf "$OUT"
    }
    trap cleanup EXIT
    trap 'exit 143' TERM INT
    # case NAME PROTOCOL RADIO_PORT ACK_PORT "device options" "send options" ok|neg|err "credentials fields"
    names=(); pids=()
    start_case() {
        local ns=${NSP}_$1
        ip netns add "$ns" || { echo "FAIL: cannot create a network namespace"; exit 1; }
        ip -n "$ns" link set lo up
        # the case's files (its cloud's too) under $OUT: removed however the run ends
        mkdir -p "$OUT/$1.tmp"
        SC_DCP_CASE=$1 TMPDIR=$OUT/$1.tmp ip netns exec "$ns" bash "$0" "$@" >"$OUT/$1.out" 2>&1 &
        names+=("$1"); pids+=($!)
    }
    start_case v2 v2 7001 28266 "" "--reserved hello --port-mark 1" ok '"reserved_hex":"68656c6c6f"'
    start_case v2aes v2 7001 38266 "--aes-key 1234567890123456" "--aes-key 1234567890123456 --random-iv --port-mark 2" ok
    start_case airkiss airkiss 10001 10000 "" "" ok
    start_case neg airkiss 10001 10000 "--protocols v1,v2" "" neg
    start_case err airkiss 10001 10000 "" "" err
    rc=0
    for i in "${!pids[@]}"; do
        if wait "${pids[$i]}"; then r=0; else r=$?; rc=1; fi
        echo "=== ${names[$i]} (exit $r)"; cat "$OUT/${names[$i]}.out"
    done
    [ $rc = 0 ] || { echo "FAIL: a case failed (above)"; exit 1; }
    echo "PASS"
    exit 0
fi

# One case, inside its namespace.
NAME=$1 PROTO=$2 PORT=$3 ACKPORT=$4 DOPTS=$5 SOPTS=$6 MODE=$7 FIELDS=${8:-}
. "$DIR/lib/cloud.bash"
case $PROTO in v2) PNAME=esptouch-v2 ;; airkiss) PNAME=airkiss ;; *) PNAME=esptouch-v1 ;; esac
PASSWORD='pr0to-cl0ud-pass'
P=PROTOCLD01
DN=dev-$NAME
# fail_case MESSAGE: with the case's files
fail_case() {
    echo "FAIL: $NAME: $1"
    for f in "$T"/*.jsonl "$T"/*.err; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 20; }; done
    exit 1
}
# json_lines_ok, once the device is done: every line of both sides follows docs/json.md (the
# cloud's: lib/cloud.bash checks them at exit)
json_lines_ok() {
    python3 "$CLOUD_LIB_TOP/scripts/json_check.py" "$CLOUD_LIB_TOP/docs/json.md" device "$T/dev.jsonl" >"$T/json.log" 2>&1 &&
        python3 "$CLOUD_LIB_TOP/scripts/json_check.py" "$CLOUD_LIB_TOP/docs/json.md" send "$T/send.jsonl" >>"$T/json.log" 2>&1 ||
        fail_case "a JSON line breaks docs/json.md: $(cat "$T/json.log")"
}
start_cloud
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices "{\"device_name\":\"$DN\"}" | jget device_secret) || fail "no device secret"
DSECRET=$PSK
# err: the device holds a secret the cloud does not know, its MQTT login is refused
[ "$MODE" = err ] && DSECRET=$(printf 'not-the-secret-%s' "$NAME" | base64)

DLINGER=""
[ "$MODE" = err ] && DLINGER="--log-linger 100"
# shellcheck disable=SC2086
SMARTCFG_DEVICE_SECRET=$DSECRET "$SMARTCFG" device --radio "udp:$PORT" --join "sim:HomeNet:$PASSWORD:127.0.0.2" \
    --product-id $P --device-name "$DN" --broker "127.0.0.1:$MQTT_PORT" --json --timeout 150 \
    --state-dir "$T/state" --log-level debug $DLINGER $DOPTS >"$T/dev.jsonl" 2>"$T/dev.err" &
DEV=$!
# The radio is bound once the device reports sniffing. Its --timeout runs from its start and is
# far above the phone's, so a slow start cannot end it early (a device that is done exits).
for _ in $(seq 600); do grep -q '"state":"sniffing"' "$T/dev.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"state":"sniffing"' "$T/dev.jsonl" || fail_case "the device did not start sniffing in 60 s"

# err: the device's log service (UDP 9876, up once it has failed) asked from the start, so a
# slow machine cannot make the test miss it; a reply means the service is up
PULL=""
if [ "$MODE" = err ]; then
    python3 - >"$T/pulled.log" 2>&1 <<'PYEOF' &
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
end = time.monotonic() + 100
while time.monotonic() < end:
    s.sendto(b'{"cmdType":3}', ("127.0.0.2", 9876))
    try:
        print(s.recvfrom(8192)[0].decode("utf-8", "replace"))
        break
    except OSError:  # nothing there yet (refused) or no answer
        time.sleep(0.2)
PYEOF
    PULL=$!
fi
STIMEOUT=50
[ "$MODE" = neg ] && STIMEOUT=12   # the whole of it heard: well past AirKiss's first cycles
SRC=0
# shellcheck disable=SC2086
"$SMARTCFG" send --protocol "$PROTO" --ssid HomeNet --password "$PASSWORD" --ip 127.0.0.1 \
    --bssid 02:5c:00:00:00:01 --dest 127.255.255.255 --cloud "$BASE/" --access-token "$ACCESS" \
    --count 1 --timeout $STIMEOUT --json $SOPTS >"$T/send.jsonl" 2>"$T/send.err" || SRC=$?
grep -q "\"event\":\"sending\",.*\"protocol\":\"$PNAME\".*\"port\":$PORT," "$T/send.jsonl" \
    || fail_case "the phone's sending line does not name $PNAME and port $PORT"
TOKP=$(grep -o '"event":"token_created","t_ms":[0-9]*,"token":"[^"]*"' "$T/send.jsonl" | head -n 1 | sed 's/.*"token":"//; s/"$//' || true)
[ -n "$TOKP" ] || fail_case "the phone got no token from the cloud"

if [ "$MODE" = neg ]; then
    [ "$SRC" = 3 ] || fail_case "send exit $SRC (want 3, timeout)"
    kill -TERM $DEV 2>/dev/null
    DRC=0; wait $DEV || DRC=$?
    grep -q '"event":"exit"' "$T/dev.jsonl" || fail_case "the device did not stop cleanly (exit $DRC)"
    grep -q '"event":"credentials"' "$T/dev.jsonl" && fail_case "a v1,v2-only device decoded AirKiss"
    grep -q -e '"event":"ack"' -e '"event":"bound"' "$T/send.jsonl" && fail_case "the phone saw an ack or a binding"
    grep -q '"event":"bind_result"' "$T/cloud.events" && fail_case "the cloud recorded a binding"
    echo "ok - $NAME: an AirKiss phone and a v1,v2-only device: no credentials, no ack, no binding"
    exit 0
fi

# ok and err: the device locked in the protocol, decoded, acked in that protocol (v2 to
# 18266 + 10000 * port mark, AirKiss to 10000) and the phone heard the ack on that port
grep -q "\"event\":\"lock\",.*\"protocol\":\"$PNAME\"" "$T/dev.jsonl" || fail_case "no lock line naming $PNAME"
grep -q "\"event\":\"credentials\",\"t_ms\":[0-9]*,\"ssid\":\"HomeNet\",\"protocol\":\"$PNAME\"${FIELDS:+,$FIELDS}" "$T/dev.jsonl" \
    || fail_case "no credentials line with $PNAME ${FIELDS}"
grep -q "\"event\":\"sending\",.*\"ack_port\":$ACKPORT," "$T/send.jsonl" || fail_case "the phone did not listen on $ACKPORT"
grep -q "\"event\":\"ack\",\"t_ms\":[0-9]*,\"peer\":\"255.255.255.255:$ACKPORT\"" "$T/dev.jsonl" \
    || fail_case "the device did not ack to port $ACKPORT"
grep -q '"event":"ack",.*"ip":"127.0.0.2"' "$T/send.jsonl" || fail_case "the phone got no $PNAME ack from 127.0.0.2"
# the token on UDP 8266: sent by the phone, taken by the device, answered with its identity
grep -q "\"event\":\"token_sent\",.*\"token\":\"$TOKP\"" "$T/send.jsonl" || fail_case "the phone did not send its token $TOKP"
grep -q '"event":"token","t_ms":[0-9]*,"peer":"127.0.0.1:8266"' "$T/dev.jsonl" || fail_case "the device took no token on 8266"
grep -q "\"event\":\"identity\",.*\"product_id\":\"$P\",\"device_name\":\"$DN\"" "$T/send.jsonl" \
    || fail_case "the phone got no identity from $DN"

if [ "$MODE" = err ]; then
    # the refused MQTT login: err 1 on the device, Current_Error to the phone (send exit 4),
    # the cloud's broker refused it; then the device serves its log (the log soft-AP's UDP
    # 9876), which names the step and the failure
    [ "$SRC" = 4 ] || fail_case "send exit $SRC (want 4, device error)"
    grep -q '"event":"device_error",.*"message":"MQTT connect error! (1, [0-9-]*)","err_id":1,' "$T/send.jsonl" \
        || fail_case "the phone got no Current_Error (1, n)"
    grep -q '"event":"bound"' "$T/send.jsonl" && fail_case "the phone saw a binding"
    wait $PULL
    grep -q "serving the provisioning log on UDP 9876" "$T/dev.err" || fail_case "the device did not serve its log after the failure"
    grep -q "enter binding" "$T/pulled.log" && grep -q "MQTT connect error" "$T/pulled.log" \
        || fail_case "the log pulled on UDP 9876 does not show the binding step and the MQTT failure: $(cat "$T/pulled.log")"
    # the device lingers for the log a while yet: stopped here (it had failed: exit 5 all the same)
    kill -TERM $DEV 2>/dev/null
    DRC=0; wait $DEV || DRC=$?
    [ "$DRC" = 5 ] || fail_case "device exit $DRC (want 5, cloud)"
    json_lines_ok
    grep -q '"event":"error",.*"err_id":1,' "$T/dev.jsonl" || fail_case "the device recorded no err 1"
    for _ in $(seq 50); do grep -q '"event":"device_refused"' "$T/cloud.events" && break; sleep 0.1; done
    grep -q "\"event\":\"device_refused\",\"t_ms\":[0-9]*,\"client\":\"$P$DN\",\"reason\":\"bad_signature\"" "$T/cloud.events" \
        || fail_case "the cloud's broker did not refuse $P$DN for its signature"
    grep -q '"event":"bind_result"' "$T/cloud.events" && fail_case "the cloud recorded a binding"
    echo "ok - $NAME: $PNAME ack, token $TOKP on 8266, MQTT login refused: Current_Error (1, n) to the phone, log on 9876"
    exit 0
fi

DRC=0; wait $DEV || DRC=$?
[ "$SRC" = 0 ] || fail_case "smartcfg send exit $SRC"
[ "$DRC" = 0 ] || fail_case "device exit $DRC"
json_lines_ok
# the device's app_bind_token over MQTT carried that token; the cloud bound it; the device heard code 0
grep -q "app_bind_token published" "$T/dev.err" || fail_case "the device published no app_bind_token"
grep -q "\"event\":\"bind_result\",\"t_ms\":[0-9]*,\"product_id\":\"$P\",\"device_name\":\"$DN\",\"token\":\"$TOKP\",\"code\":0" \
    "$T/cloud.events" || fail_case "the cloud did not bind $DN with token $TOKP"
grep -q '"event":"bound"' "$T/dev.jsonl" || fail_case "the device did not report bound"
# the phone saw the token's state reach bound (AppGetDeviceBindTokenState) with this device
grep -q "\"event\":\"poll\",.*\"state\":2" "$T/send.jsonl" || fail_case "the phone never polled state 2"
grep -q "\"event\":\"bound\",.*\"product_id\":\"$P\",\"device_name\":\"$DN\"" "$T/send.jsonl" \
    || fail_case "the phone did not see $DN bound"
for s in "$PASSWORD" "$PSK"; do
    grep -qF -- "$s" "$T/dev.jsonl" "$T/dev.err" "$T/send.jsonl" "$T/send.err" "$T/cloud.events" "$T/cloud.err" \
        && fail_case "a secret leaked"
done
echo "ok - $NAME: $PNAME ack, token $TOKP on 8266, app_bind_token, bound; $(grep -o '"event":"bound","t_ms":[0-9]*' "$T/send.jsonl")"
