/* SPDX-License-Identifier: Apache-2.0 */
/* ctest-cost: 20 */
/* The bind machine over the real POSIX tables: libmosquitto against a mosquitto broker this test
 * starts on a free loopback port (plain, anonymous), a responder client answering app_bind_token
 * like the cloud, and dynamic registration over libcurl against a libmicrohttpd endpoint
 * implementing docs/protocol/tencent.md#dynamic-registration (signature checked with mbedTLS here,
 * independently of the device code). Skips when /usr/sbin/mosquitto is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <microhttpd.h>
#include <mosquitto.h>

#include "sc_posix.h"
#include "sc_posix_http.h"
#include "sc_posix_mqtt.h"
#include "smartcfg/binder.h"
#include "smartcfg/cloud.h"
#include "test_util.h"

#define MOSQUITTO_BIN "/usr/sbin/mosquitto"
#define PID "QWERTYUIOP"
#define DNAME "posixdev"
#define PSK "c2VjcmV0c2VjcmV0MTIzNA=="
#define PSECRET "integration-product-secret"

static pid_t broker_pid = -1;
static uint16_t broker_port;
static char tmpdir[64];

/* Starts mosquitto with a listener on a free loopback port plus extra config lines. */
static pid_t spawn_broker(bool anonymous, const char *extra, uint16_t *port)
{
    *port = 0;
    return tu_mosquitto(MOSQUITTO_BIN, tmpdir, port, anonymous, extra);
}

static void kill_broker(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

static int start_broker(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/sc_cloud_XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    broker_pid = spawn_broker(true, "", &broker_port);
    return broker_pid > 0 ? 0 : -1;
}

static int stop_broker(void **state)
{
    (void)state;
    kill_broker(broker_pid);
    return tu_rm_rf(tmpdir);
}

/* ---- the cloud's side: a responder client ------------------------------------------ */
static struct mosquitto *responder;
static volatile int responder_code;
static volatile int responder_seen;

static void resp_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)obj;
    sc_cloud_msg_t cm;
    if (sc_cloud_parse_msg(msg->payload, (size_t)msg->payloadlen, &cm) != SC_OK)
        return;
    const char *pd = msg->topic + strlen("$thing/up/service/");
    char down[160];
    snprintf(down, sizeof down, "$thing/down/service/%s", pd);
    if (cm.type == SC_CLOUD_MSG_BIND_DEVICE_QUERY) {   /* "bound" unless the code says otherwise */
        char q[256];
        sc_cloud_build_bind_device_query_reply(cm.client_token, responder_code, q, sizeof q, NULL);
        mosquitto_publish(m, NULL, down, (int)strlen(q), q, 1, false);
        return;
    }
    if (cm.type != SC_CLOUD_MSG_APP_BIND_TOKEN)
        return;
    responder_seen++;
    /* noise first: garbage and someone else's reply must be ignored by the device */
    mosquitto_publish(m, NULL, down, 9, "{garbage", 1, false);
    char r[256];
    sc_cloud_build_app_bind_token_reply("other-1", 0, r, sizeof r, NULL);
    mosquitto_publish(m, NULL, down, (int)strlen(r), r, 1, false);
    if (strcmp(cm.token, "tok-integration") != 0)
        return;   /* wrong token: stay silent so the device times out */
    sc_cloud_build_app_bind_token_reply(cm.client_token, responder_code, r, sizeof r, NULL);
    mosquitto_publish(m, NULL, down, (int)strlen(r), r, 1, false);
}

static void resp_on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)obj;
    if (rc == 0)
        mosquitto_subscribe(m, NULL, "$thing/up/service/+/+", 1);
}

static void start_responder(int code)
{
    responder_code = code;
    responder_seen = 0;
    mosquitto_lib_init();
    responder = mosquitto_new("cloud-responder", true, NULL);
    assert_non_null(responder);
    mosquitto_connect_callback_set(responder, resp_on_connect);
    mosquitto_message_callback_set(responder, resp_on_message);
    assert_int_equal(mosquitto_connect(responder, "127.0.0.1", broker_port, 30), MOSQ_ERR_SUCCESS);
    assert_int_equal(mosquitto_loop_start(responder), MOSQ_ERR_SUCCESS);
    tu_sleep_ms(200);   /* let the subscription land before the device publishes */
}

static void stop_responder(void)
{
    mosquitto_disconnect(responder);
    mosquitto_loop_stop(responder, false);
    mosquitto_destroy(responder);
    responder = NULL;
}

/* ---- in-memory storage ------------------------------------------------------------- */
static tu_store_t store;

static sc_hal_t hal;

static void make_hal(void)
{
    memset(&hal, 0, sizeof hal);
    sc_posix_sys_init(&hal.sys);
    assert_int_equal(sc_posix_mqtt_init(&hal.mqtt), SC_OK);
    assert_int_equal(sc_posix_http_init(&hal.http, NULL), SC_OK);
    hal.storage.ctx = &store;
    hal.storage.get = tu_store_get;
    hal.storage.put = tu_store_put;
}

static void free_hal(void)
{
    sc_posix_mqtt_cleanup(&hal.mqtt);
    sc_posix_http_cleanup(&hal.http);
}

static void make_id(sc_identity_t *id, sc_cloud_config_t *cfg, uint16_t port)
{
    memset(id, 0, sizeof *id);
    strcpy(id->product_id, PID);
    strcpy(id->device_name, DNAME);
    strcpy(id->device_secret, PSK);
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->host, "127.0.0.1");
    cfg->port = port;
}

static sc_binder_t B;

