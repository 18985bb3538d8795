/* SPDX-License-Identifier: Apache-2.0 */
/* The registry operations, written once over the backend interface (cloud_store.h): the schema
 * and its migrations, and every query of the local cloud, in the SQL that SQLite and PostgreSQL
 * both accept. The backends only move statements and rows. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud.h"
#include "cloud_store.h"

cloud_store_cfg_t cloud_store_settings;

void cloud_store_configure(const cloud_store_cfg_t *cfg)
{
    cloud_store_settings = *cfg;
}

static atomic_ullong store_errors;   /* every failure passes here: /metrics (cloud_metrics.h) */

unsigned long long cloud_store_error_count(void)
{
    return atomic_load_explicit(&store_errors, memory_order_relaxed);
}

void cloud_store_noted_conflict(void)
{
    atomic_fetch_sub_explicit(&store_errors, 1, memory_order_relaxed);
}

void cloud_store_note(cloud_store_t *s, bool unavailable, const char *fmt, ...)
{
    atomic_fetch_add_explicit(&store_errors, 1, memory_order_relaxed);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    s->unavailable = unavailable;
}

/* ---- schema: versioned migrations ------------------------------------------------------------
 * Append only: a released migration is never edited, a change is a new entry. Each runs in one
 * transaction together with its schema_version row, so a crash leaves it applied or not.
 * BIGINT is a 64-bit integer in PostgreSQL and an INTEGER-affinity column in SQLite. */
typedef struct {
    int version;
    const char *sql;
} migration_t;

static const migration_t migrations[] = {
    { 1,
      "CREATE TABLE IF NOT EXISTS products(product_id TEXT PRIMARY KEY, product_secret TEXT NOT NULL,"
      " created BIGINT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS devices(product_id TEXT NOT NULL, device_name TEXT NOT NULL,"
      " psk TEXT NOT NULL, created BIGINT NOT NULL, PRIMARY KEY(product_id, device_name));"
      "CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, created BIGINT NOT NULL,"
      " expire BIGINT NOT NULL, product_id TEXT, device_name TEXT, bound_at BIGINT);"
      "CREATE INDEX IF NOT EXISTS tokens_by_device ON tokens(product_id, device_name);"
      "CREATE TABLE IF NOT EXISTS bindings(product_id TEXT NOT NULL, device_name TEXT NOT NULL,"
      " family_id TEXT, room_id TEXT, token TEXT, created BIGINT NOT NULL,"
      " PRIMARY KEY(product_id, device_name));"
      /* Accounts (docs/cloud.md "Accounts"): users log in with AppGetToken and get an expiring
       * access token; every bind token and family belongs to one user. */
      "CREATE TABLE IF NOT EXISTS users(user_id TEXT PRIMARY KEY, user_name TEXT NOT NULL UNIQUE,"
      " salt TEXT NOT NULL, pw_hash TEXT NOT NULL, family_id TEXT NOT NULL, created BIGINT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS access_tokens(token TEXT PRIMARY KEY, user_id TEXT NOT NULL,"
      " expire BIGINT NOT NULL);"
      "CREATE INDEX IF NOT EXISTS access_tokens_by_expire ON access_tokens(expire);"
      "CREATE INDEX IF NOT EXISTS tokens_by_expire ON tokens(expire);"
      /* Dynamic registration requests seen within the timestamp window: a replay is refused. */
      "CREATE TABLE IF NOT EXISTS dynreg_seen(product_id TEXT NOT NULL, device_name TEXT NOT NULL,"
      " nonce BIGINT NOT NULL, timestamp BIGINT NOT NULL, PRIMARY KEY(product_id, device_name, nonce, timestamp));" },
    /* Databases from before schema_version may have it already (backend already_applied). */
    { 2, "ALTER TABLE tokens ADD COLUMN user_id TEXT" },
    /* OTA (docs/cloud.md "Firmware updates"): images and each device's last known state. */
    { 3,
      "CREATE TABLE IF NOT EXISTS ota_firmware (product_id TEXT NOT NULL, version TEXT NOT NULL, size BIGINT NOT NULL,"
      " md5 TEXT NOT NULL, token TEXT NOT NULL UNIQUE, created BIGINT NOT NULL, PRIMARY KEY (product_id, version));"
      "CREATE TABLE IF NOT EXISTS ota_status (product_id TEXT NOT NULL, device_name TEXT NOT NULL,"
      " reported_version TEXT, target_version TEXT, state TEXT, percent BIGINT, result_code BIGINT,"
      " result_msg TEXT, updated BIGINT NOT NULL, PRIMARY KEY (product_id, device_name));" },
    /* Gateway topology (docs/cloud.md "Gateways"): a sub-device is bound to at most one
     * gateway; online says the gateway has its session up (the broker's ACL reads it). And the
     * data template's last reported properties (get_status answers them). */
    { 4,
      "CREATE TABLE IF NOT EXISTS gw_subdevs(sub_pid TEXT NOT NULL, sub_dn TEXT NOT NULL, gw_pid TEXT NOT NULL,"
      " gw_dn TEXT NOT NULL, online BIGINT NOT NULL DEFAULT 0, updated BIGINT NOT NULL, PRIMARY KEY(sub_pid, sub_dn));"
      "CREATE INDEX IF NOT EXISTS gw_subdevs_by_gw ON gw_subdevs(gw_pid, gw_dn);"
      "CREATE TABLE IF NOT EXISTS thing_props(product_id TEXT NOT NULL, device_name TEXT NOT NULL,"
      " reported TEXT NOT NULL, updated BIGINT NOT NULL, PRIMARY KEY(product_id, device_name));" },
    /* Revocation closes waiting for the RabbitMQ nodes' auth cache (cloud_revoke.c), shared by the
     * workers so one that dies leaves them to the others: due and lease in wall-clock ms; owner
     * the worker that took the row, until lease. */
    { 5,
      "CREATE TABLE IF NOT EXISTS revocations(client_id TEXT PRIMARY KEY, due BIGINT NOT NULL,"
      " tries BIGINT NOT NULL DEFAULT 0, misses BIGINT NOT NULL DEFAULT 0, owner TEXT NOT NULL DEFAULT '',"
      " lease BIGINT NOT NULL DEFAULT 0);"
      "CREATE INDEX IF NOT EXISTS revocations_by_due ON revocations(due);" },
    /* A change while a close is pending no longer postpones it (a gateway sending offline every
     * second kept its own close from ever coming): the row keeps its due, and `again` holds the
     * latest change's, done by one more close after this one if it is later (0: none). */
    { 6, "ALTER TABLE revocations ADD COLUMN again BIGINT NOT NULL DEFAULT 0;" },
    /* When an AccessToken was issued (wall-clock ms; 0 before this): a user's oldest go first
     * when it holds too many (cloud_store_add_access_token); the expiry, in seconds, left the
     * order of one second's logins to chance. */
    { 7, "ALTER TABLE access_tokens ADD COLUMN issued BIGINT NOT NULL DEFAULT 0;" },
    /* Every login trims its user's AccessTokens (cloud_store_add_access_token: DELETE ... WHERE
     * user_id=?): without an index that scanned every user's tokens, a login's cost growing
     * with the whole user base's. */
    { 8, "CREATE INDEX IF NOT EXISTS access_tokens_by_user ON access_tokens(user_id);" },
};
#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

