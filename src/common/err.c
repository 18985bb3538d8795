/* SPDX-License-Identifier: Apache-2.0 */
#include "smartcfg/common.h"

#include "pool.h"

/* The texts of SC_OK, SC_ERR_INVAL (-1) ... SC_ERR_REFUSED (-18) in that order, one pool
 * walked to the code (no pointer per code): a cold path, for logs and tools. */
static const char texts[] =
    "ok\0"
    "invalid argument\0"
    "value out of range\0"
    "no space left\0"
    "checksum mismatch\0"
    "malformed input\0"          /* -5 */
    "not allowed in this state\0"
    "timed out\0"
    "I/O error\0"
    "not found\0"
    "try again\0"                /* -10 */
    "authentication failed\0"
    "not supported\0"
    "busy\0"
    "out of memory\0"
    "protocol error\0"           /* -15 */
    "closed\0"
    "done\0"
    "refused";                   /* -18 */
_Static_assert(SC_ERR_REFUSED == -18 && SC_ERR__LAST == -19, "one text per code in texts[]");

const char *sc_strerror(sc_err_t err)
{
    if (err > SC_OK || err <= SC_ERR__LAST)
        return "unknown error";
    return sc_pool_at(texts, (unsigned)-(int)err);
}

const char *sc_pool_at(const char *pool, unsigned i)
{
    while (i--)
        while (*pool++)
            ;
    return pool;
}
