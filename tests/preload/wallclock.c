/* SPDX-License-Identifier: Apache-2.0 */
/* A test's wall clock for one process (LD_PRELOAD): the clock an NTP step, an operator's
 * `date -s` or a corrected RTC moves, without moving the machine's.
 *
 * SC_WALLCLOCK_FILE names a file holding a number of seconds (may be negative, a missing or
 * empty file is 0): from the moment the test writes it, CLOCK_REALTIME, time() and
 * gettimeofday() read that much later (a step forward) or earlier (a step back) in this
 * process. The file is read again at most every 20 ms.
 *
 * A step moves the deadlines of waits on the wall clock too, also of a wait already under way
 * when it comes, as it does with the kernel's clock: pthread_cond_timedwait (on a condition
 * whose clock is CLOCK_REALTIME), sem_timedwait and pthread_mutex_timedlock are waited here in
 * slices of at most 20 ms on the monotonic clock, each ending when this process's wall clock
 * passes the deadline. (libfaketime translates a wait's deadline once, when the wait starts,
 * so a wait in progress at the step is not moved: the case these tests are about.)
 *
 * With SC_WALLCLOCK_REPORT set, each such wait says once per call site on stderr
 * "wallclock: <function> on the wall clock from <object>+0x<offset>": a test that wants none
 * can count the lines. SC_WALLCLOCK_PROG limits all of it to the processes of that name
 * (program_invocation_short_name; the cloud's mosquitto inherits LD_PRELOAD too). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SLICE_NS 20000000LL
#define REREAD_NS 20000000LL
#define MONO_CONDS 256 /* conditions initialised with CLOCK_MONOTONIC, by address */
#define SITES 64

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int (*real_cond_init)(pthread_cond_t *, const pthread_condattr_t *);
static int (*real_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
static int (*real_sem_timedwait)(sem_t *, const struct timespec *);
static int (*real_mutex_timedlock)(pthread_mutex_t *, const struct timespec *);

static const char *shift_file;
static bool active, report;
static atomic_llong shift_ns, next_read_ns;
static _Atomic(pthread_cond_t *) mono_conds[MONO_CONDS];
static _Atomic(uintptr_t) sites[SITES];

/* At load, before main (and again from a hook some other library's constructor calls first). */
__attribute__((constructor)) static void init(void)
{
    if (real_clock_gettime)
        return;
    real_clock_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    real_cond_init = (int (*)(pthread_cond_t *, const pthread_condattr_t *))dlsym(RTLD_NEXT, "pthread_cond_init");
    real_cond_timedwait = (int (*)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *))dlvsym(
        RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
    if (!real_cond_timedwait)
        real_cond_timedwait = (int (*)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *))dlsym(
            RTLD_NEXT, "pthread_cond_timedwait");
    real_sem_timedwait = (int (*)(sem_t *, const struct timespec *))dlsym(RTLD_NEXT, "sem_timedwait");
    real_mutex_timedlock = (int (*)(pthread_mutex_t *, const struct timespec *))dlsym(RTLD_NEXT,
                                                                                      "pthread_mutex_timedlock");
    const char *prog = getenv("SC_WALLCLOCK_PROG");
    shift_file = getenv("SC_WALLCLOCK_FILE");
    active = shift_file && *shift_file && (!prog || !strcmp(prog, program_invocation_short_name));
    report = active && getenv("SC_WALLCLOCK_REPORT");
}

static long long ns_of(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static struct timespec ts_of(long long ns)
{
    struct timespec t = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
    if (t.tv_nsec < 0) {
        t.tv_sec--;
        t.tv_nsec += 1000000000L;
    }
    return t;
}

static long long mono_ns(void)
{
    struct timespec t;
    real_clock_gettime(CLOCK_MONOTONIC, &t);
    return ns_of(&t);
}

static long long shift(void)
{
    if (!active)
        return 0;
    long long now = mono_ns();
    if (now >= atomic_load(&next_read_ns)) {
        atomic_store(&next_read_ns, now + REREAD_NS);
        char b[32] = "";
        int fd = open(shift_file, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, b, sizeof b - 1);
            close(fd);
            b[n > 0 ? n : 0] = 0;
        }
        atomic_store(&shift_ns, (long long)(strtod(b, NULL) * 1e9));
    }
    return atomic_load(&shift_ns);
}

