#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Drives headless Chromium (Debian's) over the DevTools protocol with the standard library
only: a minimal websocket client (RFC 6455, client frames masked) and a few CDP calls.
Usage: console_cdp.py PROFILE_DIR SCRIPT.json — reads steps from the JSON file:
  ["goto", url] ["eval", js] (fails if the result is falsy) ["wait", js, seconds]
  ["shot", path] ["print", js] ["save", js, path] ["sh", command] (fails on a non-zero exit)."""
import base64, json, os, re, socket, struct, subprocess, sys, time, urllib.parse

class WS:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.s = socket.create_connection((u.hostname, u.port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.s.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise SystemExit("websocket handshake refused: %r" % head[:80])

    def send(self, text):
        data, mask = text.encode(), os.urandom(4)
        n = len(data)
        hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
                               if n < 65536 else bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise SystemExit("browser closed the websocket")
            b += c
        return b

    def recv(self):
        msg = b""
        while True:
            h = self._read(2)
            n = h[1] & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            msg += self._read(n)
            if h[0] & 0x80:
                return msg.decode()

class Browser:
    def __init__(self, profile):
        self.p = subprocess.Popen(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                                   "--no-first-run", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                                   f"--user-data-dir={profile}", "--window-size=1200,1000", "about:blank"],
                                  stderr=subprocess.PIPE, text=True)
        for line in self.p.stderr:
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                break
        else:
            raise SystemExit("chromium did not start")
        self.ws, self.id = WS(m.group(1)), 0
        t = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.sid = self.call("Target.attachToTarget", targetId=t, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)

    def call(self, method, session=False, **params):
        self.id += 1
        msg = {"id": self.id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.sid
        self.ws.send(json.dumps(msg))
        while True:
            r = json.loads(self.ws.recv())
            if r.get("method") == "Runtime.consoleAPICalled":
                print("console:", [a.get("value") for a in r["params"]["args"]], file=sys.stderr)
            if r.get("id") == self.id:
                if "error" in r:
                    raise SystemExit(f"{method}: {r['error']}")
                return r["result"]

    def eval(self, js, quiet=False):
        r = self.call("Runtime.evaluate", session=True, expression=js, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in r and quiet:
            return None   # waiting: the page may be between documents
        if "exceptionDetails" in r:
            raise SystemExit(f"page threw on {js!r}: {r['exceptionDetails'].get('exception', {}).get('description')}")
        return r["result"].get("value")

    def close(self):
        self.p.terminate()
        self.p.wait(timeout=10)

def main():
    b = Browser(sys.argv[1])
    try:
        for step in json.load(open(sys.argv[2])):
            op = step[0]
            if op == "goto":
                b.call("Page.navigate", session=True, url=step[1])
            elif op == "eval":
                if not b.eval(step[1]):
                    raise SystemExit(f"FAIL: false: {step[1]}")
            elif op == "wait":
                end = time.monotonic() + step[2]
                while not b.eval(step[1], quiet=True):
                    if time.monotonic() > end:
                        raise SystemExit(f"FAIL: not within {step[2]} s: {step[1]}")
                    time.sleep(0.1)
            elif op == "print":
                print(b.eval(step[1]), flush=True)
            elif op == "save":
                open(step[2], "w").write(str(b.eval(step[1])))
            elif op == "sh":
                subprocess.run(["bash", "-c", step[1]], check=True)
            elif op == "shot":
                png = b.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True)["data"]
                open(step[1], "wb").write(base64.b64decode(png))
            print("step ok:", op, str(step[1])[:70], file=sys.stderr, flush=True)
    finally:
        b.close()

main()
