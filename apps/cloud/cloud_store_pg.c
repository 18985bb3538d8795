/* SPDX-License-Identifier: Apache-2.0 */
/* The PostgreSQL backend of the registry (cloud_store.h), over libpq: `smartcfg cloud --db
 * postgresql://USER@HOST:PORT/DB`. Several cloud workers share one database, so nothing here
 * keeps state a request depends on besides the connection (docs/scale.md "Storage").
 *
 * Losing the server is an expected event, not a crash: the request in flight fails with
 * s->unavailable set (HTTP 503, no MQTT acknowledgement), later calls reconnect with a
 * doubling pause, and a transaction whose connection died is never "committed" on a new one
 * (its statements would otherwise run one by one in autocommit and COMMIT would only warn). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud_store.h"

#ifndef SMARTCFG_HAVE_LIBPQ

static int pg_open(cloud_store_t *s, const char *target, char *err, size_t errlen)
{
    (void)s, (void)target;
    snprintf(err, errlen, "this smartcfg was built without PostgreSQL support (libpq): use a SQLite file for --db");
    return -1;
}
const cloud_store_ops_t cloud_store_pg_ops = { .name = "postgresql", .open = pg_open };

#else

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include <libpq-fe.h>

#define SQL_MAX 2048
#define RECONNECT_MAX_MS 5000
/* How long the server lets one of our sessions sit inside a transaction with no statement
 * running before it ends the session (idle_in_transaction_session_timeout). The cloud's own
 * transactions run their statements back to back (a batch of binds: milliseconds); a
 * transaction that idles is a worker frozen or cut off mid-way, and its row locks (the token of
 * a bind) would otherwise stay until the server's TCP keepalive gives up on it, two hours by
 * default: every other worker's bind of that token, and with it the binding service's whole
 * batch, waited that long (F200). The frozen worker's COMMIT then fails: nothing acknowledged. */
#define IDLE_TXN_MS 10000

typedef struct {
    PGconn *c;
    pthread_mutex_t lock;     /* one PGconn is not thread-safe; results are independent of it */
    bool in_txn, broken;      /* broken: the connection died inside the transaction */
    bool stale;               /* connected to a read-only server: reconnect to find the primary */
    bool cut;                 /* answer() shut the connection at a bound: the reason to say */
    int64_t next_try_ms;
    unsigned pause_ms;
    int lock_want, lock_set;  /* lock_timeout wanted (pg_lock_wait) and in force on this session
                               * (0: the session's default, the server's or the role's; -1: not
                               * known, a SET that failed) */
} pg_t;

typedef struct {
    cloud_rows_t base;
    PGresult *res;
    int row, nrows;
} pg_rows_t;

