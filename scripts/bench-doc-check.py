#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the benchmark figures the docs print against the benchmarks' output.

    python3 scripts/bench-doc-check.py BENCH_LOG [BENCH_LOG ...] [--fix]

Each BENCH_LOG holds `BENCH <name> <value> <unit>` lines. A place in the docs is checked when
the logs hold its first figure's name, so each log checks what its benchmarks print:
- `scripts/test-m4.sh --bench`: the Cortex-M4 instructions per frame and stack high-water
  marks (README, docs/m4.md); with `bench/m4.sh`'s x86 line, the x86 figure too;
- `bench_ttd` and `bench_chansearch` (default arguments): the README's time-to-decode and
  channel-search ratios and the current column of docs/receiver.md's bench_ttd table. Both
  run on simulated air with fixed seeds, so their figures are the same on every machine and
  build; `make test` runs them and this check (`integ.bench_doc_figures`);
- `make cross`'s log: the Cortex-M4 sizes of the caller-owned state (README, docs/porting.md);
  `make cross` and `make test` run this check on it. Its flash figures have their own check,
  scripts/size-doc-check.py, on the same log.
`make bench` checks everything after its run. This exists because the docs had left such
figures behind: a stack four changes old, the 64-byte-password median (1.02x where the bench
said 1.22x).

A place is a pattern over the doc's text (a space in it matches any white space, so a figure
may sit across a line break) whose groups are the figures, in order, written as the bench
prints them, grouped by thousands where the doc groups them (porting.md's 2 048, the
README's 2048, everyone's 10 166). In docs/m4.md each row opens with the current figure and
keeps older ones after it: only the first is checked. --fix writes the measured figures into
those groups (then read the diff: a goal's verdict or a figure's history in the words around
it is still yours to write).
"""
import re
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
INT = r"(\d{1,3}(?: \d{3})+|\d+)"   # 245, 1248, 10 166 (the docs group from five digits)
DEC = r"(\d+\.\d)"
D2 = r"(\d+\.\d\d)"
X = D2 + "×"             # a ratio as bench_ttd prints it: 0.98x

# (file, pattern, names): the pattern's groups are the named figures, in order
PLACES = [
    ("README.md", r"\| time to decode / floor, clean air \(median, worst\) \| " + X + ", " + X,
     ["ttd_loss0_median", "ttd_loss0_worst"]),
    ("README.md", r"\| at 10 % loss / 30 % loss \(median, worst\) \| " + X + ", " + X + " / " + X + ", " + X,
     ["ttd_loss10_median", "ttd_loss10_worst", "ttd_loss30_median", "ttd_loss30_worst"]),
    ("README.md", r"\| 64-byte password, one link, 5 % / 30 % loss \(median, worst\) \| " + X + ", " + X + " / "
     + X + ", " + X, ["ttd_pw64_uplink_loss5_median", "ttd_pw64_uplink_loss5_worst",
                      "ttd_pw64_uplink_loss30_median", "ttd_pw64_uplink_loss30_worst"]),
    ("README.md", r"\| with a scan list holding the SSID \(median\) \| " + X, ["ttd_scan_median"]),
    ("README.md", r"phone starts while hopping \(worst\) \| " + X + " / " + X,
     ["chansearch_2g_start_worst", "chansearch_dual_start_worst"]),
    # the caller-owned state on the M4 (make cross): the README's row and porting.md's table
    ("README.md", r"\| `sc_device_t` \(whole device incl. receiver and binder\) \| " + INT + r" B on Cortex-M4 \("
     + INT + " B v1 only", ["m4_state_device", "m4_state_device_v1"]),
    ("docs/porting.md", r"\| `sc_device_t` \| `SC_DEVICE_SIZE` \| " + INT + r" B \(" + INT + " B v1 only",
     ["m4_state_device", "m4_state_device_v1"]),
] + [("docs/porting.md", r"\| `" + typ + r"` \| `SC_\w+_SIZE` \| " + INT + " B", [name]) for typ, name in [
    ("sc_receiver_t", "m4_state_receiver_front"), ("sc_et_rx_t", "m4_state_receiver"),
    ("sc_binder_t", "m4_state_binder"), ("sc_at_t", "m4_state_at"), ("sc_at_device_t", "m4_state_at_device"),
    ("sc_air_t", "m4_state_air")]
] + [
    # docs/receiver.md §8's bench_ttd table: the "now" column (after five dated ones) and the
    # worst run against the loss floor
] + [("docs/receiver.md", r"\| " + case + r" \|" + r" [^|\n]* \|" * 4 + " " + D2 + " / " + D2
      + (r" \(" + INT + r" %\)" if "success" in case else "") + r" \| " + (D2 if lf else "—") + r" \|", names)
     for case, names, lf in [
         ("clean median / worst", ["ttd_loss0_median", "ttd_loss0_worst"], False),
         ("10 % loss median / worst", ["ttd_loss10_median", "ttd_loss10_worst", "ttd_loss10_worst_vs_loss_floor"],
          True),
         ("30 % loss median / worst", ["ttd_loss30_median", "ttd_loss30_worst", "ttd_loss30_worst_vs_loss_floor"],
          True),
         ("pw64 uplink 5 % median / worst", ["ttd_pw64_uplink_loss5_median", "ttd_pw64_uplink_loss5_worst",
                                             "ttd_pw64_uplink_loss5_worst_vs_loss_floor"], True),
         (r"pw64 uplink 30 % median / worst \(success\)",
          ["ttd_pw64_uplink_loss30_median", "ttd_pw64_uplink_loss30_worst", "ttd_pw64_uplink_loss30_success",
           "ttd_pw64_uplink_loss30_worst_vs_loss_floor"], True)]
] + [("docs/receiver.md", r"\| scan list median \|" + r" [^|\n]* \|" * 4 + " " + D2 + r" \| — \|", ["ttd_scan_median"]),
     ("docs/receiver.md", r"\| data-phase start worst \|" + r" [^|\n]* \|" * 4 + " " + D2 + r" \| — \|",
      ["ttd_datastart_worst"]),
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


def fmt(raw):
    """the bench's printed value as the docs write it"""
    return group(raw) if len(raw) >= 5 else raw


