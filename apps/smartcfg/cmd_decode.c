/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg decode: runs capture files through the pcap reader into the receiver front
 * (ESP-TOUCH v1, ESP-TOUCH v2 and AirKiss at once) and prints every session found (credentials included: this is a debugging tool for the user's
 * own captures). After each result the receiver resumes with the other phones' sessions, so
 * every sender in a capture is found; identical results within one file are printed once. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "sc_pcap.h"
#include "smartcfg/receiver.h"

#define DECODE_MAX_RESULTS 64 /* distinct sessions remembered per file for deduplication */

static void decode_usage(const sc_cli_t *cli, FILE *f)
{
    (void)cli;
    fprintf(f,
            "usage: smartcfg decode [--json] [--aes-key KEY] [--protocols LIST] FILE...\n"
            "Decodes every ESP-TOUCH v1, ESP-TOUCH v2 and AirKiss session in pcap/pcapng captures\n"
            "(802.11+radiotap, plain 802.11 or Ethernet) and prints the credentials, one line per\n"
            "distinct result.\n\n"
            "  --json           one JSON object per line: file, protocol (esptouch-v1, esptouch-v2,\n"
            "                   airkiss), ssid, ssid_hex, password, password_hex, bssid, phone_ip,\n"
            "                   reserved_hex, random, version, channel, offset, time; null where the\n"
            "                   protocol carries no such field\n"
            "  --aes-key KEY    the 16-character device key of encrypted ESP-TOUCH v2 sessions; without\n"
            "                   it (or with a wrong one) their password is null, never guessed\n"
            "  --protocols LIST v1,v2,airkiss (default: all three)\n"
            "Text fields print valid UTF-8 as is; other bytes and control characters as \\xHH and\n"
            "a backslash as \\\\ (the _hex fields are always exact).\n"
            "  -h, --help       this text;  --version  the version\n"
            "exit: 0 every file gave a result, 1 a file could not be read, 2 usage error,\n"
            "      3 some readable file gave no result\n\n"
            "examples:\n"
            "  smartcfg air session.pcap && smartcfg decode session.pcap\n"
            "  smartcfg decode --json --protocols v2 --aes-key 0123456789abcdef a.pcap b.pcapng\n");
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid. Rejects overlongs,
 * surrogates and code points above U+10FFFF. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Unambiguous text form of raw octets; out needs 4*n+1 bytes. quote: also escape '"'. */
static void text_escape(const uint8_t *p, size_t n, int quote, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 1 && p[i] >= 0x20 && p[i] < 0x7F) {
            if (p[i] == '\\' || (quote && p[i] == '"'))
                out[o++] = '\\';
            out[o++] = (char)p[i++];
        } else if (k > 1) {
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[p[i] >> 4];
            out[o++] = hex[p[i] & 15];
            i++;
        }
    }
    out[o] = 0;
}

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = 0;
}

static const char *version_name(sc_proto_t p)
{
    return p == SC_PROTO_ESPTOUCH_V1 ? "v1" : p == SC_PROTO_ESPTOUCH_V2 ? "v2" : "airkiss";
}

