/* SPDX-License-Identifier: Apache-2.0 */
/* Stream keying shared by the ESP-TOUCH v2 and AirKiss receivers: which frames can carry a
 * provisioning datagram, who sent them behind which AP, and their length with the variable
 * parts of the 802.11 header (HT Control) taken out. */
#ifndef SC_RXKEY_H
#define SC_RXKEY_H

#include <stddef.h>
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
    uint8_t channel;                /* the frame's (v1 keys its streams per channel too) */
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
    uint8_t prog;                   /* locked: the stream showed checked progress (AirKiss: a vote
                                       of a magic, prefix or block); it then keeps its slot until
                                       idle_unlock_ms of silence (sc_rxtab_victim) */
    uint32_t lock_ms;               /* when it opened (v2: a young searching stream is kept), then,
                                       in AirKiss, when it locked (the grace of a lock without
                                       progress) */
} sc_rxhdr_t;

/* A decoder's stream table: n streams of `size` bytes each, every one starting with its
 * sc_rxhdr_t. How long a lock survives silence is the decoder's (so are the lengths a new stream
 * may open with: it tests them before it opens one, sc_rxtab_open); search_quiet_ms > 0 protects a searching stream heard that recently from
 * being replaced (AirKiss's guide run is short, so a burst of foreign openers must not evict
 * it mid-run). */
typedef struct {
    void *st;
    uint16_t n, size;
    uint16_t search_quiet_ms;
    uint16_t grace_ms;              /* a lock without progress may go after this long (0: never) */
    uint32_t idle_unlock_ms;
} sc_rxtab_t;

#if defined(__GNUC__) || defined(__clang__)
#define SC_RX_INLINE inline __attribute__((always_inline))
#else
#define SC_RX_INLINE inline
#endif

/* The stream frame k belongs to, or NULL. The walk runs for every keyed frame of both stream
 * decoders, and almost every frame matches none of their few streams: so the word that
 * differs between senders (MAC bytes 4..5 and the flags, the upper half of ks) is compared
 * first, one load and compare per slot, and only a match reads the rest. A free slot never
 * matches: its state is checked after the key, on a match alone. */
static SC_RX_INLINE sc_rxhdr_t *sc_rxtab_match(void *st, unsigned n, size_t size, const sc_rxkey_t *k)
{
    uint32_t hi = (uint32_t)(k->ks >> 32);
    char *p = (char *)st;
    /* unrolled where n is a decoder's constant (-Os keeps loops): no counter per slot */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
    for (unsigned i = 0; i < n; i++, p += size) {
        sc_rxhdr_t *h = (sc_rxhdr_t *)(void *)p;
        if ((uint32_t)(h->ks >> 32) == hi && (uint32_t)h->ks == (uint32_t)k->ks && h->kb == k->kb &&
            h->state != SC_RXS_FREE)
            return h;
    }
    return NULL;
}
/* The stream decoders' tables as the receiver front reads them (sc_rxtab_hi): each
 * decoder's state begins with its n streams of `size` bytes (asserted in v2_rx.c and
 * airkiss/rx.c, which take their table sizes from here). */
#define SC_RXTAB_V2_N 3u
#define SC_RXTAB_V2_SIZE 56u
#define SC_RXTAB_AK_N 3u
#define SC_RXTAB_AK_SIZE 56u
/* The first stream of the table at st whose upper key word (sender bytes 4..5 and the flags, the
 * word sc_rxtab_match compares first) is hi, or NULL: k's stream, or another that shares the
 * word, or a free slot whose key stayed in place. NULL only when sc_rxtab_match finds nothing,
 * so the front skips a decoder that would only have counted the frame; a found stream the front
 * checks whole before it notes a plain frame itself (receiver.c). The front's sender summaries
 * share a bit between senders, and the phone's own frames paid a whole call of a decoder whose
 * foreign sender had its bit (docs/m4.md): this walk is a load and compare per slot. */
