#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An idle `smartcfg cloud` (its own mosquitto, no device) does not wake its threads for nothing.
# The MQTT clients of OTA and of the data template ran mosquitto_loop(m, 100, 1) on their
# network threads: 10 wake-ups a second each, idle or not (103 voluntary context switches each
# in 10 s). They now sleep in poll() until their socket, their wake pipe (a publish from another
# thread, the stop) or the keepalive's next check (30 s) calls. Counted over WINDOW seconds from
# /proc/PID/task/TID/status (voluntary_ctxt_switches: each time the thread went to sleep):
#   1. at most one thread of the process woke 8 times a second or more (the main loop, whose
#      100 ms wait runs the binding service's client; before: three);
#   2. the threads mqtt-ota and mqtt-thing exist and each slept at most CLIENT_MAX times;
#   3. the clients still work when woken: an OTA update asked for through the API reaches a
#      device's topic at once, and a stop ends the idle cloud promptly.
WINDOW=5 CLIENT_MAX=5 BUSY=$((8 * 5))
. "$(dirname "$0")/lib/cloud.bash"
command -v mosquitto_sub >/dev/null || fail "no mosquitto_sub"
# a broker of the test's (--broker), so that the test can listen on the OTA topic
BPORT=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$BPORT" > "$T/mosquitto.conf"
mosquitto -c "$T/mosquitto.conf" >> "$T/broker.log" 2>&1 &
BRPID=$!
trap 'rc=$?; set +e; kill $BRPID; wait $BRPID; (exit $rc); cleanup' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$BPORT) 2>/dev/null && break; sleep 0.1; done
export SMARTCFG_SERVICE_USER=svc-user SMARTCFG_SERVICE_PASSWORD=svc-secret-pw-4711
NO_LOGIN=1 start_cloud --broker "127.0.0.1:$BPORT"
wait_readyz '{"ready":true} 200' 10 "with the broker reached"   # the clients subscribed
snap() {
    local t
    for t in /proc/$CLOUD_PID/task/*; do
        printf '%s %s %s\n' "${t##*/}" "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null)" \
            "$(tr ' ' _ < "$t/comm" 2>/dev/null)"
    done | sort
}
snap > "$T/a"; sleep $WINDOW; snap > "$T/b"
join "$T/a" "$T/b" | awk '{print $1, $4 - $2, $3}' > "$T/d"   # tid, switches in the window, name
sed 's/^/  /' "$T/d" | sort -k2 -n -r | head -12
busy=$(awk -v b=$BUSY '$2 >= b' "$T/d" | wc -l)
[ "$busy" -le 1 ] || fail "$busy threads woke $BUSY times or more in $WINDOW s (want 1, the main loop): $(awk -v b=$BUSY '$2 >= b' "$T/d" | tr '\n' ';')"
ok "threads waking 8 times a second or more: $busy (the main loop)"

for name in mqtt-ota mqtt-thing; do
    n=$(awk -v n="$name" '$3 == n {print $2}' "$T/d")
    [ -n "$n" ] || fail "no thread named $name: $(cut -d' ' -f3 "$T/d" | sort | uniq -c | tr '\n' ' ')"
    [ "$n" -le $CLIENT_MAX ] || fail "the idle $name thread slept $n times in $WINDOW s (want <= $CLIENT_MAX)"
    ok "the idle $name thread: $n wake-ups in $WINDOW s"
done

# 3. Woken by a publish from an HTTP thread: the OTA push reaches the device's topic.
P=IDLEPROD01
post /v1/products "{\"product_id\":\"$P\"}" > /dev/null
post /v1/products/$P/devices '{"device_name":"dev1"}' > /dev/null
head -c 3000 /dev/urandom > "$T/fw.bin"
curl -sS --max-time 10 -X POST -H "$(admin_auth)" --data-binary "@$T/fw.bin" \
    "$BASE/v1/products/$P/firmware?version=1.0.1" | jget md5 > /dev/null || fail "firmware upload"
mosquitto_sub -h 127.0.0.1 -p $BPORT -q 1 -t "\$ota/update/$P/dev1" -C 1 -W 10 > "$T/ota.msg" 2> "$T/ota.err" &
SUB=$!
sleep 0.5   # subscribed
t0=$(date +%s%3N)
code=$(curl -s --max-time 10 -o "$T/ota.out" -w '%{http_code}' -X POST -H "$(admin_auth)" \
    -H 'Content-Type: application/json' "$BASE/v1/products/$P/devices/dev1/ota" -d '{"version":"1.0.1"}' || true)
[ "$code" = 202 ] || fail "the OTA request: HTTP $code: $(cat "$T/ota.out")"
wait $SUB || fail "no OTA update on \$ota/update/$P/dev1 within 10 s: $(cat "$T/ota.err")"
took=$(($(date +%s%3N) - t0))
grep -q '1.0.1' "$T/ota.msg" || fail "the OTA message: $(cat "$T/ota.msg")"
[ $took -le 2000 ] || fail "the OTA update took $took ms to reach the device's topic (want <= 2000)"
ok "an OTA update asked for through the API reached the device's topic within $took ms"
t0=$(date +%s%3N); kill -TERM "$CLOUD_PID"; rc=0; wait "$CLOUD_PID" || rc=$?; took=$(($(date +%s%3N) - t0)); CLOUD_PID=""
[ $rc -eq 0 ] && [ $took -le 3000 ] || fail "the stop of the idle cloud: exit $rc after $took ms (want 0 within 3000)"
ok "the idle cloud stopped in $took ms"
