/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark of `smartcfg cloud` on loopback: starts it (its mosquitto, plugin, binding service,
 * HTTP API) with a fresh SQLite file, then
 *  1. latency: one device, token received -> app_bind_token published -> reply received,
 *     sequentially, median and p99;
 *  2. scale: N devices, one MQTT connection each, all driven from this process with poll(),
 *     connecting (signed credentials, checked by the plugin), subscribing, then binding at once;
 *  3. where the time goes in SQLite: a bind committed alone with synchronous=FULL/NORMAL versus
 *     binds batched in one transaction (what the binding service does per network pass);
 *  4. the token API: AppCreateDeviceBindToken requests per second (one kept-alive client);
 *  5. under attack: a device's connect+subscribe+bind latency while 2 400 idle MQTT connections
 *     (F1 style, from 8 addresses) and 400 slow HTTP clients (F2 style) are held open.
 * 1, 2 and 4 run twice: plain (HTTP, MQTT) and with TLS (HTTPS, MQTT over TLS: the devices
 * here speak mbedTLS), accounts on in both; the _tls figures are the second run.
 * Prints "BENCH <name> <value> <unit>". usage: bench_cloud [--scale 100,1000,5000] [--iters 300]
 * bench_cloud --load FILE --brokers HOST:PORT[,...] is the load client of the cluster test and
 * bench (scripts/test-cluster.sh, bench/cluster/run.sh): the same simulated devices against
 * brokers someone else runs, each retrying and failing over like a real one (run_load).
 * Needs the smartcfg binary next to bench/ (build/smartcfg) or in $SC_BUILD. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/ssl.h>
#include <netinet/tcp.h>
#include <sqlite3.h>

#include "smartcfg/binder.h"   /* --load retries on the device binder's schedule */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || getsockname(s, (struct sockaddr *)&a, &l))
        exit(1);
    close(s);
    return ntohs(a.sin_port);
}

/* ---- HTTP (libcurl, one kept-alive connection) ------------------------------------------ */
static CURL *curl;
static char base[64];
static char admin_key[80], access_token[80];
static bool tls;            /* this round: HTTPS and MQTT over TLS */
static char ca_file[PATH_MAX];
static const char *sfx = "";   /* "_tls" in the TLS round */
typedef struct { char *p; size_t n; } buf_t;

static size_t wr(char *d, size_t s, size_t n, void *u)
{
    buf_t *b = u;
    char *np = realloc(b->p, b->n + s * n + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->n, d, s * n);
    b->n += s * n;
    b->p[b->n] = 0;
    return s * n;
}

static cJSON *http_post(const char *path, const char *body)
{
    char url[256];
    buf_t b = { 0 };
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, wr);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_CAINFO, tls ? ca_file : NULL);
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", admin_key);
    struct curl_slist *hdr = curl_slist_append(NULL, auth);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(hdr);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    if (rc != CURLE_OK) {
        free(b.p);
        return NULL;
    }
    cJSON *j = cJSON_Parse(b.p ? b.p : "");
    free(b.p);
    return j;
}

static void cloud_random_key(char out[80])
{
    unsigned char r[24];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(r, 1, sizeof r, f) != sizeof r)
        exit(1);
    fclose(f);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static int new_token(char out[33])
{
    char body[160];
    snprintf(body, sizeof body, "{\"Action\":\"AppCreateDeviceBindToken\",\"AccessToken\":\"%s\"}", access_token);
    cJSON *j = http_post("/tokenapi?cmd=AppCreateDeviceBindToken", body);
    const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "Token");
    int ok = cJSON_IsString(t) && strlen(t->valuestring) == 32;
    if (ok)
        strcpy(out, t->valuestring);
    cJSON_Delete(j);
    return ok ? 0 : -1;
}

/* ---- devices: a minimal MQTT 3.1.1 client over raw non-blocking sockets ---------------
 * One descriptor per device (libmosquitto spends three), so 10 000 devices fit in the usual
 * 20 000 open-file limit of one process. Only what a binding device does: CONNECT, SUBSCRIBE,
 * PUBLISH QoS 1, and CONNACK/SUBACK/PUBACK/PUBLISH in. */
enum { ST_NEW, ST_CONNECTING, ST_CONNECTED, ST_SUBSCRIBED, ST_PUBLISHED, ST_REPLIED, ST_FAILED };
typedef struct {
    int fd;
    char name[24], token[33], down[96];
    int state, code;
    double t_pub, t_reply;
    unsigned char in[1024];
    size_t inlen;
    unsigned char out[512];
    size_t outlen;
    char user[96], pass[96];
    unsigned srcidx;
    unsigned tries;             /* --load: connections made; the broker is brokers[(srcidx + tries) % n] */
    double t_first, t_retry;    /* --load: first publish; when to reconnect or republish */
    double lat_bound;           /* --load: first publish -> first code-0 reply */
    double t_conn;              /* --load: when the current connection attempt began */
    unsigned npub;              /* --load: requests sent on the current connection */
    unsigned silent;            /* --load: connections given up for want of a reply */
    bool up;                    /* --load: the current connection had its CONNACK */
    bool bound;
    mbedtls_ssl_context *ssl;   /* TLS round */
    bool hs_done, want_write;
} simdev_t;

static mbedtls_ssl_config tls_conf;
static mbedtls_x509_crt tls_ca;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_entropy_context entropy;
static uint32_t next_src = 0x7f010000;   /* 127.1.0.0: source addresses for simulated devices */

