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
 * Scope: what a device needs to be reachable during provisioning: the address, mask and
 * router of one lease. No renewal (a provisioning run is minutes; leases are hours), no
 * INIT-REBOOT, no ARP probe of the offered address. */
#include <string.h>
#include <sys/random.h>

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

#include "lwip_priv.h"

enum { ST_OFF = 0, ST_SELECTING, ST_REQUESTING, ST_BOUND, ST_FAILED };
enum { DISCOVER = 1, OFFER = 2, REQUEST = 3, ACK = 5, NAK = 6 };

#define BOOTP_FIXED 236        /* op .. file: the fixed part of a BOOTP message */
#define MAGIC 0x63825363u
#define MAX_TRIES 8            /* default: 1+2+4+4+4+4+4+4 s, inside the core's 60 s join timeout */

static struct {
    int state;
    struct netif *netif;
    struct udp_pcb *pcb;
    uint8_t mac[6];
    uint32_t xid;
    uint8_t offered[4], server[4], mask[4], router[4];
    bool have_mask, have_router;
    int tries, max_tries;
} d;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void send_msg(int type)
{
    uint8_t m[300];
    memset(m, 0, sizeof m);
    m[0] = 1;          /* BOOTREQUEST */
    m[1] = 1;          /* Ethernet */
    m[2] = 6;
    put32(m + 4, d.xid);
    m[10] = 0x80;      /* broadcast flag: we cannot receive unicast before we have the address */
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
    if (type == REQUEST) {
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
    udp_sendto_if_src(d.pcb, p, IP_ADDR_BROADCAST, 67, d.netif, IP4_ADDR_ANY);
    pbuf_free(p);
}

static void on_timer(void *arg);

static void arm_timer(void)
{
    uint32_t ms = d.tries < 3 ? 1000u << d.tries : 4000u;
    sys_timeout(ms, on_timer, NULL);
}

static void on_timer(void *arg)
{
    (void)arg;
    if (d.state != ST_SELECTING && d.state != ST_REQUESTING)
        return;
    if (++d.tries >= d.max_tries) {
        d.state = ST_FAILED;
        sc_lwip_wake();
        return;
    }
    if (d.state == ST_REQUESTING && d.tries >= 3)
        d.state = ST_SELECTING; /* the server went quiet after its offer: start over */
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
    if (getrandom(&d.xid, sizeof d.xid, 0) != (ssize_t)sizeof d.xid)
        d.xid = sys_now() ^ 0x5c5c5c5cu;
    d.pcb = udp_new_ip_type(IPADDR_TYPE_V4);
    if (!d.pcb || udp_bind(d.pcb, IP4_ADDR_ANY, 68) != ERR_OK) {
        if (d.pcb)
            udp_remove(d.pcb);
        d.pcb = NULL;
        d.state = ST_FAILED;
        return;
    }
    d.state = ST_SELECTING;
    send_msg(DISCOVER);
    arm_timer();
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
    return d.state == ST_SELECTING || d.state == ST_REQUESTING;
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

static bool opt4(const uint8_t *o, size_t n, uint8_t code, uint8_t out[4])
{
    const uint8_t *v;
    size_t l;
    if (!find_opt(o, n, code, &v, &l) || l < 4)
        return false;
    memcpy(out, v, 4);
    return true;
}

bool sc_lwip_dhcp_input(const uint8_t *f, size_t n)
{
    if (d.state != ST_SELECTING && d.state != ST_REQUESTING)
        return false;
    /* Ethernet / IPv4 / UDP to port 68 */
    if (n < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4 || f[23] != 17)
        return false;
    size_t ihl = (size_t)(f[14] & 0x0f) * 4;
    if (ihl < 20 || n < 14 + ihl + 8)
        return false;
    const uint8_t *u = f + 14 + ihl;
    if (u[2] != 0 || u[3] != 68)
        return false;
    const uint8_t *b = u + 8;
    size_t bl = n - 14 - ihl - 8;
    /* From here on it is ours (consumed) whatever it holds: junk is ignored, not passed on. */
    if (bl < BOOTP_FIXED + 4 || b[0] != 2 || memcmp(b + 28, d.mac, 6) != 0)
        return true;
    uint32_t xid = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
    uint32_t magic = (uint32_t)b[236] << 24 | (uint32_t)b[237] << 16 | (uint32_t)b[238] << 8 | b[239];
    if (xid != d.xid || magic != MAGIC)
        return true;
    const uint8_t *o = b + BOOTP_FIXED + 4;
    size_t ol = bl - BOOTP_FIXED - 4;
    const uint8_t *t;
    size_t tl;
    if (!find_opt(o, ol, 53, &t, &tl) || tl != 1)
        return true;
    if (d.state == ST_SELECTING && t[0] == OFFER) {
        uint8_t server[4];
        if (!opt4(o, ol, 54, server))
            return true;
        memcpy(d.offered, b + 16, 4); /* yiaddr */
        memcpy(d.server, server, 4);
        d.state = ST_REQUESTING;
        d.tries = 0;
        sys_untimeout(on_timer, NULL);
        send_msg(REQUEST);
        arm_timer();
    } else if (d.state == ST_REQUESTING && t[0] == ACK) {
        uint8_t server[4];
        if (opt4(o, ol, 54, server) && memcmp(server, d.server, 4) != 0)
            return true; /* another server's answer */
        memcpy(d.offered, b + 16, 4);
        d.have_mask = opt4(o, ol, 1, d.mask);
        d.have_router = opt4(o, ol, 3, d.router);
        ip4_addr_t ip, mask, gw;
        IP4_ADDR(&ip, d.offered[0], d.offered[1], d.offered[2], d.offered[3]);
        if (d.have_mask)
            IP4_ADDR(&mask, d.mask[0], d.mask[1], d.mask[2], d.mask[3]);
        else
            IP4_ADDR(&mask, 255, 255, 255, 0);
        if (d.have_router)
            IP4_ADDR(&gw, d.router[0], d.router[1], d.router[2], d.router[3]);
        else
            ip4_addr_set_zero(&gw);
        sys_untimeout(on_timer, NULL);
        udp_remove(d.pcb);
        d.pcb = NULL;
        d.state = ST_BOUND;
        netif_set_addr(d.netif, &ip, &mask, &gw);
        sc_lwip_wake();
    } else if (d.state == ST_REQUESTING && t[0] == NAK) {
        d.state = ST_SELECTING;
        d.tries = 0;
        d.xid++;
        sys_untimeout(on_timer, NULL);
        send_msg(DISCOVER);
        arm_timer();
    }
    return true;
}
