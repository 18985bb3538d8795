/* SPDX-License-Identifier: Apache-2.0 */
/* The local cloud's registry: products, devices, bind tokens, family bindings in one SQLite
 * file. WAL so the broker plugin (read-only), the HTTP thread and the binding service can use
 * it at once; synchronous=NORMAL because in WAL mode that still never corrupts the file and a
 * crash loses at most the last commits, while FULL costs an fsync per bind (see docs/cloud.md). */
#include <stdio.h>
#include <string.h>

#include "cloud.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS products(product_id TEXT PRIMARY KEY, product_secret TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS devices(product_id TEXT NOT NULL, device_name TEXT NOT NULL,"
    " psk TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(product_id, device_name));"
    "CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, created INTEGER NOT NULL,"
    " expire INTEGER NOT NULL, product_id TEXT, device_name TEXT, bound_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS tokens_by_device ON tokens(product_id, device_name);"
    "CREATE TABLE IF NOT EXISTS bindings(product_id TEXT NOT NULL, device_name TEXT NOT NULL,"
    " family_id TEXT, room_id TEXT, token TEXT, created INTEGER NOT NULL,"
    " PRIMARY KEY(product_id, device_name));"
    /* Accounts (docs/cloud.md "Accounts"): users log in with AppGetToken and get an expiring
     * access token; every bind token and family belongs to one user. */
    "CREATE TABLE IF NOT EXISTS users(user_id TEXT PRIMARY KEY, user_name TEXT NOT NULL UNIQUE,"
    " salt TEXT NOT NULL, pw_hash TEXT NOT NULL, family_id TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS access_tokens(token TEXT PRIMARY KEY, user_id TEXT NOT NULL,"
    " expire INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS access_tokens_by_expire ON access_tokens(expire);"
    "CREATE INDEX IF NOT EXISTS tokens_by_expire ON tokens(expire);"
    /* Dynamic registration requests seen within the timestamp window: a replay is refused. */
    "CREATE TABLE IF NOT EXISTS dynreg_seen(product_id TEXT NOT NULL, device_name TEXT NOT NULL,"
    " nonce INTEGER NOT NULL, timestamp INTEGER NOT NULL, PRIMARY KEY(product_id, device_name, nonce, timestamp));"
    /* Gateway topology (docs/cloud.md "Gateways"): a sub-device is bound to at most one gateway;
     * online says the gateway has its session up. The broker plugin reads it for the ACL. */
    "CREATE TABLE IF NOT EXISTS gw_subdevs(sub_pid TEXT NOT NULL, sub_dn TEXT NOT NULL, gw_pid TEXT NOT NULL,"
    " gw_dn TEXT NOT NULL, online INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL,"
    " PRIMARY KEY(sub_pid, sub_dn));"
    "CREATE INDEX IF NOT EXISTS gw_subdevs_by_gw ON gw_subdevs(gw_pid, gw_dn);"
    /* The data template's last reported properties (get_status answers them). */
    "CREATE TABLE IF NOT EXISTS thing_props(product_id TEXT NOT NULL, device_name TEXT NOT NULL,"
    " reported TEXT NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY(product_id, device_name));";

/* Columns added after the first release; ALTER fails harmlessly when they exist. */
static const char *const migrations[] = {
    "ALTER TABLE tokens ADD COLUMN user_id TEXT",
};

int cloud_store_open(cloud_store_t *s, const char *path, char *err, size_t errlen)
{
    s->db = NULL;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        s->db = NULL;
        return -1;
    }
    /* Several processes and threads share the file: wait for a lock instead of failing. */
    sqlite3_busy_timeout(s->db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot initialise database %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(s->db);
        s->db = NULL;
        return -1;
    }
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++)
        sqlite3_exec(s->db, migrations[i], NULL, NULL, NULL);
    return 0;
}

void cloud_store_close(cloud_store_t *s)
{
    if (s->db)
        sqlite3_close(s->db);
    s->db = NULL;
}

