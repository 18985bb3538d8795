# SPDX-License-Identifier: Apache-2.0
# Two network namespaces joined by a veth pair, for the device tests that put the app and the
# device on either end of a wire (sourced; not a test itself).
# Set before sourcing: NSA and NSD (the app's and the device's namespace), VA and VD (the veth
# ends in them), NET (a /24 prefix such as 10.188.20) and TMP (a temp dir). Sourcing installs
# the EXIT trap: every process left in the two namespaces is killed, they are deleted and TMP
# is removed. veth_pair_up (after the script's fail() is defined) creates them: NET.1 on VA,
# NET.2 on VD, loopback up on both sides (veth_pair_app_up: all but VD's address and link).
cleanup() {
    for ns in "$NSA" "$NSD"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

# The wire and the app's end only: VD is left down and without an address, for a device side
# that puts it elsewhere (integ.lwip_security bridges it with the lwIP port's tap).
veth_pair_app_up() {
    ip netns add "$NSA" && ip netns add "$NSD" || fail "cannot create namespaces"
    ip link add "$VA" netns "$NSA" type veth peer name "$VD" netns "$NSD" || fail "cannot create veth pair"
    ip -n "$NSA" link set lo up && ip -n "$NSD" link set lo up
    ip -n "$NSA" addr add "$NET.1/24" dev "$VA" && ip -n "$NSA" link set "$VA" up
}

veth_pair_up() {
    veth_pair_app_up
    ip -n "$NSD" addr add "$NET.2/24" dev "$VD" && ip -n "$NSD" link set "$VD" up
}
