#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# smartcfg send rejects bad command lines with exit 2 and a message naming the problem,
# before any socket is opened; the password never appears in a message.
set -uo pipefail
B=${SC_BUILD:?}
fail=0
check() { # want_rc pattern args...
  local want=$1 pat=$2; shift 2
  out=$("$B/smartcfg" send "$@" 2>&1); rc=$?
  if [ $rc -ne "$want" ] || ! grep -q -- "$pat" <<<"$out"; then
    echo "FAIL: send $*: exit $rc (want $want), output: $out (want /$pat/)"; fail=1
  fi
  if grep -q 'S3cretPw' <<<"$out"; then echo "FAIL: send $*: password printed"; fail=1; fi
}
OK="--bssid 00:11:22:33:44:55 --ip 127.0.0.1"
check 2 'password is required' --ssid x $OK
check 2 'SSID is empty' --ssid '' --password S3cretPw $OK
check 2 'longer than 32' --ssid 0123456789abcdef0123456789abcdefX --password S3cretPw $OK
check 2 'longer than 64' --ssid x --password "$(printf 'S3cretPw%.0s' $(seq 9))" $OK
check 2 'not a MAC' --ssid x --password S3cretPw --bssid 00:11:22:33:44 --ip 127.0.0.1
check 2 'not an IPv4' --ssid x --password S3cretPw --bssid 00:11:22:33:44:55 --ip 300.1.1.1
check 2 'not an address of this host' --ssid x --password S3cretPw --bssid 00:11:22:33:44:55 --ip 198.51.100.7
check 2 "no network interface named" --ssid x --password S3cretPw $OK --iface nosuchif0
check 2 'hex digits' --ssid-hex 41424 --password S3cretPw $OK
check 2 'exclude each other' --ssid x --password S3cretPw $OK --token t --cloud http://x
check 2 'exclude each other' --ssid x --password S3cretPw $OK --multicast --dest 127.0.0.1
check 2 'http:// or https://' --ssid x --password S3cretPw $OK --cloud ftp://x
check 2 'printable ASCII' --ssid x --password S3cretPw $OK --token 'a b'
check 2 'count' --ssid x --password S3cretPw $OK --count -1
check 2 'timeout' --ssid x --password S3cretPw $OK --timeout 0
check 2 'unknown option' --ssid x --password S3cretPw $OK --frobnicate
check 0 'usage: smartcfg send' --help
exit $fail
