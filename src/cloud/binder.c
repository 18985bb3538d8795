/* SPDX-License-Identifier: Apache-2.0 */
/* The device's app_bind_token exchange as a step machine over the HAL
 * (docs/protocol/tencent.md#mqtt, #dynamic-registration). Unlike the reference (which counts a
 * PUBACK as success and only logs a failing reply), we wait for the reply carrying our clientToken
 * and act on its code, retrying the publish a few times within a budget that ends before the app
 * gives up polling (~40 s). A link lost while waiting (a broker of a cluster died) is opened again
 * within that budget instead of failing the bind. */
#include <string.h>

#include "../common/state.h"
#include "../common/log.h"
#include "cloud_int.h"
#include "smartcfg/binder.h"

enum {
    ST_IDLE = 0,
    ST_DYNREG,      /* obtain a PSK: storage first, then the register endpoint */
    ST_DYNREG_WAIT, /* the registration's POST runs in the port (post_start/post_poll) */
    ST_CONNECT,     /* build credentials, call connect */
    ST_CONNECTING,  /* wait for CONNACK */
    ST_WAIT,        /* subscribed, app_bind_token published, waiting for the reply */
    ST_DONE,
    ST_FAILED
};

typedef struct {
    const sc_hal_t *hal;
    const sc_cloud_config_t *cfg;
    sc_identity_t *id;
    int state;
    bool mqtt_started;          /* connect() was called: abort must disconnect */
    bool dr_running;            /* post_start() was called: abort must post_cancel() */
    uint32_t t_dr_end;          /* the port's own timeout, and a grace, for that POST */
    uint32_t t_dr_poll;         /* when to look at it again */
    uint32_t t_start;
    uint32_t deadline;          /* whole bind */
    uint32_t t_connect_deadline;
    uint32_t t_next_pub;
    int npub;                   /* tries on the current connection */
    uint8_t reconnects;
    uint8_t silent;             /* connections given up because nothing answered (binder.h) */
    int mids[SC_BINDER_PUBLISH_TRIES];
    bool mid_valid[SC_BINDER_PUBLISH_TRIES];
    bool acked;
    bool query;                 /* bind_device_query instead of app_bind_token */
    uint8_t legacy;             /* the PSK came from a record of before F32: LEGACY_* */
    uint16_t err_id;
    int32_t sub_id;
    sc_binder_stats_t stats;
    char token[SC_TOKEN_MAX + 1];
    char topic_up[SC_CLOUD_TOPIC_SIZE];
    char topic_down[SC_CLOUD_TOPIC_SIZE];
    char client_token[SC_CLOUD_CLIENT_TOKEN_SIZE];
    char reason[96];
    char payload[160 + SC_CLOUD_CLIENT_TOKEN_SIZE + 2 * SC_TOKEN_MAX];
    size_t payload_len;
    sc_cloud_mqtt_creds_t creds;
    union {
        sc_mqtt_msg_t msg;
        struct {
            char req[384];
            char resp[1024];
        } dr;
    } u;
} bind_impl_t;

SC_STATE_FITS(bind_impl_t, sc_binder_t);

/* A PSK record of before F32 (the key alone) cannot say whose it is: it is tried, and then
 * either named after the device it logged in as, or -- refused by the broker -- replaced by a
 * registration of this device (the record is kept should that fail: it may be a working key
 * the broker refused for another reason). */
enum { LEGACY_NONE = 0, LEGACY_IN_USE, LEGACY_REFUSED };
/* MQTT 3.1.1 CONNACK return codes for a refused login (the reason a port gives, hal.h). A port's
 * errno 4 or 5 (EINTR, EIO) reads the same: then a registration is tried; it either fails (the
 * network is down, or the cloud refuses to register a device twice), leaving the record for the
 * next boot, or hands this device its key again. */
#define CONNACK_BAD_AUTH 4
#define CONNACK_NOT_AUTHORIZED 5

static bind_impl_t *impl(sc_binder_t *b) { return (bind_impl_t *)(void *)b->opaque; }
static const bind_impl_t *cimpl(const sc_binder_t *b) { return (const bind_impl_t *)(const void *)b->opaque; }

static bool reached(uint32_t now, uint32_t t) { return sc_ms_reached(now, t); }

#define BLOG(s, lvl, ...) sc_logf((s)->hal != NULL ? &(s)->hal->sys : NULL, (lvl), "cloud: " __VA_ARGS__)

/* The reasons are sentences for people (the log, sc_binder_reason). Built with
 * SMARTCFG_WITH_REASONS=0 (bare metal, features.h) none of them is compiled: a failure's reason
 * is its error id's reference text with the sub id, and the progress words are left out (WHY
 * turns every reason argument below into NULL, so the strings never reach the object). */
#if SMARTCFG_WITH_REASONS
#define WHY(text) (text)
#else
#define WHY(text) ((const char *)NULL)
#endif
#define set_reason(s, text, num, has_num) set_reason_((s), WHY(text), (num), (has_num))
#define fail(s, err_id, sub_id, why) fail_((s), (err_id), (sub_id), WHY(why))

