#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Test doubles for `smartcfg send` (the phone side), all on addresses inside the test's own
network namespace:

  capture IFACE OUT --ready F --stop F --events F
                                 record the UDP datagrams to port 7001 seen on IFACE
                                 (AF_PACKET): one line "dst_ip length" each, until the
                                 stop file exists and the sender's summary count is in
  recv ADDR OUT ...              the same with a UDP socket on ADDR:7001
  world OPTIONS                  fake devices (ack on UDP 18266, token service on UDP 8266)
                                 and optionally a fake token API cloud, in one process

Device spec (--dev, repeatable): ip=127.0.0.2,mac=24:0a:c4:00:00:01,b=<behaviour>[,pretty]
behaviours: ok (identity 3 times, like the reference), third (answers only the 3rd retry, i.e. the 4th request),
silent (acks, never answers), current (Current_Error), previous (Previous_Error, then
identity), malformed (junk, bad JSON, then identity), badack (acks with a wrong first byte),
mismatch (ack body carries another IP than the source), flood (5000 junk
replies and 5000 junk acks before the identity), prevflood (5000 Previous_Error replies
of 40 texts in turn before the identity), nobind (ok, but never binds in the
cloud), macspray (40 acks under made-up MACs from the one address, then silent).
"""
import argparse
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time


def sent_count(events):
    """How many datagrams `smartcfg send` says it sent (its summary event), or None."""
    try:
        rows = [json.loads(l) for l in open(events) if '"summary"' in l]
    except OSError:
        return None
    return rows[-1]["datagrams"] if rows else None


def record(s, args, parse):
    """Reads datagrams until the test says the sender has exited (--stop file) and every
    datagram the sender reports is in, or 20 s after that at most. The socket buffer is
    forced far above what one run sends, so a capture stalled by a busy machine loses
    nothing: the kernel keeps the datagrams until it reads them. --ready is written once the
    socket is bound, so the sender starts only when nothing can be missed."""
    open(args.ready, "w").close()
    s.settimeout(0.1)
    n, deadline = 0, None
    with open(args.out, "w") as out:
        while True:
            try:
                row = parse(s.recv(65535))
            except socket.timeout:
                row = None
            if row:
                out.write(row)
                n += 1
            if deadline is None and os.path.exists(args.stop):
                deadline = time.time() + 20
            if deadline is not None and row is None:
                want = sent_count(args.events)
                if (want is not None and n >= want) or time.time() > deadline:
                    break
    return n


def big_buffer(s):
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)   # SO_RCVBUFFORCE (root)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)


def capture(args):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    big_buffer(s)
    s.bind((args.iface, 0))

    def parse(frame):
        if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
            return None
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            return None
        dport, ulen = struct.unpack("!2xH H", ip[ihl:ihl + 6])
        return "%s %d\n" % (socket.inet_ntoa(ip[16:20]), ulen - 8) if dport == 7001 else None

    record(s, args, parse)
    # PACKET_STATISTICS: a drop here would be the harness's fault, not the sender's: say so.
    _, drops = struct.unpack("II", s.getsockopt(263, 6, 8))
    if drops:
        sys.exit("capture: the kernel dropped %d frames for this capture socket" % drops)


def recv(args):
    """Plain UDP receiver on addr:7001 (loopback --dest runs): same output as capture."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big_buffer(s)
    s.bind((args.addr, 7001))
    record(s, args, lambda data: "%s %d\n" % (args.addr, len(data)))