static SC_RX_INLINE sc_rxhdr_t *sc_rxtab_hi(void *st, unsigned n, size_t size, uint32_t hi)
{
    char *p = (char *)st;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
    for (unsigned i = 0; i < n; i++, p += size)
        if ((uint32_t)(((sc_rxhdr_t *)(void *)p)->ks >> 32) == hi)
            return (sc_rxhdr_t *)(void *)p;
    return NULL;
}
/* Which slot a fresh stream takes: a free one, else the least recently heard searching stream
 * (one heard within search_quiet_ms is kept, when that is > 0) or locked stream silent for
 * idle_unlock_ms, ties to the first; else the oldest lock that has shown no progress (prog 0)
 * for grace_ms since it locked; NULL when none may go. A lock is only an opening pattern, which
 * anyone can send: senders of it alone (a flood of guide runs or heads) held every slot, heard
 * all the time, and a phone waited for a slot (docs/receiver.md §9). A stream with checked
 * progress keeps its slot as before. Inline so that a decoder with a fixed table (v2's opener)
 * gets the walk with its constants folded; it runs for opening frames alone. */
static SC_RX_INLINE sc_rxhdr_t *sc_rxtab_victim(void *st, unsigned n, size_t size, uint32_t search_quiet_ms,
                                               uint32_t grace_ms, uint32_t idle_unlock_ms, uint32_t now)
{
    sc_rxhdr_t *victim = NULL, *weak = NULL;
    for (unsigned i = 0; i < n; i++) {
        sc_rxhdr_t *h = (sc_rxhdr_t *)(void *)((char *)st + i * size);
        if (h->state == SC_RXS_FREE)
            return h;
        int32_t quiet = sc_ms_diff(now, h->last_ms);
        int ok = h->state != SC_RXS_LOCKED ? (!search_quiet_ms || quiet >= (int32_t)search_quiet_ms)
                                           : quiet >= (int32_t)idle_unlock_ms;
        if (ok && (!victim || sc_ms_diff(victim->last_ms, h->last_ms) > 0))
            victim = h;
        else if (!ok && grace_ms && h->state == SC_RXS_LOCKED && !h->prog && sc_ms_diff(now, h->lock_ms) >= (int32_t)grace_ms &&
                 (!weak || sc_ms_diff(weak->lock_ms, h->lock_ms) > 0))
            weak = h;
    }
    return victim ? victim : weak;
}
/* The slot, cleared, becomes k's searching stream (sc_rxtab_open, v2's opener). */
static inline void sc_rxhdr_claim(sc_rxhdr_t *h, const sc_rxkey_t *k, uint32_t now)
{
    h->ks = k->ks;
    h->kb = k->kb;
    h->last_ms = now;
    h->lock_ms = now; /* a searching stream's: when it opened (v2's stream_open) */
    h->state = SC_RXS_SEARCH;
}
/* A fresh stream for k (a free slot, else the least recently heard searching or silent
 * locked stream: sc_rxtab_victim), or NULL. Only for a frame no stream matched (sc_rxtab_match) whose length
 * may open one in the decoder's protocol: other traffic never takes a slot. A decoder tests the
 * length itself before building its sc_rxtab_t, so a frame that cannot open costs nothing
 * more. Does not note the frame (see below). */
sc_rxhdr_t *sc_rxtab_open(const sc_rxtab_t *t, const sc_rxkey_t *k, uint32_t now);
/* Whether k is a retransmission of h's last frame (the retry bit and the same sequence number):
 * the v2 and AirKiss decoders and the front's notes of their plain frames ignore it. */
static SC_RX_INLINE int sc_rxhdr_repeat(const sc_rxhdr_t *h, const sc_rxkey_t *k)
{
    return k->retry && h->has_seq && h->seq == k->seq;
}
/* The frame is the stream's newest: sequence number, time, channel. */
static inline void sc_rxhdr_note(sc_rxhdr_t *h, const sc_rxkey_t *k, uint8_t channel, uint32_t now)
{
    h->seq = k->seq;
    h->has_seq = k->has_seq;
    h->last_ms = now;
    h->channel = channel;
}
/* Whether the stream is in use and its newest frame came on channel within the last within_ms:
 * what the channel search's candidate readings (v2, AirKiss) start from. */
static inline int sc_rxhdr_heard(const sc_rxhdr_t *h, uint8_t channel, uint32_t now, uint32_t within_ms)
{
    int32_t age = sc_ms_diff(now, h->last_ms);
    return h->state != SC_RXS_FREE && h->channel == channel && age >= 0 && age <= (int32_t)within_ms;
}
/* Frees the locks silent for idle_unlock_ms or longer: 1 when it freed one. */
int sc_rxtab_expire(const sc_rxtab_t *t, uint32_t now);
/* The channel of a locked stream (0 = none). */
uint8_t sc_rxtab_locked_channel(const sc_rxtab_t *t);

