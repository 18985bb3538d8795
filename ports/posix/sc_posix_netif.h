/* SPDX-License-Identifier: Apache-2.0 */
/* Facts about a local network interface (its IPv4 address and MAC) and the stable fake MACs
 * used where an interface has none (loopback), so that several simulated devices on one host
 * still acknowledge with distinct MACs. */
#ifndef SC_POSIX_NETIF_H
#define SC_POSIX_NETIF_H

#include "smartcfg/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* First IPv4 address of iface. SC_ERR_NOTFOUND when it has none (or does not exist). */
sc_err_t sc_posix_netif_ipv4(const char *iface, uint8_t ip[4]);
/* Hardware address; SC_ERR_NOTFOUND when the interface does not exist or has an all-zero MAC. */
sc_err_t sc_posix_netif_mac(const char *iface, uint8_t mac[SC_MAC_LEN]);
/* A locally administered unicast MAC (02:...) derived from seed: same seed, same MAC. */
void sc_posix_fake_mac(const char *seed, uint8_t mac[SC_MAC_LEN]);
/* Even number of hex digits -> bytes (the command line's --ssid-hex and the like): the byte
 * count; -1 for an odd length or a non-hex digit, -2 when it is more than cap bytes. */
int sc_posix_parse_hex(const char *s, uint8_t *out, size_t cap);
/* "aa:bb:cc:dd:ee:ff" (also '-' separators) -> mac. */
sc_err_t sc_posix_parse_mac(const char *s, uint8_t mac[SC_MAC_LEN]);
/* Dotted IPv4 -> network order bytes. */
sc_err_t sc_posix_parse_ipv4(const char *s, uint8_t ip[4]);

/* The BSSID of the simulated AP and of the virtual radio's relayed frames (they must agree so
 * that a device sees the AP it then joins): 02:5c:00:00:00:01 unless configured. */
extern const uint8_t sc_posix_default_bssid[SC_MAC_LEN];

#ifdef __cplusplus
}
#endif
#endif
