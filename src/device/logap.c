/* SPDX-License-Identifier: Apache-2.0 */
/* The log soft-AP (docs/protocol/tencent.md#device-log-and-the-log-soft-ap): an AP the app
 * knows (ESP-LOG-QUERY) and the UDP 9876 service that hands it the provisioning log, so a
 * failed device can still say why. Independent of the provisioning flow: it may run after a
 * failure, beside a new attempt, or alone. */
#include "device_priv.h"

sc_err_t sc_device_start_log_softap(sc_device_t *dev, uint32_t now)
{
    devstate_t *d = DEV(dev);
    if (!d || !d->inited)
        return SC_ERR_INVAL;
    /* the soft-AP as a pair (an AP it could not take down again) and a whole UDP table */
    const sc_hal_t *h = &d->hal;
    if (!h->softap.start || !h->softap.stop || !h->udp.open || !h->udp.send_to || !h->udp.recv_from || !h->udp.close)
        return SC_ERR_UNSUPPORTED;
    bool raised = false;
    if (!d->log_ap_up) {
        sc_err_t e = d->hal.softap.start(d->hal.softap.ctx, SC_TC8266_LOG_AP_SSID, SC_TC8266_LOG_AP_PASSWORD, 0);
        if (e != SC_OK) {
            DLOG(d, now, "log soft-AP failed (%d)", e);
            return e;
        }
        d->log_ap_up = true;
        raised = true;
    }
    sc_err_t e = sc_tc8266_svc_open(&d->logsvc, NULL, SC_TC8266_LOG_PORT);
    if (e != SC_OK) {
        /* an AP raised here for a service that never came is taken down again: a port that
         * keeps running after the failure (device --at --log-linger) would leave it up with
         * nothing to serve until the next flow */
        if (raised) {
            (void)d->hal.softap.stop(d->hal.softap.ctx);
            d->log_ap_up = false;
        }
        DLOG(d, now, "log service failed (%d)", e);
        return e;
    }
    sc_tc8266_svc_log_raised(&d->svc, true); /* cmdType 3 on 8266 too, only while raised */
    DLOG(d, now, "log soft-AP " SC_TC8266_LOG_AP_SSID " up, UDP %u", (unsigned)SC_TC8266_LOG_PORT);
    return SC_OK;
}

void sc_device_stop_log_softap(sc_device_t *dev)
{
    devstate_t *d = DEV(dev);
    if (!d || !d->inited)
        return;
    sc_tc8266_svc_close(&d->logsvc);
    sc_tc8266_svc_log_raised(&d->svc, false);
    if (d->log_ap_up && d->hal.softap.stop)
        (void)d->hal.softap.stop(d->hal.softap.ctx);
    d->log_ap_up = false;
}
