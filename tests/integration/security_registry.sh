#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 36
# Issue 13 F5, F7, F8, F10, F11 against `smartcfg cloud` (loopback, bounded loops):
#  F5  a (product, device) whose client id spells another device's is refused, by the admin
#      API and by dynamic registration; devices can be deleted and unbound;
#  F7  registry, -wal, -shm, admin key and broker config are 0600 even under umask 000; the
#      temp dir of a run killed with SIGKILL is removed at the next start;
#  F8  token creation needs a logged-in user and is rate limited per account; expired tokens
#      and access tokens are garbage-collected; a replayed registration is refused;
#  F10 one user cannot read or take another user's tokens or devices;
#  F11 NUL in a name, a wrongly typed secret, a too short PSK are refused.
. "$(dirname "$0")/lib/cloud.bash"
umask 000
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
start_cloud --token-ttl 1 --token-gc 1 --token-rate 10
mode() { stat -c %a "$1"; }

# ---- admin key ----
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/products" -d '{"product_id":"NOKEY"}')" = 401 ] \
    || fail "admin API without the key"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$BASE/v1/bindings")" = 401 ] \
    || fail "admin API with a wrong key"
# a new key is said to be new, and shown only to a terminal: these files stand for the journal
grep -q '"admin_key_new":true' "$T/cloud.events" || fail "the ready event does not say the admin key is new"
grep -qF "$(cat "$ADMIN_KEY_FILE")" "$T/cloud.events" "$T/cloud.err" && fail "the new admin key was written where a journal keeps it"
# without --json, on a terminal (a pty) it is shown once; into a file, only where it is
python3 - "$SMARTCFG" "$T" "$(free_port)" "$(free_port)" <<'PY' || fail "the admin key on a terminal / in a log"
import os, pty, re, select, signal, subprocess, sys, time
sc, t, hp, mp = sys.argv[1:]
def run(db, tty):
    os.makedirs(os.path.dirname(db), mode=0o700)   # umask 000 here: a 0777 dir is refused (F72)
    args = [sc, "cloud", "--http", "127.0.0.1:" + hp, "--mqtt", "127.0.0.1:" + mp, "--db", db]
    if tty:
        m, s = pty.openpty()
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=s)
        os.close(s)
    else:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        m = p.stderr.fileno()
    out, t0 = b"", time.monotonic()
    while b"ready:" not in out and time.monotonic() - t0 < 60:
        if select.select([m], [], [], 0.2)[0]:
            try:
                out += os.read(m, 4096)
            except OSError:
                break
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
    return out.decode(errors="replace"), open(os.path.join(os.path.dirname(db), "admin.key")).read().strip()
out, key = run(os.path.join(t, "tty", "c.db"), True)
assert "new admin key (shown once" in out and key in out, out
out, key = run(os.path.join(t, "log", "c.db"), False)
assert "new admin key made, kept in" in out and key not in out, out
PY
ok "admin API needs the Bearer key; a new key is shown once, only to a terminal"

# ---- F7 ----
P=ABCDEFGHIJ
SECRET=$(post /v1/products "{\"product_id\":\"$P\"}" | jget product_secret)
post /v1/products/$P/devices '{"device_name":"dev1"}' >/dev/null
for f in "$DB" "$DB-wal" "$DB-shm" "$ADMIN_KEY_FILE" "$TMPDIR"/smartcfg-cloud-*/mosquitto.conf; do
    [ -e "$f" ] || fail "$f missing"
    [ "$(mode "$f")" = 600 ] || fail "$f is $(mode "$f") under umask 000"
done
ok "F7: registry, -wal, -shm, admin key, broker config are 0600 under umask 000"

