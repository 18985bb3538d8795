/* SPDX-License-Identifier: Apache-2.0 */
/* The cloud's own MQTT clients and whether each is connected: see cloud_mosq.h. */
#include "cloud_mosq.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cloud.h"
#include "sc_posix_lookup.h"
#include "sc_posix.h"

/* How long a stop waits for the loop's thread to end: a message handler in one SQLite busy
 * wait (5 s) finishes within it; a loop stuck longer is left running (cloud_mosq_free). */
#ifndef STOP_WAIT_MS   /* (tests/unit/test_cloud_mosq.c sets a shorter one) */
#define STOP_WAIT_MS 6000
#endif

/* The subscriptions one connection made (cloud_mosq_subscribe): the cloud's clients make 1 to 6. */
#define SUBS_MAX 8
/* How often a subscription the broker refused is asked for again on the same connection
 * (cloud_mosq_retry): an ACL put right on the broker is taken up without a reconnect. */
#ifndef RESUB_MS   /* (tests/unit/test_cloud_mosq.c sets a shorter one) */
#define RESUB_MS 5000
#endif

struct cloud_mosq {
    struct mosquitto *m;
    atomic_bool connected;   /* written by the loop's thread, read by any (GET /readyz) */
    /* This connection's subscriptions, reset at each CONNACK: how many still wait for a SUBACK,
     * and how many were refused (or could not be sent) and wait for cloud_mosq_retry. subs,
     * nsubs and retry_ms are subs_mu's: the connect hook subscribes and the SUBACKs arrive on
     * the loop's thread, cloud_mosq_retry asks again from the owner's. The two counts are
     * read by any thread (GET /readyz) without it. */
    atomic_int subs_pending;
    atomic_int subs_refused;
    pthread_mutex_t subs_mu;
    struct {
        int mid;           /* its SUBSCRIBE's packet id while it waits for the SUBACK; else -1 */
        int qos;
        bool refused;      /* waits for cloud_mosq_retry */
        bool said;         /* its refusal is in the log (once per connection) */
        char filter[64];
    } subs[SUBS_MAX];
    int nsubs;
    int64_t retry_ms;      /* cloud_mosq_retry asks again from this time on (monotonic ms) */
    char id[40];               /* the client id, for the log (no secret in it) */
    atomic_bool stopping;    /* cloud_mosq_stop has begun: a CONNACK now is answered with a DISCONNECT */
    bool threaded;           /* cloud_mosq_start ran: its network thread was made */
    pthread_t net;           /* that thread (net_thread) */
    int wake[2];             /* the network thread's wake-up (cloud_mosq_wake): a byte, or -1 -1 */
    char *host;              /* the broker, as given: its name is looked up for each connect */
    uint16_t port;
    const cloud_mosq_hooks_t *hooks;
    void *owner;
    pthread_mutex_t stop_mu;   /* the stop's: the joiner says when the loop's thread is gone */
    pthread_cond_t stop_cv;
    bool stopped;
    bool stop_begun;           /* cloud_mosq_stop has run */
    bool joiner_made;          /* its joiner thread runs: stop_mu, stop_cv, joiner are live */
    pthread_t joiner;
    struct timespec stop_until;   /* CLOCK_MONOTONIC: the stop's wait ends here */
};

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    cloud_mosq_t *c = ud;
    /* A reconnect of the loop's that began before the stop's mosquitto_disconnect and connected
     * after it: libmosquitto's reconnect overwrote the 'disconnecting' mark (and the stop's
     * DISCONNECT went nowhere, there being no socket yet), so the loop would run on, connected,
     * until the keepalive (30 s) and the stop would give up. Say goodbye again, here on the
     * loop's own thread: the loop ends once this DISCONNECT is out (after a refusal, the mark
     * alone ends it). A reconnect that fails to connect at all (the broker down) calls nothing
     * here and retries until the stop's bound. */
    if (atomic_load(&c->stopping)) {
        mosquitto_disconnect(m);
        return;
    }
    /* A new connection: nothing is subscribed on it until its own SUBACKs come (the hook
     * subscribes, before 'connected' is set, so no reader sees it connected with none pending). */
    pthread_mutex_lock(&c->subs_mu);
    c->nsubs = 0;
    atomic_store(&c->subs_pending, 0);
    atomic_store(&c->subs_refused, 0);
    pthread_mutex_unlock(&c->subs_mu);
    if (c->hooks->connect)
        c->hooks->connect(c->owner, m, rc);
    atomic_store(&c->connected, rc == 0 && !atomic_load(&c->stopping));
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    cloud_mosq_t *c = ud;
    bool was = atomic_exchange(&c->connected, false);
    if (c->hooks->disconnect)
        c->hooks->disconnect(c->owner, rc, was);
}

