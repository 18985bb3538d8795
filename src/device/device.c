/* SPDX-License-Identifier: Apache-2.0 */
/* The provisioning state machine (docs/device.md):
 *   idle -> sniffing -> credentials -> joining -> acking -> wait_token -> binding -> done
 *   (soft-AP flow: softap -> joining -> binding -> done); any step -> failed.
 * Sans-I/O over the HAL: sc_device_on_frame() feeds the receiver, sc_device_step(now) does
 * all due work (bounded) and returns when it wants to run again. Every failure becomes an
 * error record (diag.h) that reaches the app as Current_Error, or as Previous_Error on the
 * next attempt if it could not be delivered. No secret is ever formatted into a log line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../common/log.h"
#include "../common/outline.h"
#include "../common/pool.h"
#include "device_priv.h"

/* A text pool (pool.h): one name per state, in the enum's order. Every log line asks for one,
 * a walk of at most nine names. */
static const char state_names[] = "idle\0sniffing\0credentials\0joining\0acking\0wait_token\0binding\0done\0"
                                  "failed\0softap";
_Static_assert(SC_DEV_SOFTAP == 9, "one name per state in state_names");

const char *sc_device_state_name(sc_device_state_t s)
{
    return (unsigned)s <= SC_DEV_SOFTAP ? sc_pool_at(state_names, (unsigned)s) : "unknown";
}

static bool due(uint32_t now, uint32_t t) { return sc_ms_reached(now, t); }

/* Lowers *next to t, never below now (a past deadline means "run again at once"). */
static void earliest(uint32_t *next, uint32_t now, uint32_t t)
{
    *next = sc_ms_min(*next, sc_ms_diff(t, now) < 0 ? now : t);
}

size_t sc_device_size(void) { return sizeof(sc_device_t); }

void sc_device_config_default(sc_device_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    memcpy(cfg->identity.region, "ap-guangzhou", sizeof "ap-guangzhou");
    cfg->window_ms = 300000;
    cfg->after_join_ms = 50000;
    cfg->join_timeout_ms = 60000;
    cfg->token_wait_ms = 20000;
    cfg->linger_ms = 10000;
    cfg->ack_count = 30;
    cfg->ack_interval_ms = 100;
}

/* ---- events and the provisioning log ----------------------------------------------- */

void sc_dev_emit(devstate_t *d, sc_device_event_t *ev)
{
    ev->state = d->state;
    if (d->cfg.on_event)
        d->cfg.on_event(d->cfg.user, ev);
}

/* A cleared event of type t (one copy of the clearing for the nine places that emit one). */
void sc_dev_ev_init(sc_device_event_t *ev, sc_device_event_type_t t)
{
    memset(ev, 0, sizeof *ev);
    ev->type = t;
}

static void emit_simple(devstate_t *d, sc_device_event_type_t t)
{
    sc_device_event_t ev;
    sc_dev_ev_init(&ev, t);
    sc_dev_emit(d, &ev);
}

/* A record (kind 0) or log (kind 1) write returned e. A failure is loud — an event and a
 * line to hal.sys.log (not the ring: its write is what may be failing) — once per streak, and
 * never stops the flow: losing the record must not also lose the provisioning. */
static void sc_dev_store_result(devstate_t *d, int kind, sc_err_t e)
{
    if (e == SC_OK || e == SC_ERR_UNSUPPORTED) {
        d->store_failing[kind] = false;
        return;
    }
    d->stats.storage_errors++;
    if (d->store_failing[kind])
        return;
    d->store_failing[kind] = true;
    static const char *const what[] = { "error record not saved", "provisioning log not saved" };
    sc_logf(&d->hal.sys, SC_LOG_ERROR, "storage: %s (%d): it may be missing after a restart", what[kind], (int)e);
    sc_device_event_t ev;
    sc_dev_ev_init(&ev, SC_DEV_EV_STORAGE);
    ev.sub_id = e;
    ev.text = what[kind];
    sc_dev_emit(d, &ev);
}

void sc_dev_log(devstate_t *d, uint32_t now, const char *func, int line, const char *fmt, ...)
{
    char msg[SC_DIAG_LOG_ENTRY_MAX];
    int n = snprintf(msg, sizeof msg, "[%s] ", sc_device_state_name(d->state));
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof msg)
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    const char *e = sc_diag_log_add(&d->log, now, func, line, msg);
    sc_dev_store_result(d, 1, sc_diag_log_persist(&d->log, &d->hal.storage, d->scratch));
    if (d->hal.sys.log) {
        char line[SC_DIAG_LOG_ENTRY_MAX + 1];
        size_t n = strlen(e);
        n = n >= 2 ? n - 2 : 0; /* the HAL gets a line, not the ring's "\r\n" framing */
        memcpy(line, e, n);
        line[n] = '\0';
        sc_log_line(&d->hal.sys, SC_LOG_INFO, line);
    }
}

static void set_state(devstate_t *d, sc_device_state_t s, uint32_t now)
{
    if (d->state == s)
        return;
    DLOG(d, now, "enter %s", sc_device_state_name(s));
    d->state = s;
    emit_simple(d, SC_DEV_EV_STATE);
}

/* ---- error records ------------------------------------------------------------------ */

/* Sends every queued record to the app, oldest first; a record leaves the queue (and the
 * flash) only once it was handed to the network. */
static void flush_errors(devstate_t *d)
{
    if (!d->svc.app_known || !d->svc.open || !d->errs.n)
        return;
    bool changed = false;
    while (d->errs.n) {
        const sc_diag_err_t *r = &d->errs.rec[0];
        if (sc_tc8266_svc_send_error(&d->svc, r->previous, r->err_id, r->sub_id) != SC_OK)
            break;
        sc_diag_errors_pop(&d->errs);
        changed = true;
    }
    if (changed)
        sc_dev_store_result(d, 0, sc_diag_errors_persist(&d->errs, &d->hal.storage, d->scratch));
}

