/* SPDX-License-Identifier: Apache-2.0 */
/* The Tencent reference device API (qcloud-iot-esp-wifi wifi_config,
 * docs/protocol/tencent.md#timing-and-the-reference-device-api) over one registered sc_device_t,
 * for firmware that already calls these names. The caller still drives the device:
 * sc_device_on_frame() for frames, sc_device_step() until its deadline. Times come from the HAL
 * clock (hal.sys.now_ms). Return codes are the reference's error ids
 * (docs/protocol/tencent.md#errors). */
#ifndef SMARTCFG_DEVICE_COMPAT_H
#define SMARTCFG_DEVICE_COMPAT_H

#include "smartcfg/device.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { WIFI_CONFIG_SUCCESS = 0, WIFI_CONFIG_GOING_ON = 1, WIFI_CONFIG_FAILED = 2 };

/* Registers the device the functions below act on (NULL unregisters). */
SC_API void sc_device_compat_register(sc_device_t *dev);

/* 0 on success, else an error id: 27 device info, 13 start error, 4 nothing registered, ... */
SC_API int start_smartconfig(void);
SC_API void stop_smartconfig(void);   /* records err 3 / 101 if the flow was running */
SC_API int start_softAP(const char *ssid, const char *psw, uint8_t ch); /* 7 AP init, 27, 4 */
SC_API void stop_softAP(void);
SC_API bool is_wifi_config_successful(void);
SC_API int query_wifi_config_state(void);
SC_API int start_log_softAP(void);    /* 0 or 7 */

#ifdef __cplusplus
}
#endif
#endif
