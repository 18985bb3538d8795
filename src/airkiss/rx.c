/* SPDX-License-Identifier: Apache-2.0 */
/* AirKiss receiver (docs/protocol/airkiss.md, docs/receiver.md).
 *
 * A stream locks on the guide run (four frames of lengths O+1 .. O+4). Its symbols are then
 * read as chains: consecutive frames of the stream, proven consecutive by the 802.11 sequence
 * number where there is one. Four chained symbols with the magic or prefix tags give T and
 * CRC8(SSID), or P (checked by CRC8(P)); two chained sequence headers and the data symbols
 * after them give a block, accepted only if its 7-bit CRC over (index, bytes) holds. Blocks
 * vote per index across rounds and copies; nothing depends on the order of the phases. The
 * session completes only when every block has the length T implies and CRC8(SSID) matches
 * the magic, and, once the sender's frames showed changed lengths, every password block was
 * seen twice. All state is caller-owned. */
#include <string.h>

#include "../common/outline.h"
#include "../common/state.h"
#include "../rx/rxkey.h"
#include "ak_stream.h"
#include "smartcfg/airkiss.h"

#define AK_NST SC_RXTAB_AK_N /* the front reads the table too (sc_rxtab_hi) */
#define AK_NBLK 32            /* ceil(127 / 4) */
#define AK_SESSION_IDLE_MS 15000u
/* A lock that showed no progress (no magic, prefix or block: sc_rxhdr_t.prog) gives its slot to a
 * new opener after this long: a phone's guide field lasts 200 frames, then its magic comes */
#define AK_GRACE_MS 1500u
#define AK_KNOWN 2u
#define AK_CNT_MAX 3u
#define AK_USED 1u   /* ak_session_t.used: the slot holds a session */
#define AK_MARKED 2u /* the sender's frames came changed (changed_lengths, the header check) */

enum { P_NONE = 0, P_HDR1, P_BLOCK };

typedef struct {
    uint8_t sender[SC_MAC_LEN];
    uint8_t used;             /* AK_USED | AK_MARKED; AK_MARKED alone: a retired session's sender
                               * and its mark, for that sender's next run (sc_ak_rx_resume) */
    uint8_t t, c, mcnt;       /* magic: T, CRC8(SSID), vote count */
    uint8_t p, pcnt;          /* prefix */
    uint8_t blk[AK_NBLK];     /* (count << 3) | length; 0 = nothing. count 1: one sighting across
                               * a gap, 2: one proven sighting alone, 3: seen again (vote_block) */
    uint8_t msg[SC_AK_MSG_MAX + 1];
    uint32_t last_ms;
} ak_session_t;

typedef struct {
    ak_stream_t st[AK_NST];   /* first: a stream's address is its index times its size */
    uint32_t magic;
    sc_ak_rx_config_t cfg;
    uint8_t done, reported;
    ak_session_t ss;
    sc_ak_rx_stats_t stats;
} ak_state_t;

#define AK_MAGIC 0x414b5258u
_Static_assert(sizeof(ak_stream_t) == SC_RXTAB_AK_SIZE && offsetof(ak_state_t, st) == 0,
               "the table where the front reads it (rxkey.h)");

SC_STATE_FITS(ak_state_t, sc_ak_rx_t);

static ak_state_t *S(sc_ak_rx_t *rx) { return (ak_state_t *)(void *)rx->opaque; }
static const ak_state_t *CS(const sc_ak_rx_t *rx) { return (const ak_state_t *)(const void *)rx->opaque; }
static inline int32_t since(uint32_t now, uint32_t then) { return sc_ms_diff(now, then); }

