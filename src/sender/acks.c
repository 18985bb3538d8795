/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "smartcfg/sender.h"

void sc_send_acks_init(sc_send_acks_t *a, uint8_t expected_t)
{
    memset(a, 0, sizeof *a);
    a->expected_t = expected_t;
}

sc_err_t sc_send_acks_on_datagram(sc_send_acks_t *a, const uint8_t src_ip[4], const uint8_t *buf,
                                  size_t len, uint32_t *index, bool *is_new)
{
    sc_et_ack_t ack;
    sc_err_t err = sc_et_ack_parse(buf, len, a->expected_t, &ack);
    if (err) {
        a->rejected++;
        return err;
    }
    a->accepted++;
    /* Devices repeat their ack every 100 ms for seconds (docs/protocol/esptouch-v1.md#device-side):
     * one entry per MAC. */
    for (uint32_t i = 0; i < a->ndev; i++) {
        if (!memcmp(a->dev[i].mac, ack.mac, SC_MAC_LEN)) {
            *index = i;
            *is_new = false;
            return SC_OK;
        }
    }
    /* One device per source address (F31): a LAN host acking under made-up MACs would
     * otherwise fill the table before the real device acks, and replies on UDP 8266 are
     * told apart by address anyway. */
    for (uint32_t i = 0; i < a->ndev; i++) {
        if (!memcmp(a->dev[i].src_ip, src_ip, 4)) {
            a->rejected++;
            return SC_ERR_BUSY;
        }
    }
    if (a->ndev >= SC_SEND_MAX_DEVICES) {
        a->overflow++;
        return SC_ERR_NOSPACE;
    }
    sc_send_ack_dev_t *d = &a->dev[a->ndev];
    memcpy(d->mac, ack.mac, SC_MAC_LEN);
    memcpy(d->ack_ip, ack.ip, 4);
    memcpy(d->src_ip, src_ip, 4);
    /* The reference apps trust the body; a mismatch means NAT, a stale DHCP lease or a forged
     * ack, so it is reported and the address that actually reached us is used. */
    d->ip_mismatch = memcmp(ack.ip, src_ip, 4) != 0;
    *index = a->ndev++;
    *is_new = true;
    return SC_OK;
}

void sc_send_abbrev(const char *secret, char *out, size_t cap)
{
    if (!out || cap == 0)
        return;
    out[0] = '\0';
    if (!secret)
        return;
    size_t n = strlen(secret);
    /* Show at most 4 characters and never more than a third of the secret. */
    size_t show = n / 3;
    if (show > 4)
        show = 4;
    static const char ell[] = "\xe2\x80\xa6"; /* U+2026 */
    if (show + sizeof ell > cap)
        show = cap > sizeof ell ? cap - sizeof ell : 0;
    if (cap < sizeof ell) {
        out[0] = '\0';
        return;
    }
    memcpy(out, secret, show);
    memcpy(out + show, ell, sizeof ell);
}
