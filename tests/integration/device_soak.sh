#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 55
# Whole provisioning flows, again and again, on one long-lived device and one long-lived cloud.
# A plain `smartcfg device` is one-shot by design (it exits once done or failed); what lives for
# months is `smartcfg device --at` on a host's serial line, provisioned again after every
# factory reset. So: one `smartcfg device --at` (virtual radio on UDP 7001, a simulated AP),
# one `smartcfg cloud` (mosquitto + smartcfg_auth + SQLite), `smartcfg send` as the phone, in a
# network namespace of the test's own. Each cycle: AT+RESTORE (the station leaves its AP),
# AT+TCRESTORE (device info erased), AT+TCDEVINFOSET, AT+TCSTARTSMART, and then one of
#   good     the phone takes a token from the cloud, ESP-TOUCH v1, ack, token on 8266, MQTT
#            bind, the phone sees it bound; then the host's own AT MQTT session (conn/pub/disconn)
#   wrongpw  the phone sends a wrong Wi-Fi password: the join fails, WIFI_CONNECT_FAILED,10
#   hostile  after the ack, hostile datagrams on 8266 from another LAN host (tokens never issued,
#            1..64 KiB requests, deep nesting, junk from 16 ports); then the app's token binds
#   refused  the device holds a secret the cloud does not know: its MQTT login is refused, the
#            phone gets Current_Error (1, n), WIFI_CONNECT_FAILED,1
#   notoken  the phone gets its ack but never sends a token; the host gives up (AT+TCSTOPSMART)
#   airkiss  as good, in AirKiss: the ack (the random byte) to UDP 10000, token, bind. The
#            phone sends AirKiss to UDP 10001 and the virtual radio hears one port (7001): a
#            relay of the test's own hands each datagram on to 7001 unchanged in length
#   logap    the phone sends a wrong Wi-Fi password, the join fails (10, n); the device
#            (--log-linger) raises the log soft-AP and the test pulls the provisioning log from
#            its UDP 9876: this attempt's log (its v2 session, the join failure, the AP raised,
#            not the AirKiss cycle's), no secret in it. The next cycle (good) finds the log
#            soft-AP down (a new flow takes it down) and provisions as ever
# (good in ESP-TOUCH v1, the others but airkiss in v2, which decodes in a fraction of v1's time.)
# Between the end of cycle WARM and of the last, the device's and the cloud's open fds, threads
# and child processes may not grow at all, their resident memory by no more than a bound a real
# per-cycle leak exceeds; every cycle must end as its kind says.
# By hand, longer (not through ctest, whose 600 s would end it): SC_BUILD=build SC_SRC=.
# DEV_SOAK_CYCLES=140 DEV_SOAK_WARM=35 DEV_SOAK_PROGRESS=35 bash tests/integration/device_soak.sh
# (docs/security.md "Reliability"); DEV_SOAK_RSS_MAX_KB (default 512) is the
# RSS bound. WARM and the last cycle should be of one kind (CYCLES - WARM a multiple of 7): the
# device holds other sockets after each kind. make test's 5 -> 12 samples after notoken twice,
# with every kind once between (what one cycle of a kind leaks shows), in ~50 s.
set -euo pipefail
. "$(dirname "$0")/lib/netns_self.bash"
netns_self SC_DEV_SOAK_NS sc-devsoak "$0"
. "$(dirname "$0")/lib/cloud.bash"   # T, fail, ok, start_cloud, post, tokenapi, jget
DIR=${SC_SRC:?}/tests/integration
# DEV_SOAK_KEEP=DIR: a failed run's files are copied there
fail() {
    echo "FAIL: $*" >&2
    [ -z "${DEV_SOAK_KEEP:-}" ] || cp -r "$T" "$DEV_SOAK_KEEP" 2>/dev/null || true
    exit 1
}
HOST=$DIR/at_host.py
PEER=$DIR/udp_peer.py
CYCLES=${DEV_SOAK_CYCLES:-12}
WARM=${DEV_SOAK_WARM:-5}
RSS_MAX_KB=${DEV_SOAK_RSS_MAX_KB:-512}
KINDS=(good wrongpw hostile refused notoken airkiss logap)
kind() { echo "${KINDS[$((($1 - 1) % ${#KINDS[@]}))]}"; }
[ "$WARM" -lt "$CYCLES" ] || fail "DEV_SOAK_WARM ($WARM) must be below DEV_SOAK_CYCLES ($CYCLES)"
[ "$(kind "$WARM")" = "$(kind "$CYCLES")" ] ||
    fail "cycles $WARM and $CYCLES are of two kinds ($(kind "$WARM"), $(kind "$CYCLES")): DEV_SOAK_CYCLES - DEV_SOAK_WARM must be a multiple of ${#KINDS[@]}"