sc_err_t sc_ak_rx_init(sc_ak_rx_t *rx, const sc_ak_rx_config_t *cfg)
{
    if (!rx)
        return SC_ERR_INVAL;
    memset(rx, 0, sizeof *rx);
    ak_state_t *r = S(rx);
    r->magic = AK_MAGIC;
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

void sc_ak_rx_reset(sc_ak_rx_t *rx)
{
    ak_state_t *r = S(rx);
    memset(r->st, 0, sizeof r->st);
    memset(&r->ss, 0, sizeof r->ss);
    r->done = 0;
    r->reported = 0;
}

sc_err_t sc_ak_rx_resume(sc_ak_rx_t *rx)
{
    ak_state_t *r = S(rx);
    if (!r->done)
        return SC_ERR_STATE;
    for (unsigned i = 0; i < AK_NST; i++)
        if (sc_rxhdr_from(&r->st[i].h, r->ss.sender))
            memset(&r->st[i], 0, sizeof r->st[i]);
    /* the votes go; whose they were and the mark stay for the sender's next run (session_claim) */
    uint8_t sender[SC_MAC_LEN], mark = (uint8_t)(r->ss.used & AK_MARKED);
    memcpy(sender, r->ss.sender, SC_MAC_LEN);
    memset(&r->ss, 0, sizeof r->ss);
    memcpy(r->ss.sender, sender, SC_MAC_LEN);
    r->ss.used = mark;
    r->done = 0;
    r->reported = 0;
    return SC_OK;
}

/* --- session ------------------------------------------------------------------------------ */
static unsigned blk_len(unsigned t, unsigned j) { return t - 4u * j < 4u ? t - 4u * j : 4u; }

/* The session of s's sender, or NULL: nothing claimed. A stream claims the session
 * (session_claim) only for something to vote (a magic, a prefix, a block past its CRC): a lock
 * is only a guide run, which anyone can send, and streams of such senders took the one session
 * at their first symbol and held it from the phone for AK_SESSION_IDLE_MS (docs/receiver.md §9).
 * A mark the stream showed before its sender had a session (ak_stream_t.mark) goes to it here. */
static ak_session_t *session_mine(ak_state_t *r, const ak_stream_t *s)
{
    ak_session_t *x = &r->ss;
    if (!(x->used & AK_USED) || !sc_rxhdr_from(&s->h, x->sender))
        return NULL;
    if (s->mark)
        x->used |= AK_MARKED;
    return x;
}

/* s's sender's session, claimed when none is (another sender's after AK_SESSION_IDLE_MS of no
 * vote), or NULL. */
static ak_session_t *session_claim(ak_state_t *r, const ak_stream_t *s, uint32_t now)
{
    ak_session_t *x = session_mine(r, s);
    if (x)
        return x;
    x = &r->ss;
    if ((x->used & AK_USED) && since(now, x->last_ms) < (int32_t)AK_SESSION_IDLE_MS)
        return NULL;
    /* a sender's mark outlives its session (sc_ak_rx_resume): its next run's frames come the
     * same way, and a session started afresh has not yet seen the chains that show it */
    unsigned mark = ((x->used & AK_MARKED) && sc_rxhdr_from(&s->h, x->sender)) || s->mark ? AK_MARKED : 0u;
    memset(x, 0, sizeof *x);
    x->used = (uint8_t)(AK_USED | mark);
    sc_rxhdr_unpack(s->h.ks, x->sender);
    x->last_ms = now;
    r->reported = 0;
    return x;
}

static unsigned known_bytes(const ak_session_t *x)
{
    unsigned n = 0;
    for (unsigned j = 0; j < AK_NBLK; j++)
        if ((x->blk[j] >> 3) >= AK_KNOWN)
            n += x->blk[j] & 7u;
    return n;
}

/* Every block waits for one more agreeing sighting (after a failed SSID CRC, or a new magic). */
static void soften(ak_session_t *x)
{
    for (unsigned j = 0; j < AK_NBLK; j++)
        if ((x->blk[j] >> 3) >= AK_KNOWN)
            x->blk[j] = (uint8_t)((1u << 3) | (x->blk[j] & 7u));
}

static int try_finish(ak_state_t *r, ak_session_t *x, const ak_stream_t *s, sc_ak_result_t *res)
{
    if (x->mcnt < AK_KNOWN || x->pcnt < AK_KNOWN)
        return 0;
    unsigned t = x->t, p = x->p;
    if (t < p + 2u || t - p - 1u > SC_SSID_MAX || p > SC_PASSWORD_MAX)
        return 0;
    for (unsigned j = 0; 4u * j < t; j++)
        if ((x->blk[j] >> 3) < AK_KNOWN || (x->blk[j] & 7u) != blk_len(t, j))
            return 0;
    /* Nothing but its 7-bit CRC checks a password block (the SSID's CRC8 covers the SSID's): in a
     * session whose frames came changed, each must have been seen twice. */
    if (x->used & AK_MARKED)
        for (unsigned j = 0; 4u * j < p; j++)
            if ((x->blk[j] >> 3) < AK_CNT_MAX)
                return 0;
    unsigned sl = t - p - 1u;
    if (sc_crc8(x->msg + p + 1u, sl) != x->c) {
        r->stats.bad_ssid_crc++;
        soften(x);
        return 0;
    }
    memset(res, 0, sizeof *res);
    memcpy(res->password, x->msg, p);
    res->password_len = (uint8_t)p;
    res->random = x->msg[p];
    memcpy(res->ssid, x->msg + p + 1u, sl);
    res->ssid_len = (uint8_t)sl;
    if (!(sc_rxhdr_flags(&s->h) & (SC_RXK_ETH | SC_RXK_LENONLY))) {
        sc_rxhdr_unpack(s->h.kb, res->bssid);
        res->has_bssid = 1;
    }
    res->channel = s->h.channel;
    res->offset = s->h.offset;
    memcpy(res->sender, x->sender, SC_MAC_LEN);
    return 1;
}

static void vote_block(ak_state_t *r, ak_session_t *x, unsigned j, const uint8_t *b, unsigned n, unsigned w)
{
    uint8_t *e = &x->blk[j];
    unsigned c = *e >> 3, len = *e & 7u;
    uint8_t *m = x->msg + 4u * j;
    if (4u * j + n > SC_AK_MSG_MAX)
        return;
    if (c == 0) {
        memcpy(m, b, n);
        *e = (uint8_t)((w << 3) | n);
    } else if (len == n && !memcmp(m, b, n)) {
        /* seen again: the top count, so that 2 means one proven sighting alone (block_end) */
        *e = (uint8_t)((AK_CNT_MAX << 3) | n);
    } else {
        r->stats.conflicts++;
        if (c > w) {
            *e = (uint8_t)(((c - w) << 3) | len);
        } else {
            memcpy(m, b, n);
            *e = (uint8_t)(((w - c) << 3) | n);
        }
    }
}

/* Magic and prefix: Boyer-Moore votes. A new magic softens the blocks (another message, or a
 * changed length in the magic: dropping them let a single sighting of a block with changed
 * lengths take the place of a block seen many times). */
static void vote_magic(ak_state_t *r, ak_session_t *x, unsigned t, unsigned c, unsigned w)
{
    if (x->mcnt && x->t == t && x->c == c) {
        x->mcnt = (uint8_t)(x->mcnt + w > AK_CNT_MAX ? AK_CNT_MAX : x->mcnt + w);
        return;
    }
    if (x->mcnt > w) {
        r->stats.conflicts++;
        x->mcnt = (uint8_t)(x->mcnt - w);
        return;
    }
    if (x->mcnt)
        soften(x);
    x->t = (uint8_t)t;
    x->c = (uint8_t)c;
    x->mcnt = (uint8_t)w;
}

static void vote_prefix(ak_state_t *r, ak_session_t *x, unsigned p, unsigned w)
{
    if (x->pcnt && x->p == p) {
        x->pcnt = (uint8_t)(x->pcnt + w > AK_CNT_MAX ? AK_CNT_MAX : x->pcnt + w);
        return;
    }
    if (x->pcnt > w) {
        r->stats.conflicts++;
        x->pcnt = (uint8_t)(x->pcnt - w);
        return;
    }
    x->p = (uint8_t)p;
    x->pcnt = (uint8_t)w;
}

/* --- streams ------------------------------------------------------------------------------ */
SC_OUTLINE static sc_rxtab_t table(const ak_state_t *r)
{
    /* a searching stream heard within 20 ms may be in the middle of its guide run */
    sc_rxtab_t t = { (void *)r->st, AK_NST, sizeof r->st[0], 20, AK_GRACE_MS, r->cfg.idle_unlock_ms };
    return t;
}

static void chain_reset(ak_stream_t *s)
{
    s->nwin = 0;
    s->winw = 0;
    s->prev = P_NONE;
}

/* A proven chain failed its CRC: the session's lengths came changed (lost frames make no proven
 * chain), and a block taken on one proven sighting alone may have passed its 7-bit CRC with some
 * (1 in 128), so each such block waits for one more agreeing sighting. The mark (try_finish)
 * covers the password blocks that come after. */
static void changed_lengths(ak_session_t *x)
{
    for (unsigned j = 0; j < AK_NBLK; j++)
        if ((x->blk[j] >> 3) == 2u)
            x->blk[j] = (uint8_t)(x->blk[j] - 8u);
    x->used |= AK_MARKED;
}

/* *xp: the stream's session, or NULL when it has none yet (claimed here for a block past its
 * CRC). A failing proven chain of a stream without a session marks the stream (ak_stream_t.mark),
 * and its session when it claims one. */
static int block_end(ak_state_t *r, ak_session_t **xp, ak_stream_t *s, unsigned w, uint32_t now)
{
    ak_session_t *x = *xp;
    s->prev = P_NONE;
    if (s->bn == 0 || s->bj >= AK_NBLK)
        return 0;
    if (x && x->mcnt >= AK_KNOWN && s->bn != blk_len(x->t, s->bj))
        return 0;
    uint8_t buf[5];
    buf[0] = s->bj;
    memcpy(buf + 1, s->bbytes, s->bn);
    if ((sc_crc8(buf, s->bn + 1u) & 0x7Fu) != s->bcrc) {
        if (!x) {
            if (w == 2u)
                s->mark = 1;
            return 0;
        }
        r->stats.bad_crc++;
        if (w == 2u)
            changed_lengths(x);
        return 0;
    }
    if (!x && !(x = *xp = session_claim(r, s, now)))
        return 0;
    r->stats.blocks_ok++;
    vote_block(r, x, s->bj, s->bbytes, s->bn, w);
    return 1;
}

/* w: 2 when this symbol provably follows the previous one of the stream (sequence number + 1),
 * else 1. A gap is usually other traffic of the same transmitter (invisible here); it may also
 * be a lost symbol, so whatever spans it needs a second agreeing sighting. */
static sc_et_event_type_t stream_symbol(ak_state_t *r, ak_stream_t *s, unsigned x, unsigned w, uint32_t now,
                                        sc_ak_result_t *res)
{
    ak_session_t *ss = session_mine(r, s);
    int changed = 0;
    if (x < 128u) {
        if (s->prev == P_BLOCK)
            changed |= block_end(r, &ss, s, s->bw, now);
        s->prev = P_NONE;
        if (s->nwin == 3) {
            const uint8_t *v = s->win;
            /* the window's weight: every later symbol of it proven consecutive */
            unsigned ww = (w == 2u && (s->winw & 6u) == 6u) ? 2u : 1u;
            if (v[0] < 16u && (v[1] >> 4) == 1u && (v[2] >> 4) == 2u && (x >> 4) == 3u) {
                /* the first nibble is sent as 8 when it is 0 */
                unsigned th = v[0] == 8u ? 0u : v[0];
                if (th < 8u && (ss || (ss = session_claim(r, s, now)))) {
                    vote_magic(r, ss, (th << 4) | (v[1] & 15u), ((v[2] & 15u) << 4) | (x & 15u), ww);
                    changed = 1;
                }
            } else if ((v[0] >> 4) == 4u && (v[1] >> 4) == 5u && (v[2] >> 4) == 6u && (x >> 4) == 7u) {
                uint8_t p = (uint8_t)(((v[0] & 15u) << 4) | (v[1] & 15u));
                if (sc_crc8(&p, 1) == (((v[2] & 15u) << 4) | (x & 15u)) && (ss || (ss = session_claim(r, s, now)))) {
                    vote_prefix(r, ss, p, ww);
                    changed = 1;
                }
            }
        }
        if (s->nwin == 3) {
            s->win[0] = s->win[1];
            s->win[1] = s->win[2];
            s->winw = (uint8_t)((s->winw >> 1) & 3u);
            s->nwin = 2;
        }
        s->winw = (uint8_t)(s->winw | ((w == 2u ? 1u : 0u) << s->nwin));
        s->win[s->nwin++] = (uint8_t)x;
    } else if (x < 256u) {
        s->nwin = 0;
        s->winw = 0;
        if (s->prev == P_BLOCK) {
            changed |= block_end(r, &ss, s, s->bw, now);
        }
        if (s->prev == P_HDR1) {
            if (w < s->bw)
                s->bw = (uint8_t)w;
            s->bcrc = (uint8_t)(s->prev_val & 0x7Fu);
            s->bj = (uint8_t)(x & 0x7Fu);
            s->bn = 0;
            s->prev = P_BLOCK;
        } else {
            s->prev = P_HDR1;
            s->prev_val = (uint8_t)x;
            s->bw = 2; /* the block's first symbol: what came before does not matter */
        }
    } else {
        s->nwin = 0;
        s->winw = 0;
        if (s->prev == P_BLOCK && s->bn < 4u) {
            if (w < s->bw)
                s->bw = (uint8_t)w;
            s->bbytes[s->bn++] = (uint8_t)x;
            unsigned need = ss && ss->mcnt >= AK_KNOWN && s->bj < AK_NBLK && 4u * s->bj < ss->t ? blk_len(ss->t, s->bj) : 4u;
            if (s->bn >= need)
                changed |= block_end(r, &ss, s, s->bw, now);
        } else {
            s->prev = P_NONE;
        }
    }
    if (!changed || !ss)
        return SC_ET_EV_NONE;
    s->h.prog = 1; /* the stream keeps its slot (sc_rxtab_victim) */
    ss->last_ms = now;
    if (try_finish(r, ss, s, res)) {
        r->done = 1;
        return SC_ET_EV_DONE;
    }
    uint8_t k = (uint8_t)known_bytes(ss);
    if (k != r->reported) {
        r->reported = k;
        return SC_ET_EV_PROGRESS;
    }
    return SC_ET_EV_NONE;
}

/* --- the lock on the magic field ------------------------------------------------------------
 * A device that tunes in after the guide run (a hopper that reached the phone's channel late,
 * or one that starts in the middle of a round) waited a whole round (4 s and more) for the next
 * one, though the magic field comes right after the guide, 20 times back to back, and the
 * prefix right after it. The magic leaves the overhead O open by up to 8 values (its first
 * symbol is 1..8, the others a tag and a nibble); the prefix's check (tags 4..7, Q = CRC8(P))
 * fixes it. A searching stream whose four newest lengths, proven consecutive, are a magic field
 * under some O has seen it (SC_RXS_AK_SEEN: from then on the decoder gets its every frame, and
 * its own history of lengths, rh, spans sequence gaps: the relay copy's numbers have one for
 * every other frame the AP sends, and the lengths are ordered by their tags, so a lost frame
 * makes no such quartet). The same four lengths again, and the first of them as the frame right
 * after a sighting (within 10 ms: the field repeats every four frames, 5 ms apart; a prefix,
 * which is also a magic under an O 57..79 higher, is followed by a sequence header, and a
 * changed length is not seen twice), arm it (SC_RXS_AK_ARMED). Four frames that are then a
 * prefix with a valid CRC under exactly one O the magic allows, with T and P that make a
 * message, lock it under that O, and the magic and the prefix are voted as a chain after a
 * guide lock would vote them. Where two O fit (at most a 1 in 32 chance) nothing locks: the
 * prefix comes again with every block round. Everything after the lock is checked as after a
 * guide lock (block CRCs, lengths, CRC8(SSID)). */
#define AK_MG_SEEN 3u     /* ak_stream_t.mgn: how often the magic was seen, at most 2 */
#define AK_MG_PERIODIC 4u /* ... and its first symbol came again right after it */
#define AK_MG_KEEP_MS 100u /* a magic not yet armed is kept this long after its last sighting (it
                           * repeats every 20 ms) */
