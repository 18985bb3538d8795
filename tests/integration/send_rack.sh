#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A rack on a test bench: what a QA engineer provisioning many devices at once gets from one
# `smartcfg send` (docs/send.md, "Provisioning a rack").
#  1. Eight real `smartcfg device`s on the virtual radio (127.0.1.1..8), two of them set to
#     another region: `send --count 8 --token --region` ends 4, and its JSON summary alone says
#     which six are done and which two failed, with their MAC, address, error numbers and
#     reason, and when each ended (a report's rows; until 2026-12-07 no counts of failed or
#     missing devices and no times).
#  2. The re-run for the failed two only (restarted with the right region), without --json: a
#     table line per device and a last line with the counts.
#  3. Forty fake devices (send_fake.py) against `--count 0`: a run takes 32; the other eight
#     are told one by one (ack_extra, reason "full"), listed in the summary's `extra`, and the
#     run is not a success (exit 3). Until 2026-12-07 they were dropped without a word, exit 0.
#  4. A token API that answers 429 (the account's token budget, as smartcfg cloud's
#     --token-rate): the devices wait a second and get their tokens (they failed at once).
# In network namespaces of its own; nothing but the fake devices of part 3 is faked.
# ctest-cost: 35
set -euo pipefail
. "$(dirname "$0")/send_common.inc"
. "$(dirname "$0")/lib/rack.bash"
rack_ns rack
die() { echo "FAIL: $*"; for f in "$T"/rack*.out "$T"/rack*.err; do [ -f "$f" ] && { echo "--- $f"; grep -v '"progress"' "$f" | tail -n 40; }; done; exit 1; }
export SMARTCFG_DEVICE_SECRET=c2VjcmV0c2VjcmV0c2VjcmV0
device() { rack_device "$@"; }
send() {
  ip netns exec $NS "$B/smartcfg" send --ssid RackAP --password-file <(echo r4ck-bench-pw) \
    --bssid 02:5c:00:00:00:01 --ip 127.0.0.1 --dest 127.255.255.255 --timeout 40 "$@"
}

# --- 1. eight devices, two of them in another region ----------------------------------------
for i in 1 2 4 5 7 8; do device $i; done
device 3 ap-shanghai; device 6 ap-shanghai
sniffing 1 2 3 4 5 6 7 8
rc=0; send --count 8 --token r4cktoken0123456789 --region ap-guangzhou --json > "$T/rack1.out" 2> "$T/rack1.err" || rc=$?
stop_devices
[ $rc = 4 ] || die "eight devices, two failing: exit $rc, want 4"
sum=$(grep '"event":"summary"' "$T/rack1.out") || die "no summary"
q() { jq -r "$1" <<<"$sum"; }
[ "$(q '[.found, .ok, .failed, .missing, .expected] | @csv')" = "8,6,2,0,8" ] \
  || die "found/ok/failed/missing/expected: $(q '[.found, .ok, .failed, .missing, .expected] | @csv'), want 8,6,2,0,8"
# the done ones: each with its names, matching the address it lives on, ok, and its times
[ "$(q '[.devices[] | select(.ok) | "\(.ip) \(.device_name) \(.state)"] | sort | join(",")')" = \
  "127.0.1.1 rack1 identified,127.0.1.2 rack2 identified,127.0.1.4 rack4 identified,127.0.1.5 rack5 identified,127.0.1.7 rack7 identified,127.0.1.8 rack8 identified" ] \
  || die "the done devices: $(q '[.devices[] | select(.ok) | "\(.ip) \(.device_name)"]')"
# the failed ones: which (MAC, address), why (the device's numbers, the plain reason, the event)
[ "$(q '[.devices[] | select(.ok | not) | "\(.ip) \(.state) \(.failure) \(.err_id)/\(.sub_id)"] | sort | join(",")')" = \
  "127.0.1.3 failed device_error 26/104,127.0.1.6 failed device_error 26/104" ] \
  || die "the failed devices: $(q '[.devices[] | select(.ok | not)]')"
q '.devices[] | select(.ok | not) | .reason' | grep -q 'different regions' || die "no plain reason for the failed devices"
[ "$(q '[.devices[] | select(.mac | test("^([0-9a-f]{2}:){5}[0-9a-f]{2}$"))] | length')" = 8 ] || die "a device without its MAC"
[ "$(q '[.devices[] | select(.ack_ms > 0 and .done_ms >= .ack_ms and .done_ms <= 40000)] | length')" = 8 ] \
  || die "each device's ack_ms and done_ms: $(q '[.devices[] | [.ack_ms, .done_ms]]')"
