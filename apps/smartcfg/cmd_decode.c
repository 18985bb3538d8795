/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg decode: runs capture files through the pcap reader into the receiver front
 * (ESP-TOUCH v1, ESP-TOUCH v2 and AirKiss at once) and prints every session found (credentials included: this is a debugging tool for the user's
 * own captures). After each result the receiver resumes with the other phones' sessions, so
 * every sender in a capture is found; identical results within one file are printed once. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "plot_svg.h"
#include "sc_pcap.h"
#include "sc_posix.h"
#include "sc_posix_event.h"
#include "smartcfg/receiver.h"

#define DECODE_MAX_RESULTS 64 /* distinct sessions remembered per file for deduplication */

static void decode_usage(const sc_cli_t *cli, FILE *f)
{
    (void)cli;
    fprintf(f,
            "usage: smartcfg decode [options] FILE...      (FILE - reads a capture from stdin)\n"
            "       smartcfg decode [options] -i IFACE [--timeout SECONDS] [FILTER...]\n"
            "Decodes every ESP-TOUCH v1, ESP-TOUCH v2 and AirKiss session in pcap/pcapng captures\n"
            "(802.11+radiotap, plain 802.11 or Ethernet) and prints the credentials, one line per\n"
            "distinct result.\n\n"
            "  --json           one JSON object per line: file, protocol (esptouch-v1, esptouch-v2,\n"
            "                   airkiss), ssid, ssid_hex, password, password_hex, bssid, phone_ip,\n"
            "                   reserved_hex, random, version, channel, offset, time; null where the\n"
            "                   protocol carries no such field; a file that cannot be read gives a\n"
            "                   read_error line (file, message)\n"
            "  --aes-key KEY    the 16-character device key of encrypted ESP-TOUCH v2 sessions; without\n"
            "                   it (or with a wrong one) their password is null, never guessed\n"
            "                   (default: $SMARTCFG_AES_KEY; the variable keeps it out of argv)\n"
            "  --protocols LIST v1,v2,airkiss (default: all three)\n"
            "  -i, --iface IFACE  (or --interface) decode live from IFACE (monitor-mode Wi-Fi or any\n"
            "                   capture interface), FILTER a BPF expression as tcpdump takes it; stops\n"
            "                   at the first result, Ctrl-C or --timeout SECONDS (whole seconds)\n"
            "  --plot FILE.svg  draw the capture: frame lengths over time per sender, guide and data\n"
            "                   phases, the lock, each datum byte, the completing frame\n"
            "When nothing decodes, the reason is printed (stderr; with --json a line\n"
            "{\"event\":\"no_result\",\"reason\":...}): no group-addressed frames, no guide seen,\n"
            "locked but incomplete (N of M bytes).\n"
            "Text fields print valid UTF-8 as is; other bytes, control characters (C0, DEL, C1) and\n"
            "bidirectional controls as \\xHH and a backslash as \\\\ (the _hex fields are always exact).\n"
            "  -h, --help       this text;  --version  the version\n"
            "exit: 0 every file gave a result, 1 a file could not be read, 2 usage error,\n"
            "      3 some readable file gave no result (live: --timeout), 130 stopped by Ctrl-C\n\n"
            "examples:\n"
            "  smartcfg decode session.pcap\n"
            "  tcpdump -i eth0 -w - udp | smartcfg decode -\n"
            "  smartcfg decode -i mon0 --timeout 60 'type data'\n"
            "  smartcfg decode --plot session.svg session.pcap\n");
}

