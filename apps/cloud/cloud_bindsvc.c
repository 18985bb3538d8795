/* SPDX-License-Identifier: Apache-2.0 */
/* The binding service: answers the devices' app_bind_token and bind_device_query requests
 * (docs/protocol/tencent.md#mqtt). Two parts: the binder, which decides and stores (shared by
 * both broker front-ends), and the mosquitto front-end, an MQTT client with the privileged
 * service identity (the RabbitMQ one is cloud_amqp.c). Replies go out only after the decision
 * is committed, so a device told "code 0" is bound even if we crash right after; decisions
 * made in one network pass share one commit (the batching that makes 10 000 concurrent binds
 * cheap, docs/cloud.md). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include "cloud.h"
#include "sc_posix_lookup.h"
#include "cloud_metrics.h"
#include "cloud_mosq.h"

struct cloud_binder {
    cloud_store_t store;
    bool in_txn;
    cloud_reply_t *replies;
    size_t nreplies, capreplies;
    unsigned long binds, commits;   /* binds per commit shows the batching at work (bench_cloud) */
    size_t counted;                 /* replies[0..counted) are counted in the metrics */
};

struct cloud_bindsvc {
    cloud_mosq_t *mq;   /* its loop runs on the caller's thread (cloud_bindsvc_step) */
    cloud_binder_t *bd;
    int64_t next_reconnect;   /* cloud_now_ms(); 0: none (on the wall clock, a step back held it as long) */
    unsigned msgs_this_pass;
    char *host;       /* the broker's name as given (--broker) */
    uint16_t port;
    /* The name's lookups, the addresses of its last one that gave any kept (the startup's, then
     * each reconnect's): where a reconnect goes while the resolver does not answer, or fails. */
    sc_posix_name_t name;
    sc_posix_addr_t last;    /* where the last connect went */
    bool reached;         /* connected since then */
    bool dns_said;        /* "no answer" (or the failure) is in the log, until a lookup answers */
};

/* How long a reconnect waits for the name's lookup before it goes to an address of the last
 * good one (the lookup goes on, its answer kept for the next reconnect): a resolver that
 * answers does so in milliseconds; glibc gives one that does not 5 s per attempt. */
#define RECONNECT_LOOKUP_MS 2000

