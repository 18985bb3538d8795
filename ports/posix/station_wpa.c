/* SPDX-License-Identifier: Apache-2.0 */
/* Join through wpa_supplicant's control interface (a Unix datagram socket, one command per
 * datagram, one reply each). The SSID is sent hex-encoded and the passphrase is turned into
 * the 64-hex-digit PSK here (PBKDF2-HMAC-SHA1, 4096 rounds, SSID as salt), so no byte of
 * either ever needs quoting or escaping on the control channel, and the passphrase itself
 * never reaches wpa_supplicant's memory or its debug log. (A WEP key, a 5-character password,
 * is the key itself: sent in hex too, held by wpa_supplicant, shown as [REMOVED] in its log.) */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#include "sc_posix_netif.h"
#include "sc_posix_station.h"

#define CMD_TIMEOUT_MS 1000
#define STATUS_EVERY_MS 200
#define ID_STR "smartcfg" /* the id_str of the networks smartcfg adds */
/* ... and of those it added that wpa_supplicant's SAVE_CONFIG would write so that they read
 * back as another network or not at all (misread_when_saved): wpa_supplicant 2.10 has no
 * field that keeps a network out of its saved file, so a product that saves by itself can
 * tell them by this (wpa_cli's action script gets it as WPA_ID_STR). */
#define ID_STR_NOSAVE "smartcfg-nosave"

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

/* A client socket connected to wpa_supplicant's control socket, or -1 (errbuf says why). */
static int wpa_connect(const char *path, char *errbuf, size_t errlen)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(errbuf, errlen, "wpa: socket: %s", strerror(errno));
        return -1;
    }
    /* Autobind gives this client an abstract address wpa_supplicant can reply to, with no
     * file to clean up afterwards (and none needed in a service whose /tmp is private and
     * whose /run is read-only). */
    struct sockaddr_un local = { .sun_family = AF_UNIX };
    if (bind(fd, (struct sockaddr *)&local, sizeof(sa_family_t)) < 0) {
        snprintf(errbuf, errlen, "wpa: bind: %s", strerror(errno));
        close(fd);
        return -1;
    }
    struct sockaddr_un peer = { .sun_family = AF_UNIX };
    memcpy(peer.sun_path, path, strlen(path));
    if (connect(fd, (struct sockaddr *)&peer, sizeof peer) < 0) {
        snprintf(errbuf, errlen, "wpa: cannot reach wpa_supplicant at %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int wpa_cmd(sc_posix_station_t *st, const char *cmd, char *reply, size_t cap);

sc_err_t sc_posix_sta_wpa_open(sc_posix_station_t *st, char *errbuf, size_t errlen)
{
    st->sock = wpa_connect(st->ctrl_path, errbuf, errlen);
    if (st->sock < 0)
        return SC_ERR_IO;
    /* A socket that connects is not yet one that answers: wpa_supplicant replies to this
     * client's abstract address, which exists only in this network namespace; from another
     * (a container, a service with its own namespace sharing the socket's directory) every
     * request is carried out and every reply lost. Found out here, before any request that
     * changes something, as a setup failure rather than a join that adds networks blind. */
    char reply[16];
    if (wpa_cmd(st, "PING", reply, sizeof reply) < 0 || strncmp(reply, "PONG", 4)) {
        snprintf(errbuf, errlen,
                 "wpa: wpa_supplicant at %s does not answer PING (hung, or in another network namespace, where "
                 "its replies to this process's abstract socket address cannot arrive)",
                 st->ctrl_path);
        if (st->sock >= 0)
            close(st->sock);
        st->sock = -1;
        return SC_ERR_IO;
    }
    return SC_OK;
}

/* One request/reply. wpa_supplicant answers each request on a socket with one datagram, in
 * order, and sends nothing else to a client that did not ATTACH; its replies carry no request
 * id. So every datagram on a socket whose every earlier request was answered is the answer to
 * the request just sent, and the only reply that could be taken for another's is a late one,
 * to a request that timed out. After such a timeout (or any failure) the socket is replaced
 * by a fresh one with a new address: the late reply goes to the old, closed address and is
 * lost, never read as the answer to a later request (a late "smartcfg" for one network taken
 * as the id_str of the next, a late "OK" of REMOVE_NETWORK taken as SAVE_CONFIG's).
 * Returns the reply length, -1 (no reply: failed or timed out). */
static int wpa_cmd_wait(sc_posix_station_t *st, const char *cmd, char *reply, size_t cap, int timeout_ms)
{
    reply[0] = '\0';
    ssize_t n = -1;
    if (st->sock >= 0 && send(st->sock, cmd, strlen(cmd), 0) >= 0) {
        struct pollfd p = { .fd = st->sock, .events = POLLIN };
        int r;
        do
            r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r > 0)
            n = recv(st->sock, reply, cap - 1, 0);
    }
    if (n < 0) {
        if (st->sock >= 0)
            close(st->sock);
        char why[160];
        st->sock = wpa_connect(st->ctrl_path, why, sizeof why);
        return -1;
    }
    reply[n] = '\0';
    return (int)n;
}

static int wpa_cmd(sc_posix_station_t *st, const char *cmd, char *reply, size_t cap)
{
    return wpa_cmd_wait(st, cmd, reply, cap, CMD_TIMEOUT_MS);
}

static bool reply_ok(const char *r)
{
    return !strncmp(r, "OK", 2);
}

static void hex(char *out, const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", v[i]);
    out[2 * n] = '\0';
}

static sc_err_t set_net_quiet(sc_posix_station_t *st, const char *field, const char *value)
{
    char cmd[256], reply[64];
    int n = snprintf(cmd, sizeof cmd, "SET_NETWORK %d %s %s", st->netid, field, value);
    int r = (n > 0 && (size_t)n < sizeof cmd) ? wpa_cmd(st, cmd, reply, sizeof reply) : -1;
    wipe(cmd, sizeof cmd);
    return r < 0 || !reply_ok(reply) ? SC_ERR_IO : SC_OK;
}

static sc_err_t set_net(sc_posix_station_t *st, const char *field, const char *value)
{
    sc_err_t err = set_net_quiet(st, field, value);
    if (err != SC_OK)
        sc_posix_sta_log(st, SC_LOG_ERROR, "station(wpa): SET_NETWORK %s refused", field);
    return err;
}

static sc_err_t derive_psk(const uint8_t *pwd, size_t pwd_len, const uint8_t *ssid, size_t ssid_len, uint8_t psk[32])
{
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    int r = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), 1);
    if (r == 0)
        r = mbedtls_pkcs5_pbkdf2_hmac(&md, pwd, pwd_len, ssid, ssid_len, 4096, 32, psk);
    mbedtls_md_free(&md);
    return r == 0 ? SC_OK : SC_ERR_IO;
}

