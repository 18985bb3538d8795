/* SPDX-License-Identifier: Apache-2.0 */
/* The device side (the core's bind machine over the POSIX MQTT and HTTP tables) against the local
 * cloud side (`smartcfg cloud`: mosquitto + smartcfg_auth + binding service + HTTP API), two
 * implementations of docs/protocol/tencent.md#mqtt, #dynamic-registration written separately:
 * signed MQTT credentials (both HMACs), app_bind_token and its reply codes, dynamic registration.
 * Starts ./smartcfg (or $SC_BUILD/smartcfg) on free loopback ports with a temporary database. Skips
 * without mosquitto, and in sanitizer builds (the instrumented plugin cannot be loaded into the
 * uninstrumented broker). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "sc_posix.h"
#include "sc_posix_http.h"
#include "sc_posix_mqtt.h"
#include "smartcfg/binder.h"
#include "smartcfg/cloud.h"
#include "smartcfg/errors.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#define PID "LOCALPROD1"

static pid_t cloud_pid = -1;
static uint16_t http_port, mqtt_port;
static char tmpdir[64];
/* The admin key we give the cloud (--admin-key-file) and the test user's AccessToken. */
#define ADMIN_KEY "local-test-admin-key-0123456789abcdef"
static char access_token[80];
/* Second round: the same tests over TLS (HTTPS API, MQTT over TLS), the device verifying the
 * server against the CA the cloud made (ports/posix/mqtt_mosquitto.c, http_curl.c). */
static bool use_tls;
static uint16_t mqtts_port;
static char ca_file[128];

/* ---- HTTP to the cloud (libcurl) ------------------------------------------------------- */
typedef struct { char *p; size_t n; } buf_t;
static size_t wr(char *d, size_t s, size_t n, void *u)
{
    buf_t *b = u;
    char *np = realloc(b->p, b->n + s * n + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->n, d, s * n);
    b->n += s * n;
    b->p[b->n] = 0;
    return s * n;
}

static cJSON *post(const char *path, const char *body)
{
    char url[160];
    snprintf(url, sizeof url, "%s://127.0.0.1:%u%s", use_tls ? "https" : "http", http_port, path);
    CURL *c = curl_easy_init();
    buf_t b = { 0 };
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, wr);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    if (use_tls)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    struct curl_slist *hdr = curl_slist_append(NULL, "Authorization: Bearer " ADMIN_KEY);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdr);
    cJSON *j = rc == CURLE_OK && b.p ? cJSON_Parse(b.p) : NULL;
    free(b.p);
    return j;
}

static void add_device(const char *dn, char psk[48])
{
    char path[96], body[96];
    snprintf(path, sizeof path, "/v1/products/%s/devices", PID);
    snprintf(body, sizeof body, "{\"device_name\":\"%s\"}", dn);
    cJSON *j = post(path, body);
    const cJSON *s = cJSON_GetObjectItem(j, "device_secret");
    assert_true(cJSON_IsString(s));
    snprintf(psk, 48, "%s", s->valuestring);
    cJSON_Delete(j);
}

static void new_token(char tok[33])
{
    char body[160];
    snprintf(body, sizeof body, "{\"Action\":\"AppCreateDeviceBindToken\",\"AccessToken\":\"%s\"}", access_token);
    cJSON *j = post("/tokenapi?cmd=AppCreateDeviceBindToken", body);
    const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "Token");
    assert_true(cJSON_IsString(t));
    snprintf(tok, 33, "%s", t->valuestring);
    cJSON_Delete(j);
}

