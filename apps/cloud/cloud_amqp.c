/* SPDX-License-Identifier: Apache-2.0 */
/* The RabbitMQ front-end of the binding service and of the IoT Explorer topics (docs/scale.md):
 * a stateless worker that consumes the devices' requests from replicated quorum queues and
 * answers through the MQTT exchange. Several workers share each queue; each takes at most
 * `prefetch` unacked requests, decides them with the shared binder (cloud_bindsvc.c),
 * commits, publishes the replies and only then acks. A worker that dies before its ack loses nothing: RabbitMQ
 * redelivers to another worker, and a bind repeated by the same device is an idempotent
 * success. A lost node costs a reconnect to the next address of the list.
 *
 * Topics: RabbitMQ's MQTT plugin publishes a device's $thing/up/service/P/D to amq.topic with
 * the routing key $thing.up.service.P.D ('/' and '.' swapped), and delivers what is routed
 * with $thing.down.service.P.D to a device subscribed to $thing/down/service/P/D.
 *
 * The IoT Explorer topics (data template, events, actions, system time, gateways: cloud_thing.c,
 * the handler the mosquitto front-end uses too) come the same way from a second quorum queue
 * (--thing-queue) on a second channel, bound to those topics' keys: each message goes to one
 * worker, is handled (each handler call commits its own writes), its answers are published and
 * only then is it acked; a worker that dies first leaves it to another. Answers, and the control
 * and action downlink of the HTTP threads, go through a small outbox that this thread publishes:
 * a librabbitmq connection belongs to one thread. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <cjson/cJSON.h>

#include "cloud.h"
#include "sc_posix_lookup.h"

#define NODES_MAX 16
#define CHANNEL 1
#define HEARTBEAT_S 10          /* a node gone without a FIN (other machine) is noticed in ~2x this */
#define CONNECT_TIMEOUT_S 3
#define BACKOFF_MAX_MS 5000
#define EXCHANGE "amq.topic"    /* RabbitMQ's default MQTT exchange (mqtt.exchange) */
#define BIND_KEY "$thing.up.service.*.*"
#define THING_CHANNEL 2
#define COUNT_CHANNEL 3         /* the thing queue's consumers (count_workers): no consumer on it */
#define OUTBOX_MAX 4096         /* answers and downlinks waiting for the next pass; more: refused */
/* How long a connect waits for its node's name lookup (sc_posix_lookup.h) before it goes to the
 * addresses of that node's last good lookup, or, with none, to the next node (the lookup goes
 * on, its answer kept for the next try): a resolver that answers does so in milliseconds, glibc
 * gives one that does not 5 s per attempt, 2 attempts. The startup waits longer (up to
 * FIRST_LOOKUP_MS from its start) for a name only when no other node took the worker. */
#define LOOKUP_WAIT_MS 2000
#define FIRST_LOOKUP_MS 10000

/* A node's name: its lookups, the last good answer kept (sc_posix_name_t). */
typedef struct {
    sc_posix_name_t name;
    bool said;                  /* "no answer" (or the failure) is in the log, until one answers */
} node_dns_t;

typedef struct {
    char key[200];              /* routing key */
    char *payload;
    size_t len;
} outmsg_t;

struct cloud_amqp {
    struct amqp_connection_info node[NODES_MAX];
    char *urls[NODES_MAX];      /* amqp_parse_url points into these */
    int nnodes, cur;
    node_dns_t dns[NODES_MAX];
    char queue[128];
    unsigned prefetch;
    amqp_connection_state_t conn;
    bool connected;
    int64_t next_try_ms, backoff_ms;
    cloud_binder_t *bd;
    unsigned long requests, redelivered;
    char thing_queue[128];
    cloud_thing_t *thing;       /* NULL: the IoT Explorer topics are not consumed */
    unsigned long thing_msgs, thing_redelivered;
    bool count_open;            /* COUNT_CHANNEL is open on this connection */
    bool count_told;            /* a failed count was logged (once a connection) */
    pthread_mutex_t out_mu;     /* guards the outbox and `up` (the HTTP threads send too) */
    outmsg_t *out;
    size_t nout, capout;
    bool up;                    /* connected, as the other threads see it */
    int fd;                     /* the connection's socket (-1: none), for cloud_amqp_cut; out_mu's */
    bool cut;                   /* cloud_amqp_cut has run: no socket of this worker may wait; out_mu's */
};

