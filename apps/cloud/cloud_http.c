/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP side of the local cloud (libmicrohttpd, a pool of polling threads; the requests that use
 * the registry's one shared connection take turns under a lock): the app's token API in
 * Tencent's envelope (docs/protocol/tencent.md#the-apps-token-api), dynamic registration
 * (#dynamic-registration) and a small admin API for a trusted network (docs/cloud.md). */
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <strings.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <microhttpd.h>

#include "cloud.h"
#include "cloud_authhttp.h"
#include "cloud_health.h"
#include "sc_posix_lookup.h"
#include "cloud_metrics.h"
#include "cloud_ota.h"
#include "console.h"
#include "sc_posix.h"
#include "smartcfg/cloud.h"
#include "smartcfg/errors.h"
#include "smartcfg/version.h"

#define BODY_MAX (16 * 1024)   /* every legitimate request is well under 1 KiB */
#define DYNREG_WINDOW 300      /* seconds of clock skew accepted on /register/dev */
#define PSK_MIN 16             /* bytes: IoT Explorer's PSKs are 16 random bytes; shorter is guessable */

#define ACCESS_TTL 86400       /* an AccessToken from AppGetToken lives a day */
#define PBKDF2_ITERATIONS 10000
#define BUCKETS 1024           /* rate-limit entries (users and addresses) kept at once */
#define AUTH_FROM_MAX 64       /* addresses the RabbitMQ auth questions may come from */
#define POOL_MAX 64            /* --http-threads' upper bound */

/* Token bucket per user (token creation) or per source address (unauthenticated endpoints):
 * a burst, then a steady rate. A full table recycles the entry idle the longest. Only the
 * pool's threads share it under rate_lock. */
typedef struct {
    char key[48];
    double tokens;
    int64_t last_ms;
} bucket_t;

/* Threads (docs/cloud.md "Health and metrics"). libmicrohttpd runs a pool of cfg.threads
 * threads (at least 2); a thread takes a new connection only while it is in its poll loop, not
 * while it runs a request. Everything that uses the store's shared connection (the token, admin,
 * registration, OTA and console requests) runs under `lock`, one request at a time, as with
 * one thread (the store, OTA and the console's state are single-owner; SQLite sees one writer
 * per process as before). The RabbitMQ auth answers only read the registry: each pool thread
 * opens its own read connection the first time it needs one (`auth_key`; closed when the
 * thread ends), so RabbitMQ's many parallel questions are answered in parallel.
 *
 * A request that waits on a database that does not answer must not take every thread, or the
 * probes (/healthz, /readyz, /metrics: no lock, no database) wait too and a liveness check
 * restarts a cloud whose only trouble is its database. So (api_enter):
 *   - the lock is waited for at most LOCK_WAIT_MS, and not at all once its holder has had it
 *     for over STUCK_MS; then the request is answered 503 "busy" with Retry-After: 1, instead
 *     of queueing without bound (a thread that waits does not serve the connections it took
 *     meanwhile: a probe among them would wait as long);
 *   - a request that would occupy the last free thread while another request has been at its
 *     work for over STUCK_MS is answered that 503 at once: one thread stays in its poll loop
 *     for the probes (with a healthy database requests take milliseconds and all queue as
 *     before);
 *   - the probes' answers close their connection, so the next probe is a new connection, taken
 *     by a free thread, not one kept alive on a thread that may be busy. */
#define LOCK_WAIT_MS 1000
#define STUCK_MS 500

/* Slow clients (docs/cloud.md "Limits", F93). libmicrohttpd's idle timeout restarts on every
 * byte, so a client dribbling a header line every 2 s kept its connection for ever, and 70
 * addresses x 15 held every connection the server has: the probes and the apps were refused.
 * So each connection's request has deadlines of its own, whatever its activity:
 *   - its header: HEADER_DEADLINE_MS from the connection's start (or, on a kept-alive
 *     connection, from the end of its previous request) to the end of its header (the access
 *     handler's first call);
 *   - its body: BODY_DEADLINE_MS from there to the handler's last call (a body is 16 KiB at
 *     most); an admin's firmware upload (authorised at its header) has none;
 *   - once answered (the event streams, suspended for hours, too) none.
 * A connection past its deadline is shut down (shutdown(2): libmicrohttpd sees the end of its
 * stream and closes it itself; its descriptor is never closed here). And when the connections
 * run short (CONN_RESERVE from the server's cap, or from the descriptors select(2) can watch),
 * each new one closes the oldest unfinished request (more when far past the mark), so a flood of them cannot keep the slots
 * for the deadline's length either: a complete request arrives in one round trip and is never
 * the oldest unfinished one. The table (conns) is shared by the pool's threads and the reaper
 * under conn_lock; a connection leaves it in the CLOSED notice, which libmicrohttpd gives
 * before it closes the descriptor, so a shut down descriptor is always still the connection's. */
#define HEADER_DEADLINE_MS 10000
#define BODY_DEADLINE_MS 20000
/* A pool thread held by a request (one that waits on the database) serves none of the other
 * connections it took meanwhile: their bytes wait unread in the kernel while libmicrohttpd's
 * idle timeout (5 s, counted from their last byte read or written) runs, and it checks that
 * timeout at the start of the thread's next turn, before it reads what came. A connection
 * accepted in the same turn as a request that then waited 5 s on SQLite (its busy timeout) was
 * closed unanswered when the thread came back (F197; `integ.cloud_held_conn`). So a hold stays
 * well inside that timeout: the token/admin API's store waits HTTP_LOCK_WAIT_MS at most for a
 * lock another process holds (then 503, as before after 5 s), the lock itself LOCK_WAIT_MS, and
 * after a call that held its thread STUCK_MS or more the thread answers its next API requests
 * of the same turn (on connections accepted before the hold ended, within CHAIN_MS: chained())
 * busy at once instead of waiting again (holds in a row add up: three 2 s waits passed the idle
 * timeout, two 5 s ones the reaper's 10 s header deadline). Not done: restarting the other
 * connections' idle timers after a hold (MHD_set_connection_option, a zero timeout then the old
 * one): a connection libmicrohttpd closed earlier in the same turn is out of its timeout list
 * but not yet freed, no connection information tells it apart, and setting its timeout would
 * link it into that list again (docs/security.md F197). */
#define HTTP_LOCK_WAIT_MS 2000
/* The same for a PostgreSQL server that does not answer at all (a host down, a network cut): its
 * keepalives ended such a wait after ~11 s, its reconnects after 5 s a host, and the connections
 * the thread took meanwhile were closed (F201). Longer than the lock wait, by a margin: a lock
 * wait ends with the server's own answer (55P03) HTTP_LOCK_WAIT_MS and a round trip after the
 * statement went out; at the same 2 s this bound came first, mostly with the server a few ms
 * away, always with it 30 ms away, and shut the healthy connection as a silent server's: the
 * next requests were 503 until it reconnected (F209). Still well inside libmicrohttpd's 5 s. */
#define HTTP_SERVER_WAIT_MS (HTTP_LOCK_WAIT_MS + 1000)
#define CHAIN_MS 200

#define CONN_RESERVE 128
#define EVICT_MAX 8
#define REAP_EVERY_MS 250

/* The bounds of a registry connection a pool thread waits on: the API's shared one and each
 * RabbitMQ auth thread's own (F199, F201). */
static void pool_store_waits(cloud_store_t *st)
{
    cloud_store_set_lock_wait(st, HTTP_LOCK_WAIT_MS);
    cloud_store_set_server_wait(st, HTTP_SERVER_WAIT_MS);
}

enum { PH_HEADER, PH_BODY, PH_DONE };
typedef struct conn_ent {
    struct conn_ent *prev, *next;
    int fd;
    int phase;        /* PH_*: what the connection waits for */
    int64_t since;    /* when that phase began (monotonic ms) */
    int64_t born;     /* when it was accepted (monotonic ms; set and read by its own thread only) */
    bool shut;        /* shut down here; libmicrohttpd has yet to close it */
} conn_ent_t;

struct cloud_http {
    struct MHD_Daemon *d;
    pthread_mutex_t lock;
    pthread_mutex_t rate_lock;     /* buckets, auth_refused_logged */
    unsigned pool;                 /* threads in libmicrohttpd's pool */
    atomic_uint busy;              /* requests in api_enter .. api_leave now */
    atomic_int_fast64_t since[POOL_MAX];   /* their start (monotonic ms; 0: slot free) */
    atomic_int_fast64_t held_since;        /* when `lock` was taken (monotonic ms; 0: free) */
    atomic_bool stopping;                  /* cloud_http_stop: no new request may start */
    pthread_key_t auth_key;
    bool auth_key_made;
    cloud_store_t store;
    cloud_http_cfg_t cfg;
    char admin_key[80];
    bucket_t buckets[BUCKETS];
    int64_t last_gc;
    char *cert, *key;
    /* --rabbitmq: the addresses whose auth questions are answered (cfg.rabbitmq_auth_from,
     * resolved at start; IPv4 as 4 bytes, IPv6 as 16) */
    struct {
        int family;
        unsigned char a[16];
    } auth_from[AUTH_FROM_MAX];
    atomic_uint n_auth_from;       /* entries below it are final (late ones added under late_mu) */
    /* default list names (the --rabbitmq nodes) whose lookup had no answer at start: added
     * when it has one (auth_late_poll, at a question from a source not in the list) */
    pthread_mutex_t late_mu;
    struct {
        sc_posix_lookup_t *lk;
        char name[256];
    } late[16];
    unsigned n_late;
    int64_t auth_refused_logged;   /* when the last refused source was logged (ms) */
    /* connections and their requests' deadlines (HEADER_DEADLINE_MS above) */
    pthread_mutex_t conn_lock;
    pthread_cond_t reap_cv;
    conn_ent_t *conns;
    unsigned n_conns, n_shut;
    unsigned conn_high;            /* live connections beyond which the oldest unfinished goes */
    int fd_high;                   /* descriptor numbers beyond which it goes too (select(2)) */
    bool reap_stop, reaper_made;
    pthread_t reaper;
    int64_t slow_logged;           /* when the last slow-client closing was logged (ms) */
    unsigned slow_unlogged;
};

/* The bucket of (kind, who), refilled to now; NULL when it has none and make is false. The
 * caller holds rate_lock (so do the *_locked functions' callers). */
static bucket_t *bucket_of(cloud_http_t *h, const char *kind, const char *who, double rate, double burst, bool make)
{
    char key[48];
    snprintf(key, sizeof key, "%s:%s", kind, who);
    int64_t now = cloud_now_ms();
    bucket_t *b = NULL, *oldest = &h->buckets[0];
    for (size_t i = 0; i < BUCKETS && !b; i++) {
        if (!strcmp(h->buckets[i].key, key))
            b = &h->buckets[i];
        else if (h->buckets[i].last_ms < oldest->last_ms)
            oldest = &h->buckets[i];
    }
    if (!b) {
        if (!make)
            return NULL;
        b = oldest;
        snprintf(b->key, sizeof b->key, "%s", key);
        b->tokens = burst;
        b->last_ms = now;
    }
    b->tokens += (double)(now - b->last_ms) / 1000.0 * rate;
    if (b->tokens > burst)
        b->tokens = burst;
    b->last_ms = now;
    return b;
}

static bool rate_ok_locked(cloud_http_t *h, const char *kind, const char *who, double rate, double burst)
{
    bucket_t *b = bucket_of(h, kind, who, rate, burst, true);
    if (b->tokens < 1.0) {
        cloud_metrics_inc(CLOUD_M_HTTP_RATE_LIMITED);
        return false;
    }
    b->tokens -= 1.0;
    return true;
}

/* Whether (kind, who) has spent its budget, without spending from it. A key check asks this
 * first: a budget spent only on failures, with the key still compared past it, let the right
 * key through at any rate (a 200 among the 429s), so guessing was never slowed (F82). */
static bool rate_spent_locked(cloud_http_t *h, const char *kind, const char *who, double rate, double burst)
{
    bucket_t *b = bucket_of(h, kind, who, rate, burst, false);
    if (!b || b->tokens >= 1.0)
        return false;
    cloud_metrics_inc(CLOUD_M_HTTP_RATE_LIMITED);
    return true;
}

static bool rate_ok(cloud_http_t *h, const char *kind, const char *who, double rate, double burst)
{
    pthread_mutex_lock(&h->rate_lock);
    bool ok = rate_ok_locked(h, kind, who, rate, burst);
    pthread_mutex_unlock(&h->rate_lock);
    return ok;
}

static void peer_addr(struct MHD_Connection *c, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, len, "?");
    if (ci && ci->client_addr) {
        socklen_t sl = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        getnameinfo(ci->client_addr, sl, out, (socklen_t)len, NULL, 0, NI_NUMERICHOST);
    }
}

/* PBKDF2-HMAC-SHA256 of the password, hex. */
static int pw_hash(const char *pw, const char *salt, char *hex, size_t hexlen)
{
    unsigned char out[32];
    mbedtls_md_context_t ctx;
    mbedtls_md_init(&ctx);
    int rc = mbedtls_md_setup(&ctx, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&ctx, (const unsigned char *)pw, strlen(pw), (const unsigned char *)salt,
                                       strlen(salt), PBKDF2_ITERATIONS, sizeof out, out);
    mbedtls_md_free(&ctx);
    if (rc != 0 || hexlen < 2 * sizeof out + 1)
        return -1;
    for (size_t i = 0; i < sizeof out; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    return 0;
}

typedef struct {
    char *buf;
    size_t len;
    bool too_big;
    bool streamed;                 /* a firmware upload: the body goes to up (or nowhere) */
    bool auth;                     /* a RabbitMQ auth question: answered without the lock */
    bool ops;                      /* /healthz, /readyz, /metrics: answered without the lock */
    cloud_ota_upload_t *up;
} req_t;

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *s, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)s, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!s)
        return MHD_NO;
    enum MHD_Result ret = send_text(c, status, s, strlen(s));
    free(s);
    return ret;
}

