/* SPDX-License-Identifier: Apache-2.0 */
/* The embedded backend of the registry (cloud_store.h): one SQLite file. WAL so the broker
 * plugin, the HTTP thread and the binding service can use it at once; synchronous=NORMAL
 * because in WAL mode that still never corrupts the file and a crash loses at most the last
 * commits, while FULL costs an fsync per bind (see docs/cloud.md "Storage"). */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "cloud_store.h"

#define DB(s) ((sqlite3 *)(s)->be)
/* How long a statement waits for a lock another connection or process holds before it fails
 * busy: set at the open, and given back after sq_writable's shorter wait. */
#define BUSY_TIMEOUT_MS 5000

typedef struct {
    cloud_rows_t base;
    sqlite3_stmt *st;
    cloud_store_t *s;
} sq_rows_t;

static void sq_fail(cloud_store_t *s, const char *what)
{
    int code = DB(s) ? sqlite3_errcode(DB(s)) : SQLITE_NOMEM;
    /* A lock held too long by another process is worth a retry: report it as unavailable; so is
     * a full disk (it may be freed), and the HTTP API answers 503 rather than 500. */
    bool full = code == SQLITE_FULL;
    cloud_store_note(s, code == SQLITE_BUSY || code == SQLITE_LOCKED || full, "%s: %s", what,
                     DB(s) ? sqlite3_errmsg(DB(s)) : "out of memory");
    /* What the machine did to the file (full, I/O error, read-only, damaged) is the operator's
     * to fix, and the callers only answer "database error": say it in the log, once per 30 s
     * and kind, with how many failed meanwhile. */
    int base = code & 0xff;
    if (base != SQLITE_FULL && base != SQLITE_IOERR && base != SQLITE_READONLY && base != SQLITE_CORRUPT &&
        base != SQLITE_NOTADB && base != SQLITE_CANTOPEN && base != SQLITE_PERM)
        return;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static int last_code;
    static int64_t last_ms;
    static unsigned long more;
    struct timespec ts;   /* not cloud_now_ms: this file is in the broker plugin too */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    pthread_mutex_lock(&lock);
    bool say = base != last_code || now - last_ms >= 30000;
    unsigned long n = more;
    if (say) {
        last_code = base;
        last_ms = now;
        more = 0;
    } else {
        more++;
    }
    pthread_mutex_unlock(&lock);
    if (say && cloud_store_settings.log) {
        char m[400], also[64] = "";
        if (n)
            snprintf(also, sizeof also, " (and %lu more since the last such line)", n);
        snprintf(m, sizeof m, "%s: %s (SQLite code %d)%s%s", what, sqlite3_errmsg(DB(s)), code,
                 full ? ": free disk space, writes resume by themselves" : "", also);
        cloud_store_settings.log(m);
    }
}

static int sq_open(cloud_store_t *s, const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    /* The probe takes the write lock (cloud_store_writable) but never makes a new file. */
    int flags = s->kind == CLOUD_STORE_OWN   ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
                : s->kind == CLOUD_STORE_PROBE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX
                                               : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    s->be = db;
    /* Several processes and threads share the file: wait for a lock instead of failing. */
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    char *msg = NULL;
    if (s->kind == CLOUD_STORE_OWN && sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot initialise database %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        s->be = NULL;
        return -1;
    }
    return 0;
}

static void sq_close(cloud_store_t *s)
{
    sqlite3_close(DB(s));
    s->be = NULL;
}

static int sq_script(cloud_store_t *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(DB(s), sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    cloud_store_note(s, sqlite3_errcode(DB(s)) == SQLITE_BUSY, "%s", msg ? msg : sqlite3_errmsg(DB(s)));
    sqlite3_free(msg);
    return -1;
}

static int sq_begin(cloud_store_t *s)
{
    /* IMMEDIATE: take the write lock now, so a read-then-write decision is never invalidated. */
    return sq_script(s, "BEGIN IMMEDIATE");
}

static int sq_exec(cloud_store_t *s, const char *sql, int n, const cloud_param_t *p, cloud_rows_t **rows)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(DB(s), sql, -1, &st, NULL) != SQLITE_OK) {
        sq_fail(s, "prepare");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (p[i].kind == 'i')
            sqlite3_bind_int64(st, i + 1, p[i].i);
        else if (p[i].text)
            sqlite3_bind_text(st, i + 1, p[i].text, -1, SQLITE_TRANSIENT);
    }
    if (rows) {
        sq_rows_t *r = calloc(1, sizeof *r);
        if (!r) {
            sqlite3_finalize(st);
            return -1;
        }
        r->base.ops = &cloud_store_sqlite_ops;
        r->st = st;
        r->s = s;
        *rows = &r->base;
        return 0;
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return sqlite3_changes(DB(s));
    sq_fail(s, "write");
    if ((rc & 0xff) != SQLITE_CONSTRAINT)
        return -1;
    cloud_store_noted_conflict();
    return CLOUD_STORE_CONFLICT;
}

