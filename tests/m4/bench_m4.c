/* SPDX-License-Identifier: Apache-2.0 */
/* Figures of the core on the Cortex-M4 (run by bench/m4.sh under QEMU with -icount):
 *  - instructions per received frame of the receiver the device runs (sc_receiver_feed, all
 *    three decoders: ESP-TOUCH v1, v2 and AirKiss), and of the ESP-TOUCH v1 decoder alone
 *    (sc_et_rx_feed), over the same simulated captures as bench/bench_decoder.c (6 runs: 10 %
 *    loss, 5 % retries, one foreign frame per datagram, reset after each result): median,
 *    mean, p99, max;
 *  - stack high-water marks of both, of sc_device_step and sc_device_on_frame, the
 *    device running a whole flow (air -> credentials -> join -> acks -> token -> DONE) over
 *    the fake HAL.
 * Instructions: under `-icount shift=S` QEMU advances virtual time by exactly 2^S ns per
 * guest instruction, and SysTick (processor clock, 25 MHz) reads that virtual time, so a
 * region's tick delta is proportional to the instructions it retired. The program measures
 * the ratio itself on a block of 1000 NOPs and subtracts the cost of reading the timer.
 * Stack: the window below the caller's stack pointer is painted before each call and the
 * deepest overwritten word found after it. Prints "BENCH <name> <value> <unit>".
 * Built with -DM4_PROFILE (scripts/test-m4.sh --profile) it is instead a sampling profiler of
 * the receiver: SysTick interrupts every 100003 ticks (~3900 instructions; QEMU under -icount makes each interrupt costly) and the interrupted
 * PC is counted while the receiver front (all three decoders) runs; the script maps the counts
 * to functions. */
#include <stdio.h>
#include <string.h>

#include "flows.h"
#include "m4.h"
#include "smartcfg/receiver.h"

#define HIST 4096              /* per-frame instruction histogram; larger goes to the last bin */
#define WINDOW (16u * 1024u)   /* painted stack window (bytes) */
#define WINDOW_BIG (240u * 1024u) /* for hostile input (the harness stack is 256 KiB) */

static uint32_t hist[HIST];
static sc_air_t air;
static sc_et_rx_t rx;
static sc_receiver_t front;
static m4_dev_t dt;
static uint32_t tick_overhead, ticks_per_kinsn;   /* timer-read cost; ticks per 1000 instructions */

static void calibrate(void)
{
    sc_m4_ticks_start();
    uint32_t best_empty = UINT32_MAX, best_nop = UINT32_MAX;
    for (int i = 0; i < 8; i++) {
        uint32_t t0 = sc_m4_ticks();
        uint32_t e = sc_m4_ticks_since(t0);
        t0 = sc_m4_ticks();
        __asm__ volatile(".rept 1000\n\tnop\n\t.endr" ::: "memory");
        uint32_t n = sc_m4_ticks_since(t0);
        best_empty = e < best_empty ? e : best_empty;
        best_nop = n < best_nop ? n : best_nop;
    }
    tick_overhead = best_empty;
    ticks_per_kinsn = best_nop - best_empty;
}

static uint32_t insns(uint32_t ticks)
{
    uint32_t t = ticks > tick_overhead ? ticks - tick_overhead : 0;
    return (uint32_t)(((uint64_t)t * 1000u + ticks_per_kinsn / 2) / ticks_per_kinsn);
}

static uint32_t percentile(const uint32_t *h, uint64_t total, unsigned pct)
{
    uint64_t want = (total * pct + 99) / 100, seen = 0;
    for (uint32_t i = 0; i < HIST; i++) {
        seen += h[i];
        if (seen >= want && want)
            return i;
    }
    return HIST - 1;
}

static size_t rx_stack;

#ifdef M4_PROFILE
#define PROF_CODE_MAX 0x40000u   /* code addresses sampled (the program is far smaller) */
static uint16_t prof_pc[PROF_CODE_MAX / 2];
static volatile int prof_on;

void sc_m4_prof_sample(const uint32_t *frame);
void sc_m4_prof_sample(const uint32_t *frame)
{
    uint32_t pc = frame[6];   /* the exception frame: r0-r3, r12, lr, pc, xpsr */
    if (prof_on && pc < PROF_CODE_MAX && prof_pc[pc / 2] != UINT16_MAX)
        prof_pc[pc / 2]++;
}

/* Naked: hands the exception frame (the stack pointer on entry) to the sampler, which
 * returns straight from the exception. */
__attribute__((naked)) void sc_m4_systick(void)
{
    __asm__ volatile("mov r0, sp\n\tb sc_m4_prof_sample");
}
#define PROF(on) (prof_on = (on))
#else
#define PROF(on) ((void)0)
#endif

/* One frame into the receiver, measured: instructions into the histogram, stack depth. One
 * function per entry point, so the measured region holds the call alone (a choice between the
 * two inside it would be counted too). */