#define PG(s) ((pg_t *)(s)->be)

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq messages end in a newline and may span lines: one line for a log. */
static void note_conn(cloud_store_t *s, bool unavailable, const char *what, const char *msg)
{
    char one[160];
    snprintf(one, sizeof one, "%s", msg && *msg ? msg : "unknown error");
    for (char *p = one; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = *(p + 1) ? ' ' : 0;
    cloud_store_note(s, unavailable, "%s: %s", what, one);
}

static void say(const char *fmt, const char *arg)
{
    if (cloud_store_settings.log) {
        char m[300];
        snprintf(m, sizeof m, fmt, arg);
        cloud_store_settings.log(m);
    }
}

/* Quiets the NOTICEs of CREATE … IF NOT EXISTS, which libpq would print on stderr. */
static void quiet(void *arg, const char *msg)
{
    (void)arg, (void)msg;
}

static PGresult *run_script(cloud_store_t *s, pg_t *p, const char *sql);

/* The connection just ended: said once (the reconnect says when it is back). When a bound of
 * ours shut it (answer(): a server that did not answer in time), the reconnect waits its pause:
 * the same request's next statement fails at once instead of waiting on that server again. */
static void conn_lost(pg_t *p)
{
    say("PostgreSQL connection lost: %s", "requests fail with 'unavailable' until it is back");
    if (p->cut)
        p->next_try_ms = mono_ms() + p->pause_ms;
}

/* lock_timeout = the wait wanted, when it is not the one in force (outside a transaction: a SET
 * in one would be undone by its ROLLBACK). 0 is the session's default, not "no limit": an
 * operator's `ALTER ROLE … SET lock_timeout` stays in force where no bound was asked for. A
 * failure leaves it unknown, to be tried again. */
static void apply_lock_wait(cloud_store_t *s, pg_t *p)
{
    if (p->lock_set == p->lock_want || p->in_txn || PQstatus(p->c) != CONNECTION_OK)
        return;
    char sql[48] = "SET lock_timeout TO DEFAULT";
    if (p->lock_want > 0)
        snprintf(sql, sizeof sql, "SET lock_timeout = %d", p->lock_want);
    PGresult *r = run_script(s, p, sql);
    p->lock_set = PQresultStatus(r) == PGRES_COMMAND_OK ? p->lock_want : -1;
    PQclear(r);
    if (PQstatus(p->c) != CONNECTION_OK) {   /* the next statement reconnects */
        conn_lost(p);
        p->cut = false;
    }
}

/* A new session (the first connection, or a reconnect): our settings, which live as long as it
 * does. Set here, not as connection options, so that a URL's own `options` cannot drop them;
 * IDLE_TXN_MS only where the server or the role has no idle-in-transaction limit of its own. */
static void session_setup(cloud_store_t *s, pg_t *p)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT set_config('idle_in_transaction_session_timeout', '%d', false)"
             " WHERE current_setting('idle_in_transaction_session_timeout') = '0'",
             IDLE_TXN_MS);
    PGresult *r = run_script(s, p, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        say("PostgreSQL: idle_in_transaction_session_timeout not set: %s", PQresultErrorMessage(r));
    PQclear(r);
    p->lock_set = 0;
    apply_lock_wait(s, p);
}

static int pg_open(cloud_store_t *s, const char *target, char *err, size_t errlen)
{
    pg_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Our defaults before dbname: the URL's own value, when it has one, wins (libpq takes the
     * keys in order, and the URL in dbname expands where dbname stands). So do the
     * keepalives and tcp_user_timeout: a server gone without a reset (a host down, a network cut)
     * while a query was in flight left the connection waiting for an answer with nothing of ours
     * unacknowledged, so only TCP keepalive could end it, after the system's 2 hours: the API's
     * lock with it (every request 503 busy, a database back at its address or not) and the
     * probes' connection (F92). Now a dead peer ends the query in about 11 s (5 + 3 x 2), and
     * data unacknowledged for 10 s ends it too; a slow query is not one (the server's kernel
     * answers the keepalives). */
    static const struct { const char *key, *val; } ours[] = {
        { "connect_timeout", "5" }, { "application_name", "smartcfg-cloud" }, { "keepalives", "1" },
        { "keepalives_idle", "5" }, { "keepalives_interval", "2" }, { "keepalives_count", "3" },
    };
    enum { OURS = sizeof ours / sizeof ours[0] };
    const char *keys[OURS + 3], *vals[OURS + 3];   /* + tcp_user_timeout, dbname, the end */
    size_t n = 0;
    for (; n < OURS; n++)
        keys[n] = ours[n].key, vals[n] = ours[n].val;
    if (PQlibVersion() >= 120000)   /* tcp_user_timeout is libpq 12's: an older one refuses the name */
        keys[n] = "tcp_user_timeout", vals[n++] = "10000";
    keys[n] = "dbname", vals[n++] = target;   /* last, whatever came before: the URL's values win */
    keys[n] = NULL, vals[n] = NULL;
    p->c = PQconnectdbParams(keys, vals, 1);
    /* Opened while serving (the auth threads', the probe's): a server down now is reconnected
     * at a later use (ensure). */
    bool later = (s->kind == CLOUD_STORE_AUTH || s->kind == CLOUD_STORE_PROBE) && p->c &&
                 PQstatus(p->c) != CONNECTION_OK;
    if (later) {
        note_conn(s, true, "cannot connect to PostgreSQL", PQerrorMessage(p->c));
        p->next_try_ms = mono_ms() + 250;
        p->pause_ms = 500;
    } else if (!p->c || PQstatus(p->c) != CONNECTION_OK) {
        note_conn(s, true, "cannot connect to PostgreSQL", p->c ? PQerrorMessage(p->c) : "out of memory");
        snprintf(err, errlen, "%s", s->err);
        PQfinish(p->c);
        free(p);
        return -1;
    }
    PQsetNoticeProcessor(p->c, quiet, NULL);
    pthread_mutex_init(&p->lock, NULL);
    if (!later) {
        p->pause_ms = 250;
        session_setup(s, p);
    }
    s->be = p;
    return 0;
}

