#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MQTT password and dynreg signature of the cloud module against the openssl CLI, on random
# keys and usernames: the device's HMAC must match an implementation it shares no code with.
set -euo pipefail
bin="${SC_BUILD:?SC_BUILD not set}/tests/test_cloud"
[ -x "$bin" ] || { echo "missing $bin"; exit 1; }
command -v openssl >/dev/null || { echo "FAIL: no openssl (make deps)" >&2; exit 1; }

fail=0
for i in $(seq 1 20); do
    klen=$(( (i % 3) * 8 + 16 ))               # 16, 24, 32-byte keys
    psk=$(openssl rand -base64 "$klen" | tr -d '\n')
    keyhex=$(printf '%s' "$psk" | openssl base64 -d -A | od -An -tx1 -v | tr -d ' \n')
    conn=$(openssl rand -hex 8 | tr -dc 'A-Za-z0-9' | cut -c1-5)
    user="PROD$i$(openssl rand -hex 3)dev-$i;21010406;$conn;$(( 1700000000 + i * 977 ))"
    for alg in sha256 sha1; do
        want="$(printf '%s' "$user" | openssl dgst -"$alg" -mac HMAC -macopt hexkey:"$keyhex" | awk '{print $NF}');hmac$alg"
        got=$("$bin" --sign "$psk" "$user" "$alg")
        if [ "$want" != "$got" ]; then
            echo "MISMATCH $alg key-bytes=$klen user=$user"; fail=1
        fi
    done

    ps="ps$(openssl rand -hex 12)"
    pid="P$(openssl rand -hex 4 | tr a-f A-F | cut -c1-9)"
    dn="dev_$i"
    nonce=$(( (RANDOM << 15 | RANDOM) + 1 ))
    ts=$(( 1700000000 + i * 31 ))
    msg="deviceName=$dn&nonce=$nonce&productId=$pid&timestamp=$ts"
    want=$(printf '%s' "$msg" | openssl dgst -sha1 -mac HMAC -macopt key:"$ps" | awk '{printf "%s", $NF}' | openssl base64 -A)
    got=$("$bin" --dynsig "$ps" "$pid" "$dn" "$nonce" "$ts")
    if [ "$want" != "$got" ]; then
        echo "MISMATCH dynreg $msg"; fail=1
    fi
done
[ "$fail" = 0 ] && echo "cloud_sign: 40 MQTT passwords + 20 dynreg signatures match openssl"
exit "$fail"
