/* SPDX-License-Identifier: Apache-2.0 */
/* The web console of `smartcfg cloud` (docs/cloud.md "Console"): static pages embedded in the
 * binary, a login by one-time link that trades for an HttpOnly SameSite=Strict session cookie,
 * a JSON snapshot of the registry and a server-sent event stream of the cloud's events.
 *
 * Threads: the HTTP daemon's one thread calls cloud_console_route/_authorized (it owns the
 * store); cloud_console_publish is called from any thread (cloud_event), so the event ring and
 * the parked SSE connections live under one mutex. An SSE connection with nothing to send is
 * suspended (MHD_suspend_connection) and resumed by the next event or by the keep-alive
 * ticker, so no thread ever waits inside the daemon. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "cloud.h"
#include "console.h"
#include "sc_posix.h"

#define SESSIONS 16            /* browsers logged in at once; the oldest is dropped */
#define SESSION_TTL (12 * 3600)
#define LOGIN_TTL 3600         /* a login link not used within an hour is dead */
#define RING 256               /* events kept for late SSE subscribers */
#define STREAMS 8              /* SSE connections at once: each holds an HTTP slot */
#define KEEPALIVE_S 15         /* a comment line so a closed tab frees its slot */
#define COOKIE "sc_console"

/* The session's and the login link's lifetimes are on the monotonic clock (cloud_now_ms): on
 * the wall clock a step forward ended every session, and a step back kept a session, or a
 * login link someone saw, alive that much longer than its 12 h (1 h). */
typedef struct {
    char id[65], csrf[65];
    int64_t expire;   /* cloud_now_ms() */
} session_t;

/* One event of the ring: its text for the streams, and, read once when it is published, what
 * the state snapshot needs to say when a device was last heard of (last_seen), so that a
 * snapshot never parses the ring again (it used to parse all of it once per device: 256 events
 * of up to 16 KiB each, a device's own data-template reports, times every device). */
typedef struct {
    char *json;
    const char *seen;          /* one of seen_kinds[], or NULL */
    double ts;                 /* the event's ts, s */
    char pid[65], dn[49];      /* product_id/device_name, or "" */
    char client[128];          /* the broker's client id (product id + device name), or "" */
} ring_t;

typedef struct {
    struct MHD_Connection *c;
    uint64_t next;             /* sequence number of the next event to send */
    bool parked, used, hello;
} stream_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t ticker;
    bool running, stopping;
    char login[65];
    int64_t login_expire;      /* cloud_now_ms() */
    session_t sess[SESSIONS];
    ring_t ring[RING];
    uint64_t seq;              /* events published so far */
    stream_t streams[STREAMS];
} con = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* ---- events -------------------------------------------------------------------------------- */

static void resume_all_locked(void)
{
    for (size_t i = 0; i < STREAMS; i++) {
        if (con.streams[i].used && con.streams[i].parked) {
            con.streams[i].parked = false;
            MHD_resume_connection(con.streams[i].c);
        }
    }
}

/* Fields that must never reach a browser, whatever event carries them. Bind tokens in events
 * are already abbreviated (cloud_abbrev_token); longer values are cut again here. */
static void scrub(cJSON *o)
{
    static const char *const secret[] = { "admin_key", "product_secret", "device_secret", "psk", "password",
                                          "console_url", "AccessToken" };
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, secret[i]);
    cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "token");
    if (cJSON_IsString(t) && strlen(t->valuestring) > 9) {
        char ab[16];
        cloud_abbrev_token(t->valuestring, ab);
        cJSON_SetValuestring(t, ab);
    }
}

/* The events that tell when a device was last heard of (the state's last_seen/last_event). */
static const char *const seen_kinds[] = { "device_connected", "bind_result", "bind_query", "device_refused" };

static void copy_field(const cJSON *o, const char *key, char *out, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
    out[0] = 0;
    if (n && n < len)   /* too long for any registered device: it names none */
        memcpy(out, v->valuestring, n + 1);
}

