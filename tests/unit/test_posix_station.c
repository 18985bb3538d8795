/* SPDX-License-Identifier: Apache-2.0 */
/* ctest-cost: 20 */
/* Station backends: the simulated AP's outcomes on a fake clock, the exec hook (credentials in
 * the environment, never argv; exit codes), and wpa_supplicant's control protocol against a
 * fake control socket server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sc_posix.h"
#include "sc_posix_station.h"

static uint32_t fake_now;
static char last_log[4096];

static uint32_t clk(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static void rnd(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x5a, len);
}

static void logsink(void *ctx, sc_log_level_t level, const char *line)
{
    (void)ctx;
    (void)level;
    strncat(last_log, line, sizeof last_log - strlen(last_log) - 2);
    strcat(last_log, "\n");
}

static sc_hal_sys_t fake_sys(void)
{
    sc_hal_sys_t s;
    sc_posix_sys_init(&s);
    s.now_ms = clk;
    s.random = rnd;
    s.log = logsink;
    return s;
}

#define JOIN(h, ssid, pwd) (h).join((h).ctx, (const uint8_t *)(ssid), strlen(ssid), (const uint8_t *)(pwd), strlen(pwd), NULL)

static void test_sim_outcomes(void **state)
{
    (void)state;
    sc_hal_sys_t sys = fake_sys();
    sc_posix_station_t st;
    sc_hal_station_t h;
    char err[128];
    assert_int_equal(sc_posix_station_open(&st, "sim:MyAP:secret123:127.0.0.2", NULL, &sys, &h, err, sizeof err), SC_OK);
    sc_sta_reason_t why;
    uint8_t ip[4];

    /* right credentials: connecting for a while, then the configured address */
    fake_now = 1000;
    last_log[0] = '\0';
    assert_int_equal(JOIN(h, "MyAP", "secret123"), SC_OK);
    assert_int_equal(h.status(h.ctx, &why), SC_STA_CONNECTING);
    assert_int_equal(h.get_ip(h.ctx, ip), SC_ERR_STATE);
    fake_now += 999;
    assert_int_equal(h.status(h.ctx, &why), SC_STA_CONNECTING);
    fake_now += 2001;
    assert_int_equal(h.status(h.ctx, &why), SC_STA_GOT_IP);
    assert_int_equal(why, SC_STA_REASON_NONE);
    assert_int_equal(h.get_ip(h.ctx, ip), SC_OK);
    const uint8_t want[4] = { 127, 0, 0, 2 };
    assert_memory_equal(ip, want, 4);
    assert_null(strstr(last_log, "secret123"));
    assert_non_null(strstr(last_log, "MyAP"));

    /* wrong password: FAILED with the reason, after 2..3 s */
    h.leave(h.ctx);
    fake_now = 10000;
    assert_int_equal(JOIN(h, "MyAP", "secret124"), SC_OK);
    fake_now += 1999;
    assert_int_equal(h.status(h.ctx, &why), SC_STA_CONNECTING);
    fake_now += 1001;
    assert_int_equal(h.status(h.ctx, &why), SC_STA_FAILED);
    assert_int_equal(why, SC_STA_REASON_WRONG_PASSWORD);
    assert_null(strstr(last_log, "secret124"));

    /* unknown SSID */
    h.leave(h.ctx);
    fake_now = 20000;
    assert_int_equal(JOIN(h, "OtherAP", "secret123"), SC_OK);
    fake_now += 3000;
    assert_int_equal(h.status(h.ctx, &why), SC_STA_FAILED);
    assert_int_equal(why, SC_STA_REASON_NO_AP);

    /* a second join while one runs is refused */
    h.leave(h.ctx);
    assert_int_equal(JOIN(h, "MyAP", "secret123"), SC_OK);
    assert_int_equal(JOIN(h, "MyAP", "secret123"), SC_ERR_BUSY);
    /* bad arguments */
    h.leave(h.ctx);
    assert_int_equal(h.join(h.ctx, (const uint8_t *)"x", 0, NULL, 0, NULL), SC_ERR_INVAL);

    /* a MAC is always available and stable */
    uint8_t m1[6], m2[6];
    assert_int_equal(h.get_mac(h.ctx, m1), SC_OK);
    assert_int_equal(h.get_mac(h.ctx, m2), SC_OK);
    assert_memory_equal(m1, m2, 6);
    assert_int_equal(m1[0] & 1, 0);
    sc_posix_station_close(&st);
}

static void test_sim_spec_parsing(void **state)
{
    (void)state;
    sc_hal_sys_t sys = fake_sys();
    sc_posix_station_t st;
    sc_hal_station_t h;
    char err[128];
    /* escaped colon in the password, open network */
    assert_int_equal(sc_posix_station_open(&st, "sim:A\\:P:pa\\:ss:10.0.0.9", NULL, &sys, &h, err, sizeof err), SC_OK);
    assert_int_equal(st.sim_ssid_len, 3);
    assert_memory_equal(st.sim_ssid, "A:P", 3);
    assert_int_equal(st.sim_pwd_len, 5);
    assert_int_equal(sc_posix_station_open(&st, "sim:Open::127.0.0.5", NULL, &sys, &h, err, sizeof err), SC_OK);
    assert_int_equal(st.sim_pwd_len, 0);
    /* with --iface the IP may be left out */
    assert_int_equal(sc_posix_station_open(&st, "sim:A:b", "lo", &sys, &h, err, sizeof err), SC_OK);
    fake_now = 0;
    assert_int_equal(JOIN(h, "A", "b"), SC_OK);
    fake_now = 5000;
    sc_sta_reason_t why;
    assert_int_equal(h.status(h.ctx, &why), SC_STA_GOT_IP);
    uint8_t ip[4];
    assert_int_equal(h.get_ip(h.ctx, ip), SC_OK);
    assert_int_equal(ip[0], 127);

    const char *bad[] = { "sim:", "sim:A", "sim::pw:1.2.3.4", "sim:A:b:not-an-ip", "sim:A:b:1.2.3.4:extra",
                          "sim:A:b", "sim:0123456789012345678901234567890123:x:1.1.1.1", "bogus:x", "", "exec:", "wpa:" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_not_equal(sc_posix_station_open(&st, bad[i], NULL, &sys, &h, err, sizeof err), SC_OK);
        assert_true(err[0] != '\0');
    }
    /* the error never repeats a password */
    assert_int_not_equal(sc_posix_station_open(&st, "sim:A:hunter2:nope", NULL, &sys, &h, err, sizeof err), SC_OK);
    assert_null(strstr(err, "hunter2"));
}