/* Under subs_mu: subscription i waits for cloud_mosq_retry, RESUB_MS after the first refusal. */
static void refuse(cloud_mosq_t *c, int i)
{
    c->subs[i].refused = true;
    if (atomic_fetch_add(&c->subs_refused, 1) == 0)
        c->retry_ms = cloud_now_ms() + RESUB_MS;
}

static void on_subscribe(struct mosquitto *m, void *ud, int mid, int qos_count, const int *granted_qos)
{
    (void)m;
    cloud_mosq_t *c = ud;
    pthread_mutex_lock(&c->subs_mu);
    for (int i = 0; i < c->nsubs; i++) {
        if (c->subs[i].mid != mid)
            continue;
        c->subs[i].mid = -1;   /* answered: a repeat of this SUBACK counts nothing */
        bool refused = qos_count < 1;
        for (int k = 0; k < qos_count; k++)
            refused |= granted_qos[k] < 0 || granted_qos[k] > 2;   /* 0x80: refused */
        if (refused) {
            refuse(c, i);   /* before the pending count drops: never ready between */
            if (!c->subs[i].said)
                cloud_log("MQTT client %s: the broker refused the subscription to %s (SUBACK 0x%02x); GET /readyz "
                          "says broker until it is granted (asked again every %d s)", c->id, c->subs[i].filter,
                          qos_count > 0 ? (unsigned)granted_qos[0] & 0xffu : 0x80u, RESUB_MS / 1000);
            c->subs[i].said = true;
        } else if (c->subs[i].said) {
            cloud_log("MQTT client %s: the broker granted the subscription to %s now", c->id, c->subs[i].filter);
            c->subs[i].said = false;
        }
        atomic_fetch_sub(&c->subs_pending, 1);
        break;
    }
    pthread_mutex_unlock(&c->subs_mu);
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m;
    cloud_mosq_t *c = ud;
    if (c->hooks->message)
        c->hooks->message(c->owner, msg);
}

cloud_mosq_t *cloud_mosq_new(const char *id_prefix, const char *user, const char *pass,
                             const cloud_mosq_hooks_t *hooks, void *owner, char *err, size_t errlen)
{
    cloud_mosq_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->hooks = hooks;
    c->owner = owner;
    atomic_init(&c->connected, false);
    atomic_init(&c->stopping, false);
    pthread_mutex_init(&c->subs_mu, NULL);
    char id[40];
    int n = snprintf(id, sizeof id, "%s", id_prefix);
    if (n < 0 || (size_t)n + 9 > sizeof id) {
        snprintf(err, errlen, "MQTT client id prefix too long");
        free(c);
        return NULL;
    }
    cloud_random_hex(id + n, 8);
    snprintf(c->id, sizeof c->id, "%s", id);
    c->m = mosquitto_new(id, true, c);
    if (!c->m) {
        snprintf(err, errlen, "mosquitto_new failed");
        free(c);
        return NULL;
    }
    mosquitto_username_pw_set(c->m, user, pass);
    mosquitto_connect_callback_set(c->m, on_connect);
    mosquitto_disconnect_callback_set(c->m, on_disconnect);
    mosquitto_message_callback_set(c->m, on_message);
    mosquitto_subscribe_callback_set(c->m, on_subscribe);
    return c;
}

/* How long a reconnect waits for the broker's name's lookup before it goes to an address of
 * the last good one (the lookup goes on; its answer is kept for the next try): a resolver that
 * answers does so in milliseconds, glibc gives one that does not 5 s per attempt. */
#ifndef LOOKUP_WAIT_MS
#define LOOKUP_WAIT_MS 2000
#endif

/* The MQTT keepalive of the cloud's clients (mosquitto_connect_async), in seconds. */
#define KEEPALIVE_S 30

/* Waits up to ms for the wake pipe (a stop, a packet queued by another thread), and empties
 * it. Without the pipe (it could not be made), at most 100 ms: the old loop's wait. */
