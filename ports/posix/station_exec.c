/* SPDX-License-Identifier: Apache-2.0 */
/* Join through a user script: the portable hook for whatever a system uses (nmcli, iwd,
 * ifupdown, a vendor tool). Credentials travel in the environment, never in argv, because
 * argv is world-readable in /proc. Exit status: 0 joined, 2 wrong password, 3 AP not found,
 * 4 association rejected, 5 no IP (DHCP), anything else = other failure. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sc_posix_netif.h"
#include "sc_posix_station.h"

extern char **environ;

static char *env_bytes(const char *name, const uint8_t *v, size_t n)
{
    /* Textual form for scripts; an embedded NUL ends it (the _HEX form is exact). */
    size_t nl = strlen(name);
    char *s = malloc(nl + 1 + n + 1);
    if (!s)
        return NULL;
    memcpy(s, name, nl);
    s[nl] = '=';
    memcpy(s + nl + 1, v, n);
    s[nl + 1 + n] = '\0';
    return s;
}

static char *env_hex(const char *name, const uint8_t *v, size_t n, char sep)
{
    size_t nl = strlen(name);
    char *s = malloc(nl + 1 + 3 * n + 1);
    if (!s)
        return NULL;
    memcpy(s, name, nl);
    char *o = s + nl;
    *o++ = '=';
    for (size_t i = 0; i < n; i++) {
        if (sep && i)
            *o++ = sep;
        o += sprintf(o, "%02x", v[i]);
    }
    *o = '\0';
    return s;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}

static bool ours(const char *e)
{
    static const char *const names[] = { "SSID=", "SSID_HEX=", "PASSWORD=", "PASSWORD_HEX=", "BSSID=", "IFACE=" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strncmp(e, names[i], strlen(names[i])))
            return true;
    return false;
}

sc_err_t sc_posix_sta_exec_join(sc_posix_station_t *st, const uint8_t *ssid, size_t ssid_len, const uint8_t *pwd,
                                size_t pwd_len, const uint8_t *bssid)
{
    static const uint8_t zero[SC_MAC_LEN];
    size_t nenv = 0;
    while (environ && environ[nenv])
        nenv++;
    char **envp = calloc(nenv + 7, sizeof *envp);
    if (!envp)
        return SC_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (!ours(environ[i]))
            envp[k++] = environ[i];
    char *own[6] = {
        env_bytes("SSID", ssid, ssid_len),
        env_hex("SSID_HEX", ssid, ssid_len, 0),
        env_bytes("PASSWORD", pwd ? pwd : (const uint8_t *)"", pwd_len),
        env_hex("PASSWORD_HEX", pwd ? pwd : (const uint8_t *)"", pwd_len, 0),
        env_hex("BSSID", bssid && memcmp(bssid, zero, SC_MAC_LEN) ? bssid : zero,
                bssid && memcmp(bssid, zero, SC_MAC_LEN) ? SC_MAC_LEN : 0, ':'),
        env_bytes("IFACE", (const uint8_t *)st->iface, strlen(st->iface)),
    };
    sc_err_t err = SC_OK;
    for (int i = 0; i < 6; i++) {
        if (!own[i])
            err = SC_ERR_NOMEM;
        envp[k++] = own[i];
    }
    envp[k] = NULL;

    pid_t pid = 0;
    if (err == SC_OK) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        /* stdout goes to our stderr: the device's stdout carries JSON events only. */
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, 2, 1);
        /* Own process group, so a timeout also stops whatever the script started. */
        posix_spawnattr_setpgroup(&at, 0);
        sigset_t none;
        sigemptyset(&none);
        posix_spawnattr_setsigmask(&at, &none);
        sigset_t dfl;
        sigemptyset(&dfl);
        sigaddset(&dfl, SIGINT);
        sigaddset(&dfl, SIGTERM);
        sigaddset(&dfl, SIGPIPE);
        posix_spawnattr_setsigdefault(&at, &dfl);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        char *argv[] = { st->script, NULL };
        int r = posix_spawn(&pid, st->script, &fa, &at, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        if (r != 0) {
            sc_posix_sta_log(st, SC_LOG_ERROR, "station(exec): cannot run %s: %s", st->script, strerror(r));
            err = SC_ERR_IO;
        }
    }
    for (int i = 0; i < 6; i++)
        wipe_free(own[i]);
    free(envp);
    if (err != SC_OK)
        return err;
    st->pid = pid;
    st->waiting_ip = false;
    return SC_OK;
}

static void kill_group(sc_posix_station_t *st)
{
    if (st->pid <= 0)
        return;
    kill(-st->pid, SIGTERM);
    kill(st->pid, SIGTERM);
    for (int i = 0; i < 50; i++) { /* up to 0.5 s to exit cleanly, then force */
        if (waitpid(st->pid, NULL, WNOHANG) == st->pid) {
            st->pid = 0;
            return;
        }
        usleep(10000);
    }
    kill(-st->pid, SIGKILL);
    kill(st->pid, SIGKILL);
    waitpid(st->pid, NULL, 0);
    st->pid = 0;
}

void sc_posix_sta_exec_poll(sc_posix_station_t *st)
{
    uint32_t now = sc_posix_sta_now(st);
    if (st->waiting_ip) {
        if (sc_posix_netif_ipv4(st->iface, st->ip) == SC_OK)
            sc_posix_sta_finish(st, SC_STA_GOT_IP, SC_STA_REASON_NONE);
        else if (now - st->ip_wait_from >= st->ip_wait_ms)
            sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_DHCP);
        return;
    }
    if (st->pid <= 0)
        return;
    int ws = 0;
    pid_t r = waitpid(st->pid, &ws, WNOHANG);
    if (r == 0) {
        if (now - st->started_ms >= st->exec_timeout_ms) {
            sc_posix_sta_log(st, SC_LOG_WARN, "station(exec): script still running after %u ms; stopping it",
                             st->exec_timeout_ms);
            kill_group(st);
            sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_OTHER);
        }
        return;
    }
    st->pid = 0;
    if (r < 0 || !WIFEXITED(ws)) {
        sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_OTHER);
        return;
    }
    switch (WEXITSTATUS(ws)) {
    case 0:
        st->waiting_ip = true;
        st->ip_wait_from = now;
        sc_posix_sta_exec_poll(st);
        return;
    case 2: sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_WRONG_PASSWORD); return;
    case 3: sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_NO_AP); return;
    case 4: sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_ASSOC); return;
    case 5: sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_DHCP); return;
    default:
        sc_posix_sta_log(st, SC_LOG_WARN, "station(exec): script exited with status %d", WEXITSTATUS(ws));
        sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_OTHER);
        return;
    }
}

void sc_posix_sta_exec_leave(sc_posix_station_t *st)
{
    kill_group(st);
    st->waiting_ip = false;
}
