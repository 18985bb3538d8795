/* SPDX-License-Identifier: Apache-2.0 */
/* Soft-AP HAL for hosts that do not run an access point: it records and logs the request (the
 * SSID and channel; never the password) so the soft-AP and log soft-AP flows can run, and the
 * UDP services behind them are reached on the device's own address. */
#ifndef SC_POSIX_SOFTAP_H
#define SC_POSIX_SOFTAP_H

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const sc_hal_sys_t *sys;
    bool up;
    char ssid[33];
    uint8_t channel;
    unsigned starts, stops;
} sc_posix_softap_t;

void sc_posix_softap_init(sc_posix_softap_t *ap, const sc_hal_sys_t *sys, sc_hal_softap_t *hal);

#ifdef __cplusplus
}
#endif
#endif