static void set_reason_(bind_impl_t *s, const char *text, int64_t num, bool has_num)
{
    if (text == NULL)
        return;
    sc_sb_t sb;
    sc_sb_init(&sb, s->reason, sizeof s->reason);
    sc_sb_str(&sb, text);
    if (has_num) {
        sc_sb_str(&sb, " (");
        sc_sb_i64(&sb, num);
        sc_sb_str(&sb, ")");
    }
    (void)sc_sb_finish(&sb, NULL);
}

#if SMARTCFG_WITH_DYNREG
/* The registration's POST in the port is over for the binder: ended there if it still runs
 * (post_cancel is idempotent after a result). */
static void dr_stop(bind_impl_t *s)
{
    if (s->dr_running && s->hal != NULL && s->hal->http.post_cancel != NULL)
        s->hal->http.post_cancel(s->hal->http.ctx);
    s->dr_running = false;
}
#endif

static void close_link(bind_impl_t *s)
{
#if SMARTCFG_WITH_DYNREG
    dr_stop(s);
#endif
    if (s->mqtt_started && s->hal != NULL && s->hal->mqtt.disconnect != NULL)
        (void)s->hal->mqtt.disconnect(s->hal->mqtt.ctx);
    s->mqtt_started = false;
}

static void wipe_secrets(bind_impl_t *s)
{
    sc_wipe(s->token, sizeof s->token);
    sc_wipe(s->payload, sizeof s->payload);
    sc_wipe(&s->creds, sizeof s->creds);
    sc_wipe(&s->u, sizeof s->u);
}

static void fail_(bind_impl_t *s, uint16_t err_id, int32_t sub_id, const char *why)
{
    s->err_id = err_id;
    s->sub_id = sub_id;
    set_reason_(s, why != NULL ? why : sc_errid_text(err_id), sub_id, true);
    BLOG(s, SC_LOG_ERROR, "bind failed: %s", s->reason);
    close_link(s);
    wipe_secrets(s);
    s->state = ST_FAILED;
}

static sc_err_t start(sc_binder_t *b, const sc_hal_t *hal, const sc_cloud_config_t *cfg, sc_identity_t *id,
                      const char *token, uint32_t now_ms, bool query)
{
    if (b == NULL)
        return SC_ERR_INVAL;
    memset(b, 0, sizeof *b);
    bind_impl_t *s = impl(b);
    s->query = query;
    s->hal = hal;
    s->cfg = cfg;
    s->id = id;
    s->t_start = now_ms;
    uint32_t budget = (cfg != NULL && cfg->bind_timeout_ms != 0) ? cfg->bind_timeout_ms : SC_BINDER_TIMEOUT_MS;
    s->deadline = now_ms + budget;
    if (hal == NULL || id == NULL || token == NULL) {
        fail(s, SC_ERRID_DEVINFO, SC_SUBID_INVALID, "missing argument");
        return SC_ERR_INVAL;
    }
    if (hal->mqtt.connect == NULL || hal->mqtt.state == NULL || hal->mqtt.publish == NULL ||
        hal->mqtt.subscribe == NULL || hal->mqtt.poll == NULL) {
        fail(s, SC_ERRID_MQTT_CONNECT, SC_ERR_UNSUPPORTED, "no MQTT in this HAL");
        return SC_ERR_UNSUPPORTED;
    }
    size_t tl = sc_cloud_strnlen(token, SC_TOKEN_MAX);
    if (tl == 0 || tl > SC_TOKEN_MAX) {
        fail(s, SC_ERRID_TOKEN_SEND, SC_SUBID_INVALID, "bad token length");
        return tl == 0 ? SC_ERR_INVAL : SC_ERR_RANGE;
    }
    memcpy(s->token, token, tl + 1);
    if (sc_cloud_topic_up(id, s->topic_up, sizeof s->topic_up) != SC_OK ||
        sc_cloud_topic_down(id, s->topic_down, sizeof s->topic_down) != SC_OK) {
        fail(s, SC_ERRID_DEVINFO, SC_SUBID_INVALID, "bad product id / device name");
        return SC_ERR_INVAL;
    }
    size_t sl = sc_cloud_strnlen(id->device_secret, SC_DEVICE_SECRET_MAX);
    if (sl > SC_DEVICE_SECRET_MAX || sc_cloud_strnlen(id->product_secret, SC_PRODUCT_SECRET_MAX) > SC_PRODUCT_SECRET_MAX) {
        fail(s, SC_ERRID_DEVINFO, SC_SUBID_INVALID, "secret too long");
        return SC_ERR_RANGE;
    }
    if (sl == 0) {
        if (id->product_secret[0] == '\0') {
            fail(s, SC_ERRID_DEVINFO, SC_SUBID_INVALID, "no device secret and no product secret");
            return SC_ERR_INVAL;
        }
        s->state = ST_DYNREG;
    } else {
        s->state = ST_CONNECT;
    }
    set_reason(s, s->state == ST_DYNREG ? "registering" : "connecting", 0, false);
    return SC_OK;
}

