#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 13 F1 and F6 against `smartcfg cloud`, on loopback only (the attacker speaks from
# 127.0.0.2, the legitimate device from 127.0.0.1):
#  F1 a host opening hundreds of idle TCP connections to the MQTT port (no CONNECT) keeps
#     at most --mqtt-per-address of them, loses them after --connect-timeout, and a device
#     connects and binds meanwhile;
#  F6 a publish bigger than 256 KiB is refused (the connection dropped) and the cloud binds on;
#  F20 a device's malformed bind token reaches the log and the events as printable ASCII, and
#      whatever else a device sends reaches the events as UTF-8;
#  F25 a flood of bad logins (8 s of them, ~20 000 on an idle machine) makes a bounded log: at
#      most ~5 refusal lines and events a second, the rest counted in refusals_suppressed.
# Bounded: 400 attacker sockets, a 2 s connect deadline.
. "$(dirname "$0")/lib/cloud.bash"
command -v mosquitto_rr >/dev/null || fail "mosquitto-clients not installed (make deps)"

start_cloud --mqtt-per-address 20 --connect-timeout 2
P=SECMQTT001
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices '{"device_name":"dev1"}' | jget device_secret)
creds $P dev1 "$PSK" sha256

# The attacker: N idle connections from 127.0.0.2; reports how many the server left open
# after a moment, then how many are still open after WAIT seconds.
cat > "$T/idle.py" <<'EOF'
import sys, time
sys.path.insert(0, sys.argv[5])
from attacker import open_from, alive
port, n, wait = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = open_from("127.0.0.2", port, n)
def still_open():
    return alive(socks)
time.sleep(0.5)
print("held", len(still_open()), flush=True)
with open(sys.argv[4], "w") as f:
    f.write("attack running\n")
deadline = time.time() + wait
while time.time() < deadline and still_open():
    time.sleep(0.2)
print("after", len(still_open()), flush=True)
EOF
python3 "$T/idle.py" "$MQTT_PORT" 400 15 "$T/attack.on" "$(dirname "$0")/lib" > "$T/idle.out" &
ATT=$!
for _ in $(seq 600); do [ -s "$T/attack.on" ] && break; sleep 0.1; done
[ -s "$T/attack.on" ] || fail "attacker did not start"
held=$(awk '/^held/ {print $2}' "$T/idle.out")
[ -n "$held" ] && [ "$held" -le 20 ] || fail "the attacker holds $held idle connections (cap 20)"
ok "F1: 400 idle connections from one address -> the gate keeps $held (cap 20)"

TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
REPLY=$(timeout 20 mosquitto_rr "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -W 15 \
    -t "\$thing/up/service/$P/dev1" -e "\$thing/down/service/$P/dev1" \
    -m "{\"method\":\"app_bind_token\",\"clientToken\":\"dev1-1\",\"params\":{\"token\":\"$TOK\"}}") \
    || fail "the device could not bind during the attack"
[ "$(echo "$REPLY" | jget code)" = 0 ] || fail "bind during the attack: $REPLY"
ok "F1: a device connects and binds while the attack runs"

wait $ATT
after=$(awk '/^after/ {print $2}' "$T/idle.out")
[ "$after" = 0 ] || fail "$after idle connections survived the 2 s CONNECT deadline"
ok "F1: connections that never send CONNECT are closed after the deadline"

# Not MQTT at all: closed at once (no slot held for the deadline).
python3 - "$MQTT_PORT" <<'EOF' || fail "a non-MQTT first byte was not refused at once"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
s.settimeout(1.5)
assert s.recv(10) == b""
EOF
ok "F1: a connection whose first byte is not CONNECT is closed at once"

# F6: 300 KiB publish on the device's own topic.
head -c 300000 /dev/zero | tr '\0' x > "$T/big"
mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -t "\$thing/up/service/$P/dev1" \
    -f "$T/big" 2>/dev/null && fail "a 300 KiB publish was accepted"
TOK2=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
REPLY=$(timeout 20 mosquitto_rr "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -W 15 \
    -t "\$thing/up/service/$P/dev1" -e "\$thing/down/service/$P/dev1" \
    -m "{\"method\":\"app_bind_token\",\"clientToken\":\"dev1-2\",\"params\":{\"token\":\"$TOK2\"}}")
[ "$(echo "$REPLY" | jget code)" = 0 ] || fail "bind after the big publish: $REPLY"
ok "F6: a publish over 256 KiB is refused; binding goes on"

# F20: the token a device sends is abbreviated into the log line and the bind_result event as it
# came: "\e[8m..." (4 bytes) turned the cloud's terminal output invisible from there on, and a
# multi-byte token cut after 4 bytes made an event line that is not UTF-8 (docs/json.md).
for tok in $'\e[8mXXXXXXXX' '中中中中中'; do
    mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -t "\$thing/up/service/$P/dev1" \
        -m "{\"method\":\"app_bind_token\",\"clientToken\":\"dev1-3\",\"params\":{\"token\":\"$tok\"}}"
done
# and any string of a device's JSON: a data-template report with a key and a value that are not UTF-8
printf '{"method":"report","clientToken":"c","params":{"k\xff":"v\xc3"}}' > "$T/notutf8"
mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -t "\$thing/up/property/$P/dev1" -f "$T/notutf8"
for _ in $(seq 50); do [ "$(LC_ALL=C grep -ac '"event":"bind_result".*"code":400' "$T/cloud.events")" -ge 2 ] && grep -aq '"event":"thing_report"' "$T/cloud.events" && break; sleep 0.1; done
grep -q '"event":"thing_report".*"params":{"k?":"v?"}' "$T/cloud.events" || fail "F20: the report's bytes were not made '?'"
[ "$(LC_ALL=C grep -ac '"event":"bind_result".*"code":400' "$T/cloud.events")" -ge 2 ] || fail "F20: the two bad tokens were not answered"
! grep -q $'\e' "$T/cloud.err" || fail "F20: a device's escape sequence reached the cloud's log"
python3 -c "import sys; open(sys.argv[1], 'rb').read().decode('utf-8')" "$T/cloud.events" 2>/dev/null \
    || fail "F20: a device's token made the cloud's JSON lines invalid UTF-8"
ok "F20: a device's malformed token reaches the log and events as printable ASCII, its other strings as UTF-8"

# F25: every bad login was a log line and an event (3 000 a second from one loopback client,
# 0.6 MB/s of output; the console's 256-event list held nothing else).
PYTHONPATH="$(dirname "$0")/lib" python3 - "$MQTT_PORT" 8 > "$T/flood.out" <<'PY'
import socket, sys, time
from mqtt_wire import connect
t, n = time.time(), 0
while time.time() - t < float(sys.argv[2]):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    cid = "FLOODdev%d" % n
    s.sendall(connect(cid, cid + ";12010126;abcde;2147483647", "x" * 64 + ";hmacsha256", keepalive=30))
    try: s.recv(10)
    except OSError: pass
    s.close(); n += 1
print(n)
PY
tries=$(cat "$T/flood.out")
sleep 1
ev=$(grep -c '"event":"device_refused".*FLOODdev' "$T/cloud.events" || true)
lines=$(grep -c 'connect_refused client=FLOODdev' "$T/cloud.err" || true)
# burst 50 + 5 a second over ~9 s, with margin
[ "$tries" -ge 500 ] || fail "F25: the flood made only $tries attempts"
[ "$ev" -le 120 ] && [ "$lines" -le 120 ] || fail "F25: $tries bad logins made $ev events and $lines log lines"
kill -0 "$CLOUD_PID" || fail "smartcfg cloud died"
stop_cloud
sup=$(jq -s '[.[] | select(.event == "refusals_suppressed") | .events] | add' "$T/cloud.events")
[ "$((ev + sup))" -ge "$((tries - 5))" ] || fail "F25: $ev shown + $sup counted of $tries refusals"
grep -q 'refusals flood: ' "$T/cloud.err" || fail "F25: no summary line"
ok "F25: $tries bad logins in 8 s -> $ev refusal events, $lines log lines, the rest counted ($sup)"
