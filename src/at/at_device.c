/* SPDX-License-Identifier: Apache-2.0 */
/* Default binding of the AT ops onto the device orchestrator and the MQTT HAL. */
#include <string.h>

#include "smartcfg/at_device.h"

#include "../common/log.h"
#include "../common/outline.h"
#include "../common/state.h"
#include "../cloud/cloud_int.h"

/* The binding behind sc_at_device_t (ops.ctx and the event callback's user point at it). */
typedef struct {
    sc_at_t *at;
    sc_device_t *dev;
    const sc_hal_t *hal;
    sc_device_config_t base;       /* cloud config, windows; identity comes from AT */
    sc_device_event_cb chain;      /* the application's own event callback (may be NULL) */
    void *chain_user;
    bool running;                  /* the device was started by AT and has not finished */
    bool have_err;
    uint16_t err_id;
    int32_t sub_id;
    /* AT MQTT session */
    bool mqtt_active;              /* between AT+TCMQTTCONN and AT+TCMQTTDISCONN */
    bool mqtt_connecting;
    bool mqtt_reconnecting;
    uint32_t mqtt_deadline;
    sc_at_mqtt_params_t mqtt_params;
    sc_identity_t mqtt_id;
    sc_cloud_mqtt_creds_t mqtt_creds;  /* kept for the HAL while connected; wiped after */
    uint32_t now_ms;
    char http_resp[2048];          /* AT+TCDEVREG response buffer (wiped after use) */
    /* AT+TCDEVREG in the background (the HAL's post_start/post_poll) */
    bool reg_busy;
    uint32_t reg_deadline;         /* our own bound, should the port's timeout not fire */
    char reg_psk[SC_PRODUCT_SECRET_MAX + 1];  /* to decrypt the answer; wiped at the end */
    /* MQTT data channel: the one request whose broker answer AT waits for */
    uint8_t req_kind;              /* 0 none, 1 PUBACK, 2 SUBACK/UNSUBACK */
    int req_mid;
    sc_err_t req_res;              /* its outcome, SC_ERR_AGAIN not in yet */
    uint32_t req_order;            /* and its order stamp (hal.h request_order; 0 unknown) */
    /* reconnect back-off (the SDK's: 1 s doubling to 60 s, forever) */
    bool mqtt_waiting;             /* between attempts */
    uint32_t mqtt_backoff_ms, mqtt_retry_at;
    sc_mqtt_msg_t rx;              /* one received message (in the context: small stacks) */
    /* messages not printed as +TCMQTTRCVPUB (cut by the HAL; a topic the host did not
     * subscribe or cannot parse), said in the log at most every 10 s */
    uint32_t rx_cut, rx_badtopic, rx_cut_said, rx_badtopic_said, rx_said_at;
    bool rx_said;
    /* AT+CWJAP on the station HAL */
    bool wifi_joining, wifi_joined;
    uint32_t wifi_deadline;
    char wifi_ssid[SC_SSID_MAX + 1];
    sc_ota_t *ota;                 /* NULL: no OTA */
} atd_t;
SC_STATE_FITS(atd_t, sc_at_device_t);

static inline atd_t *ATD(sc_at_device_t *b) { return (atd_t *)(void *)b; }
static inline const atd_t *CATD(const sc_at_device_t *b) { return (const atd_t *)(const void *)b; }


#define MQTT_NO_CONN (-103)          /* QCLOUD_ERR_MQTT_NO_CONN: the reference's drop code */

static uint32_t now_of(atd_t *b)
{
    if (b->hal && b->hal->sys.now_ms)
        b->now_ms = b->hal->sys.now_ms(b->hal->sys.ctx);
    return b->now_ms;
}

/* Stops whatever the device does (an AT restart, like the reference, replaces the flow). */
static void stop_device(atd_t *b, int32_t reason)
{
    /* Cleared first: the failure the stop itself reports belongs to no AT flow (and on a
     * restart it must not be taken for the new flow's result). */
    b->running = false;
    if (b->dev && sc_device_state(b->dev) != SC_DEV_IDLE)
        sc_device_stop(b->dev, reason, now_of(b));
    /* and the log soft-AP a port may have raised after a failure: a new flow's
     * sc_device_init would forget its open socket (and leave the AP up) */
    if (b->dev)
        sc_device_stop_log_softap(b->dev);
}

