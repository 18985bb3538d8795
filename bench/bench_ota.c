/* SPDX-License-Identifier: Apache-2.0 */
/* The OTA core's own cost per downloaded byte: an 8 MiB image served from memory through the
 * HAL's streamed GET into an in-memory store (MD5, copies, the per-step bound), so what a port
 * adds (network, flash) is measured elsewhere. Also the steps one MiB takes: each step moves at
 * most 16 reads of 512 bytes, so a loop that steps every 10 ms caps a download at ~800 KiB/s.
 * Prints "BENCH <name> <value> <unit>". usage: bench_ota [MiB (8)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "../tests/support/ota_mem.h"

static uint8_t *img, *dst, *stored;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 8;
    if (mib < 1 || mib > 256) {
        fprintf(stderr, "usage: bench_ota [MiB 1..256]\n");
        return 2;
    }
    size_t img_len = mib << 20;
    img = malloc(img_len);
    dst = malloc(img_len);
    stored = malloc(img_len);
    if (!img || !dst || !stored)
        return 1;
    for (size_t i = 0; i < img_len; i++)
        img[i] = (uint8_t)(i * 2654435761u >> 13);
    char msg[300];
    if (omh_serve(img, img_len, dst, stored, msg, sizeof msg) != 0)
        return 1;
    static sc_ota_t ota;
    if (omh_start(&ota, (uint32_t)img_len) != SC_OK)
        return 1;
    double t0 = now_s();
    sc_ota_on_message(&ota, "$ota/update/PRD/dev", msg, strlen(msg), 0);
    unsigned long steps = 0;
    uint32_t now = 0;
    while (sc_ota_downloading(&ota)) {
        (void)sc_ota_step(&ota, now);
        now += 1;
        steps++;
    }
    double dt = now_s() - t0;
    if (omh.last_ev != SC_OTA_EV_SUCCESS || omh.full_len != img_len || memcmp(stored, img, img_len)) {
        fprintf(stderr, "bench_ota: the update did not succeed\n");
        return 1;
    }
    printf("BENCH ota_core_throughput %.1f MiB/s\n", (double)mib / dt);
    printf("BENCH ota_steps_per_mib %.0f steps\n", (double)steps / (double)mib);
    free(img);
    free(dst);
    free(stored);
    return 0;
}
