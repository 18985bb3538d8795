#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `smartcfg cloud --rabbitmq` against one real RabbitMQ node (MQTT plugin, HTTP auth backend
# pointed at the cloud): a wrong cluster password is a clear start-up error; a dead first
# address is skipped; devices log in with IoT Explorer credentials checked by the cloud's
# rules (cloud_acl.c) and bind through the quorum queue; a bad signature, another device's
# down topic and another device's up topic are all refused. The 3-node cluster, worker and
# node kills are scripts/test-cluster.sh.
# Revocation (docs/scale.md "Revoking rights"): a gateway subscribed for its sub-device and a
# device subscribed to its own topic lose their connections (closed through the management
# API) when the sub-device and the device are deleted, and the gateway cannot subscribe again.
. "$(dirname "$0")/lib/cloud.bash"
CL_DIR="$T/cluster"
mkdir -p "$CL_DIR"
. "${SC_SRC:?}/scripts/cluster-lib.sh"
# set +e: under set -e the (exit $rc) that hands cleanup the status ended the trap there, so a
# failed run left its worker running and its temp dir behind
trap 'rc=$?; set +e; cl_cleanup; (exit $rc); cleanup' EXIT
MQTT311="$SC_SRC/tests/integration/lib/mqtt311.py"

SVC_PASS=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
CL_MGMT=1 cl_rmq_setup 1 "$BASE"
cl_rmq_cluster 1 smartcfg-worker "$SVC_PASS" || fail "RabbitMQ did not start"
AMQP=127.0.0.1:${CL_AMQP[0]} RMQTT=127.0.0.1:${CL_MQTT[0]} MGMT=http://127.0.0.1:${CL_MGMTP[0]}
# closing other users' connections through the management API takes the administrator tag
cl_ctl 0 -q set_user_tags smartcfg-worker administrator >/dev/null
ok "RabbitMQ node up (AMQP $AMQP, MQTT $RMQTT)"

# Bad input at start: the wrong password is refused by RabbitMQ and said so, exit 1.
set +e
timeout 60 "$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --db "$DB" --rabbitmq "amqp://smartcfg-worker:Xq7wrongpw@$AMQP" \
    > /dev/null 2> "$T/badpw.err"
rc=$?
set -e
[ $rc = 1 ] && grep -q "refused the login of user 'smartcfg-worker'" "$T/badpw.err" || { cat "$T/badpw.err"; fail "wrong password: exit $rc"; }
! grep -q Xq7wrongpw "$T/badpw.err" || fail "the password shows in the error"
ok "wrong cluster password: clear error, exit 1, password not printed"
set +e
timeout 60 "$SMARTCFG" cloud --http 127.0.0.1:$HTTP_PORT --db "$DB" --rabbitmq "amqp://smartcfg-worker:$SVC_PASS@$AMQP" \
    --rabbitmq-auth-from 127.0.0.1,no-such-host.invalid > /dev/null 2> "$T/badfrom.err"
rc=$?
set -e
[ $rc = 1 ] && grep -q -- "--rabbitmq-auth-from: no-such-host.invalid" "$T/badfrom.err" ||
    { cat "$T/badfrom.err"; fail "an unknown --rabbitmq-auth-from name: exit $rc"; }
ok "an --rabbitmq-auth-from name that does not resolve: clear error, exit 1"

DEAD=$(free_port)
# (a node whose name does not resolve is skipped too, and its auth questions are not answered)
start_cloud --rabbitmq "amqp://smartcfg-worker:$SVC_PASS@127.0.0.1:$DEAD,no-such-host.invalid:5672,$AMQP" --prefetch 64 \
    --rabbitmq-management "http://127.0.0.1:$DEAD,127.0.0.1:${CL_MGMTP[0]}"
grep -q "cannot reach RabbitMQ at 127.0.0.1:$DEAD" "$T/cloud.err" || fail "no word about the dead first node"
grep -q "RabbitMQ node no-such-host.invalid: .*not answered" "$T/cloud.err" || fail "no word about the unknown node name"
grep -q '^smartcfg.bind[[:space:]]*quorum' <<<"$(cl_ctl 0 -q list_queues name type)" || fail "no quorum queue smartcfg.bind"
ok "first address dead: the worker moved on and declared the quorum queue smartcfg.bind"

P=RMQTEST001
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK1=$(post /v1/products/$P/devices '{"device_name":"dev1"}' | jget device_secret)
PSK2=$(post /v1/products/$P/devices '{"device_name":"dev2"}' | jget device_secret)
bind_msg() { printf '{"method":"app_bind_token","clientToken":"%s-1","params":{"token":"%s"}}' "$1" "$2"; }
# rdevice DEV PSK UP DOWN PAYLOAD -> the reply (exit code of mqtt311.py)
rdevice() {
    creds $P "$1" "$2" sha256
    python3 "$MQTT311" "$RMQTT" "$MQ_ID" "$MQ_USER" "$MQ_PASS" "$3" "$4" "$5" 30
}