static int bio_send(void *ctx, const unsigned char *b, size_t n)
{
    ssize_t w = send(*(int *)ctx, b, n, MSG_NOSIGNAL);
    if (w < 0)
        return errno == EAGAIN || errno == EINTR || errno == ENOTCONN ? MBEDTLS_ERR_SSL_WANT_WRITE : -1;
    return (int)w;
}

static int bio_recv(void *ctx, unsigned char *b, size_t n)
{
    ssize_t r = recv(*(int *)ctx, b, n, 0);
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ : -1;
    return (int)r;
}

static ssize_t dev_send(simdev_t *d, const void *b, size_t n)
{
    if (!d->ssl)
        return send(d->fd, b, n, MSG_NOSIGNAL);
    int r = mbedtls_ssl_write(d->ssl, b, n);
    d->want_write = r == MBEDTLS_ERR_SSL_WANT_WRITE;
    if (r >= 0)
        return r;
    errno = (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) ? EAGAIN : EIO;
    return -1;
}

static ssize_t dev_recv(simdev_t *d, void *b, size_t n)
{
    if (!d->ssl)
        return recv(d->fd, b, n, 0);
    int r = mbedtls_ssl_read(d->ssl, b, n);
    if (r >= 0)
        return r;
    if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
        return 0;
    errno = (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) ? EAGAIN : EIO;
    return -1;
}

static const char *product = "BENCHPROD1";
/* Connects in flight at once: mosquitto listens with a backlog of about 100. */
#define WAVE 100
static int mqtt_port;
static uint16_t load_ports[16];   /* --load: the brokers (loopback) the devices spread over */
static int nload_ports;
static int load_wave = WAVE;       /* --wave: --load devices connecting at once (this process) */
static unsigned char sub_qos = 1;   /* --sub-qos: the QoS of the devices' reply subscription */
/* epoll, not poll(): poll() over 10 000 sockets made the bench itself the biggest CPU user. */
static int ep = -1;

static void watch(simdev_t *d)
{
    bool out = d->ssl && !d->hs_done ? d->want_write : (d->outlen > 0 || d->want_write);
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = d };
    if (epoll_ctl(ep, EPOLL_CTL_MOD, d->fd, &ev) != 0)
        epoll_ctl(ep, EPOLL_CTL_ADD, d->fd, &ev);
}

static void put16(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void queue_packet(simdev_t *d, unsigned char type, const unsigned char *body, size_t n)
{
    unsigned char hdr[5];
    size_t h = 0, rl = n;
    hdr[h++] = type;
    do {
        unsigned char b = rl % 128;
        rl /= 128;
        hdr[h++] = b | (rl ? 128 : 0);
    } while (rl);
    if (d->outlen + h + n > sizeof d->out) {
        d->state = ST_FAILED;
        return;
    }
    memcpy(d->out + d->outlen, hdr, h);
    memcpy(d->out + d->outlen + h, body, n);
    d->outlen += h + n;
}

static size_t put_str(unsigned char *p, const char *s)
{
    size_t l = strlen(s);
    put16(p, l);
    memcpy(p + 2, s, l);
    return l + 2;
}

/* TLS: drives the handshake; true once it is done (then the queued CONNECT may go). */
static bool handshake(simdev_t *d)
{
    if (!d->ssl || d->hs_done)
        return true;
    int r = mbedtls_ssl_handshake(d->ssl);
    if (r == 0) {
        d->hs_done = true;
        d->want_write = false;
        return true;
    }
    if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
        d->state = ST_FAILED;
    d->want_write = r == MBEDTLS_ERR_SSL_WANT_WRITE;
    watch(d);
    return false;
}

static void flush_out(simdev_t *d)
{
    if (!handshake(d))
        return;
    bool had = d->outlen > 0;
    while (d->outlen) {
        ssize_t w = dev_send(d, d->out, d->outlen);
        if (w < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ENOTCONN)
                d->state = ST_FAILED;
            else
                watch(d);   /* wait for POLLOUT */
            return;
        }
        memmove(d->out, d->out + w, d->outlen - (size_t)w);
        d->outlen -= (size_t)w;
    }
    if (had)
        watch(d);   /* drained: readable only */
}

static int make_device(simdev_t *d, const char *name, const char *psk)
{
    memset(d, 0, sizeof *d);
    d->fd = -1;
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->down, sizeof d->down, "$thing/down/service/%s/%s", product, name);
    snprintf(d->user, sizeof d->user, "%s%s;21010406;bench;2147483647", product, name);
    unsigned char key[64], mac[32];
    size_t kl;
    if (mbedtls_base64_decode(key, sizeof key, &kl, (const unsigned char *)psk, strlen(psk)))
        return -1;
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, kl, (unsigned char *)d->user,
                    strlen(d->user), mac);
    for (int i = 0; i < 32; i++)
        snprintf(d->pass + 2 * i, 3, "%02x", mac[i]);
    strcat(d->pass, ";hmacsha256");
    d->state = ST_NEW;
    return 0;
}