static sc_binder_status_t run_real(uint16_t *e, int32_t *s, uint32_t *elapsed)
{
    uint32_t t0 = sc_posix_now_ms();
    sc_binder_status_t st;
    while ((st = sc_binder_step(&B, sc_posix_now_ms(), e, s)) == SC_BINDER_PENDING) {
        if (sc_posix_now_ms() - t0 > 60000)
            fail_msg("binder hangs");
        tu_sleep_ms(10);
    }
    *elapsed = sc_posix_now_ms() - t0;
    return st;
}

/* make_hal(), then the port connected as client_id to the test's broker within ms */
static void hal_connected(const char *client_id, uint32_t ms)
{
    make_hal();
    sc_mqtt_connect_t p = { .host = "127.0.0.1", .port = broker_port, .client_id = client_id, .keepalive_s = 60 };
    assert_int_equal(hal.mqtt.connect(hal.mqtt.ctx, &p), SC_OK);
    uint32_t t0 = sc_posix_now_ms();
    while (hal.mqtt.state(hal.mqtt.ctx, NULL) != SC_MQTT_CONNECTED && sc_posix_now_ms() - t0 < ms)
        tu_sleep_ms(5);
    assert_int_equal(hal.mqtt.state(hal.mqtt.ctx, NULL), SC_MQTT_CONNECTED);
}

/* The broker's answer to request mid (request_status), waited for at most ms */
static sc_err_t request_settled(int mid, uint32_t ms)
{
    uint32_t t0 = sc_posix_now_ms();
    while (hal.mqtt.request_status(hal.mqtt.ctx, mid) == SC_ERR_AGAIN && sc_posix_now_ms() - t0 < ms)
        tu_sleep_ms(5);
    return hal.mqtt.request_status(hal.mqtt.ctx, mid);
}

/* Only a bound for a broken run: the broker works through the 65 534 publishes before it
 * answers the SUBSCRIBE behind them, seconds on a machine whose cores are busy. */
#define WRAP_WAIT_MS 30000

/* kill(SIGSTOP) returns before the process has stopped: true once /proc says it has ('T'). */
static bool stopped(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');   /* the state follows the command's closing ')' */
    return paren && paren[1] == ' ' && paren[2] == 'T';
}

/* libmosquitto's message ids wrap after 65 535, and a QoS 0 publish takes one too: a day of
 * telemetry on one session. A subscription made after the wrap gets the id of one made at the
 * start, whose SUBACK the port still keeps: that old answer was taken for the new request's
 * (F56). The broker is stopped (SIGSTOP) before the new request, so no answer can come; the
 * request must stay unanswered until the broker runs again and grants it. */
static void test_request_ids_wrap(void **state)
{
    (void)state;
    hal_connected("wrapdev", WRAP_WAIT_MS);
    int first = 0, mid = 0;
    assert_int_equal(hal.mqtt.subscribe_req(hal.mqtt.ctx, "wrap/a", 0, &first), SC_OK);
    assert_int_equal(request_settled(first, WRAP_WAIT_MS), SC_OK);
    uint32_t first_order = hal.mqtt.request_order(hal.mqtt.ctx, first);
    assert_true(first_order != 0);   /* the SUBACK's order stamp (F153) */
    for (int i = 0; i < 65534; i++) {
        sc_err_t e;
        while ((e = hal.mqtt.publish(hal.mqtt.ctx, "wrap/t", "x", 1, 0, &mid)) == SC_ERR_NOMEM)
            tu_sleep_ms(1);
        assert_int_equal(e, SC_OK);
    }
    tu_sleep_ms(300);   /* the publishes leave before the broker stops */
    assert_int_equal(kill(broker_pid, SIGSTOP), 0);
    uint32_t t0 = sc_posix_now_ms();
    while (!stopped(broker_pid) && sc_posix_now_ms() - t0 < WRAP_WAIT_MS)
        tu_sleep_ms(1);
    assert_true(stopped(broker_pid));   /* else it could still answer the request below */
    assert_int_equal(hal.mqtt.subscribe_req(hal.mqtt.ctx, "wrap/b", 0, &mid), SC_OK);
    assert_int_equal(mid, first);   /* the ids wrapped */
    tu_sleep_ms(100);
    sc_err_t before = hal.mqtt.request_status(hal.mqtt.ctx, mid);
    uint32_t order_before = hal.mqtt.request_order(hal.mqtt.ctx, mid);
    assert_int_equal(kill(broker_pid, SIGCONT), 0);
    assert_int_equal(before, SC_ERR_AGAIN);   /* was SC_OK: the first subscription's answer */
    assert_int_equal(order_before, 0);        /* nor its stamp */
    assert_int_equal(request_settled(mid, WRAP_WAIT_MS), SC_OK);
    /* stamped after the 65 534 publishes (libmosquitto tells a QoS 0 one sent: stamped too) */
    assert_int_equal(hal.mqtt.request_order(hal.mqtt.ctx, mid), first_order + 65534 + 1);
    hal.mqtt.disconnect(hal.mqtt.ctx);
    free_hal();
}

/* A burst larger than the port's queue (SC_POSIX_MQTT_QUEUE) while the core is busy for a
 * moment (a step that prints to a slow AT line, a loaded machine): the reply behind the burst
 * must not be lost. Before, the 65th and later messages were dropped while the core did not
 * poll (F58 measured 200 back to back: 92 arrived); now the loop thread waits, bounded, for
 * room, and TCP holds the rest at the broker. A core that stays away longer than the bound
 * loses messages as before (counted), and disconnect() never waits for the bound. */
#define BURST 300
static atomic_int burst_acked;   /* counted on the publisher's loop thread, read here */
static void burst_on_publish(struct mosquitto *m, void *obj, int mid)
{
    (void)m;
    (void)obj;
    (void)mid;
    burst_acked++;   /* the broker has it (QoS 1) */
}
/* The publisher's CONNACKs (more than one: its connection broke and libmosquitto's loop made a
 * new one, and sent again the QoS 1 messages the broker had not acknowledged yet), and the
 * repeats drain_burst skipped. */
