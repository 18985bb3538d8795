#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make test-m4`: builds the portable core plus the self-test (tests/m4/) with arm-none-eabi-gcc
# and picolibc for a Cortex-M4F and runs it on QEMU's mps2-an386 board, output and exit
# status over semihosting. Passes when the program's last line is "N passed, 0 failed" and it
# exited 0. See docs/m4.md.
#   scripts/test-m4.sh            build + run the self-test
#   scripts/test-m4.sh --build    build only (selftest.elf and bench.elf)
# Env: BUILD_M4 (build-m4), M4_OPT (-Os, what `make cross` measures), M4_TIMEOUT (180 s).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${BUILD_M4:-$top/build-m4}
opt=${M4_OPT:--Os}
CC=${M4_CC:-arm-none-eabi-gcc}
QEMU=${M4_QEMU:-qemu-system-arm}
for tool in "$CC" "$QEMU"; do
  command -v "$tool" >/dev/null || { echo "test-m4: $tool not found (make deps installs it)" >&2; exit 1; }
done
[ -f /usr/lib/picolibc/arm-none-eabi/picolibc.specs ] ||
  { echo "test-m4: picolibc-arm-none-eabi missing (make deps installs it)" >&2; exit 1; }

# Cortex-M4F, hard-float ABI (picolibc's thumb/v7e-m+fp/hard multilib). cJSON's and
# mbedTLS' headers come from the host's Debian packages, after picolibc's own headers.
cflags=(-std=c11 -Wall -Wextra -Werror "$opt" -g -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
        -ffunction-sections -fdata-sections --specs=picolibc.specs
        -I"$top/include" -I"$top/tests/support" -I"$top/tests/m4"
        -idirafter /usr/include/cjson -idirafter /usr/include)

build() {
  rm -rf "$out"; mkdir -p "$out/obj"
  local core=() harness=() c o
  # The core by glob, so renamed or added modules need no change here.
  while IFS= read -r c; do core+=("$c"); done < <(cd "$top" && find src -name '*.c' | sort)
  for c in "${core[@]}" tests/m4/shim/cjson_min.c tests/m4/shim/mbedtls_min.c; do
    o="$out/obj/$(echo "$c" | tr / _).o"
    "$CC" "${cflags[@]}" -c "$top/$c" -o "$o"
  done
  arm-none-eabi-ar rcs "$out/libsmartcfg_core.a" "$out"/obj/src_*.o
  arm-none-eabi-ar rcs "$out/libdeps_min.a" "$out"/obj/tests_m4_shim_*.o
  for c in tests/m4/startup.c tests/m4/semihost.c tests/m4/flows.c tests/support/fake_hal.c \
           tests/m4/selftest.c tests/m4/bench_m4.c; do
    o="$out/obj/$(echo "$c" | tr / _).o"
    "$CC" "${cflags[@]}" -c "$top/$c" -o "$o"
    harness+=("$o")
  done
  local common=("$out/obj/tests_m4_startup.c.o" "$out/obj/tests_m4_semihost.c.o"
                "$out/obj/tests_m4_flows.c.o" "$out/obj/tests_support_fake_hal.c.o")
  for prog in selftest bench_m4; do
    "$CC" "${cflags[@]}" -nostartfiles -T "$top/tests/m4/an386.ld" -Wl,--gc-sections \
      -Wl,-Map="$out/$prog.map" "${common[@]}" "$out/obj/tests_m4_$prog.c.o" \
      "$out/libsmartcfg_core.a" "$out/libdeps_min.a" -lm -o "$out/$prog.elf"
  done
}

# Runs an ELF on the board; semihosting console on stdout. Extra QEMU options follow.
run() {
  local elf=$1; shift
  timeout "${M4_TIMEOUT:-180}" "$QEMU" -M mps2-an386 -display none -nodefaults -net none "$@" \
    -chardev stdio,id=con,signal=off -semihosting-config enable=on,target=native,chardev=con \
    -kernel "$elf" </dev/null 2> >(grep -v "has no peer" >&2)
}

build
[ "${1:-}" = --build ] && exit 0
if [ "${1:-}" = --run ]; then shift; run "$@"; exit; fi
log="$out/selftest.log"
t0=$(date +%s)
set +e
run "$out/selftest.elf" | tee "$log"
rc=${PIPESTATUS[0]}
set -e
last=$(tail -n 1 "$log")
echo "test-m4: QEMU exit $rc, $(( $(date +%s) - t0 ))s"
if [ "$rc" -ne 0 ] || ! [[ $last =~ ^[0-9]+\ passed,\ 0\ failed$ ]]; then
  echo "test-m4: FAILED" >&2
  exit 1
fi