static void wait_wake(cloud_mosq_t *c, int extra_fd, short extra_ev, short *extra_rev, int ms)
{
    struct pollfd f[2] = { { .fd = c->wake[0], .events = POLLIN }, { .fd = extra_fd, .events = extra_ev } };
    if (c->wake[0] < 0 && ms > 100)
        ms = 100;
    int n = poll(f, extra_fd >= 0 ? 2 : 1, ms < 0 ? 0 : ms);
    if (extra_rev)
        *extra_rev = n > 0 && extra_fd >= 0 ? f[1].revents : 0;
    if (n > 0 && (f[0].revents & POLLIN)) {
        char buf[64];
        while (read(c->wake[0], buf, sizeof buf) > 0)
            continue;
    }
}

void cloud_mosq_wake(cloud_mosq_t *c)
{
    if (c && c->threaded && c->wake[1] >= 0)
        (void)!write(c->wake[1], "x", 1);   /* full: a wake-up is pending already */
}

int cloud_mosq_publish(cloud_mosq_t *c, const char *topic, const void *payload, size_t len, int qos)
{
    int rc = mosquitto_publish(c->m, NULL, topic, (int)len, payload, qos, false);
    cloud_mosq_wake(c);   /* queued for the network thread, which sleeps until told */
    return rc;
}

/* Sleeps ms, or less once the stop has begun: true if it has. */
static bool nap(cloud_mosq_t *c, int ms)
{
    for (int64_t until = cloud_now_ms() + ms, now; !atomic_load(&c->stopping) && (now = cloud_now_ms()) < until;)
        wait_wake(c, -1, 0, NULL, (int)(until - now));
    return atomic_load(&c->stopping);
}

/* One connection's life on the network thread: libmosquitto's work, done when there is some.
 * mosquitto_loop(m, 100, 1) woke the thread 10 times a second, an idle client's too (two of
 * them in every cloud: 20 wake-ups a second for nothing). This sleeps in poll() on the
 * client's socket (writable asked for only when a packet waits), on the wake pipe (the stop,
 * a packet another thread queued: cloud_mosq_publish, cloud_mosq_retry) and until the
 * keepalive's next check is due: KEEPALIVE_S after the older of the last read and the last
 * write, when mosquitto_loop_misc sends a PINGREQ, or closes a connection whose PINGRESP
 * (or, connecting, whose CONNACK) did not come (libmosquitto's clock counts whole seconds
 * after its own last read and write, both before ours: its check is due by then). Returns
 * when the connection ends (libmosquitto's error) or the stop begins. */
static int run_connection(cloud_mosq_t *c, bool *reached, int *delay_ms)
{
    int64_t t_in = cloud_now_ms(), t_out = t_in;   /* the connect: libmosquitto's clock starts too */
    int rc = MOSQ_ERR_SUCCESS;
    while (rc == MOSQ_ERR_SUCCESS && !atomic_load(&c->stopping)) {
        int s = mosquitto_socket(c->m);
        if (s < 0)
            return MOSQ_ERR_NO_CONN;
        int64_t due = (t_in < t_out ? t_in : t_out) + KEEPALIVE_S * 1000, now = cloud_now_ms();
        short rev = 0;
        wait_wake(c, s, (short)(POLLIN | (mosquitto_want_write(c->m) ? POLLOUT : 0)), &rev,
                  due - now > 0 ? (int)(due - now) : 0);
        if (atomic_load(&c->stopping))
            break;
        if (rev & (POLLIN | POLLERR | POLLHUP)) {   /* as mosquitto_loop: a failed connect is read too */
            rc = mosquitto_loop_read(c->m, 1);
            t_in = cloud_now_ms();
            if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(c->m) < 0)
                break;
        }
        if (rev & POLLOUT) {
            rc = mosquitto_loop_write(c->m, 1);
            t_out = cloud_now_ms();
            if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(c->m) < 0)
                break;
        }
        now = cloud_now_ms();
        rc = mosquitto_loop_misc(c->m);
        if (now >= due)   /* the check has run: a PINGREQ queued (its clock restarts), or the end */
            t_in = t_out = now;
        if (atomic_load(&c->connected)) {
            *reached = true;
            *delay_ms = 1000;
        }
    }
    return rc;
}

