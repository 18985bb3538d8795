/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v2 sender side: header, body segments, AES, bit planes, packet list, schedule and
 * the ack format (docs/protocol/esptouch-v2.md). */
#include <string.h>

#include <mbedtls/aes.h>

#include "v2_int.h"

static unsigned groups_of(unsigned len, unsigned width) { return (len + width - 1u) / width; }

int sc_v2_layout(v2_layout_t *l, unsigned p, unsigned r, unsigned s, int enc_p, int enc_r, int enc_s,
                 unsigned security)
{
    memset(l, 0, sizeof *l);
    if (security) {
        l->seg[l->nseg++] = (v2_seg_t){ V2_SEG_CT, (uint8_t)(16u * ((p + r) / 16u + 1u)), 5 };
        if (security == 2)
            l->seg[l->nseg++] = (v2_seg_t){ V2_SEG_IV, SC_ET2_IV_WIRE, 5 };
    } else if (!enc_p && !enc_r) {
        if (p + r)
            l->seg[l->nseg++] = (v2_seg_t){ V2_SEG_PR, (uint8_t)(p + r), 6 };
    } else {
        if (p)
            l->seg[l->nseg++] = (v2_seg_t){ V2_SEG_PWD, (uint8_t)p, (uint8_t)(enc_p ? 5 : 6) };
        if (r)
            l->seg[l->nseg++] = (v2_seg_t){ V2_SEG_RES, (uint8_t)r, (uint8_t)(enc_r ? 5 : 6) };
    }
    if (s)
        l->seg[l->nseg++] = (v2_seg_t){ V2_SEG_SSID, (uint8_t)s, (uint8_t)(enc_s ? 5 : 6) };
    unsigned g = 0;
    for (unsigned i = 0; i < l->nseg; i++)
        g += groups_of(l->seg[i].len, l->seg[i].width);
    if (g > SC_ET2_MAX_GROUPS - 1u)
        return -1;
    l->body_groups = (uint8_t)g;
    return 0;
}

static void push_planes(sc_et2_encoder_t *e, const uint8_t b[6], unsigned nplanes)
{
    for (unsigned i = 0; i < nplanes; i++)
        e->pkts[e->npkts++] = (uint16_t)((i << 7) | 0x40u | v2_plane(b, i));
}

/* 1 when p[0..n) is well-formed UTF-8 (RFC 3629: shortest form, no surrogates, at most
 * U+10FFFF). AES-CBC carries no MAC, so with a one-byte PKCS#7 pad one wrong key in 256
 * decrypts to something the pad accepts: an encrypted password with a byte >= 0x80 must
 * therefore also be UTF-8 (what the apps send) for the receiver to take it, and the encoder
 * refuses to encrypt one that is not (sc_et2_can_encrypt, both sides). */
static int utf8_ok(const uint8_t *p, unsigned n)
{
    for (unsigned i = 0; i < n;) {
        unsigned c = p[i], more, min;
        if (c < 0x80u) {
            i++;
            continue;
        }
        if (c >= 0xC2u && c <= 0xDFu) {
            more = 1;
            min = 0x80u;
        } else if (c >= 0xE0u && c <= 0xEFu) {
            more = 2;
            min = 0x800u;
        } else if (c >= 0xF0u && c <= 0xF4u) {
            more = 3;
            min = 0x10000u;
        } else {
            return 0; /* a continuation byte first, C0/C1 (always overlong) or F5..FF */
        }
        if (n - i <= more)
            return 0;
        uint32_t cp = c & (0x3Fu >> more);
        for (unsigned k = 1; k <= more; k++) {
            if ((p[i + k] & 0xC0u) != 0x80u)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu))
            return 0;
        i += more + 1u;
    }
    return 1;
}

int sc_et2_can_encrypt(const uint8_t *password, unsigned len)
{
    return !v2_encoded(password, len) || utf8_ok(password, len);
}

