/* SPDX-License-Identifier: Apache-2.0 */
/* sc_hal_mqtt_t over libmosquitto; see sc_posix_mqtt.h for the threading model. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sc_posix.h"
#include "sc_posix_lookup.h"
#include "sc_posix_mqtt.h"

#define ACK_RING 64
#define ADDR_MAX 8   /* "HOST[:PORT],HOST[:PORT]...": brokers of one cluster, tried in order */
#define DEFAULT_CA "/etc/ssl/certs/ca-certificates.crt"
#define LOOKUP_TICK_MS 20   /* how often the loop thread looks at a lookup (and at the teardown) */

typedef struct {
    pthread_mutex_t lock;
    struct mosquitto *mosq;
    pthread_t thread;
    bool thread_running;
    bool closing;   /* under lock: flush our DISCONNECT (or drop the lookup), then exit */
    /* Loop thread only: addr[cur]'s name is being looked up (lk, given up at lk_deadline) before
     * its connect; dead: every address failed, the thread idles until the teardown. */
    bool resolving, dead;
    sc_posix_lookup_t *lk;   /* sc_posix_lookup.h: off this thread, never waited for past its bound */
    uint32_t lk_deadline;
    /* Loop thread only (set before each connect, read by the TLS callbacks of that connect):
     * the name the broker's certificate is checked against and sent as SNI, "" for an address
     * (no SNI). libmosquitto is handed the numeric address (it would look the name up again,
     * blocking) and so would check the certificate against that address and send it as SNI. */
    char tls_name[128];
    SSL_CTX *tls_ctx;   /* ours, held by libmosquitto (MOSQ_OPT_SSL_CTX): NULL without TLS */
    sc_mqtt_state_t state;
    int reason;
    sc_mqtt_msg_t queue[SC_POSIX_MQTT_QUEUE];
    unsigned q_head, q_count, dropped;
    /* a message that finds the queue full waits for room (poll() signals it, so does the
     * teardown), at most SC_POSIX_MQTT_WAIT_MS; after a wait that ran out the core is away
     * (absent) and messages are dropped at once until it polls again */
    pthread_cond_t room;
    bool absent;
    unsigned long_topics;   /* under lock: messages whose topic did not fit sc_mqtt_msg_t */
    /* readable while the queue holds a message (sc_posix_mqtt_fd): one byte from the message
     * that found it empty, read back when poll() empties it */
    int wake[2];
    bool woken;
    int acked[ACK_RING];
    unsigned ack_next;
    bool ack_used[ACK_RING];
    /* SUBACK / UNSUBACK answers for request_status(): mid and outcome, a ring like acked */
    int req_mid[ACK_RING];
    sc_err_t req_res[ACK_RING];
    bool req_used[ACK_RING];
    unsigned req_next;
    /* when each answer came (a count of answers): one that came before a request went out is
     * not that request's, whatever its mid (forget_stale) */
    unsigned answers, ack_when[ACK_RING], req_when[ACK_RING];
    /* the order stamps (hal.h sc_mqtt_msg_t.order): a count of the PUBLISHes, PUBACKs, SUBACKs
     * and UNSUBACKs the loop thread took in, in the wire's order; each answer's stamp */
    uint32_t order, ack_order[ACK_RING], req_order[ACK_RING];
    /* Failover (smartcfg device --broker A,B,C): a transport failure before the first CONNACK
     * moves on to the next address, each address tried once per connect(); a refusal (CONNACK
     * code) or a loss after it does not. A connect() after a session that had its CONNACK (the
     * binder opening a lost link again) starts at the address after that session's one. */
    struct {
        char host[128];
        int port;
    } addr[ADDR_MAX];
    int naddr, cur, tried, keepalive;
    bool connacked;
    char list[ADDR_MAX * 136];   /* the list the addresses came from, to know it is the same */
    int list_port;
    /* TLS-PSK: the key and identity our handshake callback hands OpenSSL (psk_only), kept for
     * the session's handshakes (the next --broker address too), wiped by teardown */
    uint8_t psk[SC_MQTT_PSK_MAX];
    unsigned psk_len;
    char psk_id[128];
} posix_mqtt_t;

