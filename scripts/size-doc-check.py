#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the flash (and stack) figures the README and docs/porting.md print against `make cross`.

    python3 scripts/size-doc-check.py CROSS_LOG [--fix]

CROSS_LOG holds the `BENCH m4_* N bytes` lines of scripts/cross-build.sh. Each figure below is
written in the docs in KB (1000 bytes) to one decimal; the check is that the doc's number is
the measured one rounded half up (32 143 bytes -> 32.1 KB). Two audits found size figures left
behind by later changes; this makes such a drift fail `make test` with the row to mend.

--fix writes the measured figures into the docs instead of failing (then review the diff: the
text around a figure, such as a goal's verdict, may need words too).

A row is found by the start of its first cell; its numbers are the `N.N KB`-style decimals of
the cell that holds the figures, in order, compared with the BENCH names listed for it.
"""
import re
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent

# (file, first cell starts with, index of the cell holding the figures, BENCH names in order)
ROWS = [
    ("README.md", "receiver (always)", 1, ["m4_flash_receiver"]),
    ("README.md", "tc8266 (always)", 1, ["m4_flash_tc8266"]),
    ("README.md", "device (always)", 1, ["m4_flash_device"]),
    ("README.md", "diag (always)", 1, ["m4_flash_diag"]),
    ("README.md", "common (always)", 1, ["m4_flash_common"]),
    ("README.md", "binder (`SMARTCFG_WITH_CLOUD`)", 1, ["m4_flash_binder"]),
    ("README.md", "dynreg (`SMARTCFG_WITH_DYNREG`)", 1, ["m4_flash_dynreg"]),
    ("README.md", "at (`SMARTCFG_WITH_AT`)", 1, ["m4_flash_at"]),
    ("README.md", "sender + encoder", 1, ["m4_flash_sender", "m4_flash_encoder"]),
    ("README.md", "sim (`SMARTCFG_WITH_SIM`)", 1, ["m4_flash_sim"]),
    ("README.md", "esptouch_v2, airkiss", 1, ["m4_flash_esptouch_v2", "m4_flash_airkiss"]),
    ("README.md", "receiver (v1 + v2 + AirKiss) + 8266 service + binder", 1,
     ["m4_flash_rx_8266_binder", "m4_flash_rx_8266_binder_dynreg"]),
    ("README.md", "the same without AirKiss / without v2 / v1 only", 1,
     ["m4_flash_rx_8266_binder_noairkiss", "m4_flash_rx_8266_binder_nov2", "m4_flash_rx_8266_binder_v1"]),
    ("README.md", "the receivers alone", 1,
     ["m4_flash_receivers", "m4_flash_receivers_nov2", "m4_flash_receivers_v1"]),
    ("README.md", "device firmware", 1, ["m4_flash_device_firmware", "m4_flash_device_firmware_v1"]),
    ("README.md", "AT module firmware", 1, ["m4_flash_at_firmware"]),
    ("README.md", "whole core, every module", 1, ["m4_flash_core_all"]),
    ("docs/porting.md", "common (", 3, ["m4_flash_common"]),
    ("docs/porting.md", "receiver (", 3, ["m4_flash_receiver"]),
    ("docs/porting.md", "tc8266 (", 3, ["m4_flash_tc8266"]),
    ("docs/porting.md", "diag (", 3, ["m4_flash_diag"]),
    ("docs/porting.md", "device (state machine", 3, ["m4_flash_device"]),
    ("docs/porting.md", "binder (", 3, ["m4_flash_binder"]),
    ("docs/porting.md", "dynreg (", 3, ["m4_flash_dynreg"]),
    ("docs/porting.md", "at (", 3, ["m4_flash_at"]),
    ("docs/porting.md", "encoder (", 3, ["m4_flash_encoder"]),
    ("docs/porting.md", "sender (", 3, ["m4_flash_sender"]),
    ("docs/porting.md", "sim (", 3, ["m4_flash_sim"]),
    ("docs/porting.md", "esptouch_v2 (", 3, ["m4_flash_esptouch_v2"]),
    ("docs/porting.md", "airkiss (", 3, ["m4_flash_airkiss"]),
]

# Figures in running text: (file, regex with one group per BENCH name, names). The text is read
# with its line breaks as spaces; each pattern must match exactly once.
PROSE = [
    ("docs/porting.md", r"binder with dynreg, diag, device\) \*\*(\d+\.\d) KB\*\* \((\d+\.\d) KB v1 only\)",
     ["m4_flash_device_firmware", "m4_flash_device_firmware_v1"]),
    ("docs/porting.md", r"\(an AT module: `m4_flash_at_firmware`\) (\d+\.\d) KB", ["m4_flash_at_firmware"]),
    ("docs/porting.md",
     r"receiver \+ 8266 service \+ binder \*\*(\d+\.\d) KB\*\* \((\d+\.\d) KB with dynreg, (\d+\.\d) KB v1 only\)",
     ["m4_flash_rx_8266_binder", "m4_flash_rx_8266_binder_dynreg", "m4_flash_rx_8266_binder_v1"]),
    ("docs/porting.md", r"whole core with every module \*\*(\d+\.\d) KB\*\*", ["m4_flash_core_all"]),
    # the stack figures (scripts/stack-depth.py), in the same KB
    ("docs/porting.md", r"\*\*(\d+\.\d) KB\*\* below `sc_device_on_frame` \((\d+\.\d) KB v1 only\)",
     ["m4_stack_device_on_frame", "m4_stack_device_on_frame_v1"]),
    ("docs/porting.md", r"`sc_device_step` (\d+\.\d) KB \(dynamic registration's AES decryption; (\d+\.\d) KB v1 only",
     ["m4_stack_device_step", "m4_stack_device_step_v1"]),
    ("docs/porting.md", r"`sc_device_start` (\d+\.\d) KB \(most of it", ["m4_stack_device_start"]),
    ("docs/porting.md", r"`sc_device_init` (\d+\.\d) KB \(a default", ["m4_stack_device_init"]),
]


def kb(n):
    """bytes -> the one-decimal KB string the docs print (half up)."""
    tenths = (n + 50) // 100
    return "%d.%d" % (tenths // 10, tenths % 10)


def replace_nums(text, pat, want):
    """text with the first len(want) matches of pat replaced by want, in order."""
    it = iter(want)
    n = [0]

    def sub(m):
        if n[0] >= len(want):
            return m.group(0)
        n[0] += 1
        return next(it)
    return re.sub(pat, sub, text)


def main():
    args = [a for a in sys.argv[1:] if a != "--fix"]
    fix = len(args) != len(sys.argv) - 1
    if len(args) != 1:
        sys.exit("usage: size-doc-check.py CROSS_LOG [--fix]")
    docs = {}
    bench = {}
    for line in Path(args[0]).read_text().splitlines():
        m = re.match(r"BENCH (m4_\w+) (\d+) bytes$", line)
        if m:
            bench[m.group(1)] = int(m.group(2))
    if not bench:
        sys.exit("size-doc-check: no BENCH m4_* lines in %s" % args[0])
    bad = 0
    for fname, start, cell, names in ROWS:
        docs.setdefault(fname, (TOP / fname).read_text())
        rows = [l for l in docs[fname].splitlines()
                if l.startswith("| ") and l[2:].startswith(start)]
        if len(rows) != 1:
            print("size-doc-check: %s: %d table rows start with %r (expected one)" % (fname, len(rows), start))
            bad += 1
            continue
        cells = [c.strip() for c in rows[0].strip().strip("|").split("|")]
        got = re.findall(r"\d+\.\d", cells[cell]) if cell < len(cells) else []
        want = []
        for n in names:
            if n not in bench:
                print("size-doc-check: make cross printed no %s (row %r of %s)" % (n, start, fname))
                bad += 1
                want = None
                break
            want.append(kb(bench[n]))
        if want is None:
            continue
        if got[:len(want)] != want and fix:
            cells[cell] = replace_nums(cells[cell], r"\d+\.\d", want)
            docs[fname] = docs[fname].replace(rows[0], "| " + " | ".join(cells) + " |", 1)
            print("size-doc-check: %s, row %r: %s -> %s KB" % (fname, start, " / ".join(got[:len(want)]), " / ".join(want)))
        elif got[:len(want)] != want:
            print("size-doc-check: %s, row %r: the doc says %s KB, make cross measured %s (%s)" % (
                fname, start, " / ".join(got[:len(want)]) or "nothing", " / ".join(want),
                ", ".join("%s %d bytes" % (n, bench[n]) for n in names)))
            bad += 1
    for fname, pat, names in PROSE:
        docs.setdefault(fname, (TOP / fname).read_text())
        text = " ".join(l.strip() for l in docs[fname].splitlines())
        found = re.findall(pat, text)
        if len(found) != 1:
            print("size-doc-check: %s: %d places match %r (expected one)" % (fname, len(found), pat))
            bad += 1
            continue
        got = list(found[0]) if isinstance(found[0], tuple) else [found[0]]
        if any(n not in bench for n in names):
            print("size-doc-check: make cross printed no %s (%s)" % (", ".join(n for n in names if n not in bench), fname))
            bad += 1
            continue
        want = [kb(bench[n]) for n in names]
        if got != want and fix:
            # the figures sit inside running text that may wrap: replace each old figure in the
            # first place the pattern's first words occur, one figure at a time
            m = re.search(pat.replace(" ", r"\s+"), docs[fname])
            if not m:
                print("size-doc-check: %s: cannot place %r across its line breaks; mend by hand" % (fname, pat))
                bad += 1
                continue
            span = docs[fname][m.start():m.end()]
            span = replace_nums(span, r"\d+\.\d", want) if len(re.findall(r"\d+\.\d", span)) == len(want) else None
            if span is None:
                print("size-doc-check: %s: %r holds other numbers; mend by hand" % (fname, pat))
                bad += 1
                continue
            docs[fname] = docs[fname][:m.start()] + span + docs[fname][m.end():]
            print("size-doc-check: %s, text: %s -> %s KB" % (fname, " / ".join(got), " / ".join(want)))
        elif got != want:
            print("size-doc-check: %s, the text's %s KB: make cross measured %s (%s)" % (
                fname, " / ".join(got), " / ".join(want), ", ".join("%s %d bytes" % (n, bench[n]) for n in names)))
            bad += 1
    if fix:
        for fname, text in docs.items():
            if text != (TOP / fname).read_text():
                (TOP / fname).write_text(text)
    if bad:
        print("size-doc-check: %d figure(s) in the docs differ from make cross: mend the rows above" % bad)
        sys.exit(1)
    print("size-doc-check: %d size rows and %d figures in the text of README.md and docs/porting.md match make cross"
          % (len(ROWS), len(PROSE)))


if __name__ == "__main__":
    main()
