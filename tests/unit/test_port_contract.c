/* SPDX-License-Identifier: Apache-2.0 */
/* The port contract (include/smartcfg/hal.h, docs/porting.md) held against the real core over
 * the fake HAL, as a porter reads it:
 *  - NULL = unsupported: every entry of sc_hal_t set to NULL, one at a time, through the
 *    SmartConfig flow (air frames or injected credentials, join, ack, the app's token, the cloud
 *    bind), the soft-AP flow and the log soft-AP. Each ends as documented: done, the start
 *    call refused with SC_ERR_UNSUPPORTED (nothing started), or the documented error. The OTA
 *    core the same with its entries. make test runs this under ASan and UBSan too.
 *  - Copy what you keep: what the port hands the core (the HAL table, the configuration, frames,
 *    credentials, soft-AP names) is freed or scribbled over right after each call and the flow
 *    still ends right; what the core hands the HAL (the join password, the MQTT password) is
 *    wiped once the call returns, so a port that kept the pointer would read zeros. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "ota_mem.h"
#include "smartcfg/air.h"
#include "smartcfg/at.h"
#include "smartcfg/at_device.h"
#include "smartcfg/device.h"

#include "dev_harness.h"

/* ---- a HAL with every entry filled -------------------------------------------------- */

/* The fake HAL leaves scan, the AT data channel's MQTT requests, HTTP and the image store
 * NULL. Here each gets a stub, so that setting it to NULL below is a change the core sees. */
static unsigned scans;
static sc_err_t f_scan(void *ctx, sc_scan_entry_t *out, size_t max, size_t *n)
{
    (void)ctx;
    scans++;
    for (size_t i = 0; i < max; i++) { /* a full list: the core reads at most max */
        memset(&out[i], 0, sizeof out[i]);
        out[i].ssid_len = (uint8_t)snprintf((char *)out[i].ssid, sizeof out[i].ssid, "AP%zu", i);
        out[i].bssid[5] = (uint8_t)i;
        out[i].channel = 6;
    }
    *n = max;
    return SC_OK;
}
static sc_err_t f_subreq(void *c, const char *t, int q, int *mid) { (void)c; (void)t; (void)q; *mid = 1; return SC_ERR_IO; }
static sc_err_t f_unsub(void *c, const char *t, int *mid) { (void)c; (void)t; *mid = 1; return SC_ERR_IO; }
static sc_err_t f_reqst(void *c, int mid) { (void)c; (void)mid; return SC_ERR_NOTFOUND; }
static uint32_t f_reqord(void *c, int mid) { (void)c; (void)mid; return 0; }
static sc_err_t f_post(void *c, const char *u, const char *ct, const void *b, size_t l, uint32_t tmo, int *st, char *r,
                       size_t cap, size_t *rl)
{
    (void)c; (void)u; (void)ct; (void)b; (void)l; (void)tmo; (void)st; (void)r; (void)cap; (void)rl;
    return SC_ERR_IO;
}
static sc_err_t f_post_start(void *c, const char *u, const char *ct, const void *b, size_t l, uint32_t tmo)
{
    (void)c; (void)u; (void)ct; (void)b; (void)l; (void)tmo;
    return SC_ERR_IO;
}
static sc_err_t f_post_poll(void *c, int *st, char *r, size_t cap, size_t *rl)
{
    (void)c; (void)st; (void)r; (void)cap; (void)rl;
    return SC_ERR_IO;
}
static void f_void(void *c) { (void)c; }
static sc_err_t f_get_start(void *c, const char *u, uint32_t off) { (void)c; (void)u; (void)off; return SC_ERR_IO; }
static sc_err_t f_get_read(void *c, void *b, size_t cap, size_t *l) { (void)c; (void)b; (void)cap; *l = 0; return SC_ERR_IO; }
static sc_err_t f_fw_write(void *c, uint32_t off, const void *b, size_t l) { (void)c; (void)off; (void)b; (void)l; return SC_ERR_IO; }
static sc_err_t f_fw_op(void *c) { (void)c; return SC_ERR_IO; }
static sc_err_t f_fw_read(void *c, uint32_t off, void *b, size_t cap, size_t *l)
{
    (void)c; (void)off; (void)b; (void)cap; *l = 0;
    return SC_ERR_NOTFOUND;
}

static void fill_all(sc_hal_t *h)
{
    h->radio.scan = f_scan;
    h->mqtt.subscribe_req = f_subreq;
    h->mqtt.unsubscribe = f_unsub;
    h->mqtt.request_status = f_reqst;
    h->mqtt.request_order = f_reqord;
    h->http = (sc_hal_http_t){ NULL, f_post, f_post_start, f_post_poll, f_void, f_get_start, f_get_read, f_void };
    h->fw = (sc_hal_fw_t){ NULL, f_fw_write, f_fw_op, f_fw_op, f_fw_read };
}

