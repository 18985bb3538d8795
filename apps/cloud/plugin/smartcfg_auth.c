/* SPDX-License-Identifier: Apache-2.0 */
/* mosquitto plugin (API v5) of the smartcfg local cloud: authenticates every CONNECT against the
 * device registry the way IoT Explorer does (docs/protocol/tencent.md#mqtt) and confines each device to its own
 * $thing/.../<ProductId>/<DeviceName> topics. One privileged service identity (random per run,
 * given as plugin options) is for the binding service. The registry is opened read-only: the
 * broker never writes it. The password check is the core's (sc_cloud_mqtt_password, the very
 * function a device signs with), linked in, not a copy.
 *
 * Two outputs, neither ever holding a secret: a human line in mosquitto's log, and — when
 * `smartcfg cloud` hands us a descriptor — one JSON object per line on it (the record is in
 * docs/cloud.md, "Plugin events"), so the cloud never parses log text back.
 *
 * Options (keys of at least 3 characters: mosquitto 2.0 rejects shorter ones):
 *          plugin_opt_registry <sqlite file>, plugin_opt_service_user <name>,
 *          plugin_opt_service_password <password> (both service options or neither),
 *          plugin_opt_event_fd <descriptor> (optional: where the JSON events go). */
#define _POSIX_C_SOURCE 200809L   /* strdup: the plugin target is built without _GNU_SOURCE */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <sqlite3.h>

#include "smartcfg/cloud.h"

#define ID_MAX 128
#define EVENT_MAX 1024   /* < PIPE_BUF: one write() is one whole line, never interleaved */

static mosquitto_plugin_id_t *plugin_id;
static sqlite3 *db;
static char *service_user, *service_password;
static int event_fd = -1;

static bool ct_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static bool all_digits(const char *s)
{
    if (!*s || strlen(s) > 19)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool device_exists(const char *pid, const char *dn)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM devices WHERE product_id=? AND device_name=?", -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, dn, -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return ok;
}

/* The client id is <ProductId><DeviceName> with no separator: try every registered product
 * that prefixes it. More than one registered split is ambiguous and refused. Returns the
 * number of matches; the PSK of the (last) match goes to psk. */
