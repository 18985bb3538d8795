/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway AT commands: AT+TCGWBIND and AT+TCGWONLINE (docs/at.md "Gateway"). The module
 * acts for sub-devices over its own MQTT session: it asks the cloud on
 * $gateway/operation/<P>/<D> to bind/unbind a sub-device or to take its session on/offline,
 * and answers the host when the cloud's result arrives on $gateway/operation/result/<P>/<D>.
 * Messages are built and read with cJSON (the core's JSON), never by hand. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "at_gw.h"

#include "../common/json_depth.h"
#include "../common/json_out.h"
#include "../common/outline.h"

enum { GW_BIND, GW_UNBIND, GW_ONLINE, GW_OFFLINE };
static const char *const op_type[] = { "bind", "unbind", "online", "offline" };

#define GW_ERR_NOT_BOUND (-1)   /* reply code when the cloud answers without a result */

static const char *cmd_of(const sc_at_gw_t *g)
{
    return g->op <= GW_UNBIND ? "+TCGWBIND" : "+TCGWONLINE";
}

static void result(const sc_at_gw_env_t *e, sc_at_gw_t *g, int code)
{
    g->phase = 0;
    memset(g->msg, 0, sizeof g->msg);   /* held a signature */
    sc_at_say(&e->out, code == 0 ? "%s:OK" : "%s:FAIL,%d", cmd_of(g), code);
}

/* The names go into a topic and into JSON: the cloud's identifier rules (no separators,
 * wildcards or spaces), lengths as IoT Explorer's. */
static bool name_ok(const sc_at_arg_t *a, size_t max)
{
    if (!a->is_str || a->slen < 1 || a->slen > max)
        return false;
    for (size_t i = 0; i < a->slen; i++) {
        unsigned char c = (unsigned char)a->s[i];
        if (c <= ' ' || c >= 0x7f || c == '/' || c == '+' || c == '#' || c == '"' || c == '\\' || c == ',')
            return false;
    }
    return true;
}

static int sub_find(const sc_at_gw_t *g, const char *pid, const char *dn)
{
    for (int i = 0; i < g->nsubs; i++)
        if (!strcmp(g->subs[i].pid, pid) && !strcmp(g->subs[i].dn, dn))
            return i;
    return -1;
}

SC_OUTLINE static void topic(const sc_at_gw_env_t *e, bool res, char *t, size_t cap)
{
    snprintf(t, cap, "$gateway/operation/%s%s/%s", res ? "result/" : "", e->dev->product_id, e->dev->device_name);
}

/* {"type":"<op>","payload":{"devices":[{"product_id":…,"device_name":…[, bind proof]}]}} */
static bool build(const sc_at_gw_env_t *e, sc_at_gw_t *g, const char *secret)
{
    cJSON *o = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(o, "payload");
    cJSON *devs = cJSON_AddArrayToObject(p, "devices"), *d = cJSON_CreateObject();
    bool ok = cJSON_AddStringToObject(o, "type", op_type[g->op]) && devs && d && cJSON_AddItemToArray(devs, d);
    if (!ok)
        cJSON_Delete(d);
    ok = ok && cJSON_AddStringToObject(d, "product_id", g->pid) && cJSON_AddStringToObject(d, "device_name", g->dn);
    if (ok && g->op == GW_BIND) {
        uint32_t nonce = 0;
        uint64_t now = 0;
        if (e->ops->nonce_time)
            e->ops->nonce_time(e->ops->ctx, &nonce, &now);
        nonce = nonce % 2147483647u + 1u;
        char sig[SC_CLOUD_GW_SIGN_SIZE];
        ok = sc_cloud_gw_bind_sign(secret, g->pid, g->dn, nonce, now, sig, sizeof sig) == SC_OK &&
             cJSON_AddStringToObject(d, "signature", sig) && cJSON_AddNumberToObject(d, "random", nonce) &&
             cJSON_AddNumberToObject(d, "timestamp", (double)now) &&
             cJSON_AddStringToObject(d, "signmethod", "hmacsha256") && cJSON_AddStringToObject(d, "authtype", "psk");
        memset(sig, 0, sizeof sig);
    }
    return sc_json_emit(o, ok, NULL, g->msg, sizeof g->msg, NULL) == SC_OK;
}

static int publish(const sc_at_gw_env_t *e, sc_at_gw_t *g)
{
    char t[SC_CLOUD_TOPIC_SIZE + 16];
    topic(e, false, t, sizeof t);
    int r = e->ops->mqtt_publish ? e->ops->mqtt_publish(e->ops->ctx, t, 0, g->msg, strlen(g->msg)) : SC_AT_CME_EXEC;
    if (r != 0) {
        result(e, g, r == SC_AT_PENDING ? SC_AT_CME_EXEC : r);
        return 0;
    }
    g->phase = 2;
    return SC_AT_PENDING;
}

/* AT+TCGWBIND? / AT+TCGWONLINE?: what this session bound / took online, one line each. */
static void query(const sc_at_gw_env_t *e, const sc_at_gw_t *g, bool online)
{
    for (int i = 0; i < g->nsubs; i++) {
        if (online && !g->subs[i].online)
            continue;
        /* The reference firmware quotes the online pair as one string, "P,D" (its PDF shows two
         * fields); names hold no comma (name_ok). The bind list is ours: two fields. */
        sc_at_say(&e->out, online ? "%s:\"%s,%s\"" : "%s:\"%s\",\"%s\"", online ? "+TCGWONLINE" : "+TCGWBIND",
                  g->subs[i].pid, g->subs[i].dn);
    }
    sc_at_line(&e->out, "OK");
}

int sc_at_gw_cmd(const sc_at_gw_env_t *e, sc_at_gw_t *g, bool bind, int form, const sc_at_arg_t *a, size_t n)
{
    if (form == SC_AT_OTA_FORM_QUERY) {
        query(e, g, !bind);
        return 0;
    }
    /* The state first, as every reference command (docs/at.md): no MQTT session, or a gateway
     * request still running. */
    if (!e->mqtt_up || !e->dev || g->phase) {
        sc_at_cme(&e->out, SC_AT_CME_STATE);
        return 0;
    }
    /* mode 0: bind / online; 1: unbind / offline. Only a bind carries the sub-device secret. */
    bool ok = n >= 3 && a[0].is_int && (a[0].v == 0 || a[0].v == 1) && name_ok(&a[1], SC_PRODUCT_ID_MAX) &&
              name_ok(&a[2], SC_DEVICE_NAME_MAX);
    bool with_secret = bind && ok && a[0].v == 0;
    ok = ok && n == (with_secret ? 4u : 3u) &&
         (!with_secret || (a[3].is_str && a[3].slen >= 1 && a[3].slen <= SC_DEVICE_SECRET_MAX));
    if (!ok) {
        sc_at_cme(&e->out, SC_AT_CME_PARAM);
        return 0;
    }
    sc_at_line(&e->out, "OK");
    g->op = (uint8_t)(bind ? (a[0].v ? GW_UNBIND : GW_BIND) : (a[0].v ? GW_OFFLINE : GW_ONLINE));
    memcpy(g->pid, a[1].s, a[1].slen + 1);
    memcpy(g->dn, a[2].s, a[2].slen + 1);
    if (!build(e, g, with_secret ? a[3].s : NULL)) {
        result(e, g, with_secret ? SC_AT_CME_PARAM : SC_AT_CME_EXEC);   /* a secret that is not base64 */
        return 0;
    }
    /* The answer comes on the result topic: subscribe first (again after a reconnect). */
    char t[SC_CLOUD_TOPIC_SIZE + 16];
    topic(e, true, t, sizeof t);
    g->phase = 1;
    int r = e->ops->mqtt_subscribe ? e->ops->mqtt_subscribe(e->ops->ctx, t, 0) : SC_AT_CME_EXEC;
    if (r == SC_AT_PENDING)
        return r;
    return sc_at_gw_complete(e, g, r);
}

int sc_at_gw_complete(const sc_at_gw_env_t *e, sc_at_gw_t *g, int r)
{
    if (g->phase != 1)
        return 0;
    if (r != 0) {
        result(e, g, r);
        return 0;
    }
    return publish(e, g);
}

void sc_at_gw_timeout(const sc_at_gw_env_t *e, sc_at_gw_t *g, int code)
{
    if (g->phase)
        result(e, g, code);
}

static void remember(sc_at_gw_t *g)
{
    int i = sub_find(g, g->pid, g->dn);
    if (g->op == GW_UNBIND) {
        if (i >= 0) {
            memmove(&g->subs[i], &g->subs[i + 1], (size_t)(g->nsubs - i - 1) * sizeof g->subs[0]);
            memset(&g->subs[--g->nsubs], 0, sizeof g->subs[0]);
        }
        return;
    }
    if (i < 0 && g->nsubs < SC_AT_GW_SUB_MAX) {
        i = g->nsubs++;
        memcpy(g->subs[i].pid, g->pid, sizeof g->pid);
        memcpy(g->subs[i].dn, g->dn, sizeof g->dn);
    }
    if (i >= 0 && g->op != GW_BIND)
        g->subs[i].online = g->op == GW_ONLINE;
}

/* The cloud's result code: an integer (0 success). cJSON's valueint truncates 0.5 to 0 and
 * clamps 1e10, so a fraction or a number beyond 32 bits would read as another code, even as
 * success: such an answer is a bad reply (209), as no result at all is "not bound" (-1). */
static int result_code(const cJSON *r)
{
    if (!cJSON_IsNumber(r))
        return GW_ERR_NOT_BOUND;
    double v = r->valuedouble;
    if (!(v >= -2147483648.0 && v <= 2147483647.0) || v != (double)(int)v)
        return SC_AT_CME_EXEC;
    return (int)v;
}

int sc_at_gw_message(const sc_at_gw_env_t *e, sc_at_gw_t *g, const char *t, const void *payload, size_t len)
{
    char want[SC_CLOUD_TOPIC_SIZE + 16];
    if (!e->dev || strncmp(t, "$gateway/operation/result/", 26))
        return 0;
    topic(e, true, want, sizeof want);
    if (strcmp(t, want))
        return 0;
    if (g->phase != 2)
        return 1;   /* late or unasked: the module's own topic, not the host's */
    /* As every network JSON the core reads: no NUL (cJSON would cut "dn\u0000x" to the
     * sub-device's name) and no nesting beyond any result's (cJSON recurses per level, on the
     * module's stack); either is not an answer, like a message that does not parse. */
    cJSON *j = len < 4096 && sc_json_net_ok(payload, len) ? cJSON_ParseWithLength(payload, len) : NULL;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "payload"), "devices");
    const cJSON *d;
    int code = 0;
    bool ours = false;
    if (cJSON_IsString(type) && !strcmp(type->valuestring, op_type[g->op])) {
        cJSON_ArrayForEach(d, devs) {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "product_id");
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, "device_name");
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(d, "result");
            if (cJSON_IsString(p) && cJSON_IsString(n) && !strcmp(p->valuestring, g->pid) &&
                !strcmp(n->valuestring, g->dn)) {
                code = result_code(r);
                ours = true;
                break;
            }
        }
    }
    cJSON_Delete(j);
    if (!ours)
        return 1;
    if (code == 0)
        remember(g);
    result(e, g, code);
    return 2;
}

void sc_at_gw_session_ended(sc_at_gw_t *g)
{
    for (int i = 0; i < g->nsubs; i++)
        g->subs[i].online = false;
}
