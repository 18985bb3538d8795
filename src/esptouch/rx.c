/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v1 receiver (docs/protocol/esptouch-v1.md#the-receiver, docs/receiver.md). Streams are keyed per radio copy,
 * calibrated from the guide or from CRC-valid data triplets alone, and vote per byte index into
 * a session shared by the copies of one phone behind one BSSID. All state lives in the
 * caller's sc_et_rx_t: no heap, no OS calls. */
#include <string.h>

#include "crc8.h"
#include "smartcfg/esptouch_rx.h"

#include "../common/state.h"

#define RX_NSTREAMS 7
#define RX_NSESSIONS 3
#define RX_NCAND 4           /* guide-less offset candidates per stream */
#define RX_CAND_IDX 3        /* distinct indices needed to trust a guide-less offset */
#define RX_HIST 6            /* raw lengths kept per stream (stride-2 windows need 5) */
#define RX_STREAM_STALE_MS 1500u
#define RX_MISS_UNCONFIRMED 60u  /* data frames without a valid triplet before a fresh lock is called false */
#define RX_MISS_CONFIRMED 240u   /* ... and for a lock that already produced triplets (survives 30 % loss) */
#define RX_CNT_MAX 15u      /* vote counters are nibbles */
#define RX_NHALF 32          /* per session: half triplets (index + one nibble symbol) */
#define RX_EXPIRE_EVERY_MS 50u
#define RX_OFFSET_CAP 255u   /* offsets are kept in a byte in the candidate table */

enum { ST_FREE = 0, ST_SEARCH, ST_LOCKED };
enum {
    SF_TODS = 1u, SF_FROMDS = 2u, SF_QOS = 4u, SF_PROT = 8u, SF_ETH = 16u, SF_LENONLY = 32u,
};
#define NO_SESSION 0xffu

typedef struct {
    uint8_t off;
    uint8_t n;
    uint8_t idx[RX_CAND_IDX];
    uint8_t val[RX_CAND_IDX];
} cand_t;

typedef struct {
    uint8_t bssid[SC_MAC_LEN];
    uint8_t sender[SC_MAC_LEN];
    uint8_t channel, flags, state, session;
    uint16_t offset, last_seq;
    uint16_t hist[RX_HIST];  /* newest last */
    uint8_t nhist, has_seq;
    uint8_t good, misses;    /* valid triplets since lock (capped); data frames since the last one;
                                while searching, misses is the candidate replacement cursor */
    uint32_t last_ms;
    cand_t cand[RX_NCAND];
} stream_t;

typedef struct {
    uint8_t bssid[SC_MAC_LEN];
    uint8_t sender[SC_MAC_LEN];
    uint8_t used, has_bssid, known, reported_known, reported_needed;
    uint8_t channel;
    uint16_t offset;
    uint32_t last_ms;
    uint8_t half_next;
    uint8_t val[128];
    uint8_t cnt2[64];        /* Boyer-Moore majority counters, a nibble per index; 0 = unknown or tie */
    uint8_t half[RX_NHALF][2]; /* [index | 0x80 for a c-half, symbol]; index 0xff = empty */
} session_t;

static inline unsigned cnt_get(const session_t *x, unsigned i)
{
    return (x->cnt2[i >> 1] >> ((i & 1u) * 4u)) & 15u;
}

static inline void cnt_set(session_t *x, unsigned i, unsigned c)
{
    unsigned sh = (i & 1u) * 4u;
    x->cnt2[i >> 1] = (uint8_t)((x->cnt2[i >> 1] & ~(15u << sh)) | (c << sh));
}

typedef struct {
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len, ssid_crc;
    uint8_t bssid[SC_MAC_LEN];
} scan_t;

typedef struct {
    uint32_t magic;
    sc_et_rx_config_t cfg;
    uint8_t nscan, done, done_session;
    uint8_t act_channel;
    uint32_t act_ms;
    uint32_t last_expire;
    sc_et_rx_stats_t stats;
    stream_t st[RX_NSTREAMS];
    session_t ss[RX_NSESSIONS];
    scan_t scan[SC_ET_RX_MAX_SCAN];
} rx_state_t;

#define RX_MAGIC 0x45545258u

SC_STATE_FITS(rx_state_t, sc_et_rx_t);
_Static_assert(sizeof(rx_state_t) <= 2048, "receiver state budget is 2 KiB");

/* CRC-8 of the two bytes (v, i): the check of one data code. */
static inline uint8_t crc_pair(uint8_t v, uint8_t i)
{
    return sc_crc8_step(sc_crc8_step(0, v), i);
}

static rx_state_t *S(sc_et_rx_t *rx) { return (rx_state_t *)(void *)rx->opaque; }
static const rx_state_t *CS(const sc_et_rx_t *rx) { return (const rx_state_t *)(const void *)rx->opaque; }

static inline int32_t since(uint32_t now, uint32_t then) { return sc_ms_diff(now, then); }

/* --- sessions: per-index majority votes ------------------------------------------- */

static void session_clear(session_t *x)
{
    memset(x, 0, sizeof *x);
    memset(x->half, 0xff, sizeof x->half);
}

static void session_free(rx_state_t *r, uint8_t si)
{
    session_clear(&r->ss[si]);
    for (unsigned k = 0; k < RX_NSTREAMS; k++)
        if (r->st[k].session == si) {
            r->st[k].session = NO_SESSION;
            if (r->st[k].state == ST_LOCKED)
                r->st[k].state = ST_SEARCH;
        }
}

/* MAC compare/copy/clear on the per-frame path, as one 4- and one 2-byte access the compiler
 * inlines: small embedded libcs (picolibc as Debian builds it) implement memcmp/memcpy/memset
 * as byte loops, and these calls were a third of the receiver's instructions per frame on a
 * Cortex-M4 (docs/m4.md). */
static inline int mac_eq(const uint8_t *a, const uint8_t *b)
{
    uint32_t a4, b4;
    uint16_t a2, b2;
    memcpy(&a4, a, 4);
    memcpy(&b4, b, 4);
    memcpy(&a2, a + 4, 2);
    memcpy(&b2, b + 4, 2);
    return a4 == b4 && a2 == b2;
}

static inline void mac_cpy(uint8_t *d, const uint8_t *s)
{
    uint32_t v4;
    uint16_t v2;
    memcpy(&v4, s, 4);
    memcpy(&v2, s + 4, 2);
    memcpy(d, &v4, 4);
    memcpy(d + 4, &v2, 2);
}

static inline void mac_zero(uint8_t *d)
{
    const uint32_t z4 = 0;
    const uint16_t z2 = 0;
    memcpy(d, &z4, 4);
    memcpy(d + 4, &z2, 2);
}

static uint8_t session_get(rx_state_t *r, const stream_t *s, uint32_t now)
{
    int has_bssid = !(s->flags & (SF_ETH | SF_LENONLY));
    for (uint8_t i = 0; i < RX_NSESSIONS; i++) {
        session_t *x = &r->ss[i];
        if (x->used && x->has_bssid == has_bssid && mac_eq(x->bssid, s->bssid) && mac_eq(x->sender, s->sender))
            return i;
    }
    /* Full: give the slot of the session that has learnt least (then the stalest) to the new
     * lock; a stale or false lock must not block a real phone. */
    uint8_t best = 0;
    for (uint8_t i = 0; i < RX_NSESSIONS; i++) {
        const session_t *x = &r->ss[i], *b = &r->ss[best];
        if (!x->used) {
            best = i;
            break;
        }
        if (x->known < b->known || (x->known == b->known && since(b->last_ms, x->last_ms) > 0))
            best = i;
    }
    if (r->ss[best].used)
        session_free(r, best);
    session_t *x = &r->ss[best];
    session_clear(x);
    x->used = 1;
    x->has_bssid = (uint8_t)has_bssid;
    memcpy(x->bssid, s->bssid, SC_MAC_LEN);
    memcpy(x->sender, s->sender, SC_MAC_LEN);
    x->last_ms = now;
    return best;
}

/* Returns 1 when the set of known values changed. */
static int vote(rx_state_t *r, session_t *x, uint8_t idx, uint8_t v)
{
    unsigned c = cnt_get(x, idx);
    if (c == 0) {
        x->val[idx] = v;
        cnt_set(x, idx, 1);
        x->known++;
        return 1;
    }
    if (x->val[idx] == v) {
        if (c < RX_CNT_MAX)
            cnt_set(x, idx, c + 1);
        return 0;
    }
    r->stats.conflicts++;
    cnt_set(x, idx, c - 1);
    if (c == 1) {
        x->known--; /* a tie: wait for the next vote to decide */
        return 1;
    }
    return 0;
}

/* A completed datum failed its checks: some byte seen once is wrong. Forget one vote
 * everywhere so single sightings are re-learned while well-confirmed bytes stay. */
static void session_soften(session_t *x, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to && i < 128; i++)
        if (cnt_get(x, i)) {
            cnt_set(x, i, cnt_get(x, i) - 1);
            if (!cnt_get(x, i))
                x->known--;
        }
}

