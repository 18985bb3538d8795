#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The app's side of the device's UDP conversations, for the integration tests.

  udp_peer.py listen BIND_IP PORT SECONDS OUT [READY] record datagrams (one JSON line each);
                                                     READY is created once the socket is bound
  udp_peer.py token  BIND_IP DEVICE_IP TOKEN OUT     the app's token exchange on 8266 (bound to 8266
                                                     like the real app; resend every 2 s, 5 resends)
  udp_peer.py softap DEVICE_IP SSID PASSWORD TOKEN OUT GO
                                                     the soft-AP flow's app: once GO exists, sends
                                                     {"cmdType":1,ssid,password,token} to the
                                                     device's 8266 every 2 s until it answers (60 s)
  udp_peer.py matrix BIND_IP DEVICE_IP TOKEN OUT     bad-input matrix, then 10 000 junk datagrams
                                                     with one real request in the middle, then retries
Prints a one-line summary; exit 0 when the device answered as expected.
"""
import json
import os
import socket
import sys
import time


def record(out, **kw):
    with open(out, "a") as f:
        f.write(json.dumps(kw) + "\n")


def listen(bind_ip, port, seconds, out, ready=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind((bind_ip, int(port)))
    if ready:
        open(ready, "w").close()
    s.settimeout(0.2)
    end = time.time() + float(seconds)
    n = 0
    while time.time() < end:
        try:
            data, src = s.recvfrom(4096)
        except socket.timeout:
            continue
        n += 1
        record(out, src="%s:%d" % src, hex=data.hex(), t=time.time())
    print("listen: %d datagrams" % n)
    return 0


_app = {}


def app_socket(bind_ip):
    """One socket on port 8266 for the whole run, as the app has."""
    if bind_ip not in _app:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((bind_ip, 8266))
        _app[bind_ip] = s
    return _app[bind_ip]


def replies(s, seconds):
    """Datagrams received within `seconds`, as (src, bytes)."""
    got = []
    end = time.time() + seconds
    while True:
        left = end - time.time()
        if left <= 0:
            return got
        s.settimeout(left)
        try:
            data, src = s.recvfrom(65536)
        except socket.timeout:
            return got
        got.append((src, data))


def parse_reply(data):
    text = data.decode("utf-8", "replace").strip()
    try:
        return json.loads(text)
    except ValueError:
        return None


def identity(objs):
    return [o for o in objs if isinstance(o, dict) and o.get("cmdType") == 2 and "deviceReply" not in o]


def until_identity(what, s, req, device_ip, tries, out):
    """The app's resend loop: req to the device's 8266 every 2 s until it answers its identity."""
    for attempt in range(tries):
        s.sendto(req, (device_ip, 8266))
        got = replies(s, 2.0)
        for src, data in got:
            record(out, src="%s:%d" % src, text=data.decode("utf-8", "replace"))
        ids = identity([parse_reply(d) for _, d in got])
        if ids:
            print("%s: identity reply after %d send(s): %s" % (what, attempt + 1, json.dumps(ids[0])))
            return 0
    print("%s: no identity reply" % what)
    return 1


def token(bind_ip, device_ip, tok, out):
    req = json.dumps({"cmdType": 0, "token": tok, "region": "ap-guangzhou"}).encode()
    return until_identity("token", app_socket(bind_ip), req, device_ip, 6, out)


def softap(device_ip, ssid, password, tok, out, go):
    # The device's soft-AP service listens on every address (port 8266), so the app sends from
    # a port of its own; the answer goes to the datagram's source, as for the station flow.
    end = time.time() + 60
    while not os.path.exists(go):
        if time.time() > end:
            print("softap: never told to go")
            return 1
        time.sleep(0.05)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    req = json.dumps({"cmdType": 1, "ssid": ssid, "password": password, "token": tok}).encode()
    return until_identity("softap", s, req, device_ip, 30, out)


def matrix(bind_ip, device_ip, tok, out):
    s = app_socket(bind_ip)
    dev = (device_ip, 8266)
    bad = [
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"{",
        b"[]",
        b'{"token":"abc"}',                      # no cmdType
        b'{"cmdType":0}',                         # no token
        b'{"cmdType":"0","token":"abc"}',         # cmdType of the wrong type
        b'{"cmdType":42,"token":"abc"}',          # unknown cmdType
        b'{"cmdType":0,"token":7}',               # token of the wrong type
        json.dumps({"cmdType": 0, "token": "x" * 33}).encode(),   # too long (ours: err 2 / 204)
        b'{"cmdType":0,"token":"' + b"A" * 5000 + b'"}',         # longer than any buffer
        b"{" * 3000,                              # deep nesting
        os.urandom(1400),
    ]
    failures = []
    for b in bad:
        s.sendto(b, dev)
        time.sleep(0.05)
    got = replies(s, 1.5)
    for src, data in got:
        record(out, phase="bad", src="%s:%d" % src, text=data.decode("utf-8", "replace"))
        if "%s:%d" % src != "%s:8266" % device_ip:
            failures.append("reply from %s:%d" % src)
    errs = [o for o in (parse_reply(d) for _, d in got) if isinstance(o, dict) and o.get("deviceReply")]
    if not errs:
        failures.append("no error reply to bad input")
    if identity([parse_reply(d) for _, d in got]):
        failures.append("identity reply to bad input")

    print("matrix: %d error replies to %d bad inputs" % (len(errs), len(bad)))
    return failures


def flood(bind_ip, device_ip, tok, out):
    """10 000 junk datagrams from another port of the app's host, the real request in the
    middle; unanswered, it is resent every 2 s (5 resends) as the app does."""
    s = app_socket(bind_ip)
    dev = (device_ip, 8266)
    req = json.dumps({"cmdType": 0, "token": tok}).encode()
    junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    junk.bind((bind_ip, 0))
    t0 = time.time()
    for i in range(10000):
        junk.sendto(os.urandom(1 + i % 300) if i % 2 else b'{"cmdType":9}', dev)
        if i == 5000:
            s.sendto(req, dev)
    sent_in = time.time() - t0
    sends = 1
    while True:
        got = replies(s, 2.0)
        for src, data in got:
            record(out, phase="flood", src="%s:%d" % src, text=data.decode("utf-8", "replace"))
        ok = bool(identity([parse_reply(d) for _, d in got]))
        if ok or sends == 6:
            break
        s.sendto(req, dev)
        sends += 1
    print("flood: 10000 junk datagrams in %.2f s; real request %s" %
          (sent_in, ("answered after %d send(s)" % sends) if ok else "NOT answered"))
    return [] if ok else ["real request in the flood not answered"]


def retries(bind_ip, device_ip, tok, out):
    """The app resends its request; every one is answered again."""
    s = app_socket(bind_ip)
    dev = (device_ip, 8266)
    req = json.dumps({"cmdType": 0, "token": tok}).encode()
    answered = 0
    for i in range(3):
        s.sendto(req, dev)
        got = replies(s, 1.2)
        for src, data in got:
            record(out, phase="retry%d" % i, src="%s:%d" % src, text=data.decode("utf-8", "replace"))
        if identity([parse_reply(d) for _, d in got]):
            answered += 1
    print("retries: %d/3 answered" % answered)
    return [] if answered >= 2 else ["only %d of 3 retries answered" % answered]


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd = argv[1]
    if cmd == "listen":
        return listen(*argv[2:7])
    if cmd == "token":
        return token(*argv[2:6])
    if cmd == "softap":
        return softap(*argv[2:8])
    if cmd == "matrix":
        f = matrix(*argv[2:6])
        f += flood(*argv[2:6])
        f += retries(*argv[2:6])
        for x in f:
            print("FAIL: " + x)
        return 1 if f else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
