/* SPDX-License-Identifier: Apache-2.0 */
/* The private side of caller-owned state (common.h): a module's real state lives in the
 * public storage struct's opaque words. SC_STATE_FITS checks at compile time, on every
 * target, that it fits and is aligned: growing the state past its published size is a
 * build error, not a memory overwrite in somebody's firmware. */
#ifndef SC_COMMON_STATE_H
#define SC_COMMON_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "smartcfg/common.h"

#define SC_STATE_FITS(priv, pub)                                                                  \
    _Static_assert(sizeof(priv) <= sizeof(pub), #priv " outgrew " #pub " (raise its SC_*_SIZE)"); \
    _Static_assert(_Alignof(priv) <= _Alignof(pub), #priv " needs more alignment than " #pub);   \
    _Static_assert(_Alignof(pub) == SC_STATE_ALIGN, #pub " must be SC_STATE_ALIGN aligned")

/* Clears a stream or table slot a word at a time, for the receivers' per-frame paths (a new
 * sender taking a slot happens for much of the foreign traffic). memset there is a byte loop
 * in small embedded libcs (picolibc as Debian builds it: 4 instructions a byte, ~290 for one
 * 72-byte v1 stream on a Cortex-M4, docs/m4.md), and compilers turn a plain word loop back
 * into a memset call; the volatile stores keep it a loop of word stores, two per turn to
 * halve the loop's own instructions. bytes must be a multiple of 4 and p 4-byte aligned
 * (every caller's object holds a uint32_t or wider). */
static inline void sc_zero_words(void *p, size_t bytes)
{
    volatile uint32_t *w = (volatile uint32_t *)p;
    size_t n = bytes / 4u, i = 0;
    for (; i + 1u < n; i += 2u) {
        w[i] = 0;
        w[i + 1u] = 0;
    }
    if (i < n)
        w[i] = 0;
}

#endif