PASSWORD='s0ak-Wifi:pass'
ESC_PW=${PASSWORD//:/\\:}
start_cloud
P=DEVSOAK001
DN=soakdev
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices "{\"device_name\":\"$DN\"}" | jget device_secret) || fail "no device secret"
WRONG=$(printf 'not-the-secret-of-soakdev' | base64)

# --- the AT host's script: every cycle's commands, in step with the driver below -----------------
{
    echo "send ATE0"
    echo "expect OK"
    for i in $(seq 1 "$CYCLES"); do
        k=$(kind "$i")
        secret=$PSK
        [ "$k" = refused ] && secret=$WRONG
        echo "send AT+RESTORE"
        echo "wait 10 ready"
        echo "send ATE0"
        echo "expect OK"
        echo "send AT+TCRESTORE"
        echo "expect OK"
        echo "send AT+TCDEVINFOSET=0,\"$P\",\"$DN\",\"$secret\""
        echo "expect +TCDEVINFOSET:OK"
        echo "send AT+TCSTARTSMART"
        echo "wait 10 +TCSTARTSMART:OK"
        echo "touch $T/go-$i"
        case $k in
        good | hostile | airkiss)
            echo "wait 90 +TCSTARTSMART:WIFI_CONNECT_SUCCESS" ;;
        wrongpw | logap)
            echo "wait_re 90 \\+TCSTARTSMART:WIFI_CONNECT_FAILED,10,-?[0-9]+\\r\\n" ;;
        refused)
            echo "wait_re 90 \\+TCSTARTSMART:WIFI_CONNECT_FAILED,1,-?[0-9]+\\r\\n" ;;
        notoken)
            echo "wait_file 90 $T/acked-$i"
            echo "send AT+TCSTOPSMART"
            echo "wait 10 +TCSTOPSMART:OK" ;;
        esac
        echo "touch $T/urc-$i"
        if [ "$k" = good ]; then   # the host's own MQTT session on the bound device
            echo "send AT+TCMQTTCONN=0,5000,60,1,0"
            echo "wait 15 +TCMQTTCONN:OK"
            echo "send AT+TCMQTTPUB=\"$P/$DN/data\",0,\"cycle $i\""
            echo "wait 10 +TCMQTTPUB:OK"
            echo "send AT+TCMQTTDISCONN"
            echo "wait 10 +TCMQTTDISCON,2"
            echo "expect OK"
        fi
        echo "wait_file 120 $T/done-$i"
    done
    echo "hangup"
} >"$T/script"

AT_DEV_OUT=$T/dev.out AT_DEV_ERR=$T/dev.err python3 "$HOST" "$T/script" -- \
    "$SMARTCFG" device --radio udp:7001 --join "sim:HomeNet:$ESC_PW:127.0.0.2" --sim-delay 300 --log-linger 60 \
    --at '{tty}' --broker "127.0.0.1:$MQTT_PORT" --state-dir "$T/state" --log-level debug \
    >"$T/host.out" 2>"$T/host.err" &
HOSTPID=$!

dump() {
    echo "--- AT host:"; cat "$T/host.out"; tail -n 30 "$T/host.err"
    echo "--- device:"; grep -v "progress\|ack sent" "$T/dev.err" | tail -n 40
    for f in "$T"/send-*.jsonl "$T"/send-*.err; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 8; }; done | tail -n 40
}
cfail() { dump; fail "cycle $i ($(kind "$i")): $*"; }
wait_path() { # SECONDS PATH: until PATH exists (and the AT host still runs)
    local n=$(($1 * 20))
    while [ ! -e "$2" ] && [ "$n" -gt 0 ]; do
        kill -0 "$HOSTPID" 2>/dev/null || return 1
        sleep 0.05; n=$((n - 1))
    done
    [ -e "$2" ]
}
device_pid() { pgrep -P "$HOSTPID" -f "smartcfg device" | head -n 1; }
sample() { # PID -> "fds threads children rss_kb"
    local p=$1
    echo "$(ls "/proc/$p/fd" | wc -l) $(awk '/^Threads/{print $2}' "/proc/$p/status")" \
        "$(pgrep -c -P "$p" || true) $(awk '/^VmRSS/{print $2}' "/proc/$p/status")"
}
phone() { # TAG [send options...]: smartcfg send as the phone; its exit code in $SRC
    local tag=$1; shift
    SRC=0
    "$SMARTCFG" send --ssid HomeNet --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 --dest 127.255.255.255 \
        --count 1 --json "$@" >"$T/send-$tag.jsonl" 2>"$T/send-$tag.err" || SRC=$?
}
bound_in_cloud() { # TOKEN: the cloud recorded the device's bind with that token (its log shows 4 characters)
    local n t=${1:0:4}…
    for n in $(seq 50); do
        grep -q "\"event\":\"bind_result\",\"t_ms\":[0-9]*,\"product_id\":\"$P\",\"device_name\":\"$DN\",\"token\":\"$t\",\"code\":0" \
            "$T/cloud.events" && return 0
        sleep 0.1
    done
    return 1
}
ptoken() { grep -o '"event":"token_created","t_ms":[0-9]*,"token":"[^"]*"' "$1" | head -n 1 | sed 's/.*"token":"//; s/"$//'; }

