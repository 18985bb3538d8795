# SPDX-License-Identifier: Apache-2.0
# The three hosts of the end-to-end tests (sourced): phone, device and cloud in network
# namespaces of their own joined by a bridge in a fourth, plus the tests' bookkeeping.
#   P=<unique prefix>; . lib/three_hosts.bash
#   three_hosts_up PHONE_IP DEVICE_IP CLOUD_IP   # DEVICE_IP "" leaves the device's eth0 bare
# Sets NS_PHONE NS_DEV NS_CLOUD NS_BR and T (a temp dir); each namespace has eth0 (its veth
# into the bridge, with the address given and a multicast route). Processes started in the
# background go into pids+=(...) (start them with `ip netns exec`, not in_ns, so that $! is the
# process); on exit, TERM or INT they are stopped, the namespaces deleted and T removed
# (SC_KEEP=1 keeps T). ok/bad/check count; the test ends with `three_hosts_result NAME`.
NS_PHONE=${P:?}p NS_DEV=${P}d NS_CLOUD=${P}c NS_BR=${P}b
T=$(mktemp -d)
pids=()
fails=0 passes=0

three_hosts_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    for n in $NS_PHONE $NS_DEV $NS_CLOUD $NS_BR; do ip netns del "$n" 2>/dev/null || true; done
    if [ -n "${SC_KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap three_hosts_cleanup EXIT
trap 'exit 143' TERM INT   # so a timeout kill still runs the cleanup

ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
now_ms() { date +%s%3N; }
# wait_for SECONDS CMD...: until CMD succeeds (a condition, not a sleep); false on timeout
wait_for() { local n=$(($1 * 10)); shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done; return 1; }

three_hosts_up() {
    local i=0 pair ns addr
    for ns in $NS_PHONE $NS_DEV $NS_CLOUD $NS_BR; do ip netns add "$ns"; in_ns "$ns" ip link set lo up; done
    in_ns $NS_BR ip link add br0 type bridge
    in_ns $NS_BR ip link set br0 type bridge mcast_snooping 0
    in_ns $NS_BR ip link set br0 up
    for pair in "$NS_PHONE:$1" "$NS_DEV:$2" "$NS_CLOUD:$3"; do
        ns=${pair%%:*} addr=${pair##*:}
        ip link add "${P}h$i" type veth peer name "${P}b$i"
        ip link set "${P}h$i" netns "$ns"
        ip link set "${P}b$i" netns $NS_BR
        in_ns "$ns" ip link set "${P}h$i" name eth0
        if [ -n "$addr" ]; then
            in_ns "$ns" ip addr add "$addr/24" dev eth0
            in_ns "$ns" ip link set eth0 up
            in_ns "$ns" ip route add 224.0.0.0/4 dev eth0
        else
            in_ns "$ns" ip link set eth0 up
        fi
        in_ns $NS_BR ip link set "${P}b$i" master br0
        in_ns $NS_BR ip link set "${P}b$i" up
        i=$((i + 1))
    done
}

three_hosts_result() {
    echo "$1: $passes passed, $fails failed"
    [ $fails -eq 0 ]
}

# The local cloud's accounts as the phone meets them. three_hosts_admin_key makes the key
# file for `smartcfg cloud --admin-key-file "$T/admin.key"` and sets AUTH; api METHOD PATH
# [JSON] calls the cloud (CLOUD:8080) from the phone with it; three_hosts_phone_user creates
# a user and logs it in with AppGetToken: the SDK and `smartcfg send` take its AccessToken
# and first family from SC_ACCESS_TOKEN / SC_FAMILY_ID.
three_hosts_admin_key() {
    (umask 077; od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$T/admin.key")
    AUTH="Authorization: Bearer $(cat "$T/admin.key")"
}
api() { in_ns $NS_PHONE curl -sf -X "$1" -H 'Content-Type: application/json' -H "$AUTH" "http://$CLOUD:8080$2" ${3:+-d "$3"}; }
three_hosts_phone_user() {
    api POST /v1/users '{"user_name":"phone","password":"phone-password"}' >/dev/null
    SC_ACCESS_TOKEN=$(api POST "/tokenapi?cmd=AppGetToken" '{"Action":"AppGetToken","UserName":"phone","Password":"phone-password"}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["Token"])')
    SC_FAMILY_ID=$(api POST "/tokenapi?cmd=AppGetFamilyList" "{\"Action\":\"AppGetFamilyList\",\"AccessToken\":\"$SC_ACCESS_TOKEN\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["FamilyList"][0]["FamilyId"])')
    export SC_ACCESS_TOKEN SC_FAMILY_ID
}
