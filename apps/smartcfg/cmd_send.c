/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg send: the phone side. Sends ESP-TOUCH v1, collects device acks, hands each device
 * the bind token over UDP 8266 and (with --cloud) follows the binding through the token API.
 * One thread, one poll loop: the protocol state machines are the sans-I/O ones of
 * smartcfg/sender.h, the sockets/HTTP/Wi-Fi facts come from ports/posix/sc_send_posix.h.
 * Never prints the Wi-Fi password or the token (the token at most abbreviated). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "cli.h"
#include "sc_posix_netif.h"
#include "sc_send_posix.h"
#include "smartcfg/send_stream.h"
#include "smartcfg/sender.h"

#define DEFAULT_TIMEOUT_MS 60000u

typedef enum { MODE_ACK_ONLY = 0, MODE_TOKEN, MODE_CLOUD } send_mode_t;

typedef enum {
    DEV_ACKED = 0,     /* ack received */
    DEV_HANDSHAKE,     /* token request going out */
    DEV_IDENTIFIED,    /* device has the token and told us who it is */
    DEV_BOUND,         /* cloud says State 2 for this device */
    DEV_FAILED
} dev_step_t;

typedef enum { FAIL_NONE = 0, FAIL_DEVICE, FAIL_CLOUD } fail_kind_t;

typedef struct {
    dev_step_t step;
    fail_kind_t fail;
    sc_send_hs_t hs;
    char why[SC_SEND_TEXT_MAX];
    char last_previous[SC_SEND_TEXT_MAX]; /* the reference resends queued errors before each reply */
    uint32_t malformed_reported;
} dev_t_;

typedef struct {
    /* options */
    sc_et_creds_t creds;
    char ssid_text[4 * SC_ET_SSID_MAX + 1]; /* printable form for reports (\\xNN escapes) */
    const char *iface;
    bool have_ip, have_bssid, have_ssid, have_password, multicast, have_dest, json;
    uint8_t dest[4];
    long count;
    uint32_t timeout_ms;
    const char *token_arg, *cloud, *region, *access_token;
    send_mode_t mode;
    char token[SC_SEND_TOKEN_MAX + 1];
    char token_abbrev[16];
    char access_buf[256];

    /* protocol (sc_send_stream_t): v1, v2 or AirKiss */
    sc_proto_t proto;
    uint8_t aes_key[16];
    bool have_key, random_iv;
    uint8_t reserved[SC_ET2_RESERVED_MAX], reserved_len, port_mark, random;

    /* run state */
    sc_send_stream_t stream;
    sc_send_dgram_t next;
    bool sending;
    uint32_t datagrams, send_errors;
    sc_posix_send_net_t net;
    sc_send_acks_t acks;
    dev_t_ dev[SC_SEND_MAX_DEVICES];
    uint32_t ndev;          /* devices taken on (<= count when count > 0) */
    uint32_t extra_acks;    /* devices beyond --count, ignored */
    uint32_t rejected_reported;
    uint32_t stray_reported;   /* UDP 8266 datagrams from addresses that never acked */
    sc_posix_http_t *http;
    sc_send_poll_t poll;
    const char *poll_action;
    bool multi_unsupported;
    bool cloud_failed;
    char cloud_why[SC_SEND_TEXT_MAX];
    struct timespec t0;
    bool tty;
    bool progress_shown;
    uint32_t next_progress;
} send_ctx_t;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static uint64_t now_us(const send_ctx_t *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)(ts.tv_sec - c->t0.tv_sec) * 1000000u + (uint64_t)(ts.tv_nsec / 1000) -
           (uint64_t)(c->t0.tv_nsec / 1000);
}

static uint32_t now_ms(const send_ctx_t *c)
{
    return (uint32_t)(now_us(c) / 1000u);
}

static void fmt_ip(char *out, const uint8_t ip[4])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

static void fmt_mac(char *out, const uint8_t m[6])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ---------------------------------------------------------------- output */

static void clear_progress(send_ctx_t *c)
{
    if (c->progress_shown) {
        fputs("\r\033[K", stdout);
        c->progress_shown = false;
    }
}

/* Emits one event: a JSON line with --json, else a human line. Takes ownership of o. */
static void emit(send_ctx_t *c, const char *event, cJSON *o, const char *human_fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void emit(send_ctx_t *c, const char *event, cJSON *o, const char *human_fmt, ...)
{
    double t = (double)now_ms(c) / 1000.0;
    if (c->json) {
        cJSON *line = cJSON_CreateObject();
        cJSON_AddStringToObject(line, "event", event);
        cJSON_AddNumberToObject(line, "t", (double)(long)(t * 1000) / 1000.0);
        if (o) {
            cJSON *it = o->child;
            while (it) {
                cJSON *next = it->next;
                cJSON_DetachItemViaPointer(o, it);
                cJSON_AddItemToObject(line, it->string, it);
                it = next;
            }
        }
        char *s = cJSON_PrintUnformatted(line);
        if (s) {
            puts(s);
            free(s);
        }
        cJSON_Delete(line);
        fflush(stdout);
    } else if (human_fmt) {
        clear_progress(c);
        char buf[512];
        va_list ap;
        va_start(ap, human_fmt);
        vsnprintf(buf, sizeof buf, human_fmt, ap);
        va_end(ap);
        printf("[%6.2fs] %s\n", t, buf);
        fflush(stdout);
    }
    cJSON_Delete(o);
}

static cJSON *dev_json(const send_ctx_t *c, uint32_t i)
{
    char mac[18], ip[16];
    fmt_mac(mac, c->acks.dev[i].mac);
    fmt_ip(ip, c->acks.dev[i].src_ip);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "device", i);
    cJSON_AddStringToObject(o, "mac", mac);
    cJSON_AddStringToObject(o, "ip", ip);
    return o;
}

static const char *step_name(dev_step_t s)
{
    switch (s) {
    case DEV_ACKED: return "acked";
    case DEV_HANDSHAKE: return "token";
    case DEV_IDENTIFIED: return "identified";
    case DEV_BOUND: return "bound";
    case DEV_FAILED: return "failed";
    }
    return "?";
}

static uint32_t count_step(const send_ctx_t *c, dev_step_t s);

static void progress(send_ctx_t *c, uint32_t now)
{
    if (!c->tty || c->json || (int32_t)(now - c->next_progress) < 0)
        return;
    c->next_progress = now + 200;
    const char *phase = c->sending ? sc_proto_name(c->proto)
                        : count_step(c, DEV_HANDSHAKE) ? "handshake"
                        : c->poll.active ? "binding" : "listening";
    char line[256];
    int n = snprintf(line, sizeof line, "%-9s %5.1fs  sent %u  devices %u", phase, now / 1000.0,
                     c->datagrams, c->ndev);
    for (uint32_t i = 0; i < c->ndev && i < 4 && n > 0 && (size_t)n < sizeof line; i++) {
        const dev_t_ *d = &c->dev[i];
        if (d->step == DEV_HANDSHAKE)
            n += snprintf(line + n, sizeof line - (size_t)n, "  #%u token %u/%u", i, d->hs.sends, d->hs.timing.max_sends);
        else
            n += snprintf(line + n, sizeof line - (size_t)n, "  #%u %s", i, step_name(d->step));
    }
    fputs("\r\033[K", stdout);
    fputs(line, stdout);
    fflush(stdout);
    c->progress_shown = true;
}

