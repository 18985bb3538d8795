#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The three-host provisioning with the device on lwIP (ports/lwip, smartcfg-lwip): phone, device
# and cloud in three network namespaces joined by a bridge. In the device's namespace a bridge
# joins its veth (the radio: libpcap sniffs the phone's ESP-TOUCH broadcasts there) and a tap
# that smartcfg-lwip drives: lwIP owns the device's address, the Linux stack of that namespace
# has none. Run 1: the address from DHCP (dnsmasq on the cloud host), Tencent's mini-program
# SDK as the app (token over UDP 8266, polling the token API), `smartcfg cloud` the cloud.
# Run 2: a static --ip and `smartcfg send --cloud` as the phone. Both to bound. Asserts that
# the device's packets were lwIP's: no IPv4 address on the Linux side, the DHCP exchange, the
# ack, the 8266 reply and the MQTT connection on the wire carry lwIP's MAC, and lwIP's netif
# counted the frames.
set -euo pipefail
SC=${SC_BUILD:?}/smartcfg
SCL=${SC_BUILD:?}/smartcfg-lwip
SRC=${SC_SRC:?}
P=scl$$                       # unique prefix: parallel runs never share a namespace
PHONE=10.78.0.1 DEV=10.78.0.2 CLOUD=10.78.0.3
DEVMAC=02:1a:b2:00:00:42
SSID="LWIP-AP"
WIFI_PASS="lwip-horse-7"
PRODUCT=LWIPPRODUC
DEVNAME=lwip-dev-1
BSSID=02:5c:00:00:00:01
. "$SRC/tests/integration/lib/three_hosts.bash"

test -x "$SCL" || { echo "FAIL: $SCL not built (SMARTCFG_WITH_LWIP, make deps)"; exit 1; }

# --- the three hosts; the device's eth0 has no address ---------------------------------------
three_hosts_up $PHONE "" $CLOUD
# the device: eth0 (no address) and the tap on one bridge; lwIP is the only IP stack there
in_ns $NS_DEV ip tuntap add dev tap0 mode tap
in_ns $NS_DEV ip link add devbr type bridge
in_ns $NS_DEV ip link set devbr type bridge mcast_snooping 0
in_ns $NS_DEV ip link set eth0 master devbr
in_ns $NS_DEV ip link set tap0 master devbr
in_ns $NS_DEV ip link set tap0 up
in_ns $NS_DEV ip link set devbr up
in_ns $NS_DEV sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true

# --- the cloud ------------------------------------------------------------------------------
(umask 077; od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$T/admin.key")
AUTH="Authorization: Bearer $(cat "$T/admin.key")"
ip netns exec $NS_CLOUD "$SC" cloud --http $CLOUD:8080 --mqtt $CLOUD:1883 --db "$T/cloud.db" --json \
    --admin-key-file "$T/admin.key" >"$T/cloud.out" 2>"$T/cloud.err" &
pids+=($!)
wait_for 60 in_ns $NS_PHONE curl -sf -o /dev/null -H "$AUTH" "http://$CLOUD:8080/v1/bindings" || { echo "cloud did not come up"; cat "$T/cloud.err"; exit 1; }
api POST /v1/products "{\"product_id\":\"$PRODUCT\"}" >"$T/product.json"
api POST "/v1/products/$PRODUCT/devices" "{\"device_name\":\"$DEVNAME\"}" >"$T/devreg.json"
DEVICE_SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["device_secret"])' "$T/devreg.json")
check "device registered in the cloud" test -n "$DEVICE_SECRET"
# The phone's user (the local cloud has accounts): made with the admin API, logged in with
# AppGetToken; the SDK and `smartcfg send` take the AccessToken from the environment.
three_hosts_phone_user

# --- the wire: everything the device's link carries, seen from the bridge's namespace ------
ip netns exec $NS_BR tcpdump -i br0 -n -e -U -w "$T/wire.pcap" "ether host $DEVMAC" 2>"$T/tcpdump.err" &
TCPDUMP_PID=$!
pids+=("$TCPDUMP_PID")
wait_for 60 grep -q "listening on" "$T/tcpdump.err" || { echo "tcpdump did not start"; cat "$T/tcpdump.err"; exit 1; }

# --- a DHCP server on the cloud host: one address, for the device --------------------------
ip netns exec $NS_CLOUD dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root \
    --interface=eth0 --bind-interfaces --dhcp-range=$DEV,$DEV,255.255.255.0,10m \
    --dhcp-leasefile="$T/leases" --pid-file="$T/dnsmasq.pid" --log-dhcp --log-facility="$T/dnsmasq.log" &
pids+=($!)
wait_for 60 grep -qs "DHCP, IP range" "$T/dnsmasq.log" || { echo "dnsmasq did not start"; cat "$T/dnsmasq.log"; exit 1; }

# --- the device on lwIP -----------------------------------------------------------------------
start_device() { # $1 = tag, rest = extra options (--ip, or none: DHCP)
    local tag=$1; shift
    ip netns exec $NS_DEV env SMARTCFG_DEVICE_SECRET="$DEVICE_SECRET" "$SCL" --tap tap0 --mac $DEVMAC \
        --radio pcap:eth0 --join "sim:$SSID:$WIFI_PASS" \
        --product-id $PRODUCT --device-name $DEVNAME --broker "$CLOUD:1883" \
        --state-dir "$T/devstate" --timeout 90 --json "$@" >"$T/dev-$tag.out" 2>"$T/dev-$tag.err" &
    DEV_PID=$!
    pids+=("$DEV_PID")
    wait_for 60 grep -q '"state":"sniffing"' "$T/dev-$tag.out" || { echo "device did not start"; cat "$T/dev-$tag.err"; exit 1; }
}
start_device dhcp

