#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# smartcfg send rejects bad command lines with exit 2 and a message naming the problem,
# before any socket is opened; the password never appears in a message. The CLI convention
# (cli.h) for send and the top-level command: -h/--help (ending with examples) and --version
# exit 0, a missing value is named as such, --json turns usage errors into JSON lines. A
# password on the command line is warned about; --password-file - on a terminal prompts with
# echo off.
# ctest-cost: 45
set -uo pipefail
# In a network namespace of its own: the runs below that send wait for acks on UDP 18266 and
# count them, and a device of another test running beside this one in the root namespace
# (ctest -j) acks there too.
. "$(dirname "$0")/lib/netns_self.bash"
netns_self SC_SEND_USAGE_NS scsendusage "$0"
B=${SC_BUILD:?}
fail=0
check() { # want_rc pattern args...
  local want=$1 pat=$2; shift 2
  out=$("$B/smartcfg" send "$@" 2>&1); rc=$?
  if [ $rc -ne "$want" ] || ! grep -q -- "$pat" <<<"$out"; then
    echo "FAIL: send $*: exit $rc (want $want), output: $out (want /$pat/)"; fail=1
  fi
  if grep -q 'S3cretPw\|hunter2x' <<<"$out"; then echo "FAIL: send $*: password printed"; fail=1; fi
}
OK="--bssid 00:11:22:33:44:55 --ip 127.0.0.1"
check 2 'password is required' --ssid x $OK
check 2 "^smartcfg send: --ssid: '' is not 1..32 bytes$" --ssid '' --password S3cretPw $OK
check 2 "^smartcfg send: --ssid: '0123456789abcdef0123456789abcdefX' is not 1..32 bytes$" --ssid 0123456789abcdef0123456789abcdefX --password S3cretPw $OK
check 2 '^smartcfg send: --password: the value (not shown) is not 0..64 bytes$' --ssid x --password "$(printf 'S3cretPw%.0s' $(seq 9))" $OK
check 2 "^smartcfg send: --bssid: '00:11:22:33:44' is not a MAC address like aa:bb:cc:dd:ee:ff$" --ssid x --password S3cretPw --bssid 00:11:22:33:44 --ip 127.0.0.1
check 2 "^smartcfg send: --ip: '300.1.1.1' is not an IPv4 address like 192.168.1.100$" --ssid x --password S3cretPw --bssid 00:11:22:33:44:55 --ip 300.1.1.1
check 2 'not an address of this host' --ssid x --password S3cretPw --bssid 00:11:22:33:44:55 --ip 198.51.100.7
check 2 "no network interface named" --ssid x --password S3cretPw $OK --iface nosuchif0
check 2 "^smartcfg send: --ssid-hex: '41424' is not hex digits for 1..32 bytes$" --ssid-hex 41424 --password S3cretPw $OK
check 2 'exclude each other' --ssid x --password S3cretPw $OK --token t --cloud http://x
check 2 'exclude each other' --ssid x --password S3cretPw $OK --multicast --dest 127.0.0.1
# the URL is not shown: it may carry a password (ftp://user:S3cretPw@host)
check 2 "^smartcfg send: --cloud: the value (not shown) is not an http:// or https:// URL$" --ssid x --password S3cretPw $OK --cloud ftp://u:S3cretPw@x
# options only a token or a cloud uses are refused without one (they were ignored without a word)
check 2 "^smartcfg send: --access-token goes with --cloud URL" --ssid x --password S3cretPw $OK --token t1 --access-token a1
check 2 "^smartcfg send: --region goes with --token or --cloud" --ssid x --password S3cretPw $OK --region ap-guangzhou
# --count 0 and nobody answered: said so, not "0 of 0 device(s) answered; the others never acked"
out=$(timeout 10 "$B/smartcfg" send --ssid x --password-file /dev/null $OK --dest 127.0.0.1 --count 0 --timeout 0.3 2>&1); rc=$?
[ $rc = 3 ] && grep -q "timeout: no device answered (wrong password" <<<"$out" && ! grep -q "0 of 0" <<<"$out" \
  || { echo "FAIL: send --count 0, nobody: exit $rc, output: $out"; fail=1; }
# F151: datagrams that cannot be sent at all (no route to --dest: this namespace has only lo; the
# interface down, a firewall) are told at once, and a run that sent none ends 1, a local
# failure: it sent nothing for its whole --timeout, counted the failures in the JSON summary
# only, and ended 3 blaming "wrong password, device not in SmartConfig mode, or out of range"
out=$(timeout 10 "$B/smartcfg" send --ssid x --password-file /dev/null $OK --dest 10.9.9.9 --no-token --timeout 1 2>&1); rc=$?
{ [ $rc = 1 ] && [ "$(grep -c 'cannot send to 10.9.9.9:7001: Network is unreachable' <<<"$out")" = 1 ] \
  && grep -q 'timeout: no datagram could be sent (Network is unreachable), so no device could answer' <<<"$out" \
  && grep -q ' - no datagram could be sent (exit 1)$' <<<"$out" && ! grep -q 'wrong password' <<<"$out"; } \
  || { echo "FAIL: send to a network without a route: exit $rc, output: $out"; fail=1; }
out=$(timeout 10 "$B/smartcfg" send --ssid x --password-file /dev/null $OK --dest 10.9.9.9 --no-token --timeout 1 --json 2>/dev/null); rc=$?
{ [ $rc = 1 ] && grep -q '"event":"send_error".*"message":"Network is unreachable","dest":"10.9.9.9","port":7001' <<<"$out" \
  && grep -q '"event":"summary".*"exit":1' <<<"$out" \
  && python3 "$(dirname "$0")/../../scripts/json_check.py" "$(dirname "$0")/../../docs/json.md" send <(printf '%s\n' "$out") >/dev/null; } \
  || { echo "FAIL: send --json to a network without a route: exit $rc, output: $out"; fail=1; }
check 2 '^smartcfg send: --token: the value (not shown) is not 1..64 printable ASCII characters without spaces$' --ssid x --password S3cretPw $OK --token 'a b'
check 2 "^smartcfg send: --count: '-1' is not a whole number of devices in 0..32" --ssid x --password S3cretPw $OK --count -1
check 2 "^smartcfg send: --count: ' 5' is not a whole number" --ssid x --password S3cretPw $OK --count ' 5'
check 2 "^smartcfg send: --count: '+5' is not a whole number" --ssid x --password S3cretPw $OK --count +5
check 2 "^smartcfg send: --timeout: '0' is not a number of seconds above 0, at most 3600" --ssid x --password S3cretPw $OK --timeout 0
# plain decimal seconds only: strtod took 0x10 (16 s) and 1e3 (1000 s) without a word
# (on loopback and bounded by timeout(1): a build that takes them would send for 16 s / 1000 s)
for v in 0x10 1e3; do
  out=$(timeout 5 "$B/smartcfg" send --ssid x --password-file /dev/null $OK --dest 127.0.0.1 --no-token --timeout $v 2>&1); rc=$?
  [ $rc = 2 ] && grep -q "^smartcfg send: --timeout: '$v' is not a number of seconds above 0, at most 3600" <<<"$out" \
    || { echo "FAIL: send --timeout $v: exit $rc, output: $out"; fail=1; }
done
# (the help read whole first: `| grep -q` leaves at its match, and a help longer than the
# pipe's 4 KiB stdio buffer then dies of SIGPIPE on its next write, 141 under pipefail)
SEND_HELP=$("$B/smartcfg" send --help)
grep -q -- '--timeout SECONDS .*(0 < SECONDS <= 3600, e.g. 2.5; default' <<<"$SEND_HELP" || { echo "FAIL: send --help: --timeout range"; fail=1; }
grep -q -- '--count N .*(0..32, default 1' <<<"$SEND_HELP" || { echo "FAIL: send --help: --count range"; fail=1; }
check 2 'unknown option' --ssid x --password S3cretPw $OK --frobnicate
# --expect FILE: every bad line named by its number (three at most, then how many), before
# anything is sent; the file's limits; what it excludes
X=$(mktemp -d /tmp/sc_send_usage_expect.XXXXXX)
# F152: a run cut short (Ctrl-C, SIGTERM) before its devices came says what it did not get as
# "not acked before the interrupt": its summary said "never acked" of each line and "2 of 2
# expected never taken", blaming devices the run had looked for a second
printf '24:0a:c4:00:00:01 rack1\nRACKPROD01/rack2\n' > "$X/cut.txt"
"$B/smartcfg" send --ssid x --password-file /dev/null $OK --dest 127.0.0.1 --token t1 --timeout 20 --expect "$X/cut.txt" >"$X/cut.out" 2>&1 & CUT=$!
for _ in $(seq 100); do grep -q 'sending esptouch' "$X/cut.out" 2>/dev/null && break; sleep 0.1; done  # its signals are set
sleep 1; kill -INT $CUT; wait $CUT; rc=$?
{ [ $rc = 130 ] && [ "$(grep -c '^  line [12]  .* not acked before the interrupt$' "$X/cut.out")" = 2 ] \
  && grep -q ', 2 of 2 expected not taken before the interrupt - interrupted (exit 130)$' "$X/cut.out" && ! grep -q never "$X/cut.out"; } \
  || { echo "FAIL: send interrupted: exit $rc, output: $(cat "$X/cut.out")"; fail=1; }
