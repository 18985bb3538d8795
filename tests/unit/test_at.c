/* SPDX-License-Identifier: Apache-2.0 */
/* AT front-end: exact reply bytes for the whole command set, the bad-input matrix, state
 * errors, persistence through a fake storage (including one that fails or tears writes), and
 * that no secret ever appears in the output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smartcfg/at.h"

/* ---------------------------------------------------------------- fakes */

#define SECRET "c2VjcmV0LWtleS0xMjM0NQ=="   /* must never be printed */
#define PSECRET "prodSECRETabcdefgh12"       /* product secret: same */

typedef struct {
    char key[16];
    uint8_t val[512];
    size_t len;
    bool used;
} slot_t;

typedef struct {
    slot_t slot[4];
    int puts;
    bool fail_put;     /* put() fails cleanly: old value kept (what the HAL promises) */
    bool tear_put;     /* put() writes half and fails: breaks the HAL promise */
} mem_storage_t;

static slot_t *find(mem_storage_t *m, const char *key, bool create)
{
    for (int i = 0; i < 4; i++)
        if (m->slot[i].used && !strcmp(m->slot[i].key, key))
            return &m->slot[i];
    if (!create)
        return NULL;
    for (int i = 0; i < 4; i++)
        if (!m->slot[i].used) {
            m->slot[i].used = true;
            snprintf(m->slot[i].key, sizeof m->slot[i].key, "%s", key);
            return &m->slot[i];
        }
    return NULL;
}

static sc_err_t ms_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len)
{
    slot_t *s = find(ctx, key, false);
    if (!s)
        return SC_ERR_NOTFOUND;
    if (s->len > cap)
        return SC_ERR_NOSPACE;
    memcpy(buf, s->val, s->len);
    *len = s->len;
    return SC_OK;
}

static sc_err_t ms_put(void *ctx, const char *key, const void *buf, size_t len)
{
    mem_storage_t *m = ctx;
    m->puts++;
    if (m->fail_put)
        return SC_ERR_IO;
    slot_t *s = find(m, key, true);
    if (m->tear_put) {
        memcpy(s->val, buf, len / 2);
        s->len = len;
        return SC_ERR_IO;
    }
    memcpy(s->val, buf, len);
    s->len = len;
    return SC_OK;
}

static sc_err_t ms_erase(void *ctx, const char *key)
{
    slot_t *s = find(ctx, key, false);
    if (s)
        memset(s, 0, sizeof *s);
    return SC_OK;
}

typedef struct {
    int start_sc, stop_sc, start_sap, stop_sap, connect, disconnect, dynreg, restore;
    int start_ret, sap_ret, connect_ret, disconnect_ret, dynreg_ret;
    int mqtt_connected;
    sc_identity_t last_id;
    uint8_t last_tls;
    char sap_ssid[40], sap_psw[40];
    bool sap_psw_null;
    uint8_t sap_ch;
    sc_at_mqtt_params_t last_params;
    /* ESP-AT basics */
    int joins, quits, resets, uarts, join_ret;
    bool joined, uart_ok;
    char join_ssid[33], join_psw[70];
    uint32_t uart_baud;
    /* MQTT data channel */
    int pubs, subs, unsubs, pub_ret, sub_ret, unsub_ret, pub_qos;
    char pub_topic[140], sub_topic[140];
    uint8_t pub_payload[2100];
    size_t pub_len;
    sc_identity_t *pending_id;   /* what a pending dynreg op fills in before completing */
} fake_ops_t;

static int f_start_sc(void *ctx, const sc_identity_t *id, uint8_t tls)
{
    fake_ops_t *f = ctx;
    f->start_sc++;
    f->last_id = *id;
    f->last_tls = tls;
    return f->start_ret;
}
static void f_stop_sc(void *ctx) { ((fake_ops_t *)ctx)->stop_sc++; }
static int f_start_sap(void *ctx, const sc_identity_t *id, uint8_t tls, const char *ssid, const char *psw, uint8_t ch)
{
    fake_ops_t *f = ctx;
    f->start_sap++;
    f->last_id = *id;
    f->last_tls = tls;
    snprintf(f->sap_ssid, sizeof f->sap_ssid, "%s", ssid);
    f->sap_psw_null = psw == NULL;
    snprintf(f->sap_psw, sizeof f->sap_psw, "%s", psw ? psw : "");
    f->sap_ch = ch;
    return f->sap_ret;
}
static void f_stop_sap(void *ctx) { ((fake_ops_t *)ctx)->stop_sap++; }
static int f_connect(void *ctx, const sc_identity_t *id, const sc_at_mqtt_params_t *p)
{
    fake_ops_t *f = ctx;
    f->connect++;
    f->last_id = *id;
    f->last_params = *p;
    if (f->connect_ret == 0)
        f->mqtt_connected = 1;
    return f->connect_ret;
}
static int f_state(void *ctx) { return ((fake_ops_t *)ctx)->mqtt_connected; }
static int f_disconnect(void *ctx)
{
    fake_ops_t *f = ctx;
    f->disconnect++;
    if (!f->disconnect_ret)
        f->mqtt_connected = 0;
    return f->disconnect_ret;
}
static int f_dynreg(void *ctx, sc_identity_t *id)
{
    fake_ops_t *f = ctx;
    f->dynreg++;
    f->last_id = *id;
    f->pending_id = id;
    if (f->dynreg_ret == 0) {
        /* as a port may: bytes past the secret's NUL left over from its own work */
        memset(id->device_secret, 'x', sizeof id->device_secret);
        snprintf(id->device_secret, sizeof id->device_secret, "%s", SECRET);
    }
    return f->dynreg_ret;
}
static void f_restore(void *ctx) { ((fake_ops_t *)ctx)->restore++; }
static sc_err_t f_mac(void *ctx, uint8_t mac[SC_MAC_LEN])
{
    (void)ctx;
    static const uint8_t m[6] = { 0x24, 0x0a, 0xc4, 0x00, 0x01, 0xfe };
    memcpy(mac, m, 6);
    return SC_OK;
}

static int f_join(void *ctx, const char *ssid, const char *psw)
{
    fake_ops_t *f = ctx;
    f->joins++;
    snprintf(f->join_ssid, sizeof f->join_ssid, "%s", ssid);
    snprintf(f->join_psw, sizeof f->join_psw, "%s", psw);
    f->joined = f->join_ret == 0;
    return f->join_ret;
}
static void f_quit(void *ctx) { ((fake_ops_t *)ctx)->quits++; ((fake_ops_t *)ctx)->joined = false; }
static sc_err_t f_info(void *ctx, sc_at_wifi_info_t *wi)
{
    fake_ops_t *f = ctx;
    if (!f->joined)
        return SC_ERR_STATE;
    wi->joined = true;
    snprintf(wi->ssid, sizeof wi->ssid, "%s", f->join_ssid);
    static const uint8_t bssid[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0xa5 };
    memcpy(wi->bssid, bssid, 6);
    wi->channel = 6;
    wi->rssi = -42;
    memcpy(wi->ip, "\x0a\x00\x00\x07", 4);
    memcpy(wi->gateway, "\x0a\x00\x00\x01", 4);
    memcpy(wi->netmask, "\xff\xff\xff\x00", 4);
    return SC_OK;
}
static int f_pub(void *ctx, const char *topic, int qos, const void *payload, size_t len)
{
    fake_ops_t *f = ctx;
    f->pubs++;
    snprintf(f->pub_topic, sizeof f->pub_topic, "%s", topic);
    f->pub_qos = qos;
    memcpy(f->pub_payload, payload, len);
    f->pub_len = len;
    return f->pub_ret;
}
static int f_sub(void *ctx, const char *topic, int qos)
{
    fake_ops_t *f = ctx;
    (void)qos;
    f->subs++;
    snprintf(f->sub_topic, sizeof f->sub_topic, "%s", topic);
    return f->sub_ret;
}
static int f_unsub(void *ctx, const char *topic)
{
    fake_ops_t *f = ctx;
    f->unsubs++;
    snprintf(f->sub_topic, sizeof f->sub_topic, "%s", topic);
    return f->unsub_ret;
}
static void f_reset(void *ctx) { ((fake_ops_t *)ctx)->resets++; }
static uint32_t f_ram(void *ctx) { (void)ctx; return 40960; }
static sc_err_t f_uart(void *ctx, uint32_t baud, uint8_t d, uint8_t s, uint8_t p, uint8_t fl)
{
    fake_ops_t *f = ctx;
    (void)d; (void)s; (void)p; (void)fl;
    f->uarts++;
    if (!f->uart_ok)
        return SC_ERR_UNSUPPORTED;
    f->uart_baud = baud;
    return SC_OK;
}

typedef struct {
    sc_at_t at;
    sc_at_config_t cfg;   /* what the context was initialised with, to re-initialise it */
    sc_at_ops_t ops;
    fake_ops_t f;
    mem_storage_t m;
    sc_hal_storage_t storage;
    char out[8192];
    size_t outlen;
    size_t total_out;  /* everything ever printed, for the secret check */
    char all[65536];
} fix_t;

static void capture(void *user, const char *data, size_t len)
{
    fix_t *x = user;
    assert_true(x->outlen + len < sizeof x->out);
    memcpy(x->out + x->outlen, data, len);
    x->outlen += len;
    x->out[x->outlen] = 0;
    if (x->total_out + len < sizeof x->all) {
        memcpy(x->all + x->total_out, data, len);
        x->total_out += len;
        x->all[x->total_out] = 0;
    }
}

static sc_at_ops_t fake_ops(fake_ops_t *f)
{
    sc_at_ops_t ops = {
        .ctx = f, .start_smartconfig = f_start_sc, .stop_smartconfig = f_stop_sc, .start_softap = f_start_sap,
        .stop_softap = f_stop_sap, .mqtt_connect = f_connect, .mqtt_state = f_state,
        .mqtt_disconnect = f_disconnect, .dynreg = f_dynreg, .restore = f_restore, .get_mac = f_mac,
        .wifi_join = f_join, .wifi_quit = f_quit, .wifi_info = f_info, .reset = f_reset, .free_ram = f_ram,
        .set_uart = f_uart, .mqtt_publish = f_pub, .mqtt_subscribe = f_sub, .mqtt_unsubscribe = f_unsub,
    };
    return ops;
}

static void fix_init(fix_t *x, bool echo)
{
    sc_at_config_t cfg;
    sc_at_config_default(&cfg);
    cfg.output = capture;
    cfg.output_user = x;
    cfg.echo = echo;
    cfg.module_name = "test-module";
    cfg.fw_version = "1.2.3";
    x->storage = (sc_hal_storage_t){ .ctx = &x->m, .get = ms_get, .put = ms_put, .erase = ms_erase };
    cfg.storage = &x->storage;
    sc_at_ops_t ops = fake_ops(&x->f);
    x->cfg = cfg;
    x->ops = ops;
    assert_int_equal(sc_at_init(&x->at, &cfg, &ops), SC_OK);
}

static int setup(void **state)
{
    static fix_t x;
    memset(&x, 0, sizeof x);
    fix_init(&x, false);
    *state = &x;
    return 0;
}

static int setup_echo(void **state)
{
    static fix_t x;
    memset(&x, 0, sizeof x);
    fix_init(&x, true);
    *state = &x;
    return 0;
}

/* Sends s (a whole line including "\r\n"), returns what came back and resets the capture. */
static const char *cmd(fix_t *x, const char *s)
{
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_feed(&x->at, s, strlen(s), 1000);
    return x->out;
}

static void check_no_secret(fix_t *x)
{
    assert_null(strstr(x->all, SECRET));
    assert_null(strstr(x->all, PSECRET));
}

#define DEVINFO "AT+TCDEVINFOSET=1,\"PID0123456\",\"dev-001\",\"" SECRET "\"\r\n"

static void set_devinfo(fix_t *x)
{
    assert_string_equal(cmd(x, DEVINFO), "OK\r\n+TCDEVINFOSET:OK\r\n");
}

/* ---------------------------------------------------------------- basic commands */

