#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Unpacks Debian's source package of the installed liblwip-dev into DEST (default
# /usr/local/src/lwip-debian), because Debian builds liblwip.so without lwIP's MQTT client:
# the headers (lwip/apps/mqtt.h) are packaged, mqtt.c is only in the source package.
# ports/lwip compiles that one file from there; nothing of lwIP is kept in this repository.
# Uses apt-get with a private sources list and cache (the system's apt configuration is not
# touched) and fetches exactly the version of liblwip-dev that is installed. Idempotent.
set -eu
DEST=${1:-/usr/local/src/lwip-debian}
VER=$(dpkg-query -W -f='${source:Version}' liblwip-dev 2>/dev/null) || {
    echo "fetch-lwip-source: liblwip-dev is not installed" >&2; exit 1; }
if [ -f "$DEST/.smartcfg-version" ] && [ "$(cat "$DEST/.smartcfg-version")" = "$VER" ] &&
   [ -f "$DEST/src/apps/mqtt/mqtt.c" ]; then
    exit 0
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/lists/partial" "$W/cache/archives/partial" "$W/src" "$W/parts"
# The archive apt already installs this machine's packages from, asked for sources instead
# of binaries (deb822 .sources files and one-line .list files alike).
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" >"$W/parts/$(basename "$f")"
done
: >"$W/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^deb /deb-src /p' "$f" >>"$W/sources.list"
done
APT="-o Dir::Etc::SourceList=$W/sources.list -o Dir::Etc::SourceParts=$W/parts
     -o Dir::State::Lists=$W/lists -o Dir::Cache=$W/cache -o APT::Sandbox::User=root"
echo "fetch-lwip-source: Debian source package lwip $VER -> $DEST"
# shellcheck disable=SC2086
apt-get $APT -qq update
# shellcheck disable=SC2086
if ! (cd "$W/src" && apt-get $APT -qq source "lwip=$VER" >/dev/null 2>&1); then
    # The archive moved on (a point release): the suite's current source. mqtt.c is compiled
    # against the installed headers either way.
    echo "fetch-lwip-source: lwip $VER is no longer in the archive; taking the suite's current source" >&2
    rm -rf "${W:?}/src"/*
    # shellcheck disable=SC2086
    (cd "$W/src" && apt-get $APT -qq source lwip >/dev/null)
fi
tree=$(find "$W/src" -mindepth 1 -maxdepth 1 -type d | head -n1)
[ -n "$tree" ] && [ -f "$tree/src/apps/mqtt/mqtt.c" ] || {
    echo "fetch-lwip-source: the source package has no src/apps/mqtt/mqtt.c" >&2; exit 1; }
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
cp -a "$tree" "$DEST"
echo "$VER" >"$DEST/.smartcfg-version"
