/* SPDX-License-Identifier: Apache-2.0 */
/* mosquitto plugin (API v5) of the smartcfg local cloud: authenticates every CONNECT against the
 * device registry the way IoT Explorer does (docs/protocol/tencent.md#mqtt) and confines each device to its own
 * $thing/.../<ProductId>/<DeviceName> topics. One privileged service identity (random per run,
 * given as plugin options) is for the binding service. The registry is opened read-only: the
 * broker never writes it. The rules themselves are cloud_acl.c, shared with the RabbitMQ
 * front-end (cloud_authhttp.c); this file is mosquitto's glue around them.
 *
 * Two outputs, neither ever holding a secret: a human line in mosquitto's log, and — when
 * `smartcfg cloud` hands us a descriptor — one JSON object per line on it (the record is in
 * docs/cloud.md, "Plugin events"), so the cloud never parses log text back.
 *
 * Options (keys of at least 3 characters: mosquitto 2.0 rejects shorter ones):
 *          plugin_opt_registry <sqlite file or postgresql:// URL>, plugin_opt_service_user <name>,
 *          plugin_opt_service_password <password> (both service options or neither),
 *          plugin_opt_event_fd <descriptor> (optional: where the JSON events go). */
#define _POSIX_C_SOURCE 200809L   /* strdup: the plugin target is built without _GNU_SOURCE */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "../cloud_acl.h"   /* relative: tests/unit compiles this file in */

#include "../cloud_store.h"

#define ID_MAX CLOUD_ACL_ID_MAX
/* The registry's wait for a lock another connection holds (an operator's LOCK TABLE or ALTER
 * TABLE on PostgreSQL, a checkpoint on SQLite): it is mosquitto's one thread that waits, every
 * client's traffic with it, so a CONNECT is refused (registry_error) after this rather than
 * held for the lock's whole length (F199). */
#define LOCK_WAIT_MS 250
/* The same thread, and a PostgreSQL server that does not answer at all (a host down, a network
 * cut, a server that hangs): one CONNECT's lookup waited out the keepalives (~11 s; for ever for
 * a server whose kernel still answers) and each reconnect 5 s a host, every client of the
 * broker with it (F201). A statement's answer and a host's connect now get this long; then the
 * CONNECT is refused and the reconnects go on at their pauses. Not less: a reconnect is TCP,
 * maybe TLS, and SCRAM, several round trips to a server that may be in another region. */
#define SERVER_WAIT_MS 2000
#define EVENT_MAX 1024   /* < PIPE_BUF: one write() is one whole line, never interleaved */

static mosquitto_plugin_id_t *plugin_id;
static cloud_store_t store;
static char *service_user, *service_password;
static int event_fd = -1;

static int device_exists(void *ctx, const char *pid, const char *dn)
{
    (void)ctx;
    return cloud_store_device_exists(&store, pid, dn);
}

/* The client id is <ProductId><DeviceName> with no separator: try every registered product
 * that prefixes it. More than one registered split is ambiguous and refused. Returns the
 * number of matches; the PSK of the (last) match goes to psk. */
static int find_device(void *ctx, const char *client_id, char *pid, char *psk, size_t psklen)
{
    (void)ctx;
    return cloud_store_find_device(&store, client_id, pid, ID_MAX, psk, psklen);
}

/* The gateway topology the local cloud keeps (gw_subdevs, docs/cloud.md "Gateways"). */
static int gateway_proxies(void *ctx, const char *gw_client_id, const char *pid, const char *dn)
{
    (void)ctx;
    return cloud_store_gw_proxies(&store, gw_client_id, pid, dn);
}

static const cloud_acl_registry_t registry = { find_device, device_exists, NULL, gateway_proxies };

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
        if (!cloud_consttime_eq(pass, service_password))
            return refuse(client_id, "bad_service_password");
        mosquitto_log_printf(MOSQ_LOG_INFO, "smartcfg_auth: service_connected client=%s", cid);
        return MOSQ_ERR_SUCCESS;
    }

    char pid[ID_MAX];
    const char *alg;
    const char *why = cloud_acl_login(&registry, client_id, user, pass, pid, &alg);
    if (why)
        return refuse(client_id, why);
    char cpid[ID_MAX];
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "smartcfg_auth: connect_ok client=%s product=%s alg=%s", cid,
                         clean(pid, cpid, sizeof cpid), alg);
    emit("device_connected", 3, (const char *const[]){ "client", client_id, "product_id", pid, "alg", alg });
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

static cloud_acl_access_t acl_access(int a)
{
    switch (a) {
    case MOSQ_ACL_WRITE: return CLOUD_ACL_PUBLISH;
    case MOSQ_ACL_SUBSCRIBE: return CLOUD_ACL_SUBSCRIBE;
    case MOSQ_ACL_UNSUBSCRIBE: return CLOUD_ACL_UNSUBSCRIBE;
    default: return CLOUD_ACL_READ;
    }
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
        if (cloud_acl_service_may(ed->topic, acl_access(ed->access)))
            return MOSQ_ERR_SUCCESS;
    } else if (cloud_acl_device_may(&registry, client_id, ed->topic, acl_access(ed->access))) {
        return MOSQ_ERR_SUCCESS;
    }
    char cid[ID_MAX], ctopic[256];
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "smartcfg_auth: acl_refused client=%s access=%s topic=%s",
                         clean(client_id, cid, sizeof cid), access_name(ed->access), clean(ed->topic, ctopic, sizeof ctopic));
    emit("topic_refused", 3,
         (const char *const[]){ "client", client_id, "access", access_name(ed->access), "topic", ed->topic });
    /* A QoS 1/2 publish asks for an acknowledgement; IoT Explorer gives none for a topic the
     * device may not publish on (its wait times out). MQTT 3.1.1 has no negative PUBACK and
     * mosquitto acknowledges a denied publish, which would tell the device its message was
     * taken; any error other than "denied" makes mosquitto close the connection instead:
     * no false acknowledgement, and the device learns it at once. QoS 0 stays a silent drop. */
    if (ed->access == MOSQ_ACL_WRITE && ed->qos > 0)
        return MOSQ_ERR_AUTH;
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
    if (!ed->identity || strlen(ed->identity) >= ID_MAX || find_device(NULL, ed->identity, pid, psk, sizeof psk) != 1) {
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
    char err[300], shown[300];
    cloud_store_redact(dbpath, shown, sizeof shown);
    if (cloud_store_open_reader(&store, dbpath, err, sizeof err) != 0) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "smartcfg_auth: cannot open registry %s: %s", shown, err);
        return MOSQ_ERR_UNKNOWN;
    }
    cloud_store_set_lock_wait(&store, LOCK_WAIT_MS);
    cloud_store_set_server_wait(&store, SERVER_WAIT_MS);
    if (mosquitto_callback_register(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL) != MOSQ_ERR_SUCCESS ||
        mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL) != MOSQ_ERR_SUCCESS ||
        mosquitto_callback_register(plugin_id, MOSQ_EVT_PSK_KEY, on_psk_key, NULL, NULL) != MOSQ_ERR_SUCCESS)
        return MOSQ_ERR_UNKNOWN;
    mosquitto_log_printf(MOSQ_LOG_INFO, "smartcfg_auth: loaded, registry %s", shown);
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
    (void)userdata, (void)opts, (void)opt_count;
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
    mosquitto_callback_unregister(plugin_id, MOSQ_EVT_PSK_KEY, on_psk_key, NULL);
    cloud_store_close(&store);
    free(service_user);
    free(service_password);
    service_user = service_password = NULL;
    return MOSQ_ERR_SUCCESS;
}
