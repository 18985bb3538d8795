/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzer input as a byte stream: reads past the end give zeros, so every input is a script. */
#ifndef SC_FUZZ_READER_H
#define SC_FUZZ_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p;
    size_t n;
} rd_t;

static inline uint8_t u8(rd_t *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

#endif
