/* SPDX-License-Identifier: Apache-2.0 */
/* The lwIP port's DHCP client (lwip_dhcp.c) against what any host on the LAN can send: the
 * client is compiled into this test with real lwIP behind it, on a netif whose output is
 * captured here, and its timer is fired by hand, so leases of hours run in microseconds.
 * Rogue offers and acks, NAKs from anyone, NAK floods, lease renewal and expiry, and a fuzz
 * of the parser (built with ASan/UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lwip/inet_chksum.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "smartcfg/device.h"
#include "smartcfg/hal.h"

#include SC_DHCP_SOURCE /* ports/lwip/lwip_dhcp.c (the test's build says which) */

#ifndef ARMED_MS
#define ARMED_MS d.armed_ms /* what the client's pending timer waits */
#endif

/* lwIP's clock, with a jump the test can add (a process stalled, a late timer): this
 * definition takes the place of liblwip's for the test and for lwIP inside it */
static u32_t g_skew_ms;
u32_t sys_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (u32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000) + g_skew_ms;
}

static unsigned g_wakes;
void sc_lwip_wake(void)
{
    g_wakes++;
}

/* ---- the netif: what the client sends is kept here -------------------------------------- */

static struct netif g_nif;
static uint8_t g_out[16][600];
static size_t g_nout;

static err_t cap_output(struct netif *n, struct pbuf *p, const ip4_addr_t *dst)
{
    (void)n;
    (void)dst;
    if (g_nout < 16)
        pbuf_copy_partial(p, g_out[g_nout], p->tot_len < 600 ? p->tot_len : 600, 0);
    g_nout++;
    return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
    n->output = cap_output;
    n->mtu = 1500;
    n->hwaddr_len = 6;
    n->flags = NETIF_FLAG_BROADCAST;
    return ERR_OK;
}

static const uint8_t MAC[6] = { 0x02, 0x5c, 0x1e, 0x00, 0x00, 0x09 };
static const uint8_t SRV[4] = { 10, 9, 0, 1 }, YI[4] = { 10, 9, 0, 2 };

/* the last message sent: its BOOTP part (after 20 bytes of IP and 8 of UDP) */
static const uint8_t *last_bootp(void)
{
    assert_true(g_nout > 0 && g_nout <= 16);
    return g_out[g_nout - 1] + 28;
}
static int last_type(void)
{
    const uint8_t *b = last_bootp();
    return b[240] == 53 ? b[242] : -1;
}
static uint32_t last_xid(void)
{
    return get32(last_bootp() + 4);
}

/* ---- replies ------------------------------------------------------------------------------ */

typedef struct {
    uint8_t type;
    uint32_t xid;
    uint8_t yi[4];
    const uint8_t *server; /* NULL: no option 54 */
    const uint8_t *mask;   /* NULL: none */
    const uint8_t *router;
    long lease;            /* < 0: none */
    const uint8_t *extra;  /* raw options before the END */
    size_t extra_len;
} reply_t;

static size_t frame(uint8_t *f, const reply_t *r)
{
    memset(f, 0, 1518);
    memset(f, 0xff, 6);
    memcpy(f + 6, (uint8_t[]){ 0x02, 0, 0, 0, 0, 0x01 }, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14, *udp = ip + 20, *b = udp + 8;
    b[0] = 2;
    b[1] = 1;
    b[2] = 6;
    put32(b + 4, r->xid);
    memcpy(b + 16, r->yi, 4);
    memcpy(b + 28, MAC, 6);
    put32(b + 236, MAGIC);
    uint8_t *o = b + 240;
    size_t k = 0;
    o[k++] = 53; o[k++] = 1; o[k++] = r->type;
    if (r->server) {
        o[k++] = 54; o[k++] = 4; memcpy(o + k, r->server, 4); k += 4;
    }
    if (r->mask) {
        o[k++] = 1; o[k++] = 4; memcpy(o + k, r->mask, 4); k += 4;
    }
    if (r->router) {
        o[k++] = 3; o[k++] = 4; memcpy(o + k, r->router, 4); k += 4;
    }
    if (r->lease >= 0) {
        o[k++] = 51; o[k++] = 4; put32(o + k, (uint32_t)r->lease); k += 4;
    }
    if (r->extra) {
        memcpy(o + k, r->extra, r->extra_len);
        k += r->extra_len;
    }
    o[k++] = 255;
    size_t ulen = 8 + 240 + k, tl = 20 + ulen;
    udp[1] = 67; udp[3] = 68;
    udp[4] = (uint8_t)(ulen >> 8); udp[5] = (uint8_t)ulen;
    ip[0] = 0x45; ip[8] = 64; ip[9] = 17;
    ip[2] = (uint8_t)(tl >> 8); ip[3] = (uint8_t)tl;
    memcpy(ip + 12, SRV, 4);
    memset(ip + 16, 0xff, 4);
    return 14 + tl;
}

static void send_reply(const reply_t *r)
{
    static uint8_t f[1518];
    size_t n = frame(f, r);
    assert_true(sc_lwip_dhcp_input(f, n));
}

static const uint8_t M24[4] = { 255, 255, 255, 0 };

static reply_t offer(void)
{
    reply_t r = { .type = OFFER, .xid = last_xid(), .server = SRV, .mask = M24, .router = SRV, .lease = 3600 };
    memcpy(r.yi, YI, 4);
    return r;
}

/* The ACK a server gives to the transaction last sent, with offer()'s address and options */
static reply_t ack_reply(void)
{
    reply_t r = offer();
    r.type = ACK;
    return r;
}

/* A NAK from server (NULL: none named) to the transaction last sent */
static reply_t nak_from(const uint8_t *server)
{
    reply_t r = { .type = NAK, .xid = last_xid(), .server = server, .lease = -1 };
    return r;
}

static void start(int max_tries)
{
    g_nout = 0;
    netif_set_addr(&g_nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
    sc_lwip_dhcp_start(&g_nif, MAC, max_tries);
    assert_int_equal(last_type(), DISCOVER);
}

/* From a fresh start, an OFFER naming server as its server identifier gets no answer */
static void offer_skipped(const uint8_t *server)
{
    start(0);
    size_t sent = g_nout;
    reply_t r = offer();
    r.server = server;
    send_reply(&r);
    assert_int_equal(g_nout, sent);
}

static uint32_t nif_ip(void)
{
    return lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&g_nif)));
}
static uint32_t nif_gw(void)
{
    return lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(&g_nif)));
}
static uint32_t nif_mask(void)
{
    return lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&g_nif)));
}