# ---- F5 ----
post /v1/products '{"product_id":"A","product_secret":"0123456789abcdef0123"}' >/dev/null
R=$(post /v1/products/A/devices '{"device_name":"BCDEFGHIJdev1"}')
[ "$(echo "$R" | jget error)" != "" ] && ! grep -q device_secret <<<"$R" || fail "colliding device created: $R"
R=$(post /register/dev "$(dynreg_body A BCDEFGHIJdev1 0123456789abcdef0123)")
[ "$(echo "$R" | jget code)" = 1006 ] || fail "dynreg of a colliding client id: $R"
ok "F5: A + BCDEFGHIJdev1 (client id of ABCDEFGHIJ/dev1) refused by the admin API and /register/dev"

# ---- F11 ----
code() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "$(admin_auth)" "$BASE$1" -d "$2"; }
[ "$(code /v1/products '{"product_id":"Q\u0000B"}')" = 400 ] || fail "NUL in product_id"
[ "$(code /v1/products '{"product_id":"QTYPED","product_secret":12345678901234567890}')" = 400 ] || fail "numeric product_secret"
[ "$(code /v1/products/$P/devices '{"device_name":"short","device_secret":"AQ=="}')" = 400 ] || fail "1-byte PSK accepted"
[ "$(code /v1/products/$P/devices '{"device_name":"typed","device_secret":7}')" = 400 ] || fail "numeric device_secret"
[ "$(tokenapi AppGetDeviceBindTokenState '{"Token":"a\u0000b"}' | jget data.Error.Code)" = InvalidParameter ] || fail "NUL in a token"
# F14: a raw NUL byte (not the \u0000 escape) was copied by cJSON and cut the C string there:
# "RAWNUL<NUL>X" created product RAWNUL, and "tester<NUL>x" / "<password><NUL>x" logged in.
rawcode() { printf "$2" | curl -s -o /dev/null -w '%{http_code}' -X POST -H "$(admin_auth)" "$BASE$1" --data-binary @-; }
[ "$(rawcode /v1/products '{"product_id":"RAWNUL\0X"}')" = 400 ] || fail "F14: raw NUL in product_id accepted"
[ "$(get /v1/products/RAWNUL/devices | jget error)" = "unknown product" ] || fail "F14: product RAWNUL was created"
R=$(printf '{"Action":"AppGetToken","UserName":"tester\0x","Password":"tester-password-1\0x"}' \
    | curl -s -X POST "$BASE/tokenapi?cmd=AppGetToken" --data-binary @-)
[ "$(echo "$R" | jget data.Error.Code)" = InvalidParameter ] || fail "F14: login with a raw NUL: $R"
B=$(dynreg_body $P rawnul "$SECRET")   # signed for "rawnul", sent as "rawnul<NUL>x"
R=$(printf "${B/\"rawnul\"/\"rawnul\\0x\"}" | curl -s -X POST "$BASE/register/dev" --data-binary @-)
[ "$(echo "$R" | jget code)" = 1006 ] || fail "F14: /register/dev with a raw NUL: $R"
ok "F11: NUL in names/tokens, wrongly typed secrets and a 1-byte PSK are refused"
ok "F14: a raw NUL byte anywhere in a body is refused like \\u0000 (admin API, token API, /register/dev)"

# ---- F8 ----
R=$(post "/tokenapi?cmd=AppCreateDeviceBindToken" '{"Action":"AppCreateDeviceBindToken","AccessToken":"forged"}')
[ "$(echo "$R" | jget data.Error.Code)" = AuthFailure.InvalidAccessToken ] || fail "forged AccessToken: $R"
R=$(post "/tokenapi?cmd=AppCreateDeviceBindToken" '{"Action":"AppCreateDeviceBindToken"}')
[ "$(echo "$R" | jget code)" != 0 ] || fail "token without AccessToken"
limited=0
for i in $(seq 30); do
    c=$(tokenapi AppCreateDeviceBindToken '{}' | jget code)
    [ "$c" = 429 ] && { limited=$i; break; }
