/* SPDX-License-Identifier: Apache-2.0 */
/* The part of cJSON's API the smartcfg core calls, for the Cortex-M4 self-test only: parse
 * (with length, nesting limit 1000, trailing text allowed unless asked otherwise), build
 * objects of strings/numbers/objects, compact printing into a caller buffer, lookup, free.
 *
 * Why this exists: Debian ships cJSON for the host only (libcjson-dev: the header and an
 * x86-64 library), no arm-none-eabi build and no package with its sources, and the project
 * takes nothing from outside Debian. So the bare-metal self-test links this stand-in, written
 * against cJSON 1.7's public header (struct layout, type bits) and its documented behaviour
 * (numbers print as %d when integral, else %1.15g, or %1.17g when that does not read back).
 * It is NOT part of the product: a firmware links the real cJSON its SDK ships. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ---- items --------------------------------------------------------------------------- */
static cJSON *new_item(int type)
{
    cJSON *it = calloc(1, sizeof *it);
    if (it)
        it->type = type;
    return it;
}

void cJSON_Delete(cJSON *item)
{
    while (item) {
        cJSON *next = item->next;
        if (!(item->type & cJSON_IsReference)) {
            cJSON_Delete(item->child);
            free(item->valuestring);
        }
        if (!(item->type & cJSON_StringIsConst))
            free(item->string);
        free(item);
        item = next;
    }
}

/* Children form a list; the first child's prev points at the last one (O(1) append). */
static void append(cJSON *parent, cJSON *it)
{
    cJSON *first = parent->child;
    if (!first) {
        parent->child = it;
        it->prev = it;
    } else {
        cJSON *last = first->prev;
        last->next = it;
        it->prev = last;
        first->prev = it;
    }
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int clamp_int(double d)
{
    if (d >= (double)INT_MAX)
        return INT_MAX;
    if (d <= (double)INT_MIN)
        return INT_MIN;
    return (int)d;
}

cJSON *cJSON_CreateObject(void)
{
    return new_item(cJSON_Object);
}

static cJSON *add(cJSON *object, const char *name, cJSON *it)
{
    if (!it)
        return NULL;
    if (!object || !name || !(it->string = dup_str(name))) {
        cJSON_Delete(it);
        return NULL;
    }
    append(object, it);
    return it;
}

cJSON *cJSON_AddNumberToObject(cJSON *const object, const char *const name, const double number)
{
    cJSON *it = new_item(cJSON_Number);
    if (it) {
        it->valuedouble = number;
        it->valueint = clamp_int(number);
    }
    return add(object, name, it);
}

cJSON *cJSON_AddStringToObject(cJSON *const object, const char *const name, const char *const string)
{
    cJSON *it = new_item(cJSON_String);
    if (it && (!string || !(it->valuestring = dup_str(string)))) {
        cJSON_Delete(it);
        return NULL;
    }
    return add(object, name, it);
}

cJSON *cJSON_AddObjectToObject(cJSON *const object, const char *const name)
{
    return add(object, name, new_item(cJSON_Object));
}

cJSON *cJSON_AddArrayToObject(cJSON *const object, const char *const name)
{
    return add(object, name, new_item(cJSON_Array));
}

cJSON_bool cJSON_AddItemToArray(cJSON *array, cJSON *item)
{
    if (!array || !item || (array->type & 0xFF) != cJSON_Array)
        return 0;
    append(array, item);
    return 1;
}

cJSON *cJSON_GetObjectItemCaseSensitive(const cJSON *const object, const char *const string)
{
    if (!object || !string)
        return NULL;
    for (cJSON *c = object->child; c; c = c->next)
        if (c->string && strcmp(c->string, string) == 0)
            return c;
    return NULL;
}

static int type_of(const cJSON *it) { return it ? it->type & 0xFF : cJSON_Invalid; }
cJSON_bool cJSON_IsNumber(const cJSON *const item) { return type_of(item) == cJSON_Number; }
cJSON_bool cJSON_IsString(const cJSON *const item) { return type_of(item) == cJSON_String; }
cJSON_bool cJSON_IsArray(const cJSON *const item) { return type_of(item) == cJSON_Array; }
cJSON_bool cJSON_IsObject(const cJSON *const item) { return type_of(item) == cJSON_Object; }

/* ---- parser ---------------------------------------------------------------------------- */
typedef struct {
    const unsigned char *p;
    size_t len, off;
    unsigned depth;
} in_t;

static int more(const in_t *in, size_t n) { return in->off + n <= in->len; }
static void skip_ws(in_t *in)
{
    while (more(in, 1) && in->p[in->off] <= 32)
        in->off++;
}

static int parse_value(in_t *in, cJSON *it);

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10u;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10u;
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* \uXXXX (a surrogate pair when needed) to UTF-8; returns input bytes used, 0 if invalid. */
static size_t utf16_escape(const unsigned char *s, const unsigned char *end, char **o)
{
    unsigned cp, lo;
    size_t used = 6;
    if (end - s < 6 || !hex4(s + 2, &cp) || (cp >= 0xDC00 && cp <= 0xDFFF))
        return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - s < 12 || s[6] != '\\' || s[7] != 'u' || !hex4(s + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return 0;
        cp = 0x10000 + ((cp & 0x3FF) << 10 | (lo & 0x3FF));
        used = 12;
    }
    char *d = *o;
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xC0 | cp >> 6);
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xE0 | cp >> 12);
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *d++ = (char)(0xF0 | cp >> 18);
        *d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *d++ = (char)(0x80 | (cp & 0x3F));
    }
    *o = d;
    return used;
}