static int start_flow(atd_t *b, const sc_identity_t *id, uint8_t tls, bool softap, const char *ssid,
                      const char *psw, uint8_t ch)
{
    if (!b->dev)
        return softap ? 7 : 13;
    stop_device(b, SC_SUBID_STOP_AT);
    sc_device_config_t cfg = b->base;
    cfg.identity = *id;
    cfg.cloud.tls = tls == 1;
    cfg.on_event = sc_at_device_on_event;
    cfg.user = b;
    b->have_err = false;
    sc_err_t e = sc_device_init(b->dev, b->hal, &cfg);
    memset(&cfg.identity, 0, sizeof cfg.identity);
    if (e == SC_OK)
        e = softap ? sc_device_start_softap(b->dev, ssid, psw, ch, now_of(b)) : sc_device_start(b->dev, now_of(b));
    if (e == SC_OK) {
        b->running = true;
        return 0;
    }
    /* docs/protocol/tencent.md#wi-fi-provisioning: 27 device info, 4 task, 13 SmartConfig start, 7 AP init. */
    if (e == SC_ERR_INVAL || e == SC_ERR_NOTFOUND || e == SC_ERR_FORMAT)
        return 27;
    return softap ? 7 : 13;
}

static int op_start_smartconfig(void *ctx, const sc_identity_t *id, uint8_t tls)
{
    return start_flow(ctx, id, tls, false, NULL, NULL, 0);
}

static int op_start_softap(void *ctx, const sc_identity_t *id, uint8_t tls, const char *ssid, const char *psw,
                           uint8_t ch)
{
    return start_flow(ctx, id, tls, true, ssid, psw, ch);
}

static void op_stop(void *ctx)
{
    stop_device(ctx, SC_SUBID_STOP_AT);
}

/* ---------------------------------------------------------------- MQTT session */

/* SDK error codes the reference prints in +TCMQTTCONN:FAIL / +TCMQTTDISCON. */
#define MQTT_REQUEST_TIMEOUT (-111)  /* QCLOUD_ERR_MQTT_REQUEST_TIMEOUT */
#define MQTT_CONNACK_BASE (-112)     /* -112 - CONNACK rc: -113 .. -117 */
#define TCP_CONNECT_FAILED (-603)    /* QCLOUD_ERR_TCP_CONNECT */
#define HTTP_TIMEOUT (-11)           /* QCLOUD_ERR_HTTP_TIMEOUT */

static void mqtt_wipe(atd_t *b)
{
    sc_wipe(&b->mqtt_creds, sizeof b->mqtt_creds);
}

/* Builds fresh credentials (a new connid and expiry each time, as the SDK does) and starts
 * connecting. SC_ERR_IO: the TCP/TLS connection failed at once. */
static sc_err_t mqtt_begin(atd_t *b)
{
    const sc_hal_t *h = b->hal;
    sc_cloud_config_t cc = b->base.cloud;
    cc.tls = b->mqtt_params.tls_mode == 1;
    if (!cc.tls && cc.port == SC_CLOUD_PORT_TLS)
        cc.port = 0;
    uint8_t rnd[SC_CLOUD_CONNID_LEN] = { 0 };
    if (h->sys.random)
        h->sys.random(h->sys.ctx, rnd, sizeof rnd);
    uint64_t unix_now = h->sys.unix_time ? h->sys.unix_time(h->sys.ctx) : 0;
    sc_err_t e = sc_cloud_mqtt_credentials(&b->mqtt_id, &cc, unix_now, rnd, &b->mqtt_creds);
    if (e != SC_OK) {
        mqtt_wipe(b);
        return e;
    }
    sc_mqtt_connect_t p = {
        .host = b->mqtt_creds.host, .port = b->mqtt_creds.port, .client_id = b->mqtt_creds.client_id,
        .username = b->mqtt_creds.username, .password = b->mqtt_creds.password,
        .keepalive_s = b->mqtt_params.keepalive_s, .tls = b->mqtt_creds.tls,
        .ca_file = cc.ca_file[0] ? cc.ca_file : NULL,
    };
    /* tls mode 1 on a device configured for TLS-PSK (cc.tls_psk): key authentication as the
     * reference module does it, the decoded PSK as key, the client id as identity; wiped below */
    uint8_t psk[SC_MQTT_PSK_MAX];
    size_t psk_len = 0;
    if (b->mqtt_creds.tls_psk) {
        e = sc_cloud_psk_decode(b->mqtt_id.device_secret, psk, &psk_len);
        if (e != SC_OK) {
            mqtt_wipe(b);
            return SC_ERR_FORMAT;
        }
        p.ca_file = NULL;
        p.psk = psk;
        p.psk_len = psk_len;
        p.psk_identity = b->mqtt_creds.client_id;
    }
    e = h->mqtt.connect(h->mqtt.ctx, &p);
    sc_wipe(psk, sizeof psk);
    if (e != SC_OK)
        mqtt_wipe(b);
    return e;
}

/* The port's disconnect, where it has one. */
static void mqtt_drop(atd_t *b)
{
    if (b->hal->mqtt.disconnect)
        (void)b->hal->mqtt.disconnect(b->hal->mqtt.ctx);
}

/* The session is over: its identity and credentials go. */
static void say_drops(atd_t *b, bool now);

