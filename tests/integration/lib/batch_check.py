# SPDX-License-Identifier: Apache-2.0
"""The field checks of a decode matrix test (decode_matrix*.sh) in one python3: starting one per
case was a third of such a test's CPU on a busy machine. The test records each case as
DIR/NAME.case (one value a line: its fixed values first, then key=value pairs) and appends NAME
to DIR/cases; run_all checks them in order with the test's own check function and prints one
FAIL block per wrong case and last "checked GOOD BAD" (lib/batch_check.bash reads that line)."""
import sys


def run_all(d, check):
    """check(lines) -> None when the case is right, else the text after "FAIL NAME"."""
    good = bad = 0
    for name in open("%s/cases" % d, encoding='utf-8').read().split():
        lines = open("%s/%s.case" % (d, name), encoding='utf-8').read().split('\n')[:-1]
        try:
            why = check(lines)
        except Exception as e:  # unparseable output fails this case, not the checker
            why = "\n    %s: %s" % (type(e).__name__, e)
        if why is None:
            good += 1
        else:
            bad += 1
            print("FAIL %s%s" % (name, why))
    print("checked %d %d" % (good, bad))
    sys.stdout.flush()


def shown(*paths):
    """The first 5 lines of a case's outputs, indented, for its FAIL block."""
    text = ''.join(open(p, encoding='utf-8', errors='replace').read() for p in paths)
    return ''.join('\n    %s' % l for l in text.splitlines()[:5])
