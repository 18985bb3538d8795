#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The core's figures on a Cortex-M4 (QEMU mps2-an386, -icount; tests/m4/bench_m4.c) beside
# the same receiver figure on the host: instructions per received frame over the same
# simulated capture (tests/m4/rx_host.c, built here with gcc -O2), counted on x86-64 by
# valgrind's callgrind (every instruction executed inside sc_et_rx_feed, callees included,
# divided by the frames fed). See docs/m4.md. Env (run-bench.sh): SC_SRC.
set -euo pipefail
src=${SC_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sc-m4bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# M4_DOC_CHECK=0: make bench (scripts/run-bench.sh) checks the docs once, after every bench
M4_DOC_CHECK=0 BUILD_M4="$tmp/m4" bash "$src/scripts/test-m4.sh" --bench | grep '^BENCH '

command -v valgrind >/dev/null || { echo "m4.sh: valgrind missing (make deps installs it)" >&2; exit 1; }
# The host build of the same capture loop (tests/m4/rx_host.c), -O2 as the CMake build.
gcc -std=c11 -Wall -Wextra -Werror -O2 -D_GNU_SOURCE -I"$src/include" -I"$src/tests/support" -I"$src/tests/m4" \
  -I/usr/include/cjson "$src/tests/m4/rx_host.c" "$src/tests/m4/flows.c" "$src/tests/support/fake_hal.c" \
  $(find "$src/src" -name '*.c' | sort) -lcjson -lmbedcrypto -lm -o "$tmp/rx_host"
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" --toggle-collect=sc_et_rx_feed \
  "$tmp/rx_host" > "$tmp/rx.txt" 2> "$tmp/cg.txt"
ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/cg.txt")
frames=$(sed -n 's/^frames \([0-9]*\) .*/\1/p' "$tmp/rx.txt")
[ -n "$ir" ] && [ -n "$frames" ] && [ "$frames" -gt 0 ] || { echo "m4.sh: callgrind gave no count" >&2; exit 1; }
awk -v ir="$ir" -v n="$frames" 'BEGIN { printf "BENCH x86_rx_insn_per_frame_mean %.1f insn\n", ir / n }'
