/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON event printer (sc_posix_event.h). */
#include <pthread.h>
#include <stdlib.h>
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

void sc_posix_event_print(FILE *f, cJSON *line)
{
    char *s = line ? cJSON_PrintUnformatted(line) : NULL;
    if (s) {
        flockfile(f);
        fputs(s, f);
        fputc('\n', f);
        funlockfile(f);
        sc_posix_output_flush(f); /* a reader gone stops the run */
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