/* ---- the entries and what each flow does without one ------------------------------------- */

typedef enum {
    R_DONE,    /* the flow ends DONE (bound to the cloud); the log soft-AP answers cmdType 3 */
    R_UNSUP,   /* the start call returns SC_ERR_UNSUPPORTED and starts nothing */
    R_NOMQTT,  /* the bind step fails: err 1, sub SC_ERR_UNSUPPORTED, told to the app */
} outcome_t;

typedef struct {
    const char *name;
    size_t off, size;
    outcome_t sc, softap, logap;
} entry_t;

#define E(path, sc, sap, log) { #path, offsetof(sc_hal_t, path), sizeof(((sc_hal_t *)0)->path), sc, sap, log }
static const entry_t entries[] = {
    E(sys.now_ms, R_UNSUP, R_UNSUP, R_DONE),          /* required (and the compat API's clock) */
    E(sys.unix_time, R_DONE, R_DONE, R_DONE),         /* MQTT credentials for an unknown clock */
    E(sys.random, R_DONE, R_DONE, R_DONE),
    E(sys.log, R_DONE, R_DONE, R_DONE),
    E(radio.set_promiscuous, R_DONE, R_DONE, R_DONE), /* the port drives its radio itself */
    E(radio.set_channel, R_DONE, R_DONE, R_DONE),     /* ... from sc_device_channel() */
    E(radio.scan, R_DONE, R_DONE, R_DONE),
    E(station.join, R_UNSUP, R_UNSUP, R_DONE),
    E(station.status, R_UNSUP, R_UNSUP, R_DONE),
    E(station.get_ip, R_UNSUP, R_UNSUP, R_DONE),
    E(station.get_mac, R_DONE, R_DONE, R_DONE),       /* the ack carries a zero MAC */
    E(station.leave, R_DONE, R_DONE, R_DONE),
    E(softap.start, R_DONE, R_UNSUP, R_UNSUP),
    E(softap.stop, R_DONE, R_UNSUP, R_UNSUP),         /* start and stop come as a pair */
    E(udp.open, R_UNSUP, R_UNSUP, R_UNSUP),
    E(udp.send_to, R_UNSUP, R_UNSUP, R_UNSUP),
    E(udp.recv_from, R_UNSUP, R_UNSUP, R_UNSUP),
    E(udp.close, R_UNSUP, R_UNSUP, R_UNSUP),
    E(mqtt.connect, R_NOMQTT, R_NOMQTT, R_DONE),
    E(mqtt.state, R_NOMQTT, R_NOMQTT, R_DONE),
    E(mqtt.subscribe, R_NOMQTT, R_NOMQTT, R_DONE),
    E(mqtt.publish, R_NOMQTT, R_NOMQTT, R_DONE),
    E(mqtt.puback_received, R_DONE, R_DONE, R_DONE),  /* the reply is the only evidence */
    E(mqtt.poll, R_NOMQTT, R_NOMQTT, R_DONE),
    E(mqtt.disconnect, R_DONE, R_DONE, R_DONE),
    E(mqtt.subscribe_req, R_DONE, R_DONE, R_DONE),
    E(mqtt.unsubscribe, R_DONE, R_DONE, R_DONE),
    E(mqtt.request_status, R_DONE, R_DONE, R_DONE),
    E(mqtt.request_order, R_DONE, R_DONE, R_DONE),
    E(storage.get, R_DONE, R_DONE, R_DONE),
    E(storage.put, R_DONE, R_DONE, R_DONE),
    E(storage.erase, R_DONE, R_DONE, R_DONE),
    E(http.post, R_DONE, R_DONE, R_DONE),             /* a device with its PSK never registers */
    E(http.post_start, R_DONE, R_DONE, R_DONE),
    E(http.post_poll, R_DONE, R_DONE, R_DONE),
    E(http.post_cancel, R_DONE, R_DONE, R_DONE),
    E(http.get_start, R_DONE, R_DONE, R_DONE),
    E(http.get_read, R_DONE, R_DONE, R_DONE),
    E(http.get_close, R_DONE, R_DONE, R_DONE),
    E(fw.write, R_DONE, R_DONE, R_DONE),
    E(fw.commit, R_DONE, R_DONE, R_DONE),
    E(fw.discard, R_DONE, R_DONE, R_DONE),
    E(fw.read, R_DONE, R_DONE, R_DONE),
};
#define NENTRIES (sizeof entries / sizeof entries[0])

