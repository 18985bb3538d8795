/* SPDX-License-Identifier: Apache-2.0 */
/* Core-internal: the CRC-8 table, for the receiver's hot path (esptouch.h has the public
 * sc_crc8). One step of the reflected CRC-8/MAXIM-DOW is one lookup; the receiver checks a
 * two-byte CRC per sniffed frame, so the step is inlined here instead of called. */
#ifndef SC_ESPTOUCH_CRC8_H
#define SC_ESPTOUCH_CRC8_H

#include <stdint.h>

extern const uint8_t sc_crc8_table[256];

static inline uint8_t sc_crc8_step(uint8_t crc, uint8_t byte) { return sc_crc8_table[crc ^ byte]; }

#endif