/* The busy timeout of the statements that follow: ms, or (-1) the connection's own, set by
 * cloud_store_set_lock_wait or else BUSY_TIMEOUT_MS. */
static void sq_lock_wait(cloud_store_t *s, int ms)
{
    if (ms < 0)
        ms = s->lock_wait_ms && s->lock_wait_ms <= INT_MAX ? (int)s->lock_wait_ms : BUSY_TIMEOUT_MS;
    sqlite3_busy_timeout(DB(s), ms);
}

/* The write lock for a moment: BEGIN IMMEDIATE takes it (in WAL mode without touching the
 * file), ROLLBACK gives it back. Waits at most wait_ms for it, not the connection's own wait. */
static int sq_writable(cloud_store_t *s, unsigned wait_ms)
{
    sq_lock_wait(s, wait_ms > INT_MAX ? INT_MAX : (int)wait_ms);
    int rc = sqlite3_exec(DB(s), "BEGIN IMMEDIATE", NULL, NULL, NULL);
    int ret = 1;
    if (rc == SQLITE_OK) {
        sqlite3_exec(DB(s), "ROLLBACK", NULL, NULL, NULL);
    } else {
        int base = rc & 0xff;
        ret = base == SQLITE_BUSY || base == SQLITE_LOCKED || base == SQLITE_READONLY ? 0 : -1;
        cloud_store_note(s, ret == 0, "write lock: %s", sqlite3_errmsg(DB(s)));
    }
    sq_lock_wait(s, -1);
    return ret;
}

/* Two processes opening one file at once: BEGIN IMMEDIATE in migrate() already serialises. */
static int sq_lock(cloud_store_t *s)
{
    (void)s;
    return 0;
}

static void sq_unlock(cloud_store_t *s)
{
    (void)s;
}

/* Files made before schema_version got tokens.user_id by an unconditional ALTER. */
static bool sq_already_applied(const cloud_store_t *s)
{
    return strstr(s->err, "duplicate column name") != NULL;
}

static int sq_next(cloud_rows_t *r)
{
    sq_rows_t *q = (sq_rows_t *)r;
    int rc = sqlite3_step(q->st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    sq_fail(q->s, "read");
    return -1;
}

static const char *sq_text(cloud_rows_t *r, int col)
{
    return (const char *)sqlite3_column_text(((sq_rows_t *)r)->st, col);
}

static int64_t sq_int(cloud_rows_t *r, int col)
{
    return sqlite3_column_int64(((sq_rows_t *)r)->st, col);
}

static int sq_type(cloud_rows_t *r, int col)
{
    int t = sqlite3_column_type(((sq_rows_t *)r)->st, col);
    return t == SQLITE_NULL ? CLOUD_COL_NULL : t == SQLITE_INTEGER ? CLOUD_COL_INT : CLOUD_COL_TEXT;
}

static void sq_free(cloud_rows_t *r)
{
    sqlite3_finalize(((sq_rows_t *)r)->st);
    free(r);
}

const cloud_store_ops_t cloud_store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .script = sq_script,
    .exec = sq_exec,
    .begin = sq_begin,
    .writable = sq_writable,
    .lock_wait = sq_lock_wait,
    .migrate_lock = sq_lock,
    .migrate_unlock = sq_unlock,
    .already_applied = sq_already_applied,
    .next = sq_next,
    .text = sq_text,
    .integer = sq_int,
    .type = sq_type,
    .free_rows = sq_free,
};
