#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# AT+TCMQTTPUBL whose payload never fully arrives (a real mosquitto on a loopback port): after
# the reference's 20 s, +CME ERROR:202, nothing published, and the line takes commands again;
# "+++\r\n" cancels the payload phase (+CME ERROR:209). Byte for byte (docs/at.md).
set -u
SC=${SC_BUILD:?}/smartcfg
HOST=${SC_SRC:?}/tests/integration/at_host.py
TMP_TAG=at_publ
. "${SC_SRC:?}/tests/integration/lib/at_broker.bash"

SECRET='c2VjcmV0LWF0LXB1Ymw='
P=PIDPUBL001
D=dev-publ
T=$P/$D/data
. "${SC_SRC:?}/tests/integration/lib/at_script.bash"
{ at_plain_connect "$P" "$D" "$SECRET"; cat <<EOF
send AT+TCMQTTSUB="$T",0
reply b"OK\r\n+TCMQTTSUB:OK\r\n"
# 5 of 50 bytes, then silence: after 20 s +CME ERROR:202, nothing published
send AT+TCMQTTPUBL="$T",0,50
reply b'OK\r\n>\r\n'
raw b'short'
quiet 15
wait 15 +CME ERROR:202
quiet 0.5
# the line works again, and the next PUBL goes through
send AT
reply b"OK\r\n"
send AT+TCMQTTPUBL="$T",0,5
reply b'OK\r\n>\r\n'
raw b'hello'
reply b'+TCMQTTPUBL:OK\r\n+TCMQTTRCVPUB:"$T",5,"hello"\r\n'
# "+++\r\n" leaves the payload phase at once
send AT+TCMQTTPUBL="$T",0,50
reply b'OK\r\n>\r\n'
raw b'+++\r\n'
reply b"+CME ERROR:209\r\n"
send AT+TCMQTTSTATE?
reply b"+TCMQTTSTATE:1\r\nOK\r\n"
quiet 0.5
hangup
EOF
} >"$TMP/s"
at_broker_session 100 "$TMP/s" "$PORT" || fail "session: $(cat "$TMP/host.out")"
grep -q '"short' "$TMP/host.err" && fail "the cut payload was published"
echo "PASS"
