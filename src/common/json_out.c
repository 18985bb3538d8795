/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "json_out.h"
#include "num.h"

static void put(sc_jw_t *w, char c)
{
    if (w->n < w->cap)
        w->out[w->n] = c;
    w->n++;
}

static void put_s(sc_jw_t *w, const char *s)
{
    while (*s)
        put(w, *s++);
}

void sc_jw_open(sc_jw_t *w, char *out, size_t cap)
{
    w->out = out;
    w->cap = out ? cap : 0;
    w->n = 0;
    put(w, '{');
    w->first = true;
}

static void key(sc_jw_t *w, const char *k)
{
    if (!w->first)
        put(w, ',');
    w->first = false;
    put(w, '"');
    put_s(w, k);   /* the core's own keys: nothing to escape */
    put_s(w, "\":");
}

void sc_jw_key_q(sc_jw_t *w, const char *k)
{
    key(w, k);
    put(w, '"');
}

void sc_jw_endq(sc_jw_t *w)
{
    put(w, '"');
}

/* cJSON's escapes: the two that must be, the five with a letter, other bytes below 32 as
 * \u00xx (lower-case); 127 and every byte above (UTF-8 or not) as they are. */
void sc_jw_esc(sc_jw_t *w, const char *s)
{
    static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned c = *p;
        if (c > 31 && c != '"' && c != '\\') {
            put(w, (char)c);
            continue;
        }
        put(w, '\\');
        unsigned i = 0;
        while (from[i] && (unsigned char)from[i] != c)
            i++;
        if (from[i]) {
            put(w, to[i]);
        } else {
            char h[6] = "u00";
            sc_u32_digits(h + 5, c, 16, 2);
            h[5] = '\0';
            put_s(w, h);
        }
    }
}

void sc_jw_str(sc_jw_t *w, const char *k, const char *s)
{
    sc_jw_key_q(w, k);
    sc_jw_esc(w, s);
    sc_jw_endq(w);
}

void sc_jw_obj(sc_jw_t *w, const char *k)
{
    key(w, k);
    put(w, '{');
    w->first = true;
}

void sc_jw_close(sc_jw_t *w)
{
    put(w, '}');
    w->first = false;
}

/* v rounded to the nearest double, ties to even, as (double)v rounds; false when that is 2^64. */
static bool as_double(uint64_t *v)
{
    uint64_t unit = 1, top = *v >> 53;
    while (top >= unit)   /* unit: the spacing of the doubles at v */
        unit <<= 1;
    uint64_t low = *v & (unit - 1), half = unit >> 1;
    *v -= low;
    if (low > half || (low == half && half && (*v & unit)))
        *v += unit;
    return *v || !top;
}

/* d[0..k) rounded to p < k digits, ties to even (glibc's printf rounds the exact value so),
 * the dropped digits zeroed; returns the decimal exponent of the result. */
static int round_digits(char *d, int k, int p)
{
    bool up = d[p] > '5';
    if (d[p] == '5') {
        up = (d[p - 1] & 1) != 0;   /* '0' is even: a digit's character has its parity */
        for (int i = p + 1; i < k; i++)
            up = up || d[i] != '0';
    }
    memset(d + p, '0', (size_t)(k - p));
    for (int i = p; up && i-- > 0;) {
        up = d[i] == '9';
        d[i] = up ? '0' : (char)(d[i] + 1);
    }
    if (up)
        d[0] = '1';
    return up ? k : k - 1;
}

/* The text cJSON prints for the integral double (double)v: its digits while they fit the
 * precision (%1.15g prints an integer of up to 15 digits as it is), else d.ddde+XX with 15
 * significant digits when that text reads back as a double within cJSON's tolerance
 * (|a - b| <= max(|a|, |b|) * DBL_EPSILON), else with 17. Integer arithmetic only: on the
 * exact integers involved the tolerance test is exact (the difference of two doubles within
 * a factor of two is exact, and the bound a power-of-two scaling). */