static enum MHD_Result admin_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    return send_json(c, status, o);
}

enum MHD_Result cloud_http_json(struct MHD_Connection *c, unsigned status, cJSON *obj)
{
    return send_json(c, status, obj);
}

enum MHD_Result cloud_http_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    return admin_error(c, status, msg);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- token API (docs/protocol/tencent.md#the-apps-token-api) ------------------------------------- */

static enum MHD_Result tok_error_as(struct MHD_Connection *c, unsigned status, int code, const char *err_code,
                                    const char *msg, const char *reqid)
{
    cJSON *o = cJSON_CreateObject(), *data = cJSON_CreateObject(), *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "code", code);
    cJSON_AddStringToObject(o, "msg", msg);
    cJSON_AddStringToObject(e, "Code", err_code);
    cJSON_AddStringToObject(e, "Message", msg);
    cJSON_AddItemToObject(data, "Error", e);
    if (reqid)
        cJSON_AddStringToObject(data, "RequestId", reqid);
    cJSON_AddItemToObject(o, "data", data);
    return send_json(c, status, o);
}

/* 200 like the real service: the SDK reads the envelope, and wx.request only resolves
 * (rather than rejects) bodies it can read. */
static enum MHD_Result tok_error(struct MHD_Connection *c, int code, const char *err_code, const char *msg,
                                 const char *reqid)
{
    return tok_error_as(c, MHD_HTTP_OK, code, err_code, msg, reqid);
}

/* A database failure. With the database unreachable (PostgreSQL down, reconnecting) the answer
 * is HTTP 503, so an HTTP load balancer in front of several workers (docs/scale.md) retries or
 * fails over, and the app sees a retryable error rather than a verdict. */
static enum MHD_Result db_error(cloud_http_t *h, struct MHD_Connection *c, const char *reqid)
{
    if (!h->store.unavailable)
        return tok_error(c, 500, "InternalError", "database error", reqid);
    return tok_error_as(c, MHD_HTTP_SERVICE_UNAVAILABLE, 503, "InternalError.DatabaseUnavailable",
                        "database unavailable, retry later", reqid);
}

static enum MHD_Result tok_ok(struct MHD_Connection *c, cJSON *data, const char *reqid)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "code", 0);
    cJSON_AddStringToObject(o, "msg", "");
    if (reqid)
        cJSON_AddStringToObject(data, "RequestId", reqid);
    cJSON_AddItemToObject(o, "data", data);
    return send_json(c, MHD_HTTP_OK, o);
}

/* AppGetToken: UserName + Password -> an expiring AccessToken. Unauthenticated, so limited
 * per source address; a wrong name and a wrong password get the same answer. */
static enum MHD_Result app_get_token(cloud_http_t *h, struct MHD_Connection *c, const cJSON *body, const char *reqid)
{
    char addr[64];
    peer_addr(c, addr, sizeof addr);
    if (!rate_ok(h, "anon", addr, h->cfg.anon_rate, h->cfg.anon_burst))
        return tok_error(c, 429, "RequestLimitExceeded", "too many requests from this address; retry later", reqid);
    const char *name = jstr(body, "UserName"), *pw = jstr(body, "Password");
    if (!name || !pw)
        return tok_error(c, 400, "InvalidParameter", "UserName and Password are required", reqid);
    cloud_user_t u;
    char hex[80];
    int rc = strlen(name) > 64 ? 1 : cloud_store_get_user(&h->store, name, &u);
    if (rc < 0)
        return db_error(h, c, reqid);
    if (rc == 1 || pw_hash(pw, u.salt, hex, sizeof hex) != 0 || !cloud_consttime_eq(hex, u.pw_hash)) {
        cloud_log("login of a user refused from %s", addr);
        return tok_error(c, 401, "AuthFailure.InvalidUserNameOrPassword", "wrong user name or password", reqid);
    }
    char tok[65];
    cloud_random_hex(tok, 64);
    struct timespec ts;   /* wall clock: the workers order a user's tokens by it */
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, exp = now_ms / 1000 + ACCESS_TTL;
    if (cloud_store_add_access_token(&h->store, tok, u.user_id, exp, now_ms) != 0)
        return db_error(h, c, reqid);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "Token", tok);
    cJSON_AddNumberToObject(d, "ExpireAt", (double)exp);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "user_id", u.user_id);
    cloud_event("user_login", ev);
    return tok_ok(c, d, reqid);
}

