/* SPDX-License-Identifier: Apache-2.0 */
/* The core's self-test on a Cortex-M4 (QEMU mps2-an386, run by scripts/test-m4.sh): the
 * ESP-TOUCH v1 vectors, the receiver on simulated air (clean, lossy, two phones), the device
 * state machine through the fake HAL to DONE, the UDP 8266 parser's bad-input matrix, the AT
 * parser, and the cloud credentials/HMAC/AES against known answers. The expected values are
 * the ones the host unit tests use (tests/unit/), so a target-specific difference (word size,
 * alignment, char signedness, libc) shows up here. Prints one line per check and ends with
 * "N passed, M failed"; the exit status is non-zero on any failure.
 * Portable C: it also builds on the host against the real cJSON and mbedTLS, which is how
 * the stand-ins in shim/ are checked against them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "et_vectors.h"
#include "flows.h"
#if defined(__arm__)
#include "m4.h"
#endif
#include "udp8266_bad.h"
#include "smartcfg/at.h"
#include "smartcfg/cloud.h"
#include "smartcfg/esptouch.h"

static unsigned passed, failed;
static const char *first_fail;
static int first_line;

/* A check is a named group of expectations: it passes when all of them held. */
#define EXPECT(c)                                                                                  \
    do {                                                                                           \
        if (!(c) && !first_fail) {                                                                 \
            first_fail = #c;                                                                       \
            first_line = __LINE__;                                                                 \
        }                                                                                          \
    } while (0)

static void end_check(const char *name)
{
    if (first_fail) {
        printf("FAIL %s: %s (selftest.c:%d)\n", name, first_fail, first_line);
        failed++;
    } else {
        printf("ok   %s\n", name);
        passed++;
    }
    first_fail = NULL;
}

/* ---- ESP-TOUCH v1 vectors (tests/support/et_vectors.h, shared with test_esptouch_encoder) */
static sc_et_encoder_t enc;

static void check_esptouch_vectors(void)
{
    EXPECT(sc_crc8("123456789", 9) == 0xA1);
    const uint8_t crc[4][3] = ET_VEC_CRC_PAIRS;
    for (int i = 0; i < 4; i++) {
        uint8_t pair[2] = { crc[i][0], crc[i][1] };
        EXPECT(sc_crc8(pair, 2) == crc[i][2]);
    }
    static const uint16_t outside[4][3] = ET_VEC_OUTSIDE;
    for (int i = 0; i < 4; i++) {
        uint16_t out[3];
        sc_et_datacode(crc[i][0], (uint8_t)(25 + i), out);
        EXPECT(memcmp(out, outside[i], sizeof out) == 0);
    }
    end_check("esptouch: CRC-8 and data codes");

    static const uint16_t cycle_a[] = ET_VEC_A_CYCLE;
    static const uint8_t datum_a[] = ET_VEC_A_DATUM;
    sc_et_creds_t c;
    et_vec_creds(&c, "TP-LINK_2.4G", "12345678");
    EXPECT(sc_et_encode(&enc, &c) == SC_OK);
    EXPECT(enc.t == 29);
    EXPECT(enc.cycle_len == sizeof cycle_a / sizeof cycle_a[0]);
    EXPECT(memcmp(enc.datum, datum_a, sizeof datum_a) == 0);
    EXPECT(memcmp(enc.cycle, cycle_a, sizeof cycle_a) == 0);
    end_check("esptouch: vector A (TP-LINK_2.4G / 12345678)");

    static const uint16_t cycle_b[] = ET_VEC_B_CYCLE;
    et_vec_creds(&c, "TP-LINK_2.4G", "");
    EXPECT(sc_et_encode(&enc, &c) == SC_OK);
    EXPECT(enc.t == 21);
    EXPECT(enc.cycle_len == sizeof cycle_b / sizeof cycle_b[0]);
    EXPECT(memcmp(enc.cycle, cycle_b, sizeof cycle_b) == 0);
    end_check("esptouch: vector B (empty password)");

    static const uint16_t head[] = ET_VEC_C_HEAD;
    static const uint16_t tail[] = ET_VEC_C_TAIL;
    et_vec_creds(&c, ET_VEC_C_SSID, ET_VEC_C_PASSWORD);
    EXPECT(sc_et_encode(&enc, &c) == SC_OK);
    EXPECT(enc.t == 105);
    EXPECT(enc.cycle_len == 333);
    EXPECT(memcmp(enc.cycle, head, sizeof head) == 0);
    EXPECT(memcmp(&enc.cycle[333 - 9], tail, sizeof tail) == 0);
    EXPECT(enc.datum[4] == 0x71);
    c.ssid_len = 33;
    EXPECT(sc_et_encode(&enc, &c) == SC_ERR_RANGE);
    c.ssid_len = 0;
    EXPECT(sc_et_encode(&enc, &c) == SC_ERR_RANGE);
    end_check("esptouch: vector C (32-byte SSID, 64-byte password) and limits");

    sc_et_ack_t a = { 23, { 0x24, 0x0a, 0xc4, 1, 2, 3 }, { 192, 168, 1, 50 } }, b;
    uint8_t buf[11];
    sc_et_ack_build(&a, buf);
    EXPECT(buf[0] == 23);
    EXPECT(sc_et_ack_parse(buf, 11, 23, &b) == SC_OK && memcmp(&a, &b, sizeof a) == 0);
    EXPECT(sc_et_ack_parse(buf, 11, 24, &b) == SC_ERR_PROTO);
    EXPECT(sc_et_ack_parse(buf, 12, 23, &b) == SC_ERR_FORMAT);
    uint8_t ip[4];
    sc_et_mcast_addr(199, ip);
    EXPECT(ip[0] == 234 && ip[3] == 100);
    end_check("esptouch: ack build/parse and multicast addresses");
}

