/* SPDX-License-Identifier: Apache-2.0 */
/* AirKiss sender side: symbols, smartcfg's exact round schedule, and the ack check
 * (docs/protocol/airkiss.md). */
#include <string.h>

#include "smartcfg/airkiss.h"

sc_err_t sc_ak_encode(sc_ak_encoder_t *e, const sc_ak_params_t *p)
{
    if (!e || !p)
        return SC_ERR_INVAL;
    if (p->ssid_len < 1 || p->ssid_len > SC_SSID_MAX || p->password_len > SC_PASSWORD_MAX)
        return SC_ERR_RANGE;
    memset(e, 0, sizeof *e);
    uint8_t m[SC_PASSWORD_MAX + 1 + SC_SSID_MAX];
    unsigned pl = p->password_len, t = pl + 1u + p->ssid_len;
    memcpy(m, p->password, pl);
    m[pl] = p->random;
    memcpy(m + pl + 1, p->ssid, p->ssid_len);
    e->t = (uint8_t)t;
    e->p = (uint8_t)pl;
    e->crc_ssid = sc_crc8(p->ssid, p->ssid_len);
    e->crc_p = sc_crc8(&e->p, 1);
    for (unsigned i = 0; i < 4; i++)
        e->guide[i] = (uint16_t)(i + 1u);
    /* a high nibble of 0 would be a zero-length datagram: the sender writes 8 instead */
    e->magic[0] = (uint16_t)((t >> 4) ? (t >> 4) : 8u);
    e->magic[1] = (uint16_t)(0x10u | (t & 15u));
    e->magic[2] = (uint16_t)(0x20u | (e->crc_ssid >> 4));
    e->magic[3] = (uint16_t)(0x30u | (e->crc_ssid & 15u));
    e->prefix[0] = (uint16_t)(0x40u | (pl >> 4));
    e->prefix[1] = (uint16_t)(0x50u | (pl & 15u));
    e->prefix[2] = (uint16_t)(0x60u | (e->crc_p >> 4));
    e->prefix[3] = (uint16_t)(0x70u | (e->crc_p & 15u));
    for (unsigned j = 0; 4u * j < t; j++) {
        unsigned n = t - 4u * j < 4u ? t - 4u * j : 4u;
        uint8_t buf[5];
        buf[0] = (uint8_t)j;
        memcpy(buf + 1, m + 4u * j, n);
        e->seq[e->nseq++] = (uint16_t)(0x80u | (sc_crc8(buf, n + 1u) & 0x7Fu));
        e->seq[e->nseq++] = (uint16_t)(0x80u | j);
        for (unsigned k = 0; k < n; k++)
            e->seq[e->nseq++] = (uint16_t)(0x100u | m[4u * j + k]);
    }
    memset(m, 0, sizeof m);
    e->round_len = 4u * SC_AK_GUIDE_REPEAT + 4u * SC_AK_MAGIC_REPEAT + SC_AK_PREFIX_REPEAT * (4u + e->nseq);
    return SC_OK;
}

sc_err_t sc_ak_sched_init(sc_ak_sched_t *s, const sc_ak_encoder_t *enc, const sc_ak_timing_t *timing)
{
    if (!s || !enc || enc->round_len == 0)
        return SC_ERR_INVAL;
    memset(s, 0, sizeof *s);
    const sc_ak_timing_t def = SC_AK_TIMING_DEFAULT;
    s->enc = enc;
    s->timing = timing ? *timing : def;
    if (s->timing.gap_ms == 0)
        return SC_ERR_INVAL;
    return SC_OK;
}

sc_err_t sc_ak_sched_next(sc_ak_sched_t *s, sc_ak_dgram_t *out)
{
    if (!s || !out)
        return SC_ERR_INVAL;
    uint64_t at = (uint64_t)s->k * s->timing.gap_ms;
    if (at > s->timing.window_ms)
        return SC_ERR_DONE;
    const sc_ak_encoder_t *e = s->enc;
    uint32_t r = s->k % e->round_len;
    out->at_ms = (uint32_t)at;
    if (r < 4u * SC_AK_GUIDE_REPEAT) {
        out->len = e->guide[r % 4u];
        out->phase = 0;
    } else if ((r -= 4u * SC_AK_GUIDE_REPEAT) < 4u * SC_AK_MAGIC_REPEAT) {
        out->len = e->magic[r % 4u];
        out->phase = 1;
    } else {
        r -= 4u * SC_AK_MAGIC_REPEAT;
        r %= 4u + e->nseq;
        out->len = r < 4u ? e->prefix[r] : e->seq[r - 4u];
        out->phase = r < 4u ? 2 : 3;
    }
    s->k++;
    return SC_OK;
}

sc_err_t sc_ak_ack_parse(const uint8_t *buf, size_t len, uint8_t random, uint8_t mac[SC_MAC_LEN], bool *has_mac)
{
    if (!buf || (len != 1 && len != 7))
        return SC_ERR_FORMAT;
    if (buf[0] != random)
        return SC_ERR_PROTO;
    if (has_mac)
        *has_mac = len == 7;
    if (mac && len == 7)
        memcpy(mac, buf + 1, SC_MAC_LEN);
    return SC_OK;
}
