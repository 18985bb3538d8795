/* SPDX-License-Identifier: Apache-2.0 */
/* Reset and fault handling of the Cortex-M4 harness: the vector table QEMU reads the initial
 * stack pointer and reset address from, C runtime set-up (FPU, .data, TLS, .bss) and a fault
 * handler that reports and ends the emulation instead of hanging it. */
#include <stdint.h>
#include <string.h>

#include "m4.h"

extern uint32_t __sc_data_start[], __sc_data_end[], __sc_data_load[];
extern uint32_t __sc_bss_start[], __sc_bss_end[], __sc_stack_top[];
extern char __tls_base[];
void _init_tls(void *tls);   /* picolibc: copies the TLS template */
void _set_tls(void *tls);    /* picolibc: makes it the thread pointer's block */
int main(void);

_Noreturn void sc_m4_reset(void);
static void on_fault(void);
/* SysTick is a fault unless a program brings its own handler (the profiler in bench_m4.c). */
void sc_m4_systick(void) __attribute__((weak, alias("sc_m4_unexpected")));
void sc_m4_unexpected(void);

/* Cortex-M vector table: word 0 the initial SP, then the system exceptions 1..15. No
 * peripheral interrupt is used, so none is listed. */
__attribute__((section(".vectors"), used)) static const struct {
    void *sp;
    void (*handler[15])(void);
} vectors = {
    __sc_stack_top,
    {
        sc_m4_reset, on_fault /* NMI */, on_fault /* HardFault */, on_fault /* MemManage */,
        on_fault /* BusFault */, on_fault /* UsageFault */, 0, 0, 0, 0, on_fault /* SVC */,
        on_fault /* DebugMon */, 0, on_fault /* PendSV */, sc_m4_systick,
    },
};

_Noreturn void sc_m4_reset(void)
{
    /* Full access to CP10/CP11 before any floating-point instruction (the air simulator
     * uses double, and the compiler may use FP registers for copies). */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    memcpy(__sc_data_start, __sc_data_load, (size_t)((char *)__sc_data_end - (char *)__sc_data_start));
    memset(__sc_bss_start, 0, (size_t)((char *)__sc_bss_end - (char *)__sc_bss_start));
    _init_tls(__tls_base);
    _set_tls(__tls_base);
    sc_m4_exit(main());
}

void sc_m4_unexpected(void)
{
    on_fault();
}

static void on_fault(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    static const char hex[] = "0123456789abcdef";
    char msg[] = "m4: fault, exception 0x..\n";
    msg[23] = hex[(ipsr >> 4) & 15];
    msg[24] = hex[ipsr & 15];
    sc_m4_write0(msg);
    sc_m4_exit(3);
}
