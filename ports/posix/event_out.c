/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON event printer (sc_posix_event.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_posix.h"
#include "sc_posix_event.h"

cJSON *sc_posix_event_line(const char *event, int64_t t_ms, cJSON *fields)
{
    cJSON *line = cJSON_CreateObject();
    if (!line) {
        cJSON_Delete(fields);
        return NULL;
    }
    /* v, event and t_ms first so a reader can filter lines cheaply; ts last */
    cJSON_AddNumberToObject(line, "v", SC_EVENT_VERSION);
    cJSON_AddStringToObject(line, "event", event);
    if (t_ms >= 0)
        cJSON_AddNumberToObject(line, "t_ms", (double)t_ms);
    cJSON *it = fields ? fields->child : NULL;
    while (it) {
        cJSON *next = it->next;
        cJSON_DetachItemViaPointer(fields, it);
        cJSON_AddItemToObject(line, it->string, it);
        it = next;
    }
    cJSON_Delete(fields);
    if (t_ms >= 0)
        cJSON_AddNumberToObject(line, "ts", (double)sc_posix_unix_ms());
    return line;
}

static uint32_t utf8_cp(const uint8_t *p, size_t k)
{
    uint32_t cp = k == 1 ? p[0] : k == 2 ? (p[0] & 0x1Fu) : k == 3 ? (p[0] & 0x0Fu) : (p[0] & 0x07u);
    for (size_t i = 1; i < k; i++)
        cp = (cp << 6) | (p[i] & 0x3Fu);
    return cp;
}

bool sc_posix_utf8_control(const uint8_t *p, size_t k)
{
    if (k == 0)
        return false;
    uint32_t c = utf8_cp(p, k);
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F ||
           c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

void sc_posix_event_print(FILE *f, cJSON *line)
{
    char *s = line ? cJSON_PrintUnformatted(line) : NULL;
    if (s) {
        size_t n = strlen(s);
        /* a character of 2 or 3 bytes, or a stray byte, becomes 6 ("\u009b", "\ufffd") */
        char *l = malloc(6 * n + 1);
        if (l) { /* one write of the whole line: queued once started; a reader gone stops the run */
            size_t o = 0;
            const uint8_t *u = (const uint8_t *)s;
            for (size_t i = 0; i < n;) {
                size_t k = u[i] < 0x80 ? 1 : sc_posix_utf8_seq(u + i, n - i);
                if (k == 0) {
                    /* a byte that is no UTF-8 (a file name, a device's text): the line stays
                     * UTF-8 (docs/json.md), the byte is U+FFFD */
                    memcpy(l + o, "\\ufffd", 6);
                    o += 6;
                    i++;
                } else if ((k > 1 || u[i] == 0x7F) && sc_posix_utf8_control(u + i, k)) {
                    /* only inside a string can cJSON have written DEL or a non-ASCII character
                     * (it escapes C0 itself) */
                    o += (size_t)snprintf(l + o, 7, "\\u%04x", (unsigned)utf8_cp(u + i, k));
                    i += k;
                } else {
                    memcpy(l + o, s + i, k);   /* ASCII, or a whole character */
                    o += k;
                    i += k;
                }
            }
            l[o] = '\n';
            sc_posix_output_write(f, l, o + 1);
            free(l);
        }
        cJSON_free(s);
    }
    cJSON_Delete(line);
}

void sc_posix_event(const char *event, int64_t t_ms, cJSON *fields)
{
    sc_posix_event_print(stdout, sc_posix_event_line(event, t_ms, fields));
}

static struct timespec t0;
static pthread_once_t t0_once = PTHREAD_ONCE_INIT;

static void t0_init(void)
{
    clock_gettime(CLOCK_MONOTONIC, &t0);
}

uint32_t sc_posix_event_ms(void)
{
    pthread_once(&t0_once, t0_init);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint32_t)((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid. Rejects overlongs,
 * surrogates and code points above U+10FFFF. */
size_t sc_posix_utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}