/* The client's network thread (cloud_mosq_start): connects, runs libmosquitto's loop, and
 * reconnects 1 s after a connection that worked, then 2, 4, 8 and 10 s apart, until the stop.
 * Not libmosquitto's own thread (mosquitto_loop_start): its connects and reconnects looked the
 * broker's name up on the thread that called them, the first one on the cloud's startup
 * thread, so a DNS server that did not answer held the startup (and a stop signal) 10 s per
 * client with glibc's defaults, and a stop waited its 6 s for a reconnect's lookup and then left
 * the client running; and its blocking reconnect waited for the kernel's TCP connect (about 2
 * minutes to a port that drops SYNs). Here the name is looked up on a thread of its own
 * (sc_posix_lookup.h) while this one watches for the stop every 20 ms, and the connect, to one of
 * the name's addresses, does not block. While the resolver does not answer (or fails), the
 * addresses of the last lookup that gave any are used. After a try that did not connect, the
 * name's next address; after a connection that worked, its first. */
static void *net_thread(void *arg)
{
    cloud_mosq_t *c = arg;
#ifdef __linux__
    /* "mqtt-ota", "mqtt-thing": top -H, /proc/PID/task/TID/comm (integ.cloud_idle counts their
     * wake-ups) */
    char name[16];
    const char *p = strncmp(c->id, "smartcfg-", 9) ? c->id : c->id + 9;
    snprintf(name, sizeof name, "mqtt-%.*s", (int)strcspn(p, "-"), p);
    prctl(PR_SET_NAME, name, 0, 0, 0);
#endif
    sc_posix_name_t nm = { 0 };   /* the name's lookups, its last good addresses kept */
    sc_posix_addr_t last = "";
    int delay_ms = 1000;
    bool reached = true, said = false;
    while (!atomic_load(&c->stopping)) {
        /* with no address known yet, the lookup is waited for until it ends */
        const char *why = "";
        int r;
        while ((r = sc_posix_name_refresh(&nm, c->host, nm.naddrs ? LOOKUP_WAIT_MS : INT_MAX, &why)) < 0 &&
               !atomic_load(&c->stopping))
            wait_wake(c, -1, 0, NULL, 20);
        if (atomic_load(&c->stopping))
            break;
        if (r > 0) {
            if (said)
                cloud_log("MQTT client %s: the resolver answers for %s again", c->id, c->host);
            said = false;
        } else if (!said) {
            cloud_log("MQTT client %s: the broker's name %s: %s%s", c->id, c->host, why,
                      nm.naddrs ? "; connecting to its addresses from the last lookup" : "; trying again");
            said = true;
        }
        const int naddrs = nm.naddrs;
        sc_posix_addr_t *addrs = nm.addrs;
        if (naddrs == 0) {   /* never resolved (or no thread to do it on) */
            if (nap(c, delay_ms))
                break;
            delay_ms = delay_ms < 5000 ? delay_ms * 2 : 10000;
            continue;
        }
        int k = 0;
        for (int i = 0; !reached && i < naddrs; i++)
            if (!strcmp(addrs[i], last))
                k = (i + 1) % naddrs;
        memcpy(last, addrs[k], sizeof last);   /* both sc_posix_addr_t */
        reached = false;
        if (mosquitto_connect_async(c->m, addrs[k], c->port, KEEPALIVE_S) == MOSQ_ERR_SUCCESS)
            run_connection(c, &reached, &delay_ms);
        if (atomic_load(&c->stopping))
            break;
        if (nap(c, delay_ms))
            break;
        if (!reached)
            delay_ms = delay_ms < 5000 ? delay_ms * 2 : 10000;
    }
    sc_posix_name_free(&nm);   /* one under way ends on its own thread */
    /* The stop: a DISCONNECT to a broker we are connected to (or still connecting to: the
     * CONNACK is then answered with one, on_connect), sent by the loop within 1 s. */
    if (mosquitto_socket(c->m) >= 0) {
        mosquitto_disconnect(c->m);
        for (int64_t until = cloud_now_ms() + 1000; cloud_now_ms() < until && mosquitto_socket(c->m) >= 0;)
            if (mosquitto_loop(c->m, 50, 1) != MOSQ_ERR_SUCCESS)
                break;
    }
    return NULL;
}

