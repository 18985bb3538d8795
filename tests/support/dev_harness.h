/* SPDX-License-Identifier: Apache-2.0 */
/* Test harness for the device state machine over the fake HAL (test_device.c and the
 * security tests): a device with a fake HAL, a simulated clock, the events it emitted, and
 * helpers to reach wait_token and talk to the 8266 service. Include after <cmocka.h>. */
#ifndef SC_DEV_HARNESS_H
#define SC_DEV_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hal.h"
#include "smartcfg/air.h"
#include "smartcfg/device.h"
#include "smartcfg/tc8266.h"

#define DEV_IP "192.168.1.23"
#define APP_IP "192.168.1.50"   /* where the app really is */
#define DATUM_IP "192.168.1.77" /* the phone IP the ESP-TOUCH data carried */
#define PASSWORD "s3cr3t-pa55word"
#define TOKEN "0123456789abcdef0123456789abcdef"
#define SECRET "c2VjcmV0LWRldmljZS1wc2s="

typedef struct {
    fake_hal_t fh;
    sc_device_t *dev;
    sc_device_config_t cfg;
    sc_device_event_t ev[512];
    size_t nev;
} T;

static inline void on_event(void *user, const sc_device_event_t *ev)
{
    T *t = user;
    if (t->nev < 512)
        t->ev[t->nev++] = *ev;
}

/* The device of t over t->fh, which the caller has set up: product ABCDEFGHIJ, device dev1. */
static inline T *mk_on(T *t, bool skip_cloud)
{
    t->dev = calloc(1, sc_device_size());
    sc_device_config_default(&t->cfg);
    strcpy(t->cfg.identity.product_id, "ABCDEFGHIJ");
    strcpy(t->cfg.identity.device_name, "dev1");
    strcpy(t->cfg.identity.device_secret, SECRET);
    t->cfg.skip_cloud = skip_cloud;
    t->cfg.on_event = on_event;
    t->cfg.user = t;
    assert_int_equal(sc_device_init(t->dev, &t->fh.hal, &t->cfg), SC_OK);
    return t;
}

static inline T *mk(bool skip_cloud)
{
    T *t = calloc(1, sizeof *t);
    fh_init(&t->fh);
    return mk_on(t, skip_cloud);
}

/* Reboot: a fresh device context over the same storage. */
static inline void reboot(T *t)
{
    memset(t->dev, 0xA5, sc_device_size());
    for (int i = 0; i < FH_SOCKS; i++)
        t->fh.hal.udp.close(t->fh.hal.udp.ctx, i);
    t->fh.joining = false;
    t->fh.ap_up = false;
    t->nev = 0;
    assert_int_equal(sc_device_init(t->dev, &t->fh.hal, &t->cfg), SC_OK);
}

static inline void rm(T *t)
{
    fh_free(&t->fh);
    free(t->dev);
    free(t);
}

static inline void run(T *t, uint32_t ms)
{
    uint32_t end = t->fh.now + ms;
    unsigned spins = 0;
    for (;;) {
        uint32_t next = sc_device_step(t->dev, t->fh.now);
        if (sc_ms_diff(next, t->fh.now) <= 0) {
            assert_true(++spins < 100000);
            continue;
        }
        spins = 0;
        if (sc_ms_diff(end, t->fh.now) <= 0)
            break;
        t->fh.now = sc_ms_min(next, end);
    }
}

static inline size_t count_ev(const T *t, sc_device_event_type_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nev; i++)
        n += t->ev[i].type == type;
    return n;
}

/* Plays air through sc_device_on_frame while the device sniffs, delivering a frame only while
 * the radio is tuned to its channel (sc_device_channel(), as a real radio would) and stepping
 * the device at its deadlines. Each frame goes over in a copy of the port's that is scribbled
 * over and freed right after the call: the core must not keep it (hal.h). Returns the frames
 * delivered. */
