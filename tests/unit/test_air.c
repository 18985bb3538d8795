/* SPDX-License-Identifier: Apache-2.0 */
/* Air simulator: overheads (docs/protocol/esptouch-v1.md#frame-length-and-overhead), addressing,
 * sequence numbers, retries, loss, capture window, determinism and the floor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smartcfg/air.h"

static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static int is_esptouch_len(unsigned l)
{
    return (l >= 40 && l <= 423) || (l >= 512 && l <= 515);
}

/* Classifies a frame as our uplink (1) or relay (2) copy, 0 otherwise. */
static int copy_kind(const sc_air_config_t *c, const sc_frame_t *f)
{
    if (f->kind != SC_FRAME_80211 || SC_FC_TYPE(f->fc) != 2)
        return 0;
    if ((f->fc & SC_FC_TODS) && !memcmp(f->addr2, c->phone_mac, 6) && (f->addr3[0] & 1))
        return 1;
    if ((f->fc & SC_FC_FROMDS) && !memcmp(f->addr2, c->creds.bssid, 6) && !memcmp(f->addr3, c->phone_mac, 6))
        return 2;
    return 0;
}

static sc_air_t air; /* 32 KiB: keep it off the cmocka stack */

static void test_overhead_table(void **state)
{
    (void)state;
    /* docs/protocol/esptouch-v1.md#frame-length-and-overhead: O without / with FCS, Data / QoS */
    static const struct { sc_cipher_t c; unsigned d, q; } t[] = {
        { SC_CIPHER_OPEN, 60, 62 }, { SC_CIPHER_WEP, 68, 70 }, { SC_CIPHER_TKIP, 80, 82 },
        { SC_CIPHER_CCMP, 76, 78 }, { SC_CIPHER_GCMP, 84, 86 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(sc_air_overhead(t[i].c, 0, 0), t[i].d);
        assert_int_equal(sc_air_overhead(t[i].c, 1, 0), t[i].q);
        assert_int_equal(sc_air_overhead(t[i].c, 0, 1), t[i].d + 4);
        assert_int_equal(sc_air_overhead(t[i].c, 1, 1), t[i].q + 4);
    }
    assert_int_equal(sc_air_overhead(SC_CIPHER_CCMP, 0, 1), 80); /* ESP "Head Len:80" */
}

static void check_frames_for(sc_cipher_t pw, sc_cipher_t grp, int qos_up, int qos_down, int fcs)
{
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.pairwise = pw;
    c.group = grp;
    c.uplink_qos = (uint8_t)qos_up;
    c.downlink_qos = (uint8_t)qos_down;
    c.fcs = (uint8_t)fcs;
    c.duration_ms = 3000;
    assert_int_equal(sc_air_init(&air, &c), SC_OK);
    sc_frame_t f;
    uint32_t t, last_t = 0, up = 0, down = 0;
    uint16_t o_up = sc_air_overhead(pw, qos_up, fcs), o_down = sc_air_overhead(grp, qos_down, fcs);
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        assert_true(t >= last_t);
        assert_true(t < 3000);
        last_t = t;
        int k = copy_kind(&c, &f);
        assert_int_not_equal(k, 0); /* no foreign traffic configured */
        assert_int_equal(f.fcs, fcs);
        assert_int_equal(f.channel, 6);
        if (k == 1) {
            up++;
            assert_true(is_esptouch_len(f.len - o_up));
            assert_int_equal(SC_FC_SUBTYPE(f.fc), qos_up ? 8 : 0);
            assert_int_equal(!!(f.fc & SC_FC_PROTECTED), pw != SC_CIPHER_OPEN);
            assert_memory_equal(f.addr1, c.creds.bssid, 6);
            assert_memory_equal(f.addr3, bcast, 6);
        } else {
            down++;
            assert_true(is_esptouch_len(f.len - o_down));
            assert_int_equal(SC_FC_SUBTYPE(f.fc), qos_down ? 8 : 0);
            assert_int_equal(!!(f.fc & SC_FC_PROTECTED), grp != SC_CIPHER_OPEN);
            assert_memory_equal(f.addr1, bcast, 6);
        }
    }
    /* 3 s at 8 ms per datagram: ~375 datagrams, each seen once per direction */
    assert_in_range(up, 360, 380);
    assert_in_range(down, 355, 380);
}

static void test_overheads_on_air(void **state)
{
    (void)state;
    for (int c = SC_CIPHER_OPEN; c <= SC_CIPHER_GCMP; c++)
        for (int fcs = 0; fcs < 2; fcs++) {
            check_frames_for((sc_cipher_t)c, (sc_cipher_t)c, 1, 0, fcs);
            check_frames_for((sc_cipher_t)c, SC_CIPHER_TKIP, 0, 1, fcs);
        }
}

