/* SPDX-License-Identifier: Apache-2.0 */
/* AT-internal: where the command modules outside at.c (at_ota.c, at_gw.c) print their answers.
 * One sink type and one pair of line printers, so each module's env carries the same thing and
 * no module keeps its own copy of "a line + CRLF" or of the +CME ERROR format. */
#ifndef SC_AT_SINK_H
#define SC_AT_SINK_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef void (*sc_at_emit_fn)(void *user, const char *data, size_t len);

typedef struct {
    sc_at_emit_fn emit;   /* at.c's writer to the host (never NULL) */
    void *user;
} sc_at_sink_t;

/* One answer line, terminated as the reference firmware terminates it. */
static inline void sc_at_line(const sc_at_sink_t *s, const char *line)
{
    s->emit(s->user, line, strlen(line));
    s->emit(s->user, "\r\n", 2);
}

static inline void sc_at_cme(const sc_at_sink_t *s, int code)
{
    char b[24];
    snprintf(b, sizeof b, "+CME ERROR:%d", code);
    sc_at_line(s, b);
}

#endif
