/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers of the cloud module: a bounded string builder (no snprintf, so the core
 * does not depend on a printf that handles 64-bit numbers on small libcs), hex, JSON escape. */
#ifndef SC_CLOUD_INT_H
#define SC_CLOUD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *p;
    size_t cap;
    size_t len;
    bool overflow;   /* sticky: one check at the end instead of one per append */
} sc_sb_t;

void sc_sb_init(sc_sb_t *sb, char *buf, size_t cap);
void sc_sb_mem(sc_sb_t *sb, const char *s, size_t n);
void sc_sb_str(sc_sb_t *sb, const char *s);
void sc_sb_u64(sc_sb_t *sb, uint64_t v);
void sc_sb_i64(sc_sb_t *sb, int64_t v);
/* Appends s as a quoted JSON string with the escapes RFC 8259 requires. */
void sc_sb_hex(sc_sb_t *sb, const uint8_t *data, size_t n);
/* SC_OK or SC_ERR_NOSPACE; the buffer is always NUL-terminated when cap > 0. */
int sc_sb_finish(sc_sb_t *sb, size_t *len);

/* Bounded strlen: returns max+1 when s is longer than max (no read past max+1 bytes). */
size_t sc_cloud_strnlen(const char *s, size_t max);

/* Product id and device name are non-empty, fit, and hold no byte that would break a topic,
 * the MQTT username or the dynreg signature string. */
#include "smartcfg/cloud.h"
bool sc_cloud_names_ok(const sc_identity_t *id);
/* A base64 PSK as key bytes (up to SC_MQTT_PSK_MAX): SC_ERR_INVAL empty, SC_ERR_RANGE too long,
 * SC_ERR_FORMAT not base64 (key wiped). The caller wipes key. */
sc_err_t sc_cloud_psk_decode(const char *psk_b64, uint8_t key[SC_MQTT_PSK_MAX], size_t *klen);

#endif