static int all_known(const session_t *x, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        if (!cnt_get(x, i))
            return 0;
    return 1;
}

/* T and p from the votes, when plausible: returns T or 0. */
static unsigned session_t_len(const session_t *x, unsigned *p_out)
{
    if (!cnt_get(x, 0) || !cnt_get(x, 1))
        return 0;
    unsigned t = x->val[0], p = x->val[1];
    if (p > SC_PASSWORD_MAX || t < 10 + p || t - 9 - p > SC_SSID_MAX)
        return 0;
    *p_out = p;
    return t;
}

static int scan_lookup(const rx_state_t *r, const session_t *x, unsigned slen)
{
    int found = -1;
    for (unsigned k = 0; k < r->nscan; k++) {
        const scan_t *e = &r->scan[k];
        if (e->ssid_len == 0 || e->ssid_len != slen || e->ssid_crc != x->val[2])
            continue;
        if (x->has_bssid ? memcmp(e->bssid, x->bssid, SC_MAC_LEN) != 0
                         : sc_crc8(e->bssid, SC_MAC_LEN) != x->val[3])
            continue;
        /* the same SSID on the same BSSID listed twice is one AP, not an ambiguity */
        if (found >= 0 && memcmp(r->scan[found].ssid, e->ssid, slen) != 0)
            return -2;
        found = (int)k;
    }
    return found;
}