static bool all_hex(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = v[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* What a password of the phone's can be to wpa_supplicant. WPA-PSK takes a passphrase of 8 to
 * 63 characters or 64 hex digits; anything else can never be one. A WEP key is 5 or 13
 * characters (or 10 or 26 hex digits), but only 5 is no passphrase too: the other three are
 * joined as WPA-PSK, never also offered as WEP keys (docs/device-linux.md: a same-SSID WEP AP
 * could then get the WPA passphrase used as a WEP key, which WEP gives away). */
typedef enum { KEY_OPEN, KEY_PASSPHRASE, KEY_PSK_HEX, KEY_WEP40, KEY_IMPOSSIBLE } key_kind_t;

static key_kind_t key_kind(const uint8_t *pwd, size_t n)
{
    if (n == 0)
        return KEY_OPEN;
    if (n == 64 && all_hex(pwd, n))
        return KEY_PSK_HEX;
    if (n >= 8 && n <= 63)
        return KEY_PASSPHRASE;
    if (n == 5)
        return KEY_WEP40;
    return KEY_IMPOSSIBLE;
}

/* SAVE_CONFIG writes an SSID of printable bytes as "text", unescaped, and wpa_supplicant
 * 2.10's reader cuts a line at a '#' that follows an even number of '"' on it (a comment).
 * So an SSID with a '#' after an odd number of its own '"' comes back from the file as
 * another one: 'a"#b' as 'a', '"#x' as an empty SSID, which matches any network (an open
 * one: any open AP); with text left after the cut ('"a#': 'ssid=""a') wpa_supplicant refuses
 * the whole file at its next start. Any other byte makes the whole SSID hex, which reads back
 * exactly (docs/device-linux.md: the rule checked against 2.10 for 1554 SSIDs). A WEP key is
 * written the same way (wep_key0="text"): cut short it is a key of a length WEP has not, and
 * the network is ignored when the file is read (with text after the cut, the file refused). */
static bool misread_when_saved(const uint8_t *ssid, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ssid[i] < 0x20 || ssid[i] > 0x7e)
            return false;
    bool odd = false;
    for (size_t i = 0; i < n; i++) {
        if (ssid[i] == '"')
            odd = !odd;
        else if (ssid[i] == '#' && odd)
            return true;
    }
    return false;
}

/* SELECT_NETWORK disables every other network, and SAVE_CONFIG wrote them so: after
 * --wpa-save the product's own networks (a fallback, a service network) came back disabled
 * for good, and after a join that failed every network stayed disabled, the last good one
 * too, leaving the device offline until wpa_supplicant restarted. The ones enabled before are
 * noted here and enabled again once the join worked (before SAVE_CONFIG; wpa_supplicant does
 * not leave the network it is connected to for them) or when it is withdrawn. */
static bool note_enabled(sc_posix_station_t *st)
{
    char list[4096];
    st->wpa_nenabled = 0;
    st->wpa_restored = false;
    if (wpa_cmd(st, "LIST_NETWORKS", list, sizeof list) < 0)
        return false;
    bool full = false;
    for (const char *p = strchr(list, '\n'); p && p[1];) { /* after the header line */
        p++;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        /* The flags are the last tab-separated field: an SSID's own tabs are escaped, its
         * "[DISABLED]" (any printable text) is not in that field. */
        const char *flags = p + len;
        while (flags > p && flags[-1] != '\t')
            flags--;
        char f[64];
        size_t fl = (size_t)(p + len - flags) < sizeof f - 1 ? (size_t)(p + len - flags) : sizeof f - 1;
        memcpy(f, flags, fl);
        f[fl] = '\0';
        const char *line = p;
        char *end;
        long id = strtol(line, &end, 10);
        p = eol;
        if (end == line || *end != '\t' || end >= flags || id < 0 || id > 100000 || id == st->netid ||
            strstr(f, "[DISABLED]"))
            continue;
        if (st->wpa_nenabled < (int)(sizeof st->wpa_enabled / sizeof *st->wpa_enabled))
            st->wpa_enabled[st->wpa_nenabled++] = (int)id;
        else
            full = true;
    }
    if (full)
        sc_posix_sta_log(st, SC_LOG_WARN, "station(wpa): more than %d networks enabled: the others stay disabled",
                         st->wpa_nenabled);
    st->wpa_restored = !full;
    return true;
}

/* wpa_restored stays true only when every network noted was enabled again (each answered):
 * SAVE_CONFIG after anything less would save the others disabled for good. */
static void restore_enabled(sc_posix_station_t *st)
{
    for (int i = 0; i < st->wpa_nenabled; i++) {
        char cmd[48], reply[32];
        snprintf(cmd, sizeof cmd, "ENABLE_NETWORK %d", st->wpa_enabled[i]);
        /* one an earlier provisioning's, removed since, answers FAIL */
        if (wpa_cmd(st, cmd, reply, sizeof reply) < 0) {
            st->wpa_restored = false;
            break;
        }
    }
    st->wpa_nenabled = 0;
}

sc_err_t sc_posix_sta_wpa_join(sc_posix_station_t *st, const uint8_t *ssid, size_t ssid_len, const uint8_t *pwd,
                               size_t pwd_len, const uint8_t *bssid)
{
    static const uint8_t zero[SC_MAC_LEN];
    char reply[64];
    key_kind_t kind = key_kind(pwd, pwd_len);
    if (kind == KEY_IMPOSSIBLE) {
        /* It used to be tried as a WPA passphrase (its PBKDF2 is a PSK like any other): a join
         * that could never work, ended by failed handshakes or the 30 s timeout. Nothing is
         * sent now: the network the device is on stays as it is. */
        sc_posix_sta_log(st, SC_LOG_ERROR,
                         "station(wpa): a password of %zu characters is neither a WPA passphrase (8 to 63 "
                         "characters, or 64 hex digits) nor a WEP key (5 characters): not joining",
                         pwd_len);
        sc_posix_sta_finish(st, SC_STA_FAILED, SC_STA_REASON_WRONG_PASSWORD);
        return SC_OK;
    }
    if (st->netid >= 0)
        sc_posix_sta_wpa_leave(st);
    if (wpa_cmd(st, "ADD_NETWORK", reply, sizeof reply) < 0) {
        sc_posix_sta_log(st, SC_LOG_ERROR, "station(wpa): no reply from wpa_supplicant");
        return SC_ERR_IO;
    }
    char *end;
    long id = strtol(reply, &end, 10);
    if (end == reply || id < 0 || id > 100000) {
        sc_posix_sta_log(st, SC_LOG_ERROR, "station(wpa): ADD_NETWORK failed");
        return SC_ERR_IO;
    }
    st->netid = (int)id;
    st->wpa_wep = kind == KEY_WEP40;
    st->wpa_unsaveable = misread_when_saved(ssid, ssid_len) || (kind == KEY_WEP40 && misread_when_saved(pwd, pwd_len));
    st->seen_4way = st->seen_assoc = st->seen_completed = false;
    st->drops_after_4way = 0;
    st->last_poll_ms = sc_posix_sta_now(st) - STATUS_EVERY_MS;

    char value[2 * 64 + 1];
    hex(value, ssid, ssid_len);
    sc_err_t err = set_net(st, "ssid", value);
    /* Probe for the SSID by name: an AP that does not broadcast it (a hidden SSID) answers only
     * such a probe, and the device cannot know which kind the phone's AP is (ESP-TOUCH does not
     * say). What it costs: the SSID in the device's probe requests, one more per channel. */
    if (err == SC_OK)
        err = set_net(st, "scan_ssid", "1");
    if (err == SC_OK && kind == KEY_OPEN)
        err = set_net(st, "key_mgmt", "NONE");
    else if (err == SC_OK && kind == KEY_WEP40) {
        /* The five characters are the 40-bit WEP key itself, sent in hex like the SSID (no
         * quoting). key_mgmt NONE with a key set never joins an AP without privacy; auth_alg
         * takes an AP of either WEP authentication. */
        hex(value, pwd, pwd_len);
        err = set_net(st, "key_mgmt", "NONE");
        if (err == SC_OK)
            err = set_net(st, "auth_alg", "OPEN SHARED");
        if (err == SC_OK)
            err = set_net(st, "wep_key0", value);
        if (err == SC_OK)
            err = set_net(st, "wep_tx_keyidx", "0");
    } else if (err == SC_OK) {
        uint8_t psk[32];
        if (kind == KEY_PSK_HEX) {
            /* Already a raw PSK (what WPA calls a 64-digit hex key). */
            memcpy(value, pwd, 64);
            value[64] = '\0';
        } else if ((err = derive_psk(pwd, pwd_len, ssid, ssid_len, psk)) == SC_OK) {
            hex(value, psk, sizeof psk);
        }
        wipe(psk, sizeof psk);
        if (err == SC_OK)
            err = set_net(st, "key_mgmt", "WPA-PSK");
        if (err == SC_OK)
            err = set_net(st, "psk", value);
    }
    wipe(value, sizeof value);
    /* Marked as ours, so the next provisioning can tell it from the product's own networks
     * (remove_older). An old wpa_supplicant that refuses the field only loses that. */
    if (err == SC_OK &&
        set_net_quiet(st, "id_str", st->wpa_unsaveable ? "\"" ID_STR_NOSAVE "\"" : "\"" ID_STR "\"") != SC_OK)
        sc_posix_sta_log(st, SC_LOG_WARN, "station(wpa): id_str refused: an older network of smartcfg's will not "
                                          "be recognised and removed");
    if (err == SC_OK && bssid && memcmp(bssid, zero, SC_MAC_LEN)) {
        char b[18];
        snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", bssid[0], bssid[1], bssid[2], bssid[3], bssid[4],
                 bssid[5]);
        err = set_net(st, "bssid", b);
    }
    if (err == SC_OK) {
        char cmd[48];
        /* Not knowing which networks are enabled, SELECT_NETWORK would disable them all with
         * none to enable again: the device offline after a failed join, and a product's
         * fallback saved disabled by --wpa-save. The join fails instead, nothing selected. */
        if (!note_enabled(st)) {
            sc_posix_sta_log(st, SC_LOG_ERROR, "station(wpa): no reply to LIST_NETWORKS: not selecting the network");
            err = SC_ERR_IO;
        } else {
            snprintf(cmd, sizeof cmd, "SELECT_NETWORK %d", st->netid);
            if (wpa_cmd(st, cmd, reply, sizeof reply) < 0 || !reply_ok(reply)) {
                sc_posix_sta_log(st, SC_LOG_ERROR, "station(wpa): SELECT_NETWORK failed");
                err = SC_ERR_IO;
            }
        }
    }
    if (err != SC_OK)
        sc_posix_sta_wpa_leave(st);
    return err;
}