int cloud_store_schema_version(void)
{
    return migrations[N_MIGRATIONS - 1].version;
}

static int migrate(cloud_store_t *s)
{
    if (s->ops->migrate_lock(s) != 0)
        return -1;
    int ret = 0;
    if (s->ops->script(s, "CREATE TABLE IF NOT EXISTS schema_version(version BIGINT PRIMARY KEY, applied BIGINT NOT NULL)") != 0) {
        ret = -1;
        goto out;
    }
    for (size_t i = 0; i < N_MIGRATIONS && ret == 0; i++) {
        /* Under the lock, in the transaction: a second worker that waited sees it done. */
        if (s->ops->begin(s) != 0) {
            ret = -1;
            break;
        }
        cloud_rows_t *r = cloud_store_select(s, "SELECT 1 FROM schema_version WHERE version=?", "i",
                                             (int64_t)migrations[i].version);
        int have = r ? cloud_rows_next(r) : -1;
        cloud_rows_free(r);
        /* A failure SQLite tolerates (already_applied) leaves its transaction usable; PostgreSQL
         * databases all postdate schema_version, so none is tolerated there. */
        if (have == 0 && s->ops->script(s, migrations[i].sql) != 0 && !s->ops->already_applied(s))
            have = -1;
        if (have == 0 && cloud_store_run(s, "INSERT INTO schema_version(version, applied) VALUES(?,?)", "ii",
                                         (int64_t)migrations[i].version, (int64_t)time(NULL)) != 1)
            have = -1;
        if (have < 0 || cloud_store_commit(s) != 0) {
            char what[sizeof s->err];
            snprintf(what, sizeof what, "%s", s->err);
            cloud_store_rollback(s);
            cloud_store_note(s, s->unavailable, "schema migration %d: %.150s", migrations[i].version, what);
            ret = -1;
        }
    }
    /* CREATE TABLE IF NOT EXISTS leaves a table of the same name alone: a --db that names
     * another program's database (a `devices` table of its own) passed the migrations and
     * failed request by request. Every column we use is asked for once, here. */
    static const char *const probes[] = {
        "SELECT product_id, product_secret, created FROM products WHERE 1=0",
        "SELECT product_id, device_name, psk, created FROM devices WHERE 1=0",
        "SELECT token, created, expire, product_id, device_name, bound_at, user_id FROM tokens WHERE 1=0",
        "SELECT product_id, device_name, family_id, room_id, token, created FROM bindings WHERE 1=0",
        "SELECT user_id, user_name, salt, pw_hash, family_id, created FROM users WHERE 1=0",
        "SELECT token, user_id, expire, issued FROM access_tokens WHERE 1=0",
        "SELECT product_id, device_name, nonce, timestamp FROM dynreg_seen WHERE 1=0",
        "SELECT product_id, version, size, md5, token, created FROM ota_firmware WHERE 1=0",
        ("SELECT product_id, device_name, reported_version, target_version, state, percent, result_code, result_msg,"
         " updated FROM ota_status WHERE 1=0"),
        "SELECT sub_pid, sub_dn, gw_pid, gw_dn, online, updated FROM gw_subdevs WHERE 1=0",
        "SELECT product_id, device_name, reported, updated FROM thing_props WHERE 1=0",
        "SELECT client_id, due, tries, misses, owner, lease, again FROM revocations WHERE 1=0",
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0] && ret == 0; i++) {
        cloud_rows_t *r = cloud_store_select(s, probes[i], "");
        int rc = r ? cloud_rows_next(r) : -1;
        cloud_rows_free(r);
        if (rc < 0) {
            char what[sizeof s->err];
            snprintf(what, sizeof what, "%s", s->err);
            cloud_store_note(s, s->unavailable, "not the cloud's registry (is --db right?): %.150s", what);
            ret = -1;
        }
    }
    /* An older build on a newer database (a rollback): migrations only add, so it runs, but
     * the operator should know; said once per process. */
    static atomic_bool told;
    cloud_rows_t *r = ret == 0 && !atomic_load(&told) ? cloud_store_select(s, "SELECT MAX(version) FROM schema_version", "") : NULL;
    if (r && cloud_rows_next(r) == 1 && cloud_rows_int(r, 0) > cloud_store_schema_version() && cloud_store_settings.log &&
        !atomic_exchange(&told, true)) {
        char m[200];
        snprintf(m, sizeof m, "schema version %lld is newer than this build's %d (a newer smartcfg migrated it): "
                              "running, as migrations only add tables and columns",
                 (long long)cloud_rows_int(r, 0), cloud_store_schema_version());
        cloud_store_settings.log(m);
    }
    cloud_rows_free(r);