/* ---- receiver on simulated air ------------------------------------------------------- */
static sc_air_t air, air2;
static sc_et_rx_t rx;

static bool same_creds(const sc_et_creds_t *a, const sc_et_creds_t *b)
{
    return a->ssid_len == b->ssid_len && !memcmp(a->ssid, b->ssid, a->ssid_len) &&
           a->password_len == b->password_len && !memcmp(a->password, b->password, a->password_len) &&
           !memcmp(a->bssid, b->bssid, 6) && !memcmp(a->phone_ip, b->phone_ip, 4);
}

/* Feeds one capture until the first result; returns the frames it took (0 = none). */
static unsigned decode_capture(const sc_air_config_t *cfg, sc_et_result_t *res)
{
    if (sc_air_init(&air, cfg) != SC_OK || sc_et_rx_init(&rx, NULL) != SC_OK)
        return 0;
    sc_frame_t f;
    uint32_t t;
    sc_et_event_t ev;
    unsigned n = 0;
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        n++;
        if (sc_et_rx_feed(&rx, &f, t, &ev) == SC_ET_EV_DONE) {
            *res = ev.result;
            return n;
        }
    }
    return 0;
}

static void check_receiver(void)
{
    sc_air_config_t cfg;
    sc_et_result_t res;
    sc_air_config_default(&cfg);
    unsigned n = decode_capture(&cfg, &res);
    EXPECT(n > 0);
    EXPECT(same_creds(&res.creds, &cfg.creds));
    EXPECT(res.t == 29 && res.channel == 6);
    EXPECT(memcmp(res.sender, cfg.phone_mac, 6) == 0);
    end_check("receiver: clean air (CCMP, both copies) -> vector A credentials");

    int ok = 0;
    for (uint32_t seed = 1; seed <= 3; seed++) {
        sc_air_config_default(&cfg);
        cfg.loss = 0.3;
        cfg.retry = 0.1;
        cfg.foreign = 1.0;
        cfg.seed = seed;
        cfg.start_ms = 5000u * seed;   /* joins mid-run: guide-less start */
        memset(&res, 0, sizeof res);
        ok += decode_capture(&cfg, &res) > 0 && same_creds(&res.creds, &cfg.creds);
    }
    EXPECT(ok == 3);
    end_check("receiver: 30 % loss, retries, foreign traffic, late starts (3 seeds)");

    /* two phones on the same AP, interleaved by air time; the receiver resumes after each */
    sc_air_config_t ca, cb;
    sc_air_config_default(&ca);
    sc_air_config_default(&cb);
    ca.loss = cb.loss = 0.1;
    cb.seed = 77;
    cb.phone_mac[5] ^= 0x5A;
    cb.creds.password_len = 11;
    memcpy(cb.creds.password, "other-phone", 11);
    cb.creds.phone_ip[3] = 101;
    EXPECT(sc_air_init(&air, &ca) == SC_OK && sc_air_init(&air2, &cb) == SC_OK);
    EXPECT(sc_et_rx_init(&rx, NULL) == SC_OK);
    sc_frame_t fa, fb;
    uint32_t ta = 0, tb = 0;
    bool ha = sc_air_next(&air, &fa, &ta) == SC_OK, hb = sc_air_next(&air2, &fb, &tb) == SC_OK;
    int got_a = 0, got_b = 0, mixed = 0;
    while (ha || hb) {
        bool use_a = ha && (!hb || ta <= tb);
        sc_et_event_t ev;
        if (sc_et_rx_feed(&rx, use_a ? &fa : &fb, use_a ? ta : tb, &ev) == SC_ET_EV_DONE) {
            if (same_creds(&ev.result.creds, &ca.creds))
                got_a++;
            else if (same_creds(&ev.result.creds, &cb.creds))
                got_b++;
            else
                mixed++;
            sc_et_rx_resume(&rx);
        }
        if (use_a)
            ha = sc_air_next(&air, &fa, &ta) == SC_OK;
        else
            hb = sc_air_next(&air2, &fb, &tb) == SC_OK;
    }
    EXPECT(got_a >= 1 && got_b >= 1);
    EXPECT(mixed == 0);
    end_check("receiver: two phones in one capture, both decoded, never mixed");
}

