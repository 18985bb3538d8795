#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compare two event dumps of bench/bench_rx_events (--dump) by their results.

A receiver change that alters which streams exist changes the dump line by line, and a plain
diff cannot say whether it decodes better or worse. This reads the DONE events (t=3) of every
(capture, decoder) pair in both dumps and reports, per decoder:
  - pairs whose first result came later / earlier (frame number), or was lost / gained;
  - results of the old dump whose credentials the new dump never produced in that pair (lost;
    one without a BSSID counts as produced when the new dump has it with one);
  - the number of results in each.
The house rule for such a change (docs/receiver.md): no pair may lose its first result or get it
later, and no old result may be lost, unless the change is explained and accepted.
Exit status: 0 when nothing was lost or later, 1 otherwise, 2 on a usage or input error.

  python3 scripts/rx-events-compare.py OLD.dump NEW.dump [--list]
"""
import sys
from collections import defaultdict


def load(path):
    """(capture, decoder) -> list of (frame, credentials) of its DONE events, in order."""
    res = defaultdict(list)
    try:
        fh = open(path, encoding="utf-8", errors="replace")
    except OSError as e:
        sys.exit(f"rx-events-compare: cannot read {path}: {e.strerror}")
    with fh:
        for no, line in enumerate(fh, 1):
            f = line.split()
            if len(f) < 4 or f[3] != "t=3":
                continue
            try:
                cap, frame = int(f[0]), int(f[1])
            except ValueError:
                sys.exit(f"rx-events-compare: {path}:{no}: not a bench_rx_events dump line")
            creds = " ".join(x for x in f[4:] if x.split("=", 1)[0] in ("ssid", "pw", "res", "ip", "bssid", "rnd"))
            res[(cap, f[2])].append((frame, creds))
    return res


def nobssid(creds):
    return " ".join(x for x in creds.split() if not x.startswith("bssid="))


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    listing = "--list" in argv[1:]
    if len(args) != 2 or any(a not in ("--list",) for a in argv[1:] if a.startswith("--")):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    old, new = load(args[0]), load(args[1])
    decoders = sorted({d for _, d in old} | {d for _, d in new})
    bad = 0
    for dec in decoders:
        keys = sorted({k for k in old if k[1] == dec} | {k for k in new if k[1] == dec})
        later, earlier, lost_first, gained_first, lost_res = [], [], [], [], []
        n_old = n_new = 0
        for k in keys:
            o, n = old.get(k, []), new.get(k, [])
            n_old += len(o)
            n_new += len(n)
            if o and not n:
                lost_first.append(k)
            elif n and not o:
                gained_first.append(k)
            elif o and n:
                if n[0][0] > o[0][0]:
                    later.append((k, o[0][0], n[0][0]))
                elif n[0][0] < o[0][0]:
                    earlier.append((k, o[0][0], n[0][0]))
            have = {c for _, c in n}
            # a result without a BSSID is covered by the same result with one (the new tree
            # completed it from a stream that knows its AP: more, not less)
            have_nobssid = {nobssid(c) for c in have}
            for fr, c in o:
                if c not in have and not (any(x.startswith("bssid=000000000000") for x in c.split()) and nobssid(c) in have_nobssid):
                    lost_res.append((k, fr))
        print(f"{dec}: results {n_old} -> {n_new}; first result later {len(later)}, earlier {len(earlier)}, "
              f"lost {len(lost_first)}, gained {len(gained_first)}; old results lost {len(lost_res)}")
        if listing:
            for k, a, b in later:
                print(f"  later    capture {k[0]}: frame {a} -> {b}")
            for k in lost_first:
                print(f"  lost     capture {k[0]}")
            for k, fr in lost_res:
                print(f"  result lost capture {k[0]} (old frame {fr})")
            for k, a, b in earlier:
                print(f"  earlier  capture {k[0]}: frame {a} -> {b}")
            for k in gained_first:
                print(f"  gained   capture {k[0]}")
        bad += len(later) + len(lost_first) + len(lost_res)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