static void pg_close(cloud_store_t *s)
{
    pg_t *p = PG(s);
    if (!p)
        return;
    PQfinish(p->c);
    pthread_mutex_destroy(&p->lock);
    free(p);
    s->be = NULL;
}

/* The owner's abort_fd is readable: its stop has begun (cloud_store_t). */
static bool aborted(const cloud_store_t *s)
{
    struct pollfd f = { .fd = s->abortable ? s->abort_fd : -1, .events = POLLIN };
    return s->abortable && poll(&f, 1, 0) == 1 && (f.revents & POLLIN);
}

/* How many hosts a connection's URL names (host or hostaddr: a comma-separated list). */
static int list_len(const char *v)
{
    int n = 1;
    for (; v && *v; v++)
        n += *v == ',';
    return n;
}

/* The list v's entry i (of a comma-separated list) equals w. */
static bool entry_is(const char *v, int i, const char *w)
{
    for (; i > 0 && v; i--)
        if ((v = strchr(v, ',')))
            v++;
    if (!v)
        return false;
    size_t n = strcspn(v, ",");
    return strlen(w) == n && !strncmp(v, w, n);
}

/* How many hosts c's options name, and (*now) the position in that list of the host c is
 * trying (PQhost and PQport: the first entry that matches), -1 when none matches. */
static int hosts_of(PGconn *c, int *now)
{
    PQconninfoOption *o = PQconninfo(c);
    const char *host = NULL, *hostaddr = NULL, *port = NULL, *h = PQhost(c), *pt = PQport(c);
    int nh = 1;
    for (PQconninfoOption *i = o; i && i->keyword; i++) {
        if (!i->val)
            continue;
        if (!strcmp(i->keyword, "host"))
            host = i->val;
        else if (!strcmp(i->keyword, "hostaddr"))
            hostaddr = i->val;
        else if (!strcmp(i->keyword, "port"))
            port = i->val;
        if ((!strcmp(i->keyword, "host") || !strcmp(i->keyword, "hostaddr")) && list_len(i->val) > nh)
            nh = list_len(i->val);
    }
    *now = -1;
    for (int k = 0; k < nh && *now < 0 && h && *h; k++) {
        bool named = (host && *host && entry_is(host, k, h)) || (hostaddr && *hostaddr && entry_is(hostaddr, k, h));
        bool at = !port || !*port || list_len(port) == 1 || !pt || entry_is(port, k, pt);
        if (named && at)
            *now = k;
    }
    PQconninfoFree(o);
    return nh;
}

/* The same connection's options with the host list turned by k (host, hostaddr and a port list
 * of the same length: the first k entries go last), started without waiting; NULL when there
 * is a single host or libpq cannot start it. */
static PGconn *hosts_turned(PGconn *c, int k)
{
    PQconninfoOption *o = PQconninfo(c);
    if (!o)
        return NULL;
    int nopt = 0, nh = 1;
    for (PQconninfoOption *i = o; i->keyword; i++, nopt++)
        if ((!strcmp(i->keyword, "host") || !strcmp(i->keyword, "hostaddr")) && i->val && list_len(i->val) > nh)
            nh = list_len(i->val);
    PGconn *n = NULL;
    const char **keys = calloc((size_t)nopt + 1, sizeof *keys), **vals = calloc((size_t)nopt + 1, sizeof *vals);
    char *turned[3] = { NULL, NULL, NULL };
    int j = 0, t = 0;
    if (nh > 1 && k > 0 && k < nh && keys && vals) {
        for (PQconninfoOption *i = o; i->keyword; i++) {
            if (!i->val)
                continue;
            const char *v = i->val;
            bool list = !strcmp(i->keyword, "host") || !strcmp(i->keyword, "hostaddr") || !strcmp(i->keyword, "port");
            if (list && list_len(v) == nh && t < 3 && (turned[t] = malloc(strlen(v) + 2))) {
                const char *rest = v;   /* past the first k entries */
                for (int m = 0; m < k; m++)
                    rest = strchr(rest, ',') + 1;
                sprintf(turned[t], "%s,%.*s", rest, (int)(rest - 1 - v), v);
                v = turned[t++];
            }
            keys[j] = i->keyword, vals[j++] = v;
        }
        keys[j] = vals[j] = NULL;
        n = PQconnectStartParams(keys, vals, 0);
    }
    for (int i = 0; i < 3; i++)
        free(turned[i]);
    free(keys);
    free(vals);
    PQconninfoFree(o);
    return n;
}