static void put_num(sc_jw_t *w, uint64_t v)
{
    if (!as_double(&v)) {   /* 2^64: 1.84467440737096e+19 is 48 384 off, more than 4 096 */
        put_s(w, "1.8446744073709552e+19");
        return;
    }
    char buf[SC_U64_DIGITS_MAX + 1], m[SC_U64_DIGITS_MAX];
    char *d = sc_u64_digits(buf + SC_U64_DIGITS_MAX, v);
    buf[SC_U64_DIGITS_MAX] = '\0';
    int k = (int)(buf + SC_U64_DIGITS_MAX - d), p = 15, x;
    for (;; p = 17) {
        if (k <= p) {
            put_s(w, d);
            return;
        }
        memcpy(m, d, (size_t)k);
        x = round_digits(m, k, p);
        if (p == 17)
            break;
        /* the 15-digit text's value (below 2^64: only 2^64 itself rounds above it) and the
         * double it reads back as */
        uint64_t r = 0;
        for (int i = 0; i < k; i++)
            r = r * 10u + (uint64_t)(m[i] - '0');
        if (x == k)
            r *= 10u;
        (void)as_double(&r);
        uint64_t diff = r > v ? r - v : v - r, max = r > v ? r : v;
        if (diff <= max >> 52)
            break;
    }
    while (m[p - 1] == '0')
        p--;
    put(w, m[0]);
    if (p > 1)
        put(w, '.');
    for (int i = 1; i < p; i++)
        put(w, m[i]);
    put_s(w, "e+");
    put(w, (char)('0' + x / 10));
    put(w, (char)('0' + x % 10));
}

void sc_jw_num(sc_jw_t *w, const char *k, uint64_t v, bool neg)
{
    key(w, k);
    if (neg)
        put(w, '-');
    put_num(w, v);
}

sc_err_t sc_jw_end(sc_jw_t *w, const char *suffix, size_t *len)
{
    if (!w->out || !w->cap)
        return SC_ERR_INVAL;
    size_t sl = suffix ? strlen(suffix) : 0;
    if (w->n + sl + 2 > w->cap) {   /* cJSON's printer wants one byte beyond its NUL */
        w->out[0] = '\0';
        return SC_ERR_NOSPACE;
    }
    memcpy(w->out + w->n, suffix ? suffix : "", sl + 1);
    if (len)
        *len = w->n + sl;
    return SC_OK;
}

sc_err_t sc_json_emit(cJSON *obj, bool built, const char *suffix, char *out, size_t cap, size_t *len)
{
    size_t sl = suffix ? strlen(suffix) : 0;
    /* cJSON takes an int length: a larger buffer is simply more than any message needs */
    size_t room = cap > sl ? cap - sl : 0;
    if (room > (size_t)INT32_MAX)
        room = (size_t)INT32_MAX;
    sc_err_t rc = SC_OK;
    if (!obj || !built)
        rc = SC_ERR_NOMEM;
    else if (!out || room == 0 || !cJSON_PrintPreallocated(obj, out, (int)room, false))
        rc = out && cap ? SC_ERR_NOSPACE : SC_ERR_INVAL;
    cJSON_Delete(obj);
    if (rc != SC_OK) {
        if (out && cap)
            out[0] = '\0';
        return rc;
    }
    size_t n = strlen(out);
    memcpy(out + n, suffix ? suffix : "", sl + 1);
    if (len)
        *len = n + sl;
    return SC_OK;
}

sc_err_t sc_json_get_str(const cJSON *obj, const char *name, char *dst, size_t cap, size_t *len)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!it)
        return SC_ERR_NOTFOUND;
    if (!cJSON_IsString(it) || !it->valuestring)
        return SC_ERR_FORMAT;
    size_t n = strlen(it->valuestring);
    if (n >= cap)
        return SC_ERR_RANGE;
    memcpy(dst, it->valuestring, n + 1);
    if (len)
        *len = n;
    return SC_OK;
}