static void id_text(const cJSON *v, char *out, size_t len)
{
    /* The SDK sends FamilyId/RoomId as strings or numbers depending on the app. */
    out[0] = 0;
    if (cJSON_IsString(v))
        snprintf(out, len, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(out, len, "%.0f", v->valuedouble);
    cloud_utf8_fix(out);   /* a cut character would fail the binding's write on PostgreSQL */
}

static enum MHD_Result token_api(cloud_http_t *h, struct MHD_Connection *c, const req_t *rq)
{
    const char *cmd = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cmd");
    cJSON *body = cJSON_ParseWithLength(rq->buf ? rq->buf : "", rq->len);
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        return tok_error(c, 400, "InvalidParameter", "request body is not a JSON object", NULL);
    }
    const char *action = jstr(body, "Action");
    if (!action)
        action = cmd;
    char reqid[80];
    snprintf(reqid, sizeof reqid, "%s", jstr(body, "RequestId") ? jstr(body, "RequestId") : "");
    cloud_utf8_fix(reqid);   /* echoed in the reply, which must stay UTF-8 */
    enum MHD_Result ret;
    int64_t now = cloud_now();
    cloud_user_t u;
    int arc = 1;
    const char *at = jstr(body, "AccessToken");
    bool known = false;
    for (size_t i = 0; action && i < CLOUD_TOKEN_ACTIONS; i++)
        known = known || !strcmp(action, cloud_token_actions[i]);
    cloud_metrics_token_api(action);
    if (known && (!cmd || !strcmp(cmd, action)) && strcmp(action, "AppGetToken") && at && strlen(at) <= 64) {
        /* Unknown AccessTokens are unauthenticated guesses: same per-address budget as logins. */
        arc = cloud_store_check_access_token(&h->store, at, now, &u);
        if (arc == 1) {
            char addr[64];
            peer_addr(c, addr, sizeof addr);
            if (!rate_ok(h, "anon", addr, h->cfg.anon_rate, h->cfg.anon_burst))
                arc = 2;
        }
    }
    if (!action) {
        ret = tok_error(c, 400, "InvalidParameter", "missing Action (?cmd= or body.Action)", reqid);
    } else if (cmd && strcmp(cmd, action)) {
        ret = tok_error(c, 400, "InvalidParameter", "cmd and Action disagree", reqid);
    } else if (!known) {
        ret = tok_error(c, 400, "InvalidAction", "action not supported by the local cloud", reqid);
    } else if (!strcmp(action, "AppGetToken")) {
        ret = app_get_token(h, c, body, reqid);
    } else if (arc < 0) {
        ret = db_error(h, c, reqid);
    } else if (arc == 2) {
        ret = tok_error(c, 429, "RequestLimitExceeded", "too many requests from this address; retry later", reqid);
    } else if (arc != 0) {
        ret = tok_error(c, 401, "AuthFailure.InvalidAccessToken",
                        "AccessToken missing, unknown or expired: log in with AppGetToken", reqid);
    } else if (!strcmp(action, "AppCreateDeviceBindToken")) {
        char token[33];
        cloud_random_hex(token, 32);
        int64_t exp = now + h->cfg.token_ttl;
        if (!rate_ok(h, "user", u.user_id, h->cfg.token_rate, h->cfg.token_burst)) {
            ret = tok_error(c, 429, "RequestLimitExceeded", "too many bind tokens for this account; retry later", reqid);
        } else if (cloud_store_add_token(&h->store, token, u.user_id, now, exp) != 0) {
            ret = db_error(h, c, reqid);
        } else {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "Token", token);
            cJSON_AddNumberToObject(d, "ExpireTime", (double)exp);
            ret = tok_ok(c, d, reqid);
            char ab[16];
            cloud_abbrev_token(token, ab);
            cJSON *ev = cJSON_CreateObject();
            cJSON_AddStringToObject(ev, "token", ab);
            cJSON_AddNumberToObject(ev, "expire", (double)exp);
            cJSON_AddStringToObject(ev, "user_id", u.user_id);
            cloud_event("token_created", ev);
            cloud_log("token %s created, expires in %d s", ab, h->cfg.token_ttl);
        }
    } else if (!strcmp(action, "AppGetDeviceBindTokenState") || !strcmp(action, "AppGetMultiDeviceBindTokenState")) {
        bool multi = !strcmp(action, "AppGetMultiDeviceBindTokenState");
        const char *token = jstr(body, "Token");
        cloud_token_t t;
        int rc = cloud_valid_token(token) ? cloud_store_get_token(&h->store, token, &t) : 1;
        if (rc == 0 && strcmp(t.user_id, u.user_id))
            rc = 1;   /* another user's token: as if it did not exist */
        if (!token) {
            ret = tok_error(c, 400, "InvalidParameter", "missing Token", reqid);
        } else if (rc < 0) {
            ret = db_error(h, c, reqid);
        } else if (rc == 1) {
            ret = tok_error(c, 404, "ResourceNotFound.TokenNotExist", "token does not exist", reqid);
        } else if (!t.bound_at && now > t.expire) {
            ret = tok_error(c, 410, "FailedOperation.TokenExpired", "token expired", reqid);
        } else {
            int state = t.bound_at ? 2 : 1;
            cJSON *d = cJSON_CreateObject();
            if (multi) {
                /* Empty while waiting: the SDK's poller keeps polling until an entry has State 2. */
                cJSON *arr = cJSON_AddArrayToObject(d, "Data");
                if (t.bound_at) {
                    cJSON *e = cJSON_CreateObject();
                    cJSON_AddStringToObject(e, "ProductId", t.product_id);
                    cJSON_AddStringToObject(e, "DeviceName", t.device_name);
                    cJSON_AddNumberToObject(e, "State", state);
                    cJSON_AddItemToArray(arr, e);
                }
            } else {
                cJSON_AddNumberToObject(d, "State", state);
                cJSON_AddStringToObject(d, "ProductId", t.product_id);
                cJSON_AddStringToObject(d, "DeviceName", t.device_name);
            }
            ret = tok_ok(c, d, reqid);
        }
    } else if (!strcmp(action, "AppTokenBindDeviceFamily")) {
        const char *token = jstr(body, "Token"), *pid = jstr(body, "ProductId"), *dn = jstr(body, "DeviceName");
        char fbuf[64], rbuf[64];
        id_text(cJSON_GetObjectItemCaseSensitive(body, "FamilyId"), fbuf, sizeof fbuf);
        id_text(cJSON_GetObjectItemCaseSensitive(body, "RoomId"), rbuf, sizeof rbuf);
        cloud_token_t t;
        int rc = cloud_valid_token(token) ? cloud_store_get_token(&h->store, token, &t) : 1;
        if (rc == 0 && strcmp(t.user_id, u.user_id))
            rc = 1;
        int frc = 0;
        if (!token || !pid || !dn) {
            ret = tok_error(c, 400, "InvalidParameter", "Token, ProductId and DeviceName are required", reqid);
        } else if (strcmp(fbuf, u.family_id)) {
            ret = tok_error(c, 404, "ResourceNotFound.FamilyNotExist", "no such family for this user", reqid);
        } else if (rc < 0) {
            ret = db_error(h, c, reqid);
        } else if (rc == 1) {
            ret = tok_error(c, 404, "ResourceNotFound.TokenNotExist", "token does not exist", reqid);
        } else if (!t.bound_at) {
            ret = tok_error(c, 409, "FailedOperation.DeviceNotBound", "no device has bound this token yet", reqid);
        } else if (strcmp(t.product_id, pid) || strcmp(t.device_name, dn)) {
            ret = tok_error(c, 403, "FailedOperation.TokenDeviceMismatch", "token was bound by another device", reqid);
        } else if ((frc = cloud_store_bind_family(&h->store, token, pid, dn, fbuf, rbuf, now)) == 1) {
            ret = tok_error(c, 409, "FailedOperation.DeviceAlreadyBound",
                            "the device is bound in another family; it must be unbound there first", reqid);
        } else if (frc != 0) {
            ret = db_error(h, c, reqid);
        } else {
            ret = tok_ok(c, cJSON_CreateObject(), reqid);
            cJSON *ev = cloud_device_event(pid, dn);
            cJSON_AddStringToObject(ev, "family_id", fbuf);
            cloud_event("family_bound", ev);
            cloud_log("device %s/%s bound to family '%s'", pid, dn, fbuf);
        }
    } else if (!strcmp(action, "AppDeleteDeviceInFamily")) {
        const char *pid = jstr(body, "ProductId"), *dn = jstr(body, "DeviceName");
        char fbuf[64];
        id_text(cJSON_GetObjectItemCaseSensitive(body, "FamilyId"), fbuf, sizeof fbuf);
        const char *k[] = { pid, dn, u.family_id };
        if (!cloud_valid_id(pid, 64) || !cloud_valid_id(dn, 48)) {
            ret = tok_error(c, 400, "InvalidParameter", "ProductId and DeviceName are required", reqid);
        } else if (strcmp(fbuf, u.family_id)) {
            ret = tok_error(c, 404, "ResourceNotFound.FamilyNotExist", "no such family for this user", reqid);
        } else if (cloud_store_exec(&h->store, "DELETE FROM bindings WHERE product_id=? AND device_name=? AND family_id=?",
                                    3, k) != 1 || cloud_store_unbind(&h->store, pid, dn) < 0) {
            ret = tok_error(c, 404, "ResourceNotFound.DeviceNotExist", "the device is not in this family", reqid);
        } else {
            ret = tok_ok(c, cJSON_CreateObject(), reqid);
            cloud_event("device_unbound", cloud_device_event(pid, dn));
        }
    } else if (!strcmp(action, "AppGetUser")) {
        cJSON *d = cJSON_CreateObject(), *ud = cJSON_AddObjectToObject(d, "Data");
        cJSON_AddStringToObject(ud, "UserID", u.user_id);
        cJSON_AddStringToObject(ud, "NickName", u.user_name);
        ret = tok_ok(c, d, reqid);
    } else if (!strcmp(action, "AppGetFamilyList")) {
        cJSON *d = cJSON_CreateObject(), *l = cJSON_AddArrayToObject(d, "FamilyList"), *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "FamilyId", u.family_id);
        cJSON_AddStringToObject(f, "FamilyName", "home");
        cJSON_AddItemToArray(l, f);
        cJSON_AddNumberToObject(d, "Total", 1);
        ret = tok_ok(c, d, reqid);
    } else {
        ret = tok_error(c, 400, "InvalidAction", "action not supported by the local cloud", reqid);
    }
    cJSON_Delete(body);
    return ret;
}

/* ---- dynamic registration (docs/protocol/tencent.md#dynamic-registration) ------------------------ */
/* The reply codes are IoT Explorer's (errors.h SC_DYNREG_*); the message says which check failed. */

static enum MHD_Result reg_error(struct MHD_Connection *c, int code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "code", code);
    cJSON_AddStringToObject(o, "message", msg);
    return send_json(c, MHD_HTTP_OK, o);
}

static enum MHD_Result register_dev(cloud_http_t *h, struct MHD_Connection *c, const req_t *rq)
{
    cJSON *b = cJSON_ParseWithLength(rq->buf ? rq->buf : "", rq->len);
    const char *dn = jstr(b, "deviceName"), *pid = jstr(b, "productId"), *sig = jstr(b, "signature");
    const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(b, "nonce");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(b, "timestamp");
    enum MHD_Result ret;
    char secret[128], addr[64];
    peer_addr(c, addr, sizeof addr);
    if (!rate_ok(h, "anon", addr, h->cfg.anon_rate, h->cfg.anon_burst)) {
        ret = reg_error(c, SC_DYNREG_RATE_LIMITED, "too many requests from this address; retry later");
        goto out;
    }
    /* nonce: the device's 32-bit random number; timestamp: Unix seconds. Both integers. */
    if (!cJSON_IsObject(b) || !cloud_valid_id(dn, 48) || !cloud_valid_id(pid, 64) || !sig ||
        !cJSON_IsNumber(nonce) || !cJSON_IsNumber(ts) || nonce->valuedouble < 0 ||
        nonce->valuedouble > 4294967295.0 || nonce->valuedouble != (double)(uint64_t)nonce->valuedouble ||
        ts->valuedouble < 0 || ts->valuedouble > 1e12) {
        ret = reg_error(c, SC_DYNREG_INVALID_PARAM, "malformed request: need deviceName, productId, nonce, timestamp, signature");
        goto out;
    }
    int64_t now = cloud_now(), t = (int64_t)ts->valuedouble;
    int prc = cloud_store_get_product_secret(&h->store, pid, secret, sizeof secret);
    if (prc < 0) {
        ret = reg_error(c, SC_DYNREG_INTERNAL, "internal error");
        goto out;
    }
    if (prc == 1) {
        ret = reg_error(c, SC_DYNREG_NO_PRODUCT, "unknown product");
        goto out;
    }
    /* The very signing and encryption helpers the device uses (smartcfg/cloud.h), so both
     * sides build the same strings by construction. */
    char expect[64];
    if (sc_cloud_dynreg_signature(secret, pid, dn, (uint32_t)nonce->valuedouble, (uint64_t)t, expect,
                                  sizeof expect) != SC_OK ||
        !cloud_consttime_eq(sig, expect)) {
        ret = reg_error(c, SC_DYNREG_SIGNATURE, "signature mismatch");
        cJSON *ev = cloud_device_event(pid, dn);
        cJSON_AddStringToObject(ev, "reason", "signature");
        cloud_event("register_refused", ev);
        cloud_log("dynamic registration of %s/%s refused: bad signature", pid, dn);
        goto out;
    }
    if (t < now - DYNREG_WINDOW || t > now + DYNREG_WINDOW) {
        ret = reg_error(c, SC_DYNREG_SIGNATURE, "timestamp out of the accepted window");
        cloud_log("dynamic registration of %s/%s refused: timestamp %lld s off", pid, dn, (long long)(t - now));
        goto out;
    }
    if (strlen(secret) < 16) {
        ret = reg_error(c, SC_DYNREG_NOT_SUPPORTED, "product secret shorter than 16 characters cannot encrypt the reply");
        goto out;
    }
    /* A captured request replayed within the window would hand out the PSK again. */
    int seen = cloud_store_dynreg_seen(&h->store, pid, dn, (int64_t)nonce->valuedouble, t);
    int taken = seen == 0 ? cloud_store_client_id_taken(&h->store, pid, dn) : 0;
    if (seen < 0 || taken < 0) {
        ret = reg_error(c, SC_DYNREG_INTERNAL, "internal error");
        goto out;
    }
    if (seen || taken) {
        ret = reg_error(c, seen ? SC_DYNREG_SIGNATURE : SC_DYNREG_INVALID_PARAM, seen ? "replayed request (same nonce and timestamp)"
                                                   : "client id (product id + device name) collides with another device");
        cJSON *ev = cloud_device_event(pid, dn);
        cJSON_AddStringToObject(ev, "reason", seen ? "replay" : "client_id_collision");
        cloud_event("register_refused", ev);
        goto out;
    }
    char psk[64], newpsk[64];
    if (cloud_random_b64(newpsk, sizeof newpsk, 16) != 0) {
        ret = reg_error(c, SC_DYNREG_INTERNAL, "internal error");
        goto out;
    }
    int drc = cloud_store_add_device(&h->store, pid, dn, newpsk, now, psk, sizeof psk);
    if (drc < 0) {
        ret = reg_error(c, SC_DYNREG_INTERNAL, "internal error");
        goto out;
    }
    char reply[512];
    size_t rlen;
    if (sc_cloud_dynreg_response(secret, psk, reply, sizeof reply, &rlen) != SC_OK) {
        ret = reg_error(c, SC_DYNREG_INTERNAL, "internal error");
        goto out;
    }
    ret = send_text(c, MHD_HTTP_OK, reply, rlen);
    cJSON *ev = cloud_device_event(pid, dn);
    cJSON_AddBoolToObject(ev, "new", drc == 0);
    cloud_event("device_registered", ev);
    cloud_log("dynamic registration of %s/%s: %s", pid, dn, drc == 0 ? "created" : "existing device");
out:
    cJSON_Delete(b);
    return ret;
}