static int dev_connect(simdev_t *d)
{
    d->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0)
        return -1;
    int one = 1;
    setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* as a device's MQTT stack would */
    /* Devices come from many loopback addresses, 16 per address, as from many homes: the
     * cloud caps connections per source address. */
    struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(next_src + d->srcidx / 16) };
    bind(d->fd, (struct sockaddr *)&src, sizeof src);
    uint16_t port = nload_ports ? load_ports[(d->srcidx + d->tries++) % (unsigned)nload_ports] : (uint16_t)mqtt_port;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(d->fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
        return -1;
    if (tls) {
        d->ssl = calloc(1, sizeof *d->ssl);
        mbedtls_ssl_init(d->ssl);
        if (mbedtls_ssl_setup(d->ssl, &tls_conf) != 0 || mbedtls_ssl_set_hostname(d->ssl, "localhost") != 0)
            return -1;
        mbedtls_ssl_set_bio(d->ssl, &d->fd, bio_send, bio_recv, NULL);
        d->want_write = true;   /* the TCP connect completes first */
    }
    unsigned char b[320];
    size_t n = 0;
    char id[64];
    snprintf(id, sizeof id, "%s%s", product, d->name);
    n += put_str(b + n, "MQTT");
    b[n++] = 4;      /* 3.1.1 */
    b[n++] = 0xC2;   /* username, password, clean session */
    put16(b + n, 600);
    n += 2;
    n += put_str(b + n, id);
    n += put_str(b + n, d->user);
    n += put_str(b + n, d->pass);
    queue_packet(d, 0x10, b, n);
    d->state = ST_CONNECTING;
    watch(d);   /* writable = connected: then the CONNECT goes out */
    return 0;
}

static void handle_packet(simdev_t *d, unsigned char type, const unsigned char *p, size_t n)
{
    switch (type >> 4) {
    case 2:   /* CONNACK */
        if (n < 2 || p[1] != 0) {
            d->state = ST_FAILED;
            return;
        }
        d->state = ST_CONNECTED;
        d->up = true;
        unsigned char b[128];
        size_t k = 0;
        put16(b, 1);
        k = 2;
        k += put_str(b + k, d->down);
        b[k++] = sub_qos;
        queue_packet(d, 0x82, b, k);
        break;
    case 9:   /* SUBACK */
        d->state = n >= 3 && p[2] <= 2 ? ST_SUBSCRIBED : ST_FAILED;
        break;
    case 3: { /* PUBLISH: the reply */
        if (n < 2)
            return;
        size_t tl = ((size_t)p[0] << 8) | p[1], off = 2 + tl;
        int qos = (type >> 1) & 3;
        if (off > n)
            return;
        if (qos) {
            if (off + 2 > n)
                return;
            unsigned char ack[2] = { p[off], p[off + 1] };
            queue_packet(d, 0x40, ack, 2);
            off += 2;
        }
        cJSON *j = cJSON_ParseWithLength((const char *)p + off, n - off);
        const cJSON *c = cJSON_GetObjectItem(j, "code");
        d->code = cJSON_IsNumber(c) ? c->valueint : -1;
        d->t_reply = now_ms();
        d->state = ST_REPLIED;
        cJSON_Delete(j);
        break;
    }
    default:  /* PUBACK and the rest need nothing */
        break;
    }
}

static void dev_read(simdev_t *d)
{
    if (!handshake(d))
        return;
    if (d->outlen)
        flush_out(d);   /* the CONNECT queued during the handshake */
    for (;;) {
        ssize_t r = dev_recv(d, d->in + d->inlen, sizeof d->in - d->inlen);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            d->state = ST_FAILED;
            return;
        }
        if (r < 0)
            break;
        d->inlen += (size_t)r;
        for (;;) {   /* whole packets out of the buffer */
            size_t rl = 0, mul = 1, i = 1;
            for (; i < d->inlen && i < 5; i++) {
                rl += (d->in[i] & 127) * mul;
                mul *= 128;
                if (!(d->in[i] & 128))
                    break;
            }
            if (i >= d->inlen || d->inlen < i + 1 + rl)
                break;
            handle_packet(d, d->in[0], d->in + i + 1, rl);
            size_t used = i + 1 + rl;
            memmove(d->in, d->in + used, d->inlen - used);
            d->inlen -= used;
        }
        if (d->inlen == sizeof d->in) {
            d->state = ST_FAILED;
            return;
        }
    }
}

static void dev_close(simdev_t *d)
{
    if (d->fd >= 0) {
        unsigned char disc[2] = { 0xE0, 0 };
        if (dev_send(d, disc, 2) < 0) { /* closing anyway */ }
        close(d->fd);
    }
    d->fd = -1;
    if (d->ssl) {
        mbedtls_ssl_free(d->ssl);
        free(d->ssl);
        d->ssl = NULL;
    }
}

static void publish_bind(simdev_t *d)
{
    char msg[160], up[96];
    unsigned char b[320];
    snprintf(up, sizeof up, "$thing/up/service/%s/%s", product, d->name);
    int ml = snprintf(msg, sizeof msg, "{\"method\":\"app_bind_token\",\"clientToken\":\"%s-1\",\"params\":{\"token\":\"%s\"}}",
                      d->name, d->token);
    size_t k = put_str(b, up);
    put16(b + k, 2);
    k += 2;
    memcpy(b + k, msg, (size_t)ml);
    k += (size_t)ml;
    d->state = ST_PUBLISHED;
    d->t_pub = now_ms();
    queue_packet(d, 0x32, b, k);
    flush_out(d);
}