void cloud_console_publish(const cJSON *ev)
{
    cJSON *o = cJSON_Duplicate(ev, 1);
    if (!o)
        return;
    scrub(o);
    ring_t r = { .json = cJSON_PrintUnformatted(o) };
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "event"), *t = cJSON_GetObjectItemCaseSensitive(o, "ts");
    for (size_t k = 0; cJSON_IsString(e) && cJSON_IsNumber(t) && k < sizeof seen_kinds / sizeof seen_kinds[0]; k++)
        if (!strcmp(e->valuestring, seen_kinds[k]))
            r.seen = seen_kinds[k];
    if (r.seen) {
        r.ts = t->valuedouble / 1000.0;   /* events: Unix ms (docs/json.md); the state API: s */
        copy_field(o, "product_id", r.pid, sizeof r.pid);
        copy_field(o, "device_name", r.dn, sizeof r.dn);
        copy_field(o, "client", r.client, sizeof r.client);
    }
    cJSON_Delete(o);
    if (!r.json)
        return;
    pthread_mutex_lock(&con.lock);
    free(con.ring[con.seq % RING].json);
    con.ring[con.seq % RING] = r;
    con.seq++;
    if (con.running)
        resume_all_locked();
    pthread_mutex_unlock(&con.lock);
}

static void *ticker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&con.lock);
    while (!con.stopping) {
        struct timespec ts = sc_posix_time_in(CLOCK_MONOTONIC, KEEPALIVE_S * 1000);   /* con.cond's clock */
        pthread_cond_timedwait(&con.cond, &con.lock, &ts);
        for (size_t i = 0; i < STREAMS; i++)
            con.streams[i].hello = true;   /* each stream sends a keep-alive comment */
        resume_all_locked();
    }
    pthread_mutex_unlock(&con.lock);
    return NULL;
}

static void new_login_locked(void)
{
    cloud_random_hex(con.login, 64);
    con.login_expire = cloud_now_ms() + LOGIN_TTL * 1000LL;
}

/* The ticker's wait on the monotonic clock: on the wall clock a step back stopped the
 * keep-alives (a proxy then closes the stream) for as long. Once, before the ticker waits. */
static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
static void cond_init(void)
{
    sc_posix_cond_init(&con.cond);
}

int cloud_console_start(void)
{
    pthread_once(&cond_once, cond_init);
    pthread_mutex_lock(&con.lock);
    con.login[0] = 0;   /* no link until one is asked for (--console-link, POST /v1/console/login) */
    con.stopping = false;
    con.running = pthread_create(&con.ticker, NULL, ticker, NULL) == 0;
    bool ok = con.running;
    pthread_mutex_unlock(&con.lock);
    return ok ? 0 : -1;
}

void cloud_console_stop(void)
{
    /* MHD_stop_daemon must not find a suspended connection: wake them all; the reader sees
     * `stopping` and ends each stream. */
    pthread_mutex_lock(&con.lock);
    bool was = con.running;
    con.stopping = true;
    resume_all_locked();
    con.running = false;
    pthread_cond_broadcast(&con.cond);
    pthread_mutex_unlock(&con.lock);
    if (was)
        pthread_join(con.ticker, NULL);
}

void cloud_console_login_url(bool https, const char *host, unsigned port, char *out, size_t len)
{
    pthread_mutex_lock(&con.lock);
    if (!con.login[0] || cloud_now_ms() > con.login_expire)
        new_login_locked();
    bool v6 = strchr(host, ':') != NULL;
    snprintf(out, len, "%s://%s%s%s:%u/console/login?code=%s", https ? "https" : "http", v6 ? "[" : "", host,
             v6 ? "]" : "", port, con.login);
    pthread_mutex_unlock(&con.lock);
}

/* ---- sessions ------------------------------------------------------------------------------ */

