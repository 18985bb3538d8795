/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v1 receiver (docs/protocol/esptouch-v1.md#the-receiver, docs/receiver.md). Streams are
 * keyed per radio copy, calibrated from the guide or from CRC-valid data triplets alone, and vote
 * per byte index into a session shared by the copies of one phone behind one BSSID. All state lives
 * in the caller's sc_et_rx_t: no heap, no OS calls. */
#include <string.h>

#include "crc8.h"
#include "smartcfg/esptouch_rx.h"

#include "../common/outline.h"
#include "../common/state.h"
#include "../rx/rxkey.h"

#define RX_NSTREAMS 7
#define RX_NSESSIONS 3
#define RX_NCAND 4           /* guide-less offset candidates per stream */
#define RX_CAND_IDX 3        /* distinct indices needed to trust a guide-less offset */
#define RX_HIST 6            /* raw lengths kept per stream (stride-2 windows need 5) */
#define RX_STREAM_STALE_MS 1500u
#define RX_MISS_UNCONFIRMED 60u  /* data frames without a valid triplet before a fresh lock is called false */
#define RX_MISS_CONFIRMED 240u   /* ... and for a lock that already produced triplets (survives 30 % loss) */
#define RX_CNT_MAX 15u      /* vote counters are nibbles */
#define RX_NIDX 112          /* datum indices 0..T+5, T <= 105 (docs/protocol/esptouch-v1.md#the-datum) */
#define RX_NHALF 40          /* per session: half triplets (index + one nibble symbol) */
#define RX_SLOT16 128u       /* nominal datagram interval in 1/16 ms: the sender's 8 ms gap */
#define RX_SLOT16_MIN 96u    /* measured intervals outside 6..16 ms are not a sender's cadence */
#define RX_SLOT16_MAX 256u
#define RX_ANCHOR_SLOTS 48u  /* position by time only this far from an index frame (drift) */
#define RX_FILL_MAX 8u       /* missing bytes the completion search considers */
#define RX_FILL_COMBOS 256u  /* candidate combinations it enumerates at most */
#define RX_CAND_GAP_MS 17u   /* two datagram slots and jitter */
#define RX_V2_SLOT_MIN_MS 12u /* an ESP-TOUCH v2 sender's 15 ms datagram gap, less the AP's relay jitter */
#define RX_PIN_MS 400u       /* a lock pins the channel search while supported this recently */
#define RX_QUIET_KEEP_MS 20000u /* the frame that opened no stream tells the channel is alive this long */
#define RX_EXPIRE_EVERY_MS 50u
#define RX_OFFSET_CAP 255u   /* offsets are kept in a byte in the candidate table */

enum { ST_FREE = 0, ST_SEARCH, ST_LOCKED };
/* the stream flags are sc_rxkey's (rxkey.h), so a key made once serves all three decoders */
enum {
    SF_TODS = SC_RXK_TODS, SF_FROMDS = SC_RXK_FROMDS, SF_QOS = SC_RXK_QOS, SF_PROT = SC_RXK_PROT,
    SF_ETH = SC_RXK_ETH, SF_LENONLY = SC_RXK_LENONLY,
};
#define NO_SESSION 0xffu

typedef struct {
    uint8_t off;
    uint8_t n;
    uint8_t idx[RX_CAND_IDX];
    uint8_t val[RX_CAND_IDX];
} cand_t;

/* A locked stream's clock: where in the sender's data cycle its frames are. The sender emits
 * one datagram per slot (8 ms gap), so the time since the last index frame, whose cycle
 * position the index itself gives once T is known, tells the position of a frame whose own
 * triplet lost its index frame (docs/protocol/esptouch-v1.md#transmission-order, #timing). */
typedef struct {
    uint32_t t1, t2;         /* arrival of hist[-1] and hist[-2] (valid: ntimes) */
    uint32_t anc_ms;         /* arrival of the last index frame */
    uint32_t support_ms;     /* last guide frame or CRC-valid triplet: the lock is real */
    uint16_t slot16;         /* measured datagram interval, 1/16 ms */
    uint8_t anc_idx;         /* its index */
    uint8_t anc_ok;          /* 1: anchor valid (no guide phase since) */
    uint8_t ntimes;          /* how many of t1, t2 are valid */
    uint8_t offered;         /* bit 0 (1): hist[-1] (hist[-2]) was already offered as a half, so
                                offering it again is not a second observation */
    uint16_t q1, q2;         /* 802.11 sequence number of hist[-1] and hist[-2] */
    uint16_t anc_seq;        /* ... and of the anchor */
} clk_t;

/* The key comes first, laid out as sc_rxkey packs it (rxkey.h): sender bytes 0..3, then sender
 * bytes 4..5 + flags + channel, BSSID bytes 0..3, BSSID bytes 4..5: stream_find compares four
 * words, the one that differs between senders first, instead of 14 bytes one by one. */
typedef struct {
    uint8_t sender[SC_MAC_LEN];
    uint8_t flags, channel;
    uint8_t bssid[SC_MAC_LEN];
    uint8_t state, session;
    uint16_t offset, last_seq; /* last_seq: the 12-bit sequence number as sc_rxkey gives it */
    uint16_t hist[RX_HIST];  /* newest last */
    uint8_t nhist, has_seq;
    uint8_t good, misses;    /* valid triplets since lock (capped); data frames since the last one;
                                while searching, misses is the candidate replacement cursor */
    uint32_t last_ms;
    union {
        cand_t cand[RX_NCAND]; /* searching */
        clk_t clk;             /* locked */
    } u;
} stream_t;

typedef struct {
    uint8_t bssid[SC_MAC_LEN];
    uint8_t sender[SC_MAC_LEN];
    uint8_t used, has_bssid, known, reported_known, reported_needed;
    uint8_t channel;
    uint16_t offset;
    uint32_t last_ms;
    uint8_t half_next;
    uint8_t t_hint;          /* T as the order of two index frames 3 slots apart shows it */
    uint8_t h_idx;           /* the last index frame of any copy (0xff: none) and its arrival, */
    uint8_t tainted;         /* a window in place by the clock failed its CRC (session_fill), here
                                or in the sender's session before (session_retire) */
    uint16_t h_ms16;         /* low 16 bits of the ms clock: pairs across copies for the hint */
    uint8_t twice[(RX_NHALF + 7) / 8]; /* bit h: half h was seen in two different frames (the
                                          completion search's XOR-only guesses, session_fill) */
    uint8_t confirmed[(RX_NHALF + 7) / 8]; /* bit h: half h was also seen in another frame (another
                                copy, another round); only these feed the completion search */
    uint8_t val[RX_NIDX];
    uint8_t cnt2[RX_NIDX / 2];        /* Boyer-Moore majority counters, a nibble per index; 0 = unknown or tie */
    uint8_t half[RX_NHALF][2]; /* [index | 0x80 for a c-half, symbol]; index 0xff = empty */
} session_t;

/* Always inlined: -Os keeps these out of line (they are used in many places), and the call
 * then costs more than the nibble access itself in the loops of the completion search, the
 * half-triplet store and the known-bytes checks that run on every frame that changed a vote. */
#if defined(__GNUC__) || defined(__clang__)
#define RX_HOT_INLINE inline __attribute__((always_inline))
#else
#define RX_HOT_INLINE inline
#endif
/* The stream walks run on every frame: unrolled (-Os keeps loops), no counter or branch back
 * per slot. */
#if defined(__GNUC__) && !defined(__clang__)
#define RX_UNROLL_STREAMS _Pragma("GCC unroll 7")
#else
#define RX_UNROLL_STREAMS
#endif

static RX_HOT_INLINE unsigned cnt_get(const session_t *x, unsigned i)
{
    return (x->cnt2[i >> 1] >> ((i & 1u) * 4u)) & 15u;
}

static RX_HOT_INLINE void cnt_set(session_t *x, unsigned i, unsigned c)
{
    unsigned sh = (i & 1u) * 4u;
    x->cnt2[i >> 1] = (uint8_t)((x->cnt2[i >> 1] & ~(15u << sh)) | (c << sh));
}

typedef struct {
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len;      /* its CRC is computed when needed: 16 bytes of state saved */
    uint8_t bssid[SC_MAC_LEN];
} scan_t;

typedef struct {
    /* first: the stream walks' slot addresses are then index * 72 with no base offset */
    stream_t st[RX_NSTREAMS];
    uint32_t magic;
    uint32_t idle_unlock_ms; /* the configuration (sc_et_rx_config_t): the offsets fit a byte */
    uint8_t omin, omax;      /* (RX_OFFSET_CAP), which leaves room for the quiet frame below */
    uint8_t nscan;
    uint8_t done;            /* finished: the completed session's index + 1 (0 = running) */
    uint8_t vq;              /* the eviction queue's head and time (stream_find, victim_next) */
    uint8_t act_channel;
    uint8_t cand_channel;    /* last candidate traffic: its channel ... */
    uint8_t quiet_channel;   /* the newest frame that opened no stream (opens_stream): its
                                channel + 1 (0 = none or forgotten; channel 0 is "unknown") ... */
    uint32_t act_ms;
    uint32_t last_expire;
    uint16_t cand_ms16;      /* ... and the low 16 bits of the ms clock when it came */
    uint16_t quiet_ms16;     /* ... and when it came (best_lock_channel reads it as one more
                                stream's last frame) */
    sc_et_rx_stats_t stats;
    session_t ss[RX_NSESSIONS];
    scan_t scan[SC_ET_RX_MAX_SCAN];
} rx_state_t;

#define RX_MAGIC 0x45545258u

_Static_assert(RX_NHALF <= 255, "half slots are counted in a byte");
_Static_assert(sizeof(stream_t) % 4u == 0 && sizeof(((stream_t *)0)->u) % 4u == 0,
               "streams are cleared a word at a time (sc_zero_words)");

static RX_HOT_INLINE unsigned bit_get(const uint8_t *m, unsigned h) { return (m[h >> 3] >> (h & 7u)) & 1u; }
static RX_HOT_INLINE void bit_put(uint8_t *m, unsigned h, unsigned v)
{
    m[h >> 3] = (uint8_t)((m[h >> 3] & ~(1u << (h & 7u))) | ((v & 1u) << (h & 7u)));
}
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
    x->h_idx = 0xffu;
}

/* A session that ends without its slot going to another phone (the phone's last lock went,
 * or it completed and the receiver resumed) forgets its votes but keeps whose it was and
 * whether that sender's frames came changed (tainted): a radio that passes frames with a bad
 * FCS, or a forger, does so in the phone's next run too, and a session started afresh has not
 * yet seen the windows that show it (bench_rx_events 30000 --check --scale 2.5, capture 12279:
 * the first run showed four, a later one none and completed from two changed frames). The slot
 * stays free (used 0); session_get hands the mark to the sender's next session. */
