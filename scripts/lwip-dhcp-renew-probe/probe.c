/* SPDX-License-Identifier: Apache-2.0 */
/* The lwIP port's DHCP client (ports/lwip) on tap "rtap0": takes a lease and prints the
 * address every 5 s for 80 s, or for argv[1] s (run.sh bridges the tap to a dnsmasq with a
 * 2-minute lease). */
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
    sc_lwip_link_up();
    for (int t = 0; t <= secs; t += 5) {
        uint8_t ip[4] = { 0 };
        bool ok = sc_lwip_ip(ip);
        printf("t=%d ip=%s %d.%d.%d.%d failed=%d\n", t, ok ? "yes" : "no", ip[0], ip[1], ip[2], ip[3], sc_lwip_ip_failed());
        fflush(stdout);
        sleep(5);
    }
    return 0;
}