static atomic_int burst_connects, burst_dups;
static void burst_on_connect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    (void)obj;
    if (rc == 0)
        burst_connects++;
}
static void burst_on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    (void)m;
    (void)obj;
    if (rc != 0)
        printf("burst: the publisher's connection broke (%d)\n", rc);
}

/* An observer: a plain libmosquitto subscriber to the burst's topic beside the port, counting
 * each payload mN it is handed. When the port hands the core a message twice, this says whether
 * the broker sent it twice (the observer sees it twice too: QoS 1's at least once, skipped) or
 * the port repeated it (once: a failure). Beside stress-ng the broker handed out m20..m39 twice
 * with the publisher connected once (2026-12-08). */
#define OBS_MAX 3100   /* the test's payloads: m0..m3073 */
static atomic_int obs_seen[OBS_MAX], obs_msgs;
/* N of a payload "mN" of the burst, else -1 */
static int burst_number(const void *payload, size_t len)
{
    const char *p = payload;
    if (len < 2 || len >= 16 || p[0] != 'm')
        return -1;
    char num[16];
    memcpy(num, p + 1, len - 1);
    num[len - 1] = 0;
    return atoi(num);
}
static void obs_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    (void)m;
    (void)obj;
    obs_msgs++;
    int k = msg->payloadlen > 0 ? burst_number(msg->payload, (size_t)msg->payloadlen) : -1;
    if (k >= 0 && k < OBS_MAX)
        obs_seen[k]++;
}
static struct mosquitto *observer_start(const char *topic)
{
    for (int i = 0; i < OBS_MAX; i++)
        obs_seen[i] = 0;
    obs_msgs = 0;
    struct mosquitto *o = mosquitto_new("burst-observer", true, NULL);
    assert_non_null(o);
    mosquitto_message_callback_set(o, obs_on_message);
    assert_int_equal(mosquitto_connect(o, "127.0.0.1", broker_port, 30), MOSQ_ERR_SUCCESS);
    assert_int_equal(mosquitto_subscribe(o, NULL, topic, 1), MOSQ_ERR_SUCCESS);
    assert_int_equal(mosquitto_loop_start(o), MOSQ_ERR_SUCCESS);
    return o;
}
static void observer_stop(struct mosquitto *o)
{
    mosquitto_disconnect(o);
    mosquitto_loop_stop(o, false);
    mosquitto_destroy(o);
}

static void burst_publish(const char *topic, int from, int count)
{
    struct mosquitto *pub = mosquitto_new("burst-pub", true, NULL);
    assert_non_null(pub);
    burst_acked = 0;
    burst_connects = 0;
    burst_dups = 0;
    mosquitto_publish_callback_set(pub, burst_on_publish);
    mosquitto_connect_callback_set(pub, burst_on_connect);
    mosquitto_disconnect_callback_set(pub, burst_on_disconnect);
    assert_int_equal(mosquitto_connect(pub, "127.0.0.1", broker_port, 30), MOSQ_ERR_SUCCESS);
    assert_int_equal(mosquitto_loop_start(pub), MOSQ_ERR_SUCCESS);
    for (int i = from; i < from + count; i++) {
        char pay[32];
        int n = snprintf(pay, sizeof pay, "m%d", i);
        assert_int_equal(mosquitto_publish(pub, NULL, topic, n, pay, 1, false), MOSQ_ERR_SUCCESS);
    }
    uint32_t t0 = sc_posix_now_ms();
    while (burst_acked < count && sc_posix_now_ms() - t0 < 20000)   /* all at the broker */
        tu_sleep_ms(5);
    assert_int_equal(burst_acked, count);
    mosquitto_disconnect(pub);
    mosquitto_loop_stop(pub, false);
    mosquitto_destroy(pub);
}

static int drain_burst(int from, int count, unsigned ms)
{
    int got = 0;
    uint32_t t0 = sc_posix_now_ms();
    sc_mqtt_msg_t msg;
    while (got < count && sc_posix_now_ms() - t0 < ms) {
        if (hal.mqtt.poll(hal.mqtt.ctx, &msg) != SC_OK) {
            tu_sleep_ms(2);
            continue;
        }
        char want[32];
        snprintf(want, sizeof want, "m%d", from + got);
        int k = burst_number(msg.payload, msg.payload_len);
        /* A repeat of one already here is the port's fault only if the broker handed it out once:
         * QoS 1 is at least once, and the broker forwards twice what it got twice (a publisher
         * that reconnected; or libmosquitto's publisher sending its second window of 20 again on
         * one connection, seen beside stress-ng: the observer got m20..m39 twice too). */
        bool repeat = k >= from && k < from + got && k < OBS_MAX;
        for (int w = 0; repeat && obs_seen[k] < 2 && w < 100; w++)
            tu_sleep_ms(10);   /* the observer's copy may come a moment later */
        if (repeat && obs_seen[k] >= 2) {
            burst_dups++;
            continue;
        }
        if (msg.payload_len != strlen(want) || memcmp(msg.payload, want, msg.payload_len) != 0) {
            printf("burst: wanted %s, got %.*s\n", want, (int)(msg.payload_len < 16 ? msg.payload_len : 16),
                   (const char *)msg.payload);
            tu_sleep_ms(1000);   /* the observer's last deliveries */
            int twice = 0, first = -1;
            for (int i = from; i < from + count && i < OBS_MAX; i++)
                if (obs_seen[i] > 1 && twice++ == 0)
                    first = i;
            printf("burst: the observer got %d messages; %d payloads more than once (the first m%d); the "
                   "publisher connected %d time(s)\n",
                   (int)obs_msgs, twice, first, (int)burst_connects);
            return got;   /* one missing: counted as lost */
        }
        got++;
    }
    if (got < count)
        printf("burst: %d of %d within %u ms, then nothing\n", got, count, ms);
    if (burst_dups)
        printf("burst: %d repeats the broker handed out twice skipped (the publisher connected %d time(s))\n",
               (int)burst_dups, (int)burst_connects);
    return got;
}

