/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "rxkey.h"

#include "../common/state.h"

/* every stream starts with sc_rxhdr_t (a uint64_t first): 4-byte aligned, its size a multiple
 * of 4, as sc_zero_words needs */
_Static_assert(_Alignof(sc_rxhdr_t) >= 4 && sizeof(sc_rxhdr_t) % 4u == 0, "streams are cleared a word at a time");

/* MAC bytes 0..3 in bits 0..31 and 4..5 in bits 32..47 (host order, as sc_rxhdr_unpack reads
 * them back), flags in bits 48..55. Two plain loads: no byte stores to reload. */
static uint64_t pack(const uint8_t *m, unsigned flags)
{
    uint32_t lo = 0;
    uint16_t hi = 0;
    if (m) {
        memcpy(&lo, m, 4);
        memcpy(&hi, m + 4, 2);
    }
    return (uint64_t)lo | ((uint64_t)hi << 32) | ((uint64_t)(flags & 0xFFu) << 48);
}

/* Called for every frame the radio delivers: keep it to a few compares and two 8-byte loads. */
int sc_rxkey(const sc_frame_t *f, sc_rxkey_t *k)
{
    k->len = f->len;
    k->has_seq = 0;
    k->retry = 0;
    k->seq = 0;
    if (f->kind == SC_FRAME_LEN_ONLY) {
        k->flags = SC_RXK_LENONLY;
        k->ks = pack(NULL, k->flags);
        k->kb = 0;
        return 1;
    }
    if (f->kind == SC_FRAME_ETHERNET) {
        if (!(f->addr1[0] & 1u))
            return 0;
        k->flags = SC_RXK_ETH;
        k->ks = pack(f->addr2, k->flags);
        k->kb = 0;
        return 1;
    }
    if (f->kind != SC_FRAME_80211)
        return 0;
    uint16_t fc = f->fc;
    unsigned sub = SC_FC_SUBTYPE(fc);
    unsigned dir = fc & (SC_FC_TODS | SC_FC_FROMDS);
    if (SC_FC_TYPE(fc) != 2u || (sub & 4u) || (fc & SC_FC_MOREFRAG) || (f->seq_ctrl & 0x000fu) || dir == 0 ||
        dir == (SC_FC_TODS | SC_FC_FROMDS))
        return 0;
    if ((fc & SC_FC_ORDER) && (sub & 8u)) {
        /* In a QoS data frame the Order bit announces a 4-byte HT Control field: a phone sets it
         * frame by frame, so it is removed here rather than calibrated as another overhead.
         * Without QoS the bit is the legacy strictly-ordered class: no extra bytes. */
        if (k->len < 4)
            return 0;
        k->len = (uint16_t)(k->len - 4u);
    }
    const uint8_t *bssid, *sender, *da;
    unsigned flags;
    if (dir == SC_FC_TODS) {
        bssid = f->addr1;
        sender = f->addr2;
        da = f->addr3;
        flags = SC_RXK_TODS;
    } else {
        bssid = f->addr2;
        sender = f->addr3;
        da = f->addr1;
        flags = SC_RXK_FROMDS;
    }
    if ((sub & 8u) && (f->qos_ctrl & 0x0080u)) {
        /* A-MSDU: the addresses inside the subframes are not in the header (addr3 is the BSSID
         * uplink). One subframe keeps its length plus a constant 14-byte subframe header, so
         * it is its own stream with its own overhead; several subframes sum their lengths,
         * which no CRC accepts. The source behind a ToDS A-MSDU is its transmitter. */
        flags |= SC_RXK_AMSDU;
        if (dir == SC_FC_FROMDS)
            sender = NULL; /* addr3 is not the phone here */
    } else if (!(da[0] & 1u)) {
        return 0;
    }
    if (sub & 8u)
        flags |= SC_RXK_QOS;
    if (fc & SC_FC_PROTECTED)
        flags |= SC_RXK_PROT;
    k->flags = (uint8_t)flags;
    k->ks = pack(sender, flags);
    k->kb = pack(bssid, 0);
    k->has_seq = 1;
    k->seq = (uint16_t)(f->seq_ctrl >> 4);
    k->retry = (fc & SC_FC_RETRY) ? 1u : 0u;
    return 1;
}

/* --- stream tables (rxkey.h) ---------------------------------------------------------- */
static sc_rxhdr_t *at(const sc_rxtab_t *t, unsigned i) { return (sc_rxhdr_t *)(void *)((char *)t->st + i * t->size); }

sc_rxhdr_t *sc_rxtab_find(const sc_rxtab_t *t, const sc_rxkey_t *k, uint32_t now)
{
    for (unsigned i = 0; i < t->n; i++) {
        sc_rxhdr_t *h = at(t, i);
        if (h->state != SC_RXS_FREE && sc_rxhdr_match(h, k))
            /* a retry of the frame this stream saw last adds nothing */
            return k->retry && h->has_seq && h->seq == k->seq ? NULL : h;
    }
    /* only a length that could open the protocol's pattern takes a slot: other traffic never does */
    if (k->len < t->open_min || k->len > t->open_max)
        return NULL;
    sc_rxhdr_t *victim = NULL;
    for (unsigned i = 0; i < t->n; i++) {
        sc_rxhdr_t *h = at(t, i);
        if (h->state == SC_RXS_FREE) {
            victim = h;
            break;
        }
        /* a searching stream is replaceable; a lock only once it went quiet */
        int32_t quiet = sc_ms_diff(now, h->last_ms);
        int ok = h->state == SC_RXS_SEARCH ? (!t->search_quiet_ms || quiet >= (int32_t)t->search_quiet_ms)
                                           : quiet >= (int32_t)t->idle_unlock_ms;
        if (ok && (!victim || sc_ms_diff(victim->last_ms, h->last_ms) > 0))
            victim = h;
    }
    if (!victim)
        return NULL;
    sc_zero_words(victim, t->size);
    victim->ks = k->ks;
    victim->kb = k->kb;
    victim->last_ms = now;
    victim->state = SC_RXS_SEARCH;
    return victim;
}

int sc_rxtab_expire(const sc_rxtab_t *t, uint32_t now)
{
    int freed = 0;
    for (unsigned i = 0; i < t->n; i++) {
        sc_rxhdr_t *h = at(t, i);
        if (h->state == SC_RXS_LOCKED && sc_ms_diff(now, h->last_ms) >= (int32_t)t->idle_unlock_ms) {
            sc_zero_words(h, t->size);
            freed = 1;
        }
    }
    return freed;
}

uint8_t sc_rxtab_locked_channel(const sc_rxtab_t *t)
{
    for (unsigned i = 0; i < t->n; i++)
        if (at(t, i)->state == SC_RXS_LOCKED)
            return at(t, i)->channel;
    return 0;
}
