/* SPDX-License-Identifier: Apache-2.0 */
/* Revocation for the RabbitMQ deployment (docs/scale.md "Revoking rights"). mosquitto asks our
 * plugin at every delivery, so a device that loses a right (deleted; a gateway whose
 * sub-device is deleted, unbound or goes offline) stops receiving at once. RabbitMQ asks the
 * cloud only when a device subscribes or publishes: the subscriptions made before stay. So
 * when such a change happens here, the cloud closes that client's connections through the
 * management HTTP API of any node (the API sees the whole cluster, whichever worker made the
 * change); the device reconnects and subscribes again, under fresh questions.
 *
 * The close waits for the nodes' auth cache (auth_cache.cache_ttl) plus half a second: an
 * answer cached before the change would otherwise let the reconnecting client subscribe
 * again from the cache. The queue is in memory: a worker that dies within that wait loses
 * its pending closes (the change itself is in the database). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cloud.h"
#include "cloud_acl.h"

#define REVOKE_Q 1024
#define NODES_MAX 16
#define TRIES 3
#define RETRY_MS 5000
#define LIST_MAX (64u << 20)   /* the connection list of a very large fleet, at most */
/* The management API lists connections from statistics that the nodes send every
 * collect_statistics_interval (5 s by default): a connection younger than that may be
 * missing. A client not found is looked for once more this much later. */
#define RECHECK_MS 6000

typedef struct {
    char cid[CLOUD_ACL_ID_MAX];
    int64_t due_ms;
    int tries;       /* management API unreachable so far */
    int misses;      /* looked for, no connection found */
    unsigned found;  /* connections found in this pass */
} pending_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool running, stop;
    char base[NODES_MAX][300];   /* scheme://HOST:PORT[/prefix] of each node's management API */
    int nbase, good;
    char userpwd[300], vhost[128];
    unsigned delay_ms;
    pending_t q[REVOKE_Q];
    size_t n;
    unsigned long dropped;
} rv = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

void cloud_revoke_client(const char *cid)
{
    if (!cid || !*cid || strlen(cid) >= CLOUD_ACL_ID_MAX)
        return;
    pthread_mutex_lock(&rv.lock);
    if (rv.running) {
        bool have = false;
        for (size_t i = 0; i < rv.n && !have; i++)
            have = !strcmp(rv.q[i].cid, cid);   /* a later change is covered by the same close */
        if (!have && rv.n < REVOKE_Q) {
            pending_t *p = &rv.q[rv.n++];
            snprintf(p->cid, sizeof p->cid, "%s", cid);
            p->due_ms = cloud_now_ms() + rv.delay_ms;
            p->tries = p->misses = 0;
            pthread_cond_signal(&rv.cond);
        } else if (!have && rv.dropped++ == 0) {
            cloud_log("RabbitMQ: more than %d connections to close at once; %s keeps its subscriptions until it "
                      "reconnects", REVOKE_Q, cid);
        }
    }
    pthread_mutex_unlock(&rv.lock);
}

bool cloud_revoke_enabled(void)
{
    pthread_mutex_lock(&rv.lock);
    bool on = rv.running;
    pthread_mutex_unlock(&rv.lock);
    return on;
}

typedef struct {
    char *p;
    size_t n;
} buf_t;

static size_t collect(char *d, size_t sz, size_t nm, void *u)
{
    buf_t *b = u;
    size_t k = sz * nm;
    if (b->n + k > LIST_MAX)
        return 0;
    char *np = realloc(b->p, b->n + k + 1);
    if (!np)
        return 0;
    memcpy(np + b->n, d, k);
    b->n += k;
    np[b->n] = 0;
    b->p = np;
    return k;
}

static long request(const char *method, const char *url, buf_t *out, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "curl_easy_init failed");
        return -1;
    }
    struct curl_slist *hd = curl_slist_append(NULL, "X-Reason: smartcfg cloud: the device's rights changed");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 3L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rv.userpwd[0]) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, rv.userpwd);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    CURLcode rc = curl_easy_perform(c);
    long code = -1;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    else
        snprintf(err, errlen, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(hd);
    curl_easy_cleanup(c);
    return code;
}

