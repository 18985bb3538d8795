/* SPDX-License-Identifier: Apache-2.0 */
/* ctest-cost: 9 */
/* The cloud's own MQTT clients (apps/cloud/cloud_mosq.c) against a real mosquitto this test
 * starts on a free loopback port. Connected (what GET /readyz's "broker" reads) only from an
 * accepted CONNACK until the connection is gone, and again once the broker is back; never on a
 * refused CONNACK. A stop never cancels the loop's thread: a message hook in progress runs to
 * its end before cloud_mosq_free returns (the forced mosquitto_loop_stop this replaced
 * cancelled it in its sleep, and at 9 stops of 30 left libmosquitto's packet mutex locked), and
 * a hook that outlasts the stop's bound makes the stop give up and free nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#define STOP_WAIT_MS 800   /* the stop's bound, short here */
#include "../../apps/cloud/cloud_mosq.c"
#include "test_util.h"

#define MOSQUITTO_BIN "/usr/sbin/mosquitto"

/* cloud_util.c's, which would bring the whole cloud along */
void cloud_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int64_t cloud_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cloud_random_hex(char *out, size_t nhex)
{
    static atomic_uint n;
    snprintf(out, nhex + 1, "%0*x", (int)nhex, atomic_fetch_add(&n, 1) + 1);
}

/* libmosquitto resolves the broker's host at each (re)connect; with slow_resolve set, its next
 * lookup says so (in_resolve) and waits 300 ms first: the window of a reconnect that has
 * begun (and marked the client 'new') but has no socket yet. This executable's definition
 * comes before libc's for libmosquitto's calls. */
static atomic_bool slow_resolve, in_resolve;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
    if (atomic_exchange(&slow_resolve, false)) {
        atomic_store(&in_resolve, true);
        tu_sleep_ms(300);
    }
    return real(node, service, hints, res);
}

static char tmpdir[64];
static pid_t brokers[4];   /* this case's, killed by its teardown even when it failed */

/* mosquitto on port (0: a free one, written back), anonymous clients allowed or not. */
static pid_t broker(uint16_t *port, bool anonymous)
{
    pid_t pid = tu_mosquitto(MOSQUITTO_BIN, tmpdir, port, anonymous, "");
    if (pid < 0)
        fail_msg("cannot start %s", MOSQUITTO_BIN);
    for (size_t k = 0; k < sizeof brokers / sizeof brokers[0]; k++)
        if (brokers[k] <= 0) {
            brokers[k] = pid;
            break;
        }
    return pid;
}

