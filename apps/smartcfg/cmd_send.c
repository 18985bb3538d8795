/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg send: the phone side. Options and reporting only: the run itself (sockets, the
 * datagram schedule, acks, the UDP 8266 handshakes, the token API) is the POSIX port's sender
 * host (ports/posix/sc_posix_sender.h) over the state machines of smartcfg/sender.h.
 * Never prints the Wi-Fi password or the token (the token at most abbreviated). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <termios.h>
#include <sys/select.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "smartcfg/airkiss.h"
#include "smartcfg/errors.h"
#include "smartcfg/esptouch_v2.h"
#include "cli.h"
#include "sc_posix.h"
#include "sc_posix_event.h"
#include "sc_posix_netif.h"
#include "sc_posix_sender.h"
#include "send_expect.h"

typedef struct {
    sc_cli_t cli;
    sc_posix_sender_cfg_t cfg;          /* creds, destination, count, timeout, flow */
    sc_posix_sender_t *s;
    char ssid_text[4 * SC_SSID_MAX + 1]; /* printable form for reports (\\xNN escapes) */
    bool have_ip, have_bssid, have_ssid, have_password, multicast, have_dest, json, no_token;
    char token[SC_TOKEN_MAX + 1];
    char access_buf[256];
    /* $SMARTCFG_AES_KEY, $SC_ACCESS_TOKEN, $SC_CLOUD_PASSWORD: taken at the start (sc_cli_env_take) */
    char *env_aes, *env_access, *env_cloud_pw;
    bool tty, progress_shown;
    uint32_t next_progress;
    uint8_t aes_key[16], reserved[SC_ET2_RESERVED_MAX]; /* what cfg.extra points to */
    const char *failure[SC_SEND_MAX_DEVICES]; /* the event that failed each device (a literal) */
    bool have_count, have_expect;
    send_expect_t expect;               /* --expect FILE: the rack's devices */
    char expect_shown[128];             /* its path as the terminal may show it */
    /* The files read whole at start are read once every option is known: --input-wait
     * applies wherever it stands, and --expect is checked against the password (F120). */
    const char *password_path, *expect_path, *token_path;
    unsigned input_wait_s;              /* --input-wait: a FIFO's time to be written */
    bool warned_access, warned_aes, warned_token, warned_cloud; /* each argv warning once */
    char cloud_buf[1024];               /* --cloud's URL: copied, its password blanked in argv */
} send_app_t;

static void fmt_ip(char *out, const uint8_t ip[4])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

static void fmt_mac(char *out, const uint8_t m[6])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ---------------------------------------------------------------- output */

static void clear_progress(send_app_t *a)
{
    if (a->progress_shown) {
        fputs("\r\033[K", stdout);
        a->progress_shown = false;
    }
}

/* Emits one event: a JSON line with --json, else a human line. Takes ownership of o. */
static void emit(send_app_t *a, const char *event, cJSON *o, const char *human_fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void emit(send_app_t *a, const char *event, cJSON *o, const char *human_fmt, ...)
{
    uint32_t ms = sc_posix_sender_ms(a->s);
    double t = (double)ms / 1000.0;
    if (a->json) {
        sc_posix_event(event, ms, o); /* docs/json.md */
        return;
    } else if (human_fmt) {
        clear_progress(a);
        char buf[512];
        va_list ap;
        va_start(ap, human_fmt);
        vsnprintf(buf, sizeof buf, human_fmt, ap);
        va_end(ap);
        printf("[%6.2fs] %s\n", t, buf);
        sc_posix_output_flush(stdout);
    }
    cJSON_Delete(o);
}

static const char *step_name(sc_posix_sdev_step_t s)
{
    static const char *const names[] = { "acked", "token", "identified", "bound", "failed" };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* {"device":i,"mac":...,"ip":...}; d and mac filled for the caller's human line. */
static cJSON *dev_json(const send_app_t *a, int i, sc_posix_sender_device_t *d, char mac[18])
{
    char ip[16];
    sc_posix_sender_device(a->s, (uint32_t)i, d);
    fmt_mac(mac, d->mac);
    fmt_ip(ip, d->ip);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "device", i);
    cJSON_AddStringToObject(o, "mac", mac);
    cJSON_AddStringToObject(o, "ip", ip);
    return o;
}

/* Where the run is: on a terminal one status line redrawn 5 times a second; with --json a
 * "progress" event every second; piped, a plain line every 5 s - so nobody waits 45-60 s
 * without knowing the time limit and what has happened so far. */
static void progress(void *user, uint32_t now)
{
    send_app_t *a = user;
    if (!sc_ms_reached(now, a->next_progress))
        return;
    a->next_progress = now + (a->json ? 1000u : a->tty ? 200u : 5000u);
    if (!a->json && !a->tty && now < 1000u)
        return; /* piped: the first line after 5 s, not at the start */
    sc_posix_sender_stats_t st;
    sc_posix_sender_stats(a->s, &st);
    uint32_t identified = 0, bound = 0, failed = 0;
    sc_posix_sender_device_t d;
    for (uint32_t i = 0; sc_posix_sender_device(a->s, i, &d); i++) {
        identified += d.step == SC_POSIX_SDEV_IDENTIFIED || d.step == SC_POSIX_SDEV_BOUND;
        bound += d.step == SC_POSIX_SDEV_BOUND;
        failed += d.step == SC_POSIX_SDEV_FAILED;
    }
    uint32_t elapsed = sc_posix_sender_ms(a->s);
    if (a->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "phase", st.phase);
        cJSON_AddNumberToObject(o, "elapsed_ms", elapsed);
        cJSON_AddNumberToObject(o, "limit_ms", a->cfg.timeout_ms);
        cJSON_AddNumberToObject(o, "datagrams", st.datagrams);
        cJSON_AddNumberToObject(o, "found", st.found);
        cJSON_AddNumberToObject(o, "identified", identified);
        cJSON_AddNumberToObject(o, "bound", bound);
        cJSON_AddNumberToObject(o, "failed", failed);
        sc_posix_event("progress", elapsed, o);
        return;
    }
    char line[256];
    int n = snprintf(line, sizeof line, "%-9s %3u/%us  datagrams %u  devices: found %u, token acked %u, bound %u",
                     st.phase, elapsed / 1000u, a->cfg.timeout_ms / 1000u, st.datagrams, st.found, identified, bound);
    if (failed && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, ", failed %u", failed);
    if (!a->tty) {
        printf("[%6.2fs] progress: %s\n", elapsed / 1000.0, line);
        sc_posix_output_flush(stdout);
        return;
    }
    for (uint32_t i = 0; i < 4 && sc_posix_sender_device(a->s, i, &d) && n > 0 && (size_t)n < sizeof line; i++) {
        if (d.step == SC_POSIX_SDEV_HANDSHAKE)
            n += snprintf(line + n, sizeof line - (size_t)n, "  #%u token %u/%u", i, d.sends, d.max_sends);
        else
            n += snprintf(line + n, sizeof line - (size_t)n, "  #%u %s", i, step_name(d.step));
    }
    fputs("\r\033[K", stdout);
    fputs(line, stdout);
    sc_posix_output_flush(stdout);
    a->progress_shown = true;
}

/* ---------------------------------------------------------------- the run's events */

static void report_sending(send_app_t *a)
{
    sc_posix_sender_stats_t st;
    sc_posix_sender_stats(a->s, &st);
    const sc_et_creds_t *c = &a->cfg.creds;
    char ip[16], bssid[18], dest[16];
    fmt_ip(ip, c->phone_ip);
    fmt_mac(bssid, c->bssid);
    fmt_ip(dest, st.dest);
    const char *mode = a->multicast ? "multicast" : a->have_dest ? "unicast" : "broadcast";
    const char *flow = a->cfg.flow == SC_POSIX_SENDER_CLOUD ? "cloud"
                       : a->cfg.flow == SC_POSIX_SENDER_TOKEN ? "token" : "ack-only";
    /* each protocol's own ports (the datagrams went to 7001 in the text whatever the protocol) */
    const sc_proto_t proto = a->cfg.proto;
    const int port = proto == SC_PROTO_AIRKISS ? SC_AK_PORT : proto == SC_PROTO_ESPTOUCH_V2 ? SC_ET2_PORT : SC_ET_PORT;
    const int ack_port = proto == SC_PROTO_AIRKISS        ? SC_AK_ACK_PORT
                         : proto == SC_PROTO_ESPTOUCH_V2 ? sc_et2_ack_port(a->cfg.extra.port_mark)
                                                         : SC_ET_ACK_PORT;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "protocol", sc_proto_name(proto));
    cJSON_AddStringToObject(o, "ssid", a->ssid_text);
    cJSON_AddNumberToObject(o, "password_len", c->password_len);
    cJSON_AddStringToObject(o, "bssid", bssid);
    cJSON_AddStringToObject(o, "phone_ip", ip);
    cJSON_AddStringToObject(o, "mode", mode);
    cJSON_AddStringToObject(o, "dest", a->multicast ? "234.n.n.n" : dest);
    cJSON_AddNumberToObject(o, "port", port);
    cJSON_AddNumberToObject(o, "ack_port", ack_port);
    cJSON_AddNumberToObject(o, "count", a->cfg.count);
    cJSON_AddNumberToObject(o, "timeout_ms", a->cfg.timeout_ms);
    cJSON_AddNumberToObject(o, "cycle", st.cycle);
    cJSON_AddStringToObject(o, "flow", flow);
    if (a->cfg.flow != SC_POSIX_SENDER_ACK_ONLY)
        cJSON_AddStringToObject(o, "token", st.token_abbrev);
    emit(a, "sending", o,
         "sending %s: SSID '%s' (password %u bytes) BSSID %s phone %s, %s to %s:%d, %u-datagram cycle, acks on UDP %d",
         sc_proto_name(proto), a->ssid_text, c->password_len, bssid, ip, mode, a->multicast ? "234.n.n.n" : dest, port,
         st.cycle, ack_port);
}

/* Why a device that acked was not taken (sc_posix_sender_extra_t.reason), in words. */
static const char *extra_why(const send_app_t *a, const char *reason, char *out, size_t cap)
{
    if (!strcmp(reason, "count"))
        snprintf(out, cap, "acked beyond --count %u", a->cfg.count);
    else if (!strcmp(reason, "full"))
        snprintf(out, cap, "acked when the run had its %d devices (the most one run takes)", SC_SEND_MAX_DEVICES);
    else
        snprintf(out, cap, "acked after the run stopped looking for devices");
    return out;
}

