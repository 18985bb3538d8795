/* SPDX-License-Identifier: Apache-2.0 */
/* Semihosting (the Arm "bkpt 0xab" host-call convention QEMU implements with
 * -semihosting-config enable=on): the console behind picolibc's stdout/stderr, and exit with
 * a status. Only two calls are needed, SYS_WRITE0 and SYS_EXIT_EXTENDED. */
#include <stdio.h>

#include "m4.h"

#define SYS_WRITE0 0x04
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static uintptr_t semihost(uintptr_t op, const void *arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sc_m4_write0(const char *s)
{
    semihost(SYS_WRITE0, s);
}

/* stdout is line-buffered here: one host call per line keeps the output fast and whole. */
static char line[256];
static size_t line_len;

static int flush_line(FILE *f)
{
    (void)f;
    if (line_len) {
        line[line_len] = '\0';
        sc_m4_write0(line);
        line_len = 0;
    }
    return 0;
}

static int put(char c, FILE *f)
{
    line[line_len++] = c;
    if (c == '\n' || line_len == sizeof line - 1)
        flush_line(f);
    return (unsigned char)c;
}

static FILE console = FDEV_SETUP_STREAM(put, NULL, flush_line, _FDEV_SETUP_WRITE);
FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;

_Noreturn void sc_m4_exit(int status)
{
    flush_line(stdout);
    /* the extended call carries the status to QEMU's own exit code */
    const uintptr_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)(unsigned)status };
    for (;;)
        semihost(SYS_EXIT_EXTENDED, block);
}

/* picolibc's exit() and abort() end here. */
_Noreturn void _exit(int status)
{
    sc_m4_exit(status);
}

void sc_m4_ticks_start(void)
{
    volatile uint32_t *syst = (volatile uint32_t *)0xE000E010u;
    syst[0] = 0;            /* CSR: stop */
    syst[1] = 0xFFFFFFu;    /* RVR: full 24-bit range */
    syst[2] = 0;            /* CVR: any write clears it */
    syst[0] = 1u | 4u;      /* CSR: enable, processor clock, no interrupt */
}