#define AK_ARMED_MS 2000u /* the prefix comes right after the magic, and again every block round */

/* The overheads under which lengths a, b, c, d (consecutive) are symbols of tags base, base +
 * 16, base + 32, base + 48 (the first 1..8 above its tag for the magic, 0..15 for the prefix),
 * within the decoder's range: *lo .. *hi; 0 when none. */
static int tag_range(const ak_state_t *r, unsigned a, unsigned b, unsigned c, unsigned d, unsigned base,
                     unsigned first_lo, unsigned first_hi, int *lo, int *hi)
{
    int l = (int)a - (int)(base + first_hi), h = (int)a - (int)(base + first_lo);
    const unsigned x[3] = { b, c, d };
    for (unsigned i = 0; i < 3; i++) {
        int t = (int)(base + 16u * (i + 1u));
        if ((int)x[i] - t - 15 > l)
            l = (int)x[i] - t - 15;
        if ((int)x[i] - t < h)
            h = (int)x[i] - t;
    }
    if (l < (int)r->cfg.offset_min)
        l = (int)r->cfg.offset_min;
    if (h > (int)r->cfg.offset_max)
        h = (int)r->cfg.offset_max;
    *lo = l;
    *hi = h;
    return l <= h;
}

/* Whether lengths a, b, c, d are the magic field m (ak_stream_t.mg0, mgd). */
static int same_magic(const ak_stream_t *s, unsigned a, unsigned b, unsigned c, unsigned d)
{
    return s->mg0 == a && s->mgd[0] == b - a && s->mgd[1] == c - b && s->mgd[2] == d - c;
}