/* One epoll event of a device: send what waits, read what came, send what that queued. */
static void serve(simdev_t *d, uint32_t events)
{
    if (events & EPOLLOUT)
        flush_out(d);
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        dev_read(d);
    if (d->outlen && d->state != ST_FAILED)
        flush_out(d);
}

/* Drives every device's socket until all of devs[0..n) reached `state` (or failed), or the
 * timeout. Events of other devices (earlier waves) are served too. */
static int drive(simdev_t *devs, int n, int state, double timeout_ms)
{
    struct epoll_event evs[1024];
    double end = now_ms() + timeout_ms;
    for (;;) {
        int pending = 0;
        for (int i = 0; i < n; i++)
            pending += devs[i].state < state && devs[i].state != ST_FAILED && devs[i].fd >= 0;
        if (!pending || now_ms() >= end)
            break;
        int k = epoll_wait(ep, evs, 1024, 5);
        for (int j = 0; j < k; j++) {
            simdev_t *d = evs[j].data.ptr;
            serve(d, evs[j].events);
            if (d->state == ST_FAILED && d->fd >= 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, d->fd, NULL);
                close(d->fd);
                d->fd = -1;
            }
            if (d->ssl && d->fd >= 0 && d->hs_done && mbedtls_ssl_get_bytes_avail(d->ssl))
                dev_read(d);   /* records mbedTLS already decrypted: epoll will not say so */
        }
    }
    int failed = 0;
    for (int i = 0; i < n; i++)
        failed += devs[i].state < state || devs[i].state == ST_FAILED;
    return failed;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

/* Creates devices bench<first>..: returns their PSKs (admin API). */
static char (*create_devices(int first, int n))[48]
{
    char (*psk)[48] = calloc((size_t)n, sizeof *psk);
    char path[96], body[96];
    snprintf(path, sizeof path, "/v1/products/%s/devices", product);
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof body, "{\"device_name\":\"d%d\"}", first + i);
        cJSON *j = http_post(path, body);
        const cJSON *s = cJSON_GetObjectItem(j, "device_secret");
        if (!cJSON_IsString(s)) {
            fprintf(stderr, "bench_cloud: creating device d%d failed\n", first + i);
            exit(1);
        }
        snprintf(psk[i], sizeof psk[i], "%s", s->valuestring);
        cJSON_Delete(j);
    }
    return psk;
}

static void run_scale(int n, int first)
{
    double t0 = now_ms();
    char (*psk)[48] = create_devices(first, n);
    simdev_t *devs = calloc((size_t)n, sizeof *devs);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "d%d", first + i);
        if (make_device(&devs[i], name, psk[i]) || new_token(devs[i].token)) {
            fprintf(stderr, "bench_cloud: setup failed\n");
            exit(1);
        }
        devs[i].srcidx = (unsigned)(first + i);
    }
    double t_setup = now_ms() - t0;
    t0 = now_ms();
    /* Waves of connects: a burst beyond the listen backlog costs SYN retransmits (1 s each). */
    int bad = 0, failed_connects = 0;
    for (int w = 0; w < n; w += WAVE) {
        int k = n - w < WAVE ? n - w : WAVE;
        for (int i = w; i < w + k; i++) {
            if (dev_connect(&devs[i]) != 0) {
                if (failed_connects++ < 3)
                    fprintf(stderr, "bench_cloud: connect %s: %s\n", devs[i].name, strerror(errno));
                devs[i].state = ST_FAILED;
            }
        }
        bad += drive(devs + w, k, ST_SUBSCRIBED, 60000);
    }
    double t_conn = now_ms() - t0;
    t0 = now_ms();
    for (int i = 0; i < n; i++)
        if (devs[i].state == ST_SUBSCRIBED)
            publish_bind(&devs[i]);
    bad += drive(devs, n, ST_REPLIED, 120000);
    double t_bind = now_ms() - t0;
    int ok = 0;
    double *lat = calloc((size_t)n, sizeof *lat);
    int nl = 0;
    for (int i = 0; i < n; i++) {
        ok += devs[i].state == ST_REPLIED && devs[i].code == 0;
        if (devs[i].state == ST_REPLIED)
            lat[nl++] = devs[i].t_reply - devs[i].t_pub;
    }
    printf("BENCH cloud_scale_%d_setup_http%s %.0f ms\n", n, sfx, t_setup);
    printf("BENCH cloud_scale_%d_connect_subscribe%s %.0f ms\n", n, sfx, t_conn);
    printf("BENCH cloud_scale_%d_bind_all%s %.0f ms\n", n, sfx, t_bind);
    printf("BENCH cloud_scale_%d_total_connect_and_bind%s %.2f s\n", n, sfx, (t_conn + t_bind) / 1e3);
    printf("BENCH cloud_scale_%d_binds_per_s%s %.0f binds/s\n", n, sfx, ok / (t_bind / 1e3));
    if (nl)
        printf("BENCH cloud_scale_%d_bind_p99%s %.1f ms\n", n, sfx, pct(lat, nl, 0.99));
    printf("BENCH cloud_scale_%d_ok%s %d devices\n", n, sfx, ok);
    if (ok != n)
        fprintf(stderr, "bench_cloud: %d of %d devices did not bind (failures %d)\n", n - ok, n, bad);
    fflush(stdout);
    for (int i = 0; i < n; i++)
        dev_close(&devs[i]);
    free(devs);
    free(psk);
    free(lat);
}

