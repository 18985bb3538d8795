/* SPDX-License-Identifier: Apache-2.0 */
/* The porting guide's skeleton (docs/porting.md) as a program: the HAL a chip implements,
 * mapped onto its SDK (chip.h), and the one loop that drives the core. Every object lives in
 * static storage; the port never calls malloc. Built and run by `make test`
 * (tests/integration/package_install.sh) against the installed package, once through
 * find_package(smartcfg) and once through pkg-config. */
#include <stdio.h>
#include <string.h>

#include "chip.h"
#include "smartcfg/device.h"
#include "smartcfg/version.h"

/* ---- sys --------------------------------------------------------------------------- */
static uint32_t hal_now(void *c) { (void)c; return chip_millis(); }
static uint64_t hal_unix(void *c) { (void)c; return 0; }   /* no RTC: the core copes */
static void hal_random(void *c, void *buf, size_t n)
{
    (void)c;   /* a real port reads its hardware RNG */
    static uint32_t x = 0x9e3779b9u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        ((uint8_t *)buf)[i] = (uint8_t)x;
    }
}
static void hal_log(void *c, sc_log_level_t l, const char *line) { (void)c; (void)l; printf("  log: %s\n", line); }

/* ---- radio: frames are queued by the sniffer callback, consumed by the loop ----------- */
#define FRAMEQ 64
static sc_frame_t frameq[FRAMEQ];
static volatile unsigned fq_head, fq_tail;

static void on_sniffed(const sc_frame_t *f)   /* interrupt context: copy and return */
{
    unsigned next = (fq_head + 1) % FRAMEQ;
    if (next != fq_tail) {
        frameq[fq_head] = *f;
        fq_head = next;
    }
}
static bool frame_pop(sc_frame_t *f)
{
    if (fq_tail == fq_head)
        return false;
    *f = frameq[fq_tail];
    fq_tail = (fq_tail + 1) % FRAMEQ;
    return true;
}
static sc_err_t hal_promisc(void *c, bool on) { (void)c; return chip_wifi_promisc(on, on_sniffed) ? SC_ERR_IO : SC_OK; }
static sc_err_t hal_channel(void *c, uint8_t ch)
{
    (void)c;
    sc_err_t e = chip_wifi_channel(ch) ? SC_ERR_IO : SC_OK;
    fq_tail = fq_head;   /* tuned: what the old channel queued must not reach the core */
    return e;
}

/* ---- station ------------------------------------------------------------------------ */
static sc_err_t hal_join(void *c, const uint8_t *ssid, size_t sl, const uint8_t *pw, size_t pl, const uint8_t *bssid)
{
    (void)c; (void)bssid;   /* the SDK copies ssid and password */
    return chip_sta_connect(ssid, sl, pw, pl) ? SC_ERR_IO : SC_OK;
}
static sc_sta_status_t hal_status(void *c, sc_sta_reason_t *r)
{
    (void)c;
    static const sc_sta_status_t map[] = { SC_STA_IDLE, SC_STA_CONNECTING, SC_STA_GOT_IP, SC_STA_FAILED };
    int s = chip_sta_state();
    if (r)
        *r = s == 3 ? SC_STA_REASON_OTHER : SC_STA_REASON_NONE;
    return map[s & 3];
}
static sc_err_t hal_ip(void *c, uint8_t ip[4]) { (void)c; chip_sta_ip(ip); return SC_OK; }
static sc_err_t hal_mac(void *c, uint8_t m[6]) { (void)c; chip_sta_mac(m); return SC_OK; }

/* ---- UDP ------------------------------------------------------------------------------ */
static sc_err_t hal_udp_open(void *c, const uint8_t *ip, uint16_t port, bool bcast, int *h)
{
    (void)c; (void)ip; (void)bcast;
    *h = chip_udp_bind(port);
    return *h < 0 ? SC_ERR_BUSY : SC_OK;
}
static sc_err_t hal_udp_send(void *c, int h, const sc_ipv4_ep_t *to, const void *buf, size_t len)
{
    (void)c;
    return chip_udp_sendto(h, to->addr, to->port, buf, len) ? SC_ERR_AGAIN : SC_OK;
}
static sc_err_t hal_udp_recv(void *c, int h, sc_ipv4_ep_t *from, void *buf, size_t cap, size_t *len, bool *trunc)
{
    (void)c;
    int n = chip_udp_recvfrom(h, from->addr, &from->port, buf, cap);
    if (n < 0)
        return SC_ERR_AGAIN;
    *len = (size_t)n;
    if (trunc)
        *trunc = false;
    return SC_OK;
}
static void hal_udp_close(void *c, int h) { (void)c; chip_udp_close(h); }

