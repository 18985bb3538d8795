#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make cross`: compiles the portable core for Cortex-M4 with arm-none-eabi-gcc (-Os, Thumb-2,
# newlib headers only, no OS) -- proof that src/ is freestanding -- and prints its size as
# BENCH lines, per module (cmake/SmartcfgModules.cmake decides which file is which module,
# exactly as the CMake build does):
#   m4_flash_<module>  text + rodata of the module's objects (every function of its API kept)
#   m4_ram_<module>    data + bss (static RAM; the caller-owned state is counted separately)
#   m4_flash_core_all  every module linked with --gc-sections, every public function a root
#   m4_flash_rx_8266_binder  what a device pays for the receiver, the UDP 8266 service and the
#                      binder: linked with --gc-sections from those functions only, so the
#                      shared helpers they pull in (CRC, JSON, credentials, messages) count
#   m4_state_<type>    sizeof the caller-owned state objects on this target (RAM a port owns)
# cJSON and mbedTLS are portable C libraries the target links on its own; only their headers
# are needed here, and their code is not counted.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build-cross
CC=${CROSS_CC:-arm-none-eabi-gcc}
SIZE=${CROSS_SIZE:-arm-none-eabi-size}
NM=${CROSS_NM:-arm-none-eabi-nm}
command -v "$CC" >/dev/null || { echo "cross: $CC not found (make deps installs it)"; exit 1; }
command -v cmake >/dev/null || { echo "cross: cmake not found (make deps installs it)"; exit 1; }
rm -rf "$out"; mkdir -p "$out/obj"
arch="-mcpu=cortex-m4 -mthumb"
flags="-std=c11 -Wall -Wextra -Werror -Os $arch -ffunction-sections -fdata-sections
 -I$top/include -I/usr/include/cjson -idirafter /usr/include"

cmake -DSMARTCFG_LIST_MODULES="$top/src" -P "$top/cmake/SmartcfgModules.cmake" >"$out/modules.txt"
flash() { "$SIZE" "$@" | awk 'NR > 1 { t += $1 } END { print t + 0 }'; }
ram() { "$SIZE" "$@" | awk 'NR > 1 { r += $2 + $3 } END { print r + 0 }'; }
# roots OBJ...: -u options for every global function the objects define
roots() { "$NM" -g --defined-only "$@" | awk '$2 == "T" { printf " -Wl,-u,%s", $3 }'; }
linked() { # linked OUT ROOTS OBJ...: relocatable link keeping only what ROOTS reach
    o=$1 r=$2; shift 2
    # shellcheck disable=SC2086
    "$CC" $arch -nostdlib -r -Wl,--gc-sections $r -o "$o" "$@"
    flash "$o"
}

all=""
while read -r mod sw files; do
    objs=""
    for c in $files; do
        rel=${c#"$top"/}
        o="$out/obj/$(echo "$rel" | tr / _).o"
        # shellcheck disable=SC2086
        $CC $flags -c "$c" -o "$o"
        objs="$objs $o"
    done
    [ -n "$objs" ] || continue
    echo "$mod $objs" >>"$out/objs.txt"
    all="$all $objs"
    # shellcheck disable=SC2086
    echo "BENCH m4_flash_$mod $(flash $objs) bytes"
    # shellcheck disable=SC2086
    echo "BENCH m4_ram_$mod $(ram $objs) bytes"
done <"$out/modules.txt"

# shellcheck disable=SC2086
arm-none-eabi-ar rcs "$out/libsmartcfg.a" $all
# shellcheck disable=SC2086
echo "BENCH m4_flash_core_all $(linked "$out/core_all.o" "$(roots $all)" $all) bytes"
# shellcheck disable=SC2086
echo "BENCH m4_ram_core_all $(ram "$out/core_all.o") bytes"
rx_roots=$(for f in $(sed -n 's/^\(receiver\|tc8266\|binder\) //p' "$out/objs.txt"); do roots "$f"; done)
# shellcheck disable=SC2086
echo "BENCH m4_flash_rx_8266_binder $(linked "$out/rx8266bind.o" "$rx_roots" $all) bytes"
# shellcheck disable=SC2086
dev_roots=$(roots $(sed -n 's/^device //p' "$out/objs.txt"))
# shellcheck disable=SC2086
echo "BENCH m4_flash_device_firmware $(linked "$out/device_fw.o" "$dev_roots" $all) bytes"

# The caller-owned state on this target: sizeof of each storage type, read from a probe object.
cat >"$out/state_probe.c" <<'C'
#include "smartcfg/air.h"
#include "smartcfg/at.h"
#include "smartcfg/at_device.h"
#include "smartcfg/device.h"
char m4_state_device[sizeof(sc_device_t)];
char m4_state_receiver[sizeof(sc_et_rx_t)];
char m4_state_binder[sizeof(sc_cloud_bind_t)];
char m4_state_at[sizeof(sc_at_t)];
char m4_state_at_device[sizeof(sc_at_device_t)];
char m4_state_air[sizeof(sc_air_t)];
C
# shellcheck disable=SC2086
$CC $flags -fcommon -c "$out/state_probe.c" -o "$out/state_probe.o"
"$NM" -S "$out/state_probe.o" | while read -r _ sz _ name; do case $name in m4_state_*) echo "BENCH $name $((0x$sz)) bytes" ;; esac; done
