# SPDX-License-Identifier: Apache-2.0
# netns_self VAR PREFIX SCRIPT: unless VAR is set (we are already inside), re-runs SCRIPT inside
# a fresh network namespace of its own (loopback up), exits with its status, and removes the
# namespace however the run ends (failure, ctest's timeout kill, Ctrl-C).
netns_self() {
    local var=$1 prefix=$2 script=$3
    [ -n "${!var:-}" ] && return 0
    command -v ip >/dev/null || { echo "FAIL: no ip(8)" >&2; exit 1; }
    NETNS_SELF=$prefix-$$-$RANDOM
    ip netns add "$NETNS_SELF" || { echo "FAIL: cannot create a network namespace" >&2; exit 1; }
    trap 'ip netns del "$NETNS_SELF" 2>/dev/null || true' EXIT
    trap 'exit 143' TERM INT
    ip -n "$NETNS_SELF" link set lo up
    local rc=0
    env "$var=$NETNS_SELF" ip netns exec "$NETNS_SELF" bash "$script" || rc=$?
    exit $rc
}