static int find_device(const char *client_id, char *pid, char *psk, size_t psklen)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(db,
            "SELECT p.product_id, d.psk FROM products p JOIN devices d ON d.product_id = p.product_id"
            " AND d.device_name = substr(?1, length(p.product_id) + 1)"
            " WHERE length(?1) > length(p.product_id) AND substr(?1, 1, length(p.product_id)) = p.product_id",
            -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        found++;
        snprintf(pid, ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(psk, psklen, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    return found;
}

/* Client ids and topics come from unauthenticated peers: a newline, space or '=' in them must
 * not forge a log line or a key=value pair that smartcfg cloud turns into an event. */
static const char *clean(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in && in[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = (c > ' ' && c < 0x7f && c != '=') ? (char)c : '?';
    }
    out[i] = 0;
    return i ? out : "-";
}

/* One event record: {"event": name, k[0]: v[0], ...} and a newline, in one write(). The values
 * are cleaned like the log's, so the cloud can pass them on as they are. Blocking on purpose:
 * `smartcfg cloud` drains the pipe in a thread of its own, and an event is never dropped. */
static void emit(const char *name, int n, const char *const *kv)
{
    if (event_fd < 0)
        return;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "event", name);
    for (int i = 0; i < n; i++) {
        char v[256];
        cJSON_AddStringToObject(o, kv[2 * i], clean(kv[2 * i + 1], v, sizeof v));
    }
    char line[EVENT_MAX];
    bool ok = cJSON_PrintPreallocated(o, line, sizeof line - 1, false);
    cJSON_Delete(o);
    if (!ok)
        return;
    size_t len = strlen(line);
    line[len++] = '\n';
    while (write(event_fd, line, len) < 0 && errno == EINTR)
        ;
}

static int refuse(const char *client_id, const char *reason)
{
    char cid[ID_MAX];
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "smartcfg_auth: connect_refused client=%s reason=%s",
                         clean(client_id, cid, sizeof cid), reason);
    emit("device_refused", 2, (const char *const[]){ "client", client_id, "reason", reason });
    return MOSQ_ERR_AUTH;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
    (void)event, (void)userdata;
    struct mosquitto_evt_basic_auth *ed = event_data;
    const char *client_id = mosquitto_client_id(ed->client);
    const char *user = ed->username, *pass = ed->password;
    if (!client_id || !*client_id || strlen(client_id) >= ID_MAX)
        return refuse(NULL, "bad_client_id");
    char cid[ID_MAX];
    clean(client_id, cid, sizeof cid);
    if (!user || !pass)
        return refuse(client_id, "no_credentials");
    if (service_user && !strcmp(user, service_user)) {
        if (!ct_equal(pass, service_password))
            return refuse(client_id, "bad_service_password");
        mosquitto_log_printf(MOSQ_LOG_INFO, "smartcfg_auth: service_connected client=%s", cid);
        return MOSQ_ERR_SUCCESS;
    }

    /* username: <ProductId><DeviceName>;<sdkappid>;<connid>;<expiry> */
    char ubuf[256], *f[5] = { 0 };
    if (strlen(user) >= sizeof ubuf)
        return refuse(client_id, "bad_username");
    strcpy(ubuf, user);
    int nf = 0;
    for (char *p = ubuf, *s; nf < 5 && p; nf++) {
        f[nf] = p;
        s = strchr(p, ';');
        if (s)
            *s++ = 0;
        p = s;
    }
    if (nf != 4 || strcmp(f[0], client_id) || !all_digits(f[1]) || !*f[2] || strlen(f[2]) > 32 || !all_digits(f[3]))
        return refuse(client_id, "bad_username");
    long long expiry = strtoll(f[3], NULL, 10);
    if (expiry < (long long)time(NULL))
        return refuse(client_id, "expired");

    /* password: <lower-case hex HMAC>;hmacsha256 | ;hmacsha1 */
    const char *semi = strchr(pass, ';');
    if (!semi)
        return refuse(client_id, "bad_password_format");
    bool sha256;
    if (!strcmp(semi + 1, "hmacsha256"))
        sha256 = true;
    else if (!strcmp(semi + 1, "hmacsha1"))
        sha256 = false;
    else
        return refuse(client_id, "unsupported_algorithm");

    char pid[ID_MAX], psk[128];
    int n = find_device(client_id, pid, psk, sizeof psk);
    if (n < 0)
        return refuse(client_id, "registry_error");
    if (n == 0)
        return refuse(client_id, "unknown_device");
    if (n > 1)
        return refuse(client_id, "ambiguous_client_id");

    /* Expected password from the same function the device signs with; compare the whole
     * "<hex>;<alg>" text (hex case-insensitively) in constant time. */
    char expect[SC_CLOUD_PASSWORD_SIZE], given[SC_CLOUD_PASSWORD_SIZE];
    sc_err_t rc = sc_cloud_mqtt_password(psk, user, !sha256, expect, sizeof expect);
    if (rc == SC_ERR_FORMAT || rc == SC_ERR_RANGE || rc == SC_ERR_INVAL)
        return refuse(client_id, "registry_bad_psk");
    if (rc != SC_OK)
        return refuse(client_id, "crypto_error");
    size_t gl = strlen(pass);
    if (gl >= sizeof given)
        return refuse(client_id, "bad_signature");
    for (size_t i = 0; i <= gl; i++)
        given[i] = (char)tolower((unsigned char)pass[i]);
    bool match = ct_equal(given, expect);
    memset(expect, 0, sizeof expect);
    if (!match)
        return refuse(client_id, "bad_signature");
    char cpid[ID_MAX];
    const char *alg = sha256 ? "hmacsha256" : "hmacsha1";
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "smartcfg_auth: connect_ok client=%s product=%s alg=%s", cid,
                         clean(pid, cpid, sizeof cpid), alg);
    emit("device_connected", 3, (const char *const[]){ "client", client_id, "product", pid, "alg", alg });
    return MOSQ_ERR_SUCCESS;
}

static const char *access_name(int a)
{
    switch (a) {
    case MOSQ_ACL_READ: return "read";
    case MOSQ_ACL_WRITE: return "publish";
    case MOSQ_ACL_SUBSCRIBE: return "subscribe";
    case MOSQ_ACL_UNSUBSCRIBE: return "unsubscribe";
    default: return "other";
    }
}

