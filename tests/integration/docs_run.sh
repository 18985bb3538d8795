#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Docs that run: every command README.md and docs/**/*.md show is run here, so an example
# that stops working fails `make test`.
#
# The convention (summed up in README.md, "Docs that run"):
#  - Commands are shown in fenced ```sh blocks. Each block runs with `bash -e` (so any command
#    exiting non-zero fails it) in a fresh temp dir and a fresh network namespace with loopback
#    up -- so the fixed ports the docs show (8080, 1883, 7001) are free, and nothing reaches
#    the host's network. PATH starts with the build dir: `smartcfg` is the one just built, and
#    `build/` in a command means that build dir (the only substitution); HOME is the temp dir.
#  - A command that cannot run here ends with `# not run: <reason>` (a Wi-Fi card, a serial
#    line, root on a fresh machine, ...): it is skipped, its reason printed and counted. A block
#    whose first line is `# not run: <reason>` is skipped whole.
#  - A daemon started with `&` runs in the background for the rest of its block and is stopped
#    (SIGTERM) when the block ends.
#  - `# expect: TEXT` on its own line: the output of the block so far must contain TEXT.
#  - Output containing "usage:" or "unknown option" fails the block (an option that rotted).
#  - ```text blocks are synopses and sample output, never run; a line starting with
#    `smartcfg ` in any other code block (an untagged fence or an indented block) fails the
#    test: show commands in ```sh so they are run.
#  - No file may point outside the repo: `git grep shared/docs` must be empty.
set -u
. "$(dirname "$0")/lib/netns_self.bash"   # netns_gone
SC_BUILD=${SC_BUILD:?}
SRC=${SC_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
TMP=$(mktemp -d /tmp/sc_docs_run.XXXXXX)
NSP=scdoc$$
cleanup() {
    netns_gone_prefix "${NSP}_"
    rm -rf "$TMP"
}
trap cleanup EXIT
FAILS=0

# 1. nothing points outside the repo
# (git grep in a checkout; a plain grep over the sources of an unpacked tarball)
if (cd "$SRC" && if git rev-parse --git-dir >/dev/null 2>&1; then git grep -n 'shared/docs' -- . ':!tests/integration/docs_run.sh'
    else grep -rIn --exclude-dir='build*' --exclude=docs_run.sh 'shared/docs' .; fi); then
    echo "FAIL: files above point at shared/docs, which is not part of the repo"
    FAILS=$((FAILS + 1))
fi

# 1b. every relative link in the repo's Markdown reaches a file, and its #anchor a heading of
# that file (GitHub's anchor rule: lower case, punctuation dropped, spaces to hyphens, -1, -2
# for repeats), so a renamed section or moved doc cannot leave a reader at a dead link
python3 - "$SRC" <<'PY' || { echo "FAIL: broken links in the docs (above)"; FAILS=$((FAILS + 1)); }
import glob, os, re, sys, unicodedata
src = sys.argv[1]
files = sorted(set(glob.glob('*.md', root_dir=src) + glob.glob('docs/**/*.md', root_dir=src, recursive=True)
                   + glob.glob('examples/**/*.md', root_dir=src, recursive=True)
                   + glob.glob('ports/**/*.md', root_dir=src, recursive=True)
                   + glob.glob('extras/**/*.md', root_dir=src, recursive=True)))
def slug(h):
    h = re.sub(r'`|\*\*|\*|_(?=\w)|(?<=\w)_', lambda m: '' if m.group(0) in ('`', '**', '*') else m.group(0), h)
    h = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', h)  # a link in a heading keeps its text
    h = h.strip().lower()
    out = []
    for ch in h:
        if ch.isalnum() or ch in '-_':
            out.append(ch)
        elif ch == ' ':
            out.append('-')
    return ''.join(out)
anchors = {}
def anchors_of(path):
    if path not in anchors:
        seen, found, fence = {}, set(), False
        for line in open(path, encoding='utf-8'):
            if line.startswith('```'):
                fence = not fence
            if fence:
                continue
            m = re.match(r'(#{1,6})\s+(.*?)\s*#*\s*$', line)
            if m:
                s = slug(m.group(2))
                n = seen.get(s, 0)
                seen[s] = n + 1
                found.add(s if n == 0 else f'{s}-{n}')
        anchors[path] = found
    return anchors[path]
bad = 0
for f in files:
    path = os.path.join(src, f)
    fence = False
    for no, line in enumerate(open(path, encoding='utf-8'), 1):
        if line.startswith('```'):
            fence = not fence
        if fence:
            continue
        for m in re.finditer(r'\]\(([^)\s]+)\)', line):
            t = m.group(1)
            if re.match(r'[a-z]+:', t):
                continue
            p, _, a = t.partition('#')
            tp = os.path.normpath(os.path.join(os.path.dirname(path), p)) if p else path
            if not os.path.exists(tp):
                print(f'{f}:{no}: link to {t}: no such file'); bad += 1; continue
            if a and tp.endswith('.md') and a not in anchors_of(tp):
                print(f'{f}:{no}: link to {t}: no heading with that anchor'); bad += 1
print(f'{len(files)} files, {bad} broken links')
sys.exit(1 if bad else 0)
PY

# 2. extract the blocks (one script per block) and check no command hides outside ```sh
python3 - "$SRC" "$TMP" <<'PY' || { echo "FAIL: docs convention (above)"; FAILS=$((FAILS + 1)); }
import glob, os, re, sys
src, out = sys.argv[1], sys.argv[2]
files = ['README.md'] + sorted(glob.glob('docs/**/*.md', root_dir=src, recursive=True))
bad, n = 0, 0
for f in files:
    lines = open(os.path.join(src, f)).read().split('\n')
    lang, block, start, prev_blank = None, [], 0, True
    for i, l in enumerate(lines):
        if l.startswith('```'):
            if lang is None:
                lang, block, start = l[3:].strip(), [], i + 1
            else:
                if lang == 'sh':
                    n += 1
                    open(os.path.join(out, 'block%03d.src' % n), 'w').write(
                        '%s:%d\n' % (f, start) + '\n'.join(block) + '\n')
                lang = None
            continue
        if lang is not None:
            block.append(l)
            if lang != 'sh' and lang != 'text' and re.match(r'\s*(\$ )?smartcfg ', l):
                print('%s:%d: a smartcfg command in a ```%s block: use ```sh (run) or ```text (synopsis)' % (f, i + 1, lang))
                bad += 1
            continue
        if l.startswith('    ') and prev_blank is not None and re.match(r'\s{4,}(\$ )?smartcfg ', l):
            print('%s:%d: a smartcfg command in an indented block: use ```sh' % (f, i + 1))
            bad += 1
    if lang is not None:
        print('%s: unterminated code fence' % f)
        bad += 1
print('docs_run: %d ```sh blocks in %d files' % (n, len(files)))
sys.exit(1 if bad else 0)
PY

# 3. run each block
# join continuation lines, then turn the conventions into a script: every block in one
# python3 (one per block was ~1 s each beside stress-ng, a third of this test's time)
python3 - "$SC_BUILD" "$TMP" <<'PY' || { echo "FAIL: could not turn the blocks into scripts"; exit 1; }
import glob, os, re, shlex, sys
build = sys.argv[1]
for src in sorted(glob.glob(os.path.join(sys.argv[2], 'block*.src'))):
    body = open(src).read().split('\n', 1)[1]
    logical, cur = [], ''
    for l in body.split('\n'):
        if l.endswith('\\'):
            cur += l[:-1] + ' '
            continue
        logical.append(cur + l)
        cur = ''
    # the block's status survives the trap that stops its daemons (a daemon that ended on its own
    # just before is still listed by jobs -p, and under set -e the kill that fails on it made the
    # block fail: the rack example's devices end 2 s after their token, as send's linger ends).
    # The kill is repeated while a daemon lives (5 s, then SIGKILL): one started by the block's
    # last line was once still bash between fork and exec when the one kill came, and the signal
    # was lost there: the daemon ran to the block's 180 s timeout and the block failed.
    out, skips = ['set -e', 'trap \'rc=$?; for _ in 1 2 3 4 5 6 7 8 9 10; do j=$(jobs -pr); [ -n "$j" ] || break; '
                  'kill $j 2>/dev/null || true; sleep 0.5; done; j=$(jobs -pr); [ -z "$j" ] || kill -9 $j 2>/dev/null || true; '
                  'wait 2>/dev/null; exit $rc\' EXIT'], []
    first = next((l for l in logical if l.strip()), '')
    m = re.match(r'\s*# not run: (.*)', first)
    if m:
        skips.append('whole block: ' + m.group(1))
        logical = []
    for l in logical:
        m = re.search(r'#\s*not run:\s*(.*)$', l)
        if m:
            skips.append(re.sub(r'\s+', ' ', l[:m.start()].strip())[:80] + ' -- ' + m.group(1))
            continue
        e = re.match(r'\s*# expect: (.*)$', l)
        if e:
            out.append('grep -qF -- %s "$BLOCK_OUT" || { echo "expected output missing: %s"; exit 1; }'
                       % (shlex.quote(e.group(1)), e.group(1).replace('"', '')))
            continue
        out.append(re.sub(r'(^|[\s=])build/', r'\1' + build + '/', l))
    open(src[:-4] + '.sh', 'w').write('\n'.join(out) + '\n')
    open(src[:-4] + '.skips', 'w').write(''.join(s + '\n' for s in skips))
PY
RUN=0; SKIP=0; LINES=0
for srcf in "$TMP"/block*.src; do
    [ -f "$srcf" ] || continue
    where=$(head -1 "$srcf")
    b=$(basename "$srcf" .src)
    while IFS= read -r s; do echo "  not run ($where): $s"; SKIP=$((SKIP + 1)); done <"$TMP/$b.skips"
    n=$(grep -cvE '^\s*(#|$|set -e$|trap )' "$TMP/$b.sh")
    [ "$n" -gt 0 ] || continue
    LINES=$((LINES + n))
    ns=${NSP}_${b#block}
    ip netns add "$ns" || { echo "FAIL: cannot create a namespace"; exit 1; }
    ip -n "$ns" link set lo up
    dir=$TMP/$b.d; mkdir -p "$dir"
    (cd "$dir" && HOME=$dir XDG_DATA_HOME= BLOCK_OUT=$TMP/$b.out PATH="$SC_BUILD:$PATH" timeout 180 ip netns exec "$ns" \
        bash "$TMP/$b.sh" >"$TMP/$b.out" 2>&1 </dev/null)
    rc=$?
    netns_gone "$ns"
    RUN=$((RUN + 1))
    if [ "$rc" != 0 ] || grep -qE 'usage:|unknown option' "$TMP/$b.out"; then
        echo "FAIL: the block at $where (exit $rc):"
        sed 's/^/    | /' "$TMP/$b.sh" | grep -v -e '| set -e' -e '| trap '
        echo "  output:"; tail -n 15 "$TMP/$b.out" | sed 's/^/    > /'
        FAILS=$((FAILS + 1))
    else
        echo "ok ($where): $n command line(s)"
    fi
done
echo "docs_run: $RUN block(s) run ($LINES command lines), $SKIP not run (reasons above), $FAILS failure(s)"
[ "$FAILS" = 0 ] && echo PASS || exit 1
