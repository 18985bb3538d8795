/* SPDX-License-Identifier: Apache-2.0 */
/* OTA state machine (smartcfg/ota.h; the protocol in docs/ota.md). */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/md5.h>
#include <mbedtls/version.h>

/* mbedTLS 2 names the int-returning MD5 calls *_ret (3 dropped the suffix). */
#if MBEDTLS_VERSION_MAJOR < 3
#define md5_starts mbedtls_md5_starts_ret
#define md5_update mbedtls_md5_update_ret
#define md5_finish mbedtls_md5_finish_ret
#else
#define md5_starts mbedtls_md5_starts
#define md5_update mbedtls_md5_update
#define md5_finish mbedtls_md5_finish
#endif

#include "smartcfg/diag.h"
#include "smartcfg/ota.h"

#include "../common/le.h"
#include "../common/json_depth.h"
#include "../common/json_out.h"
#include "../common/log.h"
#include "../common/outline.h"
#include "../common/state.h"
#include "cloud_int.h"

#define TOPIC_MAX 160
#define CHUNK 512             /* bytes moved from HTTP to the store per read */
#define READS_PER_STEP 16     /* bounded work per step: the AT line stays responsive */
#define REPORT_MAX 320
#define FWINFO_KEY "fwinfo"
#define FWINFO_MAGIC 0x4f544131u   /* "OTA1" */

typedef enum { ST_OFF = 0, ST_LISTEN, ST_DOWNLOAD, ST_WAIT_RETRY } ota_state_t;

typedef struct {
    const sc_hal_t *hal;
    sc_ota_event_cb cb;
    void *user;
    uint32_t max_size;
    ota_state_t st;
    char report_topic[TOPIC_MAX], update_topic[TOPIC_MAX];
    char version[SC_OTA_VERSION_MAX + 1];          /* local version (AT+TCOTASET) */
    /* the update being downloaded */
    char url[SC_OTA_URL_MAX + 1];
    char new_version[SC_OTA_VERSION_MAX + 1];
    char md5[SC_OTA_MD5_HEX + 1];
    uint32_t size, got;
    uint8_t tries;
    uint8_t last_percent;
    uint32_t deadline;                             /* stall limit or the next try */
    mbedtls_md5_context md5ctx;
    uint32_t read_pos;   /* the host's read position in the stored image */
    bool sub_wait;       /* AT+TCOTASET=1 waits for the SUBACK of sub_mid until sub_deadline */
    int sub_mid;
    uint32_t sub_deadline;
    uint8_t buf[CHUNK];
} ota_t;
SC_STATE_FITS(ota_t, sc_ota_t);

static inline ota_t *O(sc_ota_t *o) { return (ota_t *)(void *)o; }
static inline const ota_t *CO(const sc_ota_t *o) { return (const ota_t *)(const void *)o; }

static void logf_(ota_t *o, sc_log_level_t lv, const char *fmt, const char *a, long b)
{
    sc_logf(&o->hal->sys, lv, fmt, a, b);
}

/* ---------------------------------------------------------------- reports */

static void publish(ota_t *o, cJSON *obj, bool built)
{
    char out[REPORT_MAX];
    size_t n = 0;
    if (sc_json_emit(obj, built, NULL, out, sizeof out, &n) != SC_OK || !o->hal->mqtt.publish)
        return;
    int mid = 0;
    /* QoS 1 as the SDK; nobody waits for the PUBACK: a lost report is not worth stalling for. */
    (void)o->hal->mqtt.publish(o->hal->mqtt.ctx, o->report_topic, out, n, 1, &mid);
}

static void report_version(ota_t *o)
{
    cJSON *r = cJSON_CreateObject();
    bool ok = r && cJSON_AddStringToObject(r, "type", "report_version");   /* "type" first, as the SDK */
    cJSON *rep = ok ? cJSON_AddObjectToObject(r, "report") : NULL;
    ok = rep && cJSON_AddStringToObject(rep, "version", o->version);
    publish(o, r, ok);
}

/* {"type":"report_progress","report":{"progress":{"state":..,"percent":..,"result_code":..,
 * "result_msg":..},"version":..}} — numbers as strings, as the SDK sends them. */
