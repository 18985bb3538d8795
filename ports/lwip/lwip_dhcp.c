/* SPDX-License-Identifier: Apache-2.0 */
/* A DHCP client (RFC 2131: DISCOVER, OFFER, REQUEST, ACK/NAK) for the lwIP port.
 *
 * Why not lwIP's own: Debian's liblwip is built with LWIP_DHCP 0. Its dhcp.c cannot be added
 * from outside: with LWIP_DHCP the netif struct grows a client-data slot and the IP layer must
 * accept datagrams to an interface that has no address yet, and both are compiled into the
 * library. So requests go out through lwIP's raw UDP API (from 0.0.0.0:68, broadcast), and the
 * replies, which lwIP's IP layer would drop while the netif has no address, are taken at the
 * netif's input (lwip_net.c) before the IP layer, the way lwIP's DHCP gets them through its
 * link-layer-addressing hook. Everything here runs under lwIP's core lock.
 *
 * Scope: what a device needs to stay reachable: the address, mask and router of one lease,
 * renewed from T1 by REQUESTs unicast to the server that granted it (RENEWING), from T2 by
 * broadcast ones to any server (REBINDING); T1 and T2 are the server's options 58/59 when they
 * make sense, else half and 7/8 of the lease (RFC 2131 4.4.5). A lease that runs out (or a NAK
 * from its server) takes the address away and starts over; UDP sockets bound to it follow the
 * next lease's address. No INIT-REBOOT, no ARP probe of the offered address, no option overload.
 *
 * Any host on the LAN can send what this parses (docs/security.md, the lwIP port): an offer or
 * an ack that would give an address no host can have, or a mask no LAN has, is ignored as if
 * it had not come; a NAK counts only from the server asked (rebinding: any server's, as the
 * RFC says); NAKs and offers cannot reset the retry budget or make the client send faster
 * than its timer. */
#include <string.h>
#include <sys/random.h>

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

#include "lwip_priv.h"

enum { ST_OFF = 0, ST_SELECTING, ST_REQUESTING, ST_BOUND, ST_RENEWING, ST_REBINDING, ST_FAILED };
enum { DISCOVER = 1, OFFER = 2, REQUEST = 3, ACK = 5, NAK = 6 };

#define BOOTP_FIXED 236        /* op .. file: the fixed part of a BOOTP message */
#define MAGIC 0x63825363u
#define MAX_TRIES 8            /* default: 1+2+4+4+4+4+4+4 s, inside the core's 60 s join timeout */
#define TRIES_CAP 1000         /* the count stops here: a lost lease is sought for ever (F137) */
#define LEASE_INFINITE 0xffffffffu
#define LEASE_MIN_S 60u        /* a shorter lease (0 included) is taken as this: no renewal storm */
#define RENEW_RETRY_MIN_MS 60000u
#define T1_MIN_S 30u           /* a server's T1 under this is not taken: no renewal storm */
#define TIMER_MAX_MS 3600000u  /* one wait at most: lwIP refuses timeouts over ~12 days */

static struct {
    int state;
    struct netif *netif;
    struct udp_pcb *pcb;
    uint8_t mac[6];
    uint32_t xid;
    uint8_t offered[4], server[4], mask[4], router[4];
    uint8_t ip[4];             /* the bound address (BOUND, RENEWING, REBINDING) */
    uint8_t lost[4];           /* the address of the last lease lost: sockets on it follow the next */
    int tries, max_tries;      /* retransmissions since the start: nothing resets them but a lease */
    bool had_lease;            /* a lease was held since the start: its loss is never FAILED */
    int req_sent;              /* REQUESTs for the offer taken */
    uint32_t lease_s;          /* LEASE_INFINITE: no renewal */
    uint64_t t1_ms, t2_ms;     /* RENEWING from t1_ms, REBINDING from t2_ms (since the grant) */
    uint64_t elapsed_ms;       /* since the lease was granted (or last renewed) */
    uint64_t due_ms;           /* T1 (bound), the next REQUEST (renewing, rebinding) */
    uint32_t armed_ms;         /* what the pending timer waits */
    uint32_t armed_at;         /* sys_now() when it was armed */
} d;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void new_xid(void)
{
    uint32_t x;
    if (getrandom(&x, sizeof x, 0) != (ssize_t)sizeof x)
        x = sys_now() ^ 0x5c5c5c5cu ^ (d.xid * 2654435761u);
    d.xid = x == d.xid ? x + 1 : x;
}

