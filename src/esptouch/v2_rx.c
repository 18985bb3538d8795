/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v2 receiver (docs/protocol/esptouch-v2.md, docs/receiver.md).
 *
 * Streams (one per sender/AP/direction/frame format) lock on the SYNC/COUNT pattern, which
 * gives their overhead and N. After that every length is a SYNC, COUNT, SEQ marker or data
 * plane. A plane is credited to group j only when its position in the packet list is proven:
 * by 802.11 sequence numbers (the number of frames since the marker or the previous plane
 * must be exactly what the list puts there) or, without them, by directly following its
 * predecessor. Planes vote per (group, plane) across rounds and copies, so a group lost on one
 * round is completed from the planes of the next; a group counts only when its CRC holds, the
 * header only when its CRC, reserved bits, lengths and N agree. All state is caller-owned. */
#include <string.h>

#include <mbedtls/aes.h>

#include "../common/outline.h"
#include "../common/state.h"
#include "../rx/rxkey.h"
#include "v2_int.h"
#include "v2_stream.h"

#define V2_NST SC_RXTAB_V2_N /* the front reads the table too (sc_rxtab_hi) */
#define V2_SESSION_IDLE_MS 10000u
/* A searching stream whose newest frame may start a pair (a SYNC, a COUNT) is kept from openers
 * for the sender's gap and its jitter (V2_STEP_MAX_MS), while it is younger than this: a phone's
 * head is four frames 15 ms apart, and openers of sixteen other senders replaced its stream
 * between them (docs/receiver.md §9) */
#define V2_WAIT_MS 1000u
#define V2_PLANE_CNT_MAX 3u
#define V2_KNOWN 2u            /* a plane is known at this count: one sequence-proven sighting or two others */

enum { A_NONE = 0, A_COUNT, A_MARKER, A_PLANE };

typedef struct {
    uint8_t sender[SC_MAC_LEN];
    uint8_t used, n, hdr_ok, nok;
    uint8_t hdr[6];
    uint8_t ok[6];             /* bit per slot: CRC-valid */
    uint8_t plane[SC_ET2_MAX_GROUPS][8]; /* (count << 6) | 6-bit value */
    uint16_t disp;             /* the newest dispute's older value: V2_DISP(slot, plane, value) */
    uint32_t last_ms;
} v2_session_t;
#define V2_DISP(slot, i, d) ((uint16_t)(0x8000u | (slot) << 9 | (i) << 6 | (d)))
/* disp sits in what was padding before last_ms: the state keeps its size */
_Static_assert(sizeof(v2_session_t) == 356, "v2_session_t grew");

typedef struct {
    v2_stream_t st[V2_NST];    /* first: a stream's address is its index times its size */
    uint32_t magic;
    sc_et2_rx_config_t cfg;
    uint8_t key[SC_ET2_KEY_LEN];
    uint8_t has_key, done, reported_nok;
    uint8_t marked;            /* the session showed a misplaced marker (stream_data) */
    v2_session_t ss;
    sc_et2_rx_stats_t stats;
} v2_state_t;

#define V2_MAGIC 0x45543252u
_Static_assert(sizeof(v2_stream_t) == SC_RXTAB_V2_SIZE && offsetof(v2_state_t, st) == 0,
               "the table where the front reads it (rxkey.h)");

SC_STATE_FITS(v2_state_t, sc_et2_rx_t);

static v2_state_t *S(sc_et2_rx_t *rx) { return (v2_state_t *)(void *)rx->opaque; }
static const v2_state_t *CS(const sc_et2_rx_t *rx) { return (const v2_state_t *)(const void *)rx->opaque; }
static inline int32_t since(uint32_t now, uint32_t then) { return sc_ms_diff(now, then); }

sc_err_t sc_et2_rx_init(sc_et2_rx_t *rx, const sc_et2_rx_config_t *cfg)
{
    if (!rx)
        return SC_ERR_INVAL;
    memset(rx, 0, sizeof *rx);
    v2_state_t *r = S(rx);
    r->magic = V2_MAGIC;
    if (cfg)
        r->cfg = *cfg;
    if (r->cfg.offset_max == 0)
        r->cfg.offset_max = SC_RX_OFFSET_MAX_DEFAULT;
    if (r->cfg.offset_min > r->cfg.offset_max)
        return SC_ERR_RANGE;
    if (r->cfg.idle_unlock_ms == 0)
        r->cfg.idle_unlock_ms = 3000;
    return SC_OK;
}

void sc_et2_rx_set_key(sc_et2_rx_t *rx, const uint8_t *key16)
{
    v2_state_t *r = S(rx);
    if (key16) {
        memcpy(r->key, key16, SC_ET2_KEY_LEN);
        r->has_key = 1;
    } else {
        memset(r->key, 0, SC_ET2_KEY_LEN);
        r->has_key = 0;
    }
}

/* No session: its votes, what was reported of it and its mark (the one session's state). */
static void session_forget(v2_state_t *r)
{
    memset(&r->ss, 0, sizeof r->ss);
    r->reported_nok = 0;
    r->marked = 0;
}

void sc_et2_rx_reset(sc_et2_rx_t *rx)
{
    v2_state_t *r = S(rx);
    memset(r->st, 0, sizeof r->st);
    session_forget(r);
    r->done = 0;
}

sc_err_t sc_et2_rx_resume(sc_et2_rx_t *rx)
{
    v2_state_t *r = S(rx);
    if (!r->done)
        return SC_ERR_STATE;
    /* the completed phone's streams stay locked but can no longer feed a session of theirs
     * until it shows a new COUNT; forgetting them would only relock them */
    for (unsigned i = 0; i < V2_NST; i++)
        if (r->st[i].h.state == SC_RXS_LOCKED && sc_rxhdr_from(&r->st[i].h, r->ss.sender))
            memset(&r->st[i], 0, sizeof r->st[i]);
    session_forget(r);
    r->done = 0;
    return SC_OK;
}

