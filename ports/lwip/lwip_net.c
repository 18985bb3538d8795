/* SPDX-License-Identifier: Apache-2.0 */
/* lwIP bring-up: the tcpip thread, the tap netif (Debian's unix port) standing in for the
 * Wi-Fi station interface, its address, and the wake descriptor of sc_lwip.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "netif/tapif.h"

#include "lwip_priv.h"

static struct {
    struct netif netif;
    bool started;
    bool have_ip;
    int dhcp_tries;
    ip4_addr_t ip, mask, gw;
    uint8_t mac[SC_MAC_LEN];
    int wake_fd;
    netif_linkoutput_fn tap_output;  /* the tap driver's, wrapped to count */
    netif_input_fn stack_input;      /* tcpip_input, wrapped to count */
    sc_lwip_counters_t count;        /* under the core lock */
} g = { .wake_fd = -1 };

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

/* Runs in the tcpip thread (lwIP calls linkoutput with the core lock held). */
static err_t counting_output(struct netif *netif, struct pbuf *p)
{
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

/* The tun driver's interfaces (ethtool says "tun"): lwIP's tap driver exits the process when
 * it cannot attach, so anything else is refused here with a message. */
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
    /* The tap driver would create a new tap (as root) under a missing name, and exits the
     * process on any open error: check first, and say it clearly. */
    if (if_nametoindex(o->tap) == 0) {
        snprintf(errbuf, errlen, "no interface '%s' (create it first: ip tuntap add dev %s mode tap)", o->tap, o->tap);
        return SC_ERR_NOTFOUND;
    }
    if (!is_tap(o->tap)) {
        snprintf(errbuf, errlen, "'%s' is not a tap interface (ip tuntap add dev NAME mode tap)", o->tap);
        return SC_ERR_NOTFOUND;
    }
    if (access("/dev/net/tun", R_OK | W_OK) != 0) {
        snprintf(errbuf, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
        return SC_ERR_IO;
    }
    g.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (g.wake_fd < 0) {
        snprintf(errbuf, errlen, "eventfd: %s", strerror(errno));
        return SC_ERR_IO;
    }
    /* The unix port's tapif takes the interface name from the environment; with it set it
     * also leaves the host side unconfigured (no ifconfig), which is what we want: the Linux
     * stack must not take part. */
    if (setenv("PRECONFIGURED_TAPIF", o->tap, 1) != 0) {
        snprintf(errbuf, errlen, "setenv: %s", strerror(errno));
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
    /* No address yet: the station has not associated. */
    struct netif *n = netif_add(&g.netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, NULL, tapif_init, tcpip_input);
    if (n) {
        /* tapif sets a fixed MAC of its own; the device's is the one the ack carries. */
        memcpy(g.netif.hwaddr, g.mac, SC_MAC_LEN);
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
    g.started = true;
    return SC_OK;
}

void sc_lwip_link_up(void)
{
    if (!g.started)
        return;
    LOCK_TCPIP_CORE();
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

void sc_lwip_link_down(void)
{
    if (!g.started)
        return;
    LOCK_TCPIP_CORE();
    sc_lwip_dhcp_stop();
    netif_set_down(&g.netif);
    netif_set_link_down(&g.netif);
    netif_set_addr(&g.netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
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