/* The connection's socket as cloud_amqp_cut sees it: set once it is open, -1 before the
 * connection is destroyed (never a descriptor closed and reused meanwhile). */
static void set_fd(cloud_amqp_t *a, int fd)
{
    pthread_mutex_lock(&a->out_mu);
    a->fd = fd;
    if (fd >= 0 && a->cut)
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&a->out_mu);
}

void cloud_amqp_cut(cloud_amqp_t *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->out_mu);
    a->cut = true;
    if (a->fd >= 0)
        shutdown(a->fd, SHUT_RDWR);   /* the wait under way ends at once: EOF, then an error */
    pthread_mutex_unlock(&a->out_mu);
}

static void set_up(cloud_amqp_t *a, bool up)
{
    pthread_mutex_lock(&a->out_mu);
    a->up = up;
    if (!up) {   /* what waited for this connection is lost with it (QoS 0, like mosquitto's) */
        for (size_t i = 0; i < a->nout; i++)
            free(a->out[i].payload);
        free(a->out);
        a->out = NULL;
        a->nout = a->capout = 0;
    }
    pthread_mutex_unlock(&a->out_mu);
}

static void to_topic(char *s);

int cloud_amqp_send(void *ctx, const char *topic, const char *payload, size_t len)
{
    cloud_amqp_t *a = ctx;
    outmsg_t m = { .len = len };
    if (strlen(topic) >= sizeof m.key || !(m.payload = malloc(len ? len : 1)))
        return -1;
    memcpy(m.payload, payload, len);
    snprintf(m.key, sizeof m.key, "%s", topic);
    to_topic(m.key);
    int rc = -1;
    pthread_mutex_lock(&a->out_mu);
    if (a->up && a->nout == a->capout && a->capout < OUTBOX_MAX) {
        size_t nc = a->capout ? a->capout * 2 : 16;
        outmsg_t *no = realloc(a->out, nc * sizeof *no);
        if (no) {
            a->out = no;
            a->capout = nc;
        }
    }
    if (a->up && a->nout < a->capout) {
        a->out[a->nout++] = m;
        rc = 0;
    }
    pthread_mutex_unlock(&a->out_mu);
    if (rc)
        free(m.payload);
    return rc;
}

/* Publishes the outbox (this thread only). NULL, or why the connection failed. */
static const char *flush_outbox(cloud_amqp_t *a)
{
    pthread_mutex_lock(&a->out_mu);
    outmsg_t *msgs = a->out;
    size_t n = a->nout;
    a->out = NULL;
    a->nout = a->capout = 0;
    pthread_mutex_unlock(&a->out_mu);
    const char *fail = NULL;
    amqp_basic_properties_t props = { ._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG,
                                      .content_type = amqp_cstring_bytes("application/json"), .delivery_mode = 1 };
    for (size_t i = 0; i < n; i++) {
        amqp_bytes_t body = { msgs[i].len, msgs[i].payload };
        if (!fail && amqp_basic_publish(a->conn, CHANNEL, amqp_cstring_bytes(EXCHANGE), amqp_cstring_bytes(msgs[i].key),
                                        0, 0, &props, body) != AMQP_STATUS_OK)
            fail = "publish failed";
        free(msgs[i].payload);
    }
    free(msgs);
    return fail;
}

/* amqp://USER:PASS@HOST:PORT[,HOST:PORT...][/VHOST]: one parsed URL per node, so the user,
 * password and vhost are decoded by librabbitmq, the same way for each. */