TOK=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
R=$(rdevice dev1 "$PSK1" "\$thing/up/service/$P/dev1" "\$thing/down/service/$P/dev1" "$(bind_msg dev1 "$TOK")") \
    || fail "no bind reply through RabbitMQ"
[ "$(echo "$R" | jget code)" = 0 ] && [ "$(echo "$R" | jget method)" = app_bind_token_reply ] || fail "bind reply: $R"
S=$(tokenapi AppGetDeviceBindTokenState "{\"Token\":\"$TOK\"}")
[ "$(echo "$S" | jget data.State)" = 2 ] && [ "$(echo "$S" | jget data.DeviceName)" = dev1 ] || fail "state after bind: $S"
grep -q '"event":"device_connected".*"broker":"rabbitmq"' "$T/cloud.events" || fail "no device_connected event"
ok "device logs in through the HTTP auth backend, binds through the quorum queue (code 0, State 2)"

R=$(rdevice dev1 "$PSK1" "\$thing/up/service/$P/dev1" "\$thing/down/service/$P/dev1" "$(bind_msg dev1 "$TOK")") \
    && [ "$(echo "$R" | jget code)" = 0 ] || fail "repeated bind: $R"
ok "the same bind again is an idempotent success (what a redelivery does)"

set +e
creds $P dev1 "$PSK2" sha256   # dev1 signing with dev2's secret
python3 "$MQTT311" "$RMQTT" "$MQ_ID" "$MQ_USER" "$MQ_PASS" "" "\$thing/down/service/$P/dev1" x 10 2>"$T/bad.err"
rc=$?
set -e
[ $rc = 2 ] || fail "bad signature: exit $rc ($(cat "$T/bad.err"))"
for _ in $(seq 600); do grep -q '"reason":"bad_signature"' "$T/cloud.events" && break; sleep 0.1; done
grep -q '"event":"device_refused".*"reason":"bad_signature"' "$T/cloud.events" || fail "no device_refused event"
ok "bad signature: CONNACK refusal, device_refused bad_signature"

# The auth answers run on a pool of threads (--http-threads, default 8 with --rabbitmq), each
# on its own database connection: 600 questions on 24 parallel connections, good and bad
# logins interleaved, must each get their own answer, and the token API (one request at a
# time, under the lock) keeps answering meanwhile.
creds $P dev1 "$PSK1" sha256; GOOD_ID=$MQ_ID GOOD_USER=$MQ_USER GOOD_PASS=$MQ_PASS
creds $P dev1 "$PSK2" sha256; BAD_PASS=$MQ_PASS
python3 - "$BASE" "$GOOD_ID" "$GOOD_USER" "$GOOD_PASS" "$BAD_PASS" > "$T/par.out" <<'PY' || fail "parallel auth: $(tail -3 "$T/par.out")"
import sys, threading, urllib.parse, urllib.request
base, cid, user, good, bad = sys.argv[1:6]
wrong = []
def ask(k):
    pw = good if k % 2 == 0 else bad
    body = urllib.parse.urlencode({"username": user, "password": pw, "client_id": cid, "vhost": "/"}).encode()
    got = urllib.request.urlopen(base + "/rabbitmq/user", body, timeout=30).read().decode()
    if got != ("allow" if pw == good else "deny"):
        wrong.append((k, got))
def worker(i):
    for k in range(i, 600, 24):
        ask(k)
ts = [threading.Thread(target=worker, args=(i,)) for i in range(24)]
for t in ts: t.start()
for t in ts: t.join()
print("wrong answers:", len(wrong), wrong[:3])
sys.exit(1 if wrong else 0)
PY
TOK3=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
[ -n "$TOK3" ] || fail "token API after the parallel auth questions"
ok "600 auth questions on 24 connections: every answer right (pool of threads, own connections)"
# docs/security.md F17: the questions come as forms; a value with %00 was cut there by the
# unescaping (the routing key "<own topic>%00.x" was judged as the own topic: allow), and of a
# repeated field the first was read. Neither is a form RabbitMQ sends; each is now refused.
python3 - "$BASE" "$GOOD_ID" "$GOOD_USER" "$GOOD_PASS" "$P" > "$T/form.out" <<'PY' || fail "F17: hostile auth forms: $(cat "$T/form.out")"
import sys, urllib.parse, urllib.request
base, cid, user, pw, p = sys.argv[1:6]
q = lambda s: urllib.parse.quote(s, safe="")
def ask(path, body):
    return urllib.request.urlopen(base + "/rabbitmq/" + path, body.encode(), timeout=30).read().decode()
