/* SPDX-License-Identifier: Apache-2.0 */
/* The MQTT gate: the public MQTT listeners of `smartcfg cloud` (plain, TLS, TLS-PSK) accept
 * here and are relayed byte for byte to mosquitto's private loopback listeners. It exists
 * because mosquitto 2.0 has neither a per-address connection cap nor a configurable deadline
 * for the CONNECT packet (a silent TCP connection is held for about 90 s), so a LAN host
 * opening thousands of idle connections locked every device out (issue 13, F1). The gate
 *  - caps connections per source address and in total (below the descriptor limit),
 *  - closes a connection that has not sent its CONNECT within the deadline (plain MQTT: the
 *    whole CONNECT packet; TLS: the client's first flight after its ClientHello, the bytes
 *    it cannot send without the server's answer),
 *  - refuses at once a plain connection whose first byte is not CONNECT.
 * TLS ends in mosquitto, not here: the gate never sees a key or a payload in clear on a TLS
 * port. One thread, epoll, level-triggered; 16 KiB per direction per connection. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cloud.h"
#include "cloud_metrics.h"

#define GATE_BUF 16384
#define CONNECT_MAX 65536   /* a CONNECT is < 1 KiB; bigger is not a device */

typedef struct conn conn_t;
typedef struct {
    int fd;
    conn_t *c;
    uint32_t ev;        /* epoll interest now */
    bool eof;
    char buf[GATE_BUF]; /* bytes read from this end, to be written to the other */
    size_t off, len;
} end_t;

struct conn {
    end_t e[2];                 /* 0 client, 1 mosquitto */
    int lst;                    /* listener index */
    unsigned char addr[16];
    int64_t deadline_ms;        /* 0: CONNECT seen */
    size_t seen, need;          /* client bytes so far; bytes that complete the CONNECT phase */
    size_t rl, mul;             /* MQTT remaining length being decoded */
    bool upstream_ready, dead;
    conn_t *prev, *next;        /* pending list (deadline order) */
    conn_t *grave;              /* closed after the current epoll batch */
};

typedef struct {
    unsigned char addr[16];
    unsigned n;
} addr_count_t;

typedef struct {
    int fd;
    cloud_gate_listener_t cfg;
} listener_t;

struct cloud_gate {
    int ep, wake[2];
    listener_t ls[4];
    int nls;
    unsigned per_addr, total, max_total;
    int64_t timeout_ms;
    addr_count_t *addrs;
    size_t naddrs, capaddrs;
    conn_t *pend_head, *pend_tail, *grave;
    pthread_t th;
    bool running;
    unsigned long refused_addr, refused_total, timed_out;
};

