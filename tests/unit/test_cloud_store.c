/* SPDX-License-Identifier: Apache-2.0 */
/* The registry interface (apps/cloud/cloud_store.h) on its SQLite backend: migrations apply
 * once and a second open changes nothing; a file made before schema_version (the old
 * unconditional ALTER already ran) is adopted; binds are idempotent and exclusive; a family
 * binding refuses another family; the URL redaction never lets a password through; a
 * postgresql:// spec on a build without libpq is a clear error; another program's database
 * (a table of ours by name, not by columns) is refused at open, and a database a newer build
 * migrated is opened with one log line; a pending revocation close is taken by one worker at a
 * time and by another once its lease ran out. The PostgreSQL backend runs
 * against a real server in tests/integration/cloud_pg.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "test_util.h"

#include "../../apps/cloud/cloud_store.c"
#include "../../apps/cloud/cloud_store_sqlite.c"
#include "../../apps/cloud/cloud_store_pg.c"   /* built here without libpq: the stub */

static char path[64];

static int setup(void **state)
{
    (void)state;
    return tu_fresh_path(path, "test-cloud-store");   /* a fresh file: the store creates it */
}

static int teardown(void **state)
{
    (void)state;
    tu_unlink_sqlite(path);
    return 0;
}

#include "cloud_store_cases.h"

static void test_migrations_once(void **state)
{
    (void)state;
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    assert_int_equal(count(&s, "SELECT count(*) FROM schema_version"), cloud_store_schema_version());
    cloud_store_close(&s);
    /* "sqlite:" names the same file; nothing is applied twice. */
    char spec[80];
    snprintf(spec, sizeof spec, "sqlite:%s", path);
    assert_int_equal(cloud_store_open(&s, spec, err, sizeof err), 0);
    assert_int_equal(count(&s, "SELECT count(*) FROM schema_version"), cloud_store_schema_version());
    assert_int_equal(count(&s, "SELECT max(version) FROM schema_version"), cloud_store_schema_version());
    cloud_store_close(&s);
}

/* Each login trims its user's AccessTokens (WHERE user_id=?): by an index since migration 8,
 * not by a scan of every user's tokens. */
static void test_login_trim_indexed(void **state)
{
    (void)state;
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    cloud_rows_t *r = cloud_store_select(&s, "EXPLAIN QUERY PLAN SELECT token FROM access_tokens WHERE user_id=?1 "
                                             "ORDER BY issued DESC", "t", "u1");
    assert_non_null(r);
    int indexed = 0;
    while (cloud_rows_next(r) == 1)
        indexed |= strstr(cloud_rows_text(r, 3), "USING INDEX access_tokens_by_user") != NULL;
    cloud_rows_free(r);
    assert_true(indexed);
    cloud_store_close(&s);
}

static void test_legacy_file_adopted(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    /* What the release before schema_version left: tokens already has user_id. */
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE products(product_id TEXT PRIMARY KEY, product_secret TEXT NOT NULL,"
                                  " created INTEGER NOT NULL);"
                                  "CREATE TABLE tokens(token TEXT PRIMARY KEY, created INTEGER NOT NULL,"
                                  " expire INTEGER NOT NULL, product_id TEXT, device_name TEXT, bound_at INTEGER);"
                                  "ALTER TABLE tokens ADD COLUMN user_id TEXT;"
                                  "INSERT INTO tokens(token, created, expire, user_id) VALUES('t0', 1, 2, 'u');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    assert_int_equal(count(&s, "SELECT max(version) FROM schema_version"), cloud_store_schema_version());
    cloud_token_t t;
    assert_int_equal(cloud_store_get_token(&s, "t0", &t), 0);
    assert_string_equal(t.user_id, "u");
    cloud_store_close(&s);
}

static void test_foreign_db_refused(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE devices(id INTEGER PRIMARY KEY, name TEXT);", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    cloud_store_t s;
    char err[300];
    /* It was opened (the migrations skip an existing table) and failed request by request. */
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "not the cloud's registry"));
}

static char logged[400];
static void log_to(const char *m)
{
    snprintf(logged, sizeof logged, "%s", m);
}

