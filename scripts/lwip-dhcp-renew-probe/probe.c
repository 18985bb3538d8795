/* SPDX-License-Identifier: Apache-2.0 */
/* The lwIP port's DHCP client (ports/lwip) on tap "rtap0": takes a lease and prints the
 * address every 5 s for 80 s, or for argv[1] s (run.sh bridges the tap to a dnsmasq with a
 * 2-minute lease). Once it has an address it opens UDP 8266 through the port's UDP table,
 * bound to that address as the core binds its 8266 service, and answers each datagram with
 * "echo " and the datagram (run.sh NEWADDR=1 asks it on a later lease's address). */
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "sc_lwip.h"
int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 80;
    char err[160];
    sc_lwip_netif_opts_t o;
    memset(&o, 0, sizeof o);
    snprintf(o.tap, sizeof o.tap, "rtap0");
    memcpy(o.mac, (uint8_t[]){ 0x02, 0x5c, 0x1e, 0, 0, 0x33 }, 6);
    if (sc_lwip_start(&o, err, sizeof err) != SC_OK) { fprintf(stderr, "%s\n", err); return 1; }
    static sc_lwip_udp_t u;
    sc_hal_udp_t hal;
    sc_lwip_udp_init(&u, &hal);
    int h = -1;
    sc_lwip_link_up();
    for (int tenth = 0; tenth <= secs * 10; tenth++) {
        uint8_t ip[4] = { 0 };
        bool ok = sc_lwip_ip(ip);
        if (ok && h < 0 && hal.open(hal.ctx, ip, 8266, false, &h) == SC_OK)
            printf("udp 8266 bound to %d.%d.%d.%d\n", ip[0], ip[1], ip[2], ip[3]);
        if (h >= 0) {
            sc_ipv4_ep_t from;
            char buf[64];
            size_t n;
            bool cut;
            while (hal.recv_from(hal.ctx, h, &from, buf + 5, sizeof buf - 5, &n, &cut) == SC_OK) {
                memcpy(buf, "echo ", 5);
                sc_err_t e = hal.send_to(hal.ctx, h, &from, buf, n + 5);
                printf("t=%d.%d datagram to 8266 from %d.%d.%d.%d: echo rc=%d\n", tenth / 10, tenth % 10,
                       from.addr[0], from.addr[1], from.addr[2], from.addr[3], (int)e);
            }
        }
        if (tenth % 50 == 0)
            printf("t=%d ip=%s %d.%d.%d.%d failed=%d\n", tenth / 10, ok ? "yes" : "no", ip[0], ip[1], ip[2], ip[3],
                   sc_lwip_ip_failed());
        fflush(stdout);
        usleep(100000);
    }
    return 0;
}