/* ---------------------------------------------------------------- option parsing */

static bool printable_ascii(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || (unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e)
            return false;
    return n > 0;
}

/* v2 segment padding: the reference draws 0..126 */
static uint8_t send_pad(void *user)
{
    (void)user;
    return (uint8_t)(rand() % 127);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smartcfg send --ssid S --password P [options]\n"
            "Send Wi-Fi credentials over ESP-TOUCH v1, collect device acks, hand each device a\n"
            "Tencent IoT Explorer bind token and follow the binding. See docs/send.md.\n\n"
            "  --ssid S | --ssid-hex H        network name (1-32 bytes); default: the current association\n"
            "  --password P | --password-hex H | --password-file F   (0-64 bytes; '' = open network)\n"
            "  --bssid B          aa:bb:cc:dd:ee:ff (default: the current association, nl80211)\n"
            "  --ip A             the phone's IPv4 (default: the interface's address)\n"
            "  --iface IF         interface to send from\n"
            "  --multicast        send to rotating 234.n.n.n instead of 255.255.255.255\n"
            "  --dest A           send the ESP-TOUCH datagrams to this unicast address instead\n"
            "  --count N          stop once N devices are done (default 1; 0 = until the timeout)\n"
            "  --timeout S        look for devices for S seconds (default 60; sending stops at 45)\n"
            "  --token T          hand this bind token to each device (no cloud polling)\n"
            "  --cloud URL        get a token from the token API at URL and follow the binding\n"
            "  --access-token A   AccessToken for the token API (default: $SC_ACCESS_TOKEN or empty)\n"
            "  --region R         add \"region\" to the token request\n"
            "  --no-token         ESP-TOUCH and acks only\n"
            "  --protocol P       v1 | v2 | airkiss (default v1): which reference sender, its timing\n"
            "                     and its ack (v2: UDP 18266+10000*mark; AirKiss: UDP 10000)\n"
            "  --aes-key K        v2: encrypt password+reserved with this 16-character device key\n"
            "  --random-iv        v2: AES with a random IV (security 2)\n"
            "  --reserved R | --reserved-hex H   v2 reserved (custom) data, 0..64 bytes\n"
            "  --port-mark N      v2: 0..3 (default 0)\n"
            "  --json             one JSON object per event line, then a summary object\n"
            "exit: 0 all devices done, 2 usage, 3 timeout, 4 device error, 5 cloud error\n");
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "smartcfg send: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return SC_EXIT_USAGE;
}

static int read_password_file(send_ctx_t *c, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f)
        return bad("cannot read the password file %s", path);
    char buf[SC_ET_PASSWORD_MAX + 3];
    size_t n = fread(buf, 1, sizeof buf, f);
    if (f != stdin)
        fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n > SC_ET_PASSWORD_MAX)
        return bad("the password in %s is longer than 64 bytes", path);
    memcpy(c->creds.password, buf, n);
    c->creds.password_len = (uint8_t)n;
    memset(buf, 0, sizeof buf);
    c->have_password = true;
    return 0;
}

static int parse_args(send_ctx_t *c, int argc, char **argv)
{
    enum { O_SSID = 256, O_SSID_HEX, O_PASSWORD, O_PASSWORD_HEX, O_PASSWORD_FILE, O_BSSID, O_IP, O_IFACE,
           O_MULTICAST, O_DEST, O_COUNT, O_TIMEOUT, O_TOKEN, O_CLOUD, O_REGION, O_ACCESS, O_NO_TOKEN, O_JSON,
           O_HELP, O_PROTOCOL, O_AESKEY, O_RANDIV, O_RES, O_RES_HEX, O_PORTMARK };
    static const struct option opts[] = {
        { "ssid", required_argument, NULL, O_SSID },
        { "ssid-hex", required_argument, NULL, O_SSID_HEX },
        { "password", required_argument, NULL, O_PASSWORD },
        { "password-hex", required_argument, NULL, O_PASSWORD_HEX },
        { "password-file", required_argument, NULL, O_PASSWORD_FILE },
        { "bssid", required_argument, NULL, O_BSSID },
        { "ip", required_argument, NULL, O_IP },
        { "iface", required_argument, NULL, O_IFACE },
        { "multicast", no_argument, NULL, O_MULTICAST },
        { "dest", required_argument, NULL, O_DEST },
        { "count", required_argument, NULL, O_COUNT },
        { "timeout", required_argument, NULL, O_TIMEOUT },
        { "token", required_argument, NULL, O_TOKEN },
        { "cloud", required_argument, NULL, O_CLOUD },
        { "region", required_argument, NULL, O_REGION },
        { "access-token", required_argument, NULL, O_ACCESS },
        { "no-token", no_argument, NULL, O_NO_TOKEN },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, O_HELP },
        { "protocol", required_argument, NULL, O_PROTOCOL },
        { "aes-key", required_argument, NULL, O_AESKEY },
        { "random-iv", no_argument, NULL, O_RANDIV },
        { "reserved", required_argument, NULL, O_RES },
        { "reserved-hex", required_argument, NULL, O_RES_HEX },
        { "port-mark", required_argument, NULL, O_PORTMARK },
        { NULL, 0, NULL, 0 },
    };
    bool no_token = false;
    int o, n;
    char *end;
    c->count = 1;
    c->timeout_ms = DEFAULT_TIMEOUT_MS;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case O_SSID:
        case O_SSID_HEX:
            if (c->have_ssid)
                return bad("%s", "give the SSID once (--ssid or --ssid-hex)");
            if (o == O_SSID) {
                n = strlen(optarg) > SC_ET_SSID_MAX ? -2 : (int)strlen(optarg);
                if (n > 0)
                    memcpy(c->creds.ssid, optarg, (size_t)n);
            } else {
                n = sc_posix_parse_hex(optarg, c->creds.ssid, SC_ET_SSID_MAX);
                if (n == -1)
                    return bad("--ssid-hex '%s' is not an even number of hex digits", optarg);
            }
            if (n == -2)
                return bad("%s", "the SSID is longer than 32 bytes");
            if (n == 0)
                return bad("%s", "the SSID is empty (1-32 bytes)");
            c->creds.ssid_len = (uint8_t)n;
            c->have_ssid = true;
            break;
        case O_PASSWORD:
        case O_PASSWORD_HEX:
            if (c->have_password)
                return bad("%s", "give the password once");
            if (o == O_PASSWORD) {
                n = strlen(optarg) > SC_ET_PASSWORD_MAX ? -2 : (int)strlen(optarg);
                if (n > 0)
                    memcpy(c->creds.password, optarg, (size_t)n);
            } else {
                n = sc_posix_parse_hex(optarg, c->creds.password, SC_ET_PASSWORD_MAX);
                if (n == -1)
                    return bad("%s", "--password-hex is not an even number of hex digits");
            }
            if (n == -2)
                return bad("%s", "the password is longer than 64 bytes");
            c->creds.password_len = (uint8_t)n;
            c->have_password = true;
            /* Blank it in argv: /proc/<pid>/cmdline would show it for the whole run. */
            memset(optarg, 'x', strlen(optarg));
            break;
        case O_PASSWORD_FILE:
            if (c->have_password)
                return bad("%s", "give the password once");
            if (read_password_file(c, optarg))
                return SC_EXIT_USAGE;
            break;
        case O_BSSID:
            if (sc_posix_parse_mac(optarg, c->creds.bssid) != SC_OK)
                return bad("--bssid '%s' is not a MAC address like aa:bb:cc:dd:ee:ff", optarg);
            c->have_bssid = true;
            break;
        case O_IP:
            if (sc_posix_parse_ipv4(optarg, c->creds.phone_ip) != SC_OK)
                return bad("--ip '%s' is not an IPv4 address like 192.168.1.100", optarg);
            c->have_ip = true;
            break;
        case O_IFACE:
            if (!sc_posix_iface_exists(optarg))
                return bad("no network interface named '%s'", optarg);
            c->iface = optarg;
            break;
        case O_MULTICAST:
            c->multicast = true;
            break;
        case O_DEST:
            if (sc_posix_parse_ipv4(optarg, c->dest) != SC_OK)
                return bad("--dest '%s' is not an IPv4 address", optarg);
            c->have_dest = true;
            break;
        case O_COUNT:
            errno = 0;
            c->count = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || c->count < 0 || c->count > SC_SEND_MAX_DEVICES)
                return bad("--count '%s' must be 0..32", optarg);
            break;
        case O_TIMEOUT: {
            errno = 0;
            double s = strtod(optarg, &end);
            if (errno || *end || end == optarg || !(s > 0 && s <= 3600))
                return bad("--timeout '%s' must be a number of seconds in (0, 3600]", optarg);
            c->timeout_ms = (uint32_t)(s * 1000.0 + 0.5);
            if (!c->timeout_ms)
                c->timeout_ms = 1;
            break;
        }
        case O_TOKEN:
            if (!printable_ascii(optarg, SC_SEND_TOKEN_MAX))
                return bad("%s", "--token must be 1-64 printable ASCII characters without spaces");
            snprintf(c->token, sizeof c->token, "%s", optarg);
            memset(optarg, 'x', strlen(optarg));
            c->token_arg = c->token;
            break;
        case O_CLOUD:
            if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
                return bad("--cloud '%s' must be an http:// or https:// URL", optarg);
            c->cloud = optarg;
            break;
        case O_REGION:
            if (!printable_ascii(optarg, SC_SEND_REGION_MAX))
                return bad("--region '%s' must be 1-32 printable ASCII characters", optarg);
            c->region = optarg;
            break;
        case O_ACCESS:
            if (strlen(optarg) >= sizeof c->access_buf)
                return bad("%s", "--access-token is longer than 255 characters");
            snprintf(c->access_buf, sizeof c->access_buf, "%s", optarg);
            memset(optarg, 'x', strlen(optarg)); /* a secret of the app user: not in argv */
            c->access_token = c->access_buf;
            break;
        case O_NO_TOKEN:
            no_token = true;
            break;
        case O_JSON:
            c->json = true;
            break;
        case O_PROTOCOL: {
            unsigned m;
            if (sc_proto_parse(optarg, &m) != SC_OK || (m != SC_PROTO_ESPTOUCH_V1 && m != SC_PROTO_ESPTOUCH_V2 &&
                                                         m != SC_PROTO_AIRKISS))
                return bad("--protocol '%s': one of v1, v2, airkiss", optarg);
            c->proto = (sc_proto_t)m;
            break;
        }
        case O_AESKEY:
            if (strlen(optarg) != sizeof c->aes_key)
                return bad("--aes-key must be exactly 16 characters%s", "");
            memcpy(c->aes_key, optarg, sizeof c->aes_key);
            c->have_key = true;
            break;
        case O_RANDIV:
            c->random_iv = true;
            break;
        case O_RES:
            if (strlen(optarg) > SC_ET2_RESERVED_MAX)
                return bad("--reserved: at most 64 bytes%s", "");
            c->reserved_len = (uint8_t)strlen(optarg);
            memcpy(c->reserved, optarg, c->reserved_len);
            break;
        case O_RES_HEX:
            n = sc_posix_parse_hex(optarg, c->reserved, SC_ET2_RESERVED_MAX);
            if (n < 0)
                return bad("--reserved-hex: hex digits, at most 64 bytes%s", "");
            c->reserved_len = (uint8_t)n;
            break;
        case O_PORTMARK:
            if (optarg[0] < '0' || optarg[0] > '3' || optarg[1])
                return bad("--port-mark '%s' must be 0..3", optarg);
            c->port_mark = (uint8_t)(optarg[0] - '0');
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            return -1;
        default:
            if (optopt)
                fprintf(stderr, "smartcfg send: option needs a value or is unknown (see --help)\n");
            else
                fprintf(stderr, "smartcfg send: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return SC_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return bad("unexpected argument '%s'", argv[optind]);
    if (c->token_arg && c->cloud)
        return bad("%s", "--token and --cloud exclude each other");
    if (no_token && (c->token_arg || c->cloud))
        return bad("%s", "--no-token excludes --token and --cloud");
    if (c->multicast && c->have_dest)
        return bad("%s", "--multicast and --dest exclude each other");
    if (!c->have_password)
        return bad("%s", "--password is required (--password '' for an open network)");
    c->mode = c->cloud ? MODE_CLOUD : c->token_arg ? MODE_TOKEN : MODE_ACK_ONLY;
    if (!c->access_token)
        c->access_token = getenv("SC_ACCESS_TOKEN");
    return 0;
}