static void mqtt_forget(atd_t *b)
{
    say_drops(b, true);
    memset(&b->mqtt_id, 0, sizeof b->mqtt_id);
    mqtt_wipe(b);
}

/* Connects again with fresh credentials; a try that fails at once ends its wait now, so the
 * next step schedules the next try. */
static void mqtt_retry(atd_t *b, uint32_t now_ms)
{
    b->mqtt_connecting = true;
    b->mqtt_deadline = now_ms + b->mqtt_params.cmd_timeout_ms;
    if (mqtt_begin(b) != SC_OK)
        b->mqtt_deadline = now_ms;
}

static int connect_failure_code(const atd_t *b)
{
    int reason = 0;
    if (b->hal->mqtt.state(b->hal->mqtt.ctx, &reason) == SC_MQTT_FAILED && reason >= 1 && reason <= 5)
        return MQTT_CONNACK_BASE - reason;
    return TCP_CONNECT_FAILED;
}

static int op_mqtt_connect(void *ctx, const sc_identity_t *id, const sc_at_mqtt_params_t *p)
{
    atd_t *b = ctx;
    if (!b->hal || !b->hal->mqtt.connect || !b->hal->mqtt.state)
        return SC_AT_CME_EXEC;
    b->mqtt_id = *id;
    b->mqtt_params = *p;
    sc_err_t e = mqtt_begin(b);
    if (e != SC_OK) {
        memset(&b->mqtt_id, 0, sizeof b->mqtt_id);
        if (e == SC_ERR_IO)
            return connect_failure_code(b);
        return e == SC_ERR_UNSUPPORTED ? SC_AT_CME_EXEC : 27;   /* 27: device info unusable */
    }
    b->mqtt_active = true;
    b->mqtt_connecting = true;
    b->mqtt_reconnecting = false;
    b->mqtt_deadline = now_of(b) + p->cmd_timeout_ms;
    return SC_AT_PENDING;
}

static int op_mqtt_state(void *ctx)
{
    atd_t *b = ctx;
    if (!b->mqtt_active || !b->hal || !b->hal->mqtt.state)
        return 0;
    return b->hal->mqtt.state(b->hal->mqtt.ctx, NULL) == SC_MQTT_CONNECTED ? 1 : 0;
}

static int op_mqtt_disconnect(void *ctx)
{
    atd_t *b = ctx;
    if (b->ota)
        sc_ota_disable(b->ota);   /* the PDF: the OTA task is cancelled before the disconnect */
    if (b->mqtt_active && b->hal && b->hal->mqtt.disconnect)
        (void)b->hal->mqtt.disconnect(b->hal->mqtt.ctx);
    b->mqtt_active = b->mqtt_connecting = b->mqtt_reconnecting = b->mqtt_waiting = false;
    b->req_kind = 0;
    mqtt_forget(b);
    return 0;
}

/* ---------------------------------------------------------------- MQTT data channel */

#define MQTT_UNKNOWN (-104)          /* QCLOUD_ERR_MQTT_UNKNOWN */
#define MQTT_SUB_REFUSED (-108)      /* QCLOUD_ERR_MQTT_SUB */

static int mqtt_err(sc_err_t e)
{
    return e == SC_ERR_CLOSED ? MQTT_NO_CONN : MQTT_UNKNOWN;
}

static bool session_up(const atd_t *b)
{
    return b->mqtt_active && !b->mqtt_connecting && !b->mqtt_waiting && b->hal;
}

static int op_mqtt_publish(void *ctx, const char *topic, int qos, const void *payload, size_t len)
{
    atd_t *b = ctx;
    if (!session_up(b) || !b->hal->mqtt.publish)
        return MQTT_NO_CONN;
    int mid = 0;
    sc_err_t e = b->hal->mqtt.publish(b->hal->mqtt.ctx, topic, payload, len, qos, &mid);
    if (e != SC_OK)
        return mqtt_err(e);
    if (qos == 0 || !b->hal->mqtt.puback_received)
        return 0;
    b->req_kind = 1;
    b->req_mid = mid;
    b->req_res = SC_ERR_AGAIN;
    return SC_AT_PENDING;
}

SC_OUTLINE static int sub_request(atd_t *b, const char *topic, int qos, bool unsub)
{
    const sc_hal_mqtt_t *m = &b->hal->mqtt;
    if (!session_up(b))
        return MQTT_NO_CONN;
    int mid = 0;
    sc_err_t e;
    if (unsub) {
        if (!m->unsubscribe)
            return SC_AT_CME_EXEC;
        e = m->unsubscribe(m->ctx, topic, &mid);
    } else if (m->subscribe_req) {
        e = m->subscribe_req(m->ctx, topic, qos, &mid);
    } else if (m->subscribe) {
        e = m->subscribe(m->ctx, topic, qos);   /* no SUBACK to follow: trusted */
        return e == SC_OK ? 0 : mqtt_err(e);
    } else {
        return SC_AT_CME_EXEC;
    }
    if (e != SC_OK)
        return mqtt_err(e);
    if (!m->request_status)
        return 0;
    b->req_kind = 2;
    b->req_mid = mid;
    b->req_res = SC_ERR_AGAIN;
    return SC_AT_PENDING;
}

