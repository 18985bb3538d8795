/* SPDX-License-Identifier: Apache-2.0 */
/* Cloud module: credential and dynreg signature vectors (computed independently with the
 * openssl CLI, commands in the comments), message builders/parsers, and the bind step
 * machine against a fake MQTT HAL with a fake clock.
 * Also a helper mode for tests/integration/cloud_sign.sh:
 *   test_cloud --sign <psk_b64> <username> sha256|sha1
 *   test_cloud --dynsig <product_secret> <product_id> <device_name> <nonce> <timestamp> */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smartcfg/binder.h"
#include "smartcfg/cloud.h"

#define PID "ABCDEFGHIJ"
#define DNAME "dev001"
#define PSK "MDEyMzQ1Njc4OWFiY2RlZg=="   /* base64("0123456789abcdef") */
#define PSECRET "productsecret0123456789"

static void make_id(sc_identity_t *id)
{
    memset(id, 0, sizeof *id);
    strcpy(id->product_id, PID);
    strcpy(id->device_name, DNAME);
    strcpy(id->device_secret, PSK);
}

/* ---- vectors ------------------------------------------------------------------------- */
static void test_credentials_sha256(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    const uint8_t rnd[5] = { 0, 0, 0, 0, 0 };
    sc_cloud_mqtt_creds_t c;
    assert_int_equal(sc_cloud_mqtt_credentials(&id, NULL, 1700000000u, rnd, &c), SC_OK);
    assert_string_equal(c.host, "ABCDEFGHIJ.iotcloud.tencentdevices.com");
    assert_int_equal(c.port, 1883);
    assert_false(c.tls);
    assert_string_equal(c.client_id, "ABCDEFGHIJdev001");
    assert_string_equal(c.username, "ABCDEFGHIJdev001;21010406;AAAAA;1700086400");
    /* echo -n 'ABCDEFGHIJdev001;21010406;AAAAA;1700086400' |
     *   openssl dgst -sha256 -mac HMAC -macopt hexkey:30313233343536373839616263646566 */
    assert_string_equal(c.password, "6dd07ccf3dfbb9ff16bc4f38beff148fe71b7f5ed12ab9cf3af094c7291ea5ec;hmacsha256");
}

/* The broker's check of the same vector (what the local cloud's auth plugin calls). */
static void test_password_check(void **state)
{
    (void)state;
    const char *user = "ABCDEFGHIJdev001;21010406;AAAAA;1700086400";
    const char *good = "6dd07ccf3dfbb9ff16bc4f38beff148fe71b7f5ed12ab9cf3af094c7291ea5ec;hmacsha256";
    bool sha1 = true;
    assert_int_equal(sc_cloud_mqtt_password_check(PSK, user, good, &sha1), SC_OK);
    assert_false(sha1);
    assert_int_equal(sc_cloud_mqtt_password_check(PSK, user, "4346ef43a0ba20576db2117a27fb38f74dce40b9;hmacsha1", &sha1),
                     SC_OK);
    assert_true(sha1);
    assert_int_equal(sc_cloud_mqtt_password_check(PSK, user, "4346EF43A0BA20576DB2117A27FB38F74DCE40B9;hmacsha1", NULL),
                     SC_OK);
    char bad[100];
    strcpy(bad, good);
    bad[63] = bad[63] == '0' ? '1' : '0';
    assert_int_equal(sc_cloud_mqtt_password_check(PSK, user, bad, NULL), SC_ERR_AUTH);
    assert_int_equal(sc_cloud_mqtt_password_check(PSK, "ABCDEFGHIJdev001;21010406;AAAAB;1700086400", good, NULL),
                     SC_ERR_AUTH);
    assert_int_equal(sc_cloud_mqtt_password_check(PSK, user, "6dd07ccf;hmacsha256", NULL), SC_ERR_AUTH);
    assert_int_equal(sc_cloud_mqtt_password_check(PSK, user, "deadbeef;hmacmd5", NULL), SC_ERR_UNSUPPORTED);
    assert_int_equal(sc_cloud_mqtt_password_check(PSK, user, "deadbeef", NULL), SC_ERR_FORMAT);
    assert_int_equal(sc_cloud_mqtt_password_check("not base64!", user, good, NULL), SC_ERR_FORMAT);
    /* RFC 2202 test case 2 for the HMAC itself */
    char hex[41];
    assert_int_equal(sc_cloud_hmac_hex(true, "Jefe", 4, "what do ya want for nothing?", 28, hex, sizeof hex), SC_OK);
    assert_string_equal(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    assert_int_equal(sc_cloud_hmac_hex(true, "Jefe", 4, "x", 1, hex, 40), SC_ERR_NOSPACE);
}

static void test_credentials_sha1_tls_override(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    sc_cloud_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.hmac_sha1 = true;
    cfg.tls = true;
    const uint8_t rnd[5] = { 0, 0, 0, 0, 0 };
    sc_cloud_mqtt_creds_t c;
    assert_int_equal(sc_cloud_mqtt_credentials(&id, &cfg, 1700000000u, rnd, &c), SC_OK);
    assert_int_equal(c.port, 8883);
    assert_true(c.tls);
    /* same message, openssl dgst -sha1 -mac HMAC -macopt hexkey:3031...66 */
    assert_string_equal(c.password, "4346ef43a0ba20576db2117a27fb38f74dce40b9;hmacsha1");
    strcpy(cfg.host, "127.0.0.1");
    cfg.port = 18830;
    const uint8_t rnd2[5] = { 25, 26, 51, 52, 61 + 62 };
    assert_int_equal(sc_cloud_mqtt_credentials(&id, &cfg, 0, rnd2, &c), SC_OK);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 18830);
    assert_string_equal(c.username, "ABCDEFGHIJdev001;21010406;Zaz09;2147483647");
    /* a clock not set yet (a board counting from 1970 until SNTP answers, an RTC's 2000): as
     * unknown; from SC_CLOUD_CLOCK_FLOOR (2023-01-01) on, a day from now */
    static const uint64_t unset[] = { 1, 3 * 86400u, 946684800u, SC_CLOUD_CLOCK_FLOOR - 1u };
    for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++) {
        assert_int_equal(sc_cloud_mqtt_credentials(&id, &cfg, unset[i], rnd2, &c), SC_OK);
        assert_string_equal(c.username, "ABCDEFGHIJdev001;21010406;Zaz09;2147483647");
    }
    assert_int_equal(sc_cloud_mqtt_credentials(&id, &cfg, SC_CLOUD_CLOCK_FLOOR, rnd2, &c), SC_OK);
    assert_string_equal(c.username, "ABCDEFGHIJdev001;21010406;Zaz09;1672617600");
}

