#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The gateway over AT against the local cloud (docs/at.md "Gateway", docs/cloud.md "Gateways"),
# in the order of Tencent's AT test tool's gateway mode and over TLS as the tool runs it (mode
# 1, the cloud's MQTT/TLS listener, --ca-file): AT+TCGWONLINE=?, bind with the sub-device's
# secret, online, subscribe and publish on the sub-device's data topic (the message comes back),
# offline, unbind — every reply byte for byte. Around it: the sub-device's topics are refused
# before the bind, while offline and after the unbind; a wrong secret is refused (403) and
# nothing is bound; online before bind 401; the cloud's topology and events; bad input 204;
# no session 208; the sub-device's secret never printed.
set -euo pipefail
. "$(dirname "$0")/lib/at_tool.bash"
GP=GWPROD0001
SP=SUBPROD001
post /v1/products "{\"product_id\":\"$GP\"}" >/dev/null
post /v1/products "{\"product_id\":\"$SP\"}" >/dev/null
GPSK=$(post /v1/products/$GP/devices '{"device_name":"Gateway1"}' | jget device_secret)
SPSK=$(post /v1/products/$SP/devices '{"device_name":"sub_device1"}' | jget device_secret)
post /v1/products/$SP/devices '{"device_name":"sub_device2"}' >/dev/null

cat >"$T/drive.py" <<'PYEOF'
import os, sqlite3, sys, time
sys.path.insert(0, os.environ["SC_SRC"] + "/tests/integration/lib")
from at_tool import Session, escape, hub_msg, events, poll

E = os.environ
GP, SP, GPSK, SPSK = E["GP"], E["SP"], E["GPSK"], E["SPSK"]
SUB = "%s/sub_device1/data" % SP

def topo():
    db = sqlite3.connect(E["T"] + "/cloud.db")
    rows = db.execute("SELECT sub_pid, sub_dn, gw_pid, gw_dn, online FROM gw_subdevs ORDER BY sub_dn").fetchall()
    db.close()
    return rows

s = Session()
bind = 'AT+TCGWBIND=0,"%s","sub_device1","%s"' % (SP, SPSK)
s.cmd(bind, b"+CME ERROR:208\r\n")                     # no MQTT session yet
s.cmd("AT+TCGWONLINE=?", b'+TCGWONLINE:"MODE","PRODUCT_ID","DEVICE_NAME"\r\nOK\r\n')
s.cmd("AT+TCGWBIND=?", b'+TCGWBIND:"MODE","PRODUCT_ID","DEVICE_NAME","DEVICE_SECRET"\r\nOK\r\n')
s.connect(GP, "Gateway1", GPSK)
for bad in ['AT+TCGWBIND=2,"%s","sub_device1","%s"' % (SP, SPSK), 'AT+TCGWBIND=0,"%s","sub_device1"' % SP,
            'AT+TCGWBIND=1,"%s","sub_device1","%s"' % (SP, SPSK), 'AT+TCGWBIND="0","%s","sub_device1","x"' % SP,
            'AT+TCGWBIND=0,"SUBPROD0011","sub_device1","%s"' % SPSK, 'AT+TCGWBIND=0,"a/b","sub_device1","%s"' % SPSK,
            'AT+TCGWONLINE=0,"%s"' % SP, 'AT+TCGWONLINE=0,"%s","%s"' % (SP, "d" * 49), 'AT+TCGWONLINE=3,"%s","x"' % SP,
            'AT+TCGWONLINE=0,"%s","sub_device1",1' % SP]:
    s.cmd(bad, b"+CME ERROR:204\r\n")
s.cmd('AT+TCGWBIND=0,"%s","sub_device1","bm90IHRoZSBzZWNyZXQ="' % SP, b"OK\r\n+TCGWBIND:FAIL,403\r\n")
s.cmd('AT+TCGWBIND=0,"%s","nobody","%s"' % (SP, SPSK), b"OK\r\n+TCGWBIND:FAIL,404\r\n")
s.cmd('AT+TCGWONLINE=0,"%s","sub_device1"' % SP, b"OK\r\n+TCGWONLINE:FAIL,401\r\n")
if topo():
    s.die("refused binds left rows: %r" % topo())
