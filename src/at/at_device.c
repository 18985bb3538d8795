/* Default binding of the AT ops onto the device orchestrator and the MQTT HAL. */
#include <string.h>

#include "smartcfg/at_device.h"

#define MQTT_NO_CONN (-103)          /* QCLOUD_ERR_MQTT_NO_CONN: the reference's drop code */
#define MQTT_RECONNECT_TIMEOUT (-106)/* QCLOUD_ERR_MQTT_RECONNECT_TIMEOUT */

static uint32_t now_of(sc_at_device_t *b)
{
    if (b->hal && b->hal->sys.now_ms)
        b->now_ms = b->hal->sys.now_ms(b->hal->sys.ctx);
    return b->now_ms;
}

/* Stops whatever the device does (an AT restart, like the reference, replaces the flow). */
static void stop_device(sc_at_device_t *b, int32_t reason)
{
    if (b->dev && sc_device_state(b->dev) != SC_DEV_IDLE)
        sc_device_stop(b->dev, reason, now_of(b));
    b->running = false;
}

static int start_flow(sc_at_device_t *b, const sc_identity_t *id, uint8_t tls, bool softap, const char *ssid,
                      const char *psw, uint8_t ch)
{
    if (!b->dev)
        return softap ? 7 : 13;
    stop_device(b, 102);
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
    /* tencent.md §9.2: 27 device info, 4 task, 13 SmartConfig start, 7 AP init. */
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
    stop_device(ctx, 102);   /* sub id 102: stopped by AT */
}

/* ---------------------------------------------------------------- MQTT session */

/* Builds the broker parameters for the AT session. The credential builder lives in the cloud
 * module (sc_cloud_mqtt_credentials); until this build has it, the session is unsupported. */
static sc_err_t mqtt_begin(sc_at_device_t *b)
{
    (void)b;
    return SC_ERR_UNSUPPORTED;
}

static int op_mqtt_connect(void *ctx, const sc_identity_t *id, const sc_at_mqtt_params_t *p)
{
    sc_at_device_t *b = ctx;
    if (!b->hal || !b->hal->mqtt.connect || !b->hal->mqtt.state)
        return SC_AT_CME_EXEC;
    b->mqtt_id = *id;
    b->mqtt_params = *p;
    sc_err_t e = mqtt_begin(b);
    if (e != SC_OK) {
        memset(&b->mqtt_id, 0, sizeof b->mqtt_id);
        return e == SC_ERR_UNSUPPORTED ? SC_AT_CME_EXEC : MQTT_NO_CONN;
    }
    b->mqtt_active = true;
    b->mqtt_connecting = true;
    b->mqtt_reconnecting = false;
    b->mqtt_deadline = now_of(b) + p->cmd_timeout_ms;
    return SC_AT_PENDING;
}

static int op_mqtt_state(void *ctx)
{
    sc_at_device_t *b = ctx;
    if (!b->mqtt_active || !b->hal || !b->hal->mqtt.state)
        return 0;
    return b->hal->mqtt.state(b->hal->mqtt.ctx, NULL) == SC_MQTT_CONNECTED ? 1 : 0;
}

static int op_mqtt_disconnect(void *ctx)
{
    sc_at_device_t *b = ctx;
    if (b->mqtt_active && b->hal && b->hal->mqtt.disconnect)
        (void)b->hal->mqtt.disconnect(b->hal->mqtt.ctx);
    b->mqtt_active = b->mqtt_connecting = b->mqtt_reconnecting = false;
    memset(&b->mqtt_id, 0, sizeof b->mqtt_id);
    return 0;
}

static void op_restore(void *ctx)
{
    sc_at_device_t *b = ctx;
    stop_device(b, 102);
    (void)op_mqtt_disconnect(b);
}

static sc_err_t op_get_mac(void *ctx, uint8_t mac[SC_MAC_LEN])
{
    sc_at_device_t *b = ctx;
    if (!b->hal || !b->hal->station.get_mac)
        return SC_ERR_UNSUPPORTED;
    return b->hal->station.get_mac(b->hal->station.ctx, mac);
}

void sc_at_device_step(sc_at_device_t *b, uint32_t now_ms)
{
    b->now_ms = now_ms;
    if (!b->mqtt_active || !b->at || !b->hal || !b->hal->mqtt.state)
        return;
    int reason = 0;
    sc_mqtt_state_t st = b->hal->mqtt.state(b->hal->mqtt.ctx, &reason);
    if (b->mqtt_connecting) {
        if (st == SC_MQTT_CONNECTED) {
            b->mqtt_connecting = false;
            if (b->mqtt_reconnecting) {
                b->mqtt_reconnecting = false;
                sc_at_mqtt_reconnected(b->at);
            } else {
                sc_at_complete(b->at, 0);
            }
        } else if (st == SC_MQTT_FAILED || (int32_t)(now_ms - b->mqtt_deadline) >= 0) {
            b->mqtt_connecting = false;
            if (b->mqtt_reconnecting) {
                /* The reference keeps trying while reconnect is on; we try once per drop and
                 * then hand the decision back to the host. */
                b->mqtt_reconnecting = false;
                b->mqtt_active = false;
                sc_at_mqtt_disconnected(b->at, MQTT_RECONNECT_TIMEOUT, false);
            } else {
                b->mqtt_active = false;
                sc_at_complete(b->at, MQTT_NO_CONN);
            }
            if (b->hal->mqtt.disconnect)
                (void)b->hal->mqtt.disconnect(b->hal->mqtt.ctx);
        }
        return;
    }
    if (st != SC_MQTT_CONNECTED) {
        bool again = b->mqtt_params.reconnect && mqtt_begin(b) == SC_OK;
        sc_at_mqtt_disconnected(b->at, MQTT_NO_CONN, again);
        if (again) {
            sc_at_mqtt_reconnecting(b->at);
            b->mqtt_connecting = b->mqtt_reconnecting = true;
            b->mqtt_deadline = now_ms + b->mqtt_params.cmd_timeout_ms;
        } else {
            b->mqtt_active = false;
        }
    }
}

/* ---------------------------------------------------------------- device events */

void sc_at_device_on_event(void *user, const sc_device_event_t *ev)
{
    sc_at_device_t *b = user;
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
            sc_at_provision_result(b->at, false, b->have_err ? b->err_id : 3, b->have_err ? b->sub_id : 103);
        }
    }
    if (b->chain)
        b->chain(b->chain_user, ev);
}

void sc_at_device_bind(sc_at_device_t *b, sc_device_t *dev, const sc_hal_t *hal, const sc_device_config_t *base,
                       sc_at_ops_t *ops)
{
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
    ops->restore = op_restore;
    ops->get_mac = op_get_mac;
}

void sc_at_device_attach(sc_at_device_t *b, sc_at_t *at)
{
    b->at = at;
}

bool sc_at_device_running(const sc_at_device_t *b)
{
    return b->running;
}
