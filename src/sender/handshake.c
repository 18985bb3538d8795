/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "../common/json_out.h"
#include "../common/outline.h"
#include "../common/pool.h"
#include "smartcfg/sender.h"
#include "smartcfg/tc8266.h"

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

SC_OUTLINE static void set_text(sc_send_hs_t *h, const char *s)
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
    if (!printable(token, SC_TOKEN_MAX))
        return SC_ERR_RANGE;
    if (region && region[0] && !printable(region, SC_REGION_MAX))
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
    if (h->state != SC_SEND_HS_WAITING || !sc_ms_reached(now_ms, h->next_at))
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

static sc_send_hs_ev_t malformed(sc_send_hs_t *h, const char *why)
{
    h->malformed++;
    set_text(h, why);
    return SC_SEND_HS_EV_MALFORMED;
}

/* One parsed reply (tc8266.h does the parsing, for the device's tests and us alike). */
static sc_send_hs_ev_t on_reply(sc_send_hs_t *h, sc_err_t rc, const sc_tc8266_reply_t *r)
{
    if (rc != SC_OK)
        return malformed(h, r->why ? r->why : "unusable reply");
    if (r->other_cmd)
        return SC_SEND_HS_EV_IGNORED; /* 5, 7: messages of other flows */
    if (r->is_error) {
        h->replies++;
        if (!r->previous && h->state == SC_SEND_HS_FAILED)
            return SC_SEND_HS_EV_REPEAT;
        if (!r->previous)
            h->state = SC_SEND_HS_FAILED;
        set_text(h, r->has_log ? r->log : "(no log text)");
        return r->previous ? SC_SEND_HS_EV_PREVIOUS_ERROR : SC_SEND_HS_EV_DEVICE_ERROR;
    }
    char p[SC_PRODUCT_ID_MAX + 1], d[SC_DEVICE_NAME_MAX + 1];
    copy_text(p, sizeof p, r->product_id);
    copy_text(d, sizeof d, r->device_name);
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
    copy_text(h->product_region, sizeof h->product_region, r->region);
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
        sc_tc8266_reply_t r;
        size_t used = 0;
        sc_err_t rc = sc_tc8266_parse_reply(p, (size_t)(end - p), &r, &used);
        sc_send_hs_ev_t ev = on_reply(h, rc, &r);
        if (rank(ev) > rank(best)) {
            best = ev;
            memcpy(keep, h->text, sizeof keep);
        }
        if (used == 0)
            break; /* no way to find the next object after garbage */
        p += used;
    }
    memcpy(h->text, keep, sizeof keep);
    return best == SC_SEND_HS_EV_NONE ? malformed(h, "empty reply") : best;
}

/* A text pool (pool.h) in the enum's order: the switch it replaces compiled to a table of
 * pointers, 4 bytes of flash per name. */
static const char ev_names[] = "none\0token_sent\0identity\0repeat\0device_error\0previous_error\0malformed\0"
                               "no_response\0ignored";
_Static_assert(SC_SEND_HS_EV_NONE == 0 && SC_SEND_HS_EV_IGNORED == 8, "one name per event in ev_names");

const char *sc_send_hs_ev_name(sc_send_hs_ev_t ev)
{
    return (unsigned)ev <= SC_SEND_HS_EV_IGNORED ? sc_pool_at(ev_names, (unsigned)ev) : "unknown";
}
