/* SPDX-License-Identifier: Apache-2.0 */
/* The one printer of JSON event lines for every tool (send, device, decode, air, cloud and the
 * CLI's usage/setup errors), so the convention of docs/json.md lives in one place:
 *
 *   {"v":1,"event":E,"t_ms":T,<the caller's fields, in their order>,"ts":<Unix ms>}
 *
 * t_ms is the tool's own clock (milliseconds since it started); SC_EVENT_NO_TIME leaves out
 * both times (usage and setup errors, printed before anything runs). Lines are written whole
 * under the stream's lock, so threads (the cloud's) never interleave them. */
#ifndef SC_POSIX_EVENT_H
#define SC_POSIX_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SC_EVENT_VERSION 1
#define SC_EVENT_NO_TIME (-1)

/* The line object (NULL when out of memory); takes ownership of fields (may be NULL). */
cJSON *sc_posix_event_line(const char *event, int64_t t_ms, cJSON *fields);
/* Prints line as one line on f and flushes; deletes line. Characters sc_posix_utf8_control
 * names are written as \uXXXX escapes (the same JSON text), never raw onto a terminal; a byte
 * that is not part of valid UTF-8 as \ufffd, so every line is UTF-8. */
void sc_posix_event_print(FILE *f, cJSON *line);
/* Both: builds and prints on stdout. Takes ownership of fields. */
void sc_posix_event(const char *event, int64_t t_ms, cJSON *fields);
/* Event text is UTF-8 (docs/json.md): the length of the valid UTF-8 sequence at p (1..4; n
 * bytes readable), 0 if the bytes there are not one (RFC 3629: shortest form, no surrogates,
 * at most U+10FFFF). For the tools that print or repair text that came from outside. */
size_t sc_posix_utf8_seq(const uint8_t *p, size_t n);
/* Whether the valid sequence of k bytes at p (sc_posix_utf8_seq's length) is a character that
 * drives a terminal rather than shows: C0 controls and DEL, the C1 controls U+0080..U+009F
 * (U+009B is CSI to xterm: "\u009b8m" hides what follows) and the bidirectional controls that
 * reorder what follows on the line (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069),
 * and the line and paragraph separators U+2028, U+2029: a line break to Unicode-aware readers
 * (Python's str.splitlines, editors), so raw in a JSON line they cut it in two (F87).
 * Text from outside shows such characters escaped, never as they are. */
bool sc_posix_utf8_control(const uint8_t *p, size_t k);
/* Milliseconds since the process first asked (call early: a tool's start). */
uint32_t sc_posix_event_ms(void);

#ifdef __cplusplus
}
#endif
#endif
