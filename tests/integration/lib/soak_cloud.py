#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Drives a running `smartcfg cloud` through many cycles and samples what a month-long run
# would accumulate (tests/integration/cloud_soak.sh). One cycle, each on fresh connections:
#   a bind token (tokenapi) -> the device connects over MQTT, sends app_bind_token, reads the
#   reply, leaves (clean DISCONNECT or a dropped socket, alternately) -> the token's state;
#   a login (AppGetToken), a dynamic registration of the same device again, a console login
#   (link, cookie, state page, logout), and hostile traffic: an unknown AccessToken, broken
#   JSON, a body over the limit, the admin API without its key, a bad dynreg signature, an
#   MQTT login with a wrong password, a malformed service message, a half-sent request, bare
#   connects that say nothing.
# Unauthenticated requests are limited per source address (5/s), so each cycle speaks from
# another address of 127/8 (HTTP and MQTT: the MQTT gate's per-address table churns too).
# At each cycle of --sample (and at 0) prints one JSON line: the cloud's and the broker's open
# fds, VmRSS (KiB) and threads, the rows of the tokens, dynreg_seen and access_tokens tables,
# the tokens expired more than --stale seconds ago, and the database's size (file + WAL, KiB).
# With --settle S: then waits S seconds, sends one request (the collection runs on requests)
# and prints the tokens left ("settled_tokens" in the last line).
# usage: soak_cloud.py --http H:P --mqtt H:P --admin-key K --access T --user NAME --password PW
#        --product P --product-secret S --device D --psk PSK --db FILE --pid CLOUDPID
#        --cycles N --sample 100,600 [--stale S] [--settle S]
import argparse, base64, hashlib, hmac, http.client, json, os, random, socket, sqlite3, sys, time

from mqtt_wire import connect, packet, read_packet, s16



def proc_stats(pid):
    st = {"fds": len(os.listdir(f"/proc/{pid}/fd"))}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k == "VmRSS":
                st["rss_kb"] = int(v.split()[0])
            elif k == "Threads":
                st["threads"] = int(v)
    return st


def children(pid):
    out = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


