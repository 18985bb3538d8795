/* SPDX-License-Identifier: Apache-2.0 */
/* The RabbitMQ revocation closes (apps/cloud/cloud_revoke.c) at a stop, against a stand-in
 * management API on a real loopback socket (a thread here) and a real SQLite registry. A stop
 * abandons the management API request under way (docs/security.md F123), and what that request
 * was for must survive the stop: the close's row stays in the database as it was, released for
 * another worker or the next start, with a log line. Before, an abandoned GET counted as the
 * API being unreachable (a try spent; on the third try the row was finished: the close
 * dropped, silently, the "unreachable" line being held back at a stop), and an abandoned
 * DELETE after the connection list came back counted as a close done: the row deleted, the
 * device still subscribed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define collect revoke_collect   /* cloud_store.c has a static one of its own */
#include "../../apps/cloud/cloud_revoke.c"
#undef collect
#include "../../apps/cloud/cloud_store.c"
#include "../../apps/cloud/cloud_store_sqlite.c"
#include "../../apps/cloud/cloud_store_pg.c"   /* with libpq when found: the frozen-database case */
#include "test_util.h"

/* ---- what cloud_util.c would bring, with the whole cloud along ---- */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char logbuf[16384];

void cloud_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof logbuf - n, "%s\n", line);
    pthread_mutex_unlock(&log_mu);
}

static bool logged(const char *s)
{
    pthread_mutex_lock(&log_mu);
    bool yes = strstr(logbuf, s) != NULL;
    pthread_mutex_unlock(&log_mu);
    return yes;
}

void cloud_event(const char *event, cJSON *obj)
{
    (void)event;
    cJSON_Delete(obj);
}

void cloud_random_hex(char *out, size_t nhex)
{
    static atomic_uint n;
    snprintf(out, nhex + 1, "%0*x", (int)nhex, atomic_fetch_add(&n, 1) + 1);
}

/* ---- a management API that hangs ---- */
enum { HANG_GET, HANG_DELETE, FAIL_DELETE };
static struct {
    int ls;
    uint16_t port;
    int mode;
    atomic_bool hung;   /* the request it holds unanswered has come */
    atomic_bool stop;
    atomic_int deletes; /* DELETE requests seen */
    pthread_t th;
} api;

