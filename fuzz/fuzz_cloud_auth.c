/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the smartcfg_auth broker plugin's parsing of what unauthenticated peers
 * send — client id, username (<P><D>;<sdkappid>;<connid>;<expiry>), password
 * (<hex>;hmacsha256|hmacsha1) and topic filters against the topic grammar — plus the log
 * masking. The plugin source is compiled in with the broker calls and SQLite stubbed (the
 * registry always answers "no such device"), so the fuzzer reaches every parser without a
 * broker or a database. Input: four NUL-separated fields id, username, password, topic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../apps/cloud/plugin/smartcfg_auth.c"
#include "../apps/cloud/cloud_acl.c"
/* The registry interface the plugin reads through (SQLite here; no libpq). */
#include "../apps/cloud/cloud_store.c"
#include "../apps/cloud/cloud_store_sqlite.c"
#include "../apps/cloud/cloud_store_pg.c"

struct mosquitto {
    const char *id, *user;
};
static MOSQ_FUNC_generic_callback cb_auth, cb_acl;

int mosquitto_callback_register(mosquitto_plugin_id_t *i, int event, MOSQ_FUNC_generic_callback cb, const void *d, void *u)
{
    (void)i, (void)d, (void)u;
    if (event == MOSQ_EVT_BASIC_AUTH)
        cb_auth = cb;
    else
        cb_acl = cb;
    return MOSQ_ERR_SUCCESS;
}
int mosquitto_callback_unregister(mosquitto_plugin_id_t *i, int e, MOSQ_FUNC_generic_callback cb, const void *d)
{
    (void)i, (void)e, (void)cb, (void)d;
    return MOSQ_ERR_SUCCESS;
}
void mosquitto_log_printf(int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    (void)level;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (strchr(buf, '\n'))
        __builtin_trap();   /* a peer forged a log line */
}
const char *mosquitto_client_id(const struct mosquitto *c) { return c->id; }
const char *mosquitto_client_username(const struct mosquitto *c) { return c->user; }

/* SQLite stubs: an empty registry. */
int sqlite3_open_v2(const char *f, sqlite3 **db, int fl, const char *v) { (void)f, (void)fl, (void)v; *db = (sqlite3 *)1; return SQLITE_OK; }
int sqlite3_close(sqlite3 *db) { (void)db; return SQLITE_OK; }
int sqlite3_busy_timeout(sqlite3 *db, int ms) { (void)db, (void)ms; return SQLITE_OK; }
const char *sqlite3_errmsg(sqlite3 *db) { (void)db; return "stub"; }
int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n, sqlite3_stmt **st, const char **tail)
{
    (void)db, (void)sql, (void)n, (void)tail;
    *st = (sqlite3_stmt *)1;
    return SQLITE_OK;
}
int sqlite3_bind_text(sqlite3_stmt *st, int i, const char *v, int n, void (*d)(void *)) { (void)st, (void)i, (void)v, (void)n, (void)d; return SQLITE_OK; }
int sqlite3_step(sqlite3_stmt *st) { (void)st; return SQLITE_DONE; }
int sqlite3_finalize(sqlite3_stmt *st) { (void)st; return SQLITE_OK; }
const unsigned char *sqlite3_column_text(sqlite3_stmt *st, int i) { (void)st, (void)i; return (const unsigned char *)""; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        struct mosquitto_opt opts[] = { { "registry", "stub" }, { "service_user", "svc" },
                                        { "service_password", "0123456789abcdef" } };
        if (mosquitto_plugin_init(NULL, NULL, opts, 3) != MOSQ_ERR_SUCCESS)
            __builtin_trap();
        inited = 1;
    }
    char buf[2048];
    if (size >= sizeof buf)
        size = sizeof buf - 1;
    memcpy(buf, data, size);
    buf[size] = 0;
    const char *f[4] = { "", "", "", "" };
    char *p = buf;
    for (int i = 0; i < 4 && p <= buf + size; i++) {
        f[i] = p;
        p += strlen(p) + 1;
    }
    struct mosquitto c = { *f[0] ? f[0] : NULL, *f[1] ? f[1] : NULL };
    struct mosquitto_evt_basic_auth a = { .client = &c, .username = (char *)c.user, .password = *f[2] ? (char *)f[2] : NULL };
    int rc = cb_auth(MOSQ_EVT_BASIC_AUTH, &a, NULL);
    /* An empty registry admits nobody but the service identity. */
    if (rc == MOSQ_ERR_SUCCESS && !(c.user && !strcmp(c.user, "svc")))
        __builtin_trap();
    for (int access = MOSQ_ACL_READ; access <= MOSQ_ACL_UNSUBSCRIBE; access <<= 1) {
        struct mosquitto_evt_acl_check e = { .client = &c, .topic = f[3], .access = access };
        cb_acl(MOSQ_EVT_ACL_CHECK, &e, NULL);
    }
    return 0;
}
