/* SPDX-License-Identifier: Apache-2.0 */
/* Station HAL backends, chosen by a spec string (`--join SPEC`):
 *   sim:SSID:PASSWORD[:ADDR] a simulated AP accepting only those credentials (`\:` and `\\`
 *                           escape a colon or backslash inside SSID/PASSWORD)
 *   exec:SCRIPT             runs SCRIPT with SSID/PASSWORD/BSSID in its environment; exit 0 = joined
 *   wpa:CTRL_SOCKET         drives wpa_supplicant through its control socket
 * The address the device "has" after the join comes from the interface (`--iface`), from the
 * sim spec's IP, or from wpa_supplicant's STATUS. Secrets are never logged and not kept after
 * they have been handed on. */
#ifndef SC_POSIX_STATION_H
#define SC_POSIX_STATION_H

#include <net/if.h>
#include <sys/types.h>

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SC_POSIX_STA_SIM = 0, SC_POSIX_STA_EXEC, SC_POSIX_STA_WPA } sc_posix_sta_kind_t;

typedef struct {
    sc_posix_sta_kind_t kind;
    const sc_hal_sys_t *sys;          /* clock (the device's clock), randomness, log */
    char iface[IF_NAMESIZE];          /* may be empty */
    uint8_t mac[SC_MAC_LEN];
    bool mac_set;
    sc_sta_status_t status;
    sc_sta_reason_t reason;
    uint8_t ip[4];
    uint32_t started_ms;

    /* sim */
    uint8_t sim_ssid[32];
    size_t sim_ssid_len;
    uint8_t sim_pwd[64];
    size_t sim_pwd_len;
    uint8_t sim_ip[4];
    bool sim_ip_set;
    uint8_t sim_bssid[SC_MAC_LEN];
    uint32_t sim_delay_ms;            /* 0 = random 1..3 s (as a real join takes) */
    uint32_t sim_due_ms;
    sc_sta_status_t sim_outcome;
    sc_sta_reason_t sim_reason;

    /* exec */
    char script[256];
    pid_t pid;                        /* 0 = none running */
    uint32_t exec_timeout_ms;         /* default 60 s */
    uint32_t ip_wait_ms;              /* after exit 0: wait this long for --iface to get an address */
    uint32_t ip_wait_from;
    bool waiting_ip;

    /* wpa */
    char ctrl_path[108];
    int sock;
    int netid;                        /* -1 = none added */
    uint32_t wpa_timeout_ms;          /* default 30 s */
    uint32_t last_poll_ms;
    bool seen_4way, seen_assoc, seen_completed;
    int drops_after_4way;
    bool wpa_save;                    /* once joined: SAVE_CONFIG, so the network outlives a
                                       * restart of wpa_supplicant (it needs update_config=1) */
    uint32_t wpa_save_ms;             /* how long SAVE_CONFIG may take (default 5 s) */
    bool wpa_unsaveable;              /* this SSID (or WEP key) would not read back from the saved
                                       * file (id_str "smartcfg-nosave") */
    bool wpa_wep;                     /* joined with a WEP key (a 5-character password) */
    int wpa_enabled[32];              /* the networks enabled before SELECT_NETWORK disabled */
    int wpa_nenabled;                 /* them, enabled again once joined or withdrawn */
    bool wpa_restored;                /* all of them listed and enabled again (else no SAVE_CONFIG) */
} sc_posix_station_t;

/* Parses spec and fills the HAL table. iface may be NULL/empty. errbuf gets a clear message
 * (never containing the password) on failure. */
sc_err_t sc_posix_station_open(sc_posix_station_t *st, const char *spec, const char *iface,
                               const sc_hal_sys_t *sys, sc_hal_station_t *hal, char *errbuf, size_t errlen);
void sc_posix_station_close(sc_posix_station_t *st);
/* Overrides the MAC get_mac reports (default: the interface's, else a fake derived from it). */
void sc_posix_station_set_mac(sc_posix_station_t *st, const uint8_t mac[SC_MAC_LEN]);

/* Backend entry points (station_sim.c, station_exec.c, station_wpa.c). */
sc_err_t sc_posix_sta_sim_parse(sc_posix_station_t *st, const char *args, char *errbuf, size_t errlen);
sc_err_t sc_posix_sta_sim_join(sc_posix_station_t *st, const uint8_t *ssid, size_t ssid_len, const uint8_t *pwd,
                               size_t pwd_len, const uint8_t *bssid);
void sc_posix_sta_sim_poll(sc_posix_station_t *st);
sc_err_t sc_posix_sta_exec_join(sc_posix_station_t *st, const uint8_t *ssid, size_t ssid_len, const uint8_t *pwd,
                                size_t pwd_len, const uint8_t *bssid);
void sc_posix_sta_exec_poll(sc_posix_station_t *st);
void sc_posix_sta_exec_leave(sc_posix_station_t *st);
sc_err_t sc_posix_sta_wpa_open(sc_posix_station_t *st, char *errbuf, size_t errlen);
sc_err_t sc_posix_sta_wpa_join(sc_posix_station_t *st, const uint8_t *ssid, size_t ssid_len, const uint8_t *pwd,
                               size_t pwd_len, const uint8_t *bssid);
void sc_posix_sta_wpa_poll(sc_posix_station_t *st);
void sc_posix_sta_wpa_leave(sc_posix_station_t *st);
void sc_posix_sta_wpa_close(sc_posix_station_t *st);

/* Shared by the backends: log through the sys sink, and "got an IP" from a source. */
void sc_posix_sta_log(sc_posix_station_t *st, sc_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint32_t sc_posix_sta_now(const sc_posix_station_t *st);
void sc_posix_sta_finish(sc_posix_station_t *st, sc_sta_status_t status, sc_sta_reason_t reason);

#ifdef __cplusplus
}
#endif
#endif
