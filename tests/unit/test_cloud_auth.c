/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg_auth's decisions without a broker: the plugin source is compiled in here with the
 * few mosquitto broker functions it calls stubbed, over a real SQLite registry in a temp
 * file. Covers what is awkward to reach through mosquitto_pub: ambiguous client ids, every
 * malformed username/password shape, expiry boundaries, and the topic grammar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <sqlite3.h>

#include "../../apps/cloud/plugin/smartcfg_auth.c"
#include "../../apps/cloud/cloud_acl.c"
/* The registry interface the plugin reads through (SQLite here; no libpq). */
#include "../../apps/cloud/cloud_store.c"
#include "../../apps/cloud/cloud_store_sqlite.c"
#include "../../apps/cloud/cloud_store_pg.c"

/* ---- broker stubs ---------------------------------------------------------------------- */
struct mosquitto {
    const char *id, *user;
};
static MOSQ_FUNC_generic_callback cb_auth, cb_acl;
static char last_log[512];

int mosquitto_callback_register(mosquitto_plugin_id_t *identifier, int event, MOSQ_FUNC_generic_callback cb_func,
                                const void *event_data, void *userdata)
{
    (void)identifier, (void)event_data, (void)userdata;
    if (event == MOSQ_EVT_BASIC_AUTH)
        cb_auth = cb_func;
    else if (event == MOSQ_EVT_ACL_CHECK)
        cb_acl = cb_func;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_callback_unregister(mosquitto_plugin_id_t *identifier, int event, MOSQ_FUNC_generic_callback cb_func,
                                  const void *event_data)
{
    (void)identifier, (void)event, (void)cb_func, (void)event_data;
    return MOSQ_ERR_SUCCESS;
}

void mosquitto_log_printf(int level, const char *fmt, ...)
{
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_log, sizeof last_log, fmt, ap);
    va_end(ap);
}

const char *mosquitto_client_id(const struct mosquitto *client)
{
    return client->id;
}

const char *mosquitto_client_username(const struct mosquitto *client)
{
    return client->user;
}

/* ---- fixture ------------------------------------------------------------------------------ */
static char dbpath[64];
#define PSK_A "MDEyMzQ1Njc4OWFiY2RlZg=="
#define SERVICE_PW "0123456789abcdef0123"

static int setup(void **state)
{
    (void)state;
    strcpy(dbpath, "/tmp/test-cloud-auth-XXXXXX");
    int fd = mkstemp(dbpath);
    if (fd < 0)
        return -1;
    close(fd);
    sqlite3 *db;
    if (sqlite3_open(dbpath, &db) != SQLITE_OK)
        return -1;
    /* The tables of apps/cloud/cloud_store.c that the plugin reads. "AB"+"C" and "A"+"BC" collide on purpose. */
    const char *sql =
        "CREATE TABLE products(product_id TEXT PRIMARY KEY, product_secret TEXT NOT NULL, created INTEGER NOT NULL);"
        "CREATE TABLE devices(product_id TEXT NOT NULL, device_name TEXT NOT NULL, psk TEXT NOT NULL,"
        " created INTEGER NOT NULL, PRIMARY KEY(product_id, device_name));"
        "INSERT INTO products VALUES('PROD000001','s',0),('AB','s',0),('A','s',0),('XY','s',0);"
        "INSERT INTO devices VALUES('PROD000001','dev1','" PSK_A "',0),('AB','C','" PSK_A "',0),"
        "('A','BC','" PSK_A "',0),('XY','Z','" PSK_A "',0),('PROD000001','badpsk','!!!',0);"
        /* gateway XY/Z speaks for PROD000001/dev1 (online); A/BC is bound to AB/C, offline */
        "CREATE TABLE gw_subdevs(sub_pid TEXT NOT NULL, sub_dn TEXT NOT NULL, gw_pid TEXT NOT NULL,"
        " gw_dn TEXT NOT NULL, online INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL, PRIMARY KEY(sub_pid, sub_dn));"
        "INSERT INTO gw_subdevs VALUES('PROD000001','dev1','XY','Z',1,0),('A','BC','AB','C',0,0);";
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    if (rc != SQLITE_OK)
        return -1;
    struct mosquitto_opt opts[] = { { "registry", dbpath }, { "service_user", "svc" },
                                    { "service_password", SERVICE_PW } };
    return mosquitto_plugin_init(NULL, NULL, opts, 3) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mosquitto_plugin_cleanup(NULL, NULL, 0);
    unlink(dbpath);
    return 0;
}

