#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A scripted AT host on a pty, for the AT integration tests.

Usage: at_host.py SCRIPT -- DEVICE-COMMAND...
The device command gets the pty's slave path wherever an argument is "{tty}". SCRIPT lines:
  send <text>            send <text> + CRLF
  raw <python-literal>   send raw bytes (e.g. b"AT\\x01\\r\\n")
  expect <text>          wait (5 s) until the reply stream contains <text> + CRLF
  expect_re <regex>      wait until the reply stream matches (bytes regex)
  wait_re <seconds> <regex>  like expect_re, with a longer timeout
  wait <seconds> <text>  like expect, with a longer timeout
  absent <text>          <text> has not appeared in any reply so far
  sleep <seconds>
  touch <path>           create <path> (tells a helper of the test to go on)
  wait_file <seconds> <path>  wait until a helper of the test created <path>
  hangup                 close the pty; the device must exit within 5 s (exit code printed)
Replies are consumed up to the end of each match, so the same line can be expected again.
Exit 0 when every step passed; the full transcript goes to stderr."""
import ast
import os
import pty
import re
import select
import subprocess
import sys
import time


def main():
    sep = sys.argv.index("--")
    script = open(sys.argv[1]).read().splitlines()
    master, slave = pty.openpty()
    tty = os.ttyname(slave)
    cmd = [a.replace("{tty}", tty) for a in sys.argv[sep + 1:]]
    dev = subprocess.Popen(cmd, stdout=open(os.environ.get("AT_DEV_OUT", "/dev/null"), "wb"),
                           stderr=open(os.environ.get("AT_DEV_ERR", "/dev/null"), "wb"))
    os.close(slave)
    buf = b""
    seen = b""

    def pump(timeout):
        nonlocal buf, seen
        r, _, _ = select.select([master], [], [], timeout)
        if r:
            try:
                data = os.read(master, 4096)
            except OSError:
                data = b""
            buf += data
            seen += data
            sys.stderr.write("<< %r\n" % data)

    def wait_for(pattern, timeout):
        nonlocal buf
        end = time.time() + timeout
        while True:
            m = pattern.search(buf)
            if m:
                buf = buf[m.end():]
                return True
            if time.time() > end or dev.poll() is not None:
                return bool(pattern.search(buf))
            pump(0.05)

    # The device says "ready" once its line is set up (as an ESP-AT module does after boot);
    # before that, a command could meet the pty still in cooked mode. Generous: the machine may be busy.
    if not wait_for(re.compile(rb"ready\r\n"), 60):
        print("the device never said ready; pending %r" % buf)
        sys.exit(1)
    for n, line in enumerate(script, 1):
        if not line.strip() or line.startswith("#"):
            continue
        op, _, arg = line.partition(" ")
        sys.stderr.write(">> %s\n" % line)
        if op == "send":
            os.write(master, arg.encode() + b"\r\n")
        elif op == "raw":
            os.write(master, ast.literal_eval(arg))
        elif op in ("expect", "wait"):
            t = 5.0
            if op == "wait":
                t_s, _, arg = arg.partition(" ")
                t = float(t_s)
            if not wait_for(re.compile(re.escape(arg.encode() + b"\r\n")), t):
                print("line %d: did not get %r; pending %r" % (n, arg, buf))
                dev.kill()
                return 1
        elif op in ("expect_re", "wait_re"):
            t = 5.0
            if op == "wait_re":
                t_s, _, arg = arg.partition(" ")
                t = float(t_s)
            if not wait_for(re.compile(arg.encode()), t):
                print("line %d: no match for %r; pending %r" % (n, arg, buf))
                dev.kill()
                return 1
        elif op == "reply":
            # Byte for byte: the very next bytes on the line must be exactly these (a Python
            # bytes literal), e.g. reply b"OK\r\n+TCMQTTPUB:OK\r\n". Waits up to 15 s for them.
            want = ast.literal_eval(arg)
            end = time.time() + 15
            while len(buf) < len(want) and time.time() < end and dev.poll() is None:
                pump(0.05)
            if buf[:len(want)] != want:
                print("line %d: wanted %r; got %r" % (n, want, buf))
                dev.kill()
                return 1
            buf = buf[len(want):]
        elif op == "quiet":
            # Nothing at all arrives for this many seconds (no stray reply or URC).
            end = time.time() + float(arg)
            while time.time() < end:
                pump(0.05)
            if buf:
                print("line %d: unexpected %r" % (n, buf))
                dev.kill()
                return 1
        elif op == "absent":
            pump(0.2)
            if arg.encode() in seen:
                print("line %d: %r appeared" % (n, arg))
                dev.kill()
                return 1
        elif op == "sleep":
            time.sleep(float(arg))
        elif op == "touch":
            # Tells a helper of the test (a gate, a fake server) to go on.
            open(arg, "w").close()
        elif op == "wait_file":
            # Until a helper of the test says it got this far (e.g. holds a request).
            t_s, _, path = arg.partition(" ")
            end = time.time() + float(t_s)
            while not os.path.exists(path) and time.time() < end:
                pump(0.05)
            if not os.path.exists(path):
                print("line %d: %s never appeared; pending %r" % (n, path, buf))
                dev.kill()
                return 1
        elif op == "hangup":
            os.close(master)
            try:
                rc = dev.wait(timeout=5)
            except subprocess.TimeoutExpired:
                print("line %d: device did not exit after the hang-up" % n)
                dev.kill()
                return 1
            print("device exit %d" % rc)
            return 0
        else:
            print("line %d: bad script op %r" % (n, op))
            dev.kill()
            return 2
    dev.terminate()
    dev.wait(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
