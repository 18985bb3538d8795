/* SPDX-License-Identifier: Apache-2.0 */
/* Device state machine + UDP 8266 service over the fake HAL: every transition and timeout,
 * every error path -> error record + Current_Error reply, identity to the request's source,
 * retries, the bad-input matrix, a 10 000-datagram flood, rate limiting, Previous_Error once,
 * no secret in any log or persisted byte, the soft-AP and log soft-AP flows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "udp8266_bad.h"
#include "smartcfg/air.h"
#include "smartcfg/tc8266.h"
#include "smartcfg/device.h"

#include "dev_harness.h"
#include "smartcfg/diag.h"

/* The device has failed with exactly this error record (what the app gets as Current_Error). */
static void assert_failed(T *t, uint16_t err, int32_t sub)
{
    uint16_t e;
    int32_t s;
    assert_int_equal(sc_device_state(t->dev), SC_DEV_FAILED);
    assert_true(sc_device_last_error(t->dev, &e, &s));
    assert_int_equal(e, err);
    assert_int_equal(s, sub);
}

/* A caller compiled with other SMARTCFG_WITH_* switches than the library has a smaller
 * sc_device_t: init refuses it (with a log line) and writes nothing into it. */
static char size_log[200];
static void size_log_cb(void *ctx, sc_log_level_t level, const char *line)
{
    (void)ctx; (void)level;
    snprintf(size_log, sizeof size_log, "%s", line);
}
static uint32_t size_now(void *ctx) { (void)ctx; return 0; }
static void test_init_caller_size(void **state)
{
    (void)state;
    static sc_device_t dev;
    sc_hal_t hal;
    memset(&hal, 0, sizeof hal);
    hal.sys.now_ms = size_now;
    hal.sys.log = size_log_cb;
    sc_device_config_t cfg;
    sc_device_config_default(&cfg);
    memset(&dev, 0xa5, sizeof dev);
    assert_int_equal(sc_device_init_sized(&dev, sizeof dev - 8, &hal, &cfg), SC_ERR_INVAL);
    for (size_t k = 0; k < sizeof dev; k++)
        assert_int_equal(((const uint8_t *)&dev)[k], 0xa5);
    assert_non_null(strstr(size_log, "other SMARTCFG_WITH_* switches"));
    assert_int_equal(sc_device_init_sized(&dev, sizeof dev - 8, NULL, &cfg), SC_ERR_INVAL);
    /* the macro passes this file's sizeof(sc_device_t), the library's own here */
    assert_int_equal(sc_device_init(&dev, &hal, &cfg), SC_OK);
    assert_int_equal(sc_device_init_sized(&dev, sizeof dev + 64, &hal, &cfg), SC_OK);
    assert_int_equal((sc_device_init)(&dev, &hal, &cfg), SC_OK);
    sc_device_stop(&dev, 0, 0);
}

static void test_happy_path_skip_cloud(void **state)
{
    (void)state;
    T *t = mk(true);
    to_wait_token(t);
    assert_true(saw_state(t, SC_DEV_CREDENTIALS));
    assert_true(saw_state(t, SC_DEV_JOINING));
    assert_true(saw_state(t, SC_DEV_ACKING));
    assert_int_equal(t->fh.joins, 1);
    assert_memory_equal(t->fh.join_pwd, PASSWORD, strlen(PASSWORD));
    assert_int_equal(count_ev(t, SC_DEV_EV_IP), 1);
    assert_int_equal(count_ev(t, SC_DEV_EV_CREDENTIALS), 1);
    /* ack: 30 rounds, unicast to the datum's phone IP and broadcast, 11 bytes each */
    assert_int_equal(fh_count_sent(&t->fh, DATUM_IP, 18266), 30);
    assert_int_equal(fh_count_sent(&t->fh, "255.255.255.255", 18266), 30);
    const fh_dgram_t *a = fh_nth_sent(&t->fh, DATUM_IP, 18266, 0);
    const uint8_t want[11] = { (uint8_t)(9 + 4 + strlen(PASSWORD)), 0x24, 0x0A, 0xC4, 1, 2, 3, 192, 168, 1, 23 };
    assert_int_equal(a->len, 11);
    assert_memory_equal(a->data, want, 11);
    const fh_dgram_t *a2 = fh_nth_sent(&t->fh, DATUM_IP, 18266, 1);
    assert_true(a2 > a);
    /* token from the app at APP_IP:8266: identity to the source, never to the datum IP */
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\",\"region\":\"ap-guangzhou\",\"extra\":[1,2]}");
    run(t, 50);
    assert_int_equal(count_ev(t, SC_DEV_EV_TOKEN), 1);
    assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
    const fh_dgram_t *r = fh_nth_sent(&t->fh, APP_IP, 8266, 0);
    assert_memory_equal(r->from.addr, t->fh.ip, 4);
    assert_int_equal(r->from.port, 8266);
    assert_int_equal(fh_count_sent(&t->fh, DATUM_IP, 8266), 0);
    /* the app resends every 2 s: answered again, idempotently (plus the 1 s repeats) */
    run(t, 2000);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 50);
    size_t n = fh_count_sent(&t->fh, APP_IP, 8266);
    assert_true(n >= 3);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(reply(t, APP_IP, 8266, i), IDENTITY);
    assert_int_equal(count_ev(t, SC_DEV_EV_TOKEN), 1);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
    /* skip_cloud: DONE once the app went quiet */
    run(t, 11000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_DONE);
    assert_false(sc_device_last_error(t->dev, NULL, NULL));
    /* the service still answers a late resend in DONE */
    fh_clear_sent(&t->fh);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 50);
    assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
    assert_no_secrets(t);
    rm(t);
}