static int parse_nodes(cloud_amqp_t *a, const char *spec, char *err, size_t errlen)
{
    const char *scheme = "amqp://";
    const char *at = strrchr(spec, '@');
    if (strncmp(spec, scheme, strlen(scheme)) || !at) {
        snprintf(err, errlen, "--rabbitmq wants amqp://USER:PASSWORD@HOST:PORT[,HOST:PORT...][/VHOST]");
        return -1;
    }
    size_t ulen = (size_t)(at - spec) - strlen(scheme);
    const char *hosts = at + 1, *path = strchr(hosts, '/');
    size_t hlen = path ? (size_t)(path - hosts) : strlen(hosts);
    if (!path)
        path = "";
    for (const char *h = hosts; h < hosts + hlen;) {
        const char *comma = memchr(h, ',', (size_t)(hosts + hlen - h));
        size_t n = comma ? (size_t)(comma - h) : (size_t)(hosts + hlen - h);
        if (a->nnodes == NODES_MAX || n == 0) {
            snprintf(err, errlen, "--rabbitmq: %s", n ? "more than 16 nodes" : "empty HOST:PORT in the list");
            return -1;
        }
        size_t len = strlen(scheme) + ulen + 1 + n + strlen(path) + 1;
        char *u = malloc(len);
        if (!u) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        snprintf(u, len, "%s%.*s@%.*s%s", scheme, (int)ulen, spec + strlen(scheme), (int)n, h, path);
        a->urls[a->nnodes] = u;
        amqp_default_connection_info(&a->node[a->nnodes]);
        if (amqp_parse_url(u, &a->node[a->nnodes]) != AMQP_STATUS_OK || a->node[a->nnodes].ssl) {
            snprintf(err, errlen, "--rabbitmq: cannot parse node %.*s (amqp://, HOST:PORT)", (int)n, h);
            return -1;
        }
        a->nnodes++;
        h += n + (comma ? 1 : 0);
    }
    if (!a->nnodes) {
        snprintf(err, errlen, "--rabbitmq: no HOST:PORT given");
        return -1;
    }
    return 0;
}

cloud_binder_t *cloud_amqp_binder(cloud_amqp_t *a)
{
    return a ? a->bd : NULL;
}

int cloud_amqp_check_spec(const char *spec, char *err, size_t errlen)
{
    cloud_amqp_t *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = parse_nodes(a, spec, err, errlen);
    for (int i = 0; i < NODES_MAX; i++)
        free(a->urls[i]);
    free(a);
    return rc;
}

const char *cloud_amqp_vhost(const cloud_amqp_t *a)
{
    return a->node[0].vhost;
}

const char *cloud_amqp_user(const cloud_amqp_t *a)
{
    return a->node[0].user;
}

const char *cloud_amqp_password(const cloud_amqp_t *a)
{
    return a->node[0].password;
}

unsigned cloud_amqp_nodes(const cloud_amqp_t *a)
{
    return (unsigned)a->nnodes;
}

const char *cloud_amqp_node_host(const cloud_amqp_t *a, unsigned i)
{
    return i < (unsigned)a->nnodes ? a->node[i].host : NULL;
}

static const char *reply_text(amqp_rpc_reply_t r, char *buf, size_t len)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return "ok";
    case AMQP_RESPONSE_NONE:
        return "missing reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;
            snprintf(buf, len, "server closed the connection: %u %.*s", m->reply_code, (int)m->reply_text.len,
                     (const char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;
            snprintf(buf, len, "server closed the channel: %u %.*s", m->reply_code, (int)m->reply_text.len,
                     (const char *)m->reply_text.bytes);
        } else {
            snprintf(buf, len, "server error (method 0x%08x)", (unsigned)r.reply.id);
        }
        return buf;
    }
    return "unknown";
}

static void drop_conn(cloud_amqp_t *a, const char *why)
{
    if (a->conn) {
        if (a->connected) {
            cloud_log("binding service lost RabbitMQ node %s:%d (%s); trying the next one", a->node[a->cur].host,
                      a->node[a->cur].port, why);
            cJSON *ev = cJSON_CreateObject();
            cJSON_AddStringToObject(ev, "host", a->node[a->cur].host);
            cJSON_AddNumberToObject(ev, "port", a->node[a->cur].port);
            cJSON_AddStringToObject(ev, "reason", why);
            cloud_event("service_lost", ev);
        }
        set_fd(a, -1);
        amqp_destroy_connection(a->conn);   /* closes the socket: unacked requests go back */
        a->conn = NULL;
    }
    a->connected = false;
    set_up(a, false);
    a->cur = (a->cur + 1) % a->nnodes;
    /* Back off only after a whole round of the list failed: the next node is tried at once. */
    if (a->cur == 0)
        a->backoff_ms = a->backoff_ms ? (a->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : a->backoff_ms * 2) : 200;
    a->next_try_ms = cloud_now_ms() + (a->cur == 0 ? a->backoff_ms : 0);
}

