/* SPDX-License-Identifier: Apache-2.0 */
/* Stream keying shared by the ESP-TOUCH v2 and AirKiss receivers: which frames can carry a
 * provisioning datagram, who sent them behind which AP, and their length with the variable
 * parts of the 802.11 header (HT Control) taken out. */
#ifndef SC_RXKEY_H
#define SC_RXKEY_H

#include <string.h>

#include "smartcfg/esptouch.h"

enum {
    SC_RXK_TODS = 1u, SC_RXK_FROMDS = 2u, SC_RXK_QOS = 4u, SC_RXK_PROT = 8u,
    SC_RXK_ETH = 16u, SC_RXK_LENONLY = 32u, SC_RXK_AMSDU = 64u,
};

typedef struct {
    uint64_t ks, kb;                /* the phone (transmitter ToDS, source FromDS) + flags, and the
                                       BSSID, packed: one compare each per stream */
    uint8_t flags;                  /* SC_RXK_*: frames with other flags have another overhead */
    uint8_t has_seq;
    uint8_t retry;
    uint16_t seq;                   /* 12-bit sequence number */
    uint16_t len;                   /* frame length without an HT Control field */
} sc_rxkey_t;

enum { SC_RXS_FREE = 0, SC_RXS_SEARCH, SC_RXS_LOCKED };

/* Stream header every per-protocol stream starts with (its first member, so a decoder's
 * stream table can be walked by the helpers below whatever the rest of its streams hold). */
typedef struct {
    uint64_t ks, kb;                /* as in sc_rxkey_t: sender and flags, BSSID */
    uint32_t last_ms;               /* when the stream was last heard */
    uint16_t seq;                   /* last sequence number seen on this stream */
    uint16_t offset;                /* the stream's overhead, once locked */
    uint8_t has_seq;
    uint8_t state;                  /* SC_RXS_* */
    uint8_t channel;                /* where it was last heard */
} sc_rxhdr_t;

/* A decoder's stream table: n streams of `size` bytes each, every one starting with its
 * sc_rxhdr_t. The lengths a new stream may open with and how long a lock survives silence are
 * the decoder's; search_quiet_ms > 0 protects a searching stream heard that recently from
 * being replaced (AirKiss's guide run is short, so a burst of foreign openers must not evict
 * it mid-run). */
typedef struct {
    void *st;
    uint16_t n, size;
    uint16_t open_min, open_max;    /* frame lengths that may open a stream */
    uint16_t search_quiet_ms;
    uint32_t idle_unlock_ms;
} sc_rxtab_t;

/* The stream frame k belongs to, or a fresh one when its length may open one (a free slot,
 * else the least recently heard searching or silent locked stream). NULL when there is none,
 * and for a retransmission of the stream's last frame. Does not note the frame (see below). */
sc_rxhdr_t *sc_rxtab_find(const sc_rxtab_t *t, const sc_rxkey_t *k, uint32_t now);
/* The frame is the stream's newest: sequence number, time, channel. */
static inline void sc_rxhdr_note(sc_rxhdr_t *h, const sc_rxkey_t *k, uint8_t channel, uint32_t now)
{
    h->seq = k->seq;
    h->has_seq = k->has_seq;
    h->last_ms = now;
    h->channel = channel;
}
/* Frees the locks silent for idle_unlock_ms or longer: 1 when it freed one. */
int sc_rxtab_expire(const sc_rxtab_t *t, uint32_t now);
/* The channel of a locked stream (0 = none). */
uint8_t sc_rxtab_locked_channel(const sc_rxtab_t *t);

/* 1 when f can carry a provisioning datagram (group-addressed data, not a fragment, not WDS,
 * not a null/no-data subtype); fills k. */
int sc_rxkey(const sc_frame_t *f, sc_rxkey_t *k);

static inline void sc_rxhdr_unpack(uint64_t v, uint8_t m[SC_MAC_LEN])
{
    /* the inverse of sc_rxkey's packing: MAC bytes 0..3 in bits 0..31, 4..5 in 32..47 */
    uint32_t lo = (uint32_t)v;
    uint16_t hi = (uint16_t)(v >> 32);
    memcpy(m, &lo, 4);
    memcpy(m + 4, &hi, 2);
}
static inline unsigned sc_rxhdr_flags(const sc_rxhdr_t *h) { return (unsigned)(h->ks >> 48) & 0xFFu; }
/* 1 when the stream's sender is mac */
static inline int sc_rxhdr_from(const sc_rxhdr_t *h, const uint8_t mac[SC_MAC_LEN])
{
    uint8_t m[SC_MAC_LEN];
    sc_rxhdr_unpack(h->ks, m);
    return !memcmp(m, mac, SC_MAC_LEN);
}

static inline int sc_rxhdr_match(const sc_rxhdr_t *h, const sc_rxkey_t *k)
{
    return h->ks == k->ks && h->kb == k->kb;
}

/* Frames since the last one seen on the stream, by sequence number: 1 = nothing lost or
 * interleaved; 0 = unknown (no sequence numbers). */
static inline unsigned sc_rxhdr_gap(const sc_rxhdr_t *h, const sc_rxkey_t *k)
{
    if (!h->has_seq || !k->has_seq)
        return 0;
    return (unsigned)((k->seq - h->seq) & 0x0FFFu);
}

/* The decoders' entry points for a frame the front has keyed already (one sc_rxkey per frame
 * for all of them); k NULL: a frame no stream can use, only counted. */
#include "smartcfg/airkiss.h"
#include "smartcfg/esptouch_v2.h"
sc_et_event_type_t sc_et2_rx_feed_key(sc_et2_rx_t *rx, const sc_rxkey_t *k, uint8_t channel, uint32_t now_ms,
                                      sc_et2_result_t *res);
sc_et_event_type_t sc_ak_rx_feed_key(sc_ak_rx_t *rx, const sc_rxkey_t *k, uint8_t channel, uint32_t now_ms,
                                     sc_ak_result_t *res);

#endif