static void *api_thread(void *arg)
{
    (void)arg;
    int held[16], nheld = 0;
    while (!atomic_load(&api.stop)) {
        struct pollfd p = { .fd = api.ls, .events = POLLIN };
        if (poll(&p, 1, 50) != 1)
            continue;
        int s = accept(api.ls, NULL, NULL);
        if (s < 0)
            continue;
        char req[4096];
        size_t n = 0;
        req[0] = 0;   /* (the loop below reads it first: a previous request's bytes ended it at once) */
        while (n < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
            struct pollfd q = { .fd = s, .events = POLLIN };
            if (poll(&q, 1, 2000) != 1)
                break;
            ssize_t k = recv(s, req + n, sizeof req - 1 - n, 0);
            if (k <= 0)
                break;
            n += (size_t)k;
            req[n] = 0;
        }
        req[n] = 0;
        bool del = !strncmp(req, "DELETE ", 7);
        if (del)
            atomic_fetch_add(&api.deletes, 1);
        if ((api.mode == HANG_GET && !del) || (api.mode == HANG_DELETE && del)) {
            atomic_store(&api.hung, true);   /* no answer: held open until the case ends */
            if (nheld < 16)
                held[nheld++] = s;
            else
                close(s);
            continue;
        }
        if (api.mode == FAIL_DELETE && del) {   /* the API refuses to close it (a node's error) */
            static const char e500[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                                       "Connection: close\r\n\r\n";
            (void)!send(s, e500, sizeof e500 - 1, MSG_NOSIGNAL);
            close(s);
            continue;
        }
        /* the connection list: one connection of the device whose close is pending */
        static const char body[] = "[{\"name\":\"127.0.0.1:5555 -> 127.0.0.1:1883\",\"user\":\"Pdev1;x\"}]";
        char resp[512];
        int m = del ? snprintf(resp, sizeof resp, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                    : snprintf(resp, sizeof resp,
                               "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                               "Connection: close\r\n\r\n%s",
                               sizeof body - 1, body);
        (void)!send(s, resp, (size_t)m, MSG_NOSIGNAL);
        close(s);
    }
    for (int i = 0; i < nheld; i++)
        close(held[i]);
    return NULL;
}

static char path[512];   /* the SQLite file, or with SC_TEST_PG the URL through the freezable relay */

/* the stand-in management API's listening socket, on a free loopback port (api.ls, api.port) */
static int api_listen(void)
{
    api.ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sin;
    if (api.ls < 0 || bind(api.ls, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(api.ls, 16) != 0 ||
        getsockname(api.ls, (struct sockaddr *)&sin, &sl) != 0)
        return -1;
    api.port = ntohs(sin.sin_port);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (tu_fresh_path(path, "test-cloud-revoke"))
        return -1;
    logbuf[0] = 0;
    memset(&api, 0, sizeof api);
    return api_listen();
}

static int teardown(void **state)
{
    (void)state;
    atomic_store(&api.stop, true);
    pthread_join(api.th, NULL);
    close(api.ls);
    tu_unlink_sqlite(path);
    return 0;
}

/* The close of Pdev1, due now, with `tries` failed tries of the management API behind it. */
static void pending(int tries)
{
    cloud_store_t s;
    char err[300];
    if (cloud_store_open(&s, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    int64_t due = wall_ms() - 1000;
    assert_int_equal(cloud_store_revoke_add(&s, "Pdev1", due), 0);
    assert_int_equal(cloud_store_revoke_later(&s, "Pdev1", due, due, tries, 0), 0);
    cloud_store_close(&s);
}

/* The revocation thread against the test's management API, on the test's store. */
static void revoke_start(void)
{
    char spec[64], err[300];
    snprintf(spec, sizeof spec, "http://127.0.0.1:%u", api.port);
    if (cloud_revoke_start(spec, "u", "p", "/", 0, path, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* The stand-in API's thread in `mode` (-1: it answers everything), then the revocation thread */
static void start_both(int mode)
{
    api.mode = mode;
    assert_int_equal(pthread_create(&api.th, NULL, api_thread, NULL), 0);
    revoke_start();
}

/* Waits up to 5 s for the store to hold no close: what cloud_store_revoke_next said last
 * (INT64_MAX: none left). */
static int64_t wait_no_close(void)
{
    cloud_store_t s;
    char err[300];
    int64_t next = -1;
    for (int i = 0; i < 500 && next != INT64_MAX; i++) {
        tu_sleep_ms(10);
        assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
        next = cloud_store_revoke_next(&s);
        cloud_store_close(&s);
    }
    return next;
}

/* Starts the revocation thread against the API in `mode`, waits for its request to hang, stops. */
static void stop_while_hung(int mode)
{
    start_both(mode);
    for (int i = 0; i < 500 && !atomic_load(&api.hung); i++)
        tu_sleep_ms(10);
    assert_true(atomic_load(&api.hung));
    tu_sleep_ms(200);   /* inside curl's wait for the answer */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cloud_revoke_stop(true);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    /* abandoned within libcurl's progress call (about once a second), not its 30 s timeout */
    assert_true(ms < 5000);
}

/* The row of Pdev1 is there, untaken, with `tries` tries. */
static void still_pending(int tries)
{
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    cloud_rows_t *r = cloud_store_select(&s, "SELECT tries, owner FROM revocations WHERE client_id=?", "t", "Pdev1");
    assert_non_null(r);
    assert_int_equal(cloud_rows_next(r), 1);   /* the close was not dropped */
    assert_int_equal(cloud_rows_int(r, 0), tries);
    assert_string_equal(cloud_rows_text(r, 1), "");
    cloud_rows_free(r);
    cloud_store_close(&s);
    assert_true(logged("the stop abandoned the close of 1 client(s) under way"));
    assert_true(logged("stopping with connection closes pending"));
}

/* A GET of the connection list abandoned on the last try: the close stays, its tries unspent. */
static void test_abandoned_list_keeps_the_close(void **state)
{
    (void)state;
    pending(TRIES - 1);
    stop_while_hung(HANG_GET);
    still_pending(TRIES - 1);
}

/* The list came, the DELETE of the device's connection was abandoned: not counted as closed. */
static void test_abandoned_delete_keeps_the_close(void **state)
{
    (void)state;
    pending(0);
    stop_while_hung(HANG_DELETE);
    assert_int_equal(atomic_load(&api.deletes), 1);
    still_pending(0);
    assert_false(logged("closed a connection of Pdev1"));
    assert_false(logged("cannot close a connection of Pdev1"));
}

/* The tries of Pdev1's close, -1 when its row is gone. */
static int row_tries(void)
{
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    cloud_rows_t *r = cloud_store_select(&s, "SELECT tries FROM revocations WHERE client_id=?", "t", "Pdev1");
    assert_non_null(r);
    int t = cloud_rows_next(r) == 1 ? (int)cloud_rows_int(r, 0) : -1;
    cloud_rows_free(r);
    cloud_store_close(&s);
    return t;
}

/* The list came, but the DELETE of the device's connection failed (HTTP 500): the connection
 * is still open, so the close is not done: it is a try spent, asked again 5 s later, like an
 * unreachable API. Before, a listed connection counted as closed whatever the DELETE's answer:
 * the row was deleted after one logged failure and the device kept its subscriptions. */
static void test_failed_delete_is_tried_again(void **state)
{
    (void)state;
    pending(0);
    start_both(FAIL_DELETE);
    int tries = 0;
    for (int i = 0; i < 500 && (tries = row_tries()) == 0; i++)
        tu_sleep_ms(10);
    cloud_revoke_stop(true);
    assert_true(logged("cannot close a connection of Pdev1"));
    assert_int_equal(atomic_load(&api.deletes), 1);
    assert_int_equal(tries, 1);   /* not -1: the close was not dropped */
    assert_int_equal(row_tries(), 1);
}

/* What a stop kept is really done later: the next start (a new owner, as another worker's
 * would be) claims the released row at once and closes the device's connection. */
static void test_kept_close_done_at_next_start(void **state)
{
    (void)state;
    pending(0);
    stop_while_hung(HANG_DELETE);
    still_pending(0);
    atomic_store(&api.stop, true);   /* the API again, answering everything now */
    pthread_join(api.th, NULL);
    atomic_store(&api.stop, false);
    atomic_store(&api.hung, false);
    api.mode = -1;
    assert_int_equal(pthread_create(&api.th, NULL, api_thread, NULL), 0);
    pthread_mutex_lock(&log_mu);
    logbuf[0] = 0;
    pthread_mutex_unlock(&log_mu);
    revoke_start();
    int64_t next = wait_no_close();
    cloud_revoke_stop(true);
    assert_int_equal(next, INT64_MAX);   /* the kept close is done, its row gone */
    assert_true(logged("closed a connection of Pdev1"));
    assert_false(logged("abandoned"));
}

/* Not at a stop, the API answering: the close is done and its row gone (the test's control). */
static void test_answered_close_is_done(void **state)
{
    (void)state;
    pending(0);
    start_both(-1);   /* answers everything */
    for (int i = 0; i < 500 && !logged("closed a connection of Pdev1"); i++)
        tu_sleep_ms(10);
    assert_true(logged("closed a connection of Pdev1"));
    int64_t next = wait_no_close();
    cloud_revoke_stop(true);
    assert_int_equal(next, INT64_MAX);   /* no close left */
    assert_false(logged("abandoned"));
}

/* A close recorded after the stop began: a request the HTTP stop left running (it waits on the
 * database past its 5 s) that deletes a device records its close when it gets there. Before,
 * cloud_revoke_enabled() said no once the stop had begun and nothing was recorded: the device
 * kept its subscriptions, silently. Now the row is written, untaken, for another worker or the
 * next start; only once no caller can come (cloud_revoke_stop(true)) is nothing recorded. */
static void test_close_after_the_stop_is_recorded(void **state)
{
    (void)state;
    start_both(HANG_GET);
    cloud_revoke_stop(false);   /* the HTTP stop left a request running */
    assert_true(cloud_revoke_enabled());
    cloud_revoke_client("Pdev2");
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    cloud_rows_t *r = cloud_store_select(&s, "SELECT owner FROM revocations WHERE client_id=?", "t", "Pdev2");
    assert_non_null(r);
    assert_int_equal(cloud_rows_next(r), 1);   /* recorded */
    assert_string_equal(cloud_rows_text(r, 0), "");
    cloud_rows_free(r);
    cloud_store_close(&s);
    assert_true(logged("the close of Pdev2, recorded while stopping, waits in the database"));
    cloud_revoke_stop(true);   /* the last caller is done */
    assert_false(cloud_revoke_enabled());
}

#ifdef SMARTCFG_HAVE_LIBPQ
/* ---- PostgreSQL gone without a reset (run by integ.cloud_pg, SC_TEST_PG) ----
 * SC_TEST_PG reaches the server through tests/integration/lib/tcp_freeze.py, which stops passing
 * bytes once SC_TEST_PG_FREEZE exists but keeps the sockets open (a host frozen, a network cut:
 * TCP waits, nothing answers); SC_TEST_PG_DIRECT reaches it directly, to look at the rows. */
static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "test_cloud_revoke: the stop still waits on the frozen database after 30 s\n";
    (void)!write(2, m, sizeof m - 1);
    _exit(3);
}

static int setup_pg(void **state)
{
    (void)state;
    logbuf[0] = 0;
    memset(&api, 0, sizeof api);
    snprintf(path, sizeof path, "%s", getenv("SC_TEST_PG"));
    unlink(getenv("SC_TEST_PG_FREEZE"));
    cloud_store_t s;
    char err[300];
    if (cloud_store_open(&s, getenv("SC_TEST_PG_DIRECT"), err, sizeof err) != 0)
        return -1;
    int rc = cloud_store_run(&s, "DELETE FROM revocations", "");
    cloud_store_close(&s);
    return rc < 0 ? -1 : api_listen();
}

static int teardown_pg(void **state)
{
    (void)state;
    unlink(getenv("SC_TEST_PG_FREEZE"));
    atomic_store(&api.stop, true);
    static const pthread_t none;   /* setup_pg zeroes api: a case without the API thread */
    if (memcmp(&api.th, &none, sizeof none))   /* joining a thread never made is undefined (TSan aborts) */
        pthread_join(api.th, NULL);
    close(api.ls);
    return 0;
}

static void freeze(void)
{
    FILE *f = fopen(getenv("SC_TEST_PG_FREEZE"), "w");
    assert_non_null(f);
    fclose(f);
    tu_sleep_ms(100);
}

/* The stop, its release bounded at 1.5 s: ms it took (a 30 s alarm ends a stop that hangs). */
static long timed_stop(void)
{
    signal(SIGALRM, on_alarm);
    alarm(30);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cloud_revoke_stop_begin((int64_t)a.tv_sec * 1000 + a.tv_nsec / 1000000 + 1500);
    cloud_revoke_stop(true);
    clock_gettime(CLOCK_MONOTONIC, &b);
    alarm(0);
    return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

/* Pdev1's close is in the database, with no try spent, and another worker takes it once this
 * one's lease has ended (or at once, had the release got through). */
static void still_there_for_another_worker(void)
{
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, getenv("SC_TEST_PG_DIRECT"), err, sizeof err), 0);
    cloud_rows_t *r = cloud_store_select(&s, "SELECT tries FROM revocations WHERE client_id=?", "t", "Pdev1");
    assert_non_null(r);
    assert_int_equal(cloud_rows_next(r), 1);
    assert_int_equal(cloud_rows_int(r, 0), 0);
    cloud_rows_free(r);
    rv.nb = 0;
    assert_non_null(rv.batch = malloc(BATCH_MAX * sizeof *rv.batch));
    int64_t later = wall_ms() + LEASE_MS + 1000;
    assert_int_equal(cloud_store_revoke_claim(&s, "another", later, later + LEASE_MS, 10, take, NULL), 1);
    assert_string_equal(rv.batch[0].cid, "Pdev1");
    free(rv.batch);
    rv.batch = NULL;
    cloud_store_close(&s);
}

/* The thread took Pdev1's close and waits on the management API's DELETE when the database
 * freezes: the stop abandons the DELETE (within 1 s), and the release of the row, which
 * waited for TCP for ever (the kernel acknowledges, nothing answers), ends at its bound. The
 * row stays, its try unspent, for another worker once the lease ends. */
static void test_frozen_database_release_is_bounded(void **state)
{
    (void)state;
    pending(0);
    start_both(HANG_DELETE);
    for (int i = 0; i < 500 && !atomic_load(&api.hung); i++)
        tu_sleep_ms(10);
    assert_true(atomic_load(&api.hung));
    freeze();
    long ms = timed_stop();
    fprintf(stderr, "stop with the database frozen, a DELETE under way: %ld ms\n", ms);
    assert_true(ms < 4000);   /* the curl abort (1 s) + the release's 1.5 s, and slack */
    assert_true(logged("stopping without releasing the connection closes this worker took"));
    unlink(getenv("SC_TEST_PG_FREEZE"));
    still_there_for_another_worker();
}

/* The thread polls the database (once a second, holding its lock) when it freezes: the stop
 * waited on that lock for ever. Now the stop's wake-up ends the thread's wait at once. */
static void test_frozen_database_poll_is_cut(void **state)
{
    (void)state;
    start_both(-1);
    tu_sleep_ms(300);
    freeze();
    tu_sleep_ms(1500);   /* the next poll is under way, and waits */
    long ms = timed_stop();
    fprintf(stderr, "stop with the database frozen under the thread's poll: %ld ms\n", ms);
    assert_true(ms < 2500);
}

/* The main loop's binder at a signal (cloud_binder_abort_on, docs/cloud.md): abort_fd readable
 * with a grace of 300 ms. A query on a live database still answers after the signal; one on
 * the frozen database ends 300 ms after it, failed as unavailable (its decisions not stored);
 * the store then reconnects no more. Before, the main loop's wait had no end: the signal's
 * flag was never read again. */
static void *stuck_query(void *arg)
{
    cloud_store_t *st = arg;
    return (void *)(intptr_t)cloud_store_run(st, "UPDATE revocations SET tries=tries WHERE client_id='x'", "");
}

static void test_frozen_database_wait_ends_after_the_grace(void **state)
{
    (void)state;
    cloud_store_t st;
    char err[300];
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    if (cloud_store_open(&st, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    st.abortable = true;
    st.abort_fd = pfd[0];
    st.abort_grace_ms = 300;
    assert_int_equal(write(pfd[1], "x", 1), 1);   /* the signal */
    assert_true(cloud_store_run(&st, "UPDATE revocations SET tries=tries WHERE client_id='x'", "") >= 0);
    freeze();
    signal(SIGALRM, on_alarm);
    alarm(30);
    pthread_t th;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(pthread_create(&th, NULL, stuck_query, &st), 0);
    void *rc;
    pthread_join(th, &rc);
    clock_gettime(CLOCK_MONOTONIC, &b);
    alarm(0);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    fprintf(stderr, "a query on the frozen database after the signal: failed after %ld ms\n", ms);
    assert_int_equal((int)(intptr_t)rc, -1);
    assert_true(st.unavailable);
    assert_true(ms >= 250 && ms < 2000);
    assert_int_equal(cloud_store_run(&st, "SELECT 1", ""), -1);   /* no reconnect during the stop */
    cloud_store_close(&st);
    close(pfd[0]);
    close(pfd[1]);
}
#endif


/* The stop as cloud_main makes it: cloud_revoke_stop_begin at the signal, cloud_revoke_stop
 * once HTTP has stopped (here 1.5 s later: a request still in flight). The database is alive
 * but the release of the row the thread took waits (a row lock, held 2.5 s: a busy server)
 * when the second call comes; it has until the first call's bound (5 s). The second call
 * wrote the abort pipe again, after the thread had drained it: the release was cut at once
 * and the row stayed taken for its 2-minute lease (the close that late) on a live database. */
#ifdef SMARTCFG_HAVE_LIBPQ
static void *commit_later(void *arg)
{
    tu_sleep_ms(2500);
    PQclear(PQexec(arg, "COMMIT"));
    return NULL;
}
#endif

static void test_second_stop_call_keeps_the_release(void **state)
{
    (void)state;
#ifdef SMARTCFG_HAVE_LIBPQ
    pending(0);
    start_both(HANG_DELETE);
    for (int i = 0; i < 500 && !atomic_load(&api.hung); i++)
        tu_sleep_ms(10);
    assert_true(atomic_load(&api.hung));
    PGconn *d = PQconnectdb(getenv("SC_TEST_PG_DIRECT"));
    assert_int_equal(PQstatus(d), CONNECTION_OK);
    PGresult *r = PQexec(d, "BEGIN; SELECT 1 FROM revocations WHERE client_id='Pdev1' FOR UPDATE");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    pthread_t c;
    assert_int_equal(pthread_create(&c, NULL, commit_later, d), 0);
    struct timespec a;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cloud_revoke_stop_begin((int64_t)a.tv_sec * 1000 + a.tv_nsec / 1000000 + 5000);
    tu_sleep_ms(1500);   /* the DELETE abandoned (1 s), the release waiting on the row lock */
    cloud_revoke_stop(true);
    pthread_join(c, NULL);
    r = PQexec(d, "SELECT owner FROM revocations WHERE client_id='Pdev1'");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    fprintf(stderr, "the row's owner after the stop: '%s'\n", PQgetvalue(r, 0, 0));
    assert_string_equal(PQgetvalue(r, 0, 0), "");   /* released: free for another worker now */
    PQclear(r);
    PQfinish(d);
    assert_false(logged("stopping without releasing"));
#endif
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
#ifdef SMARTCFG_HAVE_LIBPQ
    if (getenv("SC_TEST_PG")) {   /* integ.cloud_pg: the cases of a database that freezes */
        if (!getenv("SC_TEST_PG_DIRECT") || !getenv("SC_TEST_PG_FREEZE")) {
            fprintf(stderr, "test_cloud_revoke: SC_TEST_PG wants SC_TEST_PG_DIRECT and SC_TEST_PG_FREEZE\n");
            return 2;
        }
        const struct CMUnitTest pg[] = {
            cmocka_unit_test_setup_teardown(test_frozen_database_release_is_bounded, setup_pg, teardown_pg),
            cmocka_unit_test_setup_teardown(test_frozen_database_poll_is_cut, setup_pg, teardown_pg),
            cmocka_unit_test_setup_teardown(test_frozen_database_wait_ends_after_the_grace, setup_pg, teardown_pg),
            cmocka_unit_test_setup_teardown(test_second_stop_call_keeps_the_release, setup_pg, teardown_pg),
        };
        return cmocka_run_group_tests(pg, NULL, NULL);
    }
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_abandoned_list_keeps_the_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandoned_delete_keeps_the_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kept_close_done_at_next_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_delete_is_tried_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answered_close_is_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_after_the_stop_is_recorded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