sc_err_t sc_binder_start(sc_binder_t *b, const sc_hal_t *hal, const sc_cloud_config_t *cfg,
                         sc_identity_t *id, const char *token, uint32_t now_ms)
{
    return start(b, hal, cfg, id, token, now_ms, false);
}

sc_err_t sc_binder_query_start(sc_binder_t *b, const sc_hal_t *hal, const sc_cloud_config_t *cfg,
                               sc_identity_t *id, uint32_t now_ms)
{
    /* The query carries no token; a placeholder keeps start()'s checks in one place. */
    return start(b, hal, cfg, id, "-", now_ms, true);
}

/* The PSK record names its device (F32): "<product id>\0<device name>\0<psk>", so a state
 * kept across a change of identity is never taken for the new one (its PSK would fail the
 * MQTT login, and the new device would never register). A record of before (the PSK alone,
 * no NUL) cannot say whose it is: it is tried once (LEGACY_* above). */
#define PSK_REC_MAX (SC_PRODUCT_ID_MAX + 1 + SC_DEVICE_NAME_MAX + 1 + SC_DEVICE_SECRET_MAX)
/* Its two buffers live in the request buffer, free before the request is built and after it
 * went out: on the stack they cost the deepest path (dynreg) 0.3 KB. */
_Static_assert(2 * PSK_REC_MAX + 1 <= sizeof(((bind_impl_t *)0)->u.dr.req), "PSK record scratch fits the request buffer");
_Static_assert(SC_MQTT_PSK_MAX <= sizeof(((bind_impl_t *)0)->u.dr.req), "the TLS-PSK key fits the scratch");

static size_t psk_record(const sc_identity_t *id, const char *psk, char *rec)
{
    size_t a = strlen(id->product_id) + 1, b = strlen(id->device_name) + 1, c = strlen(psk);
    memcpy(rec, id->product_id, a);
    memcpy(rec + a, id->device_name, b);
    memcpy(rec + a + b, psk, c);
    return a + b + c;
}

/* PSK from a previous registration: registering twice is refused by the cloud, so the
 * stored key wins -- when it is this device's. */
static bool load_stored_psk(bind_impl_t *s)
{
    const sc_hal_storage_t *st = &s->hal->storage;
    if (st->get == NULL)
        return false;
    char *buf = s->u.dr.req, *ours = s->u.dr.req + PSK_REC_MAX + 1;   /* before the request */
    size_t n = 0, pl = psk_record(s->id, "", ours);
    if (st->get(st->ctx, SC_CLOUD_PSK_KEY, buf, PSK_REC_MAX, &n) != SC_OK || n == 0 || n > PSK_REC_MAX)
        return false;
    buf[n] = '\0';
    const char *psk = buf;
    bool old = strlen(buf) == n;
    if (!old) {   /* names its device: this one's names, then a PSK; else none */
        bool mine = n > pl && memcmp(buf, ours, pl) == 0;
        psk += pl;
        n = mine ? n - pl : 0;
    } else if (s->legacy == LEGACY_REFUSED) {
        n = 0;   /* the broker refused it on this bind: register instead */
    }
    bool ok = n > 0 && n <= SC_DEVICE_SECRET_MAX && strlen(psk) == n;
    if (ok) {
        memcpy(s->id->device_secret, psk, n + 1);
        if (old && SMARTCFG_WITH_DYNREG)   /* a build that cannot register keeps taking it */
            s->legacy = LEGACY_IN_USE;
    }
    sc_wipe(buf, PSK_REC_MAX + 1);
    return ok;
}

#if SMARTCFG_WITH_DYNREG
static void dynreg_answer(bind_impl_t *s, sc_err_t rc, int status, size_t resp_len);
#endif