static const char *field(const char *status, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *line = status; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > nl && !strncmp(line, name, nl) && line[nl] == '=') {
            size_t vl = len - nl - 1;
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, line + nl + 1, vl);
            out[vl] = '\0';
            return out;
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}

/* Joined: with wpa_save, ask wpa_supplicant to write its configuration, so the network is
 * there after a reboot (smartcfg keeps no Wi-Fi credentials of its own). wpa_supplicant does
 * it only with update_config=1 and a config file it may write; otherwise the join stands and
 * the log says why it will not outlive a restart. */
/* Joined: the networks an earlier provisioning added (id_str "smartcfg" or "smartcfg-nosave"),
 * now superseded, are removed, so re-provisioning (a new router password) does not pile up
 * networks holding old passwords that wpa_supplicant would go on trying. Only after a join
 * that worked: a failed one keeps the last good network. The product's own networks (no such
 * id_str) stay. */
static bool remove_older(sc_posix_station_t *st)
{
    char list[4096];
    if (wpa_cmd(st, "LIST_NETWORKS", list, sizeof list) < 0)
        return false;
    for (const char *p = strchr(list, '\n'); p && p[1];) { /* after the header line */
        p++;
        char *end;
        long id = strtol(p, &end, 10);
        bool other = end != p && *end == '\t' && id >= 0 && id <= 100000 && id != st->netid;
        p = strchr(p, '\n');
        if (!other)
            continue;
        char cmd[64], reply[64];
        snprintf(cmd, sizeof cmd, "GET_NETWORK %ld id_str", id);
        /* A request that timed out ends the pass: wpa_supplicant is not answering in time,
         * and each more would cost another timeout. (Its late reply cannot be read as the
         * next request's: wpa_cmd changed sockets.) */
        if (wpa_cmd(st, cmd, reply, sizeof reply) < 0)
            return false;
        /* The whole value, not a prefix: a product network tagged 'smartcfg"x' is not ours. */
        reply[strcspn(reply, "\n")] = '\0';
        if (strcmp(reply, "\"" ID_STR "\"") && strcmp(reply, "\"" ID_STR_NOSAVE "\""))
            continue;
        snprintf(cmd, sizeof cmd, "REMOVE_NETWORK %ld", id);
        if (wpa_cmd(st, cmd, reply, sizeof reply) < 0)
            return false;
        if (reply_ok(reply))
            sc_posix_sta_log(st, SC_LOG_INFO, "station(wpa): network %ld of an earlier provisioning removed", id);
    }
    return true;
}

