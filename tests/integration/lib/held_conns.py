#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""held_conns.py PORT PID ACCESS HOLDERS WAITERS DELAY -- connections a held pool thread took.

Stops the cloud (SIGSTOP PID), opens HOLDERS connections that send a bind-token request at once
(with the registry's write lock held elsewhere, each holds the pool thread that serves it on
SQLite's busy wait) and WAITERS connections that send nothing yet, continues the cloud (every
connection is then accepted in the same turn of a pool thread's loop, so some waiters share a
thread with a holder), and sends the waiters' requests (AppGetFamilyList, a read) DELAY s later,
while a holder holds. Prints one line per connection, holders first:
    holder|waiter CODE ERROR SECONDS
CODE the HTTP status ("closed" when the connection ended with no answer), ERROR the token API's
error code ("-" for none), SECONDS from the continue to the end of the answer."""
import json
import os
import re
import selectors
import signal
import socket
import sys
import time

port, pid, access = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
holders, waiters, delay = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])


def request(action):
    body = json.dumps({"Action": action, "AccessToken": access, "RequestId": "held"}).encode()
    return (b"POST /tokenapi?cmd=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (action.encode(), len(body))) + body


os.kill(pid, signal.SIGSTOP)
try:
    hs = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(holders)]
    for s in hs:
        s.sendall(request("AppCreateDeviceBindToken"))
    ws = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(waiters)]
    time.sleep(0.2)   # the handshakes complete in the kernel's backlog meanwhile
finally:
    os.kill(pid, signal.SIGCONT)
t0 = time.monotonic()
time.sleep(delay)
for s in ws:
    s.sendall(request("AppGetFamilyList"))
conns = hs + ws
sel = selectors.DefaultSelector()
got = [b""] * len(conns)
end = [None] * len(conns)
for i, s in enumerate(conns):
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, i)
while None in end and time.monotonic() - t0 < 40:
    for key, _ in sel.select(1):
        i = key.data
        try:
            d = key.fileobj.recv(65536)
        except OSError:
            d = b""
        got[i] += d
        head, _, body = got[i].partition(b"\r\n\r\n")
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if not d or (m and len(body) >= int(m.group(1))):
            end[i] = time.monotonic() - t0
            sel.unregister(key.fileobj)
for i, s in enumerate(conns):
    line = got[i].split(b"\r\n", 1)[0].decode(errors="replace")
    code = line.split(" ")[1] if line.startswith("HTTP/") and " " in line else "closed"
    m = re.search(rb'"Code":"([A-Za-z.]*)"', got[i])
    print("%s %s %s %.2f" % ("holder" if i < holders else "waiter", code, m.group(1).decode() if m else "-",
                             end[i] if end[i] is not None else -1))
    s.close()