/* The IoT Explorer topics' quorum queue on its own channel (its acks never mix with the bind
 * batch's nack), bound to cloud_thing_topics in routing-key form. 0, or -1 with *r why. */
static int setup_thing(cloud_amqp_t *a, amqp_rpc_reply_t *r)
{
    amqp_channel_open(a->conn, THING_CHANNEL);
    *r = amqp_get_rpc_reply(a->conn);
    if (r->reply_type == AMQP_RESPONSE_NORMAL) {
        amqp_basic_qos(a->conn, THING_CHANNEL, 0, (uint16_t)a->prefetch, 0);
        *r = amqp_get_rpc_reply(a->conn);
    }
    if (r->reply_type == AMQP_RESPONSE_NORMAL) {
        amqp_table_entry_t qt[] = { { amqp_cstring_bytes("x-queue-type"),
                                      { .kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes("quorum") } } };
        amqp_table_t args = { 1, qt };
        amqp_queue_declare(a->conn, THING_CHANNEL, amqp_cstring_bytes(a->thing_queue), 0, 1, 0, 0, args);
        *r = amqp_get_rpc_reply(a->conn);
    }
    const char *const *topics;
    size_t nt = cloud_thing_topics(&topics);
    for (size_t i = 0; i < nt && r->reply_type == AMQP_RESPONSE_NORMAL; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s", topics[i]);
        to_topic(key);   /* the same swap turns a topic into its routing key */
        for (char *k = strchr(key, '+'); k; k = strchr(k, '+'))
            *k = '*';    /* and a binding's one-level wildcard is '*' */
        amqp_queue_bind(a->conn, THING_CHANNEL, amqp_cstring_bytes(a->thing_queue), amqp_cstring_bytes(EXCHANGE),
                        amqp_cstring_bytes(key), amqp_empty_table);
        *r = amqp_get_rpc_reply(a->conn);
    }
    if (r->reply_type == AMQP_RESPONSE_NORMAL) {
        amqp_basic_consume(a->conn, THING_CHANNEL, amqp_cstring_bytes(a->thing_queue), amqp_empty_bytes, 0, 0, 0,
                           amqp_empty_table);
        *r = amqp_get_rpc_reply(a->conn);
    }
    a->count_open = a->count_told = false;
    if (r->reply_type == AMQP_RESPONSE_NORMAL) {   /* for count_workers; without it the whole limit */
        amqp_channel_open(a->conn, COUNT_CHANNEL);
        a->count_open = amqp_get_rpc_reply(a->conn).reply_type == AMQP_RESPONSE_NORMAL;
    }
    return r->reply_type == AMQP_RESPONSE_NORMAL ? 0 : -1;
}

/* The workers sharing --thing-rate (cloud_thing_set_counter): the consumers of the thing queue,
 * from a passive declare on this connection (one round trip; this thread's, also from inside
 * cloud_thing_message: deliveries that come meanwhile on the other channels are queued by
 * librabbitmq for the next consume). The queue itself answers, so a worker that left (its
 * connection closed, or found dead by the heartbeat) is no longer counted at once; the
 * management API's count lagged up to its statistics interval (5 s) behind, so a worker that
 * left was counted for 5 to 10 s more (F52). 0: not connected, or no answer (then said once). */
static unsigned count_workers(void *ctx)
{
    cloud_amqp_t *a = ctx;
    if (!a->connected || !a->count_open)
        return 0;
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(a->conn, COUNT_CHANNEL, amqp_cstring_bytes(a->thing_queue), 1,
                                                     0, 0, 0, amqp_empty_table);
    if (ok)
        return ok->consumer_count;
    amqp_rpc_reply_t r = amqp_get_rpc_reply(a->conn);
    char buf[256];
    if (!a->count_told) {
        a->count_told = true;
        cloud_log("RabbitMQ: cannot count the consumers of %s (%s): --thing-rate counts the last known number of "
                  "workers, and after 30 s allows each device the whole limit on this worker",
                  a->thing_queue, reply_text(r, buf, sizeof buf));
    }
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_ok_t close_ok = { 0 };   /* the server closed the channel: say so back */
        amqp_send_method(a->conn, COUNT_CHANNEL, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
        a->count_open = false;
    }
    return 0;   /* a broken connection: the next consume finds it */
}