/* Does value v at index idx agree with a half triplet symbol (crc nibble | data nibble)? */
static int half_agrees(uint8_t idx, uint8_t v, uint8_t tag, uint8_t sym)
{
    uint8_t crc = crc_pair(v, idx);
    if (tag & 0x80u)
        return (sym & 15u) == (v & 15u) && (sym >> 4) == (crc & 15u);
    return (sym & 15u) == (v >> 4) && (sym >> 4) == (crc >> 4);
}

/* Exactly one byte of 2..T-1 missing: the datum's own redundancy gives it (index 4 is the XOR
 * of the rest, so any one byte is the XOR of the others; index 2 is the SSID's CRC; index 3 the
 * BSSID's CRC). What is used to compute it can no longer check it, so the value is accepted
 * only if an independent 8-bit witness agrees: a half triplet seen for that index, or for an
 * SSID byte the SSID CRC when the byte came from the XOR. */
static int half_witness(const session_t *x, unsigned k, uint8_t v)
{
    for (unsigned h = 0; h < RX_NHALF; h++)
        if (x->half[h][0] != 0xffu && (x->half[h][0] & 0x7fu) == k &&
            half_agrees((uint8_t)k, v, x->half[h][0], x->half[h][1]))
            return 1;
    return 0;
}

/* Two IP/password/SSID bytes missing, both with half triplets: each half leaves 16 values
 * of which about one fits its CRC nibble; the XOR then gives the other byte, which must fit
 * its own half (and the SSID CRC when it is an SSID byte). Accepted only if exactly one pair
 * survives. */
static void session_fill_two(session_t *x, unsigned j, unsigned k, unsigned t, unsigned p)
{
    uint8_t rest = x->val[4];
    for (unsigned i = 0; i < t; i++)
        if (i != 4 && i != j && i != k)
            rest ^= x->val[i];
    unsigned slen = t - 9 - p;
    int found = 0;
    uint8_t vj_ok = 0, vk_ok = 0;
    for (unsigned h = 0; h < RX_NHALF; h++) {
        uint8_t tag = x->half[h][0], sym = x->half[h][1];
        if (tag == 0xffu || (tag & 0x7fu) != j)
            continue;
        for (unsigned n = 0; n < 16; n++) {
            uint8_t vj = (tag & 0x80u) ? (uint8_t)((n << 4) | (sym & 15u)) : (uint8_t)(((sym & 15u) << 4) | n);
            if (!half_agrees((uint8_t)j, vj, tag, sym))
                continue;
            uint8_t vk = (uint8_t)(rest ^ vj);
            if (!half_witness(x, k, vk))
                continue;
            if (k >= 9 + p) {
                uint8_t sj = x->val[j], sk = x->val[k];
                x->val[j] = vj;
                x->val[k] = vk;
                int crc_ok = sc_crc8(&x->val[9 + p], slen) == x->val[2];
                x->val[j] = sj;
                x->val[k] = sk;
                if (!crc_ok)
                    continue;
            }
            if (found && (vj != vj_ok || vk != vk_ok))
                return; /* ambiguous */
            found = 1;
            vj_ok = vj;
            vk_ok = vk;
        }
    }
    if (!found)
        return;
    x->val[j] = vj_ok;
    x->val[k] = vk_ok;
    cnt_set(x, j, 1);
    cnt_set(x, k, 1);
    x->known = (uint8_t)(x->known + 2);
}

static void session_fill_one(rx_state_t *r, session_t *x, unsigned t, unsigned p)
{
    (void)r;
    int miss = -1, miss2 = -1;
    for (unsigned i = 2; i < t; i++)
        if (!cnt_get(x, i)) {
            if (miss2 >= 0)
                return;
            if (miss >= 0)
                miss2 = (int)i;
            else
                miss = (int)i;
        }
    if (miss < 0)
        return;
    if (miss2 >= 0) {
        if (miss >= 5)
            session_fill_two(x, (unsigned)miss, (unsigned)miss2, t, p);
        return;
    }
    unsigned k = (unsigned)miss;
    unsigned slen = t - 9 - p;
    uint8_t v;
    if (k == 2) {
        v = sc_crc8(&x->val[9 + p], slen);
    } else if (k == 3) {
        if (all_known(x, t, t + 6))
            v = sc_crc8(&x->val[t], SC_MAC_LEN);
        else if (x->has_bssid)
            v = sc_crc8(x->bssid, SC_MAC_LEN);
        else
            return;
    } else {
        v = 0;
        for (unsigned i = 0; i < t; i++)
            if (i != k && i != 4)
                v ^= x->val[i];
        if (k != 4)
            v ^= x->val[4];
    }
    /* 2 and 3 stay covered by the XOR check that session_try still makes */
    int ok = k == 2 || k == 3;
    if (k >= 9 + p) {
        uint8_t save = x->val[k];
        x->val[k] = v;
        ok = sc_crc8(&x->val[9 + p], slen) == x->val[2];
        x->val[k] = save;
    }
    if (!ok)
        ok = half_witness(x, k, v);
    if (!ok)
        return;
    x->val[k] = v;
    cnt_set(x, k, 1);
    x->known++;
}

/* Stores a half triplet of an index not known yet; when the opposite half of the same index
 * is already there (another copy or another round), the pair is a full CRC-checked triplet. */
