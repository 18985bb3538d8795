#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Attacker-side UDP probes for the device's 8266 / 9876 services (security_device_*.sh).
Only ever sends to the address it is given (a namespace the test made).

  sec_udp.py spray DEV_IP SRC_IP TOKEN MARKER SECONDS
      sends {"cmdType":0,"token":TOKEN} to DEV_IP:8266 every 2 ms for SECONDS (or until killed);
      touches MARKER after the first datagram went out.
  sec_udp.py amp DEV_IP PORT SRC_IP N PAYLOAD [all|udp]
      sends PAYLOAD N times to DEV_IP:PORT round-robin from 16 source ports, reads every reply
      (UDP, and ICMP errors: a closed port's; with "udp" only UDP counts) during and for 1.5 s
      after, prints "in=<bytes> out=<bytes>" and exits 1 if out > in.
  sec_udp.py badtok DEV_IP SRC_IP
      sends tokens the cloud would never issue; each must get a Current_Error (2, 201 or 204).
  sec_udp.py big DEV_IP SRC_IP
      datagrams of 1025..65507 bytes (IP fragments on a 1500-byte link) that would be a valid
      token request if cut short: each may get a Current_Error or nothing, never an identity.
  sec_udp.py nested DEV_IP SRC_IP
      deeply nested JSON (arrays, objects, inside a token request): an error or nothing.
  sec_udp.py flood DEV_IP PORT SRC_IP SECONDS
      junk (1 byte, random, {"cmdType":3}) as fast as this host sends it from 16 rotating
      ports for SECONDS; prints "in=... out=... dgrams=..." counting UDP and ICMP replies and
      exits 1 if out > in.
  sec_udp.py frags DEV_IP SRC_IP N
      N IPv4 first fragments of UDP datagrams to DEV_IP:8266 that are never completed (raw
      socket, distinct ids): prints "in=... out=..." (ICMP replies counted), 1 if out > in.
"""
import json
import os
import random
import struct
import select
import socket
import sys
import time


def sock(src_ip, port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src_ip, port))
    return s


def spray(dev_ip, src_ip, token, marker, seconds):
    s = sock(src_ip)
    req = json.dumps({"cmdType": 0, "token": token}).encode()
    end = time.time() + float(seconds)
    first = True
    while time.time() < end:
        s.sendto(req, (dev_ip, 8266))
        if first:
            open(marker, "w").close()
            first = False
        time.sleep(0.002)
    return 0


def drain(socks, timeout):
    got = 0
    r, _, _ = select.select(socks, [], [], timeout)
    for s in r:
        while True:
            try:
                data, _ = s.recvfrom(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            got += len(data)
    return got


def amp(dev_ip, port, src_ip, n, payload, count="all"):
    socks = [sock(src_ip) for _ in range(16)]
    ic = icmp_sock()
    data = payload.encode()
    sent = out = 0
    # "udp": only datagrams back count (an answer to PAYLOAD); ICMP is still read but not
    # counted: errors that earlier probes earned (a fragment's reassembly timeout) may arrive now
    icmp = 0 if count == "udp" else 1
    for i in range(int(n)):
        socks[i % 16].sendto(data, (dev_ip, int(port)))
        sent += len(data)
        if i % 64 == 63:
            out += drain(socks, 0) + icmp * drain_icmp(ic, dev_ip)
            time.sleep(0.001)  # stay below the device's socket buffer: it is the budget we measure
    end = time.time() + 1.5
    while time.time() < end:
        out += drain(socks, max(0.0, end - time.time())) + icmp * drain_icmp(ic, dev_ip)
    print("in=%d out=%d" % (sent, out))
    return 0 if out <= sent else 1


def icmp_sock():
    """Every ICMP message this host receives (the replies a stack sends to junk)."""
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)


def drain_icmp(s, dev_ip):
    got = 0
    while True:
        try:
            data, src = s.recvfrom(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return got
        if src[0] == dev_ip:
            got += len(data) - 20  # the IP header is the network's, as for UDP replies
    return got


def is_identity(text):
    try:
        o = json.loads(text)
    except ValueError:
        return False
    return isinstance(o, dict) and o.get("cmdType") == 2 and "deviceReply" not in o


def answers(s, seconds):
    out = []
    s.settimeout(seconds)
    try:
        while True:
            data, _ = s.recvfrom(65536)
            out.append(data.decode("utf-8", "replace"))
            s.settimeout(0.2)
    except socket.timeout:
        pass
    return out


def probe(dev_ip, src_ip, what, payload):
    s = sock(src_ip)
    s.sendto(payload, (dev_ip, 8266))
    got = answers(s, 0.4)
    wrong = [t for t in got if is_identity(t) or "Current_Error" not in t]
    print("%s (%d bytes): %s%s" % (what, len(payload), (got[0].strip()[:80] if got else "no reply"),
                                   "  <- WRONG" if wrong else ""))
    return 1 if wrong else 0


def big(dev_ip, src_ip):
    bad = 0
    req = json.dumps({"cmdType": 0, "token": "0123456789abcdef0123456789abcde9"}).encode()
    for n in (1025, 1472, 1473, 4000, 14000, 65507):
        bad += probe(dev_ip, src_ip, "big", req + b" " * (n - len(req)))
    return 1 if bad else 0


def nested(dev_ip, src_ip):
    bad = 0
    tok = '{"cmdType":0,"token":"0123456789abcdef0123456789abcde8","x":'
    for what, p in (("arrays", "[" * 1000 + "]" * 20),
                    ("objects", '{"a":' * 200),
                    ("closed", "[" * 500 + "]" * 500),
                    ("in a request", tok + "[" * 450 + "]" * 450 + "}")):
        bad += probe(dev_ip, src_ip, "nested " + what, p.encode())
    return 1 if bad else 0


def flood(dev_ip, port, src_ip, seconds):
    socks = [sock(src_ip) for _ in range(16)]
    for s in socks:
        s.setblocking(False)
    ic = icmp_sock()
    junk = [b"x", os.urandom(64), os.urandom(1400), b'{"cmdType":3}', b"{" * 900]
    sent = out = n = 0
    end = time.time() + float(seconds)
    while time.time() < end:
        for _ in range(256):
            data = junk[n % len(junk)]
            try:
                socks[n % 16].sendto(data, (dev_ip, int(port)))
            except BlockingIOError:
                time.sleep(0.0005)  # the local queue is full: that is line rate here
                continue
            sent += len(data)
            n += 1
        out += drain(socks, 0) + drain_icmp(ic, dev_ip)
    end = time.time() + 1.0
    while time.time() < end:
        out += drain(socks, max(0.0, end - time.time())) + drain_icmp(ic, dev_ip)
    print("in=%d out=%d dgrams=%d pps=%d" % (sent, out, n, n / float(seconds)))
    return 0 if out <= sent else 1


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def frags(dev_ip, src_ip, n):
    """First fragments (MF, offset 0) that never get their rest: the stack's reassembly
    has to hold and drop them on its own."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    ic = icmp_sock()
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dev_ip)
    sent = out = 0
    for i in range(int(n)):
        body = b'{"cmdTyp'  # a fragment's data is a multiple of 8 bytes: 16 with the UDP header
        udp = struct.pack("!HHHH", 20000 + i % 16, 8266, 8 + 3000, 0) + body
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), (i * 7919) & 0xffff, 0x2000, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        raw.sendto(ip + udp, (dev_ip, 0))
        sent += len(udp)
        if i % 64 == 63:
            out += drain_icmp(ic, dev_ip)
            time.sleep(0.001)
    end = time.time() + 1.0
    while time.time() < end:
        time.sleep(0.1)
        out += drain_icmp(ic, dev_ip)
    print("in=%d out=%d" % (sent, out))
    return 0 if out <= sent else 1