/* ---- admin API (trusted network only) --------------------------------------------------- */

static enum MHD_Result admin_products(cloud_http_t *h, struct MHD_Connection *c, const req_t *rq)
{
    cJSON *b = cJSON_ParseWithLength(rq->buf ? rq->buf : "", rq->len);
    enum MHD_Result ret;
    const char *pid = jstr(b, "product_id"), *sec = jstr(b, "product_secret");
    const cJSON *secv = cJSON_GetObjectItemCaseSensitive(b, "product_secret");
    char gen[33];
    if (!cJSON_IsObject(b)) {
        ret = admin_error(c, 400, "body must be a JSON object");
    } else if (secv && !cJSON_IsString(secv)) {
        ret = admin_error(c, 400, "product_secret must be a string (or absent to have one generated)");
    } else if (!cloud_valid_id(pid, 64)) {
        ret = admin_error(c, 400, "product_id: 1-64 characters of [A-Za-z0-9_.:@-]");
    } else if (sec && (strlen(sec) < 16 || strlen(sec) > 64)) {
        ret = admin_error(c, 400, "product_secret must be 16-64 characters (its first 16 bytes are the AES key)");
    } else {
        if (!sec) {
            cloud_random_hex(gen, 32);
            sec = gen;
        }
        int rc = cloud_store_add_product(&h->store, pid, sec, cloud_now());
        if (rc < 0) {
            ret = admin_error(c, h->store.unavailable ? 503 : 500, "database error");
        } else if (rc == 1) {
            ret = admin_error(c, 409, "product exists");
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "product_id", pid);
            cJSON_AddStringToObject(o, "product_secret", sec);
            ret = send_json(c, MHD_HTTP_CREATED, o);
            cJSON *ev = cJSON_CreateObject();
            cJSON_AddStringToObject(ev, "product_id", pid);
            cloud_event("product_created", ev);
            cloud_log("product %s created", pid);
        }
    }
    cJSON_Delete(b);
    return ret;
}

static enum MHD_Result admin_add_device(cloud_http_t *h, struct MHD_Connection *c, const char *pid, const req_t *rq)
{
    cJSON *b = cJSON_ParseWithLength(rq->buf ? rq->buf : "", rq->len);
    enum MHD_Result ret;
    const char *dn = jstr(b, "device_name"), *sec = jstr(b, "device_secret");
    const cJSON *secv = cJSON_GetObjectItemCaseSensitive(b, "device_secret");
    char gen[64], psk[64];
    unsigned char raw[64];
    size_t rawlen;
    int prc = cloud_store_get_product_secret(&h->store, pid, NULL, 0);
    if (!cJSON_IsObject(b)) {
        ret = admin_error(c, 400, "body must be a JSON object");
    } else if (!cloud_valid_id(dn, 48)) {
        ret = admin_error(c, 400, "device_name: 1-48 characters of [A-Za-z0-9_.:@-]");
    } else if ((secv && !cJSON_IsString(secv)) ||
               (sec && (strlen(sec) > 44 || cloud_b64_decode(sec, raw, sizeof raw, &rawlen) != 0 || rawlen < PSK_MIN))) {
        ret = admin_error(c, 400, "device_secret must be base64 of 16 to 32 bytes (or absent to have one generated)");
    } else if (prc < 0) {
        ret = admin_error(c, h->store.unavailable ? 503 : 500, "database error");
    } else if (prc == 1) {
        ret = admin_error(c, 404, "unknown product");
    } else if (cloud_store_client_id_taken(&h->store, pid, dn) != 0) {
        ret = admin_error(c, 409, "client id (product id + device name) collides with another device");
    } else {
        if (!sec) {
            cloud_random_b64(gen, sizeof gen, 16);
            sec = gen;
        }
        int rc = cloud_store_add_device(&h->store, pid, dn, sec, cloud_now(), psk, sizeof psk);
        if (rc < 0) {
            ret = admin_error(c, h->store.unavailable ? 503 : 500, "database error");
        } else if (rc == 1) {
            ret = admin_error(c, 409, "device exists");
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "device_name", dn);
            cJSON_AddStringToObject(o, "device_secret", psk);
            ret = send_json(c, MHD_HTTP_CREATED, o);
            cJSON *ev = cloud_device_event(pid, dn);
            cloud_event("device_created", ev);
            cloud_log("device %s/%s created", pid, dn);
        }
    }
    cJSON_Delete(b);
    return ret;
}

static enum MHD_Result admin_list(cloud_http_t *h, struct MHD_Connection *c, const char *pid)
{
    /* Listings leave out secrets: the admin API hands a secret out once, when it is created. */
    const char *sql = pid
        ? "SELECT d.device_name, d.created, (SELECT count(*) FROM tokens t WHERE t.product_id=d.product_id AND"
          " t.device_name=d.device_name AND t.bound_at IS NOT NULL) FROM devices d WHERE d.product_id=?"
          " ORDER BY d.device_name"
        : "SELECT t.product_id, t.device_name, t.bound_at, coalesce(b.family_id,''), coalesce(b.room_id,'')"
          " FROM tokens t LEFT JOIN bindings b ON b.product_id=t.product_id AND b.device_name=t.device_name"
          " WHERE t.bound_at IS NOT NULL ORDER BY t.bound_at";
    if (pid) {
        int prc = cloud_store_get_product_secret(&h->store, pid, NULL, 0);
        if (prc == 1)
            return admin_error(c, 404, "unknown product");
    }
    cloud_rows_t *st = pid ? cloud_store_select(&h->store, sql, "t", pid) : cloud_store_select(&h->store, sql, "");
    if (!st)
        return admin_error(c, h->store.unavailable ? 503 : 500, "database error");
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, pid ? "devices" : "bindings");
    while (cloud_rows_next(st) == 1) {
        cJSON *e = cJSON_CreateObject();
        if (pid) {
            cJSON_AddStringToObject(e, "device_name", cloud_rows_text(st, 0));
            cJSON_AddNumberToObject(e, "created", (double)cloud_rows_int(st, 1));
            cJSON_AddBoolToObject(e, "bound", cloud_rows_int(st, 2) > 0);
        } else {
            cJSON_AddStringToObject(e, "product_id", cloud_rows_text(st, 0));
            cJSON_AddStringToObject(e, "device_name", cloud_rows_text(st, 1));
            cJSON_AddNumberToObject(e, "bound_at", (double)cloud_rows_int(st, 2));
            cJSON_AddStringToObject(e, "family_id", cloud_rows_text(st, 3));
            cJSON_AddStringToObject(e, "room_id", cloud_rows_text(st, 4));
        }
        cJSON_AddItemToArray(arr, e);
    }
    cloud_rows_free(st);
    return send_json(c, MHD_HTTP_OK, o);
}

static enum MHD_Result admin_users(cloud_http_t *h, struct MHD_Connection *c, const req_t *rq)
{
    cJSON *b = cJSON_ParseWithLength(rq->buf ? rq->buf : "", rq->len);
    const char *name = jstr(b, "user_name"), *pw = jstr(b, "password");
    enum MHD_Result ret;
    if (!cJSON_IsObject(b)) {
        ret = admin_error(c, 400, "body must be a JSON object");
    } else if (!cloud_valid_id(name, 64)) {
        ret = admin_error(c, 400, "user_name: 1-64 characters of [A-Za-z0-9_.:@-]");
    } else if (!pw || strlen(pw) < 8 || strlen(pw) > 128) {
        ret = admin_error(c, 400, "password: a string of 8-128 characters");
    } else {
        char uid[40] = "u_", fam[40] = "f_", salt[33], hash[80];
        cloud_random_hex(uid + 2, 16);
        cloud_random_hex(fam + 2, 16);
        cloud_random_hex(salt, 32);
        int rc = pw_hash(pw, salt, hash, sizeof hash) != 0 ? -1
               : cloud_store_add_user(&h->store, uid, name, salt, hash, fam, cloud_now());
        if (rc < 0) {
            ret = admin_error(c, h->store.unavailable ? 503 : 500, "database error");
        } else if (rc == 1) {
            ret = admin_error(c, 409, "user exists");
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "user_id", uid);
            cJSON_AddStringToObject(o, "user_name", name);
            cJSON_AddStringToObject(o, "family_id", fam);
            ret = send_json(c, MHD_HTTP_CREATED, o);
            cJSON *ev = cJSON_CreateObject();
            cJSON_AddStringToObject(ev, "user_id", uid);
            cloud_event("user_created", ev);
            cloud_log("user %s created", uid);
        }
    }
    cJSON_Delete(b);
    return ret;
}

/* DELETE /v1/products/P/devices/D (device gone) or /v1/bindings/P/D (unbound, device stays). */
static enum MHD_Result admin_delete(cloud_http_t *h, struct MHD_Connection *c, const char *pid, const char *dn,
                                    bool device)
{
    if (!cloud_valid_id(pid, 64) || !cloud_valid_id(dn, 48))
        return admin_error(c, 400, "bad product id or device name");
    int ex = cloud_store_device_exists(&h->store, pid, dn);
    if (ex < 0)
        return admin_error(c, h->store.unavailable ? 503 : 500, "database error");
    if (ex == 0)
        return admin_error(c, 404, "no such device");
    /* With RabbitMQ, the device and the gateways speaking for it lose their subscriptions only
     * when their connections close (cloud_revoke.c); without it nothing is looked up. Asked
     * before the rows go. */
    if (device && cloud_revoke_enabled())
        cloud_store_clients_of(&h->store, pid, dn, cloud_revoke_client);
    int rc = device ? cloud_store_delete_device(&h->store, pid, dn) : cloud_store_unbind(&h->store, pid, dn);
    if (rc < 0)
        return admin_error(c, h->store.unavailable ? 503 : 500, "database error");
    cloud_event(device ? "device_deleted" : "device_unbound", cloud_device_event(pid, dn));
    cloud_log("device %s/%s %s", pid, dn, device ? "deleted" : "unbound");
    cJSON *o = cloud_device_event(pid, dn);
    cJSON_AddBoolToObject(o, device ? "deleted" : "unbound", true);
    return send_json(c, MHD_HTTP_OK, o);
}