class World:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.bound = {}          # token -> list of (pid, dn)
        self.requests = []       # every token request as received (for the test to inspect)
        self.log = open(args.log, "a") if args.log else sys.stderr
        self.polls = 0
        self.tokens = 0          # tokens handed out by AppCreateDeviceBindToken
        self.creates = 0         # AppCreateDeviceBindToken calls (--cloud-mode ratelimit)

    def count_create(self):
        with self.lock:
            self.creates += 1
            return self.creates

    def limit_create(self):
        with self.lock:
            self.creates += 1
            return self.creates % 2 == 0

    def note(self, what, **kw):
        kw["what"] = what
        with self.lock:
            self.log.write(json.dumps(kw) + "\n")
            self.log.flush()

    # -------------------------------------------------------------- devices
    def device(self, spec, started):
        f = dict(kv.split("=", 1) if "=" in kv else (kv, "1") for kv in spec.split(","))
        ip, mac, b = f["ip"], bytes.fromhex(f["mac"].replace(":", "")), f.get("b", "ok")
        pretty = "pretty" in f
        pid, dn = "PRODUCT001", "dev_" + f["mac"].replace(":", "")[-4:]
        tok = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tok.bind((ip, 8266))
        tok.settimeout(0.1)
        started.wait()
        time.sleep(float(f.get("delay", "0.3")))
        ack_ip = socket.inet_aton("127.0.0.99") if b == "mismatch" else socket.inet_aton(ip)
        t = self.args.t if b != "badack" else (self.args.t + 1) & 0xFF
        ack = bytes([t]) + mac + ack_ip
        asock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        asock.bind((ip, 0))
        if b == "macspray":
            # one LAN host acking under 40 made-up MACs (valid first byte): it must not fill
            # the phone's device table, nor count as more than one device
            for k in range(40):
                asock.sendto(bytes([t]) + mac[:5] + bytes([k]) + ack_ip, (self.args.phone, 18266))
            self.note("sprayed", dev=ip, n=40)
        requests = 0
        next_ack, acks = time.time(), 0
        end = time.time() + self.args.life
        while time.time() < end:
            if acks < 30 and time.time() >= next_ack:
                asock.sendto(ack, (self.args.phone, 18266))
                acks += 1
                next_ack += 0.1
            try:
                data, peer = tok.recvfrom(2048)
            except socket.timeout:
                continue
            requests += 1
            try:
                req = json.loads(data)
            except ValueError:
                req = {"unparsable": data.decode("latin-1")}
            self.note("request", dev=ip, peer="%s:%d" % peer, n=requests, req=req)

            def send(obj, times=1, raw=None):
                if raw is None:
                    raw = (json.dumps(obj, indent="\t") if pretty else json.dumps(obj, separators=(",", ":")) + "\r\n").encode()
                for _ in range(times):
                    tok.sendto(raw, peer)
                    time.sleep(0.05)

            ident = {"cmdType": 2, "productId": pid, "deviceName": dn, "productRegion": "ap-guangzhou",
                     "protoVersion": "2.0"}
            if b in ("silent", "macspray") or (b == "third" and requests < 4):
                continue
            if b == "current":
                send({"cmdType": 2, "deviceReply": "Current_Error", "log": "MQTT connect error! (1, -4)"})
                continue
            if b == "previous":
                send({"cmdType": 2, "deviceReply": "Previous_Error", "log": "WIFI connect error! (10, 15)"})
            if b == "prevflood":
                # earlier errors from a host that acked: 40 texts in turn, 5000 replies (F65)
                for k in range(5000):
                    tok.sendto(json.dumps({"cmdType": 2, "deviceReply": "Previous_Error",
                                           "log": "old error %d (1, -4)" % (k % 40)}).encode(), peer)
            if b == "flood":
                for k in range(5000):
                    tok.sendto(b"junk %d" % k, peer)
                ack_flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                for k in range(5000):
                    ack_flood.sendto(b"x" * (k % 20), (self.args.phone, 18266))
            if b == "malformed":
                send(None, raw=b"\x00\xffgarbage")
                send(None, raw=b'{"cmdType":2,')
                send({"cmdType": 2, "productId": pid})
            send(ident, times=3)
            if b != "nobind" and isinstance(req, dict) and "token" in req:
                threading.Timer(0.5, self.bind, (req["token"], pid, dn)).start()

    def bind(self, token, pid, dn):
        with self.lock:
            lst = self.bound.setdefault(token, [])
            if (pid, dn) not in lst:
                lst.append((pid, dn))
        self.note("bound", pid=pid, dn=dn)

    # -------------------------------------------------------------- cloud
    def cloud(self, port):
        world = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n) or b"{}")
                cmd = self.path.split("cmd=", 1)[-1].split("&")[0]
                world.note("api", path=self.path, body=body)
                mode = world.args.cloud_mode
                if cmd != body.get("Action"):
                    r = {"code": 400, "msg": "Action mismatch"}
                elif mode == "refuse":
                    r = {"code": 1001, "msg": "bad", "data": {"Error": {"Code": "AuthFailure", "Message": "AccessToken expired"}}}
                elif mode == "stall" and not (cmd == "AppCreateDeviceBindToken" and world.count_create() == 1):
                    # a token API that has stopped answering after the run's first token: every
                    # later request is held past the sender's 10 s HTTP timeout
                    time.sleep(12)
                    return
                elif mode == "junk":
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"<html>nope</html>")
                    return
                elif cmd == "AppCreateDeviceBindToken" and mode == "ratelimit" and world.limit_create():
                    # the account's token budget spent (smartcfg cloud's --token-rate): every
                    # other create after the first answers 429, as the real envelope does
                    msg = "too many bind tokens for this account; retry later"
                    r = {"code": 429, "msg": msg, "data": {"Error": {"Code": "RequestLimitExceeded", "Message": msg}}}
                elif cmd == "AppCreateDeviceBindToken":
                    # a fresh token per call (...8f90, ...8f91, ...), as the real cloud does
                    with world.lock:
                        n = world.tokens
                        world.tokens += 1
                    r = {"code": 0, "msg": "", "data": {"Token": "a1b2c3d4e5f60718293a4b5c6d7e8f%02d" % (90 + n),
                                                        "ExpireTime": 1900000000}}
                elif cmd == "AppGetDeviceBindTokenState" and mode == "flaky" and world.polls < 2:
                    with world.lock:
                        world.polls += 1
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"Internal Server Error")
                    return
                elif cmd == "AppGetDeviceBindTokenState":
                    with world.lock:
                        world.polls += 1
                        lst = world.bound.get(body.get("Token"), [])
                    d = {"State": 2, "ProductId": lst[0][0], "DeviceName": lst[0][1]} if lst else {"State": 1}
                    r = {"code": 0, "msg": "", "data": d}
                elif cmd == "AppGetMultiDeviceBindTokenState":
                    if mode == "nomulti":
                        r = {"code": 4040, "msg": "unknown action"}
                    else:
                        with world.lock:
                            lst = list(world.bound.get(body.get("Token"), []))
                        r = {"code": 0, "msg": "", "data": {"Data": [
                            {"ProductId": p, "DeviceName": d, "State": 2} for p, d in lst]}}
                else:
                    r = {"code": 404, "msg": "unknown"}
                out = json.dumps(r).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()

    def run(self):
        started = threading.Event()
        if self.args.cloud_port:
            self.cloud(self.args.cloud_port)
        ths = [threading.Thread(target=self.device, args=(d, started), daemon=True) for d in self.args.dev]
        for t in ths:
            t.start()
        # The "air": the phone's ESP-TOUCH datagrams (--dest) start the devices.
        air = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        air.bind((self.args.air, 7001))
        air.settimeout(self.args.life)
        with open(self.args.ready, "w") as f:
            f.write("ready\n")
        try:
            air.recvfrom(2048)
            self.note("air")
        except socket.timeout:
            return
        started.set()
        for t in ths:
            t.join()


