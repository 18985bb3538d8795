# SPDX-License-Identifier: Apache-2.0
# A host MCU on a pty, driving `smartcfg device --at` the way Tencent's AT test tool does
# (its command order, escapes and timeouts), for the tool-mode tests (at_gw.sh, at_ie.sh,
# at_tool_modes.sh). Not a test itself. Environment: SMARTCFG, T (temp dir), MQTT_PORT,
# UDP_PORT, optional CA (then the device verifies the cloud's MQTT/TLS listener with it),
# BASE and KEY (the cloud's HTTP API and admin key), EVENTS (the cloud's JSON event file).
import json, os, pty, select, ssl, subprocess, sys, time, urllib.error, urllib.request

E = os.environ


class Session:
    def __init__(self, state="state"):
        self.master, slave = pty.openpty()
        self.tls = E.get("CA", "") != ""
        args = [E["SMARTCFG"], "device", "--radio", "udp:" + E["UDP_PORT"], "--join", "sim:ap:password1:127.0.0.1",
                "--no-cloud", "--at", os.ttyname(slave), "--broker", "127.0.0.1:" + E["MQTT_PORT"],
                "--state-dir", E["T"] + "/" + state, "--log-level", "debug"]
        if self.tls:
            args += ["--ca-file", E["CA"]]
        self.dev = subprocess.Popen(args, stdout=open(E["T"] + "/dev.out", "ab"), stderr=open(E["T"] + "/dev.err", "ab"))
        os.close(slave)
        self.buf = b""
        self.transcript = []
        self.expect(b"ready\r\n", 15)
        self.cmd("ATE0", b"ATE0\r\nOK\r\n")

    def die(self, msg):
        sys.stderr.write("FAIL: %s\nunread: %r\nlast lines:\n%s\n" % (msg, self.buf[-600:], "\n".join(self.transcript[-30:])))
        self.dev.kill()
        sys.exit(1)

    def pump(self, t):
        r, _, _ = select.select([self.master], [], [], t)
        if r:
            try:
                self.buf += os.read(self.master, 65536)
            except OSError:
                pass

    def expect(self, lit, timeout=10.0):
        """Wait for the literal bytes; consume through them; return what came before."""
        end = time.time() + timeout
        while lit not in self.buf:
            if time.time() > end or self.dev.poll() is not None:
                self.die("no %r within %.0f s" % (lit, timeout))
            self.pump(0.2)
        i = self.buf.index(lit)
        before, self.buf = self.buf[:i], self.buf[i + len(lit):]
        self.transcript.append("<< %r" % (before + lit))
        return before

    def send(self, line):
        self.transcript.append(">> %.1f %s" % (time.time(), line))
        os.write(self.master, line.encode() + b"\r\n")

    def cmd(self, line, want, timeout=10.0):
        """Send a command; the reply must be exactly want (nothing unexpected before it)."""
        self.send(line)
        got = self.expect(want, timeout)
        if got.strip(b"\r\n"):
            self.die("%s: unexpected %r before %r" % (line, got, want))

    def lines(self, line, want, timeout=10.0):
        """Send a command whose reply lines may interleave (a QoS 1 PUBACK and our own message
        coming back): every line of want arrives, nothing else."""
        self.send(line)
        need = list(want)
        end = time.time() + timeout
        while need:
            if b"\r\n" in self.buf:
                first, self.buf = self.buf.split(b"\r\n", 1)
                self.transcript.append("<< %r" % first)
                if first not in need:
                    self.die("%s: unexpected line %r (still waiting for %r)" % (line, first, need))
                need.remove(first)
                continue
            if time.time() > end or self.dev.poll() is not None:
                self.die("%s: no %r within %.0f s" % (line, need, timeout))
            self.pump(0.2)

    def pub(self, topic, qos, msg, extra=()):
        """The tool's publish_msg: AT+TCMQTTPUB with its escapes, or AT+TCMQTTPUBL when the line
        would pass the ESP8266's 254-byte command limit. extra: lines that come with the reply
        (our own message coming back)."""
        line = 'AT+TCMQTTPUB="%s",%d,"%s"' % (topic, qos, escape(msg))
        if len(line) <= 254:
            self.lines(line, [b"OK", b"+TCMQTTPUB:OK"] + list(extra))
            return
        esc = escape(msg)
        self.cmd('AT+TCMQTTPUBL="%s",%d,%d' % (topic, qos, len(esc)), b"OK\r\n>\r\n")
        self.lines(esc, [b"+TCMQTTPUBL:OK"] + list(extra))

    def quiet(self, seconds):
        """Nothing arrives for this long (a message the broker must not deliver)."""
        end = time.time() + seconds
        while time.time() < end:
            self.pump(0.1)
            if self.buf:
                self.die("unexpected %r" % self.buf)

    def connect(self, p, d, psk):
        mode = 1 if self.tls else 0
        self.cmd('AT+TCDEVINFOSET=%d,"%s","%s","%s"' % (mode, p, d, psk), b"OK\r\n+TCDEVINFOSET:OK\r\n")
        self.cmd("AT+TCMQTTCONN=%d,10000,240,1,1" % mode, b"OK\r\n")
        self.expect(b"+TCMQTTCONN:OK\r\n", 20)
        self.cmd("AT+TCMQTTSTATE?", b"+TCMQTTSTATE:1\r\nOK\r\n")

    def hangup(self):
        self.cmd("AT+TCMQTTDISCONN", b"+TCMQTTDISCON,2\r\nOK\r\n")
        os.close(self.master)
        try:
            self.dev.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.die("the device did not exit after the hangup")


def escape(msg):
    """The tool's ESP8266 escapes (add_escapes_for_quote_comma): \\" and \\,."""
    return msg.replace('"', '\\"').replace(',', '\\,')


def hub_msg(text):
    """get_hub_test_msg's shape: multi-line JSON with a time and a random text."""
    return '{"action":"test",\n    "time":%d,\n    "text":"%s"}' % (int(time.time()), text)


def http(method, path, body=None):
    h = {"Authorization": "Bearer " + E["KEY"], "Content-Type": "application/json"}
    req = urllib.request.Request(E["BASE"] + path, data=body, method=method, headers=h)
    ctx = ssl.create_default_context(cafile=E["CA"]) if E.get("CA") and E["BASE"].startswith("https") else None
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def events(name):
    return [json.loads(l) for l in open(E["EVENTS"]) if '"event":"%s"' % name in l]


def poll(s, what, fn, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    s.die("timed out waiting for " + what)