static void test_newer_schema_said(void **state)
{
    (void)state;
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    assert_int_equal(cloud_store_exec(&s, "INSERT INTO schema_version(version, applied) VALUES(99, 1)", 0, NULL), 1);
    cloud_store_close(&s);
    cloud_store_configure(&(cloud_store_cfg_t){ .log = log_to });
    logged[0] = 0;
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    assert_non_null(strstr(logged, "schema version 99 is newer than this build's"));
    cloud_store_close(&s);
    cloud_store_configure(&(cloud_store_cfg_t){ 0 });
}

static void test_bind_rules(void **state)
{
    (void)state;
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    assert_int_equal(cloud_store_add_token(&s, "tok1", "u1", 100, 700), 0);
    assert_int_equal(cloud_store_add_token(&s, "tok1", "u1", 100, 700), -1);   /* unique */
    assert_int_equal(cloud_store_bind_token(&s, "tok1", "P", "d1", 200), CLOUD_BIND_OK);
    assert_int_equal(cloud_store_bind_token(&s, "tok1", "P", "d1", 201), CLOUD_BIND_OK);   /* retry */
    assert_int_equal(cloud_store_bind_token(&s, "tok1", "P", "d2", 202), CLOUD_BIND_TAKEN);
    assert_int_equal(cloud_store_bind_token(&s, "nope", "P", "d2", 202), CLOUD_BIND_UNKNOWN);
    assert_int_equal(cloud_store_add_token(&s, "tok2", "u1", 100, 150), 0);
    assert_int_equal(cloud_store_bind_token(&s, "tok2", "P", "d2", 200), CLOUD_BIND_EXPIRED);
    assert_int_equal(count(&s, "SELECT count(*) FROM tokens WHERE bound_at IS NOT NULL"), 1);
    assert_int_equal(cloud_store_device_bound(&s, "P", "d1"), CLOUD_BIND_OK);
    assert_int_equal(cloud_store_device_bound(&s, "P", "d2"), CLOUD_BIND_UNKNOWN);

    assert_int_equal(cloud_store_bind_family(&s, "tok1", "P", "d1", "famA", "r1", 300), 0);
    assert_int_equal(cloud_store_bind_family(&s, "tok1", "P", "d1", "famA", "r2", 301), 0);   /* same family */
    assert_int_equal(cloud_store_bind_family(&s, "tok1", "P", "d1", "famB", "r1", 302), 1);   /* another */
    cloud_rows_t *r = cloud_store_select(&s, "SELECT family_id, room_id FROM bindings WHERE device_name=?", "t", "d1");
    assert_int_equal(cloud_rows_next(r), 1);
    assert_string_equal(cloud_rows_text(r, 0), "famA");
    assert_string_equal(cloud_rows_text(r, 1), "r2");
    cloud_rows_free(r);

    /* Inserts that met their row: "exists", never a second row. */
    assert_int_equal(cloud_store_add_product(&s, "P", "sec", 1), 0);
    assert_int_equal(cloud_store_add_product(&s, "P", "other", 1), 1);
    char psk[64];
    assert_int_equal(cloud_store_add_device(&s, "P", "d1", "psk1", 1, psk, sizeof psk), 0);
    assert_int_equal(cloud_store_add_device(&s, "P", "d1", "psk2", 1, psk, sizeof psk), 1);
    assert_string_equal(psk, "psk1");
    assert_int_equal(cloud_store_dynreg_seen(&s, "P", "d1", 7, 1000), 0);
    assert_int_equal(cloud_store_dynreg_seen(&s, "P", "d1", 7, 1000), 1);
    char pid[80];
    assert_int_equal(cloud_store_find_device(&s, "Pd1", pid, sizeof pid, psk, sizeof psk), 1);
    assert_string_equal(pid, "P");
    assert_int_equal(cloud_store_client_id_taken(&s, "Pd", "1"), 1);
    /* A unique key refusing a write is told apart from other errors. */
    assert_int_equal(cloud_store_run(&s, "INSERT INTO products(product_id, product_secret, created) VALUES(?,?,?)",
                                     "tti", "P", "x", (int64_t)1), CLOUD_STORE_CONFLICT);
    cloud_store_close(&s);
}

