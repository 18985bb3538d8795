# SPDX-License-Identifier: Apache-2.0
# Shared by the decode matrix tests (sourced; see lib/batch_check.py). batch_check_count LOG:
# prints the FAIL blocks of the checker's LOG and adds its last line "checked GOOD BAD" to the
# test's $pass and $fail; a LOG without that line (a crashed checker) fails the test.
batch_check_count() {
    grep -v '^checked ' "$1"
    local last
    last=$(tail -1 "$1")
    if [[ $last =~ ^checked\ ([0-9]+)\ ([0-9]+)$ ]]; then
        pass=$((pass + BASH_REMATCH[1])); fail=$((fail + BASH_REMATCH[2]))
    else
        echo "FAIL: the field checker did not finish"; fail=$((fail + 1))
    fi
}
