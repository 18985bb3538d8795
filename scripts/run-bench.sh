#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs every benchmark; each prints lines "BENCH <name> <value> <unit>".
set -eu
build=$1
top=$(cd "$(dirname "$0")/.." && pwd)
for b in "$build"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b"
done
for s in "$top"/bench/*.sh; do
  [ -f "$s" ] || continue
  echo "== $(basename "$s")"
  SC_BUILD="$build" SC_SRC="$top" bash "$s"
done
