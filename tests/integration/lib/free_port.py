#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""free_port.py OWNER_PID [N] -- prints N (default 1) loopback ports, one per line, leased to
OWNER_PID (a test script passes its $$) for as long as that process lives.

Why not bind(port 0) and close, as the tests once did: such a port lies in the kernel's
ephemeral range, so between the close and the server's bind -- and across a test's own
restart of a server on the same port -- any outgoing connection on the machine may be given it
as its local port, and the server then fails to start. On a busy machine with ctest running
many tests at once that happened (security_tls restarting the cloud). Here a port:
  - lies below the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), where the kernel
    never puts an outgoing connection;
  - is free for TCP and UDP on every address when it is handed out;
  - is leased in a directory shared by all tests (one file per port, created with O_EXCL,
    holding the owner's pid), so no two live tests are given the same port. A lease whose
    owner is dead is taken over. tests/support/test_util.c (tu_free_port) keeps the same leases.
"""
import errno
import os
import random
import socket
import sys

LEASES = os.environ.get("SMARTCFG_TEST_PORTS", "/tmp/smartcfg-test-ports")
LOW = 16000


def port_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    if lo - LOW >= 2000:
        return LOW, lo - 1
    if 65535 - hi >= 2000:
        return hi + 1, 65535
    return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lease(port, owner):
    path = os.path.join(LEASES, str(port))
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                with open(path) as f:
                    held = int(f.read().strip() or "0")
            except (OSError, ValueError):
                held = 0
            if held and alive(held):
                return False
            try:  # stale: its owner is gone
                os.unlink(path)
            except FileNotFoundError:
                pass
            continue
        os.write(fd, str(owner).encode())
        os.close(fd)
        return True
    return False


def bindable(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            if kind == socket.SOCK_STREAM:  # a TIME_WAIT left by our own earlier use is fine
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def kernel_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: free_port.py OWNER_PID [N]")
    owner = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = port_range()
    try:
        os.makedirs(LEASES, mode=0o1777, exist_ok=True)
        os.chmod(LEASES, 0o1777)
    except OSError as e:
        if e.errno != errno.EPERM:
            raise
    out = []
    for _ in range(n):
        if rng is None:  # no room outside the ephemeral range: the old way
            out.append(kernel_port())
            continue
        for _ in range(10000):
            p = random.randint(*rng)
            if p in out:
                continue
            if lease(p, owner):
                if bindable(p):
                    out.append(p)
                    break
                os.unlink(os.path.join(LEASES, str(p)))
        else:
            sys.exit("free_port.py: no free port")
    print("\n".join(str(p) for p in out))


if __name__ == "__main__":
    main()
