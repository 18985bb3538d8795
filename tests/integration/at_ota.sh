#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# OTA over AT against the local cloud (docs/ota.md), as Tencent's AT test tool's OTA mode drives
# it: a host on a pty connects MQTT, AT+TCOTASET=1 (the cloud records the reported version),
# the cloud gets a firmware upload and pushes the update, +TCOTASTATUS:ENTERUPDATE then
# UPDATESUCCESS, AT+TCFWINFO?, AT+TCREADFWDATA in 2048-byte chunks: the bytes and MD5 equal
# the upload. The cloud cuts the first download after 50000 bytes: the device resumes with a
# Range and the cloud's progress records end in "done". A corrupted image on the cloud ends
# in +TCOTASTATUS:UPDATEFAIL,-4 and the old image stays. Bad input: TCREADFWDATA sizes,
# TCOTASET parameters, a malformed update message, a Range past the end. Then the tool's TLS
# run: mode 1 on the cloud's MQTT/TLS listener and an HTTPS download, both with --ca-file.
set -euo pipefail
. "$(dirname "$0")/lib/cloud.bash"
export SMARTCFG_CLOUD_OTA_CUT_AFTER=50000
NO_LOGIN=1 start_cloud
P=OTAPROD001
D=ota_dev1
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices "{\"device_name\":\"$D\"}" | jget device_secret)
head -c 150000 /dev/urandom >"$T/fw-1.3.0.bin"
head -c 70000 /dev/urandom >"$T/fw-1.4.0.bin"
up() { curl -sS --max-time 10 -X POST -H "$(admin_auth)" --data-binary "@$2" "$BASE/v1/products/$P/firmware?version=$1"; }
r=$(up 1.3.0 "$T/fw-1.3.0.bin")
[ "$(echo "$r" | jget md5)" = "$(md5sum <"$T/fw-1.3.0.bin" | cut -d' ' -f1)" ] || fail "upload: $r"
up 1.4.0 "$T/fw-1.4.0.bin" >/dev/null
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary "@$T/fw-1.4.0.bin" "$BASE/v1/products/$P/firmware?version=9.9.9")
[ "$code" = 401 ] || fail "an upload without the admin key got $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "$(admin_auth)" --data-binary "@$T/fw-1.4.0.bin" "$BASE/v1/products/$P/firmware?version=1.3.0")
[ "$code" = 409 ] || fail "a second upload of 1.3.0 got $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "$(admin_auth)" --data-binary "@$T/fw-1.4.0.bin" "$BASE/v1/products/$P/firmware?version=a/b")
[ "$code" = 400 ] || fail "a bad version got $code"
ok "firmware uploads: MD5 computed; no key 401, duplicate 409, bad version 400"

cat >"$T/drive.py" <<'PYEOF'
import glob, hashlib, json, os, pty, re, select, sqlite3, ssl, subprocess, sys, time, urllib.request, urllib.error

E = os.environ
T, P, D = E["T"], E["P"], E["D"]
master, slave = pty.openpty()
TLS = E.get("CA", "") != ""
dev = subprocess.Popen([E["SMARTCFG"], "device", "--radio", "udp:" + E["UDP_PORT"], "--join",
                        "sim:ap:password1:127.0.0.1", "--no-cloud", "--at", os.ttyname(slave),
                        "--broker", "127.0.0.1:" + E["MQTT_PORT"], "--state-dir", T + "/state",
                        "--log-level", "debug"] + (["--ca-file", E["CA"]] if TLS else []),
                       stdout=open(T + "/dev.out", "wb"), stderr=open(T + "/dev.err", "wb"))
os.close(slave)
buf = b""

def die(msg):
    sys.stderr.write("FAIL: %s\nunread: %r\n" % (msg, buf[-600:]))
    dev.kill()
    sys.exit(1)

def pump(t):
    global buf
    r, _, _ = select.select([master], [], [], t)
    if r:
        try:
            buf += os.read(master, 65536)
        except OSError:
            pass

def expect(lit, timeout=10.0):
    """Wait for the literal bytes; consume through them; return what came before."""
    global buf
    end = time.time() + timeout
    while lit not in buf:
        if time.time() > end or dev.poll() is not None:
            die("no %r within %.0f s" % (lit, timeout))
        pump(0.2)
    i = buf.index(lit)
    before, buf = buf[:i], buf[i + len(lit):]
    return before

def cmd(line, want, timeout=10.0):
    """Send a command; the reply must be exactly want (bytes) once it is all there."""
    global buf
    os.write(master, line.encode() + b"\r\n")
    got = expect(want, timeout)
    if got.strip(b"\r\n"):
        die("%s: unexpected %r before %r" % (line, got, want))

