#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# smartcfg send --cloud against a fake token API (send_fake.py world --cloud-port: python
# http.server speaking docs/protocol/tencent.md#the-apps-token-api) and fake devices that "bind" the token they get.
set -euo pipefail
. "$(dirname "$0")/send_common.inc"
CLOUD="--cloud http://127.0.0.1:18080/ --access-token test-access --timeout 5"

scenario cloud1 0 "--cloud-port 18080 --dev ip=127.0.0.2,mac=24:0a:c4:00:00:01" $CLOUD
expect cloud1 1 '"event":"token_created".*"token":"a1b2…"'
expect cloud1 1 '"event":"identity"'
expect cloud1 1 '"event":"bound".*"device_name":"dev_0001"'
expect cloud1 1 '"event":"summary".*"exit":0'
grep -q '"path": "/tokenapi?cmd=AppCreateDeviceBindToken", "body": {"Action": "AppCreateDeviceBindToken", "RequestId": "smartcfg-[0-9a-f]*", "AccessToken": "test-access"}' "$T/cloud1.log" \
  || { echo "FAIL: cloud1: create-token request"; cat "$T/cloud1.log"; fail=1; }
grep -q '"path": "/tokenapi?cmd=AppGetDeviceBindTokenState", "body": {"Token": "a1b2c3d4e5f60718293a4b5c6d7e8f90", "Action": "AppGetDeviceBindTokenState"' "$T/cloud1.log" \
  || { echo "FAIL: cloud1: state poll request"; cat "$T/cloud1.log"; fail=1; }
grep -q '"token": "a1b2c3d4e5f60718293a4b5c6d7e8f90"' "$T/cloud1.log" || { echo "FAIL: cloud1: device did not get the cloud token"; fail=1; }

# two devices: one token each, as Tencent's app does (the second made when the device acks),
# each token's state polled on its own
scenario cloud2 0 "--cloud-port 18080 --dev ip=127.0.0.2,mac=24:0a:c4:00:00:01 --dev ip=127.0.0.3,mac=24:0a:c4:00:00:02" $CLOUD --count 2
expect cloud2 2 '"event":"bound"'
expect cloud2 2 '"event":"token_created"'
expect cloud2 1 '"event":"token_created".*"device":1'
[ "$(grep -c '"path": "/tokenapi?cmd=AppCreateDeviceBindToken"' "$T/cloud2.log")" = 2 ] \
  || { echo "FAIL: cloud2: want two create-token calls"; cat "$T/cloud2.log"; fail=1; }
for tok in a1b2c3d4e5f60718293a4b5c6d7e8f90 a1b2c3d4e5f60718293a4b5c6d7e8f91; do
  [ "$(grep -c "\"token\": \"$tok\"" "$T/cloud2.log")" -ge 1 ] && grep -q "\"Token\": \"$tok\", \"Action\": \"AppGetDeviceBindTokenState\"" "$T/cloud2.log" \
    || { echo "FAIL: cloud2: token $tok not handed to a device and polled"; cat "$T/cloud2.log"; fail=1; }
done

# a cloud that fails the first two polls (HTTP 500, no envelope): retried, then bound
scenario flaky 0 "--cloud-port 18080 --cloud-mode flaky --dev ip=127.0.0.2,mac=24:0a:c4:00:00:01" $CLOUD
expect flaky 2 '"event":"cloud_retry"'
expect flaky 1 '"event":"bound"'

scenario refuse 5 "--cloud-port 18080 --cloud-mode refuse" $CLOUD
expect refuse 1 '"event":"cloud_error".*AccessToken expired'
scenario junk 5 "--cloud-port 18080 --cloud-mode junk" $CLOUD
expect junk 1 '"event":"cloud_error"'
scenario nocloud 5 "" --cloud http://127.0.0.1:18081 --timeout 5
expect nocloud 1 '"event":"cloud_error"'

# a device error still wins over waiting for the cloud
scenario cloudcur 4 "--cloud-port 18080 --dev ip=127.0.0.2,mac=24:0a:c4:00:00:01,b=current" $CLOUD
expect cloudcur 1 '"event":"device_error"'
exit $fail