/* sc_rxkey's answer: which decoders may use the frame. */
enum {
    SC_RXKEY_STREAM = 1u,           /* the stream decoders (v2, AirKiss) */
    SC_RXKEY_V1 = 2u,               /* ESP-TOUCH v1 too (it refuses the legacy Order bit) */
};

/* MAC bytes 0..3 in bits 0..31 and 4..5 in bits 32..47 (host order, as sc_rxhdr_unpack reads
 * them back), flags in bits 48..55. Two plain loads: no byte stores to reload. */
static SC_RX_INLINE uint64_t sc_rxkey_pack(const uint8_t *m, unsigned flags)
{
    uint32_t lo;
    uint16_t hi;
    memcpy(&lo, m, 4);
    memcpy(&hi, m + 4, 2);
    return (uint64_t)lo | ((uint64_t)hi << 32) | ((uint64_t)flags << 48);
}

/* Keys f once for all three decoders (the receiver front runs it on every frame the radio
 * delivers, so it is inlined and tests the frame control word once). 0 when no decoder can use
 * f; else SC_RXKEY_STREAM when it can carry a provisioning datagram (group-addressed data, not
 * a fragment, not WDS, not a null/no-data subtype), plus SC_RXKEY_V1 when ESP-TOUCH v1 takes it
 * as well: v1 refuses the Order bit of a non-QoS frame (a QoS frame's HT Control field is taken
 * out here for all three). Fills k when not 0. */