static int op_mqtt_subscribe(void *ctx, const char *topic, int qos)
{
    return sub_request(ctx, topic, qos, false);
}

static int op_mqtt_unsubscribe(void *ctx, const char *topic)
{
    return sub_request(ctx, topic, 0, true);
}

/* The answer AT waits for (PUBACK, SUBACK, UNSUBACK), once it came. Only while AT still waits
 * for it: after its <cmdtimeout> (FAIL,202) or an AT+RST the AT core waits for no MQTT answer,
 * or for another command's (AT+CWJAP runs beside the session), and a late PUBACK or SUBACK
 * completed that one: "WIFI CONNECTED ... OK" for a join still running (F126).
 * The answer is only looked at here, its outcome and its order stamp kept; it completes in
 * req_done, in the wire's order with the messages (data_step). */
static void req_step(atd_t *b)
{
    const sc_hal_mqtt_t *m = &b->hal->mqtt;
    if (b->req_kind && !sc_at_mqtt_waiting(b->at))
        b->req_kind = 0;
    if (b->req_kind && b->req_res == SC_ERR_AGAIN) {
        b->req_res = b->req_kind == 2 ? m->request_status(m->ctx, b->req_mid)
                     : m->puback_received(m->ctx, b->req_mid) ? SC_OK : SC_ERR_AGAIN;
        b->req_order = b->req_res != SC_ERR_AGAIN && m->request_order ? m->request_order(m->ctx, b->req_mid) : 0;
    }
}

/* The answer req_step saw completes the command, unless `next` (the message polled after it,
 * NULL: none) came before it on the wire: then the message goes first, as in the SDK, which
 * reads packets in order and adds a topic's handler at its SUBACK (_handle_suback_packet):
 * a message before a SUBACK is not printed (F153), one before a PUBACK is printed before
 * +TCMQTTPUB:OK (F154). Unstamped (0): the answer first. */
static void req_done(atd_t *b, const sc_mqtt_msg_t *next)
{
    if (!b->req_kind || b->req_res == SC_ERR_AGAIN)
        return;
    if (next && next->order && b->req_order && (int32_t)(next->order - b->req_order) < 0)
        return;
    b->req_kind = 0;
    sc_at_complete(b->at, b->req_res == SC_OK ? 0 : b->req_res == SC_ERR_REFUSED ? MQTT_SUB_REFUSED : MQTT_UNKNOWN);
}

/* The answer AT waits for, and the messages on the session's subscriptions: true when it
 * stopped at its bound (more may wait). */
static bool data_step(atd_t *b)
{
    const sc_hal_mqtt_t *m = &b->hal->mqtt;
    req_step(b);
    if (!m->poll) {
        req_done(b, NULL);
        return false;
    }
    /* Bounded per step so a flood of messages cannot starve the line. */
    int i = 0;
    for (; i < 8; i++) {
        /* An answer req_step saw was asked for before this read: an empty queue then means no
         * message came before it (the port queues in the wire's order). */
        b->rx.order = 0;
        if (m->poll(m->ctx, &b->rx) != SC_OK) {
            req_done(b, NULL);
            break;
        }
        /* A SUB's topic delivers only from its SUBACK on; the SUBACK and a message right after
         * it (a retained one) may have come in since the answer was asked for: ask again, and
         * the stamps say which came first (F118). */
        req_step(b);
        req_done(b, &b->rx);
        b->rx.topic[sizeof b->rx.topic - 1] = 0;
        if (b->rx.truncated) {
            /* Longer than the HAL keeps: printed cut, its <len> would pass it for whole. The
             * SDK the reference runs discards a packet over its read buffer too. */
            b->rx_cut++;
            continue;
        }
        if (b->ota && sc_ota_on_message(b->ota, b->rx.topic, b->rx.payload, b->rx.payload_len, b->now_ms) == SC_OK)
            continue;   /* $ota/update: the module's own, not the host's (the reference prints none) */
        if (!sc_at_mqtt_received(b->at, b->rx.topic, b->rx.payload, b->rx.payload_len))
            b->rx_badtopic++;
    }
    say_drops(b, false);
    return i == 8;
}

/* The messages not printed since the last warning, in one line at most every 10 s; at the
 * session's end (now) whatever is unsaid, so the log's last line of a session holds its totals
 * (two drops in two steps were one line and an unsaid one, till the next drop 10 s on). */
