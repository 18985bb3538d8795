/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v2 receiver: its stream, shared by the decoder (v2_rx.c) and the receiver front
 * (src/rx/receiver.c), which notes a searching stream's plain frames itself (v2_plain_len, v2_plain_note). */
#ifndef SC_ET2_STREAM_H
#define SC_ET2_STREAM_H

#include "../rx/rxkey.h"
#include "smartcfg/esptouch_v2.h"

/* A group's plane 7 (lengths 960..1023 above the overhead) and the next group's first marker
 * (128..167) one datagram later: the marker is this much shorter, whatever the overhead */
#define V2_STEP_LO (0x3C0u - (SC_ET2_SEQ_BASE + SC_ET2_MAX_GROUPS - 2u))
#define V2_STEP_SPAN (0x3FFu - SC_ET2_SEQ_BASE - V2_STEP_LO)
#define V2_STEP_MIN_MS 12u     /* the sender's 15 ms gap, less the AP's relay jitter ... */
#define V2_STEP_MAX_MS 17u     /* ... and plus it */
/* A searching stream tests its newest frame against the one before as a pair (stream_search)
 * only when that one lies from a SYNC under offset_min to a COUNT (or a partial head's) under
 * offset_max: SC_ET2_SYNC + offset_min .. SC_ET2_SYNC + offset_max + V2_PAIR_SPAN. */
#define V2_PAIR_SPAN (23u + SC_ET2_MAX_GROUPS)

typedef struct {
    sc_rxhdr_t h;              /* first: the stream table helpers (rxkey.h) walk it */
    uint16_t hist[3];          /* newest last */
    uint16_t cand_l, cand_m;   /* a SYNC/COUNT pair seen once (needs a second sighting) */
    uint16_t aseq;             /* sequence number of the anchor */
    uint8_t anchor, slot, aplane, since;
    uint8_t n;                 /* N from this stream's COUNT */
    uint8_t sure;              /* the anchor's slot is proven (see stream_data) */
    uint8_t prevmk;            /* slot + 1 when this stream's previous frame was a marker, else 0 */
    uint8_t ncand;             /* a COUNT's N that differed from n, seen once */
    uint16_t step_ms16;        /* searching: when plane 7 and the next marker came (low 16 bits
                                  of the ms clock, | 1; 0 = never): sc_et2_rx_candidate */
    uint8_t tent;              /* locked on three of the head's four frames (head_partial): offset
                                  and N rest on one frame seen once, until a header plane agrees */
} v2_stream_t;
/* step_ms16 and tent sit in what was the stream's tail padding: the state keeps its size */
_Static_assert(sizeof(v2_stream_t) == 56, "v2_stream_t grew");

static SC_RX_INLINE void v2_hist_push(v2_stream_t *s, uint16_t len)
{
    s->hist[0] = s->hist[1];
    s->hist[1] = s->hist[2];
    s->hist[2] = len;
}

/* Whether a frame of length len is a plain frame of stream s: one that can do nothing but move
 * the stream's clock and history. So it is when the stream is searching, its newest length lies
 * less than V2_STEP_LO above this one (no plane-7 step, sc_et2_rx_feed_key), and stream_search
 * would test nothing that can pass: the newest length starts no pair (outside SC_ET2_SYNC +
 * offset_min .. + offset_max + V2_PAIR_SPAN), or it does, but this one is no COUNT for it
 * (pair_ok: a SYNC, then 24..23 + SC_ET2_MAX_GROUPS longer) and no plane 0 under the offset of
 * the stream's pair (64..127 above cand_l - SC_ET2_SYNC; never with cand_l 0). Most frames of
 * the foreign senders' searching streams are plain, and the receiver front notes them itself
 * (v2_plain_note) without the decoder's call (docs/m4.md, branch pf14). */
static SC_RX_INLINE int v2_plain_len(const v2_stream_t *s, unsigned len, unsigned offset_min, unsigned offset_max)
{
    unsigned p = s->hist[2];
    return s->h.state == SC_RXS_SEARCH && p - len - V2_STEP_LO > V2_STEP_SPAN &&
           (p - (SC_ET2_SYNC + offset_min) > offset_max - offset_min + V2_PAIR_SPAN || /* (most frames) */
            ((p > SC_ET2_SYNC + offset_max || len - p - 24u > SC_ET2_MAX_GROUPS - 1u) &&
             len + SC_ET2_SYNC - s->cand_l - 64u >= 64u));
}

/* A plain frame k of s (v2_plain_len, and s is k's stream) noted and pushed, exactly as the
 * decoder's feed would (a retransmission of the stream's last frame changes nothing there). */
static SC_RX_INLINE void v2_plain_note(v2_stream_t *s, const sc_rxkey_t *k, uint32_t now)
{
    if (sc_rxhdr_repeat(&s->h, k))
        return;
    sc_rxhdr_note(&s->h, k, k->channel, now);
    v2_hist_push(s, k->len);
}

#endif
