#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 35
# The cloud's timing against a wall clock that steps (docs/cloud.md "Clocks"): an NTP daemon
# correcting a machine booted with its RTC in local time (hours back), a Raspberry Pi without
# an RTC syncing after boot (forward), an operator's `date -s`. The step is this process's only:
# tests/preload/wallclock.c (LD_PRELOAD) shifts CLOCK_REALTIME, time() and gettimeofday() by
# what $T/wall says, and moves the deadlines of waits on the wall clock with it, also of a wait
# already under way, as the kernel's clock does. The machine's clock is not touched.
#   1. a step back of 1 h while a client dribbles its header: still closed at its 10 s
#      deadline (F203: the reaper's wait was on the wall clock: it slept for the hour, and the
#      slow-client guard with it);
#   2. a step back of 1 h while the broker is away: the binding service reconnects within
#      seconds of its return (F204: its next try was a wall-clock second: an hour away);
#   3. a step forward of 13 h: a console session of 12 h and a login link of 1 h, both minutes
#      old, still work (F204: both were wall-clock times: every session ended, and a step
#      back kept them as much longer);
#   4. the run above waited on the wall clock nowhere (the shim names any such wait);
#   5. a cloud started by a clock not set yet (1970) says so; a step forward (to now) does not
#      make the broker supervisor forget five deaths of the last seconds: the sixth gives up,
#      as without the step (F204).
. "$(dirname "$0")/lib/cloud.bash"
. "$(dirname "$0")/lib/wait.bash"
SHIM="$SC_BUILD/tests/sc_wallclock.so"
[ -f "$SHIM" ] || fail "$SHIM not built"
export HEADER_MIN=9.5 HEADER_MAX=13.5   # s: the header deadline is 10 s (+ the 0.25 s check, + margin)
export RECONNECT_MAX=6                  # s: the service's next try is 1 s after a failed one
step() { echo "$1" > "$T/wall"; sleep 0.1; }   # the shim reads the file every 20 ms at most
echo 0 > "$T/wall"

# An external broker, so that the test decides when it is away.
BPORT=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$BPORT" > "$T/mosquitto.conf"
broker_up() {
    mosquitto -c "$T/mosquitto.conf" >> "$T/broker.log" 2>&1 &
    BRPID=$!
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$BPORT) 2>/dev/null && return 0; sleep 0.1; done
    fail "mosquitto did not listen on $BPORT: $(cat "$T/broker.log")"
}
broker_up
trap 'rc=$?; set +e; kill $BRPID 2>/dev/null; (exit $rc); cleanup' EXIT
export SMARTCFG_SERVICE_USER=svc-user SMARTCFG_SERVICE_PASSWORD=svc-secret-pw-4711
with_wallclock start_cloud --broker 127.0.0.1:$BPORT
grep -q sc_wallclock.so /proc/$CLOUD_PID/maps || fail "the clock shim is not loaded in the cloud"
# The shim names a wait on the wall clock (check 4 can fail): a program of the cloud's name
# that makes one.
mkdir "$T/probe"
printf '%s\n' '#include <pthread.h>' '#include <time.h>' \
    'int main(void) { static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER; static pthread_cond_t c = PTHREAD_COND_INITIALIZER;' \
    '  struct timespec t; clock_gettime(CLOCK_REALTIME, &t); t.tv_nsec = 0; t.tv_sec++;' \
    '  pthread_mutex_lock(&m); return pthread_cond_timedwait(&c, &m, &t) != 110; }' > "$T/probe/probe.c"
cc -o "$T/probe/smartcfg" "$T/probe/probe.c" -lpthread || fail "the probe did not build"
with_wallclock "$T/probe/smartcfg" 2>"$T/probe.err" || fail "the probe's wait through the shim did not time out"

# 1. The slow-client guard (F1, F93) through a step back.
python3 - "$HTTP_PORT" "$T/wall" > "$T/slow.out" 2>&1 <<'PY' || { cat "$T/slow.out"; fail "1: a dribbled header outlived its deadline after a step back (above)"; }
import os, select, socket, sys, time
port, wall = int(sys.argv[1]), sys.argv[2]
HMIN, HMAX = float(os.environ["HEADER_MIN"]), float(os.environ["HEADER_MAX"])
s = socket.create_connection(("127.0.0.1", port))
t0 = time.monotonic()
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
stepped, line, closed = False, 0, None
while time.monotonic() - t0 < HMAX + 1:
    t = time.monotonic() - t0
    if not stepped and t >= 2:
        with open(wall, "w") as f:
            f.write("-3600\n")
        stepped = True
    if t >= line + 1:
        line += 1
        try:
            s.sendall(b"X-Slow-%d: 1\r\n" % line)
        except OSError:
            closed = t
            break
    r, _, _ = select.select([s], [], [], 0.05)
    if r:
        try:
            if not s.recv(4096):
                closed = time.monotonic() - t0
                break
        except OSError:
            closed = time.monotonic() - t0
            break
