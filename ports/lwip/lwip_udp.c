/* SPDX-License-Identifier: Apache-2.0 */
/* sc_hal_udp_t on lwIP's raw UDP API. lwIP delivers datagrams by callback in its tcpip
 * thread; the core wants to poll. Each socket therefore has a small ring of copies, filled by
 * the callback and emptied by recv_from, both under lwIP's core lock (sc_lwip.h). A full ring
 * drops the newest datagram, like a full socket buffer: a flood of junk on 8266 costs only
 * what it brings, and the ring empties at every core step. */
#include <string.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"

#include "sc_lwip.h"

/* Called from lwIP's tcpip thread with the core lock held. */
static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
    (void)pcb;
    sc_lwip_udp_t *u = arg;
    sc_lwip_udp_sock_t *s = NULL;
    for (int i = 0; i < SC_LWIP_UDP_MAX; i++)
        if (u->s[i].pcb == pcb)
            s = &u->s[i];
    if (!s || !p) {
        if (p)
            pbuf_free(p);
        return;
    }
    if (s->count == SC_LWIP_UDP_QUEUE) {
        u->dropped++;
    } else {
        sc_lwip_dgram_t *d = &s->q[(s->head + s->count) % SC_LWIP_UDP_QUEUE];
        uint16_t n = p->tot_len > SC_LWIP_UDP_DGRAM ? SC_LWIP_UDP_DGRAM : p->tot_len;
        d->len = pbuf_copy_partial(p, d->data, n, 0);
        d->real_len = p->tot_len;
        memset(&d->from, 0, sizeof d->from);
        if (addr && IP_IS_V4(addr))
            memcpy(d->from.addr, &ip_2_ip4(addr)->addr, 4);
        d->from.port = port;
        s->count++;
        sc_lwip_wake();
    }
    pbuf_free(p);
}

static sc_lwip_udp_sock_t *slot(sc_lwip_udp_t *u, int handle)
{
    if (handle < 0 || handle >= SC_LWIP_UDP_MAX || !u->s[handle].pcb)
        return NULL;
    return &u->s[handle];
}

static sc_err_t map_err(err_t e)
{
    switch (e) {
    case ERR_OK: return SC_OK;
    case ERR_MEM:
    case ERR_BUF: return SC_ERR_AGAIN;   /* out of pbufs: the contract says drop, do not block */
    case ERR_USE: return SC_ERR_BUSY;
    case ERR_VAL:
    case ERR_ARG: return SC_ERR_INVAL;
    case ERR_RTE: return SC_ERR_IO;      /* no route: the link is down */
    default: return SC_ERR_IO;
    }
}

static sc_err_t udp_open(void *ctx, const uint8_t *local_ip, uint16_t local_port, bool broadcast, int *handle)
{
    sc_lwip_udp_t *u = ctx;
    if (!handle)
        return SC_ERR_INVAL;
    int k = -1;
    for (int i = 0; i < SC_LWIP_UDP_MAX && k < 0; i++)
        if (!u->s[i].pcb)
            k = i;
    if (k < 0)
        return SC_ERR_NOSPACE;
    ip_addr_t a = IPADDR4_INIT(0);
    if (local_ip)
        IP_ADDR4(&a, local_ip[0], local_ip[1], local_ip[2], local_ip[3]);
    sc_err_t rc = SC_OK;
    LOCK_TCPIP_CORE();
    struct udp_pcb *pcb = udp_new_ip_type(IPADDR_TYPE_V4);
    if (!pcb) {
        rc = SC_ERR_NOMEM;
    } else {
        err_t e = udp_bind(pcb, &a, local_port);
        if (e != ERR_OK) {
            udp_remove(pcb);
            rc = map_err(e);
        } else {
            sc_lwip_udp_sock_t *s = &u->s[k];
            memset(s, 0, sizeof *s);
            s->pcb = pcb;
            s->broadcast = broadcast;
            /* lwIP sends to 255.255.255.255 from any pcb (IP_SOF_BROADCAST is off in this
             * build); the HAL contract's "only on a broadcast socket" is enforced in send_to. */
            udp_recv(pcb, on_recv, u);
            *handle = k;
        }
    }
    UNLOCK_TCPIP_CORE();
    return rc;
}