static char tmpdir[64];

static void write_script(const char *name, const char *body, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0700);
}

static sc_sta_status_t wait_done(sc_hal_station_t *h, sc_sta_reason_t *why)
{
    sc_sta_status_t s;
    for (int i = 0; i < 500; i++) {
        fake_now += 10;
        s = h->status(h->ctx, why);
        if (s != SC_STA_CONNECTING)
            return s;
        usleep(10000);
    }
    return s;
}

static void test_exec(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sc_exec_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    sc_hal_sys_t sys = fake_sys();
    sc_posix_station_t st;
    sc_hal_station_t h;
    char err[128], script[128], spec[160], out[160];
    snprintf(out, sizeof out, "%s/seen", tmpdir);
    char body[512];
    /* records what it got: argv count and the environment; exits per the password */
    snprintf(body, sizeof body,
             "echo \"argc=$# ssid=$SSID pw=$PASSWORD pwhex=$PASSWORD_HEX bssid=$BSSID iface=$IFACE\" > %s\n"
             "echo 'this goes to stderr, not stdout'\n"
             "case \"$PASSWORD\" in right) exit 0;; wrong) exit 2;; gone) exit 3;; *) exit 9;; esac",
             out);
    write_script("join.sh", body, script, sizeof script);
    snprintf(spec, sizeof spec, "exec:%s", script);
    assert_int_equal(sc_posix_station_open(&st, spec, "lo", &sys, &h, err, sizeof err), SC_OK);

    const uint8_t bssid[6] = { 0x02, 0x5c, 0, 0, 0, 1 };
    sc_sta_reason_t why;
    assert_int_equal(h.join(h.ctx, (const uint8_t *)"Net 1", 5, (const uint8_t *)"right", 5, bssid), SC_OK);
    assert_int_equal(wait_done(&h, &why), SC_STA_GOT_IP);
    uint8_t ip[4];
    assert_int_equal(h.get_ip(h.ctx, ip), SC_OK);
    assert_int_equal(ip[0], 127); /* lo's address */
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char line[256] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_non_null(strstr(line, "argc=0 "));
    assert_non_null(strstr(line, "ssid=Net 1 "));
    assert_non_null(strstr(line, "pw=right "));
    assert_non_null(strstr(line, "pwhex=7269676874 "));
    assert_non_null(strstr(line, "bssid=02:5c:00:00:00:01 "));
    assert_non_null(strstr(line, "iface=lo"));
    /* the parent's environment is not polluted */
    assert_null(getenv("PASSWORD"));

    h.leave(h.ctx);
    assert_int_equal(h.join(h.ctx, (const uint8_t *)"N", 1, (const uint8_t *)"wrong", 5, NULL), SC_OK);
    assert_int_equal(wait_done(&h, &why), SC_STA_FAILED);
    assert_int_equal(why, SC_STA_REASON_WRONG_PASSWORD);
    h.leave(h.ctx);
    assert_int_equal(h.join(h.ctx, (const uint8_t *)"N", 1, (const uint8_t *)"gone", 4, NULL), SC_OK);
    assert_int_equal(wait_done(&h, &why), SC_STA_FAILED);
    assert_int_equal(why, SC_STA_REASON_NO_AP);
    h.leave(h.ctx);
    assert_int_equal(h.join(h.ctx, (const uint8_t *)"N", 1, (const uint8_t *)"???", 3, NULL), SC_OK);
    assert_int_equal(wait_done(&h, &why), SC_STA_FAILED);
    assert_int_equal(why, SC_STA_REASON_OTHER);
    sc_posix_station_close(&st);

    /* a hanging script is stopped at the timeout */
    write_script("hang.sh", "sleep 30", script, sizeof script);
    snprintf(spec, sizeof spec, "exec:%s", script);
    assert_int_equal(sc_posix_station_open(&st, spec, "lo", &sys, &h, err, sizeof err), SC_OK);
    st.exec_timeout_ms = 200;
    assert_int_equal(h.join(h.ctx, (const uint8_t *)"N", 1, (const uint8_t *)"x", 1, NULL), SC_OK);
    assert_int_equal(wait_done(&h, &why), SC_STA_FAILED);
    assert_int_equal(why, SC_STA_REASON_OTHER);
    assert_int_equal(st.pid, 0);
    sc_posix_station_close(&st);

    /* a missing script fails the join at once */
    snprintf(spec, sizeof spec, "exec:%s/missing.sh", tmpdir);
    assert_int_equal(sc_posix_station_open(&st, spec, "lo", &sys, &h, err, sizeof err), SC_OK);
    assert_int_not_equal(h.join(h.ctx, (const uint8_t *)"N", 1, (const uint8_t *)"x", 1, NULL), SC_OK);
    assert_int_equal(h.status(h.ctx, &why), SC_STA_FAILED);
    sc_posix_station_close(&st);
    /* exec needs --iface */
    assert_int_not_equal(sc_posix_station_open(&st, spec, NULL, &sys, &h, err, sizeof err), SC_OK);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* --- fake wpa_supplicant ------------------------------------------------------------ */

typedef struct {
    int fd;
    char path[108];
    char log[8192];          /* commands received, one a line */
    const char *const *states; /* wpa_state answered to successive STATUS */
    int nstates, next_state;
    const char *ip;          /* ip_address in STATUS once COMPLETED (NULL: none) */
    const char *save_reply;  /* answer to SAVE_CONFIG (NULL: FAIL, as without update_config=1) */
    const char *networks;    /* LIST_NETWORKS's lines after the header (NULL: the new one only) */
    const char *ours;        /* ids (",1,2,") whose id_str is "smartcfg", from an earlier run */
    const char *lookalike;   /* ids whose id_str (the product's) only starts like ours */
    const char *nosave;      /* ids whose id_str is "smartcfg-nosave" (ours, never saved) */
    int slow_id, slow_ms;    /* GET_NETWORK <slow_id> id_str is answered after slow_ms (0: at once) */
    const char *slow_req;    /* this request is answered after slow_req_ms */
    int slow_req_ms;
    /* The test reads log and sets the fields above while the fake's thread runs, ordered by the
     * request and its reply on the socket (the station has no thread of its own); ThreadSanitizer
     * does not see a datagram as an ordering, so tests/tsan.supp names fake_wpa_main. stop is
     * the one field read with nothing in between: an atomic (volatile was a data race). */
    atomic_int stop;
} fake_wpa_t;

static void *fake_wpa_main(void *arg)
{
    fake_wpa_t *w = arg;
    while (!atomic_load(&w->stop)) {
        char req[512];
        struct sockaddr_un from;
        socklen_t fl = sizeof from;
        struct timeval tv = { 0, 50000 };
        setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = recvfrom(w->fd, req, sizeof req - 1, 0, (struct sockaddr *)&from, &fl);
        if (n <= 0)
            continue;
        req[n] = '\0';
        strncat(w->log, req, sizeof w->log - strlen(w->log) - 2);
        strcat(w->log, "\n");
        char reply[512];
        if (!strcmp(req, "PING"))
            strcpy(reply, "PONG\n");
        else if (!strcmp(req, "ADD_NETWORK"))
            strcpy(reply, "3\n");
        else if (!strncmp(req, "SET_NETWORK 3 ", 14) || !strcmp(req, "SELECT_NETWORK 3") ||
                 !strncmp(req, "REMOVE_NETWORK ", 15))
            strcpy(reply, "OK\n");
        else if (!strcmp(req, "LIST_NETWORKS"))
            snprintf(reply, sizeof reply, "network id / ssid / bssid / flags\n%s3\tHome\tany\t[CURRENT]\n",
                     w->networks ? w->networks : "");
        else if (!strncmp(req, "GET_NETWORK ", 12) && strstr(req, " id_str")) {
            char id[16];
            snprintf(id, sizeof id, ",%d,", atoi(req + 12));
            if (w->slow_ms && atoi(req + 12) == w->slow_id)
                usleep((useconds_t)w->slow_ms * 1000);
            snprintf(reply, sizeof reply, "%s",
                     atoi(req + 12) == 3 || (w->ours && strstr(w->ours, id))   ? "\"smartcfg\""
                     : w->nosave && strstr(w->nosave, id)                     ? "\"smartcfg-nosave\""
                     : w->lookalike && strstr(w->lookalike, id)               ? "\"smartcfg\"x\""
                                                                               : "FAIL\n");
        }
        else if (!strcmp(req, "SAVE_CONFIG"))
            snprintf(reply, sizeof reply, "%s", w->save_reply ? w->save_reply : "FAIL\n");
        else if (!strcmp(req, "STATUS")) {
            const char *s = w->states[w->next_state < w->nstates ? w->next_state : w->nstates - 1];
            w->next_state++;
            if (!strcmp(s, "COMPLETED") && w->ip)
                snprintf(reply, sizeof reply, "bssid=02:5c:00:00:00:01\nssid=x\nwpa_state=%s\nip_address=%s\n", s, w->ip);
            else
                snprintf(reply, sizeof reply, "wpa_state=%s\naddress=02:00:00:00:00:01\n", s);
        } else
            strcpy(reply, "FAIL\n");
        if (w->slow_req && !strcmp(req, w->slow_req))
            usleep((useconds_t)w->slow_req_ms * 1000);
        sendto(w->fd, reply, strlen(reply), 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

/* A fresh fake answering STATUS with states[0..n-1] (the last repeats), ip once COMPLETED. */
static void fake_wpa_init(fake_wpa_t *w, const char *const *states, int n, const char *ip)
{
    memset(w, 0, sizeof *w);
    w->states = states;
    w->nstates = n;
    w->ip = ip;
}

static void fake_wpa_start(fake_wpa_t *w, pthread_t *t)
{
    snprintf(w->path, sizeof w->path, "/tmp/sc_wpa_%d", (int)getpid());
    unlink(w->path);
    w->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, w->path);
    assert_int_equal(bind(w->fd, (struct sockaddr *)&a, sizeof a), 0);
    pthread_create(t, NULL, fake_wpa_main, w);
}

static void fake_wpa_stop(fake_wpa_t *w, pthread_t t)
{
    atomic_store(&w->stop, 1);
    pthread_join(t, NULL);
    close(w->fd);
    unlink(w->path);
}

static sc_sta_status_t wpa_wait(sc_hal_station_t *h, sc_sta_reason_t *why, int rounds)
{
    sc_sta_status_t s = SC_STA_CONNECTING;
    for (int i = 0; i < rounds && s == SC_STA_CONNECTING; i++) {
        fake_now += 250; /* past the STATUS rate limit */
        s = h->status(h->ctx, why);
    }
    return s;
}

/* A wpa: station opened on the running fake, the clock and the log reset. */
static void wpa_station(fake_wpa_t *w, sc_posix_station_t *st, sc_hal_station_t *h)
{
    static sc_hal_sys_t sys; /* outlives the station that keeps a pointer to it */
    sys = fake_sys();
    char err[160], spec[160];
    snprintf(spec, sizeof spec, "wpa:%s", w->path);
    assert_int_equal(sc_posix_station_open(st, spec, NULL, &sys, h, err, sizeof err), SC_OK);
    fake_now = 0;
    last_log[0] = '\0';
}

/* The fake started and a station opened on it. */
static void wpa_open(fake_wpa_t *w, pthread_t *t, sc_posix_station_t *st, sc_hal_station_t *h)
{
    fake_wpa_start(w, t);
    wpa_station(w, st, h);
}

/* Joins "Home" (password "new-password") and waits until the station has its address. */
static void join_home(sc_hal_station_t *h)
{
    assert_int_equal(JOIN(*h, "Home", "new-password"), SC_OK);
    sc_sta_reason_t why;
    assert_int_equal(wpa_wait(h, &why, 10), SC_STA_GOT_IP);
}

/* A reply this late is past every request's 1 s timeout even for a station thread descheduled
 * on a loaded machine (its poll looks once more when the timer fires). */
#define LATE_MS 2500

/* The save tests' fake: it completes at once and answers SAVE_CONFIG "OK"; networks as in
 * LIST_NETWORKS (NULL: the new one only); slow (NULL: none) answered LATE_MS late. Set further
 * fields before saving_open, which starts it. */
static void saving_fake(fake_wpa_t *w, const char *ip, const char *networks, const char *slow)
{
    static const char *const completing[] = { "COMPLETED" };
    fake_wpa_init(w, completing, 1, ip);
    w->save_reply = "OK\n";
    w->networks = networks;
    w->slow_req = slow;
    w->slow_req_ms = slow ? LATE_MS : 0;
}

/* The fake started and a station with --wpa-save opened on it. */
static void saving_open(fake_wpa_t *w, pthread_t *t, sc_posix_station_t *st, sc_hal_station_t *h)
{
    wpa_open(w, t, st, h);
    st->wpa_save = true;
}

static void test_wpa_join_ok(void **state)
{
    (void)state;
    static const char *const states[] = { "SCANNING", "ASSOCIATING", "4WAY_HANDSHAKE", "COMPLETED" };
    static fake_wpa_t w;
    fake_wpa_init(&w, states, (int)(sizeof states / sizeof *states), "192.168.7.23");
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    wpa_open(&w, &t, &st, &h);
    last_log[0] = '\0';
    const uint8_t bssid[6] = { 0x02, 0x5c, 0, 0, 0, 1 };
    /* a passphrase with quotes, spaces and a newline: nothing of it reaches the wire */
    const char *pwd = "p\"a ss\nword";
    assert_int_equal(h.join(h.ctx, (const uint8_t *)"My \"AP\"", 7, (const uint8_t *)pwd, strlen(pwd), bssid), SC_OK);
    sc_sta_reason_t why;
    assert_int_equal(wpa_wait(&h, &why, 10), SC_STA_GOT_IP);
    uint8_t ip[4];
    assert_int_equal(h.get_ip(h.ctx, ip), SC_OK);
    const uint8_t want[4] = { 192, 168, 7, 23 };
    assert_memory_equal(ip, want, 4);
    assert_non_null(strstr(w.log, "ADD_NETWORK\n"));
    assert_non_null(strstr(w.log, "SET_NETWORK 3 ssid 4d792022415022\n")); /* hex of My "AP" */
    assert_non_null(strstr(w.log, "SET_NETWORK 3 key_mgmt WPA-PSK\n"));
    assert_non_null(strstr(w.log, "SET_NETWORK 3 bssid 02:5c:00:00:00:01\n"));
    /* probed for by name: found even when its AP does not broadcast the SSID (hidden) */
    assert_non_null(strstr(w.log, "SET_NETWORK 3 scan_ssid 1\n"));
    assert_null(strstr(w.log, "wep_key"));
    assert_non_null(strstr(w.log, "SELECT_NETWORK 3\n"));
    /* the PSK is PBKDF2(passphrase, ssid): 64 hex digits, and the passphrase never appears */
    const char *psk = strstr(w.log, "SET_NETWORK 3 psk ");
    assert_non_null(psk);
    psk += strlen("SET_NETWORK 3 psk ");
    for (int i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", psk[i]));
    assert_int_equal(psk[64], '\n');
    assert_null(strstr(w.log, "ss\nword"));
    assert_null(strstr(last_log, "a ss"));
    assert_null(strstr(w.log, "SAVE_CONFIG")); /* only when asked (--wpa-save) */
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

/* --wpa-save: once joined (not before), SAVE_CONFIG, so the network outlives a restart of
 * wpa_supplicant; refused (no update_config=1), the join stands and the log says so. */
static void test_wpa_save(void **state)
{
    (void)state;
    static const char *const states[] = { "ASSOCIATING", "4WAY_HANDSHAKE", "COMPLETED" };
    static const char *const replies[] = { "OK\n", NULL };
    for (int i = 0; i < 2; i++) {
        static fake_wpa_t w;
        fake_wpa_init(&w, states, (int)(sizeof states / sizeof *states), "192.168.7.24");
        w.save_reply = replies[i];
        pthread_t t;
        sc_posix_station_t st;
        sc_hal_station_t h;
        wpa_open(&w, &t, &st, &h);
        st.wpa_save = true;
        assert_int_equal(h.join(h.ctx, (const uint8_t *)"Home", 4, (const uint8_t *)"password1", 9, NULL), SC_OK);
        sc_sta_reason_t why;
        assert_int_equal(wpa_wait(&h, &why, 10), SC_STA_GOT_IP);
        const char *sel = strstr(w.log, "SELECT_NETWORK 3\n"), *save = strstr(w.log, "SAVE_CONFIG\n");
        assert_non_null(sel);
        assert_non_null(save);
        assert_true(save > sel);
        int polls = 0; /* SAVE_CONFIG follows the STATUS that said COMPLETED, the third */
        for (const char *p = w.log; (p = strstr(p, "STATUS\n")) != NULL && p < save; p++)
            polls++;
        assert_int_equal(polls, 3);
        assert_null(strstr(save + 1, "SAVE_CONFIG")); /* once */
        if (i == 0)
            assert_non_null(strstr(last_log, "network 3 saved"));
        else
            assert_non_null(strstr(last_log, "did not save network 3"));
        sc_posix_station_close(&st);
        fake_wpa_stop(&w, t);
    }
}

/* Re-provisioning (a new router password): the networks an earlier provisioning added (id_str
 * "smartcfg") go once the new one joined, and before SAVE_CONFIG; the product's own stay. */
static void test_wpa_replaces_own(void **state)
{
    (void)state;
    static const char *const states[] = { "ASSOCIATING", "COMPLETED" };
    static fake_wpa_t w;
    fake_wpa_init(&w, states, (int)(sizeof states / sizeof *states), "192.168.7.25");
    w.save_reply = "OK\n";
    w.networks = "0\tOffice\tany\t\n1\tHome\t02:5c:00:00:00:01\t[DISABLED]\n2\tLab\tany\t\n4\tHome\tany\t\n"
                 "5\ta\"#b\tany\t[DISABLED]\n";
    w.ours = ",1,4,";
    w.nosave = ",5,"; /* ours too: one never saved for its SSID (id_str "smartcfg-nosave") */
    w.lookalike = ",2,"; /* the product's, tagged 'smartcfg"x': kept (it was taken by prefix) */
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    wpa_open(&w, &t, &st, &h);
    st.wpa_save = true;
    assert_int_equal(h.join(h.ctx, (const uint8_t *)"Home", 4, (const uint8_t *)"new-password", 12, NULL), SC_OK);
    assert_non_null(strstr(w.log, "SET_NETWORK 3 id_str \"smartcfg\"\n"));
    assert_null(strstr(w.log, "REMOVE_NETWORK")); /* nothing removed before the join worked */
    assert_null(strstr(w.log, "GET_NETWORK"));
    sc_sta_reason_t why;
    assert_int_equal(wpa_wait(&h, &why, 10), SC_STA_GOT_IP);
    const char *r1 = strstr(w.log, "REMOVE_NETWORK 1\n"), *r4 = strstr(w.log, "REMOVE_NETWORK 4\n");
    const char *r5 = strstr(w.log, "REMOVE_NETWORK 5\n");
    const char *save = strstr(w.log, "SAVE_CONFIG\n");
    assert_non_null(r1);
    assert_non_null(r4);
    assert_non_null(r5);
    assert_non_null(save);
    assert_true(r1 < save && r4 < save && r5 < save);
    assert_null(strstr(w.log, "REMOVE_NETWORK 0"));
    assert_null(strstr(w.log, "REMOVE_NETWORK 2"));
    assert_null(strstr(w.log, "REMOVE_NETWORK 3"));
    assert_null(strstr(w.log, "GET_NETWORK 3 ")); /* the new one is not even asked about */
    /* SELECT_NETWORK disabled the others: the product's that were enabled are enabled again,
     * before SAVE_CONFIG, so they are not saved disabled (1 was disabled already; 4 is gone) */
    const char *e0 = strstr(w.log, "ENABLE_NETWORK 0\n"), *e2 = strstr(w.log, "ENABLE_NETWORK 2\n");
    assert_non_null(e0);
    assert_non_null(e2);
    assert_true(e0 > strstr(w.log, "SELECT_NETWORK 3\n") && e0 < save && e2 < save);
    assert_null(strstr(w.log, "ENABLE_NETWORK 1"));
    assert_null(strstr(w.log, "ENABLE_NETWORK 3"));
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

/* A wpa_supplicant slower than the 1 s request timeout on one GET_NETWORK: its late
 * "smartcfg" (network 1, ours) was read as the answer about the next network, the product's
 * own network 2, which was removed. The pass now ends at a request that timed out. */
static void test_wpa_late_reply_keeps_product_network(void **state)
{
    (void)state;
    static const char *const states[] = { "COMPLETED" };
    static fake_wpa_t w;
    fake_wpa_init(&w, states, (int)(sizeof states / sizeof *states), "192.168.7.25");
    w.networks = "1\tOld\tany\t\n2\tLab\tany\t\n";
    w.ours = ",1,";
    w.slow_id = 1;
    w.slow_ms = 1300;
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    wpa_open(&w, &t, &st, &h);
    join_home(&h);
    usleep(400000); /* the fake answers late; whatever the station sent after that is logged */
    assert_non_null(strstr(w.log, "GET_NETWORK 1 id_str\n"));
    assert_null(strstr(w.log, "REMOVE_NETWORK 2"));
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

/* A REMOVE_NETWORK answered after the 1 s timeout ("OK", late) while SAVE_CONFIG is refused:
 * the late "OK" was read as SAVE_CONFIG's answer and the log said the network was saved. A
 * request that timed out now leaves its socket behind, and its late reply with it; and since
 * the remove pass was not complete, SAVE_CONFIG is not even asked (test_wpa_unremoved_not_saved). */
static void test_wpa_late_reply_not_save_answer(void **state)
{
    (void)state;
    static fake_wpa_t w;
    saving_fake(&w, "192.168.7.26", "1\tOld\tany\t\n", "REMOVE_NETWORK 1");
    w.ours = ",1,";
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    saving_open(&w, &t, &st, &h);
    join_home(&h);
    assert_null(strstr(last_log, "network 3 saved"));
    assert_non_null(strstr(last_log, "network 3 not saved: the earlier provisionings' networks"));
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

/* SAVE_CONFIG answered "OK" after 2.5 s (a slow flash): that was reported as not saved (the
 * 1 s timeout of every request). It has 5 s of its own now; and a SAVE_CONFIG that does not
 * answer in time is reported as not known, neither saved nor refused. */
static void test_wpa_slow_save(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        static fake_wpa_t w;
        saving_fake(&w, "192.168.7.27", NULL, "SAVE_CONFIG");
        pthread_t t;
        sc_posix_station_t st;
        sc_hal_station_t h;
        saving_open(&w, &t, &st, &h);
        if (i == 1)
            st.wpa_save_ms = 800;
        join_home(&h);
        if (i == 0) {
            assert_non_null(strstr(last_log, "network 3 saved"));
        } else {
            assert_non_null(strstr(last_log, "did not answer SAVE_CONFIG within 800 ms: not known whether network 3"));
            assert_null(strstr(last_log, "network 3 saved"));
            assert_null(strstr(last_log, "did not save"));
        }
        sc_posix_station_close(&st);
        fake_wpa_stop(&w, t);
    }
}

/* LIST_NETWORKS not answered within the 1 s timeout (a busy wpa_supplicant): nothing was
 * noted, SELECT_NETWORK disabled every other network anyway, and none was enabled again: the
 * product's fallback saved disabled by --wpa-save, or, after a failed join, the device offline
 * until wpa_supplicant restarted. The join now fails there, before selecting, and is withdrawn. */
static void test_wpa_no_list_no_select(void **state)
{
    (void)state;
    static fake_wpa_t w;
    saving_fake(&w, "192.168.7.29", "0\tFallback\tany\t\n", "LIST_NETWORKS");
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    saving_open(&w, &t, &st, &h);
    assert_int_not_equal(JOIN(h, "Home", "new-password"), SC_OK);
    for (int i = 0; i < 40 && !strstr(w.log, "REMOVE_NETWORK 3\n"); i++)
        usleep(50000); /* (join waited for its answer: it is logged already) */
    assert_null(strstr(w.log, "SELECT_NETWORK"));
    assert_null(strstr(w.log, "SAVE_CONFIG"));
    assert_non_null(strstr(w.log, "REMOVE_NETWORK 3\n"));
    assert_non_null(strstr(last_log, "no reply to LIST_NETWORKS"));
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

/* An ENABLE_NETWORK not answered in time once joined: the pass ended there, the networks after
 * it stayed disabled, and SAVE_CONFIG then saved them disabled for good (the product's own
 * fallback). The network is not saved now, and the log says why. */
static void test_wpa_unrestored_not_saved(void **state)
{
    (void)state;
    static fake_wpa_t w;
    saving_fake(&w, "192.168.7.30", "0\tOffice\tany\t\n2\tLab\tany\t\n", "ENABLE_NETWORK 0");
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    saving_open(&w, &t, &st, &h);
    join_home(&h);
    assert_non_null(strstr(w.log, "ENABLE_NETWORK 0\n"));
    assert_null(strstr(w.log, "SAVE_CONFIG"));
    assert_non_null(strstr(last_log, "network 3 not saved: not every network SELECT_NETWORK disabled"));
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

/* A GET_NETWORK id_str not answered in time ends the pass over the earlier provisionings'
 * networks, and SAVE_CONFIG then wrote the ones left, among them one never saved for its SSID
 * ('"a#'), which makes wpa_supplicant 2.10 refuse the whole file at its next start. Not saved
 * now unless that pass was complete. */
static void test_wpa_unremoved_not_saved(void **state)
{
    (void)state;
    static fake_wpa_t w;
    saving_fake(&w, "192.168.7.31", "1\t\\\"a#\tany\t[DISABLED]\n", NULL); /* disabled: nothing to enable again */
    w.ours = ",1,";
    w.slow_id = 1;
    w.slow_ms = LATE_MS;
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    saving_open(&w, &t, &st, &h);
    join_home(&h);
    assert_non_null(strstr(w.log, "GET_NETWORK 1 id_str\n"));
    usleep(2000000); /* until the fake answered late: whatever the station sent after is logged */
    assert_null(strstr(w.log, "SAVE_CONFIG"));
    assert_non_null(strstr(last_log, "network 3 not saved: the earlier provisionings' networks could not all be"));
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

/* --wpa-save and an SSID with a '#' after an odd number of '"': wpa_supplicant 2.10 writes it
 * as "text" and reads the '#' as a comment, so the saved network came back with another SSID
 * ('"#x': an empty one, which matches any network). Not saved now, and the log says why; a
 * '#' after an even number of quotes is inside the text and saved. */
static void test_wpa_save_refused_ssid(void **state)
{
    (void)state;
    static const char *const states[] = { "COMPLETED" };
    static const char *const ssids[] = { "a\"#b", "\"#x", "Cafe \"free\" #1", "x\"y\x01#" };
    static const bool saved[] = { false, false, true, true };
    for (int i = 0; i < 4; i++) {
        static fake_wpa_t w;
        fake_wpa_init(&w, states, (int)(sizeof states / sizeof *states), "192.168.7.28");
        w.save_reply = "OK\n";
        pthread_t t;
        sc_posix_station_t st;
        sc_hal_station_t h;
        wpa_open(&w, &t, &st, &h);
        st.wpa_save = true;
        assert_int_equal(JOIN(h, ssids[i], ""), SC_OK);
        sc_sta_reason_t why;
        assert_int_equal(wpa_wait(&h, &why, 10), SC_STA_GOT_IP);
        if (saved[i]) {
            assert_non_null(strstr(w.log, "SAVE_CONFIG\n"));
            assert_non_null(strstr(w.log, "SET_NETWORK 3 id_str \"smartcfg\"\n"));
        } else {
            assert_null(strstr(w.log, "SAVE_CONFIG"));
            assert_non_null(strstr(last_log, "network 3 not saved: wpa_supplicant's config file would read its SSID"));
            /* marked, for a product that saves by itself (wpa_supplicant has no "never save") */
            assert_non_null(strstr(w.log, "SET_NETWORK 3 id_str \"smartcfg-nosave\"\n"));
        }
        sc_posix_station_close(&st);
        fake_wpa_stop(&w, t);
    }
}

/* A password no WPA-PSK network can have (1 to 7 characters but 5, 64 that are not all hex)
 * used to be sent as a passphrase and failed only at the 30 s timeout. It fails now at once,
 * as a wrong password (what the 30 s path says when a handshake failed), with nothing sent to
 * wpa_supplicant (the network the device is on stays) and the reason in the log, never the
 * password. 8..63 characters and 64 hex digits are WPA-PSK, 13 and 10 too (also WEP lengths:
 * never offered as WEP keys). */
static void test_wpa_impossible_password(void **state)
{
    (void)state;
    static const char *const states[] = { "SCANNING" };
    static const char *const bad[] = { "Q", "hunt", "hunter", "hunter2",
                                       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg" };
    static fake_wpa_t w;
    fake_wpa_init(&w, states, 1, NULL);
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    wpa_open(&w, &t, &st, &h);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        w.log[0] = '\0';
        last_log[0] = '\0';
        assert_int_equal(JOIN(h, "Home", bad[i]), SC_OK);
        sc_sta_reason_t why = SC_STA_REASON_NONE;
        assert_int_equal(h.status(h.ctx, &why), SC_STA_FAILED); /* at once: no clock advanced */
        assert_int_equal(why, SC_STA_REASON_WRONG_PASSWORD);
        assert_non_null(strstr(last_log, "is neither a WPA passphrase"));
        assert_null(strstr(last_log, bad[i]));
        usleep(100000); /* whatever was sent has reached the fake */
        assert_string_equal(w.log, "");
        h.leave(h.ctx);
    }
    static const char *const good[] = { "hunter22", "0123456789", "abcdefghijklm" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        w.log[0] = '\0';
        assert_int_equal(JOIN(h, "Home", good[i]), SC_OK);
        sc_sta_reason_t why;
        assert_int_equal(h.status(h.ctx, &why), SC_STA_CONNECTING);
        assert_non_null(strstr(w.log, "SET_NETWORK 3 key_mgmt WPA-PSK\n"));
        assert_null(strstr(w.log, "wep_key"));
        h.leave(h.ctx);
    }
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

/* A 5-character password can only be a WEP key (40 bits; the reference ESP8266 joins WEP APs):
 * key_mgmt NONE, the key as wep_key0 in hex (no quoting, as the SSID), key 0 to send with,
 * either WEP authentication; no PSK. A key that the saved file would read back cut at a '#'
 * is not saved and is marked, like such an SSID; the log never holds the key. */
static void test_wpa_wep(void **state)
{
    (void)state;
    static const char *const states[] = { "ASSOCIATING", "COMPLETED" };
    static fake_wpa_t w;
    saving_fake(&w, "192.168.7.29", NULL, NULL);
    w.states = states;
    w.nstates = 2;
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    saving_open(&w, &t, &st, &h);
    assert_int_equal(JOIN(h, "OldCafe", "ab\"cd"), SC_OK);
    sc_sta_reason_t why;
    assert_int_equal(wpa_wait(&h, &why, 10), SC_STA_GOT_IP);
    assert_non_null(strstr(w.log, "SET_NETWORK 3 key_mgmt NONE\n"));
    assert_non_null(strstr(w.log, "SET_NETWORK 3 auth_alg OPEN SHARED\n"));
    assert_non_null(strstr(w.log, "SET_NETWORK 3 wep_key0 6162226364\n"));
    assert_non_null(strstr(w.log, "SET_NETWORK 3 wep_tx_keyidx 0\n"));
    assert_non_null(strstr(w.log, "SET_NETWORK 3 scan_ssid 1\n"));
    assert_non_null(strstr(w.log, "SET_NETWORK 3 id_str \"smartcfg\"\n"));
    assert_null(strstr(w.log, " psk "));
    assert_null(strstr(w.log, "WPA-PSK"));
    assert_non_null(strstr(w.log, "SAVE_CONFIG\n"));
    assert_null(strstr(last_log, "ab\"cd"));
    assert_null(strstr(last_log, "6162226364"));
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);

    saving_fake(&w, "192.168.7.29", NULL, NULL);
    saving_open(&w, &t, &st, &h);
    assert_int_equal(JOIN(h, "OldCafe", "a\"#bc"), SC_OK);
    assert_int_equal(wpa_wait(&h, &why, 10), SC_STA_GOT_IP);
    assert_non_null(strstr(w.log, "SET_NETWORK 3 wep_key0 6122236263\n"));
    assert_non_null(strstr(w.log, "SET_NETWORK 3 id_str \"smartcfg-nosave\"\n"));
    assert_null(strstr(w.log, "SAVE_CONFIG"));
    assert_non_null(strstr(last_log, "network 3 not saved: wpa_supplicant's config file would read its SSID or WEP"));
    assert_null(strstr(last_log, "a\"#bc"));
    assert_null(strstr(last_log, "6122236263"));
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

/* A wpa_supplicant whose replies do not arrive (in another network namespace, where the
 * client's abstract address does not exist; here: one that takes too long): a setup failure
 * at open, before any request that changes something. It used to open, and the join's
 * ADD_NETWORK was carried out blind, leaving a network nobody knew of. */
static void test_wpa_no_answer_at_open(void **state)
{
    (void)state;
    static const char *const states[] = { "COMPLETED" };
    static fake_wpa_t w;
    fake_wpa_init(&w, states, (int)(sizeof states / sizeof *states), NULL);
    w.slow_req = "PING";
    w.slow_req_ms = LATE_MS;
    pthread_t t;
    fake_wpa_start(&w, &t);
    sc_hal_sys_t sys = fake_sys();
    sc_posix_station_t st;
    sc_hal_station_t h;
    char err[256] = "", spec[160];
    snprintf(spec, sizeof spec, "wpa:%s", w.path);
    assert_int_equal(sc_posix_station_open(&st, spec, NULL, &sys, &h, err, sizeof err), SC_ERR_IO);
    assert_non_null(strstr(err, "does not answer PING"));
    assert_int_equal(st.sock, -1);
    usleep(1700000); /* past the fake's answer: whatever the station sent after PING is logged */
    assert_string_equal(w.log, "PING\n");
    fake_wpa_stop(&w, t);
}

static void test_wpa_psk_vector(void **state)
{
    (void)state;
    /* IEEE 802.11i H.4 test vector: "password" / "IEEE" */
    static const char *const states[] = { "COMPLETED" };
    static fake_wpa_t w;
    fake_wpa_init(&w, states, (int)(sizeof states / sizeof *states), "10.1.1.1");
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    wpa_open(&w, &t, &st, &h);
    assert_int_equal(JOIN(h, "IEEE", "password"), SC_OK);
    assert_non_null(strstr(w.log, "psk f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e\n"));
    sc_sta_reason_t why;
    assert_int_equal(wpa_wait(&h, &why, 4), SC_STA_GOT_IP);
    h.leave(h.ctx);
    assert_non_null(strstr(w.log, "REMOVE_NETWORK 3\n"));
    /* open network */
    w.log[0] = '\0';
    assert_int_equal(JOIN(h, "Cafe", ""), SC_OK);
    assert_non_null(strstr(w.log, "SET_NETWORK 3 key_mgmt NONE\n"));
    assert_null(strstr(w.log, " psk "));
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

static void test_wpa_wrong_password(void **state)
{
    (void)state;
    static const char *const states[] = { "SCANNING", "ASSOCIATING", "4WAY_HANDSHAKE", "DISCONNECTED",
                                          "SCANNING", "4WAY_HANDSHAKE", "DISCONNECTED" };
    static fake_wpa_t w;
    fake_wpa_init(&w, states, (int)(sizeof states / sizeof *states), NULL);
    /* the network the device was on (an earlier provisioning's), one disabled, and one whose
     * SSID reads "[DISABLED]" (the flags are the last field) */
    w.networks = "0\tHome\tany\t[CURRENT]\n5\tOld\tany\t[DISABLED]\n6\t[DISABLED]\tany\t\n";
    w.ours = ",0,";
    pthread_t t;
    sc_posix_station_t st;
    sc_hal_station_t h;
    wpa_open(&w, &t, &st, &h);
    assert_int_equal(JOIN(h, "Net", "wrongpass"), SC_OK);
    sc_sta_reason_t why;
    assert_int_equal(wpa_wait(&h, &why, 20), SC_STA_FAILED);
    assert_int_equal(why, SC_STA_REASON_WRONG_PASSWORD);
    assert_null(strstr(w.log, "GET_NETWORK")); /* a failed join removes none of the earlier ones */
    /* the failed network is withdrawn as soon as the failure is known (not only on close: a
     * device lingering for its log, or an AT host, would stay off the air meanwhile), and
     * what SELECT_NETWORK disabled is enabled again: back to the last good network */
    const char *rm = strstr(w.log, "REMOVE_NETWORK 3\n"), *e0 = strstr(w.log, "ENABLE_NETWORK 0\n");
    assert_non_null(rm);
    assert_non_null(e0);
    assert_true(e0 > rm);
    assert_non_null(strstr(w.log, "ENABLE_NETWORK 6\n"));
    assert_null(strstr(w.log, "ENABLE_NETWORK 5"));
    assert_null(strstr(w.log, "REMOVE_NETWORK 0"));
    sc_posix_station_close(&st);
    assert_null(strstr(rm + 1, "REMOVE_NETWORK")); /* once */
    w.networks = NULL;

    /* never finds the AP: NO_AP at the timeout */
    static const char *const scanning[] = { "SCANNING" };
    w.states = scanning;
    w.nstates = 1;
    w.next_state = 0;
    wpa_station(&w, &st, &h);
    st.wpa_timeout_ms = 2000;
    assert_int_equal(JOIN(h, "Nowhere", "whatever1"), SC_OK);
    assert_int_equal(wpa_wait(&h, &why, 20), SC_STA_FAILED);
    assert_int_equal(why, SC_STA_REASON_NO_AP);
    sc_posix_station_close(&st);
    fake_wpa_stop(&w, t);
}

static void test_wpa_no_server(void **state)
{
    (void)state;
    sc_hal_sys_t sys = fake_sys();
    sc_posix_station_t st;
    sc_hal_station_t h;
    char err[160] = "";
    assert_int_not_equal(sc_posix_station_open(&st, "wpa:/tmp/sc_no_such_socket", NULL, &sys, &h, err, sizeof err), SC_OK);
    assert_non_null(strstr(err, "wpa_supplicant"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_outcomes),
        cmocka_unit_test(test_sim_spec_parsing),
        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_wpa_join_ok),
        cmocka_unit_test(test_wpa_save),
        cmocka_unit_test(test_wpa_replaces_own),
        cmocka_unit_test(test_wpa_late_reply_keeps_product_network),
        cmocka_unit_test(test_wpa_late_reply_not_save_answer),
        cmocka_unit_test(test_wpa_slow_save),
        cmocka_unit_test(test_wpa_save_refused_ssid),
        cmocka_unit_test(test_wpa_no_list_no_select),
        cmocka_unit_test(test_wpa_unrestored_not_saved),
        cmocka_unit_test(test_wpa_unremoved_not_saved),
        cmocka_unit_test(test_wpa_no_answer_at_open),
        cmocka_unit_test(test_wpa_psk_vector),
        cmocka_unit_test(test_wpa_impossible_password),
        cmocka_unit_test(test_wpa_wep),
        cmocka_unit_test(test_wpa_wrong_password),
        cmocka_unit_test(test_wpa_no_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