static int reason_of(int rc, int err)
{
    switch (rc) {
    case MOSQ_ERR_ERRNO: return err != 0 ? err : EIO;
    case MOSQ_ERR_TLS: return EPROTO;
    case MOSQ_ERR_EAI: return EHOSTUNREACH;
    case MOSQ_ERR_CONN_LOST: return ECONNRESET;
    case MOSQ_ERR_NO_CONN: return ENOTCONN;
    case MOSQ_ERR_NOMEM: return ENOMEM;
    default: return EIO;
    }
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void) { mosquitto_lib_init(); }

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    posix_mqtt_t *p = obj;
    pthread_mutex_lock(&p->lock);
    p->connacked = true;
    if (rc == 0) {
        p->state = SC_MQTT_CONNECTED;
        p->reason = 0;
    } else {
        p->state = SC_MQTT_FAILED;
        p->reason = rc;
    }
    pthread_mutex_unlock(&p->lock);
    if (rc != 0)
        mosquitto_disconnect(mosq);   /* stops the loop thread's reconnect attempts */
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    int err = errno;   /* still the socket's error: the callback runs before the close */
    posix_mqtt_t *p = obj;
    pthread_mutex_lock(&p->lock);
    if (p->state == SC_MQTT_CONNECTED || p->state == SC_MQTT_CONNECTING) {
        /* rc 0 = we asked for it; anything else is a lost link */
        p->state = rc == 0 ? SC_MQTT_DISCONNECTED : SC_MQTT_FAILED;
        if (rc != 0 && p->reason == 0)
            p->reason = reason_of(rc, err);
    }
    pthread_mutex_unlock(&p->lock);
}

/* libmosquitto 2.0 reports a TLS handshake failure that happens in the loop thread only
 * through its log (no disconnect callback) and then keeps retrying; treat an error logged
 * while connecting as the connect failing. The retries stop at the core's disconnect():
 * calling libmosquitto from here could deadlock, as the log may be written under its locks. */
static void on_log(struct mosquitto *mosq, void *obj, int level, const char *text)
{
    (void)mosq;
    (void)text;   /* not forwarded: nothing libmosquitto logs is needed, and it stays out of our logs */
    posix_mqtt_t *p = obj;
    if (level != MOSQ_LOG_ERR)
        return;
    pthread_mutex_lock(&p->lock);
    if (p->state == SC_MQTT_CONNECTING) {
        p->state = SC_MQTT_FAILED;
        p->reason = EPROTO;
    }
    pthread_mutex_unlock(&p->lock);
}

/* Under the lock: the next order stamp (never 0: that means unstamped). */
static uint32_t next_order(posix_mqtt_t *p)
{
    if (++p->order == 0)
        p->order = 1;
    return p->order;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    posix_mqtt_t *p = obj;
    pthread_mutex_lock(&p->lock);
    p->acked[p->ack_next] = mid;
    p->ack_used[p->ack_next] = true;
    p->ack_when[p->ack_next] = p->answers++;
    p->ack_order[p->ack_next] = next_order(p);   /* QoS 0: when it went; harmless */
    p->ack_next = (p->ack_next + 1) % ACK_RING;
    pthread_mutex_unlock(&p->lock);
}

static void req_answer(posix_mqtt_t *p, int mid, sc_err_t res)
{
    pthread_mutex_lock(&p->lock);
    p->req_order[p->req_next] = next_order(p);
    p->req_mid[p->req_next] = mid;
    p->req_res[p->req_next] = res;
    p->req_used[p->req_next] = true;
    p->req_when[p->req_next] = p->answers++;
    p->req_next = (p->req_next + 1) % ACK_RING;
    pthread_mutex_unlock(&p->lock);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count, const int *granted)
{
    (void)mosq;
    /* One topic per request: 0x80 (128) in the SUBACK is the broker's refusal. */
    req_answer(obj, mid, qos_count >= 1 && granted != NULL && granted[0] >= 0 && granted[0] <= 2 ? SC_OK : SC_ERR_REFUSED);
}

static void on_unsubscribe(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    req_answer(obj, mid, SC_OK);
}

/* Loop thread, lock held, the queue full: waits until poll() makes room, the teardown begins
 * or SC_POSIX_MQTT_WAIT_MS pass. Meanwhile this thread reads nothing more, so the rest of a
 * burst waits in TCP and at the broker instead of being dropped here (before, the 65th message
 * the loop read before the core's next poll was lost: a reply behind a burst). */
