/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <cJSON.h>

#include "../common/json_out.h"

#include "smartcfg/sender.h"

static bool due(uint32_t now, uint32_t at)
{
    return (int32_t)(now - at) >= 0; /* wrap-safe: the ms clock wraps after 49 days */
}

/* Tokens and regions are echoed into JSON and, abbreviated, onto terminals: printable ASCII only. */
static bool printable(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || (unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
            return false;
    return n > 0;
}

/* Device-supplied text goes to terminals and JSON logs: keep printable ASCII, bounded. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
    }
    dst[i] = '\0';
}

static void set_text(sc_send_hs_t *h, const char *s)
{
    copy_text(h->text, sizeof h->text, s);
}

sc_err_t sc_send_hs_start(sc_send_hs_t *h, const char *token, const char *region,
                          const sc_send_hs_timing_t *timing, uint32_t now_ms)
{
    static const sc_send_hs_timing_t ref = SC_SEND_HS_TIMING_DEFAULT;
    if (!h || !token)
        return SC_ERR_INVAL;
    memset(h, 0, sizeof *h);
    h->timing = timing ? *timing : ref;
    if (h->timing.max_sends == 0 || h->timing.resend_ms == 0)
        return SC_ERR_INVAL;
    if (!printable(token, SC_SEND_TOKEN_MAX))
        return SC_ERR_RANGE;
    if (region && region[0] && !printable(region, SC_SEND_REGION_MAX))
        return SC_ERR_RANGE;

    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddNumberToObject(o, "cmdType", 0) && cJSON_AddStringToObject(o, "token", token);
    if (ok && region && region[0])
        ok = cJSON_AddStringToObject(o, "region", region) != NULL;
    size_t n;
    sc_err_t rc = sc_json_emit(o, ok, NULL, h->request, sizeof h->request, &n);
    if (rc != SC_OK)
        return rc;
    h->request_len = n;
    h->state = SC_SEND_HS_WAITING;
    h->next_at = now_ms;
    return SC_OK;
}

sc_send_hs_ev_t sc_send_hs_step(sc_send_hs_t *h, uint32_t now_ms)
{
    if (h->state != SC_SEND_HS_WAITING || !due(now_ms, h->next_at))
        return SC_SEND_HS_EV_NONE;
    if (h->sends < h->timing.max_sends) {
        h->sends++;
        h->next_at = now_ms + h->timing.resend_ms;
        return SC_SEND_HS_EV_SEND;
    }
    /* The last request got its full interval too, as in the mini-program's UdpServer. */
    h->state = SC_SEND_HS_FAILED;
    set_text(h, "device did not answer the token request (UDP_NOT_RESPONSE)");
    return SC_SEND_HS_EV_NO_RESPONSE;
}

uint32_t sc_send_hs_deadline(const sc_send_hs_t *h)
{
    return h->state == SC_SEND_HS_WAITING ? h->next_at : UINT32_MAX;
}

