#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# smartcfg send against fake devices (send_fake.py) on 127.0.0.2.. inside namespaces of its
# own: acks, de-duplication, the UDP 8266 token handshake with retries, device errors and
# malformed replies. The phone is 127.0.0.1 (token socket 127.0.0.1:8266), --dest 127.0.0.1
# is the "air" that wakes the fake devices.
set -euo pipefail
. "$(dirname "$0")/send_common.inc"
TOK="--token a1b2c3d4e5f6 --timeout 10"   # scenarios end at their count; 10 s only bounds a stall

# a device that never answers the token: 6 sends 2 s apart, then UDP_NOT_RESPONSE (12 s) -
# in the background, in its own namespace, while the rest runs
( scenario silent 4 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:09,b=silent" $TOK
  expect silent 6 '"event":"token_sent"'
  expect silent 1 '"event":"no_response"'
  expect silent 1 '"event":"summary".*"state":"failed".*"failure":"no_response"'   # the failure's class, per device
  exit $fail ) & silent_pid=$!
# a device that answers only the 3rd retry (4th request, 6 s), also in the background
( scenario third 0 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01,b=third" $TOK
  expect third 4 '"event":"token_sent"'
  expect third 1 '"event":"identity"'
  exit $fail ) & third_pid=$!

scenario one 0 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01" $TOK --region ap-guangzhou
expect one 1 '"event":"ack"'
expect one 1 '"event":"sending".*"protocol":"esptouch-v1"'   # the default, named (it said "none")
expect one 1 '"event":"identity".*"device_name":"dev_0001"'   # sent 3 times, counted once
expect one 1 '"event":"summary".*"exit":0'
expect one 1 '"event":"token_sent".*"token":"a1b2…"'
grep -q '"req": {"cmdType": 0, "token": "a1b2c3d4e5f6", "region": "ap-guangzhou"}' "$T/one.log" \
  || { echo "FAIL: one: the device did not get the token request"; cat "$T/one.log"; fail=1; }
grep -q '"peer": "127.0.0.1:8266"' "$T/one.log" || { echo "FAIL: one: request not from port 8266"; fail=1; }

scenario three 0 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01 --dev ip=127.0.0.3,mac=24:0a:c4:00:00:02,pretty --dev ip=127.0.0.4,mac=24:0a:c4:00:00:03,b=previous" $TOK --count 3
expect three 3 '"event":"ack"'
expect three 3 '"event":"identity"'
expect three 1 '"event":"previous_error".*WIFI connect error! (10, 15)'
expect three 1 '"event":"summary".*"found":3,"ok":3'


scenario current 4 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01,b=current" $TOK
expect current 1 '"event":"device_error".*"message":"MQTT connect error! (1, -4)"'
expect current 1 '"event":"device_error".*"err_id":1,"sub_id":-4,"reason":"[a-z]'
expect current 1 '"event":"summary".*"state":"failed".*"error":"MQTT connect error! (1, -4)","failure":"device_error","err_id":1,"sub_id":-4,"reason":"[a-z]'
expect three 1 '"event":"previous_error".*"err_id":10,"sub_id":15,"reason":"'
# the same without --json: the summary line of the failed device keeps the error apart
SEND_ARGS=${SEND_ARGS% --json} scenario currenth 4 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01,b=current" $TOK
expect currenth 1 '^  device 24:0a:c4:00:00:01 127.0.0.2 *failed *token a1b2… [0-9]*\.[0-9][0-9]s - [a-z].* (MQTT connect error! (1, -4))$'
expect currenth 1 ' 1 device(s) found, 0 done, 1 failed - device error (exit 4)$'

scenario malformed 0 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01,b=malformed" $TOK
expect_min malformed 2 '"event":"malformed"'
expect malformed 1 '"event":"identity"'

# a flood of junk on both ports: bounded output, the handshake still completes
scenario flood 0 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01,b=flood" $TOK
expect flood 10 '"event":"malformed"'
expect flood 1 '"event":"identity"'

# earlier errors in turn from one host (F65): each distinct text once, at most 16 (the most a
# device queues), not one line per datagram
scenario prevflood 0 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01,b=prevflood" $TOK
expect prevflood 16 '"event":"previous_error"'
expect prevflood 1 '"event":"identity"'

scenario badack 3 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01,b=badack" --token a1b2c3d4e5f6 --timeout 2
expect badack 0 '"event":"ack"'
expect_min badack 1 '"event":"ack_rejected".*first byte'
expect badack 1 '"event":"timeout"'
grep -q 'never acked' "$T/badack.err" "$T/badack.ev" || true

scenario mismatch 0 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01,b=mismatch" $TOK
expect mismatch 1 '"event":"ip_mismatch".*"ack_ip":"127.0.0.99","src_ip":"127.0.0.2"'
expect mismatch 1 '"event":"identity"'

scenario acksonly 0 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01 --dev ip=127.0.0.3,mac=24:0a:c4:00:00:02" --no-token --count 2 --timeout 5
expect acksonly 2 '"event":"ack"'
expect acksonly 0 '"event":"token_sent"'

# --count 0: run to the timeout, every device counts
scenario countzero 0 "--dev ip=127.0.0.2,mac=24:0a:c4:00:00:01 --dev ip=127.0.0.3,mac=24:0a:c4:00:00:02" $TOK --count 0 --timeout 4
expect countzero 2 '"event":"identity"'

# F31: one LAN host acks under 40 made-up MACs before the real device: it filled the
# 32-entry device table, the real device's ack was dropped. Now one device per source address.
scenario spray 0 "--dev ip=127.0.0.3,mac=02:66:66:00:00:00,b=macspray,delay=0.1 --dev ip=127.0.0.2,mac=24:0a:c4:00:00:01,delay=1.0" --no-token --count 0 --timeout 3
expect spray 1 '"event":"ack".*"ip":"127.0.0.2"'
expect spray 1 '"event":"ack".*"ip":"127.0.0.3"'
expect_min spray 1 '"event":"ack_rejected".*another MAC'
expect spray 1 '"event":"summary".*"found":2'

wait $silent_pid || fail=1
wait $third_pid || fail=1
exit $fail