static void test_basic(void **state)
{
    fix_t *x = *state;
    assert_string_equal(cmd(x, "AT\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+GMR\r\n"),
                        "AT version:1.2.3\r\nSDK version:smartcfg\r\nBin version:1.2.3(test-module)\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCVER\r\n"),
                        "Tencent Cloud IoT AT  version: 1.2.3\r\nTencent Cloud IoT SDK version: smartcfg\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMODULE\r\n"),
                        "Module HW name: test-module\r\nModule FW version: 1.2.3\r\n"
                        "Module Mac addr: 24:0a:c4:00:01:fe\r\nModule Flash size: 4MB\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCFWINFO?\r\n"), "+CME ERROR:205\r\n");
    assert_string_equal(cmd(x, "AT+TCFWINFO=?\r\n"),
                        "+TCFWINFO:\"FW_VERSION\",\"FW_SIZE\",\"FW_MD5\",\"FW_MAX_SIZE_OF_MODULE\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "\r\n"), "");   /* empty lines are ignored */
    /* AT+TCLOG (the first thing Tencent's test tool sends) */
    assert_string_equal(cmd(x, "AT+TCLOG=?\r\n"), "+TCLOG: <log_level>\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCLOG?\r\n"), "+TCLOG: 1\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCLOG=86013388,4\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+TCLOG?\r\n"), "+TCLOG: 4\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCLOG=86013388,5\r\n"), "+CME ERROR:204\r\n");
    assert_string_equal(cmd(x, "AT+TCLOG=1234,4\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+TCLOG?\r\n"), "+TCLOG: 1\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCLOG=1\r\n"), "ERROR\r\n");
}

static void test_echo(void **state)
{
    fix_t *x = *state;
    assert_true(sc_at_echo(&x->at));   /* ESP-AT default */
    assert_string_equal(cmd(x, "AT\r\n"), "AT\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+BOGUS\r\n"), "AT+BOGUS\r\nERROR\r\n");
    assert_string_equal(cmd(x, "ATE0\r\n"), "ATE0\r\nOK\r\n");
    assert_false(sc_at_echo(&x->at));
    assert_string_equal(cmd(x, "AT\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "ATE1\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT\r\n"), "AT\r\nOK\r\n");
    /* The echo of a secret-carrying line masks the secret. */
    assert_string_equal(cmd(x, DEVINFO),
                        "AT+TCDEVINFOSET=1,\"PID0123456\",\"dev-001\",\"***\"\r\nOK\r\n+TCDEVINFOSET:OK\r\n");
    assert_string_equal(cmd(x, "AT+TCPRDINFOSET=1,\"PID0123456\",\"" PSECRET "\",\"dev-001\",\"ap-beijing\"\r\n"),
                        "AT+TCPRDINFOSET=1,\"PID0123456\",\"***\",\"dev-001\",\"ap-beijing\"\r\nOK\r\n"
                        "+TCPRDINFOSET:OK\r\n");
    /* ... also when the line is malformed. */
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET=1,\"P\",\"d\",\"" SECRET "\r\n"),
                        "AT+TCDEVINFOSET=***\r\nERROR\r\n");
    assert_string_equal(cmd(x, "AT+TCSAP=\"ap\",\"wifipass99\"\r\n"),
                        "AT+TCSAP=\"ap\",\"***\"\r\nOK\r\n+TCSAP:OK\r\n");
    check_no_secret(x);
    assert_null(strstr(x->all, "wifipass99"));
}

/* F33 (docs/security.md#device): the echo while a command runs in the background ("busy p...")
 * and of a line with a stray LF showed the whole line, secrets included. */
static void test_echo_busy_and_lf(void **state)
{
    fix_t *x = *state;
    cmd(x, "AT+TCPRDINFOSET=1,\"PID0123456\",\"" PSECRET "\",\"dev-9\"\r\n");
    x->f.dynreg_ret = SC_AT_PENDING;
    assert_string_equal(cmd(x, "AT+TCDEVREG\r\n"), "AT+TCDEVREG\r\nOK\r\n");
    assert_string_equal(cmd(x, DEVINFO), "AT+TCDEVINFOSET=1,\"PID0123456\",\"dev-001\",\"***\"\r\nbusy p...\r\n");
    assert_string_equal(cmd(x, "AT+CWJAP=\"ap\",\"wifipass99\"\r\n"), "AT+CWJAP=\"ap\",\"***\"\r\nbusy p...\r\n");
    assert_string_equal(cmd(x, "AT+TCSAP=\"ap\",\"wifipass99\r\n"), "AT+TCSAP=***\r\nbusy p...\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSTATE?\r\n"), "AT+TCMQTTSTATE?\r\nbusy p...\r\n");
    sc_at_complete(&x->at, 0);
    /* an LF inside a secret-carrying line: ERROR, and the echo masks as for any bad line */
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET=1,\"P\",\"d\",\"" SECRET "\n\"\r\n"), "AT+TCDEVINFOSET=***\r\nERROR\r\n");
    assert_string_equal(cmd(x, "AT+TCGWBIND=0,\"SUBP\",\"sub\n1\",\"" SECRET "\"\r\n"), "AT+TCGWBIND=***\r\nERROR\r\n");
    assert_string_equal(cmd(x, "AT+CWJAP=\"a\np\",\"wifipass99\"\r\n"), "AT+CWJAP=***\r\nERROR\r\n");
    check_no_secret(x);
    assert_null(strstr(x->all, "wifipass99"));
}

static void test_chunked(void **state)
{
    fix_t *x = *state;
    const char *in = "AT\r\n" DEVINFO "AT+TCDEVINFOSET?\r\n";
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    for (size_t i = 0; in[i]; i++)
        sc_at_feed(&x->at, in + i, 1, 1000);
    char want[512];
    snprintf(want, sizeof want, "OK\r\nOK\r\n+TCDEVINFOSET:OK\r\n+TCDEVINFOSET:1,\"PID0123456\",\"dev-001\",%u,"
             "\"ap-guangzhou\"\r\nOK\r\n", sc_at_bcc(SECRET));
    assert_string_equal(x->out, want);
    /* and everything in one call */
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_feed(&x->at, in, strlen(in), 1000);
    assert_string_equal(x->out, want);
}

/* ---------------------------------------------------------------- device info */

static void test_devinfo(void **state)
{
    fix_t *x = *state;
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET=?\r\n"),
                        "+TCDEVINFOSET:\"TLS_MODE(1)\",\"PRODUCT_ID\",\"DEVICE_NAME\",\"DEVICE_SECRET_BCC\","
                        "\"PRODUCT_REGION\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), "+CME ERROR:207\r\n");  /* nothing stored */
    set_devinfo(x);
    assert_int_equal(x->m.puts, 1);
    uint8_t bcc = sc_at_bcc(SECRET);
    uint8_t manual = 0;
    for (const char *p = SECRET; *p; p++)
        manual ^= (uint8_t)*p;
    assert_int_equal(bcc, manual);
    char want[256];
    snprintf(want, sizeof want, "+TCDEVINFOSET:1,\"PID0123456\",\"dev-001\",%u,\"ap-guangzhou\"\r\nOK\r\n", bcc);
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), want);
    /* unchanged: no flash write */
    set_devinfo(x);
    assert_int_equal(x->m.puts, 1);
    /* ours: tls_mode 0 and an explicit region */
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET=0,\"PID0123456\",\"dev-001\",\"" SECRET "\",\"ap-shanghai\"\r\n"),
                        "OK\r\n+TCDEVINFOSET:OK\r\n");
    assert_int_equal(x->m.puts, 2);
    snprintf(want, sizeof want, "+TCDEVINFOSET:0,\"PID0123456\",\"dev-001\",%u,\"ap-shanghai\"\r\nOK\r\n", bcc);
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), want);
    /* a fresh context loads what was stored */
    sc_at_t *at2 = &x->at;
    sc_at_config_t cfg = x->cfg;
    sc_at_ops_t ops = x->ops;
    assert_int_equal(sc_at_init(at2, &cfg, &ops), SC_OK);
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), want);
    const sc_at_info_t *di = sc_at_devinfo(&x->at);
    assert_non_null(di);
    assert_string_equal(di->id.device_secret, SECRET);
    check_no_secret(x);
}

static void test_devinfo_params(void **state)
{
    fix_t *x = *state;
    set_devinfo(x);
    int puts = x->m.puts;
    static const char *const bad204[] = {
        "AT+TCDEVINFOSET=2,\"PID0123456\",\"dev\",\"sec\"\r\n",          /* tls mode */
        "AT+TCDEVINFOSET=1,\"PID01234567\",\"dev\",\"sec\"\r\n",         /* pid 11 */
        "AT+TCDEVINFOSET=1,\"\",\"dev\",\"sec\"\r\n",                    /* pid empty */
        "AT+TCDEVINFOSET=1,\"P\",\"\",\"sec\"\r\n",                      /* dn empty */
        "AT+TCDEVINFOSET=1,\"P\",\"0123456789012345678901234567890123456789012345678\",\"sec\"\r\n", /* dn 49 */
        "AT+TCDEVINFOSET=1,\"P\",\"d\",\"\"\r\n",                        /* secret empty */
        "AT+TCDEVINFOSET=1,\"P\",\"d\",\"012345678901234567890123456789012345678901234\"\r\n", /* secret 45 */
        "AT+TCDEVINFOSET=1,\"P\",\"d\"\r\n",                             /* missing */
        "AT+TCDEVINFOSET=1,\"P\",\"d\",\"s\",\"r\",\"x\"\r\n",           /* extra */
        "AT+TCDEVINFOSET=1,\"P\",\"d\",\"s\",\"\"\r\n",                  /* region empty */
        "AT+TCDEVINFOSET=1,\"P\",\"d\",\"s\",\"ap-guangzhou-very-long-region\"\r\n", /* region 29 */
        "AT+TCDEVINFOSET=1,P,\"d\",\"s\"\r\n",                           /* unquoted string */
        "AT+TCDEVINFOSET=\"1\",\"P\",\"d\",\"s\"\r\n",                   /* quoted number */
        "AT+TCDEVINFOSET=1,\"P\",,\"s\"\r\n",                            /* empty parameter */
        "AT+TCDEVINFOSET=99999999999,\"P\",\"d\",\"s\"\r\n",             /* overlong number */
        "AT+TCDEVINFOSET=\r\n",
        "AT+TCDEVINFOSET=?x\r\n",                                      /* bare non-number */
        "AT+TCDEVINFOSET=1,2,3,4,5,6,7,8,9,10,11,12\r\n",                 /* more than the table holds */
    };
    for (size_t i = 0; i < sizeof bad204 / sizeof bad204[0]; i++) {
        const char *r = cmd(x, bad204[i]);
        if (strcmp(r, "+CME ERROR:204\r\n"))
            fail_msg("case %zu: %s -> %s", i, bad204[i], r);
    }
    static const char *const bad_syntax[] = {
        "AT+TCDEVINFOSET=1,\"P,\"d\",\"s\"\r\n",                         /* quote soup */
        "AT+TCDEVINFOSET=1,\"P\"x,\"d\",\"s\"\r\n",                      /* text after quote */
        "AT+TCDEVINFOSET=1,\"P\",\"d\",\"s\r\n",                         /* unterminated */
        "AT+TCDEVINFOSET=1,\"P\\q\",\"d\",\"s\"\r\n",                    /* unknown escape */
        "AT+TCDEVINFOSET=1,P\"x\",\"d\",\"s\"\r\n",                      /* quote in bare value */
        "AT+TCDEVINFOSET=1,\"P\",\"d\",\"s\"\"\r\n",
        "AT+TCDEVINFOSET\r\n",                                          /* exec form not supported */
        "AT+TCDEVINFOSET?x\r\n",
    };
    for (size_t i = 0; i < sizeof bad_syntax / sizeof bad_syntax[0]; i++) {
        const char *r = cmd(x, bad_syntax[i]);
        if (strcmp(r, "ERROR\r\n"))
            fail_msg("syntax case %zu: %s -> %s", i, bad_syntax[i], r);
    }
    assert_int_equal(x->m.puts, puts);   /* no state change */
    char want[256];
    snprintf(want, sizeof want, "+TCDEVINFOSET:1,\"PID0123456\",\"dev-001\",%u,\"ap-guangzhou\"\r\nOK\r\n",
             sc_at_bcc(SECRET));
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), want);
    /* bounds that are fine: 10-char pid, 48-char name, 44-char secret, escapes */
    assert_string_equal(
        cmd(x, "AT+TCDEVINFOSET=1,\"ABCDEFGHIJ\",\"012345678901234567890123456789012345678901234567\","
               "\"01234567890123456789012345678901234567890123\",\"ap-a\\,b\"\r\n"),
        "OK\r\n+TCDEVINFOSET:OK\r\n");
    snprintf(want, sizeof want,
             "+TCDEVINFOSET:1,\"ABCDEFGHIJ\",\"012345678901234567890123456789012345678901234567\",%u,"
             "\"ap-a\\,b\"\r\nOK\r\n", sc_at_bcc("01234567890123456789012345678901234567890123"));
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), want);
}