/* Without a cloud, an app that goes on resending its token past the after-join budget (50 s)
 * is still served, and the flow ends DONE once it stops: it used to fail as "no token from the
 * app" (10/... BOARDING_STOP) with the token in hand. */
static void test_skip_cloud_app_keeps_resending(void **state)
{
    (void)state;
    T *t = mk(true);
    to_wait_token(t);
    for (int i = 0; i < 35; i++) {   /* 70 s of resends, every 2 s */
        app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
        run(t, 2000);
        assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
    }
    assert_int_equal(count_ev(t, SC_DEV_EV_TOKEN), 1);
    assert_int_equal(count_ev(t, SC_DEV_EV_ERROR), 0);
    fh_clear_sent(&t->fh);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 50);
    assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
    run(t, 11000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_DONE);
    assert_false(sc_device_last_error(t->dev, NULL, NULL));
    rm(t);
}

static void test_token_during_ack(void **state)
{
    (void)state;
    T *t = mk(true);
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    sc_et_result_t r = creds();
    assert_int_equal(sc_device_inject_credentials(t->dev, &r, t->fh.now), SC_OK);
    run(t, 700);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_ACKING);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 50);
    assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
    run(t, 10000);
    assert_int_equal(fh_count_sent(&t->fh, DATUM_IP, 18266), 30); /* the acks went on */
    assert_int_equal(sc_device_state(t->dev), SC_DEV_DONE);
    rm(t);
}

/* Records the stub binder's failure (err 1) and reports it to the app as Current_Error. */
static void test_bind_failure_reported(void **state)
{
    (void)state;
    T *t = mk(false);
    to_wait_token(t);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 100);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_FAILED);
    uint16_t e;
    int32_t s;
    assert_true(sc_device_last_error(t->dev, &e, &s));
    assert_true(e == SC_ERRID_MQTT_CONNECT || e == SC_ERRID_TOKEN_REPLY || e == SC_ERRID_TOKEN_TIMEOUT);
    size_t n = fh_count_sent(&t->fh, APP_IP, 8266);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (strstr(reply(t, APP_IP, 8266, i), "\"deviceReply\":\"Current_Error\""))
            found = true;
    assert_true(found);
    assert_int_equal(count_ev(t, SC_DEV_EV_ERROR), 1);
    /* delivered: nothing left for the next attempt */
    reboot(t);
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    sc_device_stop(t->dev, SC_SUBID_STOP_APP, t->fh.now);
    assert_no_secrets(t);
    rm(t);
}

static void test_join_failure_previous_error_once(void **state)
{
    (void)state;
    T *t = mk(true);
    t->fh.sta_outcome = SC_STA_FAILED;
    t->fh.sta_reason = SC_STA_REASON_WRONG_PASSWORD;
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    sc_et_result_t r = creds();
    sc_device_inject_credentials(t->dev, &r, t->fh.now);
    run(t, 1000);
    assert_failed(t, SC_ERRID_WIFI_CONNECT, SC_SUBID_JOIN_BASE + SC_STA_REASON_WRONG_PASSWORD);
    assert_true(saw_state(t, SC_DEV_FAILED));
    assert_no_secrets(t);

    /* power cycle; second attempt succeeds: the app gets Previous_Error once, before the identity */
    reboot(t);
    t->fh.sta_outcome = SC_STA_GOT_IP;
    fh_clear_sent(&t->fh);
    to_wait_token(t);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 50);
    assert_string_equal(reply(t, APP_IP, 8266, 0),
                        "{\"cmdType\":2,\"deviceReply\":\"Previous_Error\",\"log\":\"WIFI connect error! (10, 301)\"}\r\n");
    assert_string_equal(reply(t, APP_IP, 8266, 1), IDENTITY);
    run(t, 4000); /* idle tick must not repeat it */
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 50);
    assert_int_equal(count_replies_containing(t, APP_IP, 8266, "Previous_Error"), 1);
    run(t, 10000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_DONE);

    /* third attempt: nothing previous any more */
    reboot(t);
    fh_clear_sent(&t->fh);
    to_wait_token(t);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 50);
    assert_int_equal(count_replies_containing(t, APP_IP, 8266, "_Error"), 0);
    rm(t);
}

