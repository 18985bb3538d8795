#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tencent's published mini-program SDK (npm, pinned by tests/integration/sdk/package-lock.json)
# against `smartcfg cloud`: token created through AppDevSdk, bind-state polling and family
# binding through wificonf-core's queryTokenStateAndBind, the device side simulated with
# mosquitto_rr holding correct credentials. Installed once into $SC_BUILD/npm-sdk and reused.
. "$(dirname "$0")/lib/cloud.bash"
: "${SC_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$(dirname "$0")/lib/sdk.bash"
ensure_sdk || fail "the SDK could not be installed"
NM=$(dirname "$SDK_MODULES")
ok "SDK installed in $NM"

start_cloud
P=SDKTEST001
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices '{"device_name":"dev1"}' | jget device_secret)
creds $P dev1 "$PSK" sha256

for flow in v2 v3; do
    rm -f "$T/token"
    SC_ACCESS_TOKEN=$ACCESS SC_FAMILY_ID=$FAMILY node "$SC_SRC/tests/integration/lib/sdk_app.js" "$NM/node_modules" "$BASE/" "$T/token" $flow > "$T/node.$flow" 2>&1 &
    NODE_PID=$!
    for _ in $(seq 600); do [ -s "$T/token" ] && break; sleep 0.1; done
    [ -s "$T/token" ] || { cat "$T/node.$flow"; fail "$flow: the SDK did not create a token"; }
    # The app polls every 2 s; bind after its first poll saw State 1.
    sleep 1
    REPLY=$(timeout 10 mosquitto_rr -h 127.0.0.1 -p "$MQTT_PORT" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -W 5 \
        -t "\$thing/up/service/$P/dev1" -e "\$thing/down/service/$P/dev1" \
        -m "{\"method\":\"app_bind_token\",\"clientToken\":\"dev1-1\",\"params\":{\"token\":\"$(cat "$T/token")\"}}")
    [ "$(echo "$REPLY" | jget code)" = 0 ] || fail "$flow: bind reply $REPLY"
    wait $NODE_PID || { cat "$T/node.$flow"; fail "$flow: the SDK flow failed"; }
    grep -q "^RESULT {\"productId\":\"$P\",\"deviceName\":\"dev1\"}" "$T/node.$flow" || { cat "$T/node.$flow"; fail "$flow: no result"; }
    grep -q "BUSINESS_QUERY_TOKEN_STATE_SUCCESS" "$T/node.$flow" || fail "$flow: state query did not succeed"
    ok "$flow flow: SDK token -> device bind over MQTT -> SDK poller sees the binding"
done
grep -q "BUSINESS_ADD_DEVICE_SUCCESS" "$T/node.v2" || fail "v2: AppTokenBindDeviceFamily did not succeed"
[ "$(get /v1/bindings | jget bindings.0.family_id)" = "$FAMILY" ] || fail "family binding not recorded"
ok "v2 flow: AppTokenBindDeviceFamily recorded"
stop_cloud
