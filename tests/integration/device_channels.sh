#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 26
# Channel search end to end: `smartcfg air` writes a capture of a v1, v2 or AirKiss phone on one
# channel, starting mid-session (10 % loss, foreign traffic); `smartcfg device --radio file:`
# replays it hearing only the channel the search tunes to (the file radio's hop emulation),
# listening for all three protocols as a device does, over --channels 1-13 (AP on 11) and
# the dual-band 1-11,36-165 (36 channels, AP on 149). Each run must lock on the AP's channel
# and report the credentials. v2 and AirKiss lock only at the head of a packet list or on a
# guide run, which the search reached by luck before sc_chansearch_step_rx (docs/receiver.md
# §7); the dual-band list did not fit the POSIX host's 32-channel table.
set -u
SC=${SC_BUILD:?}/smartcfg
TMP=$(mktemp -d /tmp/scdp_chan.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() {
    echo "FAIL: $1"
    for f in "$TMP"/$2.jsonl "$TMP"/$2.err; do [ -f "$f" ] && { echo "--- $f"; grep -v progress "$f" | tail -n 15; }; done
    exit 1
}

PASSWORD='ch4nnel-pass'
# case PROTOCOL AP_CHANNEL CHANNEL_LIST START_MS [PROTOCOLS the device listens for (default all)]
run_case() {
    local proto=$1 ch=$2 list=$3 start=$4 only=${5:-} name="$1_$2${5:+_only}"
    "$SC" air --protocol "$proto" --ssid HomeNet --password "$PASSWORD" --ip 127.0.0.1 --channel "$ch" \
        --loss 10% --foreign 1 --start "$start" "$TMP/$name.pcap" >"$TMP/$name.air" 2>&1 || fail "$name: smartcfg air" "$name"
    # --timeout: the device only has to decode; it waits for a token nobody sends, so end it early
    "$SC" device --radio "file:$TMP/$name.pcap" --channels "$list" ${only:+--protocols "$only"} \
        --join "sim:HomeNet:$PASSWORD:127.0.0.2" \
        --product-id ABCDEFGHIJ --device-name "dev-$name" --no-cloud --token-linger 1 --json --timeout 3 \
        --state-dir "$TMP/state-$name" >"$TMP/$name.jsonl" 2>"$TMP/$name.err"
    grep -q "not supported\|not implemented" "$TMP/$name.err" && fail "$name: not in this build" "$name"
    grep -q "\"event\":\"lock\",\"t_ms\":[0-9]*,\"channel\":$ch," "$TMP/$name.jsonl" || fail "$name: no lock on channel $ch" "$name"
    # every protocol's lock event carries its stream's overhead (CCMP + FCS: 82 uplink, 80 relay;
    # v2's and AirKiss's said 0 until 2026-12-06)
    local pn=esptouch-$proto; [ "$proto" = airkiss ] && pn=airkiss
    grep -Eq "\"event\":\"lock\",\"t_ms\":[0-9]*,\"channel\":$ch,\"offset\":8[02],\"protocol\":\"$pn\"" "$TMP/$name.jsonl" ||
        fail "$name: no $pn lock with its overhead" "$name"
    grep -q '"event":"credentials","t_ms":[0-9]*,"ssid":"HomeNet"' "$TMP/$name.jsonl" || fail "$name: no credentials" "$name"
    if [ "$proto" = airkiss ]; then # the AirKiss ack (the random byte to UDP 10000): the right decoder
        grep -q '"event":"ack","t_ms":[0-9]*,"peer":"[0-9.]*:10000"' "$TMP/$name.jsonl" || fail "$name: no AirKiss ack" "$name"
    fi
    grep -qF -- "$PASSWORD" "$TMP/$name.jsonl" "$TMP/$name.err" && fail "$name: the password leaked" "$name"
    echo "$name ($list): $(grep -o '"event":"credentials","t_ms":[0-9]*' "$TMP/$name.jsonl" | grep -o '[0-9]*$') ms"
}

for proto in v1 v2 airkiss; do
    run_case "$proto" 11 1-13 7000
    run_case "$proto" 149 1-11,36-165 20000
done

# A device that listens for v2 or AirKiss alone (--protocols): the search's sensor for every
# protocol is v1's stream tracker, which the front feeds whatever the mask says; until
# 2026-12-06 it did not feed it without v1, and such a device never found its phone while it
# hopped (found by the CLI audit; test_search_each_protocol).
run_case v2 11 1-13 7000 v2
run_case airkiss 11 1-13 7000 airkiss
echo "PASS"
