#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 40
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

# (the modules' own headers with them: every module is built here; rx_switches.sh checks that a
# core without them installs none)
for f in include/smartcfg/device.h include/smartcfg/hal.h include/smartcfg/version.h include/smartcfg/features.h \
         include/smartcfg/at.h include/smartcfg/at_device.h include/smartcfg/sender.h include/smartcfg/send_stream.h \
         include/smartcfg/air.h include/smartcfg/ota.h \
         include/smartcfg/posix/sc_posix.h lib/libsmartcfg.a lib/libsmartcfg.so lib/pkgconfig/smartcfg.pc lib/pkgconfig/smartcfg-posix.pc \
         lib/cmake/smartcfg/smartcfgConfig.cmake lib/cmake/smartcfg/smartcfgConfigVersion.cmake \
         lib/cmake/smartcfg/smartcfgTargets.cmake lib/libsmartcfg-posix.a bin/smartcfg lib/smartcfg/smartcfg_auth.so \
         lib/wireshark/plugins/smartcfg.lua share/smartcfg/systemd/smartcfg-device.service \
         share/smartcfg/systemd/smartcfg-cloud.service; do
    [ -e "$P/$f" ] || fail "missing $f"
done
ok "headers, static + shared core, smartcfg.pc + smartcfg-posix.pc, CMake package, program, plugin, Wireshark dissector, systemd units"
# The man pages name docs/... files: each is installed, in the directory their FILES section
# gives, and that directory is this prefix's (the pages are written for the configured one).
n=0
for page in "$P"/share/man/man1/smartcfg*.1; do
    # roff escapes "-" as "\-": undo that before reading names and paths
    text=$(sed 's/\\-/-/g' "$page")
    dir=$(awk '/^\.SH FILES/ { getline; getline; print; exit }' <<<"$text")
    [ "$dir" = "$P/share/doc/smartcfg/docs/" ] || fail "$(basename "$page"): FILES names '$dir', not $P/share/doc/smartcfg/docs/"
    for d in $(grep -o 'docs/[A-Za-z0-9_/-]*\.md' <<<"$text" | sort -u); do
        [ -f "$P/share/doc/smartcfg/$d" ] || fail "$(basename "$page") names $d, which is not installed"
        n=$((n + 1))
    done
done
[ "$n" -ge 5 ] || fail "the man pages name only $n docs/ files: the check reads them wrong"
[ -f "$P/share/doc/smartcfg/README.md" ] && [ -f "$P/share/doc/smartcfg/docs/porting.md" ] &&
    [ -f "$P/share/doc/smartcfg/docs/protocol/tencent.md" ] || fail "README.md / docs/ not installed in share/doc/smartcfg"
ok "man pages: the $n docs/ files they name are installed in share/doc/smartcfg/docs/, which their FILES section names"

# The libraries define no global name outside their namespace (sc_*), apart from the seed's
# compat API that device_compat.h declares: a firmware's own symbols must not collide with ours.
compat=$(grep -oE '\b[a-z_A-Z]+\(' "$P/include/smartcfg/device_compat.h" | tr -d '(' | sort -u)
for lib in libsmartcfg.a libsmartcfg-posix.a; do
    foreign=$(nm -g --defined-only "$P/lib/$lib" | awk 'NF == 3 { print $3 }' | grep -v '^sc_' | sort -u |
        grep -vxF -f <(echo "$compat") || true)
    [ -z "$foreign" ] || fail "$lib defines global symbols outside sc_*: $(echo $foreign)"
done
ok "global symbols of libsmartcfg.a and libsmartcfg-posix.a: sc_* and the compat API only"

# libsmartcfg.so exports the public API and nothing else (check_so_exports, lib/package.bash);
# tests/integration/rx_switches.sh checks the same of a shared core with every module off.
check_so_exports "$P"
ok "libsmartcfg.so exports exactly the public API: $SO_EXPORTS names, each declared in an installed header"

