/* SPDX-License-Identifier: Apache-2.0 */
/* This worker's readiness (cloud_health.h). */
#include "cloud_health.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cloud.h"
#include "sc_posix.h"

static struct {
    atomic_int_fast64_t store_ok_ms;   /* the last probe that succeeded (monotonic ms; 0: none) */
    atomic_int_fast64_t loop_ms;       /* the main loop's last pass (0: none yet) */
    atomic_int broker;                 /* -1 not said, 0, 1 */
    atomic_bool stop;
    atomic_bool exited;                /* the probe thread has returned */
    int64_t stop_ms;                   /* cloud_health_stop_begin's time (0: not yet) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool running;
    cloud_store_t st;
} hs = { .broker = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

/* 1 ready, 0 answers but takes no writes, -1 does not answer (cloud_store_writable). */
static int probe(void)
{
    return cloud_store_writable(&hs.st, CLOUD_HEALTH_WRITE_MS);
}

static void *probe_thread(void *arg)
{
    (void)arg;
    int was = 1;
    pthread_mutex_lock(&hs.mu);
    while (!atomic_load(&hs.stop)) {
        pthread_mutex_unlock(&hs.mu);
        int now = probe();
        if (now == 1)
            atomic_store(&hs.store_ok_ms, cloud_now_ms());
        if (now != was)   /* a word when it changes, not each second */
            cloud_log("readiness: the registry %s",
                      now == 1 ? "takes writes again"
                      : now == 0 ? "answers but takes no writes: read-only, or its write lock held elsewhere "
                                   "(GET /readyz: 503 store)"
                                 : "does not answer (GET /readyz: 503 store)");
        was = now;
        pthread_mutex_lock(&hs.mu);
        if (atomic_load(&hs.stop))
            break;
        struct timespec ts;   /* the condition waits on the monotonic clock (cloud_health_start) */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += CLOUD_HEALTH_PROBE_MS / 1000;
        pthread_cond_timedwait(&hs.cv, &hs.mu, &ts);
    }
    pthread_mutex_unlock(&hs.mu);
    atomic_store(&hs.exited, true);
    return NULL;
}

int cloud_health_start(const char *dbspec, char *err, size_t errlen)
{
    if (hs.running)
        return 0;
    if (cloud_store_open_probe(&hs.st, dbspec, err, errlen) != 0)
        return -1;
    atomic_store(&hs.stop, false);
    atomic_store(&hs.exited, false);
    sc_posix_cond_init(&hs.cv);
    if (pthread_create(&hs.thread, NULL, probe_thread, NULL) != 0) {
        pthread_cond_destroy(&hs.cv);
        cloud_store_close(&hs.st);
        snprintf(err, errlen, "cannot start the readiness probe's thread");
        return -1;
    }
    hs.running = true;
    return 0;
}

void cloud_health_stop_begin(void)
{
    if (!hs.running || hs.stop_ms)
        return;
    hs.stop_ms = cloud_now_ms();
    pthread_mutex_lock(&hs.mu);
    atomic_store(&hs.stop, true);
    pthread_cond_signal(&hs.cv);
    pthread_mutex_unlock(&hs.mu);
}

void cloud_health_stop(void)
{
    if (!hs.running)
        return;
    cloud_health_stop_begin();
    /* A probe stuck in a query to a server that vanished without a reset (a network cut: libpq
     * waits for TCP to give up, minutes) must not hold the stop: 2 s after the stop began it is
     * left behind, with its connection, for the process's exit to end. */
    while (!atomic_load(&hs.exited) && cloud_now_ms() - hs.stop_ms < 2000)
        nanosleep(&(struct timespec){ 0, 10 * 1000000L }, NULL);
    hs.stop_ms = 0;
    hs.running = false;
    if (!atomic_load(&hs.exited)) {
        pthread_detach(hs.thread);
        cloud_log("readiness: the registry probe is still waiting for the database; not waiting for it");
        return;
    }
    pthread_join(hs.thread, NULL);
    pthread_cond_destroy(&hs.cv);
    cloud_store_close(&hs.st);
}

void cloud_health_broker(bool up)
{
    atomic_store(&hs.broker, up ? 1 : 0);
    atomic_store(&hs.loop_ms, cloud_now_ms());
}

bool cloud_health_store_up(void)
{
    int64_t ok = atomic_load(&hs.store_ok_ms);
    return ok && cloud_now_ms() - ok <= CLOUD_HEALTH_STORE_MS;
}

int cloud_health_broker_up(void)
{
    return atomic_load(&hs.broker);
}

const char *cloud_health_not_ready(void)
{
    int64_t loop = atomic_load(&hs.loop_ms);
    if (!loop)
        return "starting";
    if (!cloud_health_store_up())
        return "store";
    if (atomic_load(&hs.broker) != 1)
        return "broker";
    if (cloud_now_ms() - loop > CLOUD_HEALTH_LOOP_MS)
        return "stalled";
    return NULL;
}