static void report_progress(ota_t *o, const char *state, int percent, int code, const char *msg)
{
    char pct[8], rc[8];
    snprintf(pct, sizeof pct, "%d", percent);
    snprintf(rc, sizeof rc, "%d", code);
    cJSON *r = cJSON_CreateObject();
    bool ok = r && cJSON_AddStringToObject(r, "type", "report_progress");
    cJSON *rep = ok ? cJSON_AddObjectToObject(r, "report") : NULL;
    cJSON *pg = rep ? cJSON_AddObjectToObject(rep, "progress") : NULL;
    ok = pg && cJSON_AddStringToObject(pg, "state", state) &&
              (percent < 0 || cJSON_AddStringToObject(pg, "percent", pct)) && cJSON_AddStringToObject(pg, "result_code", rc) &&
              cJSON_AddStringToObject(pg, "result_msg", msg) && cJSON_AddStringToObject(rep, "version", o->new_version);
    publish(o, r, ok);
}

static void event(ota_t *o, sc_ota_event_t ev, int code)
{
    if (o->cb)
        o->cb(o->user, ev, code);
}

/* ---------------------------------------------------------------- fwinfo record */

/* magic(4) size(4) version(33) md5(33) crc(4), little-endian; CRC-32 as the other records. */
#define REC_LEN (4 + 4 + SC_OTA_VERSION_MAX + 1 + SC_OTA_MD5_HEX + 1 + 4)

static sc_err_t fwinfo_save(ota_t *o)
{
    const sc_hal_storage_t *s = &o->hal->storage;
    if (!s->put)
        return SC_ERR_UNSUPPORTED;
    uint8_t rec[REC_LEN];
    memset(rec, 0, sizeof rec);
    sc_le32_put(rec, FWINFO_MAGIC);
    sc_le32_put(rec + 4, o->size);
    memcpy(rec + 8, o->new_version, strlen(o->new_version));
    memcpy(rec + 8 + SC_OTA_VERSION_MAX + 1, o->md5, SC_OTA_MD5_HEX);
    sc_le32_put(rec + REC_LEN - 4, sc_diag_crc32(rec, REC_LEN - 4));
    return s->put(s->ctx, FWINFO_KEY, rec, sizeof rec);
}

static bool version_ok(const char *v);

/* SC_ERR_FORMAT: a whole record whose version breaks the rule of AT+TCFWINFO? (version_ok). */
static sc_err_t fwinfo_load(const ota_t *o, sc_ota_fwinfo_t *out)
{
    const sc_hal_storage_t *s = &o->hal->storage;
    uint8_t rec[REC_LEN + 1];
    size_t len = 0;
    if (!s->get || s->get(s->ctx, FWINFO_KEY, rec, sizeof rec, &len) != SC_OK || len != REC_LEN ||
        sc_le32_get(rec) != FWINFO_MAGIC || sc_le32_get(rec + REC_LEN - 4) != sc_diag_crc32(rec, REC_LEN - 4))
        return SC_ERR_NOTFOUND;   /* absent or damaged: no valid image */
    memset(out, 0, sizeof *out);
    out->size = sc_le32_get(rec + 4);
    memcpy(out->version, rec + 8, SC_OTA_VERSION_MAX);
    memcpy(out->md5, rec + 8 + SC_OTA_VERSION_MAX + 1, SC_OTA_MD5_HEX);
    if (!out->size)
        return SC_ERR_NOTFOUND;
    /* A record a build before F54 / F119 stored from the cloud's update: its version may hold
     * a quote or a comma, which AT+TCFWINFO? would print for the host to split at (F127). The
     * rule holds for what is stored as for what comes: no image to the host, as a damaged
     * record (205); the cloud's update is to be pushed again under a version that keeps it. */
    if (!version_ok(out->version)) {
        memset(out, 0, sizeof *out);
        return SC_ERR_FORMAT;
    }
    return SC_OK;
}

/* ---------------------------------------------------------------- download */

static void http_close(ota_t *o)
{
    if (o->hal->http.get_close)
        o->hal->http.get_close(o->hal->http.ctx);
}

static void finish(ota_t *o, int result, const char *msg)
{
    http_close(o);
    mbedtls_md5_free(&o->md5ctx);
    if (result != 0) {
        if (o->hal->fw.discard)
            (void)o->hal->fw.discard(o->hal->fw.ctx);
        report_progress(o, "fail", -1, result, msg);
        logf_(o, SC_LOG_WARN, "ota: update to %s failed (%ld)", o->new_version, result);
    }
    /* As the reference: the background task ends either way; AT+TCOTASET=1 starts it again. */
    o->st = ST_OFF;
    memset(o->url, 0, sizeof o->url);
    event(o, result ? SC_OTA_EV_FAIL : SC_OTA_EV_SUCCESS, result);
}