static void test_burst_waits_for_room(void **state)
{
    (void)state;
    hal_connected("burstdev", 5000);
    int mid = 0;
    assert_int_equal(hal.mqtt.subscribe_req(hal.mqtt.ctx, "burst/t", 1, &mid), SC_OK);
    assert_int_equal(request_settled(mid, 5000), SC_OK);
    struct mosquitto *obs = observer_start("burst/t");
    tu_sleep_ms(200);   /* its SUBACK: a bound for a quiet machine, the observer only informs */
    /* the core busy for the whole burst (until the broker has it all, then 500 ms), then it polls */
    burst_publish("burst/t", 0, BURST);
    tu_sleep_ms(500);
    int got = drain_burst(0, BURST, 10000);
    unsigned dropped = sc_posix_mqtt_dropped(&hal.mqtt, NULL);
    printf("burst of %d, core away 0.5 s: %d arrived in order, %u dropped\n", BURST, got, dropped);
    assert_int_equal(got, BURST);
    assert_int_equal(dropped, 0);
    assert_int_equal(hal.mqtt.state(hal.mqtt.ctx, NULL), SC_MQTT_CONNECTED);

    /* away longer than the bound: the wait ends, what does not fit is dropped and counted, the
     * session stays up, and messages after the core's next poll arrive again */
    burst_publish("burst/t", 1000, 100);
    tu_sleep_ms(SC_POSIX_MQTT_WAIT_MS + 1500);   /* the wait for room ran out */
    int first = drain_burst(1000, SC_POSIX_MQTT_QUEUE, 3000);
    assert_int_equal(first, SC_POSIX_MQTT_QUEUE);   /* the oldest are kept */
    sc_mqtt_msg_t msg;
    uint32_t t0 = sc_posix_now_ms();
    while (sc_posix_now_ms() - t0 < 1000)
        if (hal.mqtt.poll(hal.mqtt.ctx, &msg) != SC_OK)
            tu_sleep_ms(5);
    dropped = sc_posix_mqtt_dropped(&hal.mqtt, NULL);
    printf("burst of 100, core away %.1f s: %u dropped\n", (SC_POSIX_MQTT_WAIT_MS + 1500) / 1000.0, dropped);
    assert_true(dropped > 0 && dropped <= 100 - SC_POSIX_MQTT_QUEUE);
    assert_int_equal(hal.mqtt.state(hal.mqtt.ctx, NULL), SC_MQTT_CONNECTED);
    burst_publish("burst/t", 2000, 10);
    assert_int_equal(drain_burst(2000, 10, 3000), 10);

    /* disconnect() while a message waits for room: at once, not after the bound */
    burst_publish("burst/t", 3000, SC_POSIX_MQTT_QUEUE + 10);
    tu_sleep_ms(200);   /* the 65th waits for room now */
    t0 = sc_posix_now_ms();
    hal.mqtt.disconnect(hal.mqtt.ctx);
    uint32_t took = sc_posix_now_ms() - t0;
    printf("disconnect with a message waiting: %u ms\n", took);
    observer_stop(obs);
    assert_true(took < 1000);
    free_hal();
}

static void test_bind_real_broker(void **state)
{
    (void)state;
    make_hal();
    start_responder(0);
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, broker_port);
    uint16_t e;
    int32_t s;
    uint32_t ms;
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", sc_posix_now_ms()), SC_OK);
    assert_int_equal(run_real(&e, &s, &ms), SC_BINDER_DONE);
    print_message("BENCH cloud_bind_loopback_ms %u\n", ms);
    sc_binder_stats_t st;
    sc_binder_stats(&B, &st);
    assert_int_equal(st.publishes, 1);
    assert_int_equal(st.malformed, 1);
    assert_int_equal(st.ignored, 1);
    int reason;
    assert_int_equal(hal.mqtt.state(hal.mqtt.ctx, &reason), SC_MQTT_CONNECTED);
    sc_binder_abort(&B);
    assert_int_equal(hal.mqtt.state(hal.mqtt.ctx, &reason), SC_MQTT_DISCONNECTED);
    stop_responder();
    free_hal();
}

static void test_query_real_broker(void **state)
{
    (void)state;
    make_hal();
    start_responder(0);
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, broker_port);
    uint16_t e;
    int32_t s;
    uint32_t ms;
    assert_int_equal(sc_binder_query_start(&B, &hal, &cfg, &id, sc_posix_now_ms()), SC_OK);
    assert_int_equal(run_real(&e, &s, &ms), SC_BINDER_DONE);
    sc_binder_abort(&B);
    stop_responder();
    free_hal();
}

static void test_bind_real_refused_code(void **state)
{
    (void)state;
    make_hal();
    start_responder(1001);
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, broker_port);
    uint16_t e;
    int32_t s;
    uint32_t ms;
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", sc_posix_now_ms()), SC_OK);
    assert_int_equal(run_real(&e, &s, &ms), SC_BINDER_FAILED);
    assert_int_equal(e, 24);
    assert_int_equal(s, 1001);
    stop_responder();
    free_hal();
}

