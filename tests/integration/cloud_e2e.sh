#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole flow on one host, in a network namespace of its own, with no fake anywhere:
# `smartcfg send --cloud` (the phone) gets a token from `smartcfg cloud`, provisions a real
# `smartcfg device` over its virtual radio, hands it the token over UDP 8266; the device binds
# over MQTT through the real mosquitto + smartcfg_auth; the phone sees the binding through the
# token API. A device with its secret; the same with its millisecond clock wrapping mid-flow;
# one whose wall clock reads 1970 (not set yet), over TLS (F205, F206); one using dynamic
# registration (/register/dev); then PSK records of before F32.
# (Fails if a piece it needs is missing from the build: nothing is skipped.)
set -euo pipefail
. "$(dirname "$0")/lib/netns_self.bash"
netns_self SC_CLOUD_E2E_NS sccloud-e2e "$0"
. "$(dirname "$0")/lib/cloud.bash"
command -v mosquitto >/dev/null || fail "mosquitto not installed"
# F181: the mosquitto the cloud starts inherits none of the variables of the cloud's own secrets
# (left exported in an operator's shell or a unit file); $PGPASSWORD stays, the plugin's libpq
# reads it
MQTTS_PORT=$(free_port)   # the cloud's MQTT over TLS (its own CA in $T/tls), for the clock's flow
SMARTCFG_RABBITMQ_PASSWORD=rmq-S3cret-e2e SMARTCFG_SERVICE_PASSWORD=svc-S3cret-e2e PGPASSWORD=pg-e2e start_cloud \
    --mqtts 127.0.0.1:$MQTTS_PORT
MOSQ=$(pgrep -P "$CLOUD_PID" mosquitto) || fail "no mosquitto child of the cloud"
tr '\0' '\n' <"/proc/$MOSQ/environ" >"$T/mosq.env" || fail "cannot read mosquitto's environment"
grep -q '^PGPASSWORD=pg-e2e$' "$T/mosq.env" || fail "mosquitto lacks PGPASSWORD (or the test set none)"
grep -q 'S3cret-e2e' "$T/mosq.env" && fail "mosquitto inherited: $(grep -o '^[A-Z_]*=[a-z]*-S3cret' "$T/mosq.env" | tr '\n' ' ')"
P=E2EPROD001
SECRET=$(post /v1/products "{\"product_id\":\"$P\"}" | jget product_secret)
PSK=$(post /v1/products/$P/devices '{"device_name":"e2e_dev1"}' | jget device_secret)

DEV_WRAP=""   # with_wallclock: the device's wall clock from $T/wall (lib/cloud.bash)
DEV_BROKER=""
run_flow() {  # NAME DEVICE-NAME [device identity options...]
    local name=$1 dn=$2; shift 2
    mkdir -p "$T/$name.state"
    $DEV_WRAP "$SMARTCFG" device --radio udp --join sim:TP-LINK_2.4G:12345678:127.0.0.2 --product-id $P --device-name "$dn" \
        --broker "${DEV_BROKER:-127.0.0.1:$MQTT_PORT}" --state-dir "$T/$name.state" --timeout 60 --json "$@" \
        > "$T/$name.dev.ev" 2> "$T/$name.dev.err" &
    local dpid=$!
    sleep 0.5
    if ! kill -0 $dpid 2>/dev/null && grep -qE "not supported|no MQTT backend" "$T/$name.dev.err"; then
        # Until the device core and its MQTT port land, there is nothing to bind with.
        fail "smartcfg device cannot bind in this build: $(head -n 1 "$T/$name.dev.err")"
    fi
    local rc=0
    "$SMARTCFG" send --ssid TP-LINK_2.4G --password 12345678 --bssid 00:11:22:33:44:55 --ip 127.0.0.1 --dest 127.0.0.1 \
        --cloud "$BASE/" --access-token "$ACCESS" --timeout 50 --json > "$T/$name.send.ev" 2> "$T/$name.send.err" || rc=$?
    wait $dpid || true
    if [ $rc -ne 0 ] || ! grep -q "\"event\":\"bound\".*\"device_name\":\"$dn\"" "$T/$name.send.ev"; then
        echo "--- send:"; cat "$T/$name.send.ev" "$T/$name.send.err"; echo "--- device:"; tail -n 30 "$T/$name.dev.ev" "$T/$name.dev.err"
        fail "$name: phone did not see the device bound (send exit $rc)"
    fi
    grep -q "\"event\":\"bind_result\",\"t_ms\":[0-9]*,\"product_id\":\"$P\",\"device_name\":\"$dn\".*\"code\":0" "$T/cloud.events" \
        || fail "$name: the cloud did not record the bind"
}

export SMARTCFG_DEVICE_SECRET=$PSK
run_flow secret e2e_dev1
unset SMARTCFG_DEVICE_SECRET
ok "send --cloud -> device (device secret) -> MQTT bind -> phone sees it bound"

# The device's millisecond clock (sc_posix_now_ms, the HAL's now_ms: 32 bits, "may wrap")
# wraps 3 s after its start, in the middle of the flow, as on a device up for 49.7 days: a time
# namespace of its own with its monotonic clock that far on (unshare --time).
mono=$(python3 -c 'import time; print(int(time.monotonic()))')
SMARTCFG_DEVICE_SECRET=$PSK DEV_WRAP="unshare --time --fork --monotonic $(( 4294967 - mono - 3 ))" run_flow wrap e2e_dev1
ok "bound with the device's millisecond clock wrapping 3 s into the flow (49.7 days up)"

