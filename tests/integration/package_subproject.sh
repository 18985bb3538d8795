#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 60
# smartcfg inside somebody else's CMake project, with no host library available: pkg-config
# sees only cJSON (PKG_CONFIG_LIBDIR points at a directory holding libcjson.pc alone), so any
# attempt to find libpcap, libnl, mosquitto, microhttpd, curl, sqlite or cmocka fails.
#   1. add_subdirectory() with no option set: core only, a clear status line, mbedTLS found
#      through its CMake package, the skeleton links against smartcfg::core and runs;
#   2. FetchContent from the local path (no network) with SMARTCFG_CORE_ONLY=ON and cJSON and
#      mbedTLS supplied by the parent as its own targets (pkg-config finds nothing at all);
#   3. a firmware-style core without the cloud, AT, sender and simulator modules: builds,
#      leaves those modules' code (and the cloud's HMAC/base64) out, the switch reaches the user;
#   4. bad combinations get a clear message at configure time;
#      a cross build gets no host cJSON: refused without the parent's, built with it;
#   5. the core alone at the top level (SMARTCFG_CORE_ONLY=ON), installed and used with pkg-config.
set -euo pipefail
source "$(dirname "$0")/lib/package.bash"
package_test_init subproject
JOBS=2

cjson_pc=$(pkg-config --variable=pcfiledir libcjson)/libcjson.pc
mkdir -p "$T/pc-cjson" "$T/pc-none"
cp "$cjson_pc" "$T/pc-cjson/"
SKEL=$SC_SRC/examples/port-skeleton

configure_build() { # configure_build DIR LOG [cmake args...]
    local dir=$1 log=$2; shift 2
    cmake -S "$dir" -B "$dir/b" "$@" >"$log" 2>&1 || { cat "$log"; return 1; }
    cmake --build "$dir/b" -j $JOBS >>"$log" 2>&1 || { tail -40 "$log"; return 1; }
}
no_host_libs() { # no_host_libs CACHE: the configure looked up none of the host libraries
    ! grep -Eq '^(PCAP|NL|MOSQ|MHD|CURL|SQLITE|CMOCKA)_FOUND' "$1" || fail "host libraries were searched: $(grep -E '^(PCAP|MOSQ)_' "$1")"
}

# 1. add_subdirectory, nothing set
P1=$T/parent1
mkdir -p "$P1"
cat >"$P1/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(firmware LANGUAGES C)
add_subdirectory("$SC_SRC" smartcfg)
add_executable(app "$SKEL/main.c" "$SKEL/fake_chip.c")
target_link_libraries(app PRIVATE smartcfg::core)
CM
# mbedTLS through its CMake package, as mbedTLS 3 installs one (MbedTLSConfig.cmake defining
# MbedTLS::mbedcrypto; Debian's 2.28 has none, so a stand-in over the system library). Parts 2
# and 3 take it from the parent's target and from the plain library search.
mkdir -p "$T/mbedpkg/lib/cmake/MbedTLS"
cat >"$T/mbedpkg/lib/cmake/MbedTLS/MbedTLSConfig.cmake" <<CM
add_library(MbedTLS::mbedcrypto UNKNOWN IMPORTED)
set_target_properties(MbedTLS::mbedcrypto PROPERTIES IMPORTED_LOCATION "$(cc -print-file-name=libmbedcrypto.so)")
CM
PKG_CONFIG_LIBDIR=$T/pc-cjson configure_build "$P1" "$T/p1.log" -DCMAKE_PREFIX_PATH="$T/mbedpkg" ||
    fail "add_subdirectory build"
grep -q '^MbedTLS_DIR:PATH=' "$P1/b/CMakeCache.txt" && ! grep -q '^SMARTCFG_LIB_mbedcrypto:FILEPATH=/' "$P1/b/CMakeCache.txt" ||
    fail "mbedTLS did not come from its CMake package (MbedTLSConfig.cmake)"
has 'smartcfg: used as a subproject with SMARTCFG_CORE_ONLY unset: building only the' "$T/p1.log" ||
    fail "no status line for a parent that sets nothing"
