/* SPDX-License-Identifier: Apache-2.0 */
/* UDP 8266 protocol: request parsing and reply building (tencent.md §2, §3). */
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "../common/json_out.h"
#include "../common/json_depth.h"

#include "smartcfg/bind.h"

static const char *const err_texts[SC_ERRID__COUNT] = {
    "Everything OK!", "MQTT connect error!", "APP command error!", "WIFI boarding stop!",
    "RTOS task error!", "RTOS queue error!", "WIFI STA init error!", "WIFI AP init error!",
    "WIFI start error!", "WIFI config error!", "WIFI connect error!", "WIFI disconnect error!",
    "WIFI AP STA error!", "ESP smartconfig start error!", "ESP smartconfig data error!",
    "SRV socket open error!", "SRV socket bind error!", "SRV socket listen error!",
    "SRV socket fcntl error!", "SRV socket accept error!", "SRV socket recv error!",
    "SRV socket select error!", "SRV socket send error!", "MQTT Token send error!",
    "MQTT Token reply error!", "MQTT Token recv timeout!", "Product Region fault error!",
    "Device Info error!",
};

const char *sc_bind_err_text(uint16_t err_id)
{
    return err_id < SC_ERRID__COUNT ? err_texts[err_id] : "Unknown error!";
}

static sc_err_t fail(uint16_t *err_id, int32_t *sub_id, int32_t sub, sc_err_t e)
{
    *err_id = SC_ERRID_APP_CMD;
    *sub_id = sub;
    return e;
}

/* Copies a JSON string member; SC_ERR_NOTFOUND when absent, SC_ERR_FORMAT when not a string,
 * SC_ERR_RANGE when longer than cap - 1 (never truncated: a cut token would bind wrongly). */
static sc_err_t get_str(const cJSON *obj, const char *name, char *dst, size_t cap, size_t *len)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!it)
        return SC_ERR_NOTFOUND;
    if (!cJSON_IsString(it) || !it->valuestring)
        return SC_ERR_FORMAT;
    size_t n = strlen(it->valuestring);
    if (n >= cap)
        return SC_ERR_RANGE;
    memcpy(dst, it->valuestring, n + 1);
    if (len)
        *len = n;
    return SC_OK;
}

sc_err_t sc_bind_parse(const void *buf, size_t len, sc_bind_req_t *out, uint16_t *err_id, int32_t *sub_id)
{
    memset(out, 0, sizeof *out);
    *err_id = SC_ERRID_OK;
    *sub_id = 0;
    if (!buf || len == 0 || len > SC_BIND_DGRAM_MAX)
        return fail(err_id, sub_id, SC_SUBID_JSON, SC_ERR_FORMAT);
    if (!sc_json_depth_ok(buf, len, SC_JSON_MAX_DEPTH))   /* before cJSON: it recurses per level */
        return fail(err_id, sub_id, SC_SUBID_JSON, SC_ERR_FORMAT);
    cJSON *root = cJSON_ParseWithLength((const char *)buf, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return fail(err_id, sub_id, SC_SUBID_JSON, SC_ERR_FORMAT);
    }
    sc_err_t rc = SC_OK;
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(root, "cmdType");
    /* cmdType must be an integral number: "0" or 0.5 are a malformed request, not a guess. */
    if (!cJSON_IsNumber(ct) || ct->valuedouble != (double)(int)ct->valuedouble || ct->valueint < 0) {
        rc = fail(err_id, sub_id, SC_SUBID_JSON, SC_ERR_FORMAT);
        goto out;
    }
    out->cmd_type = ct->valueint;
    switch (out->cmd_type) {
    case SC_BIND_CMD_LOG:
        goto out;
    case SC_BIND_CMD_TOKEN:
    case SC_BIND_CMD_SOFTAP:
        break;
    default:
        rc = fail(err_id, sub_id, SC_SUBID_UNKNOWN_CMD, SC_ERR_UNSUPPORTED);
        goto out;
    }
    sc_err_t e = get_str(root, "token", out->token, sizeof out->token, NULL);
    if (e == SC_ERR_RANGE) {
        rc = fail(err_id, sub_id, SC_SUBID_AP_INFO, SC_ERR_RANGE);
        goto out;
    }
    if (e != SC_OK || !out->token[0]) {
        rc = fail(err_id, sub_id, SC_SUBID_JSON, SC_ERR_FORMAT);
        goto out;
    }
    e = get_str(root, "region", out->region, sizeof out->region, NULL);
    if (e == SC_OK)
        out->has_region = true;
    else if (e != SC_ERR_NOTFOUND) {
        rc = fail(err_id, sub_id, SC_SUBID_JSON, SC_ERR_FORMAT);
        goto out;
    }
    if (out->cmd_type == SC_BIND_CMD_SOFTAP) {
        char ssid[33], pwd[65];
        size_t sl = 0, pl = 0;
        e = get_str(root, "ssid", ssid, sizeof ssid, &sl);
        sc_err_t e2 = get_str(root, "password", pwd, sizeof pwd, &pl);
        if (e2 == SC_ERR_NOTFOUND) { /* open network */
            e2 = SC_OK;
            pl = 0;
        }
        if (e != SC_OK || e2 != SC_OK || sl == 0) {
            rc = fail(err_id, sub_id, SC_SUBID_AP_INFO, e == SC_ERR_RANGE || e2 == SC_ERR_RANGE ? SC_ERR_RANGE : SC_ERR_FORMAT);
            memset(pwd, 0, sizeof pwd);
            goto out;
        }
        memcpy(out->ssid, ssid, sl);
        out->ssid_len = (uint8_t)sl;
        memcpy(out->password, pwd, pl);
        out->password_len = (uint8_t)pl;
        memset(pwd, 0, sizeof pwd);
    }
out:
    if (rc != SC_OK)
        memset(out->password, 0, sizeof out->password);
    /* cJSON copied the password into its own heap strings: wipe them before freeing. */
    for (const char *k = "password"; k; k = NULL) {
        cJSON *p = cJSON_GetObjectItemCaseSensitive(root, k);
        if (cJSON_IsString(p) && p->valuestring)
            memset(p->valuestring, 0, strlen(p->valuestring));
    }
    cJSON_Delete(root);
    return rc;
}