/* Every function pointer of sc_hal_t is in the table above: the pointers fill the struct but
 * for the nine ctx members. A new HAL function without a row here fails this. */
static void test_every_entry_listed(void **state)
{
    (void)state;
    size_t fn_bytes = 0;
    for (size_t i = 0; i < NENTRIES; i++)
        fn_bytes += entries[i].size;
    assert_int_equal(fn_bytes + 9 * sizeof(void *), sizeof(sc_hal_t));
    for (size_t i = 0; i < NENTRIES; i++)
        for (size_t k = i + 1; k < NENTRIES; k++)
            assert_true(entries[i].off != entries[k].off);
}

/* A device over a full fake HAL without `e` (NULL: all-zero bits on every target we build
 * for), bound by the scripted cloud. */
/* A device on a HAL without the n entries es[] (NULL ones skipped) */
static T *mk_without_n(const entry_t *const *es, size_t n)
{
    T *t = calloc(1, sizeof *t);
    fh_init(&t->fh);
    fill_all(&t->fh.hal);
    for (size_t i = 0; i < n; i++)
        if (es[i])
            memset((char *)&t->fh.hal + es[i]->off, 0, es[i]->size);
    t->fh.mqtt_state = SC_MQTT_CONNECTED;
    return mk_on(t, false);
}

static T *mk_without(const entry_t *e)
{
    return mk_without_n(&e, 1);
}

static size_t open_sockets(const T *t)
{
    size_t n = 0;
    for (int i = 0; i < FH_SOCKS; i++)
        n += t->fh.sock[i].open;
    return n;
}

/* The start call refused: the device is idle and nothing of the HAL was started. */
static void assert_refused(const char *what, const T *t, sc_err_t e)
{
    if (e != SC_ERR_UNSUPPORTED)
        fail_msg("without %s: start gave %d, not SC_ERR_UNSUPPORTED", what, (int)e);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_IDLE);
    assert_false(t->fh.promisc);
    assert_false(t->fh.ap_up);
    assert_int_equal(t->fh.joins, 0);
    assert_int_equal(open_sockets(t), 0);
    assert_int_equal(count_ev(t, SC_DEV_EV_ERROR), 0);
}

static void assert_outcome(const char *what, const char *flow, T *t, outcome_t want, const char *app_ip)
{
    uint16_t err = 0;
    int32_t sub = 0;
    bool has_err = sc_device_last_error(t->dev, &err, &sub);
    if (want == R_DONE) {
        if (sc_device_state(t->dev) != SC_DEV_DONE || has_err)
            fail_msg("without %s, %s flow: %s (err %u, %ld), not done", what, flow,
                     sc_device_state_name(sc_device_state(t->dev)), err, (long)sub);
        assert_int_equal(count_ev(t, SC_DEV_EV_BOUND), 1);
        return;
    }
    if (sc_device_state(t->dev) != SC_DEV_FAILED || !has_err || err != SC_ERRID_MQTT_CONNECT || sub != SC_ERR_UNSUPPORTED)
        fail_msg("without %s, %s flow: %s (err %u, %ld), not err 1/SC_ERR_UNSUPPORTED", what, flow,
                 sc_device_state_name(sc_device_state(t->dev)), err, (long)sub);
    assert_true(any_reply_contains(t, app_ip, 8266, "\"Current_Error\",\"log\":\"MQTT connect error! (1, -12)\""));
}

static sc_air_t air;

/* Air frames through sc_device_on_frame, delivered only while the port's radio would be on
 * the frame's channel: sc_device_channel(), what a port without set_channel tunes to itself. */
static void air_to_joining(T *t)
{
    sc_air_config_t ac;
    sc_air_config_default(&ac);
    ac.creds = creds().creds;
    ac.channel = 6;
    ac.seed = 3;
    assert_int_equal(sc_air_init(&air, &ac), SC_OK);
    (void)air_play(t, &air); /* each frame in a copy that dies with the call */
}