/* The current node's name (sc_posix_lookup.h), never waiting: -1 while its lookup may still be
 * waited for (wait_ms from its start), else the count of its addresses (in a->dns[a->cur]):
 * this lookup's, or, when it failed or had no answer in time, the last good one's (the lookup
 * goes on and its answer serves the next try); 0 with err when there are none. An address is
 * its own answer, without a thread. rabbitmq-c's amqp_socket_open_noblock looked the name up
 * itself, blocking, on the main loop: with a DNS server that did not answer, 10 s per node and
 * per reconnect, a stop signal and the failover to the next node waiting as long. */
static int node_lookup(cloud_amqp_t *a, int wait_ms, char *err, size_t errlen)
{
    node_dns_t *d = &a->dns[a->cur];
    const char *host = a->node[a->cur].host;
    const char *why = "";
    int r = sc_posix_name_refresh(&d->name, host, wait_ms, &why);
    if (r < 0)
        return -1;
    if (r > 0) {
        if (d->said)
            cloud_log("binding service: the resolver answers for RabbitMQ node %s again", host);
        d->said = false;
    } else {
        char what[160];
        if (d->name.lk)   /* no answer in time */
            snprintf(what, sizeof what, "%s within %d s", why, wait_ms / 1000);
        else
            snprintf(what, sizeof what, "%s", why);
        if (!d->said && d->name.naddrs)
            cloud_log("binding service: RabbitMQ node %s: %s; connecting to its addresses from the last lookup", host,
                      what);
        d->said = true;
        if (!d->name.naddrs)
            snprintf(err, errlen, "cannot reach RabbitMQ at %s:%d: its name: %s", host, a->node[a->cur].port, what);
    }
    return d->name.naddrs;
}

/* Connect (to the first of the current node's naddrs addresses, node_lookup's, that answers,
 * in the resolver's order, as rabbitmq-c's own lookup did: `localhost` giving ::1 first to a
 * node listening on IPv4 only), log in, declare the quorum queue and its binding, start
 * consuming. */