static void test_timeouts(void **state)
{
    (void)state;
    /* no credentials in the window */
    T *t = mk(true);
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    run(t, 299000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_SNIFFING);
    assert_true(t->fh.channel_sets >= 1);
    run(t, 1100);
    assert_failed(t, 3, 103);
    assert_false(t->fh.promisc);
    assert_int_equal(sc_device_channel(t->dev), 0);
    rm(t);

    /* join never completes */
    t = mk(true);
    t->fh.sta_outcome = SC_STA_CONNECTING;
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    sc_et_result_t r = creds();
    sc_device_inject_credentials(t->dev, &r, t->fh.now);
    run(t, 59000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_JOINING);
    run(t, 1100);
    assert_failed(t, 10, 103);
    rm(t);

    /* no token from the app */
    t = mk(true);
    to_wait_token(t);
    run(t, 19000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
    run(t, 2000);
    assert_failed(t, 3, 103);
    /* the app shows up late: it gets the error, not the identity */
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 50);
    assert_true(any_reply_contains(t, APP_IP, 8266, "\"Current_Error\",\"log\":\"WIFI boarding stop! (3, 103)\""));
    assert_false(any_reply_contains(t, APP_IP, 8266, "productId"));
    rm(t);
}

static void test_stop(void **state)
{
    (void)state;
    T *t = mk(true);
    to_wait_token(t);
    app_send(t, "{\"cmdType\":3}");
    run(t, 50);
    sc_device_stop(t->dev, SC_SUBID_STOP_AT, t->fh.now);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_FAILED);
    uint16_t e;
    int32_t s;
    assert_true(sc_device_last_error(t->dev, &e, &s));
    assert_int_equal(e, 3);
    assert_int_equal(s, 102);
    /* a stop the user asked for is not kept as the next run's Previous_Error */
    {
        static sc_diag_errors_t kept;
        static uint8_t scratch[SC_DIAG_SLOT_MAX];
        sc_diag_errors_init(&kept);
        (void)sc_diag_errors_load(&kept, &t->fh.hal.storage, scratch);
        assert_int_equal(kept.n, 0);
    }
    /* a second start works again */
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_ERR_BUSY);
    rm(t);
}

/* The bad-input matrix: every datagram gets a Current_Error to its sender, no state change,
 * no record; the real request is still answered afterwards. */
static void test_bad_input_matrix(void **state)
{
    (void)state;
    T *t = mk(true);
    to_wait_token(t);
    static udp8266_bad_bufs_t bufs;
    udp8266_bad_init(&bufs, TOKEN);
    const udp8266_bad_t m[] = UDP8266_BAD_INPUTS(&bufs);
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        fh_clear_sent(&t->fh);
        char peer[32];
        snprintf(peer, sizeof peer, "192.168.1.%u", (unsigned)(100 + i)); /* own rate budget */
        size_t len = m[i].len ? m[i].len : strlen(m[i].d);
        assert_true(fh_inject(&t->fh, peer, 5000, DEV_IP, 8266, m[i].d, len));
        run(t, 30);
        char want[160];
        snprintf(want, sizeof want, "{\"cmdType\":2,\"deviceReply\":\"Current_Error\",\"log\":\"%s (%u, %ld)\"}\r\n",
                 sc_errid_text(m[i].err), (unsigned)m[i].err, (long)m[i].sub);
        if (t->fh.nsent != 1)
            fail_msg("matrix entry %zu: %zu replies", i, t->fh.nsent);
        assert_string_equal(reply(t, peer, 5000, 0), want);
        assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
        assert_false(sc_device_last_error(t->dev, NULL, NULL));
    }
    assert_int_equal(count_ev(t, SC_DEV_EV_ERROR), 0);
    assert_int_equal(count_ev(t, SC_DEV_EV_TOKEN), 0);
    /* the real request */
    fh_clear_sent(&t->fh);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 30);
    assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
    /* token change mid-session: error to that sender only, token unchanged */
    fh_clear_sent(&t->fh);
    assert_true(fh_inject(&t->fh, "192.168.1.66", 8266, DEV_IP, 8266, "{\"cmdType\":0,\"token\":\"other\"}", 29));
    run(t, 30);
    assert_string_equal(reply(t, "192.168.1.66", 8266, 0),
                        "{\"cmdType\":2,\"deviceReply\":\"Current_Error\",\"log\":\"APP command error! (2, 207)\"}\r\n");
    assert_int_equal(count_replies_containing(t, APP_IP, 8266, "Error"), 0);
    assert_int_equal(count_ev(t, SC_DEV_EV_TOKEN), 1);
    rm(t);
}

