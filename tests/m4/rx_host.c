/* SPDX-License-Identifier: Apache-2.0 */
/* The receiver over bench_m4's capture on the host, for bench/m4.sh's x86 figure: run under
 * `valgrind --tool=callgrind --toggle-collect=sc_et_rx_feed`, the instructions collected
 * divided by the frames printed here are the x86 counterpart of m4_rx_insn_per_frame_mean
 * (the same frames: the simulator is deterministic). */
#include <stdio.h>

#include "flows.h"

static sc_air_t air;
static sc_et_rx_t rx;
static unsigned long frames, results;

static void on_frame(void *user, const sc_frame_t *f, uint32_t t)
{
    (void)user;
    sc_et_event_t ev;
    if (sc_et_rx_feed(&rx, f, t, &ev) == SC_ET_EV_DONE) {
        results++;
        sc_et_rx_reset(&rx);
    }
    frames++;
}

int main(void)
{
    if (sc_et_rx_init(&rx, NULL) != SC_OK || !m4_rx_capture(&air, on_frame, NULL))
        return 1;
    printf("frames %lu results %lu\n", frames, results);
    return results ? 0 : 1;
}