static void session_retire(session_t *x)
{
    uint8_t keep[2 * SC_MAC_LEN], hb = x->has_bssid, tn = x->tainted;
    memcpy(keep, x->bssid, SC_MAC_LEN);
    memcpy(keep + SC_MAC_LEN, x->sender, SC_MAC_LEN);
    session_clear(x);
    memcpy(x->bssid, keep, SC_MAC_LEN);
    memcpy(x->sender, keep + SC_MAC_LEN, SC_MAC_LEN);
    x->has_bssid = hb;
    x->tainted = tn;
}
static void session_free(rx_state_t *r, uint8_t si)
{
    session_clear(&r->ss[si]);
    for (unsigned k = 0; k < RX_NSTREAMS; k++)
        if (r->st[k].session == si) {
            r->st[k].session = NO_SESSION;
            if (r->st[k].state == ST_LOCKED) {
                r->st[k].state = ST_SEARCH;
                r->vq = 0; /* searching again: not in the eviction queue (victim_next) */
            }
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
    /* a free slot may still hold this sender's mark from an earlier run (session_retire) */
    uint8_t tainted = 0;
    for (uint8_t i = 0; i < RX_NSESSIONS; i++) {
        const session_t *x = &r->ss[i];
        if (!x->used && x->tainted && x->has_bssid == has_bssid && mac_eq(x->bssid, s->bssid) &&
            mac_eq(x->sender, s->sender))
            tainted = 1;
    }
    if (r->ss[best].used)
        session_free(r, best);
    session_t *x = &r->ss[best];
    session_clear(x);
    x->used = 1;
    x->tainted = tainted;
    x->has_bssid = (uint8_t)has_bssid;
    memcpy(x->bssid, s->bssid, SC_MAC_LEN);
    memcpy(x->sender, s->sender, SC_MAC_LEN);
    x->last_ms = now;
    return best;
}

/* Returns 1 when the set of known values changed. */
static int vote(rx_state_t *r, session_t *x, uint8_t idx, uint8_t v)
{
    if (idx >= RX_NIDX)
        return 0; /* beyond T + 5 of any valid datum */
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
    for (unsigned i = from; i < to && i < RX_NIDX; i++)
        if (cnt_get(x, i)) {
            cnt_set(x, i, cnt_get(x, i) - 1);
            if (!cnt_get(x, i))
                x->known--;
        }
}

/* Whether more than lim of the indices from..to-1 have no value yet: the completion search's
 * bound, asked on every frame that changed a vote (up to 101 indices). Eight nibble counters a
 * word at a time (a nibble is nonzero when bit 0 of w | w >> 1 | w >> 2 | w >> 3 is set in it;
 * the product sums those bits into the top nibble), the counters outside from..to-1 set to count
 * as known, and it stops once the answer is yes (most sessions are far from complete). */
static int missing_over(const session_t *x, unsigned from, unsigned to, unsigned lim)
{
    unsigned n = 0;
    uint32_t pad = 0x11111111u & ((1u << 4u * (from & 7u)) - 1u); /* below from */
    for (unsigned i = from & ~7u; i < to; i += 8u) {
        uint32_t w;
        memcpy(&w, &x->cnt2[i >> 1], 4);
        if (to - i < 8u)
            pad |= 0x11111111u & ~((1u << 4u * (to - i)) - 1u); /* from to on */
        w |= pad;
        pad = 0;
        w |= w >> 1;
        w |= w >> 2;
        n += 8u - (((w & 0x11111111u) * 0x11111111u) >> 28);
        if (n > lim)
            return 1;
    }
    return 0;
}
_Static_assert(RX_NIDX % 8u == 0 && offsetof(session_t, cnt2) % 4u == 0, "missing_over reads whole words of cnt2");

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
        if (e->ssid_len == 0 || e->ssid_len != slen || sc_crc8(e->ssid, slen) != x->val[2])
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

/* Candidate values of a byte from its half triplets. A half fixes one data nibble and one CRC
 * nibble, and of the 16 values of the other data nibble exactly one gives that CRC nibble (the
 * CRC is linear and the map is one to one), so each half names one value. The union over the
 * halves of the index: a wrong half (a neighbour taken for this index, a changed length) adds a
 * candidate, it never removes the true value. Except that halves seen in two frames, when the
 * index has any, stand alone: a right half of the other kind would have paired with them into a
 * CRC-checked triplet, so a single-frame half that did not is wrong. As a candidate it is what
 * lets two changed frames pass the XOR: the CRC being linear, a half whose data nibble changed
 * names the true value XOR a difference that depends on the nibble's change (true XOR shown) and
 * on the half's kind alone, not on the index, so two such candidates of one kind whose nibbles
 * changed alike cancel in the XOR whatever their indices (bench_rx_events 30000 --check --scale 7.5, capture 27903: a length +2 on the
 * nibble 2 of '2' and -2 on the nibble 4 of '4' gave 0x54 and 0x52, both XOR 0x66; '4' had a
 * first-nibble half seen twice beside the wrong second-nibble one). *single: the single-frame
 * halves the candidates came from, a bit per kind and data nibble (bit 16 * kind + nibble), 0
 * when they came from halves seen twice. */
/* The lowest set bit's number (m != 0): one instruction pair (rbit, clz) on a Cortex-M4. */
static inline unsigned low_bit(uint32_t m)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctz(m);
#else
    unsigned b = 0;
    while (!(m & 1u)) {
        m >>= 1;
        b++;
    }
    return b;
#endif
}

static unsigned half_cands(const session_t *x, unsigned k, uint8_t *out, unsigned cap, uint32_t *single)
{
    /* one walk of the halves, noting the index's in a bit mask (the completion search asks up
     * to ten indices on every changed vote: a second walk showed in the Cortex-M4 mean, a list
     * of them in the stack) */
    uint32_t hm[(RX_NHALF + 31) / 32] = { 0 };
    unsigned n = 0, two = 0;
    for (unsigned h = 0; h < RX_NHALF; h++) {
        uint8_t tag = x->half[h][0];
        if (tag != 0xffu && (tag & 0x7fu) == k && bit_get(x->confirmed, h)) {
            hm[h / 32u] |= 1u << (h % 32u);
            two |= bit_get(x->twice, h);
        }
    }
    *single = 0;
    for (unsigned w = 0; w < (RX_NHALF + 31) / 32; w++) {
        for (uint32_t m = hm[w]; m; m &= m - 1u) {
            unsigned h = w * 32u + low_bit(m);
            if (bit_get(x->twice, h) != two)
                continue;
            uint8_t tag = x->half[h][0], sym = x->half[h][1];
            if (!two)
                *single |= 1u << (((tag & 0x80u) ? 16u : 0u) + (sym & 15u));
            for (unsigned nib = 0; nib < 16; nib++) {
                uint8_t v = (tag & 0x80u) ? (uint8_t)((nib << 4) | (sym & 15u)) : (uint8_t)(((sym & 15u) << 4) | nib);
                if (!half_agrees((uint8_t)k, v, tag, sym))
                    continue;
                unsigned i = 0;
                while (i < n && out[i] != v)
                    i++;
                if (i == n) {
                    if (n == cap)
                        return cap + 1; /* too many to search */
                    out[n++] = v;
                }
            }
        }
    }
    return n;
}

/* One completion hypothesis: byte 0 = t, byte 1 = p (p < 0: byte 1 is derived from the XOR).
 * Enumerates the candidates of the missing bytes of 2..T-1 and counts the combinations that
 * pass the checks into *nsol, keeping the last one in sol (index, value pairs). */
typedef struct {
    uint8_t n;
    uint8_t idx[RX_FILL_MAX + 4], val[RX_FILL_MAX + 4];
} fill_sol_t;