/* Fills what the command line left out from the host: SSID/BSSID (nl80211), phone IP. */
static int complete_from_host(send_ctx_t *c)
{
    char why[160];
    if (!c->have_ssid || !c->have_bssid) {
        sc_posix_wifi_assoc_t a;
        if (sc_posix_wifi_assoc(c->iface, &a, why, sizeof why)) {
            fprintf(stderr, "smartcfg send: cannot find the %s of the current Wi-Fi association: %s; pass %s\n",
                    !c->have_ssid ? "SSID" : "BSSID", why, !c->have_ssid ? "--ssid (and --bssid)" : "--bssid");
            return SC_EXIT_USAGE;
        }
        if (!c->have_ssid) {
            if (!a.ssid_len) {
                fprintf(stderr, "smartcfg send: %s reports no SSID; pass --ssid\n", a.ifname);
                return SC_EXIT_USAGE;
            }
            memcpy(c->creds.ssid, a.ssid, a.ssid_len);
            c->creds.ssid_len = a.ssid_len;
        } else if (a.ssid_len && (a.ssid_len != c->creds.ssid_len || memcmp(a.ssid, c->creds.ssid, a.ssid_len))) {
            fprintf(stderr, "smartcfg send: warning: %s is associated to another SSID; using its BSSID anyway\n", a.ifname);
        }
        if (!c->have_bssid)
            memcpy(c->creds.bssid, a.bssid, 6);
        if (!c->iface && !c->have_ip) {
            static char ifn[IF_NAMESIZE];
            memcpy(ifn, a.ifname, sizeof ifn);
            c->iface = ifn;
        }
    }
    if (!c->have_ip) {
        char ifn[IF_NAMESIZE];
        if (sc_posix_iface_ipv4(c->iface, c->creds.phone_ip, ifn, sizeof ifn)) {
            fprintf(stderr, "smartcfg send: %s%s has no IPv4 address; pass --ip\n",
                    c->iface ? "interface " : "this host", c->iface ? c->iface : "");
            return SC_EXIT_USAGE;
        }
    } else if (!sc_posix_ip_is_local(c->creds.phone_ip)) {
        char ip[16];
        fmt_ip(ip, c->creds.phone_ip);
        fprintf(stderr, "smartcfg send: --ip %s is not an address of this host (devices answer to it)\n", ip);
        return SC_EXIT_USAGE;
    }
    if ((unsigned)c->creds.ssid_len + c->creds.password_len > SC_ET_SP_MAX) {
        fprintf(stderr, "smartcfg send: SSID (%u bytes) + password (%u bytes) exceed the 113 bytes ESP-TOUCH v1 can carry\n",
                c->creds.ssid_len, c->creds.password_len);
        return SC_EXIT_USAGE;
    }
    /* Printable SSID for reports: escape anything that could drive a terminal. */
    size_t k = 0;
    for (unsigned i = 0; i < c->creds.ssid_len; i++) {
        unsigned char ch = c->creds.ssid[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            c->ssid_text[k++] = (char)ch;
        else
            k += (size_t)snprintf(c->ssid_text + k, sizeof c->ssid_text - k, "\\x%02x", ch) > 0 ? 4 : 0;
        if (k + 5 >= sizeof c->ssid_text)
            break;
    }
    c->ssid_text[k] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- cloud */

static void request_id(char *out, size_t cap)
{
    uint8_t r[8];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(r, 1, sizeof r, f) != sizeof r)
        memset(r, 0x5a, sizeof r);
    if (f)
        fclose(f);
    snprintf(out, cap, "smartcfg-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

static void api_url(const send_ctx_t *c, const char *action, char *out, size_t cap)
{
    size_t n = strlen(c->cloud);
    while (n > 0 && c->cloud[n - 1] == '/')
        n--;
    snprintf(out, cap, "%.*s/tokenapi?cmd=%s", (int)n, c->cloud, action);
}

static sc_err_t api_start(send_ctx_t *c, const char *action, const char *token)
{
    char url[512], body[512], rid[40];
    request_id(rid, sizeof rid);
    api_url(c, action, url, sizeof url);
    sc_err_t err = sc_send_api_request(body, sizeof body, action, token, rid, c->access_token);
    if (!err)
        err = sc_posix_http_start(c->http, url, body, 10000);
    memset(body, 0, sizeof body);
    return err;
}

typedef enum {
    API_OK = 0,
    API_TRANSPORT,   /* no answer (connection, timeout): worth another try */
    API_FORMAT,      /* an answer that is not the envelope / lacks what the action returns */
    API_REFUSED      /* a valid envelope with code != 0 */
} api_outcome_t;

/* HTTP result -> parsed envelope; why says what went wrong. */
static api_outcome_t api_result(const char *action, sc_err_t herr, long status, const char *body, size_t len,
                       sc_send_api_reply_t *r, char *why, size_t cap)
{
    if (herr) {
        char tmp[SC_SEND_TEXT_MAX];
        snprintf(tmp, sizeof tmp, "%.120s", why[0] ? why : "request failed");
        snprintf(why, cap, "%s: %.120s", action, tmp);
        return API_TRANSPORT;
    }
    if (sc_send_api_parse(action, body, len, r)) {
        if (r->code > 0) {
            snprintf(why, cap, "%s: code %d: %.100s", action, r->code, r->msg[0] ? r->msg : "(no message)");
            return API_REFUSED;
        }
        if (status != 200)
            snprintf(why, cap, "%s: HTTP %ld", action, status);
        else
            snprintf(why, cap, "%s: %.100s", action, r->msg);
        return API_FORMAT;
    }
    if (r->code != 0) {
        snprintf(why, cap, "%s: code %d: %.100s", action, r->code, r->msg[0] ? r->msg : "(no message)");
        return API_REFUSED;
    }
    return API_OK;
}

static int create_token(send_ctx_t *c)
{
    char why[SC_SEND_TEXT_MAX] = "";
    long status = 0;
    const char *body = NULL;
    size_t len = 0;
    sc_send_api_reply_t r;
    char url[512], req[512], rid[40];
    request_id(rid, sizeof rid);
    api_url(c, SC_SEND_API_CREATE_TOKEN, url, sizeof url);
    sc_send_api_request(req, sizeof req, SC_SEND_API_CREATE_TOKEN, NULL, rid, c->access_token);
    sc_err_t err = sc_posix_http_post(c->http, url, req, 15000, &status, &body, &len, why, sizeof why);
    if (api_result(SC_SEND_API_CREATE_TOKEN, err, status, body, len, &r, why, sizeof why) != API_OK) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "message", why);
        emit(c, "cloud_error", e, "cloud error: %s", why);
        return SC_EXIT_CLOUD;
    }
    if (!printable_ascii(r.token, SC_SEND_TOKEN_MAX)) {
        fprintf(stderr, "smartcfg send: cloud error: the token from %s is not printable ASCII\n", SC_SEND_API_CREATE_TOKEN);
        return SC_EXIT_CLOUD;
    }
    memcpy(c->token, r.token, sizeof c->token);
    sc_send_abbrev(c->token, c->token_abbrev, sizeof c->token_abbrev);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", c->token_abbrev);
    cJSON_AddNumberToObject(o, "expire_time", r.expire_time);
    emit(c, "token_created", o, "bind token %s created", c->token_abbrev);
    memset(&r, 0, sizeof r);
    return 0;
}

static void fail_device(send_ctx_t *c, uint32_t i, fail_kind_t kind, const char *event, const char *why)
{
    dev_t_ *d = &c->dev[i];
    d->step = DEV_FAILED;
    d->fail = kind;
    snprintf(d->why, sizeof d->why, "%s", why);
    cJSON *o = dev_json(c, i);
    cJSON_AddStringToObject(o, "message", why);
    char mac[18];
    fmt_mac(mac, c->acks.dev[i].mac);
    emit(c, event, o, "device %s: %s", mac, why);
}

static void mark_bound(send_ctx_t *c, uint32_t i)
{
    dev_t_ *d = &c->dev[i];
    d->step = DEV_BOUND;
    cJSON *o = dev_json(c, i);
    cJSON_AddStringToObject(o, "productId", d->hs.product_id);
    cJSON_AddStringToObject(o, "deviceName", d->hs.device_name);
    char mac[18];
    fmt_mac(mac, c->acks.dev[i].mac);
    emit(c, "bound", o, "device %s bound (%s/%s)", mac, d->hs.product_id, d->hs.device_name);
}

/* A bound (ProductId, DeviceName) from the cloud -> our device; true when one matched. */
static bool bind_match(send_ctx_t *c, const char *pid, const char *dn)
{
    bool any = false;
    for (uint32_t i = 0; i < c->ndev; i++) {
        dev_t_ *d = &c->dev[i];
        if (d->step != DEV_IDENTIFIED)
            continue;
        /* No names in the answer: the cloud only says the token is used; with one token per
         * run that means every device that took it. */
        if ((!pid[0] && !dn[0]) || (!strcmp(pid, d->hs.product_id) && !strcmp(dn, d->hs.device_name))) {
            mark_bound(c, i);
            any = true;
        }
    }
    return any;
}

static uint32_t count_step(const send_ctx_t *c, dev_step_t s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->ndev; i++)
        n += c->dev[i].step == s;
    return n;
}

