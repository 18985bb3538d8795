/* SPDX-License-Identifier: Apache-2.0 */
/* AirKiss receiver: its stream, shared by the decoder (rx.c) and the receiver front
 * (src/rx/receiver.c), which notes a searching stream's plain frames itself (ak_plain_len,
 * ak_plain_note). */
#ifndef SC_AK_STREAM_H
#define SC_AK_STREAM_H

#include "../rx/rxkey.h"

typedef struct {
    sc_rxhdr_t h;              /* first: the stream table helpers (rxkey.h) walk it */
    uint16_t hist[3];
    union {
        struct { /* locked: the chain parser (rx.c) */
            uint8_t win[3];   /* the last chained symbols below 128, newest last */
            uint8_t nwin;
            uint8_t winw;     /* bit k: win[k] came right after its predecessor (by sequence number) */
            uint8_t bw;       /* weight of the block being read: 2 proven consecutive, else 1 */
            uint8_t prev, prev_val; /* block parser */
            uint8_t bj, bcrc, bn;
            uint8_t bbytes[4];
        };
        struct { /* not locked: the magic field's search (rx.c, magic_search) */
            uint16_t rh[3];   /* once a magic was seen: the lengths before the newest, newest
                               * last; unlike hist, a gap in the sequence numbers does not clear
                               * them (every frame of such a stream goes to the decoder) */
            uint16_t mg0;     /* a magic field's first length */
            uint8_t mgd[3];   /* the steps from each of its lengths to the next */
            uint8_t mgn;      /* how often it was seen (1, 2; h.lock_ms: when last), and 4 once
                               * its first symbol came again right after it (AK_MG_* in rx.c) */
        };
    };
    uint8_t mark;             /* a changed length showed before the stream had a session (rx.c) */
} ak_stream_t;

/* An AirKiss stream that saw a magic field (SEEN), or saw it twice and its first symbol come
 * again right after it, and waits for the prefix that gives its overhead (ARMED; rx.c,
 * magic_search): not locked, and not a plain searching stream either (the decoder gets its every
 * frame); the stream table treats it as searching (sc_rxtab_victim). */
#define SC_RXS_AK_SEEN 3u
#define SC_RXS_AK_ARMED 4u

/* Whether a frame of length len is a plain frame of stream s: the stream is searching and len
 * does not follow its newest length by one, so the frame ends no guide run (sc_ak_rx_feed_key
 * tests nothing else on a searching stream) and can only move the stream's clock and history.
 * The receiver front notes such frames itself (ak_plain_note) without the decoder's call
 * (docs/m4.md, branch pf14). */
static SC_RX_INLINE int ak_plain_len(const ak_stream_t *s, unsigned len)
{
    return s->h.state == SC_RXS_SEARCH && s->hist[2] + 1u != len;
}
/* A plain frame k of s (ak_plain_len, and s is k's stream) noted and pushed, exactly as the
 * decoder's feed would: a retransmission of the stream's last frame changes nothing, and a gap
 * in the sequence numbers clears the older lengths (a guide run must be consecutive). */
static SC_RX_INLINE void ak_plain_note(ak_stream_t *s, const sc_rxkey_t *k, uint32_t now)
{
    if (sc_rxhdr_repeat(&s->h, k))
        return;
    int contig = !(k->has_seq && s->h.has_seq) || ((k->seq - s->h.seq) & 0x0FFFu) == 1u;
    sc_rxhdr_note(&s->h, k, k->channel, now);
    s->hist[0] = contig ? s->hist[1] : 0u;
    s->hist[1] = contig ? s->hist[2] : 0u;
    s->hist[2] = k->len;
}

#endif