if closed is None:
    sys.exit("still open %.1f s after its start (the deadline is 10 s; the clock stepped back 1 h at 2 s)" % HMAX)
if closed < HMIN:
    sys.exit("closed after %.1f s, before its 10 s deadline" % closed)
print("closed after %.1f s" % closed)
PY
ok "1: a header dribbled through a step back of 1 h closed at its deadline: $(cat "$T/slow.out")"
[ "$(curl -s --max-time 5 "$BASE/healthz")" = '{"live":true}' ] || fail "1: /healthz after the step"

# 2. The binding service's reconnect through a step back while the broker is away.
connects() { grep -c '"event":"service_connected"' "$T/cloud.events"; }
[ "$(connects)" = 1 ] || fail "2: service_connected $(connects) times at the start"
kill $BRPID; wait $BRPID 2>/dev/null || true
wait_line $CLOUD_PID "$T/cloud.err" "binding service lost the broker" 10 || fail "2: the service did not see the broker go"
step -7200   # one more hour back, while its next try waits
broker_up
t0=$(date +%s.%N)
for _ in $(seq $((RECONNECT_MAX * 10))); do [ "$(connects)" -ge 2 ] && break; sleep 0.1; done
[ "$(connects)" -ge 2 ] || fail "2: no reconnect within $RECONNECT_MAX s of the broker's return after a step back of 1 h: $(tail -3 "$T/cloud.err")"
ok "2: the binding service reconnected $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }") s after the broker's return, through a step back of 1 h"

# 3. Console: a session and a login link through a step forward of 13 h.
curl -s -c "$T/jar" -o /dev/null "$(post /v1/console/login '' | jget console_url)"
code() { curl -s -o /dev/null -w '%{http_code}' -b "$T/jar" "$BASE/console/api/state"; }
[ "$(code)" = 200 ] || fail "3: the console session does not work before the step: $(code)"
LINK=$(post /v1/console/login '' | jget console_url)
step 46800
[ "$(code)" = 200 ] || fail "3: a console session minutes old ended with a step forward of 13 h: $(code)"
rm -f "$T/jar"
[ "$(curl -s -c "$T/jar" -o /dev/null -w '%{http_code}' "$LINK")" = 303 ] || fail "3: a login link minutes old refused after a step forward of 13 h"
[ "$(code)" = 200 ] || fail "3: the session of that link: $(code)"
ok "3: a console session and a login link, minutes old, still work after a step forward of 13 h"

# 4. Nothing in the run above waited on the wall clock (the shim names each such wait once).
grep -q 'wallclock: pthread_cond_timedwait on the wall clock' "$T/probe.err" ||
    fail "4: the shim does not name a wait on the wall clock (the check checks nothing): $(cat "$T/probe.err")"
stop_cloud
if grep 'wallclock:' "$T/cloud.err" >&2; then fail "4: the cloud waited on the wall clock (above)"; fi
ok "4: no wait of the cloud on the wall clock (HTTP reaper, API lock, console, output, stop)"

# 5. The broker supervisor's window (5 deaths within 60 s: give up) through a step forward,
# of 56 years: this cloud starts by a clock not set yet (1970-01-04), which it warns of.
wall_1970
kill $BRPID; wait $BRPID 2>/dev/null || true
with_wallclock start_cloud
grep -q '"event":"warning".*"message":"the wall clock reads 1970-01-04, not set yet: token expiries' "$T/cloud.events" ||
    fail "5: no warning of the clock not set"
restarts() { grep -c '"event":"broker_restarted"' "$T/cloud.events"; }
for i in 1 2 3 4 5; do
    BPID=$(pgrep -P "$CLOUD_PID" mosquitto) || fail "5: no mosquitto under the cloud before death $i"
    kill -KILL "$BPID"
    for _ in $(seq 100); do [ "$(restarts)" -ge $i ] && break; sleep 0.1; done
    [ "$(restarts)" = $i ] || fail "5: mosquitto not restarted after death $i: $(tail -3 "$T/cloud.err")"
done
step 120
BPID=$(pgrep -P "$CLOUD_PID" mosquitto) || fail "5: no mosquitto under the cloud before the sixth death"
kill -KILL "$BPID"
for _ in $(seq 100); do kill -0 $CLOUD_PID 2>/dev/null || break; sleep 0.1; done
kill -0 $CLOUD_PID 2>/dev/null && fail "5: a sixth death within seconds, after a step forward of 2 min: restarted again, not given up"
rc=0; wait $CLOUD_PID || rc=$?
CLOUD_PID=""
grep -q "mosquitto died 5 times within 60 s; giving up" "$T/cloud.err" || fail "5: exit $rc without giving up: $(tail -3 "$T/cloud.err")"
if grep 'wallclock:' "$T/cloud.err" >&2; then fail "5: the cloud waited on the wall clock (above)"; fi
ok "5: started by a clock reading 1970 (warned of); six deaths in seconds, a step forward of 56 years among them: given up (exit $rc), as without the step"
