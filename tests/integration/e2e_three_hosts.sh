#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 80
# Whole provisioning with phone, device and cloud as three hosts: three network namespaces
# joined by a bridge. The device sniffs the phone's ESP-TOUCH broadcasts with libpcap on its
# veth (Ethernet frames: the decoder calibrates that overhead itself), "joins" a simulated AP
# that accepts only the right password, acks, answers the token on UDP 8266 and binds over
# MQTT to `smartcfg cloud`. Then the failure paths as they happen in the field, the log pull,
# and a scan of everything all three hosts wrote for secrets.
set -euo pipefail
SC=${SC_BUILD:?}/smartcfg
SRC=${SC_SRC:?}
P=sce$$                       # unique prefix: parallel runs never share a namespace
PHONE=10.77.0.1 DEV=10.77.0.2 CLOUD=10.77.0.3
SSID="E2E-AP"
WIFI_PASS="correct-horse-9"
PRODUCT=E2EPRODUCT
DEVNAME=e2e-dev-1
BSSID=02:5c:00:00:00:01
. "$SRC/tests/integration/lib/three_hosts.bash"

# --- the three hosts -----------------------------------------------------------------
three_hosts_up $PHONE $DEV $CLOUD

# Everything the hosts say over UDP, as the bridge sees it: checked with the Wireshark
# dissector at the end.
ip netns exec $NS_BR tcpdump -i br0 -U -n -w "$T/wire.pcap" udp 2>"$T/tcpdump.log" &
TCPDUMP_PID=$!
pids+=("$TCPDUMP_PID")
for _ in $(seq 600); do grep -q "listening on" "$T/tcpdump.log" && break; sleep 0.1; done

# --- the cloud --------------------------------------------------------------------------
(umask 077; od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$T/admin.key")
AUTH="Authorization: Bearer $(cat "$T/admin.key")"
start_cloud() {
    ip netns exec $NS_CLOUD "$SC" cloud --http $CLOUD:8080 --mqtt $CLOUD:1883 --db "$T/cloud.db" --json \
        --admin-key-file "$T/admin.key" \
        >>"$T/cloud.out" 2>>"$T/cloud.err" &
    CLOUD_PID=$!
    pids+=("$CLOUD_PID")
    for _ in $(seq 600); do
        in_ns $NS_PHONE curl -sf -o /dev/null -H "$AUTH" "http://$CLOUD:8080/v1/bindings" && return 0
        sleep 0.1
    done
    echo "cloud did not come up"; cat "$T/cloud.err"; return 1
}
stop_cloud() { kill "$CLOUD_PID" 2>/dev/null || true; wait "$CLOUD_PID" 2>/dev/null || true; }

start_cloud
api POST /v1/products "{\"product_id\":\"$PRODUCT\"}" >"$T/product.json"
api POST "/v1/products/$PRODUCT/devices" "{\"device_name\":\"$DEVNAME\"}" >"$T/devreg.json"
DEVICE_SECRET=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["device_secret"])' "$T/devreg.json")
check "device registered in the cloud" test -n "$DEVICE_SECRET"
# The phone's user (accounts): made with the admin API, logged in with AppGetToken.
three_hosts_phone_user

# --- the device -------------------------------------------------------------------------
start_device() { # $1 = tag, rest = extra options; the sim AP accepts only the right password
    local tag=$1; shift
    ip netns exec $NS_DEV env SMARTCFG_DEVICE_SECRET="$DEVICE_SECRET" "$SC" device \
        --radio pcap:eth0 --join "sim:$SSID:$WIFI_PASS" --iface eth0 \
        --product-id $PRODUCT --device-name $DEVNAME --broker "${BROKER:-$CLOUD:1883}" \
        --state-dir "$T/devstate" --timeout 150 --json "$@" >"$T/dev-$tag.out" 2>"$T/dev-$tag.err" &
    DEV_PID=$!
    pids+=("$DEV_PID")
    sleep 1
}
wait_device() { DEV_RC=0; wait "$DEV_PID" || DEV_RC=$?; }  # not in $(...): a subshell cannot wait for it
send() { # $1 = tag, rest = extra options; prints the exit code
    local tag=$1; shift
    local rc=0
    in_ns $NS_PHONE "$SC" send --ssid "$SSID" --password-file - --bssid $BSSID --ip $PHONE \
        --iface eth0 --count 1 --json "$@" <<<"$WIFI_PASS_SENT" >"$T/send-$tag.out" 2>"$T/send-$tag.err" || rc=$?
    echo $rc
}
has_event() { grep -q "\"event\":\"$2\"" "$T/$1"; }

