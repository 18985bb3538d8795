/* SPDX-License-Identifier: Apache-2.0 */
/* Core-internal: the formatter of every log line and the few texts the core builds with a
 * format (the 8266 error reply's "log", OTA topics and reports, the gateway topics). It
 * stands in for the libc snprintf family, which on a bare-metal libc is the largest thing the
 * core would pull in (picolibc's vfprintf with its floating point: ~7 KB on a Cortex-M4, more
 * than the 8266 service and the binder together) for a handful of integers and strings.
 *
 * snprintf's contract for what the core uses: %s, %d, %u, %x with an optional 'l'
 * (long), '0' flag and field width, and %%. The output is cut to cap - 1 characters and
 * NUL-terminated (cap > 0); the return value is the length the whole text would have. Any
 * other conversion is a bug in the caller; it is printed as it stands. */
#ifndef SC_FMT_H
#define SC_FMT_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
__attribute__((format(printf, 3, 0)))
#endif
int sc_vfmt(char *buf, size_t cap, const char *fmt, va_list ap);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int sc_fmt(char *buf, size_t cap, const char *fmt, ...);

#endif
