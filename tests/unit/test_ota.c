/* SPDX-License-Identifier: Apache-2.0 */
/* The OTA core (smartcfg/ota.h) over a scripted HAL: the version report, an update whose
 * download is cut and resumed with the right offset, MD5 and size checks, the image store's
 * failures, a stalled server, 404, and the update messages it must ignore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <mbedtls/md.h>

#include "fake_hal.h"
#include "smartcfg/diag.h"
#include "smartcfg/ota.h"

#define IMG_MAX 8192
#define T_UPDATE "$ota/update/PRD/dev"
#define T_REPORT "$ota/report/PRD/dev"

/* ---- the scripted HAL --------------------------------------------------------------- */
static fake_hal_t fh;
static sc_ota_t ota;
static char pubs[32][400];
static int npubs, nsubs;
static uint8_t image[IMG_MAX];            /* what the "server" serves */
static size_t image_len;
static uint32_t starts[16];               /* offsets of each get_start */
static int nstarts;
static size_t served, cut_at;             /* cut_at: the connection breaks there (0 never) */
static sc_err_t http_err;                 /* != SC_OK: get_read answers this at once */
static bool stall;                        /* get_read only ever says AGAIN */
static uint8_t part[IMG_MAX + 64], full[IMG_MAX + 64];
static size_t part_len, full_len;
static bool have_full, store_full;
static int discards;
static int events[8], codes[8], nev;

static sc_err_t m_pub(void *ctx, const char *topic, const void *p, size_t n, int qos, int *mid)
{
    (void)ctx; (void)qos;
    assert_string_equal(topic, T_REPORT);
    snprintf(pubs[npubs++ % 32], sizeof pubs[0], "%.*s", (int)n, (const char *)p);
    *mid = npubs;
    return SC_OK;
}

static sc_err_t m_sub(void *ctx, const char *topic, int qos)
{
    (void)ctx; (void)qos;
    assert_string_equal(topic, T_UPDATE);
    nsubs++;
    return SC_OK;
}

static sc_err_t suback = SC_ERR_AGAIN;    /* what request_status answers */
static int sub_mid_seen;

static sc_err_t m_subreq(void *ctx, const char *topic, int qos, int *mid)
{
    (void)ctx; (void)qos;
    assert_string_equal(topic, T_UPDATE);
    nsubs++;
    *mid = 77;
    return SC_OK;
}

static sc_err_t m_status(void *ctx, int mid)
{
    (void)ctx;
    sub_mid_seen = mid;
    return suback;
}

static sc_err_t g_start(void *ctx, const char *url, uint32_t off)
{
    (void)ctx;
    assert_string_equal(url, "http://h/fw");
    starts[nstarts++] = off;
    served = off;
    return SC_OK;
}

static sc_err_t g_read(void *ctx, void *buf, size_t cap, size_t *len)
{
    (void)ctx;
    *len = 0;
    if (http_err != SC_OK)
        return http_err;
    if (stall)
        return SC_ERR_AGAIN;
    if (cut_at && served == cut_at) {
        cut_at = 0;   /* one cut */
        return SC_ERR_IO;
    }
    if (served >= image_len)
        return SC_ERR_DONE;
    size_t n = image_len - served < cap ? image_len - served : cap;
    if (n > 300)
        n = 300;   /* odd piece sizes */
    if (cut_at && served < cut_at && served + n > cut_at)
        n = cut_at - served;
    memcpy(buf, image + served, n);
    served += n;
    *len = n;
    return SC_OK;
}

static void g_close(void *ctx) { (void)ctx; }

static sc_err_t f_write(void *ctx, uint32_t off, const void *b, size_t n)
{
    (void)ctx;
    if (store_full)
        return SC_ERR_NOSPACE;
    if (off == 0)
        part_len = 0;
    assert_int_equal(off, part_len);
    assert_true(part_len + n <= sizeof part);
    memcpy(part + part_len, b, n);
    part_len += n;
    return SC_OK;
}

static sc_err_t f_commit(void *ctx)
{
    (void)ctx;
    memcpy(full, part, part_len);
    full_len = part_len;
    have_full = true;
    part_len = 0;
    return SC_OK;
}

static sc_err_t f_discard(void *ctx)
{
    (void)ctx;
    discards++;
    part_len = 0;
    return SC_OK;
}

static sc_err_t f_read(void *ctx, uint32_t off, void *b, size_t cap, size_t *len)
{
    (void)ctx;
    if (!have_full)
        return SC_ERR_NOTFOUND;
    size_t n = off >= full_len ? 0 : full_len - off < cap ? full_len - off : cap;
    memcpy(b, full + off, n);
    *len = n;
    return SC_OK;
}

