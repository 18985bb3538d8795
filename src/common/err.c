/* SPDX-License-Identifier: Apache-2.0 */
#include "smartcfg/common.h"

const char *sc_strerror(sc_err_t err)
{
    switch (err) {
    case SC_OK: return "ok";
    case SC_ERR_INVAL: return "invalid argument";
    case SC_ERR_RANGE: return "value out of range";
    case SC_ERR_NOSPACE: return "no space left";
    case SC_ERR_CRC: return "checksum mismatch";
    case SC_ERR_FORMAT: return "malformed input";
    case SC_ERR_STATE: return "not allowed in this state";
    case SC_ERR_TIMEOUT: return "timed out";
    case SC_ERR_IO: return "I/O error";
    case SC_ERR_NOTFOUND: return "not found";
    case SC_ERR_AGAIN: return "try again";
    case SC_ERR_AUTH: return "authentication failed";
    case SC_ERR_UNSUPPORTED: return "not supported";
    case SC_ERR_BUSY: return "busy";
    case SC_ERR_NOMEM: return "out of memory";
    case SC_ERR_PROTO: return "protocol error";
    case SC_ERR_CLOSED: return "closed";
    case SC_ERR_DONE: return "done";
    case SC_ERR_REFUSED: return "refused";
    default: return "unknown error";
    }
}
