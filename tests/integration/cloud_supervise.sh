#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 40
# `smartcfg cloud` as a supervisor: restarts a mosquitto that died (and the binding service
# reconnects), stops everything on SIGTERM, and refuses bad command lines clearly.
. "$(dirname "$0")/lib/cloud.bash"

out=$("$SMARTCFG" cloud --http nope 2>&1) && fail "bad --http accepted"; grep -q "HOST:PORT" <<<"$out" || fail "$out"
out=$("$SMARTCFG" cloud --mqtt 127.0.0.1:99999 2>&1) && fail "bad port accepted"
out=$("$SMARTCFG" cloud --token-ttl -5 2>&1) && fail "bad ttl accepted"
out=$("$SMARTCFG" cloud --bogus 2>&1) && fail "unknown option accepted"
rc=0; out=$("$SMARTCFG" cloud --http 127.0.0.1:18080 --mqtt 127.0.0.1:18080 --db "$T/x.db" 2>&1) || rc=$?
[ $rc = 2 ] || fail "one port for --http and --mqtt: exit $rc"
grep -q -- "--http and --mqtt both want port 18080" <<<"$out" || fail "$out"
out=$("$SMARTCFG" cloud --broker 127.0.0.1:1 --db "$T/x.db" 2>&1 </dev/null) && fail "--broker without service identity accepted"
grep -q SMARTCFG_SERVICE_USER <<<"$out" || fail "$out"
# --db naming a directory: a usage error in the option's words (it was SQLite's "unable to open
# database file", exit 1); a file in a directory not there: a setup failure that says so.
mkdir -m 700 "$T/dbdir"
rc=0; out=$("$SMARTCFG" cloud --db "$T/dbdir" 2>&1) || rc=$?
[ $rc = 2 ] && grep -q -- "--db: '$T/dbdir' is not a database file but a directory" <<<"$out" || fail "--db DIR: exit $rc: $out"
rc=0; out=$("$SMARTCFG" cloud --db "$T/nodir/x.db" 2>&1) || rc=$?
[ $rc = 1 ] && grep -q -- "--db $T/nodir/x.db: its directory $T/nodir does not exist" <<<"$out" || fail "--db in no dir: exit $rc: $out"
ok "bad command lines refused with a clear message (--db a directory: 2; in a missing directory: 1)"

start_cloud
P=SUPTEST001
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices '{"device_name":"dev1"}' | jget device_secret)
creds $P dev1 "$PSK" sha1

BPID=$(grep '"event":"broker_started"' "$T/cloud.events" | head -1 | jget pid)
[ "$(readyz)" = '{"ready":true} 200' ] || fail "/readyz before the kill: $(readyz)"
kill -KILL "$BPID"
# Not ready from the moment the broker side is down (the binding service loses its connection
# at once) until mosquitto is back and the service has reconnected: at least mosquitto's start.
R=""
for _ in $(seq 300); do R=$(readyz); [ "$R" = '{"ready":false,"reason":"broker"} 503' ] && break; sleep 0.01; done
[ "$R" = '{"ready":false,"reason":"broker"} 503' ] || fail "/readyz with mosquitto killed: $R"
for _ in $(seq 600); do grep -q '"event":"broker_restarted"' "$T/cloud.events" && break; sleep 0.1; done
grep -q '"event":"broker_died"' "$T/cloud.events" || fail "no broker_died event"
grep -q '"event":"broker_restarted"' "$T/cloud.events" || fail "broker not restarted"
for _ in $(seq 100); do R=$(readyz); [ "$R" = '{"ready":true} 200' ] && break; sleep 0.1; done
[ "$R" = '{"ready":true} 200' ] || fail "/readyz after the restart: $R"
[ "$(curl -s --max-time 2 "$BASE/healthz")" = '{"live":true}' ] || fail "/healthz"
ok "a killed mosquitto is reported and restarted; /readyz 503 (reason broker) meanwhile, 200 after"