/* Lengths a, b, c, d (consecutive) become s's magic field, seen once. */
static void magic_note(ak_stream_t *s, unsigned a, unsigned b, unsigned c, unsigned d)
{
    s->mg0 = (uint16_t)a;
    s->mgd[0] = (uint8_t)(b - a);
    s->mgd[1] = (uint8_t)(c - b);
    s->mgd[2] = (uint8_t)(d - c);
    s->mgn = 1;
}

/* s is not locked. Searching: its newest four lengths, h0 and s->hist, are consecutive and may
 * be a magic field. Seen or armed: s->hist[2] is the newest length, any frame. */
static SC_NOINLINE sc_et_event_type_t magic_search(ak_state_t *r, ak_stream_t *s, unsigned h0, int use_seq,
                                                    uint32_t now, sc_ak_result_t *res)
{
    int lo, hi;
    if (s->h.state == SC_RXS_SEARCH) {
        /* the first sighting: on frames proven consecutive, from then on any */
        if (!h0 || !tag_range(r, h0, s->hist[0], s->hist[1], s->hist[2], 0u, 1u, 8u, &lo, &hi))
            return SC_ET_EV_NONE;
        magic_note(s, h0, s->hist[0], s->hist[1], s->hist[2]);
        memcpy(s->rh, s->hist, sizeof s->rh);
        s->h.state = SC_RXS_AK_SEEN;
        s->h.lock_ms = now; /* when it was last seen (a searching AirKiss stream does not read it) */
        return SC_ET_EV_NONE;
    }
    const unsigned a = s->rh[0], b = s->rh[1], c = s->rh[2], d = s->hist[2];
    s->rh[0] = (uint16_t)b;
    s->rh[1] = (uint16_t)c;
    s->rh[2] = (uint16_t)d;
    if (since(now, s->h.lock_ms) >= (int32_t)(s->h.state == SC_RXS_AK_ARMED ? AK_ARMED_MS : AK_MG_KEEP_MS)) {
        s->h.state = SC_RXS_SEARCH; /* no prefix came, or the magic not again: it is forgotten */
        s->mgn = 0;
        return SC_ET_EV_NONE;
    }
    if (s->h.state == SC_RXS_AK_SEEN && d == s->mg0 && since(now, s->h.lock_ms) <= 10) {
        s->mgn |= AK_MG_PERIODIC; /* the magic's first symbol again, right after it */
        if ((s->mgn & AK_MG_SEEN) >= 2u) {
            s->h.state = SC_RXS_AK_ARMED;
            s->h.lock_ms = now; /* when it was armed */
        }
        return SC_ET_EV_NONE;
    }
    /* armed: a prefix under an overhead the magic allows, its CRC valid, and exactly one O */
    if (s->h.state == SC_RXS_AK_ARMED) {
        if (!tag_range(r, a, b, c, d, 64u, 0u, 15u, &lo, &hi))
            return SC_ET_EV_NONE;
        const unsigned m0 = s->mg0, m1 = m0 + s->mgd[0], m2 = m1 + s->mgd[1], m3 = m2 + s->mgd[2];
        int mlo, mhi;
        if (!tag_range(r, m0, m1, m2, m3, 0u, 1u, 8u, &mlo, &mhi))
            return SC_ET_EV_NONE;
        if (lo < mlo)
            lo = mlo;
        if (hi > mhi)
            hi = mhi;
        int found = -1;
        unsigned ft = 0, fc = 0, fp = 0;
        for (int o = lo; o <= hi; o++) {
            const unsigned u = (unsigned)o;
            uint8_t p = (uint8_t)(((a - u - 64u) << 4) | (b - u - 80u));
            unsigned q = ((c - u - 96u) << 4) | (d - u - 112u);
            unsigned th = m0 - u == 8u ? 0u : m0 - u;
            unsigned t = (th << 4) | (m1 - u - 16u);
            if (sc_crc8(&p, 1) != q || t < p + 2u || t - p - 1u > SC_SSID_MAX || p > SC_PASSWORD_MAX)
                continue;
            if (found >= 0)
                return SC_ET_EV_NONE; /* two overheads fit: wait for the next prefix */
            found = o;
            ft = t;
            fc = ((m2 - u - 32u) << 4) | (m3 - u - 48u);
            fp = p;
        }
        if (found < 0)
            return SC_ET_EV_NONE;
        s->h.state = SC_RXS_LOCKED;
        s->h.offset = (uint16_t)found;
        s->h.lock_ms = now;
        chain_reset(s); /* the chain parser's fields: the union held the search's */
        r->stats.locks++;
        ak_session_t *x = session_claim(r, s, now);
        if (x) {
            /* as a chain after a guide lock: at once with sequence numbers, else a second sighting */
            unsigned w = use_seq ? 2u : 1u;
            vote_magic(r, x, ft, fc, w);
            vote_prefix(r, x, fp, w);
            x->last_ms = now;
            s->h.prog = 1;
        }
        res->offset = s->h.offset;
        return SC_ET_EV_LOCKED;
    }
    if (tag_range(r, a, b, c, d, 0u, 1u, 8u, &lo, &hi)) {
        if (same_magic(s, a, b, c, d)) {
            s->mgn = (uint8_t)((s->mgn & AK_MG_PERIODIC) | 2u); /* the same magic again */
        } else {
            magic_note(s, a, b, c, d); /* another magic (or this one changed) */
        }
        s->h.lock_ms = now; /* when it was last seen */
        if (s->mgn == (AK_MG_PERIODIC | 2u))
            s->h.state = SC_RXS_AK_ARMED;
    }
    return SC_ET_EV_NONE;
}

