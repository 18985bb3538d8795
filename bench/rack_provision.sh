#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Time to provision a rack: N real `smartcfg device`s on the virtual radio (UDP broadcast on
# loopback, each device at its own 127.0.1.x, simulated AP) and one `smartcfg send --count N
# --token`, in a network namespace of its own. The figure is the send's own clock from its
# first datagram to the last device done (identified: it has the token and told its names),
# the summary's largest done_ms; the median of RACK_RUNS runs (default 3) for each N.
#   BENCH rack_provision_<N> <seconds> s          N = 1, 8, 16, 32 (RACK_SIZES to choose)
#   BENCH rack_provision_<N>_first <seconds> s    the first device done, same runs
# Machine-dependent (processes, scheduling): not checked against the docs by
# scripts/bench-doc-check.py; docs/send.md quotes a run with its date.
# Usage: SC_BUILD=build bash bench/rack_provision.sh   (make bench runs it; needs root for the namespace)
set -euo pipefail
B=${SC_BUILD:?SC_BUILD must point at the build directory}
RUNS=${RACK_RUNS:-3}
SIZES=${RACK_SIZES:-1 8 16 32}
NS=scrack-bench-$$-$RANDOM
T=$(mktemp -d "${TMPDIR:-/tmp}/sc-rack-bench.XXXXXX")
PIDS=()
stop_devices() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; PIDS=(); }
cleanup() { stop_devices; ip netns del $NS 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
ip netns add $NS
ip -n $NS link set lo up
export SMARTCFG_DEVICE_SECRET=c2VjcmV0c2VjcmV0c2VjcmV0
echo secret-rack-pw > "$T/pw"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

one_run() {  # N RUN -> "last first" in seconds
  local n=$1 r=$2 i
  for i in $(seq "$n"); do
    mkdir -p "$T/s$r.$i"
    ip netns exec $NS "$B/smartcfg" device --radio udp --join "sim:BenchAP:secret-rack-pw:127.0.1.$i" \
      --product-id BENCHPROD1 --device-name "rack$i" --no-cloud --token-linger 2 --state-dir "$T/s$r.$i" \
      --timeout 90 --json > "$T/dev$i.ev" 2> "$T/dev$i.err" &
    PIDS+=($!)
  done
  for i in $(seq "$n"); do
    for _ in $(seq 600); do grep -q '"state":"sniffing"' "$T/dev$i.ev" 2>/dev/null && break; sleep 0.05; done
  done
  local rc=0
  ip netns exec $NS "$B/smartcfg" send --ssid BenchAP --password-file "$T/pw" --bssid 02:5c:00:00:00:01 \
    --ip 127.0.0.1 --dest 127.255.255.255 --count "$n" --token benchtoken0123456789 --timeout 60 --json \
    > "$T/send.ev" 2> "$T/send.err" || rc=$?
  stop_devices
  if [ $rc != 0 ]; then
    echo "rack_provision: $n devices, run $r: send exit $rc" >&2
    grep '"event":"summary"' "$T/send.ev" >&2 || tail -n 5 "$T/send.err" >&2
    return 1
  fi
  grep '"event":"summary"' "$T/send.ev" |
    jq -r '[.devices[].done_ms] | "\((max / 1000 * 100 | round) / 100) \((min / 1000 * 100 | round) / 100)"'
}

for n in $SIZES; do
  : > "$T/times"
  for r in $(seq "$RUNS"); do one_run "$n" "$r" >> "$T/times"; done
  echo "BENCH rack_provision_$n $(cut -d' ' -f1 "$T/times" | median) s"
  echo "BENCH rack_provision_${n}_first $(cut -d' ' -f2 "$T/times" | median) s"
done