static void test_flood_and_rate_limit(void **state)
{
    (void)state;
    T *t = mk(true);
    to_wait_token(t);
    fh_clear_sent(&t->fh);
    char junk[400];
    for (int i = 0; i < 10000; i++) {
        /* three junk hosts, many source ports on one, random-ish bytes or unknown cmdType */
        char ip[32];
        snprintf(ip, sizeof ip, "192.168.1.%d", 200 + i % 3);
        size_t len = 1 + (size_t)(i % 300);
        if (i % 2) {
            for (size_t k = 0; k < len; k++)
                junk[k] = (char)(rand() & 0xFF);
        } else {
            len = (size_t)snprintf(junk, sizeof junk, "{\"cmdType\":9}");
        }
        assert_true(fh_inject(&t->fh, ip, (uint16_t)(i % 3 == 2 ? 1000 + i : 7777), DEV_IP, 8266, junk, len));
        if (i == 5000)
            app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
        if (i % 100 == 99)
            run(t, 1);
    }
    run(t, 100);
    assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
    sc_device_stats_t st;
    sc_device_stats(t->dev, &st);
    assert_true(st.dgrams >= 10001);
    /* rate limit: the two fixed junk peers got a handful of replies each over ~1 s, not thousands */
    assert_true(fh_count_sent(&t->fh, "192.168.1.200", 7777) <= 10);
    assert_true(fh_count_sent(&t->fh, "192.168.1.201", 7777) <= 10);
    assert_true(st.rate_limited > 6000);
    /* no junk reply went to the app */
    assert_int_equal(count_replies_containing(t, APP_IP, 8266, "Error"), 0);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
    rm(t);
}

static void test_log_service_and_log(void **state)
{
    (void)state;
    T *t = mk(true);
    t->fh.sta_outcome = SC_STA_FAILED;
    t->fh.sta_reason = SC_STA_REASON_NO_AP;
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    sc_et_result_t r = creds();
    sc_device_inject_credentials(t->dev, &r, t->fh.now);
    run(t, 1000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_FAILED);
    assert_int_equal(sc_device_start_log_softap(t->dev, t->fh.now), SC_OK);
    assert_true(t->fh.ap_up);
    assert_string_equal(t->fh.ap_ssid, "ESP-LOG-QUERY");
    assert_string_equal(t->fh.ap_pwd, "86013388");
    assert_true(fh_inject(&t->fh, "192.168.4.2", 5555, "192.168.4.1", 9876, "{\"cmdType\":3}", 13));
    run(t, 100);
    assert_int_equal(fh_count_sent(&t->fh, "192.168.4.2", 5555), 1);
    run(t, 500);
    assert_int_equal(fh_count_sent(&t->fh, "192.168.4.2", 5555), 2);
    run(t, 2000);
    assert_int_equal(fh_count_sent(&t->fh, "192.168.4.2", 5555), 2);
    const char *log = reply(t, "192.168.4.2", 5555, 0);
    assert_string_equal(log, reply(t, "192.168.4.2", 5555, 1));
    assert_non_null(strstr(log, "(10, 302)"));
    assert_non_null(strstr(log, "[joining]"));
    /* format: every entry "<ms>|<func>(<line>): <msg>\r\n", at most 128 bytes, at most 10 */
    int entries = 0;
    for (const char *p = log; *p; entries++) {
        const char *end = strstr(p, "\r\n");
        assert_non_null(end);
        assert_true(end + 2 - p <= 128);
        char *bar;
        strtoul(p, &bar, 10);
        assert_true(*bar == '|');
        assert_non_null(memchr(p, '(', (size_t)(end - p)));
        p = end + 2;
    }
    assert_true(entries >= 3 && entries <= 10);
    /* garbage on 9876 is ignored */
    assert_true(fh_inject(&t->fh, "192.168.4.3", 5555, "192.168.4.1", 9876, "junk", 4));
    run(t, 100);
    assert_int_equal(fh_count_sent(&t->fh, "192.168.4.3", 5555), 0);
    /* the log is persisted: a reboot still has it */
    char before[2048], after[2048];
    sc_device_log(t->dev, before, sizeof before);
    reboot(t);
    sc_device_log(t->dev, after, sizeof after);
    assert_string_equal(before, after);
    sc_device_stop_log_softap(t->dev);
    assert_false(t->fh.ap_up);
    assert_no_secrets(t);
    rm(t);
}

static void test_log_cmd3_on_8266(void **state)
{
    (void)state;
    T *t = mk(true);
    to_wait_token(t);
    /* the log is handed out only while the log soft-AP is raised (the owner asked for it) */
    app_send(t, "{\"cmdType\":3}");
    run(t, 50);
    assert_null(reply(t, APP_IP, 8266, 0));
    assert_int_equal(sc_device_start_log_softap(t->dev, t->fh.now), SC_OK);
    app_send(t, "{\"cmdType\":3}");
    run(t, 50);
    const char *log = reply(t, APP_IP, 8266, 0);
    assert_non_null(log);
    assert_non_null(strstr(log, "[acking] enter wait_token"));
    assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
    rm(t);
}