static void do_dynreg(bind_impl_t *s, uint32_t now_ms)
{
    const sc_hal_t *hal = s->hal;
    if (load_stored_psk(s)) {
        BLOG(s, SC_LOG_INFO, "using the PSK stored by an earlier dynamic registration");
        s->stats.dynreg_done = true;
        s->state = ST_CONNECT;
        return;
    }
#if !SMARTCFG_WITH_DYNREG
    /* A factory-PSK build (features.h): registering is not compiled in, so none of the
     * request/decode/persist path below is either. */
    (void)hal, (void)now_ms;
    fail(s, SC_ERRID_DEVINFO, SC_ERR_UNSUPPORTED, "no PSK and no dynamic registration in this build");
#else
    bool bg = hal->http.post_start != NULL && hal->http.post_poll != NULL;
    if (hal->http.post == NULL && !bg) {
        fail(s, SC_ERRID_DEVINFO, SC_ERR_UNSUPPORTED, "dynreg: no HTTP in this HAL");
        return;
    }
    if (strlen(s->id->product_secret) < 16) {
        fail(s, SC_ERRID_DEVINFO, SC_SUBID_INVALID, "dynreg: product secret shorter than 16");
        return;
    }
    uint64_t ts = hal->sys.unix_time != NULL ? hal->sys.unix_time(hal->sys.ctx) : 0;
    if (ts < SC_CLOUD_CLOCK_FLOOR) {   /* none, or not set yet: a timestamp the cloud refuses */
        fail(s, SC_ERRID_DEVINFO, SC_SUBID_TIMESTAMP, "dynreg: wall clock unknown");
        return;
    }
    uint32_t nonce = 0;
    if (hal->sys.random != NULL)
        hal->sys.random(hal->sys.ctx, &nonce, sizeof nonce);
    nonce = (nonce & 0x7fffffffu) | 1u;   /* the reference uses a positive int */
    size_t req_len = 0;
    sc_err_t rc = sc_cloud_dynreg_request(s->id, nonce, ts, s->u.dr.req, sizeof s->u.dr.req, &req_len);
    if (rc != SC_OK) {
        fail(s, SC_ERRID_DEVINFO, SC_SUBID_INVALID, "dynreg: cannot build request");
        return;
    }
    const char *url = (s->cfg != NULL && s->cfg->register_url[0] != '\0') ? s->cfg->register_url
                                                                          : SC_CLOUD_REGISTER_URL;
    uint32_t left = reached(now_ms, s->deadline) ? 1 : s->deadline - now_ms;
    uint32_t tmo = left < SC_BINDER_DYNREG_TIMEOUT_MS ? left : SC_BINDER_DYNREG_TIMEOUT_MS;
    int status = 0;
    size_t resp_len = 0;
    BLOG(s, SC_LOG_INFO, "dynamic registration at %s", url);
    if (bg) {
        /* In the port's background: the caller's step goes on meanwhile, so a device keeps
         * answering its UDP 8266 and log services, its events and a stop (with post(), all of
         * them waited for the registration, up to its 10 s). */
        rc = hal->http.post_start(hal->http.ctx, url, "application/x-www-form-urlencoded", s->u.dr.req, req_len, tmo);
        sc_wipe(s->u.dr.req, sizeof s->u.dr.req);   /* the port copied it: it carries the signature */
        if (rc != SC_OK) {
            fail(s, SC_ERRID_DEVINFO, rc, "dynreg: HTTP request failed");
            return;
        }
        s->dr_running = true;
        s->t_dr_end = now_ms + tmo + SC_BINDER_DYNREG_GRACE_MS;
        s->t_dr_poll = now_ms;
        s->state = ST_DYNREG_WAIT;
        return;
    }
    rc = hal->http.post(hal->http.ctx, url, "application/x-www-form-urlencoded", s->u.dr.req, req_len, tmo, &status,
                        s->u.dr.resp, sizeof s->u.dr.resp, &resp_len);
    dynreg_answer(s, rc, status, resp_len);
#endif
}

#if SMARTCFG_WITH_DYNREG
/* The registration's outcome (rc, the HTTP status, s->u.dr.resp[0..resp_len)): the PSK decoded
 * and persisted, then on to ST_CONNECT; or the bind fails. */
static void dynreg_answer(bind_impl_t *s, sc_err_t rc, int status, size_t resp_len)
{
    const sc_hal_t *hal = s->hal;
    if (rc != SC_OK) {
        fail(s, SC_ERRID_DEVINFO, rc, "dynreg: HTTP request failed");
        return;
    }
    if (status != 200) {
        fail(s, SC_ERRID_DEVINFO, status, "dynreg: HTTP status");
        return;
    }
    if (resp_len > sizeof s->u.dr.resp)
        resp_len = sizeof s->u.dr.resp;
    int32_t code = 0;
    char psk[SC_DEVICE_SECRET_MAX + 1];
    rc = sc_cloud_dynreg_decode(s->id->product_secret, s->u.dr.resp, resp_len, psk, sizeof psk, &code);
    if (rc != SC_OK) {
        sc_wipe(psk, sizeof psk);
        if (rc == SC_ERR_REFUSED)
            fail(s, SC_ERRID_DEVINFO, code, "dynreg: cloud refused, code");
        else if (rc == SC_ERR_FORMAT)
            fail(s, SC_ERRID_DEVINFO, SC_SUBID_JSON, "dynreg: malformed response");
        else if (rc == SC_ERR_AUTH)
            fail(s, SC_ERRID_DEVINFO, SC_ERR_AUTH, "dynreg: payload does not decrypt (product secret?)");
        else
            fail(s, SC_ERRID_DEVINFO, rc, "dynreg: unusable response");
        return;
    }
    size_t pl = strlen(psk);
    const sc_hal_storage_t *st = &hal->storage;
    if (st->put != NULL) {
        char *rec = s->u.dr.req, *back = s->u.dr.req + PSK_REC_MAX;   /* the request went out */
        size_t rl = psk_record(s->id, psk, rec), bn = 0;
        rc = st->put(st->ctx, SC_CLOUD_PSK_KEY, rec, rl);
        if (rc == SC_OK && st->get != NULL)
            rc = st->get(st->ctx, SC_CLOUD_PSK_KEY, back, PSK_REC_MAX, &bn);
        bool same = rc == SC_OK && (st->get == NULL || (bn == rl && memcmp(back, rec, rl) == 0));
        sc_wipe(rec, 2 * PSK_REC_MAX);
        if (!same) {
            sc_wipe(psk, sizeof psk);
            /* Registered but not stored: the next boot could not register again. Say so. */
            fail(s, SC_ERRID_DEVINFO, rc != SC_OK ? rc : SC_ERR_IO, "dynreg: PSK could not be persisted");
            return;
        }
    } else {
        BLOG(s, SC_LOG_WARN, "no storage: the registered PSK is not persisted");
    }
    memcpy(s->id->device_secret, psk, pl + 1);
    sc_wipe(psk, sizeof psk);
    sc_wipe(&s->u, sizeof s->u);
    s->stats.dynreg_done = true;
    BLOG(s, SC_LOG_INFO, "dynamic registration done, PSK stored");
    s->state = ST_CONNECT;
}