static void test_credentials_errors(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    const uint8_t rnd[5] = { 0 };
    sc_cloud_mqtt_creds_t c;
    strcpy(id.device_secret, "not base64 !!");
    assert_int_equal(sc_cloud_mqtt_credentials(&id, NULL, 1, rnd, &c), SC_ERR_FORMAT);
    id.device_secret[0] = '\0';
    assert_int_equal(sc_cloud_mqtt_credentials(&id, NULL, 1, rnd, &c), SC_ERR_INVAL);
    make_id(&id);
    id.product_id[0] = '\0';
    assert_int_equal(sc_cloud_mqtt_credentials(&id, NULL, 1, rnd, &c), SC_ERR_INVAL);
    static const char *const bad_names[] = { "dev/1", "dev+", "dev#", "de;v", "d ev", "d\x01", "d\xc3\xa9" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        make_id(&id);
        strcpy(id.device_name, bad_names[i]);
        assert_int_equal(sc_cloud_mqtt_credentials(&id, NULL, 1, rnd, &c), SC_ERR_INVAL);
        char t[SC_CLOUD_TOPIC_SIZE];
        assert_int_equal(sc_cloud_topic_down(&id, t, sizeof t), SC_ERR_INVAL);
    }
    make_id(&id);
    strcpy(id.device_name, "dev_1-a.b:c@d");   /* what IoT Explorer allows */
    assert_int_equal(sc_cloud_mqtt_credentials(&id, NULL, 1, rnd, &c), SC_OK);
    char small[10];
    assert_int_equal(sc_cloud_mqtt_password(PSK, "x", false, small, sizeof small), SC_ERR_NOSPACE);
    assert_string_equal(small, "");
}

static void test_topics_and_messages(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    char t[SC_CLOUD_TOPIC_SIZE];
    assert_int_equal(sc_cloud_topic_up(&id, t, sizeof t), SC_OK);
    assert_string_equal(t, "$thing/up/service/ABCDEFGHIJ/dev001");
    assert_int_equal(sc_cloud_topic_down(&id, t, sizeof t), SC_OK);
    assert_string_equal(t, "$thing/down/service/ABCDEFGHIJ/dev001");
    char ct[SC_CLOUD_CLIENT_TOKEN_SIZE];
    assert_int_equal(sc_cloud_client_token(DNAME, 1700000000123ull, ct, sizeof ct), SC_OK);
    assert_string_equal(ct, "dev001-1700000000123");
    char buf[256];
    size_t n;
    assert_int_equal(sc_cloud_build_app_bind_token(ct, "tok\"en", buf, sizeof buf, &n), SC_OK);
    assert_string_equal(buf, "{\"method\":\"app_bind_token\",\"clientToken\":\"dev001-1700000000123\","
                             "\"params\":{\"token\":\"tok\\\"en\"}}");
    assert_int_equal(n, strlen(buf));
    sc_cloud_msg_t m;
    assert_int_equal(sc_cloud_parse_msg(buf, n, &m), SC_OK);
    assert_int_equal(m.type, SC_CLOUD_MSG_APP_BIND_TOKEN);
    assert_string_equal(m.token, "tok\"en");
    assert_string_equal(m.client_token, ct);

    assert_int_equal(sc_cloud_build_app_bind_token_reply(ct, 1001, buf, sizeof buf, &n), SC_OK);
    assert_int_equal(sc_cloud_parse_msg(buf, n, &m), SC_OK);
    assert_int_equal(m.type, SC_CLOUD_MSG_APP_BIND_TOKEN_REPLY);
    assert_true(m.has_code);
    assert_int_equal(m.code, 1001);

    assert_int_equal(sc_cloud_build_bind_device_query(ct, 1700000000123ull, buf, sizeof buf, &n), SC_OK);
    assert_string_equal(buf, "{\"method\":\"bind_device_query\",\"clientToken\":\"dev001-1700000000123\","
                             "\"timestamp\":1700000000123}");
    assert_int_equal(sc_cloud_parse_msg(buf, n, &m), SC_OK);
    assert_int_equal(m.type, SC_CLOUD_MSG_BIND_DEVICE_QUERY);
    assert_true(m.timestamp == 1700000000123ull);
    assert_int_equal(sc_cloud_build_bind_device_query_reply(ct, 0, buf, sizeof buf, &n), SC_OK);
    assert_int_equal(sc_cloud_parse_msg(buf, n, &m), SC_OK);
    assert_int_equal(m.type, SC_CLOUD_MSG_BIND_DEVICE_QUERY_REPLY);
    assert_int_equal(m.code, 0);

    /* the portable SDK's pretty form, code as a string, an unknown method, garbage */
    const char *pretty = "{\n  \"method\": \"bind_device\",\n  \"clientToken\": \"x\",\n  \"code\": \"7\"\n}";
    assert_int_equal(sc_cloud_parse_msg(pretty, strlen(pretty), &m), SC_OK);
    assert_int_equal(m.type, SC_CLOUD_MSG_BIND_DEVICE);
    assert_int_equal(m.code, 7);
    assert_int_equal(sc_cloud_parse_msg("{\"method\":\"report\"}", 19, &m), SC_OK);
    assert_int_equal(m.type, SC_CLOUD_MSG_OTHER);
    assert_int_equal(sc_cloud_parse_msg("{\"method\":1}", 12, &m), SC_ERR_FORMAT);
    assert_int_equal(sc_cloud_parse_msg("[1,2]", 5, &m), SC_ERR_FORMAT);
    assert_int_equal(sc_cloud_parse_msg("{\"method\":\"app_bind", 19, &m), SC_ERR_FORMAT);
    assert_int_equal(sc_cloud_parse_msg("", 0, &m), SC_ERR_FORMAT);
    /* not NUL-terminated input must not be read past len */
    char nonul[8] = { '{', '"', 'm', '"', ':', '1', '}', 'X' };
    assert_int_equal(sc_cloud_parse_msg(nonul, 7, &m), SC_ERR_FORMAT);
    /* what the cloud never sends is malformed, not read as the message before it: a NUL (raw,
     * or \u0000, which cJSON cuts a C string at: clientToken "x\u0000y" would read as "x"),
     * bytes after the JSON, nesting deeper than any message (cJSON recurses per level: a 1 KB
     * payload of '[' needs tens of KiB of stack on a chip). A C sender's terminator is fine. */
    static const char nul_esc[] = "{\"method\":\"app_bind_token_reply\",\"clientToken\":\"x\\u0000y\",\"code\":5}";
    assert_int_equal(sc_cloud_parse_msg(nul_esc, sizeof nul_esc - 1, &m), SC_ERR_FORMAT);
    static const char nul_esc_ok[] = "{\"method\":\"report\",\"clientToken\":\"x\\\\u0000y\"}"; /* \\ then u0000 */
    assert_int_equal(sc_cloud_parse_msg(nul_esc_ok, sizeof nul_esc_ok - 1, &m), SC_OK);
    static const char nul_raw[] = "{\"method\":\"app_bind_token_reply\",\"clientToken\":\"x\",\"code\":5}\0{}";
    assert_int_equal(sc_cloud_parse_msg(nul_raw, sizeof nul_raw - 1, &m), SC_ERR_FORMAT);
    assert_int_equal(sc_cloud_parse_msg(nul_raw, sizeof nul_raw - 3, &m), SC_OK); /* "...}\0": a terminator */
    static const char trailing[] = "{\"method\":\"app_bind_token_reply\",\"clientToken\":\"x\",\"code\":5}{\"code\":0}";
    assert_int_equal(sc_cloud_parse_msg(trailing, sizeof trailing - 1, &m), SC_ERR_FORMAT);
    static const char spaces[] = "{\"method\":\"report\"}  \r\n";
    assert_int_equal(sc_cloud_parse_msg(spaces, sizeof spaces - 1, &m), SC_OK);
    char deep[1024];
    memset(deep, '[', sizeof deep);
    assert_int_equal(sc_cloud_parse_msg(deep, sizeof deep, &m), SC_ERR_FORMAT);
    static const char deep_obj[] = "{\"method\":\"report\",\"x\":[[[[[[[[[[1]]]]]]]]]]}";
    assert_int_equal(sc_cloud_parse_msg(deep_obj, sizeof deep_obj - 1, &m), SC_ERR_FORMAT);
    /* token too long for the device is refused, not truncated */
    assert_int_equal(sc_cloud_build_app_bind_token(ct, "0123456789012345678901234567890123456789", buf,
                                                   sizeof buf, &n), SC_OK);
    assert_int_equal(sc_cloud_parse_msg(buf, n, &m), SC_ERR_RANGE);
    assert_int_equal(sc_cloud_build_app_bind_token(ct, "x", buf, 20, &n), SC_ERR_NOSPACE);
}