static int v1_only;   /* the ESP-TOUCH v1 decoder alone, else the front (what the device feeds) */

static uintptr_t measure_begin(void)
{
    uintptr_t sp = sc_m4_sp();
    sc_m4_paint(sp, WINDOW);
    return sp;
}

static void measure_end(uintptr_t sp, uint32_t ticks, uint32_t *n)
{
    *n = insns(ticks);
    size_t used = sc_m4_stack_used(sp, WINDOW);
    rx_stack = used > rx_stack ? used : rx_stack;
}

static __attribute__((noinline)) sc_et_event_type_t feed_v1(const sc_frame_t *f, uint32_t t, uint32_t *n)
{
    sc_et_event_t ev;
    uintptr_t sp = measure_begin();
    uint32_t t0 = sc_m4_ticks();
    PROF(1);
    sc_et_event_type_t r = sc_et_rx_feed(&rx, f, t, &ev);
    PROF(0);
    measure_end(sp, sc_m4_ticks_since(t0), n);
    return r;
}

static __attribute__((noinline)) sc_et_event_type_t feed_front(const sc_frame_t *f, uint32_t t, uint32_t *n)
{
    sc_rx_event_t ev;
    uintptr_t sp = measure_begin();
    uint32_t t0 = sc_m4_ticks();
    PROF(1);
    sc_et_event_type_t r = sc_receiver_feed(&front, f, t, &ev);
    PROF(0);
    measure_end(sp, sc_m4_ticks_since(t0), n);
    return r;
}

static uint64_t frames, sum;
static uint32_t max_insn, results;

/* Per class of frame, by its addresses (what decides the median, docs/m4.md): management and
 * control, the phone's uplink, the AP's relay of it, every other data frame. */
enum { CL_MGMT, CL_UPLINK, CL_RELAY, CL_OTHER, CL_N };
static const char *const cl_name[CL_N] = { "mgmt", "uplink", "relay", "other" };
static uint32_t cl_hist[CL_N][HIST];
static uint32_t cl_frames[CL_N];
static uint8_t phone_mac[SC_MAC_LEN];

static unsigned frame_class(const sc_frame_t *f)
{
    if (((f->fc >> 2) & 3u) != 2u)
        return CL_MGMT;
    if (!memcmp(f->addr2, phone_mac, SC_MAC_LEN))
        return CL_UPLINK;
    return memcmp(f->addr3, phone_mac, SC_MAC_LEN) ? CL_OTHER : CL_RELAY;
}

static void on_frame(void *user, const sc_frame_t *f, uint32_t t)
{
    (void)user;
    uint32_t n;
    if ((v1_only ? feed_v1(f, t, &n) : feed_front(f, t, &n)) == SC_ET_EV_DONE) {
        results++;
        if (v1_only)
            sc_et_rx_reset(&rx);
        else
            sc_receiver_reset(&front);
    }
    hist[n < HIST ? n : HIST - 1]++;
    unsigned c = frame_class(f);
    cl_hist[c][n < HIST ? n : HIST - 1]++;
    cl_frames[c]++;
    sum += n;
    max_insn = n > max_insn ? n : max_insn;
    frames++;
}

/* tag "" for the front (the device's receiver), "_v1" for the v1 decoder alone. */
static int bench_receiver(int only_v1, const char *tag)
{
    memset(hist, 0, sizeof hist);
    memset(cl_hist, 0, sizeof cl_hist);
    memset(cl_frames, 0, sizeof cl_frames);
    frames = sum = 0;
    max_insn = results = 0;
    rx_stack = 0;
    v1_only = only_v1;
    sc_err_t err = only_v1 ? sc_et_rx_init(&rx, NULL) : sc_receiver_init(&front, 0);
    if (err != SC_OK || !m4_rx_capture(&air, on_frame, NULL) || !frames)
        return 1;
    printf("BENCH m4_rx%s_insn_per_frame_median %lu insn\n", tag, (unsigned long)percentile(hist, frames, 50));
    /* per class: its median and how many of its frames cost at most 250
     * (the goal: half of all frames must) */
    for (unsigned c = 0; c < CL_N; c++) {
        uint32_t le250 = 0;
        for (uint32_t i = 0; i <= 250u; i++)
            le250 += cl_hist[c][i];
        printf("BENCH m4_rx%s_%s_insn_median %lu insn\n", tag, cl_name[c],
               (unsigned long)percentile(cl_hist[c], cl_frames[c], 50));
        printf("BENCH m4_rx%s_%s_frames %lu frames\n", tag, cl_name[c], (unsigned long)cl_frames[c]);
        printf("BENCH m4_rx%s_%s_frames_le250 %lu frames\n", tag, cl_name[c], (unsigned long)le250);
    }
    printf("BENCH m4_rx%s_insn_per_frame_mean %.1f insn\n", tag, (double)sum / (double)frames);
    printf("BENCH m4_rx%s_insn_per_frame_p99 %lu insn\n", tag, (unsigned long)percentile(hist, frames, 99));
    printf("BENCH m4_rx%s_insn_per_frame_max %lu insn\n", tag, (unsigned long)max_insn);
    printf("BENCH m4_rx%s_capture_frames %lu frames\n", tag, (unsigned long)frames);
    printf("BENCH m4_rx%s_results %lu count\n", tag, (unsigned long)results);
    printf("BENCH m4_rx%s_stack_bytes %lu bytes\n", tag, (unsigned long)rx_stack);
    return results ? 0 : 1;
}

