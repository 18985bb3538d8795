/* SPDX-License-Identifier: Apache-2.0 */
/* The Cortex-M4 harness under QEMU (mps2-an386): semihosting console and exit, SysTick as an
 * instruction counter when QEMU runs with -icount, and stack painting. Test-only. */
#ifndef SC_M4_H
#define SC_M4_H
#include <stddef.h>
#include <stdint.h>

/* Semihosting: writes a NUL-terminated string to the host's console. */
void sc_m4_write0(const char *s);
/* Ends the emulation with this exit status (flushes stdout first). */
_Noreturn void sc_m4_exit(int status);

/* SysTick, free-running from the processor clock (25 MHz on the an386). Under QEMU's
 * -icount shift=S every guest instruction advances virtual time by 2^S ns, so the tick
 * delta of a code region is proportional to the instructions it executed. 24 bits: a
 * measured region must stay under 2^24 ticks. */
void sc_m4_ticks_start(void);
static inline uint32_t sc_m4_ticks(void)
{
    return *(volatile uint32_t *)0xE000E018u;   /* SYST_CVR, counts down */
}
static inline uint32_t sc_m4_ticks_since(uint32_t start)
{
    return (start - sc_m4_ticks()) & 0xFFFFFFu;
}

/* Stack painting: fills `window` bytes below the caller's stack pointer with a pattern;
 * sc_m4_stack_used() then returns how deep below that pointer anything was written since.
 * A window that was overrun entirely returns the window size (the result is then a floor). */
#define SC_M4_PAINT 0xC5A5C5A5u
static inline uintptr_t sc_m4_sp(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}
static inline void sc_m4_paint(uintptr_t sp, size_t window)
{
    /* Below the stack pointer nothing is live: no interrupt is enabled in this harness. */
    volatile uint32_t *p = (volatile uint32_t *)((sp - window) & ~(uintptr_t)3);
    volatile uint32_t *end = (volatile uint32_t *)(sp & ~(uintptr_t)3);
    while (p < end)
        *p++ = SC_M4_PAINT;
}
static inline size_t sc_m4_stack_used(uintptr_t sp, size_t window)
{
    const volatile uint32_t *p = (const volatile uint32_t *)((sp - window) & ~(uintptr_t)3);
    const volatile uint32_t *end = (const volatile uint32_t *)(sp & ~(uintptr_t)3);
    while (p < end && *p == SC_M4_PAINT)
        p++;
    return (size_t)((uintptr_t)end - (uintptr_t)p);
}
#endif
