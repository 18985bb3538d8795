# SPDX-License-Identifier: Apache-2.0
# Shared by the package_* tests (sourced): package_test_init NAME checks SC_BUILD/SC_SRC and
# makes the private temp dir T (removed on exit); fail/ok report; has TEXT FILE looks for TEXT
# in FILE with whitespace runs folded to one space (CMake wraps its messages).
package_test_init() {
    : "${SC_BUILD:?}" "${SC_SRC:?}"
    T=$(mktemp -d "${TMPDIR:-/tmp}/sc-$1.XXXXXX")
    trap 'rm -rf "$T"' EXIT
}
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
has() { local t; t=$(tr -s '[:space:]' ' ' <"$2"); [[ $t == *"$1"* ]]; }

# check_so_exports PREFIX: the libsmartcfg.so installed under PREFIX exports the public API and
# nothing else (SC_API, include/smartcfg/export.h): an exported internal becomes ABI a user can
# link against and clashes with a firmware's own names. The public API is what the installed
# headers declare, run through the preprocessor with that install's module switches (its
# smartcfg.pc): every name followed by "(" (a prototype, also "(name)(" when a macro of that name
# exists; a function-pointer member is "(*name)(", not counted) or declared extern. Both ways:
# no export outside that set (sc_* or the compat API of device_compat.h), and no public
# function of PREFIX's libsmartcfg.a missing from the .so. Sets SO_EXPORTS to the count.
check_so_exports() {
    local p=$1 d compat foreign internal hidden h
    d=$(mktemp -d "$T/exports.XXXXXX")
    compat=$(grep -oE '\b[a-z_A-Z]+\(' "$p/include/smartcfg/device_compat.h" | tr -d '(' | sort -u)
    for h in "$p"/include/smartcfg/*.h; do echo "#include <smartcfg/${h##*/}>"; done >"$d/api.c"
    # shellcheck disable=SC2046
    cc -std=c11 -E -P $(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --cflags smartcfg) "$d/api.c" >"$d/api.i" ||
        fail "preprocess the headers installed in $p"
    { grep -oE '\b[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(' "$d/api.i" | tr -d '( \t'
      grep -oE '\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*\(' "$d/api.i" | tr -d '() \t'  # (name)(: kept from a macro
      grep -oE '\bextern\b[^;(]*\b[A-Za-z_][A-Za-z0-9_]*[[:space:]]*[[;]' "$d/api.i" | grep -oE '[A-Za-z_][A-Za-z0-9_]*[[:space:]]*[[;]$' | tr -d '[; \t' || true
    } | sort -u >"$d/declared"
    grep -qx sc_device_init_sized "$d/declared" || fail "no public declarations found in the headers installed in $p"
    nm -D --defined-only "$p/lib/libsmartcfg.so" | awk 'NF == 3 { print $3 }' | sort -u >"$d/so_exports"
    foreign=$(grep -v '^sc_' "$d/so_exports" | grep -vxF -f <(echo "$compat") || true)
    [ -z "$foreign" ] || fail "$p: libsmartcfg.so exports names outside sc_*: ${foreign//$'\n'/ }"
    internal=$(grep '^sc_' "$d/so_exports" | grep -vxF -f "$d/declared" || true)
    [ -z "$internal" ] || fail "$p: libsmartcfg.so exports $(echo "$internal" | wc -l) names no installed header declares: ${internal//$'\n'/ }"
    nm -g --defined-only "$p/lib/libsmartcfg.a" | awk 'NF == 3 && $2 == "T" { print $3 }' | sort -u |
        grep -xF -f "$d/declared" >"$d/static_api" || true
    hidden=$(comm -23 "$d/static_api" "$d/so_exports")
    [ -z "$hidden" ] || fail "$p: public functions libsmartcfg.so does not export (no SC_API?): ${hidden//$'\n'/ }"
    SO_EXPORTS=$(wc -l <"$d/so_exports")
}
