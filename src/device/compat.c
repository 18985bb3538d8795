/* SPDX-License-Identifier: Apache-2.0 */
/* Reference API names over the registered device (device_compat.h). One global pointer is the
 * reference API's own shape (it has no handle); everything else stays in the device. */
#include "smartcfg/tc8266.h"
#include "smartcfg/device_compat.h"

#include "device_priv.h"

static sc_device_t *g_dev;

void sc_device_compat_register(sc_device_t *dev) { g_dev = dev; }

static uint32_t now_ms(void)
{
    const devstate_t *d = CDEV(g_dev);
    return d && d->hal.sys.now_ms ? d->hal.sys.now_ms(d->hal.sys.ctx) : 0;
}

static int to_errid(sc_err_t e, int fallback)
{
    if (e == SC_OK)
        return 0;
    if (e == SC_ERR_INVAL)
        return SC_ERRID_DEVINFO;
    return fallback;
}

int start_smartconfig(void)
{
    if (!g_dev)
        return SC_ERRID_TASK;
    return to_errid(sc_device_start(g_dev, now_ms()), SC_ERRID_SC_START);
}

void stop_smartconfig(void)
{
    if (g_dev)
        sc_device_stop(g_dev, SC_SUBID_STOP_APP, now_ms());
}

int start_softAP(const char *ssid, const char *psw, uint8_t ch)
{
    if (!g_dev)
        return SC_ERRID_TASK;
    if (!ssid || !*ssid)
        return SC_ERRID_AP_INIT;
    return to_errid(sc_device_start_softap(g_dev, ssid, psw, ch, now_ms()), SC_ERRID_AP_INIT);
}

void stop_softAP(void)
{
    if (g_dev)
        sc_device_stop(g_dev, SC_SUBID_STOP_APP, now_ms());
}

bool is_wifi_config_successful(void) { return g_dev && sc_device_state(g_dev) == SC_DEV_DONE; }

int query_wifi_config_state(void)
{
    if (!g_dev)
        return WIFI_CONFIG_FAILED;
    switch (sc_device_state(g_dev)) {
    case SC_DEV_DONE:
        return WIFI_CONFIG_SUCCESS;
    case SC_DEV_FAILED:
        return WIFI_CONFIG_FAILED;
    default:
        return WIFI_CONFIG_GOING_ON;
    }
}

int start_log_softAP(void)
{
    if (!g_dev)
        return SC_ERRID_TASK;
    return sc_device_start_log_softap(g_dev, now_ms()) == SC_OK ? 0 : SC_ERRID_AP_INIT;
}