static void test_dynreg_vectors(void **state)
{
    (void)state;
    char sig[64];
    /* echo -n 'deviceName=dev001&nonce=12345&productId=ABCDEFGHIJ&timestamp=1700000000' |
     *   openssl dgst -sha1 -mac HMAC -macopt key:productsecret0123456789 | awk '{printf "%s",$2}' | base64 -w0 */
    assert_int_equal(sc_cloud_dynreg_signature(PSECRET, PID, DNAME, 12345, 1700000000u, sig, sizeof sig), SC_OK);
    assert_string_equal(sig, "NWRlODYzZjMyZWQ0ZmUyNjI3NmMxOTg1MTVjOTc4NDU0NDliNzczZg==");
    sc_identity_t id;
    make_id(&id);
    id.device_secret[0] = '\0';
    strcpy(id.product_secret, PSECRET);
    char body[384];
    size_t n;
    assert_int_equal(sc_cloud_dynreg_request(&id, 12345, 1700000000u, body, sizeof body, &n), SC_OK);
    assert_string_equal(body, "{\"deviceName\":\"dev001\",\"nonce\":12345,\"productId\":\"ABCDEFGHIJ\","
                              "\"timestamp\":1700000000,\"signature\":"
                              "\"NWRlODYzZjMyZWQ0ZmUyNjI3NmMxOTg1MTVjOTc4NDU0NDliNzczZg==\"}");

    /* Payload made with: printf '{"encryptionType":2,"psk":"MDEyMzQ1Njc4OWFiY2RlZg=="}' + 11 NULs |
     *   openssl enc -aes-128-cbc -K <hex "productsecret012"> -iv 30303030303030303030303030303030 -nopad | base64 */
    const char *resp = "{\"code\":0,\"message\":\"\",\"len\":53,\"payload\":"
                       "\"gAIVH3LNhuC6Ly5P5fJw04+QVY+A3zD0p4SsyjwxEbgayTAuAUrDCe4G+lVIkuOI98SoWvxIhqFULMRcuHiEmw==\"}";
    char psk[64];
    int32_t code = -1;
    assert_int_equal(sc_cloud_dynreg_decode(PSECRET, resp, strlen(resp), psk, sizeof psk, &code), SC_OK);
    assert_string_equal(psk, PSK);
    assert_int_equal(code, 0);
    /* our own cloud-side builder round-trips and matches the openssl ciphertext */
    char out[512];
    assert_int_equal(sc_cloud_dynreg_response(PSECRET, PSK, out, sizeof out, &n), SC_OK);
    assert_string_equal(out, resp);
    /* wrong product secret, refusal, garbage */
    assert_int_equal(sc_cloud_dynreg_decode("anotherproductsecret", resp, strlen(resp), psk, sizeof psk, &code),
                     SC_ERR_AUTH);
    const char *refused = "{\"code\":1021,\"message\":\"device already registered\"}";
    assert_int_equal(sc_cloud_dynreg_decode(PSECRET, refused, strlen(refused), psk, sizeof psk, &code),
                     SC_ERR_REFUSED);
    assert_int_equal(code, 1021);
    /* a refusal code outside int32 is -1, a fraction is cut toward zero, the ends of int32 stay */
    static const struct {
        const char *json;
        int32_t code;
    } codes[] = {
        { "{\"code\":4294967296}", -1 },         { "{\"code\":-2147483648.5}", -1 },
        { "{\"code\":1e400}", -1 },              { "{\"code\":-7.9}", -7 },
        { "{\"code\":2147483647}", INT32_MAX },  { "{\"code\":-2147483648}", INT32_MIN },
        { "{\"code\":-2147483647.5}", -2147483647 },
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        code = 0;
        assert_int_equal(sc_cloud_dynreg_decode(PSECRET, codes[i].json, strlen(codes[i].json), psk, sizeof psk, &code),
                         SC_ERR_REFUSED);
        assert_int_equal(code, codes[i].code);
    }
    assert_int_equal(sc_cloud_dynreg_decode(PSECRET, "{\"code\":0,\"payload\":\"@@@\"}", 26, psk, sizeof psk, &code),
                     SC_ERR_FORMAT);
    assert_int_equal(sc_cloud_dynreg_decode(PSECRET, "<html>", 6, psk, sizeof psk, &code), SC_ERR_FORMAT);
    /* the good answer with a member nested past SC_JSON_MAX_DEPTH: refused before cJSON recurses
     * into it (depth 8 is still read) */
    char deep[512];
    snprintf(deep, sizeof deep, "{\"x\":[[[[[[[[]]]]]]]],%s", resp + 1);
    assert_int_equal(sc_cloud_dynreg_decode(PSECRET, deep, strlen(deep), psk, sizeof psk, &code), SC_ERR_FORMAT);
    snprintf(deep, sizeof deep, "{\"x\":[[[[[[[]]]]]]],%s", resp + 1);
    assert_int_equal(sc_cloud_dynreg_decode(PSECRET, deep, strlen(deep), psk, sizeof psk, &code), SC_OK);
    assert_string_equal(psk, PSK);
    assert_int_equal(sc_cloud_dynreg_decode("short", resp, strlen(resp), psk, sizeof psk, &code), SC_ERR_INVAL);
}

/* ---- fake HAL -------------------------------------------------------------------------- */
#define FQ 8
typedef struct {
    uint32_t now;
    uint64_t unix_now;
    sc_mqtt_state_t state;
    int reason;
    sc_err_t connect_rc;
    bool connect_ok_immediately;     /* else stays CONNECTING until the test flips it */
    char host[128], client_id[80], username[128], password[96];
    uint16_t port;
    char subscribed[128];
    int npub;
    uint32_t pub_at[8];
    char last_pub[512];
    bool auto_ack;
    bool auto_reply;
    bool query_reply;
    int32_t reply_code;
    const char *extra_before_reply[4];   /* payloads queued before the real reply */
    sc_mqtt_msg_t q[FQ];
    int qn;
    int disconnects;
    int refuse_auth;                 /* this many connects end in CONNACK 5 (not authorized) */
    int logs_with_secret;
    char logbuf[4096];
    bool tls;                        /* what the last connect asked for */
    bool ca_file_given;
    uint8_t psk[64];
    size_t psk_len;
    const uint8_t *psk_at;           /* where the binder kept the key for the call */
    char psk_identity[64];
    int psk_connects;
} fake_t;