static int session_half(rx_state_t *r, session_t *x, uint8_t idx, int is_c, uint8_t sym)
{
    if (cnt_get(x, idx))
        return 0;
    uint8_t tag = (uint8_t)(idx | (is_c ? 0x80u : 0u));
    for (unsigned h = 0; h < RX_NHALF; h++) {
        uint8_t ht = x->half[h][0];
        if (ht == 0xffu || (ht & 0x7fu) != idx)
            continue;
        if (ht == tag && x->half[h][1] == sym)
            return 0;
        if (ht != tag) {
            uint8_t a = is_c ? x->half[h][1] : sym, c = is_c ? sym : x->half[h][1];
            uint8_t v = (uint8_t)(((a & 15u) << 4) | (c & 15u));
            if (crc_pair(v, idx) == (uint8_t)((a & 0xf0u) | (c >> 4))) {
                r->stats.triplets_ok++;
                return vote(r, x, idx, v);
            }
        }
    }
    x->half[x->half_next][0] = tag;
    x->half[x->half_next][1] = sym;
    x->half_next = (uint8_t)((x->half_next + 1u) % RX_NHALF);
    return 1; /* a new witness may let session_fill_one complete the datum */
}

/* Checks a session for completion (docs/protocol/esptouch-v1.md#completion). 1 = done (res filled). */
static int session_try(rx_state_t *r, session_t *x, sc_et_result_t *res)
{
    unsigned p, t = session_t_len(x, &p);
    if (!t)
        return 0;
    if (!all_known(x, 2, t)) {
        session_fill_one(r, x, t, p);
        if (!all_known(x, 2, 9 + p))
            return 0;
    }
    unsigned slen = t - 9 - p;
    uint8_t ssid[SC_SSID_MAX];
    int from_scan = 0;
    if (all_known(x, 9 + p, t)) {
        memcpy(ssid, &x->val[9 + p], slen);
        if (sc_crc8(ssid, slen) != x->val[2]) {
            session_soften(x, 0, 128);
            return 0;
        }
    } else {
        if (!r->nscan)
            return 0;
        int k = scan_lookup(r, x, slen);
        if (k < 0)
            return 0;
        memcpy(ssid, r->scan[k].ssid, slen);
        /* SSID bytes already received must agree with the scanned name */
        for (unsigned i = 0; i < slen; i++)
            if (cnt_get(x, 9 + p + i) && x->val[9 + p + i] != ssid[i])
                return 0;
        from_scan = 1;
    }
    uint8_t xr = (uint8_t)(x->val[0] ^ x->val[1] ^ x->val[2] ^ x->val[3]);
    for (unsigned i = 5; i < 9 + p; i++)
        xr ^= x->val[i];
    for (unsigned i = 0; i < slen; i++)
        xr ^= ssid[i];
    if (xr != x->val[4]) {
        if (!from_scan)
            session_soften(x, 0, 128);
        return 0; /* from the scan: maybe another AP's SSID; wait for the air bytes */
    }
    uint8_t bssid[SC_MAC_LEN];
    int from_air = 0;
    if (all_known(x, t, t + 6) && sc_crc8(&x->val[t], SC_MAC_LEN) == x->val[3]) {
        memcpy(bssid, &x->val[t], SC_MAC_LEN);
        from_air = 1;
    } else if (x->has_bssid && sc_crc8(x->bssid, SC_MAC_LEN) == x->val[3]) {
        memcpy(bssid, x->bssid, SC_MAC_LEN);
    } else {
        if (all_known(x, t, t + 6))
            session_soften(x, t, t + 6);
        return 0;
    }
    memset(res, 0, sizeof *res);
    memcpy(res->creds.ssid, ssid, slen);
    res->creds.ssid_len = (uint8_t)slen;
    memcpy(res->creds.password, &x->val[9], p);
    res->creds.password_len = (uint8_t)p;
    memcpy(res->creds.bssid, bssid, SC_MAC_LEN);
    memcpy(res->creds.phone_ip, &x->val[5], 4);
    res->t = (uint8_t)t;
    res->channel = x->channel;
    res->offset = x->offset;
    memcpy(res->sender, x->sender, SC_MAC_LEN);
    res->bssid_from_air = (uint8_t)from_air;
    res->ssid_from_scan = (uint8_t)from_scan;
    return 1;
}

/* --- events -------------------------------------------------------------------- */

static int ev_rank(sc_et_event_type_t t)
{
    switch (t) {
    case SC_ET_EV_DONE: return 4;
    case SC_ET_EV_LOCKED: return 3;
    case SC_ET_EV_UNLOCKED: return 2;
    case SC_ET_EV_PROGRESS: return 1;
    default: return 0;
    }
}

typedef struct {
    sc_et_event_t ev;
} evbuf_t;

static void ev_stream(evbuf_t *e, sc_et_event_type_t type, const rx_state_t *r, const stream_t *s)
{
    if (ev_rank(type) <= ev_rank(e->ev.type))
        return;
    uint8_t keep_known = e->ev.known, keep_needed = e->ev.needed;
    memset(&e->ev, 0, sizeof e->ev);
    e->ev.type = type;
    e->ev.channel = s->channel;
    e->ev.offset = s->offset;
    memcpy(e->ev.bssid, s->bssid, SC_MAC_LEN);
    memcpy(e->ev.sender, s->sender, SC_MAC_LEN);
    e->ev.known = keep_known;
    e->ev.needed = keep_needed;
    if (s->session != NO_SESSION) {
        const session_t *x = &r->ss[s->session];
        e->ev.known = x->reported_known;
        e->ev.needed = x->reported_needed;
    }
}