/* The frame's stream (rxkey.h): the walk inlined, and a table built only for a length that may
 * open a guide run (the only place that range is written). NULL for none and for a retransmission of the stream's last frame. */
static ak_stream_t *stream_for(ak_state_t *r, const sc_rxkey_t *k, uint32_t now)
{
    sc_rxhdr_t *h = sc_rxtab_match(r->st, AK_NST, sizeof r->st[0], k);
    if (h)
        return sc_rxhdr_repeat(h, k) ? NULL : (ak_stream_t *)(void *)h;
    if (k->len < (uint16_t)(r->cfg.offset_min + 1u) || k->len > (uint16_t)(r->cfg.offset_max + 4u))
        return NULL;
    sc_rxtab_t t = table(r);
    return (ak_stream_t *)(void *)sc_rxtab_open(&t, k, now);
}

sc_et_event_type_t sc_ak_rx_feed_key(sc_ak_rx_t *rx, const sc_rxkey_t *k, uint32_t now_ms, sc_ak_result_t *res)
{
    ak_state_t *r = S(rx);
    /* The magic and done are the public feed's to test, and so is a frame without a key: the
     * front initialised the decoder and feeds none after a DONE (its run word stands for
     * both), and keys every frame it passes (two tests fewer per call, docs/m4.md). */
    r->stats.frames++;
    ak_stream_t *s = stream_for(r, k, now_ms);
    if (!s)
        return SC_ET_EV_NONE;
    int use_seq = k->has_seq && s->h.has_seq;
    int contig = !use_seq || ((k->seq - s->h.seq) & 0x0FFFu) == 1u;
    sc_rxhdr_note(&s->h, k, k->channel, now_ms);
    uint16_t len = k->len;
    const unsigned h0 = s->hist[0]; /* the fourth newest length (magic_search) */
    /* the guide run: O+1, O+2, O+3, O+4 on consecutive frames (the step from the newest length
     * first: most frames fail it, and the overhead range is then not loaded) */
    int guide = s->hist[2] + 1u == len && s->hist[1] + 2u == len && h0 + 3u == len && contig &&
                len >= r->cfg.offset_min + 4u && len <= r->cfg.offset_max + 4u;
    s->hist[0] = s->hist[1];
    s->hist[1] = s->hist[2];
    s->hist[2] = len;
    if (guide && (s->h.state != SC_RXS_LOCKED || s->h.offset != len - 4u)) {
        s->h.state = SC_RXS_LOCKED;
        s->h.offset = (uint16_t)(len - 4u);
        s->h.lock_ms = now_ms;
        chain_reset(s);
        r->stats.locks++;
        res->offset = s->h.offset; /* a lock's overhead, as DONE's (airkiss.h) */
        return SC_ET_EV_LOCKED;
    }
    if (!contig)
        s->hist[0] = s->hist[1] = 0; /* a guide run must be consecutive */
    if (s->h.state != SC_RXS_LOCKED) {
        /* four consecutive lengths whose last is 40..62 above the first and whose second is
         * 1..30 above it may be a magic field; a stream that saw one gives every frame */
        if (s->h.state != SC_RXS_SEARCH ||
            (contig && (unsigned)(len - h0 - 40u) <= 22u && (unsigned)(s->hist[0] - h0 - 1u) <= 29u))
            return magic_search(r, s, h0, use_seq, now_ms, res);
        return SC_ET_EV_NONE;
    }
    /* Three frames proven consecutive (hist[0] is kept only then) whose middle one is a sequence
     * header and the others not, or all three headers: the phone sends headers in pairs, so a
     * length was changed. It marks the session (try_finish), as a failing proven chain does;
     * sending its blocks back too (changed_lengths) cost more and caught no more. */
    unsigned hdr = s->h.offset + 128u; /* a header's lengths: hdr .. hdr + 127 */
    if ((unsigned)(s->hist[1] - hdr) < 128u && s->hist[0] && use_seq) {
        if (((unsigned)(s->hist[0] - hdr) < 128u) == ((unsigned)(len - hdr) < 128u)) {
            ak_session_t *x = session_mine(r, s);
            if (x)
                x->used |= AK_MARKED;
            else
                s->mark = 1; /* for the session it claims (session_claim) */
        }
    }
    if (len <= s->h.offset || (unsigned)(len - s->h.offset) >= 512u) {
        chain_reset(s);
        return SC_ET_EV_NONE;
    }
    return stream_symbol(r, s, (unsigned)(len - s->h.offset), use_seq && contig ? 2u : 1u, now_ms, res);
}

