/* SPDX-License-Identifier: Apache-2.0 */
/* A fake chip for chip.h so the skeleton runs on a PC: a millisecond clock that jumps to the
 * next event, a radio whose air is smartcfg's own simulator (a phone sending SSID
 * "TP-LINK_2.4G" / "12345678" over ESP-TOUCH on channel 6), an AP that accepts exactly those
 * credentials, a UDP stack with the phone on the other side (it answers the device's ack
 * with the cmdType 0 token request, as the app does) and a RAM key-value store. This file is
 * test scaffolding; a port replaces it by the vendor SDK. Static storage only. */
#include <stdio.h>
#include <string.h>

#include "chip.h"
#include "smartcfg/air.h"

/* The phone is smartcfg's air simulator: a core built without it (SMARTCFG_WITH_SIM=OFF, as a
 * firmware's is) cannot run this file; say so here rather than with a link error. */
#if !SMARTCFG_WITH_SIM
#error "fake_chip.c needs the air simulator: build smartcfg with SMARTCFG_WITH_SIM=ON (your port replaces fake_chip.c by your SDK and does not need it)"
#endif

static uint32_t now;

/* ---- air ------------------------------------------------------------------------------- */
static sc_air_t air;                 /* the simulated air: static storage too */
static sc_air_config_t air_cfg;
static bool air_ready, air_done, have_next, promisc;
static sc_frame_t next_frame;
static uint32_t next_at;
static uint8_t tuned;
static chip_sniff_cb sniff_cb;

static void air_fetch(void)
{
    if (!air_ready) {
        sc_air_config_default(&air_cfg);
        air_ready = sc_air_init(&air, &air_cfg) == SC_OK;
        air_done = !air_ready;
    }
    while (!have_next && !air_done) {
        if (sc_air_next(&air, &next_frame, &next_at) == SC_OK)
            have_next = true;
        else
            air_done = true;
    }
}

uint32_t chip_millis(void) { return now; }

void chip_wait_event(uint32_t until)
{
    air_fetch();
    if (have_next && (int32_t)(next_at - until) < 0) {
        if ((int32_t)(next_at - now) > 0)
            now = next_at;
        have_next = false;
        if (promisc && sniff_cb && tuned == air_cfg.channel)
            sniff_cb(&next_frame);   /* "interrupt": the frame as the radio saw it */
        return;
    }
    if ((int32_t)(until - now) > 0)
        now = until;
}

int chip_wifi_promisc(bool on, chip_sniff_cb cb)
{
    promisc = on;
    sniff_cb = cb;
    return 0;
}

int chip_wifi_channel(uint8_t ch)
{
    tuned = ch;
    return ch >= 1 && ch <= 14 ? 0 : -1;
}

/* ---- station: the AP takes the simulated phone's credentials, DHCP after 400 ms -------- */
static int sta_state;
static uint32_t sta_ip_at;

int chip_sta_connect(const uint8_t *ssid, size_t sl, const uint8_t *pw, size_t pl)
{
    air_fetch();
    bool ok = sl == air_cfg.creds.ssid_len && !memcmp(ssid, air_cfg.creds.ssid, sl) &&
              pl == air_cfg.creds.password_len && !memcmp(pw, air_cfg.creds.password, pl);
    sta_state = ok ? 1 : 3;
    sta_ip_at = now + 400;
    return 0;
}

int chip_sta_state(void)
{
    if (sta_state == 1 && (int32_t)(now - sta_ip_at) >= 0)
        sta_state = 2;
    return sta_state;
}

void chip_sta_ip(uint8_t ip[4]) { memcpy(ip, (const uint8_t[]){ 192, 168, 1, 50 }, 4); }
void chip_sta_mac(uint8_t mac[6]) { memcpy(mac, (const uint8_t[]){ 0x02, 0x00, 0x00, 0x12, 0x34, 0x56 }, 6); }

/* ---- UDP: the phone at the other end ------------------------------------------------------ */
static uint16_t sock_port[4];          /* 0 = free */
static bool token_due;
static uint32_t token_at;
static const char token_req[] = "{\"cmdType\":0,\"token\":\"0123456789abcdef0123456789abcdef\"}";

int chip_udp_bind(uint16_t port)
{
    for (int h = 0; h < 4; h++)
        if (!sock_port[h]) {
            sock_port[h] = port ? port : 40000;
            return h;
        }
    return -1;
}

int chip_udp_sendto(int h, const uint8_t ip[4], uint16_t port, const void *buf, size_t len)
{
    (void)ip;
    if (h < 0 || h >= 4 || !sock_port[h])
        return -1;
    if (port == 18266 && len == 11 && !token_due && !token_at) {
        printf("phone: ack from the device\n");
        token_due = true;              /* the app hands out its token 100 ms later */
        token_at = now + 100;
    } else if (sock_port[h] == 8266) {
        printf("phone: reply %.*s", (int)len, (const char *)buf);
    }
    return 0;
}

int chip_udp_recvfrom(int h, uint8_t ip[4], uint16_t *port, void *buf, size_t cap)
{
    if (h < 0 || h >= 4 || sock_port[h] != 8266 || !token_due || (int32_t)(now - token_at) < 0)
        return -1;
    token_due = false;
    memcpy(ip, air_cfg.creds.phone_ip, 4);
    *port = 8266;
    size_t n = sizeof token_req - 1 < cap ? sizeof token_req - 1 : cap;
    memcpy(buf, token_req, n);
    printf("phone: token sent\n");
    return (int)n;
}

void chip_udp_close(int h)
{
    if (h >= 0 && h < 4)
        sock_port[h] = 0;
}

/* ---- key-value flash ------------------------------------------------------------------------ */
static struct {
    char key[16];
    uint8_t val[1400];
    size_t len;
} nvs[6];

int chip_nvs_get(const char *key, void *buf, size_t cap, size_t *len)
{
    for (int i = 0; i < 6; i++)
        if (nvs[i].key[0] && !strcmp(nvs[i].key, key)) {
            if (nvs[i].len > cap)
                return -2;
            memcpy(buf, nvs[i].val, nvs[i].len);
            *len = nvs[i].len;
            return 0;
        }
    return -1;
}

int chip_nvs_set(const char *key, const void *buf, size_t len)
{
    if (strlen(key) >= sizeof nvs[0].key || len > sizeof nvs[0].val)
        return -1;
    int slot = -1;
    for (int i = 0; i < 6 && slot < 0; i++)
        if (nvs[i].key[0] && !strcmp(nvs[i].key, key))
            slot = i;
    for (int i = 0; i < 6 && slot < 0; i++)
        if (!nvs[i].key[0])
            slot = i;
    if (slot < 0)
        return -1;
    strcpy(nvs[slot].key, key);
    memcpy(nvs[slot].val, buf, len);
    nvs[slot].len = len;
    return 0;
}

int chip_nvs_erase(const char *key)
{
    for (int i = 0; i < 6; i++)
        if (!strcmp(nvs[i].key, key))
            nvs[i].key[0] = 0;
    return 0;
}