static void say_drops(atd_t *b, bool now)
{
    /* 10 s as an elapsed time: a deadline (sc_ms_reached) read after a quiet spell of over 24.8
     * days (2^31 ms) looks 24.8 days away, and the warning would stay unsaid that long */
    if ((b->rx_cut != b->rx_cut_said || b->rx_badtopic != b->rx_badtopic_said) &&
        (now || !b->rx_said || (uint32_t)(b->now_ms - b->rx_said_at) >= 10000u)) {
        sc_logf(b->hal ? &b->hal->sys : NULL, SC_LOG_WARN,
                "AT: %lu messages over %u bytes, %lu on a topic not subscribed or with a quote, comma or "
                "control byte: not printed as +TCMQTTRCVPUB (%lu, %lu in all)",
                (unsigned long)(b->rx_cut - b->rx_cut_said), (unsigned)sizeof b->rx.payload,
                (unsigned long)(b->rx_badtopic - b->rx_badtopic_said), (unsigned long)b->rx_cut,
                (unsigned long)b->rx_badtopic);
        b->rx_cut_said = b->rx_cut;
        b->rx_badtopic_said = b->rx_badtopic;
        b->rx_said_at = b->now_ms;
        b->rx_said = true;
    }
}

/* After a reconnect the broker has forgotten the session's subscriptions (clean session):
 * ask again, without waiting (the AT line is not blocked for it). */
static void resubscribe(atd_t *b)
{
    const sc_hal_mqtt_t *m = &b->hal->mqtt;
    int qos = 0;
    const char *t;
    for (size_t i = 0; (t = sc_at_subscription(b->at, i, &qos)) != NULL; i++) {
        int mid = 0;
        if (m->subscribe_req)
            (void)m->subscribe_req(m->ctx, t, qos, &mid);
        else if (m->subscribe)
            (void)m->subscribe(m->ctx, t, qos);
    }
    if (b->ota)
        sc_ota_reconnected(b->ota);
}

static void op_nonce_time(void *ctx, uint32_t *nonce, uint64_t *unix_s)
{
    const sc_hal_t *h = ((atd_t *)ctx)->hal;
    if (h && h->sys.random)
        h->sys.random(h->sys.ctx, nonce, sizeof *nonce);
    *unix_s = h && h->sys.unix_time ? h->sys.unix_time(h->sys.ctx) : 0;
}

/* The cloud's answer to a registration: 0 with id->device_secret filled, or the code the
 * reply carries (the transport's, the cloud's own, or 209). */
static int dynreg_result(atd_t *b, sc_err_t e, const char *product_secret, size_t rlen, char *secret, size_t cap)
{
    if (e == SC_ERR_TIMEOUT)
        return HTTP_TIMEOUT;
    if (e != SC_OK)
        return TCP_CONNECT_FAILED;
    int32_t code = 0;
    e = sc_cloud_dynreg_decode(product_secret, b->http_resp, rlen, secret, cap, &code);
    sc_wipe(b->http_resp, sizeof b->http_resp);
    if (e == SC_OK)
        return 0;
    sc_wipe(secret, cap);
    if (e == SC_ERR_REFUSED && code != 0)
        return (int)code;   /* the cloud's own code, as the reference prints it */
    return SC_AT_CME_EXEC;
}

static void dynreg_cancel(atd_t *b)
{
    if (b->reg_busy && b->hal && b->hal->http.post_cancel)
        b->hal->http.post_cancel(b->hal->http.ctx);
    b->reg_busy = false;
    sc_wipe(b->reg_psk, sizeof b->reg_psk);
    sc_wipe(b->http_resp, sizeof b->http_resp);
}

/* AT+TCDEVREG. With the HAL's non-blocking POST the exchange runs in the background (the AT
 * line answers "busy p..." meanwhile, as the reference module does) and dynreg_step()
 * completes it; otherwise one blocking post(), bounded by SC_BINDER_DYNREG_TIMEOUT_MS. */
