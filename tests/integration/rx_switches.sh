#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 50
# The receiver switches (SMARTCFG_WITH_ESPTOUCH_V2, SMARTCFG_WITH_AIRKISS) really remove code:
#   1. the core with each of them off and with both off (the simulator on, to make captures):
#      rx_switches/main.c decodes every protocol the build keeps on lossy air, the others are
#      refused and their captures never complete, and the receiver front's object refers to
#      no decoder that is off;
#   2. a v1-only firmware core (cloud, AT, sender and simulator off too): no v2 or AirKiss
#      receiver code in libsmartcfg.a and no mbedTLS at all;
#   3. the same core built as a shared library too and installed: libsmartcfg.so exports
#      exactly the public API its headers declare with every switch off;
#   4. that install has no header of a left-out module (at.h, sender.h, air.h, ...), the
#      headers it keeps say which of their functions a left-out module takes away, and a
#      program using one of those fails to compile (gcc and clang), the switch named.
set -euo pipefail
source "$(dirname "$0")/lib/package.bash"
package_test_init rx_switches
JOBS=2

build() { # build DIR LOG -D...: a parent project with the core as a subproject and the check program
    local dir=$1 log=$2; shift 2
    mkdir -p "$dir"
    cat >"$dir/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(fw LANGUAGES C)
add_subdirectory("$SC_SRC" smartcfg)
if(SMARTCFG_WITH_SIM)
  add_executable(check "$SC_SRC/tests/integration/rx_switches/main.c")
  target_link_libraries(check PRIVATE smartcfg::core)
endif()
CM
    # Debug: no optimiser, the quickest build; the switches are preprocessor work
    cmake -S "$dir" -B "$dir/b" -DCMAKE_BUILD_TYPE=Debug -DSMARTCFG_CORE_ONLY=ON -DSMARTCFG_WITH_CLOUD=OFF \
        -DSMARTCFG_WITH_AT=OFF -DSMARTCFG_WITH_SENDER=OFF "$@" >"$log" 2>&1 || { cat "$log"; fail "configure $*"; }
    cmake --build "$dir/b" -j $JOBS >>"$log" 2>&1 || { tail -40 "$log"; fail "build $*"; }
}

for combo in "OFF OFF" "OFF ON" "ON OFF"; do
    set -- $combo
    d=$T/v2$1-ak$2
    build "$d" "$T/$1$2.log" -DSMARTCFG_WITH_SIM=ON -DSMARTCFG_WITH_ESPTOUCH_V2="$1" -DSMARTCFG_WITH_AIRKISS="$2"
    out=$("$d/b/check") || { echo "$out"; fail "v2=$1 airkiss=$2: the receiver checks failed"; }
    grep -q '^[1-9][0-9]* passed, 0 failed$' <<<"$out" || { echo "$out"; fail "v2=$1 airkiss=$2: no result line"; }
    obj=$(find "$d/b" -name 'receiver.c.o' | head -1)
    [ -n "$obj" ] || fail "no receiver.c.o in $d/b"
    undef=$(nm -u "$obj")
    if [ "$1" = OFF ] && grep -q 'sc_et2_rx_' <<<"$undef"; then fail "v2 off but the front calls $(grep sc_et2_rx_ <<<"$undef")"; fi
    if [ "$2" = OFF ] && grep -q 'sc_ak_rx_' <<<"$undef"; then fail "AirKiss off but the front calls $(grep sc_ak_rx_ <<<"$undef")"; fi
    ok "v2=$1 airkiss=$2: $(head -1 <<<"$out"); $(tail -1 <<<"$out")"
done

d=$T/fw
# also as a shared library, installed: the one build with every SMARTCFG_WITH_* switch off
build "$d" "$T/fw.log" -DSMARTCFG_WITH_SIM=OFF -DSMARTCFG_WITH_ESPTOUCH_V2=OFF -DSMARTCFG_WITH_AIRKISS=OFF \
    -DSMARTCFG_BUILD_SHARED=ON -DSMARTCFG_INSTALL=ON
grep -q 'core modules: common receiver tc8266 diag device$' "$T/fw.log" || { grep 'core modules' "$T/fw.log"; fail "module list"; }
lib=$d/b/smartcfg/libsmartcfg.a
defs=$(nm -g --defined-only "$lib")
for sym in sc_et2_rx_feed sc_et2_rx_init sc_ak_rx_feed sc_ak_rx_init sc_et2_encode sc_ak_encode; do
    grep -q " T $sym\$" <<<"$defs" && fail "$sym built although v2 and AirKiss are off"
done
grep -q ' T sc_receiver_feed$' <<<"$defs" || fail "no receiver front in the v1-only core"
grep -q 'mbedtls_' <<<"$(nm -u "$lib")" && fail "the v1-only core without the cloud still needs mbedTLS: $(nm -u "$lib" | grep mbedtls_ | head -3)"
ok "v1-only firmware core: no v2/AirKiss code, no mbedTLS"

