#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make test-tsan: the tests that run our threads (the local cloud's HTTP, binding, revocation
# and store threads; the POSIX MQTT port's network thread; the device
# host's output writer; the AT front-end; the lwIP port's tcpip thread) against a
# ThreadSanitizer tree (clang, -fsanitize=thread). Not part of make test.
# Every report (data race, lock-order inversion, destroyed mutex, signal-unsafe call) is
# written under $BUILD_TSAN/tsan-logs; any report fails the run. exitcode=0: a program with a
# report still exits as it would, so one report does not turn into a cascade of failed
# checks, and the logs say what was found.
# The broker plugin runs inside mosquitto, which is not instrumented, and preloading the TSan
# runtime into it (as test-asan-integ does with ASan's) crashes at start (clang 14: even
# `LD_PRELOAD=libclang_rt.tsan-x86_64.so /bin/true` dies of SIGSEGV). So the cloud's broker
# loads the plugin of the normal build ($BUILD, built here if need be) through
# SMARTCFG_AUTH_PLUGIN: the plugin's own code is outside this run (ASan covers it).
set -euo pipefail
BUILD=${BUILD:-build} BUILD_TSAN=${BUILD_TSAN:-build-tsan}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
JOBS=${JOBS:-2}
# All unit tests, and the integration tests whose programs run threads of ours: every one that
# runs `smartcfg cloud`, `smartcfg device` (its output writer), `smartcfg send` against a cloud
# (the MQTT port's network thread), the AT front-end or the lwIP port. Left out: the ones that
# run none (decode_ of a capture, rx_, send_wire, docs_run, license_spdx, bench_doc_figures)
# and package_install/package_subproject, which install or compile the tree themselves.
# Timed on 2 cores beside other work, in parts: unit 91 s; at_ + lwip_ 518 s; the cloud_/at_
# ones that need the broker plugin + device_cloud + send_cloud 568 s, cloud_pg|rabbitmq|fleet
# + device_cli|output_stall|tls_psk|virtual + send_devices the rest (about 25 min so far, 2
# jobs); then, 1 job: security_ + e2e_three_hosts + device_service + the soaks 383 s, the other
# cloud_ + send_ + console_browser + device_cloud_protocols 350 s, cli_ + the other device_ +
# decode_clock|terminal + json_lines + wireshark_dissector 346 s. About 40 min in all (the sum
# of the parts: the whole has not been timed in one run).
TESTS=${TSAN_TESTS:-'^(unit\.|integ\.(at_|lwip_|security_|cli_(convention|logs|man_completion|stop)$|cloud_(backup|bind|broker_dns|broker_name|busy|disk_full|dynreg|e2e|fleet|ota_offline|pg|pg_cut|plugin|rabbitmq|sdk|sign|slowloris|soak|stop|supervise)$|console_browser$|decode_(clock|terminal)$|device_(8266|channels|cli|cloud|cloud_protocols|output_stall|pcap_veth|replay|service|soak|tls_psk|virtual|virtual_mcast|virtual_protocols|wpa_real)$|e2e_three_hosts$|json_lines$|send_(cloud|cloud_stall|count_cloud|devices|e2e_device|rack|rack_expect|usage)$|wireshark_dissector$))'}
EXCLUDE=${TSAN_EXCLUDE:-'^$'}
# -O1: TSan's own advice (a -O0 tree runs the instrumented code about twice as slowly)
cmake -S . -B "$BUILD_TSAN" -DSC_TSAN=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 >/dev/null
cmake --build "$BUILD_TSAN" -j "$JOBS"
B=$(cd "$BUILD_TSAN" && pwd)
mkdir -p "$B/tsan-logs"
rm -f "$B"/tsan-logs/*
chmod 1777 "$B/tsan-logs"  # integ.device_service runs a cloud as nobody
cmake -S . -B "$BUILD" >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target smartcfg_auth >/dev/null
PLUGIN=$(cd "$BUILD" && pwd)/smartcfg_auth.so
rc=0
(cd "$B" && SMARTCFG_AUTH_PLUGIN="$PLUGIN" \
    SOAK_RSS_MAX_KB=2000000 AT_SOAK_RSS_MAX_KB=2000000 DEV_SOAK_RSS_MAX_KB=2000000 \
    TSAN_OPTIONS="halt_on_error=0:exitcode=0:second_deadlock_stack=1:history_size=4:log_path=$B/tsan-logs/tsan:suppressions=$top/tests/tsan.supp" \
    ctest --output-on-failure -R "$TESTS" -E "$EXCLUDE" -j "$JOBS") || rc=1
if [ -n "$(ls -A "$B/tsan-logs")" ]; then
    echo "test-tsan: ThreadSanitizer reports in $B/tsan-logs:" >&2
    for f in "$B"/tsan-logs/*; do echo "--- $f" >&2; head -n 60 "$f" >&2; done
    rc=1
fi
exit $rc
