#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make bench-cluster: bind throughput and latency of the local cloud as workers of a 3-node
# RabbitMQ cluster (1 and 2 workers) and, for comparison, the default mosquitto + SQLite, for
# SIZES devices (default "10000 50000"), each device its own MQTT connection. Then the cost
# of a kill: 2 workers, the queue leader's node and a worker SIGKILLed at a quarter of the
# binds, the slowest device's latency. Prints "BENCH <name> <value> <unit>" (docs/scale.md).
# The clock runs from the first CONNECT to the last code-0 reply: connect, login (checked by
# the cloud), subscribe and bind. Devices and tokens are written into the registry with SQL
# beforehand (setup is not measured); the load client is bench_cloud --load, split over
# several processes so 50 000 connections fit the per-process descriptor limit.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-$top/build}" && pwd)
SC=$BUILD/smartcfg LOADER=$BUILD/bench/bench_cloud
SIZES=${SIZES:-10000 50000}
# Which rows: "cluster" (1 and 2 workers per size), "kill" (2 workers, a node and a worker
# killed, first size), "mosquitto" (the default broker and SQLite per size).
CONFIGS=${CONFIGS:-cluster kill mosquitto}
WORKERS=${WORKERS:-1 2}
LOADNO=0
want() { [[ " $CONFIGS " == *" $1 "* ]]; }
PER_LOADER=15000
CL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sc-bench-cluster.XXXXXX")
chmod 755 "$CL_DIR"
. "$top/scripts/cluster-lib.sh"
W_PID=()
# on any exit (also ^C or a TERM): the load processes and the memory guard first, then the cluster
trap 'kill $(jobs -p) 2>/dev/null; cl_cleanup' EXIT
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log() { echo "bench-cluster: $*" >&2; }

HTTP=$(cl_free_port)
WPASS=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
if "$SC" cloud --help 2>&1 | grep -q 'postgresql://'; then PG=1; else PG=""; fi
if want cluster || want kill; then
    cl_rmq_setup 3 "http://127.0.0.1:$HTTP"
    if [ -n "$PG" ]; then cl_pg_start > "$CL_DIR/pg.out" 2>&1 & PG_JOB=$!; fi
    cl_rmq_cluster 3 smartcfg-worker "$WPASS"
    if [ -n "$PG" ]; then wait $PG_JOB; DB=$(sed -n 's/^URL=//p' "$CL_DIR/pg.out"); else DB=$CL_DIR/cluster.db; fi
    STORE=$([ -n "$PG" ] && echo postgresql || echo sqlite)
    log "cluster up; store $STORE"
fi

amqp_list() { local s="" i; for i in "$@"; do s="$s${s:+,}127.0.0.1:${CL_AMQP[$i]}"; done; echo "amqp://smartcfg-worker:$WPASS@$s"; }
start_worker() { # k node-order...
    local k=$1; shift
    "$SC" cloud --rabbitmq "$(amqp_list "$@")" --http 127.0.0.1:$HTTP --db "$DB" \
        --admin-key-file "$CL_DIR/admin.key" --prefetch 256 > "$CL_DIR/w$k.events" 2> "$CL_DIR/w$k.err" &
    W_PID[k]=$!
    for _ in $(seq 3000); do sleep 0.1
        (exec 3<>"/dev/tcp/127.0.0.1/$HTTP") 2>/dev/null && return 0; done
    log "worker $k did not start: $(tail -3 "$CL_DIR/w$k.err")"; exit 1
}
# settle: after a row, until RabbitMQ has closed the row's device connections and dropped their
# subscription queues (10 000 take RabbitMQ 3.10 minutes on 2 cores; a worker started meanwhile
# waits for its AMQP connection, and the next row would be measured against the clean-up).
settle() {
    local t0=$SECONDS n
    while n=$(cl_ctl 0 -q list_queues name 2>/dev/null | grep -c '^mqtt-subscription-'); [ "${n:-0}" -gt 0 ]; do
        [ $((SECONDS - t0)) -gt 900 ] && { log "RabbitMQ still holds $n device queues after 900 s"; return 0; }
        sleep 5
    done
    log "RabbitMQ settled in $((SECONDS - t0)) s"
}
stop_workers() { local k; for k in "${!W_PID[@]}"; do [ -n "${W_PID[$k]}" ] && kill -TERM "${W_PID[$k]}" 2>/dev/null && wait "${W_PID[$k]}" 2>/dev/null; W_PID[k]=""; done; true; }

