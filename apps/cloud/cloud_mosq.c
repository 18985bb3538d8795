/* SPDX-License-Identifier: Apache-2.0 */
/* The cloud's own MQTT clients and whether each is connected: see cloud_mosq.h. */
#include "cloud_mosq.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud.h"

struct cloud_mosq {
    struct mosquitto *m;
    atomic_bool connected;   /* written by the loop's thread, read by any (GET /readyz) */
    bool threaded;           /* cloud_mosq_start started libmosquitto's thread */
    const cloud_mosq_hooks_t *hooks;
    void *owner;
};

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    cloud_mosq_t *c = ud;
    if (c->hooks->connect)
        c->hooks->connect(c->owner, m, rc);
    atomic_store(&c->connected, rc == 0);
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

void cloud_mosq_free(cloud_mosq_t *c)
{
    if (!c)
        return;
    atomic_store(&c->connected, false);   /* a deliberate disconnect is not a lost broker */
    mosquitto_disconnect(c->m);
    if (c->threaded)
        mosquitto_loop_stop(c->m, true);
    mosquitto_destroy(c->m);
    free(c);
}
