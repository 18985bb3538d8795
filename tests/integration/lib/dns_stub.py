#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A tiny DNS server over UDP for the tests: ADDR NAME=IPV4[,IPV4...] ... [--silent-if FILE] [--rotate]
[--lose-once NAME].

Listens on ADDR port 53 (a test's own network namespace: its resolv.conf names ADDR). A query
of type A for NAME gets its addresses, in the order given; AAAA (or any other type) for NAME
gets an answer without records (NODATA); any other name NXDOMAIN. While FILE exists, nothing
is answered at all: a resolver that does not answer, as a DNS server gone or cut off looks to
glibc (it waits its timeout for each attempt). --rotate: each A answer for a name moves its
first address to the end for the next one (round-robin DNS). --lose-once NAME: the first query
of each type for NAME is not answered, the next ones are (a lossy link: glibc gets its answer at
its second attempt, after its timeout). Each query is logged to stderr."""
import os
import socket
import struct
import sys


def parse_qname(msg, off):
    labels = []
    while True:
        n = msg[off]
        off += 1
        if n == 0:
            return ".".join(labels).lower(), off
        if n & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n


def answer(msg, names, rotate):
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd != 1 or flags & 0x8000:
        return None
    name, off = parse_qname(msg, 12)
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    question = msg[12:off + 4]
    rd = flags & 0x0100
    if name not in names:
        hdr = struct.pack("!HHHHHH", qid, 0x8180 | rd | 3, 1, 0, 0, 0)   # NXDOMAIN
        return hdr + question
    recs = b""
    count = 0
    if qtype == 1 and qclass == 1:
        for a in names[name]:
            recs += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4) + socket.inet_aton(a)
            count += 1
        if rotate:
            names[name] = names[name][1:] + names[name][:1]
    hdr = struct.pack("!HHHHHH", qid, 0x8180 | rd, 1, count, 0, 0)
    return hdr + question + recs


def main():
    args = sys.argv[1:]
    silent = None
    if "--silent-if" in args:
        i = args.index("--silent-if")
        silent = args[i + 1]
        del args[i:i + 2]
    lose_once = None
    if "--lose-once" in args:
        i = args.index("--lose-once")
        lose_once = args[i + 1].lower().rstrip(".")
        del args[i:i + 2]
    lost = set()
    rotate = "--rotate" in args
    if rotate:
        args.remove("--rotate")
    addr = args[0]
    names = {}
    for spec in args[1:]:
        n, _, ips = spec.partition("=")
        names[n.lower().rstrip(".")] = ips.split(",")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    print("listening", flush=True)
    while True:
        msg, peer = s.recvfrom(4096)
        quiet = silent is not None and os.path.exists(silent)
        try:
            name, off = parse_qname(msg, 12)
            qtype = struct.unpack("!H", msg[off:off + 2])[0]
        except (ValueError, IndexError, struct.error):
            continue
        lose = name == lose_once and (name, qtype) not in lost
        if lose:
            lost.add((name, qtype))
        print("query %s type %d%s" % (name, qtype, " (not answered)" if quiet else " (lost)" if lose else ""),
              file=sys.stderr, flush=True)
        if quiet or lose:
            continue
        r = answer(msg, names, rotate)
        if r:
            s.sendto(r, peer)


if __name__ == "__main__":
    main()
