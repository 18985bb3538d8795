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
#                      shared helpers they pull in (CRC, JSON, credentials, messages) count;
#                      without dynamic registration (SMARTCFG_WITH_DYNREG=0), and _dynreg with
#   m4_flash_device_firmware  everything reachable from the device API (device.h): a port
#   m4_flash_at_firmware  the same with the AT front-end's API as roots too (an AT module)
#   m4_libgcc_<link>   the libgcc code (64-bit division, soft double) that link pulls in, apart
#                      from the m4_flash_ figures, which leave every library out
#   m4_flash_rx_8266_binder_<v>, m4_flash_device_firmware_<v>  the same two for firmware
#                      variants compiled again with receiver switches at 0 (and the sender,
#                      simulator, AT and dynreg off): v1 (ESP-TOUCH v1 only), nov2, noairkiss
#   m4_state_<type>    sizeof the caller-owned state objects on this target (RAM a port owns)
#   m4_stack_device_{on_frame,step,start,init}[_v1]  the deepest stack below each device entry
#                      point, our frames only (scripts/stack-depth.py; GCC only)
#   m4_fw_libs_{rx_8266_binder,device_firmware}_{nano,newlib}  only with CROSS_CJSON_SRC: those
#                      two links with cJSON and newlib-nano / newlib (text + data, mbedTLS left out)
#   m4_flash_{rx_8266_binder,device_firmware}_lto  only with CROSS_LTO=1: those two links for a
#                      firmware compiled and linked with -flto
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
# GCC's call graph with each function's frame beside every object (OBJ.ci; the code is the
# same): scripts/stack-depth.py reads the deepest stack of the device's entry points from it.
# A compiler without the option (CROSS_CC=clang) prints no m4_stack_* lines.
cg=""
printf 'int f(void);\nint f(void) { return 0; }\n' >"$out/cg.c"
# shellcheck disable=SC2086
if "$CC" $arch -fcallgraph-info=su -c "$out/cg.c" -o "$out/cg.o" 2>/dev/null; then cg="-fcallgraph-info=su"; fi
flags="$flags $cg"
stack() { # stack DIR: the deepest stack of the device's entry points, from DIR's call graphs
    [ -z "$cg" ] || python3 "$top/scripts/stack-depth.py" "$1" "device_on_frame$2=sc_device_on_frame" \
        "device_step$2=sc_device_step" "device_start$2=sc_device_start" "device_init$2=sc_device_init_sized"
}

cmake -DSMARTCFG_LIST_MODULES="$top/src" -P "$top/cmake/SmartcfgModules.cmake" >"$out/modules.txt"
flash() { "$SIZE" "$@" | awk 'NR > 1 { t += $1 } END { print t + 0 }'; }
ram() { "$SIZE" "$@" | awk 'NR > 1 { r += $2 + $3 } END { print r + 0 }'; }
# roots OBJ...: -u options for every global function the objects define
roots() { "$NM" -g --defined-only "$@" | awk '$2 == "T" { printf " -Wl,-u,%s", $3 }'; }
linked() { # linked OUT ROOTS OBJ...: a final link (identical strings merged, as in firmware)
    o=$1 r=$2; shift 2  # keeping only what ROOTS reach; libc, cJSON and mbedTLS left unresolved
    # shellcheck disable=SC2086
    "$CC" $arch ${lto_link:-} -nostdlib -nostartfiles -Wl,--gc-sections -Wl,--unresolved-symbols=ignore-all -Wl,-e,0 \
        -Wl,-Map,"$o.map" $r -o "$o" "$@"
    flash "$o"
}
# helpers OUT ROOTS OBJ...: the libgcc code the same link pulls in (64-bit division, soft
# double), the part of a firmware's runtime library our own code decides; counted apart from
# the flash figures above, which leave every library out
helpers() {
    o=$1 r=$2; shift 2
    # shellcheck disable=SC2086
    "$CC" $arch -nostdlib -nostartfiles -Wl,--gc-sections -Wl,--unresolved-symbols=ignore-all -Wl,-e,0 \
        $r -o "$o.gcc" "$@" -lgcc
    echo $(($(flash "$o.gcc") - $(flash "$o")))
}

