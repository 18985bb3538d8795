/* SPDX-License-Identifier: Apache-2.0 */
/* POSIX side of `smartcfg send` (the phone): the sockets (ESP-TOUCH datagrams to UDP 7001, the
 * ack listener on UDP 18266, the token socket on <phone-ip>:8266), a non-blocking libcurl client
 * for the token API, and the host's Wi-Fi facts (SSID/BSSID of the current association through
 * nl80211, the interface's IPv4 address through getifaddrs). Protocol logic lives in
 * smartcfg/sender.h; nothing here interprets a payload. */
#ifndef SC_SEND_POSIX_H
#define SC_SEND_POSIX_H

#include <net/if.h>

#include "smartcfg/sender.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SC_POSIX_DEST_BROADCAST = 0,  /* 255.255.255.255 (the Android reference default) */
    SC_POSIX_DEST_MULTICAST,      /* 234.n.n.n rotating per burst/triplet */
    SC_POSIX_DEST_UNICAST         /* one address (drives a virtual-radio device, tests) */
} sc_posix_dest_mode_t;

typedef struct {
    const char *iface;        /* NULL: any; else SO_BINDTODEVICE on the sending sockets */
    uint8_t phone_ip[4];      /* local address: source of the datagrams, the token socket */
    sc_posix_dest_mode_t mode;
    uint8_t dest[4];          /* SC_POSIX_DEST_UNICAST */
    bool token_socket;        /* open <phone_ip>:8266 (not needed with --no-token) */
    uint16_t dest_port;       /* 0 = 7001; AirKiss 10001 (sc_send_stream_t.dest_port) */
    uint16_t ack_port;        /* 0 = 18266; v2 18266 + 10000 * mark, AirKiss 10000 */
} sc_posix_send_cfg_t;

typedef struct {
    int tx_fd;
    int ack_fd;
    int token_fd;             /* -1 when not opened */
    sc_posix_send_cfg_t cfg;
} sc_posix_send_net_t;

/* Opens and binds everything; on failure *why says what and what to do (no secret in it). */
sc_err_t sc_posix_send_open(sc_posix_send_net_t *n, const sc_posix_send_cfg_t *cfg, char *why, size_t cap);
void sc_posix_send_close(sc_posix_send_net_t *n);
/* One ESP-TOUCH datagram of `len` bytes of '1' (what the reference apps send); group = the
 * schedule's burst/triplet counter (selects the multicast address). */
sc_err_t sc_posix_send_datagram(sc_posix_send_net_t *n, uint32_t group, uint16_t len);
/* The destination a datagram of that group goes to (for reports). */
void sc_posix_send_dest(const sc_posix_send_net_t *n, uint32_t group, uint8_t ip[4]);
/* Non-blocking receive on fd: SC_ERR_AGAIN when nothing is queued. */
sc_err_t sc_posix_send_recv(int fd, uint8_t src_ip[4], uint16_t *src_port, uint8_t *buf, size_t cap, size_t *len);
sc_err_t sc_posix_send_token(sc_posix_send_net_t *n, const uint8_t ip[4], const void *buf, size_t len);

/* --- token API over HTTP(S): one request in flight, driven from a poll loop ------------- */
typedef struct sc_posix_http sc_posix_http_t;

sc_posix_http_t *sc_posix_http_new(void);
void sc_posix_http_free(sc_posix_http_t *h);
/* POST body (application/json) to url; returns at once. */
sc_err_t sc_posix_http_start(sc_posix_http_t *h, const char *url, const char *body, uint32_t timeout_ms);
bool sc_posix_http_busy(const sc_posix_http_t *h);
/* Makes progress. SC_ERR_AGAIN: still running; SC_OK: finished with *status and the body
 * (valid until the next start); SC_ERR_IO: transport failure, why says which. */
sc_err_t sc_posix_http_poll(sc_posix_http_t *h, long *status, const char **body, size_t *len,
                            char *why, size_t cap);
/* start + poll until done (blocking, bounded by timeout_ms). */
sc_err_t sc_posix_http_post(sc_posix_http_t *h, const char *url, const char *body, uint32_t timeout_ms,
                            long *status, const char **resp, size_t *len, char *why, size_t cap);

/* --- host Wi-Fi / interface facts --------------------------------------------------------- */
typedef struct {
    char ifname[IF_NAMESIZE];
    uint8_t ssid[32];
    uint8_t ssid_len;
    uint8_t bssid[SC_MAC_LEN];
} sc_posix_wifi_assoc_t;

/* The station association of ifname (NULL: the first associated Wi-Fi interface) via
 * nl80211. SC_ERR_NOTFOUND with a message when there is none / no nl80211. */
sc_err_t sc_posix_wifi_assoc(const char *ifname, sc_posix_wifi_assoc_t *out, char *why, size_t cap);
bool sc_posix_iface_exists(const char *ifname);
/* IPv4 address of ifname (NULL: first up, non-loopback interface with one; the name goes to
 * name_out when not NULL). SC_ERR_NOTFOUND when none. */
sc_err_t sc_posix_iface_ipv4(const char *ifname, uint8_t ip[4], char *name_out, size_t cap);
/* true when ip is assigned to an interface of this host (or is in 127/8, always local). */
bool sc_posix_ip_is_local(const uint8_t ip[4]);

#ifdef __cplusplus
}
#endif
#endif
