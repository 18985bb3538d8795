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
 * again from the cache. The pending closes are rows of the database (revocations), written
 * by the thread that made the change before it returns, and taken by whichever worker's
 * revocation thread polls first once they are due: a worker that dies within that wait, or
 * while it closes, leaves them to the others (a taken row is free again after LEASE_MS). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cloud.h"
#include "cloud_acl.h"
#include "sc_posix.h"

#define BATCH_MAX 1024         /* closes taken at once */
#define POLL_MS 1000           /* how often a worker looks for due closes (another's too) */
#define LEASE_MS 120000        /* a taken close is free again after this (its worker died) */
#define NODES_MAX 16
#define TRIES 3
#define RETRY_MS 5000
#define LIST_MAX (64u << 20)   /* the connection list of a very large fleet, at most */
/* The management API lists connections from statistics that the nodes send every
 * collect_statistics_interval (5 s by default): a connection younger than that may be
 * missing. A client not found is looked for once more this much later. */
#define RECHECK_MS 6000
/* cloud_revoke_stop without cloud_revoke_stop_begin: the release's bound from the stop */
#define STOP_RELEASE_MS 2000

typedef struct {
    char cid[CLOUD_ACL_ID_MAX];
    int64_t due_ms;  /* as stored: the row is finished only if no new change moved it */
    int tries;       /* management API unreachable so far */
    int misses;      /* looked for, no connection found */
    unsigned found;  /* connections found in this pass */
    bool cut;        /* a close of this pass was abandoned by the stop: the row is left as it was */
    bool failed;     /* a close of this pass failed (the API refused it, or no answer): a try spent */
} pending_t;

static struct {
    pthread_mutex_t lock;        /* the thread's state and cond */
    pthread_cond_t cond;
    pthread_t thread;
    bool running, stop;
    /* The callers' connection (cloud_revoke_client, on the HTTP and message threads), apart
     * from the thread's: the stop ends the thread's waits on the database, never a caller's
     * write of a close. wopen: closes are recorded (from the start until the last caller is
     * done: a request the HTTP stop left running still records its closes). */
    pthread_mutex_t wlock;
    cloud_store_t wstore;
    bool wopen;
    int wake[2];                 /* written at the stop: ends the thread's database wait */
    int64_t release_by;          /* CLOCK_MONOTONIC ms: the thread's last statements end by then */
    char base[NODES_MAX][300];   /* scheme://HOST:PORT[/prefix] of each node's management API */
    int nbase, good;
    char userpwd[300], vhost[128];
    unsigned delay_ms;
    cloud_store_t store;
    char owner[96];              /* this worker, in the rows it takes */
    pending_t *batch;
    size_t nb;
} rv = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .wlock = PTHREAD_MUTEX_INITIALIZER,
       .wake = { -1, -1 } };

static atomic_bool recording;   /* rv.wopen, for cloud_revoke_enabled without the lock */

static int64_t wall_ms(void)   /* the workers may be on several machines: not the monotonic clock */
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cloud_revoke_client(const char *cid)
{
    if (!cid || !*cid || strlen(cid) >= CLOUD_ACL_ID_MAX)
        return;
    pthread_mutex_lock(&rv.wlock);
    bool on = rv.wopen, stored = false;
    if (on) {
        /* Stored before the caller goes on: the close survives this worker from now on, also
         * once its revocation thread has stopped (another worker, or the next start, does it).
         * Before, a change made after the stop had begun (a request the HTTP stop left running
         * to its end) recorded nothing: the device kept its subscriptions, silently. */
        stored = cloud_store_revoke_add(&rv.wstore, cid, wall_ms() + rv.delay_ms) == 0;
        if (!stored)
            cloud_log("RabbitMQ: cannot record the close of %s (%s); it keeps its subscriptions until it reconnects",
                      cid, rv.wstore.err);
    }
    pthread_mutex_unlock(&rv.wlock);
    if (!on)
        return;
    pthread_mutex_lock(&rv.lock);
    bool running = rv.running;
    if (running)
        pthread_cond_signal(&rv.cond);
    pthread_mutex_unlock(&rv.lock);
    if (stored && !running)
        cloud_log("RabbitMQ: the close of %s, recorded while stopping, waits in the database for another worker with "
                  "--rabbitmq-management (or this one's next start)", cid);
}

