#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `smartcfg cloud --broker NAME:PORT` where NAME resolves to two addresses and the first one
# refuses (a name such as localhost giving ::1 first, a broker listening on IPv4 only): the
# binding service's first connect tries the next address, as libmosquitto's blocking connect
# did, instead of ending the startup with "Connection refused". The name is given by a hosts
# file bind-mounted over /etc/hosts in a private mount namespace the test makes (127.0.0.1 and
# 127.0.0.2); the broker (mosquitto) listens only on the one the resolver puts second, so the
# first refuses. Then the broker moves to the first address and back to the second: the
# binding service's reconnects follow it.
if [ -z "${SC_IN_NS:-}" ]; then
    command -v unshare >/dev/null || { echo "FAIL: no unshare" >&2; exit 1; }
    exec env SC_IN_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib/cloud.bash"
command -v mosquitto >/dev/null || fail "no mosquitto broker"

printf '127.0.0.2 sc-broker-two\n127.0.0.1 sc-broker-two\n127.0.0.3 sc-broker-none\n127.0.0.1 sc-broker-none\n' > "$T/hosts"
mount --bind "$T/hosts" /etc/hosts || fail "cannot bind-mount a hosts file (root needed)"
# the resolver's order (RFC 6724 sorting, /etc/gai.conf): FIRST refuses, SECOND has the broker
addrs() { getent ahosts "$1" | awk '$2 == "STREAM" { print $1 }'; }
FIRST=$(addrs sc-broker-two | sed -n 1p); SECOND=$(addrs sc-broker-two | sed -n 2p)
[ -n "$SECOND" ] && [ "$FIRST" != "$SECOND" ] || fail "the test name gives '$FIRST' '$SECOND', not two addresses"
NFIRST=$(addrs sc-broker-none | sed -n 1p); NSECOND=$(addrs sc-broker-none | sed -n 2p)
[ -n "$NSECOND" ] && [ "$NFIRST" != "$NSECOND" ] || fail "the second test name gives '$NFIRST' '$NSECOND'"

BPORT=$(free_port)
printf 'listener %s %s\nallow_anonymous true\n' "$BPORT" "$SECOND" > "$T/mosquitto.conf"
mosquitto -c "$T/mosquitto.conf" > "$T/broker.log" 2>&1 &
BRPID=$!
trap 'rc=$?; set +e; kill $BRPID 2>/dev/null; (exit $rc); cleanup' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/$SECOND/$BPORT) 2>/dev/null && break; sleep 0.1; done
(exec 3<>/dev/tcp/$SECOND/$BPORT) 2>/dev/null || fail "mosquitto did not listen on $SECOND:$BPORT: $(cat "$T/broker.log")"
for a in $FIRST $NFIRST $NSECOND; do
    ! (exec 3<>/dev/tcp/$a/$BPORT) 2>/dev/null || fail "$a:$BPORT answers: it must refuse"
done

export SMARTCFG_SERVICE_USER=svc-user SMARTCFG_SERVICE_PASSWORD=svc-secret-pw-4711
NO_LOGIN=1 start_cloud --broker sc-broker-two:$BPORT
ok "--broker with a name whose first address refuses: started, the binding service connected to the next"

# Later reconnects: the broker moves to the name's first address (the one that refused at the
# start comes back, the one the service fell back to dies), then back to the second. The
# service reconnects each time: after a connection that worked, to the name again (not to
# the fallback's address for ever), and after a failed try, to the name's next address.
broker_on() {   # ADDRESS: the broker listening there only
    kill $BRPID 2>/dev/null; wait $BRPID 2>/dev/null
    printf 'listener %s %s\nallow_anonymous true\n' "$BPORT" "$1" > "$T/mosquitto.conf"
    mosquitto -c "$T/mosquitto.conf" >> "$T/broker.log" 2>&1 &
    BRPID=$!
}
connects() { grep -c '"event":"service_connected"' "$T/cloud.events"; }
wait_connects() {   # N WHAT: the N-th service_connected within 20 s
    for _ in $(seq 200); do [ "$(connects)" -ge "$1" ] && return 0; sleep 0.1; done
    fail "$2: the binding service did not reconnect in 20 s: $(tail -5 "$T/cloud.err")"
}
broker_on "$FIRST"
wait_connects 2 "broker moved to the name's first address ($FIRST) from the fallback's ($SECOND)"
ok "the name's first address back, the fallback's gone: reconnected through the name"
broker_on "$SECOND"
wait_connects 3 "broker moved back to the name's second address ($SECOND)"
ok "the name's first address gone, the second back: reconnected to the second"
kill -0 $CLOUD_PID || fail "smartcfg cloud exited"
! grep -q "$SMARTCFG_SERVICE_PASSWORD" "$T/cloud.err" "$T/cloud.events" || fail "the service password in the log"
# F185: copied, and wiped where exec put it: unsetenv() alone left it in /proc/PID/environ
penv=$(tr '\0' '\n' < /proc/$CLOUD_PID/environ) || fail "the cloud's /proc/PID/environ unreadable"
grep -q '^SMARTCFG_SERVICE_PASSWORD=$' <<<"$penv" || fail "the cloud's environ: the service password not found wiped"
! grep -qF "$SMARTCFG_SERVICE_PASSWORD" <<<"$penv" || fail "the service password in the cloud's /proc/PID/environ"
stop_cloud

# Refused at each address: a fatal startup error at once (no 10 s wait per address), which
# names the address and says that each was tried; the name's refusal alone was all it said.
rc=0
timeout 30 "$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --db "$T/none.db" --broker sc-broker-none:$BPORT \
    > "$T/none.out" 2> "$T/none.err" || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "no broker at any address: exit $rc (want a startup error): $(cat "$T/none.err")"
grep -q "cannot reach the broker at sc-broker-none:$BPORT ($NSECOND): Connection refused (each of its 2 addresses tried)" \
    "$T/none.err" || fail "the startup error: $(cat "$T/none.err")"
! grep -q "$SMARTCFG_SERVICE_PASSWORD" "$T/none.err" "$T/none.out" || fail "the service password in the log"
ok "refused at each of the name's addresses: a startup error naming the last address, exit $rc"