/* --- session -------------------------------------------------------------------------- */
static int slot_ok(const v2_session_t *x, unsigned s) { return (x->ok[s >> 3] >> (s & 7u)) & 1u; }

/* The session starts over for s's sender (session_forget first). */
static void session_claim(v2_state_t *r, const v2_stream_t *s, uint32_t now)
{
    session_forget(r);
    v2_session_t *x = &r->ss;
    x->used = 1;
    x->n = s->n;
    sc_rxhdr_unpack(s->h.ks, x->sender);
    x->last_ms = now;
}

/* The session this stream may vote into, or NULL (another phone has it). */
static v2_session_t *session_for(v2_state_t *r, const v2_stream_t *s, uint32_t now)
{
    v2_session_t *x = &r->ss;
    if (x->used && sc_rxhdr_from(&s->h, x->sender)) {
        if (x->n != s->n) {
            if (s->tent)
                return NULL; /* an unconfirmed N does not throw the sender's session away */
            /* the phone started over with other data (another N): what we have is stale */
            session_claim(r, s, now);
        }
        return x;
    }
    if (x->used && since(now, x->last_ms) < (int32_t)V2_SESSION_IDLE_MS)
        return NULL;
    session_claim(r, s, now);
    return x;
}

/* The six bytes of a group from its planes; a 7-bit group (width 6) has its CRC in plane 7,
 * not data. */
static void group_bytes(const v2_session_t *x, unsigned slot, unsigned width, uint8_t b[6])
{
    memset(b, 0, 6);
    for (unsigned i = 0; i < (width == 6 ? 7u : 8u); i++) {
        uint8_t d = x->plane[slot][i] & 63u;
        for (unsigned k = 0; k < 6; k++)
            b[k] = (uint8_t)(b[k] | (((d >> (5u - k)) & 1u) << i));
    }
}

static int group_known(const v2_session_t *x, unsigned slot)
{
    for (unsigned i = 0; i < 8; i++)
        if ((x->plane[slot][i] >> 6) < V2_KNOWN)
            return 0;
    return 1;
}

/* Every plane of a group whose CRC failed needs a fresh confirmation. */
static void group_soften(v2_session_t *x, unsigned slot)
{
    for (unsigned i = 0; i < 8; i++)
        if ((x->plane[slot][i] >> 6) >= V2_KNOWN)
            x->plane[slot][i] = (uint8_t)((1u << 6) | (x->plane[slot][i] & 63u));
}

static int header_layout(const uint8_t h[6], v2_layout_t *lay)
{
    unsigned sec = (h[4] >> 1) & 3u;
    if ((h[4] & 0xE0u) || sec == 3)
        return -1;
    unsigned sl = h[0] & 0x7Fu, pl = h[1] & 0x7Fu, rl = h[2] & 0x7Fu;
    if (sl > SC_SSID_MAX || pl > SC_PASSWORD_MAX || rl > SC_ET2_RESERVED_MAX)
        return -1;
    if (sec && pl + rl == 0)
        return -1; /* a sender never encrypts nothing */
    return sc_v2_layout(lay, pl, rl, sl, h[1] >> 7, h[2] >> 7, h[0] >> 7, sec);
}

static unsigned slot_width(const v2_layout_t *lay, unsigned slot)
{
    unsigned g = 1;
    for (unsigned i = 0; i < lay->nseg; i++) {
        unsigned n = (lay->seg[i].len + lay->seg[i].width - 1u) / lay->seg[i].width;
        if (slot < g + n)
            return lay->seg[i].width;
        g += n;
    }
    return 0;
}

/* The width of a body group under the session's header (0 without one). */
static unsigned body_width(const v2_session_t *x, unsigned slot)
{
    v2_layout_t lay;
    return header_layout(x->hdr, &lay) ? 0u : slot_width(&lay, slot);
}

/* One of the group's planes has been seen twice (the count's top: two proven sightings, or
 * more that agree). A session that showed a changed length (r->marked) takes a 7-bit group only
 * then: its 6-bit CRC passes one wrong group in 64, and a group of single sightings in a
 * session that one copy of the phone gave in one round is otherwise never seen again before
 * the session ends (capture 95980 of bench_rx_events at 2.5x: planes 0 and 4 of the SSID's
 * first group each 3 high, every other group complete in the same round). */
static int plane_twice(const v2_session_t *x, unsigned slot)
{
    for (unsigned i = 0; i < 8; i++)
        if ((x->plane[slot][i] >> 6) == V2_PLANE_CNT_MAX)
            return 1;
    return 0;
}

static void try_slot(v2_state_t *r, v2_session_t *x, unsigned slot)
{
    if (slot_ok(x, slot) || !group_known(x, slot))
        return;
    uint8_t b[6];
    group_bytes(x, slot, 5, b);
    if (slot == 0) {
        v2_layout_t lay;
        if (sc_crc8(b, 5) != b[5] || header_layout(b, &lay) || 1u + lay.body_groups != x->n) {
            r->stats.bad_header++;
            group_soften(x, 0);
            return;
        }
        memcpy(x->hdr, b, 6);
        x->hdr_ok = 1;
        x->ok[0] |= 1u;
        for (unsigned s = 1; s < x->n; s++)
            try_slot(r, x, s);
        return;
    }
    if (!x->hdr_ok)
        return;
    unsigned w = body_width(x, slot);
    group_bytes(x, slot, w, b);
    int good;
    if (w == 5)
        good = sc_crc8(b, 5) == b[5];
    else if (w == 6 && r->marked && !plane_twice(x, slot))
        return; /* (in a marked session, a 7-bit group waits until one plane is seen twice) */
    else /* a 7-bit group: its planes 0..6 are the bytes' bits 0..6, so every byte is < 0x80 by
          * construction and the 6-bit CRC in plane 7 is its only check (docs/receiver.md §9) */
        good = w == 6 && (x->plane[slot][7] & 63u) == (sc_crc8(b, 6) & 63u);
    if (!good) {
        r->stats.bad_crc++;
        group_soften(x, slot);
        return;
    }
    x->ok[slot >> 3] |= (uint8_t)(1u << (slot & 7u));
    x->nok++;
    r->stats.groups_ok++;
}