static session_t *session_of(struct MHD_Connection *c)
{
    const char *id = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
    if (!id || strlen(id) != 64)
        return NULL;
    int64_t now = cloud_now_ms();
    for (size_t i = 0; i < SESSIONS; i++)
        if (con.sess[i].id[0] && con.sess[i].expire > now && cloud_consttime_eq(id, con.sess[i].id))
            return &con.sess[i];
    return NULL;
}

bool cloud_console_authorized(struct MHD_Connection *c, const char *method)
{
    pthread_mutex_lock(&con.lock);
    session_t *s = session_of(c);
    bool ok = false;
    if (s) {
        /* Reads need the cookie; changes also need the CSRF token, which only a page of ours
         * can read (from /console/api/state) and which a cross-site form cannot send as a header. */
        const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
        ok = !strcmp(method, "GET") || (tok && cloud_consttime_eq(tok, s->csrf));
    }
    pthread_mutex_unlock(&con.lock);
    return ok;
}

/* ---- responses ----------------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const void *body,
                             size_t len, bool copy)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    /* The console is all ours: no inline script, no frames, nothing from elsewhere. */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result page_text(struct MHD_Connection *c, unsigned status, const char *msg)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "<!doctype html><meta charset=utf-8><title>smartcfg cloud</title><p>%s</p>\n", msg);
    return reply(c, status, "text/html; charset=utf-8", buf, (size_t)n, true);
}