static long long wall_ns(void)
{
    struct timespec t;
    real_clock_gettime(CLOCK_REALTIME, &t);
    return ns_of(&t) + shift();
}

int clock_gettime(clockid_t clk, struct timespec *tp)
{
    init();
    int rc = real_clock_gettime(clk, tp);
    if (rc == 0 && active && (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE))
        *tp = ts_of(ns_of(tp) + shift());
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    tv->tv_sec = t.tv_sec; /* glibc declares tv nonnull */
    tv->tv_usec = t.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *out)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    if (out)
        *out = t.tv_sec;
    return t.tv_sec;
}

int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
    init();
    int rc = real_cond_init(c, a);
    clockid_t clk = CLOCK_REALTIME;
    for (size_t i = 0; i < MONO_CONDS; i++) /* forget an earlier condition at this address */
        if (atomic_load(&mono_conds[i]) == c)
            atomic_store(&mono_conds[i], NULL);
    if (rc == 0 && a && pthread_condattr_getclock(a, &clk) == 0 && clk == CLOCK_MONOTONIC)
        for (size_t i = 0; i < MONO_CONDS; i++) {
            pthread_cond_t *none = NULL;
            if (atomic_compare_exchange_strong(&mono_conds[i], &none, c))
                break;
        }
    return rc;
}

static bool monotonic(pthread_cond_t *c)
{
    for (size_t i = 0; i < MONO_CONDS; i++)
        if (atomic_load(&mono_conds[i]) == c)
            return true;
    return false;
}

/* Once per call site: which wait, from where (the object and the offset in it: addr2line). */
static void said(const char *what, void *from)
{
    if (!report)
        return;
    uintptr_t at = (uintptr_t)from;
    for (size_t i = 0; i < SITES; i++) {
        uintptr_t none = 0;
        if (atomic_load(&sites[i]) == at)
            return;
        if (atomic_compare_exchange_strong(&sites[i], &none, at))
            break;
    }
    Dl_info d;
    char line[512];
    int n;
    if (dladdr(from, &d) && d.dli_fname)
        n = snprintf(line, sizeof line, "wallclock: %s on the wall clock from %s+0x%lx (%s)\n", what, d.dli_fname,
                     (unsigned long)(at - (uintptr_t)d.dli_fbase), d.dli_sname ? d.dli_sname : "?");
    else
        n = snprintf(line, sizeof line, "wallclock: %s on the wall clock from %p\n", what, from);
    if (n > 0)
        (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* The slice of a wait on this process's wall clock until `until`: its monotonic deadline, or
 * false when the wall clock has passed it. */
static bool slice(const struct timespec *until, struct timespec *mono_until)
{
    long long left = ns_of(until) - wall_ns();
    if (left <= 0)
        return false;
    *mono_until = ts_of(mono_ns() + (left < SLICE_NS ? left : SLICE_NS));
    return true;
}

int pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
                           const struct timespec *restrict until)
{
    init();
    if (!active || monotonic(c))
        return real_cond_timedwait(c, m, until);
    said("pthread_cond_timedwait", __builtin_return_address(0));
    struct timespec t;
    while (slice(until, &t)) {
        int rc = pthread_cond_clockwait(c, m, CLOCK_MONOTONIC, &t);
        if (rc != ETIMEDOUT)
            return rc;
    }
    return ETIMEDOUT;
}

int sem_timedwait(sem_t *restrict s, const struct timespec *restrict until)
{
    init();
    if (!active)
        return real_sem_timedwait(s, until);
    said("sem_timedwait", __builtin_return_address(0));
    if (sem_trywait(s) == 0) /* as POSIX: the deadline is not looked at when it can be taken now */
        return 0;
    struct timespec t;
    while (slice(until, &t)) {
        if (sem_clockwait(s, CLOCK_MONOTONIC, &t) == 0)
            return 0;
        if (errno != ETIMEDOUT)
            return -1;
    }
    errno = ETIMEDOUT;
    return -1;
}

int pthread_mutex_timedlock(pthread_mutex_t *restrict m, const struct timespec *restrict until)
{
    init();
    if (!active)
        return real_mutex_timedlock(m, until);
    said("pthread_mutex_timedlock", __builtin_return_address(0));
    if (pthread_mutex_trylock(m) == 0)
        return 0;
    struct timespec t;
    while (slice(until, &t)) {
        int rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &t);
        if (rc != ETIMEDOUT)
            return rc;
    }
    return ETIMEDOUT;
}