static fake_t F;

static void fq_push(const char *topic, const char *payload)
{
    if (F.qn == FQ)
        return;
    sc_mqtt_msg_t *m = &F.q[F.qn++];
    memset(m, 0, sizeof *m);
    strcpy(m->topic, topic);
    m->payload_len = strlen(payload);
    memcpy(m->payload, payload, m->payload_len);
}

static sc_err_t f_connect(void *ctx, const sc_mqtt_connect_t *p)
{
    (void)ctx;
    snprintf(F.host, sizeof F.host, "%s", p->host);
    snprintf(F.client_id, sizeof F.client_id, "%s", p->client_id);
    snprintf(F.username, sizeof F.username, "%s", p->username);
    snprintf(F.password, sizeof F.password, "%s", p->password);
    F.port = p->port;
    F.tls = p->tls;
    F.ca_file_given = p->ca_file != NULL;
    F.psk_at = p->psk;
    F.psk_len = p->psk_len;
    F.psk_identity[0] = '\0';
    if (p->psk != NULL) {
        assert_true(p->psk_len <= sizeof F.psk);
        memcpy(F.psk, p->psk, p->psk_len);
        snprintf(F.psk_identity, sizeof F.psk_identity, "%s", p->psk_identity);
        F.psk_connects++;
    }
    if (F.refuse_auth > 0) {
        F.refuse_auth--;
        F.state = SC_MQTT_FAILED;
        F.reason = 5;
        return SC_OK;
    }
    if (F.connect_rc != SC_OK) {
        F.state = SC_MQTT_FAILED;
        return F.connect_rc;
    }
    F.state = F.connect_ok_immediately ? SC_MQTT_CONNECTED : SC_MQTT_CONNECTING;
    return SC_OK;
}
static sc_mqtt_state_t f_state(void *ctx, int *reason)
{
    (void)ctx;
    *reason = F.reason;
    return F.state;
}
static sc_err_t f_subscribe(void *ctx, const char *topic, int qos)
{
    (void)ctx; (void)qos;
    snprintf(F.subscribed, sizeof F.subscribed, "%s", topic);
    return SC_OK;
}
static sc_err_t f_publish(void *ctx, const char *topic, const void *payload, size_t len, int qos, int *mid)
{
    (void)ctx; (void)topic;
    assert_int_equal(qos, 1);
    assert_true(len < sizeof F.last_pub);
    memcpy(F.last_pub, payload, len);
    F.last_pub[len] = '\0';
    if (F.npub < 8)
        F.pub_at[F.npub] = F.now;
    *mid = ++F.npub;
    if (F.auto_reply) {
        sc_cloud_msg_t m;
        assert_int_equal(sc_cloud_parse_msg(payload, len, &m), SC_OK);
        for (int i = 0; i < 4 && F.extra_before_reply[i] != NULL; i++)
            fq_push("$thing/down/service/" PID "/" DNAME, F.extra_before_reply[i]);
        char r[256];
        if (F.query_reply) {
            assert_int_equal(m.type, SC_CLOUD_MSG_BIND_DEVICE_QUERY);
            /* an app_bind_token_reply with the same clientToken must not count as the answer */
            sc_cloud_build_app_bind_token_reply(m.client_token, 0, r, sizeof r, NULL);
            fq_push("$thing/down/service/" PID "/" DNAME, r);
            assert_int_equal(sc_cloud_build_bind_device_query_reply(m.client_token, F.reply_code, r, sizeof r, NULL),
                             SC_OK);
        } else {
            assert_int_equal(m.type, SC_CLOUD_MSG_APP_BIND_TOKEN);
            assert_int_equal(sc_cloud_build_app_bind_token_reply(m.client_token, F.reply_code, r, sizeof r, NULL),
                             SC_OK);
        }
        fq_push("$thing/down/service/" PID "/" DNAME, r);
    }
    return SC_OK;
}
static bool f_puback(void *ctx, int mid)
{
    (void)ctx;
    return F.auto_ack && mid >= 1 && mid <= F.npub;
}
static sc_err_t f_poll(void *ctx, sc_mqtt_msg_t *msg)
{
    (void)ctx;
    if (F.qn == 0)
        return SC_ERR_AGAIN;
    *msg = F.q[0];
    memmove(&F.q[0], &F.q[1], (size_t)(F.qn - 1) * sizeof F.q[0]);
    F.qn--;
    return SC_OK;
}
static sc_err_t f_disconnect(void *ctx)
{
    (void)ctx;
    F.disconnects++;
    F.state = SC_MQTT_DISCONNECTED;
    return SC_OK;
}
static uint32_t f_now(void *ctx) { (void)ctx; return F.now; }
static uint64_t f_unix(void *ctx) { (void)ctx; return F.unix_now; }
static void f_random(void *ctx, void *buf, size_t len) { (void)ctx; memset(buf, 7, len); }
static void f_log(void *ctx, sc_log_level_t l, const char *line)
{
    (void)ctx; (void)l;
    if (strstr(line, "tok-secret") || strstr(line, PSK) || strstr(line, "hmacsha"))
        F.logs_with_secret++;
    strncat(F.logbuf, line, sizeof F.logbuf - strlen(F.logbuf) - 2);
    strcat(F.logbuf, "\n");
}

static sc_hal_t H;

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    F.now = 1000;
    F.unix_now = 1700000000u;
    F.connect_ok_immediately = true;
    F.auto_ack = true;
    F.auto_reply = true;
    memset(&H, 0, sizeof H);
    H.sys.now_ms = f_now;
    H.sys.unix_time = f_unix;
    H.sys.random = f_random;
    H.sys.log = f_log;
    H.mqtt.connect = f_connect;
    H.mqtt.state = f_state;
    H.mqtt.subscribe = f_subscribe;
    H.mqtt.publish = f_publish;
    H.mqtt.puback_received = f_puback;
    H.mqtt.poll = f_poll;
    H.mqtt.disconnect = f_disconnect;
    return 0;
}

/* Steps every 100 ms until the binder finishes or limit_ms passes. */
static sc_binder_status_t run(sc_binder_t *b, uint32_t limit_ms, uint16_t *e, int32_t *s)
{
    sc_binder_status_t st = SC_BINDER_PENDING;
    for (uint32_t t = 0; t <= limit_ms; t += 100) {
        st = sc_binder_step(b, F.now, e, s);
        if (st != SC_BINDER_PENDING)
            return st;
        F.now += 100;
    }
    return st;
}

static sc_binder_t B;

