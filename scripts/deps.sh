#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian package smartcfg needs to build, test, benchmark and demo.
# Idempotent: does nothing (not even apt-get update) when everything is present.
set -eu
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev llvm
libcjson-dev libmbedtls-dev libpcap-dev libnl-3-dev libnl-genl-3-dev
libmosquitto-dev mosquitto mosquitto-dev mosquitto-clients libmicrohttpd-dev
libcurl4-openssl-dev libssl-dev libsqlite3-dev sqlite3 jq libcmocka-dev
gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
iproute2 iw wpasupplicant openssl socat tcpdump curl python3 nodejs procps psmisc
liblwip-dev dpkg-dev dnsmasq-base qemu-system-arm picolibc-arm-none-eabi valgrind
libpq-dev postgresql rabbitmq-server librabbitmq-dev
tshark chromium stress-ng
man-db groff-base bsdextrautils"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm: Debian's package, unless a Node.js build that bundles npm is already there.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
# ports/lwip: Debian's lwip source package (its MQTT client is not in liblwip.so); idempotent
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
lwip_src() { $SUDO sh "$(dirname "$0")/../ports/lwip/fetch-lwip-source.sh"; }
[ -z "$missing" ] && { lwip_src; exit 0; }
echo "deps: installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
lwip_src
