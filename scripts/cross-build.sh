#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Compiles the portable core for Cortex-M4 with arm-none-eabi-gcc (newlib headers only,
# no OS): proof that src/ is freestanding. Prints the code size of each module.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build-cross
CC=${CROSS_CC:-arm-none-eabi-gcc}
command -v "$CC" >/dev/null || { echo "cross: $CC not found (make deps installs it)"; exit 1; }
rm -rf "$out"; mkdir -p "$out"
# cJSON and mbedTLS are portable C libraries the target links on its own; only their headers are needed here.
flags="-std=c11 -Wall -Wextra -Werror -Os -mcpu=cortex-m4 -mthumb -ffunction-sections -fdata-sections
 -I$top/include -I/usr/include/cjson -idirafter /usr/include"
objs=""
for c in $(cd "$top" && find src -name '*.c' | sort); do
  o="$out/$(echo "$c" | tr / _).o"
  $CC $flags -c "$top/$c" -o "$o"
  objs="$objs $o"
done
arm-none-eabi-ar rcs "$out/libsmartcfg_core.a" $objs
arm-none-eabi-size -t "$out/libsmartcfg_core.a" | tail -1 | awk '{printf "BENCH core_cortex_m4_text %d bytes\nBENCH core_cortex_m4_data_bss %d bytes\n", $1, $2+$3}'
