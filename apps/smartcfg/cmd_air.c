/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg air: writes the radiotap capture a sniffer would record while a phone runs the
 * reference ESP-TOUCH v1, ESP-TOUCH v2 or AirKiss sender (src/sim/air.c), optionally with a second phone on the same
 * channel (different credentials, or spoofed bad-FCS frames) for negative tests. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include <cjson/cJSON.h>

#include "sc_pcap.h"
#include "sc_posix_event.h"
#include "sc_posix_netif.h"
#include "smartcfg/air.h"

static void air_usage(const sc_cli_t *cli, FILE *f)
{
    (void)cli;
    fprintf(f,
            "usage: smartcfg air [options] FILE.pcap      (- writes the capture to stdout)\n"
            "Writes an 802.11+radiotap capture of a phone running a reference sender.\n\n"
            "protocol:\n"
            "  --protocol v1|v2|airkiss   the reference sender, with its timing (v1)\n"
            "  --aes-key KEY      v2: encrypt password+reserved with this 16-character key\n"
            "  --random-iv        v2: AES with a random IV (security 2) instead of a zero IV\n"
            "  --reserved DATA | --reserved-hex HEX   v2 reserved (custom) data, 0..64 bytes\n"
            "  --port-mark N      v2: which of the phone's ports 18266+10000*N gets the ack (0)\n"
            "  --random N         AirKiss: the random byte (0..255, default 66)\n"
            "credentials (default: vector A, TP-LINK_2.4G / 12345678):\n"
            "  --ssid SSID | --ssid-hex HEX       SSID (1..32 bytes)\n"
            "  --password PASSWORD | --password-hex HEX   password (0..64 bytes; ssid+password <= 113)\n"
            "  --bssid MAC        AP BSSID (00:11:22:33:44:55)\n"
            "  --ip ADDR          phone IPv4 (192.168.1.100)\n"
            "  --phone-mac MAC    phone MAC (3c:28:6d:12:34:56)\n"
            "air:\n"
            "  --channel CHANNEL  1..14, or 5 GHz 36..64, 100..144, 149..177 in steps of 4 (6)\n"
            "  --cipher open|wep|tkip|ccmp|gcmp   pairwise cipher of the uplink (ccmp)\n"
            "  --group-cipher open|wep|tkip|ccmp|gcmp   group cipher of the AP relay (default: the\n"
            "                     pairwise cipher)\n"
            "  --fcs | --no-fcs   lengths include the 4-byte FCS (default --fcs)\n"
            "  --no-qos           uplink as plain Data instead of QoS Data\n"
            "  --downlink-qos     AP relay as QoS Data\n"
            "  --uplink-only | --downlink-only\n"
            "  --multicast        send to 234.n.n.n instead of broadcast\n"
            "  --loss PROB        per-frame loss probability 0..1 (or N%%)\n"
            "  --retry PROB       probability an uplink frame is retried 0..1 (or N%%)\n"
            "  --foreign N        foreign frames per ESP-TOUCH datagram (0)\n"
            "  --dtim MS          AP buffers relays until a DTIM beacon every MS ms (0 = off)\n"
            "  --multi-bssid      the AP relays each datagram again from a second BSSID (BSSID + 1)\n"
            "  --ht-control       the phone's QoS frames carry an HT Control field (+4 bytes)\n"
            "  --amsdu            the phone's QoS frames are one-subframe A-MSDUs (+14 bytes)\n"
            "  --radiotap-ext     radiotap as multi-antenna cards write it (chained present words)\n"
            "  --start MS         capture starts MS ms after the sender's first datagram (0)\n"
            "  --duration MS      capture length (default: until the sender stops)\n"
            "  --seed N           PRNG seed (1)\n"
            "second phone on the same channel (any --second-* option enables it):\n"
            "  --second-ssid SSID, --second-password PASSWORD, --second-password-hex HEX,\n"
            "  --second-ip ADDR (192.168.1.101), --second-phone-mac MAC (phone MAC ^ 1)\n"
            "  --second-bad-fcs   the second phone's frames are all bad-FCS receptions (spoofing)\n"
            "  --second-protocol v1|v2|airkiss   the second phone runs this sender (default: the first's)\n"
            "  --json             print the summary as one JSON line (docs/json.md)\n"
            "  -h, --help         this text;  --version  the version\n"
            "exit: 0 written, 1 cannot write FILE.pcap, 2 usage error\n\n"
            "examples:\n"
            "  # vector A on channel 6, then decode it\n"
            "  smartcfg air session.pcap && smartcfg decode session.pcap\n"
            "  # a lossy air with a second phone sending other credentials\n"
            "  smartcfg air --ssid MyAP --password secret123 --loss 20%% --second-ssid Other --second-password pw2 two.pcap\n");
}

