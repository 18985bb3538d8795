# SPDX-License-Identifier: Apache-2.0
"""A TCP relay between one AMQP 0-9-1 client (a `smartcfg cloud --rabbitmq` worker) and RabbitMQ
that makes the client lose its first connection at a chosen moment: after the server has
delivered N messages on channel CH, the client's basic.ack of the N-th is not passed on (nor any
before it on CH) and the connection is cut (both sides closed, 0.5 s later so that the frames before the ack, the
client's replies, reach the server first). The server then hands those N messages out again,
marked redelivered. Later connections are relayed untouched.

usage: amqp_cut.py LISTEN_PORT UPSTREAM_HOST:PORT CH N
Prints "listening" once it accepts, and "cut after K deliveries on channel CH" at the cut.
"""
import socket
import sys
import threading
import time

BASIC, DELIVER, ACK = 60, 60, 80


def frames(buf, start):
    """Yields (end, type, channel, class, method, arg) of each whole frame in buf from start;
    arg: a method's first 8 bytes of arguments as a number (basic.ack's delivery tag)."""
    i = start
    while len(buf) - i >= 7:
        size = int.from_bytes(buf[i + 3:i + 7], "big")
        end = i + 7 + size + 1
        if end > len(buf):
            return
        ftype, ch = buf[i], int.from_bytes(buf[i + 1:i + 3], "big")
        cls = meth = arg = None
        if ftype == 1 and size >= 4:
            cls = int.from_bytes(buf[i + 7:i + 9], "big")
            meth = int.from_bytes(buf[i + 9:i + 11], "big")
            arg = int.from_bytes(buf[i + 11:i + 19], "big") if size >= 12 else None
        yield end, ftype, ch, cls, meth, arg
        i = end


def shut(*socks):
    """Both directions of each socket shut down (the peer sees the end), errors ignored."""
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    shut(src, dst)


def cut_session(cli, up, ch, n):
    state = {"delivered": 0, "cut": False}
    lock = threading.Lock()

    def down():  # server -> client: count the deliveries on ch
        buf, pos = b"", 0
        try:
            while True:
                b = up.recv(65536)
                if not b:
                    break
                buf += b
                for end, ftype, c, cls, meth, _ in frames(buf, pos):
                    if ftype == 1 and c == ch and (cls, meth) == (BASIC, DELIVER):
                        with lock:
                            state["delivered"] += 1
                    pos = end
                buf, pos = buf[pos:], 0
                with lock:
                    if state["cut"]:
                        break
                cli.sendall(b)
        except OSError:
            pass

    t = threading.Thread(target=down, daemon=True)
    t.start()
    buf, pos, header = b"", 0, True
    try:
        while True:
            b = cli.recv(65536)
            if not b:
                break
            buf += b
            if header:  # "AMQP" 0 0 9 1 before the first frame
                if len(buf) < 8:
                    continue
                up.sendall(buf[:8])
                buf, header = buf[8:], False
            out = bytearray()
            for end, ftype, c, cls, meth, tag in frames(buf, pos):
                is_ack = ftype == 1 and c == ch and (cls, meth) == (BASIC, ACK)
                # armed by the ack of the N-th delivery (tags count from 1 on a channel): the
                # client has handled all N
                armed = is_ack and tag is not None and tag >= n
                if is_ack and not armed:
                    pos = end   # held back: the deliveries it acknowledges come again too
                    continue
                if is_ack:
                    up.sendall(bytes(out))
                    with lock:
                        state["cut"] = True
                        k = state["delivered"]
                    time.sleep(0.5)
                    print("cut after %d deliveries on channel %d" % (k, ch), flush=True)
                    shut(cli, up)
                    cli.close()
                    up.close()
                    return
                out += buf[pos:end]
                pos = end
            up.sendall(bytes(out))
            buf, pos = buf[pos:], 0
    except OSError:
        pass
    shut(cli, up)


def main():
    port, upstream, ch, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    host, uport = upstream.rsplit(":", 1)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    print("listening", flush=True)
    first = True
    while True:
        cli, _ = ls.accept()
        up = socket.create_connection((host, int(uport)), timeout=30)
        up.settimeout(None)
        if first:
            first = False
            threading.Thread(target=cut_session, args=(cli, up, ch, n), daemon=True).start()
        else:
            threading.Thread(target=pump, args=(cli, up), daemon=True).start()
            threading.Thread(target=pump, args=(up, cli), daemon=True).start()


if __name__ == "__main__":
    main()
