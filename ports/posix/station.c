/* SPDX-License-Identifier: Apache-2.0 */
/* Station HAL: spec parsing and what every backend shares (MAC, IP, status bookkeeping). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sc_posix.h"
#include "sc_posix_netif.h"
#include "sc_posix_station.h"

void sc_posix_sta_log(sc_posix_station_t *st, sc_log_level_t level, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (st->sys && st->sys->log)
        st->sys->log(st->sys->ctx, level, line);
}

uint32_t sc_posix_sta_now(const sc_posix_station_t *st)
{
    if (st->sys && st->sys->now_ms)
        return st->sys->now_ms(st->sys->ctx);
    return sc_posix_now_ms();
}

static const char *reason_name(sc_sta_reason_t r)
{
    switch (r) {
    case SC_STA_REASON_NONE: return "none";
    case SC_STA_REASON_WRONG_PASSWORD: return "wrong password";
    case SC_STA_REASON_NO_AP: return "AP not found";
    case SC_STA_REASON_ASSOC: return "association rejected";
    case SC_STA_REASON_DHCP: return "no IP address";
    default: return "other";
    }
}

void sc_posix_sta_finish(sc_posix_station_t *st, sc_sta_status_t status, sc_sta_reason_t reason)
{
    st->status = status;
    st->reason = status == SC_STA_FAILED ? reason : SC_STA_REASON_NONE;
    if (status == SC_STA_GOT_IP)
        sc_posix_sta_log(st, SC_LOG_INFO, "station: joined, ip %u.%u.%u.%u (%u ms)", st->ip[0], st->ip[1], st->ip[2],
                         st->ip[3], sc_posix_sta_now(st) - st->started_ms);
    else if (status == SC_STA_FAILED)
        sc_posix_sta_log(st, SC_LOG_WARN, "station: join failed: %s (%u ms)", reason_name(reason),
                         sc_posix_sta_now(st) - st->started_ms);
}

static sc_err_t sta_join(void *ctx, const uint8_t *ssid, size_t ssid_len, const uint8_t *password,
                         size_t password_len, const uint8_t *bssid)
{
    sc_posix_station_t *st = ctx;
    if (!ssid || ssid_len == 0 || ssid_len > 32 || password_len > 64 || (!password && password_len))
        return SC_ERR_INVAL;
    if (st->status == SC_STA_CONNECTING)
        return SC_ERR_BUSY;
    memset(st->ip, 0, sizeof st->ip);
    st->status = SC_STA_CONNECTING;
    st->reason = SC_STA_REASON_NONE;
    st->started_ms = sc_posix_sta_now(st);
    /* SSIDs are not secret but may hold any byte: print them escaped. */
    char shown[32 * 4 + 1];
    size_t o = 0;
    for (size_t i = 0; i < ssid_len; i++) {
        uint8_t c = ssid[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            shown[o++] = (char)c;
        else
            o += (size_t)snprintf(shown + o, sizeof shown - o, "\\x%02x", c);
    }
    shown[o] = '\0';
    sc_posix_sta_log(st, SC_LOG_INFO, "station: joining \"%s\" (password %zu bytes, not shown)", shown, password_len);
    sc_err_t err;
    switch (st->kind) {
    case SC_POSIX_STA_SIM: err = sc_posix_sta_sim_join(st, ssid, ssid_len, password, password_len, bssid); break;
    case SC_POSIX_STA_EXEC: err = sc_posix_sta_exec_join(st, ssid, ssid_len, password, password_len, bssid); break;
    case SC_POSIX_STA_WPA: err = sc_posix_sta_wpa_join(st, ssid, ssid_len, password, password_len, bssid); break;
    default: err = SC_ERR_UNSUPPORTED;
    }
    if (err != SC_OK && st->status == SC_STA_CONNECTING)
        sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_OTHER);
    return err;
}

static sc_sta_status_t sta_status(void *ctx, sc_sta_reason_t *reason)
{
    sc_posix_station_t *st = ctx;
    if (st->status == SC_STA_CONNECTING) {
        switch (st->kind) {
        case SC_POSIX_STA_SIM: sc_posix_sta_sim_poll(st); break;
        case SC_POSIX_STA_EXEC: sc_posix_sta_exec_poll(st); break;
        case SC_POSIX_STA_WPA: sc_posix_sta_wpa_poll(st); break;
        }
    }
    if (reason)
        *reason = st->reason;
    return st->status;
}

static sc_err_t sta_get_ip(void *ctx, uint8_t ip[4])
{
    sc_posix_station_t *st = ctx;
    if (st->status != SC_STA_GOT_IP)
        return SC_ERR_STATE;
    memcpy(ip, st->ip, 4);
    return SC_OK;
}