static void print_result(const char *file, const sc_rx_result_t *r, uint64_t ts_us, int json)
{
    char ssid[4 * SC_SSID_MAX + 1], pwd[4 * SC_PASSWORD_MAX + 1], res[4 * SC_ET2_RESERVED_MAX + 1];
    char ssid_hex[2 * SC_SSID_MAX + 1], pwd_hex[2 * SC_PASSWORD_MAX + 1], res_hex[2 * SC_ET2_RESERVED_MAX + 1];
    char bssid[18], ip[16], ts[32];
    text_escape(r->ssid, r->ssid_len, !json, ssid);
    text_escape(r->password, r->password_len, !json, pwd);
    text_escape(r->reserved, r->reserved_len, !json, res);
    to_hex(r->ssid, r->ssid_len, ssid_hex);
    to_hex(r->password, r->password_len, pwd_hex);
    to_hex(r->reserved, r->reserved_len, res_hex);
    snprintf(bssid, sizeof bssid, "%02x:%02x:%02x:%02x:%02x:%02x", r->bssid[0], r->bssid[1], r->bssid[2],
             r->bssid[3], r->bssid[4], r->bssid[5]);
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", r->phone_ip[0], r->phone_ip[1], r->phone_ip[2], r->phone_ip[3]);
    /* seconds.microseconds written exactly: a double would round a 16-digit timestamp */
    snprintf(ts, sizeof ts, "%llu.%06llu", (unsigned long long)(ts_us / 1000000u),
             (unsigned long long)(ts_us % 1000000u));
    const int is_v2 = r->proto == SC_PROTO_ESPTOUCH_V2, is_ak = r->proto == SC_PROTO_AIRKISS;
    if (!json) {
        printf("%s: protocol %s ssid \"%s\"", file, sc_proto_name(r->proto), ssid);
        if (r->password_known)
            printf(" password \"%s\"", pwd);
        else
            printf(" password unknown (encrypted; give --aes-key)");
        printf(" bssid %s phone_ip %s", r->has_bssid ? bssid : "none", r->has_phone_ip ? ip : "none");
        if (is_v2 && r->password_known)
            printf(" reserved \"%s\"", res);
        if (is_ak)
            printf(" random %u", r->random);
        printf(" version %s channel %u offset %u time %s\n", version_name(r->proto), r->channel, r->offset, ts);
        fflush(stdout);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "file", file);
    cJSON_AddStringToObject(o, "protocol", sc_proto_name(r->proto));
    cJSON_AddStringToObject(o, "ssid", ssid);
    cJSON_AddStringToObject(o, "ssid_hex", ssid_hex);
    if (r->password_known) {
        cJSON_AddStringToObject(o, "password", pwd);
        cJSON_AddStringToObject(o, "password_hex", pwd_hex);
    } else {
        cJSON_AddNullToObject(o, "password");
        cJSON_AddNullToObject(o, "password_hex");
    }
    if (r->has_bssid)
        cJSON_AddStringToObject(o, "bssid", bssid);
    else
        cJSON_AddNullToObject(o, "bssid");
    if (r->has_phone_ip)
        cJSON_AddStringToObject(o, "phone_ip", ip);
    else
        cJSON_AddNullToObject(o, "phone_ip");
    if (is_v2 && r->password_known)
        cJSON_AddStringToObject(o, "reserved_hex", res_hex);
    else
        cJSON_AddNullToObject(o, "reserved_hex"); /* not v2, or encrypted with the password */
    if (is_ak)
        cJSON_AddNumberToObject(o, "random", r->random);
    else
        cJSON_AddNullToObject(o, "random");
    cJSON_AddStringToObject(o, "version", version_name(r->proto));
    cJSON_AddNumberToObject(o, "channel", r->channel);
    cJSON_AddNumberToObject(o, "offset", r->offset);
    cJSON_AddRawToObject(o, "time", ts);
    char *str = cJSON_PrintUnformatted(o);
    if (str) {
        printf("%s\n", str);
        cJSON_free(str);
    }
    cJSON_Delete(o);
    fflush(stdout);
}

static int same_result(const sc_rx_result_t *a, const sc_rx_result_t *b)
{
    return a->proto == b->proto && a->ssid_len == b->ssid_len && a->password_len == b->password_len &&
           a->password_known == b->password_known && a->reserved_len == b->reserved_len &&
           !memcmp(a->ssid, b->ssid, a->ssid_len) && !memcmp(a->password, b->password, a->password_len) &&
           !memcmp(a->reserved, b->reserved, a->reserved_len) && a->has_bssid == b->has_bssid &&
           (!a->has_bssid || !memcmp(a->bssid, b->bssid, 6)) && !memcmp(a->phone_ip, b->phone_ip, 4) &&
           a->random == b->random;
}

enum { FILE_OK = 0, FILE_BAD = 1, FILE_EMPTY = 3 };

static sc_receiver_t rx;
static sc_rx_result_t seen[DECODE_MAX_RESULTS];
static unsigned protocols = SC_PROTO_ALL;
static uint8_t aes_key[16];
static int have_key;

