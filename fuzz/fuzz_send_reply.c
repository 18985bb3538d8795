/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the phone-side parsers fed by the LAN and the cloud - the UDP 8266 reply parser
 * (in every handshake state) and the token API envelope parser for each action. */
#include <stdint.h>
#include <string.h>

#include "smartcfg/sender.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_send_hs_t h;
    if (sc_send_hs_start(&h, "tok", "ap-guangzhou", NULL, 0) == SC_OK) {
        sc_send_hs_step(&h, 0);
        sc_send_hs_on_datagram(&h, data, size);
        sc_send_hs_on_datagram(&h, data, size); /* again: repeat/identified/failed paths */
        sc_send_hs_step(&h, 60000);
    }
    static const char *const actions[] = { SC_SEND_API_CREATE_TOKEN, SC_SEND_API_TOKEN_STATE, SC_SEND_API_MULTI_STATE };
    sc_send_api_reply_t r;
    for (size_t i = 0; i < 3; i++)
        sc_send_api_parse(actions[i], (const char *)data, size, &r);
    sc_send_acks_t a;
    sc_send_acks_init(&a, size ? data[0] : 0);
    uint32_t idx;
    bool is_new;
    const uint8_t src[4] = { 127, 0, 0, 2 };
    sc_send_acks_on_datagram(&a, src, data, size, &idx, &is_new);
    return 0;
}
