#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 30
# The Wireshark dissector (extras/wireshark/smartcfg.lua) under Debian's tshark:
#  1. `smartcfg air` captures (802.11 + radiotap; CCMP with FCS, TKIP without, open, multicast,
#     10 % loss): guide frames marked, the stream overhead learned, and the datum rebuilt from
#     the esptouch.index/esptouch.value fields equals what the phone sent (T, p, IP, password,
#     SSID) — never a wrong byte;
#  2. a live flow captured on a wire (loopback of a private namespace): the ESP-TOUCH datagrams
#     from their UDP header, the 18266 ack (MAC, IP), the 8266 token request with the token
#     masked, the identity reply, junk flagged, and a query to the log service on UDP 9876.
set -euo pipefail
B=${SC_BUILD:?}; S=${SC_SRC:?}
LUA=$S/extras/wireshark/smartcfg.lua
SC=$B/smartcfg
T=$(mktemp -d)
NS=scws$$
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    ip netns del $NS 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok - $*"; }
command -v tshark >/dev/null || fail "tshark not installed (make deps)"
ts() { tshark -n -X lua_script:"$LUA" "$@" 2>"$T/tshark.err"; }

# datum FILE -> prints "index value" for every decoded byte, failing on two values for one index.
# FILE is a capture, or the output of esptouch_fields (one tshark run serves several checks:
# each run loads Wireshark's dissectors and the Lua script, seconds of CPU on a busy machine).
datum() {
    case $1 in
    *.fields) awk -F'\t' '$5 != "" { print $4 "\t" $5 }' "$1" ;;
    *) ts -r "$1" -Y esptouch.value -T fields -e esptouch.index -e esptouch.value ;;
    esac | python3 -c '
import sys
seen = {}
for line in sys.stdin:
    i, v = line.split()
    i, v = int(i), int(v, 16)
    if seen.setdefault(i, v) != v:
        sys.exit("index %d decoded as 0x%02x and 0x%02x" % (i, seen[i], v))
for i in sorted(seen):
    print(i, seen[i])'
}

# esptouch_fields CAPTURE -> CAPTURE.fields: for every ESP-TOUCH packet, tab-separated
# guide (1/0), length, overhead, datum index, decoded byte (empty when the packet has none)
esptouch_fields() {
    ts -r "$1" -Y esptouch -T fields -e esptouch.guide -e esptouch.length -e esptouch.overhead \
        -e esptouch.index -e esptouch.value >"$1.fields" || fail "tshark on $1: $(cat "$T/tshark.err")"
}

# expect_datum FILE SSID PASSWORD IP: the bytes the dissector decoded against the sender's datum
expect_datum() {
    datum "$1" >"$T/datum" || fail "$1: $(cat "$T/datum")"
    python3 - "$T/datum" "$2" "$3" "$4" <<'EOF' || fail "$1: datum does not match the phone's"
import sys
got = dict(map(int, l.split()) for l in open(sys.argv[1]))
ssid, pw, ip = sys.argv[2].encode(), sys.argv[3].encode(), bytes(map(int, sys.argv[4].split(".")))
T = 9 + len(ssid) + len(pw)
want = {0: T, 1: len(pw)}
for k, b in enumerate(ip + pw + ssid):
    want[5 + k] = b
bad = [i for i in want if got.get(i) != want[i]]
wrong = [i for i in got if i in want and got[i] != want[i]]
if bad:
    sys.exit("missing or wrong indices %s (wrong: %s)" % (bad[:10], wrong))
EOF
}

# --- 1. on the air -------------------------------------------------------------------------
"$SC" air --ssid 'Cafe Wi-Fi' --password 'espresso-2026' --ip 192.168.3.17 "$T/ccmp.pcap" >/dev/null
esptouch_fields "$T/ccmp.pcap"
expect_datum "$T/ccmp.pcap.fields" 'Cafe Wi-Fi' 'espresso-2026' 192.168.3.17
ok "CCMP + FCS capture: every datum byte decoded, none wrong"
G=$(awk -F'\t' '$1 == 1 { print $2 }' "$T/ccmp.pcap.fields" | sort -u | tr '\n' ' ')
[ "$G" = "512 513 514 515 " ] || fail "guide lengths: $G"
O=$(cut -f3 "$T/ccmp.pcap.fields" | sort -u | tr '\n' ' ')
# CCMP, FCS not counted: QoS uplink 26+16+36 = 78, plain-Data relay 24+16+36 = 76
[ "$O" = "76 78 " ] || fail "overheads learned: $O (want 76 78)"
ok "guide frames marked 515..512; overheads 76 (relay) and 78 (QoS uplink) learned per stream"