sc_err_t sc_et2_encode(sc_et2_encoder_t *enc, const sc_et2_params_t *p, sc_et2_pad_fn pad, void *user)
{
    if (!enc || !p)
        return SC_ERR_INVAL;
    if (p->ssid_len > SC_SSID_MAX || p->password_len > SC_PASSWORD_MAX ||
        p->reserved_len > SC_ET2_RESERVED_MAX)
        return SC_ERR_RANGE;
    if (p->port_mark > 3 || p->security > 2)
        return SC_ERR_INVAL;
    memset(enc, 0, sizeof *enc);
    const unsigned pl = p->password_len, rl = p->reserved_len, sl = p->ssid_len;
    /* Nothing to encrypt means no encryption, whatever was asked (the reference does the same). */
    unsigned sec = (pl + rl) ? p->security : 0u;
    int ep = v2_encoded(p->password, pl), er = v2_encoded(p->reserved, rl), es = v2_encoded(p->ssid, sl);
    if (sec && !sc_et2_can_encrypt(p->password, pl))
        return SC_ERR_INVAL; /* the receiver would take it for a wrong key (v2_int.h) */
    v2_layout_t lay;
    if (sc_v2_layout(&lay, pl, rl, sl, ep, er, es, sec))
        return SC_ERR_RANGE;
    uint8_t *h = enc->header;
    h[0] = (uint8_t)(sl | (es ? 0x80u : 0u));
    h[1] = (uint8_t)(pl | (ep ? 0x80u : 0u));
    h[2] = (uint8_t)(rl | (er ? 0x80u : 0u));
    h[3] = sc_crc8(p->bssid, SC_MAC_LEN);
    h[4] = (uint8_t)((p->ipv6 ? 0u : 1u) | (sec << 1) | ((unsigned)p->port_mark << 3));
    h[5] = sc_crc8(h, 5);
    enc->ngroups = (uint8_t)(1u + lay.body_groups);
    enc->security = (uint8_t)sec;

    /* Segment contents, in layout order. */
    uint8_t pr[SC_PASSWORD_MAX + SC_ET2_RESERVED_MAX + 16];
    memcpy(pr, p->password, pl);
    memcpy(pr + pl, p->reserved, rl);
    uint8_t ct[sizeof pr];
    if (sec) {
        size_t n = pl + rl, padded = 16u * (n / 16u + 1u);
        uint8_t padv = (uint8_t)(padded - n);
        memset(pr + n, padv, padv); /* PKCS#7 */
        uint8_t iv[16];
        if (sec == 2)
            memcpy(iv, p->iv, 16);
        else
            memset(iv, 0, 16);
        mbedtls_aes_context aes;
        mbedtls_aes_init(&aes);
        int rc = mbedtls_aes_setkey_enc(&aes, p->key, 128);
        if (rc == 0)
            rc = mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_ENCRYPT, padded, iv, pr, ct);
        mbedtls_aes_free(&aes);
        memset(pr, 0, sizeof pr);
        if (rc)
            return SC_ERR_INVAL;
    }

    enc->pkts[enc->npkts++] = SC_ET2_SYNC;
    enc->pkts[enc->npkts++] = (uint16_t)(SC_ET2_COUNT_BASE + enc->ngroups);
    enc->pkts[enc->npkts++] = SC_ET2_SYNC;
    enc->pkts[enc->npkts++] = (uint16_t)(SC_ET2_COUNT_BASE + enc->ngroups);
    push_planes(enc, h, 8);
    unsigned j = 0;
    for (unsigned si = 0; si < lay.nseg; si++) {
        const v2_seg_t *sg = &lay.seg[si];
        const uint8_t *src;
        switch (sg->kind) {
        case V2_SEG_PR: src = pr; break;
        case V2_SEG_PWD: src = p->password; break;
        case V2_SEG_RES: src = p->reserved; break;
        case V2_SEG_CT: src = ct; break;
        case V2_SEG_IV: src = p->iv; break;
        default: src = p->ssid; break;
        }
        for (unsigned off = 0; off < sg->len; off += sg->width, j++) {
            uint8_t b[6];
            for (unsigned k = 0; k < sg->width; k++)
                b[k] = off + k < sg->len ? src[off + k] : (uint8_t)(pad ? pad(user) % 127u : 0u);
            for (unsigned m = 0; m < 3; m++)
                enc->pkts[enc->npkts++] = (uint16_t)(SC_ET2_SEQ_BASE + j);
            if (sg->width == 5) {
                b[5] = sc_crc8(b, 5);
                push_planes(enc, b, 8);
            } else {
                push_planes(enc, b, 7);
                /* only the low 6 bits of the CRC fit: the plane marker bits overlap the rest */
                enc->pkts[enc->npkts++] = (uint16_t)(0x3C0u | (sc_crc8(b, 6) & 0x3Fu));
            }
        }
    }
    memset(pr, 0, sizeof pr);
    memset(ct, 0, sizeof ct);
    return SC_OK;
}

/* --- schedule --------------------------------------------------------------------------- */
sc_err_t sc_et2_sched_init(sc_et2_sched_t *s, const sc_et2_encoder_t *enc, const sc_et2_timing_t *timing)
{
    if (!s || !enc || enc->npkts == 0)
        return SC_ERR_INVAL;
    memset(s, 0, sizeof *s);
    s->enc = enc;
    const sc_et2_timing_t def = SC_ET2_TIMING_DEFAULT;
    s->timing = timing ? *timing : def;
    if (s->timing.gap_ms == 0 || s->timing.window_ms == 0)
        return SC_ERR_INVAL;
    return SC_OK;
}

sc_err_t sc_et2_sched_next(sc_et2_sched_t *s, uint32_t sent_prev_ms, sc_et2_dgram_t *out)
{
    if (!s || !out)
        return SC_ERR_INVAL;
    uint32_t at = 0;
    if (s->sent) {
        /* the reference sleeps one gap after each datagram and one more after each list; the
         * gap becomes the slow one once the elapsed time passes slow_after */
        uint32_t g = sent_prev_ms >= s->timing.slow_after_ms ? s->timing.slow_gap_ms : s->timing.gap_ms;
        at = sent_prev_ms + g + (s->index == 0 ? g : 0u);
    }
    if (at >= s->timing.window_ms)
        return SC_ERR_DONE;
    out->at_ms = at;
    out->len = s->enc->pkts[s->index];
    out->index = s->index;
    s->index = (uint16_t)((s->index + 1u) % s->enc->npkts);
    s->next_at = at;
    s->sent++;
    return SC_OK;
}

/* --- ack --------------------------------------------------------------------------------- */
uint16_t sc_et2_ack_port(uint8_t port_mark)
{
    return (uint16_t)(SC_ET2_ACK_PORT_BASE + 10000u * (port_mark > 3 ? 0u : port_mark));
}

void sc_et2_ack_build(uint8_t port_mark, const uint8_t mac[SC_MAC_LEN], uint8_t out[SC_ET2_ACK_LEN])
{
    out[0] = port_mark > 3 ? 0 : port_mark;
    memcpy(out + 1, mac, SC_MAC_LEN);
}

sc_err_t sc_et2_ack_parse(const uint8_t *buf, size_t len, uint8_t mac[SC_MAC_LEN])
{
    if (!buf || len < SC_ET2_ACK_LEN)
        return SC_ERR_FORMAT;
    memcpy(mac, buf + 1, SC_MAC_LEN);
    return SC_OK;
}
