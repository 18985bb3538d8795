#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The core's figures on a Cortex-M4 (QEMU mps2-an386, -icount; tests/m4/bench_m4.c) beside
# the same receiver figure on the host: instructions per received frame over the simulated
# captures of bench_decoder, counted on x86-64 by valgrind's callgrind (every instruction
# executed inside sc_et_rx_feed, callees included, divided by the frames fed). See docs/m4.md.
# Env (run-bench.sh): SC_BUILD (host build with bench/bench_decoder), SC_SRC.
set -euo pipefail
src=${SC_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
build=${SC_BUILD:-$src/build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sc-m4bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

BUILD_M4="$tmp/m4" bash "$src/scripts/test-m4.sh" --bench | grep '^BENCH '

dec="$build/bench/bench_decoder"
[ -x "$dec" ] || { echo "m4.sh: $dec missing (make build)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "m4.sh: valgrind missing (make deps installs it)" >&2; exit 1; }
# 0.001 s: exactly one pass over the captures (the loop stops after the first pass that
# takes longer than that, and under valgrind every pass does).
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" --toggle-collect=sc_et_rx_feed \
  "$dec" 0.001 > "$tmp/dec.txt" 2> "$tmp/cg.txt"
ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/cg.txt")
frames=$(sed -n 's/^BENCH decoder_capture_frames \([0-9]*\) frames$/\1/p' "$tmp/dec.txt")
[ -n "$ir" ] && [ -n "$frames" ] && [ "$frames" -gt 0 ] || { echo "m4.sh: callgrind gave no count" >&2; exit 1; }
awk -v ir="$ir" -v n="$frames" 'BEGIN { printf "BENCH x86_rx_insn_per_frame_mean %.1f insn\n", ir / n }'
