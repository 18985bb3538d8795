/* SPDX-License-Identifier: Apache-2.0 */
/* Core-internal: JSON out of the core, into caller-owned buffers.
 *
 * sc_jw_*: a writer for the flat messages a device sends (the 8266 replies, the binder's
 * requests, the dynreg request). It writes the bytes cJSON_PrintPreallocated(.., false) wrote
 * for the same object -- keys in insertion order, cJSON's string escapes, cJSON's number text
 * (%1.15g, %1.17g when that does not read back) -- and fails where it failed (cJSON reserves
 * one byte more than the text and its NUL). Why not cJSON: its printer is the only reason a
 * device would link cJSON's print code, its sprintf("%1.15g") and sscanf("%lg") (floating-point
 * printf and scanf in a libc); the texts are compared byte for byte with cJSON's in
 * tests/unit/test_num.c.
 *
 * sc_json_emit: prints a cJSON object (the phone side, OTA, the AT gateway, the cloud-side
 * helpers, which build nested or optional members) compactly; cJSON's nodes are freed here. */
#ifndef SC_JSON_OUT_H
#define SC_JSON_OUT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "smartcfg/common.h"

typedef struct {
    char *out;
    size_t cap;
    size_t n;       /* bytes the text needs so far: may pass cap, checked once at the end */
    bool first;     /* no member yet in the innermost open object: no comma */
} sc_jw_t;

/* Starts the text with "{". */
void sc_jw_open(sc_jw_t *w, char *out, size_t cap);
/* "key":"s" with s escaped as cJSON escapes it. */
void sc_jw_str(sc_jw_t *w, const char *key, const char *s);
/* "key": and an opening quote; the value follows with sc_jw_esc and ends with sc_jw_endq. */
void sc_jw_key_q(sc_jw_t *w, const char *key);
void sc_jw_esc(sc_jw_t *w, const char *s);
void sc_jw_endq(sc_jw_t *w);
/* "key":number, the number (negative when neg) being what cJSON prints for (double)v. */
void sc_jw_num(sc_jw_t *w, const char *key, uint64_t v, bool neg);
/* "key":{ ... } */
void sc_jw_obj(sc_jw_t *w, const char *key);
void sc_jw_close(sc_jw_t *w);
/* Appends suffix (may be NULL) and the NUL. SC_ERR_INVAL: out NULL or cap 0; SC_ERR_NOSPACE:
 * the text + suffix + 2 > cap (cJSON's rule); on error out[0] is '\0' (cap > 0). */
sc_err_t sc_jw_end(sc_jw_t *w, const char *suffix, size_t *len);

/* built: false when adding an item failed (cJSON returned NULL). Deletes obj in every case.
 * suffix (may be NULL) is appended verbatim, e.g. the "\r\n" delimiter of the 8266 replies.
 * SC_ERR_NOMEM: obj NULL or incomplete; SC_ERR_NOSPACE: does not fit in cap. */
sc_err_t sc_json_emit(cJSON *obj, bool built, const char *suffix, char *out, size_t cap, size_t *len);

/* Copies a JSON string member with its NUL (the 8266 requests, the MQTT messages): SC_ERR_NOTFOUND
 * when absent, SC_ERR_FORMAT when not a string, SC_ERR_RANGE when longer than cap - 1 (never
 * truncated: a cut token would bind wrongly); dst is untouched unless SC_OK. len may be NULL. */
sc_err_t sc_json_get_str(const cJSON *obj, const char *name, char *dst, size_t cap, size_t *len);

#endif
