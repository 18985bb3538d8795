/* SPDX-License-Identifier: Apache-2.0 */
/* AT-internal: the gateway commands (at_gw.c) as at.c's dispatcher calls them. AT+TCGWBIND and
 * AT+TCGWONLINE speak IoT Explorer's $gateway/operation protocol (docs/at.md "Gateway"): the
 * request goes up on $gateway/operation/<P>/<D>, the cloud's answer comes back on
 * $gateway/operation/result/<P>/<D>, and only then does the host get +TCGWBIND:OK / FAIL. */
#ifndef SC_AT_GW_H
#define SC_AT_GW_H

#include "at_ota.h"

#define SC_AT_GW_SUB_MAX 8   /* sub-devices the module remembers for the query forms */
#define SC_AT_GW_MSG_MAX 400 /* one request or result (a bind with its signature is ~300) */

typedef struct {
    char pid[SC_PRODUCT_ID_MAX + 1], dn[SC_DEVICE_NAME_MAX + 1];
    bool online;
} sc_at_gw_sub_t;

/* Caller-owned state (inside the AT context). */
typedef struct {
    uint8_t phase;                 /* 0 idle, 1 result topic being subscribed, 2 answer awaited */
    uint8_t op;                    /* GW_BIND .. GW_OFFLINE (at_gw.c) */
    char pid[SC_PRODUCT_ID_MAX + 1], dn[SC_DEVICE_NAME_MAX + 1];
    char msg[SC_AT_GW_MSG_MAX];    /* the request, then the result being read */
    sc_at_gw_sub_t subs[SC_AT_GW_SUB_MAX];
    uint8_t nsubs;
} sc_at_gw_t;

typedef struct {
    const sc_at_ops_t *ops;
    const sc_identity_t *dev;      /* the gateway's own device info (NULL: none) */
    bool mqtt_up;
    sc_at_sink_t out;
} sc_at_gw_env_t;

/* Returns SC_AT_PENDING while the operation runs (at.c then waits with its command timeout
 * and calls sc_at_gw_complete / sc_at_gw_timeout), 0 when the command is answered. */
int sc_at_gw_cmd(const sc_at_gw_env_t *e, sc_at_gw_t *g, bool bind, int form, const sc_at_arg_t *a, size_t n);
/* The SUBACK or PUBACK at.c waited for. */
int sc_at_gw_complete(const sc_at_gw_env_t *e, sc_at_gw_t *g, int result);
void sc_at_gw_timeout(const sc_at_gw_env_t *e, sc_at_gw_t *g, int code);
/* A message from the broker: 0 not the gateway's (print it to the host), 1 consumed, 2
 * consumed and the pending command answered. */
int sc_at_gw_message(const sc_at_gw_env_t *e, sc_at_gw_t *g, const char *topic, const void *payload, size_t len);
/* The MQTT session ended: the cloud forgets the sub-devices' sessions, so do we. */
void sc_at_gw_session_ended(sc_at_gw_t *g);

#endif
