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
#      exactly the public API its headers declare with every switch off.
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