static void test_storage_failure(void **state)
{
    fix_t *x = *state;
    set_devinfo(x);
    char want[256];
    snprintf(want, sizeof want, "+TCDEVINFOSET:1,\"PID0123456\",\"dev-001\",%u,\"ap-guangzhou\"\r\nOK\r\n",
             sc_at_bcc(SECRET));
    /* A write that fails: FAIL,207 and the previous info stays, in RAM and in storage. */
    x->m.fail_put = true;
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET=1,\"PID0123456\",\"dev-002\",\"other\"\r\n"),
                        "OK\r\n+TCDEVINFOSET:FAIL,207\r\n");
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), want);
    x->m.fail_put = false;
    sc_at_config_t cfg = x->cfg;
    sc_at_ops_t ops = x->ops;
    sc_at_init(&x->at, &cfg, &ops);
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), want);
    /* A torn write (a port breaking the atomic-replace promise): the CRC rejects the record
     * after a restart, so the device reports no info rather than a corrupt identity. */
    x->m.tear_put = true;
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET=1,\"PID0123456\",\"dev-002\",\"other\"\r\n"),
                        "OK\r\n+TCDEVINFOSET:FAIL,207\r\n");
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), want);   /* RAM copy untouched */
    x->m.tear_put = false;
    sc_at_init(&x->at, &cfg, &ops);
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), "+CME ERROR:207\r\n");
    assert_null(sc_at_devinfo(&x->at));
}

static void test_record_codec(void **state)
{
    (void)state;
    sc_at_info_t in, out;
    memset(&in, 0, sizeof in);
    in.valid = true;
    in.tls_mode = 1;
    strcpy(in.id.product_id, "P1");
    strcpy(in.id.device_name, "d1");
    strcpy(in.id.device_secret, "s1");
    strcpy(in.id.region, "ap-guangzhou");
    uint8_t rec[SC_AT_RECORD_SIZE];
    assert_int_equal(sc_at_record_encode(&in, false, rec), SC_OK);
    assert_int_equal(sc_at_record_decode(rec, sizeof rec, false, &out), SC_OK);
    assert_string_equal(out.id.device_secret, "s1");
    assert_int_equal(sc_at_record_decode(rec, sizeof rec, true, &out), SC_ERR_FORMAT); /* wrong kind */
    assert_int_equal(sc_at_record_decode(rec, sizeof rec - 1, false, &out), SC_ERR_FORMAT);
    for (size_t i = 0; i < sizeof rec; i++) {
        rec[i] ^= 0x40;
        assert_int_not_equal(sc_at_record_decode(rec, sizeof rec, false, &out), SC_OK);
        rec[i] ^= 0x40;
    }
}

/* ---------------------------------------------------------------- product info, dynreg */

static void test_prdinfo_devreg(void **state)
{
    fix_t *x = *state;
    assert_string_equal(cmd(x, "AT+TCPRDINFOSET=?\r\n"),
                        "+TCPRDINFOSET:\"TLS_MODE(1)\",\"PRODUCT_ID\",\"PRODUCT_SECRET_BCC\",\"DEVICE_NAME\","
                        "\"PRODUCT_REGION\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCDEVREG\r\n"), "OK\r\n+TCDEVREG:FAIL,207\r\n");  /* no product info */
    assert_int_equal(x->f.dynreg, 0);
    assert_string_equal(cmd(x, "AT+TCPRDINFOSET=1,\"PID0123456\",\"" PSECRET "\",\"dev-9\"\r\n"),
                        "OK\r\n+TCPRDINFOSET:OK\r\n");
    char want[256];
    snprintf(want, sizeof want, "+TCPRDINFOSET:1,\"PID0123456\",%u,\"dev-9\",\"ap-guangzhou\"\r\nOK\r\n",
             sc_at_bcc(PSECRET));
    assert_string_equal(cmd(x, "AT+TCPRDINFOSET?\r\n"), want);
    assert_string_equal(cmd(x, "AT+TCPRDINFOSET=1,\"PID0123456\",\"0123456789012345678901234567890123456789012345678901234567890123"
                               "4\",\"d\"\r\n"),
                        "+CME ERROR:204\r\n");   /* product secret 65 */
    x->f.dynreg_ret = 24;
    assert_string_equal(cmd(x, "AT+TCDEVREG\r\n"), "OK\r\n+TCDEVREG:FAIL,24\r\n");
    assert_null(sc_at_devinfo(&x->at));
    x->f.dynreg_ret = 0;
    assert_string_equal(cmd(x, "AT+TCDEVREG\r\n"), "OK\r\n+TCDEVREG:OK\r\n");
    assert_string_equal(x->f.last_id.product_secret, PSECRET);
    assert_string_equal(x->f.last_id.device_name, "dev-9");
    snprintf(want, sizeof want, "+TCDEVINFOSET:1,\"PID0123456\",\"dev-9\",%u,\"ap-guangzhou\"\r\nOK\r\n",
             sc_at_bcc(SECRET));
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), want);
    /* the same info set again is unchanged (no flash write), whatever the op left past the
     * secret's NUL */
    int puts = x->m.puts;
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET=1,\"PID0123456\",\"dev-9\",\"" SECRET "\"\r\n"),
                        "OK\r\n+TCDEVINFOSET:OK\r\n");
    assert_int_equal(x->m.puts, puts);
    check_no_secret(x);
}

