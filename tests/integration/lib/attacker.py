# SPDX-License-Identifier: Apache-2.0
"""Connection-holding attacker for the security tests (imported by them; not a test).
Opens sockets from one loopback source address and tells how many the server left open."""
import select
import socket


def open_from(src, port, n, first=b""):
    """n TCP connections from src to 127.0.0.1:port, each sending `first` (may be empty)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((src, 0))
        try:
            s.connect(("127.0.0.1", port))
            if first:
                s.sendall(first)
            socks.append(s)
        except OSError:
            s.close()
    return socks


def alive(socks):
    """The sockets the server has not closed (a readable socket with nothing to read is closed)."""
    out = []
    for s in socks:
        r, _, _ = select.select([s], [], [], 0)
        try:
            if r and s.recv(1, socket.MSG_PEEK) == b"":
                continue
        except OSError:
            continue
        out.append(s)
    return out