static const char *string_field(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static sc_send_hs_ev_t malformed(sc_send_hs_t *h, const char *why)
{
    h->malformed++;
    set_text(h, why);
    return SC_SEND_HS_EV_MALFORMED;
}

static sc_send_hs_ev_t on_object(sc_send_hs_t *h, const cJSON *o)
{
    if (!cJSON_IsObject(o))
        return malformed(h, "reply is not a JSON object");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(o, "cmdType");
    if (!cJSON_IsNumber(ct))
        return malformed(h, "reply has no numeric cmdType");
    if (ct->valuedouble != 2.0)
        return SC_SEND_HS_EV_IGNORED; /* 5, 7: messages of other flows */

    const cJSON *dr = cJSON_GetObjectItemCaseSensitive(o, "deviceReply");
    if (dr) {
        const char *log = string_field(o, "log");
        if (!cJSON_IsString(dr))
            return malformed(h, "deviceReply is not a string");
        if (!strcmp(dr->valuestring, "Current_Error")) {
            h->replies++;
            if (h->state == SC_SEND_HS_FAILED)
                return SC_SEND_HS_EV_REPEAT;
            h->state = SC_SEND_HS_FAILED;
            set_text(h, log ? log : "(no log text)");
            return SC_SEND_HS_EV_DEVICE_ERROR;
        }
        if (!strcmp(dr->valuestring, "Previous_Error")) {
            h->replies++;
            set_text(h, log ? log : "(no log text)");
            return SC_SEND_HS_EV_PREVIOUS_ERROR;
        }
        return malformed(h, "unknown deviceReply value");
    }

    const char *pid = string_field(o, "productId");
    const char *dn = string_field(o, "deviceName");
    if (!pid || !dn || !pid[0] || !dn[0])
        return malformed(h, "identity reply without productId/deviceName");
    if (strlen(pid) > SC_SEND_PRODUCT_ID_MAX || strlen(dn) > SC_SEND_DEVICE_NAME_MAX)
        return malformed(h, "productId/deviceName too long");
    char p[SC_SEND_PRODUCT_ID_MAX + 1], d[SC_SEND_DEVICE_NAME_MAX + 1];
    copy_text(p, sizeof p, pid);
    copy_text(d, sizeof d, dn);
    h->replies++;
    if (h->state == SC_SEND_HS_IDENTIFIED) {
        /* The device sends its identity 3 times because UDP may be lost: count it once. */
        if (!strcmp(p, h->product_id) && !strcmp(d, h->device_name))
            return SC_SEND_HS_EV_REPEAT;
        return malformed(h, "a second, different identity from the same device");
    }
    if (h->state != SC_SEND_HS_WAITING)
        return SC_SEND_HS_EV_IGNORED;
    memcpy(h->product_id, p, sizeof p);
    memcpy(h->device_name, d, sizeof d);
    const char *region = string_field(o, "productRegion");
    copy_text(h->product_region, sizeof h->product_region, region ? region : "");
    h->state = SC_SEND_HS_IDENTIFIED;
    return SC_SEND_HS_EV_IDENTITY;
}

/* Most significant first: what the caller must act on wins when one datagram holds several. */
static int rank(sc_send_hs_ev_t ev)
{
    switch (ev) {
    case SC_SEND_HS_EV_DEVICE_ERROR: return 6;
    case SC_SEND_HS_EV_IDENTITY: return 5;
    case SC_SEND_HS_EV_PREVIOUS_ERROR: return 4;
    case SC_SEND_HS_EV_MALFORMED: return 3;
    case SC_SEND_HS_EV_REPEAT: return 2;
    case SC_SEND_HS_EV_IGNORED: return 1;
    default: return 0;
    }
}

sc_send_hs_ev_t sc_send_hs_on_datagram(sc_send_hs_t *h, const uint8_t *buf, size_t len)
{
    if (h->state == SC_SEND_HS_IDLE)
        return SC_SEND_HS_EV_IGNORED;
    if (!buf || len == 0)
        return malformed(h, "empty reply");
    const char *p = (const char *)buf, *end = p + len;
    sc_send_hs_ev_t best = SC_SEND_HS_EV_NONE;
    char keep[SC_SEND_TEXT_MAX] = "";
    /* The ESP firmware ends each object with "\r\n", the newer SDK pretty-prints without it;
     * a datagram could carry more than one object, so parse object after object. */
    for (int objects = 0; objects < 8; objects++) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\0'))
            p++;
        if (p >= end)
            break;
        const char *stop = NULL;
        cJSON *o = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &stop, 0);
        sc_send_hs_ev_t ev;
        if (!o) {
            ev = malformed(h, "reply is not JSON");
        } else {
            ev = on_object(h, o);
            cJSON_Delete(o);
        }
        if (rank(ev) > rank(best)) {
            best = ev;
            memcpy(keep, h->text, sizeof keep);
        }
        if (!o || !stop || stop <= p)
            break; /* no way to find the next object after garbage */
        p = stop;
    }
    memcpy(h->text, keep, sizeof keep);
    return best == SC_SEND_HS_EV_NONE ? malformed(h, "empty reply") : best;
}

const char *sc_send_hs_ev_name(sc_send_hs_ev_t ev)
{
    switch (ev) {
    case SC_SEND_HS_EV_NONE: return "none";
    case SC_SEND_HS_EV_SEND: return "token_sent";
    case SC_SEND_HS_EV_IDENTITY: return "identity";
    case SC_SEND_HS_EV_REPEAT: return "repeat";
    case SC_SEND_HS_EV_DEVICE_ERROR: return "device_error";
    case SC_SEND_HS_EV_PREVIOUS_ERROR: return "previous_error";
    case SC_SEND_HS_EV_MALFORMED: return "malformed";
    case SC_SEND_HS_EV_NO_RESPONSE: return "no_response";
    case SC_SEND_HS_EV_IGNORED: return "ignored";
    }
    return "unknown";
}
