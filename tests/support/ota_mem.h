/* SPDX-License-Identifier: Apache-2.0 */
/* An in-memory HAL for the OTA core (header only: the fuzzer and the benchmark build without
 * the test support library): MQTT that accepts everything, a "server" handing out omh.body
 * and then omh.end, an image store over caller buffers, and the "fwinfo" record in RAM. */
#ifndef SC_OTA_MEM_H
#define SC_OTA_MEM_H

#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>

#include "smartcfg/ota.h"

static struct {
    const uint8_t *body;
    size_t body_len, served;
    sc_err_t end;                  /* what a read past the body answers (SC_ERR_DONE: clean end) */
    uint8_t *part, *full;          /* caller buffers of part_cap bytes each */
    size_t part_cap, part_len, full_len;
    bool have_full;
    uint8_t rec[256];
    size_t rec_len;
    int last_ev;
    sc_hal_t hal;
} omh;

static sc_err_t omh_pub(void *c, const char *t, const void *p, size_t n, int q, int *mid)
{ (void)c; (void)t; (void)p; (void)n; (void)q; *mid = 1; return SC_OK; }
static sc_err_t omh_sub(void *c, const char *t, int q) { (void)c; (void)t; (void)q; return SC_OK; }
static sc_err_t omh_start_get(void *c, const char *u, uint32_t off) { (void)c; (void)u; omh.served = off; return SC_OK; }
static void omh_close(void *c) { (void)c; }
static sc_err_t omh_read_get(void *c, void *b, size_t cap, size_t *len)
{
    (void)c;
    *len = 0;
    if (omh.served >= omh.body_len)
        return omh.end;
    size_t n = omh.body_len - omh.served < cap ? omh.body_len - omh.served : cap;
    memcpy(b, omh.body + omh.served, n);
    omh.served += n;
    *len = n;
    return SC_OK;
}
static sc_err_t omh_write(void *c, uint32_t off, const void *b, size_t n)
{
    (void)c;
    if (off == 0)
        omh.part_len = 0;
    if (off != omh.part_len || n > omh.part_cap - omh.part_len)
        return SC_ERR_NOSPACE;
    memcpy(omh.part + off, b, n);
    omh.part_len += n;
    return SC_OK;
}
static sc_err_t omh_commit(void *c)
{
    (void)c;
    memcpy(omh.full, omh.part, omh.part_len);
    omh.full_len = omh.part_len;
    omh.have_full = true;
    return SC_OK;
}
static sc_err_t omh_discard(void *c) { (void)c; omh.part_len = 0; return SC_OK; }
static sc_err_t omh_read(void *c, uint32_t off, void *b, size_t cap, size_t *len)
{
    (void)c;
    if (!omh.have_full)
        return SC_ERR_NOTFOUND;
    size_t n = off >= omh.full_len ? 0 : omh.full_len - off < cap ? omh.full_len - off : cap;
    memcpy(b, omh.full + off, n);
    *len = n;
    return SC_OK;
}
static sc_err_t omh_get(void *c, const char *k, void *b, size_t cap, size_t *len)
{
    (void)c; (void)k;
    if (!omh.rec_len || omh.rec_len > cap)
        return SC_ERR_NOTFOUND;
    memcpy(b, omh.rec, omh.rec_len);
    *len = omh.rec_len;
    return SC_OK;
}
static sc_err_t omh_put(void *c, const char *k, const void *b, size_t n)
{
    (void)c; (void)k;
    if (n > sizeof omh.rec)
        return SC_ERR_NOSPACE;
    memcpy(omh.rec, b, n);
    omh.rec_len = n;
    return SC_OK;
}
static sc_err_t omh_erase(void *c, const char *k) { (void)c; (void)k; omh.rec_len = 0; return SC_OK; }
static void omh_event(void *u, sc_ota_event_t ev, int code) { (void)u; (void)code; omh.last_ev = (int)ev; }

/* Serves img (len bytes) as the update: the "server" hands it out to a clean end, the image
 * store writes into part and full (len bytes each), and msg (cap bytes) gets the update
 * message that announces it (version 2.0.0, its MD5 and size). Returns mbedtls_md's result.
 * Inline: not every user of this header serves an update (the fuzzer builds its own). */
static inline int omh_serve(const uint8_t *img, size_t len, uint8_t *part, uint8_t *full, char *msg, size_t cap)
{
    unsigned char d[16];
    char md5[33];
    int rc = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_MD5), img, len, d);
    for (int i = 0; i < 16; i++)
        snprintf(md5 + 2 * i, 3, "%02x", d[i]);
    snprintf(msg, cap, "{\"type\":\"update_firmware\",\"version\":\"2.0.0\",\"url\":\"http://h/fw\",\"md5sum\":\"%s\","
             "\"file_size\":%zu}", md5, len);
    omh.body = img;
    omh.body_len = len;
    omh.end = SC_ERR_DONE;
    omh.part = part;
    omh.full = full;
    omh.part_cap = len;
    return rc;
}

/* Resets the state (keeps the buffers), builds the HAL, initialises and enables ota. */
static sc_err_t omh_start(sc_ota_t *ota, uint32_t max_size)
{
    omh.served = omh.part_len = omh.full_len = omh.rec_len = 0;
    omh.have_full = false;
    omh.last_ev = -1;
    memset(&omh.hal, 0, sizeof omh.hal);
    omh.hal.mqtt.publish = omh_pub;
    omh.hal.mqtt.subscribe = omh_sub;
    omh.hal.http.get_start = omh_start_get;
    omh.hal.http.get_read = omh_read_get;
    omh.hal.http.get_close = omh_close;
    omh.hal.fw = (sc_hal_fw_t){ NULL, omh_write, omh_commit, omh_discard, omh_read };
    omh.hal.storage = (sc_hal_storage_t){ NULL, omh_get, omh_put, omh_erase };
    sc_ota_init(ota, &omh.hal, max_size, omh_event, NULL);
    return sc_ota_enable(ota, "PRD", "dev", "1.0.0", 0);
}

#endif