static int parse_hex(const char *s, uint8_t *out, size_t max, uint8_t *len)
{
    int n = sc_posix_parse_hex(s, out, max);
    if (n < 0)
        return -1;
    *len = (uint8_t)n;
    return 0;
}

static int parse_text(const char *s, uint8_t *out, size_t max, uint8_t *len)
{
    size_t n = strlen(s);
    if (n > max)
        return -1;
    memcpy(out, s, n);
    *len = (uint8_t)n;
    return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (v[i] > 255)
            return -1;
        mac[i] = (uint8_t)v[i];
    }
    return 0;
}

static int parse_ip(const char *s, uint8_t ip[4])
{
    unsigned v[4];
    char tail;
    if (sscanf(s, "%u.%u.%u.%u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (v[i] > 255)
            return -1;
        ip[i] = (uint8_t)v[i];
    }
    return 0;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_prob(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    if (*end == '%') {
        v /= 100.0;
        end++;
    }
    if (*end || !(v >= 0.0 && v <= 1.0))
        return -1;
    *out = v;
    return 0;
}

static int parse_cipher(const char *s, sc_cipher_t *c)
{
    static const char *names[] = { "open", "wep", "tkip", "ccmp", "gcmp" };
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) {
            *c = (sc_cipher_t)i;
            return 0;
        }
    return -1;
}

enum {
    O_SSID = 256, O_SSID_HEX, O_PWD, O_PWD_HEX, O_BSSID, O_IP, O_PHONE, O_CHANNEL, O_CIPHER, O_GCIPHER,
    O_FCS, O_NOFCS, O_NOQOS, O_DOWNQOS, O_UPONLY, O_DOWNONLY, O_MCAST, O_LOSS, O_RETRY, O_FOREIGN,
    O_DTIM, O_MBSS, O_START, O_DURATION, O_SEED, O_2SSID, O_2PWD, O_2PWD_HEX, O_2IP, O_2PHONE, O_2BADFCS,
    O_PROTO, O_AESKEY, O_RANDIV, O_RES, O_RES_HEX, O_PORTMARK, O_RANDOM, O_HTC, O_AMSDU, O_2PROTO, O_RTEXT, O_JSON
};

static const struct option air_opts[] = {
    { "ssid", required_argument, NULL, O_SSID }, { "ssid-hex", required_argument, NULL, O_SSID_HEX },
    { "password", required_argument, NULL, O_PWD }, { "password-hex", required_argument, NULL, O_PWD_HEX },
    { "bssid", required_argument, NULL, O_BSSID }, { "ip", required_argument, NULL, O_IP },
    { "phone-mac", required_argument, NULL, O_PHONE }, { "channel", required_argument, NULL, O_CHANNEL },
    { "cipher", required_argument, NULL, O_CIPHER }, { "group-cipher", required_argument, NULL, O_GCIPHER },
    { "fcs", no_argument, NULL, O_FCS }, { "no-fcs", no_argument, NULL, O_NOFCS },
    { "no-qos", no_argument, NULL, O_NOQOS }, { "downlink-qos", no_argument, NULL, O_DOWNQOS },
    { "uplink-only", no_argument, NULL, O_UPONLY }, { "downlink-only", no_argument, NULL, O_DOWNONLY },
    { "multicast", no_argument, NULL, O_MCAST }, { "loss", required_argument, NULL, O_LOSS },
    { "retry", required_argument, NULL, O_RETRY }, { "foreign", required_argument, NULL, O_FOREIGN },
    { "dtim", required_argument, NULL, O_DTIM }, { "multi-bssid", no_argument, NULL, O_MBSS }, { "start", required_argument, NULL, O_START },
    { "duration", required_argument, NULL, O_DURATION }, { "seed", required_argument, NULL, O_SEED },
    { "second-ssid", required_argument, NULL, O_2SSID }, { "second-password", required_argument, NULL, O_2PWD },
    { "second-password-hex", required_argument, NULL, O_2PWD_HEX }, { "second-ip", required_argument, NULL, O_2IP },
    { "second-phone-mac", required_argument, NULL, O_2PHONE },
    { "second-bad-fcs", no_argument, NULL, O_2BADFCS }, SC_CLI_STD_OPTIONS,
    { "protocol", required_argument, NULL, O_PROTO }, { "aes-key", required_argument, NULL, O_AESKEY },
    { "random-iv", no_argument, NULL, O_RANDIV }, { "reserved", required_argument, NULL, O_RES },
    { "reserved-hex", required_argument, NULL, O_RES_HEX }, { "port-mark", required_argument, NULL, O_PORTMARK },
    { "random", required_argument, NULL, O_RANDOM }, { "ht-control", no_argument, NULL, O_HTC },
    { "amsdu", no_argument, NULL, O_AMSDU }, { "radiotap-ext", no_argument, NULL, O_RTEXT }, { "second-protocol", required_argument, NULL, O_2PROTO },
    { "json", no_argument, NULL, O_JSON },
    { NULL, 0, NULL, 0 }
};

static sc_cli_t air_cli;

/* val NULL: a secret, not shown (cli.h sc_cli_bad_value) */
static int usage_err(const char *opt, const char *val, const char *want)
{
    return sc_cli_bad_value(&air_cli, opt, val, "%s", want);
}

static sc_air_t air_main, air_second; /* 32 KiB each */

static int parse_proto(const char *s, sc_air_proto_t *p)
{
    if (!strcmp(s, "v1") || !strcmp(s, "esptouch-v1"))
        *p = SC_AIR_PROTO_V1;
    else if (!strcmp(s, "v2") || !strcmp(s, "esptouch-v2"))
        *p = SC_AIR_PROTO_V2;
    else if (!strcmp(s, "airkiss"))
        *p = SC_AIR_PROTO_AIRKISS;
    else
        return -1;
    return 0;
}

int cmd_air(int argc, char **argv)
{
    sc_air_config_t c, c2;
    sc_air_config_default(&c);
    int group_set = 0, second = 0;
    bool json = false;
    int ssid2_set = 0, pwd2_set = 0, ip2_set = 0, phone2_set = 0, bad2 = 0;
    uint8_t ssid2[SC_SSID_MAX], pwd2[SC_PASSWORD_MAX], ssid2_len = 0, pwd2_len = 0, ip2[4], phone2[6];
    uint32_t u;
    int have_key = 0, random_iv = 0, proto2_set = 0;
    unsigned wflags = 0;
    sc_air_proto_t proto2 = SC_AIR_PROTO_V1;
    c.ak_random = 66;
    sc_cli_init(&air_cli, "smartcfg air", air_usage, NULL, argc, argv);
    air_cli.longopts = air_opts;
    optind = 1;
    opterr = 0;
    for (;;) {
        int o = getopt_long(argc, argv, SC_CLI_SHORTOPTS, air_opts, NULL);
        if (o == -1)
            break;
        int std = sc_cli_std_option(&air_cli, o, argv);
        if (std >= 0)
            return std;
        const char *a = optarg;
        switch (o) {
        case O_SSID:
            if (parse_text(a, c.creds.ssid, SC_SSID_MAX, &c.creds.ssid_len))
                return usage_err("--ssid", a, "0..32 bytes");
            break;
        case O_SSID_HEX:
            if (parse_hex(a, c.creds.ssid, SC_SSID_MAX, &c.creds.ssid_len))
                return usage_err("--ssid-hex", a, "hex digits for 0..32 bytes");
            break;
        case O_PWD:
            if (parse_text(a, c.creds.password, SC_PASSWORD_MAX, &c.creds.password_len))
                return usage_err("--password", NULL, "0..64 bytes");
            break;
        case O_PWD_HEX:
            if (parse_hex(a, c.creds.password, SC_PASSWORD_MAX, &c.creds.password_len))
                return usage_err("--password-hex", NULL, "hex digits for 0..64 bytes");
            break;
        case O_BSSID:
            if (parse_mac(a, c.creds.bssid))
                return usage_err("--bssid", a, "a MAC address like aa:bb:cc:dd:ee:ff");
            break;
        case O_IP:
            if (parse_ip(a, c.creds.phone_ip))
                return usage_err("--ip", a, "an IPv4 address like 192.168.1.100");
            break;
        case O_PHONE:
            if (parse_mac(a, c.phone_mac))
                return usage_err("--phone-mac", a, "a MAC address like aa:bb:cc:dd:ee:ff");
            break;
        case O_CHANNEL:
            /* a channel APs use (the receiver's own list check): radiotap names each by its
             * frequency and the reader maps it back */
            if (sc_cli_channel(&air_cli, "--channel", a, false, &c.channel))
                return SC_EXIT_USAGE;
            break;
        case O_CIPHER:
            if (parse_cipher(a, &c.pairwise))
                return usage_err("--cipher", a, "one of open, wep, tkip, ccmp, gcmp");
            break;
        case O_GCIPHER:
            if (parse_cipher(a, &c.group))
                return usage_err("--group-cipher", a, "one of open, wep, tkip, ccmp, gcmp");
            group_set = 1;
            break;
        case O_FCS: c.fcs = 1; break;
        case O_NOFCS: c.fcs = 0; break;
        case O_NOQOS: c.uplink_qos = 0; break;
        case O_DOWNQOS: c.downlink_qos = 1; break;
        case O_UPONLY: c.uplink = 1; c.downlink = 0; break;
        case O_DOWNONLY: c.uplink = 0; c.downlink = 1; break;
        case O_MCAST: c.multicast = 1; break;
        case O_LOSS:
            if (parse_prob(a, &c.loss))
                return usage_err("--loss", a, "a probability in 0..1, or a percentage in 0..100%");
            break;
        case O_RETRY:
            if (parse_prob(a, &c.retry) || c.retry >= 1.0)
                return usage_err("--retry", a, "a probability in 0..1 (below 1), or a percentage below 100%");
            break;
        case O_FOREIGN: {
            char *end;
            c.foreign = strtod(a, &end);
            if (end == a || *end || !(c.foreign >= 0.0 && c.foreign <= 50.0))
                return usage_err("--foreign", a, "a number of frames per datagram in 0..50");
            break;
        }
        case O_DTIM:
            if (parse_u32(a, 1000, &c.dtim_ms))
                return usage_err("--dtim", a, "a whole number of milliseconds in 0..1000");
            break;
        case O_MBSS: c.multi_bssid = 1; break;
        case O_START:
            if (parse_u32(a, 90000, &c.start_ms))
                return usage_err("--start", a, "a whole number of milliseconds in 0..90000");
            break;
        case O_DURATION:
            if (parse_u32(a, 3600000, &c.duration_ms) || c.duration_ms == 0)
                return usage_err("--duration", a, "a whole number of milliseconds in 1..3600000");
            break;
        case O_SEED:
            if (parse_u32(a, UINT32_MAX, &c.seed))
                return usage_err("--seed", a, "a whole number in 0..4294967295");
            break;
        case O_2SSID:
            if (parse_text(a, ssid2, SC_SSID_MAX, &ssid2_len))
                return usage_err("--second-ssid", a, "0..32 bytes");
            ssid2_set = second = 1;
            break;
        case O_2PWD:
            if (parse_text(a, pwd2, SC_PASSWORD_MAX, &pwd2_len))
                return usage_err("--second-password", NULL, "0..64 bytes");
            pwd2_set = second = 1;
            break;
        case O_2PWD_HEX:
            if (parse_hex(a, pwd2, SC_PASSWORD_MAX, &pwd2_len))
                return usage_err("--second-password-hex", NULL, "hex digits for 0..64 bytes");
            pwd2_set = second = 1;
            break;
        case O_2IP:
            if (parse_ip(a, ip2))
                return usage_err("--second-ip", a, "an IPv4 address like 192.168.1.100");
            ip2_set = second = 1;
            break;
        case O_2PHONE:
            if (parse_mac(a, phone2))
                return usage_err("--second-phone-mac", a, "a MAC address like aa:bb:cc:dd:ee:ff");
            phone2_set = second = 1;
            break;
        case O_2BADFCS:
            bad2 = second = 1;
            break;
        case O_PROTO:
            if (parse_proto(a, &c.protocol))
                return usage_err("--protocol", a, "one of v1, v2, airkiss");
            break;
        case O_2PROTO:
            if (parse_proto(a, &proto2))
                return usage_err("--second-protocol", a, "one of v1, v2, airkiss");
            proto2_set = second = 1;
            break;
        case O_AESKEY:
            if (strlen(a) != SC_ET2_KEY_LEN)
                return usage_err("--aes-key", NULL, "16 characters");
            memcpy(c.v2_key, a, SC_ET2_KEY_LEN);
            have_key = 1;
            break;
        case O_RANDIV: random_iv = 1; break;
        case O_RES:
            if (parse_text(a, c.reserved, SC_ET2_RESERVED_MAX, &c.reserved_len))
                return usage_err("--reserved", a, "0..64 bytes");
            break;
        case O_RES_HEX:
            if (parse_hex(a, c.reserved, SC_ET2_RESERVED_MAX, &c.reserved_len))
                return usage_err("--reserved-hex", a, "hex digits for 0..64 bytes");
            break;
        case O_PORTMARK:
            if (parse_u32(a, 3, &u))
                return usage_err("--port-mark", a, "a whole number in 0..3");
            c.v2_port_mark = (uint8_t)u;
            break;
        case O_RANDOM:
            if (parse_u32(a, 255, &u))
                return usage_err("--random", a, "a whole number in 0..255");
            c.ak_random = (uint8_t)u;
            break;
        case O_HTC: c.ht_control = 1; break;
        case O_AMSDU: c.amsdu = 1; break;
        case O_RTEXT: wflags = SC_PCAP_W_EXT; break;
        case O_JSON: json = true; break;
        default:
            return sc_cli_usage_error(&air_cli, "unknown option '%s'", argv[optind - 1]);
        }
    }
    /* said apart: "exactly one output file expected" left open which was wrong */
    if (optind == argc)
        return sc_cli_usage_error(&air_cli, "which file? (give FILE.pcap, or - for stdout)");
    if (optind != argc - 1)
        return sc_cli_usage_error(&air_cli, "one output file only: '%s' is a second", argv[optind + 1]);
    const char *out = argv[optind];
    if (!out[0])
        return sc_cli_usage_error(&air_cli, "the output file name is empty (want FILE.pcap, or - for stdout)");
    /* "-": the capture on stdout, the summary on stderr (it was printed after the capture) */
    const bool to_stdout = !strcmp(out, "-");
    if (to_stdout && json)
        return sc_cli_usage_error(&air_cli, "--json and - both want stdout: - writes the capture there "
                                            "(give a file name, or leave --json out)");
    FILE *summary = to_stdout ? stderr : stdout;
    if (!group_set)
        c.group = c.pairwise;
    int v2rc = sc_cli_v2_options(&air_cli, c.protocol == SC_AIR_PROTO_V2, have_key, random_iv,
                                 c.reserved_len || c.v2_port_mark, c.creds.password, c.creds.password_len);
    if (v2rc)
        return v2rc;
    c.v2_security = (uint8_t)(have_key ? (random_iv ? 2 : 1) : 0);
    if (sc_et_creds_check(&c.creds) != SC_OK) {
        return sc_cli_usage_error(&air_cli, "SSID must be 1..32 bytes, password 0..64, together at most 113");
    }
    sc_err_t err = sc_air_init(&air_main, &c);
    if (err) {
        return sc_cli_usage_error(&air_cli, "invalid configuration: %s", sc_strerror(err));
    }
    if (second) {
        c2 = c;
        c2.seed = c.seed ^ 0x5EC0u; /* independent timing and loss draws */
        if (ssid2_set) {
            memcpy(c2.creds.ssid, ssid2, ssid2_len);
            c2.creds.ssid_len = ssid2_len;
        }
        if (pwd2_set) {
            memcpy(c2.creds.password, pwd2, pwd2_len);
            c2.creds.password_len = pwd2_len;
        }
        if (ip2_set)
            memcpy(c2.creds.phone_ip, ip2, 4);
        else
            c2.creds.phone_ip[3] = (uint8_t)(c.creds.phone_ip[3] + 1);
        if (phone2_set)
            memcpy(c2.phone_mac, phone2, 6);
        else
            c2.phone_mac[5] ^= 1;
        c2.bad_fcs = (uint8_t)bad2;
        if (proto2_set)
            c2.protocol = proto2;
        c2.ak_random = (uint8_t)(c.ak_random ^ 0x5A);
        c2.foreign = 0; /* the channel's foreign traffic is already in the first run */
        if (sc_et_creds_check(&c2.creds) != SC_OK || sc_air_init(&air_second, &c2) != SC_OK) {
            return sc_cli_usage_error(&air_cli, "second sender: SSID 1..32 bytes, password 0..64, together at most 113");
        }
    }

    char eb[512];
    sc_pcap_writer_t *w = sc_pcap_writer_open(out, eb, sizeof eb);
    if (!w) {
        return sc_cli_fail(&air_cli, SC_EXIT_FAIL, "%s", eb);
    }
    /* Merge the two phones' frames in air order. */
    sc_frame_t fa, fb;
    unsigned fla = 0, flb = 0;
    uint32_t ta = 0, tb = 0, last_t = 0;
    int ha = sc_air_next_ex(&air_main, &fa, &ta, &fla) == SC_OK;
    int hb = second && sc_air_next_ex(&air_second, &fb, &tb, &flb) == SC_OK;
    unsigned long n = 0;
    int rc = SC_OK;
    while ((ha || hb) && rc == SC_OK) {
        if (ha && (!hb || fa.ts_us <= fb.ts_us)) {
            rc = sc_pcap_write_ex(w, &fa, wflags | (fla & SC_AIR_F_BADFCS ? SC_PCAP_W_BADFCS : 0u));
            last_t = ta;
            ha = sc_air_next_ex(&air_main, &fa, &ta, &fla) == SC_OK;
        } else {
            rc = sc_pcap_write_ex(w, &fb, wflags | (flb & SC_AIR_F_BADFCS ? SC_PCAP_W_BADFCS : 0u));
            last_t = tb > last_t ? tb : last_t;
            hb = sc_air_next_ex(&air_second, &fb, &tb, &flb) == SC_OK;
        }
        n++;
    }
    int werr = 0;
    int crc = sc_pcap_writer_close_err(w, &werr);
    if (rc != SC_OK || crc != SC_OK) {
        return sc_cli_fail(&air_cli, SC_EXIT_FAIL, "%s: write failed (%s)", out,
                           werr ? strerror(werr) : sc_strerror(rc ? rc : crc));
    }
    uint32_t fl = sc_air_floor_ms(&c);
    if (json) {
        /* docs/json.md: one summary line per capture written */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", out);
        cJSON_AddStringToObject(o, "protocol", c.protocol == SC_AIR_PROTO_V1   ? "esptouch-v1"
                                               : c.protocol == SC_AIR_PROTO_V2 ? "esptouch-v2"
                                                                               : "airkiss");
        cJSON_AddNumberToObject(o, "frames", (double)n);
        cJSON_AddNumberToObject(o, "air_ms", last_t);
        if (c.protocol == SC_AIR_PROTO_V1 && fl != UINT32_MAX)
            cJSON_AddNumberToObject(o, "floor_ms", fl);
        cJSON_AddBoolToObject(o, "second_phone", second != 0);
        sc_posix_event("capture", sc_posix_event_ms(), o);
    } else {
        char name[512];   /* the file's name on the terminal: no control character (sc_cli_shown) */
        sc_cli_shown(out, name, sizeof name);
        if (c.protocol != SC_AIR_PROTO_V1)
            fprintf(summary, "%s: %lu frames, %u ms of air\n", name, n, last_t);
        else if (fl == UINT32_MAX)
            fprintf(summary, "%s: %lu frames, %u ms of air; the data cycle is never complete in this window\n", name,
                    n, last_t);
        else
            fprintf(summary, "%s: %lu frames, %u ms of air; floor %u ms\n", name, n, last_t, fl);
    }
    return SC_EXIT_OK;
}