/* A 7-bit group's 6-bit CRC passes a wrong group 1 time in 64 (docs/receiver.md §9), and a
 * plane counts as known at one sequence-proven sighting, so one changed length can complete a
 * wrong group. Such a group is accepted, but the next sighting of the changed plane contradicts
 * it, usually before the session ends: so an accepted group's planes go on counting their
 * sightings, and a 7-bit group reopens when a contradicting sighting outweighs one of its planes
 * (a plane seen twice survives one). Honest air never contradicts an accepted group.
 * Two proven sightings of a plane that disagree cancelled to count 0, yet one of them was
 * changed: honest air never gives such a pair. The plane then forgot it, and the next
 * proven sighting alone made it known again, even one of a third value: capture 21271 of
 * bench_rx_events at 7.5x (plane 5 of the SSID's first group seen true, then 3 low, then 2
 * high; the last completed the group past its 6-bit CRC beside a changed CRC plane). Now the
 * plane of a 7-bit group keeps the newer of the two values at count 1 and the session's newest
 * dispute the older (disp), so a proven sighting that agrees with neither counts as unproven:
 * the plane needs a second that agrees. One that agrees with either counts as before. A plane
 * whose older value a later dispute took from disp knows only the newer one, so a sighting of
 * the older waits for one more (the cost, in captures with changed lengths only; disp sits in
 * padding, the state keeps its size, and a fresh plane's vote is as before). */
static SC_NOINLINE void plane_overturn(v2_session_t *x, unsigned slot, unsigned id, unsigned w)
{
    /* a sighting id (plane << 6 | value) of weight w outweighs or cancels the other value its
     * plane holds (out of line: it runs on conflicts alone) */
    uint8_t *p = &x->plane[slot][id >> 6];
    unsigned c = *p >> 6, v = *p & 63u;
    /* the older value of this plane's dispute (below) counts as it did before the dispute; any
     * other takes the count left, 1 or 0 */
    unsigned n = x->disp == V2_DISP(slot, 0u, id) ? w : w - c;
    if (n == 0 && w == 2u && slot && body_width(x, slot) != 5) {
        n = 1; /* a 7-bit group's dispute: the newer value at 1, the older in disp */
        x->disp = V2_DISP(slot, id >> 6, v);
    }
    *p = (uint8_t)((n << 6) | (id & 63u));
}

static void vote(v2_state_t *r, v2_session_t *x, unsigned slot, unsigned i, uint8_t d, unsigned w, uint32_t now)
{
    uint8_t *p = &x->plane[slot][i];
    unsigned c = *p >> 6, v = *p & 63u, acc = (unsigned)slot_ok(x, slot);
    if (c == 0) {
        *p = (uint8_t)((w << 6) | d);
    } else if (v == d) {
        c += w;
        *p = (uint8_t)(((c > V2_PLANE_CNT_MAX ? V2_PLANE_CNT_MAX : c) << 6) | d);
    } else {
        r->stats.conflicts++;
        if (c > w) {
            *p = (uint8_t)(((c - w) << 6) | v);
        } else if (acc && (!slot || body_width(x, slot) != 6)) {
            return; /* the header and 8-bit groups: an 8-bit CRC holds them */
        } else {
            plane_overturn(x, slot, i << 6 | d, w);
            if (acc) {
                x->ok[slot >> 3] &= (uint8_t)~(1u << (slot & 7u));
                x->nok--;
                acc = 0;
            }
        }
    }
    if (acc)
        return;
    x->last_ms = now;
    try_slot(r, x, slot);
}

/* Segment bytes by kind, from the validated groups. */
static unsigned seg_bytes(const v2_session_t *x, const v2_layout_t *lay, unsigned kind, uint8_t *out)
{
    unsigned slot = 1;
    for (unsigned i = 0; i < lay->nseg; i++) {
        const v2_seg_t *sg = &lay->seg[i];
        unsigned n = (sg->len + sg->width - 1u) / sg->width;
        if (sg->kind == kind) {
            unsigned o = 0;
            for (unsigned g = 0; g < n; g++) {
                uint8_t b[6];
                group_bytes(x, slot + g, sg->width, b);
                for (unsigned k = 0; k < sg->width && o < sg->len; k++)
                    out[o++] = b[k];
            }
            return o;
        }
        slot += n;
    }
    return 0;
}