static void start_try(ota_t *o, uint32_t now)
{
    o->tries++;
    o->deadline = now + SC_OTA_STALL_MS;
    if (o->hal->http.get_start(o->hal->http.ctx, o->url, o->got) != SC_OK) {
        o->st = ST_WAIT_RETRY;
        o->deadline = now + SC_OTA_RETRY_MS;
        return;
    }
    o->st = ST_DOWNLOAD;
    logf_(o, SC_LOG_INFO, "ota: downloading %s from byte %ld", o->new_version, (long)o->got);
}

/* A try ended early (connection cut, stall, server error): resume later, or give up. Inline in
 * a size build too (SC_INLINE): two of its three callers pass the timeout, which folds its test. */
static SC_INLINE void try_failed(ota_t *o, uint32_t now, int result, const char *why)
{
    http_close(o);
    if (o->tries >= SC_OTA_TRIES || result != SC_OTA_RESULT_TIMEOUT) {
        finish(o, result, why);
        return;
    }
    o->st = ST_WAIT_RETRY;
    o->deadline = now + SC_OTA_RETRY_MS;
}

/* floor(100 * part / whole) for part <= whole (whole > 0), without a 64-bit division: the
 * quotient is at most 100, so it is found bit by bit (7 steps) with 32x32->64 multiplies and
 * 64-bit compares, which a Cortex-M4 does inline (UMULL), where `/` would call libgcc's
 * __aeabi_uldivmod; an image near 4 GiB still gets the exact percentage. */
static int percent(uint32_t part, uint32_t whole)
{
    uint64_t n = (uint64_t)part * 100u;
    unsigned q = 0;
    for (unsigned bit = 64; bit; bit >>= 1)
        if ((uint64_t)(q + bit) * whole <= n)
            q += bit;
    return (int)q;
}

static void complete(ota_t *o)
{
    uint8_t d[16];
    char hex[SC_OTA_MD5_HEX + 1];
    int rc = md5_finish(&o->md5ctx, d);
    sc_sb_t sb;   /* lower-case hex from the core's digit loop, as the credentials' HMACs */
    sc_sb_init(&sb, hex, sizeof hex);
    sc_sb_hex(&sb, d, sizeof d);
    (void)sc_sb_finish(&sb, NULL);
    http_close(o);
    if (rc != 0 || strcmp(hex, o->md5)) {
        finish(o, SC_OTA_RESULT_MD5, "MD5_not_match");
        return;
    }
    report_progress(o, "burning", -1, 0, "");
    /* Record gone first, image second, record back last: a cut in between leaves "no valid
     * image" (AT+TCFWINFO? 205), never a record describing other bytes. */
    const sc_hal_storage_t *s = &o->hal->storage;
    if (s->erase)
        (void)s->erase(s->ctx, FWINFO_KEY);
    if (o->hal->fw.commit(o->hal->fw.ctx) != SC_OK || fwinfo_save(o) != SC_OK) {
        finish(o, SC_OTA_RESULT_UPGRADE, "store failed");
        return;
    }
    o->read_pos = 0;
    report_progress(o, "done", -1, 0, "");
    logf_(o, SC_LOG_INFO, "ota: %s stored (%ld bytes)", o->new_version, (long)o->size);
    finish(o, 0, "");
}

