/* SPDX-License-Identifier: Apache-2.0 */
/* The cloud's own MQTT clients and whether each is connected: see cloud_mosq.h. */
#include "cloud_mosq.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud.h"

/* How long a stop waits for the loop's thread to end: a message handler in one SQLite busy
 * wait (5 s) finishes within it; a loop stuck longer is left running (cloud_mosq_free). */
#ifndef STOP_WAIT_MS   /* (tests/unit/test_cloud_mosq.c sets a shorter one) */
#define STOP_WAIT_MS 6000
#endif

struct cloud_mosq {
    struct mosquitto *m;
    atomic_bool connected;   /* written by the loop's thread, read by any (GET /readyz) */
    atomic_bool stopping;    /* cloud_mosq_free has begun: a CONNACK now is answered with a DISCONNECT */
    bool threaded;           /* cloud_mosq_start started libmosquitto's thread */
    const cloud_mosq_hooks_t *hooks;
    void *owner;
    pthread_mutex_t stop_mu;   /* stop_loop's: the joiner says when the loop's thread is gone */
    pthread_cond_t stop_cv;
    bool stopped;
};

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    cloud_mosq_t *c = ud;
    /* A reconnect of the loop's that began before the stop's mosquitto_disconnect and connected
     * after it: libmosquitto's reconnect overwrote the 'disconnecting' mark (and the stop's
     * DISCONNECT went nowhere, there being no socket yet), so the loop would run on, connected,
     * until the keepalive (30 s) and the stop would give up. Say goodbye again, here on the
     * loop's own thread: the loop ends once this DISCONNECT is out (after a refusal, the mark
     * alone ends it). A reconnect that fails to connect at all (the broker down) calls nothing
     * here and retries until the stop's bound. */
    if (atomic_load(&c->stopping)) {
        mosquitto_disconnect(m);
        return;
    }
    if (c->hooks->connect)
        c->hooks->connect(c->owner, m, rc);
    atomic_store(&c->connected, rc == 0 && !atomic_load(&c->stopping));
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    cloud_mosq_t *c = ud;
    bool was = atomic_exchange(&c->connected, false);
    if (c->hooks->disconnect)
        c->hooks->disconnect(c->owner, rc, was);
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m;
    cloud_mosq_t *c = ud;
    if (c->hooks->message)
        c->hooks->message(c->owner, msg);
}

cloud_mosq_t *cloud_mosq_new(const char *id_prefix, const char *user, const char *pass,
                             const cloud_mosq_hooks_t *hooks, void *owner, char *err, size_t errlen)
{
    cloud_mosq_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->hooks = hooks;
    c->owner = owner;
    atomic_init(&c->connected, false);
    atomic_init(&c->stopping, false);
    char id[40];
    int n = snprintf(id, sizeof id, "%s", id_prefix);
    if (n < 0 || (size_t)n + 9 > sizeof id) {
        snprintf(err, errlen, "MQTT client id prefix too long");
        free(c);
        return NULL;
    }
    cloud_random_hex(id + n, 8);
    c->m = mosquitto_new(id, true, c);
    if (!c->m) {
        snprintf(err, errlen, "mosquitto_new failed");
        free(c);
        return NULL;
    }
    mosquitto_username_pw_set(c->m, user, pass);
    mosquitto_connect_callback_set(c->m, on_connect);
    mosquitto_disconnect_callback_set(c->m, on_disconnect);
    mosquitto_message_callback_set(c->m, on_message);
    return c;
}

int cloud_mosq_start(cloud_mosq_t *c, const char *host, uint16_t port)
{
    mosquitto_reconnect_delay_set(c->m, 1, 10, true);
    (void)mosquitto_connect_async(c->m, host, port, 30);
    if (mosquitto_loop_start(c->m) != MOSQ_ERR_SUCCESS)
        return -1;
    c->threaded = true;
    return 0;
}

struct mosquitto *cloud_mosq_client(const cloud_mosq_t *c)
{
    return c->m;
}

bool cloud_mosq_connected(const cloud_mosq_t *c)
{
    return c && atomic_load(&((cloud_mosq_t *)c)->connected);
}

void cloud_mosq_lost(cloud_mosq_t *c)
{
    atomic_store(&c->connected, false);
}

static void *joiner(void *arg)
{
    cloud_mosq_t *c = arg;
    mosquitto_loop_stop(c->m, false);
    pthread_mutex_lock(&c->stop_mu);
    c->stopped = true;
    pthread_cond_signal(&c->stop_cv);
    pthread_mutex_unlock(&c->stop_mu);
    return NULL;
}

/* Ends libmosquitto's thread without cancelling it. mosquitto_loop_stop(m, true) cancels it at
 * its next cancellation point, which may be the send() of the DISCONNECT just queued, inside
 * packet__write with the client's current_out_packet_mutex held (ThreadSanitizer: "destroy of a
 * locked mutex" in mosquitto_destroy, at 9 of 30 stops), or a write in one of our callbacks
 * holding SQLite's or the store's locks that cloud_store_close takes next. Once
 * mosquitto_disconnect has marked the client disconnected, the thread returns by itself: after
 * sending DISCONNECT, or when loop_stop's wake-up ends its wait to reconnect. Joined on a
 * helper thread so the wait is bounded: false when it has not ended within STOP_WAIT_MS (a
 * handler waiting on the database, a broker that takes no more bytes, a connect that hangs). */
static bool stop_loop(cloud_mosq_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->stop_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&c->stop_mu, NULL);
    pthread_t th;
    if (pthread_create(&th, NULL, joiner, c) != 0) {
        pthread_cond_destroy(&c->stop_cv);   /* c itself stays: the loop may still run */
        pthread_mutex_destroy(&c->stop_mu);
        return false;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += STOP_WAIT_MS / 1000;
    until.tv_nsec += (long)(STOP_WAIT_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&c->stop_mu);
    while (!c->stopped && pthread_cond_timedwait(&c->stop_cv, &c->stop_mu, &until) != ETIMEDOUT)
        continue;   /* a spurious wake-up: wait on */
    bool done = c->stopped;
    pthread_mutex_unlock(&c->stop_mu);
    if (!done) {
        pthread_detach(th);   /* it and c stay until the process exits */
        return false;
    }
    pthread_join(th, NULL);
    pthread_cond_destroy(&c->stop_cv);
    pthread_mutex_destroy(&c->stop_mu);
    return true;
}

bool cloud_mosq_free(cloud_mosq_t *c)
{
    if (!c)
        return true;
    atomic_store(&c->stopping, true);     /* before the disconnect: on_connect reads it after */
    atomic_store(&c->connected, false);   /* a deliberate disconnect is not a lost broker */
    mosquitto_disconnect(c->m);
    if (c->threaded && !stop_loop(c)) {
        cloud_log("an MQTT client of the cloud did not stop within %d ms; left to the exit", STOP_WAIT_MS);
        return false;
    }
    mosquitto_destroy(c->m);
    free(c);
    return true;
}