static void test_bind_real_timeout(void **state)
{
    (void)state;
    make_hal();
    start_responder(0);
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, broker_port);
    cfg.bind_timeout_ms = 1500;   /* keep the test short; the retry cadence is unit-tested */
    uint16_t e;
    int32_t s;
    uint32_t ms;
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-unknown", sc_posix_now_ms()), SC_OK);
    assert_int_equal(run_real(&e, &s, &ms), SC_BINDER_FAILED);
    assert_int_equal(e, 25);   /* PUBACK came, the reply did not */
    assert_true(ms >= 1500 && ms < 3000);
    stop_responder();
    free_hal();
}

static void test_bind_broker_down(void **state)
{
    (void)state;
    make_hal();
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, tu_free_port());   /* nothing listens there */
    uint16_t e;
    int32_t s;
    uint32_t ms;
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", sc_posix_now_ms()), SC_OK);
    assert_int_equal(run_real(&e, &s, &ms), SC_BINDER_FAILED);
    assert_int_equal(e, 1);
    assert_int_equal(s, ECONNREFUSED);
    free_hal();
}

/* A broker that never answers (listen queue full, SYNs dropped): connect() must not block the
 * caller, the binder must give up on its own clock, and the teardown must not hang. */
static void test_bind_broker_silent(void **state)
{
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 0), 0);
    socklen_t l = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &l);
    int fillers[4];
    for (int i = 0; i < 4; i++) {   /* fill the accept queue; never accept */
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)connect(fillers[i], (struct sockaddr *)&a, sizeof a);
    }
    tu_sleep_ms(100);
    make_hal();
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, ntohs(a.sin_port));
    cfg.bind_timeout_ms = 1500;
    uint16_t e;
    int32_t s;
    uint32_t ms;
    uint32_t t0 = sc_posix_now_ms();
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", t0), SC_OK);
    sc_binder_status_t st = sc_binder_step(&B, sc_posix_now_ms(), &e, &s);
    assert_true(sc_posix_now_ms() - t0 < 500);   /* the first step (connect) returned at once */
    if (st == SC_BINDER_PENDING)
        st = run_real(&e, &s, &ms);
    assert_int_equal(st, SC_BINDER_FAILED);
    assert_int_equal(e, 1);
    /* 103: our connect deadline; a kernel that resets queued SYNs gives an errno instead */
    print_message("silent broker: %s after %u ms\n", sc_binder_reason(&B), sc_posix_now_ms() - t0);
    assert_true(sc_posix_now_ms() - t0 < 3000);
    uint32_t t1 = sc_posix_now_ms();
    free_hal();
    assert_true(sc_posix_now_ms() - t1 < 1000);
    for (int i = 0; i < 4; i++)
        close(fillers[i]);
    close(ls);
}

/* A broker that refuses us answers CONNACK 5 (not authorised): err 1, sub 5. */
static void test_bind_connack_refused(void **state)
{
    (void)state;
    uint16_t port;
    pid_t pid = spawn_broker(false, "", &port);
    assert_true(pid > 0);
    make_hal();
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, port);
    uint16_t e;
    int32_t s;
    uint32_t ms;
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", sc_posix_now_ms()), SC_OK);
    assert_int_equal(run_real(&e, &s, &ms), SC_BINDER_FAILED);
    assert_int_equal(e, 1);
    assert_int_equal(s, 5);
    free_hal();
    kill_broker(pid);
}

/* --broker A,B with both alive and only B's cloud answering: the request on A goes unanswered,
 * the binder gives that connection up after two tries (binder.h: 0, 2 s, given up at 4 s) and
 * opens a new one, which the port starts at B, the address after the one the lost session had
 * (starting at A again would go unanswered until the budget ends). */
static void test_bind_silent_broker_next_address(void **state)
{
    (void)state;
    uint16_t pa;
    pid_t a = spawn_broker(true, "", &pa);
    assert_true(a > 0);
    make_hal();
    start_responder(0);   /* on B only */
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, 1883);
    snprintf(cfg.host, sizeof cfg.host, "127.0.0.1:%u,127.0.0.1:%u", pa, broker_port);
    cfg.bind_timeout_ms = 15000;
    uint16_t e;
    int32_t s;
    uint32_t ms;
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", sc_posix_now_ms()), SC_OK);
    assert_int_equal(run_real(&e, &s, &ms), SC_BINDER_DONE);
    sc_binder_stats_t st;
    sc_binder_stats(&B, &st);
    assert_int_equal(st.reconnects, 1);
    assert_int_equal(st.publishes, 3);   /* two on A, one on B */
    /* 4 s of silence on A, then one connect, login and reply on loopback; the upper bound only
     * keeps a regression (a second silent round on A: 12 s) from passing */
    assert_true(ms >= 2 * SC_BINDER_PUBLISH_RETRY_MS && ms < 3 * 2 * SC_BINDER_PUBLISH_RETRY_MS);
    sc_binder_abort(&B);
    stop_responder();
    free_hal();
    kill_broker(a);
}

/* ---- dynamic registration endpoint (docs/protocol/tencent.md#dynamic-registration) --------------- */
typedef struct {
    char body[2048];
    size_t len;
    bool overflow;
} upload_t;

static volatile int dynreg_requests;
static const char *server_product_secret = PSECRET;