# 1. broadcast, right password: bound
WIFI_PASS_SENT=$WIFI_PASS
t0=$(now_ms)
start_device bcast
rc=$(send bcast --cloud "http://$CLOUD:8080" --timeout 60)
t1=$(now_ms)
check "broadcast: send exits 0 (bound)" test "$rc" = 0
check "broadcast: ack reached the phone" has_event send-bcast.out ack
check "broadcast: identity reply reached the phone's source address" has_event send-bcast.out identity
check "broadcast: the cloud reported bound" has_event send-bcast.out bound
check "broadcast: device decoded the right SSID" grep -q "\"ssid\":\"$SSID\"" "$T/dev-bcast.out"
wait_device; check "broadcast: device exits 0" test "$DEV_RC" = 0
check "broadcast: binding visible in the cloud API" sh -c "ip netns exec $NS_PHONE curl -sf -H \"$AUTH\" http://$CLOUD:8080/v1/bindings | grep -q $DEVNAME"
echo "broadcast provisioning took $((t1 - t0)) ms in all; per phase:"
python3 "$SRC/scripts/demo_story.py" "$T/send-bcast.out" "$T/dev-bcast.out" >"$T/story.txt"
sed -n '/summary/,$p' "$T/story.txt"
# the story names each event's fields by the keys docs/json.md gives them; a field it cannot
# find prints as "?" (the identity line once did, after the keys became snake_case)
check "story: the identity reply names the device" grep -q "identity reply: productId $PRODUCT, deviceName $DEVNAME" "$T/story.txt"
check "story: every field of every event found" sh -c "! sed -n '/the story/,/summary/p' '$T/story.txt' | grep -q '[ :]?\(,\|\$\)'"

# 2. multicast, right password: bound again (the same device binding again is idempotent)
start_device mcast
rc=$(send mcast --multicast --cloud "http://$CLOUD:8080" --timeout 60)
check "multicast: send exits 0 (bound)" test "$rc" = 0
check "multicast: bound" has_event send-mcast.out bound
wait_device; check "multicast: device exits 0" test "$DEV_RC" = 0

# 2b. Tencent's published mini-program SDK as the app: token, UDP 8266 and polling are the
# SDK's own code (WifiConfProtocolBase, UdpServer bound to 8266, queryTokenStateAndBind);
# `smartcfg send --no-token` only transmits ESP-TOUCH for it (lib/sdk_wificonf.js)
. "$SRC/tests/integration/lib/sdk.bash"
ensure_sdk
start_device sdk
rc=0
in_ns $NS_PHONE node "$SRC/tests/integration/lib/sdk_wificonf.js" "$SDK_MODULES" "http://$CLOUD:8080/" "$SC" \
    "$SSID" $BSSID $PHONE eth0 <<<"$WIFI_PASS" >"$T/sdk.out" 2>"$T/sdk.err" || rc=$?
check "Tencent SDK as the app: provisioning completes" test "$rc" = 0
check "Tencent SDK: the device answered the SDK's UDP 8266 request" grep -q "RESULT {\"productId\":\"$PRODUCT\",\"deviceName\":\"$DEVNAME\"}" "$T/sdk.out"
check "Tencent SDK: its poller saw the binding" grep -q "BUSINESS_QUERY_TOKEN_STATE_SUCCESS" "$T/sdk.out"
wait_device; check "Tencent SDK: device exits 0" test "$DEV_RC" = 0

# 3. wrong Wi-Fi password: no network, no ack; the phone times out and says why; err 10 recorded
WIFI_PASS_SENT="wrong-password-1"
start_device wrong
rc=$(send wrong --token 0123456789abcdef0123456789abcdef --timeout 25)
check "wrong password: send exits 3 (timeout)" test "$rc" = 3
check "wrong password: the message says the device never answered" grep -qi "wrong password" "$T/send-wrong.err" "$T/send-wrong.out"
check "wrong password: no ack reached the phone" sh -c "! grep -q '\"event\":\"ack\"' $T/send-wrong.out"
check "wrong password: device recorded err 10" grep -q '"err_id":10' "$T/dev-wrong.out"
wait_device; check "wrong password: device exits 4" test "$DEV_RC" = 4
# the next attempt with the right password delivers that record once as Previous_Error, then succeeds
WIFI_PASS_SENT=$WIFI_PASS
start_device retry
rc=$(send retry --cloud "http://$CLOUD:8080" --timeout 60)
check "after wrong password: the retry is bound" test "$rc" = 0
check "after wrong password: Previous_Error delivered" has_event send-retry.out previous_error
check "after wrong password: Previous_Error delivered once" test "$(grep -c '"event":"previous_error"' "$T/send-retry.out")" = 1
wait_device; check "after wrong password: device exits 0" test "$DEV_RC" = 0