/* The username's first ';' field is the client id (cloud_acl_login proved it at login). */
static bool user_is(const char *user, const char *cid)
{
    size_t n = strlen(cid);
    return !strncmp(user, cid, n) && user[n] == ';';
}

/* Closes every connection of the batch's clients; false when no node's API answered. */
static bool close_batch(pending_t *b, size_t nb, char *err, size_t errlen)
{
    char *vh = curl_easy_escape(NULL, rv.vhost, 0);
    for (int k = 0; k < rv.nbase; k++) {
        int node = (rv.good + k) % rv.nbase;
        char url[600];
        snprintf(url, sizeof url, "%s/api/vhosts/%s/connections?columns=name,user", rv.base[node], vh ? vh : "%2F");
        buf_t list = { 0 };
        long code = request("GET", url, &list, err, errlen);
        cJSON *arr = code == 200 && list.p ? cJSON_Parse(list.p) : NULL;
        free(list.p);
        if (!cJSON_IsArray(arr)) {
            if (code > 0)
                snprintf(err, errlen, "%s answered HTTP %ld%s", rv.base[node], code,
                         code == 401 ? " (the user needs the management tag 'administrator')" : "");
            cJSON_Delete(arr);
            continue;
        }
        rv.good = node;
        for (size_t i = 0; i < nb; i++)
            b[i].found = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, arr) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
            const cJSON *user = cJSON_GetObjectItemCaseSensitive(it, "user");
            if (!cJSON_IsString(name) || !cJSON_IsString(user))
                continue;
            for (size_t i = 0; i < nb; i++) {
                if (!user_is(user->valuestring, b[i].cid))
                    continue;
                b[i].found++;
                char *en = curl_easy_escape(NULL, name->valuestring, 0);
                snprintf(url, sizeof url, "%s/api/connections/%s", rv.base[node], en ? en : "");
                curl_free(en);
                buf_t ignore = { 0 };
                char e2[160] = "";
                long dc = request("DELETE", url, &ignore, e2, sizeof e2);
                free(ignore.p);
                if (dc == 204 || dc == 200 || dc == 404) {   /* 404: it went by itself meanwhile */
                    cJSON *ev = cJSON_CreateObject();
                    cJSON_AddStringToObject(ev, "client", b[i].cid);
                    cJSON_AddStringToObject(ev, "reason", "rights_changed");
                    cJSON_AddStringToObject(ev, "broker", "rabbitmq");
                    cloud_event("connection_closed", ev);
                    cloud_log("RabbitMQ: closed a connection of %s (its rights changed); it reconnects under fresh "
                              "checks", b[i].cid);
                } else {
                    cloud_log("RabbitMQ: cannot close a connection of %s: %s", b[i].cid,
                              dc > 0 ? "the management API refused" : e2);
                }
            }
        }
        cJSON_Delete(arr);
        curl_free(vh);
        return true;
    }
    curl_free(vh);
    return false;
}

static void *revoke_thread(void *arg)
{
    (void)arg;
    pending_t *batch = malloc(sizeof rv.q);
    pthread_mutex_lock(&rv.lock);
    while (!rv.stop && batch) {
        int64_t now = cloud_now_ms(), next = INT64_MAX;
        for (size_t i = 0; i < rv.n; i++)
            next = rv.q[i].due_ms < next ? rv.q[i].due_ms : next;
        if (next > now) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t wait = next == INT64_MAX ? 60000 : next - now;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&rv.cond, &rv.lock, &ts);
            continue;
        }
        size_t nb = 0;
        for (size_t i = 0; i < rv.n;) {
            if (rv.q[i].due_ms <= now) {
                batch[nb++] = rv.q[i];
                rv.q[i] = rv.q[--rv.n];
            } else {
                i++;
            }
        }
        rv.dropped = 0;
        pthread_mutex_unlock(&rv.lock);
        char err[200] = "no node";
        bool done = close_batch(batch, nb, err, sizeof err);
        pthread_mutex_lock(&rv.lock);
        if (done) {
            for (size_t i = 0; i < nb; i++) {
                if (batch[i].found)
                    continue;
                if (batch[i].misses++ == 0 && rv.n < REVOKE_Q) {
                    batch[i].due_ms = cloud_now_ms() + RECHECK_MS;
                    rv.q[rv.n++] = batch[i];
                } else if (batch[i].misses == 2) {
                    cloud_log("RabbitMQ: %s has no connection to close", batch[i].cid);
                }
            }
            continue;
        }
        size_t again = 0;
        for (size_t i = 0; i < nb; i++) {
            if (++batch[i].tries < TRIES && rv.n < REVOKE_Q) {
                batch[i].due_ms = cloud_now_ms() + RETRY_MS;
                rv.q[rv.n++] = batch[i];
                again++;
            }
        }
        cloud_log("RabbitMQ management API unreachable (%s): %zu client(s) keep their subscriptions%s", err, nb,
                  again ? " for now; trying again in 5 s" : " until they reconnect");
    }
    pthread_mutex_unlock(&rv.lock);
    free(batch);
    return NULL;
}