/* DISCOVER, OFFER, REQUEST, ACK with the lease given (and raw options in the ACK) */
static void bind_lease_opts(long lease, const uint8_t *extra, size_t extra_len)
{
    start(0);
    reply_t r = offer();
    send_reply(&r);
    assert_int_equal(last_type(), REQUEST);
    r.type = ACK;
    r.xid = last_xid();
    r.lease = lease;
    r.extra = extra;
    r.extra_len = extra_len;
    send_reply(&r);
    assert_int_equal(nif_ip(), get32(YI));
}

static void bind_lease(long lease)
{
    bind_lease_opts(lease, NULL, 0);
}

/* the last message's IP destination and source, and its BOOTP flags */
static uint32_t last_dst(void)
{
    assert_true(g_nout > 0 && g_nout <= 16);
    return get32(g_out[g_nout - 1] + 16);
}
static uint32_t last_src(void)
{
    assert_true(g_nout > 0 && g_nout <= 16);
    return get32(g_out[g_nout - 1] + 12);
}
static bool last_bcast_flag(void)
{
    return (last_bootp()[10] & 0x80) != 0;
}

/* ---- the good path ------------------------------------------------------------------------ */

static void test_good_lease(void **state)
{
    (void)state;
    bind_lease(3600);
    assert_int_equal(nif_mask(), 0xffffff00u);
    assert_int_equal(nif_gw(), get32(SRV));
    assert_false(sc_lwip_dhcp_failed());
}

/* ---- offers and acks no host can take ------------------------------------------------------ */

