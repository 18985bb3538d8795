/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "smartcfg/send_stream.h"

sc_err_t sc_send_stream_init(sc_send_stream_t *s, sc_proto_t proto, const sc_et_creds_t *c,
                             const sc_send_extra_t *x, uint32_t window_ms)
{
    if (!s || !c)
        return SC_ERR_INVAL;
    sc_send_extra_t none;
    if (!x) {
        memset(&none, 0, sizeof none);
        x = &none;
    }
    memset(s, 0, sizeof *s);
    s->proto = proto;
    sc_err_t err;
    if (proto == SC_PROTO_ESPTOUCH_V1) {
        sc_et_timing_t t = SC_ET_TIMING_DEFAULT;
        if (window_ms && window_ms < t.window_ms)
            t.window_ms = window_ms;
        err = sc_et_encode(&s->u.v1.enc, c);
        if (!err)
            err = sc_et_sched_init(&s->u.v1.sched, &s->u.v1.enc, &t);
        s->dest_port = SC_ET_PORT;
        s->ack_port = SC_ET_ACK_PORT;
        s->ack_token = s->u.v1.enc.t;
        s->cycle_len = s->u.v1.enc.cycle_len;
        s->max_len = SC_ET_GUIDE_BASE + 3;
    } else if (proto == SC_PROTO_ESPTOUCH_V2) {
        sc_et2_params_t p;
        memset(&p, 0, sizeof p);
        memcpy(p.ssid, c->ssid, c->ssid_len);
        p.ssid_len = c->ssid_len;
        memcpy(p.password, c->password, c->password_len);
        p.password_len = c->password_len;
        if (x->reserved_len > SC_ET2_RESERVED_MAX)
            return SC_ERR_RANGE;
        if (x->reserved_len)
            memcpy(p.reserved, x->reserved, x->reserved_len);
        p.reserved_len = x->reserved_len;
        memcpy(p.bssid, c->bssid, SC_MAC_LEN);
        p.port_mark = x->port_mark;
        if (x->key) {
            memcpy(p.key, x->key, SC_ET2_KEY_LEN);
            p.security = x->random_iv ? 2 : 1;
            memcpy(p.iv, x->iv, SC_ET2_IV_WIRE);
        }
        sc_et2_timing_t t = SC_ET2_TIMING_DEFAULT;
        if (window_ms && window_ms < t.window_ms)
            t.window_ms = window_ms;
        err = sc_et2_encode(&s->u.v2.enc, &p, x->pad, x->pad_user);
        memset(&p, 0, sizeof p);
        if (!err)
            err = sc_et2_sched_init(&s->u.v2.sched, &s->u.v2.enc, &t);
        s->dest_port = SC_ET2_PORT;
        s->ack_port = sc_et2_ack_port(x->port_mark);
        s->ack_token = x->port_mark;
        s->cycle_len = s->u.v2.enc.npkts;
        s->max_len = SC_ET2_COUNT_BASE + SC_ET2_MAX_GROUPS;
    } else if (proto == SC_PROTO_AIRKISS) {
        sc_ak_params_t p;
        memset(&p, 0, sizeof p);
        memcpy(p.ssid, c->ssid, c->ssid_len);
        p.ssid_len = c->ssid_len;
        memcpy(p.password, c->password, c->password_len);
        p.password_len = c->password_len;
        p.random = x->random;
        sc_ak_timing_t t = SC_AK_TIMING_DEFAULT;
        if (window_ms && window_ms < t.window_ms)
            t.window_ms = window_ms;
        err = sc_ak_encode(&s->u.ak.enc, &p);
        memset(&p, 0, sizeof p);
        if (!err)
            err = sc_ak_sched_init(&s->u.ak.sched, &s->u.ak.enc, &t);
        s->dest_port = SC_AK_PORT;
        s->ack_port = SC_AK_ACK_PORT;
        s->ack_token = x->random;
        s->cycle_len = (uint16_t)s->u.ak.enc.round_len;
        s->max_len = 511;
    } else {
        return SC_ERR_INVAL;
    }
    return err;
}

sc_err_t sc_send_stream_next(sc_send_stream_t *s, uint32_t sent_prev_ms, sc_send_dgram_t *out)
{
    if (!s || !out)
        return SC_ERR_INVAL;
    memset(out, 0, sizeof *out);
    sc_err_t err;
    if (s->proto == SC_PROTO_ESPTOUCH_V1) {
        sc_et_dgram_t d;
        err = sc_et_sched_next(&s->u.v1.sched, sent_prev_ms, &d);
        if (err)
            return err;
        out->at_ms = d.at_ms;
        out->len = d.len;
        out->group = d.group;
        out->boundary = d.pos == 0;
    } else if (s->proto == SC_PROTO_ESPTOUCH_V2) {
        sc_et2_dgram_t d;
        err = sc_et2_sched_next(&s->u.v2.sched, sent_prev_ms, &d);
        if (err)
            return err;
        out->at_ms = d.at_ms;
        out->len = d.len;
        /* a group is complete before its next SEQ marker (or the next cycle's SYNC) */
        out->boundary = d.len == SC_ET2_SYNC || (d.len >= SC_ET2_SEQ_BASE && d.len < SC_ET2_SEQ_BASE + 64u);
    } else {
        sc_ak_dgram_t d;
        err = sc_ak_sched_next(&s->u.ak.sched, &d);
        if (err)
            return err;
        out->at_ms = d.at_ms;
        out->len = d.len;
        out->boundary = 1; /* AirKiss has no multi-datagram unit a receiver would miss half of */
    }
    s->prev_ms = out->at_ms;
    return SC_OK;
}

sc_err_t sc_send_stream_ack(const sc_send_stream_t *s, const uint8_t *buf, size_t len, uint8_t mac[SC_MAC_LEN],
                            bool *has_mac)
{
    if (!s || !buf || !mac || !has_mac)
        return SC_ERR_INVAL;
    memset(mac, 0, SC_MAC_LEN);
    *has_mac = false;
    if (s->proto == SC_PROTO_ESPTOUCH_V1) {
        sc_et_ack_t a;
        sc_err_t err = sc_et_ack_parse(buf, len, s->ack_token, &a);
        if (err)
            return err;
        memcpy(mac, a.mac, SC_MAC_LEN);
        *has_mac = true;
        return SC_OK;
    }
    if (s->proto == SC_PROTO_ESPTOUCH_V2) {
        sc_err_t err = sc_et2_ack_parse(buf, len, mac);
        if (!err)
            *has_mac = true;
        return err;
    }
    return sc_ak_ack_parse(buf, len, s->ack_token, mac, has_mac);
}