static enum MHD_Result login(struct MHD_Connection *c, bool https)
{
    const char *code = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "code");
    pthread_mutex_lock(&con.lock);
    bool ok = code && con.login[0] && cloud_now_ms() <= con.login_expire && cloud_consttime_eq(code, con.login);
    char cookie[160];
    if (ok) {
        memset(con.login, 0, sizeof con.login);   /* one use only */
        session_t *s = &con.sess[0];
        for (size_t i = 0; i < SESSIONS; i++)
            if (con.sess[i].expire < s->expire)
                s = &con.sess[i];
        cloud_random_hex(s->id, 64);
        cloud_random_hex(s->csrf, 64);
        s->expire = cloud_now_ms() + SESSION_TTL * 1000LL;
        /* Secure under --tls: the browser then never sends the cookie over plain HTTP. */
        snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", s->id,
                 SESSION_TTL, https ? "; Secure" : "");
    }
    pthread_mutex_unlock(&con.lock);
    if (!ok) {
        cloud_log("console login refused: link unknown, used or expired");
        return page_text(c, 403, "This login link is unknown, used or expired. Get a new one with "
                                 "<code>POST /v1/console/login</code> and the admin key (docs/cloud.md, Console).");
    }
    cloud_log("console: a browser logged in");
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Set-Cookie", cookie);
    /* Off the URL at once, so the spent code is not left in the address bar or history. */
    MHD_add_response_header(r, "Location", "/console/");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    enum MHD_Result ret = MHD_queue_response(c, 303, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result logout(struct MHD_Connection *c)
{
    pthread_mutex_lock(&con.lock);
    session_t *s = session_of(c);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&con.lock);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Set-Cookie", COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    enum MHD_Result ret = MHD_queue_response(c, 204, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- registry snapshot --------------------------------------------------------------------- */

static const char *col(cloud_rows_t *st, int i)
{
    return cloud_rows_text(st, i);
}

/* Last time each device was heard of (connected, bound) in this run: from the event ring's
 * summaries (no parsing here: this runs once per device of a snapshot, under the lock). */
static void last_seen(const char *pid, const char *dn, double *ts, const char **what)
{
    *ts = 0;
    *what = "";
    size_t pl = strlen(pid);
    for (uint64_t i = con.seq > RING ? con.seq - RING : 0; i < con.seq; i++) {
        const ring_t *r = &con.ring[i % RING];
        if (!r->seen)
            continue;
        /* The broker plugin names a device by its MQTT client id (product id + device name). */
        bool me = (r->pid[0] && r->dn[0] && !strcmp(r->pid, pid) && !strcmp(r->dn, dn)) ||
                  (r->client[0] && !strncmp(r->client, pid, pl) && !strcmp(r->client + pl, dn));
        if (me) {
            *ts = r->ts;
            *what = r->seen;
        }
    }
}

static enum MHD_Result state(cloud_store_t *store, struct MHD_Connection *c)
{
    cJSON *o = cJSON_CreateObject();
    pthread_mutex_lock(&con.lock);
    session_t *s = session_of(c);
    if (s)
        cJSON_AddStringToObject(o, "csrf", s->csrf);
    pthread_mutex_unlock(&con.lock);
    int64_t now = cloud_now();
    cJSON_AddNumberToObject(o, "now", (double)now);
    cJSON *prods = cJSON_AddArrayToObject(o, "products"), *toks = cJSON_AddArrayToObject(o, "tokens");
    cloud_rows_t *st;
    /* No secret column is selected: a listing never shows a PSK or product secret. */
    if ((st = cloud_store_select(store, "SELECT product_id, created FROM products ORDER BY product_id", ""))) {
        while (cloud_rows_next(st) == 1) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "product_id", col(st, 0));
            cJSON_AddNumberToObject(p, "created", (double)cloud_rows_int(st, 1));
            cJSON_AddArrayToObject(p, "devices");
            cJSON_AddItemToArray(prods, p);
        }
    }
    cloud_rows_free(st);
    if ((st = cloud_store_select(store,
                           "SELECT d.product_id, d.device_name, d.created,"
                           " (SELECT max(t.bound_at) FROM tokens t WHERE t.product_id=d.product_id AND"
                           "  t.device_name=d.device_name), coalesce(b.family_id,'')"
                           " FROM devices d LEFT JOIN bindings b ON b.product_id=d.product_id AND"
                           " b.device_name=d.device_name ORDER BY d.product_id, d.device_name", ""))) {
        pthread_mutex_lock(&con.lock);
        cJSON *last = NULL;   /* rows come by product: the previous row's product, mostly */
        while (cloud_rows_next(st) == 1) {
            cJSON *p = NULL, *it;
            if (last && !strcmp(cJSON_GetObjectItemCaseSensitive(last, "product_id")->valuestring, col(st, 0)))
                p = last;
            else
                cJSON_ArrayForEach(it, prods)
                    if (!strcmp(cJSON_GetObjectItemCaseSensitive(it, "product_id")->valuestring, col(st, 0)))
                        p = it;
            if (!p)
                continue;
            last = p;
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "device_name", col(st, 1));
            cJSON_AddNumberToObject(d, "created", (double)cloud_rows_int(st, 2));
            bool bound = cloud_rows_type(st, 3) != CLOUD_COL_NULL;
            cJSON_AddBoolToObject(d, "bound", bound);
            if (bound)
                cJSON_AddNumberToObject(d, "bound_at", (double)cloud_rows_int(st, 3));
            cJSON_AddStringToObject(d, "family_id", col(st, 4));
            double ts;
            const char *what;
            last_seen(col(st, 0), col(st, 1), &ts, &what);
            if (ts > 0) {
                cJSON_AddNumberToObject(d, "last_seen", ts);
                cJSON_AddStringToObject(d, "last_event", what);
            }
            cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(p, "devices"), d);
        }
        pthread_mutex_unlock(&con.lock);
    }
    cloud_rows_free(st);
    if ((st = cloud_store_select(store,
                           "SELECT token, created, expire, coalesce(product_id,''), coalesce(device_name,''),"
                           " bound_at, coalesce(user_id,'') FROM tokens ORDER BY created DESC LIMIT 200", ""))) {
        while (cloud_rows_next(st) == 1) {
            cJSON *t = cJSON_CreateObject();
            char ab[16];
            cloud_abbrev_token(col(st, 0), ab);   /* masked: the token itself is a bearer secret */
            cJSON_AddStringToObject(t, "token", ab);
            cJSON_AddNumberToObject(t, "created", (double)cloud_rows_int(st, 1));
            cJSON_AddNumberToObject(t, "expire", (double)cloud_rows_int(st, 2));
            bool bound = cloud_rows_type(st, 5) != CLOUD_COL_NULL;
            cJSON_AddStringToObject(t, "state", bound ? "bound" : now > cloud_rows_int(st, 2) ? "expired" : "waiting");
            cJSON_AddStringToObject(t, "product_id", col(st, 3));
            cJSON_AddStringToObject(t, "device_name", col(st, 4));
            cJSON_AddStringToObject(t, "user_id", col(st, 6));
            cJSON_AddItemToArray(toks, t);
        }
    }
    cloud_rows_free(st);
    char *js = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!js)
        return MHD_NO;
    enum MHD_Result ret = reply(c, 200, "application/json", js, strlen(js), true);
    free(js);
    return ret;
}