# load NAME DB BROKERS N [kill]: registers N devices, runs the loaders, prints BENCH lines.
load() {
    local name=$1 db=$2 brokers=$3 n=$4 kill=${5:-} P
    # A product of its own per row: rows share one database, and a device or token left by an
    # earlier row must not count (or collide) in this one.
    LOADNO=$((LOADNO + 1))
    P=$(printf 'BENCH%02d%s' "$LOADNO" "$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)")
    python3 "$top/scripts/cluster_setup.py" sql "$db" "$P" "$n" "$CL_DIR/load.all"
    rm -f "$CL_DIR"/slice.* "$CL_DIR"/res.* "$CL_DIR"/out.*
    # slices of PER_LOADER devices, each file with its own "product" line
    tail -n +2 "$CL_DIR/load.all" | split -l $PER_LOADER - "$CL_DIR/slice."
    # CONNECTING devices at once over all loaders (default 100): 400 at once thrashed three
    # RabbitMQ 3.10 nodes on 2 cores (CONNACKs slower than the devices' 10 s timeout)
    local pids=() f nl wave
    nl=$(ls "$CL_DIR"/slice.* | wc -l)
    wave=$(( ${CONNECTING:-100} / nl )); [ "$wave" -ge 1 ] || wave=1
    for f in "$CL_DIR"/slice.*; do
        { echo "product $P"; cat "$f"; } > "$f.load"
        "$LOADER" --load "$f.load" --brokers "$brokers" --out "${f/slice/res}" --deadline "$(( n / 25 > 600 ? n / 25 : 600 ))" --sub-qos 0 --wave "$wave" > "${f/slice/out}" 2>&1 &
        pids+=($!)
    done
    # MIN_FREE_MB (default 1500): the loaders are stopped when the machine runs out of memory
    # (the RabbitMQ nodes grow with every connection) rather than let the kernel pick a victim
    ( while sleep 5; do
        a=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
        if [ "${a:-0}" -lt $(( ${MIN_FREE_MB:-1500} * 1024 )) ]; then
            log "$name: only $((a / 1024)) MB of memory left: loaders stopped"; kill "${pids[@]}" 2>/dev/null; exit 0
        fi
      done ) &
    local guard=$!
    if [ -n "$kill" ]; then
        for _ in $(seq 3000); do
            [ "$(cat "$CL_DIR"/res.* 2>/dev/null | wc -l)" -gt 0 ] && break
            b=$(q "$db" "SELECT count(*) FROM tokens WHERE bound_at IS NOT NULL AND product_id='$P'")
            [ "$b" -ge $((n / 4)) ] && break
            sleep 0.1
        done
        local leader victim=0 i
        leader=$(cl_ctl 1 -q list_queues name leader | awk '$1 == "smartcfg.bind" {print $2}')
        for i in 0 1 2; do [ "${CL_NODE[$i]}" = "$leader" ] && victim=$i; done
        cl_rmq_kill "$victim"
        kill -KILL "${W_PID[2]}"; W_PID[2]=""
        log "$name: killed node $victim and worker 2 at $b bound"
    fi
    local rc=0
    for f in "${pids[@]}"; do wait "$f" || rc=1; done
    kill "$guard" 2>/dev/null; wait "$guard" 2>/dev/null || true
    [ $rc = 0 ] || log "$name: not every device bound: $(grep -h '^LOAD devices' "$CL_DIR"/out.* | tr '\n' ' ')"
    # elapsed: the slowest loader; latencies: every device
    local el
    el=$(grep -h '^LOAD devices' "$CL_DIR"/out.* | sed 's/.*elapsed_ms=\([0-9]*\).*/\1/' | sort -n | tail -1)
    # KEEP=DIR: the per-device results (name, code, latency ms, connections) of every row
    [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cat "$CL_DIR"/res.* > "$KEEP/$name.res"
    awk '$2 == 0 {print $3}' "$CL_DIR"/res.* | sort -n > "$CL_DIR/lat"
    local bound p99 mx
    bound=$(wc -l < "$CL_DIR/lat")
    p99=$(awk -v n="$bound" 'NR == int(n * 0.99 + 0.5) {print; exit}' "$CL_DIR/lat")
    mx=$(tail -1 "$CL_DIR/lat")
    echo "BENCH ${name}_bound $bound devices"
    echo "BENCH ${name}_total $(awk -v e="$el" 'BEGIN {printf "%.1f", e / 1000}') s"
    echo "BENCH ${name}_binds_per_s $(awk -v b="$bound" -v e="$el" 'BEGIN {printf "%.0f", b / (e / 1000)}') binds/s"
    echo "BENCH ${name}_bind_p99 ${p99:-0} ms"
    echo "BENCH ${name}_bind_max ${mx:-0} ms"
}
q() { if [[ $1 == postgres* ]]; then psql "$1" -X -A -t -q -c "$2"; else sqlite3 "$1" "$2"; fi; }

BROKERS=$(printf '127.0.0.1:%s,' "${CL_MQTT[@]}"); BROKERS=${BROKERS%,}
if want cluster; then
    for n in $SIZES; do
        for w in $WORKERS; do
            start_worker 1 0 1 2
            [ "$w" = 2 ] && start_worker 2 1 2 0
            load "cluster_${STORE}_${n}_${w}worker" "$DB" "$BROKERS" "$n"
            stop_workers; settle
        done
    done
fi
if want kill; then   # 2 workers, the first size
    n=${SIZES%% *}
    start_worker 1 0 1 2; start_worker 2 1 2 0
    load "cluster_${STORE}_${n}_kill" "$DB" "$BROKERS" "$n" kill
    stop_workers
fi
if want cluster || want kill; then cl_rmq_stop_all; fi

# the default: one smartcfg cloud, its mosquitto and SQLite
if want mosquitto; then
    MQ=$(cl_free_port)
    # One cloud process relays every device connection (two descriptors each): it takes at most
    # (RLIMIT_NOFILE - 512) / 2 devices at once and refuses the rest (apps/cloud/cloud_main.c).
    cap=$(( ($(ulimit -n) - 512) / 2 ))
    for n in $SIZES; do
        [ "$n" -le "$cap" ] || log "mosquitto_sqlite_$n: more devices than one cloud process takes at once with $(ulimit -n) descriptors ($cap): the rest are refused (raise ulimit -n)"
        db=$CL_DIR/mosq-$n.db
        "$SC" cloud --http 127.0.0.1:$HTTP --mqtt 127.0.0.1:$MQ --db "$db" --mqtt-per-address 1000000 > /dev/null 2>&1 &
        W_PID[9]=$!
        for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$HTTP") 2>/dev/null && break; sleep 0.1; done
        load "mosquitto_sqlite_${n}" "$db" "127.0.0.1:$MQ" "$n"
        kill -TERM "${W_PID[9]}"; wait "${W_PID[9]}" 2>/dev/null || true; W_PID[9]=""
    done
fi
