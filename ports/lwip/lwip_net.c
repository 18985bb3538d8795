/* SPDX-License-Identifier: Apache-2.0 */
/* lwIP bring-up: the tcpip thread, the tap netif standing in for the Wi-Fi station interface,
 * its address, and the wake descriptor of sc_lwip.h.
 *
 * The tap driver is the port's own, not the unix port's tapif: Debian's liblwip 2.1.3 hands out
 * PBUF_POOL pbufs whose memory (616 bytes, memp.c) is smaller than what pbuf.c lets them hold
 * (1536), and tapif copies every received frame into one: any frame over ~590 bytes from the
 * LAN overwrote the heap (docs/port-lwip.md). Frames here go into PBUF_RAM pbufs, which pbuf.c
 * sizes and lays out itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/ethip6.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "netif/etharp.h"

#include "lwip_priv.h"

static struct {
    struct netif netif;
    bool started;
    bool have_ip;
    int dhcp_tries;
    ip4_addr_t ip, mask, gw;
    uint8_t mac[SC_MAC_LEN];
    int wake_fd;
    int tap_fd;
    netif_linkoutput_fn tap_output;  /* the tap driver's, wrapped to count */
    netif_input_fn stack_input;      /* tcpip_input, wrapped to count */
    sc_lwip_counters_t count;        /* under the core lock */
    bool sta_up, ap_up;              /* who holds the netif up: the station, the soft-AP */
    ip4_addr_t ap_ip, ap_mask;       /* the soft-AP's address (ap_up) */
} g = { .wake_fd = -1, .tap_fd = -1 };

/* ---- the tap driver ------------------------------------------------------------------------ */

#define TAP_FRAME_MAX 1518 /* Ethernet with a VLAN tag, no FCS: what a 1500-byte MTU carries */

/* linkoutput: lwIP calls it with the core lock held, so one static buffer serves every call. */
static err_t tap_output(struct netif *netif, struct pbuf *p)
{
    (void)netif;
    static uint8_t frame[TAP_FRAME_MAX];
    if (p->tot_len > sizeof frame)
        return ERR_IF;
    u16_t n = pbuf_copy_partial(p, frame, p->tot_len, 0);
    ssize_t w = write(g.tap_fd, frame, n);
    return w == (ssize_t)n ? ERR_OK : ERR_IF;
}

/* The reader thread: one frame per blocking read() (the tap is opened blocking, so the read
 * itself waits); runts and frames longer than a 1500-byte MTU allows (the read is cut) are
 * dropped here, the rest copied into a pbuf of exactly its size. */
static void tap_reader(void *arg)
{
    struct netif *netif = arg;
    static uint8_t frame[TAP_FRAME_MAX + 1]; /* this thread only; +1 tells a cut read */
    for (;;) {
        ssize_t n = read(g.tap_fd, frame, sizeof frame); /* -1 (EINTR) is dropped below */
        if (n < 14 || n > TAP_FRAME_MAX)
            continue;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
        if (!p)
            continue; /* out of memory: dropped, as a NIC with no free buffer does */
        pbuf_take(p, frame, (u16_t)n);
        if (netif->input(p, netif) != ERR_OK)
            pbuf_free(p);
    }
}

/* netif_add's init: an Ethernet netif on the tap opened in sc_lwip_start (the reader starts
 * once the port's hooks are in place). */