/* Not one datagram went out, every one failed (no route to --dest, the interface down): the run
 * could not have reached a device, whatever the password. */
static bool nothing_sent(const send_app_t *a)
{
    sc_posix_sender_stats_t st;
    sc_posix_sender_stats(a->s, &st);
    return st.datagrams == 0 && st.send_errors > 0 && st.send_errno != 0 && st.found == 0;
}

/* Events about the whole run (dev -1) and the cloud's answers about one device's token
 * ("device" added). */
static void on_run_event(send_app_t *a, const sc_posix_sender_event_t *ev)
{
    char ip[16], mac[18];
    cJSON *o = cJSON_CreateObject();
    if (ev->dev >= 0)
        cJSON_AddNumberToObject(o, "device", ev->dev);
    fmt_ip(ip, ev->ip);
    switch (ev->type) {
    case SC_POSIX_SEV_TOKEN_CREATED:
        cJSON_AddStringToObject(o, "token", ev->text);
        cJSON_AddNumberToObject(o, "expire_time", ev->n);
        if (ev->dev >= 0)
            emit(a, "token_created", o, "bind token %s created for device %d", ev->text, ev->dev);
        else
            emit(a, "token_created", o, "bind token %s created", ev->text);
        return;
    case SC_POSIX_SEV_CLOUD_ERROR:
        cJSON_AddStringToObject(o, "message", ev->text);
        emit(a, "cloud_error", o, "cloud error: %s", ev->text);
        return;
    case SC_POSIX_SEV_SENDING_DONE:
        cJSON_AddNumberToObject(o, "datagrams", ev->n);
        emit(a, "sending_done", o, "sending stopped after %u datagrams", ev->n);
        return;
    case SC_POSIX_SEV_ACK_REJECTED:
        cJSON_AddStringToObject(o, "from", ip);
        cJSON_AddNumberToObject(o, "length", ev->n);
        cJSON_AddStringToObject(o, "reason", ev->text);
        emit(a, "ack_rejected", o, NULL);
        return;
    case SC_POSIX_SEV_ACK_EXTRA: {
        char why[96];
        fmt_mac(mac, ev->mac);
        cJSON_AddStringToObject(o, "mac", mac);
        cJSON_AddStringToObject(o, "ip", ip);
        cJSON_AddStringToObject(o, "reason", ev->reason);
        emit(a, "ack_extra", o, "device %s at %s %s: not taken", mac, ip, extra_why(a, ev->reason, why, sizeof why));
        return;
    }
    case SC_POSIX_SEV_STRAY:
        cJSON_AddStringToObject(o, "from", ip);
        cJSON_AddStringToObject(o, "reason", ev->text);
        emit(a, "malformed", o, "ignored a UDP 8266 datagram from %s: no ack came from there", ip);
        return;
    case SC_POSIX_SEV_POLL:
        cJSON_AddNumberToObject(o, "poll", ev->n);
        cJSON_AddNumberToObject(o, "state", ev->state);
        emit(a, "poll", o, NULL);
        return;
    case SC_POSIX_SEV_CLOUD_RETRY:
        cJSON_AddStringToObject(o, "message", ev->text);
        emit(a, "cloud_retry", o, "cloud: %s (will poll again)", ev->text);
        return;
    case SC_POSIX_SEV_BOUND_OTHER:
        cJSON_AddStringToObject(o, "product_id", ev->product_id);
        cJSON_AddStringToObject(o, "device_name", ev->device_name);
        emit(a, "bound_other", o, "cloud: the token was used by %s/%s, not a device of this run", ev->product_id,
             ev->device_name);
        return;
    case SC_POSIX_SEV_SEND_ERROR:
        cJSON_AddStringToObject(o, "message", ev->text);
        cJSON_AddStringToObject(o, "dest", ip);
        cJSON_AddNumberToObject(o, "port", ev->n);
        emit(a, "send_error", o, "cannot send to %s:%u: %s; datagrams are lost until it can (check --dest, "
             "--iface, the interface and its route)", ip, ev->n, ev->text);
        return;
    case SC_POSIX_SEV_TIMEOUT:
        if (nothing_sent(a)) {
            /* no datagram went out: the password, the devices and the range were never tried */
            char msg[160];
            sc_posix_sender_stats_t st;
            sc_posix_sender_stats(a->s, &st);
            snprintf(msg, sizeof msg, "no datagram could be sent (%s), so no device could answer", strerror(st.send_errno));
            cJSON_AddNumberToObject(o, "found", ev->n);
            cJSON_AddNumberToObject(o, "expected", a->have_expect ? a->expect.n : a->cfg.count);
            cJSON_AddStringToObject(o, "message", msg);
            emit(a, "timeout", o, "timeout: %s", msg);
            return;
        }
        cJSON_AddNumberToObject(o, "found", ev->n);
        cJSON_AddNumberToObject(o, "expected", a->cfg.count);
        cJSON_AddStringToObject(o, "message", ev->text);
        if (a->have_expect) {
            send_expect_match(&a->expect, a->s);
            uint32_t found = 0;
            for (uint32_t k = 0; k < a->expect.n; k++)
                found += a->expect.dev_of[k] >= 0;
            cJSON_ReplaceItemInObject(o, "expected", cJSON_CreateNumber(a->expect.n));
            emit(a, "timeout", o, "timeout: %u of the %u devices of %s answered; the others never acked "
                 "(wrong password, device not in SmartConfig mode, or out of range)", found, a->expect.n,
                 a->expect_shown);
        } else if (a->cfg.count)
            emit(a, "timeout", o, "timeout: %u of %u device(s) answered; the others never acked "
                 "(wrong password, device not in SmartConfig mode, or out of range)", ev->n, a->cfg.count);
        else if (ev->n) /* --count 0: as many as answer; "N of 0" said nothing */
            emit(a, "timeout", o, "timeout: %u device(s) answered", ev->n);
        else
            emit(a, "timeout", o, "timeout: no device answered (wrong password, device not in SmartConfig "
                 "mode, or out of range)");
        return;
    default:
        cJSON_Delete(o);
        return;
    }
}

/* A device's error report ends "(<err>, <sub>)" (tc8266.h): adds err_id, sub_id and the plain
 * reason from the one error table to o; the reason, or NULL when the text has no such tail. */
static const char *add_reason(cJSON *o, const char *text)
{
    const char *p = text ? strrchr(text, '(') : NULL;
    unsigned err;
    long sub;
    char close;
    if (!p || sscanf(p, "(%u, %ld%c", &err, &sub, &close) != 3 || close != ')' || err > 0xffff)
        return NULL;
    const char *reason = sc_errid_reason((uint16_t)err, (int32_t)sub);
    cJSON_AddNumberToObject(o, "err_id", err);
    cJSON_AddNumberToObject(o, "sub_id", (double)sub);
    cJSON_AddStringToObject(o, "reason", reason);
    return reason;
}

/* Events about one device. */
static void on_device_event(send_app_t *a, const sc_posix_sender_event_t *ev)
{
    sc_posix_sender_device_t d;
    char mac[18], ip[16], ack_ip[16];
    cJSON *o = dev_json(a, ev->dev, &d, mac);
    fmt_ip(ip, d.ip);
    fmt_ip(ack_ip, d.ack_ip);
    switch (ev->type) {
    case SC_POSIX_SEV_ACK:
        cJSON_AddStringToObject(o, "ack_ip", ack_ip);
        emit(a, "ack", o, "device %s acked from %s", mac, ip);
        return;
    case SC_POSIX_SEV_IP_MISMATCH:
        cJSON_AddStringToObject(o, "ack_ip", ack_ip);
        cJSON_AddStringToObject(o, "src_ip", ip);
        emit(a, "ip_mismatch", o, "device %s says its IP is %s but its ack came from %s; using %s", mac, ack_ip, ip, ip);
        return;
    case SC_POSIX_SEV_TOKEN_SENT:
        cJSON_AddNumberToObject(o, "attempt", ev->n);
        cJSON_AddStringToObject(o, "token", ev->text);
        if (ev->failed)
            cJSON_AddStringToObject(o, "error", "send failed");
        emit(a, "token_sent", o, "device %s: token sent (%u/%u)%s", mac, ev->n, d.max_sends,
             ev->failed ? " - send failed" : "");
        return;
    case SC_POSIX_SEV_IDENTITY:
        cJSON_AddStringToObject(o, "product_id", d.product_id);
        cJSON_AddStringToObject(o, "device_name", d.device_name);
        if (d.product_region[0])
            cJSON_AddStringToObject(o, "product_region", d.product_region);
        emit(a, "identity", o, "device %s is %s/%s", mac, d.product_id, d.device_name);
        return;
    case SC_POSIX_SEV_DEVICE_FAILED: {
        if (ev->dev >= 0 && ev->dev < SC_SEND_MAX_DEVICES)
            a->failure[ev->dev] = ev->reason;
        cJSON_AddStringToObject(o, "message", ev->text);
        const char *why = add_reason(o, ev->text);
        if (why)
            emit(a, ev->reason, o, "device %s: %s (%s)", mac, why, ev->text);
        else
            emit(a, ev->reason, o, "device %s: %s", mac, ev->text);
        return;
    }
    case SC_POSIX_SEV_PREVIOUS_ERROR: {
        cJSON_AddStringToObject(o, "message", ev->text);
        const char *why = add_reason(o, ev->text);
        emit(a, "previous_error", o, "device %s reports an earlier error: %s (%s)", mac, why ? why : ev->text,
             ev->text);
        return;
    }
    case SC_POSIX_SEV_MALFORMED:
        cJSON_AddStringToObject(o, "reason", ev->text);
        emit(a, "malformed", o, "device %s: unusable reply ignored: %s", mac, ev->text);
        return;
    case SC_POSIX_SEV_BOUND:
        cJSON_AddStringToObject(o, "product_id", d.product_id);
        cJSON_AddStringToObject(o, "device_name", d.device_name);
        emit(a, "bound", o, "device %s bound (%s/%s)", mac, d.product_id, d.device_name);
        return;
    default:
        cJSON_Delete(o);
        on_run_event(a, ev); /* the cloud's answers about its token */
        return;
    }
}