static void send_msg(int type)
{
    uint8_t m[300];
    memset(m, 0, sizeof m);
    m[0] = 1;          /* BOOTREQUEST */
    m[1] = 1;          /* Ethernet */
    m[2] = 6;
    put32(m + 4, d.xid);
    /* renewing or rebinding, the client has its address: ciaddr, and the answer may be unicast */
    bool renew = d.state == ST_RENEWING || d.state == ST_REBINDING;
    if (!renew)
        m[10] = 0x80;  /* broadcast flag: we cannot receive unicast before we have the address */
    else
        memcpy(m + 12, d.ip, 4); /* ciaddr: the address whose lease is extended */
    memcpy(m + 28, d.mac, 6);
    put32(m + BOOTP_FIXED, MAGIC);
    size_t o = BOOTP_FIXED + 4;
    m[o++] = 53;
    m[o++] = 1;
    m[o++] = (uint8_t)type;
    m[o++] = 61;       /* client identifier: hardware type + MAC */
    m[o++] = 7;
    m[o++] = 1;
    memcpy(m + o, d.mac, 6);
    o += 6;
    if (type == REQUEST && !renew) {
        m[o++] = 50;   /* the offered address */
        m[o++] = 4;
        memcpy(m + o, d.offered, 4);
        o += 4;
        m[o++] = 54;   /* the server whose offer we take */
        m[o++] = 4;
        memcpy(m + o, d.server, 4);
        o += 4;
    }
    m[o++] = 55;       /* we want: subnet mask, router */
    m[o++] = 2;
    m[o++] = 1;
    m[o++] = 3;
    m[o++] = 255;
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, sizeof m, PBUF_RAM);
    if (!p)
        return; /* the retransmission timer tries again */
    pbuf_take(p, m, sizeof m);
    ip_addr_t src, srv;
    if (renew)
        IP_ADDR4(&src, d.ip[0], d.ip[1], d.ip[2], d.ip[3]);
    else
        ip_addr_set_zero_ip4(&src);
    /* RENEWING asks the server that granted the lease, by unicast (RFC 2131 4.4.5); everything
     * else is broadcast. (An unreachable server costs nothing: at T2 the broadcast takes over.) */
    IP_ADDR4(&srv, d.server[0], d.server[1], d.server[2], d.server[3]);
    udp_sendto_if_src(d.pcb, p, d.state == ST_RENEWING ? &srv : IP_ADDR_BROADCAST, 67, d.netif, &src);
    pbuf_free(p);
}

static void on_timer(void *arg);

static void arm_ms(uint32_t ms)
{
    if (ms > TIMER_MAX_MS)
        ms = TIMER_MAX_MS;
    d.armed_ms = ms;
    d.armed_at = sys_now();
    sys_timeout(ms, on_timer, NULL);
}

/* 1, 2, 4, 4 ... s within the budget; past it (only after a lease was lost, F137) doubling from
 * 8 s to at most 64 s (RFC 2131 4.1's ceiling), for as long as no server answers. */
static void arm_timer(void)
{
    uint32_t ms = d.tries < 3 ? 1000u << d.tries : 4000u;
    if (d.tries >= d.max_tries) {
        int k = d.tries - d.max_tries + 1;
        ms = k >= 4 ? 64000u : 4000u << k;
    }
    arm_ms(ms);
}

/* Start (or start over): DISCOVER now, with a new transaction. */
static void select_now(void)
{
    d.state = ST_SELECTING;
    d.req_sent = 0;
    new_xid();
    sys_untimeout(on_timer, NULL);
    send_msg(DISCOVER);
    arm_timer();
}

