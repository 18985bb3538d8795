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
