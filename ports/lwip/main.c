/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg-lwip: `smartcfg device` with its network on lwIP. The radio (ESP-TOUCH sniffing),
 * the station's association and the storage stay POSIX (ports/posix); every packet the
 * device sends or receives (ack, UDP 8266 token service, log service, MQTT to the cloud) goes
 * through lwIP on a tap interface the caller created, with the address given by --ip. The
 * Linux stack of the device's host takes no part. Documented in docs/port-lwip.md. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_lwip.h"
#include "sc_posix.h"
#include "sc_posix_netif.h"
#include "sc_posix_radio.h"
#include "sc_posix_station.h"
#include "sc_posix_storage.h"
#include "smartcfg/device.h"

enum { EXIT_OK_ = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_TIMEOUT = 3, EXIT_DEVICE = 4, EXIT_CLOUD = 5 };

static volatile sig_atomic_t g_stop;
static void on_signal(int sig)
{
    g_stop = sig;
}

static sc_hal_sys_t g_sys;
static bool g_json;
static uint32_t g_t0;
static uint16_t g_err_id;
static int32_t g_sub_id;
static bool g_have_error;

static void logline(sc_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logline(sc_log_level_t level, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    g_sys.log(g_sys.ctx, level, line);
}

static void json_event(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void json_event(const char *event, const char *fmt, ...)
{
    if (!g_json)
        return;
    printf("{\"event\":\"%s\",\"t_ms\":%u", event, sc_posix_now_ms() - g_t0);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
    }
    printf("}\n");
    fflush(stdout);
}

static void on_event(void *user, const sc_device_event_t *ev)
{
    (void)user;
    switch (ev->type) {
    case SC_DEV_EV_STATE:
        logline(SC_LOG_INFO, "state: %s", sc_device_state_name(ev->state));
        json_event("state", ",\"state\":\"%s\"", sc_device_state_name(ev->state));
        break;
    case SC_DEV_EV_LOCKED:
        logline(SC_LOG_INFO, "locked: channel %u, overhead %u", ev->channel, ev->offset);
        json_event("lock", ",\"channel\":%u,\"offset\":%u", ev->channel, ev->offset);
        break;
    case SC_DEV_EV_CREDENTIALS:
        logline(SC_LOG_INFO, "credentials decoded (password not shown)");
        json_event("credentials", NULL);
        break;
    case SC_DEV_EV_IP:
        logline(SC_LOG_INFO, "ip: %u.%u.%u.%u (lwIP)", ev->ip[0], ev->ip[1], ev->ip[2], ev->ip[3]);
        json_event("ip", ",\"ip\":\"%u.%u.%u.%u\"", ev->ip[0], ev->ip[1], ev->ip[2], ev->ip[3]);
        break;
    case SC_DEV_EV_ACK_SENT:
        json_event("ack", ",\"peer\":\"%u.%u.%u.%u:%u\"", ev->peer.addr[0], ev->peer.addr[1], ev->peer.addr[2],
                   ev->peer.addr[3], ev->peer.port);
        break;
    case SC_DEV_EV_TOKEN:
        logline(SC_LOG_INFO, "token received (not shown)");
        json_event("token", ",\"peer\":\"%u.%u.%u.%u:%u\"", ev->peer.addr[0], ev->peer.addr[1], ev->peer.addr[2],
                   ev->peer.addr[3], ev->peer.port);
        break;
    case SC_DEV_EV_BOUND:
        logline(SC_LOG_INFO, "bound to the cloud");
        json_event("bound", NULL);
        break;
    case SC_DEV_EV_ERROR:
        g_have_error = true;
        g_err_id = ev->err_id;
        g_sub_id = ev->sub_id;
        logline(SC_LOG_ERROR, "error %u/%d", ev->err_id, (int)ev->sub_id);
        json_event("error", ",\"err_id\":%u,\"sub_id\":%d", ev->err_id, (int)ev->sub_id);
        break;
    default:
        break;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: smartcfg-lwip --tap IFNAME [--ip A.B.C.D/N [--gw A.B.C.D]] --radio SPEC --join SPEC\n"
               "                     --product-id P --device-name D [--broker IP:PORT] [--no-cloud]\n"
               "                     [--mac MAC] [--state-dir DIR] [--timeout S] [--json] [--log-level L]\n"
               "  without --ip the address comes from DHCP once the station has joined\n"
               "  the device secret comes from SMARTCFG_DEVICE_SECRET (or --device-secret)\n"
               "  options as `smartcfg device` (docs/device-linux.md); network through lwIP (docs/port-lwip.md)\n");
}

static int parse_cidr(const char *s, sc_lwip_netif_opts_t *o)
{
    char buf[32];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n >= sizeof buf)
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
    o->netmask[0] = (uint8_t)(m >> 24);
    o->netmask[1] = (uint8_t)(m >> 16);
    o->netmask[2] = (uint8_t)(m >> 8);
    o->netmask[3] = (uint8_t)m;
    o->have_ip = true;
    return 0;
}