# A device whose wall clock is not set yet (a board counting from 1970 until SNTP answers),
# over TLS with the cloud's CA: its user name's expiry is the SDK's 2147483647
# (SC_CLOUD_CLOCK_FLOOR), and the broker's certificate is verified without its dates, as
# ESP-IDF's mbedTLS does by default. Before, the expiry was "a day from now", long past:
# refused by the broker (connect_refused reason=expired, F205); and the certificate "not yet
# valid" (the broker's log: "bad certificate", the device: MQTT connect refused (71), F206).
export SMARTCFG_DEVICE_SECRET=$(post /v1/products/$P/devices '{"device_name":"e2e_clock"}' | jget device_secret)
wall_1970
DEV_WRAP=with_wallclock DEV_BROKER=127.0.0.1:$MQTTS_PORT run_flow clock e2e_clock --tls --ca-file "$T/tls/ca.crt"
unset SMARTCFG_DEVICE_SECRET
! grep 'wallclock:' "$T/clock.dev.err" >&2 || fail "clock: the device waited on the wall clock (above; F203)"
ts=$(head -n 1 "$T/clock.dev.ev" | jget ts)
[ "$ts" -lt $(( 4 * 86400 * 1000 )) ] || fail "clock: the device's first event is stamped $ts ms, not in 1970 (the shim did not set its clock)"
! grep -q 'connect_refused client=E2EPROD001e2e_clock' "$T/cloud.err" || fail "clock: the broker refused the device"
grep -q 'warn  the wall clock is not set yet (before 2023): until it is (NTP), the MQTT user name carries no expiry' \
    "$T/clock.dev.err" || fail "clock: the device did not say its clock is not set"
grep -q 'connect_ok client=E2EPROD001e2e_clock' "$T/cloud.err" || fail "clock: not connected through the TLS listener"
ok "a device whose wall clock reads 1970 (not set yet) binds over TLS: its user name does not expire, the certificate's dates are not held against it"

export SMARTCFG_PRODUCT_SECRET=$SECRET
run_flow dynreg e2e_dev2 --register-url "$BASE/register/dev"
unset SMARTCFG_PRODUCT_SECRET
grep -q '"event":"device_registered","t_ms":[0-9]*,"product_id":"E2EPROD001","device_name":"e2e_dev2"' "$T/cloud.events" \
    || fail "dynreg: the device did not register"
ok "same with dynamic registration against /register/dev"

# A PSK record of before F32 (the key alone, docs/security.md) in a state dir kept across a
# change of identity: another device's key is refused by the broker, so this device
# registers itself in the same bind and its record names it; its own key is taken, and the
# record is named after it without a second registration.
printf '%s\0%s\0' $P e2e_dev2 > "$T/dev2.names"
cmp -s -n "$(stat -c %s "$T/dev2.names")" "$T/dev2.names" "$T/dynreg.state/psk" || fail "dynreg: the PSK record does not name its device"
KEY2=$(tail -c +"$(( $(stat -c %s "$T/dev2.names") + 1 ))" "$T/dynreg.state/psk")
[ ${#KEY2} -ge 16 ] || fail "dynreg: no PSK after the names in the record"
mkdir -p "$T/legacy_other.state" "$T/legacy_own.state"
printf '%s' "$PSK" > "$T/legacy_other.state/psk"
printf '%s' "$KEY2" > "$T/legacy_own.state/psk"
export SMARTCFG_PRODUCT_SECRET=$SECRET
run_flow legacy_other e2e_dev3 --register-url "$BASE/register/dev"
grep -q '"event":"device_registered","t_ms":[0-9]*,"product_id":"E2EPROD001","device_name":"e2e_dev3"' "$T/cloud.events" \
    || fail "legacy record of another device: e2e_dev3 did not register"
grep -q "stored PSK refused" "$T/legacy_other.dev.err" "$T/legacy_other.dev.ev" \
    || fail "legacy record of another device: the refusal was not told"
printf '%s\0%s\0' $P e2e_dev3 > "$T/dev3.names"
cmp -s -n "$(stat -c %s "$T/dev3.names")" "$T/dev3.names" "$T/legacy_other.state/psk" \
    || fail "legacy record of another device: the new record does not name e2e_dev3"
ok "a key-alone PSK record of another device: refused by the broker, this device registers and binds"
run_flow legacy_own e2e_dev2 --register-url "$BASE/register/dev"
[ "$(grep -c '"event":"device_registered","t_ms":[0-9]*,"product_id":"E2EPROD001","device_name":"e2e_dev2"' "$T/cloud.events")" = 1 ] \
    || fail "legacy record of this device: it registered again"
cmp -s "$T/legacy_own.state/psk" <(cat "$T/dev2.names"; printf '%s' "$KEY2") \
    || fail "legacy record of this device: the record was not named after it"
unset SMARTCFG_PRODUCT_SECRET
ok "a key-alone PSK record of this device: taken, no second registration, and the record now names it"
for s in "$PSK" "$SECRET" 12345678; do
    grep -qF -- "$s" "$T/cloud.err" "$T/cloud.events" && fail "a secret leaked into the cloud's logs"
done
ok "no secret in the cloud's logs"
stop_cloud