static void fill_try(session_t *x, unsigned t, int p, unsigned *nsol, fill_sol_t *sol)
{
    uint8_t miss[RX_FILL_MAX], cand[RX_FILL_MAX][16], ncand[RX_FILL_MAX];
    unsigned n = 0, combos = 1;
    int derived_xor = p < 0 ? 1 : -1, miss2 = 0, miss3 = 0;
    unsigned xor_only = 0;
    uint32_t single_seen = 0;
    uint8_t rest = (uint8_t)(t ^ (p < 0 ? 0u : (unsigned)p)); /* XOR of 0..T-1, byte 4 included */
    if (t - 4u > x->known + RX_FILL_MAX + 1u)
        return;
    if (missing_over(x, 4, t, RX_FILL_MAX + 1u))
        return; /* too far from complete: not worth the candidates (the common case, cheap) */
    for (unsigned i = 2; i < t; i++) {
        if (cnt_get(x, i)) {
            rest ^= x->val[i];
            continue;
        }
        if (i == 2 || i == 3) {
            *(i == 2 ? &miss2 : &miss3) = 1;
            continue;
        }
        if (n == RX_FILL_MAX)
            return;
        uint32_t single;
        unsigned nc = half_cands(x, i, cand[n], 16, &single);
        if (nc > 16)
            return;
        if (nc == 0) {
            /* only a byte the SSID CRC covers may come from the XOR alone: an SSID byte, or
             * byte 1, which moves the SSID's bounds */
            if (derived_xor >= 0 || p < 0 || i < 9u + (unsigned)p)
                return;
            derived_xor = (int)i;
            continue;
        }
        /* Two guessed bytes only the XOR checks (byte 4, the IP, the password) can pass it with
         * errors that cancel. A half the clock and the sequence number place is trusted, but a
         * frame whose length was changed in the air (or forged with the phone's numbers) keeps
         * both; two such halves that hid the true values of two bytes gave a wrong password
         * (bench/bench_rx_events.c, corrupted lengths). Once the session has shown such a frame (a
         * window whose three frames are in place yet fail the CRC), it guesses at most one of
         * those bytes at a time. Not always: an uplink-only phone has nothing but such halves,
         * and waiting for a second sighting cost its lossy tails half a round and more.
         * Without byte 2 the SSID's CRC is derived from the guess instead of checking it, so the
         * SSID's bytes are then XOR-only too (two of them passed with a wrong SSID, both from
         * such halves: bench_rx_events at 2.5x its shares of changed lengths). */
        if (x->tainted && p >= 0 && (i < 9u + (unsigned)p || miss2) && xor_only++)
            return;
        /* The same cancellation without any trace: two XOR-only guesses from single-frame halves
         * of one kind showing the same data nibble are what one length change does to two bytes
         * that share that nibble (the digits' 3: '6' and '7' both -3 gave 0x0d and 0x0c, both
         * XOR 0x3b, bench_rx_events 30000 --check at the committed shares, capture 14682). Such
         * a pair waits for a second sighting of one of them. Halves of different nibbles are
         * left alone: asking it of every pair of one kind cost an uplink-only phone's 64-byte
         * password at 5 % loss a third of a round (bench_ttd median 1.02 -> 1.37 x the floor,
         * against 1.04 this way — both measured while a frame offered on arrival and again by
         * its window counted as two, which exempted most first-nibble halves; this rule alone
         * really costs 1.22). */
        if (p >= 0 && (i < 9u + (unsigned)p || miss2)) {
            if (single & single_seen)
                return;
            /* Single-frame halves of one index that name different values: one of them is
             * wrong, and the XOR that should pick the other cancels a wrong pick when another
             * byte is wrong by the same difference (the CRC's linearity again): IP byte 6 from
             * 0x4c for 0x4a beside password byte 14 from 0x95 for 0x93, both +2 and both XOR 6
             * (bench_rx_events 100000 --check --scale 7.5, capture 51726); a guessed byte 11
             * beside a wrong vote of byte 10 (capture 93948). Such a byte waits for a second
             * frame. Honest air does not show it: bench_ttd, bench_chansearch and the
             * unmutated captures' events are the same with it. */
            if (nc >= 2 && single)
                return;
            single_seen |= single;
        }
        ncand[n] = (uint8_t)nc;
        miss[n++] = (uint8_t)i;
        combos *= nc;
        if (combos > RX_FILL_COMBOS)
            return;
    }
    if (derived_xor >= 0 && miss2)
        return; /* the SSID CRC that must check the derived byte is itself missing */
    if (derived_xor >= 0 && n)
        return; /* the XOR would no longer check the guessed bytes: the SSID CRC alone, 8 bits, is
                   too weak to pick one of many combinations when a wrong half hid the true value */
    uint8_t v3 = x->val[3];
    if (miss3) {
        if (all_known(x, t, t + 6))
            v3 = sc_crc8(&x->val[t], SC_MAC_LEN);
        else if (x->has_bssid)
            v3 = sc_crc8(x->bssid, SC_MAC_LEN);
        else
            return;
        rest ^= v3;
    }
    uint8_t save[RX_FILL_MAX], save_u = derived_xor > 1 ? x->val[derived_xor] : 0, save_2 = x->val[2];
    for (unsigned i = 0; i < n; i++)
        save[i] = x->val[miss[i]];
    uint8_t digit[RX_FILL_MAX];
    memset(digit, 0, sizeof digit);
    for (unsigned c = 0; c < combos && *nsol < 2; c++) {
        uint8_t xr = rest;
        for (unsigned i = 0; i < n; i++) {
            x->val[miss[i]] = cand[i][digit[i]];
            xr ^= cand[i][digit[i]];
        }
        /* byte 4 is the XOR of the others, so the XOR over all of 0..T-1 is 0 for a consistent
         * datum; a byte derived from the XOR is what makes it 0 */
        unsigned pp = p < 0 ? xr : (unsigned)p, u = xr;
        int ok = pp <= SC_PASSWORD_MAX && t >= 10u + pp && t - 9u - pp <= SC_SSID_MAX;
        if (ok && derived_xor > 1) {
            x->val[derived_xor] = xr;
            xr = 0;
        } else if (p < 0) {
            xr = 0;
        }
        uint8_t v2 = x->val[2];
        if (ok) {
            uint8_t scrc = sc_crc8(&x->val[9 + pp], t - 9 - pp);
            if (miss2)
                xr ^= (v2 = scrc);
            else if (scrc != v2)
                ok = 0;
        }
        if (ok && xr == 0) {
            ++*nsol;
            sol->n = 0;
            for (unsigned i = 0; i < n; i++) {
                sol->idx[sol->n] = miss[i];
                sol->val[sol->n++] = x->val[miss[i]];
            }
            if (derived_xor >= 0) {
                sol->idx[sol->n] = (uint8_t)derived_xor;
                sol->val[sol->n++] = (uint8_t)(derived_xor == 1 ? pp : u);
            }
            if (miss2) {
                sol->idx[sol->n] = 2;
                sol->val[sol->n++] = v2;
            }
            if (miss3) {
                sol->idx[sol->n] = 3;
                sol->val[sol->n++] = v3;
            }
        }
        for (unsigned i = 0; i < n; i++) /* next combination (mixed radix) */
            if (++digit[i] < ncand[i])
                break;
            else
                digit[i] = 0;
    }
    for (unsigned i = 0; i < n; i++)
        x->val[miss[i]] = save[i];
    if (derived_xor > 1)
        x->val[derived_xor] = save_u;
    x->val[2] = save_2;
}

/* Whether an index at or past `from` is known by two votes or more (a byte of counters at a
 * time, from the top: a nibble below 2 has bits 1..3 clear). */
static int voted_past(const session_t *x, unsigned from)
{
    for (unsigned k = RX_NIDX / 2u; k-- > from / 2u;) {
        unsigned b = x->cnt2[k];
        if (k == from / 2u && (from & 1u))
            b &= 0xf0u; /* the low nibble is index from - 1 */
        if (b & 0xeeu)
            return 1;
    }
    return 0;
}

/* Candidates of byte 0 or 1 when it is missing: its halves, and for T the schedule's hint. */
static unsigned head_cands(const session_t *x, unsigned i, uint8_t out[17])
{
    if (cnt_get(x, i)) {
        out[0] = x->val[i];
        return 1;
    }
    uint32_t single;
    unsigned n = half_cands(x, i, out, 16, &single);
    if (n > 16)
        return 0;
    if (i == 0 && x->t_hint) {
        unsigned j = 0;
        while (j < n && out[j] != x->t_hint)
            j++;
        if (j == n)
            out[n++] = x->t_hint;
    }
    return n;
}

/* The last bytes from the datum's own redundancy (docs/protocol/esptouch-v1.md#the-datum): byte 4 is the XOR of bytes
 * 0..T-1 but 4, byte 2 the CRC-8 of the SSID, byte 3 the CRC-8 of the BSSID. When a few bytes
 * are still missing, every combination of their candidates (from half triplets placed by the
 * stream clock; for T also the schedule's hint) is tried against those checks; the values are
 * taken only when exactly one combination passes, so a datum that could be completed two ways
 * waits for more frames.
 *
 * Bytes without any candidate are derived instead of guessed: byte 2 from the SSID, byte 3 from
 * the BSSID (the air bytes, else the 802.11 header), and at most one other byte from the XOR.
 * What derives a byte can no longer check it, so a byte derived from the XOR must be one the
 * SSID CRC covers — an SSID byte, or byte 1 (the password length moves the SSID's bounds); a
 * password or IP byte derived from the XOR alone would be unchecked, and is never taken. */
static void session_fill(session_t *x)
{
    unsigned tg = cnt_get(x, 0) ? x->val[0] : x->t_hint;
    if (tg >= 10 && tg <= 105) {
        if (tg - 4u > x->known + RX_FILL_MAX + 1u)
            return; /* (known counts every index: a cheap bound first) */
        if (missing_over(x, 4, tg, RX_FILL_MAX + 1u))
            return; /* far from complete (the common case): skip the candidates */
    }
    uint8_t c0[17], c1[17];
    unsigned n0 = head_cands(x, 0, c0);
    if (!n0)
        return; /* no T to try: byte 1's candidates (a scan of every half) would go unused */
    unsigned n1 = head_cands(x, 1, c1);
    int derive1 = !cnt_get(x, 1) && n1 == 0;
    if ((!n1 && !derive1) || (!cnt_get(x, 2) && derive1))
        return;
    unsigned nsol = 0;
    fill_sol_t sol;
    sol.n = 0;
    for (unsigned i0 = 0; i0 < n0 && nsol < 2; i0++)
        for (unsigned i1 = 0; i1 < (derive1 ? 1u : n1) && nsol < 2; i1++) {
            unsigned t = c0[i0];
            int p = derive1 ? -1 : (int)c1[i1];
            if (t < 10 || t > 105 || (p >= 0 && (p > SC_PASSWORD_MAX || t < 10u + (unsigned)p ||
                                                  t - 9u - (unsigned)p > SC_SSID_MAX)))
                continue;
            if (p >= 0 && cnt_get(x, 0) && cnt_get(x, 1) && all_known(x, 2, t))
                return; /* nothing missing: the checks in session_try decide */
            unsigned before = nsol;
            fill_try(x, t, p, &nsol, &sol);
            /* A datum ends with the BSSID at T..T+5, so a byte known at T+6 or beyond rules a
             * guessed T out. Without it a changed length that named 26 for T = 29 completed a
             * 9-byte SSID ("TP-LINK_2" for "TP-LINK_2.4G") while byte 2 was missing too, with
             * bytes 32..34 known by two and three votes: only the XOR checked it
             * (bench_rx_events 100000 --check --scale 7.5, capture 75300). A byte on one vote
             * does not count: a changed frame can vote an index past the true end, and then it
             * held back a right result (capture 2307 at 7.5x). Asked only of a first solution,
             * which is rare: on every search it showed in the Cortex-M4 mean. (After a first
             * one, a second solution refuses both whether it is ruled out or not.) */
            if (nsol > before && !before && !cnt_get(x, 0) && voted_past(x, t + 6u)) {
                nsol = 0;
                continue;
            }
            if (nsol > before) {
                if (!cnt_get(x, 0) && sol.n < RX_FILL_MAX + 4) {
                    sol.idx[sol.n] = 0;
                    sol.val[sol.n++] = (uint8_t)t;
                }
                if (p >= 0 && !cnt_get(x, 1) && sol.n < RX_FILL_MAX + 4) {
                    sol.idx[sol.n] = 1;
                    sol.val[sol.n++] = (uint8_t)p;
                }
            }
        }
    if (nsol != 1)
        return;
    for (unsigned i = 0; i < sol.n; i++)
        if (!cnt_get(x, sol.idx[i])) {
            x->val[sol.idx[i]] = sol.val[i];
            cnt_set(x, sol.idx[i], 1);
            x->known++;
        }
}

/* Stores a half triplet of an index not known yet; when the opposite half of the same index
 * is already there (another copy or another round), the pair is a full CRC-checked triplet.
 *
 * `trusted`: the stream clock agrees with the placement. `obs`: this is a frame not offered as
 * a half before (a frame can be offered twice, as a window neighbour and by the clock). A half
 * is *confirmed* when a second, different frame places the same symbol at the same index with
 * the clock's agreement, or at once when `seq_ok`: the frame's 802.11 sequence number also
 * says it is the frame that many transmissions after the clock's reference — a second, 12-bit
 * clock that a frame from anyone else matches about once in a thousand. Only confirmed halves
 * feed the completion search: a lone frame with the phone's MAC in a sender's slot may come from
 * anyone, and a wrong half that was the only half of its index would hide the true value from
 * the search (docs/receiver.md §3, §9). */
