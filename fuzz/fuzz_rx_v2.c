/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: ESP-TOUCH v2 through the receiver front (all three decoders at once). The input
 * picks credentials, reserved data, security and key, encodes them with the real encoder, then
 * plays the packet list over a few rounds with fuzzer-chosen loss, duplication, reordering,
 * sequence-number jumps, overhead and foreign lengths. When the input only drops, repeats or
 * delays genuine packets, any v2 result must be exactly what was sent (never a wrong password);
 * in every case a result must be self-consistent and the front must stay within its budget. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_reader.h"
#include "smartcfg/receiver.h"

static sc_receiver_t rx;
static sc_et2_encoder_t enc;


static const uint8_t BSSID[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t PHONE[6] = { 0x3c, 0x28, 0x6d, 0x12, 0x34, 0x56 };

static uint8_t pad(void *user)
{
    return u8((rd_t *)user);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_t r = { data, size };
    sc_et2_params_t p;
    memset(&p, 0, sizeof p);
    uint8_t mode = u8(&r);
    p.ssid_len = (uint8_t)(u8(&r) % 33u);
    for (unsigned i = 0; i < p.ssid_len; i++)
        p.ssid[i] = u8(&r);
    p.password_len = (uint8_t)(u8(&r) % 65u);
    for (unsigned i = 0; i < p.password_len; i++)
        p.password[i] = u8(&r);
    p.reserved_len = (uint8_t)(u8(&r) % 65u);
    for (unsigned i = 0; i < p.reserved_len; i++)
        p.reserved[i] = u8(&r);
    memcpy(p.bssid, BSSID, 6);
    p.security = (uint8_t)(mode % 3u);
    p.port_mark = (uint8_t)((mode >> 2) & 3u);
    memcpy(p.key, "0123456789abcdef", 16);
    for (unsigned i = 0; i < SC_ET2_IV_WIRE; i++)
        p.iv[i] = u8(&r);
    if (sc_et2_encode(&enc, &p, pad, &r) != SC_OK)
        return 0;
    const int hostile = (mode & 0x10u) != 0; /* may inject arbitrary lengths */
    if (sc_receiver_init(&rx, SC_PROTO_ALL) != SC_OK)
        abort();
    if (mode & 0x20u)
        sc_receiver_set_v2_key(&rx, p.key);
    uint16_t off = (uint16_t)(40u + u8(&r) % 120u), seq = u8(&r);
    uint32_t now = 0;
    for (unsigned round = 0; round < 4; round++) {
        for (unsigned i = 0; i < enc.npkts; i++) {
            uint8_t op = r.n ? u8(&r) : 0;
            uint16_t len = enc.pkts[i];
            unsigned copies = 1;
            switch (op & 7u) {
            case 1: copies = 0; break;                               /* lost */
            case 2: copies = 2; break;                               /* repeated */
            case 3: seq = (uint16_t)(seq + (op >> 3)); break;        /* other traffic in between */
            case 4: if (hostile) len = (uint16_t)(u8(&r) | (u8(&r) << 8)) & 0x7FFu; break;
            case 5: if (hostile) len = (uint16_t)(len ^ (1u << (op >> 4))); break;
            default: break;
            }
            for (unsigned c = 0; c < copies; c++) {
                sc_frame_t f;
                memset(&f, 0, sizeof f);
                f.kind = (op & 0x80u) && hostile ? SC_FRAME_LEN_ONLY : SC_FRAME_80211;
                f.channel = 6;
                f.fc = (uint16_t)((2u << 2) | (8u << 4) | SC_FC_TODS | SC_FC_PROTECTED);
                if (c)
                    f.fc |= SC_FC_RETRY;
                f.len = (uint16_t)(len + off);
                f.seq_ctrl = (uint16_t)((seq & 0xFFFu) << 4);
                memcpy(f.addr1, BSSID, 6);
                memcpy(f.addr2, PHONE, 6);
                memset(f.addr3, 0xFF, 6);
                sc_rx_event_t ev;
                now += 15;
                if (sc_receiver_feed(&rx, &f, now, &ev) == SC_ET_EV_DONE) {
                    const sc_rx_result_t *res = &ev.result;
                    if (res->ssid_len > SC_SSID_MAX || res->password_len > SC_PASSWORD_MAX ||
                        res->reserved_len > SC_ET2_RESERVED_MAX)
                        abort();
                    if (!hostile && res->proto == SC_PROTO_ESPTOUCH_V2) {
                        if (res->ssid_len != p.ssid_len || memcmp(res->ssid, p.ssid, p.ssid_len))
                            abort();
                        if (res->password_known &&
                            (res->password_len != p.password_len || memcmp(res->password, p.password, p.password_len) ||
                             res->reserved_len != p.reserved_len || memcmp(res->reserved, p.reserved, p.reserved_len)))
                            abort();
                        if (!res->password_known && (res->password_len || res->reserved_len))
                            abort();
                        if (res->ack_token != p.port_mark)
                            abort();
                    }
                    sc_receiver_resume(&rx);
                }
            }
            seq++;
        }
        sc_receiver_tick(&rx, now);
    }
    return 0;
}