int cloud_mosq_start(cloud_mosq_t *c, const char *host, uint16_t port)
{
    c->host = strdup(host);
    c->port = port;
    /* other threads publish (HTTP, OTA): their packets are queued for this loop, which they
     * wake (cloud_mosq_publish); no pipe: the loop looks every 100 ms, as it always did */
    mosquitto_threaded_set(c->m, true);
    if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) != 0)
        c->wake[0] = c->wake[1] = -1;
    c->threaded = true;   /* before the thread: cloud_mosq_wake reads it */
    if (!c->host || pthread_create(&c->net, NULL, net_thread, c) != 0) {
        c->threaded = false;
        if (c->wake[0] >= 0) {
            close(c->wake[0]);
            close(c->wake[1]);
        }
        free(c->host);
        c->host = NULL;
        return -1;
    }
    return 0;
}

int cloud_mosq_connect_to(cloud_mosq_t *c, const char *host, uint16_t port)
{
    /* libmosquitto's non-blocking connect: the socket is made non-blocking before its
     * connect(), the CONNECT waits in the queue, and the owner's mosquitto_loop completes the
     * connection when the socket is writable (or sees it fail). mosquitto_reconnect's blocking
     * connect() held the binding service's main loop for as long as the kernel kept resending
     * the SYN (about 2 minutes to a port that drops them): a stop signal that came just before
     * that connect() began (the loop had checked the flag, the handler only sets it) waited all
     * that time, past the 7 s stop (docs/cloud.md). Now the loop's 100 ms wait is the most it
     * waits; a connect that never completes is closed by the keepalive check (30 s) and tried
     * again. (Its host lookup blocks: the binding service gives it an address from its own
     * lookup, sc_posix_lookup.h, so it has none.) */
    return mosquitto_connect_async(c->m, host, port, 30);
}

struct mosquitto *cloud_mosq_client(const cloud_mosq_t *c)
{
    return c->m;
}

bool cloud_mosq_connected(const cloud_mosq_t *c)
{
    return c && atomic_load(&((cloud_mosq_t *)c)->connected);
}

/* Under subs_mu, so that its SUBACK (on the loop's thread) finds the packet id recorded. */
static int send_subscribe(cloud_mosq_t *c, struct mosquitto *m, int i)
{
    int mid = -1;
    int rc = mosquitto_subscribe(m, &mid, c->subs[i].filter, c->subs[i].qos);
    if (rc != MOSQ_ERR_SUCCESS) {
        if (!c->subs[i].said)
            cloud_log("MQTT client %s could not subscribe to %s: %s", c->id, c->subs[i].filter,
                      mosquitto_strerror(rc));
        c->subs[i].said = true;
        return -1;
    }
    c->subs[i].mid = mid;
    return 0;
}

int cloud_mosq_subscribe(cloud_mosq_t *c, struct mosquitto *m, const char *filter, int qos)
{
    pthread_mutex_lock(&c->subs_mu);
    if (c->nsubs == SUBS_MAX) {   /* a client of the cloud asking for more than it ever does */
        atomic_fetch_add(&c->subs_refused, 1);   /* never granted: not ready, and said so */
        pthread_mutex_unlock(&c->subs_mu);
        cloud_log("MQTT client %s could not subscribe to %s: more than %d subscriptions", c->id, filter, SUBS_MAX);
        return -1;
    }
    int i = c->nsubs++;
    c->subs[i].qos = qos;
    c->subs[i].refused = false;
    c->subs[i].said = false;
    c->subs[i].mid = -1;
    snprintf(c->subs[i].filter, sizeof c->subs[i].filter, "%s", filter);
    int rc = send_subscribe(c, m, i);
    if (rc == 0) {
        atomic_fetch_add(&c->subs_pending, 1);
    } else {   /* not sent: asked again by cloud_mosq_retry, like a refusal */
        refuse(c, i);
    }
    pthread_mutex_unlock(&c->subs_mu);
    return rc;
}

void cloud_mosq_retry(cloud_mosq_t *c)
{
    if (!c || !atomic_load(&c->subs_refused) || !atomic_load(&c->connected) || atomic_load(&c->stopping))
        return;
    pthread_mutex_lock(&c->subs_mu);
    int64_t now = cloud_now_ms();
    if (now >= c->retry_ms) {
        c->retry_ms = now + RESUB_MS;
        for (int i = 0; i < c->nsubs; i++) {
            if (!c->subs[i].refused || send_subscribe(c, c->m, i) != 0)
                continue;
            c->subs[i].refused = false;
            atomic_fetch_add(&c->subs_pending, 1);   /* before the refused count drops */
            atomic_fetch_sub(&c->subs_refused, 1);
        }
        cloud_mosq_wake(c);   /* the SUBSCRIBEs wait in the queue of a network thread asleep */
    }
    pthread_mutex_unlock(&c->subs_mu);
}

