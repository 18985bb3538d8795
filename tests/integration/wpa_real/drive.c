/* SPDX-License-Identifier: Apache-2.0 */
/* Built for tests/integration/device_wpa_real.sh: drives the wpa: station backend
 * (ports/posix/station_wpa.c, through the station HAL the device uses) against a real
 * wpa_supplicant, one join per run, so the test can try many hostile SSIDs and passwords
 * without a whole ESP-TOUCH provisioning for each.
 *
 *   wpa_real_drive CTRL_SOCKET SSID_HEX [--bssid MAC] [--save] [--keep] [--wait-ms N]
 *
 * The password comes hex-encoded on stdin (one line, empty = open network), never in argv.
 * Without --keep it polls the station until it joined or failed (at most --wait-ms, default
 * 5000), prints "joined A.B.C.D" or "failed REASON" and closes the station as the device does.
 * --keep prints "pending" right after the join request and exits without closing, so the
 * network stays in wpa_supplicant for the test to look at (a WPA-PSK network cannot complete
 * on the wired driver). The station's log lines go to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_posix.h"
#include "sc_posix_netif.h"
#include "sc_posix_station.h"

static void log_line(void *ctx, sc_log_level_t level, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%d %s\n", (int)level, line);
}

static int usage(void)
{
    fprintf(stderr, "usage: wpa_real_drive CTRL_SOCKET SSID_HEX [--bssid MAC] [--save] [--keep] [--wait-ms N] "
                    "<PASSWORD_HEX\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    uint8_t ssid[33], pwd[65], bssid[SC_MAC_LEN];
    int ssid_len = sc_posix_parse_hex(argv[2], ssid, 32);
    bool save = false, keep = false, have_bssid = false;
    long wait_ms = 5000;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--save"))
            save = true;
        else if (!strcmp(argv[i], "--keep"))
            keep = true;
        else if (!strcmp(argv[i], "--bssid") && i + 1 < argc && sc_posix_parse_mac(argv[i + 1], bssid) == SC_OK) {
            have_bssid = true;
            i++;
        } else if (!strcmp(argv[i], "--wait-ms") && i + 1 < argc)
            wait_ms = atol(argv[++i]);
        else
            return usage();
    }
    char line[160] = "";
    if (!fgets(line, sizeof line, stdin))
        line[0] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    int pwd_len = line[0] ? sc_posix_parse_hex(line, pwd, 64) : 0;
    memset(line, 0, sizeof line);
    if (ssid_len < 1 || pwd_len < 0)
        return usage();

    sc_hal_sys_t sys;
    sc_posix_sys_init(&sys);
    sys.log = log_line;
    sc_posix_station_t st;
    sc_hal_station_t h;
    char spec[128], err[200];
    snprintf(spec, sizeof spec, "wpa:%s", argv[1]);
    if (sc_posix_station_open(&st, spec, NULL, &sys, &h, err, sizeof err) != SC_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    st.wpa_save = save;
    st.wpa_timeout_ms = (uint32_t)wait_ms;
    sc_err_t e = h.join(h.ctx, ssid, (size_t)ssid_len, pwd, (size_t)pwd_len, have_bssid ? bssid : NULL);
    memset(pwd, 0, sizeof pwd);
    if (e != SC_OK) {
        printf("refused %d\n", (int)e);
        sc_posix_station_close(&st);
        return 1;
    }
    if (keep) {
        printf("pending\n");
        return 0; /* no close: the network stays */
    }
    sc_sta_reason_t why = SC_STA_REASON_NONE;
    sc_sta_status_t s;
    while ((s = h.status(h.ctx, &why)) == SC_STA_CONNECTING)
        nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000L }, NULL);
    uint8_t ip[4];
    if (s == SC_STA_GOT_IP && h.get_ip(h.ctx, ip) == SC_OK)
        printf("joined %u.%u.%u.%u\n", ip[0], ip[1], ip[2], ip[3]);
    else
        printf("failed %d\n", (int)why);
    sc_posix_station_close(&st);
    return 0;
}