static int token_state(const char *tok, char *dn, size_t dnlen)
{
    char body[200];
    snprintf(body, sizeof body, "{\"Action\":\"AppGetDeviceBindTokenState\",\"Token\":\"%s\",\"AccessToken\":\"%s\"}",
             tok, access_token);
    cJSON *j = post("/tokenapi?cmd=AppGetDeviceBindTokenState", body);
    const cJSON *d = cJSON_GetObjectItem(j, "data");
    const cJSON *st = cJSON_GetObjectItem(d, "State"), *n = cJSON_GetObjectItem(d, "DeviceName");
    int state = cJSON_IsNumber(st) ? st->valueint : -1;
    if (dn)
        snprintf(dn, dnlen, "%s", cJSON_IsString(n) ? n->valuestring : "");
    cJSON_Delete(j);
    return state;
}

/* ---- the cloud process ------------------------------------------------------------------- */
static char product_secret[80];

static int start_cloud(void **state)
{
    (void)state;
    char smartcfg[PATH_MAX];
    const char *b = getenv("SC_BUILD");
    snprintf(smartcfg, sizeof smartcfg, "%s/smartcfg", b ? b : ".");
    if (access(smartcfg, X_OK) != 0)
        return -1;
    strcpy(tmpdir, "/tmp/test-cloud-local-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    http_port = tu_free_port();
    mqtt_port = tu_free_port();
    mqtts_port = tu_free_port();
    snprintf(ca_file, sizeof ca_file, "%s/tls/ca.crt", tmpdir);
    char db[128], hp[32], mp[32], logf[128], keyf[128];
    snprintf(db, sizeof db, "%s/cloud.db", tmpdir);
    snprintf(keyf, sizeof keyf, "%s/admin.key", tmpdir);
    FILE *kf = fopen(keyf, "w");
    if (!kf || fputs(ADMIN_KEY "\n", kf) < 0 || fclose(kf) != 0)
        return -1;
    snprintf(logf, sizeof logf, "%s/cloud.log", tmpdir);
    snprintf(hp, sizeof hp, "127.0.0.1:%u", http_port);
    snprintf(mp, sizeof mp, "127.0.0.1:%u", mqtt_port);
    cloud_pid = fork();
    if (cloud_pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen(logf, "w", stderr))
            _exit(127);
        char sp[32];
        snprintf(sp, sizeof sp, "127.0.0.1:%u", mqtts_port);
        if (use_tls)
            execl(smartcfg, smartcfg, "cloud", "--http", hp, "--mqtt", mp, "--db", db, "--json", "--admin-key-file",
                  keyf, "--tls", "--mqtts", sp, (char *)NULL);
        else
            execl(smartcfg, smartcfg, "cloud", "--http", hp, "--mqtt", mp, "--db", db, "--json", "--admin-key-file",
                  keyf, (char *)NULL);
        _exit(127);
    }
    cJSON *j = NULL;
    char body[64];
    snprintf(body, sizeof body, "{\"product_id\":\"%s\"}", PID);
    for (int i = 0; i < 300 && !j; i++) {   /* TLS: the first start also makes the certificates */
        tu_sleep_ms(100);
        j = post("/v1/products", body);
    }
    const cJSON *s = cJSON_GetObjectItem(j, "product_secret");
    if (!cJSON_IsString(s))
        return -1;
    snprintf(product_secret, sizeof product_secret, "%s", s->valuestring);
    cJSON_Delete(j);
    /* Accounts: a user made with the admin API logs in through the token API. */
    cJSON_Delete(post("/v1/users", "{\"user_name\":\"local\",\"password\":\"local-password\"}"));
    j = post("/tokenapi?cmd=AppGetToken", "{\"Action\":\"AppGetToken\",\"UserName\":\"local\",\"Password\":\"local-password\"}");
    s = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "Token");
    if (!cJSON_IsString(s))
        return -1;
    snprintf(access_token, sizeof access_token, "%s", s->valuestring);
    cJSON_Delete(j);
    tu_sleep_ms(300);   /* the binding service subscribes right after the HTTP API is up */
    return 0;
}

