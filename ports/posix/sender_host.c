/* SPDX-License-Identifier: Apache-2.0 */
/* The sender host (sc_posix_sender.h): sockets, the datagram schedule's timing loop, ack
 * collection, the per-device token handshakes and the token API. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_posix.h"
#include "sc_posix_sender.h"
#include "smartcfg/diag.h"

#define INPUT_BURST 64          /* datagrams read per socket per turn */
#define TOKEN_RETRY_MS 1000u    /* a token request the cloud answered 429: the next one after */
/* ... while the device still waits: it waits 20 s after its ack burst (3 s), so 20 s after its
 * first ack leaves it 3 s for the handshake. 15 s failed the 31st and 32nd device of a second
 * rack of 32 run right after a first on one account (bench/rack_cloud.sh, 2026-12-07). */
#define TOKEN_WAIT_MS 20000u
/* A device's wait for its token (TOKEN_WAIT_MS after its ack) and its bind (the reference's 20
 * polls 2 s apart after its identity) are bounded in time, not only in requests: the one HTTP
 * handle serves the devices in turn, so a token API that answers each request only at its
 * 10 s timeout kept a rack of 32 polling for 32 x 20 x 10 s (F85). */
#define BIND_WAIT_MS 42000u     /* the 20th poll at 40 s, its answer included */

typedef struct {
    sc_posix_sdev_step_t step;
    sc_posix_sfail_t fail;
    sc_send_hs_t hs;
    char why[SC_SEND_TEXT_MAX];
    /* The reference resends its queued earlier errors (at most SC_DIAG_MAX_ERRORS) before each
     * reply: each distinct one is reported once, and no more than that many (F65: a host that
     * acked, as any LAN host can, sent two texts in turn and got a line for each datagram). */
    uint32_t previous_seen[SC_DIAG_MAX_ERRORS]; /* FNV-1a of the texts reported */
    uint32_t previous_reported;
    uint32_t malformed_reported;
    /* Cloud flow: one token per device, as Tencent's app does (a bound token is spent: the
     * cloud refuses a second device on it). The first device takes the token made before the
     * run; each further one gets a fresh token when it acks. */
    char token[SC_TOKEN_MAX + 1];
    char token_abbrev[16];
    bool need_token;           /* acked, waiting for its token from the cloud */
    uint8_t token_tries;       /* create calls that got no answer */
    sc_send_poll_t poll;       /* its token's state polling */
    uint32_t ack_ms, done_ms;  /* its first ack; when it ended (done for the flow, or failed) */
} sdev_t;

/* A device that acked and was not taken: beyond --count, past the table, or late. A rack's
 * engineer needs to know which devices got the Wi-Fi but no token (until 2026-12-07 the
 * devices past the 32 a run takes were dropped without a word). */
typedef struct {
    uint8_t mac[SC_MAC_LEN];
    uint8_t ip[4];
    const char *reason;
    uint32_t ack_ms;
} sextra_t;

struct sc_posix_sender {
    sc_posix_sender_cfg_t cfg;
    char token[SC_TOKEN_MAX + 1];
    char token_abbrev[16];
    sc_send_stream_t stream;   /* the protocol's datagrams, ports and ack check */
    sc_send_dgram_t next;
    bool sending, discovering, stop_sending;
    bool timeout_pending; /* the run timed out while a datagram group was still going out */
    bool found_all;       /* discovery ended because the run had its devices: linger after */
    uint32_t linger_from;  /* linger_ms counts from the later of the last datagram and found_all */
    uint32_t datagrams, send_errors;
    int send_errno;            /* the last hard failure to send a datagram (SEND_ERROR), 0 */
    char send_why[96];
    sc_posix_send_net_t net;
    bool net_open;
    sc_send_acks_t acks;
    sdev_t dev[SC_SEND_MAX_DEVICES];
    uint32_t ndev;             /* devices taken on (<= count when count > 0) */
    sextra_t extra[SC_SEND_MAX_DEVICES];
    uint32_t nextra, extra_more;
    uint32_t rejected_reported;
    uint32_t stray_reported;   /* UDP 8266 datagrams from addresses that never acked */
    sc_posix_http_t *http;
    uint32_t http_dev;         /* the device the request in flight is for */
    bool http_create;          /* ... and whether it creates its token (else polls its state) */
    bool token_given;          /* the token made before the run went to a device */
    uint32_t poll_next;        /* round robin over the devices' polls on the one HTTP handle */
    bool cloud_failed;
    uint32_t token_wait_until; /* the cloud said 429 to a token request: no create before then */
    struct timespec t0;
};

static volatile sig_atomic_t g_interrupted;

void sc_posix_sender_request_stop(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

static uint64_t now_us(const sc_posix_sender_t *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)(ts.tv_sec - s->t0.tv_sec) * 1000000u + (uint64_t)(ts.tv_nsec / 1000) -
           (uint64_t)(s->t0.tv_nsec / 1000);
}

uint32_t sc_posix_sender_ms(const sc_posix_sender_t *s)
{
    return (uint32_t)(now_us(s) / 1000u);
}

static void emit(sc_posix_sender_t *s, sc_posix_sender_event_t *ev)
{
    if (s->cfg.on_event)
        s->cfg.on_event(s->cfg.user, ev);
}

static void emit_simple(sc_posix_sender_t *s, sc_posix_sender_ev_type_t type, int dev, const char *text)
{
    sc_posix_sender_event_t ev = { .type = type, .dev = dev, .text = text };
    emit(s, &ev);
}

