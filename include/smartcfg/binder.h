/* SPDX-License-Identifier: Apache-2.0 */
/* The binder: the device's side of binding to IoT Explorer over MQTT
 * (docs/protocol/tencent.md#mqtt, #dynamic-registration) as a sans-I/O step machine over the HAL —
 * dynamic registration when there is no device secret, connect, subscribe, publish app_bind_token
 * (or bind_device_query) and wait for the reply carrying our clientToken. The strings it sends come
 * from cloud.h. Guide: docs/cloud-device.md.
 * Left-out modules: without SMARTCFG_WITH_CLOUD only sc_binder_start, sc_binder_step and
 * sc_binder_abort exist (stand-ins that fail at once); the header is installed either way for
 * device.h, which embeds sc_binder_t. A call to one of them in a build without them is a compile
 * error naming the switch (SC_LEFT_OUT, features.h). */
#ifndef SMARTCFG_BINDER_H
#define SMARTCFG_BINDER_H

#include "smartcfg/cloud.h"
#include "smartcfg/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The app polls the token state for ~40 s after the UDP handshake; finish well before. */
#define SC_BINDER_TIMEOUT_MS 30000u
#define SC_BINDER_CONNECT_TIMEOUT_MS 10000u
/* The request is sent SC_BINDER_PUBLISH_TRIES times per connection, SC_BINDER_PUBLISH_RETRY_MS
 * apart; when the last try is as long unanswered, the connection is given up and opened again
 * (its subscription may be a queue on a dead cluster node, which takes the SUBSCRIBE and never
 * delivers), and after each connection given up that way the waits double: requests at
 * 0, 2 | 4, 8 | 12, 20 | 28 s when nothing answers. A connection opened again because its
 * link was lost keeps the waits: a lost link says nothing about a slow cloud. A request or
 * reply lost in a failover costs ~2 s, a dead subscription ~4 s, and a slow cloud sees the
 * retries thin out. */
#define SC_BINDER_PUBLISH_RETRY_MS 2000u
#define SC_BINDER_PUBLISH_TRIES 2
/* Connections opened again within the bind budget: after the link is lost while waiting for the
 * reply (a broker node died; the port moves on to its next address), or when the tries on one
 * connection went unanswered. A refused or failing connect still ends the bind at once. */
#define SC_BINDER_RECONNECTS 3
#define SC_BINDER_DYNREG_TIMEOUT_MS 10000u
/* With the HAL's post_start/post_poll the registration runs in the port's background and the
 * step looks at it every SC_BINDER_DYNREG_POLL_MS (sc_binder_next); a port whose own timeout
 * never fires is given up SC_BINDER_DYNREG_GRACE_MS after it. */
#define SC_BINDER_DYNREG_POLL_MS 50u
#define SC_BINDER_DYNREG_GRACE_MS 1000u

/* Outcome of the bind step machine. */
typedef enum { SC_BINDER_PENDING = 0, SC_BINDER_DONE, SC_BINDER_FAILED } sc_binder_status_t;

/* Binder state: caller-owned storage (common.h): topics, credentials, one inbound message.
 * Without the cloud module it shrinks to a placeholder (the device never binds). */
#if SMARTCFG_WITH_CLOUD
#define SC_BINDER_SIZE (2592u + 4u * sizeof(void *))
#else
#define SC_BINDER_SIZE 8u
#endif
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_BINDER_SIZE)];
} sc_binder_t;

/* Starts: (dynamic registration if needed, persisting the PSK via storage) -> connect ->
 * subscribe -> publish app_bind_token -> wait for the reply with the same clientToken.
 * hal, cfg and id must outlive the binder (id->device_secret is filled in by dynamic
 * registration); the token is copied. cfg may be NULL (defaults). */
SC_API sc_err_t sc_binder_start(sc_binder_t *b, const sc_hal_t *hal, const sc_cloud_config_t *cfg,
                                sc_identity_t *id, const char *token, uint32_t now_ms);
/* The "wait for app bind" check after a reboot
 * (docs/protocol/tencent.md#timing-and-the-reference-device-api): same machine and budget, but
 * publishes bind_device_query and waits for bind_device_query_reply with its clientToken. DONE =
 * the device is bound; FAILED 24/<code> = the cloud says it is not; other failures as for the bind.
 * Drive it with sc_binder_step/abort. */
SC_CLOUD_API sc_err_t sc_binder_query_start(sc_binder_t *b, const sc_hal_t *hal, const sc_cloud_config_t *cfg,
                                      sc_identity_t *id, uint32_t now_ms);
/* Drives it; on SC_BINDER_FAILED *err_id / *sub_id are the docs/protocol/tencent.md#errors codes
 * (1 = MQTT connect, 24 = reply code != 0, 25 = reply timeout, 27 = device info). */
SC_API sc_binder_status_t sc_binder_step(sc_binder_t *b, uint32_t now_ms, uint16_t *err_id, int32_t *sub_id);
/* Stops and disconnects (also after DONE: the binder leaves the MQTT link up on success so a
 * caller may keep using it). Safe to call twice or on a binder never started. */
SC_API void sc_binder_abort(sc_binder_t *b);

/* When step wants to run again at the latest (a deadline; polling sooner is fine). */
SC_CLOUD_API uint32_t sc_binder_next(const sc_binder_t *b);
/* Why it failed / what it does now, in words (never a secret). Built with
 * SMARTCFG_WITH_REASONS=0 (features.h: bare metal) only a failure has words, its error id's
 * reference text and sub id ("MQTT connect error! (-110)"); otherwise "idle", "in progress" or
 * "bound". */
SC_CLOUD_API const char *sc_binder_reason(const sc_binder_t *b);

/* Counters for tests and diagnostics. */
typedef struct {
    uint32_t publishes;       /* app_bind_token / bind_device_query sent (tries) */
    uint32_t malformed;       /* down-topic messages that were not valid JSON messages */
    uint32_t ignored;         /* valid messages for someone else / other methods */
    uint32_t reconnects;      /* connections opened again while waiting (SC_BINDER_RECONNECTS) */
    bool dynreg_done;         /* a PSK was obtained (or loaded from storage) this time */
} sc_binder_stats_t;
SC_CLOUD_API void sc_binder_stats(const sc_binder_t *b, sc_binder_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif
