/* SPDX-License-Identifier: Apache-2.0 */
/* The $thing/{up,down}/service messages around binding (docs/protocol/tencent.md#mqtt). We emit compact
 * JSON and parse with a real JSON parser, so pretty-printed replies work too. */
#include <string.h>

#include <cjson/cJSON.h>

#include "../common/json_depth.h"
#include "../common/json_out.h"
#include "cloud_int.h"
#include "smartcfg/cloud.h"

sc_err_t sc_cloud_client_token(const char *device_name, uint64_t ms, char *out, size_t cap)
{
    if (device_name == NULL || out == NULL)
        return SC_ERR_INVAL;
    sc_sb_t sb;
    sc_sb_init(&sb, out, cap);
    sc_sb_str(&sb, device_name);
    sc_sb_str(&sb, "-");
    sc_sb_u64(&sb, ms);
    return sc_sb_finish(&sb, NULL);
}

/* Every message opens the same way: {"method":"<method>","clientToken":"<client_token>" */
static cJSON *open_msg(const char *method, const char *client_token, bool *ok)
{
    cJSON *o = cJSON_CreateObject();
    *ok = o && cJSON_AddStringToObject(o, "method", method) && cJSON_AddStringToObject(o, "clientToken", client_token);
    return o;
}

sc_err_t sc_cloud_build_app_bind_token(const char *client_token, const char *token, char *out, size_t cap,
                                       size_t *len)
{
    if (client_token == NULL || token == NULL || out == NULL)
        return SC_ERR_INVAL;
    bool ok;
    cJSON *o = open_msg("app_bind_token", client_token, &ok);
    cJSON *params = ok ? cJSON_AddObjectToObject(o, "params") : NULL;
    ok = ok && params && cJSON_AddStringToObject(params, "token", token);
    return sc_json_emit(o, ok, NULL, out, cap, len);
}

static sc_err_t build_reply(const char *method, const char *client_token, int32_t code, char *out, size_t cap,
                            size_t *len)
{
    if (client_token == NULL || out == NULL)
        return SC_ERR_INVAL;
    bool ok;
    cJSON *o = open_msg(method, client_token, &ok);
    ok = ok && cJSON_AddNumberToObject(o, "code", code) &&
         cJSON_AddStringToObject(o, "status", code == 0 ? "success" : "fail");
    return sc_json_emit(o, ok, NULL, out, cap, len);
}

sc_err_t sc_cloud_build_app_bind_token_reply(const char *client_token, int32_t code, char *out, size_t cap,
                                             size_t *len)
{
    return build_reply("app_bind_token_reply", client_token, code, out, cap, len);
}

sc_err_t sc_cloud_build_bind_device_query_reply(const char *client_token, int32_t code, char *out, size_t cap,
                                                size_t *len)
{
    return build_reply("bind_device_query_reply", client_token, code, out, cap, len);
}

sc_err_t sc_cloud_build_bind_device_query(const char *client_token, uint64_t timestamp_ms, char *out, size_t cap,
                                          size_t *len)
{
    if (client_token == NULL || out == NULL)
        return SC_ERR_INVAL;
    bool ok;
    cJSON *o = open_msg("bind_device_query", client_token, &ok);
    ok = ok && cJSON_AddNumberToObject(o, "timestamp", (double)timestamp_ms);
    return sc_json_emit(o, ok, NULL, out, cap, len);
}

/* Copies a JSON string field; false if it is too long (absent is fine: empty). */
static bool copy_str(const cJSON *obj, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    return sc_json_get_str(obj, name, out, cap, NULL) != SC_ERR_RANGE;
}

/* Some cloud variants send numbers as strings ("code":"0"); accept both, reject fractions
 * and out-of-range values rather than guess. */