static void on_event(void *user, const sc_posix_sender_event_t *ev)
{
    send_app_t *a = user;
    if (ev->type == SC_POSIX_SEV_SENDING)
        report_sending(a);
    else if (ev->dev >= 0)
        on_device_event(a, ev);
    else
        on_run_event(a, ev);
}

/* ---------------------------------------------------------------- the outcome */

static int outcome(const send_app_t *a, uint32_t ok, uint32_t dev_fail, uint32_t cloud_fail, uint32_t left_out,
                   const sc_posix_sender_stats_t *st)
{
    /* --count 0: every device that acked, the ones a full run could not take included */
    uint32_t want = a->cfg.count > 0 ? a->cfg.count : (st->found + left_out ? st->found + left_out : 1);
    if (a->have_expect)
        want = a->expect.n; /* ok: the file's devices done */
    /* a Ctrl-C in the linger (the devices done) only cuts the listening short */
    if (st->interrupted && !st->lingering)
        return SC_EXIT_INTERRUPTED;
    if (nothing_sent(a))
        return SC_EXIT_FAIL; /* a local failure: it was 3, "wrong password ... or out of range" */
    if (dev_fail)
        return SC_EXIT_DEVICE;
    if (cloud_fail || st->cloud_failed)
        return SC_EXIT_CLOUD;
    return ok < want ? SC_EXIT_TIMEOUT : SC_EXIT_OK;
}

static cJSON *summary_device(send_app_t *a, uint32_t i, const sc_posix_sender_device_t *d, const char *note)
{
    char mac[18], ip[16];
    fmt_mac(mac, d->mac);
    fmt_ip(ip, d->ip);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "device", i);
    cJSON_AddStringToObject(e, "mac", mac);
    cJSON_AddStringToObject(e, "ip", ip);
    cJSON_AddStringToObject(e, "state", step_name(d->step));
    if (d->token_abbrev[0])
        cJSON_AddStringToObject(e, "token", d->token_abbrev);
    if (d->product_id[0]) {
        cJSON_AddStringToObject(e, "product_id", d->product_id);
        cJSON_AddStringToObject(e, "device_name", d->device_name);
    }
    /* a report's columns: done for this flow or not, and when (ms since the start) */
    cJSON_AddBoolToObject(e, "ok", sc_posix_sender_device_ok(a->s, i));
    cJSON_AddNumberToObject(e, "ack_ms", d->ack_ms);
    if (d->done)
        cJSON_AddNumberToObject(e, "done_ms", d->done_ms);
    const char *why = NULL;
    if (d->step == SC_POSIX_SDEV_FAILED) {
        /* what a script switches on: the failing event's name, and the device's own error
         * numbers when it gave some (Current_Error), as the event carried them */
        cJSON_AddStringToObject(e, "error", d->why);
        if (i < SC_SEND_MAX_DEVICES && a->failure[i])
            cJSON_AddStringToObject(e, "failure", a->failure[i]);
        why = add_reason(e, d->why);
    }
    if (!a->json) {
        /* one line per device: which one (MAC, address, names), its end and when, and for a
         * failure the plain reason before the device's own text */
        char when[16] = "";
        if (d->done)
            snprintf(when, sizeof when, " %.2fs", d->done_ms / 1000.0);
        clear_progress(a);
        printf("  device %s %-15s %-10s %s%s%s%s%s%s%s%s%s%s%s%s\n", mac, ip, step_name(d->step), d->product_id,
               d->product_id[0] ? "/" : "", d->device_name, d->token_abbrev[0] ? " token " : "", d->token_abbrev,
               when, d->step == SC_POSIX_SDEV_FAILED ? " - " : "", why ? why : "", why ? " (" : "",
               d->step == SC_POSIX_SDEV_FAILED ? d->why : "", why ? ")" : "", note);
    }
    return e;
}

/* The devices that acked and were not taken: a JSON list, and a line each. *left_out: those a
 * --count 0 run would have taken but for the table ("full"). */
static cJSON *summary_extra(send_app_t *a, const sc_posix_sender_stats_t *st, uint32_t *left_out)
{
    cJSON *list = cJSON_CreateArray();
    sc_posix_sender_extra_t x;
    *left_out = 0;
    for (uint32_t i = 0; sc_posix_sender_extra(a->s, i, &x); i++) {
        char mac[18], ip[16], why[96];
        fmt_mac(mac, x.mac);
        fmt_ip(ip, x.ip);
        *left_out += !strcmp(x.reason, "full");
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "mac", mac);
        cJSON_AddStringToObject(e, "ip", ip);
        cJSON_AddStringToObject(e, "reason", x.reason);
        cJSON_AddNumberToObject(e, "ack_ms", x.ack_ms);
        cJSON_AddItemToArray(list, e);
        int line = a->have_expect ? send_expect_extra_line(&a->expect, x.mac) : -1;
        if (line > 0)
            cJSON_AddNumberToObject(e, "line", line);
        else if (a->have_expect)
            cJSON_AddBoolToObject(e, "unexpected", true);
        if (!a->json)
            printf("  device %s %-15s not taken  %s%s%s\n", mac, ip, extra_why(a, x.reason, why, sizeof why),
                   line > 0 ? "" : a->have_expect ? " - not in " : "", line > 0 ? "" : a->have_expect ? a->expect_shown : "");
    }
    if (st->extra_more && !a->json)
        printf("  and more devices not taken (%u acks; only the first %d such devices are listed)\n", st->extra_more,
               SC_SEND_MAX_DEVICES);
    return list;
}

/* --expect: what the device's line says of device i (its human line's tail) and the same in
 * its JSON entry: the file's line, or "unexpected". */
static const char *expect_device(send_app_t *a, uint32_t i, cJSON *e, char *note, size_t cap, uint32_t *unexpected)
{
    note[0] = '\0';
    if (!a->have_expect)
        return note;
    const send_expect_t *x = &a->expect;
    int k = i < SC_SEND_MAX_DEVICES ? x->entry_of_dev[i] : -1;
    if (k >= 0) {
        cJSON_AddNumberToObject(e, "line", x->e[k].line);
        if (send_expect_state(x, a->s, (uint32_t)k) == SEND_EXPECT_OTHER_NAME) {
            cJSON_AddStringToObject(e, "expected_name", x->e[k].entry + (x->e[k].has_mac ? 18 : 0));
            snprintf(note, cap, " - line %u of %s names %s", x->e[k].line, a->expect_shown, x->e[k].entry);
        }
    } else if (send_expect_unexpected(x, a->s, i)) {
        cJSON_AddBoolToObject(e, "unexpected", true);
        snprintf(note, cap, " - not in %s", a->expect_shown);
        ++*unexpected;
    }
    return note;
}

/* --expect: each line of the file and what became of its device; *ok and *missing: the lines
 * done, and those the run never took. */
static cJSON *summary_expect(send_app_t *a, bool cut, uint32_t *ok, uint32_t *missing)
{
    const send_expect_t *x = &a->expect;
    cJSON *list = cJSON_CreateArray();
    bool header = false;
    *ok = *missing = 0;
    for (uint32_t k = 0; k < x->n; k++) {
        const send_expect_entry_t *en = &x->e[k];
        send_expect_state_t st = send_expect_state(x, a->s, k);
        *ok += st == SEND_EXPECT_DONE;
        *missing += st == SEND_EXPECT_MISSING || st == SEND_EXPECT_NOT_TAKEN;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "line", en->line);
        cJSON_AddStringToObject(e, "entry", en->entry);
        cJSON_AddStringToObject(e, "state", send_expect_state_name(st));
        cJSON_AddBoolToObject(e, "ok", st == SEND_EXPECT_DONE);
        if (x->dev_of[k] >= 0)
            cJSON_AddNumberToObject(e, "device", x->dev_of[k]);
        cJSON_AddItemToArray(list, e);
        if (a->json || st == SEND_EXPECT_DONE)
            continue;
        if (!header)
            printf("-- expected in %s and not done --\n", a->expect_shown);
        header = true;
        const char *what = st == SEND_EXPECT_NOT_TAKEN ? "acked and was not taken (listed above)"
                           : st == SEND_EXPECT_FAILED ? "failed (its device line above says why)"
                           : st == SEND_EXPECT_UNFINISHED ? "unfinished"
                           : st == SEND_EXPECT_OTHER_NAME ? "its MAC acked, as a device of another name (above)"
                           /* cut: Ctrl-C, SIGTERM before the run had its devices: "never" blamed them */
                           : !en->has_mac && x->unidentified ? (cut ? "not acked, or not named, before the interrupt"
                                                                    : "never acked, or acked and never told its name")
                           : cut ? "not acked before the interrupt" : "never acked";
        printf("  line %-3u %-40s %s\n", en->line, en->entry, what);
    }
    return list;
}