static int session_half(rx_state_t *r, session_t *x, uint8_t idx, int is_c, uint8_t sym, int trusted, int obs,
                        int seq_ok)
{
    if (idx >= RX_NIDX || cnt_get(x, idx))
        return 0;
    uint8_t tag = (uint8_t)(idx | (is_c ? 0x80u : 0u));
    for (unsigned h = 0; h < RX_NHALF; h++) {
        uint8_t ht = x->half[h][0];
        if (ht == 0xffu || (ht & 0x7fu) != idx)
            continue;
        if (ht == tag && x->half[h][1] == sym) {
            if (!trusted)
                return 0;
            int ch = 0;
            if (obs && !bit_get(x->twice, h)) {
                bit_put(x->twice, h, 1); /* a second frame: a changed length does not repeat */
                /* (no new candidate: the completion search runs again on the next changed vote) */
            }
            if ((obs || seq_ok) && !bit_get(x->confirmed, h)) {
                bit_put(x->confirmed, h, 1);
                ch = 1; /* a new candidate for session_fill */
            }
            return ch;
        }
        if (ht != tag) {
            uint8_t a = is_c ? x->half[h][1] : sym, c = is_c ? sym : x->half[h][1];
            uint8_t v = (uint8_t)(((a & 15u) << 4) | (c & 15u));
            if (crc_pair(v, idx) == (uint8_t)((a & 0xf0u) | (c >> 4))) {
                r->stats.triplets_ok++;
                return vote(r, x, idx, v);
            }
        }
    }
    /* the slot: an empty one or one of an index learnt since, else the next unconfirmed one,
     * else the oldest (round robin) */
    unsigned slot = RX_NHALF, weak = RX_NHALF;
    for (unsigned j = 0; j < RX_NHALF && slot == RX_NHALF; j++) {
        unsigned h = (x->half_next + j) % RX_NHALF;
        uint8_t ht = x->half[h][0];
        if (ht == 0xffu || cnt_get(x, ht & 0x7fu))
            slot = h;
        else if (weak == RX_NHALF && !bit_get(x->confirmed, h))
            weak = h;
    }
    if (slot == RX_NHALF)
        slot = weak != RX_NHALF ? weak : x->half_next;
    x->half[slot][0] = tag;
    x->half[slot][1] = sym;
    bit_put(x->twice, slot, 0);
    bit_put(x->confirmed, slot, seq_ok != 0);
    x->half_next = (uint8_t)((slot + 1u) % RX_NHALF);
    return seq_ok; /* an unconfirmed sighting changes nothing the completion search uses */
}

/* Checks a session for completion (docs/protocol/esptouch-v1.md#completion). 1 = done (res filled).
 * Kept out of line: it runs only when a byte changed, and inlined into sc_et_rx_feed it cost
 * ~360 B of Cortex-M4 flash (register spills across the whole frame path). */