/* "/a/b" -> a and b (each < 65 characters); false when the shape differs. */
static bool split2(const char *p, char a[65], char b[65])
{
    const char *slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= 65 || strlen(slash + 1) >= 65 || strchr(slash + 1, '/'))
        return false;
    memcpy(a, p, (size_t)(slash - p));
    a[slash - p] = 0;
    strcpy(b, slash + 1);
    return true;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static bool admin_authorized(cloud_http_t *h, struct MHD_Connection *c, const char *method)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    return (auth && !strncasecmp(auth, "Bearer ", 7) && cloud_consttime_eq(auth + 7, h->admin_key)) ||
           cloud_console_authorized(c, method);
}

/* The admin key (or a console session) under a per-address budget of failed keys (the rate and
 * burst of the unauthenticated endpoints, a bucket of its own: an address's app logins do not
 * lock its admin out): 1 authorised; 0 not (a failure, spent from the budget); -1 the budget is spent
 * (answer 429), the key not even compared. Spending on failures only and comparing the key past
 * a spent budget let the right key through at any rate, a 200 among the 429s (F82). */
static int admin_check(cloud_http_t *h, struct MHD_Connection *c, const char *method)
{
    char addr[64];
    peer_addr(c, addr, sizeof addr);
    pthread_mutex_lock(&h->rate_lock);
    int r = rate_spent_locked(h, "key", addr, h->cfg.anon_rate, h->cfg.anon_burst) ? -1
            : admin_authorized(h, c, method)                                        ? 1
            : rate_ok_locked(h, "key", addr, h->cfg.anon_rate, h->cfg.anon_burst)   ? 0
                                                                                      : -1;
    pthread_mutex_unlock(&h->rate_lock);
    return r;
}

/* POST /v1/products/<P>/devices/<D>/control | /action: the data template's downlink. */
static enum MHD_Result thing_down(cloud_http_t *h, struct MHD_Connection *c, const char *pid, const char *dn,
                                  bool action, bool post, const req_t *rq)
{
    if (!post)
        return admin_error(c, 405, "use POST");
    if (!cloud_valid_id(pid, 64) || !cloud_valid_id(dn, 48))
        return admin_error(c, 400, "bad product id or device name");
    int ex = cloud_store_device_exists(&h->store, pid, dn);
    if (ex != 1)
        return admin_error(c, ex == 0 ? 404 : 500, ex == 0 ? "unknown device" : "registry error");
    char msg[96];
    if (!h->cfg.thing)   /* not started with the data template (both front-ends start it) */
        return admin_error(c, 501, "the data template is not served");
    int rc = cloud_thing_down(h->cfg.thing, pid, dn, action, rq->buf, rq->len, msg, sizeof msg);
    if (rc != 0)
        return admin_error(c, rc == -2 ? 503 : 400, msg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "clientToken", msg);
    return cloud_http_json(c, 202, o);
}

static enum MHD_Result route(cloud_http_t *h, struct MHD_Connection *c, const char *url, const char *method,
                             const req_t *rq)
{
    bool post = !strcmp(method, "POST"), get = !strcmp(method, "GET"), del = !strcmp(method, "DELETE");
    /* cJSON stops a string at an escaped NUL ("A\u0000B" reads as "A") and at a raw NUL byte
     * alike (it copies the byte, and C reads the string up to it): refuse such bodies rather than
     * act on a silently shortened name, token or secret. No JSON text holds a raw NUL. */
    bool nul = rq->buf && (memchr(rq->buf, 0, rq->len) || memmem(rq->buf, rq->len, "\\u0000", 6));
    if (!strcmp(url, "/tokenapi")) {
        if (!post)
            return admin_error(c, 405, "use POST");
        if (nul)
            return tok_error(c, 400, "InvalidParameter", "strings must not contain NUL", NULL);
        return token_api(h, c, rq);
    }
    if (!strncmp(url, "/ota/", 5)) {   /* the device's download: the URL's token is the capability */
        /* Unauthenticated: a budget per address (generous: a download is one request plus a
         * few resumes) so token guessing cannot keep the daemon's one thread busy. */
        char addr[64];
        peer_addr(c, addr, sizeof addr);
        if (!rate_ok(h, "ota", addr, 20.0, 200.0))
            return admin_error(c, 429, "too many downloads from this address");
        return cloud_ota_serve(h->cfg.ota, c, url + 5, method);
    }
    if (!strcmp(url, "/register/dev")) {
        if (!post)
            return admin_error(c, 405, "use POST");
        if (nul)
            return reg_error(c, SC_DYNREG_INVALID_PARAM, "malformed request: strings must not contain NUL");
        return register_dev(h, c, rq);
    }
    if (cloud_console_owns(url)) {
        /* the key is what POST /v1/console/login checks: under the same budget as the admin API */
        int admin = strcmp(url, "/v1/console/login") ? admin_authorized(h, c, method) : admin_check(h, c, method);
        if (admin < 0)
            return admin_error(c, 429, "too many requests from this address");
        enum MHD_Result r = cloud_console_route(&h->store, c, url, method, admin > 0,
                                                h->cert != NULL, h->cfg.host, h->cfg.port);
        if (del)   /* a product deleted with its firmware rows: its images go too */
            cloud_ota_sweep(h->cfg.ota);
        return r;
    }
    if (strncmp(url, "/v1/", 4))
        return admin_error(c, 404, "no such endpoint");
    int admin = admin_check(h, c, method);
    if (admin < 0)
        return admin_error(c, 429, "too many requests from this address");
    if (!admin)
        return admin_error(c, 401, "admin API: send Authorization: Bearer <admin key>");
    if (nul)
        return admin_error(c, 400, "strings must not contain NUL");
    if (cloud_ota_owns(url))
        return cloud_ota_admin(h->cfg.ota, c, url, method, rq->buf, rq->len, rq->up, h->cert != NULL);
    if (!strcmp(url, "/v1/users"))
        return post ? admin_users(h, c, rq) : admin_error(c, 405, "use POST");
    if (!strcmp(url, "/v1/products"))
        return post ? admin_products(h, c, rq) : admin_error(c, 405, "use POST");
    if (!strcmp(url, "/v1/bindings"))
        return get ? admin_list(h, c, NULL) : admin_error(c, 405, "use GET");
    char a[65], b[65];
    if (!strncmp(url, "/v1/bindings/", 13) && split2(url + 13, a, b))
        return del ? admin_delete(h, c, a, b, false) : admin_error(c, 405, "use DELETE");
    if (!strncmp(url, "/v1/products/", 13)) {
        const char *p = url + 13, *slash = strchr(p, '/');
        char pid[65];
        if (slash && !strcmp(slash, "/devices") && (size_t)(slash - p) < sizeof pid) {
            memcpy(pid, p, (size_t)(slash - p));
            pid[slash - p] = 0;
            if (!cloud_valid_id(pid, 64))
                return admin_error(c, 400, "bad product id");
            if (post)
                return admin_add_device(h, c, pid, rq);
            if (get)
                return admin_list(h, c, pid);
            return admin_error(c, 405, "use GET or POST");
        }
        if (slash && !strncmp(slash, "/devices/", 9) && (size_t)(slash - p) < sizeof pid) {
            memcpy(pid, p, (size_t)(slash - p));
            pid[slash - p] = 0;
            const char *sl2 = strchr(slash + 9, '/');
            if (sl2 && (!strcmp(sl2, "/control") || !strcmp(sl2, "/action")) && (size_t)(sl2 - slash - 9) < sizeof b) {
                memcpy(b, slash + 9, (size_t)(sl2 - slash - 9));
                b[sl2 - slash - 9] = 0;
                return thing_down(h, c, pid, b, !strcmp(sl2, "/action"), post, rq);
            }
            if (strlen(slash + 9) >= sizeof b || strchr(slash + 9, '/'))
                return admin_error(c, 404, "no such endpoint");
            strcpy(b, slash + 9);
            return del ? admin_delete(h, c, pid, b, true) : admin_error(c, 405, "use DELETE");
        }
    }
    return admin_error(c, 404, "no such endpoint");
}

/* ---- health and metrics (docs/cloud.md "Health and metrics") --------------------------------
 * GET (or HEAD) /healthz, /readyz and /metrics are answered without the lock: from atomics and
 * the state cloud_health.c keeps fresh in the background, never a database or broker round
 * trip, so a request stuck on a dead PostgreSQL under the lock cannot hold them up, and they
 * cost less than the 429 a per-address budget would answer. /healthz and /readyz say nothing
 * but the one word, so they need neither a key nor a budget (the per-address connection cap
 * still holds). /metrics needs the admin key as a Bearer credential; a missing or wrong one
 * spends the per-address budget of the unauthenticated endpoints, as on the admin API. */
static bool is_ops(const char *url)
{
    return !strcmp(url, "/healthz") || !strcmp(url, "/readyz") || !strcmp(url, "/metrics");
}

static enum MHD_Result send_ops(struct MHD_Connection *c, unsigned status, const char *body, size_t len,
                                const char *ctype, const char *hname, const char *hval)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    /* the next probe comes on a new connection, to a thread in its poll loop (struct cloud_http) */
    MHD_add_response_header(r, "Connection", "close");
    if (hname)
        MHD_add_response_header(r, hname, hval);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result ops_json(struct MHD_Connection *c, unsigned status, const char *body, const char *hname,
                                const char *hval)
{
    return send_ops(c, status, body, strlen(body), "application/json", hname, hval);
}

static enum MHD_Result ops_route(cloud_http_t *h, struct MHD_Connection *c, const char *url, const char *method)
{
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return ops_json(c, 405, "{\"error\":\"use GET\"}", "Allow", "GET, HEAD");
    if (!strcmp(url, "/healthz"))
        return ops_json(c, MHD_HTTP_OK, "{\"live\":true}", NULL, NULL);
    if (!strcmp(url, "/readyz")) {
        const char *why = cloud_health_not_ready();
        char body[64];
        snprintf(body, sizeof body, why ? "{\"ready\":false,\"reason\":\"%s\"}" : "{\"ready\":true}", why);
        return ops_json(c, why ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, body, why ? "Retry-After" : NULL, "1");
    }
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    char addr[64];
    peer_addr(c, addr, sizeof addr);
    pthread_mutex_lock(&h->rate_lock);   /* the buckets' own lock: never held across a database call */
    /* A spent budget is a 429 before the key is compared (rate_spent): else guessing went on
     * at full speed, a right guess the one 200 among the 429s. */
    bool spent = rate_spent_locked(h, "key", addr, h->cfg.anon_rate, h->cfg.anon_burst);
    bool right = !spent && auth && !strncasecmp(auth, "Bearer ", 7) && cloud_consttime_eq(auth + 7, h->admin_key);
    bool limited = spent || (!right && !rate_ok_locked(h, "key", addr, h->cfg.anon_rate, h->cfg.anon_burst));
    pthread_mutex_unlock(&h->rate_lock);
    if (!right) {
        if (limited)
            return ops_json(c, 429, "{\"error\":\"too many requests from this address\"}", "Retry-After", "1");
        return ops_json(c, MHD_HTTP_UNAUTHORIZED, "{\"error\":\"metrics: send Authorization: Bearer <admin key>\"}",
                        "WWW-Authenticate", "Bearer realm=\"smartcfg cloud\"");
    }
    int broker = cloud_health_broker_up();
    cloud_metrics_info_t info = {
        .version = SMARTCFG_VERSION_STRING, .start_time_s = h->cfg.start_time,
        .tls_not_after = { h->cfg.tls_ca_not_after, h->cfg.tls_cert_not_after },
        .store_errors = cloud_store_error_count(), .ready = !cloud_health_not_ready(),
        .store_up = cloud_health_store_up(), .broker_up = broker, .mqtt_connections = h->cfg.mqtt_gauge,
    };
    size_t cap = 8192;
    char *buf = malloc(cap);
    size_t need = buf ? cloud_metrics_render(buf, cap, &info) : 0;
    if (buf && need >= cap) {
        free(buf);
        cap = need + 1;
        buf = malloc(cap);
        need = buf ? cloud_metrics_render(buf, cap, &info) : 0;
    }
    if (!buf)
        return MHD_NO;
    enum MHD_Result r = send_ops(c, MHD_HTTP_OK, buf, need < cap ? need : cap - 1,
                                 "text/plain; version=0.0.4; charset=utf-8", NULL, NULL);
    free(buf);
    return r;
}