static void sign(const char *user, bool sha256, const char *psk, char *out)
{
    unsigned char key[64], mac[32];
    size_t kl;
    assert_int_equal(mbedtls_base64_decode(key, sizeof key, &kl, (const unsigned char *)psk, strlen(psk)), 0);
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(sha256 ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_SHA1);
    mbedtls_md_hmac(md, key, kl, (const unsigned char *)user, strlen(user), mac);
    size_t n = mbedtls_md_get_size(md);
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", mac[i]);
    strcat(out, sha256 ? ";hmacsha256" : ";hmacsha1");
}

static int auth(const char *id, const char *user, const char *pass)
{
    struct mosquitto c = { id, user };
    struct mosquitto_evt_basic_auth ev = { .client = &c, .username = (char *)user, .password = (char *)pass };
    return cb_auth(MOSQ_EVT_BASIC_AUTH, &ev, NULL);
}

static int auth_signed(const char *id, const char *user, bool sha256)
{
    char pass[128];
    sign(user, sha256, PSK_A, pass);
    return auth(id, user, pass);
}

static int acl(const char *id, const char *user, const char *topic, int access)
{
    struct mosquitto c = { id, user };
    struct mosquitto_evt_acl_check ev = { .client = &c, .topic = topic, .access = access };
    return cb_acl(MOSQ_EVT_ACL_CHECK, &ev, NULL);
}

