#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A rack through the cloud flow: N real `smartcfg device`s on the virtual radio and one
# `smartcfg send --count N --cloud` against a local `smartcfg cloud` with its default
# --token-rate (60 a minute, bursts of 20), all in a network namespace of its own. The devices
# are registered in the cloud and bind over MQTT, nothing is faked. Two racks in a row with one
# account: the second starts right after the first ended, when the account's token budget has
# not refilled (docs/send.md, "Provisioning a rack", the cloud flow).
#   BENCH rack_cloud_<N> <seconds> s            the first rack: first datagram -> last device bound
#   BENCH rack_cloud_<N>_ok <count> devices     ... how many were bound (of N)
#   BENCH rack_cloud_<N>_retries <count> devices  ... how many waited for their token (cloud_retry 429)
#   BENCH rack_cloud_<N>_again <seconds> s      the second rack, right after
#   BENCH rack_cloud_<N>_again_ok <count> devices
# Machine-dependent; not checked against the docs. Usage (as root, for the namespace):
#   SC_BUILD=build bash bench/rack_cloud.sh          (RACK_CLOUD_N=32 by default)
set -euo pipefail
B=$(cd "${SC_BUILD:?SC_BUILD must point at the build directory}" && pwd)
N=${RACK_CLOUD_N:-32}
if [ -z "${SC_RACK_CLOUD_NS:-}" ]; then
  NS=scrack-cloud-$$-$RANDOM
  ip netns add $NS
  trap 'ip netns del $NS 2>/dev/null || true' EXIT
  ip -n $NS link set lo up
  rc=0; SC_RACK_CLOUD_NS=$NS SC_BUILD=$B ip netns exec $NS bash "$0" "$@" || rc=$?
  exit $rc
fi
export SC_BUILD=$B
. "$(dirname "$0")/../tests/integration/lib/cloud.bash"
PIDS=()
stop_devices() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; PIDS=(); }
start_cloud
P=RACKCLOUD1
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
echo r4ck-cloud-pw > "$T/pw"
one_rack() {  # NAME -> events in $T/NAME.ev
  local name=$1 i psk
  for i in $(seq "$N"); do
    psk=$(post /v1/products/$P/devices "{\"device_name\":\"${name}_$i\"}" | jget device_secret)
    mkdir -p "$T/$name.s$i"
    SMARTCFG_DEVICE_SECRET=$psk "$SMARTCFG" device --radio udp --join "sim:RackNet:r4ck-cloud-pw:127.0.1.$i" \
      --product-id $P --device-name "${name}_$i" --broker 127.0.0.1:$MQTT_PORT --state-dir "$T/$name.s$i" \
      --timeout 120 --json > "$T/$name.dev$i.ev" 2> "$T/$name.dev$i.err" &
    PIDS+=($!)
  done
  for i in $(seq "$N"); do
    for _ in $(seq 600); do grep -q '"state":"sniffing"' "$T/$name.dev$i.ev" 2>/dev/null && break; sleep 0.05; done
  done
  "$SMARTCFG" send --ssid RackNet --password-file "$T/pw" --bssid 02:5c:00:00:00:01 --ip 127.0.0.1 \
    --dest 127.255.255.255 --count "$N" --cloud "$BASE/" --access-token "$ACCESS" --timeout 60 --json \
    > "$T/$name.ev" 2> "$T/$name.err" || true
  stop_devices
  grep -q '"event":"summary"' "$T/$name.ev" || { echo "rack_cloud: no summary: $(tail -n 3 "$T/$name.err")" >&2; exit 1; }
}
report() {  # NAME PREFIX
  local sum; sum=$(grep '"event":"summary"' "$T/$1.ev")
  echo "BENCH $2 $(jq -r '[.devices[] | select(.ok) | .done_ms] | if length == 0 then 0 else (max / 1000 * 100 | round) / 100 end' <<<"$sum") s"
  echo "BENCH ${2}_ok $(jq -r '.ok' <<<"$sum") devices"
  echo "BENCH ${2}_retries $(grep '"event":"cloud_retry"' "$T/$1.ev" | grep -c '429' || true) devices"
  if [ -n "${RACK_CLOUD_KEEP:-}" ]; then cp "$T/$1.ev" "$RACK_CLOUD_KEEP.$1.ev"; fi
}
one_rack rackA
one_rack rackB
report rackA rack_cloud_$N
report rackB rack_cloud_${N}_again