/* The expected signature, computed here with mbedTLS rather than with the code under test. */
static bool signature_ok(const char *dn, double nonce, const char *pid, double ts, const char *sig)
{
    char msg[256];
    snprintf(msg, sizeof msg, "deviceName=%s&nonce=%.0f&productId=%s&timestamp=%.0f", dn, nonce, pid, ts);
    unsigned char mac[20];
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), (const unsigned char *)server_product_secret,
                    strlen(server_product_secret), (const unsigned char *)msg, strlen(msg), mac);
    char hex[41];
    for (int i = 0; i < 20; i++)
        sprintf(hex + 2 * i, "%02x", mac[i]);
    unsigned char b64[64];
    size_t n;
    mbedtls_base64_encode(b64, sizeof b64, &n, (const unsigned char *)hex, 40);
    return strlen(sig) == n && memcmp(sig, b64, n) == 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **con_cls)
{
    (void)cls; (void)version;
    upload_t *u = *con_cls;
    if (u == NULL) {
        u = calloc(1, sizeof *u);
        *con_cls = u;
        return MHD_YES;
    }
    if (*data_size > 0) {
        if (u->len + *data_size < sizeof u->body) {
            memcpy(u->body + u->len, data, *data_size);
            u->len += *data_size;
        } else {
            u->overflow = true;
        }
        *data_size = 0;
        return MHD_YES;
    }
    dynreg_requests++;
    if (strcmp(method, "POST") != 0 || strcmp(url, "/register/dev") != 0)
        return reply(c, 404, "{\"code\":404,\"message\":\"not found\"}");
    cJSON *j = u->overflow ? NULL : cJSON_ParseWithLength(u->body, u->len);
    const cJSON *dn = cJSON_GetObjectItem(j, "deviceName"), *pid = cJSON_GetObjectItem(j, "productId");
    const cJSON *nonce = cJSON_GetObjectItem(j, "nonce"), *ts = cJSON_GetObjectItem(j, "timestamp");
    const cJSON *sig = cJSON_GetObjectItem(j, "signature");
    enum MHD_Result rc;
    if (!cJSON_IsString(dn) || !cJSON_IsString(pid) || !cJSON_IsNumber(nonce) || !cJSON_IsNumber(ts) ||
        !cJSON_IsString(sig)) {
        rc = reply(c, 200, "{\"code\":1000,\"message\":\"bad request\"}");
    } else if (!signature_ok(dn->valuestring, nonce->valuedouble, pid->valuestring, ts->valuedouble,
                             sig->valuestring)) {
        rc = reply(c, 200, "{\"code\":1020,\"message\":\"signature check failed\"}");
    } else {
        char out[512];
        assert_int_equal(sc_cloud_dynreg_response(server_product_secret, PSK, out, sizeof out, NULL), SC_OK);
        rc = reply(c, 200, out);
    }
    cJSON_Delete(j);
    return rc;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls; (void)c; (void)t;
    free(*con_cls);
    *con_cls = NULL;
}

static void dynreg_run(const char *device_product_secret, bool expect_ok)
{
    uint16_t port = tu_free_port();
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, port, NULL, NULL, on_request, NULL,
                                            MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
    assert_non_null(d);
    make_hal();
    start_responder(0);
    store.has = false;
    dynreg_requests = 0;
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, broker_port);
    id.device_secret[0] = '\0';
    strcpy(id.product_secret, device_product_secret);
    snprintf(cfg.register_url, sizeof cfg.register_url, "http://127.0.0.1:%u/register/dev", port);
    uint16_t e;
    int32_t s;
    uint32_t ms;
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", sc_posix_now_ms()), SC_OK);
    sc_binder_status_t st = run_real(&e, &s, &ms);
    assert_int_equal(dynreg_requests, 1);
    if (expect_ok) {
        assert_int_equal(st, SC_BINDER_DONE);
        print_message("BENCH cloud_dynreg_and_bind_loopback_ms %u\n", ms);
        assert_string_equal(id.device_secret, PSK);
        /* the record names its device (F32) */
        assert_true(store.has && store.len == sizeof PID + sizeof DNAME + strlen(PSK) &&
                    memcmp(store.val, PID "\0" DNAME "\0" PSK, store.len) == 0);
    } else {
        assert_int_equal(st, SC_BINDER_FAILED);
        assert_int_equal(e, 27);
        assert_int_equal(s, 1020);
        assert_string_equal(id.device_secret, "");
        assert_false(store.has);
        print_message("dynreg refused as expected: %s\n", sc_binder_reason(&B));
    }
    sc_binder_abort(&B);
    stop_responder();
    free_hal();
    MHD_stop_daemon(d);
}

static void test_dynreg_real(void **state)
{
    (void)state;
    dynreg_run(PSECRET, true);
}

static void test_dynreg_wrong_secret(void **state)
{
    (void)state;
    dynreg_run("some-other-product-secret", false);
}

/* The HTTP table itself: a reply larger than the buffer is an error (not cut JSON), a 404
 * comes back as a status, and only http/https URLs are followed. */