"$SC" air --ssid Open --password '' --cipher open --no-fcs --ip 10.0.0.9 "$T/open.pcap" >/dev/null
expect_datum "$T/open.pcap" Open '' 10.0.0.9
"$SC" air --ssid TKIPnet --password tkip-pass --cipher tkip --no-fcs --multicast --ip 10.1.2.3 "$T/tkip.pcap" >/dev/null
expect_datum "$T/tkip.pcap" TKIPnet tkip-pass 10.1.2.3
"$SC" air --ssid Lossy --password 'lossy-but-fine' --loss 10% --retry 20% --seed 7 "$T/loss.pcap" >/dev/null
expect_datum "$T/loss.pcap" Lossy 'lossy-but-fine' 192.168.1.100
ok "open/no FCS, TKIP multicast, 10 % loss with retries: datum decoded, never a wrong byte"
tshark -r "$T/ccmp.pcap" -n -X lua_script:"$LUA" -V >"$T/tree.txt" 2>&1
grep -q "ESP-TOUCH v1: index" "$T/tree.txt" && grep -q "Decoded byte: 0x" "$T/tree.txt" || fail "no ESP-TOUCH subtree"
grep -qi "lua.*error\|attempt to" "$T/tshark.err" "$T/tree.txt" && fail "Lua error: $(grep -i error "$T/tshark.err" "$T/tree.txt" | head -3)"
ok "packet tree shows the ESP-TOUCH subtree, no Lua error"

# --- 2. on a wire: the whole exchange in a private namespace's loopback --------------------
ip netns add $NS
ip -n $NS link set lo up
in_ns() { ip netns exec $NS "$@"; }
ip netns exec $NS tcpdump -i lo -U -n -w "$T/wire.pcap" udp 2>"$T/tcpdump.err" & pids+=($!)   # not via in_ns: $! must be tcpdump itself
for _ in $(seq 600); do grep -q "listening on" "$T/tcpdump.err" && break; sleep 0.1; done
TOKEN=fedcba9876543210fedcba9876543210
export SMARTCFG_DEVICE_SECRET=c2VjcmV0c2VjcmV0c2VjcmV0
in_ns "$SC" device --radio udp --join sim:WireAP:wire-pass-1:127.0.0.2 --product-id WSPRODUCT1 \
    --device-name ws-dev --no-cloud --token-linger 2 --state-dir "$T/state" --timeout 60 --json >"$T/dev.out" 2>"$T/dev.err" &
DEVPID=$!; pids+=($DEVPID)
in_ns "$SC" send --ssid WireAP --password wire-pass-1 --bssid 02:5c:00:00:00:01 --ip 127.0.0.1 --dest 127.0.0.1 \
    --token $TOKEN --timeout 40 --json >"$T/send.out" 2>"$T/send.err" || fail "send: $(tail -3 "$T/send.err")"
wait $DEVPID || fail "device exit $?"
# an unparseable request -> Current_Error, and the log service, by hand on the same wire
in_ns python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(0.5)
for port, msg in ((9876, b'{"cmdType":3}'), (8266, b'not json')):
    s.sendto(msg, ("127.0.0.1", port))
EOF
# tcpdump -U writes each packet as it comes: stop it once the last datagram (UDP length 16:
# "not json" to 8266) is in the file; the poll reads the file with tcpdump, which starts in
# milliseconds where tshark takes seconds of CPU
for _ in $(seq 600); do
    [ -n "$(tcpdump -r "$T/wire.pcap" -n 'udp dst port 8266 and udp[4:2] = 16' 2>/dev/null)" ] && break
    sleep 0.1
done
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true

expect_datum "$T/wire.pcap" WireAP wire-pass-1 127.0.0.1
ok "wire capture: ESP-TOUCH datum decoded from the UDP header (no calibration needed)"
A=$(ts -r "$T/wire.pcap" -Y esptouch_ack -T fields -e esptouch.ack.total -e esptouch.ack.ip | sort -u | head -1)
[ "$A" = "$(printf '%d\t127.0.0.2' $((9 + 6 + 11)))" ] || fail "ack fields: '$A'"
ok "UDP 18266 ack: total length 26 and the device IP"
ts -r "$T/wire.pcap" -Y 'tc8266.cmdType == 0' -T fields -e tc8266.token | sort -u >"$T/tokens"
[ "$(cat "$T/tokens")" = "fedc****************************" ] || fail "token field: $(cat "$T/tokens")"
grep -qF $TOKEN <<<"$(ts -r "$T/wire.pcap" -n -V)" && fail "the full token shows in the packet tree"
ok "token request: cmdType 0, token masked, the full token nowhere in the tree"
I=$(ts -r "$T/wire.pcap" -Y 'tc8266.cmdType == 2 && !tc8266.deviceReply' -T fields -e tc8266.productId -e tc8266.deviceName -e tc8266.protoVersion | sort -u)
[ "$I" = "$(printf 'WSPRODUCT1\tws-dev\t2.0')" ] || fail "identity reply: '$I'"
ok "identity reply: productId, deviceName, protoVersion"
# after the flow the device is gone: the junk and the log query get no answer, but they are
# still dissected as what they claim to be
[ "$(ts -r "$T/wire.pcap" -Y 'tc8266.malformed' | wc -l)" -ge 1 ] || fail "junk on 8266 not flagged"
[ "$(ts -r "$T/wire.pcap" -Y 'sclog && udp.dstport == 9876' -T fields -e tc8266.cmdType)" = 3 ] || fail "log query on 9876"
ok "junk on 8266 flagged malformed; log-service query cmdType 3 on 9876"
echo "PASS"