static int summary(send_app_t *a)
{
    clear_progress(a);
    sc_posix_sender_stats_t st;
    sc_posix_sender_stats(a->s, &st);
    uint32_t ok = 0, dev_fail = 0, cloud_fail = 0, left_out = 0;
    cJSON *sum = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(sum, "devices");
    sc_posix_sender_device_t d;
    uint32_t unexpected = 0, exp_ok = 0, exp_missing = 0;
    if (a->have_expect)
        send_expect_match(&a->expect, a->s);
    if (!a->json && (st.found || st.extra))
        printf("-- devices, in the order they acked (%s) --\n", a->cfg.flow == SC_POSIX_SENDER_CLOUD ? "done = bound"
                                                           : a->cfg.flow == SC_POSIX_SENDER_TOKEN ? "done = identified"
                                                                                                 : "done = acked");
    for (uint32_t i = 0; sc_posix_sender_device(a->s, i, &d); i++) {
        if (sc_posix_sender_device_ok(a->s, i))
            ok++;
        else if (d.fail == SC_POSIX_SFAIL_DEVICE)
            dev_fail++;
        else if (d.fail == SC_POSIX_SFAIL_CLOUD)
            cloud_fail++;
        char note[160];
        cJSON *e = cJSON_CreateObject(); /* (what --expect says of it, for its line) */
        expect_device(a, i, e, note, sizeof note, &unexpected);
        cJSON *de = summary_device(a, i, &d, note);
        for (cJSON *f = e->child; f; f = e->child)
            cJSON_AddItemToObject(de, f->string, cJSON_DetachItemViaPointer(e, f));
        cJSON_Delete(e);
        cJSON_AddItemToArray(list, de);
    }
    cJSON_AddItemToObject(sum, "extra", summary_extra(a, &st, &left_out));
    if (a->have_expect)
        cJSON_AddItemToObject(sum, "expect", summary_expect(a, st.interrupted && !st.lingering, &exp_ok, &exp_missing));
    int rc = outcome(a, a->have_expect ? exp_ok : ok, dev_fail, cloud_fail, left_out, &st);
    uint32_t failed = dev_fail + cloud_fail;
    uint32_t expected = a->have_expect ? a->expect.n : a->cfg.count;
    uint32_t missing = a->have_expect ? exp_missing : a->cfg.count > st.found ? a->cfg.count - st.found : 0;
    if (st.lingering)
        st.interrupted = false; /* the devices were done: only the linger was cut short */
    cJSON_AddNumberToObject(sum, "exit", rc);
    cJSON_AddNumberToObject(sum, "datagrams", st.datagrams);
    cJSON_AddNumberToObject(sum, "send_errors", st.send_errors);
    cJSON_AddNumberToObject(sum, "acks_accepted", st.acks_accepted);
    cJSON_AddNumberToObject(sum, "acks_rejected", st.acks_rejected);
    cJSON_AddNumberToObject(sum, "found", st.found);
    cJSON_AddNumberToObject(sum, "ok", ok);
    cJSON_AddNumberToObject(sum, "expected", expected);
    cJSON_AddNumberToObject(sum, "failed", failed);
    cJSON_AddNumberToObject(sum, "missing", missing);
    if (st.extra_more)
        cJSON_AddNumberToObject(sum, "extra_more", st.extra_more);
    if (a->have_expect)
        cJSON_AddNumberToObject(sum, "unexpected", unexpected);
    cJSON_AddBoolToObject(sum, "interrupted", st.interrupted);
    /* the counts a rack's engineer reads first: done, failed (the lines above say why),
     * still going (interrupted), never acked, acked but not taken */
    char tail[256] = "";
    size_t n = 0;
    uint32_t going = st.found - ok - failed;
    if (failed)
        n += (size_t)snprintf(tail + n, sizeof tail - n, ", %u failed", failed);
    if (going && n < sizeof tail)
        n += (size_t)snprintf(tail + n, sizeof tail - n, ", %u unfinished", going);
    if (missing && n < sizeof tail)
        n += (size_t)snprintf(tail + n, sizeof tail - n, st.interrupted ? ", %u of %u expected not %s before the interrupt"
                                                                         : ", %u of %u expected never %s",
                              missing, expected, a->have_expect ? "taken" : "acked");
    if (unexpected && n < sizeof tail)
        n += (size_t)snprintf(tail + n, sizeof tail - n, ", %u not expected", unexpected);
    if ((st.extra || st.extra_more) && n < sizeof tail)
        n += (size_t)snprintf(tail + n, sizeof tail - n, ", %u more acked and not taken", st.extra);
    emit(a, "summary", sum, "%u datagrams sent; %u device(s) found, %u done%s%s (exit %d)", st.datagrams, st.found,
         ok, tail,
         rc == SC_EXIT_OK ? "" : rc == SC_EXIT_TIMEOUT ? (missing || !left_out ? " - timeout" : " - devices left out")
                                : rc == SC_EXIT_DEVICE ? " - device error"
                                : rc == SC_EXIT_CLOUD ? " - cloud error"
                                : rc == SC_EXIT_FAIL ? " - no datagram could be sent" : " - interrupted", rc);
    return rc;
}

/* ---------------------------------------------------------------- options */

static void usage(const sc_cli_t *cli, FILE *f)
{
    (void)cli;
    fprintf(f,
            "usage: smartcfg send --ssid SSID --password PASSWORD [options]\n"
            "Send Wi-Fi credentials over ESP-TOUCH v1 (or v2, AirKiss: --protocol), collect device\n"
            "acks, hand each device a Tencent IoT Explorer bind token and follow the binding.\n"
            "See docs/send.md.\n\n"
            "  --ssid SSID | --ssid-hex HEX   network name (1-32 bytes); default: the current association\n"
            "  --password PASSWORD | --password-hex HEX | --password-file FILE   (0-64 bytes; '' = open\n"
            "                     network); FILE holds it on one line; - reads stdin (on a terminal: a\n"
            "                     prompt, no echo); a FIFO or pipe has --input-wait to be written to\n"
            "                     its end; a password in argv is visible to other users\n"
            "  --bssid MAC        aa:bb:cc:dd:ee:ff (default: the current association, nl80211)\n"
            "  --ip ADDR          the phone's IPv4 (default: the interface's address)\n"
            "  --iface IFACE      interface to send from\n"
            "  --multicast        send to rotating 234.n.n.n instead of 255.255.255.255\n"
            "  --dest ADDR        send the ESP-TOUCH datagrams to this unicast address instead\n"
            "  --count N          stop once N devices are done (0..32, default 1; 0 = every device that\n"
            "                     acks until the timeout, 32 at most); the summary lists each device\n"
            "  --timeout SECONDS  how long to look for devices (0 < SECONDS <= 3600, e.g. 2.5; default\n"
            "                     60; sending stops at 45)\n"
            "  --expect FILE      the rack's devices, one a line: its MAC, its device name (or product\n"
            "                     ID/name) or both; '#' comments; 32 at most. The run ends once each\n"
            "                     is done; the summary names the ones not done and the devices not\n"
            "                     in FILE (excludes --count); - reads stdin; a FIFO has --input-wait\n"
            "  --input-wait SECONDS  how long a FIFO or pipe given as --password-file, --token-file or\n"
            "                     --expect may take to be written (1..3600, default 10: longer for a secret\n"
            "                     manager that asks for its passphrase, <(pass show wifi | head -n 1))\n"
            "  --linger SECONDS   once the run has its devices, listen this long past the last datagram\n"
            "                     for late acks of other devices: told, not taken (0..60, default 3)\n"
            "  --token TOKEN | --token-file FILE   hand this bind token to each device (no cloud\n"
            "                     polling); FILE holds it on one line, - reads stdin; a token in argv\n"
            "                     is visible to other users\n"
            "  --cloud URL        get a token from the token API at URL and follow the binding\n"            "                     (http://USER@HOST...: the password from $SC_CLOUD_PASSWORD, out of argv)\n"
            "  --access-token TOKEN  AccessToken for the token API (default: $SC_ACCESS_TOKEN, or empty;\n"
            "                     the variable keeps it out of argv, which other users can read)\n"
            "  --region REGION    add \"region\" to the token request\n"
            "  --no-token         ESP-TOUCH and acks only\n"
            "  --json             one JSON object per event line, then a summary object\n"
            "  --protocol v1|v2|airkiss   which reference sender, its timing and its ack (default v1;\n"
            "                     v2: UDP 18266+10000*mark; AirKiss: UDP 10000)\n"
            "  --aes-key KEY      v2: encrypt password+reserved with this 16-character device key\n"
            "                     (default: $SMARTCFG_AES_KEY; the variable keeps it out of argv)\n"
            "  --random-iv        v2: AES with a random IV (security 2)\n"
            "  --reserved DATA | --reserved-hex HEX   v2 reserved (custom) data, 0..64 bytes\n"
            "  --port-mark N      v2: 0..3 (default 0)\n"
            "  -h, --help         this text;  --version  the version\n"
            "exit: 0 all devices done, 1 setup failure (or not one datagram could be sent), 2 usage,\n"
            "      3 timeout, 4 device error, 5 cloud error, 130 interrupted\n\n"
            "examples:\n"
            "  # the host's current Wi-Fi association gives SSID and BSSID; type the password\n"
            "  smartcfg send --password-file -\n"
            "  # a device on this host (smartcfg device --radio udp ...): unicast to it, one token\n"
            "  smartcfg send --ssid MyAP --password-file pw.txt --bssid 02:5c:00:00:00:01 --ip 127.0.0.1 \\\n"
            "      --dest 127.0.0.1 --token 0123456789abcdef0123456789abcdef\n"
            "  # a rack: the devices listed in rack7.txt (a MAC and/or a name a line); the summary\n"
            "  # names those that never acked and the ones not listed\n"
            "  smartcfg send --ssid MyAP --password-file pw.txt --expect rack7.txt \\\n"
            "      --token 0123456789abcdef0123456789abcdef --json\n"
            "  # bind through a token API (smartcfg cloud prints its URL), JSON events\n"
            "  smartcfg send --ssid MyAP --password-file pw.txt --cloud http://127.0.0.1:8080 --json\n");
}

static volatile sig_atomic_t g_prompt_signal, g_prompt_stop;

static void prompt_signal(int sig)
{
    if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
        g_prompt_stop = sig;
    else
        g_prompt_signal = sig;
}

/* A stop (Ctrl-Z, or a read or tcsetattr from the background) at the prompt: the caller has put
 * the terminal's modes back; stop as the signal would have, and return once continued (`fg`). */
static void prompt_stop(void)
{
    int sig = g_prompt_stop;
    struct sigaction dfl, mine;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    g_prompt_stop = 0;
    if (sigaction(sig, &dfl, &mine) != 0)
        return;
    raise(sig); /* stopped here until SIGCONT (discarded in an orphaned process group) */
    sigaction(sig, &mine, NULL);
}

/* Sets the terminal's modes; a stop signal in the way (SIGTTOU: put in the background) stops
 * first, then tries again. Putting them back (restore) goes on past a signal that ends the
 * process: a second Ctrl-C while the output drains left echo off. */
static int prompt_modes(const struct termios *t, bool restore)
{
    for (int i = 0; i < 8; i++) {
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, t) == 0)
            return 0;
        if (errno != EINTR || (g_prompt_signal && !restore))
            return -1;
        if (g_prompt_stop)
            prompt_stop();
    }
    return -1;
}

/* Waits for the typed line and reads it; -1 with EINTR once a signal of `mask` was caught (the
 * flags). A signal caught between a check of the flags and a plain read() (a window of a few
 * instructions) was not acted on until the next key: the read waited on with it noted. Here the
 * signals stay blocked from the check to the wait, and pselect unblocks them atomically as it
 * starts waiting: one sent in between is pending, and ends the wait at once. The read itself
 * runs with the caller's mask (a read from the background must still stop the process, SIGTTIN),
 * and only once pselect told of a line (canonical mode: a whole line, an end of input or a
 * hangup): it does not wait. */
