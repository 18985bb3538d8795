#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A device that stays connected (MQTT 3.1.1, raw socket, for RabbitMQ 3.10): CONNECT,
# SUBSCRIBE the topics (QoS 0), then print "subscribed", one "msg TOPIC PAYLOAD" line per
# message, and "closed" when the broker closes the connection. Exit 0 closed by the broker or
# deadline reached ("deadline"); 2 CONNECT refused; 3 a SUBSCRIBE refused (SUBACK 0x80, or
# the connection closed before the SUBACK).
# usage: mqtt_hold.py HOST:PORT CLIENT USER PASS DEADLINE_S TOPIC...
import socket, struct, sys, time

from mqtt_wire import connect, packet, read_packet, s16

def say(s):
    print(s, flush=True)

def main():
    addr, client, user, pw, deadline = sys.argv[1:6]
    topics = sys.argv[6:]
    host, port = addr.rsplit(":", 1)
    deadline = time.time() + float(deadline)
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(connect(client, user, pw))
    try:
        kind, body = read_packet(sock)
    except (EOFError, OSError):
        return 2
    if kind >> 4 != 2 or body[1] != 0:
        return 2
    sock.sendall(packet(0x82, struct.pack("!H", 1) + b"".join(s16(t) + b"\x00" for t in topics)))
    subscribed = False
    try:
        while time.time() < deadline:
            sock.settimeout(max(0.1, min(1.0, deadline - time.time())))
            try:
                kind, body = read_packet(sock)
            except socket.timeout:
                continue
            if kind >> 4 == 9:
                if any(c == 0x80 for c in body[2:]):
                    say("refused")
                    return 3
                subscribed = True
                say("subscribed")
            elif kind >> 4 == 3:
                tl = struct.unpack("!H", body[:2])[0]
                say("msg %s %s" % (body[2:2 + tl].decode(), body[2 + tl:].decode(errors="replace")))
    except (EOFError, OSError):
        say("closed" if subscribed else "refused")
        return 0 if subscribed else 3
    say("deadline")
    return 0

sys.exit(main())