/* ---- device through the fake HAL ----------------------------------------------------- */
static const char IDENTITY[] =
    "{\"cmdType\":2,\"productId\":\"ABCDEFGHIJ\",\"deviceName\":\"dev1\",\"productRegion\":\"ap-guangzhou\","
    "\"protoVersion\":\"2.0\"}\r\n";

static const char *reply(const m4_dev_t *t, const char *ip, uint16_t port, size_t k)
{
    const fh_dgram_t *d = fh_nth_sent(&t->fh, ip, port, k);
    return d ? (const char *)d->data : "";
}

static m4_dev_t dt;

static void check_device(void)
{
    sc_air_config_t cfg;
    sc_air_config_default(&cfg);
    cfg.loss = 0.05;
    cfg.foreign = 0.5;
    EXPECT(m4_dev_init(&dt, NULL, NULL));
    EXPECT(sc_air_init(&air, &cfg) == SC_OK);
    EXPECT(m4_dev_sniff(&dt, &air));
    EXPECT(sc_device_state(dt.dev) == SC_DEV_JOINING);
    EXPECT(dt.fh.joins == 1 && dt.fh.join_ssid_len == 12 && !memcmp(dt.fh.join_ssid, "TP-LINK_2.4G", 12));
    EXPECT(dt.fh.join_pwd_len == 8 && !memcmp(dt.fh.join_pwd, "12345678", 8));
    EXPECT(!dt.fh.promisc);
    end_check("device: sniffs the air, decodes, joins the AP");

    m4_dev_run(&dt, 4000);
    EXPECT(sc_device_state(dt.dev) == SC_DEV_WAIT_TOKEN);
    EXPECT(fh_count_sent(&dt.fh, "192.168.1.100", 18266) == 30);   /* acks to the datum's phone IP */
    const fh_dgram_t *a = fh_nth_sent(&dt.fh, "192.168.1.100", 18266, 0);
    static const uint8_t want[11] = { 29, 0x24, 0x0A, 0xC4, 1, 2, 3, 192, 168, 1, 23 };
    EXPECT(a && a->len == 11 && !memcmp(a->data, want, 11));
    end_check("device: 30 ESP-TOUCH acks, then waits for the token");

    const char *tok = "{\"cmdType\":0,\"token\":\"" M4_TOKEN "\",\"region\":\"ap-guangzhou\"}";
    EXPECT(m4_dev_app_send(&dt, M4_APP_IP, 8266, tok, strlen(tok)));
    m4_dev_run(&dt, 50);
    EXPECT(dt.token_events == 1);
    EXPECT(strcmp(reply(&dt, M4_APP_IP, 8266, 0), IDENTITY) == 0);
    m4_dev_run(&dt, 12000);
    EXPECT(sc_device_state(dt.dev) == SC_DEV_DONE);
    EXPECT(!sc_device_last_error(dt.dev, NULL, NULL));
    EXPECT(!fh_storage_contains(&dt.fh, "12345678", 8) && !fh_log_contains(&dt.fh, "12345678"));
    EXPECT(!fh_log_contains(&dt.fh, M4_TOKEN));
    end_check("device: token over UDP 8266 -> identity reply -> DONE, no secret logged or stored");
}

