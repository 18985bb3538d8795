/* SPDX-License-Identifier: Apache-2.0 */
/* Default binding of the AT front-end's ops onto the device orchestrator (device.h) and the
 * HAL: AT+TCSTARTSMART / AT+TCSAP (re)initialise the device with the AT-stored identity and
 * start it; the device's events become the final +TCSTARTSMART / +TCSAP URCs; the AT MQTT
 * session runs on hal->mqtt with IoT Explorer credentials (sc_cloud_mqtt_credentials, broker
 * from the base cloud config); AT+TCDEVREG runs dynamic registration over hal->http
 * (blocking, bounded by SC_BINDER_DYNREG_TIMEOUT_MS). Portable: no OS calls, no heap. */
#ifndef SMARTCFG_AT_DEVICE_H
#define SMARTCFG_AT_DEVICE_H

#include "smartcfg/at.h"
#include "smartcfg/binder.h"
#include "smartcfg/device.h"

#ifdef __cplusplus
extern "C" {
#endif

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
    /* MQTT data channel: the one request whose broker answer AT waits for */
    uint8_t req_kind;              /* 0 none, 1 PUBACK, 2 SUBACK/UNSUBACK */
    int req_mid;
    /* reconnect back-off (the SDK's: 1 s doubling to 60 s, forever) */
    bool mqtt_waiting;             /* between attempts */
    uint32_t mqtt_backoff_ms, mqtt_retry_at;
    sc_mqtt_msg_t rx;              /* one received message (in the context: small stacks) */
    /* AT+CWJAP on the station HAL */
    bool wifi_joining, wifi_joined;
    uint32_t wifi_deadline;
    char wifi_ssid[SC_SSID_MAX + 1];
} sc_at_device_t;

/* How long AT+CWJAP waits for the station HAL before "+CWJAP:1" (ESP-AT's default). */
#define SC_AT_CWJAP_TIMEOUT_MS 15000u
#define SC_AT_RECONNECT_MIN_MS 1000u
#define SC_AT_RECONNECT_MAX_MS 60000u

/* Prepares b and fills ops (ctx = b). base: the device configuration to start from (its
 * on_event/user are kept as the chained callback). Then call sc_at_init(at, ..., ops) and
 * sc_at_device_attach(b, at). */
void sc_at_device_bind(sc_at_device_t *b, sc_device_t *dev, const sc_hal_t *hal, const sc_device_config_t *base,
                       sc_at_ops_t *ops);
void sc_at_device_attach(sc_at_device_t *b, sc_at_t *at);
/* The device's event callback (sc_device_config_t.on_event with user = b); chains. */
void sc_at_device_on_event(void *user, const sc_device_event_t *ev);
/* Follows the AT MQTT session (connect outcome, drops, reconnects). Call from the loop. */
void sc_at_device_step(sc_at_device_t *b, uint32_t now_ms);
/* True while an AT-started provisioning flow runs (the device is not idle because of AT). */
bool sc_at_device_running(const sc_at_device_t *b);

#ifdef __cplusplus
}
#endif
#endif
