#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# When a subscription starts and stops delivering, against a broker of the test's own (Python on
# raw sockets, a free loopback port) and `smartcfg device --at` (docs/at.md "+TCMQTTRCVPUB"):
# - P/D/held: the broker sends a message on it, 1 s later the SUBACK, then another: the host
#   reads +TCMQTTSUB:OK and the second one only (before: the first too, ahead of the OK);
# - P/D/once1..3: a message, its SUBACK and another message in one TCP write, so the device's
#   client takes in all three before the module looks: the host reads +TCMQTTSUB:OK and the
#   second one only (F153; before, the SUBACK was seen first, the topic granted, then the earlier
#   message printed too);
# - P/D/no: a message, 1 s later a SUBACK that refuses (0x80): FAIL,-108 and nothing printed;
# - AT+TCMQTTUNSUB of P/D/held that the broker never answers: FAIL,202, and the messages the
#   broker goes on sending on P/D/held are not printed (before: printed again after the FAIL);
#   AT+TCMQTTSUB? no longer lists it, and a new AT+TCMQTTSUB of it delivers again;
# - a QoS 1 AT+TCMQTTPUB that the broker answers with a message and the PUBACK in one write:
#   the host reads the message, then +TCMQTTPUB:OK, in the wire's order (F154; before, the OK
#   came first);
# - P/D/burst: the SUBACK, 30 messages and the broker closes the connection, all at once: the
#   host reads +TCMQTTSUB:OK, the 30 messages in order, then +TCMQTTDISCON,-103 (F125; before, the
#   drop came first, the SUB ended FAIL,-103 and the messages were lost without a word).
# The Tencent C SDK adds a topic's handler at its SUBACK and removes it when it sends the
# UNSUBSCRIBE; the module now does the same. A real mosquitto cannot hold or refuse a SUBACK.
set -u
SC=${SC_BUILD:?}/smartcfg
HOST=${SC_SRC:?}/tests/integration/at_host.py
TMP=$(mktemp -d /tmp/sc_at_suback.XXXXXX)
BROKER=
cleanup() { [ -n "$BROKER" ] && kill "$BROKER" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; exit 1; }
PORT=$(python3 "${SC_SRC}/tests/integration/lib/free_port.py" $$)
P=PIDSUBA001
D=dev-suba
SECRET='c2VjcmV0LWF0LXN1YmE='

PYTHONPATH=${SC_SRC}/tests/integration/lib python3 - "$PORT" "$P/$D" >"$TMP/broker.out" 2>"$TMP/broker.err" <<'PYEOF' &
import socket, struct, sys, time
import mqtt_wire
from mqtt_wire import accept_one, packet, read_packet, s16
port, base = int(sys.argv[1]), sys.argv[2]
c = accept_one(port)
def publish(t, payload):
    mqtt_wire.publish(c, t, payload)
held_subs = 0
while True:
    kind, body = read_packet(c)
    if kind >> 4 == 1:                      # CONNECT
        c.sendall(packet(0x20, b"\x00\x00"))
    elif kind >> 4 == 8:                    # SUBSCRIBE
        mid = body[:2]
        sub = body[4:4 + struct.unpack("!H", body[2:4])[0]].decode()
        print("subscribe", sub, flush=True)
        if sub == base + "/held" and held_subs == 0:
            held_subs += 1
            publish(sub, b"early")          # 1 s before the SUBACK: the device reads it alone
            time.sleep(1)
            c.sendall(packet(0x90, mid + bytes([body[-1]])))
            publish(sub, b"late")
        elif sub.startswith(base + "/once"):    # message, SUBACK, message: one write
            c.sendall(packet(0x30, s16(sub) + b"pre") + packet(0x90, mid + bytes([body[-1]])) +
                      packet(0x30, s16(sub) + b"post"))
        elif sub == base + "/no":
            publish(sub, b"before")
            time.sleep(1)
            c.sendall(packet(0x90, mid + b"\x80"))
            publish(sub, b"after")
            publish(base + "/mark", b"m1")
        elif sub == base + "/burst":            # everything before the close in one write
            c.sendall(packet(0x90, mid + bytes([body[-1]])) +
                      b"".join(packet(0x30, s16(sub) + b"b%02d" % i) for i in range(30)))
            c.shutdown(socket.SHUT_RDWR)
            c.close()
            break
        else:
            c.sendall(packet(0x90, mid + bytes([body[-1]])))
            if sub == base + "/held":
                publish(sub, b"back")
    elif kind >> 4 == 10:                   # UNSUBSCRIBE: never answered
        print("unsubscribe", flush=True)
        publish(base + "/held", b"gone1")
    elif kind >> 4 == 3 and kind & 6:       # the host's QoS 1 PUBLISH: a message, then the PUBACK
        tl = struct.unpack("!H", body[:2])[0]
        c.sendall(packet(0x30, s16(base + "/mark") + b"m3") + packet(0x40, body[2 + tl:4 + tl]))
    elif kind >> 4 == 3:                    # the host's PUBLISH (QoS 0) on P/D/poke
        publish(base + "/held", b"gone2")
        publish(base + "/mark", b"m2")
    elif kind >> 4 == 12:                   # PINGREQ
        c.sendall(packet(0xD0, b""))
    elif kind >> 4 == 14:                   # DISCONNECT
        break