ver=$(sed -n 's/^#define SMARTCFG_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' "$SC_SRC/include/smartcfg/version.h" | paste -sd.)
[ "$("$P/bin/smartcfg" --version)" = "smartcfg $ver" ] || fail "smartcfg --version: $("$P/bin/smartcfg" --version)"
[ "$(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --modversion smartcfg)" = "$ver" ] || fail "smartcfg.pc version"
ok "version $ver from version.h in smartcfg --version and smartcfg.pc"

# A tree moved after installing still works: the .pc and the CMake files are relocatable.
mv "$P" "$T/moved"; P=$T/moved
# The installed `smartcfg cloud` finds the installed broker plugin (<bin>/../lib/smartcfg/), here
# in the moved tree: it gets past that lookup to starting mosquitto (a missing file on purpose:
# nothing listens); without the plugin it says so.
cloud_try() { env -u SMARTCFG_AUTH_PLUGIN HOME="$T/home" XDG_DATA_HOME="$T/home" XDG_STATE_HOME="$T/home" \
    XDG_CONFIG_HOME="$T/home" timeout 20 "$P/bin/smartcfg" cloud --db "$T/home/c.db" --mosquitto "$T/no-mosquitto" 2>&1 || true; }
mkdir -p "$T/home"
out=$(cloud_try)
[[ $out == *"mosquitto: cannot run $T/no-mosquitto"* ]] || { echo "$out"; fail "installed smartcfg cloud did not find its plugin"; }
mv "$P/lib/smartcfg/smartcfg_auth.so" "$T/plugin.so"
out=$(cloud_try)
mv "$T/plugin.so" "$P/lib/smartcfg/smartcfg_auth.so"
[[ $out == *"smartcfg_auth.so is neither next to this program nor in its ../lib/smartcfg/"* ]] || { echo "$out"; fail "no message for a missing plugin"; }
ok "the installed smartcfg cloud finds the installed broker plugin (in a moved tree too)"

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
libs=$(ldd "$T/skel-cmake/port_skeleton")
[[ $libs == *libsmartcfg* ]] && fail "smartcfg::core without SMARTCFG_USE_SHARED linked libsmartcfg.so"
ok "port-skeleton via find_package(smartcfg): built (static core) and provisioned"

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
# A build that sets a module switch the library was not built with (here AirKiss off against
# a library with it) has a smaller sc_device_t than the library writes: init must refuse it.
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -DSMARTCFG_WITH_AIRKISS=0 -I"$P/include" -o "$T/skel-mismatch" \
    "$SC_SRC/examples/port-skeleton/main.c" "$SC_SRC/examples/port-skeleton/fake_chip.c" "$P/lib/libsmartcfg.a" \
    $(pkg-config --static --libs-only-other --libs-only-l smartcfg | sed 's/-lsmartcfg//') || fail "mismatch build"
if out=$("$T/skel-mismatch" 2>&1); then fail "a caller with a smaller sc_device_t was let through"; fi
grep -q 'other SMARTCFG_WITH_\* switches' <<<"$out" || { echo "$out" | tail -5; fail "no message for the size mismatch"; }
ok "a caller built with other module switches than the library: sc_device_init refuses, says why"
unset PKG_CONFIG_PATH