static void test_dynreg_pending(void **state)
{
    fix_t *x = *state;
    cmd(x, "AT+TCPRDINFOSET=1,\"PID0123456\",\"" PSECRET "\",\"dev-9\"\r\n");
    x->f.dynreg_ret = SC_AT_PENDING;
    assert_string_equal(cmd(x, "AT+TCDEVREG\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT\r\n"), "busy p...\r\n");
    /* the op fills the secret, then completes */
    assert_non_null(x->f.pending_id);
    snprintf(x->f.pending_id->device_secret, sizeof x->f.pending_id->device_secret, "%s", SECRET);
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_complete(&x->at, 0);
    assert_string_equal(x->out, "+TCDEVREG:OK\r\n");
    assert_non_null(sc_at_devinfo(&x->at));
    /* a pending op that never completes times out with 202 */
    assert_string_equal(cmd(x, "AT+TCDEVREG\r\n"), "OK\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    assert_int_equal(sc_at_tick(&x->at, 1000 + 29999), 1000 + 30000);
    assert_string_equal(x->out, "");
    sc_at_tick(&x->at, 1000 + 30000);
    assert_string_equal(x->out, "+TCDEVREG:FAIL,202\r\n");
    assert_string_equal(cmd(x, "AT\r\n"), "OK\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_complete(&x->at, 0);   /* late completion: ignored */
    assert_string_equal(x->out, "");
}

/* A background registration hands its secret over with sc_at_complete_dynreg: stored on
 * success; a secret that does not fit is refused (209), an error code is printed as it is;
 * with nothing pending the call changes nothing. */
static void test_dynreg_complete_dynreg(void **state)
{
    fix_t *x = *state;
    cmd(x, "AT+TCPRDINFOSET=1,\"PID0123456\",\"" PSECRET "\",\"dev-9\"\r\n");
    x->f.dynreg_ret = SC_AT_PENDING;
    sc_at_complete_dynreg(&x->at, 0, SECRET);   /* nothing pending: ignored */
    assert_null(sc_at_devinfo(&x->at));
    assert_string_equal(cmd(x, "AT+TCDEVREG\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), "busy p...\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_complete_dynreg(&x->at, -11, NULL);
    assert_string_equal(x->out, "+TCDEVREG:FAIL,-11\r\n");
    assert_null(sc_at_devinfo(&x->at));
    /* 45 characters: longer than any device secret */
    assert_string_equal(cmd(x, "AT+TCDEVREG\r\n"), "OK\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_complete_dynreg(&x->at, 0, "0123456789012345678901234567890123456789abcde");
    assert_string_equal(x->out, "+TCDEVREG:FAIL,209\r\n");
    assert_null(sc_at_devinfo(&x->at));
    assert_string_equal(cmd(x, "AT+TCDEVREG\r\n"), "OK\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_complete_dynreg(&x->at, 0, SECRET);
    assert_string_equal(x->out, "+TCDEVREG:OK\r\n");
    assert_non_null(sc_at_devinfo(&x->at));
    char want[160];
    snprintf(want, sizeof want, "+TCDEVINFOSET:1,\"PID0123456\",\"dev-9\",%u,\"ap-guangzhou\"\r\nOK\r\n",
             sc_at_bcc(SECRET));
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), want);
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_complete_dynreg(&x->at, 1004, NULL);   /* late: ignored */
    assert_string_equal(x->out, "");
    check_no_secret(x);
}

/* ---------------------------------------------------------------- provisioning */

static void test_smartconfig(void **state)
{
    fix_t *x = *state;
    assert_string_equal(cmd(x, "AT+TCSTARTSMART=?\r\n"), "+TCSTARTSMART: CMD FOR START SMARTCONFIG\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCSTOPSMART=?\r\n"), "+TCSTOPSMART:CMD TO STOP SMARTCONFIG\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCSTARTSMART\r\n"), "OK\r\n+TCSTARTSMART:FAIL,27\r\n");  /* no identity */
    assert_int_equal(x->f.start_sc, 0);
    set_devinfo(x);
    x->f.start_ret = 13;
    assert_string_equal(cmd(x, "AT+TCSTARTSMART\r\n"), "OK\r\n+TCSTARTSMART:FAIL,13\r\n");
    assert_int_equal(sc_at_flow(&x->at), SC_AT_FLOW_NONE);
    x->f.start_ret = 0;
    assert_string_equal(cmd(x, "AT+TCSTARTSMART\r\n"), "OK\r\n+TCSTARTSMART:OK\r\n");
    assert_string_equal(x->f.last_id.device_secret, SECRET);
    assert_string_equal(x->f.last_id.product_id, "PID0123456");
    assert_int_equal(x->f.last_tls, 1);
    assert_int_equal(sc_at_flow(&x->at), SC_AT_FLOW_SMARTCONFIG);
    /* identity and MQTT are locked while provisioning runs (ours) */
    assert_string_equal(cmd(x, DEVINFO), "+CME ERROR:208\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTCONN=1,5000,240,1,1\r\n"), "+CME ERROR:208\r\n");
    assert_string_equal(cmd(x, "AT+TCDEVREG\r\n"), "+CME ERROR:208\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_provision_result(&x->at, true, 0, 0);
    assert_string_equal(x->out, "+TCSTARTSMART:WIFI_CONNECT_SUCCESS\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_provision_result(&x->at, false, 1, -103);  /* only one final URC per flow */
    assert_string_equal(x->out, "");
    /* failure URC */
    cmd(x, "AT+TCSTARTSMART\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_provision_result(&x->at, false, 10, 2);
    assert_string_equal(x->out, "+TCSTARTSMART:WIFI_CONNECT_FAILED,10,2\r\n");
    /* stop: OK (+ ours +TCSTOPSMART:OK), no URC afterwards */
    cmd(x, "AT+TCSTARTSMART\r\n");
    assert_string_equal(cmd(x, "AT+TCSTOPSMART\r\n"), "OK\r\n+TCSTOPSMART:OK\r\n");
    assert_int_equal(x->f.stop_sc, 1);
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_provision_result(&x->at, false, 3, 102);
    assert_string_equal(x->out, "");
    check_no_secret(x);
}

static void test_softap(void **state)
{
    fix_t *x = *state;
    set_devinfo(x);
    assert_string_equal(cmd(x, "AT+TCSAP=?\r\n"), "+TCSAP=<ssid>[,<pwd>,<ch>]\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCSAP?\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+TCSTOPSAP=?\r\n"), "+TCSTOPSAP:CMD TO STOP SOFTAP\r\nOK\r\n");
    static const char *const bad[] = {
        "AT+TCSAP=\"\"\r\n", "AT+TCSAP=\"012345678901234567890123456789012\"\r\n", "AT+TCSAP=\"a\",\"short\"\r\n",
        "AT+TCSAP=\"a\",\"012345678901234567890123456789012\"\r\n", "AT+TCSAP=\"a\",\"12345678\",14\r\n",
        "AT+TCSAP=\"a\",\"12345678\",-1\r\n", "AT+TCSAP=\"a\",\"12345678\",1,2\r\n", "AT+TCSAP=a\r\n",
        "AT+TCSAP=\"a\",\"12345678\",\"1\"\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *r = cmd(x, bad[i]);
        if (strcmp(r, "+CME ERROR:204\r\n"))
            fail_msg("case %zu: %s -> %s", i, bad[i], r);
    }
    assert_int_equal(x->f.start_sap, 0);
    assert_string_equal(cmd(x, "AT+TCSAP=\"ESP-SoftAP\"\r\n"), "OK\r\n+TCSAP:OK\r\n");
    assert_true(x->f.sap_psw_null);
    assert_int_equal(x->f.sap_ch, 0);
    assert_string_equal(cmd(x, "AT+TCSAP=\"ESP-SoftAP\",\"12345678\",6\r\n"), "OK\r\n+TCSAP:OK\r\n");
    assert_string_equal(x->f.sap_psw, "12345678");
    assert_int_equal(x->f.sap_ch, 6);
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_provision_result(&x->at, false, 3, 103);
    assert_string_equal(x->out, "+TCSAP:WIFI_CONNECT_FAILED,3,103\r\n");
    x->f.sap_ret = 7;
    assert_string_equal(cmd(x, "AT+TCSAP=\"x\"\r\n"), "OK\r\n+TCSAP:FAIL,7\r\n");
    x->f.sap_ret = 0;
    cmd(x, "AT+TCSAP=\"x\"\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_provision_result(&x->at, true, 0, 0);
    assert_string_equal(x->out, "+TCSAP:WIFI_CONNECT_SUCCESS\r\n");
    assert_string_equal(cmd(x, "AT+TCSTOPSAP\r\n"), "OK\r\n+TCSTOPSAP:OK\r\n");
    assert_int_equal(x->f.stop_sap, 1);
}

/* ---------------------------------------------------------------- MQTT */

static void test_mqtt(void **state)
{
    fix_t *x = *state;
    assert_string_equal(cmd(x, "AT+TCMQTTCONN=?\r\n"),
                        "+TCMQTTCONN:<TLSMODE_SELECTED>,<CMDTIMEOUT_VALUE(1000-20000ms)>,<KEEPALIVE>(60-690s),"
                        "<CLEAN_SESSION>(0/1),<RECONNECT>(0/1)\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTCONN?\r\n"), "+CME ERROR:208\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSTATE?\r\n"), "+TCMQTTSTATE:0\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSTATE=?\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTDISCONN=?\r\n"), "OK\r\n");   /* test forms with a bare OK */
    assert_string_equal(cmd(x, "AT+TCDEVREG=?\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTCONN=1,5000,240,1,1\r\n"), "OK\r\n+TCMQTTCONN:FAIL,207\r\n"); /* no devinfo */
    assert_int_equal(x->f.connect, 0);
    set_devinfo(x);
    static const char *const bad[] = {
        "AT+TCMQTTCONN=2,5000,240,1,1\r\n", "AT+TCMQTTCONN=1,999,240,1,1\r\n", "AT+TCMQTTCONN=1,20001,240,1,1\r\n",
        "AT+TCMQTTCONN=1,5000,59,1,1\r\n", "AT+TCMQTTCONN=1,5000,691,1,1\r\n", "AT+TCMQTTCONN=1,5000,240,2,1\r\n",
        "AT+TCMQTTCONN=1,5000,240,1,2\r\n", "AT+TCMQTTCONN=1,5000,240,1\r\n", "AT+TCMQTTCONN=1,5000,240,1,1,1\r\n",
        "AT+TCMQTTCONN=1,\"5000\",240,1,1\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *r = cmd(x, bad[i]);
        if (strcmp(r, "+CME ERROR:204\r\n"))
            fail_msg("case %zu: %s -> %s", i, bad[i], r);
    }
    assert_int_equal(x->f.connect, 0);
    x->f.connect_ret = -103;
    assert_string_equal(cmd(x, "AT+TCMQTTCONN=1,5000,240,1,1\r\n"), "OK\r\n+TCMQTTCONN:FAIL,-103\r\n");
    assert_false(sc_at_mqtt_task_running(&x->at));
    x->f.connect_ret = 0;
    assert_string_equal(cmd(x, "AT+TCMQTTCONN=0,10000,60,0,1\r\n"), "OK\r\n+TCMQTTCONN:OK\r\n");
    assert_int_equal(x->f.last_params.tls_mode, 0);
    assert_int_equal(x->f.last_params.cmd_timeout_ms, 10000);
    assert_int_equal(x->f.last_params.keepalive_s, 60);
    assert_string_equal(x->f.last_id.device_secret, SECRET);
    assert_true(sc_at_mqtt_task_running(&x->at));
    assert_string_equal(cmd(x, "AT+TCMQTTCONN?\r\n"), "+TCMQTTCONN:0,10000,60,0,1\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSTATE?\r\n"), "+TCMQTTSTATE:1\r\nOK\r\n");
    /* 208 while the MQTT task runs, and nothing changes */
    int puts = x->m.puts;
    static const char *const busy[] = {
        DEVINFO, "AT+TCDEVINFOSET=9,\"bad\"\r\n", "AT+TCPRDINFOSET=1,\"P\",\"s\",\"d\"\r\n", "AT+TCDEVREG\r\n",
        "AT+TCSTARTSMART\r\n", "AT+TCSTOPSMART\r\n", "AT+TCSAP=\"a\"\r\n", "AT+TCSTOPSAP\r\n",
        "AT+TCMQTTCONN=1,5000,240,1,1\r\n", "AT+TCRESTORE\r\n",
    };
    for (size_t i = 0; i < sizeof busy / sizeof busy[0]; i++) {
        const char *r = cmd(x, busy[i]);
        if (strcmp(r, "+CME ERROR:208\r\n"))
            fail_msg("case %zu: %s -> %s", i, busy[i], r);
    }
    assert_int_equal(x->m.puts, puts);
    assert_int_equal(x->f.start_sc + x->f.stop_sc + x->f.start_sap + x->f.stop_sap + x->f.dynreg + x->f.restore, 0);
    assert_int_equal(x->f.connect, 2);
    /* queries still answer */
    assert_int_equal(strncmp(cmd(x, "AT+TCDEVINFOSET?\r\n"), "+TCDEVINFOSET:1,", 16), 0);
    /* URCs */
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_mqtt_reconnecting(&x->at);
    sc_at_mqtt_reconnected(&x->at);
    sc_at_mqtt_disconnected(&x->at, -106, true);
    assert_string_equal(x->out, "+TCMQTTRECONNECTING\r\n+TCMQTTRECONNECTED\r\n+TCMQTTDISCON,-106\r\n");
    assert_true(sc_at_mqtt_task_running(&x->at));
    /* disconnect */
    x->f.disconnect_ret = -103;
    assert_string_equal(cmd(x, "AT+TCMQTTDISCONN\r\n"), "+CME ERROR:-103\r\n");
    x->f.disconnect_ret = 0;
    assert_string_equal(cmd(x, "AT+TCMQTTDISCONN\r\n"), "+TCMQTTDISCON,2\r\nOK\r\n");
    assert_false(sc_at_mqtt_task_running(&x->at));
    assert_string_equal(cmd(x, "AT+TCMQTTSTATE?\r\n"), "+TCMQTTSTATE:0\r\nOK\r\n");
    /* not connected: the PDF's +CME ERROR (208, state), the op is not called */
    int disc = x->f.disconnect;
    assert_string_equal(cmd(x, "AT+TCMQTTDISCONN\r\n"), "+CME ERROR:208\r\n");
    assert_int_equal(x->f.disconnect, disc);
    /* pending connect */
    x->f.connect_ret = SC_AT_PENDING;
    assert_false(sc_at_mqtt_waiting(&x->at));
    assert_string_equal(cmd(x, "AT+TCMQTTCONN=1,5000,240,1,1\r\n"), "OK\r\n");
    assert_true(sc_at_mqtt_waiting(&x->at));   /* the loop should come round soon */
    assert_string_equal(cmd(x, "AT+TCMQTTSTATE?\r\n"), "busy p...\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_complete(&x->at, 0);
    assert_false(sc_at_mqtt_waiting(&x->at));
    assert_string_equal(x->out, "+TCMQTTCONN:OK\r\n");
    assert_true(sc_at_mqtt_task_running(&x->at));
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_mqtt_disconnected(&x->at, -103, false);   /* the task ends: commands allowed again */
    assert_false(sc_at_mqtt_task_running(&x->at));
    assert_string_equal(cmd(x, "AT+TCSTOPSMART\r\n"), "OK\r\n+TCSTOPSMART:OK\r\n");
    check_no_secret(x);
}

static void test_restore(void **state)
{
    fix_t *x = *state;
    assert_string_equal(cmd(x, "AT+TCRESTORE=?\r\n"), "+TCRESTORE: CLEAR CONFIG AND RESET\r\nOK\r\n");
    set_devinfo(x);
    cmd(x, "AT+TCPRDINFOSET=1,\"PID0123456\",\"" PSECRET "\",\"dev-9\"\r\n");
    cmd(x, "AT+TCSTARTSMART\r\n");
    cmd(x, "AT+CWMODE=2\r\n");
    cmd(x, "ATE1\r\n");
    /* the reference reboots: "ready", and the ESP-AT settings are back at power-on (echo off here) */
    assert_string_equal(cmd(x, "AT+TCRESTORE\r\n"), "AT+TCRESTORE\r\nOK\r\nready\r\n");
    assert_string_equal(cmd(x, "AT+CWMODE?\r\n"), "+CWMODE:1\r\nOK\r\n");
    assert_int_equal(x->f.restore, 1);
    assert_int_equal(sc_at_flow(&x->at), SC_AT_FLOW_NONE);
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), "+CME ERROR:207\r\n");
    assert_string_equal(cmd(x, "AT+TCPRDINFOSET?\r\n"), "+CME ERROR:207\r\n");
    sc_at_config_t cfg = x->cfg;
    sc_at_ops_t ops = x->ops;
    sc_at_init(&x->at, &cfg, &ops);
    assert_string_equal(cmd(x, "AT+TCDEVINFOSET?\r\n"), "+CME ERROR:207\r\n");
}

/* ---------------------------------------------------------------- bad input */

