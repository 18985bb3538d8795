/* SPDX-License-Identifier: Apache-2.0 */
/* The private side of caller-owned state (common.h): a module's real state lives in the
 * public storage struct's opaque words. SC_STATE_FITS checks at compile time, on every
 * target, that it fits and is aligned: growing the state past its published size is a
 * build error, not a memory overwrite in somebody's firmware. */
#ifndef SC_COMMON_STATE_H
#define SC_COMMON_STATE_H

#include "smartcfg/common.h"

#define SC_STATE_FITS(priv, pub)                                                                  \
    _Static_assert(sizeof(priv) <= sizeof(pub), #priv " outgrew " #pub " (raise its SC_*_SIZE)"); \
    _Static_assert(_Alignof(priv) <= _Alignof(pub), #priv " needs more alignment than " #pub);   \
    _Static_assert(_Alignof(pub) == SC_STATE_ALIGN, #pub " must be SC_STATE_ALIGN aligned")

#endif
