/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void sc_log_line(const sc_hal_sys_t *sys, sc_log_level_t level, const char *line)
{
    if (sys && sys->log)
        sys->log(sys->ctx, level, line);
}

void sc_logf(const sc_hal_sys_t *sys, sc_log_level_t level, const char *fmt, ...)
{
    if (!sys || !sys->log)
        return; /* do not pay for formatting nobody reads */
    char line[SC_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sys->log(sys->ctx, level, line);
}