/* --- streams ----------------------------------------------------------------------- */

static void stream_unlock(rx_state_t *r, stream_t *s)
{
    uint8_t si = s->session;
    s->state = ST_SEARCH;
    s->session = NO_SESSION;
    s->nhist = 0;
    s->good = s->misses = 0;
    memset(s->cand, 0, sizeof s->cand);
    if (si == NO_SESSION)
        return;
    for (unsigned k = 0; k < RX_NSTREAMS; k++)
        if (r->st[k].session == si)
            return;
    /* the last lock of this phone is gone: its votes must not mix with a later run */
    session_clear(&r->ss[si]);
}

static void stream_lock(rx_state_t *r, stream_t *s, uint16_t off, uint32_t now, evbuf_t *e)
{
    s->state = ST_LOCKED;
    s->offset = off;
    s->good = 0;
    s->misses = 0;
    s->session = session_get(r, s, now);
    session_t *x = &r->ss[s->session];
    x->channel = s->channel;
    x->offset = off;
    x->last_ms = now;
    ev_stream(e, SC_ET_EV_LOCKED, r, s);
}

/* Key of an accepted frame; 0 = drop. */
static int frame_key(rx_state_t *r, const sc_frame_t *f, stream_t *k)
{
    mac_zero(k->bssid);
    mac_zero(k->sender);
    k->channel = f->channel;
    k->flags = 0;
    if (f->kind == SC_FRAME_LEN_ONLY) {
        k->flags = SF_LENONLY;
        return 1;
    }
    if (f->kind == SC_FRAME_ETHERNET) {
        if (!(f->addr1[0] & 1u)) {
            r->stats.dropped_nondata++;
            return 0;
        }
        mac_cpy(k->sender, f->addr2);
        k->flags = SF_ETH;
        return 1;
    }
    if (f->kind != SC_FRAME_80211) {
        r->stats.dropped_nondata++;
        return 0;
    }
    uint16_t fc = f->fc;
    unsigned sub = SC_FC_SUBTYPE(fc);
    unsigned dir = fc & (SC_FC_TODS | SC_FC_FROMDS);
    /* no-data subtypes, fragments, HT-control/Order frames (their header is 4 bytes longer
     * at random) and WDS (sender in addr4, not delivered) never carry a datagram we can use */
    if (SC_FC_TYPE(fc) != 2u || (sub & 4u) || (fc & (SC_FC_MOREFRAG | SC_FC_ORDER)) ||
        (f->seq_ctrl & 0x000fu) || dir == 0 || dir == (SC_FC_TODS | SC_FC_FROMDS) ||
        ((sub & 8u) && (f->qos_ctrl & 0x0080u))) {
        r->stats.dropped_nondata++;
        return 0;
    }
    const uint8_t *da;
    if (dir == SC_FC_TODS) {
        mac_cpy(k->bssid, f->addr1);
        mac_cpy(k->sender, f->addr2);
        da = f->addr3;
        k->flags = SF_TODS;
    } else {
        mac_cpy(k->bssid, f->addr2);
        mac_cpy(k->sender, f->addr3);
        da = f->addr1;
        k->flags = SF_FROMDS;
    }
    if (!(da[0] & 1u)) {
        r->stats.dropped_nondata++;
        return 0;
    }
    if (sub & 8u)
        k->flags |= SF_QOS;
    if (fc & SC_FC_PROTECTED)
        k->flags |= SF_PROT;
    return 1;
}

static stream_t *stream_find(rx_state_t *r, const stream_t *k, uint32_t now)
{
    stream_t *victim = NULL;
    for (unsigned i = 0; i < RX_NSTREAMS; i++) {
        stream_t *s = &r->st[i];
        if (s->state != ST_FREE && s->channel == k->channel && s->flags == k->flags &&
            mac_eq(s->sender, k->sender) && mac_eq(s->bssid, k->bssid))
            return s;
    }
    /* a new key takes a free slot, else the stalest searching one; locks are never evicted
     * by new traffic (they expire on their own) */
    for (unsigned i = 0; i < RX_NSTREAMS; i++) {
        stream_t *s = &r->st[i];
        if (s->state == ST_FREE) {
            victim = s;
            break;
        }
        if (s->state == ST_SEARCH && (!victim || since(victim->last_ms, s->last_ms) > 0))
            victim = s;
    }
    if (!victim)
        return NULL;
    memset(victim, 0, sizeof *victim);
    memcpy(victim->bssid, k->bssid, SC_MAC_LEN);
    memcpy(victim->sender, k->sender, SC_MAC_LEN);
    victim->channel = k->channel;
    victim->flags = k->flags;
    victim->state = ST_SEARCH;
    victim->session = NO_SESSION;
    victim->last_ms = now;
    return victim;
}

/* Guide-less calibration evidence: a CRC-valid triplet under offset off. Returns the
 * candidate once it has RX_CAND_IDX distinct indices. */