static void record_error(devstate_t *d, uint32_t now, uint16_t err_id, int32_t sub_id, const char *why)
{
    d->have_last_err = true;
    d->last_err = err_id;
    d->last_sub = sub_id;
    /* A stop the user asked for (Ctrl-C, --timeout, AT+TCSTOPSMART, the API) is no failure to
     * report as the next run's Previous_Error: the app did not lose a device, the user ended it. */
    bool user_stop = err_id == SC_ERRID_BOARDING_STOP && (sub_id == SC_SUBID_STOP_APP || sub_id == SC_SUBID_STOP_AT);
    if (!user_stop) {
        sc_diag_errors_add(&d->errs, err_id, sub_id);
        sc_dev_store_result(d, 0, sc_diag_errors_persist(&d->errs, &d->hal.storage, d->scratch));
    }
    DLOG(d, now, "%s: %s (%u, %ld)", why, sc_errid_text(err_id), (unsigned)err_id, (long)sub_id);
    sc_device_event_t ev;
    sc_dev_ev_init(&ev, SC_DEV_EV_ERROR);
    ev.err_id = err_id;
    ev.sub_id = sub_id;
    ev.text = sc_errid_text(err_id);
    sc_dev_emit(d, &ev);
    flush_errors(d);
}

static void radio_off(devstate_t *d)
{
    if (d->channel && d->hal.radio.set_promiscuous)
        (void)d->hal.radio.set_promiscuous(d->hal.radio.ctx, false);
    d->channel = 0;
}

SC_OUTLINE static void wipe_secrets(devstate_t *d)
{
    sc_wipe(d->res.creds.password, sizeof d->res.creds.password);
    d->res.creds.password_len = 0;
    sc_wipe(d->sap_pwd, sizeof d->sap_pwd);
    d->sap_pwd_len = 0;
}

/* What a failure and the next attempt's start both end: the radio, the binder, the soft-AP
 * and its pending join, the secrets. (softap_up is only ever read together with
 * hal.softap.stop, so clearing it without a stop function changes nothing.) */
static void end_links(devstate_t *d)
{
    radio_off(d);
    if (d->binding) {
        sc_binder_abort(&d->binder);
        d->binding = false;
    }
    if (d->softap_up && d->hal.softap.stop)
        (void)d->hal.softap.stop(d->hal.softap.ctx);
    d->softap_up = false;
    d->softap_join_at = 0;
    wipe_secrets(d);
}

/* Ends the attempt: everything but the 8266 service (it stays to deliver the errors and to
 * answer the app's resends until the window closes) and the log service. */