class Soak:
    def __init__(self, a):
        self.a = a
        self.hh, hp = a.http.rsplit(":", 1)
        self.hp = int(hp)
        self.mh, mp = a.mqtt.rsplit(":", 1)
        self.mp = int(mp)
        self.n = 0
        self.errors = []

    def src(self):
        # 127.0.<1..200>.<2..201>: a new address per cycle, for the per-address budgets
        return ("127.0.%d.%d" % (1 + (self.n // 200) % 200, 2 + self.n % 200), 0)

    def http(self, method, path, body=None, headers=None, src=True):
        c = http.client.HTTPConnection(self.hh, self.hp, timeout=30,
                                       source_address=self.src() if src else None)
        try:
            h = {"Content-Type": "application/json"}
            h.update(headers or {})
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read(), r
        finally:
            c.close()

    def tokenapi(self, action, params, access=None):
        body = dict(params, Action=action, RequestId="soak-%d" % self.n,
                    AccessToken=access if access is not None else self.a.access)
        st, data, _ = self.http("POST", "/tokenapi?cmd=" + action, json.dumps(body))
        return st, json.loads(data) if data[:1] == b"{" else data

    def check(self, cond, what):
        if not cond:
            self.errors.append("cycle %d: %s" % (self.n, what))
            if len(self.errors) > 5:
                raise SystemExit("soak: " + "; ".join(self.errors))

    # --- MQTT -----------------------------------------------------------------------------
    def mqtt_login(self, password_ok=True):
        p, d = self.a.product, self.a.device
        user = "%s%s;21010406;%05d;%d" % (p, d, self.n % 100000, 2147483647)
        key = base64.b64decode(self.a.psk)
        sig = hmac.new(key if password_ok else b"wrong key", user.encode(), hashlib.sha256).hexdigest()
        s = socket.create_connection((self.mh, self.mp), timeout=20, source_address=self.src())
        s.sendall(connect(p + d, user, sig + ";hmacsha256"))
        kind, b = read_packet(s)
        return s, kind, b

    def mqtt_bind(self, token):
        p, d = self.a.product, self.a.device
        s, kind, b = self.mqtt_login()
        try:
            self.check(kind == 0x20 and b[1] == 0, "CONNACK %02x %r" % (kind, b))
            down = "$thing/down/service/%s/%s" % (p, d)
            s.sendall(packet(0x82, b"\x00\x01" + s16(down) + b"\x01"))
            kind, b = read_packet(s)
            self.check(kind == 0x90 and b[2] in (0, 1), "SUBACK %02x %r" % (kind, b))
            ct = "soak-%d" % self.n
            if self.n % 7 == 3:   # a malformed service message first: answered 400
                s.sendall(packet(0x30, s16("$thing/up/service/%s/%s" % (p, d)) + b"{not json"))
            msg = json.dumps({"method": "app_bind_token", "clientToken": ct, "params": {"token": token}})
            s.sendall(packet(0x30, s16("$thing/up/service/%s/%s" % (p, d)) + msg.encode()))
            deadline = time.time() + 20
            while time.time() < deadline:
                kind, b = read_packet(s)
                if kind >> 4 != 3:
                    continue
                tl = int.from_bytes(b[:2], "big")
                off = 2 + tl + (2 if kind & 0x06 else 0)
                if kind & 0x06:   # QoS 1: PUBACK
                    s.sendall(packet(0x40, b[2 + tl:4 + tl]))
                r = json.loads(b[off:])
                if r.get("clientToken") == ct:
                    self.check(r.get("code") == 0, "bind reply %r" % r)
                    break
            else:
                self.check(False, "no bind reply")
            if self.n % 2:
                s.sendall(b"\xe0\x00")   # DISCONNECT; else the socket just drops
        finally:
            s.close()

    def hostile(self):
        k = self.n % 9
        if k == 0:
            st, r = self.tokenapi("AppCreateDeviceBindToken", {}, access="0" * 32)
            self.check(st in (200, 401, 403, 429), "unknown AccessToken: %s" % st)
        elif k == 1:
            st, _, _ = self.http("POST", "/tokenapi?cmd=AppGetToken", "{\"Action\":")
            self.check(st in (200, 400, 429), "broken JSON: %s" % st)
        elif k == 2:
            st, _, _ = self.http("POST", "/tokenapi?cmd=AppGetToken", "x" * 20000)
            self.check(st in (413, 429), "big body: %s" % st)
        elif k == 3:
            st, _, _ = self.http("GET", "/v1/products")
            self.check(st in (401, 429), "admin without key: %s" % st)
        elif k == 4:
            body = json.dumps({"deviceName": self.a.device, "nonce": self.n, "productId": self.a.product,
                               "timestamp": int(time.time()), "signature": "AAAA"})
            st, _, _ = self.http("POST", "/register/dev", body)
            self.check(st in (200, 400, 401, 403, 429), "bad dynreg: %s" % st)
        elif k == 5:
            s, kind, b = self.mqtt_login(password_ok=False)
            s.close()
            self.check(kind == 0x20 and b[1] != 0, "wrong password accepted")
        elif k == 6:   # half a request, then gone
            s = socket.create_connection((self.hh, self.hp), timeout=10, source_address=self.src())
            s.sendall(b"POST /tokenapi HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"Act")
            s.close()
        elif k == 7:   # connects that say nothing
            for hp in ((self.hh, self.hp), (self.mh, self.mp)):
                socket.create_connection(hp, timeout=10, source_address=self.src()).close()
        else:   # an MQTT CONNECT cut in the middle
            s = socket.create_connection((self.mh, self.mp), timeout=10, source_address=self.src())
            s.sendall(b"\x10\x40\x00\x04MQ")
            s.close()

    def dynreg(self):
        ts, nonce = int(time.time()), random.randint(1, 2**31 - 1)
        msg = "deviceName=%s&nonce=%d&productId=%s&timestamp=%d" % (self.a.device, nonce, self.a.product, ts)
        sig = base64.b64encode(hmac.new(self.a.product_secret.encode(), msg.encode(), hashlib.sha1)
                               .hexdigest().encode()).decode()
        body = json.dumps({"deviceName": self.a.device, "nonce": nonce, "productId": self.a.product,
                           "timestamp": ts, "signature": sig})
        st, data, _ = self.http("POST", "/register/dev", body)
        self.check(st == 200 and json.loads(data).get("code") == 0, "dynreg: %s %r" % (st, data[:200]))

    def console(self):
        adm = {"Authorization": "Bearer " + self.a.admin_key}
        st, data, _ = self.http("POST", "/v1/console/login", "", adm)
        self.check(st == 201, "console link: %s" % st)
        url = json.loads(data)["console_url"]
        st, _, r = self.http("GET", url[url.index("/console/login"):])
        cookie = (r.getheader("Set-Cookie") or "").split(";")[0]
        self.check(st in (302, 303) and cookie.startswith("sc_console="), "console login: %s" % st)
        st, data, _ = self.http("GET", "/console/api/state", None, {"Cookie": cookie})
        self.check(st == 200, "console state: %s" % st)
        csrf = json.loads(data).get("csrf", "")
        st, _, _ = self.http("POST", "/console/logout", "", {"Cookie": cookie, "X-CSRF-Token": csrf})
        self.check(st in (200, 204, 302, 303), "console logout: %s" % st)

    def cycle(self):
        st, r = self.tokenapi("AppCreateDeviceBindToken", {})
        self.check(st == 200 and isinstance(r, dict) and r.get("code") == 0, "token: %s %r" % (st, r))
        tok = r["data"]["Token"]
        self.mqtt_bind(tok)
        st, r = self.tokenapi("AppGetDeviceBindTokenState", {"Token": tok})
        self.check(st == 200 and r.get("data", {}).get("State") == 2, "state after bind: %r" % r)
        st, data, _ = self.http("POST", "/tokenapi?cmd=AppGetToken", json.dumps(
            {"Action": "AppGetToken", "UserName": self.a.user, "Password": self.a.password}))
        self.check(st == 200, "login: %s" % st)
        # as an app does: the new AccessToken from now on (a user keeps its newest 20, F29)
        self.a.access = json.loads(data)["data"]["Token"]
        if self.n % 3 == 0:
            self.dynreg()
        if self.n % 5 == 0:
            self.console()
        self.hostile()

    def sample(self):
        out = {"cycle": self.n}
        pid = self.a.pid
        out["cloud"] = proc_stats(pid)
        kids = children(pid)
        if kids:
            out["broker"] = proc_stats(kids[0])
        db = sqlite3.connect("file:%s?mode=ro" % self.a.db, uri=True, timeout=10)
        for t in ("tokens", "dynreg_seen", "access_tokens"):
            out[t] = db.execute("SELECT count(*) FROM " + t).fetchone()[0]
        # tokens expired more than --stale seconds ago: the collection should have taken them
        out["stale_tokens"] = db.execute("SELECT count(*) FROM tokens WHERE expire < ?",
                                         (int(time.time()) - self.a.stale,)).fetchone()[0]
        db.close()
        out["db_kb"] = sum(os.path.getsize(self.a.db + x) // 1024 for x in ("", "-wal")
                           if os.path.exists(self.a.db + x))
        print(json.dumps(out), flush=True)


def main():
    ap = argparse.ArgumentParser()
    for o in ("http", "mqtt", "admin-key", "access", "user", "password", "product", "product-secret",
              "device", "psk", "db"):
        ap.add_argument("--" + o, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--cycles", type=int, required=True)
    ap.add_argument("--sample", default="")
    ap.add_argument("--stale", type=int, default=5)
    ap.add_argument("--settle", type=float, default=0)
    a = ap.parse_args()
    marks = {int(x) for x in a.sample.split(",") if x}
    s = Soak(a)
    s.sample()
    t0 = time.time()
    for s.n in range(1, a.cycles + 1):
        s.cycle()
        if s.n in marks:
            time.sleep(0.3)   # let the last cycle's closes reach the servers
            s.sample()
    done = {"cycles": a.cycles, "seconds": round(time.time() - t0, 1), "errors": s.errors}
    if a.settle:
        # Every token is past its expiry and the collection's grace now; one request runs the
        # collection: what stays is what it keeps for good (the device's newest bound token).
        time.sleep(a.settle)
        s.http("GET", "/v1/products", None, {"Authorization": "Bearer " + a.admin_key})
        time.sleep(0.2)
        db = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True, timeout=10)
        done["settled_tokens"] = db.execute("SELECT count(*) FROM tokens").fetchone()[0]
        db.close()
    print(json.dumps(done), flush=True)
    return 1 if s.errors else 0


if __name__ == "__main__":
    sys.exit(main())