/* ---- tests --------------------------------------------------------------------------------- */
static void test_signed_username_admitted(void **state)
{
    (void)state;
    assert_int_equal(auth_signed("PROD000001dev1", "PROD000001dev1;21010406;ab12C;2147483647", true), MOSQ_ERR_SUCCESS);
    assert_int_equal(auth_signed("PROD000001dev1", "PROD000001dev1;1;x;2147483647", false), MOSQ_ERR_SUCCESS);
    assert_non_null(strstr(last_log, "connect_ok client=PROD000001dev1 product=PROD000001 alg=hmacsha1"));
    /* Upper-case hex is the same signature. */
    char pass[128];
    sign("PROD000001dev1;1;x;2147483647", true, PSK_A, pass);
    for (char *p = pass; *p != ';'; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_int_equal(auth("PROD000001dev1", "PROD000001dev1;1;x;2147483647", pass), MOSQ_ERR_SUCCESS);
}

static void test_malformed_credentials_refused(void **state)
{
    (void)state;
    const char *id = "PROD000001dev1";
    static const char *bad_users[] = {
        "PROD000001dev1;21010406;ab12C",                 /* 3 fields */
        "PROD000001dev1;21010406;ab12C;2147483647;x",    /* 5 fields */
        "PROD000001dev2;21010406;ab12C;2147483647",      /* not the client id */
        "PROD000001dev1;2101a406;ab12C;2147483647",      /* sdkappid not a number */
        "PROD000001dev1;21010406;;2147483647",           /* empty connid */
        "PROD000001dev1;21010406;ab12C;21474836x7",      /* expiry not a number */
        "PROD000001dev1;21010406;ab12C;",                /* empty expiry */
        "PROD000001dev1;21010406;ab12C;99999999999999999999", /* overlong number */
    };
    for (size_t i = 0; i < sizeof bad_users / sizeof *bad_users; i++) {
        assert_int_equal(auth_signed(id, bad_users[i], true), MOSQ_ERR_AUTH);
        assert_non_null(strstr(last_log, "reason=bad_username"));
    }
    char longuser[400];
    memset(longuser, 'a', sizeof longuser - 1);
    longuser[sizeof longuser - 1] = 0;
    assert_int_equal(auth(id, longuser, "x;hmacsha256"), MOSQ_ERR_AUTH);
    const char *user = "PROD000001dev1;21010406;ab12C;2147483647";
    assert_int_equal(auth(id, user, "deadbeef"), MOSQ_ERR_AUTH);
    assert_non_null(strstr(last_log, "reason=bad_password_format"));
    assert_int_equal(auth(id, user, "deadbeef;hmacmd5"), MOSQ_ERR_AUTH);
    assert_non_null(strstr(last_log, "reason=unsupported_algorithm"));
    assert_int_equal(auth(id, user, "deadbeef;hmacsha256"), MOSQ_ERR_AUTH);
    assert_non_null(strstr(last_log, "reason=bad_signature"));
    assert_null(strstr(last_log, "deadbeef"));   /* the password never reaches the log */
    assert_int_equal(auth(id, NULL, NULL), MOSQ_ERR_AUTH);
    assert_int_equal(auth("", user, "x"), MOSQ_ERR_AUTH);
    /* A signature made with the SHA-1 key but labelled SHA-256. */
    char pass[128];
    sign(user, false, PSK_A, pass);
    strcpy(strchr(pass, ';'), ";hmacsha256");
    assert_int_equal(auth(id, user, pass), MOSQ_ERR_AUTH);
}

static void test_expiry(void **state)
{
    (void)state;
    char user[96];
    long long now = (long long)time(NULL);
    snprintf(user, sizeof user, "PROD000001dev1;1;x;%lld", now - 1);
    assert_int_equal(auth_signed("PROD000001dev1", user, true), MOSQ_ERR_AUTH);
    assert_non_null(strstr(last_log, "reason=expired"));
    snprintf(user, sizeof user, "PROD000001dev1;1;x;%lld", now + 60);
    assert_int_equal(auth_signed("PROD000001dev1", user, true), MOSQ_ERR_SUCCESS);
}

static void test_registry_lookups(void **state)
{
    (void)state;
    assert_int_equal(auth_signed("PROD000001ghost", "PROD000001ghost;1;x;2147483647", true), MOSQ_ERR_AUTH);
    assert_non_null(strstr(last_log, "reason=unknown_device"));
    assert_int_equal(auth_signed("ABC", "ABC;1;x;2147483647", true), MOSQ_ERR_AUTH);
    assert_non_null(strstr(last_log, "reason=ambiguous_client_id"));
    assert_int_equal(auth_signed("XYZ", "XYZ;1;x;2147483647", true), MOSQ_ERR_SUCCESS);
    assert_int_equal(auth_signed("PROD000001badpsk", "PROD000001badpsk;1;x;2147483647", true), MOSQ_ERR_AUTH);
    assert_non_null(strstr(last_log, "reason=registry_bad_psk"));
    assert_int_equal(auth_signed("PROD000001", "PROD000001;1;x;2147483647", true), MOSQ_ERR_AUTH);   /* empty device name */
}

static void test_service_identity(void **state)
{
    (void)state;
    assert_int_equal(auth("svc-1", "svc", SERVICE_PW), MOSQ_ERR_SUCCESS);
    assert_int_equal(auth("svc-1", "svc", SERVICE_PW "x"), MOSQ_ERR_AUTH);
    assert_int_equal(auth("svc-1", "svc", ""), MOSQ_ERR_AUTH);
    assert_null(strstr(last_log, SERVICE_PW));
    assert_int_equal(acl("svc-1", "svc", "$thing/up/service/+/+", MOSQ_ACL_SUBSCRIBE), MOSQ_ERR_SUCCESS);
    assert_int_equal(acl("svc-1", "svc", "$thing/down/service/XY/Z", MOSQ_ACL_WRITE), MOSQ_ERR_SUCCESS);
    assert_int_equal(acl("svc-1", "svc", "other/topic", MOSQ_ACL_WRITE), MOSQ_ERR_ACL_DENIED);
    assert_int_equal(acl("svc-1", "svc", "$ota/report/+/+", MOSQ_ACL_SUBSCRIBE), MOSQ_ERR_SUCCESS);
    assert_int_equal(acl("svc-1", "svc", "$ota/update/XY/Z", MOSQ_ACL_WRITE), MOSQ_ERR_SUCCESS);
    assert_int_equal(acl("svc-1", "svc", "$sys/operation/result/XY/Z", MOSQ_ACL_WRITE), MOSQ_ERR_SUCCESS);
    assert_int_equal(acl("svc-1", "svc", "$gateway/operation/+/+", MOSQ_ACL_SUBSCRIBE), MOSQ_ERR_SUCCESS);
    assert_int_equal(acl("svc-1", "svc", "+/+/event", MOSQ_ACL_SUBSCRIBE), MOSQ_ERR_SUCCESS);
    assert_int_equal(acl("svc-1", "svc", "XY/Z/event", MOSQ_ACL_WRITE), MOSQ_ERR_ACL_DENIED);
    assert_int_equal(acl("svc-1", "svc", "XY/Z/data", MOSQ_ACL_SUBSCRIBE), MOSQ_ERR_ACL_DENIED);
}

static void test_topic_rights(void **state)
{
    (void)state;
    const char *id = "XYZ", *u = "XYZ;1;x;2147483647";
    struct { const char *topic; int access, want; } cases[] = {
        { "$thing/up/service/XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_SUCCESS },
        { "$thing/up/property/XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_SUCCESS },
        { "$thing/down/service/XY/Z", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_SUCCESS },
        { "$thing/down/+/XY/Z", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_SUCCESS },
        { "$thing/down/service/XY/Z", MOSQ_ACL_READ, MOSQ_ERR_SUCCESS },
        { "$thing/anything", MOSQ_ACL_UNSUBSCRIBE, MOSQ_ERR_SUCCESS },
        { "$thing/down/service/XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },   /* wrong direction */
        { "$thing/up/service/XY/Z", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$thing/up/+/XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$thing/down/#", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$thing/down/#/XY/Z", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$thing/down/service/+/Z", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$thing/down/service/XY/+", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$thing/up/service/X/YZ", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },     /* another split */
        { "$thing/up/service/XY/Z/extra", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$thing/up/service/XY", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$thing/up//XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$thing/up/service/PROD000001/dev1", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "thing/up/service/XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        /* OTA (docs/ota.md): report up, update down, own pair only */
        { "$ota/report/XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_SUCCESS },
        { "$ota/update/XY/Z", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_SUCCESS },
        { "$ota/update/XY/Z", MOSQ_ACL_READ, MOSQ_ERR_SUCCESS },
        { "$ota/update/XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$ota/report/XY/Z", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$ota/report/X/YZ", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$ota/report/PROD000001/dev1", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$ota/update/+/+", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$ota/update/XY/+", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$ota/update/#", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$ota/update/XY/Z/x", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$ota/report/XY", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$ota/report//XYZ", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        /* system time, shadow and gateway operations: request up, result down, own pair */
        { "$sys/operation/XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_SUCCESS },
        { "$sys/operation/result/XY/Z", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_SUCCESS },
        { "$sys/operation/result/XY/Z", MOSQ_ACL_READ, MOSQ_ERR_SUCCESS },
        { "$sys/operation/result/XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$sys/operation/XY/Z", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$sys/operation/result/+/+", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$sys/operation/PROD000001/dev1", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },   /* not for a sub-device */
        { "$shadow/operation/result/XY/Z", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_SUCCESS },
        { "$gateway/operation/XY/Z", MOSQ_ACL_WRITE, MOSQ_ERR_SUCCESS },
        { "$gateway/operation/result/XY/Z", MOSQ_ACL_READ, MOSQ_ERR_SUCCESS },
        { "$gateway/operation/X/YZ", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$gateway/operation/PROD000001/dev1", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        /* IoT Hub custom topics: data both ways, event up, control down */
        { "XY/Z/data", MOSQ_ACL_WRITE, MOSQ_ERR_SUCCESS },
        { "XY/Z/data", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_SUCCESS },
        { "XY/Z/event", MOSQ_ACL_WRITE, MOSQ_ERR_SUCCESS },
        { "XY/Z/event", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "XY/Z/control", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_SUCCESS },
        { "XY/Z/control", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "XY/Z/other", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "XY/+/data", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "XY/Z/data/x", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "X/YZ/data", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        /* a gateway for its bound, online sub-device: custom and $thing topics */
        { "PROD000001/dev1/data", MOSQ_ACL_WRITE, MOSQ_ERR_SUCCESS },
        { "PROD000001/dev1/data", MOSQ_ACL_READ, MOSQ_ERR_SUCCESS },
        { "PROD000001/dev1/control", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },
        { "$thing/up/property/PROD000001/dev1", MOSQ_ACL_WRITE, MOSQ_ERR_SUCCESS },
        { "$thing/down/property/PROD000001/dev1", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_SUCCESS },
        { "$thing/down/+/PROD000001/dev1", MOSQ_ACL_SUBSCRIBE, MOSQ_ERR_ACL_DENIED },
        { "$thing/up/service/PROD000001/dev1", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },  /* binding: its own */
        { "A/BC/data", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },                         /* another gateway's */
        { "PROD000001/badpsk/data", MOSQ_ACL_WRITE, MOSQ_ERR_ACL_DENIED },            /* not bound */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int got = acl(id, u, cases[i].topic, cases[i].access);
        if (got != cases[i].want)
            fail_msg("topic '%s' access %d: got %d, want %d", cases[i].topic, cases[i].access, got, cases[i].want);
    }
    /* "AB"+"C" must not reach A/BC's topics even though the concatenations match. */
    assert_int_equal(acl("ABC", "ABC;1;x;1", "$thing/up/service/AB/C", MOSQ_ACL_WRITE), MOSQ_ERR_SUCCESS);
    char longtopic[300];
    memset(longtopic, 'a', sizeof longtopic - 1);
    longtopic[sizeof longtopic - 1] = 0;
    assert_int_equal(acl(id, u, longtopic, MOSQ_ACL_WRITE), MOSQ_ERR_ACL_DENIED);
}

static void test_log_masks_hostile_ids(void **state)
{
    (void)state;
    assert_int_equal(auth("a b=c\nsmartcfg_auth: connect_ok", "x", "y"), MOSQ_ERR_AUTH);
    assert_null(strchr(last_log, '\n'));
    assert_non_null(strstr(last_log, "client=a?b?c?smartcfg_auth:?connect_ok reason="));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_username_admitted),
        cmocka_unit_test(test_malformed_credentials_refused),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_registry_lookups),
        cmocka_unit_test(test_service_identity),
        cmocka_unit_test(test_topic_rights),
        cmocka_unit_test(test_log_masks_hostile_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
