/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "sc_posix.h"
#include "smartcfg/cloud.h"

static sc_log_level_t log_threshold = SC_LOG_INFO;

uint32_t sc_posix_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

struct timespec sc_posix_time_in(int clk, int64_t ms)
{
    struct timespec ts;
    clock_gettime((clockid_t)clk, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int sc_posix_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc == 0) {
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (rc == 0)
            rc = pthread_cond_init(cond, &ca);
        pthread_condattr_destroy(&ca);
    }
    return rc;
}

bool sc_posix_wall_clock_set(void)
{
    return (uint64_t)time(NULL) >= SC_CLOUD_CLOCK_FLOOR;
}

uint64_t sc_posix_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t sys_now_ms(void *ctx)
{
    (void)ctx;
    return sc_posix_now_ms();
}

static uint64_t sys_unix_time(void *ctx)
{
    (void)ctx;
    return (uint64_t)time(NULL);
}

void sc_posix_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n <= 0)
            continue; /* EINTR; getrandom never fails otherwise once the pool is seeded */
        p += n;
        len -= (size_t)n;
    }
}

static void sys_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    sc_posix_random(buf, len);
}

/* Colour only for a person at a terminal who has not asked for none (https://no-color.org). */
static bool log_colour(void)
{
    static int c = -1;
    if (c < 0) {
        const char *nc = getenv("NO_COLOR");
        c = isatty(STDERR_FILENO) && !(nc && *nc) ? 1 : 0;
    }
    return c == 1;
}

/* The device's record lines look like "<ms>|<function>(<line>): <text>" (diag.h): the
 * function and line help whoever debugs the code, not the person running it. */
static const char *strip_record_prefix(const char *line)
{
    const char *p = line;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p == line || *p != '|')
        return line;
    const char *q = strstr(p, "): ");
    return q && memchr(p, '(', (size_t)(q - p)) ? q + 3 : line;
}

/* One line per message on stderr: wall-clock time, level, text; coloured by level on a terminal. */
static void sys_log(void *ctx, sc_log_level_t level, const char *line)
{
    (void)ctx;
    static const char *const names[] = { "error", "warn", "info", "debug" };
    static const char *const colours[] = { "\033[31m", "\033[33m", "", "\033[2m" };
    if (level > log_threshold)
        return;
    unsigned l = level <= SC_LOG_DEBUG ? (unsigned)level : SC_LOG_DEBUG;
    if (log_threshold < SC_LOG_DEBUG)
        line = strip_record_prefix(line);
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    bool col = log_colour() && colours[l][0];
    sc_posix_output_printf(stderr, "%02d:%02d:%02d.%03ld %s%-5s %s%s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
                           ts.tv_nsec / 1000000L, col ? colours[l] : "", names[l], line, col ? "\033[0m" : "");
}

void sc_posix_log_level(sc_log_level_t level)
{
    log_threshold = level;
}

void sc_posix_sys_init(sc_hal_sys_t *sys)
{
    sys->ctx = NULL;
    sys->now_ms = sys_now_ms;
    sys->unix_time = sys_unix_time;
    sys->random = sys_random;
    sys->log = sys_log;
}

/* The run's stop request (sc_posix_stop_signals), also for an output whose reader is gone. */
static void (*g_on_stop)(int sig);

void sc_posix_output_flush(FILE *f)
{
    if (fflush(f) == EOF && errno == EPIPE && g_on_stop)
        g_on_stop(SIGPIPE);
}

void sc_posix_output_gone(void)
{
    if (g_on_stop)
        g_on_stop(SIGPIPE);
}

void sc_posix_stop_signals(void (*on_stop)(int sig))
{
    g_on_stop = on_stop;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A closed terminal (an ssh session dropped mid-run) stops the run cleanly too, so that a
     * device stops the join command it started (its own process group: the hangup does not
     * reach it) and send prints its summary; unless the run was started to survive it (nohup:
     * SIGHUP ignored already). */
    struct sigaction hup;
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN)
        sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a peer gone away is an error return, not a death */
}

int sc_posix_stat_foreign(const struct stat *st, char *why, size_t n)
{
    if (st->st_uid != geteuid() && st->st_uid != 0) {
        snprintf(why, n, "owned by uid %lu, not by this user (uid %lu)", (unsigned long)st->st_uid,
                 (unsigned long)geteuid());
        return 1;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(why, n, "writable by %s (mode %04o)", (st->st_mode & S_IWOTH) ? "others" : "its group",
                 (unsigned)(st->st_mode & 07777));
        return 2;
    }
    return 0;
}

/* Opens name in the directory dirfd for sc_posix_open_output, following a symbolic link only
 * where no other user could have made it: a link that is ours or root's, in a directory that
 * is ours or root's and that no one else may write in (sc_posix_stat_foreign), such as /dev's
 * stdout or /dev/fd/N (a shell's >(...)), or one of the user's own in their home. Its target is
 * opened by the same rule (a chain of at most 8), so a link of ours into a shared directory
 * still meets O_NOFOLLOW at the name there. A /proc link to a pipe, socket or terminal, whose
 * text names no path, is opened through the link itself. -1 with errno; *link_refused when a
 * link was not followed. */