bool cloud_revoke_enabled(void)
{
    return atomic_load(&recording);
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

/* cloud_revoke_stop has begun: a request under way is abandoned (the stop's bound, docs/cloud.md;
 * its CURLOPT_TIMEOUT alone let a hung management API hold the stop 30 s). */
static atomic_bool rv_abort;

static int abort_on_stop(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)u, (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(&rv_abort) ? 1 : 0;   /* libcurl calls it at least once a second */
}

/* The HTTP status, -1 with err when there was no answer, REQ_ABANDONED when the stop cut it. */
#define REQ_ABANDONED (-2)

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
#if LIBCURL_VERSION_NUM >= 0x075700
    /* A name under lookup on libcurl's resolver thread when the connect timeout or the stop
     * ends the request: not waited for (it ends on its own). Without this libcurl joined that
     * thread first, so with a DNS server that does not answer the 3 s connect timeout took
     * 10 s, and the stop's abandon (abort_on_stop) waited as long: 10.0 s measured for both,
     * 3.0 s and 1.15 s with it (libcurl 7.88, glibc's 5 s x 2 attempts). */
    curl_easy_setopt(c, CURLOPT_QUICK_EXIT, 1L);
#endif
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
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
    else if (rc == CURLE_ABORTED_BY_CALLBACK)
        code = REQ_ABANDONED, snprintf(err, errlen, "abandoned by the stop");
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
            b[i].found = 0, b[i].cut = false, b[i].failed = false;
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
                if (dc == REQ_ABANDONED) {   /* the stop: its row waits, untouched, for the next pass */
                    b[i].cut = true;
                } else if (dc == 204 || dc == 200 || dc == 404) {   /* 404: it went by itself meanwhile */
                    cJSON *ev = cJSON_CreateObject();
                    cJSON_AddStringToObject(ev, "client", b[i].cid);
                    cJSON_AddStringToObject(ev, "reason", "rights_changed");
                    cJSON_AddStringToObject(ev, "broker", "rabbitmq");
                    cloud_event("connection_closed", ev);
                    cloud_log("RabbitMQ: closed a connection of %s (its rights changed); it reconnects under fresh "
                              "checks", b[i].cid);
                } else {   /* still open: the close is not done (a try spent, revoke_thread) */
                    b[i].failed = true;
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

static void take(void *u, const char *cid, int64_t due, int tries, int misses)
{
    (void)u;
    if (rv.nb == BATCH_MAX || strlen(cid) >= CLOUD_ACL_ID_MAX)
        return;   /* not in this batch: free again when the lease ends */
    pending_t *p = &rv.batch[rv.nb++];
    snprintf(p->cid, sizeof p->cid, "%s", cid);
    p->due_ms = due;
    p->tries = tries;
    p->misses = misses;
    p->found = 0;
}

static void wait_ms(int64_t ms)   /* under rv.lock; a new close or the stop wakes it */
{
    struct timespec ts = sc_posix_time_in(CLOCK_MONOTONIC, ms);   /* rv.cond's clock (cond_init) */
    pthread_cond_timedwait(&rv.cond, &rv.lock, &ts);
}

/* The wait above on the monotonic clock: on the wall clock a step back held it as long (the
 * dues it waits for are wall-clock times, for the workers' sake: it reads them again after each
 * wait, at most POLL_MS). Once, before the first thread waits. */
static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
static void cond_init(void)
{
    sc_posix_cond_init(&rv.cond);
}

static void *revoke_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&rv.lock);
    while (!rv.stop) {
        int64_t now = wall_ms();
        rv.nb = 0;
        if (cloud_store_revoke_claim(&rv.store, rv.owner, now, now + LEASE_MS, BATCH_MAX, take, NULL) <= 0 || !rv.nb) {
            /* Nothing due for us: sleep until the earliest close (at most POLL_MS, so a close
             * another worker took and died with, or one it wrote, is seen). */
            int64_t next = cloud_store_revoke_next(&rv.store), wait = POLL_MS;
            if (next > now && next - now < POLL_MS)
                wait = next - now;
            wait_ms(wait);
            continue;
        }
        size_t nb = rv.nb;
        for (size_t i = 0; i < nb; i++)
            rv.batch[i].cut = false, rv.batch[i].failed = false;
        pthread_mutex_unlock(&rv.lock);
        char err[200] = "no node";
        bool done = close_batch(rv.batch, nb, err, sizeof err);
        /* A batch the stop cut short is no verdict on the management API: what it did not
         * finish keeps its row as it was (no try spent, never finished as if done), released by
         * cloud_revoke_stop for another worker or this one's next start. Finishing it here
         * instead (the third try's "done", or a DELETE that never went out counted as closed)
         * dropped the close: a deleted device kept its subscriptions. */
        bool cut = atomic_load(&rv_abort);
        size_t left = 0;
        /* The batch is this thread's; the store is shared with the threads that record closes
         * (cloud_revoke_client, on the HTTP and message threads): taken for one statement at a
         * time, so a slow database keeps them waiting for one row's update, not a batch's. */
        size_t again = 0, failed = 0, given_up = 0;
        for (size_t i = 0; i < nb; i++) {
            pending_t *p = &rv.batch[i];
            int rc;
            char why[sizeof rv.store.err];
            if (cut && (!done || p->cut)) {
                left++;
                continue;
            }
            /* A DELETE that failed left the connection open: like an unreachable API, a try
             * spent and asked again, not finished as if closed (the device kept its
             * subscriptions, its close dropped after one logged failure). */
            failed += done && p->failed;
            pthread_mutex_lock(&rv.lock);
            if (done && !p->failed && (p->found || p->misses >= 1)) {
                if (!p->found)
                    cloud_log("RabbitMQ: %s has no connection to close", p->cid);
                rc = cloud_store_revoke_done(&rv.store, p->cid, p->due_ms);
            } else if (done && !p->failed) {   /* not listed yet: once more when the statistics are fresh */
                rc = cloud_store_revoke_later(&rv.store, p->cid, p->due_ms, wall_ms() + RECHECK_MS, p->tries, 1);
            } else if (p->tries + 1 < TRIES) {
                rc = cloud_store_revoke_later(&rv.store, p->cid, p->due_ms, wall_ms() + RETRY_MS, p->tries + 1,
                                              p->misses);
                again++;
            } else {
                given_up += done && p->failed;
                rc = cloud_store_revoke_done(&rv.store, p->cid, p->due_ms);
            }
            memcpy(why, rv.store.err, sizeof why);
            pthread_mutex_unlock(&rv.lock);
            why[sizeof why - 1] = 0;
            if (rc != 0)   /* the row stays taken: this or another worker does it after the lease */
                cloud_log("RabbitMQ: cannot update the pending close of %s: %s", p->cid, why);
        }
        if (left)
            cloud_log("RabbitMQ: the stop abandoned the close of %zu client(s) under way; kept in the database, not "
                      "done", left);
        if (failed)
            cloud_log("RabbitMQ: %zu client(s) keep a connection the management API did not close%s", failed,
                      given_up == failed ? " until they reconnect" : given_up ? "; trying again in 5 s (some not again)"
                                                                              : " for now; trying again in 5 s");
        else if (!done && !left)
            cloud_log("RabbitMQ management API unreachable (%s): %zu client(s) keep their subscriptions%s", err, nb,
                      again ? " for now; trying again in 5 s" : " until they reconnect");
        pthread_mutex_lock(&rv.lock);
    }
    pthread_mutex_unlock(&rv.lock);
    /* The stop: what this worker took and did not finish is free again for another worker or
     * the next start. The stop's wake-up ended any wait on the database before here (drained
     * now); these last statements end by release_by, so a database gone without a reset (a
     * host frozen, a network cut: nothing answers, TCP waits) no longer holds the stop. Rows
     * left taken then are not lost: free again when their lease ends (LEASE_MS). */
    char drain[16];
    while (read(rv.wake[0], drain, sizeof drain) > 0)
        continue;
    rv.store.deadline_ms = rv.release_by;
    int released = cloud_store_revoke_release(&rv.store, rv.owner);
    int64_t next = released >= 0 ? cloud_store_revoke_next(&rv.store) : -1;
    if (released < 0)
        cloud_log("RabbitMQ: stopping without releasing the connection closes this worker took (%s); they wait in the "
                  "database, free again for another worker or the next start %d s after they were taken",
                  rv.store.err, LEASE_MS / 1000);
    else if (next >= 0 && next != INT64_MAX)
        cloud_log("RabbitMQ: stopping with connection closes pending; they wait in the database for another "
                  "worker with --rabbitmq-management (or this one's next start)");
    return NULL;
}

