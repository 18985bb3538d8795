#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# End to end on one host, in a namespace of its own: `smartcfg send` (phone 127.0.0.1) drives a
# real `smartcfg device` on its virtual radio (--radio udp: the ESP-TOUCH datagrams sent with
# --dest 127.0.0.1 become sniffed frames) with a simulated AP that gives it 127.0.0.2; the
# device decodes, acks, takes the token and answers with its identity (--no-cloud).
# (Fails if a piece it needs is missing from the build: nothing is skipped.)
set -uo pipefail
B=${SC_BUILD:?}
NS=scsend-e2e-$$-$RANDOM
T=$(mktemp -d)
cleanup() { [ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null; ip netns del $NS 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ip netns add $NS; ip -n $NS link set lo up; mkdir -p "$T/state"
export SMARTCFG_DEVICE_SECRET=c2VjcmV0c2VjcmV0c2VjcmV0
ip netns exec $NS "$B/smartcfg" device --radio udp --join sim:TP-LINK_2.4G:12345678:127.0.0.2 \
  --product-id ABCDEFGHIJ --device-name e2e_dev1 --no-cloud --token-linger 2 --state-dir "$T/state" --timeout 60 --json \
  > "$T/dev.ev" 2> "$T/dev.err" &
dpid=$!
sleep 0.5
if ! kill -0 $dpid 2>/dev/null && grep -q "not supported" "$T/dev.err"; then
  echo "FAIL: smartcfg device is not implemented in this build" >&2; exit 1
fi
ip netns exec $NS "$B/smartcfg" send --ssid TP-LINK_2.4G --password 12345678 --bssid 00:11:22:33:44:55 \
  --ip 127.0.0.1 --dest 127.0.0.1 --token e2etoken0123456789 --timeout 40 --json > "$T/send.ev"
rc=$?
fail=0
[ $rc -eq 0 ] || { echo "FAIL: send exit $rc"; fail=1; }
grep -q '"event":"ack".*"ip":"127.0.0.2"' "$T/send.ev" || { echo "FAIL: no ack from 127.0.0.2"; fail=1; }
grep -q '"event":"identity".*"product_id":"ABCDEFGHIJ","device_name":"e2e_dev1"' "$T/send.ev" \
  || { echo "FAIL: no identity"; fail=1; }
if grep -q -e 12345678 -e e2etoken0123456789 "$T/send.ev"; then echo "FAIL: secret printed"; fail=1; fi
[ $fail -eq 0 ] || { cat "$T/send.ev"; tail -20 "$T/dev.ev" "$T/dev.err"; }
exit $fail
