/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <string.h>

#include "json_depth.h"
#include "json_out.h"

sc_err_t sc_json_emit(cJSON *obj, bool built, const char *suffix, char *out, size_t cap, size_t *len)
{
    size_t sl = suffix ? strlen(suffix) : 0;
    /* cJSON takes an int length: a larger buffer is simply more than any message needs */
    size_t room = cap > sl ? cap - sl : 0;
    if (room > (size_t)INT32_MAX)
        room = (size_t)INT32_MAX;
    sc_err_t rc = SC_OK;
    if (!obj || !built)
        rc = SC_ERR_NOMEM;
    else if (!out || room == 0 || !cJSON_PrintPreallocated(obj, out, (int)room, false))
        rc = out && cap ? SC_ERR_NOSPACE : SC_ERR_INVAL;
    cJSON_Delete(obj);
    if (rc != SC_OK) {
        if (out && cap)
            out[0] = '\0';
        return rc;
    }
    size_t n = strlen(out);
    memcpy(out + n, suffix ? suffix : "", sl + 1);
    if (len)
        *len = n + sl;
    return SC_OK;
}

sc_err_t sc_json_get_str(const cJSON *obj, const char *name, char *dst, size_t cap, size_t *len)
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

/* A raw 0 byte, or the escape \u0000 (a backslash run of odd length before "u0000"). */
static bool has_nul(const void *buf, size_t len)
{
    const uint8_t *b = buf;
    if (memchr(b, 0, len))
        return true;
    for (size_t i = 0; i + 6 <= len; i++) {
        if (b[i] != '\\' || memcmp(b + i + 1, "u0000", 5) != 0)
            continue;
        size_t run = 1;
        while (run <= i && b[i - run] == '\\')
            run++;
        if (run % 2)
            return true;
    }
    return false;
}

bool sc_json_depth_ok(const void *buf, size_t len, unsigned max)
{
    const unsigned char *p = buf;
    unsigned depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                return false;
        } else if ((c == '}' || c == ']') && depth) {
            depth--;
        }
    }
    return true;
}

bool sc_json_net_ok(const void *buf, size_t len)
{
    return !has_nul(buf, len) && sc_json_depth_ok(buf, len, SC_JSON_MAX_DEPTH);
}
