/* SPDX-License-Identifier: Apache-2.0 */
/* Output that never makes its caller wait (sc_posix.h, sc_posix_output_start).
 *
 * A long-running tool's stdout (--json events) and stderr (its log) go to whoever started it:
 * a journal, a log shipper, a supervisor's pipe, `| less`. When that reader stops reading, the
 * 64 KiB pipe fills and a plain fwrite blocks the thread that made the line: for the device
 * its whole loop (radio, UDP 8266 service, MQTT), for the cloud its HTTP API and the broker's
 * pipes. Once started, each of the two streams has a queue of at most `max` bytes that one
 * thread writes out; a line that does not fit is dropped whole, counted, and the count is
 * told on stderr once the reader reads again. Before the start and after the stop, lines are
 * written directly, as before. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_posix.h"

#define STOP_WAIT_S 2 /* at exit, how long a reader that reads nothing may hold the last lines */

typedef struct {
    FILE *f;
    pthread_mutex_t lock;
    pthread_cond_t more; /* a line came, or stop */
    pthread_cond_t idle; /* the writer ended */
    pthread_t thread;
    char *buf;
    size_t len, cap;
    bool running;   /* lines go to the queue */
    bool stop;      /* the writer ends once the queue is empty */
    bool done;      /* the writer ended */
    bool abandoned; /* stopped while its reader did not read: later lines are dropped */
    unsigned long dropped;
    unsigned long batches; /* written so far: the stop waits while this moves */
} outq_t;

static outq_t q_out = { .lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER,
                        .idle = PTHREAD_COND_INITIALIZER };
static outq_t q_err = { .lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER,
                        .idle = PTHREAD_COND_INITIALIZER };
static size_t q_max;
static char q_prog[64];

static outq_t *queue_of(FILE *f)
{
    return f == stdout ? &q_out : f == stderr ? &q_err : NULL;
}

static void *writer(void *arg)
{
    outq_t *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->len && !q->stop) {
            /* Idle: look once a second whether the reader is still there. A pipe whose reader
             * is gone says POLLERR; a run that prints nothing for minutes (a device sniffing)
             * stopped only at its next line, which might not come before its window ended. */
            struct timespec until = sc_posix_time_in(CLOCK_MONOTONIC, 1000); /* conds_init */
            if (pthread_cond_timedwait(&q->more, &q->lock, &until) == ETIMEDOUT && !q->len && !q->stop) {
                struct pollfd pfd = { .fd = fileno(q->f), .events = POLLOUT };
                if (pfd.fd >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR))
                    sc_posix_output_gone();
            }
        }
        if (!q->len)
            break;
        char *b = q->buf;
        size_t n = q->len;
        unsigned long dropped = q->dropped;
        q->buf = NULL;
        q->len = q->cap = 0;
        q->dropped = 0;
        pthread_mutex_unlock(&q->lock);
        flockfile(q->f);
        fwrite(b, 1, n, q->f);
        funlockfile(q->f);
        sc_posix_output_flush(q->f); /* a reader gone stops the run (EPIPE), as before */
        free(b);
        pthread_mutex_lock(&q->lock);
        q->batches++;
        pthread_mutex_unlock(&q->lock);
        if (dropped) { /* said on stderr, after what was written before the drop */
            char line[256];
            int m = snprintf(line, sizeof line,
                             q == &q_out ? "%s: --json: %lu event line(s) dropped: stdout was not read for a while "
                                           "(more than %zu KiB waiting)\n"
                                         : "%s: %lu log line(s) dropped: stderr was not read for a while (more "
                                           "than %zu KiB waiting)\n",
                             q_prog, dropped, q_max >> 10);
            if (m > 0)
                sc_posix_output_write(stderr, line, (size_t)m < sizeof line ? (size_t)m : sizeof line - 1);
        }
        pthread_mutex_lock(&q->lock);
    }
    q->done = true;
    pthread_cond_broadcast(&q->idle);
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

