#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An OTA update asked for while the cloud's OTA MQTT client has lost the broker: the answer is
# 503 ("cannot publish"), and the update must then never reach the device. libmosquitto keeps a
# QoS 1 publish made while disconnected in its queue (mosquitto_publish says "not connected")
# and sends it at the next reconnect, so the device got, minutes or hours later, an update the
# operator was told had failed (and got it twice if the operator asked again).
. "$(dirname "$0")/lib/cloud.bash"
command -v mosquitto >/dev/null || fail "no mosquitto broker"
command -v mosquitto_sub >/dev/null || fail "no mosquitto_sub"
BPORT=$(free_port)
broker_up() {
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$BPORT" > "$T/mosquitto.conf"
    mosquitto -c "$T/mosquitto.conf" >> "$T/broker.log" 2>&1 &
    BRPID=$!
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$BPORT) 2>/dev/null && return 0; sleep 0.1; done
    fail "mosquitto did not listen on 127.0.0.1:$BPORT: $(cat "$T/broker.log")"
}
broker_down() { kill $BRPID 2>/dev/null; wait $BRPID 2>/dev/null || true; }
broker_up
SUBPID=""
trap 'rc=$?; set +e; [ -n "$SUBPID" ] && kill $SUBPID; broker_down; (exit $rc); cleanup' EXIT
export SMARTCFG_SERVICE_USER=svc-user SMARTCFG_SERVICE_PASSWORD=svc-secret-pw-4711
NO_LOGIN=1 start_cloud --broker "127.0.0.1:$BPORT"
wait_readyz '{"ready":true} 200' 10 "with the broker reached"
P=OTAOFFLINE
D=ota_offline1
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
post /v1/products/$P/devices "{\"device_name\":\"$D\"}" | jget device_secret >/dev/null
head -c 5000 /dev/urandom > "$T/fw.bin"
curl -sS --max-time 10 -X POST -H "$(admin_auth)" --data-binary "@$T/fw.bin" \
    "$BASE/v1/products/$P/firmware?version=2.0.0" | jget md5 >/dev/null || fail "firmware upload"
ota() { curl -s --max-time 10 -o "$T/ota.out" -w '%{http_code}' -X POST -H "$(admin_auth)" \
    -H 'Content-Type: application/json' "$BASE/v1/products/$P/devices/$D/ota" -d '{"version":"2.0.0"}' || true; }

broker_down
wait_readyz '{"ready":false,"reason":"broker"} 503' 10 "with the broker gone"
code=$(ota)
[ "$code" = 503 ] || fail "an update with the broker gone: HTTP $code (want 503): $(cat "$T/ota.out")"
grep -q "cannot publish" "$T/ota.out" || fail "the 503 does not say why: $(cat "$T/ota.out")"
# the broker back, a subscriber on the device's topic before the OTA client's reconnect (1 s
# after the loss at the earliest, then 2, 4 s...): whatever the client sends on it now is seen
broker_up
mosquitto_sub -h 127.0.0.1 -p $BPORT -q 1 -v -t "\$ota/update/$P/$D" > "$T/sub.out" 2> "$T/sub.err" &
SUBPID=$!
wait_readyz '{"ready":true} 200' 20 "with the broker back"
sleep 2   # a queued publish goes out right after the CONNACK
[ ! -s "$T/sub.out" ] || fail "the update answered 503 reached the device after the reconnect: $(cat "$T/sub.out")"
ok "an update asked for with the broker gone: 503, and nothing sent at the reconnect"
# connected: the same request goes out at once, once
code=$(ota)
[ "$code" = 202 ] || fail "an update with the broker back: HTTP $code (want 202): $(cat "$T/ota.out")"
for _ in $(seq 50); do [ -s "$T/sub.out" ] && break; sleep 0.1; done
sleep 0.5
n=$(grep -c update_firmware "$T/sub.out" || true)
[ "$n" = 1 ] || fail "the update with the broker back: $n messages on the device's topic (want 1): $(cat "$T/sub.out")"
ok "the same update with the broker back: 202, one message"
