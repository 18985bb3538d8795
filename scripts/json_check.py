#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks JSON lines against the event table of docs/json.md.

    json_check.py docs/json.md TOOL FILE...

Every line of every FILE must be a JSON object with v == 1 and an event listed for TOOL (or
"any"); each listed field must be present (unless marked "?") with the listed type ("/null": or null); lines with
t_ms must also carry ts (and the other way round); field names are snake_case; a token is
abbreviated (at most 4 characters, whatever they are — a hostile token's too — then "…"). Exit 1 with one message per bad line."""
import json
import re
import sys

TYPES = {"int": int, "num": (int, float), "str": str, "bool": bool, "arr": list, "obj": dict}


def table(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r"<!-- json-events.*?-->(.*?)<!-- /json-events -->", text, re.S)
    if not m:
        sys.exit("%s: no json-events table" % path)
    events = {}
    for row in m.group(1).splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("tool", "---") or set(cells[0]) <= {"-"}:
            continue
        tool, event, fields = cells
        spec = {}
        for f in fields.split():
            name, typ = f.split(":")
            spec[name] = (typ.rstrip("?"), typ.endswith("?"))  # "str/null": a string or null
        events[(tool, event)] = spec
    return events


def main():
    events = table(sys.argv[1])
    tool = sys.argv[2]
    bad = n = 0
    for path in sys.argv[3:]:
        for i, line in enumerate(open(path, encoding="utf-8"), 1):
            if not line.strip():
                continue
            n += 1
            where = "%s:%d" % (path, i)
            try:
                o = json.loads(line)
            except ValueError as e:
                print("%s: not JSON (%s): %s" % (where, e, line.rstrip()))
                bad += 1
                continue
            errs = []
            if not isinstance(o, dict):
                errs.append("not an object")
            else:
                if o.get("v") != 1:
                    errs.append("v is not 1")
                ev = o.get("event")
                spec = events.get((tool, ev), events.get(("any", ev)))
                if spec is None:
                    errs.append("event %r is not listed for %s in docs/json.md" % (ev, tool))
                else:
                    for name, (typ, optional) in spec.items():
                        if name not in o:
                            if not optional:
                                errs.append("missing %s" % name)
                        elif o[name] is None and typ.endswith("/null"):
                            pass
                        elif not isinstance(o[name], TYPES[typ.split("/")[0]]) or (
                                typ.split("/")[0] in ("int", "num") and isinstance(o[name], bool)):
                            errs.append("%s is not %s" % (name, typ))
                    if ev not in ("usage_error", "setup_error") and "t_ms" not in o:
                        errs.append("no t_ms")
                    if typ_int_ok(o, "t_ms") and "ts" not in o:
                        errs.append("t_ms without ts")
                    if "ts" in o and not typ_int_ok(o, "ts"):
                        errs.append("ts is not an integer")
                for old in ("t", "productId", "deviceName", "productRegion"):
                    if old in o:
                        errs.append("old name %s" % old)
                for k in o:
                    if not re.fullmatch(r"[a-z][a-z0-9_]*", k):
                        errs.append("field name %s is not snake_case" % k)
                tok = o.get("token")
                if isinstance(tok, str) and not re.fullmatch(r"[^\u2026]{0,4}\u2026|", tok):
                    errs.append("token %r is not abbreviated as xxxx\u2026" % tok)
            if errs:
                bad += 1
                print("%s: %s: %s" % (where, "; ".join(errs), line.rstrip()))
    print("json_check: %d line(s), %d bad" % (n, bad))
    return 1 if bad or n == 0 else 0


def typ_int_ok(o, k):
    return k in o and isinstance(o[k], int) and not isinstance(o[k], bool)


if __name__ == "__main__":
    sys.exit(main())
