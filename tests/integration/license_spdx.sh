#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Licensing and release files (issue 10, item 1): LICENSE is the Apache License 2.0, every
# source, header, script and build file the repo tracks carries an SPDX-License-Identifier
# line near its top, and CHANGELOG.md keeps the Keep-a-Changelog shape with a heading for the
# version include/smartcfg/version.h names.
set -euo pipefail
SRC=${SC_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$SRC"

grep -q 'Apache License' LICENSE && grep -q 'Version 2.0, January 2004' LICENSE || fail "LICENSE is not the Apache License 2.0"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git ls-files)
else   # a source tarball: the same files by name
    files=$(find . -path ./.git -prune -o -type f -print | sed 's|^\./||')
fi
list=()
while IFS= read -r f; do
    case $f in
        *.c | *.h | *.sh | *.bash | *.py | *.js | *.css | *.lua | *.ld | *.inc | *.cmake | *.in | *.html | CMakeLists.txt | */CMakeLists.txt | Makefile) ;;
        *) continue ;;
    esac
    case $f in build*/* | fuzz/corpus/*) continue ;; esac
    [ -s "$f" ] && list+=("$f")
done <<<"$files"
n=${#list[@]}
# one awk over all of them (a head | grep per file costs seconds on a busy machine)
missing=$(awk 'FNR == 1 { seen[FILENAME] = 0 } FNR <= 5 && /SPDX-License-Identifier: Apache-2.0/ { seen[FILENAME] = 1 }
               END { for (f in seen) if (!seen[f]) printf " %s", f }' "${list[@]}")
[ -z "$missing" ] || fail "no 'SPDX-License-Identifier: Apache-2.0' in the first 5 lines of:$missing"
[ "$n" -gt 300 ] || fail "only $n files checked: the file list is wrong"

ver=$(sed -n 's/^#define SMARTCFG_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' include/smartcfg/version.h | paste -sd.)
grep -q 'keepachangelog.com' CHANGELOG.md || fail "CHANGELOG.md does not name its format"
grep -q '^## \[Unreleased\]$' CHANGELOG.md || fail "CHANGELOG.md has no [Unreleased] section"
grep -Eq "^## \[$ver\] - [0-9]{4}-[0-9]{2}-[0-9]{2}$" CHANGELOG.md || fail "CHANGELOG.md has no '## [$ver] - YYYY-MM-DD' for version.h's $ver"
bad=$(grep '^### ' CHANGELOG.md | grep -Ev '^### (Added|Changed|Deprecated|Removed|Fixed|Security)$' || true)
[ -z "$bad" ] || fail "CHANGELOG.md section names outside Keep a Changelog's: $bad"
echo "ok - LICENSE, SPDX line in $n tracked files, CHANGELOG.md with [Unreleased] and [$ver]"
