/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the device-side parsers - UDP 8266 requests (and device replies), and the
 * persisted error-record / log slots read back from a corrupted flash (with a valid CRC
 * forged around the fuzz bytes so the record decoders are reached). */
#include <stdint.h>
#include <string.h>

#include "smartcfg/tc8266.h"
#include "smartcfg/diag.h"

static const uint8_t *g_data;
static size_t g_size;

static sc_err_t fz_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len)
{
    (void)ctx;
    /* Slot a: the raw bytes; slot b: the bytes wrapped in a valid header + CRC. */
    uint8_t *o = buf;
    if (key[strlen(key) - 1] == 'a') {
        if (g_size > cap)
            return SC_ERR_NOSPACE;
        memcpy(o, g_data, g_size);
        *len = g_size;
        return SC_OK;
    }
    if (g_size + SC_DIAG_SLOT_HDR + 4 > cap)
        return SC_ERR_NOSPACE;
    uint32_t magic = SC_DIAG_SLOT_MAGIC, seq = 7, crc;
    for (int i = 0; i < 4; i++) {
        o[i] = (uint8_t)(magic >> (8 * i));
        o[4 + i] = (uint8_t)(seq >> (8 * i));
    }
    o[8] = (uint8_t)g_size;
    o[9] = (uint8_t)(g_size >> 8);
    memcpy(o + SC_DIAG_SLOT_HDR, g_data, g_size);
    crc = sc_diag_crc32(o, SC_DIAG_SLOT_HDR + g_size);
    for (int i = 0; i < 4; i++)
        o[SC_DIAG_SLOT_HDR + g_size + i] = (uint8_t)(crc >> (8 * i));
    *len = SC_DIAG_SLOT_HDR + g_size + 4;
    return SC_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_tc8266_req_t r;
    uint16_t e;
    int32_t s;
    sc_tc8266_parse_request(data, size, &r, &e, &s);
    sc_tc8266_reply_t rep;
    sc_tc8266_parse_reply(data, size, &rep, NULL);

    static uint8_t scratch[SC_DIAG_SLOT_MAX];
    g_data = data;
    g_size = size;
    sc_hal_storage_t st = { NULL, fz_get, NULL, NULL };
    static sc_diag_log_t log;
    sc_diag_log_init(&log);
    if (sc_diag_log_load(&log, &st, scratch) == SC_OK) {
        char out[SC_DIAG_LOG_ENTRIES * SC_DIAG_LOG_ENTRY_MAX + 1];
        sc_diag_log_concat(&log, out, sizeof out);
        sc_diag_log_add(&log, 1, "f", 1, "x");
    }
    sc_diag_errors_t er;
    sc_diag_errors_init(&er);
    sc_diag_errors_load(&er, &st, scratch);
    return 0;
}
