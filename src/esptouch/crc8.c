/* SPDX-License-Identifier: Apache-2.0 */
#include "smartcfg/esptouch.h"

#include "crc8_tab.h"

/* One step of a reflected CRC is linear in (crc ^ byte), so the 256-entry table splits into
 * two 16-entry tables (low and high nibble): 32 bytes of flash instead of 256. */
const uint8_t sc_crc8_nib_lo[16] = {
    0x00, 0x5e, 0xbc, 0xe2, 0x61, 0x3f, 0xdd, 0x83,
    0xc2, 0x9c, 0x7e, 0x20, 0xa3, 0xfd, 0x1f, 0x41,
};
const uint8_t sc_crc8_nib_hi[16] = {
    0x00, 0x9d, 0x23, 0xbe, 0x46, 0xdb, 0x65, 0xf8,
    0x8c, 0x11, 0xaf, 0x32, 0xca, 0x57, 0xe9, 0x74,
};

uint8_t sc_crc8_update(uint8_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        uint8_t x = (uint8_t)(crc ^ p[i]);
        crc = (uint8_t)(sc_crc8_nib_lo[x & 0x0f] ^ sc_crc8_nib_hi[x >> 4]);
    }
    return crc;
}

uint8_t sc_crc8(const void *data, size_t len)
{
    return sc_crc8_update(0, data, len);
}
