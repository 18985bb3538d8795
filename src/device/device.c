/* SPDX-License-Identifier: Apache-2.0 */
/* The provisioning state machine (docs/device.md):
 *   idle -> sniffing -> credentials -> joining -> acking -> wait_token -> binding -> done
 *   (soft-AP flow: softap -> joining -> binding -> done); any step -> failed.
 * Sans-I/O over the HAL: sc_device_on_frame() feeds the receiver, sc_device_step(now) does
 * all due work (bounded) and returns when it wants to run again. Every failure becomes an
 * error record (diag.h) that reaches the app as Current_Error, or as Previous_Error on the
 * next attempt if it could not be delivered. No secret is ever formatted into a log line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "device_priv.h"

static const char *const state_names[] = {
    "idle", "sniffing", "credentials", "joining", "acking", "wait_token", "binding", "done", "failed", "softap",
};

const char *sc_device_state_name(sc_device_state_t s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "unknown";
}

static bool due(uint32_t now, uint32_t t) { return (int32_t)(now - t) >= 0; }

static void earliest(uint32_t *next, uint32_t now, uint32_t t)
{
    if ((int32_t)(t - now) < 0)
        t = now;
    if ((int32_t)(t - *next) < 0)
        *next = t;
}

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
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

static void emit(devstate_t *d, sc_device_event_t *ev)
{
    ev->state = d->state;
    if (d->cfg.on_event)
        d->cfg.on_event(d->cfg.user, ev);
}

static void emit_simple(devstate_t *d, sc_device_event_type_t t)
{
    sc_device_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    emit(d, &ev);
}

/* Persisted ring entry + HAL log line. The step name is part of every entry so a pulled log
 * tells where the flow stopped. Callers format steps, codes and lengths only. */
static void dlog(devstate_t *d, uint32_t now, const char *func, int line, const char *fmt, ...)
{
    char msg[SC_DIAG_LOG_ENTRY_MAX];
    int n = snprintf(msg, sizeof msg, "[%s] ", sc_device_state_name(d->state));
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof msg)
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    const char *e = sc_diag_log_add(&d->log, now, func, line, msg);
    (void)sc_diag_log_persist(&d->log, &d->hal.storage, d->scratch);
    if (d->hal.sys.log) {
        char line[SC_DIAG_LOG_ENTRY_MAX + 1];
        size_t n = strlen(e);
        n = n >= 2 ? n - 2 : 0; /* the HAL gets a line, not the ring's "\r\n" framing */
        memcpy(line, e, n);
        line[n] = '\0';
        d->hal.sys.log(d->hal.sys.ctx, SC_LOG_INFO, line);
    }
}
#define DLOG(d, now, ...) dlog((d), (now), __func__, __LINE__, __VA_ARGS__)

/* HAL-only line (not the persisted ring): for per-datagram noise that must not flush the ring. */
static void hlog(devstate_t *d, sc_log_level_t lvl, const char *fmt, ...)
{
    if (!d->hal.sys.log)
        return;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->hal.sys.log(d->hal.sys.ctx, lvl, msg);
}

static void set_state(devstate_t *d, sc_device_state_t s, uint32_t now)
{
    if (d->state == s)
        return;
    DLOG(d, now, "enter %s", sc_device_state_name(s));
    d->state = s;
    emit_simple(d, SC_DEV_EV_STATE);
}

/* ---- UDP helpers -------------------------------------------------------------------- */

static sc_err_t udp_send(devstate_t *d, int h, const sc_ipv4_ep_t *to, const void *buf, size_t len)
{
    if (!d->hal.udp.send_to)
        return SC_ERR_UNSUPPORTED;
    return d->hal.udp.send_to(d->hal.udp.ctx, h, to, buf, len);
}

static void udp_close(devstate_t *d, int *h, bool *open)
{
    if (*open && d->hal.udp.close)
        d->hal.udp.close(d->hal.udp.ctx, *h);
    *open = false;
    *h = -1;
}

static bool ep_eq(const sc_ipv4_ep_t *a, const sc_ipv4_ep_t *b)
{
    return a->port == b->port && memcmp(a->addr, b->addr, 4) == 0;
}

/* Sends every queued record to the app, oldest first; a record leaves the queue (and the
 * flash) only once it was handed to the network. */