static void on_event(void *user, sc_ota_event_t ev, int code)
{
    (void)user;
    events[nev] = (int)ev;
    codes[nev++] = code;
}

static int setup(void **state)
{
    (void)state;
    fh_init(&fh);
    fh.hal.mqtt.publish = m_pub;
    fh.hal.mqtt.subscribe = m_sub;
    fh.hal.mqtt.subscribe_req = NULL;
    fh.hal.mqtt.request_status = NULL;
    fh.hal.http = (sc_hal_http_t){ .get_start = g_start, .get_read = g_read, .get_close = g_close };
    fh.hal.fw = (sc_hal_fw_t){ .write = f_write, .commit = f_commit, .discard = f_discard, .read = f_read };
    npubs = nsubs = nstarts = nev = discards = 0;
    served = cut_at = part_len = full_len = 0;
    http_err = SC_OK;
    stall = have_full = store_full = false;
    image_len = 5000;
    for (size_t i = 0; i < image_len; i++)
        image[i] = (uint8_t)(i * 7 + (i >> 8));
    assert_int_equal(sc_ota_init(&ota, &fh.hal, 6000, on_event, NULL), SC_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fh_free(&fh);
    return 0;
}

/* MD5 of the image, as hex (the test's own: compared with what the core accepts). */
static const char *md5_of_image(void)
{
    static char hex[33];
    unsigned char d[16];
    assert_int_equal(mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_MD5), image, image_len, d), 0);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return hex;
}

static void push(const char *json)
{
    assert_int_equal(sc_ota_on_message(&ota, T_UPDATE, json, strlen(json), fh.now), SC_OK);
}

static void push_update(const char *md5, long size)
{
    char m[300];
    snprintf(m, sizeof m, "{\"type\":\"update_firmware\",\"version\":\"2.0.0\",\"url\":\"http://h/fw\",\"md5sum\":\"%s\","
             "\"file_size\":%ld}", md5, size);
    push(m);
}

static void run(uint32_t ms)
{
    for (uint32_t t = 0; t < ms; t += 10) {
        fh.now += 10;
        (void)sc_ota_step(&ota, fh.now);
    }
}

static bool published(const char *needle)
{
    for (int i = 0; i < npubs && i < 32; i++)
        if (strstr(pubs[i], needle))
            return true;
    return false;
}

static void test_update_with_resume(void **state)
{
    (void)state;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    assert_int_equal(nsubs, 1);
    assert_string_equal(pubs[0], "{\"type\":\"report_version\",\"report\":{\"version\":\"1.0.0\"}}");
    sc_ota_fwinfo_t fi;
    assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_ERR_NOTFOUND);
    /* not ours: passed on */
    assert_int_equal(sc_ota_on_message(&ota, "$thing/down/property/PRD/dev", "{}", 2, fh.now), SC_ERR_NOTFOUND);
    cut_at = 1234;
    push_update(md5_of_image(), (long)image_len);
    assert_int_equal(nev, 1);
    assert_int_equal(events[0], SC_OTA_EV_ENTER_UPDATE);
    assert_true(sc_ota_downloading(&ota));
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_ERR_BUSY);
    run(5000);
    assert_int_equal(nstarts, 2);
    assert_int_equal(starts[0], 0);
    assert_int_equal(starts[1], 1234);   /* resumed where the cut left it */
    assert_int_equal(nev, 2);
    assert_int_equal(events[1], SC_OTA_EV_SUCCESS);
    assert_false(sc_ota_enabled(&ota));
    assert_true(published("\"state\":\"downloading\",\"percent\":\"0\""));
    assert_true(published("\"state\":\"burning\""));
    assert_true(published("\"state\":\"done\""));
    assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_OK);
    assert_string_equal(fi.version, "2.0.0");
    assert_int_equal(fi.size, image_len);
    assert_string_equal(fi.md5, md5_of_image());
    uint8_t back[IMG_MAX];
    size_t got = 0, n;
    while (sc_ota_fw_read(&ota, back + got, 2048, &n) == SC_OK)
        got += n;
    assert_int_equal(got, image_len);
    assert_memory_equal(back, image, image_len);
    assert_int_equal(sc_ota_fw_read(&ota, back, 16, &n), SC_ERR_DONE);
    assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_OK);   /* rewinds */
    assert_int_equal(sc_ota_fw_read(&ota, back, 16, &n), SC_OK);
    assert_int_equal(n, 16);
}