PYEOF
BROKER=$!
for _ in $(seq 100); do grep -q listening "$TMP/broker.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$TMP/broker.out" || fail "the broker did not start"

. "${SC_SRC:?}/tests/integration/lib/at_script.bash"
T=$P/$D
{ at_plain_connect "$P" "$D" "$SECRET"; cat <<EOF
send AT+TCMQTTSUB="$T/mark",0
reply b"OK\r\n+TCMQTTSUB:OK\r\n"
send AT+TCMQTTSUB="$T/held",0
reply b"OK\r\n+TCMQTTSUB:OK\r\n"
reply b'+TCMQTTRCVPUB:"$T/held",4,"late"\r\n'
EOF
for i in 1 2 3; do cat <<EOF
send AT+TCMQTTSUB="$T/once$i",0
reply b"OK\r\n+TCMQTTSUB:OK\r\n"
reply b'+TCMQTTRCVPUB:"$T/once$i",4,"post"\r\n'
EOF
done
cat <<EOF
send AT+TCMQTTSUB="$T/no",0
reply b"OK\r\n+TCMQTTSUB:FAIL,-108\r\n"
reply b'+TCMQTTRCVPUB:"$T/mark",2,"m1"\r\n'
send AT+TCMQTTUNSUB="$T/held"
reply b"OK\r\n+TCMQTTUNSUB:FAIL,202\r\n"
send AT+TCMQTTPUB="$T/poke",0,"x"
reply b"OK\r\n+TCMQTTPUB:OK\r\n"
reply b'+TCMQTTRCVPUB:"$T/mark",2,"m2"\r\n'
send AT+TCMQTTSUB?
reply b'+TCMQTTSUB:"$T/mark",0\r\n+TCMQTTSUB:"$T/once1",0\r\n+TCMQTTSUB:"$T/once2",0\r\n+TCMQTTSUB:"$T/once3",0\r\nOK\r\n'
send AT+TCMQTTPUB="$T/poke",1,"y"
reply b"OK\r\n"
reply b'+TCMQTTRCVPUB:"$T/mark",2,"m3"\r\n'
reply b"+TCMQTTPUB:OK\r\n"
send AT+TCMQTTSUB="$T/held",0
reply b"OK\r\n+TCMQTTSUB:OK\r\n"
reply b'+TCMQTTRCVPUB:"$T/held",4,"back"\r\n'
quiet 1
send AT+TCMQTTSUB="$T/burst",0
reply b"OK\r\n+TCMQTTSUB:OK\r\n"
EOF
for i in $(seq -w 0 29); do echo "reply b'+TCMQTTRCVPUB:\"$T/burst\",3,\"b$i\"\\r\\n'"; done
cat <<EOF
reply b"+TCMQTTDISCON,-103\r\n"
quiet 1
hangup
EOF
} >"$TMP/s"
at_broker_session 60 "$TMP/s" "$PORT" || fail "session: $(cat "$TMP/host.out")"
grep -q "unsubscribe" "$TMP/broker.out" || fail "the broker never saw the UNSUBSCRIBE"
[ "$(grep -c "subscribe $T/held" "$TMP/broker.out")" = 2 ] || fail "P/D/held not subscribed twice"
# early, pre x3, before, after, gone1, gone2: counted, not printed
grep -q 'AT: 0 messages over 1024 bytes, [1-8] on a topic not subscribed' "$TMP/dev.err" ||
    fail "the dropped messages not counted in the log"
echo "PASS"
