#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole suite, as `make test` and CI run it: ctest (unit + integration) on the normal
# build, the cluster test (scripts/test-cluster.sh), the unit tests again under ASan+UBSan
# (clang), every fuzzer for a bounded time, the Cortex-M cross-build of the core, and the
# core's self-test on an emulated Cortex-M4 (each of its checks counts). Prints the time of each phase and, on success, one closing line
# "make test: N passed, 0 failed".
set -euo pipefail
BUILD=${BUILD:-build} BUILD_ASAN=${BUILD_ASAN:-build-asan}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)} FUZZ_SECONDS=${FUZZ_SECONDS:-12}
# How many ctest programs at once: most integration tests spend their time waiting on a
# protocol's schedule (a sender's rounds, a device's linger), not computing, so twice the cores.
# Measured on 2 cores beside `stress-ng --cpu 2`: -j2 500 s, -j4 445 s; idle: -j4 222 s.
CTEST_JOBS=${CTEST_JOBS:-$((JOBS * 2))}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# The tests run Debian's python3 (what `make deps` installs), ahead of any version manager's
# shim: a pyenv shim costs seconds per call on a busy machine, and the tests call python3
# hundreds of times.
[ -x /usr/bin/python3 ] && export PATH="/usr/bin:$PATH"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
total=0
phase() { printf '\n== %s\n' "$1"; PHASE_T0=$(date +%s); }
done_phase() { printf '== %s: %ss\n' "$1" $(( $(date +%s) - PHASE_T0 )); }
count() { # adds "out of N" of a ctest summary to the total
    local n
    n=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
    total=$((total + ${n:-0}))
}

phase "ctest (unit + integration)"
(cd "$BUILD" && ctest --output-on-failure -j "$CTEST_JOBS") 2>&1 | tee "$log"
count
done_phase ctest

phase "cluster: PostgreSQL, 3 RabbitMQ nodes, two workers, kills (scripts/test-cluster.sh)"
BUILD="$BUILD" bash scripts/test-cluster.sh 2>&1 | tee "$log"
total=$((total + $(sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p' "$log" | tail -1)))
done_phase cluster

# One clang build (ASan+UBSan, with the fuzzers' coverage hooks) serves both the unit tests
# under the sanitizers and the fuzzers; only those targets are built.
phase "unit tests under ASan+UBSan"
cmake -S . -B "$BUILD_ASAN" -DSC_SANITIZE=ON -DSC_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$BUILD_ASAN" -j "$JOBS" --target sc_unit_tests sc_fuzzers >/dev/null
# (CTEST_JOBS at once, as above: these too mostly wait -- test_posix_station's protocol
# timeouts, mosquitto -- 19-24 s of CPU in all against ~87 s of test time)
(cd "$BUILD_ASAN" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -L unit -j "$CTEST_JOBS") 2>&1 | tee "$log"
count
done_phase asan

# The fuzzers are bounded by wall-clock time, not by work: whatever else runs beside them
# costs them executed inputs, never the phase's length, and never a verdict (each still
# replays all of its seeds first: scripts/run-fuzzers.sh checks that). So the Cortex-M
# cross-build and the emulated Cortex-M4 self-test (it runs the core on simulated time, so a
# busy host slows it without changing what it checks) run beside them in the background
# instead of after them: on 2 cores that saves most of their ~80 s. The two share nothing
# (build-cross/, build-m4/), so they run beside each other too: one after the other they
# were the phase's length (cross 68 s + M4 30 s against the fuzzers' 73 s, beside
# `stress-ng --cpu 2`).
phase "fuzzers (${FUZZ_SECONDS}s each, $JOBS at a time), beside the Cortex-M cross-build and the Cortex-M4 self-test"
side=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$side"' EXIT
side_job() { # side_job NAME COMMAND...: NAME.log, NAME.rc and NAME.s (its seconds) in $side
    local n=$1 t rc=0; shift
    t=$(date +%s)
    "$@" >"$side/$n.log" 2>&1 || rc=$?
    echo $(( $(date +%s) - t )) >"$side/$n.s"; echo "$rc" >"$side/$n.rc"
    return "$rc"
}
side_job cross sh scripts/cross-build.sh &
cross_pid=$!
side_job m4 bash scripts/test-m4.sh &
m4_pid=$!
fuzz_rc=0
JOBS="$JOBS" sh scripts/run-fuzzers.sh "$BUILD_ASAN/fuzz" "$FUZZ_SECONDS" | tee "$log" || fuzz_rc=$?
printf '== fuzz: %ss\n' $(( $(date +%s) - PHASE_T0 ))
side_rc=0; wait "$cross_pid" || side_rc=$?; wait "$m4_pid" || side_rc=$?
[ "$fuzz_rc" = 0 ] || exit "$fuzz_rc"
total=$((total + $(grep -c '^fuzz: .* for ' "$log")))

printf '\n== Cortex-M cross-build of the core (beside the fuzzers)\n'
cat "$side/cross.log"
[ "$(cat "$side/cross.rc" 2>/dev/null)" = 0 ] || { echo "cross-build FAILED"; exit 1; }
total=$((total + 1))
# the flash figures the README and docs/porting.md print are this build's
python3 scripts/size-doc-check.py "$side/cross.log" || { echo "size figures in the docs FAILED"; exit 1; }
total=$((total + 1))
# and the state sizes they print (bench-doc-check.py: the places make cross's figures fill)
python3 scripts/bench-doc-check.py "$side/cross.log" || { echo "state sizes in the docs FAILED"; exit 1; }
total=$((total + 1))
printf '== cross: %ss\n' "$(cat "$side/cross.s")"

printf '\n== core self-test on an emulated Cortex-M4 (QEMU mps2-an386), beside the cross-build\n'
cat "$side/m4.log"
[ "$(cat "$side/m4.rc" 2>/dev/null)" = 0 ] && [ "$side_rc" = 0 ] || { echo "M4 self-test FAILED"; exit 1; }
total=$((total + $(sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p' "$side/m4.log" | tail -1)))
printf '== m4: %ss\n' "$(cat "$side/m4.s")"
done_phase "fuzz + cross + m4"

echo
echo "make test: $total passed, 0 failed"
