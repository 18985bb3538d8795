#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 30
# smartcfg air --protocol v2|airkiss -> smartcfg decode --json: ciphers x QoS x FCS, loss,
# retries, foreign traffic, HT Control, A-MSDU, 5 GHz, late capture starts, high-bit and
# maximum-length credentials, reserved data, the AES variants with and without the key (never a
# wrong password), a v1 and a v2 phone in one capture (both sessions), and hostile captures
# (bad-FCS spoofing) that must yield nothing wrong. Every JSON field is checked exactly.
set -u
SC=${SC_BUILD:?SC_BUILD not set}/smartcfg
[ -x "$SC" ] || { echo "decode_matrix_v2_airkiss: $SC missing"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
. "$(dirname "$0")/lib/batch_check.bash"
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }

# run NAME "air options" "decode options" key=value... (expected fields of the one session;
# password_hex=null for an encrypted session without its key; extra=N allows N other sessions
# with a different protocol, none with our protocol and different values). The capture and the
# decode run in the background, 4 cases at a time: each is a chain of short processes, and on a
# busy machine a chain waits mostly for its turn on a core, not for work. The fields are checked
# by check_all at the end, one python3 for every case (a python3 start per case was a third of
# this test's CPU).
run() {
    local name=$1 airopts=$2 decopts=$3
    shift 3
    printf '%s\n' "$name" >>"$T/cases"
    printf '%s\n' "$airopts | $decopts" "$T/$name.out" "$T/$name.err" "$T/$name.pcap" "$@" >"$T/$name.case"
    while [ "$(jobs -rp | wc -l)" -ge 4 ]; do wait -n; done
    (
        # shellcheck disable=SC2086
        # captures stop after 25 s of air unless the case says otherwise (the run is 60-90 s)
        if ! "$SC" air --duration 25000 $airopts "$T/$name.pcap" >"$T/$name.air" 2>&1; then
            mv "$T/$name.air" "$T/$name.airfail"
            exit
        fi
        # shellcheck disable=SC2086
        "$SC" decode --json $decopts "$T/$name.pcap" >"$T/$name.out" 2>"$T/$name.err"
    ) &
}

# check_all: checks every case run() recorded, in order (lib/batch_check.py)
check_all() {
    [ -f "$T/cases" ] || { echo "checked 0 0"; return; }
    python3 - "$T" "$(dirname "$0")/lib" <<'EOF'
import json, os, sys
sys.path.insert(0, sys.argv[2])
from batch_check import run_all, shown
keys = {'file', 'protocol', 'ssid', 'ssid_hex', 'password', 'password_hex', 'bssid', 'phone_ip',
        'reserved_hex', 'random', 'version', 'channel', 'offset', 'time', 'v', 'event', 't_ms', 'ts'}  # docs/json.md
def val(v):
    if v == 'null': return None
    return int(v) if v.lstrip('-').isdigit() and len(v) < 4 else v
def check(out, pcap, args):
    lines = [json.loads(l) for l in open(out).read().splitlines() if l.strip()]
    exp = {k: val(v) for k, v in args.items() if k in keys}
    exp['file'] = pcap
    mine = [r for r in lines if r['protocol'] == exp['protocol']]
    others = [r for r in lines if r['protocol'] != exp['protocol']]
    if len(mine) != 1:
        return "%d %s sessions: %s" % (len(mine), exp['protocol'], lines)
    if len(others) != int(args.get('extra', '0')):
        return "other sessions: %s" % others
    r = mine[0]
    if set(r) != keys:
        return "fields %s" % sorted(r)
    for k, v in exp.items():
        if r[k] != v:
            return "%s: %r != %r" % (k, r[k], v)
    t0 = 1700000000
    if not (t0 <= r['time'] <= t0 + float(args.get('maxs', '90'))):
        return "time %r" % r['time']
    return None
def case(lines):
    opts, out, err, pcap, *rest = lines
    airfail = pcap[:-len('.pcap')] + '.airfail'
    if os.path.exists(airfail):  # the capture itself failed (run() keeps air's message)
        return ": air:%s" % shown(airfail)
    why = check(out, pcap, dict(a.split('=', 1) for a in rest))
    return None if why is None else " (%s)\n    %s%s" % (opts, why, shown(out, err))
run_all(sys.argv[1], case)
EOF
}