static void smartconfig_flow(const entry_t *e, bool by_air)
{
    const char *what = e ? e->name : "nothing";
    outcome_t want = e ? e->sc : R_DONE;
    T *t = mk_without(e);
    scans = 0;
    sc_err_t r = sc_device_start(t->dev, t->fh.now);
    if (want == R_UNSUP) {
        assert_refused(what, t, r);
        rm(t);
        return;
    }
    assert_int_equal(r, SC_OK);
    assert_int_equal(scans, t->fh.hal.radio.scan ? 1 : 0);
    if (by_air) {
        air_to_joining(t);
    } else {
        run(t, 300);
        sc_et_result_t cr = creds();
        assert_int_equal(sc_device_inject_credentials(t->dev, &cr, t->fh.now), SC_OK);
        memset(&cr, 0xA5, sizeof cr); /* the port's copy is gone: the ack still needs T and the phone's IP */
    }
    if (sc_device_state(t->dev) != SC_DEV_JOINING)
        fail_msg("without %s: %s after the credentials", what, sc_device_state_name(sc_device_state(t->dev)));
    run(t, 4000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
    assert_int_equal(fh_count_sent(&t->fh, DATUM_IP, 18266), 30);
    const fh_dgram_t *ack = fh_nth_sent(&t->fh, DATUM_IP, 18266, 0);
    assert_int_equal(ack->len, 11);
    assert_int_equal(ack->data[0], 9 + 4 + strlen(PASSWORD));
    static const uint8_t zero_mac[6];
    if (t->fh.hal.station.get_mac)
        assert_memory_equal(ack->data + 1, t->fh.mac, 6);
    else
        assert_memory_equal(ack->data + 1, zero_mac, 6); /* documented: no MAC, zeros */
    assert_memory_equal(ack->data + 7, t->fh.ip, 4);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 49000);
    assert_outcome(what, "SmartConfig", t, want, APP_IP);
    if (!t->fh.hal.storage.put)
        assert_int_equal(t->fh.puts, 0);
    if (!t->fh.hal.sys.log)
        assert_int_equal(t->fh.loglen, 0);
    if (t->fh.hal.udp.close) {
        run(t, 300000); /* the window closes the 8266 service: every socket released */
        assert_int_equal(open_sockets(t), 0);
    }
    assert_no_secrets(t);
    rm(t);
}

static void softap_flow(const entry_t *e)
{
    const char *what = e ? e->name : "nothing";
    outcome_t want = e ? e->softap : R_DONE;
    T *t = mk_without(e);
    char *ssid = strdup("Dev-AP"), *psw = strdup("12345678");
    sc_err_t r = sc_device_start_softap(t->dev, ssid, psw, 6, t->fh.now);
    memset(ssid, 'x', strlen(ssid)); /* the port's strings die with the call */
    memset(psw, 'x', strlen(psw));
    free(ssid);
    free(psw);
    if (want == R_UNSUP) {
        assert_refused(what, t, r);
        rm(t);
        return;
    }
    assert_int_equal(r, SC_OK);
    assert_string_equal(t->fh.ap_ssid, "Dev-AP");
    const char *req = "{\"cmdType\":1,\"ssid\":\"HomeNet\",\"password\":\"" PASSWORD "\",\"token\":\"" TOKEN "\"}";
    assert_true(fh_inject(&t->fh, "192.168.4.2", 8266, "192.168.4.1", 8266, req, strlen(req)));
    run(t, 2100);
    assert_false(t->fh.ap_up);
    assert_int_equal(t->fh.joins, 1);
    run(t, 49000);
    if (want == R_DONE) {
        assert_outcome(what, "soft-AP", t, want, "192.168.4.2");
    } else { /* the 8266 service closed with the AP: the error is the app's next Previous_Error */
        uint16_t err = 0;
        int32_t sub = 0;
        assert_int_equal(sc_device_state(t->dev), SC_DEV_FAILED);
        assert_true(sc_device_last_error(t->dev, &err, &sub));
        if (err != SC_ERRID_MQTT_CONNECT || sub != SC_ERR_UNSUPPORTED)
            fail_msg("without %s, soft-AP flow: err %u, %ld", what, err, (long)sub);
        /* the next attempt's app hears it first */
        t->cfg.skip_cloud = true;
        assert_int_equal(sc_device_configure(t->dev, &t->cfg), SC_OK);
        assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
        sc_et_result_t cr = creds();
        assert_int_equal(sc_device_inject_credentials(t->dev, &cr, t->fh.now), SC_OK);
        run(t, 4000);
        app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
        run(t, 50);
        assert_true(any_reply_contains(t, APP_IP, 8266, "\"Previous_Error\",\"log\":\"MQTT connect error! (1, -12)\""));
    }
    assert_no_secrets(t);
    rm(t);
}

static void log_softap(const entry_t *e)
{
    const char *what = e ? e->name : "nothing";
    outcome_t want = e ? e->logap : R_DONE;
    T *t = mk_without(e);
    sc_err_t r = sc_device_start_log_softap(t->dev, t->fh.now);
    if (want == R_UNSUP) {
        assert_refused(what, t, r);
        rm(t);
        return;
    }
    assert_int_equal(r, SC_OK);
    assert_true(fh_inject(&t->fh, "192.168.4.2", 5555, "192.168.4.1", 9876, "{\"cmdType\":3}", 13));
    run(t, 100);
    if (fh_count_sent(&t->fh, "192.168.4.2", 5555) != 1)
        fail_msg("without %s: the log service did not answer", what);
    sc_device_stop_log_softap(t->dev);
    assert_false(t->fh.ap_up);
    assert_int_equal(open_sockets(t), 0);
    rm(t);
}