static void pump(ota_t *o, uint32_t now)
{
    for (int i = 0; i < READS_PER_STEP && o->st == ST_DOWNLOAD; i++) {
        size_t n = 0;
        size_t want = o->size - o->got < sizeof o->buf ? o->size - o->got + 1 : sizeof o->buf;
        sc_err_t e = o->hal->http.get_read(o->hal->http.ctx, o->buf, want, &n);
        if (e == SC_ERR_AGAIN) {
            if (sc_ms_reached(now, o->deadline))
                try_failed(o, now, SC_OTA_RESULT_TIMEOUT, "time_out");
            return;
        }
        if (e == SC_ERR_DONE) {
            if (o->got == o->size)
                complete(o);
            else
                try_failed(o, now, SC_OTA_RESULT_TIMEOUT, "time_out");   /* cut short: resume */
            return;
        }
        if (e != SC_OK) {
            int r = e == SC_ERR_NOTFOUND ? SC_OTA_RESULT_NOT_EXIST
                  : e == SC_ERR_AUTH     ? SC_OTA_RESULT_AUTH
                  : e == SC_ERR_IO       ? SC_OTA_RESULT_TIMEOUT
                                         : SC_OTA_RESULT_UPGRADE;   /* 416, wrong status: not retried */
            try_failed(o, now, r, r == SC_OTA_RESULT_NOT_EXIST ? "file not exist"
                                  : r == SC_OTA_RESULT_AUTH    ? "auth fail"
                                  : r == SC_OTA_RESULT_TIMEOUT ? "time_out"
                                                               : "bad response");
            return;
        }
        if (n == 0)
            continue;
        if (n > o->size - o->got) {
            finish(o, SC_OTA_RESULT_MD5, "MD5_not_match");   /* longer than announced */
            return;
        }
        sc_err_t we = o->hal->fw.write(o->hal->fw.ctx, o->got, o->buf, n);
        if (we != SC_OK) {
            finish(o, SC_OTA_RESULT_UPGRADE, we == SC_ERR_NOSPACE ? "space not enough" : "store failed");
            return;
        }
        (void)md5_update(&o->md5ctx, o->buf, n);
        o->got += (uint32_t)n;
        o->tries = 0;   /* progress: the resume budget starts again */
        o->deadline = now + SC_OTA_STALL_MS;
        int pct = percent(o->got, o->size);
        if (pct >= o->last_percent + 10 && pct < 100) {
            o->last_percent = (uint8_t)(pct - pct % 10);
            report_progress(o, "downloading", pct, 0, "");
        }
        if (o->got == o->size) {
            complete(o);
            return;
        }
    }
}

/* ---------------------------------------------------------------- update message */