/* PQreset, which waits up to connect_timeout (5 s) for a server that does not answer; for an
 * owner with an abort_fd, the same connection made step by step, ended by the abort; for one
 * with a server wait (cloud_store_set_server_wait), made step by step with that wait for the
 * host it tries, after which it returns: the next reset starts at the next host. */
static void reset(cloud_store_t *s, pg_t *p)
{
    unsigned bound = s->server_wait_ms && s->server_wait_ms < 5000 ? s->server_wait_ms : 5000;
    if (!s->abortable && !s->server_wait_ms) {
        PQreset(p->c);
        return;
    }
    if (!PQresetStart(p->c))
        return;
    /* connect_timeout's 5 s, which only the blocking calls apply, for each host of a multi-host
     * URL in turn (docs/scale.md): one that does not answer (a frozen old primary after a
     * failover) is left for the next, as PQreset does. Giving up on the whole reset after the
     * first host's 5 s started every later try from that host again: the next were never
     * reached, and the main loop's binds failed for good. The next try starts after the host
     * whose time ran out (libpq has passed those before it: refused, or not a primary), not
     * one step on from the list's first entry: [refused, silent, good] took 10 s, not 5. */
    int64_t until = mono_ms() + bound;
    int passed = 0;   /* hosts of the URL tried in this reset */
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        struct pollfd fds[2] = { { .fd = PQsocket(p->c), .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT },
                                 { .fd = s->abortable ? s->abort_fd : -1, .events = POLLIN } };
        int64_t left = until - mono_ms();
        int n = left > 0 ? poll(fds, 2, (int)left) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 && !aborted(s)) {   /* this host's time is up: the next one first, if any */
            int now, nh = hosts_of(p->c, &now), k = now < 0 ? 1 : now + 1;
            passed += k;
            PGconn *c = passed < nh ? hosts_turned(p->c, k) : NULL;
            if (c && PQstatus(c) != CONNECTION_BAD) {
                shutdown(PQsocket(p->c), SHUT_RDWR);
                PQfinish(p->c);
                p->c = c;
                PQsetNoticeProcessor(c, quiet, NULL);
                if (s->server_wait_ms)   /* its wait is spent: the next reset goes on from here */
                    return;
                until = mono_ms() + bound;
                st = PGRES_POLLING_WRITING;
                continue;
            }
            PQfinish(c);
        }
        if (n <= 0 || (fds[1].revents & POLLIN)) {
            shutdown(PQsocket(p->c), SHUT_RDWR);   /* PQstatus stays short of CONNECTION_OK */
            return;
        }
        st = PQresetPoll(p->c);
    }
}

/* Called with the lock held, before each use. 0: usable now. */
static int ensure(cloud_store_t *s)
{
    pg_t *p = PG(s);
    s->unavailable = false;
    if (p->in_txn && p->broken) {
        cloud_store_note(s, true, "the database connection was lost during this transaction");
        return -1;
    }
    if (PQstatus(p->c) == CONNECTION_OK && !(p->stale && !p->in_txn))
        return 0;
    if (p->in_txn) {
        p->broken = true;
        cloud_store_note(s, true, "the database connection was lost during this transaction");
        return -1;
    }
    if (s->deadline_ms || aborted(s)) {   /* a bounded owner's stop: a reconnect could wait 5 s */
        cloud_store_note(s, true, "PostgreSQL connection lost; not reconnected during the stop");
        return -1;
    }
    int64_t now = mono_ms();
    if (now < p->next_try_ms) {
        cloud_store_note(s, true, "PostgreSQL unreachable (reconnecting)");
        return -1;
    }
    p->stale = false;
    reset(s, p);
    if (PQstatus(p->c) != CONNECTION_OK) {
        note_conn(s, true, "PostgreSQL unreachable", PQerrorMessage(p->c));
        p->next_try_ms = mono_ms() + p->pause_ms;
        p->pause_ms = p->pause_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : p->pause_ms * 2;
        return -1;
    }
    PQsetNoticeProcessor(p->c, quiet, NULL);
    p->pause_ms = 250;
    p->next_try_ms = 0;
    say("PostgreSQL connection %s", "re-established");
    session_setup(s, p);
    return 0;
}