static ssize_t prompt_read(char *buf, size_t cap, const sigset_t *mask)
{
    for (;;) {
        sigset_t orig;
        fd_set in;
        if (sigprocmask(SIG_BLOCK, mask, &orig) != 0)
            return -1;
        if (g_prompt_signal || g_prompt_stop) {
            sigprocmask(SIG_SETMASK, &orig, NULL);
            errno = EINTR;
            return -1;
        }
        FD_ZERO(&in);
        FD_SET(STDIN_FILENO, &in);
        int r = pselect(STDIN_FILENO + 1, &in, NULL, NULL, NULL, &orig);
        int err = errno;
        sigprocmask(SIG_SETMASK, &orig, NULL); /* one pending since pselect returned: caught here */
        if (r < 0 && err == EINTR)
            continue; /* the flags say which (or a signal not ours: wait again) */
        if (r < 0) {
            errno = err;
            return -1;
        }
        ssize_t n = read(STDIN_FILENO, buf, cap);
        if (n >= 0 || errno != EINTR)
            return n;
        /* EINTR: a signal during the read (the line gone to another reader of the terminal) */
    }
}

/* Reads one line from a terminal with echo off (a prompt on stderr). -1 on failure. A Ctrl-C
 * (or SIGTERM, SIGHUP, SIGQUIT) at the prompt killed the process with echo still off: the
 * terminal then showed nothing typed until `stty echo` (no shell put it back: sh, a script
 * under `script`/`expect`, a pty of a test runner). Now the terminal is put back first, then the
 * signal ends the process as it would have (exit 130 for Ctrl-C, as the shell reports it).
 * Ctrl-Z the same: echo back while stopped, and off again with the prompt once continued (bash
 * puts its own modes back when a job stops and leaves them on `fg`: the password was then typed
 * in the clear). */
static ssize_t read_tty_password(char *buf, size_t cap)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU };
    struct sigaction sa, prev[sizeof sigs / sizeof sigs[0]];
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = prompt_signal; /* no SA_RESTART: the read returns EINTR */
    sigemptyset(&sa.sa_mask);
    g_prompt_signal = g_prompt_stop = 0;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, &prev[i]) == 0 && prev[i].sa_handler == SIG_IGN)
            sigaction(sigs[i], &prev[i], NULL); /* ignored (nohup): it stays so */
    sigset_t mask;
    sigemptyset(&mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&mask, sigs[i]);
    ssize_t n = -1;
    int saved = errno;
    for (;;) {
        /* Echo off before the prompt: whatever is typed after it is never shown. */
        if (prompt_modes(&quiet, false) != 0) {
            saved = errno;
            break;
        }
        fputs("Wi-Fi password (not shown): ", stderr);
        fflush(stderr);
        n = prompt_read(buf, cap, &mask);
        saved = errno;
        prompt_modes(&old, true);
        fputc('\n', stderr);
        if (!g_prompt_stop || g_prompt_signal)
            break;
        prompt_stop();
        if (n >= 0)
            break; /* the line was read before the stop */
        /* continued: echo off and the prompt again (what was typed before Ctrl-Z is gone) */
    }
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &prev[i], NULL);
    if (g_prompt_signal) {
        explicit_bzero(buf, cap);
        signal(g_prompt_signal, SIG_DFL);
        raise(g_prompt_signal);
        _exit(SC_EXIT_INTERRUPTED); /* not reached: the signal ends the process */
    }
    errno = saved;
    return n;
}

/* What fd gives (a FIFO or a pipe within --input-wait; fd -1: the open failed, errno says why),
 * into buf (cap bytes at most); fd closed. On failure *rc is OPT's usage error (buf wiped) and
 * the result -1; HOLDS says what such a file holds, for the one that is too large. */
static long read_input_file(send_app_t *a, int fd, char *buf, size_t cap, const char *opt, const char *path,
                            const char *holds, int *rc)
{
    char why[256];
    long n = fd >= 0 ? sc_cli_input_read(fd, buf, cap, a->input_wait_s) : -1;
    int err = errno;
    if (fd >= 0)
        close(fd);
    if (n >= 0)
        return n;
    explicit_bzero(buf, cap);
    if (err == EFBIG)
        *rc = sc_cli_usage_error(&a->cli, "%s: '%s' is larger than %zu bytes: %s", opt, path, cap, holds);
    else
        *rc = sc_cli_usage_error(&a->cli, "%s: cannot read '%s': %s", opt, path,
                                 sc_cli_input_why(err, cap, a->input_wait_s, why, sizeof why));
    return -1;
}

/* The one line of what was read (n bytes at buf): after a byte order mark, without its line end
 * (an editor's, Windows' CRLF too); *n becomes its length. */
static char *one_line(char *buf, long *n)
{
    size_t bom = sc_cli_bom(buf, (size_t)*n);
    char *p = buf + bom;
    *n -= (long)bom;
    while (*n > 0 && (p[*n - 1] == '\n' || p[*n - 1] == '\r'))
        (*n)--;
    return p;
}

#define PASSWORD_FILE_MAX 256 /* a line of 64 bytes and its end, a byte order mark: a larger one is no password file */

static int read_password_file(send_app_t *a, const char *path)
{
    char buf[PASSWORD_FILE_MAX];
    long n;
    bool pipe = false, devnull = false, nullin = false, tty = false;
    if (!strcmp(path, "-") && isatty(STDIN_FILENO)) {
        tty = true;
        n = read_tty_password(buf, SC_PASSWORD_MAX + 3);
        if (n < 0)
            return sc_cli_usage_error(&a->cli, "cannot read the password from the terminal");
    } else {
        /* A FIFO (`<(pass show wifi)`, stdin from a pipe) is read, but no longer waited on for
         * ever when nothing writes it (SC_CLI_INPUT_WAIT_S); a directory opens but does not read
         * (EISDIR): neither is an empty password (an open network) sent to the devices. */
        int fd = sc_cli_input_open(path, true);
        struct stat st;
        struct stat null_st, named;
        bool stat_ok = fd >= 0 && fstat(fd, &st) == 0;
        pipe = stat_ok && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
        /* /dev/null holds nothing whatever happens: chosen on purpose, an open network, when it
         * is named itself. Not when it is stdin (`-`, or /dev/stdin, /dev/fd/0, a link to it):
         * a service's stdin (systemd's default), `ssh -n`, `</dev/null` in a script, a job
         * runner's; `--password-file -` there meant a pipe that is not there, and the devices
         * in range got an open network (F128). */
        nullin = stat_ok && S_ISCHR(st.st_mode) && stat("/dev/null", &null_st) == 0 && S_ISCHR(null_st.st_mode) &&
                 st.st_rdev == null_st.st_rdev;
        devnull = nullin && strcmp(path, "-") && lstat(path, &named) == 0 && S_ISCHR(named.st_mode) &&
                  named.st_rdev == null_st.st_rdev;
        int rc = 0;
        n = read_input_file(a, fd, buf, sizeof buf, "--password-file", path,
                            "a password file holds the password (0..64 bytes) on one line", &rc);
        if (n < 0)
            return rc;
    }
    /* The password is the file's one line, as an editor (Windows' too: CRLF, a byte order mark)
     * or `echo` writes it. Nothing of it is ever shown. */
    const long raw = n;   /* as read: 0 for an empty file */
    char *p = one_line(buf, &n);
    /* A second line (`pass show` prints the password, then notes) was sent as part of the
     * password: a device then failed to join with a password nobody typed. */
    bool lines = memchr(p, '\n', (size_t)n) || memchr(p, '\r', (size_t)n);
    /* A NUL byte is no text: a file saved as UTF-16 (Notepad's "Unicode": FF FE, then a zero
     * after each letter) was sent as a password of twice its length plus 2 (F112). A password of
     * any bytes is --password-hex. */
    bool nul = memchr(p, '\0', (size_t)n) != NULL;
    if (lines || nul || n > SC_PASSWORD_MAX) {
        explicit_bzero(buf, sizeof buf);
        if (nul)
            return sc_cli_usage_error(&a->cli, "--password-file: '%s' holds a NUL byte: no text file (UTF-16? save "
                                               "it as UTF-8); a password of any bytes is --password-hex", path);
        if (lines)
            return sc_cli_usage_error(&a->cli, "--password-file: '%s' holds more than one line: the password "
                                               "goes on the first and only line (`pass show NAME | head -n 1`)", path);
        return sc_cli_usage_error(&a->cli, "the password in %s is longer than 64 bytes", path);
    }
    /* No password at all: an open network sent to every device in range. Said only on purpose
     * (--password '', or /dev/null); a file or an answer that holds nothing is an accident far
     * more often: a command that failed (`<(pass show nosuch)`), `echo "$UNSET" > pw.txt` (one
     * empty line), a file not filled yet (`touch`), Enter pressed at the prompt (F121). A line of
     * only spaces or tabs alike (`echo "$A $B"`; a real password of spaces is --password-hex). */
    size_t blanks = 0;
    while (blanks < (size_t)n && (p[blanks] == ' ' || p[blanks] == '\t'))
        blanks++;
    if (blanks == (size_t)n && !(devnull && raw == 0)) {
        explicit_bzero(buf, sizeof buf);
        if (tty)
            return sc_cli_usage_error(&a->cli, "--password-file -: nothing typed (an open network is --password '')");
        if (nullin && raw == 0)
            return sc_cli_usage_error(&a->cli, "--password-file: '%s' reads /dev/null through stdin or a link (a "
                                               "service's stdin, `ssh -n`, `</dev/null`): no password; an open network is "
                                               "--password '' or --password-file /dev/null named as such", path);
        if (pipe && raw == 0)
            return sc_cli_usage_error(&a->cli, "--password-file: '%s' gave nothing (did the command writing it "
                                               "fail?); an open network is --password ''", path);
        if (raw == 0)
            return sc_cli_usage_error(&a->cli, "--password-file: '%s' is empty: no password (a file not filled "
                                               "yet?); an open network is --password '' (or --password-file /dev/null)", path);
        return sc_cli_usage_error(&a->cli, "--password-file: '%s' holds no password, only blank lines, spaces or "
                                           "tabs; an open network is --password '' (a password of spaces: "
                                           "--password-hex)", path);
    }
    memcpy(a->cfg.creds.password, p, (size_t)n);
    a->cfg.creds.password_len = (uint8_t)n;
    explicit_bzero(buf, sizeof buf);
    a->have_password = true;
    return 0;
}