static void fail(devstate_t *d, uint32_t now, uint16_t err_id, int32_t sub_id, const char *why)
{
    end_links(d);
    sc_tc8266_svc_stop_repeats(&d->svc); /* no identity after a failure */
    record_error(d, now, err_id, sub_id, why);
    set_state(d, SC_DEV_FAILED, now);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

/* Copies cfg with defaults for the zero fields; the caller's channel list is copied too. */
static void apply_config(devstate_t *d, const sc_device_config_t *cfg)
{
    d->cfg = *cfg;
    sc_device_config_t def;
    sc_device_config_default(&def);
    if (!d->cfg.window_ms) d->cfg.window_ms = def.window_ms;
    if (!d->cfg.after_join_ms) d->cfg.after_join_ms = def.after_join_ms;
    if (!d->cfg.join_timeout_ms) d->cfg.join_timeout_ms = def.join_timeout_ms;
    if (!d->cfg.token_wait_ms) d->cfg.token_wait_ms = def.token_wait_ms;
    if (!d->cfg.linger_ms) d->cfg.linger_ms = def.linger_ms;
    if (!d->cfg.ack_count) d->cfg.ack_count = def.ack_count;
    if (!d->cfg.ack_interval_ms) d->cfg.ack_interval_ms = def.ack_interval_ms;
    if (!d->cfg.identity.region[0])
        memcpy(d->cfg.identity.region, def.identity.region, sizeof def.identity.region);
    memset(d->channels, 0, sizeof d->channels);
    if (cfg->channels && cfg->nchannels) {
        size_t n = cfg->nchannels > sizeof d->channels ? sizeof d->channels : cfg->nchannels;
        memcpy(d->channels, cfg->channels, n);
        d->cfg.nchannels = n;
    } else
        d->cfg.nchannels = 0;
    d->cfg.channels = NULL; /* never keep the caller's pointer */
}

static bool active(sc_device_state_t s);

sc_err_t sc_device_configure(sc_device_t *dev, const sc_device_config_t *cfg)
{
    devstate_t *d = DEV(dev);
    if (!d || !cfg || !d->inited)
        return SC_ERR_INVAL;
    if (active(d->state))
        return SC_ERR_BUSY;
    apply_config(d, cfg);
    return SC_OK;
}

sc_err_t sc_device_init_sized(sc_device_t *dev, size_t size, const sc_hal_t *hal, const sc_device_config_t *cfg)
{
    if (size < sizeof(sc_device_t)) {
#if SMARTCFG_WITH_REASONS /* the sentence where there is an OS to show it (features.h) */
        if (hal)
            sc_logf(&hal->sys, SC_LOG_ERROR, "sc_device_t: %u bytes in the caller, %u in the library: other SMARTCFG_WITH_* switches",
                    (unsigned)size, (unsigned)sizeof(sc_device_t));
#endif
        return SC_ERR_INVAL;
    }
    return (sc_device_init)(dev, hal, cfg);
}

sc_err_t(sc_device_init)(sc_device_t *dev, const sc_hal_t *hal, const sc_device_config_t *cfg)
{
    devstate_t *d = DEV(dev);
    if (!d || !hal || !cfg)
        return SC_ERR_INVAL;
    memset(d, 0, sizeof *d);
    d->hal = *hal;
    apply_config(d, cfg);
    d->ack_h = -1;
    sc_tc8266_svc_init(&d->svc, &d->hal, &d->log, false);
    sc_tc8266_svc_init(&d->logsvc, &d->hal, &d->log, true);
    sc_diag_errors_init(&d->errs);
    sc_diag_log_init(&d->log);
    sc_tc8266_svc_share(&d->logsvc, &d->svc); /* one reply budget for both services */
    if (d->hal.storage.get) {
        (void)sc_diag_log_load(&d->log, &d->hal.storage, d->scratch);
        (void)sc_diag_errors_load(&d->errs, &d->hal.storage, d->scratch);
    }
    /* Rewriting what was loaded tells whether this run can save anything. When it cannot, the
     * previous run could probably not either: its error record may be missing. */
    if (d->hal.storage.put) {
        sc_err_t e = sc_diag_errors_persist(&d->errs, &d->hal.storage, d->scratch);
        if (e != SC_OK && e != SC_ERR_UNSUPPORTED) {
            d->stats.storage_errors++;
            d->store_failing[0] = true;
            sc_logf(&d->hal.sys, SC_LOG_ERROR,
                    "storage: not writable (%d): the previous run's error record may be missing, and this run's will be",
                    (int)e);
            d->store_boot_err = e; /* the event goes out from the first step: the caller may not be ready for events inside init */
        }
    }
    d->inited = true;
    return SC_OK;
}

static bool active(sc_device_state_t s)
{
    return s != SC_DEV_IDLE && s != SC_DEV_DONE && s != SC_DEV_FAILED;
}

static void close_flow(devstate_t *d)
{
    end_links(d);
    sc_tc8266_svc_close(&d->svc);
    sc_dev_ack_close(d);
    sc_wipe(d->token, sizeof d->token);
    d->have_token = false;
    sc_wipe(d->cand, sizeof d->cand);
    d->have_refusal = false;
}

/* What hal.h lists as required for a flow: without any of these the flow could not end
 * well (no IP for the ack and the services, no reply to the app, sockets never released), so
 * sc_device_start refuses with SC_ERR_UNSUPPORTED instead of failing late. */
static bool hal_has_required(const sc_hal_t *h)
{
    return h->sys.now_ms && h->station.join && h->station.status && h->station.get_ip && h->udp.open &&
           h->udp.send_to && h->udp.recv_from && h->udp.close;
}

/* Common per-attempt reset; earlier unsent errors become "previous". */
static sc_err_t begin(devstate_t *d, sc_device_flow_t flow, uint32_t now)
{
    if (!d || !d->inited)
        return SC_ERR_INVAL;
    if (active(d->state))
        return SC_ERR_BUSY;
    if (!hal_has_required(&d->hal))
        return SC_ERR_UNSUPPORTED; /* before close_flow: a refused start changes nothing */
    close_flow(d);
    if (!d->cfg.identity.product_id[0] || !d->cfg.identity.device_name[0]) {
#if SMARTCFG_WITH_REASONS /* say which setting where there is an OS to show it (skip_cloud needs it too) */
        sc_logf(&d->hal.sys, SC_LOG_ERROR, "start refused: identity.product_id and device_name must be set");
#endif
        return SC_ERR_INVAL;
    }
    for (uint8_t i = 0; i < d->errs.n; i++)
        d->errs.rec[i].previous = 1;
    d->flow = flow;
    d->window_end = now + d->cfg.window_ms;
    d->joined = false;
    d->have_last_err = false;
    sc_tc8266_svc_reset_peers(&d->svc);
    memset(&d->res, 0, sizeof d->res);
    memset(d->ip, 0, sizeof d->ip);
    d->idle_tick_at = now + SC_DEV_IDLE_TICK_MS;
    return SC_OK;
}

sc_err_t sc_device_start(sc_device_t *dev, uint32_t now)
{
    devstate_t *d = DEV(dev);
    sc_err_t e = begin(d, SC_DEV_FLOW_SMARTCONFIG, now);
    if (e != SC_OK)
        return e;
    /* a firmware-decoding port may run without our receiver */
    (void)(sc_receiver_init)(&d->rx, d->cfg.protocols); /* its own storage: no size check */
    if (d->cfg.v2_key_set)
        sc_receiver_set_v2_key(&d->rx, d->cfg.v2_key);
    d->proto = SC_PROTO_ESPTOUCH_V1;
    (void)sc_chansearch_init(&d->cs, d->cfg.nchannels ? d->channels : NULL, d->cfg.nchannels, 0);
    if (d->hal.radio.scan) {
        sc_scan_entry_t list[SC_ET_RX_MAX_SCAN];
        size_t n = 0;
        if (d->hal.radio.scan(d->hal.radio.ctx, list, SC_ET_RX_MAX_SCAN, &n) == SC_OK && n)
            (void)sc_et_rx_set_scan(sc_receiver_v1(&d->rx), list, n > SC_ET_RX_MAX_SCAN ? SC_ET_RX_MAX_SCAN : n);
    }
    if (d->hal.radio.set_promiscuous && d->hal.radio.set_promiscuous(d->hal.radio.ctx, true) != SC_OK) {
        d->state = SC_DEV_SNIFFING;
        fail(d, now, SC_ERRID_SC_START, SC_SUBID_INVALID, "promiscuous mode");
        return SC_ERR_IO;
    }
    d->channel = 0;
    d->cs_until = now;
    set_state(d, SC_DEV_SNIFFING, now);
    DLOG(d, now, "start smartconfig, window %lu ms", (unsigned long)d->cfg.window_ms);
    return SC_OK;
}

static sc_err_t open_service(devstate_t *d, const uint8_t *ip, uint32_t now)
{
    sc_err_t e = sc_tc8266_svc_open(&d->svc, ip, SC_TC8266_PORT);
    if (e != SC_OK) {
        fail(d, now, SC_ERRID_SRV_OPEN, e, "8266 service");
        return e;
    }
    return SC_OK;
}

sc_err_t sc_device_start_softap(sc_device_t *dev, const char *ssid, const char *psw, uint8_t ch, uint32_t now)
{
    devstate_t *d = DEV(dev);
    if (!ssid || !*ssid || strlen(ssid) > SC_SSID_MAX || (psw && strlen(psw) > SC_PASSWORD_MAX))
        return SC_ERR_INVAL;
    /* before begin(): a port without a soft-AP changes nothing by asking (start and stop
     * come as a pair: an AP the core cannot take down would stay up during the join) */
    if (d && d->inited && (!d->hal.softap.start || !d->hal.softap.stop))
        return SC_ERR_UNSUPPORTED;
    sc_err_t e = begin(d, SC_DEV_FLOW_SOFTAP, now);
    if (e != SC_OK)
        return e;
    d->state = SC_DEV_SOFTAP;
    e = d->hal.softap.start(d->hal.softap.ctx, ssid, psw && *psw ? psw : NULL, ch);
    if (e != SC_OK) {
        fail(d, now, SC_ERRID_AP_INIT, e, "soft-AP start");
        return e;
    }
    d->softap_up = true;
    if (open_service(d, NULL, now) != SC_OK)
        return SC_ERR_IO;
    d->state = SC_DEV_IDLE;
    set_state(d, SC_DEV_SOFTAP, now);
    DLOG(d, now, "soft-AP up on channel %u, waiting for cmdType 1", (unsigned)ch);
    return SC_OK;
}

void sc_device_stop(sc_device_t *dev, int32_t reason, uint32_t now)
{
    devstate_t *d = DEV(dev);
    if (!d || !d->inited)
        return;
    if (active(d->state))
        fail(d, now, SC_ERRID_BOARDING_STOP, reason, "stopped");
    flush_errors(d);
    close_flow(d);
}

/* ---- credentials and join ----------------------------------------------------------- */

static void start_join(devstate_t *d, uint32_t now, const uint8_t *ssid, size_t ssid_len, const uint8_t *pwd,
                       size_t pwd_len, const uint8_t *bssid)
{
    sc_err_t e = d->hal.station.join(d->hal.station.ctx, ssid, ssid_len, pwd, pwd_len, bssid);
    wipe_secrets(d); /* the HAL has its copy; ours is not needed any more */
    if (e != SC_OK) {
        fail(d, now, SC_ERRID_WIFI_CONFIG, e, "station join");
        return;
    }
    uint32_t end = now + d->cfg.join_timeout_ms;
    d->step_end = sc_ms_min(end, d->window_end);
    set_state(d, SC_DEV_JOINING, now);
}

/* reserved: ESP-TOUCH v2's custom data, handed to the application in the credentials event
 * (the caller's buffer, not kept). */
static sc_err_t accept_credentials(devstate_t *d, const sc_et_result_t *res, const uint8_t *reserved,
                                   uint8_t reserved_len, uint32_t now)
{
    if (sc_et_creds_check(&res->creds) != SC_OK) {
        record_error(d, now, SC_ERRID_SC_DATA, SC_SUBID_INVALID, "credentials");
        sc_receiver_reset(&d->rx);
        return SC_ERR_INVAL;
    }
    d->res = *res;
    radio_off(d);
    set_state(d, SC_DEV_CREDENTIALS, now);
    /* Neither the password's length nor T (which gives it away): the log is handed to anyone
     * on the log soft-AP. */
    DLOG(d, now, "credentials: ssid %u bytes, channel %u", (unsigned)res->creds.ssid_len, (unsigned)res->channel);
    sc_device_event_t ev;
    sc_dev_ev_init(&ev, SC_DEV_EV_CREDENTIALS);
    memcpy(ev.ssid, res->creds.ssid, res->creds.ssid_len);
    ev.ssid_len = res->creds.ssid_len;
    ev.channel = res->channel;
    memcpy(ev.peer.addr, res->creds.phone_ip, 4);
    ev.proto = (uint8_t)d->proto;
    ev.reserved = reserved_len ? reserved : NULL;
    ev.reserved_len = reserved_len;
    sc_dev_emit(d, &ev);
    /* An all-zero BSSID means "unknown": joining by SSID is then the only option. */
    static const uint8_t zero[SC_MAC_LEN];
    const uint8_t *bssid = memcmp(d->res.creds.bssid, zero, SC_MAC_LEN) ? d->res.creds.bssid : NULL;
    start_join(d, now, d->res.creds.ssid, d->res.creds.ssid_len, d->res.creds.password, d->res.creds.password_len,
               bssid);
    return SC_OK;
}

sc_err_t sc_device_inject_credentials(sc_device_t *dev, const sc_et_result_t *res, uint32_t now)
{
    devstate_t *d = DEV(dev);
    if (!d || !res || !d->inited)
        return SC_ERR_INVAL;
    if (d->state != SC_DEV_SNIFFING)
        return SC_ERR_STATE;
    d->proto = SC_PROTO_ESPTOUCH_V1;
    return accept_credentials(d, res, NULL, 0, now);
}

/* A v2 or AirKiss session as the join needs it (the v1 shape); 0 when it cannot be used. */
static int rx_to_v1(const sc_rx_result_t *r, sc_et_result_t *out)
{
    if (r->proto == SC_PROTO_ESPTOUCH_V1) {
        *out = r->v1;
        return 1;
    }
    memset(out, 0, sizeof *out);
    if (!r->password_known)
        return 0; /* encrypted v2 without our key: joining with a guess would only fail */
    memcpy(out->creds.ssid, r->ssid, r->ssid_len);
    out->creds.ssid_len = r->ssid_len;
    memcpy(out->creds.password, r->password, r->password_len);
    out->creds.password_len = r->password_len;
    if (r->has_bssid)
        memcpy(out->creds.bssid, r->bssid, SC_MAC_LEN);
    out->t = (uint8_t)(9u + r->ssid_len + r->password_len);
    out->channel = r->channel;
    out->offset = r->offset;
    memcpy(out->sender, r->sender, SC_MAC_LEN);
    return 1;
}

static void handle_rx_event(devstate_t *d, sc_et_event_type_t t, const sc_rx_event_t *ev, uint32_t now)
{
    sc_device_event_t de;
    memset(&de, 0, sizeof de);
    switch (t) {
    case SC_ET_EV_LOCKED:
        DLOG(d, now, "locked on channel %u, offset %u", (unsigned)ev->channel, (unsigned)ev->offset);
        de.type = SC_DEV_EV_LOCKED;
        de.channel = ev->channel;
        de.offset = ev->offset;
        de.proto = (uint8_t)ev->proto;
        sc_dev_emit(d, &de);
        break;
    case SC_ET_EV_PROGRESS:
        de.type = SC_DEV_EV_PROGRESS;
        de.known = ev->known;
        de.needed = ev->needed;
        sc_dev_emit(d, &de);
        break;
    case SC_ET_EV_UNLOCKED:
        DLOG(d, now, "lock dropped, searching again");
        break;
    case SC_ET_EV_DONE: {
        sc_et_result_t v1;
        DLOG(d, now, "session complete: %s", sc_proto_name(ev->result.proto));
        if (!rx_to_v1(&ev->result, &v1)) {
            /* without a key, or with one that does not decrypt it (the phone used another) */
            record_error(d, now, SC_ERRID_SC_DATA, SC_SUBID_INVALID,
                         "encrypted ESP-TOUCH v2 session: no device key, or not this one");
            (void)sc_receiver_resume(&d->rx);
            break;
        }
        d->proto = ev->result.proto;
        d->ack_token = ev->result.ack_token;
        (void)accept_credentials(d, &v1, ev->result.reserved,
                                 ev->result.proto == SC_PROTO_ESPTOUCH_V2 ? ev->result.reserved_len : 0, now);
        sc_wipe(v1.creds.password, sizeof v1.creds.password);
        break;
    }
    default:
        break;
    }
}

void sc_device_on_frame(sc_device_t *dev, const sc_frame_t *f, uint32_t now)
{
    devstate_t *d = DEV(dev);
    if (!d || !f || !d->inited || d->state != SC_DEV_SNIFFING)
        return;
    sc_rx_event_t ev;
    sc_et_event_type_t t = sc_receiver_feed(&d->rx, f, now, &ev);
    if (t != SC_ET_EV_NONE)
        handle_rx_event(d, t, &ev, now);
}

/* ---- after the join ------------------------------------------------------------------ */

static void start_binding(devstate_t *d, uint32_t now)
{
    if (d->cfg.skip_cloud) {
        set_state(d, SC_DEV_DONE, now);
        return;
    }
    sc_err_t e = sc_binder_start(&d->binder, &d->hal, &d->cfg.cloud, &d->cfg.identity, d->token, now);
    if (e != SC_OK) {
        fail(d, now, SC_ERRID_MQTT_CONNECT, e, "cloud bind start");
        return;
    }
    d->binding = true;
    set_state(d, SC_DEV_BINDING, now);
}

/* The join's address, or a later one (refresh_ip) */
static void emit_ip(devstate_t *d, uint32_t now)
{
    DLOG(d, now, "got IP %u.%u.%u.%u", d->ip[0], d->ip[1], d->ip[2], d->ip[3]);
    sc_device_event_t ev;
    sc_dev_ev_init(&ev, SC_DEV_EV_IP);
    memcpy(ev.ip, d->ip, 4);
    sc_dev_emit(d, &ev);
}

static void got_ip(devstate_t *d, uint32_t now)
{
    if (d->hal.station.get_ip && d->hal.station.get_ip(d->hal.station.ctx, d->ip) != SC_OK)
        memset(d->ip, 0, 4);
    if (!d->hal.station.get_mac || d->hal.station.get_mac(d->hal.station.ctx, d->mac) != SC_OK)
        memset(d->mac, 0, sizeof d->mac);
    d->joined = true;
    d->after_join_end = now + d->cfg.after_join_ms;
    emit_ip(d, now);
    if (d->flow == SC_DEV_FLOW_SOFTAP) {
        start_binding(d, now); /* the token came over the soft-AP already */
        return;
    }
    if (sc_dev_ack_open(d, now) != SC_OK) {
        /* The app can still find us by scanning; the token service is what matters. */
        DLOG(d, now, "ack socket failed, no acks");
    }
    if (open_service(d, d->ip, now) != SC_OK)
        return;
    set_state(d, SC_DEV_ACKING, now);
}

/* After the join the station's address can change under the device (a DHCP lease lost and
 * another address given, docs/port-lwip.md): get_ip is read again on every step until the flow
 * ends, so the acks still to go carry the address the phone can reach, and SC_DEV_EV_IP comes
 * again with it. An error or 0.0.0.0 (no lease at the moment) keeps the last address. */
static void refresh_ip(devstate_t *d, uint32_t now)
{
    static const uint8_t any[4];
    uint8_t ip[4];
    if (!d->joined || !active(d->state) || !d->hal.station.get_ip ||
        d->hal.station.get_ip(d->hal.station.ctx, ip) != SC_OK || !memcmp(ip, any, 4) || !memcmp(ip, d->ip, 4))
        return;
    memcpy(d->ip, ip, 4);
    emit_ip(d, now);
}

static void step_join(devstate_t *d, uint32_t now)
{
    sc_sta_reason_t reason = SC_STA_REASON_NONE;
    sc_sta_status_t st = d->hal.station.status(d->hal.station.ctx, &reason);
    if (st == SC_STA_GOT_IP) {
        got_ip(d, now);
    } else if (st == SC_STA_FAILED) {
        fail(d, now, SC_ERRID_WIFI_CONNECT, SC_SUBID_JOIN_BASE + (int32_t)reason, "join failed");
    } else if (due(now, d->step_end)) {
        if (d->hal.station.leave)
            (void)d->hal.station.leave(d->hal.station.ctx);
        fail(d, now, due(now, d->window_end) ? SC_ERRID_BOARDING_STOP : SC_ERRID_WIFI_CONNECT, SC_SUBID_TIMEOUT,
             "join timeout");
    }
}

/* ---- the UDP 8266 service --------------------------------------------------------------- */

/* Several candidates only where the cloud can judge them: the SmartConfig flow with a cloud.
 * Without a cloud (skip_cloud) nothing could tell the tokens apart, and the soft-AP flow's
 * request also carries the credentials: there the first valid request is kept (sub 207 for
 * others), as before. */
static bool multi_candidates(const devstate_t *d)
{
    return d->flow == SC_DEV_FLOW_SMARTCONFIG && !d->cfg.skip_cloud;
}

static sc_dev_cand_t *cand_find(devstate_t *d, const char *token)
{
    for (size_t i = 0; i < SC_DEV_CANDIDATES; i++)
        if (d->cand[i].st != SC_CAND_FREE && strcmp(d->cand[i].token, token) == 0)
            return &d->cand[i];
    return NULL;
}

/* A slot for a new token from `from`: that address's own pending slot (a host replaces only
 * its own), else a free one, else a refused one. NULL when all are taken by other addresses'
 * live candidates. */
static sc_dev_cand_t *cand_slot(devstate_t *d, const sc_ipv4_ep_t *from)
{
    sc_dev_cand_t *free_c = NULL, *refused = NULL;
    for (size_t i = 0; i < SC_DEV_CANDIDATES; i++) {
        sc_dev_cand_t *c = &d->cand[i];
        if (c->st == SC_CAND_PENDING && memcmp(c->from.addr, from->addr, 4) == 0)
            return c;
        if (c->st == SC_CAND_FREE && !free_c)
            free_c = c;
        if (c->st == SC_CAND_REFUSED && !refused)
            refused = c;
    }
    return free_c ? free_c : refused;
}

static sc_dev_cand_t *cand_next(devstate_t *d)
{
    sc_dev_cand_t *best = NULL;
    for (size_t i = 0; i < SC_DEV_CANDIDATES; i++) {
        sc_dev_cand_t *c = &d->cand[i];
        if (c->st == SC_CAND_PENDING && (!best || (int32_t)(c->seq - best->seq) < 0))
            best = c;
    }
    return best;
}

static size_t cand_count(const devstate_t *d, sc_dev_cand_state_t st)
{
    size_t n = 0;
    for (size_t i = 0; i < SC_DEV_CANDIDATES; i++)
        n += d->cand[i].st == st;
    return n;
}

/* Binds with the oldest pending candidate; its sender becomes the app. */
static void try_next_candidate(devstate_t *d, uint32_t now)
{
    sc_dev_cand_t *c = cand_next(d);
    if (!c)
        return;
    c->st = SC_CAND_TRYING;
    memcpy(d->token, c->token, sizeof d->token);
    d->have_token = true;
    sc_tc8266_svc_set_app(&d->svc, &c->from);
    DLOG(d, now, "trying token from %u.%u.%u.%u:%u (%u more waiting)", c->from.addr[0], c->from.addr[1],
         c->from.addr[2], c->from.addr[3], (unsigned)c->from.port, (unsigned)cand_count(d, SC_CAND_PENDING));
    start_binding(d, now);
}

/* The cloud refused the token being tried: remember why, try the next one, or wait for one
 * (the app resends every 2 s) until the token wait runs out. */
static void candidate_refused(devstate_t *d, uint32_t now, uint16_t err_id, int32_t sub_id)
{
    for (size_t i = 0; i < SC_DEV_CANDIDATES; i++)
        if (d->cand[i].st == SC_CAND_TRYING)
            d->cand[i].st = SC_CAND_REFUSED;
    sc_binder_abort(&d->binder);
    d->binding = false;
    d->have_refusal = true;
    d->refused_err = err_id;
    d->refused_sub = sub_id;
    sc_wipe(d->token, sizeof d->token);
    d->have_token = false;
    DLOG(d, now, "cloud refused a token (%u, %ld)", (unsigned)err_id, (long)sub_id);
    if (cand_next(d)) {
        try_next_candidate(d, now);
        return;
    }
    set_state(d, SC_DEV_WAIT_TOKEN, now);
    d->step_end = now + d->cfg.token_wait_ms;
}

/* A request after a failure is answered with the failure, never with the identity: the app
 * must not go on polling the cloud. True when the device has failed (the request ends here).
 * Inline in a size build too (SC_INLINE): each caller then branches on the state itself. */
static SC_INLINE bool failed_reply(devstate_t *d, const sc_ipv4_ep_t *from, uint32_t now)
{
    if (d->state != SC_DEV_FAILED)
        return false;
    if (d->have_last_err)
        sc_tc8266_svc_reject(&d->svc, from, d->last_err, d->last_sub, now, "request after failure");
    return true;
}

/* A new token came in (or replaced its sender's pending one): the log line and the event. */
static void token_arrived(devstate_t *d, uint32_t now, const sc_ipv4_ep_t *from, const char *token, bool replaced)
{
    DLOG(d, now, "token %s (%u chars) from %u.%u.%u.%u:%u", replaced ? "replaced" : "received",
         (unsigned)strlen(token), from->addr[0], from->addr[1], from->addr[2], from->addr[3], (unsigned)from->port);
    sc_device_event_t ev;
    sc_dev_ev_init(&ev, SC_DEV_EV_TOKEN);
    ev.peer = *from;
    sc_dev_emit(d, &ev);
}

/* The multi-candidate flow's request handling: SC_OK to answer with the identity. */
static bool candidate_request(devstate_t *d, const sc_ipv4_ep_t *from, const sc_tc8266_req_t *req, uint32_t now)
{
    sc_dev_cand_t *c = cand_find(d, req->token);
    if (c && c->st == SC_CAND_REFUSED) {
        sc_tc8266_svc_reject(&d->svc, from, d->refused_err, d->refused_sub, now, "token the cloud refused");
        return false;
    }
    if (!c) {
        if (failed_reply(d, from, now))
            return false;
        c = cand_slot(d, from);
        if (!c) {
            sc_tc8266_svc_reject(&d->svc, from, SC_ERRID_APP_CMD, SC_SUBID_TOKEN_CHANGED, now, "no room for another token");
            return false;
        }
        bool replaced = c->st == SC_CAND_PENDING;
        /* A replaced token keeps its slot's identity clock: a host sending a new token in
         * every datagram gets no more identity replies than one resending the same one. */
        uint32_t id_at = replaced ? c->id_at : now - SC_DEV_ID_MIN_MS;
        memset(c, 0, sizeof *c);
        memcpy(c->token, req->token, sizeof c->token);
        c->st = SC_CAND_PENDING;
        c->seq = d->cand_seq++;
        c->from = *from;
        c->id_at = id_at;
        token_arrived(d, now, from, c->token, replaced);
    }
    c->from = *from;
    if (c->st == SC_CAND_TRYING || !d->svc.app_known)
        sc_tc8266_svc_set_app(&d->svc, from);
    flush_errors(d);
    if (failed_reply(d, from, now))
        return false;
    d->last_token_req = now;
    if (!d->binding && (d->state == SC_DEV_ACKING || d->state == SC_DEV_WAIT_TOKEN))
        try_next_candidate(d, now);
    /* Identity replies are bounded per candidate, not by the junk budget: the app's must get
     * through a flood, and a sprayer gets one a second for its one slot. */
    if (!sc_ms_reached(now, c->id_at + SC_DEV_ID_MIN_MS))
        return false;
    c->id_at = now;
    return true;
}

static void handle_token_request(devstate_t *d, const sc_ipv4_ep_t *from, sc_tc8266_req_t *req, uint32_t now)
{
    bool want_softap = d->flow == SC_DEV_FLOW_SOFTAP;
    if ((req->cmd_type == SC_TC8266_CMD_SOFTAP) != want_softap) {
        sc_tc8266_svc_reject(&d->svc, from, SC_ERRID_APP_CMD, SC_SUBID_AP_INFO, now, "request for the other flow");
        return;
    }
    if (req->has_region && strcmp(req->region, d->cfg.identity.region) != 0) {
        sc_tc8266_svc_reject(&d->svc, from, SC_ERRID_REGION, SC_SUBID_INVALID, now, "region mismatch");
        return;
    }
    if (multi_candidates(d)) {
        if (candidate_request(d, from, req, now))
            sc_tc8266_svc_identify(&d->svc, from, &d->cfg.identity, now);
        return;
    }
    if (d->have_token && strcmp(req->token, d->token) != 0) {
        sc_tc8266_svc_reject(&d->svc, from, SC_ERRID_APP_CMD, SC_SUBID_TOKEN_CHANGED, now, "token changed");
        return;
    }
    /* A valid request: its sender is the app from now on (errors go there first). */
    sc_tc8266_svc_set_app(&d->svc, from);
    flush_errors(d);
    if (failed_reply(d, from, now))
        return;
    d->last_token_req = now;
    sc_tc8266_svc_identify(&d->svc, from, &d->cfg.identity, now);
    if (d->have_token)
        return; /* a resend: answered again, nothing else changes */
    memcpy(d->token, req->token, sizeof d->token);
    d->have_token = true;
    token_arrived(d, now, from, d->token, false);
    if (want_softap) {
        memcpy(d->sap_ssid, req->ssid, req->ssid_len);
        d->sap_ssid_len = req->ssid_len;
        memcpy(d->sap_pwd, req->password, req->password_len);
        d->sap_pwd_len = req->password_len;
        d->softap_join_at = now + 2000; /* after the identity repeats went out over the AP */
        return;
    }
    if (!d->cfg.skip_cloud)
        start_binding(d, now);
    /* skip_cloud: DONE once the app stopped resending (step), so every resend is answered. */
}

/* Drains at most SC_DEV_DRAIN_MAX datagrams of one service; true when more may be queued. */
static bool drain(devstate_t *d, sc_tc8266_svc_t *svc, uint32_t now)
{
    for (int i = 0; i < SC_DEV_DRAIN_MAX; i++) {
        sc_ipv4_ep_t from;
        sc_tc8266_req_t req;
        sc_err_t e = sc_tc8266_svc_recv(svc, now, &from, &req);
        if (e == SC_ERR_AGAIN)
            return false;
        if (e == SC_OK) {
            handle_token_request(d, &from, &req, now);
            sc_wipe(&req, sizeof req);
        }
    }
    return true;
}

/* ---- step ------------------------------------------------------------------------------ */

uint32_t sc_device_step(sc_device_t *dev, uint32_t now)
{
    devstate_t *d = DEV(dev);
    if (!d || !d->inited)
        return now + 1000;
    uint32_t next = now + 1000;
    bool more = false;
    if (d->store_boot_err != SC_OK) {
        sc_device_event_t ev;
        sc_dev_ev_init(&ev, SC_DEV_EV_STORAGE);
        ev.sub_id = d->store_boot_err;
        ev.text = "storage not writable at start: the previous record may be missing";
        d->store_boot_err = SC_OK;
        sc_dev_emit(d, &ev);
    }

    refresh_ip(d, now);
    if (d->svc.open)
        more |= drain(d, &d->svc, now);
    if (d->logsvc.open) {
        more |= drain(d, &d->logsvc, now);
        next = sc_tc8266_svc_step(&d->logsvc, now, &d->cfg.identity, next);
    }
    next = sc_tc8266_svc_step(&d->svc, now, &d->cfg.identity, next);
    if (d->ack_open) {
        sc_dev_ack_step(d, now);
        if (d->ack_open)
            earliest(&next, now, d->ack_next);
    }

    switch (d->state) {
    case SC_DEV_SNIFFING: {
        sc_rx_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = sc_receiver_tick(&d->rx, now);
        if (ev.type != SC_ET_EV_NONE)
            handle_rx_event(d, ev.type, &ev, now);
        if (d->state != SC_DEV_SNIFFING)
            break;
        if (due(now, d->window_end)) {
            fail(d, now, SC_ERRID_BOARDING_STOP, SC_SUBID_TIMEOUT, "no credentials in the window");
            break;
        }
        uint32_t until = now + 100;
        /* the search reads all three decoders: a v2 or AirKiss lock holds the channel like a
         * supported v1 lock, and their senders get the longer looks v1's do */
        uint8_t ch = sc_chansearch_step_rx(&d->cs, &d->rx, now, &until);
        if (ch && ch != d->channel) {
            if (d->hal.radio.set_channel)
                (void)d->hal.radio.set_channel(d->hal.radio.ctx, ch);
            d->channel = ch;
        }
        earliest(&next, now, until);
        earliest(&next, now, d->window_end);
        break;
    }
    case SC_DEV_JOINING:
        step_join(d, now);
        if (d->state == SC_DEV_JOINING)
            earliest(&next, now, now + SC_DEV_POLL_MS);
        break;
    case SC_DEV_ACKING:
    case SC_DEV_WAIT_TOKEN:
        if (d->state == SC_DEV_ACKING && !d->ack_open) {
            set_state(d, SC_DEV_WAIT_TOKEN, now);
            d->step_end = now + d->cfg.token_wait_ms;
        }
        /* Without a cloud the token is the flow's end: done once the app stopped resending it
         * (linger_ms), or at the window's end. The after-join budget is the time to reach the
         * cloud's bind: it failed an app still resending 50 s after the join as "no token". */
        if (d->have_token && d->cfg.skip_cloud) {
            if (due(now, d->last_token_req + d->cfg.linger_ms) || due(now, d->window_end)) {
                set_state(d, SC_DEV_DONE, now);
                break;
            }
            earliest(&next, now, d->last_token_req + d->cfg.linger_ms);
            earliest(&next, now, d->window_end);
            break;
        }
        if (due(now, d->after_join_end) || due(now, d->window_end) ||
            (d->state == SC_DEV_WAIT_TOKEN && !d->have_token && due(now, d->step_end))) {
            if (d->have_refusal) /* what the app needs to hear: the cloud's answer */
                fail(d, now, d->refused_err, d->refused_sub, "every token was refused by the cloud");
            else
                fail(d, now, SC_ERRID_BOARDING_STOP, SC_SUBID_TIMEOUT, "no token from the app");
            break;
        }
        if (d->state == SC_DEV_WAIT_TOKEN && !d->have_token)
            earliest(&next, now, d->step_end);
        earliest(&next, now, d->after_join_end);
        break;
    case SC_DEV_BINDING: {
        uint16_t err_id = 0;
        int32_t sub_id = 0;
        sc_binder_status_t bs = sc_binder_step(&d->binder, now, &err_id, &sub_id);
        if (bs == SC_BINDER_DONE) {
            d->binding = false;
            DLOG(d, now, "bound");
            emit_simple(d, SC_DEV_EV_BOUND);
            set_state(d, SC_DEV_DONE, now);
        } else if (bs == SC_BINDER_FAILED && err_id == SC_ERRID_TOKEN_REPLY && multi_candidates(d)) {
            candidate_refused(d, now, err_id, sub_id); /* never "done" for a refused token */
            if (d->state == SC_DEV_WAIT_TOKEN)
                earliest(&next, now, d->step_end);
            else
                earliest(&next, now, now);
        } else if (bs == SC_BINDER_FAILED) {
            d->binding = false;
            fail(d, now, err_id, sub_id, "cloud bind");
        } else if (due(now, d->after_join_end) || due(now, d->window_end)) {
            fail(d, now, SC_ERRID_BOARDING_STOP, SC_SUBID_TIMEOUT, "bind timeout");
        } else {
            earliest(&next, now, now + SC_DEV_POLL_MS);
            earliest(&next, now, d->after_join_end);
        }
        break;
    }
    case SC_DEV_SOFTAP:
        if (d->softap_join_at && due(now, d->softap_join_at)) {
            d->softap_join_at = 0;
            sc_tc8266_svc_close(&d->svc);
            if (d->softap_up && d->hal.softap.stop)
                (void)d->hal.softap.stop(d->hal.softap.ctx);
            d->softap_up = false;
            start_join(d, now, d->sap_ssid, d->sap_ssid_len, d->sap_pwd, d->sap_pwd_len, NULL);
            if (d->state == SC_DEV_JOINING)
                earliest(&next, now, now + SC_DEV_POLL_MS);
            break;
        }
        if (due(now, d->window_end)) {
            fail(d, now, SC_ERRID_BOARDING_STOP, SC_SUBID_TIMEOUT, "no request over the soft-AP");
            break;
        }
        if (d->softap_join_at)
            earliest(&next, now, d->softap_join_at);
        earliest(&next, now, d->window_end);
        break;
    case SC_DEV_DONE:
    case SC_DEV_FAILED:
        /* The service outlives the flow until the window closes: the app's resends are still
         * answered and errors still delivered. */
        if (d->svc.open && due(now, d->window_end))
            sc_tc8266_svc_close(&d->svc);
        else if (d->svc.open)
            earliest(&next, now, d->window_end);
        break;
    default:
        break;
    }

    if (d->svc.open && d->svc.app_known) {
        if (due(now, d->idle_tick_at)) {
            flush_errors(d);
            d->idle_tick_at = now + SC_DEV_IDLE_TICK_MS;
        }
        earliest(&next, now, d->idle_tick_at);
    }
    if (d->svc.open || d->logsvc.open)
        earliest(&next, now, now + SC_DEV_POLL_MS);
    if (more)
        next = now;
    return next;
}

/* ---- queries ---------------------------------------------------------------------------- */

sc_device_state_t sc_device_state(const sc_device_t *dev)
{
    const devstate_t *d = CDEV(dev);
    return d && d->inited ? d->state : SC_DEV_IDLE;
}
uint8_t sc_device_channel(const sc_device_t *dev)
{
    const devstate_t *d = CDEV(dev);
    return d && d->inited && d->state == SC_DEV_SNIFFING ? d->channel : 0;
}

bool sc_device_last_error(const sc_device_t *dev, uint16_t *err_id, int32_t *sub_id)
{
    const devstate_t *d = CDEV(dev);
    if (!d || !d->have_last_err)
        return false;
    if (err_id)
        *err_id = d->last_err;
    if (sub_id)
        *sub_id = d->last_sub;
    return true;
}

size_t sc_device_log(const sc_device_t *dev, char *out, size_t cap)
{
    const devstate_t *d = CDEV(dev);
    return d ? sc_diag_log_concat(&d->log, out, cap) : 0;
}

void sc_device_stats(const sc_device_t *dev, sc_device_stats_t *out)
{
    const devstate_t *d = CDEV(dev);
    memset(out, 0, sizeof *out);
    if (!d)
        return;
    *out = d->stats; /* the device's own counters (acks) ... */
    /* ... and both services': each service counter added to the device counter of the same
     * name, by a table of their offsets (one loop instead of eight additions per service). */
#define SUM(f) { offsetof(sc_tc8266_stats_t, f), offsetof(sc_device_stats_t, f) }
    static const uint8_t sums[][2] = { SUM(dgrams), SUM(bad_dgrams), SUM(err_replies), SUM(rate_limited),
                                       SUM(identity_replies), SUM(log_replies), SUM(bytes_in), SUM(bytes_out) };
#undef SUM
    /* the table's premises: every counter summed is a uint32_t on both sides (whole structs of
     * them), and every offset fits its byte */
    _Static_assert(sizeof(sc_tc8266_stats_t) == 8 * sizeof(uint32_t) &&
                       sizeof(sc_device_stats_t) == 10 * sizeof(uint32_t) && sizeof(sc_device_stats_t) <= 256,
                   "the stats are uint32_t counters, summed by their offsets");
    const sc_tc8266_stats_t *svcs[] = { &d->svc.stats, &d->logsvc.stats };
    for (size_t i = 0; i < 2; i++)
        for (size_t k = 0; k < sizeof sums / sizeof sums[0]; k++)
            *(uint32_t *)(void *)((char *)out + sums[k][1]) +=
                *(const uint32_t *)(const void *)((const char *)svcs[i] + sums[k][0]);
}