static void flush_errors(devstate_t *d)
{
    if (!d->app_known || !d->srv_open || !d->errs.n)
        return;
    bool changed = false;
    while (d->errs.n) {
        const sc_diag_err_t *r = &d->errs.rec[0];
        size_t len = 0;
        if (sc_bind_build_error(d->txbuf, sizeof d->txbuf, r->previous, r->err_id, r->sub_id, &len) != SC_OK)
            break;
        if (udp_send(d, d->srv_h, &d->app, d->txbuf, len) != SC_OK)
            break;
        sc_diag_errors_pop(&d->errs);
        changed = true;
    }
    if (changed)
        (void)sc_diag_errors_persist(&d->errs, &d->hal.storage, d->scratch);
}

static void record_error(devstate_t *d, uint32_t now, uint16_t err_id, int32_t sub_id, const char *why)
{
    d->have_last_err = true;
    d->last_err = err_id;
    d->last_sub = sub_id;
    sc_diag_errors_add(&d->errs, err_id, sub_id);
    (void)sc_diag_errors_persist(&d->errs, &d->hal.storage, d->scratch);
    DLOG(d, now, "%s: %s (%u, %ld)", why, sc_bind_err_text(err_id), (unsigned)err_id, (long)sub_id);
    sc_device_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SC_DEV_EV_ERROR;
    ev.err_id = err_id;
    ev.sub_id = sub_id;
    ev.text = sc_bind_err_text(err_id);
    emit(d, &ev);
    flush_errors(d);
}

static void radio_off(devstate_t *d)
{
    if (d->channel && d->hal.radio.set_promiscuous)
        (void)d->hal.radio.set_promiscuous(d->hal.radio.ctx, false);
    d->channel = 0;
}

static void wipe_secrets(devstate_t *d)
{
    wipe(d->res.creds.password, sizeof d->res.creds.password);
    d->res.creds.password_len = 0;
    wipe(d->sap_pwd, sizeof d->sap_pwd);
    d->sap_pwd_len = 0;
}

/* Ends the attempt: everything but the 8266 service (it stays to deliver the errors and to
 * answer the app's resends until the window closes) and the log service. */