SC_NOINLINE static int session_try(rx_state_t *r, session_t *x, sc_et_result_t *res)
{
    unsigned p, t = session_t_len(x, &p);
    if (!t || x->known < t || !all_known(x, 2, t)) {
        session_fill(x);
        t = session_t_len(x, &p);
        if (!t || !all_known(x, 2, 9 + p))
            return 0;
    }
    unsigned slen = t - 9 - p;
    uint8_t ssid[SC_SSID_MAX];
    int from_scan = 0;
    if (all_known(x, 9 + p, t)) {
        memcpy(ssid, &x->val[9 + p], slen);
        if (sc_crc8(ssid, slen) != x->val[2]) {
            session_soften(x, 0, RX_NIDX);
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
            session_soften(x, 0, RX_NIDX);
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

/* The event a feed builds (the caller's own in sc_et_rx_feed_key). */
typedef sc_et_event_t evbuf_t;

static void ev_stream(evbuf_t *e, sc_et_event_type_t type, const rx_state_t *r, const stream_t *s)
{
    if (ev_rank(type) <= ev_rank(e->type))
        return;
    /* Only the event's fields: its result is defined for SC_ET_EV_DONE alone, and the caller
     * fills it then. Clearing the whole event (~150 bytes, a byte loop in small libcs) on every
     * lock and progress report was a large share of those frames' instructions (docs/m4.md). */
    /* known and needed: the session's; a stream without one leaves those of the frame's earlier
     * event, or zeros on its first (the callers clear only the type, sc_et_ev_none: a store
     * fewer on every frame, here on an event's) */
    if (s->session != NO_SESSION) {
        const session_t *x = &r->ss[s->session];
        e->known = x->reported_known;
        e->needed = x->reported_needed;
    } else if (e->type == SC_ET_EV_NONE) {
        e->known = e->needed = 0;
    }
    e->type = type;
    e->channel = s->channel;
    e->offset = s->offset;
    mac_cpy(e->bssid, s->bssid);
    mac_cpy(e->sender, s->sender);
}

/* --- streams ----------------------------------------------------------------------- */

static void stream_unlock(rx_state_t *r, stream_t *s)
{
    uint8_t si = s->session;
    s->state = ST_SEARCH;
    r->vq = 0; /* searching again: not in the eviction queue (victim_next) */
    s->session = NO_SESSION;
    s->nhist = 0;
    s->good = s->misses = 0;
    sc_zero_words(&s->u, sizeof s->u);
    if (si == NO_SESSION)
        return;
    for (unsigned k = 0; k < RX_NSTREAMS; k++)
        if (r->st[k].session == si)
            return;
    /* the last lock of this phone is gone: its votes must not mix with a later run */
    session_retire(&r->ss[si]);
}

static void stream_lock(rx_state_t *r, stream_t *s, uint16_t off, uint32_t now, evbuf_t *e)
{
    s->state = ST_LOCKED;
    s->offset = off;
    s->good = 0;
    s->misses = 0;
    sc_zero_words(&s->u, sizeof s->u);
    s->u.clk.slot16 = RX_SLOT16;
    s->u.clk.support_ms = now;
    s->session = session_get(r, s, now);
    session_t *x = &r->ss[s->session];
    x->channel = s->channel;
    x->offset = off;
    x->last_ms = now;
    ev_stream(e, SC_ET_EV_LOCKED, r, s);
}

/* A frame's stream key as the four words at the start of stream_t (sc_rxkey's packing, plus
 * the channel: v1 keeps a stream per channel). */
typedef struct {
    uint32_t w[4];          /* w[3]: BSSID bytes 4..5 in the low half, the rest zero */
} skey_t;

static RX_HOT_INLINE void skey_make(skey_t *q, const sc_rxkey_t *k)
{
    q->w[0] = (uint32_t)k->ks;
    q->w[1] = (uint32_t)(k->ks >> 32) | ((uint32_t)k->channel << 24);
    q->w[2] = (uint32_t)k->kb;
    q->w[3] = (uint32_t)(k->kb >> 32);
}

static RX_HOT_INLINE uint32_t sword(const stream_t *s, unsigned i)
{
    uint32_t w;
    memcpy(&w, (const uint8_t *)s + 4u * i, 4);
    return w;
}
/* BSSID bytes 4..5, the low half of word 3: a halfword load (a word and a mask cost one more) */
static RX_HOT_INLINE uint32_t sbssid_hi(const stream_t *s)
{
    uint16_t h;
    memcpy(&h, (const uint8_t *)s + 12u, 2);
    return h;
}

#if defined(__BYTE_ORDER__)
/* the key words are read and written as the byte fields they overlay */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "stream_t's key words assume a little-endian target");
#endif
_Static_assert(offsetof(stream_t, flags) == 6 && offsetof(stream_t, channel) == 7 && offsetof(stream_t, bssid) == 8 &&
                   offsetof(stream_t, state) == 14 && _Alignof(stream_t) >= 4,
               "stream_t starts with the packed key words");

/* Whether a frame of length len may open a stream. A searching stream's tests all end at its
 * newest length (stream_search: the guide step, two frames of ESP-TOUCH lengths, the guide
 * quartet, the triplets' c), and none passes for a newest length outside 40 + offset_min ..
 * 518 + offset_max (the guide step's "515 after 512" reaches 3 above the guide lengths): such a
 * frame as a stream's first changes nothing a later test reads (it is no window's member, and
 * sc_et_rx_heard wants the newest length in range too). Opening a stream for it only evicted
 * the stalest searching stream, under foreign traffic (more group-addressed senders than
 * slots, lengths 40..1500) often a phone's, whose history was then lost: so it opens none.
 * Its stream's later frames find it all the same once one of them opens it. */
static RX_HOT_INLINE int opens_stream(const rx_state_t *r, unsigned len)
{
    return len - (SC_ET_EXTRA_LEN + r->omin) <= (SC_ET_GUIDE_BASE + 6u - SC_ET_EXTRA_LEN) + (unsigned)(r->omax - r->omin);
}

/* The eviction queue: the searching streams the last walk found oldest, in the order the walk
 * would evict them, so that the next openings take their victims without the seven-slot walk
 * (~35 instructions of a foreign sender's opening on the M4; with more foreign senders than
 * slots one frame in twenty opens a stream, docs/m4.md). rx_state_t's vq holds the head (a slot
 * index + 1, 0 = none) and when the queue was made (bits 3..7: last_expire in 1024 ms units).
 * A searching stream does not use its offset (a lock sets it), so a member keeps there the link
 * to the next one (bits 13..15, index + 1) and the low 13 bits of its last_ms as it joined.
 *
 * The queue gives the walk's victim exactly (the same events). Its members are the searching
 * streams last heard before L, the last_expire when it was made, sorted as the walk chooses
 * (least recently heard, ties to the first slot), the walk's own victim left out. Every frame
 * since came at or after L: the frames between two expiries come within 50 ms after the first,
 * and an expiry that finds the clock gone back, or a second or more on, or the queue more than
 * three units old, drops it. So a member's last_ms is below every last_ms written since, and a
 * member heard since shows other low 13 bits (less than 8 s after it joined: a queue lives under
 * 5.2 s and a searching stream unheard for 1.5 s is freed). The first member still searching
 * and unheard is therefore the walk's victim, as long as no slot is free and no stream searches
 * again: a freeing (expire), an unlock (stream_unlock, session_free) and a reset drop the queue,
 * and a member found locked sends the opening to the walk, which makes a new queue. */
#define RX_VQ_LINK 13u
#define RX_VQ_SNAP ((1u << RX_VQ_LINK) - 1u)
#define RX_VQ_AGE 3u /* units of 1024 ms a queue may be old at an expiry */
_Static_assert(RX_NSTREAMS < 8, "a link is a slot index + 1 in three bits");

/* The queue made after a walk chose vi and found no free slot: the searching streams heard
 * before last_expire but vi, oldest first (ties to the first slot). Out of line: a third of the
 * openings make one, and those pay for it (~100..250 instructions, docs/m4.md). */
static SC_NOINLINE void vq_build(rx_state_t *r, unsigned vi)
{
    /* (age << 3 | 7 - index), oldest first */
    uint32_t L = r->last_expire, key[RX_NSTREAMS];
    unsigned n = 0;
    for (unsigned i = 0; i < RX_NSTREAMS; i++) {
        const stream_t *s = &r->st[i];
        int32_t age = since(L, s->last_ms);
        if (i == vi || s->state != ST_SEARCH || age <= 0)
            continue;
        /* age <= 1500 ms (the expiry at L freed the staler ones): the key's shift keeps it whole */
        uint32_t k = ((uint32_t)age << 3) | (7u - i);
        unsigned j = n++;
        for (; j && key[j - 1u] < k; j--)
            key[j] = key[j - 1u];
        key[j] = k;
    }
    unsigned nx = 0;
    while (n) {
        unsigned i = 7u - (key[--n] & 7u);
        stream_t *s = &r->st[i];
        s->offset = (uint16_t)((nx << RX_VQ_LINK) | (s->last_ms & RX_VQ_SNAP));
        nx = i + 1u;
    }
    r->vq = (uint8_t)(((L >> 10) << 3) | nx);
}

/* The queue's next victim (its first member still searching and unheard since), or NULL when
 * the walk must choose: the queue is empty or a member locked. */
static RX_HOT_INLINE stream_t *victim_next(rx_state_t *r)
{
    unsigned q = r->vq, e = q & 7u;
    while (e) {
        stream_t *s = &r->st[e - 1u];
        if (s->state != ST_SEARCH)
            break; /* locked since: its link is gone */
        unsigned o = s->offset, nx = o >> RX_VQ_LINK;
        if (!((o ^ s->last_ms) << (32u - RX_VQ_LINK))) { /* the low 13 bits agree (one shift, no mask) */
            r->vq = (uint8_t)((q & ~7u) | nx);
            return s;
        }
        e = nx;
    }
    return NULL;
}

/* The frame's stream, or a fresh one: a new key takes a free slot, else the stalest searching
 * one; locks are never evicted by new traffic (they expire on their own). The key walk is the
 * per-frame part, so it compares one word per slot (sender bytes 4..5, flags and channel: most
 * streams differ there) and the rest on a hit. A new sender taking a slot is common too
 * (foreign senders come and go, more of them than slots), so the slot is written word by word:
 * its key, and zeros where stream_t has state (a byte loop in small libcs otherwise,
 * docs/m4.md). A frame of a length that opens no stream (opens_stream, tested on a miss alone)
 * takes no slot. */
static stream_t *stream_find(rx_state_t *r, const skey_t *k, unsigned len, uint32_t now)
{
    _Static_assert(RX_NSTREAMS == 7, "RX_UNROLL_STREAMS unrolls 7");
    /* the slot's index, not its address, leaves the walk: a pointer kept per slot cost every
     * slot passed an instruction */
    unsigned hit;
    RX_UNROLL_STREAMS
    for (hit = 0; hit < RX_NSTREAMS; hit++) {
        const stream_t *s = &r->st[hit];
        if (sword(s, 1) == k->w[1] && sword(s, 0) == k->w[0] && sword(s, 2) == k->w[2] &&
            sbssid_hi(s) == k->w[3] && s->state != ST_FREE)
            break;
    }
    if (hit < RX_NSTREAMS)
        return &r->st[hit];
    if (!opens_stream(r, len)) {
        /* the channel is alive all the same (best_lock_channel) */
        r->quiet_channel = (uint8_t)((k->w[1] >> 24) + 1u);
        r->quiet_ms16 = (uint16_t)now;
        return NULL;
    }
    stream_t *victim = victim_next(r);
    if (!victim) {
        unsigned vi = RX_NSTREAMS;
        /* The victim by a walk: the first free slot, else the searching stream heard least
         * recently (ties to the first). Searched from now down: a searching stream heard before
         * now is older than any that is not, so the walk needs no "none yet" state per slot
         * (each slot one state test on the common path, a searching one first); only when none
         * was heard before now (a burst within one millisecond) does the second walk below take
         * the first of the oldest. With no free slot, the next victims are queued (vq_build). */
        uint32_t vms = now; /* the victim's last_ms */
        RX_UNROLL_STREAMS
        for (unsigned i = 0; i < RX_NSTREAMS; i++) {
            const stream_t *s = &r->st[i];
            if (s->state == ST_SEARCH) {
                if (since(vms, s->last_ms) > 0) {
                    vi = i;
                    vms = s->last_ms;
                }
            } else if (s->state == ST_FREE) {
                vi = i + RX_NSTREAMS + 1u;
                break;
            }
        }
        if (vi > RX_NSTREAMS) {
            vi -= RX_NSTREAMS + 1u; /* a free slot: the queue is empty (every freeing empties it) */
        } else {
            if (vi == RX_NSTREAMS) {
                for (unsigned i = 0; i < RX_NSTREAMS; i++) {
                    const stream_t *s = &r->st[i];
                    if (s->state == ST_SEARCH && (vi == RX_NSTREAMS || since(vms, s->last_ms) > 0)) {
                        vi = i;
                        vms = s->last_ms;
                    }
                }
                if (vi == RX_NSTREAMS)
                    return NULL;
            }
            vq_build(r, vi);
        }
        victim = &r->st[vi];
    }
    _Static_assert(sizeof(stream_t) == 72 && offsetof(stream_t, last_ms) == 36 && offsetof(stream_t, u) == 40 &&
                       offsetof(rx_state_t, st) % 8u == 0 && _Alignof(sc_et_rx_t) >= _Alignof(uint64_t),
                   "the word layout written below, every stream aligned for uint64_t (the state is sc_et_rx_t's)");
    /* as pairs of words: one strd per pair, where word stores took one instruction per word
     * (5 % of the frames open a stream, docs/m4.md); volatile, so that the zeros stay stores
     * rather than a call to memset */
    volatile uint64_t *w = (volatile uint64_t *)(void *)victim;
    w[0] = k->w[0] | ((uint64_t)k->w[1] << 32);
    w[1] = k->w[2] | ((uint64_t)(k->w[3] | ((uint32_t)ST_SEARCH << 16) | ((uint32_t)NO_SESSION << 24)) << 32); /* state, session */
    /* offset, last_seq and hist (words 4..7) are left as they are: offset is set by a lock,
     * last_seq read only after has_seq, hist only below nhist (as after stream_unlock) */
    w[4] = (uint64_t)now << 32; /* nhist, has_seq, good, misses: 0; last_ms */
    w[5] = 0;  /* u */
    w[6] = 0;
    w[7] = 0;
    w[8] = 0;
    return victim;
}

/* Guide-less calibration evidence: a CRC-valid triplet under offset off. Returns the
 * candidate once it has RX_CAND_IDX distinct indices. Out of line in a size build: inlined in
 * triplet_window's offset loop it took registers from the loop (M4 mean 487.9 -> 482.2, p99
 * 3205 -> 3084, 10 bytes less; docs/m4.md, the receivers' size round). */
SC_OUTLINE static cand_t *cand_add(rx_state_t *r, stream_t *s, uint8_t off, uint8_t idx, uint8_t val, uint32_t now)
{
    cand_t *c = NULL;
    for (unsigned k = 0; k < RX_NCAND; k++)
        if (s->u.cand[k].n && s->u.cand[k].off == off)
            c = &s->u.cand[k];
    if (!c) {
        /* replace an empty slot, else round-robin among the weakest: random CRC hits are
         * spread over ~100 offsets, the real one collects a hit every triplet */
        unsigned minn = 255;
        c = &s->u.cand[0];
        for (unsigned k = 0; k < RX_NCAND; k++)
            if (s->u.cand[k].n < minn)
                minn = s->u.cand[k].n;
        for (unsigned k = 0; k < RX_NCAND; k++) {
            unsigned j = (s->misses + k) % RX_NCAND;
            if (s->u.cand[j].n == minn) {
                c = &s->u.cand[j];
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
static void candidate(rx_state_t *r, const stream_t *s, uint32_t now)
{
    r->cand_channel = s->channel;
    r->cand_ms16 = (uint16_t)now;
}

/* The triplet window of stride st around index length b (in the index range under some
 * offset): the offsets under which it is a CRC-valid triplet go to the candidates, and the
 * third index of one offset locks the stream. 1 when it locked. Out of line: most frames
 * stop at the range test before it, and GCC hoisted this search's set-up above that test. */
static SC_NOINLINE int triplet_window(rx_state_t *r, stream_t *s, unsigned st, unsigned b, uint32_t now, evbuf_t *e)
{
    const unsigned omin = r->omin, omax = r->omax;
    unsigned a = hist_at(s, 2 * st), c = hist_at(s, 0);
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
        candidate(r, s, now);
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
    return 0;
}

/* Candidate traffic for the channel search from an ESP-TOUCH v2 sender too, for a length no
 * v1 test can use (l_top) after the stream's previous one (l_prev): v2's data plane i+1 comes
 * one datagram (15 ms) after plane i and is 65..191 longer whatever the overhead
 * ((i << 7) | 0x40 | d), and plane 4 and above are mostly longer than any v1 length, so a 24 ms
 * visit that heard plane 3 and then plane 4 made no candidate in stream_search's tests. The first
 * of the two must have an ESP-TOUCH length and the gap must be a datagram's (a burst of one
 * station's frames is not), which keeps foreign pairs rare. It gives nothing to lock on: the
 * search only looks longer. bench_chansearch 300 x seeds 1/7/99, v2 within 1.5x: 1..13
 * mid-session 59/61/52 -> 63/65/60 % (docs/receiver.md §7). One test for both callers:
 * frame_in (a searching stream, which then forgets its history) and stream_search (a
 * length-only stream, which keeps it). */
static RX_HOT_INLINE void v2_plane_step(rx_state_t *r, const stream_t *s, unsigned l_prev, unsigned l_top, uint32_t now,
                                        uint32_t prev_ms)
{
    if (l_top - l_prev - 65u <= 126u && opens_stream(r, l_prev) &&
        (uint32_t)since(now, prev_ms) - RX_V2_SLOT_MIN_MS <= RX_CAND_GAP_MS - RX_V2_SLOT_MIN_MS)
        candidate(r, s, now);
}

static int stream_search(rx_state_t *r, stream_t *s, uint32_t now, uint32_t prev_ms, evbuf_t *e)
{
    const unsigned omin = r->omin, omax = r->omax;
    /* every test below ends at the newest length, and none passes where no frame may open a
     * stream (opens_stream): most of the foreign traffic's frames stop here, after one test */
    unsigned l_top = hist_at(s, 0);
    if (!opens_stream(r, l_top)) {
        /* (only a length-only stream gets here: frame_in takes such a length of the others) */
        if (s->nhist >= 2)
            v2_plane_step(r, s, hist_at(s, 1), l_top, now, prev_ms);
        return 0;
    }
    if (s->nhist >= 2) {
        /* a sender is probably here, worth a longer look before anything locks: a step of the
         * guide (515, 514, 513, 512, 515, ...), or two group-addressed frames of one
         * transmitter at most two datagram slots apart, both of ESP-TOUCH lengths */
        unsigned l1 = hist_at(s, 1), l0 = hist_at(s, 0);
        unsigned lo = SC_ET_EXTRA_LEN + omin, hi = SC_ET_GUIDE_BASE + 3u + omax;
        if (((l0 + 1u == l1 || l0 == l1 + 3u) && l1 >= SC_ET_GUIDE_BASE + omin && l1 <= hi) ||
            (since(now, prev_ms) <= (int32_t)RX_CAND_GAP_MS && l0 >= lo && l0 <= hi && l1 >= lo && l1 <= hi))
            candidate(r, s, now);
    }
    /* a guide quartet ends with a guide length: test the newest before the four (most frames
     * of foreign traffic are not one) */
    unsigned l_new = hist_at(s, 0);
    if (s->nhist >= 4 && l_new >= SC_ET_GUIDE_BASE + omin && l_new <= SC_ET_GUIDE_BASE + 3u + omax) {
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
    /* a triplet needs three lengths (stride 1; stride 2 five): one test before the loop's
     * set-up, as a new stream (much of the foreign traffic) has fewer */
    if (s->nhist < 3)
        return 0;
    unsigned strides = (s->flags & SF_LENONLY) ? 2 : 1;
    for (unsigned st = 1; st <= strides; st++) {
        if (s->nhist < 2 * st + 1)
            break;
        unsigned b = hist_at(s, st);
        /* an index length under no offset leaves the range below empty: most foreign frames */
        if (b - (296u + omin) > 127u + (omax - omin))
            continue;
        if (triplet_window(r, s, st, b, now, e))
            return 1;
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
        if (e->type == SC_ET_EV_PROGRESS) {
            e->known = known;
            e->needed = needed;
        }
    }
}

/* Position of index idx in the transmission order of a datum of length T, and the index at a
 * position (docs/protocol/esptouch-v1.md#transmission-order: 0..4, then a BSSID byte before every three regular bytes, BSSID
 * bytes left over at the end). Closed forms when all six BSSID bytes are interleaved (T >= 23),
 * else the encoder's rule walked step by step. */
SC_OUTLINE static unsigned order_walk(unsigned t, unsigned want_idx, unsigned want_pos, int by_pos)
{
    unsigned n = 5, reg = 5, bss = 0;
    while (reg < t || bss < SC_MAC_LEN) {
        if (bss < SC_MAC_LEN) {
            if (by_pos ? n == want_pos : t + bss == want_idx)
                return by_pos ? t + bss : n;
            n++;
            bss++;
        }
        for (unsigned j = 0; j < 3 && reg < t; j++, reg++, n++)
            if (by_pos ? n == want_pos : reg == want_idx)
                return by_pos ? reg : n;
    }
    return 0;
}

static unsigned order_pos(unsigned t, unsigned idx)
{
    if (idx < 5)
        return idx;
    if (t < 23)
        return order_walk(t, idx, 0, 0);
    if (idx >= t)
        return 5 + 4 * (idx - t);
    if (idx < 23)
        return 5 + 4 * ((idx - 5) / 3) + 1 + (idx - 5) % 3;
    return idx + 6;
}

static unsigned order_idx(unsigned t, unsigned pos)
{
    if (pos < 5)
        return pos;
    if (t < 23)
        return order_walk(t, 0, pos, 1);
    unsigned q = pos - 5;
    if (q >= 24)
        return pos - 6;
    return q % 4 ? 5 + 3 * (q / 4) + q % 4 - 1 : t + q / 4;
}

/* T from two index frames of consecutive triplets, i then j, where the order shows it: index 4
 * is followed by T, T by 5, BSSID byte m (T + m) by 5 + 3m and 7 + 3m by T + m + 1 (T >= 23).
 * 0 when the pair says nothing about T. */
static unsigned order_t_hint(unsigned i, unsigned j)
{
    unsigned t = 0;
    if (j == 0) {
        /* the cycle wraps after its last code: regular byte T - 1, or BSSID byte T + 5 when
         * short credentials leave BSSID bytes over */
        unsigned a = i + 1 >= 23 && i + 1 <= 105 && order_idx(i + 1, i + 6) == i ? i + 1 : 0;
        unsigned b = i >= 15 && i - 5 < 23 && order_idx(i - 5, i) == i ? i - 5 : 0;
        return a && b ? 0 : a | b;
    }
    if (i == 4)
        t = j;
    else if (j == 5)
        t = i;
    else if (j > 5 && (j - 5) % 3 == 0 && (j - 5) / 3 <= 5 && i >= (j - 5) / 3)
        t = i - (j - 5) / 3;               /* T + m, then 5 + 3m */
    else if (i >= 7 && (i - 7) % 3 == 0 && (i - 7) / 3 <= 4 && j >= (i - 7) / 3 + 1)
        t = j - (i - 7) / 3 - 1;           /* 7 + 3m, then T + m + 1 */
    if (t < 10 || t > 105)
        return 0;
    if ((i != 4 && j != 5) && (t < 23 || j >= t + 6 || i >= t + 6))
        return 0;
    /* the pair must really be consecutive in the order of that T */
    return order_pos(t, j) == order_pos(t, i) + 1 ? t : 0;
}

/* T for the stream clock: byte 0 when known, else the schedule's hint. */
SC_OUTLINE static unsigned session_clock_t(const session_t *x)
{
    if (cnt_get(x, 0) && x->val[0] >= 10 && x->val[0] <= 105)
        return x->val[0];
    return x->t_hint;
}

/* Does the 802.11 sequence number agree with the frame being the n-th transmission after the
 * reference? The sender's station also sends other frames (its own traffic, an AP's beacons),
 * each taking a number, so a few more are allowed; fewer never. */
static RX_HOT_INLINE int seq_fits(uint16_t cur, uint16_t ref, unsigned n)
{
    unsigned d = ((unsigned)cur - (unsigned)ref) & 0x0fffu; /* 12-bit sequence numbers */
    return n >= 1u && d >= n && d <= n + n / 4u + 1u;
}

/* Whole datagram slots in dt_ms by the stream's measured interval, or -1 when dt_ms is not
 * within 3/8 of a slot of a whole number of them (jitter of the relay, or another sender). */
static int clk_slots(const clk_t *k, uint32_t dt_ms)
{
    unsigned sl = k->slot16;
    if (dt_ms > (RX_ANCHOR_SLOTS + 1u) * sl / 16u)
        return -1;
    unsigned d16 = dt_ms * 16u, n = (d16 + sl / 2u) / sl;
    unsigned res = d16 > n * sl ? d16 - n * sl : n * sl - d16;
    return res * 8u <= 3u * sl ? (int)n : -1;
}

static void stream_data(rx_state_t *r, stream_t *s, uint32_t now, evbuf_t *e)
{
    unsigned off = s->offset;
    unsigned L = hist_at(s, 0);
    clk_t *k = &s->u.clk;
    int timed = !(s->flags & SF_LENONLY); /* a length-only stream interleaves both copies */
    /* The clock moves on with every frame, guide frames too (about a third of a phone's): so the
     * previous two frames' times and sequence numbers are kept here and what the data path asks
     * of them is worked out after the guide test below, not before it. */
    uint32_t t1 = k->t1, t2 = k->t2;
    uint16_t q1 = k->q1, q2 = k->q2;
    unsigned ntimes = k->ntimes;
    uint16_t sq = s->last_seq; /* this frame's sequence number */
    k->q2 = q1;
    k->q1 = sq;
    k->t2 = t1;
    k->t1 = now;
    if (ntimes < 2)
        k->ntimes = (uint8_t)(ntimes + 1u);
    /* was the window's a-frame (hist[-2]: bit 1, read before the shift) offered as a half when
     * it arrived? Bit 0 is set below when this frame is offered. Until 2026-12-05 the bit was
     * read after the shift, which is hist[-1]'s — an index frame, never offered — so a frame
     * placed by the clock on arrival and offered again by its window counted as a second frame:
     * `twice` and `confirmed` from one frame, and a length changed once in the air passed for
     * one seen twice (bench_rx_events 100000 --check --scale 2.5, capture 39306). */
    int a_new = timed && !(k->offered & 2u), c_offered = 0;
    k->offered = (uint8_t)((k->offered << 1) & 3u);
    if (L >= SC_ET_GUIDE_BASE + off && L <= SC_ET_GUIDE_BASE + 3 + off) {
        k->anc_ok = 0; /* a guide phase: time runs, the data cursor stands still */
        k->support_ms = now;
        return;        /* guide frames keep the lock alive but are not data */
    }
    /* are the window's outer frames the index frame's own neighbours in time? 1 yes, 0 no
     * (a frame was lost between), -1 unknown */
    int a_adj = -1, c_adj = -1, na = -1, nc = -1;
    if (timed && ntimes >= 2 && hist_at(s, 1) - s->offset - 296u <= 127u) {
        /* (only a window around an index frame asks) */
        na = clk_slots(k, t1 - t2);
        a_adj = na == 1 ? 1 : na > 1 ? 0 : -1;
        nc = clk_slots(k, now - t1);
        c_adj = nc == 1 ? 1 : nc > 1 ? 0 : -1;
    }
    int has_seq = timed && s->has_seq && ntimes >= 2;
    int a_seq = has_seq && seq_fits(q1, q2, 1), c_seq = has_seq && seq_fits(sq, q1, 1);
    /* A frame or two lost inside the window: the clock counts two or three slots and the
     * sequence number (where there is one) skipped too. Such a window is three frames of two
     * or three triplets, and its CRC passes by chance 1 time in 256: it gave a wrong vote that
     * the completion search then made consistent with one guessed byte (bench_rx_events 30000
     * --check, capture 25458, the relay copy: sequence 2215, 2217, 2219 at 18 and 14 ms).
     * Not a longer pause: an AP that relays in DTIM bursts sends a beacon, which takes a
     * sequence number, and about 100 ms between bursts, with whole triplets across them. */
    int broken = (na >= 2 && na <= 3 && (!has_seq || ((q1 - q2) & 0x0fffu) >= 2u)) ||
                 (nc >= 2 && nc <= 3 && (!has_seq || ((sq - q1) & 0x0fffu) >= 2u));
    unsigned strides = (s->flags & SF_LENONLY) ? 2 : 1;
    session_t *x = &r->ss[s->session];
    int any = 0, changed = 0;
    for (unsigned st = 1; st <= strides; st++) {
        if (s->nhist < 2 * st + 1)
            break;
        unsigned a = hist_at(s, 2 * st) - off - 40u, b = hist_at(s, st) - off - 296u, c = L - off - 40u;
        if (b > 127u)
            continue;
        int aa = st == 1 ? a_adj : -1, ca = st == 1 ? c_adj : -1;
        if (a <= 255u && c <= 255u && !(st == 1 && broken)) {
            uint8_t v = (uint8_t)(((a & 15u) << 4) | (c & 15u));
            if (crc_pair(v, (uint8_t)b) == (uint8_t)((a & 0xf0u) | (c >> 4))) {
                any = 1;
                r->stats.triplets_ok++;
                changed |= vote(r, x, (uint8_t)b, v);
                continue;
            }
            /* one of the neighbours belongs to another triplet (a frame was lost): keep the
             * ones that may be right as halves, a right one pairs with a later opposite half */
            r->stats.bad_crc++;
            if (aa == 1 && ca == 1) {
                aa = ca = -1; /* both in place yet the CRC fails: trust neither */
                x->tainted = 1; /* and a frame of this sender's was changed (or forged) */
            }
        }
        if (a <= 255u && aa != 0)
            changed |= session_half(r, x, (uint8_t)b, 0, (uint8_t)a, aa == 1, st == 1 && a_new,
                                    st == 1 && a_new && aa == 1 && a_seq);
        if (c <= 255u && ca != 0) {
            changed |= session_half(r, x, (uint8_t)b, 1, (uint8_t)c, ca == 1, timed && !c_offered,
                                    st == 1 && timed && !c_offered && ca == 1 && c_seq);
            c_offered = 1;
        }
    }
    /* The stream clock: an index frame anchors the cycle position; a nibble frame whose own
     * index frame was lost gets its position, hence its index, from the time since the anchor. */
    unsigned u = L - off - 40u;
    if (timed && u >= 256u && u - 256u < RX_NIDX) {
        /* the pair may come from this copy's clock or across copies (the other copy's index
         * frame 3 slots earlier: the relay's delay, a few ms, is within a slot's tolerance) */
        unsigned th = 0;
        if (k->anc_ok && clk_slots(k, now - k->anc_ms) == 3)
            th = order_t_hint(k->anc_idx, u - 256u);
        if (!th && x->h_idx != 0xffu && clk_slots(k, (uint16_t)((uint16_t)now - x->h_ms16)) == 3)
            th = order_t_hint(x->h_idx, u - 256u);
        if (th)
            x->t_hint = (uint8_t)th;
        x->h_idx = (uint8_t)(u - 256u);
        x->h_ms16 = (uint16_t)now;
    }
    unsigned t = timed ? session_clock_t(x) : 0;
    if (timed && u >= 256u && u - 256u < RX_NIDX) {
        unsigned idx = u - 256u;
        if (t && idx <= t + 5u && k->anc_ok && k->anc_idx <= t + 5u) {
            /* two anchors a known number of slots apart measure the sender's interval */
            unsigned cyc = 3u * (t + 6u);
            unsigned dq = (3u * order_pos(t, idx) + cyc - 3u * order_pos(t, k->anc_idx)) % cyc;
            uint32_t dt = now - k->anc_ms;
            if (dq && dq <= RX_ANCHOR_SLOTS && dt < 16u * RX_ANCHOR_SLOTS) {
                unsigned meas = dt * 16u / dq;
                if (meas >= RX_SLOT16_MIN && meas <= RX_SLOT16_MAX)
                    k->slot16 = (uint16_t)((3u * k->slot16 + meas) / 4u);
            }
        }
        k->anc_idx = (uint8_t)idx;
        k->anc_seq = sq;
        k->anc_ms = now;
        k->anc_ok = 1;
    } else if (timed && u <= 255u && !any && k->anc_ok) {
        /* (a frame that just completed a whole triplet is not used a second time as a half) */
        int n = clk_slots(k, now - k->anc_ms);
        if (n >= 1 && t && k->anc_idx <= t + 5u) {
            unsigned q = (3u * order_pos(t, k->anc_idx) + 1u + (unsigned)n) % (3u * (t + 6u));
            if (q % 3u == 1u)
                k->anc_ok = 0; /* a nibble where an index belongs: the clock is off */
            else {
                changed |= session_half(r, x, (uint8_t)order_idx(t, q / 3u), q % 3u == 2u, (uint8_t)u, 1,
                                        !c_offered, !c_offered && has_seq && seq_fits(sq, k->anc_seq, (unsigned)n));
                c_offered = 1;
            }
        } else if (n >= 1 && !t && (unsigned)n % 3u != 0u) {
            /* T unknown yet (the capture began after byte 0 went by): where the order is
             * sequential whatever T is — 0..4, and the regular bytes from 23 up to T - 1 —
             * the index is the anchor's plus the triplets between. If the cycle wrapped in
             * between (T - 1 was passed), the guess is T or above: a BSSID index, which the
             * completion never guesses and any pairing CRC-checks, or none at all — never a
             * byte of the credentials. (From 0..3, a guess past 4 could be such a byte.) */
            unsigned i = k->anc_idx, j = i + ((unsigned)n + 1u) / 3u;
            if (j <= 4u || i >= 23u) {
                changed |= session_half(r, x, (uint8_t)j, (unsigned)n % 3u == 1u, (uint8_t)u, 1, !c_offered,
                                        !c_offered && has_seq && seq_fits(sq, k->anc_seq, (unsigned)n));
                c_offered = 1;
            }
        }
    }
    if (c_offered)
        k->offered |= 1u;
    x->last_ms = now;
    x->channel = s->channel;
    x->offset = s->offset;
    if (changed) {
        sc_et_result_t res;
        if (session_try(r, x, &res)) {
            r->done = (uint8_t)(s->session + 1u);
            ev_stream(e, SC_ET_EV_DONE, r, s);
            e->result = res;
            return;
        }
        session_progress(r, s, x, e);
    }
    if (any) {
        k->support_ms = now;
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
    /* the eviction queue (victim_next) lasts while the clock goes on by less than a second
     * between expiries, and RX_VQ_AGE of its 1024 ms units at most */
    unsigned q = r->vq;
    if (q && (now - r->last_expire >= 1000u || (((now >> 10) - (q >> 3)) & 31u) > RX_VQ_AGE))
        r->vq = 0;
    r->last_expire = now;
    /* the quiet frame's time is 16 bits: forgotten before it could pass for a recent one */
    if ((uint16_t)((uint16_t)now - r->quiet_ms16) > RX_QUIET_KEEP_MS)
        r->quiet_channel = 0;
    for (unsigned i = 0; i < RX_NSTREAMS; i++) {
        stream_t *s = &r->st[i];
        if (s->state == ST_LOCKED && since(now, s->last_ms) > (int32_t)r->idle_unlock_ms) {
            ev_stream(e, SC_ET_EV_UNLOCKED, r, s);
            stream_unlock(r, s);
        } else if (s->state == ST_SEARCH && since(now, s->last_ms) > (int32_t)RX_STREAM_STALE_MS) {
            s->state = ST_FREE;
            r->vq = 0; /* a free slot comes before any queued victim */
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
    r->idle_unlock_ms = c.idle_unlock_ms;
    r->omin = (uint8_t)c.offset_min;
    r->omax = (uint8_t)c.offset_max;
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
    r->vq = 0;
    r->act_channel = 0;
}

sc_err_t sc_et_rx_resume(sc_et_rx_t *rx)
{
    if (!rx || S(rx)->magic != RX_MAGIC)
        return SC_ERR_INVAL;
    rx_state_t *r = S(rx);
    if (!r->done)
        return SC_ERR_STATE;
    unsigned si = r->done - 1u;
    r->done = 0;
    if (si < RX_NSESSIONS) {
        for (unsigned k = 0; k < RX_NSTREAMS; k++)
            if (r->st[k].session == si)
                stream_unlock(r, &r->st[k]);
        session_retire(&r->ss[si]);
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
        memcpy(e->bssid, list[i].bssid, SC_MAC_LEN);
    }
    return n > SC_ET_RX_MAX_SCAN ? SC_ERR_NOSPACE : SC_OK;
}

/* len as the stream's newest length, one along: two 4-byte moves and one 2-byte move (a loop
 * becomes a memmove call, five 2-byte moves are twice the instructions); nh is nhist */
static RX_HOT_INLINE void hist_push(stream_t *s, unsigned nh, unsigned len)
{
    _Static_assert(RX_HIST == 6, "history shift below assumes 6 entries");
    uint32_t h01, h23;
    memcpy(&h01, &s->hist[1], 4);
    memcpy(&h23, &s->hist[3], 4);
    memcpy(&s->hist[0], &h01, 4);
    memcpy(&s->hist[2], &h23, 4);
    s->hist[4] = s->hist[5];
    s->hist[RX_HIST - 1] = (uint16_t)len;
    if (nh < RX_HIST)
        s->nhist = (uint8_t)(nh + 1u);
}

/* One frame v1 takes (keyed by sc_rxkey) into its stream. SC_ET_FEED_IN_LOCK when that stream
 * was locked, else 0 (the front's answer as it is: no test and shift after the call). Inlined
 * into its one caller, sc_et_rx_feed_key (sc_et_rx_feed goes through it too): a call of its own
 * cost every keyed frame a second prologue, epilogue and argument moves (docs/m4.md). */
static RX_HOT_INLINE unsigned frame_in(rx_state_t *r, const sc_rxkey_t *k, uint32_t now_ms, evbuf_t *e)
{
    skey_t q;
    skey_make(&q, k);
    stream_t *s = stream_find(r, &q, k->len, now_ms);
    if (!s)
        return 0u;
    if (k->has_seq) {
        /* an 802.11 frame; its sequence number kept as the key has it (12 bits: no shift back to
         * the sequence control field and truncation on every frame) */
        int dup = k->retry && s->has_seq && s->last_seq == k->seq;
        s->last_seq = k->seq;
        s->has_seq = 1;
        if (dup) {
            r->stats.dropped_retry++;
            return s->state == ST_LOCKED ? SC_ET_FEED_IN_LOCK : 0u;
        }
    }
    uint32_t prev_ms = s->last_ms;
    s->last_ms = now_ms;
    unsigned nh = s->nhist, len = k->len;
    if (s->state == ST_LOCKED) {
        hist_push(s, nh, len);
        stream_data(r, s, now_ms, e);
        return SC_ET_FEED_IN_LOCK;
    }
    if (!opens_stream(r, len) && !(s->flags & SF_LENONLY)) {
        /* A length no search test can use (opens_stream): v2's plane step (v2_plane_step), and
         * then the history starts again. Every search test whose
         * window holds such a length fails on it (each one wants every length of its window in
         * 40 + offset_min .. 518 + offset_max), and so does sc_et_rx_heard when it is the newest:
         * a history that forgets it answers the same. A lock needs a window of three or four
         * lengths after it, so a lock's first data windows never reach back to it either. Half
         * of the foreign senders' lengths are such: each paid the shift and the search's call.
         * Not for a length-only stream, whose stride-2 windows skip every other length. */
        if (nh)
            v2_plane_step(r, s, hist_at(s, 0), len, now_ms, prev_ms);
        s->nhist = 0;
        return 0u;
    }
    if (!nh) {
        /* A searching stream's first length (a new stream, a fifth of the foreign frames; one
         * just unlocked; or the first after a length no test can use, above): no search test
         * runs on one length (stream_search wants two and more), so neither the shift nor the
         * search's call (~25 instructions). hist is read only below nhist. */
        s->hist[RX_HIST - 1] = (uint16_t)len;
        s->nhist = 1;
        return 0u;
    }
    hist_push(s, nh, len);
    stream_search(r, s, now_ms, prev_ms, e);
    return 0u;
}

/* Every feed's first step: the streams' expiry, due every RX_EXPIRE_EVERY_MS. */
static RX_HOT_INLINE void feed_expire(rx_state_t *r, uint32_t now_ms, evbuf_t *e)
{
    /* since(now, last_expire) >= RX_EXPIRE_EVERY_MS or < 0, as one unsigned compare */
    if (now_ms - r->last_expire >= RX_EXPIRE_EVERY_MS)
        expire(r, now_ms, e);
}

/* A frame v1 does not take: counted. An entry point of its own, so that it does not pay for the
 * keyed path's prologue, and the keyed path no test for a missing key (docs/m4.md). As the keyed
 * feed, it reads neither the magic nor done: its callers know the decoder is initialised and
 * running (the receiver front, which initialised it itself and stops feeding on the DONE a
 * decoder reports, its one run word standing for both; sc_et_rx_feed, which tests them itself
 * first), and they clear the event (rxkey.h). */
unsigned sc_et_rx_feed_nokey(sc_et_rx_t *rx, uint32_t now_ms, sc_et_event_t *ev)
{
    rx_state_t *r = S(rx);
    feed_expire(r, now_ms, ev);
    r->stats.frames++;
    r->stats.dropped_nondata++;
    return 0u;
}

unsigned sc_et_rx_feed_key(sc_et_rx_t *rx, const sc_rxkey_t *k, uint32_t now_ms, sc_et_event_t *ev)
{
    /* the caller's event is the buffer: it reads the fields only when the type is not NONE */
    evbuf_t *e = ev;
    rx_state_t *r = S(rx);
    feed_expire(r, now_ms, e);
    r->stats.frames++;
    return frame_in(r, k, now_ms, e);
}

/* The public feed and tick take frames only of an initialised decoder that has not finished
 * (the entry points above leave both to their callers); otherwise they clear the caller's whole
 * event, as they always did. */
static RX_HOT_INLINE int feed_running(const sc_et_rx_t *rx, sc_et_event_t *ev)
{
    if (rx && CS(rx)->magic == RX_MAGIC && !CS(rx)->done)
        return 1;
    if (ev)
        memset(ev, 0, sizeof *ev);
    return 0;
}

/* An event's fields for the caller (a frame with an event, rare): out of line in a size build,
 * where its two inlined copies cost 58 bytes more than one. */
SC_OUTLINE static void ev_copy(sc_et_event_t *ev, const evbuf_t *e)
{
    /* field by field: a whole-struct copy is a ~150-byte memcpy */
    ev->type = e->type;
    ev->channel = e->channel;
    ev->offset = e->offset;
    mac_cpy(ev->bssid, e->bssid);
    mac_cpy(ev->sender, e->sender);
    ev->known = e->known;
    ev->needed = e->needed;
}

/* The caller's event from the feed's: every field but the result (defined for DONE alone). */
static void ev_fields(sc_et_event_t *ev, const evbuf_t *e)
{
    /* Nothing happened (almost every frame): clear the event's fields but not its result.
     * Clearing the whole event (~150 bytes) on every frame was half of the receiver's per-frame
     * instructions on a Cortex-M4 (docs/m4.md). */
    if (e->type == SC_ET_EV_NONE) {
        ev->type = SC_ET_EV_NONE;
        ev->channel = 0;
        ev->offset = 0;
        mac_zero(ev->bssid);
        mac_zero(ev->sender);
        ev->known = ev->needed = 0;
    } else {
        ev_copy(ev, e);
    }
}

sc_et_event_type_t sc_et_rx_feed(sc_et_rx_t *rx, const sc_frame_t *f, uint32_t now_ms, sc_et_event_t *ev)
{
    evbuf_t e;
    if (!feed_running(rx, ev))
        return SC_ET_EV_NONE;
    sc_et_ev_none(&e);
    if (f) {
        sc_rxkey_t k;
        /* on its own, v1 takes no frame with the Order bit (the receiver front takes a QoS
         * frame's HT Control field out first, sc_rxkey for all three decoders) */
        int take = (sc_rxkey(f, &k) & SC_RXKEY_V1) && !(f->kind == SC_FRAME_80211 && (f->fc & SC_FC_ORDER));
        (void)(take ? sc_et_rx_feed_key(rx, &k, now_ms, &e) : sc_et_rx_feed_nokey(rx, now_ms, &e));
    } else {
        feed_expire(S(rx), now_ms, &e);
    }
    if (ev) {
        ev_fields(ev, &e);
        if (e.type == SC_ET_EV_DONE)
            ev->result = e.result;
    }
    return e.type;
}

sc_et_event_type_t sc_et_rx_tick(sc_et_rx_t *rx, uint32_t now_ms, sc_et_event_t *ev)
{
    /* sc_et_rx_feed without a frame, written out: a tick only expires streams (UNLOCKED at
     * most, never DONE), and gcc -O3 inlining the feed here warned that the result it would
     * copy for a DONE may be uninitialised */
    evbuf_t e;
    if (!feed_running(rx, ev))
        return SC_ET_EV_NONE;
    sc_et_ev_none(&e);
    feed_expire(S(rx), now_ms, &e);
    if (ev)
        ev_fields(ev, &e);
    return e.type;
}

/* The channel of the lock with the most valid triplets; with pin_only, only among the locks
 * that still pin the channel search (see sc_et_rx_pinned_channel). */
SC_OUTLINE static uint8_t best_lock_channel(const rx_state_t *r, int pin_only, uint32_t now_ms)
{
    const stream_t *best = NULL;
    for (unsigned i = 0; i < RX_NSTREAMS; i++) {
        const stream_t *s = &r->st[i];
        if (s->state != ST_LOCKED || (best && s->good <= best->good))
            continue;
        uint32_t sup = s->u.clk.support_ms;
        int pinned = !pin_only || since(now_ms, sup) <= (int32_t)RX_PIN_MS;
        if (!pinned) {
            /* unsupported for a while: release only if the channel is alive (some stream on it
             * heard a frame since), a silent radio keeps the lock until it expires */
            pinned = 1;
            for (unsigned j = 0; j < RX_NSTREAMS; j++)
                if (r->st[j].state != ST_FREE && r->st[j].channel == s->channel &&
                    since(r->st[j].last_ms, sup) > (int32_t)RX_PIN_MS)
                    pinned = 0;
            /* a frame that opened no stream counts as one more stream's (opens_stream); its
             * time is kept modulo 2^16 ms: expire() forgets it after RX_QUIET_KEEP_MS, so only a
             * lock unsupported for over half a minute could misread it (either way) */
            if (r->quiet_channel == (uint8_t)(s->channel + 1u) &&
                (int16_t)(uint16_t)(r->quiet_ms16 - (uint16_t)sup) > (int16_t)RX_PIN_MS)
                pinned = 0;
        }
        if (pinned)
            best = s;
    }
    return best ? best->channel : 0;
}

uint8_t sc_et_rx_locked_channel(const sc_et_rx_t *rx)
{
    if (!rx || CS(rx)->magic != RX_MAGIC)
        return 0;
    return best_lock_channel(CS(rx), 0, 0);
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

/* Weaker than recent_activity: a guide step or any CRC-valid triplet under some offset was seen
 * on channel within the last within_ms (<= 30 s). Random traffic produces it now and then; a
 * sender in either phase produces it within a few datagrams. */
int sc_et_rx_candidate(const sc_et_rx_t *rx, uint8_t channel, uint32_t now_ms, uint32_t within_ms)
{
    if (!rx || CS(rx)->magic != RX_MAGIC || !channel)
        return 0;
    const rx_state_t *r = CS(rx);
    uint16_t age = (uint16_t)((uint16_t)now_ms - r->cand_ms16);
    return r->cand_channel == channel && within_ms <= 30000u && age <= within_ms;
}

/* Weaker still: some stream on channel heard a group-addressed data frame of an ESP-TOUCH
 * length (data or guide, under any accepted overhead) within the last within_ms. One frame of
 * a sender is enough, so a short glance at a channel can tell whether a full dwell is worth
 * it; foreign broadcasts cause it often. Reads the streams' state only. */
int sc_et_rx_heard(const sc_et_rx_t *rx, uint8_t channel, uint32_t now_ms, uint32_t within_ms)
{
    if (!rx || CS(rx)->magic != RX_MAGIC || !channel)
        return 0;
    const rx_state_t *r = CS(rx);
    const unsigned lo = SC_ET_EXTRA_LEN + r->omin, hi = SC_ET_GUIDE_BASE + 3u + r->omax;
    for (unsigned i = 0; i < RX_NSTREAMS; i++) {
        const stream_t *s = &r->st[i];
        if (s->state == ST_FREE || s->channel != channel || !s->nhist || since(now_ms, s->last_ms) < 0 ||
            since(now_ms, s->last_ms) > (int32_t)within_ms)
            continue;
        unsigned L = hist_at(s, 0);
        if (L >= lo && L <= hi)
            return 1;
    }
    return 0;
}

/* The channel of a lock that is still supported by guide frames or valid triplets within
 * RX_PIN_MS: a lock on random traffic (or on a sender that went away) stops pinning the radio
 * as soon as the channel's other traffic shows it is alive, instead of when it expires. */
uint8_t sc_et_rx_pinned_channel(const sc_et_rx_t *rx, uint32_t now_ms)
{
    if (!rx || CS(rx)->magic != RX_MAGIC)
        return 0;
    return best_lock_channel(CS(rx), 1, now_ms);
}
