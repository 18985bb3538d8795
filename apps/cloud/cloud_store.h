/* SPDX-License-Identifier: Apache-2.0 */
/* The local cloud's registry behind one interface (docs/cloud.md "Storage"): products, devices,
 * bind tokens, family bindings, accounts and OTA records. Two backends share it:
 *   - SQLite (cloud_store_sqlite.c), the embedded default: one file, WAL;
 *   - PostgreSQL (cloud_store_pg.c, libpq), `--db postgresql://…`: several cloud workers on one
 *     database (docs/scale.md "Storage").
 * Everything above the backends (the schema, its migrations, every query) is written once, here
 * and in cloud_store.c, in the SQL both engines speak: `?` / `?N` parameters (the PostgreSQL
 * backend renumbers them to $N), INSERT … ON CONFLICT, coalesce, CAST(? AS TEXT).
 *
 * Contract: a cloud_store_t belongs to one thread at a time (each component opens its own);
 * a write that returned success is committed (durable) unless the caller holds a transaction,
 * and then only its cloud_store_commit() returning 0 means durable. Errors never carry a
 * password: the PostgreSQL URL is redacted in every message. Standalone (no cloud.h): the
 * mosquitto plugin links it too. */
#ifndef SMARTCFG_APPS_CLOUD_STORE_H
#define SMARTCFG_APPS_CLOUD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cloud_store_ops cloud_store_ops_t;
typedef struct cloud_rows cloud_rows_t;

/* Which connection a cloud_store_t is, set by the open that made it; the backends open each
 * kind as its users need. */
typedef enum {
    CLOUD_STORE_OWN,      /* cloud_store_open: a component's own (the HTTP API's shared one, the
                           * binding service, OTA, the data template, revocations, the schema at
                           * the start): reads and writes, waits for the server, migrates */
    CLOUD_STORE_PLUGIN,   /* cloud_store_open_reader: the broker plugin's: reads only, waits for
                           * the server, never migrates */
    CLOUD_STORE_AUTH,     /* cloud_store_open_lazy: an HTTP auth thread's own, opened while
                           * serving: reads only, never waits (PostgreSQL: connects at a later use) */
    CLOUD_STORE_PROBE,    /* cloud_store_open_probe: the readiness probe's: as AUTH, and SQLite may
                           * take the write lock (never creates the file) */
} cloud_store_kind_t;

typedef struct {
    const cloud_store_ops_t *ops;   /* NULL: closed */
    void *be;                       /* the backend's connection state */
    cloud_store_kind_t kind;
    bool unavailable;               /* the last failure was the database being unreachable */
    unsigned lock_wait_ms;          /* a statement's wait for a lock held elsewhere; 0: the
                                     * backend's own (SQLite: 5 s). cloud_store_set_lock_wait */
    char err[200];                  /* the last error, for logs (never a secret) */
    /* Bounds of a PostgreSQL wait for the server's answer, for an owner that must not wait on a
     * server gone without a reset (the revocation thread at a stop, cloud_revoke.c); zero
     * after an open: none. The wait ends when abort_fd is readable (with abortable set) or at
     * deadline_ms (CLOCK_MONOTONIC ms; 0: none): the query is abandoned, the connection shut
     * (the statement fails as unavailable, whatever the server does with it later), and while
     * deadline_ms is set a lost connection is not reconnected (a reconnect would wait on the
     * same server, up to connect_timeout). The owner's thread sets them between statements. */
    bool abortable;
    int abort_fd;
    int64_t deadline_ms;
    /* >0: abort_fd readable does not end a wait at once but bounds it to this many ms more (a
     * query that answers in time still counts: the main loop's binder at a signal). */
    int abort_grace_ms;
    unsigned server_wait_ms;        /* cloud_store_set_server_wait; 0: none */
} cloud_store_t;

/* Process-wide settings, read by cloud_store_open (set them before starting components). */
typedef struct {
    unsigned connect_wait_s;        /* how long open keeps retrying an unreachable server (0: once) */
    void (*log)(const char *msg);   /* progress of retries/reconnects; NULL: silent */
} cloud_store_cfg_t;
void cloud_store_configure(const cloud_store_cfg_t *cfg);

/* spec: "postgresql://…" / "postgres://…" (libpq URL), "sqlite:PATH", or a plain SQLite path.
 * Connects (retrying an unreachable server for connect_wait_s with back-off) and applies the
 * pending schema migrations. 0, or -1 with err filled. */