/* ---- UDP 8266: the bad-input matrix of test_device, through the running service --------- *
 * Only the device's API and the bytes on the wire: the replies are spelled out here (the
 * reference texts of error ids 2 and 26), so the check does not depend on the codec's names. */
static const char *err_text(uint16_t err)
{
    return err == 2 ? "APP command error!" : err == 26 ? "Product Region fault error!" : "?";
}

static void check_bind_matrix(void)
{
    static udp8266_bad_bufs_t bufs;
    udp8266_bad_init(&bufs, M4_TOKEN);
    const udp8266_bad_t m[] = UDP8266_BAD_INPUTS(&bufs);
    EXPECT(m4_dev_init(&dt, NULL, NULL));
    sc_et_result_t r;
    memset(&r, 0, sizeof r);
    memcpy(r.creds.ssid, "MyAP", 4);
    r.creds.ssid_len = 4;
    memcpy(r.creds.password, "s3cr3t-pa55word", 15);
    r.creds.password_len = 15;
    r.creds.phone_ip[0] = 192, r.creds.phone_ip[1] = 168, r.creds.phone_ip[2] = 1, r.creds.phone_ip[3] = 77;
    r.t = 9 + 4 + 15;
    r.channel = 6;
    EXPECT(sc_device_start(dt.dev, dt.fh.now) == SC_OK);
    EXPECT(sc_device_inject_credentials(dt.dev, &r, dt.fh.now) == SC_OK);
    m4_dev_run(&dt, 4000);
    EXPECT(sc_device_state(dt.dev) == SC_DEV_WAIT_TOKEN);
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        fh_clear_sent(&dt.fh);
        char peer[32], want[160];
        snprintf(peer, sizeof peer, "192.168.1.%u", (unsigned)(100 + i));   /* own rate budget */
        size_t len = m[i].len ? m[i].len : strlen(m[i].d);
        EXPECT(m4_dev_app_send(&dt, peer, 5000, m[i].d, len));
        m4_dev_run(&dt, 30);
        snprintf(want, sizeof want, "{\"cmdType\":2,\"deviceReply\":\"Current_Error\",\"log\":\"%s (%u, %ld)\"}\r\n",
                 err_text(m[i].err), (unsigned)m[i].err, (long)m[i].sub);
        EXPECT(dt.fh.nsent == 1);
        EXPECT(strcmp(reply(&dt, peer, 5000, 0), want) == 0);
        EXPECT(sc_device_state(dt.dev) == SC_DEV_WAIT_TOKEN);
        EXPECT(!sc_device_last_error(dt.dev, NULL, NULL));
    }
    EXPECT(dt.token_events == 0);
    end_check("udp 8266: bad-input matrix (20 datagrams) -> Current_Error each, no state change");

#if defined(__arm__)
    /* A firmware task has a few KiB of stack: the hostile nesting must never reach the
     * recursive JSON parser (with cJSON's limit of 1000 levels it took ~120 KiB here). */
    uintptr_t sp = sc_m4_sp();
    sc_m4_paint(sp, 32768);
    fh_clear_sent(&dt.fh);
    EXPECT(m4_dev_app_send(&dt, "192.168.1.77", 5000, bufs.deep, sizeof bufs.deep - 1));
    m4_dev_run(&dt, 30);
    size_t used = sc_m4_stack_used(sp, 32768);
    EXPECT(fh_count_sent(&dt.fh, "192.168.1.77", 5000) == 1);
    EXPECT(used < 4096);
    char name[96];
    snprintf(name, sizeof name, "udp 8266: 999 nested '[' refused with %lu bytes of stack (bound 4 KiB)",
             (unsigned long)used);
    end_check(name);