#define TOKEN_FILE_MAX 256 /* a token (64 characters at most), its line end, a byte order mark */

/* --token-file FILE: the bind token on the file's one line, read as the password file is (a FIFO
 * or a pipe within --input-wait; CRLF and a byte order mark taken). Nothing of it is shown. */
static int read_token_file(send_app_t *a, const char *path)
{
    char buf[TOKEN_FILE_MAX + 1];
    int rc = 0;
    long n = read_input_file(a, sc_cli_input_open(path, true), buf, TOKEN_FILE_MAX, "--token-file", path,
                             "a token file holds the token on one line", &rc);
    if (n < 0)
        return rc;
    char *p = one_line(buf, &n);
    bool nul = memchr(p, '\0', (size_t)n) != NULL;
    p[n] = 0;
    if (nul || !sc_posix_sender_printable(p, SC_TOKEN_MAX)) {
        explicit_bzero(buf, sizeof buf);
        return sc_cli_usage_error(&a->cli, "--token-file: '%s' holds no token: want one line of 1..64 printable "
                                           "ASCII characters without spaces", path);
    }
    snprintf(a->token, sizeof a->token, "%s", p);
    explicit_bzero(buf, sizeof buf);
    return 0;
}

/* $SMARTCFG_AES_KEY: the v2 device key out of argv (the device reads the same variable). Only
 * for --protocol v2 without --aes-key: a key left in the environment changes no v1 or AirKiss
 * run. The value is never shown. */
static int aes_key_from_env(send_app_t *a)
{
    sc_send_extra_t *x = &a->cfg.extra;
    const char *env = a->env_aes;
    if (x->key || a->cfg.proto != SC_PROTO_ESPTOUCH_V2 || !env || !env[0])
        return 0;
    if (strlen(env) != sizeof a->aes_key)
        return sc_cli_bad_value(&a->cli, "$SMARTCFG_AES_KEY", NULL, "16 characters");
    memcpy(a->aes_key, env, sizeof a->aes_key);
    x->key = a->aes_key;
    return 0;
}

/* A secret option's warning, once however often the option is given: what it is, on the
 * command line, and the way that keeps it out of argv. */
static void warn_argv(send_app_t *a, bool *said, const char *what, const char *way)
{
    if (!*said)
        sc_cli_warn(&a->cli, "%s on the command line is visible to other users (use %s)", what, way);
    *said = true;
}

static int set_ssid(send_app_t *a, const char *v, bool hex)
{
    sc_et_creds_t *c = &a->cfg.creds;
    if (a->have_ssid)
        return sc_cli_usage_error(&a->cli, "give the SSID once (--ssid or --ssid-hex)");
    int n = strlen(v) > SC_SSID_MAX ? -2 : (int)strlen(v);
    if (hex && (n = sc_posix_parse_hex(v, c->ssid, SC_SSID_MAX)) == -1)
        return sc_cli_bad_value(&a->cli, "--ssid-hex", v, "hex digits for 1..32 bytes");
    if (n == -2)
        return sc_cli_bad_value(&a->cli, hex ? "--ssid-hex" : "--ssid", v, hex ? "hex digits for 1..32 bytes" : "1..32 bytes");
    if (n == 0)
        return sc_cli_bad_value(&a->cli, hex ? "--ssid-hex" : "--ssid", v, hex ? "hex digits for 1..32 bytes" : "1..32 bytes");
    if (!hex)
        memcpy(c->ssid, v, (size_t)n);
    c->ssid_len = (uint8_t)n;
    a->have_ssid = true;
    return 0;
}

static int set_password(send_app_t *a, char *v, bool hex)
{
    sc_et_creds_t *c = &a->cfg.creds;
    if (a->have_password)
        return sc_cli_usage_error(&a->cli, "give the password once");
    int n = strlen(v) > SC_PASSWORD_MAX ? -2 : (int)strlen(v);
    if (hex && (n = sc_posix_parse_hex(v, c->password, SC_PASSWORD_MAX)) == -1)
        return sc_cli_bad_value(&a->cli, "--password-hex", NULL, "hex digits for 0..64 bytes");
    if (n == -2)
        return sc_cli_bad_value(&a->cli, hex ? "--password-hex" : "--password", NULL,
                                hex ? "hex digits for 0..64 bytes" : "0..64 bytes");
    if (!hex && n > 0)
        memcpy(c->password, v, (size_t)n);
    c->password_len = (uint8_t)n;
    a->have_password = true;
    /* Blank it in argv: /proc/<pid>/cmdline would show it for the whole run. */
    memset(v, 'x', strlen(v));
    if (n > 0)
        sc_cli_warn(&a->cli, "a password on the command line is visible to other users "
                             "(use --password-file FILE, or --password-file - to type it)");
    return 0;
}

static int set_count(send_app_t *a, const char *v)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    /* digits only: strtol also took " 5" and "+5" */
    if (errno || *end || end == v || v[strspn(v, "0123456789")] || n < 0 || n > SC_SEND_MAX_DEVICES)
        return sc_cli_bad_value(&a->cli, "--count", v, "a whole number of devices in 0..32 (0: all that answer)");
    a->cfg.count = (uint32_t)n;
    a->have_count = true;
    return 0;
}

/* --expect FILE: read after the options (load_expect), so a bad line is a usage error before
 * any socket opens */
static int set_expect(send_app_t *a, const char *v)
{
    if (a->expect_path)
        return sc_cli_usage_error(&a->cli, "give --expect once (one file for the rack)");
    a->expect_path = v;
    return 0;
}

/* The --expect file, once the secrets it must not name are known: a line that is the password
 * being sent (from --password, --password-hex, --password-file or the prompt; or its hex form,
 * what --password-hex takes, in either case), the token, the AccessToken or the v2 device key
 * would name a device the summary lists as never acked. */
static int load_expect(send_app_t *a, bool with_secrets)
{
    char why[512];
    const char *v = a->expect_path;
    const char *access = a->cfg.access_token ? a->cfg.access_token : a->cfg.cloud_url ? a->env_access : NULL;
    const send_expect_secret_t secrets[] = {
        { "the Wi-Fi password being sent", a->cfg.creds.password, a->cfg.creds.password_len, true },
        { "the --token value", (const uint8_t *)a->cfg.token, a->cfg.token ? strlen(a->cfg.token) : 0, false },
        { "the AccessToken", (const uint8_t *)access, access ? strlen(access) : 0, false },
        { "the --aes-key value", a->cfg.extra.key, a->cfg.extra.key ? sizeof a->aes_key : 0, false },
    };
    sc_cli_shown(v, a->expect_shown, sizeof a->expect_shown);
    if (!strcmp(v, "-"))
        snprintf(a->expect_shown, sizeof a->expect_shown, "the list on stdin");
    if (send_expect_load(&a->expect, v, a->input_wait_s, secrets, with_secrets ? sizeof secrets / sizeof secrets[0] : 0,
                         why, sizeof why))
        return sc_cli_usage_error(&a->cli, "--expect %s: %s", v, why);
    a->have_expect = true;
    return 0;
}

/* --linger SECONDS: decimal seconds as --timeout takes them, 0..60 */
static int set_linger(send_app_t *a, const char *v)
{
    size_t i = strspn(v, "0123456789");
    if (i && v[i] == '.')
        i += 1 + strspn(v + i + 1, "0123456789");
    double sec = i && !v[i] ? strtod(v, NULL) : -1;
    if (!(sec >= 0 && sec <= 60))
        return sc_cli_bad_value(&a->cli, "--linger", v, "a number of seconds in 0..60 (a fraction may follow a dot)");
    a->cfg.linger_ms = (uint32_t)(sec * 1000.0 + 0.5);
    return 0;
}

/* --expect: the run has its devices once every line has one (the host asks each turn) */
static bool expect_all_found(void *user)
{
    send_app_t *a = user;
    send_expect_match(&a->expect, a->s);
    return send_expect_all_found(&a->expect);
}

static int set_timeout(send_app_t *a, const char *v)
{
    /* plain decimal (digits, an optional fraction): strtod alone took 0x10 and 1e3 */
    size_t i = strspn(v, "0123456789");
    if (i && v[i] == '.')
        i += 1 + strspn(v + i + 1, "0123456789");
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (!i || v[i] || errno || *end || end == v || !(s > 0 && s <= 3600))
        return sc_cli_bad_value(&a->cli, "--timeout", v, "a number of seconds above 0, at most 3600 (a fraction may follow a dot)");
    a->cfg.timeout_ms = (uint32_t)(s * 1000.0 + 0.5);
    if (!a->cfg.timeout_ms)
        a->cfg.timeout_ms = 1;
    return 0;
}

enum { O_SSID = 256, O_SSID_HEX, O_PASSWORD, O_PASSWORD_HEX, O_PASSWORD_FILE, O_BSSID, O_IP, O_IFACE,
       O_MULTICAST, O_DEST, O_COUNT, O_TIMEOUT, O_TOKEN, O_CLOUD, O_REGION, O_ACCESS, O_NO_TOKEN, O_JSON,
       O_PROTOCOL, O_AESKEY, O_RANDIV, O_RES, O_RES_HEX, O_PORTMARK, O_EXPECT, O_LINGER, O_INPUT_WAIT,
       O_TOKEN_FILE };

/* v2 segment padding and the random parts: varied, not secret */
static uint8_t send_pad(void *user)
{
    (void)user;
    return (uint8_t)(rand() % 127);
}