static void run_latency(int iters)
{
    char (*psk)[48] = create_devices(0, 1);
    simdev_t d;
    make_device(&d, "d0", psk[0]);
    if (dev_connect(&d) != 0 || drive(&d, 1, ST_SUBSCRIBED, 10000)) {
        fprintf(stderr, "bench_cloud: latency device could not connect\n");
        exit(1);
    }
    double *lat = calloc((size_t)iters, sizeof *lat);
    int n = 0;
    for (int i = 0; i < iters; i++) {
        if (new_token(d.token))
            break;
        d.state = ST_SUBSCRIBED;
        publish_bind(&d);
        if (drive(&d, 1, ST_REPLIED, 5000) || d.code != 0)
            break;
        lat[n++] = d.t_reply - d.t_pub;
    }
    if (n > 0) {
        printf("BENCH cloud_bind_latency_median%s %.2f ms\n", sfx, pct(lat, n, 0.5));
        printf("BENCH cloud_bind_latency_p99%s %.2f ms\n", sfx, pct(lat, n, 0.99));
        printf("BENCH cloud_bind_latency_samples%s %d binds\n", sfx, n);
    }
    if (n < iters)
        fprintf(stderr, "bench_cloud: latency run stopped after %d binds\n", n);
    fflush(stdout);
    dev_close(&d);
    free(lat);
    free(psk);
}

/* SQLite alone: what one bind costs when committed alone (FULL: an fsync of the WAL each),
 * alone with NORMAL (no fsync in WAL mode), and batched (the binding service's way). */
static void run_sqlite(const char *dir)
{
    const int n = 2000;
    const char *modes[] = { "commit_each_sync_full", "commit_each_sync_normal", "batched_one_commit" };
    for (int mode = 0; mode < 3; mode++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/sqlite-%d.db", dir, mode);
        sqlite3 *db;
        sqlite3_open(path, &db);
        sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        sqlite3_exec(db, mode == 0 ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
        sqlite3_exec(db, "CREATE TABLE t(token TEXT PRIMARY KEY, d TEXT, bound INTEGER)", NULL, NULL, NULL);
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        sqlite3_stmt *ins;
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?, NULL, NULL)", -1, &ins, NULL);
        for (int i = 0; i < n; i++) {
            sqlite3_bind_int(ins, 1, i);
            sqlite3_step(ins);
            sqlite3_reset(ins);
        }
        sqlite3_finalize(ins);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        sqlite3_stmt *up;
        sqlite3_prepare_v2(db, "UPDATE t SET d='x', bound=1 WHERE token=? AND bound IS NULL", -1, &up, NULL);
        double t0 = now_ms();
        if (mode == 2)
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        for (int i = 0; i < n; i++) {
            if (mode < 2)
                sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
            sqlite3_bind_int(up, 1, i);
            sqlite3_step(up);
            sqlite3_reset(up);
            if (mode < 2)
                sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
        if (mode == 2)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        double us = (now_ms() - t0) * 1e3 / n;
        printf("BENCH cloud_sqlite_bind_%s %.1f us/bind\n", modes[mode], us);
        sqlite3_finalize(up);
        sqlite3_close(db);
    }
    fflush(stdout);
}

/* Token API throughput: sequential AppCreateDeviceBindToken on one kept-alive connection. */
static void run_tokenapi(int n)
{
    char tok[33];
    double t0 = now_ms();
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += new_token(tok) == 0;
    double s = (now_ms() - t0) / 1e3;
    printf("BENCH cloud_tokenapi_requests_per_s%s %.0f requests/s\n", sfx, ok / s);
    if (ok != n)
        fprintf(stderr, "bench_cloud: %d of %d token requests failed\n", n - ok, n);
    fflush(stdout);
}

/* A device's connect+subscribe+bind latency while an F1/F2-style attack holds connections:
 * 8 addresses x 300 idle MQTT connections (no CONNECT) and 4 x 100 HTTP connections that
 * sent half a request. The cloud keeps per-address caps and deadlines (docs/cloud.md). */
static void run_attack(int http_port, int samples)
{
    int nfd = 0, *fds = calloc(2800, sizeof *fds);
    for (int a = 0; a < 12; a++) {
        bool mq = a < 8;
        for (int i = 0; i < (mq ? 300 : 100); i++) {
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f030001u + (uint32_t)a) };
            struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(mq ? mqtt_port : http_port)),
                                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
            if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof src) || connect(fd, (struct sockaddr *)&dst, sizeof dst)) {
                if (fd >= 0)
                    close(fd);
                continue;
            }
            if (!mq && send(fd, "POST /tokenapi HTTP/1.1\r\nHost: x\r\n", 35, MSG_NOSIGNAL) < 0) { /* refused: fine */ }
            fds[nfd++] = fd;
        }
    }
    char (*psk)[48] = create_devices(900000, samples);
    double *lat = calloc((size_t)samples, sizeof *lat);
    int n = 0;
    for (int i = 0; i < samples; i++) {
        simdev_t d;
        char name[16];
        snprintf(name, sizeof name, "d%d", 900000 + i);
        make_device(&d, name, psk[i]);
        d.srcidx = 16 * (4000 + (unsigned)i);   /* an address of its own */
        if (new_token(d.token))
            continue;
        double t0 = now_ms();
        if (dev_connect(&d) == 0 && !drive(&d, 1, ST_SUBSCRIBED, 10000)) {
            publish_bind(&d);
            if (!drive(&d, 1, ST_REPLIED, 10000) && d.code == 0)
                lat[n++] = now_ms() - t0;
        }
        if (d.fd >= 0)
            epoll_ctl(ep, EPOLL_CTL_DEL, d.fd, NULL);
        dev_close(&d);
    }
    if (n) {
        printf("BENCH cloud_attack_connect_bind_median%s %.1f ms\n", sfx, pct(lat, n, 0.5));
        printf("BENCH cloud_attack_connect_bind_max%s %.1f ms\n", sfx, pct(lat, n, 1.0));
    }
    printf("BENCH cloud_attack_devices_bound%s %d devices\n", sfx, n);
    fflush(stdout);
    for (int i = 0; i < nfd; i++)
        close(fds[i]);
    free(fds);
    free(psk);
    free(lat);
}

