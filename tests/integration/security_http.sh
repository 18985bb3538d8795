#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 13 F2 against `smartcfg cloud`, on loopback: 300 slow HTTP connections from 127.0.0.2
# (a header line every second, never finishing the request) hold at most the per-address cap
# (--http-per-address, default 16) while the token API, dynamic registration and the admin
# API keep answering 127.0.0.1; a connection that goes quiet is closed after the 5 s idle
# timeout. Bounded: 300 sockets, about 15 s. Then F15: the console's snapshot after one device's
# 256 large data-template reports, with 301 devices (about 2 s).
. "$(dirname "$0")/lib/cloud.bash"
start_cloud --thing-rate 1000000   # F15 below: 256 reports of one device at once, not the limit under test

# F23: the one-time console login link (an administrator's session for an hour) was in every
# start's output (stderr, the ready event's console_url): in the journal or CI log of any
# cloud. Now only with --console-link; the admin API mints one on demand.
! grep -q 'console_url\|login?code=' "$T/cloud.events" "$T/cloud.err" || fail "F23: a console login link in the output"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/console/login?code=")" = 403 ] || fail "F23: an empty login code"
ok "F23: no console login link printed at start (only with --console-link)"

cat > "$T/slow.py" <<'EOF2'
import sys, time
sys.path.insert(0, sys.argv[4])
from attacker import open_from, alive as alive_of
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = open_from("127.0.0.2", port, n, b"POST /tokenapi?cmd=AppCreateDeviceBindToken HTTP/1.1\r\nHost: x\r\n")
def alive():
    return alive_of(socks)
for i in range(6):                       # slowloris: one header line a second
    for s in alive():
        try:
            s.sendall(b"X-a: b\r\n")
        except OSError:
            pass
    time.sleep(1)
    if i == 1:
        print("held", len(alive()), flush=True)
        open(sys.argv[3], "w").write("on\n")
time.sleep(8)                            # then silence: the idle timeout must cut them
print("after", len(alive()), flush=True)
EOF2
python3 "$T/slow.py" "$HTTP_PORT" 300 "$T/attack.on" "$(dirname "$0")/lib" > "$T/slow.out" &
ATT=$!
for _ in $(seq 600); do [ -s "$T/attack.on" ] && break; sleep 0.1; done
[ -s "$T/attack.on" ] || fail "attacker did not start"
held=$(awk '/^held/ {print $2}' "$T/slow.out")
[ -n "$held" ] && [ "$held" -le 16 ] || fail "the attacker holds $held HTTP connections (cap 16)"
ok "F2: 300 slow connections from one address -> $held kept (cap 16)"

R=$(tokenapi AppCreateDeviceBindToken '{}')
[ "$(echo "$R" | jget code)" = 0 ] || fail "token API during the attack: $R"
[ "$(post /v1/products '{"product_id":"SECHTTP001"}' | jget product_id)" = SECHTTP001 ] || fail "admin API during the attack"
[ "$(post /register/dev '{}' | jget code)" = 1006 ] || fail "/register/dev during the attack"
ok "F2: token API, admin API and /register/dev answer during the attack"

wait $ATT
[ "$(awk '/^after/ {print $2}' "$T/slow.out")" = 0 ] || fail "quiet connections were not closed: $(cat "$T/slow.out")"
ok "F2: connections that go quiet are closed by the idle timeout"

# ---- F15: one device's own data-template reports stall the HTTP API while a console is open ----
# The console's state snapshot parsed the whole event ring (256 events) once per device, under
# the lock every API request takes: 256 reports of ~15 KiB from one device, 300 devices, and
# each snapshot (the page takes one after every burst of events) held the API for seconds.
P=SECHTTP002
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices '{"device_name":"noisy"}' | jget device_secret)
python3 - "$DB" "$P" <<'EOF2'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
with db:
    db.executemany("INSERT INTO devices(product_id, device_name, psk, created) VALUES(?,?,?,1)",
                   [(sys.argv[2], "d%03d" % i, "MDEyMzQ1Njc4OWFiY2RlZg==") for i in range(300)])
EOF2
curl -s -c "$T/jar" -o /dev/null "$(post /v1/console/login '' | jget console_url)"
creds $P noisy "$PSK" sha256
python3 -c "import json; r = json.dumps({'method': 'report', 'clientToken': 'c', 'params': {'k%d' % i: 'x' * 100 for i in range(140)}})
for _ in range(256): print(r)" \
    | mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -t "\$thing/up/property/$P/noisy" -q 1 -l
# and once more, so that its connection is the newest event (the reports pushed the first out)
mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -t "\$thing/up/property/$P/noisy" -q 1 \
    -m '{"method":"report","clientToken":"c","params":{}}'
for _ in $(seq 100); do [ "$(grep -c '"event":"thing_report"' "$T/cloud.events")" -ge 257 ] && break; sleep 0.1; done
S=$(curl -s -b "$T/jar" -w '\n%{time_total}' "$BASE/console/api/state")
took=$(tail -n 1 <<<"$S")
[ "$(head -n 1 <<<"$S" | jq -r --arg p $P '.products[] | select(.product_id == $p) | .devices | length')" = 301 ] \
    || fail "F15: the snapshot does not list the 301 devices"
[ "$(head -n 1 <<<"$S" | jq -r --arg p $P '.products[] | select(.product_id == $p) | .devices[] | select(.device_name == "noisy") | .last_event')" = device_connected ] \
    || fail "F15: the snapshot lost the device's last event"
awk -v t="$took" 'BEGIN { exit !(t < 1.0) }' || fail "F15: a console snapshot took $took s (301 devices, 256 large events)"
ok "F15: console snapshot of 301 devices after 256 reports of 15 KiB: $took s, the device's last event kept"
stop_cloud
