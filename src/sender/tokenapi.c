/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <cjson/cJSON.h>

#include "../common/json_depth.h"
#include "../common/json_out.h"

#include "smartcfg/sender.h"

sc_err_t sc_send_api_request(char *out, size_t cap, const char *action, const char *token,
                             const char *request_id, const char *access_token)
{
    if (!out || cap == 0 || !action || !request_id)
        return SC_ERR_INVAL;
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL;
    if (ok && token)
        ok = cJSON_AddStringToObject(o, "Token", token) != NULL;
    ok = ok && cJSON_AddStringToObject(o, "Action", action);
    ok = ok && cJSON_AddStringToObject(o, "RequestId", request_id);
    ok = ok && cJSON_AddStringToObject(o, "AccessToken", access_token ? access_token : "");
    return sc_json_emit(o, ok, NULL, out, cap, NULL);
}

/* Copies a cloud string field when it fits and is printable; false otherwise. */
static bool get_str(const cJSON *o, const char *name, char *dst, size_t cap)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(it))
        return false;
    size_t n = strlen(it->valuestring);
    if (n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)it->valuestring[i] < 0x20 || (unsigned char)it->valuestring[i] > 0x7e)
            return false;
    memcpy(dst, it->valuestring, n + 1);
    return true;
}

static void set_msg(sc_send_api_reply_t *r, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof r->msg; i++)
        r->msg[i] = ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e) ? s[i] : '?';
    r->msg[i] = '\0';
}

static int get_int(const cJSON *o, const char *name, bool *present)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    *present = cJSON_IsNumber(it) && it->valuedouble >= -2147483648.0 && it->valuedouble <= 2147483647.0;
    return *present ? (int)it->valuedouble : 0;
}

static sc_err_t parse_data(const char *action, const cJSON *data, sc_send_api_reply_t *r)
{
    bool have;
    if (!strcmp(action, SC_SEND_API_CREATE_TOKEN)) {
        if (!cJSON_IsObject(data) || !get_str(data, "Token", r->token, sizeof r->token) || !r->token[0]) {
            set_msg(r, "reply has no usable data.Token");
            return SC_ERR_FORMAT;
        }
        int e = get_int(data, "ExpireTime", &have);
        r->expire_time = have && e > 0 ? (uint32_t)e : 0;
        return SC_OK;
    }
    if (!strcmp(action, SC_SEND_API_TOKEN_STATE)) {
        r->state = cJSON_IsObject(data) ? get_int(data, "State", &have) : 0;
        if (!cJSON_IsObject(data) || !have) {
            set_msg(r, "reply has no numeric data.State");
            return SC_ERR_FORMAT;
        }
        get_str(data, "ProductId", r->product_id, sizeof r->product_id);
        get_str(data, "DeviceName", r->device_name, sizeof r->device_name);
        return SC_OK;
    }
    if (!strcmp(action, SC_SEND_API_MULTI_STATE)) {
        const cJSON *list = cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, "Data") : NULL;
        if (!cJSON_IsArray(list)) {
            set_msg(r, "reply has no data.Data list");
            return SC_ERR_FORMAT;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, list) {
            if (!cJSON_IsObject(e) || get_int(e, "State", &have) != 2 || !have)
                continue;
            if (r->nbound >= sizeof r->bound / sizeof r->bound[0])
                break;
            if (get_str(e, "ProductId", r->bound[r->nbound].product_id, sizeof r->bound[0].product_id) &&
                get_str(e, "DeviceName", r->bound[r->nbound].device_name, sizeof r->bound[0].device_name))
                r->nbound++;
        }
        r->state = r->nbound ? 2 : 1;
        return SC_OK;
    }
    return SC_OK; /* other actions: the envelope is all we look at */
}

sc_err_t sc_send_api_parse(const char *action, const char *body, size_t len, sc_send_api_reply_t *r)
{
    if (!action || !r)
        return SC_ERR_INVAL;
    memset(r, 0, sizeof *r);
    r->code = -1;
    if (!body || len == 0) {
        set_msg(r, "empty response");
        return SC_ERR_FORMAT;
    }
    /* bounded nesting before cJSON, which recurses per level (F35) */
    cJSON *o = sc_json_depth_ok(body, len, SC_JSON_MAX_DEPTH) ? cJSON_ParseWithLength(body, len) : NULL;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        set_msg(r, "response is not a JSON object");
        return SC_ERR_FORMAT;
    }
    bool have;
    int code = get_int(o, "code", &have);
    sc_err_t err = SC_OK;
    if (!have) {
        set_msg(r, "response has no numeric code");
        err = SC_ERR_FORMAT;
    } else {
        r->code = code;
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
        const char *msg = NULL;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "msg");
        if (cJSON_IsString(m))
            msg = m->valuestring;
        const cJSON *e = cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, "Error") : NULL;
        const cJSON *em = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "Message") : NULL;
        if (cJSON_IsString(em) && em->valuestring[0])
            msg = em->valuestring;
        set_msg(r, msg ? msg : "");
        if (code == 0)
            err = parse_data(action, data, r);
    }
    cJSON_Delete(o);
    return err;
}

void sc_send_poll_init(sc_send_poll_t *p, uint32_t interval_ms, uint32_t max_polls)
{
    memset(p, 0, sizeof *p);
    p->interval_ms = interval_ms ? interval_ms : 2000;
    p->max_polls = max_polls ? max_polls : 20;
}

void sc_send_poll_restart(sc_send_poll_t *p, uint32_t now_ms)
{
    p->polls = 0;
    p->active = true;
    p->next_at = now_ms + p->interval_ms;
}

bool sc_send_poll_due(sc_send_poll_t *p, uint32_t now_ms)
{
    if (!p->active || p->polls >= p->max_polls || !sc_ms_reached(now_ms, p->next_at))
        return false;
    p->polls++;
    p->next_at = now_ms + p->interval_ms;
    return true;
}

bool sc_send_poll_exhausted(const sc_send_poll_t *p)
{
    return p->active && p->polls >= p->max_polls;
}

void sc_send_poll_stop(sc_send_poll_t *p)
{
    p->active = false;
}

uint32_t sc_send_poll_deadline(const sc_send_poll_t *p)
{
    return p->active && p->polls < p->max_polls ? p->next_at : UINT32_MAX;
}
