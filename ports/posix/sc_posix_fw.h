/* SPDX-License-Identifier: Apache-2.0 */
/* Firmware image store (sc_hal_fw_t) in the state directory: "ota-image.part" while a
 * download runs, renamed to "ota-image.bin" on commit (fsync of the file and the directory
 * first: a power cut leaves the old image or the new one). Mode 0600 like the records. */
#ifndef SC_POSIX_FW_H
#define SC_POSIX_FW_H

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SC_POSIX_FW_MAX (16u * 1024u * 1024u)   /* largest image accepted (AT+TCFWINFO?'s last field) */

typedef struct {
    int dirfd;     /* the state directory (not owned) */
    int part;      /* the partial image, open while a download writes it; -1 */
    uint32_t part_len;
} sc_posix_fw_t;

void sc_posix_fw_init(sc_posix_fw_t *f, int dirfd, sc_hal_fw_t *hal);
void sc_posix_fw_close(sc_posix_fw_t *f);

#ifdef __cplusplus
}
#endif
#endif