# The service reconnects within a couple of seconds; the device retries like a real one would.
TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
REPLY=""
for _ in $(seq 10); do
    REPLY=$(timeout 5 mosquitto_rr -h 127.0.0.1 -p "$MQTT_PORT" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -W 1 \
        -t "\$thing/up/service/$P/dev1" -e "\$thing/down/service/$P/dev1" \
        -m "{\"method\":\"app_bind_token\",\"clientToken\":\"dev1-1\",\"params\":{\"token\":\"$TOK\"}}" 2>/dev/null) && break
    sleep 0.5
done
[ "$(echo "$REPLY" | jget code)" = 0 ] || fail "no bind after the broker restart: $REPLY"
ok "binding works again after the restart"

NEWPID=$(pgrep -P "$CLOUD_PID" mosquitto || true)
stop_cloud
[ -n "$NEWPID" ] && kill -0 "$NEWPID" 2>/dev/null && fail "mosquitto left running after SIGTERM"
# Other tests may be running clouds of their own: look only for a config with our port.
if grep -qs "^listener $MQTT_PORT " "${TMPDIR:-/tmp}"/smartcfg-cloud-*/mosquitto.conf; then
    fail "temp config left behind"
fi
ok "SIGTERM stops mosquitto and removes the generated config"

# SIGHUP (a closed terminal, a habitual kill -HUP) killed the cloud by default: exit 129, the
# broker config with the service password left in the temp dir, no stopped event.
NO_LOGIN=1 start_cloud
BPORT=$(grep '"event":"broker_started"' "$T/cloud.events" | jq -r .port)
kill -HUP "$CLOUD_PID"
wait "$CLOUD_PID" || fail "SIGHUP: exit $?"
CLOUD_PID=""
grep -q '"event":"stopped".*"status":0' "$T/cloud.events" || fail "SIGHUP: no stopped event"
! grep -qs "^listener $BPORT " "${TMPDIR:-/tmp}"/smartcfg-cloud-*/mosquitto.conf || fail "SIGHUP: temp config left behind"
ok "SIGHUP stops the cloud cleanly (exit 0, stopped event, config removed)"

# --json into a reader that stops reading (a stalled log shipper): the 64 KiB pipe filled and
# every thread making an event blocked on it, the HTTP API too (after ~690 device creations
# every request timed out). Events now queue (4 MiB), then are dropped and counted.
mkfifo "$T/events.fifo"
"$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --mqtt 127.0.0.1:$MQTT_PORT --db "$DB" --json \
    > "$T/events.fifo" 2> "$T/stall.err" &
STALL_PID=$!
exec 3< "$T/events.fifo"   # opened, never read until the end
for _ in $(seq 150); do grep -q 'ready: HTTP' "$T/stall.err" && break; sleep 0.1; done
# 30 data-template reports of ~14 KiB: 400 KiB of thing_report lines nobody reads
python3 -c "import json; r = json.dumps({'method': 'report', 'clientToken': 'c', 'params': {'k%d' % i: 'x' * 100 for i in range(140)}})
for _ in range(30): print(r)" \
    | mosquitto_pub "${MQ[@]}" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -t "\$thing/up/property/$P/dev1" -q 1 -l
codes=$(for i in $(seq 20); do
    curl -s -m 5 -o /dev/null -w '%{http_code}\n' -X POST -H "$(admin_auth)" "$BASE/v1/products/$P/devices" -d "{\"device_name\":\"stall$i\"}"
done | sort | uniq -c)
[ "$(awk '{print $2}' <<<"$codes")" = 201 ] || { kill "$STALL_PID"; fail "API with an unread --json stdout: $codes"; }
kill -TERM "$STALL_PID"
cat <&3 > "$T/stall.events"   # the reader wakes up: the queued lines flow, to the last
wait "$STALL_PID" || fail "stalled --json: exit $?"
exec 3<&-
[ "$(grep -c '"event":"thing_report"' "$T/stall.events")" = 30 ] || fail "stalled --json: queued lines lost"
grep -q '"event":"stopped"' "$T/stall.events" || fail "stalled --json: the last lines were not written"
ok "--json into a reader that stops reading: the API answers on, the queued lines all come after"