/* ST_DYNREG_WAIT: the port's answer, once it has one (or its time is over: a port whose own
 * timeout never fires must not hold the bind; the device's budget ends it anyway). */
static void dynreg_poll(bind_impl_t *s, uint32_t now_ms)
{
    const sc_hal_http_t *hh = &s->hal->http;
    int status = 0;
    size_t resp_len = 0;
    sc_err_t rc = hh->post_poll(hh->ctx, &status, s->u.dr.resp, sizeof s->u.dr.resp, &resp_len);
    if (rc == SC_ERR_AGAIN) {
        s->t_dr_poll = now_ms + SC_BINDER_DYNREG_POLL_MS;
        if (!reached(now_ms, s->t_dr_end) && !reached(now_ms, s->deadline))
            return;
        rc = SC_ERR_TIMEOUT;
    }
    dr_stop(s);
    dynreg_answer(s, rc, status, resp_len);
}
#endif

static void do_connect(bind_impl_t *s, uint32_t now_ms)
{
    const sc_hal_t *hal = s->hal;
    uint8_t rnd[SC_CLOUD_CONNID_LEN] = { 0 };
    if (hal->sys.random != NULL)
        hal->sys.random(hal->sys.ctx, rnd, sizeof rnd);
    uint64_t unix_now = hal->sys.unix_time != NULL ? hal->sys.unix_time(hal->sys.ctx) : 0;
    sc_err_t rc = sc_cloud_mqtt_credentials(s->id, s->cfg, unix_now, rnd, &s->creds);
    if (rc != SC_OK) {
        fail(s, SC_ERRID_DEVINFO, rc == SC_ERR_FORMAT ? SC_SUBID_INVALID : rc, "bad device secret");
        return;
    }
    sc_mqtt_connect_t p;
    memset(&p, 0, sizeof p);
    p.host = s->creds.host;
    p.port = s->creds.port;
    p.client_id = s->creds.client_id;
    p.username = s->creds.username;
    p.password = s->creds.password;
    p.keepalive_s = 240;
    p.tls = s->creds.tls;
    p.ca_file = (s->cfg != NULL && s->cfg->ca_file[0] != '\0') ? s->cfg->ca_file : NULL;
    /* TLS-PSK: the key is the decoded device secret, the identity the client id (as the ESP
     * SDK does); decoded into the scratch (free: no registration or message is under way) only
     * for the call, the port copies it. */
    uint8_t *psk = (uint8_t *)s->u.dr.req;
    size_t psk_len = 0;
    if (s->creds.tls_psk) {
        rc = sc_cloud_psk_decode(s->id->device_secret, psk, &psk_len);
        if (rc != SC_OK) {
            fail(s, SC_ERRID_DEVINFO, rc == SC_ERR_FORMAT ? SC_SUBID_INVALID : rc, "bad device secret");
            return;
        }
        p.ca_file = NULL;
        p.psk = psk;
        p.psk_len = psk_len;
        p.psk_identity = s->creds.client_id;
    }
    BLOG(s, SC_LOG_INFO, "MQTT connect to %s%s", s->creds.host, s->creds.tls_psk ? " (TLS-PSK)" : "");
    s->mqtt_started = true;
    rc = hal->mqtt.connect(hal->mqtt.ctx, &p);
    sc_wipe(s->creds.password, sizeof s->creds.password);   /* the port keeps its own copy */
    sc_wipe(psk, SC_MQTT_PSK_MAX);
    if (rc == SC_ERR_UNSUPPORTED && s->creds.tls_psk) {
        fail(s, SC_ERRID_MQTT_CONNECT, SC_ERR_UNSUPPORTED, "TLS-PSK not supported by this MQTT port");
        return;
    }
    if (rc != SC_OK) {
        int reason = 0;
        /* A port may know the real cause (errno, CONNACK code) even when connect() fails. */
        if (hal->mqtt.state(hal->mqtt.ctx, &reason) == SC_MQTT_FAILED && reason != 0)
            fail(s, SC_ERRID_MQTT_CONNECT, reason, "MQTT connect failed");
        else
            fail(s, SC_ERRID_MQTT_CONNECT, rc, "MQTT connect failed");
        return;
    }
    s->t_connect_deadline = sc_ms_min(now_ms + SC_BINDER_CONNECT_TIMEOUT_MS, s->deadline);
    s->state = ST_CONNECTING;
    set_reason(s, "waiting for CONNACK", 0, false);
}

