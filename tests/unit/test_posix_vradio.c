/* SPDX-License-Identifier: Apache-2.0 */
/* Virtual radio (udp:): a datagram of L bytes becomes a FromDS relay frame of L + overhead,
 * with the destination's group MAC, the configured BSSID and a per-sender MAC; loss, jitter
 * and the channel gate behave. Also the file: radio's spec errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sc_posix.h"
#include "sc_posix_netif.h"
#include "sc_posix_radio.h"
#include "smartcfg/esptouch_rx.h"
#include "test_util.h"

static void test_overheads(void **state)
{
    (void)state;
    /* docs/protocol/esptouch-v1.md#frame-length-and-overhead table */
    assert_int_equal(sc_posix_vradio_overhead(SC_CIPHER_OPEN, false, false), 60);
    assert_int_equal(sc_posix_vradio_overhead(SC_CIPHER_OPEN, true, true), 66);
    assert_int_equal(sc_posix_vradio_overhead(SC_CIPHER_WEP, false, true), 72);
    assert_int_equal(sc_posix_vradio_overhead(SC_CIPHER_TKIP, true, false), 82);
    assert_int_equal(sc_posix_vradio_overhead(SC_CIPHER_CCMP, false, true), 80);
    assert_int_equal(sc_posix_vradio_overhead(SC_CIPHER_CCMP, true, true), 82);
    assert_int_equal(sc_posix_vradio_overhead(SC_CIPHER_GCMP, false, false), 84);
    assert_int_equal(sc_posix_vradio_overhead(SC_CIPHER_GCMP, true, true), 90);
}

static void test_frame_synthesis(void **state)
{
    (void)state;
    sc_posix_radio_t r;
    memset(&r, 0, sizeof r);
    sc_posix_vradio_opts_default(&r.v);
    r.channel = 6;
    const uint8_t src[4] = { 192, 168, 1, 100 }, bcast[4] = { 255, 255, 255, 255 }, mc[4] = { 234, 200, 7, 9 };
    sc_frame_t f;
    sc_posix_vradio_frame(&r, src, bcast, 515, &f);
    assert_int_equal(f.kind, SC_FRAME_80211);
    assert_int_equal(f.len, 515 + 80);
    assert_int_equal(f.fcs, 1);
    assert_int_equal(SC_FC_TYPE(f.fc), 2);
    assert_int_equal(SC_FC_SUBTYPE(f.fc), 0);
    assert_true(f.fc & SC_FC_FROMDS);
    assert_false(f.fc & SC_FC_TODS);
    assert_true(f.fc & SC_FC_PROTECTED);
    assert_false(f.fc & SC_FC_RETRY);
    const uint8_t ff[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_memory_equal(f.addr1, ff, 6);
    assert_memory_equal(f.addr2, sc_posix_default_bssid, 6);
    assert_int_equal(f.channel, 6);
    uint16_t seq0 = f.seq_ctrl;
    uint8_t sender[6];
    memcpy(sender, f.addr3, 6);
    assert_int_equal(sender[0] & 1, 0); /* unicast station address */

    sc_posix_vradio_frame(&r, src, mc, 44, &f);
    const uint8_t want_mc[6] = { 0x01, 0x00, 0x5e, 200 & 0x7f, 7, 9 };
    assert_memory_equal(f.addr1, want_mc, 6);
    assert_int_equal(f.seq_ctrl, (uint16_t)(seq0 + 16)); /* sequence number + 1, fragment 0 */
    assert_memory_equal(f.addr3, sender, 6);              /* same sender, same MAC */
    const uint8_t other[4] = { 192, 168, 1, 101 };
    sc_posix_vradio_frame(&r, other, bcast, 44, &f);
    assert_memory_not_equal(f.addr3, sender, 6);

    /* open + QoS + no FCS */
    r.v.cipher = SC_CIPHER_OPEN;
    r.v.qos = true;
    r.v.fcs = false;
    sc_posix_vradio_frame(&r, src, bcast, 100, &f);
    assert_int_equal(f.len, 100 + 62);
    assert_int_equal(SC_FC_SUBTYPE(f.fc), 8);
    assert_false(f.fc & SC_FC_PROTECTED);
    assert_int_equal(f.fcs, 0);
}

static uint32_t fake_now;
static uint32_t clk(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static void send_len(uint16_t port, size_t len)
{
    static uint8_t buf[4096];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in src = { .sin_family = AF_INET };
    inet_pton(AF_INET, "127.0.0.9", &src.sin_addr);
    bind(fd, (struct sockaddr *)&src, sizeof src);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)len);
    close(fd);
}

static int read_one(sc_posix_radio_t *r, sc_frame_t *f)
{
    char err[128];
    struct pollfd p = { .fd = sc_posix_radio_fd(r), .events = POLLIN };
    poll(&p, 1, 1000);
    return sc_posix_radio_read(r, fake_now, f, err, sizeof err);
}