/* --rabbitmq: a question of RabbitMQ's auth backend (answered without the lock). */
static bool is_auth(const cloud_http_t *h, const char *url)
{
    return h->cfg.rabbitmq_vhost && cloud_authhttp_owns(url);
}

/* --rabbitmq: the broker asks about a device (cloud_authhttp.c), on this thread's own read
 * connection; if it cannot be opened, on the shared one, under the lock. */
static void auth_store_free(void *p)
{
    cloud_store_close(p);
    free(p);
}

static bool auth_late_poll(cloud_http_t *h);

/* The auth questions come from the RabbitMQ nodes, and only they need the answers: anyone
 * else who reaches the port could ask at will, and each refusal is an event (a flood of the
 * log and the console's list), so other sources are turned away before any question is read.
 * A v4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d and is compared as a.b.c.d. */
static bool auth_source_ok(cloud_http_t *h, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    int fam;
    const unsigned char *b;
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        fam = AF_INET;
        b = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        fam = IN6_IS_ADDR_V4MAPPED(a6) ? AF_INET : AF_INET6;
        b = a6->s6_addr + (fam == AF_INET ? 12 : 0);
    } else {
        return false;
    }
    for (int pass = 0; pass < 2; pass++) {   /* the second after a late name's answer came */
        for (unsigned i = 0, n = atomic_load(&h->n_auth_from); i < n; i++)
            if (h->auth_from[i].family == fam && !memcmp(h->auth_from[i].a, b, fam == AF_INET ? 4 : 16))
                return true;
        if (pass == 0 && !auth_late_poll(h))
            break;
    }
    pthread_mutex_lock(&h->rate_lock);
    int64_t now = cloud_now_ms();
    bool say = !h->auth_refused_logged || now - h->auth_refused_logged >= 60000; /* a word a minute */
    if (say)
        h->auth_refused_logged = now;
    pthread_mutex_unlock(&h->rate_lock);
    if (say) {
        char who[64];
        peer_addr(c, who, sizeof who);
        cloud_log("http: RabbitMQ auth question from %s refused: not an address of --rabbitmq-auth-from "
                  "(the next refusals within a minute are not logged)", who);
    }
    return false;
}

/* Adds one numeric address (sc_posix_lookup.h's form) to the list: 0, or -1 when it is full. */
static int auth_from_add(cloud_http_t *h, const char *addr)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai = NULL;
    if (getaddrinfo(addr, NULL, &hints, &ai) != 0)
        return 0;   /* never: the lookup gave it in numeric form */
    int rc = 0;
    for (struct addrinfo *x = ai; x && rc == 0; x = x->ai_next) {
        if (x->ai_family != AF_INET && x->ai_family != AF_INET6)
            continue;
        unsigned k = atomic_load(&h->n_auth_from);   /* one writer: the start, then late_mu's */
        if (k == AUTH_FROM_MAX) {
            rc = -1;
            break;
        }
        bool v4 = x->ai_family == AF_INET;
        const void *src = v4 ? (const void *)&((const struct sockaddr_in *)(const void *)x->ai_addr)->sin_addr
                             : (const void *)&((const struct sockaddr_in6 *)(const void *)x->ai_addr)->sin6_addr;
        h->auth_from[k].family = x->ai_family;
        memcpy(h->auth_from[k].a, src, v4 ? 4 : 16);
        atomic_store(&h->n_auth_from, k + 1);   /* after the entry: a reader sees it whole */
    }
    freeaddrinfo(ai);
    return rc;
}

/* How long the start waits for --rabbitmq-auth-from's names, all looked up at once on threads
 * of their own (sc_posix_lookup.h): a list given, 10 s (glibc's wait for a DNS server that does not
 * answer, which held the start as long for each name: then a start-up error); the default list
 * (the --rabbitmq nodes, whose names the worker has just looked up itself), 0.5 s: a name still
 * without an answer then is taken up when it has one (auth_late_poll). */
#define AUTH_FROM_WAIT_DEFAULT_MS 500
#define AUTH_FROM_WAIT_MS 10000
#define AUTH_FROM_ITEMS_MAX 64

/* --rabbitmq-auth-from: each item an address or a host name (all of its addresses). A name
 * of the default list (the --rabbitmq nodes) that does not resolve, or has no answer within
 * AUTH_FROM_WAIT_DEFAULT_MS, is skipped with a word: a node whose name is not known yet must
 * not stop the worker, which skips it too. */
static int auth_from_parse(cloud_http_t *h, const char *list, bool lenient, char *err, size_t errlen)
{
    char item[AUTH_FROM_ITEMS_MAX][256];
    sc_posix_lookup_t *lk[AUTH_FROM_ITEMS_MAX] = { NULL };
    int n_items = 0, rc = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof item[0] || n_items == AUTH_FROM_ITEMS_MAX) {
            snprintf(err, errlen, "--rabbitmq-auth-from: %s",
                     n == 0 ? "an empty item" : n >= sizeof item[0] ? "a name longer than 255 characters"
                                                                  : "more than 64 items");
            rc = -1;
            break;
        }
        memcpy(item[n_items], p, n);
        item[n_items][n] = 0;
        if (!(lk[n_items] = sc_posix_lookup_start(item[n_items]))) {
            snprintf(err, errlen, "--rabbitmq-auth-from: %s: cannot start its lookup", item[n_items]);
            rc = -1;
            break;
        }
        n_items++;
        p += n + (p[n] == ',');
    }
    int64_t until = cloud_now_ms() + (lenient ? AUTH_FROM_WAIT_DEFAULT_MS : AUTH_FROM_WAIT_MS);
    for (int i = 0; i < n_items && rc == 0; i++) {
        sc_posix_addr_t got[SC_POSIX_ADDRS_MAX];
        const char *why = "";
        int n;
        while ((n = sc_posix_lookup_poll(lk[i], got, SC_POSIX_ADDRS_MAX, &why)) < 0 && cloud_now_ms() < until) {
            struct timespec ts = { 0, 10 * 1000000L };
            nanosleep(&ts, NULL);
        }
        char what[120];
        snprintf(what, sizeof what, "%s", n < 0 ? "no answer from the resolver in time" : why);
        if (n < 0 && lenient && h->n_late < sizeof h->late / sizeof h->late[0]) {
            cloud_log("http: RabbitMQ node %s: no answer from the resolver yet; its auth questions are answered once "
                      "it has one (--rabbitmq-auth-from)", item[i]);
            h->late[h->n_late].lk = lk[i];
            snprintf(h->late[h->n_late].name, sizeof h->late[0].name, "%.255s", item[i]);   /* (each item is shorter) */
            h->n_late++;
            lk[i] = NULL;
            continue;
        }
        if (n <= 0 && lenient) {
            cloud_log("http: RabbitMQ node %s: %s; its auth questions are not answered (--rabbitmq-auth-from)",
                      item[i], what);
            continue;
        }
        if (n <= 0) {
            snprintf(err, errlen, "--rabbitmq-auth-from: %s: %s", item[i], what);
            rc = -1;
        }
        for (int k = 0; k < n && k < SC_POSIX_ADDRS_MAX && rc == 0; k++)
            if (auth_from_add(h, got[k]) != 0) {
                snprintf(err, errlen, "--rabbitmq-auth-from: more than %d addresses", AUTH_FROM_MAX);
                rc = -1;
            }
    }
    for (int i = 0; i < n_items; i++)
        sc_posix_lookup_drop(lk[i]);   /* one still under way ends on its own thread */
    return rc;
}

/* The default list's names that had no answer at start, polled when a question comes from a
 * source not in the list (any HTTP thread): the answered ones' addresses are added. true when
 * the list grew. */
static bool auth_late_poll(cloud_http_t *h)
{
    bool grew = false;
    pthread_mutex_lock(&h->late_mu);
    for (unsigned i = 0; i < h->n_late;) {
        sc_posix_addr_t got[SC_POSIX_ADDRS_MAX];
        const char *why = "";
        int n = sc_posix_lookup_poll(h->late[i].lk, got, SC_POSIX_ADDRS_MAX, &why);
        if (n < 0) {
            i++;
            continue;
        }
        if (n == 0)
            cloud_log("http: RabbitMQ node %s: %s; its auth questions are not answered (--rabbitmq-auth-from)",
                      h->late[i].name, why);
        else
            cloud_log("http: RabbitMQ node %s: the resolver answered; its auth questions are answered now",
                      h->late[i].name);
        for (int k = 0; k < n && k < SC_POSIX_ADDRS_MAX; k++)
            grew |= auth_from_add(h, got[k]) == 0;
        sc_posix_lookup_drop(h->late[i].lk);
        h->late[i] = h->late[--h->n_late];
    }
    pthread_mutex_unlock(&h->late_mu);
    return grew;
}

static void auth_late_free(cloud_http_t *h)
{
    for (unsigned i = 0; i < h->n_late; i++)
        sc_posix_lookup_drop(h->late[i].lk);
    h->n_late = 0;
    pthread_mutex_destroy(&h->late_mu);
}

static bool lock_bounded(cloud_http_t *h);
static void conn_phase(cloud_http_t *h, struct MHD_Connection *c, int phase);
static void unlock_api(cloud_http_t *h);
static enum MHD_Result busy_answer(cloud_http_t *h, struct MHD_Connection *c, const char *url);