# The core is compiled five times (all modules, without dynreg, three receiver variants): most
# of make cross's time. make test runs it beside the fuzzers, where a serial loop got one
# process's share of the two cores; so each compilation runs $par files at a time.
par=${CROSS_JOBS:-$(nproc 2>/dev/null || echo 2)}
objname() { echo "$1/$(echo "${2#"$top"/}" | tr / _).o"; }
compile() { # compile FLAGS: compiles every SOURCE, OBJECT pair read from stdin (a path a line)
    # shellcheck disable=SC2016
    xargs -d '\n' -n 2 -P "$par" sh -c '"$0" $1 -c "$2" -o "$3"' "$CC" "$1"
}
# shellcheck disable=SC2086
while read -r mod sw files; do
    for c in $files; do printf '%s\n%s\n' "$c" "$(objname "$out/obj" "$c")"; done
done <"$out/modules.txt" | compile "$flags"
all=""
while read -r mod sw files; do
    objs=""
    for c in $files; do
        objs="$objs $(objname "$out/obj" "$c")"
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
echo "BENCH m4_flash_core_all $(linked "$out/core_all.elf" "$(roots $all)" $all) bytes"
# shellcheck disable=SC2086
echo "BENCH m4_ram_core_all $(ram "$out/core_all.elf") bytes"
# Roots: the receiver's whole API, and the 8266 service's and binder's functions as the device
# calls them (their app- and cloud-side helpers, e.g. sc_bind_parse_reply or the cloud's
# reply builders, are not what a device carries).
mod_objs() { sed -n "s/^$1 //p" "$out/objs.txt"; }
# shellcheck disable=SC2046
"$NM" -u $(mod_objs device) | awk '{ print $2 }' | sort -u >"$out/device_uses.txt"
# shellcheck disable=SC2046
"$NM" -g --defined-only $(mod_objs tc8266) $(mod_objs binder) | awk '$2 == "T" { print $3 }' | sort -u >"$out/svc_defs.txt"
# The receiver's roots are its public functions (include/smartcfg/): its internal helpers
# (frame keying, stream tables) count only where a decoder that is built calls them.
cat "$top"/include/smartcfg/*.h | tr -c 'A-Za-z0-9_' '\n' | sort -u >"$out/public_names.txt"
pub_roots() { "$NM" -g --defined-only "$@" | awk '$2 == "T" { print $3 }' | sort -u | comm -12 - "$out/public_names.txt" | sed 's/^/-Wl,-u,/' | tr '\n' ' '; }
# shellcheck disable=SC2046
rx_roots="$(pub_roots $(mod_objs receiver)) $(comm -12 "$out/device_uses.txt" "$out/svc_defs.txt" | sed 's/^/-Wl,-u,/' | tr '\n' ' ')"
# The binder with dynamic registration (the default) and without (SMARTCFG_WITH_DYNREG=0, a
# device with a factory PSK). Without, the core is compiled again with the switch at 0, as such
# a firmware compiles every file (features.h): the binder then leaves its registration path out,
# and dynreg_off.c stands in for the dynreg module.
# shellcheck disable=SC2086
echo "BENCH m4_flash_rx_8266_binder_dynreg $(linked "$out/rx8266bind_dynreg.elf" "$rx_roots" $all) bytes"
core_objs() { # core_objs DIR DEFS: the core compiled again into DIR (DIR/list names the objects)
    mkdir -p "$1"   # with DEFS; a module whose every switch DEFS sets to 0 is left out, as CMake would
    while read -r mod sw files; do
        on=0
        for s in $(echo "$sw" | tr , ' '); do
            case "$s $2 " in ALWAYS*) on=1 ;; *" -D$s=0 "*) ;; *) on=1 ;; esac
        done
        [ "$on" = 1 ] || continue
        for c in $files; do
            o=$(objname "$1" "$c")
            printf '%s\n%s\n' "$c" "$o"
            echo "$o" >>"$1/list"
        done
    done <"$out/modules.txt" | compile "$flags $2"
}
core_objs "$out/obj-nodr" "-DSMARTCFG_WITH_DYNREG=0"
nodr=$(cat "$out/obj-nodr/list")
# shellcheck disable=SC2086
echo "BENCH m4_flash_rx_8266_binder $(linked "$out/rx8266bind.elf" "$rx_roots" $nodr) bytes"
# shellcheck disable=SC2086
echo "BENCH m4_libgcc_rx_8266_binder $(helpers "$out/rx8266bind.elf" "$rx_roots" $nodr) bytes"
# shellcheck disable=SC2046,SC2086
dev_roots=$(roots $(sed -n 's/^device //p' "$out/objs.txt"))
# shellcheck disable=SC2086
echo "BENCH m4_flash_device_firmware $(linked "$out/device_fw.elf" "$dev_roots" $all) bytes"
stack "$out/obj" ""
# shellcheck disable=SC2086
echo "BENCH m4_libgcc_device_firmware $(helpers "$out/device_fw.elf" "$dev_roots" $all) bytes"
# An AT module (the host drives it over a UART): the device API and the AT front-end with what
# they reach (the binder, dynreg, OTA over AT, the gateway commands).
# shellcheck disable=SC2046,SC2086
at_roots="$dev_roots $(roots $(mod_objs at))"
# shellcheck disable=SC2086
echo "BENCH m4_flash_at_firmware $(linked "$out/at_fw.elf" "$at_roots" $all) bytes"
# shellcheck disable=SC2086
echo "BENCH m4_libgcc_at_firmware $(helpers "$out/at_fw.elf" "$at_roots" $all) bytes"

# The same two links for a firmware built with link-time optimization (-flto at compile and
# link, GCC -Os): the objects are compiled again with -flto, so GCC inlines and drops code
# across files, which the per-file figures above cannot. A firmware team chooses it in its own
# build (CMake's INTERPROCEDURAL_OPTIMIZATION); the figures above stay the plain build's. Only
# with CROSS_LTO=1: two more compilations and LTO links, ~18 s of CPU make test need not spend.
if [ "${CROSS_LTO:-0}" = 1 ]; then
    core_objs "$out/obj-lto-nodr" "-flto -DSMARTCFG_WITH_DYNREG=0"
    core_objs "$out/obj-lto" "-flto"
    lto_link="-flto=auto -Os"
    # shellcheck disable=SC2046,SC2086
    echo "BENCH m4_flash_rx_8266_binder_lto $(linked "$out/rx8266bind_lto.elf" "$rx_roots" $(cat "$out/obj-lto-nodr/list")) bytes"
    # shellcheck disable=SC2046,SC2086
    echo "BENCH m4_flash_device_firmware_lto $(linked "$out/device_fw_lto.elf" "$dev_roots" $(cat "$out/obj-lto/list")) bytes"
    lto_link=""
fi

# The receivers alone, as the device calls them (its undefined symbols that the receiver, v2 and
# AirKiss modules define: the front, the channel search, the decoders, the ack and the
# credentials check): the figure to set beside Espressif's closed receiver library
# (docs/receiver.md §8), which has no 8266 service and no binder.
# shellcheck disable=SC2046
rxdev_roots=$("$NM" -g --defined-only $(mod_objs receiver) $(mod_objs esptouch_v2) $(mod_objs airkiss) | awk '$2 == "T" { print $3 }' | sort -u | comm -12 - "$out/device_uses.txt" | sed 's/^/-Wl,-u,/' | tr '\n' ' ')
# shellcheck disable=SC2086
echo "BENCH m4_flash_receivers $(linked "$out/receivers.elf" "$rxdev_roots" $all) bytes"

# With CROSS_CJSON_SRC=path/to/cJSON.c (its cJSON.h beside it; Debian 12 ships 1.7.15): the
# receiver + 8266 + binder and the device firmware as a port links them, with cJSON and newlib
# (nano, and the full one) -- what the core's library calls cost (cJSON's parser and printer,
# printf, strtod, their soft-double helpers). mbedTLS is still left out, and so is what the
# port calls itself.
with_libs() { # with_libs NAME ROOTS OBJ...
    n=$1 r=$2; shift 2
    for libc in c_nano c; do
        # shellcheck disable=SC2086
        "$CC" $arch -nostartfiles -Wl,--gc-sections -Wl,--unresolved-symbols=ignore-all -Wl,-e,0 \
            $r -o "$out/${n}_$libc.elf" "$@" "$out/cjson.o" -Wl,--start-group -l$libc -lm -lgcc -Wl,--end-group
        t=newlib; [ "$libc" = c ] || t=nano
        echo "BENCH m4_fw_libs_${n}_$t $(ram_flash "$out/${n}_$libc.elf") bytes"
    done
}
ram_flash() { "$SIZE" "$@" | awk 'NR > 1 { t += $1 + $2 } END { print t + 0 }'; }
if [ -n "${CROSS_CJSON_SRC:-}" ]; then
    # shellcheck disable=SC2086
    $CC $arch -Os -ffunction-sections -fdata-sections -I"$(dirname "$CROSS_CJSON_SRC")" -c "$CROSS_CJSON_SRC" -o "$out/cjson.o"
    # shellcheck disable=SC2086
    with_libs rx_8266_binder "$rx_roots" $nodr
    # shellcheck disable=SC2086
    with_libs device_firmware "$dev_roots" $all
fi

# Firmware variants: the core compiled again with some switches at 0 (the module list decides
# which sources each variant compiles, as CMake would), linked from the same roots.
variant() { # variant TAG SWITCH...: SWITCH names a switch set to 0
    tag=$1; shift
    vd=$out/obj-$tag vdefs="" vobjs=""
    for s in SMARTCFG_WITH_SENDER SMARTCFG_WITH_SIM SMARTCFG_WITH_AT SMARTCFG_WITH_DYNREG "$@"; do vdefs="$vdefs -D$s=0"; done
    core_objs "$vd" "$vdefs"
    vobjs=$(cat "$vd/list")
    # shellcheck disable=SC2086
    echo "BENCH m4_flash_rx_8266_binder_$tag $(linked "$vd/rx8266bind.elf" "$rx_roots" $vobjs) bytes"
    # shellcheck disable=SC2086
    echo "BENCH m4_flash_device_firmware_$tag $(linked "$vd/device_fw.elf" "$dev_roots" $vobjs) bytes"
    # shellcheck disable=SC2086
    echo "BENCH m4_flash_receivers_$tag $(linked "$vd/receivers.elf" "$rxdev_roots" $vobjs) bytes"
    printf '#include "smartcfg/device.h"\nchar m4_state_device_%s[sizeof(sc_device_t)];\n' "$tag" >"$vd/probe.c"
    # shellcheck disable=SC2086
    $CC $flags $vdefs -fcommon -c "$vd/probe.c" -o "$vd/probe.o"
    "$NM" -S "$vd/probe.o" | while read -r _ sz _ name; do case $name in m4_state_*) echo "BENCH $name $((0x$sz)) bytes" ;; esac; done
}
variant v1 SMARTCFG_WITH_ESPTOUCH_V2 SMARTCFG_WITH_AIRKISS
stack "$out/obj-v1" _v1
variant nov2 SMARTCFG_WITH_ESPTOUCH_V2
variant noairkiss SMARTCFG_WITH_AIRKISS

# The caller-owned state on this target: sizeof of each storage type, read from a probe object.
cat >"$out/state_probe.c" <<'C'
#include "smartcfg/air.h"
#include "smartcfg/at.h"
#include "smartcfg/at_device.h"
#include "smartcfg/binder.h"
#include "smartcfg/device.h"
char m4_state_device[sizeof(sc_device_t)];
char m4_state_receiver[sizeof(sc_et_rx_t)];
char m4_state_receiver_front[sizeof(sc_receiver_t)];
char m4_state_binder[sizeof(sc_binder_t)];
char m4_state_at[sizeof(sc_at_t)];
char m4_state_at_device[sizeof(sc_at_device_t)];
char m4_state_air[sizeof(sc_air_t)];
C
# shellcheck disable=SC2086
$CC $flags -fcommon -c "$out/state_probe.c" -o "$out/state_probe.o"
"$NM" -S "$out/state_probe.o" | while read -r _ sz _ name; do case $name in m4_state_*) echo "BENCH $name $((0x$sz)) bytes" ;; esac; done
