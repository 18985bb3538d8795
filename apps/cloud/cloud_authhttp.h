/* SPDX-License-Identifier: Apache-2.0 */
/* The cloud's answers to RabbitMQ's HTTP auth backend (cloud_authhttp.c; docs/scale.md). */
#ifndef SMARTCFG_APPS_CLOUD_AUTHHTTP_H
#define SMARTCFG_APPS_CLOUD_AUTHHTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <microhttpd.h>

#include "cloud.h"

/* URL prefix of the four endpoints: <prefix>user, vhost, resource, topic. */
#define CLOUD_AUTHHTTP_PREFIX "/rabbitmq/"

bool cloud_authhttp_owns(const char *url);
/* HTTP thread only. body: the POSTed form (application/x-www-form-urlencoded), len bytes and a
 * NUL after them, modified in place; a form with a NUL byte, a %00 or a repeated field is
 * refused whole. vhost: the one virtual host devices may use. Always answers 200 with
 * "allow" or "deny", as the backend expects; a refusal also goes out as an event. */
enum MHD_Result cloud_authhttp_route(cloud_store_t *store, struct MHD_Connection *c, const char *url,
                                     const char *method, char *body, size_t len, const char *vhost);

#endif