static void test_baseline(void **state)
{
    (void)state;
    smartconfig_flow(NULL, false);
    smartconfig_flow(NULL, true);
    softap_flow(NULL);
    log_softap(NULL);
}

static void test_each_entry_null(void **state)
{
    (void)state;
    for (size_t i = 0; i < NENTRIES; i++) {
        const entry_t *e = &entries[i];
        /* the radio's entries through real frames, the others through injected credentials */
        smartconfig_flow(e, strncmp(e->name, "radio.", 6) == 0);
        softap_flow(e);
        log_softap(e);
    }
}

/* station.leave NULL when the join times out; sys.unix_time NULL with dynamic registration;
 * http.post NULL with dynamic registration: each as documented. */
static void test_null_documented_failures(void **state)
{
    (void)state;
    const entry_t *leave = NULL, *unix_time = NULL, *post = NULL, *post_start = NULL, *post_poll = NULL;
    for (size_t i = 0; i < NENTRIES; i++) {
        if (!strcmp(entries[i].name, "station.leave")) leave = &entries[i];
        if (!strcmp(entries[i].name, "sys.unix_time")) unix_time = &entries[i];
        if (!strcmp(entries[i].name, "http.post")) post = &entries[i];
        if (!strcmp(entries[i].name, "http.post_start")) post_start = &entries[i];
        if (!strcmp(entries[i].name, "http.post_poll")) post_poll = &entries[i];
    }
    T *t = mk_without(leave);
    t->fh.sta_outcome = SC_STA_CONNECTING;
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    sc_et_result_t cr = creds();
    assert_int_equal(sc_device_inject_credentials(t->dev, &cr, t->fh.now), SC_OK);
    run(t, 61000);
    uint16_t err = 0;
    int32_t sub = 0;
    assert_true(sc_device_last_error(t->dev, &err, &sub));
    assert_int_equal(err, SC_ERRID_WIFI_CONNECT);
    assert_int_equal(sub, SC_SUBID_TIMEOUT);
    rm(t);

    /* a device with only its product secret registers first: no clock, no HTTP (neither post
     * nor post_start/post_poll), or its POST failing -> err 27; post() alone or the background
     * pair alone is enough to try (binder.c: the pair when both are there) */
    struct { const entry_t *e[3]; int32_t sub; } reg[] = {
        { { unix_time }, SC_SUBID_TIMESTAMP },
        { { post, post_start, post_poll }, SC_ERR_UNSUPPORTED },
        { { post }, SC_ERR_IO },                    /* the pair: its fake's start fails */
        { { post_start, post_poll }, SC_ERR_IO },   /* post(): its fake fails */
        { { post_poll }, SC_ERR_IO },               /* half the pair is none: post() */
    };
    for (size_t i = 0; i < sizeof reg / sizeof reg[0]; i++) {
        t = mk_without_n(reg[i].e, 3);
        t->cfg.identity.device_secret[0] = '\0';
        strcpy(t->cfg.identity.product_secret, "c2VjcmV0LXByb2R1Y3Qta2V5");
        assert_int_equal(sc_device_configure(t->dev, &t->cfg), SC_OK);
        assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
        cr = creds();
        assert_int_equal(sc_device_inject_credentials(t->dev, &cr, t->fh.now), SC_OK);
        run(t, 4000);
        app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
        run(t, 5000);
        assert_true(sc_device_last_error(t->dev, &err, &sub));
        if (err != SC_ERRID_DEVINFO || sub != reg[i].sub)
            fail_msg("dynreg without %s: err %u, %ld", reg[i].e[0]->name, err, (long)sub);
        assert_int_equal(t->fh.mqtt_connects, 0);
        rm(t);
    }
}

/* ---- OTA: every entry it uses, NULL ------------------------------------------------------ */

#define OTA_IMG 3000
static uint8_t ota_body[OTA_IMG], ota_part[OTA_IMG], ota_full[OTA_IMG];
static sc_ota_t ota;

typedef enum { O_OK, O_ENABLE_UNSUP, O_FAIL, O_NO_READBACK } ota_outcome_t;