static int op_dynreg(void *ctx, sc_identity_t *id)
{
    atd_t *b = ctx;
    const sc_hal_t *h = b->hal;
    if (!h || !h->http.post)
        return SC_AT_CME_EXEC;
    uint32_t nonce = 0;
    if (h->sys.random)
        h->sys.random(h->sys.ctx, &nonce, sizeof nonce);
    nonce = nonce % 2147483647u + 1u;   /* a positive int, as the SDK sends */
    uint64_t ts = h->sys.unix_time ? h->sys.unix_time(h->sys.ctx) : 0;
    char body[512];
    size_t blen = 0;
    if (sc_cloud_dynreg_request(id, nonce, ts, body, sizeof body, &blen) != SC_OK)
        return 27;
    const char *url = b->base.cloud.register_url[0] ? b->base.cloud.register_url : SC_CLOUD_REGISTER_URL;
    const char *ctype = "application/x-www-form-urlencoded";
    dynreg_cancel(b);
    if (h->http.post_start && h->http.post_poll) {
        sc_err_t e = h->http.post_start(h->http.ctx, url, ctype, body, blen, SC_BINDER_DYNREG_TIMEOUT_MS);
        sc_wipe(body, sizeof body);
        if (e != SC_OK)
            return TCP_CONNECT_FAILED;
        memcpy(b->reg_psk, id->product_secret, sizeof b->reg_psk);
        b->reg_psk[SC_PRODUCT_SECRET_MAX] = 0;
        b->reg_busy = true;
        /* A port whose timeout never fires must not hold the line: 1 s past its bound. */
        b->reg_deadline = now_of(b) + SC_BINDER_DYNREG_TIMEOUT_MS + 1000u;
        return SC_AT_PENDING;
    }
    size_t rlen = 0;
    int status = 0;
    sc_err_t e = h->http.post(h->http.ctx, url, ctype, body, blen, SC_BINDER_DYNREG_TIMEOUT_MS, &status,
                              b->http_resp, sizeof b->http_resp - 1, &rlen);
    sc_wipe(body, sizeof body);
    return dynreg_result(b, e, id->product_secret, rlen, id->device_secret, sizeof id->device_secret);
}

/* Follows a background registration; the AT core takes the result (or ignores it when its
 * own deadline or an AT+RST came first). */
static void dynreg_step(atd_t *b, uint32_t now_ms)
{
    const sc_hal_http_t *hh = &b->hal->http;
    int status = 0;
    size_t rlen = 0;
    sc_err_t e = hh->post_poll(hh->ctx, &status, b->http_resp, sizeof b->http_resp - 1, &rlen);
    if (e == SC_ERR_AGAIN) {
        if (!sc_ms_reached(now_ms, b->reg_deadline))
            return;
        e = SC_ERR_TIMEOUT;
    }
    char secret[SC_DEVICE_SECRET_MAX + 1];
    int r = dynreg_result(b, e, b->reg_psk, rlen, secret, sizeof secret);
    dynreg_cancel(b);   /* ends the exchange (idempotent after a result) and wipes the psk */
    if (b->at)
        sc_at_complete_dynreg(b->at, r, r == 0 ? secret : NULL);
    sc_wipe(secret, sizeof secret);
}

static void op_restore(void *ctx)
{
    atd_t *b = ctx;
    if (b->ota)
        sc_ota_forget(b->ota);   /* the PDF: restore clears the cached firmware too */
    stop_device(b, SC_SUBID_STOP_AT);
    (void)op_mqtt_disconnect(b);
}

/* ---------------------------------------------------------------- ESP-AT station */

static void wifi_leave(atd_t *b)
{
    if ((b->wifi_joining || b->wifi_joined) && b->hal && b->hal->station.leave)
        (void)b->hal->station.leave(b->hal->station.ctx);
    b->wifi_joining = b->wifi_joined = false;
    memset(b->wifi_ssid, 0, sizeof b->wifi_ssid);
}

/* AT+CWJAP=: the same station backend --join uses; the outcome comes from the step. */
static int op_wifi_join(void *ctx, const char *ssid, const char *psw)
{
    atd_t *b = ctx;
    const sc_hal_t *h = b->hal;
    if (!h || !h->station.join || !h->station.status)
        return SC_AT_CWJAP_FAIL;
    wifi_leave(b);
    size_t sl = strlen(ssid);
    if (h->station.join(h->station.ctx, (const uint8_t *)ssid, sl, (const uint8_t *)psw, strlen(psw), NULL) != SC_OK)
        return SC_AT_CWJAP_FAIL;
    memcpy(b->wifi_ssid, ssid, sl < SC_SSID_MAX ? sl : SC_SSID_MAX);
    b->wifi_joining = true;
    b->wifi_deadline = now_of(b) + SC_AT_CWJAP_TIMEOUT_MS;
    return SC_AT_PENDING;
}

static void op_wifi_quit(void *ctx)
{
    wifi_leave(ctx);
}

static sc_err_t op_wifi_info(void *ctx, sc_at_wifi_info_t *out)
{
    atd_t *b = ctx;
    const sc_hal_t *h = b->hal;
    if (!b->wifi_joined || !h || !h->station.status || h->station.status(h->station.ctx, NULL) != SC_STA_GOT_IP)
        return SC_ERR_STATE;
    out->joined = true;
    memcpy(out->ssid, b->wifi_ssid, sizeof out->ssid);
    if (h->station.get_ip)
        (void)h->station.get_ip(h->station.ctx, out->ip);
    return SC_OK;
}