static int decode_file(const char *path, int json)
{
    char eb[512];
    sc_pcap_src_t *src = sc_pcap_open_file(path, eb, sizeof eb);
    if (!src) {
        fprintf(stderr, "smartcfg decode: %s\n", eb);
        return FILE_BAD;
    }
    sc_err_t err = sc_receiver_init(&rx, protocols);
    if (!err && have_key)
        sc_receiver_set_v2_key(&rx, aes_key);
    if (err) {
        fprintf(stderr, "smartcfg decode: receiver: %s\n", sc_strerror(err));
        sc_pcap_close(src);
        return FILE_BAD;
    }
    size_t nseen = 0;
    unsigned long results = 0;
    uint64_t first_us = 0, last_us = 0;
    uint32_t now = 0, last_tick = 0;
    int have_first = 0, status = FILE_OK;
    sc_frame_t f;
    int rc;
    while ((rc = sc_pcap_next(src, &f)) > 0) {
        /* The receiver wants a monotonic clock: capture time relative to the first frame,
         * never going backwards when a capture's timestamps do. */
        if (!have_first) {
            first_us = last_us = f.ts_us;
            have_first = 1;
        }
        if (f.ts_us > last_us)
            last_us = f.ts_us;
        uint64_t rel = (last_us - first_us) / 1000u;
        now = rel > UINT32_MAX ? UINT32_MAX : (uint32_t)rel;
        sc_rx_event_t ev;
        if (now - last_tick >= 100) {
            sc_receiver_tick(&rx, now);
            last_tick = now;
        }
        if (sc_receiver_feed(&rx, &f, now, &ev) != SC_ET_EV_DONE)
            continue;
        int dup = 0;
        for (size_t i = 0; i < nseen; i++)
            dup |= same_result(&seen[i], &ev.result);
        if (!dup) {
            if (nseen < DECODE_MAX_RESULTS)
                seen[nseen++] = ev.result;
            print_result(path, &ev.result, f.ts_us, json);
            results++;
        }
        /* Forget only the phone that finished: a reset would drop the other phones' progress
         * and, in a capture with two senders, the shorter datum would win every time. */
        sc_receiver_resume(&rx);
    }
    if (rc < 0) {
        fprintf(stderr, "smartcfg decode: %s: %s\n", path, sc_pcap_error(src));
        status = FILE_BAD;
    } else if (sc_pcap_skipped(src)) {
        const char *why = sc_pcap_error(src);
        fprintf(stderr, "smartcfg decode: %s: %lu record(s) skipped (short, malformed radiotap or bad FCS)%s%s\n",
                path, sc_pcap_skipped(src), why[0] ? "; last: " : "", why);
    }
    if (status == FILE_OK && results == 0) {
        fprintf(stderr, "smartcfg decode: %s: no ESP-TOUCH or AirKiss session decoded\n", path);
        status = FILE_EMPTY;
    }
    sc_pcap_close(src);
    return status;
}

int cmd_decode(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "aes-key", required_argument, NULL, 'k' },
        { "protocols", required_argument, NULL, 'p' },
        SC_CLI_STD_OPTIONS,
        { NULL, 0, NULL, 0 }
    };
    sc_cli_t cli;
    sc_cli_init(&cli, "smartcfg decode", decode_usage, NULL, argc, argv);
    int json = 0;
    optind = 1;
    opterr = 0;
    for (;;) {
        int o = getopt_long(argc, argv, SC_CLI_SHORTOPTS "jk:p:", opts, NULL);
        if (o == -1)
            break;
        int std = sc_cli_std_option(&cli, o, argv);
        if (std >= 0)
            return std;
        if (o == 'j') {
            json = 1;
            continue;
        }
        if (o == 'k') {
            if (strlen(optarg) != sizeof aes_key) {
                return sc_cli_usage_error(&cli, "--aes-key must be exactly 16 characters");
            }
            memcpy(aes_key, optarg, sizeof aes_key);
            have_key = 1;
            continue;
        }
        if (o == 'p') {
            if (sc_proto_parse(optarg, &protocols) != SC_OK) {
                return sc_cli_usage_error(&cli, "bad --protocols '%s': expected a list of v1, v2, airkiss", optarg);
            }
            continue;
        }
        return sc_cli_usage_error(&cli, "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc)
        return sc_cli_usage_error(&cli, "no capture file given");
    int bad = 0, empty = 0;
    for (int i = optind; i < argc; i++) {
        int st = decode_file(argv[i], json);
        bad |= st == FILE_BAD;
        empty |= st == FILE_EMPTY;
    }
    if (bad)
        return SC_EXIT_FAIL;
    return empty ? SC_EXIT_TIMEOUT : SC_EXIT_OK;
}
