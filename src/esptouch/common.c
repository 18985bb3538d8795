/* SPDX-License-Identifier: Apache-2.0 */
/* What both sides of ESP-TOUCH v1 use: the credential limits and the 11-byte ack. Apart from
 * the encoder so that a device build (receiver only, SMARTCFG_WITH_SENDER off) has them. */
#include <string.h>

#include "smartcfg/esptouch.h"

sc_err_t sc_et_creds_check(const sc_et_creds_t *c)
{
    if (!c)
        return SC_ERR_INVAL;
    if (c->ssid_len < 1 || c->ssid_len > SC_SSID_MAX)
        return SC_ERR_RANGE;
    if (c->password_len > SC_PASSWORD_MAX)
        return SC_ERR_RANGE;
    if ((unsigned)c->ssid_len + c->password_len > SC_ET_SP_MAX)
        return SC_ERR_RANGE;
    return SC_OK;
}

void sc_et_ack_build(const sc_et_ack_t *a, uint8_t out[SC_ET_ACK_LEN])
{
    out[0] = a->t;
    memcpy(&out[1], a->mac, SC_MAC_LEN);
    memcpy(&out[7], a->ip, 4);
}

sc_err_t sc_et_ack_parse(const uint8_t *buf, size_t len, uint8_t expected_t, sc_et_ack_t *out)
{
    if (!buf || len != SC_ET_ACK_LEN)
        return SC_ERR_FORMAT;
    if (buf[0] != expected_t)
        return SC_ERR_PROTO;
    out->t = buf[0];
    memcpy(out->mac, &buf[1], SC_MAC_LEN);
    memcpy(out->ip, &buf[7], 4);
    return SC_OK;
}
