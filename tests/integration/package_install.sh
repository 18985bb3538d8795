#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The installed package, used as a library user would: `cmake --install` and `make install`
# into temporary prefixes (twice: a re-install must work and change nothing), the files the
# package promises, then examples/port-skeleton built against the installed tree once through
# find_package(smartcfg) and once through `pkg-config --cflags --libs smartcfg`, each binary
# run to the end of a provisioning. A prefix that cannot be written fails cleanly.
set -euo pipefail
source "$(dirname "$0")/lib/package.bash"
package_test_init package

P=$T/prefix
cmake --install "$SC_BUILD" --prefix "$P" >"$T/install1.log" 2>&1 || { cat "$T/install1.log"; fail "cmake --install"; }
(cd "$P" && find . -type f -o -type l | sort | xargs sha256sum 2>/dev/null) >"$T/tree1"
cmake --install "$SC_BUILD" --prefix "$P" >"$T/install2.log" 2>&1 || { cat "$T/install2.log"; fail "second cmake --install"; }
(cd "$P" && find . -type f -o -type l | sort | xargs sha256sum 2>/dev/null) >"$T/tree2"
cmp -s "$T/tree1" "$T/tree2" || { diff "$T/tree1" "$T/tree2"; fail "re-install changed the tree"; }
ok "installed twice, identical trees"

for f in include/smartcfg/device.h include/smartcfg/hal.h include/smartcfg/version.h include/smartcfg/features.h \
         include/smartcfg/posix/sc_posix.h lib/libsmartcfg.a lib/libsmartcfg.so lib/pkgconfig/smartcfg.pc \
         lib/cmake/smartcfg/smartcfgConfig.cmake lib/cmake/smartcfg/smartcfgConfigVersion.cmake \
         lib/cmake/smartcfg/smartcfgTargets.cmake lib/libsmartcfg-posix.a bin/smartcfg lib/smartcfg/smartcfg_auth.so \
         lib/wireshark/plugins/smartcfg.lua; do
    [ -e "$P/$f" ] || fail "missing $f"
done
ok "headers, static + shared core, smartcfg.pc, CMake package, program, plugin, Wireshark dissector"

ver=$(sed -n 's/^#define SMARTCFG_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' "$SC_SRC/include/smartcfg/version.h" | paste -sd.)
[ "$("$P/bin/smartcfg" --version)" = "smartcfg $ver" ] || fail "smartcfg --version: $("$P/bin/smartcfg" --version)"
[ "$(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --modversion smartcfg)" = "$ver" ] || fail "smartcfg.pc version"
ok "version $ver from version.h in smartcfg --version and smartcfg.pc"

# A tree moved after installing still works: the .pc and the CMake files are relocatable.
mv "$P" "$T/moved"; P=$T/moved

run_skeleton() { # run_skeleton BINARY WHAT
    local out
    out=$("$1" 2>&1) || { echo "$out" | tail -20; fail "$2: port_skeleton exited with an error"; }
    grep -q '^credentials: SSID "TP-LINK_2.4G"' <<<"$out" || fail "$2: no credentials decoded"
    grep -q '^provisioned after ' <<<"$out" || fail "$2: not provisioned"
    grep -q '12345678' <<<"$out" && fail "$2: the Wi-Fi password was printed"
    return 0
}

# 1. find_package(smartcfg) from the installed tree
cmake -S "$SC_SRC/examples/port-skeleton" -B "$T/skel-cmake" -DCMAKE_PREFIX_PATH="$P" >"$T/cfg.log" 2>&1 ||
    { cat "$T/cfg.log"; fail "configure the skeleton with find_package"; }
cmake --build "$T/skel-cmake" >"$T/build.log" 2>&1 || { cat "$T/build.log"; fail "build the skeleton (CMake)"; }
run_skeleton "$T/skel-cmake/port_skeleton" find_package
ok "port-skeleton via find_package(smartcfg): built and provisioned"

# An incompatible version request is refused by smartcfgConfigVersion.cmake.
mkdir -p "$T/badver"
printf 'cmake_minimum_required(VERSION 3.18)\nproject(v LANGUAGES C)\nfind_package(smartcfg 99.0 REQUIRED)\n' >"$T/badver/CMakeLists.txt"
if cmake -S "$T/badver" -B "$T/badver/b" -DCMAKE_PREFIX_PATH="$P" >"$T/badver.log" 2>&1; then
    fail "find_package(smartcfg 99.0) succeeded"
