/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg common definitions: the error type every function returns, small shared types.
 * Portable C11, no OS dependencies. */
#ifndef SMARTCFG_COMMON_H
#define SMARTCFG_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smartcfg/export.h"
#include "smartcfg/features.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 0 = success, negative = a named error; every value has a string (sc_strerror). */
typedef int sc_err_t;

enum {
    SC_OK = 0,
    SC_ERR_INVAL = -1,       /* invalid argument */
    SC_ERR_RANGE = -2,       /* value out of range / too long */
    SC_ERR_NOSPACE = -3,     /* output buffer or table full */
    SC_ERR_CRC = -4,         /* checksum mismatch */
    SC_ERR_FORMAT = -5,      /* malformed input */
    SC_ERR_STATE = -6,       /* not allowed in the current state */
    SC_ERR_TIMEOUT = -7,     /* deadline passed */
    SC_ERR_IO = -8,          /* I/O failure in a HAL call */
    SC_ERR_NOTFOUND = -9,    /* no such item */
    SC_ERR_AGAIN = -10,      /* nothing available now, try later */
    SC_ERR_AUTH = -11,       /* authentication / signature failure */
    SC_ERR_UNSUPPORTED = -12,/* feature not supported by this build or HAL */
    SC_ERR_BUSY = -13,       /* resource busy */
    SC_ERR_NOMEM = -14,      /* allocation failed */
    SC_ERR_PROTO = -15,      /* peer violated the protocol */
    SC_ERR_CLOSED = -16,     /* connection or session closed */
    SC_ERR_DONE = -17,       /* iteration finished (not a failure) */
    SC_ERR_REFUSED = -18,    /* peer refused (wrong password, rejected bind, ...) */
    SC_ERR__LAST = -19
};

/* Human-readable text of an error code; never NULL. */
SC_API const char *sc_strerror(sc_err_t err);

/* IPv4 endpoint; address in network order (a[0] is the first dotted number). */
typedef struct {
    uint8_t addr[4];
    uint16_t port;
} sc_ipv4_ep_t;

#define SC_MAC_LEN 6

/* Caller-owned state. Every object a port keeps for the core (device, receiver, binder, AT
 * context, simulator, ...) is a public storage struct
 *     typedef struct { uint64_t opaque[SC_STATE_WORDS(SC_<NAME>_SIZE)]; } sc_<name>_t;
 * with its size in SC_<NAME>_SIZE and alignment SC_STATE_ALIGN, so it can be `static`, a
 * struct member, on a stack large enough, or carved from a pool, without any heap. Its
 * fields are private to src/ (each module _Static_asserts that its real state fits and is
 * aligned). Sizes that hold pointers are written as base + n * sizeof(void *), so a 32-bit
 * target does not pay for 64-bit pointers; they are constant expressions usable in array
 * sizes, not in #if. Structs whose every field is documented for the caller to read or fill
 * (configurations, events, results, the sender's ack table and handshake reply fields, the
 * diag records) stay plain structs; they hold no hidden state. */
#define SC_STATE_ALIGN 8u
#define SC_STATE_WORDS(size) (((size) + 7u) / 8u)

/* ---- the millisecond clock -------------------------------------------------------------
 * Every time in the core is a uint32_t millisecond count that wraps after 49.7 days. Times
 * are compared by their signed difference, which is right while they are less than 24.8 days
 * apart (every deadline in smartcfg is minutes away at most). Use these, not `<`. */

/* a - b as a signed interval: > 0 when a is later than b. */
static inline int32_t sc_ms_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
/* true once `now` has reached `deadline`. */
static inline bool sc_ms_reached(uint32_t now, uint32_t deadline) { return sc_ms_diff(now, deadline) >= 0; }
/* The earlier of two times. */
static inline uint32_t sc_ms_min(uint32_t a, uint32_t b) { return sc_ms_diff(a, b) <= 0 ? a : b; }

/* ---- secrets ---------------------------------------------------------------------------
 * Zeroes n bytes through a volatile pointer, so the compiler cannot drop the stores as dead
 * (a plain memset on a buffer about to go out of scope may legally be removed). Use it on
 * every password, token, key and PSK before its storage dies or is reused. */
SC_API void sc_wipe(void *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
