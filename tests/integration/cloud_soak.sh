#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 20
# A month without a restart, in small: SOAK_CYCLES (default 600) cycles of bind token ->
# MQTT bind -> token state, logins, dynamic registrations, console logins and hostile
# requests (lib/soak_cloud.py), on fresh connections each. Between cycle WARM (100) and the
# last, nothing may grow per cycle: the cloud's and the broker's open fds and threads not at
# all, their resident memory by less than a generous bound; and 6 s after the last cycle (3 s
# tokens, collected 1 s after expiry) the tokens table holds only the device's newest bound
# token (bound tokens superseded by a later bind of the same device are collected too).
. "$(dirname "$0")/lib/cloud.bash"
CYCLES=${SOAK_CYCLES:-600}
WARM=${SOAK_WARM:-100}
# 2 MiB over 500 cycles: a leak of 4 KiB or more per cycle fails; allocator noise does not.
RSS_MAX_KB=${SOAK_RSS_MAX_KB:-2048}

# Tokens live 3 s and are collected 1 s after: the collection must keep up within the run.
start_cloud --token-ttl 3 --token-gc 1 --token-rate 1000000
P=SOAKPROD01
SECRET=$(post /v1/products "{\"product_id\":\"$P\"}" | jget product_secret)
PSK=$(post /v1/products/$P/devices '{"device_name":"dev1"}' | jget device_secret)

python3 "$(dirname "$0")/lib/soak_cloud.py" --http "127.0.0.1:$HTTP_PORT" --mqtt "127.0.0.1:$MQTT_PORT" \
    --admin-key "$(cat "$ADMIN_KEY_FILE")" --access "$ACCESS" --user tester --password tester-password-1 \
    --product $P --product-secret "$SECRET" --device dev1 --psk "$PSK" --db "$DB" --pid "$CLOUD_PID" \
    --cycles "$CYCLES" --sample "$WARM,$CYCLES" --settle 6 > "$T/soak.jsonl" || { cat "$T/soak.jsonl"; fail "a soak cycle failed"; }
cat "$T/soak.jsonl"
python3 - "$T/soak.jsonl" "$WARM" "$CYCLES" "$RSS_MAX_KB" <<'EOF' || fail "growth between cycle $WARM and $CYCLES"
import json, sys
rows = {r["cycle"]: r for r in map(json.loads, open(sys.argv[1])) if "cycle" in r}
a, b, rss_max = rows[int(sys.argv[2])], rows[int(sys.argv[3])], int(sys.argv[4])
bad = []
for proc in ("cloud", "broker"):
    for k, lim in (("fds", 0), ("threads", 0), ("rss_kb", rss_max)):
        d = b[proc][k] - a[proc][k]
        print("  %s %s: %d -> %d (%+d)" % (proc, k, a[proc][k], b[proc][k], d))
        if d > lim:
            bad.append("%s %s grew by %d (limit %d)" % (proc, k, d, lim))
# Tokens live 3 s and are collected 1 s after expiry, at most once a second: one expired more
# than 5 s ago is one the collection never takes (before, every bound token stayed).
for k in ("tokens", "stale_tokens", "dynreg_seen", "access_tokens", "db_kb"):
    print("  %s: %d -> %d" % (k, a[k], b[k]))
if b["access_tokens"] > 20:   # one user logging in every cycle keeps its newest 20 (F29)
    bad.append("%d AccessTokens stored for one user" % b["access_tokens"])
if b["stale_tokens"] > 2:
    bad.append("%d tokens expired more than 5 s ago are still stored" % b["stale_tokens"])
# 6 s after the last cycle every token is past expiry + grace: the device's newest bound one stays.
done = [r for r in map(json.loads, open(sys.argv[1])) if "cycles" in r][0]
print("  tokens 6 s after the last cycle: %d" % done["settled_tokens"])
if done["settled_tokens"] > 2:
    bad.append("%d tokens stored 6 s after the last cycle (each bind left its token)" % done["settled_tokens"])
for x in bad:
    print("FAIL:", x, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
ok "$CYCLES cycles: no fd, thread, memory or token-table growth after cycle $WARM"
stop_cloud
ok "the cloud stops cleanly on SIGTERM after the soak"
