/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v2 internals shared by the encoder and the receiver: the body layout a header
 * implies and the bit-plane transform (docs/protocol/esptouch-v2.md). */
#ifndef SC_ET2_INT_H
#define SC_ET2_INT_H

#include "smartcfg/esptouch_v2.h"

enum { V2_SEG_PR = 0, V2_SEG_PWD, V2_SEG_RES, V2_SEG_CT, V2_SEG_IV, V2_SEG_SSID };

typedef struct {
    uint8_t kind, len, width;       /* width 6: "7-bit" groups (CRC plane); 5: "8-bit" groups (CRC byte) */
} v2_seg_t;

typedef struct {
    uint8_t nseg;
    v2_seg_t seg[4];
    uint8_t body_groups;
} v2_layout_t;

/* Layout of the body for plaintext lengths p (password), r (reserved), s (SSID), their
 * "encoded" bits and the effective security. 0, or -1 when more than 40 body groups. */
int sc_v2_layout(v2_layout_t *l, unsigned p, unsigned r, unsigned s, int enc_p, int enc_r, int enc_s,
                 unsigned security);
/* The header's "encoded" bit of a field: 1 when a byte is >= 0x80 (the encoder sets it, the
 * receiver checks the decoded bytes against it). */
static inline int v2_encoded(const uint8_t *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (p[i] & 0x80u)
            return 1;
    return 0;
}
/* Plane i (0..7) of a 6-byte group: bit i of each byte, byte 0 in bit 5. */
static inline uint8_t v2_plane(const uint8_t b[6], unsigned i)
{
    uint8_t d = 0;
    for (unsigned k = 0; k < 6; k++)
        d = (uint8_t)((d << 1) | ((b[k] >> i) & 1u));
    return d;
}

#endif