static void test_bad_lines(void **state)
{
    fix_t *x = *state;
    static const char *const err[] = {
        "BOGUS\r\n", "A\r\n", "at\r\n", "AT+\r\n", "AT+UNKNOWN\r\n", "AT+GMR?\r\n", "AT+GMR=?\r\n", "AT+TCVER=1\r\n",
        "ATE2\r\n", "ATE\r\n", "AT \r\n", "AT+TCSTARTSMART?\r\n", "AT\x01\r\n", "AT\x7f\r\n", "AT\rX\r\n",
        "AT\n\r\n", "\x1b[A\r\n", "AT\x00\r\n",
    };
    for (size_t i = 0; i < sizeof err / sizeof err[0]; i++) {
        x->outlen = 0;
        x->out[0] = 0;
        size_t n = strlen(err[i]);
        if (i == sizeof err / sizeof err[0] - 1)
            n = 5;   /* embedded NUL */
        sc_at_feed(&x->at, err[i], n, 1000);
        if (strcmp(x->out, "ERROR\r\n"))
            fail_msg("case %zu -> %s", i, x->out);
        assert_string_equal(cmd(x, "AT\r\n"), "OK\r\n");   /* recovered */
    }
    /* Overlong line: one ERROR, the rest of it discarded up to its "\r\n", then back to normal,
     * in any chunking. */
    char big[2000];
    memset(big, 'A', sizeof big);
    memcpy(big, "AT+TCDEVINFOSET=1,\"", 19);
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    for (int rep = 0; rep < 3; rep++)
        sc_at_feed(&x->at, big, sizeof big, 1000);
    assert_string_equal(x->out, "");
    sc_at_feed(&x->at, "\r\nAT\r\n", 6, 1000);
    assert_string_equal(x->out, "ERROR\r\nOK\r\n");
    /* exactly SC_AT_LINE_MAX is fine (the command itself is unknown), one more is not */
    char line[SC_AT_LINE_MAX + 4];
    memset(line, 'B', sizeof line);
    memcpy(line, "AT+", 3);
    memcpy(line + SC_AT_LINE_MAX, "\r\n", 2);
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_feed(&x->at, line, SC_AT_LINE_MAX + 2, 1000);
    assert_string_equal(x->out, "ERROR\r\n");
    memset(line, 'B', sizeof line);
    memcpy(line, "AT+TCSAP=\"", 10);
    line[SC_AT_LINE_MAX - 1] = '"';
    memcpy(line + SC_AT_LINE_MAX, "\r\n", 2);
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_feed(&x->at, line, SC_AT_LINE_MAX + 2, 1000);
    assert_string_equal(x->out, "+CME ERROR:204\r\n");  /* parsed: ssid too long */
    line[SC_AT_LINE_MAX] = '"';
    memcpy(line + SC_AT_LINE_MAX + 1, "\r\n", 2);
    x->outlen = 0;
    x->out[0] = 0;
    x->out[0] = 0;
    sc_at_feed(&x->at, line, SC_AT_LINE_MAX + 3, 1000);
    assert_string_equal(x->out, "ERROR\r\n");           /* over the cap */
    /* random garbage never crashes and the parser comes back */
    uint32_t seed = 12345;
    for (int i = 0; i < 20000; i++) {
        uint8_t b[64];
        for (size_t k = 0; k < sizeof b; k++) {
            seed = seed * 1103515245u + 12345u;
            b[k] = (uint8_t)(seed >> 16);
        }
        sc_at_feed(&x->at, b, sizeof b, 1000);
        x->outlen = 0;
        x->out[0] = 0;
    }
    sc_at_feed(&x->at, "\r\n", 2, 1000);
    cmd(x, "ATE0\r\n");
    assert_string_equal(cmd(x, "AT\r\n"), "OK\r\n");
    assert_int_equal(x->f.restore, 0);
}

/* ESP-AT basics: reply formats as ESP8266 AT prints them; bad input -> ERROR, nothing changed. */
static void test_esp_basics(void **state)
{
    fix_t *x = *state;
    /* not joined */
    assert_string_equal(cmd(x, "AT+CWJAP?\r\n"), "No AP\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+CIPSTA?\r\n"),
                        "+CIPSTA:ip:\"0.0.0.0\"\r\n+CIPSTA:gateway:\"0.0.0.0\"\r\n+CIPSTA:netmask:\"0.0.0.0\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+CIPSTATUS\r\n"), "STATUS:5\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+SYSRAM?\r\n"), "+SYSRAM:40960\r\nOK\r\n");
    /* CWMODE */
    assert_string_equal(cmd(x, "AT+CWMODE?\r\n"), "+CWMODE:1\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+CWMODE=?\r\n"), "+CWMODE:(0-3)\r\nOK\r\n");
    static const char *const bad_mode[] = { "AT+CWMODE=4\r\n", "AT+CWMODE=-1\r\n", "AT+CWMODE=\"1\"\r\n",
                                            "AT+CWMODE=1,1\r\n", "AT+CWMODE=\r\n", "AT+CWMODE\r\n", "AT+CWMODE=x\r\n" };
    for (size_t i = 0; i < sizeof bad_mode / sizeof bad_mode[0]; i++)
        assert_string_equal(cmd(x, bad_mode[i]), "ERROR\r\n");
    assert_string_equal(cmd(x, "AT+CWMODE?\r\n"), "+CWMODE:1\r\nOK\r\n");
    /* station off: CWJAP refused */
    assert_string_equal(cmd(x, "AT+CWMODE=2\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+CWJAP=\"ap\",\"password1\"\r\n"), "ERROR\r\n");
    assert_int_equal(x->f.joins, 0);
    assert_string_equal(cmd(x, "AT+CWMODE=1\r\n"), "OK\r\n");
    /* CWJAP bad input */
    static const char *const bad_jap[] = {
        "AT+CWJAP=\"ap\"\r\n", "AT+CWJAP=\"\",\"password1\"\r\n", "AT+CWJAP=\"ap\",1\r\n",
        "AT+CWJAP=\"012345678901234567890123456789012\",\"password1\"\r\n",   /* 33 */
        "AT+CWJAP=\"ap\",\"pw\",\"x\",1\r\n", "AT+CWJAP\r\n", "AT+CWJAP=?\r\n", "AT+CWJAP=\"ap\",\"pw\r\n",
    };
    for (size_t i = 0; i < sizeof bad_jap / sizeof bad_jap[0]; i++)
        assert_string_equal(cmd(x, bad_jap[i]), "ERROR\r\n");
    assert_int_equal(x->f.joins, 0);
    /* failure codes */
    x->f.join_ret = SC_AT_CWJAP_PASSWORD;
    assert_string_equal(cmd(x, "AT+CWJAP=\"ap\",\"wrongpass\"\r\n"), "+CWJAP:2\r\nFAIL\r\n");
    /* pending join: busy meanwhile, then the ESP-AT success lines */
    x->f.join_ret = SC_AT_PENDING;
    assert_string_equal(cmd(x, "AT+CWJAP=\"my ap\",\"password1\"\r\n"), "");
    assert_false(sc_at_mqtt_waiting(&x->at));   /* a join takes seconds: no fast loop for it */
    assert_string_equal(x->f.join_psw, "password1");
    assert_string_equal(cmd(x, "AT+CIPSTATUS\r\n"), "busy p...\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    x->f.joined = true;
    sc_at_complete(&x->at, 0);
    assert_string_equal(x->out, "WIFI CONNECTED\r\nWIFI GOT IP\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+CWJAP?\r\n"), "+CWJAP:\"my ap\",\"02:11:22:33:44:a5\",6,-42\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+CIPSTA?\r\n"),
                        "+CIPSTA:ip:\"10.0.0.7\"\r\n+CIPSTA:gateway:\"10.0.0.1\"\r\n+CIPSTA:netmask:\"255.255.255.0\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+CIPSTATUS\r\n"), "STATUS:2\r\nOK\r\n");
    /* a pending join that never ends: +CWJAP:1 (timeout) */
    assert_string_equal(cmd(x, "AT+CWJAP=\"ap2\",\"\"\r\n"), "");
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_tick(&x->at, 1000 + 30000);
    assert_string_equal(x->out, "+CWJAP:1\r\nFAIL\r\n");
    /* CWQAP */
    x->f.joined = true;
    assert_string_equal(cmd(x, "AT+CWQAP\r\n"), "OK\r\nWIFI DISCONNECT\r\n");
    assert_string_equal(cmd(x, "AT+CWQAP\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+CWQAP=1\r\n"), "ERROR\r\n");
    /* SYSMSG */
    assert_string_equal(cmd(x, "AT+SYSMSG?\r\n"), "+SYSMSG:0\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+SYSMSG=8\r\n"), "ERROR\r\n");
    assert_string_equal(cmd(x, "AT+SYSMSG=3\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+SYSMSG?\r\n"), "+SYSMSG:3\r\nOK\r\n");
    /* UART_CUR */
    assert_string_equal(cmd(x, "AT+UART_CUR?\r\n"), "+UART_CUR:115200,8,1,0,0\r\nOK\r\n");
    static const char *const bad_uart[] = {
        "AT+UART_CUR=115200,8,1,0\r\n", "AT+UART_CUR=79,8,1,0,0\r\n", "AT+UART_CUR=115200,9,1,0,0\r\n",
        "AT+UART_CUR=115200,8,4,0,0\r\n", "AT+UART_CUR=115200,8,1,3,0\r\n", "AT+UART_CUR=115200,8,1,0,4\r\n",
        "AT+UART_CUR=\"115200\",8,1,0,0\r\n", "AT+UART_CUR=115200,8,1,0,0,0\r\n",
    };
    for (size_t i = 0; i < sizeof bad_uart / sizeof bad_uart[0]; i++)
        assert_string_equal(cmd(x, bad_uart[i]), "ERROR\r\n");
    assert_int_equal(x->f.uarts, 0);
    assert_string_equal(cmd(x, "AT+UART_CUR=115200,8,1,0,0\r\n"), "OK\r\n");   /* unchanged: no op */
    assert_int_equal(x->f.uarts, 0);
    assert_string_equal(cmd(x, "AT+UART_CUR=921600,8,1,0,0\r\n"), "ERROR\r\n"); /* the port cannot */
    assert_string_equal(cmd(x, "AT+UART_CUR?\r\n"), "+UART_CUR:115200,8,1,0,0\r\nOK\r\n");
    x->f.uart_ok = true;
    assert_string_equal(cmd(x, "AT+UART_CUR=921600,8,1,0,0\r\n"), "OK\r\n");
    assert_int_equal(x->f.uart_baud, 921600);
    assert_string_equal(cmd(x, "AT+UART_CUR?\r\n"), "+UART_CUR:921600,8,1,0,0\r\nOK\r\n");
    /* RST: OK, ops reset, settings back to power-on, "ready" */
    assert_string_equal(cmd(x, "AT+CWMODE=3\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT+RST\r\n"), "OK\r\nready\r\n");
    assert_int_equal(x->f.resets, 1);
    assert_string_equal(cmd(x, "AT+CWMODE?\r\n"), "+CWMODE:1\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+SYSMSG?\r\n"), "+SYSMSG:0\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+RST=1\r\n"), "ERROR\r\n");
    assert_string_equal(cmd(x, "AT+RST?\r\n"), "ERROR\r\n");
    /* RESTORE: also forgets the station; the Tencent info stays */
    set_devinfo(x);
    x->f.joined = true;
    int quits = x->f.quits;
    assert_string_equal(cmd(x, "AT+RESTORE\r\n"), "OK\r\nready\r\n");
    assert_int_equal(x->f.quits, quits + 1);
    assert_non_null(sc_at_devinfo(&x->at));
    check_no_secret(x);
}

/* The test form names the command without "AT" (the reference's test report). */
static void test_test_forms(void **state)
{
    fix_t *x = *state;
    assert_string_equal(cmd(x, "AT+TCPRDINFOSET=?\r\n"),
                        "+TCPRDINFOSET:\"TLS_MODE(1)\",\"PRODUCT_ID\",\"PRODUCT_SECRET_BCC\",\"DEVICE_NAME\","
                        "\"PRODUCT_REGION\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCFWINFO?\r\n"), "+CME ERROR:205\r\n");
}

/* The MQTT session up: device info stored, AT+TCMQTTCONN answered OK and connected. */
static void mqtt_up(fix_t *x)
{
    set_devinfo(x);
    assert_string_equal(cmd(x, "AT+TCMQTTCONN=1,5000,240,1,1\r\n"), "OK\r\n+TCMQTTCONN:OK\r\n");
}

/* AT+TCGWBIND's answer from the broker is read like every network JSON the core parses: a
 * result with a NUL in a name (cJSON would cut "sub_device1\u0000x" to the bound name) or
 * nested deeper than any answer is not the answer; the real one after them still is. */
static void test_gw_result_hostile(void **state)
{
    fix_t *x = *state;
    mqtt_up(x);
    assert_string_equal(cmd(x, "AT+TCGWBIND=0,\"SUBPROD001\",\"sub_device1\",\"MDEyMzQ1Njc4OWFiY2RlZg==\"\r\n"),
                        "OK\r\n");
    assert_string_equal(x->f.pub_topic, "$gateway/operation/PID0123456/dev-001");
    static const char rt[] = "$gateway/operation/result/PID0123456/dev-001";
    static const char *const hostile[] = {
        "{\"type\":\"bind\",\"payload\":{\"devices\":[{\"product_id\":\"SUBPROD001\","
        "\"device_name\":\"sub_device1\\u0000x\",\"result\":0}]}}",
        "{\"type\":\"bind\",\"payload\":{\"devices\":[{\"product_id\":\"SUBPROD001\","
        "\"device_name\":\"sub_device1\",\"result\":0,\"x\":[[[[[[[[]]]]]]]]}]}}",
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        x->outlen = 0;
        x->out[0] = 0;
        sc_at_mqtt_received(&x->at, rt, hostile[i], strlen(hostile[i]));
        assert_string_equal(x->out, "");   /* not an answer: the bind still waits */
    }
    static const char good[] = "{\"type\":\"bind\",\"payload\":{\"devices\":[{\"product_id\":\"SUBPROD001\","
                               "\"device_name\":\"sub_device1\",\"result\":0}]}}";
    sc_at_mqtt_received(&x->at, rt, good, strlen(good));
    assert_string_equal(x->out, "+TCGWBIND:OK\r\n");
}