static sc_err_t udp_send_to(void *ctx, int handle, const sc_ipv4_ep_t *to, const void *buf, size_t len)
{
    sc_lwip_udp_t *u = ctx;
    if (!to || (!buf && len) || len > SC_LWIP_UDP_DGRAM)
        return SC_ERR_INVAL;
    static const uint8_t bcast[4] = { 255, 255, 255, 255 };
    sc_err_t rc;
    LOCK_TCPIP_CORE();
    sc_lwip_udp_sock_t *s = slot(u, handle);
    if (!s) {
        rc = SC_ERR_INVAL;
    } else if (!s->broadcast && !memcmp(to->addr, bcast, 4)) {
        rc = SC_ERR_REFUSED; /* as EACCES from a BSD socket without SO_BROADCAST */
    } else {
        struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
        if (!p) {
            rc = SC_ERR_AGAIN;
        } else {
            if (len)
                pbuf_take(p, buf, (u16_t)len);
            ip_addr_t dst;
            IP_ADDR4(&dst, to->addr[0], to->addr[1], to->addr[2], to->addr[3]);
            rc = map_err(udp_sendto(s->pcb, p, &dst, to->port));
            pbuf_free(p);
        }
    }
    if (rc == SC_OK)
        u->sent++;
    else
        u->send_errors++;
    UNLOCK_TCPIP_CORE();
    return rc;
}

static sc_err_t udp_recv_from(void *ctx, int handle, sc_ipv4_ep_t *from, void *buf, size_t cap, size_t *len,
                              bool *truncated)
{
    sc_lwip_udp_t *u = ctx;
    if (!len || (!buf && cap))
        return SC_ERR_INVAL;
    sc_err_t rc = SC_OK;
    LOCK_TCPIP_CORE();
    sc_lwip_udp_sock_t *s = slot(u, handle);
    if (!s) {
        rc = SC_ERR_INVAL;
    } else if (s->count == 0) {
        rc = SC_ERR_AGAIN;
    } else {
        sc_lwip_dgram_t *d = &s->q[s->head];
        size_t n = d->len < cap ? d->len : cap;
        if (n)
            memcpy(buf, d->data, n);
        /* cut when the caller's buffer was too small, and also when the datagram was longer
         * than the copy this port kept: a caller with a larger buffer must not take the first
         * SC_LWIP_UDP_DGRAM bytes of a longer datagram for the whole of it */
        bool cut = d->real_len > n;
        *len = n;
        if (truncated)
            *truncated = cut;
        if (cut)
            u->truncated++;
        if (from)
            *from = d->from;
        s->head = (s->head + 1) % SC_LWIP_UDP_QUEUE;
        s->count--;
        u->received++;
    }
    UNLOCK_TCPIP_CORE();
    return rc;
}

static void udp_close(void *ctx, int handle)
{
    sc_lwip_udp_t *u = ctx;
    LOCK_TCPIP_CORE();
    sc_lwip_udp_sock_t *s = slot(u, handle);
    if (s) {
        udp_remove(s->pcb);
        /* the queued datagrams may be a token or a log request: do not leave them around */
        memset(s, 0, sizeof *s);
    }
    UNLOCK_TCPIP_CORE();
}

void sc_lwip_udp_init(sc_lwip_udp_t *u, sc_hal_udp_t *hal)
{
    memset(u, 0, sizeof *u);
    if (hal) {
        hal->ctx = u;
        hal->open = udp_open;
        hal->send_to = udp_send_to;
        hal->recv_from = udp_recv_from;
        hal->close = udp_close;
    }
}

void sc_lwip_udp_close_all(sc_lwip_udp_t *u)
{
    if (!sc_lwip_running())
        return;
    for (int i = 0; i < SC_LWIP_UDP_MAX; i++)
        udp_close(u, i);
}