#endif

    /* the real request afterwards, in the portable SDK's pretty-printed form */
    fh_clear_sent(&dt.fh);
    const char *pretty = "{\n  \"cmdType\": 0,\n  \"token\": \"" M4_TOKEN "\",\n  \"region\": \"ap-guangzhou\",\n"
                         "  \"x\": {}\n}";
    EXPECT(m4_dev_app_send(&dt, M4_APP_IP, 8266, pretty, strlen(pretty)));
    m4_dev_run(&dt, 30);
    EXPECT(strcmp(reply(&dt, M4_APP_IP, 8266, 0), IDENTITY) == 0);
    EXPECT(dt.token_events == 1);
    /* another token from another phone mid-session: an error to that sender only */
    fh_clear_sent(&dt.fh);
    const char *other = "{\"cmdType\":0,\"token\":\"ffffffffffffffffffffffffffffffff\"}";
    EXPECT(m4_dev_app_send(&dt, "192.168.1.99", 8266, other, strlen(other)));
    m4_dev_run(&dt, 30);
    EXPECT(fh_count_sent(&dt.fh, M4_APP_IP, 8266) == 0);
    EXPECT(strstr(reply(&dt, "192.168.1.99", 8266, 0), "\"Current_Error\"") != NULL);
    EXPECT(dt.token_events == 1);
    m4_dev_free(&dt);
    end_check("udp 8266: the SDK's pretty form answered with the identity; a second token refused");

}

/* ---- AT front-end -------------------------------------------------------------------- */
static char at_out[1024];
static size_t at_len;

static void at_output(void *user, const char *data, size_t len)
{
    (void)user;
    if (at_len + len < sizeof at_out) {
        memcpy(at_out + at_len, data, len);
        at_len += len;
        at_out[at_len] = '\0';
    }
}

static sc_at_t at;

static const char *at_cmd(const char *s, size_t n)
{
    at_len = 0;
    at_out[0] = '\0';
    sc_at_feed(&at, s, n ? n : strlen(s), 1000);
    return at_out;
}

#define AT_SECRET "c2VjcmV0LWtleS0xMjM0NQ=="