/* All groups valid: assemble, decrypt and cross-check. 0 = a result, -1 = inconsistent. */
static int session_finish(v2_state_t *r, const v2_session_t *x, const v2_stream_t *s, sc_et2_result_t *res)
{
    v2_layout_t lay;
    if (header_layout(x->hdr, &lay))
        return -1;
    const uint8_t *h = x->hdr;
    unsigned sl = h[0] & 0x7Fu, pl = h[1] & 0x7Fu, rl = h[2] & 0x7Fu, sec = (h[4] >> 1) & 3u;
    memset(res, 0, sizeof *res);
    res->ssid_len = (uint8_t)seg_bytes(x, &lay, V2_SEG_SSID, res->ssid);
    if (res->ssid_len != sl || v2_encoded(res->ssid, sl) != (h[0] >> 7))
        return -1;
    res->security = (uint8_t)sec;
    res->port_mark = (uint8_t)((h[4] >> 3) & 3u);
    res->ipv6 = !(h[4] & 1u);
    res->bssid_crc = h[3];
    if (sec == 0) {
        uint8_t buf[SC_PASSWORD_MAX + SC_ET2_RESERVED_MAX];
        if (seg_bytes(x, &lay, V2_SEG_PR, buf) == pl + rl) {
            /* one 7-bit segment: nothing may be >= 0x80, and the header said so */
            if ((h[1] >> 7) || (h[2] >> 7))
                return -1;
        } else {
            if (seg_bytes(x, &lay, V2_SEG_PWD, buf) != pl || seg_bytes(x, &lay, V2_SEG_RES, buf + pl) != rl)
                return -1;
            if (v2_encoded(buf, pl) != (h[1] >> 7) || v2_encoded(buf + pl, rl) != (h[2] >> 7))
                return -1;
        }
        memcpy(res->password, buf, pl);
        memcpy(res->reserved, buf + pl, rl);
        res->password_len = (uint8_t)pl;
        res->reserved_len = (uint8_t)rl;
        res->password_ok = 1;
        memset(buf, 0, sizeof buf);
    } else if (r->has_key) {
        uint8_t ct[SC_PASSWORD_MAX + SC_ET2_RESERVED_MAX + 16], pt[sizeof ct], iv[SC_ET2_IV_WIRE];
        unsigned n = seg_bytes(x, &lay, V2_SEG_CT, ct);
        memset(iv, 0, sizeof iv);
        if (sec == 2 && seg_bytes(x, &lay, V2_SEG_IV, iv) != SC_ET2_IV_WIRE)
            return -1;
        mbedtls_aes_context aes;
        mbedtls_aes_init(&aes);
        int rc = mbedtls_aes_setkey_dec(&aes, r->key, 128);
        if (rc == 0)
            rc = mbedtls_aes_crypt_cbc(&aes, MBEDTLS_AES_DECRYPT, n, iv, ct, pt);
        mbedtls_aes_free(&aes);
        /* PKCS#7 and the header's plaintext length must both agree, else the key is wrong */
        unsigned pad = n ? pt[n - 1] : 0u;
        int good = rc == 0 && pad >= 1 && pad <= 16 && n - pad == pl + rl;
        for (unsigned i = 0; good && i < pad; i++)
            good = pt[n - 1 - i] == pad;
        /* What else a wrong key must get past. AES-CBC carries no MAC: a wrong key gives
         * random plaintext, and a one-byte pad (password + reserved = 15 mod 16) lets one key
         * in 256 through PKCS#7. The header's "encoded" bits are computed on the plaintext:
         * an ASCII password or reserved data must decrypt to bytes all < 0x80 (2^-8 a byte),
         * an encoded one to at least one high byte. An encoded password is also the UTF-8 the
         * apps send (random bytes with a high byte are UTF-8 about once in 7000 at 15 bytes,
         * 190 at 8): exactly what the encoder agrees to encrypt (sc_et2_can_encrypt). So a
         * sender encrypting a non-UTF-8 password gets no password here: nothing could tell it
         * from a wrong key. */
        if (good && (v2_encoded(pt, pl) != (h[1] >> 7) || v2_encoded(pt + pl, rl) != (h[2] >> 7) ||
                     !sc_et2_can_encrypt(pt, pl)))
            good = 0;
        if (good) {
            memcpy(res->password, pt, pl);
            memcpy(res->reserved, pt + pl, rl);
            res->password_len = (uint8_t)pl;
            res->reserved_len = (uint8_t)rl;
            res->password_ok = 1;
        } else {
            r->stats.decrypt_fail++;
        }
        memset(pt, 0, sizeof pt);
    } else {
        r->stats.decrypt_fail++;
    }
    /* the AP the phone is on: the stream BSSID whose CRC the phone sent */
    for (unsigned i = 0; i < V2_NST; i++) {
        const v2_stream_t *t = &r->st[i];
        uint8_t b[SC_MAC_LEN];
        sc_rxhdr_unpack(t->h.kb, b);
        if (t->h.state == SC_RXS_LOCKED && !(sc_rxhdr_flags(&t->h) & (SC_RXK_ETH | SC_RXK_LENONLY)) &&
            sc_rxhdr_from(&t->h, x->sender) && sc_crc8(b, SC_MAC_LEN) == h[3]) {
            memcpy(res->bssid, b, SC_MAC_LEN);
            res->has_bssid = 1;
            break;
        }
    }
    res->channel = s->h.channel;
    res->offset = s->h.offset;
    memcpy(res->sender, x->sender, SC_MAC_LEN);
    return 0;
}

/* --- streams ---------------------------------------------------------------------------- */
static sc_rxtab_t table(const v2_state_t *r)
{
    sc_rxtab_t t = { (void *)r->st, V2_NST, sizeof r->st[0], 0, 0, r->cfg.idle_unlock_ms }; /* (expiry) */
    return t;
}

static SC_RX_INLINE int pair_ok(const v2_state_t *r, uint16_t l, uint16_t m, uint16_t *off, uint8_t *n)
{
    if (l < SC_ET2_SYNC + r->cfg.offset_min || l > SC_ET2_SYNC + r->cfg.offset_max || m <= l)
        return 0;
    unsigned d = (unsigned)(m - l);   /* COUNT - SYNC = 23 + N */
    if (d < 24u || d > 23u + SC_ET2_MAX_GROUPS)
        return 0;
    *off = (uint16_t)(l - SC_ET2_SYNC);
    *n = (uint8_t)(d - 23u);
    return 1;
}

/* The last three lengths and this one repeat as SYNC COUNT SYNC COUNT do (with the pair tested
 * apart): the whole head's window, for the search and for a tentative stream alike. */