static void test_md5_mismatch_keeps_old(void **state)
{
    (void)state;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    push_update("0123456789abcdef0123456789abcdef", (long)image_len);
    run(3000);
    assert_int_equal(nev, 2);
    assert_int_equal(events[1], SC_OTA_EV_FAIL);
    assert_int_equal(codes[1], SC_OTA_RESULT_MD5);
    assert_true(published("\"state\":\"fail\",\"result_code\":\"-4\",\"result_msg\":\"MD5_not_match\""));
    assert_true(discards >= 2);   /* before the download and after the failure */
    sc_ota_fwinfo_t fi;
    assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_ERR_NOTFOUND);
    assert_false(have_full);
}

static void test_longer_than_announced(void **state)
{
    (void)state;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    push_update(md5_of_image(), (long)image_len - 10);   /* the server sends 10 bytes more */
    run(3000);
    assert_int_equal(events[nev - 1], SC_OTA_EV_FAIL);
    assert_int_equal(codes[nev - 1], SC_OTA_RESULT_MD5);
    assert_false(have_full);
}

static void test_too_big_and_store_full(void **state)
{
    (void)state;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    push_update(md5_of_image(), 6001);   /* over max_size */
    assert_int_equal(nev, 2);
    assert_int_equal(codes[1], SC_OTA_RESULT_UPGRADE);
    assert_int_equal(nstarts, 0);
    assert_true(published("space not enough"));
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    store_full = true;
    push_update(md5_of_image(), (long)image_len);
    run(1000);
    assert_int_equal(events[nev - 1], SC_OTA_EV_FAIL);
    assert_int_equal(codes[nev - 1], SC_OTA_RESULT_UPGRADE);
    assert_false(sc_ota_downloading(&ota));
}

static void test_404_and_stall(void **state)
{
    (void)state;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    http_err = SC_ERR_NOTFOUND;
    push_update(md5_of_image(), (long)image_len);
    run(100);
    assert_int_equal(codes[nev - 1], SC_OTA_RESULT_NOT_EXIST);
    assert_int_equal(nstarts, 1);   /* not retried */
    http_err = SC_OK;
    stall = true;
    nstarts = 0;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    push_update(md5_of_image(), (long)image_len);
    run((SC_OTA_STALL_MS + SC_OTA_RETRY_MS) * SC_OTA_TRIES + 1000);
    assert_int_equal(nstarts, SC_OTA_TRIES);   /* bounded tries, then -1 */
    assert_int_equal(events[nev - 1], SC_OTA_EV_FAIL);
    assert_int_equal(codes[nev - 1], SC_OTA_RESULT_TIMEOUT);
    assert_true(published("time_out"));
}

static void test_bad_messages_ignored(void **state)
{
    (void)state;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    char deep[200];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = 0;
    const char *md5 = md5_of_image();
    char bad[12][300];
    int n = 0;
    snprintf(bad[n++], 300, "not json");
    snprintf(bad[n++], 300, "%s", deep);
    snprintf(bad[n++], 300, "{\"type\":\"update_firmware\"}");
    snprintf(bad[n++], 300, "{\"type\":\"update_firmware\",\"version\":\"2\",\"url\":\"ftp://h/fw\",\"md5sum\":\"%s\",\"file_size\":9}", md5);
    snprintf(bad[n++], 300, "{\"type\":\"update_firmware\",\"version\":\"2\",\"url\":\"http://h/fw\",\"md5sum\":\"xyz\",\"file_size\":9}");
    snprintf(bad[n++], 300, "{\"type\":\"update_firmware\",\"version\":\"2\",\"url\":\"http://h/fw\",\"md5sum\":\"%s\",\"file_size\":-1}", md5);
    snprintf(bad[n++], 300, "{\"type\":\"update_firmware\",\"version\":\"2\",\"url\":\"http://h/fw\",\"md5sum\":\"%s\",\"file_size\":1.5}", md5);
    snprintf(bad[n++], 300, "{\"type\":\"update_firmware\",\"version\":\"2\",\"url\":\"http://h/fw\",\"md5sum\":\"%s\",\"file_size\":\"9\"}", md5);
    snprintf(bad[n++], 300, "{\"type\":\"update_firmware\",\"version\":\"%s\",\"url\":\"http://h/fw\",\"md5sum\":\"%s\",\"file_size\":9}",
             "123456789012345678901234567890123", md5);
    snprintf(bad[n++], 300, "{\"type\":\"update_firmware\",\"version\":\"a b\",\"url\":\"http://h/fw\",\"md5sum\":\"%s\",\"file_size\":9}", md5);
    snprintf(bad[n++], 300, "{\"type\":\"report_version_rsp\",\"result_code\":0}");
    snprintf(bad[n++], 300, "{\"type\":7}");
    for (int i = 0; i < n; i++)
        push(bad[i]);
    assert_int_equal(nev, 0);
    assert_int_equal(nstarts, 0);
    assert_true(sc_ota_enabled(&ota));
    assert_false(sc_ota_downloading(&ota));
    /* a valid one still works afterwards */
    push_update(md5, (long)image_len);
    run(3000);
    assert_int_equal(events[nev - 1], SC_OTA_EV_SUCCESS);
}