# 3. that core's libsmartcfg.so exports exactly what its installed headers declare with the
# switches off (check_so_exports: package_install checks the same of the full build)
cmake --install "$d/b" --prefix "$T/fwp" >"$T/fwi.log" 2>&1 || { cat "$T/fwi.log"; fail "install the modules-off core"; }
PKG_CONFIG_PATH=$T/fwp/lib/pkgconfig pkg-config --cflags smartcfg | grep -q -- '-DSMARTCFG_WITH_CLOUD=0 .*-DSMARTCFG_WITH_AIRKISS=0' ||
    fail "the modules-off smartcfg.pc does not carry the switches"
check_so_exports "$T/fwp"
# (sc_binder_start/step/abort stay: device/cloud_off.c's stand-ins, declared either way)
left_out=$(nm -D --defined-only "$T/fwp/lib/libsmartcfg.so" | awk 'NF == 3 { print $3 }' |
    grep -E '^sc_(cloud|dynreg|at|ota|send|air|et2|ak)_' || true)
[ -z "$left_out" ] || fail "the modules-off libsmartcfg.so exports left-out modules' functions: ${left_out//$'\n'/ }"
ok "modules-off libsmartcfg.so: exports exactly the $SO_EXPORTS names its installed headers declare with the switches off"
# 4. its installed headers are those of the modules built: at.h, sender.h, air.h ... of a core
# without them were installed, and a program using them compiled and then failed to link. What
# a header that stays (others include it for types and sizes) declares without a definition is
# said in it ("Left-out modules:").
for h in at.h at_device.h sender.h send_stream.h air.h ota.h; do
    [ -e "$T/fwp/include/smartcfg/$h" ] && fail "the modules-off core installed $h, whose module it left out"
done
for h in device.h receiver.h esptouch_v2.h airkiss.h cloud.h binder.h; do
    [ -e "$T/fwp/include/smartcfg/$h" ] || fail "the modules-off core did not install $h"
done
for h in "$T"/fwp/include/smartcfg/*.h; do echo "#include <smartcfg/${h##*/}>"; done >"$T/api.c"
# shellcheck disable=SC2046
cc -std=c11 -E -P $(PKG_CONFIG_PATH=$T/fwp/lib/pkgconfig pkg-config --cflags smartcfg) "$T/api.c" >"$T/api.i"
# prototypes (not the static inline helpers, not a cast to a type)
grep -vE '^static inline' "$T/api.i" | grep -oE '\bsc_[a-z0-9_]*[a-z0-9][[:space:]]*\(' | tr -d '( \t' | grep -v '_t$' | sort -u >"$T/declared"
nm -g --defined-only "$T/fwp/lib/libsmartcfg.a" | awk 'NF == 3 && $2 == "T" { print $3 }' | sort -u >"$T/defined"
nundef=0
for f in $(comm -23 "$T/declared" "$T/defined"); do
    h=$(grep -lE "\b$f[[:space:]]*\(" "$T"/fwp/include/smartcfg/*.h | head -1)
    grep -q 'Left-out modules:' "$h" || fail "${h##*/} declares $f, which the modules-off core lacks, and does not say so"
    nundef=$((nundef + 1))
done
[ "$nundef" -gt 20 ] || fail "only $nundef declared functions missing: the check reads the headers wrong"
# ... and a program that uses one stops at the compiler, the switch named (SC_LEFT_OUT,
# features.h), instead of at the link with an undefined reference; what the core defines is
# not marked (sc_binder_start and its stand-ins included)
CFLAGS_FW=$(PKG_CONFIG_PATH=$T/fwp/lib/pkgconfig pkg-config --cflags smartcfg)
uses() { # uses FILE FUNCTION...: a translation unit taking the address of each
    local out=$1; shift
    { cat "$T/api.c"; echo 'void *sc_uses[] = {'; printf '    (void *)%s,\n' "$@"; echo '};'; } >"$out"
}
# shellcheck disable=SC2046
uses "$T/left_out.c" $(comm -23 "$T/declared" "$T/defined")
# shellcheck disable=SC2046
uses "$T/kept.c" $(comm -12 "$T/declared" "$T/defined")
for c in cc clang; do
    command -v $c >/dev/null || continue
    lim=-fmax-errors=0; [ $c = clang ] && lim=-ferror-limit=0
    # shellcheck disable=SC2086
    LC_ALL=C $c -std=c11 $lim -c $CFLAGS_FW "$T/left_out.c" -o "$T/left_out.o" 2>"$T/left_out.err" &&
        fail "$c: a program using the left-out modules' functions compiled"
    for f in $(comm -23 "$T/declared" "$T/defined"); do
        grep -q "'$f' is unavailable: left out of this smartcfg build (needs SMARTCFG_WITH_" "$T/left_out.err" ||
            { head -5 "$T/left_out.err"; fail "$c: no compile error naming the switch for $f"; }
    done
    # shellcheck disable=SC2086
    LC_ALL=C $c -std=c11 -Wall -Werror -c $CFLAGS_FW "$T/kept.c" -o "$T/kept.o" 2>"$T/kept.err" ||
        { head -5 "$T/kept.err"; fail "$c: a function the modules-off core defines is marked left out"; }
    ok "$c: each of the $nundef left-out functions is a compile error naming its switch; the rest compile"
done
ok "modules-off install: no header of a left-out module; the $nundef functions the shared headers declare without a definition are each said so in their header"