static const char *status_text(int code)
{
    switch (code) {
    case CLOUD_BIND_OK: return "success";
    case CLOUD_BIND_MALFORMED: return "malformed request";
    case CLOUD_BIND_UNKNOWN: return "not found";
    case CLOUD_BIND_TAKEN: return "token already bound to another device";
    case CLOUD_BIND_EXPIRED: return "token expired";
    default: return "internal error";
    }
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* bind_t0: an app_bind_token's arrival (its reply is counted at the commit), else 0. */
static void queue_reply(cloud_binder_t *b, const char *pid, const char *dn, const char *method,
                        const char *client_token, int code, int64_t bind_t0)
{
    if (b->nreplies == b->capreplies) {
        size_t nc = b->capreplies ? b->capreplies * 2 : 64;
        cloud_reply_t *nr = realloc(b->replies, nc * sizeof *nr);
        if (!nr)
            return;   /* the device retries; dropping one reply under OOM is survivable */
        b->replies = nr;
        b->capreplies = nc;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "method", method);
    cJSON_AddStringToObject(o, "clientToken", client_token ? client_token : "");
    cJSON_AddNumberToObject(o, "code", code);
    cJSON_AddStringToObject(o, "status", status_text(code));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return;
    cloud_reply_t *r = &b->replies[b->nreplies++];
    snprintf(r->topic, sizeof r->topic, "$thing/down/service/%s/%s", pid, dn);
    r->payload = s;
    r->bind_code = bind_t0 ? code : -1;
    r->t0_us = bind_t0;
}

static bool ensure_txn(cloud_binder_t *b)
{
    if (!b->in_txn && cloud_store_begin(&b->store) == 0)
        b->in_txn = true;
    return b->in_txn;
}

void cloud_binder_request(cloud_binder_t *b, const char *topic, const void *payload, size_t payloadlen)
{
    /* $thing/up/service/<P>/<D>: the broker's rules already made sure the sender owns P/D. */
    char pid[72], dn[72];
    const char *pre = "$thing/up/service/";
    size_t pl = strlen(pre);
    if (!topic || strncmp(topic, pre, pl))
        return;
    const char *p = topic + pl, *slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= sizeof pid || strlen(slash + 1) >= sizeof dn)
        return;
    memcpy(pid, p, (size_t)(slash - p));
    pid[slash - p] = 0;
    snprintf(dn, sizeof dn, "%s", slash + 1);
    if (!cloud_valid_id(pid, 64) || !cloud_valid_id(dn, 48))
        return;

    cJSON *j = payloadlen > 0 && payloadlen <= 4096 ? cJSON_ParseWithLength(payload, payloadlen) : NULL;
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(j, "method");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(j, "clientToken");
    const char *client_token = cJSON_IsString(ct) ? ct->valuestring : NULL;
    if (!cJSON_IsObject(j) || !cJSON_IsString(method)) {
        queue_reply(b, pid, dn, "error_reply", client_token, CLOUD_BIND_MALFORMED, 0);
        cJSON *ev = cloud_device_event(pid, dn);
        cJSON_AddNumberToObject(ev, "code", CLOUD_BIND_MALFORMED);
        cloud_event("malformed_request", ev);
        cloud_log("malformed message from %s/%s (%zu bytes)", pid, dn, payloadlen);
        cJSON_Delete(j);
        return;
    }
    int64_t now = cloud_now(), t0 = now_us();
    if (!strcmp(method->valuestring, "app_bind_token")) {
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "params");
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(params, "token");
        const char *token = cJSON_IsString(tok) ? tok->valuestring : NULL;
        char ab[16];
        cloud_abbrev_token(token, ab);
        int code;
        if (!client_token || !cloud_valid_token(token))
            code = CLOUD_BIND_MALFORMED;
        else if (!ensure_txn(b))
            code = CLOUD_BIND_INTERNAL;
        else
            code = cloud_store_bind_token(&b->store, token, pid, dn, now);
        b->binds++;
        queue_reply(b, pid, dn, "app_bind_token_reply", client_token, code, t0 ? t0 : 1);
        cJSON *ev = cloud_device_event(pid, dn);
        cJSON_AddStringToObject(ev, "token", ab);
        cJSON_AddNumberToObject(ev, "code", code);
        cJSON_AddStringToObject(ev, "status", status_text(code));
        cloud_event("bind_result", ev);
        cloud_log("app_bind_token from %s/%s token %s: %d (%s)", pid, dn, ab, code, status_text(code));
    } else if (!strcmp(method->valuestring, "bind_device_query")) {
        int code = cloud_store_device_bound(&b->store, pid, dn);
        queue_reply(b, pid, dn, "bind_device_query_reply", client_token, code, 0);
        cloud_metrics_inc(CLOUD_M_BIND_QUERIES);
        cJSON *ev = cloud_device_event(pid, dn);
        cJSON_AddNumberToObject(ev, "code", code);
        cloud_event("bind_query", ev);
        cloud_log("bind_device_query from %s/%s: %d", pid, dn, code);
    }
    /* Other methods on the service topic (e.g. reports) are not ours to answer. */
    cJSON_Delete(j);
}

