#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 55
# A token API that stops answering in the middle of a run (F85): `smartcfg send --cloud` ends
# within the flow's own bounds, whatever the number of devices: a device waits for its token
# 20 s after its ack and for its bind 42 s after its identity (the reference's 20 polls 2 s
# apart), however slowly the cloud answers. The one HTTP handle serves the devices in turn and
# only counted requests, so each request held to its 10 s timeout made the run last
# devices x 20 x 10 s (here 3 devices: 90 s and more; a rack of 32: 1.8 hours).
# The fake cloud answers the run's first token, then holds every request past the timeout.
set -euo pipefail
. "$(dirname "$0")/send_common.inc"
scenario stall 5 "--life 80 --cloud-port 18080 --cloud-mode stall --dev ip=127.0.0.2,mac=24:0a:c4:00:00:01 --dev ip=127.0.0.3,mac=24:0a:c4:00:00:02 --dev ip=127.0.0.4,mac=24:0a:c4:00:00:03" \
  --cloud http://127.0.0.1:18080/ --access-token test-access --timeout 10 --count 3
expect stall 3 '"event":"ack"'
expect stall 1 '"event":"identity"'
expect stall 1 '"event":"bind_timeout"'
expect stall 2 '"event":"cloud_error".*AppCreateDeviceBindToken'
expect stall 1 '"event":"summary".*"found":3,"ok":0,"expected":3,"failed":3'
# the run's end: the bind window of the identified device (42 s) plus one request in flight
t=$(grep '"event":"summary"' "$T/stall.ev" | jq -r .t_ms || echo 999999)
[ "${t:-999999}" -le 60000 ] || { echo "FAIL: stall: the run ended at ${t} ms, want <= 60000"; fail=1; }
[ $fail = 0 ] && echo "ok - a stalled token API: three devices failed within the flow's bounds (${t} ms)"
exit $fail