static inline size_t air_play(T *t, sc_air_t *air)
{
    uint32_t base = t->fh.now, deadline = sc_device_step(t->dev, t->fh.now);
    sc_frame_t f;
    uint32_t at;
    size_t delivered = 0;
    while (sc_device_state(t->dev) == SC_DEV_SNIFFING && sc_air_next(air, &f, &at) == SC_OK) {
        uint32_t now = base + at;
        while (sc_ms_diff(deadline, now) <= 0) {
            t->fh.now = deadline;
            deadline = sc_device_step(t->dev, t->fh.now);
        }
        t->fh.now = now;
        if (sc_device_channel(t->dev) == f.channel) {
            sc_frame_t *copy = malloc(sizeof *copy);
            assert_non_null(copy);
            *copy = f;
            sc_device_on_frame(t->dev, copy, now);
            memset(copy, 0xA5, sizeof *copy);
            free(copy);
            delivered++;
        }
    }
    return delivered;
}

static inline bool saw_state(const T *t, sc_device_state_t s)
{
    for (size_t i = 0; i < t->nev; i++)
        if (t->ev[i].type == SC_DEV_EV_STATE && t->ev[i].state == s)
            return true;
    return false;
}

static inline sc_et_result_t creds(void)
{
    sc_et_result_t r;
    memset(&r, 0, sizeof r);
    memcpy(r.creds.ssid, "MyAP", 4);
    r.creds.ssid_len = 4;
    r.creds.password_len = (uint8_t)strlen(PASSWORD);
    memcpy(r.creds.password, PASSWORD, r.creds.password_len);
    const uint8_t bssid[6] = { 0, 0x11, 0x22, 0x33, 0x44, 0x55 }, ip[4] = { 192, 168, 1, 77 };
    memcpy(r.creds.bssid, bssid, 6);
    memcpy(r.creds.phone_ip, ip, 4);
    r.t = (uint8_t)(9 + 4 + r.creds.password_len);
    r.channel = 6;
    return r;
}

/* start -> inject -> joined -> acks done -> wait_token */
static inline void to_wait_token(T *t)
{
    assert_int_equal(sc_device_start(t->dev, t->fh.now), SC_OK);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_SNIFFING);
    assert_true(t->fh.promisc);
    run(t, 300);
    sc_et_result_t r = creds();
    assert_int_equal(sc_device_inject_credentials(t->dev, &r, t->fh.now), SC_OK);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_JOINING);
    assert_false(t->fh.promisc);
    run(t, 4000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
}

static inline void app_send(T *t, const char *json)
{
    assert_true(fh_inject(&t->fh, APP_IP, 8266, DEV_IP, 8266, json, strlen(json)));
}

static inline const char *reply(const T *t, const char *ip, uint16_t port, size_t k)
{
    const fh_dgram_t *d = fh_nth_sent(&t->fh, ip, port, k);
    return d ? (const char *)d->data : NULL;
}

static inline void assert_no_secrets(const T *t)
{
    assert_false(fh_storage_contains(&t->fh, PASSWORD, strlen(PASSWORD)));
    assert_false(fh_storage_contains(&t->fh, TOKEN, strlen(TOKEN)));
    assert_false(fh_storage_contains(&t->fh, SECRET, strlen(SECRET)));
    assert_false(fh_log_contains(&t->fh, PASSWORD));
    assert_false(fh_log_contains(&t->fh, TOKEN));
    assert_false(fh_log_contains(&t->fh, SECRET));
    char log[2048];
    sc_device_log(t->dev, log, sizeof log);
    assert_null(strstr(log, PASSWORD));
    assert_null(strstr(log, TOKEN));
    for (size_t i = 0; i < t->nev; i++)
        assert_null(t->ev[i].text && strstr(t->ev[i].text, PASSWORD) ? "leak" : NULL);
}

static const char *const IDENTITY =
    "{\"cmdType\":2,\"productId\":\"ABCDEFGHIJ\",\"deviceName\":\"dev1\",\"productRegion\":\"ap-guangzhou\","
    "\"protoVersion\":\"2.0\"}\r\n";

static inline bool any_reply_contains(const T *t, const char *ip, uint16_t port, const char *needle)
{
    size_t n = fh_count_sent(&t->fh, ip, port);
    for (size_t i = 0; i < n; i++)
        if (strstr(reply(t, ip, port, i), needle))
            return true;
    return false;
}

static inline size_t count_replies_containing(const T *t, const char *ip, uint16_t port, const char *needle)
{
    size_t n = fh_count_sent(&t->fh, ip, port), c = 0;
    for (size_t i = 0; i < n; i++)
        c += strstr(reply(t, ip, port, i), needle) != NULL;
    return c;
}

/* Join fails (wrong password, nobody to tell) -> persisted; next attempt: Previous_Error once. */

#endif
