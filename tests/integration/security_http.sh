#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 13 F2 against `smartcfg cloud`, on loopback: 300 slow HTTP connections from 127.0.0.2
# (a header line every second, never finishing the request) hold at most the per-address cap
# (--http-per-address, default 16) while the token API, dynamic registration and the admin
# API keep answering 127.0.0.1; a connection that goes quiet is closed after the 5 s idle
# timeout. Bounded: 300 sockets, about 15 s.
. "$(dirname "$0")/lib/cloud.bash"
start_cloud

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
stop_cloud