static size_t step_stack, frame_stack, window = WINDOW;
static uint64_t step_calls;

static uint32_t step_measured(sc_device_t *dev, uint32_t now)
{
    uintptr_t sp = sc_m4_sp();
    sc_m4_paint(sp, window);
    uint32_t r = sc_device_step(dev, now);
    size_t used = sc_m4_stack_used(sp, window);
    step_stack = used > step_stack ? used : step_stack;
    step_calls++;
    return r;
}

static void frame_measured(sc_device_t *dev, const sc_frame_t *f, uint32_t now)
{
    uintptr_t sp = sc_m4_sp();
    sc_m4_paint(sp, WINDOW);
    sc_device_on_frame(dev, f, now);
    size_t used = sc_m4_stack_used(sp, WINDOW);
    frame_stack = used > frame_stack ? used : frame_stack;
}

static int bench_device(void)
{
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.loss = 0.05;
    c.foreign = 0.5;
    if (!m4_dev_init(&dt, step_measured, frame_measured) || sc_air_init(&air, &c) != SC_OK || !m4_dev_sniff(&dt, &air))
        return 1;
    m4_dev_run(&dt, 4000);
    const char *tok = "{\"cmdType\":0,\"token\":\"" M4_TOKEN "\"}";
    m4_dev_app_send(&dt, M4_APP_IP, 8266, tok, strlen(tok));
    m4_dev_run(&dt, 12000);
    if (sc_device_state(dt.dev) != SC_DEV_DONE)
        return 1;
    printf("BENCH m4_device_step_stack_bytes %lu bytes\n", (unsigned long)step_stack);
    printf("BENCH m4_device_on_frame_stack_bytes %lu bytes\n", (unsigned long)frame_stack);
    printf("BENCH m4_device_step_calls %lu count\n", (unsigned long)step_calls);

    /* Hostile input: one UDP 8266 datagram of 999 nested '[' (within the 1024-byte limit, so
     * it reaches the JSON parser, which recurses once per level). */
    static char deep[1000];
    memset(deep, '[', sizeof deep - 1);
    step_stack = 0;
    window = WINDOW_BIG;
    m4_dev_app_send(&dt, "192.168.1.66", 5000, deep, sizeof deep - 1);
    m4_dev_run(&dt, 50);
    if (fh_count_sent(&dt.fh, "192.168.1.66", 5000) != 1)
        return 1;
    printf("BENCH m4_device_step_stack_nested_json_bytes %lu bytes\n", (unsigned long)step_stack);
    return 0;
}

int main(void)
{
#ifdef M4_PROFILE
    volatile uint32_t *syst = (volatile uint32_t *)0xE000E010u;
    ticks_per_kinsn = 1000;   /* counts are meaningless while sampling; keep insns() defined */
    syst[1] = 100003u - 1u;
    syst[2] = 0;
    syst[0] = 1u | 2u | 4u;   /* enable, interrupt, processor clock */
    int rc = bench_receiver(0, "");
    syst[0] = 0;
    for (uint32_t i = 0; i < PROF_CODE_MAX / 2; i++)
        if (prof_pc[i])
            printf("PROF %lx %u\n", (unsigned long)(i * 2u), (unsigned)prof_pc[i]);
    return rc;
#endif
    calibrate();
    sc_air_config_t ac;
    sc_air_config_default(&ac);   /* the capture's phone (m4_rx_capture keeps the default MAC) */
    memcpy(phone_mac, ac.phone_mac, SC_MAC_LEN);
    /* 2^shift ns per instruction at 25 MHz: 25.6 ticks per instruction for shift=10. Anything
     * else means QEMU was not run with -icount and the counts would be meaningless. */
    printf("BENCH m4_icount_ticks_per_insn %.3f ticks\n", ticks_per_kinsn / 1000.0);
    if (ticks_per_kinsn < 1000u) {
        printf("bench_m4: run under qemu -icount shift=10 (see bench/m4.sh)\n");
        return 1;
    }
    if (bench_receiver(0, "") || bench_receiver(1, "_v1") || bench_device()) {
        printf("bench_m4: a scenario failed\n");
        return 1;
    }
    return 0;
}
