# SPDX-License-Identifier: Apache-2.0
# A test's own network namespace whose resolver is the test's DNS server (lib/dns_stub.py on
# 127.0.0.53), for the tests of name lookups (cloud_broker_dns, cloud_amqp_dns,
# device_broker_dns). `ip netns exec` mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf;
# glibc's defaults are said out loud there (5 s a try, 2 tries: the "10 s" the tests measure
# against follow from them). First thing in a test:
#   . "$(dirname "$0")/lib/dns_ns.bash"; dns_ns_enter PREFIX "$0" "$@"
# Outside the namespace it does not return: it runs the test again inside one and exits with
# that run's status, the namespace, its processes and its resolv.conf removed. Inside
# (SC_DNS_NS set) it returns at once, once the resolver is seen to be the test's.
dns_ns_enter() {
    local prefix=$1 script=$2
    shift 2
    if [ -n "${SC_DNS_NS:-}" ]; then
        grep -q '^nameserver 127.0.0.53' /etc/resolv.conf ||
            { echo "FAIL: the namespace's resolv.conf is not the test's: $(cat /etc/resolv.conf)"; exit 1; }
        return 0
    fi
    command -v ip >/dev/null || { echo "FAIL: no ip(8)" >&2; exit 1; }
    DNS_NS=$prefix-$$-$RANDOM
    mkdir -p "/etc/netns/$DNS_NS" || { echo "FAIL: cannot make /etc/netns/$DNS_NS (root needed)" >&2; exit 1; }
    trap 'for p in $(ip netns pids "$DNS_NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
          ip netns del "$DNS_NS" 2>/dev/null; rm -rf "/etc/netns/$DNS_NS"' EXIT
    trap 'exit 143' TERM INT
    printf 'nameserver 127.0.0.53\noptions timeout:5 attempts:2\n' > "/etc/netns/$DNS_NS/resolv.conf"
    ip netns add "$DNS_NS" || { echo "FAIL: cannot create a network namespace" >&2; exit 1; }
    ip -n "$DNS_NS" link set lo up
    local rc=0
    env SC_DNS_NS="$DNS_NS" ip netns exec "$DNS_NS" bash "$script" "$@" || rc=$?
    exit $rc
}

# Starts the test's DNS server (lib/dns_stub.py on 127.0.0.53) with ARGS (NAME=ADDR[,ADDR],
# --silent-if FILE, --rotate, --lose-once NAME), its "listening" in OUT and its query log in
# LOG; DNS_PID is its pid. 1 when it did not start within 10 s.
dns_stub_start() {
    local out=$1 log=$2
    shift 2
    python3 "$(dirname "${BASH_SOURCE[0]}")/dns_stub.py" 127.0.0.53 "$@" > "$out" 2> "$log" &
    DNS_PID=$!
    for _ in $(seq 100); do grep -qs listening "$out" && return 0; sleep 0.1; done
    return 1
}

# NAME's distinct addresses as our programs ask for them (AF_UNSPEC, no AI_ADDRCONFIG: getent
# ahosts sets it, and a namespace with only loopback addresses then asks DNS nothing).
dns_addrs() {
    python3 -c 'import socket, sys
print(" ".join(dict.fromkeys(a[4][0] for a in socket.getaddrinfo(sys.argv[1], None, 0, socket.SOCK_STREAM))))' "$1" || true
}