# the AirKiss relay: the phone's UDP 10001 to the virtual radio's 7001, one datagram for one,
# same length, in order (the radio makes its frame from the length and the sender's address)
python3 - >"$T/relay.err" 2>&1 <<'PYEOF' &
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
r.bind(("0.0.0.0", 10001))
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
o.bind(("127.0.0.1", 0))
while True:
    d = r.recv(2048)
    o.sendto(d, ("127.0.0.1", 7001))
PYEOF
RELAY=$!
# pull_log FILE: the provisioning log from the log service (UDP 9876 on the device's address),
# asked again every 0.3 s for 20 s (it is up once the failure was reported), into FILE; then
# whether it is this attempt's log: its v2 session, the join failure (10, n) after it, then the
# log soft-AP raised, and nothing of the AirKiss cycle before it after its session. One python
# for both: a python's start costs up to seconds on a loaded machine.
pull_log() {
    python3 - "$1" <<'PYEOF'
import re, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
end = time.monotonic() + 20
d = None
while d is None and time.monotonic() < end:
    s.sendto(b'{"cmdType":3}', ("127.0.0.2", 9876))
    try:
        d = s.recvfrom(8192)[0]
    except OSError:
        time.sleep(0.1)
if d is None:
    sys.exit("the log service (UDP 9876) did not answer after the failure")
open(sys.argv[1], "wb").write(d)
# "<ms>|<function>(<line>): [<step>] <message>\r\n" (docs/device.md)
msgs = [re.sub(r"^[0-9]+\|[^:]*: \[[a-z_]+\] ", "", l) for l in d.decode("utf-8", "replace").splitlines() if l]
ses = [i for i, m in enumerate(msgs) if m.startswith("session complete")]
if not ses or msgs[ses[-1]] != "session complete: esptouch-v2":
    sys.exit("not this attempt's log (its last session is not v2)")
tail = msgs[ses[-1]:]
f = [i for i, m in enumerate(tail) if "(10, " in m]
a = [i for i, m in enumerate(tail) if m.startswith("log soft-AP ESP-LOG-QUERY up")]
if not f or not a or a[-1] < f[0]:
    sys.exit("not this attempt's log (no join failure (10, n), then the log soft-AP, after its session)")
if any("airkiss" in m or m == "bound" for m in tail):
    sys.exit("not this attempt's log (the AirKiss cycle's lines after its session)")
PYEOF
}
# log_down: the log service does not answer (it answers at once when up: asked twice, 0.25 s each)
log_down() {
    python3 - <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.25)
for _ in range(2):
    s.sendto(b'{"cmdType":3}', ("127.0.0.2", 9876))
    try:
        s.recvfrom(8192)
        sys.exit(1)
    except OSError:
        pass
PYEOF
}

