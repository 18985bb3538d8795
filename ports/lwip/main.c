/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg-lwip: `smartcfg device` with its network on lwIP. It is the same program
 * (apps/smartcfg/device_run.h: options, events, exit codes, the POSIX device host) with the UDP
 * and MQTT tables of ports/lwip and the station's address and MAC from lwIP's netif, plus
 * --tap/--ip/--gw. The radio (ESP-TOUCH sniffing), the association (--join sim:) and the storage
 * stay POSIX; every packet the device sends or receives goes through lwIP on the tap. The Linux
 * stack of the device's host takes no part. Documented in docs/port-lwip.md. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_run.h"
#include "sc_lwip.h"
#include "sc_posix_netif.h"

enum { X_TAP = 0, X_IP, X_GW };

static struct {
    sc_lwip_netif_opts_t net;
    sc_lwip_udp_t udp;
    sc_hal_udp_t udp_hal;
    sc_hal_mqtt_t mqtt_hal;
    bool mqtt;
    sc_lwip_station_t station;
    sc_hal_softap_t softap_inner;
    sc_posix_host_t *host;
} g;

static int parse_cidr(const char *s, sc_lwip_netif_opts_t *o)
{
    char buf[32];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (sc_posix_parse_ipv4(buf, o->ip) != SC_OK)
        return -1;
    unsigned long bits = 24;
    if (slash) {
        char *end;
        bits = strtoul(slash + 1, &end, 10);
        if (!slash[1] || *end || bits < 1 || bits > 32)
            return -1;
    }
    uint32_t m = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
    for (int i = 0; i < 4; i++)
        o->netmask[i] = (uint8_t)(m >> (24 - 8 * i));
    o->have_ip = true;
    return 0;
}

/* The simulated AP decides the association; the address it would hand out is lwIP's (static)
 * or none (DHCP: lwIP asks once associated). The wrapper then reports lwIP's address and MAC. */
static void wrap_station(void *ctx, sc_posix_station_t *backend, sc_hal_station_t *table)
{
    (void)ctx;
    backend->sim_ip_set = true;
    memcpy(backend->sim_ip, g.net.ip, 4);
    sc_hal_station_t inner = *table;
    sc_lwip_station_wrap(&g.station, &inner, table);
}

/* The soft-AP stays the simulated one (it logs what a chip would raise), and lwIP's netif
 * answers for it while it is up, at the static --ip: without that, the log soft-AP raised
 * after a failed join served UDP 9876 on a netif the failed join had left without an address.
 * With DHCP there is no address to take: the tap is bridged to a real LAN, where a chip's
 * 192.168.4.1 could be somebody's (the AP's gratuitous ARP would take it over). */
static sc_err_t ap_start(void *ctx, const char *ssid, const char *password, uint8_t channel)
{
    (void)ctx;
    sc_err_t e = g.softap_inner.start(g.softap_inner.ctx, ssid, password, channel);
    if (e == SC_OK && g.net.have_ip)
        sc_lwip_ap_up(g.net.ip, g.net.netmask);
    else if (e == SC_OK && g.host)
        sc_posix_host_log(g.host, SC_LOG_WARN, "soft-AP: no address of its own on %s without --ip: the services "
                                               "behind it answer only while the station has its lease", g.net.tap);
    return e;
}

static sc_err_t ap_stop(void *ctx)
{
    (void)ctx;
    sc_lwip_ap_down();
    return g.softap_inner.stop(g.softap_inner.ctx);
}

static void wrap_softap(void *ctx, sc_hal_softap_t *table)
{
    (void)ctx;
    g.softap_inner = *table;
    table->ctx = NULL;
    table->start = ap_start;
    table->stop = ap_stop;
}