#ifdef O_PATH
#define OUT_DIR_FLAGS (O_PATH | O_DIRECTORY | O_CLOEXEC)   /* no read right on it needed */
#else
#define OUT_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#endif

static int open_out_at(int dirfd, const char *name, int depth, bool *link_refused)
{
    const int flags = O_WRONLY | O_CREAT | O_NOCTTY | O_CLOEXEC;
    int fd = openat(dirfd, name, flags | O_NOFOLLOW, 0666);
    if (fd >= 0 || errno != ELOOP)
        return fd;
    struct stat ls, ds;
    char why[160], to[4096];
    if (fstatat(dirfd, name, &ls, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(ls.st_mode))
        return errno = ELOOP, -1;
    ssize_t len;
    if (depth >= 8 || (ls.st_uid != geteuid() && ls.st_uid != 0) || fstat(dirfd, &ds) != 0 ||
        sc_posix_stat_foreign(&ds, why, sizeof why) != 0 ||
        (len = readlinkat(dirfd, name, to, sizeof to - 1)) <= 0) {
        *link_refused = true;
        return errno = ELOOP, -1;
    }
    to[len] = 0;
    /* "pipe:[123]", "socket:[..]", "anon_inode:..", or a /proc link to a file since deleted
     * ("/x/f (deleted)"): no path to go by (O_CREAT would make "f (deleted)") */
    if ((to[0] != '/' && strchr(to, ':')) || (len > 10 && !strcmp(to + len - 10, " (deleted)"))) {
        fd = openat(dirfd, name, flags, 0666);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {   /* a path after all: not this way */
            close(fd);
            *link_refused = true;
            return errno = ELOOP, -1;
        }
        return fd;
    }
    char dir[4096];
    sc_posix_parent_dir(to, dir, sizeof dir);
    const char *base = strrchr(to, '/') ? strrchr(to, '/') + 1 : to;
    int dfd = openat(dirfd, dir, OUT_DIR_FLAGS);
    if (dfd < 0)
        return -1;
    fd = *base ? open_out_at(dfd, base, depth + 1, link_refused) : (errno = EISDIR, -1);
    int e = errno;
    close(dfd);
    errno = e;
    return fd;
}

FILE *sc_posix_open_output(const char *path, bool dash, char *why, size_t n)
{
    int fd, err = 0;
    if (dash && !strcmp(path, "-")) {
        fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    } else {
        /* O_TRUNC only once the file is known to be ours to empty */
        char dir[4096];
        sc_posix_parent_dir(path, dir, sizeof dir);
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        bool refused = false;
        int dfd = open(dir, OUT_DIR_FLAGS);
        fd = dfd < 0 ? -1 : *base ? open_out_at(dfd, base, 0, &refused) : (errno = EISDIR, -1);
        if (dfd >= 0) {
            int e = errno;
            close(dfd);
            errno = e;
        }
        if (fd < 0 && refused) {
            snprintf(why, n, "is a symbolic link, not followed (whoever may write in its directory could have "
                             "pointed it at a file of yours): give the path of the file itself");
            errno = ELOOP;
            return NULL;
        }
        struct stat st;
        /* A FIFO another user made there is theirs to read, as a file of theirs would be (root's
         * and devices are written: only root makes a device node). */
        if (fd >= 0 && fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
            if (st.st_uid != geteuid() && (S_ISREG(st.st_mode) || st.st_uid != 0)) {
                close(fd);
                snprintf(why, n, "belongs to uid %lu, not to this user (uid %lu): not %s (remove it, or "
                                 "write elsewhere)", (unsigned long)st.st_uid, (unsigned long)geteuid(),
                         S_ISREG(st.st_mode) ? "overwritten" : "written to (a FIFO: they would read it)");
                errno = EPERM;
                return NULL;
            }
            if (S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0)
                err = errno;
        }
    }
    FILE *f = NULL;
    if (fd >= 0 && !err && !(f = fdopen(fd, "wb")))
        err = errno;
    if (!f) {
        err = fd < 0 ? errno : err;
        if (fd >= 0)
            close(fd);
        snprintf(why, n, "%s", strerror(err));
        errno = err;
    }
    return f;
}

void sc_posix_parent_dir(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
    /* "a/b/" names b as "a/b" does: its directory is a (a --tls-dir given with a trailing
     * slash was its own parent, and the directory it was made in went unchecked, F75) */
    size_t len = strlen(out);
    while (len > 1 && out[len - 1] == '/')
        out[--len] = 0;
    char *sl = strrchr(out, '/');
    if (!sl) {
        snprintf(out, n, ".");
        return;
    }
    while (sl > out && sl[-1] == '/')
        sl--; /* "a//b": a */
    *(sl == out ? sl + 1 : sl) = 0;
}