static void joined(sc_posix_station_t *st)
{
    sc_posix_sta_finish(st, SC_STA_GOT_IP, SC_STA_REASON_NONE);
    bool removed = remove_older(st);
    restore_enabled(st);
    if (!st->wpa_save)
        return;
    if (st->wpa_unsaveable) {
        sc_posix_sta_log(st, SC_LOG_WARN,
                         "station(wpa): network %d not saved: wpa_supplicant's config file would read its SSID%s back "
                         "cut at a '#' (one after an odd number of '\"'): joined, but forgotten "
                         "when wpa_supplicant restarts (id_str \"" ID_STR_NOSAVE "\": a product's own SAVE_CONFIG "
                         "would write it so too)",
                         st->netid, st->wpa_wep ? " or WEP key" : "");
        return;
    }
    /* An earlier provisioning's network left in memory would be written too, and one that
     * was not saved for its SSID ('"a#': the line reads back cut after the closing '"') makes
     * wpa_supplicant 2.10 refuse the whole file at its next start: no network at all. */
    if (!removed) {
        sc_posix_sta_log(st, SC_LOG_WARN,
                         "station(wpa): network %d not saved: the earlier provisionings' networks could not all be "
                         "checked and removed (wpa_supplicant did not answer in time), and SAVE_CONFIG would write "
                         "them too: joined, but forgotten when wpa_supplicant restarts",
                         st->netid);
        return;
    }
    if (!st->wpa_restored) {
        sc_posix_sta_log(st, SC_LOG_WARN,
                         "station(wpa): network %d not saved: not every network SELECT_NETWORK disabled could be "
                         "enabled again, and SAVE_CONFIG would save those disabled for good: joined, but forgotten "
                         "when wpa_supplicant restarts",
                         st->netid);
        return;
    }
    char reply[32];
    /* Writing (and syncing) the file may take longer than other requests on slow flash: its
     * own timeout, and no answer is "not known", neither saved nor refused. */
    if (wpa_cmd_wait(st, "SAVE_CONFIG", reply, sizeof reply, (int)st->wpa_save_ms) < 0)
        sc_posix_sta_log(st, SC_LOG_WARN,
                         "station(wpa): wpa_supplicant did not answer SAVE_CONFIG within %u ms: not known whether "
                         "network %d was saved (it outlives a restart of wpa_supplicant only if it was)",
                         (unsigned)st->wpa_save_ms, st->netid);
    else if (reply_ok(reply))
        sc_posix_sta_log(st, SC_LOG_INFO, "station(wpa): network %d saved in wpa_supplicant's configuration",
                         st->netid);
    else
        sc_posix_sta_log(st, SC_LOG_WARN,
                         "station(wpa): wpa_supplicant did not save network %d (SAVE_CONFIG needs update_config=1 "
                         "and a writable config file): joined, but forgotten when wpa_supplicant restarts",
                         st->netid);
}

