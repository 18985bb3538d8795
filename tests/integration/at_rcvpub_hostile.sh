#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Another client of the same (real) mosquitto publishes under the AT host's wildcard
# subscription (AT+TCMQTTSUB="P/D/#"): topics with a quote and a comma that would hand the
# host's parser a fake length or fake fields, a topic over the 159 bytes a received message
# keeps, a payload over its 1024 bytes. None of them reaches the host: the next bytes on the
# line are the good messages published after them, byte for byte; the device's log counts the
# dropped ones (F102-F104, docs/at.md "+TCMQTTRCVPUB"). A payload holding CR LF and quotes passes
# as received (the reference's framing: the host reads <len> bytes).
set -u
SC=${SC_BUILD:?}/smartcfg
HOST=${SC_SRC:?}/tests/integration/at_host.py
TMP_TAG=at_rcvh
. "${SC_SRC:?}/tests/integration/lib/at_broker.bash"

SECRET='c2VjcmV0LWF0LXJjdmg='
P=PIDRCVH001
D=dev-rcvh
. "${SC_SRC:?}/tests/integration/lib/at_script.bash"
{ at_plain_connect "$P" "$D" "$SECRET"; cat <<EOF
send AT+TCMQTTSUB="$P/$D/#",1
reply b"OK\r\n+TCMQTTSUB:OK\r\n"
touch $TMP/go
wait_file 30 $TMP/sent
reply b'+TCMQTTRCVPUB:"$P/$D/data",12,"x\r\nOK\r\n\",1,\""\r\n'
reply b'+TCMQTTRCVPUB:"$P/$D/after",4,"good"\r\n'
quiet 11
hangup
EOF
} >"$TMP/s"

# The other client, once the host has subscribed; QoS 1 from one publisher after another, so
# the broker hands them on in this order and "after" comes last.
(
    for _ in $(seq 600); do [ -f "$TMP/go" ] && break; sleep 0.1; done
    pub() { mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 "$@" || echo "publish failed: $*" >>"$TMP/pub.err"; }
    pub -t "$P/$D/x\",3,\"abc" -m 'hello'                      # a fake length, a fake payload
    pub -t "$P/$D/y,5,hello" -m 'world'                        # a comma-splitting host's fields
    pub -t "$P/$D/$(printf 'z%.0s' $(seq 1 200))" -m 'long'    # cut at 159 bytes: another topic
    pub -t "$P/$D/data" -m "{$(printf 'A%.0s' $(seq 1 1500))}" # over the 1024 bytes kept
    pub -t "$P/$D/data" -m "$(printf 'x\r\nOK\r\n",1,"')"
    pub -t "$P/$D/after" -m 'good'
    touch "$TMP/sent"
) &
BG_PIDS="$BG_PIDS $!"

at_broker_session 100 "$TMP/s" "$PORT" || fail "session: $(cat "$TMP/host.out")"
[ -s "$TMP/pub.err" ] && fail "$(cat "$TMP/pub.err")"
grep -q 'a topic over 159 bytes (1 in all)' "$TMP/dev.err" || fail "the long topic's drop not in the log"
grep -q 'AT: .*not printed as +TCMQTTRCVPUB (1, 2 in all)' "$TMP/dev.err" ||
    fail "the cut message and the two topics not counted in the log"
echo "PASS"