static bool printable(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* A version goes into AT replies inside quotes (AT+TCOTASET?, AT+TCFWINFO?): no quote or
 * backslash (F54), and no comma: hosts split those lines at commas (the AT-module client of
 * Tencent's own SDK drops the quotes first), so "1,2" would shift the size and MD5 after it.
 * The cloud's as the host's. */
static bool version_ok(const char *v)
{
    return v && printable(v, 1, SC_OTA_VERSION_MAX) && !strpbrk(v, "\"\\,");
}

static bool hex32(const char *s)
{
    if (strlen(s) != SC_OTA_MD5_HEX)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
            return false;
    return true;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void take_update(ota_t *o, const cJSON *root, uint32_t now)
{
    const char *url = jstr(root, "url"), *md5 = jstr(root, "md5sum"), *ver = jstr(root, "version");
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(root, "file_size");
    double size = cJSON_IsNumber(fs) ? fs->valuedouble : -1;
    if (!url || !md5 || !ver || !(strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) ||
        !printable(url, 8, SC_OTA_URL_MAX) || !hex32(md5) || !version_ok(ver) || size < 1 ||
        size > 4294967295.0 || size != (double)(uint32_t)size) {
        logf_(o, SC_LOG_WARN, "ota: malformed update message ignored%s", "", 0);
        return;
    }
    memcpy(o->url, url, strlen(url) + 1);
    memcpy(o->new_version, ver, strlen(ver) + 1);
    for (int i = 0; i <= SC_OTA_MD5_HEX; i++)   /* compared with our lower-case hex */
        o->md5[i] = (char)(md5[i] >= 'A' && md5[i] <= 'F' ? md5[i] - 'A' + 'a' : md5[i]);
    o->size = (uint32_t)size;
    o->got = 0;
    o->tries = 0;
    o->last_percent = 0;
    event(o, SC_OTA_EV_ENTER_UPDATE, 0);
    if (o->size > o->max_size) {
        finish(o, SC_OTA_RESULT_UPGRADE, "space not enough");
        return;
    }
    if (!o->hal->http.get_start || !o->hal->http.get_read || !o->hal->fw.write || !o->hal->fw.commit ||
        (o->hal->fw.discard && o->hal->fw.discard(o->hal->fw.ctx) != SC_OK)) {
        finish(o, SC_OTA_RESULT_UPGRADE, "store failed");
        return;
    }
    mbedtls_md5_init(&o->md5ctx);
    if (md5_starts(&o->md5ctx) != 0) {
        finish(o, SC_OTA_RESULT_UPGRADE, "md5 failed");
        return;
    }
    report_progress(o, "downloading", 0, 0, "");
    start_try(o, now);
}

sc_err_t sc_ota_on_message(sc_ota_t *pub, const char *topic, const void *payload, size_t len, uint32_t now_ms)
{
    ota_t *o = O(pub);
    if (!o->hal || !topic || strcmp(topic, o->update_topic) || !o->update_topic[0])
        return SC_ERR_NOTFOUND;
    if (o->st != ST_LISTEN)
        return SC_OK;   /* off, or already downloading: the reference ignores it too */
    if (!sc_json_depth_ok(payload, len, SC_JSON_MAX_DEPTH))
        return SC_OK;
    cJSON *root = cJSON_ParseWithLength(payload, len);
    const char *type = jstr(root, "type");
    if (type && !strcmp(type, "update_firmware"))
        take_update(o, root, now_ms);
    else if (!type || strcmp(type, "report_version_rsp"))
        logf_(o, SC_LOG_WARN, "ota: message without a known type ignored%s", "", 0);
    cJSON_Delete(root);
    return SC_OK;
}

/* ---------------------------------------------------------------- public API */

sc_err_t sc_ota_init(sc_ota_t *pub, const sc_hal_t *hal, uint32_t max_size, sc_ota_event_cb cb, void *user)
{
    ota_t *o = O(pub);
    if (!o || !hal)
        return SC_ERR_INVAL;
    memset(o, 0, sizeof *o);
    o->hal = hal;
    o->max_size = max_size;
    o->cb = cb;
    o->user = user;
    return SC_OK;
}

static bool topic(char *out, const char *kind, const char *pid, const char *dn)
{
    int n = snprintf(out, TOPIC_MAX, "$ota/%s/%s/%s", kind, pid, dn);
    return n > 0 && n < TOPIC_MAX;
}

sc_err_t sc_ota_enable(sc_ota_t *pub, const char *pid, const char *dn, const char *version, uint32_t now_ms)
{
    ota_t *o = O(pub);
    if (o->st == ST_DOWNLOAD || o->st == ST_WAIT_RETRY)
        return SC_ERR_BUSY;
    if (!version_ok(version))
        return SC_ERR_RANGE;
    if (!pid || !dn || !topic(o->report_topic, "report", pid, dn) || !topic(o->update_topic, "update", pid, dn))
        return SC_ERR_INVAL;
    const sc_hal_mqtt_t *m = &o->hal->mqtt;
    if (!m->publish || (!m->subscribe && !m->subscribe_req))
        return SC_ERR_UNSUPPORTED;
    int mid = 0;
    bool track = m->subscribe_req && m->request_status;
    sc_err_t e = track ? m->subscribe_req(m->ctx, o->update_topic, 1, &mid)
                       : m->subscribe ? m->subscribe(m->ctx, o->update_topic, 1) : SC_ERR_UNSUPPORTED;
    if (e != SC_OK)
        return SC_ERR_IO;
    memcpy(o->version, version, strlen(version) + 1);
    o->st = ST_LISTEN;
    if (track) {
        o->sub_wait = true;
        o->sub_mid = mid;
        o->sub_deadline = now_ms + SC_OTA_SUBACK_MS;
        return SC_ERR_AGAIN;
    }
    report_version(o);
    return SC_OK;
}

void sc_ota_disable(sc_ota_t *pub)
{
    ota_t *o = O(pub);
    if (o->st == ST_DOWNLOAD || o->st == ST_WAIT_RETRY) {
        http_close(o);
        mbedtls_md5_free(&o->md5ctx);
        if (o->hal->fw.discard)
            (void)o->hal->fw.discard(o->hal->fw.ctx);
    }
    o->sub_wait = false;   /* a pending AT+TCOTASET=1 ends without its URC */
    if (o->st != ST_OFF && o->hal->mqtt.unsubscribe) {
        int mid = 0;
        (void)o->hal->mqtt.unsubscribe(o->hal->mqtt.ctx, o->update_topic, &mid);
    }
    o->st = ST_OFF;
}

void sc_ota_forget(sc_ota_t *pub)
{
    ota_t *o = O(pub);
    sc_ota_disable(pub);
    if (o->hal->storage.erase)
        (void)o->hal->storage.erase(o->hal->storage.ctx, FWINFO_KEY);
    o->read_pos = 0;
    memset(o->version, 0, sizeof o->version);
}

void sc_ota_reconnected(sc_ota_t *pub)
{
    ota_t *o = O(pub);
    const sc_hal_mqtt_t *m = &o->hal->mqtt;
    if (o->st == ST_OFF)
        return;
    int mid = 0;
    if (m->subscribe_req)
        (void)m->subscribe_req(m->ctx, o->update_topic, 1, &mid);
    else if (m->subscribe)
        (void)m->subscribe(m->ctx, o->update_topic, 1);
}

bool sc_ota_enabled(const sc_ota_t *pub)
{
    return CO(pub)->st != ST_OFF;
}

bool sc_ota_downloading(const sc_ota_t *pub)
{
    return CO(pub)->st == ST_DOWNLOAD || CO(pub)->st == ST_WAIT_RETRY;
}

const char *sc_ota_version(const sc_ota_t *pub)
{
    return CO(pub)->version;
}

uint32_t sc_ota_max_size(const sc_ota_t *pub)
{
    return CO(pub)->max_size;
}

/* The SUBACK AT+TCOTASET=1 waits for: granted -> report the version; else off again. */
static void sub_step(ota_t *o, uint32_t now)
{
    sc_err_t e = o->hal->mqtt.request_status(o->hal->mqtt.ctx, o->sub_mid);
    if (e == SC_ERR_AGAIN && !sc_ms_reached(now, o->sub_deadline))
        return;
    o->sub_wait = false;
    if (e == SC_OK) {
        report_version(o);
        event(o, SC_OTA_EV_ENABLED, 0);
        return;
    }
    /* An update taken meanwhile (over the subscription of before, or a broker that delivered
     * first) runs to its own end and reports it (F55); the task ends there as always. */
    if (o->st == ST_LISTEN)
        o->st = ST_OFF;
    event(o, SC_OTA_EV_ENABLED, e == SC_ERR_AGAIN ? SC_ERR_TIMEOUT : SC_ERR_REFUSED);
}

uint32_t sc_ota_step(sc_ota_t *pub, uint32_t now_ms)
{
    ota_t *o = O(pub);
    if (o->sub_wait)
        sub_step(o, now_ms);   /* beside a download, never instead of it (F55) */
    if (o->st == ST_WAIT_RETRY && sc_ms_reached(now_ms, o->deadline))
        start_try(o, now_ms);
    if (o->st == ST_DOWNLOAD) {
        pump(o, now_ms);
        if (o->st == ST_DOWNLOAD)
            return now_ms + 10;   /* data may be waiting in the port: come back soon */
    }
    if (o->sub_wait)
        return now_ms + 20;
    if (o->st == ST_WAIT_RETRY)
        return o->deadline;
    return now_ms + 1000;
}

sc_err_t sc_ota_fw_info(sc_ota_t *pub, sc_ota_fwinfo_t *out)
{
    ota_t *o = O(pub);
    sc_err_t e = fwinfo_load(o, out);
    o->read_pos = 0;
    if (e == SC_ERR_FORMAT) {
        logf_(o, SC_LOG_WARN, "ota: the stored image's version holds a quote, backslash or comma (stored by an "
                              "older build): not served%s", "", 0);
        e = SC_ERR_NOTFOUND;
    }
    return e;
}

sc_err_t sc_ota_fw_read(sc_ota_t *pub, void *buf, size_t cap, size_t *len)
{
    ota_t *o = O(pub);
    *len = 0;
    sc_ota_fwinfo_t fi;
    if (fwinfo_load(o, &fi) != SC_OK || !o->hal->fw.read)
        return SC_ERR_NOTFOUND;
    if (o->read_pos >= fi.size)
        return SC_ERR_DONE;
    size_t want = fi.size - o->read_pos < cap ? fi.size - o->read_pos : cap;
    sc_err_t e = o->hal->fw.read(o->hal->fw.ctx, o->read_pos, buf, want, len);
    if (e != SC_OK)
        return e;
    if (*len != want)
        return SC_ERR_IO;   /* the image is shorter than its record says */
    o->read_pos += (uint32_t)*len;
    return SC_OK;
}
