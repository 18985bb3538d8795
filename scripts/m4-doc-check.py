#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the Cortex-M4 figures the README and docs/m4.md print against the M4 bench.

    python3 scripts/m4-doc-check.py BENCH_LOG [--fix]

BENCH_LOG holds the `BENCH m4_* ...` lines of `scripts/test-m4.sh --bench` (and, from
`bench/m4.sh`, `BENCH x86_rx_insn_per_frame_mean`). The flash figures have their own check
(scripts/size-doc-check.py, in `make cross`); this one covers instructions per frame and stack
high-water marks, which the README had left behind twice (a stack figure four changes old).
The x86 figure is checked only when the log has it (callgrind runs in bench/m4.sh alone).

A place is a pattern over the doc's text (a space in it matches any white space, so a figure
may sit across a line break) whose groups are the figures, in order. In docs/m4.md each row
opens with the current figure and keeps older ones after it: only the first is checked.
--fix writes the measured figures into those groups (then read the diff: a goal's verdict
or a figure's history in the words around it is still yours to write).
"""
import re
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
INT = r"(\d{1,3}(?: \d{3})+|\d+)"   # 245, 1248, 10 166 (the docs group from five digits)
DEC = r"(\d+\.\d)"

# (file, pattern, names): the pattern's groups are the named figures, in order
PLACES = [
    ("README.md", r"\| " + INT + " / " + INT + "; " + DEC + r" \(goal ≤ 250 for the front with all three"
     r" decoders: met, " + INT + " frames to spare",
     ["m4_rx_insn_per_frame_median", "m4_rx_v1_insn_per_frame_median", "x86_rx_insn_per_frame_mean",
      "spare"]),
    ("README.md", r"`sc_receiver_feed` / `sc_et_rx_feed` / `sc_device_step` \| " + INT + " / " + INT + " / "
     + INT + " bytes", ["m4_rx_stack_bytes", "m4_rx_v1_stack_bytes", "m4_device_step_stack_bytes"]),
    ("docs/m4.md", r"instructions per received frame, median \| \*\*" + INT + r"\*\*",
     ["m4_rx_insn_per_frame_median"]),
    ("docs/m4.md", r"`m4_rx_insn_per_frame_median` \| \| same, mean / p99 / max \| " + DEC + " / " + INT
     + " / " + INT + " ", ["m4_rx_insn_per_frame_mean", "m4_rx_insn_per_frame_p99", "m4_rx_insn_per_frame_max"]),
    ("docs/m4.md", r"\(`sc_et_rx_feed`\), median \| " + INT + " ", ["m4_rx_v1_insn_per_frame_median"]),
    ("docs/m4.md", r"`m4_rx_v1_insn_per_frame_median` \| \| same, mean / p99 / max \| " + DEC + " / " + INT
     + " / " + INT + " ",
     ["m4_rx_v1_insn_per_frame_mean", "m4_rx_v1_insn_per_frame_p99", "m4_rx_v1_insn_per_frame_max"]),
    ("docs/m4.md", r"v1 alone on x86-64 \(`gcc -O2`\), mean \| " + DEC + " ", ["x86_rx_insn_per_frame_mean"]),
    ("docs/m4.md", r"`sc_receiver_feed` / `sc_et_rx_feed` \| " + INT + " / " + INT + " bytes",
     ["m4_rx_stack_bytes", "m4_rx_v1_stack_bytes"]),
    ("docs/m4.md", r"high-water mark of `sc_device_step` \| " + INT + " bytes", ["m4_device_step_stack_bytes"]),
    ("docs/m4.md", r"high-water mark of `sc_device_on_frame` \| " + INT + " bytes",
     ["m4_device_on_frame_stack_bytes"]),
    ("docs/m4.md", r"999 nested `\[` \| " + INT + " bytes", ["m4_device_step_stack_nested_json_bytes"]),
]

# the front's frames at most 250 instructions, per class of frame (their sum against half the capture)
LE250 = ["m4_rx_%s_frames_le250" % c for c in ("mgmt", "uplink", "relay", "other")]


def fmt(value):
    if isinstance(value, float):
        return "%.1f" % value
    s = str(value)
    if value >= 10000:
        s = s[:-3] + " " + s[-3:]
    return s


def main():
    args = [a for a in sys.argv[1:] if a != "--fix"]
    fix = len(args) != len(sys.argv) - 1
    if len(args) != 1:
        sys.exit("usage: m4-doc-check.py BENCH_LOG [--fix]")
    bench = {}
    for line in Path(args[0]).read_text().splitlines():
        m = re.match(r"BENCH ((?:m4|x86)_\w+) (\d+(?:\.\d+)?) \w+$", line)
        if m:
            bench[m.group(1)] = float(m.group(2)) if "." in m.group(2) else int(m.group(2))
    if "m4_rx_insn_per_frame_median" not in bench:
        sys.exit("m4-doc-check: no M4 bench lines in %s (scripts/test-m4.sh --bench prints them)" % args[0])
    if all(n in bench for n in LE250 + ["m4_rx_capture_frames"]):
        bench["spare"] = sum(bench[n] for n in LE250) - (bench["m4_rx_capture_frames"] + 1) // 2
    docs = {}
    bad = checked = 0
    for fname, pat, names in PLACES:
        if "x86_rx_insn_per_frame_mean" in names and "x86_rx_insn_per_frame_mean" not in bench:
            continue
        docs.setdefault(fname, (TOP / fname).read_text())
        rx = re.compile(pat.replace(" ", r"\s+"))
        found = list(rx.finditer(docs[fname]))
        if len(found) != 1:
            print("m4-doc-check: %s: %d places match %r (expected one)" % (fname, len(found), pat))
            bad += 1
            continue
        missing = [n for n in names if n not in bench]
        if missing:
            print("m4-doc-check: the bench printed no %s (%s)" % (", ".join(missing), fname))
            bad += 1
            continue
        checked += 1
        m = found[0]
        got = [re.sub(r"\s+", " ", g) for g in m.groups()]
        want = [fmt(bench[n]) for n in names]
        if got == want:
            continue
        if fix:
            text = docs[fname]
            for i in reversed(range(len(want))):
                text = text[:m.start(i + 1)] + want[i] + text[m.end(i + 1):]
            docs[fname] = text
            print("m4-doc-check: %s: %s -> %s" % (fname, " / ".join(got), " / ".join(want)))
        else:
            print("m4-doc-check: %s says %s where the bench measured %s (%s)" % (
                fname, " / ".join(got), " / ".join(want), ", ".join(names)))
            bad += 1
    if fix:
        for fname, text in docs.items():
            if text != (TOP / fname).read_text():
                (TOP / fname).write_text(text)
    if bad:
        print("m4-doc-check: %d place(s) in the docs differ from the M4 bench: mend them "
              "(python3 scripts/m4-doc-check.py LOG --fix, then the words around)" % bad)
        sys.exit(1)
    print("m4-doc-check: %d places in README.md and docs/m4.md match the M4 bench" % checked)


if __name__ == "__main__":
    main()
