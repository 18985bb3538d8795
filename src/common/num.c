/* SPDX-License-Identifier: Apache-2.0 */
#include "num.h"

char *sc_u32_digits(char *end, uint32_t v, unsigned base, unsigned width)
{
    char *stop = end - width;   /* the padding reaches here */
    do {
        *--end = "0123456789abcdef"[v % base];
        v /= base;
    } while (v || end > stop);
    return end;
}

char *sc_u64_digits(char *end, uint64_t v)
{
    uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
    /* While the value is wider than 32 bits, one decimal digit at a time by long division of
     * hi, then lo's upper and lower 16 bits, by 10: each partial dividend is below 10 * 2^16,
     * so every step is a 32-bit division (one instruction on a Cortex-M4). */
    while (hi) {
        uint32_t m = (hi % 10u) << 16 | lo >> 16;
        uint32_t l = (m % 10u) << 16 | (lo & 0xffffu);
        hi /= 10u;
        lo = (m / 10u) << 16 | l / 10u;
        *--end = (char)('0' + l % 10u);
    }
    return sc_u32_digits(end, lo, 10, 1);
}
