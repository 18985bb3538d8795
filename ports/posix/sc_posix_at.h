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
/* Bytes of replies that may wait for a slow line (the output queue); a reply line that does not
 * fit is dropped whole and counted. 16 KiB: 1.4 s of a 115200-baud line, some 200 replies. */
#define SC_POSIX_AT_OUTQ 16384u

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
/* Output never waits: what the line does not take at once is queued (SC_POSIX_AT_OUTQ) and
 * written by sc_posix_at_on_writable() when sc_posix_at_out_fd() is writable. While
 * sc_posix_at_pending(), poll that descriptor for POLLOUT too (it is sc_posix_at_fd() on a tty).
 * A line that cannot be written at all (the host hung up) drops the queue. */
int sc_posix_at_out_fd(void);
bool sc_posix_at_pending(void);
/* False while the queue is over half full: then input is left in the line (a host that sends
 * commands faster than it reads their replies is slowed, not answered into the void), and
 * sc_posix_at_fd() should not be polled for POLLIN (POLLHUP still tells a hang-up). */
bool sc_posix_at_wants_input(void);
void sc_posix_at_on_writable(void);
/* Bytes queued now; *peak (optional) the most queued since open. */
size_t sc_posix_at_queued(size_t *peak);
/* Bytes dropped (a reply line that found the queue full, or a line gone) and how many reply
 * lines lost bytes so. */
unsigned long sc_posix_at_dropped(void);
unsigned long sc_posix_at_dropped_replies(void);
/* Restores the tty settings and closes. */
void sc_posix_at_close(void);

#ifdef __cplusplus
}
#endif
#endif