static void test_bad_yiaddr_ignored(void **state)
{
    (void)state;
    static const uint8_t bad[][4] = { { 0, 0, 0, 0 }, { 255, 255, 255, 255 }, { 127, 0, 0, 5 }, { 224, 0, 0, 1 },
                                      { 240, 1, 2, 3 }, { 0, 9, 0, 2 }, { 10, 9, 0, 0 }, { 10, 9, 0, 255 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        start(0);
        size_t sent = g_nout;
        reply_t r = offer();
        memcpy(r.yi, bad[i], 4);
        send_reply(&r);
        /* no REQUEST for it: still selecting, the next (good) offer is taken */
        assert_int_equal(g_nout, sent);
        assert_int_equal(d.state, ST_SELECTING);
        r = offer();
        send_reply(&r);
        assert_int_equal(last_type(), REQUEST);
        /* an ack giving it after all is ignored */
        r.type = ACK;
        r.xid = last_xid();
        memcpy(r.yi, bad[i], 4);
        send_reply(&r);
        assert_int_equal(nif_ip(), 0);
        assert_int_equal(d.state, ST_REQUESTING);
    }
}

static void test_bad_mask_and_router(void **state)
{
    (void)state;
    static const uint8_t bad_masks[][4] = { { 255, 0, 255, 0 }, { 0, 0, 0, 0 }, { 255, 255, 255, 1 } };
    for (size_t i = 0; i < 3; i++) {
        start(0);
        reply_t r = offer();
        send_reply(&r);
        r.type = ACK;
        r.xid = last_xid();
        r.mask = bad_masks[i];
        send_reply(&r);
        assert_int_equal(nif_ip(), 0); /* not bound */
    }
    /* a mask option of another length */
    start(0);
    reply_t r = offer();
    send_reply(&r);
    r.type = ACK;
    r.xid = last_xid();
    r.mask = NULL;
    static const uint8_t m3[] = { 1, 3, 255, 255, 0 };
    r.extra = m3;
    r.extra_len = sizeof m3;
    send_reply(&r);
    assert_int_equal(nif_ip(), 0);
    /* routers outside the subnet, the address itself, the subnet's broadcast: bound, no router */
    static const uint8_t bad_gw[][4] = { { 10, 9, 1, 1 }, { 10, 9, 0, 2 }, { 10, 9, 0, 255 }, { 224, 0, 0, 1 } };
    for (size_t i = 0; i < 4; i++) {
        start(0);
        r = offer();
        send_reply(&r);
        r.type = ACK;
        r.xid = last_xid();
        r.router = bad_gw[i];
        send_reply(&r);
        assert_int_equal(nif_ip(), get32(YI));
        assert_int_equal(nif_gw(), 0);
    }
    /* /32 with a router: the router is kept (lwIP takes it as on the link) */
    start(0);
    r = offer();
    static const uint8_t m32[4] = { 255, 255, 255, 255 };
    r.mask = m32;
    send_reply(&r);
    r.type = ACK;
    r.xid = last_xid();
    send_reply(&r);
    assert_int_equal(nif_ip(), get32(YI));
    assert_int_equal(nif_gw(), get32(SRV));
}

static void test_ack_for_other_offer_or_server(void **state)
{
    (void)state;
    start(0);
    reply_t r = offer();
    send_reply(&r);
    r.type = ACK;
    r.xid = last_xid();
    /* another address than the one requested */
    r.yi[3] = 77;
    send_reply(&r);
    assert_int_equal(nif_ip(), 0);
    /* no server identifier */
    memcpy(r.yi, YI, 4);
    r.server = NULL;
    send_reply(&r);
    assert_int_equal(nif_ip(), 0);
    /* another server */
    static const uint8_t other[4] = { 10, 9, 0, 66 };
    r.server = other;
    send_reply(&r);
    assert_int_equal(nif_ip(), 0);
    /* another transaction, another chaddr */
    r.server = SRV;
    r.xid ^= 1;
    send_reply(&r);
    assert_int_equal(nif_ip(), 0);
    r.xid ^= 1;
    static uint8_t f[1518];
    size_t n = frame(f, &r);
    f[14 + 20 + 8 + 28 + 5] ^= 1;
    assert_true(sc_lwip_dhcp_input(f, n));
    assert_int_equal(nif_ip(), 0);
    /* lengths that do not add up: a UDP length past the IP datagram, a truncated frame */
    n = frame(f, &r);
    f[14 + 20 + 4] = 0x7f;
    assert_true(sc_lwip_dhcp_input(f, n));
    n = frame(f, &r);
    assert_true(sc_lwip_dhcp_input(f, n - 10));
    assert_int_equal(nif_ip(), 0);
    /* a fragment is not parsed as a datagram */
    n = frame(f, &r);
    f[14 + 6] = 0x20; /* more fragments */
    assert_false(sc_lwip_dhcp_input(f, n));
    assert_int_equal(nif_ip(), 0);
    /* the real one binds */
    n = frame(f, &r);
    assert_true(sc_lwip_dhcp_input(f, n));
    assert_int_equal(nif_ip(), get32(YI));
}

/* What held before too: an ACK before any OFFER, no magic cookie, options after END. */
static void test_junk_ignored(void **state)
{
    (void)state;
    start(0);
    size_t sent = g_nout;
    reply_t r = offer();
    r.type = ACK;
    send_reply(&r); /* ACK while selecting */
    assert_int_equal(nif_ip(), 0);
    static uint8_t f[1518];
    r = offer();
    size_t n = frame(f, &r);
    memset(f + 14 + 20 + 8 + 236, 0, 4); /* BOOTP, no cookie */
    assert_true(sc_lwip_dhcp_input(f, n));
    static const uint8_t after_end[] = { 255, 54, 4, 10, 9, 0, 1 };
    r.server = NULL; /* the server identifier only after END */
    r.extra = after_end;
    r.extra_len = sizeof after_end;
    send_reply(&r);
    assert_int_equal(d.state, ST_SELECTING);
    assert_int_equal(g_nout, sent);
}

/* ---- NAKs ----------------------------------------------------------------------------------- */

static void test_nak_from_another_server_ignored(void **state)
{
    (void)state;
    start(0);
    reply_t r = offer();
    send_reply(&r);
    size_t sent = g_nout;
    static const uint8_t other[4] = { 10, 9, 0, 66 };
    reply_t nak = { .type = NAK, .xid = last_xid(), .server = other, .lease = -1 };
    send_reply(&nak);
    nak.server = NULL;
    send_reply(&nak);
    assert_int_equal(d.state, ST_REQUESTING);
    assert_int_equal(g_nout, sent);
    r.type = ACK;
    r.xid = last_xid();
    send_reply(&r);
    assert_int_equal(nif_ip(), get32(YI));
}

/* Offer and NAK at every DISCOVER, from the offering server's own id: before, each NAK sent a
 * DISCOVER at once and reset the retry budget, so the client never failed (and answered a NAK
 * flood one for one). Now it fails cleanly when its budget is spent, sending one message a tick. */
static void test_nak_flood_ends_in_failure(void **state)
{
    (void)state;
    start(4);
    int ticks = 0;
    while (!sc_lwip_dhcp_failed() && ticks < 50) {
        for (int k = 0; k < 20; k++) {
            size_t before = g_nout;
            reply_t r = offer();
            r.xid = last_xid();
            send_reply(&r);
            reply_t nak = { .type = NAK, .xid = last_xid(), .server = SRV, .lease = -1 };
            send_reply(&nak);
            assert_true(g_nout - before <= 1);
        }
        g_nout = g_nout > 16 ? 16 : g_nout;
        size_t before = g_nout;
        on_timer(NULL);
        assert_true(g_nout - before <= 1);
        ticks++;
    }
    assert_true(sc_lwip_dhcp_failed());
    assert_true(ticks <= 4);
}

/* ---- leases --------------------------------------------------------------------------------- */

/* Runs the timer until something is sent (or the lease is lost); returns the simulated ms. */
static uint64_t tick_until_sent(uint64_t max_ms)
{
    uint64_t t = 0;
    size_t before = g_nout;
    while (g_nout == before && t < max_ms) {
        uint32_t a = ARMED_MS;
        assert_true(a > 0 && a <= TIMER_MAX_MS);
        on_timer(NULL);
        t += a;
    }
    return t;
}

static void test_renewal_and_expiry(void **state)
{
    (void)state;
    bind_lease(120);
    /* T1: half the lease, a REQUEST with ciaddr, no requested address */
    uint64_t t = tick_until_sent(1000000);
    assert_int_equal(t, 60000);
    assert_int_equal(last_type(), REQUEST);
    assert_memory_equal(last_bootp() + 12, YI, 4);
    assert_true(sc_lwip_dhcp_active()); /* its replies are taken at the netif */
    /* the ack extends the lease: the next renewal is 60 s later again */
    reply_t r = offer();
    r.type = ACK;
    r.xid = last_xid();
    r.lease = 120;
    send_reply(&r);
    assert_int_equal(d.state, ST_BOUND);
    assert_int_equal(tick_until_sent(1000000), 60000);
    assert_int_equal(last_type(), REQUEST);
    /* no answer: at T2 (7/8: 105 s) a broadcast REQUEST to any server, then the lease ends:
     * the address goes and the client starts over with a DISCOVER */
    assert_int_equal(tick_until_sent(1000000), 45000);
    assert_int_equal(last_type(), REQUEST);
    assert_int_equal(last_dst(), 0xffffffffu);
    assert_int_equal(tick_until_sent(1000000), 15000);
    assert_int_equal(last_type(), DISCOVER);
    assert_int_equal(nif_ip(), 0);
    assert_int_equal(d.state, ST_SELECTING);
    /* and it takes a new lease */
    r = offer();
    send_reply(&r);
    r.type = ACK;
    r.xid = last_xid();
    send_reply(&r);
    assert_int_equal(nif_ip(), get32(YI));
}

static void test_renew_nak(void **state)
{
    (void)state;
    bind_lease(3600);
    tick_until_sent(10000000);
    assert_int_equal(last_type(), REQUEST);
    static const uint8_t other[4] = { 10, 9, 0, 66 };
    reply_t nak = { .type = NAK, .xid = last_xid(), .server = other, .lease = -1 };
    send_reply(&nak); /* not our server's */
    assert_int_equal(nif_ip(), get32(YI));
    nak.server = SRV;
    send_reply(&nak);
    assert_int_equal(nif_ip(), 0);
    assert_int_equal(last_type(), DISCOVER);
}

/* Leases that overflow 32-bit milliseconds, none at all, zero. */
static void test_lease_extremes(void **state)
{
    (void)state;
    bind_lease(0xfffffffeL); /* ~136 years: T1 in ~68 years, not in 49 days (u32 ms) */
    uint64_t t = tick_until_sent(60ull * 86400 * 1000);
    assert_true(t >= 60ull * 86400 * 1000);
    assert_int_equal(nif_ip(), get32(YI));
    bind_lease(-1); /* no lease time: kept, never renewed */
    assert_int_equal(d.state, ST_BOUND);
    bind_lease(0); /* zero: taken as the minimum, renewed at 30 s, not lost at once */
    assert_int_equal(tick_until_sent(1000000), 30000);
    assert_int_equal(nif_ip(), get32(YI));
}

/* A timer that fires late (the process stalled 200 s past a 120 s lease) counts the time
 * that passed, not the wait it asked for: the lease is over, the address goes. */
static void test_late_timer_ends_lease(void **state)
{
    (void)state;
    bind_lease(120);
    g_skew_ms += 200000;
    on_timer(NULL);
    assert_int_equal(nif_ip(), 0);
    assert_int_equal(last_type(), DISCOVER);
}

/* The lease's end reaches the connections on the address: lwIP aborts the TCP connections
 * bound to it (as the MQTT client's to its broker), so the drop is seen, not a silent stall. */
static err_t g_tcp_err = ERR_OK;
static void on_tcp_err(void *arg, err_t e)
{
    (void)arg;
    g_tcp_err = e;
}

static void test_lease_end_aborts_tcp(void **state)
{
    (void)state;
    bind_lease(120);
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    assert_non_null(pcb);
    tcp_err(pcb, on_tcp_err);
    ip_addr_t broker;
    IP_ADDR4(&broker, 10, 9, 0, 1);
    g_tcp_err = ERR_OK;
    assert_int_equal(tcp_connect(pcb, &broker, 1883, NULL), ERR_OK); /* SYN_SENT from the lease */
    for (int i = 0; i < 1000 && nif_ip() != 0; i++)
        on_timer(NULL);
    assert_int_equal(nif_ip(), 0);
    assert_int_equal(g_tcp_err, ERR_ABRT);
    /* a reconnect before the next lease fails at once (no route without an address: the
     * MQTT port reports it as EIO), it does not hang in SYN_SENT */
    pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    assert_non_null(pcb);
    assert_int_equal(tcp_connect(pcb, &broker, 1883, NULL), ERR_RTE);
    tcp_abort(pcb);
}

/* A lease that ends while no server answers (a router rebooting for minutes) is sought for
 * ever (F137): after the join nothing in the core watches the station, so the join's retry
 * budget would leave the device without an address until restarted. Past the budget the
 * client backs off to one DISCOVER a minute (64 s), and takes the lease when a server is back. */
static void test_lost_lease_sought_forever(void **state)
{
    (void)state;
    bind_lease(120); /* the default budget: 8 tries */
    reply_t r;
    for (int i = 0; i < 1000 && nif_ip() != 0; i++)
        on_timer(NULL);
    assert_int_equal(nif_ip(), 0);
    assert_int_equal(last_type(), DISCOVER);
    uint64_t t = 0;
    unsigned sent = 0;
    uint32_t a = 0;
    while (t < 30ull * 60 * 1000) { /* half an hour with no server */
        a = ARMED_MS;
        assert_true(a >= 1000 && a <= 64000);
        size_t before = g_nout;
        on_timer(NULL);
        assert_true(g_nout - before <= 1);
        sent += (unsigned)(g_nout - before);
        if (g_nout > 16)
            g_nout = 16;
        t += a;
        assert_false(sc_lwip_dhcp_failed());
        assert_true(sc_lwip_dhcp_active());
    }
    assert_int_equal(a, 64000);
    assert_true(sent >= 30 && sent <= 40); /* ~27 s of the join's schedule, 8+16+32 s, then a minute */
    assert_int_equal(last_type(), DISCOVER);
    /* an attacker's OFFER and NAK at every DISCOVER (as F134's flood) does not end it either */
    for (int k = 0; k < 20; k++) {
        g_nout = g_nout > 14 ? 14 : g_nout; /* room for the REQUEST and the DISCOVER */
        r = offer();
        send_reply(&r);
        reply_t nak = { .type = NAK, .xid = last_xid(), .server = SRV, .lease = -1 };
        send_reply(&nak);
        on_timer(NULL);
        if (g_nout > 16)
            g_nout = 16;
        assert_false(sc_lwip_dhcp_failed());
        assert_int_equal(last_type(), DISCOVER);
    }
    /* the server is back */
    r = offer();
    send_reply(&r);
    assert_int_equal(last_type(), REQUEST);
    r.type = ACK;
    r.xid = last_xid();
    send_reply(&r);
    assert_int_equal(nif_ip(), get32(YI));
    assert_int_equal(d.state, ST_BOUND);
}

/* ---- T1/T2, RENEWING by unicast, REBINDING by broadcast (RFC 2131 4.4.5) ------------------ */

/* Fires the armed timer once (its delay within lwIP's bounds) and adds the delay to *t; true
 * when a message went out. g_nout is held at 15 first, so what goes out is captured in
 * g_out[15] and last_*() read it (held at 16, the message was not captured and last_*() read
 * past g_out). */
static bool timer_fire(uint64_t *t)
{
    if (g_nout > 15)
        g_nout = 15;
    size_t before = g_nout;
    uint32_t a = ARMED_MS;
    assert_true(a > 0 && a <= TIMER_MAX_MS);
    on_timer(NULL);
    *t += a;
    return g_nout > before;
}

/* Runs the timer until a REQUEST goes to the broadcast address; returns the simulated ms. */
static uint64_t tick_until_broadcast(uint64_t max_ms)
{
    uint64_t t = 0;
    while (t < max_ms)
        if (timer_fire(&t) && last_dst() == 0xffffffffu)
            return t;
    return t;
}

static size_t t_opts(uint8_t *o, long t1, long t2)
{
    size_t k = 0;
    if (t1 >= 0) {
        o[k++] = 58; o[k++] = 4; put32(o + k, (uint32_t)t1); k += 4;
    }
    if (t2 >= 0) {
        o[k++] = 59; o[k++] = 4; put32(o + k, (uint32_t)t2); k += 4;
    }
    return k;
}

/* The server's T1 and T2 are taken when T1 < T2 < lease; before, half the lease was used
 * whatever the server said, and there was no T2 at all (every renewal was a broadcast). */
static void test_server_t1_t2(void **state)
{
    (void)state;
    uint8_t o[12];
    /* sane: renewal at 100 s (to the server), rebinding at 700 s (broadcast) of 1000 */
    bind_lease_opts(1000, o, t_opts(o, 100, 700));
    assert_int_equal(tick_until_sent(10000000), 100000);
    assert_int_equal(last_type(), REQUEST);
    assert_int_equal(last_dst(), get32(SRV));
    assert_int_equal(tick_until_broadcast(10000000), 700000 - 100000);
    /* T1 alone, T2 alone */
    bind_lease_opts(1000, o, t_opts(o, 200, -1));
    assert_int_equal(tick_until_sent(10000000), 200000);
    assert_int_equal(tick_until_broadcast(10000000), 875000 - 200000);
    bind_lease_opts(1000, o, t_opts(o, -1, 600));
    assert_int_equal(tick_until_sent(10000000), 500000);
    assert_int_equal(tick_until_broadcast(10000000), 600000 - 500000);
    /* nonsense: RFC 2131's half and 7/8 of the lease */
    /* nonsense: RFC 2131's half and 7/8 of the lease for the option that makes none (T1 under
     * 30 s, either at or past the lease), for both when T1 >= T2 */
    static const long bad[][4] = { /* T1, T2 options; T1, T2 taken (s) */
                                   { 0, 700, 500, 700 },     { 10, 700, 500, 700 }, { 800, 700, 500, 875 },
                                   { 500, 500, 500, 875 },   { 2000, -1, 500, 875 }, { 100, 1000, 100, 875 },
                                   { -1, 5000, 500, 875 },   { -1, 0, 500, 875 },
                                   { 0xffffffffL, 0xffffffffL, 500, 875 }, { 900, -1, 500, 875 },
                                   { -1, 400, 500, 875 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = t_opts(o, bad[i][0], bad[i][1]);
        bind_lease_opts(1000, o, n);
        uint64_t t1 = tick_until_sent(10000000);
        assert_int_equal(t1, bad[i][2] * 1000);
        assert_int_equal(last_dst(), get32(SRV));
        assert_int_equal(tick_until_broadcast(10000000), (uint64_t)(bad[i][3] - bad[i][2]) * 1000);
        assert_int_equal(nif_ip(), get32(YI));
    }
    /* a lease of 2^32-2 s with T1/T2 near it: 64-bit arithmetic, nothing wraps */
    bind_lease_opts(0xfffffffeL, o, t_opts(o, 0xfffffff0L, 0xfffffffdL));
    uint64_t t = tick_until_sent(60ull * 86400 * 1000);
    assert_true(t >= 60ull * 86400 * 1000);
    assert_int_equal(nif_ip(), get32(YI));
}

/* RENEWING unicasts the REQUEST to the server that granted the lease, from the address, with
 * ciaddr and no broadcast flag; at T2 REBINDING broadcasts it. Before, both were broadcast. */
static void test_renew_unicast_rebind_broadcast(void **state)
{
    (void)state;
    bind_lease(3600);
    assert_int_equal(tick_until_sent(100000000), 1800000);
    assert_int_equal(last_type(), REQUEST);
    assert_int_equal(last_dst(), get32(SRV));
    assert_int_equal(last_src(), get32(YI));
    assert_false(last_bcast_flag());
    assert_memory_equal(last_bootp() + 12, YI, 4);
    const uint8_t *v;
    size_t l;
    assert_false(find_opt(last_bootp() + 240, 60, 54, &v, &l)); /* no server id, no address */
    assert_false(find_opt(last_bootp() + 240, 60, 50, &v, &l));
    /* retries go to the server too, until T2 (7/8: 3150 s) */
    assert_int_equal(tick_until_sent(100000000), 675000);
    assert_int_equal(last_dst(), get32(SRV));
    /* an ACK from another server than the one asked does not extend the lease */
    static const uint8_t other[4] = { 10, 9, 0, 66 };
    reply_t r = ack_reply();
    r.server = other;
    send_reply(&r);
    assert_true(sc_lwip_dhcp_active());
    r.server = NULL; /* nor one without a server identifier */
    send_reply(&r);
    assert_true(sc_lwip_dhcp_active());
    r.server = other;
    assert_int_equal(tick_until_broadcast(100000000), 3150000 - 1800000 - 675000);
    assert_int_equal(last_type(), REQUEST);
    assert_int_equal(last_src(), get32(YI));
    assert_memory_equal(last_bootp() + 12, YI, 4);
    /* rebinding, any server may extend it: the next renewal asks that one */
    r.xid = last_xid();
    send_reply(&r);
    assert_false(sc_lwip_dhcp_active());
    assert_int_equal(tick_until_sent(100000000), 1800000);
    assert_int_equal(last_dst(), get32(other));
    /* a rebinding ACK whose server identifier no host can have is not taken */
    tick_until_broadcast(100000000);
    static const uint8_t bcast[4] = { 255, 255, 255, 255 };
    r.xid = last_xid();
    r.server = bcast;
    send_reply(&r);
    assert_true(sc_lwip_dhcp_active());
    /* a NAK while rebinding needs a server identifier; any server's counts (test_rebind_nak) */
    reply_t nak = nak_from(NULL);
    send_reply(&nak);
    assert_int_equal(nif_ip(), get32(YI));
    nak.server = other;
    g_nout = 0;
    send_reply(&nak);
    assert_int_equal(nif_ip(), 0);
    assert_int_equal(last_type(), DISCOVER);
}

/* Rebinding (the lease's server silent since T1), a NAK from another server counts, as RFC
 * 2131 4.4.5 says: the network's server was replaced (a router swapped, dnsmasq reconfigured)
 * and the address is no longer right there. Before, only the lease's own server's NAK counted,
 * so the device kept a dead address until the lease's end: 7/8 of the lease with the default
 * T2, all but T2 of it with the server's (T2 = 100 s of a day: 23.97 h). Keeping the rule bought
 * nothing against a forger: the lease's server identifier is in the broadcast OFFER every LAN
 * host sees, and a rebinding ACK from any server is taken, so one naming the forger makes it the
 * lease's server, and at T1 the device unicasts its transaction to the forger, whose NAK then
 * counts under the old rule too (played below). */
static void test_rebind_nak(void **state)
{
    (void)state;
    static const uint8_t newsrv[4] = { 10, 9, 0, 200 }, forger[4] = { 10, 9, 0, 66 };
    uint8_t o[12];
    bind_lease_opts(86400, o, t_opts(o, 50, 100));
    assert_int_equal(tick_until_broadcast(100000000), 100000);
    assert_int_equal(d.state, ST_REBINDING);
    reply_t nak = nak_from(newsrv);
    g_nout = 0;
    send_reply(&nak);
    assert_int_equal(nif_ip(), 0);
    assert_int_equal(d.state, ST_SELECTING);
    assert_int_equal(last_type(), DISCOVER);
    /* what the old rule did not stop: the forger sees only the rebinding broadcast */
    bind_lease(3600);
    tick_until_broadcast(100000000);
    reply_t ack = ack_reply();
    ack.server = forger;
    ack.lease = 60;
    send_reply(&ack);
    assert_int_equal(d.state, ST_BOUND);
    g_nout = 0;
    assert_int_equal(tick_until_sent(100000000), 30000);
    assert_int_equal(last_dst(), get32(forger)); /* the renewing transaction, to the forger */
    nak.xid = last_xid();
    nak.server = forger;
    send_reply(&nak);
    assert_int_equal(nif_ip(), 0);
}

/* An offer whose server identifier no host can have (broadcast, multicast, 0, loopback, the
 * address offered) is skipped: renewal would unicast to it. */
static void test_offer_bad_server_id(void **state)
{
    (void)state;
    static const uint8_t bad[][4] = { { 255, 255, 255, 255 }, { 224, 0, 0, 1 }, { 0, 0, 0, 0 }, { 127, 0, 0, 1 },
                                      { 10, 9, 0, 2 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        offer_skipped(bad[i]);
        reply_t r = offer();
        send_reply(&r);
        assert_int_equal(last_type(), REQUEST);
    }
}

/* The subnet's own address and its broadcast address are no host's either: a REQUEST unicast to
 * 10.9.0.255 on a /24 leaves as a link broadcast (lwIP's etharp sends a directed broadcast to
 * ff:ff:ff:ff:ff:ff), so the renewing transaction id would reach every host, as before F139.
 * Such an offer is skipped, such a rebinding ACK ignored; on a /16 10.9.0.255 is a host and is
 * taken, and so is a server off the subnet (behind a relay: the router carries the unicast). */
static void test_server_id_subnet_broadcast(void **state)
{
    (void)state;
    static const uint8_t net[4] = { 10, 9, 0, 0 }, bc[4] = { 10, 9, 0, 255 }, far[4] = { 192, 168, 7, 255 };
    static const uint8_t M16[4] = { 255, 255, 0, 0 };
    const uint8_t *bad[] = { net, bc };
    for (size_t i = 0; i < 2; i++) {
        offer_skipped(bad[i]);
        assert_int_equal(d.state, ST_SELECTING);
    }
    start(0);
    reply_t r = offer();
    r.server = bc;
    r.mask = M16;
    send_reply(&r);
    assert_int_equal(last_type(), REQUEST);
    /* ... but not an ACK whose mask makes it the subnet's broadcast after all */
    r.type = ACK;
    r.xid = last_xid();
    r.mask = M24;
    send_reply(&r);
    assert_int_equal(d.state, ST_REQUESTING);
    r.mask = M16;
    send_reply(&r);
    assert_int_equal(d.state, ST_BOUND);
    start(0);
    r = offer();
    r.server = far;
    send_reply(&r);
    assert_int_equal(last_type(), REQUEST);
    /* rebinding: an ACK naming the subnet's broadcast address as its server is not taken */
    bind_lease(3600);
    tick_until_broadcast(100000000);
    assert_int_equal(d.state, ST_REBINDING);
    r = ack_reply();
    r.server = bc;
    send_reply(&r);
    assert_int_equal(d.state, ST_REBINDING);
    r.server = net;
    send_reply(&r);
    assert_int_equal(d.state, ST_REBINDING);
}

/* A long lease (30 days: T1 15 d, T2 26.25 d) is retried at half the time left, not at every
 * wake of the one-hour timer: before, a REQUEST went at each hourly wake from T1 on, 270
 * unicasts to T2 and 90 broadcasts to the lease's end where RFC 2131 4.4.5's halving sends ~15
 * and ~13. The first retry after T1 waits half of the 11.25 days left. */
static void test_long_lease_retries(void **state)
{
    (void)state;
    bind_lease(30L * 86400);
    g_nout = 0;
    assert_int_equal(tick_until_sent(100000000000ull), 15ull * 86400 * 1000);
    assert_int_equal(last_dst(), get32(SRV));
    assert_int_equal(tick_until_sent(100000000000ull), 972000ull * 1000 / 2);
    uint64_t t = (15ull * 86400 + 486000) * 1000, t2 = 2268000ull * 1000, end = 30ull * 86400 * 1000;
    unsigned renew = 2, rebind = 0;
    while (nif_ip() != 0) {
        if (timer_fire(&t) && nif_ip() != 0) {
            assert_int_equal(last_type(), REQUEST);
            if (d.state == ST_RENEWING) {
                assert_true(t < t2);
                renew++;
                assert_int_equal(last_dst(), get32(SRV));
            } else {
                rebind++;
                assert_int_equal(last_dst(), 0xffffffffu);
            }
        }
    }
    printf("30-day lease: %u renewing REQUESTs, %u rebinding\n", renew, rebind);
    assert_int_equal(t, end);
    assert_true(renew >= 10 && renew <= 20);
    assert_true(rebind >= 10 && rebind <= 20);
}

/* ---- sockets on a lost lease's address ------------------------------------------------------ */

static unsigned g_udp_got;
static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
    (void)arg;
    (void)pcb;
    (void)addr;
    (void)port;
    g_udp_got++;
    pbuf_free(p);
}

/* a UDP datagram from 10.9.0.1:5555 to to:port, into lwIP's IP layer as from the link */
static void inject_udp(const uint8_t to[4], uint16_t port)
{
    struct pbuf *p = pbuf_alloc(PBUF_RAW, 20 + 8 + 4, PBUF_RAM);
    assert_non_null(p);
    uint8_t *ip = p->payload, *u = ip + 20;
    memset(ip, 0, 32);
    ip[0] = 0x45; ip[3] = 32; ip[8] = 64; ip[9] = 17;
    memcpy(ip + 12, SRV, 4);
    memcpy(ip + 16, to, 4);
    u16_t ck = inet_chksum(ip, 20);
    memcpy(ip + 10, &ck, 2);
    u[0] = 0x15; u[1] = 0xb3; u[2] = (uint8_t)(port >> 8); u[3] = (uint8_t)port; u[5] = 12;
    memcpy(u + 8, "ping", 4);
    assert_int_equal(g_nif.input(p, &g_nif), ERR_OK);
}

/* The lease is lost and the next one is another address: the UDP sockets bound to the old one
 * (the port's 8266 service and ack socket bind the station's address; the log service binds
 * any) receive and send on the new one, and a new TCP connection bound to any address (lwIP's
 * MQTT client binds IP_ADDR_ANY) leaves from it. Before, lwIP moved such sockets only when an
 * address was changed straight for another; the loss went through 0.0.0.0, and the 8266
 * service stayed on the dead address (deaf, and its sends refused with ERR_RTE). */
/* The core (sc_device) on this netif, through a HAL as small as the port's: the station's
 * address is the netif's as lwip_station.c's get_ip reads it (sc_lwip_ip: none while the
 * netif has 0.0.0.0), and its UDP sockets are lwIP raw pcbs, so the core's 8266 service and
 * ack socket are what the client must move to a new lease's address. */
static uint32_t g_dev_now;
static uint8_t g_ev_ip[4][4];
static unsigned g_ev_ips;
static struct udp_pcb *g_pcbs[4];

static uint32_t dh_now(void *ctx)
{
    (void)ctx;
    return g_dev_now;
}
static sc_err_t dh_join(void *ctx, const uint8_t *ssid, size_t ssid_len, const uint8_t *pw, size_t pw_len,
                        const uint8_t *bssid)
{
    (void)ctx, (void)ssid, (void)ssid_len, (void)pw, (void)pw_len, (void)bssid;
    return SC_OK;
}
static sc_sta_status_t dh_status(void *ctx, sc_sta_reason_t *reason)
{
    (void)ctx;
    (void)reason;
    return nif_ip() ? SC_STA_GOT_IP : SC_STA_CONNECTING;
}
static sc_err_t dh_get_ip(void *ctx, uint8_t ip[4])
{
    (void)ctx;
    if (!netif_is_up(&g_nif) || ip4_addr_isany_val(*netif_ip4_addr(&g_nif)))
        return SC_ERR_STATE;
    memcpy(ip, &netif_ip4_addr(&g_nif)->addr, 4);
    return SC_OK;
}
static sc_err_t dh_open(void *ctx, const uint8_t *local_ip, uint16_t port, bool bcast, int *h)
{
    (void)ctx;
    for (int i = 0; i < 4; i++) {
        if (g_pcbs[i])
            continue;
        struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_V4);
        assert_non_null(pcb);
        ip_addr_t a = *IP4_ADDR_ANY;
        if (local_ip)
            IP_ADDR4(&a, local_ip[0], local_ip[1], local_ip[2], local_ip[3]);
        assert_int_equal(udp_bind(pcb, &a, port), ERR_OK);
        if (bcast)
            ip_set_option(pcb, SOF_BROADCAST);
        udp_recv(pcb, on_udp, NULL);
        g_pcbs[i] = pcb;
        *h = i;
        return SC_OK;
    }
    return SC_ERR_NOMEM;
}
static sc_err_t dh_send_to(void *ctx, int h, const sc_ipv4_ep_t *to, const void *buf, size_t len)
{
    (void)ctx;
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    assert_non_null(p);
    pbuf_take(p, buf, (u16_t)len);
    ip_addr_t a;
    IP_ADDR4(&a, to->addr[0], to->addr[1], to->addr[2], to->addr[3]);
    err_t e = udp_sendto(g_pcbs[h], p, &a, to->port);
    pbuf_free(p);
    return e == ERR_OK ? SC_OK : SC_ERR_IO;
}
static sc_err_t dh_recv_from(void *ctx, int h, sc_ipv4_ep_t *from, void *buf, size_t cap, size_t *len, bool *tr)
{
    (void)ctx, (void)h, (void)from, (void)buf, (void)cap, (void)len, (void)tr;
    return SC_ERR_AGAIN; /* on_udp counts and drops what comes in */
}
static void dh_close(void *ctx, int h)
{
    (void)ctx;
    udp_remove(g_pcbs[h]);
    g_pcbs[h] = NULL;
}
static void dh_event(void *user, const sc_device_event_t *ev)
{
    (void)user;
    if (ev->type == SC_DEV_EV_IP && g_ev_ips < 4)
        memcpy(g_ev_ip[g_ev_ips++], ev->ip, 4);
}

/* the last ESP-TOUCH ack the core sent (UDP to 18266): its IP source and the address it carries */
static bool last_ack(uint32_t *src, uint32_t *carried)
{
    for (size_t i = g_nout < 16 ? g_nout : 16; i-- > 0;) {
        const uint8_t *f = g_out[i];
        if (f[9] == 17 && f[22] == (18266 >> 8) && f[23] == (18266 & 255)) {
            *src = get32(f + 12);
            *carried = get32(f + 28 + 7);
            return true;
        }
    }
    return false;
}

static void dev_run(sc_device_t *dev, uint32_t ms)
{
    for (uint32_t t = 0; t < ms; t += 10) {
        g_dev_now += 10;
        (void)sc_device_step(dev, g_dev_now);
    }
}

static void test_sockets_follow_new_address(void **state)
{
    (void)state;
    bind_lease(120);
    /* the core joins on this lease: its 8266 service and its ack socket are bound to YI */
    static sc_device_t dev;
    sc_hal_t hal;
    memset(&hal, 0, sizeof hal);
    hal.sys.now_ms = dh_now;
    hal.station.join = dh_join;
    hal.station.status = dh_status;
    hal.station.get_ip = dh_get_ip;
    hal.udp.open = dh_open;
    hal.udp.send_to = dh_send_to;
    hal.udp.recv_from = dh_recv_from;
    hal.udp.close = dh_close;
    sc_device_config_t cfg;
    sc_device_config_default(&cfg);
    snprintf(cfg.identity.product_id, sizeof cfg.identity.product_id, "ABCDEFGHIJ");
    snprintf(cfg.identity.device_name, sizeof cfg.identity.device_name, "dev1");
    cfg.skip_cloud = true;
    cfg.on_event = dh_event;
    g_ev_ips = 0;
    assert_int_equal(sc_device_init(&dev, &hal, &cfg), SC_OK);
    assert_int_equal(sc_device_start(&dev, g_dev_now), SC_OK);
    sc_et_result_t cr;
    memset(&cr, 0, sizeof cr);
    memcpy(cr.creds.ssid, "lan", 3);
    cr.creds.ssid_len = 3;
    memcpy(cr.creds.phone_ip, SRV, 4);
    cr.t = 9 + 3;
    assert_int_equal(sc_device_inject_credentials(&dev, &cr, g_dev_now), SC_OK);
    g_nout = 0;
    dev_run(&dev, 200);
    assert_int_equal(sc_device_state(&dev), SC_DEV_ACKING);
    assert_int_equal(g_ev_ips, 1);
    assert_int_equal(get32(g_ev_ip[0]), get32(YI));
    uint32_t src = 0, carried = 0;
    assert_true(last_ack(&src, &carried));
    assert_int_equal(src, get32(YI));
    assert_int_equal(carried, get32(YI));
    struct udp_pcb *logs = udp_new_ip_type(IPADDR_TYPE_V4);
    assert_non_null(logs);
    assert_int_equal(udp_bind(logs, IP4_ADDR_ANY, 9876), ERR_OK);
    udp_recv(logs, on_udp, NULL);
    g_udp_got = 0;
    inject_udp(YI, 8266);
    assert_int_equal(g_udp_got, 1);
    /* no server for the whole lease: the address goes */
    for (int i = 0; i < 1000 && nif_ip() != 0; i++)
        on_timer(NULL);
    assert_int_equal(nif_ip(), 0);
    /* no address meanwhile: the core keeps the one it had (no event for 0.0.0.0) */
    dev_run(&dev, 100);
    assert_int_equal(g_ev_ips, 1);
    /* a server gives another address */
    static const uint8_t YI2[4] = { 10, 9, 0, 3 };
    if (g_nout > 16)
        g_nout = 16;
    reply_t r = offer();
    memcpy(r.yi, YI2, 4);
    send_reply(&r);
    r.type = ACK;
    r.xid = last_xid();
    send_reply(&r);
    assert_int_equal(nif_ip(), get32(YI2));
    /* the core hears of it: a second "got IP" with the new address, and the acks still to go
     * carry it (the phone reaches the device there), sent from it */
    g_nout = 0;
    dev_run(&dev, 200);
    assert_int_equal(sc_device_state(&dev), SC_DEV_ACKING);
    assert_int_equal(g_ev_ips, 2);
    assert_int_equal(get32(g_ev_ip[1]), get32(YI2));
    assert_true(last_ack(&src, &carried));
    assert_int_equal(src, get32(YI2));
    assert_int_equal(carried, get32(YI2));
    g_udp_got = 0;
    inject_udp(YI2, 8266);
    assert_int_equal(g_udp_got, 1);
    inject_udp(YI2, 9876);
    assert_int_equal(g_udp_got, 2);
    /* and sends leave from the new address (the service's replies as the acks) */
    ip_addr_t peer;
    IP_ADDR4(&peer, 10, 9, 0, 1);
    struct tcp_pcb *t = tcp_new_ip_type(IPADDR_TYPE_V4);
    assert_non_null(t);
    assert_int_equal(tcp_bind(t, IP4_ADDR_ANY, 0), ERR_OK);
    g_nout = 0;
    assert_int_equal(tcp_connect(t, &peer, 1883, NULL), ERR_OK);
    assert_true(g_nout >= 1);
    assert_int_equal(last_src(), get32(YI2));
    tcp_abort(t);
    /* the old address reaches nothing any more */
    g_udp_got = 0;
    inject_udp(YI, 8266);
    assert_int_equal(g_udp_got, 0);
    sc_device_stop(&dev, 0, g_dev_now);
    for (int i = 0; i < 4; i++)
        assert_null(g_pcbs[i]); /* the core closed what it opened */
    udp_remove(logs);
}

/* ---- fuzz ------------------------------------------------------------------------------------ */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)g_rng;
}