/* A join that failed is withdrawn at once, not when the device exits or starts again: until
 * then SELECT_NETWORK keeps every other network disabled, and a device lingering to serve its
 * log (or an AT host deciding what comes next) would stay off its last good network. */
static void failed_join(sc_posix_station_t *st, sc_sta_reason_t why)
{
    sc_posix_sta_finish(st, SC_STA_FAILED, why);
    sc_posix_sta_wpa_leave(st);
}

void sc_posix_sta_wpa_poll(sc_posix_station_t *st)
{
    uint32_t now = sc_posix_sta_now(st);
    if (now - st->last_poll_ms < STATUS_EVERY_MS)
        return;
    st->last_poll_ms = now;
    char status[2048], state[40], ipbuf[40];
    bool timed_out = now - st->started_ms >= st->wpa_timeout_ms;
    if (wpa_cmd(st, "STATUS", status, sizeof status) < 0 || !field(status, "wpa_state", state, sizeof state)) {
        if (timed_out)
            failed_join(st, SC_STA_REASON_OTHER);
        return;
    }
    if (!strcmp(state, "COMPLETED")) {
        st->seen_completed = true;
        if (field(status, "ip_address", ipbuf, sizeof ipbuf) && sc_posix_parse_ipv4(ipbuf, st->ip) == SC_OK) {
            joined(st);
            return;
        }
        if (st->iface[0] && sc_posix_netif_ipv4(st->iface, st->ip) == SC_OK) {
            joined(st);
            return;
        }
    } else if (!strcmp(state, "4WAY_HANDSHAKE") || !strcmp(state, "GROUP_HANDSHAKE")) {
        st->seen_4way = true;
        st->seen_assoc = true;
    } else if (!strcmp(state, "ASSOCIATING") || !strcmp(state, "ASSOCIATED") || !strcmp(state, "AUTHENTICATING")) {
        st->seen_assoc = true;
    } else if (st->seen_4way && (!strcmp(state, "DISCONNECTED") || !strcmp(state, "SCANNING"))) {
        /* A handshake that keeps falling back is what a wrong passphrase looks like. */
        if (++st->drops_after_4way >= 2) {
            failed_join(st, SC_STA_REASON_WRONG_PASSWORD);
            return;
        }
    }
    if (timed_out) {
        sc_sta_reason_t why = st->seen_completed ? SC_STA_REASON_DHCP
                              : st->seen_4way    ? SC_STA_REASON_WRONG_PASSWORD
                              : st->seen_assoc   ? SC_STA_REASON_ASSOC
                                                 : SC_STA_REASON_NO_AP;
        failed_join(st, why);
    }
}

void sc_posix_sta_wpa_leave(sc_posix_station_t *st)
{
    if (st->netid < 0)
        return;
    char cmd[48], reply[32];
    snprintf(cmd, sizeof cmd, "REMOVE_NETWORK %d", st->netid);
    (void)wpa_cmd(st, cmd, reply, sizeof reply);
    st->netid = -1;
    restore_enabled(st);
}

void sc_posix_sta_wpa_close(sc_posix_station_t *st)
{
    /* A device that joined keeps its network; only an unfinished attempt is withdrawn. */
    if (st->status != SC_STA_GOT_IP)
        sc_posix_sta_wpa_leave(st);
    if (st->sock >= 0)
        close(st->sock);
    st->sock = -1;
}
