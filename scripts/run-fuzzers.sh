#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target in DIR for SECONDS each, starting from the seeds in
# fuzz/corpus/<name>/, JOBS (default: the number of cores) targets at a time. Each run is
# bounded by wall-clock time (-max_total_time), so running them side by side halves the
# phase's length on two cores without changing what each fuzzer is allowed; on a busy machine
# each simply executes fewer inputs (but still replays all of its seeds first: checked). A
# failure prints the fuzzer's log tail and fails the run.
#   scripts/run-fuzzers.sh DIR [SECONDS]
set -eu
dir=$1; secs=${2:-20}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

run_one() { # $1 = fuzzer binary; writes $tmp/<name>.out and .rc
  n=$(basename "$1")
  seeds="$top/fuzz/corpus/$n"
  [ -d "$seeds" ] || seeds=""
  mkdir -p "$tmp/$n.corpus"
  rc=0
  # shellcheck disable=SC2086 # $seeds is one path or nothing
  "$1" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 \
    "$tmp/$n.corpus" $seeds >"$tmp/$n.log" 2>&1 || rc=$?
  echo "$rc" >"$tmp/$n.rc"
}

found=0; running=0
for f in "$dir"/fuzz_*; do
  [ -x "$f" ] || continue
  found=$((found + 1))
  echo "fuzz: $(basename "$f") for ${secs}s"
  run_one "$f" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait; running=0; fi
done
wait
[ $found -gt 0 ] || { echo "fuzz: no fuzz targets built"; exit 1; }

failed=0
for rcf in "$tmp"/*.rc; do
  n=$(basename "$rcf" .rc)
  if [ "$(cat "$rcf")" != 0 ]; then
    tail -50 "$tmp/$n.log"; echo "fuzz: $n FAILED"; failed=1
  else
    printf '%s: ' "$n"; grep -E 'stat::number_of_executed_units' "$tmp/$n.log" || echo
  fi
  # libFuzzer prints INITED once it has run every input of its corpus directories (the seeds
  # and anything found earlier): only after that does the time bound start to cut the run
  # short. A short bound must never cost the seeds their replay.
  if ! grep -q 'INITED' "$tmp/$n.log"; then
    tail -20 "$tmp/$n.log"; echo "fuzz: $n stopped before replaying all of its seeds"; failed=1
  fi
done
exit $failed