static void test_ota_each_entry_null(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        size_t off, size;
        ota_outcome_t want;
    } oe[] = {
#define O(path, w) { #path, offsetof(sc_hal_t, path), sizeof(((sc_hal_t *)0)->path), w }
        O(mqtt.publish, O_ENABLE_UNSUP),
        O(mqtt.subscribe, O_ENABLE_UNSUP), /* subscribe_req is NULL in ota_mem: no way to subscribe */
        O(http.get_start, O_FAIL), O(http.get_read, O_FAIL), O(http.get_close, O_OK),
        O(fw.write, O_FAIL), O(fw.commit, O_FAIL), O(fw.discard, O_OK), O(fw.read, O_NO_READBACK),
        O(storage.get, O_NO_READBACK), O(storage.put, O_FAIL), O(storage.erase, O_OK),
        O(sys.now_ms, O_OK), O(sys.log, O_OK),
#undef O
    };
    for (size_t i = 0; i < OTA_IMG; i++)
        ota_body[i] = (uint8_t)(i * 7 + 1);
    char msg[300];
    assert_int_equal(omh_serve(ota_body, OTA_IMG, ota_part, ota_full, msg, sizeof msg), 0);
    for (size_t i = 0; i < sizeof oe / sizeof oe[0]; i++) {
        (void)omh_start(&ota, OTA_IMG);   /* builds omh.hal, which the OTA context keeps */
        sc_ota_disable(&ota);
        memset((char *)&omh.hal + oe[i].off, 0, oe[i].size);
        sc_err_t e = sc_ota_enable(&ota, "PRD", "dev", "1.0.0", 0);
        if (oe[i].want == O_ENABLE_UNSUP) {
            assert_int_equal(e, SC_ERR_UNSUPPORTED);
            assert_false(sc_ota_enabled(&ota));
            continue;
        }
        if (e != SC_OK)
            fail_msg("OTA without %s: enable gave %d", oe[i].name, (int)e);
        assert_int_equal(sc_ota_on_message(&ota, "$ota/update/PRD/dev", msg, strlen(msg), 0), SC_OK);
        for (uint32_t now = 0; now < 60000 && sc_ota_downloading(&ota); now += 10)
            (void)sc_ota_step(&ota, now);
        assert_false(sc_ota_downloading(&ota));
        int want_ev = oe[i].want == O_FAIL ? SC_OTA_EV_FAIL : SC_OTA_EV_SUCCESS;
        if (omh.last_ev != want_ev)
            fail_msg("OTA without %s: event %d, not %d", oe[i].name, omh.last_ev, want_ev);
        sc_ota_fwinfo_t fi;
        sc_err_t fe = sc_ota_fw_info(&ota, &fi);
        uint8_t back[64];
        size_t n = 0;
        sc_err_t re = sc_ota_fw_read(&ota, back, sizeof back, &n);
        if (oe[i].want == O_OK) {
            assert_int_equal(fe, SC_OK);
            assert_int_equal(re, SC_OK);
            assert_memory_equal(back, ota_body, sizeof back);
        } else {
            assert_int_equal(re, SC_ERR_NOTFOUND); /* no image to hand out, never a wrong one */
        }
    }
}

/* ---- copy what you keep ------------------------------------------------------------------ */

static char at_text[2048];
static size_t at_len;
static void at_out(void *user, const char *data, size_t len)
{
    (void)user;
    if (at_len + len < sizeof at_text) {
        memcpy(at_text + at_len, data, len);
        at_len += len;
        at_text[at_len] = '\0';
    }
}
static sc_err_t at_get(void *c, const char *k, void *b, size_t cap, size_t *l)
{
    (void)c; (void)k; (void)b; (void)cap; (void)l;
    return SC_ERR_NOTFOUND;
}
static sc_err_t at_put(void *c, const char *k, const void *b, size_t l) { (void)c; (void)k; (void)b; (void)l; return SC_OK; }
static sc_err_t at_erase(void *c, const char *k) { (void)c; (void)k; return SC_OK; }
static const sc_hal_storage_t at_storage = { NULL, at_get, at_put, at_erase };

/* The HAL table and the configuration (with its channel list) are copied by sc_device_init:
 * freed and scribbled right after it, the flow still ends right. */
