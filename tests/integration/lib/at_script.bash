# SPDX-License-Identifier: Apache-2.0
# The opening of an at_host.py script that several AT tests share (sourced; not a test itself).
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
