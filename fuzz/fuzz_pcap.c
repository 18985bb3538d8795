/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: input bytes are a capture file (pcap or pcapng) read through the pcap reader
 * (fmemopen + pcap_fopen_offline) into the ESP-TOUCH receiver, resetting it after every
 * result as `smartcfg decode` does. Finds crashes/hangs in radiotap/802.11 parsing and in the
 * receiver's handling of whatever frames a hostile capture yields. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sc_pcap.h"
#include "smartcfg/esptouch_rx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sc_et_rx_t rx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0; /* fmemopen rejects empty buffers */
    FILE *fp = fmemopen((void *)(uintptr_t)data, size, "rb");
    if (!fp)
        return 0;
    char eb[256];
    sc_pcap_src_t *src = sc_pcap_open_fp(fp, "fuzz", eb, sizeof eb);
    if (!src)
        return 0;
    sc_et_rx_init(&rx, NULL);
    sc_frame_t f;
    uint64_t first = 0;
    int have = 0;
    /* bounded: a record costs at least 16 input bytes, so this never cuts real input short */
    for (size_t n = 0; n < size && sc_pcap_next(src, &f) > 0; n++) {
        if (!have) {
            first = f.ts_us;
            have = 1;
        }
        uint32_t now = f.ts_us >= first ? (uint32_t)((f.ts_us - first) / 1000u) : 0;
        sc_et_event_t ev;
        if (sc_et_rx_feed(&rx, &f, now, &ev) == SC_ET_EV_DONE)
            sc_et_rx_reset(&rx);
        sc_et_rx_tick(&rx, now, NULL);
    }
    (void)sc_pcap_skipped(src);
    sc_pcap_close(src);
    return 0;
}
