#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 25
# One `smartcfg device --at` for many MQTT sessions, as a module on a host's serial line lives
# for months: AT_SOAK_CYCLES (default 400) rounds of AT+TCMQTTCONN -> AT+TCMQTTSUB ->
# AT+TCMQTTPUB -> AT+TCMQTTDISCONN, and every 50th round the broker killed under the running
# session (+TCMQTTDISCON) and started again. Between round WARM (50) and the last, the
# device's open fds and threads may not grow at all, its resident memory by less than
# a bound a real per-round leak exceeds (2 MiB over 350 rounds: 6 KiB a round). And a round
# takes well under a second: the broker's CONNACK and SUBACK are told to the host when they
# arrive (each used to wait for the loop's next 1 s tick: ~2 s a round).
set -u
SC=${SC_BUILD:?}/smartcfg
HOST=${SC_SRC:?}/tests/integration/at_host.py
CYCLES=${AT_SOAK_CYCLES:-400}
ROUND_MAX_MS=${AT_SOAK_ROUND_MAX_MS:-800}
WARM=${AT_SOAK_WARM:-50}
RSS_MAX_KB=${AT_SOAK_RSS_MAX_KB:-2048}
TMP_TAG=at_soak
. "$(dirname "$0")/lib/at_broker.bash"   # TMP, fail, $PORT, start_broker (started)

SECRET='c2VjcmV0LWF0LXNvYWs='
{
    echo "send ATE0"
    echo "expect OK"
    echo "send AT+TCDEVINFOSET=0,\"PIDSOAK001\",\"dev-soak\",\"$SECRET\""
    echo "expect +TCDEVINFOSET:OK"
    for i in $(seq 1 "$CYCLES"); do
        echo "send AT+TCMQTTCONN=0,5000,60,1,0"
        echo "wait 15 +TCMQTTCONN:OK"
        echo "send AT+TCMQTTSUB=\"PIDSOAK001/dev-soak/data\",1"
        echo "wait 10 +TCMQTTSUB:OK"
        echo "send AT+TCMQTTPUB=\"PIDSOAK001/dev-soak/data\",0,\"round $i\""
        echo "wait 10 +TCMQTTPUB:OK"
        if [ $((i % 50)) = 25 ]; then   # the broker goes away under the session
            echo "touch $TMP/kill-$i"
            echo "wait_re 20 \\+TCMQTTDISCON,-?[0-9]+\\r\\n"
            echo "wait_file 20 $TMP/up-$i"
        else
            echo "send AT+TCMQTTDISCONN"
            echo "wait 10 +TCMQTTDISCON,2"
            echo "expect OK"
        fi
        if [ "$i" = "$WARM" ] || [ "$i" = "$CYCLES" ]; then
            echo "sleep 0.3"
            echo "touch $TMP/mark-$i"
            echo "wait_file 10 $TMP/ack-$i"
        fi
    done
    echo "hangup"
} >"$TMP/script"

# The helper: samples the device at the marks, kills and restarts the broker when told.
device_pid() { pgrep -P "$HOSTPID" -f "smartcfg device" | head -n 1; }
sample() {  # -> "fds rss_kb threads"
    local p=$1
    echo "$(ls /proc/$p/fd | wc -l) $(awk '/^VmRSS/{print $2}' /proc/$p/status) $(awk '/^Threads/{print $2}' /proc/$p/status)"
}
T0=$(date +%s%N)
AT_DEV_OUT=$TMP/dev.out AT_DEV_ERR=$TMP/dev.err python3 "$HOST" "$TMP/script" -- \
    "$SC" device --radio "udp:$((20000 + RANDOM % 20000))" --join sim:ap:password1:127.0.0.1 --no-cloud \
    --at '{tty}' --broker "127.0.0.1:$PORT" --state-dir "$TMP/state" \
    >"$TMP/host.out" 2>"$TMP/host.err" &
HOSTPID=$!
(
    for i in $(seq 1 "$CYCLES"); do
        if [ $((i % 50)) = 25 ]; then
            while [ ! -e "$TMP/kill-$i" ]; do kill -0 $HOSTPID 2>/dev/null || exit 0; sleep 0.05; done
            kill "$BROKER"
            while kill -0 "$BROKER" 2>/dev/null; do sleep 0.05; done   # not always our child: no wait
            start_broker
            touch "$TMP/up-$i"
        fi
        if [ "$i" = "$WARM" ] || [ "$i" = "$CYCLES" ]; then
            while [ ! -e "$TMP/mark-$i" ]; do kill -0 $HOSTPID 2>/dev/null || exit 0; sleep 0.05; done
            echo "$i $(sample "$(device_pid)")" >>"$TMP/samples"
            touch "$TMP/ack-$i"
        fi
    done
) &
BG_PIDS=$!
wait "$HOSTPID" || fail "AT session: $(cat "$TMP/host.out")"
ROUND_MS=$((($(date +%s%N) - T0) / 1000000 / CYCLES))
grep -q "device exit 0" "$TMP/host.out" || fail "the device did not exit 0 on the hang-up: $(cat "$TMP/host.out")"
cat "$TMP/samples"
read -r _ f1 r1 t1 < <(sed -n 1p "$TMP/samples")
read -r _ f2 r2 t2 < <(sed -n 2p "$TMP/samples")
[ -n "${t2:-}" ] || fail "no samples"
echo "  fds $f1 -> $f2, rss_kb $r1 -> $r2 (+$((r2 - r1))), threads $t1 -> $t2 (rounds $WARM -> $CYCLES)"
[ "$f2" -le "$f1" ] || fail "open fds grew from $f1 to $f2"
[ "$t2" -le "$t1" ] || fail "threads grew from $t1 to $t2"
[ $((r2 - r1)) -le "$RSS_MAX_KB" ] || fail "resident memory grew by $((r2 - r1)) kB (limit $RSS_MAX_KB)"
echo "  $ROUND_MS ms a round on average (limit $ROUND_MAX_MS)"
[ "$ROUND_MS" -le "$ROUND_MAX_MS" ] || fail "a round took $ROUND_MS ms on average: the broker's answers wait for the loop's tick"
echo "ok - $CYCLES MQTT sessions on one AT device ($((CYCLES / 50)) broker restarts): no fd, thread or memory growth after round $WARM"
