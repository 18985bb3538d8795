/* SPDX-License-Identifier: Apache-2.0 */
/* The lwIP port: smartcfg's network HAL (UDP sockets, MQTT) on lwIP instead of the host's
 * stack, the way a Wi-Fi chip's SDK runs it (ESP8266 NONOS/RTOS, ESP-IDF, most Cortex-M
 * modules). Built against Debian's liblwip (the unix port: NO_SYS=0, one tcpip thread,
 * LWIP_TCPIP_CORE_LOCKING) with its tap netif standing in for the Wi-Fi interface. Guide:
 * docs/port-lwip.md.
 *
 * Threads: lwIP's tcpip thread runs the stack and every raw-API callback; the tap netif has
 * a reader thread of its own. The core's thread (the one calling sc_device_step) calls the
 * HAL functions, which take lwIP's core lock around each raw-API call, so the callbacks and
 * the HAL share state under that one lock and never block each other for long. Callbacks
 * only copy into bounded queues and make sc_lwip_wake_fd() readable, so the core's poll loop
 * wakes up as it does for a socket. Memory is static: no heap in this port (lwIP's own pools
 * are lwIP's business; Debian's build maps them to malloc). */
#ifndef SC_LWIP_H
#define SC_LWIP_H

#include <net/if.h>

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the stack and its one network interface ------------------------------------------ */

typedef struct {
    char tap[IF_NAMESIZE];      /* an existing tap interface (the caller created it) */
    uint8_t mac[SC_MAC_LEN];    /* the device's MAC on that link */
    bool have_ip;               /* false: DHCP once the link is up (lwip_dhcp.c) */
    uint8_t ip[4], netmask[4], gw[4];
    uint8_t dhcp_tries;         /* DHCP: sends before giving up; 0 = 8 (1+2+4+4+... ~27 s) */
} sc_lwip_netif_opts_t;

/* Frames and bytes through lwIP's netif, counted at the driver boundary (what lwIP hands to
 * the tap and what the tap hands to lwIP). Debian builds lwIP with LWIP_STATS 0, so these are
 * the port's own. */
typedef struct {
    unsigned long rx_frames, tx_frames, rx_bytes, tx_bytes, tx_errors;
    unsigned long icmp_limited; /* ICMP errors not sent: over the rate limit (lwip_net.c) */
} sc_lwip_counters_t;

/* Starts lwIP (tcpip thread), adds the tap netif with the MAC, link down and no address
 * until sc_lwip_link_up(). Once per process. SC_ERR_NOTFOUND: no such tap interface;
 * errbuf says why. */
sc_err_t sc_lwip_start(const sc_lwip_netif_opts_t *o, char *errbuf, size_t errlen);
/* The link is up (the station associated): the netif comes up with its static address, or
 * starts DHCP (sc_lwip_ip() true once leased, sc_lwip_ip_failed() when no server answered). */
void sc_lwip_link_up(void);
/* The link went away (leave / failed join): address gone, sockets stay open (the soft-AP's
 * address instead while the soft-AP is up). */
void sc_lwip_link_down(void);
/* The soft-AP (the log soft-AP, the soft-AP flow) is up / down. A chip's AP is an interface of
 * its own; here it is the same netif: while the station has no link, the soft-AP gives it the
 * address ip/mask (network order), so the UDP services behind the AP (9876, 8266) are
 * reachable on the tap. The station's link, when it comes, takes the netif over. */
void sc_lwip_ap_up(const uint8_t ip[4], const uint8_t mask[4]);
void sc_lwip_ap_down(void);
/* The netif's IPv4 address once it has one (network order). */
bool sc_lwip_ip(uint8_t ip[4]);
bool sc_lwip_ip_failed(void);
void sc_lwip_mac(uint8_t mac[SC_MAC_LEN]);
/* sc_lwip_start succeeded (the HAL functions need the stack; their cleanups are no-ops without). */
bool sc_lwip_running(void);
/* Readable while something arrived for the HAL (a datagram, an MQTT event). */
int sc_lwip_wake_fd(void);
/* Empties the wake descriptor; call before draining the HAL queues. */
void sc_lwip_wake_drain(void);
void sc_lwip_counters(sc_lwip_counters_t *c);

