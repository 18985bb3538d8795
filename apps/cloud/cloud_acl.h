/* SPDX-License-Identifier: Apache-2.0 */
/* The device credential and topic rules of the local cloud, one implementation for its two
 * broker front-ends: the mosquitto plugin (plugin/smartcfg_auth.c) and the answers to
 * RabbitMQ's HTTP auth backend (cloud_authhttp.c). Pure decisions: the registry is reached
 * through the caller's callbacks (SQLite read-only in the plugin, the cloud's store in the
 * HTTP service), and nothing here logs, so each front-end reports refusals its own way. */
#ifndef SMARTCFG_APPS_CLOUD_ACL_H
#define SMARTCFG_APPS_CLOUD_ACL_H

#include <stdbool.h>
#include <stddef.h>

#define CLOUD_ACL_ID_MAX 128   /* client ids, product ids: longer is refused */

typedef enum {
    CLOUD_ACL_READ,          /* a message on a topic is about to be delivered to the client */
    CLOUD_ACL_PUBLISH,
    CLOUD_ACL_SUBSCRIBE,     /* the topic may hold '+' in the <kind> level */
    CLOUD_ACL_UNSUBSCRIBE
} cloud_acl_access_t;

typedef struct {
    /* How many registered devices have <ProductId><DeviceName> == client_id (the split is not
     * marked, so several products may prefix it); -1 on a registry error. The product id and
     * PSK of the (last) match go to pid (CLOUD_ACL_ID_MAX) and psk. */
    int (*find_device)(void *ctx, const char *client_id, char *pid, char *psk, size_t psklen);
    /* 1 when <pid>/<dn> is registered, 0 when not, -1 on error. */
    int (*device_exists)(void *ctx, const char *pid, const char *dn);
    void *ctx;
    /* 1 when the gateway logged in as gw_client_id has the sub-device <pid>/<dn> bound and
     * online (docs/cloud.md "Gateways"), 0 when not, -1 on error. NULL: no gateways. */
    int (*gateway_proxies)(void *ctx, const char *gw_client_id, const char *pid, const char *dn);
} cloud_acl_registry_t;

/* A device's CONNECT credentials (docs/protocol/tencent.md#mqtt): NULL when they are good,
 * else a short reason ("bad_username", "expired", "bad_signature", ...) fit for a log line.
 * On success *product_id (CLOUD_ACL_ID_MAX) and *alg ("hmacsha256"/"hmacsha1") are set. */
const char *cloud_acl_login(const cloud_acl_registry_t *r, const char *client_id, const char *user,
                            const char *pass, char *product_id, const char **alg);

/* Whether a device (already logged in as client_id) may do access on an MQTT topic. */
bool cloud_acl_device_may(const cloud_acl_registry_t *r, const char *client_id, const char *topic,
                          cloud_acl_access_t access);

/* The privileged service identity's topics: $thing, $ota, $sys, $gateway, and the devices'
 * custom <P>/<D>/event topics to listen to (nothing else on custom topics). */
bool cloud_acl_service_may(const char *topic, cloud_acl_access_t access);

/* Constant-time comparison of two secrets (length leaks, content does not). */
bool cloud_consttime_eq(const char *a, const char *b);

#endif