# 4. the cloud's broker is down while its token API answers: the device acks and answers the
# token, then its MQTT connect fails -> Current_Error to the phone, which is still polling;
# the failed device then serves its log on UDP 9876 (the log soft-AP's service)
BROKER=$CLOUD:1884 start_device clouddown --log-linger 20
rc=$(send clouddown --cloud "http://$CLOUD:8080" --timeout 60)
check "cloud down: device acked" has_event send-clouddown.out ack
check "cloud down: phone received Current_Error" has_event send-clouddown.out device_error
check "cloud down: the error names the MQTT connect" grep -q 'MQTT connect error! (1,' "$T/send-clouddown.out"
check "cloud down: send exits 4" test "$rc" = 4
for _ in $(seq 300); do grep -q '"err_id":1,' "$T/dev-clouddown.out" && break; sleep 0.2; done
check "cloud down: device recorded err 1" grep -q '"err_id":1,' "$T/dev-clouddown.out"

# 5. after the failure the log is pulled through the log service and shows steps and reason
in_ns $NS_PHONE python3 - "$DEV" >"$T/pulled.log" <<'PYEOF' || true
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for attempt in range(10):
    s.sendto(b'{"cmdType":3}', (sys.argv[1], 9876))
    try:
        data, _ = s.recvfrom(8192)
        sys.stdout.write(data.decode("utf-8", "replace"))
        break
    except socket.timeout:
        pass
PYEOF
check "log pull: the log shows the steps" grep -qi "join" "$T/pulled.log"
check "log pull: the log names the MQTT failure" grep -qi "mqtt" "$T/pulled.log"
wait_device; check "cloud down: device exits 5 (cloud)" test "$DEV_RC" = 5
stop_cloud

# 6. the Wireshark dissector on the bridge's capture (tshark from Debian)
sleep 0.5; kill "$TCPDUMP_PID" 2>/dev/null || true; wait "$TCPDUMP_PID" 2>/dev/null || true
tsf() { tshark -n -r "$T/wire.pcap" -X lua_script:"$SRC/extras/wireshark/smartcfg.lua" -T fields "$@" 2>/dev/null; }
PW_BYTES=$(python3 -c 'import sys; print(" ".join("%d:0x%02x" % (9 + i, b) for i, b in enumerate(sys.argv[1].encode())))' "$WIFI_PASS")
DECODED=$(tsf -Y esptouch.value -e esptouch.index -e esptouch.value | sort -u | tr '\t' ':' | tr '\n' ' ')
has_pw() { for b in $PW_BYTES; do case " $DECODED " in *" $b "*) ;; *) return 1;; esac; done; }
check "dissector: the password's datum bytes decoded from the wire" has_pw
check "dissector: ESP-TOUCH ack from the device's IP" test "$(tsf -Y esptouch_ack -e esptouch.ack.ip | sort -u | head -1)" = "$DEV"
check "dissector: token requests shown masked only" test -z "$(tsf -Y 'tc8266.cmdType == 0' -e tc8266.token | grep -v '^....\*\{28\}$' || true)"
check "dissector: identity reply names the device" grep -q "$DEVNAME" <(tsf -Y 'tc8266.cmdType == 2' -e tc8266.deviceName)
check "dissector: Current_Error with err 1 (MQTT)" grep -qx 1 <(tsf -Y 'tc8266.deviceReply == "Current_Error"' -e tc8266.err_id)
check "dissector: the log service exchange on 9876" test "$(tsf -Y 'sclog && udp.srcport == 9876' -e frame.number | wc -l)" -ge 1

# 7. no secret anywhere: every byte the three hosts wrote
TOKEN_FULL=$(sqlite3 "$T/cloud.db" "select token from tokens limit 1" 2>/dev/null || true)
leak=0
for secret in "$WIFI_PASS" "wrong-password-1" "$DEVICE_SECRET" ${TOKEN_FULL:+"$TOKEN_FULL"} 0123456789abcdef0123456789abcdef; do
    if grep -rlF -- "$secret" "$T"/*.out "$T"/*.err "$T/pulled.log" "$T/devstate" 2>/dev/null | grep -v devreg.json; then
        echo "secret leaked: ${secret:0:3}…"; leak=1
    fi
done
check "no secret in any output, log or state file" test $leak = 0

three_hosts_result e2e_three_hosts
