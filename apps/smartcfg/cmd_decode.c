/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg decode: runs capture files through the pcap reader into the ESP-TOUCH receiver and
 * prints every session found (credentials included: this is a debugging tool for the user's
 * own captures). After each result the receiver resumes with the other phones' sessions, so
 * every sender in a capture is found; identical results within one file are printed once. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "sc_pcap.h"
#include "smartcfg/esptouch_rx.h"

#define DECODE_MAX_RESULTS 64 /* distinct sessions remembered per file for deduplication */

static void decode_usage(const sc_cli_t *cli, FILE *f)
{
    (void)cli;
    fprintf(f,
            "usage: smartcfg decode [--json] FILE...\n"
            "Decodes every ESP-TOUCH v1 session in pcap/pcapng captures (802.11+radiotap, plain\n"
            "802.11 or Ethernet) and prints the credentials, one line per distinct result.\n\n"
            "  --json    one JSON object per line: file, ssid, ssid_hex, password, password_hex,\n"
            "            bssid, phone_ip, version, channel, offset, time\n"
            "Text fields print valid UTF-8 as is; other bytes and control characters as \\xHH and\n"
            "a backslash as \\\\ (the _hex fields are always exact).\n"
            "  -h, --help  this text;  --version  the version\n"
            "exit: 0 every file gave a result, 1 a file could not be read, 2 usage error,\n"
            "      3 some readable file gave no result\n\n"
            "examples:\n"
            "  smartcfg air session.pcap && smartcfg decode session.pcap\n"
            "  smartcfg decode --json a.pcap b.pcapng\n");
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

static void print_result(const char *file, const sc_et_result_t *r, uint64_t ts_us, int json)
{
    const sc_et_creds_t *c = &r->creds;
    char ssid[4 * SC_SSID_MAX + 1], pwd[4 * SC_PASSWORD_MAX + 1];
    char ssid_hex[2 * SC_SSID_MAX + 1], pwd_hex[2 * SC_PASSWORD_MAX + 1];
    char bssid[18], ip[16], ts[32];
    text_escape(c->ssid, c->ssid_len, !json, ssid);
    text_escape(c->password, c->password_len, !json, pwd);
    to_hex(c->ssid, c->ssid_len, ssid_hex);
    to_hex(c->password, c->password_len, pwd_hex);
    snprintf(bssid, sizeof bssid, "%02x:%02x:%02x:%02x:%02x:%02x", c->bssid[0], c->bssid[1], c->bssid[2],
             c->bssid[3], c->bssid[4], c->bssid[5]);
    snprintf(ip, sizeof ip, "%u.%u.%u.%u", c->phone_ip[0], c->phone_ip[1], c->phone_ip[2], c->phone_ip[3]);
    /* seconds.microseconds written exactly: a double would round a 16-digit timestamp */
    snprintf(ts, sizeof ts, "%llu.%06llu", (unsigned long long)(ts_us / 1000000u),
             (unsigned long long)(ts_us % 1000000u));
    if (!json) {
        printf("%s: ssid \"%s\" password \"%s\" bssid %s phone_ip %s version v1 channel %u offset %u time %s\n",
               file, ssid, pwd, bssid, ip, r->channel, r->offset, ts);
        fflush(stdout);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "file", file);
    cJSON_AddStringToObject(o, "ssid", ssid);
    cJSON_AddStringToObject(o, "ssid_hex", ssid_hex);
    cJSON_AddStringToObject(o, "password", pwd);
    cJSON_AddStringToObject(o, "password_hex", pwd_hex);
    cJSON_AddStringToObject(o, "bssid", bssid);
    cJSON_AddStringToObject(o, "phone_ip", ip);
    cJSON_AddStringToObject(o, "version", "v1");
    cJSON_AddNumberToObject(o, "channel", r->channel);
    cJSON_AddNumberToObject(o, "offset", r->offset);
    cJSON_AddRawToObject(o, "time", ts);
    char *s = cJSON_PrintUnformatted(o);
    if (s) {
        printf("%s\n", s);
        cJSON_free(s);
    }
    cJSON_Delete(o);
    fflush(stdout);
}

static int same_creds(const sc_et_creds_t *a, const sc_et_creds_t *b)
{
    return a->ssid_len == b->ssid_len && a->password_len == b->password_len &&
           !memcmp(a->ssid, b->ssid, a->ssid_len) && !memcmp(a->password, b->password, a->password_len) &&
           !memcmp(a->bssid, b->bssid, 6) && !memcmp(a->phone_ip, b->phone_ip, 4);
}

enum { FILE_OK = 0, FILE_BAD = 1, FILE_EMPTY = 3 };

static sc_et_rx_t rx;
static sc_et_creds_t seen[DECODE_MAX_RESULTS];

static int decode_file(const char *path, int json)
{
    char eb[512];
    sc_pcap_src_t *src = sc_pcap_open_file(path, eb, sizeof eb);
    if (!src) {
        fprintf(stderr, "smartcfg decode: %s\n", eb);
        return FILE_BAD;
    }
    sc_err_t err = sc_et_rx_init(&rx, NULL);
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
        sc_et_event_t ev;
        if (now - last_tick >= 100) {
            sc_et_rx_tick(&rx, now, NULL);
            last_tick = now;
        }
        if (sc_et_rx_feed(&rx, &f, now, &ev) != SC_ET_EV_DONE)
            continue;
        int dup = 0;
        for (size_t i = 0; i < nseen; i++)
            dup |= same_creds(&seen[i], &ev.result.creds);
        if (!dup) {
            if (nseen < DECODE_MAX_RESULTS)
                seen[nseen++] = ev.result.creds;
            print_result(path, &ev.result, f.ts_us, json);
            results++;
        }
        /* Forget only the phone that finished: a reset would drop the other phones' progress
         * and, in a capture with two senders, the shorter datum would win every time. */
        sc_et_rx_resume(&rx);
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
        fprintf(stderr, "smartcfg decode: %s: no ESP-TOUCH session decoded\n", path);
        status = FILE_EMPTY;
    }
    sc_pcap_close(src);
    return status;
}

int cmd_decode(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        SC_CLI_STD_OPTIONS,
        { NULL, 0, NULL, 0 }
    };
    sc_cli_t cli;
    sc_cli_init(&cli, "smartcfg decode", decode_usage, NULL, argc, argv);
    int json = 0;
    optind = 1;
    opterr = 0;
    for (;;) {
        int o = getopt_long(argc, argv, SC_CLI_SHORTOPTS "j", opts, NULL);
        if (o == -1)
            break;
        int std = sc_cli_std_option(&cli, o, argv);
        if (std >= 0)
            return std;
        if (o == 'j') {
            json = 1;
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