/* The answer to the query just sent (PQsendQuery*), as PQexec gives it: the last result, an
 * error one in preference. Waits in poll(), so that the owner's bounds (cloud_store_t's
 * abort_fd, deadline_ms) end the wait: the query is then abandoned and the connection shut, so
 * libpq reports it lost (the caller's failed() marks the store unavailable). Without bounds it
 * waits as PQexec did (a dead peer ends it by the keepalives, F92). NULL: no result at all. */
static PGresult *answer(cloud_store_t *s, pg_t *p)
{
    PGresult *keep = NULL, *r;
    int64_t until = s->deadline_ms;
    if (s->server_wait_ms) {   /* the connection's own wait, within the owner's bound */
        int64_t w = mono_ms() + s->server_wait_ms;
        if (!until || w < until)
            until = w;
    }
    bool watch = s->abortable;
    for (;;) {
        while (PQisBusy(p->c)) {
            struct pollfd fds[2] = { { .fd = PQsocket(p->c), .events = POLLIN },
                                     { .fd = watch ? s->abort_fd : -1, .events = POLLIN } };
            int timeout = -1;
            if (until) {
                int64_t left = until - mono_ms();
                timeout = left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
            }
            int n = poll(fds, 2, timeout);
            if (n < 0 && errno == EINTR)
                continue;
            bool aborted = n > 0 && (fds[1].revents & POLLIN);
            if (aborted && s->abort_grace_ms > 0) {   /* the answer may still come, within the grace */
                int64_t g = mono_ms() + s->abort_grace_ms;
                if (!until || g < until)
                    until = g;
                watch = aborted = false;
                if (!(fds[0].revents & POLLIN))
                    continue;
            }
            if (aborted || (n == 0 && mono_ms() >= until)) {
                /* No answer within the owner's bound: shut the socket; libpq then reads its end
                 * at once, and the query fails as the connection lost. (A server that wakes may
                 * still run it: each statement on the revocation rows is one it may run late.) */
                shutdown(PQsocket(p->c), SHUT_RDWR);
                p->cut = true;
                say("PostgreSQL: no answer within the %s; the connection is closed",
                    aborted ? "stop" : until == s->deadline_ms ? "stop's bound" : "connection's wait");
                break;
            }
            if (n > 0 && !PQconsumeInput(p->c))
                break;   /* the connection ended: PQgetResult says so without waiting */
        }
        if (!(r = PQgetResult(p->c)))
            return keep;
        bool err = PQresultStatus(r) == PGRES_FATAL_ERROR;
        if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR && !err) {
            PQclear(r);   /* PQexec's way: an error, once there, is the answer */
            continue;
        }
        PQclear(keep);
        keep = r;
    }
}

static PGresult *run_script(cloud_store_t *s, pg_t *p, const char *sql)
{
    return PQsendQuery(p->c, sql) ? answer(s, p) : NULL;
}

/* A failed result: the reason, and whether retrying later can help (connection, shutdown,
 * read-only server, serialisation) rather than the request itself being wrong. */