static enum MHD_Result auth_answer(cloud_http_t *h, struct MHD_Connection *c, const char *url, const char *method,
                                   const req_t *rq)
{
    cloud_store_t *st = h->auth_key_made ? pthread_getspecific(h->auth_key) : NULL;
    if (!st && h->auth_key_made && (st = calloc(1, sizeof *st)) != NULL) {
        char err[200] = "out of thread-specific slots";
        /* lazy: opened while the database was down, the open waited the whole --db-wait with
         * the question unanswered, then this thread shared the lock's connection for good (F41) */
        if (cloud_store_open_lazy(st, h->cfg.dbpath, err, sizeof err) != 0 ||
            pthread_setspecific(h->auth_key, st) != 0) {
            cloud_log("http: auth thread: no own database connection, sharing one: %s", err);
            auth_store_free(st);
            st = NULL;
        } else {
            pool_store_waits(st);
        }
    }
    if (st)
        return cloud_authhttp_route(st, c, url, method, rq->buf, rq->len, h->cfg.rabbitmq_vhost);
    if (!lock_bounded(h))
        return busy_answer(h, c, url);
    enum MHD_Result r = cloud_authhttp_route(&h->store, c, url, method, rq->buf, rq->len, h->cfg.rabbitmq_vhost);
    unlock_api(h);
    return r;
}

static enum MHD_Result handle(cloud_http_t *h, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    req_t *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        rq->auth = is_auth(h, url);
        rq->ops = is_ops(url);
        /* A firmware upload streams to a file, authorised before its first byte is kept. */
        if (cloud_ota_upload_url(url, method)) {
            rq->streamed = true;
            if (h->cfg.ota && admin_authorized(h, c, method))
                rq->up = cloud_ota_upload_open(h->cfg.ota, url);
        }
        return MHD_YES;
    }
    if (*upload_size && rq->streamed) {
        cloud_ota_upload_data(rq->up, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_big) {
            if (rq->len + *upload_size > BODY_MAX) {
                rq->too_big = true;
            } else {
                char *nb = realloc(rq->buf, rq->len + *upload_size + 1);
                if (!nb)
                    return MHD_NO;
                rq->buf = nb;
                memcpy(rq->buf + rq->len, upload, *upload_size);
                rq->len += *upload_size;
                rq->buf[rq->len] = 0;
            }
        }
        *upload_size = 0;   /* consumed (or dropped) */
        return MHD_YES;
    }
    if (rq->too_big)
        return admin_error(c, 413, "request body larger than 16 KiB");
    if (rq->ops)
        return ops_route(h, c, url, method);
    if (rq->auth)
        return auth_source_ok(h, c) ? auth_answer(h, c, url, method, rq)
                                    : admin_error(c, 403, "RabbitMQ auth questions are answered to its nodes only");
    int64_t now = cloud_now();
    if (now != h->last_gc) {   /* at most once a second, by the one request holding the store */
        h->last_gc = now;
        cloud_store_gc(&h->store, now, h->cfg.token_grace, DYNREG_WINDOW);
    }
    return route(h, c, url, method, rq);
}

/* A request that may wait on the database starts (struct cloud_http): false when it must be
 * answered "busy" instead, the last free thread being kept for the probes. */
static bool api_enter(cloud_http_t *h, unsigned *slot)
{
    *slot = POOL_MAX;
    if (atomic_load(&h->stopping))   /* so the stop sees the requests in flight end */
        return false;
    int64_t now = cloud_now_ms();
    unsigned n = atomic_fetch_add(&h->busy, 1) + 1;
    bool stuck = false;
    for (unsigned i = 0; i < h->pool && i < POOL_MAX; i++) {
        int_fast64_t t = atomic_load(&h->since[i]), zero = 0;
        if (t && now - t > STUCK_MS)
            stuck = true;
        if (*slot == POOL_MAX && !t && atomic_compare_exchange_strong(&h->since[i], &zero, now))
            *slot = i;
    }
    if (n >= h->pool && stuck) {
        if (*slot < POOL_MAX)
            atomic_store(&h->since[*slot], 0);
        atomic_fetch_sub(&h->busy, 1);
        return false;
    }
    return true;
}

static void api_leave(cloud_http_t *h, unsigned slot)
{
    if (slot < POOL_MAX)
        atomic_store(&h->since[slot], 0);
    atomic_fetch_sub(&h->busy, 1);
}

/* The lock, waited for at most LOCK_WAIT_MS, and given up at once when its holder has had it
 * for over STUCK_MS (waiting on the database: the wait would only keep this thread, and any
 * connection it took meanwhile, from its poll loop). Slices of 20 ms on the monotonic clock
 * (pthread_mutex_timedlock's, the wall clock, would hold a slice as long as a step back). */
static bool lock_bounded(cloud_http_t *h)
{
    int64_t start = cloud_now_ms();
    for (;;) {
        int64_t now = cloud_now_ms(), held = atomic_load(&h->held_since);
        if (now - start >= LOCK_WAIT_MS || (held && now - held > STUCK_MS))
            return false;
        struct timespec ts = sc_posix_time_in(CLOCK_MONOTONIC, 20);
        if (pthread_mutex_clocklock(&h->lock, CLOCK_MONOTONIC, &ts) == 0) {
            atomic_store(&h->held_since, cloud_now_ms());
            return true;
        }
    }
}

static void unlock_api(cloud_http_t *h)
{
    atomic_store(&h->held_since, 0);
    pthread_mutex_unlock(&h->lock);
}

static enum MHD_Result busy_answer(cloud_http_t *h, struct MHD_Connection *c, const char *url)
{
    cloud_metrics_inc(CLOUD_M_HTTP_BUSY);
    int64_t now = cloud_now_ms();   /* a word every 10 s at most: this is what a stuck database makes */
    static atomic_int_fast64_t said;
    int_fast64_t last = atomic_load(&said);
    if (!atomic_load(&h->stopping) && (!last || now - last >= 10000) &&
        atomic_compare_exchange_strong(&said, &last, now))
        cloud_log("http: requests answered 503 busy: one waits on the database (%s)",
                  h->cfg.rabbitmq_vhost ? "or RabbitMQ's auth questions fill the threads" : "see GET /readyz");
    const char *msg = "the server is busy (a request waits on the database), retry later";
    cJSON *o = cJSON_CreateObject();
    if (!strcmp(url, "/tokenapi")) {   /* the token API's envelope, as its other errors */
        cJSON *data = cJSON_CreateObject(), *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "code", 503);
        cJSON_AddStringToObject(o, "msg", msg);
        cJSON_AddStringToObject(e, "Code", "InternalError.ServerBusy");
        cJSON_AddStringToObject(e, "Message", msg);
        cJSON_AddItemToObject(data, "Error", e);
        cJSON_AddItemToObject(o, "data", data);
    } else {
        cJSON_AddStringToObject(o, "error", msg);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Retry-After", "1");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, r);
    MHD_destroy_response(r);
    return ret;
}

/* When this pool thread's last call that held it STUCK_MS or more ended (HTTP_LOCK_WAIT_MS) */
static _Thread_local int64_t held_end;

static conn_ent_t *conn_of(struct MHD_Connection *c);

/* A request of the turn in which this thread was just held: its connection was accepted before
 * the hold ended (a new one, accepted in a later turn, is not) and the hold ended less than
 * CHAIN_MS ago. It is answered busy rather than wait on the database in turn. */
static bool chained(struct MHD_Connection *c)
{
    if (!held_end || cloud_now_ms() - held_end >= CHAIN_MS)
        return false;
    const conn_ent_t *e = conn_of(c);
    return e && e->born < held_end;
}

/* The first call of a request (flags, an upload's file) and the body's pieces (a buffer of the
 * connection's own, or the upload's file) need no lock: one connection is served by one thread.
 * The call that answers does, unless it is a probe or (own connection) a RabbitMQ auth answer;
 * both of those that may wait on the database pass api_enter. */
static enum MHD_Result handler_call(cloud_http_t *h, struct MHD_Connection *c, const char *url, const char *method,
                                    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    const req_t *rq = *con_cls;
    if (!rq) {   /* the header is complete: the body's deadline, or none for an admin's upload */
        enum MHD_Result r = handle(h, c, url, method, version, upload, upload_size, con_cls);
        rq = *con_cls;
        conn_phase(h, c, rq && rq->up ? PH_DONE : PH_BODY);
        return r;
    }
    if (!*upload_size)   /* the body is complete: the answer has no deadline here */
        conn_phase(h, c, PH_DONE);
    if (rq->ops || *upload_size || rq->too_big)
        return handle(h, c, url, method, version, upload, upload_size, con_cls);
    unsigned slot;
    if (chained(c) || !api_enter(h, &slot))
        return busy_answer(h, c, url);
    enum MHD_Result r;
    if (rq->auth) {
        r = handle(h, c, url, method, version, upload, upload_size, con_cls);
    } else if (!lock_bounded(h)) {
        r = busy_answer(h, c, url);
    } else {
        r = handle(h, c, url, method, version, upload, upload_size, con_cls);
        unlock_api(h);
    }
    api_leave(h, slot);
    return r;
}

/* libmicrohttpd's access handler: handler_call, noting a call that held the thread */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    int64_t from = cloud_now_ms();
    enum MHD_Result r = handler_call(cls, c, url, method, version, upload, upload_size, con_cls);
    int64_t to = cloud_now_ms();
    if (to - from >= STUCK_MS)
        held_end = to;
    return r;
}

/* conn_ent of c; NULL when its notice found no memory (it then has libmicrohttpd's limits only) */
static conn_ent_t *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void conn_phase(cloud_http_t *h, struct MHD_Connection *c, int phase)
{
    conn_ent_t *e = conn_of(c);
    if (!e)
        return;
    pthread_mutex_lock(&h->conn_lock);
    if (e->phase != phase) {
        e->phase = phase;
        e->since = cloud_now_ms();
    }
    pthread_mutex_unlock(&h->conn_lock);
}

/* Shut e down (conn_lock held): libmicrohttpd reads the end of its stream and closes it. A
 * slow one is counted (metric, log); one whose peer is gone is only tidied. */
static void conn_shut_as(cloud_http_t *h, conn_ent_t *e, bool slow)
{
    shutdown(e->fd, SHUT_RDWR);
    e->shut = true;
    h->n_shut++;
    if (slow) {
        h->slow_unlogged++;
        cloud_metrics_inc(CLOUD_M_HTTP_SLOW_CLOSED);
    }
}

static void conn_shut(cloud_http_t *h, conn_ent_t *e)
{
    conn_shut_as(h, e, true);
}

/* Whether the peer of an unfinished request has closed its side and all it sent has been read:
 * the request can never be completed. libmicrohttpd's epoll is edge-triggered: an end of
 * stream that came with a request's last bytes raises no further event, so such a connection
 * kept its descriptor until the 5 s idle timeout (8 of 20 half requests closed by their client
 * in a probe; cloud_soak's descriptors grew by 9-13 over its cycles). */