BAD = [
    "中中中中中",
    "a\u0000b",
    "a\u0001b",
    "tok en",
    "x" * 33,
]


def badtok(dev_ip, src_ip):
    bad = 0
    for tok in BAD:
        s = sock(src_ip)  # a port of its own: the per-peer limit is not what this checks
        s.sendto(json.dumps({"cmdType": 0, "token": tok}).encode(), (dev_ip, 8266))
        s.settimeout(3.0)
        try:
            data, _ = s.recvfrom(65536)
        except socket.timeout:
            print("badtok %r: no reply" % tok)
            bad += 1
            continue
        text = data.decode("utf-8", "replace")
        ok = "Current_Error" in text and ("(2, 201)" in text or "(2, 204)" in text)
        print("badtok %r: %s%s" % (tok, text.strip(), "" if ok else "  <- WRONG"))
        bad += not ok
    return 1 if bad else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "spray" and len(argv) == 7:
        return spray(*argv[2:7])
    if cmd == "amp" and (len(argv) == 7 or len(argv) == 8 and argv[7] in ("all", "udp")):
        return amp(*argv[2:])
    if cmd == "badtok" and len(argv) == 4:
        return badtok(*argv[2:4])
    if cmd in ("big", "nested") and len(argv) == 4:
        return globals()[cmd](*argv[2:4])
    if cmd == "flood" and len(argv) == 6:
        return flood(*argv[2:6])
    if cmd == "frags" and len(argv) == 5:
        return frags(*argv[2:5])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