static void wait_for_room(posix_mqtt_t *p)
{
    struct timespec until = sc_posix_time_in(CLOCK_MONOTONIC, SC_POSIX_MQTT_WAIT_MS);   /* room's clock */
    while (p->q_count == SC_POSIX_MQTT_QUEUE && !p->closing)
        if (pthread_cond_timedwait(&p->room, &p->lock, &until) == ETIMEDOUT) {
            p->absent = p->q_count == SC_POSIX_MQTT_QUEUE;
            break;
        }
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
    (void)mosq;
    posix_mqtt_t *p = obj;
    if (m == NULL || m->topic == NULL)
        return;
    size_t tl = strlen(m->topic);
    pthread_mutex_lock(&p->lock);
    uint32_t order = next_order(p);   /* a message dropped here takes its place too */
    if (tl < sizeof p->queue[0].topic && p->q_count == SC_POSIX_MQTT_QUEUE && !p->absent)
        wait_for_room(p);
    if (tl >= sizeof p->queue[0].topic) {
        /* Never cut into another topic: under a wildcard subscription (AT+TCMQTTSUB) its first
         * 159 bytes would be printed as the topic it came on (the lwIP port drops it too). */
        p->long_topics++;
    } else if (p->q_count == SC_POSIX_MQTT_QUEUE) {
        p->dropped++;
    } else {
        sc_mqtt_msg_t *q = &p->queue[(p->q_head + p->q_count) % SC_POSIX_MQTT_QUEUE];
        memset(q, 0, sizeof *q);
        memcpy(q->topic, m->topic, tl);
        size_t n = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;
        if (n > sizeof q->payload) {
            n = sizeof q->payload;
            q->truncated = true;
        }
        if (n > 0)
            memcpy(q->payload, m->payload, n);
        q->payload_len = n;
        q->order = order;
        p->q_count++;
        if (!p->woken && p->wake[1] >= 0)
            p->woken = write(p->wake[1], "m", 1) == 1;
    }
    pthread_mutex_unlock(&p->lock);
}

/* Under the lock: the queue is empty, so the descriptor must not stay readable. */
static void unwake(posix_mqtt_t *p)
{
    char b[16];
    if (p->woken)
        while (read(p->wake[0], b, sizeof b) > 0)
            ;
    p->woken = false;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { 0, (long)ms * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* "HOST[:PORT][,HOST[:PORT]...]" (port default: dflt) into p->addr. 0, or -1 when malformed. */
static int parse_addrs(posix_mqtt_t *p, const char *list, int dflt)
{
    p->naddr = p->cur = p->tried = 0;
    for (const char *s = list; *s;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        const char *colon = memchr(s, ':', n);
        size_t hl = colon ? (size_t)(colon - s) : n;
        if (p->naddr == ADDR_MAX || hl == 0 || hl >= sizeof p->addr[0].host)
            return -1;
        memcpy(p->addr[p->naddr].host, s, hl);
        p->addr[p->naddr].host[hl] = '\0';
        p->addr[p->naddr].port = colon ? atoi(colon + 1) : dflt;
        if (p->addr[p->naddr].port < 1 || p->addr[p->naddr].port > 65535)
            return -1;
        p->naddr++;
        s += n + (comma ? 1 : 0);
    }
    return p->naddr ? 0 : -1;
}

/* Loop thread, before each connect: what the TLS callbacks check and send for this address
 * (numeric: host is an address, then its certificate must name that address, "%scope" aside).
 * With a wall clock not set yet (before SC_CLOUD_CLOCK_FLOOR: a board without an RTC before its
 * NTP sync, or on a network that blocks NTP) the chain and the name are verified but not the
 * certificates' dates, as ESP-IDF's mbedTLS does by default: by a 1970 clock every certificate
 * is "not yet valid", and no connect could succeed until the clock was set (F206). */
static void set_tls_name(posix_mqtt_t *p, const char *host, bool numeric)
{
    snprintf(p->tls_name, sizeof p->tls_name, "%s", numeric ? "" : host);
    if (p->tls_ctx == NULL)
        return;
    X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(p->tls_ctx);
    X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (!sc_posix_wall_clock_set())
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_NO_CHECK_TIME);
    else
        X509_VERIFY_PARAM_clear_flags(vp, X509_V_FLAG_NO_CHECK_TIME);
    if (numeric) {
        char ip[INET6_ADDRSTRLEN];
        snprintf(ip, sizeof ip, "%.*s", (int)strcspn(host, "%"), host);
        X509_VERIFY_PARAM_set1_host(vp, NULL, 0);
        if (X509_VERIFY_PARAM_set1_ip_asc(vp, ip) != 1)
            X509_VERIFY_PARAM_set1_host(vp, host, 0);   /* matches no certificate: refused */
    } else {
        X509_VERIFY_PARAM_set1_ip(vp, NULL, 0);
        X509_VERIFY_PARAM_set1_host(vp, host, 0);
    }
}

/* Loop thread, resolving: MOSQ_ERR_CONN_PENDING while addr[cur]'s name is still being looked
 * up, MOSQ_ERR_SUCCESS once connecting to one of its addresses, else why not (MOSQ_ERR_EAI: the
 * name did not resolve within its bound: SC_POSIX_MQTT_LOOKUP_MS, _LAST_MS for the last address). */
static int lookup_step(posix_mqtt_t *p, int *err)
{
    *err = 0;
    if (p->lk == NULL) {
        p->lk = sc_posix_lookup_start(p->addr[p->cur].host);
        pthread_mutex_lock(&p->lock);
        bool last = p->tried + 1 >= p->naddr;   /* no other address to move on to */
        pthread_mutex_unlock(&p->lock);
        p->lk_deadline = sc_posix_now_ms() + (last ? SC_POSIX_MQTT_LOOKUP_LAST_MS : SC_POSIX_MQTT_LOOKUP_MS);
        if (p->lk == NULL) {
            *err = EAGAIN;
            p->resolving = false;
            return MOSQ_ERR_ERRNO;
        }
    }
    sc_posix_lookup_t *l = p->lk;
    sc_posix_addr_t addrs[SC_POSIX_ADDRS_MAX];
    int n = sc_posix_lookup_poll(l, addrs, SC_POSIX_ADDRS_MAX, NULL);
    if (n < 0 && (int32_t)(sc_posix_now_ms() - p->lk_deadline) < 0)
        return MOSQ_ERR_CONN_PENDING;
    p->lk = NULL;
    p->resolving = false;
    n = n < 0 ? 0 : n < SC_POSIX_ADDRS_MAX ? n : SC_POSIX_ADDRS_MAX;   /* -1: given up on */
    bool numeric = sc_posix_lookup_numeric(l);
    sc_posix_lookup_drop(l);
    set_tls_name(p, p->addr[p->cur].host, numeric);
    int rc = MOSQ_ERR_EAI;
    for (int i = 0; i < n && rc != MOSQ_ERR_SUCCESS; i++) {
        errno = 0;
        rc = mosquitto_connect_async(p->mosq, addrs[i], p->addr[p->cur].port, p->keepalive);
        *err = errno;
    }
    return rc;
}

/* Loop thread: the transport to the current broker failed before any CONNACK; move on to the
 * next one (its lookup first). true when there is one. */
static bool next_address(posix_mqtt_t *p)
{
    pthread_mutex_lock(&p->lock);
    bool more = !p->connacked && !p->closing && p->tried + 1 < p->naddr;
    if (more) {
        p->tried++;
        p->cur = (p->cur + 1) % p->naddr;
        p->state = SC_MQTT_CONNECTING;
        p->reason = 0;
    }
    pthread_mutex_unlock(&p->lock);
    p->resolving = more;
    return more;
}

/* Loop thread: a refused TCP connect before any CONNACK. With TLS, libmosquitto (2.0)
 * reports success from mosquitto_connect_async() even when the connect was refused, and
 * mosquitto_loop() then keeps answering success on the dead socket; the session would only
 * end at the caller's CONNACK timeout, which the AT front-end reports as a request timeout
 * (-111) instead of the reference's TCP connect failure (-603). The kernel still says it: the
 * socket is hung up (POLLHUP/POLLERR) while no CONNACK has come. */
static bool connect_refused(posix_mqtt_t *p)
{
    pthread_mutex_lock(&p->lock);
    bool connecting = !p->connacked && p->state == SC_MQTT_CONNECTING;
    pthread_mutex_unlock(&p->lock);
    int fd = connecting ? mosquitto_socket(p->mosq) : -1;
    if (fd < 0)
        return false;
    struct pollfd pf = { .fd = fd, .events = POLLOUT };
    return poll(&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLERR));
}