static err_t tap_init(struct netif *netif)
{
    netif->name[0] = 't';
    netif->name[1] = 'p';
    netif->output = etharp_output;
#if LWIP_IPV6
    netif->output_ip6 = ethip6_output;
#endif
    netif->linkoutput = tap_output;
    netif->mtu = 1500;
    netif->hwaddr_len = SC_MAC_LEN;
    memcpy(netif->hwaddr, g.mac, SC_MAC_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_IGMP;
    return ERR_OK;
}

static int tap_open(const char *name, char *errbuf, size_t errlen)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errbuf, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        snprintf(errbuf, errlen, "cannot attach to tap '%s': %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void sc_lwip_wake(void)
{
    uint64_t one = 1;
    /* Full counter (never in practice) or EAGAIN: the reader is due to wake anyway. */
    ssize_t n = write(g.wake_fd, &one, sizeof one);
    (void)n;
}

bool sc_lwip_running(void)
{
    return g.started;
}

int sc_lwip_wake_fd(void)
{
    return g.wake_fd;
}

void sc_lwip_wake_drain(void)
{
    uint64_t v;
    ssize_t n = read(g.wake_fd, &v, sizeof v);
    (void)n;
}

/* ICMP errors lwIP sends in answer to junk (port unreachable for every datagram to a closed
 * port, time exceeded for every fragmented datagram it gives up on) have no rate limit in lwIP:
 * 1-byte datagrams from a LAN host got 36 times their bytes back, to whatever source address
 * they carried. Linux allows a burst of 6 and then one a second per peer; here one bucket for
 * all peers does the same (nothing of the device's needs them). */
#define ICMP_ERR_BURST 6
#define ICMP_ERR_EVERY_MS 1000

static bool icmp_error(struct pbuf *p)
{
    uint8_t h[14 + 60 + 1];
    u16_t n = pbuf_copy_partial(p, h, sizeof h, 0);
    if (n < 14 + 20 + 1 || h[12] != 0x08 || h[13] != 0x00)
        return false; /* not IPv4 */
    const uint8_t *ip = h + 14;
    unsigned ihl = (ip[0] & 0x0fu) * 4u;
    if ((ip[0] >> 4) != 4 || ip[9] != 1 || ihl < 20 || 14u + ihl >= n || ((ip[6] & 0x1fu) | ip[7]) != 0)
        return false; /* not ICMP, or not its first fragment */
    uint8_t type = ip[ihl];
    return type == 3 || type == 4 || type == 11 || type == 12;
}

static bool icmp_error_allowed(void)
{
    static bool init;
    static u32_t last;
    static unsigned tokens;
    u32_t now = sys_now();
    if (!init) {
        init = true;
        last = now;
        tokens = ICMP_ERR_BURST;
    }
    u32_t add = (now - last) / ICMP_ERR_EVERY_MS;
    if (add) {
        tokens = tokens + add > ICMP_ERR_BURST ? ICMP_ERR_BURST : tokens + (unsigned)add;
        last += add * ICMP_ERR_EVERY_MS;
    }
    if (!tokens)
        return false;
    tokens--;
    return true;
}

/* Runs in the tcpip thread (lwIP calls linkoutput with the core lock held). */
static err_t counting_output(struct netif *netif, struct pbuf *p)
{
    if (icmp_error(p) && !icmp_error_allowed()) {
        g.count.icmp_limited++;
        return ERR_OK; /* dropped, as a rate limit does: not the link's error */
    }
    err_t e = g.tap_output(netif, p);
    if (e == ERR_OK) {
        g.count.tx_frames++;
        g.count.tx_bytes += p->tot_len;
    } else {
        g.count.tx_errors++;
    }
    return e;
}

/* Runs in the tap reader thread: tcpip_input only queues the frame for the tcpip thread,
 * so the counters are updated under the core lock to stay consistent with readers. While the
 * DHCP client waits for its lease, its replies are taken here (lwip_dhcp.c says why). */
static err_t counting_input(struct pbuf *p, struct netif *netif)
{
    static uint8_t frame[1518]; /* this thread only */
    u16_t len = p->tot_len;
    LOCK_TCPIP_CORE();
    bool taken = false;
    if (sc_lwip_dhcp_active()) {
        u16_t n = pbuf_copy_partial(p, frame, len < sizeof frame ? len : (u16_t)sizeof frame, 0);
        taken = sc_lwip_dhcp_input(frame, n);
    }
    if (taken) {
        g.count.rx_frames++;
        g.count.rx_bytes += len;
    }
    UNLOCK_TCPIP_CORE();
    if (taken) {
        pbuf_free(p);
        return ERR_OK;
    }
    err_t e = g.stack_input(p, netif);
    if (e == ERR_OK) {
        LOCK_TCPIP_CORE();
        g.count.rx_frames++;
        g.count.rx_bytes += len;
        UNLOCK_TCPIP_CORE();
    }
    return e;
}

/* The tun driver's interfaces (ethtool says "tun"): anything else is refused with a message
 * that says what to create. */
static bool is_tap(const char *name)
{
    struct ethtool_drvinfo info;
    struct ifreq ifr;
    memset(&info, 0, sizeof info);
    memset(&ifr, 0, sizeof ifr);
    info.cmd = ETHTOOL_GDRVINFO;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ifr.ifr_data = (char *)&info;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return false;
    bool ok = ioctl(s, SIOCETHTOOL, &ifr) == 0 && !strcmp(info.driver, "tun");
    close(s);
    return ok;
}

static void tcpip_ready(void *arg)
{
    sys_sem_t *sem = arg;
    sys_sem_signal(sem);
}

sc_err_t sc_lwip_start(const sc_lwip_netif_opts_t *o, char *errbuf, size_t errlen)
{
    if (g.started) {
        snprintf(errbuf, errlen, "lwIP is already running");
        return SC_ERR_STATE;
    }
    if (!o || !o->tap[0]) {
        snprintf(errbuf, errlen, "no tap interface given");
        return SC_ERR_INVAL;
    }
    /* TUNSETIFF would create a new tap (as root) under a missing name: check first, and say
     * it clearly. */
    if (if_nametoindex(o->tap) == 0) {
        snprintf(errbuf, errlen, "no interface '%s' (create it first: ip tuntap add dev %s mode tap)", o->tap, o->tap);
        return SC_ERR_NOTFOUND;
    }
    if (!is_tap(o->tap)) {
        snprintf(errbuf, errlen, "'%s' is not a tap interface (ip tuntap add dev NAME mode tap)", o->tap);
        return SC_ERR_NOTFOUND;
    }
    g.tap_fd = tap_open(o->tap, errbuf, errlen);
    if (g.tap_fd < 0)
        return SC_ERR_IO;
    g.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (g.wake_fd < 0) {
        snprintf(errbuf, errlen, "eventfd: %s", strerror(errno));
        close(g.tap_fd);
        g.tap_fd = -1;
        return SC_ERR_IO;
    }
    memcpy(g.mac, o->mac, SC_MAC_LEN);
    g.have_ip = o->have_ip;
    g.dhcp_tries = o->dhcp_tries;
    IP4_ADDR(&g.ip, o->ip[0], o->ip[1], o->ip[2], o->ip[3]);
    IP4_ADDR(&g.mask, o->netmask[0], o->netmask[1], o->netmask[2], o->netmask[3]);
    IP4_ADDR(&g.gw, o->gw[0], o->gw[1], o->gw[2], o->gw[3]);

    sys_sem_t ready;
    if (sys_sem_new(&ready, 0) != ERR_OK) {
        snprintf(errbuf, errlen, "lwIP: cannot create a semaphore");
        return SC_ERR_NOMEM;
    }
    tcpip_init(tcpip_ready, &ready);
    sys_sem_wait(&ready);
    sys_sem_free(&ready);

    LOCK_TCPIP_CORE();
    /* No address yet: the station has not associated. The MAC is the device's (tap_init): the
     * one the ack carries. */
    struct netif *n = netif_add(&g.netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, NULL, tap_init, tcpip_input);
    if (n) {
        g.tap_output = g.netif.linkoutput;
        g.netif.linkoutput = counting_output;
        g.stack_input = g.netif.input;
        g.netif.input = counting_input;
        netif_set_default(&g.netif);
        netif_set_link_down(&g.netif);
    }
    UNLOCK_TCPIP_CORE();
    if (!n) {
        snprintf(errbuf, errlen, "lwIP: cannot add the tap netif on %s", o->tap);
        return SC_ERR_IO;
    }
    sys_thread_new("sc_tap", tap_reader, &g.netif, DEFAULT_THREAD_STACKSIZE, DEFAULT_THREAD_PRIO);
    g.started = true;
    return SC_OK;
}

void sc_lwip_link_up(void)
{
    if (!g.started)
        return;
    LOCK_TCPIP_CORE();
    g.sta_up = true; /* the station's address replaces the soft-AP's */
    if (g.have_ip) {
        netif_set_addr(&g.netif, &g.ip, &g.mask, &g.gw);
        netif_set_link_up(&g.netif);
        netif_set_up(&g.netif); /* sends a gratuitous ARP: the LAN learns the device's MAC */
    } else {
        netif_set_addr(&g.netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
        netif_set_link_up(&g.netif);
        netif_set_up(&g.netif);
        sc_lwip_dhcp_start(&g.netif, g.mac, g.dhcp_tries); /* the address comes with the lease */
    }
    UNLOCK_TCPIP_CORE();
}

/* The netif with nobody holding it up: down, no address. Core lock held. */
static void netif_off(void)
{
    netif_set_down(&g.netif);
    netif_set_link_down(&g.netif);
    netif_set_addr(&g.netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
}

/* The soft-AP's side of the link, with its address. No DHCP server. Core lock held. */
static void netif_ap(void)
{
    ip4_addr_t gw;
    ip4_addr_set_zero(&gw);
    netif_set_addr(&g.netif, &g.ap_ip, &g.ap_mask, &gw);
    netif_set_link_up(&g.netif);
    netif_set_up(&g.netif);
}

void sc_lwip_link_down(void)
{
    if (!g.started)
        return;
    LOCK_TCPIP_CORE();
    sc_lwip_dhcp_stop();
    g.sta_up = false;
    netif_off();
    if (g.ap_up)
        netif_ap(); /* the station left; the soft-AP's services stay reachable */
    UNLOCK_TCPIP_CORE();
}

void sc_lwip_ap_up(const uint8_t ip[4], const uint8_t mask[4])
{
    if (!g.started)
        return;
    LOCK_TCPIP_CORE();
    IP4_ADDR(&g.ap_ip, ip[0], ip[1], ip[2], ip[3]);
    IP4_ADDR(&g.ap_mask, mask[0], mask[1], mask[2], mask[3]);
    g.ap_up = true;
    if (!g.sta_up)
        netif_ap();
    UNLOCK_TCPIP_CORE();
}

void sc_lwip_ap_down(void)
{
    if (!g.started)
        return;
    LOCK_TCPIP_CORE();
    g.ap_up = false;
    if (!g.sta_up)
        netif_off();
    UNLOCK_TCPIP_CORE();
}

bool sc_lwip_ip(uint8_t ip[4])
{
    if (!g.started)
        return false;
    LOCK_TCPIP_CORE();
    bool ok = netif_is_up(&g.netif) && !ip4_addr_isany_val(*netif_ip4_addr(&g.netif));
    if (ok)
        memcpy(ip, &netif_ip4_addr(&g.netif)->addr, 4); /* lwIP keeps it in network order */
    UNLOCK_TCPIP_CORE();
    return ok;
}

bool sc_lwip_ip_failed(void)
{
    if (!g.started)
        return false;
    LOCK_TCPIP_CORE();
    bool failed = sc_lwip_dhcp_failed();
    UNLOCK_TCPIP_CORE();
    return failed;
}

void sc_lwip_mac(uint8_t mac[SC_MAC_LEN])
{
    memcpy(mac, g.mac, SC_MAC_LEN);
}

void sc_lwip_counters(sc_lwip_counters_t *c)
{
    if (!g.started) {
        memset(c, 0, sizeof *c);
        return;
    }
    LOCK_TCPIP_CORE();
    *c = g.count;
    UNLOCK_TCPIP_CORE();
}
