# SPDX-License-Identifier: Apache-2.0
"""A TCP relay that freezes on demand: what a server that vanished without a reset (a cut
network, a host gone) looks like to its clients. Relays LISTEN_PORT to UPSTREAM until FLAGFILE
exists; from then on it passes nothing either way and answers no new connection, but keeps
every socket open, so a client waits on TCP rather than seeing a refusal or a reset. Bytes a
client sends after the freeze are held, and said once per connection ("held"): the moment a
request of the client's waits on the frozen server.

usage: tcp_freeze.py [LISTEN_ADDR:]LISTEN_PORT UPSTREAM_HOST:PORT FLAGFILE [DELAY_MS]
(prints "listening"; LISTEN_ADDR defaults to 127.0.0.1; DELAY_MS holds each answer of the
upstream that long before passing it on: a server further away, 0 by default)
"""
import os
import socket
import sys
import threading
import time

held = []   # sockets kept open after the freeze


def frozen(flag):
    return os.path.exists(flag)


def pump(a, b, flag, upstream=False, delay=0.0):
    try:
        while True:
            d = a.recv(65536)
            if d and upstream and frozen(flag):
                print("held", flush=True)
            if not d or frozen(flag):
                break
            if delay:
                time.sleep(delay)
            b.sendall(d)
    except OSError:
        return
    if not frozen(flag):   # an end closed before any freeze: passed on (a server ending a session)
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        return
    while frozen(flag):   # hold both ends: no FIN, no RST
        time.sleep(1)


def main():
    listen, up, flag = sys.argv[1], sys.argv[2], sys.argv[3]
    delay = float(sys.argv[4]) / 1000 if len(sys.argv) > 4 else 0.0
    laddr, _, lport = listen.rpartition(":")
    host, uport = up.rsplit(":", 1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((laddr or "127.0.0.1", int(lport)))
    s.listen(64)
    print("listening", flush=True)
    while True:
        c, _ = s.accept()
        if frozen(flag):
            held.append(c)
            continue
        u = socket.create_connection((host, int(uport)))
        held.extend((c, u))
        threading.Thread(target=pump, args=(c, u, flag, True), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, flag, False, delay), daemon=True).start()


if __name__ == "__main__":
    main()