static int tls_client_init(void)
{
    mbedtls_ssl_config_init(&tls_conf);
    mbedtls_x509_crt_init(&tls_ca);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_entropy_init(&entropy);
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0 ||
        mbedtls_x509_crt_parse_file(&tls_ca, ca_file) != 0 ||
        mbedtls_ssl_config_defaults(&tls_conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        return -1;
    mbedtls_ssl_conf_authmode(&tls_conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&tls_conf, &tls_ca, NULL);
    mbedtls_ssl_conf_rng(&tls_conf, mbedtls_ctr_drbg_random, &drbg);
    return 0;
}

/* One round: a fresh `smartcfg cloud` (plain or TLS), its figures, then it stops. */
static int run_round(const char *smartcfg, const int *scales, int nscales, int iters, int maxdev, bool attack)
{
    char dir[] = "/tmp/bench-cloud-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    int http_port = free_port(), mqtts_port = free_port();
    mqtt_port = free_port();
    char db[PATH_MAX], hp[32], mp[32], sp[32], logf[PATH_MAX], keyf[PATH_MAX];
    snprintf(db, sizeof db, "%s/cloud.db", dir);
    snprintf(logf, sizeof logf, "%s/cloud.log", dir);
    snprintf(keyf, sizeof keyf, "%s/admin.key", dir);
    snprintf(ca_file, sizeof ca_file, "%s/tls/ca.crt", dir);
    snprintf(hp, sizeof hp, "127.0.0.1:%d", http_port);
    snprintf(mp, sizeof mp, "127.0.0.1:%d", mqtt_port);
    snprintf(sp, sizeof sp, "127.0.0.1:%d", mqtts_port);
    cloud_random_key(admin_key);
    FILE *kf = fopen(keyf, "w");
    if (!kf || fprintf(kf, "%s\n", admin_key) < 0 || fclose(kf) != 0)
        return 1;
    fflush(stdout);   /* or the child's freopen would print our buffered lines a second time */
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen(logf, "w", stderr))
            _exit(127);
        /* --token-rate: the bench is one account making thousands of tokens on purpose. */
        if (tls)
            execl(smartcfg, smartcfg, "cloud", "--http", hp, "--mqtt", mp, "--db", db, "--json", "--admin-key-file",
                  keyf, "--token-rate", "1000000", "--tls", "--mqtts", sp, (char *)NULL);
        else
            execl(smartcfg, smartcfg, "cloud", "--http", hp, "--mqtt", mp, "--db", db, "--json", "--admin-key-file",
                  keyf, "--token-rate", "1000000", (char *)NULL);
        _exit(127);
    }
    snprintf(base, sizeof base, "%s://127.0.0.1:%d", tls ? "https" : "http", http_port);
    cJSON *j = NULL;
    char body[96];
    snprintf(body, sizeof body, "{\"product_id\":\"%s\"}", product);
    for (int i = 0; i < 300 && !j; i++) {
        usleep(100000);
        j = http_post("/v1/products", body);
    }
    if (!j) {
        fprintf(stderr, "bench_cloud: smartcfg cloud did not start (log: %s)\n", logf);
        kill(pid, SIGTERM);
        return 1;
    }
    cJSON_Delete(j);
    cJSON_Delete(http_post("/v1/users", "{\"user_name\":\"bench\",\"password\":\"bench-password\"}"));
    j = http_post("/tokenapi?cmd=AppGetToken", "{\"Action\":\"AppGetToken\",\"UserName\":\"bench\",\"Password\":\"bench-password\"}");
    const cJSON *at = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "Token");
    snprintf(access_token, sizeof access_token, "%s", cJSON_IsString(at) ? at->valuestring : "");
    cJSON_Delete(j);
    if (tls && tls_client_init() != 0) {
        fprintf(stderr, "bench_cloud: TLS client setup failed (CA %s)\n", ca_file);
        kill(pid, SIGTERM);
        return 1;
    }
    if (tls)
        mqtt_port = mqtts_port;
    usleep(300000);   /* the binding service subscribes right after the HTTP API is up */

    run_latency(iters);
    run_tokenapi(iters);
    int first = 1;
    for (int i = 0; i < nscales; i++) {
        if (scales[i] > maxdev) {
            fprintf(stderr, "bench_cloud: skipping %d devices: open-file limit\n", scales[i]);
            continue;
        }
        run_scale(scales[i], first);
        first += scales[i];
    }
    if (attack)
        run_attack(http_port, 20);
    if (!tls)
        run_sqlite(dir);

    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    FILE *lf = fopen(logf, "r");
    char line[512];
    unsigned long binds = 0, commits = 0;
    while (lf && fgets(line, sizeof line, lf))
        sscanf(line, "smartcfg cloud: binding service: %lu bind requests in %lu commits", &binds, &commits);
    if (commits)
        printf("BENCH cloud_service_binds_per_commit%s %.1f binds/commit\n", sfx, (double)binds / commits);
    if (lf)
        fclose(lf);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_cloud: could not remove %s\n", dir);
    return 0;
}