static bool peer_gone(int fd)
{
    char b;
    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static void slow_log_locked(cloud_http_t *h, int64_t now)
{
    if (h->slow_unlogged && (!h->slow_logged || now - h->slow_logged >= 10000)) {
        cloud_log("http: closed %u connection(s) whose request did not arrive in time (%d s for the header, "
                  "%d s for the body) or that were the oldest unfinished when the connections ran short",
                  h->slow_unlogged, HEADER_DEADLINE_MS / 1000, BODY_DEADLINE_MS / 1000);
        h->slow_unlogged = 0;
        h->slow_logged = now;
    }
}

static void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code)
{
    cloud_http_t *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_ent_t *e = ci ? calloc(1, sizeof *e) : NULL;
        *socket_context = e;
        if (!e)
            return;
        e->fd = ci->connect_fd;
        e->phase = PH_HEADER;
        e->since = e->born = cloud_now_ms();
        pthread_mutex_lock(&h->conn_lock);
        e->next = h->conns;
        if (h->conns)
            h->conns->prev = e;
        h->conns = e;
        h->n_conns++;
        /* past the mark: the oldest unfinished request goes, and one more for each connection
         * (or descriptor) beyond the mark, up to EVICT_MAX (closings libmicrohttpd has yet to
         * see keep their descriptors a while: they must not reach the hard limits) */
        long over = (long)(h->n_conns - h->n_shut) - (long)h->conn_high, fover = (long)e->fd - h->fd_high + 1;
        if (fover > over)
            over = fover;
        for (long k = over > EVICT_MAX ? EVICT_MAX : over; k > 0; k--) {
            conn_ent_t *old = NULL;
            for (conn_ent_t *o = e->next; o; o = o->next)
                if (!o->shut && o->phase != PH_DONE && (!old || o->since < old->since))
                    old = o;
            if (!old)
                break;
            conn_shut(h, old);
        }
        pthread_mutex_unlock(&h->conn_lock);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_ent_t *e = *socket_context;
        *socket_context = NULL;
        if (!e)
            return;
        pthread_mutex_lock(&h->conn_lock);
        if (e->prev)
            e->prev->next = e->next;
        else
            h->conns = e->next;
        if (e->next)
            e->next->prev = e->prev;
        h->n_conns--;
        if (e->shut)
            h->n_shut--;
        pthread_mutex_unlock(&h->conn_lock);
        free(e);
    }
}

/* Every REAP_EVERY_MS: the connections past their request's deadline are shut down, and those
 * whose request can no longer come (peer_gone). */
static void *reaper_main(void *arg)
{
    cloud_http_t *h = arg;
    pthread_mutex_lock(&h->conn_lock);
    while (!h->reap_stop) {
        struct timespec ts = sc_posix_time_in(CLOCK_MONOTONIC, REAP_EVERY_MS);   /* reap_cv's clock */
        pthread_cond_timedwait(&h->reap_cv, &h->conn_lock, &ts);
        int64_t now = cloud_now_ms();
        for (conn_ent_t *e = h->conns; e; e = e->next) {
            if (e->shut || e->phase == PH_DONE)
                continue;
            if (now - e->since > (e->phase == PH_HEADER ? HEADER_DEADLINE_MS : BODY_DEADLINE_MS))
                conn_shut(h, e);
            else if (peer_gone(e->fd))
                conn_shut_as(h, e, false);
        }
        slow_log_locked(h, now);
    }
    pthread_mutex_unlock(&h->conn_lock);
    return NULL;
}

/* libmicrohttpd's messages, as its own logger writes them, less the line it writes for each
 * connection closed with its request unfinished: under a slow-client attack that is every
 * connection shut down above (hundreds a second); those are counted and summed up instead. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (strstr(fmt, "closed by remote side with incomplete request"))
        return;
    vfprintf(stderr, fmt, ap);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    conn_phase(cls, c, PH_HEADER);   /* a kept-alive connection's next request: its header's deadline */
    req_t *rq = *con_cls;
    if (rq) {
        cloud_ota_upload_free(rq->up);
        free(rq->buf);
        free(rq);
    }
    *con_cls = NULL;
}

cloud_http_t *cloud_http_start(const cloud_http_cfg_t *cfg, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", cfg->port);
    int gr = getaddrinfo(cfg->host, ps, &hints, &ai);
    if (gr != 0) {
        snprintf(err, errlen, "HTTP address %s: %s", cfg->host, gai_strerror(gr));
        return NULL;
    }
    cloud_http_t *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(ai);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->cfg = *cfg;
    h->cfg.rabbitmq_auth_from = NULL;   /* resolved here; the text is the caller's */
    pthread_mutex_init(&h->late_mu, NULL);
    if (cfg->rabbitmq_vhost && auth_from_parse(h, cfg->rabbitmq_auth_from ? cfg->rabbitmq_auth_from : "",
                                                   cfg->rabbitmq_auth_from_default, err, errlen)) {
        auth_late_free(h);
        free(h);
        freeaddrinfo(ai);
        return NULL;
    }
    snprintf(h->admin_key, sizeof h->admin_key, "%s", cfg->admin_key);
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_init(&h->rate_lock, NULL);
    pthread_mutex_init(&h->conn_lock, NULL);
    sc_posix_cond_init(&h->reap_cv);
    h->conn_high = cfg->conn_limit > 2 * CONN_RESERVE ? cfg->conn_limit - CONN_RESERVE : cfg->conn_limit / 2;
    /* epoll where there is one: select(2) cannot watch a descriptor from FD_SETSIZE (1 024) on,
     * and the MQTT gate's connections take the process's low descriptors (2 each): with 900 of
     * them open every new HTTP connection was refused, /healthz too (F94). Without epoll, select
     * stays and the descriptors past FD_SETSIZE - CONN_RESERVE count as connections running
     * short (conn_notify). */
    bool epoll = MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES;
    h->fd_high = INT_MAX;
    if (!epoll) {
        struct rlimit rl;
        long fds = FD_SETSIZE;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < fds)
            fds = (long)rl.rlim_cur;
        h->fd_high = fds > 2 * CONN_RESERVE ? (int)(fds - CONN_RESERVE) : (int)(fds / 2);
    }
    /* at least 2: one for the probes while another waits on the database (struct cloud_http) */
    h->pool = cfg->threads < 2 ? 2 : cfg->threads > POOL_MAX ? POOL_MAX : cfg->threads;
    h->auth_key_made = cfg->rabbitmq_vhost && pthread_key_create(&h->auth_key, auth_store_free) == 0;
    if (cloud_store_open(&h->store, cfg->dbpath, err, errlen) != 0) {
        if (h->auth_key_made)
            pthread_key_delete(h->auth_key);
        pthread_mutex_destroy(&h->lock);
        pthread_mutex_destroy(&h->rate_lock);
        auth_late_free(h);
        pthread_mutex_destroy(&h->conn_lock);
        pthread_cond_destroy(&h->reap_cv);
        free(h);
        freeaddrinfo(ai);
        return NULL;
    }
    pool_store_waits(&h->store);
    /* Suspend/resume: the console's event streams wait parked, not in the daemon's thread. */
    unsigned flags = (epoll ? MHD_USE_EPOLL_INTERNAL_THREAD : MHD_USE_INTERNAL_POLLING_THREAD) | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (cfg->tls_cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "this libmicrohttpd has no TLS support");
            goto fail;
        }
        flags |= MHD_USE_TLS;
        h->cert = cloud_read_file(cfg->tls_cert, 1 << 20);
        h->key = cloud_read_file(cfg->tls_key, 1 << 20);
        if (!h->cert || !h->key) {
            snprintf(err, errlen, "cannot read the HTTPS certificate %s or key %s", cfg->tls_cert, cfg->tls_key);
            goto fail;
        }
    }
    /* Limits (docs/cloud.md "Limits"): a whole-server cap, a cap per source address so one
     * host cannot take every slot (F2), and an idle timeout short enough that a client
     * trickling one header line every few seconds is cut. A legitimate request is one
     * round trip well under a second. */
    struct MHD_OptionItem tls[] = {
        { MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, h->key },
        { MHD_OPTION_END, 0, NULL },
    };
    if (!h->cert)
        tls[0].option = MHD_OPTION_END;
    /* Workers on one host share the port (SO_REUSEPORT): the kernel spreads the connections and
     * a dead worker's share goes to the others. Only when asked: "false" here would also drop
     * MHD's usual SO_REUSEADDR, and a restarted cloud would meet its own TIME_WAIT. */
    struct MHD_OptionItem reuse[] = {
        { MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    if (!cfg->reuse_port)
        reuse[0].option = MHD_OPTION_END;
    struct MHD_OptionItem pool[] = {
        { MHD_OPTION_THREAD_POOL_SIZE, h->pool, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    h->d = MHD_start_daemon(flags, cfg->port, NULL, NULL, handler, h,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, h,
                            MHD_OPTION_NOTIFY_CONNECTION, conn_notify, h,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout,
                            MHD_OPTION_CONNECTION_LIMIT, cfg->conn_limit,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_limit,
                            MHD_OPTION_ARRAY, reuse,
                            MHD_OPTION_ARRAY, pool,
                            MHD_OPTION_ARRAY, tls,
                            MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen for HTTP on %s:%u (in use?)", cfg->host, cfg->port);
        goto fail;
    }
    freeaddrinfo(ai);
    h->reaper_made = pthread_create(&h->reaper, NULL, reaper_main, h) == 0;
    if (!h->reaper_made)
        cloud_log("http: cannot start the slow-client reaper: requests have the idle timeout only");
    cloud_console_start();
    return h;
fail:
    freeaddrinfo(ai);
    cloud_store_close(&h->store);
    if (h->auth_key_made)
        pthread_key_delete(h->auth_key);
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->rate_lock);
    auth_late_free(h);
    pthread_mutex_destroy(&h->conn_lock);
    pthread_cond_destroy(&h->reap_cv);
    free(h->cert);
    free(h->key);
    free(h);
    return NULL;
}

bool cloud_http_stop(cloud_http_t *h)
{
    if (!h)
        return true;
    cloud_console_stop();
    /* MHD_stop_daemon joins the pool: a request stuck in a query to a database cut off without
     * a reset (libpq waits for TCP to give up: minutes or hours) held the stop as long. SQLite's
     * waits end within its 5 s busy timeout; after that the request and the daemon are left
     * behind, with their connections, for the process's exit to end. New requests meanwhile
     * are answered busy (api_enter), so a steady flow (RabbitMQ's questions) cannot keep the
     * count above 0. */
    atomic_store(&h->stopping, true);
    for (int i = 0; i < 500 && atomic_load(&h->busy); i++)
        nanosleep(&(struct timespec){ 0, 10 * 1000000L }, NULL);
    if (atomic_load(&h->busy)) {
        cloud_log("http: %u request(s) still wait on the database; not waiting for them", atomic_load(&h->busy));
        return false;
    }
    if (h->reaper_made) {
        pthread_mutex_lock(&h->conn_lock);
        h->reap_stop = true;
        pthread_cond_signal(&h->reap_cv);
        pthread_mutex_unlock(&h->conn_lock);
        pthread_join(h->reaper, NULL);
    }
    MHD_stop_daemon(h->d);   /* joins the pool: each thread's auth connection is closed by now */
    while (h->conns) {       /* none left: each had its CLOSED notice (defensive) */
        conn_ent_t *e = h->conns;
        h->conns = e->next;
        free(e);
    }
    cloud_store_close(&h->store);
    if (h->auth_key_made)
        pthread_key_delete(h->auth_key);
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->rate_lock);
    auth_late_free(h);
    pthread_mutex_destroy(&h->conn_lock);
    pthread_cond_destroy(&h->reap_cv);
    free(h->cert);
    free(h->key);
    free(h);
    return true;
}