int cloud_store_begin(cloud_store_t *s)
{
    /* IMMEDIATE: take the write lock now, so a read-then-write decision is never invalidated. */
    return sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int cloud_store_commit(cloud_store_t *s)
{
    return sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

void cloud_store_rollback(cloud_store_t *s)
{
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static sqlite3_stmt *prep(cloud_store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

static void bind_texts(sqlite3_stmt *st, int n, const char *const *v)
{
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_TRANSIENT);
}

/* One write statement: n text parameters, then ni integer ones. The rows changed, or -1. */
static int run_write(cloud_store_t *s, const char *sql, int n, const char *const *v, int ni, const int64_t *iv)
{
    sqlite3_stmt *st = prep(s, sql);
    if (!st)
        return -1;
    bind_texts(st, n, v);
    for (int i = 0; i < ni; i++)
        sqlite3_bind_int64(st, n + i + 1, iv[i]);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? sqlite3_changes(s->db) : -1;
}

/* INSERT OR IGNORE: 0 inserted, 1 the row existed, -1 error. */
static int insert_new(cloud_store_t *s, const char *sql, int n, const char *const *v, int ni, const int64_t *iv)
{
    int rc = run_write(s, sql, n, v, ni, iv);
    return rc < 0 ? -1 : rc == 1 ? 0 : 1;
}

static int copy_col(sqlite3_stmt *st, int col, char *out, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!out || !len)
        return 0;
    snprintf(out, len, "%s", t ? (const char *)t : "");
    return 0;
}

int cloud_store_add_product(cloud_store_t *s, const char *pid, const char *secret, int64_t now)
{
    const char *v[] = { pid, secret };
    return insert_new(s, "INSERT OR IGNORE INTO products(product_id, product_secret, created) VALUES(?,?,?)", 2, v,
                      1, &now);
}

int cloud_store_get_product_secret(cloud_store_t *s, const char *pid, char *secret, size_t len)
{
    sqlite3_stmt *st = prep(s, "SELECT product_secret FROM products WHERE product_id=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, pid, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        copy_col(st, 0, secret, len);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    }
    sqlite3_finalize(st);
    return ret;
}

int cloud_store_add_device(cloud_store_t *s, const char *pid, const char *dn, const char *psk,
                           int64_t now, char *psk_out, size_t psk_len)
{
    const char *v[] = { pid, dn, psk };
    int rc = insert_new(s, "INSERT OR IGNORE INTO devices(product_id, device_name, psk, created) VALUES(?,?,?,?)", 3,
                        v, 1, &now);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        if (psk_out)
            snprintf(psk_out, psk_len, "%s", psk);
        return 0;
    }
    sqlite3_stmt *st = prep(s, "SELECT psk FROM devices WHERE product_id=? AND device_name=?");
    if (!st)
        return -1;
    bind_texts(st, 2, v);
    int ret = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        copy_col(st, 0, psk_out, psk_len);
        ret = 1;
    }
    sqlite3_finalize(st);
    return ret;
}

int cloud_store_device_exists(cloud_store_t *s, const char *pid, const char *dn)
{
    sqlite3_stmt *st = prep(s, "SELECT 1 FROM devices WHERE product_id=? AND device_name=?");
    if (!st)
        return -1;
    const char *v[] = { pid, dn };
    bind_texts(st, 2, v);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The client id is <ProductId><DeviceName> with no separator: every registered product that
 * prefixes it is a candidate (cloud_acl.h find_device). Returns the number of matches. */
int cloud_store_find_device(cloud_store_t *s, const char *client_id, char *pid, size_t pidlen, char *psk, size_t psklen)
{
    sqlite3_stmt *st = prep(s, "SELECT p.product_id, d.psk FROM products p JOIN devices d ON d.product_id = p.product_id"
                               " AND d.device_name = substr(?1, length(p.product_id) + 1)"
                               " WHERE length(?1) > length(p.product_id) AND substr(?1, 1, length(p.product_id)) = p.product_id");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, client_id, -1, SQLITE_TRANSIENT);
    int found = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        found++;
        snprintf(pid, pidlen, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(psk, psklen, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? found : -1;
}

int cloud_store_add_token(cloud_store_t *s, const char *token, const char *user_id, int64_t now, int64_t expire)
{
    const char *v[] = { token, user_id };
    const int64_t iv[] = { now, expire };
    return run_write(s, "INSERT INTO tokens(token, user_id, created, expire) VALUES(?,?,?,?)", 2, v, 2, iv) == 1 ? 0 : -1;
}

int cloud_store_get_token(cloud_store_t *s, const char *token, cloud_token_t *t)
{
    sqlite3_stmt *st = prep(s, "SELECT created, expire, coalesce(bound_at,0), coalesce(product_id,''),"
                               " coalesce(device_name,''), coalesce(user_id,'') FROM tokens WHERE token=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, token, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        t->created = sqlite3_column_int64(st, 0);
        t->expire = sqlite3_column_int64(st, 1);
        t->bound_at = sqlite3_column_int64(st, 2);
        copy_col(st, 3, t->product_id, sizeof t->product_id);
        copy_col(st, 4, t->device_name, sizeof t->device_name);
        copy_col(st, 5, t->user_id, sizeof t->user_id);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    }
    sqlite3_finalize(st);
    return ret;
}

/* Caller holds a transaction (the binding service batches many binds into one commit). */
int cloud_store_bind_token(cloud_store_t *s, const char *token, const char *pid, const char *dn, int64_t now)
{
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
    sqlite3_stmt *st = prep(s, "UPDATE tokens SET product_id=?, device_name=?, bound_at=? WHERE token=? AND bound_at IS NULL");
    if (!st)
        return CLOUD_BIND_INTERNAL;
    const char *v[] = { pid, dn };
    bind_texts(st, 2, v);
    sqlite3_bind_int64(st, 3, now > 0 ? now : 1);
    sqlite3_bind_text(st, 4, token, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? CLOUD_BIND_OK : CLOUD_BIND_INTERNAL;
}

int cloud_store_device_bound(cloud_store_t *s, const char *pid, const char *dn)
{
    sqlite3_stmt *st = prep(s, "SELECT 1 FROM tokens WHERE product_id=? AND device_name=? AND bound_at IS NOT NULL"
                               " UNION SELECT 1 FROM bindings WHERE product_id=? AND device_name=? LIMIT 1");
    if (!st)
        return CLOUD_BIND_INTERNAL;
    const char *v[] = { pid, dn, pid, dn };
    bind_texts(st, 4, v);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? CLOUD_BIND_OK : rc == SQLITE_DONE ? CLOUD_BIND_UNKNOWN : CLOUD_BIND_INTERNAL;
}

/* A device belongs to at most one family: binding it into another one needs an unbind first
 * (AppDeleteDeviceInFamily or the admin API). Returns 0, 1 when bound in another family, -1. */
int cloud_store_bind_family(cloud_store_t *s, const char *token, const char *pid, const char *dn,
                            const char *family, const char *room, int64_t now)
{
    sqlite3_stmt *st = prep(s, "SELECT coalesce(family_id,'') FROM bindings WHERE product_id=? AND device_name=?");
    if (!st)
        return -1;
    const char *k[] = { pid, dn };
    bind_texts(st, 2, k);
    int rc = sqlite3_step(st);
    bool other = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), family) != 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    if (other)
        return 1;
    const char *v[] = { pid, dn, family, room, token };
    return run_write(s, "INSERT OR REPLACE INTO bindings(product_id, device_name, family_id, room_id, token, created)"
                        " VALUES(?,?,?,?,?,?)", 5, v, 1, &now) < 0 ? -1 : 0;
}

/* Runs one statement with text parameters; returns the number of changed rows or -1. */
int cloud_store_exec(cloud_store_t *s, const char *sql, int n, const char *const *v)
{
    return run_write(s, sql, n, v, 0, NULL);
}

/* Unbinds a device: its family binding goes, and so do the tokens it bound (so neither
 * bind_device_query nor a token state says "bound" any more). Returns rows removed, or -1. */
int cloud_store_unbind(cloud_store_t *s, const char *pid, const char *dn)
{
    const char *v[] = { pid, dn };
    if (cloud_store_begin(s) != 0)
        return -1;
    int a = cloud_store_exec(s, "DELETE FROM bindings WHERE product_id=? AND device_name=?", 2, v);
    int b = cloud_store_exec(s, "DELETE FROM tokens WHERE product_id=? AND device_name=?", 2, v);
    if (a < 0 || b < 0 || cloud_store_commit(s) != 0) {
        cloud_store_rollback(s);
        return -1;
    }
    return a + b;
}

int cloud_store_delete_device(cloud_store_t *s, const char *pid, const char *dn)
{
    if (cloud_store_unbind(s, pid, dn) < 0)
        return -1;
    const char *v[] = { pid, dn };
    return cloud_store_exec(s, "DELETE FROM devices WHERE product_id=? AND device_name=?", 2, v);
}

/* The client id is <ProductId><DeviceName> without a separator: a new pair must not spell the
 * client id of another registered pair (A + BCdev1 vs AB + Cdev1), or the broker could not
 * tell them apart. 1 = collides, 0 = free, -1 = error. */
int cloud_store_client_id_taken(cloud_store_t *s, const char *pid, const char *dn)
{
    sqlite3_stmt *st = prep(s, "SELECT 1 FROM devices WHERE product_id || device_name = ?1 || ?2"
                               " AND NOT (product_id = ?1 AND device_name = ?2) LIMIT 1");
    if (!st)
        return -1;
    const char *v[] = { pid, dn };
    bind_texts(st, 2, v);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Garbage collection: bind tokens that expired unbound are kept readable ("expired") for
 * token_grace seconds, then deleted; expired access tokens and dynamic-registration records
 * older than the timestamp window go at once. */
int cloud_store_gc(cloud_store_t *s, int64_t now, int64_t token_grace, int64_t dynreg_window)
{
    sqlite3_stmt *st[3] = {
        prep(s, "DELETE FROM tokens WHERE bound_at IS NULL AND expire < ?"),
        prep(s, "DELETE FROM access_tokens WHERE expire < ?"),
        prep(s, "DELETE FROM dynreg_seen WHERE timestamp < ?"),
    };
    int64_t lim[3] = { now - token_grace, now, now - dynreg_window };
    int removed = 0, ret = 0;
    for (int i = 0; i < 3; i++) {
        if (!st[i]) {
            ret = -1;
            continue;
        }
        sqlite3_bind_int64(st[i], 1, lim[i]);
        if (sqlite3_step(st[i]) == SQLITE_DONE)
            removed += sqlite3_changes(s->db);
        else
            ret = -1;
        sqlite3_finalize(st[i]);
    }
    return ret < 0 ? -1 : removed;
}

/* Records a dynamic-registration request; 1 when the same one was seen already (a replay). */
int cloud_store_dynreg_seen(cloud_store_t *s, const char *pid, const char *dn, int64_t nonce, int64_t ts)
{
    const char *v[] = { pid, dn };
    const int64_t iv[] = { nonce, ts };
    return insert_new(s, "INSERT OR IGNORE INTO dynreg_seen(product_id, device_name, nonce, timestamp) VALUES(?,?,?,?)",
                      2, v, 2, iv);
}

/* ---- users ------------------------------------------------------------------------------ */
int cloud_store_add_user(cloud_store_t *s, const char *uid, const char *name, const char *salt, const char *hash,
                         const char *family, int64_t now)
{
    const char *v[] = { uid, name, salt, hash, family };
    return insert_new(s, "INSERT OR IGNORE INTO users(user_id, user_name, salt, pw_hash, family_id, created)"
                         " VALUES(?,?,?,?,?,?)", 5, v, 1, &now);
}

int cloud_store_get_user(cloud_store_t *s, const char *name, cloud_user_t *u)
{
    sqlite3_stmt *st = prep(s, "SELECT user_id, user_name, salt, pw_hash, family_id FROM users WHERE user_name=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), ret = rc == SQLITE_DONE ? 1 : -1;
    if (rc == SQLITE_ROW) {
        copy_col(st, 0, u->user_id, sizeof u->user_id);
        copy_col(st, 1, u->user_name, sizeof u->user_name);
        copy_col(st, 2, u->salt, sizeof u->salt);
        copy_col(st, 3, u->pw_hash, sizeof u->pw_hash);
        copy_col(st, 4, u->family_id, sizeof u->family_id);
        ret = 0;
    }
    sqlite3_finalize(st);
    return ret;
}

int cloud_store_add_access_token(cloud_store_t *s, const char *token, const char *uid, int64_t expire)
{
    const char *v[] = { token, uid };
    return run_write(s, "INSERT INTO access_tokens(token, user_id, expire) VALUES(?,?,?)", 2, v, 1, &expire) == 1 ? 0 : -1;
}

/* The user an unexpired access token belongs to: 0 (u filled), 1 unknown or expired, -1. */
int cloud_store_check_access_token(cloud_store_t *s, const char *token, int64_t now, cloud_user_t *u)
{
    sqlite3_stmt *st = prep(s, "SELECT u.user_id, u.user_name, u.family_id FROM access_tokens a"
                               " JOIN users u ON u.user_id = a.user_id WHERE a.token=? AND a.expire >= ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, token, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st), ret = rc == SQLITE_DONE ? 1 : -1;
    if (rc == SQLITE_ROW) {
        memset(u, 0, sizeof *u);
        copy_col(st, 0, u->user_id, sizeof u->user_id);
        copy_col(st, 1, u->user_name, sizeof u->user_name);
        copy_col(st, 2, u->family_id, sizeof u->family_id);
        ret = 0;
    }
    sqlite3_finalize(st);
    return ret;
}

/* ---- gateways and the data template ------------------------------------------------------ */
int cloud_store_get_device_psk(cloud_store_t *s, const char *pid, const char *dn, char *psk, size_t len)
{
    sqlite3_stmt *st = prep(s, "SELECT psk FROM devices WHERE product_id=? AND device_name=?");
    if (!st)
        return -1;
    const char *v[] = { pid, dn };
    bind_texts(st, 2, v);
    int rc = sqlite3_step(st), ret = rc == SQLITE_DONE ? 1 : -1;
    if (rc == SQLITE_ROW) {
        copy_col(st, 0, psk, len);
        ret = 0;
    }
    sqlite3_finalize(st);
    return ret;
}

/* 0 bound (again), 1 bound to another gateway, -1 error. */
int cloud_store_gw_bind(cloud_store_t *s, const char *gpid, const char *gdn, const char *spid, const char *sdn,
                        int64_t now)
{
    const char *v[] = { spid, sdn, gpid, gdn };
    int rc = insert_new(s, "INSERT OR IGNORE INTO gw_subdevs(sub_pid, sub_dn, gw_pid, gw_dn, online, updated)"
                           " VALUES(?,?,?,?,0,?)", 4, v, 1, &now);
    if (rc != 1)
        return rc;
    int b = cloud_store_gw_bound(s, gpid, gdn, spid, sdn);   /* the row existed: whose is it? */
    return b < 0 ? -1 : b == 1 ? 0 : 1;
}

/* 1 when the sub-device is bound to this gateway, 0 not, -1 error. */
int cloud_store_gw_bound(cloud_store_t *s, const char *gpid, const char *gdn, const char *spid, const char *sdn)
{
    sqlite3_stmt *st = prep(s, "SELECT 1 FROM gw_subdevs WHERE sub_pid=? AND sub_dn=? AND gw_pid=? AND gw_dn=?");
    if (!st)
        return -1;
    const char *v[] = { spid, sdn, gpid, gdn };
    bind_texts(st, 4, v);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The ACL's question (cloud_acl.h): does the gateway logged in as gw_cid speak for <pid>/<dn> now? */
int cloud_store_gw_proxies(cloud_store_t *s, const char *gw_cid, const char *pid, const char *dn)
{
    sqlite3_stmt *st = prep(s, "SELECT 1 FROM gw_subdevs WHERE sub_pid=? AND sub_dn=? AND online=1 AND gw_pid || gw_dn = ?");
    if (!st)
        return -1;
    const char *v[] = { pid, dn, gw_cid };
    bind_texts(st, 3, v);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Unbind (online < 0) or set the session state; rows changed (0: not bound here), or -1. */
int cloud_store_gw_update(cloud_store_t *s, const char *gpid, const char *gdn, const char *spid, const char *sdn,
                          int online)
{
    const char *v[] = { spid, sdn, gpid, gdn };
    if (online < 0)
        return cloud_store_exec(s, "DELETE FROM gw_subdevs WHERE sub_pid=? AND sub_dn=? AND gw_pid=? AND gw_dn=?", 4, v);
    return cloud_store_exec(s, online ? "UPDATE gw_subdevs SET online=1 WHERE sub_pid=? AND sub_dn=? AND gw_pid=? AND gw_dn=?"
                                      : "UPDATE gw_subdevs SET online=0 WHERE sub_pid=? AND sub_dn=? AND gw_pid=? AND gw_dn=?",
                            4, v);
}

/* The gateway's sub-devices, one callback each. Rows, or -1. */
int cloud_store_gw_list(cloud_store_t *s, const char *gpid, const char *gdn,
                        void (*fn)(void *u, const char *pid, const char *dn, bool online), void *u)
{
    sqlite3_stmt *st = prep(s, "SELECT sub_pid, sub_dn, online FROM gw_subdevs WHERE gw_pid=? AND gw_dn=?"
                               " ORDER BY sub_pid, sub_dn");
    if (!st)
        return -1;
    const char *v[] = { gpid, gdn };
    bind_texts(st, 2, v);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn(u, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
           sqlite3_column_int(st, 2) != 0);
        n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}

int cloud_store_thing_put(cloud_store_t *s, const char *pid, const char *dn, const char *reported, int64_t now)
{
    const char *v[] = { pid, dn, reported };
    return run_write(s, "INSERT OR REPLACE INTO thing_props(product_id, device_name, reported, updated)"
                        " VALUES(?,?,?,?)", 3, v, 1, &now) < 0 ? -1 : 0;
}

/* 0 found (reported filled), 1 nothing reported yet, -1 error. */
int cloud_store_thing_get(cloud_store_t *s, const char *pid, const char *dn, char *reported, size_t len)
{
    sqlite3_stmt *st = prep(s, "SELECT reported FROM thing_props WHERE product_id=? AND device_name=?");
    if (!st)
        return -1;
    const char *v[] = { pid, dn };
    bind_texts(st, 2, v);
    int rc = sqlite3_step(st), ret = rc == SQLITE_DONE ? 1 : -1;
    if (rc == SQLITE_ROW) {
        copy_col(st, 0, reported, len);
        ret = 0;
    }
    sqlite3_finalize(st);
    return ret;
}