static int try_connect(cloud_amqp_t *a, int naddrs, char *err, size_t errlen)
{
    const struct amqp_connection_info *n = &a->node[a->cur];
    char buf[256];
    a->conn = amqp_new_connection();
    amqp_socket_t *sock = a->conn ? amqp_tcp_socket_new(a->conn) : NULL;
    if (!sock) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* each an address: rabbitmq-c's getaddrinfo asks no resolver (node_lookup did) */
    int rc = AMQP_STATUS_SOCKET_ERROR, k = 0;
    const char *addr = n->host;
    for (; k < naddrs && rc != AMQP_STATUS_OK; k++) {
        struct timeval tv = { CONNECT_TIMEOUT_S, 0 };
        addr = a->dns[a->cur].name.addrs[k];
        rc = amqp_socket_open_noblock(sock, addr, n->port, &tv);
    }
    if (rc != AMQP_STATUS_OK) {
        bool named = strcmp(addr, n->host) != 0;
        snprintf(err, errlen, "cannot reach RabbitMQ at %s:%d%s%s%s: %s", n->host, n->port, named ? " (" : "",
                 named ? addr : "", named ? ")" : "", amqp_error_string2(rc));
        if (k > 1 && strlen(err) < errlen)
            snprintf(err + strlen(err), errlen - strlen(err), " (each of its %d addresses tried)", k);
        return -1;
    }
    set_fd(a, amqp_socket_get_sockfd(sock));   /* cut already: shut at once, the login fails */
    amqp_rpc_reply_t r = amqp_login(a->conn, n->vhost, 0, 131072, HEARTBEAT_S, AMQP_SASL_METHOD_PLAIN, n->user,
                                    n->password);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        /* RabbitMQ answers bad credentials by closing the socket: say what it most likely is. */
        snprintf(err, errlen, "RabbitMQ at %s:%d refused the login of user '%s' on vhost '%s' (%s; wrong user, "
                 "password or permissions?)", n->host, n->port, n->user, n->vhost, reply_text(r, buf, sizeof buf));
        return -1;
    }
    amqp_channel_open(a->conn, CHANNEL);
    r = amqp_get_rpc_reply(a->conn);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        amqp_basic_qos(a->conn, CHANNEL, 0, (uint16_t)a->prefetch, 0);
        r = amqp_get_rpc_reply(a->conn);
    }
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        /* Quorum: the queue is replicated (Raft) over the cluster, so a node loss keeps it. */
        amqp_table_entry_t qt[] = { { amqp_cstring_bytes("x-queue-type"),
                                      { .kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes("quorum") } } };
        amqp_table_t args = { 1, qt };
        amqp_queue_declare(a->conn, CHANNEL, amqp_cstring_bytes(a->queue), 0, 1, 0, 0, args);
        r = amqp_get_rpc_reply(a->conn);
    }
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        amqp_queue_bind(a->conn, CHANNEL, amqp_cstring_bytes(a->queue), amqp_cstring_bytes(EXCHANGE),
                        amqp_cstring_bytes(BIND_KEY), amqp_empty_table);
        r = amqp_get_rpc_reply(a->conn);
    }
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        amqp_basic_consume(a->conn, CHANNEL, amqp_cstring_bytes(a->queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
        r = amqp_get_rpc_reply(a->conn);
    }
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(err, errlen, "RabbitMQ at %s:%d: cannot set up queue %s: %s", n->host, n->port, a->queue,
                 reply_text(r, buf, sizeof buf));
        return -1;
    }
    if (a->thing && setup_thing(a, &r) != 0) {
        snprintf(err, errlen, "RabbitMQ at %s:%d: cannot set up queue %s: %s", n->host, n->port, a->thing_queue,
                 reply_text(r, buf, sizeof buf));
        return -1;
    }
    a->connected = true;
    set_up(a, true);
    a->backoff_ms = 0;
    cloud_log("binding service consuming %s%s%s on RabbitMQ %s:%d (prefetch %u)", a->queue, a->thing ? " and " : "",
              a->thing ? a->thing_queue : "", n->host, n->port, a->prefetch);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "host", n->host);
    cJSON_AddNumberToObject(ev, "port", n->port);
    cJSON_AddStringToObject(ev, "queue", a->queue);
    cloud_event("service_connected", ev);
    return 0;
}

cloud_amqp_t *cloud_amqp_new(const char *spec, const char *queue, const char *thing_queue, unsigned prefetch,
                             const char *dbpath, char *err, size_t errlen)
{
    cloud_amqp_t *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->out_mu, NULL);
    a->fd = -1;
    snprintf(a->queue, sizeof a->queue, "%s", queue);
    snprintf(a->thing_queue, sizeof a->thing_queue, "%s", thing_queue);
    a->prefetch = prefetch ? prefetch : 1;
    if (parse_nodes(a, spec, err, errlen) != 0 || !(a->bd = cloud_binder_new(dbpath, err, errlen))) {
        cloud_amqp_free(a);
        return NULL;
    }
    return a;
}

void cloud_amqp_serve_thing(cloud_amqp_t *a, cloud_thing_t *t)
{
    a->thing = t;
    cloud_thing_set_counter(t, count_workers, a);
}

/* At start: every node once, so a wrong password or an unreachable cluster is a clear error
 * now rather than a silent retry loop. Later losses retry for ever (cloud_amqp_step). The
 * nodes' names are all looked up at once, each on a thread of its own; a node whose lookup has
 * not answered within LOOKUP_WAIT_MS is passed over for the next, and come back to (until
 * FIRST_LOOKUP_MS after the lookups began) only when no other node took the worker. The waits
 * watch abort_fd (readable: a stop). */