static void cloud_step(send_ctx_t *c, uint32_t now)
{
    if (c->mode != MODE_CLOUD)
        return;
    if (sc_posix_http_busy(c->http)) {
        long status = 0;
        const char *body = NULL;
        size_t len = 0;
        char why[SC_SEND_TEXT_MAX] = "";
        sc_err_t err = sc_posix_http_poll(c->http, &status, &body, &len, why, sizeof why);
        if (err == SC_ERR_AGAIN)
            return;
        sc_send_api_reply_t r;
        const char *action = c->poll_action;
        api_outcome_t out = api_result(action, err, status, body, len, &r, why, sizeof why);
        if (out != API_OK) {
            if (!strcmp(action, SC_SEND_API_MULTI_STATE) && out != API_TRANSPORT) {
                c->multi_unsupported = true; /* older clouds: fall back to the single-state call */
                c->poll.next_at = now;       /* and do not lose a poll interval for it */
            } else if (out == API_REFUSED) {
                /* The cloud refused the token: the app gives up. */
                c->cloud_failed = true;
                snprintf(c->cloud_why, sizeof c->cloud_why, "%s", why);
                sc_send_poll_stop(&c->poll);
                for (uint32_t i = 0; i < c->ndev; i++)
                    if (c->dev[i].step == DEV_IDENTIFIED)
                        fail_device(c, i, FAIL_CLOUD, "cloud_error", why);
                return;
            } else {
                /* No answer or garbage: counted as a poll, the next one may do better. */
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "message", why);
                emit(c, "cloud_retry", o, "cloud: %s (will poll again)", why);
            }
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "poll", c->poll.polls);
            cJSON_AddNumberToObject(o, "state", r.state);
            emit(c, "poll", o, NULL);
            if (!strcmp(action, SC_SEND_API_MULTI_STATE)) {
                for (uint32_t k = 0; k < r.nbound; k++)
                    bind_match(c, r.bound[k].product_id, r.bound[k].device_name);
            } else if (r.state == 2 && !bind_match(c, r.product_id, r.device_name)) {
                cJSON *u = cJSON_CreateObject();
                cJSON_AddStringToObject(u, "productId", r.product_id);
                cJSON_AddStringToObject(u, "deviceName", r.device_name);
                emit(c, "bound_other", u, "cloud: the token was used by %s/%s, not a device of this run",
                     r.product_id, r.device_name);
            }
        }
        if (!count_step(c, DEV_IDENTIFIED))
            sc_send_poll_stop(&c->poll);
    }
    if (sc_posix_http_busy(c->http))
        return;
    if (sc_send_poll_exhausted(&c->poll)) {
        sc_send_poll_stop(&c->poll);
        for (uint32_t i = 0; i < c->ndev; i++)
            if (c->dev[i].step == DEV_IDENTIFIED)
                fail_device(c, i, FAIL_CLOUD, "bind_timeout",
                            "the cloud never reported the device bound (BUSINESS_QUERY_BIND_TOKEN_TIMEOUT): "
                            "the device could not reach the cloud or its bind was refused");
        return;
    }
    if (sc_send_poll_due(&c->poll, now)) {
        c->poll_action = count_step(c, DEV_IDENTIFIED) > 1 && !c->multi_unsupported ? SC_SEND_API_MULTI_STATE
                                                                                     : SC_SEND_API_TOKEN_STATE;
        if (api_start(c, c->poll_action, c->token)) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "message", "cannot start the poll request");
            emit(c, "cloud_retry", o, "cloud: cannot start the poll request");
        }
    }
}

/* ---------------------------------------------------------------- devices */

static void on_ack_datagram(send_ctx_t *c, uint32_t now, const uint8_t src[4], const uint8_t *buf, size_t len)
{
    uint32_t idx;
    bool is_new;
    uint8_t v1shape[SC_ET_ACK_LEN];
    if (c->proto != SC_PROTO_ESPTOUCH_V1) {
        /* v2 [mark, MAC] / AirKiss [R] or [R, MAC]: valid ones join the table in the v1 shape
         * [0, MAC, source]; an AirKiss ack without a MAC is known by its source address */
        uint8_t mac[SC_MAC_LEN];
        bool has_mac;
        if (sc_send_stream_ack(&c->stream, buf, len, mac, &has_mac) != SC_OK) {
            c->acks.rejected++;
            return;
        }
        if (!has_mac) {
            mac[0] = 0x02;
            mac[1] = 0x00;
            memcpy(mac + 2, src, 4);
        }
        v1shape[0] = 0;
        memcpy(v1shape + 1, mac, SC_MAC_LEN);
        memcpy(v1shape + 7, src, 4);
        buf = v1shape;
        len = sizeof v1shape;
    }
    sc_err_t err = sc_send_acks_on_datagram(&c->acks, src, buf, len, &idx, &is_new);
    char ip[16], ip2[16], mac[18];
    fmt_ip(ip, src);
    if (err == SC_ERR_FORMAT || err == SC_ERR_PROTO) {
        /* Broadcast acks of other sessions and LAN noise are normal: report a few, count all. */
        if (c->rejected_reported++ < 5) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "from", ip);
            cJSON_AddNumberToObject(o, "length", (double)len);
            cJSON_AddStringToObject(o, "reason", err == SC_ERR_FORMAT ? "length is not 11" : "first byte is not ssid+password+9");
            emit(c, "ack_rejected", o, NULL);
        }
        return;
    }
    if (err || !is_new)
        return;
    if (c->count > 0 && idx >= (uint32_t)c->count) {
        c->extra_acks++;
        fmt_mac(mac, c->acks.dev[idx].mac);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "mac", mac);
        cJSON_AddStringToObject(o, "ip", ip);
        emit(c, "ack_extra", o, "device %s at %s acked beyond --count %ld: ignored", mac, ip, c->count);
        return;
    }
    c->ndev = idx + 1;
    dev_t_ *d = &c->dev[idx];
    memset(d, 0, sizeof *d);
    const sc_send_ack_dev_t *a = &c->acks.dev[idx];
    fmt_mac(mac, a->mac);
    fmt_ip(ip2, a->ack_ip);
    cJSON *o = dev_json(c, idx);
    cJSON_AddStringToObject(o, "ack_ip", ip2);
    emit(c, "ack", o, "device %s acked from %s", mac, ip);
    if (a->ip_mismatch) {
        o = dev_json(c, idx);
        cJSON_AddStringToObject(o, "ack_ip", ip2);
        cJSON_AddStringToObject(o, "src_ip", ip);
        emit(c, "ip_mismatch", o, "device %s says its IP is %s but its ack came from %s; using %s", mac, ip2, ip, ip);
    }
    if (c->mode == MODE_ACK_ONLY) {
        d->step = DEV_ACKED;
        return;
    }
    if (!memcmp(a->src_ip, c->creds.phone_ip, 4)) {
        /* Both ends would need <ip>:8266: the request would come back to our own socket. */
        fail_device(c, idx, FAIL_DEVICE, "device_error",
                    "the device has the phone's own address, so its UDP 8266 service cannot be reached; "
                    "give the device (or the phone, --ip) another address");
        return;
    }
    const char *token = c->mode == MODE_CLOUD ? c->token : c->token_arg;
    if (sc_send_hs_start(&d->hs, token, c->region, NULL, now)) {
        fail_device(c, idx, FAIL_DEVICE, "device_error", "cannot build the token request");
        return;
    }
    d->step = DEV_HANDSHAKE;
}