static void test_fuzz(void **state)
{
    (void)state;
    static uint8_t f[1518];
    unsigned bound = 0;
    for (int i = 0; i < 100000; i++) {
        if (i % 64 == 0) {
            unsigned k = rnd() % 3;
            if (k == 0)
                start(1000);
            else if (k == 1)
                bind_lease(600), tick_until_sent(10000000); /* renewing */
            else
                bind_lease(600), tick_until_broadcast(10000000); /* rebinding */
        }
        if (g_nout > 16)
            g_nout = 16;
        reply_t r = offer();
        r.type = (uint8_t)(rnd() % 8);
        if (rnd() % 4 == 0)
            r.xid = rnd();
        size_t n = frame(f, &r);
        int flips = (int)(rnd() % 8);
        for (int k = 0; k < flips; k++)
            f[rnd() % n] = (uint8_t)rnd();
        if (rnd() % 3 == 0) { /* random options over the whole option area */
            size_t at = 14 + 20 + 8 + 240 + rnd() % 40;
            for (size_t k = at; k < n; k++)
                f[k] = (uint8_t)rnd();
        }
        if (rnd() % 4 == 0)
            n = rnd() % (n + 1);
        else if (rnd() % 8 == 0)
            n = 1518;
        (void)sc_lwip_dhcp_input(f, n);
        if (d.state == ST_BOUND || d.state == ST_RENEWING || d.state == ST_REBINDING) {
            bound++;
            uint8_t a[4];
            put32(a, nif_ip());
            assert_true(host_addr(a));
            assert_true(prefix_len((uint8_t[]){ (uint8_t)(nif_mask() >> 24), (uint8_t)(nif_mask() >> 16),
                                                 (uint8_t)(nif_mask() >> 8), (uint8_t)nif_mask() }) > 0);
        }
        if (rnd() % 16 == 0 && ARMED_MS)
            on_timer(NULL);
    }
    assert_true(bound > 0);
}