/* The lease is gone (expired, or NAKed by its server): the address goes (lwIP aborts the TCP
 * connections bound to it: the MQTT client sees its link drop) and the client starts over.
 * It then never gives up (F137): the retry budget is the join's (the core waits 60 s for it and
 * joins again after a FAILED), but after the join nothing in the core watches the station, so
 * a FAILED here (a router rebooting for a minute) would leave the device without an address
 * until it was restarted. The station says CONNECTING meanwhile. */
static void lose_lease(void)
{
    memcpy(d.lost, d.ip, 4);
    netif_set_addr(d.netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
    memset(d.ip, 0, sizeof d.ip);
    d.tries = 0;
    select_now();
    sc_lwip_wake();
}

/* Bound: wait for T1. Renewing: retry at half the time left to T2 (at least a minute, T2 at
 * the latest); rebinding: the same towards the lease's end (RFC 2131 4.4.5). A wait longer than
 * the timer's hour is made of hourly wakes that send nothing (due_ms stays). */
static void arm_lease_timer(void)
{
    if (d.lease_s == LEASE_INFINITE)
        return;
    if (d.elapsed_ms >= d.due_ms) {
        uint64_t end = (uint64_t)d.lease_s * 1000u, at;
        if (d.elapsed_ms < d.t1_ms) {
            at = d.t1_ms;
        } else {
            uint64_t to = d.elapsed_ms < d.t2_ms ? d.t2_ms : end, half = (to - d.elapsed_ms) / 2;
            at = d.elapsed_ms + (half < RENEW_RETRY_MIN_MS ? RENEW_RETRY_MIN_MS : half);
            if (at > to)
                at = to;
        }
        d.due_ms = at;
    }
    uint64_t wait = d.due_ms - d.elapsed_ms;
    arm_ms(wait > TIMER_MAX_MS ? TIMER_MAX_MS : (uint32_t)wait);
}

static void on_timer(void *arg)
{
    (void)arg;
    if (d.state == ST_BOUND || d.state == ST_RENEWING || d.state == ST_REBINDING) {
        /* the wait, or longer if the timer fired late (a stalled process): never less than the
         * time that really passed, so a late timer does not stretch the lease */
        uint32_t real = sys_now() - d.armed_at;
        d.elapsed_ms += real > d.armed_ms ? real : d.armed_ms;
        uint64_t end = (uint64_t)d.lease_s * 1000u;
        if (d.elapsed_ms >= end) {
            lose_lease();
            return;
        }
        if (d.elapsed_ms >= d.t2_ms && d.state != ST_REBINDING) {
            d.state = ST_REBINDING; /* the granting server is silent: ask any */
            new_xid();
        } else if (d.elapsed_ms >= d.t1_ms && d.state == ST_BOUND) {
            d.state = ST_RENEWING;
            new_xid();
        }
        /* an hourly wake short of the retry sends nothing (T1 and T2 are never past due_ms) */
        if (d.state != ST_BOUND && d.elapsed_ms >= d.due_ms)
            send_msg(REQUEST);
        arm_lease_timer();
        return;
    }
    if (d.state != ST_SELECTING && d.state != ST_REQUESTING)
        return;
    if (d.tries < TRIES_CAP)
        d.tries++;
    if (d.tries >= d.max_tries && !d.had_lease) {
        d.state = ST_FAILED;
        sc_lwip_wake();
        return;
    }
    if (d.state == ST_REQUESTING && d.req_sent >= 3) {
        d.state = ST_SELECTING; /* the server went quiet after its offer: start over */
        d.req_sent = 0;
        new_xid();
    }
    if (d.state == ST_REQUESTING)
        d.req_sent++;
    send_msg(d.state == ST_SELECTING ? DISCOVER : REQUEST);
    arm_timer();
}

void sc_lwip_dhcp_start(struct netif *netif, const uint8_t mac[6], int max_tries)
{
    sc_lwip_dhcp_stop();
    memset(&d, 0, sizeof d);
    d.max_tries = max_tries > 0 ? max_tries : MAX_TRIES;
    d.netif = netif;
    memcpy(d.mac, mac, 6);
    d.pcb = udp_new_ip_type(IPADDR_TYPE_V4);
    if (!d.pcb || udp_bind(d.pcb, IP4_ADDR_ANY, 68) != ERR_OK) {
        if (d.pcb)
            udp_remove(d.pcb);
        d.pcb = NULL;
        d.state = ST_FAILED;
        return;
    }
    select_now();
}

void sc_lwip_dhcp_stop(void)
{
    sys_untimeout(on_timer, NULL);
    if (d.pcb)
        udp_remove(d.pcb);
    d.pcb = NULL;
    d.state = ST_OFF;
}

bool sc_lwip_dhcp_active(void)
{
    return d.state == ST_SELECTING || d.state == ST_REQUESTING || d.state == ST_RENEWING ||
           d.state == ST_REBINDING;
}

bool sc_lwip_dhcp_failed(void)
{
    return d.state == ST_FAILED;
}

/* options: code, length, value ...; pad (0) and end (255) have no length. */
static bool find_opt(const uint8_t *o, size_t n, uint8_t code, const uint8_t **val, size_t *len)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = o[i];
        if (c == 255)
            break;
        if (c == 0) {
            i++;
            continue;
        }
        if (i + 1 >= n || i + 2 + o[i + 1] > n)
            return false; /* runs off the end: malformed */
        if (c == code) {
            *val = o + i + 2;
            *len = o[i + 1];
            return true;
        }
        i += 2u + o[i + 1];
    }
    return false;
}

