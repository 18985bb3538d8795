/* SPDX-License-Identifier: Apache-2.0 */
/* Core-internal: the one route by which a core module's log line reaches the port
 * (hal.sys.log). Formats into a bounded stack buffer and drops the line when the port has no
 * log function. Callers format steps, codes, lengths and addresses only — never a password,
 * token, key or PSK (hal.h). The device's persisted provisioning log (diag.h) is a second
 * destination for some lines, not a second route: its lines come here too. */
#ifndef SC_LOG_H
#define SC_LOG_H

#include "smartcfg/hal.h"

#define SC_LOG_LINE_MAX 160

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void sc_logf(const sc_hal_sys_t *sys, sc_log_level_t level, const char *fmt, ...);
/* The same with a finished line (no formatting). */
void sc_log_line(const sc_hal_sys_t *sys, sc_log_level_t level, const char *line);

#endif
