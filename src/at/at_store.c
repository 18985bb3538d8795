/* SPDX-License-Identifier: Apache-2.0 */
/* Stored device/product info records for the AT front-end.
 *
 * One fixed-size record per key ("devinfo", "prdinfo"): magic, version, kind, tls mode,
 * NUL-padded fields, CRC-32 (sc_diag_crc32) over everything before it. Crash safety comes
 * from the storage HAL's atomic replace, which hal.h requires of every port (after a power
 * cut get() returns the old or the new record, never a mix): the record is written rarely
 * and only when it changed, so a second slot would only double the flash use. The CRC is for
 * what atomic replace does not cover, bit rot (or a port that breaks its promise): a record
 * that fails it is treated as absent (the AT query then answers +CME ERROR:207) instead of
 * handing a corrupt identity to the cloud code. */
#include <string.h>

#include "../common/le.h"
#include "smartcfg/at.h"
#include "smartcfg/diag.h"

#define REC_MAGIC 0x49444353u /* "SCDI" little-endian */
#define REC_VERSION 1
#define OFF_MAGIC 0
#define OFF_VERSION 4
#define OFF_KIND 5
#define OFF_TLS 6
#define OFF_PID 8
#define LEN_PID (SC_PRODUCT_ID_MAX + 1)
#define OFF_DN (OFF_PID + LEN_PID)
#define LEN_DN (SC_DEVICE_NAME_MAX + 1)
#define OFF_SECRET (OFF_DN + LEN_DN)
#define LEN_SECRET (SC_PRODUCT_SECRET_MAX + 1) /* room for either secret */
#define OFF_REGION (OFF_SECRET + LEN_SECRET)
#define LEN_REGION (SC_REGION_MAX + 1)
#define OFF_END (OFF_REGION + LEN_REGION)
#define OFF_CRC (SC_AT_RECORD_SIZE - 4)

_Static_assert(OFF_END <= OFF_CRC, "AT record layout does not fit SC_AT_RECORD_SIZE");

static sc_err_t put_field(uint8_t *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        return SC_ERR_RANGE;
    memcpy(dst, s, n);
    return SC_OK;
}

/* A field must be NUL-terminated inside its slot and printable, or the record is corrupt. */
static sc_err_t get_field(char *dst, size_t dcap, const uint8_t *src, size_t cap)
{
    size_t n = 0;
    while (n < cap && src[n] != 0) {
        if (src[n] < 0x20 || src[n] == 0x7f)
            return SC_ERR_FORMAT;
        n++;
    }
    if (n == cap || n >= dcap)
        return SC_ERR_FORMAT;
    memcpy(dst, src, n);
    dst[n] = 0;
    return SC_OK;
}

sc_err_t sc_at_record_encode(const sc_at_info_t *info, bool product, uint8_t out[SC_AT_RECORD_SIZE])
{
    if (!info || !out)
        return SC_ERR_INVAL;
    memset(out, 0, SC_AT_RECORD_SIZE);
    sc_le32_put(out + OFF_MAGIC, REC_MAGIC);
    out[OFF_VERSION] = REC_VERSION;
    out[OFF_KIND] = product ? 'P' : 'D';
    out[OFF_TLS] = info->tls_mode;
    const char *secret = product ? info->id.product_secret : info->id.device_secret;
    if (put_field(out + OFF_PID, LEN_PID, info->id.product_id) ||
        put_field(out + OFF_DN, LEN_DN, info->id.device_name) ||
        put_field(out + OFF_SECRET, product ? LEN_SECRET : SC_DEVICE_SECRET_MAX + 1, secret) ||
        put_field(out + OFF_REGION, LEN_REGION, info->id.region))
        return SC_ERR_RANGE;
    sc_le32_put(out + OFF_CRC, sc_diag_crc32(out, OFF_CRC));
    return SC_OK;
}

sc_err_t sc_at_record_decode(const uint8_t *buf, size_t len, bool product, sc_at_info_t *info)
{
    if (!buf || !info)
        return SC_ERR_INVAL;
    if (len != SC_AT_RECORD_SIZE)
        return SC_ERR_FORMAT;
    if (sc_le32_get(buf + OFF_CRC) != sc_diag_crc32(buf, OFF_CRC))
        return SC_ERR_CRC;
    if (sc_le32_get(buf + OFF_MAGIC) != REC_MAGIC || buf[OFF_VERSION] != REC_VERSION ||
        buf[OFF_KIND] != (product ? 'P' : 'D') || buf[OFF_TLS] > 1)
        return SC_ERR_FORMAT;
    sc_at_info_t tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.tls_mode = buf[OFF_TLS];
    char *secret = product ? tmp.id.product_secret : tmp.id.device_secret;
    size_t scap = product ? sizeof tmp.id.product_secret : sizeof tmp.id.device_secret;
    if (get_field(tmp.id.product_id, sizeof tmp.id.product_id, buf + OFF_PID, LEN_PID) ||
        get_field(tmp.id.device_name, sizeof tmp.id.device_name, buf + OFF_DN, LEN_DN) ||
        get_field(secret, scap, buf + OFF_SECRET, LEN_SECRET) ||
        get_field(tmp.id.region, sizeof tmp.id.region, buf + OFF_REGION, LEN_REGION) ||
        tmp.id.product_id[0] == 0 || tmp.id.device_name[0] == 0 || secret[0] == 0)
        return SC_ERR_FORMAT;
    tmp.valid = true;
    *info = tmp;
    return SC_OK;
}

uint8_t sc_at_bcc(const char *secret)
{
    uint8_t x = 0;
    for (const char *p = secret; p && *p; p++)
        x ^= (uint8_t)*p;
    return x;
}