def group(raw):
    """an integer grouped by thousands, as porting.md's state table writes 2 048"""
    if not raw.isdigit():
        return raw
    s = raw
    out = ""
    while len(s) > 3:
        out = " " + s[-3:] + out
        s = s[:-3]
    return s + out


def main():
    args = [a for a in sys.argv[1:] if a != "--fix"]
    fix = len(args) != len(sys.argv) - 1
    if not args:
        sys.exit("usage: bench-doc-check.py BENCH_LOG [BENCH_LOG ...] [--fix]")
    bench = {}
    for log in args:
        for line in Path(log).read_text().splitlines():
            m = re.match(r"BENCH (\w+) (\d+(?:\.\d+)?) \S+$", line)
            if m:
                bench[m.group(1)] = m.group(2)
    if all(n in bench for n in LE250 + ["m4_rx_capture_frames"]):
        frames_le250 = sum(int(bench[n]) for n in LE250)
        bench["spare"] = str(frames_le250 - (int(bench["m4_rx_capture_frames"]) + 1) // 2)
    docs = {}
    bad = checked = 0
    for fname, pat, names in PLACES:
        if names[0] not in bench:
            continue
        docs.setdefault(fname, (TOP / fname).read_text())
        rx = re.compile(pat.replace(" ", r"\s+"))
        found = list(rx.finditer(docs[fname]))
        if len(found) != 1:
            print("bench-doc-check: %s: %d places match %r (expected one)" % (fname, len(found), pat))
            bad += 1
            continue
        missing = [n for n in names if n not in bench]
        if missing:
            print("bench-doc-check: the benchmarks printed no %s (%s)" % (", ".join(missing), fname))
            bad += 1
            continue
        checked += 1
        m = found[0]
        got = [re.sub(r"\s+", " ", g) for g in m.groups()]
        # a figure in the doc's own grouping: porting.md writes 2 048, the README 2048
        want = [group(bench[n]) if " " in g else fmt(bench[n]) for n, g in zip(names, got)]
        if got == want:
            continue
        if fix:
            text = docs[fname]
            for i in reversed(range(len(want))):
                text = text[:m.start(i + 1)] + want[i] + text[m.end(i + 1):]
            docs[fname] = text
            print("bench-doc-check: %s: %s -> %s" % (fname, " / ".join(got), " / ".join(want)))
        else:
            print("bench-doc-check: %s says %s where the benchmark measured %s (%s)" % (
                fname, " / ".join(got), " / ".join(want), ", ".join(names)))
            bad += 1
    if fix:
        for fname, text in docs.items():
            if text != (TOP / fname).read_text():
                (TOP / fname).write_text(text)
    if bad:
        print("bench-doc-check: %d place(s) in the docs differ from the benchmarks: mend them "
              "(python3 scripts/bench-doc-check.py LOG --fix, then the words around)" % bad)
        sys.exit(1)
    if not checked:
        sys.exit("bench-doc-check: the logs hold none of the figures the docs print (%s)" % ", ".join(args))
    print("bench-doc-check: %d places in README.md, docs/m4.md, docs/receiver.md and docs/porting.md match the benchmarks" % checked)


if __name__ == "__main__":
    main()
