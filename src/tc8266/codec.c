/* SPDX-License-Identifier: Apache-2.0 */
/* UDP 8266 protocol: request parsing and reply building
 * (docs/protocol/tencent.md#the-udp-8266-service, #errors). */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../common/json_out.h"
#include "../common/json_depth.h"

#include "smartcfg/tc8266.h"

bool sc_tc8266_token_valid(const char *tok)
{
    size_t n = 0;
    for (const char *p = tok; p && *p; p++, n++) {
        char c = *p;
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' ||
                  c == '.';
        if (!ok || n >= SC_TOKEN_MAX)
            return false;
    }
    return n >= SC_TC8266_TOKEN_MIN;
}

sc_err_t sc_tc8266_parse_request(const void *buf, size_t len, sc_tc8266_req_t *out, uint16_t *err_id, int32_t *sub_id)
{
    memset(out, 0, sizeof *out);
    *err_id = SC_ERRID_OK;
    *sub_id = 0;
    /* Every refusal is err 2 (APP_CMD) with a sub id: the checks below only pick the sub id
     * and the code, and the one exit at `out` reports them (one copy of the error path). */
    int32_t sub = SC_SUBID_JSON;
    sc_err_t rc = SC_ERR_FORMAT;
    cJSON *root = NULL;
    if (!buf || len == 0 || len > SC_TC8266_DGRAM_MAX)
        goto out;
    while (len > 1 && ((const uint8_t *)buf)[len - 1] == 0)
        len--; /* a C client that sent strlen + 1 bytes: the terminator is not part of the JSON */
    if (!sc_json_net_ok(buf, len))   /* no NUL, bounded nesting: before cJSON (it recurses per level) */
        goto out;
    root = cJSON_ParseWithLength((const char *)buf, len);
    if (!root || !cJSON_IsObject(root))
        goto out;
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(root, "cmdType");
    /* cmdType must be an integral number: "0" or 0.5 are a malformed request, not a guess.
     * cJSON's valueint is the number saturated to int (7e117 gives INT_MAX), so the number is
     * a non-negative int exactly when it equals a non-negative valueint. */
    if (!cJSON_IsNumber(ct) || ct->valueint < 0 || ct->valuedouble != (double)ct->valueint)
        goto out;
    out->cmd_type = ct->valueint;
    switch (out->cmd_type) {
    case SC_TC8266_CMD_LOG:
        rc = SC_OK;
        goto out;
    case SC_TC8266_CMD_TOKEN:
    case SC_TC8266_CMD_SOFTAP:
        break;
    default:
        sub = SC_SUBID_UNKNOWN_CMD;
        rc = SC_ERR_UNSUPPORTED;
        goto out;
    }
    sc_err_t e = sc_json_get_str(root, "token", out->token, sizeof out->token, NULL);
    if (e == SC_ERR_RANGE) {
        sub = SC_SUBID_AP_INFO;
        rc = SC_ERR_RANGE;
        goto out;
    }
    if (e != SC_OK || !out->token[0])
        goto out;
    /* Only what the cloud could have issued is ever bound: non-ASCII, control and other odd
     * characters are bad input (err 2, sub 204), like a token that is too long. */
    if (!sc_tc8266_token_valid(out->token)) {
        sc_wipe(out->token, sizeof out->token);
        sub = SC_SUBID_AP_INFO;
        goto out;
    }
    e = sc_json_get_str(root, "region", out->region, sizeof out->region, NULL);
    if (e == SC_OK)
        out->has_region = true;
    else if (e != SC_ERR_NOTFOUND)
        goto out;
    if (out->cmd_type == SC_TC8266_CMD_SOFTAP) {
        char ssid[SC_SSID_MAX + 1], pwd[SC_PASSWORD_MAX + 1];
        size_t sl = 0, pl = 0;
        e = sc_json_get_str(root, "ssid", ssid, sizeof ssid, &sl);
        sc_err_t e2 = sc_json_get_str(root, "password", pwd, sizeof pwd, &pl);
        if (e2 == SC_ERR_NOTFOUND) { /* open network */
            e2 = SC_OK;
            pl = 0;
        }
        if (e != SC_OK || e2 != SC_OK || sl == 0) {
            sub = SC_SUBID_AP_INFO;
            if (e == SC_ERR_RANGE || e2 == SC_ERR_RANGE)
                rc = SC_ERR_RANGE;
            sc_wipe(pwd, sizeof pwd);
            goto out;
        }
        memcpy(out->ssid, ssid, sl);
        out->ssid_len = (uint8_t)sl;
        memcpy(out->password, pwd, pl);
        out->password_len = (uint8_t)pl;
        sc_wipe(pwd, sizeof pwd);
    }
    rc = SC_OK;
out:
    if (rc != SC_OK) {
        *err_id = SC_ERRID_APP_CMD;
        *sub_id = sub;
        sc_wipe(out->password, sizeof out->password);
    }
    /* cJSON copied the password into its own heap strings: wipe them before freeing. */
    cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "password");
    if (cJSON_IsString(p) && p->valuestring)
        sc_wipe(p->valuestring, strlen(p->valuestring));
    cJSON_Delete(root);
    return rc;
}

sc_err_t sc_tc8266_build_identity(char *out, size_t cap, const sc_identity_t *id, size_t *len)
{
    if (!out || cap == 0 || !id)
        return SC_ERR_INVAL;
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddNumberToObject(o, "cmdType", SC_TC8266_CMD_REPLY) &&
              cJSON_AddStringToObject(o, "productId", id->product_id) &&
              cJSON_AddStringToObject(o, "deviceName", id->device_name) &&
              cJSON_AddStringToObject(o, "productRegion", id->region[0] ? id->region : "ap-guangzhou") &&
              cJSON_AddStringToObject(o, "protoVersion", "2.0");
    return sc_json_emit(o, ok, "\r\n", out, cap, len);
}

sc_err_t sc_tc8266_build_error(char *out, size_t cap, bool previous, uint16_t err_id, int32_t sub_id, size_t *len)
{
    if (!out || cap == 0)
        return SC_ERR_INVAL;
    char log[96];
    snprintf(log, sizeof log, "%s (%u, %ld)", sc_errid_text(err_id), (unsigned)err_id, (long)sub_id);
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddNumberToObject(o, "cmdType", SC_TC8266_CMD_REPLY) &&
              cJSON_AddStringToObject(o, "deviceReply", previous ? "Previous_Error" : "Current_Error") &&
              cJSON_AddStringToObject(o, "log", log);
    return sc_json_emit(o, ok, "\r\n", out, cap, len);
}

/* Copies a string member, cut to cap - 1: for texts shown to people, never for identifiers. */
static bool get_text(const cJSON *obj, const char *name, char *dst, size_t cap)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(it) || !it->valuestring)
        return false;
    size_t n = strlen(it->valuestring);
    n = n < cap ? n : cap - 1;
    memcpy(dst, it->valuestring, n);
    dst[n] = '\0';
    return true;
}

static sc_err_t reply_format(sc_tc8266_reply_t *out, const char *why)
{
    out->why = why;
    return SC_ERR_FORMAT;
}

static sc_err_t reply_from_object(const cJSON *o, sc_tc8266_reply_t *out)
{
    if (!cJSON_IsObject(o))
        return reply_format(out, "reply is not a JSON object");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(o, "cmdType");
    if (!cJSON_IsNumber(ct))
        return reply_format(out, "reply has no numeric cmdType");
    if (ct->valuedouble != (double)SC_TC8266_CMD_REPLY) {
        out->other_cmd = true;
        return SC_OK;
    }
    const cJSON *dr = cJSON_GetObjectItemCaseSensitive(o, "deviceReply");
    if (dr) {
        if (!cJSON_IsString(dr) || !dr->valuestring)
            return reply_format(out, "deviceReply is not a string");
        if (strcmp(dr->valuestring, "Current_Error") && strcmp(dr->valuestring, "Previous_Error"))
            return reply_format(out, "unknown deviceReply value");
        out->is_error = true;
        out->previous = strcmp(dr->valuestring, "Previous_Error") == 0;
        out->has_log = get_text(o, "log", out->log, sizeof out->log);
        return SC_OK;
    }
    sc_err_t ep = sc_json_get_str(o, "productId", out->product_id, sizeof out->product_id, NULL);
    sc_err_t ed = sc_json_get_str(o, "deviceName", out->device_name, sizeof out->device_name, NULL);
    if ((ep != SC_OK && ep != SC_ERR_RANGE) || (ed != SC_OK && ed != SC_ERR_RANGE) ||
        (ep == SC_OK && !out->product_id[0]) || (ed == SC_OK && !out->device_name[0]))
        return reply_format(out, "identity reply without productId/deviceName");
    if (ep == SC_ERR_RANGE || ed == SC_ERR_RANGE)
        return reply_format(out, "productId/deviceName too long");
    (void)get_text(o, "productRegion", out->region, sizeof out->region);
    return SC_OK;
}

sc_err_t sc_tc8266_parse_reply(const void *buf, size_t len, sc_tc8266_reply_t *out, size_t *used)
{
    memset(out, 0, sizeof *out);
    if (used)
        *used = 0;
    if (!buf || len == 0)
        return reply_format(out, "empty reply");
    /* Bounded nesting before cJSON, which recurses per level (F35). Raw NULs between objects
     * stay allowed (the loop of sc_send_hs_on_datagram skips them). */
    if (!sc_json_depth_ok(buf, len, SC_JSON_MAX_DEPTH))
        return reply_format(out, "reply nested too deep");
    const char *p = buf, *stop = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(p, len, &stop, false);
    if (!root)
        return reply_format(out, "reply is not JSON");
    if (used)
        *used = stop && stop > p ? (size_t)(stop - p) : len;
    sc_err_t rc = reply_from_object(root, out);
    cJSON_Delete(root);
    if (rc != SC_OK) { /* a bad reply hands out nothing but the reason */
        const char *why = out->why;
        memset(out, 0, sizeof *out);
        out->why = why;
    }
    return rc;
}
