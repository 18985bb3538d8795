#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make test-load`: the whole suite N times in a row (default 3) with both cores kept busy by
# stress-ng (Debian's, one CPU hog per core), the way a busy CI machine runs it. Stops at the
# first failing run. Prints one line per run, "test-load: run K: PASS|FAIL in S s", and last
# "test-load: N of N runs passed".
#   scripts/test-under-load.sh [RUNS]        env: STRESS_CPUS (default: the number of cores)
set -uo pipefail
runs=${1:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v stress-ng >/dev/null || { echo "test-load: stress-ng not found (make deps installs it)" >&2; exit 1; }
cpus=${STRESS_CPUS:-$(nproc 2>/dev/null || echo 2)}
stress-ng --cpu "$cpus" --timeout 0 --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null; wait "$stress" 2>/dev/null' EXIT INT TERM
passed=0
for k in $(seq "$runs"); do
  t0=$(date +%s)
  if make -s test >"test-load-$k.log" 2>&1; then r=PASS; passed=$((passed + 1)); else r=FAIL; fi
  echo "test-load: run $k: $r in $(( $(date +%s) - t0 )) s ($(tail -1 "test-load-$k.log"); log test-load-$k.log)"
  [ $r = PASS ] || break
done
echo "test-load: $passed of $runs runs passed"
[ "$passed" = "$runs" ]
