/* SPDX-License-Identifier: Apache-2.0 */
/* Receiver throughput: sc_et_rx_feed over an in-memory capture of realistic frames (the air
 * simulator: both copies, CCMP, 10 % loss, retries, one foreign frame per datagram), with a
 * reset after every result so the decoder keeps working. Then the receiver front with all
 * three decoders (v1, v2, AirKiss) on a capture holding phones of each protocol. Reports
 * frames per second and the state sizes. Time is the thread's CPU time, so a busy machine
 * does not skew it.
 * Usage: bench_decoder [seconds (2)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smartcfg/air.h"
#include "smartcfg/esptouch_rx.h"
#include "smartcfg/receiver.h"

#define MAX_FRAMES 400000

static sc_air_t air;
static sc_et_rx_t rx;
static sc_receiver_t front;
static sc_frame_t frames[MAX_FRAMES];
static uint32_t times[MAX_FRAMES];

/* Six phones' runs back to back in frames[]/times[]: ESP-TOUCH v1 only (mixed = 0), or v1, v2
 * and AirKiss in turn for 20 s each. Returns the frame count (0: simulator unavailable). */
static size_t build_capture(int mixed)
{
    size_t n = 0;
    for (uint32_t k = 0; k < 6 && n < MAX_FRAMES; k++) {
        sc_air_config_t c;
        sc_air_config_default(&c);
        c.loss = 0.1;
        c.retry = 0.05;
        c.foreign = 1.0;
        c.creds.password[0] = (uint8_t)('a' + k);
        if (mixed) {
            c.protocol = (sc_air_proto_t)(k % 3);
            c.seed = 200 + k;
            c.start_ms = k * 700u;
            c.duration_ms = 20000;
            c.ak_random = (uint8_t)k;
        } else {
            c.seed = 100 + k;
            c.start_ms = k * 1300u;
        }
        if (sc_air_init(&air, &c) != SC_OK) {
            fprintf(stderr, "bench_decoder: air simulator unavailable\n");
            return 0;
        }
        uint32_t base = n ? times[n - 1] + 1000u : 0u, t;
        while (n < MAX_FRAMES && sc_air_next(&air, &frames[n], &t) == SC_OK)
            times[n++] = base + t;
    }
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: robust against a busy machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (!(seconds > 0.0 && seconds < 600.0))
        seconds = 2.0;
    /* several captures back to back: different phones' runs, capture starts and seeds */
    size_t n = build_capture(0);
    if (!n)
        return 1;
    unsigned long long fed = 0, done = 0;
    double t0 = now_s(), t1 = t0;
    sc_et_event_t ev;
    do {
        if (sc_et_rx_init(&rx, NULL) != SC_OK)
            return 1;
        for (size_t i = 0; i < n; i++) {
            if (sc_et_rx_feed(&rx, &frames[i], times[i], &ev) == SC_ET_EV_DONE) {
                done++;
                sc_et_rx_reset(&rx);
            }
        }
        fed += n;
        t1 = now_s();
    } while (t1 - t0 < seconds);
    double fps = (double)fed / (t1 - t0);
    printf("BENCH decoder_frames_per_s %.0f frames/s\n", fps);
    printf("BENCH decoder_ns_per_frame %.1f ns\n", 1e9 / fps);
    printf("BENCH decoder_state_bytes %zu bytes\n", sizeof(sc_et_rx_t));
    printf("BENCH decoder_results_per_pass %.1f count\n", (double)done / ((double)fed / (double)n));
    printf("BENCH decoder_capture_frames %zu frames\n", n);

    /* all three decoders on a capture with a phone of each protocol, twice */
    n = build_capture(1);
    if (!n)
        return 1;
    /* the same mixed capture through the front with v1 alone: what the other two add */
    fed = 0;
    t0 = now_s();
    sc_rx_event_t rev;
    do {
        if (sc_receiver_init(&front, SC_PROTO_ESPTOUCH_V1) != SC_OK)
            return 1;
        for (size_t i = 0; i < n; i++)
            if (sc_receiver_feed(&front, &frames[i], times[i], &rev) == SC_ET_EV_DONE)
                sc_receiver_reset(&front);
        fed += n;
        t1 = now_s();
    } while (t1 - t0 < seconds);
    printf("BENCH decoder_mixed_v1_only_frames_per_s %.0f frames/s\n", (double)fed / (t1 - t0));

    fed = done = 0;
    unsigned long long by[8] = { 0 };
    t0 = now_s();
    do {
        if (sc_receiver_init(&front, SC_PROTO_ALL) != SC_OK)
            return 1;
        for (size_t i = 0; i < n; i++) {
            if (sc_receiver_feed(&front, &frames[i], times[i], &rev) == SC_ET_EV_DONE) {
                done++;
                by[rev.result.proto & 7]++;
                sc_receiver_reset(&front);
            }
        }
        fed += n;
        t1 = now_s();
    } while (t1 - t0 < seconds);
    fps = (double)fed / (t1 - t0);
    double passes = (double)fed / (double)n;
    printf("BENCH decoder_all3_frames_per_s %.0f frames/s\n", fps);
    printf("BENCH decoder_all3_ns_per_frame %.1f ns\n", 1e9 / fps);
    printf("BENCH decoder_all3_state_bytes %zu bytes\n", sizeof(sc_receiver_t));
    printf("BENCH decoder_all3_results_per_pass %.1f count\n", (double)done / passes);
    printf("BENCH decoder_all3_v1_results_per_pass %.1f count\n", (double)by[1] / passes);
    printf("BENCH decoder_all3_v2_results_per_pass %.1f count\n", (double)by[2] / passes);
    printf("BENCH decoder_all3_airkiss_results_per_pass %.1f count\n", (double)by[4] / passes);
    return 0;
}