int cloud_store_open(cloud_store_t *s, const char *spec, char *err, size_t errlen);
/* For the broker plugin: reads only, never migrates (the cloud did at its start). */
int cloud_store_open_reader(cloud_store_t *s, const char *spec, char *err, size_t errlen);
/* A reader opened while serving (an HTTP auth thread's own connection): never waits for the
 * server; a PostgreSQL server unreachable now is connected at a later use (each use fails as
 * unavailable until then), so the open fails only for want of memory or a bad spec. */
int cloud_store_open_lazy(cloud_store_t *s, const char *spec, char *err, size_t errlen);
/* As cloud_store_open_lazy, for cloud_store_writable: a SQLite connection that may take the
 * write lock (never creates the file, never migrates). */
int cloud_store_open_probe(cloud_store_t *s, const char *spec, char *err, size_t errlen);
void cloud_store_close(cloud_store_t *s);
/* Whether a write would get through now, without writing (GET /readyz, cloud_health.c): 1
 * yes; 0 the database answers but takes no writes (SQLite: its write lock not free within
 * wait_ms, held by another connection or process; PostgreSQL: a standby in recovery, or
 * transactions read-only by default); -1 it does not answer (s->err says why). SQLite holds
 * the write lock for the moment of a BEGIN IMMEDIATE and ROLLBACK; nothing is written. */
int cloud_store_writable(cloud_store_t *s, unsigned wait_ms);
/* How long this connection's statements wait for a lock another connection or process holds
 * (SQLite's busy timeout, PostgreSQL's lock_timeout; 0: the backend's own: SQLite 5 s,
 * PostgreSQL none). Then the statement fails as unavailable. The HTTP API's stores wait less
 * than libmicrohttpd's idle timeout (cloud_http.c, HTTP_LOCK_WAIT_MS), the broker plugin's
 * less still (it holds mosquitto's one thread). */
void cloud_store_set_lock_wait(cloud_store_t *s, unsigned ms);
/* How long this connection waits for a database server that does not answer at all (a host
 * down, a network cut, a server that hangs): PostgreSQL's answer to each statement, and each
 * host of a reconnect. Then the statement fails as unavailable, the connection is shut, and
 * the next reconnect (after the usual pause) starts at the next host of a multi-host URL.
 * 0: none but the keepalives' (~11 s for a server gone; never, for one whose kernel still
 * answers) and connect_timeout's 5 s per host. For the connections whose wait holds others:
 * the HTTP API's (a pool thread and the connections it took) and the broker plugin's
 * (mosquitto's one thread, every client). No effect on SQLite (a local file). */
void cloud_store_set_server_wait(cloud_store_t *s, unsigned ms);
/* True when spec names a server database (no local file beside it). */
bool cloud_store_is_server(const char *spec);
/* spec with any password replaced by "***": safe to log or print. */
void cloud_store_redact(const char *spec, char *out, size_t len);
/* The SQLite file behind spec, or NULL for a server database. */
const char *cloud_store_file(const char *spec);
/* The schema version the code applies (the highest migration). */
int cloud_store_schema_version(void);

int cloud_store_begin(cloud_store_t *s);
int cloud_store_commit(cloud_store_t *s);
void cloud_store_rollback(cloud_store_t *s);

/* ---- generic statements (listings, admin) -------------------------------------------------
 * types: one letter per parameter: 't' const char * (NULL = SQL NULL), 'i' int64_t.
 * cloud_store_run: the number of rows changed, -1 on error, CLOUD_STORE_CONFLICT when a unique
 * constraint refused the write. cloud_store_select: a cursor, or NULL on error. */
#define CLOUD_STORE_CONFLICT (-2)
#define CLOUD_STORE_MAX_PARAMS 8
int cloud_store_run(cloud_store_t *s, const char *sql, const char *types, ...);
cloud_rows_t *cloud_store_select(cloud_store_t *s, const char *sql, const char *types, ...);
/* 1 a row is there, 0 done, -1 error. */
int cloud_rows_next(cloud_rows_t *r);
const char *cloud_rows_text(cloud_rows_t *r, int col);   /* "" for NULL; valid until next/free */
int64_t cloud_rows_int(cloud_rows_t *r, int col);
enum { CLOUD_COL_NULL, CLOUD_COL_INT, CLOUD_COL_TEXT };
int cloud_rows_type(cloud_rows_t *r, int col);
void cloud_rows_free(cloud_rows_t *r);
/* Text-only cloud_store_run (n parameters from v), kept for the callers that build SQL lists. */
int cloud_store_exec(cloud_store_t *s, const char *sql, int n, const char *const *v);

/* ---- the registry operations --------------------------------------------------------------
 * Return 0 on success, 1 when the row exists already (then the stored values are
 * returned in the out buffers), -1 on error. */
