#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The cloud console in a real browser (headless Chromium from Debian, driven over the DevTools
# protocol by console_cdp.py): log in with the one-time link from the ready event, create a
# product and a device through the page, bind the device with a device-like MQTT client, and
# see the page show it bound and the live event stream show the bind; unbind, then delete
# the product, from the page.
# Also: no session/key -> refused; the login link works once; CSRF header required; the page
# leaks no secret (PSK only at creation, tokens masked); markup a device sends stays text in the
# live event list.
. "$(dirname "$0")/lib/cloud.bash"
command -v chromium >/dev/null || fail "chromium not installed (make deps)"
command -v mosquitto_rr >/dev/null || fail "mosquitto-clients not installed (make deps)"
HERE=$(cd "$(dirname "$0")" && pwd)

start_cloud --token-ttl 600 --console-link
URL=$(grep '"event":"ready"' "$T/cloud.events" | jq -r .console_url)
[[ "$URL" =~ ^http://127\.0\.0\.1:$HTTP_PORT/console/login\?code=[0-9a-f]{64}$ ]] || fail "console_url: $URL"
ok "with --console-link the ready event carries a one-time console login link"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$BASE/console/")" = 401 ] && [ "$(code "$BASE/console/api/state")" = 401 ] \
    && [ "$(code "$BASE/console/api/events")" = 401 ] || fail "console served without a session"
[ "$(code -X POST -d '{"product_id":"X"}' "$BASE/v1/products")" = 401 ] || fail "admin API without key or session"
[ "$(code "$BASE/console/login?code=0000000000000000000000000000000000000000000000000000000000000000")" = 403 ] \
    || fail "a guessed login code was accepted"
ok "no session or key -> 401; a wrong login code -> 403"

P=CONSOLE01
cat > "$T/steps1.json" <<JSON
[["goto", "$URL"],
 ["wait", "location.pathname === '/console/' && !!document.body.dataset.loaded", 30],
 ["wait", "document.getElementById('live').textContent === 'events: live'", 30],
 ["eval", "document.getElementById('product-id').value = '$P'; document.querySelector('#new-product button').click(); true"],
 ["wait", "!!document.querySelector('[data-product=\"$P\"] input.device-name')", 20],
 ["eval", "document.querySelector('[data-product=\"$P\"] input.device-name').value = 'dev1'; document.querySelector('[data-product=\"$P\"] .new-device button').click(); true"],
 ["wait", "!!document.querySelector('[data-device=\"$P/dev1\"]') && /secret \\\\(PSK\\\\), shown only now: /.test(document.getElementById('notice').textContent)", 20],
 ["save", "document.getElementById('notice').textContent.split('shown only now: ')[1]", "$T/psk"],
 ["eval", "document.querySelector('[data-device=\"$P/dev1\"] .state-unbound') !== null"],
 ["sh", "bash $T/bind.sh"],
 ["wait", "!!document.querySelector('[data-device=\"$P/dev1\"] .state-bound')", 20],
 ["wait", "[...document.querySelectorAll('#events li[data-event=bind_result]')].some(li => li.textContent.includes('$P/dev1') && li.textContent.includes('code=0'))", 20],
 ["wait", "[...document.querySelectorAll('#tokens td.state .state-bound')].length === 1", 20],
 ["wait", "[...document.querySelectorAll('#events li[data-event=thing_report]')].some(li => li.textContent.includes('<img id=pwned'))", 20],
 ["eval", "document.getElementById('pwned') === null && document.title !== 'pwned' && !document.querySelector('#events img')"],
 ["eval", "[...document.querySelectorAll('#events li[data-event=thing_report]')].some(li => li.textContent.includes('abc[U+202E]def[U+2028]ghi')) && ![...document.querySelectorAll('#events li')].some(li => li.textContent.includes('\\u202e'))"],
 ["save", "document.documentElement.outerHTML", "$T/page-bound.html"],
 ["shot", "$T/console.png"],
 ["goto", "$BASE/console/"],
 ["wait", "!!document.body.dataset.loaded && !!document.querySelector('[data-device=\"$P/dev1\"] .state-bound')", 30],
 ["save", "document.documentElement.outerHTML", "$T/page-reloaded.html"],
 ["eval", "[...document.querySelectorAll('[data-device=\"$P/dev1\"] button')].find(b => b.textContent === 'Unbind').click(); true"],
 ["wait", "!!document.querySelector('[data-device=\"$P/dev1\"] .state-unbound')", 20],
 ["wait", "!!document.querySelector('#events li[data-event=device_unbound]')", 20],
 ["eval", "window.confirm = () => true; document.querySelector('[data-product=\"$P\"] .delete-product').click(); true"],
 ["wait", "!document.querySelector('[data-product=\"$P\"]') && !!document.querySelector('#events li[data-event=product_deleted]')", 20]
]
JSON
# What the device does, run by the browser script between its steps (values baked in).
TOKFILE="$T/token"
cat > "$T/bind.sh" <<SH
set -euo pipefail
PSK=\$(cat "$T/psk")
R=\$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' "$BASE/tokenapi?cmd=AppCreateDeviceBindToken" \
    -d '{"Action":"AppCreateDeviceBindToken","RequestId":"r1","AccessToken":"$ACCESS"}')
TOK=\$(echo "\$R" | jq -r .data.Token)
echo "\$TOK" > "$TOKFILE"
U="${P}dev1;21010406;ab12C;2147483647"
K=\$(printf %s "\$PSK" | base64 -d | od -An -v -tx1 | tr -d ' \n')
H=\$(printf %s "\$U" | openssl dgst -sha256 -mac HMAC -macopt hexkey:"\$K" | sed 's/^.*= //')
M=\$(printf '{"method":"app_bind_token","clientToken":"c-1","params":{"token":"%s"}}' "\$TOK")
REPLY=\$(timeout 10 mosquitto_rr -h 127.0.0.1 -p $MQTT_PORT -V mqttv5 -i "${P}dev1" -u "\$U" -P "\$H;hmacsha256" -q 1 -W 5 \
    -t '\$thing/up/service/$P/dev1' -e '\$thing/down/service/$P/dev1' -m "\$M")
echo "\$REPLY" | jq -e '.code == 0' >/dev/null || { echo "bind reply: \$REPLY" >&2; exit 1; }
# a string the device chose, shown in the live event list: text, never markup
timeout 10 mosquitto_pub -h 127.0.0.1 -p $MQTT_PORT -V mqttv311 -i "${P}dev1" -u "\$U" -P "\$H;hmacsha256" -q 1 \
    -t '\$thing/up/property/$P/dev1' -m '{"method":"report","clientToken":"c-2","params":{"x":"<img id=pwned src=x onerror=document.title=\\"pwned\\">","y":"abc\u202Edef\u2028ghi"}}'
SH
python3 "$HERE/console_cdp.py" "$T/profile" "$T/steps1.json" 2> "$T/cdp.err" || { cat "$T/cdp.err"; fail "browser steps"; }
cp "$T/console.png" "$SC_BUILD/console_browser.png"
ok "browser: login link -> console; product and device created in the page; device bound over MQTT;"
ok "  page shows it bound, the token bound, and the bind_result event arrived over SSE; unbind and delete from the page"
[ "$(get /v1/products/$P/devices | jq -r .error)" = "unknown product" ] || fail "product still there after delete"

# A new login link (minted with the admin key; it replaces any unused one) checks the cookie
# rules with curl.
URL2=$(post /v1/console/login '' | jget console_url)
hdr=$(curl -s -D - -o /dev/null -c "$T/jar" "$URL2")
grep -qi '^set-cookie: sc_console=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict' <<<"$hdr" || fail "session cookie: $hdr"
[ "$(code "$URL2")" = 403 ] || fail "login link worked twice"
[ "$(code -b "$T/jar" -X POST -d '{"product_id":"X"}' "$BASE/v1/products")" = 401 ] || fail "cookie without CSRF token changed state"
CS=$(curl -s -b "$T/jar" "$BASE/console/api/state" | jget csrf)
[ "$(code -b "$T/jar" -H "X-CSRF-Token: wrong$CS" -X POST -d '{"product_id":"X"}' "$BASE/v1/products")" = 401 ] \
    || fail "wrong CSRF token accepted"
ok "login link is one-time; cookie HttpOnly SameSite=Strict; state changes need the CSRF token"

PSK=$(cat "$T/psk"); TOK=$(cat "$TOKFILE")
[ ${#PSK} -ge 20 ] && [ ${#TOK} = 32 ] || fail "psk/token not captured"
grep -qF "$PSK" "$T/page-bound.html" || fail "PSK not shown at creation"
! grep -qF "$PSK" "$T/page-reloaded.html" || fail "PSK shown again after creation"
! grep -qF "$TOK" "$T/page-bound.html" "$T/page-reloaded.html" || fail "full bind token in the page"
grep -qF "${TOK:0:4}…" "$T/page-reloaded.html" || fail "masked token missing from the page"
! grep -qF "$(cat "$ADMIN_KEY_FILE")" "$T/page-bound.html" "$T/page-reloaded.html" || fail "admin key in the page"
S=$(curl -s -b "$T/jar" "$BASE/console/api/state")
! grep -qF -e "$PSK" -e "$TOK" <<<"$S" || fail "secret in /console/api/state"
ok "no secret in the page or the state API: PSK only at creation, token masked, no admin key"

curl -s -b "$T/jar" -H "X-CSRF-Token: $CS" -X POST -o /dev/null "$BASE/console/logout"
[ "$(code -b "$T/jar" "$BASE/console/api/state")" = 401 ] || fail "session alive after logout"
ok "logout ends the session"
kill -0 "$CLOUD_PID" || fail "cloud died"
stop_cloud
ok "cloud stops cleanly with the console's event stream open"
