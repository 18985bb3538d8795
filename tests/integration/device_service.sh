#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 30
# `smartcfg device` shipped as a service (docs/device-linux.md, "Running as a service"): the
# systemd units `cmake --install` puts in share/smartcfg/systemd pass `systemd-analyze verify`;
# the device unit's own ExecStart and ExecStopPost lines are run as systemd would run them
# (its capability bounding set, no_new_privs, a root-owned 0700 state directory, a 0600 config
# file), in a network namespace of this test's, through what an init system does to a service:
# a second start while one runs (refused, exit 1; the first one provisions), SIGKILL with a
# record write in flight and a restart (no stale lock, the leftover removed), SIGTERM, SIGINT,
# SIGHUP (130, which the unit counts as success), provisioning again with a new password, the
# interface vanishing (exit 1: restarted) or absent at start (1, not 2: 2 is what the unit does
# not restart), a configuration error (2). The journal's lines never hold a secret.
set -u
. "$(dirname "$0")/lib/netns_self.bash"
netns_self SC_SERVICE_NS scsvc "$0"
: "${SC_BUILD:?}" "${SC_SRC:?}"
T=$(mktemp -d /tmp/sc-service.XXXXXX)
PIDS=()
cleanup() {
    local p pids
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    # and whatever they started (the cloud's mosquitto) in this test's own namespace
    pids=$(ip netns pids "$SC_SERVICE_NS" 2>/dev/null)
    for p in $pids; do [ "$p" = $$ ] || kill -KILL "$p" 2>/dev/null; done
    ip link del scsvc0 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done; exit 1; }
ok() { echo "ok - $*"; }