/* Loop thread: every address failed (rc, err: the last one's reason). */
static void give_up(posix_mqtt_t *p, int rc, int err)
{
    pthread_mutex_lock(&p->lock);
    if (p->state == SC_MQTT_CONNECTING || p->state == SC_MQTT_CONNECTED) {
        p->state = SC_MQTT_FAILED;
        if (p->reason == 0)
            p->reason = reason_of(rc, err);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Our own network thread instead of mosquitto_loop_start(): libmosquitto's loop_forever
 * reconnects on its own and cannot be stopped while a TCP connect is pending (a silent
 * broker would hang the teardown for minutes). This one looks each name up first (lookup_step:
 * libmosquitto would block in getaddrinfo, F186), never reconnects, reports the first error as
 * the failure reason and stops within ~0.5 s, within LOOKUP_TICK_MS while looking a name up. */
static void *loop_main(void *arg)
{
    posix_mqtt_t *p = arg;
    unsigned closing_ticks = 0;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        bool closing = p->closing;
        pthread_mutex_unlock(&p->lock);
        if (closing && (p->resolving || p->dead))
            break;   /* nothing sent yet, or nothing left to send */
        if (p->dead) {
            sleep_ms(50);   /* the link is gone; idle until the core disconnects */
            continue;
        }
        if (p->resolving) {
            int err = 0;
            int rc = lookup_step(p, &err);
            if (rc == MOSQ_ERR_CONN_PENDING) {
                sleep_ms(LOOKUP_TICK_MS);
            } else if (rc != MOSQ_ERR_SUCCESS && !next_address(p)) {
                give_up(p, rc, err);
                p->dead = true;
            }
            continue;
        }
        errno = 0;
        int rc = mosquitto_loop(p->mosq, 50, 1);
        int err = errno;
        if (rc == MOSQ_ERR_SUCCESS && !closing && connect_refused(p)) {
            rc = MOSQ_ERR_ERRNO;
            err = ECONNREFUSED;
        }
        if (closing) {
            if (rc != MOSQ_ERR_SUCCESS || ++closing_ticks > 10)
                break;
            continue;
        }
        if (rc != MOSQ_ERR_SUCCESS && next_address(p))
            continue;
        if (rc != MOSQ_ERR_SUCCESS) {
            give_up(p, rc, err);
            sleep_ms(50);   /* the link is gone; idle until the core disconnects */
        }
    }
    if (p->lk != NULL) {   /* its thread frees it when the resolver answers */
        sc_posix_lookup_drop(p->lk);
        p->lk = NULL;
    }
    return NULL;
}

static void teardown(posix_mqtt_t *p)
{
    struct mosquitto *m = p->mosq;
    if (m == NULL)
        return;
    mosquitto_disconnect(m);   /* queued; the loop thread sends it while closing */
    if (p->thread_running) {
        pthread_mutex_lock(&p->lock);
        p->closing = true;
        pthread_cond_broadcast(&p->room);   /* a message waiting for room gives up */
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
        p->thread_running = false;
    }
    mosquitto_destroy(m);
    p->mosq = NULL;
    p->tls_ctx = NULL;   /* libmosquitto held the last reference */
    explicit_bzero(p->psk, sizeof p->psk);
    p->psk_len = 0;
}

/* Loop thread, as a handshake begins (inside libmosquitto's SSL_connect, before the ClientHello
 * is built): SNI carries the broker's name, not the address libmosquitto was given; for a
 * broker given by address, none. libmosquitto puts the host it was given in SNI whatever it
 * is, and an address there breaks RFC 6066 ("literal IPv4 and IPv6 addresses are not
 * permitted in HostName"): a strict server may refuse the handshake (F202). */
static void on_tls_info(const SSL *ssl, int where, int ret)
{
    (void)ret;
    const posix_mqtt_t *p = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if ((where & SSL_CB_HANDSHAKE_START) && p != NULL) {
        const char *name = p->tls_name[0] != '\0' ? p->tls_name : NULL;   /* NULL: none */
        SSL_set_tlsext_host_name((SSL *)ssl, name);
    }
}

/* TLS with a CA file (F186): the context is ours, whole, as psk_only's (libmosquitto applies
 * nothing to it): the CA file, TLS 1.2 or later, the certificate verified by OpenSSL against
 * the broker's name (X509_VERIFY_PARAM, set_tls_name before each connect) and SNI carrying that
 * name (on_tls_info). libmosquitto is handed the numeric address: its own check would compare
 * the certificate with that address, and it has no verify callback here anyway (its callback,
 * set on a context of the caller's with MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, refused every
 * certificate until libmosquitto had made a context of its own once: an index it only
 * allocates then). MOSQ_ERR_INVAL: the CA file cannot be read (as mosquitto_tls_set said). */
static int tls_ca(posix_mqtt_t *p, struct mosquitto *m, const char *ca_file)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (c == NULL)
        return MOSQ_ERR_TLS;
    SSL_CTX_set_app_data(c, p);
    SSL_CTX_set_info_callback(c, on_tls_info);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    int rc = SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) == 1 ? MOSQ_ERR_SUCCESS : MOSQ_ERR_TLS;
    if (rc == MOSQ_ERR_SUCCESS && SSL_CTX_load_verify_locations(c, ca_file, NULL) != 1)
        rc = MOSQ_ERR_INVAL;
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_void_option(m, MOSQ_OPT_SSL_CTX, c);   /* it keeps a reference */
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_int_option(m, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
    if (rc == MOSQ_ERR_SUCCESS)
        p->tls_ctx = c;
    SSL_CTX_free(c);
    return rc;
}