static char *parse_string(in_t *in)
{
    if (!more(in, 1) || in->p[in->off] != '"')
        return NULL;
    const unsigned char *s = in->p + in->off + 1, *end = in->p + in->len, *q = s;
    while (q < end && *q != '"')
        q += (*q == '\\') ? 2 : 1;
    if (q >= end)
        return NULL;
    char *out = malloc((size_t)(q - s) + 1), *o = out;   /* decoding never grows */
    if (!out)
        return NULL;
    while (s < q) {
        if (*s != '\\') {
            *o++ = (char)*s++;
            continue;
        }
        size_t used = 2;
        switch (s[1]) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case '"': case '\\': case '/': *o++ = (char)s[1]; break;
        case 'u': used = utf16_escape(s, q, &o); break;
        default: used = 0;
        }
        if (!used) {
            free(out);
            return NULL;
        }
        s += used;
    }
    *o = '\0';
    in->off = (size_t)(q + 1 - in->p);
    return out;
}

static int parse_number(in_t *in, cJSON *it)
{
    char buf[64];
    size_t n = 0;
    while (more(in, n + 1) && n < sizeof buf - 1 && strchr("0123456789+-eE.", in->p[in->off + n]) &&
           in->p[in->off + n])
        buf[n] = (char)in->p[in->off + n], n++;
    buf[n] = '\0';
    char *stop;
    double d = strtod(buf, &stop);
    if (stop == buf)
        return 0;
    it->type = cJSON_Number;
    it->valuedouble = d;
    it->valueint = clamp_int(d);
    in->off += (size_t)(stop - buf);
    return 1;
}

static int parse_container(in_t *in, cJSON *it, int object)
{
    if (++in->depth > CJSON_NESTING_LIMIT)
        return 0;
    it->type = object ? cJSON_Object : cJSON_Array;
    in->off++;   /* '{' or '[' */
    skip_ws(in);
    const unsigned char close = object ? '}' : ']';
    if (more(in, 1) && in->p[in->off] == close) {
        in->off++;
        in->depth--;
        return 1;
    }
    for (;;) {
        cJSON *child = new_item(cJSON_Invalid);
        if (!child)
            return 0;
        append(it, child);
        skip_ws(in);
        if (object) {
            if (!(child->string = parse_string(in)))
                return 0;
            skip_ws(in);
            if (!more(in, 1) || in->p[in->off] != ':')
                return 0;
            in->off++;
            skip_ws(in);
        }
        if (!parse_value(in, child))
            return 0;
        skip_ws(in);
        if (!more(in, 1))
            return 0;
        if (in->p[in->off] == ',') {
            in->off++;
            continue;
        }
        if (in->p[in->off] != close)
            return 0;
        in->off++;
        in->depth--;
        return 1;
    }
}

static int literal(in_t *in, const char *word)
{
    size_t n = strlen(word);
    if (!more(in, n) || memcmp(in->p + in->off, word, n) != 0)
        return 0;
    in->off += n;
    return 1;
}