T0=$(date +%s%N)
declare -A NK=()
for i in $(seq 1 "$CYCLES"); do
    k=$(kind "$i")
    TC=$(date +%s%N)
    wait_path 60 "$T/go-$i" || cfail "the device never started the flow"
    # after a logap cycle: the new flow took the log soft-AP down
    [ "$i" -gt 1 ] && [ "$(kind $((i - 1)))" = logap ] && { log_down || cfail "the log service still answers in a new flow"; }
    case $k in
    good)
        phone "$i" --password "$PASSWORD" --cloud "$BASE/" --access-token "$ACCESS" --timeout 60
        [ "$SRC" = 0 ] || cfail "smartcfg send exit $SRC"
        tok=$(ptoken "$T/send-$i.jsonl")
        grep -q "\"event\":\"bound\",.*\"product_id\":\"$P\",\"device_name\":\"$DN\"" "$T/send-$i.jsonl" \
            || cfail "the phone did not see $DN bound"
        bound_in_cloud "$tok" || cfail "the cloud did not bind token $tok"
        wait_path 30 "$T/urc-$i" || cfail "no WIFI_CONNECT_SUCCESS"
        ;;
    airkiss)
        phone "$i" --protocol airkiss --password "$PASSWORD" --cloud "$BASE/" --access-token "$ACCESS" --timeout 60
        [ "$SRC" = 0 ] || cfail "smartcfg send --protocol airkiss exit $SRC"
        grep -q '"event":"sending",.*"ack_port":10000,' "$T/send-$i.jsonl" || cfail "the phone did not listen on 10000"
        grep -q '"event":"ack",.*"ip":"127.0.0.2"' "$T/send-$i.jsonl" || cfail "no AirKiss ack from 127.0.0.2"
        tok=$(ptoken "$T/send-$i.jsonl")
        grep -q "\"event\":\"bound\",.*\"product_id\":\"$P\",\"device_name\":\"$DN\"" "$T/send-$i.jsonl" \
            || cfail "the phone did not see $DN bound"
        bound_in_cloud "$tok" || cfail "the cloud did not bind token $tok"
        wait_path 30 "$T/urc-$i" || cfail "no WIFI_CONNECT_SUCCESS"
        ;;
    wrongpw | logap)
        # this cycle's own "serving" line, not an earlier failure's: counted before it starts
        served0=$(grep -c "failed: serving the provisioning log on UDP 9876" "$T/dev.err" || true)
        # the phone sends on until the device gives up; stopped once the host saw the failure
        "$SMARTCFG" send --protocol v2 --ssid HomeNet --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 --dest 127.255.255.255 \
            --count 1 --json --password 'not-the-pass' --no-token --timeout 90 >"$T/send-$i.jsonl" 2>"$T/send-$i.err" &
        SP=$!
        wait_path 90 "$T/urc-$i" || { kill "$SP" 2>/dev/null; cfail "no WIFI_CONNECT_FAILED,10"; }
        kill "$SP" 2>/dev/null || true
        wait "$SP" 2>/dev/null || true
        if [ "$k" = logap ]; then
            pull_log "$T/log-$i" 2>"$T/pull-$i.err" || cfail "$(tail -n 1 "$T/pull-$i.err"): $(cat "$T/log-$i" 2>/dev/null)"
            for s in "$PASSWORD" "not-the-pass" "$PSK"; do
                grep -qF -- "$s" "$T/log-$i" && cfail "a secret in the pulled log"
            done
            served=$(grep -c "failed: serving the provisioning log on UDP 9876 for 60 s" "$T/dev.err" || true)
            [ "$served" -gt "$served0" ] || cfail "the device did not say it serves this failure's log"
        fi
        ;;
    refused)
        phone "$i" --protocol v2 --password "$PASSWORD" --cloud "$BASE/" --access-token "$ACCESS" --timeout 60
        [ "$SRC" = 4 ] || cfail "smartcfg send exit $SRC (want 4: the device's Current_Error)"
        grep -q '"event":"device_error",.*"err_id":1,' "$T/send-$i.jsonl" || cfail "the phone got no Current_Error (1, n)"
        wait_path 30 "$T/urc-$i" || cfail "no WIFI_CONNECT_FAILED,1"
        ;;
    notoken)
        phone "$i" --protocol v2 --password "$PASSWORD" --no-token --timeout 60
        [ "$SRC" = 0 ] || cfail "smartcfg send --no-token exit $SRC"
        grep -q '"event":"ack",.*"ip":"127.0.0.2"' "$T/send-$i.jsonl" || cfail "no ack from 127.0.0.2"
        touch "$T/acked-$i"
        wait_path 30 "$T/urc-$i" || cfail "AT+TCSTOPSMART not answered"
        ;;
    hostile)
        # the token first, as the app gets it before it provisions: the device waits 20 s for it
        # after its ack, and the probes and a busy cloud's answer together took longer than that
        tok=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token) || cfail "no bind token"
        phone "$i" --protocol v2 --password "$PASSWORD" --no-token --timeout 60
        [ "$SRC" = 0 ] || cfail "smartcfg send --no-token exit $SRC"
        # from another host of the LAN (127.0.0.9): the app's address has a rate limit of its own
        # (half of them each time: each probe waits 0.4 s for an answer)
        probes=("badtok 127.0.0.2 127.0.0.9" "big 127.0.0.2 127.0.0.9")
        [ $(((i - 1) / ${#KINDS[@]} % 2)) = 1 ] && probes=("nested 127.0.0.2 127.0.0.9" "amp 127.0.0.2 8266 127.0.0.9 5000 x")
        for a in "${probes[@]}"; do
            echo "$(date +%s.%N) $a" >>"$T/hostile-$i.log"
            # shellcheck disable=SC2086 # the words are the arguments
            python3 "$DIR/sec_udp.py" $a >>"$T/hostile-$i.log" 2>&1 || cfail "sec_udp.py $a: $(tail -n 5 "$T/hostile-$i.log")"
        done
        echo "$(date +%s.%N) token" >>"$T/hostile-$i.log"
        python3 "$PEER" token 127.0.0.1 127.0.0.2 "$tok" "$T/token-$i.out" >"$T/token-$i.log" 2>&1 \
            || cfail "the app's token after the hostile datagrams: $(cat "$T/token-$i.log")"
        bound_in_cloud "$tok" || cfail "the cloud did not bind token $tok"
        wait_path 30 "$T/urc-$i" || cfail "no WIFI_CONNECT_SUCCESS"
        ;;
    esac
    NK[$k]=$((${NK[$k]:-0} + 1))
    if [ "$i" = "$WARM" ] || [ "$i" = "$CYCLES" ]; then
        sleep 0.3
        D=$(device_pid)
        [ -n "$D" ] || cfail "the device is gone"
        echo "$i $(sample "$D") $(sample "$CLOUD_PID")" >>"$T/samples"
        echo "  cycle $i: device fds/threads/children/rss_kb $(sample "$D"); cloud $(sample "$CLOUD_PID") [$((($(date +%s%N) - T0) / 1000000000)) s]"
    fi
    if [ -n "${DEV_SOAK_PROGRESS:-}" ] && [ $((i % DEV_SOAK_PROGRESS)) = 0 ]; then
        D=$(device_pid)
        echo "  cycle $i ($k, $((($(date +%s%N) - TC) / 1000000)) ms): device $(sample "$D"); cloud $(sample "$CLOUD_PID") [$((($(date +%s%N) - T0) / 1000000000)) s]"
    fi
    rm -f "$T/send-$((i - 1)).jsonl" "$T/send-$((i - 1)).err" "$T/hostile-$((i - 1)).log" "$T/token-$((i - 1))".* "$T/log-$((i - 1))" "$T/pull-$((i - 1)).err"
    touch "$T/done-$i"
done
wait "$HOSTPID" || { dump; fail "AT session: $(cat "$T/host.out")"; }
kill "$RELAY" 2>/dev/null || true
# (its exit code is the last flow's: 4 after a stopped one)
grep -q "device exit [0-9]" "$T/host.out" || { dump; fail "the device did not exit on the hang-up"; }
SECS=$((($(date +%s%N) - T0) / 1000000000))
read -r _ df1 dt1 dc1 dr1 cf1 ct1 cc1 cr1 < <(sed -n 1p "$T/samples")
read -r _ df2 dt2 dc2 dr2 cf2 ct2 cc2 cr2 < <(sed -n 2p "$T/samples")
[ -n "${cr2:-}" ] || fail "no samples"
echo "  cycles by kind: $(for k in "${KINDS[@]}"; do printf '%s %s  ' "$k" "${NK[$k]:-0}"; done)($SECS s, $((SECS * 1000 / CYCLES)) ms a cycle)"
echo "  device: fds $df1 -> $df2, threads $dt1 -> $dt2, children $dc1 -> $dc2, rss_kb $dr1 -> $dr2 (+$((dr2 - dr1))) (cycles $WARM -> $CYCLES)"
echo "  cloud:  fds $cf1 -> $cf2, threads $ct1 -> $ct2, children $cc1 -> $cc2, rss_kb $cr1 -> $cr2 (+$((cr2 - cr1)))"
for w in "device fds:$df1:$df2" "device threads:$dt1:$dt2" "device children:$dc1:$dc2" \
         "cloud fds:$cf1:$cf2" "cloud threads:$ct1:$ct2" "cloud children:$cc1:$cc2"; do
    IFS=: read -r what a b <<<"$w"
    [ "$b" -le "$a" ] || fail "$what grew from $a to $b"
done
[ $((dr2 - dr1)) -le "$RSS_MAX_KB" ] || fail "the device's resident memory grew by $((dr2 - dr1)) kB (limit $RSS_MAX_KB)"
[ $((cr2 - cr1)) -le "$RSS_MAX_KB" ] || fail "the cloud's resident memory grew by $((cr2 - cr1)) kB (limit $RSS_MAX_KB)"
for s in "$PASSWORD" "$PSK"; do
    grep -qF -- "$s" "$T/dev.out" "$T/dev.err" "$T/cloud.events" "$T/cloud.err" && fail "a secret was printed"
done
ok "$CYCLES whole provisionings of one AT device against one cloud: no fd, thread, child or memory growth after cycle $WARM"
stop_cloud