/* An option of 4 bytes (a router list: its first). Absent: false; present but of another
 * length: *bad. */
static bool opt4(const uint8_t *o, size_t n, uint8_t code, uint8_t out[4], bool *bad)
{
    const uint8_t *v;
    size_t l;
    if (!find_opt(o, n, code, &v, &l))
        return false;
    if (l != 4 && !(code == 3 && l > 4 && l % 4 == 0)) {
        *bad = true;
        return false;
    }
    memcpy(out, v, 4);
    return true;
}

/* An address a host can be given: not 0/8, not loopback, not multicast, class E or broadcast. */
static bool host_addr(const uint8_t a[4])
{
    return a[0] != 0 && a[0] != 127 && a[0] < 224;
}

/* The prefix length of a contiguous mask of 1..32 bits; -1 for anything else (0.0.0.0 too). */
static int prefix_len(const uint8_t m[4])
{
    uint32_t v = get32(m);
    if (v == 0 || (~v & (~v + 1)) != 0)
        return -1;
    int n = 0;
    while (v) {
        n++;
        v <<= 1;
    }
    return n;
}

/* What an offer or an ack gives, judged: false when the address cannot be a host's on the
 * subnet the mask says (or the mask is no LAN's). A router that is not on that subnet (or is
 * the address itself, or no host's) is dropped: the device then reaches its subnet only,
 * and an off-subnet destination fails cleanly (EHOSTUNREACH), as Linux refuses such a route. */
static bool judge(const uint8_t yi[4], const uint8_t *o, size_t ol, uint8_t mask[4], uint8_t router[4],
                  bool *have_router)
{
    bool bad = false;
    if (!host_addr(yi))
        return false;
    if (!opt4(o, ol, 1, mask, &bad))
        memcpy(mask, (uint8_t[]){ 255, 255, 255, 0 }, 4);
    int pl = prefix_len(mask);
    if (bad || pl < 0)
        return false;
    uint32_t a = get32(yi), m = get32(mask);
    if (pl <= 30 && ((a & ~m) == 0 || (a & ~m) == ~m))
        return false; /* the subnet's own address or its broadcast */
    *have_router = opt4(o, ol, 3, router, &bad);
    if (*have_router) {
        uint32_t r = get32(router);
        if (!host_addr(router) || r == a || (pl < 32 && ((r ^ a) & m) != 0) ||
            (pl <= 30 && ((r & ~m) == 0 || (r & ~m) == ~m)))
            *have_router = false;
    }
    return true;
}

/* A 4-byte time option in seconds; absent or of another length: dflt. */
static uint32_t secs(const uint8_t *o, size_t ol, uint8_t code, uint32_t dflt)
{
    const uint8_t *v;
    size_t l;
    if (!find_opt(o, ol, code, &v, &l) || l != 4)
        return dflt;
    return get32(v);
}