static void test_http_table_limits(void **state)
{
    (void)state;
    uint16_t port = tu_free_port();
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, port, NULL, NULL, on_request, NULL,
                                            MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
    assert_non_null(d);
    make_hal();
    char url[96], resp[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/register/dev", port);
    int status = -1;
    size_t n = 99;
    const char *body = "{\"deviceName\":\"x\"}";
    assert_int_equal(hal.http.post(hal.http.ctx, url, "application/json", body, strlen(body), 2000, &status, resp, 8,
                                   &n), SC_ERR_NOSPACE);
    assert_int_equal(hal.http.post(hal.http.ctx, url, "application/json", body, strlen(body), 2000, &status, resp,
                                   sizeof resp, &n), SC_OK);
    assert_int_equal(status, 200);
    assert_true(n > 0 && memmem(resp, n, "\"code\":1000", 11) != NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/nowhere", port);
    assert_int_equal(hal.http.post(hal.http.ctx, url, NULL, body, strlen(body), 2000, &status, resp, sizeof resp, &n),
                     SC_OK);
    assert_int_equal(status, 404);
    assert_int_equal(hal.http.post(hal.http.ctx, "file:///etc/hostname", NULL, body, strlen(body), 2000, &status, resp,
                                   sizeof resp, &n), SC_ERR_IO);
    free_hal();
    MHD_stop_daemon(d);
}

static void test_dynreg_endpoint_down(void **state)
{
    (void)state;
    make_hal();
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, broker_port);
    id.device_secret[0] = '\0';
    strcpy(id.product_secret, PSECRET);
    snprintf(cfg.register_url, sizeof cfg.register_url, "http://127.0.0.1:%u/register/dev", tu_free_port());
    store.has = false;
    uint16_t e;
    int32_t s;
    uint32_t ms;
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", sc_posix_now_ms()), SC_OK);
    assert_int_equal(run_real(&e, &s, &ms), SC_BINDER_FAILED);
    assert_int_equal(e, 27);
    assert_int_equal(s, SC_ERR_IO);
    free_hal();
}

/* TLS on a second broker with a CA and server certificate made here by the openssl CLI:
 * exercises mosquitto_tls_set with a CA file and host-name (IP SAN) verification. */
static void test_bind_tls(void **state)
{
    (void)state;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "( cd '%s' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 "
             "-subj /CN=sc-test-ca && openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr "
             "-subj /CN=127.0.0.1 && printf 'subjectAltName=IP:127.0.0.1\\n' > ext && openssl x509 -req "
             "-in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext "
             "&& chmod 644 srv.key && chmod 755 . ) >/dev/null 2>&1",
             tmpdir);
    /* mosquitto started as root drops to its own user: the throw-away key must be readable */
    assert_int_equal(system(cmd), 0); /* openssl is a dependency (make deps): never skipped */
    char extra[512];
    snprintf(extra, sizeof extra, "certfile %s/srv.crt\nkeyfile %s/srv.key\n", tmpdir, tmpdir);
    uint16_t tls_port;
    pid_t tls_pid = spawn_broker(true, extra, &tls_port);
    assert_true(tls_pid > 0);
    make_hal();
    sc_identity_t id;
    sc_cloud_config_t cfg;
    make_id(&id, &cfg, tls_port);
    cfg.tls = true;
    snprintf(cfg.ca_file, sizeof cfg.ca_file, "%s/ca.crt", tmpdir);
    cfg.bind_timeout_ms = 3000;
    uint16_t e;
    int32_t s;
    uint32_t ms;
    /* no responder on this broker: reaching "no reply" (25) proves TLS connect + PUBACK */
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", sc_posix_now_ms()), SC_OK);
    assert_int_equal(run_real(&e, &s, &ms), SC_BINDER_FAILED);
    assert_int_equal(e, 25);
    /* a wrong CA must fail the connection (err 1), not silently connect */
    snprintf(cfg.ca_file, sizeof cfg.ca_file, "%s/srv.crt", tmpdir);
    assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", sc_posix_now_ms()), SC_OK);
    assert_int_equal(run_real(&e, &s, &ms), SC_BINDER_FAILED);
    assert_int_equal(e, 1);
    assert_int_equal(s, EPROTO);
    assert_true(ms < 2000);   /* reported, not waited out */
    free_hal();
    kill_broker(tls_pid);

    /* F186: the port looks the name up itself and hands libmosquitto the address; the certificate
     * is still checked against the NAME it was given. A certificate for "localhost" (a DNS SAN)
     * reached as "localhost": accepted; the same reached as 127.0.0.1, or one for another name
     * reached as "localhost": refused (EPROTO), as libmosquitto's own check did. */
    snprintf(cmd, sizeof cmd,
             "( cd '%s' && for n in localhost other.sc-test.example; do openssl req -newkey rsa:2048 -nodes "
             "-keyout $n.key -out $n.csr -subj /CN=$n && printf 'subjectAltName=DNS:%%s\\n' $n > $n.ext && "
             "openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt -days 2 "
             "-extfile $n.ext && chmod 644 $n.key || exit 1; done && openssl req -newkey rsa:2048 -nodes "
             "-keyout expired.key -out expired.csr -subj /CN=127.0.0.1 && printf 'subjectAltName=IP:127.0.0.1\\n' > "
             "expired.ext && openssl x509 -req -in expired.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out "
             "expired.crt -days -1 -extfile expired.ext && chmod 644 expired.key ) >/dev/null 2>&1",
             tmpdir);
    assert_int_equal(system(cmd), 0);
    /* ... and one that ended yesterday, reached by its address, refused by this set clock (F206
     * skips the dates only for a clock before SC_CLOUD_CLOCK_FLOOR: integ.cloud_e2e "clock") */
    static const struct {
        const char *cert, *host;
        uint16_t err;
    } cases[] = { { "localhost", "localhost", 25 }, { "localhost", "127.0.0.1", 1 }, { "other.sc-test.example", "localhost", 1 },
                  { "expired", "127.0.0.1", 1 } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(extra, sizeof extra, "certfile %s/%s.crt\nkeyfile %s/%s.key\n", tmpdir, cases[i].cert, tmpdir, cases[i].cert);
        tls_pid = spawn_broker(true, extra, &tls_port);
        assert_true(tls_pid > 0);
        make_hal();
        make_id(&id, &cfg, tls_port);
        snprintf(cfg.host, sizeof cfg.host, "%s", cases[i].host);
        cfg.tls = true;
        snprintf(cfg.ca_file, sizeof cfg.ca_file, "%s/ca.crt", tmpdir);
        cfg.bind_timeout_ms = 3000;
        assert_int_equal(sc_binder_start(&B, &hal, &cfg, &id, "tok-integration", sc_posix_now_ms()), SC_OK);
        uint16_t got = 0;
        assert_int_equal(run_real(&got, &s, &ms), SC_BINDER_FAILED);
        free_hal();
        kill_broker(tls_pid);
        if (got != cases[i].err)
            fail_msg("certificate for %s, broker reached as %s: err %u, want %u", cases[i].cert, cases[i].host, got, cases[i].err);
        if (cases[i].err == 1)
            assert_int_equal(s, EPROTO);
    }
}