static void start_one(outq_t *q, FILE *f)
{
    pthread_mutex_lock(&q->lock);
    /* Not after a stop that gave up on its reader: that writer still waits in its write, and
     * a second one on the same stream would interleave with it (lines stay dropped). */
    if (!q->running && !q->abandoned) {
        q->f = f;
        q->stop = q->done = q->abandoned = false;
        q->running = pthread_create(&q->thread, NULL, writer, q) == 0;
    }
    pthread_mutex_unlock(&q->lock);
}

static void stop_one(outq_t *q)
{
    pthread_mutex_lock(&q->lock);
    bool was = q->running;
    q->running = false;
    q->stop = true;
    pthread_cond_signal(&q->more);
    /* Wait while the writer gets on (a slow reader is still a reader); give up after
     * STOP_WAIT_S seconds in which it wrote nothing. */
    unsigned long seen = q->batches;
    struct timespec until = sc_posix_time_in(CLOCK_MONOTONIC, STOP_WAIT_S * 1000);
    while (was && !q->done) {
        if (pthread_cond_timedwait(&q->idle, &q->lock, &until) != ETIMEDOUT)
            continue;
        if (q->batches == seen)
            break;
        seen = q->batches;
        until = sc_posix_time_in(CLOCK_MONOTONIC, STOP_WAIT_S * 1000);
    }
    bool done = q->done;
    if (was && !done)
        q->abandoned = true; /* its writer still waits for the reader: do not wait with it */
    pthread_mutex_unlock(&q->lock);
    if (was && done)
        pthread_join(q->thread, NULL);
    else if (was)
        pthread_detach(q->thread); /* ends with the process; its lines are lost with it */
}

void sc_posix_output_stop(void)
{
    stop_one(&q_out); /* first: its writer may still tell a drop on stderr */
    stop_one(&q_err);
}

/* The writers' and the stop's waits on the monotonic clock: on the wall clock a step back held
 * the look for a reader gone, or a stop, as long. Once, before the first writer starts (no
 * line is queued, so no condition is signalled, before that). */
static pthread_once_t conds_once = PTHREAD_ONCE_INIT;
static void conds_init(void)
{
    sc_posix_cond_init(&q_out.more);
    sc_posix_cond_init(&q_out.idle);
    sc_posix_cond_init(&q_err.more);
    sc_posix_cond_init(&q_err.idle);
}

void sc_posix_output_start(const char *prog, size_t max_bytes)
{
    static bool at_exit;
    pthread_once(&conds_once, conds_init);
    snprintf(q_prog, sizeof q_prog, "%s", prog ? prog : "smartcfg");
    q_max = max_bytes ? max_bytes : 1u << 20;
    start_one(&q_out, stdout);
    start_one(&q_err, stderr);
    if (!at_exit)
        at_exit = atexit(sc_posix_output_stop) == 0;
}

/* The queue's room for n more bytes, grown by doubling up to q_max; under q->lock. */
static bool reserve(outq_t *q, size_t n)
{
    if (q->len + n > q_max)
        return false;
    if (q->len + n <= q->cap)
        return true;
    size_t cap = q->cap ? q->cap : 4096;
    while (cap < q->len + n)
        cap *= 2;
    if (cap > q_max)
        cap = q_max;
    char *nb = realloc(q->buf, cap);
    if (!nb)
        return false;
    q->buf = nb;
    q->cap = cap;
    return true;
}

void sc_posix_output_write(FILE *f, const char *s, size_t n)
{
    outq_t *q = queue_of(f);
    if (q) {
        pthread_mutex_lock(&q->lock);
        if (q->running || q->abandoned) {
            if (q->running && reserve(q, n)) {
                memcpy(q->buf + q->len, s, n);
                q->len += n;
                pthread_cond_signal(&q->more);
            } else if (q->running) {
                q->dropped++;
            }
            pthread_mutex_unlock(&q->lock);
            return;
        }
        pthread_mutex_unlock(&q->lock);
    }
    flockfile(f);
    fwrite(s, 1, n, f);
    funlockfile(f);
    sc_posix_output_flush(f);
}

void sc_posix_output_printf(FILE *f, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n >= sizeof line) { /* cut to fit, still one whole line */
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    sc_posix_output_write(f, line, (size_t)n);
}