# Every installed header (the core's and the POSIX port's) compiles on its own, as C11 and as
# C++ with -pedantic, and a C++ program links functions of both libraries (extern "C").
mkdir -p "$T/hdr"
for h in "$P"/include/smartcfg/*.h "$P"/include/smartcfg/posix/*.h; do
    inc=${h#"$P"/include/}
    one=$T/hdr/${inc//[\/.]/_}   # one translation unit per header, named after it (no fork: builtins only)
    printf '#include <%s>\nint sc_unused_;\n' "$inc" >"$one.c"
    printf '#include <%s>\nint sc_unused_;\n' "$inc" >"$one.cpp"
done
# (one compiler run per language: the driver starts a cc1 per file and names the failing one)
cc -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$P/include" "$T"/hdr/*.c 2>"$T/hdr.log" ||
    { head -20 "$T/hdr.log"; fail "an installed header does not compile alone (C11)"; }
c++ -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$P/include" "$T"/hdr/*.cpp 2>"$T/hdr.log" ||
    { head -20 "$T/hdr.log"; fail "an installed header does not compile alone (C++)"; }
# clang: every header in one unit (alone is gcc's check above: a cc1 per file costs clang ~3 s),
# and the skeleton (docs/porting.md shows it exactly, checked below) built with clang -pedantic
# against the installed static core and run (under 1 s in all)
if command -v clang >/dev/null && command -v clang++ >/dev/null; then
    { grep -h '^#include' "$T"/hdr/*.c; echo 'int sc_unused_;'; } >"$T/hdr_all.c"
    cp "$T/hdr_all.c" "$T/hdr_all.cpp"
    clang -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$P/include" "$T/hdr_all.c" 2>"$T/hdr.log" ||
        { head -20 "$T/hdr.log"; fail "the installed headers do not compile with clang (C11)"; }
    clang++ -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$P/include" "$T/hdr_all.cpp" 2>"$T/hdr.log" ||
        { head -20 "$T/hdr.log"; fail "the installed headers do not compile with clang++"; }
    # shellcheck disable=SC2046
    clang -std=c11 -Wall -Wextra -Werror -pedantic -o "$T/skel-clang" "$SC_SRC/examples/port-skeleton/main.c" \
        "$SC_SRC/examples/port-skeleton/fake_chip.c" $(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --cflags smartcfg) \
        "$P/lib/libsmartcfg.a" $(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --static --libs-only-l smartcfg | sed 's/-lsmartcfg//') ||
        fail "build the skeleton with clang -pedantic"
    run_skeleton "$T/skel-clang" clang
fi
mkdir -p "$T/cxx"
{
    for h in "$P"/include/smartcfg/*.h "$P"/include/smartcfg/posix/*.h; do echo "#include <${h#"$P"/include/}>"; done
    cat <<'CPP'
#include <cstdio>
static sc_device_t dev;   // static storage from C++ too
int main()
{
    sc_device_config_t cfg;
    sc_device_config_default(&cfg);
    sc_posix_udp_t udp;
    sc_hal_udp_t hal;
    sc_posix_udp_init(&udp, &hal);
    std::printf("%s %zu %d\n", SMARTCFG_VERSION_STRING, sizeof dev, sc_posix_now_ms() > 0u);
    return 0;
}
CPP
} >"$T/cxx/main.cpp"
cat >"$T/cxx/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(cxx LANGUAGES CXX)
find_package(smartcfg REQUIRED COMPONENTS posix)
add_executable(cxx main.cpp)
target_compile_options(cxx PRIVATE -Wall -Wextra -Werror -pedantic)
target_link_libraries(cxx PRIVATE smartcfg::core smartcfg::posix)
CM
{ cmake -S "$T/cxx" -B "$T/cxx/b" -DCMAKE_PREFIX_PATH="$P" && cmake --build "$T/cxx/b"; } >"$T/cxx.log" 2>&1 ||
    { tail -20 "$T/cxx.log"; fail "a C++ program using smartcfg::core and smartcfg::posix"; }
"$T/cxx/b/cxx" | grep -q "^$ver " || fail "the C++ program did not run"
ok "every installed header compiles alone (C11 and C++), all of them with clang too; the skeleton builds with clang -pedantic; a C++ program links the core and the POSIX port"

# smartcfg-posix.pc: a C program using the Linux port (its file storage, through the HAL table)
# and the core, built with `pkg-config --cflags --libs smartcfg-posix` alone and run. It links the
# port's static archive against the shared core, so every core function any of the port's
# objects calls must be exported by libsmartcfg.so, not only those this program pulls in.
mkdir -p "$T/posixpc"
cat >"$T/posixpc/main.c" <<'C'
/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sc_posix.h"
#include "sc_posix_storage.h"
#include "smartcfg/version.h"

int main(int argc, char **argv)
{
    sc_posix_storage_t st;
    sc_hal_storage_t kv;
    char err[256] = "", buf[16];
    size_t n = 0;
    if (argc != 2 || sc_posix_storage_open(&st, argv[1], &kv, err, sizeof err) != SC_OK) {
        fprintf(stderr, "storage: %s\n", err);
        return 1;
    }
    if (kv.put(kv.ctx, "k", "hello", 5) != SC_OK || kv.get(kv.ctx, "k", buf, sizeof buf, &n) != SC_OK || n != 5 ||
        memcmp(buf, "hello", 5) != 0)
        return 1;
    sc_posix_storage_close(&st);
    printf("%s %s %d\n", SMARTCFG_VERSION_STRING, sc_strerror(SC_ERR_NOTFOUND), sc_posix_now_ms() > 0u);
    return 0;
}
C
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$T/posixpc/prog" "$T/posixpc/main.c" \
    $(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --cflags --libs smartcfg-posix) -Wl,-rpath,"$P/lib" ||
    fail "build a program with pkg-config --cflags --libs smartcfg-posix"
"$T/posixpc/prog" "$T/posixpc/state" | grep -q "^$ver " || fail "the smartcfg-posix program did not run"
[ -f "$T/posixpc/state/k" ] || fail "the smartcfg-posix program stored nothing"
[ "$(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --modversion smartcfg-posix)" = "$ver" ] || fail "smartcfg-posix.pc version"
need=$(nm -u "$P/lib/libsmartcfg-posix.a" | awk '$1 == "U" && $2 ~ /^sc_/ { print $2 }' | sort -u |
    comm -23 - <(nm -g --defined-only "$P/lib/libsmartcfg-posix.a" | awk 'NF == 3 { print $3 }' | sort -u) |
    comm -23 - <(nm -D --defined-only "$P/lib/libsmartcfg.so" | awk 'NF == 3 { print $3 }' | sort -u))
[ -z "$need" ] || fail "libsmartcfg-posix.a calls core functions libsmartcfg.so does not export: ${need//$'\n'/ }"
ok "pkg-config --cflags --libs smartcfg-posix: a program on the port and the shared core built and ran"

# The core needs only cJSON and mbedTLS: with pkg-config seeing nothing but cJSON (no libpcap,
# libnl, libmosquitto, libcurl), find_package(smartcfg) still gives smartcfg::core, and
# COMPONENTS posix is refused with the packages it lacks. (The consumer's old
# cmake_minimum_required leaves IN_LIST and friends OLD: the package file sets its own policies.)
mkdir -p "$T/pc-cjson" "$T/nohost"
cp "$(pkg-config --variable=pcfiledir libcjson)/libcjson.pc" "$T/pc-cjson/"
printf 'cmake_minimum_required(VERSION 3.1)\nproject(n LANGUAGES C)\nfind_package(smartcfg REQUIRED ${COMPS})\nadd_executable(n main.c)\ntarget_link_libraries(n PRIVATE smartcfg::core)\n' >"$T/nohost/CMakeLists.txt"
printf '#include <smartcfg/device.h>\nint main(void) { sc_device_config_t c; sc_device_config_default(&c); return 0; }\n' >"$T/nohost/main.c"
# (SMARTCFG_USE_SHARED: smartcfg::core is libsmartcfg.so here; the skeleton above took the .a)
{ PKG_CONFIG_LIBDIR=$T/pc-cjson cmake -S "$T/nohost" -B "$T/nohost/b" -DCMAKE_PREFIX_PATH="$P" -DSMARTCFG_USE_SHARED=ON &&
  cmake --build "$T/nohost/b"; } >"$T/nohost.log" 2>&1 ||
    { tail -20 "$T/nohost.log"; fail "find_package(smartcfg) for the core needed the POSIX port's host libraries"; }
"$T/nohost/b/n" || fail "the core-only consumer did not run"
libs=$(ldd "$T/nohost/b/n")
[[ $libs == *"=> $P/lib/libsmartcfg.so."* ]] || { echo "$libs"; fail "SMARTCFG_USE_SHARED: not linked to the installed libsmartcfg.so"; }
rm -rf "$T/nohost/b"
if PKG_CONFIG_LIBDIR=$T/pc-cjson cmake -S "$T/nohost" -B "$T/nohost/b" -DCMAKE_PREFIX_PATH="$P" \
        "-DCOMPS=COMPONENTS;posix" >"$T/nohost2.log" 2>&1; then
    fail "find_package(smartcfg COMPONENTS posix) succeeded without the host libraries"
fi
has 'needs host libraries that were not found: libpcap-dev' "$T/nohost2.log" ||
    { cat "$T/nohost2.log"; fail "no clear message for COMPONENTS posix without host libraries"; }
ok "find_package(smartcfg) without host libraries: smartcfg::core works (shared, SMARTCFG_USE_SHARED), COMPONENTS posix names what is missing"

# 3. make install PREFIX=... (the user's entry point) into a fresh prefix
make -s -C "$SC_SRC" install BUILD="$SC_BUILD" PREFIX="$T/mk dir" >"$T/mk.log" 2>&1 || { cat "$T/mk.log"; fail "make install"; }
[ -f "$T/mk dir/lib/pkgconfig/smartcfg.pc" ] && [ -x "$T/mk dir/bin/smartcfg" ] || fail "make install left files out"
# without PREFIX the prefix is /usr/local (read from make -n: nothing is installed there)
mk=$(env -u PREFIX -u DESTDIR make -s -n -C "$SC_SRC" install BUILD="$SC_BUILD")
[[ $mk == *'cmake --install "'"$SC_BUILD"'" --prefix "/usr/local"'* ]] || { echo "$mk"; fail "make install's default prefix"; }
ok "make install PREFIX=... (a path with a space); the default PREFIX is /usr/local"
# DESTDIR stages the tree for a distribution package: the files land under DESTDIR/PREFIX and
# the package files never name the staging directory (smartcfg.pc and the CMake package are
# relocatable: they find the prefix from their own place)
make -s -C "$SC_SRC" install BUILD="$SC_BUILD" PREFIX=/usr DESTDIR="$T/stage" >"$T/stage.log" 2>&1 || { cat "$T/stage.log"; fail "make install DESTDIR=..."; }
[ -f "$T/stage/usr/lib/pkgconfig/smartcfg.pc" ] && [ -x "$T/stage/usr/bin/smartcfg" ] && [ -f "$T/stage/usr/include/smartcfg/device.h" ] ||
    fail "make install DESTDIR=... did not stage under DESTDIR/PREFIX"
! grep -rlF "$T/stage" "$T/stage/usr/lib/pkgconfig" "$T/stage/usr/lib/cmake" || fail "the staging directory leaked into the package files"
ok "make install DESTDIR=... PREFIX=/usr stages the tree; the package files do not name the staging directory"

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
# make install as a user who may write neither the prefix nor the build tree: the same message,
# not a build step's "Permission denied" on the build directory.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
        setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$SC_SRC/Makefile"; then
    mkdir -p "$T/rootonly" && chmod 755 "$T/rootonly" && chmod o+x "$T"
    if setpriv --reuid=nobody --regid=nogroup --clear-groups make -s -C "$SC_SRC" install BUILD="$SC_BUILD" \
            PREFIX="$T/rootonly/usr" >"$T/ro2.log" 2>&1; then
        fail "make install as nobody into a root-owned prefix succeeded"
    fi
    has 'smartcfg: cannot write to' "$T/ro2.log" || { cat "$T/ro2.log"; fail "make install as nobody: no clear message"; }
    ok "make install as nobody into a root-owned prefix: refused before building"
fi
# docs/porting.md shows the skeleton exactly as it is built here.
sed -n '/<!-- port-skeleton:begin -->/,/<!-- port-skeleton:end -->/p' "$SC_SRC/docs/porting.md" |
    sed '1,2d;$d' | sed '$d' >"$T/doc_skeleton.c"
cmp -s "$T/doc_skeleton.c" "$SC_SRC/examples/port-skeleton/main.c" ||
    { diff "$T/doc_skeleton.c" "$SC_SRC/examples/port-skeleton/main.c" | head; fail "docs/porting.md's skeleton differs from examples/port-skeleton/main.c"; }
ok "docs/porting.md shows examples/port-skeleton/main.c exactly"
echo "package_install: ok"
