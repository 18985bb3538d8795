#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Dynamic registration (docs/protocol/tencent.md#dynamic-registration) end to end: signature computed here with openssl, the
# AES-128-CBC payload decrypted here, the PSK then used to connect to the broker.
. "$(dirname "$0")/lib/cloud.bash"
start_cloud
P=DYNREG0001
SECRET=$(post /v1/products "{\"product_id\":\"$P\"}" | jget product_secret)
[ ${#SECRET} -ge 16 ] || fail "generated product secret too short"

# register DEVICE SECRET [TIMESTAMP] -> response JSON
register() {
    curl -sS --max-time 5 -X POST -H 'Content-Type: application/x-www-form-urlencoded' "$BASE/register/dev" \
        -d "$(dynreg_body "$P" "$1" "$2" "${3:-}")"
}
decrypt() {  # RESPONSE -> plaintext JSON
    local key iv
    key=$(printf %s "${SECRET:0:16}" | od -An -v -tx1 | tr -d ' \n')
    iv=$(printf '0%.0s' $(seq 16) | od -An -v -tx1 | tr -d ' \n')
    echo "$1" | jget payload | base64 -d | openssl enc -d -aes-128-cbc -K "$key" -iv "$iv" -nopad | tr -d '\0'
}

R=$(register devA "$SECRET")
[ "$(echo "$R" | jget code)" = 0 ] || fail "registration: $R"
PLAIN=$(decrypt "$R")
[ "$(echo "$PLAIN" | jget encryptionType)" = 2 ] || fail "plaintext: $PLAIN"
[ "$(echo "$R" | jget len)" = ${#PLAIN} ] || fail "len is not the plaintext length"
PSK=$(echo "$PLAIN" | jget psk)
ok "registration succeeds; payload decrypts (AES-128-CBC, IV '0'x16, zero padding) to {encryptionType:2, psk}"

creds $P devA "$PSK" sha256
mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -t "\$thing/up/service/$P/devA" -m '{}' \
    || fail "registered device cannot connect"
ok "the returned PSK authenticates on the broker"

[ "$(decrypt "$(register devA "$SECRET")" | jget psk)" = "$PSK" ] || fail "second registration changed the PSK"
ok "registering again returns the existing PSK"

[ "$(register devB "wrongwrongwrongwrong" | jget code)" = 1010 ] || fail "wrong signature accepted"
[ "$(get "/v1/products/$P/devices" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["devices"]))')" = 1 ] \
    || fail "a refused registration created a device"
ok "wrong signature -> 1010 (IoT Explorer: signature check failed), no device created"
[ "$(register devB "$SECRET" $(( $(date +%s) - 3600 )) | jget code)" = 1010 ] || fail "stale timestamp accepted"
ok "stale timestamp -> 1010"
R=$(curl -sS -X POST "$BASE/register/dev" -d '{"deviceName":"x","nonce":1,"productId":"NOPE000000","timestamp":1,"signature":"eA=="}')
[ "$(echo "$R" | jget code)" = 1004 ] || fail "unknown product: $R"
[ "$(curl -sS -X POST "$BASE/register/dev" -d '{"deviceName":' | jget code)" = 1006 ] || fail "malformed body"
ok "unknown product -> 1004, malformed -> 1006 (IoT Explorer's codes)"
for s in "$SECRET" "$PSK"; do
    grep -qF -- "$s" "$T/cloud.err" "$T/cloud.events" && fail "a secret leaked into the logs"
done
ok "no product secret or PSK in the logs"
stop_cloud
