/* SPDX-License-Identifier: Apache-2.0 */
/* Core-internal: a nesting bound checked before input from the network reaches cJSON.
 * cJSON parses recursively and accepts 1000 levels, so one 1 KB UDP 8266 datagram of '['
 * needs tens of KiB of stack (measured on a Cortex-M4: docs/m4.md) — far beyond a firmware
 * task's stack. The messages the core parses nest 2 or 3 levels deep. */
#ifndef SC_JSON_DEPTH_H
#define SC_JSON_DEPTH_H

#include <stdbool.h>
#include <stddef.h>

#define SC_JSON_MAX_DEPTH 8u

/* True when no object/array in buf[0..len) nests deeper than max (brackets inside strings
 * do not count). Linear, no allocation; says nothing else about validity. */
bool sc_json_depth_ok(const void *buf, size_t len, unsigned max);

/* What a JSON text from the network must pass before cJSON reads it (the 8266 requests, the
 * cloud's messages, the AT gateway's results): no NUL, raw or as the escape \u0000 (cJSON
 * decodes it into a C string, which would silently cut "a\u0000b" to "a"; no field the core
 * reads may hold one), and no nesting deeper than SC_JSON_MAX_DEPTH. */
bool sc_json_net_ok(const void *buf, size_t len);

#endif