int cloud_store_add_product(cloud_store_t *s, const char *pid, const char *secret, int64_t now);
int cloud_store_get_product_secret(cloud_store_t *s, const char *pid, char *secret, size_t len);
int cloud_store_add_device(cloud_store_t *s, const char *pid, const char *dn, const char *psk,
                           int64_t now, char *psk_out, size_t psk_len);
int cloud_store_device_exists(cloud_store_t *s, const char *pid, const char *dn);
/* The broker's login lookup (cloud_acl.h find_device): client id <ProductId><DeviceName>, split
 * at every registered product that prefixes it. The number of matching devices (pid/psk of the
 * last), or -1. */
int cloud_store_find_device(cloud_store_t *s, const char *client_id, char *pid, size_t pidlen, char *psk,
                            size_t psklen);

int cloud_store_add_token(cloud_store_t *s, const char *token, const char *user_id, int64_t now, int64_t expire);
typedef struct {
    int64_t created, expire, bound_at;
    char product_id[65], device_name[64];
    char user_id[40];          /* who created it (empty for tokens older than accounts) */
} cloud_token_t;
/* 0 found, 1 not found, -1 error */
int cloud_store_get_token(cloud_store_t *s, const char *token, cloud_token_t *t);
/* The whole app_bind_token decision; returns a CLOUD_BIND_* code. Race-free between workers:
 * the UPDATE only takes an unbound token, and a lost race re-reads the winner's row. */
int cloud_store_bind_token(cloud_store_t *s, const char *token, const char *pid, const char *dn, int64_t now);
/* CLOUD_BIND_OK when a token was bound by this device, CLOUD_BIND_UNKNOWN otherwise. */
int cloud_store_device_bound(cloud_store_t *s, const char *pid, const char *dn);
/* 0 bound, 1 the device is bound in another family (unbind first), -1 error. */
int cloud_store_bind_family(cloud_store_t *s, const char *token, const char *pid, const char *dn,
                            const char *family, const char *room, int64_t now);
int cloud_store_unbind(cloud_store_t *s, const char *pid, const char *dn);
int cloud_store_delete_device(cloud_store_t *s, const char *pid, const char *dn);
int cloud_store_client_id_taken(cloud_store_t *s, const char *pid, const char *dn);
int cloud_store_gc(cloud_store_t *s, int64_t now, int64_t token_grace, int64_t dynreg_window);
int cloud_store_dynreg_seen(cloud_store_t *s, const char *pid, const char *dn, int64_t nonce, int64_t ts);

typedef struct {
    char user_id[40], user_name[65], salt[40], pw_hash[80], family_id[40];
} cloud_user_t;
/* 0 created, 1 the name exists, -1 error */
int cloud_store_add_user(cloud_store_t *s, const char *uid, const char *name, const char *salt, const char *hash,
                         const char *family, int64_t now);
int cloud_store_get_user(cloud_store_t *s, const char *name, cloud_user_t *u);
/* A user's AccessTokens: at most this many live at once, the oldest evicted by a new login. */
#define CLOUD_ACCESS_PER_USER 20
/* Adds one (expiring at expire, in s; issued at now_ms, wall clock), first deleting the user's
 * expired ones and its oldest beyond CLOUD_ACCESS_PER_USER - 1. 0 or -1. */
int cloud_store_add_access_token(cloud_store_t *s, const char *token, const char *uid, int64_t expire, int64_t now_ms);
int cloud_store_check_access_token(cloud_store_t *s, const char *token, int64_t now, cloud_user_t *u);

/* ---- gateways and the data template (cloud_thing.c, docs/cloud.md "Gateways") ------------ */
int cloud_store_get_device_psk(cloud_store_t *s, const char *pid, const char *dn, char *psk, size_t len);
int cloud_store_gw_bind(cloud_store_t *s, const char *gpid, const char *gdn, const char *spid, const char *sdn,
                        int64_t now);
/* The MQTT client ids whose rights a deletion of <pid>/<dn> (dn NULL: of the whole product)
 * takes away: the devices themselves and the gateways that speak for them. One callback
 * each (a client id may come twice); the number, or -1. */
int cloud_store_clients_of(cloud_store_t *s, const char *pid, const char *dn, void (*fn)(const char *client_id));
int cloud_store_gw_proxies(cloud_store_t *s, const char *gw_cid, const char *pid, const char *dn);
int cloud_store_gw_update(cloud_store_t *s, const char *gpid, const char *gdn, const char *spid, const char *sdn,
                          int online);
