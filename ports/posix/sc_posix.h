/* SPDX-License-Identifier: Apache-2.0 */
/* The POSIX port: HAL implementations for Linux (sockets, libpcap, libmosquitto, libcurl,
 * files). Each backend has its own header; this one holds the system services. */
#ifndef SC_POSIX_H
#define SC_POSIX_H

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Monotonic clock (ms), wall clock, getrandom(), and a log sink writing to stderr.
 * log_user may be NULL. */
void sc_posix_sys_init(sc_hal_sys_t *sys);
/* Wall-clock time in Unix milliseconds (the "ts" of JSON events, docs/json.md). */
uint64_t sc_posix_unix_ms(void);
/* Whether the wall clock has been set: not before SC_CLOUD_CLOCK_FLOOR (2023; a board counts
 * from 1970 until NTP answers). Until it is, the MQTT and HTTP ports check certificates without
 * their dates and the local cloud makes no certificates (docs/security.md F205-F207). */
bool sc_posix_wall_clock_set(void);
uint32_t sc_posix_now_ms(void);
/* The time of clk (CLOCK_MONOTONIC or CLOCK_REALTIME; an int: clockid_t is not C11's, and this
 * header is installed) ms milliseconds from now, normalised: the absolute deadline that
 * pthread_cond_timedwait (on the condition's clock) and pthread_mutex_clocklock take. */
struct timespec sc_posix_time_in(int clk, int64_t ms);
/* pthread_cond_init on the monotonic clock: its pthread_cond_timedwait takes deadlines from
 * sc_posix_time_in(CLOCK_MONOTONIC, ...). A wait on a condition's default clock, the wall
 * clock, lasts as much longer as an NTP step, `date -s` or a corrected RTC sets that clock back
 * while it waits (hours, after a boot with the RTC in local time). 0 or an errno. */
int sc_posix_cond_init(pthread_cond_t *cond);
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
/* The same stop for a reader found gone while nothing was written (POLLERR on an idle pipe:
 * `smartcfg device --json | head -1` while the device sniffs and prints nothing). */
void sc_posix_output_gone(void);
/* From now on stdout and stderr never make a caller wait (ports/posix/output.c): each gets a
 * queue of at most max_bytes (0: 1 MiB) that one thread writes out, so a reader that stops
 * reading (a stalled journal or log shipper, `| less`) no longer stops the caller's loop. A
 * line that does not fit is dropped whole and counted; the count is told on stderr, prefixed
 * with prog, when the reader reads again. The stop runs at exit (atexit) and waits at most 2 s
 * for a reader that does not read. For long-running tools: the device and the cloud. */
void sc_posix_output_start(const char *prog, size_t max_bytes);
void sc_posix_output_stop(void);
/* Writes n bytes (whole lines) to f: through its queue when f is stdout or stderr and the queue
 * runs, else directly (then flushed with sc_posix_output_flush). */
void sc_posix_output_write(FILE *f, const char *s, size_t n);
/* One line (fmt ends with a newline) formatted and written as above; a line over 2 KiB is cut
 * and keeps its newline. */
void sc_posix_output_printf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets the minimum level printed by the stderr log sink (default SC_LOG_INFO). */
void sc_posix_log_level(sc_log_level_t level);

/* Whether another user could change what st describes (a directory or a file we trust: a state
 * directory, the cloud's registry directory, a join script): 1 when it is owned by a user other
 * than this one or root, 2 when it is writable by its group or others, 0 when neither (root's
 * is accepted: root can do all of this anyway). why gets the reason for an error message:
 * "owned by uid N, not by this user (uid M)", "writable by others (mode 1777)" or "writable by
 * its group (mode 0770)". */
struct stat;
int sc_posix_stat_foreign(const struct stat *st, char *why, size_t n);
/* The directory a path names its last component in ("/" for "/x", "." for a bare name; "a" for
 * "a/b/" and "a//b"). */
void sc_posix_parent_dir(const char *path, char *out, size_t n);
/* Opens a command's output file for writing ("wb", emptied), as fopen(path, "w") would, but
 * where another local user who may write in its directory (/tmp, a shared directory) could have
 * prepared the name: a symbolic link at it is not followed (it could point at any file of ours,
 * ~/.bashrc) unless it is ours or root's in a directory no one else may write in (/dev/stdout,
 * /dev/fd/N), its target then by the same rule; a regular file or FIFO another user owns is not
 * written (it could be theirs to read) nor emptied. Our FIFOs and devices (/dev/null, /dev/full)
 * are written as before. dash: "-" is
 * stdout (a duplicate: closing the FILE leaves stdout open). NULL on failure, with errno and
 * why = the reason for the message ("Is a directory", "is a symbolic link, not followed ..."). */
FILE *sc_posix_open_output(const char *path, bool dash, char *why, size_t n);

#ifdef __cplusplus
}
#endif
#endif
