# SPDX-License-Identifier: Apache-2.0
# The few MQTT 3.1.1 packets the tests speak on raw sockets (RabbitMQ 3.10 speaks no MQTT 5,
# and a test often needs a client that misbehaves on purpose): the length encoding, one
# packet out, one packet in, CONNECT, a session subscribed to one topic and the JSON of a
# message received, a one-client broker's accept and publish. Imported by mqtt311.py,
# mqtt_hold.py, soak_cloud.py, mqtt_ctl_broker.py
# and the inline floods of the tests (PYTHONPATH=tests/integration/lib).
import json
import socket
import struct


def s16(s):
    """A UTF-8 string (or bytes) with its 16-bit length in front."""
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def packet(kind, body):
    """A whole packet: the fixed header byte KIND, the remaining length, BODY."""
    n, ln = len(body), b""
    while True:
        n, d = n // 128, n % 128
        ln += bytes([d | (0x80 if n else 0)])
        if not n:
            return bytes([kind]) + ln + body


def connect(client, user, pw, keepalive=60):
    """CONNECT with a clean session, user name and password."""
    return packet(0x10, s16("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", keepalive) + s16(client) + s16(user) + s16(pw))


def recv_exact(sock, n):
    """N bytes, or EOFError when the peer closes first."""
    b = b""
    while len(b) < n:
        c = sock.recv(n - len(b))
        if not c:
            raise EOFError("the broker closed the connection")
        b += c
    return b


def read_packet(sock):
    """(fixed header byte, body) of the next packet."""
    kind = recv_exact(sock, 1)[0]
    n, mult = 0, 1
    while True:
        d = recv_exact(sock, 1)[0]
        n += (d & 0x7F) * mult
        mult *= 128
        if not d & 0x80:
            return kind, recv_exact(sock, n)


def accept_one(port, timeout=60):
    """A broker's side for a test: listens on 127.0.0.1:PORT, says "listening" on stdout (the
    test waits for that line) and returns the one client's socket, TIMEOUT on its reads."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    print("listening", flush=True)
    c, _ = ls.accept()
    ls.close()
    c.settimeout(timeout)
    return c


def publish(sock, topic, payload):
    """A QoS 0 PUBLISH of PAYLOAD (bytes) on TOPIC."""
    sock.sendall(packet(0x30, s16(topic) + payload))


def session(host, port, client, user, pw, topic, keepalive=60):
    """A socket connected (CONNACK 0) and subscribed to TOPIC at QoS 0 (SUBACK granted)."""
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(connect(client, user, pw, keepalive))
    k, b = read_packet(s)
    assert k >> 4 == 2 and b[1] == 0, "CONNACK %r" % b
    s.sendall(packet(0x82, struct.pack("!H", 1) + s16(topic) + b"\x00"))
    k, b = read_packet(s)
    assert k >> 4 == 9 and b[2] != 0x80, "SUBACK %r" % b
    return s


def next_json(sock):
    """The JSON payload of the next packet if it is a (QoS 0) PUBLISH; None for any other packet
    or when SOCK's timeout passes first. EOFError or OSError once the connection ends."""
    try:
        kind, body = read_packet(sock)
    except socket.timeout:
        return None
    if kind >> 4 != 3:
        return None
    tl = struct.unpack("!H", body[:2])[0]
    return json.loads(body[2 + tl:])