/* The lease (option 51: none is BOOTP's, for ever; under a minute, 0 too, a minute) and its
 * T1/T2 (58/59), counted from now. The server's T1/T2 are taken when T1_MIN_S <= T1 < T2 <
 * lease, T1 alone when it is below 7/8 of the lease, T2 alone when it is above half; anything
 * else (T2 <= T1, past the lease, 0, 2^32-1) gives RFC 2131 4.4.5's half and 7/8 of the lease.
 * All in 64-bit milliseconds: 2^32-1 s * 1000 does not wrap. */
static void lease_of(const uint8_t *o, size_t ol)
{
    uint32_t s = secs(o, ol, 51, LEASE_INFINITE);
    d.lease_s = s < LEASE_MIN_S ? LEASE_MIN_S : s;
    d.elapsed_ms = 0;
    d.due_ms = 0; /* arm_lease_timer sets T1 */
    if (d.lease_s == LEASE_INFINITE)
        return;
    uint64_t end = (uint64_t)d.lease_s * 1000u, t1 = end / 2, t2 = end * 7 / 8;
    uint64_t o1 = (uint64_t)secs(o, ol, 58, 0) * 1000u, o2 = (uint64_t)secs(o, ol, 59, 0) * 1000u;
    if (o1 >= T1_MIN_S * 1000u && o1 < end)
        t1 = o1;
    if (o2 > 0 && o2 < end)
        t2 = o2;
    if (t1 >= t2) { /* one of them makes no sense beside the other: neither is taken */
        t1 = end / 2;
        t2 = end * 7 / 8;
    }
    d.t1_ms = t1;
    d.t2_ms = t2;
}

/* A server identifier a REQUEST may be unicast to: a host's, not the address offered, and not
 * the subnet's own or broadcast address (the mask's): lwIP sends to the latter as a link
 * broadcast, so the renewing transaction would reach every host. A server off the subnet (behind
 * a relay) is reached through the router. */
static bool server_ok(const uint8_t s[4], const uint8_t yi[4], const uint8_t mask[4])
{
    if (!host_addr(s) || memcmp(s, yi, 4) == 0)
        return false;
    uint32_t a = get32(s), m = get32(mask);
    if (prefix_len(mask) <= 30 && ((a ^ get32(yi)) & m) == 0 && ((a & ~m) == 0 || (a & ~m) == ~m))
        return false;
    return true;
}

