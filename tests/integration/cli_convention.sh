#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ctest-cost: 25
# The one command-line convention (apps/smartcfg/cli.h, docs/cli.md) on every subcommand:
# -h/--help exit 0 and end with examples, --version exit 0, an unknown option / a missing value
# / a stray argument exit 2 with "smartcfg <cmd>: ..." on stderr, and with --json the usage
# error is also one JSON line on stdout (every subcommand that has --json).
set -u
SC=${SC_BUILD:?}/smartcfg
TMP=$(mktemp -d /tmp/sc_cli_conv.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; for f in out err; do [ -f "$TMP/$f" ] && { echo "--- $f"; cat "$TMP/$f"; }; done; exit 1; }
run() { "$SC" "$@" >"$TMP/out" 2>"$TMP/err"; echo $?; }

for cmd in send device decode air cloud; do
    for h in -h --help; do
        [ "$(run $cmd $h)" = 0 ] || fail "$cmd $h: exit not 0"
        grep -q '^examples:' "$TMP/out" || fail "$cmd $h: no examples section"
        tail -n 1 "$TMP/out" | grep -q 'smartcfg' || fail "$cmd $h: help does not end with an example"
    done
    [ "$(run $cmd --version)" = 0 ] || fail "$cmd --version: exit not 0"
    grep -q "^smartcfg $cmd [0-9]" "$TMP/out" || fail "$cmd --version: no version line"
    [ "$(run $cmd --no-such-option)" = 2 ] || fail "$cmd --no-such-option: exit not 2"
    grep -q "^smartcfg $cmd: unknown option '--no-such-option'" "$TMP/err" || fail "$cmd: unknown option message"
    [ -s "$TMP/out" ] && fail "$cmd: usage error without --json wrote stdout"
    [ "$(run help $cmd)" = 0 ] || fail "smartcfg help $cmd"
done
# F115: the renumbering of cli4's findings (C1-C7 -> F95-F101) also rewrote "C1" the control
# characters: decode's help said "control characters (C0, DEL, F95)"
[ "$(run decode --help)" = 0 ] && grep -qF "control characters (C0, DEL, C1) and" "$TMP/out" \
    || fail "decode --help: the control characters are not C0, DEL, C1"
grep -qF "F95)" "$TMP/out" && fail "decode --help names a finding (F95) for the C1 controls"
# a misspelt option is answered with the one meant; an abbreviation several options start with
# (getopt takes a unique one) lists them (both were "unknown option" alone)
for c in "send:--pasword:--password" "device:--no-clod:--no-cloud" "decode:--jsn:--json" "air:--chanel:--channel" "cloud:--tokn-ttl:--token-ttl"; do
    IFS=: read -r cmd typo meant <<<"$c"
    [ "$(run $cmd $typo x)" = 2 ] && grep -q "^smartcfg $cmd: unknown option '$typo' (did you mean $meant?)" "$TMP/err" \
        || fail "$cmd $typo: $(cat "$TMP/err")"
done
# --no-X exists only where a config file can set X (device, smartcfg-lwip); elsewhere it says
# why there is none instead of a bare "unknown option" (docs/cli.md, Flags)
for cmd in send decode air cloud; do
    [ "$(run $cmd --no-json)" = 2 ] && grep -q "^smartcfg $cmd: unknown option '--no-json': a flag of this command is off unless given (it reads no config file), so leave --json out$" "$TMP/err" \
        || fail "$cmd --no-json: $(cat "$TMP/err")"
done
[ "$(run device --no-json --bogus)" = 2 ] && grep -q "unknown option '--bogus'" "$TMP/err" || fail "device --no-json is an option"
[ "$(run send --pass x)" = 2 ] && grep -q "^smartcfg send: option '--pass' is ambiguous: --password, --password-hex, --password-file$" "$TMP/err" \
    || fail "send --pass: $(cat "$TMP/err")"
