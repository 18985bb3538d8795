/* SPDX-License-Identifier: Apache-2.0 */
/* Default binding of the AT front-end's ops onto the device orchestrator (device.h) and the
 * HAL: AT+TCSTARTSMART / AT+TCSAP (re)initialise the device with the AT-stored identity and
 * start it; the device's events become the final +TCSTARTSMART / +TCSAP URCs; the AT MQTT
 * session runs on hal->mqtt with IoT Explorer credentials (sc_cloud_mqtt_credentials, broker
 * from the base cloud config); AT+TCDEVREG runs dynamic registration over hal->http, in
 * the background when the HAL has post_start/post_poll (other commands get "busy p..."
 * meanwhile), else one blocking post() bounded by SC_BINDER_DYNREG_TIMEOUT_MS. Portable: no
 * OS calls, no heap. */
#ifndef SMARTCFG_AT_DEVICE_H
#define SMARTCFG_AT_DEVICE_H

#include "smartcfg/at.h"
#include "smartcfg/binder.h"
#include "smartcfg/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The binding: caller-owned storage (common.h), ~4.8 KiB (it keeps the AT MQTT session's
 * credentials, a dynreg response buffer and one received message). */
#define SC_AT_DEVICE_SIZE (3424u + 1296u + 11u * sizeof(void *))

/* How long AT+CWJAP waits for the station HAL before "+CWJAP:1" (ESP-AT's default). */
#define SC_AT_CWJAP_TIMEOUT_MS 15000u
/* MQTT reconnect back-off of the AT session (the SDK's). */
#define SC_AT_RECONNECT_MIN_MS 1000u
#define SC_AT_RECONNECT_MAX_MS 60000u
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_AT_DEVICE_SIZE)];
} sc_at_device_t;

/* Prepares b and fills ops (ctx = b). dev and hal are kept by pointer (they must outlive b).
 * base: the device configuration to start from, copied (its on_event/user are kept as the
 * chained callback). Then call sc_at_init(at, ..., ops) and
 * sc_at_device_attach(b, at). */
SC_API void sc_at_device_bind(sc_at_device_t *b, sc_device_t *dev, const sc_hal_t *hal, const sc_device_config_t *base,
                              sc_at_ops_t *ops);
SC_API void sc_at_device_attach(sc_at_device_t *b, sc_at_t *at);
/* OTA on the AT MQTT session (docs/ota.md): initialises ota on the binding's HAL, hands it
 * to the AT front-end (after sc_at_device_attach) and routes $ota/update messages, reconnects
 * and the +TCOTASTATUS URCs. max_size: the largest image the port's store takes. */
SC_API sc_err_t sc_at_device_attach_ota(sc_at_device_t *b, sc_ota_t *ota, uint32_t max_size);
/* The device's event callback (sc_device_config_t.on_event with user = b); chains. */
SC_API void sc_at_device_on_event(void *user, const sc_device_event_t *ev);
/* Follows the AT MQTT session (connect outcome, drops, reconnects). Call from the loop. */
SC_API void sc_at_device_step(sc_at_device_t *b, uint32_t now_ms);
/* True while an AT-started provisioning flow runs (the device is not idle because of AT). */
SC_API bool sc_at_device_running(const sc_at_device_t *b);
/* True while AT+TCDEVREG's exchange runs in the background: the loop should call
 * sc_at_device_step() often (every few ms) until it ends, the HAL's POST moves only there. */
SC_API bool sc_at_device_registering(const sc_at_device_t *b);
/* True while the AT MQTT session is up: sc_at_device_step() reads the broker's messages (8 a
 * call); a loop should call it as soon as one arrives, as the port's queue is small. */
SC_API bool sc_at_device_receiving(const sc_at_device_t *b);

#ifdef __cplusplus
}
#endif
#endif