s.cmd('AT+TCMQTTSUB="%s",0' % SUB, b"OK\r\n+TCMQTTSUB:FAIL,-108\r\n")   # not bound: not the gateway's topic

# the tool's gateway sequence
s.cmd(bind, b"OK\r\n+TCGWBIND:OK\r\n", 15)
if topo() != [(SP, "sub_device1", GP, "Gateway1", 0)]:
    s.die("after bind: %r" % topo())
s.cmd('AT+TCMQTTSUB="%s",0' % SUB, b"OK\r\n+TCMQTTSUB:FAIL,-108\r\n")   # bound but offline
s.cmd('AT+TCGWONLINE=0,"%s","sub_device1"' % SP, b"OK\r\n+TCGWONLINE:OK\r\n", 10)
s.cmd("AT+TCGWONLINE?", b'+TCGWONLINE:"%s,sub_device1"\r\nOK\r\n' % SP.encode())   # one string, as the firmware
s.cmd("AT+TCGWBIND?", b'+TCGWBIND:"%s","sub_device1"\r\nOK\r\n' % SP.encode())
s.cmd('AT+TCMQTTSUB="%s",0' % SUB, b"OK\r\n+TCMQTTSUB:OK\r\n")
msg = hub_msg("ECX2FE")
s.lines('AT+TCMQTTPUB="%s",1,"%s"' % (SUB, escape(msg)),
        [b"OK", b"+TCMQTTPUB:OK", b'+TCMQTTRCVPUB:"%s",%d,"%s"' % (SUB.encode(), len(msg), msg.encode())], 15)
# another sub-device, not bound: still refused
s.cmd('AT+TCMQTTSUB="%s/sub_device2/data",0' % SP, b"OK\r\n+TCMQTTSUB:FAIL,-108\r\n")
s.cmd('AT+TCGWONLINE=1,"%s","sub_device1"' % SP, b"OK\r\n+TCGWONLINE:OK\r\n", 10)
s.cmd("AT+TCGWONLINE?", b"OK\r\n")
# offline: the broker no longer delivers the sub-device's messages to the gateway
s.cmd('AT+TCMQTTPUB="%s",0,"after-offline"' % SUB, b"OK\r\n+TCMQTTPUB:OK\r\n")
s.quiet(1.5)
s.cmd('AT+TCGWBIND=1,"%s","sub_device1"' % SP, b"OK\r\n+TCGWBIND:OK\r\n", 15)
s.cmd("AT+TCGWBIND?", b"OK\r\n")
if topo():
    s.die("after unbind: %r" % topo())
s.cmd('AT+TCGWONLINE=0,"%s","sub_device1"' % SP, b"OK\r\n+TCGWONLINE:FAIL,401\r\n")
want = [("bind", "sub_device1", 403), ("bind", "nobody", 404), ("online", "sub_device1", 401),
        ("bind", "sub_device1", 0), ("online", "sub_device1", 0), ("offline", "sub_device1", 0),
        ("unbind", "sub_device1", 0), ("online", "sub_device1", 401)]
# The cloud's event lines go out through its output queue, so the last one may reach the file
# a moment after the reply reached the module (a whole run beside stress-ng read it short by
# that one): wait up to 10 s for as many as wanted, then compare.
gw_ops = lambda: [(e["operation"], e["sub_device_name"], e["result"]) for e in events("gateway_operation")]
end = time.time() + 10
while len(gw_ops()) < len(want) and time.time() < end:
    time.sleep(0.1)
ops = gw_ops()
if ops != want:
    s.die("gateway events %r" % ops)
s.hangup()
print("\n".join(s.transcript), file=sys.stderr); print("session ok")
PYEOF
run_drive "AT gateway session" GP=$GP SP=$SP GPSK=$GPSK SPSK=$SPSK
ok "gateway over TLS mode 1: bind, online, the sub-device's data topic both ways, offline, unbind (the tool's sequence)"
ok "refused: a wrong secret 403, unknown sub-device 404, online before bind 401, the sub-device's topics unless bound and online"
grep -qF -- "$SPSK" "$T"/dev.out "$T"/dev.err "$T/cloud.events" "$T/cloud.err" && fail "the sub-device secret was printed"
stop_cloud
