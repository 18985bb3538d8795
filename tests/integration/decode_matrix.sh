#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 60
# smartcfg air -> smartcfg decode --json over the matrix of what a sniffer meets: every cipher x
# QoS x FCS, broadcast/multicast, one direction only, loss, retries, DTIM bursts, heavy foreign
# traffic, UTF-8/binary/maximum-length credentials, captures starting mid-data-phase; negative
# cases: a second phone with other credentials, spoofed bad-FCS frames, broken capture files.
# Every JSON field is checked exactly. Needs SC_BUILD (build dir); writes only to a temp dir.
set -u
SC=${SC_BUILD:?SC_BUILD not set}/smartcfg
[ -x "$SC" ] || { echo "decode_matrix: $SC missing"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
skipped=0
# A build without the real receiver fails here at once (nothing in this suite is skipped).
stub=0
"$SC" air --duration 50 "$T/probe.pcap" >/dev/null 2>&1
if "$SC" decode "$T/probe.pcap" 2>&1 | grep -q "receiver: not supported"; then
    echo "FAIL: decode_matrix: the receiver is a link stub in this build" >&2
    exit 1
fi

# Overhead O = frame length - UDP length (docs/protocol/esptouch-v1.md#frame-length-and-overhead).
overhead() { # cipher qos fcs
    local sec=0
    case $1 in wep) sec=8 ;; tkip) sec=20 ;; ccmp) sec=16 ;; gcmp) sec=24 ;; esac
    echo $(( ($2 ? 26 : 24) + sec + 36 + ($3 ? 4 : 0) ))
}

. "$(dirname "$0")/lib/batch_check.bash"
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }

# check NAME JSONL key=value... : every line must be one of the accepted results (the primary,
# or alt_* when given) with every field exact; at least one line must be the primary. The case
# is recorded here and checked by check_all at the end, one python3 for every case (a python3
# start per case was a third of this test's CPU).
check() {
    printf '%s\n' "$1" >>"$T/cases"
    printf '%s\n' "$2" "${@:3}" >"$T/$1.case"
}

# check_all: checks every recorded case, in order (lib/batch_check.py)
check_all() {
    [ -f "$T/cases" ] || { echo "checked 0 0"; return; }
    python3 - "$T" "$(dirname "$0")/lib" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[2])
from batch_check import run_all, shown
keys = {'file', 'protocol', 'ssid', 'ssid_hex', 'password', 'password_hex', 'bssid', 'phone_ip',
        'reserved_hex', 'random', 'version', 'channel', 'offset', 'time', 'v', 'event', 't_ms', 'ts'}  # docs/json.md
def check(out, args):
    lines = [l for l in open(out, encoding='utf-8').read().splitlines() if l.strip()]
    if not lines:
        return "no result"
    offsets = {int(o) for o in args['offsets'].split(',')}
    t0, dur = 1700000000, float(args.get('dur', '45000')) / 1000
    prim = (args['ssid_hex'], args['password_hex'], args['ip'])
    accepted = {prim}
    if 'alt_password_hex' in args:
        accepted.add((args.get('alt_ssid_hex', args['ssid_hex']), args['alt_password_hex'], args['alt_ip']))
    saw_primary = False
    for l in lines:
        r = json.loads(l)
        if set(r) != keys:
            return "fields %s" % sorted(r)
        got = (r['ssid_hex'], r['password_hex'], r['phone_ip'])
        if got not in accepted:
            return "unexpected result %s" % l
        saw_primary |= got == prim
        exp = {'file': args['file'], 'bssid': args['bssid'], 'version': 'v1', 'channel': int(args['channel']),
               'protocol': 'esptouch-v1', 'reserved_hex': None, 'random': None}
        if got == prim:
            if 'ssid' in args: exp['ssid'] = args['ssid']
            if 'password' in args: exp['password'] = args['password']
        for k, v in exp.items():
            if r[k] != v:
                return "%s: %r != %r in %s" % (k, r[k], v, l)
        if r['offset'] not in offsets:
            return "offset %r not in %s" % (r['offset'], sorted(offsets))
        if not isinstance(r['time'], (int, float)) or not (t0 <= r['time'] <= t0 + dur):
            return "time %r" % r['time']
    if not saw_primary:
        return "the primary sender was not decoded"
    return None