static SC_RX_INLINE int head_window(const v2_stream_t *s, uint16_t len)
{
    return s->hist[0] == s->hist[2] && s->hist[1] == len;
}

/* A searching stream locks: its offset and N, anchored at a COUNT (tentative: head_partial). */
static SC_NOINLINE void stream_lock(v2_state_t *r, v2_stream_t *s, uint16_t off, uint8_t n, int tent, uint16_t seq)
{
    s->h.state = SC_RXS_LOCKED;
    s->h.offset = off;
    s->n = n;
    s->anchor = A_COUNT;
    s->sure = 1;
    s->prevmk = 0;
    s->ncand = 0;
    s->tent = (uint8_t)tent;
    s->aseq = seq;
    s->since = 0;
    r->stats.locks++;
}

/* The head (SYNC COUNT SYNC COUNT, then the header's plane 0) comes once per packet list, so a
 * head that lost one of its four frames cost a whole list (about 1 s; 34 % of heads at 10 %
 * loss). Three of those four, in their order, and plane 0 right after them under the pair's
 * offset lock too: "C S C h" (first SYNC lost), "S S C h", "S C C h", "S C S h". Four frames
 * with a repeat and a fifth within a 64-wide window, as unlikely from foreign traffic as the
 * full pattern; the phone's own lists never form it under another offset (their repeats are
 * markers, 800 or more below plane 0 of any offset a SYNC-range length gives). One of the four
 * frames is seen once, so a corrupted one gives a wrong offset or N: such a lock is tentative
 * (v2_stream_t.tent, stream_data). Returns the offset << 8 | N for such a lock, else 0. Out of
 * line in a size build: stream_search calls it only for plane 0 under the newest pair's offset,
 * and its inlined copies would cost every searching stream's frame registers (docs/m4.md). */
static SC_OUTLINE uint32_t head_partial(const v2_state_t *r, const v2_stream_t *s, uint16_t len)
{
    const uint16_t *h = s->hist;
    uint16_t off;
    uint8_t n;
    if (pair_ok(r, h[1], h[2], &off, &n) && (h[0] == h[1] || h[0] == h[2]) && (unsigned)(len - off - 64u) < 64u)
        return (uint32_t)off << 8 | n;
    if (pair_ok(r, h[0], h[1], &off, &n) && (h[2] == h[0] || h[2] == h[1]) && (unsigned)(len - off - 64u) < 64u)
        return (uint32_t)off << 8 | n;
    return 0; /* (N is never 0) */
}

/* Searching: lock on SYNC COUNT SYNC COUNT, or on one SYNC/COUNT pair seen twice. A plane
 * 28 below SYNC must not start a lock (the sliding window sees the real pair right after).
 * Returns 1 for a lock, 2 for a tentative lock on the header's plane 0 (head_partial; the frame
 * is then data too). */
static int stream_search(v2_state_t *r, v2_stream_t *s, uint16_t len, uint16_t seq, uint32_t now)
{
    uint16_t off;
    uint8_t n;
    int lock = 0;
    uint16_t p = s->hist[2];
    /* a SYNC or (a partial head's) COUNT before this frame: one test for most foreign frames */
    if (p >= SC_ET2_SYNC + r->cfg.offset_min && p <= SC_ET2_SYNC + r->cfg.offset_max + V2_PAIR_SPAN) {
        if (pair_ok(r, p, len, &off, &n)) {
            if (head_window(s, len) || (s->cand_l == p && s->cand_m == len))
                lock = 1;
            else {
                s->cand_l = p;
                s->cand_m = len;
            }
        } else if ((unsigned)(len + SC_ET2_SYNC - s->cand_l - 64u) < 64u) {
            /* plane 0 under the offset of the newest pair (every partial head holds one) */
            uint32_t hp = head_partial(r, s, len);
            if (hp) {
                off = (uint16_t)(hp >> 8);
                n = (uint8_t)hp;
                lock = 2;
            }
        }
    }
    v2_hist_push(s, len);
    if (lock)
        stream_lock(r, s, off, n, lock == 2, seq);
    (void)now;
    return lock;
}

/* A tentative stream keeps watching for a whole head's window (S C S C), which relocks it and
 * confirms it. Only the window: a pair seen twice, or another partial head, among data lengths
 * read under a wrong offset (plane 7s look like SYNCs and COUNTs 25..88 lower) would lock it
 * wrongly again. Out of line: it runs for a tentative stream's frames alone. */
static SC_NOINLINE int tent_search(v2_state_t *r, v2_stream_t *s, uint16_t len, uint16_t seq)
{
    uint16_t off;
    uint8_t n;
    int whole = pair_ok(r, s->hist[2], len, &off, &n) && head_window(s, len);
    v2_hist_push(s, len);
    if (whole)
        stream_lock(r, s, off, n, 0, seq);
    return whole;
}

/* A plane i the stream cannot place (stream_data: not where the list puts it, gap frames after
 * the anchor by sequence number) ends the stream's chain, unless it came after a proven anchor
 * (sure) sooner than the packet list puts any frame of plane i after it: the phone's other frames and lost ones only widen
 * gaps, so its length was changed. Before 2026-12-06 such a frame ended the chain like any
 * plane out of place, and the group's later planes in this copy went unheard: capture 2776 of
 * bench_rx_events at 7.5x (one copy's plane 1 became a plane 2 one frame after plane 0; the
 * other copy's planes 1 and 3, each changed and seen once, completed the SSID's last 7-bit
 * group past its 6-bit CRC, where the first copy's true plane 3 would have contradicted them). Now
 * the frame is dropped and the chain goes on from the same anchor, unproven: its next planes
 * count as unproven sightings (weight 1), whose place is still proven by the anchor, and a
 * second such frame (or any plane out of place) ends it as before. The anchor may be the
 * changed frame instead (a plane index one off): then the group's next true planes are out of
 * place under it too, and the second ends the chain; a frame of the next group reaches the
 * window only past all three of its markers lost, as it did before at weight 2. Out of line:
 * it runs on frames out of place alone. */