static int dev_by_ip(const send_ctx_t *c, const uint8_t ip[4])
{
    for (uint32_t i = 0; i < c->ndev; i++)
        if (!memcmp(c->acks.dev[i].src_ip, ip, 4))
            return (int)i;
    return -1;
}

static void on_token_datagram(send_ctx_t *c, uint32_t now, const uint8_t src[4], const uint8_t *buf, size_t len,
                              size_t cap)
{
    char ip[16], mac[18];
    fmt_ip(ip, src);
    int i = dev_by_ip(c, src);
    if (i < 0) {
        if (c->stray_reported++ >= 5)
            return; /* a flood must not flood the output */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "from", ip);
        cJSON_AddStringToObject(o, "reason", "reply from an address that sent no ack");
        emit(c, "malformed", o, "ignored a UDP 8266 datagram from %s: no ack came from there", ip);
        return;
    }
    dev_t_ *d = &c->dev[i];
    if (d->step == DEV_ACKED)
        return;
    fmt_mac(mac, c->acks.dev[i].mac);
    sc_send_hs_ev_t ev;
    if (len > cap) {
        d->hs.malformed++;
        snprintf(d->hs.text, sizeof d->hs.text, "reply longer than %zu bytes", cap);
        ev = SC_SEND_HS_EV_MALFORMED;
    } else {
        ev = sc_send_hs_on_datagram(&d->hs, buf, len);
    }
    cJSON *o = dev_json(c, (uint32_t)i);
    switch (ev) {
    case SC_SEND_HS_EV_IDENTITY:
        if (d->step == DEV_FAILED)
            break;
        cJSON_AddStringToObject(o, "productId", d->hs.product_id);
        cJSON_AddStringToObject(o, "deviceName", d->hs.device_name);
        if (d->hs.product_region[0])
            cJSON_AddStringToObject(o, "productRegion", d->hs.product_region);
        emit(c, "identity", o, "device %s is %s/%s", mac, d->hs.product_id, d->hs.device_name);
        o = NULL;
        d->step = DEV_IDENTIFIED;
        if (c->mode == MODE_CLOUD)
            sc_send_poll_restart(&c->poll, now);
        break;
    case SC_SEND_HS_EV_DEVICE_ERROR:
        cJSON_Delete(o);
        o = NULL;
        fail_device(c, (uint32_t)i, FAIL_DEVICE, "device_error", d->hs.text);
        break;
    case SC_SEND_HS_EV_PREVIOUS_ERROR:
        if (!strcmp(d->last_previous, d->hs.text))
            break;
        memcpy(d->last_previous, d->hs.text, sizeof d->last_previous);
        cJSON_AddStringToObject(o, "message", d->hs.text);
        emit(c, "previous_error", o, "device %s reports an earlier error: %s", mac, d->hs.text);
        o = NULL;
        break;
    case SC_SEND_HS_EV_MALFORMED:
        if (d->malformed_reported++ >= 10)
            break;
        cJSON_AddStringToObject(o, "reason", d->hs.text);
        emit(c, "malformed", o, "device %s: unusable reply ignored: %s", mac, d->hs.text);
        o = NULL;
        break;
    default:
        break; /* repeats and other flows' messages: nothing to report */
    }
    cJSON_Delete(o);
}

static void devices_step(send_ctx_t *c, uint32_t now)
{
    for (uint32_t i = 0; i < c->ndev; i++) {
        dev_t_ *d = &c->dev[i];
        if (d->step != DEV_HANDSHAKE && d->step != DEV_IDENTIFIED)
            continue;
        sc_send_hs_ev_t ev;
        while ((ev = sc_send_hs_step(&d->hs, now)) != SC_SEND_HS_EV_NONE) {
            if (ev == SC_SEND_HS_EV_SEND) {
                sc_err_t err = sc_posix_send_token(&c->net, c->acks.dev[i].src_ip, d->hs.request, d->hs.request_len);
                cJSON *o = dev_json(c, i);
                cJSON_AddNumberToObject(o, "attempt", d->hs.sends);
                cJSON_AddStringToObject(o, "token", c->token_abbrev);
                if (err)
                    cJSON_AddStringToObject(o, "error", "send failed");
                char mac[18];
                fmt_mac(mac, c->acks.dev[i].mac);
                emit(c, "token_sent", o, "device %s: token sent (%u/%u)%s", mac, d->hs.sends,
                     d->hs.timing.max_sends, err ? " - send failed" : "");
            } else if (ev == SC_SEND_HS_EV_NO_RESPONSE) {
                fail_device(c, i, FAIL_DEVICE, "no_response", d->hs.text);
            }
        }
    }
}

static bool dev_done(const send_ctx_t *c, const dev_t_ *d)
{
    switch (c->mode) {
    case MODE_ACK_ONLY: return true;
    case MODE_TOKEN: return d->step == DEV_IDENTIFIED || d->step == DEV_FAILED;
    default: return d->step == DEV_BOUND || d->step == DEV_FAILED;
    }
}

static bool dev_ok(const send_ctx_t *c, const dev_t_ *d)
{
    return c->mode == MODE_ACK_ONLY || (c->mode == MODE_TOKEN ? d->step == DEV_IDENTIFIED : d->step == DEV_BOUND);
}

/* ---------------------------------------------------------------- main loop */