printf '# rack\n24:0a:c4:00:00:01 rack1\n\nzz:00 rack5   # a mistyped MAC\na b c\n24:0a:c4:00:00:01\nok_name\nbad!name\n' > "$X/bad.txt"
check 2 "^smartcfg send: --expect $X/bad.txt: line 4: fields 1 and 2: two names: .*; line 5: more than two fields: MAC, NAME, or MAC NAME; line 6: the same device as line 2 (4 bad lines)$" \
  --ssid x --password-file /dev/null $OK --token t1 --expect "$X/bad.txt"
# a name is one device, with its MAC on one line or not (F91: `MAC rack1` then `rack1` ran and
# waited for a second rack1 until --timeout, exit 3 "never acked"; the old code runs here)
printf '24:0a:c4:00:00:01 rack1\nRACKPROD01/rack1\n24:0a:c4:00:00:02 RACKPROD01/rack2\n24:0a:c4:00:00:03 rack2\nRACKPROD01/rack3\n24:0a:c4:00:00:04 OTHERPROD1/rack3\n' > "$X/dupname.txt"
check 2 "^smartcfg send: --expect $X/dupname.txt: line 2: the same device as line 1; line 4: the same device as line 3$" \
  --ssid x --password-file /dev/null $OK --token t1 --timeout 1 --expect "$X/dupname.txt"
printf 'RACKPROD01/bad!name\n' > "$X/bad2.txt"
check 2 "^smartcfg send: --expect $X/bad2.txt: line 1: field 1: neither a MAC" --ssid x --password-file /dev/null $OK --token t1 --expect "$X/bad2.txt"
for i in $(seq 33); do printf '24:0a:c4:00:02:%02x\n' $i; done > "$X/33.txt"
check 2 "^smartcfg send: --expect $X/33.txt: line 33: a 33rd device: one run takes 32" --ssid x --password-file /dev/null $OK --expect "$X/33.txt"
printf '# nothing yet\n\n' > "$X/empty.txt"
check 2 "^smartcfg send: --expect $X/empty.txt: no device in it" --ssid x --password-file /dev/null $OK --expect "$X/empty.txt"
check 2 "^smartcfg send: --expect $X: cannot read it: Is a directory" --ssid x --password-file /dev/null $OK --expect "$X"
out=$(timeout 10 "$B/smartcfg" send --ssid x --password-file /dev/null $OK --expect /dev/zero 2>&1); rc=$?
[ $rc = 2 ] && grep -q "^smartcfg send: --expect /dev/zero: larger than" <<<"$out" || { echo "FAIL: --expect /dev/zero: exit $rc, $out"; fail=1; }
# a bad line is told by its number and field, never by its text: a password file given as
# --expect by mistake printed the password (F96: "line 1: 'S3cretPw!': neither a MAC ...")
printf 'S3cretPw!\n' > "$X/pw.txt"
check 2 "^smartcfg send: --expect $X/pw.txt: line 1: field 1: neither a MAC" --ssid x --password-file /dev/null $OK --token t1 --expect "$X/pw.txt"
printf 'S3cretPw and more\n' > "$X/pw2.txt"
check 2 "^smartcfg send: --expect $X/pw2.txt: line 1: more than two fields" --ssid x --password-file /dev/null $OK --token t1 --expect "$X/pw2.txt"
# F120: a password file given as --expect whose password reads as a device name (hunter2x) was
# taken as one, and the summary listed it as "never acked": the Wi-Fi password in the log. A
# line that is the password being sent (however it was given), or has it as a field, is refused
# by its number; the token, the AccessToken and the v2 device key alike. Never the text.
# (--timeout 1: the old code ran, and printed the line in its summary a second later)
printf 'hunter2x\n' > "$X/hunter.txt"
PWMSG="line 1: the Wi-Fi password being sent, not a device (the wrong file given as --expect?)"
check 2 "^smartcfg send: --expect $X/hunter.txt: $PWMSG$" --ssid x --password-file "$X/hunter.txt" $OK --token t1 --timeout 1 --expect "$X/hunter.txt"
check 2 "^smartcfg send: --expect $X/hunter.txt: $PWMSG$" --ssid x --expect "$X/hunter.txt" --password hunter2x $OK --token t1 --timeout 1
check 2 "^smartcfg send: --expect $X/hunter.txt: $PWMSG$" --ssid x --password-hex 68756e7465723278 $OK --token t1 --timeout 1 --expect "$X/hunter.txt"
# the hex form of the password, as --password-hex takes it (a file kept for it), in either
# case, alone or as a field: it read as a device name (F146; the old code ran for 1 s and listed
# the hex in its summary as never acked)
printf '68756e7465723278\n' > "$X/hunter_hex.txt"
printf '68756E7465723278\r\n' > "$X/hunter_HEX.txt"
printf '24:0a:c4:00:00:01 RACKPROD01/68756e7465723278\n24:0a:c4:00:00:02 68756E74657232\n' > "$X/hunter_hexfield.txt"
check 2 "^smartcfg send: --expect $X/hunter_hex.txt: $PWMSG$" --ssid x --password-hex 68756e7465723278 $OK --token t1 --timeout 1 --expect "$X/hunter_hex.txt"
check 2 "^smartcfg send: --expect $X/hunter_HEX.txt: $PWMSG$" --ssid x --password-hex 68756e7465723278 $OK --token t1 --timeout 1 --expect "$X/hunter_HEX.txt"
check 2 "^smartcfg send: --expect $X/hunter_hex.txt: $PWMSG$" --ssid x --password-file "$X/hunter.txt" $OK --token t1 --timeout 1 --expect "$X/hunter_hex.txt"
# (line 2: the hex of a prefix of the password is a name like any other)
check 2 "^smartcfg send: --expect $X/hunter_hexfield.txt: $PWMSG$" --ssid x --password-hex 68756E7465723278 $OK --token t1 --timeout 1 --expect "$X/hunter_hexfield.txt"
out=$("$B/smartcfg" send --ssid x --password-hex 68756e7465723278 $OK --token t1 --timeout 1 --expect "$X/hunter_hexfield.txt" 2>&1)
grep -qi '68756e74' <<<"$out" && { echo "FAIL: --expect hex form: the hex shown: $out"; fail=1; }
printf '\xef\xbb\xbfhunter2x\r\n' > "$X/hunter_crlf.txt"
check 2 "^smartcfg send: --expect $X/hunter_crlf.txt: $PWMSG$" --ssid x --password-file "$X/hunter_crlf.txt" $OK --token t1 --timeout 1 --expect "$X/hunter_crlf.txt"
printf 'hunter2x # the wifi\n' > "$X/hunter_note.txt"   # a password with a '#' and spaces: the line as read
check 2 "^smartcfg send: --expect $X/hunter_note.txt: $PWMSG$" --ssid x --password-file "$X/hunter_note.txt" $OK --token t1 --timeout 1 --expect "$X/hunter_note.txt"
printf '24:0a:c4:00:00:01 rack1\n24:0a:c4:00:00:02 hunter2x  # x\nRACKPROD01/hunter2x\n' > "$X/hunter_fields.txt"
check 2 "^smartcfg send: --expect $X/hunter_fields.txt: line 2: the Wi-Fi password being sent, not a device (the wrong file given as --expect?); line 3: the Wi-Fi" \
  --ssid x --password hunter2x $OK --token t1 --timeout 1 --expect "$X/hunter_fields.txt"
