#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 50
# The hostile-LAN checks of security_device_udp / security_device_spray (docs/security.md#device)
# against the lwIP port (smartcfg-lwip, ports/lwip; docs/port-lwip.md#hostile-input): every
# packet goes through lwIP on a tap bridged with a veth in the device's namespace (no IPv4
# address on the Linux side there); the attacker, the app and the broker live in a second
# namespace at the veth's other end.
# Run 1 (--no-cloud), UDP from the attacker:
#  - tokens the cloud would never issue: answered as bad input, never a token event;
#  - datagrams of 1025..65507 bytes (IP fragments, reassembled by lwIP or dropped) that would be
#    valid requests if cut short, deeply nested JSON: an error or nothing, never an identity (a
#    1025-byte datagram used to overflow the heap: Debian's tapif and PBUF_POOL);
#  - 1-byte junk from 16 rotating source ports to 8266 and to a closed port, a flood as fast as
#    this host sends, never-completed IP fragments: fewer bytes back (UDP and ICMP) than sent
#    (lwIP itself has no ICMP rate limit); {"cmdType":3} while the log soft-AP is down: nothing;
#  - no memory growth over a second round of the floods (lwIP's pbufs are malloc'd in this
#    build, so a pbuf leak shows as resident memory);
#  - the app's token, resent every 2 s as the app does, is still answered with the identity.
# Run 2 (mosquitto in the attacker's namespace): hostile publishes on the device's down topic
# (larger than the port's message buffer, a burst across TCP segments, 64 KiB, NUL bytes, deep
# nesting) neither crash nor fail the device; the cloud's real reply afterwards binds it.
# (lwIP's MQTT parser and publishes cut at other TCP boundaries, or with a NUL in the topic,
# which mosquitto refuses to carry, are unit.test_lwip_hal's hostile-broker case.)
# Run 3: a failed join (the phone's password is wrong), then --log-linger: the log soft-AP's
# UDP 9876 answers on the link, and its log holds no secret.
set -u
SC=${SC_BUILD:?}/smartcfg
SCL=${SC_BUILD:?}/smartcfg-lwip
DIR=${SC_SRC:?}/tests/integration
ID=$$
NSA=sclw_app_$ID
NSD=sclw_dev_$ID
VA=sclwa$ID
VD=sclwd$ID
NET=10.191.$((ID % 200 + 20))
DEVMAC=02:1a:b2:00:00:43
TMP=$(mktemp -d /tmp/sclw.XXXXXX)
. "$DIR/lib/veth_pair.bash"
KEEP=
trap '[ -n "$KEEP" ] && kill "$KEEP" 2>/dev/null; cleanup' EXIT   # the app's resend loop too
fails=0
T0=$(date +%s%3N)
el() { local t; t=$(( $(date +%s%3N) - T0 )); printf '%d.%d s' $((t / 1000)) $((t % 1000 / 100)); }
ok() { echo "ok: $* [$(el)]"; }
bad() { echo "FAIL: $* [$(el)]"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
dump() { for f in "$TMP"/*.log "$TMP"/*.err "$TMP"/*.jsonl; do [ -f "$f" ] && { echo "--- $f"; grep -v "progress\|ack sent" "$f" | tail -n 30; }; done; }
fail() { echo "FAIL: $*"; dump; exit 1; }
in_a() { ip netns exec "$NSA" "$@"; }
wait_for() { local n=$(($1 * 10)); shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done; return 1; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
test -x "$SCL" || fail "$SCL not built (SMARTCFG_WITH_LWIP, make deps)"

# --- the wire: the app's namespace has NET.1; the device's bridges its veth end and the tap ---
veth_pair_app_up
ip -n "$NSD" tuntap add dev tap0 mode tap || fail "cannot create the tap"
ip -n "$NSD" link add devbr type bridge && ip -n "$NSD" link set "$VD" master devbr &&
    ip -n "$NSD" link set tap0 master devbr && ip -n "$NSD" link set tap0 up &&
    ip -n "$NSD" link set "$VD" up && ip -n "$NSD" link set devbr up || fail "cannot bridge the tap"
ip netns exec "$NSD" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true

"$SC" air --ssid MyAP --password 'pa55word' --ip "$NET.1" "$TMP/cap.pcap" >"$TMP/air.log" 2>&1 || fail "smartcfg air"
# Under ASan (make test-asan-integ) freed memory waits in a quarantine (256 MB by default) and
# stays resident: the flood rounds' datagrams grew it by ~45 MB. The device gets a 4 MB one, full
# after the first round, so a second round's growth is the device's own again (use after free
# is still caught within the last 4 MB freed). Other builds ignore ASAN_OPTIONS.
DEV_ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
start_device() { # $1 = tag; rest: options
    local tag=$1; shift
    ip netns exec "$NSD" env SMARTCFG_DEVICE_SECRET='c2VjcmV0LWRldmljZS1zZWNyZXQ=' ASAN_OPTIONS="$DEV_ASAN_OPTIONS" "$SCL" --tap tap0 --ip "$NET.2/24" \
        --mac $DEVMAC --radio "file:$TMP/cap.pcap" --join "sim:MyAP:pa55word" --sim-delay 300 \
        --product-id ABCDEFGHIJ --device-name devsec --json --timeout 120 \
        --state-dir "$TMP/state-$tag" --log-level debug "$@" >"$TMP/dev-$tag.jsonl" 2>"$TMP/dev-$tag.err" &
    DEV=$!
    # the token service is open from the ack burst on (the app sends as soon as it has an ack)
    wait_for 30 grep -q '"state":"acking"' "$TMP/dev-$tag.jsonl" || fail "device ($tag) never opened UDP 8266"
}

# --- run 2's broker, started now (it waits on the attacker's side of the wire) ---------------
# mosquitto on the attacker's side of the wire (a port of the namespace the test made), a cloud
# stand-in that answers the device's bind only once the hostile messages are through
printf 'listener 1883 %s\nallow_anonymous true\n' "$NET.1" >"$TMP/mosq.conf"
ip netns exec "$NSA" mosquitto -c "$TMP/mosq.conf" >"$TMP/mosq.log" 2>&1 &
wait_for 10 in_a mosquitto_pub -h "$NET.1" -p 1883 -t probe -m x 2>/dev/null || fail "mosquitto did not start"
DOWN='$thing/down/service/ABCDEFGHIJ/devsec'
BROKER_HOST=$NET.1 RESPONDER_GO=$TMP/go ip netns exec "$NSA" python3 "$DIR/bind_responder.py" 1883 ABCDEFGHIJ devsec 0 \
    "$TMP/up.log" >"$TMP/responder.log" 2>&1 &
wait_for 10 sh -c "ip netns exec $NSA ss -Htn state established '( dport = :1883 )' | grep -q ." || fail "the responder did not subscribe"
# ================= run 1: the UDP services =====================================================
start_device udp --no-cloud --token-linger 100
TOKEN='fedcba9876543210fedcba9876543210'
in_a python3 "$DIR/udp_peer.py" token "$NET.1" "$NET.2" "$TOKEN" "$TMP/token.log" >"$TMP/app.log" 2>&1 ||
    fail "the app got no identity from the lwIP device"
# the app keeps resending its token (every 2 s while unanswered, as the real one does)
( for i in $(seq 1 120); do
    [ -f "$TMP/stop" ] && break
    in_a python3 "$DIR/udp_peer.py" token "$NET.1" "$NET.2" "$TOKEN" "$TMP/keep.log" >/dev/null 2>&1 &&
        echo "ok $i" >>"$TMP/keeper.log"
    sleep 1
  done ) &
KEEP=$!
answered() { grep -c ok "$TMP/keeper.log" 2>/dev/null || echo 0; }

run() { # $1 = name; rest = sec_udp.py arguments; the output goes to the log and here
    local name=$1; shift
    in_a python3 "$DIR/sec_udp.py" "$@" >"$TMP/$name.log" 2>&1
    local rc=$?
    sed "s/^/  $name: /" "$TMP/$name.log" | head -n 20
    return $rc
}
check "tokens the cloud never issues answered as bad input" run badtok badtok "$NET.2" "$NET.1"
check "datagrams up to 65507 bytes (fragmented): an error or nothing, never an identity" run big big "$NET.2" "$NET.1"
check "deeply nested JSON: an error or nothing" run nested nested "$NET.2" "$NET.1"
check "1-byte junk from 16 ports: no amplification" run amp amp "$NET.2" 8266 "$NET.1" 20000 x
check "1-byte junk from 16 ports to a closed port (9876): no ICMP amplification" run closed amp "$NET.2" 9876 "$NET.1" 20000 x
RSS0=$(rss_kb "$DEV")
check "a flood as fast as this host sends (2 s): no amplification (UDP+ICMP)" run flood flood "$NET.2" 8266 "$NET.1" 2
check "never-completed IP fragments: no ICMP storm" run frags frags "$NET.2" "$NET.1" 2000
RSS1=$(rss_kb "$DEV")
run flood2 flood "$NET.2" 8266 "$NET.1" 1 >/dev/null
run frags2 frags "$NET.2" "$NET.1" 1000 >/dev/null
RSS2=$(rss_kb "$DEV")
echo "  resident memory: ${RSS0} kB before the floods, ${RSS1} kB after one round, ${RSS2} kB after two"
check "no memory growth over a second round of floods (${RSS1} -> ${RSS2} kB)" test "$RSS2" -le $((RSS1 + 1024))
in_a python3 "$DIR/sec_udp.py" amp "$NET.2" 8266 "$NET.1" 500 '{"cmdType":3}' udp >"$TMP/log.log" 2>&1
check "the log is not handed out while the log soft-AP is down ($(cat "$TMP/log.log"))" grep -q ' out=0$' "$TMP/log.log"
check "the device is alive after the floods" kill -0 "$DEV"
N=$(answered)
wait_for 30 sh -c "[ \$(grep -c ok '$TMP/keeper.log' 2>/dev/null || echo 0) -gt $N ]"
check "the app's resent token is answered with the identity after the floods" test "$(answered)" -gt "$N"
check "one token event: the app's (no bad token accepted)" test "$(grep -c '"event":"token"' "$TMP/dev-udp.jsonl")" = 1
touch "$TMP/stop"
wait "$KEEP"
kill -TERM "$DEV" 2>/dev/null
wait "$DEV"
python3 - "$TMP/dev-udp.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "lwip":
        print("  lwIP counters: " + ", ".join("%s %s" % (k, v) for k, v in e.items() if k not in ("event", "t")))
PY

# ================= run 2: the broker's side ===================================================
start_device mqtt --broker "$NET.1:1883"
in_a python3 "$DIR/udp_peer.py" token "$NET.1" "$NET.2" "$TOKEN" "$TMP/token2.log" >"$TMP/app2.log" 2>&1 ||
    fail "the app got no identity from the lwIP device (run 2)"
wait_for 20 grep -q app_bind_token "$TMP/up.log" || fail "the device never asked the cloud to bind"
echo "  run 2: the device asked the cloud to bind [$(el)]"
# The hostile publishes, all from one client in one process (a mosquitto_pub each cost seconds
# of the bind's 30 s on a busy machine), each QoS 1 and acknowledged by the broker in turn:
# - the cloud's refusal of this very bind, padded past the port's 1024-byte message: whole it
#   would fail the device (code 5); cut, it must be malformed, not a refusal;
# - a burst of 700-byte messages back to back: publishes cross TCP segment boundaries anywhere;
# - the padded refusal again, after the burst: the stream is in step;
# - 64 KiB; NUL bytes;
# - this bind's refusal in forms a C string or a lenient parser reads as the refusal itself: a
#   clientToken with \u0000 after it, a raw NUL and more JSON after it, a second object after it;
# - deep nesting; an empty message; not JSON.
in_a env PYTHONPATH="$DIR/lib" python3 - "$NET.1" "$TMP/up.log" "$DOWN" >"$TMP/hostile.log" 2>&1 <<'PY' ||
import json, socket, struct, sys
from mqtt_wire import connect, packet, read_packet, s16
host, up_log, down = sys.argv[1:4]
ct = json.loads(open(up_log).readline())["clientToken"]
padded = (json.dumps({"method": "app_bind_token_reply", "clientToken": ct, "code": 5}) + " " * 3000).encode()
r = ('{"method":"app_bind_token_reply","clientToken":"%s","code":5}' % ct).encode()
msgs = [padded]
msgs += [('{"method":"junk","n":%d,"pad":"%s"}' % (i, "p" * 660)).encode() for i in range(12)]
msgs += [padded, b"x" * 65536, b'\0\0{"code":5}\0',
         ('{"method":"app_bind_token_reply","clientToken":"%s\\u0000x","code":5}' % ct).encode(),
         r + b"\0{}", r + b'{"code":0}', b"[" * 1000 + b"\n", b"", b"not json"]
s = socket.create_connection((host, 1883), timeout=30)
s.sendall(connect("hostile-publisher", "u", "p"))
k, b = read_packet(s)
assert k == 0x20 and b[1] == 0, "CONNACK %r" % b
for pid, m in enumerate(msgs, 1):
    s.sendall(packet(0x32, s16(down) + struct.pack("!H", pid) + m))
    k, b = read_packet(s)
    assert k == 0x40 and struct.unpack("!H", b[:2])[0] == pid, "no PUBACK for message %d" % pid
s.sendall(b"\xe0\x00")
print("%d hostile publishes acknowledged by the broker" % len(msgs))
PY
    fail "the hostile publisher: $(cat "$TMP/hostile.log")"
echo "  run 2: hostile publishes sent [$(el)]"
sleep 0.5
check "hostile publishes on the down topic: the device is alive and still binding" \
    sh -c "kill -0 $DEV && ! grep -q '\"event\":\"error\"' '$TMP/dev-mqtt.jsonl'"
check "the padded refusal was malformed (cut), not a refusal" grep -q "malformed message on the down topic" "$TMP/dev-mqtt.err"
touch "$TMP/go"
DRC=0
wait "$DEV" || DRC=$?
check "the cloud's real reply afterwards binds the device (exit $DRC)" test "$DRC" = 0
check "bound event" grep -q '"event":"bound"' "$TMP/dev-mqtt.jsonl"

# ================= run 3: the log soft-AP after a failed join ====================================
# the phone's password is wrong: the join fails and the netif never gets the station's address;
# the log soft-AP raised then (--log-linger) must be reachable on the link (it served UDP 9876 on
# a netif without an address: every query unanswered) and hand out a log without a secret
"$SC" air --ssid MyAP --password 'wr0ngpass' --ip "$NET.1" "$TMP/cap-bad.pcap" >"$TMP/air-bad.log" 2>&1 || fail "smartcfg air (run 3)"
ip netns exec "$NSD" env SMARTCFG_DEVICE_SECRET='c2VjcmV0LWRldmljZS1zZWNyZXQ=' ASAN_OPTIONS="$DEV_ASAN_OPTIONS" "$SCL" --tap tap0 --ip "$NET.2/24" \
    --mac $DEVMAC --radio "file:$TMP/cap-bad.pcap" --join "sim:MyAP:pa55word" --sim-delay 300 \
    --product-id ABCDEFGHIJ --device-name devsec --json --timeout 60 --no-cloud --log-linger 15 \
    --state-dir "$TMP/state-logap" >"$TMP/dev-logap.jsonl" 2>"$TMP/dev-logap.err" &
DEV=$!
wait_for 30 grep -q "serving the provisioning log" "$TMP/dev-logap.err" || fail "no log soft-AP after the failed join"
in_a python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 0)); s.settimeout(1)
for _ in range(5):
    s.sendto(b"{\"cmdType\":3}", (sys.argv[2], 9876))
    try:
        sys.stdout.write(s.recvfrom(4096)[0].decode("ascii", "replace")); break
    except socket.timeout:
        pass' "$NET.1" "$NET.2" >"$TMP/logap.txt" 2>&1
check "the log soft-AP after a failed join answers on the link ($(wc -c <"$TMP/logap.txt") bytes)" grep -q "join failed" "$TMP/logap.txt"
check "the served log holds no secret" sh -c "! grep -qF -e wr0ngpass -e pa55word -e c2VjcmV0 '$TMP/logap.txt'"
kill -TERM "$DEV" 2>/dev/null
wait "$DEV"

grep -qF -e "pa55word" -e "wr0ngpass" -e "c2VjcmV0" "$TMP"/dev-*.jsonl "$TMP"/dev-*.err && bad "a secret leaked into the output"
[ "$fails" = 0 ] || { dump; echo "lwip_security: $fails failed"; exit 1; }
echo "PASS"
