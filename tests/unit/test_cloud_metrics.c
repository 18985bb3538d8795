/* SPDX-License-Identifier: Apache-2.0 */
/* The cloud's counters and their Prometheus text (apps/cloud/cloud_metrics.c): a bind falls in
 * the first bucket whose bound it does not exceed (a bound is inclusive), buckets print
 * cumulatively up to +Inf = _count, the sum in seconds with six decimals, results and actions
 * by fixed words only (anything else is "other" or "internal"), and a buffer too small gets a
 * cut, terminated text and the length the whole one needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../apps/cloud/cloud_metrics.c"

static const cloud_metrics_info_t info = { .version = "9.8.7", .start_time_s = 1796600000.0, .store_errors = 3,
                                           .ready = 1, .store_up = 1, .broker_up = 0, .mqtt_connections = true };

static char *render(void)
{
    size_t need = cloud_metrics_render(NULL, 0, &info);
    char *buf = malloc(need + 1);
    assert_non_null(buf);
    assert_int_equal(cloud_metrics_render(buf, need + 1, &info), need);
    assert_int_equal(strlen(buf), need);
    return buf;
}

/* The value of the sample line that starts with key followed by a space. */
static const char *sample(const char *text, const char *key)
{
    static char v[64];
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (!strncmp(p, key, kl) && p[kl] == ' ') {
            size_t n = strcspn(p + kl + 1, "\n");
            snprintf(v, sizeof v, "%.*s", (int)n, p + kl + 1);
            return v;
        }
    }
    return "absent";
}

static void test_histogram(void **state)
{
    (void)state;
    cloud_metrics_bind(0, 1000);        /* on the first bound: in it */
    cloud_metrics_bind(0, 1001);        /* just past: the next */
    cloud_metrics_bind(409, 250000);    /* 0.25 */
    cloud_metrics_bind(404, 20000000);  /* 20 s: only +Inf */
    cloud_metrics_bind(400, -5);        /* a negative latency counts as 0 */
    cloud_metrics_bind(777, 0);         /* an unknown code: internal */
    char *t = render();
    const char *B = "smartcfg_cloud_bind_duration_seconds_bucket";
    char key[128];
    const struct { const char *le, *v; } want[] = { { "0.001", "3" }, { "0.0025", "4" }, { "0.1", "4" },
                                                    { "0.25", "5" }, { "10", "5" }, { "+Inf", "6" } };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(key, sizeof key, "%s{le=\"%s\"}", B, want[i].le);
        assert_string_equal(sample(t, key), want[i].v);
    }
    assert_string_equal(sample(t, "smartcfg_cloud_bind_duration_seconds_count"), "6");
    assert_string_equal(sample(t, "smartcfg_cloud_bind_duration_seconds_sum"), "20.252001");
    assert_string_equal(sample(t, "smartcfg_cloud_bind_requests_total{result=\"ok\"}"), "2");
    assert_string_equal(sample(t, "smartcfg_cloud_bind_requests_total{result=\"taken\"}"), "1");
    assert_string_equal(sample(t, "smartcfg_cloud_bind_requests_total{result=\"unknown\"}"), "1");
    assert_string_equal(sample(t, "smartcfg_cloud_bind_requests_total{result=\"malformed\"}"), "1");
    assert_string_equal(sample(t, "smartcfg_cloud_bind_requests_total{result=\"internal\"}"), "1");
    assert_string_equal(sample(t, "smartcfg_cloud_bind_requests_total{result=\"expired\"}"), "0");
    free(t);
}

static void test_labels_and_info(void **state)
{
    (void)state;
    cloud_metrics_token_api("AppGetUser");
    cloud_metrics_token_api("AppGetUser\"} 99\nfake_metric 1");   /* never a label of its own */
    cloud_metrics_token_api(NULL);
    cloud_metrics_inc(CLOUD_M_MQTT_LOGIN_REFUSED);
    cloud_metrics_inc(CLOUD_M_COUNTERS);   /* out of range: ignored */
    cloud_metrics_gauge_add(CLOUD_G_MQTT_CONNECTIONS, 5);
    cloud_metrics_gauge_add(CLOUD_G_MQTT_CONNECTIONS, -2);
    char *t = render();
    assert_string_equal(sample(t, "smartcfg_cloud_token_api_requests_total{action=\"AppGetUser\"}"), "1");
    assert_string_equal(sample(t, "smartcfg_cloud_token_api_requests_total{action=\"other\"}"), "2");
    assert_null(strstr(t, "fake_metric"));
    assert_string_equal(sample(t, "smartcfg_cloud_mqtt_logins_total{result=\"refused\"}"), "1");
    assert_string_equal(sample(t, "smartcfg_cloud_mqtt_connections"), "3");
    assert_string_equal(sample(t, "smartcfg_cloud_build_info{version=\"9.8.7\"}"), "1");
    assert_string_equal(sample(t, "smartcfg_cloud_start_time_seconds"), "1796600000");
    assert_string_equal(sample(t, "smartcfg_cloud_store_errors_total"), "3");
    assert_string_equal(sample(t, "smartcfg_cloud_ready"), "1");
    assert_string_equal(sample(t, "smartcfg_cloud_broker_up"), "0");
    /* every line a comment or a smartcfg_cloud_ sample; the text ends with a line feed */
    for (const char *p = t; *p; p = strchr(p, '\n') + 1)
        assert_true(!strncmp(p, "# HELP smartcfg_cloud_", 22) || !strncmp(p, "# TYPE smartcfg_cloud_", 22) ||
                    !strncmp(p, "smartcfg_cloud_", 15));
    assert_int_equal(t[strlen(t) - 1], '\n');
    free(t);
    /* not reported: no line at all */
    cloud_metrics_info_t quiet = info;
    quiet.broker_up = -1;
    quiet.mqtt_connections = false;
    size_t need = cloud_metrics_render(NULL, 0, &quiet);
    char *q = malloc(need + 1);
    cloud_metrics_render(q, need + 1, &quiet);
    assert_string_equal(sample(q, "smartcfg_cloud_broker_up"), "absent");
    assert_string_equal(sample(q, "smartcfg_cloud_mqtt_connections"), "absent");
    free(q);
}

static void test_small_buffer(void **state)
{
    (void)state;
    char small[100];
    memset(small, 'x', sizeof small);
    size_t need = cloud_metrics_render(small, sizeof small, &info);
    assert_true(need > sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);   /* cut and terminated */
    char *whole = render();
    assert_int_equal(strlen(whole), need);
    assert_memory_equal(small, whole, sizeof small - 1);
    free(whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_labels_and_info),
        cmocka_unit_test(test_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
