#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Several devices, one run (#15 item 2): `smartcfg send --count 3 --cloud` against the real
# `smartcfg cloud` provisions three real `smartcfg device`s on the virtual radio (broadcast on
# loopback reaches all three), creates one token per device as Tencent's app does (one token
# cannot bind two devices: the cloud answers the second with 409), hands each its own, and sees
# all three bound. In a network namespace of its own; nothing is faked.
set -euo pipefail
. "$(dirname "$0")/lib/netns_self.bash"
netns_self SC_SEND_COUNT_CLOUD_NS scsend-count "$0"
. "$(dirname "$0")/lib/cloud.bash"
command -v mosquitto >/dev/null || fail "mosquitto not installed"
start_cloud
P=COUNTPROD1
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PIDS=()
for i in 1 2 3; do
    PSK=$(post /v1/products/$P/devices "{\"device_name\":\"multi_dev$i\"}" | jget device_secret)
    mkdir -p "$T/dev$i.state"
    SMARTCFG_DEVICE_SECRET=$PSK "$SMARTCFG" device --radio udp --join "sim:HomeNet:m4ny-devices:127.0.0.$((i + 1))" \
        --product-id $P --device-name "multi_dev$i" --broker 127.0.0.1:$MQTT_PORT --state-dir "$T/dev$i.state" \
        --timeout 90 --json > "$T/dev$i.ev" 2> "$T/dev$i.err" &
    PIDS+=($!)
done
# every device listens before the phone starts (the state event comes once its radio is open)
for i in 1 2 3; do
    for _ in $(seq 600); do grep -q '"state":"sniffing"' "$T/dev$i.ev" 2>/dev/null && break; sleep 0.1; done
    grep -q '"state":"sniffing"' "$T/dev$i.ev" || fail "device $i never started sniffing: $(tail -n 3 "$T/dev$i.err")"
done
rc=0
"$SMARTCFG" send --ssid HomeNet --password m4ny-devices --bssid 02:5c:00:00:00:01 --ip 127.0.0.1 \
    --dest 127.255.255.255 --count 3 --cloud "$BASE/" --access-token "$ACCESS" --timeout 60 --json \
    > "$T/send.ev" 2> "$T/send.err" || rc=$?
for p in "${PIDS[@]}"; do wait "$p" || true; done
show() { echo "--- send:"; cat "$T/send.ev" "$T/send.err"; for i in 1 2 3; do echo "--- dev$i:"; grep -v progress "$T/dev$i.ev" | tail -n 15; tail -n 5 "$T/dev$i.err"; done; }
[ $rc -eq 0 ] || { show; fail "send exit $rc"; }
for i in 1 2 3; do
    grep -q "\"event\":\"bound\".*\"device_name\":\"multi_dev$i\"" "$T/send.ev" || { show; fail "phone did not see multi_dev$i bound"; }
    grep -q '"event":"bound"' "$T/dev$i.ev" || { show; fail "multi_dev$i did not end bound"; }
    grep -q "\"event\":\"bind_result\".*\"device_name\":\"multi_dev$i\".*\"code\":0" "$T/cloud.events" \
        || { show; fail "the cloud did not record multi_dev$i's bind"; }
done
ok "three devices bound in one send --count 3 --cloud run"
# One token each: three created (the first before the run, one per further device as it acked),
# and the cloud binds one device per token, so three bound devices had three distinct tokens.
# (The abbreviated prefixes in the summary are shown, not compared: 4 characters may collide.)
[ "$(grep -c '"event":"token_created"' "$T/send.ev")" = 3 ] || { show; fail "want three token_created events"; }
[ "$(grep -c '"event":"token_created"' "$T/cloud.events")" = 3 ] || { show; fail "the cloud made $(grep -c '"event":"token_created"' "$T/cloud.events") tokens, want 3"; }
[ "$(jq -r 'select(.event=="summary") | .devices[] | select(.state=="bound") | .token' "$T/send.ev" | wc -l)" = 3 ] \
    || { show; fail "the summary does not list three bound devices with their tokens"; }
grep -q '"code":409\|, 409)' "$T/send.ev" "$T/cloud.events" && { show; fail "a device was refused (409)"; }
ok "one token per device ($(jq -r -c 'select(.event=="summary") | [.devices[].token]' "$T/send.ev"))"
grep -qF m4ny-devices "$T/send.ev" "$T/send.err" "$T/cloud.events" && fail "the Wi-Fi password leaked"
stop_cloud
