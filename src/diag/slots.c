/* SPDX-License-Identifier: Apache-2.0 */
/* Two-slot records for the error records and the log. The storage HAL replaces atomically
 * (hal.h), and that is all a single record needs (psk, AT device info). These two are
 * different: they are rewritten on every step of every attempt — the records most often
 * being written when the power goes — and the error records are the one account of a failure
 * the app can still get on the next attempt (the reference lost it to power cuts). So they
 * do not lean even on the atomic replace: a new record always goes to the slot that does NOT
 * hold the newest valid one, so a cut at any byte, on any port, leaves that one intact; the
 * reader picks the valid slot (CRC-32) with the newer sequence. */
#include <string.h>

#include "../common/le.h"
#include "smartcfg/diag.h"

uint32_t sc_diag_crc32(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void sc_diag_slots_init(sc_diag_slots_t *s, const char *key_a, const char *key_b)
{
    s->key_a = key_a;
    s->key_b = key_b;
    s->seq = 0;
    s->newest = 0xFF;
}

/* Validates one slot; returns payload length or -1. */
static int read_slot(const sc_hal_storage_t *st, const char *key, uint8_t *scratch, uint32_t *seq)
{
    size_t n = 0;
    if (!st->get || st->get(st->ctx, key, scratch, SC_DIAG_SLOT_MAX, &n) != SC_OK)
        return -1;
    if (n < SC_DIAG_SLOT_HDR + 4 || n > SC_DIAG_SLOT_MAX)
        return -1;
    if (sc_le32_get(scratch) != SC_DIAG_SLOT_MAGIC)
        return -1;
    size_t plen = (size_t)scratch[8] | (size_t)scratch[9] << 8;
    if (SC_DIAG_SLOT_HDR + plen + 4 != n)
        return -1;
    if (sc_diag_crc32(scratch, n - 4) != sc_le32_get(scratch + n - 4))
        return -1;
    *seq = sc_le32_get(scratch + 4);
    return (int)plen;
}

sc_err_t sc_diag_slots_load(sc_diag_slots_t *s, const sc_hal_storage_t *st, void *payload, size_t cap,
                            size_t *len, uint8_t *scratch)
{
    uint32_t seq_a = 0, seq_b = 0;
    int la = read_slot(st, s->key_a, scratch, &seq_a);
    int lb = read_slot(st, s->key_b, scratch, &seq_b);
    s->newest = 0xFF;
    if (la < 0 && lb < 0)
        return SC_ERR_NOTFOUND;
    /* Serial-number comparison so the sequence may wrap. */
    uint8_t pick = la < 0 ? 1 : lb < 0 ? 0 : (sc_ms_diff(seq_b, seq_a) > 0 ? 1 : 0);
    /* Re-read the chosen slot (scratch holds the last one read). */
    uint32_t seq = 0;
    int l = read_slot(st, pick ? s->key_b : s->key_a, scratch, &seq);
    if (l < 0)
        return SC_ERR_IO; /* changed under us */
    s->newest = pick;
    s->seq = seq;
    if ((size_t)l > cap)
        return SC_ERR_NOSPACE;
    memmove(payload, scratch + SC_DIAG_SLOT_HDR, (size_t)l); /* payload may be scratch + HDR */
    *len = (size_t)l;
    return SC_OK;
}

sc_err_t sc_diag_slots_save(sc_diag_slots_t *s, const sc_hal_storage_t *st, const void *payload, size_t len,
                            uint8_t *scratch)
{
    if (!st->put)
        return SC_ERR_UNSUPPORTED;
    if (SC_DIAG_SLOT_HDR + len + 4 > SC_DIAG_SLOT_MAX)
        return SC_ERR_RANGE;
    uint32_t seq = s->newest == 0xFF ? 1 : s->seq + 1;
    uint8_t target = s->newest == 0 ? 1 : 0;
    sc_le32_put(scratch, SC_DIAG_SLOT_MAGIC);
    sc_le32_put(scratch + 4, seq);
    scratch[8] = (uint8_t)len;
    scratch[9] = (uint8_t)(len >> 8);
    memmove(scratch + SC_DIAG_SLOT_HDR, payload, len); /* payload may already be there */
    sc_le32_put(scratch + SC_DIAG_SLOT_HDR + len, sc_diag_crc32(scratch, SC_DIAG_SLOT_HDR + len));
    sc_err_t e = st->put(st->ctx, target ? s->key_b : s->key_a, scratch, SC_DIAG_SLOT_HDR + len + 4);
    if (e != SC_OK)
        return e; /* the newest slot is untouched; next save targets the same slot again */
    s->newest = target;
    s->seq = seq;
    return SC_OK;
}