/* Unambiguous text form of raw octets; out needs 4*n+1 bytes. quote: also escape '"'. */
static void text_escape(const uint8_t *p, size_t n, int quote, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = sc_posix_utf8_seq(p + i, n - i);
        if (k == 1 && p[i] >= 0x20 && p[i] < 0x7F) {
            if (p[i] == '\\' || (quote && p[i] == '"'))
                out[o++] = '\\';
            out[o++] = (char)p[i++];
        } else if (k > 1 && !sc_posix_utf8_control(p + i, k)) {
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

/* A file name (or a message holding one) for a terminal line: names are anyone's to choose
 * (captures handed on, unpacked from an archive), and one holding ESC ] or ESC [ 8 m retitled
 * the terminal or hid the credentials after it (security F66). Escaped as the text fields are;
 * two buffers, for a line with two such strings. */
static const char *shown(const char *s)
{
    static char buf[2][4 * 4096 + 1];
    static int which;
    char *out = buf[which ^= 1];
    size_t n = strnlen(s, 4096);
    text_escape((const uint8_t *)s, n, 0, out);
    return out;
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

/* One JSON event line on stdout through the tools' one printer (docs/json.md), flushed (a pipe
 * reader sees it at once); frees o. */
static void emit_json(const char *event, cJSON *o)
{
    sc_posix_event(event, sc_posix_event_ms(), o);
}

static int have_key; /* --aes-key given */
static sc_cli_t cli;  /* the command line convention: usage and setup errors are JSON lines too */

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
        printf("%s: protocol %s ssid \"%s\"", shown(file), sc_proto_name(r->proto), ssid);
        if (r->password_known)
            printf(" password \"%s\"", pwd);
        else
            printf(" password unknown (encrypted; %s)",
                   have_key ? "the --aes-key given does not decrypt it" : "give --aes-key");
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
    emit_json("result", o);
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

enum { FILE_OK = 0, FILE_BAD = 1, FILE_EMPTY = 3, FILE_STOPPED = 4 };

static sc_receiver_t rx;
static sc_rx_result_t seen[DECODE_MAX_RESULTS];
static unsigned protocols = SC_PROTO_ALL;
static uint8_t aes_key[16];
static volatile sig_atomic_t stop_sig;

static void on_signal(int sig) { stop_sig = sig; }

/* What the receiver got from one source, to say why nothing decoded. */
typedef struct {
    unsigned long frames, group;
    unsigned long amsdu; /* QoS data frames carrying an A-MSDU: their destination is inside */
    int locked;           /* a stream locked at some point */
    unsigned long unlocks;
    sc_proto_t lock_proto;  /* the first lock */
    uint8_t lock_channel;
    uint16_t lock_offset;
    uint8_t proto_channel[3]; /* each protocol's first lock (v1, v2, AirKiss), for the progress */
    uint16_t proto_offset[3];
    sc_proto_t prog_proto;
    uint8_t known, needed; /* the furthest progress (datum bytes known of needed) */
} decode_diag_t;

/* The destination address of a frame: Ethernet's first address; 802.11's DA (addr3 when the
 * frame goes to the AP, addr1 otherwise). ESP-TOUCH and AirKiss only ever travel in
 * group-addressed frames, since only those reach a station that has not joined yet. */
static int is_group(const sc_frame_t *f)
{
    if (f->kind == SC_FRAME_ETHERNET)
        return f->addr1[0] & 1u;
    if (f->kind != SC_FRAME_80211 || SC_FC_TYPE(f->fc) != 2u)
        return 0;
    const uint8_t *da = (f->fc & (SC_FC_TODS | SC_FC_FROMDS)) == SC_FC_TODS ? f->addr3 : f->addr1;
    return da[0] & 1u;
}

/* A QoS data frame whose payload is an A-MSDU: the header's DA is the AP or the station, the
 * datagram's destination is in the subframe, which the reader does not parse. */
static int is_amsdu(const sc_frame_t *f)
{
    return f->kind == SC_FRAME_80211 && SC_FC_TYPE(f->fc) == 2u && (SC_FC_SUBTYPE(f->fc) & 8u) &&
           (f->qos_ctrl & 0x0080u);
}

/* The station that sent the frame (the phone), for the plot's streams. */
static const uint8_t *sender_of(const sc_frame_t *f)
{
    if (f->kind == SC_FRAME_80211 && (f->fc & (SC_FC_TODS | SC_FC_FROMDS)) == SC_FC_FROMDS)
        return f->addr3;
    return f->addr2;
}

/* "protocol, channel C, overhead O": every protocol's lock event carries its stream's overhead
 * (v2's and AirKiss's since 2026-12-06; they carried 0 before). */
static void lock_desc(char *out, size_t n, sc_proto_t p, unsigned ch, unsigned off)
{
    snprintf(out, n, "%s, channel %u, overhead %u", sc_proto_name(p), ch, off);
}

/* The plain reason a source gave no result, from the furthest stage reached. */
static void why_nothing(const decode_diag_t *d, int live, char *out, size_t n)
{
    if (d->frames == 0)
        snprintf(out, n, "%s", live ? "no frames captured (check the interface and the filter)"
                                    : "the capture holds no frame the reader could use");
    else if (d->group == 0 && d->amsdu)
        snprintf(out, n,
                 "no group-addressed frames among %lu, but %lu are A-MSDU aggregates (their destination is "
                 "inside) and no guide was seen among them, so no stream locked",
                 d->frames, d->amsdu);
    else if (d->group == 0)
        snprintf(out, n,
                 "no group-addressed frames among %lu (ESP-TOUCH and AirKiss are only sent to multicast/"
                 "broadcast addresses; a loopback capture has destination 00:00:00:00:00:00 -- capture on "
                 "the interface the phone sends on, or a monitor interface)",
                 d->frames);
    else if (!d->locked)
        snprintf(out, n,
                 "no guide seen: %lu group-addressed frames, but no ESP-TOUCH guide (lengths 515..512 + overhead) "
                 "or AirKiss magic field, so no stream locked",
                 d->group);
    else if (d->needed == 0) {
        char lk[64];
        lock_desc(lk, sizeof lk, d->lock_proto, d->lock_channel, d->lock_offset);
        snprintf(out, n, "locked (%s) but no datum complete yet%s", lk,
                 d->unlocks ? "; the lock was dropped again (stale or false)" : "");
    } else {
        char lk[64];
        const int i = d->prog_proto == SC_PROTO_ESPTOUCH_V1 ? 0 : d->prog_proto == SC_PROTO_ESPTOUCH_V2 ? 1 : 2;
        lock_desc(lk, sizeof lk, d->prog_proto, d->proto_channel[i], d->proto_offset[i]);
        snprintf(out, n, "locked (%s) but incomplete: %u of %u bytes%s", lk, d->known, d->needed,
                 d->unlocks ? "; the lock was dropped again (the sender stopped or frames were lost)" : "");
    }
}

static void print_nothing(const char *name, const decode_diag_t *d, const char *reason, int json)
{
    if (!json) {
        fprintf(stderr, "smartcfg decode: %s: nothing decoded: %s\n", shown(name), reason);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "file", name);
    cJSON_AddStringToObject(o, "reason", reason);
    cJSON_AddNumberToObject(o, "frames", (double)d->frames);
    cJSON_AddNumberToObject(o, "group_frames", (double)d->group);
    cJSON_AddBoolToObject(o, "locked", d->locked);
    cJSON_AddNumberToObject(o, "known", d->known);
    cJSON_AddNumberToObject(o, "needed", d->needed);
    emit_json("no_result", o);
}

/* With --json, a source that cannot be read (exit 1) is a line too: a reader of stdout alone
 * would otherwise not know which file gave nothing. */
static void print_read_error(const char *name, const char *message, int json)
{
    if (!json)
        return;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    size_t n = strlen(name);
    if (!strncmp(message, name, n) && message[n] == ':' && message[n + 1] == ' ')
        message += n + 2; /* the file is its own field */
    cJSON_AddStringToObject(o, "file", name);
    cJSON_AddStringToObject(o, "message", message);
    emit_json("read_error", o);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Runs one source through the receiver. live: wait for frames (poll) until a result, a
 * signal or timeout_ms (0 = none), and stop at the first result. */
static int decode_src(sc_pcap_src_t *src, const char *path, int json, int live, uint32_t timeout_ms, sc_plot_t *plot)
{
    sc_err_t err = sc_receiver_init(&rx, protocols);
    if (!err && have_key)
        sc_receiver_set_v2_key(&rx, aes_key);
    if (err) {
        fprintf(stderr, "smartcfg decode: receiver: %s\n", sc_strerror(err));
        return FILE_BAD;
    }
    decode_diag_t d;
    memset(&d, 0, sizeof d);
    size_t nseen = 0;
    unsigned long results = 0;
    sc_pcap_clock_t clock = { 0 };
    uint64_t first_us = 0, last_us = 0, deadline = timeout_ms ? mono_ms() + timeout_ms : 0;
    uint32_t now = 0, last_tick = 0;
    int have_first = 0, status = FILE_OK;
    sc_frame_t f;
    int rc;
    for (;;) {
        rc = sc_pcap_next(src, &f);
        if (rc == 0 && live) {
            if (stop_sig || (deadline && mono_ms() >= deadline))
                break;
            struct pollfd pfd = { .fd = sc_pcap_fd(src), .events = POLLIN };
            if (pfd.fd >= 0)
                (void)poll(&pfd, 1, 100); /* a signal ends it early: checked above */
            else
                usleep(10000);
            continue;
        }
        if (rc <= 0)
            break;
        /* The receiver wants a monotonic clock: capture time relative to the first frame,
         * never going backwards when a capture's timestamps do, nor leaping with a record's
         * absurd timestamp (sc_pcap_clock_t); the device's clock wraps, so this one does. */
        const uint64_t rel_us = sc_pcap_clock_at(&clock, f.ts_us);
        if (!have_first) {
            first_us = f.ts_us;
            have_first = 1;
        }
        last_us = first_us + rel_us;
        now = (uint32_t)(rel_us / 1000u);
        const int group = is_group(&f);
        d.frames++;
        d.group += group != 0;
        d.amsdu += !group && is_amsdu(&f);
        sc_plot_frame(plot, last_us, f.len, sender_of(&f), group);
        sc_rx_event_t ev;
        if (now - last_tick >= 100) {
            if (sc_receiver_tick(&rx, now) == SC_ET_EV_UNLOCKED) {
                d.unlocks++;
                sc_plot_mark(plot, last_us, SC_PLOT_UNLOCK, 0, "unlocked");
            }
            last_tick = now;
        }
        sc_et_event_type_t t = sc_receiver_feed(&rx, &f, now, &ev);
        char label[96];
        if (t == SC_ET_EV_LOCKED) {
            if (!d.locked) {
                d.lock_proto = ev.proto;
                d.lock_channel = ev.channel;
                d.lock_offset = ev.offset;
            }
            const int i = ev.proto == SC_PROTO_ESPTOUCH_V1 ? 0 : ev.proto == SC_PROTO_ESPTOUCH_V2 ? 1 : 2;
            if (!d.proto_channel[i] && !d.proto_offset[i]) {
                d.proto_channel[i] = ev.channel;
                d.proto_offset[i] = ev.offset;
            }
            d.locked = 1;
            char lk[64];
            lock_desc(lk, sizeof lk, ev.proto, ev.channel, ev.offset);
            snprintf(label, sizeof label, "lock %s", lk);
            sc_plot_mark(plot, last_us, SC_PLOT_LOCK, ev.offset, label);
        } else if (t == SC_ET_EV_UNLOCKED) {
            d.unlocks++;
            sc_plot_mark(plot, last_us, SC_PLOT_UNLOCK, 0, "unlocked");
        } else if (t == SC_ET_EV_PROGRESS && ev.needed) {
            if ((unsigned)ev.known * (d.needed ? d.needed : 1) >= (unsigned)d.known * ev.needed) {
                d.known = ev.known;
                d.needed = ev.needed;
                d.prog_proto = ev.proto;
            }
            snprintf(label, sizeof label, "%s: %u of %u bytes", sc_proto_name(ev.proto), ev.known, ev.needed);
            sc_plot_mark(plot, last_us, SC_PLOT_DATUM, 0, label);
        }
        if (t != SC_ET_EV_DONE)
            continue;
        int dup = 0;
        for (size_t i = 0; i < nseen; i++)
            dup |= same_result(&seen[i], &ev.result);
        if (!dup) {
            if (nseen < DECODE_MAX_RESULTS)
                seen[nseen++] = ev.result;
            print_result(path, &ev.result, f.ts_us, json);
            results++;
            snprintf(label, sizeof label, "decoded (%s)", sc_proto_name(ev.result.proto));
            sc_plot_mark(plot, last_us, SC_PLOT_DONE, 0, label);
            sc_plot_commit(plot);
        } else {
            sc_plot_discard(plot);
        }
        if (live)
            break;
        /* Forget only the phone that finished: a reset would drop the other phones' progress
         * and, in a capture with two senders, the shorter datum would win every time. */
        sc_receiver_resume(&rx);
    }
    if (results)
        sc_plot_discard(plot); /* a session left unfinished after a result: the repeat of one */
    if (rc < 0) {
        fprintf(stderr, "smartcfg decode: %s: %s\n", shown(path), shown(sc_pcap_error(src)));
        print_read_error(path, sc_pcap_error(src), json);
        status = FILE_BAD;
    } else if (sc_pcap_skipped(src)) {
        const char *why = sc_pcap_error(src);
        fprintf(stderr, "smartcfg decode: %s: %lu record(s) skipped (short, malformed radiotap or bad FCS)%s%s\n",
                shown(path), sc_pcap_skipped(src), why[0] ? "; last: " : "", shown(why));
    }
    if (clock.breaks)
        fprintf(stderr, "smartcfg decode: %s: the capture's time steps back or leaps ahead %lu time(s); "
                        "read as continuous there\n", shown(path), clock.breaks);
    if (status == FILE_OK && results == 0) {
        char reason[512];
        why_nothing(&d, live, reason, sizeof reason);
        if (live && stop_sig) {
            char r2[600];
            snprintf(r2, sizeof r2, "stopped by the user; %s", reason);
            print_nothing(path, &d, r2, json);
            return FILE_STOPPED;
        }
        if (live)
            fprintf(stderr, "smartcfg decode: %s: timed out after %u s\n", shown(path), timeout_ms / 1000u);
        print_nothing(path, &d, reason, json);
        status = FILE_EMPTY;
    }
    return status;
}

static int decode_file(const char *path, int json, sc_plot_t *plot)
{
    char eb[512];
    /* "-": a capture on stdin, as tcpdump -w - | smartcfg decode - */
    sc_pcap_src_t *src = strcmp(path, "-") ? sc_pcap_open_file(path, eb, sizeof eb)
                                           : sc_pcap_open_fp(stdin, "-", eb, sizeof eb);
    if (!src) {
        fprintf(stderr, "smartcfg decode: %s\n", shown(eb));
        print_read_error(path, eb, json);
        return FILE_BAD;
    }
    int st = decode_src(src, path, json, 0, 0, plot);
    sc_pcap_close(src);
    return st;
}

/* tcpdump's habit: everything after the interface is one filter expression. */
static int decode_live(const char *iface, int argc, char **argv, int json, uint32_t timeout_ms, sc_plot_t *plot)
{
    char eb[512], filter[1024] = "";
    size_t o = 0;
    for (int i = 0; i < argc; i++) {
        int n = snprintf(filter + o, sizeof filter - o, "%s%s", i ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof filter - o) {
            return sc_cli_usage_error(&cli, "filter too long");
        }
        o += (size_t)n;
    }
    /* a name that is no interface is a usage error, as send's and device's --iface ("any" is
     * libpcap's own) */
    if (!if_nametoindex(iface) && strcmp(iface, "any"))
        return sc_cli_usage_error(&cli, "--iface: no interface '%s'", iface);
    sc_pcap_src_t *src = sc_pcap_open_live(iface, eb, sizeof eb);
    if (!src)
        return sc_cli_fail(&cli, SC_EXIT_FAIL, "%s", eb);
    if (filter[0] && sc_pcap_set_filter(src, filter) < 0) {
        int rc = sc_cli_usage_error(&cli, "%s: %s", iface, sc_pcap_error(src));
        sc_pcap_close(src);
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "smartcfg decode: listening on %s (%s)%s%s%s; Ctrl-C to stop\n", iface, sc_pcap_linktype(src),
            filter[0] ? ", filter \"" : "", filter, filter[0] ? "\"" : "");
    int st = decode_src(src, iface, json, 1, timeout_ms, plot);
    sc_pcap_close(src);
    return st == FILE_OK ? SC_EXIT_OK : st == FILE_BAD ? SC_EXIT_FAIL : st == FILE_STOPPED ? SC_EXIT_INTERRUPTED : SC_EXIT_TIMEOUT;
}

static int write_plot(sc_plot_t *plot, const char *out, const char *what)
{
    char title[300];
    snprintf(title, sizeof title, "smartcfg decode %s", what);
    char why[256];
    if (sc_plot_write(plot, out, title, why, sizeof why) < 0) {
        fprintf(stderr, "smartcfg decode: --plot %s: %s\n", shown(out), why);
        return -1;
    }
    return 0;
}

int cmd_decode(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "aes-key", required_argument, NULL, 'k' },
        { "protocols", required_argument, NULL, 'p' },
        { "interface", required_argument, NULL, 'i' },
        { "iface", required_argument, NULL, 'i' }, /* as send and device spell it */
        { "timeout", required_argument, NULL, 't' },
        { "plot", required_argument, NULL, 'P' },
        SC_CLI_STD_OPTIONS,
        { NULL, 0, NULL, 0 }
    };
    sc_cli_no_core(); /* the passwords it decodes and the device key: in no core dump */
    sc_cli_init(&cli, "smartcfg decode", decode_usage, NULL, argc, argv);
    cli.longopts = opts;
    int json = 0;
    const char *iface = NULL, *plot_out = NULL;
    uint32_t timeout_ms = 0;
    optind = 1;
    opterr = 0;
    for (;;) {
        /* '+': options end at the first operand, so a filter like "udp and not port 53" or
         * "-" stays an operand; then the CLI convention's ":h" */
        int o = getopt_long(argc, argv, "+" SC_CLI_SHORTOPTS "jk:p:i:", opts, NULL);
        if (o == -1)
            break;
        int std = sc_cli_std_option(&cli, o, argv);
        if (std >= 0)
            return std;
        if (o == 'j') {
            json = 1;
            continue;
        }
        if (o == 'i') {
            iface = optarg;
            continue;
        }
        if (o == 'P') {
            plot_out = optarg;
            continue;
        }
        if (o == 't') {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (errno || end == optarg || *end || v == 0 || v > 86400) {
                return sc_cli_bad_value(&cli, "--timeout", optarg, "a whole number of seconds in 1..86400");
            }
            timeout_ms = (uint32_t)v * 1000u;
            continue;
        }
        if (o == 'k') {
            if (strlen(optarg) != sizeof aes_key) {
                return sc_cli_bad_value(&cli, "--aes-key", NULL, "16 characters");
            }
            memcpy(aes_key, optarg, sizeof aes_key);
            memset(optarg, 'x', strlen(optarg)); /* a device key: not in /proc/<pid>/cmdline */
            /* blanked only once read: visible until then, without a word (send's and the
             * device's key were warned about) */
            if (!have_key)
                sc_cli_warn(&cli, "a device key on the command line is visible to other users (use $SMARTCFG_AES_KEY)");
            have_key = 1;
            continue;
        }
        if (o == 'p') {
            int rc = sc_cli_protocols(&cli, "--protocols", optarg, &protocols);
            if (rc)
                return rc;
            continue;
        }
        return sc_cli_usage_error(&cli, "unknown option '%s'", argv[optind - 1]);
    }
    const char *env = getenv("SMARTCFG_AES_KEY");
    if (!have_key && env && env[0]) {
        /* the device key out of argv, as send and device take it */
        if (strlen(env) != sizeof aes_key)
            return sc_cli_bad_value(&cli, "$SMARTCFG_AES_KEY", NULL, "16 characters");
        memcpy(aes_key, env, sizeof aes_key);
        have_key = 1;
    }
    sc_cli_env_drop("SMARTCFG_AES_KEY");   /* read once: not in /proc/PID/environ for a live capture's run (F185) */
    if (!iface && optind >= argc)
        return sc_cli_usage_error(&cli, "no capture file given (a file, - for stdin, or -i IFACE)");
    if (!iface && timeout_ms) {
        return sc_cli_usage_error(&cli, "--timeout only applies to a live capture (-i IFACE)");
    }
    if (plot_out && !iface && argc - optind != 1) {
        return sc_cli_usage_error(&cli, "--plot draws one capture: give exactly one file");
    }
    int stdin_uses = 0;
    for (int i = optind; !iface && i < argc; i++)
        stdin_uses += !strcmp(argv[i], "-");
    if (stdin_uses > 1) {
        return sc_cli_usage_error(&cli, "'-' (stdin) can be given only once");
    }
    /* A capture is not typed: on a terminal '-' waited without a word for binary input. */
    if (stdin_uses && isatty(STDIN_FILENO)) {
        return sc_cli_usage_error(&cli, "'-' reads a capture piped in (tcpdump -w - ... | smartcfg decode -), "
                                        "and stdin is a terminal");
    }
    /* A plot that cannot be written is said before the decode: on a live capture or a pipe the
     * failure came only at its end, after all the waiting. What can be known now: the name is
     * not a directory, and a new file's directory is there and writable (the rest, a link or
     * another user's file at the name, is refused when it is opened, sc_posix_open_output). */
    struct stat pst;
    int pstat = plot_out ? stat(plot_out, &pst) : 0;
    if (plot_out && pstat == 0 && S_ISDIR(pst.st_mode))
        return sc_cli_fail(&cli, SC_EXIT_FAIL, "--plot %s: Is a directory", plot_out);
    /* A capture at the plot's name: `--plot *.pcap` with two captures, or the input named twice,
     * replaced a capture by the SVG (F101): its first bytes, a pcap or pcapng magic, say so. */
    if (plot_out && pstat == 0 && S_ISREG(pst.st_mode)) {
        unsigned char m[4] = { 0 };
        int pfd = open(plot_out, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        bool cap = pfd >= 0 && read(pfd, m, sizeof m) == (ssize_t)sizeof m &&
                   (!memcmp(m, "\xd4\xc3\xb2\xa1", 4) || !memcmp(m, "\xa1\xb2\xc3\xd4", 4) ||
                    !memcmp(m, "\x4d\x3c\xb2\xa1", 4) || !memcmp(m, "\xa1\xb2\x3c\x4d", 4) ||
                    !memcmp(m, "\x0a\x0d\x0d\x0a", 4));
        if (pfd >= 0)
            close(pfd);
        if (cap)
            return sc_cli_usage_error(&cli, "--plot %s: is a capture, not overwritten (the plot is an SVG: "
                                            "--plot FILE.svg CAPTURE)", plot_out);
    }
    /* an existing file the user may not write (F88: said only at the end, as the others were) */
    if (plot_out && pstat == 0 && S_ISREG(pst.st_mode) && access(plot_out, W_OK) != 0)
        return sc_cli_fail(&cli, SC_EXIT_FAIL, "--plot %s: %s", plot_out, strerror(errno));
    if (plot_out && pstat != 0 && errno == ENOENT) {
        char pdir[4096];
        sc_posix_parent_dir(plot_out, pdir, sizeof pdir);
        if (access(pdir, W_OK | X_OK) != 0)
            return sc_cli_fail(&cli, SC_EXIT_FAIL, "--plot %s: %s", plot_out, strerror(errno));
    }
    sc_plot_t *plot = NULL;
    if (plot_out && !(plot = sc_plot_new())) {
        return sc_cli_fail(&cli, SC_EXIT_FAIL, "out of memory");
    }
    int rc;
    if (iface) {
        rc = decode_live(iface, argc - optind, argv + optind, json, timeout_ms, plot);
        if (plot && rc != SC_EXIT_USAGE && rc != SC_EXIT_FAIL && write_plot(plot, plot_out, iface) < 0)
            rc = SC_EXIT_FAIL;
    } else {
        int bad = 0, empty = 0;
        for (int i = optind; i < argc; i++) {
            int st = decode_file(argv[i], json, plot);
            bad |= st == FILE_BAD;
            empty |= st == FILE_EMPTY;
        }
        rc = bad ? SC_EXIT_FAIL : empty ? SC_EXIT_TIMEOUT : SC_EXIT_OK;
        if (plot && !bad && write_plot(plot, plot_out, argv[optind]) < 0)
            rc = SC_EXIT_FAIL;
    }
    sc_plot_free(plot);
    return rc;
}
