/* SPDX-License-Identifier: Apache-2.0 */
/* `smartcfg device`: the device side on a Linux host. Assembles the POSIX HAL from --radio,
 * --join and friends, runs the device state machine in a poll() loop and reports what happens:
 * human lines on stderr, one JSON object per line on stdout with --json. Secrets (Wi-Fi
 * password, device/product secret, token) are never printed. Documented in docs/device-linux.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "device_loop.h"
#include "sc_posix.h"
#include "sc_posix_at.h"
#include "sc_posix_http.h"
#include "sc_posix_mqtt.h"
#include "sc_posix_netif.h"
#include "sc_posix_radio.h"
#include "sc_posix_softap.h"
#include "sc_posix_station.h"
#include "sc_posix_storage.h"
#include "sc_posix_udp.h"
#include "smartcfg/at_device.h"
#include "smartcfg/version.h"
#include "smartcfg/device.h"

/* ------------------------------------------------------------------------------------------
 * Options: command line > environment (secrets only) > config file. */

enum {
    O_RADIO = 0, O_JOIN, O_IFACE, O_PRODUCT_ID, O_DEVICE_NAME, O_DEVICE_SECRET, O_PRODUCT_SECRET, O_REGION,
    O_STATE_DIR, O_BROKER, O_REGISTER_URL, O_TIMEOUT, O_LOG_LEVEL, O_MAC, O_CA_FILE, O_VIRTUAL_BSSID,
    O_VIRTUAL_CIPHER, O_VIRTUAL_LOSS, O_VIRTUAL_JITTER, O_VIRTUAL_CHANNEL, O_SIM_DELAY, O_AT, O_AT_BAUD, O_CHANNELS,
    O_LOG_LINGER, O_NSTR,
    /* booleans */
    O_NO_CLOUD = O_NSTR, O_JSON, O_REALTIME, O_ANY_CHANNEL, O_VIRTUAL_QOS, O_VIRTUAL_NO_FCS, O_TLS,
    O_NALL,
    O_CONFIG = 100, O_HELP
};

static const char *const opt_names[O_NALL] = {
    "radio", "join", "iface", "product-id", "device-name", "device-secret", "product-secret", "region",
    "state-dir", "broker", "register-url", "timeout", "log-level", "mac", "ca-file", "virtual-bssid",
    "virtual-cipher", "virtual-loss", "virtual-jitter", "virtual-channel", "sim-delay", "at", "at-baud", "channels",
    "log-linger",
    "no-cloud", "json", "realtime", "any-channel", "virtual-qos", "virtual-no-fcs", "tls",
};

typedef struct {
    char *val[O_NSTR];  /* owned copies; NULL = unset */
    bool flag[O_NALL];  /* booleans, indexed like opt_names */
    bool set_by_cli[O_NALL];
} dev_opts_t;

static void opt_set(dev_opts_t *o, int id, const char *v, bool cli)
{
    if (!cli && o->set_by_cli[id])
        return; /* flags win over the config file */
    if (id >= O_NSTR) {
        o->flag[id] = true;
    } else {
        if (o->val[id]) {
            explicit_bzero(o->val[id], strlen(o->val[id]));
            free(o->val[id]);
        }
        o->val[id] = v ? strdup(v) : NULL; /* booleans pass NULL; only string ids get here */
    }
    if (cli)
        o->set_by_cli[id] = true;
}

static void opts_free(dev_opts_t *o)
{
    for (int i = 0; i < O_NSTR; i++)
        if (o->val[i]) {
            explicit_bzero(o->val[i], strlen(o->val[i]));
            free(o->val[i]);
            o->val[i] = NULL;
        }
}

static int opt_lookup(const char *key)
{
    char k[64];
    size_t n = strlen(key);
    if (n >= sizeof k)
        return -1;
    for (size_t i = 0; i <= n; i++)
        k[i] = key[i] == '_' ? '-' : key[i];
    for (int i = 0; i < O_NALL; i++)
        if (!strcmp(k, opt_names[i]))
            return i;
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
        *out = false;
    else
        return false;
    return true;
}

