# SPDX-License-Identifier: Apache-2.0
# ensure_sdk: installs Tencent's published mini-program SDK (npm, pinned by
# tests/integration/sdk/package-lock.json) into $SC_BUILD/npm-sdk once and reuses it.
# Sets SDK_MODULES to its node_modules directory. Sourced by the tests that run it; several of
# them may start at once under `ctest -j`, so the install runs under a lock.
ensure_sdk() {
    local src=${SC_SRC:?} nm="${SC_BUILD:?}/npm-sdk"
    command -v node >/dev/null && command -v npm >/dev/null || { echo "FAIL: node and npm are needed (make deps)" >&2; return 1; }
    (
        flock 9
        if ! cmp -s "$src/tests/integration/sdk/package-lock.json" "$nm/package-lock.json" || [ ! -d "$nm/node_modules" ]; then
            rm -rf "$nm" && mkdir -p "$nm"
            cp "$src/tests/integration/sdk/package.json" "$src/tests/integration/sdk/package-lock.json" "$nm/"
            (cd "$nm" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
                { echo "FAIL: npm ci of the pinned SDK failed (registry unreachable?)" >&2; exit 1; }
        fi
    ) 9>"$SC_BUILD/npm-sdk.lock" || return 1
    SDK_MODULES="$nm/node_modules"
}