/* --protocol and the v2 options. -1: not one of them. */
static int protocol_option(send_app_t *a, int o, char *v)
{
    sc_send_extra_t *x = &a->cfg.extra;
    int n;
    switch (o) {
    case O_PROTOCOL: {
        unsigned m;
        /* one name: a list ("v1,v1", "v1,esptouch") is not a protocol, even when it names one */
        if (strchr(v, ',') || sc_proto_parse(v, &m) != SC_OK ||
            (m != SC_PROTO_ESPTOUCH_V1 && m != SC_PROTO_ESPTOUCH_V2 && m != SC_PROTO_AIRKISS))
            return sc_cli_bad_value(&a->cli, "--protocol", v, "one of v1, v2, airkiss");
        a->cfg.proto = (sc_proto_t)m;
        return 0;
    }
    case O_AESKEY:
        if (strlen(v) != sizeof a->aes_key)
            return sc_cli_bad_value(&a->cli, "--aes-key", NULL, "16 characters");
        memcpy(a->aes_key, v, sizeof a->aes_key);
        x->key = a->aes_key;
        /* the device key guards the Wi-Fi password on the air: not in /proc/<pid>/cmdline */
        memset(v, 'x', strlen(v));
        /* blanked only once read, as the password: it was visible until then, without a word */
        warn_argv(a, &a->warned_aes, "a device key", "$SMARTCFG_AES_KEY");
        return 0;
    case O_RANDIV:
        x->random_iv = 1;
        return 0;
    case O_RES:
        if (strlen(v) > SC_ET2_RESERVED_MAX)
            return sc_cli_bad_value(&a->cli, "--reserved", v, "0..64 bytes");
        x->reserved_len = (uint8_t)strlen(v);
        memcpy(a->reserved, v, x->reserved_len);
        x->reserved = a->reserved;
        return 0;
    case O_RES_HEX:
        n = sc_posix_parse_hex(v, a->reserved, SC_ET2_RESERVED_MAX);
        if (n < 0)
            return sc_cli_bad_value(&a->cli, "--reserved-hex", v, "hex digits for 0..64 bytes");
        x->reserved_len = (uint8_t)n;
        x->reserved = a->reserved;
        return 0;
    case O_PORTMARK:
        if (v[0] < '0' || v[0] > '3' || v[1])
            return sc_cli_bad_value(&a->cli, "--port-mark", v, "a whole number in 0..3");
        x->port_mark = (uint8_t)(v[0] - '0');
        return 0;
    default:
        return -1;
    }
}

/* The network options. -1: not one of them. */
static int net_option(send_app_t *a, int o, char *v)
{
    sc_et_creds_t *c = &a->cfg.creds;
    switch (o) {
    case O_BSSID:
        if (sc_posix_parse_mac(v, c->bssid) != SC_OK)
            return sc_cli_bad_value(&a->cli, "--bssid", v, "a MAC address like aa:bb:cc:dd:ee:ff");
        a->have_bssid = true;
        return 0;
    case O_IP:
        if (sc_posix_parse_ipv4(v, c->phone_ip) != SC_OK)
            return sc_cli_bad_value(&a->cli, "--ip", v, "an IPv4 address like 192.168.1.100");
        a->have_ip = true;
        return 0;
    case O_IFACE:
        if (!sc_posix_iface_exists(v))
            return sc_cli_usage_error(&a->cli, "no network interface named '%s'", v);
        a->cfg.net.iface = v;
        return 0;
    case O_MULTICAST:
        a->multicast = true;
        return 0;
    case O_DEST:
        if (sc_posix_parse_ipv4(v, a->cfg.net.dest) != SC_OK)
            return sc_cli_bad_value(&a->cli, "--dest", v, "an IPv4 address like 192.168.1.255");
        a->have_dest = true;
        return 0;
    default:
        return -1;
    }
}

/* The token / cloud options. -1: not one of them. */
static int token_option(send_app_t *a, int o, char *v)
{
    switch (o) {
    case O_TOKEN:
        if (a->token_path)
            return sc_cli_usage_error(&a->cli, "give the token once (--token or --token-file)");
        if (!sc_posix_sender_printable(v, SC_TOKEN_MAX))
            return sc_cli_bad_value(&a->cli, "--token", NULL, "1..64 printable ASCII characters without spaces");
        snprintf(a->token, sizeof a->token, "%s", v);
        memset(v, 'x', strlen(v));
        a->cfg.token = a->token;
        /* a bind token binds whatever device presents it to the app user's family while it
         * lives: blanked once read, and said as the password is (it was neither said nor kept
         * out of argv another way) */
        warn_argv(a, &a->warned_token, "a bind token", "--token-file FILE, or --token-file - to pipe it in");
        return 0;
    case O_TOKEN_FILE:
        if (a->token_path || a->cfg.token)
            return sc_cli_usage_error(&a->cli, "give the token once (--token or --token-file)");
        a->token_path = v;          /* read after the options (check_options) */
        a->cfg.token = a->token;    /* the flow is the token's; the token itself comes then */
        return 0;
    case O_CLOUD: {
        if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
            /* not shown: a URL may carry a password (http://user:pass@host), as the cloud's --db */
            return sc_cli_bad_value(&a->cli, "--cloud", NULL, "an http:// or https:// URL");
        if (strlen(v) >= sizeof a->cloud_buf)
            return sc_cli_bad_value(&a->cli, "--cloud", NULL, "an http:// or https:// URL of at most %zu characters",
                                    sizeof a->cloud_buf - 1);
        snprintf(a->cloud_buf, sizeof a->cloud_buf, "%s", v);
        a->cfg.cloud_url = a->cloud_buf;
        /* libcurl sends a user part's password as HTTP Basic authentication (a proxy in front
         * of the token API): it was in argv for the whole run, without a word */
        size_t len;
        char *pw = sc_cli_url_password(v, &len);
        if (pw) {
            memset(pw, 'x', len);
            warn_argv(a, &a->warned_cloud, "a password in the --cloud URL", "http://USER@... and $SC_CLOUD_PASSWORD");
        }
        return 0;
    }
    case O_REGION:
        if (!sc_posix_sender_printable(v, SC_REGION_MAX))
            return sc_cli_bad_value(&a->cli, "--region", v, "1..32 printable ASCII characters without spaces");
        a->cfg.region = v;
        return 0;
    case O_ACCESS:
        if (strlen(v) >= sizeof a->access_buf)
            return sc_cli_bad_value(&a->cli, "--access-token", NULL, "at most 255 characters");
        snprintf(a->access_buf, sizeof a->access_buf, "%s", v);
        memset(v, 'x', strlen(v)); /* a secret of the app user: not in argv */
        a->cfg.access_token = a->access_buf;
        /* blanked only once read: until then /proc/<pid>/cmdline showed the app user's login,
         * and unlike the password's, its warning was missing */
        if (v[0])
            warn_argv(a, &a->warned_access, "an AccessToken", "$SC_ACCESS_TOKEN");
        return 0;
    case O_NO_TOKEN:
        a->no_token = true;
        return 0;
    default:
        return -1;
    }
}

static int one_option(send_app_t *a, int o, char *v)
{
    switch (o) {
    case O_SSID: case O_SSID_HEX: return set_ssid(a, v, o == O_SSID_HEX);
    case O_PASSWORD: case O_PASSWORD_HEX: return set_password(a, v, o == O_PASSWORD_HEX);
    case O_PASSWORD_FILE:
        if (a->have_password)
            return sc_cli_usage_error(&a->cli, "give the password once");
        a->password_path = v;   /* read after the options (check_options) */
        a->have_password = true;
        return 0;
    case O_INPUT_WAIT: return sc_cli_input_wait(&a->cli, v, &a->input_wait_s);
    case O_COUNT: return set_count(a, v);
    case O_TIMEOUT: return set_timeout(a, v);
    case O_EXPECT: return set_expect(a, v);
    case O_LINGER: return set_linger(a, v);
    case O_JSON:
        a->json = true;
        return 0;
    default: {
        int rc = net_option(a, o, v);
        if (rc < 0)
            rc = protocol_option(a, o, v);
        return rc >= 0 ? rc : token_option(a, o, v);
    }
    }
}

