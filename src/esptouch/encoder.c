/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "smartcfg/esptouch.h"

void sc_et_datacode(uint8_t value, uint8_t index, uint16_t out[3])
{
    uint8_t pair[2] = { value, index };
    uint8_t crc = sc_crc8(pair, 2);
    out[0] = (uint16_t)(SC_ET_EXTRA_LEN + ((crc & 0xf0) | (value >> 4)));
    out[1] = (uint16_t)(SC_ET_EXTRA_LEN + 256 + index);
    out[2] = (uint16_t)(SC_ET_EXTRA_LEN + (((crc & 0x0f) << 4) | (value & 0x0f)));
}

sc_err_t sc_et_encode(sc_et_encoder_t *enc, const sc_et_creds_t *c)
{
    sc_err_t err = sc_et_creds_check(c);
    if (err)
        return err;
    memset(enc, 0, sizeof *enc);
    const uint8_t s = c->ssid_len, p = c->password_len;
    const uint8_t t = (uint8_t)(9 + s + p);
    uint8_t *d = enc->datum;
    d[0] = t;
    d[1] = p;
    d[2] = sc_crc8(c->ssid, s);
    d[3] = sc_crc8(c->bssid, SC_MAC_LEN);
    memcpy(&d[5], c->phone_ip, 4);
    memcpy(&d[9], c->password, p);
    memcpy(&d[9 + p], c->ssid, s);
    memcpy(&d[t], c->bssid, SC_MAC_LEN);
    uint8_t x = 0;
    for (unsigned i = 0; i < t; i++)
        if (i != 4)
            x ^= d[i];
    d[4] = x;
    enc->t = t;
    enc->ncodes = (uint8_t)(t + 6);

    /* Transmission order (docs/protocol/esptouch-v1.md#transmission-order): indices 0..4, then one
     * BSSID byte after every three regular codes; BSSID bytes left over when the regular codes run
     * out follow in order. */
    unsigned n = 0, next_regular = 5, next_bssid = 0;
    for (unsigned i = 0; i < 5; i++)
        enc->order[n++] = (sc_et_code_t){ (uint8_t)i, d[i] };
    while (next_regular < t || next_bssid < SC_MAC_LEN) {
        if (next_bssid < SC_MAC_LEN) {
            enc->order[n].index = (uint8_t)(t + next_bssid);
            enc->order[n].value = d[t + next_bssid];
            n++;
            next_bssid++;
        }
        for (unsigned k = 0; k < 3 && next_regular < t; k++, next_regular++)
            enc->order[n++] = (sc_et_code_t){ (uint8_t)next_regular, d[next_regular] };
    }
    for (unsigned i = 0; i < n; i++)
        sc_et_datacode(enc->order[i].value, enc->order[i].index, &enc->cycle[3 * i]);
    enc->cycle_len = (uint16_t)(3 * n);
    return SC_OK;
}

void sc_et_mcast_addr(uint32_t group_counter, uint8_t ip[4])
{
    uint8_t n = (uint8_t)(1 + group_counter % 100);
    ip[0] = 234;
    ip[1] = ip[2] = ip[3] = n;
}
