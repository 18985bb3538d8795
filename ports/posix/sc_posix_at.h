/* SPDX-License-Identifier: Apache-2.0 */
/* The AT front-end on a serial line: a tty (a UART such as /dev/ttyUSB0, or a pty) in raw
 * mode, or stdin/stdout for "-". One instance per process, driven from the caller's poll()
 * loop: poll sc_posix_at_fd() for POLLIN, call sc_posix_at_on_readable(), and call
 * sc_posix_at_tick() now and then for operations that complete late. URCs (provisioning
 * results, MQTT events) go through sc_posix_at_core() and the sc_at_* URC functions, or
 * through the device binding (sc_at_device_*), whose output reaches the same line. */
#ifndef SC_POSIX_AT_H
#define SC_POSIX_AT_H

#include "smartcfg/at.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SC_POSIX_AT_DEFAULT_BAUD 115200u

/* path: a tty device or pty, or "-" for stdin/stdout (termios left alone: may be a pipe).
 * baud: 0 = 115200. cfg.output/output_user are replaced by the line writer. On failure err
 * says why. SC_ERR_BUSY when already open. */
sc_err_t sc_posix_at_open(const char *path, uint32_t baud, const sc_at_config_t *cfg, const sc_at_ops_t *ops,
                          char *err, size_t errcap);
/* The descriptor to poll for input (-1 when closed). */
int sc_posix_at_fd(void);
/* Reads what is there (bounded) and runs complete lines. SC_ERR_CLOSED when the other end
 * hung up (EOF / EIO): the caller decides whether to close and exit. */
sc_err_t sc_posix_at_on_readable(uint32_t now_ms);
/* Times out pending operations; returns when it wants to be called again. */
uint32_t sc_posix_at_tick(uint32_t now_ms);
/* The AT context (NULL when closed), e.g. for sc_at_provision_result(). */
sc_at_t *sc_posix_at_core(void);
/* Bytes dropped because the other end did not read for too long. */
unsigned long sc_posix_at_dropped(void);
/* Restores the tty settings and closes. */
void sc_posix_at_close(void);

#ifdef __cplusplus
}
#endif
#endif