/* TLS-PSK and nothing else (F114). With libmosquitto 2.0.11's own PSK client, a server that knows
 * no PSK answered with a certificate and, no CA file, nothing verified it (TLS 1.3 is not turned
 * off for PSK there): any TLS server on the broker's address completed the handshake and was
 * sent the CONNECT with its username and HMAC password (a login to the real broker until its
 * expiry). So the context is ours, whole (libmosquitto applies nothing to it): TLS 1.2 with
 * the PSK suites only (IoT Explorer's and the ESP SDK's are TLS 1.2 PSK suites), a certificate
 * refused should one come (VERIFY_PEER, an empty trust store), the key handed over by our
 * callback. libmosquitto then never holds the key (its hex copy was freed unwiped). */
static unsigned psk_cb(SSL *ssl, const char *hint, char *identity, unsigned max_identity_len, unsigned char *psk,
                       unsigned max_psk_len)
{
    (void)hint;
    const posix_mqtt_t *p = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    size_t il = strlen(p->psk_id);
    if (p->psk_len == 0 || p->psk_len > max_psk_len || il >= max_identity_len)
        return 0;   /* no key: the handshake fails */
    memcpy(identity, p->psk_id, il + 1);
    memcpy(psk, p->psk, p->psk_len);
    return p->psk_len;
}