int cloud_revoke_start(const char *spec, const char *user, const char *pass, const char *vhost, unsigned delay_ms,
                       char *err, size_t errlen)
{
    /* http[s]://[USER:PASS@]HOST:PORT[,HOST:PORT...][/PREFIX] */
    const char *sep = strstr(spec, "://");
    if (!sep || (strncmp(spec, "http://", 7) && strncmp(spec, "https://", 8))) {
        snprintf(err, errlen, "--rabbitmq-management wants http[s]://[USER:PASS@]HOST:PORT[,HOST:PORT...]");
        return -1;
    }
    const char *hosts = sep + 3, *path = strchr(hosts, '/');
    size_t hl = path ? (size_t)(path - hosts) : strlen(hosts);
    const char *at = memchr(hosts, '@', hl);
    if (at) {
        char ui[300];
        snprintf(ui, sizeof ui, "%.*s", (int)(at - hosts), hosts);
        char *dec = curl_easy_unescape(NULL, ui, 0, NULL);
        snprintf(rv.userpwd, sizeof rv.userpwd, "%s", dec ? dec : ui);
        curl_free(dec);
        hl -= (size_t)(at + 1 - hosts);
        hosts = at + 1;
    } else {
        snprintf(rv.userpwd, sizeof rv.userpwd, "%s:%s", user ? user : "", pass ? pass : "");
    }
    rv.nbase = 0;
    for (const char *h = hosts; h < hosts + hl;) {
        const char *comma = memchr(h, ',', (size_t)(hosts + hl - h));
        size_t n = comma ? (size_t)(comma - h) : (size_t)(hosts + hl - h);
        if (!n || rv.nbase == NODES_MAX || n > 200) {
            snprintf(err, errlen, "--rabbitmq-management: %s", n ? "too many or too long HOST:PORT" : "empty HOST:PORT");
            return -1;
        }
        snprintf(rv.base[rv.nbase++], sizeof rv.base[0], "%.*s%.*s%s", (int)(sep + 3 - spec), spec, (int)n, h,
                 path && strcmp(path, "/") ? path : "");
        h += n + (comma ? 1 : 0);
    }
    if (!rv.nbase) {
        snprintf(err, errlen, "--rabbitmq-management: no HOST:PORT given");
        return -1;
    }
    snprintf(rv.vhost, sizeof rv.vhost, "%s", vhost && *vhost ? vhost : "/");
    rv.delay_ms = delay_ms;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_mutex_lock(&rv.lock);
    rv.stop = false;
    rv.running = pthread_create(&rv.thread, NULL, revoke_thread, NULL) == 0;
    bool ok = rv.running;
    pthread_mutex_unlock(&rv.lock);
    if (!ok)
        snprintf(err, errlen, "cannot start the revocation thread");
    return ok ? 0 : -1;
}

void cloud_revoke_stop(void)
{
    pthread_mutex_lock(&rv.lock);
    bool was = rv.running;
    rv.stop = true;
    rv.running = false;
    if (rv.n)
        cloud_log("RabbitMQ: stopping with %zu connection(s) not yet closed", rv.n);
    pthread_cond_broadcast(&rv.cond);
    pthread_mutex_unlock(&rv.lock);
    if (was)
        pthread_join(rv.thread, NULL);
    memset(rv.userpwd, 0, sizeof rv.userpwd);
}