def case(lines):
    out, *rest = lines
    why = check(out, dict(a.split('=', 1) for a in rest))
    return None if why is None else "\n    %s%s" % (why, shown(out))
run_all(sys.argv[1], case)
EOF
}

# run NAME "air options" key=value... (expected: defaults of vector A unless overridden)
run() {
    local name=$1 opts=$2
    shift 2
    local p=$T/$name.pcap
    # opts is shell-quoted (printf %q) so SSIDs with spaces and empty values survive
    if ! eval "\"\$SC\" air $opts \"\$p\"" >/dev/null 2>"$T/$name.air.err"; then
        echo "FAIL $name: air: $(cat "$T/$name.air.err")"
        fail=$((fail + 1))
        return
    fi
    if [ $stub -eq 1 ]; then
        skipped=$((skipped + 1))
        return
    fi
    "$SC" decode --json "$p" >"$T/$name.json" 2>"$T/$name.err"
    local rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL $name: decode exit $rc: $(head -3 "$T/$name.err")"
        fail=$((fail + 1))
        return
    fi
    check "$name" "$T/$name.json" file="$p" ssid_hex="$(hex TP-LINK_2.4G)" ssid=TP-LINK_2.4G \
        password_hex="$(hex 12345678)" password=12345678 bssid=00:11:22:33:44:55 ip=192.168.1.100 \
        channel=6 "$@"
}

D="--duration 4500"
# every pairwise cipher x uplink QoS x FCS; the relay uses the same cipher as group cipher
for c in open wep tkip ccmp gcmp; do
    for q in 1 0; do
        for f in 1 0; do
            qo=""; [ $q -eq 0 ] && qo="--no-qos"
            fo="--fcs"; [ $f -eq 0 ] && fo="--no-fcs"
            run "c_${c}_q${q}_f${f}" "$D --cipher $c $qo $fo --seed $((q * 2 + f + 1))" \
                offsets="$(overhead $c $q $f),$(overhead $c 0 $f)" dur=4500
        done
    done
done
# WPA/WPA2-mixed AP: CCMP uplink, TKIP relay, QoS relay
run mixed_group "$D --cipher ccmp --group-cipher tkip --downlink-qos" offsets="$(overhead ccmp 1 1),$(overhead tkip 1 1)" dur=4500
run multicast "$D --multicast" offsets=82,80 dur=4500
run uplink_only "$D --uplink-only" offsets=82 dur=4500
# the phone's uplink as one-subframe A-MSDUs only (+14: the subframe header): v1 decodes them
# since the amsdu branch (issue 11 item 7; the CLI audit found it refusing them)
run uplink_amsdu "$D --uplink-only --amsdu" offsets=96 dur=4500
run downlink_only "$D --downlink-only" offsets=80 dur=4500
# real-air variety for v1 through the CLI as well (issue 11 item 7; v2 and AirKiss in
# decode_matrix_v2_airkiss.sh): HT Control (+4, not part of the overhead), chained radiotap
# present words, 5 GHz channel numbers back from radiotap frequencies
run v1_htc_rtext_5g "$D --ht-control --radiotap-ext --channel 36" offsets=82,80 dur=4500 channel=36
run v1_htc_5g_lossy "$D --ht-control --channel 165 --loss 0.1 --seed 4" offsets=82,80 dur=4500 channel=165
run downlink_only_mcast_dtim "--duration 6000 --downlink-only --multicast --dtim 307 --foreign 1" offsets=80 dur=6000
run multi_bssid "$D --multi-bssid --downlink-only" offsets=80 dur=4500
run channel_11 "$D --channel 11 --cipher wep" offsets=74,72 dur=4500 channel=11
run loss30 "--duration 30000 --loss 0.3 --seed 5" offsets=82,80 dur=30000
run retries "$D --retry 0.3" offsets=82,80 dur=4500
run foreign_heavy "--duration 8000 --foreign 6 --seed 3" offsets=82,80 dur=8000
run start_mid_data "--start 3100 --duration 9000" offsets=82,80 dur=9000
run start_late_data "--start 4700 --duration 9000 --loss 0.1" offsets=82,80 dur=9000

