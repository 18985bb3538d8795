/* SPDX-License-Identifier: Apache-2.0 */
/* The AT answers' formatter (at_sink.h): a line buffer, a few directives, no libc printf. */
#include "at_sink.h"

#include "../common/num.h"
#include "../common/outline.h"

typedef struct {
    const sc_at_sink_t *s;
    size_t n;
    char b[SC_AT_SAY_MAX + 2];
} line_t;

static void put(line_t *l, char c)
{
    if (l->n < SC_AT_SAY_MAX)
        l->b[l->n++] = c;
}

static void puts_(line_t *l, const char *s)
{
    while (*s)
        put(l, *s++);
}

static void put_uint(line_t *l, unsigned v, unsigned base, unsigned width)
{
    char tmp[SC_U32_DIGITS_MAX];
    for (const char *p = sc_u32_digits(tmp + sizeof tmp, v, base, width); p < tmp + sizeof tmp; p++)
        put(l, *p);
}

/* n bytes of p, each as put_uint(base, width), separated by sep */
SC_OUTLINE static void put_bytes(line_t *l, const unsigned char *p, unsigned n, unsigned base, unsigned width, char sep)
{
    for (unsigned i = 0; i < n; i++) {
        if (i)
            put(l, sep);
        put_uint(l, p[i], base, width);
    }
}

static void flush(line_t *l)
{
    if (l->n)
        l->s->emit(l->s->user, l->b, l->n);
    l->n = 0;
}

void sc_at_vsay(const sc_at_sink_t *s, const char *fmt, va_list ap)
{
    line_t l;
    l.s = s;
    l.n = 0;
    for (;; fmt++) {
        char c = *fmt;
        if (c == '\n' || c == '\0') {
            l.b[l.n++] = '\r';
            l.b[l.n++] = '\n';
            flush(&l);
            if (c == '\0')
                return;
            continue;
        }
        if (c != '%') {
            put(&l, c);
            continue;
        }
        c = *++fmt;
        if (c == 's') {
            puts_(&l, va_arg(ap, const char *));
        } else if (c == 'q') {
            const char *q = va_arg(ap, const char *);
            put(&l, '"');
            for (; *q; q++) {
                if (*q == '"' || *q == '\\' || *q == ',')
                    put(&l, '\\');
                put(&l, *q);
            }
            put(&l, '"');
        } else if (c == 'd') {
            int v = va_arg(ap, int);
            if (v < 0)
                put(&l, '-');
            put_uint(&l, v < 0 ? 0u - (unsigned)v : (unsigned)v, 10, 1);
        } else if (c == 'u') {
            put_uint(&l, va_arg(ap, unsigned), 10, 1);
        } else if (c == 'm') {
            put_bytes(&l, va_arg(ap, const unsigned char *), 6, 16, 2, ':');
        } else if (c == 'a') {
            put_bytes(&l, va_arg(ap, const unsigned char *), 4, 10, 1, '.');
        } else {   /* 'b' */
            const char *p = va_arg(ap, const char *);
            size_t n = va_arg(ap, size_t);
            flush(&l);
            if (n)
                s->emit(s->user, p, n);
        }
    }
}

void sc_at_say(const sc_at_sink_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sc_at_vsay(s, fmt, ap);
    va_end(ap);
}

void sc_at_line(const sc_at_sink_t *s, const char *line)
{
    sc_at_say(s, "%s", line);
}

void sc_at_cme(const sc_at_sink_t *s, int code)
{
    sc_at_say(s, "+CME ERROR:%d", code);
}
