/* SPDX-License-Identifier: Apache-2.0 */
/* `smartcfg device`: the device side on a Linux host. Options come from device_opts.c, the
 * device runs in the POSIX port's device host (ports/posix/sc_posix_host.h: HAL, clock, frame
 * pump, poll loop, AT line); this file reports what happens: human lines on stderr, one JSON
 * object per line on stdout with --json, and the exit code. Secrets (Wi-Fi password,
 * device/product secret, token) are never printed. Documented in docs/device-linux.md. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "device_opts.h"
#include "device_run.h"
#include <cjson/cJSON.h>

#include "sc_posix.h"
#include "sc_posix_event.h"
#include "sc_posix_host.h"
#include "smartcfg/tc8266.h"
#include "smartcfg/device.h"
#include "smartcfg/receiver.h"
#include "smartcfg/errors.h"
#include "smartcfg/version.h"

typedef struct {
    bool json;
    sc_posix_host_t *host;
    sc_device_state_t state;
    uint16_t err_id;
    int32_t sub_id;
    bool have_error;
} reporter_t;

/* An object from a printf'd list of fields ",\"k\":v..." (numbers, addresses, names and the
 * reason table's sentences: nothing that needs escaping). */
static cJSON *fields(const char *fmt, va_list ap)
{
    char buf[512] = "{";
    if (fmt)
        vsnprintf(buf + 1, sizeof buf - 2, fmt, ap);
    if (buf[1] == ',')
        memmove(buf + 1, buf + 2, strlen(buf + 2) + 1);
    size_t n = strlen(buf);
    buf[n] = '}';
    buf[n + 1] = '\0';
    cJSON *o = cJSON_Parse(buf);
    return o ? o : cJSON_CreateObject();
}

static cJSON *fields_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *fields_of(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cJSON *o = fields(fmt, ap);
    va_end(ap);
    return o;
}

/* One JSON event through the tools' one printer (docs/json.md). */
static void json_event(const reporter_t *r, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void json_event(const reporter_t *r, const char *event, const char *fmt, ...)
{
    if (!r->json)
        return;
    va_list ap;
    va_start(ap, fmt);
    cJSON *o = fields(fmt, ap);
    va_end(ap);
    sc_posix_event(event, sc_posix_host_ms(r->host), o);
}

/* Adds a text field of raw bytes (SSIDs may be anything): each byte becomes the code point of
 * the same value (Latin-1), so any byte string is valid JSON text. */
static void add_bytes(cJSON *o, const char *key, const uint8_t *s, size_t n)
{
    char text[2 * 256 + 1];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 < sizeof text; i++) {
        uint8_t c = s[i];
        if (c < 0x80) {
            text[k++] = (char)c;
        } else {
            text[k++] = (char)(0xc0 | (c >> 6));
            text[k++] = (char)(0x80 | (c & 0x3f));
        }
    }
    text[k] = '\0';
    cJSON_AddStringToObject(o, key, text);
}

