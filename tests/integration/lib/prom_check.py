#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks a /metrics answer of `smartcfg cloud` against the Prometheus text exposition format
0.0.4, line by line, and the cloud's own naming rules (docs/cloud.md "Health and metrics"):
every family named smartcfg_cloud_*, with HELP and TYPE before its samples and once only;
counters end in _total; histograms have cumulative buckets ending at le="+Inf" equal to _count.
Usage: prom_check.py FILE. Exit 0 and "N samples" on stdout, else 1 and what is wrong."""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,(?:%s))*,?)?\})? (\S+)(?: (-?[0-9]+))?$" % (NAME, LABEL, LABEL))
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def value(s):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$", s):
        raise ValueError("not a number: %r" % s)
    return float(s)


def main(path):
    text = open(path, encoding="utf-8").read()
    errs = []
    if not text.endswith("\n"):
        errs.append("the text does not end with a line feed")
    types, helps, seen_sample = {}, set(), set()
    hist = {}   # family -> {"buckets": [(le, v)], "count": v}
    n = 0
    for no, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d: %r" % (no, line)
        if line == "":
            continue
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.*)$" % NAME, line)
            if not m:
                continue   # a plain comment is allowed
            kind, name, rest = m.groups()
            if kind == "TYPE":
                if rest not in TYPES:
                    errs.append(where + ": unknown type")
                if name in types:
                    errs.append(where + ": a second TYPE")
                if name in seen_sample:
                    errs.append(where + ": TYPE after its samples")
                types[name] = rest
            else:
                if name in helps:
                    errs.append(where + ": a second HELP")
                helps.add(name)
            continue
        m = SAMPLE.match(line)
        if not m:
            errs.append(where + ": not a sample line")
            continue
        name = m.group(1)
        parts = line.rsplit(" ", 1)
        try:
            val = value(parts[1])
        except ValueError as e:
            errs.append("%s: %s" % (where, e))
            continue
        labels = dict(re.findall(LABEL, line[len(name):].split("} ")[0]))
        fam = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and types.get(name[: -len(suffix)]) == "histogram":
                fam = name[: -len(suffix)]
        seen_sample.add(fam)
        n += 1
        if not fam.startswith("smartcfg_cloud_"):
            errs.append(where + ": not named smartcfg_cloud_*")
        if fam not in types or fam not in helps:
            errs.append(where + ": no TYPE or HELP before it")
            continue
        t = types[fam]
        if t == "counter" and not fam.endswith("_total"):
            errs.append(where + ": a counter not named *_total")
        if t in ("counter", "histogram") and (val < 0 or math.isnan(val)):
            errs.append(where + ": a counter below 0")
        if t == "histogram":
            h = hist.setdefault(fam, {"buckets": [], "count": None})
            if name.endswith("_bucket"):
                if "le" not in labels:
                    errs.append(where + ": a bucket without le")
                else:
                    h["buckets"].append((value(labels["le"]), val))
            elif name.endswith("_count"):
                h["count"] = val
    for fam, h in hist.items():
        b = h["buckets"]
        if not b or b[-1][0] != math.inf:
            errs.append("%s: no le=\"+Inf\" bucket last" % fam)
            continue
        if any(b[i][0] >= b[i + 1][0] or b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
            errs.append("%s: buckets not ascending and cumulative" % fam)
        if h["count"] != b[-1][1]:
            errs.append("%s: _count %s is not the +Inf bucket %s" % (fam, h["count"], b[-1][1]))
    for e in errs:
        print(e, file=sys.stderr)
    if errs or n == 0:
        return 1
    print("%d samples" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