[ "$(run cloud --rabbit x)" = 2 ] && grep -q "^smartcfg cloud: option '--rabbit' is ambiguous: --rabbitmq, " "$TMP/err" || fail "cloud --rabbit"
# each help's exit line names every code the command uses (cloud's 5 was missing)
for c in "send:0 1 2 3 4 5 130" "device:0 1 2 3 4 5 130" "decode:0 1 2 3 130" "air:0 1 2" "cloud:0 1 2 5"; do
    cmd=${c%%:*}
    codes=$("$SC" $cmd --help | python3 -c '
import re, sys
block = sys.stdin.read().split("\nexit:", 1)[1].split("\n\n", 1)[0]
print(" ".join(sorted(set(re.findall(r"(?:^|,|\n)\s*(\d+) [a-z]", block)), key=int)))')
    [ "$codes" = "${c#*:}" ] || fail "$cmd --help: exit codes '$codes', want '${c#*:}'"
done
# a missing value is named as such
for c in "decode:--json --bogus" "air:--ssid" "cloud:--http" "send:--ssid" "device:--radio"; do
    cmd=${c%%:*}; arg=${c#*:}
    rc=$(run $cmd $arg)
    [ "$rc" = 2 ] || fail "$cmd $arg: exit $rc, want 2"
    grep -q "^smartcfg $cmd: " "$TMP/err" || fail "$cmd $arg: message style"
done
grep -q "needs a value" <(run air --ssid >/dev/null; cat "$TMP/err") || fail "air --ssid: 'needs a value'"
# stray arguments / bad values
[ "$(run cloud stray)" = 2 ] || fail "cloud stray argument"
grep -q "^smartcfg cloud: unexpected argument 'stray'" "$TMP/err" || fail "cloud stray message"
[ "$(run air --channel 0 out.pcap)" = 2 ] || fail "air --channel 0"
grep -q "^smartcfg air: --channel: '0' is not a channel: 1..14, or 5 GHz 36..64" "$TMP/err" || fail "air bad value message"
[ "$(run air --channel 99 out.pcap)" = 2 ] || fail "air --channel 99"
grep -q "^smartcfg air: --channel: '99' is not a channel" "$TMP/err" || fail "air --channel 99 message"
# without a file, or with two: each said as such (both were "exactly one output file expected")
[ "$(run air)" = 2 ] && grep -q "^smartcfg air: which file? (give FILE.pcap, or - for stdout)" "$TMP/err" || fail "air without FILE"
[ "$(run air "$TMP/a.pcap" "$TMP/b.pcap")" = 2 ] && grep -q "^smartcfg air: one output file only: '$TMP/b.pcap' is a second" "$TMP/err" \
    || fail "air with two files: $(cat "$TMP/err")"
# one form for a bad value in every subcommand (docs/cli.md): option, the value, what is wanted
# with its range and unit; a secret's value is not shown; exit 2
bad_value() { # CMD PATTERN ARGS...
    local cmd=$1 pat=$2; shift 2
    [ "$(run "$cmd" "$@")" = 2 ] || fail "$cmd $*: exit, want 2"
    grep -q -- "^smartcfg $cmd: $pat" "$TMP/err" || fail "$cmd $*: message: $(head -1 "$TMP/err")"
}
bad_value send "--count: '33' is not a whole number of devices in 0..32" --ssid x --password-file /dev/null --count 33
# a password file that cannot be read is an error naming why; a directory is no empty password
# (it was: the devices were sent an open network's credentials)
[ "$(run send --ssid x --password-file "$TMP" --bssid 02:00:00:00:00:01 --ip 127.0.0.1 --dest 127.0.0.1 --timeout 0.1)" = 2 ] \
    && grep -q "^smartcfg send: --password-file: cannot read '$TMP': Is a directory" "$TMP/err" || fail "send --password-file DIR"
[ "$(run send --ssid x --password-file "$TMP/missing")" = 2 ] \
    && grep -q "^smartcfg send: --password-file: cannot read '$TMP/missing': No such file" "$TMP/err" || fail "send --password-file missing"
# air: the path once in a write error; an empty OUT is a usage error
[ "$(run air "$TMP")" = 1 ] && grep -qx "smartcfg air: $TMP: Is a directory" "$TMP/err" || fail "air DIR: $(cat "$TMP/err")"
[ "$(run air '')" = 2 ] && grep -q "^smartcfg air: the output file name is empty" "$TMP/err" || fail "air ''"
bad_value send "--port-mark: '7' is not a whole number in 0..3" --ssid x --password-file /dev/null --port-mark 7
bad_value send "--aes-key: the value (not shown) is not 16 characters" --ssid x --password-file /dev/null --aes-key short
DEV=(--radio udp --join sim:A:b:127.0.0.2 --product-id ABCDEFGHIJ --device-name dev1 --no-cloud)
bad_value device "--timeout: '-1' is not a whole number of seconds in 0..86400" "${DEV[@]}" --timeout -1
bad_value device "--virtual-loss: '2' is not a probability in 0..1" "${DEV[@]}" --virtual-loss 2
bad_value decode "--timeout: '0' is not a whole number of seconds in 1..86400" --timeout 0 -i lo
bad_value decode "--aes-key: the value (not shown) is not 16 characters" --aes-key short x.pcap
bad_value air "--loss: '2' is not a probability in 0..1, or a percentage in 0..100%" --loss 2 out.pcap
bad_value air "--duration: '0' is not a whole number of milliseconds in 1..3600000" --duration 0 out.pcap
bad_value air "--password: the value (not shown) is not 0..64 bytes" --password "$(printf 'p%.0s' $(seq 65))" out.pcap
# a value with control bytes is shown with them as '?': no escape sequence reaches the terminal
bad_value air "--ssid-hex: 'zz?\[2J' is not hex digits for 0..32 bytes" --ssid-hex "zz$(printf '\033')[2J" out.pcap
# a protocol named twice is a usage error naming the repeat, in every command taking a list
# (decode --protocols; device's in device_cli.sh) or one protocol (send/air --protocol)
[ "$(run decode --json --protocols v2,airkiss,v2 x.pcap)" = 2 ] || fail "decode --protocols v2,airkiss,v2"
grep -q "^smartcfg decode: --protocols 'v2,airkiss,v2': 'v2' repeats a protocol" "$TMP/err" || fail "decode repeat message"
grep -q '"event":"usage_error".*repeats a protocol.*"exit":2' "$TMP/out" || fail "decode repeat: no JSON usage_error"
[ "$(run send --protocol v1,v1 --ssid x --password 12345678)" = 2 ] || fail "send --protocol v1,v1"
grep -q "^smartcfg send: --protocol: 'v1,v1' is not one of v1, v2, airkiss" "$TMP/err" || fail "send --protocol list message"
[ "$(run air --protocol v1,v1 out.pcap)" = 2 ] || fail "air --protocol v1,v1"

[ "$(run decode)" = 2 ] || fail "decode without FILE"
bad_value cloud "--token-ttl: '0' is not a whole number of seconds in 1..2592000" --token-ttl 0
bad_value cloud "--http: '1.2.3' is not HOST:PORT (port 1..65535)" --http 1.2.3
# a malformed --rabbitmq URL is a usage error (it was exit 1), its password not shown; the worker's
# options without --rabbitmq are refused, as its other ones are (they were ignored)
bad_value cloud "--rabbitmq wants amqp://USER:PASSWORD@HOST:PORT" --rabbitmq http://u:S3cretPw@h:5672
grep -q S3cretPw "$TMP/err" && fail "cloud --rabbitmq: the password shown"
bad_value cloud "--rabbitmq: cannot parse node h:99999" --rabbitmq amqp://u:S3cretPw@h:99999
for o in "--queue q1" "--thing-queue q2" "--prefetch 5"; do
    # shellcheck disable=SC2086
    bad_value cloud "${o%% *} goes with --rabbitmq" $o --http 127.0.0.1:1 --mqtt 127.0.0.1:2 --db "$TMP/c.db"
done
# a URL that may carry a password is never shown
bad_value cloud "--rabbitmq-management: the value (not shown) is not http" --rabbitmq-management ftp://u:S3cretPw@h:1
grep -q S3cretPw "$TMP/err" && fail "cloud --rabbitmq-management: the password shown"
# --json: the usage error is one JSON line on stdout too
for cmd in send device decode cloud; do
    [ "$(run $cmd --json --no-such-option)" = 2 ] || fail "$cmd --json usage error exit"
    python3 - "$TMP/out" "$cmd" <<'PY' || fail "$cmd --json: usage error is not JSON"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["event"] == "usage_error" and o["exit"] == 2 and o["command"] == "smartcfg " + sys.argv[2], o
assert "--no-such-option" in o["message"], o
PY
done
# a setup error with --json: decode of a missing file (and its JSON line: read_error)
[ "$(run decode --json "$TMP/missing.pcap")" = 1 ] || fail "decode missing file: exit"
grep -q "^smartcfg decode: " "$TMP/err" || fail "decode missing file: message style"
# one_json EVENT EXIT: stdout is exactly one JSON line of that event (and exit, if it has one)
one_json() {
    python3 - "$TMP/out" "$1" "$2" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["event"] == sys.argv[2] and o.get("exit", int(sys.argv[3])) == int(sys.argv[3]), o
assert o.get("file", "x") and o.get("message"), o
PY
}
one_json read_error 1 || fail "decode --json missing file: no read_error line"
# decode's own checks of its command line follow the convention too (they were plain stderr)
for args in "--timeout 0 -i lo" "--plot $TMP/x.svg a b" "- -" "-i lo --timeout 1 bad((filter"; do
    # shellcheck disable=SC2086
    rc=$(run decode --json $args)
    [ "$rc" = 2 ] || fail "decode --json $args: exit $rc, want 2"
    grep -q "^smartcfg decode: " "$TMP/err" || fail "decode $args: message style"
    one_json usage_error 2 || fail "decode --json $args: the usage error is not one JSON line"
done
# --iface is the interface's name in send and device; decode takes it too (besides -i, --interface)
[ "$(run decode --iface lo --timeout 1 'bad((filter')" = 2 ] && grep -q "^smartcfg decode: lo: bad filter" "$TMP/err" \
    || fail "decode --iface: $(cat "$TMP/err")"
# an interface that does not exist is a usage error, as in send and device (it was exit 1)
[ "$(run decode --json -i nosuchif0 --timeout 1)" = 2 ] && grep -q "^smartcfg decode: --iface: no interface 'nosuchif0'" "$TMP/err" \
    && one_json usage_error 2 || fail "decode -i nosuchif0: $(cat "$TMP/err")"
# output that cannot be written (a full disk) is a failure where the output is the result: a
# capture, decode's credentials, a help, a version (all exited 0)
"$SC" air "$TMP/s.pcap" >/dev/null || fail "air: a capture to decode"
# ... said as the disk says it (F99: "write failed (I/O error)", after writing the whole capture into it)
[ "$(run air /dev/full)" = 1 ] && grep -q "^smartcfg air: /dev/full: write failed (No space left on device)$" "$TMP/err" || fail "air /dev/full: $(cat "$TMP/err")"
for a in "decode $TMP/s.pcap" "decode --json $TMP/s.pcap" "send --help" "help device" "--version" "air --version"; do
    # shellcheck disable=SC2086
    "$SC" $a >/dev/full 2>"$TMP/err"; rc=$?
    [ "$rc" = 1 ] && grep -q "^smartcfg.*: cannot write the output" "$TMP/err" || fail "smartcfg $a >/dev/full: exit $rc"
done
# the top level
[ "$(run)" = 2 ] || fail "smartcfg without a command"
[ "$(run frobnicate)" = 2 ] || fail "unknown command"
grep -q "^smartcfg: unknown command 'frobnicate'" "$TMP/err" || fail "unknown command message"
[ "$(run sned)" = 2 ] && grep -q "^smartcfg: unknown command 'sned' (did you mean send?)" "$TMP/err" || fail "smartcfg sned"
[ "$(run -V)" = 2 ] && grep -q "^smartcfg: unknown command '-V' (options go after the command" "$TMP/err" || fail "smartcfg -V"
[ "$(run --help)" = 0 ] || fail "smartcfg --help"
# What the user or a script gave, quoted back in an error or a summary, is shown with its control
# characters as '?' (ESC ] 0 ; ... BEL retitled the terminal, U+009B is CSI, U+202E reversed the
# rest of the line, a byte that is not UTF-8 broke a UTF-8 reader): unexpected arguments, unknown
# options and commands, air's summary line (a file name it was given). UTF-8 text stays.
EVIL=$'x\e]0;pwned\a\xc2\x9b8m\xe2\x80\xaey\xff'
no_controls() { # WHAT FILE: the file holds no ESC, BEL, C1 or U+202E, and is UTF-8
    python3 - "$2" <<'PY' || fail "$1: a control character or a stray byte reached the output: $(od -c "$2" | head -3)"
import sys
b = open(sys.argv[1], "rb").read()
t = b.decode("utf-8")          # raises on a byte that is not UTF-8
assert not any(c in t for c in "\x1b\x07\u009b\u202e"), t
PY
}
for cmd in send device cloud; do
    [ "$(run $cmd "$EVIL")" = 2 ] || fail "$cmd with a stray argument: exit not 2"
    grep -q "unexpected argument 'x?\]0;pwned??8m?y?'" "$TMP/err" || fail "$cmd: the stray argument not shown cleaned: $(cat -A "$TMP/err")"
    no_controls "$cmd's stray argument" "$TMP/err"
done
[ "$(run send --no-token 'café')" = 2 ] && grep -q "unexpected argument 'café'" "$TMP/err" || fail "UTF-8 text in a message was changed"
for bad in "send --$EVIL" "air --$EVIL" "$EVIL"; do
    [ "$(run $bad)" = 2 ] || fail "unknown option or command with controls: exit not 2"
    no_controls "unknown option or command" "$TMP/err"
done
(cd "$TMP" && "$SC" air --ssid a --password 12345678 "$EVIL" >"$TMP/out" 2>"$TMP/err") || fail "air into an odd file name"
grep -q "^x?\]0;pwned??8m?y?: [0-9]* frames" "$TMP/out" || fail "air's summary line: $(cat -A "$TMP/out")"
no_controls "air's summary line" "$TMP/out"
rm -f "$TMP/$EVIL"
# placeholders: one word per kind of value (docs/cli.md, *Placeholders*) in every help, the
# same word for an option two programs share, and the docs naming each value as the help does
# (they said --password-file F beside --config FILE, --ssid S beside --timeout S, --ip A.B.C.D)
# F169, F171: every secret on the command line draws one warning line on stderr naming the way out
# of argv, and is never shown: decode's device key, the cloud's URLs with a password (--db,
# --rabbitmq, --rabbitmq-management), smartcfg-lwip's device options as the device's
run decode --aes-key K3y-0f-the-dev1c --aes-key K3y-0f-the-dev1c --json "$TMP/nosuch.pcap" >/dev/null
[ "$(grep -c '^smartcfg decode: warning: a device key on the command line is visible to other users (use \$SMARTCFG_AES_KEY)$' "$TMP/err")" = 1 ] \
    || fail "decode --aes-key: no warning (once)"
grep -q K3y-0f "$TMP/out" "$TMP/err" && fail "decode --aes-key: the key shown"
grep -q warning "$TMP/out" && fail "decode --json: the warning on stdout"
[ "$(SMARTCFG_AES_KEY=K3y-0f-the-dev1c run decode "$TMP/nosuch.pcap")" = 1 ] && ! grep -q warning "$TMP/err" \
    || fail "decode with \$SMARTCFG_AES_KEY: a warning, or not run"
[ "$(SMARTCFG_AES_KEY=S3cret run decode "$TMP/nosuch.pcap")" = 2 ] \
    && grep -q '^smartcfg decode: \$SMARTCFG_AES_KEY: the value (not shown) is not 16 characters$' "$TMP/err" \
    && ! grep -q S3cret "$TMP/err" || fail "decode: a bad \$SMARTCFG_AES_KEY"
[ "$(run cloud --db 'postgresql://u:S3cretDb@127.0.0.1:1/x' --rabbitmq 'amqp://u:S3cretMq@127.0.0.1:1' \
    --rabbitmq-management 'http://u:S3cretMg@127.0.0.1:1' --queue q --thing-queue q)" = 2 ] || fail "cloud: URL passwords: exit"
grep -q '^smartcfg cloud: warning: a password in the --db URL on the command line is visible to other users (use ~/.pgpass or \$PGPASSWORD, which libpq reads)$' "$TMP/err" \
    && grep -q '^smartcfg cloud: warning: a password in the --rabbitmq URL on the command line is visible to other users (use amqp://USER@... and \$SMARTCFG_RABBITMQ_PASSWORD)$' "$TMP/err" \
    && grep -q '^smartcfg cloud: warning: a password in the --rabbitmq-management URL on the command line is visible to other users (leave USER:PASSWORD@ out' "$TMP/err" \
    && [ "$(grep -c warning "$TMP/err")" = 3 ] || fail "cloud: the URL passwords' warnings"
grep -q S3cret "$TMP/out" "$TMP/err" && fail "cloud: a URL's password shown"
[ "$(run cloud --db 'postgresql://u@127.0.0.1:1/x?sslmode=disable&password=S3cretDb' --rabbitmq-cache-ttl 5)" = 2 ] \
    && grep -q 'password in the --db URL' "$TMP/err" && ! grep -q S3cret "$TMP/err" || fail "cloud: ?password= not warned about"
[ "$(run cloud --db 'postgresql://u@127.0.0.1:1/x' --rabbitmq 'amqp://u@127.0.0.1:1' --rabbitmq-cache-ttl 5 --queue q --thing-queue q)" = 2 ] \
    && ! grep -q warning "$TMP/err" || fail "cloud: a warning for URLs without a password"
# F182: libpq takes a raw '?' or '#' in the password (its user part ends at the first '/'): they
# hid it; an '@' in a path is no user part
[ "$(run cloud --db 'postgresql://u:S3c?ret#Db@127.0.0.1:1/x' --rabbitmq-cache-ttl 5)" = 2 ] \
    && grep -q 'password in the --db URL' "$TMP/err" && ! grep -q S3c "$TMP/err" || fail "cloud: a raw '?' in the --db password"
[ "$(run cloud --db 'postgresql://u@127.0.0.1:1/x' --rabbitmq 'amqp://u@127.0.0.1:1/v@h:x' --rabbitmq-cache-ttl 5 --queue q --thing-queue q)" = 2 ] \
    && ! grep -q warning "$TMP/err" || fail "cloud: a warning for an '@' in the --rabbitmq vhost"
# F183: librabbitmq (0.11) refuses a percent-encoded byte above 0x7f: a UTF-8 $SMARTCFG_RABBITMQ_PASSWORD
# made every node "cannot parse"; it goes in raw, the rest percent-encoded
[ "$(SMARTCFG_RABBITMQ_PASSWORD='pä%s s@:/' run cloud --http 127.0.0.1:1 --rabbitmq 'amqp://u@127.0.0.1:1')" = 1 ] \
    && grep -q 'cannot reach RabbitMQ at 127.0.0.1:1' "$TMP/err" && ! grep -q 'cannot parse\|pä' "$TMP/err" \
    || fail "cloud: a UTF-8 \$SMARTCFG_RABBITMQ_PASSWORD: $(head -n 2 "$TMP/err")"
# ... and blanked in argv once read: the cloud waits for a database server that is not there
"$SC" cloud --http 127.0.0.1:1 --db 'postgresql://u:S3cretDb@127.0.0.1:1/x' --db-wait 5 >"$TMP/out" 2>"$TMP/err" & CP=$!
for _ in $(seq 50); do grep -qF 'xxxxxxxx@' "/proc/$CP/cmdline" 2>/dev/null && break; sleep 0.1; done
CMDLINE=$(tr '\0' ' ' <"/proc/$CP/cmdline" 2>/dev/null)
kill "$CP" 2>/dev/null; wait "$CP" 2>/dev/null
grep -qF 'postgresql://u:xxxxxxxx@127.0.0.1:1/x' <<<"$CMDLINE" && ! grep -q S3cret <<<"$CMDLINE" \
    || fail "cloud --db: the URL's password not blanked in /proc/PID/cmdline: $CMDLINE"
if [ -x "$SC_BUILD/smartcfg-lwip" ]; then
    "$SC_BUILD/smartcfg-lwip" --aes-key K3y-0f-the-dev1c >"$TMP/out" 2>"$TMP/err"
    grep -q '^smartcfg-lwip: warning: a secret on the command line is visible to other users (use --config FILE, or SMARTCFG_AES_KEY)$' "$TMP/err" \
        && ! grep -q K3y-0f "$TMP/out" "$TMP/err" || fail "smartcfg-lwip --aes-key: no warning"
fi
# (smartcfg-lwip's help too, in a build that has it: -DSMARTCFG_WITH_LWIP=OFF leaves it out)
LWIP=(); [ -x "$SC_BUILD/smartcfg-lwip" ] && LWIP=("$SC_BUILD/smartcfg-lwip")
python3 "$(dirname "$0")/lib/cli_placeholders.py" check "$SC" "${LWIP[@]}" "$(cd "$(dirname "$0")/../.." && pwd)" >"$TMP/ph" \
    || { cat "$TMP/ph"; fail "placeholders"; }
echo "cli_convention: ok"