/* ---- --load: the load client of the cluster test and bench ------------------------------
 * FILE: a line "product <P>", then one line per device "<name> <psk> <token>". Every device
 * connects (at most --wave at once, default WAVE), subscribes, publishes its app_bind_token and, like a real device,
 * retries until it holds a code-0 reply, on the schedule of the device's binder (binder.h): the
 * request again after SC_BINDER_PUBLISH_RETRY_MS on the same connection, and when
 * SC_BINDER_PUBLISH_TRIES went unanswered as long, a new connection to the next broker (a
 * subscription made just after a node died can be a queue on that dead node: it takes the
 * SUBSCRIBE and never delivers), the waits doubled after each connection given up that way; a
 * link lost after its CONNACK -> at once a new connection to the next broker; a refused
 * CONNECT (a killed node or auth worker) -> the next broker after 0.5 s (where the device's
 * binder would give up, the load client keeps trying); a 500 -> publish again after 1 s
 * (binds are idempotent). The latency of a device runs from its FIRST publish to
 * its code-0 reply, so what a node or worker kill costs shows in the tail. Writes "<name>
 * <code> <latency ms> <connections>" per device to OUT and prints "LOAD key=value" lines. */
static int run_load(const char *file, const char *out, double deadline_s)
{
    FILE *f = fopen(file, "r");
    char line[256], pbuf[64];
    if (!f || !fgets(line, sizeof line, f) || sscanf(line, "product %63s", pbuf) != 1) {
        fprintf(stderr, "bench_cloud: %s: want a first line 'product <P>'\n", file);
        return 2;
    }
    static char prod[64];
    snprintf(prod, sizeof prod, "%s", pbuf);
    product = prod;
    int n = 0, cap = 1024;
    simdev_t *devs = malloc((size_t)cap * sizeof *devs);
    char name[64], psk[64], tok[33];
    while (devs && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%23s %63s %32s", name, psk, tok) != 3)
            continue;
        if (n == cap) {
            cap *= 2;
            simdev_t *nd = realloc(devs, (size_t)cap * sizeof *devs);
            if (!nd)
                break;
            devs = nd;
        }
        if (make_device(&devs[n], name, psk) != 0) {
            fprintf(stderr, "bench_cloud: bad PSK for %s\n", name);
            return 2;
        }
        snprintf(devs[n].token, sizeof devs[n].token, "%s", tok);
        devs[n].srcidx = (unsigned)n;
        n++;
    }
    fclose(f);
    if (!devs || n == 0)
        return 2;
    double t0 = now_ms(), end = t0 + deadline_s * 1e3, last_scan = 0;
    int started = 0, done = 0, reconnects = 0, republished = 0;
    struct epoll_event evs[1024];
    while (done < n && now_ms() < end) {
        int connecting = 0;
        double now = now_ms();
        if (now - last_scan >= 50) {   /* timers and state changes: a scan every 50 ms */
            last_scan = now;
            for (int i = 0; i < started; i++) {
                simdev_t *d = &devs[i];
                if (d->bound)
                    continue;   /* its connection stays open, as a bound device's would */
                if (d->state == ST_FAILED || d->fd < 0) {
                    if (d->fd >= 0) {
                        epoll_ctl(ep, EPOLL_CTL_DEL, d->fd, NULL);
                        close(d->fd);
                        d->fd = -1;
                    }
                    if (!d->t_retry)
                        d->t_retry = now + (d->up ? 0 : 500);
                    else if (now >= d->t_retry) {
                        d->t_retry = 0;
                        d->outlen = d->inlen = 0;
                        d->up = false;
                        d->npub = 0;
                        reconnects++;
                        d->t_conn = now;
                        if (dev_connect(d) != 0)
                            d->state = ST_FAILED;
                    }
                    continue;
                }
                if (d->state < ST_SUBSCRIBED && d->t_conn && now - d->t_conn > 10000) {
                    d->state = ST_FAILED;   /* no CONNACK/SUBACK in 10 s (a node hanging as it dies) */
                    continue;
                }
                unsigned shift = d->silent > 4 ? 4 : d->silent;
                if (d->state == ST_PUBLISHED && now - d->t_pub > (double)(SC_BINDER_PUBLISH_RETRY_MS << shift)) {
                    republished++;
                    if (d->npub >= SC_BINDER_PUBLISH_TRIES) {
                        d->state = ST_FAILED;   /* give the connection up: the next broker, at once */
                        d->up = true;
                        d->silent++;
                        continue;
                    }
                    double first = d->t_first;
                    publish_bind(d);
                    d->npub++;
                    d->t_first = first;
                    continue;
                }
                connecting += d->state < ST_SUBSCRIBED;
                bool again = d->state == ST_REPLIED && d->code != 0 && now - d->t_reply > 1000;
                if (d->state == ST_SUBSCRIBED || again) {
                    republished += again;
                    double first = d->t_first;
                    publish_bind(d);
                    d->npub++;
                    d->t_first = first ? first : d->t_pub;
                }
            }
            while (started < n && connecting < load_wave) {
                devs[started].t_conn = now;
                if (dev_connect(&devs[started]) != 0)
                    devs[started].state = ST_FAILED;
                started++;
                connecting++;
            }
        }
        int k = epoll_wait(ep, evs, 1024, 5);
        for (int j = 0; j < k; j++) {
            simdev_t *d = evs[j].data.ptr;
            serve(d, evs[j].events);
            if (!d->bound && d->state == ST_REPLIED && d->code == 0) {   /* later replies: counted once */
                d->bound = true;
                d->lat_bound = d->t_reply - d->t_first;
                done++;
            }
        }
    }
    double elapsed = now_ms() - t0;
    FILE *o = fopen(out, "w");
    double *lat = calloc((size_t)n, sizeof *lat);
    int nl = 0;
    for (int i = 0; i < n; i++) {
        bool ok = devs[i].bound;
        if (ok)
            lat[nl++] = devs[i].lat_bound;
        if (o)
            fprintf(o, "%s %d %.1f %u\n", devs[i].name, ok ? 0 : devs[i].state == ST_REPLIED ? devs[i].code : -1,
                    ok ? devs[i].lat_bound : -1.0, devs[i].tries);
    }
    if (o)
        fclose(o);
    printf("LOAD devices=%d bound=%d elapsed_ms=%.0f reconnects=%d republished=%d\n", n, nl, elapsed, reconnects,
           republished);
    if (nl)
        printf("LOAD p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", pct(lat, nl, 0.5), pct(lat, nl, 0.99), pct(lat, nl, 1.0));
    fflush(stdout);
    for (int i = 0; i < n; i++)
        dev_close(&devs[i]);
    free(lat);
    free(devs);
    return nl == n ? 0 : 1;
}