out:
    s->ops->migrate_unlock(s);
    return ret;
}

/* ---- opening ----------------------------------------------------------------------------- */
static bool is_pg(const char *spec)
{
    return !strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11);
}

bool cloud_store_is_server(const char *spec)
{
    return is_pg(spec);
}

const char *cloud_store_file(const char *spec)
{
    if (is_pg(spec))
        return NULL;
    return !strncmp(spec, "sqlite:", 7) ? spec + 7 : spec;
}

void cloud_store_redact(const char *spec, char *out, size_t len)
{
    /* scheme://user:PASSWORD@host…: keep all but the password. A password given as a query
     * parameter (?password=) is cut with everything after '?'. */
    const char *at, *colon, *q;
    const char *auth = strstr(spec, "://");
    if (!is_pg(spec) || !auth) {
        snprintf(out, len, "%s", spec);
        return;
    }
    auth += 3;
    q = strchr(auth, '?');
    at = NULL;   /* the last '@' before the parameters: a stray '@' in a password stays hidden */
    for (const char *c = auth; *c && c != q; c++)
        if (*c == '@')
            at = c;
    colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    int n = q ? (int)(q - spec) : (int)strlen(spec);
    if (colon)
        snprintf(out, len, "%.*s:***%.*s", (int)(colon - spec), spec, (int)(spec + n - at), at);
    else
        snprintf(out, len, "%.*s", n, spec);
}