int cloud_amqp_connect(cloud_amqp_t *a, int abort_fd, char *err, size_t errlen)
{
    char e[512] = "";
    bool passed[NODES_MAX] = { false };
    for (int i = 0; i < a->nnodes; i++)
        sc_posix_name_begin(&a->dns[i].name, a->node[i].host);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < a->nnodes; i++) {
            if (round == 1 && !passed[i])
                continue;
            a->cur = i;
            int r;
            while ((r = node_lookup(a, round ? FIRST_LOOKUP_MS : LOOKUP_WAIT_MS, e, sizeof e)) < 0) {
                struct pollfd f = { .fd = abort_fd, .events = POLLIN };
                if (poll(&f, abort_fd >= 0 ? 1 : 0, 20) > 0 && (f.revents & POLLIN)) {
                    snprintf(err, errlen, "stopped while looking up RabbitMQ node %s", a->node[i].host);
                    return 1;
                }
            }
            if (r == 0 && round == 0 && a->dns[i].name.lk) {   /* still under way: the next node first */
                passed[i] = true;
                cloud_log("binding service: RabbitMQ node %s: no answer from the resolver within %d s; trying the "
                          "next node", a->node[i].host, LOOKUP_WAIT_MS / 1000);
                continue;
            }
            passed[i] = false;
            if (r > 0 && try_connect(a, r, e, sizeof e) == 0)
                return 0;
            cloud_log("binding service: %s", e);
            drop_conn(a, e);
        }
    }
    a->cur = 0;
    snprintf(err, errlen, "no RabbitMQ node of the list took us; the last said: %s", e);
    return -1;
}

static void to_topic(char *s)   /* routing key <-> MQTT topic: RabbitMQ's MQTT mapping, both ways */
{
    for (; *s; s++)
        *s = *s == '.' ? '/' : *s == '/' ? '.' : *s;
}

/* The pass: wait up to timeout_ms for a request, take what else is ready (up to prefetch),
 * commit them together, publish the replies, then ack the whole batch at once. */