static bool get_int(const cJSON *obj, const char *name, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    double d;
    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v) && v->valuestring != NULL && v->valuestring[0] != '\0') {
        const char *s = v->valuestring;
        bool neg = *s == '-';
        if (neg)
            s++;
        if (*s == '\0' || strlen(s) > 18)
            return false;
        /* At most 18 digits: exact in 64 bits, and one rounding to double at the end is the
         * rounding the digit-by-digit double sum made (exact below 2^53, where every accepted
         * value lies). */
        int64_t v = 0;
        for (; *s != '\0'; s++) {
            if (*s < '0' || *s > '9')
                return false;
            v = v * 10 + (*s - '0');
        }
        d = (double)(neg ? -v : v);
    } else {
        return false;
    }
    if (!(d >= lo && d <= hi) || d != (double)(int64_t)d)
        return false;
    *out = d;
    return true;
}

sc_err_t sc_cloud_parse_msg(const void *payload, size_t len, sc_cloud_msg_t *out)
{
    if (payload == NULL || out == NULL)
        return SC_ERR_INVAL;
    memset(out, 0, sizeof *out);
    /* What the cloud never sends is malformed rather than read as the message before it: a NUL
     * (raw, or \u0000, which cJSON cuts a string at: clientToken "x\u0000y" would be "x"),
     * anything but white space after the JSON, and nesting deeper than any message (cJSON
     * recurses per level: 1 KB of '[' needs tens of KiB of a chip's stack). A C sender's
     * terminator is not part of the JSON. */
    const char *p = payload;
    while (len > 1 && p[len - 1] == '\0')
        len--;
    if (!sc_json_net_ok(p, len))
        return SC_ERR_FORMAT;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(p, len, &end, false);
    if (root == NULL)
        return SC_ERR_FORMAT;
    for (size_t i = end ? (size_t)(end - p) : len; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') {
            cJSON_Delete(root);
            return SC_ERR_FORMAT;
        }
    }
    sc_err_t rc = SC_OK;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "method");
    if (!cJSON_IsObject(root) || !cJSON_IsString(m) || m->valuestring == NULL) {
        rc = SC_ERR_FORMAT;
        goto done;
    }
    if (!copy_str(root, "method", out->method, sizeof out->method) ||
        !copy_str(root, "clientToken", out->client_token, sizeof out->client_token)) {
        rc = SC_ERR_RANGE;
        goto done;
    }
    double d;
    if (get_int(root, "code", -2147483648.0, 2147483647.0, &d)) {
        out->has_code = true;
        out->code = (int32_t)d;
    }
    /* One lookup for the five methods, indexed by their sc_cloud_msg_type_t (the texts are the
     * same literals the builders and the binder use, merged by the linker); anything else
     * stays SC_CLOUD_MSG_OTHER. */
    static const char *const methods[] = {
        [SC_CLOUD_MSG_APP_BIND_TOKEN] = "app_bind_token",
        [SC_CLOUD_MSG_APP_BIND_TOKEN_REPLY] = "app_bind_token_reply",
        [SC_CLOUD_MSG_BIND_DEVICE_QUERY] = "bind_device_query",
        [SC_CLOUD_MSG_BIND_DEVICE_QUERY_REPLY] = "bind_device_query_reply",
        [SC_CLOUD_MSG_BIND_DEVICE] = "bind_device",
    };
    _Static_assert(SC_CLOUD_MSG_OTHER == 0 && SC_CLOUD_MSG_APP_BIND_TOKEN == 1, "methods[0] is OTHER's, unnamed");
    for (size_t i = SC_CLOUD_MSG_APP_BIND_TOKEN; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(out->method, methods[i]) == 0)
            out->type = (sc_cloud_msg_type_t)i;
    if (out->type == SC_CLOUD_MSG_APP_BIND_TOKEN) {
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
        if (!cJSON_IsObject(params) || !copy_str(params, "token", out->token, sizeof out->token)) {
            rc = cJSON_IsObject(params) ? SC_ERR_RANGE : SC_ERR_FORMAT;
            goto done;
        }
    } else if (out->type == SC_CLOUD_MSG_BIND_DEVICE_QUERY) {
        if (get_int(root, "timestamp", 0, 9007199254740992.0, &d))
            out->timestamp = (uint64_t)d;
    }
done:
    cJSON_Delete(root);
    if (rc != SC_OK) {
        sc_wipe(out->token, sizeof out->token);
        out->type = SC_CLOUD_MSG_OTHER;
    }
    return rc;
}