/* UDP 9876 already taken: the log service cannot open, and the AP raised for it goes down
 * again (it stayed up, serving nothing, until the next flow; a long-running AT device kept it). */
static void test_log_softap_down_when_service_fails(void **state)
{
    (void)state;
    T *t = mk(true);
    int h = -1;
    assert_int_equal(t->fh.hal.udp.open(t->fh.hal.udp.ctx, NULL, 9876, false, &h), SC_OK);
    unsigned starts = t->fh.ap_starts;
    assert_int_not_equal(sc_device_start_log_softap(t->dev, t->fh.now), SC_OK);
    assert_int_equal(t->fh.ap_starts, starts + 1);
    assert_false(t->fh.ap_up);
    t->fh.hal.udp.close(t->fh.hal.udp.ctx, h);
    assert_int_equal(sc_device_start_log_softap(t->dev, t->fh.now), SC_OK);   /* and a later try works */
    assert_true(t->fh.ap_up);
    sc_device_stop_log_softap(t->dev);
    assert_false(t->fh.ap_up);
    rm(t);
}

static void test_softap_flow(void **state)
{
    (void)state;
    T *t = mk(true);
    assert_int_equal(sc_device_start_softap(t->dev, "Dev-AP", "12345678", 6, t->fh.now), SC_OK);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_SOFTAP);
    assert_true(t->fh.ap_up);
    /* cmdType 0 is the other flow: error, no change */
    assert_true(fh_inject(&t->fh, "192.168.4.2", 8266, "192.168.4.1", 8266, "{\"cmdType\":0,\"token\":\"x\"}", 25));
    run(t, 50);
    assert_true(any_reply_contains(t, "192.168.4.2", 8266, "(2, 204)"));
    const char *req = "{\"cmdType\":1,\"ssid\":\"HomeNet\",\"password\":\"" PASSWORD "\",\"token\":\"" TOKEN "\"}";
    assert_true(fh_inject(&t->fh, "192.168.4.2", 8266, "192.168.4.1", 8266, req, strlen(req)));
    run(t, 50);
    assert_true(any_reply_contains(t, "192.168.4.2", 8266, "\"productId\":\"ABCDEFGHIJ\""));
    run(t, 2100);
    assert_int_equal(count_replies_containing(t, "192.168.4.2", 8266, "productId"), 3);
    assert_false(t->fh.ap_up);
    assert_int_equal(t->fh.joins, 1);
    assert_int_equal(t->fh.join_ssid_len, 7);
    assert_memory_equal(t->fh.join_pwd, PASSWORD, strlen(PASSWORD));
    run(t, 1000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_DONE);
    assert_no_secrets(t);
    rm(t);
}

static void test_inject_states_and_bad_creds(void **state)
{
    (void)state;
    T *t = mk(true);
    sc_et_result_t r = creds();
    assert_int_equal(sc_device_inject_credentials(t->dev, &r, t->fh.now), SC_ERR_STATE);
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    sc_et_result_t bad = r;
    bad.creds.ssid_len = 0;
    assert_int_equal(sc_device_inject_credentials(t->dev, &bad, t->fh.now), SC_ERR_INVAL);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_SNIFFING);
    uint16_t e;
    int32_t s;
    assert_true(sc_device_last_error(t->dev, &e, &s));
    assert_int_equal(e, 14);
    assert_int_equal(s, 104);
    assert_int_equal(sc_device_inject_credentials(t->dev, &r, t->fh.now), SC_OK);
    assert_int_equal(sc_device_inject_credentials(t->dev, &r, t->fh.now), SC_ERR_STATE);
    /* identity is required to start */
    T *u = mk(true);
    u->cfg.identity.product_id[0] = 0;
    reboot(u);
    assert_int_equal(sc_device_start(u->dev, u->fh.now), SC_ERR_INVAL);
    /* ... and the refusal says which setting (docs/porting.md: skip_cloud needs it too) */
    assert_true(fh_log_contains(&u->fh, "identity.product_id and device_name must be set"));
    rm(u);
    rm(t);
}

/* The real binder over the scripted MQTT client: bound -> DONE; rejected -> err 24/code;
 * no reply -> err 25; broker refuses -> err 1. Each failure reaches the app as Current_Error. */
