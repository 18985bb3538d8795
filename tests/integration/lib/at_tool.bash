# SPDX-License-Identifier: Apache-2.0
# The tool-mode tests' common part (sourced; not a test itself): the local cloud with its
# MQTT/TLS listener, as Tencent's AT test tool talks to IoT Explorer (mode 1), and the run of a
# drive.py written against lib/at_tool.py. Needs SC_BUILD and SC_SRC.
. "$(dirname "${BASH_SOURCE[0]}")/cloud.bash"
MQTTS_PORT=$(free_port)
BASE="https://127.0.0.1:$HTTP_PORT"
CURL_TLS=(--cacert "$T/tls/ca.crt")
NO_LOGIN=1 start_cloud --tls --mqtts 127.0.0.1:$MQTTS_PORT

# run_drive WHAT [VAR=value...]: runs $T/drive.py with the session's environment and those
# variables; fails the test with WHAT when it fails.
run_drive() {
    local what=$1
    shift
    env "$@" SMARTCFG="$SMARTCFG" SC_SRC="$SC_SRC" BASE="$BASE" KEY="$(cat "$ADMIN_KEY_FILE")" T="$T" \
        MQTT_PORT="$MQTTS_PORT" UDP_PORT="$(free_port)" CA="$T/tls/ca.crt" EVENTS="$T/cloud.events" \
        timeout 120 python3 "$T/drive.py" || fail "$what"
}
