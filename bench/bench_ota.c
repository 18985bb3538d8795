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

#include <mbedtls/md.h>

#include "smartcfg/ota.h"

static uint8_t *img, *dst;
static size_t img_len, served, dst_len;
static uint8_t rec[256];
static size_t rec_len;
static int result = -1;

static sc_err_t m_pub(void *c, const char *t, const void *p, size_t n, int q, int *mid)
{ (void)c; (void)t; (void)p; (void)n; (void)q; *mid = 1; return SC_OK; }
static sc_err_t m_sub(void *c, const char *t, int q) { (void)c; (void)t; (void)q; return SC_OK; }
static sc_err_t g_start(void *c, const char *u, uint32_t off) { (void)c; (void)u; served = off; return SC_OK; }
static void g_close(void *c) { (void)c; }
static sc_err_t g_read(void *c, void *b, size_t cap, size_t *len)
{
    (void)c;
    if (served >= img_len) {
        *len = 0;
        return SC_ERR_DONE;
    }
    size_t n = img_len - served < cap ? img_len - served : cap;
    memcpy(b, img + served, n);
    served += n;
    *len = n;
    return SC_OK;
}
static sc_err_t f_write(void *c, uint32_t off, const void *b, size_t n)
{ (void)c; memcpy(dst + off, b, n); dst_len = off + n; return SC_OK; }
static sc_err_t f_commit(void *c) { (void)c; return SC_OK; }
static sc_err_t f_discard(void *c) { (void)c; return SC_OK; }
static sc_err_t s_get(void *c, const char *k, void *b, size_t cap, size_t *len)
{ (void)c; (void)k; if (!rec_len || rec_len > cap) return SC_ERR_NOTFOUND; memcpy(b, rec, rec_len); *len = rec_len; return SC_OK; }
static sc_err_t s_put(void *c, const char *k, const void *b, size_t n)
{ (void)c; (void)k; memcpy(rec, b, n); rec_len = n; return SC_OK; }
static sc_err_t s_erase(void *c, const char *k) { (void)c; (void)k; rec_len = 0; return SC_OK; }
static void on_ev(void *u, sc_ota_event_t ev, int code) { (void)u; (void)code; result = (int)ev; }

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
    img_len = mib << 20;
    img = malloc(img_len);
    dst = malloc(img_len);
    if (!img || !dst)
        return 1;
    for (size_t i = 0; i < img_len; i++)
        img[i] = (uint8_t)(i * 2654435761u >> 13);
    unsigned char d[16];
    char md5[33], msg[300];
    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_MD5), img, img_len, d);
    for (int i = 0; i < 16; i++)
        snprintf(md5 + 2 * i, 3, "%02x", d[i]);
    snprintf(msg, sizeof msg, "{\"type\":\"update_firmware\",\"version\":\"2.0.0\",\"url\":\"http://h/fw\",\"md5sum\":\"%s\","
             "\"file_size\":%zu}", md5, img_len);
    sc_hal_t hal;
    memset(&hal, 0, sizeof hal);
    hal.mqtt.publish = m_pub;
    hal.mqtt.subscribe = m_sub;
    hal.http.get_start = g_start;
    hal.http.get_read = g_read;
    hal.http.get_close = g_close;
    hal.fw = (sc_hal_fw_t){ NULL, f_write, f_commit, f_discard, NULL };
    hal.storage = (sc_hal_storage_t){ NULL, s_get, s_put, s_erase };
    static sc_ota_t ota;
    sc_ota_init(&ota, &hal, (uint32_t)img_len, on_ev, NULL);
    sc_ota_enable(&ota, "PRD", "dev", "1.0.0", 0);
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
    if (result != SC_OTA_EV_SUCCESS || dst_len != img_len || memcmp(dst, img, img_len)) {
        fprintf(stderr, "bench_ota: the update did not succeed\n");
        return 1;
    }
    printf("BENCH ota_core_throughput %.1f MiB/s\n", (double)mib / dt);
    printf("BENCH ota_steps_per_mib %.0f steps\n", (double)steps / (double)mib);
    free(img);
    free(dst);
    return 0;
}