/* The gateway commands check the state before the parameters, as every other command. */
static void test_gw_state_first(void **state)
{
    fix_t *x = *state;
    assert_string_equal(cmd(x, "AT+TCGWBIND=2,\"SUBP\",\"sub1\"\r\n"), "+CME ERROR:208\r\n");
    assert_string_equal(cmd(x, "AT+TCGWONLINE=0,\"SUBP\"\r\n"), "+CME ERROR:208\r\n");
    mqtt_up(x);
    assert_string_equal(cmd(x, "AT+TCGWBIND=2,\"SUBP\",\"sub1\"\r\n"), "+CME ERROR:204\r\n");
    assert_string_equal(cmd(x, "AT+TCGWONLINE=0,\"SUBP\",\"sub,1\"\r\n"), "+CME ERROR:204\r\n");
    /* the online list as the firmware prints it: one quoted "P,D" */
    assert_string_equal(cmd(x, "AT+TCGWONLINE=0,\"SUBP\",\"sub1\"\r\n"), "OK\r\n");
    static const char ans[] = "{\"type\":\"online\",\"payload\":{\"devices\":[{\"product_id\":\"SUBP\","
                              "\"device_name\":\"sub1\",\"result\":0}]}}";
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_mqtt_received(&x->at, "$gateway/operation/result/PID0123456/dev-001", ans, strlen(ans));
    assert_string_equal(x->out, "+TCGWONLINE:OK\r\n");
    assert_string_equal(cmd(x, "AT+TCGWONLINE?\r\n"), "+TCGWONLINE:\"SUBP,sub1\"\r\nOK\r\n");
}

/* A result that is not an integer code (cJSON's valueint reads 0.5 as 0, 1e10 as INT_MAX) is a
 * bad reply, 209, not success: the sub-device is not taken as bound. */
static void test_gw_result_not_integer(void **state)
{
    fix_t *x = *state;
    mqtt_up(x);
    static const char rt[] = "$gateway/operation/result/PID0123456/dev-001";
    static const char *const res[] = { "0.5", "1e10", "-2147483649", "2147483647", "-2147483648", "1e3" };
    static const char *const want[] = { "209", "209", "209", "2147483647", "-2147483648", "1000" };
    for (size_t i = 0; i < sizeof res / sizeof res[0]; i++) {
        assert_string_equal(cmd(x, "AT+TCGWBIND=0,\"SUBP\",\"sub1\",\"MDEyMzQ1Njc4OWFiY2RlZg==\"\r\n"), "OK\r\n");
        char m[256], w[64];
        snprintf(m, sizeof m, "{\"type\":\"bind\",\"payload\":{\"devices\":[{\"product_id\":\"SUBP\","
                 "\"device_name\":\"sub1\",\"result\":%s}]}}", res[i]);
        snprintf(w, sizeof w, "+TCGWBIND:FAIL,%s\r\n", want[i]);
        x->outlen = 0;
        x->out[0] = 0;
        sc_at_mqtt_received(&x->at, rt, m, strlen(m));
        assert_string_equal(x->out, w);
    }
    assert_string_equal(cmd(x, "AT+TCGWBIND?\r\n"), "OK\r\n");   /* none taken as bound */
}

#define T "PID0123456/dev-001/data"

/* MQTT data channel: PUB/PUBL/PUBRAW/SUB/UNSUB/SUB?, RCVPUB, limits and state errors. */
static void test_mqtt_data(void **state)
{
    fix_t *x = *state;
    /* test forms (the PDF, without "AT") */
    assert_string_equal(cmd(x, "AT+TCMQTTPUB=?\r\n"), "+TCMQTTPUB: \"TOPIC_NAME(maxlen 128)\", \"QOS(0/1)\",\"PAYLOAD\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTPUBL=?\r\n"), "+TCMQTTPUBL: \"TOPIC_NAME(maxlen 128)\", \"QOS(0/1)\",\"LEN(1-2048)\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTPUBRAW=?\r\n"), "+TCMQTTPUBRAW: \"TOPIC_NAME(maxlen 128)\", \"QOS(0/1)\",\"LEN(1-2048)\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=?\r\n"), "+TCMQTTSUB:\"TOPIC_NAME(maxlen 128)\",\"QOS(0/1)\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTUNSUB=?\r\n"), "+TCMQTTUNSUB:\"TOPIC_NAME\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSRV=?\r\n"), "+TCMQTTSRV:\"MQTT SERVER IP\"\r\nOK\r\n");
    /* not connected: 208 before any parameter check, nothing called */
    static const char *const down[] = { "AT+TCMQTTPUB=\"" T "\",0,\"x\"\r\n", "AT+TCMQTTPUBL=\"" T "\",0,5\r\n",
                                        "AT+TCMQTTPUBRAW=\"" T "\",0,5\r\n", "AT+TCMQTTSUB=\"" T "\",0\r\n",
                                        "AT+TCMQTTUNSUB=\"" T "\"\r\n", "AT+TCMQTTPUB=1\r\n" };
    for (size_t i = 0; i < sizeof down / sizeof down[0]; i++)
        assert_string_equal(cmd(x, down[i]), "+CME ERROR:208\r\n");
    assert_int_equal(x->f.pubs + x->f.subs + x->f.unsubs, 0);
    assert_string_equal(cmd(x, "AT+TCMQTTSUB?\r\n"), "OK\r\n");
    /* connect */
    mqtt_up(x);
    /* bad parameters: 204, nothing sent */
    static const char *const bad[] = {
        "AT+TCMQTTPUB=\"" T "\",2,\"x\"\r\n", "AT+TCMQTTPUB=\"" T "\",0\r\n", "AT+TCMQTTPUB=\"" T "\",0,\"x\",1\r\n",
        "AT+TCMQTTPUB=\"\",0,\"x\"\r\n", "AT+TCMQTTPUB=\"a/+/b\",0,\"x\"\r\n", "AT+TCMQTTPUB=\"" T "\",\"0\",\"x\"\r\n",
        "AT+TCMQTTPUB=\"" T "\",0,5\r\n",
        "AT+TCMQTTPUB=\"012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
        "0123456789012345678901234567890123456789\",0,\"x\"\r\n",   /* topic 129 */
        "AT+TCMQTTPUBL=\"" T "\",0,0\r\n", "AT+TCMQTTPUBL=\"" T "\",0,2049\r\n", "AT+TCMQTTPUBL=\"" T "\",1,\"5\"\r\n",
        "AT+TCMQTTPUBRAW=\"" T "\",-1,5\r\n", "AT+TCMQTTSUB=\"" T "\"\r\n", "AT+TCMQTTSUB=\"" T "\",3\r\n",
        "AT+TCMQTTSUB=" T ",0\r\n", "AT+TCMQTTUNSUB=\"" T "\",0\r\n", "AT+TCMQTTUNSUB=\"\"\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *r = cmd(x, bad[i]);
        if (strcmp(r, "+CME ERROR:204\r\n") && strcmp(r, "ERROR\r\n"))
            fail_msg("case %zu: %s -> %s", i, bad[i], r);
    }
    assert_int_equal(x->f.pubs + x->f.subs + x->f.unsubs, 0);
    /* PUB: escapes decoded, QoS 0 at once */
    assert_string_equal(cmd(x, "AT+TCMQTTPUB=\"" T "\",0,\"{\\\"a\\\":1\\,\\\"b\\\":2}\"\r\n"), "OK\r\n+TCMQTTPUB:OK\r\n");
    assert_string_equal(x->f.pub_topic, T);
    assert_int_equal(x->f.pub_len, 13);
    assert_memory_equal(x->f.pub_payload, "{\"a\":1,\"b\":2}", 13);
    /* a multi-line payload (the test tool's JSON) */
    assert_string_equal(cmd(x, "AT+TCMQTTPUB=\"" T "\",0,\"{\\\"a\\\":1\\,\n  \\\"b\\\":2}\"\r\n"), "OK\r\n+TCMQTTPUB:OK\r\n");
    assert_int_equal(x->f.pub_len, 16);
    /* LF anywhere else: ERROR */
    assert_string_equal(cmd(x, "AT+TCMQTTPUB=\"a\nb\",0,\"x\"\r\n"), "ERROR\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"" T "\",\n0\r\n"), "ERROR\r\n");
    /* QoS 1 waits for the PUBACK: busy meanwhile; a missing PUBACK -> FAIL,202 */
    x->f.pub_ret = SC_AT_PENDING;
    assert_string_equal(cmd(x, "AT+TCMQTTPUB=\"" T "\",1,\"hello\"\r\n"), "OK\r\n");
    assert_string_equal(cmd(x, "AT\r\n"), "busy p...\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_complete(&x->at, 0);
    assert_string_equal(x->out, "+TCMQTTPUB:OK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTPUB=\"" T "\",1,\"hello\"\r\n"), "OK\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_tick(&x->at, 1000 + 4999);
    assert_string_equal(x->out, "");
    sc_at_tick(&x->at, 1000 + 5000);   /* AT+TCMQTTCONN's <cmdtimeout> */
    assert_string_equal(x->out, "+TCMQTTPUB:FAIL,202\r\n");
    x->f.pub_ret = 0;
    /* PUBL: CR/LF inside the payload, escapes decoded, the trailing CRLF an empty line */
    int pubs = x->f.pubs;
    assert_string_equal(cmd(x, "AT+TCMQTTPUBL=\"" T "\",1,15\r\n"), "OK\r\n>\r\n");
    assert_string_equal(cmd(x, "ab\r\ncd\n\\\"e\\,f\\\\"), "+TCMQTTPUBL:OK\r\n");
    assert_int_equal(x->f.pubs, pubs + 1);
    assert_int_equal(x->f.pub_len, 12);
    assert_memory_equal(x->f.pub_payload, "ab\r\ncd\n\"e,f\\", 12);
    assert_string_equal(cmd(x, "\r\n"), "");
    /* PUBRAW: bytes untouched, any value */
    assert_string_equal(cmd(x, "AT+TCMQTTPUBRAW=\"" T "\",0,4\r\n"), "OK\r\n>\r\n");
    x->outlen = 0;
    sc_at_feed(&x->at, "\x00\\\"\xff", 4, 1000);
    assert_string_equal(x->out, "+TCMQTTPUBRAW:OK\r\n");
    assert_memory_equal(x->f.pub_payload, "\x00\\\"\xff", 4);
    /* a payload that never comes: +CME ERROR:202 after 20 s, nothing published, line usable */
    pubs = x->f.pubs;
    assert_string_equal(cmd(x, "AT+TCMQTTPUBL=\"" T "\",0,100\r\n"), "OK\r\n>\r\n");
    assert_string_equal(cmd(x, "AT\r\n"), "");   /* payload bytes */
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_tick(&x->at, 1000 + 19999);
    assert_string_equal(x->out, "");
    sc_at_tick(&x->at, 1000 + SC_AT_PUBL_TIMEOUT_MS);
    assert_string_equal(x->out, "+CME ERROR:202\r\n");
    assert_int_equal(x->f.pubs, pubs);
    assert_string_equal(cmd(x, "AT\r\n"), "OK\r\n");
    /* "+++\r\n" cancels */
    assert_string_equal(cmd(x, "AT+TCMQTTPUBL=\"" T "\",0,100\r\n"), "OK\r\n>\r\n");
    assert_string_equal(cmd(x, "+++\r\n"), "+CME ERROR:209\r\n");
    assert_int_equal(x->f.pubs, pubs);
    assert_string_equal(cmd(x, "AT\r\n"), "OK\r\n");
    /* SUB / SUB? / UNSUB, list order kept */
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"$sys/operation/result/PID0123456/dev-001\",0\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"" T "\",1\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"PID0123456/dev-001/control\",0\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    x->f.sub_ret = -108;
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"PID0123456/other/event\",0\r\n"), "OK\r\n+TCMQTTSUB:FAIL,-108\r\n");
    x->f.sub_ret = 0;
    assert_string_equal(cmd(x, "AT+TCMQTTSUB?\r\n"),
                        "+TCMQTTSUB:\"$sys/operation/result/PID0123456/dev-001\",0\r\n+TCMQTTSUB:\"" T "\",1\r\n"
                        "+TCMQTTSUB:\"PID0123456/dev-001/control\",0\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTUNSUB=\"" T "\"\r\n"), "OK\r\n+TCMQTTUNSUB:OK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTUNSUB=\"" T "\"\r\n"), "OK\r\n+TCMQTTUNSUB:FAIL,-121\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB?\r\n"),
                        "+TCMQTTSUB:\"$sys/operation/result/PID0123456/dev-001\",0\r\n"
                        "+TCMQTTSUB:\"PID0123456/dev-001/control\",0\r\nOK\r\n");
    /* pending SUB answered later */
    x->f.sub_ret = SC_AT_PENDING;
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"a/b\",0\r\n"), "OK\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    sc_at_complete(&x->at, -108);
    assert_string_equal(x->out, "+TCMQTTSUB:FAIL,-108\r\n");
    x->f.sub_ret = 0;
    /* at most 10 */
    char line[64];
    for (int i = 0; i < 8; i++) {
        snprintf(line, sizeof line, "AT+TCMQTTSUB=\"t/%d\",0\r\n", i);
        assert_string_equal(cmd(x, line), "OK\r\n+TCMQTTSUB:OK\r\n");
    }
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"t/8\",0\r\n"), "OK\r\n+TCMQTTSUB:FAIL,-107\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"t/7\",1\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");   /* same topic: qos */
    int q = -1;
    assert_string_equal(sc_at_subscription(&x->at, 9, &q), "t/7");
    assert_int_equal(q, 1);
    assert_null(sc_at_subscription(&x->at, 10, &q));
    /* RCVPUB: payload as received */
    x->outlen = 0;
    x->out[0] = 0;
    assert_true(sc_at_mqtt_received(&x->at, "PID0123456/dev-001/control", "{\"action\":\"x\"}", 14));
    assert_string_equal(x->out, "+TCMQTTRCVPUB:\"PID0123456/dev-001/control\",14,\"{\"action\":\"x\"}\"\r\n");
    /* none on a topic no subscription matches (T was unsubscribed above): a broker's, or one
     * still in flight, as the reference's SDK drops it (F106) */
    x->outlen = 0;
    x->out[0] = 0;
    assert_false(sc_at_mqtt_received(&x->at, T, "{\"action\":\"x\"}", 14));
    assert_string_equal(x->out, "");
    /* SRV: the broker is the port's (--broker) */
    assert_string_equal(cmd(x, "AT+TCMQTTSRV=\"10.0.0.1\"\r\n"), "+CME ERROR:208\r\n");
    /* disconnect ends the subscriptions */
    assert_string_equal(cmd(x, "AT+TCMQTTDISCONN\r\n"), "+TCMQTTDISCON,2\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB?\r\n"), "OK\r\n");
    check_no_secret(x);
}