/* With SUBACK tracking AT+TCOTASET=1 succeeds only once the broker granted the topic; the
 * version is reported after that, as the reference does. */
static void test_enable_waits_for_suback(void **state)
{
    (void)state;
    fh.hal.mqtt.subscribe_req = m_subreq;
    fh.hal.mqtt.request_status = m_status;
    suback = SC_ERR_AGAIN;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_ERR_AGAIN);
    run(500);
    assert_int_equal(nev, 0);
    assert_int_equal(npubs, 0);   /* no version report before the SUBACK */
    suback = SC_OK;
    run(100);
    assert_int_equal(sub_mid_seen, 77);
    assert_int_equal(nev, 1);
    assert_int_equal(events[0], SC_OTA_EV_ENABLED);
    assert_int_equal(codes[0], 0);
    assert_int_equal(npubs, 1);
    assert_true(sc_ota_enabled(&ota));
    /* refused */
    suback = SC_ERR_REFUSED;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.1", fh.now), SC_ERR_AGAIN);
    run(100);
    assert_int_equal(events[nev - 1], SC_OTA_EV_ENABLED);
    assert_int_equal(codes[nev - 1], SC_ERR_REFUSED);
    assert_false(sc_ota_enabled(&ota));
    /* never answered: bounded */
    suback = SC_ERR_AGAIN;
    int before = nev;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.1", fh.now), SC_ERR_AGAIN);
    run(SC_OTA_SUBACK_MS + 100);
    assert_int_equal(nev, before + 1);
    assert_int_equal(codes[nev - 1], SC_ERR_TIMEOUT);
    assert_false(sc_ota_enabled(&ota));
}

static void test_enable_checks(void **state)
{
    (void)state;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "", fh.now), SC_ERR_RANGE);
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "123456789012345678901234567890123", fh.now), SC_ERR_RANGE);
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1\"0", fh.now), SC_ERR_RANGE);
    assert_int_equal(npubs, 0);
    assert_false(sc_ota_enabled(&ota));
    /* never enabled: the update topic is not ours yet (passed on) */
    const char *m = "{\"type\":\"update_firmware\"}";
    assert_int_equal(sc_ota_on_message(&ota, T_UPDATE, m, strlen(m), fh.now), SC_ERR_NOTFOUND);
    /* enabled, then off again: consumed, not acted on */
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    sc_ota_disable(&ota);
    push_update(md5_of_image(), (long)image_len);
    assert_int_equal(nev, 0);
    /* a damaged record reads as no image */
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    push_update(md5_of_image(), (long)image_len);
    run(3000);
    const fh_kv_t *kv = fh_kv(&fh, "fwinfo");
    assert_non_null(kv);
    sc_ota_fwinfo_t fi;
    assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_OK);
    kv->val[10] ^= 1;
    assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_ERR_NOTFOUND);
    kv->val[10] ^= 1;
    assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_OK);
    sc_ota_forget(&ota);   /* AT+TCRESTORE */
    assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_ERR_NOTFOUND);
    assert_false(sc_ota_enabled(&ota));
}

/* A version from the cloud goes into AT+TCFWINFO? inside quotes: one with a quote or a
 * backslash (refused for the local version) would end the quoted field early: a version
 * "a\",1,\"b" read as version a, size 1, MD5 b. Such an update is ignored like any other
 * malformed one. */
static void test_update_version_quoted(void **state)
{
    (void)state;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    const char *md5 = md5_of_image();
    /* a quote or a backslash (F54); a comma, which a host splitting the line at commas reads
     * as the field's end: "1,2" gave version 1, size 2 and the real size as the MD5 (F119) */
    const char *vers[] = { "a\\\",1,\\\"b", "1.0\\\\x", "1,2", "1.0.0,", "," };
    for (size_t i = 0; i < sizeof vers / sizeof vers[0]; i++) {
        char m[300];
        snprintf(m, sizeof m, "{\"type\":\"update_firmware\",\"version\":\"%s\",\"url\":\"http://h/fw\","
                 "\"md5sum\":\"%s\",\"file_size\":%ld}", vers[i], md5, (long)image_len);
        push(m);
    }
    assert_int_equal(nev, 0);
    assert_int_equal(nstarts, 0);
    assert_false(sc_ota_downloading(&ota));
    /* the host's own (AT+TCOTASET checks it first, this is the OTA core's own check) */
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1,0", fh.now), SC_ERR_RANGE);
    assert_string_equal(sc_ota_version(&ota), "1.0.0");
}

