/* SPDX-License-Identifier: Apache-2.0 */
/* The worker's counters and their Prometheus text exposition (cloud_metrics.h). */
#include "cloud_metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

const char *const cloud_token_actions[CLOUD_TOKEN_ACTIONS] = {
    "AppGetToken", "AppCreateDeviceBindToken", "AppGetDeviceBindTokenState", "AppGetMultiDeviceBindTokenState",
    "AppTokenBindDeviceFamily", "AppDeleteDeviceInFamily", "AppGetUser", "AppGetFamilyList"
};

/* The bind results, in the order of cloud.h's codes, and their label values. */
enum { R_OK, R_MALFORMED, R_UNKNOWN, R_TAKEN, R_EXPIRED, R_INTERNAL, RESULTS };
static const char *const result_name[RESULTS] = { "ok", "malformed", "unknown", "taken", "expired", "internal" };

/* Upper bounds in microseconds, and as the text of the le label (no float formatting). */
static const int64_t bucket_us[CLOUD_METRICS_BUCKETS] = { 1000,   2500,   5000,    10000,   25000,   50000,   100000,
                                                          250000, 500000, 1000000, 2500000, 5000000, 10000000 };
static const char *const bucket_le[CLOUD_METRICS_BUCKETS] = { "0.001", "0.0025", "0.005", "0.01", "0.025",
                                                              "0.05",  "0.1",    "0.25",  "0.5",  "1",
                                                              "2.5",   "5",      "10" };

static struct {
    atomic_uint_fast64_t counter[CLOUD_M_COUNTERS];
    atomic_int_fast64_t gauge[CLOUD_G_GAUGES];
    atomic_uint_fast64_t bind[RESULTS];
    atomic_uint_fast64_t bucket[CLOUD_METRICS_BUCKETS + 1];   /* not cumulative; the last is +Inf */
    atomic_uint_fast64_t bind_sum_us;
    atomic_uint_fast64_t token_api[CLOUD_TOKEN_ACTIONS + 1];  /* the last: other */
} m;

void cloud_metrics_inc(cloud_metric_t which)
{
    if ((unsigned)which < CLOUD_M_COUNTERS)
        atomic_fetch_add_explicit(&m.counter[which], 1, memory_order_relaxed);
}

void cloud_metrics_gauge_add(cloud_gauge_t g, int64_t delta)
{
    if ((unsigned)g < CLOUD_G_GAUGES)
        atomic_fetch_add_explicit(&m.gauge[g], delta, memory_order_relaxed);
}

void cloud_metrics_bind(int code, int64_t latency_us)
{
    int r = code == 0 ? R_OK : code == 400 ? R_MALFORMED : code == 404 ? R_UNKNOWN : code == 409 ? R_TAKEN
          : code == 410 ? R_EXPIRED : R_INTERNAL;
    if (latency_us < 0)
        latency_us = 0;   /* a clock that cannot run backwards; kept safe all the same */
    size_t b = 0;
    while (b < CLOUD_METRICS_BUCKETS && latency_us > bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&m.bind[r], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.bind_sum_us, (uint_fast64_t)latency_us, memory_order_relaxed);
}

void cloud_metrics_token_api(const char *action)
{
    size_t i = 0;
    while (i < CLOUD_TOKEN_ACTIONS && !(action && !strcmp(action, cloud_token_actions[i])))
        i++;
    atomic_fetch_add_explicit(&m.token_api[i], 1, memory_order_relaxed);
}

