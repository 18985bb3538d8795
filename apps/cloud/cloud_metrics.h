/* SPDX-License-Identifier: Apache-2.0 */
/* What an operator alerts on (docs/cloud.md "Health and metrics"): counters and gauges of this
 * worker, kept in atomics (relaxed: nothing else is ordered by them), and their Prometheus text
 * exposition (format 0.0.4) for GET /metrics. Counting costs one atomic add and takes no lock,
 * so the bind path (cloud_bindsvc.c) counts on its own thread. Counters are per process: with
 * several workers, Prometheus sums them. No label ever holds a name, token or secret: every
 * label value is one of the fixed words below. Standalone (libc only): tests/unit includes it. */
#ifndef SMARTCFG_APPS_CLOUD_METRICS_H
#define SMARTCFG_APPS_CLOUD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CLOUD_M_BIND_QUERIES,          /* bind_device_query answered */
    CLOUD_M_MQTT_LOGIN_OK,         /* device logins the broker (plugin or RabbitMQ auth) accepted */
    CLOUD_M_MQTT_LOGIN_REFUSED,    /* ... and refused (every refusal, also those the log budget drops) */
    CLOUD_M_MQTT_CONN_REFUSED,     /* MQTT connections the gate closed at once (per-address or total cap) */
    CLOUD_M_HTTP_RATE_LIMITED,     /* HTTP requests over a per-address or per-account budget */
    CLOUD_M_THING_RATE_LIMITED,    /* device messages over --thing-rate */
    CLOUD_M_HTTP_BUSY,             /* HTTP requests answered 503 busy (a request waits on the database) */
    CLOUD_M_HTTP_SLOW_CLOSED,      /* HTTP connections closed: request header/body not sent in time, or evicted */
    CLOUD_M_COUNTERS
} cloud_metric_t;

typedef enum {
    CLOUD_G_MQTT_CONNECTIONS,      /* MQTT connections open through the gate (mosquitto mode) */
    CLOUD_G_GAUGES
} cloud_gauge_t;

/* Bind latency buckets, seconds (upper bounds; +Inf is implied). */
#define CLOUD_METRICS_BUCKETS 13

void cloud_metrics_inc(cloud_metric_t m);
void cloud_metrics_gauge_add(cloud_gauge_t g, int64_t delta);
/* One app_bind_token answered with code (CLOUD_BIND_*: 0, 400, 404, 409, 410, else internal),
 * latency_us from its arrival to its decision being stored (or failing to be). */
void cloud_metrics_bind(int code, int64_t latency_us);
/* The token API's actions (docs/cloud.md "App token API"): the ones cloud_http.c serves, and
 * the only values of the action label. */
#define CLOUD_TOKEN_ACTIONS 8
extern const char *const cloud_token_actions[CLOUD_TOKEN_ACTIONS];
/* One token API request; action: the request's Action, counted under its own name only when
 * it is one of cloud_token_actions (else "other"). */
void cloud_metrics_token_api(const char *action);

/* What the scrape adds that is not a counter of this module. */
typedef struct {
    const char *version;           /* build_info's label (a fixed version string) */
    double start_time_s;           /* Unix time the process started */
    double tls_not_after[2];       /* Unix time the TLS CA [0] and server certificate [1] end; 0: none */
    uint64_t store_errors;         /* cloud_store_error_count() */
    int ready, store_up, broker_up;   /* 1, 0; -1: not reported */
    bool mqtt_connections;         /* the gauge is known (this process runs the gate) */
} cloud_metrics_info_t;

/* The exposition text into buf (at most len bytes, NUL-terminated when len > 0); returns the
 * length the whole text needs, as snprintf does. */
size_t cloud_metrics_render(char *buf, size_t len, const cloud_metrics_info_t *info);

#endif