static void test_cloud_binding(void **state)
{
    (void)state;
    struct {
        sc_mqtt_state_t st;
        int32_t code;
        bool silent;
        sc_device_state_t want;
        uint16_t err;
        int32_t sub;
    } c[] = {
        { SC_MQTT_CONNECTED, 0, false, SC_DEV_DONE, 0, 0 },
        { SC_MQTT_CONNECTED, 1001, false, SC_DEV_FAILED, 24, 1001 },
        { SC_MQTT_CONNECTED, 0, true, SC_DEV_FAILED, 0, 0 },
        { SC_MQTT_FAILED, 0, false, SC_DEV_FAILED, 1, -4 },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        T *t = mk(false);
        t->fh.mqtt_state = c[i].st;
        t->fh.mqtt_reply_code = c[i].code;
        t->fh.mqtt_silent = c[i].silent;
        to_wait_token(t);
        app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
        run(t, 100);
        assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
        run(t, 49000);
        if (sc_device_state(t->dev) != c[i].want)
            fail_msg("case %zu: state %s", i, sc_device_state_name(sc_device_state(t->dev)));
        uint16_t e = 0;
        int32_t s = 0;
        if (c[i].want == SC_DEV_DONE) {
            assert_false(sc_device_last_error(t->dev, NULL, NULL));
            assert_int_equal(count_ev(t, SC_DEV_EV_BOUND), 1);
            assert_string_equal(t->fh.mqtt_last_token, TOKEN);
            assert_int_equal(count_replies_containing(t, APP_IP, 8266, "Error"), 0);
        } else {
            assert_true(sc_device_last_error(t->dev, &e, &s));
            if (c[i].err) {
                assert_int_equal(e, c[i].err);
                assert_int_equal(s, c[i].sub);
            } else {
                assert_true(e == 25 || e == 3);
            }
            char want[120];
            snprintf(want, sizeof want, "\"Current_Error\",\"log\":\"%s (%u, %ld)\"", sc_errid_text(e),
                     (unsigned)e, (long)s);
            assert_int_equal(count_replies_containing(t, APP_IP, 8266, want), 1);
        }
        assert_no_secrets(t);
        rm(t);
    }
}

/* Starts the device and plays air to it (air_play, dev_harness.h) until it leaves sniffing:
 * it must be joining then. Returns the frames delivered. */
static size_t air_until_joining(T *t, sc_air_t *air)
{
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    size_t delivered = air_play(t, air);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_JOINING);
    return delivered;
}

/* End to end on the device side: encoder-generated frames from the air simulator through
 * sc_device_on_frame, delivered only while the radio is tuned to the frame's channel (as a
 * real radio would), to credentials, join and the token handshake. */
static void test_air_frames_to_done(void **state)
{
    (void)state;
    T *t = mk(true);
    static sc_air_t air;
    sc_air_config_t ac;
    sc_air_config_default(&ac);
    ac.creds = creds().creds;
    ac.channel = 6;
    ac.loss = 0.1;
    ac.foreign = 0.5;
    ac.seed = 7;
    assert_int_equal(sc_air_init(&air, &ac), SC_OK);
    assert_true(air_until_joining(t, &air) > 0);
    assert_true(t->fh.channel_sets >= 1);
    assert_int_equal(t->fh.join_ssid_len, 4);
    assert_memory_equal(t->fh.join_ssid, "MyAP", 4);
    assert_memory_equal(t->fh.join_pwd, PASSWORD, strlen(PASSWORD));
    assert_true(count_ev(t, SC_DEV_EV_LOCKED) >= 1);
    run(t, 4000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
    assert_int_equal(fh_count_sent(&t->fh, DATUM_IP, 18266), 30);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 12000);
    assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_DONE);
    assert_no_secrets(t);
    rm(t);
}

/* An ESP-TOUCH v2 session through sc_device_on_frame: the credentials event names the
 * protocol and hands the phone's reserved (custom) data to the application (the device used to
 * drop it); the lock event names the protocol too. */
static const uint8_t v2_reserved[] = { 0x00, 'c', 'u', 's', 't', 0xff };
static uint8_t seen_reserved[SC_ET2_RESERVED_MAX];
static int seen_reserved_len = -1;
static sc_device_event_cb inner_cb;

static void grab_reserved(void *user, const sc_device_event_t *ev)
{
    if (ev->type == SC_DEV_EV_CREDENTIALS) {
        seen_reserved_len = ev->reserved_len;
        if (ev->reserved && ev->reserved_len <= sizeof seen_reserved)
            memcpy(seen_reserved, ev->reserved, ev->reserved_len); /* valid for the call only */
    }
    inner_cb(user, ev);
}