/* ---- server-sent events -------------------------------------------------------------------- */

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream_t *s = cls;
    ssize_t n = 0;
    pthread_mutex_lock(&con.lock);
    if (con.stopping) {
        pthread_mutex_unlock(&con.lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (s->next + RING < con.seq)
        s->next = con.seq - RING;   /* fell behind: the oldest events are gone */
    while (s->next < con.seq) {
        const char *e = con.ring[s->next % RING].json;
        size_t need = strlen(e) + 32;
        if ((size_t)n + need > max)
            break;
        n += snprintf(buf + n, max - (size_t)n, "id: %llu\ndata: %s\n\n", (unsigned long long)s->next, e);
        s->next++;
    }
    if (n == 0 && s->hello && max > 16) {
        n = snprintf(buf, max, ": keep-alive\n\n");
        s->hello = false;
    }
    if (n == 0) {
        /* Nothing to send: park until cloud_console_publish or the ticker resumes us. */
        s->parked = true;
        MHD_suspend_connection(s->c);
    }
    pthread_mutex_unlock(&con.lock);
    return n;
}

static void sse_free(void *cls)
{
    stream_t *s = cls;
    pthread_mutex_lock(&con.lock);
    s->used = s->parked = false;
    pthread_mutex_unlock(&con.lock);
}

static enum MHD_Result events(struct MHD_Connection *c)
{
    const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    pthread_mutex_lock(&con.lock);
    stream_t *s = NULL;
    for (size_t i = 0; i < STREAMS && !s; i++)
        if (!con.streams[i].used)
            s = &con.streams[i];
    if (s) {
        memset(s, 0, sizeof *s);
        s->used = true;
        s->c = c;
        /* A reconnecting EventSource resumes after the last id it saw; a new one replays what
         * the ring holds, so a page opened late still shows the steps so far. */
        s->next = last ? strtoull(last, NULL, 10) + 1 : 0;
        if (s->next > con.seq)
            s->next = con.seq;
    }
    pthread_mutex_unlock(&con.lock);
    if (!s)
        return page_text(c, 503, "too many event streams open");
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
    if (!r) {
        sse_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* DELETE /console/api/products/<P>: the product with its devices, tokens and bindings. The
 * admin API has no such call; it lives here until one does. */
static enum MHD_Result delete_product(cloud_store_t *store, struct MHD_Connection *c, const char *pid)
{
    if (!cloud_valid_id(pid, 64))
        return page_text(c, 400, "bad product id");
    const char *v[] = { pid };
    /* Whatever the registry holds about its devices goes too (cloud_store_delete_device). */
    static const char *const sql[] = { "DELETE FROM bindings WHERE product_id=?1", "DELETE FROM tokens WHERE product_id=?1",
                                       "DELETE FROM gw_subdevs WHERE sub_pid=?1 OR gw_pid=?1",
                                       "DELETE FROM thing_props WHERE product_id=?1", "DELETE FROM ota_status WHERE product_id=?1",
                                       "DELETE FROM ota_firmware WHERE product_id=?1",
                                       "DELETE FROM devices WHERE product_id=?1", "DELETE FROM products WHERE product_id=?1" };
    if (cloud_revoke_enabled())   /* with RabbitMQ (cloud_revoke.c): every device of the product */
        cloud_store_clients_of(store, pid, NULL, cloud_revoke_client);
    if (cloud_store_begin(store) != 0)
        return page_text(c, 500, "database error");
    int rc = 0;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0] && rc >= 0; i++)
        rc = cloud_store_exec(store, sql[i], 1, v);
    if (rc < 0 || cloud_store_commit(store) != 0) {
        cloud_store_rollback(store);
        return page_text(c, 500, "database error");
    }
    if (rc == 0)
        return page_text(c, 404, "no such product");
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "product_id", pid);
    cloud_event("product_deleted", ev);
    cloud_log("product %s deleted", pid);
    return reply(c, 200, "application/json", "{\"deleted\":true}", 16, false);
}