SSID=TP-LINK_2.4G
PWD=12345678
SH=$(hex $SSID)
PH=$(hex $PWD)
BSSID=00:11:22:33:44:55
common_v2="protocol=esptouch-v2 version=v2 ssid=$SSID ssid_hex=$SH bssid=$BSSID phone_ip=null random=null"
common_ak="protocol=airkiss version=airkiss ssid=$SSID ssid_hex=$SH bssid=null phone_ip=null reserved_hex=null"

# --- ciphers x QoS x FCS, both protocols ---------------------------------------------------
for c in open wep tkip ccmp gcmp; do
    for q in "" --no-qos; do
        for f in --fcs --no-fcs; do
            n=${c}_${q:-q}_${f#--}
            run "v2_$n" "--protocol v2 --cipher $c $q $f --reserved r1 --loss 5% --foreign 0.5 --seed 3" "" \
                $common_v2 password=$PWD password_hex=$PH reserved_hex=$(hex r1) channel=6 maxs=20
            run "ak_$n" "--protocol airkiss --cipher $c $q $f --random 77 --loss 5% --foreign 0.5 --seed 3" "" \
                $common_ak password=$PWD password_hex=$PH random=77 channel=6 maxs=20
        done
    done
done

# --- real-air variety ---------------------------------------------------------------------
for p in v2 airkiss; do
    if [ $p = v2 ]; then exp="$common_v2 reserved_hex="; else exp="$common_ak random=66"; fi
    run "${p}_htc_5g" "--protocol $p --ht-control --channel 149 --loss 10% --seed 5" "" $exp password=$PWD password_hex=$PH channel=149 maxs=30
    run "${p}_rtext" "--protocol $p --radiotap-ext --ht-control --channel 36 --seed 10" "" $exp password=$PWD password_hex=$PH channel=36 maxs=30
    run "${p}_amsdu" "--protocol $p --amsdu --uplink-only --loss 5% --seed 6" "" $exp password=$PWD password_hex=$PH channel=6 maxs=30
    run "${p}_late" "--protocol $p --start 30000 --duration 30000 --loss 20% --retry 10% --foreign 2 --seed 7" "" $exp password=$PWD password_hex=$PH channel=6 maxs=60
    run "${p}_dtim" "--protocol $p --dtim 300 --downlink-only --duration 40000 --seed 8" "" $exp password=$PWD password_hex=$PH channel=6 maxs=60
    run "${p}_multibss" "--protocol $p --multi-bssid --seed 9" "" $exp password=$PWD password_hex=$PH channel=6 maxs=30
done

# --- credentials ------------------------------------------------------------------------
U=$(printf 'Caf\xc3\xa9-\xe7\xbd\x91')
run v2_utf8 "--protocol v2 --ssid-hex $(hex "$U") --password-hex 00ff80417f --reserved-hex ffee --seed 11" "" \
    protocol=esptouch-v2 ssid_hex=$(hex "$U") password_hex=00ff80417f reserved_hex=ffee bssid=$BSSID channel=6 maxs=20
L32=abcdefghijklmnopqrstuvwxyz012345
L64=${L32}${L32}
run v2_max "--protocol v2 --ssid $L32 --password $L64 --reserved $L64 --loss 10% --duration 60000 --seed 12" "" \
    protocol=esptouch-v2 ssid_hex=$(hex $L32) password_hex=$(hex $L64) reserved_hex=$(hex $L64) channel=6 maxs=60
run ak_max "--protocol airkiss --ssid $L32 --password $L64 --random 0 --loss 10% --duration 60000 --seed 13" "" \
    protocol=airkiss ssid_hex=$(hex $L32) password_hex=$(hex $L64) random=0 bssid=null channel=6 maxs=60
run ak_open "--protocol airkiss --ssid OpenCafe --password= --random 33 --seed 14" "" \
    protocol=airkiss ssid=OpenCafe password= password_hex= random=33 channel=6 maxs=20

# --- AES: with the key, without it, with a wrong one (never a wrong password) -----------------
K=1234567890123456
for iv in "" --random-iv; do
    n=aes${iv:+_randiv}
    run "v2_${n}_key" "--protocol v2 --aes-key $K $iv --reserved custom --port-mark 2 --loss 5% --seed 15" "--aes-key $K" \
        $common_v2 password=$PWD password_hex=$PH reserved_hex=$(hex custom) channel=6 maxs=30
    run "v2_${n}_nokey" "--protocol v2 --aes-key $K $iv --reserved custom --seed 16" "" \
        $common_v2 password=null password_hex=null reserved_hex=null channel=6 maxs=30
    run "v2_${n}_wrongkey" "--protocol v2 --aes-key $K $iv --seed 17" "--aes-key 6543210987654321" \
        $common_v2 password=null password_hex=null reserved_hex=null channel=6 maxs=30
done

# --- two phones, two protocols: both sessions -------------------------------------------------
run two_v1_v2 "--protocol v1 --second-protocol v2 --second-ssid Other --loss 5% --seed 21" "" \
    protocol=esptouch-v2 ssid=Other password=$PWD reserved_hex= extra=1 maxs=60
run two_v1_ak "--protocol v1 --second-protocol airkiss --second-ssid Other --seed 22" "" \
    protocol=airkiss ssid=Other password=$PWD extra=1 maxs=60
run two_v2_ak "--protocol airkiss --second-protocol v2 --second-ssid Other --seed 23" "" \
    protocol=esptouch-v2 ssid=Other password=$PWD extra=1 maxs=60

# --- hostile: a spoofing second phone (bad FCS) never wins -------------------------------------
run v2_spoof "--protocol v2 --second-password evil-pass --second-bad-fcs --seed 24" "" \
    $common_v2 password=$PWD password_hex=$PH reserved_hex= channel=6 maxs=30
run ak_spoof "--protocol airkiss --second-password evil-pass --second-bad-fcs --seed 25" "" \
    $common_ak password=$PWD password_hex=$PH random=66 channel=6 maxs=30

# --protocols restricts the decoders
"$SC" air --protocol airkiss --duration 8000 "$T/only.pcap" >/dev/null
if "$SC" decode --protocols v1,v2 "$T/only.pcap" >/dev/null 2>&1; then
    echo "FAIL protocols: an AirKiss capture decoded with AirKiss disabled"; fail=$((fail + 1))
else pass=$((pass + 1)); fi
if "$SC" decode --aes-key short "$T/only.pcap" >/dev/null 2>&1; then
    echo "FAIL aes-key: a short key was accepted"; fail=$((fail + 1))
else pass=$((pass + 1)); fi

# A wrong --aes-key passes PKCS#7 when the padding is one byte (password + reserved = 15 mod 16)
# about once in 256 keys; with a password that has high bytes, decode printed a wrong password
# (the CLI audit: 3 of 600 random keys). This key is one such for this capture; since the v2key
# branch the receiver rejects it (docs/protocol/esptouch-v2.md §8).
"$SC" air --protocol v2 --aes-key 1234567890123456 --password-hex c3a9c3a9c3a9c3a9c3a9c3a9c3a961 \
    --duration 20000 "$T/wrongkey1.pcap" >/dev/null 2>&1
if "$SC" decode --json --aes-key a10b046535d3adb5 "$T/wrongkey1.pcap" 2>/dev/null | grep -q '"password":null'; then
    pass=$((pass + 1))
else
    echo "FAIL v2_wrong_key_pad1: a wrong key that passes PKCS#7 gave a password"; fail=$((fail + 1))
fi

wait   # the last cases
check_all >"$T/check.log" 2>&1
batch_check_count "$T/check.log"
echo "decode_matrix_v2_airkiss: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