static int psk_only(posix_mqtt_t *p, struct mosquitto *m, const sc_mqtt_connect_t *params)
{
    if (strlen(params->psk_identity) >= sizeof p->psk_id)
        return MOSQ_ERR_INVAL;
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (c == NULL)
        return MOSQ_ERR_TLS;
    memcpy(p->psk, params->psk, params->psk_len);
    p->psk_len = (unsigned)params->psk_len;
    memcpy(p->psk_id, params->psk_identity, strlen(params->psk_identity) + 1);
    SSL_CTX_set_app_data(c, p);
    SSL_CTX_set_info_callback(c, on_tls_info);   /* SNI: the name, as before F186 */
    SSL_CTX_set_psk_client_callback(c, psk_cb);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION);
    int rc = SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) == 1 && SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION) == 1 &&
                     SSL_CTX_set_cipher_list(c, "PSK") == 1
                 ? MOSQ_ERR_SUCCESS
                 : MOSQ_ERR_TLS;
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_void_option(m, MOSQ_OPT_SSL_CTX, c);   /* it keeps a reference */
    if (rc == MOSQ_ERR_SUCCESS)   /* on by default: it would want a CA file or its own PSK */
        rc = mosquitto_int_option(m, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
    SSL_CTX_free(c);
    return rc;
}

