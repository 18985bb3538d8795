/* SPDX-License-Identifier: Apache-2.0 */
/* The POSIX port: HAL implementations for Linux (sockets, libpcap, libmosquitto, libcurl,
 * files). Each backend has its own header; this one holds the system services. */
#ifndef SC_POSIX_H
#define SC_POSIX_H

#include <stdio.h>

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Monotonic clock (ms), wall clock, getrandom(), and a log sink writing to stderr.
 * log_user may be NULL. */
void sc_posix_sys_init(sc_hal_sys_t *sys);
/* Wall-clock time in Unix milliseconds (the "ts" of JSON events, docs/json.md). */
uint64_t sc_posix_unix_ms(void);
uint32_t sc_posix_now_ms(void);
/* The port's entropy (getrandom): fills buf; for request ids, nonces, keys. */
void sc_posix_random(void *buf, size_t len);
/* SIGINT, SIGTERM and SIGHUP (unless it is ignored already, as under nohup) call on_stop
 * (which must be async-signal-safe: set a flag); SIGPIPE is ignored. The hosts' way of letting
 * Ctrl-C, a kill or a closed terminal stop a run cleanly. */
void sc_posix_stop_signals(void (*on_stop)(int sig));
/* fflush(f); when its reader is gone (EPIPE: `smartcfg send --json | head -1` after head
 * exited) the run stops as SIGINT/SIGTERM would stop it, through the on_stop given above
 * (with SIGPIPE ignored a closed pipe is only an error return, so a run printing into it kept
 * going until its timeout). Without sc_posix_stop_signals: a plain flush. */
void sc_posix_output_flush(FILE *f);
/* Sets the minimum level printed by the stderr log sink (default SC_LOG_INFO). */
void sc_posix_log_level(sc_log_level_t level);

#ifdef __cplusplus
}
#endif
#endif
