#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Does libmosquitto bound what it receives when an MQTT 5 client asks for a maximum packet
# size? (docs/security.md F105: it does not.) Builds client.c against the system's libmosquitto
# and lets broker.py announce a 200 MB PUBLISH to it and send 120 MB; prints the client's
# memory as it goes. Needs gcc and libmosquitto-dev. Usage: sh run.sh
set -e
d=$(dirname "$0")
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
gcc -O1 -o "$t/client" "$d/client.c" -lmosquitto
dpkg-query -W -f 'libmosquitto1 ${Version}\n' libmosquitto1 2>/dev/null || true
timeout 60 python3 "$d/broker.py" "$t/client"
