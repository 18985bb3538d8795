#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tencent's AT test tool's ESP8266 pre-check and its MQTT mode against `smartcfg device --at`
# and the local cloud over TLS mode 1, in the tool's order, replies byte for byte: AT+CWJAP?
# (not joined), AT+CIPSTA?, AT+CWMODE=1, AT+TCLOG, AT+CWJAP joining through the station
# backend, then device info set/query (BCC), MQTT connect/state/disconnect/state/connect with
# the tool's parameters, the sub/unsub list and AT+TCMODULE. The gateway, IE and HUB modes are
# at_gw.sh and at_ie.sh; OTA is at_ota.sh.
set -euo pipefail
. "$(dirname "$0")/lib/at_tool.bash"
P=TOOLPROD01
post /v1/products "{\"product_id\":\"$P\"}" >/dev/null
PSK=$(post /v1/products/$P/devices '{"device_name":"test_device"}' | jget device_secret)

cat >"$T/drive.py" <<'PYEOF'
import os, sys
sys.path.insert(0, os.environ["SC_SRC"] + "/tests/integration/lib")
from at_tool import Session

E = os.environ
P, PSK, D = E["P"], E["PSK"], "test_device"
bcc = 0
for c in PSK.encode():
    bcc ^= c
s = Session()
# ESP8266 pre-check (is_network_connected, join_wifi_network, set_tc_log_debug)
s.cmd("AT+CWJAP?", b"No AP\r\nOK\r\n")
s.cmd("AT+CIPSTA?", b'+CIPSTA:ip:"0.0.0.0"\r\n+CIPSTA:gateway:"0.0.0.0"\r\n+CIPSTA:netmask:"0.0.0.0"\r\nOK\r\n')
s.cmd("AT+CWMODE=1", b"OK\r\n")
s.cmd('AT+CWJAP="ap","password1"', b"WIFI CONNECTED\r\nWIFI GOT IP\r\nOK\r\n", 20)
s.cmd("AT+CWJAP?", b'+CWJAP:"ap","00:00:00:00:00:00",0,0\r\nOK\r\n')
s.cmd("AT+CIPSTA?", b'+CIPSTA:ip:"127.0.0.1"\r\n+CIPSTA:gateway:"0.0.0.0"\r\n+CIPSTA:netmask:"0.0.0.0"\r\nOK\r\n')
s.cmd("AT+TCLOG=86013388,4", b"OK\r\n")
# MQTT mode 1: device info set and query
s.cmd('AT+TCDEVINFOSET=1,"%s","%s","%s"' % (P, D, PSK), b"OK\r\n+TCDEVINFOSET:OK\r\n")
s.cmd("AT+TCDEVINFOSET?", b'+TCDEVINFOSET:1,"%s","%s",%d,"ap-guangzhou"\r\nOK\r\n' % (P.encode(), D.encode(), bcc))
# 2: connect / state / disconnect / state / connect (the tool's parameters)
s.cmd("AT+TCMQTTCONN=1,10000,240,1,1", b"OK\r\n")
s.expect(b"+TCMQTTCONN:OK\r\n", 20)
s.cmd("AT+TCMQTTSTATE?", b"+TCMQTTSTATE:1\r\nOK\r\n")
s.cmd("AT+TCMQTTDISCONN", b"+TCMQTTDISCON,2\r\nOK\r\n")
s.cmd("AT+TCMQTTSTATE?", b"+TCMQTTSTATE:0\r\nOK\r\n")
s.cmd("AT+TCMQTTCONN=1,10000,60,1,1", b"OK\r\n")
s.expect(b"+TCMQTTCONN:OK\r\n", 20)
s.cmd("AT+TCMQTTSTATE?", b"+TCMQTTSTATE:1\r\nOK\r\n")
# 3: sub / unsub and the list
SYS, SHADOW, CTRL = ("$sys/operation/result/%s/%s" % (P, D), "$shadow/operation/result/%s/%s" % (P, D),
                     "%s/%s/control" % (P, D))
for t in (SYS, SHADOW, CTRL):
    s.cmd('AT+TCMQTTSUB="%s",0' % t, b"OK\r\n+TCMQTTSUB:OK\r\n")
s.cmd("AT+TCMQTTSUB?", b'+TCMQTTSUB:"%s",0\r\n+TCMQTTSUB:"%s",0\r\n+TCMQTTSUB:"%s",0\r\nOK\r\n'
      % (SYS.encode(), SHADOW.encode(), CTRL.encode()))
for t in (SHADOW, CTRL):
    s.cmd('AT+TCMQTTUNSUB="%s"' % t, b"OK\r\n+TCMQTTUNSUB:OK\r\n")
s.cmd("AT+TCMQTTSUB?", b'+TCMQTTSUB:"%s",0\r\nOK\r\n' % SYS.encode())
# module info
s.send("AT+TCMODULE")
s.expect(b"Module HW name: ")
s.expect(b"Module FW version: ")
s.expect(b"Module Mac addr: ")
s.expect(b"Module Flash size: ")
s.expect(b"OK\r\n")
s.hangup()
print("session ok")
PYEOF
run_drive "AT tool modes session" P=$P PSK=$PSK
ok "the tool's ESP8266 pre-check and MQTT mode (device info, connect cycle, sub/unsub list, module info) over TLS mode 1"
grep -qF -- "$PSK" "$T"/dev.out "$T"/dev.err "$T/cloud.events" && fail "the device secret was printed"
stop_cloud