static uint32_t count_step(const sc_posix_sender_t *s, sc_posix_sdev_step_t st)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->ndev; i++)
        n += s->dev[i].step == st;
    return n;
}

/* ------------------------------------------------------------------------------------------
 * Open, close, what the app reads. */

void sc_posix_sender_cfg_default(sc_posix_sender_cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->proto = SC_PROTO_ESPTOUCH_V1; /* named, so what reports it says v1, not "none" */
    cfg->count = 1;
    cfg->timeout_ms = 60000;
    cfg->handle_signals = true;
}

sc_err_t sc_posix_sender_open(sc_posix_sender_t **out, const sc_posix_sender_cfg_t *cfg, char *why, size_t cap)
{
    *out = NULL;
    sc_posix_sender_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, cap, "out of memory");
        return SC_ERR_NOMEM;
    }
    s->cfg = *cfg;
    s->cfg.token = NULL;
    memcpy(s->cfg.net.phone_ip, cfg->creds.phone_ip, 4);
    s->cfg.net.token_socket = cfg->flow != SC_POSIX_SENDER_ACK_ONLY;
    if (cfg->flow == SC_POSIX_SENDER_TOKEN && cfg->token) {
        snprintf(s->token, sizeof s->token, "%s", cfg->token);
        sc_send_abbrev(s->token, s->token_abbrev, sizeof s->token_abbrev);
    }
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    if (!s->cfg.proto)
        s->cfg.proto = SC_PROTO_ESPTOUCH_V1;
    /* v1 stops at 45 s, v2 at 90 s, AirKiss at 60 s: the stream caps the window itself */
    sc_err_t e = sc_send_stream_init(&s->stream, s->cfg.proto, &s->cfg.creds, &cfg->extra, s->cfg.timeout_ms);
    s->cfg.extra.key = s->cfg.extra.reserved = NULL; /* the caller's buffers: not kept */
    if (e != SC_OK) {
        snprintf(why, cap, "these credentials do not fit the %s protocol", sc_proto_name(s->cfg.proto));
        return e;
    }
    s->cfg.net.dest_port = s->stream.dest_port;
    s->cfg.net.ack_port = s->stream.ack_port;
    e = sc_posix_send_open(&s->net, &s->cfg.net, why, cap);
    if (e == SC_OK) {
        s->net_open = true;
        if (cfg->flow == SC_POSIX_SENDER_CLOUD && !(s->http = sc_posix_http_new())) {
            snprintf(why, cap, "cannot set up the HTTP client");
            e = SC_ERR_NOMEM;
        }
    }
    if (e != SC_OK) {
        sc_posix_sender_close(s);
        return e;
    }
    *out = s;
    return SC_OK;
}

void sc_posix_sender_close(sc_posix_sender_t *s)
{
    if (!s)
        return;
    sc_posix_http_free(s->http);
    if (s->net_open)
        sc_posix_send_close(&s->net);
    explicit_bzero(s, sizeof *s); /* the password (creds, encoder) and the token */
    free(s);
}

static bool all_done(const sc_posix_sender_t *s);

/* The devices are done and the run had them all before its timeout: it listens on until
 * linger_ms past the last datagram for devices that acked later (told, not taken). */
static bool lingering(const sc_posix_sender_t *s, uint32_t now)
{
    return s->found_all && !s->discovering && !s->sending && s->cfg.linger_ms &&
           !sc_ms_reached(now, s->linger_from + s->cfg.linger_ms) && all_done(s);
}

static bool polling(const sc_posix_sender_t *s)
{
    for (uint32_t i = 0; i < s->ndev; i++)
        if (s->dev[i].poll.active || s->dev[i].need_token)
            return true;
    return false;
}

static const char *phase(const sc_posix_sender_t *s)
{
    return s->sending ? sc_proto_name(s->cfg.proto)
           : count_step(s, SC_POSIX_SDEV_HANDSHAKE) ? "handshake"
           : polling(s) ? "binding" : "listening";
}

void sc_posix_sender_stats(const sc_posix_sender_t *s, sc_posix_sender_stats_t *o)
{
    memset(o, 0, sizeof *o);
    o->datagrams = s->datagrams;
    o->send_errors = s->send_errors;
    o->send_errno = s->send_errno;
    o->acks_accepted = s->acks.accepted;
    o->acks_rejected = s->acks.rejected;
    o->found = s->ndev;
    o->extra = s->nextra;
    o->extra_more = s->extra_more;
    o->cycle = s->stream.cycle_len;
    sc_posix_send_dest(&s->net, 0, o->dest);
    o->cloud_failed = s->cloud_failed;
    o->interrupted = g_interrupted != 0;
    o->lingering = lingering(s, sc_posix_sender_ms(s));
    o->phase = phase(s);
    o->token_abbrev = s->token_abbrev;
}

bool sc_posix_sender_device(const sc_posix_sender_t *s, uint32_t i, sc_posix_sender_device_t *o)
{
    if (i >= s->ndev)
        return false;
    const sdev_t *d = &s->dev[i];
    const sc_send_ack_dev_t *a = &s->acks.dev[i];
    o->step = d->step;
    o->fail = d->fail;
    memcpy(o->mac, a->mac, SC_MAC_LEN);
    memcpy(o->ip, a->src_ip, 4);
    memcpy(o->ack_ip, a->ack_ip, 4);
    o->product_id = d->hs.product_id;
    o->device_name = d->hs.device_name;
    o->product_region = d->hs.product_region;
    o->why = d->why;
    o->token_abbrev = d->token_abbrev;
    o->sends = d->hs.sends;
    o->max_sends = d->hs.timing.max_sends;
    o->ack_ms = d->ack_ms;
    o->done_ms = d->done_ms;
    o->done = sc_posix_sender_device_ok(s, i) || d->step == SC_POSIX_SDEV_FAILED;
    return true;
}