static SC_NOINLINE void plane_out_of_place(v2_stream_t *s, unsigned i, unsigned gap, int use_seq)
{
    unsigned a = s->anchor, p = s->aplane;
    /* (the same plane comes again in the next group, 11 - aplane + i after plane aplane; after
     * a marker, its third copy) */
    int early = a == A_PLANE ? gap < (i > p ? i - p : 11u - p + i) : a != A_NONE && gap < i + 1u;
    if (!(use_seq && s->sure && !s->tent && early))
        s->anchor = A_NONE; /* the chain ends */
    s->sure = 0;
}

/* gap: frames since the anchor by sequence number; use_seq 0 when there are none. */
static sc_et_event_type_t stream_data(v2_state_t *r, v2_stream_t *s, uint16_t len, const sc_rxkey_t *k,
                                      int use_seq, unsigned gap, uint32_t now, sc_et2_result_t *res)
{
    if (len < s->h.offset) {
        s->since++;
        s->prevmk = 0;
        return SC_ET_EV_NONE;
    }
    unsigned x = (unsigned)(len - s->h.offset);
    int anchor_set = 0;
    uint8_t prevmk = s->prevmk;
    s->prevmk = 0;
    /* A group's planes are credited to the slot its marker names, and a sequence-proven plane
     * counts as known at once: one marker whose length was corrupted (or forged) would move a
     * whole CRC-valid group into the wrong slot (a v2 SSID "TP-LINTP-LIN" came out of a
     * capture with 2 % of the phone's lengths changed by 1..3). So a slot counts as proven
     * (`sure`) only from two adjacent copies of its marker, from the sure planes of the group
     * before it, or from a COUNT (slot 0, whatever N it says); planes placed under an unproven
     * slot vote with the weight of an unproven sighting and need a second one. */
    if (x == SC_ET2_SYNC) {
        /* between the two COUNTs: the anchor stays where it was */
    } else if (x > SC_ET2_COUNT_BASE && x <= SC_ET2_COUNT_BASE + SC_ET2_MAX_GROUPS) {
        /* N changes (the phone started over with other data) only when two COUNTs say so:
         * one corrupted COUNT must not throw the session away. */
        uint8_t n = (uint8_t)(x - SC_ET2_COUNT_BASE);
        if (n == s->n) {
            s->ncand = 0;
        } else if (n == s->ncand) {
            s->n = n;
            s->ncand = 0;
        } else {
            s->ncand = n;
        }
        s->anchor = A_COUNT;
        s->sure = 1;
        anchor_set = 1;
    } else if (x >= SC_ET2_SEQ_BASE && x < SC_ET2_SEQ_BASE + SC_ET2_MAX_GROUPS - 1u) {
        uint8_t slot = (uint8_t)(x - SC_ET2_SEQ_BASE + 1u);
        int copy = prevmk == slot + 1u;
        int follows = s->anchor == A_PLANE && s->sure && s->slot + 1u == slot &&
                      (use_seq ? gap >= 8u - s->aplane && gap <= 8u - s->aplane + 12u : s->since == 0);
        int beside_sure = s->anchor == A_MARKER && s->sure && s->slot != slot && (use_seq ? gap <= 2u : s->since == 0);
        s->prevmk = (uint8_t)(slot + 1u);
        /* A marker where the list cannot have one, by sequence number: within two frames of a
         * proven copy of another marker, or before the next group's three copies are over
         * after a proven plane and not the next group's marker in its place. Honest air never
         * shows one (the phone's other frames only widen gaps); a changed length does, and
         * marks the session (try_slot). A tentative stream's places may be wrong: not it. */
        if (use_seq && !s->tent && !follows &&
            (beside_sure || (s->anchor == A_PLANE && s->sure && gap <= 10u - s->aplane)))
            r->marked = 1;
        if (!copy && !follows && beside_sure) {
            /* right beside a proven copy of another marker: this copy is the odd one out */
            if (s->since < 255)
                s->since++;
            return SC_ET_EV_NONE;
        }
        s->anchor = A_MARKER;
        s->slot = slot;
        s->sure = (uint8_t)(copy || follows);
        anchor_set = 1;
    } else if (x >= 64u && x < 1024u && (x & 0x40u)) {
        unsigned i = x >> 7, ok = 0;
        uint8_t d = (uint8_t)(x & 63u);
        if (use_seq) {
            /* frames since the anchor must be what the packet list puts between them */
            /* Frames of other traffic the sniffer does not key here (the phone's unicast, the
             * AP's beacons) use sequence numbers too, so a gap can be larger than the list puts
             * there, but never as large as the distance to the same plane of the next group:
             * 11 more from a plane, 12 from a marker or COUNT (SEQ x3 between groups, SYNC,
             * COUNT, header between cycles). Below that distance the position is proven. */
            switch (s->anchor) {
            case A_COUNT:
            case A_MARKER: ok = gap >= i + 1u && gap <= i + 11u; break;
            case A_PLANE: ok = i > s->aplane && gap >= i - s->aplane && gap <= i - s->aplane + 10u; break;
            default: break;
            }
        } else {
            ok = s->since == 0 && (s->anchor == A_PLANE ? i == s->aplane + 1u : (s->anchor != A_NONE && i == 0));
        }
        if (s->anchor == A_COUNT)
            s->slot = 0;
        if (ok && s->slot < s->n) {
            s->anchor = A_PLANE;
            s->aplane = (uint8_t)i;
            anchor_set = 1;
            /* A tentative stream votes only on the header (its CRC8, lengths and N check what
             * a wrong offset or N would make of it) until its own header plane agrees with the
             * validated header: a wrong offset shifts every plane value, and the 6-bit CRC of a
             * 7-bit group passes one such group in 64. A body plane of it claims no session. */
            v2_session_t *x2 = s->tent && s->slot ? NULL : session_for(r, s, now);
            if (x2) {
                vote(r, x2, s->slot, i, d, use_seq && s->sure ? 2u : 1u, now);
                if (s->tent && x2->hdr_ok && v2_plane(x2->hdr, i) == d)
                    s->tent = 0;
                if (x2->hdr_ok && x2->nok + 1u == x2->n) {
                    if (session_finish(r, x2, s, res) == 0) {
                        r->done = 1;
                        return SC_ET_EV_DONE;
                    }
                    /* consistent groups but an inconsistent whole: start the session over */
                    r->stats.bad_header++;
                    session_claim(r, s, now);
                }
                if (x2->nok != r->reported_nok) {
                    r->reported_nok = x2->nok;
                    return SC_ET_EV_PROGRESS;
                }
            }
        } else {
            plane_out_of_place(s, i, gap, use_seq); /* the chain ends, or goes on unproven */
        }
    }
    if (anchor_set) {
        s->since = 0;
        s->aseq = k->seq;
    } else if (s->since < 255) {
        s->since++;
    }
    return SC_ET_EV_NONE;
}