/* Device rights: publish $thing/up/<kind>/<P>/<D>, subscribe and receive $thing/down/<kind>/<P>/<D>
 * (<kind> may be '+' in a subscription). <P>/<D> must be the caller's own registered identity. */
static bool device_may(const char *client_id, const char *topic, int access)
{
    if (access == MOSQ_ACL_UNSUBSCRIBE)
        return true;
    char buf[256], *lv[6];
    if (strlen(topic) >= sizeof buf)
        return false;
    strcpy(buf, topic);
    int n = 0;
    for (char *p = buf, *s; p; n++) {
        if (n == 5)
            return false;
        lv[n] = p;
        s = strchr(p, '/');
        if (s)
            *s++ = 0;
        p = s;
    }
    if (n != 5 || strcmp(lv[0], "$thing"))
        return false;
    const char *dir = access == MOSQ_ACL_WRITE ? "up" : "down";
    if (strcmp(lv[1], dir) || !*lv[2] || !strcmp(lv[2], "#"))
        return false;
    if (!strcmp(lv[2], "+") && access != MOSQ_ACL_SUBSCRIBE)
        return false;
    for (int i = 2; i < 5; i++)
        if ((i > 2 || strcmp(lv[i], "+")) && strpbrk(lv[i], "+#"))
            return false;
    size_t pl = strlen(lv[3]);
    if (!pl || !*lv[4] || strncmp(client_id, lv[3], pl) || strcmp(client_id + pl, lv[4]))
        return false;
    /* Concatenation alone could be split elsewhere (AB/C vs A/BC); the registered split wins. */
    return device_exists(lv[3], lv[4]);
}

/* OTA (docs/ota.md): a device publishes its reports on $ota/report/<P>/<D> and takes updates
 * from $ota/update/<P>/<D> — its own pair only, no wildcards. */
static bool device_may_ota(const char *client_id, const char *topic, int access)
{
    const char *rest;
    if (access == MOSQ_ACL_WRITE)
        rest = !strncmp(topic, "$ota/report/", 12) ? topic + 12 : NULL;
    else
        rest = !strncmp(topic, "$ota/update/", 12) ? topic + 12 : NULL;
    const char *slash = rest ? strchr(rest, '/') : NULL;
    if (!slash || slash == rest || !slash[1] || strchr(slash + 1, '/') || strpbrk(rest, "+#"))
        return false;
    size_t pl = (size_t)(slash - rest);
    char pid[ID_MAX];
    if (pl >= sizeof pid || strncmp(client_id, rest, pl) || strcmp(client_id + pl, slash + 1))
        return false;
    memcpy(pid, rest, pl);
    pid[pl] = 0;
    return device_exists(pid, slash + 1);
}

/* 1 when the gateway whose client id is gw_cid has the sub-device <pid>/<dn> bound and online
 * (the local cloud keeps that topology in gw_subdevs, docs/cloud.md "Gateways"). */
static bool gateway_proxies(const char *gw_cid, const char *pid, const char *dn)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM gw_subdevs WHERE sub_pid=? AND sub_dn=? AND online=1"
                               " AND gw_pid || gw_dn = ?", -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, dn, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, gw_cid, -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return ok;
}

/* The other IoT Explorer / IoT Hub topics (docs/cloud.md "Topic rights"). Up (publish):
 * $sys/operation/<P>/<D>, $shadow/operation/<P>/<D>, $gateway/operation/<P>/<D>, <P>/<D>/data,
 * <P>/<D>/event. Down (subscribe, receive): the same $…/operation/result/<P>/<D>, <P>/<D>/data,
 * <P>/<D>/control. Always the caller's own <P>/<D>, no wildcards — except that a gateway also
 * speaks for its bound, online sub-devices on their custom and $thing topics. */