fi
has 'compatible with requested version "99.0"' "$T/badver.log" || { cat "$T/badver.log"; fail "no version message"; }
ok "find_package(smartcfg 99.0) refused"

# 2. pkg-config --cflags --libs smartcfg
export PKG_CONFIG_PATH=$P/lib/pkgconfig
flags=$(pkg-config --cflags --libs smartcfg) || fail "pkg-config smartcfg"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -o "$T/skel-pc" "$SC_SRC/examples/port-skeleton/main.c" \
    "$SC_SRC/examples/port-skeleton/fake_chip.c" $flags -Wl,-rpath,"$P/lib" || fail "build the skeleton (pkg-config)"
libs=$(ldd "$T/skel-pc")   # (not piped into grep -q: pipefail would see ldd's SIGPIPE)
[[ $libs == *"=> $P/lib/libsmartcfg.so."* ]] || { echo "$libs"; fail "not linked to the installed libsmartcfg.so"; }
run_skeleton "$T/skel-pc" pkg-config
ok "port-skeleton via pkg-config (shared libsmartcfg.so): built and provisioned"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$T/skel-static" "$SC_SRC/examples/port-skeleton/main.c" \
    "$SC_SRC/examples/port-skeleton/fake_chip.c" $(pkg-config --cflags smartcfg) "$P/lib/libsmartcfg.a" \
    $(pkg-config --static --libs-only-other --libs-only-l smartcfg | sed 's/-lsmartcfg//') || fail "static build"
libs=$(ldd "$T/skel-static")
[[ $libs == *libsmartcfg* ]] && fail "static build still uses libsmartcfg.so"
run_skeleton "$T/skel-static" static
ok "port-skeleton against libsmartcfg.a + pkg-config --static: built and provisioned"
unset PKG_CONFIG_PATH

# 3. make install PREFIX=... (the user's entry point) into a fresh prefix
make -s -C "$SC_SRC" install BUILD="$SC_BUILD" PREFIX="$T/mk" >"$T/mk.log" 2>&1 || { cat "$T/mk.log"; fail "make install"; }
[ -f "$T/mk/lib/pkgconfig/smartcfg.pc" ] && [ -x "$T/mk/bin/smartcfg" ] || fail "make install left files out"
ok "make install PREFIX=..."

# 4. A prefix without write permission: a clear message, a failure exit, nothing written.
RO=$T/ro
mkdir -p "$RO"
if [ "$(id -u)" = 0 ]; then
    # root ignores mode bits: a read-only mount in a private mount namespace instead
    runner=(unshare -m sh -c 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"' sh "$RO")
else
    chmod 555 "$RO"; runner=()
fi
if "${runner[@]}" cmake --install "$SC_BUILD" --prefix "$RO/usr" >"$T/ro.log" 2>&1; then
    fail "install into a read-only prefix succeeded"
fi
has 'smartcfg: cannot write to' "$T/ro.log" || { cat "$T/ro.log"; fail "no clear message for a read-only prefix"; }
has 'Installing:' "$T/ro.log" && fail "files were installed before the refusal"
ok "read-only prefix: refused with '$(grep -o 'smartcfg: cannot write to [^ ]*' "$T/ro.log" | head -1)'"
# docs/porting.md shows the skeleton exactly as it is built here.
sed -n '/<!-- port-skeleton:begin -->/,/<!-- port-skeleton:end -->/p' "$SC_SRC/docs/porting.md" |
    sed '1,2d;$d' | sed '$d' >"$T/doc_skeleton.c"
cmp -s "$T/doc_skeleton.c" "$SC_SRC/examples/port-skeleton/main.c" ||
    { diff "$T/doc_skeleton.c" "$SC_SRC/examples/port-skeleton/main.c" | head; fail "docs/porting.md's skeleton differs from examples/port-skeleton/main.c"; }
ok "docs/porting.md shows examples/port-skeleton/main.c exactly"
echo "package_install: ok"
