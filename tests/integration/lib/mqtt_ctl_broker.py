#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A stand-in MQTT 3.1.1 broker for `smartcfg cloud --broker` that a test steers with files in
# CTLDIR (looked at every 50 ms), for what a real mosquitto will not do on demand:
#   CTLDIR/hold    exists: SUBACKs wait (queued) until it is removed
#   CTLDIR/refuse  a topic filter per line: its SUBACK return code is 0x80 (refused)
#   CTLDIR/drop    appears: every client connection is closed (the file is removed)
#   CTLDIR/die     appears: the listener and every client go, and the port is taken again by a
#                  listener whose accept queue is full, so a connect to it hangs (SYNs dropped)
# Every client is accepted (CONNACK 0, any user and password); PINGREQ is answered, QoS 1
# PUBLISHes get their PUBACK, nothing is routed. One line per event on stdout:
# "listening PORT", "connect CLIENT", "subscribe CLIENT FILTER", "suback CLIENT CODES", "dropped",
# "dead". usage: mqtt_ctl_broker.py PORT CTLDIR
import os, select, socket, struct, sys, time

from mqtt_wire import packet   # beside this file: the one length encoding of the tests


def say(s):
    print(s, flush=True)


class Client:
    def __init__(self, sock):
        self.sock, self.buf, self.id, self.pending = sock, b"", "?", []

    def packets(self):
        """Whole packets read so far: (fixed header byte, body)."""
        while True:
            if len(self.buf) < 2:
                return
            n, mult, i = 0, 1, 1
            while True:
                if i >= len(self.buf):
                    return
                d = self.buf[i]
                n += (d & 0x7F) * mult
                mult *= 128
                i += 1
                if not d & 0x80:
                    break
            if len(self.buf) < i + n:
                return
            kind, body, self.buf = self.buf[0], self.buf[i:i + n], self.buf[i + n:]
            yield kind, body


def listener(port, backlog=64):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(backlog)
    return ls


def main():
    port, ctl = int(sys.argv[1]), sys.argv[2]
    ls = listener(port)
    say("listening %d" % port)
    clients = {}

    def close_all():
        for c in list(clients.values()):
            c.sock.close()
        clients.clear()

    while True:
        refuse = set()
        try:
            with open(os.path.join(ctl, "refuse")) as f:
                refuse = {l.strip() for l in f if l.strip()}
        except OSError:
            pass
        hold = os.path.exists(os.path.join(ctl, "hold"))
        if os.path.exists(os.path.join(ctl, "drop")):
            os.unlink(os.path.join(ctl, "drop"))
            close_all()
            say("dropped")
        if os.path.exists(os.path.join(ctl, "die")):
            close_all()
            ls.close()
            # Backlog 0 and one connection of our own never accepted: the queue is full, the
            # kernel drops every further SYN, and a blocking connect waits for minutes.
            ls = listener(port, 0)
            fillers = []
            for _ in range(3):
                f = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                f.setblocking(False)
                f.connect_ex(("127.0.0.1", port))
                fillers.append(f)
            say("dead")
            while True:
                time.sleep(3600)
        if not hold:
            for c in clients.values():
                for p in c.pending:
                    c.sock.sendall(p)
                c.pending = []
        r, _, _ = select.select([ls] + [c.sock for c in clients.values()], [], [], 0.05)
        for s in r:
            if s is ls:
                cs, _ = ls.accept()
                clients[cs] = Client(cs)
                continue
            c = clients[s]
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                s.close()
                del clients[s]
                continue
            c.buf += data
            for kind, body in c.packets():
                t = kind >> 4
                if t == 1:   # CONNECT: protocol name, level, flags, keepalive, client id
                    pl = struct.unpack("!H", body[:2])[0]
                    off = 2 + pl + 4
                    il = struct.unpack("!H", body[off:off + 2])[0]
                    c.id = body[off + 2:off + 2 + il].decode(errors="replace")
                    say("connect %s" % c.id)
                    s.sendall(packet(0x20, b"\x00\x00"))
                elif t == 8:   # SUBSCRIBE: packet id, then (filter, options) pairs
                    mid, off, codes = body[:2], 2, b""
                    while off < len(body):
                        fl = struct.unpack("!H", body[off:off + 2])[0]
                        filt = body[off + 2:off + 2 + fl].decode(errors="replace")
                        qos = body[off + 2 + fl]
                        off += 3 + fl
                        say("subscribe %s %s" % (c.id, filt))
                        codes += b"\x80" if filt in refuse else bytes([qos & 3])
                    say("suback %s %s" % (c.id, codes.hex()))
                    c.pending.append(packet(0x90, mid + codes))
                elif t == 3 and (kind >> 1) & 3:   # PUBLISH QoS 1: PUBACK its id
                    tl = struct.unpack("!H", body[:2])[0]
                    s.sendall(packet(0x40, body[2 + tl:4 + tl]))
                elif t == 12:   # PINGREQ
                    s.sendall(b"\xd0\x00")
                elif t == 14:   # DISCONNECT
                    s.close()
                    del clients[s]
                    break


sys.exit(main())