static void on_message(void *ud, const struct mosquitto_message *msg)
{
    cloud_bindsvc_t *b = ud;
    b->msgs_this_pass++;
    if (msg->payloadlen >= 0)
        cloud_binder_request(b->bd, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

static void on_connect(void *ud, struct mosquitto *m, int rc)
{
    cloud_bindsvc_t *b = ud;
    if (rc != 0) {
        cloud_log("binding service: broker refused the service identity (%s)", mosquitto_connack_string(rc));
        return;
    }
    cloud_mosq_subscribe(b->mq, m, "$thing/up/service/+/+", 1);
    cloud_log("binding service connected; subscribing to $thing/up/service/+/+");
    cloud_event("service_connected", NULL);
}

static void on_disconnect(void *ud, int rc, bool was)
{
    (void)ud;
    if (was)
        cloud_log("binding service lost the broker (%s); reconnecting", mosquitto_strerror(rc));
}

static const cloud_mosq_hooks_t hooks = { .connect = on_connect, .disconnect = on_disconnect, .message = on_message };

/* The first connect's bound: a broker's port that drops SYNs (a host gone) made
 * mosquitto_connect wait until the kernel gave up (about 2 minutes) before saying so; a live
 * broker answers a connect in well under a second, even across a WAN. */
#define FIRST_CONNECT_MS 10000

/* The startup's "cannot reach" message: the address too when it is not the name the user gave. */
static int unreachable(char *err, size_t errlen, const char *host, uint16_t port, const char *addr, const char *why)
{
    bool other = strcmp(addr, host) != 0;
    snprintf(err, errlen, "binding service cannot reach the broker at %s:%u%s%s%s: %s", host, port,
             other ? " (" : "", other ? addr : "", other ? ")" : "", why);
    return -1;
}

/* The TCP connect mosquitto_connect_async began to addr (the broker's host, or one of its
 * addresses): 0 once made, 1 when abort_fd is readable (a stop signal during startup: err
 * says so), else -1 and err (refused, or no answer within FIRST_CONNECT_MS). */
static int first_connect(struct mosquitto *m, const char *addr, const char *host, uint16_t port, int abort_fd,
                         char *err, size_t errlen)
{
    int fd = mosquitto_socket(m);
    int64_t until = cloud_now_ms() + FIRST_CONNECT_MS;
    for (;;) {
        struct pollfd f[2] = { { .fd = fd, .events = POLLOUT }, { .fd = abort_fd, .events = POLLIN } };
        int64_t left = until - cloud_now_ms();
        int n = left > 0 ? poll(f, 2, (int)left) : 0;
        if (n < 0 && errno == EINTR)
            continue;   /* a stop signal: its pipe is readable now */
        if (n > 0 && f[1].revents) {   /* POLLIN; a hang-up or error of the pipe is no connect either */
            snprintf(err, errlen, "binding service: stopped while connecting to the broker at %s:%u", host, port);
            return 1;
        }
        if (n <= 0)
            return unreachable(err, errlen, host, port, addr, n == 0 ? "no answer within 10 s" : strerror(errno));
        int e = 0;
        socklen_t el = sizeof e;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
            e = errno;
        if (e)
            return unreachable(err, errlen, host, port, addr, strerror(e));
        return 0;   /* the CONNECT packet goes out in the first cloud_bindsvc_step */
    }
}

/* cloud_mosq_connect_to addr, then first_connect: as first_connect. */
static int try_connect(cloud_mosq_t *mq, const char *addr, const char *host, uint16_t port, int abort_fd,
                       char *err, size_t errlen)
{
    int rc = cloud_mosq_connect_to(mq, addr, port);
    if (rc != MOSQ_ERR_SUCCESS)
        return unreachable(err, errlen, host, port, addr,
                           rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    return first_connect(cloud_mosq_client(mq), addr, host, port, abort_fd, err, errlen);
}

/* The startup's lookup of the broker's name, on a thread of its own (sc_posix_lookup.h) so that
 * a stop signal ends the wait (glibc waits 5 s for each attempt on a DNS server that does not
 * answer; on this thread that held the stop as long), bounded by FIRST_CONNECT_MS: the count
 * of its addresses, in b->name; 0 with err (no answer in time, or the resolver's failure), or
 * -1 for a stop (err says so). */
static int first_lookup(cloud_bindsvc_t *b, int abort_fd, char *err, size_t errlen)
{
    const char *why = "";
    int r;
    while ((r = sc_posix_name_refresh(&b->name, b->host, FIRST_CONNECT_MS, &why)) < 0) {
        struct pollfd f = { .fd = abort_fd, .events = POLLIN };
        if (poll(&f, abort_fd >= 0 ? 1 : 0, 20) > 0 && (f.revents & POLLIN)) {
            sc_posix_name_free(&b->name);
            snprintf(err, errlen, "binding service: stopped while looking up the broker's name %s", b->host);
            return -1;
        }
    }
    if (r == 0 && b->name.lk) {
        sc_posix_name_free(&b->name);
        unreachable(err, errlen, b->host, b->port, b->host, "its name had no answer from the resolver within 10 s");
        return 0;
    }
    if (r == 0)
        unreachable(err, errlen, b->host, b->port, b->host, why);
    return r ? b->name.naddrs : 0;
}

/* The broker's first connect: to each address of the name's one lookup in turn, each with its
 * own FIRST_CONNECT_MS, until one answers (libmosquitto's non-blocking connect goes only to a
 * name's first address: a name such as localhost giving ::1 first, with a broker listening on
 * IPv4 only, was a fatal startup error). One lookup for all the tries: the fallback looked the
 * name up again and took the addresses after the first of that answer, so a resolver that
 * rotates its answers (round-robin DNS) had it try one address twice and never the other.
 * The one that answers is where the binding service is, until that connection is lost
 * (reconnect). 0: connected. */
static int connect_broker(cloud_bindsvc_t *b, int abort_fd, char *err, size_t errlen)
{
    int n = first_lookup(b, abort_fd, err, errlen);
    if (n <= 0)
        return n < 0 ? 1 : -1;
    int r = -1, tried = 0;
    for (int k = 0; k < n && r < 0; k++, tried++) {
        memcpy(b->last, b->name.addrs[k], sizeof b->last);
        r = try_connect(b->mq, b->name.addrs[k], b->host, b->port, abort_fd, err, errlen);
    }
    if (r < 0 && tried > 1 && strlen(err) < errlen)   /* the last address's error */
        snprintf(err + strlen(err), errlen - strlen(err), " (each of its %d addresses tried)", tried);
    return r;
}

/* A reconnect's name lookup (sc_posix_lookup.h): 1 while it may still be waited for, else 0 with
 * b->name the name's addresses: this lookup's, or, when it failed or has no answer within
 * RECONNECT_LOOKUP_MS, the last good one's (the lookup goes on and its answer, when it comes,
 * is kept for the next reconnect). The main loop runs meanwhile: a stop is seen at once. */
static int reconnect_lookup(cloud_bindsvc_t *b)
{
    const char *why = "";
    int r = sc_posix_name_refresh(&b->name, b->host, RECONNECT_LOOKUP_MS, &why);
    if (r < 0)
        return 1;
    if (r > 0) {
        if (b->dns_said)
            cloud_log("binding service: the resolver answers for %s again", b->host);
        b->dns_said = false;
        return 0;
    }
    if (!b->dns_said && b->name.lk)   /* no answer yet: the known addresses, this once */
        cloud_log("binding service: no answer from the resolver for %s within %d s; reconnecting to its "
                  "addresses from the last lookup", b->host, RECONNECT_LOOKUP_MS / 1000);
    else if (!b->dns_said)
        cloud_log("binding service: the broker's name %s: %s; reconnecting to its addresses from the last "
                  "lookup", b->host, why);
    b->dns_said = true;
    return 0;
}

/* A later reconnect, never waiting (libmosquitto's non-blocking connect to an address, which
 * needs no lookup, completed by the loop): 1 while its lookup is waited for (call again),
 * else MOSQ_ERR_SUCCESS or libmosquitto's error. After a connection that worked, to the name's
 * first address: the name may give other addresses now (a DNS failover), or its first may be
 * back (the startup's fallback is not kept for ever). After a try that did not connect
 * (refused, or closed by the keepalive check when nothing answered), to the address after the
 * one tried, in the name's order now, then the first again (a first address gone for good
 * left the service away from a broker that answered at the second). */
static int reconnect(cloud_bindsvc_t *b)
{
    if (reconnect_lookup(b))
        return 1;
    int k = 0;
    if (!b->reached)
        for (int i = 0; i < b->name.naddrs; i++)
            if (!strcmp(b->name.addrs[i], b->last))
                k = (i + 1) % b->name.naddrs;
    b->reached = false;
    if (b->name.naddrs == 0)   /* never: the startup's lookup gave at least one */
        return MOSQ_ERR_NO_CONN;
    memcpy(b->last, b->name.addrs[k], sizeof b->last);
    if (k > 0)
        cloud_log("binding service: trying the broker at %s:%u (%s)", b->host, b->port, b->name.addrs[k]);
    return cloud_mosq_connect_to(b->mq, b->name.addrs[k], b->port);
}

cloud_bindsvc_t *cloud_bindsvc_new(const char *host, uint16_t port, const char *user, const char *pass,
                                   const char *dbpath, int abort_fd, char *err, size_t errlen)
{
    cloud_bindsvc_t *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->host = strdup(host);
    b->port = port;
    if (!b->host) {
        snprintf(err, errlen, "out of memory");
        free(b);
        return NULL;
    }
    b->bd = cloud_binder_new(dbpath, err, errlen);
    if (!b->bd) {
        free(b->host);
        free(b);
        return NULL;
    }
    b->mq = cloud_mosq_new("smartcfg-bindsvc-", user, pass, &hooks, b, err, errlen);
    if (!b->mq) {
        cloud_bindsvc_free(b);
        return NULL;
    }
    struct mosquitto *m = cloud_mosq_client(b->mq);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    /* Replies queue up during bursts; no artificial cap on in-flight QoS 1 messages. */
    mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, 65535);
    /* A reply is one small packet: without NODELAY, Nagle holds it behind the previous
     * packet's delayed ACK and every bind costs ~40 ms more. */
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    /* Not mosquitto_connect, whose blocking connect() waited for the kernel (about 2 minutes
     * to a port that drops SYNs), then the failure, and a stop signal meanwhile ended it as
     * "Interrupted system call", exit 1 (or, just before it, waited all that): bounded, and
     * ended by the stop's pipe. A broker refused or unreachable at each of its name's
     * addresses stays a fatal startup error. */
    if (connect_broker(b, abort_fd, err, errlen) != 0) {
        cloud_bindsvc_free(b);
        return NULL;
    }
    return b;
}

/* The app_bind_token replies queued since the last commit, now that their fate is known (stored:
 * the code decided; not: a success became 500). Each reply is counted once: the next commit
 * only sees replies queued after this one's (cloud_binder_clear comes between). */
static void count_binds(cloud_binder_t *b, bool stored)
{
    int64_t t = now_us();
    for (size_t i = b->counted; i < b->nreplies; i++)
        if (b->replies[i].bind_code >= 0)
            cloud_metrics_bind(stored || b->replies[i].bind_code != CLOUD_BIND_OK ? b->replies[i].bind_code
                                                                                  : CLOUD_BIND_INTERNAL,
                               t - b->replies[i].t0_us);
    b->counted = b->nreplies;
}

int cloud_binder_commit(cloud_binder_t *b)
{
    if (!b->in_txn) {
        count_binds(b, true);   /* nothing to store: malformed ones, or no transaction could start (500) */
        return 0;
    }
    b->in_txn = false;
    b->commits++;
    if (cloud_store_commit(&b->store) == 0) {
        count_binds(b, true);
        return 0;
    }
    count_binds(b, false);
    /* Nothing was stored: no reply may claim success. */
    cloud_store_rollback(&b->store);
    cloud_log("binding service: commit failed: %s", b->store.err);
    for (size_t i = 0; i < b->nreplies; i++) {
        cJSON *o = cJSON_Parse(b->replies[i].payload);
        cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
        if (cJSON_IsNumber(code) && code->valueint == CLOUD_BIND_OK) {
            cJSON_SetNumberValue(code, CLOUD_BIND_INTERNAL);
            cJSON_ReplaceItemInObject(o, "status", cJSON_CreateString(status_text(CLOUD_BIND_INTERNAL)));
            char *s = cJSON_PrintUnformatted(o);
            if (s) {
                free(b->replies[i].payload);
                b->replies[i].payload = s;
            }
        }
        cJSON_Delete(o);
    }
    return -1;
}

size_t cloud_binder_replies(const cloud_binder_t *b, const cloud_reply_t **r)
{
    *r = b->replies;
    return b->nreplies;
}

void cloud_binder_clear(cloud_binder_t *b)
{
    for (size_t i = 0; i < b->nreplies; i++)
        free(b->replies[i].payload);
    b->nreplies = 0;
    b->counted = 0;
}

cloud_binder_t *cloud_binder_new(const char *dbpath, char *err, size_t errlen)
{
    cloud_binder_t *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cloud_store_open(&b->store, dbpath, err, errlen) != 0) {
        free(b);
        return NULL;
    }
    return b;
}

void cloud_binder_abort_on(cloud_binder_t *b, int fd)
{
    if (b && fd >= 0) {
        b->store.abortable = true;
        b->store.abort_fd = fd;
        b->store.abort_grace_ms = 1000;   /* a healthy database still answers the pass under way */
    }
}

cloud_binder_t *cloud_bindsvc_binder(cloud_bindsvc_t *b)
{
    return b ? b->bd : NULL;
}

void cloud_binder_free(cloud_binder_t *b)
{
    if (!b)
        return;
    if (b->in_txn)
        cloud_store_rollback(&b->store);
    cloud_log("binding service: %lu bind requests in %lu commits", b->binds, b->commits);
    cloud_binder_clear(b);
    free(b->replies);
    cloud_store_close(&b->store);
    free(b);
}

static void flush(cloud_bindsvc_t *b)
{
    cloud_binder_commit(b->bd);   /* on failure the replies say 500: the devices retry */
    const cloud_reply_t *r;
    size_t n = cloud_binder_replies(b->bd, &r);
    for (size_t i = 0; i < n && cloud_mosq_connected(b->mq); i++)
        mosquitto_publish(cloud_mosq_client(b->mq), NULL, r[i].topic, (int)strlen(r[i].payload), r[i].payload, 1, false);
    cloud_binder_clear(b->bd);
}

int cloud_bindsvc_step(cloud_bindsvc_t *b, int timeout_ms)
{
    struct mosquitto *m = cloud_mosq_client(b->mq);
    int rc = MOSQ_ERR_SUCCESS;
    if (!cloud_mosq_connected(b->mq) && b->next_reconnect && cloud_now_ms() >= b->next_reconnect) {
        rc = reconnect(b);   /* never blocks: the loop below completes it */
        if (rc == 1) {   /* its lookup: the main loop goes on meanwhile */
            struct timespec ts = { 0, (timeout_ms < 20 ? timeout_ms : 20) * 1000000L };
            nanosleep(&ts, NULL);
            return -1;
        }
        b->next_reconnect = 0;
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        cloud_mosq_retry(b->mq);   /* a subscription the broker refused: asked again */
        b->msgs_this_pass = 0;
        rc = mosquitto_loop(m, timeout_ms, 1);
        /* Drain what is already readable so one commit covers a burst of binds. */
        for (int i = 0; rc == MOSQ_ERR_SUCCESS && b->msgs_this_pass && i < 256; i++) {
            unsigned before = b->msgs_this_pass;
            rc = mosquitto_loop(m, 0, 1);
            if (b->msgs_this_pass == before)
                break;
        }
    }
    if (cloud_mosq_connected(b->mq))
        b->reached = true;
    flush(b);
    if (rc != MOSQ_ERR_SUCCESS) {
        cloud_mosq_lost(b->mq);
        if (!b->next_reconnect)
            b->next_reconnect = cloud_now_ms() + 1000;
        if (timeout_ms > 0) {
            struct timespec ts = { 0, 100 * 1000000L };
            nanosleep(&ts, NULL);   /* no busy loop while the broker is away */
        }
        return -1;
    }
    return 0;
}

bool cloud_bindsvc_connected(const cloud_bindsvc_t *b)
{
    return b && cloud_mosq_ready(b->mq);
}

void cloud_bindsvc_free(cloud_bindsvc_t *b)
{
    if (!b)
        return;
    (void)cloud_mosq_free(b->mq);   /* no loop thread: always freed; no "lost the broker" line */
    sc_posix_name_free(&b->name);   /* one under way ends on its own thread */
    cloud_binder_free(b->bd);
    free(b->host);
    free(b);
}
