/* SPDX-License-Identifier: Apache-2.0 */
/* The POSIX device host: wrong specs are told apart from setup failures; a fast capture replay
 * pumps the capture's frames into the device on the capture's own clock until the credentials
 * are decoded; a capture that ends first is reported; front-end descriptors and the tick hook
 * share the loop and can stop it. Nothing is sent on any network (the simulated join never
 * completes within the test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_pcap.h"
#include "sc_posix_host.h"
#include "smartcfg/air.h"
#include "test_util.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sc_host_test.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return tu_rm_rf(dir);
}

static const char *path(const char *name)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static sc_air_t air;

/* Writes what a sniffer on channel 6 saw of the reference sender (vector A credentials). */
static void write_capture(const char *file, uint32_t duration_ms, sc_air_config_t *c)
{
    sc_air_config_default(c);
    c->duration_ms = duration_ms;
    assert_int_equal(sc_air_init(&air, c), SC_OK);
    char eb[256];
    sc_pcap_writer_t *w = sc_pcap_writer_open(file, eb, sizeof eb);
    assert_non_null(w);
    sc_frame_t f;
    uint32_t t;
    while (sc_air_next(&air, &f, &t) == SC_OK)
        assert_int_equal(sc_pcap_write(w, &f), SC_OK);
    assert_int_equal(sc_pcap_writer_close(w), SC_OK);
}

typedef struct {
    sc_posix_host_t *h;
    char ssid[40];
    uint32_t creds_ms;
    char error[160];
    unsigned fd_calls, ticks;
} seen_t;

static seen_t seen;

static void on_event(void *user, const sc_device_event_t *ev)
{
    seen_t *s = user;
    if (ev->type != SC_DEV_EV_CREDENTIALS)
        return;
    snprintf(s->ssid, sizeof s->ssid, "%.*s", (int)ev->ssid_len, (const char *)ev->ssid);
    s->creds_ms = sc_posix_host_ms(s->h);
    sc_posix_host_request_stop(SIGTERM); /* before the (never completing) join goes anywhere */
}

static void on_error(void *user, const char *text)
{
    seen_t *s = user;
    snprintf(s->error, sizeof s->error, "%s", text);
}

static void configure(sc_posix_host_cfg_t *hc, sc_device_config_t *dc, const char *radio)
{
    sc_posix_host_cfg_default(hc);
    hc->radio_spec = radio;
    hc->join_spec = "sim:TP-LINK_2.4G:12345678:127.0.0.2";
    hc->state_dir = path("state");
    hc->sim_delay_ms = 600000;    /* the join never completes: nothing is sent anywhere */
    hc->handle_signals = false;   /* the test process keeps its own signal handling */
    hc->on_error = on_error;
    hc->user = &seen;
    sc_device_config_default(dc);
    strcpy(dc->identity.product_id, "ABCDEFGHIJ");
    strcpy(dc->identity.device_name, "dev1");
    dc->skip_cloud = true;
    dc->on_event = on_event;
    dc->user = &seen;
    memset(&seen, 0, sizeof seen);
}

static void test_spec_errors(void **state)
{
    (void)state;
    sc_posix_host_cfg_t hc;
    sc_device_config_t dc;
    sc_posix_host_t *h = (sc_posix_host_t *)&hc;
    char why[256];
    configure(&hc, &dc, "wifi:wlan0");
    assert_int_equal(sc_posix_host_open(&h, &hc, &dc, why, sizeof why), SC_ERR_INVAL);
    assert_null(h);
    assert_non_null(strstr(why, "--radio"));
    configure(&hc, &dc, "udp:70000");
    assert_int_equal(sc_posix_host_open(&h, &hc, &dc, why, sizeof why), SC_ERR_INVAL);
    configure(&hc, &dc, "udp");
    hc.join_spec = "nope:x";
    assert_int_equal(sc_posix_host_open(&h, &hc, &dc, why, sizeof why), SC_ERR_INVAL);
    assert_non_null(strstr(why, "--join"));
    /* setup failures, not usage: an unreadable capture, a state directory that cannot exist */
    configure(&hc, &dc, "file:/nonexistent/x.pcap");
    sc_err_t e = sc_posix_host_open(&h, &hc, &dc, why, sizeof why);
    assert_true(e != SC_OK && e != SC_ERR_INVAL && e != SC_ERR_RANGE && e != SC_ERR_NOTFOUND);
    configure(&hc, &dc, "udp");
    hc.state_dir = "/proc/nope/x";
    e = sc_posix_host_open(&h, &hc, &dc, why, sizeof why);
    assert_true(e != SC_OK && e != SC_ERR_INVAL && e != SC_ERR_RANGE && e != SC_ERR_NOTFOUND);
    assert_null(h);
}

