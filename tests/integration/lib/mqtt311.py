#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A device's MQTT 3.1.1 session for the cluster tests, on a raw socket (RabbitMQ 3.10 speaks
# no MQTT 5, so mosquitto_rr cannot be the device; two mosquitto clients with one client id
# would throw each other out). One connection: CONNECT, SUBSCRIBE the down topic, PUBLISH the
# request (again every few seconds: a bind is idempotent) until a reply with our clientToken
# arrives; prints it. Exit 0 reply printed; 2 CONNECT refused (CONNACK code on stderr);
# 3 SUBSCRIBE refused or the connection closed by the broker; 4 no reply before the deadline.
# usage: mqtt311.py HOST:PORT[,HOST:PORT...] CLIENT USER PASS UP_TOPIC DOWN_TOPIC PAYLOAD [DEADLINE_S]
import json, socket, struct, sys, time

from mqtt_wire import connect, packet, read_packet, s16

def main():
    addrs, client, user, pw, up, down, payload = sys.argv[1:8]
    deadline = time.time() + float(sys.argv[8] if len(sys.argv) > 8 else 20)
    token = json.loads(payload).get("clientToken") if payload.startswith("{") else None
    sock = None
    for a in addrs.split(","):   # the first node that accepts a TCP connection
        host, port = a.rsplit(":", 1)
        try:
            sock = socket.create_connection((host, int(port)), timeout=5)
            break
        except OSError:
            continue
    if sock is None:
        print("no broker address reachable", file=sys.stderr)
        return 2
    sock.sendall(connect(client, user, pw, keepalive=30))
    try:
        kind, body = read_packet(sock)
    except (EOFError, OSError):
        print("connection closed before CONNACK", file=sys.stderr)
        return 2
    if kind >> 4 != 2 or body[1] != 0:
        print("CONNACK code %d" % (body[1] if len(body) > 1 else -1), file=sys.stderr)
        return 2
    sock.sendall(packet(0x82, struct.pack("!H", 1) + s16(down) + b"\x01"))
    sent_at, pid = 0.0, 2
    try:
        while time.time() < deadline:
            if time.time() - sent_at > 3 and up:
                sock.sendall(packet(0x32, s16(up) + struct.pack("!H", pid) + payload.encode()))
                sent_at, pid = time.time(), pid + 1
            sock.settimeout(max(0.1, min(1.0, deadline - time.time())))
            try:
                kind, body = read_packet(sock)
            except socket.timeout:
                continue
            t = kind >> 4
            if t == 9 and body[2] == 0x80:
                print("SUBACK refused", file=sys.stderr)
                return 3
            if t == 3:
                tl = struct.unpack("!H", body[:2])[0]
                off = 2 + tl
                if kind & 0x06:
                    sock.sendall(packet(0x40, body[off:off + 2]))
                    off += 2
                msg = body[off:].decode(errors="replace")
                try:
                    ct = json.loads(msg).get("clientToken")
                except ValueError:
                    ct = None
                if token is None or ct == token:
                    print(msg)
                    return 0
    except (EOFError, OSError) as e:
        print("connection closed by the broker (%s)" % type(e).__name__, file=sys.stderr)
        return 3
    print("no reply before the deadline", file=sys.stderr)
    return 4

sys.exit(main())
