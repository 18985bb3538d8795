/* SPDX-License-Identifier: Apache-2.0 */
/* Core-internal: the one digit loop of the core. The AT answers (at_sink.c) and the cloud's
 * string builder (strbuf.c) each had their own; the builder's ran in 64-bit arithmetic, which
 * on a 32-bit target calls libgcc's 64-bit division (__aeabi_uldivmod, ~0.75 KB on a
 * Cortex-M4) into every firmware that builds an MQTT username or a client token. */
#ifndef SC_COMMON_NUM_H
#define SC_COMMON_NUM_H

#include <stdint.h>

/* Room for any uint32_t in base 10 (10 digits); base 16 needs 8, fewer bases are not used. */
#define SC_U32_DIGITS_MAX 10
/* Room for any uint64_t in base 10. */
#define SC_U64_DIGITS_MAX 20

/* Writes v in base (10 or 16, lower-case), at least width digits (zero-padded), so that the
 * digits end just before end; returns the first digit. No NUL. */
char *sc_u32_digits(char *end, uint32_t v, unsigned base, unsigned width);
/* The same in base 10 for a 64-bit value, in 32-bit arithmetic only. */
char *sc_u64_digits(char *end, uint64_t v);

#endif