static void test_port_buffers_not_kept(void **state)
{
    (void)state;
    T *t = calloc(1, sizeof *t);
    fh_init(&t->fh);
    t->fh.mqtt_state = SC_MQTT_CONNECTED;
    t->dev = calloc(1, sizeof(sc_device_t));
    sc_hal_t *hal = malloc(sizeof *hal);
    *hal = t->fh.hal;
    sc_device_config_t *cfg = malloc(sizeof *cfg);
    sc_device_config_default(cfg);
    strcpy(cfg->identity.product_id, "ABCDEFGHIJ");
    strcpy(cfg->identity.device_name, "dev1");
    strcpy(cfg->identity.device_secret, SECRET);
    cfg->on_event = on_event;
    cfg->user = t;
    uint8_t *chans = malloc(3);
    chans[0] = 1, chans[1] = 6, chans[2] = 11;
    cfg->channels = chans;
    cfg->nchannels = 3;
    assert_int_equal(sc_device_init(t->dev, hal, cfg), SC_OK);
    memset(hal, 0xA5, sizeof *hal);
    memset(cfg, 0xA5, sizeof *cfg);
    memset(chans, 0xA5, 3);
    free(hal);
    free(cfg);
    free(chans);
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    air_to_joining(t); /* frames heap-copied and freed after each call */
    assert_int_equal(sc_device_state(t->dev), SC_DEV_JOINING);
    run(t, 4000);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 49000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_DONE);
    assert_int_equal(count_ev(t, SC_DEV_EV_BOUND), 1);
    rm(t);

    /* sc_at_init copies its configuration; the storage table and the two names it points to
     * are kept (at.h): static here, as a port's are */
    static sc_at_t at;
    sc_at_config_t *ac = malloc(sizeof *ac);
    sc_at_config_default(ac);
    ac->output = at_out;
    ac->storage = &at_storage;
    ac->fw_version = "fw-1.2.3";
    assert_int_equal(sc_at_init(&at, ac, NULL), SC_OK);
    memset(ac, 0xA5, sizeof *ac);
    free(ac);
    char *cmd = strdup("AT+GMR\r\n");
    sc_at_feed(&at, cmd, strlen(cmd), 0);
    memset(cmd, 'x', strlen(cmd));
    free(cmd);
    assert_non_null(strstr(at_text, "fw-1.2.3"));
    assert_non_null(strstr(at_text, "OK"));
}

/* ---- the AT module: the same entries NULL under the AT binding ----------------------------- */

/* A port that is an AT module (at_device.h) reaches the HAL through the binding: every AT
 * command that touches it, with each entry NULL in turn. Each command must be answered (OK,
 * ERROR, FAIL or CME ERROR; a pending one within the pending timeout), nothing may crash. */
static const char *const at_cmds[] = {
    "AT\r\n",
    "AT+TCMODULE\r\n",
    "AT+TCDEVINFOSET=1,\"ABCDEFGHIJ\",\"dev1\",\"" SECRET "\"\r\n",
    "AT+TCMQTTCONN=1,5000,240,1,0\r\n",
    "AT+TCMQTTSTATE?\r\n",
    "AT+TCMQTTPUB=\"$thing/up/property/ABCDEFGHIJ/dev1\",0,\"{}\"\r\n",
    "AT+TCMQTTPUB=\"$thing/up/property/ABCDEFGHIJ/dev1\",1,\"{}\"\r\n",
    "AT+TCMQTTSUB=\"$thing/down/property/ABCDEFGHIJ/dev1\",0\r\n",
    "AT+TCMQTTUNSUB=\"$thing/down/property/ABCDEFGHIJ/dev1\"\r\n",
    "AT+TCOTASET=1,\"1.0.0\"\r\n",
    "AT+TCFWINFO?\r\n",
    "AT+TCREADFWDATA=16\r\n",
    "AT+TCOTASET=0,\"1.0.0\"\r\n",
    "AT+TCMQTTDISCONN\r\n",
    "AT+TCPRDINFOSET=1,\"ABCDEFGHIJ\",\"c2VjcmV0LXByb2R1Y3Qta2V5\",\"dev2\"\r\n",
    "AT+TCDEVREG\r\n",
    "AT+TCDEVINFOSET=1,\"ABCDEFGHIJ\",\"dev1\",\"" SECRET "\"\r\n",
    "AT+TCSTARTSMART\r\n",
    "AT+TCSTOPSMART\r\n",
    "AT+TCSAP=\"ap\",\"wifipass99\"\r\n",
    "AT+TCSTOPSAP\r\n",
    "AT+CWJAP=\"MyAP\",\"password\"\r\n",
    "AT+CWJAP?\r\n",
    "AT+CIPSTA?\r\n",
    "AT+CWQAP\r\n",
    "AT+RST\r\n",
    "AT+TCRESTORE\r\n",
};

static void at_run(sc_at_device_t *b, sc_at_t *at, sc_device_t *dev, sc_ota_t *o, fake_hal_t *fh, uint32_t ms)
{
    for (uint32_t end = fh->now + ms; sc_ms_diff(end, fh->now) > 0; fh->now += 20) {
        sc_at_device_step(b, fh->now);
        (void)sc_device_step(dev, fh->now);
        (void)sc_at_tick(at, fh->now);
        (void)sc_ota_step(o, fh->now);
    }
}