sc_et_event_type_t sc_ak_rx_feed(sc_ak_rx_t *rx, const sc_frame_t *f, uint32_t now_ms, sc_ak_result_t *res)
{
    sc_rxkey_t k;
    if (!rx || !f || S(rx)->magic != AK_MAGIC || S(rx)->done)
        return SC_ET_EV_NONE;
    if (!sc_rxkey(f, &k)) {
        S(rx)->stats.frames++; /* a frame no stream can use: only counted */
        return SC_ET_EV_NONE;
    }
    sc_ak_result_t tmp; /* the keyed feed writes its result (rxkey.h) */
    return sc_ak_rx_feed_key(rx, &k, now_ms, res ? res : &tmp);
}

sc_et_event_type_t sc_ak_rx_tick(sc_ak_rx_t *rx, uint32_t now_ms)
{
    ak_state_t *r = S(rx);
    if (r->magic != AK_MAGIC || r->done)
        return SC_ET_EV_NONE;
    sc_rxtab_t t = table(r);
    sc_et_event_type_t ev = sc_rxtab_expire(&t, now_ms) ? SC_ET_EV_UNLOCKED : SC_ET_EV_NONE;
    if ((r->ss.used & AK_USED) && since(now_ms, r->ss.last_ms) >= (int32_t)AK_SESSION_IDLE_MS) {
        memset(&r->ss, 0, sizeof r->ss);
        r->reported = 0;
    }
    return ev;
}