static void test_udp_socket(void **state)
{
    (void)state;
    sc_hal_sys_t sys;
    sc_posix_sys_init(&sys);
    sys.now_ms = clk;
    sc_posix_radio_t r;
    sc_hal_radio_t h;
    char err[128], spec[32];
    uint16_t port = tu_free_port();
    snprintf(spec, sizeof spec, "udp:%u", port);
    assert_int_equal(sc_posix_radio_open(&r, spec, NULL, &sys, &h, err, sizeof err), SC_OK);
    assert_int_equal(h.set_channel(h.ctx, 11), SC_OK);
    assert_int_equal(h.set_channel(h.ctx, 0), SC_ERR_RANGE);
    assert_int_equal(h.set_promiscuous(h.ctx, true), SC_OK);
    sc_frame_t f;
    for (size_t L = 1; L <= 641; L += 64) {
        send_len(port, L);
        assert_int_equal(read_one(&r, &f), 1);
        assert_int_equal(f.len, L + 80);
        assert_int_equal(f.channel, 11); /* whatever is tuned: hopping settles */
        /* loopback unicast counts as broadcast on the virtual medium */
        assert_int_equal(f.addr1[0], 0xff);
        assert_int_equal(f.addr3[2], 127);
        assert_int_equal(f.addr3[5], 9);
    }
    /* nothing more */
    assert_int_equal(sc_posix_radio_read(&r, fake_now, &f, err, sizeof err), 0);
    /* oversize datagrams are not frames */
    send_len(port, 3000);
    send_len(port, 10);
    assert_int_equal(read_one(&r, &f), 1);
    assert_int_equal(f.len, 90);
    assert_int_equal(r.dropped_oversize, 1);
    /* radio off: the air is ignored */
    h.set_promiscuous(h.ctx, false);
    send_len(port, 10);
    usleep(20000);
    assert_int_equal(sc_posix_radio_read(&r, fake_now, &f, err, sizeof err), 0);
    sc_posix_radio_close(&r);

    /* total loss */
    sc_posix_vradio_opts_t v;
    sc_posix_vradio_opts_default(&v);
    v.loss = 1.0;
    assert_int_equal(sc_posix_radio_open(&r, spec, &v, &sys, &h, err, sizeof err), SC_OK);
    for (int i = 0; i < 5; i++)
        send_len(port, 20);
    usleep(20000);
    assert_int_equal(sc_posix_radio_read(&r, fake_now, &f, err, sizeof err), 0);
    assert_int_equal(r.dropped_loss, 5);
    sc_posix_radio_close(&r);

    /* jitter: frames are held until due, none lost */
    sc_posix_vradio_opts_default(&v);
    v.jitter_ms = 50;
    fake_now = 1000;
    assert_int_equal(sc_posix_radio_open(&r, spec, &v, &sys, &h, err, sizeof err), SC_OK);
    for (int i = 0; i < 20; i++)
        send_len(port, 100 + (size_t)i);
    usleep(20000);
    int got = 0;
    uint32_t due;
    while (sc_posix_radio_read(&r, fake_now, &f, err, sizeof err) == 1)
        got++;
    assert_true(sc_posix_radio_next_due(&r, &due) || got == 20);
    fake_now += 51;
    while (sc_posix_radio_read(&r, fake_now, &f, err, sizeof err) == 1)
        got++;
    assert_int_equal(got, 20);
    assert_false(sc_posix_radio_next_due(&r, &due));
    sc_posix_radio_close(&r);

    /* fixed channel: only heard when tuned there */
    sc_posix_vradio_opts_default(&v);
    v.only_channel = 6;
    assert_int_equal(sc_posix_radio_open(&r, spec, &v, &sys, &h, err, sizeof err), SC_OK);
    h.set_channel(h.ctx, 1);
    send_len(port, 30);
    usleep(20000);
    assert_int_equal(sc_posix_radio_read(&r, fake_now, &f, err, sizeof err), 0);
    h.set_channel(h.ctx, 6);
    send_len(port, 30);
    assert_int_equal(read_one(&r, &f), 1);
    assert_int_equal(f.channel, 6);
    sc_posix_radio_close(&r);
}

static void test_specs(void **state)
{
    (void)state;
    sc_hal_sys_t sys;
    sc_posix_sys_init(&sys);
    sc_posix_radio_t r;
    sc_hal_radio_t h;
    char err[160];
    const char *bad[] = { "", "udp:", "udp:0", "udp:70000", "udp:12x", "file:", "file:/nonexistent/x.pcap",
                          "pcap:", "pcap:no-such-if0", "wifi:wlan0" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_not_equal(sc_posix_radio_open(&r, bad[i], NULL, &sys, &h, err, sizeof err), SC_OK);
        assert_true(err[0] != '\0');
        sc_posix_radio_close(&r);
    }
    /* a file that is not a capture */
    assert_int_not_equal(sc_posix_radio_open(&r, "file:/etc/hostname", NULL, &sys, &h, err, sizeof err), SC_OK);
    assert_int_equal(sc_posix_channel_freq(1), 2412);
    assert_int_equal(sc_posix_channel_freq(13), 2472);
    assert_int_equal(sc_posix_channel_freq(14), 2484);
    assert_int_equal(sc_posix_channel_freq(36), 5180);
    assert_int_equal(sc_posix_channel_freq(0), 0);
}

