# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/test-cluster.sh and bench/cluster/run.sh: a private PostgreSQL (initdb in
# a temporary directory) and an N-node RabbitMQ cluster on loopback, every part with its own
# ports, node names, Erlang cookie (in a temporary HOME) and epmd, so two runs on one machine
# (or another session's broker) never meet. Caller sets CL_DIR (an empty directory it owns)
# and calls cl_cleanup on exit (it also kills the workers listed in W_PID). Nothing here talks to anything but 127.0.0.1.

RMQ_BIN=${RMQ_BIN:-/usr/lib/rabbitmq/bin}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

# Ports leased below the kernel's ephemeral range (tests/integration/lib/free_port.py says why):
# a port from bind(0) could be handed to some outgoing connection before the node binds it,
# and the node then dies with dist_port_already_used (seen in the bench beside other tests).
CL_FREE_PORT_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/lib" && pwd)/free_port.py
cl_free_port() { python3 "$CL_FREE_PORT_PY" $$; }

cl_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# Every rabbitmq command of this cluster: its own HOME (cookie), epmd port and no system env file.
# rabbitmqctl's Erlang VM without its schedulers' busy wait (CL_CTL_ERL_ARGS to choose): erl's
# default spins idle schedulers, and beside `stress-ng --cpu 2` a rabbitmqctl run took 7.4-10.8 s
# with it, 1.7-3.8 s without (the nodes themselves run without it: rabbitmq-env's default).
cl_rmq_env() {
  env HOME="$CL_DIR/home" ERL_EPMD_PORT="$CL_EPMD" ERL_CRASH_DUMP="$CL_DIR/erl_crash.dump" \
    RABBITMQ_CONF_ENV_FILE=/dev/null \
    RABBITMQ_CTL_ERL_ARGS="${CL_CTL_ERL_ARGS-+sbwt none +sbwtdcpu none +sbwtdio none}" "$@"
}
cl_ctl() { # cl_ctl <node index> args...
  local i=$1; shift
  cl_rmq_env "$RMQ_BIN/rabbitmqctl" -n "${CL_NODE[$i]}" "$@"
}

# cl_rmq_setup N AUTH_URL: writes the config of N nodes. AUTH_URL is the cloud's HTTP service
# (http://127.0.0.1:PORT) that answers rabbitmq_auth_backend_http for the devices.
cl_rmq_setup() {
  local n=$1 auth=$2 i
  CL_EPMD=$(cl_free_port)
  mkdir -p "$CL_DIR/home"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$CL_DIR/home/.erlang.cookie"
  chmod 400 "$CL_DIR/home/.erlang.cookie"
  CL_NODE=() CL_AMQP=() CL_MQTT=() CL_PID=() CL_MGMTP=()
  for ((i = 0; i < n; i++)); do
    local d="$CL_DIR/rmq$i"
    mkdir -p "$d/mnesia" "$d/log"
    CL_NODE[i]="sc$i-$$@localhost"
    CL_AMQP[i]=$(cl_free_port) CL_MQTT[i]=$(cl_free_port)
    local dist; dist=$(cl_free_port)
    # CL_MGMT=1: the management plugin too (its HTTP API on CL_MGMTP[i]), for the cloud's
    # --rabbitmq-management; off by default, it costs each node seconds of boot.
    local mgmt=""
    if [ -n "${CL_MGMT:-}" ]; then
      CL_MGMTP[i]=$(cl_free_port)
      mgmt=$'\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = '"${CL_MGMTP[i]}"
    fi
    echo "[rabbitmq_mqtt,rabbitmq_auth_backend_http,rabbitmq_auth_backend_cache${CL_MGMT:+,rabbitmq_management}]." > "$d/enabled_plugins"
    # internal first: the workers' own AMQP user (made with rabbitmqctl); then the devices through
    # a cache in front of http: a device's repeated vhost/resource/topic questions (one per
    # subscribe/publish) are answered from the node's memory instead of a round trip to the one
    # auth HTTP service. Trade-off: a revoked device keeps what it was granted for up to
    # cache_ttl (2 s); refusals are not cached, so a newly allowed device is let in at once.
    cat > "$d/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:${CL_AMQP[i]}
mqtt.listeners.tcp.1 = 127.0.0.1:${CL_MQTT[i]}
mqtt.allow_anonymous = false
mqtt.exchange = amq.topic
loopback_users = none
auth_backends.1 = internal
auth_backends.2 = cache
auth_cache.cached_backend = http
auth_cache.cache_ttl = 2000
auth_http.http_method = post
auth_http.user_path = $auth/rabbitmq/user
auth_http.vhost_path = $auth/rabbitmq/vhost
auth_http.resource_path = $auth/rabbitmq/resource
auth_http.topic_path = $auth/rabbitmq/topic
log.file.level = warning
log.console = false
vm_memory_high_watermark.relative = 0.6
disk_free_limit.absolute = 50MB
load_definitions = $d/definitions.json${mgmt}
CONF
    printf 'NODENAME=%s\nDIST_PORT=%s\n' "${CL_NODE[i]}" "$dist" > "$d/env"
  done
}