static int run(send_ctx_t *c)
{
    /* the stream was set up before the sockets (its ports); v2 and AirKiss acks are checked by
     * the stream and enter the ack table in the v1 shape with a first byte of 0 */
    sc_send_acks_init(&c->acks, c->proto == SC_PROTO_ESPTOUCH_V1 ? c->stream.ack_token : 0);
    sc_send_poll_init(&c->poll, 2000, 20);
    clock_gettime(CLOCK_MONOTONIC, &c->t0);

    char ip[16], bssid[18], dest[16];
    fmt_ip(ip, c->creds.phone_ip);
    fmt_mac(bssid, c->creds.bssid);
    uint8_t d0[4];
    sc_posix_send_dest(&c->net, 0, d0);
    fmt_ip(dest, d0);
    const char *mode = c->multicast ? "multicast" : c->have_dest ? "unicast" : "broadcast";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ssid", c->ssid_text);
    cJSON_AddNumberToObject(o, "password_len", c->creds.password_len);
    cJSON_AddStringToObject(o, "bssid", bssid);
    cJSON_AddStringToObject(o, "phone_ip", ip);
    cJSON_AddStringToObject(o, "mode", mode);
    cJSON_AddStringToObject(o, "dest", c->multicast ? "234.n.n.n" : dest);
    cJSON_AddNumberToObject(o, "count", c->count);
    cJSON_AddNumberToObject(o, "timeout_ms", c->timeout_ms);
    cJSON_AddNumberToObject(o, "cycle", c->stream.cycle_len);
    cJSON_AddStringToObject(o, "protocol", sc_proto_name(c->proto));
    cJSON_AddStringToObject(o, "flow", c->mode == MODE_CLOUD ? "cloud" : c->mode == MODE_TOKEN ? "token" : "ack-only");
    if (c->mode != MODE_ACK_ONLY)
        cJSON_AddStringToObject(o, "token", c->token_abbrev);
    emit(c, "sending", o, "sending SSID '%s' (password %u bytes) BSSID %s phone %s, %s to %s:%d, %u-datagram cycle",
         c->ssid_text, c->creds.password_len, bssid, ip, mode, c->multicast ? "234.n.n.n" : dest, c->stream.dest_port,
         c->stream.cycle_len);

    c->sending = sc_send_stream_next(&c->stream, 0, &c->next) == SC_OK;
    bool discovering = true, timed_out = false, stop_sending = false;
    uint8_t buf[1500];
    for (;;) {
        if (interrupted)
            break;
        uint32_t now = now_ms(c);
        /* 1. datagrams due */
        /* A stop takes effect at a group boundary: a receiver never sees a torn burst/triplet. */
        if (c->sending && stop_sending && c->next.boundary)
            c->sending = false;
        while (c->sending && (uint64_t)c->next.at_ms * 1000u <= now_us(c)) {
            sc_err_t err = sc_posix_send_datagram(&c->net, c->next.group, c->next.len);
            if (err)
                c->send_errors++;
            else
                c->datagrams++;
            uint32_t sent = now_ms(c);
            if (sc_send_stream_next(&c->stream, sent, &c->next) != SC_OK || (stop_sending && c->next.boundary)) {
                c->sending = false;
                cJSON *e = cJSON_CreateObject();
                cJSON_AddNumberToObject(e, "datagrams", c->datagrams);
                emit(c, "sending_done", e, "sending stopped after %u datagrams", c->datagrams);
            }
        }
        /* 2. inputs */
        uint8_t src[4];
        uint16_t sport;
        size_t len;
        /* Bounded per turn: a flood on either port must not starve the datagram schedule. */
        for (int k = 0; k < 64 && sc_posix_send_recv(c->net.ack_fd, src, &sport, buf, sizeof buf, &len) == SC_OK; k++)
            if (discovering)
                on_ack_datagram(c, now_ms(c), src, buf, len > sizeof buf ? sizeof buf + 1 : len);
        if (c->net.token_fd >= 0)
            for (int k = 0; k < 64 && sc_posix_send_recv(c->net.token_fd, src, &sport, buf, sizeof buf - 1, &len) == SC_OK; k++)
                on_token_datagram(c, now_ms(c), src, buf, len, sizeof buf - 1);
        now = now_ms(c);
        devices_step(c, now);
        cloud_step(c, now);

        /* 3. enough devices found: stop sending (the reference stops at the expected count) */
        if (discovering && c->count > 0 && c->ndev >= (uint32_t)c->count) {
            discovering = false;
            stop_sending = true;
        }
        if (discovering && (int32_t)(now - c->timeout_ms) >= 0) {
            discovering = false;
            stop_sending = true;
            timed_out = c->count == 0 ? c->ndev == 0 : c->ndev < (uint32_t)c->count;
            if (timed_out) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddNumberToObject(e, "found", c->ndev);
                cJSON_AddNumberToObject(e, "expected", c->count);
                cJSON_AddStringToObject(e, "message", "no ack from the device(s): wrong password, device not in "
                                                      "SmartConfig mode, or out of range");
                emit(c, "timeout", e, "timeout: %u of %ld device(s) answered; the others never acked "
                     "(wrong password, device not in SmartConfig mode, or out of range)", c->ndev, c->count);
            }
        }
        bool all_done = true;
        for (uint32_t i = 0; i < c->ndev; i++)
            all_done = all_done && dev_done(c, &c->dev[i]);
        if (!discovering && all_done && !c->sending)
            break;
        progress(c, now);

        /* 4. sleep until the next thing to do */
        uint64_t wake = (uint64_t)(now + 200u) * 1000u;
        if (c->sending && (uint64_t)c->next.at_ms * 1000u < wake)
            wake = (uint64_t)c->next.at_ms * 1000u;
        for (uint32_t i = 0; i < c->ndev; i++) {
            uint32_t dl = sc_send_hs_deadline(&c->dev[i].hs);
            if (dl != UINT32_MAX && (uint64_t)dl * 1000u < wake)
                wake = (uint64_t)dl * 1000u;
        }
        uint32_t pd = sc_send_poll_deadline(&c->poll);
        if (pd != UINT32_MAX && (uint64_t)pd * 1000u < wake)
            wake = (uint64_t)pd * 1000u;
        if (discovering && (uint64_t)c->timeout_ms * 1000u < wake)
            wake = (uint64_t)c->timeout_ms * 1000u;
        if (c->http && sc_posix_http_busy(c->http) && wake > now_us(c) + 5000u)
            wake = now_us(c) + 5000u; /* curl progresses from this loop */
        uint64_t cur = now_us(c);
        struct timespec ts = { 0, 0 };
        if (wake > cur) {
            ts.tv_sec = (time_t)((wake - cur) / 1000000u);
            ts.tv_nsec = (long)((wake - cur) % 1000000u) * 1000;
        }
        struct pollfd pfd[2] = { { c->net.ack_fd, POLLIN, 0 }, { c->net.token_fd, POLLIN, 0 } };
        ppoll(pfd, c->net.token_fd >= 0 ? 2 : 1, &ts, NULL);
    }
    clear_progress(c);

    /* outcome */
    uint32_t ok = 0, dev_fail = 0, cloud_fail = 0;
    cJSON *sum = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(sum, "devices");
    for (uint32_t i = 0; i < c->ndev; i++) {
        const dev_t_ *d = &c->dev[i];
        if (dev_ok(c, d))
            ok++;
        else if (d->fail == FAIL_DEVICE)
            dev_fail++;
        else if (d->fail == FAIL_CLOUD)
            cloud_fail++;
        cJSON *e = dev_json(c, i);
        cJSON_AddStringToObject(e, "state", step_name(d->step));
        if (d->hs.product_id[0]) {
            cJSON_AddStringToObject(e, "productId", d->hs.product_id);
            cJSON_AddStringToObject(e, "deviceName", d->hs.device_name);
        }
        if (d->step == DEV_FAILED)
            cJSON_AddStringToObject(e, "error", d->why);
        cJSON_AddItemToArray(list, e);
        if (!c->json) {
            char mac[18], ip[16];
            fmt_mac(mac, c->acks.dev[i].mac);
            fmt_ip(ip, c->acks.dev[i].src_ip);
            clear_progress(c);
            printf("  device %s %-15s %-10s %s%s%s%s\n", mac, ip, step_name(d->step), d->hs.product_id,
                   d->hs.product_id[0] ? "/" : "", d->hs.device_name, d->step == DEV_FAILED ? d->why : "");
        }
    }
    int rc;
    uint32_t want = c->count > 0 ? (uint32_t)c->count : (c->ndev ? c->ndev : 1);
    if (interrupted)
        rc = 130; /* 128 + SIGINT, as the shell and smartcfg device report it */
    else if (dev_fail)
        rc = SC_EXIT_DEVICE;
    else if (cloud_fail || c->cloud_failed)
        rc = SC_EXIT_CLOUD;
    else if (ok < want)
        rc = SC_EXIT_TIMEOUT;
    else
        rc = SC_EXIT_OK;
    cJSON_AddNumberToObject(sum, "exit", rc);
    cJSON_AddNumberToObject(sum, "datagrams", c->datagrams);
    cJSON_AddNumberToObject(sum, "send_errors", c->send_errors);
    cJSON_AddNumberToObject(sum, "acks_accepted", c->acks.accepted);
    cJSON_AddNumberToObject(sum, "acks_rejected", c->acks.rejected);
    cJSON_AddNumberToObject(sum, "found", c->ndev);
    cJSON_AddNumberToObject(sum, "ok", ok);
    cJSON_AddNumberToObject(sum, "expected", c->count);
    cJSON_AddBoolToObject(sum, "interrupted", interrupted != 0);
    emit(c, "summary", sum, "%u datagrams sent; %u device(s) found, %u done%s", c->datagrams, c->ndev, ok,
         rc == SC_EXIT_OK ? "" : rc == SC_EXIT_TIMEOUT ? " - timeout" : rc == SC_EXIT_DEVICE ? " - device error"
                                                     : rc == SC_EXIT_CLOUD ? " - cloud error" : " - interrupted");
    return rc;
}