bool sc_lwip_dhcp_input(const uint8_t *f, size_t n)
{
    if (!sc_lwip_dhcp_active())
        return false;
    /* Ethernet / IPv4 / UDP to port 68; a fragment is lwIP's to reassemble (and drop) */
    if (n < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4 || f[23] != 17 ||
        (f[20] & 0x3f) != 0 || f[21] != 0)
        return false;
    size_t ihl = (size_t)(f[14] & 0x0f) * 4;
    if (ihl < 20 || n < 14 + ihl + 8)
        return false;
    const uint8_t *u = f + 14 + ihl;
    if (u[2] != 0 || u[3] != 68)
        return false;
    /* From here on it is ours (consumed) whatever it holds: junk is ignored, not passed on. */
    size_t tl = (size_t)f[16] << 8 | f[17], ul = (size_t)u[4] << 8 | u[5];
    if (tl < ihl + 8 || 14 + tl > n || ul < 8 || ul > tl - ihl)
        return true; /* lengths that do not add up (Ethernet padding is past tl, and allowed) */
    const uint8_t *b = u + 8;
    size_t bl = ul - 8;
    if (bl < BOOTP_FIXED + 4 || b[0] != 2 || memcmp(b + 28, d.mac, 6) != 0)
        return true;
    if (get32(b + 4) != d.xid || get32(b + BOOTP_FIXED) != MAGIC)
        return true;
    const uint8_t *o = b + BOOTP_FIXED + 4;
    size_t ol = bl - BOOTP_FIXED - 4;
    const uint8_t *t;
    size_t tl53;
    if (!find_opt(o, ol, 53, &t, &tl53) || tl53 != 1)
        return true;
    uint8_t server[4], mask[4], router[4];
    bool bad = false, have_server = opt4(o, ol, 54, server, &bad), have_router = false;
    const uint8_t *yi = b + 16;
    if (d.state == ST_SELECTING && t[0] == OFFER) {
        if (!have_server || !judge(yi, o, ol, mask, router, &have_router) || !server_ok(server, yi, mask))
            return true; /* another offer may come */
        memcpy(d.offered, yi, 4);
        memcpy(d.server, server, 4);
        d.state = ST_REQUESTING;
        d.req_sent = 1;
        sys_untimeout(on_timer, NULL);
        send_msg(REQUEST);
        arm_timer(); /* the budget goes on: an offer does not reset it */
    } else if (d.state == ST_REQUESTING && t[0] == ACK) {
        if (!have_server || memcmp(server, d.server, 4) != 0 || memcmp(yi, d.offered, 4) != 0 ||
            !judge(yi, o, ol, mask, router, &have_router) || !server_ok(server, yi, mask))
            return true; /* another server's answer, or one no host can take */
        memcpy(d.ip, yi, 4);
        memcpy(d.mask, mask, 4);
        memcpy(d.router, router, 4);
        ip4_addr_t ip, m4, gw;
        IP4_ADDR(&ip, yi[0], yi[1], yi[2], yi[3]);
        IP4_ADDR(&m4, mask[0], mask[1], mask[2], mask[3]);
        if (have_router)
            IP4_ADDR(&gw, router[0], router[1], router[2], router[3]);
        else
            ip4_addr_set_zero(&gw);
        sys_untimeout(on_timer, NULL);
        d.state = ST_BOUND;
        d.tries = 0;
        d.had_lease = true;
        lease_of(o, ol);
        arm_lease_timer();
        netif_set_addr(d.netif, &ip, &m4, &gw);
        if (get32(d.lost) != 0 && memcmp(d.lost, yi, 4) != 0) {
            /* A lost lease's address, and now another: the UDP sockets still bound to the old
             * one (the 8266 service, the ack) would neither receive on the new one nor send
             * (lwIP refuses a source the netif does not have). lwIP moves them itself when an
             * address is changed for another, but the loss went through 0.0.0.0 in between. */
            ip_addr_t was, now;
            IP_ADDR4(&was, d.lost[0], d.lost[1], d.lost[2], d.lost[3]);
            IP_ADDR4(&now, yi[0], yi[1], yi[2], yi[3]);
            udp_netif_ip_addr_changed(&was, &now);
        }
        memset(d.lost, 0, 4);
        sc_lwip_wake();
    } else if ((d.state == ST_RENEWING || d.state == ST_REBINDING) && t[0] == ACK) {
        /* Renewing, only the server asked may extend it; rebinding, any server may (RFC 2131),
         * and the next renewal asks that one. The address, mask and router stay. */
        if (!have_server || memcmp(yi, d.ip, 4) != 0 || !server_ok(server, yi, d.mask) ||
            (d.state == ST_RENEWING && memcmp(server, d.server, 4) != 0))
            return true;
        memcpy(d.server, server, 4);
        sys_untimeout(on_timer, NULL);
        d.state = ST_BOUND;
        lease_of(o, ol);
        arm_lease_timer();
    } else if ((d.state == ST_REQUESTING || d.state == ST_RENEWING || d.state == ST_REBINDING) && t[0] == NAK) {
        /* A NAK carries its server identifier (RFC 2131). Requesting or renewing, only the server
         * asked counts; rebinding, any server's (RFC 2131 4.4.5: the network's server may have
         * changed, and the address is then no longer right). Counting only the lease's server
         * there stopped no forger (its identifier is in the broadcast OFFER; a rebinding ACK
         * naming the forger makes it the lease's server) and kept a dead address until the
         * lease's end. */
        if (!have_server || (d.state != ST_REBINDING && memcmp(server, d.server, 4) != 0))
            return true;
        if (d.state != ST_REQUESTING) {
            lose_lease();
        } else {
            /* start over at the next tick: no DISCOVER per NAK, and the budget goes on */
            d.state = ST_SELECTING;
            d.req_sent = 0;
            new_xid();
        }
    }
    return true;
}