static void check_at(void)
{
    sc_at_config_t cfg;
    sc_at_config_default(&cfg);
    cfg.output = at_output;
    cfg.module_name = "m4-qemu";
    cfg.fw_version = "1.2.3";
    cfg.echo = false;
    sc_at_ops_t ops;
    memset(&ops, 0, sizeof ops);
    EXPECT(sc_at_init(&at, &cfg, &ops) == SC_OK);
    EXPECT(!strcmp(at_cmd("AT\r\n", 0), "OK\r\n"));
    EXPECT(!strcmp(at_cmd("AT+TCVER\r\n", 0),
                   "Tencent Cloud IoT AT  version: 1.2.3\r\nTencent Cloud IoT SDK version: smartcfg\r\nOK\r\n"));
    EXPECT(!strcmp(at_cmd("AT+TCLOG=86013388,4\r\n", 0), "OK\r\n"));
    EXPECT(!strcmp(at_cmd("AT+TCLOG?\r\n", 0), "+TCLOG: 4\r\nOK\r\n"));
    EXPECT(!strcmp(at_cmd("AT+TCDEVINFOSET=1,\"PID0123456\",\"dev-001\",\"" AT_SECRET "\"\r\n", 0),
                   "OK\r\n+TCDEVINFOSET:OK\r\n"));
    char want[160];
    snprintf(want, sizeof want, "+TCDEVINFOSET:1,\"PID0123456\",\"dev-001\",%u,\"ap-guangzhou\"\r\nOK\r\n",
             sc_at_bcc(AT_SECRET));
    EXPECT(!strcmp(at_cmd("AT+TCDEVINFOSET?\r\n", 0), want));
    EXPECT(strstr(at_out, AT_SECRET) == NULL);
    end_check("at: basic commands, device info set/query (secret never echoed)");

    static const char *const bad204[] = {
        "AT+TCDEVINFOSET=2,\"PID0123456\",\"dev\",\"sec\"\r\n",
        "AT+TCDEVINFOSET=1,\"PID01234567\",\"dev\",\"sec\"\r\n",
        "AT+TCDEVINFOSET=1,\"P\",\"d\"\r\n",
        "AT+TCDEVINFOSET=1,P,\"d\",\"s\"\r\n",
        "AT+TCDEVINFOSET=99999999999,\"P\",\"d\",\"s\"\r\n",
        "AT+TCDEVINFOSET=1,2,3,4,5,6,7,8,9,10,11,12\r\n",
    };
    for (size_t i = 0; i < sizeof bad204 / sizeof bad204[0]; i++)
        EXPECT(!strcmp(at_cmd(bad204[i], 0), "+CME ERROR:204\r\n"));
    static const char *const bad[] = {
        "BOGUS\r\n", "at\r\n", "AT+\r\n", "AT+UNKNOWN\r\n", "ATE2\r\n", "AT\x01\r\n", "AT\rX\r\n",
        "AT+TCDEVINFOSET=1,\"P,\"d\",\"s\"\r\n", "AT+TCDEVINFOSET=1,\"P\\q\",\"d\",\"s\"\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT(!strcmp(at_cmd(bad[i], 0), "ERROR\r\n"));
        EXPECT(!strcmp(at_cmd("AT\r\n", 0), "OK\r\n"));
    }
    EXPECT(!strcmp(at_cmd("AT\x00\r\n", 5), "ERROR\r\n"));
    EXPECT(!strcmp(at_cmd("AT+TCDEVINFOSET?\r\n", 0), want));   /* nothing changed */
    end_check("at: bad parameters (+CME ERROR:204) and bad lines (ERROR), parser recovers");

    static char big[2000];
    memset(big, 'A', sizeof big);
    memcpy(big, "AT+TCDEVINFOSET=1,\"", 19);
    at_len = 0;
    at_out[0] = '\0';
    for (int rep = 0; rep < 3; rep++)
        sc_at_feed(&at, big, sizeof big, 1000);
    EXPECT(at_len == 0);
    sc_at_feed(&at, "\r\nAT\r\n", 6, 1000);
    EXPECT(!strcmp(at_out, "ERROR\r\nOK\r\n"));
    uint32_t seed = 12345;
    for (int i = 0; i < 2000; i++) {
        uint8_t b[64];
        for (size_t k = 0; k < sizeof b; k++) {
            seed = seed * 1103515245u + 12345u;
            b[k] = (uint8_t)(seed >> 16);
        }
        sc_at_feed(&at, b, sizeof b, 1000);
    }
    sc_at_feed(&at, "\r\n", 2, 1000);
    EXPECT(!strcmp(at_cmd("AT\r\n", 0), "OK\r\n"));
    end_check("at: 6 KB line discarded with one ERROR, 128 KB of noise, parser recovers");
}

/* ---- cloud credentials, HMAC, dynamic registration (vectors of test_cloud) ------------- */
#define PID "ABCDEFGHIJ"
#define DNAME "dev001"
#define PSK "MDEyMzQ1Njc4OWFiY2RlZg=="   /* base64("0123456789abcdef") */
#define PSECRET "productsecret0123456789"

