/* SPDX-License-Identifier: Apache-2.0 */
/* AT-internal: where the AT front-end (at.c) and the command modules beside it (at_ota.c,
 * at_gw.c) print their answers. One sink type and one small formatter for all of them, so no
 * module keeps its own copy of "a line + CRLF", of the +CME ERROR format, or pulls in the
 * libc printf family for a handful of integers. */
#ifndef SC_AT_SINK_H
#define SC_AT_SINK_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*sc_at_emit_fn)(void *user, const char *data, size_t len);

typedef struct {
    sc_at_emit_fn emit;   /* at.c's writer to the host (never NULL) */
    void *user;
} sc_at_sink_t;

/* The longest answer line before its "\r\n"; longer lines are cut (never a partial CRLF). */
#define SC_AT_SAY_MAX 318

/* Prints answer lines built from fmt: every '\n' in fmt and its end close a line with
 * "\r\n" (each line goes out in one emit). Directives:
 *   %s  a string                     %d  an int            %u  an unsigned int
 *   %q  a string in double quotes, with '"', '\\' and ',' escaped (the parser reads it back)
 *   %m  six bytes as a MAC, "aa:bb:cc:dd:ee:ff"   %a  four bytes as a dotted IPv4 address
 *   %b  raw bytes (pointer, size_t length), sent as they are, whatever their length
 * Anything else in fmt is copied as it is. */
void sc_at_vsay(const sc_at_sink_t *s, const char *fmt, va_list ap);
void sc_at_say(const sc_at_sink_t *s, const char *fmt, ...);

/* One answer line, terminated as the reference firmware terminates it. */
void sc_at_line(const sc_at_sink_t *s, const char *line);
/* "+CME ERROR:<code>" */
void sc_at_cme(const sc_at_sink_t *s, int code);

#endif
