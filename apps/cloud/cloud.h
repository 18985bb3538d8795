/* SPDX-License-Identifier: Apache-2.0 */
/* Internal interfaces of `smartcfg cloud`, the local IoT Explorer stand-in (docs/cloud.md):
 * the SQLite registry, the HTTP API, the MQTT binding service, event output and the crypto
 * helpers they share. Not a public API: only apps/cloud uses it. */
#ifndef SMARTCFG_APPS_CLOUD_H
#define SMARTCFG_APPS_CLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* ---- bind reply codes (app_bind_token_reply / bind_device_query_reply .code) ---------
 * Chosen to read like HTTP statuses so a device log line is self-explanatory. */
enum {
    CLOUD_BIND_OK = 0,
    CLOUD_BIND_MALFORMED = 400,   /* not JSON, no method/clientToken/params.token, bad token syntax */
    CLOUD_BIND_UNKNOWN = 404,     /* no such token; bind_device_query: device not bound */
    CLOUD_BIND_TAKEN = 409,       /* token already bound by another device */
    CLOUD_BIND_EXPIRED = 410,     /* token past its ExpireTime and not bound */
    CLOUD_BIND_INTERNAL = 500     /* database error: retry later */
};

/* ---- store (SQLite, one file, WAL) ----------------------------------------------------- */
typedef struct {
    sqlite3 *db;
} cloud_store_t;

int cloud_store_open(cloud_store_t *s, const char *path, char *err, size_t errlen);
void cloud_store_close(cloud_store_t *s);
int cloud_store_begin(cloud_store_t *s);
int cloud_store_commit(cloud_store_t *s);
void cloud_store_rollback(cloud_store_t *s);

/* Return 0 on success, 1 when the row exists already (then the stored values are
 * returned in the out buffers), -1 on error. */
int cloud_store_add_product(cloud_store_t *s, const char *pid, const char *secret, int64_t now);
int cloud_store_get_product_secret(cloud_store_t *s, const char *pid, char *secret, size_t len);
int cloud_store_add_device(cloud_store_t *s, const char *pid, const char *dn, const char *psk,
                           int64_t now, char *psk_out, size_t psk_len);
int cloud_store_device_exists(cloud_store_t *s, const char *pid, const char *dn);

int cloud_store_add_token(cloud_store_t *s, const char *token, int64_t now, int64_t expire);
typedef struct {
    int64_t created, expire, bound_at;
    char product_id[64], device_name[64];
} cloud_token_t;
/* 0 found, 1 not found, -1 error */
int cloud_store_get_token(cloud_store_t *s, const char *token, cloud_token_t *t);
/* The whole app_bind_token decision; returns a CLOUD_BIND_* code. */
int cloud_store_bind_token(cloud_store_t *s, const char *token, const char *pid, const char *dn, int64_t now);
/* CLOUD_BIND_OK when a token was bound by this device, CLOUD_BIND_UNKNOWN otherwise. */
int cloud_store_device_bound(cloud_store_t *s, const char *pid, const char *dn);
int cloud_store_bind_family(cloud_store_t *s, const char *token, const char *pid, const char *dn,
                            const char *family, const char *room, int64_t now);

/* ---- events: --json lines on stdout, human log on stderr ------------------------------ */
struct cJSON;
void cloud_events_init(bool json);
/* Takes ownership of obj (adds "ts" and "event"). Thread-safe. */
void cloud_event(const char *event, struct cJSON *obj);
/* A new event object naming the device: {"product_id": pid, "device_name": dn}. */
struct cJSON *cloud_device_event(const char *pid, const char *dn);
void cloud_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* First 6 characters of a token and an ellipsis: enough to correlate, useless to an attacker. */
void cloud_abbrev_token(const char *token, char out[16]);

/* ---- crypto / random ----------------------------------------------------------------------- */
int cloud_random(void *buf, size_t len);
void cloud_random_hex(char *out, size_t nhex);   /* nhex lower-case hex chars + NUL */
int cloud_random_b64(char *out, size_t outlen, size_t nbytes);
int cloud_b64_encode(const void *in, size_t inlen, char *out, size_t outlen);
int cloud_b64_decode(const char *in, unsigned char *out, size_t outlen, size_t *olen);
bool cloud_consttime_eq(const char *a, const char *b);
int64_t cloud_now(void);

/* ---- HTTP API ----------------------------------------------------------------------------- */
typedef struct cloud_http cloud_http_t;
cloud_http_t *cloud_http_start(const char *host, uint16_t port, const char *dbpath, int token_ttl,
                               char *err, size_t errlen);
void cloud_http_stop(cloud_http_t *h);

/* ---- MQTT binding service ------------------------------------------------------------- */
typedef struct cloud_bindsvc cloud_bindsvc_t;
cloud_bindsvc_t *cloud_bindsvc_new(const char *host, uint16_t port, const char *user, const char *pass,
                                   const char *dbpath, char *err, size_t errlen);
/* One pass of the service: network I/O for up to timeout_ms, then the batched commit and the
 * replies. Returns 0, or -1 when the broker connection is lost (it reconnects on later calls). */
int cloud_bindsvc_step(cloud_bindsvc_t *b, int timeout_ms);
bool cloud_bindsvc_connected(const cloud_bindsvc_t *b);
void cloud_bindsvc_free(cloud_bindsvc_t *b);

/* Shared validation of identifiers coming from the network. */
bool cloud_valid_id(const char *s, size_t maxlen);
bool cloud_valid_token(const char *s);

#endif
