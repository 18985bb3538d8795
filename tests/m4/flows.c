/* SPDX-License-Identifier: Apache-2.0 */
/* See flows.h. Mirrors the device harness of tests/unit/test_device.c, with the radio fed by
 * the air simulator instead of injected credentials. */
#include <stdlib.h>
#include <string.h>

#include "flows.h"

bool m4_rx_capture(sc_air_t *air, m4_feed_fn feed, void *user)
{
    uint32_t base = 0, last = 0;
    for (uint32_t k = 0; k < 6; k++) {
        sc_air_config_t c;
        sc_air_config_default(&c);
        c.loss = 0.1;
        c.retry = 0.05;
        c.foreign = 1.0;
        c.seed = 100 + k;
        c.start_ms = k * 1300u;
        c.creds.password[0] = (uint8_t)('a' + k);
        if (sc_air_init(air, &c) != SC_OK)
            return false;
        sc_frame_t f;
        uint32_t t;
        while (sc_air_next(air, &f, &t) == SC_OK)
            feed(user, &f, last = base + t);
        base = last + 1000u;   /* the next run a second later, as bench_decoder lays them out */
    }
    return true;
}

static void on_event(void *user, const sc_device_event_t *ev)
{
    m4_dev_t *t = user;
    t->events++;
    t->token_events += ev->type == SC_DEV_EV_TOKEN;
    t->last_state = ev->state;
}

bool m4_dev_init(m4_dev_t *t, m4_step_fn step, m4_frame_fn on_frame)
{
    memset(t, 0, sizeof *t);
    fh_init(&t->fh);
    t->step = step ? step : sc_device_step;
    t->on_frame = on_frame ? on_frame : sc_device_on_frame;
    t->dev = calloc(1, sc_device_size());
    if (!t->dev)
        return false;
    sc_device_config_default(&t->cfg);
    strcpy(t->cfg.identity.product_id, "ABCDEFGHIJ");
    strcpy(t->cfg.identity.device_name, "dev1");
    strcpy(t->cfg.identity.device_secret, "c2VjcmV0LWRldmljZS1wc2s=");
    t->cfg.skip_cloud = true;
    t->cfg.on_event = on_event;
    t->cfg.user = t;
    return sc_device_init(t->dev, &t->fh.hal, &t->cfg) == SC_OK;
}

void m4_dev_free(m4_dev_t *t)
{
    fh_free(&t->fh);
    free(t->dev);
    t->dev = NULL;
}

/* Advances fake time to `until`, stepping at every deadline the device returns. */
static bool run_until(m4_dev_t *t, uint32_t until)
{
    unsigned spins = 0;
    for (;;) {
        uint32_t next = t->step(t->dev, t->fh.now);
        if ((int32_t)(next - t->fh.now) <= 0) {
            if (++spins > 100000)
                return false;   /* a step that never lets time pass */
            continue;
        }
        spins = 0;
        if ((int32_t)(until - t->fh.now) <= 0)
            return true;
        t->fh.now = (int32_t)(next - until) > 0 ? until : next;
    }
}

void m4_dev_run(m4_dev_t *t, uint32_t ms)
{
    run_until(t, t->fh.now + ms);
}

bool m4_dev_sniff(m4_dev_t *t, sc_air_t *air)
{
    if (sc_device_start(t->dev, t->fh.now) != SC_OK)
        return false;
    uint32_t base = t->fh.now, at;
    sc_frame_t f;
    while (sc_device_state(t->dev) == SC_DEV_SNIFFING && sc_air_next(air, &f, &at) == SC_OK) {
        if (!run_until(t, base + at))
            return false;
        if (t->fh.promisc && t->fh.channel == f.channel)
            t->on_frame(t->dev, &f, t->fh.now);
    }
    return sc_device_state(t->dev) != SC_DEV_SNIFFING;
}

bool m4_dev_app_send(m4_dev_t *t, const char *ip, uint16_t port, const char *json, size_t len)
{
    return fh_inject(&t->fh, ip, port, M4_DEV_IP, 8266, json, len);
}
