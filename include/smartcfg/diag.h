/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics that survive power cuts: the error records (Current_Error / Previous_Error,
 * docs/protocol/tencent.md#errors) and the provisioning log ring
 * (docs/protocol/tencent.md#device-log-and-the-log-soft-ap), both persisted through the storage HAL
 * with two slots + sequence number + CRC-32, so a write cut at any byte leaves the previous record
 * readable — even on a port that breaks hal.h's atomic-replace promise (why: slots.c). Fixed size,
 * no heap. */
#ifndef SMARTCFG_DIAG_H
#define SMARTCFG_DIAG_H

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- two-slot crash-safe record ---------------------------------------------------- */
#define SC_DIAG_SLOT_HDR 10          /* magic u32, seq u32, len u16 (little endian) */
#define SC_DIAG_SLOT_MAX 1400        /* header + payload + CRC */
#define SC_DIAG_SLOT_MAGIC 0x31444353u /* "SCD1" */

typedef struct {
    const char *key_a, *key_b;
    uint32_t seq;      /* sequence number of the newest valid slot */
    uint8_t newest;    /* 0 = a, 1 = b, 0xFF = none valid */
} sc_diag_slots_t;

SC_API void sc_diag_slots_init(sc_diag_slots_t *s, const char *key_a, const char *key_b);
/* Reads the newest valid slot into payload. SC_ERR_NOTFOUND when neither slot is valid.
 * scratch must hold SC_DIAG_SLOT_MAX bytes. */
SC_API sc_err_t sc_diag_slots_load(sc_diag_slots_t *s, const sc_hal_storage_t *st, void *payload, size_t cap,
                                   size_t *len, uint8_t *scratch);
/* Writes payload into the slot that does not hold the newest record, with seq + 1. */
SC_API sc_err_t sc_diag_slots_save(sc_diag_slots_t *s, const sc_hal_storage_t *st, const void *payload, size_t len,
                                   uint8_t *scratch);
/* The IEEE CRC-32 (reflected 0xEDB88320, init and final XOR 0xFFFFFFFF; "123456789" ->
 * 0xCBF43926): every stored record's check, and the 802.11 FCS. */
SC_API uint32_t sc_diag_crc32(const void *data, size_t len);

/* --- error records ----------------------------------------------------------------- */
#define SC_DIAG_MAX_ERRORS 16
#define SC_DIAG_ERR_KEY_A "errrec.a"
#define SC_DIAG_ERR_KEY_B "errrec.b"

typedef struct {
    uint8_t previous;   /* 1: from an earlier attempt (Previous_Error) */
    uint16_t err_id;
    int32_t sub_id;
} sc_diag_err_t;

/* Unsent records only: a record leaves the queue once it reached the app. */
typedef struct {
    sc_diag_err_t rec[SC_DIAG_MAX_ERRORS];
    uint8_t n;
    sc_diag_slots_t slots;
} sc_diag_errors_t;

SC_API void sc_diag_errors_init(sc_diag_errors_t *e);
/* Loads what an earlier attempt left unsent; every loaded record becomes "previous". */
SC_API sc_err_t sc_diag_errors_load(sc_diag_errors_t *e, const sc_hal_storage_t *st, uint8_t *scratch);
/* Queues a current error (drops the oldest when full). Does not persist. */
SC_API void sc_diag_errors_add(sc_diag_errors_t *e, uint16_t err_id, int32_t sub_id);
/* Removes the first record (after it was sent). */
SC_API void sc_diag_errors_pop(sc_diag_errors_t *e);
SC_API sc_err_t sc_diag_errors_persist(sc_diag_errors_t *e, const sc_hal_storage_t *st, uint8_t *scratch);

/* --- provisioning log ring --------------------------------------------------------- */
#define SC_DIAG_LOG_ENTRIES 10
#define SC_DIAG_LOG_ENTRY_MAX 128    /* bytes including "\r\n", excluding NUL */
#define SC_DIAG_LOG_KEY_A "log.a"
#define SC_DIAG_LOG_KEY_B "log.b"

typedef struct {
    char entry[SC_DIAG_LOG_ENTRIES][SC_DIAG_LOG_ENTRY_MAX + 1];
    uint8_t head;     /* index of the oldest entry */
    uint8_t count;
    sc_diag_slots_t slots;
} sc_diag_log_t;

SC_API void sc_diag_log_init(sc_diag_log_t *l);
/* Appends "<ms>|<func>(<line>): <msg>\r\n", cut to 128 bytes (the "\r\n" is kept). Callers pass
 * no secret: the device only ever formats steps, reasons, codes and lengths. */
SC_API const char *sc_diag_log_add(sc_diag_log_t *l, uint32_t ms, const char *func, int line, const char *msg);
/* The entries oldest first, concatenated (at most 10 x 128 bytes); NUL-terminated. */
SC_API size_t sc_diag_log_concat(const sc_diag_log_t *l, char *out, size_t cap);
SC_API sc_err_t sc_diag_log_load(sc_diag_log_t *l, const sc_hal_storage_t *st, uint8_t *scratch);
SC_API sc_err_t sc_diag_log_persist(sc_diag_log_t *l, const sc_hal_storage_t *st, uint8_t *scratch);

#ifdef __cplusplus
}
#endif
#endif
