# SPDX-License-Identifier: Apache-2.0
# What the rack tests (send_rack, send_rack_expect) share, sourced after send_common.inc: a
# network namespace of their own (in NSLIST: send_common.inc's cleanup removes it), real devices
# on the virtual radio in it, each at 127.0.1.I with its state in $T/sI, and the wait for them
# to sniff. The caller defines die MESSAGE.

# rack_ns NAME: the namespace, the devices' list, and the exit trap that stops them
rack_ns() {
  NS=scsend-$1-$$-$RANDOM
  NSLIST="$NSLIST $NS"
  ip netns add "$NS"; ip -n "$NS" link set lo up
  DPIDS=()
  trap 'stop_devices; cleanup' EXIT
}
stop_devices() {
  local p
  for p in "${DPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${DPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  DPIDS=()
}
# rack_device I [REGION] [JOIN_MS] [NAME] [MAC]: device rackI (or NAME) of product RACKPROD01,
# joining the simulated AP RackAP (JOIN_MS late), its events in $T/devI.ev; the state directory
# is kept from an earlier run of I (a device re-run after a failure, as on a real rack)
rack_device() {
  local i=$1 region=${2:-ap-guangzhou} delay=${3:-} name=${4:-rack$1} mac=${5:-}
  mkdir -p "$T/s$i"
  ip netns exec "$NS" "$B/smartcfg" device --radio udp --join "sim:RackAP:r4ck-bench-pw:127.0.1.$i" \
    ${mac:+--mac "$mac"} ${delay:+--sim-delay "$delay"} --product-id RACKPROD01 --device-name "$name" \
    --region "$region" --no-cloud --token-linger 2 --state-dir "$T/s$i" --timeout 60 --json \
    > "$T/dev$i.ev" 2> "$T/dev$i.err" &
  DPIDS+=($!)
}
# sniffing I...: each device I sniffs within 30 s, or die
sniffing() {
  local i
  for i in "$@"; do
    for _ in $(seq 600); do grep -q '"state":"sniffing"' "$T/dev$i.ev" 2>/dev/null && break; sleep 0.05; done
    grep -q '"state":"sniffing"' "$T/dev$i.ev" || die "device $i never started sniffing: $(tail -n 3 "$T/dev$i.err")"
  done
}