static int parse_value(in_t *in, cJSON *it)
{
    if (!more(in, 1))
        return 0;
    unsigned char c = in->p[in->off];
    if (literal(in, "null"))
        return it->type = cJSON_NULL, 1;
    if (literal(in, "false"))
        return it->type = cJSON_False, 1;
    if (literal(in, "true"))
        return it->type = cJSON_True, it->valueint = 1, 1;
    if (c == '"')
        return (it->valuestring = parse_string(in)) ? (it->type = cJSON_String, 1) : 0;
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(in, it);
    if (c == '[' || c == '{')
        return parse_container(in, it, c == '{');
    return 0;
}

cJSON *cJSON_ParseWithLengthOpts(const char *value, size_t buffer_length, const char **return_parse_end,
                                 cJSON_bool require_null_terminated)
{
    if (return_parse_end)
        *return_parse_end = NULL;
    if (!value || buffer_length == 0)
        return NULL;
    in_t in = { (const unsigned char *)value, buffer_length, 0, 0 };
    if (more(&in, 3) && memcmp(value, "\xEF\xBB\xBF", 3) == 0)   /* UTF-8 byte order mark */
        in.off = 3;
    skip_ws(&in);
    cJSON *it = new_item(cJSON_Invalid);
    if (!it)
        return NULL;
    int ok = parse_value(&in, it);
    if (ok && require_null_terminated) {
        skip_ws(&in);
        ok = more(&in, 1) && value[in.off] == '\0';
    }
    if (!ok) {
        cJSON_Delete(it);
        if (return_parse_end)
            *return_parse_end = value + (in.off < buffer_length ? in.off : buffer_length - 1);
        return NULL;
    }
    if (return_parse_end)
        *return_parse_end = value + in.off;
    return it;
}

cJSON *cJSON_ParseWithLength(const char *value, size_t buffer_length)
{
    return cJSON_ParseWithLengthOpts(value, buffer_length, NULL, 0);
}

/* ---- compact printer into a caller buffer ---------------------------------------------- */
typedef struct {
    char *b;
    size_t cap, n;
    int ok;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (!o->ok || o->n + n + 1 > o->cap) {
        o->ok = 0;
        return;
    }
    memcpy(o->b + o->n, s, n);
    o->n += n;
}

static void put_string(out_t *o, const char *s)
{
    put(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char esc[8];
        const char *e = NULL;
        switch (*p) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            if (*p < 32) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                e = esc;
            }
        }
        if (e)
            put(o, e, strlen(e));
        else
            put(o, (const char *)p, 1);
    }
    put(o, "\"", 1);
}

static void put_number(out_t *o, const cJSON *it)
{
    char num[32];
    double d = it->valuedouble, back;
    if (isnan(d) || isinf(d)) {
        strcpy(num, "null");
    } else if (d == (double)it->valueint) {
        snprintf(num, sizeof num, "%d", it->valueint);
    } else {
        snprintf(num, sizeof num, "%1.15g", d);
        back = strtod(num, NULL);
        if (fabs(back - d) > fmax(fabs(back), fabs(d)) * DBL_EPSILON)
            snprintf(num, sizeof num, "%1.17g", d);
    }
    put(o, num, strlen(num));
}

static void put_value(out_t *o, const cJSON *it)
{
    switch (it->type & 0xFF) {
    case cJSON_NULL: put(o, "null", 4); break;
    case cJSON_False: put(o, "false", 5); break;
    case cJSON_True: put(o, "true", 4); break;
    case cJSON_Number: put_number(o, it); break;
    case cJSON_String: put_string(o, it->valuestring); break;
    case cJSON_Raw:
        if (it->valuestring)
            put(o, it->valuestring, strlen(it->valuestring));
        else
            o->ok = 0;
        break;
    case cJSON_Array:
    case cJSON_Object: {
        int object = (it->type & 0xFF) == cJSON_Object;
        put(o, object ? "{" : "[", 1);
        for (const cJSON *c = it->child; c; c = c->next) {
            if (object) {
                put_string(o, c->string);
                put(o, ":", 1);
            }
            put_value(o, c);
            if (c->next)
                put(o, ",", 1);
        }
        put(o, object ? "}" : "]", 1);
        break;
    }
    default: o->ok = 0;
    }
}

cJSON_bool cJSON_PrintPreallocated(cJSON *item, char *buffer, const int length, const cJSON_bool format)
{
    (void)format;   /* the core only prints compact */
    if (!item || !buffer || length <= 0)
        return 0;
    out_t o = { buffer, (size_t)length, 0, 1 };
    put_value(&o, item);
    if (!o.ok)
        return 0;
    buffer[o.n] = '\0';
    return 1;
}