/* F186: libmosquitto is handed the address the port looked up; SNI must still carry the name (a
 * TLS front end that routes by SNI). A TLS server of Python's records the SNI it gets; the port
 * connects to "localhost" with the CA (test_bind_tls made the certificates). */
/* The server name a TLS client sent in its ClientHello (SNI) when the port connects with p:
 * a TLS server of Python's on a free port, with localhost's certificate, writes what its SNI
 * callback got ("None" for no SNI), which it calls before it looks at the ciphers: a PSK-only
 * client, which shares none with it, is seen too. */
static void sni_sent(sc_mqtt_connect_t *p, char *got, size_t len)
{
    char sni[600], ready[600], cmd[2048];
    snprintf(sni, sizeof sni, "%s/sni.txt", tmpdir);
    snprintf(ready, sizeof ready, "%s/sni.ready", tmpdir);
    unlink(sni);
    unlink(ready);
    uint16_t port = tu_free_port();
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import socket, ssl, sys\n"
             "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
             "c.load_cert_chain(sys.argv[1], sys.argv[2])\n"
             "c.sni_callback = lambda s, n, x: [open(sys.argv[4], \"w\").write(str(n)), None][1]\n"
             "l = socket.socket()\n"
             "l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
             "l.bind((\"127.0.0.1\", int(sys.argv[3])))\n"
             "l.listen(1)\n"
             "l.settimeout(10)\n"
             "open(sys.argv[5], \"w\").close()\n"
             "a, _ = l.accept()\n"
             "try:\n    c.wrap_socket(a, server_side=True)\nexcept Exception:\n    pass\n' "
             "'%s/localhost.crt' '%s/localhost.key' %u '%s' '%s' >/dev/null 2>&1 &",
             tmpdir, tmpdir, (unsigned)port, sni, ready);
    assert_int_equal(system(cmd), 0);
    for (int i = 0; i < 100 && access(ready, F_OK) != 0; i++)
        usleep(50000);
    assert_int_equal(access(ready, F_OK), 0);
    sc_hal_mqtt_t m;
    assert_int_equal(sc_posix_mqtt_init(&m), SC_OK);
    p->port = port;
    uint32_t t0 = sc_posix_now_ms();
    assert_int_equal(m.connect(m.ctx, p), SC_OK);
    assert_true(sc_posix_now_ms() - t0 < 100);   /* the lookup is the port thread's, not ours */
    for (int i = 0; i < 100 && access(sni, F_OK) != 0; i++)
        usleep(50000);
    m.disconnect(m.ctx);
    sc_posix_mqtt_cleanup(&m);
    got[0] = 0;
    FILE *f = fopen(sni, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, (int)len, f));
    fclose(f);
}

static void test_tls_sni_is_the_name(void **state)
{
    (void)state;
    char ca[600], got[64];
    snprintf(ca, sizeof ca, "%s/ca.crt", tmpdir);
    sc_mqtt_connect_t p = { .host = "localhost", .client_id = "sni-test", .tls = true, .ca_file = ca };
    sni_sent(&p, got, sizeof got);
    assert_string_equal(got, "localhost");
    p.host = "127.0.0.1";   /* an address: no SNI */
    sni_sent(&p, got, sizeof got);
    assert_string_equal(got, "None");
}

/* TLS-PSK (IoT Explorer's PSK devices) by name: the name goes in SNI too (the PSK context's
 * own callback, F186); by address, no SNI at all (RFC 6066 allows no address there;
 * libmosquitto put the address in, F202). */
static void test_tls_psk_sni_is_the_name(void **state)
{
    (void)state;
    static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    char got[64];
    sc_mqtt_connect_t p = { .host = "localhost", .client_id = "PSKTEST001dev1", .tls = true,
                            .psk_identity = "PSKTEST001dev1", .psk = key, .psk_len = sizeof key };
    sni_sent(&p, got, sizeof got);
    assert_string_equal(got, "localhost");
    p.host = "127.0.0.1";
    sni_sent(&p, got, sizeof got);
    assert_string_equal(got, "None");
}

int main(void)
{
    if (access(MOSQUITTO_BIN, X_OK) != 0) {
        printf("skip: %s not installed\n", MOSQUITTO_BIN);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    sc_posix_log_level(SC_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_real_broker),
        cmocka_unit_test(test_burst_waits_for_room),
        cmocka_unit_test(test_request_ids_wrap),
        cmocka_unit_test(test_query_real_broker),
        cmocka_unit_test(test_bind_real_refused_code),
        cmocka_unit_test(test_bind_real_timeout),
        cmocka_unit_test(test_bind_broker_down),
        cmocka_unit_test(test_bind_connack_refused),
        cmocka_unit_test(test_bind_broker_silent),
        cmocka_unit_test(test_bind_silent_broker_next_address),
        cmocka_unit_test(test_dynreg_real),
        cmocka_unit_test(test_dynreg_wrong_secret),
        cmocka_unit_test(test_dynreg_endpoint_down),
        cmocka_unit_test(test_http_table_limits),
        cmocka_unit_test(test_bind_tls),
        cmocka_unit_test(test_tls_sni_is_the_name),
        cmocka_unit_test(test_tls_psk_sni_is_the_name),
    };
    return cmocka_run_group_tests(tests, start_broker, stop_broker);
}
