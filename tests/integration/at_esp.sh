#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The ESP-AT basics of `smartcfg device --at` over a pty, byte for byte (docs/at.md): the test
# tool's ESP8266 pre-check (AT+CWMODE=1, AT+CWJAP?, AT+CIPSTA?, AT+CIPSTATUS, AT+SYSRAM?),
# AT+CWJAP through the same join backend as --join (sim:, which knows one AP) with a wrong
# password, an unknown AP and the right one, AT+CWQAP, AT+RST / AT+RESTORE printing "ready",
# AT+UART_CUR?, and the bad-input cases (ERROR, nothing changed). The password never shows.
set -u
SC=${SC_BUILD:?}/smartcfg
HOST=${SC_SRC:?}/tests/integration/at_host.py
TMP=$(mktemp -d /tmp/sc_at_esp.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; for f in "$TMP"/*.out "$TMP"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 60 "$f"; }; done; exit 1; }
PSW='pw-esp-1234'
cat >"$TMP/s" <<EOF
send ATE0
reply b"ATE0\r\nOK\r\n"
send AT+CWMODE=1
reply b"OK\r\n"
send AT+CWMODE?
reply b"+CWMODE:1\r\nOK\r\n"
send AT+CWJAP?
reply b"No AP\r\nOK\r\n"
send AT+CIPSTA?
reply b'+CIPSTA:ip:"0.0.0.0"\r\n+CIPSTA:gateway:"0.0.0.0"\r\n+CIPSTA:netmask:"0.0.0.0"\r\nOK\r\n'
send AT+CIPSTATUS
reply b"STATUS:5\r\nOK\r\n"
send AT+SYSRAM?
expect_re \+SYSRAM:[1-9][0-9]*\r\nOK\r\n
send AT+UART_CUR?
reply b"+UART_CUR:115200,8,1,0,0\r\nOK\r\n"
# bad input
send AT+CWMODE=4
reply b"ERROR\r\n"
send AT+CWMODE="1"
reply b"ERROR\r\n"
send AT+CWJAP="espap"
reply b"ERROR\r\n"
send AT+CWJAP="espap",1
reply b"ERROR\r\n"
send AT+CWJAP="012345678901234567890123456789012","x"
reply b"ERROR\r\n"
send AT+UART_CUR=115200,8,1,0
reply b"ERROR\r\n"
send AT+UART_CUR=9600,8,1,0,0
reply b"ERROR\r\n"
send AT+SYSMSG=8
reply b"ERROR\r\n"
send AT+RST=1
reply b"ERROR\r\n"
# joins through the sim: backend
send AT+CWJAP="espap","wrong-password"
wait_re 20 \A\+CWJAP:2\r\nFAIL\r\n
send AT+CWJAP="otherap","$PSW"
wait_re 20 \A\+CWJAP:3\r\nFAIL\r\n
send AT+CWJAP?
reply b"No AP\r\nOK\r\n"
send AT+CWJAP="espap","$PSW"
wait_re 20 \AWIFI CONNECTED\r\nWIFI GOT IP\r\nOK\r\n
send AT+CWJAP?
reply b'+CWJAP:"espap","00:00:00:00:00:00",0,0\r\nOK\r\n'
send AT+CIPSTA?
reply b'+CIPSTA:ip:"127.0.0.1"\r\n+CIPSTA:gateway:"0.0.0.0"\r\n+CIPSTA:netmask:"0.0.0.0"\r\nOK\r\n'
send AT+CIPSTATUS
reply b"STATUS:2\r\nOK\r\n"
send AT+CWQAP
reply b"OK\r\nWIFI DISCONNECT\r\n"
send AT+CIPSTATUS
reply b"STATUS:5\r\nOK\r\n"
# RST: ready again, settings back (echo on)
send AT+CWMODE=3
reply b"OK\r\n"
send AT+RST
reply b"OK\r\nready\r\n"
send AT+CWMODE?
reply b"AT+CWMODE?\r\n+CWMODE:1\r\nOK\r\n"
send AT+CWJAP="espap","$PSW"
wait_re 20 WIFI CONNECTED\r\nWIFI GOT IP\r\nOK\r\n
send AT+RESTORE
reply b"AT+RESTORE\r\nOK\r\nready\r\n"
send AT+CIPSTATUS
reply b"AT+CIPSTATUS\r\nSTATUS:5\r\nOK\r\n"
hangup
EOF
AT_DEV_OUT=$TMP/dev.out AT_DEV_ERR=$TMP/dev.err timeout 100 python3 "$HOST" "$TMP/s" -- \
    "$SC" device --radio "udp:$((20000 + RANDOM % 20000))" --join "sim:espap:$PSW:127.0.0.1" --no-cloud \
    --at '{tty}' --state-dir "$TMP/state" --log-level debug \
    >"$TMP/host.out" 2>"$TMP/host.err" || fail "session: $(cat "$TMP/host.out")"
grep '^<<' "$TMP/host.err" | grep -qF -- "$PSW" && fail "the password came back on the AT line"
grep -qF -- "$PSW" "$TMP/dev.out" "$TMP/dev.err" && fail "the password was logged"
echo "PASS"