static void check_cloud(void)
{
    sc_identity_t id;
    memset(&id, 0, sizeof id);
    strcpy(id.product_id, PID);
    strcpy(id.device_name, DNAME);
    strcpy(id.device_secret, PSK);
    const uint8_t rnd[5] = { 0, 0, 0, 0, 0 };
    static sc_cloud_mqtt_creds_t c;
    EXPECT(sc_cloud_mqtt_credentials(&id, NULL, 1700000000u, rnd, &c) == SC_OK);
    EXPECT(!strcmp(c.client_id, "ABCDEFGHIJdev001"));
    EXPECT(!strcmp(c.username, "ABCDEFGHIJdev001;21010406;AAAAA;1700086400"));
    EXPECT(!strcmp(c.password, "6dd07ccf3dfbb9ff16bc4f38beff148fe71b7f5ed12ab9cf3af094c7291ea5ec;hmacsha256"));
    end_check("cloud: MQTT credentials, HMAC-SHA256 (openssl vector)");

    sc_cloud_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.hmac_sha1 = true;
    cfg.tls = true;
    EXPECT(sc_cloud_mqtt_credentials(&id, &cfg, 1700000000u, rnd, &c) == SC_OK);
    EXPECT(c.port == 8883);
    EXPECT(!strcmp(c.password, "4346ef43a0ba20576db2117a27fb38f74dce40b9;hmacsha1"));
    strcpy(id.device_secret, "not base64 !!");
    EXPECT(sc_cloud_mqtt_credentials(&id, NULL, 1, rnd, &c) == SC_ERR_FORMAT);
    char small[10];
    EXPECT(sc_cloud_mqtt_password(PSK, "x", false, small, sizeof small) == SC_ERR_NOSPACE);
    end_check("cloud: HMAC-SHA1 over TLS port, bad base64 secret, short buffer");

    char sig[64];
    EXPECT(sc_cloud_dynreg_signature(PSECRET, PID, DNAME, 12345, 1700000000u, sig, sizeof sig) == SC_OK);
    EXPECT(!strcmp(sig, "NWRlODYzZjMyZWQ0ZmUyNjI3NmMxOTg1MTVjOTc4NDU0NDliNzczZg=="));
    const char *resp = "{\"code\":0,\"message\":\"\",\"len\":53,\"payload\":"
                       "\"gAIVH3LNhuC6Ly5P5fJw04+QVY+A3zD0p4SsyjwxEbgayTAuAUrDCe4G+lVIkuOI98SoWvxIhqFULMRcuHiEmw==\"}";
    char psk[64], out[512];
    int32_t code = -1;
    size_t n;
    EXPECT(sc_cloud_dynreg_decode(PSECRET, resp, strlen(resp), psk, sizeof psk, &code) == SC_OK);
    EXPECT(!strcmp(psk, PSK) && code == 0);
    EXPECT(sc_cloud_dynreg_response(PSECRET, PSK, out, sizeof out, &n) == SC_OK);
    EXPECT(!strcmp(out, resp));
    EXPECT(sc_cloud_dynreg_decode("anotherproductsecret", resp, strlen(resp), psk, sizeof psk, &code) == SC_ERR_AUTH);
    EXPECT(sc_cloud_dynreg_decode(PSECRET, "<html>", 6, psk, sizeof psk, &code) == SC_ERR_FORMAT);
    end_check("cloud: dynamic registration signature (HMAC-SHA1) and AES-128-CBC payload (openssl vectors)");

    char ct[SC_CLOUD_CLIENT_TOKEN_SIZE], buf[256];
    EXPECT(sc_cloud_client_token(DNAME, 1700000000123ull, ct, sizeof ct) == SC_OK);
    EXPECT(sc_cloud_build_bind_device_query(ct, 1700000000123ull, buf, sizeof buf, &n) == SC_OK);
    EXPECT(!strcmp(buf, "{\"method\":\"bind_device_query\",\"clientToken\":\"dev001-1700000000123\","
                        "\"timestamp\":1700000000123}"));
    sc_cloud_msg_t msg;
    EXPECT(sc_cloud_parse_msg(buf, n, &msg) == SC_OK && msg.type == SC_CLOUD_MSG_BIND_DEVICE_QUERY);
    EXPECT(msg.timestamp == 1700000000123ull);
    EXPECT(sc_cloud_build_app_bind_token(ct, "tok\"en", buf, sizeof buf, &n) == SC_OK);
    EXPECT(!strcmp(buf, "{\"method\":\"app_bind_token\",\"clientToken\":\"dev001-1700000000123\","
                        "\"params\":{\"token\":\"tok\\\"en\"}}"));
    EXPECT(sc_cloud_parse_msg(buf, n, &msg) == SC_OK && !strcmp(msg.token, "tok\"en"));
    end_check("cloud: MQTT messages built and parsed (64-bit timestamps, escapes)");
}

int main(void)
{
    printf("smartcfg core self-test (%s)\n",
#if defined(__arm__)
           "Cortex-M4, QEMU mps2-an386"
#else
           "host"
#endif
    );
    check_esptouch_vectors();
    check_receiver();
    check_device();
    m4_dev_free(&dt);
    check_bind_matrix();
    check_at();
    check_cloud();
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
