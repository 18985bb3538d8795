/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the OTA core fed an arbitrary $ota/update message (the first part of the input)
 * and an arbitrary HTTP body and outcome (the rest), over an in-memory store. Checks that
 * nothing crashes, that an update only ever succeeds with an image of the announced size, and
 * that what AT+TCREADFWDATA reads back is what was stored. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smartcfg/ota.h"

static const uint8_t *body;
static size_t body_len, served;
static uint8_t outcome;                       /* what get_read says at the end of the body */
static uint8_t store[1 << 16], part[1 << 16];
static size_t store_len, part_len;
static bool have_store;
static uint8_t rec[256];
static size_t rec_len;
static int last_ev = -1;

static sc_err_t m_pub(void *c, const char *t, const void *p, size_t n, int q, int *mid)
{ (void)c; (void)t; (void)p; (void)n; (void)q; *mid = 1; return SC_OK; }
static sc_err_t m_sub(void *c, const char *t, int q) { (void)c; (void)t; (void)q; return SC_OK; }
static sc_err_t g_start(void *c, const char *u, uint32_t off)
{
    (void)c; (void)u;
    served = off;
    return SC_OK;
}
static sc_err_t g_read(void *c, void *b, size_t cap, size_t *len)
{
    (void)c;
    *len = 0;
    if (served >= body_len) {
        static const sc_err_t ends[] = { SC_ERR_DONE, SC_ERR_IO, SC_ERR_NOTFOUND, SC_ERR_AUTH, SC_ERR_PROTO, SC_ERR_AGAIN };
        return ends[outcome % 6];
    }
    size_t n = body_len - served < cap ? body_len - served : cap;
    memcpy(b, body + served, n);
    served += n;
    *len = n;
    return SC_OK;
}
static void g_close(void *c) { (void)c; }
static sc_err_t f_write(void *c, uint32_t off, const void *b, size_t n)
{
    (void)c;
    if (off == 0)
        part_len = 0;
    if (off != part_len || part_len + n > sizeof part)
        return SC_ERR_NOSPACE;
    memcpy(part + part_len, b, n);
    part_len += n;
    return SC_OK;
}
static sc_err_t f_commit(void *c) { (void)c; memcpy(store, part, part_len); store_len = part_len; have_store = true; return SC_OK; }
static sc_err_t f_discard(void *c) { (void)c; part_len = 0; return SC_OK; }
static sc_err_t f_read(void *c, uint32_t off, void *b, size_t cap, size_t *len)
{
    (void)c;
    if (!have_store)
        return SC_ERR_NOTFOUND;
    size_t n = off >= store_len ? 0 : store_len - off < cap ? store_len - off : cap;
    memcpy(b, store + off, n);
    *len = n;
    return SC_OK;
}
static sc_err_t s_get(void *c, const char *k, void *b, size_t cap, size_t *len)
{
    (void)c; (void)k;
    if (!rec_len)
        return SC_ERR_NOTFOUND;
    if (rec_len > cap)
        return SC_ERR_NOSPACE;
    memcpy(b, rec, rec_len);
    *len = rec_len;
    return SC_OK;
}
static sc_err_t s_put(void *c, const char *k, const void *b, size_t n)
{
    (void)c; (void)k;
    if (n > sizeof rec)
        return SC_ERR_NOSPACE;
    memcpy(rec, b, n);
    rec_len = n;
    return SC_OK;
}
static sc_err_t s_erase(void *c, const char *k) { (void)c; (void)k; rec_len = 0; return SC_OK; }
static void on_ev(void *u, sc_ota_event_t ev, int code) { (void)u; (void)code; last_ev = (int)ev; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* [msg_len:2][outcome:1][message][body] */
    if (size < 3)
        return 0;
    size_t mlen = (size_t)data[0] | (size_t)data[1] << 8;
    outcome = data[2];
    data += 3;
    size -= 3;
    if (mlen > size)
        mlen = size;
    body = data + mlen;
    body_len = size - mlen;
    served = part_len = store_len = rec_len = 0;
    have_store = false;
    last_ev = -1;
    sc_hal_t hal;
    memset(&hal, 0, sizeof hal);
    hal.mqtt.publish = m_pub;
    hal.mqtt.subscribe = m_sub;
    hal.http.get_start = g_start;
    hal.http.get_read = g_read;
    hal.http.get_close = g_close;
    hal.fw = (sc_hal_fw_t){ NULL, f_write, f_commit, f_discard, f_read };
    hal.storage = (sc_hal_storage_t){ NULL, s_get, s_put, s_erase };
    static sc_ota_t ota;
    sc_ota_init(&ota, &hal, 1 << 15, on_ev, NULL);
    if (sc_ota_enable(&ota, "PRD", "dev", "1.0.0", 0) != SC_OK)
        abort();
    sc_ota_on_message(&ota, "$ota/update/PRD/dev", data, mlen, 0);
    uint32_t now = 0;
    for (int i = 0; i < 20000 && sc_ota_downloading(&ota); i++) {
        now += 50;
        (void)sc_ota_step(&ota, now);
    }
    if (sc_ota_downloading(&ota))
        abort();   /* every download ends: success, failure or the stall bound */
    sc_ota_fwinfo_t fi;
    if (last_ev == SC_OTA_EV_SUCCESS) {
        if (sc_ota_fw_info(&ota, &fi) != SC_OK || fi.size != store_len)
            abort();
        uint8_t b[700];
        size_t got = 0, n;
        while (sc_ota_fw_read(&ota, b, sizeof b, &n) == SC_OK) {
            if (memcmp(b, store + got, n))
                abort();
            got += n;
        }
        if (got != store_len)
            abort();
    } else if (sc_ota_fw_info(&ota, &fi) == SC_OK) {
        abort();   /* nothing stored unless an update succeeded */
    }
    return 0;
}