int main(int argc, char **argv)
{
    /* 5 000, not 10 000: each device is now two descriptors in smartcfg cloud (the MQTT gate
     * relays it to mosquitto), and the usual limit is 20 000. */
    int scales[8] = { 100, 1000, 5000 }, nscales = 3, iters = 300;
    const char *load = NULL, *load_out = "/dev/null";
    double load_deadline = 120;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--load") && i + 1 < argc) {
            load = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            load_out = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--sub-qos") && i + 1 < argc) {
            sub_qos = (unsigned char)(atoi(argv[++i]) ? 1 : 0);
            continue;
        }
        if (!strcmp(argv[i], "--wave") && i + 1 < argc) {
            load_wave = atoi(argv[++i]);
            if (load_wave < 1 || load_wave > 10000) {
                fprintf(stderr, "bench_cloud: --wave wants 1..10000\n");
                return 2;
            }
            continue;
        }
        if (!strcmp(argv[i], "--deadline") && i + 1 < argc) {
            load_deadline = atof(argv[++i]);
            continue;
        }
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {   /* 127.0.0.1:PORT[,...] */
            for (char *s = strtok(argv[++i], ","); s && nload_ports < 16; s = strtok(NULL, ",")) {
                const char *c = strrchr(s, ':');
                load_ports[nload_ports++] = (uint16_t)atoi(c ? c + 1 : s);
            }
            continue;
        }
        if (!strcmp(argv[i], "--scale") && i + 1 < argc) {
            nscales = 0;
            for (char *s = strtok(argv[++i], ","); s && nscales < 8; s = strtok(NULL, ","))
                scales[nscales++] = atoi(s);
        } else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
            iters = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench_cloud [--scale 100,1000,5000] [--iters 300]\n"
                            "       bench_cloud --load FILE --brokers 127.0.0.1:PORT[,...] [--out FILE] [--deadline S] [--sub-qos 0|1] [--wave N]\n");
            return 2;
        }
    }
    /* One descriptor per simulated device here; two per device in smartcfg cloud (the gate). */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int maxdev = ((int)rl.rlim_cur - 1024) / 2;
    signal(SIGPIPE, SIG_IGN);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return 1;
    if (load)
        return nload_ports ? run_load(load, load_out, load_deadline) : 2;

    char smartcfg[PATH_MAX + 32] = "", exe[PATH_MAX];
    const char *b = getenv("SC_BUILD");
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (b)
        snprintf(smartcfg, sizeof smartcfg, "%s/smartcfg", b);
    else if (el > 0) {
        exe[el] = 0;
        *strrchr(exe, '/') = 0;
        snprintf(smartcfg, sizeof smartcfg, "%s/../smartcfg", exe);
    }
    if (access(smartcfg, X_OK)) {
        fprintf(stderr, "bench_cloud: %s not found (set SC_BUILD)\n", smartcfg);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    int rc = run_round(smartcfg, scales, nscales, iters, maxdev, true);
    /* TLS round: the simulated devices do their own TLS here, on the same 2 cores. */
    tls = true;
    sfx = "_tls";
    int tls_scales[8], ntls = 0;
    for (int i = 0; i < nscales; i++)
        if (scales[i] <= 1000)
            tls_scales[ntls++] = scales[i];
    curl_easy_cleanup(curl);
    curl = curl_easy_init();   /* a new connection: the plain one cannot speak TLS */
    rc |= run_round(smartcfg, tls_scales, ntls, iters, maxdev, true);
    curl_easy_cleanup(curl);
    return rc;
}