VECTOR_A = [int(x) for x in """
137 296 133 72 297 176 41 298 123 195 299 144 66 300 266 136 325 40
180 301 216 114 302 128 104 303 153 201 326 201 206 304 92 155 305 121
235 306 74 170 327 234 123 307 171 219 308 124 75 309 285 123 328 219
187 310 174 43 311 79 235 312 144 252 329 252 173 313 284 125 314 136
90 315 165 61 330 157 76 316 212 172 317 225 44 318 166 204 319 147
93 320 55 219 321 250 282 322 278 203 323 220 236 324 223""".split()]
GUIDE = [515, 514, 513, 512]


def check(args):
    """The captured datagrams against docs/protocol/esptouch-v1.md#test-vectors vector A: guide bursts 515..512, data in
    cycle order with a cursor that a guide phase does not reset, groups of 4 / 3, the
    destination per mode, and as many datagrams as the sender says it sent."""
    rows = [line.split() for line in open(args.capture) if line.strip()]
    dst = [r[0] for r in rows]
    lens = [int(r[1]) for r in rows]
    summary = [json.loads(l) for l in open(args.events) if '"summary"' in l][-1]
    fail = []
    if len(lens) != summary["datagrams"]:
        fail.append("captured %d datagrams, sender reports %d" % (len(lens), summary["datagrams"]))
    groups, i, phases, data_seen = [], 0, [], 0
    while i < len(lens):
        if lens[i] in GUIDE:
            g = lens[i:i + 4]
            if g != GUIDE:
                fail.append("broken guide burst at %d: %s" % (i, g))
                break
            kind = "guide"
        else:
            g = lens[i:i + 3]
            want = [VECTOR_A[(data_seen + k) % len(VECTOR_A)] for k in range(len(g))]
            if g != want or len(g) != 3:
                fail.append("data triplet %d at %d is %s, want %s" % (data_seen // 3, i, g, want))
                break
            data_seen += 3
            kind = "data"
        if len(set(dst[i:i + len(g)])) != 1:
            fail.append("destination changes inside a group at %d" % i)
        groups.append((kind, dst[i]))
        if not phases or phases[-1][0] != kind:
            phases.append([kind, 0])
        phases[-1][1] += 1
        i += len(g)
    if not groups or groups[0][0] != "guide":
        fail.append("does not start with a guide burst")
    if len(phases) < args.min_phases:
        fail.append("only %d phases (%s), want >= %d" % (len(phases), phases, args.min_phases))
    if args.mode == "broadcast" and set(dst) != {"255.255.255.255"}:
        fail.append("broadcast mode sent to %s" % sorted(set(dst))[:5])
    if args.mode == "unicast" and set(dst) != {args.dest}:
        fail.append("unicast mode sent to %s" % sorted(set(dst))[:5])
    if args.mode == "multicast":
        for k, (_, d) in enumerate(groups):
            n = 1 + k % 100
            if d != "234.%d.%d.%d" % (n, n, n):
                fail.append("group %d went to %s, want 234.%d.%d.%d" % (k, d, n, n, n))
                break
    print("check %s: %d datagrams, phases %s, %d data datagrams" % (args.mode, len(lens), phases, data_seen))
    for f in fail:
        print("FAIL:", f)
    sys.exit(1 if fail else 0)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, where in (("capture", "iface"), ("recv", "addr")):
        c = sub.add_parser(name)
        c.add_argument(where)
        c.add_argument("out")
        c.add_argument("--ready", required=True)
        c.add_argument("--stop", required=True)
        c.add_argument("--events", required=True)
    k = sub.add_parser("check")
    k.add_argument("capture")
    k.add_argument("events")
    k.add_argument("mode")
    k.add_argument("--dest", default="")
    k.add_argument("--min-phases", type=int, default=2)
    w = sub.add_parser("world")
    w.add_argument("--dev", action="append", default=[])
    w.add_argument("--t", type=int, required=True, help="expected ack byte 0 (9 + s + p)")
    w.add_argument("--phone", default="127.0.0.1")
    w.add_argument("--air", default="127.0.0.1")
    w.add_argument("--life", type=float, default=30)
    w.add_argument("--cloud-port", type=int, default=0)
    w.add_argument("--cloud-mode", default="ok")
    w.add_argument("--log")
    w.add_argument("--ready", required=True)
    a = ap.parse_args()
    if a.cmd == "capture":
        capture(a)
    elif a.cmd == "check":
        check(a)
    elif a.cmd == "recv":
        recv(a)
    else:
        World(a).run()


if __name__ == "__main__":
    main()