sc_err_t sc_bind_build_identity(char *out, size_t cap, const sc_identity_t *id, size_t *len)
{
    if (!out || cap == 0 || !id)
        return SC_ERR_INVAL;
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddNumberToObject(o, "cmdType", SC_BIND_CMD_REPLY) &&
              cJSON_AddStringToObject(o, "productId", id->product_id) &&
              cJSON_AddStringToObject(o, "deviceName", id->device_name) &&
              cJSON_AddStringToObject(o, "productRegion", id->region[0] ? id->region : "ap-guangzhou") &&
              cJSON_AddStringToObject(o, "protoVersion", "2.0");
    return sc_json_emit(o, ok, "\r\n", out, cap, len);
}

sc_err_t sc_bind_build_error(char *out, size_t cap, bool previous, uint16_t err_id, int32_t sub_id, size_t *len)
{
    if (!out || cap == 0)
        return SC_ERR_INVAL;
    char log[96];
    snprintf(log, sizeof log, "%s (%u, %ld)", sc_bind_err_text(err_id), (unsigned)err_id, (long)sub_id);
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddNumberToObject(o, "cmdType", SC_BIND_CMD_REPLY) &&
              cJSON_AddStringToObject(o, "deviceReply", previous ? "Previous_Error" : "Current_Error") &&
              cJSON_AddStringToObject(o, "log", log);
    return sc_json_emit(o, ok, "\r\n", out, cap, len);
}

sc_err_t sc_bind_parse_reply(const void *buf, size_t len, sc_bind_reply_t *out)
{
    memset(out, 0, sizeof *out);
    if (!buf || len == 0 || len > SC_BIND_DGRAM_MAX)
        return SC_ERR_FORMAT;
    cJSON *root = cJSON_ParseWithLength((const char *)buf, len);
    sc_err_t rc = SC_ERR_FORMAT;
    const cJSON *ct = root ? cJSON_GetObjectItemCaseSensitive(root, "cmdType") : NULL;
    if (!cJSON_IsObject(root) || !cJSON_IsNumber(ct) || ct->valueint != SC_BIND_CMD_REPLY)
        goto out;
    char kind[32];
    if (get_str(root, "deviceReply", kind, sizeof kind, NULL) == SC_OK) {
        out->is_error = true;
        out->previous = strcmp(kind, "Previous_Error") == 0;
        if (get_str(root, "log", out->log, sizeof out->log, NULL) != SC_OK)
            goto out;
    } else if (get_str(root, "productId", out->product_id, sizeof out->product_id, NULL) != SC_OK ||
               get_str(root, "deviceName", out->device_name, sizeof out->device_name, NULL) != SC_OK) {
        goto out;
    } else {
        (void)get_str(root, "productRegion", out->region, sizeof out->region, NULL);
    }
    rc = SC_OK;
out:
    cJSON_Delete(root);
    return rc;
}
