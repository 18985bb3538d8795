/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "rxkey.h"

/* host byte order: only compared and unpacked on this machine (sc_rxhdr_unpack) */
static uint64_t pack(const uint8_t m[SC_MAC_LEN], unsigned extra)
{
    uint8_t b[8];
    uint64_t v;
    memcpy(b, m, SC_MAC_LEN);
    b[6] = (uint8_t)extra;
    b[7] = 0;
    memcpy(&v, b, 8);
    return v;
}

static int key_done(sc_rxkey_t *k)
{
    k->ks = pack(k->sender, k->flags);
    k->kb = pack(k->bssid, 0);
    return 1;
}

int sc_rxkey(const sc_frame_t *f, sc_rxkey_t *k)
{
    memset(k, 0, sizeof *k);
    k->len = f->len;
    if (f->kind == SC_FRAME_LEN_ONLY) {
        k->flags = SC_RXK_LENONLY;
        return key_done(k);
    }
    if (f->kind == SC_FRAME_ETHERNET) {
        if (!(f->addr1[0] & 1u))
            return 0;
        memcpy(k->sender, f->addr2, SC_MAC_LEN);
        k->flags = SC_RXK_ETH;
        return key_done(k);
    }
    if (f->kind != SC_FRAME_80211)
        return 0;
    uint16_t fc = f->fc;
    unsigned sub = SC_FC_SUBTYPE(fc);
    unsigned dir = fc & (SC_FC_TODS | SC_FC_FROMDS);
    if (SC_FC_TYPE(fc) != 2u || (sub & 4u) || (fc & SC_FC_MOREFRAG) || (f->seq_ctrl & 0x000fu) || dir == 0 ||
        dir == (SC_FC_TODS | SC_FC_FROMDS))
        return 0;
    if (fc & SC_FC_ORDER) {
        /* In a QoS data frame the Order bit announces a 4-byte HT Control field: a phone sets it
         * frame by frame, so it is removed here rather than calibrated as another overhead.
         * Without QoS the bit is the legacy strictly-ordered class: no extra bytes. */
        if (sub & 8u) {
            if (k->len < 4)
                return 0;
            k->len = (uint16_t)(k->len - 4u);
        }
    }
    const uint8_t *da;
    if (dir == SC_FC_TODS) {
        memcpy(k->bssid, f->addr1, SC_MAC_LEN);
        memcpy(k->sender, f->addr2, SC_MAC_LEN);
        da = f->addr3;
        k->flags = SC_RXK_TODS;
    } else {
        memcpy(k->bssid, f->addr2, SC_MAC_LEN);
        memcpy(k->sender, f->addr3, SC_MAC_LEN);
        da = f->addr1;
        k->flags = SC_RXK_FROMDS;
    }
    if ((sub & 8u) && (f->qos_ctrl & 0x0080u)) {
        /* A-MSDU: the addresses inside the subframes are not in the header (addr3 is the BSSID
         * uplink). One subframe keeps its length plus a constant 14-byte subframe header, so
         * it is its own stream with its own overhead; several subframes sum their lengths,
         * which no CRC accepts. The source behind a ToDS A-MSDU is its transmitter. */
        k->flags |= SC_RXK_AMSDU;
        if (dir == SC_FC_FROMDS)
            memset(k->sender, 0, SC_MAC_LEN); /* addr3 is not the phone here */
    } else if (!(da[0] & 1u)) {
        return 0;
    }
    if (sub & 8u)
        k->flags |= SC_RXK_QOS;
    if (fc & SC_FC_PROTECTED)
        k->flags |= SC_RXK_PROT;
    k->has_seq = 1;
    k->seq = (uint16_t)(f->seq_ctrl >> 4);
    k->retry = (fc & SC_FC_RETRY) ? 1u : 0u;
    return key_done(k);
}