def http(method, path, body=None, headers=None):
    h = {"Authorization": "Bearer " + E["KEY"]}
    h.update(headers or {})
    req = urllib.request.Request(E["BASE"] + path, data=body, method=method, headers=h)
    ctx = ssl.create_default_context(cafile=E["CA"]) if TLS else None
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)

def events(name):
    return [json.loads(l) for l in open(T + "/cloud.events") if '"event":"%s"' % name in l]

def poll(what, fn, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    die("timed out waiting for " + what)

def hangup(restore=False):
    cmd("AT+TCMQTTDISCONN", b"+TCMQTTDISCON,2\r\nOK\r\n")
    if restore:   # AT+TCRESTORE forgets the image too (the PDF)
        cmd("AT+TCRESTORE", b"OK\r\nready\r\n")   # then echo is on again, as after a reboot
        cmd("AT+TCFWINFO?", b"AT+TCFWINFO?\r\n+CME ERROR:205\r\n")
    os.close(master)
    try:
        dev.wait(timeout=10)
    except subprocess.TimeoutExpired:
        die("the device did not exit after the hangup")
    print("session ok")
    sys.exit(0)

def connect():
    # the tool's own parameters over TLS (mode 1, the cloud's MQTT/TLS listener)
    mode = 1 if TLS else 0
    cmd('AT+TCDEVINFOSET=%d,"%s","%s","%s"' % (mode, P, D, E["PSK"]), b"OK\r\n+TCDEVINFOSET:OK\r\n")
    cmd("AT+TCMQTTCONN=%d,10000,240,1,1" % mode, b"OK\r\n")
    expect(b"+TCMQTTCONN:OK\r\n", 15)

def enable(version):
    # +TCOTASET:OK says the subscription was sent; the cloud's record of the version report
    # (sent after it on the same connection) says the broker has it: only then push.
    n = len(events("ota_version"))
    cmd('AT+TCOTASET=1,"%s"' % version, b"OK\r\n+TCOTASET:OK\r\n")
    poll("the reported version " + version, lambda: len(events("ota_version")) > n and
         events("ota_version")[-1].get("version") == version)

def update(version, urc, timeout=60):
    st, body, _ = http("POST", "/v1/products/%s/devices/%s/ota" % (P, D), b'{"version":"%s"}' % version.encode(),
                       {"Content-Type": "application/json"})
    if st != 202:
        die("start update %s: %d %r" % (version, st, body))
    expect(b"+TCOTASTATUS:ENTERUPDATE\r\n", 15)
    expect(urc, timeout)

def fwinfo_is(version, data):
    cmd("AT+TCFWINFO?", b'OK\r\n+TCFWINFO:"%s",%d,"%s",16777216\r\n' % (version.encode(), len(data),
                                                                        hashlib.md5(data).hexdigest().encode()))

expect(b"ready\r\n", 15)
if TLS:
    # HTTPS: the download verifies the cloud's certificate with --ca-file; the image uploaded
    # before the restart is still there (durable), a new one arrives over TLS.
    fw5 = open(T + "/fw-1.5.0.bin", "rb").read()
    cmd("ATE0", b"ATE0\r\nOK\r\n")
    fwinfo_is("1.3.0", open(T + "/fw-1.3.0.bin", "rb").read())
    connect()
    enable("1.3.0")
    update("1.5.0", b"+TCOTASTATUS:UPDATESUCCESS\r\n")
    fwinfo_is("1.5.0", fw5)
    hangup(restore=True)

fw = open(T + "/fw-1.3.0.bin", "rb").read()
md5 = hashlib.md5(fw).hexdigest()

cmd("ATE0", b"ATE0\r\nOK\r\n")
# before any image: 205; OTA needs the MQTT session: 208; bad parameters: 204
cmd("AT+TCFWINFO?", b"+CME ERROR:205\r\n")
cmd("AT+TCREADFWDATA=512", b"+CME ERROR:205\r\n")
cmd("AT+TCOTASET=?", b'+TCOTASET:1(ENABLE)/0(DISABLE),"FW_version"\r\nOK\r\n')
cmd("AT+TCFWINFO=?", b'+TCFWINFO:"FW_VERSION","FW_SIZE","FW_MD5","FW_MAX_SIZE_OF_MODULE"\r\nOK\r\n')
cmd("AT+TCREADFWDATA=?", b'+TCREADFWDATA:"LEN_FOR_READ"\r\nOK\r\n')
cmd('AT+TCOTASET=1,"1.0.0"', b"+CME ERROR:208\r\n")
connect()
for bad in ['AT+TCOTASET=2,"1.0.0"', 'AT+TCOTASET=1,""', 'AT+TCOTASET=1,"%s"' % ("9" * 33), 'AT+TCOTASET=1',
            'AT+TCOTASET="1","1.0.0"', 'AT+TCOTASET=1,"1.0.0",3', "AT+TCREADFWDATA=0", "AT+TCREADFWDATA=-1",
            "AT+TCREADFWDATA=2049", 'AT+TCREADFWDATA="12"', "AT+TCREADFWDATA=1,2"]:
    cmd(bad, b"+CME ERROR:204\r\n")
cmd("AT+TCOTASET?", b'OK\r\n+TCOTASET:0,""\r\n')

# enable: the cloud records the version the device reports
enable("1.0.0")
cmd("AT+TCOTASET?", b'OK\r\n+TCOTASET:1,"1.0.0"\r\n')
st, body, _ = http("GET", "/v1/products/%s/devices/%s/ota" % (P, D))
if st != 200 or json.loads(body).get("reported_version") != "1.0.0":
    die("status record: %d %r" % (st, body))

# a malformed update message on the device's topic changes nothing
subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", E["MQTT_PORT"], "-t", "$ota/update/%s/%s" % (P, D),
                "-m", '{"type":"update_firmware","url":"ftp://x","md5sum":"zz","file_size":-1}'], timeout=10,
               capture_output=True)
