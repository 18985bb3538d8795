/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: input bytes become a sequence of frames (kind, lengths, header fields, time
 * steps, channel) fed to the receiver, with an optional scan list from the first bytes. Any
 * DONE result must be self-consistent: valid lengths, T, SSID/BSSID CRCs and the XOR of the
 * datum it claims; otherwise abort(). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smartcfg/esptouch_rx.h"

static sc_et_rx_t rx;

typedef struct {
    const uint8_t *p;
    size_t n;
} rd_t;

static uint8_t u8(rd_t *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static uint16_t u16(rd_t *r)
{
    uint16_t v = u8(r);
    return (uint16_t)(v | (u8(r) << 8));
}

static void check(const sc_et_result_t *res)
{
    const sc_et_creds_t *c = &res->creds;
    if (sc_et_creds_check(c) != SC_OK)
        abort();
    if (res->t != 9 + c->ssid_len + c->password_len)
        abort();
    /* rebuild the datum the result stands for and verify its own checks */
    sc_et_encoder_t enc;
    if (sc_et_encode(&enc, c) != SC_OK)
        abort();
    if (enc.t != res->t)
        abort();
    uint8_t x = 0;
    for (unsigned i = 0; i < enc.t; i++)
        if (i != 4)
            x ^= enc.datum[i];
    if (x != enc.datum[4] || enc.datum[2] != sc_crc8(c->ssid, c->ssid_len) ||
        enc.datum[3] != sc_crc8(c->bssid, SC_MAC_LEN))
        abort();
}

/* A frame built around a length: the fuzzer picks the kind, flags and a few addresses;
 * lengths are often near the protocol's alphabet so deep states are reachable. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_t r = { data, size };
    sc_et_rx_config_t cfg = { 0, 160, 2500 };
    uint8_t mode = u8(&r);
    if (mode & 1u) {
        cfg.offset_min = u8(&r);
        cfg.offset_max = u8(&r);
        cfg.idle_unlock_ms = (uint32_t)u16(&r) + 1u;
    }
    if (sc_et_rx_init(&rx, (mode & 1u) ? &cfg : NULL) != SC_OK)
        sc_et_rx_init(&rx, NULL);
    if (mode & 2u) {
        sc_scan_entry_t scan[3];
        memset(scan, 0, sizeof scan);
        size_t ns = (size_t)(u8(&r) % 4u);
        for (size_t i = 0; i < ns; i++) {
            scan[i].ssid_len = (uint8_t)(u8(&r) % 34u);
            for (unsigned k = 0; k < scan[i].ssid_len && k < SC_SSID_MAX; k++)
                scan[i].ssid[k] = u8(&r);
            for (unsigned k = 0; k < 6; k++)
                scan[i].bssid[k] = u8(&r);
        }
        sc_et_rx_set_scan(&rx, scan, ns);
    }
    uint8_t macs[4][6] = { { 0, 0x11, 0x22, 0x33, 0x44, 0x55 }, { 0x3c, 0x28, 0x6d, 1, 2, 3 },
                           { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, { 0x01, 0x00, 0x5e, 1, 1, 1 } };
    uint32_t now = 0;
    uint16_t off = 80;
    while (r.n) {
        sc_frame_t f;
        memset(&f, 0, sizeof f);
        uint8_t op = u8(&r);
        uint8_t b = u8(&r);
        switch (op & 3u) {
        case 0: /* a datum symbol around the current offset */
            f.len = (uint16_t)(off + 40u + b + ((op & 4u) ? 256u : 0u));
            break;
        case 1: /* a guide length */
            f.len = (uint16_t)(off + 512u + (b & 3u));
            break;
        case 2:
            f.len = u16(&r);
            break;
        default:
            off = b;
            f.len = (uint16_t)(off + 40u + u8(&r));
            break;
        }
        f.kind = (uint8_t)((op >> 3) % 4u == 3u ? (op >> 5) % 3u : SC_FRAME_80211);
        f.channel = (uint8_t)(1u + ((op >> 6) & 1u));
        unsigned dir = (op >> 4) & 1u;
        f.fc = (uint16_t)(0x0008u | (dir ? SC_FC_FROMDS : SC_FC_TODS) | SC_FC_PROTECTED);
        if (op & 0x80u)
            f.fc = u16(&r);
        f.seq_ctrl = (uint16_t)(now << 4);
        const uint8_t *bss = macs[0], *sta = macs[(op >> 5) & 1u], *da = macs[2 + ((op >> 2) & 1u)];
        memcpy(f.addr1, dir ? da : bss, 6);
        memcpy(f.addr2, dir ? bss : sta, 6);
        memcpy(f.addr3, dir ? sta : da, 6);
        now += (uint32_t)(b & 0x0fu) + ((op & 0x40u) ? (uint32_t)u8(&r) * 40u : 0u);
        sc_et_event_t ev;
        sc_et_event_type_t t = sc_et_rx_feed(&rx, &f, now, &ev);
        if (t != ev.type)
            abort();
        if (t == SC_ET_EV_DONE) {
            check(&ev.result);
            if (b & 1u)
                sc_et_rx_reset(&rx);
            else if (sc_et_rx_resume(&rx) != SC_OK)
                abort();
        }
        if ((b & 0xf0u) == 0xf0u && sc_et_rx_tick(&rx, now, &ev) == SC_ET_EV_DONE)
            abort();
    }
    return 0;
}