/* `key = value` lines, '#' comments, optional double quotes around the value. */
static int load_config(dev_opts_t *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "smartcfg device: cannot read config %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int lineno = 0, rc = 0;
    bool has_secret = false;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(stderr, "smartcfg device: %s:%d: line too long\n", path, lineno);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fprintf(stderr, "smartcfg device: %s:%d: expected 'key = value'\n", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        int id = opt_lookup(key);
        if (id < 0) {
            fprintf(stderr, "smartcfg device: %s:%d: unknown key '%s'\n", path, lineno, key);
            rc = -1;
            break;
        }
        if (id >= O_NSTR) {
            bool b;
            if (!parse_bool(val, &b)) {
                fprintf(stderr, "smartcfg device: %s:%d: '%s' wants true or false\n", path, lineno, key);
                rc = -1;
                break;
            }
            if (b)
                opt_set(o, id, NULL, false);
        } else {
            if (id == O_DEVICE_SECRET || id == O_PRODUCT_SECRET)
                has_secret = true;
            opt_set(o, id, val, false);
        }
    }
    explicit_bzero(line, sizeof line);
    struct stat st;
    if (rc == 0 && has_secret && fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "smartcfg device: warning: %s holds a secret but is readable by others (chmod 600 it)\n",
                path);
    fclose(f);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smartcfg device --radio SPEC --join SPEC [--iface IF] --product-id P --device-name D\n"
            "                       (--device-secret S | --product-secret S) [options]\n"
            "\n"
            "radio (where ESP-TOUCH frames come from):\n"
            "  --radio pcap:IFACE      live capture (monitor-mode Wi-Fi hops channels; others do not)\n"
            "  --radio file:CAPTURE    replay a capture (fast, on the capture's clock; --realtime: at its pace)\n"
            "  --radio udp[:PORT]      virtual radio: UDP datagrams to PORT (7001) become sniffed frames\n"
            "  --any-channel           file: deliver frames of every channel (no hop emulation)\n"
            "  --channels LIST         channels to search, e.g. 1,6,11 (default 1..13)\n"
            "  --virtual-bssid MAC --virtual-cipher open|wep|tkip|ccmp|gcmp --virtual-qos --virtual-no-fcs\n"
            "  --virtual-loss P --virtual-jitter MS --virtual-channel N     (udp: radio)\n"
            "join (how the device joins the AP it was told):\n"
            "  --join sim:SSID:PASSWORD[:IP]   simulated AP (--sim-delay MS: fixed join time)\n"
            "  --join exec:SCRIPT      SCRIPT gets SSID, PASSWORD, BSSID in its environment; exit 0 = joined\n"
            "  --join wpa:CTRL_SOCKET  wpa_supplicant control socket\n"
            "  --iface IF              the device's interface: its address after the join, its MAC\n"
            "  --mac MAC               station MAC to report (default: the interface's, else a stable fake)\n"
            "identity and cloud:\n"
            "  --product-id P --device-name D --device-secret S | --product-secret S (dynamic registration)\n"
            "  --region R (ap-guangzhou)  --broker HOST:PORT  --tls  --ca-file F  --register-url URL\n"
            "  --no-cloud              stop after the token handshake (no MQTT)\n"
            "  secrets are better kept out of argv: config file, SMARTCFG_DEVICE_SECRET, SMARTCFG_PRODUCT_SECRET\n"
            "general:\n"
            "  --config FILE           'key = value' lines with the same names as the options\n"
            "  --state-dir DIR         persisted records (default $XDG_STATE_HOME/smartcfg or ~/.local/state/smartcfg)\n"
            "  --timeout S             give up after S seconds (exit 3)\n"
            "  --log-linger S          after a failure, raise the log soft-AP (ESP-LOG-QUERY) and serve the\n"
            "                          provisioning log on UDP 9876 for S seconds before exiting (0: exit at once)\n"
            "  --at TTY                AT command front-end on TTY (a serial device, a pty, or - for stdin/stdout):\n"
            "                          wait for AT+TCSTARTSMART / AT+TCSAP instead of starting at once; the identity\n"
            "                          comes from AT+TCDEVINFOSET (docs/at.md). --at-baud N (115200)\n"
            "  --json                  one JSON event per line on stdout\n"
            "  --log-level error|warn|info|debug\n"
            "exit: 0 done, 1 setup failure, 2 usage, 3 timeout, 4 device error, 5 cloud error, 130 interrupted\n");
}

/* ------------------------------------------------------------------------------------------
 * The device clock. Live: the monotonic clock. Fast capture replay: the capture's timestamps,
 * until the radio stops listening (credentials decoded) or the capture ends; from then on it
 * runs at wall-clock pace from where the capture left it, so joins, acks and the token
 * exchange with real peers get real time. */

static struct {
    bool virtual_time;
    uint32_t vnow;
    uint32_t offset;  /* device time = monotonic + offset (mod 2^32) */
} dclk;

static uint32_t dev_now(void)
{
    return dclk.virtual_time ? dclk.vnow : sc_posix_now_ms() + dclk.offset;
}

static uint32_t sys_now(void *ctx)
{
    (void)ctx;
    return dev_now();
}

static void clock_go_real(void)
{
    if (!dclk.virtual_time)
        return;
    dclk.offset = dclk.vnow - sc_posix_now_ms();
    dclk.virtual_time = false;
}

static bool before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

/* ------------------------------------------------------------------------------------------
 * Events. */

typedef struct {
    bool json;
    uint32_t t0;
    sc_device_state_t state;
    uint16_t err_id;
    int32_t sub_id;
    bool have_error;
} reporter_t;

static void json_str(FILE *f, const uint8_t *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, f);
        else
            fprintf(f, "\\u%04x", c); /* bytes, not UTF-8: SSIDs may be anything */
    }
    fputc('"', f);
}

static void json_begin(reporter_t *r, const char *event)
{
    printf("{\"event\":\"%s\",\"t_ms\":%u", event, dev_now() - r->t0);
}

static void json_end(void)
{
    printf("}\n");
    fflush(stdout);
}