static sc_err_t m_connect(void *ctx, const sc_mqtt_connect_t *params)
{
    posix_mqtt_t *p = ctx;
    if (params == NULL || params->host == NULL || params->client_id == NULL)
        return SC_ERR_INVAL;
    if (params->psk != NULL && (!params->tls || params->psk_len == 0 || params->psk_len > SC_MQTT_PSK_MAX ||
                                params->psk_identity == NULL || params->psk_identity[0] == '\0'))
        return SC_ERR_INVAL;
    teardown(p);
    pthread_mutex_lock(&p->lock);
    int was = -1;
    if (p->connacked && p->naddr > 1 && p->list_port == params->port && strcmp(p->list, params->host) == 0)
        was = p->cur;   /* reopening after a session on addr[cur]: that node may be the one that died */
    p->state = SC_MQTT_CONNECTING;
    p->reason = 0;
    p->q_head = p->q_count = 0;
    p->absent = false;
    unwake(p);
    p->closing = false;
    memset(p->ack_used, 0, sizeof p->ack_used);
    memset(p->req_used, 0, sizeof p->req_used);
    p->connacked = false;
    p->keepalive = params->keepalive_s ? params->keepalive_s : 60;
    pthread_mutex_unlock(&p->lock);
    if (parse_addrs(p, params->host, params->port) != 0 || strlen(params->host) >= sizeof p->list)
        return SC_ERR_INVAL;
    memcpy(p->list, params->host, strlen(params->host) + 1);
    p->list_port = params->port;
    if (was >= 0)
        p->cur = (was + 1) % p->naddr;

    struct mosquitto *m = mosquitto_new(params->client_id, true, p);
    if (m == NULL) {
        pthread_mutex_lock(&p->lock);
        p->state = SC_MQTT_FAILED;
        p->reason = ENOMEM;
        pthread_mutex_unlock(&p->lock);
        return SC_ERR_NOMEM;
    }
    p->mosq = m;
    mosquitto_threaded_set(m, true);   /* our thread runs the loop: libmosquitto must lock */
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_disconnect_callback_set(m, on_disconnect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_message_callback_set(m, on_message);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_unsubscribe_callback_set(m, on_unsubscribe);
    mosquitto_log_callback_set(m, on_log);
    int rc = MOSQ_ERR_SUCCESS;
    if (params->username != NULL)
        rc = mosquitto_username_pw_set(m, params->username, params->password);
    if (rc == MOSQ_ERR_SUCCESS && params->tls && params->psk != NULL) {
        rc = psk_only(p, m, params);
    } else if (rc == MOSQ_ERR_SUCCESS && params->tls) {
        rc = tls_ca(p, m, params->ca_file != NULL ? params->ca_file : DEFAULT_CA);
    }
    /* The lookup and the connect happen on the loop thread (F186): this returns at once. */
    int err = 0;
    p->resolving = true;
    p->dead = false;
    p->lk = NULL;
    if (rc == MOSQ_ERR_SUCCESS && pthread_create(&p->thread, NULL, loop_main, p) != 0) {
        rc = MOSQ_ERR_ERRNO;
        err = EAGAIN;
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        pthread_mutex_lock(&p->lock);
        p->state = SC_MQTT_FAILED;
        p->reason = reason_of(rc, err);
        pthread_mutex_unlock(&p->lock);
        mosquitto_destroy(m);
        p->mosq = NULL;
        p->tls_ctx = NULL;
        explicit_bzero(p->psk, sizeof p->psk);
        p->psk_len = 0;
        return rc == MOSQ_ERR_INVAL ? SC_ERR_INVAL : SC_ERR_IO;
    }
    p->thread_running = true;
    return SC_OK;
}

static sc_mqtt_state_t m_state(void *ctx, int *reason)
{
    posix_mqtt_t *p = ctx;
    pthread_mutex_lock(&p->lock);
    sc_mqtt_state_t s = p->state;
    if (reason != NULL)
        *reason = p->reason;
    pthread_mutex_unlock(&p->lock);
    return s;
}

static sc_err_t map_rc(int rc)
{
    switch (rc) {
    case MOSQ_ERR_SUCCESS: return SC_OK;
    case MOSQ_ERR_INVAL:
    case MOSQ_ERR_MALFORMED_UTF8: return SC_ERR_INVAL;
    case MOSQ_ERR_NOMEM: return SC_ERR_NOMEM;
    case MOSQ_ERR_NO_CONN: return SC_ERR_CLOSED;
    case MOSQ_ERR_PAYLOAD_SIZE:
    case MOSQ_ERR_OVERSIZE_PACKET: return SC_ERR_RANGE;
    default: return SC_ERR_IO;
    }
}

static unsigned answers_now(posix_mqtt_t *p)
{
    pthread_mutex_lock(&p->lock);
    unsigned n = p->answers;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* A request just got `mid`: answers with that mid that came before it went out (`before`) are
 * an earlier request's. libmosquitto's ids wrap after 65 535 (a QoS 0 publish takes one too),
 * and the rings keep their last 64 answers: after a day of telemetry a new AT+TCMQTTSUB got
 * the SUBACK of the session's first subscription at once, granted, whatever the broker was to
 * answer (F56). */
static void forget_stale(posix_mqtt_t *p, int mid, unsigned before)
{
    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < ACK_RING; i++) {
        if (p->ack_used[i] && p->acked[i] == mid && (int)(p->ack_when[i] - before) < 0)
            p->ack_used[i] = false;
        if (p->req_used[i] && p->req_mid[i] == mid && (int)(p->req_when[i] - before) < 0)
            p->req_used[i] = false;
    }
    pthread_mutex_unlock(&p->lock);
}

static sc_err_t m_subscribe(void *ctx, const char *topic, int qos)
{
    posix_mqtt_t *p = ctx;
    if (p->mosq == NULL)
        return SC_ERR_CLOSED;
    return map_rc(mosquitto_subscribe(p->mosq, NULL, topic, qos));
}

static sc_err_t m_subscribe_req(void *ctx, const char *topic, int qos, int *mid)
{
    posix_mqtt_t *p = ctx;
    if (p->mosq == NULL)
        return SC_ERR_CLOSED;
    unsigned before = answers_now(p);
    int id = 0;
    int rc = mosquitto_subscribe(p->mosq, &id, topic, qos);
    forget_stale(p, id, before);
    if (mid != NULL)
        *mid = id;
    return map_rc(rc);
}

static sc_err_t m_unsubscribe(void *ctx, const char *topic, int *mid)
{
    posix_mqtt_t *p = ctx;
    if (p->mosq == NULL)
        return SC_ERR_CLOSED;
    unsigned before = answers_now(p);
    int id = 0;
    int rc = mosquitto_unsubscribe(p->mosq, &id, topic);
    forget_stale(p, id, before);
    if (mid != NULL)
        *mid = id;
    return map_rc(rc);
}

static sc_err_t m_request_status(void *ctx, int mid)
{
    posix_mqtt_t *p = ctx;
    sc_err_t r = SC_ERR_AGAIN;
    pthread_mutex_lock(&p->lock);
    if (p->mosq == NULL)
        r = SC_ERR_NOTFOUND;
    for (unsigned i = 0; i < ACK_RING; i++)
        if (p->req_used[i] && p->req_mid[i] == mid)
            r = p->req_res[i];
    pthread_mutex_unlock(&p->lock);
    return r;
}

static uint32_t m_request_order(void *ctx, int mid)
{
    posix_mqtt_t *p = ctx;
    uint32_t r = 0;
    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < ACK_RING && p->mosq != NULL; i++) {
        /* a mid names one request at a time: forget_stale dropped older answers with it */
        if (p->ack_used[i] && p->acked[i] == mid)
            r = p->ack_order[i];
        if (p->req_used[i] && p->req_mid[i] == mid)
            r = p->req_order[i];
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

static sc_err_t m_publish(void *ctx, const char *topic, const void *payload, size_t len, int qos, int *mid)
{
    posix_mqtt_t *p = ctx;
    if (p->mosq == NULL)
        return SC_ERR_CLOSED;
    if (len > 256u * 1024u * 1024u)
        return SC_ERR_RANGE;
    unsigned before = answers_now(p);
    int id = 0;
    int rc = mosquitto_publish(p->mosq, &id, topic, (int)len, payload, qos, false);
    forget_stale(p, id, before);
    if (mid != NULL)
        *mid = id;
    return map_rc(rc);
}

static bool m_puback_received(void *ctx, int mid)
{
    posix_mqtt_t *p = ctx;
    bool found = false;
    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < ACK_RING && !found; i++)
        found = p->ack_used[i] && p->acked[i] == mid;
    pthread_mutex_unlock(&p->lock);
    return found;
}

static sc_err_t m_poll(void *ctx, sc_mqtt_msg_t *msg)
{
    posix_mqtt_t *p = ctx;
    sc_err_t rc = SC_ERR_AGAIN;
    pthread_mutex_lock(&p->lock);
    if (p->q_count > 0) {
        *msg = p->queue[p->q_head];
        p->q_head = (p->q_head + 1) % SC_POSIX_MQTT_QUEUE;
        p->q_count--;
        rc = SC_OK;
        p->absent = false;
        pthread_cond_signal(&p->room);
    }
    if (p->q_count == 0)
        unwake(p);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static sc_err_t m_disconnect(void *ctx)
{
    posix_mqtt_t *p = ctx;
    teardown(p);
    pthread_mutex_lock(&p->lock);
    p->state = SC_MQTT_DISCONNECTED;
    pthread_mutex_unlock(&p->lock);
    return SC_OK;
}

sc_err_t sc_posix_mqtt_init(sc_hal_mqtt_t *out)
{
    if (out == NULL)
        return SC_ERR_INVAL;
    memset(out, 0, sizeof *out);
    pthread_once(&lib_once, lib_init);
    posix_mqtt_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return SC_ERR_NOMEM;
    if (pipe(p->wake) != 0) {
        free(p);
        return SC_ERR_IO;
    }
    for (int i = 0; i < 2; i++) {
        (void)fcntl(p->wake[i], F_SETFL, fcntl(p->wake[i], F_GETFL) | O_NONBLOCK);
        (void)fcntl(p->wake[i], F_SETFD, FD_CLOEXEC);
    }
    pthread_mutex_init(&p->lock, NULL);
    sc_posix_cond_init(&p->room);
    p->state = SC_MQTT_DISCONNECTED;
    out->ctx = p;
    out->connect = m_connect;
    out->state = m_state;
    out->subscribe = m_subscribe;
    out->publish = m_publish;
    out->puback_received = m_puback_received;
    out->poll = m_poll;
    out->disconnect = m_disconnect;
    out->subscribe_req = m_subscribe_req;
    out->unsubscribe = m_unsubscribe;
    out->request_status = m_request_status;
    out->request_order = m_request_order;
    return SC_OK;
}

void sc_posix_mqtt_cleanup(sc_hal_mqtt_t *mqtt)
{
    if (mqtt == NULL || mqtt->ctx == NULL)
        return;
    posix_mqtt_t *p = mqtt->ctx;
    teardown(p);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->room);
    close(p->wake[0]);
    close(p->wake[1]);
    free(p);
    memset(mqtt, 0, sizeof *mqtt);
}

unsigned sc_posix_mqtt_dropped(const sc_hal_mqtt_t *mqtt, unsigned *long_topics)
{
    posix_mqtt_t *p = mqtt->ctx;
    pthread_mutex_lock(&p->lock);
    unsigned d = p->dropped;
    if (long_topics)
        *long_topics = p->long_topics;
    pthread_mutex_unlock(&p->lock);
    return d;
}

int sc_posix_mqtt_fd(const sc_hal_mqtt_t *mqtt)
{
    const posix_mqtt_t *p = mqtt->ctx;
    return p->wake[0];
}