static int failed(cloud_store_t *s, PGresult *res, const char *what)
{
    pg_t *p = PG(s);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    bool lost = PQstatus(p->c) != CONNECTION_OK;
    /* 55P03: lock_timeout passed, a lock held by another session (pg_lock_wait) */
    bool retry = lost || !state || !strncmp(state, "08", 2) || !strncmp(state, "57P", 3) ||
                 !strcmp(state, "25006") || !strncmp(state, "40", 2) || !strncmp(state, "53", 2) ||
                 !strcmp(state, "55P03");
    if (lost && p->in_txn)
        p->broken = true;
    /* A standby (after a failover, or a wrong address): a multi-host URL with
     * target_session_attrs=read-write finds the new primary on the next connection. */
    if (state && !strcmp(state, "25006"))
        p->stale = true;
    if (lost)
        conn_lost(p);
    note_conn(s, retry, what, p->cut ? "no answer in time (connection closed)"
                              : res ? PQresultErrorMessage(res) : PQerrorMessage(p->c));
    p->cut = false;
    /* state points into res: decided before res is freed (it was read after PQclear, a use
     * after free that make test-asan-integ's cloud_pg found) */
    int ret = state && !strcmp(state, "23505") ? CLOUD_STORE_CONFLICT : -1;
    if (ret == CLOUD_STORE_CONFLICT)
        cloud_store_noted_conflict();
    PQclear(res);
    return ret;
}

static int pg_script(cloud_store_t *s, const char *sql)
{
    pg_t *p = PG(s);
    pthread_mutex_lock(&p->lock);
    bool end = !strcmp(sql, "COMMIT") || !strcmp(sql, "ROLLBACK");
    int ret = -1;
    if (ensure(s) == 0) {
        PGresult *res = run_script(s, p, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
            failed(s, res, "statement failed");
        } else if (!strcmp(sql, "COMMIT") && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
            /* An aborted transaction answers COMMIT with ROLLBACK: nothing was stored. */
            cloud_store_note(s, false, "the transaction was rolled back by the server");
            PQclear(res);
        } else {
            PQclear(res);
            ret = 0;
        }
    }
    if (end) {
        p->in_txn = false;
        p->broken = false;
    }
    pthread_mutex_unlock(&p->lock);
    return end && !strcmp(sql, "ROLLBACK") ? 0 : ret;
}

static int pg_begin(cloud_store_t *s)
{
    pg_t *p = PG(s);
    pthread_mutex_lock(&p->lock);
    int ret = -1;
    if (ensure(s) == 0) {
        PGresult *res = run_script(s, p, "BEGIN");
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            p->in_txn = true;
            p->broken = false;
            ret = 0;
        } else {
            failed(s, res, "BEGIN failed");
        }
    }
    pthread_mutex_unlock(&p->lock);
    return ret;
}

/* `?` and `?N` (outside quotes) become $N: the queries are written once for both engines. */
static int renumber(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    int next = 0;
    bool quoted = false;
    for (const char *c = in; *c; c++) {
        char piece[16];
        if (*c == '\'')
            quoted = !quoted;
        if (*c == '?' && !quoted) {
            if (c[1] >= '0' && c[1] <= '9') {
                int n = (int)strtol(c + 1, (char **)&c, 10);
                c--;
                snprintf(piece, sizeof piece, "$%d", n);
            } else {
                snprintf(piece, sizeof piece, "$%d", ++next);
            }
        } else {
            piece[0] = *c;
            piece[1] = 0;
        }
        size_t l = strlen(piece);
        if (o + l + 1 > cap)
            return -1;
        memcpy(out + o, piece, l);
        o += l;
    }
    out[o] = 0;
    return 0;
}

static int pg_exec(cloud_store_t *s, const char *sql, int n, const cloud_param_t *prm, cloud_rows_t **rows)
{
    pg_t *p = PG(s);
    char q[SQL_MAX], nums[CLOUD_STORE_MAX_PARAMS][24];
    const char *vals[CLOUD_STORE_MAX_PARAMS];
    if (n > CLOUD_STORE_MAX_PARAMS || renumber(sql, q, sizeof q) != 0) {
        cloud_store_note(s, false, "statement too long or too many parameters");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (prm[i].kind == 'i') {
            snprintf(nums[i], sizeof nums[i], "%lld", (long long)prm[i].i);
            vals[i] = nums[i];
        } else {
            vals[i] = prm[i].text;   /* NULL is SQL NULL */
        }
    }
    pthread_mutex_lock(&p->lock);
    int ret = -1;
    if (ensure(s) == 0) {
        /* Untyped parameters: the server infers each from its use (a column, a comparison). */
        PGresult *res = PQsendQueryParams(p->c, q, n, NULL, vals, NULL, NULL, 0) ? answer(s, p) : NULL;
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK && rows) {
            pg_rows_t *r = calloc(1, sizeof *r);
            if (r) {
                r->base.ops = &cloud_store_pg_ops;
                r->res = res;
                r->row = -1;
                r->nrows = PQntuples(res);
                *rows = &r->base;
                ret = 0;
            } else {
                PQclear(res);
            }
        } else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            ret = atoi(PQcmdTuples(res));
            PQclear(res);
        } else {
            ret = failed(s, res, "query failed");
        }
    }
    pthread_mutex_unlock(&p->lock);
    return ret;
}