static bool device_may_more(const char *client_id, const char *topic, int access)
{
    if (access == MOSQ_ACL_UNSUBSCRIBE)
        return true;
    if (strpbrk(topic, "+#") || strlen(topic) >= 256)
        return false;
    bool up = access == MOSQ_ACL_WRITE, custom = false;
    static const char *const pre_up[] = { "$sys/operation/", "$shadow/operation/", "$gateway/operation/" };
    static const char *const pre_down[] = { "$sys/operation/result/", "$shadow/operation/result/",
                                            "$gateway/operation/result/" };
    const char *rest = NULL;
    for (int i = 0; i < 3 && !rest; i++) {
        const char *pre = up ? pre_up[i] : pre_down[i];
        size_t n = strlen(pre);
        if (!strncmp(topic, pre, n) && (up ? strncmp(topic + n, "result/", 7) != 0 : true))
            rest = topic + n;
    }
    char pid[ID_MAX], dn[ID_MAX];
    if (rest) {
        const char *slash = strchr(rest, '/');
        if (!slash || slash == rest || !slash[1] || strchr(slash + 1, '/') || (size_t)(slash - rest) >= sizeof pid ||
            strlen(slash + 1) >= sizeof dn)
            return false;
        memcpy(pid, rest, (size_t)(slash - rest));
        pid[slash - rest] = 0;
        strcpy(dn, slash + 1);
    } else if (topic[0] != '$') {
        /* <P>/<D>/<name>: data both ways, event up only, control down only */
        const char *s1 = strchr(topic, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!s1 || !s2 || s1 == topic || s2 == s1 + 1 || strchr(s2 + 1, '/') || (size_t)(s1 - topic) >= sizeof pid ||
            (size_t)(s2 - s1 - 1) >= sizeof dn)
            return false;
        const char *name = s2 + 1;
        if (!(!strcmp(name, "data") || (up && !strcmp(name, "event")) || (!up && !strcmp(name, "control"))))
            return false;
        memcpy(pid, topic, (size_t)(s1 - topic));
        pid[s1 - topic] = 0;
        memcpy(dn, s1 + 1, (size_t)(s2 - s1 - 1));
        dn[s2 - s1 - 1] = 0;
        custom = true;
    } else {
        /* $thing/<dir>/<kind>/<P>/<D> of a sub-device: the gateway's proxy rights only */
        const char *dir = up ? "$thing/up/" : "$thing/down/";
        size_t dl = strlen(dir);
        const char *k = !strncmp(topic, dir, dl) ? topic + dl : NULL, *s1 = k ? strchr(k, '/') : NULL;
        const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!s2 || s1 == k || s2 == s1 + 1 || !s2[1] || strchr(s2 + 1, '/') || (size_t)(s2 - s1 - 1) >= sizeof pid ||
            strlen(s2 + 1) >= sizeof dn)
            return false;
        /* the data template only: binding ($thing/.../service) stays the sub-device's own */
        size_t kl = (size_t)(s1 - k);
        if (!((kl == 8 && !strncmp(k, "property", 8)) || (kl == 5 && !strncmp(k, "event", 5)) ||
              (kl == 6 && !strncmp(k, "action", 6))))
            return false;
        memcpy(pid, s1 + 1, (size_t)(s2 - s1 - 1));
        pid[s2 - s1 - 1] = 0;
        strcpy(dn, s2 + 1);
        return gateway_proxies(client_id, pid, dn);
    }
    size_t pl = strlen(pid);
    if (!strncmp(client_id, pid, pl) && !strcmp(client_id + pl, dn) && device_exists(pid, dn))
        return true;
    return custom && gateway_proxies(client_id, pid, dn);
}

/* The service listens to the devices' custom <P>/<D>/event topics (recorded as events) and
 * does nothing else on custom topics. */
static bool service_hears_custom_event(const char *topic, int access)
{
    size_t n = strlen(topic);
    const char *s1 = strchr(topic, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    return (access == MOSQ_ACL_SUBSCRIBE || access == MOSQ_ACL_READ) && topic[0] != '$' && s2 &&
           !strchr(s2 + 1, '/') && n > 6 && !strcmp(topic + n - 6, "/event");
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
    (void)event, (void)userdata;
    struct mosquitto_evt_acl_check *ed = event_data;
    const char *client_id = mosquitto_client_id(ed->client);
    const char *user = mosquitto_client_username(ed->client);
    if (!client_id || !ed->topic)
        return MOSQ_ERR_ACL_DENIED;
    if (service_user && user && !strcmp(user, service_user)) {
        /* Authentication already proved the service password for this username. */
        if (!strncmp(ed->topic, "$thing/", 7) || !strncmp(ed->topic, "$ota/", 5) || !strncmp(ed->topic, "$sys/", 5) ||
            !strncmp(ed->topic, "$gateway/", 9) || service_hears_custom_event(ed->topic, ed->access))
            return MOSQ_ERR_SUCCESS;
    } else if (device_may(client_id, ed->topic, ed->access) || device_may_ota(client_id, ed->topic, ed->access) ||
               device_may_more(client_id, ed->topic, ed->access)) {
        return MOSQ_ERR_SUCCESS;
    }
    char cid[ID_MAX], ctopic[256];
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "smartcfg_auth: acl_refused client=%s access=%s topic=%s",
                         clean(client_id, cid, sizeof cid), access_name(ed->access), clean(ed->topic, ctopic, sizeof ctopic));
    emit("topic_refused", 3,
         (const char *const[]){ "client", client_id, "access", access_name(ed->access), "topic", ed->topic });
    return MOSQ_ERR_ACL_DENIED;
}