/* Same as json_event with a text field of raw bytes after the printf'd fields (prefix). */
static void json_text_event(const reporter_t *r, const char *event, const char *prefix, const char *key,
                            const uint8_t *s, size_t n)
{
    if (!r->json)
        return;
    cJSON *o = fields_of("%s", prefix);
    add_bytes(o, key, s, n);
    sc_posix_event(event, sc_posix_host_ms(r->host), o);
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

#define IP4(a) (a)[0], (a)[1], (a)[2], (a)[3]

static void on_error_event(reporter_t *r, const sc_device_event_t *ev)
{
    r->have_error = true;
    r->err_id = ev->err_id;
    r->sub_id = ev->sub_id;
    const char *text = ev->text ? ev->text : "";
    /* the reference's words and numbers for the app, a plain sentence for the person */
    const char *reason = sc_errid_reason(ev->err_id, ev->sub_id);
    sc_posix_host_log(r->host, SC_LOG_ERROR, "%s (%s, error %u/%d)", reason, text, ev->err_id, (int)ev->sub_id);
    char ids[256];
    snprintf(ids, sizeof ids, ",\"err_id\":%u,\"sub_id\":%d,\"reason\":\"%s\"", ev->err_id, (int)ev->sub_id, reason);
    json_text_event(r, "error", ids, "text", (const uint8_t *)text, strlen(text));
}

static void on_event(void *user, const sc_device_event_t *ev)
{
    reporter_t *r = user;
    sc_posix_host_t *h = r->host;
    char ssid[32 * 4 + 1];
    size_t sl = ev->ssid_len > 32 ? 32 : ev->ssid_len;
    switch (ev->type) {
    case SC_DEV_EV_STATE:
        r->state = ev->state;
        /* the device's own record line says it ("[idle] enter sniffing"): one line per step */
        sc_posix_host_log(h, SC_LOG_DEBUG, "state: %s", sc_device_state_name(ev->state));
        json_event(r, "state", ",\"state\":\"%s\"", sc_device_state_name(ev->state));
        break;
    case SC_DEV_EV_LOCKED:
        /* every protocol's lock carries its stream's overhead (receiver.h) */
        if ((sc_proto_t)ev->proto == SC_PROTO_ESPTOUCH_V1)
            sc_posix_host_log(h, SC_LOG_INFO, "locked: channel %u, overhead %u", ev->channel, ev->offset);
        else
            sc_posix_host_log(h, SC_LOG_INFO, "locked (%s): channel %u, overhead %u",
                              sc_proto_name((sc_proto_t)ev->proto), ev->channel, ev->offset);
        json_event(r, "lock", ",\"channel\":%u,\"offset\":%u,\"protocol\":\"%s\"", ev->channel, ev->offset,
                   sc_proto_name((sc_proto_t)ev->proto));
        break;
    case SC_DEV_EV_PROGRESS:
        sc_posix_host_log(h, SC_LOG_DEBUG, "progress: %u/%u", ev->known, ev->needed);
        json_event(r, "progress", ",\"known\":%u,\"needed\":%u", ev->known, ev->needed);
        break;
    case SC_DEV_EV_CREDENTIALS: {
        /* the protocol, and ESP-TOUCH v2's reserved (custom) data: the phone's message to the
         * application (docs/device-linux.md); the log gives its size, the JSON its bytes */
        const sc_proto_t proto = (sc_proto_t)ev->proto;
        shown_ssid(ssid, sizeof ssid, ev->ssid, sl);
        if (proto == SC_PROTO_ESPTOUCH_V2)
            sc_posix_host_log(h, SC_LOG_INFO, "credentials: SSID \"%s\" (password not shown), reserved data %u bytes",
                              ssid, (unsigned)ev->reserved_len);
        else
            sc_posix_host_log(h, SC_LOG_INFO, "credentials: SSID \"%s\" (password not shown)", ssid);
        if (!r->json)
            break;
        cJSON *o = cJSON_CreateObject();
        add_bytes(o, "ssid", ev->ssid, sl);
        cJSON_AddStringToObject(o, "protocol", sc_proto_name(proto));
        if (proto == SC_PROTO_ESPTOUCH_V2) {
            static const char hexd[] = "0123456789abcdef";
            char hex[2 * 255 + 1];
            size_t n = ev->reserved ? ev->reserved_len : 0;
            for (size_t i = 0; i < n; i++) {
                hex[2 * i] = hexd[ev->reserved[i] >> 4];
                hex[2 * i + 1] = hexd[ev->reserved[i] & 15];
            }
            hex[2 * n] = '\0';
            cJSON_AddStringToObject(o, "reserved_hex", hex);
        }
        sc_posix_event("credentials", sc_posix_host_ms(h), o);
        break;
    }
    case SC_DEV_EV_IP:
        sc_posix_host_log(h, SC_LOG_INFO, "ip: %u.%u.%u.%u", IP4(ev->ip));
        json_event(r, "ip", ",\"ip\":\"%u.%u.%u.%u\"", IP4(ev->ip));
        break;
    case SC_DEV_EV_ACK_SENT:
        sc_posix_host_log(h, SC_LOG_DEBUG, "ack sent to %u.%u.%u.%u:%u", IP4(ev->peer.addr), ev->peer.port);
        json_event(r, "ack", ",\"peer\":\"%u.%u.%u.%u:%u\"", IP4(ev->peer.addr), ev->peer.port);
        break;
    case SC_DEV_EV_TOKEN:
        sc_posix_host_log(h, SC_LOG_INFO, "token received from %u.%u.%u.%u:%u (not shown)", IP4(ev->peer.addr),
                          ev->peer.port);
        json_event(r, "token", ",\"peer\":\"%u.%u.%u.%u:%u\"", IP4(ev->peer.addr), ev->peer.port);
        break;
    case SC_DEV_EV_BOUND:
        sc_posix_host_log(h, SC_LOG_INFO, "bound to the cloud");
        json_event(r, "bound", NULL);
        break;
    case SC_DEV_EV_ERROR:
        on_error_event(r, ev);
        break;
    case SC_DEV_EV_STORAGE: { /* loud, but not the flow's error: the exit code stays the flow's */
        const char *text = ev->text ? ev->text : "storage write failed";
        sc_posix_host_log(h, SC_LOG_ERROR, "storage: %s (%d)", text, (int)ev->sub_id);
        char ids[80];
        snprintf(ids, sizeof ids, ",\"err_id\":0,\"sub_id\":%d,\"storage\":true", (int)ev->sub_id);
        json_text_event(r, "error", ids, "text", (const uint8_t *)text, strlen(text));
        break;
    }
    }
}

/* A failure the host detects (not the device): same shape as the device's errors. */
static void on_host_error(void *user, const char *text)
{
    reporter_t *r = user;
    sc_posix_host_log(r->host, SC_LOG_ERROR, "%s", text);
    /* the host's own words are already plain: they are the text and the reason */
    if (!r->json)
        return;
    cJSON *o = fields_of(",\"err_id\":0,\"sub_id\":0");
    add_bytes(o, "text", (const uint8_t *)text, strlen(text));
    add_bytes(o, "reason", (const uint8_t *)text, strlen(text));
    sc_posix_event("error", sc_posix_host_ms(r->host), o);
}

static int exit_code_for(const reporter_t *r)
{
    if (!r->have_error)
        return SC_EXIT_DEVICE;
    if (r->sub_id == SC_SUBID_TIMEOUT)
        return SC_EXIT_TIMEOUT;
    switch (r->err_id) {
    case SC_ERRID_MQTT_CONNECT: case SC_ERRID_TOKEN_SEND: case SC_ERRID_TOKEN_REPLY: case SC_ERRID_TOKEN_TIMEOUT:
    case SC_ERRID_DEVINFO:
        return SC_EXIT_CLOUD;
    default:
        return SC_EXIT_DEVICE;
    }
}

static int exit_code(const reporter_t *r, sc_posix_host_end_t end)
{
    switch (end) {
    case SC_POSIX_HOST_DONE: return SC_EXIT_OK;
    case SC_POSIX_HOST_FAILED: return exit_code_for(r);
    case SC_POSIX_HOST_STOPPED: return SC_EXIT_INTERRUPTED;
    case SC_POSIX_HOST_TIMEOUT:
    case SC_POSIX_HOST_CAPTURE_END: return SC_EXIT_TIMEOUT;
    case SC_POSIX_HOST_AT_CLOSED:
        return sc_device_state(sc_posix_host_device(r->host)) == SC_DEV_FAILED ? exit_code_for(r) : SC_EXIT_OK;
    case SC_POSIX_HOST_IO_ERROR: break;
    }
    return SC_EXIT_FAIL;
}

/* The exit status in words, for the last log line: under an init system that does not log
 * it (procd, a loop script) the log said how the run went but not what it exited with. The
 * words are the help's exit line. */
static const char *exit_words(int rc)
{
    switch (rc) {
    case SC_EXIT_OK: return "done";
    case SC_EXIT_TIMEOUT: return "timeout";
    case SC_EXIT_DEVICE: return "device error";
    case SC_EXIT_CLOUD: return "cloud error";
    case SC_EXIT_INTERRUPTED: return "interrupted";
    default: return "setup failure";
    }
}

int device_program_run(const device_program_t *p, int argc, char **argv)
{
    static device_opts_t o; /* large (the device configuration): keep it off the stack */
    int rc = device_opts_parse(&o, &p->spec, argc, argv);
    if (rc != DEVICE_OPTS_RUN) {
        device_opts_free(&o);
        return rc;
    }
    if (p->setup && (rc = p->setup(p->ctx, &o)) != DEVICE_OPTS_RUN) {
        if (p->teardown)
            p->teardown(p->ctx);
        device_opts_free(&o);
        return rc;
    }
    /* From here on the device's loop never waits for whoever reads its log and events (a
     * stalled journal or supervisor pipe would stop radio, UDP and MQTT with it): both go
     * through queues (sc_posix_output_start); usage errors above were written directly. */
    sc_posix_output_start(o.cli.name, 0);
    reporter_t rep = { .json = o.json };
    o.device.on_event = on_event;
    o.device.user = &rep;
    o.host.on_error = on_host_error;
    o.host.user = &rep;
    o.host.fw_version = "smartcfg-" SMARTCFG_VERSION_STRING;
    char why[320] = "";
    sc_err_t e = sc_posix_host_open(&rep.host, &o.host, &o.device, why, sizeof why);
    if (e != SC_OK) {
        bool usage = e == SC_ERR_INVAL || e == SC_ERR_RANGE || e == SC_ERR_NOTFOUND;
        rc = usage ? sc_cli_usage_error(&o.cli, "%s", why) : sc_cli_fail(&o.cli, SC_EXIT_FAIL, "%s", why);
        if (p->teardown)
            p->teardown(p->ctx);
        device_opts_free(&o);
        return rc;
    }
    if (p->opened)
        p->opened(p->ctx, rep.host);
    rc = exit_code(&rep, sc_posix_host_run(rep.host));
    if (p->report) {
        char fields[512] = "", line[256] = "";
        p->report(p->ctx, fields, sizeof fields, line, sizeof line);
        if (line[0])
            sc_posix_host_log(rep.host, SC_LOG_INFO, "%s", line);
        if (fields[0] && p->report_event)
            json_event(&rep, p->report_event, "%s", fields);
    }
    sc_posix_host_log(rep.host, SC_LOG_INFO, "exit %d (%s)", rc, exit_words(rc));
    json_event(&rep, "exit", ",\"code\":%d,\"state\":\"%s\"", rc,
               sc_device_state_name(sc_device_state(sc_posix_host_device(rep.host))));
    sc_posix_host_close(rep.host);
    if (p->teardown)
        p->teardown(p->ctx);
    device_opts_free(&o);
    return rc;
}

int cmd_device(int argc, char **argv)
{
    static const device_program_t prog = { .spec = { "smartcfg device", NULL, 0, NULL } };
    return device_program_run(&prog, argc, argv);
}