/* A fresh stream for k: sc_rxtab_victim's choice with v2's wait (below), its constants folded
 * for v2's three slots, and the slot cleared a word at a time, unrolled. About one foreign length in seven lies in SYNC's range and opens
 * a stream; the generic walk and the cleared slot's loop cost such a frame ~130 instructions
 * (docs/m4.md). */
static v2_stream_t *stream_open(v2_state_t *r, const sc_rxkey_t *k, uint32_t now)
{
    /* sc_rxtab_victim's order (a free slot, else the least recently heard searching stream or
     * silent lock), but a young searching stream that waits for the second frame of a pair
     * (V2_WAIT_MS) is kept. A lock is not given up before idle_unlock_ms: replacing a lock
     * without progress after a grace, as AirKiss does, cost honest air (docs/receiver.md §9). */
    v2_stream_t *victim = NULL;
    for (unsigned i = 0; i < V2_NST; i++) {
        v2_stream_t *s = &r->st[i];
        if (s->h.state == SC_RXS_FREE) {
            victim = s;
            break;
        }
        int32_t quiet = sc_ms_diff(now, s->h.last_ms);
        int ok;
        if (s->h.state == SC_RXS_SEARCH)
            ok = quiet > (int32_t)V2_STEP_MAX_MS ||
                 (unsigned)s->hist[2] - (SC_ET2_SYNC + r->cfg.offset_min) > r->cfg.offset_max - r->cfg.offset_min + V2_PAIR_SPAN ||
                 sc_ms_diff(now, s->h.lock_ms) >= (int32_t)V2_WAIT_MS;
        else
            ok = quiet >= (int32_t)r->cfg.idle_unlock_ms;
        if (ok && (!victim || sc_ms_diff(victim->h.last_ms, s->h.last_ms) > 0))
            victim = s;
    }
    if (!victim)
        return NULL;
    volatile uint32_t *w = (volatile uint32_t *)(void *)victim;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 14
#endif
    for (unsigned i = 0; i < sizeof *victim / 4u; i++)
        w[i] = 0;
    sc_rxhdr_claim(&victim->h, k, now);
    return victim;
}

/* The frame's stream (rxkey.h): the walk inlined, and an opening only for a length that may
 * open a stream (a SYNC's: the only place that range is written). NULL for none and for a retransmission of the stream's last frame. */
static v2_stream_t *stream_for(v2_state_t *r, const sc_rxkey_t *k, uint32_t now)
{
    sc_rxhdr_t *h = sc_rxtab_match(r->st, V2_NST, sizeof r->st[0], k);
    if (h)
        return sc_rxhdr_repeat(h, k) ? NULL : (v2_stream_t *)(void *)h;
    if (k->len < (uint16_t)(SC_ET2_SYNC + r->cfg.offset_min) || k->len > (uint16_t)(SC_ET2_SYNC + r->cfg.offset_max))
        return NULL;
    return stream_open(r, k, now);
}