/* TLS-PSK listener (IoT Explorer's PSK devices): the identity is the client id and the key the
 * device's decoded PSK, handed to mosquitto as hex. The CONNECT that follows is still checked
 * by on_basic_auth, so a PSK handshake alone grants nothing. */
static int on_psk_key(int event, void *event_data, void *userdata)
{
    (void)event, (void)userdata;
    struct mosquitto_evt_psk_key *ed = event_data;
    char pid[ID_MAX], psk[128];
    if (!ed->identity || strlen(ed->identity) >= ID_MAX || find_device(ed->identity, pid, psk, sizeof psk) != 1) {
        emit("device_refused", 2, (const char *const[]){ "client", ed->identity, "reason", "unknown_psk_identity" });
        return MOSQ_ERR_AUTH;
    }
    unsigned char key[64];
    size_t klen;
    if (mbedtls_base64_decode(key, sizeof key, &klen, (const unsigned char *)psk, strlen(psk)) != 0 || klen == 0 ||
        ed->max_key_len < 0 || (size_t)ed->max_key_len < 2 * klen + 1) {
        memset(key, 0, sizeof key);
        return MOSQ_ERR_AUTH;
    }
    for (size_t i = 0; i < klen; i++)
        snprintf(ed->key + 2 * i, 3, "%02x", key[i]);
    memset(key, 0, sizeof key);
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++)
        if (supported_versions[i] == 5)
            return 5;
    return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *opts,
                          int opt_count)
{
    (void)userdata;
    const char *dbpath = NULL;
    plugin_id = identifier;
    for (int i = 0; i < opt_count; i++) {
        if (!strcmp(opts[i].key, "registry"))
            dbpath = opts[i].value;
        else if (!strcmp(opts[i].key, "service_user"))
            service_user = strdup(opts[i].value);
        else if (!strcmp(opts[i].key, "service_password"))
            service_password = strdup(opts[i].value);
        else if (!strcmp(opts[i].key, "event_fd"))
            event_fd = atoi(opts[i].value);
    }
    if (!dbpath) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "smartcfg_auth: plugin_opt_registry is required");
        return MOSQ_ERR_INVAL;
    }
    if (!service_user != !service_password || (service_password && strlen(service_password) < 16)) {
        mosquitto_log_printf(MOSQ_LOG_ERR,
                             "smartcfg_auth: set both plugin_opt_service_user and plugin_opt_service_password (>= 16 chars)");
        return MOSQ_ERR_INVAL;
    }
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "smartcfg_auth: cannot open registry %s: %s", dbpath,
                             db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        db = NULL;
        return MOSQ_ERR_UNKNOWN;
    }
    sqlite3_busy_timeout(db, 2000);
    if (mosquitto_callback_register(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL) != MOSQ_ERR_SUCCESS ||
        mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL) != MOSQ_ERR_SUCCESS ||
        mosquitto_callback_register(plugin_id, MOSQ_EVT_PSK_KEY, on_psk_key, NULL, NULL) != MOSQ_ERR_SUCCESS)
        return MOSQ_ERR_UNKNOWN;
    mosquitto_log_printf(MOSQ_LOG_INFO, "smartcfg_auth: loaded, registry %s", dbpath);
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
    (void)userdata, (void)opts, (void)opt_count;
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_PSK_KEY, on_psk_key, NULL);
    sqlite3_close(db);
    db = NULL;
    free(service_user);
    free(service_password);
    service_user = service_password = NULL;
    return MOSQ_ERR_SUCCESS;
}
