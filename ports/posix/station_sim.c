/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated AP: accepts only the configured SSID and password, after a delay like a real
 * join (scan + auth + 4-way handshake + DHCP), so that the device's JOINING state and its
 * timeouts are exercised the way they are on hardware. */
#include <stdio.h>
#include <string.h>

#include "sc_posix_netif.h"
#include "sc_posix_station.h"

/* Splits at unescaped ':'; "\:" and "\\" are literal. Returns the number of fields. */
static int split_fields(const char *s, char out[3][80], size_t outlen[3], char *errbuf, size_t errlen)
{
    int nf = 0;
    size_t o = 0;
    for (const char *p = s;; p++) {
        if (*p == '\0' || *p == ':') {
            outlen[nf] = o;
            out[nf][o] = '\0';
            nf++;
            if (*p == '\0')
                break;
            if (nf == 3) {
                snprintf(errbuf, errlen, "sim: too many ':' fields (escape a ':' in the SSID or password as \\:)");
                return -1;
            }
            o = 0;
            continue;
        }
        char c = *p;
        if (c == '\\' && (p[1] == ':' || p[1] == '\\'))
            c = *++p;
        if (o >= 79) {
            snprintf(errbuf, errlen, "sim: field %d too long", nf + 1);
            return -1;
        }
        out[nf][o++] = c;
    }
    return nf;
}

sc_err_t sc_posix_sta_sim_parse(sc_posix_station_t *st, const char *args, char *errbuf, size_t errlen)
{
    char f[3][80];
    size_t n[3];
    int nf = split_fields(args, f, n, errbuf, errlen);
    if (nf < 0)
        return SC_ERR_FORMAT;
    if (nf < 2) {
        snprintf(errbuf, errlen, "sim: want sim:SSID:PASSWORD[:ADDR]");
        return SC_ERR_FORMAT;
    }
    if (n[0] < 1 || n[0] > sizeof st->sim_ssid) {
        snprintf(errbuf, errlen, "sim: SSID must be 1..32 bytes");
        return SC_ERR_RANGE;
    }
    if (n[1] > sizeof st->sim_pwd) {
        snprintf(errbuf, errlen, "sim: password must be at most 64 bytes");
        return SC_ERR_RANGE;
    }
    memcpy(st->sim_ssid, f[0], n[0]);
    st->sim_ssid_len = n[0];
    memcpy(st->sim_pwd, f[1], n[1]);
    st->sim_pwd_len = n[1];
    memset(f[1], 0, sizeof f[1]);
    if (nf == 3) {
        if (sc_posix_parse_ipv4(f[2], st->sim_ip) != SC_OK) {
            snprintf(errbuf, errlen, "sim: '%s' is not an IPv4 address", f[2]);
            return SC_ERR_FORMAT;
        }
        st->sim_ip_set = true;
    } else if (!st->iface[0]) {
        snprintf(errbuf, errlen, "sim: give the device's address (sim:SSID:PASSWORD:ADDR) or --iface");
        return SC_ERR_INVAL;
    }
    memcpy(st->sim_bssid, sc_posix_default_bssid, SC_MAC_LEN);
    return SC_OK;
}

static uint32_t random_between(sc_posix_station_t *st, uint32_t lo, uint32_t hi)
{
    uint32_t r = 0;
    if (st->sys && st->sys->random)
        st->sys->random(st->sys->ctx, &r, sizeof r);
    return lo + r % (hi - lo + 1);
}

sc_err_t sc_posix_sta_sim_join(sc_posix_station_t *st, const uint8_t *ssid, size_t ssid_len, const uint8_t *pwd,
                               size_t pwd_len, const uint8_t *bssid)
{
    static const uint8_t zero[SC_MAC_LEN];
    /* The outcome is decided now so the password need not be kept. */
    if (ssid_len != st->sim_ssid_len || memcmp(ssid, st->sim_ssid, ssid_len) != 0) {
        st->sim_outcome = SC_STA_FAILED;
        st->sim_reason = SC_STA_REASON_NO_AP;
    } else if (pwd_len != st->sim_pwd_len || (pwd_len && memcmp(pwd, st->sim_pwd, pwd_len) != 0)) {
        st->sim_outcome = SC_STA_FAILED;
        st->sim_reason = SC_STA_REASON_WRONG_PASSWORD;
    } else {
        st->sim_outcome = SC_STA_GOT_IP;
        st->sim_reason = SC_STA_REASON_NONE;
    }
    /* A phone on another AP of the same network sends that AP's BSSID; devices commonly join
     * by SSID, so a mismatch is worth a note but not a failure. */
    if (bssid && memcmp(bssid, zero, SC_MAC_LEN) && memcmp(bssid, st->sim_bssid, SC_MAC_LEN))
        sc_posix_sta_log(st, SC_LOG_DEBUG,
                         "station(sim): BSSID %02x:%02x:%02x:%02x:%02x:%02x is not the simulated AP's; joining by SSID",
                         bssid[0], bssid[1], bssid[2], bssid[3], bssid[4], bssid[5]);
    uint32_t delay = st->sim_delay_ms;
    if (delay == 0) {
        if (st->sim_reason == SC_STA_REASON_WRONG_PASSWORD)
            delay = random_between(st, 2000, 3000); /* the 4-way handshake times out */
        else if (st->sim_reason == SC_STA_REASON_NO_AP)
            delay = random_between(st, 1500, 2500); /* a full scan finds nothing */
        else
            delay = random_between(st, 1000, 2000);
    }
    st->sim_due_ms = st->started_ms + delay;
    return SC_OK;
}

void sc_posix_sta_sim_poll(sc_posix_station_t *st)
{
    if (!sc_ms_reached(sc_posix_sta_now(st), st->sim_due_ms))
        return;
    if (st->sim_outcome != SC_STA_GOT_IP) {
        sc_posix_sta_finish(st, SC_STA_FAILED, st->sim_reason);
        return;
    }
    if (st->sim_ip_set)
        memcpy(st->ip, st->sim_ip, 4);
    else if (sc_posix_netif_ipv4(st->iface, st->ip) != SC_OK) {
        sc_posix_sta_log(st, SC_LOG_WARN, "station(sim): %s has no IPv4 address to give the device", st->iface);
        sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_DHCP);
        return;
    }
    sc_posix_sta_finish(st, SC_STA_GOT_IP, SC_STA_REASON_NONE);
}