bool cloud_mosq_ready(const cloud_mosq_t *c)
{
    cloud_mosq_t *w = (cloud_mosq_t *)c;
    return c && atomic_load(&w->connected) && atomic_load(&w->subs_pending) == 0 && !atomic_load(&w->subs_refused);
}

void cloud_mosq_lost(cloud_mosq_t *c)
{
    atomic_store(&c->connected, false);
}

static void *joiner(void *arg)
{
    cloud_mosq_t *c = arg;
    pthread_join(c->net, NULL);   /* it sees the stop within 100 ms, then says goodbye */
    pthread_mutex_lock(&c->stop_mu);
    c->stopped = true;
    pthread_cond_signal(&c->stop_cv);
    pthread_mutex_unlock(&c->stop_mu);
    return NULL;
}

/* Ends the client's network thread without cancelling it (a cancel at the send() of the
 * DISCONNECT, inside packet__write with the client's current_out_packet_mutex held, made
 * ThreadSanitizer report "destroy of a locked mutex" in mosquitto_destroy at 9 of 30 stops of
 * libmosquitto's thread, which this one replaced; or in one of our callbacks, holding SQLite's
 * or the store's locks that cloud_store_close takes next): it sees the stop within 100 ms,
 * sends the DISCONNECT and returns. Joined on a helper thread so the wait is bounded; started
 * by cloud_mosq_stop, so the clients of one stop all end in parallel, against deadlines that
 * all began at once. */
static void begin_join(cloud_mosq_t *c)
{
    sc_posix_cond_init(&c->stop_cv);
    pthread_mutex_init(&c->stop_mu, NULL);
    c->stop_until = sc_posix_time_in(CLOCK_MONOTONIC, STOP_WAIT_MS);   /* stop_cv's clock */
    c->joiner_made = pthread_create(&c->joiner, NULL, joiner, c) == 0;
    if (!c->joiner_made) {
        pthread_cond_destroy(&c->stop_cv);   /* c itself stays: the loop may still run */
        pthread_mutex_destroy(&c->stop_mu);
    }
}

/* false when the loop's thread has not ended by the deadline cloud_mosq_stop set (a handler
 * waiting on the database, a broker that takes no more bytes, a connect that hangs). */
static bool end_join(cloud_mosq_t *c)
{
    if (!c->joiner_made)
        return false;
    pthread_mutex_lock(&c->stop_mu);
    while (!c->stopped && pthread_cond_timedwait(&c->stop_cv, &c->stop_mu, &c->stop_until) != ETIMEDOUT)
        continue;   /* a spurious wake-up: wait on */
    bool done = c->stopped;
    pthread_mutex_unlock(&c->stop_mu);
    if (!done) {
        pthread_detach(c->joiner);   /* it and c stay until the process exits */
        return false;
    }
    pthread_join(c->joiner, NULL);
    pthread_cond_destroy(&c->stop_cv);
    pthread_mutex_destroy(&c->stop_mu);
    return true;
}

void cloud_mosq_stop(cloud_mosq_t *c)
{
    if (!c || c->stop_begun)
        return;
    c->stop_begun = true;
    atomic_store(&c->stopping, true);     /* before the disconnect: on_connect reads it after */
    atomic_store(&c->connected, false);   /* a deliberate disconnect is not a lost broker */
    if (c->threaded) {
        begin_join(c);   /* the network thread disconnects, on its own thread */
        cloud_mosq_wake(c);   /* asleep in its poll: sees the stop now */
    } else {
        mosquitto_disconnect(c->m);
    }
}

bool cloud_mosq_free(cloud_mosq_t *c)
{
    if (!c)
        return true;
    cloud_mosq_stop(c);
    if (c->threaded && !end_join(c)) {
        cloud_log("an MQTT client of the cloud (%s) did not stop within %d ms; left to the exit", c->id, STOP_WAIT_MS);
        return false;
    }
    mosquitto_destroy(c->m);
    pthread_mutex_destroy(&c->subs_mu);
    if (c->threaded && c->wake[0] >= 0) {
        close(c->wake[0]);
        close(c->wake[1]);
    }
    free(c->host);
    free(c);
    return true;
}