cmd("AT+TCOTASET?", b'OK\r\n+TCOTASET:1,"1.0.0"\r\n')

# the update: pushed, downloaded (the first connection is cut at 50000 bytes), checked, stored
update("1.3.0", b"+TCOTASTATUS:UPDATESUCCESS\r\n")
dl = events("ota_download")
if len(dl) < 2 or dl[0]["from"] != 0 or not any(e["from"] == 50000 for e in dl[1:]):
    die("expected a cut download and a resume from byte 50000: %r" % dl)
poll("progress done", lambda: any(e.get("state") == "done" and e.get("version") == "1.3.0" for e in events("ota_progress")))
states = [e["state"] for e in events("ota_progress")]
if states[0] != "downloading" or "burning" not in states or states[-1] != "done":
    die("progress states %r" % states)
st, body, _ = http("GET", "/v1/products/%s/devices/%s/ota" % (P, D))
rec = json.loads(body)
if rec.get("state") != "done" or rec.get("version") != "1.3.0":
    die("status after the update: %r" % rec)
cmd('AT+TCOTASET=0,"1.0.0"', b"OK\r\n+TCOTASET:OK\r\n")
cmd("AT+TCMQTTDISCONN", b"+TCMQTTDISCON,2\r\nOK\r\n")   # the tool reads the image with MQTT down

# the host reads the image back in 2048-byte chunks, as the test tool does
fwinfo_is("1.3.0", fw)
got = b""
while len(got) < len(fw):
    os.write(master, b"AT+TCREADFWDATA=2048\r\n")
    expect(b"OK\r\n+TCREADFWDATA:")
    head = expect(b",")
    n = int(head)
    while len(buf) < n + 2:
        pump(0.5)
    if buf[n:n + 2] != b"\r\n":
        die("chunk of %d not followed by CRLF" % n)
    got += buf[:n]
    buf = buf[n + 2:]
    if n < 2048:
        break
if got != fw or hashlib.md5(got).hexdigest() != md5:
    die("read back %d bytes, not the upload's %d" % (len(got), len(fw)))
cmd("AT+TCREADFWDATA=2048", b"+CME ERROR:208\r\n")   # read completely: rewind with AT+TCFWINFO?
fwinfo_is("1.3.0", fw)
os.write(master, b"AT+TCREADFWDATA=16\r\n")
expect(b"OK\r\n+TCREADFWDATA:16,")
while len(buf) < 18:
    pump(0.5)
if buf[:16] != fw[:16]:
    die("AT+TCFWINFO? did not rewind")
buf = buf[18:]

st, body, hd = http("GET", "/ota/" + "0" * 32)
if st != 404:
    die("unknown image token: %d" % st)

# a corrupted image on the cloud: UPDATEFAIL,-4, progress "fail", the stored image unchanged
db = sqlite3.connect(T + "/cloud.db")
tok = db.execute("SELECT token FROM ota_firmware WHERE product_id=? AND version='1.4.0'", (P,)).fetchone()[0]
db.close()
st, body, hd = http("GET", "/ota/" + tok, headers={"Range": "bytes=70000-"})
if st != 416 or hd.get("Content-Range") != "bytes */70000":
    die("Range past the end: %d %r %r" % (st, hd.get("Content-Range"), body))
st, body, hd = http("GET", "/ota/" + tok, headers={"Range": "bytes=x-"})
if st != 400:
    die("malformed Range: %d" % st)
st, body, hd = http("GET", "/ota/" + tok, headers={"Range": "bytes=69990-"})
if st != 206 or body != open(T + "/fw-1.4.0.bin", "rb").read()[69990:] or hd.get("Content-Range") != "bytes 69990-69999/70000":
    die("Range tail: %d %r" % (st, hd.get("Content-Range")))
