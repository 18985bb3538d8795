/* SPDX-License-Identifier: Apache-2.0 */
/* RabbitMQ front-end of the device rules: RabbitMQ's rabbitmq_auth_backend_http asks four
 * questions by POSTing a form to the cloud's HTTP service (docs/scale.md, "Device
 * authentication"), and the answers come from cloud_acl.c, the very rules the mosquitto
 * plugin applies:
 *   user      username, password, client_id      -> the CONNECT credentials
 *   vhost     username, vhost, ip                -> devices live in one virtual host
 *   resource  username, resource, name, permission -> the MQTT exchange, the device's own
 *             subscription queues (mqtt-subscription-<client id>qos0/qos1), nothing else
 *   topic     username, routing_key, permission  -> the MQTT topic rules; RabbitMQ's MQTT
 *             plugin turns '/' into '.' (and '.' into '/'), '+' into '*', so we turn them back
 * RabbitMQ only asks the last three about a user the first one allowed; the identity is the
 * username's first field, which the login check proved equal to the client id. Nothing
 * answered here is a secret; the password is never logged. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cloud_acl.h"
#include "cloud_authhttp.h"
#include "cloud_metrics.h"

#define FIELDS_MAX 32

typedef struct {
    const char *k[FIELDS_MAX], *v[FIELDS_MAX];
    int n;
    bool bad;                  /* not a form RabbitMQ sends: every question is refused */
} form_t;

/* application/x-www-form-urlencoded, split and unescaped in place. RabbitMQ sends each field
 * once, with no NUL in it. A %00 used to end the C string there ("<own topic>%00.x" was judged
 * as the own topic while the broker would route the whole key), and of a repeated field the
 * first was read: the mosquitto front-end never sees either, so the one set of rules
 * (cloud_acl.c) only holds if such a form is refused as a whole. So is one with a raw NUL
 * (len: the body's length) or with more fields than we keep. */
static void form_parse(char *body, size_t len, form_t *f)
{
    f->n = 0;
    f->bad = strlen(body) != len;
    for (char *p = body, *amp; p && *p && !f->bad; p = amp) {
        amp = strchr(p, '&');
        if (amp)
            *amp++ = 0;
        char *eq = strchr(p, '=');
        if (!eq)
            continue;
        *eq = 0;
        for (char *q = p; *q; q++)   /* '+' is a space in a form; MHD_http_unescape leaves it */
            if (*q == '+')
                *q = ' ';
        for (char *q = eq + 1; *q; q++)
            if (*q == '+')
                *q = ' ';
        if (MHD_http_unescape(p) != strlen(p) || MHD_http_unescape(eq + 1) != strlen(eq + 1) || f->n == FIELDS_MAX) {
            f->bad = true;
            break;
        }
        for (int i = 0; i < f->n; i++)
            f->bad |= !strcmp(f->k[i], p);
        f->k[f->n] = p;
        f->v[f->n++] = eq + 1;
    }
}

static const char *form_get(const form_t *f, const char *k)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->k[i], k))
            return f->v[i];
    return NULL;
}

static int reg_find(void *ctx, const char *client_id, char *pid, char *psk, size_t psklen)
{
    return cloud_store_find_device(ctx, client_id, pid, CLOUD_ACL_ID_MAX, psk, psklen);
}

static int reg_exists(void *ctx, const char *pid, const char *dn)
{
    return cloud_store_device_exists(ctx, pid, dn);
}

static enum MHD_Result answer(struct MHD_Connection *c, bool allow)
{
    const char *s = allow ? "allow" : "deny";
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* The client id a username speaks for: its first ';' field (checked at login). */
static bool username_client(const char *user, char out[CLOUD_ACL_ID_MAX])
{
    const char *semi = user ? strchr(user, ';') : NULL;
    if (!semi || semi == user || (size_t)(semi - user) >= CLOUD_ACL_ID_MAX)
        return false;
    memcpy(out, user, (size_t)(semi - user));
    out[semi - user] = 0;
    return true;
}

/* A refusal, as its event (docs/json.md): device_refused {client, reason} for a login,
 * topic_refused {client, access, topic} for the other questions (access: the question's
 * permission, or "vhost"; topic: what was asked for). */
static enum MHD_Result refused(struct MHD_Connection *c, const char *event, const char *client, const char *k,
                               const char *v, const char *topic)
{
    bool login = !strcmp(event, "device_refused");
    if (login)
        cloud_metrics_inc(CLOUD_M_MQTT_LOGIN_REFUSED);   /* each one, also past the events' budget */
    if (!cloud_refusal_allow(login ? CLOUD_REFUSAL_LOGIN : CLOUD_REFUSAL_TOPIC))   /* cloud.h */
        return answer(c, false);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "client", client && *client ? client : "-");
    cJSON_AddStringToObject(ev, k, v ? v : "-");
    if (topic)
        cJSON_AddStringToObject(ev, "topic", topic);
    cJSON_AddStringToObject(ev, "broker", "rabbitmq");
    cloud_event(event, ev);
    return answer(c, false);
}

