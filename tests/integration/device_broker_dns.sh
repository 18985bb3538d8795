#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 40
# The POSIX MQTT port's connect when the DNS server does not answer (F186). The test runs in a
# network namespace of its own whose resolv.conf (/etc/netns/NS/resolv.conf, mounted over
# /etc/resolv.conf by `ip netns exec`) names a DNS server of the test's (lib/dns_stub.py) that
# answers nothing; glibc waits 5 s for each of its 2 attempts. Before, connect() looked the
# broker's name up on the core's thread (libmosquitto's blocking getaddrinfo): `smartcfg device`
# and its AT line were held 10 s.
#   1. AT+TCMQTTCONN to a name: the line still answers AT within 300 ms ("busy p...", as an
#      ESP-AT module answers while a command is pending; before: nothing for 10 s), the connect is still
#      pending then, and it ends with +TCMQTTCONN:FAIL,-603 (what an unresolvable host answers)
#      once glibc gives up or the port's bound for a list's last name (10 s,
#      SC_POSIX_MQTT_LOOKUP_LAST_MS) passes, within the command's 20 s;
#   2. --broker SILENT:PORT,127.0.0.1:PORT (a real mosquitto): connected through the second
#      address within 6 s of the AT+TCMQTTCONN (the bound, then the connect);
#   3. a SIGTERM while the lookup waits on the silent server ends the device within 1 s;
#   4. the binder of `smartcfg device` (a capture, the join, the token on 8266, then MQTT) with
#      --broker SILENT:PORT,127.0.0.1:PORT: bound through the second address within 6 s of
#      entering "binding" (the device's own t_ms: the 3 s bound, the connect, the reply; before: the binder's thread held in the first
#      lookup for 10 s), and its 8266 service answers the app's resend within 1 s during that lookup;
#   5. the DNS server loses the first query for a name (answered at glibc's second try, 5 s in):
#      a --broker of that name alone connects. The 3 s bound a list's earlier names get
#      (SC_POSIX_MQTT_LOOKUP_MS) applied to the last one too failed such a name at every connect;
#   6. AT+TCDEVREG to a --register-url whose name the DNS server does not answer, then SIGTERM:
#      the device ends within 1 s (F194: ending the transfer joined libcurl's resolver thread,
#      on the core's thread, until glibc gave up).
#   7. the binder's registration POST held by its endpoint: the 8266 service answers within 1 s,
#      and a SIGTERM ends the device within 1 s (the HAL's post_start/post_poll).
. "$(dirname "$0")/lib/dns_ns.bash"
dns_ns_enter sc-brdns "$0" "$@"
set -u
SC=${SC_BUILD:?}/smartcfg
HOST=${SC_SRC:?}/tests/integration/at_host.py
# the temp dir, fail(), and a plain mosquitto on a free loopback port ($PORT)
TMP_TAG=broker_dns . "$(dirname "$0")/lib/at_broker.bash"
ok() { echo "ok: $*"; }
ms() { date +%s%3N; }

SILENT=broker.sc-atdns.test
! grep -q "sc-atdns.test" /etc/hosts || fail "the test's name is in /etc/hosts"
touch "$TMP/dns.silent"   # silent from the start: the server gets each query and answers none
LOSSY=lossy.sc-atdns.test
dns_stub_start "$TMP/dns.out" "$TMP/dns.log" "$SILENT=127.0.0.1" "$LOSSY=127.0.0.1" --lose-once "$LOSSY" \
    --silent-if "$TMP/dns.silent" || fail "the DNS stub did not start: $(cat "$TMP/dns.log")"
BG_PIDS=$DNS_PID

SECRET='c2VjcmV0LWF0LWRucw=='
run() { # $1 tag, $2 --broker list, $3 script; the device in the background, its host's pid in HPID
    AT_DEV_OUT=$TMP/$1-dev.out AT_DEV_ERR=$TMP/$1-dev.err python3 "$HOST" "$3" -- \
        "$SC" device --radio "udp:$((20000 + RANDOM % 20000))" --join sim:ap:password1:127.0.0.1 --no-cloud \
        --at '{tty}' --broker "$2" --state-dir "$TMP/state-$1" --log-level debug \
        > "$TMP/$1-host.out" 2> "$TMP/$1-host.err" &
    HPID=$!
}
info="AT+TCDEVINFOSET=0,\"PIDDNS0001\",\"dev-dns\",\"$SECRET\""
head="send ATE0
expect OK
send $info
expect +TCDEVINFOSET:OK"   # each session's first lines: echo off, the device's identity