P=$T/prefix
cmake --install "$SC_BUILD" --prefix "$P" >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "cmake --install"; }
U=$P/share/smartcfg/systemd
for u in smartcfg-device.service smartcfg-cloud.service; do
    [ -f "$U/$u" ] || fail "no $u installed"
    c=${u#smartcfg-}; c=${c%.service}
    grep -qx "ExecStart=$P/bin/smartcfg $c .*" "$U/$u" || fail "$u: ExecStart does not name $P/bin/smartcfg"
    grep -q '@SMARTCFG' "$U/$u" && fail "$u: a placeholder left"
    # the command's man page names its unit where this install put it (FILES), roff-escaped
    grep -qF -- "${U//-/\\-}/${u//-/\\-}" "$P/share/man/man1/smartcfg-$c.1" || fail "man smartcfg-$c does not name $U/$u"
done
if command -v systemd-analyze >/dev/null; then
    # checks the syntax, every directive and that ExecStart's program exists; the man pages
    # of Documentation= are found where this install put them
    MANPATH=$P/share/man systemd-analyze verify "$U/smartcfg-device.service" "$U/smartcfg-cloud.service" \
        >"$T/verify.log" 2>&1 || { cat "$T/verify.log"; fail "systemd-analyze verify"; }
    ok "units installed with the program's path; systemd-analyze verify passes"
else
    ok "units installed with the program's path (no systemd-analyze here: not verified)"
fi
D=$U/smartcfg-device.service
grep -qx 'RestartPreventExitStatus=2' "$D" && grep -qx 'SuccessExitStatus=130' "$D" && grep -qx 'Restart=on-failure' "$D" ||
    fail "the device unit's exit-code policy changed: update this test and docs/device-linux.md"
grep -qx 'ConditionPathExists=!/var/lib/smartcfg/provisioned' "$D" || fail "no provisioned marker condition"

# The unit's lines, as systemd runs them: ${STATE_DIRECTORY} expanded, the config file here.
STATE=$T/state
mkdir -m 0700 "$STATE"
EXEC=$(sed -n 's/^ExecStart=//p' "$D")
EXEC=${EXEC//\/etc\/smartcfg\/device.conf/$T/device.conf}
EXEC=${EXEC//\$\{STATE_DIRECTORY\}/$STATE}
STOPPOST=$(sed -n "s/^ExecStopPost=\/bin\/sh -c '\(.*\)'$/\1/p" "$D")
[ -n "$STOPPOST" ] || fail "no ExecStopPost marker line"
CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$D" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
[ -n "$CAPS" ] || fail "no CapabilityBoundingSet"
SECRET='c2VydmljZS1kZXZpY2Utc2VjcmV0'
TOKEN='5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e'
config() { # config RADIO PASSWORD
    cat >"$T/device.conf" <<EOF
product-id = ABCDEFGHIJ
device-name = svc1
device-secret = "$SECRET"
radio = $1
join = sim:HomeNet:$2:127.0.0.2
no-cloud = true
sim-delay = 200
token-linger = 1
EOF
    chmod 600 "$T/device.conf"
}
start() { # start NAME: the service's main process, its stderr is the journal
    setpriv --bounding-set "-all,$CAPS" --no-new-privs $EXEC >"$T/$1.out" 2>"$T/$1.err" &
    LAST=$!
    PIDS+=("$LAST")
}
stop_post() { # stop_post STATUS: ExecStopPost with what systemd puts in its environment
    EXIT_STATUS=$1 STATE_DIRECTORY=$STATE sh -c "$STOPPOST"
}
wait_for() { # wait_for FILE TEXT: up to 10 s
    local i
    for i in $(seq 100); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    fail "no '$2' in $1"
}
ended() { # ended PID: exit status within 10 s
    local i
    for i in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$1" 2>/dev/null && fail "pid $1 still running"
    wait "$1"
}
phone() { # phone PASSWORD
    "$P/bin/smartcfg" send --ssid HomeNet --password "$1" --ip 127.0.0.1 --bssid 02:5c:00:00:00:01 \
        --dest 127.255.255.255 --token "$TOKEN" --count 1 --timeout 40 >"$T/send.out" 2>"$T/send.err" ||
        fail "smartcfg send: exit $?"
}
provisioned() { # provisioned PID PASSWORD WHAT: the phone provisions run PID: exit 0, ExecStopPost
    local rc       # marks it provisioned, and nothing the journal got holds a secret
    phone "$2"
    ended "$1"; rc=$?
    [ "$rc" = 0 ] || fail "$3: exit $rc"
    stop_post "$rc"
    [ -f "$STATE/provisioned" ] || fail "$3: ExecStopPost left no marker"
    no_secret "$2"
}
no_secret() { # no_secret PASSWORD: nothing the journal got holds a secret
    local f
    for f in "$T"/*.err "$T"/*.out; do
        case $f in "$T"/send.*) continue ;; esac
        grep -qF -e "$SECRET" -e "$TOKEN" -e "$1" "$f" && fail "a secret in $f"
    done
    return 0
}

# 1. A second start while one runs is refused; the first one provisions.
config udp first-pass-1
start a; A=$LAST
wait_for "$T/a.err" "enter sniffing"
start b; B=$LAST
ended "$B"; rc=$?
[ "$rc" = 1 ] || fail "second start: exit $rc, want 1"
grep -q "state directory $STATE is in use by another running smartcfg device" "$T/b.err" || fail "second start: no reason"
kill -0 "$A" 2>/dev/null || fail "the first run died"
provisioned "$A" first-pass-1 provisioning
# the journal's last line says the exit status (procd and a loop script log none of their own)
tail -n 1 "$T/a.err" | grep -q " info  exit 0 (done)$" || fail "no exit line last in the log: $(tail -n 1 "$T/a.err")"
ok "second start refused (exit 1, state directory in use); the first provisioned; exit 0 marked provisioned"

# 2. The router's password changed: the product removes the marker and starts the unit again.
#    SIGKILL with a record write in flight, then the init system restarts it.
rm "$STATE/provisioned"
config udp second-pass-2
start k; K=$LAST
wait_for "$T/k.err" "enter sniffing"
printf 'half a rec' >"$STATE/.log.tmp"
kill -KILL "$K"; wait "$K" 2>/dev/null
start r; R=$LAST
wait_for "$T/r.err" "enter sniffing"
[ -e "$STATE/.log.tmp" ] && fail "the write cut short was not cleaned up"
provisioned "$R" second-pass-2 "provisioning again"
ok "after SIGKILL the restart runs (no stale lock, the cut write removed) and provisions with the new password"

# 3. Stops by the init system: 130 each (SuccessExitStatus=130), no marker.
rm "$STATE/provisioned"
for sig in TERM INT HUP; do
    start "sig$sig"; S=$LAST
    wait_for "$T/sig$sig.err" "enter sniffing"
    kill -"$sig" "$S"
    ended "$S"; rc=$?
    [ "$rc" = 130 ] || fail "SIG$sig: exit $rc, want 130"
    tail -n 1 "$T/sig$sig.err" | grep -q " info  exit 130 (interrupted)$" || fail "SIG$sig: no exit line last in the log"
    stop_post "$rc"
    [ -f "$STATE/provisioned" ] && fail "SIG$sig: marked provisioned"
done
ok "SIGTERM, SIGINT, SIGHUP: exit 130, not provisioned"

# 4. The capture interface vanishes and comes back.
ip link add scsvc0 type veth peer name scsvc1 && ip link set scsvc0 up && ip link set scsvc1 up || fail "veth"
config pcap:scsvc0 x
# promiscuous mode is the capture socket's (a membership, not the interface's flag): a
# SIGKILLed run leaves none behind
promisc() { ip -d link show scsvc0 | grep -o 'promiscuity [0-9]*'; }
start pk; V=$LAST
wait_for "$T/pk.err" "enter sniffing"
[ "$(promisc)" = "promiscuity 1" ] || fail "capturing: $(promisc)"
kill -KILL "$V"; wait "$V" 2>/dev/null
[ "$(promisc)" = "promiscuity 0" ] || fail "after SIGKILL: $(promisc)"
start v; V=$LAST
wait_for "$T/v.err" "enter sniffing"
ip link del scsvc0
ended "$V"; rc=$?
[ "$rc" = 1 ] || fail "interface gone: exit $rc, want 1"
start absent; V=$LAST
ended "$V"; rc=$?
[ "$rc" = 1 ] || fail "interface absent at start: exit $rc, want 1 (2 is never restarted)"
grep -q "no interface 'scsvc0'" "$T/absent.err" || fail "absent interface: no reason"
ip link add scsvc0 type veth peer name scsvc1 && ip link set scsvc0 up && ip link set scsvc1 up || fail "veth again"
start back; V=$LAST
wait_for "$T/back.err" "enter sniffing"
kill -TERM "$V"
ended "$V"; rc=$?
[ "$rc" = 130 ] || fail "interface back: exit $rc"
ok "no promiscuous mode left by a SIGKILLed capture; interface gone mid-run: 1; absent at start: 1 (restarted); back: runs"

# 5. A configuration error is 2, which the unit does not restart.
config udp x
echo "no-such-key = 1" >>"$T/device.conf"
start conf; C=$LAST
ended "$C"; rc=$?
[ "$rc" = 2 ] || fail "bad config: exit $rc, want 2"
ok "a configuration error: exit 2 (RestartPreventExitStatus)"

# 5b. Under an init system that restarts whatever the status (OpenWrt's procd), the loop
#     docs/device-linux.md gives carries the policy: that very block, with this test's paths.
LOOP=$T/loop.sh
sed -n '/^# \/usr\/sbin\/smartcfg-device-loop/,/^```$/p' "$SC_SRC/docs/device-linux.md" | sed '$d' |
    sed "s|^DIR=.*|DIR=$STATE|; s|smartcfg device --config /etc/smartcfg/device.conf|$EXEC|" >"$LOOP"
grep -q "^trap " "$LOOP" && grep -qF "$P/bin/smartcfg device" "$LOOP" || fail "no loop block in docs/device-linux.md"
loop() { # loop NAME: the script as procd would start it
    sh "$LOOP" >"$T/$1.out" 2>"$T/$1.err" &
    LAST=$!
    PIDS+=("$LAST")
}
rm -f "$STATE/provisioned"
config udp loop-pass-3
loop l1; L=$LAST
wait_for "$T/l1.err" "enter sniffing"
phone loop-pass-3
ended "$L"; rc=$?
[ "$rc" = 0 ] && [ -f "$STATE/provisioned" ] || fail "loop: provisioning: exit $rc, marker $(ls "$STATE")"
loop l2; L=$LAST
ended "$L"; rc=$?
[ "$rc" = 0 ] && ! grep -q "enter sniffing" "$T/l2.err" || fail "loop: provisioned, started again: exit $rc"
rm "$STATE/provisioned"
echo "timeout = 1" >>"$T/device.conf"
loop l3; L=$LAST
for _ in $(seq 150); do [ "$(grep -c "enter sniffing" "$T/l3.err")" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c "enter sniffing" "$T/l3.err")" -ge 2 ] || fail "loop: not started again after exit 3"
sleep 1.5 # the second window (1 s) has ended: the loop sleeps its 5 s (on a slow machine the
          # device may still be ending: SIGTERM is 130 then too)
kill -TERM "$L"
ended "$L"; rc=$?
[ "$rc" = 130 ] || fail "loop: SIGTERM while waiting to restart: exit $rc, want 130"
config udp x
loop l4; L=$LAST
wait_for "$T/l4.err" "enter sniffing"
kill -TERM "$L"
ended "$L"; rc=$?
[ "$rc" = 130 ] && grep -q "stopped by the user" "$T/l4.err" || fail "loop: SIGTERM while the device runs: exit $rc"
echo "no-such-key = 1" >>"$T/device.conf"
loop l5; L=$LAST
ended "$L"; rc=$?
[ "$rc" = 2 ] && [ "$(grep -c "unknown key" "$T/l5.err")" = 1 ] || fail "loop: configuration error: exit $rc"
[ -f "$STATE/provisioned" ] && fail "loop: marked provisioned without a provisioning"
ok "docs' loop for procd: provisioned 0 (marked, not started again), 3 restarted, SIGTERM 130 (device running or waiting), 2 not restarted"

# 6. The cloud unit's ExecStart, as its DynamicUser runs it: an unprivileged user, no
#    capabilities, its own 0700 state directory; ready, the admin key made there 0600; SIGTERM
#    is its normal stop, exit 0.
CU=$U/smartcfg-cloud.service
grep -qx 'DynamicUser=yes' "$CU" || fail "the cloud unit runs as root"
CSTATE=$T/cloud-state
mkdir -m 0700 "$CSTATE" && chown nobody "$CSTATE" || fail "cloud state dir"
chmod 0755 "$T"
CEXEC=$(sed -n 's/^ExecStart=//p' "$CU")
CEXEC=${CEXEC//\$\{STATE_DIRECTORY\}/$CSTATE}
SMARTCFG_CLOUD_OPTS="--http 127.0.0.1:8080 --mqtt 127.0.0.1:1883"
CEXEC=${CEXEC//\$SMARTCFG_CLOUD_OPTS/$SMARTCFG_CLOUD_OPTS}
# (under make test-asan-integ the sanitizers' settings and its mosquitto wrapper, which preloads
# the ASan runtime the instrumented plugin needs, pass the env -i: scripts/test-asan-integ.sh;
# under make test-tsan, TSan's settings and the normal build's plugin the broker loads:
# scripts/test-tsan.sh)
CENV=(PATH="${SC_ASAN_BIN:+$SC_ASAN_BIN:}/usr/local/bin:/usr/bin:/usr/sbin:/bin")
for v in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS SMARTCFG_AUTH_PLUGIN; do
    [ -z "${!v:-}" ] || CENV+=("$v=${!v}")
done
setpriv --reuid nobody --regid nogroup --clear-groups --bounding-set -all --no-new-privs \
    env -i "${CENV[@]}" $CEXEC >"$T/cloud.out" 2>"$T/cloud.err" &
CL=$!
PIDS+=("$CL")
wait_for "$T/cloud.err" "ready: HTTP http://127.0.0.1:8080/"
[ "$(stat -c '%a %U' "$CSTATE/admin.key")" = "600 nobody" ] || fail "admin.key: $(stat -c '%a %U' "$CSTATE/admin.key")"
kill -TERM "$CL"
ended "$CL"; rc=$?
[ "$rc" = 0 ] || fail "cloud SIGTERM: exit $rc"
ok "the cloud unit's ExecStart as an unprivileged user: ready, admin.key 0600 in its state directory, SIGTERM exit 0"
echo PASS