static void wifi_step(atd_t *b, uint32_t now_ms)
{
    if (!b->wifi_joining || !b->at)
        return;
    sc_sta_reason_t reason = SC_STA_REASON_NONE;
    sc_sta_status_t st = b->hal->station.status(b->hal->station.ctx, &reason);
    int r;
    if (st == SC_STA_GOT_IP)
        r = 0;
    else if (st == SC_STA_FAILED)
        r = reason == SC_STA_REASON_WRONG_PASSWORD ? SC_AT_CWJAP_PASSWORD
            : reason == SC_STA_REASON_NO_AP        ? SC_AT_CWJAP_NO_AP
                                                   : SC_AT_CWJAP_FAIL;
    else if (sc_ms_reached(now_ms, b->wifi_deadline))
        r = SC_AT_CWJAP_TIMEOUT;
    else
        return;
    b->wifi_joining = false;
    if (r == 0) {
        b->wifi_joined = true;
    } else {
        if (b->hal->station.leave)
            (void)b->hal->station.leave(b->hal->station.ctx);
        memset(b->wifi_ssid, 0, sizeof b->wifi_ssid);
    }
    sc_at_complete(b->at, r);
}

/* AT+RST / AT+RESTORE: what a reboot stops. */
static void op_reset(void *ctx)
{
    atd_t *b = ctx;
    dynreg_cancel(b);   /* a registration in flight is abandoned; its result would belong to nothing */
    stop_device(b, SC_SUBID_STOP_AT);
    (void)op_mqtt_disconnect(b);
    b->wifi_joining = false;   /* a join in flight is abandoned; a joined station stays (NVS) */
}

static sc_err_t op_get_mac(void *ctx, uint8_t mac[SC_MAC_LEN])
{
    atd_t *b = ctx;
    if (!b->hal || !b->hal->station.get_mac)
        return SC_ERR_UNSUPPORTED;
    return b->hal->station.get_mac(b->hal->station.ctx, mac);
}

void sc_at_device_step(sc_at_device_t *pub, uint32_t now_ms)
{
    atd_t *b = ATD(pub);
    b->now_ms = now_ms;
    if (b->hal)
        wifi_step(b, now_ms);
    if (b->ota)
        (void)sc_ota_step(b->ota, now_ms);
    if (b->reg_busy)
        dynreg_step(b, now_ms);
    if (!b->mqtt_active || !b->at || !b->hal || !b->hal->mqtt.state)
        return;
    int reason = 0;
    sc_mqtt_state_t st = b->hal->mqtt.state(b->hal->mqtt.ctx, &reason);
    if (b->mqtt_connecting) {
        if (st == SC_MQTT_CONNECTED) {
            b->mqtt_connecting = false;
            if (b->mqtt_reconnecting) {
                b->mqtt_reconnecting = false;
                resubscribe(b);
                sc_at_mqtt_reconnected(b->at);
            } else {
                sc_at_complete(b->at, 0);
            }
        } else if (st == SC_MQTT_FAILED || sc_ms_reached(now_ms, b->mqtt_deadline)) {
            b->mqtt_connecting = false;
            if (b->mqtt_reconnecting) {
                /* As the SDK: wait, double the wait up to 60 s, try again, forever (until
                 * AT+TCMQTTDISCONN). */
                mqtt_drop(b);
                b->mqtt_waiting = true;
                b->mqtt_retry_at = now_ms + b->mqtt_backoff_ms;
                b->mqtt_backoff_ms = b->mqtt_backoff_ms * 2 > SC_AT_RECONNECT_MAX_MS ? SC_AT_RECONNECT_MAX_MS
                                                                                     : b->mqtt_backoff_ms * 2;
                return;
            } else {
                b->mqtt_active = false;
                sc_at_complete(b->at, st == SC_MQTT_FAILED ? connect_failure_code(b) : MQTT_REQUEST_TIMEOUT);
            }
            mqtt_drop(b);
            if (!b->mqtt_active)
                mqtt_forget(b);
        }
        return;
    }
    if (b->mqtt_waiting) {
        if (!sc_ms_reached(now_ms, b->mqtt_retry_at))
            return;
        b->mqtt_waiting = false;
        sc_at_mqtt_reconnecting(b->at);
        mqtt_retry(b, now_ms);
        return;
    }
    if (st == SC_MQTT_CONNECTED) {
        data_step(b);
        return;
    }
    {
        /* What the port received before the link went (messages, the answer AT waits for)
         * reaches the host first, in the wire's order, as the SDK reads them before it sees
         * the link down: the reconnect's connect empties the port's queue, and without a
         * reconnect the subscriptions end below. Before, a burst the broker sent just before
         * it closed was lost without a word (F125). 8 rounds: the POSIX port's queue of 64. */
        for (int k = 0; k < 8 && data_step(b); k++)
            ;
        /* An answer seen behind more messages than the rounds read came before the drop all
         * the same: it completes before +TCMQTTDISCON, and before the session's subscriptions
         * end (a SUBACK completed after that put its topic back in a table of no session). */
        req_done(b, NULL);
        bool again = b->mqtt_params.reconnect;
        sc_at_mqtt_disconnected(b->at, MQTT_NO_CONN, again);
        if (b->req_kind) {
            b->req_kind = 0;
            sc_at_complete(b->at, MQTT_NO_CONN);   /* the request AT waited for is lost */
        }
        if (again) {
            mqtt_drop(b);
            sc_at_mqtt_reconnecting(b->at);
            b->mqtt_reconnecting = true;
            b->mqtt_backoff_ms = SC_AT_RECONNECT_MIN_MS;
            mqtt_retry(b, now_ms);
        } else {
            b->mqtt_active = false;
            mqtt_forget(b);
            /* The update topic went with the session, as the host's subscriptions did: the
             * task no longer listens (AT+TCOTASET=1 in the next session subscribes again); a
             * download runs on to its own end (F57). */
            if (b->ota && !sc_ota_downloading(b->ota))
                sc_ota_disable(b->ota);
        }
    }
}