printf '0123456789abcdef0123456789abcdef\n' > "$X/token.txt"
check 2 "^smartcfg send: --expect $X/token.txt: line 1: the --token value, not a device" --ssid x --password-file /dev/null $OK --token 0123456789abcdef0123456789abcdef --timeout 1 --expect "$X/token.txt"
printf 'K3y-0f-the-dev1c\n' > "$X/key.txt"
check 2 "^smartcfg send: --expect $X/key.txt: line 1: the --aes-key value, not a device" --ssid x --password S3cretPw $OK --protocol v2 --aes-key K3y-0f-the-dev1c --token t1 --timeout 1 --expect "$X/key.txt"
out=$(SC_ACCESS_TOKEN=AccessTok3n "$B/smartcfg" send --ssid x --password-file /dev/null $OK --cloud http://127.0.0.1:9 --timeout 1 --expect <(echo AccessTok3n) 2>&1); rc=$?
{ [ $rc = 2 ] && grep -q "line 1: the AccessToken, not a device" <<<"$out" && ! grep -q AccessTok3n <<<"$out"; } || { echo "FAIL: --expect naming \$SC_ACCESS_TOKEN: exit $rc, $out"; fail=1; }
# Another network's secrets given as --expect (docs/send.md, *What a line may be*): the files
# that hold a password beside other text are refused by line and field, and nothing of them is
# shown (the password AnotherNet0 is made of a name's characters: a one-line file of it alone
# reads as a device name, the limit those docs give)
printf 'network={\n\tssid="lab2"\n\tpsk="AnotherNet0"\n}\n' > "$X/wpa_supplicant.conf"
printf '[wifi]\nssid=lab2\n\n[wifi-security]\nkey-mgmt=wpa-psk\npsk=AnotherNet0\n' > "$X/lab2.nmconnection"
printf 'AnotherNet0\nlogin: qa\nurl: https://ap.lab2\n' > "$X/pass_show.txt"
printf 'WIFI_SSID=lab2\nWIFI_PASSWORD=AnotherNet0\n' > "$X/lab2.env"
for f in wpa_supplicant.conf lab2.nmconnection pass_show.txt lab2.env; do
  o=$("$B/smartcfg" send --ssid x --password S3cretPw $OK --token t1 --timeout 1 --expect "$X/$f" 2>&1); rc=$?
  { [ $rc = 2 ] && grep -q "^smartcfg send: --expect $X/$f: line [0-9]*: " <<<"$o" && ! grep -q 'AnotherNet0\|lab2"' <<<"$o"; } \
    || { echo "FAIL: --expect $f (another network's secrets): exit $rc, $o"; fail=1; }
done
# a name that is no secret of the run stays a name (the same file, another password): read
# with the secrets and taken, so the next check, a name without a MAC and no --token, is what
# stops the run
check 2 "^smartcfg send: --expect $X/hunter.txt: line 1 names a device without its MAC" --ssid x --password S3cretPw $OK --timeout 1 --expect "$X/hunter.txt"
check 2 "(the run waits for the 1 device of $X/hunter.txt)" --ssid x --password S3cretPw $OK --token t1 --timeout 1 --expect "$X/hunter.txt" --count 1
# F150: --expect - reads stdin, as --password-file - does (the re-run's list piped in: `jq …
# rack7.jsonl | smartcfg send … --expect -`); it was a file named "-": "No such file or
# directory". Checked against the password like a file; with --password-file - too: refused
o=$(printf '24:0a:c4:00:00:01 rack1\n24:0a:c4:00:00:02\n' | "$B/smartcfg" send --ssid x --password-file /dev/null $OK --token t1 --expect - --count 2 2>&1); rc=$?
{ [ $rc = 2 ] && grep -q "^smartcfg send: --expect and --count exclude each other (the run waits for the 2 devices of the list on stdin)" <<<"$o"; } \
  || { echo "FAIL: --expect - (stdin): exit $rc, $o"; fail=1; }
o=$(printf 'hunter2x\n' | "$B/smartcfg" send --ssid x --password hunter2x $OK --token t1 --timeout 1 --expect - 2>&1); rc=$?
{ [ $rc = 2 ] && grep -q "^smartcfg send: --expect -: $PWMSG$" <<<"$o"; } || { echo "FAIL: --expect - naming the password: exit $rc, $o"; fail=1; }
o=$(printf 'hunter2x\n' | "$B/smartcfg" send --ssid x --password-file - $OK --token t1 --timeout 1 --expect - 2>&1); rc=$?
{ [ $rc = 2 ] && grep -q "^smartcfg send: --expect - and --password-file - both read stdin" <<<"$o"; } || { echo "FAIL: --expect - with --password-file -: exit $rc, $o"; fail=1; }
# a file written on Windows (a byte order mark, CRLF) and one without its last newline: read
printf '\xef\xbb\xbf24:0a:c4:00:00:01 rack1\r\n24:0a:c4:00:00:02\r\n' > "$X/crlf.txt"
check 2 "^smartcfg send: --expect and --count exclude each other (the run waits for the 2 devices of $X/crlf.txt)" \
  --ssid x --password-file /dev/null $OK --token t1 --expect "$X/crlf.txt" --count 2
printf '24:0a:c4:00:00:01\n24:0a:c4:00:00:02' > "$X/nonl.txt"
check 2 "(the run waits for the 2 devices of $X/nonl.txt)" --ssid x --password-file /dev/null $OK --token t1 --expect "$X/nonl.txt" --count 2
# no read permission, a dangling symlink: the error, nothing else (as root, mode 000 still reads)
printf '24:0a:c4:00:00:01\n' > "$X/noperm.txt"; chmod 000 "$X/noperm.txt"
ln -s "$X/nosuch.txt" "$X/dangling.txt"
check 2 "^smartcfg send: --expect $X/dangling.txt: cannot read it: No such file or directory" --ssid x --password-file /dev/null $OK --expect "$X/dangling.txt"
if [ "$(id -u)" != 0 ]; then
  check 2 "^smartcfg send: --expect $X/noperm.txt: cannot read it: Permission denied" --ssid x --password-file /dev/null $OK --expect "$X/noperm.txt"
fi
# a FIFO nothing writes to (a mkfifo left behind): --expect and --password-file waited for ever
# (F95); now 10 s (SC_CLI_INPUT_WAIT_S) for a writer and the data's end, then a usage error
# naming the file. Both at once, bounded by timeout(1): the old code is killed, exit 124.
# (in the background, checked at the end: the checks below go on meanwhile)
F=$(mktemp -d /tmp/sc_send_usage_fifo.XXXXXX)
mkfifo "$F/fifo1" "$F/fifo2" "$F/fifo3"
FIFO_T0=$(date +%s)
timeout 40 "$B/smartcfg" send --ssid x --password-file /dev/null $OK --expect "$F/fifo1" >"$F/f1.out" 2>&1 & F1=$!
timeout 40 "$B/smartcfg" send --ssid x --password-file "$F/fifo2" $OK --token t1 >"$F/f2.out" 2>&1 & F2=$!
# F122: --input-wait SECONDS: a secret manager that asks for its passphrase (pinentry) takes
# longer than 10 s: the writer comes after 12 s, within --input-wait 30, given after the file
# (the files are read once every option is known)
mkfifo "$F/fifo4" "$F/fifo5"
timeout 60 "$B/smartcfg" send --ssid x --password-file "$F/fifo4" $OK --dest 127.0.0.1 --no-token --timeout 0.3 \
  --input-wait 30 >"$F/f4.out" 2>&1 & F4=$!
( sleep 12; printf 'S3cretPw\n' > "$F/fifo4" ) & W4=$!   # (killed at the end if no reader came)
# ... and a short one ends sooner, naming its time
t4=$(date +%s%N)
check 2 "^smartcfg send: --password-file: cannot read '$F/fifo5': nothing wrote it to its end within 1 s (.* or a longer --input-wait SECONDS)" \
  --ssid x --password-file "$F/fifo5" --input-wait 1 $OK
ms=$(( ($(date +%s%N) - t4) / 1000000 )); [ $ms -lt 5000 ] || { echo "FAIL: --input-wait 1: ended after $ms ms"; fail=1; }
# F165: Ctrl-C (SIGINT) while a FIFO given as --password-file or --expect is waited on (up to
# --input-wait) ends the run at once, as the signal does (the terminal's modes are not touched
# there; nothing is left behind). SIGINT put back to its default first: a job a script starts
# with & has it ignored.
mkfifo "$F/fifo6" "$F/fifo7"
for args in "--password-file $F/fifo6" "--password-file /dev/null --expect $F/fifo7"; do
  fifo=${args##* }
  python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
    "$B/smartcfg" send --ssid x $args $OK --token t1 --input-wait 60 >"$F/int.out" 2>&1 & IP=$!
  for _ in $(seq 100); do ls -l "/proc/$IP/fd" 2>/dev/null | grep -qF -- "-> $fifo" && break; sleep 0.1; done
  ls -l "/proc/$IP/fd" 2>/dev/null | grep -qF -- "-> $fifo" || { echo "FAIL: send $args: never opened its FIFO"; fail=1; }
  t0=$(date +%s%N); kill -INT "$IP"; wait "$IP"; rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ $rc -eq 130 ] && [ $ms -lt 3000 ] || { echo "FAIL: send $args: SIGINT while waiting on the FIFO: exit $rc after $ms ms: $(cat "$F/int.out")"; fail=1; }
done
# F170: SIGQUIT (Ctrl-\) while the FIFO is waited on dumped core, and the core held what the
# process had taken (the --aes-key given: found in it). The process is now not dumpable from its
# start: no core whatever the core limit, and its /proc files are root's (the kernel's mark of a
# process that is not dumpable, whatever core_pattern says). Run as another user when root (as
# root, /proc is root's either way); SIGQUIT put back to its default (a job started with & has it
# ignored).
Q=$(mktemp -d /tmp/sc_send_quit.XXXXXX); chmod 777 "$Q"; mkfifo -m 666 "$Q/pw"
# a copy the other user can reach: the build tree may sit under a directory only root enters
# (a clone in a 0700 mktemp directory, a CI runner's home); it needs no library of the tree
cp "$B/smartcfg" "$Q/smartcfg"
RUNAS=(); [ "$(id -u)" = 0 ] && RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
( cd "$Q" && ulimit -c unlimited && exec "${RUNAS[@]}" env --default-signal=QUIT "$Q/smartcfg" send --ssid x \
    --protocol v2 --aes-key K3y-0f-the-dev1c --password-file "$Q/pw" $OK --token t1 --input-wait 60 ) >"$Q/out" 2>&1 & QP=$!
for _ in $(seq 100); do ls -l "/proc/$QP/fd" 2>/dev/null | grep -qF -- "-> $Q/pw" && break; sleep 0.1; done
owner=$(stat -c %u "/proc/$QP/status" 2>/dev/null)
kill -QUIT "$QP"; wait "$QP"; rc=$?
{ [ "$owner" = 0 ] && [ $rc = 131 ] && ! ls "$Q" | grep -q '^core'; } \
  || { echo "FAIL: SIGQUIT at --password-file FIFO: /proc owner '$owner' (want 0: not dumpable), exit $rc, files: $(ls "$Q"), key in a core: $(grep -l K3y-0f-the-dev1c "$Q"/core* 2>/dev/null)"; fail=1; }
rm -rf "$Q"
# F185: the secrets' variables were unset once read, but unsetenv() only takes the entry out
# of environ[]: the value stayed where exec put it, and /proc/PID/environ showed it for the whole
# run. They are now wiped there at the start, before a FIFO is waited on.
mkfifo "$F/fifo8"
SMARTCFG_AES_KEY=K3y-0f-the-dev1c SC_ACCESS_TOKEN=AcCeSs-T0ken-123 SC_CLOUD_PASSWORD=Cl0ud-PW-456 \
  "$B/smartcfg" send --ssid x --protocol v2 --password-file "$F/fifo8" $OK --token t1 --input-wait 60 \
  >"$F/env.out" 2>&1 & EP=$!   # its own pid (no timeout(1) between: that one's environ has them)
for _ in $(seq 100); do ls -l "/proc/$EP/fd" 2>/dev/null | grep -qF -- "-> $F/fifo8" && break; sleep 0.1; done
penv=$(tr '\0' '\n' < "/proc/$EP/environ") || { echo "FAIL: send with its FIFO: /proc/$EP/environ unreadable"; fail=1; }
ls -l "/proc/$EP/fd" 2>/dev/null | grep -qF -- "-> $F/fifo8" || { echo "FAIL: send never opened its FIFO"; fail=1; }
for v in K3y-0f-the-dev1c AcCeSs-T0ken-123 Cl0ud-PW-456; do
  grep -qF -- "$v" <<<"$penv" && { echo "FAIL: /proc/PID/environ of send shows a secret variable's value: $(grep -o -e "^SMARTCFG_AES_KEY=" -e "^SC_[A-Z_]*=" <<<"$penv" | tr "\n" " ")"; fail=1; }
done
grep -q '^SMARTCFG_AES_KEY=$' <<<"$penv" || { echo "FAIL: send's environ: SMARTCFG_AES_KEY not found wiped (the check above proves nothing)"; fail=1; }
kill "$EP" 2>/dev/null; wait "$EP" 2>/dev/null
for v in 0 3601 1.5 +5 abc ''; do
  check 2 "^smartcfg send: --input-wait: '$v' is not a whole number of seconds in 1..3600$" --ssid x --password S3cretPw $OK --input-wait "$v"
done
"$B/smartcfg" send --help | grep -A1 -- '^  --input-wait SECONDS' | grep -q '(1..3600, default 10' || { echo "FAIL: send --help: --input-wait"; fail=1; }
# a FIFO with a writer, late (2 s) but within the bound: read as a file is
( sleep 2; timeout 30 sh -c "printf '24:0a:c4:00:00:01\\n24:0a:c4:00:00:02\\n' > \"\$0\"" "$F/fifo3" ) &   # (timeout: no writer left behind if send never opens it)
check 2 "(the run waits for the 2 devices of $F/fifo3)" --ssid x --password-file /dev/null $OK --token t1 --expect "$F/fifo3" --count 2
printf '24:0a:c4:00:00:01\nRACKPROD01/rack2\n' > "$X/named.txt"
check 2 "^smartcfg send: --expect and --count exclude each other (the run waits for the 2 devices of $X/named.txt)" \
  --ssid x --password-file /dev/null $OK --token t1 --expect "$X/named.txt" --count 2
check 2 "^smartcfg send: --expect $X/named.txt: line 2 names a device without its MAC: without --token or --cloud" \
  --ssid x --password-file /dev/null $OK --expect "$X/named.txt"
check 2 "^smartcfg send: --linger: '61' is not a number of seconds in 0..60" --ssid x --password S3cretPw $OK --linger 61
check 2 "^smartcfg send: --linger: '1e1' is not a number of seconds in 0..60" --ssid x --password S3cretPw $OK --linger 1e1
rm -rf "$X"
# the v2 options, checked alike by send and air (cli.c, sc_cli_v2_options)
check 2 'are ESP-TOUCH v2 options' --ssid x --password S3cretPw $OK --reserved ab
check 2 'random-iv needs --aes-key' --ssid x --password S3cretPw $OK --protocol v2 --random-iv
check 2 'is not UTF-8' --ssid x --password-hex ff41 $OK --protocol v2 --aes-key 1234567890123456
check 0 'usage: smartcfg send' --help
check 0 'usage: smartcfg send' -h
check 0 '^smartcfg send [0-9]' --version
check 2 '^smartcfg send: --ssid needs a value' --password S3cretPw $OK --ssid
check 2 '^smartcfg send: --json takes no value' --json=yes
check 2 "^smartcfg send: unknown option '--frobnicate'" --frobnicate

# help ends with examples
"$B/smartcfg" send --help | tail -n 4 | grep -q '^  smartcfg send ' || { echo "FAIL: send --help does not end with examples"; fail=1; }
"$B/smartcfg" --help | tail -n 4 | grep -q '^  smartcfg ' || { echo "FAIL: smartcfg --help does not end with examples"; fail=1; }
# the top level: same convention
top() { # want_rc pattern args...
  local want=$1 pat=$2; shift 2
  out=$("$B/smartcfg" "$@" 2>&1); rc=$?
  if [ $rc -ne "$want" ] || ! grep -q -- "$pat" <<<"$out"; then
    echo "FAIL: smartcfg $*: exit $rc (want $want), output: $out (want /$pat/)"; fail=1
  fi
}
top 2 '^smartcfg: which command'
top 2 "^smartcfg: unknown command 'frob'" frob
top 0 '^smartcfg [0-9]' --version
top 0 'usage: smartcfg <command>' -h
top 0 'usage: smartcfg send' help send
for c in send device decode air cloud; do top 0 "^smartcfg $c [0-9]" $c --version; done

# --json: the usage error is one JSON line on stdout (stderr keeps the text)
out=$("$B/smartcfg" send --json --ssid x --password S3cretPw $OK --count 99 2>/dev/null); rc=$?
python3 - "$out" "$rc" <<'PY' || fail=1
import json, sys
out, rc = sys.argv[1], int(sys.argv[2])
lines = out.splitlines()
assert rc == 2, "exit %d" % rc
assert len(lines) == 1, "want one JSON line, got %r" % out
e = json.loads(lines[0])
assert e["event"] == "usage_error" and e["exit"] == 2 and "--count" in e["message"], e
assert e["command"] == "smartcfg send", e
PY
out=$("$B/smartcfg" nosuch --json 2>/dev/null)
grep -q '"event":"usage_error"' <<<"$out" || { echo "FAIL: smartcfg nosuch --json: $out"; fail=1; }

# a password on the command line: warned about; from a file or empty (open network): not
warned() { local o; o=$("$B/smartcfg" send "$@" $OK --count -1 2>&1); grep -q 'password on the command line is visible' <<<"$o"; }
warned --ssid x --password S3cretPw || { echo "FAIL: no warning for --password"; fail=1; }
warned --ssid x --password-hex 5333637265745077 || { echo "FAIL: no warning for --password-hex"; fail=1; }
T=$(mktemp -d /tmp/sc_send_usage.XXXXXX); trap 'rm -rf "$T"' EXIT
printf 'S3cretPw\n' >"$T/pw"
warned --ssid x --password-file "$T/pw" && { echo "FAIL: warning for --password-file"; fail=1; }
warned --ssid x --password '' && { echo "FAIL: warning for an open network"; fail=1; }
# F149: the AccessToken (the app user's login to the token API) on the command line: warned
# about as the password is, with the way that keeps it out of argv; from $SC_ACCESS_TOKEN not
o=$("$B/smartcfg" send --ssid x --password-file "$T/pw" --cloud http://127.0.0.1:9 --access-token AccessTok3n $OK --count -1 2>&1)
grep -q 'warning: an AccessToken on the command line is visible to other users (use \$SC_ACCESS_TOKEN)' <<<"$o" \
  && ! grep -q AccessTok3n <<<"$o" || { echo "FAIL: no warning for --access-token: $o"; fail=1; }
o=$(SC_ACCESS_TOKEN=AccessTok3n "$B/smartcfg" send --ssid x --password-file "$T/pw" --cloud http://127.0.0.1:9 $OK --count -1 2>&1)
grep -q 'AccessToken on the command line' <<<"$o" && { echo "FAIL: warning for \$SC_ACCESS_TOKEN: $o"; fail=1; }
# F169: the ESP-TOUCH v2 device key and the bind token on the command line: warned about as the
# password is (they were blanked in argv without a word), once however often given, naming the
# way that keeps them out of argv; never shown. $SMARTCFG_AES_KEY and --token-file: no warning.
KEY2='K3y-0f-the-dev1c'
o=$("$B/smartcfg" send --ssid x --password-file "$T/pw" --protocol v2 --aes-key "$KEY2" --aes-key "$KEY2" \
  --token tok3nS3cret --token tok3nS3cret $OK --count -1 2>&1)
{ [ "$(grep -c '^smartcfg send: warning: a device key on the command line is visible to other users (use \$SMARTCFG_AES_KEY)$' <<<"$o")" = 1 ] \
  && [ "$(grep -c '^smartcfg send: warning: a bind token on the command line is visible to other users (use --token-file FILE, or --token-file - to pipe it in)$' <<<"$o")" = 1 ] \
  && ! grep -qF -e "$KEY2" -e tok3nS3cret <<<"$o"; } || { echo "FAIL: --aes-key/--token warnings: $o"; fail=1; }
# ... with --json too: the warning is a stderr line, stdout stays JSON lines
o=$("$B/smartcfg" send --json --ssid x --password-file "$T/pw" --token tok3nS3cret $OK --count -1 2>/dev/null)
{ grep -q '"event":"usage_error"' <<<"$o" && ! grep -q 'warning\|tok3nS3cret' <<<"$o"; } || { echo "FAIL: --token warning with --json: $o"; fail=1; }
# $SMARTCFG_AES_KEY is the key (the --expect file naming it is refused as the --aes-key's
# value), without a warning; a v1 run ignores it; a bad one is refused, not shown
printf '%s\n' "$KEY2" >"$T/key.txt"
o=$(SMARTCFG_AES_KEY=$KEY2 "$B/smartcfg" send --ssid x --password-file "$T/pw" --protocol v2 --random-iv $OK --token t1 --timeout 1 --expect "$T/key.txt" 2>&1); rc=$?
{ [ $rc = 2 ] && grep -q "line 1: the --aes-key value, not a device" <<<"$o" && ! grep -q 'device key on the command line' <<<"$o" \
  && ! grep -qF "$KEY2" <<<"$o"; } || { echo "FAIL: \$SMARTCFG_AES_KEY not taken: exit $rc: $o"; fail=1; }
o=$(SMARTCFG_AES_KEY=$KEY2 "$B/smartcfg" send --ssid x --password-file "$T/pw" $OK --token t1 --timeout 1 --expect "$T/key.txt" 2>&1); rc=$?
{ [ $rc = 3 ] && ! grep -q "the --aes-key value\|v2 options" <<<"$o"; } || { echo "FAIL: \$SMARTCFG_AES_KEY taken for v1: exit $rc: $o"; fail=1; }
o=$(SMARTCFG_AES_KEY=S3cretPwShort "$B/smartcfg" send --ssid x --password-file "$T/pw" --protocol v2 $OK 2>&1); rc=$?
{ [ $rc = 2 ] && grep -q '^smartcfg send: \$SMARTCFG_AES_KEY: the value (not shown) is not 16 characters$' <<<"$o" && ! grep -q S3cretPwShort <<<"$o"; } \
  || { echo "FAIL: a bad \$SMARTCFG_AES_KEY: exit $rc: $o"; fail=1; }
# --token-file FILE: the token on its one line (a byte order mark, CRLF), as the password file;
# refused when it holds no token, given with --token, or read from stdin beside the password
printf '\357\273\277tok3nS3cret\r\n' >"$T/tok"; printf 'tok3nS3cret\n' >"$T/tok_exp"
o=$("$B/smartcfg" send --ssid x --password-file "$T/pw" --token-file "$T/tok" $OK --timeout 1 --expect "$T/tok_exp" 2>&1); rc=$?
{ [ $rc = 2 ] && grep -q "line 1: the --token value, not a device" <<<"$o" && ! grep -q 'warning' <<<"$o" && ! grep -q tok3nS3cret <<<"$o"; } \
  || { echo "FAIL: --token-file not taken: exit $rc: $o"; fail=1; }
check 2 '^smartcfg send: give the token once (--token or --token-file)$' --ssid x --password-file "$T/pw" --token-file "$T/tok" --token t1 $OK
check 2 '^smartcfg send: give the token once (--token or --token-file)$' --ssid x --password-file "$T/pw" --token t1 --token-file "$T/tok" $OK
check 2 'exclude each other' --ssid x --password-file "$T/pw" --token-file "$T/tok" --cloud http://127.0.0.1:9 $OK
: >"$T/tok_empty"; printf 'S3cretPw x\n' >"$T/tok_space"
check 2 "^smartcfg send: --token-file: '$T/tok_empty' holds no token: want one line of 1..64 printable ASCII characters" --ssid x --password-file "$T/pw" --token-file "$T/tok_empty" $OK
check 2 "^smartcfg send: --token-file: '$T/tok_space' holds no token: want one line" --ssid x --password-file "$T/pw" --token-file "$T/tok_space" $OK
check 2 "^smartcfg send: --token-file: cannot read '$T/nosuch'" --ssid x --password-file "$T/pw" --token-file "$T/nosuch" $OK
o=$(printf 'x\n' | "$B/smartcfg" send --ssid x --password-file - --token-file - $OK 2>&1); rc=$?
{ [ $rc = 2 ] && grep -q -- '--token-file - and --password-file - both read stdin' <<<"$o"; } || { echo "FAIL: --token-file - beside --password-file -: exit $rc: $o"; fail=1; }
o=$(printf 'tok3nS3cret\n' | "$B/smartcfg" send --ssid x --password-file "$T/pw" --token-file - $OK --timeout 1 --expect "$T/tok_exp" 2>&1); rc=$?
{ [ $rc = 2 ] && grep -q "line 1: the --token value, not a device" <<<"$o"; } || { echo "FAIL: --token-file -: exit $rc: $o"; fail=1; }
# F172: a password in the --cloud URL (libcurl sends it as HTTP Basic authentication, to a proxy in
# front of the token API): warned about once, never shown; http://USER@ takes it from
# $SC_CLOUD_PASSWORD (percent-encoded: '@', ':' and '/' in it). A server on loopback tells the
# Authorization header each request brought.
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        with open(sys.argv[1], "a") as f:
            f.write("auth=%s%s\n" % (self.headers.get("Authorization"), "" if len(self.path) < 600 else " path=" + self.path))
        self.send_response(500); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()' "$T/auth" >"$T/auth_port" & AUTHP=$!
for _ in $(seq 100); do [ -s "$T/auth_port" ] && break; sleep 0.1; done
AP=$(cat "$T/auth_port")
o=$(SC_CLOUD_PASSWORD='Cl0ud@S3c:r/t' timeout 20 "$B/smartcfg" send --ssid x --password-file "$T/pw" $OK --dest 127.0.0.1 \
  --cloud "http://cl0uduser@127.0.0.1:$AP" --timeout 2 2>&1)
{ grep -qx "auth=Basic $(printf 'cl0uduser:Cl0ud@S3c:r/t' | base64)" "$T/auth" && ! grep -q 'warning\|Cl0ud@' <<<"$o"; } \
  || { echo "FAIL: --cloud with \$SC_CLOUD_PASSWORD: $(cat "$T/auth"): $o"; fail=1; }
: >"$T/auth"
o=$(timeout 20 "$B/smartcfg" send --ssid x --password-file "$T/pw" $OK --dest 127.0.0.1 --cloud "http://cl0uduser:Cl0udS3cret@127.0.0.1:$AP" \
  --cloud "http://cl0uduser:Cl0udS3cret@127.0.0.1:$AP" --timeout 2 2>&1)
{ grep -qx "auth=Basic $(printf 'cl0uduser:Cl0udS3cret' | base64)" "$T/auth" \
  && [ "$(grep -c '^smartcfg send: warning: a password in the --cloud URL on the command line is visible to other users (use http://USER@... and \$SC_CLOUD_PASSWORD)$' <<<"$o")" = 1 ] \
  && ! grep -q Cl0udS3cret <<<"$o"; } || { echo "FAIL: --cloud URL with a password: $(cat "$T/auth"): $o"; fail=1; }
: >"$T/auth"
# F182: an '@' in the URL's path is no user part: http://USER@HOST:PORT/api@v2 took "PORT/api" for
# a password (a warning for none, the port blanked in argv) and the variable's password was not
# sent; without a port it went into the path, to the server's request line
o=$(SC_CLOUD_PASSWORD='Cl0udEnvPw' timeout 20 "$B/smartcfg" send --ssid x --password-file "$T/pw" $OK --dest 127.0.0.1 \
  --cloud "http://cl0uduser@127.0.0.1:$AP/api@v2" --timeout 2 2>&1)
{ grep -qx "auth=Basic $(printf 'cl0uduser:Cl0udEnvPw' | base64)" "$T/auth" && ! grep -q 'warning' <<<"$o"; } \
  || { echo "FAIL: --cloud with an '@' in its path and \$SC_CLOUD_PASSWORD: $(cat "$T/auth"): $o"; fail=1; }
: >"$T/auth"
# F184: --cloud takes a URL of up to 1023 characters (F172), but the request's URL was cut at 511:
# a long base lost its "/tokenapi?cmd=..." and the request went elsewhere, said as a plain HTTP 500
LONGP=$(printf 'p%.0s' $(seq 700))
"$B/smartcfg" send --ssid x --password-file "$T/pw" $OK --dest 127.0.0.1 --cloud "http://127.0.0.1:$AP/$LONGP" --timeout 1 >/dev/null 2>&1
grep -q "^auth=None path=/$LONGP/tokenapi?cmd=AppCreateDeviceBindToken\$" "$T/auth" \
  || { echo "FAIL: --cloud with a 700-character path: $(cut -c1-80 "$T/auth")"; fail=1; }
kill "$AUTHP" 2>/dev/null; wait "$AUTHP" 2>/dev/null
# a password file that opens but cannot be read (a directory: EISDIR) was an empty password,
# and send provisioned an open network (security F64): now a usage error, nothing sent
mkdir -p "$T/pw.d"
o=$("$B/smartcfg" send --ssid x --password-file "$T/pw.d" $OK --dest 127.0.0.1 --no-token --timeout 1 --json 2>&1); rc=$?
{ [ "$rc" = 2 ] && grep -q -- "--password-file: cannot read '$T/pw.d': Is a directory" <<<"$o" && ! grep -q '"event":"sending"' <<<"$o"; } \
    || { echo "FAIL: --password-file DIR: exit $rc: $o"; fail=1; }

# the password file: its one line, as an editor writes it (CRLF, a byte order mark: Notepad);
# what it is told by its length on the sending line, never shown
pwlen() { # file -> the "password N bytes" of the sending line (or the error)
  timeout 20 "$B/smartcfg" send --ssid x --password-file "$1" $OK --dest 127.0.0.1 --no-token --timeout 0.3 2>&1 \
    | grep -o 'password [0-9]* bytes\|^smartcfg send: .*'
}
printf 'S3cretPw\r\n' >"$T/crlf"; printf '\xef\xbb\xbfS3cretPw\r\n' >"$T/bom"; printf 'S3cretPw' >"$T/nonl"
for f in crlf bom nonl; do
  o=$(pwlen "$T/$f"); [ "$o" = "password 8 bytes" ] || { echo "FAIL: --password-file ($f): $o (want password 8 bytes)"; fail=1; }
done
# a second line (`pass show` prints notes after the password) was sent as part of the password
# (F97: "password 24 bytes"); now a usage error, nothing shown
printf 'S3cretPw\nurl: http://x\n' >"$T/two"
o=$(pwlen "$T/two")
[ "$o" = "smartcfg send: --password-file: '$T/two' holds more than one line: the password goes on the first and only line (\`pass show NAME | head -n 1\`)" ] \
  || { echo "FAIL: --password-file of two lines: $o"; fail=1; }
# F112: a NUL byte is no text: a file saved as UTF-16 (FF FE, a zero after each letter) was sent
# as a password of 18 bytes; refused now, nothing of it shown
printf '\xff\xfeS\x003\x00c\x00r\x00e\x00t\x00P\x00w\x00' >"$T/utf16"
printf 'S3cr\x00etPw\n' >"$T/nul"
for f in utf16 nul; do
  o=$(pwlen "$T/$f")
  [ "$o" = "smartcfg send: --password-file: '$T/$f' holds a NUL byte: no text file (UTF-16? save it as UTF-8); a password of any bytes is --password-hex" ] \
    || { echo "FAIL: --password-file with a NUL byte ($f): $o"; fail=1; }
done
# a command that failed (`<(pass show nosuch)`, `false | ... -`) writes nothing: that was an open
# network sent to every device (F97); a usage error now.
for how in subst pipe; do
  if [ $how = subst ]; then o=$(pwlen <(false)); else o=$(false | pwlen -); fi
  grep -q "^smartcfg send: --password-file: '.*' gave nothing (did the command writing it fail?); an open network is --password ''" <<<"$o" \
    || { echo "FAIL: --password-file from a command that wrote nothing ($how): $o"; fail=1; }
done
# F121: a file that holds no password (empty: `touch`, `printf %s "$UNSET"`; one empty line:
# `echo "$UNSET"`; blank lines; spaces or tabs: `echo "$A $B"`) was an open network sent to
# every device; refused now, nothing shown. An open network is said on purpose: --password ''
# or --password-file /dev/null (which cannot be filled by accident).
: >"$T/empty"
o=$(pwlen "$T/empty")
[ "$o" = "smartcfg send: --password-file: '$T/empty' is empty: no password (a file not filled yet?); an open network is --password '' (or --password-file /dev/null)" ] \
  || { echo "FAIL: --password-file of an empty file: $o"; fail=1; }
printf '\n' >"$T/nl"; printf '\n\n\r\n' >"$T/nls"; printf ' \t \n' >"$T/sp"; printf '\xef\xbb\xbf\r\n' >"$T/bomnl"
for f in nl nls sp bomnl; do
  o=$(pwlen "$T/$f")
  [ "$o" = "smartcfg send: --password-file: '$T/$f' holds no password, only blank lines, spaces or tabs; an open network is --password '' (a password of spaces: --password-hex)" ] \
    || { echo "FAIL: --password-file of blanks ($f): $o"; fail=1; }
done
o=$(echo | pwlen -)
grep -q "^smartcfg send: --password-file: '-' holds no password, only blank lines" <<<"$o" || { echo "FAIL: --password-file - of one empty line: $o"; fail=1; }
[ "$(pwlen /dev/null)" = "password 0 bytes" ] || { echo "FAIL: --password-file /dev/null: $(pwlen /dev/null)"; fail=1; }
# F128: /dev/null by way of stdin is no choice: a service's stdin (systemd's default), `ssh -n`,
# `</dev/null`; `--password-file -` there meant a pipe that is not there (an open network was
# sent); nor a link to it. /dev/null named as such stays an open network (above).
ln -s /dev/null "$T/nulllink"
for f in - /dev/stdin /proc/self/fd/0 "$T/nulllink"; do
  o=$(pwlen "$f" </dev/null)
  [ "$o" = "smartcfg send: --password-file: '$f' reads /dev/null through stdin or a link (a service's stdin, \`ssh -n\`, \`</dev/null\`): no password; an open network is --password '' or --password-file /dev/null named as such" ] \
    || { echo "FAIL: --password-file $f from /dev/null: $o"; fail=1; }
done
[ "$(pwlen /dev/null </dev/null)" = "password 0 bytes" ] || { echo "FAIL: --password-file /dev/null, stdin /dev/null"; fail=1; }
[ "$(echo S3cretPw | pwlen -)" = "password 8 bytes" ] || { echo "FAIL: --password-file - from a pipe"; fail=1; }
o=$(timeout 20 "$B/smartcfg" send --ssid x --password '' $OK --dest 127.0.0.1 --no-token --timeout 0.3 2>&1 | grep -o 'password [0-9]* bytes')
[ "$o" = "password 0 bytes" ] || { echo "FAIL: --password '': $o"; fail=1; }
printf ' S3cretPw\t\n' >"$T/padded"   # blanks around a password stay part of it, as before
[ "$(pwlen "$T/padded")" = "password 10 bytes" ] || { echo "FAIL: --password-file with blanks around: $(pwlen "$T/padded")"; fail=1; }
o=$(pwlen /dev/zero)
grep -q "^smartcfg send: --password-file: '/dev/zero' is larger than 256 bytes" <<<"$o" || { echo "FAIL: --password-file /dev/zero: $o"; fail=1; }
# --password-file - on a terminal: a prompt, echo off (the typed password never comes back),
# and the password is taken: an --expect file naming it is refused (F120; the files are read
# once the options are known, so a bad option is told before the prompt); Enter alone is no
# open network (F121)
printf 'S3cretPw\n' >"$T/typed.txt"
# F164: a signal that lands between the prompt's check of its flags and its wait for the line. A
# shim sends the process a SIGINT from inside the first call that waits on the terminal (read,
# or pselect/ppoll/poll naming stdin), before the call itself: that is the window, made wide.
# The old code's read() then waited with the Ctrl-C noted, until the next key.
cat >"$T/sigwin.c" <<'C'
/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/select.h>
#include <unistd.h>
static int fired;
static void fire(int fd)
{
    if (fired || fd != 0 || !isatty(0))
        return;
    fired = 1;
    const char *mark = getenv("SIGWIN_MARK");
    int m = mark ? open(mark, O_WRONLY | O_CREAT, 0600) : -1;
    if (m >= 0)
        close(m);
    kill(getpid(), SIGINT);
}
ssize_t read(int fd, void *b, size_t n)
{
    fire(fd);
    return ((ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read"))(fd, b, n);
}
ssize_t __read_chk(int fd, void *b, size_t n, size_t cap)
{
    fire(fd);
    return ((ssize_t (*)(int, void *, size_t, size_t))dlsym(RTLD_NEXT, "__read_chk"))(fd, b, n, cap);
}
int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *m)
{
    if (r && n > 0 && FD_ISSET(0, r))
        fire(0);
    return ((int (*)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))dlsym(
        RTLD_NEXT, "pselect"))(n, r, w, e, t, m);
}
int ppoll(struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *m)
{
    for (nfds_t i = 0; i < n; i++)
        fire(p[i].fd);
    return ((int (*)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))dlsym(RTLD_NEXT, "ppoll"))(
        p, n, t, m);
}
int poll(struct pollfd *p, nfds_t n, int t)
{
    for (nfds_t i = 0; i < n; i++)
        fire(p[i].fd);
    return ((int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll"))(p, n, t);
}
C
cc -shared -fPIC -o "$T/sigwin.so" "$T/sigwin.c" -ldl || { echo "FAIL: the signal window shim did not build"; fail=1; }
python3 - "$B/smartcfg" "$T/typed.txt" "$T/sigwin.so" "$T/sigwin.fired" <<'PY' || fail=1
import os, pty, select, sys, time
sc, typed = sys.argv[1], sys.argv[2]
# send reading its password from a terminal (--password-file -); the callers add the rest
PROMPTED = [sc, "send", "--ssid", "x", "--password-file", "-", "--bssid", "00:11:22:33:44:55", "--ip", "127.0.0.1"]
def read_pty(fd, out, until, secs):
    """out and what fd gives after it, until `until` is in it (None: to the end), the end
    (EOF, or EIO once the other side of the pty is closed) or secs pass"""
    end = time.time() + secs
    while (until is None or until not in out) and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return out
            if not data:
                return out
            out += data
    return out
def run(answer):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sc, PROMPTED + ["--token", "t1", "--timeout", "1", "--expect", typed])
    out = read_pty(fd, b"", b"password (not shown): ", 60)
    assert b"password (not shown): " in out, "no prompt: %r" % out
    os.write(fd, answer)
    out = read_pty(fd, out, None, 10)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 2, out
    return out
out = run(b"S3cretPw\n")
assert b"S3cretPw" not in out, "the password was echoed: %r" % out
assert b"line 1: the Wi-Fi password being sent, not a device" in out, "the password was not taken: %r" % out
out = run(b"\n")
assert b"--password-file -: nothing typed (an open network is --password '')" in out, out
# F129: an option that goes with nothing is told before the prompt (it came after the password
# was typed, to be typed again); --expect beside --count too, though its message counts the
# file's devices
def before_prompt(extra, said):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sc, PROMPTED + ["--timeout", "1"] + extra)
    out = read_pty(fd, b"", b"password (not shown)", 30)
    if b"password (not shown)" in out:
        os.write(fd, b"S3cretPw\n")
    _, status = os.waitpid(pid, 0)
    assert b"password (not shown)" not in out, "prompted before the usage error: %r" % out
    assert said in out and os.WEXITSTATUS(status) == 2, out
before_prompt(["--region", "ap-guangzhou"], b"--region goes with --token or --cloud")
before_prompt(["--count", "2", "--expect", typed],
              b"--expect and --count exclude each other (the run waits for the 1 device of")
# F148: Ctrl-C (or a SIGTERM: a job's time limit) at the prompt ends the run as the signal does,
# and the terminal has its echo back: it was left off, nothing typed shown until `stty echo`
# (the old code: echo off after each). The slave is kept open here to read its modes after.
import fcntl, signal, termios
def on_pty(argv, env=None):
    """argv (sc first) as a session leader whose terminal is a new pty: (master, slave, pid); the slave
    is kept open here to read the terminal's modes after the command ends"""
    m, sl = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        for k in (0, 1, 2):
            os.dup2(sl, k)
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        os.execve(sc, argv, env if env is not None else os.environ)
    return m, sl, pid
def interrupted_at_prompt(how):
    m, sl, pid = on_pty(PROMPTED + ["--token", "t1", "--timeout", "1"])
    out = read_pty(m, b"", b"password (not shown)", 30)
    assert b"password (not shown)" in out, "no prompt: %r" % out
    if how == "ctrl-c":
        os.write(m, b"S3cr\x03")  # part of a password, then Ctrl-C as the terminal sends it
    else:
        os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    echo = termios.tcgetattr(sl)[3] & termios.ECHO
    os.close(m); os.close(sl)
    want = signal.SIGINT if how == "ctrl-c" else signal.SIGTERM
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == want, "%s: status %r" % (how, status)
    assert echo, "%s at the prompt left the terminal without echo" % how
interrupted_at_prompt("ctrl-c")
interrupted_at_prompt("sigterm")
# F164: the SIGINT sent between the check and the wait (the shim above) ends the run at once,
# with nothing typed, and the terminal's echo back
def interrupted_before_wait(shim, mark):
    m, sl, pid = on_pty(PROMPTED + ["--token", "t1", "--timeout", "1"],
                        dict(os.environ, LD_PRELOAD=shim, SIGWIN_MARK=mark))
    out = b""
    end = time.time() + 30
    status = t_prompt = None
    while time.time() < end:  # no key is ever pressed: only the signal can end it
        r, _, _ = select.select([m], [], [], 0.2)
        if r:
            try:
                out += os.read(m, 4096)
            except OSError:
                pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
        if t_prompt is None and b"password (not shown)" in out:
            t_prompt = time.time()
        if t_prompt is not None and time.time() > t_prompt + 5:
            break
    echo = termios.tcgetattr(sl)[3] & termios.ECHO
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(m); os.close(sl)
    assert os.path.exists(mark), "the shim never sent its signal (the test tests nothing): %r" % out
    assert status is not None, "a SIGINT between the prompt's check and its wait was not acted on (5 s, no key): %r" % out
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT, "status %r: %r" % (status, out)
    assert echo, "interrupted before the wait: the terminal was left without echo"
interrupted_before_wait(sys.argv[3], sys.argv[4])
# F162: Ctrl-Z at the prompt, then fg, as bash does it: bash puts its own modes (echo on) back when a
# job stops and leaves them so on `fg`, so the password was then typed in the clear. A small
# shell here: a session on a pty, the command in its own foreground process group
def stopped_at_prompt():
    m, sl = os.openpty()
    r_fd, w_fd = os.pipe()
    sh = os.fork()
    if sh == 0:  # the shell: a session leader with the pty as its terminal
        os.close(r_fd)
        os.setsid()
        fcntl.ioctl(sl, termios.TIOCSCTTY, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        pid = os.fork()
        if pid == 0:
            os.setpgid(0, 0)
            os.tcsetpgrp(sl, os.getpid())
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)
            for k in (0, 1, 2):
                os.dup2(sl, k)
            os.execv(sc, PROMPTED + ["--token", "t1", "--timeout", "1", "--expect", typed])
        signal.alarm(30)
        _, st = os.waitpid(pid, os.WUNTRACED)  # the Ctrl-Z
        echo_stopped = termios.tcgetattr(sl)[3] & termios.ECHO
        os.tcsetpgrp(sl, os.getpgrp())
        a = termios.tcgetattr(sl); a[3] |= termios.ECHO; termios.tcsetattr(sl, termios.TCSANOW, a)  # as bash
        os.tcsetpgrp(sl, pid)  # fg
        os.kill(-pid, signal.SIGCONT)
        _, st2 = os.waitpid(pid, 0)
        os.write(w_fd, b"%d %d %d" % (os.WIFSTOPPED(st), 1 if echo_stopped else 0, os.WEXITSTATUS(st2) if os.WIFEXITED(st2) else -1))
        os._exit(0)
    os.close(w_fd)
    out = read_pty(m, b"", b"password (not shown): ", 30)
    assert b"password (not shown): " in out, "no prompt: %r" % out
    os.write(m, b"S3\x1a")  # part of a password, then Ctrl-Z as the terminal sends it
    # once continued, the prompt again, echo off (the old code: no prompt, and echo as bash left it)
    end = time.time() + 10
    while time.time() < end and out.count(b"password (not shown): ") < 2:
        out = read_pty(m, out, b"\x00", 0.1)
    time.sleep(0.2)
    echo_after = termios.tcgetattr(sl)[3] & termios.ECHO
    os.write(m, b"S3cretPw\n")
    out = read_pty(m, out, b"not a device", 10)
    res = b""
    while True:
        d = os.read(r_fd, 100)
        if not d:
            break
        res += d
    os.waitpid(sh, 0)
    os.close(m); os.close(sl); os.close(r_fd)
    was_stopped, echo_stopped, rc = (int(x) for x in res.split())
    assert was_stopped, "Ctrl-Z at the prompt did not stop the command: %r" % out
    assert echo_stopped, "stopped at the prompt with the terminal's echo off"
    assert not echo_after, "continued at the prompt with echo on: the password is typed in the clear"
    assert b"S3cretPw" not in out, "the password was echoed: %r" % out
    assert rc == 2 and b"line 1: the Wi-Fi password being sent, not a device" in out, "rc %d: %r" % (rc, out)
stopped_at_prompt()
# F150: --expect - on a terminal: said at once (it waited 10 s for a list nobody pipes in)
pid, fd = pty.fork()
if pid == 0:
    os.execv(sc, [sc, "send", "--ssid", "x", "--password-file", typed, "--bssid", "00:11:22:33:44:55",
                  "--ip", "127.0.0.1", "--token", "t1", "--timeout", "1", "--expect", "-"])
t0 = time.time()
out = read_pty(fd, b"", None, 30)
_, status = os.waitpid(pid, 0)
assert os.WEXITSTATUS(status) == 2 and b"--expect -: stdin is a terminal; pipe the list in" in out, out
assert time.time() - t0 < 5, "--expect - on a terminal took %.1f s" % (time.time() - t0)
PY
# the ESP-TOUCH v2 device key is blanked in argv (/proc/PID/cmdline) once parsed, as the
# password is: send blocks reading a FIFO as --password-file after it took --aes-key
KEY='K3y-0f-the-dev1c'
T=$(mktemp -d)
mkfifo "$T/pw"
"$B/smartcfg" send --protocol v2 --aes-key "$KEY" --ssid x --bssid 00:11:22:33:44:55 --ip 127.0.0.1 \
  --dest 127.0.0.1 --cloud http://u:Cl0udS3cret@127.0.0.1:9 --timeout 1 --password-file "$T/pw" >"$T/out" 2>&1 &
SP=$!
for _ in $(seq 100); do grep -qF 'xxxxxxxxxxxxxxxx' "/proc/$SP/cmdline" 2>/dev/null && break; sleep 0.1; done
CMDLINE=$(tr '\0' ' ' <"/proc/$SP/cmdline" 2>/dev/null)
kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null
if grep -qF -- "$KEY" <<<"$CMDLINE" || ! grep -qF -- "--aes-key xxxxxxxxxxxxxxxx" <<<"$CMDLINE"; then
  echo "FAIL: send --aes-key not blanked in /proc/PID/cmdline: $CMDLINE"; fail=1
fi
# (F172: and the --cloud URL's password)
if grep -qF Cl0udS3cret <<<"$CMDLINE" || ! grep -qF -- "--cloud http://u:xxxxxxxxxxx@127.0.0.1:9" <<<"$CMDLINE"; then
  echo "FAIL: send --cloud's password not blanked in /proc/PID/cmdline: $CMDLINE"; fail=1
fi
rm -rf "$T"
# A reader that goes away (`| head -1`) stops the run at its next line, as Ctrl-C does (130):
# with SIGPIPE ignored the writes only failed, and the run went on for its whole --timeout
# (30 s here; now the next progress line, 1 s apart with --json, 5 s without).
T=$(mktemp -d)
echo pw12345678 > "$T/pw"
for mode in --json --no-json; do
  t0=$(date +%s)
  timeout 60 "$B/smartcfg" send $( [ "$mode" = --json ] && echo --json ) --ssid x --bssid 00:11:22:33:44:55 \
    --ip 127.0.0.1 --dest 127.0.0.1 --no-token --timeout 30 --password-file "$T/pw" 2>"$T/err" | head -1 >"$T/first"
  rc=${PIPESTATUS[0]}
  secs=$(( $(date +%s) - t0 ))
  if [ "$rc" != 130 ] || [ "$secs" -ge 20 ] || ! grep -q sending "$T/first"; then
    echo "FAIL: send $mode | head -1: exit $rc after ${secs}s (want 130, well before its 30 s timeout)"; fail=1
  fi
done
# A run that times out while sending says so after its sending_done (it used to say timeout
# first, while the last datagram group still went out), and ends with its summary, exit 3.
timeout 60 "$B/smartcfg" send --json --ssid x --bssid 00:11:22:33:44:55 --ip 127.0.0.1 --dest 127.0.0.1 \
  --no-token --timeout 2 --password-file "$T/pw" >"$T/order.out" 2>/dev/null; rc=$?
order=$(python3 -c 'import json,sys; print(" ".join(e for e in (json.loads(l)["event"] for l in open(sys.argv[1])) if e != "progress"))' "$T/order.out")
if [ "$rc" != 3 ] || [ "$order" != "sending sending_done timeout summary" ]; then
  echo "FAIL: send --timeout 2 with no device: exit $rc, events: $order"; fail=1
fi
# SIGHUP (a dropped ssh session) stops a run as SIGINT does: exit 130 and the summary; under
# nohup (SIGHUP ignored when it starts) the run goes on until something else stops it.
for how in plain nohup; do
  if [ "$how" = plain ]; then
    "$B/smartcfg" send --json --ssid x --bssid 00:11:22:33:44:55 --ip 127.0.0.1 --dest 127.0.0.1 --no-token \
      --timeout 30 --password-file "$T/pw" >"$T/hup.out" 2>&1 &
  else
    (trap '' HUP; exec "$B/smartcfg" send --json --ssid x --bssid 00:11:22:33:44:55 --ip 127.0.0.1 \
      --dest 127.0.0.1 --no-token --timeout 30 --password-file "$T/pw" >"$T/hup.out" 2>&1) &
  fi
  SP=$!
  for _ in $(seq 100); do grep -q '"event":"sending"' "$T/hup.out" && break; sleep 0.1; done
  kill -HUP "$SP"
  if [ "$how" = nohup ]; then
    sleep 1
    kill -0 "$SP" 2>/dev/null || { echo "FAIL: send under nohup died of SIGHUP"; fail=1; }
    kill -TERM "$SP" 2>/dev/null
  fi
  wait "$SP"; rc=$?
  if [ "$rc" != 130 ] || ! grep -q '"event":"summary".*"interrupted":true' "$T/hup.out"; then
    echo "FAIL: send ($how) after SIGHUP: exit $rc, $(tail -1 "$T/hup.out")"; fail=1
  fi
done
rm -rf "$T"
wait $F1; rc1=$?; wait $F2; rc2=$?
secs=$(( $(date +%s) - FIFO_T0 ))
{ [ $rc1 = 2 ] && grep -q "^smartcfg send: --expect $F/fifo1: cannot read it: nothing wrote it to its end within 10 s" "$F/f1.out"; } \
  || { echo "FAIL: --expect FIFO without a writer: exit $rc1, $(cat "$F/f1.out")"; fail=1; }
{ [ $rc2 = 2 ] && grep -q "^smartcfg send: --password-file: cannot read '$F/fifo2': nothing wrote it to its end within 10 s" "$F/f2.out"; } \
  || { echo "FAIL: --password-file FIFO without a writer: exit $rc2, $(cat "$F/f2.out")"; fail=1; }
[ "$secs" -ge 9 ] || { echo "FAIL: FIFO without a writer: ended after ${secs}s (want 10)"; fail=1; }
wait $F4; rc4=$?
kill $W4 2>/dev/null   # a writer nobody read (a build without --input-wait) would wait on the FIFO for ever
{ [ $rc4 = 3 ] && grep -q "password 8 bytes" "$F/f4.out"; } \
  || { echo "FAIL: --input-wait 30, a writer after 12 s: exit $rc4, $(cat "$F/f4.out")"; fail=1; }
rm -rf "$F"
exit $fail
