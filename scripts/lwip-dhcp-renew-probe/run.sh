#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Does the lwIP port's DHCP client renew a real server's lease? (docs/security.md F135.) Two
# network namespaces of this script's own: dnsmasq with a 2-minute lease on one side of a veth,
# probe.c (the port's client on a tap bridged to the veth) on the other. Prints the address
# every 5 s for 80 s and dnsmasq's DHCP log: a REQUEST/ACK with a new transaction ~60 s after
# the first ACK, the address kept throughout. Needs root, dnsmasq and a build of the project
# (BUILD, default ./build). Usage: sudo bash scripts/lwip-dhcp-renew-probe/run.sh
# OUTAGE=1 (docs/security.md F137): dnsmasq stops 10 s after the start and comes back at 200 s,
# the probe runs 280 s: the lease ends at ~120 s with no server, the client keeps asking (it
# gave up at ~148 s before F137) and has the address again at ~205 s.
# NEWADDR=1: dnsmasq is restarted at 10 s, authoritative, with another range (10.77.0.70-80)
# and no lease file: the renewal at ~60 s (unicast to 10.77.0.1) is NAKed, the client takes a
# new address; at 80 s a datagram to the new address's 8266 must be echoed by the socket the
# probe bound to the first one (docs/security.md, the lwIP port: sockets follow a new lease),
# and one to the old address must not be.
# NEWSRV=1: the server replaced at 10 s (10.77.0.1 gone, an authoritative dnsmasq on 10.77.0.2
# with another range): the rebinding REQUEST at 105 s is NAKed by the new server and the
# client has a new address by ~110 s (before docs/security.md F156: at ~123 s, the lease's end).
set -eu
d=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${BUILD:-build}" && pwd)
t=$(mktemp -d)
A=lwrp$$a N=lwrp$$b
cleanup() { kill "${DM:-}" "${TD:-}" 2>/dev/null || true; [ -f "$t/dm2" ] && kill "$(cat "$t/dm2")" 2>/dev/null || true; ip netns del $A 2>/dev/null || true; ip netns del $N 2>/dev/null || true; rm -rf "$t"; }
trap cleanup EXIT
gcc -D_GNU_SOURCE -I"$d/../../ports/lwip" -I"$d/../../include" -I"$d/../../src" $(pkg-config --cflags lwip) \
    "$d/probe.c" "$B/ports/lwip/libsmartcfg_lwip.a" "$B/libsmartcfg.a" \
    $(pkg-config --libs lwip) -lpthread -o "$t/probe"
ip netns add $A
ip netns add $N
ip link add va netns $A type veth peer name vb netns $N
ip -n $A addr add 10.77.0.1/24 dev va
ip -n $A link set va up
ip -n $N tuntap add dev rtap0 mode tap
ip -n $N link add rbr0 type bridge
ip -n $N link set vb master rbr0
ip -n $N link set rtap0 master rbr0
ip -n $N link set vb up
ip -n $N link set rtap0 up
ip -n $N link set rbr0 up
ip netns exec $A dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root --interface=va \
    --bind-interfaces --dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,2m --dhcp-leasefile="$t/leases" \
    --pid-file="$t/dm.pid" --log-dhcp --log-facility="$t/dnsmasq.log" &
DM=$!
# the DHCP datagrams on the server's side, with their IP addresses (RENEWING is unicast to
# 10.77.0.1, REBINDING and the rest broadcast): printed at the end
ip netns exec $A tcpdump -l -n -i va udp port 67 or udp port 68 > "$t/wire" 2>/dev/null &
TD=$!
sleep 1
if [ "${OUTAGE:-0}" = 1 ]; then
    ( sleep 10; kill $DM; sleep 190
      ip netns exec $A dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root --interface=va \
          --bind-interfaces --dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,2m --dhcp-leasefile="$t/leases" \
          --pid-file="$t/dm.pid" --log-dhcp --log-facility="$t/dnsmasq.log" &
      echo $! > "$t/dm2"; wait ) &
    ip netns exec $N "$t/probe" 280
    kill "$(cat "$t/dm2")" 2>/dev/null || true
elif [ "${NEWADDR:-0}" = 1 ]; then
    ( sleep 10; kill $DM; sleep 1
      ip netns exec $A dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root --interface=va \
          --bind-interfaces --dhcp-authoritative --dhcp-range=10.77.0.70,10.77.0.80,255.255.255.0,2m \
          --dhcp-leasefile="$t/leases2" --pid-file="$t/dm.pid" --log-dhcp --log-facility="$t/dnsmasq.log" &
      echo $! > "$t/dm2"; wait ) &
    ip netns exec $N "$t/probe" 95 > "$t/probe.out" &
    PR=$!
    sleep 80
    new=$(grep -o 'ip=yes 10\.77\.0\.[0-9]*' "$t/probe.out" | tail -1 | cut -d' ' -f2)
    old=$(grep -o 'bound to [0-9.]*' "$t/probe.out" | cut -d' ' -f3)
    echo "first lease $old, now $new"
    for a in "$new" "$old"; do
        r=$(ip netns exec $A python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(b"hello",(sys.argv[1],8266))
try: print(s.recvfrom(64))
except socket.timeout: print("no answer")' "$a")
        echo "to $a:8266: $r"
    done
    wait $PR
    cat "$t/probe.out"
    kill "$(cat "$t/dm2")" 2>/dev/null || true
elif [ "${NEWSRV:-0}" = 1 ]; then
    # the server replaced: at 10 s 10.77.0.1 goes away and an authoritative dnsmasq on
    # 10.77.0.2 serves another range; the renewal's unicasts to .1 go unanswered, the rebinding
    # broadcast at T2 (105 s) is NAKed by .2, which the client takes (any server's NAK counts
    # while rebinding, docs/security.md F156): a new address by ~110 s, not at the lease's end
    ( sleep 10; kill $DM; ip -n $A addr del 10.77.0.1/24 dev va; ip -n $A addr add 10.77.0.2/24 dev va
      ip netns exec $A dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root --interface=va \
          --bind-interfaces --dhcp-authoritative --dhcp-range=10.77.0.70,10.77.0.80,255.255.255.0,2m \
          --dhcp-leasefile="$t/leases2" --pid-file="$t/dm.pid" --log-dhcp --log-facility="$t/dnsmasq.log" &
      echo $! > "$t/dm2"; wait ) &
    ip netns exec $N "$t/probe" 130
    kill "$(cat "$t/dm2")" 2>/dev/null || true
else
    ip netns exec $N "$t/probe"
fi
grep -E "DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK)" "$t/dnsmasq.log"
kill $TD 2>/dev/null || true
sleep 0.5
echo "on the wire (tcpdump on the server's side):"
cat "$t/wire"