static sc_err_t sta_get_mac(void *ctx, uint8_t mac[SC_MAC_LEN])
{
    sc_posix_station_t *st = ctx;
    if (st->mac_set) {
        memcpy(mac, st->mac, SC_MAC_LEN);
        return SC_OK;
    }
    if (st->iface[0] && sc_posix_netif_mac(st->iface, mac) == SC_OK)
        return SC_OK;
    sc_posix_fake_mac(st->iface[0] ? st->iface : "smartcfg", mac);
    return SC_OK;
}

static sc_err_t sta_leave(void *ctx)
{
    sc_posix_station_t *st = ctx;
    if (st->kind == SC_POSIX_STA_EXEC)
        sc_posix_sta_exec_leave(st);
    else if (st->kind == SC_POSIX_STA_WPA)
        sc_posix_sta_wpa_leave(st);
    st->status = SC_STA_IDLE;
    st->reason = SC_STA_REASON_NONE;
    memset(st->ip, 0, sizeof st->ip);
    return SC_OK;
}

sc_err_t sc_posix_station_open(sc_posix_station_t *st, const char *spec, const char *iface,
                               const sc_hal_sys_t *sys, sc_hal_station_t *hal, char *errbuf, size_t errlen)
{
    memset(st, 0, sizeof *st);
    st->sys = sys;
    st->sock = -1;
    st->netid = -1;
    st->exec_timeout_ms = 60000;
    st->ip_wait_ms = 15000;
    st->wpa_timeout_ms = 30000;
    st->wpa_save_ms = 5000;
    if (iface && iface[0]) {
        if (strlen(iface) >= sizeof st->iface) {
            snprintf(errbuf, errlen, "interface name too long");
            return SC_ERR_RANGE;
        }
        strcpy(st->iface, iface);
    }
    if (!spec || !spec[0]) {
        snprintf(errbuf, errlen, "--join needs a spec: sim:SSID:PASSWORD[:ADDR], exec:SCRIPT or wpa:SOCKET");
        return SC_ERR_INVAL;
    }
    sc_err_t err;
    if (!strncmp(spec, "sim:", 4)) {
        st->kind = SC_POSIX_STA_SIM;
        err = sc_posix_sta_sim_parse(st, spec + 4, errbuf, errlen);
    } else if (!strncmp(spec, "exec:", 5)) {
        st->kind = SC_POSIX_STA_EXEC;
        const char *path = spec + 5;
        if (!path[0] || strlen(path) >= sizeof st->script) {
            snprintf(errbuf, errlen, "exec: needs a script path (at most %zu characters)", sizeof st->script - 1);
            return SC_ERR_INVAL;
        }
        strcpy(st->script, path);
        err = SC_OK;
        if (!st->iface[0]) {
            snprintf(errbuf, errlen, "exec: needs --iface (the interface whose address the device gets)");
            err = SC_ERR_INVAL;
        }
    } else if (!strncmp(spec, "wpa:", 4)) {
        st->kind = SC_POSIX_STA_WPA;
        const char *path = spec + 4;
        if (!path[0] || strlen(path) >= sizeof st->ctrl_path) {
            snprintf(errbuf, errlen, "wpa: needs a control socket path (at most %zu characters)",
                     sizeof st->ctrl_path - 1);
            return SC_ERR_INVAL;
        }
        strcpy(st->ctrl_path, path);
        err = sc_posix_sta_wpa_open(st, errbuf, errlen);
    } else {
        /* the kind given, never what follows its ':' (a sim: spec holds the password) */
        snprintf(errbuf, errlen, "unknown --join backend '%.*s' (want sim:, exec: or wpa:)",
                 (int)(strcspn(spec, ":") < 40 ? strcspn(spec, ":") : 40), spec);
        return SC_ERR_INVAL;
    }
    if (err != SC_OK)
        return err;
    if (hal) {
        hal->ctx = st;
        hal->join = sta_join;
        hal->status = sta_status;
        hal->get_ip = sta_get_ip;
        hal->get_mac = sta_get_mac;
        hal->leave = sta_leave;
    }
    return SC_OK;
}

void sc_posix_station_close(sc_posix_station_t *st)
{
    if (st->kind == SC_POSIX_STA_EXEC)
        sc_posix_sta_exec_leave(st);
    else if (st->kind == SC_POSIX_STA_WPA)
        sc_posix_sta_wpa_close(st);
    /* The sim AP's password is configuration, but there is no reason to leave it in memory. */
    memset(st->sim_pwd, 0, sizeof st->sim_pwd);
}

void sc_posix_station_set_mac(sc_posix_station_t *st, const uint8_t mac[SC_MAC_LEN])
{
    memcpy(st->mac, mac, SC_MAC_LEN);
    st->mac_set = true;
}