static void test_guide_then_data(void **state)
{
    (void)state;
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.downlink = 0;
    c.duration_ms = 2600;
    assert_int_equal(sc_air_init(&air, &c), SC_OK);
    uint16_t o = sc_air_overhead(c.pairwise, 1, 1);
    sc_frame_t f;
    uint32_t t;
    unsigned n = 0;
    uint16_t first[4];
    int saw_data = 0;
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        unsigned l = f.len - o;
        if (n < 4)
            first[n] = (uint16_t)l;
        if (t < 1990)
            assert_in_range(l, 512, 515);
        if (t > 2100 && l < 512)
            saw_data = 1;
        n++;
    }
    assert_int_equal(first[0], 515);
    assert_int_equal(first[1], 514);
    assert_int_equal(first[2], 513);
    assert_int_equal(first[3], 512);
    assert_true(saw_data);
}

static void test_sequence_and_retries(void **state)
{
    (void)state;
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.retry = 0.2;
    c.downlink = 0;
    c.duration_ms = 4000;
    c.seed = 7;
    assert_int_equal(sc_air_init(&air, &c), SC_OK);
    sc_frame_t f, prev;
    uint32_t t;
    int have = 0;
    unsigned retries = 0, originals = 0;
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        if (f.fc & SC_FC_RETRY) {
            retries++;
            assert_true(have);
            assert_int_equal(f.seq_ctrl, prev.seq_ctrl);
            assert_int_equal(f.len, prev.len);
        } else {
            if (have)
                assert_int_equal(f.seq_ctrl >> 4, ((prev.seq_ctrl >> 4) + 1) & 0xFFF);
            originals++;
        }
        prev = f;
        have = 1;
    }
    /* geometric: expected retries per original = 0.2 + 0.04 + 0.008 */
    double r = (double)retries / originals;
    assert_true(r > 0.18 && r < 0.32);
    sc_air_stats_t st;
    sc_air_stats(&air, &st);
    assert_true(st.retries >= retries);
}

static void test_loss_rate(void **state)
{
    (void)state;
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.loss = 0.3;
    c.seed = 99;
    assert_int_equal(sc_air_init(&air, &c), SC_OK);
    sc_frame_t f;
    uint32_t t;
    unsigned seen = 0;
    while (sc_air_next(&air, &f, &t) == SC_OK)
        seen++;
    sc_air_stats_t st;
    sc_air_stats(&air, &st);
    assert_int_equal(seen + st.lost, st.esptouch_frames);
    double lost = (double)st.lost / st.esptouch_frames;
    assert_true(lost > 0.28 && lost < 0.32);
}

static void test_multicast_da(void **state)
{
    (void)state;
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.multicast = 1;
    c.duration_ms = 3000;
    c.uplink = 0;
    assert_int_equal(sc_air_init(&air, &c), SC_OK);
    sc_frame_t f;
    uint32_t t;
    unsigned n = 0;
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        assert_int_equal(f.addr1[0], 0x01);
        assert_int_equal(f.addr1[1], 0x00);
        assert_int_equal(f.addr1[2], 0x5E);
        assert_int_equal(f.addr1[3], f.addr1[4]);
        assert_int_equal(f.addr1[4], f.addr1[5]);
        assert_in_range(f.addr1[5], 1, 100);
        n++;
    }
    assert_true(n > 300);
}

static void test_deterministic_and_window(void **state)
{
    (void)state;
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.loss = 0.1;
    c.retry = 0.1;
    c.foreign = 2.0;
    c.dtim_ms = 307;
    c.seed = 1234;
    c.start_ms = 5000;
    c.duration_ms = 4000;
    static sc_frame_t a[8000];
    unsigned na = 0;
    sc_frame_t f;
    uint32_t t;
    assert_int_equal(sc_air_init(&air, &c), SC_OK);
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        assert_true(na < 8000);
        assert_true(t < 4000);
        assert_true(f.ts_us >= c.ts_base_us && f.ts_us < c.ts_base_us + 4000000u);
        a[na++] = f;
    }
    assert_true(na > 1000);
    assert_int_equal(sc_air_init(&air, &c), SC_OK);
    unsigned nb = 0, moredata = 0, foreign = 0;
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        assert_true(nb < na);
        assert_memory_equal(&a[nb], &f, sizeof f);
        if (f.fc & SC_FC_MOREDATA)
            moredata++;
        if (!copy_kind(&c, &f))
            foreign++;
        nb++;
    }
    assert_int_equal(na, nb);
    assert_true(moredata > 100); /* DTIM bursts */
    assert_true(foreign > 500);
}