int cloud_revoke_start(const char *spec, const char *user, const char *pass, const char *vhost, unsigned delay_ms,
                       const char *dbpath, char *err, size_t errlen)
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
    char host[64] = "?", rnd[9];
    gethostname(host, sizeof host - 1);
    cloud_random_hex(rnd, 8);
    snprintf(rv.owner, sizeof rv.owner, "%.63s:%ld:%s", host, (long)getpid(), rnd);
    if (!rv.batch && !(rv.batch = malloc(BATCH_MAX * sizeof *rv.batch))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_lock(&rv.wlock);   /* a store an earlier stop left to its last caller */
    if (rv.wopen)
        cloud_store_close(&rv.wstore);
    rv.wopen = false;
    atomic_store(&recording, false);
    pthread_mutex_unlock(&rv.wlock);
    if (rv.wake[0] < 0 && pipe2(rv.wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    if (cloud_store_open(&rv.store, dbpath, err, errlen) != 0)
        return -1;
    if (cloud_store_open(&rv.wstore, dbpath, err, errlen) != 0) {
        cloud_store_close(&rv.store);
        return -1;
    }
    rv.store.abortable = true;   /* the stop's wake-up ends the thread's wait on the database */
    rv.store.abort_fd = rv.wake[0];
    char drain[16];
    while (read(rv.wake[0], drain, sizeof drain) > 0)
        continue;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    atomic_store(&rv_abort, false);
    pthread_once(&cond_once, cond_init);
    pthread_mutex_lock(&rv.lock);
    rv.stop = false;
    rv.running = pthread_create(&rv.thread, NULL, revoke_thread, NULL) == 0;
    bool ok = rv.running;
    pthread_mutex_unlock(&rv.lock);
    if (!ok) {
        snprintf(err, errlen, "cannot start the revocation thread");
        cloud_store_close(&rv.store);
        cloud_store_close(&rv.wstore);
        return -1;
    }
    pthread_mutex_lock(&rv.wlock);
    rv.wopen = true;
    atomic_store(&recording, true);
    pthread_mutex_unlock(&rv.wlock);
    return 0;
}

void cloud_revoke_stop_begin(int64_t release_by_ms)
{
    /* A management API request under way: abandoned within 1 s; and a wait on the database at
     * once, before taking the lock: the thread may hold it in that wait (its poll). (Written
     * when no thread runs too: the next start drains it.) Once per stop: cloud_revoke_stop
     * calls this again, after the thread may have drained the pipe for its release, which a
     * second byte cut at once (on a live database: the rows it took stayed taken 2 minutes). */
    if (!atomic_exchange(&rv_abort, true) && rv.wake[1] >= 0)
        (void)!write(rv.wake[1], "x", 1);
    pthread_mutex_lock(&rv.lock);
    if (!rv.stop)
        rv.release_by = release_by_ms;
    rv.stop = true;
    pthread_cond_broadcast(&rv.cond);
    pthread_mutex_unlock(&rv.lock);
}

void cloud_revoke_stop(bool callers_done)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    cloud_revoke_stop_begin(now_ms + STOP_RELEASE_MS);   /* no-op when begun already */
    pthread_mutex_lock(&rv.lock);
    bool was = rv.running;
    rv.running = false;
    int64_t by = rv.release_by;
    pthread_mutex_unlock(&rv.lock);
    if (was) {
        pthread_join(rv.thread, NULL);   /* its last statements end by release_by */
        cloud_store_close(&rv.store);
        free(rv.batch);
        rv.batch = NULL;
    }
    if (callers_done) {
        /* The callers' connection: closed once no caller can come (an HTTP request the stop
         * left running may still record a close). A caller that holds it past the stop's
         * bound (its write waiting on the database) keeps it, to the process's exit. */
        int64_t left = by - now_ms > 500 ? by - now_ms : 500;
        struct timespec until = sc_posix_time_in(CLOCK_MONOTONIC, left);
        if (pthread_mutex_clocklock(&rv.wlock, CLOCK_MONOTONIC, &until) == 0) {
            atomic_store(&recording, false);
            if (rv.wopen)
                cloud_store_close(&rv.wstore);
            rv.wopen = false;
            pthread_mutex_unlock(&rv.wlock);
        } else {
            cloud_log("RabbitMQ: a connection close being recorded still waits on the database; left to the exit");
        }
    }
    if (was || callers_done)
        memset(rv.userpwd, 0, sizeof rv.userpwd);
}