static void addr_key(const struct sockaddr_storage *ss, unsigned char out[16])
{
    memset(out, 0, 16);
    if (ss->ss_family == AF_INET)
        memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    else if (ss->ss_family == AF_INET6)
        memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

static addr_count_t *addr_find(cloud_gate_t *g, const unsigned char a[16], bool add)
{
    for (size_t i = 0; i < g->naddrs; i++)
        if (!memcmp(g->addrs[i].addr, a, 16))
            return &g->addrs[i];
    if (!add)
        return NULL;
    if (g->naddrs == g->capaddrs) {
        size_t nc = g->capaddrs ? g->capaddrs * 2 : 64;
        addr_count_t *na = realloc(g->addrs, nc * sizeof *na);
        if (!na)
            return NULL;
        g->addrs = na;
        g->capaddrs = nc;
    }
    addr_count_t *e = &g->addrs[g->naddrs++];
    memcpy(e->addr, a, 16);
    e->n = 0;
    return e;
}

static void addr_release(cloud_gate_t *g, const unsigned char a[16])
{
    addr_count_t *e = addr_find(g, a, false);
    if (e && --e->n == 0)
        *e = g->addrs[--g->naddrs];   /* swap-remove: order does not matter */
}

static void pend_remove(cloud_gate_t *g, conn_t *c)
{
    if (!c->deadline_ms)
        return;
    c->deadline_ms = 0;
    if (c->prev) c->prev->next = c->next; else g->pend_head = c->next;
    if (c->next) c->next->prev = c->prev; else g->pend_tail = c->prev;
    c->prev = c->next = NULL;
}

static void conn_close(cloud_gate_t *g, conn_t *c)
{
    pend_remove(g, c);
    for (int i = 0; i < 2; i++)
        if (c->e[i].fd >= 0)
            close(c->e[i].fd);   /* also leaves the epoll set */
    addr_release(g, c->addr);
    g->total--;
    cloud_metrics_gauge_add(CLOUD_G_MQTT_CONNECTIONS, -1);
    free(c);
}

static void kill_conn(cloud_gate_t *g, conn_t *c)
{
    if (!c->dead) {
        c->dead = true;
        c->grave = g->grave;
        g->grave = c;
    }
}

/* Read while there is room and the peer is open; write while the other side has bytes for
 * us (or, upstream, until the non-blocking connect completes). */
static void set_interest(cloud_gate_t *g, end_t *x, end_t *other)
{
    uint32_t ev = 0;
    if (!x->eof && x->len < GATE_BUF)
        ev |= EPOLLIN;
    if (other->len > other->off || (x == &x->c->e[1] && !x->c->upstream_ready))
        ev |= EPOLLOUT;
    if (ev != x->ev) {
        struct epoll_event e = { .events = ev, .data.ptr = x };
        epoll_ctl(g->ep, EPOLL_CTL_MOD, x->fd, &e);
        x->ev = ev;
    }
}

/* Tracks the client's bytes until the CONNECT phase is complete. false: not MQTT/TLS. */
static bool connect_progress(cloud_gate_t *g, conn_t *c, const unsigned char *p, size_t n)
{
    bool plain = g->ls[c->lst].cfg.plain_mqtt;
    for (size_t i = 0; i < n && c->deadline_ms; i++, c->seen++) {
        unsigned char b = p[i];
        if (c->seen == 0 && b != (plain ? 0x10 : 0x16))
            return false;   /* not CONNECT / not a TLS handshake record */
        if (plain && c->seen >= 1 && c->seen <= 4 && !c->need) {
            /* remaining length: 7 bits per byte, little end first */
            if (c->seen == 1)
                c->rl = 0, c->mul = 1;
            c->rl += (b & 127) * c->mul;
            c->mul *= 128;
            if (!(b & 128)) {
                if (c->rl > CONNECT_MAX)
                    return false;
                c->need = 1 + c->seen + c->rl;
            } else if (c->seen == 4) {
                return false;
            }
        }
        if (!plain && c->seen == 3)
            c->rl = b;
        if (!plain && c->seen == 4)   /* TLS record length: ClientHello, then anything more */
            c->need = 5 + ((c->rl << 8) | b) + 1;
        if (c->need && c->seen + 1 >= c->need)
            pend_remove(g, c);
    }
    return true;
}

static void pump(cloud_gate_t *g, end_t *x, uint32_t events)
{
    conn_t *c = x->c;
    if (x == &c->e[1] && !c->upstream_ready && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t sl = sizeof err;
        getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
        if (err) {
            kill_conn(g, c);
            return;
        }
        c->upstream_ready = true;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (x->len < GATE_BUF) {
            ssize_t r = read(x->fd, x->buf + x->len, GATE_BUF - x->len);
            if (r > 0) {
                if (x == &c->e[0] && c->deadline_ms &&
                    !connect_progress(g, c, (unsigned char *)x->buf + x->len, (size_t)r)) {
                    kill_conn(g, c);
                    return;
                }
                x->len += (size_t)r;
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                x->eof = true;
            }
        }
    }
    /* Write what each side has for the other. */
    for (int k = 0; k < 2; k++) {
        end_t *src = &c->e[k], *dst = &c->e[!k];
        if (src->len > src->off && (dst != &c->e[1] || c->upstream_ready)) {
            ssize_t w = write(dst->fd, src->buf + src->off, src->len - src->off);
            if (w > 0)
                src->off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                kill_conn(g, c);
                return;
            }
            if (src->off == src->len)
                src->off = src->len = 0;
        }
        /* One side closed and all it said is delivered: the relay is over (a refused
         * CONNECT's CONNACK reaches the client before the close). */
        if (src->eof && src->off == src->len) {
            kill_conn(g, c);
            return;
        }
    }
    set_interest(g, &c->e[0], &c->e[1]);
    set_interest(g, &c->e[1], &c->e[0]);
}