/* Every protocol's capture clock reads ts_base at the sender's t = 0 (issue 11 item 4): on clean
 * air the phone's k-th datagram leaves at k x its gap (v1 8 ms, v2 15 ms, AirKiss 5 ms; v2's
 * cycle pause comes after the fourth), its uplink copy within 1 ms of it. With --start S the
 * capture starts S ms into the run: its first uplink copy is the run's first datagram at or
 * after S, at that datagram's time minus S (the same length as in the whole run). */
static void test_capture_clock_each_protocol(void **state)
{
    (void)state;
    static const sc_air_proto_t ps[] = { SC_AIR_PROTO_V1, SC_AIR_PROTO_V2, SC_AIR_PROTO_AIRKISS };
    static const unsigned gap[] = { 8, 15, 5 };
    for (unsigned i = 0; i < 3; i++) {
        sc_air_config_t c;
        sc_air_config_default(&c);
        c.protocol = ps[i];
        c.duration_ms = 8000;
        assert_int_equal(sc_air_init(&air, &c), SC_OK);
        sc_frame_t f;
        uint32_t t;
        static uint64_t up_us[2000];
        static uint16_t up_len[2000];
        unsigned n = 0;
        while (sc_air_next(&air, &f, &t) == SC_OK && n < 2000)
            if (copy_kind(&c, &f) == 1) {
                up_us[n] = f.ts_us - c.ts_base_us;
                up_len[n++] = f.len;
            }
        assert_true(n > 400);
        for (unsigned k = 0; k < 4; k++)
            assert_true(up_us[k] >= k * gap[i] * 1000u && up_us[k] < k * gap[i] * 1000u + 1000u);
        const uint32_t start = 5000;
        unsigned j = 0;
        while (up_us[j] < (uint64_t)start * 1000u)
            j++;
        const uint64_t at_us = up_us[j] / 1000u * 1000u; /* the datagram's ms (the copy is < 1 ms late) */
        c.start_ms = start;
        c.duration_ms = 1000;
        assert_int_equal(sc_air_init(&air, &c), SC_OK);
        int got = 0;
        while (!got && sc_air_next(&air, &f, &t) == SC_OK)
            if (copy_kind(&c, &f) == 1) {
                assert_true(f.ts_us >= c.ts_base_us);
                assert_true(f.ts_us - c.ts_base_us >= at_us - start * 1000u);
                assert_true(f.ts_us - c.ts_base_us < at_us - start * 1000u + 1000u);
                assert_int_equal(f.len, up_len[j]);
                got = 1;
            }
        assert_true(got);
    }
}

static void test_floor(void **state)
{
    (void)state;
    sc_air_config_t c;
    sc_air_config_default(&c);
    /* vector A: 35 codes; guide until ~2 s, then 105 datagrams of 8 ms */
    uint32_t fl = sc_air_floor_ms(&c);
    assert_in_range(fl, 2000 + 104 * 8, 2040 + 104 * 8);
    /* starting just after index 0's triplet: a whole cycle later */
    c.start_ms = fl - 104 * 8 + 1;
    uint32_t fl2 = sc_air_floor_ms(&c);
    assert_int_equal(fl2, 105 * 8 + 2 * 8 - 1); /* index 0 again, one cycle on */
    /* a capture too short never reaches the floor */
    c.start_ms = 0;
    c.duration_ms = 1000;
    assert_int_equal(sc_air_floor_ms(&c), UINT32_MAX);
    /* starting in the last second of the window: no full cycle left */
    c.duration_ms = 0;
    c.start_ms = 44800;
    assert_int_equal(sc_air_floor_ms(&c), UINT32_MAX);
}

static void test_bad_config(void **state)
{
    (void)state;
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.loss = 1.5;
    assert_int_not_equal(sc_air_init(&air, &c), SC_OK);
    sc_frame_t f;
    assert_int_not_equal(sc_air_next(&air, &f, NULL), SC_OK);
    sc_air_config_default(&c);
    c.creds.ssid_len = 0;
    assert_int_not_equal(sc_air_init(&air, &c), SC_OK);
    sc_air_config_default(&c);
    c.uplink = c.downlink = 0;
    assert_int_not_equal(sc_air_init(&air, &c), SC_OK);
    sc_air_config_default(&c);
    c.dtim_ms = 5000;
    assert_int_not_equal(sc_air_init(&air, &c), SC_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overhead_table),
        cmocka_unit_test(test_overheads_on_air),
        cmocka_unit_test(test_guide_then_data),
        cmocka_unit_test(test_sequence_and_retries),
        cmocka_unit_test(test_loss_rate),
        cmocka_unit_test(test_multicast_da),
        cmocka_unit_test(test_deterministic_and_window),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_capture_clock_each_protocol),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
