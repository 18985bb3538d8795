#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target in DIR for SECONDS each, starting from the seeds in fuzz/corpus/<name>/.
set -eu
dir=$1; secs=${2:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
found=0
for f in "$dir"/fuzz_*; do
  [ -x "$f" ] || continue
  found=1
  n=$(basename "$f")
  work=$(mktemp -d)
  seeds="$top/fuzz/corpus/$n"
  [ -d "$seeds" ] || seeds=""
  echo "fuzz: $n for ${secs}s"
  "$f" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 "$work" $seeds 2>"$work.log" || {
    tail -50 "$work.log"; echo "fuzz: $n FAILED"; exit 1; }
  grep -E 'stat::number_of_executed_units' "$work.log" || true
  rm -rf "$work" "$work.log"
done
[ $found -eq 1 ] || { echo "fuzz: no fuzz targets built"; exit 1; }
