#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Attacker-side UDP probes for the device's 8266 / 9876 services (security_device_*.sh).
Only ever sends to the address it is given (a namespace the test made).

  sec_udp.py spray DEV_IP SRC_IP TOKEN MARKER SECONDS
      sends {"cmdType":0,"token":TOKEN} to DEV_IP:8266 every 2 ms for SECONDS (or until killed);
      touches MARKER after the first datagram went out.
  sec_udp.py amp DEV_IP PORT SRC_IP N PAYLOAD
      sends PAYLOAD N times to DEV_IP:PORT round-robin from 16 source ports, reads every reply
      during and for 1.5 s after, prints "in=<bytes> out=<bytes>" and exits 1 if out > in.
  sec_udp.py badtok DEV_IP SRC_IP
      sends tokens the cloud would never issue; each must get a Current_Error (2, 201 or 204).
"""
import json
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


def amp(dev_ip, port, src_ip, n, payload):
    socks = [sock(src_ip) for _ in range(16)]
    data = payload.encode()
    sent = out = 0
    for i in range(int(n)):
        socks[i % 16].sendto(data, (dev_ip, int(port)))
        sent += len(data)
        if i % 64 == 63:
            out += drain(socks, 0)
            time.sleep(0.001)  # stay below the device's socket buffer: it is the budget we measure
    end = time.time() + 1.5
    while time.time() < end:
        out += drain(socks, max(0.0, end - time.time()))
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
    if cmd == "amp" and len(argv) == 7:
        return amp(*argv[2:7])
    if cmd == "badtok" and len(argv) == 4:
        return badtok(*argv[2:4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