/* Re-provisioning a device binds a new token each time. Once expired and past the grace, a
 * bound token that a later bind of the same device superseded is collected (it used to stay
 * forever: a row per provisioning for the life of the cloud); the device's newest bound token
 * and a token its family binding names stay, so the device still reads as bound. */
static void test_gc_superseded_tokens(void **state)
{
    (void)state;
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    char tok[16];
    for (int i = 0; i < 50; i++) {   /* d1 provisioned 50 times, a token each, all long expired */
        snprintf(tok, sizeof tok, "a%02d", i);
        assert_int_equal(cloud_store_add_token(&s, tok, "u1", 100 + i, 200 + i), 0);
        assert_int_equal(cloud_store_bind_token(&s, tok, "P", "d1", 150 + i), CLOUD_BIND_OK);
    }
    assert_int_equal(cloud_store_bind_family(&s, "a10", "P", "d1", "famA", "r1", 170), 0);
    assert_int_equal(cloud_store_add_token(&s, "b0", "u1", 100, 200), 0);   /* d2: once */
    assert_int_equal(cloud_store_bind_token(&s, "b0", "P", "d2", 150), CLOUD_BIND_OK);
    assert_int_equal(cloud_store_add_token(&s, "c0", "u1", 100, 200), 0);   /* never bound */
    assert_int_equal(cloud_store_add_token(&s, "c1", "u1", 900, 2000), 0);  /* still alive */
    /* Within the grace nothing bound goes. */
    assert_int_equal(cloud_store_gc(&s, 300, 600, 300), 0);
    assert_int_equal(count(&s, "SELECT count(*) FROM tokens"), 53);
    assert_int_equal(cloud_store_gc(&s, 1000, 600, 300), 1 + 48);   /* c0, and d1's superseded */
    assert_int_equal(count(&s, "SELECT count(*) FROM tokens WHERE device_name='d1'"), 2);
    assert_int_equal(count(&s, "SELECT count(*) FROM tokens WHERE token IN ('a49','a10','b0','c1')"), 4);
    assert_int_equal(cloud_store_device_bound(&s, "P", "d1"), CLOUD_BIND_OK);
    assert_int_equal(cloud_store_device_bound(&s, "P", "d2"), CLOUD_BIND_OK);
    assert_int_equal(cloud_store_gc(&s, 1001, 600, 300), 0);   /* nothing more */
    cloud_store_close(&s);
}


static void test_redact(void **state)
{
    (void)state;
    char out[200];
    cloud_store_redact("postgresql://user:s3cret@db:5432/x", out, sizeof out);
    assert_string_equal(out, "postgresql://user:***@db:5432/x");
    cloud_store_redact("postgres://user@db/x?password=s3cret&sslmode=require", out, sizeof out);
    assert_null(strstr(out, "s3cret"));
    cloud_store_redact("postgresql://db/x?user=a:b@c", out, sizeof out);
    assert_string_equal(out, "postgresql://db/x");
    cloud_store_redact("postgresql://user:pa@ss@db/x", out, sizeof out);
    assert_string_equal(out, "postgresql://user:***@db/x");
    cloud_store_redact("/var/lib/cloud.db", out, sizeof out);
    assert_string_equal(out, "/var/lib/cloud.db");
    assert_true(cloud_store_is_server("postgresql://db/x"));
    assert_false(cloud_store_is_server("sqlite:/x.db"));
    assert_string_equal(cloud_store_file("sqlite:/x.db"), "/x.db");
    assert_null(cloud_store_file("postgres://db/x"));
}

static void test_pg_without_libpq(void **state)
{
    (void)state;
    cloud_store_t s;
    char err[300] = "";
    assert_int_equal(cloud_store_open(&s, "postgresql://u:pw@127.0.0.1:1/x", err, sizeof err), -1);
    assert_non_null(strstr(err, "without PostgreSQL support"));
    assert_int_equal(cloud_store_open(&s, "sqlite:", err, sizeof err), -1);   /* no file name */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_file_adopted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_db_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_said, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_superseded_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_tokens_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_trim_indexed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocations_shared, setup, teardown),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_pg_without_libpq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
