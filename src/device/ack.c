/* SPDX-License-Identifier: Apache-2.0 */
/* The ESP-TOUCH acknowledgement burst (docs/protocol/esptouch-v1.md#device-side): once joined,
 * the device tells the phone "I got it" with 11 bytes to UDP 18266, to the phone's address
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
    sc_et_ack_t a;
    a.t = d->res.t;
    memcpy(a.mac, d->mac, SC_MAC_LEN);
    memcpy(a.ip, d->ip, 4);
    uint8_t buf[SC_ET_ACK_LEN];
    sc_et_ack_build(&a, buf);
    static const uint8_t any[4];
    sc_ipv4_ep_t to = { .port = SC_ET_ACK_PORT };
    bool sent = false;
    if (memcmp(d->res.creds.phone_ip, any, 4)) {
        memcpy(to.addr, d->res.creds.phone_ip, 4);
        sent |= send_ack(d, &to, buf, sizeof buf) == SC_OK;
    }
    memset(to.addr, 255, 4);
    sent |= send_ack(d, &to, buf, sizeof buf) == SC_OK;
    if (sent)
        d->stats.acks_sent++;
    if (d->ack_left == d->cfg.ack_count) {
        sc_device_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SC_DEV_EV_ACK_SENT;
        memcpy(ev.peer.addr, d->res.creds.phone_ip, 4);
        ev.peer.port = SC_ET_ACK_PORT;
        memcpy(ev.ip, d->ip, 4);
        sc_dev_emit(d, &ev);
    }
    d->ack_next = now + d->cfg.ack_interval_ms;
    if (--d->ack_left == 0) {
        sc_dev_ack_close(d);
        d->ack_end = now;
    }
}

