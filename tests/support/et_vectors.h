/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v1 known answers (docs/protocol: the encoder's vectors), shared by the host unit
 * test (tests/unit/test_esptouch_encoder.c) and the Cortex-M4 self-test (tests/m4/selftest.c)
 * so both check the same values. Initializer lists: each user declares its own arrays.
 * Common inputs: BSSID 00:11:22:33:44:55, phone IP 192.168.1.100. */
#ifndef SC_ET_VECTORS_H
#define SC_ET_VECTORS_H
#include <string.h>

#include "smartcfg/esptouch.h"

/* The vectors' credentials: ssid/pwd with the common BSSID and phone IP. */
static inline void et_vec_creds(sc_et_creds_t *c, const char *ssid, const char *pwd)
{
    static const uint8_t bssid[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 }, ip[4] = { 192, 168, 1, 100 };
    memset(c, 0, sizeof *c);
    c->ssid_len = (uint8_t)strlen(ssid);
    memcpy(c->ssid, ssid, c->ssid_len);
    c->password_len = (uint8_t)strlen(pwd);
    memcpy(c->password, pwd, c->password_len);
    memcpy(c->bssid, bssid, 6);
    memcpy(c->phone_ip, ip, 4);
}

/* CRC8([value, index]) for the outside vector's four data bytes: { value, index, crc } */
#define ET_VEC_CRC_PAIRS { { 0x55, 25, 0x89 }, { 0x69, 26, 0x0B }, { 0x66, 27, 0x4D }, { 0x69, 28, 0xD6 } }
/* their data codes (ShielderSec capture: 173 321 189 | 46 322 225 | 110 323 254 | 254 324 145) */
#define ET_VEC_OUTSIDE { { 173, 321, 189 }, { 46, 322, 225 }, { 110, 323, 254 }, { 254, 324, 145 } }

/* Vector A: "TP-LINK_2.4G" / "12345678": T = 29, the datum and the whole cycle. */
#define ET_VEC_A_DATUM                                                                             \
    { 0x1d, 0x08, 0x13, 0xb8, 0xa2, 0xc0, 0xa8, 0x01, 0x64, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, \
      0x38, 0x54, 0x50, 0x2d, 0x4c, 0x49, 0x4e, 0x4b, 0x5f, 0x32, 0x2e, 0x34, 0x47, 0x00, 0x11, 0x22, \
      0x33, 0x44, 0x55 }
#define ET_VEC_A_CYCLE                                                                             \
    { 137, 296, 133, 72,  297, 176, 41,  298, 123, 195, 299, 144, 66,  300, 266, 136, 325, 40,     \
      180, 301, 216, 114, 302, 128, 104, 303, 153, 201, 326, 201, 206, 304, 92,  155, 305, 121,    \
      235, 306, 74,  170, 327, 234, 123, 307, 171, 219, 308, 124, 75,  309, 285, 123, 328, 219,    \
      187, 310, 174, 43,  311, 79,  235, 312, 144, 252, 329, 252, 173, 313, 284, 125, 314, 136,    \
      90,  315, 165, 61,  330, 157, 76,  316, 212, 172, 317, 225, 44,  318, 166, 204, 319, 147,    \
      93,  320, 55,  219, 321, 250, 282, 322, 278, 203, 323, 220, 236, 324, 223 }

/* Vector B: "TP-LINK_2.4G" with an empty password: T = 21, the whole cycle. */
#define ET_VEC_B_CYCLE                                                                             \
    { 57,  296, 93,  120, 297, 264, 41,  298, 123, 195, 299, 144, 146, 300, 178, 200, 317, 72,     \
      180, 301, 216, 114, 302, 128, 104, 303, 153, 137, 318, 169, 206, 304, 92,  253, 305, 44,     \
      45,  306, 184, 106, 319, 266, 138, 307, 181, 156, 308, 132, 252, 309, 113, 75,  320, 155,    \
      124, 310, 182, 284, 311, 195, 285, 312, 87,  204, 321, 60,  155, 313, 282, 90,  314, 246,    \
      139, 315, 188, 141, 322, 221, 44,  316, 191 }

/* Vector C: 32-byte SSID "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 64-byte password
 * "0123456789abcdef" x 4: T = 105, 333 codes; the first 18 and the last 9. */
#define ET_VEC_C_SSID "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
#define ET_VEC_C_PASSWORD "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ET_VEC_C_HEAD { 270, 296, 177, 236, 297, 120, 119, 298, 223, 195, 299, 144, 63, 300, 89, 280, 401, 184 }
#define ET_VEC_C_TAIL { 235, 398, 43, 283, 399, 44, 155, 400, 125 }

#endif