[ "$(q '.extra | length')" = 0 ] || die "extra devices where there were none"
# a report is one jq line away (docs/send.md shows it)
[ "$(q '.devices[] | [.mac, .ip, .product_id // "", .device_name // "", .state, .ok, .done_ms, .err_id // "", .reason // ""] | @csv' | wc -l)" = 8 ] \
  || die "the CSV rows"
python3 "$S/scripts/json_check.py" "$S/docs/json.md" send "$T/rack1.out" || die "send's lines break docs/json.md"
echo "ok - 8 devices: 6 done, 2 failed, each named with its reason in the summary"

# --- 2. the failed two again, right region, human output -------------------------------------
device 3; device 6
sniffing 3 6
rc=0; send --count 2 --token r4cktoken0123456789 --region ap-guangzhou > "$T/rack2.out" 2> "$T/rack2.err" || rc=$?
stop_devices
[ $rc = 0 ] || die "the re-run of the two: exit $rc"
grep -q '^-- devices, in the order they acked (done = identified) --$' "$T/rack2.out" || die "no table header"
for i in 3 6; do
  grep -Eq "^  device ([0-9a-f]{2}:){5}[0-9a-f]{2} 127\.0\.1\.$i +identified RACKPROD01/rack$i token r4ck… [0-9]+\.[0-9]{2}s$" "$T/rack2.out" \
    || die "no table line for rack$i"
done
grep -Eq '^\[ *[0-9.]+s\] [0-9]+ datagrams sent; 2 device\(s\) found, 2 done \(exit 0\)$' "$T/rack2.out" || die "the last line"
echo "ok - the re-run of the failed two: both done, one line each"

# --- 3. forty devices against --count 0: 32 taken, 8 told ------------------------------------
devs=""
for i in $(seq 2 41); do devs="$devs --dev ip=127.0.0.$i,mac=24:0a:c4:00:01:$(printf %02x $i)"; done
scenario full 3 "$devs" --token a1b2c3d4e5f6 --count 0 --timeout 6
expect full 32 '"event":"identity"'
expect full 8 '"event":"ack_extra".*"reason":"full"'
expect full 1 '"event":"summary".*"found":32,"ok":32,"expected":0,"failed":0,"missing":0'
[ "$(grep '"event":"summary"' "$T/full.ev" | jq -r '[.extra[] | select(.reason == "full") | .ip] | length')" = 8 ] \
  || { echo "FAIL: full: the summary does not list the 8 devices not taken"; fail=1; }
# the extra eight are the ones that never got a token
[ "$(grep '"event":"summary"' "$T/full.ev" | jq -r '([.devices[].ip] + [.extra[].ip]) | unique | length')" = 40 ] \
  || { echo "FAIL: full: taken + not taken is not the forty"; fail=1; }
python3 "$S/scripts/json_check.py" "$S/docs/json.md" send "$T/full.ev" || fail=1
[ $fail = 0 ] && echo "ok - 40 devices, --count 0: 32 done, 8 told and listed, exit 3"

# --- 4. the cloud's token budget: 429 is "later", not "no" -------------------------------------
# smartcfg cloud gives an account 20 tokens at once, then one a second (--token-rate): a rack
# of 32 with --cloud had its 21st..32nd devices failed at once on the 429 (exit 5, 11 of 32).
# Here every other token request after the first is answered 429: each device is asked for again
# a second later and all three are bound.
scenario limit 0 "--cloud-port 18080 --cloud-mode ratelimit --dev ip=127.0.0.2,mac=24:0a:c4:00:00:01 --dev ip=127.0.0.3,mac=24:0a:c4:00:00:02 --dev ip=127.0.0.4,mac=24:0a:c4:00:00:03" \
  --cloud http://127.0.0.1:18080/ --access-token test-access --timeout 15 --count 3
expect limit 3 '"event":"bound"'
expect limit 2 '"event":"cloud_retry".*code 429'
expect limit 1 '"event":"summary".*"found":3,"ok":3,"expected":3,"failed":0'
[ $fail = 0 ] && echo "ok - tokens refused with 429 are asked for again: three devices bound"
exit $fail