static void publish(bind_impl_t *s, uint32_t now_ms)
{
    const sc_hal_t *hal = s->hal;
    int mid = -1;
    int k = s->npub++;
    s->stats.publishes++;
    /* after the last try, this is when the connection is given up (do_wait); the wait doubles
     * with every connection given up for silence, not for a lost link (binder.h) */
    s->t_next_pub = now_ms + (SC_BINDER_PUBLISH_RETRY_MS << s->silent);
    sc_err_t rc = hal->mqtt.publish(hal->mqtt.ctx, s->topic_up, s->payload, s->payload_len, 1, &mid);
    if (rc != SC_OK) {
#if SMARTCFG_WITH_REASONS
        BLOG(s, SC_LOG_WARN, "publish failed: %s", sc_strerror(rc));
#else
        /* the code, not its words: sc_strerror's texts (~0.3 KB) would be linked for this line alone */
        BLOG(s, SC_LOG_WARN, "publish failed: %d", (int)rc);
#endif
        if (s->npub >= SC_BINDER_PUBLISH_TRIES && !s->acked)
            fail(s, SC_ERRID_TOKEN_SEND, rc, "publish failed");
        return;
    }
    s->mids[k] = mid;
    s->mid_valid[k] = true;
    BLOG(s, SC_LOG_INFO, "%s published, try %d", s->query ? "bind_device_query" : "app_bind_token", s->npub);
}

/* The broker took a key from a record of before F32: it is this device's, so the record now
 * says so. A failed write changes nothing for this bind (the old record is still there). */
static void name_legacy_record(bind_impl_t *s)
{
    const sc_hal_storage_t *st = &s->hal->storage;
    s->legacy = LEGACY_NONE;
    if (st->put == NULL)
        return;
    char *rec = s->u.dr.req;   /* free: no registration or message is under way */
    size_t rl = psk_record(s->id, s->id->device_secret, rec);
    sc_err_t rc = st->put(st->ctx, SC_CLOUD_PSK_KEY, rec, rl);
    sc_wipe(rec, PSK_REC_MAX);
    if (rc == SC_OK)
        BLOG(s, SC_LOG_INFO, "PSK record now names this device");
}

static void on_connected(bind_impl_t *s, uint32_t now_ms)
{
    const sc_hal_t *hal = s->hal;
    BLOG(s, SC_LOG_INFO, "MQTT connected");
    if (SMARTCFG_WITH_DYNREG && s->legacy == LEGACY_IN_USE)
        name_legacy_record(s);
    sc_err_t rc = hal->mqtt.subscribe(hal->mqtt.ctx, s->topic_down, 1);
    if (rc != SC_OK) {
        fail(s, SC_ERRID_MQTT_CONNECT, rc, "subscribe to the down topic failed");
        return;
    }
    uint64_t ms = hal->sys.unix_time != NULL ? hal->sys.unix_time(hal->sys.ctx) * 1000u : 0;
    if (ms == 0)
        ms = now_ms;   /* any value unique for this device works as a clientToken */
    /* On a connection opened again the clientToken stays: a reply to a request sent over the
     * lost connection still counts (the cloud answers a repeated bind the same way). */
    rc = s->client_token[0] != '\0' ? SC_OK
                                    : sc_cloud_client_token(s->id->device_name, ms, s->client_token, sizeof s->client_token);
    if (rc == SC_OK)
        rc = s->query ? sc_cloud_build_bind_device_query(s->client_token, ms, s->payload, sizeof s->payload,
                                                         &s->payload_len)
                      : sc_cloud_build_app_bind_token(s->client_token, s->token, s->payload, sizeof s->payload,
                                                      &s->payload_len);
    if (rc != SC_OK) {
        fail(s, SC_ERRID_TOKEN_SEND, SC_SUBID_INVALID, "cannot build the request");
        return;
    }
    s->state = ST_WAIT;
    set_reason(s, s->query ? "waiting for bind_device_query_reply" : "waiting for app_bind_token_reply", 0, false);
    publish(s, now_ms);
}