# --- the app: Tencent's SDK (token over UDP 8266 from its own UdpServer, polling, binding) ----
. "$SRC/tests/integration/lib/sdk.bash"
ensure_sdk
rc=0
in_ns $NS_PHONE node "$SRC/tests/integration/lib/sdk_wificonf.js" "$SDK_MODULES" "http://$CLOUD:8080/" "$SC" \
    "$SSID" $BSSID $PHONE eth0 <<<"$WIFI_PASS" >"$T/sdk.out" 2>"$T/sdk.err" || rc=$?
check "Tencent SDK as the app: provisioning completes" test "$rc" = 0
check "Tencent SDK: the lwIP device answered its UDP 8266 request" \
    grep -q "RESULT {\"productId\":\"$PRODUCT\",\"deviceName\":\"$DEVNAME\"}" "$T/sdk.out"
check "Tencent SDK: its poller saw the binding" grep -q "BUSINESS_QUERY_TOKEN_STATE_SUCCESS" "$T/sdk.out"
DEV_RC=0
wait "$DEV_PID" || DEV_RC=$?
check "device exits 0 (bound)" test "$DEV_RC" = 0
cp "$T/dnsmasq.log" "$T/dnsmasq.log.run1" 2>/dev/null || touch "$T/dnsmasq.log.run1"
check "device reported bound" grep -q '"event":"bound"' "$T/dev-dhcp.out"
check "device's address is the DHCP lease ($DEV)" grep -q "\"event\":\"ip\".*\"ip\":\"$DEV\"" "$T/dev-dhcp.out"
check "DHCP: dnsmasq acked the lease to lwIP's MAC" grep -qi "DHCPACK(eth0) $DEV $DEVMAC" "$T/dnsmasq.log"
check "binding visible in the cloud API" sh -c "ip netns exec $NS_PHONE curl -sf -H \"$AUTH\" http://$CLOUD:8080/v1/bindings | grep -q $DEVNAME"
check "the cloud authenticated the device over MQTT" grep -q "connect_ok client=$PRODUCT$DEVNAME" "$T/cloud.err"

# --- run 2: static address, smartcfg send as the phone ----------------------------------------
start_device static --ip $DEV/24
rc=0
in_ns $NS_PHONE "$SC" send --ssid "$SSID" --password-file - --bssid $BSSID --ip $PHONE --iface eth0 --count 1 \
    --cloud "http://$CLOUD:8080" --timeout 60 --json <<<"$WIFI_PASS" >"$T/send.out" 2>"$T/send.err" || rc=$?
check "static --ip: the phone saw the ack and the binding (send exits 0)" test "$rc" = 0
check "static --ip: the ack came from lwIP's address" grep -q "\"event\":\"ack\".*\"ip\":\"$DEV\"" "$T/send.out"
DEV_RC=0
wait "$DEV_PID" || DEV_RC=$?
check "static --ip: device exits 0 (bound)" test "$DEV_RC" = 0
check "static --ip: no DHCP this time" test "$(grep -c DHCPDISCOVER "$T/dnsmasq.log")" = "$(grep -c DHCPDISCOVER "$T/dnsmasq.log.run1")"

# --- it was lwIP ------------------------------------------------------------------------------
check "the device namespace's Linux stack has no IPv4 address but loopback" \
    sh -c "! ip netns exec $NS_DEV ip -4 -o addr show | grep -v ' lo ' | grep -q inet"
kill "$TCPDUMP_PID" 2>/dev/null || true
wait "$TCPDUMP_PID" 2>/dev/null || true
tcpdump -n -e -r "$T/wire.pcap" >"$T/wire.txt" 2>/dev/null || true
check "wire: lwIP's DHCP DISCOVER from lwIP's MAC" grep -q "$DEVMAC > ff:ff:ff:ff:ff:ff.* 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request" "$T/wire.txt"
check "wire: the ESP-TOUCH ack (UDP 18266) left from lwIP's MAC and address" \
    grep -q "^.*$DEVMAC > .*$DEV\.[0-9]* > $PHONE\.18266: UDP" "$T/wire.txt"
check "wire: the token reply (UDP 8266) came from lwIP's MAC" grep -q "$DEVMAC > .*$DEV\.8266 > $PHONE\.8266: UDP" "$T/wire.txt"
check "wire: MQTT (TCP 1883) from lwIP's MAC" grep -q "$DEVMAC > .*$DEV\.[0-9]* > $CLOUD\.1883: Flags \[S\]" "$T/wire.txt"
python3 - "$T/dev-dhcp.out" >"$T/counters" <<'PY' || true
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("event") == "lwip":
        print(e["rx_frames"], e["tx_frames"], e["udp_sent"], e["udp_received"])
PY
read -r RXF TXF USENT URECV <"$T/counters" || true
check "lwIP's netif counted frames both ways (in ${RXF:-?}, out ${TXF:-?})" test "${RXF:-0}" -gt 0 -a "${TXF:-0}" -gt 0
check "lwIP's UDP carried the ack and the token exchange (sent ${USENT:-?}, received ${URECV:-?})" \
    test "${USENT:-0}" -gt 0 -a "${URECV:-0}" -gt 0

# --- no secret anywhere the device wrote ------------------------------------------------------
leak=0
for secret in "$WIFI_PASS" "$DEVICE_SECRET"; do
    if grep -rlF -- "$secret" "$T"/dev-*.out "$T"/dev-*.err "$T/devstate" 2>/dev/null; then leak=1; fi
done
check "no secret in the device's output or state" test $leak = 0

three_hosts_result lwip_e2e