static void logf_(sc_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static sc_hal_sys_t g_sys;
static void logf_(sc_log_level_t level, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    g_sys.log(g_sys.ctx, level, line);
}

static void shown_ssid(char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

static void on_event(void *user, const sc_device_event_t *ev)
{
    reporter_t *r = user;
    char ssid[32 * 4 + 1];
    switch (ev->type) {
    case SC_DEV_EV_STATE:
        r->state = ev->state;
        logf_(SC_LOG_INFO, "state: %s", sc_device_state_name(ev->state));
        if (r->json) {
            json_begin(r, "state");
            printf(",\"state\":\"%s\"", sc_device_state_name(ev->state));
            json_end();
        }
        break;
    case SC_DEV_EV_LOCKED:
        logf_(SC_LOG_INFO, "locked: channel %u, overhead %u", ev->channel, ev->offset);
        if (r->json) {
            json_begin(r, "lock");
            printf(",\"channel\":%u,\"offset\":%u", ev->channel, ev->offset);
            json_end();
        }
        break;
    case SC_DEV_EV_PROGRESS:
        logf_(SC_LOG_DEBUG, "progress: %u/%u", ev->known, ev->needed);
        if (r->json) {
            json_begin(r, "progress");
            printf(",\"known\":%u,\"needed\":%u", ev->known, ev->needed);
            json_end();
        }
        break;
    case SC_DEV_EV_CREDENTIALS:
        shown_ssid(ssid, sizeof ssid, ev->ssid, ev->ssid_len > 32 ? 32 : ev->ssid_len);
        logf_(SC_LOG_INFO, "credentials: SSID \"%s\" (password not shown)", ssid);
        if (r->json) {
            json_begin(r, "credentials");
            printf(",\"ssid\":");
            json_str(stdout, ev->ssid, ev->ssid_len > 32 ? 32 : ev->ssid_len);
            json_end();
        }
        break;
    case SC_DEV_EV_IP:
        logf_(SC_LOG_INFO, "ip: %u.%u.%u.%u", ev->ip[0], ev->ip[1], ev->ip[2], ev->ip[3]);
        if (r->json) {
            json_begin(r, "ip");
            printf(",\"ip\":\"%u.%u.%u.%u\"", ev->ip[0], ev->ip[1], ev->ip[2], ev->ip[3]);
            json_end();
        }
        break;
    case SC_DEV_EV_ACK_SENT:
        logf_(SC_LOG_DEBUG, "ack sent to %u.%u.%u.%u:%u", ev->peer.addr[0], ev->peer.addr[1], ev->peer.addr[2],
              ev->peer.addr[3], ev->peer.port);
        if (r->json) {
            json_begin(r, "ack");
            printf(",\"peer\":\"%u.%u.%u.%u:%u\"", ev->peer.addr[0], ev->peer.addr[1], ev->peer.addr[2],
                   ev->peer.addr[3], ev->peer.port);
            json_end();
        }
        break;
    case SC_DEV_EV_TOKEN:
        logf_(SC_LOG_INFO, "token received from %u.%u.%u.%u:%u (not shown)", ev->peer.addr[0], ev->peer.addr[1],
              ev->peer.addr[2], ev->peer.addr[3], ev->peer.port);
        if (r->json) {
            json_begin(r, "token");
            printf(",\"peer\":\"%u.%u.%u.%u:%u\"", ev->peer.addr[0], ev->peer.addr[1], ev->peer.addr[2],
                   ev->peer.addr[3], ev->peer.port);
            json_end();
        }
        break;
    case SC_DEV_EV_BOUND:
        logf_(SC_LOG_INFO, "bound to the cloud");
        if (r->json) {
            json_begin(r, "bound");
            json_end();
        }
        break;
    case SC_DEV_EV_ERROR:
        r->have_error = true;
        r->err_id = ev->err_id;
        r->sub_id = ev->sub_id;
        logf_(SC_LOG_ERROR, "error %u/%d: %s", ev->err_id, (int)ev->sub_id, ev->text ? ev->text : "");
        if (r->json) {
            json_begin(r, "error");
            printf(",\"err_id\":%u,\"sub_id\":%d,\"text\":", ev->err_id, (int)ev->sub_id);
            json_str(stdout, (const uint8_t *)(ev->text ? ev->text : ""), ev->text ? strlen(ev->text) : 0);
            json_end();
        }
        break;
    }
}

/* A failure the command itself detects (not the device): same shape as the device's errors. */
static void report_error(reporter_t *r, const char *text)
{
    logf_(SC_LOG_ERROR, "%s", text);
    if (r->json) {
        json_begin(r, "error");
        printf(",\"err_id\":0,\"sub_id\":0,\"text\":");
        json_str(stdout, (const uint8_t *)text, strlen(text));
        json_end();
    }
}

/* ------------------------------------------------------------------------------------------
 * Extra descriptors (AT front-end hook). */

static struct {
    int fd;
    short events;
    device_loop_fd_cb cb;
    void *user;
} extra[DEVICE_LOOP_MAX_FDS];
static size_t nextra;

int device_loop_add_fd(int fd, short events, device_loop_fd_cb cb, void *user)
{
    if (fd < 0 || !cb || nextra >= DEVICE_LOOP_MAX_FDS)
        return -1;
    extra[nextra].fd = fd;
    extra[nextra].events = events;
    extra[nextra].cb = cb;
    extra[nextra].user = user;
    nextra++;
    return 0;
}

void device_loop_remove_fd(int fd)
{
    for (size_t i = 0; i < nextra; i++)
        if (extra[i].fd == fd) {
            extra[i] = extra[--nextra];
            return;
        }
}

/* ------------------------------------------------------------------------------------------
 * AT front-end (--at). */

static sc_at_device_t *at_binding;
static bool at_hangup;

static void at_readable(void *user, int fd, short revents, sc_device_t *dev, uint32_t now_ms)
{
    (void)user; (void)fd; (void)revents; (void)dev;
    if (sc_posix_at_on_readable(now_ms) == SC_ERR_CLOSED)
        at_hangup = true;
}

/* ------------------------------------------------------------------------------------------
 * Signals. */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    g_stop = sig;
}

/* ------------------------------------------------------------------------------------------ */

static int copy_field(char *dst, size_t cap, const char *src, const char *what)
{
    if (!src)
        return 0;
    if (strlen(src) >= cap) {
        fprintf(stderr, "smartcfg device: %s is too long (at most %zu characters)\n", what, cap - 1);
        return -1;
    }
    strcpy(dst, src);
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out, const char *what)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || errno || v > max || s[0] == '-') {
        fprintf(stderr, "smartcfg device: %s: '%s' is not a number in 0..%lu\n", what, s, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_cipher(const char *s, sc_cipher_t *c)
{
    static const struct {
        const char *n;
        sc_cipher_t c;
    } t[] = { { "open", SC_CIPHER_OPEN }, { "wep", SC_CIPHER_WEP }, { "tkip", SC_CIPHER_TKIP },
              { "ccmp", SC_CIPHER_CCMP }, { "gcmp", SC_CIPHER_GCMP } };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(s, t[i].n)) {
            *c = t[i].c;
            return 0;
        }
    fprintf(stderr, "smartcfg device: --virtual-cipher: want open, wep, tkip, ccmp or gcmp\n");
    return -1;
}

static bool is_listening(const sc_posix_radio_t *radio, sc_device_state_t st)
{
    /* The decoder only wants frames while sniffing; a device that never touched the promiscuous
     * switch is taken to listen whenever it sniffs. */
    return st == SC_DEV_SNIFFING && (radio->promisc || !radio->promisc_called);
}

static int exit_code_for(const reporter_t *r)
{
    if (!r->have_error)
        return SC_EXIT_DEVICE;
    if (r->sub_id == 103)
        return SC_EXIT_TIMEOUT;
    switch (r->err_id) {
    case 1: case 23: case 24: case 25: case 27:
        return SC_EXIT_CLOUD;
    default:
        return SC_EXIT_DEVICE;
    }
}

int cmd_device(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "radio", required_argument, NULL, O_RADIO },
        { "join", required_argument, NULL, O_JOIN },
        { "iface", required_argument, NULL, O_IFACE },
        { "product-id", required_argument, NULL, O_PRODUCT_ID },
        { "device-name", required_argument, NULL, O_DEVICE_NAME },
        { "device-secret", required_argument, NULL, O_DEVICE_SECRET },
        { "product-secret", required_argument, NULL, O_PRODUCT_SECRET },
        { "region", required_argument, NULL, O_REGION },
        { "state-dir", required_argument, NULL, O_STATE_DIR },
        { "broker", required_argument, NULL, O_BROKER },
        { "register-url", required_argument, NULL, O_REGISTER_URL },
        { "timeout", required_argument, NULL, O_TIMEOUT },
        { "log-level", required_argument, NULL, O_LOG_LEVEL },
        { "mac", required_argument, NULL, O_MAC },
        { "ca-file", required_argument, NULL, O_CA_FILE },
        { "virtual-bssid", required_argument, NULL, O_VIRTUAL_BSSID },
        { "virtual-cipher", required_argument, NULL, O_VIRTUAL_CIPHER },
        { "virtual-loss", required_argument, NULL, O_VIRTUAL_LOSS },
        { "virtual-jitter", required_argument, NULL, O_VIRTUAL_JITTER },
        { "virtual-channel", required_argument, NULL, O_VIRTUAL_CHANNEL },
        { "sim-delay", required_argument, NULL, O_SIM_DELAY },
        { "channels", required_argument, NULL, O_CHANNELS },
        { "at", required_argument, NULL, O_AT },
        { "at-baud", required_argument, NULL, O_AT_BAUD },
        { "log-linger", required_argument, NULL, O_LOG_LINGER },
        { "no-cloud", no_argument, NULL, O_NO_CLOUD },
        { "json", no_argument, NULL, O_JSON },
        { "realtime", no_argument, NULL, O_REALTIME },
        { "any-channel", no_argument, NULL, O_ANY_CHANNEL },
        { "virtual-qos", no_argument, NULL, O_VIRTUAL_QOS },
        { "virtual-no-fcs", no_argument, NULL, O_VIRTUAL_NO_FCS },
        { "tls", no_argument, NULL, O_TLS },
        { "config", required_argument, NULL, O_CONFIG },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 },
    };
    dev_opts_t o;
    memset(&o, 0, sizeof o);
    const char *config_path = NULL;
    bool secret_on_cli = false;
    int rc = SC_EXIT_USAGE;

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == O_HELP) {
            usage(stdout);
            return SC_EXIT_OK;
        }
        if (c == '?' || c == ':') {
            if (optopt)
                fprintf(stderr, "smartcfg device: option needs a value or is unknown: %s\n", argv[optind - 1]);
            else
                fprintf(stderr, "smartcfg device: unknown option %s\n", argv[optind - 1]);
            usage(stderr);
            opts_free(&o);
            return SC_EXIT_USAGE;
        }
        if (c == O_CONFIG) {
            config_path = optarg;
            continue;
        }
        opt_set(&o, c, optarg, true);
        if (c == O_DEVICE_SECRET || c == O_PRODUCT_SECRET) {
            secret_on_cli = true;
            /* Our copy is taken; blank argv so /proc/<pid>/cmdline stops showing it. */
            memset(optarg, 'x', strlen(optarg));
        } else if (c == O_JOIN && !strncmp(optarg, "sim:", 4)) {
            /* The simulated AP's password is a Wi-Fi password too. */
            memset(optarg + 4, 'x', strlen(optarg + 4));
        }
    }
    if (optind < argc) {
        fprintf(stderr, "smartcfg device: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        opts_free(&o);
        return SC_EXIT_USAGE;
    }
    if (secret_on_cli)
        fprintf(stderr, "smartcfg device: warning: a secret on the command line is visible to other users "
                        "(use --config FILE or SMARTCFG_DEVICE_SECRET / SMARTCFG_PRODUCT_SECRET)\n");
    if (config_path && load_config(&o, config_path) < 0) {
        opts_free(&o);
        return SC_EXIT_USAGE;
    }
    const char *env;
    if (!o.set_by_cli[O_DEVICE_SECRET] && (env = getenv("SMARTCFG_DEVICE_SECRET")) && env[0])
        opt_set(&o, O_DEVICE_SECRET, env, true);
    if (!o.set_by_cli[O_PRODUCT_SECRET] && (env = getenv("SMARTCFG_PRODUCT_SECRET")) && env[0])
        opt_set(&o, O_PRODUCT_SECRET, env, true);

    /* --- validate ---------------------------------------------------------------------- */
    sc_log_level_t level = SC_LOG_INFO;
    if (o.val[O_LOG_LEVEL]) {
        const char *l = o.val[O_LOG_LEVEL];
        if (!strcmp(l, "error")) level = SC_LOG_ERROR;
        else if (!strcmp(l, "warn")) level = SC_LOG_WARN;
        else if (!strcmp(l, "info")) level = SC_LOG_INFO;
        else if (!strcmp(l, "debug")) level = SC_LOG_DEBUG;
        else {
            fprintf(stderr, "smartcfg device: --log-level: want error, warn, info or debug\n");
            goto out;
        }
    }
    sc_posix_log_level(level);
    if (!o.val[O_RADIO] || !o.val[O_JOIN]) {
        fprintf(stderr, "smartcfg device: --radio and --join are required\n");
        usage(stderr);
        goto out;
    }
    bool no_cloud = o.flag[O_NO_CLOUD];
    const char *at_path = o.val[O_AT];
    unsigned long at_baud = 0;
    if (o.val[O_AT_BAUD] && parse_uint(o.val[O_AT_BAUD], 4000000, &at_baud, "--at-baud"))
        goto out;
    if (at_path && (!o.val[O_PRODUCT_ID] || !o.val[O_DEVICE_NAME])) {
        /* With --at the identity comes from AT+TCDEVINFOSET; the device is re-initialised with
         * it on AT+TCSTARTSMART. This placeholder only lets it sit idle until then. */
        if (!o.val[O_PRODUCT_ID])
            opt_set(&o, O_PRODUCT_ID, "AT", true);
        if (!o.val[O_DEVICE_NAME])
            opt_set(&o, O_DEVICE_NAME, "AT", true);
    }
    if (!o.val[O_PRODUCT_ID] || !o.val[O_DEVICE_NAME]) {
        fprintf(stderr, "smartcfg device: --product-id and --device-name are required\n");
        goto out;
    }
    if (!no_cloud && !at_path && !o.val[O_DEVICE_SECRET] && !o.val[O_PRODUCT_SECRET]) {
        fprintf(stderr, "smartcfg device: the cloud binding needs --device-secret or --product-secret "
                        "(or --no-cloud)\n");
        goto out;
    }

    sc_device_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    sc_device_config_default(&cfg);
    if (copy_field(cfg.identity.product_id, sizeof cfg.identity.product_id, o.val[O_PRODUCT_ID], "--product-id") ||
        copy_field(cfg.identity.device_name, sizeof cfg.identity.device_name, o.val[O_DEVICE_NAME],
                   "--device-name") ||
        copy_field(cfg.identity.device_secret, sizeof cfg.identity.device_secret, o.val[O_DEVICE_SECRET],
                   "the device secret") ||
        copy_field(cfg.identity.product_secret, sizeof cfg.identity.product_secret, o.val[O_PRODUCT_SECRET],
                   "the product secret") ||
        copy_field(cfg.identity.region, sizeof cfg.identity.region,
                   o.val[O_REGION] ? o.val[O_REGION] : "ap-guangzhou", "--region") ||
        copy_field(cfg.cloud.register_url, sizeof cfg.cloud.register_url, o.val[O_REGISTER_URL], "--register-url") ||
        copy_field(cfg.cloud.ca_file, sizeof cfg.cloud.ca_file, o.val[O_CA_FILE], "--ca-file"))
        goto out;
    if (!cfg.identity.product_id[0] || !cfg.identity.device_name[0]) {
        fprintf(stderr, "smartcfg device: --product-id and --device-name must not be empty\n");
        goto out;
    }
    cfg.cloud.tls = o.flag[O_TLS];
    if (o.val[O_BROKER]) {
        const char *b = o.val[O_BROKER];
        const char *colon = strrchr(b, ':');
        unsigned long port = 0;
        size_t hl = colon ? (size_t)(colon - b) : strlen(b);
        if (hl == 0 || hl >= sizeof cfg.cloud.host || (colon && parse_uint(colon + 1, 65535, &port, "--broker"))) {
            fprintf(stderr, "smartcfg device: --broker: want HOST[:PORT]\n");
            goto out;
        }
        memcpy(cfg.cloud.host, b, hl);
        cfg.cloud.host[hl] = '\0';
        cfg.cloud.port = (uint16_t)port;
    }
    cfg.skip_cloud = no_cloud;
    static uint8_t channels[16];
    if (o.val[O_CHANNELS]) {
        /* Hop only where the AP can be (a known channel, or the 5 GHz ones a card supports). */
        size_t n = 0;
        const char *p = o.val[O_CHANNELS];
        while (*p) {
            char *end;
            unsigned long ch = strtoul(p, &end, 10);
            if (end == p || ch == 0 || ch > 177 || n == sizeof channels || (*end && *end != ',')) {
                fprintf(stderr, "smartcfg device: --channels: want a list like 1,6,11 (at most 16, 1..177)\n");
                goto out;
            }
            channels[n++] = (uint8_t)ch;
            p = *end ? end + 1 : end;
        }
        if (n == 0) {
            fprintf(stderr, "smartcfg device: --channels: empty list\n");
            goto out;
        }
        cfg.channels = channels;
        cfg.nchannels = n;
    }

    unsigned long timeout_s = 0, sim_delay = 0, jitter = 0, vchan = 0, log_linger_s = 0;
    if ((o.val[O_TIMEOUT] && parse_uint(o.val[O_TIMEOUT], 86400, &timeout_s, "--timeout")) ||
        (o.val[O_LOG_LINGER] && parse_uint(o.val[O_LOG_LINGER], 3600, &log_linger_s, "--log-linger")) ||
        (o.val[O_SIM_DELAY] && parse_uint(o.val[O_SIM_DELAY], 600000, &sim_delay, "--sim-delay")) ||
        (o.val[O_VIRTUAL_JITTER] && parse_uint(o.val[O_VIRTUAL_JITTER], 10000, &jitter, "--virtual-jitter")) ||
        (o.val[O_VIRTUAL_CHANNEL] && parse_uint(o.val[O_VIRTUAL_CHANNEL], 177, &vchan, "--virtual-channel")))
        goto out;
    sc_posix_vradio_opts_t vopt;
    sc_posix_vradio_opts_default(&vopt);
    vopt.qos = o.flag[O_VIRTUAL_QOS];
    vopt.fcs = !o.flag[O_VIRTUAL_NO_FCS];
    vopt.jitter_ms = (uint32_t)jitter;
    vopt.only_channel = (uint8_t)vchan;
    if (o.val[O_VIRTUAL_CIPHER] && parse_cipher(o.val[O_VIRTUAL_CIPHER], &vopt.cipher) < 0)
        goto out;
    if (o.val[O_VIRTUAL_BSSID] && sc_posix_parse_mac(o.val[O_VIRTUAL_BSSID], vopt.bssid) != SC_OK) {
        fprintf(stderr, "smartcfg device: --virtual-bssid: want aa:bb:cc:dd:ee:ff\n");
        goto out;
    }
    if (o.val[O_VIRTUAL_LOSS]) {
        char *end;
        vopt.loss = strtod(o.val[O_VIRTUAL_LOSS], &end);
        if (end == o.val[O_VIRTUAL_LOSS] || *end || !(vopt.loss >= 0 && vopt.loss <= 1)) {
            fprintf(stderr, "smartcfg device: --virtual-loss: want a probability between 0 and 1\n");
            goto out;
        }
    }
    uint8_t mac[SC_MAC_LEN];
    bool mac_set = false;
    if (o.val[O_MAC]) {
        if (sc_posix_parse_mac(o.val[O_MAC], mac) != SC_OK) {
            fprintf(stderr, "smartcfg device: --mac: want aa:bb:cc:dd:ee:ff\n");
            goto out;
        }
        mac_set = true;
    }
    const char *iface = o.val[O_IFACE];
    if (iface && !if_nametoindex(iface)) {
        fprintf(stderr, "smartcfg device: --iface: no interface '%s'\n", iface);
        goto out;
    }

    /* --- assemble the HAL ------------------------------------------------------------------ */
    rc = SC_EXIT_FAIL;
    static sc_hal_t hal;
    static sc_posix_udp_t udp;
    static sc_posix_storage_t storage;
    static sc_posix_station_t station;
    static sc_posix_radio_t radio;
    static sc_posix_softap_t softap;
    memset(&hal, 0, sizeof hal);
    sc_posix_sys_init(&g_sys);
    g_sys.now_ms = sys_now;
    hal.sys = g_sys;
    dclk.virtual_time = false;
    dclk.offset = 0;
    char err[256] = "";
    bool radio_open = false, station_open = false, storage_open = false, udp_open = false, at_open = false;
    bool mqtt_open = false, http_open = false;
    bool at_replay_started = false;
    sc_device_t *dev = NULL;

    char state_dir[512];
    if (o.val[O_STATE_DIR])
        snprintf(state_dir, sizeof state_dir, "%s", o.val[O_STATE_DIR]);
    else if (sc_posix_storage_default_dir(state_dir, sizeof state_dir) != SC_OK) {
        fprintf(stderr, "smartcfg device: no state directory (set --state-dir, XDG_STATE_HOME or HOME)\n");
        rc = SC_EXIT_USAGE;
        goto cleanup;
    }
    if (sc_posix_storage_open(&storage, state_dir, &hal.storage, err, sizeof err) != SC_OK) {
        fprintf(stderr, "smartcfg device: %s\n", err);
        goto cleanup;
    }
    storage_open = true;
    sc_posix_udp_init(&udp, &hal.udp);
    udp_open = true;
    sc_posix_softap_init(&softap, &hal.sys, &hal.softap);
    if (sc_posix_station_open(&station, o.val[O_JOIN], iface, &hal.sys, &hal.station, err, sizeof err) != SC_OK) {
        fprintf(stderr, "smartcfg device: --join: %s\n", err);
        rc = SC_EXIT_USAGE;
        goto cleanup;
    }
    station_open = true;
    memcpy(station.sim_bssid, vopt.bssid, SC_MAC_LEN);
    station.sim_delay_ms = (uint32_t)sim_delay;
    if (!mac_set && !(iface && sc_posix_netif_mac(iface, mac) == SC_OK)) {
        /* Loopback and other MAC-less setups: one stable MAC per device identity, so several
         * simulated devices on one host acknowledge with distinct MACs. */
        char seed[80];
        snprintf(seed, sizeof seed, "%s/%s", cfg.identity.product_id, cfg.identity.device_name);
        sc_posix_fake_mac(seed, mac);
        mac_set = true;
    }
    if (mac_set)
        sc_posix_station_set_mac(&station, mac);
    if (iface)
        snprintf(vopt.mcast_iface, sizeof vopt.mcast_iface, "%s", iface);
    if (sc_posix_radio_open(&radio, o.val[O_RADIO], &vopt, &hal.sys, &hal.radio, err, sizeof err) != SC_OK) {
        fprintf(stderr, "smartcfg device: --radio: %s\n", err);
        goto cleanup;
    }
    radio_open = true;
    radio.any_channel = o.flag[O_ANY_CHANNEL];
    bool replay = radio.kind == SC_POSIX_RADIO_FILE;
    bool fast_replay = replay && !o.flag[O_REALTIME];
    if (!no_cloud || at_path) {
        /* The cloud binding (MQTT) and dynamic registration (HTTP); nothing connects until the
         * device reaches the binding step. */
        if (sc_posix_mqtt_init(&hal.mqtt) != SC_OK) {
            fprintf(stderr, "smartcfg device: cannot set up the MQTT client\n");
            goto cleanup;
        }
        mqtt_open = true;
        sc_posix_http_opts_t hopt = { .ca_file = cfg.cloud.ca_file[0] ? cfg.cloud.ca_file : NULL, .insecure = false };
        if (sc_posix_http_init(&hal.http, &hopt) != SC_OK) {
            fprintf(stderr, "smartcfg device: cannot set up the HTTP client\n");
            goto cleanup;
        }
        http_open = true;
    }

    reporter_t rep = { .json = o.flag[O_JSON] };
    cfg.on_event = on_event;
    cfg.user = &rep;
    dev = calloc(1, sc_device_size());
    if (!dev) {
        fprintf(stderr, "smartcfg device: out of memory\n");
        goto cleanup;
    }
    sc_err_t e = sc_device_init(dev, &hal, &cfg);
    if (e != SC_OK && at_path) {
        /* --at: the placeholder identity may not satisfy the device; AT+TCSTARTSMART
         * initialises it again with the stored one, and reports a failure there. */
        logf_(SC_LOG_DEBUG, "device idle until AT starts it (%s)", sc_strerror(e));
        e = SC_OK;
    }
    if (e != SC_OK) {
        fprintf(stderr, "smartcfg device: cannot initialise the device: %s\n", sc_strerror(e));
        goto cleanup;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_stop = 0;

    uint32_t wall_start = sc_posix_now_ms();
    if (fast_replay && !at_path) {
        dclk.virtual_time = true;
        dclk.vnow = wall_start;
    }
    rep.t0 = dev_now();
    uint32_t replay_base = rep.t0; /* device time of the capture's first frame */
    if (at_path) {
        static sc_at_device_t atb;
        sc_at_ops_t ops;
        sc_at_device_bind(&atb, dev, &hal, &cfg, &ops);
        sc_at_config_t atcfg;
        sc_at_config_default(&atcfg);
        atcfg.storage = &hal.storage;
        atcfg.fw_version = "smartcfg-" SMARTCFG_VERSION_STRING;
        if (sc_posix_at_open(at_path, (uint32_t)at_baud, &atcfg, &ops, err, sizeof err) != SC_OK) {
            fprintf(stderr, "smartcfg device: --at: %s\n", err);
            goto cleanup;
        }
        at_open = true;
        sc_at_device_attach(&atb, sc_posix_at_core());
        at_binding = &atb;
        device_loop_add_fd(sc_posix_at_fd(), POLLIN, at_readable, &atb);
        logf_(SC_LOG_INFO, "AT front-end on %s: waiting for commands", at_path);
    } else {
        e = sc_device_start(dev, dev_now());
        if (e != SC_OK) {
            fprintf(stderr, "smartcfg device: cannot start: %s\n", sc_strerror(e));
            goto cleanup;
        }
    }
    uint32_t deadline = sc_device_step(dev, dev_now());
    /* from t0: the capture starts with the device; with --at it starts when AT starts it */
    bool capture_done = false, was_listening = !at_path;
    uint32_t linger_until = 0; /* nonzero: failed, serving the log until then (wall ms) */
    uint32_t listen_since = rep.t0;
    unsigned long frames = 0, missed = 0;
    unsigned spins = 0;

    for (;;) {
        sc_device_state_t st = sc_device_state(dev);
        if (at_path) {
            /* The AT host decides what happens next: keep serving after success or failure. */
            if (at_hangup) {
                logf_(SC_LOG_INFO, "AT line closed");
                rc = st == SC_DEV_FAILED ? exit_code_for(&rep) : SC_EXIT_OK;
                break;
            }
            sc_at_device_step(at_binding, dev_now());
            sc_posix_at_tick(dev_now());
            if (st == SC_DEV_DONE || st == SC_DEV_FAILED)
                st = SC_DEV_IDLE;
        }
        if (st == SC_DEV_DONE) {
            rc = SC_EXIT_OK;
            break;
        }
        if (st == SC_DEV_FAILED) {
            /* As the reference AT firmware does after a failure: the log soft-AP and its UDP
             * 9876 service, so the app can pull what happened, for a bounded time. */
            if (log_linger_s && !linger_until) {
                sc_err_t le = sc_device_start_log_softap(dev, dev_now());
                if (le == SC_OK) {
                    linger_until = sc_posix_now_ms() + (uint32_t)log_linger_s * 1000u;
                    if (!linger_until)
                        linger_until = 1;
                    logf_(SC_LOG_INFO, "failed: serving the provisioning log on UDP 9876 for %lu s", log_linger_s);
                } else {
                    logf_(SC_LOG_WARN, "cannot start the log service: %s", sc_strerror(le));
                }
            }
            if (!linger_until || (int32_t)(sc_posix_now_ms() - linger_until) >= 0 || g_stop) {
                rc = exit_code_for(&rep);
                break;
            }
        }
        if (g_stop) {
            sc_device_stop(dev, 101, dev_now());
            logf_(SC_LOG_WARN, "stopped by signal %d", (int)g_stop);
            rc = 130;
            break;
        }
        if (timeout_s && !linger_until && sc_posix_now_ms() - wall_start >= timeout_s * 1000u) {
            report_error(&rep, "timed out (--timeout)");
            sc_device_stop(dev, 103, dev_now());
            rc = SC_EXIT_TIMEOUT;
            break;
        }
        /* Follow the device's channel even if it only publishes it (sc_device_channel). */
        uint8_t want = sc_device_channel(dev);
        if (want && want != radio.channel && hal.radio.set_channel)
            hal.radio.set_channel(hal.radio.ctx, want);
        bool listening = is_listening(&radio, st);
        if (listening && !was_listening) {
            /* (Re)starts listening: fast replay runs on capture time again, and frames that went
             * by while the device was not listening (joining, say) are missed, as on the air. */
            if (fast_replay && !dclk.virtual_time) {
                dclk.vnow = dev_now();
                dclk.virtual_time = true;
            }
            if (at_path && !at_replay_started) {
                replay_base = dev_now(); /* the capture starts when AT starts the device */
                at_replay_started = true;
            }
            listen_since = dev_now();
        }
        was_listening = listening;

        if (replay && listening && !capture_done) {
            const sc_frame_t *pf;
            uint32_t rel;
            int n = sc_posix_radio_file_peek(&radio, &pf, &rel, err, sizeof err);
            if (n < 0) {
                report_error(&rep, err);
                rc = SC_EXIT_FAIL;
                break;
            }
            if (n == 0) {
                capture_done = true;
                /* Let the device finish what the last frames started before judging. */
                deadline = sc_device_step(dev, dev_now());
                if (sc_device_state(dev) == SC_DEV_SNIFFING) {
                    report_error(&rep, "the capture ended before credentials were decoded");
                    sc_device_stop(dev, 103, dev_now());
                    rc = SC_EXIT_TIMEOUT;
                    if (at_path) {
                        /* tell the host (the stop is not an AT stop), then keep serving */
                        sc_at_provision_result(sc_posix_at_core(), false, 3, 103);
                        clock_go_real();
                        continue;
                    }
                    break;
                }
                clock_go_real();
                continue;
            }
            uint32_t due = replay_base + rel;
            if (before(due, listen_since)) {
                sc_frame_t f;
                (void)sc_posix_radio_file_take(&radio, &f);
                missed++;
                continue;
            }
            if (fast_replay) {
                /* Timers fire at their own instant between frames, as they would live. */
                if (before(deadline, due)) {
                    if (before(dclk.vnow, deadline)) {
                        dclk.vnow = deadline;
                        spins = 0;
                    } else if (++spins > 100) {
                        dclk.vnow++; /* a device asking for "now" forever must not stall replay */
                        spins = 0;
                    }
                    deadline = sc_device_step(dev, dclk.vnow);
                    continue;
                }
                if (before(dclk.vnow, due))
                    dclk.vnow = due;
                sc_frame_t f;
                if (sc_posix_radio_file_take(&radio, &f)) {
                    sc_device_on_frame(dev, &f, dclk.vnow);
                    frames++;
                }
                deadline = sc_device_step(dev, dclk.vnow);
                continue;
            }
            if (!before(dev_now(), due)) {
                sc_frame_t f;
                if (sc_posix_radio_file_take(&radio, &f)) {
                    sc_device_on_frame(dev, &f, dev_now());
                    frames++;
                }
                deadline = sc_device_step(dev, dev_now());
                continue;
            }
        }
        if (dclk.virtual_time) {
            /* Sniffing is over (or never resumed): the rest happens with real peers. */
            logf_(SC_LOG_DEBUG,
                  "replay: %lu frames delivered, %lu on other channels, %lu missed while not listening; "
                  "clock now real time",
                  radio.delivered, radio.dropped_channel, missed);
            clock_go_real();
        }

        /* --- wait for input or the next deadline ------------------------------------------ */
        struct pollfd pfd[2 + SC_POSIX_UDP_MAX + DEVICE_LOOP_MAX_FDS];
        size_t np = 0;
        int rfd = sc_posix_radio_fd(&radio);
        size_t radio_slot = SIZE_MAX;
        if (rfd >= 0) {
            /* The virtual radio is drained even when not listening so stale datagrams do not
             * pile up in the socket. */
            radio_slot = np;
            pfd[np].fd = rfd;
            pfd[np].events = POLLIN;
            pfd[np].revents = 0;
            np++;
        }
        np += sc_posix_udp_pollfds(&udp, pfd + np, SC_POSIX_UDP_MAX);
        size_t extra_from = np;
        for (size_t i = 0; i < nextra; i++) {
            pfd[np].fd = extra[i].fd;
            pfd[np].events = extra[i].events;
            pfd[np].revents = 0;
            np++;
        }
        uint32_t now = dev_now();
        uint32_t wake = deadline;
        uint32_t due;
        if (sc_posix_radio_next_due(&radio, &due) && before(due, wake))
            wake = due;
        if (replay && listening && !capture_done) {
            const sc_frame_t *pf;
            uint32_t rel;
            if (sc_posix_radio_file_peek(&radio, &pf, &rel, err, sizeof err) > 0 && before(replay_base + rel, wake))
                wake = replay_base + rel;
        }
        int timeout_ms = before(now, wake) ? (int)(wake - now) : 0;
        if (timeout_ms > 1000)
            timeout_ms = 1000; /* signals, --timeout and a device that forgot a deadline */
        int pr = poll(pfd, np, timeout_ms);
        if (pr < 0 && errno != EINTR) {
            report_error(&rep, "poll failed");
            break;
        }
        now = dev_now();
        if (radio_slot != SIZE_MAX || radio.qn) {
            /* Bounded per round so a flood cannot starve the timers and the UDP services. */
            for (int k = 0; k < 512; k++) {
                sc_frame_t f;
                int n = sc_posix_radio_read(&radio, now, &f, err, sizeof err);
                if (n < 0) {
                    report_error(&rep, err);
                    rc = SC_EXIT_FAIL;
                    goto stop_loop;
                }
                if (n == 0)
                    break;
                if (is_listening(&radio, sc_device_state(dev))) {
                    sc_device_on_frame(dev, &f, now);
                    frames++;
                }
            }
        }
        if (pr > 0)
            for (size_t i = extra_from; i < np; i++)
                if (pfd[i].revents) {
                    for (size_t k = 0; k < nextra; k++)
                        if (extra[k].fd == pfd[i].fd) {
                            extra[k].cb(extra[k].user, pfd[i].fd, pfd[i].revents, dev, now);
                            break;
                        }
                }
        deadline = sc_device_step(dev, dev_now());
    }
stop_loop:
    logf_(SC_LOG_DEBUG, "%lu frames to the decoder; radio: %lu delivered, %lu other channel, %lu lost, %lu oversize",
          frames, radio.delivered, radio.dropped_channel, radio.dropped_loss, radio.dropped_oversize);
    if (rep.json) {
        json_begin(&rep, "exit");
        printf(",\"code\":%d,\"state\":\"%s\"", rc, sc_device_state_name(sc_device_state(dev)));
        json_end();
    }

cleanup:
    if (at_open) {
        device_loop_remove_fd(sc_posix_at_fd());
        sc_posix_at_close();
    }
    if (dev) {
        /* The context holds credentials and the token: clear it before giving it back. */
        explicit_bzero(dev, sc_device_size());
        free(dev);
    }
    if (mqtt_open)
        sc_posix_mqtt_cleanup(&hal.mqtt);
    if (http_open)
        sc_posix_http_cleanup(&hal.http);
    if (udp_open)
        sc_posix_udp_close_all(&udp);
    if (radio_open)
        sc_posix_radio_close(&radio);
    if (station_open)
        sc_posix_station_close(&station);
    if (storage_open)
        sc_posix_storage_close(&storage);
    explicit_bzero(&cfg.identity, sizeof cfg.identity);
out:
    opts_free(&o);
    return rc;
}