static void test_bind_success(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    uint16_t e;
    int32_t s;
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_DONE);
    assert_string_equal(F.host, PID ".iotcloud.tencentdevices.com");
    assert_int_equal(F.port, 1883);
    assert_string_equal(F.client_id, PID DNAME);
    assert_string_equal(F.subscribed, "$thing/down/service/" PID "/" DNAME);
    assert_non_null(strstr(F.last_pub, "\"method\":\"app_bind_token\""));
    assert_non_null(strstr(F.last_pub, "\"clientToken\":\"dev001-1700000000000\""));
    assert_non_null(strstr(F.last_pub, "\"token\":\"tok-secret\""));
    assert_int_equal(F.npub, 1);
    assert_int_equal(F.logs_with_secret, 0);
    assert_int_equal(F.disconnects, 0);   /* link stays up for the caller */
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_DONE);
    sc_binder_abort(&B);
    assert_int_equal(F.disconnects, 1);
}

/* TLS-PSK (cfg.tls_psk): the port gets the decoded device secret as the key and the client id
 * as the identity, no CA file; the CONNECT credentials stay; the binder's copy of the key is
 * wiped once connect returned. A port without TLS-PSK: err 1, sub SC_ERR_UNSUPPORTED, said so. */
static void test_bind_tls_psk(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    sc_cloud_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.tls = cfg.tls_psk = true;
    strcpy(cfg.ca_file, "/nowhere/ca.pem");   /* for registration's HTTPS only: not for MQTT */
    uint16_t e;
    int32_t s;
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_DONE);
    assert_true(F.tls);
    assert_false(F.ca_file_given);
    assert_int_equal(F.port, 8883);
    assert_int_equal(F.psk_connects, 1);
    assert_int_equal(F.psk_len, 16);
    assert_memory_equal(F.psk, "0123456789abcdef", 16);   /* base64-decoded PSK */
    assert_string_equal(F.psk_identity, PID DNAME);
    assert_string_equal(F.client_id, PID DNAME);
    assert_non_null(strstr(F.password, ";hmacsha256"));     /* CONNECT credentials as before */
    /* wiped: where the key was, and nowhere in the binder's state */
    assert_true((const uint8_t *)F.psk_at >= (const uint8_t *)&B &&
                (const uint8_t *)F.psk_at + 16 <= (const uint8_t *)&B + sizeof B);
    static const uint8_t zero[16];
    assert_memory_equal(F.psk_at, zero, 16);
    for (size_t i = 0; i + 16 <= sizeof B; i++)
        assert_memory_not_equal((const uint8_t *)&B + i, "0123456789abcdef", 16);
    assert_null(strstr(F.logbuf, "0123456789abcdef"));
    assert_non_null(strstr(F.logbuf, "TLS-PSK"));
    assert_int_equal(F.logs_with_secret, 0);
    sc_binder_abort(&B);

    /* certificate TLS: no PSK handed over; tls_psk without tls (the AT's tls mode 0): plain */
    for (int plain = 0; plain < 2; plain++) {
        setup(NULL);
        cfg.tls_psk = plain;
        cfg.tls = !plain;
        assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
        assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_DONE);
        assert_int_equal(F.tls, !plain);
        assert_int_equal(F.port, plain ? 1883 : 8883);
        assert_null(F.psk_at);
        assert_int_equal(F.psk_connects, 0);
        sc_binder_abort(&B);
    }
    cfg.tls = true;

    /* a port that cannot do TLS-PSK */
    setup(NULL);
    cfg.tls_psk = true;
    F.connect_rc = SC_ERR_UNSUPPORTED;
    F.reason = 93;   /* the port's errno must not hide what the app is to hear */
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 1);
    assert_int_equal(s, SC_ERR_UNSUPPORTED);
    assert_non_null(strstr(sc_binder_reason(&B), "TLS-PSK not supported"));
    for (size_t i = 0; i + 16 <= sizeof B; i++)
        assert_memory_not_equal((const uint8_t *)&B + i, "0123456789abcdef", 16);

    /* a device secret that is not base64: refused before any connect */
    setup(NULL);
    strcpy(id.device_secret, "@@@@");
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(F.psk_connects, 0);
}

static void test_bind_reply_code(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    F.reply_code = 1001;
    uint16_t e;
    int32_t s;
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 24);
    assert_int_equal(s, 1001);
    assert_int_equal(F.disconnects, 1);
    assert_int_equal(F.logs_with_secret, 0);
}

static void test_bind_timeout_with_retries(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    F.auto_reply = false;
    uint16_t e;
    int32_t s;
    uint32_t t0 = F.now;
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 40000, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 25);
    assert_int_equal(s, 103);
    /* Two tries per connection; as long after the second the connection is given up and opened
     * again (a subscription on a dead node never delivers), each new connection waiting twice
     * as long, up to the 30 s budget: 0, 2 | 4, 8 | 12, 20 | 28 s. Each reopening costs one
     * 100 ms step of run(). */
    static const uint32_t want[] = { 0, 2000, 4000, 8000, 12000, 20000, 28000 };
    assert_int_equal(F.npub, 7);
    for (int i = 0; i < 7; i++)
        assert_true(F.pub_at[i] - F.pub_at[0] >= want[i] && F.pub_at[i] - F.pub_at[0] <= want[i] + 400);
    assert_true(F.now - t0 >= SC_BINDER_TIMEOUT_MS && F.now - t0 <= SC_BINDER_TIMEOUT_MS + 200);
    sc_binder_stats_t st;
    sc_binder_stats(&B, &st);
    assert_int_equal(st.publishes, 7);
    assert_int_equal(st.reconnects, 3);
    assert_int_equal(F.disconnects, 4);   /* three reopenings and the failure */
    assert_int_equal(F.logs_with_secret, 0);
}

/* A broker node dies while the device waits for its reply: the link is opened again (the port
 * moves on to the next address) and the request sent again with the same clientToken, so a
 * reply to either request binds. Bounded: the SC_BINDER_RECONNECTS+1-th loss fails the bind,
 * and so does a reopening the broker refuses. */
/* A bind whose requests nobody answers (the test decides what the broker does). */
static void start_silent(sc_identity_t *id)
{
    F.auto_reply = false;
    assert_int_equal(sc_binder_start(&B, &H, NULL, id, "tok-secret", F.now), SC_OK);
}

