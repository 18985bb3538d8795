/* SPDX-License-Identifier: Apache-2.0 */
/* Core-internal: prints a cJSON object compactly into a caller-owned buffer (no heap for the
 * text; cJSON's own nodes are freed here). Every message the core emits goes through it, so
 * escaping and number formatting are cJSON's, not ours. */
#ifndef SC_JSON_OUT_H
#define SC_JSON_OUT_H

#include <cjson/cJSON.h>

#include "smartcfg/common.h"

/* built: false when adding an item failed (cJSON returned NULL). Deletes obj in every case.
 * suffix (may be NULL) is appended verbatim, e.g. the "\r\n" delimiter of the 8266 replies.
 * SC_ERR_NOMEM: obj NULL or incomplete; SC_ERR_NOSPACE: does not fit in cap. */
sc_err_t sc_json_emit(cJSON *obj, bool built, const char *suffix, char *out, size_t cap, size_t *len);

/* Copies a JSON string member with its NUL (the 8266 requests, the MQTT messages): SC_ERR_NOTFOUND
 * when absent, SC_ERR_FORMAT when not a string, SC_ERR_RANGE when longer than cap - 1 (never
 * truncated: a cut token would bind wrongly); dst is untouched unless SC_OK. len may be NULL. */
sc_err_t sc_json_get_str(const cJSON *obj, const char *name, char *dst, size_t cap, size_t *len);

#endif