static cand_t *cand_add(rx_state_t *r, stream_t *s, uint8_t off, uint8_t idx, uint8_t val, uint32_t now)
{
    cand_t *c = NULL;
    for (unsigned k = 0; k < RX_NCAND; k++)
        if (s->cand[k].n && s->cand[k].off == off)
            c = &s->cand[k];
    if (!c) {
        /* replace an empty slot, else round-robin among the weakest: random CRC hits are
         * spread over ~100 offsets, the real one collects a hit every triplet */
        unsigned minn = 255;
        c = &s->cand[0];
        for (unsigned k = 0; k < RX_NCAND; k++)
            if (s->cand[k].n < minn)
                minn = s->cand[k].n;
        for (unsigned k = 0; k < RX_NCAND; k++) {
            unsigned j = (s->misses + k) % RX_NCAND;
            if (s->cand[j].n == minn) {
                c = &s->cand[j];
                s->misses = (uint8_t)((j + 1) % RX_NCAND);
                break;
            }
        }
        memset(c, 0, sizeof *c);
        c->off = off;
    }
    for (unsigned k = 0; k < c->n; k++)
        if (c->idx[k] == idx) {
            c->val[k] = val;
            return NULL;
        }
    c->idx[c->n] = idx;
    c->val[c->n] = val;
    c->n++;
    if (c->n >= 2) {
        r->act_channel = s->channel;
        r->act_ms = now;
    }
    return c->n >= RX_CAND_IDX ? c : NULL;
}

static uint16_t hist_at(const stream_t *s, unsigned back)
{
    return s->hist[RX_HIST - 1 - back];
}

/* Searching stream: guide quartet, then guide-less triplets. Returns 1 if it locked. */
static int stream_search(rx_state_t *r, stream_t *s, uint32_t now, evbuf_t *e)
{
    const unsigned omin = r->cfg.offset_min, omax = r->cfg.offset_max;
    if (s->nhist >= 4) {
        unsigned lo = 0xffff, hi = 0, seen = 0;
        for (unsigned k = 0; k < 4; k++) {
            unsigned L = hist_at(s, k);
            lo = L < lo ? L : lo;
            hi = L > hi ? L : hi;
        }
        if (hi - lo == 3 && lo >= SC_ET_GUIDE_BASE + omin && lo <= SC_ET_GUIDE_BASE + omax) {
            for (unsigned k = 0; k < 4; k++)
                seen |= 1u << (hist_at(s, k) - lo);
            if (seen == 15u) {
                stream_lock(r, s, (uint16_t)(lo - SC_ET_GUIDE_BASE), now, e);
                return 1;
            }
        }
    }
    unsigned strides = (s->flags & SF_LENONLY) ? 2 : 1;
    for (unsigned st = 1; st <= strides; st++) {
        if (s->nhist < 2 * st + 1)
            break;
        unsigned a = hist_at(s, 2 * st), b = hist_at(s, st), c = hist_at(s, 0);
        unsigned mx = a > c ? a : c, mn = a < c ? a : c;
        /* offsets putting b in 296..423 and a, c in 40..295 */
        int lo = (int)omin, hi = (int)omax;
        if ((int)b - 423 > lo) lo = (int)b - 423;
        if ((int)mx - 295 > lo) lo = (int)mx - 295;
        if ((int)b - 296 < hi) hi = (int)b - 296;
        if ((int)mn - 40 < hi) hi = (int)mn - 40;
        for (int o = lo; o <= hi; o++) {
            unsigned va = a - (unsigned)o - 40u, vc = c - (unsigned)o - 40u;
            uint8_t v = (uint8_t)(((va & 15u) << 4) | (vc & 15u));
            uint8_t i = (uint8_t)(b - (unsigned)o - 296u);
            if (crc_pair(v, i) != (uint8_t)((va & 0xf0u) | (vc >> 4)))
                continue;
            cand_t *c3 = cand_add(r, s, (uint8_t)o, i, v, now);
            if (!c3)
                continue;
            cand_t keep = *c3;
            stream_lock(r, s, (uint16_t)o, now, e);
            session_t *x = &r->ss[s->session];
            for (unsigned k = 0; k < keep.n; k++)
                vote(r, x, keep.idx[k], keep.val[k]);
            r->stats.triplets_ok += keep.n;
            s->good = (uint8_t)keep.n;
            return 1;
        }
    }
    return 0;
}

static void session_progress(rx_state_t *r, stream_t *s, session_t *x, evbuf_t *e)
{
    unsigned p, t = session_t_len(x, &p);
    uint8_t needed = (uint8_t)(t ? t + 6 : 0);
    uint8_t known = x->known;
    if (needed && known > needed)
        known = needed;
    if (known != x->reported_known || needed != x->reported_needed) {
        x->reported_known = known;
        x->reported_needed = needed;
        ev_stream(e, SC_ET_EV_PROGRESS, r, s);
        if (e->ev.type == SC_ET_EV_PROGRESS) {
            e->ev.known = known;
            e->ev.needed = needed;
        }
    }
}