uint8_t sc_ak_rx_locked_channel(const sc_ak_rx_t *rx)
{
    sc_rxtab_t t = table(CS(rx));
    return sc_rxtab_locked_channel(&t);
}

sc_rxsum_t sc_ak_rx_senders(const sc_ak_rx_t *rx)
{
    return sc_rxsum_of(CS(rx)->st, AK_NST, sizeof CS(rx)->st[0], 0);
}

sc_rxsum_t sc_ak_rx_locked_senders(const sc_ak_rx_t *rx)
{
    return sc_rxsum_of(CS(rx)->st, AK_NST, sizeof CS(rx)->st[0], 1);
}

void sc_ak_rx_progress(const sc_ak_rx_t *rx, uint8_t *known, uint8_t *needed)
{
    const ak_state_t *r = CS(rx);
    if (known)
        *known = (uint8_t)known_bytes(&r->ss);
    if (needed)
        *needed = r->ss.mcnt >= AK_KNOWN ? r->ss.t : 0u;
}

void sc_ak_rx_stats(const sc_ak_rx_t *rx, sc_ak_rx_stats_t *out)
{
    *out = CS(rx)->stats;
}

/* --- channel search (sc_chansearch_step_rx) ----------------------------------------------
 * Read-only: nothing on the per-frame path. A stream opens only on a frame of a guide length
 * (offset + 1..4), and hist[1] is nonzero only after two frames of it proven consecutive by
 * their sequence numbers (a gap clears the history): a sender every 5 ms gives that within a
 * dwell, a foreign station's broadcasts, interleaved with its other frames, rarely do. */
int sc_ak_rx_candidate(const sc_ak_rx_t *rx, uint8_t channel, uint32_t now_ms, uint32_t within_ms)
{
    const ak_state_t *r = CS(rx);
    if (r->magic != AK_MAGIC || !channel)
        return 0;
    for (unsigned i = 0; i < AK_NST; i++) {
        const ak_stream_t *s = &r->st[i];
        if (sc_rxhdr_heard(&s->h, channel, now_ms, within_ms) && (s->hist[1] || s->h.state == SC_RXS_LOCKED))
            return 1;
    }
    return 0;
}