static int stop_cloud(void **state)
{
    (void)state;
    if (cloud_pid > 0) {
        kill(cloud_pid, SIGTERM);
        int st;
        waitpid(cloud_pid, &st, 0);
    }
    return tu_rm_rf(tmpdir);
}

/* ---- the device side ------------------------------------------------------------------- */
static tu_store_t store;

static sc_hal_t hal;
static sc_binder_t B;
static const char *ca_file_override;   /* TLS: verify against another CA than the cloud's */

/* Runs the core's bind machine to its end; returns the status; e and s get the error ids (errors.h). */
static sc_binder_status_t bind_device(const char *dn, const char *psk, const char *psecret, bool sha1,
                                    const char *token, uint16_t *e, int32_t *s)
{
    memset(&hal, 0, sizeof hal);
    sc_posix_sys_init(&hal.sys);
    assert_int_equal(sc_posix_mqtt_init(&hal.mqtt), SC_OK);
    sc_posix_http_opts_t hopt = { .ca_file = use_tls ? ca_file : NULL };
    assert_int_equal(sc_posix_http_init(&hal.http, &hopt), SC_OK);
    hal.storage.ctx = &store;
    hal.storage.get = tu_store_get;
    hal.storage.put = tu_store_put;
    store.has = false;
    sc_identity_t id;
    sc_cloud_config_t cfg;
    memset(&id, 0, sizeof id);
    memset(&cfg, 0, sizeof cfg);
    strcpy(id.product_id, PID);
    snprintf(id.device_name, sizeof id.device_name, "%s", dn);
    snprintf(id.device_secret, sizeof id.device_secret, "%s", psk ? psk : "");
    snprintf(id.product_secret, sizeof id.product_secret, "%s", psecret ? psecret : "");
    strcpy(cfg.host, "127.0.0.1");
    cfg.port = use_tls ? mqtts_port : mqtt_port;
    cfg.tls = use_tls;
    if (use_tls)
        snprintf(cfg.ca_file, sizeof cfg.ca_file, "%s", ca_file_override ? ca_file_override : ca_file);
    cfg.hmac_sha1 = sha1;
    snprintf(cfg.register_url, sizeof cfg.register_url, "%s://127.0.0.1:%u/register/dev", use_tls ? "https" : "http",
             http_port);
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, token, sc_posix_now_ms()), SC_OK);
    uint32_t t0 = sc_posix_now_ms();
    sc_binder_status_t st;
    *e = 0;
    *s = 0;
    while ((st = sc_binder_step(&B, sc_posix_now_ms(), e, s)) == SC_BINDER_PENDING) {
        if (sc_posix_now_ms() - t0 > 60000)
            fail_msg("binder hangs");
        tu_sleep_ms(5);
    }
    if (st != SC_BINDER_DONE)
        print_message("%s: %s (%u, %d)\n", dn, sc_binder_reason(&B), *e, *s);
    sc_binder_abort(&B);
    sc_posix_mqtt_cleanup(&hal.mqtt);
    sc_posix_http_cleanup(&hal.http);
    return st;
}

static void test_bind_both_hmacs(void **state)
{
    (void)state;
    char psk[48], tok[33], dn[64];
    uint16_t e;
    int32_t s;
    add_device("dev1", psk);
    new_token(tok);
    assert_int_equal(bind_device("dev1", psk, NULL, false, tok, &e, &s), SC_BINDER_DONE);
    assert_int_equal(token_state(tok, dn, sizeof dn), 2);
    assert_string_equal(dn, "dev1");
    new_token(tok);
    assert_int_equal(bind_device("dev1", psk, NULL, true, tok, &e, &s), SC_BINDER_DONE);
    assert_int_equal(token_state(tok, NULL, 0), 2);
}