done
[ "$limited" -gt 0 ] && [ "$limited" -le 21 ] || fail "token creation not rate limited (30 in a row)"
ok "F8: tokens need a valid AccessToken; the 10/min account is limited after $((limited - 1)) tokens"
sleep 3   # ttl 1 + gc 1: every token made above is collectable now
post /v1/users '{"user_name":"gc","password":"gc-password"}' >/dev/null   # any request runs the GC
n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from tokens where bound_at is null").fetchone()[0])' "$DB")
[ "$n" = 0 ] || fail "$n expired tokens were not garbage-collected"
ok "F8: expired tokens are garbage-collected"
NONCE=4242
B=$(dynreg_body $P dyn1 "$SECRET" "" $NONCE)
[ "$(post /register/dev "$B" | jget code)" = 0 ] || fail "first registration"
[ "$(post /register/dev "$B" | jget code)" = 1010 ] || fail "a replayed registration was not refused"
ok "F8: a replayed /register/dev (same nonce and timestamp) is refused"

# ---- F10 ----
stop_cloud
start_cloud --token-ttl 600 --token-rate 600
PSK=$(post /v1/products/$P/devices '{"device_name":"dev10"}' | jget device_secret)
login_user alice alice-password; A_ACCESS=$ACCESS; A_FAMILY=$FAMILY
login_user bob bob-password-1; B_ACCESS=$ACCESS; B_FAMILY=$FAMILY
as() { local u=$1; shift; if [ "$u" = alice ]; then ACCESS=$A_ACCESS; else ACCESS=$B_ACCESS; fi; tokenapi "$@"; }
bind_dev() {  # TOKEN -> reply code from the device
    creds $P dev10 "$PSK" sha256
    timeout 20 mosquitto_rr "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -W 15 \
        -t "\$thing/up/service/$P/dev10" -e "\$thing/down/service/$P/dev10" \
        -m "{\"method\":\"app_bind_token\",\"clientToken\":\"d-1\",\"params\":{\"token\":\"$1\"}}" | jget code
}
TA=$(as alice AppCreateDeviceBindToken '{}' | jget data.Token)
[ "$(bind_dev "$TA")" = 0 ] || fail "device bind with alice's token"
[ "$(as alice AppGetDeviceBindTokenState "{\"Token\":\"$TA\"}" | jget data.State)" = 2 ] || fail "alice reads her token"
[ "$(as bob AppGetDeviceBindTokenState "{\"Token\":\"$TA\"}" | jget data.Error.Code)" = ResourceNotFound.TokenNotExist ] \
    || fail "bob read alice's token state"
[ "$(as alice AppTokenBindDeviceFamily "{\"FamilyId\":\"$A_FAMILY\",\"ProductId\":\"$P\",\"DeviceName\":\"dev10\",\"Token\":\"$TA\"}" | jget code)" = 0 ] \
    || fail "alice binds her device into her family"
[ "$(as bob AppTokenBindDeviceFamily "{\"FamilyId\":\"$B_FAMILY\",\"ProductId\":\"$P\",\"DeviceName\":\"dev10\",\"Token\":\"$TA\"}" | jget code)" != 0 ] \
    || fail "bob bound alice's device with alice's token"
TB=$(as bob AppCreateDeviceBindToken '{}' | jget data.Token)
[ "$(bind_dev "$TB")" = 0 ] || fail "device bind with bob's token"
[ "$(as bob AppTokenBindDeviceFamily "{\"FamilyId\":\"$B_FAMILY\",\"ProductId\":\"$P\",\"DeviceName\":\"dev10\",\"Token\":\"$TB\"}" | jget data.Error.Code)" = FailedOperation.DeviceAlreadyBound ] \
    || fail "bob took a device bound in alice's family"
[ "$(get /v1/bindings | jget bindings.0.family_id)" = "$A_FAMILY" ] || fail "alice's binding changed"
ok "F10: bob cannot read alice's token nor move her device into his family"
[ "$(as alice AppDeleteDeviceInFamily "{\"FamilyId\":\"$A_FAMILY\",\"ProductId\":\"$P\",\"DeviceName\":\"dev10\"}" | jget code)" = 0 ] \
    || fail "alice unbinds"
TB=$(as bob AppCreateDeviceBindToken '{}' | jget data.Token)
[ "$(bind_dev "$TB")" = 0 ] || fail "device bind with bob's new token"
[ "$(as bob AppTokenBindDeviceFamily "{\"FamilyId\":\"$B_FAMILY\",\"ProductId\":\"$P\",\"DeviceName\":\"dev10\",\"Token\":\"$TB\"}" | jget code)" = 0 ] \
    || fail "bob binds after alice unbound"
ok "F10: after alice unbinds, bob can bind the device"

# ---- F5: delete / unbind through the admin API ----
[ "$(curl -s -X DELETE -H "$(admin_auth)" "$BASE/v1/bindings/$P/dev10" | jget unbound)" = true ] || fail "admin unbind"
[ "$(get /v1/bindings | jget bindings)" = "[]" ] || fail "binding left after the admin unbind"
[ "$(curl -s -X DELETE -H "$(admin_auth)" "$BASE/v1/products/$P/devices/dev10" | jget deleted)" = true ] || fail "admin delete"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "$(admin_auth)" "$BASE/v1/products/$P/devices/dev10")" = 404 ] \
    || fail "deleted device still there"
ok "F5: the admin API unbinds and deletes devices"

# ---- F16: what a deleted device leaves behind ----
# A gateway bound (signed with the sub-device's PSK) and brought online a sub-device; the
# sub-device was deleted and created again with a new PSK: the gateway still spoke for it
# (gw_subdevs stayed), and the new device was handed the old one's reported properties.
G=GWPRODUCT1
post /v1/products "{\"product_id\":\"$G\"}" >/dev/null
GPSK=$(post /v1/products/$G/devices '{"device_name":"gw"}' | jget device_secret)
SPSK=$(post /v1/products/$G/devices '{"device_name":"sub"}' | jget device_secret)
pub_as() {  # DEVICE PSK TOPIC MESSAGE (QoS 1: a refused publish closes the connection)
    creds $G "$1" "$2" sha256
    mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -t "$3" -m "$4" 2>/dev/null || true
}
events() { grep -c "$1" "$T/cloud.events" || true; }
wait_events() { for _ in $(seq 50); do [ "$(events "$1")" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }
pub_as gw "$GPSK" "\$gateway/operation/$G/gw" "{\"type\":\"bind\",\"payload\":{\"devices\":[$(gw_entry "$SPSK" $G sub)]}}"
pub_as gw "$GPSK" "\$gateway/operation/$G/gw" "{\"type\":\"online\",\"payload\":{\"devices\":[{\"product_id\":\"$G\",\"device_name\":\"sub\"}]}}"
wait_events '"operation":"online".*"result":0' 1 || fail "F16: the gateway could not bring its sub-device online"
pub_as sub "$SPSK" "\$thing/up/property/$G/sub" '{"method":"report","clientToken":"s1","params":{"reading":42}}'
pub_as gw "$GPSK" "\$thing/up/property/$G/sub" '{"method":"report","clientToken":"g1","params":{"via":"gateway"}}'
wait_events "\"event\":\"thing_report\",.*\"device_name\":\"sub\"" 2 || fail "F16: reports of the sub-device (its own and the gateway's)"
[ "$(curl -s -X DELETE -H "$(admin_auth)" "$BASE/v1/products/$G/devices/sub" | jget deleted)" = true ] || fail "F16: delete sub"
SPSK2=$(post /v1/products/$G/devices '{"device_name":"sub"}' | jget device_secret)
refused=$(events "\"event\":\"topic_refused\",.*\"client\":\"${G}gw\"")
pub_as gw "$GPSK" "\$thing/up/property/$G/sub" '{"method":"report","clientToken":"g2","params":{"via":"old gateway"}}'
wait_events "\"event\":\"topic_refused\",.*\"client\":\"${G}gw\"" $((refused + 1)) \
    || fail "F16: the gateway still speaks for the deleted and re-created sub-device"
[ "$(events "\"event\":\"thing_report\",.*\"device_name\":\"sub\"")" = 2 ] || fail "F16: the old gateway's report was taken"
creds $G sub "$SPSK2" sha256
R=$(timeout 10 mosquitto_rr "${MQ[@]/mqttv311/mqttv5}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -W 5 \
    -t "\$thing/up/property/$G/sub" -e "\$thing/down/property/$G/sub" -m '{"method":"get_status","clientToken":"n1"}')
[ "$(echo "$R" | jq -c .data.reported)" = "{}" ] || fail "F16: the new sub-device got the deleted one's properties: $R"
pub_as gw "$GPSK" "\$ota/report/$G/gw" '{"type":"report_version","report":{"version":"1.0.0"}}'
wait_events '"event":"ota_version",' 1 || fail "F16: the gateway's OTA version report"
[ "$(curl -s -X DELETE -H "$(admin_auth)" "$BASE/v1/products/$G/devices/gw" | jget deleted)" = true ] || fail "F16: delete gw"
R=$(python3 -c "import sqlite3, sys; d = sqlite3.connect(sys.argv[1])
print(*(d.execute('SELECT count(*) FROM ' + t).fetchone()[0] for t in ('gw_subdevs', 'ota_status')))" "$DB")
[ "$R" = "0 0" ] || fail "F16: rows of deleted devices left (gw_subdevs, ota_status): $R"
ok "F16: deleting a device ends its gateway bindings (either side), reported properties and OTA record"

# ---- F19: a product deleted in the console left its firmware ----
# Its images stayed downloadable at their /ota/<token> URLs, and a product created again under
# the same id inherited them (uploading its "1.0.0" was a 409; pushing "1.0.0" sent the old image).
G=FWPRODUCT1
post /v1/products "{\"product_id\":\"$G\"}" >/dev/null
head -c 3000 /dev/urandom > "$T/fw.bin"
fwup() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "$(admin_auth)" --data-binary @"$T/fw.bin" "$BASE/v1/products/$G/firmware?version=1.0.0"; }
[ "$(fwup)" = 201 ] || fail "F19: firmware upload"
FWTOK=$(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT token FROM ota_firmware WHERE product_id='$G'\").fetchone()[0])" "$DB")
curl -s -c "$T/jar" -o /dev/null "$(post /v1/console/login '' | jget console_url)"
CSRF=$(curl -s -b "$T/jar" "$BASE/console/api/state" | jget csrf)
[ "$(curl -s -b "$T/jar" -H "X-CSRF-Token: $CSRF" -X DELETE "$BASE/console/api/products/$G" | jget deleted)" = true ] || fail "F19: console delete"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/ota/$FWTOK")" = 404 ] || fail "F19: the deleted product's image is still served"
post /v1/products "{\"product_id\":\"$G\"}" >/dev/null
[ "$(fwup)" = 201 ] || fail "F19: the re-created product inherited the deleted one's firmware 1.0.0"
ls "$(dirname "$DB")/firmware/$FWTOK.bin" 2>/dev/null && fail "F19: the deleted product's image file is still on disk"
ok "F19: a product deleted in the console takes its firmware along (rows, files, download URLs)"

# ---- F7: a killed run's temp dir is cleaned at the next start ----
kill -9 "$CLOUD_PID"; wait "$CLOUD_PID" 2>/dev/null || true; CLOUD_PID=""
sleep 0.5
stale=$(ls -d "$TMPDIR"/smartcfg-cloud-* | head -1)
[ -d "$stale" ] || fail "no temp dir after kill -9 (test assumption)"
start_cloud
[ -d "$stale" ] && fail "the killed run's temp dir $stale is still there"
ok "F7: the temp dir of a run killed with SIGKILL is removed at the next start"
stop_cloud