static void check_acks(bind_impl_t *s)
{
    const sc_hal_mqtt_t *m = &s->hal->mqtt;
    if (s->acked)
        return;
    if (m->puback_received == NULL) {   /* port cannot tell: a reply is the only evidence */
        s->acked = true;
        return;
    }
    for (int i = 0; i < s->npub && i < SC_BINDER_PUBLISH_TRIES; i++)
        if (s->mid_valid[i] && m->puback_received(m->ctx, s->mids[i]))
            s->acked = true;
}

/* Returns true when the bind finished (DONE or FAILED). */
static bool handle_msg(bind_impl_t *s)
{
    sc_mqtt_msg_t *msg = &s->u.msg;
    if (strcmp(msg->topic, s->topic_down) != 0) {
        s->stats.ignored++;
        return false;
    }
    sc_cloud_msg_t m;
    size_t n = msg->payload_len > sizeof msg->payload ? sizeof msg->payload : msg->payload_len;
    if (msg->truncated || sc_cloud_parse_msg(msg->payload, n, &m) != SC_OK) {
        s->stats.malformed++;
        BLOG(s, SC_LOG_WARN, "malformed message on the down topic ignored");
        return false;
    }
    sc_cloud_msg_type_t want = s->query ? SC_CLOUD_MSG_BIND_DEVICE_QUERY_REPLY : SC_CLOUD_MSG_APP_BIND_TOKEN_REPLY;
    if (m.type != want || strcmp(m.client_token, s->client_token) != 0) {
        s->stats.ignored++;
        return false;
    }
    if (!m.has_code) {
        s->stats.malformed++;
        BLOG(s, SC_LOG_WARN, "reply without code ignored");
        return false;
    }
    if (m.code != 0) {
        fail(s, SC_ERRID_TOKEN_REPLY, m.code, s->query ? "not bound: bind_device_query_reply code" : "app_bind_token_reply code");
        return true;
    }
    BLOG(s, SC_LOG_INFO, "bound: %s code 0", s->query ? "bind_device_query_reply" : "app_bind_token_reply");
    set_reason(s, "bound", 0, false);
    wipe_secrets(s);
    s->state = ST_DONE;
    return true;
}

/* Opens the connection again (the step after this one connects): false when the budget of
 * reconnections or time is spent. The old connection's tries and message ids are forgotten;
 * `acked` stays: a PUBACK on any connection means the cloud has the request, so a bind that
 * then times out is "no reply" (25), not "never acknowledged" (23). */
static bool reconnect(bind_impl_t *s, uint32_t now_ms, const char *why)
{
    if (s->reconnects >= SC_BINDER_RECONNECTS || reached(now_ms, s->deadline))
        return false;
    s->reconnects++;
    s->stats.reconnects++;
    BLOG(s, SC_LOG_WARN, "%s: connecting again (%d of %d)", why, s->reconnects, SC_BINDER_RECONNECTS);
    close_link(s);
    s->npub = 0;
    memset(s->mid_valid, 0, sizeof s->mid_valid);
    s->state = ST_CONNECT;
    set_reason(s, "connecting again", 0, false);
    return true;
}

static void do_wait(bind_impl_t *s, uint32_t now_ms)
{
    const sc_hal_mqtt_t *m = &s->hal->mqtt;
    /* Bounded so a flood on the down topic cannot keep one step busy forever. */
    for (int i = 0; i < 32; i++) {
        memset(&s->u.msg, 0, sizeof s->u.msg);
        if (m->poll(m->ctx, &s->u.msg) != SC_OK)
            break;
        s->u.msg.topic[sizeof s->u.msg.topic - 1] = '\0';
        if (handle_msg(s))
            return;
    }
    int reason = 0;
    sc_mqtt_state_t st = m->state(m->ctx, &reason);
    if (st != SC_MQTT_CONNECTED) {
        if (!reconnect(s, now_ms, "MQTT link lost while waiting"))
            fail(s, SC_ERRID_MQTT_CONNECT, reason != 0 ? reason : SC_ERR_CLOSED, "MQTT link lost while waiting");
        return;
    }
    check_acks(s);
    if (reached(now_ms, s->deadline)) {
        if (s->acked)
            fail(s, SC_ERRID_TOKEN_TIMEOUT, SC_SUBID_TIMEOUT, "no reply from the cloud");
        else
            fail(s, SC_ERRID_TOKEN_SEND, SC_SUBID_TIMEOUT, "publish never acknowledged");
        return;
    }
    if (!reached(now_ms, s->t_next_pub))
        return;
    if (s->npub < SC_BINDER_PUBLISH_TRIES)
        publish(s, now_ms);
    else if (reconnect(s, now_ms, "no reply on this connection"))
        s->silent++;
}

/* The broker refused the key of a record of before F32: most likely another device's (a state
 * dir kept across a change of identity). This device registers itself in the same bind. */
