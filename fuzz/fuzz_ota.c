/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the OTA core fed an arbitrary $ota/update message (the first part of the input)
 * and an arbitrary HTTP body and outcome (the rest), over an in-memory store. Checks that
 * nothing crashes, that every download ends, that an image is stored only by a successful
 * update, and that what AT+TCREADFWDATA reads back is what was stored. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/support/ota_mem.h"

static uint8_t part[1 << 16], full[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* [msg_len:2][outcome:1][message][body] */
    if (size < 3)
        return 0;
    size_t mlen = (size_t)data[0] | (size_t)data[1] << 8;
    static const sc_err_t ends[] = { SC_ERR_DONE, SC_ERR_IO, SC_ERR_NOTFOUND, SC_ERR_AUTH, SC_ERR_PROTO, SC_ERR_AGAIN };
    omh.end = ends[data[2] % 6];
    data += 3;
    size -= 3;
    if (mlen > size)
        mlen = size;
    omh.body = data + mlen;
    omh.body_len = size - mlen;
    omh.part = part;
    omh.full = full;
    omh.part_cap = sizeof part;
    static sc_ota_t ota;
    if (omh_start(&ota, 1 << 15) != SC_OK)
        abort();
    sc_ota_on_message(&ota, "$ota/update/PRD/dev", data, mlen, 0);
    uint32_t now = 0;
    for (int i = 0; i < 20000 && sc_ota_downloading(&ota); i++) {
        now += 50;
        (void)sc_ota_step(&ota, now);
    }
    if (sc_ota_downloading(&ota))
        abort();   /* every download ends: success, failure or the stall bound */
    sc_ota_fwinfo_t fi;
    if (omh.last_ev == SC_OTA_EV_SUCCESS) {
        if (sc_ota_fw_info(&ota, &fi) != SC_OK || fi.size != omh.full_len)
            abort();
        uint8_t b[700];
        size_t got = 0, n;
        while (sc_ota_fw_read(&ota, b, sizeof b, &n) == SC_OK) {
            if (memcmp(b, full + got, n))
                abort();
            got += n;
        }
        if (got != omh.full_len)
            abort();
    } else if (sc_ota_fw_info(&ota, &fi) == SC_OK) {
        abort();   /* nothing stored unless an update succeeded */
    }
    return 0;
}