cl_rmq_start() { # cl_rmq_start i: starts node i in the background (does not wait)
  local i=$1 d="$CL_DIR/rmq$1" dist
  dist=$(sed -n 's/^DIST_PORT=//p' "$d/env")
  # setsid directly under '&': $! is then the leader of the node's own process group, which
  # cl_rmq_kill takes down whole (the script, erl, beam, its port programs). env -C: the node
  # runs in its own directory, where Mnesia writes a core file if it has to (a MnesiaCore.*
  # once landed in the caller's working tree).
  setsid env -C "$d" HOME="$CL_DIR/home" ERL_EPMD_PORT="$CL_EPMD" RABBITMQ_CONF_ENV_FILE=/dev/null \
    ERL_CRASH_DUMP="$CL_DIR/rmq$1/erl_crash.dump" \
    RABBITMQ_NODENAME="${CL_NODE[$i]}" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="${CL_AMQP[$i]}" RABBITMQ_DIST_PORT="$dist" \
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log" RABBITMQ_PID_FILE="$d/pid" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="${CL_ERL_ARGS-}" \
    "$RMQ_BIN/rabbitmq-server" > "$d/stdout" 2>&1 < /dev/null &
  CL_PID[i]=$!
}

cl_rmq_wait() { # cl_rmq_wait i timeout_s [booted]: until node i takes clients. Polls its AMQP
  # port, not rabbitmqctl: each rabbitmqctl run is an Erlang VM start, seconds of CPU that the
  # booting nodes need on a small machine (beside `stress-ng --cpu 2`: 2-4 s each, and one node's
  # boot 24-28 s). The AMQP listener is the boot's last step (its log: the definitions imported,
  # the MQTT and management listeners started, then "Ready to start client connection
  # listeners", then AMQP), so once it answers the users and every listener are there.
  # "booted": also rabbitmqctl await_startup, the end of the boot a stop_app/join_cluster needs.
  local end=$(( $(date +%s) + $2 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/${CL_AMQP[$1]}") 2>/dev/null &&
        { [ -z "${3:-}" ] || cl_ctl "$1" -q --timeout 60 await_startup >/dev/null 2>&1; }; do
    if [ "$(date +%s)" -ge "$end" ] || ! kill -0 "${CL_PID[$1]}" 2>/dev/null; then
      cl_log "rabbitmq node $1 did not start; its log:"
      tail -n 30 "$CL_DIR/rmq$1/stdout" "$CL_DIR/rmq$1"/log/*.log >&2 2>/dev/null
      return 1
    fi
    sleep 0.2
  done
}

cl_rmq_kill() { # cl_rmq_kill i: the hard way (SIGKILL of the node's process group)
  local i=$1
  [ -n "${CL_PID[$i]:-}" ] || return 0
  kill -KILL -- "-${CL_PID[$i]}" 2>/dev/null || kill -KILL "${CL_PID[$i]}" 2>/dev/null || true
  wait "${CL_PID[$i]}" 2>/dev/null || true
  CL_PID[i]=""
}

cl_rmq_join() { # cl_rmq_join i: node i leaves its own cluster of one for node 0's
  # CL_JOIN_FAIL_ONCE=i makes node i's first join fail (make test-cluster sets it, so that
  # the retry below runs in every test run and not only on the day Mnesia trips).
  if [ "${CL_JOIN_FAIL_ONCE:-}" = "$1" ] && [ ! -e "$CL_DIR/rmq$1/join.failed" ]; then
    touch "$CL_DIR/rmq$1/join.failed"; cl_ctl "$1" -q stop_app; echo "join made to fail (CL_JOIN_FAIL_ONCE)"
    return 1
  fi
  cl_ctl "$1" -q stop_app && cl_ctl "$1" -q join_cluster "${CL_NODE[0]}" && cl_ctl "$1" -q start_app
}

# cl_rmq_definitions FILE USER PASS: the vhost / and the workers' user with all rights on it
# (CL_USER_TAGS: its tags, comma-separated, e.g. administrator for --rabbitmq-management), as
# a definitions file each node imports at boot (load_definitions). Before, rabbitmqctl
# add_user, set_permissions and set_user_tags: three Erlang VM starts, 20-30 s beside
# `stress-ng --cpu 2` (while rabbitmqctl still busy-waited, cl_rmq_env). The password is stored as RabbitMQ's salted SHA-256 hash.
cl_rmq_definitions() {
  python3 - "$@" "${CL_USER_TAGS:-}" <<'PY'
import base64, hashlib, json, os, sys
path, user, pw, tags = sys.argv[1:5]
salt = os.urandom(4)
h = base64.b64encode(salt + hashlib.sha256(salt + pw.encode()).digest()).decode()
d = {"users": [{"name": user, "password_hash": h, "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [t for t in tags.split(",") if t]}],
     "vhosts": [{"name": "/"}],
     "permissions": [{"user": user, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}]}
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(d, f)
PY
}

# cl_rmq_cluster N USER PASS: starts N nodes in parallel, each with the workers' user
# (cl_rmq_definitions), and joins 1..N-1 to node 0 with rabbitmqctl join_cluster (node 0 is
# the seed: a joining node's own copy of the user is replaced by node 0's).
cl_rmq_cluster() {
  local n=$1 user=$2 pass=$3 i
  for ((i = 0; i < n; i++)); do
    cl_rmq_definitions "$CL_DIR/rmq$i/definitions.json" "$user" "$pass" || return 1
    cl_rmq_start "$i"
  done
  # a node of one takes clients once its AMQP port answers; the joins need the whole boot
  for ((i = 0; i < n; i++)); do cl_rmq_wait "$i" 120 $([ "$n" -gt 1 ] && echo booted) || return 1; done
  # The joins run in parallel too: each is a stop_app / join_cluster / start_app cycle of
  # seconds. Mnesia usually takes concurrent joiners to one seed, but not always: once (CI,
  # 2026-12-04) a joiner's schema copy was aborted ({sync_dump_log, schema_prepare}) while the
  # other joined. A node whose parallel join failed is therefore joined again alone, after
  # the others, from a reset node (its half-made schema copy gone), at most twice more.
  local jobs=() a
  for ((i = 1; i < n; i++)); do
    cl_rmq_join "$i" > "$CL_DIR/rmq$i/join.log" 2>&1 &
    jobs+=($!)
  done
  for ((i = 1; i < n; i++)); do
    wait "${jobs[$((i - 1))]}" && continue
    for a in 2 3; do
      cl_log "node $i did not join the cluster (attempt $((a - 1))), joining it again alone"
      # forget: node 0 may have recorded a joiner whose own copy was aborted
      { cl_ctl "$i" -q stop_app; cl_ctl 0 -q forget_cluster_node "${CL_NODE[$i]}"
        cl_ctl "$i" -q reset && cl_rmq_join "$i"; } \
        >> "$CL_DIR/rmq$i/join.log" 2>&1 && continue 2
    done
    cl_log "node $i could not join the cluster:"; cat "$CL_DIR/rmq$i/join.log" >&2; return 1
  done
}

cl_rmq_stop_all() {
  local i
  for i in "${!CL_PID[@]}"; do cl_rmq_kill "$i"; done
  # Our epmd (started by the first node on $CL_EPMD) ends with a kill request on its port.
  # epmd refuses it while a node is still registered, and a killed node's registration goes
  # only when epmd sees its connection close: asked at once, it sometimes refused and stayed
  # (two left running after one day's runs). So ask again until it is gone, 5 s at most.
  [ -n "${CL_EPMD:-}" ] || return 0
  local t
  for ((t = 0; t < 50; t++)); do
    ERL_EPMD_PORT=$CL_EPMD epmd -names >/dev/null 2>&1 || return 0
    ERL_EPMD_PORT=$CL_EPMD epmd -kill >/dev/null 2>&1 || true
    sleep 0.1
  done
  cl_log "epmd on port $CL_EPMD did not stop"
}

# PostgreSQL: one server in $CL_DIR/pg on a free port, trust auth on loopback only. Prints
# URL=<postgresql://...> last (callers run it in the background, next to the RabbitMQ boot).
cl_pg_run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cl_pg_start() {
  local port d="$CL_DIR/pg"
  port=$(cl_free_port)
  mkdir -p "$d"
  # initdb and postgres refuse to run as root: as root they run as the postgres user.
  [ "$(id -u)" = 0 ] && chown -R postgres "$d"
  cl_pg_run "$PG_BIN/initdb" -D "$d/data" -A trust -U smartcfg --no-sync >"$d/initdb.log" 2>&1 ||
    { cat "$d/initdb.log" >&2; return 1; }
  cl_pg_run "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $d -c max_connections=200" start >/dev/null ||
    { cat "$d/server.log" >&2; return 1; }
  echo "URL=postgresql://smartcfg@127.0.0.1:$port/postgres"
}
cl_pg_stop() {
  [ -f "$CL_DIR/pg/data/postmaster.pid" ] || return 0
  cl_pg_run "$PG_BIN/pg_ctl" -D "$CL_DIR/pg/data" -m immediate stop >/dev/null 2>&1 || true
}
# The caller's workers (W_PID), the nodes, PostgreSQL, then $CL_DIR: the EXIT trap.
cl_cleanup() {
  local p
  for p in "${W_PID[@]}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done
  cl_rmq_stop_all
  cl_pg_stop
  rm -rf "$CL_DIR"
}
