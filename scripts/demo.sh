#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make demo: one whole provisioning on this machine, sender to bound device.
#   smartcfg cloud  - mosquitto + broker plugin + binding service + the app's token API
#   smartcfg device - virtual radio (ESP-TOUCH datagrams on UDP 7001 become sniffed frames),
#                     a simulated AP, the device living on 127.0.0.2
#   smartcfg send   - the phone: ESP-TOUCH, acks, token on UDP 8266, polling the cloud
# Everything it starts is stopped at the end; every run starts from a fresh state.
set -euo pipefail
BUILD=${1:-build}
SC=$BUILD/smartcfg
[ -x "$SC" ] || { echo "demo: $SC not built (run make)"; exit 1; }
T=$(mktemp -d /tmp/smartcfg-demo.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # the EXIT trap cleans up

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { # the local default, or the next free one
    local p=$1
    while ! port_free "$p"; do p=$((p + 1)); done
    echo "$p"
}
HTTP_PORT=$(pick_port 8080)
MQTT_PORT=$(pick_port 1883)
[ "$HTTP_PORT" = 8080 ] || echo "demo: 8080 is taken, the cloud's HTTP API uses $HTTP_PORT"
[ "$MQTT_PORT" = 1883 ] || echo "demo: 1883 is taken, the cloud's broker uses $MQTT_PORT"
CLOUD_URL=http://127.0.0.1:$HTTP_PORT
SSID=smartcfg-demo-ap
WIFI_PASS=demo-pass-$RANDOM$RANDOM
PRODUCT=DEMOPRD001
DEVNAME=demo-device-1

C_CLOUD=$'\e[36m' C_DEV=$'\e[33m' C_PHONE=$'\e[32m' C_OFF=$'\e[0m'
[ -t 1 ] || { C_CLOUD='' C_DEV='' C_PHONE='' C_OFF=''; }
show() { # prefix every line of a growing file
    local tag=$1 color=$2 file=$3
    tail -n +1 -F "$file" 2>/dev/null | sed -u "s/^/${color}[${tag}]${C_OFF} /" &
    pids+=("$!")
}

echo "== smartcfg demo: phone -> device -> cloud on 127.0.0.1 (state in $T)"
touch "$T/cloud.err" "$T/device.err" "$T/phone.out"
# The admin API wants a key; the demo makes its own (the cloud would otherwise make one).
(umask 077; od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$T/admin.key")
AUTH="Authorization: Bearer $(cat "$T/admin.key")"
"$SC" cloud --http 127.0.0.1:$HTTP_PORT --mqtt 127.0.0.1:$MQTT_PORT --db "$T/cloud.db" --admin-key-file "$T/admin.key" \
    >"$T/cloud.out" 2>"$T/cloud.err" &
pids+=("$!")
show cloud "$C_CLOUD" "$T/cloud.err"
for _ in $(seq 100); do
    curl -sf -o /dev/null -H "$AUTH" "$CLOUD_URL/v1/bindings" && break
    sleep 0.1
done
curl -sf -o /dev/null -H "$AUTH" "$CLOUD_URL/v1/bindings" || { echo "demo: the cloud did not start"; exit 1; }
curl -sf -H "$AUTH" -X POST "$CLOUD_URL/v1/products" -d "{\"product_id\":\"$PRODUCT\"}" >/dev/null
DEVICE_SECRET=$(curl -sf -H "$AUTH" -X POST "$CLOUD_URL/v1/products/$PRODUCT/devices" -d "{\"device_name\":\"$DEVNAME\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["device_secret"])')
# The phone's user: made with the admin API, logged in through the token API (AppGetToken).
curl -sf -H "$AUTH" -X POST "$CLOUD_URL/v1/users" -d '{"user_name":"demo","password":"demo-password"}' >/dev/null
ACCESS=$(curl -sf -X POST "$CLOUD_URL/tokenapi?cmd=AppGetToken" -d '{"Action":"AppGetToken","UserName":"demo","Password":"demo-password"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["Token"])')
echo "${C_CLOUD}[cloud]${C_OFF} product $PRODUCT, device $DEVNAME created"

SMARTCFG_DEVICE_SECRET=$DEVICE_SECRET "$SC" device --radio udp --join "sim:$SSID:$WIFI_PASS:127.0.0.2" \
    --product-id $PRODUCT --device-name $DEVNAME --broker 127.0.0.1:$MQTT_PORT \
    --state-dir "$T/device" --timeout 120 --json >"$T/device.json" 2>"$T/device.err" &
DEV_PID=$!
pids+=("$DEV_PID")
show device "$C_DEV" "$T/device.err"
sleep 0.5

touch "$T/phone.json"
tail -n +1 -F "$T/phone.json" 2>/dev/null | python3 -u "$(dirname "$0")/demo_story.py" --live "${C_PHONE}[phone]${C_OFF}" &
pids+=("$!")
rc=0
"$SC" send --ssid "$SSID" --password-file - --bssid 02:5c:00:00:00:01 --ip 127.0.0.1 --dest 127.0.0.1 \
    --cloud "$CLOUD_URL" --access-token "$ACCESS" --count 1 --timeout 60 --json <<<"$WIFI_PASS" >"$T/phone.json" 2>"$T/phone.err" || rc=$?
sleep 0.3
python3 "$(dirname "$0")/demo_story.py" "$T/phone.json" "$T/device.json" || true
dev_rc=0
wait "$DEV_PID" || dev_rc=$?
sleep 0.2
if [ "$rc" = 0 ] && [ "$dev_rc" = 0 ]; then
    echo "== demo: device $PRODUCT/$DEVNAME provisioned and bound"
    exit 0
fi
echo "== demo FAILED (send exit $rc, device exit $dev_rc)"
sed 's/^/[phone] /' "$T/phone.err" | tail -20
exit 1