int cloud_store_gw_list(cloud_store_t *s, const char *gpid, const char *gdn,
                        void (*fn)(void *u, const char *pid, const char *dn, bool online), void *u);
int cloud_store_thing_put(cloud_store_t *s, const char *pid, const char *dn, const char *reported, int64_t now);
/* ---- revocation closes (cloud_revoke.c, docs/scale.md "Revoking rights") ------------------
 * Times in wall-clock ms (the workers may run on several machines). */
/* Added for a change whose close is due at due_ms; a pending close keeps its earlier due (a
 * later change never postpones it) and a later one is done by one more close afterwards. */
int cloud_store_revoke_add(cloud_store_t *s, const char *cid, int64_t due_ms);
/* Takes up to max due rows (free, or whose owner's lease ran out) for owner until lease_ms and
 * calls fn for each row it holds: the number, or -1. */
int cloud_store_revoke_claim(cloud_store_t *s, const char *owner, int64_t now_ms, int64_t lease_ms, unsigned max,
                             void (*fn)(void *u, const char *cid, int64_t due, int tries, int misses), void *u);
/* Done (deleted, or rescheduled for a change later than its due) / again at due_ms (released) —
 * only if the row still has that due (another worker may have taken it after the lease). */
int cloud_store_revoke_done(cloud_store_t *s, const char *cid, int64_t due_ms);
int cloud_store_revoke_later(cloud_store_t *s, const char *cid, int64_t old_due_ms, int64_t due_ms, int tries,
                             int misses);
/* Gives back what owner holds (a clean stop): the rows it released, or -1. */
int cloud_store_revoke_release(cloud_store_t *s, const char *owner);
/* The earliest due, INT64_MAX when none, -1 on error. */
int64_t cloud_store_revoke_next(cloud_store_t *s);

int cloud_store_thing_lock(cloud_store_t *s, const char *pid, const char *dn, int64_t now);
int cloud_store_thing_get(cloud_store_t *s, const char *pid, const char *dn, char *reported, size_t len);

/* ---- backends (cloud_store_sqlite.c, cloud_store_pg.c) ------------------------------------ */
typedef struct {
    char kind;            /* 't' or 'i' */
    const char *text;
    int64_t i;
} cloud_param_t;

struct cloud_rows {
    const cloud_store_ops_t *ops;
};

struct cloud_store_ops {
    const char *name;
    int (*open)(cloud_store_t *s, const char *target, char *err, size_t errlen);
    void (*close)(cloud_store_t *s);
    /* Several statements, no parameters (migrations). 0 or -1 (s->err). */
    int (*script)(cloud_store_t *s, const char *sql);
    /* One statement. rows != NULL: a cursor for a SELECT. Returns rows changed, -1, or
     * CLOUD_STORE_CONFLICT. */
    int (*exec)(cloud_store_t *s, const char *sql, int n, const cloud_param_t *p, cloud_rows_t **rows);
    int (*begin)(cloud_store_t *s);
    int (*writable)(cloud_store_t *s, unsigned wait_ms);   /* cloud_store_writable */
    /* How long the next statements wait for a lock another connection or process holds, in ms;
     * -1: the connection's own wait again (s->lock_wait_ms, or the backend's). NULL: not
     * adjustable (cloud_store_gc, cloud_store_set_lock_wait). */
    void (*lock_wait)(cloud_store_t *s, int ms);
    /* Serialises schema migrations between processes starting at once. */
    int (*migrate_lock)(cloud_store_t *s);
    void (*migrate_unlock)(cloud_store_t *s);
    /* Tolerated while migrating a database made before schema_version existed. */
    bool (*already_applied)(const cloud_store_t *s);
    int (*next)(cloud_rows_t *r);
    const char *(*text)(cloud_rows_t *r, int col);
    int64_t (*integer)(cloud_rows_t *r, int col);
    int (*type)(cloud_rows_t *r, int col);
    void (*free_rows)(cloud_rows_t *r);
};
extern const cloud_store_ops_t cloud_store_sqlite_ops;
extern const cloud_store_ops_t cloud_store_pg_ops;   /* open fails clearly when built without libpq */
extern cloud_store_cfg_t cloud_store_settings;
/* Records a failure in s->err (and counts it: cloud_store_error_count). */
void cloud_store_note(cloud_store_t *s, bool unavailable, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The failure just noted was a unique constraint's refusal (CLOUD_STORE_CONFLICT): an answer
 * ("exists"), not counted as a failure. */
void cloud_store_noted_conflict(void);
/* Failures noted in this process since it started, all connections together (GET /metrics). */
unsigned long long cloud_store_error_count(void);

#endif