static void test_bind_reconnects_after_link_loss(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    uint16_t e;
    int32_t s;
    start_silent(&id);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
    assert_int_equal(F.npub, 1);
    F.state = SC_MQTT_FAILED;
    F.reason = 104;
    F.now += 100;
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
    assert_int_equal(F.disconnects, 1);
    assert_true(sc_binder_next(&B) == F.now || (int32_t)(sc_binder_next(&B) - F.now) <= 0);   /* connect at once */
    F.now += 100;
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
    assert_int_equal(F.npub, 2);
    assert_non_null(strstr(F.last_pub, "\"clientToken\":\"dev001-1700000000000\""));
    assert_string_equal(F.subscribed, "$thing/down/service/" PID "/" DNAME);
    /* a lost link is no sign of a slow cloud: the next try still comes 2 s later, not 4 */
    F.now += SC_BINDER_PUBLISH_RETRY_MS - 100;
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
    assert_int_equal(F.npub, 2);
    F.now += 100;
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
    assert_int_equal(F.npub, 3);
    /* the reply to the first request arrives over the new link */
    char r[256];
    assert_int_equal(sc_cloud_build_app_bind_token_reply("dev001-1700000000000", 0, r, sizeof r, NULL), SC_OK);
    fq_push("$thing/down/service/" PID "/" DNAME, r);
    F.now += 100;
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_DONE);
    sc_binder_stats_t st;
    sc_binder_stats(&B, &st);
    assert_int_equal(st.reconnects, 1);
    assert_int_equal(F.logs_with_secret, 0);

    /* acknowledged on the first connection, never on the second: the cloud has the request,
     * so the timeout is "no reply" (25), not "never acknowledged" (23) */
    setup(NULL);
    start_silent(&id);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
    F.now += 100;
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);   /* sees the PUBACK */
    F.auto_ack = false;
    F.state = SC_MQTT_FAILED;
    assert_int_equal(run(&B, 40000, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 25);
    assert_int_equal(s, 103);
    assert_non_null(strstr(F.logbuf, "MQTT link lost while waiting: connecting again (1 of 3)"));

    /* every reopened link dies too: the loss after the last reopening ends the bind */
    setup(NULL);
    start_silent(&id);
    for (int i = 0; i <= SC_BINDER_RECONNECTS; i++) {
        assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
        assert_int_equal(F.npub, i + 1);
        F.state = SC_MQTT_FAILED;
        F.reason = 104;
        F.now += 100;
        sc_binder_status_t bs = sc_binder_step(&B, F.now, &e, &s);
        assert_int_equal(bs, i < SC_BINDER_RECONNECTS ? SC_BINDER_PENDING : SC_BINDER_FAILED);
        F.now += 100;
    }
    assert_int_equal(e, 1);
    assert_int_equal(s, 104);

    /* the broker refuses the reopening: no further tries */
    setup(NULL);
    start_silent(&id);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
    F.state = SC_MQTT_FAILED;
    F.reason = 104;
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
    F.connect_rc = SC_ERR_IO;
    F.reason = 111;
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 1);
    assert_int_equal(s, 111);
    assert_int_equal(F.npub, 1);
}

static void test_bind_no_puback(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    F.auto_reply = false;
    F.auto_ack = false;
    sc_cloud_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bind_timeout_ms = 12000;
    uint16_t e;
    int32_t s;
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 20000, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 23);
}

static void test_bind_connect_failure(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    F.connect_ok_immediately = false;
    uint16_t e;
    int32_t s;
    /* refused by the broker: CONNACK 5 */
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
    F.state = SC_MQTT_FAILED;
    F.reason = 5;
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 1);
    assert_int_equal(s, 5);
    /* connect() itself fails, the port knows errno 111 */
    setup(NULL);
    F.connect_rc = SC_ERR_IO;
    F.reason = 111;
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 1);
    assert_int_equal(s, 111);
    /* never answers: connect timeout */
    setup(NULL);
    F.connect_ok_immediately = false;
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 20000, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 1);
    assert_int_equal(s, 103);
    /* link lost while waiting: test_bind_reconnects_after_link_loss */
}

static void test_bind_ignores_others_and_garbage(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    F.extra_before_reply[0] = "{\"method\":\"app_bind_token_reply\",\"clientToken\":\"dev001-1\",\"code\":1}";
    F.extra_before_reply[1] = "{not json";
    F.extra_before_reply[2] = "{\"method\":\"property\",\"clientToken\":\"x\"}";
    F.extra_before_reply[3] = "\xff\xfe\x00garbage";
    uint16_t e;
    int32_t s;
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "tok-secret", F.now), SC_OK);
    /* a message on a foreign topic too */
    fq_push("$thing/down/property/" PID "/" DNAME, "{\"method\":\"app_bind_token_reply\",\"code\":9}");
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_DONE);
    sc_binder_stats_t st;
    sc_binder_stats(&B, &st);
    assert_int_equal(st.malformed, 2);
    assert_int_equal(st.ignored, 3);
    sc_binder_abort(&B);
}

static void test_query(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    F.query_reply = true;
    uint16_t e;
    int32_t s;
    assert_int_equal(sc_binder_query_start(&B, &H, NULL, &id, F.now), SC_OK);
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_DONE);
    assert_non_null(strstr(F.last_pub, "\"method\":\"bind_device_query\""));
    assert_non_null(strstr(F.last_pub, "\"timestamp\":1700000000000"));
    sc_binder_stats_t st;
    sc_binder_stats(&B, &st);
    assert_int_equal(st.ignored, 1);
    sc_binder_abort(&B);
    F.reply_code = 1;   /* not bound */
    assert_int_equal(sc_binder_query_start(&B, &H, NULL, &id, F.now), SC_OK);
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 24);
    assert_int_equal(s, 1);
}

static void test_bind_bad_input(void **state)
{
    (void)state;
    sc_identity_t id;
    make_id(&id);
    uint16_t e;
    int32_t s;
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "", F.now), SC_ERR_INVAL);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "012345678901234567890123456789012", F.now),
                     SC_ERR_RANGE);
    id.device_secret[0] = '\0';
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "tok", F.now), SC_ERR_INVAL);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 27);
    make_id(&id);
    strcpy(id.device_secret, "***");
    assert_int_equal(sc_binder_start(&B, &H, NULL, &id, "tok", F.now), SC_OK);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 27);
    /* abort of a never-started / finished binder is harmless */
    memset(&B, 0, sizeof B);
    sc_binder_abort(&B);
    sc_binder_abort(&B);
}

/* dynreg through fake http + in-memory storage */
static char store_val[128];
static size_t store_len;
static bool store_has;
static sc_err_t st_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len)
{
    (void)ctx;
    assert_string_equal(key, "psk");
    if (!store_has)
        return SC_ERR_NOTFOUND;
    if (store_len > cap)
        return SC_ERR_NOSPACE;
    memcpy(buf, store_val, store_len);
    *len = store_len;
    return SC_OK;
}
static sc_err_t st_put(void *ctx, const char *key, const void *buf, size_t len)
{
    (void)ctx;
    assert_string_equal(key, "psk");
    memcpy(store_val, buf, len);
    store_len = len;
    store_has = true;
    return SC_OK;
}
static int http_calls;
static const char *http_answer;
static sc_err_t h_post(void *ctx, const char *url, const char *ct, const void *body, size_t len, uint32_t tmo,
                       int *status, char *resp, size_t cap, size_t *resp_len)
{
    (void)ctx; (void)ct; (void)len;
    http_calls++;
    assert_string_equal(url, "http://127.0.0.1:1/register/dev");
    assert_true(tmo > 0 && tmo <= 10000);
    assert_non_null(strstr(body, "\"nonce\":"));
    *status = 200;
    size_t n = strlen(http_answer);
    assert_true(n <= cap);
    memcpy(resp, http_answer, n);
    *resp_len = n;
    return SC_OK;
}

