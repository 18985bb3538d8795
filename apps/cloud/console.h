/* SPDX-License-Identifier: Apache-2.0 */
/* The web console of `smartcfg cloud` (console.c; docs/cloud.md "Console"). Internal. */
#ifndef SMARTCFG_APPS_CLOUD_CONSOLE_H
#define SMARTCFG_APPS_CLOUD_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "cloud.h"

struct cJSON;

/* Static files of console_assets/, embedded at build time (cmake/embed.cmake). */
typedef struct {
    const char *name, *type;
    const unsigned char *data;
    size_t len;
} cloud_console_asset_t;
const cloud_console_asset_t *cloud_console_asset(const char *name);

/* Starts the SSE keep-alive ticker, with no login link until one is asked for; 0 or -1. */
int cloud_console_start(void);
/* Ends every event stream (call before MHD_stop_daemon: no connection may stay suspended). */
void cloud_console_stop(void);
/* The current one-time login link (a new one when the last was used or expired). */
void cloud_console_login_url(bool https, const char *host, unsigned port, char *out, size_t len);
/* Any thread: one finished event object ({"v","event","t_ms",...,"ts"}, docs/json.md); secrets are scrubbed here. */
void cloud_console_publish(const struct cJSON *ev);

/* HTTP thread only. */
bool cloud_console_owns(const char *url);
/* A console session may use the admin API: GETs with the cookie, the rest with X-CSRF-Token too. */
bool cloud_console_authorized(struct MHD_Connection *c, const char *method);
enum MHD_Result cloud_console_route(cloud_store_t *store, struct MHD_Connection *c, const char *url,
                                    const char *method, bool admin, bool https, const char *host, unsigned port);

#endif
