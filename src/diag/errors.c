/* SPDX-License-Identifier: Apache-2.0 */
/* Error record queue (docs/protocol/tencent.md#errors). Only unsent records are kept and persisted, so the
 * stored set is exactly what the next attempt must report as Previous_Error. */
#include <string.h>

#include "../common/le.h"
#include "smartcfg/diag.h"

void sc_diag_errors_init(sc_diag_errors_t *e)
{
    memset(e, 0, sizeof *e);
    sc_diag_slots_init(&e->slots, SC_DIAG_ERR_KEY_A, SC_DIAG_ERR_KEY_B);
}

/* Payload: count u8, then per record: flags u8, err_id u16 LE, sub_id i32 LE. */
#define REC_BYTES 7

sc_err_t sc_diag_errors_load(sc_diag_errors_t *e, const sc_hal_storage_t *st, uint8_t *scratch)
{
    uint8_t buf[1 + SC_DIAG_MAX_ERRORS * REC_BYTES];
    size_t n = 0;
    e->n = 0;
    sc_err_t rc = sc_diag_slots_load(&e->slots, st, buf, sizeof buf, &n, scratch);
    if (rc != SC_OK)
        return rc;
    if (n < 1 || buf[0] > SC_DIAG_MAX_ERRORS || n != 1u + (size_t)buf[0] * REC_BYTES)
        return SC_ERR_FORMAT;
    for (uint8_t i = 0; i < buf[0]; i++) {
        const uint8_t *p = buf + 1 + i * REC_BYTES;
        sc_diag_err_t *r = &e->rec[e->n++];
        r->previous = 1; /* whatever an earlier attempt left is "previous" now */
        r->err_id = (uint16_t)(p[1] | p[2] << 8);
        r->sub_id = (int32_t)sc_le32_get(p + 3);
    }
    return SC_OK;
}

void sc_diag_errors_add(sc_diag_errors_t *e, uint16_t err_id, int32_t sub_id)
{
    if (e->n == SC_DIAG_MAX_ERRORS)
        sc_diag_errors_pop(e);
    sc_diag_err_t *r = &e->rec[e->n++];
    r->previous = 0;
    r->err_id = err_id;
    r->sub_id = sub_id;
}

void sc_diag_errors_pop(sc_diag_errors_t *e)
{
    if (!e->n)
        return;
    memmove(&e->rec[0], &e->rec[1], (size_t)(e->n - 1) * sizeof e->rec[0]);
    e->n--;
}

sc_err_t sc_diag_errors_persist(sc_diag_errors_t *e, const sc_hal_storage_t *st, uint8_t *scratch)
{
    uint8_t buf[1 + SC_DIAG_MAX_ERRORS * REC_BYTES];
    buf[0] = e->n;
    for (uint8_t i = 0; i < e->n; i++) {
        uint8_t *p = buf + 1 + i * REC_BYTES;
        p[0] = e->rec[i].previous;
        p[1] = (uint8_t)e->rec[i].err_id;
        p[2] = (uint8_t)(e->rec[i].err_id >> 8);
        sc_le32_put(p + 3, (uint32_t)e->rec[i].sub_id);
    }
    return sc_diag_slots_save(&e->slots, st, buf, 1u + (size_t)e->n * REC_BYTES, scratch);
}
