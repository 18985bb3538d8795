/* SPDX-License-Identifier: Apache-2.0 */
/* Scenarios shared by the Cortex-M4 self-test and the M4 benchmark: the receiver over a
 * simulated capture, and a whole device run (air -> receiver -> device -> ack -> UDP 8266
 * token -> done) over the fake HAL. The step and frame entry points are passed in so the
 * benchmark can wrap them with its stack painting and instruction counting. Test-only. */
#ifndef SC_M4_FLOWS_H
#define SC_M4_FLOWS_H
#include <stdbool.h>

#include "fake_hal.h"
#include "smartcfg/air.h"
#include "smartcfg/device.h"
#include "smartcfg/esptouch_rx.h"

/* The receiver benchmark's capture (the one of bench/bench_decoder.c): six runs of the air
 * simulator, 10 % loss, 5 % retries, one foreign frame per datagram, different seeds, start
 * points and passwords, run after run. feed() gets every frame in time order. */
typedef void (*m4_feed_fn)(void *user, const sc_frame_t *f, uint32_t t_ms);
bool m4_rx_capture(sc_air_t *air, m4_feed_fn feed, void *user);

#define M4_DEV_IP "192.168.1.23"    /* the fake HAL's station address */
#define M4_APP_IP "192.168.1.50"
#define M4_TOKEN "0123456789abcdef0123456789abcdef"

typedef uint32_t (*m4_step_fn)(sc_device_t *dev, uint32_t now_ms);
typedef void (*m4_frame_fn)(sc_device_t *dev, const sc_frame_t *f, uint32_t now_ms);

typedef struct {
    fake_hal_t fh;
    sc_device_t *dev;
    sc_device_config_t cfg;
    m4_step_fn step;
    m4_frame_fn on_frame;
    unsigned events, token_events;
    sc_device_state_t last_state;
} m4_dev_t;

/* skip_cloud device over a fresh fake HAL; step/on_frame NULL = the core's own. */
bool m4_dev_init(m4_dev_t *t, m4_step_fn step, m4_frame_fn on_frame);
void m4_dev_free(m4_dev_t *t);
/* Steps the device for ms of fake time (every deadline it asks for). */
void m4_dev_run(m4_dev_t *t, uint32_t ms);
/* Starts SmartConfig and plays the capture to the device's radio (a frame is heard only while
 * the radio is promiscuous on the frame's channel) until it leaves SNIFFING. */
bool m4_dev_sniff(m4_dev_t *t, sc_air_t *air);
/* The app's UDP 8266 datagram from ip:port. */
bool m4_dev_app_send(m4_dev_t *t, const char *ip, uint16_t port, const char *json, size_t len);
#endif