/* One boot with REC (LEN bytes) as the stored PSK record and no secret of its own; the broker
 * refuses the first REFUSE logins (CONNACK 5). */
static sc_binder_status_t rebind(sc_identity_t *id, const sc_cloud_config_t *cfg, const char *rec, size_t len,
                                 int refuse, uint16_t *e, int32_t *s)
{
    memcpy(store_val, rec, len);
    store_len = len;
    store_has = true;
    id->device_secret[0] = '\0';
    F.refuse_auth = refuse;
    assert_int_equal(sc_binder_start(&B, &H, cfg, id, "tok-secret", F.now), SC_OK);
    sc_binder_status_t st = run(&B, 1000, e, s);
    sc_binder_abort(&B);
    return st;
}

/* A device with its product secret only, the fake register endpoint, the in-memory storage */
static void dynreg_setup(sc_identity_t *id, sc_cloud_config_t *cfg)
{
    make_id(id);
    id->device_secret[0] = '\0';
    strcpy(id->product_secret, PSECRET);
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->register_url, "http://127.0.0.1:1/register/dev");
    H.storage.get = st_get;
    H.storage.put = st_put;
}

static void test_bind_dynreg_fake(void **state)
{
    (void)state;
    sc_identity_t id;
    sc_cloud_config_t cfg;
    dynreg_setup(&id, &cfg);
    H.http.post = h_post;
    store_has = false;
    http_calls = 0;
    static char answer[512];
    assert_int_equal(sc_cloud_dynreg_response(PSECRET, PSK, answer, sizeof answer, NULL), SC_OK);
    http_answer = answer;
    uint16_t e;
    int32_t s;
    /* a wall clock not set yet (1970 until SNTP answers): failed at once with err 27 sub 202,
     * no POST whose timestamp the cloud would refuse */
    F.unix_now = 3 * 86400u;
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, SC_ERRID_DEVINFO);
    assert_int_equal(s, SC_SUBID_TIMESTAMP);
    assert_int_equal(http_calls, 0);
    sc_binder_abort(&B);
    F.unix_now = 1700000000u;
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_DONE);
    assert_string_equal(id.device_secret, PSK);
    assert_true(store_has && store_len == sizeof PID + sizeof DNAME + strlen(PSK) &&
                memcmp(store_val, PID "\0" DNAME "\0" PSK, store_len) == 0);
    assert_int_equal(http_calls, 1);
    assert_int_equal(F.logs_with_secret, 0);
    sc_binder_abort(&B);
    /* second boot: the stored PSK is used, no second registration */
    id.device_secret[0] = '\0';
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_DONE);
    assert_int_equal(http_calls, 1);
    assert_string_equal(id.device_secret, PSK);
    sc_binder_abort(&B);
    /* F32: the record names its device; another identity on the same storage registers
     * itself instead of connecting with that device's PSK */
    strcpy(id.device_name, "another_dev");   /* (the fake cloud answers only dev001: no DONE) */
    id.device_secret[0] = '\0';
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    (void)run(&B, 1000, &e, &s);
    assert_int_equal(http_calls, 2);
    sc_binder_abort(&B);
    assert_true(store_len > strlen(PSK) && memcmp(store_val, PID "\0another_dev\0", strlen(PID) + 13) == 0);
    strcpy(id.device_name, DNAME);   /* ... and the first device, now not the record's, too */
    id.device_secret[0] = '\0';
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_DONE);
    assert_int_equal(http_calls, 3);
    sc_binder_abort(&B);
    /* a record of before F32 (the PSK alone) is tried: the broker takes it, so it is this
     * device's, and the record now names it (no registration) */
    static const char named[] = PID "\0" DNAME "\0" PSK, other_psk[] = "b3RoZXJkZXZpY2VzIGtleSE=";
    assert_int_equal(rebind(&id, &cfg, PSK, strlen(PSK), 0, &e, &s), SC_BINDER_DONE);
    assert_int_equal(http_calls, 3);
    assert_string_equal(id.device_secret, PSK);
    assert_true(store_len == sizeof named - 1 && memcmp(store_val, named, store_len) == 0);
    /* ... the broker refuses it (another device's key): this device registers in the same
     * bind, and its own record replaces the old one */
    assert_int_equal(rebind(&id, &cfg, other_psk, strlen(other_psk), 1, &e, &s), SC_BINDER_DONE);
    assert_int_equal(http_calls, 4);
    assert_string_equal(id.device_secret, PSK);
    assert_true(store_len == sizeof named - 1 && memcmp(store_val, named, store_len) == 0);
    assert_int_equal(F.logs_with_secret, 0);
    /* ... refused, and the registration refused too: the bind fails with the registration's
     * answer, and the old record stays (it may be a working key refused for another reason) */
    http_answer = "{\"code\":1021,\"message\":\"exists\"}";
    assert_int_equal(rebind(&id, &cfg, other_psk, strlen(other_psk), 1, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 27);
    assert_int_equal(s, 1021);
    assert_int_equal(http_calls, 5);
    assert_true(store_len == strlen(other_psk) && memcmp(store_val, other_psk, store_len) == 0);
    /* ... a record that names this device and is refused is not replaced: that is an MQTT
     * connect error (a registered device cannot register again) */
    assert_int_equal(rebind(&id, &cfg, named, sizeof named - 1, 1, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, SC_ERRID_MQTT_CONNECT);
    assert_int_equal(s, 5);
    assert_int_equal(http_calls, 5);
    http_answer = answer;
    F.refuse_auth = 0;
    F.reason = 0;
    /* damaged: names cut short, no PSK, a PSK with a NUL: not used, registered again */
    static const char *const damaged[] = { PID "\0", PID "\0" DNAME, PID "\0" DNAME "\0",
                                           PID "\0" DNAME "\0" "ab\0cd" };
    static const size_t dlen[] = { sizeof PID, sizeof PID + sizeof DNAME - 1, sizeof PID + sizeof DNAME,
                                   sizeof PID + sizeof DNAME + 5 };
    for (size_t k = 0; k < 4; k++) {
        memcpy(store_val, damaged[k], dlen[k]);
        store_len = dlen[k];
        id.device_secret[0] = '\0';
        int before = http_calls;
        assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
        assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_DONE);
        assert_int_equal(http_calls, before + 1);
        sc_binder_abort(&B);
    }
    /* refusal by the cloud */
    store_has = false;
    id.device_secret[0] = '\0';
    http_answer = "{\"code\":1021,\"message\":\"exists\"}";
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_FAILED);
    assert_int_equal(e, 27);
    assert_int_equal(s, 1021);
    assert_string_equal(id.device_secret, "");
}

/* dynreg in the port's background (post_start/post_poll): the binder's step returns while the
 * POST runs, so the device's other services go on; a port that never answers is given up */