int main(void)
{
    tcpip_init(NULL, NULL);
    LOCK_TCPIP_CORE(); /* all of it runs as lwIP's thread would; the timer is fired by hand */
    ip4_addr_t z;
    ip4_addr_set_zero(&z);
    netif_add(&g_nif, &z, &z, &z, NULL, nif_init, netif_input);
    netif_set_up(&g_nif);
    netif_set_link_up(&g_nif);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_lease),
        cmocka_unit_test(test_bad_yiaddr_ignored),
        cmocka_unit_test(test_bad_mask_and_router),
        cmocka_unit_test(test_ack_for_other_offer_or_server),
        cmocka_unit_test(test_junk_ignored),
        cmocka_unit_test(test_nak_from_another_server_ignored),
        cmocka_unit_test(test_nak_flood_ends_in_failure),
        cmocka_unit_test(test_renewal_and_expiry),
        cmocka_unit_test(test_renew_nak),
        cmocka_unit_test(test_lease_extremes),
        cmocka_unit_test(test_lease_end_aborts_tcp),
        cmocka_unit_test(test_late_timer_ends_lease),
        cmocka_unit_test(test_lost_lease_sought_forever),
        cmocka_unit_test(test_server_t1_t2),
        cmocka_unit_test(test_renew_unicast_rebind_broadcast),
        cmocka_unit_test(test_offer_bad_server_id),
        cmocka_unit_test(test_server_id_subnet_broadcast),
        cmocka_unit_test(test_rebind_nak),
        cmocka_unit_test(test_long_lease_retries),
        cmocka_unit_test(test_sockets_follow_new_address),
        cmocka_unit_test(test_fuzz),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    UNLOCK_TCPIP_CORE();
    return rc;
}