# The human log into a reader that stops reading (a journal or shipper that blocks): every log
# line (one per device created, per login, mosquitto's own through its pipe) blocked its
# thread once the pipe was full, the HTTP API with them. The pipe is made small (4 KiB: ~60
# lines) so a few hundred requests fill it; the log now queues as --json does.
mkfifo "$T/log.fifo"
python3 "$(dirname "$0")/lib/stall_reader.py" "$T/log.fifo" "$T/log.release" "$T/stall.log" "$T/log.ready" &
READER_PID=$!
for _ in $(seq 100); do [ -e "$T/log.ready" ] && break; sleep 0.1; done
"$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --mqtt 127.0.0.1:$MQTT_PORT --db "$DB" > "$T/logstall.out" 2> "$T/log.fifo" &
STALL_PID=$!
for _ in $(seq 150); do curl -s -m 1 -o /dev/null "$BASE/" && break; sleep 0.1; done
for i in $(seq 300); do   # stops at the first request not answered 201 within 5 s
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H "$(admin_auth)" "$BASE/v1/products/$P/devices" -d "{\"device_name\":\"logstall$i\"}" || true)
    [ "$code" = 201 ] || { kill "$STALL_PID"; touch "$T/log.release"; fail "API with an unread stderr: request $i answered $code"; }
done
kill -TERM "$STALL_PID"
touch "$T/log.release"   # the reader wakes up: the queued lines flow, to the last
wait "$STALL_PID" || fail "stalled stderr: exit $?"
wait "$READER_PID"
[ "$(grep -c 'device SUPTEST001/logstall[0-9]* created' "$T/stall.log")" = 300 ] || fail "stalled stderr: queued log lines lost"
ok "the log into a reader that stops reading: the API answers on, the queued lines all come after"

# --broker: an operator's mosquitto with the plugin loaded as docs/cloud.md says (make test-tsan
# names the normal build's plugin in SMARTCFG_AUTH_PLUGIN: mosquitto cannot load the TSan tree's).
SVC_PASS=$(openssl rand -hex 24)
cat > "$T/own.conf" <<CONF
per_listener_settings false
allow_anonymous false
listener $MQTT_PORT 127.0.0.1
user $(id -un)
plugin ${SMARTCFG_AUTH_PLUGIN:-$SC_BUILD/smartcfg_auth.so}
plugin_opt_registry $DB
plugin_opt_service_user ops-service
plugin_opt_service_password $SVC_PASS
CONF
mosquitto -c "$T/own.conf" > "$T/own.log" 2>&1 &
OWN=$!
for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/$MQTT_PORT) 2>/dev/null && break; sleep 0.1; done
: > "$T/cloud.events"
SMARTCFG_SERVICE_USER=ops-service SMARTCFG_SERVICE_PASSWORD=$SVC_PASS \
    "$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --broker 127.0.0.1:$MQTT_PORT --db "$DB" --json \
    > "$T/cloud.events" 2>> "$T/cloud.err" &
CLOUD_PID=$!
for _ in $(seq 600); do grep -q service_connected "$T/cloud.events" && break; sleep 0.1; done
TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
REPLY=$(timeout 10 mosquitto_rr -h 127.0.0.1 -p "$MQTT_PORT" -i "$MQ_ID" -u "$MQ_USER" -P "$MQ_PASS" -q 1 -W 5 \
    -t "\$thing/up/service/$P/dev1" -e "\$thing/down/service/$P/dev1" \
    -m "{\"method\":\"app_bind_token\",\"clientToken\":\"dev1-2\",\"params\":{\"token\":\"$TOK\"}}")
[ "$(echo "$REPLY" | jget code)" = 0 ] || { cat "$T/own.log"; fail "--broker: bind reply $REPLY"; }
stop_cloud
kill -0 $OWN 2>/dev/null || fail "--broker: smartcfg cloud stopped the operator's broker"
kill $OWN; wait $OWN 2>/dev/null || true
ok "--broker: operator's mosquitto with the documented plugin config; left running on exit"
