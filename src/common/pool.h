/* SPDX-License-Identifier: Apache-2.0 */
/* Text pools: the strings of a table written one after the other, each ended by its NUL, instead
 * of a pointer per entry (a pointer costs 4 bytes of flash and a relocation per text). */
#ifndef SC_COMMON_POOL_H
#define SC_COMMON_POOL_H

/* The i-th string of pool (cold paths: it walks). The caller keeps i below the pool's count. */
const char *sc_pool_at(const char *pool, unsigned i);

#endif
