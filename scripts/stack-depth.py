#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Deepest stack of a core entry point, from GCC's call graphs (-fcallgraph-info=su).

usage: stack-depth.py DIR TAG=FUNCTION...

DIR holds the .ci files GCC wrote beside the objects (scripts/cross-build.sh compiles the core
with -fcallgraph-info=su). For each TAG=FUNCTION it prints

    BENCH m4_stack_TAG N bytes
    # m4_stack_TAG: f(frame) -> g(frame) -> ...

N being the largest sum of frames along a call path from FUNCTION through the core's own
functions. Not counted: the C library, cJSON and mbedTLS (not compiled here), and every call
through a pointer (the HAL and the event callback: the port's frames). A cycle is cut where
it closes (the core has no recursion of its own). docs/porting.md quotes the figures."""
import glob
import os
import re
import sys

NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"\\]+)\\n[^"\\]*\\n(\d+) bytes')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def load(d):
    frames, calls, by_name = {}, {}, {}
    for path in sorted(glob.glob(os.path.join(d, "*.ci"))):
        with open(path) as f:
            for line in f:
                m = NODE.match(line)
                if m:
                    title, name, size = m.group(1), m.group(2), int(m.group(3))
                    frames[title] = size
                    by_name.setdefault(name, []).append(title)
                    continue
                m = EDGE.match(line)
                if m:
                    calls.setdefault(m.group(1), set()).add(m.group(2))
    return frames, calls, by_name


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    frames, calls, by_name = load(sys.argv[1])
    if not frames:
        sys.exit("stack-depth: no call graph (.ci) in %s" % sys.argv[1])

    def resolve(t):
        # a static function is named FILE:NAME, a global one NAME; a global called from
        # another file is an edge to NAME, defined once (a second definition would be a
        # link error, except the _off.c stand-ins, which define what their module leaves out)
        if t in frames:
            return t
        defs = by_name.get(t, [])
        return max(defs, key=lambda x: frames[x]) if defs else None

    memo = {}

    def deepest(t, path):
        if t in memo:
            return memo[t]
        best = (0, [])
        for callee in sorted(calls.get(t, ())):
            r = resolve(callee)
            if r is None or r in path:
                continue
            d = deepest(r, path | {t})
            if d[0] > best[0]:
                best = d
        name = t.rsplit(":", 1)[-1]
        res = (frames[t] + best[0], ["%s(%d)" % (name, frames[t])] + best[1])
        memo[t] = res
        return res

    for arg in sys.argv[2:]:
        tag, _, fn = arg.partition("=")
        r = resolve(fn)
        if r is None:
            sys.exit("stack-depth: %s not found in %s" % (fn, sys.argv[1]))
        total, path = deepest(r, frozenset())
        print("BENCH m4_stack_%s %d bytes" % (tag, total))
        print("# m4_stack_%s: %s" % (tag, " -> ".join(path)))


if __name__ == "__main__":
    main()