# credentials: UTF-8 SSID, binary SSID/password, 32+64 bytes, empty password
U='Café ☕ Wi-Fi'
run utf8_ssid "$D --ssid $(printf %q "$U") --password pässwörd" ssid_hex="$(hex "$U")" ssid="$U" \
    password_hex="$(hex pässwörd)" password=pässwörd offsets=82,80 dur=4500
run binary "$D --ssid-hex 00ff80c3225c41 --password-hex 0a0d1bff" ssid_hex=00ff80c3225c41 \
    ssid='\x00\xff\x80\xc3"\\A' password_hex=0a0d1bff password='\x0a\x0d\x1b\xff' offsets=82,80 dur=4500
# terminal controls that are valid UTF-8 (security F63): C1 CSI (U+009B) and a bidi override
# (U+202E) are escaped byte by byte like C0, never shown as they are
run terminal_controls "$D --ssid-hex 4869c29b386d58e280ae6162 --password-hex c29b5b324ae281a6" \
    ssid_hex=4869c29b386d58e280ae6162 ssid='Hi\xc2\x9b8mX\xe2\x80\xaeab' password_hex=c29b5b324ae281a6 \
    password='\xc2\x9b[2J\xe2\x81\xa6' offsets=82,80 dur=4500
S32=ABCDEFGHIJKLMNOPQRSTUVWXYZ012345
P64=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
run max_len "--duration 9000 --ssid $S32 --password $P64" ssid_hex="$(hex $S32)" ssid=$S32 \
    password_hex="$(hex $P64)" password=$P64 offsets=82,80 dur=9000
run empty_password "$D --password-hex ''" password_hex= password= offsets=82,80 dur=4500
run other_ap "$D --bssid AA:BB:CC:01:02:03 --ip 10.0.0.7 --phone-mac 02:11:22:33:44:55" \
    bssid=aa:bb:cc:01:02:03 ip=10.0.0.7 offsets=82,80 dur=4500

# negative: a second phone (other password and IP) on the same channel and BSSID; every
# result must be exactly one of the two, never a mix
run second_sender "--duration 9000 --second-password evilpass99 --second-ip 192.168.1.200" \
    alt_password_hex="$(hex evilpass99)" alt_ip=192.168.1.200 offsets=82,80 dur=9000
run second_sender_lossy "--duration 20000 --loss 0.2 --second-password 87654321 --second-ip 192.168.1.100" \
    alt_password_hex="$(hex 87654321)" alt_ip=192.168.1.100 offsets=82,80 dur=20000
# both phones of one capture are reported (the receiver resumes the other phone's session)
if [ "$(grep -c '"password_hex"' "$T/second_sender.json" 2>/dev/null)" = 2 ] &&
   grep -q "\"password_hex\":\"$(hex evilpass99)\"" "$T/second_sender.json"; then
    pass=$((pass + 1))
else
    echo "FAIL second_sender: both phones should be decoded: $(cat "$T/second_sender.json" 2>/dev/null)"
    fail=$((fail + 1))
fi
# spoofed bad-FCS frames from the same phone MAC with another password: never decoded
run spoof_badfcs "--duration 9000 --second-password spoofed! --second-phone-mac 3c:28:6d:12:34:56 --second-bad-fcs" \
    offsets=82,80 dur=9000