static void legacy_refused(bind_impl_t *s)
{
    BLOG(s, SC_LOG_WARN, "stored PSK refused (an old record): registering");
    close_link(s);
    sc_wipe(s->id->device_secret, sizeof s->id->device_secret);
    s->legacy = LEGACY_REFUSED;
    s->stats.dynreg_done = false;
    s->state = ST_DYNREG;
    set_reason(s, "registering", 0, false);
}

sc_binder_status_t sc_binder_step(sc_binder_t *b, uint32_t now_ms, uint16_t *err_id, int32_t *sub_id)
{
    uint16_t e_dummy;
    int32_t s_dummy;
    if (err_id == NULL)
        err_id = &e_dummy;
    if (sub_id == NULL)
        sub_id = &s_dummy;
    *err_id = 0;
    *sub_id = 0;
    if (b == NULL) {
        *err_id = SC_ERRID_DEVINFO;
        *sub_id = SC_SUBID_INVALID;
        return SC_BINDER_FAILED;
    }
    bind_impl_t *s = impl(b);
    if (s->state == ST_DYNREG)
        do_dynreg(s, now_ms);
#if SMARTCFG_WITH_DYNREG
    if (s->state == ST_DYNREG_WAIT)
        dynreg_poll(s, now_ms);
#endif
    if (s->state == ST_CONNECT) {
        if (reached(now_ms, s->deadline))
            fail(s, SC_ERRID_MQTT_CONNECT, SC_SUBID_TIMEOUT, "no time left to connect");
        else
            do_connect(s, now_ms);
    }
    if (s->state == ST_CONNECTING) {
        int reason = 0;
        sc_mqtt_state_t st = s->hal->mqtt.state(s->hal->mqtt.ctx, &reason);
        if (st == SC_MQTT_CONNECTED)
            on_connected(s, now_ms);
        else if (SMARTCFG_WITH_DYNREG && st == SC_MQTT_FAILED && s->legacy == LEGACY_IN_USE &&
                 (reason == CONNACK_BAD_AUTH || reason == CONNACK_NOT_AUTHORIZED))
            legacy_refused(s);
        else if (st == SC_MQTT_FAILED || st == SC_MQTT_DISCONNECTED)
            fail(s, SC_ERRID_MQTT_CONNECT, reason != 0 ? reason : SC_ERR_CLOSED, "MQTT connect refused");
        else if (reached(now_ms, s->t_connect_deadline))
            fail(s, SC_ERRID_MQTT_CONNECT, SC_SUBID_TIMEOUT, "MQTT connect timed out");
    } else if (s->state == ST_WAIT) {
        do_wait(s, now_ms);
    }
    switch (s->state) {
    case ST_DONE:
        return SC_BINDER_DONE;
    case ST_FAILED:
    case ST_IDLE:
        *err_id = s->state == ST_IDLE ? SC_ERRID_DEVINFO : s->err_id;
        *sub_id = s->state == ST_IDLE ? SC_SUBID_INVALID : s->sub_id;
        return SC_BINDER_FAILED;
    default:
        return SC_BINDER_PENDING;
    }
}

void sc_binder_abort(sc_binder_t *b)
{
    if (b == NULL)
        return;
    bind_impl_t *s = impl(b);
    close_link(s);
    wipe_secrets(s);
    if (s->state != ST_DONE && s->state != ST_FAILED && s->state != ST_IDLE) {
        s->state = ST_FAILED;
        s->err_id = SC_ERRID_BOARDING_STOP;
        s->sub_id = SC_SUBID_STOP_APP;
#if SMARTCFG_WITH_REASONS
        set_reason_(s, "aborted", 0, false);
#else
        set_reason_(s, sc_errid_text(s->err_id), s->sub_id, true);
#endif
    }
}

uint32_t sc_binder_next(const sc_binder_t *b)
{
    const bind_impl_t *s = cimpl(b);
    switch (s->state) {
    case ST_DYNREG:
    case ST_CONNECT:
        return s->t_start;   /* now */
#if SMARTCFG_WITH_DYNREG
    case ST_DYNREG_WAIT:
        return sc_ms_min(s->t_dr_poll, s->deadline);
#endif
    case ST_CONNECTING:
        return s->t_connect_deadline;
    case ST_WAIT: /* the next try, or giving the connection up; once neither is left, only the deadline */
        return s->npub < SC_BINDER_PUBLISH_TRIES || s->reconnects < SC_BINDER_RECONNECTS
                   ? sc_ms_min(s->t_next_pub, s->deadline)
                   : s->deadline;
    default:
        return s->deadline;
    }
}

const char *sc_binder_reason(const sc_binder_t *b)
{
    const bind_impl_t *s = cimpl(b);
    if (s->reason[0] != '\0')
        return s->reason;
    /* without SMARTCFG_WITH_REASONS only a failure has a reason */
    return s->state == ST_DONE ? "bound" : s->state == ST_IDLE ? "idle" : "in progress";
}

void sc_binder_stats(const sc_binder_t *b, sc_binder_stats_t *out)
{
    *out = cimpl(b)->stats;
}
