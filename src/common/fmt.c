/* SPDX-License-Identifier: Apache-2.0 */
/* The core's snprintf subset (fmt.h). */
#include <stdbool.h>

#include "fmt.h"

typedef struct {
    char *b;
    size_t cap, n;   /* n: characters produced so far, stored or not */
} out_t;

static void put(out_t *o, char c)
{
    if (o->n + 1 < o->cap)
        o->b[o->n] = c;
    o->n++;
}

int sc_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
    out_t o = { buf, cap, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        char pad = ' ', sign = 0, c;
        unsigned width = 0, n = 0;
        bool is_long = false;
        if (*++fmt == '0')
            pad = *fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        if (*fmt == 'l') {
            is_long = true;
            fmt++;
        }
        c = *fmt;
        char tmp[24];
        const char *s;
        if (c == 's') {
            s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            while (s[n])
                n++;
            pad = ' ';
        } else if (c == 'd' || c == 'u' || c == 'x') {
            unsigned long v;
            /* int and long are read alike where they are the same size (32-bit targets) */
            if (c == 'd') {
                long sv = (sizeof(long) == sizeof(int) || is_long) ? va_arg(ap, long) : va_arg(ap, int);
                if (sv < 0)
                    sign = '-';
                v = sv < 0 ? 0ul - (unsigned long)sv : (unsigned long)sv;
            } else {
                v = (sizeof(long) == sizeof(int) || is_long) ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            }
            unsigned base = c == 'x' ? 16u : 10u;
            char *p = tmp + sizeof tmp;
            do {
                *--p = "0123456789abcdef"[v % base];
                v /= base;
            } while (v);
            s = p;
            n = (unsigned)(tmp + sizeof tmp - p);
        } else {   /* "%%", or a conversion this subset does not know: as it stands */
            if (c != '%')
                put(&o, '%');
            if (!c)
                break;
            put(&o, c);
            continue;
        }
        /* printf's order: spaces, the sign, zeros, the digits */
        unsigned len = n + (sign != 0);
        unsigned fill = width > len ? width - len : 0;
        if (pad == ' ')
            for (; fill; fill--)
                put(&o, ' ');
        if (sign)
            put(&o, sign);
        for (; fill; fill--)
            put(&o, '0');
        for (unsigned i = 0; i < n; i++)
            put(&o, s[i]);
    }
    if (cap)
        buf[o.n < cap ? o.n : cap - 1] = '\0';
    return (int)o.n;
}

int sc_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = sc_vfmt(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}