/* After the options: what goes together, and the flow. */
static int check_options(send_app_t *a, int argc, char **argv)
{
    if (optind < argc)
        return sc_cli_usage_error(&a->cli, "unexpected argument '%s'", argv[optind]);
    if (a->cfg.token && a->cfg.cloud_url)
        return sc_cli_usage_error(&a->cli, "--token and --cloud exclude each other");
    if (a->no_token && (a->cfg.token || a->cfg.cloud_url))
        return sc_cli_usage_error(&a->cli, "--no-token excludes --token and --cloud");
    if (a->multicast && a->have_dest)
        return sc_cli_usage_error(&a->cli, "--multicast and --dest exclude each other");
    if (!a->have_password)
        return sc_cli_usage_error(&a->cli, "--password is required (--password '' for an open network)");
    a->cfg.flow = a->cfg.cloud_url ? SC_POSIX_SENDER_CLOUD
                  : a->cfg.token ? SC_POSIX_SENDER_TOKEN : SC_POSIX_SENDER_ACK_ONLY;
    a->cfg.net.mode = a->multicast ? SC_POSIX_DEST_MULTICAST
                      : a->have_dest ? SC_POSIX_DEST_UNICAST : SC_POSIX_DEST_BROADCAST;
    /* Options that only a cloud or a token uses were ignored without a word. */
    if (a->cfg.access_token && !a->cfg.cloud_url)
        return sc_cli_usage_error(&a->cli, "--access-token goes with --cloud URL (the token API's AccessToken)");
    if (a->cfg.region && a->cfg.flow == SC_POSIX_SENDER_ACK_ONLY)
        return sc_cli_usage_error(&a->cli, "--region goes with --token or --cloud (it travels with the token)");
    /* The password file (the prompt, `--password-file -` on a terminal) once the options that
     * need no password are known to go together: a password typed and then a usage error that
     * the command line alone made was to be typed again (F129) */
    int frc;
    if (a->expect_path && !strcmp(a->expect_path, "-")) {
        /* stdin, as for --password-file (`jq … rack7.jsonl | smartcfg send --expect -`, the
         * re-run of the lines not done): "-" was a file of that name, "No such file" */
        if (a->password_path && !strcmp(a->password_path, "-"))
            return sc_cli_usage_error(&a->cli, "--expect - and --password-file - both read stdin: give one of "
                                               "them as a file (or <(...))");
        if (isatty(STDIN_FILENO))
            return sc_cli_usage_error(&a->cli, "--expect -: stdin is a terminal; pipe the list in, or give a file");
    }
    if (a->token_path && !strcmp(a->token_path, "-")) {
        if ((a->password_path && !strcmp(a->password_path, "-")) || (a->expect_path && !strcmp(a->expect_path, "-")))
            return sc_cli_usage_error(&a->cli, "--token-file - and --%s - both read stdin: give one of them as a "
                                               "file (or <(...))",
                                      a->password_path && !strcmp(a->password_path, "-") ? "password-file" : "expect");
        if (isatty(STDIN_FILENO))
            return sc_cli_usage_error(&a->cli, "--token-file -: stdin is a terminal; pipe the token in, or give a file");
    }
    if (a->expect_path && a->have_count) {
        /* the same: the command line alone excludes it. The message names the file's devices,
         * so the file is read first, without the secrets (its lines are never shown) */
        if ((frc = load_expect(a, false)) != 0)
            return frc;
        return sc_cli_usage_error(&a->cli, "--expect and --count exclude each other (the run waits for the %u "
                                  "device%s of %s)", a->expect.n, a->expect.n == 1 ? "" : "s", a->expect_shown);
    }
    frc = a->password_path ? read_password_file(a, a->password_path) : 0;
    if (!frc && a->token_path)
        frc = read_token_file(a, a->token_path);
    if (!frc)
        frc = aes_key_from_env(a);
    if (frc)
        return frc;
    if (a->expect_path && (frc = load_expect(a, true)) != 0)
        return frc;
    for (uint32_t k = 0; a->have_expect && a->cfg.flow == SC_POSIX_SENDER_ACK_ONLY && k < a->expect.n; k++)
        if (!a->expect.e[k].has_mac)
            return sc_cli_usage_error(&a->cli, "--expect %s: line %u names a device without its MAC: without --token "
                                      "or --cloud no device tells its name (give its MAC)", a->expect_shown,
                                      a->expect.e[k].line);
    if (a->have_expect) {
        a->cfg.count = 0; /* every device that acks is taken (32 at most) and matched to the file */
        a->cfg.all_found = expect_all_found;
    }
    if (!a->cfg.access_token)
        a->cfg.access_token = a->env_access;
    const char *cpw = a->env_cloud_pw;
    if (a->cfg.cloud_url && cpw && cpw[0]) {
        /* http://USER@HOST: the password out of argv (never shown) */
        char with[sizeof a->cloud_buf];
        int r = sc_cli_url_add_password(a->cloud_buf, cpw, with, sizeof with);
        if (r == 0)
            memcpy(a->cloud_buf, with, sizeof with);
        explicit_bzero(with, sizeof with);
        if (r == -2)
            return sc_cli_usage_error(&a->cli, "--cloud with $SC_CLOUD_PASSWORD is longer than %zu characters",
                                      sizeof a->cloud_buf - 1);
    }
    sc_send_extra_t *x = &a->cfg.extra;
    int v2rc = sc_cli_v2_options(&a->cli, a->cfg.proto == SC_PROTO_ESPTOUCH_V2, x->key != NULL, x->random_iv,
                                 x->reserved_len || x->port_mark, a->cfg.creds.password, a->cfg.creds.password_len);
    if (v2rc)
        return v2rc;
    struct timespec rs;
    clock_gettime(CLOCK_REALTIME, &rs);
    srand((unsigned)rs.tv_nsec ^ (unsigned)getpid());
    x->random = (uint8_t)(rand() % 127);
    /* the AES IV of security 2: from the kernel's generator, as an app draws it, not from a
     * rand() seeded with the clock and the pid */
    sc_posix_random(x->iv, SC_ET2_IV_WIRE);
    x->pad = send_pad;
    return 0;
}

/* 0 to run, else the exit code (0 after --help / --version). */
static int parse_args(send_app_t *a, int argc, char **argv)
{
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
        { "token-file", required_argument, NULL, O_TOKEN_FILE },
        { "cloud", required_argument, NULL, O_CLOUD },
        { "region", required_argument, NULL, O_REGION },
        { "access-token", required_argument, NULL, O_ACCESS },
        { "no-token", no_argument, NULL, O_NO_TOKEN },
        { "json", no_argument, NULL, O_JSON },
        { "protocol", required_argument, NULL, O_PROTOCOL },
        { "aes-key", required_argument, NULL, O_AESKEY },
        { "random-iv", no_argument, NULL, O_RANDIV },
        { "reserved", required_argument, NULL, O_RES },
        { "reserved-hex", required_argument, NULL, O_RES_HEX },
        { "port-mark", required_argument, NULL, O_PORTMARK },
        { "expect", required_argument, NULL, O_EXPECT },
        { "linger", required_argument, NULL, O_LINGER },
        { "input-wait", required_argument, NULL, O_INPUT_WAIT },
        SC_CLI_STD_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    a->cli.longopts = opts;
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, SC_CLI_SHORTOPTS, opts, NULL)) != -1) {
        int rc = sc_cli_std_option(&a->cli, o, argv);
        if (rc < 0)
            rc = one_option(a, o, optarg);
        if (rc)
            return rc;
        if (o == 'h' || o == SC_CLI_OPT_VERSION)
            return -1; /* done: exit 0 */
    }
    return check_options(a, argc, argv);
}

/* Fills what the command line left out from the host: SSID/BSSID (nl80211), phone IP. */
static int complete_from_wifi(send_app_t *a)
{
    sc_et_creds_t *c = &a->cfg.creds;
    char why[160];
    sc_posix_wifi_assoc_t w;
    if (sc_posix_wifi_assoc(a->cfg.net.iface, &w, why, sizeof why))
        return sc_cli_usage_error(&a->cli, "cannot find the %s of the current Wi-Fi association: %s; pass %s",
                                  !a->have_ssid ? "SSID" : "BSSID", why,
                                  !a->have_ssid ? "--ssid (and --bssid)" : "--bssid");
    if (!a->have_ssid) {
        if (!w.ssid_len)
            return sc_cli_usage_error(&a->cli, "%s reports no SSID; pass --ssid", w.ifname);
        memcpy(c->ssid, w.ssid, w.ssid_len);
        c->ssid_len = w.ssid_len;
    } else if (w.ssid_len && (w.ssid_len != c->ssid_len || memcmp(w.ssid, c->ssid, w.ssid_len))) {
        sc_cli_warn(&a->cli, "%s is associated to another SSID; using its BSSID anyway", w.ifname);
    }
    if (!a->have_bssid)
        memcpy(c->bssid, w.bssid, 6);
    if (!a->cfg.net.iface && !a->have_ip) {
        static char ifn[IF_NAMESIZE];
        memcpy(ifn, w.ifname, sizeof ifn);
        a->cfg.net.iface = ifn;
    }
    return 0;
}

static int complete_from_host(send_app_t *a)
{
    sc_et_creds_t *c = &a->cfg.creds;
    int rc = (!a->have_ssid || !a->have_bssid) ? complete_from_wifi(a) : 0;
    if (rc)
        return rc;
    const char *iface = a->cfg.net.iface;
    char ip[16];
    fmt_ip(ip, c->phone_ip);
    if (!a->have_ip && sc_posix_iface_ipv4(iface, c->phone_ip, NULL, 0))
        return sc_cli_usage_error(&a->cli, "%s%s has no IPv4 address; pass --ip", iface ? "interface " : "this host",
                                  iface ? iface : "");
    if (a->have_ip && !sc_posix_ip_is_local(c->phone_ip))
        return sc_cli_usage_error(&a->cli, "--ip %s is not an address of this host (devices answer to it)", ip);
    if ((unsigned)c->ssid_len + c->password_len > SC_ET_SP_MAX)
        return sc_cli_usage_error(&a->cli, "SSID (%u bytes) + password (%u bytes) exceed the 113 bytes ESP-TOUCH v1 "
                                  "can carry", c->ssid_len, c->password_len);
    /* Printable SSID for reports: escape anything that could drive a terminal. */
    size_t k = 0;
    for (unsigned i = 0; i < c->ssid_len && k + 5 < sizeof a->ssid_text; i++) {
        unsigned char ch = c->ssid[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            a->ssid_text[k++] = (char)ch;
        else
            k += (size_t)snprintf(a->ssid_text + k, sizeof a->ssid_text - k, "\\x%02x", ch);
    }
    a->ssid_text[k] = '\0';
    return 0;
}

static int run(send_app_t *a)
{
    char why[256];
    a->cfg.on_event = on_event;
    a->cfg.on_turn = progress;
    a->cfg.user = a;
    a->tty = isatty(STDOUT_FILENO);
    if (sc_posix_sender_open(&a->s, &a->cfg, why, sizeof why))
        return sc_cli_fail(&a->cli, SC_EXIT_FAIL, "%s", why);
    int rc = SC_EXIT_CLOUD;
    if (a->cfg.flow != SC_POSIX_SENDER_CLOUD || sc_posix_sender_create_token(a->s) == SC_OK) {
        sc_posix_sender_run(a->s);
        rc = summary(a);
    }
    sc_posix_sender_close(a->s);
    return rc;
}

static void env_free(send_app_t *a)
{
    sc_cli_free_wiped(&a->env_aes);
    sc_cli_free_wiped(&a->env_access);
    sc_cli_free_wiped(&a->env_cloud_pw);
}

int cmd_send(int argc, char **argv)
{
    static send_app_t app; /* the credentials: off the stack, wiped below */
    send_app_t *a = &app;
    memset(a, 0, sizeof *a);
    sc_cli_no_core(); /* before any secret is read: no core dump holds one */
    sc_cli_init(&a->cli, "smartcfg send", usage, NULL, argc, argv);
    /* the secrets' variables out of the environment before anything can wait (a password FIFO):
     * copied, wiped where exec put them and unset; /proc/PID/environ kept them for the run (F185) */
    if (sc_cli_env_take("SMARTCFG_AES_KEY", &a->env_aes) < 0 || sc_cli_env_take("SC_ACCESS_TOKEN", &a->env_access) < 0 ||
        sc_cli_env_take("SC_CLOUD_PASSWORD", &a->env_cloud_pw) < 0) {
        env_free(a);
        return sc_cli_fail(&a->cli, SC_EXIT_FAIL, "out of memory");
    }
    sc_posix_sender_cfg_default(&a->cfg);
    a->cfg.linger_ms = 3000; /* late acks after the run had its devices: told, docs/send.md */
    a->input_wait_s = SC_CLI_INPUT_WAIT_S;
    int rc = parse_args(a, argc, argv);
    if (rc == 0)
        rc = complete_from_host(a);
    if (rc == 0)
        rc = run(a);
    env_free(a);
    explicit_bzero(a, sizeof *a);
    return rc < 0 ? SC_EXIT_OK : rc;
}
