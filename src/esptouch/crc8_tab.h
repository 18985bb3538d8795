/* SPDX-License-Identifier: Apache-2.0 */
/* The CRC-8 nibble tables (crc8.c), shared with the receiver's per-frame pair check so the
 * core carries one CRC table. */
#ifndef SC_ESPTOUCH_CRC8_TAB_H
#define SC_ESPTOUCH_CRC8_TAB_H

#include <stdint.h>

extern const uint8_t sc_crc8_nib_lo[16];
extern const uint8_t sc_crc8_nib_hi[16];

#endif