no_host_libs "$P1/b/CMakeCache.txt"
[ ! -e "$P1/b/smartcfg/smartcfg" ] || fail "the smartcfg program was built in a core-only subproject"
out=$("$P1/b/app") || fail "skeleton built by add_subdirectory exited with an error"
grep -q '^provisioned after ' <<<"$out" || fail "skeleton built by add_subdirectory did not provision"
ok "add_subdirectory: core only, no host library, mbedTLS from its CMake package, skeleton runs"

# 2. FetchContent from the local path; cJSON supplied by the parent as a target
P2=$T/parent2
mkdir -p "$P2"
cjson_inc=$(pkg-config --variable=includedir libcjson)/cjson
cjson_lib=$(pkg-config --variable=libdir libcjson)/libcjson.so
mbed_lib=$(cc -print-file-name=libmbedcrypto.so)
case $mbed_lib in /*) ;; *) fail "libmbedcrypto.so not found by the compiler" ;; esac
cat >"$P2/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(firmware LANGUAGES C)
add_library(my_cjson INTERFACE)
target_include_directories(my_cjson INTERFACE "$cjson_inc")
target_link_libraries(my_cjson INTERFACE "$cjson_lib")
set(SMARTCFG_CJSON_TARGET my_cjson)
add_library(my_crypto INTERFACE)
target_link_libraries(my_crypto INTERFACE "$mbed_lib")
set(SMARTCFG_MBEDCRYPTO_TARGET my_crypto)
set(SMARTCFG_CORE_ONLY ON)
include(FetchContent)
set(FETCHCONTENT_FULLY_DISCONNECTED ON)
FetchContent_Declare(smartcfg SOURCE_DIR "$SC_SRC")
FetchContent_MakeAvailable(smartcfg)
add_executable(app "$SKEL/main.c" "$SKEL/fake_chip.c")
target_link_libraries(app PRIVATE smartcfg::core)
CM
PKG_CONFIG_LIBDIR=$T/pc-none configure_build "$P2" "$T/p2.log" || fail "FetchContent build"
no_host_libs "$P2/b/CMakeCache.txt"
grep -q 'SMARTCFG_PC_CJSON_FOUND:INTERNAL=1' "$P2/b/CMakeCache.txt" && fail "cJSON came from pkg-config, not the parent's target"
grep -q '^SMARTCFG_LIB_mbedcrypto:FILEPATH=/' "$P2/b/CMakeCache.txt" && fail "mbedTLS was searched for, not taken from the parent's target"
out=$("$P2/b/app") || fail "skeleton built by FetchContent exited with an error"
grep -q '^provisioned after ' <<<"$out" || fail "skeleton built by FetchContent did not provision"
ok "FetchContent (local path, disconnected), cJSON and mbedTLS from the parent's targets: skeleton runs"

# 3. a firmware core: receiver, 8266 service, device, diagnostics only
P3=$T/parent3
mkdir -p "$P3"
cat >"$P3/min.c" <<'C'
/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include "smartcfg/device.h"
static uint32_t t;
static uint32_t now(void *c) { (void)c; return t; }
static const sc_hal_t hal = { .sys = { NULL, now, NULL, NULL, NULL } };
static sc_device_t dev;
int main(void)
{
    sc_device_config_t cfg;
    sc_device_config_default(&cfg);
    printf("SMARTCFG_WITH_CLOUD=%d sizeof(sc_device_t)=%zu\n", SMARTCFG_WITH_CLOUD, sizeof dev);
    if (sc_device_init(&dev, &hal, &cfg) != SC_OK)
        return 1;
    sc_device_stop(&dev, 0, t);
    return 0;
}
C
cat >"$P3/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(firmware LANGUAGES C)
set(SMARTCFG_CORE_ONLY ON)
set(SMARTCFG_WITH_CLOUD OFF)
set(SMARTCFG_WITH_AT OFF)
set(SMARTCFG_WITH_SENDER OFF)
set(SMARTCFG_WITH_SIM OFF)
set(SMARTCFG_INSTALL ON)
add_subdirectory("$SC_SRC" smartcfg)
add_executable(min min.c)
target_link_libraries(min PRIVATE smartcfg::core)
CM
PKG_CONFIG_LIBDIR=$T/pc-cjson configure_build "$P3" "$T/p3.log" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON ||
    fail "minimal core build"
# no shared object is made of a firmware core's objects: plain code, not -fPIC
grep -q -- '-fPIC' "$P3/b/compile_commands.json" && fail "the firmware core was compiled with -fPIC"
grep -q 'core modules: common receiver tc8266 diag device esptouch_v2 airkiss$' "$T/p3.log" || { grep 'core modules' "$T/p3.log"; fail "module list"; }
lib=$P3/b/smartcfg/libsmartcfg.a
undef=$(nm -u "$lib")
# mbedTLS stays (the v2 receiver's AES); the cloud's HMAC and base64 must be gone with it
grep -Eq 'mbedtls_(md_hmac|base64_)' <<<"$undef" && fail "the core without the cloud module uses the cloud's crypto"
defs=$(nm -g --defined-only "$lib")
for sym in sc_cloud_mqtt_credentials sc_at_feed sc_send_hs_start sc_air_init; do
    grep -q " T $sym\$" <<<"$defs" && fail "$sym built although its module is off"
done
out=$("$P3/b/min") || fail "minimal program failed"
grep -q 'SMARTCFG_WITH_CLOUD=0' <<<"$out" || fail "the switch did not reach the user: $out"
ok "firmware core without cloud/AT/sender/sim: no HMAC/base64, modules left out ($out)"
# the skeleton's fake chip plays the phone with the simulator: against this core it stops at
# compile time saying so (it used to be three undefined references to sc_air_*)
# shellcheck disable=SC2046 # pkg-config's words are meant to split
if cc -std=c11 -c "$SKEL/fake_chip.c" -I"$SC_SRC/include" $(grep -o 'SMARTCFG_WITH_[A-Z_0-9]*=[01]' "$P3/b/compile_commands.json" |
        sort -u | sed 's/^/-D/') -o "$T/fake_chip.o" >"$T/p3sim.log" 2>&1; then
    fail "fake_chip.c compiled against a core without the simulator"
fi
has 'fake_chip.c needs the air simulator: build smartcfg with SMARTCFG_WITH_SIM=ON' "$T/p3sim.log" ||
    { cat "$T/p3sim.log"; fail "no clear message for the skeleton against a core without the simulator"; }

# 3b. that firmware core installed by its parent (SMARTCFG_INSTALL=ON) and used from the prefix:
# no program, no completion for it, no POSIX port; the switches reach find_package's user.
cmake --install "$P3/b" --prefix "$T/fw" >"$T/p3i.log" 2>&1 || { cat "$T/p3i.log"; fail "install of the firmware core"; }
[ -f "$T/fw/lib/libsmartcfg.a" ] && [ -f "$T/fw/include/smartcfg/device.h" ] || fail "firmware core install incomplete"
for f in bin share/bash-completion share/zsh include/smartcfg/posix lib/cmake/smartcfg/smartcfgPosixTargets.cmake; do
    [ ! -e "$T/fw/$f" ] || fail "a core-only install has $f"
done
mkdir -p "$T/fwuse"
cp "$P3/min.c" "$T/fwuse/"
printf 'cmake_minimum_required(VERSION 3.18)\nproject(u LANGUAGES C)\nfind_package(smartcfg REQUIRED ${COMPS})\nadd_executable(min min.c)\ntarget_link_libraries(min PRIVATE smartcfg::core)\n' >"$T/fwuse/CMakeLists.txt"
PKG_CONFIG_LIBDIR=$T/pc-cjson configure_build "$T/fwuse" "$T/fwuse.log" -DCMAKE_PREFIX_PATH="$T/fw" ||
    fail "find_package of the installed firmware core"
"$T/fwuse/b/min" | grep -q 'SMARTCFG_WITH_CLOUD=0' || fail "the installed package lost the module switches"
rm -rf "$T/fwuse/b"
if PKG_CONFIG_LIBDIR=$T/pc-cjson cmake -S "$T/fwuse" -B "$T/fwuse/b" -DCMAKE_PREFIX_PATH="$T/fw" \
        "-DCOMPS=COMPONENTS;posix" >"$T/fwuse2.log" 2>&1; then
    fail "COMPONENTS posix found in a core-only install"
fi
has 'installed without the POSIX port' "$T/fwuse2.log" || { cat "$T/fwuse2.log"; fail "no message for COMPONENTS posix"; }
ok "the firmware core installed by its parent: core only, switches kept, COMPONENTS posix refused clearly"

# 4. clear messages for bad combinations
P4=$T/parent4
mkdir -p "$P4"
printf 'cmake_minimum_required(VERSION 3.18)\nproject(p LANGUAGES C)\nadd_subdirectory("%s" smartcfg)\n' "$SC_SRC" >"$P4/CMakeLists.txt"
if PKG_CONFIG_LIBDIR=$T/pc-cjson cmake -S "$P4" -B "$P4/b" -DSMARTCFG_WITH_CLOUD=OFF -DSMARTCFG_WITH_AT=ON >"$T/p4.log" 2>&1; then
    fail "AT without cloud configured"
fi
has 'SMARTCFG_WITH_AT=ON needs SMARTCFG_WITH_CLOUD=ON' "$T/p4.log" || { cat "$T/p4.log"; fail "no message for AT without cloud"; }
rm -rf "$P4/b"
if PKG_CONFIG_LIBDIR=$T/pc-cjson cmake -S "$P4" -B "$P4/b" -DSMARTCFG_CORE_ONLY=OFF >"$T/p5.log" 2>&1; then
    fail "a full build configured without the host libraries"
fi
has 'smartcfg: host libraries missing for the POSIX port' "$T/p5.log" || { cat "$T/p5.log"; fail "no message for missing host libraries"; }
has 'libpcap-dev' "$T/p5.log" || fail "the message does not name the packages"
rm -rf "$P4/b"
if PKG_CONFIG_LIBDIR=$T/pc-cjson cmake -S "$P4" -B "$P4/b" -DCMAKE_SYSTEM_NAME=Generic \
        -DCMAKE_TRY_COMPILE_TARGET_TYPE=STATIC_LIBRARY -DSMARTCFG_CORE_ONLY=OFF >"$T/p6.log" 2>&1; then
    fail "the POSIX port configured for a bare-metal target"
fi
has 'run on Linux only' "$T/p6.log" || { cat "$T/p6.log"; fail "no message for an unsupported target"; }
# an unsupported compiler: a toolchain file that names its compiler TinyCC (CMake takes its word)
printf 'set(CMAKE_C_COMPILER cc)\nset(CMAKE_C_COMPILER_FORCED TRUE)\nset(CMAKE_C_COMPILER_ID_RUN TRUE)\nset(CMAKE_C_COMPILER_ID TinyCC)\n' >"$P4/tcc.cmake"
rm -rf "$P4/b"
if PKG_CONFIG_LIBDIR=$T/pc-cjson cmake -S "$P4" -B "$P4/b" -DCMAKE_TOOLCHAIN_FILE="$P4/tcc.cmake" >"$T/p9.log" 2>&1; then
    fail "an unsupported compiler (TinyCC) configured"
fi
has "smartcfg: the C compiler 'TinyCC'" "$T/p9.log" && has 'is not supported' "$T/p9.log" ||
    { cat "$T/p9.log"; fail "no message for an unsupported compiler"; }
# ... and a setup that is fine is not refused: an embedded-style toolchain file that forces the
# compiler (CMake then probes nothing, so it knows no compile features), with cJSON and mbedTLS
# as the parent's own targets, configures (it used to be told the compiler lacked C11).
P7=$T/parent7
mkdir -p "$P7"
printf 'set(CMAKE_C_COMPILER cc)\nset(CMAKE_C_COMPILER_FORCED TRUE)\n' >"$P7/forced.cmake"
cat >"$P7/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(fw LANGUAGES C)
add_library(cjson INTERFACE)
add_library(mbedcrypto INTERFACE)
add_subdirectory("$SC_SRC" smartcfg)
CM
PKG_CONFIG_LIBDIR=$T/pc-none cmake -S "$P7" -B "$P7/b" -DCMAKE_TOOLCHAIN_FILE="$P7/forced.cmake" >"$T/p7.log" 2>&1 ||
    { cat "$T/p7.log"; fail "a forced compiler (no probed features) was refused"; }
# a big-endian target (clang for big-endian MIPS): refused at configure time, not by a
# _Static_assert deep in the receiver; the same target little-endian is fine
if command -v clang >/dev/null; then
    for t in mips:1 mipsel:0; do
        printf 'set(CMAKE_SYSTEM_NAME Generic)\nset(CMAKE_C_COMPILER clang)\nset(CMAKE_C_COMPILER_TARGET %s-none-elf)\nset(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)\n' \
            "${t%:*}" >"$P7/${t%:*}.cmake"
        rm -rf "$P7/b"
        if PKG_CONFIG_LIBDIR=$T/pc-none cmake -S "$P7" -B "$P7/b" -DCMAKE_TOOLCHAIN_FILE="$P7/${t%:*}.cmake" >"$T/p8.log" 2>&1; then
            [ "${t#*:}" = 0 ] || fail "a big-endian target (${t%:*}) configured"
        else
            [ "${t#*:}" = 1 ] || { cat "$T/p8.log"; fail "a little-endian target (${t%:*}) was refused"; }
            has 'smartcfg: the target is big-endian' "$T/p8.log" || { cat "$T/p8.log"; fail "no message for a big-endian target"; }
        fi
    done
fi
ok "clear configure-time messages: AT without cloud, missing host libraries (names the packages), POSIX port on a bare-metal target, an unsupported compiler, a big-endian target; a forced compiler is not refused"
# a cross build (CMAKE_SYSTEM_NAME set) with no sysroot and no target-side pkg-config must not
# take the build machine's libcjson: refused, naming SMARTCFG_CJSON_TARGET (it used to
# configure with the host's -I/usr/include/cjson and then fail to compile <cjson/cJSON.h>
# with arm-none-eabi-gcc, or to link an x86-64 library); with the parent's own cJSON, whose
# include directory holds cjson/cJSON.h as docs/porting.md says, the core builds.
# (The host compiler stands in for the cross one: CMake calls any CMAKE_SYSTEM_NAME a cross build.)
P10=$T/parent10
mkdir -p "$P10/inc/cjson"
cp "$(pkg-config --variable=includedir libcjson)/cjson/cJSON.h" "$P10/inc/cjson/"
printf 'set(CMAKE_SYSTEM_NAME Generic)\nset(CMAKE_SYSTEM_PROCESSOR arm)\nset(CMAKE_C_COMPILER cc)\nset(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)\n' >"$P10/tc.cmake"
cat >"$P10/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(fw LANGUAGES C)
if(FW_CJSON)
  add_library(fw_cjson INTERFACE)
  target_include_directories(fw_cjson INTERFACE "$P10/inc")
  set(SMARTCFG_CJSON_TARGET fw_cjson)
endif()
add_subdirectory("$SC_SRC" smartcfg)
CM
if env -u PKG_CONFIG_LIBDIR -u PKG_CONFIG_SYSROOT_DIR cmake -S "$P10" -B "$P10/b" -DCMAKE_TOOLCHAIN_FILE="$P10/tc.cmake" \
        -DSMARTCFG_WITH_CLOUD=OFF -DSMARTCFG_WITH_AT=OFF -DSMARTCFG_WITH_ESPTOUCH_V2=OFF -DSMARTCFG_WITH_SENDER=OFF -DSMARTCFG_WITH_SIM=OFF >"$T/p10.log" 2>&1; then
    fail "a cross build configured with the build machine's cJSON"
fi
has 'cross-compiling for Generic/arm and no cJSON built for that' "$T/p10.log" && has 'Set SMARTCFG_CJSON_TARGET' "$T/p10.log" ||
    { cat "$T/p10.log"; fail "no message for a cross build without the target's cJSON"; }
rm -rf "$P10/b"
env -u PKG_CONFIG_LIBDIR -u PKG_CONFIG_SYSROOT_DIR cmake -S "$P10" -B "$P10/b" -DCMAKE_TOOLCHAIN_FILE="$P10/tc.cmake" -DFW_CJSON=ON \
    -DSMARTCFG_WITH_CLOUD=OFF -DSMARTCFG_WITH_AT=OFF -DSMARTCFG_WITH_ESPTOUCH_V2=OFF -DSMARTCFG_WITH_SENDER=OFF -DSMARTCFG_WITH_SIM=OFF >"$T/p10b.log" 2>&1 &&
    cmake --build "$P10/b" -j $JOBS --target smartcfg_core >>"$T/p10b.log" 2>&1 ||
    { tail -30 "$T/p10b.log"; fail "a cross build with the parent's cJSON target"; }
grep -q 'SMARTCFG_PC_CJSON_FOUND:INTERNAL=1' "$P10/b/CMakeCache.txt" && fail "the cross build still asked pkg-config for cJSON"
ok "a cross build without the target's cJSON is refused (names SMARTCFG_CJSON_TARGET); with the parent's cJSON (<cjson/cJSON.h>) the core builds"
# 5. The core alone at the top level, as docs/porting.md tells a machine with only cJSON and
# mbedTLS to install it: both libraries, headers, smartcfg.pc and the CMake package, no program,
# and a program built from the prefix with pkg-config alone (rpath: a prefix off the loader's path).
# Debug, not the top level's default RelWithDebInfo: what is checked here is the configuration
# and the install; the same sources with the same switches, -O2 and -Werror are the main build's
# smartcfg_core_obj and smartcfg_core_shared, and optimising them again (static and shared) was
# 38 of this test's 88 s.
{ PKG_CONFIG_LIBDIR=$T/pc-cjson cmake -S "$SC_SRC" -B "$T/top" -DSMARTCFG_CORE_ONLY=ON -DCMAKE_BUILD_TYPE=Debug &&
  cmake --build "$T/top" -j $JOBS; } >"$T/top.log" 2>&1 || { tail -40 "$T/top.log"; fail "top-level SMARTCFG_CORE_ONLY=ON build"; }
no_host_libs "$T/top/CMakeCache.txt"
cmake --install "$T/top" --prefix "$T/co" >"$T/coi.log" 2>&1 || { cat "$T/coi.log"; fail "install of the top-level core-only build"; }
for f in lib/libsmartcfg.a lib/libsmartcfg.so include/smartcfg/device.h lib/pkgconfig/smartcfg.pc lib/cmake/smartcfg/smartcfgConfig.cmake; do
    [ -e "$T/co/$f" ] || fail "a top-level core-only install lacks $f"
done
[ ! -e "$T/co/bin" ] || fail "a top-level core-only install has a bin/"
# shellcheck disable=SC2046 # pkg-config's words are meant to split
cc -std=c11 -o "$T/co-skel" "$SKEL/main.c" "$SKEL/fake_chip.c" \
    $(PKG_CONFIG_PATH="$T/co/lib/pkgconfig" PKG_CONFIG_LIBDIR=$T/pc-cjson pkg-config --cflags --libs smartcfg) -Wl,-rpath,"$T/co/lib" ||
    fail "the skeleton does not build from the top-level core-only prefix with pkg-config"
"$T/co-skel" | grep -q '^provisioned after ' || fail "the skeleton built from the core-only prefix did not provision"
ok "top-level SMARTCFG_CORE_ONLY=ON: no host library, installs the core alone, the skeleton builds from it with pkg-config"

echo "package_subproject: ok"