/* A topic from the broker the host could not read back as sent (F102): whoever publishes under
 * a wildcard subscription chooses it. A quote or a comma would end the topic early for the
 * host's parser (the rest of the line: another topic, another length), a CR or LF would end
 * the line (whole fake lines: OK, +TCMQTTDISCON). Nothing printed, false to the caller; a
 * topic the host subscribed to exactly passes as it is; the payload is never touched. */
static void test_rcvpub_hostile_topic(void **state)
{
    fix_t *x = *state;
    mqtt_up(x);
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"PID0123456/dev-001/#\",0\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    static const char *const hostile[] = {
        "PID0123456/dev-001/x\",3,\"abc",               /* a fake length and payload */
        "PID0123456/dev-001/x,5,hello",                   /* a comma-splitting host's fields */
        "PID0123456/dev-001/x\r\nOK\r\n+TCMQTTDISCON,-103", /* whole lines */
        "PID0123456/dev-001/\n",
        "PID0123456/dev-001/\r",
        "PID0123456/dev-001/\x01",
        "PID0123456/dev-001/\x7f",
        "PID0123456/dev-001/\t",
        "",
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        x->outlen = 0;
        x->out[0] = 0;
        assert_false(sc_at_mqtt_received(&x->at, hostile[i], "hello", 5));
        assert_string_equal(x->out, "");
    }
    /* UTF-8, spaces, '$', '\\', a quote-free payload holding CR LF and quotes: as received */
    x->outlen = 0;
    x->out[0] = 0;
    assert_true(sc_at_mqtt_received(&x->at, "PID0123456/dev-001/\xe6\xb8\xa9 a\\b", "a\r\nOK\",\"", 8));
    assert_string_equal(x->out, "+TCMQTTRCVPUB:\"PID0123456/dev-001/\xe6\xb8\xa9 a\\b\",8,\"a\r\nOK\",\"\"\r\n");
    /* a topic the host subscribed to exactly passes, quote and comma included */
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"odd/a\\,b\\\"c\",0\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    assert_true(sc_at_mqtt_received(&x->at, "odd/a,b\"c", "x", 1));
    assert_string_equal(x->out, "+TCMQTTRCVPUB:\"odd/a,b\"c\",1,\"x\"\r\n");
    /* but not another under a wildcard beside it */
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"odd/#\",0\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    x->outlen = 0;
    x->out[0] = 0;
    assert_false(sc_at_mqtt_received(&x->at, "odd/a,b\"d", "x", 1));
    assert_string_equal(x->out, "");
    check_no_secret(x);
}

/* Which received topics reach the host (F106): only those a subscription of the host matches,
 * with MQTT's wildcards ('+' one level, possibly empty; '#' last, the parent included; no
 * wildcard first for a '$' topic); a SUB still waiting for its SUBACK: test_rcvpub_sub_pending. */
static void test_rcvpub_only_subscribed(void **state)
{
    fix_t *x = *state;
    mqtt_up(x);
    static const struct {
        const char *filter, *yes[4], *no[4];
    } cases[] = {
        { "a/b", { "a/b" }, { "a", "a/b/c", "a/bc", "A/b" } },
        { "p/+/q", { "p/x/q", "p//q" }, { "p/q", "p/x/y/q", "p/x/qq", "p/x" } },
        { "w/#", { "w", "w/", "w/a", "w/a/b" }, { "ww", "x/w", "$w/a" } },
        { "+/x", { "a/x", "/x" }, { "x", "a/b/x", "$sys/x" } },
        { "#", { "a", "a/b/c", "/" }, { "$sys/a", "$ota/update/P/D" } },
        { "e/+", { "e/a", "e/" }, { "e", "e/a/b" } },
        { "s/", { "s/" }, { "s", "s/a" } },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char line[64];
        snprintf(line, sizeof line, "AT+TCMQTTSUB=\"%s\",0\r\n", cases[c].filter);
        assert_string_equal(cmd(x, line), "OK\r\n+TCMQTTSUB:OK\r\n");
        for (size_t i = 0; i < 4 && cases[c].yes[i]; i++) {
            x->outlen = 0;
            x->out[0] = 0;
            if (!sc_at_mqtt_received(&x->at, cases[c].yes[i], "m", 1))
                fail_msg("filter %s: topic %s not printed", cases[c].filter, cases[c].yes[i]);
        }
        for (size_t i = 0; i < 4 && cases[c].no[i]; i++)
            if (sc_at_mqtt_received(&x->at, cases[c].no[i], "m", 1))
                fail_msg("filter %s: topic %s printed", cases[c].filter, cases[c].no[i]);
        snprintf(line, sizeof line, "AT+TCMQTTUNSUB=\"%s\"\r\n", cases[c].filter);
        assert_string_equal(cmd(x, line), "OK\r\n+TCMQTTUNSUB:OK\r\n");
    }
    check_no_secret(x);
}

static void clear_out(fix_t *x)
{
    x->outlen = 0;
    x->out[0] = 0;
}

/* A SUB's topic delivers only once the broker granted it (the SDK adds the handler at the
 * SUBACK, _handle_suback_packet): nothing while the SUBACK is awaited, nothing after a SUBACK
 * that refuses (0x80) or never comes; a later SUB of the same topic works. A topic already
 * listed (a SUB that changes its QoS) goes on delivering meanwhile. */
static void test_rcvpub_sub_pending(void **state)
{
    fix_t *x = *state;
    mqtt_up(x);
    x->f.sub_ret = SC_AT_PENDING;
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"r/+\",0\r\n"), "OK\r\n");
    clear_out(x);
    assert_false(sc_at_mqtt_received(&x->at, "r/1", "m", 1));
    assert_string_equal(x->out, "");
    sc_at_complete(&x->at, 0);
    assert_string_equal(x->out, "+TCMQTTSUB:OK\r\n");
    clear_out(x);
    assert_true(sc_at_mqtt_received(&x->at, "r/1", "m", 1));
    assert_string_equal(x->out, "+TCMQTTRCVPUB:\"r/1\",1,\"m\"\r\n");
    assert_false(sc_at_mqtt_received(&x->at, "r/1/2", "m", 1));
    /* refused (SUBACK 0x80): not delivered before, nor after */
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"n/#\",1\r\n"), "OK\r\n");
    assert_false(sc_at_mqtt_received(&x->at, "n/a", "m", 1));
    clear_out(x);
    sc_at_complete(&x->at, -108);
    assert_string_equal(x->out, "+TCMQTTSUB:FAIL,-108\r\n");
    assert_false(sc_at_mqtt_received(&x->at, "n/a", "m", 1));
    assert_string_equal(cmd(x, "AT+TCMQTTSUB?\r\n"), "+TCMQTTSUB:\"r/+\",0\r\nOK\r\n");
    /* no SUBACK within <cmdtimeout>: the same */
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"n/#\",1\r\n"), "OK\r\n");
    clear_out(x);
    sc_at_tick(&x->at, 1000 + 5000);
    assert_string_equal(x->out, "+TCMQTTSUB:FAIL,202\r\n");
    assert_false(sc_at_mqtt_received(&x->at, "n/a", "m", 1));
    sc_at_complete(&x->at, 0);   /* the SUBACK, late: nothing waits for it */
    assert_false(sc_at_mqtt_received(&x->at, "n/a", "m", 1));
    /* a SUB of a listed topic (new QoS): it still delivers while its SUBACK is awaited */
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"r/+\",1\r\n"), "OK\r\n");
    assert_true(sc_at_mqtt_received(&x->at, "r/2", "m", 1));
    sc_at_complete(&x->at, 0);
    /* and the topic refused before, asked for again and granted, delivers */
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"n/#\",1\r\n"), "OK\r\n");
    clear_out(x);
    sc_at_complete(&x->at, 0);
    assert_true(sc_at_mqtt_received(&x->at, "n/a", "m", 1));
    assert_string_equal(x->out, "+TCMQTTSUB:OK\r\n+TCMQTTRCVPUB:\"n/a\",1,\"m\"\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB?\r\n"), "+TCMQTTSUB:\"r/+\",1\r\n+TCMQTTSUB:\"n/#\",1\r\nOK\r\n");
    x->f.sub_ret = 0;
    check_no_secret(x);
}

/* F107: from AT+TCMQTTUNSUB on, the subscription it takes away prints nothing (the reference's
 * SDK removes it from its table when it sends the UNSUBSCRIBE, not at the UNSUBACK); another
 * subscription that also matches still prints. An UNSUB that ends FAIL (refused, no UNSUBACK
 * in time, the session gone) has taken it away all the same: not listed, not printed; a
 * later SUB of the topic subscribes it anew. */