/* F127: an image stored by a build before F54 / F119, whose record holds the cloud's version with
 * a comma or a quote (whole, its CRC right): AT+TCFWINFO? printed it for the host to split at,
 * `+TCFWINFO:"1,2",<size>,...` read as version 1, size 2. It is no image to the host now, as a
 * damaged record, and the log says why. */
static void test_stored_version_old_build(void **state)
{
    (void)state;
    assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_OK);
    push_update(md5_of_image(), (long)image_len);
    run(5000);
    sc_ota_fwinfo_t fi;
    assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_OK);
    const fh_kv_t *kv = fh_kv(&fh, "fwinfo");
    assert_non_null(kv);
    assert_int_equal(kv->len, 4 + 4 + SC_OTA_VERSION_MAX + 1 + SC_OTA_MD5_HEX + 1 + 4);
    static const char *const old[] = { "1,2", "a\",1,\"b", "1.0\\x" };
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        uint8_t *rec = kv->val;
        memset(rec + 8, 0, SC_OTA_VERSION_MAX + 1);
        memcpy(rec + 8, old[i], strlen(old[i]));
        uint32_t crc = sc_diag_crc32(rec, kv->len - 4);
        for (int b = 0; b < 4; b++)
            rec[kv->len - 4 + (size_t)b] = (uint8_t)(crc >> (8 * b));
        memset(&fi, 0x55, sizeof fi);
        assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_ERR_NOTFOUND);
        assert_null(memchr(fi.version, ',', sizeof fi.version));
        uint8_t back[64];
        size_t n = 0;
        assert_int_equal(sc_ota_fw_read(&ota, back, sizeof back, &n), SC_ERR_NOTFOUND);
        assert_int_equal(n, 0);
    }
    assert_true(fh_log_contains(&fh, "stored image's version holds a quote, backslash or comma"));
    /* the same record with a version of the rule is served again */
    uint8_t *rec = kv->val;
    memset(rec + 8, 0, SC_OTA_VERSION_MAX + 1);
    memcpy(rec + 8, "1.2", 3);
    uint32_t crc = sc_diag_crc32(rec, kv->len - 4);
    for (int b = 0; b < 4; b++)
        rec[kv->len - 4 + (size_t)b] = (uint8_t)(crc >> (8 * b));
    assert_int_equal(sc_ota_fw_info(&ota, &fi), SC_OK);
    assert_string_equal(fi.version, "1.2");
}

/* An update that arrives while AT+TCOTASET=1 still waits for its SUBACK (the topic was
 * subscribed before, or a broker delivers first) runs to its end, whatever the SUBACK says:
 * before, the download was not pumped while the SUBACK was awaited, and a refused or missing
 * SUBACK then turned the task off under it (no end URC, no report, the transfer left open). */
static void test_update_during_suback_wait(void **state)
{
    (void)state;
    fh.hal.mqtt.subscribe_req = m_subreq;
    fh.hal.mqtt.request_status = m_status;
    for (int refused = 0; refused < 2; refused++) {
        suback = SC_ERR_AGAIN;
        nev = 0;
        assert_int_equal(sc_ota_enable(&ota, "PRD", "dev", "1.0.0", fh.now), SC_ERR_AGAIN);
        push_update(md5_of_image(), (long)image_len);
        assert_true(sc_ota_downloading(&ota));
        run(200);
        if (refused)
            suback = SC_ERR_REFUSED;   /* else never answered: the 10 s bound */
        run(SC_OTA_SUBACK_MS + 3000);
        bool success = false, enabled_fail = false;
        for (int i = 0; i < nev; i++) {
            success |= events[i] == SC_OTA_EV_SUCCESS;
            enabled_fail |= events[i] == SC_OTA_EV_ENABLED && codes[i] != 0;
        }
        assert_true(enabled_fail);
        assert_true(success);
        assert_false(sc_ota_downloading(&ota));
        assert_true(have_full);
        assert_int_equal(full_len, image_len);
        have_full = false;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_update_with_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_md5_mismatch_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_longer_than_announced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big_and_store_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_404_and_stall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_messages_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_waits_for_suback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_version_quoted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_version_old_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_during_suback_wait, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
