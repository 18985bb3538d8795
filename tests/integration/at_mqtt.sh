#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The AT MQTT session of `smartcfg device --at` against a real mosquitto on a loopback port:
# AT+TCMQTTCONN (tls mode 0, ours) -> +TCMQTTCONN:OK, AT+TCMQTTSTATE? -> 1, identity changes
# refused with 208 while it runs, AT+TCMQTTDISCONN, a broker that goes away -> +TCMQTTDISCON,
# a broker that is not there -> +TCMQTTCONN:FAIL,-603, with or without TLS. The secret never shows.
set -u
SC=${SC_BUILD:?}/smartcfg
HOST=${SC_SRC:?}/tests/integration/at_host.py
TMP=$(mktemp -d /tmp/sc_at_mqtt.XXXXXX)
BROKER=
cleanup() {
    [ -n "$BROKER" ] && kill "$BROKER" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; exit 1; }
command -v mosquitto >/dev/null || PATH=$PATH:/usr/sbin
command -v mosquitto >/dev/null || fail "mosquitto not installed (make deps)"

PORT=$(python3 "$(dirname "$0")/lib/free_port.py" $$)   # leased: the broker restarts on it
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$TMP/mosq.conf"
mosquitto -c "$TMP/mosq.conf" >"$TMP/broker.log" 2>&1 &
BROKER=$!
for _ in $(seq 1 50); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null && break
    sleep 0.1
done

SECRET='c2VjcmV0LWF0LW1xdHQ='
DEAD=$(python3 "$(dirname "$0")/lib/free_port.py" $$)
run() { # $1 tag, $2 broker port, $3 script
    AT_DEV_OUT=$TMP/$1-dev.out AT_DEV_ERR=$TMP/$1-dev.err python3 "$HOST" "$3" -- \
        "$SC" device --radio "udp:$((20000 + RANDOM % 20000))" --join sim:ap:password1:127.0.0.1 --no-cloud \
        --at '{tty}' --broker "127.0.0.1:$2" --state-dir "$TMP/state" --log-level debug \
        >"$TMP/$1-host.out" 2>"$TMP/$1-host.err"
}

cat >"$TMP/s1" <<EOF
send ATE0
expect OK
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:0
send AT+TCDEVINFOSET=0,"PIDMQTT001","dev-mqtt","$SECRET"
expect +TCDEVINFOSET:OK
send AT+TCMQTTCONN=0,5000,60,1,0
expect OK
wait 10 +TCMQTTCONN:OK
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:1
expect OK
send AT+TCMQTTCONN?
expect +TCMQTTCONN:0,5000,60,1,0
send AT+TCDEVINFOSET=0,"PIDMQTT001","dev-other","$SECRET"
expect +CME ERROR:208
send AT+TCSTARTSMART
expect +CME ERROR:208
send AT+TCMQTTDISCONN
expect +TCMQTTDISCON,2
expect OK
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:0
send AT+TCMQTTCONN=0,5000,60,1,0
wait 10 +TCMQTTCONN:OK
hangup
EOF
run s1 "$PORT" "$TMP/s1" || fail "session 1: $(cat "$TMP/s1-host.out")"
grep -q "PIDMQTT001dev-mqtt" "$TMP/broker.log" || echo "note: the broker log does not show the client id"

# the broker goes away under a running session: +TCMQTTDISCON (no reconnect asked for)
cat >"$TMP/s2" <<EOF
send ATE0
expect OK
send AT+TCMQTTCONN=0,5000,60,1,0
wait 10 +TCMQTTCONN:OK
sleep 0.5
wait_re 20 \+TCMQTTDISCON,-?[0-9]+\r\n
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:0
send AT+TCDEVINFOSET=0,"PIDMQTT001","dev-mqtt","$SECRET"
expect +TCDEVINFOSET:OK
hangup
EOF
# (the broker is killed from here once the session is connected, while the host waits)
( for _ in $(seq 600); do grep -q '^<<.*TCMQTTCONN:OK' "$TMP/s2-host.err" 2>/dev/null && break; sleep 0.1; done
  kill "$BROKER" ) &
run s2 "$PORT" "$TMP/s2" || fail "session 2: $(cat "$TMP/s2-host.out")"
wait

# nobody listening on the port: the TCP connect fails at once, plain (mode 0, session s3) and
# over TLS (mode 1, s4) alike -- -603, not the request timeout (-111) at the end of the 2 s
# command timeout (libmosquitto reports a refused TLS connect as success; the port sees it)
for tls in 0 1; do
    s=s$((3 + tls))
    cat >"$TMP/$s" <<EOF
send ATE0
expect OK
send AT+TCMQTTCONN=$tls,2000,60,1,0
expect OK
wait 10 +TCMQTTCONN:FAIL,-603
send AT+TCMQTTSTATE?
expect +TCMQTTSTATE:0
hangup
EOF
    run $s "$DEAD" "$TMP/$s" || fail "session $s (tls mode $tls): $(cat "$TMP/$s-host.out")"
done

cat "$TMP"/*-host.err | grep '^<<' | grep -qF -- "$SECRET" && fail "the secret came back on the AT line"
grep -qF -- "$SECRET" "$TMP"/*-dev.out "$TMP"/*-dev.err "$TMP/broker.log" && fail "the secret was printed"
echo "PASS"