# 1. the line answers while the connect waits on the silent server; then -603 after the bound
cat > "$TMP/s1" <<EOF
$head
send AT+TCMQTTCONN=0,20000,60,1,0
expect OK
sleep 0.2
send AT
wait 0.3 busy p...
absent +TCMQTTCONN:
sleep 0.5
send AT
wait 0.3 busy p...
absent +TCMQTTCONN:
wait 14 +TCMQTTCONN:FAIL,-603
hangup
EOF
t0=$(ms)
run s1 "$SILENT:$PORT" "$TMP/s1"
wait $HPID || fail "1. the AT line during a connect to a name the DNS server does not answer: $(cat "$TMP/s1-host.out")"
t1=$(ms)
grep -q "$SILENT" "$TMP/dns.log" || fail "1. the DNS server was never asked for $SILENT: $(cat "$TMP/dns.log")"
ok "1. AT answered within 300 ms while AT+TCMQTTCONN waited on a silent DNS server; the connect then failed with -603 (session $((t1 - t0)) ms)"

# 2. failover: the silent name first, the broker's address second
cat > "$TMP/s2" <<EOF
$head
send AT+TCMQTTCONN=0,10000,60,1,0
wait 6 +TCMQTTCONN:OK
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:1
hangup
EOF
run s2 "$SILENT:$PORT,127.0.0.1:$PORT" "$TMP/s2"
wait $HPID || fail "2. --broker SILENT,127.0.0.1: no +TCMQTTCONN:OK within 6 s: $(cat "$TMP/s2-host.out")"
ok "2. --broker $SILENT:PORT,127.0.0.1:PORT connected through the second address within 6 s"