path = glob.glob(T + "/firmware/" + tok + ".bin")[0]
data = bytearray(open(path, "rb").read())
data[1234] ^= 0xff
open(path, "wb").write(data)
connect()
enable("1.3.0")
update("1.4.0", b"+TCOTASTATUS:UPDATEFAIL,-4\r\n")
poll("progress fail", lambda: any(e.get("state") == "fail" and e.get("result_code") == -4 for e in events("ota_progress")))
fwinfo_is("1.3.0", fw)
if os.path.exists(T + "/state/ota-image.part"):
    die("the failed download's partial image was left behind")

# the admin endpoints' bad input
for path, body, want in [("/v1/products/%s/devices/%s/ota" % (P, D), b'{"version":"7.7.7"}', 404),
                         ("/v1/products/%s/devices/nobody/ota" % P, b'{"version":"1.3.0"}', 404),
                         ("/v1/products/%s/devices/%s/ota" % (P, D), b'not json', 400),
                         ("/v1/products/%s/devices/%s/ota" % (P, D), b'{"version":"a\\"b"}', 400)]:
    st, b2, _ = http("POST", path, body, {"Content-Type": "application/json"})
    if st != want:
        die("%s %r: %d, wanted %d (%r)" % (path, body, st, want, b2))
hangup()
PYEOF
drive() { # [CA]
    SMARTCFG=$SMARTCFG BASE=$BASE KEY=$(cat "$ADMIN_KEY_FILE") P=$P D=$D PSK=$PSK T=$T MQTT_PORT=$MQTT_PORT \
        UDP_PORT=$(free_port) CA=${1:-} timeout 240 python3 "$T/drive.py" || fail "AT OTA session (transcript: see above)"
}
drive
ok "AT OTA: version report, update with a cut-and-resumed download, UPDATESUCCESS, TCFWINFO?, chunked read = upload (bytes, MD5)"
ok "a corrupted image: UPDATEFAIL,-4, old image kept; bad AT parameters 204/205/208; Range past the end 416"

# the ACL: a device may not publish on another device's $ota topic
PSK2=$(post /v1/products/$P/devices '{"device_name":"ota_dev2"}' | jget device_secret)
creds "$P" ota_dev2 "$PSK2" sha256
if mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -t "\$ota/report/$P/$D" \
    -m '{"type":"report_version","report":{"version":"6.6.6"}}' 2>/dev/null; then :; fi
for _ in $(seq 600); do grep -q '"event":"topic_refused"' "$T/cloud.events" && break; sleep 0.1; done
grep -q '"event":"topic_refused".*\$ota/report/'"$P/$D" "$T/cloud.events" || fail "another device's \$ota topic was not refused"
grep -q '"version":"6.6.6"' "$T/cloud.events" && fail "another device's report was recorded"
ok "the ACL keeps a device to its own \$ota topics"
grep -qF -- "$PSK" "$T"/dev.out "$T"/dev.err && fail "the device secret was printed"

# TLS, as the tool runs it (mode 1): the same cloud restarted with --tls --mqtts; the images
# survived the restart; the device checks the cloud's certificate (--ca-file) on MQTT and on
# the download.
stop_cloud
BASE="https://127.0.0.1:$HTTP_PORT"
CURL_TLS=(--cacert "$T/tls/ca.crt")
MQTTS_PORT=$(free_port)
NO_LOGIN=1 start_cloud --tls --mqtts 127.0.0.1:$MQTTS_PORT
head -c 40000 /dev/urandom >"$T/fw-1.5.0.bin"
up=$(curl -sS --max-time 10 "${CURL_TLS[@]}" -X POST -H "$(admin_auth)" --data-binary "@$T/fw-1.5.0.bin" \
    "$BASE/v1/products/$P/firmware?version=1.5.0") || fail "upload over HTTPS: curl"
grep -q '"version":"1.5.0"' <<<"$up" || fail "upload over HTTPS: $up"
# The device's wall clock at 1970 (not set yet: a module without an RTC before SNTP answers; the
# shim of integ.cloud_wallclock, in the device only): the MQTT login and the HTTPS download go
# through, the certificate's chain and name checked, not its dates (F205, F206; before: MQTT
# connect refused, the certificate "not yet valid").
wall_1970
MQTT_PORT=$MQTTS_PORT with_wallclock drive "$T/tls/ca.crt"
grep -q '"event":"ota_download","t_ms":[0-9]*,"from":0,"bytes":40000' "$T/cloud.events" || fail "no HTTPS download of 1.5.0"
! grep 'wallclock:' "$T/dev.err" >&2 || fail "the device waited on the wall clock (above; F203)"
ok "TLS: MQTT mode 1 and an HTTPS download, both verifying the cloud's CA, by a device whose clock reads 1970; images survive a restart; AT+TCRESTORE forgets the image"
stop_cloud