static void test_rcvpub_unsub_in_flight(void **state)
{
    fix_t *x = *state;
    mqtt_up(x);
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"u/#\",0\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"u/keep\",0\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"q/a,b\",0\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    assert_true(sc_at_mqtt_received(&x->at, "u/1", "m", 1));
    x->f.unsub_ret = SC_AT_PENDING;
    assert_string_equal(cmd(x, "AT+TCMQTTUNSUB=\"u/#\"\r\n"), "OK\r\n");
    clear_out(x);
    assert_false(sc_at_mqtt_received(&x->at, "u/1", "m", 1));
    assert_true(sc_at_mqtt_received(&x->at, "u/keep", "k", 1));
    assert_string_equal(x->out, "+TCMQTTRCVPUB:\"u/keep\",1,\"k\"\r\n");
    sc_at_complete(&x->at, 0);
    assert_false(sc_at_mqtt_received(&x->at, "u/1", "m", 1));
    /* a topic with a comma, subscribed exactly: the same while its UNSUB waits */
    assert_string_equal(cmd(x, "AT+TCMQTTUNSUB=\"q/a,b\"\r\n"), "OK\r\n");
    assert_false(sc_at_mqtt_received(&x->at, "q/a,b", "m", 1));
    clear_out(x);
    sc_at_complete(&x->at, -1);   /* refused: gone all the same */
    assert_string_equal(x->out, "+TCMQTTUNSUB:FAIL,-1\r\n");
    assert_false(sc_at_mqtt_received(&x->at, "q/a,b", "m", 1));
    assert_string_equal(cmd(x, "AT+TCMQTTSUB?\r\n"), "+TCMQTTSUB:\"u/keep\",0\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTUNSUB=\"q/a,b\"\r\n"), "OK\r\n+TCMQTTUNSUB:FAIL,-121\r\n");
    /* no UNSUBACK within <cmdtimeout>: the same */
    assert_string_equal(cmd(x, "AT+TCMQTTUNSUB=\"u/keep\"\r\n"), "OK\r\n");
    clear_out(x);
    sc_at_tick(&x->at, 1000 + 5000);
    assert_string_equal(x->out, "+TCMQTTUNSUB:FAIL,202\r\n");
    assert_false(sc_at_mqtt_received(&x->at, "u/keep", "k", 1));
    assert_string_equal(cmd(x, "AT+TCMQTTSUB?\r\n"), "OK\r\n");
    /* an UNSUB the MQTT client could not send at all (FAIL at once): the same */
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"u/keep\",1\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    x->f.unsub_ret = -103;
    assert_string_equal(cmd(x, "AT+TCMQTTUNSUB=\"u/keep\"\r\n"), "OK\r\n+TCMQTTUNSUB:FAIL,-103\r\n");
    assert_false(sc_at_mqtt_received(&x->at, "u/keep", "k", 1));
    x->f.unsub_ret = 0;
    /* subscribed again: delivers again */
    int subs = x->f.subs;
    assert_string_equal(cmd(x, "AT+TCMQTTSUB=\"u/keep\",1\r\n"), "OK\r\n+TCMQTTSUB:OK\r\n");
    assert_int_equal(x->f.subs, subs + 1);
    clear_out(x);
    assert_true(sc_at_mqtt_received(&x->at, "u/keep", "k", 1));
    assert_string_equal(x->out, "+TCMQTTRCVPUB:\"u/keep\",1,\"k\"\r\n");
    assert_string_equal(cmd(x, "AT+TCMQTTSUB?\r\n"), "+TCMQTTSUB:\"u/keep\",1\r\nOK\r\n");
    check_no_secret(x);
}

/* F108: AT+TCMQTTSUB refuses a filter MQTT 3.1.1 4.7.1 forbids ('#' not alone in the last level,
 * '+' not alone in its level) before it reaches the broker: a broker closes the session for it
 * (the host's other subscriptions go with it), and the receive check matched such a filter as
 * nothing it could mean ("#x" as "#", "a/#/b" as "a/#", "+xb" as "+/b"). */
static void test_sub_invalid_filter(void **state)
{
    fix_t *x = *state;
    mqtt_up(x);
    static const char *const bad[] = { "#x", "a/#/b", "a/b#", "a#", "#/", "+x", "+xb", "a/+b/c", "a/b+", "++", "+#", "#/#" };
    char line[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(line, sizeof line, "AT+TCMQTTSUB=\"%s\",0\r\n", bad[i]);
        if (strcmp(cmd(x, line), "+CME ERROR:204\r\n"))
            fail_msg("filter %s: %s", bad[i], x->out);
    }
    assert_int_equal(x->f.subs, 0);
    assert_string_equal(cmd(x, "AT+TCMQTTSUB?\r\n"), "OK\r\n");
    assert_false(sc_at_mqtt_received(&x->at, "a/y", "m", 1));
    /* while a SUB waits (as "+xb" did before): nothing an invalid filter could stand for */
    static const char *const good[] = { "#", "+", "+/+", "/", "a//b", "$SYS/#", "+/#", "a/+/#", "/+", "//" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(line, sizeof line, "AT+TCMQTTSUB=\"%s\",0\r\n", good[i]);
        if (strcmp(cmd(x, line), "OK\r\n+TCMQTTSUB:OK\r\n"))
            fail_msg("filter %s: %s", good[i], x->out);
    }
    assert_int_equal(x->f.subs, 10);
}

/* Probed and held: the matcher at the edges of MQTT 3.1.1 4.7 (case, UTF-8, '$' topics under
 * wildcards, a 128-byte filter against a 159-byte topic, the most the HAL hands on). */
static void test_rcvpub_matcher_edges(void **state)
{
    fix_t *x = *state;
    mqtt_up(x);
    static const struct {
        const char *filter, *yes[4], *no[4];
    } cases[] = {
        { "$SYS/#", { "$SYS", "$SYS/x", "$SYS/a/b" }, { "$sys/x", "SYS/x", "$SYSx" } },
        { "+/+", { "/x", "a/", "/" }, { "$thing/x", "a", "a/b/c" } },
        { "+/#", { "a", "/", "a/b/c" }, { "$thing/down/service/P/D", "$ota/update/P/D" } },
        { "$thing/down/+/P/D", { "$thing/down/service/P/D", "$thing/down//P/D" }, { "$thing/down/service/P/d", "$thing/down/a/b/P/D" } },
        { "\xc3\xa9t\xc3\xa9/+", { "\xc3\xa9t\xc3\xa9/x" }, { "\xc3\x89t\xc3\xa9/x", "ete/x", "\xc3\xa9t\xc3\xa9" } },
        { "Ab/cD", { "Ab/cD" }, { "ab/cd", "AB/CD" } },
    };
    char line[200];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(line, sizeof line, "AT+TCMQTTSUB=\"%s\",0\r\n", cases[c].filter);
        assert_string_equal(cmd(x, line), "OK\r\n+TCMQTTSUB:OK\r\n");
        for (size_t i = 0; i < 4 && cases[c].yes[i]; i++)
            if (!sc_at_mqtt_received(&x->at, cases[c].yes[i], "m", 1))
                fail_msg("filter %s: topic %s not printed", cases[c].filter, cases[c].yes[i]);
        for (size_t i = 0; i < 4 && cases[c].no[i]; i++)
            if (sc_at_mqtt_received(&x->at, cases[c].no[i], "m", 1))
                fail_msg("filter %s: topic %s printed", cases[c].filter, cases[c].no[i]);
        snprintf(line, sizeof line, "AT+TCMQTTUNSUB=\"%s\"\r\n", cases[c].filter);
        assert_string_equal(cmd(x, line), "OK\r\n+TCMQTTUNSUB:OK\r\n");
    }
    /* the longest filter (128 bytes, ending "/#") and the longest topic the HAL keeps (159) */
    char f[SC_AT_TOPIC_MAX + 1], t[160];
    memset(f, 'f', SC_AT_TOPIC_MAX);
    f[SC_AT_TOPIC_MAX] = 0;
    f[SC_AT_TOPIC_MAX - 2] = '/';
    f[SC_AT_TOPIC_MAX - 1] = '#';
    memset(t, 'f', sizeof t - 1);
    t[sizeof t - 1] = 0;
    t[SC_AT_TOPIC_MAX - 2] = '/';
    snprintf(line, sizeof line, "AT+TCMQTTSUB=\"%s\",0\r\n", f);
    assert_string_equal(cmd(x, line), "OK\r\n+TCMQTTSUB:OK\r\n");
    assert_true(sc_at_mqtt_received(&x->at, t, "m", 1));
    t[SC_AT_TOPIC_MAX - 2] = 'f';   /* one level of 159 bytes: its first 126 are not the level */
    assert_false(sc_at_mqtt_received(&x->at, t, "m", 1));
    t[SC_AT_TOPIC_MAX - 2] = 0;     /* the parent level: "a/#" takes "a" */
    assert_true(sc_at_mqtt_received(&x->at, t, "m", 1));
}

static void test_modinfo(void **state)
{
    fix_t *x = *state;
    assert_string_equal(cmd(x, "AT+TCMODINFOSET=?\r\n"),
                        "+TCMODINFOSET:\"MODULE NAME\",\"FLASH_SIZE (2/4)\",\"WIFI LED GPIO\",\"FW BASE ADDR\","
                        "\"FW MAX SIZE\",\"FIXED CONNID\"\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMODINFOSET?\r\n"), "+TCMODINFOSET:\"test-module\",4,0,1118208,716800,1\r\nOK\r\n");
    static const char *const bad[] = {
        "AT+TCMODINFOSET=\"ESP-WROOM-02D\",3,0,1118208,716800,1\r\n",
        "AT+TCMODINFOSET=\"ESP-WROOM-02D\",2,17,1118208,716800,1\r\n",
        "AT+TCMODINFOSET=\"ESP-WROOM-02D\",2,0,1118209,716800,1\r\n",
        "AT+TCMODINFOSET=\"ESP-WROOM-02D\",2,0,1114112,716800,1\r\n",
        "AT+TCMODINFOSET=\"ESP-WROOM-02D\",2,0,1118208,716801,1\r\n",
        "AT+TCMODINFOSET=\"ESP-WROOM-02D\",2,0,1118208,716800,2\r\n",
        "AT+TCMODINFOSET=\"ESP-WROOM-02D\",2,0,1118208,716800\r\n",
        "AT+TCMODINFOSET=\"0123456789012345678901234567890\",2,0,1118208,716800,1\r\n",
        "AT+TCMODINFOSET=2,2,0,1118208,716800,1\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_string_equal(cmd(x, bad[i]), "+CME ERROR:204\r\n");
    assert_string_equal(cmd(x, "AT+TCMODINFOSET?\r\n"), "+TCMODINFOSET:\"test-module\",4,0,1118208,716800,1\r\nOK\r\n");
    assert_string_equal(cmd(x, "AT+TCMODINFOSET=\"ESP-WROOM-02D\",2,0,1118208,716800,1\r\n"), "OK\r\n+TCMODINFOSET:OK\r\n");
    assert_string_equal(cmd(x, "AT+TCMODULE\r\n"),
                        "Module HW name: ESP-WROOM-02D\r\nModule FW version: 1.2.3\r\n"
                        "Module Mac addr: 24:0a:c4:00:01:fe\r\nModule Flash size: 2MB\r\nOK\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_basic, setup),
        cmocka_unit_test_setup(test_echo, setup_echo),
        cmocka_unit_test_setup(test_echo_busy_and_lf, setup_echo),
        cmocka_unit_test_setup(test_chunked, setup),
        cmocka_unit_test_setup(test_devinfo, setup),
        cmocka_unit_test_setup(test_devinfo_params, setup),
        cmocka_unit_test_setup(test_storage_failure, setup),
        cmocka_unit_test(test_record_codec),
        cmocka_unit_test_setup(test_prdinfo_devreg, setup),
        cmocka_unit_test_setup(test_dynreg_pending, setup),
        cmocka_unit_test_setup(test_dynreg_complete_dynreg, setup),
        cmocka_unit_test_setup(test_smartconfig, setup),
        cmocka_unit_test_setup(test_softap, setup),
        cmocka_unit_test_setup(test_mqtt, setup),
        cmocka_unit_test_setup(test_restore, setup),
        cmocka_unit_test_setup(test_esp_basics, setup),
        cmocka_unit_test_setup(test_test_forms, setup),
        cmocka_unit_test_setup(test_mqtt_data, setup),
        cmocka_unit_test_setup(test_rcvpub_hostile_topic, setup),
        cmocka_unit_test_setup(test_rcvpub_only_subscribed, setup),
        cmocka_unit_test_setup(test_rcvpub_sub_pending, setup),
        cmocka_unit_test_setup(test_rcvpub_unsub_in_flight, setup),
        cmocka_unit_test_setup(test_sub_invalid_filter, setup),
        cmocka_unit_test_setup(test_rcvpub_matcher_edges, setup),
        cmocka_unit_test_setup(test_gw_result_hostile, setup),
        cmocka_unit_test_setup(test_gw_result_not_integer, setup),
        cmocka_unit_test_setup(test_gw_state_first, setup),
        cmocka_unit_test_setup(test_modinfo, setup),
        cmocka_unit_test_setup(test_bad_lines, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
