/* SPDX-License-Identifier: Apache-2.0 */
/* Core-internal: little-endian integers in stored records (slots, error records, AT info).
 * Byte by byte, so alignment and the host's byte order never matter. */
#ifndef SC_LE_H
#define SC_LE_H

#include <stdint.h>

static inline void sc_le32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t sc_le32_get(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
