/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers the time-to-decode benchmarks share: a seeded xorshift draw, a qsort comparison for
 * ratios and the credentials comparison that tells a correct result from a wrong one. */
#ifndef SMARTCFG_BENCH_UTIL_H
#define SMARTCFG_BENCH_UTIL_H

#include <stdint.h>
#include <string.h>

#include "smartcfg/esptouch.h"

static inline uint32_t bench_draw(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return (uint32_t)(x >> 16);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static inline int bench_same_creds(const sc_et_creds_t *a, const sc_et_creds_t *b)
{
    return a->ssid_len == b->ssid_len && a->password_len == b->password_len &&
           !memcmp(a->ssid, b->ssid, a->ssid_len) && !memcmp(a->password, b->password, a->password_len) &&
           !memcmp(a->bssid, b->bssid, 6) && !memcmp(a->phone_ip, b->phone_ip, 4);
}

#endif