static SC_RX_INLINE unsigned sc_rxkey(const sc_frame_t *f, sc_rxkey_t *k)
{
    if (f->kind != SC_FRAME_80211) {
        k->len = f->len;
        k->channel = f->channel;
        k->has_seq = 0;
        k->retry = 0;
        k->seq = 0;
        k->kb = 0;
        if (f->kind == SC_FRAME_LEN_ONLY) {
            k->flags = SC_RXK_LENONLY;
            k->ks = (uint64_t)SC_RXK_LENONLY << 48;
            return SC_RXKEY_STREAM | SC_RXKEY_V1;
        }
        if (f->kind != SC_FRAME_ETHERNET || !(f->addr1[0] & 1u))
            return 0;
        k->flags = SC_RXK_ETH;
        k->ks = sc_rxkey_pack(f->addr2, SC_RXK_ETH);
        return SC_RXKEY_STREAM | SC_RXKEY_V1;
    }
    unsigned fc = f->fc;
    /* one mask for the type (data), the no-data subtype bit (subtype & 4) and More Fragments;
     * then not a later fragment, and ToDS or FromDS but not both (WDS) */
    unsigned dir = (fc & (SC_FC_TODS | SC_FC_FROMDS)) >> 8;
    if ((fc & (0x000Cu | 0x0040u | SC_FC_MOREFRAG)) != 0x0008u || (f->seq_ctrl & 0x000fu) || dir - 1u > 1u)
        return 0;
    unsigned qos = fc & 0x0080u; /* subtype & 8 */
    unsigned ok = SC_RXKEY_STREAM | SC_RXKEY_V1, len = f->len;
    if (fc & SC_FC_ORDER) {
        if (qos) {
            /* In a QoS data frame the Order bit announces a 4-byte HT Control field: a phone sets
             * it frame by frame, so it is removed here rather than calibrated as another
             * overhead. Without QoS the bit is the legacy strictly-ordered class: no extra bytes
             * (v1 never took those). */
            if (len < 4)
                return 0;
            len -= 4u;
        } else {
            ok = SC_RXKEY_STREAM;
        }
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* seq and len (adjacent, asserted below) as one word, stored before the addresses are read:
     * kept to the end, they took registers the address work then spilled (a frame that turns
     * out to have no use leaves k with them, which its callers do not read) */
    uint32_t w1 = ((uint32_t)f->seq_ctrl >> 4) | (len << 16);
    memcpy((unsigned char *)k + offsetof(sc_rxkey_t, seq), &w1, 4);
#endif
    /* ToDS: BSSID, sender, destination = addr1, addr2, addr3; FromDS: addr2, addr3, addr1. The
     * three are adjacent, so the BSSID and sender are one window 6 bytes further for FromDS and
     * the destination 12 bytes back: arithmetic instead of three selects (every data frame). */
    _Static_assert(offsetof(sc_frame_t, addr2) == offsetof(sc_frame_t, addr1) + SC_MAC_LEN &&
                       offsetof(sc_frame_t, addr3) == offsetof(sc_frame_t, addr2) + SC_MAC_LEN,
                   "the frame's addresses are adjacent");
    /* 0 ToDS, SC_MAC_LEN FromDS: a mask, not a product (-Os built both offsets with a constant
     * load and a multiply, on every data frame) */
    unsigned shift = (0u - (dir - 1u)) & SC_MAC_LEN;
    const uint8_t *bssid = (const uint8_t *)f + offsetof(sc_frame_t, addr1) + shift;
    const uint8_t *sender = bssid + SC_MAC_LEN;
    const uint8_t *da = (const uint8_t *)f + offsetof(sc_frame_t, addr3) - 2u * shift;
    /* the direction bits are SC_RXK_TODS / SC_RXK_FROMDS; QoS and Protected moved to theirs */
    _Static_assert(SC_RXK_TODS == 1u && SC_RXK_FROMDS == 2u && SC_RXK_QOS == 0x0080u >> 5 && SC_RXK_PROT == SC_FC_PROTECTED >> 11,
                   "flag bits as the frame control's");
    unsigned flags = dir | (qos >> 5) | ((fc & SC_FC_PROTECTED) >> 11);
    if (qos && (f->qos_ctrl & 0x0080u)) {
        /* A-MSDU: the addresses inside the subframes are not in the header (addr3 is the BSSID
         * uplink). One subframe keeps its length plus a constant 14-byte subframe header, so
         * it is its own stream with its own overhead; several subframes sum their lengths,
         * which no CRC accepts. The source behind a ToDS A-MSDU is its transmitter; behind a
         * FromDS one, addr3 is not the phone: no sender. All three decoders take it: the
         * flag keeps it a stream apart, calibrated on its own, and v1's session joins an uplink
         * A-MSDU stream to the relay's copy by sender and BSSID as it does any uplink. */
        flags |= SC_RXK_AMSDU;
        k->ks = dir == 2u ? (uint64_t)flags << 48 : sc_rxkey_pack(sender, flags);
    } else if (!(da[0] & 1u)) {
        return 0;
    } else {
        k->ks = sc_rxkey_pack(sender, flags);
    }
    k->kb = sc_rxkey_pack(bssid, 0);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* flags, channel, has_seq, retry and then seq, len are adjacent: two word stores instead of
     * six byte and halfword stores (every keyed frame passes here, docs/m4.md) */
    _Static_assert(offsetof(sc_rxkey_t, channel) == offsetof(sc_rxkey_t, flags) + 1 &&
                       offsetof(sc_rxkey_t, has_seq) == offsetof(sc_rxkey_t, flags) + 2 &&
                       offsetof(sc_rxkey_t, retry) == offsetof(sc_rxkey_t, flags) + 3 &&
                       offsetof(sc_rxkey_t, seq) == offsetof(sc_rxkey_t, flags) + 4 &&
                       offsetof(sc_rxkey_t, len) == offsetof(sc_rxkey_t, flags) + 6 && SC_FC_RETRY == 0x0800u,
                   "the key's byte fields as two words");
    uint32_t w0 = flags | ((uint32_t)f->channel << 8) | (1u << 16) | ((fc & SC_FC_RETRY) << 13);
    /* through the struct's own bytes: the words span several members */
    memcpy((unsigned char *)k + offsetof(sc_rxkey_t, flags), &w0, 4);
#else
    k->flags = (uint8_t)flags;
    k->len = (uint16_t)len;
    k->channel = f->channel;
    k->has_seq = 1;
    k->seq = (uint16_t)(f->seq_ctrl >> 4);
    k->retry = (fc & SC_FC_RETRY) ? 1u : 0u;
#endif
    return ok;
}

/* The stream decoders' default overhead range (their configuration's offset_max 0 means this):
 * the receiver front, which runs them with the defaults, tests the lengths that may open one
 * of their streams itself (sc_rxsum_t). */
#define SC_RX_OFFSET_MAX_DEFAULT 200u

/* A summary of a stream table's senders: bit sc_rxsum_bit(ks) set for every stream in use (a
 * free slot's key is zeros and counts as none). The front keeps one per stream decoder and calls
 * the decoder only for a frame whose sender's bit is set or whose length may open a stream:
 * any other frame would find no stream and open none, so the decoder would do nothing with it
 * (docs/m4.md: most frames are foreign, and the decoders' tables hold few senders). */
typedef uint16_t sc_rxsum_t;
/* MAC bytes 4..5 and the flags (the word sc_rxtab_match compares first), folded to 4 bits: the
 * index of the sender's bit (the front shifts its summaries by it rather than build the mask).
 * An unsigned, not an sc_rxsum_t: the front tests it against its summaries on every keyed
 * frame, and a 16-bit value costs a zero extension there. */
static SC_RX_INLINE unsigned sc_rxsum_idx(uint64_t ks)
{
    uint32_t hi = (uint32_t)(ks >> 32);
    hi ^= hi >> 12;
    hi ^= hi >> 6;
    return hi & 15u;
}
/* the bit itself, as the decoders set it in their summaries (sc_rxsum_of) */
static SC_RX_INLINE unsigned sc_rxsum_bit(uint64_t ks) { return 1u << sc_rxsum_idx(ks); }
/* The summary of n streams of `size` bytes from st, each starting with its sc_rxhdr_t: of the
 * streams in use, or with locked_only of the locked ones alone. */
static inline sc_rxsum_t sc_rxsum_of(const void *st, unsigned n, size_t size, int locked_only)
{
    sc_rxsum_t m = 0;
    const char *p = (const char *)st;
    for (unsigned i = 0; i < n; i++, p += size) {
        const sc_rxhdr_t *h = (const sc_rxhdr_t *)(const void *)p;
        if (locked_only ? h->state == SC_RXS_LOCKED : h->state != SC_RXS_FREE)
            m = (sc_rxsum_t)(m | sc_rxsum_bit(h->ks));
    }
    return m;
}

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
 * for all of them; the frame's channel is k->channel). None of them tests an init marker or
 * a finished decoder: their callers do (the front's run word, the public feeds). The stream
 * decoders' take k not NULL: a frame no stream can use is counted by their public feeds, and
 * the front does not pass it. */
#include "smartcfg/airkiss.h"
#include "smartcfg/esptouch_rx.h"
#include "smartcfg/esptouch_v2.h"
/* v1's: k not NULL; a frame no stream can use, or v1 does not take (sc_rxkey without
 * SC_RXKEY_V1), goes to sc_et_rx_feed_nokey (only counted). Both leave the clearing of ev to
 * their caller, sc_et_ev_none first (the event is the caller's local: it stores the
 * type without a reload of the pointer). The fields other than type are written only when type is
 * not SC_ET_EV_NONE. Both return SC_ET_FEED_IN_LOCK when the frame belonged to a locked v1
 * stream (its sender is an ESP-TOUCH v1 phone; in the return value: a fifth argument would go
 * through the stack), else 0; the event's type the caller reads in its own event (returning
 * it as well cost the feed a reload of the event's pointer and a load on every frame). */
#define SC_ET_FEED_IN_LOCK 0x100u
/* What a v1 feed's caller clears before the call: the type, read on every frame (the feed
 * writes known and needed with the frame's first event). */
static SC_RX_INLINE void sc_et_ev_none(sc_et_event_t *ev) { ev->type = SC_ET_EV_NONE; }
unsigned sc_et_rx_feed_key(sc_et_rx_t *rx, const sc_rxkey_t *k, uint32_t now_ms, sc_et_event_t *ev);
unsigned sc_et_rx_feed_nokey(sc_et_rx_t *rx, uint32_t now_ms, sc_et_event_t *ev);
/* The stream decoders' keyed feeds (the front's): res is never NULL (their public feeds lend
 * one); it holds the stream's overhead after LOCKED and the result after DONE. */
sc_et_event_type_t sc_et2_rx_feed_key(sc_et2_rx_t *rx, const sc_rxkey_t *k, uint32_t now_ms, sc_et2_result_t *res);
sc_et_event_type_t sc_ak_rx_feed_key(sc_ak_rx_t *rx, const sc_rxkey_t *k, uint32_t now_ms, sc_ak_result_t *res);
/* The stream decoders' sender summaries (sc_rxsum_t), read again by the front after every call
 * that may have changed their streams. */
sc_rxsum_t sc_et2_rx_senders(const sc_et2_rx_t *rx);
sc_rxsum_t sc_ak_rx_senders(const sc_ak_rx_t *rx);
/* AirKiss's locked streams only (a subset of sc_ak_rx_senders). */
sc_rxsum_t sc_ak_rx_locked_senders(const sc_ak_rx_t *rx);

#endif