sc_et_event_type_t sc_et2_rx_feed_key(sc_et2_rx_t *rx, const sc_rxkey_t *k, uint32_t now_ms, sc_et2_result_t *res)
{
    v2_state_t *r = S(rx);
    /* The magic and done are the public feed's to test, and so is a frame without a key: the
     * front initialised the decoder and feeds none after a DONE (its run word stands for
     * both), and keys every frame it passes (two tests fewer per call, docs/m4.md). */
    r->stats.frames++;
    v2_stream_t *s = stream_for(r, k, now_ms);
    if (!s)
        return SC_ET_EV_NONE;
    int use_seq, part = 1; /* part: a tentative lock on this frame (its event is at least LOCKED) */
    unsigned gap;
    if (s->h.state == SC_RXS_SEARCH) {
        /* (most calls: the searching streams of foreign senders) */
        /* Candidate traffic for the channel search, without a list head: plane 7 opens a stream
         * under most overheads (it reaches SYNC's range), and the next group's marker follows
         * one datagram later, V2_STEP_LO..+SPAN shorter. A 24 ms visit hears two datagrams at
         * most; v1's candidates see the pairs among markers and planes 0..4 (rx.c), this one
         * the pair they cannot. Nothing locks on it: the search only looks longer. Tested
         * before the note, which replaces the previous frame's time. */
        if ((unsigned)(s->hist[2] - k->len - V2_STEP_LO) <= V2_STEP_SPAN &&
            now_ms - s->h.last_ms - V2_STEP_MIN_MS <= V2_STEP_MAX_MS - V2_STEP_MIN_MS)
            s->step_ms16 = (uint16_t)(now_ms | 1u);
        sc_rxhdr_note(&s->h, k, k->channel, now_ms);
        int lock = stream_search(r, s, k->len, k->seq, now_ms);
        if (!lock)
            return SC_ET_EV_NONE;
        if (lock != 2)
            goto locked;
        /* a tentative lock on the header's plane 0: this frame is data, one after the COUNT */
        use_seq = k->has_seq;
        gap = 1u;
    } else {
        /* A tentative lock keeps searching: a whole head relocks it (tent_search). */
        if (s->tent && tent_search(r, s, k->len, k->seq)) {
            sc_rxhdr_note(&s->h, k, k->channel, now_ms);
            goto locked;
        }
        /* what the data path asks of the stream's previous frame, before the note replaces it */
        use_seq = k->has_seq && s->h.has_seq;
        gap = (unsigned)((k->seq - s->aseq) & 0x0FFFu);
        sc_rxhdr_note(&s->h, k, k->channel, now_ms);
        part = 0;
    }
    sc_et_event_type_t ev = stream_data(r, s, k->len, k, use_seq, gap, now_ms, res);
    if (ev != SC_ET_EV_NONE || !part)
        return ev;
locked:
    /* a lock's overhead, as DONE's (esptouch_v2.h): the caller's event carries it */
    res->offset = s->h.offset;
    return SC_ET_EV_LOCKED;
}

sc_et_event_type_t sc_et2_rx_feed(sc_et2_rx_t *rx, const sc_frame_t *f, uint32_t now_ms, sc_et2_result_t *res)
{
    sc_rxkey_t k;
    if (!rx || !f || S(rx)->magic != V2_MAGIC || S(rx)->done)
        return SC_ET_EV_NONE;
    if (!sc_rxkey(f, &k)) {
        S(rx)->stats.frames++; /* a frame no stream can use: only counted */
        return SC_ET_EV_NONE;
    }
    sc_et2_result_t tmp; /* the keyed feed writes its result (rxkey.h) */
    return sc_et2_rx_feed_key(rx, &k, now_ms, res ? res : &tmp);
}

sc_et_event_type_t sc_et2_rx_tick(sc_et2_rx_t *rx, uint32_t now_ms)
{
    v2_state_t *r = S(rx);
    if (r->magic != V2_MAGIC || r->done)
        return SC_ET_EV_NONE;
    sc_rxtab_t t = table(r);
    sc_et_event_type_t ev = sc_rxtab_expire(&t, now_ms) ? SC_ET_EV_UNLOCKED : SC_ET_EV_NONE;
    if (r->ss.used && since(now_ms, r->ss.last_ms) >= (int32_t)V2_SESSION_IDLE_MS) {
        session_forget(r);
    }
    return ev;
}

uint8_t sc_et2_rx_locked_channel(const sc_et2_rx_t *rx)
{
    sc_rxtab_t t = table(CS(rx));
    return sc_rxtab_locked_channel(&t);
}

sc_rxsum_t sc_et2_rx_senders(const sc_et2_rx_t *rx)
{
    return sc_rxsum_of(CS(rx)->st, V2_NST, sizeof CS(rx)->st[0], 0);
}

void sc_et2_rx_progress(const sc_et2_rx_t *rx, uint8_t *known, uint8_t *needed)
{
    const v2_state_t *r = CS(rx);
    if (known)
        *known = r->ss.nok;
    if (needed)
        *needed = r->ss.hdr_ok ? (uint8_t)(r->ss.n - 1u) : 0u;
}

void sc_et2_rx_stats(const sc_et2_rx_t *rx, sc_et2_rx_stats_t *out)
{
    *out = CS(rx)->stats;
}

/* --- channel search (sc_chansearch_step_rx) ----------------------------------------------
 * Read-only; the per-frame path adds only the plane-7 step (step_ms16, sc_et2_rx_feed_key),
 * which is fresh by its own time. cand_l is set only by a SYNC followed by a COUNT of
 * the same transmitter: the head of a packet list, which random traffic rarely forms. It stays
 * set until the stream locks or is evicted, so only a pair among the stream's last three lengths
 * (the COUNT newest or one frame before) counts: a foreign station that once sent such a pair
 * would otherwise be candidate traffic with every later broadcast, and the search lingers on
 * candidate traffic for up to a whole v2 packet list (SC_CHANSEARCH_MAX_LINGER). */
int sc_et2_rx_candidate(const sc_et2_rx_t *rx, uint8_t channel, uint32_t now_ms, uint32_t within_ms)
{
    const v2_state_t *r = CS(rx);
    if (r->magic != V2_MAGIC || !channel)
        return 0;
    for (unsigned i = 0; i < V2_NST; i++) {
        const v2_stream_t *s = &r->st[i];
        if (s->h.state == SC_RXS_SEARCH && s->cand_l && sc_rxhdr_heard(&s->h, channel, now_ms, within_ms) &&
            ((s->hist[1] == s->cand_l && s->hist[2] == s->cand_m) || (s->hist[0] == s->cand_l && s->hist[1] == s->cand_m)))
            return 1;
        /* plane 7 and the next marker within the window (step_ms16 may be 1 ms ahead: | 1) */
        if (s->h.state == SC_RXS_SEARCH && s->step_ms16 && sc_rxhdr_heard(&s->h, channel, now_ms, within_ms) &&
            (uint16_t)((uint16_t)now_ms - s->step_ms16 + 1u) <= within_ms + 1u)
            return 1;
    }
    return 0;
}