/* A host replaying a capture of duration_ms (0: the sender's whole run) of vector A. */
static void open_replay(const char *name, uint32_t duration_ms, bool realtime)
{
    sc_air_config_t air_cfg;
    write_capture(path(name), duration_ms, &air_cfg);
    assert_true(air_cfg.start_ms == 0);
    char radio[160];
    snprintf(radio, sizeof radio, "file:%s", path(name));
    sc_posix_host_cfg_t hc;
    sc_device_config_t dc;
    configure(&hc, &dc, radio);
    hc.realtime = realtime;
    char why[256];
    assert_int_equal(sc_posix_host_open(&seen.h, &hc, &dc, why, sizeof why), SC_OK);
}

static void test_replay_decodes_on_capture_time(void **state)
{
    (void)state;
    open_replay("full.pcap", 0, false);
    assert_int_equal(sc_posix_host_run(seen.h), SC_POSIX_HOST_STOPPED);
    assert_string_equal(seen.ssid, "TP-LINK_2.4G");
    /* The device's clock is the capture's: the sender's first 2 s are guide frames only, so
     * on the capture's clock the credentials cannot be complete before then, however fast
     * the replay ran. */
    sc_et_timing_t timing = SC_ET_TIMING_DEFAULT;
    assert_true(seen.creds_ms > timing.guide_ms);
    assert_int_equal(seen.error[0], '\0');
    sc_posix_host_close(seen.h);
}

static void test_capture_ends_first(void **state)
{
    (void)state;
    open_replay("short.pcap", 300, false);
    assert_int_equal(sc_posix_host_run(seen.h), SC_POSIX_HOST_CAPTURE_END);
    assert_string_equal(seen.error, "the capture ended before credentials were decoded");
    assert_int_equal(seen.ssid[0], '\0');
    sc_posix_host_close(seen.h);
}

static void fd_ready(void *user, int fd, short revents, sc_device_t *dev, uint32_t now_ms)
{
    seen_t *s = user;
    (void)now_ms;
    assert_true(revents & POLLIN);
    assert_ptr_equal(dev, sc_posix_host_device(s->h));
    char b[8];
    assert_int_equal(read(fd, b, sizeof b), 1);
    s->fd_calls++;
    sc_posix_host_request_stop(SIGINT);
}

static uint32_t tick(void *user, sc_device_t *dev, uint32_t now_ms)
{
    seen_t *s = user;
    (void)dev;
    s->ticks++;
    return now_ms + 50;
}

static void test_front_end_hooks(void **state)
{
    (void)state;
    /* At capture pace the loop waits for each frame in poll(), where the front-ends are. */
    open_replay("paced.pcap", 0, true);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(sc_posix_host_add_fd(seen.h, -1, POLLIN, fd_ready, &seen), -1);
    assert_int_equal(sc_posix_host_add_fd(seen.h, p[0], POLLIN, fd_ready, &seen), 0);
    sc_posix_host_set_tick(seen.h, tick, &seen);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(sc_posix_host_run(seen.h), SC_POSIX_HOST_STOPPED);
    assert_int_equal(seen.fd_calls, 1);
    assert_true(seen.ticks >= 1);
    /* stopped by the user: the device left sniffing */
    assert_int_not_equal(sc_device_state(sc_posix_host_device(seen.h)), SC_DEV_SNIFFING);
    sc_posix_host_remove_fd(seen.h, p[0]);
    sc_posix_host_close(seen.h);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_errors),
        cmocka_unit_test(test_replay_decodes_on_capture_time),
        cmocka_unit_test(test_capture_ends_first),
        cmocka_unit_test(test_front_end_hooks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