int cmd_send(int argc, char **argv)
{
    static send_ctx_t ctx; /* large (encoder, device table): keep it off the stack */
    send_ctx_t *c = &ctx;
    memset(c, 0, sizeof *c);
    int rc = parse_args(c, argc, argv);
    if (rc)
        return rc < 0 ? SC_EXIT_OK : rc;
    rc = complete_from_host(c);
    if (rc)
        return rc;
    c->tty = isatty(STDOUT_FILENO);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (c->proto == SC_PROTO_NONE)
        c->proto = SC_PROTO_ESPTOUCH_V1;
    if ((c->have_key || c->random_iv || c->reserved_len || c->port_mark) && c->proto != SC_PROTO_ESPTOUCH_V2) {
        fprintf(stderr, "smartcfg send: --aes-key, --random-iv, --reserved and --port-mark are ESP-TOUCH v2 options\n");
        return SC_EXIT_USAGE;
    }
    if (c->random_iv && !c->have_key) {
        fprintf(stderr, "smartcfg send: --random-iv needs --aes-key\n");
        return SC_EXIT_USAGE;
    }
    sc_send_extra_t extra;
    memset(&extra, 0, sizeof extra);
    extra.reserved = c->reserved;
    extra.reserved_len = c->reserved_len;
    extra.key = c->have_key ? c->aes_key : NULL;
    extra.random_iv = c->random_iv;
    extra.port_mark = c->port_mark;
    /* the random parts (AirKiss R, v2 IV and padding) need not be secret, only varied */
    struct timespec rs;
    clock_gettime(CLOCK_REALTIME, &rs);
    srand((unsigned)(rs.tv_nsec ^ getpid()));
    extra.random = (uint8_t)(rand() % 127);
    for (unsigned i = 0; i < SC_ET2_IV_WIRE; i++)
        extra.iv[i] = (uint8_t)rand();
    extra.pad = send_pad;
    uint32_t window = c->timeout_ms < 90000u ? c->timeout_ms : 90000u;
    if (sc_send_stream_init(&c->stream, c->proto, &c->creds, &extra, window) != SC_OK) {
        fprintf(stderr, "smartcfg send: these credentials do not fit the %s protocol\n", sc_proto_name(c->proto));
        return SC_EXIT_USAGE;
    }
    memset(c->aes_key, 0, sizeof c->aes_key);

    sc_posix_send_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.dest_port = c->stream.dest_port;
    cfg.ack_port = c->stream.ack_port;
    cfg.iface = c->iface;
    memcpy(cfg.phone_ip, c->creds.phone_ip, 4);
    cfg.mode = c->multicast ? SC_POSIX_DEST_MULTICAST : c->have_dest ? SC_POSIX_DEST_UNICAST : SC_POSIX_DEST_BROADCAST;
    memcpy(cfg.dest, c->dest, 4);
    cfg.token_socket = c->mode != MODE_ACK_ONLY;
    char why[256];
    if (sc_posix_send_open(&c->net, &cfg, why, sizeof why)) {
        fprintf(stderr, "smartcfg send: %s\n", why);
        return SC_EXIT_FAIL;
    }
    if (c->mode == MODE_TOKEN)
        sc_send_abbrev(c->token_arg, c->token_abbrev, sizeof c->token_abbrev);
    if (c->mode == MODE_CLOUD) {
        clock_gettime(CLOCK_MONOTONIC, &c->t0);
        c->http = sc_posix_http_new();
        if (!c->http) {
            fprintf(stderr, "smartcfg send: cannot set up the HTTP client\n");
            sc_posix_send_close(&c->net);
            return SC_EXIT_FAIL;
        }
        rc = create_token(c);
        if (rc) {
            sc_posix_http_free(c->http);
            sc_posix_send_close(&c->net);
            return rc;
        }
    }
    rc = run(c);
    sc_posix_http_free(c->http);
    sc_posix_send_close(&c->net);
    memset(c->creds.password, 0, sizeof c->creds.password);
    memset(c->token, 0, sizeof c->token);
    return rc;
}
