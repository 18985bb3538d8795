# SPDX-License-Identifier: Apache-2.0
# A private PostgreSQL server for the cloud's tests (sourced after lib/cloud.bash, whose fail
# it uses; not a test itself): initdb in a temp dir, password authentication, the superuser
# `smartcfg`, a random password, listening on the address and port the test gives.
#   pg_init PORT [ADDRESS]   makes the cluster (not started): sets PGPORT, PGADDR (default
#                            127.0.0.1), PGDIR, PGPASS
#   pg ARGS                  pg_ctl on it, as the server's user (PostgreSQL refuses root)
#   pg_start                 starts it; fails the test when it does not start
#   pg_gone                  stops it at once and removes PGDIR
#   pg_on_exit [FUNCTION]    the test's EXIT trap: FUNCTION (given the exit code: the test's
#                            own processes), pg_gone, then lib/cloud.bash's cleanup
#   sql 'SQL'                one statement through psql as smartcfg, rows unaligned
command -v psql >/dev/null 2>&1 || PATH="$PATH:/usr/lib/postgresql/15/bin"
PGBIN=$(dirname "$(readlink -f "$(command -v initdb || echo /usr/lib/postgresql/15/bin/initdb)")")
[ -x "$PGBIN/postgres" ] || fail "PostgreSQL server binaries not found (make deps: postgresql)"
PG_AS=()
PGDIR=""
pg_init() {
    PGPORT=$1 PGADDR=${2:-127.0.0.1}
    PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/sc-pg.XXXXXX")
    if [ "$(id -u)" = 0 ]; then
        local os
        os=$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)
        chown "$os" "$PGDIR"
        PG_AS=(runuser -u "$os" --)
    fi
    PGPASS="pg-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    printf '%s\n' "$PGPASS" > "$PGDIR/pw" && chmod 644 "$PGDIR/pw"
    "${PG_AS[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U smartcfg --pwfile="$PGDIR/pw" -A scram-sha-256 --no-sync >/dev/null \
        || fail "initdb failed"
    # initdb's pg_hba.conf lets in loopback's 127.0.0.1 only
    [ "$PGADDR" = 127.0.0.1 ] || echo "host all all $PGADDR/32 scram-sha-256" >> "$PGDIR/data/pg_hba.conf"
}
pg() { "${PG_AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" "$@"; }
pg_start() {
    pg -w -t 60 -o "-c listen_addresses=$PGADDR -p $PGPORT -k $PGDIR" start >/dev/null \
        || { tail -20 "$PGDIR/log"; fail "PostgreSQL did not start"; }
}
pg_gone() {
    [ -n "$PGDIR" ] || return 0
    pg -m immediate stop >/dev/null 2>&1
    rm -rf "$PGDIR"
}
sql() { PGPASSWORD=$PGPASS "$PGBIN/psql" -h "$PGADDR" -p "$PGPORT" -U smartcfg -d postgres -v ON_ERROR_STOP=1 -Atc "$1"; }
pg_on_exit() {
    PG_BEFORE_EXIT=${1:-}
    trap pg_exit EXIT
}
pg_exit() {
    local rc=$?
    set +e   # under set -e, (exit $rc) would end the trap here: no cloud stderr, $T left behind
    [ -n "$PG_BEFORE_EXIT" ] && "$PG_BEFORE_EXIT" "$rc"
    pg_gone
    (exit $rc)
    cleanup
}
