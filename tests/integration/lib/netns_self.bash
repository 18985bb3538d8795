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

# netns_gone NS...: kills every process left in each namespace and deletes it (a test's clean-up;
# quiet about namespaces already gone).
netns_gone() {
    local ns p
    for ns in "$@"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    return 0
}

# netns_gone_prefix PREFIX: netns_gone for every namespace whose name starts with PREFIX.
netns_gone_prefix() {
    # shellcheck disable=SC2046 # one name per word
    netns_gone $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$1")
}
