/* SPDX-License-Identifier: Apache-2.0 */
/* The cloud's own MQTT clients of its broker (cloud_mosq.c): the binding service
 * (cloud_bindsvc.c), the IoT Explorer topics (cloud_thing.c) and OTA (cloud_ota.c), each a
 * libmosquitto client with the service identity. Here is the one record of whether such a
 * client is connected, which GET /readyz reports ("broker", cloud_main.c): from a CONNACK that
 * accepted it until libmosquitto reports the connection gone, or its owner does
 * (cloud_mosq_lost); and of whether it is ready (cloud_mosq_ready): connected, and every
 * subscription its connect hook made on this connection granted by a SUBACK. libmosquitto's
 * callbacks come here; the owner's hooks get the owner's pointer. Internal to apps/cloud. */
#ifndef SMARTCFG_APPS_CLOUD_MOSQ_H
#define SMARTCFG_APPS_CLOUD_MOSQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mosquitto.h>

typedef struct cloud_mosq cloud_mosq_t;

/* Called on the thread that runs the client's network loop. Each may be NULL. */
typedef struct {
    /* A CONNACK: rc 0 accepted (subscribe here, with cloud_mosq_subscribe; the client counts
     * as connected when this returns), else the broker's refusal code (it stays not connected). */
    void (*connect)(void *owner, struct mosquitto *m, int rc);
    /* The connection is gone (rc: libmosquitto's reason); was: it had counted as connected. */
    void (*disconnect)(void *owner, int rc, bool was);
    void (*message)(void *owner, const struct mosquitto_message *msg);
} cloud_mosq_hooks_t;

/* A client with the id id_prefix and 8 random hex digits, logging in as user/pass; not
 * connected yet (set its options on cloud_mosq_client). NULL: err says why. */
cloud_mosq_t *cloud_mosq_new(const char *id_prefix, const char *user, const char *pass,
                             const cloud_mosq_hooks_t *hooks, void *owner, char *err, size_t errlen);
/* Connects in the background on a network thread of its own, reconnecting 1 to 10 s apart: a
 * broker still starting is retried, not fatal. host may be a name: it is looked up on a thread
 * of its own for each connect, never holding the caller nor the stop, and while the resolver
 * does not answer (or fails) the addresses of its last good lookup are used. -1: the thread
 * could not start. Without this the owner connects and runs the loop itself (the binding
 * service). */
int cloud_mosq_start(cloud_mosq_t *c, const char *host, uint16_t port);
/* For a client the owner runs itself (no cloud_mosq_start: the binding service): connects (or
 * reconnects) to host:port without blocking (host an address: a name is looked up here, which
 * blocks; sc_posix_lookup.h looks one up off the caller's thread), the connection completed by the owner's
 * mosquitto_loop, so a loop that checks a stop flag between its calls sees it within one loop
 * wait even when the broker's port drops every SYN. MOSQ_ERR_SUCCESS, or libmosquitto's error
 * (then try again later). */
int cloud_mosq_connect_to(cloud_mosq_t *c, const char *host, uint16_t port);
struct mosquitto *cloud_mosq_client(const cloud_mosq_t *c);
/* mosquitto_publish (not retained) on a client cloud_mosq_start runs, from any thread, and the
 * wake-up of its network thread, which sleeps until there is work: a packet queued with
 * mosquitto_publish alone, from another thread, waits until the thread wakes for something else
 * (the keepalive's next check, up to 30 s). libmosquitto's result. */
int cloud_mosq_publish(cloud_mosq_t *c, const char *topic, const void *payload, size_t len, int qos);
/* Wakes the network thread of c (any thread): there is a packet to send. NULL, or a client its
 * owner runs: nothing. */
void cloud_mosq_wake(cloud_mosq_t *c);
/* Connected to the broker now (any thread). false for NULL. */
bool cloud_mosq_connected(const cloud_mosq_t *c);
/* From the connect hook (the loop's thread): subscribes, and keeps the client not ready
 * (cloud_mosq_ready) until the SUBACK grants it. A SUBACK refusing it (0x80) is logged with the
 * filter (once per connection) and keeps the client not ready until cloud_mosq_retry or a later
 * connection gets it granted; so does a subscribe that could not be sent (-1). */
int cloud_mosq_subscribe(cloud_mosq_t *c, struct mosquitto *m, const char *filter, int qos);
/* Asks the broker again, on the same connection, for each subscription it refused (or that
 * could not be sent), 5 s after the refusal and every 5 s after that: a broker ACL put right
 * is taken up without a reconnect (the refusal alone never ends the connection). Call it
 * often, from the owner's thread (the main loop), never after cloud_mosq_stop. NULL: nothing. */
void cloud_mosq_retry(cloud_mosq_t *c);
/* Connected, and every subscription of this connection granted (GET /readyz; any thread). */
bool cloud_mosq_ready(const cloud_mosq_t *c);
/* The owner found the connection unusable (its own loop or reconnect failed). */
void cloud_mosq_lost(cloud_mosq_t *c);
/* Begins the stop without waiting: asks the thread cloud_mosq_start started to end (never
 * cancelled: it is woken and sees the stop at once, even in a name lookup or a connect under way, and
 * returns once its DISCONNECT is out, within 1 s), or disconnects a client its owner runs,
 * and sets the stop's deadline, 6 s from now. A process stopping several clients calls this for
 * each first, so they end in parallel and their waits share one bound. Once is enough; NULL:
 * nothing. Publishing afterwards fails (not connected). */
void cloud_mosq_stop(cloud_mosq_t *c);
/* cloud_mosq_stop if not done yet, then waits for that thread until the stop's deadline and
 * frees: true. false when the thread has not ended by then (a hook waiting on the database, a
 * broker that takes no more bytes): then nothing is freed and
 * its hooks may still run, so the owner must keep what they use too, for the process's exit.
 * NULL: true. */
bool cloud_mosq_free(cloud_mosq_t *c);

#endif