static bool accept_one(cloud_gate_t *g, int li)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept4(g->ls[li].fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return false;
    unsigned char a[16];
    addr_key(&ss, a);
    addr_count_t *ac = addr_find(g, a, false);
    if (g->total >= g->max_total || (ac && ac->n >= g->per_addr)) {
        /* Closed at once: holding it would spend the very descriptors we protect. */
        if (g->total >= g->max_total)
            g->refused_total++;
        else
            g->refused_addr++;
        cloud_metrics_inc(CLOUD_M_MQTT_CONN_REFUSED);
        close(fd);
        return true;
    }
    if (!ac)
        ac = addr_find(g, a, true);
    if (!ac) {
        close(fd);
        return true;
    }
    conn_t *c = calloc(1, sizeof *c);
    int up = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!c || up < 0) {
        free(c);
        if (up >= 0)
            close(up);
        close(fd);
        if (ac->n == 0)
            *ac = g->addrs[--g->naddrs];
        return true;
    }
    ac->n++;
    g->total++;
    cloud_metrics_gauge_add(CLOUD_G_MQTT_CONNECTIONS, 1);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memcpy(c->addr, a, 16);
    c->lst = li;
    c->e[0].fd = fd;
    c->e[1].fd = up;
    c->e[0].c = c->e[1].c = c;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(g->ls[li].cfg.upstream_port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(up, (struct sockaddr *)&sin, sizeof sin) == 0)
        c->upstream_ready = true;
    else if (errno != EINPROGRESS) {
        c->e[1].fd = -1;
        close(up);
        c->deadline_ms = 0;
        conn_close(g, c);
        return true;
    }
    c->deadline_ms = cloud_now_ms() + g->timeout_ms;
    c->prev = g->pend_tail;
    if (g->pend_tail) g->pend_tail->next = c; else g->pend_head = c;
    g->pend_tail = c;
    c->e[0].ev = EPOLLIN;
    c->e[1].ev = c->upstream_ready ? EPOLLIN : EPOLLOUT;
    struct epoll_event e0 = { .events = c->e[0].ev, .data.ptr = &c->e[0] };
    struct epoll_event e1 = { .events = c->e[1].ev, .data.ptr = &c->e[1] };
    epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &e0);
    epoll_ctl(g->ep, EPOLL_CTL_ADD, up, &e1);
    return true;
}

static void *gate_thread(void *arg)
{
    cloud_gate_t *g = arg;
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(g->ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == (void *)g)
                return NULL;   /* the wake pipe: stop */
            if (p >= (void *)&g->ls[0] && p < (void *)&g->ls[4]) {
                int l = (int)((listener_t *)p - g->ls);
                for (int k = 0; k < 64 && accept_one(g, l); k++)   /* bursts, without starving relays */
                    ;
                continue;
            }
            end_t *x = p;
            if (!x->c->dead)   /* a conn killed earlier in this batch is freed only below */
                pump(g, x, evs[i].events);
        }
        while (g->grave) {
            conn_t *c = g->grave;
            g->grave = c->grave;
            conn_close(g, c);
        }
        int64_t now = cloud_now_ms();
        while (g->pend_head && g->pend_head->deadline_ms <= now) {
            g->timed_out++;
            conn_close(g, g->pend_head);
        }
    }
}

static int listen_on(const char *host, uint16_t port, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0) {
        snprintf(err, errlen, "MQTT address %s: cannot resolve", host);
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 4096) != 0) {
        snprintf(err, errlen, "cannot listen for MQTT on %s:%u: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

cloud_gate_t *cloud_gate_start(const cloud_gate_listener_t *ls, int n, unsigned per_addr, unsigned timeout_s,
                               unsigned max_total, char *err, size_t errlen)
{
    cloud_gate_t *g = calloc(1, sizeof *g);
    if (!g || n > 4)
        return free(g), NULL;
    g->per_addr = per_addr;
    g->max_total = max_total;
    g->timeout_ms = (int64_t)timeout_s * 1000;
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    if (g->ep < 0 || pipe2(g->wake, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        free(g);
        return NULL;
    }
    struct epoll_event we = { .events = EPOLLIN, .data.ptr = g };
    epoll_ctl(g->ep, EPOLL_CTL_ADD, g->wake[0], &we);
    for (int i = 0; i < n; i++) {
        g->ls[i].cfg = ls[i];
        g->ls[i].fd = listen_on(ls[i].host, ls[i].port, err, errlen);
        if (g->ls[i].fd < 0) {
            g->nls = i;
            cloud_gate_stop(g);
            return NULL;
        }
        g->nls = i + 1;
        struct epoll_event e = { .events = EPOLLIN, .data.ptr = &g->ls[i] };
        epoll_ctl(g->ep, EPOLL_CTL_ADD, g->ls[i].fd, &e);
    }
    if (pthread_create(&g->th, NULL, gate_thread, g) != 0) {
        snprintf(err, errlen, "cannot start the MQTT gate thread");
        cloud_gate_stop(g);
        return NULL;
    }
    g->running = true;
    return g;
}

void cloud_gate_stop(cloud_gate_t *g)
{
    if (!g)
        return;
    if (g->running) {
        while (write(g->wake[1], "x", 1) < 0 && errno == EINTR)
            ;
        pthread_join(g->th, NULL);
        cloud_log("MQTT gate: %lu connections refused over the per-address cap, %lu over the total cap, "
                  "%lu closed without CONNECT in time", g->refused_addr, g->refused_total, g->timed_out);
    }
    while (g->pend_head)
        conn_close(g, g->pend_head);
    for (int i = 0; i < g->nls; i++)
        close(g->ls[i].fd);
    close(g->wake[0]);
    close(g->wake[1]);
    close(g->ep);
    free(g->addrs);
    free(g);
}
