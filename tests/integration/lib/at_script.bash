# SPDX-License-Identifier: Apache-2.0
# What several AT tests share (sourced; not a test itself): the opening of an at_host.py script,
# and the run of one against a device with a broker.
# at_plain_connect P D SECRET: echo off, the device info (tls mode 0), and a plain MQTT connect
# (5 s command timeout, keepalive 60, clean session, no reconnect) waited for up to 10 s.
at_plain_connect() {
    cat <<EOS
send ATE0
reply b"ATE0\r\nOK\r\n"
send AT+TCDEVINFOSET=0,"$1","$2","$3"
reply b"OK\r\n+TCDEVINFOSET:OK\r\n"
send AT+TCMQTTCONN=0,5000,60,1,0
reply b"OK\r\n"
wait 10 +TCMQTTCONN:OK
EOS
}

# at_broker_session SECONDS SCRIPT PORT: at_host.py plays SCRIPT against `smartcfg device --at` on
# a virtual radio, with a simulated AP and the broker on 127.0.0.1:PORT, for at most SECONDS.
# Uses the caller's SC, HOST and TMP; the host's side goes to $TMP/host.out and host.err, the
# device's to $TMP/dev.out and dev.err (debug log). Its status is at_host.py's.
at_broker_session() {
    AT_DEV_OUT=$TMP/dev.out AT_DEV_ERR=$TMP/dev.err timeout "$1" python3 "$HOST" "$2" -- \
        "$SC" device --radio "udp:$((20000 + RANDOM % 20000))" --join sim:ap:password1:127.0.0.1 --no-cloud \
        --at '{tty}' --broker "127.0.0.1:$3" --state-dir "$TMP/state" --log-level debug \
        >"$TMP/host.out" 2>"$TMP/host.err"
}
