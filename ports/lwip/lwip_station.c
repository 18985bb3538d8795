/* SPDX-License-Identifier: Apache-2.0 */
/* The station on an lwIP chip: the Wi-Fi driver associates (here: the wrapped backend, e.g.
 * the POSIX simulated AP, which checks SSID and password), then the address is lwIP's. The
 * wrapped backend's own idea of an address is ignored: the device acks, serves 8266 and
 * talks MQTT from lwIP's netif, so get_ip/get_mac must describe that netif. */
#include <string.h>

#include "sc_lwip.h"

static sc_err_t st_join(void *ctx, const uint8_t *ssid, size_t ssid_len, const uint8_t *password,
                        size_t password_len, const uint8_t *bssid)
{
    sc_lwip_station_t *s = ctx;
    if (s->linked) {
        sc_lwip_link_down();
        s->linked = false;
    }
    s->dhcp_failed = false;
    return s->inner.join(s->inner.ctx, ssid, ssid_len, password, password_len, bssid);
}

static sc_sta_status_t st_status(void *ctx, sc_sta_reason_t *reason)
{
    sc_lwip_station_t *s = ctx;
    if (s->dhcp_failed) {
        if (reason)
            *reason = SC_STA_REASON_DHCP;
        return SC_STA_FAILED;
    }
    sc_sta_status_t st = s->inner.status(s->inner.ctx, reason);
    if (st != SC_STA_GOT_IP)
        return st;
    /* associated: now the netif gets its address */
    if (!s->linked) {
        sc_lwip_link_up();
        s->linked = true;
    }
    uint8_t ip[4];
    if (sc_lwip_ip(ip))
        return SC_STA_GOT_IP;
    if (sc_lwip_ip_failed()) {
        /* associated, but no server gave an address: the link is given up as after a failed
         * association (an address-less netif held up by nobody; the log soft-AP raised for this
         * failure gets it), and the failure stays until the next join */
        sc_lwip_link_down();
        s->linked = false;
        s->dhcp_failed = true;
        if (reason)
            *reason = SC_STA_REASON_DHCP;
        return SC_STA_FAILED;
    }
    return SC_STA_CONNECTING;
}

static sc_err_t st_get_ip(void *ctx, uint8_t ip[4])
{
    (void)ctx;
    return sc_lwip_ip(ip) ? SC_OK : SC_ERR_STATE;
}

static sc_err_t st_get_mac(void *ctx, uint8_t mac[SC_MAC_LEN])
{
    (void)ctx;
    sc_lwip_mac(mac);
    return SC_OK;
}

static sc_err_t st_leave(void *ctx)
{
    sc_lwip_station_t *s = ctx;
    s->dhcp_failed = false;
    if (s->linked) {
        sc_lwip_link_down();
        s->linked = false;
    }
    return s->inner.leave ? s->inner.leave(s->inner.ctx) : SC_OK;
}

void sc_lwip_station_wrap(sc_lwip_station_t *s, const sc_hal_station_t *inner, sc_hal_station_t *hal)
{
    memset(s, 0, sizeof *s);
    s->inner = *inner;
    memset(hal, 0, sizeof *hal);
    hal->ctx = s;
    hal->join = st_join;
    hal->status = st_status;
    hal->get_ip = st_get_ip;
    hal->get_mac = st_get_mac;
    hal->leave = st_leave;
}