/* ---- storage --------------------------------------------------------------------------- */
static sc_err_t kv_get(void *c, const char *k, void *buf, size_t cap, size_t *len)
{
    (void)c;
    int r = chip_nvs_get(k, buf, cap, len);
    return r == -1 ? SC_ERR_NOTFOUND : r == -2 ? SC_ERR_NOSPACE : SC_OK;
}
static sc_err_t kv_put(void *c, const char *k, const void *buf, size_t len) { (void)c; return chip_nvs_set(k, buf, len) ? SC_ERR_IO : SC_OK; }
static sc_err_t kv_erase(void *c, const char *k) { (void)c; chip_nvs_erase(k); return SC_OK; }

/* No soft-AP, MQTT or HTTP on this chip: NULL = unsupported, the core does without
 * (cfg.skip_cloud below; a port with an MQTT client fills .mqtt and binds to the cloud). */
static const sc_hal_t hal = {
    .sys = { NULL, hal_now, hal_unix, hal_random, hal_log },
    .radio = { NULL, hal_promisc, hal_channel, NULL },
    .station = { NULL, hal_join, hal_status, hal_ip, hal_mac, NULL },
    .udp = { NULL, hal_udp_open, hal_udp_send, hal_udp_recv, hal_udp_close },
    .storage = { NULL, kv_get, kv_put, kv_erase },
};

/* ---- the application ----------------------------------------------------------------- */
static sc_device_t dev;   /* the whole device: static storage, SC_DEVICE_SIZE bytes, no heap */

static void on_event(void *user, const sc_device_event_t *ev)
{
    (void)user;
    if (ev->type == SC_DEV_EV_STATE)
        printf("state: %s\n", sc_device_state_name(ev->state));
    else if (ev->type == SC_DEV_EV_CREDENTIALS)
        printf("credentials: SSID \"%.*s\" (password not shown)\n", (int)ev->ssid_len, (const char *)ev->ssid);
    else if (ev->type == SC_DEV_EV_ERROR)
        printf("error %u/%ld: %s\n", ev->err_id, (long)ev->sub_id, ev->text ? ev->text : "");
}

int main(void)
{
    printf("smartcfg %s port skeleton: sc_device_t %zu bytes (SC_DEVICE_SIZE %zu)\n", SMARTCFG_VERSION_STRING,
           sizeof dev, (size_t)SC_DEVICE_SIZE);
    sc_device_config_t cfg;
    sc_device_config_default(&cfg);
    strcpy(cfg.identity.product_id, "ABCDEFGHIJ");
    strcpy(cfg.identity.device_name, "dev1");
    cfg.skip_cloud = true;      /* this chip has no MQTT client: stop after the app's token */
    cfg.on_event = on_event;
    if (sc_device_init(&dev, &hal, &cfg) != SC_OK || sc_device_start(&dev, chip_millis()) != SC_OK) {
        printf("init/start failed\n");
        return 1;
    }
    for (;;) {
        uint32_t deadline = sc_device_step(&dev, chip_millis());
        /* Until the core's deadline: hand it every sniffed frame, else sleep. */
        while ((int32_t)(chip_millis() - deadline) < 0) {
            sc_frame_t f;
            if (frame_pop(&f))
                sc_device_on_frame(&dev, &f, chip_millis());
            else
                chip_wait_event(deadline);
        }
        sc_device_state_t s = sc_device_state(&dev);
        if (s == SC_DEV_DONE || s == SC_DEV_FAILED) {
            printf("%s after %lu ms\n", s == SC_DEV_DONE ? "provisioned" : "failed", (unsigned long)chip_millis());
            return s == SC_DEV_DONE ? 0 : 1;
        }
    }
}