/* The frames the virtual radio makes of the reference sender's datagrams decode with the real
 * receiver, for every cipher/QoS/FCS setting (each gives another overhead to calibrate). */
static void test_decodable(void **state)
{
    (void)state;
    sc_et_creds_t c;
    memset(&c, 0, sizeof c);
    memcpy(c.ssid, "Virtual:AP", 10);
    c.ssid_len = 10;
    memcpy(c.password, "pa55 word!", 10);
    c.password_len = 10;
    memcpy(c.bssid, sc_posix_default_bssid, 6);
    const uint8_t phone[4] = { 127, 0, 0, 1 }, bcast[4] = { 255, 255, 255, 255 };
    memcpy(c.phone_ip, phone, 4);
    static sc_et_encoder_t enc;
    assert_int_equal(sc_et_encode(&enc, &c), SC_OK);
    const sc_cipher_t ciphers[] = { SC_CIPHER_OPEN, SC_CIPHER_WEP, SC_CIPHER_TKIP, SC_CIPHER_CCMP, SC_CIPHER_GCMP };
    for (size_t k = 0; k < 5 * 4; k++) {
        static sc_posix_radio_t r;
        memset(&r, 0, sizeof r);
        sc_posix_vradio_opts_default(&r.v);
        r.v.cipher = ciphers[k % 5];
        r.v.qos = (k / 5) & 1;
        r.v.fcs = (k / 10) & 1;
        r.channel = 6;
        static sc_et_rx_t rx;
        assert_int_equal(sc_et_rx_init(&rx, NULL), SC_OK);
        sc_et_sched_t sch;
        assert_int_equal(sc_et_sched_init(&sch, &enc, NULL), SC_OK);
        sc_et_dgram_t d;
        uint32_t prev = 0;
        bool done = false;
        while (!done && sc_et_sched_next(&sch, prev, &d) == SC_OK) {
            prev = d.at_ms;
            uint8_t dst[4];
            if (d.len == 0)
                continue;
            memcpy(dst, bcast, 4);
            sc_frame_t f;
            sc_posix_vradio_frame(&r, phone, dst, d.len, &f);
            sc_et_event_t ev;
            if (sc_et_rx_feed(&rx, &f, d.at_ms, &ev) == SC_ET_EV_DONE) {
                done = true;
                assert_int_equal(ev.result.creds.ssid_len, 10);
                assert_memory_equal(ev.result.creds.ssid, "Virtual:AP", 10);
                assert_int_equal(ev.result.creds.password_len, 10);
                assert_memory_equal(ev.result.creds.password, "pa55 word!", 10);
                assert_memory_equal(ev.result.creds.phone_ip, phone, 4);
                assert_int_equal(ev.result.offset, sc_posix_vradio_overhead(r.v.cipher, r.v.qos, r.v.fcs));
            }
        }
        assert_true(done);
    }
}

/* pcap: on a non-Wi-Fi interface: frames arrive, tuning is a no-op that reports the channel. */
static void test_pcap_live_lo(void **state)
{
    (void)state;
    sc_hal_sys_t sys;
    sc_posix_sys_init(&sys);
    sc_posix_radio_t r;
    sc_hal_radio_t h;
    char err[160];
    assert_int_equal(sc_posix_radio_open(&r, "pcap:lo", NULL, &sys, &h, err, sizeof err), SC_OK);
    assert_false(r.wireless);
    assert_int_equal(h.set_channel(h.ctx, 9), SC_OK);
    assert_int_equal(r.channel, 9);
    assert_true(sc_posix_radio_fd(&r) >= 0);
    uint16_t port = tu_free_port();
    const size_t L = 1237; /* unlikely to be anyone else's loopback datagram */
    send_len(port, L);
    bool seen = false;
    for (int i = 0; i < 200 && !seen; i++) {
        sc_frame_t f;
        int n = sc_posix_radio_read(&r, 0, &f, err, sizeof err);
        assert_true(n >= 0);
        if (n == 0) {
            usleep(5000);
            continue;
        }
        if (f.kind == SC_FRAME_ETHERNET && f.len == L + 42) { /* Ethernet 14 + IPv4 20 + UDP 8 */
            seen = true;
            assert_int_equal(f.channel, 9);
        }
    }
    assert_true(seen);
    sc_posix_radio_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overheads),
        cmocka_unit_test(test_frame_synthesis),
        cmocka_unit_test(test_udp_socket),
        cmocka_unit_test(test_specs),
        cmocka_unit_test(test_pcap_live_lo),
        cmocka_unit_test(test_decodable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