int cloud_amqp_step(cloud_amqp_t *a, int timeout_ms)
{
    char err[512];
    if (!a->connected) {
        if (cloud_now_ms() < a->next_try_ms) {
            struct timespec ts = { 0, 50 * 1000000L };
            nanosleep(&ts, NULL);
            return -1;
        }
        int r = node_lookup(a, LOOKUP_WAIT_MS, err, sizeof err);
        if (r < 0) {   /* its lookup: the main loop goes on meanwhile (a stop is seen at once) */
            struct timespec ts = { 0, 20 * 1000000L };
            nanosleep(&ts, NULL);
            return -1;
        }
        if (r == 0 || try_connect(a, r, err, sizeof err) != 0) {
            cloud_log("binding service: %s", err);
            drop_conn(a, err);
            return -1;
        }
    }
    uint64_t last_tag = 0, last_thing_tag = 0;
    unsigned n = 0;
    cloud_thing_tick(a->thing);   /* the workers sharing --thing-rate, once a second */
    const char *fail = flush_outbox(a);   /* the HTTP threads' downlink, without waiting */
    while (n < a->prefetch && !fail) {
        amqp_maybe_release_buffers(a->conn);
        amqp_envelope_t env;
        struct timeval tv = { n ? 0 : timeout_ms / 1000, n ? 0 : (timeout_ms % 1000) * 1000 };
        amqp_rpc_reply_t r = amqp_consume_message(a->conn, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
            break;
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
            /* Not a delivery: a close from the server, or a cancel (queue deleted). */
            amqp_frame_t f;
            if (amqp_simple_wait_frame_noblock(a->conn, &f, &(struct timeval){ 0, 0 }) == AMQP_STATUS_OK &&
                f.frame_type == AMQP_FRAME_METHOD) {
                if (f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD || f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
                    f.payload.method.id == AMQP_BASIC_CANCEL_METHOD)
                    fail = "the server closed the channel or cancelled the consumer";
            }
            if (fail)
                break;
            continue;
        }
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
            fail = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION ? amqp_error_string2(r.library_error) : "protocol error";
            break;
        }
        char topic[256];
        size_t kl = env.routing_key.len < sizeof topic - 1 ? env.routing_key.len : sizeof topic - 1;
        memcpy(topic, env.routing_key.bytes, kl);
        topic[kl] = 0;
        to_topic(topic);
        if (env.channel == THING_CHANNEL && a->thing) {
            /* answered (into the outbox) and stored now; acked below, after the answers left */
            a->thing_msgs++;
            a->thing_redelivered += env.redelivered != 0;
            cloud_thing_message(a->thing, topic, env.message.body.bytes, env.message.body.len, env.redelivered != 0);
            last_thing_tag = env.delivery_tag;
        } else {
            a->requests++;
            a->redelivered += env.redelivered != 0;
            cloud_binder_request(a->bd, topic, env.message.body.bytes, env.message.body.len);
            last_tag = env.delivery_tag;
        }
        n++;
        amqp_destroy_envelope(&env);
    }
    if (last_tag) {
        if (cloud_binder_commit(a->bd) != 0) {
            /* Nothing stored: no reply, and the requests go back to the queue for a later try
             * (here or on another worker), after a pause so a broken store is not hammered. */
            cloud_binder_clear(a->bd);
            if (!fail)
                amqp_basic_nack(a->conn, CHANNEL, last_tag, 1, 1);
            struct timespec ts = { 1, 0 };
            nanosleep(&ts, NULL);
        } else {
            const cloud_reply_t *rp;
            size_t nr = cloud_binder_replies(a->bd, &rp);
            amqp_basic_properties_t props = { ._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG,
                                              .content_type = amqp_cstring_bytes("application/json"),
                                              .delivery_mode = 1 };
            for (size_t i = 0; i < nr && !fail; i++) {
                char key[sizeof rp[i].topic];
                snprintf(key, sizeof key, "%s", rp[i].topic);
                to_topic(key);
                if (amqp_basic_publish(a->conn, CHANNEL, amqp_cstring_bytes(EXCHANGE), amqp_cstring_bytes(key), 0, 0,
                                       &props, amqp_cstring_bytes(rp[i].payload)) != AMQP_STATUS_OK)
                    fail = "publish failed";
            }
            cloud_binder_clear(a->bd);
            /* Stored whatever happens next; the ack may be lost with the connection, then the
             * requests come again and are answered again (idempotent). */
            if (!fail && amqp_basic_ack(a->conn, CHANNEL, last_tag, 1) != AMQP_STATUS_OK)
                fail = "ack failed";
        }
    }
    if (last_thing_tag && !fail) {
        fail = flush_outbox(a);
        if (!fail && amqp_basic_ack(a->conn, THING_CHANNEL, last_thing_tag, 1) != AMQP_STATUS_OK)
            fail = "ack failed";
    }
    if (fail) {
        drop_conn(a, fail);
        return -1;
    }
    return 0;
}

bool cloud_amqp_connected(const cloud_amqp_t *a)
{
    return a && a->connected;
}

void cloud_amqp_free(cloud_amqp_t *a)
{
    if (!a)
        return;
    if (a->conn) {
        if (a->connected) {
            /* The stop's bound (docs/cloud.md): a node gone without a reset (a cut network)
             * never answers these, and without a timeout each waited for the heartbeat to give
             * up, 20 s after its last frame (integ.cloud_rabbitmq: 18.8 s). 1 s, after which
             * rabbitmq-c closes the socket and the second fails at once: the node requeues the
             * unacknowledged messages either way, when it sees the connection end. */
            amqp_set_rpc_timeout(a->conn, &(struct timeval){ 1, 0 });
            amqp_channel_close(a->conn, CHANNEL, AMQP_REPLY_SUCCESS);
            amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
        }
        set_fd(a, -1);
        amqp_destroy_connection(a->conn);
    }
    if (a->requests)
        cloud_log("binding service: %lu requests from RabbitMQ (%lu redelivered)", a->requests, a->redelivered);
    if (a->thing_msgs)
        cloud_log("IoT Explorer topics: %lu messages from RabbitMQ (%lu redelivered, not counted against --thing-rate "
                  "again)", a->thing_msgs, a->thing_redelivered);
    set_up(a, false);
    pthread_mutex_destroy(&a->out_mu);
    cloud_binder_free(a->bd);
    for (int i = 0; i < a->nnodes; i++) {
        sc_posix_name_free(&a->dns[i].name);   /* one under way ends on its own thread */
        free(a->urls[i]);
    }
    free(a);
}