static void test_at_each_entry_null(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_device_t dev;
    static sc_ota_t o;
    static fake_hal_t fh;
    for (size_t i = 0; i <= NENTRIES; i++) { /* the last round: nothing NULL */
        const char *what = i < NENTRIES ? entries[i].name : "nothing";
        fh_init(&fh);
        fill_all(&fh.hal);
        if (i < NENTRIES)
            memset((char *)&fh.hal + entries[i].off, 0, entries[i].size);
        fh.mqtt_state = SC_MQTT_CONNECTED;
        sc_device_config_t base;
        sc_device_config_default(&base);
        sc_at_ops_t ops;
        sc_at_device_bind(&b, &dev, &fh.hal, &base, &ops);
        sc_at_config_t ac;
        sc_at_config_default(&ac);
        ac.output = at_out;
        ac.storage = &fh.hal.storage;
        ac.pending_timeout_ms = 3000;
        assert_int_equal(sc_at_init(&at, &ac, &ops), SC_OK);
        sc_at_device_attach(&b, &at);
        (void)sc_at_device_attach_ota(&b, &o, 8192);
        for (size_t k = 0; k < sizeof at_cmds / sizeof at_cmds[0]; k++) {
            at_len = 0;
            at_text[0] = '\0';
            sc_at_feed(&at, at_cmds[k], strlen(at_cmds[k]), fh.now);
            at_run(&b, &at, &dev, &o, &fh, 3500);
            if (!strstr(at_text, "OK") && !strstr(at_text, "ERROR") && !strstr(at_text, "FAIL"))
                fail_msg("AT without %s: %.*s answered \"%s\"", what, (int)strlen(at_cmds[k]) - 2, at_cmds[k], at_text);
        }
        sc_device_stop(&dev, SC_SUBID_STOP_AT, fh.now);
        fh_free(&fh);
    }
}

/* What the core hands the HAL lives only for the call: the join password and the MQTT
 * password are wiped as soon as join() and connect() return, so a port that kept the pointer
 * instead of copying would join with zeros. */
static sc_err_t (*real_join)(void *, const uint8_t *, size_t, const uint8_t *, size_t, const uint8_t *);
static sc_err_t (*real_connect)(void *, const sc_mqtt_connect_t *);
static const uint8_t *kept_pwd;
static size_t kept_pwd_len;
static const char *kept_mqtt_pwd;
static char mqtt_pwd_copy[128];
static sc_err_t keep_join(void *ctx, const uint8_t *ssid, size_t sl, const uint8_t *pwd, size_t pl, const uint8_t *bssid)
{
    kept_pwd = pwd;
    kept_pwd_len = pl;
    assert_memory_equal(pwd, PASSWORD, pl); /* valid during the call */
    return real_join(ctx, ssid, sl, pwd, pl, bssid);
}
static sc_err_t keep_connect(void *ctx, const sc_mqtt_connect_t *p)
{
    kept_mqtt_pwd = p->password;
    assert_true(strlen(p->password) > 0 && strlen(p->password) < sizeof mqtt_pwd_copy);
    strcpy(mqtt_pwd_copy, p->password);
    return real_connect(ctx, p);
}

static void test_core_buffers_not_for_keeping(void **state)
{
    (void)state;
    T *t = calloc(1, sizeof *t);
    fh_init(&t->fh);
    t->fh.mqtt_state = SC_MQTT_CONNECTED;
    real_join = t->fh.hal.station.join;
    real_connect = t->fh.hal.mqtt.connect;
    t->fh.hal.station.join = keep_join;
    t->fh.hal.mqtt.connect = keep_connect;
    mk_on(t, false);
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    sc_et_result_t cr = creds();
    assert_int_equal(sc_device_inject_credentials(t->dev, &cr, t->fh.now), SC_OK);
    assert_non_null(kept_pwd);
    assert_int_equal(kept_pwd_len, strlen(PASSWORD));
    for (size_t i = 0; i < kept_pwd_len; i++)
        assert_int_equal(kept_pwd[i], 0); /* wiped: hal.h's "copy all three" is not a formality */
    run(t, 4000);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 49000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_DONE);
    assert_non_null(kept_mqtt_pwd);
    assert_true(strcmp(kept_mqtt_pwd, mqtt_pwd_copy) != 0);
    assert_int_equal(kept_mqtt_pwd[0], '\0');
    sc_wipe(mqtt_pwd_copy, sizeof mqtt_pwd_copy);
    rm(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_entry_listed),
        cmocka_unit_test(test_baseline),
        cmocka_unit_test(test_each_entry_null),
        cmocka_unit_test(test_null_documented_failures),
        cmocka_unit_test(test_ota_each_entry_null),
        cmocka_unit_test(test_at_each_entry_null),
        cmocka_unit_test(test_port_buffers_not_kept),
        cmocka_unit_test(test_core_buffers_not_for_keeping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