static int setup(void *ctx, device_opts_t *o)
{
    (void)ctx;
    const char *tap = o->extra[X_TAP];
    if (!tap || !tap[0])
        return sc_cli_usage_error(&o->cli, "--tap IFACE is required (a tap interface you created)");
    if (strlen(tap) >= sizeof g.net.tap)
        return sc_cli_bad_value(&o->cli, "--tap", tap, "an interface name of at most %zu characters", sizeof g.net.tap - 1);
    snprintf(g.net.tap, sizeof g.net.tap, "%s", tap);
    if (o->extra[X_IP] && parse_cidr(o->extra[X_IP], &g.net) < 0)
        return sc_cli_bad_value(&o->cli, "--ip", o->extra[X_IP], "an IPv4 address A.B.C.D[/N], N in 1..32");
    if (o->extra[X_GW] && (!o->extra[X_IP] || sc_posix_parse_ipv4(o->extra[X_GW], g.net.gw) != SC_OK))
        return o->extra[X_IP] ? sc_cli_bad_value(&o->cli, "--gw", o->extra[X_GW], "an IPv4 address A.B.C.D")
                              : sc_cli_usage_error(&o->cli, "--gw goes with --ip (DHCP brings its own router)");
    if (!o->host.join_spec || strncmp(o->host.join_spec, "sim:", 4) != 0)
        return sc_cli_usage_error(&o->cli, "--join: only sim: here (a real association would give the link "
                                           "to the host's stack, not to lwIP's tap)");
    if (o->host.at_path)
        return sc_cli_usage_error(&o->cli, "--at is not supported with lwIP yet");
    /* lwIP's MAC: --mac, else the stable one derived from the identity, as `smartcfg device`
     * does for MAC-less setups. */
    if (o->host.mac_set) {
        memcpy(g.net.mac, o->host.mac, SC_MAC_LEN);
    } else {
        char seed[80];
        snprintf(seed, sizeof seed, "%s/%s", o->device.identity.product_id, o->device.identity.device_name);
        sc_posix_fake_mac(seed, g.net.mac);
    }
    char err[256] = "";
    sc_err_t e = sc_lwip_start(&g.net, err, sizeof err);
    if (e == SC_ERR_NOTFOUND || e == SC_ERR_INVAL)
        return sc_cli_usage_error(&o->cli, "--tap: %s", err);
    if (e != SC_OK)
        return sc_cli_fail(&o->cli, SC_EXIT_FAIL, "%s", err);
    sc_lwip_udp_init(&g.udp, &g.udp_hal);
    o->host.udp = &g.udp_hal;
    if (o->host.cloud) {
        sc_lwip_mqtt_init(&g.mqtt_hal);
        g.mqtt = true;
        o->host.mqtt = &g.mqtt_hal;
    }
    /* the sim backend wants an address or an interface to be told; it gets the tap, and the
     * wrapper makes lwIP's netif the one that counts */
    if (!o->host.iface)
        o->host.iface = g.net.tap;
    o->host.wrap_station = wrap_station;
    o->host.wrap_softap = wrap_softap;
    return DEVICE_OPTS_RUN;
}

static void on_wake(void *user, int fd, short revents, sc_device_t *dev, uint32_t now_ms)
{
    (void)user; (void)fd; (void)revents; (void)dev; (void)now_ms;
    sc_lwip_wake_drain(); /* the host steps the device after every wake-up: it reads the queues */
}

static void opened(void *ctx, sc_posix_host_t *h)
{
    (void)ctx;
    g.host = h;
    sc_posix_host_add_fd(h, sc_lwip_wake_fd(), POLLIN, on_wake, NULL);
    sc_posix_host_log(h, SC_LOG_INFO, "lwIP on %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, %s", g.net.tap, g.net.mac[0],
                      g.net.mac[1], g.net.mac[2], g.net.mac[3], g.net.mac[4], g.net.mac[5],
                      g.net.have_ip ? "static address" : "DHCP");
}

static void report(void *ctx, char *fields, size_t fcap, char *line, size_t lcap)
{
    (void)ctx;
    sc_lwip_counters_t c;
    sc_lwip_counters(&c);
    snprintf(fields, fcap,
             ",\"rx_frames\":%lu,\"tx_frames\":%lu,\"rx_bytes\":%lu,\"tx_bytes\":%lu,\"tx_errors\":%lu,"
             "\"udp_sent\":%lu,\"udp_received\":%lu,\"udp_dropped\":%lu,\"icmp_limited\":%lu",
             c.rx_frames, c.tx_frames, c.rx_bytes, c.tx_bytes, c.tx_errors, g.udp.sent, g.udp.received,
             g.udp.dropped, c.icmp_limited);
    snprintf(line, lcap, "lwIP netif: %lu frames in, %lu out; UDP %lu sent, %lu received, %lu dropped",
             c.rx_frames, c.tx_frames, g.udp.sent, g.udp.received, g.udp.dropped);
}

static void teardown(void *ctx)
{
    (void)ctx;
    if (g.mqtt)
        sc_lwip_mqtt_cleanup(&g.mqtt_hal);
    sc_lwip_udp_close_all(&g.udp);
}

int main(int argc, char **argv)
{
    static const device_opts_extra_t extra[] = {
        [X_TAP] = { "tap", true, "  --tap IFACE             the tap interface lwIP runs on (create it first; lwIP's\n"
                                 "                          network: every packet of the device goes through it)\n",
                    "--tap IFACE is required (a tap interface you created)" },
        [X_IP] = { "ip", true, "  --ip ADDR[/N]           lwIP's static address, N 24 if left out (default: DHCP once joined)\n", NULL },
        [X_GW] = { "gw", true, "  --gw ADDR               router, with --ip\n"
                               "  of the options above, --join takes sim: only (a real association would give the\n"
                               "  link to the host's stack, not to lwIP's tap), and --at is not supported yet\n", NULL },
    };
    static const device_program_t prog = {
        .spec = { "smartcfg-lwip", extra, sizeof extra / sizeof extra[0],
                  "examples:\n"
                  "  ip tuntap add dev tap0 mode tap && ip link set tap0 up    # then bridge it to the LAN\n"
                  "  SMARTCFG_DEVICE_SECRET=... smartcfg-lwip --tap tap0 --ip 10.0.0.2/24 --radio pcap:eth0 \\\n"
                  "      --join sim:MyAP:secret123 --product-id ABCDEFGHIJ --device-name dev1 --broker 10.0.0.3:1883\n" },
        .setup = setup,
        .opened = opened,
        .report = report,
        .report_event = "lwip",
        .teardown = teardown,
    };
    return device_program_run(&prog, argc, argv);
}