/* Two workers starting at once would both see a migration missing; a session advisory lock
 * (a fixed key: "smartcfg" in ASCII) makes the second wait and then find it applied. */
#define MIGRATE_LOCK_KEY "7237954018839410535"

static int pg_lock(cloud_store_t *s)
{
    return pg_script(s, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")");
}

static void pg_unlock(cloud_store_t *s)
{
    pg_script(s, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
}

static bool pg_already_applied(const cloud_store_t *s)
{
    (void)s;
    return false;
}

static int pg_next(cloud_rows_t *r)
{
    pg_rows_t *q = (pg_rows_t *)r;
    return ++q->row < q->nrows ? 1 : 0;
}

static const char *pg_text(cloud_rows_t *r, int col)
{
    pg_rows_t *q = (pg_rows_t *)r;
    return PQgetisnull(q->res, q->row, col) ? NULL : PQgetvalue(q->res, q->row, col);
}

static int64_t pg_int(cloud_rows_t *r, int col)
{
    const char *t = pg_text(r, col);
    return t ? strtoll(t, NULL, 10) : 0;
}

static int pg_type(cloud_rows_t *r, int col)
{
    pg_rows_t *q = (pg_rows_t *)r;
    if (PQgetisnull(q->res, q->row, col))
        return CLOUD_COL_NULL;
    Oid t = PQftype(q->res, col);
    return t == 20 || t == 21 || t == 23 ? CLOUD_COL_INT : CLOUD_COL_TEXT;   /* int8, int2, int4 */
}

static void pg_free(cloud_rows_t *r)
{
    PQclear(((pg_rows_t *)r)->res);
    free(r);
}

/* lock_timeout, PostgreSQL's wait for a lock another session holds (the server's default: none;
 * ms 0: the session's default again).
 * Held locks are not only our workers' milliseconds: an operator's LOCK TABLE or ALTER TABLE,
 * a VACUUM FULL, take a table for as long as they run, and while one holds `devices` the
 * broker's every CONNECT waited in its single thread, while one holds `access_tokens` the token
 * API's one connection did (F199). Set before the next statement, outside a transaction. */
static void pg_lock_wait(cloud_store_t *s, int ms)
{
    pg_t *p = PG(s);
    pthread_mutex_lock(&p->lock);
    p->lock_want = ms >= 0 ? ms : s->lock_wait_ms > INT_MAX ? INT_MAX : (int)s->lock_wait_ms;
    apply_lock_wait(s, p);
    pthread_mutex_unlock(&p->lock);
}

/* A standby (in recovery) or a server whose transactions are read-only by default
 * (default_transaction_read_only, what some failover tools set on a demoted primary) answers
 * reads and refuses every write. */
static int pg_writable(cloud_store_t *s, unsigned wait_ms)
{
    (void)wait_ms;   /* a server that does not answer: the caller's staleness bound */
    cloud_rows_t *r = NULL;
    if (pg_exec(s, "SELECT CASE WHEN pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' "
                   "THEN 0 ELSE 1 END", 0, NULL, &r) < 0 || !r)
        return -1;
    int ret = pg_next(r) == 1 ? (int)pg_int(r, 0) : -1;
    pg_free(r);
    if (ret == 0)
        cloud_store_note(s, false, "the server takes no writes (a standby, or read-only transactions)");
    return ret;
}

const cloud_store_ops_t cloud_store_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .script = pg_script,
    .exec = pg_exec,
    .begin = pg_begin,
    .writable = pg_writable,
    .lock_wait = pg_lock_wait,
    .migrate_lock = pg_lock,
    .migrate_unlock = pg_unlock,
    .already_applied = pg_already_applied,
    .next = pg_next,
    .text = pg_text,
    .integer = pg_int,
    .type = pg_type,
    .free_rows = pg_free,
};

#endif