static void stream_data(rx_state_t *r, stream_t *s, uint32_t now, evbuf_t *e)
{
    unsigned off = s->offset;
    unsigned L = hist_at(s, 0);
    if (L >= SC_ET_GUIDE_BASE + off && L <= SC_ET_GUIDE_BASE + 3 + off)
        return; /* guide frames keep the lock alive but are not data */
    unsigned strides = (s->flags & SF_LENONLY) ? 2 : 1;
    session_t *x = &r->ss[s->session];
    int any = 0;
    for (unsigned st = 1; st <= strides; st++) {
        if (s->nhist < 2 * st + 1)
            break;
        unsigned a = hist_at(s, 2 * st) - off - 40u, b = hist_at(s, st) - off - 296u, c = L - off - 40u;
        if (b > 127u)
            continue;
        int changed = 0;
        if (a <= 255u && c <= 255u) {
            uint8_t v = (uint8_t)(((a & 15u) << 4) | (c & 15u));
            if (crc_pair(v, (uint8_t)b) == (uint8_t)((a & 0xf0u) | (c >> 4))) {
                any = 1;
                r->stats.triplets_ok++;
                changed = vote(r, x, (uint8_t)b, v);
            } else {
                /* one of the neighbours belongs to another triplet (a frame was lost): keep
                 * both as halves, a right one pairs with a later opposite half */
                r->stats.bad_crc++;
                changed = session_half(r, x, (uint8_t)b, 0, (uint8_t)a);
                changed |= session_half(r, x, (uint8_t)b, 1, (uint8_t)c);
            }
        } else if (a <= 255u) {
            changed = session_half(r, x, (uint8_t)b, 0, (uint8_t)a);
        } else if (c <= 255u) {
            changed = session_half(r, x, (uint8_t)b, 1, (uint8_t)c);
        }
        x->last_ms = now;
        x->channel = s->channel;
        x->offset = s->offset;
        if (changed) {
            sc_et_result_t res;
            if (session_try(r, x, &res)) {
                r->done = 1;
                r->done_session = s->session;
                ev_stream(e, SC_ET_EV_DONE, r, s);
                e->ev.result = res;
                return;
            }
            session_progress(r, s, x, e);
        }
    }
    if (any) {
        s->misses = 0;
        if (s->good < 255)
            s->good++;
        return;
    }
    if (s->misses < 255)
        s->misses++;
    if (s->misses > (s->good ? RX_MISS_CONFIRMED : RX_MISS_UNCONFIRMED)) {
        if (!s->good)
            r->stats.false_locks++;
        ev_stream(e, SC_ET_EV_UNLOCKED, r, s);
        stream_unlock(r, s);
    }
}

static void expire(rx_state_t *r, uint32_t now, evbuf_t *e)
{
    r->last_expire = now;
    for (unsigned i = 0; i < RX_NSTREAMS; i++) {
        stream_t *s = &r->st[i];
        if (s->state == ST_LOCKED && since(now, s->last_ms) > (int32_t)r->cfg.idle_unlock_ms) {
            ev_stream(e, SC_ET_EV_UNLOCKED, r, s);
            stream_unlock(r, s);
        } else if (s->state == ST_SEARCH && since(now, s->last_ms) > (int32_t)RX_STREAM_STALE_MS) {
            s->state = ST_FREE;
        }
    }
}

/* --- API ---------------------------------------------------------------------------- */

sc_err_t sc_et_rx_init(sc_et_rx_t *rx, const sc_et_rx_config_t *cfg)
{
    if (!rx)
        return SC_ERR_INVAL;
    memset(rx, 0, sizeof *rx);
    rx_state_t *r = S(rx);
    sc_et_rx_config_t c = { 0u, 160u, 2500u };
    if (cfg) {
        c = *cfg;
        if (c.offset_max == 0 && c.offset_min == 0)
            c.offset_max = 160u;
        if (c.idle_unlock_ms == 0)
            c.idle_unlock_ms = 2500u;
        if (c.offset_min > c.offset_max || c.offset_max > RX_OFFSET_CAP)
            return SC_ERR_RANGE;
    }
    r->cfg = c;
    r->magic = RX_MAGIC;
    for (unsigned i = 0; i < RX_NSTREAMS; i++)
        r->st[i].session = NO_SESSION;
    return SC_OK;
}

void sc_et_rx_reset(sc_et_rx_t *rx)
{
    if (!rx)
        return;
    rx_state_t *r = S(rx);
    memset(r->st, 0, sizeof r->st);
    memset(r->ss, 0, sizeof r->ss);
    for (unsigned i = 0; i < RX_NSTREAMS; i++)
        r->st[i].session = NO_SESSION;
    r->done = 0;
    r->act_channel = 0;
}

sc_err_t sc_et_rx_resume(sc_et_rx_t *rx)
{
    if (!rx || S(rx)->magic != RX_MAGIC)
        return SC_ERR_INVAL;
    rx_state_t *r = S(rx);
    if (!r->done)
        return SC_ERR_STATE;
    r->done = 0;
    if (r->done_session < RX_NSESSIONS) {
        for (unsigned k = 0; k < RX_NSTREAMS; k++)
            if (r->st[k].session == r->done_session)
                stream_unlock(r, &r->st[k]);
        session_clear(&r->ss[r->done_session]);
    }
    return SC_OK;
}

