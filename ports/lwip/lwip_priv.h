/* SPDX-License-Identifier: Apache-2.0 */
/* Between the lwIP port's files (not for programs): the DHCP client of lwip_dhcp.c, driven
 * by lwip_net.c. Every function runs under lwIP's core lock. */
#ifndef SC_LWIP_PRIV_H
#define SC_LWIP_PRIV_H

#include "lwip/netif.h"
#include "sc_lwip.h"

void sc_lwip_dhcp_start(struct netif *netif, const uint8_t mac[6], int max_tries);
void sc_lwip_dhcp_stop(void);
bool sc_lwip_dhcp_failed(void);
/* Offered every Ethernet frame while the client runs: true when it was a reply to port 68
 * (then it is consumed here and must not reach lwIP's IP layer). */
bool sc_lwip_dhcp_input(const uint8_t *frame, size_t len);
bool sc_lwip_dhcp_active(void);

#endif
