/* SPDX-License-Identifier: Apache-2.0 */
/* The vendor SDK of an imaginary Wi-Fi chip: the calls a real SDK offers under other names
 * (esp_wifi_set_promiscuous, wifi_set_channel, NVS, lwIP's udp_*, ...). fake_chip.c
 * implements them on a simulated radio so that this example runs on a PC; on a real chip
 * they are the SDK's. Nothing in main.c knows the chip is fake. */
#ifndef CHIP_H
#define CHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smartcfg/esptouch.h"

uint32_t chip_millis(void);                 /* monotonic tick */
void chip_wait_event(uint32_t until_ms);    /* sleep until until_ms or the next interrupt */

/* Radio: the promiscuous callback runs in "interrupt context" and only queues. */
typedef void (*chip_sniff_cb)(const sc_frame_t *f);
int chip_wifi_promisc(bool on, chip_sniff_cb cb);
int chip_wifi_channel(uint8_t ch);

/* Station */
int chip_sta_connect(const uint8_t *ssid, size_t ssid_len, const uint8_t *pw, size_t pw_len);
int chip_sta_state(void);                   /* 0 idle, 1 connecting, 2 got ip, 3 failed */
void chip_sta_ip(uint8_t ip[4]);
void chip_sta_mac(uint8_t mac[6]);

/* UDP (non-blocking) */
int chip_udp_bind(uint16_t port);           /* handle >= 0, or -1 */
int chip_udp_sendto(int h, const uint8_t ip[4], uint16_t port, const void *buf, size_t len);
int chip_udp_recvfrom(int h, uint8_t ip[4], uint16_t *port, void *buf, size_t cap); /* -1: none */
void chip_udp_close(int h);

/* Key-value flash */
int chip_nvs_get(const char *key, void *buf, size_t cap, size_t *len); /* -1 absent, -2 too long */
int chip_nvs_set(const char *key, const void *buf, size_t len);
int chip_nvs_erase(const char *key);

#endif