# broken inputs: clear error, documented exit code, never a crash
expect_exit() { # name want cmd...
    local name=$1 want=$2
    shift 2
    "$@" >"$T/$name.out" 2>"$T/$name.err"
    local rc=$?
    if grep -qE "Sanitizer|runtime error" "$T/$name.err"; then
        echo "FAIL $name: sanitizer report"; head -5 "$T/$name.err"
        fail=$((fail + 1))
    elif [ "$rc" -ge 128 ] || ! [[ " $want " == *" $rc "* ]]; then
        echo "FAIL $name: exit $rc (want $want): $(head -2 "$T/$name.err")"
        fail=$((fail + 1))
    elif [ "$rc" -ne 0 ] && ! [ -s "$T/$name.err" ]; then
        echo "FAIL $name: exit $rc without a message"
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}
good=$T/c_ccmp_q1_f1.pcap
sz=$(stat -c %s "$good")
expect_exit missing 1 "$SC" decode "$T/nope.pcap"
: >"$T/empty.pcap"
expect_exit empty 1 "$SC" decode "$T/empty.pcap"
echo "not a capture" >"$T/text.pcap"
expect_exit text 1 "$SC" decode --json "$T/text.pcap"
head -c 12 "$good" >"$T/hdr.pcap"
expect_exit cut_header 1 "$SC" decode "$T/hdr.pcap"
head -c $((sz * 3 / 10)) "$good" >"$T/cut30.pcap"
head -c $((sz - 7)) "$good" >"$T/cut_end.pcap"
if [ $stub -eq 0 ]; then
    expect_exit cut_30pct 3 "$SC" decode "$T/cut30.pcap"
    expect_exit cut_end 0 "$SC" decode --json "$T/cut_end.pcap"
fi
# corrupt bytes everywhere after the global header
{ head -c 24 "$good"; head -c 200000 /dev/urandom; } >"$T/garbage.pcap"
expect_exit garbage "0 1 3" "$SC" decode "$T/garbage.pcap"
# flipped bytes inside records
cp "$good" "$T/flip.pcap"
for off in 100 5000 20000 40000 60000; do
    printf '\xff\xff\xff\xff' | dd of="$T/flip.pcap" bs=1 seek=$off conv=notrunc status=none
done
expect_exit flipped "0 1 3" "$SC" decode "$T/flip.pcap"
expect_exit mixed_files 1 "$SC" decode "$good" "$T/nope.pcap"
expect_exit no_args 2 "$SC" decode
expect_exit bad_opt 2 "$SC" decode --frobnicate "$good"
expect_exit air_bad_cipher 2 "$SC" air --cipher rot13 "$T/x.pcap"
expect_exit air_long_ssid 2 "$SC" air --ssid 0123456789012345678901234567890123 "$T/x.pcap"
# channels radiotap cannot carry back: 5 GHz numbers above 177 are 6 GHz frequencies to a
# reader (air --channel 191 decoded as channel 1), 15..31 are no channels
expect_exit air_channel_191 2 "$SC" air --channel 191 "$T/x.pcap"
expect_exit air_channel_20 2 "$SC" air --channel 20 "$T/x.pcap"
# and 5 GHz numbers no AP uses (32, 99, 68..96, odd ones below 149) are refused too
for ch in 32 33 68 99 150; do expect_exit air_channel_$ch 2 "$SC" air --channel $ch "$T/x.pcap"; done
for ch in 14 36 177; do
    "$SC" air --channel $ch --duration 4000 "$T/ch$ch.pcap" >/dev/null 2>&1
    if "$SC" decode --json "$T/ch$ch.pcap" 2>/dev/null | grep -q "\"channel\":$ch,"; then
        pass=$((pass + 1))
    else
        echo "FAIL air_channel_$ch: the capture does not decode as channel $ch"; fail=$((fail + 1))
    fi
done
expect_exit air_no_out 2 "$SC" air
expect_exit air_unwritable 1 "$SC" air --duration 100 "$T/no/such/dir/x.pcap"
# two files in one run: each result names its file
[ $stub -eq 1 ] || "$SC" decode --json "$T/multicast.pcap" "$T/uplink_only.pcap" >"$T/two.json" 2>/dev/null
if [ $stub -eq 1 ]; then
    :
elif [ "$(python3 -c 'import json,sys; print(sorted({json.loads(l)["file"].rsplit("/",1)[1] for l in open(sys.argv[1])}))' "$T/two.json")" = "['multicast.pcap', 'uplink_only.pcap']" ]; then
    pass=$((pass + 1))
else
    echo "FAIL two_files"; fail=$((fail + 1))
fi

check_all >"$T/check.log" 2>&1
batch_check_count "$T/check.log"
echo "decode_matrix: $pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