topic = "username=%s&vhost=%%2F&resource=topic&name=amq.topic&permission=write&routing_key=" % q(user)
own = q("$thing.up.service.%s.dev1" % p)
login = "username=%s&password=%s&vhost=%%2F&client_id=" % (q(user), q(pw))
queue = "username=%s&vhost=%%2F&resource=queue&permission=configure&name=" % q(user)
cases = [
    ("topic", topic + own, "allow"),
    ("user", login + q(cid), "allow"),
    ("resource", queue + q("mqtt-subscription-%sqos0" % cid), "allow"),
    ("topic", topic + own + "%00.x", "deny"),
    ("topic", topic + own + "&routing_key=" + q("$thing.up.service.%s.dev2" % p), "deny"),
    ("user", login + q(cid) + "%00x", "deny"),
    ("resource", queue + q("mqtt-subscription-%sqos0" % cid) + "%00x", "deny"),
    ("vhost", "username=%s&vhost=%%2F%%00x" % q(user), "deny"),
]
bad = [(i, path, got) for i, (path, body, want) in enumerate(cases) for got in [ask(path, body)] if got != want]
print("wrong:", bad)
sys.exit(1 if bad else 0)
PY
ok "F17: auth forms with %00 in a value or a repeated field are refused; the plain ones still allowed"
# The auth questions are answered to the RabbitMQ nodes only (--rabbitmq-auth-from; default
# the --rabbitmq hosts, 127.0.0.1 and ::1): a host elsewhere, here a second loopback address,
# gets 403 before its form is read, so its questions are neither answered nor events.
python3 - "$HTTP_PORT" "$GOOD_ID" "$GOOD_USER" "$BAD_PASS" > "$T/src.out" <<'PY' || fail "auth from another source: $(cat "$T/src.out")"
import http.client, sys, urllib.parse
port, cid, user, pw = sys.argv[1:5]
body = urllib.parse.urlencode({"username": user, "password": pw, "client_id": cid + "from3", "vhost": "/"})
for _ in range(20):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30, source_address=("127.0.0.3", 0))
    c.request("POST", "/rabbitmq/user", body, {"Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    got = (r.status, r.read().decode())
    c.close()
    if r.status != 403:
        print("answered:", got)
        sys.exit(1)
print("refused 20:", got)
PY
! grep -q "${GOOD_ID}from3" "$T/cloud.events" || fail "a refused source's question became an event"
[ "$(grep -c 'RabbitMQ auth question from 127.0.0.3 refused' "$T/cloud.err")" = 1 ] ||
    fail "the refused source not logged exactly once: $(grep -c 'auth question from' "$T/cloud.err")"
set +e
"$SMARTCFG" cloud --rabbitmq-auth-from 127.0.0.1 --db "$T/x.db" 2>"$T/usage.err"; rc=$?
set -e
[ $rc = 2 ] && grep -q -- "--rabbitmq-auth-from goes with --rabbitmq" "$T/usage.err" || fail "auth-from alone: exit $rc"
ok "auth questions from a source that is not a node: 403, no answer, no event, logged once"

set +e
rdevice dev1 "$PSK1" "" "\$thing/down/service/$P/dev2" x 2>"$T/sub.err"
rc=$?
set -e
[ $rc = 3 ] || fail "subscribe to dev2's topic: exit $rc ($(cat "$T/sub.err"))"
ok "another device's down topic: subscription refused"

TOK2=$(tokenapi AppCreateDeviceBindToken '{}' | jget data.Token)
set +e
rdevice dev1 "$PSK1" "\$thing/up/service/$P/dev2" "\$thing/down/service/$P/dev1" "$(bind_msg dev1 "$TOK2")" 2>"$T/pub.err"
rc=$?
set -e
[ $rc = 3 ] || [ $rc = 4 ] || fail "publish on dev2's topic: exit $rc"
[ "$(tokenapi AppGetDeviceBindTokenState "{\"Token\":\"$TOK2\"}" | jget data.State)" = 1 ] || fail "token bound through a foreign topic"
grep -q '"event":"topic_refused".*"access":"publish"' "$T/cloud.events" || fail "no topic_refused event"
ok "another device's up topic: publish refused, token untouched"

# The data template is not served with --rabbitmq (docs/scale.md): the control API said 202 and
# sent nothing (its MQTT client tried to reach a broker at "":0).
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$(admin_auth)" "$BASE/v1/products/$P/devices/dev1/control" \
    -d '{"params":{"power":1}}')" = 501 ] || fail "control with --rabbitmq: not 501"
ok "the data template's control API says 501 with --rabbitmq instead of 202 for nothing"

# ---- revocation: RabbitMQ asks about a topic at subscribe, not at each delivery ----
# gw1 speaks for sub1 (a gw_subdevs row, online: the gateway topics are not served with
# --rabbitmq, docs/scale.md); dev3 holds its own topic. Deleting sub1 and dev3 must close both
# connections: before, both kept receiving until they reconnected.
PSKG=$(post /v1/products/$P/devices '{"device_name":"gw1"}' | jget device_secret)
post /v1/products/$P/devices '{"device_name":"sub1"}' >/dev/null
PSK3=$(post /v1/products/$P/devices '{"device_name":"dev3"}' | jget device_secret)
python3 - "$DB" "$P" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30)
with db:
    db.execute("INSERT INTO gw_subdevs(sub_pid, sub_dn, gw_pid, gw_dn, online, updated) VALUES(?,?,?,?,1,?)",
               (sys.argv[2], "sub1", sys.argv[2], "gw1", int(time.time())))
PY
HOLD="$SC_SRC/tests/integration/lib/mqtt_hold.py"
creds $P gw1 "$PSKG" sha256
python3 "$HOLD" "$RMQTT" "$MQ_ID" "$MQ_USER" "$MQ_PASS" 40 "\$thing/down/property/$P/sub1" > "$T/gw.out" 2>&1 &
GWH=$!
creds $P dev3 "$PSK3" sha256
python3 "$HOLD" "$RMQTT" "$MQ_ID" "$MQ_USER" "$MQ_PASS" 40 "\$thing/down/property/$P/dev3" > "$T/d3.out" 2>&1 &
D3H=$!
for _ in $(seq 200); do grep -q subscribed "$T/gw.out" && grep -q subscribed "$T/d3.out" && break; sleep 0.1; done
grep -q subscribed "$T/gw.out" && grep -q subscribed "$T/d3.out" || fail "holders did not subscribe: $(cat "$T/gw.out" "$T/d3.out")"
rpub() { curl -s -u "smartcfg-worker:$SVC_PASS" -H 'Content-Type: application/json' "$MGMT/api/exchanges/%2F/amq.topic/publish" \
    -d "{\"properties\":{},\"routing_key\":\"$1\",\"payload\":\"$2\",\"payload_encoding\":\"string\"}"; }
rpub "\$thing.down.property.$P.sub1" before | grep -q '"routed":true' || fail "publish through the management API"
for _ in $(seq 100); do grep -q 'msg .* before' "$T/gw.out" && break; sleep 0.1; done
grep -q "msg \$thing/down/property/$P/sub1 before" "$T/gw.out" || fail "the gateway did not get its sub-device's message"
t0=$(date +%s%N)
[ "$(curl -s -X DELETE -H "$(admin_auth)" "$BASE/v1/products/$P/devices/sub1" | jget deleted)" = true ] || fail "delete sub1"
[ "$(curl -s -X DELETE -H "$(admin_auth)" "$BASE/v1/products/$P/devices/dev3" | jget deleted)" = true ] || fail "delete dev3"
for _ in $(seq 150); do grep -q closed "$T/gw.out" && grep -q closed "$T/d3.out" && break; sleep 0.1; done
took=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -q closed "$T/gw.out" || fail "the gateway kept its connection (and its sub1 subscription) after sub1 was deleted: $(grep -i rabbitmq "$T/cloud.err" | tail -5) $(curl -s -u "smartcfg-worker:$SVC_PASS" "$MGMT/api/vhosts/%2F/connections")"
grep -q closed "$T/d3.out" || fail "dev3 kept its connection after it was deleted"
[ "$took" -ge 2400 ] || fail "closed after $took ms: before the nodes' auth cache (2 s) expired"
grep -q '"event":"connection_closed".*"client":"'$P'gw1".*"reason":"rights_changed"' "$T/cloud.events" || fail "no connection_closed event for gw1"
wait $GWH $D3H
creds $P gw1 "$PSKG" sha256
set +e
python3 "$HOLD" "$RMQTT" "$MQ_ID" "$MQ_USER" "$MQ_PASS" 10 "\$thing/down/property/$P/sub1" > "$T/gw2.out" 2>&1
rc=$?
set -e
[ $rc = 3 ] || fail "the gateway subscribed again to a deleted sub-device's topic: exit $rc $(cat "$T/gw2.out")"
ok "revocation: deleting a sub-device and a device closed the gateway's and the device's connections ($took ms, after the auth cache); the gateway's new subscription is refused"

stop_cloud
ok "worker stops cleanly on SIGTERM"