bool sc_posix_sender_extra(const sc_posix_sender_t *s, uint32_t i, sc_posix_sender_extra_t *o)
{
    if (i >= s->nextra)
        return false;
    memcpy(o->mac, s->extra[i].mac, SC_MAC_LEN);
    memcpy(o->ip, s->extra[i].ip, 4);
    o->reason = s->extra[i].reason;
    o->ack_ms = s->extra[i].ack_ms;
    return true;
}

bool sc_posix_sender_device_ok(const sc_posix_sender_t *s, uint32_t i)
{
    sc_posix_sdev_step_t st = s->dev[i].step;
    switch (s->cfg.flow) {
    case SC_POSIX_SENDER_ACK_ONLY: return true;
    case SC_POSIX_SENDER_TOKEN: return st == SC_POSIX_SDEV_IDENTIFIED;
    default: return st == SC_POSIX_SDEV_BOUND;
    }
}

static bool dev_done(const sc_posix_sender_t *s, uint32_t i)
{
    sc_posix_sdev_step_t st = s->dev[i].step;
    return sc_posix_sender_device_ok(s, i) || st == SC_POSIX_SDEV_FAILED;
}

/* ------------------------------------------------------------------------------------------
 * The token API. */

/* A fresh request id from the port's entropy. */
static void request_id(char *out, size_t cap)
{
    uint8_t r[8];
    sc_posix_random(r, sizeof r);
    snprintf(out, cap, "smartcfg-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

/* A request's URL: send's --cloud takes a base of up to 1023 characters, and the path and
 * action come after it (512 cut a long base's "/tokenapi?cmd=...": the request went elsewhere, F184) */
#define API_URL_MAX 1280

static void api_url(const sc_posix_sender_t *s, const char *action, char *out, size_t cap)
{
    const char *base = s->cfg.cloud_url;
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    snprintf(out, cap, "%.*s/tokenapi?cmd=%s", (int)n, base, action);
}

static sc_err_t api_build(const sc_posix_sender_t *s, const char *action, const char *token, char *url, size_t ucap,
                          char *body, size_t bcap)
{
    char rid[40];
    request_id(rid, sizeof rid);
    api_url(s, action, url, ucap);
    return sc_send_api_request(body, bcap, action, token, rid, s->cfg.access_token);
}

static sc_err_t api_start(sc_posix_sender_t *s, const char *action, const char *token)
{
    char url[API_URL_MAX], body[512];
    sc_err_t err = api_build(s, action, token, url, sizeof url, body, sizeof body);
    if (!err)
        err = sc_posix_http_start(s->http, url, body, 10000);
    explicit_bzero(body, sizeof body);
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

bool sc_posix_sender_printable(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || (unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e)
            return false;
    return n > 0;
}

sc_err_t sc_posix_sender_create_token(sc_posix_sender_t *s)
{
    char why[SC_SEND_TEXT_MAX] = "", url[API_URL_MAX], req[512];
    long status = 0;
    const char *body = NULL;
    size_t len = 0;
    sc_send_api_reply_t r;
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    api_build(s, SC_SEND_API_CREATE_TOKEN, NULL, url, sizeof url, req, sizeof req);
    sc_err_t err = sc_posix_http_post(s->http, url, req, 15000, &status, &body, &len, why, sizeof why);
    explicit_bzero(req, sizeof req);
    if (api_result(SC_SEND_API_CREATE_TOKEN, err, status, body, len, &r, why, sizeof why) != API_OK) {
        emit_simple(s, SC_POSIX_SEV_CLOUD_ERROR, -1, why);
        return SC_ERR_REFUSED;
    }
    if (!sc_posix_sender_printable(r.token, SC_TOKEN_MAX)) {
        snprintf(why, sizeof why, "the token from %s is not printable ASCII", SC_SEND_API_CREATE_TOKEN);
        emit_simple(s, SC_POSIX_SEV_CLOUD_ERROR, -1, why);
        return SC_ERR_FORMAT;
    }
    memcpy(s->token, r.token, sizeof s->token);
    sc_send_abbrev(s->token, s->token_abbrev, sizeof s->token_abbrev);
    sc_posix_sender_event_t ev = { .type = SC_POSIX_SEV_TOKEN_CREATED, .dev = -1, .text = s->token_abbrev,
                                   .n = (uint32_t)r.expire_time };
    emit(s, &ev);
    explicit_bzero(&r, sizeof r);
    return SC_OK;
}

/* ------------------------------------------------------------------------------------------
 * Devices. */

static void fail_device(sc_posix_sender_t *s, uint32_t i, sc_posix_sfail_t kind, const char *reason, const char *why)
{
    sdev_t *d = &s->dev[i];
    d->step = SC_POSIX_SDEV_FAILED;
    d->fail = kind;
    d->done_ms = sc_posix_sender_ms(s);
    /* memmove, not snprintf("%s"): callers pass texts that live in the same sdev_t (d->hs.text),
     * which gcc's -Wrestrict (Release builds) rejects for snprintf. */
    size_t n = strnlen(why, sizeof d->why - 1);
    memmove(d->why, why, n);
    d->why[n] = '\0';
    sc_posix_sender_event_t ev = { .type = SC_POSIX_SEV_DEVICE_FAILED, .dev = (int)i, .text = d->why, .reason = reason };
    emit(s, &ev);
}

/* Device i's token state arrived (or failed). */
static void poll_answer(sc_posix_sender_t *s, uint32_t i, sc_err_t err, long status, const char *body, size_t len,
                        char *why, size_t cap)
{
    sdev_t *d = &s->dev[i];
    sc_send_api_reply_t r;
    api_outcome_t out = api_result(SC_SEND_API_TOKEN_STATE, err, status, body, len, &r, why, cap);
    if (out == API_REFUSED) {
        /* The cloud refused the token: the app gives up on it. */
        s->cloud_failed = true;
        sc_send_poll_stop(&d->poll);
        if (d->step == SC_POSIX_SDEV_IDENTIFIED)
            fail_device(s, i, SC_POSIX_SFAIL_CLOUD, "cloud_error", why);
        return;
    }
    if (out != API_OK) {
        /* No answer or garbage: counted as a poll, the next one may do better. */
        emit_simple(s, SC_POSIX_SEV_CLOUD_RETRY, (int)i, why);
        return;
    }
    sc_posix_sender_event_t ev = { .type = SC_POSIX_SEV_POLL, .dev = (int)i, .n = d->poll.polls, .state = r.state };
    emit(s, &ev);
    if (r.state != 2 || d->step != SC_POSIX_SDEV_IDENTIFIED)
        return;
    /* No names in the answer: the cloud only says the token is used, and only this device has it. */
    if ((!r.product_id[0] && !r.device_name[0]) ||
        (!strcmp(r.product_id, d->hs.product_id) && !strcmp(r.device_name, d->hs.device_name))) {
        d->step = SC_POSIX_SDEV_BOUND;
        d->done_ms = sc_posix_sender_ms(s);
        sc_send_poll_stop(&d->poll);
        emit_simple(s, SC_POSIX_SEV_BOUND, (int)i, NULL);
    } else {
        sc_posix_sender_event_t o = { .type = SC_POSIX_SEV_BOUND_OTHER, .dev = (int)i, .product_id = r.product_id,
                                      .device_name = r.device_name };
        emit(s, &o);
    }
}

static void start_handshake(sc_posix_sender_t *s, uint32_t i, uint32_t now)
{
    sdev_t *d = &s->dev[i];
    if (sc_send_hs_start(&d->hs, d->token, s->cfg.region, NULL, now)) {
        fail_device(s, i, SC_POSIX_SFAIL_DEVICE, "device_error", "cannot build the token request");
        return;
    }
    d->step = SC_POSIX_SDEV_HANDSHAKE;
}

/* Device i's fresh token arrived (or failed): hand it over. */
static void token_answer(sc_posix_sender_t *s, uint32_t i, uint32_t now, sc_err_t err, long status, const char *body,
                         size_t len, char *why, size_t cap)
{
    sdev_t *d = &s->dev[i];
    sc_send_api_reply_t r;
    api_outcome_t out = api_result(SC_SEND_API_CREATE_TOKEN, err, status, body, len, &r, why, cap);
    if (out == API_OK && !sc_posix_sender_printable(r.token, SC_TOKEN_MAX)) {
        snprintf(why, cap, "the token from %s is not printable ASCII", SC_SEND_API_CREATE_TOKEN);
        out = API_FORMAT;
    }
    if (out != API_OK)
        snprintf(d->why, sizeof d->why, "%s", why); /* what it fails with if its wait runs out */
    if (out == API_TRANSPORT && ++d->token_tries < 3) {
        emit_simple(s, SC_POSIX_SEV_CLOUD_RETRY, (int)i, why); /* need_token stays: asked again */
        return;
    }
    /* 429 (RequestLimitExceeded): the account's token budget is spent for now and refills
     * (the local cloud: 60 a minute, bursts of 20), so a rack of 32 met it at its 21st device,
     * which failed at once. Asked again a second later, one request a second for the whole
     * run, while the device still waits for its token (20 s after its acks). */
    if (out == API_REFUSED && r.code == 429 && now - d->ack_ms < TOKEN_WAIT_MS) {
        if (!d->token_tries++)
            emit_simple(s, SC_POSIX_SEV_CLOUD_RETRY, (int)i, why); /* told once per device */
        s->token_wait_until = now + TOKEN_RETRY_MS;
        return;
    }
    d->need_token = false;
    if (out != API_OK) {
        s->cloud_failed = true;
        fail_device(s, i, SC_POSIX_SFAIL_CLOUD, "cloud_error", why);
        return;
    }
    d->why[0] = '\0'; /* the earlier answers' message, kept in case its wait ran out */
    memcpy(d->token, r.token, sizeof d->token);
    sc_send_abbrev(d->token, d->token_abbrev, sizeof d->token_abbrev);
    sc_posix_sender_event_t ev = { .type = SC_POSIX_SEV_TOKEN_CREATED, .dev = (int)i, .text = d->token_abbrev,
                                   .n = (uint32_t)r.expire_time };
    explicit_bzero(&r, sizeof r);
    emit(s, &ev);
    start_handshake(s, i, now);
}

/* The one HTTP handle serves every device: a token for a device that waits for one first (its
 * handshake cannot start without it), then the due state polls in turn. */
static void cloud_next_request(sc_posix_sender_t *s, uint32_t now)
{
    for (uint32_t i = 0; i < s->ndev; i++) {
        sdev_t *d = &s->dev[i];
        if (d->need_token && sc_ms_reached(now, d->ack_ms + TOKEN_WAIT_MS)) {
            d->need_token = false;
            s->cloud_failed = true;
            fail_device(s, i, SC_POSIX_SFAIL_CLOUD, "cloud_error",
                        d->why[0] ? d->why : "AppCreateDeviceBindToken: no token in time");
        }
        /* (done_ms of an identified device: its identity) */
        if (d->step == SC_POSIX_SDEV_IDENTIFIED &&
            (sc_send_poll_exhausted(&d->poll) || sc_ms_reached(now, d->done_ms + BIND_WAIT_MS))) {
            sc_send_poll_stop(&d->poll);
            fail_device(s, i, SC_POSIX_SFAIL_CLOUD, "bind_timeout",
                        "the cloud never reported the device bound (BUSINESS_QUERY_BIND_TOKEN_TIMEOUT): "
                        "the device could not reach the cloud or its bind was refused");
        }
    }
    for (uint32_t i = 0; i < s->ndev && sc_ms_reached(now, s->token_wait_until); i++) {
        if (!s->dev[i].need_token)
            continue;
        s->http_dev = i;
        s->http_create = true;
        if (api_start(s, SC_SEND_API_CREATE_TOKEN, NULL)) {
            s->dev[i].need_token = false;
            fail_device(s, i, SC_POSIX_SFAIL_CLOUD, "cloud_error", "cannot start the token request");
        }
        return;
    }
    for (uint32_t k = 0; k < s->ndev; k++) {
        uint32_t i = (s->poll_next + k) % s->ndev;
        sdev_t *d = &s->dev[i];
        if (d->step != SC_POSIX_SDEV_IDENTIFIED || !sc_send_poll_due(&d->poll, now))
            continue;
        s->http_dev = i;
        s->http_create = false;
        s->poll_next = i + 1;
        if (api_start(s, SC_SEND_API_TOKEN_STATE, d->token))
            emit_simple(s, SC_POSIX_SEV_CLOUD_RETRY, (int)i, "cannot start the poll request");
        return;
    }
}

static void cloud_step(sc_posix_sender_t *s, uint32_t now)
{
    if (s->cfg.flow != SC_POSIX_SENDER_CLOUD)
        return;
    if (sc_posix_http_busy(s->http)) {
        long status = 0;
        const char *body = NULL;
        size_t len = 0;
        char why[SC_SEND_TEXT_MAX] = "";
        sc_err_t err = sc_posix_http_poll(s->http, &status, &body, &len, why, sizeof why);
        if (err == SC_ERR_AGAIN)
            return;
        if (s->http_create)
            token_answer(s, s->http_dev, now, err, status, body, len, why, sizeof why);
        else
            poll_answer(s, s->http_dev, err, status, body, len, why, sizeof why);
    }
    if (!sc_posix_http_busy(s->http))
        cloud_next_request(s, now);
}

/* A new device acked: take it on (or not) and start its handshake. */
static void take_device(sc_posix_sender_t *s, uint32_t idx, uint32_t now)
{
    s->ndev = idx + 1;
    sdev_t *d = &s->dev[idx];
    memset(d, 0, sizeof *d);
    sc_send_poll_init(&d->poll, 2000, 20);
    d->ack_ms = d->done_ms = now;
    const sc_send_ack_dev_t *a = &s->acks.dev[idx];
    emit_simple(s, SC_POSIX_SEV_ACK, (int)idx, NULL);
    if (a->ip_mismatch)
        emit_simple(s, SC_POSIX_SEV_IP_MISMATCH, (int)idx, NULL);
    if (s->cfg.flow == SC_POSIX_SENDER_ACK_ONLY) {
        d->step = SC_POSIX_SDEV_ACKED;
        return;
    }
    if (!memcmp(a->src_ip, s->cfg.creds.phone_ip, 4)) {
        /* Both ends would need <ip>:8266: the request would come back to our own socket. */
        fail_device(s, idx, SC_POSIX_SFAIL_DEVICE, "device_error",
                    "the device has the phone's own address, so its UDP 8266 service cannot be reached; "
                    "give the device (or the phone, --ip) another address");
        return;
    }
    if (s->cfg.flow == SC_POSIX_SENDER_CLOUD && s->token_given) {
        d->step = SC_POSIX_SDEV_ACKED;
        d->need_token = true;   /* cloud_step asks for it */
        return;
    }
    s->token_given = true;
    memcpy(d->token, s->token, sizeof d->token);
    memcpy(d->token_abbrev, s->token_abbrev, sizeof d->token_abbrev);
    start_handshake(s, idx, now);
}

/* A device acked that the run does not take: reported once (by MAC, and one per address as
 * the table keeps it, F31), listed for the summary; past the list only counted. */
static void note_extra(sc_posix_sender_t *s, uint32_t now, const uint8_t src[4], const uint8_t mac[SC_MAC_LEN],
                       const char *reason)
{
    for (uint32_t k = 0; k < s->nextra; k++)
        if (!memcmp(s->extra[k].mac, mac, SC_MAC_LEN) || !memcmp(s->extra[k].ip, src, 4))
            return;
    if (s->nextra >= SC_SEND_MAX_DEVICES) {
        s->extra_more++;
        return;
    }
    sextra_t *x = &s->extra[s->nextra++];
    memcpy(x->mac, mac, SC_MAC_LEN);
    memcpy(x->ip, src, 4);
    x->reason = reason;
    x->ack_ms = now;
    sc_posix_sender_event_t ev = { .type = SC_POSIX_SEV_ACK_EXTRA, .dev = -1, .n = s->cfg.count, .reason = reason };
    memcpy(ev.ip, src, 4);
    memcpy(ev.mac, mac, SC_MAC_LEN);
    emit(s, &ev);
}

static void on_ack_datagram(sc_posix_sender_t *s, uint32_t now, const uint8_t src[4], const uint8_t *buf, size_t len)
{
    uint32_t idx;
    bool is_new;
    uint8_t v1shape[SC_ET_ACK_LEN];
    if (s->cfg.proto != SC_PROTO_ESPTOUCH_V1) {
        /* v2 [mark, MAC] / AirKiss [R] or [R, MAC]: a valid one joins the table as [0, MAC,
         * source]; an AirKiss ack without a MAC is known by its source address */
        uint8_t mac[SC_MAC_LEN];
        bool has_mac;
        if (sc_send_stream_ack(&s->stream, buf, len, mac, &has_mac) != SC_OK) {
            s->acks.rejected++;
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
    sc_err_t err = sc_send_acks_on_datagram(&s->acks, src, buf, len, &idx, &is_new);
    if (err == SC_ERR_FORMAT || err == SC_ERR_PROTO) {
        /* Broadcast acks of other sessions and LAN noise are normal: report a few, count all. */
        if (s->rejected_reported++ < 5) {
            sc_posix_sender_event_t ev = { .type = SC_POSIX_SEV_ACK_REJECTED, .dev = -1, .n = (uint32_t)len,
                                           .text = err == SC_ERR_FORMAT ? "length is not 11"
                                                                        : "first byte is not ssid+password+9" };
            memcpy(ev.ip, src, 4);
            emit(s, &ev);
        }
        return;
    }
    if (err == SC_ERR_BUSY) {
        /* F31: one device per address; a host acking under many MACs is reported a few times */
        if (s->rejected_reported++ < 5) {
            sc_posix_sender_event_t ev = { .type = SC_POSIX_SEV_ACK_REJECTED, .dev = -1, .n = (uint32_t)len,
                                           .text = "another MAC from an address that already acked" };
            memcpy(ev.ip, src, 4);
            emit(s, &ev);
        }
        return;
    }
    /* why a new device is not taken: --count reached, the run no longer looking, or the table
     * (SC_SEND_MAX_DEVICES MACs, extras beyond --count included) full */
    const char *why = s->cfg.count > 0 && s->ndev >= s->cfg.count ? "count" : !s->discovering ? "late" : "full";
    if (err == SC_ERR_NOSPACE && len == SC_ET_ACK_LEN) {
        note_extra(s, now, src, buf + 1, why);
        return;
    }
    if (err || !is_new)
        return;
    if ((s->cfg.count > 0 && idx >= s->cfg.count) || !s->discovering)
        note_extra(s, now, src, s->acks.dev[idx].mac, why);
    else
        take_device(s, idx, now);
}

static int dev_by_ip(const sc_posix_sender_t *s, const uint8_t ip[4])
{
    for (uint32_t i = 0; i < s->ndev; i++)
        if (!memcmp(s->acks.dev[i].src_ip, ip, 4))
            return (int)i;
    return -1;
}

/* What a device's reply means for it. */
static void on_reply(sc_posix_sender_t *s, uint32_t i, uint32_t now, sc_send_hs_ev_t ev)
{
    sdev_t *d = &s->dev[i];
    switch (ev) {
    case SC_SEND_HS_EV_IDENTITY:
        if (d->step == SC_POSIX_SDEV_FAILED)
            break;
        d->step = SC_POSIX_SDEV_IDENTIFIED;
        d->done_ms = now;
        emit_simple(s, SC_POSIX_SEV_IDENTITY, (int)i, NULL);
        if (s->cfg.flow == SC_POSIX_SENDER_CLOUD)
            sc_send_poll_restart(&d->poll, now);
        break;
    case SC_SEND_HS_EV_DEVICE_ERROR:
        fail_device(s, i, SC_POSIX_SFAIL_DEVICE, "device_error", d->hs.text);
        break;
    case SC_SEND_HS_EV_PREVIOUS_ERROR: {
        uint32_t h = 2166136261u;
        for (const char *p = d->hs.text; *p; p++)
            h = (h ^ (uint8_t)*p) * 16777619u;
        bool seen = false;
        for (uint32_t k = 0; k < d->previous_reported && !seen; k++)
            seen = d->previous_seen[k] == h;
        if (seen || d->previous_reported >= SC_DIAG_MAX_ERRORS)
            break;
        d->previous_seen[d->previous_reported++] = h;
        emit_simple(s, SC_POSIX_SEV_PREVIOUS_ERROR, (int)i, d->hs.text);
        break;
    }
    case SC_SEND_HS_EV_MALFORMED:
        if (d->malformed_reported++ < 10)
            emit_simple(s, SC_POSIX_SEV_MALFORMED, (int)i, d->hs.text);
        break;
    default:
        break; /* repeats and other flows' messages: nothing to report */
    }
}

static void on_token_datagram(sc_posix_sender_t *s, uint32_t now, const uint8_t src[4], const uint8_t *buf,
                              size_t len, size_t cap)
{
    int i = dev_by_ip(s, src);
    if (i < 0) {
        if (s->stray_reported++ >= 5)
            return; /* a flood must not flood the output */
        sc_posix_sender_event_t ev = { .type = SC_POSIX_SEV_STRAY, .dev = -1, .text = "reply from an address that sent no ack" };
        memcpy(ev.ip, src, 4);
        emit(s, &ev);
        return;
    }
    sdev_t *d = &s->dev[i];
    if (d->step == SC_POSIX_SDEV_ACKED)
        return;
    sc_send_hs_ev_t ev;
    if (len > cap) {
        d->hs.malformed++;
        snprintf(d->hs.text, sizeof d->hs.text, "reply longer than %zu bytes", cap);
        ev = SC_SEND_HS_EV_MALFORMED;
    } else {
        ev = sc_send_hs_on_datagram(&d->hs, buf, len);
    }
    on_reply(s, (uint32_t)i, now, ev);
}

static void devices_step(sc_posix_sender_t *s, uint32_t now)
{
    for (uint32_t i = 0; i < s->ndev; i++) {
        sdev_t *d = &s->dev[i];
        if (d->step != SC_POSIX_SDEV_HANDSHAKE && d->step != SC_POSIX_SDEV_IDENTIFIED)
            continue;
        sc_send_hs_ev_t ev;
        while ((ev = sc_send_hs_step(&d->hs, now)) != SC_SEND_HS_EV_NONE) {
            if (ev == SC_SEND_HS_EV_SEND) {
                sc_err_t err = sc_posix_send_token(&s->net, s->acks.dev[i].src_ip, d->hs.request, d->hs.request_len);
                sc_posix_sender_event_t e = { .type = SC_POSIX_SEV_TOKEN_SENT, .dev = (int)i, .n = d->hs.sends,
                                              .failed = err != SC_OK, .text = d->token_abbrev };
                emit(s, &e);
            } else if (ev == SC_SEND_HS_EV_NO_RESPONSE) {
                fail_device(s, i, SC_POSIX_SFAIL_DEVICE, "no_response", d->hs.text);
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * The loop. */

static void emit_timeout(sc_posix_sender_t *s)
{
    sc_posix_sender_event_t ev = {
        .type = SC_POSIX_SEV_TIMEOUT, .dev = -1, .n = s->ndev,
        .text = "no ack from the device(s): wrong password, device not in SmartConfig mode, or out of range"
    };
    emit(s, &ev);
}

/* Sending is over: sending_done, then the timeout that stopped it if one did, in that order
 * (the timeout used to be told first, while the last group still went out). */
static void sending_over(sc_posix_sender_t *s)
{
    s->sending = false;
    s->linger_from = sc_posix_sender_ms(s);
    sc_posix_sender_event_t ev = { .type = SC_POSIX_SEV_SENDING_DONE, .dev = -1, .n = s->datagrams };
    emit(s, &ev);
    if (s->timeout_pending) {
        s->timeout_pending = false;
        emit_timeout(s);
    }
}

/* Datagrams due now. A stop takes effect at a group boundary: a receiver never sees a torn
 * burst/triplet. */
static void send_due(sc_posix_sender_t *s)
{
    if (s->sending && s->stop_sending && s->next.boundary)
        sending_over(s); /* (it ended without its sending_done) */
    while (s->sending && (uint64_t)s->next.at_ms * 1000u <= now_us(s)) {
        sc_err_t e = sc_posix_send_datagram(&s->net, s->next.group, s->next.len);
        int err = errno;
        if (e == SC_OK) {
            s->datagrams++;
        } else {
            s->send_errors++;
            /* A datagram that cannot go out at all (no route to --dest, the interface down, a
             * firewall) is told at once, once: the run sent nothing for its whole --timeout and
             * then blamed the password (a full queue, SC_ERR_AGAIN, passes and is only counted) */
            if (e == SC_ERR_IO && !s->send_errno) {
                s->send_errno = err ? err : EIO;
                snprintf(s->send_why, sizeof s->send_why, "%s", strerror(s->send_errno));
                sc_posix_sender_event_t ev = { .type = SC_POSIX_SEV_SEND_ERROR, .dev = -1, .text = s->send_why,
                                               .n = s->net.cfg.dest_port ? s->net.cfg.dest_port : SC_ET_PORT };
                sc_posix_send_dest(&s->net, s->next.group, ev.ip);
                emit(s, &ev);
            } else if (e == SC_ERR_IO) {
                s->send_errno = err ? err : EIO;
            }
        }
        uint32_t sent = sc_posix_sender_ms(s);
        if (sc_send_stream_next(&s->stream, sent, &s->next) != SC_OK || (s->stop_sending && s->next.boundary))
            sending_over(s);
    }
}

/* Bounded per turn: a flood on either port must not starve the datagram schedule. */
static void read_inputs(sc_posix_sender_t *s)
{
    uint8_t buf[1500], src[4];
    uint16_t sport;
    size_t len;
    for (int k = 0; k < INPUT_BURST && sc_posix_send_recv(s->net.ack_fd, src, &sport, buf, sizeof buf, &len) == SC_OK;
         k++)
        /* after discovery too: a device that acks late is told (not taken) */
        on_ack_datagram(s, sc_posix_sender_ms(s), src, buf, len > sizeof buf ? sizeof buf + 1 : len);
    if (s->net.token_fd >= 0)
        for (int k = 0;
             k < INPUT_BURST && sc_posix_send_recv(s->net.token_fd, src, &sport, buf, sizeof buf - 1, &len) == SC_OK; k++)
            on_token_datagram(s, sc_posix_sender_ms(s), src, buf, len, sizeof buf - 1);
}

/* Enough devices, or the time is up: stop sending (the reference stops at the expected count). */
static void check_discovery(sc_posix_sender_t *s, uint32_t now)
{
    uint32_t count = s->cfg.count;
    /* --count 0 takes every device that acks until the timeout, up to the table: past it
     * sending on would only give more devices the Wi-Fi and no token, so sending stops, and the
     * run listens on to tell which devices acked too late for it ("full") */
    if (s->discovering && count == 0 && s->ndev >= SC_SEND_MAX_DEVICES)
        s->stop_sending = true;
    /* the run has its devices: count of them, or the ones the app waits for (all_found) */
    if (s->discovering && (count > 0 ? s->ndev >= count : s->cfg.all_found && s->cfg.all_found(s->cfg.user))) {
        s->discovering = false;
        s->stop_sending = true;
        s->found_all = true;
        s->linger_from = now; /* (sending_over moves it to the last datagram if one is still to go) */
    }
    if (s->discovering && sc_ms_reached(now, s->cfg.timeout_ms)) {
        s->discovering = false;
        s->stop_sending = true;
        /* (with all_found, still discovering means the app still waits for some) */
        if (count > 0 ? s->ndev < count : s->cfg.all_found ? true : s->ndev == 0) {
            if (s->sending)
                s->timeout_pending = true; /* told after sending_done */
            else
                emit_timeout(s);
        }
    }
}

static bool all_done(const sc_posix_sender_t *s)
{
    for (uint32_t i = 0; i < s->ndev; i++)
        if (!dev_done(s, i))
            return false;
    return true;
}

static bool finished(const sc_posix_sender_t *s, uint32_t now)
{
    return all_done(s) && !s->discovering && !s->sending && !lingering(s, now);
}

/* Sleeps until the next thing to do: a datagram, a handshake resend, a poll, the timeout. */
static void wait_next(sc_posix_sender_t *s, uint32_t now)
{
    uint64_t wake = (uint64_t)(now + 200u) * 1000u;
    if (s->sending && (uint64_t)s->next.at_ms * 1000u < wake)
        wake = (uint64_t)s->next.at_ms * 1000u;
    for (uint32_t i = 0; i < s->ndev; i++) {
        uint32_t dl = sc_send_hs_deadline(&s->dev[i].hs);
        if (dl != UINT32_MAX && (uint64_t)dl * 1000u < wake)
            wake = (uint64_t)dl * 1000u;
        uint32_t pd = sc_send_poll_deadline(&s->dev[i].poll);
        if (pd != UINT32_MAX && (uint64_t)pd * 1000u < wake)
            wake = (uint64_t)pd * 1000u;
    }
    if (s->token_wait_until && !sc_ms_reached(now, s->token_wait_until) && (uint64_t)s->token_wait_until * 1000u < wake)
        wake = (uint64_t)s->token_wait_until * 1000u;
    if (s->discovering && (uint64_t)s->cfg.timeout_ms * 1000u < wake)
        wake = (uint64_t)s->cfg.timeout_ms * 1000u;
    if (lingering(s, now) && (uint64_t)(s->linger_from + s->cfg.linger_ms) * 1000u < wake)
        wake = (uint64_t)(s->linger_from + s->cfg.linger_ms) * 1000u;
    if (s->http && sc_posix_http_busy(s->http) && wake > now_us(s) + 5000u)
        wake = now_us(s) + 5000u; /* curl progresses from this loop */
    uint64_t cur = now_us(s);
    struct timespec ts = { 0, 0 };
    if (wake > cur) {
        ts.tv_sec = (time_t)((wake - cur) / 1000000u);
        ts.tv_nsec = (long)((wake - cur) % 1000000u) * 1000;
    }
    struct pollfd pfd[2] = { { s->net.ack_fd, POLLIN, 0 }, { s->net.token_fd, POLLIN, 0 } };
    ppoll(pfd, s->net.token_fd >= 0 ? 2 : 1, &ts, NULL);
}

static void start(sc_posix_sender_t *s)
{
    g_interrupted = 0;
    if (s->cfg.handle_signals)
        sc_posix_stop_signals(sc_posix_sender_request_stop);
    /* v2 and AirKiss acks are checked by the stream and enter the table in the v1 shape with a
     * first byte of 0 (on_ack_datagram) */
    sc_send_acks_init(&s->acks, s->cfg.proto == SC_PROTO_ESPTOUCH_V1 ? s->stream.ack_token : 0);
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    emit_simple(s, SC_POSIX_SEV_SENDING, -1, NULL);
    s->sending = sc_send_stream_next(&s->stream, 0, &s->next) == SC_OK;
    s->discovering = true;
}

void sc_posix_sender_run(sc_posix_sender_t *s)
{
    start(s);
    while (!g_interrupted) {
        send_due(s);
        read_inputs(s);
        uint32_t now = sc_posix_sender_ms(s);
        devices_step(s, now);
        cloud_step(s, now);
        check_discovery(s, now);
        if (finished(s, now))
            break;
        if (s->cfg.on_turn)
            s->cfg.on_turn(s->cfg.user, now);
        wait_next(s, now);
    }
}