int main(int argc, char **argv)
{
    enum { O_TAP = 1, O_IP, O_GW, O_RADIO, O_JOIN, O_PID, O_DNAME, O_DSECRET, O_BROKER, O_NOCLOUD, O_MAC, O_STATE,
           O_TIMEOUT, O_JSON, O_LEVEL, O_IFACE, O_HELP };
    static const struct option longopts[] = {
        { "tap", required_argument, NULL, O_TAP },           { "ip", required_argument, NULL, O_IP },
        { "gw", required_argument, NULL, O_GW },             { "radio", required_argument, NULL, O_RADIO },
        { "join", required_argument, NULL, O_JOIN },         { "product-id", required_argument, NULL, O_PID },
        { "device-name", required_argument, NULL, O_DNAME }, { "device-secret", required_argument, NULL, O_DSECRET },
        { "broker", required_argument, NULL, O_BROKER },     { "no-cloud", no_argument, NULL, O_NOCLOUD },
        { "mac", required_argument, NULL, O_MAC },           { "state-dir", required_argument, NULL, O_STATE },
        { "timeout", required_argument, NULL, O_TIMEOUT },   { "json", no_argument, NULL, O_JSON },
        { "log-level", required_argument, NULL, O_LEVEL },   { "iface", required_argument, NULL, O_IFACE },
        { "help", no_argument, NULL, O_HELP },               { NULL, 0, NULL, 0 },
    };
    const char *tap = NULL, *ip = NULL, *gw = NULL, *radio_spec = NULL, *join = NULL, *pid = NULL, *dname = NULL;
    const char *broker = NULL, *mac_s = NULL, *state_dir = NULL, *level_s = NULL, *iface = NULL;
    char *secret = NULL;
    unsigned long timeout_s = 0;
    bool no_cloud = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_TAP: tap = optarg; break;
        case O_IP: ip = optarg; break;
        case O_GW: gw = optarg; break;
        case O_RADIO: radio_spec = optarg; break;
        case O_JOIN: join = optarg; break;
        case O_PID: pid = optarg; break;
        case O_DNAME: dname = optarg; break;
        case O_DSECRET:
            free(secret);
            secret = strdup(optarg);
            memset(optarg, 'x', strlen(optarg)); /* out of /proc/<pid>/cmdline */
            break;
        case O_BROKER: broker = optarg; break;
        case O_NOCLOUD: no_cloud = true; break;
        case O_MAC: mac_s = optarg; break;
        case O_STATE: state_dir = optarg; break;
        case O_TIMEOUT: timeout_s = strtoul(optarg, NULL, 10); break;
        case O_JSON: g_json = true; break;
        case O_LEVEL: level_s = optarg; break;
        case O_IFACE: iface = optarg; break;
        case O_HELP: usage(stdout); return EXIT_OK_;
        default:
            fprintf(stderr, "smartcfg-lwip: unknown option or missing value: %s\n", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    const char *env = getenv("SMARTCFG_DEVICE_SECRET");
    if (!secret && env && env[0])
        secret = strdup(env);
    sc_log_level_t level = SC_LOG_INFO;
    if (level_s) {
        if (!strcmp(level_s, "error")) level = SC_LOG_ERROR;
        else if (!strcmp(level_s, "warn")) level = SC_LOG_WARN;
        else if (!strcmp(level_s, "debug")) level = SC_LOG_DEBUG;
    }
    sc_posix_log_level(level);
    if (!tap || !radio_spec || !join || !pid || !dname || (!no_cloud && !secret)) {
        fprintf(stderr, "smartcfg-lwip: --tap, --radio, --join, --product-id, --device-name and a device secret "
                        "(or --no-cloud) are required\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    sc_lwip_netif_opts_t nopt;
    memset(&nopt, 0, sizeof nopt);
    snprintf(nopt.tap, sizeof nopt.tap, "%s", tap);
    if (ip && parse_cidr(ip, &nopt) < 0) {
        fprintf(stderr, "smartcfg-lwip: --ip: want A.B.C.D/N\n");
        return EXIT_USAGE;
    }
    if (gw && sc_posix_parse_ipv4(gw, nopt.gw) != SC_OK) {
        fprintf(stderr, "smartcfg-lwip: --gw: want A.B.C.D\n");
        return EXIT_USAGE;
    }
    if (mac_s) {
        if (sc_posix_parse_mac(mac_s, nopt.mac) != SC_OK) {
            fprintf(stderr, "smartcfg-lwip: --mac: want aa:bb:cc:dd:ee:ff\n");
            return EXIT_USAGE;
        }
    } else {
        char seed[80];
        snprintf(seed, sizeof seed, "%s/%s", pid, dname);
        sc_posix_fake_mac(seed, nopt.mac);
    }

    sc_device_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    sc_device_config_default(&cfg);
    snprintf(cfg.identity.product_id, sizeof cfg.identity.product_id, "%s", pid);
    snprintf(cfg.identity.device_name, sizeof cfg.identity.device_name, "%s", dname);
    if (secret)
        snprintf(cfg.identity.device_secret, sizeof cfg.identity.device_secret, "%s", secret);
    snprintf(cfg.identity.region, sizeof cfg.identity.region, "ap-guangzhou");
    if (broker) {
        const char *colon = strrchr(broker, ':');
        size_t hl = colon ? (size_t)(colon - broker) : strlen(broker);
        if (hl == 0 || hl >= sizeof cfg.cloud.host) {
            fprintf(stderr, "smartcfg-lwip: --broker: want IP[:PORT]\n");
            return EXIT_USAGE;
        }
        memcpy(cfg.cloud.host, broker, hl);
        cfg.cloud.port = colon ? (uint16_t)strtoul(colon + 1, NULL, 10) : 0;
    }
    cfg.skip_cloud = no_cloud;
    cfg.on_event = on_event;

    static sc_hal_t hal;
    static sc_posix_storage_t storage;
    static sc_posix_station_t station;
    static sc_lwip_station_t lstation;
    static sc_posix_radio_t radio;
    static sc_lwip_udp_t udp;
    char err[256] = "";
    int rc = EXIT_FAIL;
    sc_posix_sys_init(&g_sys);
    hal.sys = g_sys;

    char sdir[512];
    if (state_dir)
        snprintf(sdir, sizeof sdir, "%s", state_dir);
    else if (sc_posix_storage_default_dir(sdir, sizeof sdir) != SC_OK) {
        fprintf(stderr, "smartcfg-lwip: no state directory (--state-dir)\n");
        return EXIT_USAGE;
    }
    if (sc_posix_storage_open(&storage, sdir, &hal.storage, err, sizeof err) != SC_OK) {
        fprintf(stderr, "smartcfg-lwip: %s\n", err);
        return EXIT_FAIL;
    }
    sc_err_t e = sc_lwip_start(&nopt, err, sizeof err);
    if (e != SC_OK) {
        fprintf(stderr, "smartcfg-lwip: %s\n", err);
        return e == SC_ERR_UNSUPPORTED || e == SC_ERR_NOTFOUND ? EXIT_USAGE : EXIT_FAIL;
    }
    /* The association is simulated by the POSIX backend; its own address is not used. */
    sc_hal_station_t inner;
    if (sc_posix_station_open(&station, join, tap, &hal.sys, &inner, err, sizeof err) != SC_OK) {
        fprintf(stderr, "smartcfg-lwip: --join: %s\n", err);
        return EXIT_USAGE;
    }
    /* The address is lwIP's (the wrapper reports it); the backend only logs this one. */
    station.sim_ip_set = true;
    memcpy(station.sim_ip, nopt.ip, 4);
    sc_lwip_station_wrap(&lstation, &inner, &hal.station);
    sc_posix_vradio_opts_t vopt;
    sc_posix_vradio_opts_default(&vopt);
    if (iface)
        snprintf(vopt.mcast_iface, sizeof vopt.mcast_iface, "%s", iface);
    if (sc_posix_radio_open(&radio, radio_spec, &vopt, &hal.sys, &hal.radio, err, sizeof err) != SC_OK ||
        radio.kind == SC_POSIX_RADIO_FILE) {
        fprintf(stderr, "smartcfg-lwip: --radio: %s\n", err[0] ? err : "capture files are not supported here");
        return EXIT_USAGE;
    }
    sc_lwip_udp_init(&udp, &hal.udp);
    if (!no_cloud)
        sc_lwip_mqtt_init(&hal.mqtt);

    static uint8_t devmem[1 << 17] __attribute__((aligned(16)));
    if (sc_device_size() > sizeof devmem) {
        fprintf(stderr, "smartcfg-lwip: device context larger than expected\n");
        return EXIT_FAIL;
    }
    sc_device_t *dev = (sc_device_t *)devmem;
    e = sc_device_init(dev, &hal, &cfg);
    explicit_bzero(cfg.identity.device_secret, sizeof cfg.identity.device_secret);
    if (secret) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
    if (e != SC_OK) {
        fprintf(stderr, "smartcfg-lwip: cannot initialise the device: %s\n", sc_strerror(e));
        return EXIT_FAIL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    g_t0 = sc_posix_now_ms();
    logline(SC_LOG_INFO, "lwIP on %s, MAC %02x:%02x:%02x:%02x:%02x:%02x", tap, nopt.mac[0], nopt.mac[1], nopt.mac[2],
            nopt.mac[3], nopt.mac[4], nopt.mac[5]);
    e = sc_device_start(dev, sc_posix_now_ms());
    if (e != SC_OK) {
        fprintf(stderr, "smartcfg-lwip: cannot start: %s\n", sc_strerror(e));
        return EXIT_FAIL;
    }
    uint32_t deadline = sc_device_step(dev, sc_posix_now_ms());
    for (;;) {
        sc_device_state_t st = sc_device_state(dev);
        if (st == SC_DEV_DONE) {
            rc = EXIT_OK_;
            break;
        }
        if (st == SC_DEV_FAILED) {
            rc = !g_have_error ? EXIT_DEVICE : g_sub_id == 103 ? EXIT_TIMEOUT
                 : (g_err_id == 1 || (g_err_id >= 23 && g_err_id <= 27)) ? EXIT_CLOUD : EXIT_DEVICE;
            break;
        }
        if (g_stop) {
            sc_device_stop(dev, 101, sc_posix_now_ms());
            rc = 130;
            break;
        }
        if (timeout_s && sc_posix_now_ms() - g_t0 >= timeout_s * 1000u) {
            sc_device_stop(dev, 103, sc_posix_now_ms());
            rc = EXIT_TIMEOUT;
            break;
        }
        uint8_t want = sc_device_channel(dev);
        if (want && want != radio.channel && hal.radio.set_channel)
            hal.radio.set_channel(hal.radio.ctx, want);
        struct pollfd pfd[2] = { { .fd = sc_posix_radio_fd(&radio), .events = POLLIN },
                                 { .fd = sc_lwip_wake_fd(), .events = POLLIN } };
        uint32_t now = sc_posix_now_ms();
        int tmo = (int32_t)(deadline - now) > 0 ? (int)(deadline - now) : 0;
        if (tmo > 200)
            tmo = 200; /* signals, --timeout, and lwIP-side events the HAL cannot flag */
        if (poll(pfd, 2, tmo) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents)
            sc_lwip_wake_drain();
        now = sc_posix_now_ms();
        for (int k = 0; k < 512; k++) {
            sc_frame_t f;
            int n = sc_posix_radio_read(&radio, now, &f, err, sizeof err);
            if (n < 0) {
                logline(SC_LOG_ERROR, "radio: %s", err);
                g_stop = 1;
                break;
            }
            if (n == 0)
                break;
            if (sc_device_state(dev) == SC_DEV_SNIFFING)
                sc_device_on_frame(dev, &f, now);
        }
        deadline = sc_device_step(dev, sc_posix_now_ms());
    }
    sc_lwip_counters_t cnt;
    sc_lwip_counters(&cnt);
    logline(SC_LOG_INFO, "lwIP netif: %lu frames in, %lu out; UDP %lu sent, %lu received", cnt.rx_frames,
            cnt.tx_frames, udp.sent, udp.received);
    json_event("lwip", ",\"rx_frames\":%lu,\"tx_frames\":%lu,\"rx_bytes\":%lu,\"tx_bytes\":%lu,\"udp_sent\":%lu,"
               "\"udp_received\":%lu", cnt.rx_frames, cnt.tx_frames, cnt.rx_bytes, cnt.tx_bytes, udp.sent,
               udp.received);
    json_event("exit", ",\"code\":%d,\"state\":\"%s\"", rc, sc_device_state_name(sc_device_state(dev)));
    if (!no_cloud)
        sc_lwip_mqtt_cleanup(&hal.mqtt);
    sc_lwip_udp_close_all(&udp);
    sc_posix_radio_close(&radio);
    sc_posix_station_close(&station);
    sc_posix_storage_close(&storage);
    explicit_bzero(devmem, sizeof devmem);
    return rc;
}
