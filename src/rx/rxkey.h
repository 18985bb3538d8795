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

/* Stream header every per-protocol stream starts with. */
typedef struct {
    uint64_t ks, kb;                /* as in sc_rxkey_t: sender and flags, BSSID */
    uint8_t has_seq;
    uint16_t seq;                   /* last sequence number seen on this stream */
    uint32_t last_ms;
} sc_rxhdr_t;

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
 * for all of them). */
#include "smartcfg/airkiss.h"
#include "smartcfg/esptouch_v2.h"
sc_et_event_type_t sc_et2_rx_feed_key(sc_et2_rx_t *rx, const sc_rxkey_t *k, uint8_t channel, uint32_t now_ms,
                                      sc_et2_result_t *res);
sc_et_event_type_t sc_ak_rx_feed_key(sc_ak_rx_t *rx, const sc_rxkey_t *k, uint8_t channel, uint32_t now_ms,
                                     sc_ak_result_t *res);

#endif