static int open_store(cloud_store_t *s, const char *spec, cloud_store_kind_t kind, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    bool lazy = kind == CLOUD_STORE_AUTH || kind == CLOUD_STORE_PROBE;   /* opened while serving */
    const cloud_store_ops_t *ops = is_pg(spec) ? &cloud_store_pg_ops : &cloud_store_sqlite_ops;
    const char *target = is_pg(spec) ? spec : cloud_store_file(spec);
    if (!*target) {
        snprintf(err, errlen, "empty database name");
        return -1;
    }
    char shown[300];
    cloud_store_redact(spec, shown, sizeof shown);
    /* A server that is not up yet (the cloud started with the database, or it restarts): retry
     * with doubling pauses up to connect_wait_s, then give up with the last reason. */
    unsigned waited_ms = 0, pause_ms = 250, limit_ms = lazy ? 0 : cloud_store_settings.connect_wait_s * 1000u;
    for (;;) {
        s->ops = ops;
        if (ops->open(s, target, err, errlen) == 0) {
            if (kind != CLOUD_STORE_OWN || migrate(s) == 0)
                return 0;
            snprintf(err, errlen, "cannot initialise database %s: %s", shown, s->err);
            ops->close(s);
        }
        bool retry = s->unavailable && waited_ms < limit_ms;
        s->ops = NULL;
        if (!retry)
            return -1;
        if (pause_ms > limit_ms - waited_ms)   /* the bound is the bound: no pause past it */
            pause_ms = limit_ms - waited_ms;
        if (cloud_store_settings.log) {
            char m[600];
            snprintf(m, sizeof m, "%s; retrying in %u ms (%u of %u s waited)", err, pause_ms, waited_ms / 1000,
                     cloud_store_settings.connect_wait_s);
            cloud_store_settings.log(m);
        }
        struct timespec ts = { (time_t)(pause_ms / 1000), (long)(pause_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        waited_ms += pause_ms;
        pause_ms = pause_ms * 2 > 5000 ? 5000 : pause_ms * 2;
    }
}

int cloud_store_open(cloud_store_t *s, const char *spec, char *err, size_t errlen)
{
    return open_store(s, spec, CLOUD_STORE_OWN, err, errlen);
}

int cloud_store_open_reader(cloud_store_t *s, const char *spec, char *err, size_t errlen)
{
    return open_store(s, spec, CLOUD_STORE_PLUGIN, err, errlen);
}

int cloud_store_open_lazy(cloud_store_t *s, const char *spec, char *err, size_t errlen)
{
    return open_store(s, spec, CLOUD_STORE_AUTH, err, errlen);
}

int cloud_store_open_probe(cloud_store_t *s, const char *spec, char *err, size_t errlen)
{
    return open_store(s, spec, CLOUD_STORE_PROBE, err, errlen);
}

void cloud_store_set_lock_wait(cloud_store_t *s, unsigned ms)
{
    s->lock_wait_ms = ms;
    if (s->ops && s->ops->lock_wait)
        s->ops->lock_wait(s, -1);
}

void cloud_store_set_server_wait(cloud_store_t *s, unsigned ms)
{
    s->server_wait_ms = ms;
}

int cloud_store_writable(cloud_store_t *s, unsigned wait_ms)
{
    return s->ops && s->ops->writable ? s->ops->writable(s, wait_ms) : -1;
}

void cloud_store_close(cloud_store_t *s)
{
    if (s->ops)
        s->ops->close(s);
    s->ops = NULL;
    s->be = NULL;
}

int cloud_store_begin(cloud_store_t *s)
{
    return s->ops->begin(s);
}

int cloud_store_commit(cloud_store_t *s)
{
    return s->ops->script(s, "COMMIT");
}

void cloud_store_rollback(cloud_store_t *s)
{
    char keep[sizeof s->err];   /* the reason the caller rolls back is the one worth keeping */
    bool down = s->unavailable;
    snprintf(keep, sizeof keep, "%s", s->err);
    s->ops->script(s, "ROLLBACK");
    snprintf(s->err, sizeof s->err, "%s", keep);
    s->unavailable = down;
}

/* ---- generic statements ------------------------------------------------------------------- */
static int collect(const char *types, va_list ap, cloud_param_t *p)
{
    int n = 0;
    for (; types && types[n]; n++) {
        if (n == CLOUD_STORE_MAX_PARAMS)
            return -1;
        p[n].kind = types[n];
        if (types[n] == 'i')
            p[n].i = va_arg(ap, int64_t);
        else
            p[n].text = va_arg(ap, const char *);
    }
    return n;
}

int cloud_store_run(cloud_store_t *s, const char *sql, const char *types, ...)
{
    cloud_param_t p[CLOUD_STORE_MAX_PARAMS];
    va_list ap;
    va_start(ap, types);
    int n = collect(types, ap, p);
    va_end(ap);
    return n < 0 ? -1 : s->ops->exec(s, sql, n, p, NULL);
}

cloud_rows_t *cloud_store_select(cloud_store_t *s, const char *sql, const char *types, ...)
{
    cloud_param_t p[CLOUD_STORE_MAX_PARAMS];
    cloud_rows_t *r = NULL;
    va_list ap;
    va_start(ap, types);
    int n = collect(types, ap, p);
    va_end(ap);
    if (n < 0 || s->ops->exec(s, sql, n, p, &r) < 0)
        return NULL;
    return r;
}

int cloud_store_exec(cloud_store_t *s, const char *sql, int n, const char *const *v)
{
    cloud_param_t p[CLOUD_STORE_MAX_PARAMS];
    if (n > CLOUD_STORE_MAX_PARAMS)
        return -1;
    for (int i = 0; i < n; i++)
        p[i] = (cloud_param_t){ .kind = 't', .text = v[i] };
    return s->ops->exec(s, sql, n, p, NULL);
}

int cloud_rows_next(cloud_rows_t *r)
{
    return r ? r->ops->next(r) : -1;
}

const char *cloud_rows_text(cloud_rows_t *r, int col)
{
    const char *t = r->ops->text(r, col);
    return t ? t : "";
}

int64_t cloud_rows_int(cloud_rows_t *r, int col)
{
    return r->ops->integer(r, col);
}

int cloud_rows_type(cloud_rows_t *r, int col)
{
    return r->ops->type(r, col);
}

void cloud_rows_free(cloud_rows_t *r)
{
    if (r)
        r->ops->free_rows(r);
}

/* The first row's first column copied to out: 0 found, 1 no row, -1 error. */
static int one_text(cloud_rows_t *r, char *out, size_t len)
{
    int rc = cloud_rows_next(r);
    if (rc == 1 && out && len)
        snprintf(out, len, "%s", cloud_rows_text(r, 0));
    cloud_rows_free(r);
    return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

/* INSERT … ON CONFLICT DO NOTHING: 0 inserted, 1 the row existed, -1 error. */
static int inserted(int changes)
{
    return changes < 0 ? -1 : changes == 1 ? 0 : 1;
}

/* ---- the registry --------------------------------------------------------------------------- */
int cloud_store_add_product(cloud_store_t *s, const char *pid, const char *secret, int64_t now)
{
    return inserted(cloud_store_run(s, "INSERT INTO products(product_id, product_secret, created) VALUES(?,?,?)"
                                       " ON CONFLICT DO NOTHING", "tti", pid, secret, now));
}

int cloud_store_get_product_secret(cloud_store_t *s, const char *pid, char *secret, size_t len)
{
    return one_text(cloud_store_select(s, "SELECT product_secret FROM products WHERE product_id=?", "t", pid), secret,
                    len);
}

int cloud_store_add_device(cloud_store_t *s, const char *pid, const char *dn, const char *psk,
                           int64_t now, char *psk_out, size_t psk_len)
{
    int rc = inserted(cloud_store_run(s, "INSERT INTO devices(product_id, device_name, psk, created) VALUES(?,?,?,?)"
                                         " ON CONFLICT DO NOTHING", "ttti", pid, dn, psk, now));
    if (rc < 0)
        return -1;
    if (rc == 0) {
        if (psk_out)
            snprintf(psk_out, psk_len, "%s", psk);
        return 0;
    }
    rc = one_text(cloud_store_select(s, "SELECT psk FROM devices WHERE product_id=? AND device_name=?", "tt", pid, dn),
                  psk_out, psk_len);
    return rc == 0 ? 1 : -1;
}

static int exists(cloud_rows_t *r)
{
    int rc = cloud_rows_next(r);
    cloud_rows_free(r);
    return rc;
}

int cloud_store_device_exists(cloud_store_t *s, const char *pid, const char *dn)
{
    return exists(cloud_store_select(s, "SELECT 1 FROM devices WHERE product_id=? AND device_name=?", "tt", pid, dn));
}

int cloud_store_find_device(cloud_store_t *s, const char *client_id, char *pid, size_t pidlen, char *psk,
                            size_t psklen)
{
    cloud_rows_t *r = cloud_store_select(s,
        "SELECT p.product_id, d.psk FROM products p JOIN devices d ON d.product_id = p.product_id"
        " AND d.device_name = substr(CAST(?1 AS TEXT), length(p.product_id) + 1)"
        " WHERE length(CAST(?1 AS TEXT)) > length(p.product_id)"
        " AND substr(CAST(?1 AS TEXT), 1, length(p.product_id)) = p.product_id", "t", client_id);
    int found = 0, rc;
    while ((rc = cloud_rows_next(r)) == 1) {
        found++;
        snprintf(pid, pidlen, "%s", cloud_rows_text(r, 0));
        snprintf(psk, psklen, "%s", cloud_rows_text(r, 1));
    }
    cloud_rows_free(r);
    return rc < 0 ? -1 : found;
}

int cloud_store_add_token(cloud_store_t *s, const char *token, const char *user_id, int64_t now, int64_t expire)
{
    return cloud_store_run(s, "INSERT INTO tokens(token, user_id, created, expire) VALUES(?,?,?,?)", "ttii", token,
                           user_id, now, expire) == 1 ? 0 : -1;
}

int cloud_store_get_token(cloud_store_t *s, const char *token, cloud_token_t *t)
{
    cloud_rows_t *r = cloud_store_select(s, "SELECT created, expire, coalesce(bound_at,0), coalesce(product_id,''),"
                                            " coalesce(device_name,''), coalesce(user_id,'') FROM tokens WHERE token=?",
                                         "t", token);
    int rc = cloud_rows_next(r);
    if (rc == 1) {
        t->created = cloud_rows_int(r, 0);
        t->expire = cloud_rows_int(r, 1);
        t->bound_at = cloud_rows_int(r, 2);
        snprintf(t->product_id, sizeof t->product_id, "%s", cloud_rows_text(r, 3));
        snprintf(t->device_name, sizeof t->device_name, "%s", cloud_rows_text(r, 4));
        snprintf(t->user_id, sizeof t->user_id, "%s", cloud_rows_text(r, 5));
    }
    cloud_rows_free(r);
    return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

/* Caller holds a transaction (the binding service batches many binds into one commit). */
int cloud_store_bind_token(cloud_store_t *s, const char *token, const char *pid, const char *dn, int64_t now)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        cloud_token_t t;
        int rc = cloud_store_get_token(s, token, &t);
        if (rc < 0)
            return CLOUD_BIND_INTERNAL;
        if (rc == 1)
            return CLOUD_BIND_UNKNOWN;
        if (t.bound_at) {
            /* Same device again: it retried after losing our reply. Idempotent success. */
            if (!strcmp(t.product_id, pid) && !strcmp(t.device_name, dn))
                return CLOUD_BIND_OK;
            return CLOUD_BIND_TAKEN;
        }
        if (now > t.expire)
            return CLOUD_BIND_EXPIRED;
        /* Only an unbound token is taken. Another worker may have bound it since our read: then
         * nothing changes here and the second pass reads what it wrote. */
        rc = cloud_store_run(s, "UPDATE tokens SET product_id=?, device_name=?, bound_at=? WHERE token=? AND bound_at IS NULL",
                             "ttit", pid, dn, now > 0 ? now : (int64_t)1, token);
        if (rc < 0)
            return CLOUD_BIND_INTERNAL;
        if (rc == 1)
            return CLOUD_BIND_OK;
    }
    return CLOUD_BIND_INTERNAL;
}

int cloud_store_device_bound(cloud_store_t *s, const char *pid, const char *dn)
{
    int rc = exists(cloud_store_select(s, "SELECT 1 FROM tokens WHERE product_id=? AND device_name=? AND bound_at IS NOT NULL"
                                          " UNION SELECT 1 FROM bindings WHERE product_id=? AND device_name=? LIMIT 1",
                                       "tttt", pid, dn, pid, dn));
    return rc == 1 ? CLOUD_BIND_OK : rc == 0 ? CLOUD_BIND_UNKNOWN : CLOUD_BIND_INTERNAL;
}

/* A device belongs to at most one family: binding it into another one needs an unbind first
 * (AppDeleteDeviceInFamily or the admin API). One statement decides, so two workers binding the
 * same device at once cannot both win. Returns 0, 1 when bound in another family, -1. */
int cloud_store_bind_family(cloud_store_t *s, const char *token, const char *pid, const char *dn,
                            const char *family, const char *room, int64_t now)
{
    int rc = cloud_store_run(s, "INSERT INTO bindings(product_id, device_name, family_id, room_id, token, created)"
                                " VALUES(?,?,?,?,?,?) ON CONFLICT(product_id, device_name) DO UPDATE SET"
                                " room_id=excluded.room_id, token=excluded.token, created=excluded.created"
                                " WHERE coalesce(bindings.family_id,'') = excluded.family_id",
                             "ttttti", pid, dn, family, room, token, now);
    return rc < 0 ? -1 : rc == 0 ? 1 : 0;
}

/* Unbinds a device: its family binding goes, and so do the tokens it bound (so neither
 * bind_device_query nor a token state says "bound" any more). Returns rows removed, or -1. */
int cloud_store_unbind(cloud_store_t *s, const char *pid, const char *dn)
{
    if (cloud_store_begin(s) != 0)
        return -1;
    int a = cloud_store_run(s, "DELETE FROM bindings WHERE product_id=? AND device_name=?", "tt", pid, dn);
    int b = a < 0 ? -1 : cloud_store_run(s, "DELETE FROM tokens WHERE product_id=? AND device_name=?", "tt", pid, dn);
    if (a < 0 || b < 0 || cloud_store_commit(s) != 0) {
        cloud_store_rollback(s);
        return -1;
    }
    return a + b;
}

/* Everything the registry holds about the device goes with it, in one transaction: a device
 * created later under the same name (or the same client id) starts from nothing. Before, the
 * gateway topology stayed (a gateway kept speaking for a re-created sub-device without a new
 * signed bind, and a re-created gateway inherited the old one's sub-devices), and so did the
 * reported properties (get_status handed them to the new device) and the OTA record. Returns
 * the devices rows removed (0 or 1), or -1. */
int cloud_store_delete_device(cloud_store_t *s, const char *pid, const char *dn)
{
    static const char *const sql[] = {
        "DELETE FROM bindings WHERE product_id=?1 AND device_name=?2",
        "DELETE FROM tokens WHERE product_id=?1 AND device_name=?2",
        "DELETE FROM gw_subdevs WHERE (sub_pid=?1 AND sub_dn=?2) OR (gw_pid=?1 AND gw_dn=?2)",
        "DELETE FROM thing_props WHERE product_id=?1 AND device_name=?2",
        "DELETE FROM ota_status WHERE product_id=?1 AND device_name=?2",
        "DELETE FROM devices WHERE product_id=?1 AND device_name=?2",
    };
    if (cloud_store_begin(s) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0] && rc >= 0; i++)
        rc = cloud_store_run(s, sql[i], "tt", pid, dn);
    if (rc < 0 || cloud_store_commit(s) != 0) {
        cloud_store_rollback(s);
        return -1;
    }
    return rc;
}

/* The client id is <ProductId><DeviceName> without a separator: a new pair must not spell the
 * client id of another registered pair (A + BCdev1 vs AB + Cdev1), or the broker could not
 * tell them apart. 1 = collides, 0 = free, -1 = error. */
int cloud_store_client_id_taken(cloud_store_t *s, const char *pid, const char *dn)
{
    return exists(cloud_store_select(s, "SELECT 1 FROM devices WHERE product_id || device_name = CAST(?1 AS TEXT) || CAST(?2 AS TEXT)"
                                        " AND NOT (product_id = ?1 AND device_name = ?2) LIMIT 1", "tt", pid, dn));
}

/* Garbage collection: bind tokens that expired unbound are kept readable ("expired") for
 * token_grace seconds, then deleted; expired access tokens and dynamic-registration records
 * older than the timestamp window go at once. A bound token stays while it is its device's
 * newest bound one (it is what says "bound": cloud_store_device_bound) or the one its family
 * binding names; one superseded by a later bind of the same device goes token_grace after its
 * expiry like an unbound one (before, every provisioning of a device left a row forever).
 * It is housekeeping, run by whichever request holds the store: it waits GC_LOCK_WAIT_MS at
 * most for a lock held elsewhere (the cloud's own writers hold it for milliseconds), and a
 * statement that fails ends the round (the next second's request tries again); a round skipped
 * as unavailable (a lock held elsewhere, SQLite's full disk, PostgreSQL away: the request's own
 * statements say it) is not counted as a registry error. Before, with another process
 * holding SQLite's write lock, each of the four statements waited SQLite's 5 s, and the token
 * request that ran them answered after 25 s, its thread held all that time (F196); on
 * PostgreSQL, as long as the lock was held (F199). */
#define GC_LOCK_WAIT_MS 50
int cloud_store_gc(cloud_store_t *s, int64_t now, int64_t token_grace, int64_t dynreg_window)
{
    static const char *const sql[4] = {
        "DELETE FROM tokens WHERE bound_at IS NULL AND expire < ?",
        "DELETE FROM access_tokens WHERE expire < ?",
        "DELETE FROM dynreg_seen WHERE timestamp < ?",
        "DELETE FROM tokens WHERE bound_at IS NOT NULL AND expire < ?"
        " AND EXISTS (SELECT 1 FROM tokens n WHERE n.product_id = tokens.product_id AND n.device_name = tokens.device_name"
        " AND n.bound_at IS NOT NULL AND (n.bound_at > tokens.bound_at OR (n.bound_at = tokens.bound_at AND n.token > tokens.token)))"
        " AND NOT EXISTS (SELECT 1 FROM bindings b WHERE b.token = tokens.token)",
    };
    int64_t lim[4] = { now - token_grace, now, now - dynreg_window, now - token_grace };
    int removed = 0, ret = 0;
    if (s->ops->lock_wait)
        s->ops->lock_wait(s, GC_LOCK_WAIT_MS);
    for (int i = 0; i < 4 && ret == 0; i++) {
        int rc = cloud_store_run(s, sql[i], "i", lim[i]);
        if (rc >= 0) {
            removed += rc;
        } else {
            ret = -1;
            if (s->unavailable && s->ops->lock_wait)   /* skipped as unavailable (above), not failed */
                atomic_fetch_sub_explicit(&store_errors, 1, memory_order_relaxed);
        }
    }
    if (s->ops->lock_wait)
        s->ops->lock_wait(s, -1);
    return ret < 0 ? -1 : removed;
}

/* Records a dynamic-registration request; 1 when the same one was seen already (a replay). */
int cloud_store_dynreg_seen(cloud_store_t *s, const char *pid, const char *dn, int64_t nonce, int64_t ts)
{
    return inserted(cloud_store_run(s, "INSERT INTO dynreg_seen(product_id, device_name, nonce, timestamp) VALUES(?,?,?,?)"
                                       " ON CONFLICT DO NOTHING", "ttii", pid, dn, nonce, ts));
}

/* ---- users ------------------------------------------------------------------------------ */
int cloud_store_add_user(cloud_store_t *s, const char *uid, const char *name, const char *salt, const char *hash,
                         const char *family, int64_t now)
{
    return inserted(cloud_store_run(s, "INSERT INTO users(user_id, user_name, salt, pw_hash, family_id, created)"
                                       " VALUES(?,?,?,?,?,?) ON CONFLICT DO NOTHING", "ttttti", uid, name, salt,
                                    hash, family, now));
}

int cloud_store_get_user(cloud_store_t *s, const char *name, cloud_user_t *u)
{
    cloud_rows_t *r = cloud_store_select(s, "SELECT user_id, user_name, salt, pw_hash, family_id FROM users WHERE user_name=?",
                                         "t", name);
    int rc = cloud_rows_next(r);
    if (rc == 1) {
        snprintf(u->user_id, sizeof u->user_id, "%s", cloud_rows_text(r, 0));
        snprintf(u->user_name, sizeof u->user_name, "%s", cloud_rows_text(r, 1));
        snprintf(u->salt, sizeof u->salt, "%s", cloud_rows_text(r, 2));
        snprintf(u->pw_hash, sizeof u->pw_hash, "%s", cloud_rows_text(r, 3));
        snprintf(u->family_id, sizeof u->family_id, "%s", cloud_rows_text(r, 4));
    }
    cloud_rows_free(r);
    return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

/* Before the new row goes in, the user's expired tokens and all but its newest
 * CLOUD_ACCESS_PER_USER - 1 live ones go (docs/cloud.md "Accounts", F29): a stream of valid
 * logins grew the table by a row each for a day. Delete first: if it fails nothing is issued;
 * if the insert fails, what went was due to go. Two workers logging one user in at once may
 * each keep their own newest, so a user holds at most a few over the cap for a moment.
 *
 * A row without issued (0: written before migration 7, or during a rolling upgrade by a worker
 * from before it, which leaves the column to its default) went first whatever its age (F53): it
 * now counts as issued in the last millisecond of the second it was issued in, its expiry less
 * the lifetime (ACCESS_TTL, the same for every version: taken from this token's). So it goes
 * when it is the oldest; only against a login of that very second is the order a guess, as it
 * was for every row before migration 7. */
int cloud_store_add_access_token(cloud_store_t *s, const char *token, const char *uid, int64_t expire, int64_t now_ms)
{
    int64_t ttl = expire - now_ms / 1000;
    if (cloud_store_run(s, "DELETE FROM access_tokens WHERE user_id=?1 AND (expire<?2 OR token NOT IN (SELECT token"
                           " FROM access_tokens WHERE user_id=?1 ORDER BY CASE WHEN issued > 0 THEN issued"
                           " ELSE (expire - ?4) * 1000 + 999 END DESC, expire DESC, token DESC LIMIT ?3))",
                        "tiii", uid, now_ms / 1000, (int64_t)CLOUD_ACCESS_PER_USER - 1, ttl) < 0)
        return -1;
    return cloud_store_run(s, "INSERT INTO access_tokens(token, user_id, expire, issued) VALUES(?,?,?,?)", "ttii", token,
                           uid, expire, now_ms) == 1 ? 0 : -1;
}

/* The user an unexpired access token belongs to: 0 (u filled), 1 unknown or expired, -1. */
int cloud_store_check_access_token(cloud_store_t *s, const char *token, int64_t now, cloud_user_t *u)
{
    cloud_rows_t *r = cloud_store_select(s, "SELECT u.user_id, u.user_name, u.family_id FROM access_tokens a"
                                            " JOIN users u ON u.user_id = a.user_id WHERE a.token=? AND a.expire >= ?",
                                         "ti", token, now);
    int rc = cloud_rows_next(r);
    if (rc == 1) {
        memset(u, 0, sizeof *u);
        snprintf(u->user_id, sizeof u->user_id, "%s", cloud_rows_text(r, 0));
        snprintf(u->user_name, sizeof u->user_name, "%s", cloud_rows_text(r, 1));
        snprintf(u->family_id, sizeof u->family_id, "%s", cloud_rows_text(r, 2));
    }
    cloud_rows_free(r);
    return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

/* ---- gateways and the data template (cloud_thing.c) -------------------------------------- */
/* 0 found (psk filled), 1 no such device, -1 error. */
int cloud_store_get_device_psk(cloud_store_t *s, const char *pid, const char *dn, char *psk, size_t len)
{
    cloud_rows_t *r = cloud_store_select(s, "SELECT psk FROM devices WHERE product_id=? AND device_name=?", "tt", pid, dn);
    int rc = cloud_rows_next(r);
    if (rc == 1)
        snprintf(psk, len, "%s", cloud_rows_text(r, 0));
    cloud_rows_free(r);
    return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

/* 0 bound (again), 1 bound to another gateway, -1 error. */
int cloud_store_gw_bind(cloud_store_t *s, const char *gpid, const char *gdn, const char *spid, const char *sdn,
                        int64_t now)
{
    int rc = inserted(cloud_store_run(s, "INSERT INTO gw_subdevs(sub_pid, sub_dn, gw_pid, gw_dn, online, updated)"
                                         " VALUES(?,?,?,?,0,?) ON CONFLICT DO NOTHING", "tttti", spid, sdn, gpid, gdn, now));
    if (rc != 1)
        return rc;
    /* the row was there: ours (a repeated bind) or another gateway's */
    int mine = exists(cloud_store_select(s, "SELECT 1 FROM gw_subdevs WHERE sub_pid=? AND sub_dn=? AND gw_pid=? AND gw_dn=?",
                                         "tttt", spid, sdn, gpid, gdn));
    return mine < 0 ? -1 : mine ? 0 : 1;
}

/* The ACL's question (cloud_acl.h): does the gateway logged in as gw_cid speak for <pid>/<dn> now? */
int cloud_store_gw_proxies(cloud_store_t *s, const char *gw_cid, const char *pid, const char *dn)
{
    return exists(cloud_store_select(s, "SELECT 1 FROM gw_subdevs WHERE sub_pid=? AND sub_dn=? AND online=1"
                                        " AND gw_pid || gw_dn = ?", "ttt", pid, dn, gw_cid));
}

int cloud_store_clients_of(cloud_store_t *s, const char *pid, const char *dn, void (*fn)(const char *client_id))
{
    cloud_rows_t *r = dn ? cloud_store_select(s, "SELECT product_id || device_name FROM devices WHERE product_id=?1"
                                                 " AND device_name=?2 UNION SELECT gw_pid || gw_dn FROM gw_subdevs"
                                                 " WHERE sub_pid=?1 AND sub_dn=?2", "tt", pid, dn)
                         : cloud_store_select(s, "SELECT product_id || device_name FROM devices WHERE product_id=?1"
                                                 " UNION SELECT gw_pid || gw_dn FROM gw_subdevs WHERE sub_pid=?1",
                                              "t", pid);
    int n = 0, rc;
    while ((rc = cloud_rows_next(r)) == 1) {
        fn(cloud_rows_text(r, 0));
        n++;
    }
    cloud_rows_free(r);
    return rc < 0 ? -1 : n;
}

/* Unbind (online < 0) or set the session state; rows changed (0: not bound to this gateway), or -1. */
int cloud_store_gw_update(cloud_store_t *s, const char *gpid, const char *gdn, const char *spid, const char *sdn,
                          int online)
{
    if (online < 0)
        return cloud_store_run(s, "DELETE FROM gw_subdevs WHERE sub_pid=? AND sub_dn=? AND gw_pid=? AND gw_dn=?", "tttt",
                               spid, sdn, gpid, gdn);
    return cloud_store_run(s, "UPDATE gw_subdevs SET online=? WHERE sub_pid=? AND sub_dn=? AND gw_pid=? AND gw_dn=?",
                           "itttt", (int64_t)(online != 0), spid, sdn, gpid, gdn);
}

/* The gateway's sub-devices, one callback each: the number, or -1. */
int cloud_store_gw_list(cloud_store_t *s, const char *gpid, const char *gdn,
                        void (*fn)(void *u, const char *pid, const char *dn, bool online), void *u)
{
    cloud_rows_t *r = cloud_store_select(s, "SELECT sub_pid, sub_dn, online FROM gw_subdevs WHERE gw_pid=? AND gw_dn=?"
                                            " ORDER BY sub_pid, sub_dn", "tt", gpid, gdn);
    int n = 0, rc;
    while ((rc = cloud_rows_next(r)) == 1) {
        fn(u, cloud_rows_text(r, 0), cloud_rows_text(r, 1), cloud_rows_int(r, 2) != 0);
        n++;
    }
    cloud_rows_free(r);
    return rc < 0 ? -1 : n;
}

int cloud_store_thing_put(cloud_store_t *s, const char *pid, const char *dn, const char *reported, int64_t now)
{
    return cloud_store_run(s, "INSERT INTO thing_props(product_id, device_name, reported, updated) VALUES(?,?,?,?)"
                              " ON CONFLICT(product_id, device_name) DO UPDATE SET reported=excluded.reported,"
                              " updated=excluded.updated", "ttti", pid, dn, reported, now) < 0 ? -1 : 0;
}

/* Inside a transaction: makes sure the device's row exists and holds its lock until the commit
 * (an upsert locks the row in both engines; SQLite's BEGIN IMMEDIATE already serialises), so a
 * read-merge-write of the reported state is not interleaved with another worker's. 0 or -1. */
int cloud_store_thing_lock(cloud_store_t *s, const char *pid, const char *dn, int64_t now)
{
    return cloud_store_run(s, "INSERT INTO thing_props(product_id, device_name, reported, updated) VALUES(?,?,'{}',?)"
                              " ON CONFLICT(product_id, device_name) DO UPDATE SET updated=excluded.updated",
                           "tti", pid, dn, now) < 0 ? -1 : 0;
}

/* 0 found (reported filled), 1 nothing reported yet, -1 error. */
int cloud_store_thing_get(cloud_store_t *s, const char *pid, const char *dn, char *reported, size_t len)
{
    cloud_rows_t *r = cloud_store_select(s, "SELECT reported FROM thing_props WHERE product_id=? AND device_name=?",
                                         "tt", pid, dn);
    int rc = cloud_rows_next(r);
    if (rc == 1)
        snprintf(reported, len, "%s", cloud_rows_text(r, 0));
    cloud_rows_free(r);
    return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

/* ---- revocation closes (cloud_revoke.c) ------------------------------------------------------ */
int cloud_store_revoke_add(cloud_store_t *s, const char *cid, int64_t due_ms)
{
    /* A pending close keeps its due: moving it to the later change's let a client that changes
     * its own rights more often than the delay (a gateway's offline, unbind) put off its close
     * for ever. The later change's due is kept in `again`: if the close (at due or later) may
     * come before it, cloud_store_revoke_done schedules one more close then. */
    return cloud_store_run(s, "INSERT INTO revocations(client_id, due) VALUES(?,?) ON CONFLICT(client_id) DO UPDATE"
                              " SET again=CASE WHEN excluded.due>revocations.again THEN excluded.due"
                              " ELSE revocations.again END", "ti", cid, due_ms) < 0 ? -1 : 0;
}

int cloud_store_revoke_claim(cloud_store_t *s, const char *owner, int64_t now_ms, int64_t lease_ms, unsigned max,
                             void (*fn)(void *u, const char *cid, int64_t due, int tries, int misses), void *u)
{
    /* The outer conditions repeat the inner ones: PostgreSQL re-checks them on the row it
     * locked, so of two workers claiming at once only one takes a row. */
    int rc = cloud_store_run(s, "UPDATE revocations SET owner=?1, lease=?3 WHERE client_id IN (SELECT client_id FROM"
                                " revocations WHERE due<=?2 AND (owner='' OR owner=?1 OR lease<?2) ORDER BY due LIMIT ?4)"
                                " AND due<=?2 AND (owner='' OR owner=?1 OR lease<?2)",
                             "tiii", owner, now_ms, lease_ms, (int64_t)max);
    if (rc <= 0)
        return rc;
    cloud_rows_t *r = cloud_store_select(s, "SELECT client_id, due, tries, misses FROM revocations WHERE owner=? AND"
                                            " lease=?", "ti", owner, lease_ms);
    int n = 0;
    while ((rc = cloud_rows_next(r)) == 1) {
        fn(u, cloud_rows_text(r, 0), cloud_rows_int(r, 1), (int)cloud_rows_int(r, 2), (int)cloud_rows_int(r, 3));
        n++;
    }
    cloud_rows_free(r);
    return rc < 0 ? -1 : n;
}

int cloud_store_revoke_done(cloud_store_t *s, const char *cid, int64_t due_ms)
{
    /* A change after the row's due (again > due) may postdate this close: once more at its due. */
    if (cloud_store_run(s, "UPDATE revocations SET due=again, again=0, tries=0, misses=0, owner='', lease=0"
                           " WHERE client_id=? AND due=? AND again>due", "ti", cid, due_ms) < 0)
        return -1;
    return cloud_store_run(s, "DELETE FROM revocations WHERE client_id=? AND due=? AND again<=due", "ti", cid, due_ms) < 0
               ? -1 : 0;
}

int cloud_store_revoke_later(cloud_store_t *s, const char *cid, int64_t old_due_ms, int64_t due_ms, int tries,
                             int misses)
{
    return cloud_store_run(s, "UPDATE revocations SET due=?, tries=?, misses=?, owner='', lease=0 WHERE client_id=?"
                              " AND due=?", "iiiti", due_ms, (int64_t)tries, (int64_t)misses, cid, old_due_ms) < 0 ? -1 : 0;
}

int cloud_store_revoke_release(cloud_store_t *s, const char *owner)
{
    return cloud_store_run(s, "UPDATE revocations SET owner='', lease=0 WHERE owner=?", "t", owner);
}

int64_t cloud_store_revoke_next(cloud_store_t *s)
{
    cloud_rows_t *r = cloud_store_select(s, "SELECT min(due) FROM revocations", "");
    int rc = cloud_rows_next(r);
    int64_t v = rc == 1 && cloud_rows_type(r, 0) != CLOUD_COL_NULL ? cloud_rows_int(r, 0) : rc == 1 ? INT64_MAX : -1;
    cloud_rows_free(r);
    return v;
}
