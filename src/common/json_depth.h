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

#endif