static void fail(devstate_t *d, uint32_t now, uint16_t err_id, int32_t sub_id, const char *why)
{
    radio_off(d);
    if (d->binding) {
        sc_cloud_bind_abort(&d->bind);
        d->binding = false;
    }
    if (d->softap_up && d->hal.softap.stop) {
        (void)d->hal.softap.stop(d->hal.softap.ctx);
        d->softap_up = false;
    }
    d->softap_join_at = 0;
    wipe_secrets(d);
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

sc_err_t sc_device_init(sc_device_t *dev, const sc_hal_t *hal, const sc_device_config_t *cfg)
{
    devstate_t *d = DEV(dev);
    if (!d || !hal || !cfg)
        return SC_ERR_INVAL;
    memset(d, 0, sizeof *d);
    d->hal = *hal;
    apply_config(d, cfg);
    d->srv_h = d->ack_h = d->log_h = -1;
    sc_diag_errors_init(&d->errs);
    sc_diag_log_init(&d->log);
    if (d->hal.storage.get) {
        (void)sc_diag_log_load(&d->log, &d->hal.storage, d->scratch);
        (void)sc_diag_errors_load(&d->errs, &d->hal.storage, d->scratch);
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
    radio_off(d);
    if (d->binding) {
        sc_cloud_bind_abort(&d->bind);
        d->binding = false;
    }
    if (d->softap_up && d->hal.softap.stop)
        (void)d->hal.softap.stop(d->hal.softap.ctx);
    d->softap_up = false;
    udp_close(d, &d->srv_h, &d->srv_open);
    udp_close(d, &d->ack_h, &d->ack_open);
    d->ack_left = 0;
    d->id_repeats = 0;
    d->softap_join_at = 0;
    wipe_secrets(d);
    wipe(d->token, sizeof d->token);
    d->have_token = false;
}

/* Common per-attempt reset; earlier unsent errors become "previous". */
static sc_err_t begin(devstate_t *d, sc_device_flow_t flow, uint32_t now)
{
    if (!d || !d->inited)
        return SC_ERR_INVAL;
    if (active(d->state))
        return SC_ERR_BUSY;
    close_flow(d);
    if (!d->cfg.identity.product_id[0] || !d->cfg.identity.device_name[0])
        return SC_ERR_INVAL;
    if (!d->hal.station.join || !d->hal.station.status || !d->hal.udp.open || !d->hal.udp.recv_from)
        return SC_ERR_UNSUPPORTED;
    for (uint8_t i = 0; i < d->errs.n; i++)
        d->errs.rec[i].previous = 1;
    d->flow = flow;
    d->window_end = now + d->cfg.window_ms;
    d->joined = false;
    d->app_known = false;
    d->have_last_err = false;
    memset(d->peers, 0, sizeof d->peers);
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
    (void)sc_et_rx_init(&d->rx, NULL); /* a firmware-decoding port may run without our receiver */
    (void)sc_chansearch_init(&d->cs, d->cfg.nchannels ? d->channels : NULL, d->cfg.nchannels, 0);
    if (d->hal.radio.scan) {
        sc_scan_entry_t list[SC_ET_RX_MAX_SCAN];
        size_t n = 0;
        if (d->hal.radio.scan(d->hal.radio.ctx, list, SC_ET_RX_MAX_SCAN, &n) == SC_OK && n)
            (void)sc_et_rx_set_scan(&d->rx, list, n > SC_ET_RX_MAX_SCAN ? SC_ET_RX_MAX_SCAN : n);
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
    sc_err_t e = d->hal.udp.open(d->hal.udp.ctx, ip, SC_BIND_PORT, false, &d->srv_h);
    if (e != SC_OK) {
        fail(d, now, SC_ERRID_SRV_OPEN, e, "8266 service");
        return e;
    }
    d->srv_open = true;
    return SC_OK;
}

sc_err_t sc_device_start_softap(sc_device_t *dev, const char *ssid, const char *psw, uint8_t ch, uint32_t now)
{
    devstate_t *d = DEV(dev);
    if (!ssid || !*ssid || strlen(ssid) > 32 || (psw && strlen(psw) > 64))
        return SC_ERR_INVAL;
    sc_err_t e = begin(d, SC_DEV_FLOW_SOFTAP, now);
    if (e != SC_OK)
        return e;
    if (!d->hal.softap.start)
        return SC_ERR_UNSUPPORTED;
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
    d->step_end = (int32_t)(end - d->window_end) > 0 ? d->window_end : end;
    set_state(d, SC_DEV_JOINING, now);
}

static sc_err_t accept_credentials(devstate_t *d, const sc_et_result_t *res, uint32_t now)
{
    if (sc_et_creds_check(&res->creds) != SC_OK) {
        record_error(d, now, SC_ERRID_SC_DATA, SC_SUBID_INVALID, "credentials");
        sc_et_rx_reset(&d->rx);
        return SC_ERR_INVAL;
    }
    d->res = *res;
    radio_off(d);
    set_state(d, SC_DEV_CREDENTIALS, now);
    DLOG(d, now, "credentials: ssid %u bytes, password %u bytes, T %u, channel %u", (unsigned)res->creds.ssid_len,
         (unsigned)res->creds.password_len, (unsigned)res->t, (unsigned)res->channel);
    sc_device_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SC_DEV_EV_CREDENTIALS;
    memcpy(ev.ssid, res->creds.ssid, res->creds.ssid_len);
    ev.ssid_len = res->creds.ssid_len;
    ev.channel = res->channel;
    memcpy(ev.peer.addr, res->creds.phone_ip, 4);
    emit(d, &ev);
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
    return accept_credentials(d, res, now);
}

static void handle_rx_event(devstate_t *d, sc_et_event_type_t t, const sc_et_event_t *ev, uint32_t now)
{
    sc_device_event_t de;
    memset(&de, 0, sizeof de);
    switch (t) {
    case SC_ET_EV_LOCKED:
        DLOG(d, now, "locked on channel %u, offset %u", (unsigned)ev->channel, (unsigned)ev->offset);
        de.type = SC_DEV_EV_LOCKED;
        de.channel = ev->channel;
        de.offset = ev->offset;
        emit(d, &de);
        break;
    case SC_ET_EV_PROGRESS:
        de.type = SC_DEV_EV_PROGRESS;
        de.known = ev->known;
        de.needed = ev->needed;
        emit(d, &de);
        break;
    case SC_ET_EV_UNLOCKED:
        DLOG(d, now, "lock dropped, searching again");
        break;
    case SC_ET_EV_DONE:
        (void)accept_credentials(d, &ev->result, now);
        break;
    default:
        break;
    }
}

void sc_device_on_frame(sc_device_t *dev, const sc_frame_t *f, uint32_t now)
{
    devstate_t *d = DEV(dev);
    if (!d || !f || !d->inited || d->state != SC_DEV_SNIFFING)
        return;
    sc_et_event_t ev;
    sc_et_event_type_t t = sc_et_rx_feed(&d->rx, f, now, &ev);
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
    sc_err_t e = sc_cloud_bind_start(&d->bind, &d->hal, &d->cfg.cloud, &d->cfg.identity, d->token, now);
    if (e != SC_OK) {
        fail(d, now, SC_ERRID_MQTT_CONNECT, e, "cloud bind start");
        return;
    }
    d->binding = true;
    set_state(d, SC_DEV_BINDING, now);
}

static void got_ip(devstate_t *d, uint32_t now)
{
    if (d->hal.station.get_ip && d->hal.station.get_ip(d->hal.station.ctx, d->ip) != SC_OK)
        memset(d->ip, 0, 4);
    if (!d->hal.station.get_mac || d->hal.station.get_mac(d->hal.station.ctx, d->mac) != SC_OK)
        memset(d->mac, 0, sizeof d->mac);
    d->joined = true;
    d->after_join_end = now + d->cfg.after_join_ms;
    DLOG(d, now, "got IP %u.%u.%u.%u", d->ip[0], d->ip[1], d->ip[2], d->ip[3]);
    sc_device_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SC_DEV_EV_IP;
    memcpy(ev.ip, d->ip, 4);
    emit(d, &ev);
    if (d->flow == SC_DEV_FLOW_SOFTAP) {
        start_binding(d, now); /* the token came over the soft-AP already */
        return;
    }
    if (d->hal.udp.open(d->hal.udp.ctx, d->ip, 0, true, &d->ack_h) == SC_OK) {
        d->ack_open = true;
        d->ack_left = d->cfg.ack_count;
        d->ack_next = now;
        d->ack_end = now + (uint32_t)d->cfg.ack_count * d->cfg.ack_interval_ms;
    } else {
        /* The app can still find us by scanning; the token service is what matters. */
        DLOG(d, now, "ack socket failed, no acks");
        d->ack_end = now;
    }
    if (open_service(d, d->ip, now) != SC_OK)
        return;
    set_state(d, SC_DEV_ACKING, now);
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

static void step_ack(devstate_t *d, uint32_t now)
{
    if (!d->ack_open || !d->ack_left || !due(now, d->ack_next))
        return;
    sc_et_ack_t a;
    a.t = d->res.t;
    memcpy(a.mac, d->mac, SC_MAC_LEN);
    memcpy(a.ip, d->ip, 4);
    uint8_t buf[SC_ET_ACK_LEN];
    sc_et_ack_build(&a, buf);
    static const uint8_t any[4];
    sc_ipv4_ep_t to = { .port = SC_ET_ACK_PORT };
    bool sent = false;
    if (memcmp(d->res.creds.phone_ip, any, 4)) {
        memcpy(to.addr, d->res.creds.phone_ip, 4);
        sent |= udp_send(d, d->ack_h, &to, buf, sizeof buf) == SC_OK;
    }
    memset(to.addr, 255, 4);
    sent |= udp_send(d, d->ack_h, &to, buf, sizeof buf) == SC_OK;
    if (sent)
        d->stats.acks_sent++;
    if (d->ack_left == d->cfg.ack_count) {
        sc_device_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SC_DEV_EV_ACK_SENT;
        memcpy(ev.peer.addr, d->res.creds.phone_ip, 4);
        ev.peer.port = SC_ET_ACK_PORT;
        memcpy(ev.ip, d->ip, 4);
        emit(d, &ev);
    }
    d->ack_next = now + d->cfg.ack_interval_ms;
    if (--d->ack_left == 0) {
        udp_close(d, &d->ack_h, &d->ack_open);
        d->ack_end = now;
    }
}

/* ---- the UDP 8266 service --------------------------------------------------------------- */

/* Per-peer token bucket for error replies: a flood of junk earns a few replies, never a
 * reply storm, and never touches another peer's state. The table is tiny: when full, the
 * least recently seen entry is reused (worst case a spoofer resets its own budget). */
static bool peer_allow(devstate_t *d, const sc_ipv4_ep_t *ep, uint32_t now)
{
    sc_dev_peer_t *p = NULL, *lru = &d->peers[0];
    for (size_t i = 0; i < SC_DEV_PEERS; i++) {
        sc_dev_peer_t *c = &d->peers[i];
        if (c->used && ep_eq(&c->ep, ep)) {
            p = c;
            break;
        }
        if (!c->used)
            lru = c;
        else if (lru->used && (int32_t)(c->last_seen - lru->last_seen) < 0)
            lru = c;
    }
    if (!p) {
        p = lru;
        p->used = 1;
        p->ep = *ep;
        p->tokens = SC_DEV_RL_BURST;
        p->refill_at = now + SC_DEV_RL_REFILL_MS;
    }
    p->last_seen = now;
    while (due(now, p->refill_at)) {
        if (p->tokens < SC_DEV_RL_BURST)
            p->tokens++;
        p->refill_at += SC_DEV_RL_REFILL_MS;
        if (p->tokens == SC_DEV_RL_BURST && due(now, p->refill_at))
            p->refill_at = now + SC_DEV_RL_REFILL_MS;
    }
    if (!p->tokens)
        return false;
    p->tokens--;
    return true;
}

/* A Current_Error reply to one bad datagram: to its sender only, rate-limited, never a
 * record, never a state change. */
static void bad_reply(devstate_t *d, int h, const sc_ipv4_ep_t *from, uint16_t err_id, int32_t sub_id,
                      uint32_t now, const char *what)
{
    d->stats.bad_dgrams++;
    if (!peer_allow(d, from, now)) {
        d->stats.rate_limited++;
        return;
    }
    hlog(d, SC_LOG_WARN, "8266: %s from %u.%u.%u.%u:%u -> (%u, %ld)", what, from->addr[0], from->addr[1],
         from->addr[2], from->addr[3], (unsigned)from->port, (unsigned)err_id, (long)sub_id);
    size_t len = 0;
    if (sc_bind_build_error(d->txbuf, sizeof d->txbuf, false, err_id, sub_id, &len) == SC_OK &&
        udp_send(d, h, from, d->txbuf, len) == SC_OK)
        d->stats.err_replies++;
}

static void send_identity(devstate_t *d, const sc_ipv4_ep_t *to)
{
    size_t len = 0;
    if (sc_bind_build_identity(d->txbuf, sizeof d->txbuf, &d->cfg.identity, &len) == SC_OK &&
        udp_send(d, d->srv_h, to, d->txbuf, len) == SC_OK)
        d->stats.identity_replies++;
}

static void send_log(devstate_t *d, int h, const sc_ipv4_ep_t *to)
{
    size_t len = sc_diag_log_concat(&d->log, d->txbuf, sizeof d->txbuf);
    if (udp_send(d, h, to, d->txbuf, len) == SC_OK)
        d->stats.log_replies++;
}

static void handle_token_request(devstate_t *d, const sc_ipv4_ep_t *from, sc_bind_req_t *req, uint32_t now)
{
    bool want_softap = d->flow == SC_DEV_FLOW_SOFTAP;
    if ((req->cmd_type == SC_BIND_CMD_SOFTAP) != want_softap) {
        bad_reply(d, d->srv_h, from, SC_ERRID_APP_CMD, SC_SUBID_AP_INFO, now, "request for the other flow");
        return;
    }
    if (req->has_region && strcmp(req->region, d->cfg.identity.region) != 0) {
        bad_reply(d, d->srv_h, from, SC_ERRID_REGION, SC_SUBID_INVALID, now, "region mismatch");
        return;
    }
    if (d->have_token && strcmp(req->token, d->token) != 0) {
        bad_reply(d, d->srv_h, from, SC_ERRID_APP_CMD, SC_SUBID_TOKEN_CHANGED, now, "token changed");
        return;
    }
    /* A valid request: its sender is the app from now on (errors go there first). */
    d->app = *from;
    d->app_known = true;
    flush_errors(d);
    if (d->state == SC_DEV_FAILED) {
        /* No identity after a failure: the app must not go on polling the cloud. */
        if (d->have_last_err)
            bad_reply(d, d->srv_h, from, d->last_err, d->last_sub, now, "request after failure");
        return;
    }
    d->last_token_req = now;
    send_identity(d, from);
    d->id_repeats = 2; /* the reference sends the identity 3 times, 1 s apart */
    d->id_next = now + 1000;
    if (d->have_token)
        return; /* a resend: answered again, nothing else changes */
    memcpy(d->token, req->token, sizeof d->token);
    d->have_token = true;
    DLOG(d, now, "token received (%u chars) from %u.%u.%u.%u:%u", (unsigned)strlen(d->token), from->addr[0],
         from->addr[1], from->addr[2], from->addr[3], (unsigned)from->port);
    sc_device_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SC_DEV_EV_TOKEN;
    ev.peer = *from;
    emit(d, &ev);
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

static void handle_dgram(devstate_t *d, const sc_ipv4_ep_t *from, size_t len, bool truncated, uint32_t now)
{
    d->stats.dgrams++;
    if (truncated || len > SC_BIND_DGRAM_MAX) {
        bad_reply(d, d->srv_h, from, SC_ERRID_APP_CMD, SC_SUBID_JSON, now, "oversized datagram");
        return;
    }
    sc_bind_req_t req;
    uint16_t err_id;
    int32_t sub_id;
    sc_err_t e = sc_bind_parse(d->rxbuf, len, &req, &err_id, &sub_id);
    if (e != SC_OK) {
        bad_reply(d, d->srv_h, from, err_id, sub_id, now, "bad request");
    } else if (req.cmd_type == SC_BIND_CMD_LOG) {
        send_log(d, d->srv_h, from);
    } else {
        handle_token_request(d, from, &req, now);
    }
    wipe(&req, sizeof req);
}

/* Drains at most SC_DEV_DRAIN_MAX datagrams; returns true when more may be queued. */
static bool poll_socket(devstate_t *d, bool log_service, uint32_t now)
{
    for (int i = 0; i < SC_DEV_DRAIN_MAX; i++) {
        int h = log_service ? d->log_h : d->srv_h;
        if (!(log_service ? d->log_open : d->srv_open))
            return false;
        sc_ipv4_ep_t from;
        size_t len = 0;
        bool trunc = false;
        sc_err_t e = d->hal.udp.recv_from(d->hal.udp.ctx, h, &from, d->rxbuf, SC_BIND_DGRAM_MAX + 1, &len, &trunc);
        if (e != SC_OK)
            return false;
        if (len > SC_BIND_DGRAM_MAX)
            trunc = true;
        if (!log_service) {
            handle_dgram(d, &from, len, trunc, now);
            continue;
        }
        sc_bind_req_t req;
        uint16_t err_id;
        int32_t sub_id;
        memset(&req, 0, sizeof req);
        if (!trunc && sc_bind_parse(d->rxbuf, len, &req, &err_id, &sub_id) == SC_OK &&
            req.cmd_type == SC_BIND_CMD_LOG) {
            send_log(d, d->log_h, &from);
            d->log_peer = from;
            d->log_resend = true; /* the reference sends the log twice, 500 ms apart */
            d->log_resend_at = now + 500;
        } else {
            d->stats.bad_dgrams++;
        }
        wipe(&req, sizeof req);
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

    if (d->srv_open)
        more |= poll_socket(d, false, now);
    if (d->log_open) {
        more |= poll_socket(d, true, now);
        if (d->log_resend && due(now, d->log_resend_at)) {
            send_log(d, d->log_h, &d->log_peer);
            d->log_resend = false;
        }
        if (d->log_resend)
            earliest(&next, now, d->log_resend_at);
    }
    if (d->srv_open && d->id_repeats && d->app_known && d->state != SC_DEV_FAILED) {
        if (due(now, d->id_next)) {
            send_identity(d, &d->app);
            d->id_repeats--;
            d->id_next = now + 1000;
        }
        if (d->id_repeats)
            earliest(&next, now, d->id_next);
    }
    if (d->ack_open) {
        step_ack(d, now);
        if (d->ack_open)
            earliest(&next, now, d->ack_next);
    }

    switch (d->state) {
    case SC_DEV_SNIFFING: {
        sc_et_event_t ev;
        sc_et_event_type_t t = sc_et_rx_tick(&d->rx, now, &ev);
        if (t != SC_ET_EV_NONE)
            handle_rx_event(d, t, &ev, now);
        if (d->state != SC_DEV_SNIFFING)
            break;
        if (due(now, d->window_end)) {
            fail(d, now, SC_ERRID_BOARDING_STOP, SC_SUBID_TIMEOUT, "no credentials in the window");
            break;
        }
        uint32_t until = now + 100;
        uint8_t ch = sc_chansearch_step(&d->cs, &d->rx, now, &until);
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
        if (d->have_token && d->cfg.skip_cloud && due(now, d->last_token_req + d->cfg.linger_ms)) {
            set_state(d, SC_DEV_DONE, now);
            break;
        }
        if (due(now, d->after_join_end) || due(now, d->window_end) ||
            (d->state == SC_DEV_WAIT_TOKEN && !d->have_token && due(now, d->step_end))) {
            fail(d, now, SC_ERRID_BOARDING_STOP, SC_SUBID_TIMEOUT, "no token from the app");
            break;
        }
        if (d->have_token && d->cfg.skip_cloud)
            earliest(&next, now, d->last_token_req + d->cfg.linger_ms);
        if (d->state == SC_DEV_WAIT_TOKEN && !d->have_token)
            earliest(&next, now, d->step_end);
        earliest(&next, now, d->after_join_end);
        break;
    case SC_DEV_BINDING: {
        uint16_t err_id = 0;
        int32_t sub_id = 0;
        sc_bind_status_t bs = sc_cloud_bind_step(&d->bind, now, &err_id, &sub_id);
        if (bs == SC_BIND_DONE) {
            d->binding = false;
            DLOG(d, now, "bound");
            emit_simple(d, SC_DEV_EV_BOUND);
            set_state(d, SC_DEV_DONE, now);
        } else if (bs == SC_BIND_FAILED) {
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
            d->id_repeats = 0;
            udp_close(d, &d->srv_h, &d->srv_open);
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
        if (d->srv_open && due(now, d->window_end))
            udp_close(d, &d->srv_h, &d->srv_open);
        else if (d->srv_open)
            earliest(&next, now, d->window_end);
        break;
    default:
        break;
    }

    if (d->srv_open && d->app_known) {
        if (due(now, d->idle_tick_at)) {
            flush_errors(d);
            d->idle_tick_at = now + SC_DEV_IDLE_TICK_MS;
        }
        earliest(&next, now, d->idle_tick_at);
    }
    if (d->srv_open || d->log_open)
        earliest(&next, now, now + SC_DEV_POLL_MS);
    if (more)
        next = now;
    return next;
}

/* ---- log soft-AP and queries ------------------------------------------------------------- */

sc_err_t sc_device_start_log_softap(sc_device_t *dev, uint32_t now)
{
    devstate_t *d = DEV(dev);
    if (!d || !d->inited)
        return SC_ERR_INVAL;
    if (!d->hal.softap.start || !d->hal.udp.open)
        return SC_ERR_UNSUPPORTED;
    if (!d->log_ap_up) {
        sc_err_t e = d->hal.softap.start(d->hal.softap.ctx, "ESP-LOG-QUERY", "86013388", 0);
        if (e != SC_OK) {
            DLOG(d, now, "log soft-AP failed (%d)", e);
            return e;
        }
        d->log_ap_up = true;
    }
    if (!d->log_open) {
        sc_err_t e = d->hal.udp.open(d->hal.udp.ctx, NULL, SC_BIND_LOG_PORT, false, &d->log_h);
        if (e != SC_OK) {
            DLOG(d, now, "log service failed (%d)", e);
            return e;
        }
        d->log_open = true;
    }
    DLOG(d, now, "log soft-AP ESP-LOG-QUERY up, UDP %u", (unsigned)SC_BIND_LOG_PORT);
    return SC_OK;
}

void sc_device_stop_log_softap(sc_device_t *dev)
{
    devstate_t *d = DEV(dev);
    if (!d || !d->inited)
        return;
    udp_close(d, &d->log_h, &d->log_open);
    d->log_resend = false;
    if (d->log_ap_up && d->hal.softap.stop)
        (void)d->hal.softap.stop(d->hal.softap.ctx);
    d->log_ap_up = false;
}

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
    if (d)
        *out = d->stats;
    else
        memset(out, 0, sizeof *out);
}