/* ---------------------------------------------------------------- device events */

void sc_at_device_on_event(void *user, const sc_device_event_t *ev)
{
    atd_t *b = user;
    if (ev->type == SC_DEV_EV_ERROR) {
        b->have_err = true;
        b->err_id = ev->err_id;
        b->sub_id = ev->sub_id;
    } else if (ev->type == SC_DEV_EV_STATE && b->running && b->at) {
        if (ev->state == SC_DEV_DONE) {
            b->running = false;
            sc_at_provision_result(b->at, true, 0, 0);
        } else if (ev->state == SC_DEV_FAILED) {
            b->running = false;
            /* Without an error record the reference's generic "boarding stopped" pair. */
            sc_at_provision_result(b->at, false, b->have_err ? b->err_id : SC_ERRID_BOARDING_STOP, b->have_err ? b->sub_id : SC_SUBID_TIMEOUT);
        }
    }
    if (b->chain)
        b->chain(b->chain_user, ev);
}

void sc_at_device_bind(sc_at_device_t *pub, sc_device_t *dev, const sc_hal_t *hal, const sc_device_config_t *base,
                       sc_at_ops_t *ops)
{
    atd_t *b = ATD(pub);
    memset(b, 0, sizeof *b);
    b->dev = dev;
    b->hal = hal;
    if (base) {
        b->base = *base;
        b->chain = base->on_event;
        b->chain_user = base->user;
        memset(&b->base.identity, 0, sizeof b->base.identity);
    } else {
        sc_device_config_default(&b->base);
    }
    memset(ops, 0, sizeof *ops);
    ops->ctx = b;
    ops->start_smartconfig = op_start_smartconfig;
    ops->stop_smartconfig = op_stop;
    ops->start_softap = op_start_softap;
    ops->stop_softap = op_stop;
    ops->mqtt_connect = op_mqtt_connect;
    ops->mqtt_state = op_mqtt_state;
    ops->mqtt_disconnect = op_mqtt_disconnect;
    ops->dynreg = op_dynreg;
    ops->restore = op_restore;
    ops->get_mac = op_get_mac;
    ops->mqtt_publish = op_mqtt_publish;
    ops->mqtt_subscribe = op_mqtt_subscribe;
    ops->mqtt_unsubscribe = op_mqtt_unsubscribe;
    ops->wifi_join = op_wifi_join;
    ops->wifi_quit = op_wifi_quit;
    ops->wifi_info = op_wifi_info;
    ops->reset = op_reset;
    ops->nonce_time = op_nonce_time;
}

void sc_at_device_attach(sc_at_device_t *pub, sc_at_t *at)
{
    atd_t *b = ATD(pub);
    b->at = at;
}

static void on_ota_event(void *user, sc_ota_event_t ev, int code)
{
    atd_t *b = user;
    if (b->at)
        sc_at_ota_event(b->at, ev, code);
}

sc_err_t sc_at_device_attach_ota(sc_at_device_t *pub, sc_ota_t *ota, uint32_t max_size)
{
    atd_t *b = ATD(pub);
    if (!b->hal || !b->at)
        return SC_ERR_STATE;
    sc_err_t e = sc_ota_init(ota, b->hal, max_size, on_ota_event, b);
    if (e != SC_OK)
        return e;
    b->ota = ota;
    sc_at_attach_ota(b->at, ota);
    return SC_OK;
}

bool sc_at_device_running(const sc_at_device_t *pub)
{
    const atd_t *b = CATD(pub);
    return b->running;
}

bool sc_at_device_registering(const sc_at_device_t *pub)
{
    return CATD(pub)->reg_busy;
}

bool sc_at_device_receiving(const sc_at_device_t *pub)
{
    return session_up(CATD(pub));
}
