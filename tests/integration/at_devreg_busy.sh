#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# AT+TCDEVREG runs in the background: while the registration's HTTP exchange is open the AT
# line answers "busy p..." to every other command (as the reference module does) instead of
# going deaf, and the result arrives as a URC. The test owns the exchange's duration: a gate
# in front of the local cloud's /register/dev holds request K until the script creates
# release-K. A server that accepts and never answers gives the reference's HTTP timeout,
# +TCDEVREG:FAIL,-11, after which the line answers again. No secret shows anywhere.
set -euo pipefail
. "$(dirname "$0")/lib/cloud.bash"
. "$(dirname "$0")/lib/at_session.bash"
start_cloud
P=ATBUSY0001
PSEC=$(post /v1/products "{\"product_id\":\"$P\"}" | jget product_secret)

GATE_PORT=$(free_port)
SILENT_PORT=$(free_port)
cat >"$T/gate.py" <<'EOF'
import http.server, os, sys, time, urllib.request
port, upstream, dir_ = int(sys.argv[1]), sys.argv[2], sys.argv[3]
count = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        count += 1
        k = count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        open(os.path.join(dir_, "req-%d" % k), "w").close()
        end = time.time() + 120
        while not os.path.exists(os.path.join(dir_, "release-%d" % k)) and time.time() < end:
            time.sleep(0.05)
        req = urllib.request.Request(upstream, data=body, headers={"Content-Type": self.headers.get("Content-Type")})
        with urllib.request.urlopen(req, timeout=30) as r:
            data = r.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
python3 "$T/gate.py" "$GATE_PORT" "$BASE/register/dev" "$T" 2>"$T/gate.err" &
GATE=$!
# Accepts connections (the kernel's backlog) and never answers.
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(600)' "$SILENT_PORT" &
SILENT=$!
for _ in $(seq 600); do
    curl -s -o /dev/null "http://127.0.0.1:$GATE_PORT/" 2>/dev/null && break
    sleep 0.1
done


cat >"$T/s1" <<EOF
send ATE0
expect OK
send AT+TCPRDINFOSET=0,"$P","$PSEC","busy_dev"
expect +TCPRDINFOSET:OK
send AT+TCDEVREG
expect OK
wait_file 60 $T/req-1
send AT
expect busy p...
send AT+GMR
expect busy p...
send AT+TCDEVREG
expect busy p...
absent +TCDEVREG:
touch $T/release-1
wait 60 +TCDEVREG:OK
send AT
expect OK
send AT+TCDEVINFOSET?
expect_re \+TCDEVINFOSET:0,"$P","busy_dev",[0-9]+,"ap-guangzhou"\r\n
send AT+TCMQTTCONN=0,5000,60,1,0
wait 60 +TCMQTTCONN:OK
hangup
EOF
at_session gate "$T/s1" --register-url "http://127.0.0.1:$GATE_PORT/register/dev"
[ ! -e "$T/req-2" ] || fail "the AT+TCDEVREG sent while busy reached the cloud"
ok "AT+TCDEVREG in the background: busy p... to AT, AT+GMR and a second AT+TCDEVREG; then +TCDEVREG:OK and a connect"

# Echo on (the default) here: a secret sent while busy is echoed masked (F33), as at any other time.
cat >"$T/s2" <<EOF
send AT+TCPRDINFOSET=0,"$P","$PSEC","silent_dev"
expect +TCPRDINFOSET:OK
send AT+TCDEVREG
expect OK
send AT
expect busy p...
send AT+TCDEVINFOSET=0,"$P","silent_dev","c2VjcmV0LWJ1c3ktZWNobw=="
expect AT+TCDEVINFOSET=0,"$P","silent_dev","***"
expect busy p...
send AT+CWJAP="ap","wifi-busy-pw"
expect AT+CWJAP="ap","***"
expect busy p...
absent c2VjcmV0LWJ1c3ktZWNobw==
absent wifi-busy-pw
absent $PSEC
wait 60 +TCDEVREG:FAIL,-11
send AT
expect OK
send AT+TCDEVINFOSET?
absent +TCDEVINFOSET:0,"$P","silent_dev"
hangup
EOF
at_session silent "$T/s2" --register-url "http://127.0.0.1:$SILENT_PORT/register/dev"
ok "a registration server that never answers: +TCDEVREG:FAIL,-11 (the reference's HTTP timeout), then the line answers"

for s in "$PSEC"; do
    grep -qF -- "$s" <<<"$(grep -h '^<<' "$T"/*-host.err)" && fail "a secret came back on the AT line"
    grep -qF -- "$s" "$T"/*-dev.out "$T"/*-dev.err "$T/cloud.err" && fail "a secret was printed"
done
ok "no secret on the AT line or in the logs"
stop_cloud