static void test_air_v2_reserved_to_app(void **state)
{
    (void)state;
    T *t = mk(true);
    inner_cb = t->cfg.on_event;
    t->cfg.on_event = grab_reserved;
    reboot(t); /* the same device, initialised again with the wrapping callback */
    static sc_air_t air;
    sc_air_config_t ac;
    sc_air_config_default(&ac);
    ac.protocol = SC_AIR_PROTO_V2;
    ac.creds = creds().creds;
    memcpy(ac.reserved, v2_reserved, sizeof v2_reserved);
    ac.reserved_len = sizeof v2_reserved;
    ac.channel = 6;
    ac.seed = 9;
    assert_int_equal(sc_air_init(&air, &ac), SC_OK);
    assert_true(air_until_joining(t, &air) > 0);
    assert_memory_equal(t->fh.join_pwd, PASSWORD, strlen(PASSWORD));
    int creds_seen = 0, lock_v2 = 0;
    for (size_t i = 0; i < t->nev; i++) {
        if (t->ev[i].type == SC_DEV_EV_CREDENTIALS) {
            creds_seen++;
            assert_int_equal(t->ev[i].proto, SC_PROTO_ESPTOUCH_V2);
        }
        lock_v2 |= t->ev[i].type == SC_DEV_EV_LOCKED && t->ev[i].proto == SC_PROTO_ESPTOUCH_V2;
    }
    assert_int_equal(creds_seen, 1);
    assert_true(lock_v2);
    assert_int_equal(seen_reserved_len, (int)sizeof v2_reserved);
    assert_memory_equal(seen_reserved, v2_reserved, sizeof v2_reserved);
    rm(t);
}

/* ESP-TOUCH v2 and AirKiss through sc_device_on_frame, the whole flow in the protocol that
 * locked: the lock event with its overhead, the ack in that protocol (v2: [port mark, MAC] to
 * broadcast on 18266 + 10000 x mark; AirKiss: the random byte to broadcast on 10000; 30 of
 * each, none of v1's), the token handshake to DONE; and a failed join from such a session
 * reported as v1's is (the error, then Previous_Error to the next attempt's app). */
static void test_air_each_protocol_flow(void **state)
{
    (void)state;
    static const sc_air_proto_t ps[] = { SC_AIR_PROTO_V2, SC_AIR_PROTO_AIRKISS };
    static const uint8_t mac[6] = { 0x24, 0x0A, 0xC4, 1, 2, 3 };
    for (unsigned i = 0; i < 2; i++) {
        const sc_proto_t proto = ps[i] == SC_AIR_PROTO_V2 ? SC_PROTO_ESPTOUCH_V2 : SC_PROTO_AIRKISS;
        static sc_air_t air;
        sc_air_config_t ac;
        sc_air_config_default(&ac);
        ac.protocol = ps[i];
        ac.creds = creds().creds;
        ac.channel = 6;
        ac.seed = 11 + i;
        ac.v2_port_mark = 2;
        ac.ak_random = 0x5a;
        T *t = mk(true);
        assert_int_equal(sc_air_init(&air, &ac), SC_OK);
        assert_true(air_until_joining(t, &air) > 0);
        assert_memory_equal(t->fh.join_pwd, PASSWORD, strlen(PASSWORD));
        int locks = 0;
        for (size_t k = 0; k < t->nev; k++)
            if (t->ev[k].type == SC_DEV_EV_LOCKED && t->ev[k].proto == proto) {
                assert_true(t->ev[k].offset == 80 || t->ev[k].offset == 82); /* CCMP + FCS */
                locks++;
            }
        assert_true(locks >= 1);
        run(t, 4000);
        assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
        assert_int_equal(fh_count_sent(&t->fh, "255.255.255.255", 18266), 0);
        assert_int_equal(fh_count_sent(&t->fh, DATUM_IP, 18266), 0);
        if (proto == SC_PROTO_ESPTOUCH_V2) {
            assert_int_equal(fh_count_sent(&t->fh, "255.255.255.255", 38266), 30);
            const fh_dgram_t *a = fh_nth_sent(&t->fh, "255.255.255.255", 38266, 0);
            assert_int_equal(a->len, 7);
            assert_int_equal(a->data[0], 2);
            assert_memory_equal(a->data + 1, mac, 6);
        } else {
            assert_int_equal(fh_count_sent(&t->fh, "255.255.255.255", 10000), 30);
            const fh_dgram_t *a = fh_nth_sent(&t->fh, "255.255.255.255", 10000, 0);
            assert_int_equal(a->len, 1);
            assert_int_equal(a->data[0], 0x5a);
        }
        app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
        run(t, 12000);
        assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
        assert_int_equal(sc_device_state(t->dev), SC_DEV_DONE);
        assert_no_secrets(t);
        rm(t);

        /* the same session, and the AP refuses the password */
        t = mk(true);
        t->fh.sta_outcome = SC_STA_FAILED;
        t->fh.sta_reason = SC_STA_REASON_WRONG_PASSWORD;
        assert_int_equal(sc_air_init(&air, &ac), SC_OK);
        assert_true(air_until_joining(t, &air) > 0);
        run(t, 1000);
        assert_failed(t, SC_ERRID_WIFI_CONNECT, SC_SUBID_JOIN_BASE + SC_STA_REASON_WRONG_PASSWORD);
        assert_int_equal(count_ev(t, SC_DEV_EV_ERROR), 1);
        reboot(t);
        t->fh.sta_outcome = SC_STA_GOT_IP;
        fh_clear_sent(&t->fh);
        to_wait_token(t);
        app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
        run(t, 50);
        assert_non_null(strstr(reply(t, APP_IP, 8266, 0), "Previous_Error"));
        assert_string_equal(reply(t, APP_IP, 8266, 1), IDENTITY);
        assert_no_secrets(t);
        rm(t);
    }
}