static int bg_started, bg_polls_left, bg_cancels;
static bool bg_forever;
static char bg_body[512];
static sc_err_t h_post_never(void *ctx, const char *url, const char *ct, const void *body, size_t len,
                             uint32_t tmo, int *status, char *resp, size_t cap, size_t *resp_len)
{
    (void)ctx; (void)url; (void)ct; (void)body; (void)len; (void)tmo; (void)status; (void)resp; (void)cap;
    (void)resp_len;
    fail_msg("post() called although post_start() is there");
    return SC_ERR_IO;
}
static sc_err_t h_post_start(void *ctx, const char *url, const char *ct, const void *body, size_t len, uint32_t tmo)
{
    (void)ctx;
    assert_string_equal(url, "http://127.0.0.1:1/register/dev");
    assert_string_equal(ct, "application/x-www-form-urlencoded");
    assert_true(tmo > 0 && tmo <= SC_BINDER_DYNREG_TIMEOUT_MS);
    assert_true(len < sizeof bg_body);
    memcpy(bg_body, body, len);   /* the port copies: the caller wipes its buffer at once */
    bg_body[len] = '\0';
    bg_started++;
    return SC_OK;
}
static sc_err_t h_post_poll(void *ctx, int *status, char *resp, size_t cap, size_t *resp_len)
{
    (void)ctx;
    if (bg_forever || bg_polls_left-- > 0)
        return SC_ERR_AGAIN;
    *status = 200;
    size_t n = strlen(http_answer);
    assert_true(n <= cap);
    memcpy(resp, http_answer, n);
    *resp_len = n;
    return SC_OK;
}
static void h_post_cancel(void *ctx)
{
    (void)ctx;
    bg_cancels++;
}

static void test_bind_dynreg_background(void **state)
{
    (void)state;
    sc_identity_t id;
    sc_cloud_config_t cfg;
    dynreg_setup(&id, &cfg);
    cfg.bind_timeout_ms = 30000;
    H.http.post = h_post_never;
    H.http.post_start = h_post_start;
    H.http.post_poll = h_post_poll;
    H.http.post_cancel = h_post_cancel;
    static char answer[512];
    assert_int_equal(sc_cloud_dynreg_response(PSECRET, PSK, answer, sizeof answer, NULL), SC_OK);
    http_answer = answer;
    uint16_t e;
    int32_t s;

    /* the answer after 30 polls: each step returns at once, asking to be called again soon */
    store_has = false;
    bg_started = bg_cancels = 0;
    bg_forever = false;
    bg_polls_left = 30;
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    int steps = 0;
    sc_binder_status_t st;
    while ((st = sc_binder_step(&B, F.now, &e, &s)) == SC_BINDER_PENDING && bg_polls_left >= 0) {
        assert_int_equal(bg_started, 1);
        uint32_t next = sc_binder_next(&B);
        assert_true(sc_ms_reached(F.now + SC_BINDER_DYNREG_POLL_MS, next));   /* no later than a poll */
        F.now += SC_BINDER_DYNREG_POLL_MS;
        assert_true(++steps < 100);
    }
    assert_non_null(strstr(bg_body, "\"nonce\":"));
    assert_int_equal(run(&B, 1000, &e, &s), SC_BINDER_DONE);
    assert_string_equal(id.device_secret, PSK);
    assert_true(store_has && store_len == sizeof PID + sizeof DNAME + strlen(PSK));
    assert_int_equal(bg_cancels, 1);   /* the exchange ended once it had its result */
    assert_int_equal(F.logs_with_secret, 0);
    sc_binder_abort(&B);
    assert_int_equal(bg_cancels, 1);   /* nothing left to cancel */

    /* a port whose own timeout never fires: given up after it and the grace, as a timeout */
    store_has = false;
    id.device_secret[0] = '\0';
    bg_forever = true;
    uint32_t t0 = F.now;
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    while ((st = sc_binder_step(&B, F.now, &e, &s)) == SC_BINDER_PENDING)
        F.now += 100;
    assert_int_equal(st, SC_BINDER_FAILED);
    assert_int_equal(e, SC_ERRID_DEVINFO);
    assert_int_equal(s, SC_ERR_TIMEOUT);
    assert_true(F.now - t0 >= SC_BINDER_DYNREG_TIMEOUT_MS + SC_BINDER_DYNREG_GRACE_MS &&
                F.now - t0 <= SC_BINDER_DYNREG_TIMEOUT_MS + SC_BINDER_DYNREG_GRACE_MS + 100);
    assert_int_equal(bg_cancels, 2);
    assert_string_equal(id.device_secret, "");

    /* stopped while it runs: the port's exchange is cancelled */
    assert_int_equal(sc_binder_start(&B, &H, &cfg, &id, "tok-secret", F.now), SC_OK);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_PENDING);
    assert_int_equal(bg_started, 3);
    sc_binder_abort(&B);
    assert_int_equal(bg_cancels, 3);
    assert_int_equal(sc_binder_step(&B, F.now, &e, &s), SC_BINDER_FAILED);
    sc_binder_abort(&B);
    assert_int_equal(bg_cancels, 3);
    bg_forever = false;
}

static int helper_main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--sign") == 0) {
        char pw[SC_CLOUD_PASSWORD_SIZE];
        sc_err_t rc = sc_cloud_mqtt_password(argv[2], argv[3], strcmp(argv[4], "sha1") == 0, pw, sizeof pw);
        if (rc != SC_OK)
            return fprintf(stderr, "%s\n", sc_strerror(rc)), 1;
        printf("%s\n", pw);
        return 0;
    }
    if (argc == 7 && strcmp(argv[1], "--dynsig") == 0) {
        char sig[64];
        sc_err_t rc = sc_cloud_dynreg_signature(argv[2], argv[3], argv[4], (uint32_t)strtoul(argv[5], NULL, 10),
                                                strtoull(argv[6], NULL, 10), sig, sizeof sig);
        if (rc != SC_OK)
            return fprintf(stderr, "%s\n", sc_strerror(rc)), 1;
        printf("%s\n", sig);
        return 0;
    }
    fprintf(stderr, "usage: test_cloud [--sign psk user sha256|sha1 | --dynsig ps pid dn nonce ts]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return helper_main(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credentials_sha256),
        cmocka_unit_test(test_credentials_sha1_tls_override),
        cmocka_unit_test(test_password_check),
        cmocka_unit_test(test_credentials_errors),
        cmocka_unit_test(test_topics_and_messages),
        cmocka_unit_test(test_dynreg_vectors),
        cmocka_unit_test_setup(test_bind_success, setup),
        cmocka_unit_test_setup(test_bind_tls_psk, setup),
        cmocka_unit_test_setup(test_bind_reply_code, setup),
        cmocka_unit_test_setup(test_bind_timeout_with_retries, setup),
        cmocka_unit_test_setup(test_bind_reconnects_after_link_loss, setup),
        cmocka_unit_test_setup(test_bind_no_puback, setup),
        cmocka_unit_test_setup(test_bind_connect_failure, setup),
        cmocka_unit_test_setup(test_bind_ignores_others_and_garbage, setup),
        cmocka_unit_test_setup(test_query, setup),
        cmocka_unit_test_setup(test_bind_bad_input, setup),
        cmocka_unit_test_setup(test_bind_dynreg_fake, setup),
        cmocka_unit_test_setup(test_bind_dynreg_background, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