sc_err_t sc_et_rx_set_scan(sc_et_rx_t *rx, const sc_scan_entry_t *list, size_t n)
{
    if (!rx || (n && !list))
        return SC_ERR_INVAL;
    rx_state_t *r = S(rx);
    if (r->magic != RX_MAGIC)
        return SC_ERR_STATE;
    r->nscan = 0;
    for (size_t i = 0; i < n && r->nscan < SC_ET_RX_MAX_SCAN; i++) {
        if (list[i].ssid_len == 0 || list[i].ssid_len > SC_SSID_MAX)
            continue; /* hidden APs never complete a session */
        scan_t *e = &r->scan[r->nscan++];
        memset(e, 0, sizeof *e);
        memcpy(e->ssid, list[i].ssid, list[i].ssid_len);
        e->ssid_len = list[i].ssid_len;
        e->ssid_crc = sc_crc8(e->ssid, e->ssid_len);
        memcpy(e->bssid, list[i].bssid, SC_MAC_LEN);
    }
    return n > SC_ET_RX_MAX_SCAN ? SC_ERR_NOSPACE : SC_OK;
}

sc_et_event_type_t sc_et_rx_feed(sc_et_rx_t *rx, const sc_frame_t *f, uint32_t now_ms, sc_et_event_t *ev)
{
    evbuf_t e;
    e.ev.type = SC_ET_EV_NONE;
    e.ev.known = e.ev.needed = 0;
    if (!rx || S(rx)->magic != RX_MAGIC || S(rx)->done) {
        if (ev)
            memset(ev, 0, sizeof *ev);
        return SC_ET_EV_NONE;
    }
    rx_state_t *r = S(rx);
    if (since(now_ms, r->last_expire) >= (int32_t)RX_EXPIRE_EVERY_MS || since(now_ms, r->last_expire) < 0)
        expire(r, now_ms, &e);
    if (f) {
        r->stats.frames++;
        stream_t k;
        if (frame_key(r, f, &k)) {
            stream_t *s = stream_find(r, &k, now_ms);
            if (s) {
                int dup = 0;
                if (f->kind == SC_FRAME_80211) {
                    dup = (f->fc & SC_FC_RETRY) && s->has_seq && s->last_seq == f->seq_ctrl;
                    s->last_seq = f->seq_ctrl;
                    s->has_seq = 1;
                }
                if (dup) {
                    r->stats.dropped_retry++;
                } else {
                    s->last_ms = now_ms;
                    /* written out: compilers turn the loop back into a memmove call */
                    _Static_assert(RX_HIST == 6, "history shift below assumes 6 entries");
                    s->hist[0] = s->hist[1];
                    s->hist[1] = s->hist[2];
                    s->hist[2] = s->hist[3];
                    s->hist[3] = s->hist[4];
                    s->hist[4] = s->hist[5];
                    s->hist[RX_HIST - 1] = f->len;
                    if (s->nhist < RX_HIST)
                        s->nhist++;
                    if (s->state == ST_LOCKED)
                        stream_data(r, s, now_ms, &e);
                    else
                        stream_search(r, s, now_ms, &e);
                }
            }
        }
    }
    if (ev) {
        /* Nothing happened (almost every frame): clear the event's fields but not its result,
         * which is defined for SC_ET_EV_DONE alone. Clearing the whole event (~150 bytes) on
         * every frame was half of the receiver's per-frame instructions on a Cortex-M4
         * (docs/m4.md). */
        if (e.ev.type == SC_ET_EV_NONE) {
            ev->type = SC_ET_EV_NONE;
            ev->channel = 0;
            ev->offset = 0;
            mac_zero(ev->bssid);
            mac_zero(ev->sender);
            ev->known = ev->needed = 0;
        } else {
            *ev = e.ev;
        }
    }
    return e.ev.type;
}

sc_et_event_type_t sc_et_rx_tick(sc_et_rx_t *rx, uint32_t now_ms, sc_et_event_t *ev)
{
    return sc_et_rx_feed(rx, NULL, now_ms, ev);
}

uint8_t sc_et_rx_locked_channel(const sc_et_rx_t *rx)
{
    if (!rx || CS(rx)->magic != RX_MAGIC)
        return 0;
    const rx_state_t *r = CS(rx);
    const stream_t *best = NULL;
    for (unsigned i = 0; i < RX_NSTREAMS; i++) {
        const stream_t *s = &r->st[i];
        if (s->state == ST_LOCKED && (!best || s->good > best->good))
            best = s;
    }
    return best ? best->channel : 0;
}

void sc_et_rx_stats(const sc_et_rx_t *rx, sc_et_rx_stats_t *out)
{
    if (!out)
        return;
    if (!rx || CS(rx)->magic != RX_MAGIC) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = CS(rx)->stats;
}

/* Last time guide-less evidence (two CRC-valid triplets at one offset) was seen on channel;
 * lets the channel search linger where a sender probably is. */
int sc_et_rx_recent_activity(const sc_et_rx_t *rx, uint8_t channel, uint32_t now_ms, uint32_t within_ms)
{
    if (!rx || CS(rx)->magic != RX_MAGIC)
        return 0;
    const rx_state_t *r = CS(rx);
    return r->act_channel == channel && r->act_ms && since(now_ms, r->act_ms) >= 0 &&
           since(now_ms, r->act_ms) <= (int32_t)within_ms;
}