/* ---- routing ------------------------------------------------------------------------------- */

bool cloud_console_owns(const char *url)
{
    return !strcmp(url, "/") || !strcmp(url, "/console") || !strncmp(url, "/console/", 9) ||
           !strcmp(url, "/v1/console/login");
}

enum MHD_Result cloud_console_route(cloud_store_t *store, struct MHD_Connection *c, const char *url,
                                    const char *method, bool admin, bool https, const char *host, unsigned port)
{
    bool get = !strcmp(method, "GET");
    if (!strcmp(url, "/v1/console/login")) {
        if (!admin)
            return page_text(c, 401, "send Authorization: Bearer &lt;admin key&gt;");
        if (strcmp(method, "POST"))
            return page_text(c, 405, "use POST");
        pthread_mutex_lock(&con.lock);
        new_login_locked();   /* the earlier link, if unused, is dead now */
        pthread_mutex_unlock(&con.lock);
        char u[256];
        cloud_console_login_url(https, host, port, u, sizeof u);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "console_url", u);
        char *js = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        enum MHD_Result ret = js ? reply(c, 201, "application/json", js, strlen(js), true) : MHD_NO;
        free(js);
        return ret;
    }
    if (!strcmp(url, "/") || !strcmp(url, "/console")) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, "Location", "/console/");
        enum MHD_Result ret = MHD_queue_response(c, 302, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strcmp(url, "/console/login"))
        return get ? login(c, https) : page_text(c, 405, "use GET");
    if (!strcmp(url, "/console/logout"))
        return strcmp(method, "POST") ? page_text(c, 405, "use POST")
             : cloud_console_authorized(c, method) ? logout(c) : page_text(c, 403, "not logged in");
    /* Everything else needs a session. The pages hold no secret, but a stranger has no use
     * for them either, and one rule is easier to check. */
    pthread_mutex_lock(&con.lock);
    bool in = session_of(c) != NULL;
    pthread_mutex_unlock(&con.lock);
    if (!in)
        return page_text(c, 401, "Not logged in. Open a one-time login link: <code>POST /v1/console/login</code> "
                                 "with the admin key answers one, and <code>smartcfg cloud --console-link</code> "
                                 "prints one at start.");
    if (!strncmp(url, "/console/api/products/", 22)) {
        if (strcmp(method, "DELETE"))
            return page_text(c, 405, "use DELETE");
        return cloud_console_authorized(c, method) ? delete_product(store, c, url + 22)
                                                   : page_text(c, 403, "missing or wrong X-CSRF-Token");
    }
    if (!get)
        return page_text(c, 405, "use GET");
    if (!strcmp(url, "/console/api/state"))
        return state(store, c);
    if (!strcmp(url, "/console/api/events"))
        return events(c);
    const char *name = !strcmp(url, "/console/") ? "index.html" : url + 9;
    const cloud_console_asset_t *a = cloud_console_asset(name);
    if (!a)
        return page_text(c, 404, "no such page");
    return reply(c, 200, a->type, a->data, a->len, false);
}