static void broker_kill(pid_t pid)
{
    for (size_t k = 0; k < sizeof brokers / sizeof brokers[0]; k++)
        if (brokers[k] == pid)
            brokers[k] = 0;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to ms for cloud_mosq_connected(c) to be want: true if it came. */
static bool wait_connected(cloud_mosq_t *c, bool want, int ms)
{
    for (int64_t until = now_ms() + ms; now_ms() < until; tu_sleep_ms(20))
        if (cloud_mosq_connected(c) == want)
            return true;
    return cloud_mosq_connected(c) == want;
}

/* ---- the hooks -------------------------------------------------------------------------- */

static atomic_int connacks, refusals, losses, losses_connected;
static atomic_bool in_hook, hook_done;
static atomic_int hook_sleep_ms;

static void t_connect(void *owner, struct mosquitto *m, int rc)
{
    if (rc == 0) {
        /* owner: the client itself when the case counts its SUBACKs (cloud_mosq_ready) */
        if (owner)
            cloud_mosq_subscribe(owner, m, "t/#", 0);
        else
            mosquitto_subscribe(m, NULL, "t/#", 0);
        atomic_fetch_add(&connacks, 1);
    } else {
        atomic_fetch_add(&refusals, 1);
    }
}

static void t_disconnect(void *owner, int rc, bool was)
{
    (void)owner, (void)rc;
    atomic_fetch_add(&losses, 1);
    if (was)
        atomic_fetch_add(&losses_connected, 1);
}

/* The first message (the first sleepers_max, one per client: a client in its hook takes no
 * other): a handler that takes hook_sleep_ms (a database write waiting, say). */
static atomic_int sleepers, sleepers_max = 1, sleepers_done;

static void t_message(void *owner, const struct mosquitto_message *msg)
{
    (void)owner, (void)msg;
    if (atomic_fetch_add(&sleepers, 1) >= atomic_load(&sleepers_max))
        return;
    atomic_store(&in_hook, true);
    tu_sleep_ms((unsigned)atomic_load(&hook_sleep_ms));
    atomic_store(&hook_done, true);
    atomic_fetch_add(&sleepers_done, 1);
}

static const cloud_mosq_hooks_t hooks = { t_connect, t_disconnect, t_message };

static int setup(void **state)
{
    (void)state;
    atomic_store(&connacks, 0), atomic_store(&refusals, 0);
    atomic_store(&losses, 0), atomic_store(&losses_connected, 0);
    atomic_store(&in_hook, false), atomic_store(&hook_done, false);
    atomic_store(&sleepers, 0), atomic_store(&sleepers_max, 1), atomic_store(&sleepers_done, 0);
    strcpy(tmpdir, "/tmp/sc_mosq_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof brokers / sizeof brokers[0]; k++)
        if (brokers[k] > 0)
            broker_kill(brokers[k]);
    return tu_rm_rf(tmpdir);
}

/* A client with the test's hooks, not started */
static cloud_mosq_t *new_client(void)
{
    char err[100] = "";
    cloud_mosq_t *c = cloud_mosq_new("sc-test-", NULL, NULL, &hooks, NULL, err, sizeof err);
    assert_non_null(c);
    return c;
}

static cloud_mosq_t *client(uint16_t port)
{
    cloud_mosq_t *c = new_client();
    assert_false(cloud_mosq_connected(c));
    assert_int_equal(cloud_mosq_start(c, "127.0.0.1", port), 0);
    return c;
}

/* ---- the cases -------------------------------------------------------------------------- */

/* Connected from the CONNACK; not once the broker is gone (the hook hears it was connected);
 * connected again when it is back on its port (the client retries 1 to 10 s apart). */
static void connected_follows_the_broker(void **state)
{
    (void)state;
    uint16_t port = 0;
    pid_t b = broker(&port, true);
    cloud_mosq_t *c = client(port);
    assert_true(wait_connected(c, true, 5000));
    assert_int_equal(atomic_load(&connacks), 1);
    broker_kill(b);
    assert_true(wait_connected(c, false, 5000));
    assert_int_equal(atomic_load(&losses_connected), 1);
    b = broker(&port, true);
    assert_true(wait_connected(c, true, 15000));
    assert_int_equal(atomic_load(&connacks), 2);
    assert_true(cloud_mosq_free(c));
    assert_int_equal(atomic_load(&losses_connected), 1);   /* a stop is not a lost broker */
    broker_kill(b);
}

/* Ready (cloud_mosq_ready) once the broker's SUBACK granted the subscription the connect hook
 * made through cloud_mosq_subscribe, never before the CONNACK; not once the broker is gone;
 * ready again after the reconnect's own SUBACK. (A SUBACK held back or refused: a broker of
 * the test's own in integ.cloud_stop.) */
static void ready_after_the_suback(void **state)
{
    (void)state;
    uint16_t port = 0;
    pid_t b = broker(&port, true);
    cloud_mosq_t *c = new_client();
    c->owner = c;   /* t_connect subscribes through cloud_mosq_subscribe */
    assert_false(cloud_mosq_ready(c));
    assert_int_equal(cloud_mosq_start(c, "127.0.0.1", port), 0);
    for (int64_t until = now_ms() + 5000; !cloud_mosq_ready(c) && now_ms() < until;)
        tu_sleep_ms(20);
    assert_true(cloud_mosq_ready(c));
    assert_int_equal(atomic_load(&c->subs_pending), 0);
    broker_kill(b);
    assert_true(wait_connected(c, false, 5000));
    assert_false(cloud_mosq_ready(c));
    b = broker(&port, true);
    for (int64_t until = now_ms() + 15000; !cloud_mosq_ready(c) && now_ms() < until;)
        tu_sleep_ms(20);
    assert_true(cloud_mosq_ready(c));
    assert_int_equal(atomic_load(&connacks), 2);
    assert_true(cloud_mosq_free(c));
    broker_kill(b);
}

/* A broker that refuses the client: the hook hears the refusal, the client never counts as
 * connected. */
static void refused_is_not_connected(void **state)
{
    (void)state;
    uint16_t port = 0;
    pid_t b = broker(&port, false);
    cloud_mosq_t *c = client(port);
    for (int64_t until = now_ms() + 5000; !atomic_load(&refusals) && now_ms() < until;)
        tu_sleep_ms(20);
    assert_true(atomic_load(&refusals) >= 1);
    assert_false(cloud_mosq_connected(c));
    assert_int_equal(atomic_load(&connacks), 0);
    assert_true(cloud_mosq_free(c));
    broker_kill(b);
}

/* Publishes on t/x every 50 ms until the client's message hook has started (its SUBSCRIBE may
 * still be on its way when the first ones go). */
static void feed_until_hook(uint16_t port)
{
    struct mosquitto *p = mosquitto_new(NULL, true, NULL);
    assert_non_null(p);
    assert_int_equal(mosquitto_connect(p, "127.0.0.1", port, 30), MOSQ_ERR_SUCCESS);
    for (int64_t until = now_ms() + 5000; !atomic_load(&in_hook) && now_ms() < until;) {
        mosquitto_publish(p, NULL, "t/x", 1, "x", 0, false);
        mosquitto_loop(p, 50, 1);
    }
    mosquitto_disconnect(p);
    mosquitto_destroy(p);
    assert_true(atomic_load(&in_hook));
}

/* A stop while a hook runs: cloud_mosq_free returns after the hook's end, never cutting it. */
static void stop_waits_for_the_hook(void **state)
{
    (void)state;
    atomic_store(&hook_sleep_ms, 300);
    uint16_t port = 0;
    pid_t b = broker(&port, true);
    cloud_mosq_t *c = client(port);
    assert_true(wait_connected(c, true, 5000));
    feed_until_hook(port);
    int64_t t0 = now_ms();
    assert_true(cloud_mosq_free(c));
    assert_true(atomic_load(&hook_done));
    assert_true(now_ms() - t0 < STOP_WAIT_MS);
    broker_kill(b);
}

/* A hook that outlasts the bound: the stop gives up after about STOP_WAIT_MS and frees nothing
 * (the hook, which may use its owner's state, ends later on the thread left running). */
static cloud_mosq_t *left;   /* reachable: what the process's exit takes */

static void stop_is_bounded(void **state)
{
    (void)state;
    atomic_store(&hook_sleep_ms, STOP_WAIT_MS + 1500);
    uint16_t port = 0;
    pid_t b = broker(&port, true);
    left = client(port);
    assert_true(wait_connected(left, true, 5000));
    feed_until_hook(port);
    int64_t t0 = now_ms();
    assert_false(cloud_mosq_free(left));
    int64_t took = now_ms() - t0;
    assert_true(took >= STOP_WAIT_MS - 50 && took < STOP_WAIT_MS + 1000);
    assert_false(atomic_load(&hook_done));
    for (int64_t until = now_ms() + 5000; !atomic_load(&hook_done) && now_ms() < until;)
        tu_sleep_ms(20);
    assert_true(atomic_load(&hook_done));
    broker_kill(b);
}

/* Two clients each in a hook that outlasts the bound, stopped the way cloud_main stops OTA and
 * the data template: both told first (cloud_mosq_stop), then each freed. Their waits share
 * one bound: about STOP_WAIT_MS in all, not one after the other (F123: 6 s + 6 s at the
 * cloud's stop, past Docker's 10 s grace). */
static cloud_mosq_t *left2[2];

static void stops_share_one_bound(void **state)
{
    (void)state;
    atomic_store(&hook_sleep_ms, STOP_WAIT_MS + 1500);
    atomic_store(&sleepers_max, 2);
    uint16_t port = 0;
    pid_t b = broker(&port, true);
    left2[0] = client(port);
    left2[1] = client(port);
    assert_true(wait_connected(left2[0], true, 5000));
    assert_true(wait_connected(left2[1], true, 5000));
    struct mosquitto *p = mosquitto_new(NULL, true, NULL);
    assert_non_null(p);
    assert_int_equal(mosquitto_connect(p, "127.0.0.1", port, 30), MOSQ_ERR_SUCCESS);
    for (int64_t until = now_ms() + 5000; atomic_load(&sleepers) < 2 && now_ms() < until;) {
        mosquitto_publish(p, NULL, "t/x", 1, "x", 0, false);
        mosquitto_loop(p, 50, 1);
    }
    mosquitto_disconnect(p);
    mosquitto_destroy(p);
    assert_true(atomic_load(&sleepers) >= 2);   /* both clients in their hooks */
    int64_t t0 = now_ms();
    cloud_mosq_stop(left2[0]);
    cloud_mosq_stop(left2[1]);
    assert_false(cloud_mosq_free(left2[0]));
    assert_false(cloud_mosq_free(left2[1]));
    int64_t took = now_ms() - t0;
    assert_true(took >= STOP_WAIT_MS - 50);
    assert_true(took < STOP_WAIT_MS + 600);   /* one after the other: 2 x STOP_WAIT_MS or more */
    for (int64_t until = now_ms() + 5000; atomic_load(&sleepers_done) < 2 && now_ms() < until;)
        tu_sleep_ms(20);
    assert_int_equal(atomic_load(&sleepers_done), 2);
    broker_kill(b);
}

/* A stop while the loop's reconnect is under way (V1): libmosquitto's reconnect overwrote the
 * stop's 'disconnecting' mark and the stop's DISCONNECT had no socket to go to, so the client
 * came back connected and its loop ran on to the keepalive (30 s): the stop gave up after its
 * bound. Now the CONNACK of a stopping client is answered with a DISCONNECT (and no
 * subscribe): the stop ends well within the bound. */
static void stop_during_a_reconnect(void **state)
{
    (void)state;
    uint16_t port = 0;
    pid_t b = broker(&port, true);
    cloud_mosq_t *c = client(port);
    assert_true(wait_connected(c, true, 5000));
    broker_kill(b);
    assert_true(wait_connected(c, false, 5000));
    b = broker(&port, true);
    atomic_store(&in_resolve, false);
    atomic_store(&slow_resolve, true);   /* the next reconnect: 1 to 10 s on */
    for (int64_t until = now_ms() + 15000; !atomic_load(&in_resolve) && now_ms() < until;)
        tu_sleep_ms(5);
    assert_true(atomic_load(&in_resolve));
    int64_t t0 = now_ms();
    bool freed = cloud_mosq_free(c);   /* within the lookup's 300 ms */
    if (!freed)
        left = c;
    assert_true(freed);
    assert_true(now_ms() - t0 < STOP_WAIT_MS);
    assert_int_equal(atomic_load(&connacks), 1);   /* the stopping client subscribed nothing */
    broker_kill(b);
}

/* A port whose connects hang: a listener with a full accept queue (backlog 0, filled by the
 * test's own connects), so the kernel drops every further SYN (a broker gone, its port held).
 * The listener is returned; the filling sockets go into fill[3]. */
static int syn_sink(uint16_t port, int fill[3])
{
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    assert_int_equal(bind(ls, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(ls, 0), 0);
    for (int i = 0; i < 3; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)connect(fill[i], (struct sockaddr *)&sin, sizeof sin);
    }
    tu_sleep_ms(100);
    return ls;
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* The binding service runs its client on the main loop: cloud_mosq_connect_to, then
 * mosquitto_loop with 100 ms, the stop flag checked between. Its reconnect to a broker whose
 * port drops the SYNs must not block: mosquitto_reconnect's blocking connect() held the loop
 * until the kernel gave up (about 2 minutes), so a SIGTERM that came just before it (the
 * handler only sets a flag) waited that long (docs/cloud.md, the stop's 7 s). A 2 s timer
 * (SIGALRM, no SA_RESTART) ends such a connect() here, so the old code fails in 2 s, not 2 min. */
static void owner_reconnect_never_blocks(void **state)
{
    (void)state;
    uint16_t port = 0;
    pid_t b = broker(&port, true);
    cloud_mosq_t *c = new_client();
    struct mosquitto *m = cloud_mosq_client(c);
    assert_int_equal(mosquitto_connect(m, "127.0.0.1", port, 30), MOSQ_ERR_SUCCESS);
    for (int i = 0; i < 50 && !cloud_mosq_connected(c); i++)
        mosquitto_loop(m, 100, 1);
    assert_true(cloud_mosq_connected(c));
    broker_kill(b);
    int fill[3], ls = syn_sink(port, fill);
    struct sigaction sa = { .sa_handler = on_alarm }, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old);
    int64_t worst = 0, end = now_ms() + 3000;
    int reconnects = 0, rc = MOSQ_ERR_CONN_LOST;
    while (now_ms() < end) {
        int64_t t0 = now_ms();
        alarm(2);
        if (rc != MOSQ_ERR_SUCCESS) {
            cloud_mosq_lost(c);
            rc = cloud_mosq_connect_to(c, "127.0.0.1", port);
            reconnects++;
        }
        if (rc == MOSQ_ERR_SUCCESS)
            rc = mosquitto_loop(m, 100, 1);
        alarm(0);
        if (now_ms() - t0 > worst)
            worst = now_ms() - t0;
        if (rc != MOSQ_ERR_SUCCESS)
            tu_sleep_ms(100);
    }
    sigaction(SIGALRM, &old, NULL);
    cloud_mosq_stop(c);
    assert_true(cloud_mosq_free(c));
    for (int i = 0; i < 3; i++)
        close(fill[i]);
    close(ls);
    assert_true(reconnects >= 1);
    assert_false(rc != MOSQ_ERR_SUCCESS && reconnects > 3);   /* the connect waits, not refused over and over */
    /* each pass within the loop's 100 ms wait and some slack for a loaded machine */
    if (worst >= 1000)
        fail_msg("one pass of the owner's loop took %lld ms (a blocking connect)", (long long)worst);
}

int main(void)
{
    if (access(MOSQUITTO_BIN, X_OK) != 0) {
        fprintf(stderr, "test_cloud_mosq: %s is missing (make deps)\n", MOSQUITTO_BIN);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    mosquitto_lib_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(connected_follows_the_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_is_not_connected, setup, teardown),
        cmocka_unit_test_setup_teardown(ready_after_the_suback, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_waits_for_the_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_during_a_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(stops_share_one_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(owner_reconnect_never_blocks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
