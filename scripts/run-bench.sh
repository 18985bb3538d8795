#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every benchmark; each prints lines "BENCH <name> <value> <unit>".
# Then checks that the figures the README and docs/m4.md print are the ones just measured
# (scripts/bench-doc-check.py; the flash figures are make cross's check).
set -euo pipefail
build=$1
top=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for b in "$build"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" | tee -a "$log"
done
for s in "$top"/bench/*.sh; do
  [ -f "$s" ] || continue
  echo "== $(basename "$s")"
  SC_BUILD="$build" SC_SRC="$top" bash "$s" | tee -a "$log"
done
python3 "$top/scripts/bench-doc-check.py" "$log"
