#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# smartcfg send: the datagrams that leave the socket follow the encoder/schedule exactly
# (docs/protocol/esptouch-v1.md#test-vectors vector A: guide 515..512 bursts, the data cycle in order, cursor kept across
# guide phases), in broadcast, multicast (234.n.n.n rotating per burst/triplet) and --dest
# unicast mode. Runs in two network namespaces of its own joined by a veth pair: "phone"
# (192.168.1.100) and "air", where an AF_PACKET capture records what arrives.
set -euo pipefail
B=${SC_BUILD:?}; S=${SC_SRC:?}
FAKE="python3 $S/tests/integration/send_fake.py"
ID=$$-$RANDOM
PH=scsend-ph-$ID; AIR=scsend-air-$ID
T=$(mktemp -d)
cleanup() { ip netns del $PH 2>/dev/null || true; ip netns del $AIR 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
ip netns add $PH; ip netns add $AIR
ip -n $PH link set lo up; ip -n $AIR link set lo up
ip -n $PH link add v0 type veth peer name v1 netns $AIR
ip -n $PH addr add 192.168.1.100/24 dev v0
ip -n $PH link set v0 up multicast on; ip -n $AIR link set v1 up
ip -n $PH route add default dev v0

printf '12345678\n' > "$T/pw"
SEND="$B/smartcfg send --ssid TP-LINK_2.4G --bssid 00:11:22:33:44:55 --ip 192.168.1.100 --no-token --count 1 --json"
fail=0
run() { # mode seconds min_phases extra-args...
  local mode=$1 secs=$2 phases=$3; shift 3
  rm -f "$T/cap" "$T/ev" "$T/ready" "$T/stop"
  # The capture cannot drop (its buffer holds a whole run) and signals when it is bound;
  # after the sender exits it reads until every datagram the sender reports is in.
  local opts=(--ready "$T/ready" --stop "$T/stop" --events "$T/ev")
  if [ "$mode" = unicast ]; then
    ip netns exec $PH $FAKE recv 127.0.0.1 "$T/cap" "${opts[@]}" & cap=$!
  else
    ip netns exec $AIR $FAKE capture v1 "$T/cap" "${opts[@]}" & cap=$!
  fi
  for _ in $(seq 600); do [ -e "$T/ready" ] && break; kill -0 $cap 2>/dev/null || break; sleep 0.05; done
  [ -e "$T/ready" ] || { echo "FAIL: $mode: capture did not start"; fail=1; return; }
  set +e
  ip netns exec $PH $SEND --timeout "$secs" "$@" > "$T/ev"; rc=$?
  touch "$T/stop"
  wait $cap || { echo "FAIL: $mode: capture failed"; fail=1; }
  set -e
  # nobody acks: exit 3 (timeout) is the expected outcome
  if [ $rc -ne 3 ]; then echo "FAIL: $mode: exit $rc, want 3"; fail=1; fi
  grep -q '"event":"timeout"' "$T/ev" || { echo "FAIL: $mode: no timeout event"; fail=1; }
  if grep -q 12345678 "$T/ev"; then echo "FAIL: $mode: the password was printed"; fail=1; fi
  $FAKE check "$T/cap" "$T/ev" $mode --min-phases $phases --dest 127.0.0.1 || fail=1
}
# 8.5 s: guide, data, then the second guide phase at 6 s and data resuming at the cursor
run broadcast 8.5 4 --iface v0 --password 12345678
run multicast 2.5 2 --multicast --password-hex 3132333435363738
run unicast 2.5 2 --dest 127.0.0.1 --password-file "$T/pw"
exit $fail
