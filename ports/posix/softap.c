/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated soft-AP: logs what a real one would raise. */
#include <stdio.h>
#include <string.h>

#include "sc_posix_softap.h"

static void ap_log(sc_posix_softap_t *ap, const char *line)
{
    if (ap->sys && ap->sys->log)
        ap->sys->log(ap->sys->ctx, SC_LOG_INFO, line);
}

static sc_err_t ap_start(void *ctx, const char *ssid, const char *password, uint8_t channel)
{
    sc_posix_softap_t *ap = ctx;
    if (!ssid || !ssid[0] || strlen(ssid) > 32 || (password && strlen(password) > 64))
        return SC_ERR_INVAL;
    snprintf(ap->ssid, sizeof ap->ssid, "%s", ssid);
    ap->channel = channel;
    ap->up = true;
    ap->starts++;
    char line[160];
    snprintf(line, sizeof line, "soft-AP (simulated): up, SSID \"%s\", channel %u, %s", ap->ssid, channel,
             password && password[0] ? "WPA2 (password not shown)" : "open");
    ap_log(ap, line);
    return SC_OK;
}

static sc_err_t ap_stop(void *ctx)
{
    sc_posix_softap_t *ap = ctx;
    if (ap->up)
        ap_log(ap, "soft-AP (simulated): down");
    ap->up = false;
    ap->stops++;
    return SC_OK;
}

void sc_posix_softap_init(sc_posix_softap_t *ap, const sc_hal_sys_t *sys, sc_hal_softap_t *hal)
{
    memset(ap, 0, sizeof *ap);
    ap->sys = sys;
    if (hal) {
        hal->ctx = ap;
        hal->start = ap_start;
        hal->stop = ap_stop;
    }
}
