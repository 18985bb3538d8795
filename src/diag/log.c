/* SPDX-License-Identifier: Apache-2.0 */
/* Provisioning log ring (docs/protocol/tencent.md#device-log-and-the-log-soft-ap): the latest 10
 * lines of at most 128 bytes in the reference format, persisted with the two-slot scheme so a
 * failure's story survives a reboot. */
#include <stdio.h>
#include <string.h>

#include "smartcfg/diag.h"

void sc_diag_log_init(sc_diag_log_t *l)
{
    memset(l, 0, sizeof *l);
    sc_diag_slots_init(&l->slots, SC_DIAG_LOG_KEY_A, SC_DIAG_LOG_KEY_B);
}

const char *sc_diag_log_add(sc_diag_log_t *l, uint32_t ms, const char *func, int line, const char *msg)
{
    uint8_t idx;
    if (l->count < SC_DIAG_LOG_ENTRIES)
        idx = (uint8_t)((l->head + l->count++) % SC_DIAG_LOG_ENTRIES);
    else {
        idx = l->head;
        l->head = (uint8_t)((l->head + 1) % SC_DIAG_LOG_ENTRIES);
    }
    char *e = l->entry[idx];
    /* Leave room for "\r\n" so a cut line still ends like every other. */
    int n = snprintf(e, SC_DIAG_LOG_ENTRY_MAX - 1, "%lu|%s(%d): %s", (unsigned long)ms, func ? func : "?", line,
                     msg ? msg : "");
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > SC_DIAG_LOG_ENTRY_MAX - 2)
        len = SC_DIAG_LOG_ENTRY_MAX - 2;
    for (size_t i = 0; i < len; i++)
        if (e[i] == '\r' || e[i] == '\n')
            e[i] = ' ';
    memcpy(e + len, "\r\n", 3);
    return e;
}

size_t sc_diag_log_concat(const sc_diag_log_t *l, char *out, size_t cap)
{
    size_t pos = 0;
    if (!cap)
        return 0;
    for (uint8_t i = 0; i < l->count; i++) {
        const char *e = l->entry[(l->head + i) % SC_DIAG_LOG_ENTRIES];
        size_t n = strlen(e);
        if (pos + n >= cap)
            break;
        memcpy(out + pos, e, n);
        pos += n;
    }
    out[pos] = '\0';
    return pos;
}

/* Payload: count u8, then per entry (oldest first): len u8, bytes. Built and parsed in place
 * in the slot scratch buffer so a small MCU stack never holds a second 1.3 KiB copy. */
sc_err_t sc_diag_log_persist(sc_diag_log_t *l, const sc_hal_storage_t *st, uint8_t *scratch)
{
    uint8_t *buf = scratch + SC_DIAG_SLOT_HDR;
    size_t pos = 1;
    buf[0] = l->count;
    for (uint8_t i = 0; i < l->count; i++) {
        const char *e = l->entry[(l->head + i) % SC_DIAG_LOG_ENTRIES];
        size_t n = strlen(e);
        buf[pos++] = (uint8_t)n;
        memcpy(buf + pos, e, n);
        pos += n;
    }
    return sc_diag_slots_save(&l->slots, st, buf, pos, scratch);
}

sc_err_t sc_diag_log_load(sc_diag_log_t *l, const sc_hal_storage_t *st, uint8_t *scratch)
{
    uint8_t *buf = scratch + SC_DIAG_SLOT_HDR;
    size_t n = 0;
    sc_err_t rc = sc_diag_slots_load(&l->slots, st, buf, SC_DIAG_SLOT_MAX - SC_DIAG_SLOT_HDR, &n, scratch);
    if (rc != SC_OK)
        return rc;
    if (n < 1 || buf[0] > SC_DIAG_LOG_ENTRIES)
        return SC_ERR_FORMAT;
    /* Validate everything first: a bad record must not half-replace the ring. */
    size_t pos = 1;
    uint8_t cnt = buf[0];
    for (uint8_t i = 0; i < cnt; i++) {
        if (pos >= n || buf[pos] > SC_DIAG_LOG_ENTRY_MAX || pos + 1 + buf[pos] > n)
            return SC_ERR_FORMAT;
        pos += 1u + buf[pos];
    }
    if (pos != n)
        return SC_ERR_FORMAT;
    pos = 1;
    for (uint8_t i = 0; i < cnt; i++) {
        memcpy(l->entry[i], buf + pos + 1, buf[pos]);
        l->entry[i][buf[pos]] = '\0';
        pos += 1u + buf[pos];
    }
    l->head = 0;
    l->count = cnt;
    return SC_OK;
}
