/* SPDX-License-Identifier: Apache-2.0 */
/* The acknowledgement burst (docs/protocol/esptouch-v1.md#device-side; v2 and AirKiss in
 * docs/protocol/esptouch-v2.md and airkiss.md): once joined, the device tells the phone "I got
 * it" in the protocol that delivered the credentials — for v1 with 11 bytes to UDP 18266, to the phone's address
 * from the datum and to broadcast (the phone may have left the AP's subnet view, and a sender
 * may have put 255.255.255.255 in the datum), every ack_interval_ms, ack_count times. It runs
 * beside the state machine on its own socket and never changes the state. */
#include <string.h>

#include "device_priv.h"

static sc_err_t send_ack(devstate_t *d, const sc_ipv4_ep_t *to, const void *buf, size_t len)
{
    if (!d->hal.udp.send_to)
        return SC_ERR_UNSUPPORTED;
    return d->hal.udp.send_to(d->hal.udp.ctx, d->ack_h, to, buf, len);
}

sc_err_t sc_dev_ack_open(devstate_t *d, uint32_t now)
{
    sc_err_t e = d->hal.udp.open(d->hal.udp.ctx, d->ip, 0, true, &d->ack_h);
    if (e != SC_OK) {
        d->ack_end = now;
        return e;
    }
    d->ack_open = true;
    d->ack_left = d->cfg.ack_count;
    d->ack_next = now;
    d->ack_end = now + (uint32_t)d->cfg.ack_count * d->cfg.ack_interval_ms;
    return SC_OK;
}

void sc_dev_ack_close(devstate_t *d)
{
    if (d->ack_open && d->hal.udp.close)
        d->hal.udp.close(d->hal.udp.ctx, d->ack_h);
    d->ack_open = false;
    d->ack_h = -1;
    d->ack_left = 0;
}

void sc_dev_ack_step(devstate_t *d, uint32_t now)
{
    if (!d->ack_open || !d->ack_left || !sc_ms_reached(now, d->ack_next))
        return;
    /* the ack speaks the protocol that delivered the credentials (docs/device-linux.md) */
    uint8_t buf[SC_ET_ACK_LEN];
    size_t blen;
    sc_ipv4_ep_t to = { .port = SC_ET_ACK_PORT };
    /* a protocol left out of the build (features.h) never delivers credentials: no ack */
#if SMARTCFG_WITH_ESPTOUCH_V2
    if (d->proto == SC_PROTO_ESPTOUCH_V2) {
        sc_et2_ack_build(d->ack_token, d->mac, buf); /* [port mark, MAC] to the phone's port */
        blen = SC_ET2_ACK_LEN;
        to.port = sc_et2_ack_port(d->ack_token);
    } else
#endif
#if SMARTCFG_WITH_AIRKISS
    if (d->proto == SC_PROTO_AIRKISS) {
        buf[0] = d->ack_token; /* the random byte alone: what every AirKiss phone accepts */
        blen = 1;
        to.port = SC_AK_ACK_PORT;
    } else
#endif
    {
        sc_et_ack_t a;
        a.t = d->res.t;
        memcpy(a.mac, d->mac, SC_MAC_LEN);
        memcpy(a.ip, d->ip, 4);
        sc_et_ack_build(&a, buf);
        blen = SC_ET_ACK_LEN;
    }
    static const uint8_t any[4];
    bool sent = false;
    if (memcmp(d->res.creds.phone_ip, any, 4)) {
        memcpy(to.addr, d->res.creds.phone_ip, 4);
        sent |= send_ack(d, &to, buf, blen) == SC_OK;
    }
    memset(to.addr, 255, 4);
    sent |= send_ack(d, &to, buf, blen) == SC_OK;
    if (sent)
        d->stats.acks_sent++;
    if (d->ack_left == d->cfg.ack_count) {
        sc_device_event_t ev;
        sc_dev_ev_init(&ev, SC_DEV_EV_ACK_SENT);
        /* the phone's address, or the broadcast one when the protocol carries none (v2,
         * AirKiss): never 0.0.0.0, where no ack went */
        memcpy(ev.peer.addr, memcmp(d->res.creds.phone_ip, any, 4) ? d->res.creds.phone_ip : to.addr, 4);
        ev.peer.port = to.port;
        memcpy(ev.ip, d->ip, 4);
        sc_dev_emit(d, &ev);
    }
    d->ack_next = now + d->cfg.ack_interval_ms;
    if (--d->ack_left == 0) {
        sc_dev_ack_close(d);
        d->ack_end = now;
    }
}