/* Power lost at every byte of the storage writes of a failing attempt (join fails, nobody
 * to tell): after the reboot the device starts normally and reports either the join error
 * as Previous_Error (record completed) or nothing, never garbage, and never twice. */
static void test_power_cut_during_failure(void **state)
{
    (void)state;
    /* how many bytes the whole failing attempt writes */
    T *t = mk(true);
    t->fh.sta_outcome = SC_STA_FAILED;
    t->fh.sta_reason = SC_STA_REASON_WRONG_PASSWORD;
    t->fh.st_budget = 1L << 30;
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    sc_et_result_t r = creds();
    sc_device_inject_credentials(t->dev, &r, t->fh.now);
    run(t, 1000);
    long total = (1L << 30) - t->fh.st_budget;
    rm(t);
    assert_true(total > 100);
    unsigned reported = 0, silent = 0;
    for (long k = 0; k <= total; k += (k < 400 ? 1 : 7)) {
        t = mk(true);
        t->fh.sta_outcome = SC_STA_FAILED;
        t->fh.sta_reason = SC_STA_REASON_WRONG_PASSWORD;
        t->fh.st_erase_first = (k & 1) == 0;
        t->fh.st_budget = k;
        assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
        r = creds();
        sc_device_inject_credentials(t->dev, &r, t->fh.now);
        run(t, 1000);
        /* power comes back */
        t->fh.st_dead = false;
        t->fh.st_budget = -1;
        t->fh.sta_outcome = SC_STA_GOT_IP;
        reboot(t);
        fh_clear_sent(&t->fh);
        to_wait_token(t);
        app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
        run(t, 3100);
        size_t prev = count_replies_containing(t, APP_IP, 8266, "Previous_Error");
        size_t any = count_replies_containing(t, APP_IP, 8266, "_Error");
        assert_int_equal(prev, any);
        assert_true(prev <= 1);
        if (prev)
            assert_true(any_reply_contains(t, APP_IP, 8266, "WIFI connect error! (10, 301)"));
        reported += prev == 1;
        silent += prev == 0;
        assert_true(any_reply_contains(t, APP_IP, 8266, "productId"));
        rm(t);
    }
    assert_true(reported > 0 && silent > 0);
}

static void test_rate_limit_per_peer(void **state)
{
    (void)state;
    T *t = mk(true);
    to_wait_token(t);
    for (int i = 0; i < 20; i++)
        assert_true(fh_inject(&t->fh, "192.168.1.99", 4000, DEV_IP, 8266, "junk", 4));
    run(t, 100);
    assert_int_equal(fh_count_sent(&t->fh, "192.168.1.99", 4000), 4); /* the burst */
    /* another peer has its own budget */
    assert_true(fh_inject(&t->fh, "192.168.1.98", 4000, DEV_IP, 8266, "junk", 4));
    run(t, 50);
    assert_int_equal(fh_count_sent(&t->fh, "192.168.1.98", 4000), 1);
    run(t, 1000); /* one more per second */
    for (int i = 0; i < 5; i++)
        assert_true(fh_inject(&t->fh, "192.168.1.99", 4000, DEV_IP, 8266, "junk", 4));
    run(t, 50);
    assert_int_equal(fh_count_sent(&t->fh, "192.168.1.99", 4000), 5);
    sc_device_stats_t st;
    sc_device_stats(t->dev, &st);
    assert_int_equal(st.err_replies, 6);
    assert_int_equal(st.rate_limited, 20);
    rm(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_caller_size),
        cmocka_unit_test(test_happy_path_skip_cloud),
        cmocka_unit_test(test_skip_cloud_app_keeps_resending),
        cmocka_unit_test(test_token_during_ack),
        cmocka_unit_test(test_bind_failure_reported),
        cmocka_unit_test(test_join_failure_previous_error_once),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_bad_input_matrix),
        cmocka_unit_test(test_flood_and_rate_limit),
        cmocka_unit_test(test_log_service_and_log),
        cmocka_unit_test(test_log_cmd3_on_8266),
        cmocka_unit_test(test_log_softap_down_when_service_fails),
        cmocka_unit_test(test_softap_flow),
        cmocka_unit_test(test_inject_states_and_bad_creds),
        cmocka_unit_test(test_cloud_binding),
        cmocka_unit_test(test_air_frames_to_done),
        cmocka_unit_test(test_air_v2_reserved_to_app),
        cmocka_unit_test(test_air_each_protocol_flow),
        cmocka_unit_test(test_power_cut_during_failure),
        cmocka_unit_test(test_rate_limit_per_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
