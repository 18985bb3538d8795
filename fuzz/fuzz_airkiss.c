/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: AirKiss through the receiver front. The input picks SSID, password and R, the
 * real encoder builds the symbols and the fuzzer plays guide, magic, prefix and sequences in an
 * order and with losses, repeats, sequence jumps and (in hostile mode) arbitrary lengths of its
 * choosing. Without injected lengths any AirKiss result must be exactly what was sent; in every
 * case a result must be self-consistent (CRC8 of the SSID as the magic said, lengths in range). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_reader.h"
#include "smartcfg/receiver.h"

static sc_receiver_t rx;
static sc_ak_encoder_t enc;


static const uint8_t BSSID[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t PHONE[6] = { 0x3c, 0x28, 0x6d, 0x12, 0x34, 0x56 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_t r = { data, size };
    sc_ak_params_t p;
    memset(&p, 0, sizeof p);
    uint8_t mode = u8(&r);
    p.ssid_len = (uint8_t)(1u + u8(&r) % 32u);
    for (unsigned i = 0; i < p.ssid_len; i++)
        p.ssid[i] = u8(&r);
    p.password_len = (uint8_t)(u8(&r) % 65u);
    for (unsigned i = 0; i < p.password_len; i++)
        p.password[i] = u8(&r);
    p.random = u8(&r);
    if (sc_ak_encode(&enc, &p) != SC_OK)
        return 0;
    const int hostile = (mode & 1u) != 0;
    if (sc_receiver_init(&rx, SC_PROTO_ALL) != SC_OK)
        abort();
    uint16_t off = (uint16_t)(40u + u8(&r) % 120u), seq = u8(&r);
    uint32_t now = 0;
    /* the symbol list: guide x8, magic x4, then (prefix + sequences) x4; the fuzzer may pick
     * symbols out of order with op 6 */
    uint16_t list[8 * 4 + 4 * 4 + 4 * (4 + SC_AK_MAX_SEQ_SYMS)];
    unsigned n = 0;
    for (unsigned k = 0; k < 8; k++)
        for (unsigned i = 0; i < 4; i++)
            list[n++] = enc.guide[i];
    for (unsigned k = 0; k < 4; k++)
        for (unsigned i = 0; i < 4; i++)
            list[n++] = enc.magic[i];
    for (unsigned k = 0; k < 4; k++) {
        for (unsigned i = 0; i < 4; i++)
            list[n++] = enc.prefix[i];
        for (unsigned i = 0; i < enc.nseq; i++)
            list[n++] = enc.seq[i];
    }
    for (unsigned i = 0; i < n; i++) {
        uint8_t op = r.n ? u8(&r) : 0;
        uint16_t len = list[i];
        unsigned copies = 1;
        switch (op & 7u) {
        case 1: copies = 0; break;
        case 2: copies = 2; break;
        case 3: seq = (uint16_t)(seq + (op >> 3)); break;
        case 4: if (hostile) len = (uint16_t)(u8(&r) | ((u8(&r) & 1u) << 8)); break;
        case 5: if (hostile) len = (uint16_t)(len ^ (1u << (op >> 5))); break;
        case 6: len = list[u8(&r) % n]; seq = (uint16_t)(seq + 1u + (op >> 3)); break; /* out of order, after a gap */
        default: break;
        }
        for (unsigned c = 0; c < copies; c++) {
            sc_frame_t f;
            memset(&f, 0, sizeof f);
            f.kind = SC_FRAME_80211;
            f.channel = 1;
            f.fc = (uint16_t)((2u << 2) | SC_FC_FROMDS);
            if (c)
                f.fc |= SC_FC_RETRY;
            f.len = (uint16_t)(len + off);
            f.seq_ctrl = (uint16_t)((seq & 0xFFFu) << 4);
            memset(f.addr1, 0xFF, 6);
            memcpy(f.addr2, BSSID, 6);
            memcpy(f.addr3, PHONE, 6);
            sc_rx_event_t ev;
            now += 5;
            if (sc_receiver_feed(&rx, &f, now, &ev) == SC_ET_EV_DONE) {
                const sc_rx_result_t *res = &ev.result;
                if (res->ssid_len > SC_SSID_MAX || res->password_len > SC_PASSWORD_MAX)
                    abort();
                if (res->proto == SC_PROTO_AIRKISS) {
                    if (res->ssid_len == 0)
                        abort();
                    /* out-of-order picks (op 6) are genuine symbols too: still exact */
                    if (!hostile && (res->ssid_len != p.ssid_len || memcmp(res->ssid, p.ssid, p.ssid_len) ||
                                     res->password_len != p.password_len ||
                                     memcmp(res->password, p.password, p.password_len) || res->random != p.random))
                        abort();
                }
                sc_receiver_resume(&rx);
            }
        }
        seq++;
    }
    return 0;
}