typedef struct {
    char *buf;
    size_t len, need;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->need < o->len ? o->len - o->need : 0;
    int n = vsnprintf(room ? o->buf + o->need : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->need += (size_t)n;
}

static void head(out_t *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP smartcfg_cloud_%s %s\n# TYPE smartcfg_cloud_%s %s\n", name, help, name, type);
}

static uint64_t get(atomic_uint_fast64_t *a)
{
    return (uint64_t)atomic_load_explicit(a, memory_order_relaxed);
}

size_t cloud_metrics_render(char *buf, size_t len, const cloud_metrics_info_t *info)
{
    out_t o = { buf, len, 0 };
    if (len)
        buf[0] = 0;
    head(&o, "build_info", "gauge", "Always 1; the version label says which release runs.");
    put(&o, "smartcfg_cloud_build_info{version=\"%s\"} 1\n", info->version);
    head(&o, "start_time_seconds", "gauge", "Start time of this process, seconds since the Unix epoch.");
    put(&o, "smartcfg_cloud_start_time_seconds %.0f\n", info->start_time_s);
    if (info->tls_not_after[0] > 0 || info->tls_not_after[1] > 0) {
        head(&o, "tls_not_after_seconds", "gauge",
             "When the TLS certificate (cert=\"ca\" or \"server\") read at start ends, seconds since the Unix epoch.");
        static const char *const which[2] = { "ca", "server" };
        for (size_t i = 0; i < 2; i++)
            if (info->tls_not_after[i] > 0)
                put(&o, "smartcfg_cloud_tls_not_after_seconds{cert=\"%s\"} %.0f\n", which[i], info->tls_not_after[i]);
    }
    const struct { const char *name; int v; const char *help; } up[] = {
        { "ready", info->ready, "1 when this worker can do its work (GET /readyz answers 200), else 0." },
        { "store_up", info->store_up, "1 when the registry answered a trivial query within the last 3 s." },
        { "broker_up", info->broker_up, "1 when the broker side is up (the supervised mosquitto and the binding "
                                        "service's connection, or the AMQP consumer)." },
    };
    for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
        if (up[i].v < 0)
            continue;
        head(&o, up[i].name, "gauge", up[i].help);
        put(&o, "smartcfg_cloud_%s %d\n", up[i].name, up[i].v ? 1 : 0);
    }

    head(&o, "bind_requests_total", "counter",
         "app_bind_token requests answered by this worker, by result (ok: the device is bound).");
    for (int r = 0; r < RESULTS; r++)
        put(&o, "smartcfg_cloud_bind_requests_total{result=\"%s\"} %llu\n", result_name[r],
            (unsigned long long)get(&m.bind[r]));
    head(&o, "bind_duration_seconds", "histogram",
         "Time from an app_bind_token request's arrival to its decision being stored.");
    uint64_t cum = 0;
    for (int b = 0; b <= CLOUD_METRICS_BUCKETS; b++) {
        cum += get(&m.bucket[b]);
        put(&o, "smartcfg_cloud_bind_duration_seconds_bucket{le=\"%s\"} %llu\n",
            b < CLOUD_METRICS_BUCKETS ? bucket_le[b] : "+Inf", (unsigned long long)cum);
    }
    uint64_t sum = get(&m.bind_sum_us);
    put(&o, "smartcfg_cloud_bind_duration_seconds_sum %llu.%06llu\n", (unsigned long long)(sum / 1000000),
        (unsigned long long)(sum % 1000000));
    put(&o, "smartcfg_cloud_bind_duration_seconds_count %llu\n", (unsigned long long)cum);
    head(&o, "bind_queries_total", "counter", "bind_device_query requests answered by this worker.");
    put(&o, "smartcfg_cloud_bind_queries_total %llu\n", (unsigned long long)get(&m.counter[CLOUD_M_BIND_QUERIES]));

    head(&o, "token_api_requests_total", "counter", "App token API requests (POST /tokenapi), by action.");
    for (int i = 0; i <= CLOUD_TOKEN_ACTIONS; i++)
        put(&o, "smartcfg_cloud_token_api_requests_total{action=\"%s\"} %llu\n",
            i < CLOUD_TOKEN_ACTIONS ? cloud_token_actions[i] : "other", (unsigned long long)get(&m.token_api[i]));
    head(&o, "rate_limited_total", "counter",
         "HTTP requests refused over a per-address or per-account budget (429, or the protocol's own code).");
    put(&o, "smartcfg_cloud_rate_limited_total %llu\n", (unsigned long long)get(&m.counter[CLOUD_M_HTTP_RATE_LIMITED]));
    head(&o, "http_busy_total", "counter",
         "HTTP requests answered 503 busy: the lock or the last free thread was held by a request waiting on the database.");
    put(&o, "smartcfg_cloud_http_busy_total %llu\n", (unsigned long long)get(&m.counter[CLOUD_M_HTTP_BUSY]));
    head(&o, "http_slow_closed_total", "counter",
         "HTTP connections closed because their request's header or body did not arrive in time, or evicted "
         "(oldest unfinished request first) when the connections ran short.");
    put(&o, "smartcfg_cloud_http_slow_closed_total %llu\n",
        (unsigned long long)get(&m.counter[CLOUD_M_HTTP_SLOW_CLOSED]));
    head(&o, "thing_rate_limited_total", "counter", "Device messages over the per-device limit (--thing-rate).");
    put(&o, "smartcfg_cloud_thing_rate_limited_total %llu\n",
        (unsigned long long)get(&m.counter[CLOUD_M_THING_RATE_LIMITED]));

    head(&o, "mqtt_logins_total", "counter", "Device MQTT logins decided by this worker, by result.");
    put(&o, "smartcfg_cloud_mqtt_logins_total{result=\"accepted\"} %llu\n",
        (unsigned long long)get(&m.counter[CLOUD_M_MQTT_LOGIN_OK]));
    put(&o, "smartcfg_cloud_mqtt_logins_total{result=\"refused\"} %llu\n",
        (unsigned long long)get(&m.counter[CLOUD_M_MQTT_LOGIN_REFUSED]));
    if (info->mqtt_connections) {
        head(&o, "mqtt_connections", "gauge", "MQTT connections open through this cloud's listeners.");
        put(&o, "smartcfg_cloud_mqtt_connections %lld\n",
            (long long)atomic_load_explicit(&m.gauge[CLOUD_G_MQTT_CONNECTIONS], memory_order_relaxed));
        head(&o, "mqtt_connections_refused_total", "counter",
             "MQTT connections closed at once, over the per-address or the total cap.");
        put(&o, "smartcfg_cloud_mqtt_connections_refused_total %llu\n",
            (unsigned long long)get(&m.counter[CLOUD_M_MQTT_CONN_REFUSED]));
    }
    head(&o, "store_errors_total", "counter", "Failed registry operations (database errors) in this process.");
    put(&o, "smartcfg_cloud_store_errors_total %llu\n", (unsigned long long)info->store_errors);
    return o.need;
}
