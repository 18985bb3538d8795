# SPDX-License-Identifier: Apache-2.0
# The AT tests' device on a pty (sourced after lib/cloud.bash; not a test itself).
# at_session TAG SCRIPT [device options...]: runs SCRIPT through at_host.py against
# `smartcfg device --at` (virtual radio, simulated AP "ap"/"password1", no provisioning cloud
# step, the local cloud's MQTT broker, a state dir of its own); on failure prints the host's
# transcript and the device's last lines and fails the test.
at_session() {
    local tag=$1 script=$2
    shift 2
    AT_DEV_OUT=$T/$tag-dev.out AT_DEV_ERR=$T/$tag-dev.err python3 "${SC_SRC:?}/tests/integration/at_host.py" "$script" -- \
        "$SMARTCFG" device --radio "udp:$(free_port)" --join sim:ap:password1:127.0.0.1 --no-cloud --at '{tty}' \
        --broker "127.0.0.1:$MQTT_PORT" --state-dir "$T/state-$tag" --log-level debug "$@" \
        >"$T/$tag-host.out" 2>"$T/$tag-host.err" \
        || { cat "$T/$tag-host.out"; tail -n 30 "$T/$tag-dev.err"; fail "AT session $tag"; }
}