/* Internal to the port: the callbacks' "something happened". */
void sc_lwip_wake(void);

/* ---- UDP (sc_hal_udp_t) on lwIP's raw UDP API ---------------------------------------------- */

#define SC_LWIP_UDP_MAX 4       /* the core uses 3 at most (ack, 8266, 9876) */
#define SC_LWIP_UDP_QUEUE 8     /* datagrams kept per socket until recv_from */
#define SC_LWIP_UDP_DGRAM 1472  /* one Ethernet MTU of UDP payload; longer ones are cut */

typedef struct {
    uint16_t len;               /* bytes kept */
    uint16_t real_len;          /* bytes the datagram had */
    sc_ipv4_ep_t from;
    uint8_t data[SC_LWIP_UDP_DGRAM];
} sc_lwip_dgram_t;

typedef struct {
    struct udp_pcb *pcb;        /* NULL = free slot */
    bool broadcast;
    unsigned head, count;
    sc_lwip_dgram_t q[SC_LWIP_UDP_QUEUE];
} sc_lwip_udp_sock_t;

typedef struct {
    sc_lwip_udp_sock_t s[SC_LWIP_UDP_MAX];
    unsigned long sent, received, dropped, truncated, send_errors;
} sc_lwip_udp_t;

void sc_lwip_udp_init(sc_lwip_udp_t *u, sc_hal_udp_t *hal);
void sc_lwip_udp_close_all(sc_lwip_udp_t *u);

/* ---- MQTT (sc_hal_mqtt_t) on lwIP's MQTT client ---------------------------------------------
 * Plain MQTT 3.1.1 over lwIP TCP (Debian's lwIP has no altcp TLS: connect with tls = true,
 * certificate or PSK, is SC_ERR_UNSUPPORTED). The broker must be given as an IPv4 address (this lwIP build has no
 * DNS). state() reason on SC_MQTT_FAILED: the CONNACK code 1..5, else ECONNREFUSED (the TCP
 * connection never came up), ECONNRESET (lost after CONNACK), ETIMEDOUT (no CONNACK in time),
 * EHOSTUNREACH (the host is not an address). */

#define SC_LWIP_MQTT_QUEUE 4
#define SC_LWIP_MQTT_HELD_PBUFS 32 /* segments held before they are copied into one buffer */

typedef struct sc_lwip_mqtt sc_lwip_mqtt_t;

/* Fills the HAL table with the port's single MQTT client (static). */
void sc_lwip_mqtt_init(sc_hal_mqtt_t *hal);
void sc_lwip_mqtt_cleanup(sc_hal_mqtt_t *hal);
/* What the MQTT client holds of the broker's stream while its queue is full (bytes, and in
 * *pbufs the buffers they take): diagnostics, and the tests. */
size_t sc_lwip_mqtt_held(unsigned *pbufs);

/* ---- station: an association backend + lwIP's address ------------------------------------
 * Wraps a station backend that only knows about association (the POSIX simulated AP, or a
 * chip's Wi-Fi driver): once it reports success, the netif comes up and the station reports
 * GOT_IP with lwIP's address and lwIP's MAC, as on a chip where the Wi-Fi driver associates
 * and lwIP owns the address. */
typedef struct {
    sc_hal_station_t inner;
    bool linked;
    bool dhcp_failed;           /* no lease: FAILED (DHCP) until the next join, link given up */
} sc_lwip_station_t;

void sc_lwip_station_wrap(sc_lwip_station_t *s, const sc_hal_station_t *inner, sc_hal_station_t *hal);

#ifdef __cplusplus
}
#endif
#endif