# 3. a SIGTERM while the lookup waits
cat > "$TMP/s3" <<EOF
$head
send AT+TCMQTTCONN=0,10000,60,1,0
expect OK
touch $TMP/s3.go
sleep 15
EOF
run s3 "$SILENT:$PORT" "$TMP/s3"
for _ in $(seq 100); do [ -e "$TMP/s3.go" ] && break; sleep 0.1; done
[ -e "$TMP/s3.go" ] || fail "3. the AT session did not get as far as its connect: $(cat "$TMP/s3-host.out")"
sleep 0.7   # well inside the lookup (its bound is 10 s: the list's only name)
DEV=$(pgrep -P $HPID | head -1)
[ -n "$DEV" ] || fail "3. no device process under the AT host $HPID"
t0=$(ms)
kill -TERM "$DEV"
# running: neither gone nor a zombie (the AT host reaps it only at the end of its script)
running() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st#Z}" = "$st" ]; }
while running "$DEV" && [ $(($(ms) - t0)) -lt 15000 ]; do sleep 0.02; done
took=$(($(ms) - t0))
kill $HPID 2>/dev/null; wait $HPID 2>/dev/null
[ $took -le 1000 ] || fail "3. a SIGTERM during the silent lookup took $took ms to end the device (want <= 1000)"
ok "3. a SIGTERM during the silent lookup ended the device in $took ms"
! grep -q "$SECRET" "$TMP"/*-dev.out "$TMP"/*-dev.err || fail "the device secret in the device's output"

. "$(dirname "$0")/lib/wait.bash"
# resend_ms DEVICE_IP: the app's token resend to DEVICE_IP:8266; ms until the identity reply
# (9999: none within 3 s)
resend_ms() {
    python3 - "$1" "$TOKEN" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(3)
t0 = time.monotonic()
s.sendto(json.dumps({"cmdType": 0, "token": sys.argv[2]}).encode(), (sys.argv[1], 8266))
try:
    while json.loads(s.recv(2048)).get("cmdType") != 2:
        pass
    print(int((time.monotonic() - t0) * 1000))
except (socket.timeout, ValueError):
    print(9999)
PY
}

# 4. the binder: a capture decoded, the join, the token on 8266, then the connect to the list
TOKEN='abcdefabcdefabcdefabcdefabcdef12'
"$SC" air --ssid DnsAP --password 'dn5-pass' --ip 127.0.0.1 "$TMP/cap.pcap" > "$TMP/air.log" 2>&1 || fail "4. smartcfg air"
python3 "$SC_SRC/tests/integration/bind_responder.py" "$PORT" ABCDEFGHIJ dev1 0 "$TMP/up.log" > "$TMP/resp.log" 2>&1 &
RESP=$!
sleep 0.3
SMARTCFG_DEVICE_SECRET=$SECRET "$SC" device --radio "file:$TMP/cap.pcap" --join "sim:DnsAP:dn5-pass:127.0.0.2" \
    --sim-delay 200 --product-id ABCDEFGHIJ --device-name dev1 --broker "$SILENT:$PORT,127.0.0.1:$PORT" --json \
    --timeout 60 --state-dir "$TMP/state-bind" --log-level debug > "$TMP/bind.jsonl" 2> "$TMP/bind.err" &
DEV=$!
wait_line "$DEV" "$TMP/bind.jsonl" '"state":"wait_token"' 10 || fail "4. the device never waited for its token"
python3 "$SC_SRC/tests/integration/udp_peer.py" token 127.0.0.1 127.0.0.2 "$TOKEN" "$TMP/token.log" > /dev/null 2>&1 \
    || fail "4. token exchange"
wait_line "$DEV" "$TMP/bind.jsonl" '"state":"binding"' 3 || fail "4. the device never entered binding"
sleep 0.5   # the first address's lookup now waits on the silent server (3 s)
took4=$(resend_ms 127.0.0.2)
[ "$took4" -le 1000 ] || fail "4. the 8266 service answered after $took4 ms while the first address's lookup waited (want <= 1000)"
rc=0; wait $DEV || rc=$?
kill $RESP 2>/dev/null
[ $rc -eq 0 ] || fail "4. --broker SILENT,127.0.0.1: exit $rc (want 0, bound)"
grep -q '"event":"bound"' "$TMP/bind.jsonl" || fail "4. no bound event"
# the device's own clock (t_ms) at its first event matching KEY=VALUE
tms() { python3 -c 'import json, sys
k, v = sys.argv[2].split("=")
print(next((e["t_ms"] for e in map(json.loads, open(sys.argv[1])) if e.get(k) == v), ""))' "$TMP/bind.jsonl" "$1"; }
b0=$(tms state=binding) b1=$(tms event=bound)
[ -n "$b0" ] && [ -n "$b1" ] || fail "4. no binding/bound times in the events"
[ $((b1 - b0)) -le 6000 ] || fail "4. bound $((b1 - b0)) ms after entering binding (want <= 6000: the 3 s lookup bound, then the connect)"
ok "4. the binder bound through the second address $((b1 - b0)) ms after entering binding; 8266 answered in $took4 ms during the lookup"
for f in "$TMP/bind.jsonl" "$TMP/bind.err"; do ! grep -qF -- "$SECRET" "$f" || fail "4. the device secret in $f"; done

# 6. the registration's HTTP POST to a silent name, ended by a stop
cat > "$TMP/s6" <<EOF
send ATE0
expect OK
send AT+TCPRDINFOSET=0,"PIDDNS0001","cHJvZHVjdC1zZWNyZXQtZG5z","dev-reg"
expect +TCPRDINFOSET:OK
send AT+TCDEVREG
expect OK
touch $TMP/s6.go
sleep 15
EOF
AT_DEV_OUT=$TMP/s6-dev.out AT_DEV_ERR=$TMP/s6-dev.err python3 "$HOST" "$TMP/s6" -- \
    "$SC" device --radio "udp:$((20000 + RANDOM % 20000))" --join sim:ap:password1:127.0.0.1 --no-cloud \
    --at '{tty}' --register-url "http://$SILENT:$PORT/register/dev" --state-dir "$TMP/state-s6" \
    > "$TMP/s6-host.out" 2> "$TMP/s6-host.err" &
HPID=$!
for _ in $(seq 100); do [ -e "$TMP/s6.go" ] && break; sleep 0.1; done
[ -e "$TMP/s6.go" ] || fail "6. the AT session did not get as far as AT+TCDEVREG: $(cat "$TMP/s6-host.out")"
sleep 1   # the POST's lookup under way (glibc gives up after 10 s)
DEV=$(pgrep -P $HPID | head -1)
[ -n "$DEV" ] || fail "6. no device process under the AT host $HPID"
t0=$(ms)
kill -TERM "$DEV"
while running "$DEV" && [ $(($(ms) - t0)) -lt 15000 ]; do sleep 0.02; done
took=$(($(ms) - t0))
kill $HPID 2>/dev/null; wait $HPID 2>/dev/null
[ $took -le 1000 ] || fail "6. a SIGTERM while AT+TCDEVREG's POST looked up a silent name took $took ms to end the device (want <= 1000)"
ok "6. a SIGTERM while AT+TCDEVREG's POST waited on the silent DNS server ended the device in $took ms"

# 5. a lossy DNS server: the name alone in the list waits for glibc's second try
rm -f "$TMP/dns.silent"
cat > "$TMP/s5" <<EOF
$head
send AT+TCMQTTCONN=0,20000,60,1,0
expect OK
wait 9 +TCMQTTCONN:OK
hangup
EOF
t0=$(ms)
run s5 "$LOSSY:$PORT" "$TMP/s5"
wait $HPID || fail "5. --broker LOSSY (its first query lost): no +TCMQTTCONN:OK within 9 s: $(cat "$TMP/s5-host.out")"
grep -q "query $LOSSY type 1 (lost)" "$TMP/dns.log" || fail "5. the DNS server lost no query for $LOSSY: $(cat "$TMP/dns.log")"
ok "5. a name whose first query the DNS server lost connected at glibc's second try (session $(($(ms) - t0)) ms)"

# 7. the binder's registration POST to an endpoint that takes it and never answers: the device
#    goes on meanwhile (the HAL's post_start/post_poll): its 8266 service answers the app's
#    resend within 1 s, and a SIGTERM ends it within 1 s (before: the core's thread waited in
#    post() for the registration's 10 s, and the app's resends and the stop with it)
HOLD=$(python3 "$SC_SRC/tests/integration/lib/free_port.py" $$)
python3 - "$HOLD" "$TMP/reg.got" > "$TMP/reg.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
held = []
while True:
    c, _ = s.accept(); held.append(c)   # read the request, answer nothing
    c.settimeout(2)
    try:
        data = c.recv(65536)
    except OSError:
        data = b""
    if data.startswith(b"POST "):
        open(sys.argv[2], "w").write(data.split(b"\r\n")[0].decode())
PY
REG=$!
BG_PIDS="$BG_PIDS $REG"
SMARTCFG_PRODUCT_SECRET='cHJvZHVjdC1zZWNyZXQtZG5z' "$SC" device --radio "file:$TMP/cap.pcap" \
    --join "sim:DnsAP:dn5-pass:127.0.0.3" --sim-delay 200 --product-id ABCDEFGHIJ --device-name dev7 \
    --broker "127.0.0.1:$PORT" --register-url "http://127.0.0.1:$HOLD/register/dev" --json --timeout 60 \
    --state-dir "$TMP/state-reg" --log-level debug > "$TMP/reg.jsonl" 2> "$TMP/reg.err" &
DEV=$!
wait_line "$DEV" "$TMP/reg.jsonl" '"state":"wait_token"' 10 || fail "7. the device never waited for its token: $(tail -3 "$TMP/reg.err")"
python3 "$SC_SRC/tests/integration/udp_peer.py" token 127.0.0.1 127.0.0.3 "$TOKEN" "$TMP/token7.log" > /dev/null 2>&1 \
    || fail "7. token exchange"
for _ in $(seq 1 100); do [ -s "$TMP/reg.got" ] && break; sleep 0.1; done
grep -q '^POST /register/dev' "$TMP/reg.got" 2>/dev/null || fail "7. no registration POST reached the endpoint: $(tail -3 "$TMP/reg.err")"
sleep 0.5   # the POST now waits on the endpoint
# the app's resend, as its 2 s loop sends it: answered within 1 s while the registration waits
took=$(resend_ms 127.0.0.3)
[ "$took" -le 1000 ] || fail "7. the 8266 service answered after $took ms while the registration's POST waited (want <= 1000)"
kill -0 "$DEV" 2>/dev/null || fail "7. the device ended during the registration: $(tail -3 "$TMP/reg.err")"
t0=$(ms)
kill -TERM "$DEV"
rc=0; wait "$DEV" || rc=$?
took2=$(($(ms) - t0))
[ $took2 -le 1000 ] || fail "7. a SIGTERM while the registration's POST waited took $took2 ms to end the device (want <= 1000)"
! grep -q 'cHJvZHVjdC1zZWNyZXQtZG5z' "$TMP/reg.jsonl" "$TMP/reg.err" || fail "7. the product secret in the device's output"
ok "7. while the registration's POST waited: 8266 answered in $took ms, a SIGTERM ended the device in $took2 ms (exit $rc)"