static int reg_gateway(void *ctx, const char *gw_client_id, const char *pid, const char *dn)
{
    return cloud_store_gw_proxies(ctx, gw_client_id, pid, dn);
}

bool cloud_authhttp_owns(const char *url)
{
    return !strncmp(url, CLOUD_AUTHHTTP_PREFIX, strlen(CLOUD_AUTHHTTP_PREFIX));
}

enum MHD_Result cloud_authhttp_route(cloud_store_t *store, struct MHD_Connection *c, const char *url,
                                     const char *method, char *body, size_t len, const char *vhost)
{
    const char *what = url + strlen(CLOUD_AUTHHTTP_PREFIX);
    form_t f;
    form_parse(body ? body : (char[]){ 0 }, body ? len : 0, &f);
    const cloud_acl_registry_t reg = { reg_find, reg_exists, store, reg_gateway };
    const char *user = form_get(&f, "username");
    char client[CLOUD_ACL_ID_MAX];
    if (strcmp(method, "POST"))
        return answer(c, false);   /* the backend is configured with http_method = post */
    if (f.bad)
        return !strcmp(what, "user") ? refused(c, "device_refused", NULL, "reason", "malformed_form", NULL)
                                     : refused(c, "topic_refused", NULL, "access", "malformed_form", "-");

    if (!strcmp(what, "user")) {
        const char *cid = form_get(&f, "client_id");
        char pid[CLOUD_ACL_ID_MAX];
        const char *alg = NULL;
        /* No client_id: not an MQTT login (AMQP, STOMP ...): devices only speak MQTT. */
        const char *why = cid ? cloud_acl_login(&reg, cid, user, form_get(&f, "password"), pid, &alg) : "not_mqtt";
        if (why)
            return refused(c, "device_refused", cid, "reason", why, NULL);
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "client", cid);
        cJSON_AddStringToObject(ev, "product_id", pid);
        cJSON_AddStringToObject(ev, "alg", alg);
        cJSON_AddStringToObject(ev, "broker", "rabbitmq");
        cloud_event("device_connected", ev);
        cloud_metrics_inc(CLOUD_M_MQTT_LOGIN_OK);
        return answer(c, true);
    }
    if (!username_client(user, client))
        return answer(c, false);
    const char *v = form_get(&f, "vhost");
    if (!v || strcmp(v, vhost))
        return refused(c, "topic_refused", client, "access", "vhost", v ? v : "-");
    if (!strcmp(what, "vhost"))
        return answer(c, true);

    const char *res = form_get(&f, "resource"), *name = form_get(&f, "name"), *perm = form_get(&f, "permission");
    if (!res || !name || !perm)
        return answer(c, false);
    if (!strcmp(what, "resource")) {
        bool ok = false;
        if (!strcmp(res, "exchange"))
            ok = !strcmp(name, "amq.topic") && (!strcmp(perm, "read") || !strcmp(perm, "write"));
        else if (!strcmp(res, "queue")) {   /* the device's own MQTT subscription queues */
            char q0[CLOUD_ACL_ID_MAX + 32], q1[sizeof q0];
            snprintf(q0, sizeof q0, "mqtt-subscription-%sqos0", client);
            snprintf(q1, sizeof q1, "mqtt-subscription-%sqos1", client);
            ok = !strcmp(name, q0) || !strcmp(name, q1);
        }
        return ok ? answer(c, true) : refused(c, "topic_refused", client, "access", perm, name);
    }
    if (!strcmp(what, "topic")) {
        const char *rk = form_get(&f, "routing_key");
        char topic[256];
        if (!rk || strlen(rk) >= sizeof topic || strcmp(name, "amq.topic"))
            return answer(c, false);
        for (size_t i = 0;; i++) {
            char ch = rk[i];
            topic[i] = ch == '.' ? '/' : ch == '/' ? '.' : ch == '*' ? '+' : ch;
            if (!ch)
                break;
        }
        cloud_acl_access_t a;
        if (!strcmp(perm, "write"))
            a = CLOUD_ACL_PUBLISH;
        else if (!strcmp(perm, "read"))
            a = CLOUD_ACL_SUBSCRIBE;
        else
            return answer(c, false);
        if (cloud_acl_device_may(&reg, client, topic, a))
            return answer(c, true);
        if (!cloud_refusal_allow(CLOUD_REFUSAL_TOPIC))   /* a flood of them (cloud.h) */
            return answer(c, false);
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "client", client);
        cJSON_AddStringToObject(ev, "access", a == CLOUD_ACL_PUBLISH ? "publish" : "subscribe");
        cJSON_AddStringToObject(ev, "topic", topic);
        cJSON_AddStringToObject(ev, "broker", "rabbitmq");
        cloud_event("topic_refused", ev);
        return answer(c, false);
    }
    return answer(c, false);
}