static void test_reply_codes_reach_the_device(void **state)
{
    (void)state;
    char psk1[48], psk2[48], tok[33];
    uint16_t e;
    int32_t s;
    add_device("dev2", psk1);
    add_device("dev3", psk2);
    new_token(tok);
    assert_int_equal(bind_device("dev2", psk1, NULL, false, tok, &e, &s), SC_BINDER_DONE);
    assert_int_equal(bind_device("dev3", psk2, NULL, false, tok, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 24);   /* MQTT Token reply error, sub = the cloud's code */
    assert_int_equal(s, 409);
    assert_int_equal(bind_device("dev3", psk2, NULL, false, "00000000000000000000000000000000", &e, &s),
                     SC_BINDER_FAILED);
    assert_int_equal(e, 24);
    assert_int_equal(s, 404);
}

static void test_wrong_psk_refused(void **state)
{
    (void)state;
    char psk[48], tok[33];
    uint16_t e;
    int32_t s;
    add_device("dev4", psk);
    new_token(tok);
    assert_int_equal(bind_device("dev4", "d3JvbmdrZXl3cm9uZ2tleQ==", NULL, false, tok, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 1);   /* MQTT connect error */
    assert_int_equal(token_state(tok, NULL, 0), 1);
}

static void test_dynreg_then_bind(void **state)
{
    (void)state;
    char tok[33], dn[64];
    uint16_t e;
    int32_t s;
    new_token(tok);
    assert_int_equal(bind_device("dyn1", NULL, product_secret, false, tok, &e, &s), SC_BINDER_DONE);
    assert_true(store.has && store.len >= 16);   /* the PSK from /register/dev was persisted */
    assert_int_equal(token_state(tok, dn, sizeof dn), 2);
    assert_string_equal(dn, "dyn1");
    new_token(tok);
    assert_int_equal(bind_device("dyn2", NULL, "not-the-product-secret", false, tok, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 27);     /* Device Info error, sub = the cloud's code */
    assert_int_equal(s, SC_DYNREG_SIGNATURE);   /* 1010, signature check failed (docs/cloud.md) */
}

/* TLS: a server the device cannot verify (its CA is not the cloud's) is never talked to. */
static void test_tls_wrong_ca_refused(void **state)
{
    (void)state;
    char psk[48], tok[33];
    uint16_t e;
    int32_t s;
    add_device("dev5", psk);
    new_token(tok);
    ca_file_override = "/etc/ssl/certs/ca-certificates.crt";
    sc_binder_status_t st = bind_device("dev5", psk, NULL, false, tok, &e, &s);
    ca_file_override = NULL;
    assert_int_equal(st, SC_BINDER_FAILED);
    assert_int_equal(e, 1);   /* MQTT connect error */
    assert_int_equal(token_state(tok, NULL, 0), 1);
    assert_int_equal(bind_device("dev5", psk, NULL, false, tok, &e, &s), SC_BINDER_DONE);
}

static int start_cloud_tls(void **state)
{
    use_tls = true;
    return start_cloud(state);
}

int main(void)
{
#ifdef SANITIZED
    printf("skip: sanitizer build (the instrumented broker plugin cannot load into mosquitto)\n");
    return 0;
#endif
    if (access("/usr/sbin/mosquitto", X_OK) != 0 && system("command -v mosquitto >/dev/null 2>&1") != 0) {
        printf("skip: mosquitto not installed\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    sc_posix_log_level(SC_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_both_hmacs),
        cmocka_unit_test(test_reply_codes_reach_the_device),
        cmocka_unit_test(test_wrong_psk_refused),
        cmocka_unit_test(test_dynreg_then_bind),
    };
    int rc = cmocka_run_group_tests_name("plain", tests, start_cloud, stop_cloud);
    const struct CMUnitTest tls_tests[] = {
        cmocka_unit_test(test_bind_both_hmacs),
        cmocka_unit_test(test_dynreg_then_bind),
        cmocka_unit_test(test_tls_wrong_ca_refused),
    };
    return rc | cmocka_run_group_tests_name("tls", tls_tests, start_cloud_tls, stop_cloud);
}
