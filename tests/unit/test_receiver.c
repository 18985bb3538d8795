/* SPDX-License-Identifier: Apache-2.0 */
/* The receiver front on simulated air: each protocol alone through all three decoders, the
 * protocol mask, two phones of different protocols at once, and real-air variety (HT Control,
 * A-MSDU, 5 GHz channels) with loss and foreign traffic, and AirKiss on a sender v1 has locked on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smartcfg/air.h"
#include "smartcfg/receiver.h"

static sc_air_t air, air2;
static sc_receiver_t rx;

static void config(sc_air_config_t *c, sc_air_proto_t p)
{
    sc_air_config_default(c);
    c->protocol = p;
    c->loss = 0.1;
    c->retry = 0.05;
    c->foreign = 1.0;
    c->ak_random = 0x42;
    if (p == SC_AIR_PROTO_V2) {
        memcpy(c->reserved, "custom", 6);
        c->reserved_len = 6;
    }
}

/* Runs one capture through the front; returns the completing event time or -1. */
static long decode(const sc_air_config_t *c, unsigned mask, sc_rx_result_t *res)
{
    assert_int_equal(sc_air_init(&air, c), SC_OK);
    assert_int_equal(sc_receiver_init(&rx, mask), SC_OK);
    sc_frame_t f;
    uint32_t t;
    sc_rx_event_t ev;
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        if (sc_receiver_feed(&rx, &f, t, &ev) == SC_ET_EV_DONE) {
            *res = ev.result;
            return (long)t;
        }
    }
    return -1;
}

static void check_common(const sc_rx_result_t *r)
{
    assert_int_equal(r->ssid_len, 12);
    assert_memory_equal(r->ssid, "TP-LINK_2.4G", 12);
    assert_true(r->password_known);
    assert_int_equal(r->password_len, 8);
    assert_memory_equal(r->password, "12345678", 8);
}

static void test_budget(void **state)
{
    (void)state;
    assert_true(sizeof(sc_receiver_t) <= 3072);
    unsigned m;
    assert_int_equal(sc_proto_parse("v1,v2,airkiss", &m), SC_OK);
    assert_int_equal(m, SC_PROTO_ALL);
    assert_int_equal(sc_proto_parse("airkiss", &m), SC_OK);
    assert_int_equal(m, SC_PROTO_AIRKISS);
    assert_int_equal(sc_proto_parse("v3", &m), SC_ERR_INVAL);
    assert_int_equal(sc_proto_parse("", &m), SC_ERR_INVAL);
    assert_int_equal(sc_proto_parse("v1,", &m), SC_ERR_INVAL);
    assert_string_equal(sc_proto_name(SC_PROTO_ESPTOUCH_V2), "esptouch-v2");
}

static void test_each_protocol(void **state)
{
    (void)state;
    sc_air_config_t c;
    sc_rx_result_t r;
    for (unsigned seed = 1; seed <= 5; seed++) {
        config(&c, SC_AIR_PROTO_V1);
        c.seed = seed;
        assert_true(decode(&c, 0, &r) >= 0);
        assert_int_equal(r.proto, SC_PROTO_ESPTOUCH_V1);
        check_common(&r);
        assert_true(r.has_phone_ip);

        config(&c, SC_AIR_PROTO_V2);
        c.seed = seed;
        long t = decode(&c, 0, &r);
        assert_true(t >= 0 && t < 20000);
        assert_int_equal(r.proto, SC_PROTO_ESPTOUCH_V2);
        check_common(&r);
        assert_int_equal(r.reserved_len, 6);
        assert_memory_equal(r.reserved, "custom", 6);
        assert_true(r.has_bssid);
        assert_false(r.has_phone_ip);

        config(&c, SC_AIR_PROTO_AIRKISS);
        c.seed = seed;
        t = decode(&c, 0, &r);
        assert_true(t >= 0 && t < 20000);
        assert_int_equal(r.proto, SC_PROTO_AIRKISS);
        check_common(&r);
        assert_int_equal(r.random, 0x42);
        assert_false(r.has_bssid);
    }
    /* a disabled protocol is not decoded */
    config(&c, SC_AIR_PROTO_AIRKISS);
    c.duration_ms = 15000;
    assert_int_equal(decode(&c, SC_PROTO_ESPTOUCH_V1 | SC_PROTO_ESPTOUCH_V2, &r), -1);
}

/* Every protocol's LOCKED event carries its stream's overhead, and so does DONE (v2's and
 * AirKiss's locks said 0 until 2026-12-06, and the CLI left the overhead out of their lock
 * lines). The default air: CCMP with FCS, the QoS uplink 82 and the plain relay 80. */
static void test_lock_offset(void **state)
{
    (void)state;
    static const sc_air_proto_t ps[] = { SC_AIR_PROTO_V1, SC_AIR_PROTO_V2, SC_AIR_PROTO_AIRKISS };
    static const sc_proto_t want[] = { SC_PROTO_ESPTOUCH_V1, SC_PROTO_ESPTOUCH_V2, SC_PROTO_AIRKISS };
    for (unsigned i = 0; i < 3; i++) {
        sc_air_config_t c;
        sc_air_config_default(&c);
        c.protocol = ps[i];
        assert_int_equal(sc_air_init(&air, &c), SC_OK);
        assert_int_equal(sc_receiver_init(&rx, 0), SC_OK);
        sc_frame_t f;
        uint32_t t;
        sc_rx_event_t ev;
        unsigned locks = 0, done = 0;
        while (!done && sc_air_next(&air, &f, &t) == SC_OK) {
            sc_et_event_type_t et = sc_receiver_feed(&rx, &f, t, &ev);
            if (et == SC_ET_EV_LOCKED || et == SC_ET_EV_DONE) {
                assert_int_equal(ev.proto, want[i]);
                assert_true(ev.offset == 80 || ev.offset == 82);
                locks += et == SC_ET_EV_LOCKED;
                done = et == SC_ET_EV_DONE;
            }
        }
        assert_true(done);
        assert_true(locks >= 1);
        assert_true(ev.result.offset == 80 || ev.result.offset == 82);
    }
}

/* Hostile traffic aimed at the other decoders never stalls the one a phone is using (issue 11,
 * "Bad input"): sixteen other senders (more than a stream decoder has slots) send the other two
 * protocols' opening patterns (v1's guide, v2's SYNC COUNT SYNC COUNT head, AirKiss's guide
 * run) under varied overheads, and random lengths, two frames for every frame of the phone's
 * air. Each phone still completes, with its own credentials, within 1.5 times its time on the
 * same air without the flood plus one second. (The phone's own protocol's patterns:
 * test_same_protocol_flood.) */
static uint16_t hostile_len(uint32_t *rng, unsigned sender, unsigned k, unsigned spare, int own)
{
    *rng = *rng * 1103515245u + 12345u;
    const unsigned off = 60u + (sender * 7u) % 41u;
    const unsigned phase = k % 24u;
    unsigned kind = (sender + k / 24u) % 4u;
    if (own)
        kind = spare; /* test_same_protocol_flood: every sender the phone's own protocol's */
    else if (kind == spare)
        kind = 3u; /* the phone's own protocol's patterns: random lengths instead */
    switch (kind) {
    case 0: /* v1 guide, then data-like */
        return (uint16_t)(off + (phase < 8 ? 515u - phase % 4u : 40u + (*rng >> 8) % 256u));
    case 1: /* v2 head, then planes and markers */
        if (phase < 4)
            return (uint16_t)(off + (phase & 1u ? SC_ET2_COUNT_BASE + 5u : SC_ET2_SYNC));
        return (uint16_t)(off + 64u + (*rng >> 8) % 960u);
    case 2: /* AirKiss guide run, then symbols */
        return (uint16_t)(off + (phase < 8 ? 1u + phase % 4u : 1u + (*rng >> 8) % 511u));
    default:
        return (uint16_t)(40u + (*rng >> 8) % 1400u);
    }
}

/* Two frames of the flood at time t on channel ch: 1 when one completed a session (in res). */
static int feed_hostile(const sc_air_config_t *c, uint8_t ch, uint32_t t, uint64_t ts_us, unsigned spare, int own,
                        unsigned nsend, uint32_t *rng, uint16_t *seq, unsigned *k, sc_rx_result_t *res)
{
    sc_frame_t h;
    sc_rx_event_t ev;
    for (unsigned j = 0; j < 2; j++, ++*k) {
        const unsigned s = *k % nsend;
        memset(&h, 0, sizeof h);
        h.kind = SC_FRAME_80211;
        h.channel = ch;
        h.fc = (uint16_t)((2u << 2) | (8u << 4) | SC_FC_TODS | SC_FC_PROTECTED);
        h.len = hostile_len(rng, s, *k / nsend, spare, own);
        h.seq_ctrl = (uint16_t)((seq[s]++ & 0xFFFu) << 4);
        memcpy(h.addr1, c->creds.bssid, 6);
        const uint8_t mac[6] = { 0x02, 0x66, 0x00, 0x00, 0x10, (uint8_t)s };
        memcpy(h.addr2, mac, 6);
        memset(h.addr3, 0xFF, 6);
        h.ts_us = ts_us;
        if (sc_receiver_feed(&rx, &h, t, &ev) == SC_ET_EV_DONE) {
            *res = ev.result; /* only the phone's session may complete (checked by the caller) */
            return 1;
        }
    }
    return 0;
}

/* The phone's air with the flood, two frames for each of the phone's; with lead_ms > 0 the flood
 * runs alone that long first (two frames every 3 ms), so its senders hold the slots before the
 * phone's first frame. The time of the phone's result from its own start, or -1. */
static long decode_flooded(const sc_air_config_t *c, unsigned spare, int own, unsigned nsend, uint32_t lead_ms,
                           sc_rx_result_t *res)
{
    assert_int_equal(sc_air_init(&air, c), SC_OK);
    assert_int_equal(sc_receiver_init(&rx, 0), SC_OK);
    sc_frame_t f;
    uint32_t t, rng = 99;
    uint16_t seq[16] = { 0 };
    unsigned k = 0;
    sc_rx_event_t ev;
    int have = sc_air_next(&air, &f, &t) == SC_OK;
    for (uint32_t u = 0; have && u < lead_ms; u += 3)
        if (feed_hostile(c, f.channel, u, f.ts_us, spare, own, nsend, &rng, seq, &k, res))
            return -1; /* no session before the phone's */
    for (; have; have = sc_air_next(&air, &f, &t) == SC_OK) {
        t += lead_ms;
        if (sc_receiver_feed(&rx, &f, t, &ev) == SC_ET_EV_DONE) {
            *res = ev.result;
            return (long)(t - lead_ms);
        }
        if (feed_hostile(c, f.channel, t, f.ts_us, spare, own, nsend, &rng, seq, &k, res))
            return (long)(t - lead_ms);
    }
    return -1;
}

static void test_hostile_no_stall(void **state)
{
    (void)state;
    static const sc_air_proto_t protos[3] = { SC_AIR_PROTO_V1, SC_AIR_PROTO_V2, SC_AIR_PROTO_AIRKISS };
    for (unsigned i = 0; i < 3; i++) {
        sc_air_config_t c;
        sc_rx_result_t r;
        config(&c, protos[i]);
        c.seed = 21;
        const long quiet = decode(&c, 0, &r);
        assert_true(quiet >= 0);
        const long flooded = decode_flooded(&c, i, 0, 16, 0, &r);
        print_message("protocol %u: %ld ms quiet, %ld ms flooded\n", i, quiet, flooded);
        assert_true(flooded >= 0);
        check_common(&r);
        assert_true(flooded <= quiet * 3 / 2 + 1000);
    }
}

/* The same flood aimed at the phone's *own* protocol (issue 11, "Bad input"; no service denied
 * to the legitimate user): sixteen senders of v2 heads or AirKiss guide runs, each followed by
 * random lengths. Until 2026-12-06 the phone took 990 -> 4050 ms (v2: openers of the sixteen
 * replaced its searching stream between the frames of its head) and 1765 -> 18 205 ms (AirKiss:
 * each hostile lock claimed the one session at its first symbol and held it 15 s). Now a v2
 * stream waiting for its pair is kept 17 ms, an AirKiss stream claims the session only to vote,
 * and an AirKiss lock that voted nothing yields its slot after 1.5 s (docs/receiver.md §0, §9).
 * Simulated time: the bounds are the test's own, not a wall clock's. */
static void test_same_protocol_flood(void **state)
{
    (void)state;
    static const sc_air_proto_t protos[2] = { SC_AIR_PROTO_V2, SC_AIR_PROTO_AIRKISS };
    static const uint32_t seeds[] = { 1, 6, 21 };
    unsigned slow = 0; /* every figure printed before the verdict */
    for (unsigned i = 0; i < 2; i++) {
        for (unsigned j = 0; j < sizeof seeds / sizeof seeds[0]; j++) {
            sc_air_config_t c;
            sc_rx_result_t r;
            config(&c, protos[i]);
            c.seed = seeds[j];
            const long quiet = decode(&c, 0, &r);
            assert_true(quiet >= 0);
            /* sixteen senders, from the phone's first frame and for 2 s before it; for AirKiss
             * also four senders for 2 s before it, which hold the three slots locked: the phone
             * gets one when a lock without progress has had its grace, and may wait for its next
             * guide field (a known limit, docs/receiver.md §9: v2's phone never got one from
             * four senders of heads, before or after, so it is not run) */
            for (unsigned v = 0; v < (i ? 3u : 2u); v++) {
                const unsigned nsend = v == 2 ? 4u : 16u, lead = v ? 2000u : 0u;
                const long flooded = decode_flooded(&c, i + 1u, 1, nsend, lead, &r);
                print_message("protocol %u seed %u, %u senders, lead %u ms: %ld ms quiet, %ld ms flooded\n", i + 1u,
                              (unsigned)seeds[j], nsend, lead, quiet, flooded);
                if (flooded >= 0)
                    check_common(&r);
                slow += flooded < 0 || flooded > (v == 2 ? quiet * 4 : quiet * 3 / 2) + 1000;
            }
        }
    }
    assert_int_equal(slow, 0);
}

/* A front that was never initialised (zeroed storage, or garbage as on a stack) takes no frame
 * and writes nothing. Until 2026-12-04 each decoder's own init marker refused such storage;
 * their keyed feeds now leave that test to the front's marker. These fills are also refused by
 * the decoders' nonzero "done" bytes or a zero protocol mask, so the test holds the contract
 * rather than telling the two guards apart; the front's marker covers the garbage in which
 * those bytes happen to look like a running receiver. */
/* A caller's sc_receiver_t smaller than the library's (other receiver switches): refused,
 * nothing written. */
static void test_init_caller_size(void **state)
{
    (void)state;
    memset(&rx, 0xa5, sizeof rx);
    assert_int_equal(sc_receiver_init_sized(&rx, sizeof rx - 8, 0), SC_ERR_INVAL);
    for (size_t k = 0; k < sizeof rx; k++)
        assert_int_equal(((const uint8_t *)&rx)[k], 0xa5);
    assert_int_equal(sc_receiver_init(&rx, 0), SC_OK);
    assert_int_equal((sc_receiver_init)(&rx, 0), SC_OK);
}

static void test_not_initialised(void **state)
{
    (void)state;
    sc_air_config_t c;
    static const uint8_t fill[] = { 0x00, 0xa5, 0xff };
    static const sc_air_proto_t protos[] = { SC_AIR_PROTO_V1, SC_AIR_PROTO_V2, SC_AIR_PROTO_AIRKISS };
    for (unsigned i = 0; i < sizeof fill; i++) {
        for (unsigned p = 0; p < 3; p++) {
            config(&c, protos[p]);
            c.duration_ms = 8000;
            assert_int_equal(sc_air_init(&air, &c), SC_OK);
            memset(&rx, fill[i], sizeof rx);
            sc_frame_t f;
            uint32_t t;
            sc_rx_event_t ev;
            unsigned n = 0;
            while (sc_air_next(&air, &f, &t) == SC_OK) {
                assert_int_equal(sc_receiver_feed(&rx, &f, t, &ev), SC_ET_EV_NONE);
                assert_int_equal(ev.type, SC_ET_EV_NONE);
                n++;
            }
            assert_true(n > 500);
            /* the storage is as it was: nothing was written into it */
            const uint8_t *b = (const uint8_t *)&rx;
            for (size_t k = 0; k < sizeof rx; k++)
                assert_int_equal(b[k], fill[i]);
        }
    }
    /* initialised, it decodes */
    sc_rx_result_t r;
    config(&c, SC_AIR_PROTO_V2);
    assert_true(decode(&c, 0, &r) >= 0);
}

static void test_v2_encrypted(void **state)
{
    (void)state;
    sc_air_config_t c;
    sc_rx_result_t r;
    config(&c, SC_AIR_PROTO_V2);
    c.v2_security = 2;
    memcpy(c.v2_key, "1234567890123456", 16);
    assert_true(decode(&c, 0, &r) >= 0);
    assert_false(r.password_known); /* no key given to the receiver */
    assert_int_equal(r.password_len, 0);
    assert_int_equal(sc_air_init(&air, &c), SC_OK);
    assert_int_equal(sc_receiver_init(&rx, 0), SC_OK);
    sc_receiver_set_v2_key(&rx, (const uint8_t *)"1234567890123456");
    sc_frame_t f;
    uint32_t t;
    sc_rx_event_t ev;
    int done = 0;
    while (!done && sc_air_next(&air, &f, &t) == SC_OK)
        done = sc_receiver_feed(&rx, &f, t, &ev) == SC_ET_EV_DONE;
    assert_true(done);
    check_common(&ev.result);
    assert_memory_equal(ev.result.reserved, "custom", 6);
}

static void test_variety(void **state)
{
    (void)state;
    static const sc_air_proto_t protos[3] = { SC_AIR_PROTO_V1, SC_AIR_PROTO_V2, SC_AIR_PROTO_AIRKISS };
    sc_air_config_t c;
    sc_rx_result_t r;
    for (unsigned i = 0; i < 3; i++) {
        config(&c, protos[i]);
        c.ht_control = 1;
        c.channel = 149;
        assert_true(decode(&c, 0, &r) >= 0);
        check_common(&r);
        assert_int_equal(r.channel, 149);
        /* uplink copies only, each a one-subframe A-MSDU: all three decode them */
        config(&c, protos[i]);
        c.amsdu = 1;
        c.downlink = 0;
        assert_true(decode(&c, 0, &r) >= 0);
        check_common(&r);
    }
}

/* A v1 phone and a v2 phone at once: both sessions come out, in either order. */
static void test_two_protocols(void **state)
{
    (void)state;
    sc_air_config_t a, b;
    config(&a, SC_AIR_PROTO_V1);
    config(&b, SC_AIR_PROTO_V2);
    b.phone_mac[5] ^= 1;
    memcpy(b.creds.ssid, "Other-Net", 9);
    b.creds.ssid_len = 9;
    b.seed = 77;
    b.foreign = 0;
    assert_int_equal(sc_air_init(&air, &a), SC_OK);
    assert_int_equal(sc_air_init(&air2, &b), SC_OK);
    assert_int_equal(sc_receiver_init(&rx, 0), SC_OK);
    sc_frame_t fa, fb;
    uint32_t ta, tb;
    int ha = sc_air_next(&air, &fa, &ta) == SC_OK, hb = sc_air_next(&air2, &fb, &tb) == SC_OK;
    unsigned got = 0;
    while ((ha || hb) && got != 3) {
        sc_rx_event_t ev;
        sc_et_event_type_t e;
        if (ha && (!hb || ta <= tb)) {
            e = sc_receiver_feed(&rx, &fa, ta, &ev);
            ha = sc_air_next(&air, &fa, &ta) == SC_OK;
        } else {
            e = sc_receiver_feed(&rx, &fb, tb, &ev);
            hb = sc_air_next(&air2, &fb, &tb) == SC_OK;
        }
        if (e == SC_ET_EV_DONE) {
            if (ev.result.proto == SC_PROTO_ESPTOUCH_V1) {
                check_common(&ev.result);
                got |= 1;
            } else {
                assert_int_equal(ev.result.proto, SC_PROTO_ESPTOUCH_V2);
                assert_memory_equal(ev.result.ssid, "Other-Net", 9);
                got |= 2;
            }
            assert_int_equal(sc_receiver_resume(&rx), SC_OK);
        }
    }
    assert_int_equal(got, 3);
}

/* The front gives AirKiss no frame outside its guide range of a sender v1 has locked on (an
 * ESP-TOUCH v1 phone), unless AirKiss has locked on that sender too (a false v1 lock on an
 * AirKiss phone must not hold back AirKiss' symbols, most of which lie above the guide range).
 * One sender: a v1 guide quartet (v1 locks), an AirKiss guide run (AirKiss locks while v1's lock
 * holds), then AirKiss data symbols for 250 ms (fewer than the 60 data frames after which v1
 * calls a lock without triplets false): AirKiss' stream hears them, as the channel
 * search's reading of it shows (a stream not given them would have been silent all that time). */
static void ak_frame(sc_frame_t *f, uint16_t len, uint16_t seq)
{
    static const uint8_t phone[6] = { 0x3c, 0x28, 0x6d, 0x12, 0x34, 0x56 };
    static const uint8_t bssid[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    memset(f, 0, sizeof *f);
    f->kind = SC_FRAME_80211;
    f->channel = 6;
    f->len = len;
    f->seq_ctrl = (uint16_t)((seq & 0xFFFu) << 4);
    f->fc = (uint16_t)((2u << 2) | (8u << 4) | SC_FC_TODS | SC_FC_PROTECTED);
    memcpy(f->addr1, bssid, 6);
    memcpy(f->addr2, phone, 6);
    memset(f->addr3, 0xFF, 6);
}

static void test_v1_locked_sender_airkiss_lock(void **state)
{
    (void)state;
    assert_int_equal(sc_receiver_init(&rx, 0), SC_OK);
    sc_frame_t f;
    sc_rx_event_t ev;
    uint32_t t = 1000;
    uint16_t seq = 100, off = 60;
    static const uint16_t v1_guide[] = { 515, 514, 513, 512 };
    for (unsigned i = 0; i < 4; i++, t += 5) {
        ak_frame(&f, (uint16_t)(v1_guide[i] + off), seq++);
        (void)sc_receiver_feed(&rx, &f, t, &ev);
    }
    assert_int_equal(sc_et_rx_locked_channel(sc_receiver_v1(&rx)), 6);
    int ak_locked = 0;
    for (unsigned i = 1; i <= 4; i++, t += 5) {
        ak_frame(&f, (uint16_t)(off + i), seq++);
        if (sc_receiver_feed(&rx, &f, t, &ev) == SC_ET_EV_LOCKED && ev.proto == SC_PROTO_AIRKISS)
            ak_locked = 1;
    }
    assert_true(ak_locked);
    assert_int_equal(sc_et_rx_locked_channel(sc_receiver_v1(&rx)), 6);
    for (unsigned i = 0; i < 50; i++, t += 5) {
        ak_frame(&f, (uint16_t)(off + 256u + i), seq++);
        (void)sc_receiver_feed(&rx, &f, t, &ev);
    }
    assert_int_equal(sc_et_rx_locked_channel(sc_receiver_v1(&rx)), 6); /* v1's lock held throughout */
    assert_true(sc_receiver_stream_candidate(&rx, 6, t, 50));
}

/* The channel search over the front (sc_chansearch_step_rx): a device hopping 1..13 that starts
 * in the middle of a phone's run finds v1, v2 and AirKiss senders alike and decodes them well
 * within the phone's window. The radio hears only the channel it is tuned to and loses 2 ms per
 * retune. v2 locks only at the head of its packet list and AirKiss only on its guide run: with
 * the v1 signals alone (the search before 2026-12-04) most v2 runs never decoded. */
static long hop_decode_only(const sc_air_config_t *c, unsigned protocols, sc_rx_result_t *res)
{
    assert_int_equal(sc_air_init(&air, c), SC_OK);
    assert_int_equal(sc_receiver_init(&rx, protocols), SC_OK);
    sc_chansearch_t cs;
    assert_int_equal(sc_chansearch_init(&cs, NULL, 0, 0), SC_OK);
    uint32_t until = 0, deaf = 0;
    uint8_t tuned = sc_chansearch_step_rx(&cs, &rx, 0, &until);
    sc_frame_t f;
    uint32_t t;
    sc_rx_event_t ev;
    int have = sc_air_next(&air, &f, &t) == SC_OK;
    while (have) {
        if ((int32_t)(t - until) >= 0) {
            uint32_t at = until;
            uint8_t ch = sc_chansearch_step_rx(&cs, &rx, at, &until);
            assert_true(ch >= 1 && ch <= 13);
            if (ch != tuned)
                deaf = at + 2;
            tuned = ch;
            if ((int32_t)(until - at) <= 0)
                until = at + 1;
            if (sc_receiver_tick(&rx, at) == SC_ET_EV_UNLOCKED)
                until = at;
            continue;
        }
        sc_frame_t cur = f;
        uint32_t now = t;
        have = sc_air_next(&air, &f, &t) == SC_OK;
        if (cur.channel != tuned || (int32_t)(now - deaf) < 0)
            continue;
        sc_et_event_type_t et = sc_receiver_feed(&rx, &cur, now, &ev);
        if (et == SC_ET_EV_DONE) {
            *res = ev.result;
            return (long)now;
        }
        if (et == SC_ET_EV_LOCKED || et == SC_ET_EV_UNLOCKED)
            until = now; /* a port asks again at once */
    }
    return -1;
}

/* With a front that decodes v2, every sweep glances (half the dwell) and a glance that heard a
 * frame of an ESP-TOUCH length waits until that transmitter's next v2 datagram is due, 17 ms
 * after the newest such frame; after the first sweep, a new such frame during that wait gets
 * one more wait (docs/receiver.md §7). A front without v2 dwells on later sweeps. */
static void test_search_v2_glances(void **state)
{
    (void)state;
    static const uint8_t list[] = { 1, 6, 11 };
    sc_chansearch_t cs;
    uint32_t until = 0;
    assert_int_equal(sc_receiver_init(&rx, SC_PROTO_ESPTOUCH_V1 | SC_PROTO_AIRKISS), SC_OK);
    assert_int_equal(sc_chansearch_init(&cs, list, 3, 0), SC_OK);
    assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 0, &until), 1);
    assert_int_equal(until, 12u);
    assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 12, &until), 6);
    assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 24, &until), 11);
    assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 36, &until), 1);
    assert_int_equal(until, 36u + SC_CHANSEARCH_DWELL_MS); /* no v2: later sweeps dwell */

    assert_int_equal(sc_receiver_init(&rx, 0), SC_OK);
    assert_int_equal(sc_chansearch_init(&cs, list, 3, 0), SC_OK);
    assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 0, &until), 1);
    assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 12, &until), 6);
    assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 24, &until), 11);
    assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 36, &until), 1);
    assert_int_equal(until, 48u); /* the second sweep glances too */
    assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 48, &until), 6);
    assert_int_equal(until, 60u);
    /* three transmitters, one frame each: heard, never candidate traffic */
    static const uint32_t at[] = { 50, 62, 70 };
    for (unsigned i = 0; i < 3; i++) {
        sc_frame_t f;
        sc_rx_event_t ev;
        ak_frame(&f, 300, 7);
        f.addr2[5] = (uint8_t)(0x10u + i);
        (void)sc_receiver_feed(&rx, &f, at[i], &ev);
        if (i == 0) {
            assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 60, &until), 6);
            assert_int_equal(until, 50u + 17u);
        } else if (i == 1) {
            assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 67, &until), 6);
            assert_int_equal(until, 62u + 17u); /* the new frame's successor */
        }
    }
    assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 79, &until), 11); /* one more wait only */
}

/* On the first sweep a front with v2 waits v1's 10 ms after a heard frame of an ESP-TOUCH
 * length, and v2's 17 ms only when a station's uplink frame (of any length) came in the visit:
 * a v2 phone's datagram heard in both copies gets a look at once (sc_receiver_relayed), one
 * heard as its uplink alone (the relay lost or still due) gets the wait for its next one, and
 * an AP's relays alone (most foreign traffic) no longer hold the first sweep 17 ms each
 * (docs/receiver.md §7). */
static void test_search_first_sweep_wait(void **state)
{
    (void)state;
    static const uint8_t list[] = { 1, 6, 11 };
    for (int uplink = 0; uplink <= 1; uplink++) {
        sc_chansearch_t cs;
        uint32_t until = 0;
        sc_frame_t f;
        sc_rx_event_t ev;
        assert_int_equal(sc_receiver_init(&rx, 0), SC_OK);
        assert_int_equal(sc_chansearch_init(&cs, list, 3, 0), SC_OK);
        assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 0, &until), 1);
        assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 12, &until), 6);
        assert_int_equal(until, 24u);
        ak_frame(&f, 300, 7);
        if (!uplink) {
            /* the AP's relay of a station's broadcast, its uplink copy not heard */
            static const uint8_t bssid[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
            uint8_t sta[6];
            memcpy(sta, f.addr2, 6);
            f.fc = (uint16_t)((2u << 2) | SC_FC_FROMDS | SC_FC_PROTECTED);
            memset(f.addr1, 0xFF, 6);
            memcpy(f.addr2, bssid, 6);
            memcpy(f.addr3, sta, 6);
        }
        (void)sc_receiver_feed(&rx, &f, 15, &ev);
        assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 24, &until), 6);
        assert_int_equal(until, uplink ? 15u + 17u : 15u + 10u);
        assert_int_equal(sc_chansearch_step_rx(&cs, &rx, until, &until), 11);
    }
    /* An uplink frame of a length above v1's (a v2 plane under some overhead) waits for the
     * station's next v2 datagram too, on any sweep; a front without v2 leaves. */
    for (unsigned protocols = 0; protocols <= SC_PROTO_ESPTOUCH_V1; protocols += SC_PROTO_ESPTOUCH_V1) {
        for (uint32_t sweep = 0; sweep < 2; sweep++) {
            sc_chansearch_t cs;
            uint32_t until = 0, t0 = sweep * 36u;
            sc_frame_t f;
            sc_rx_event_t ev;
            assert_int_equal(sc_receiver_init(&rx, protocols), SC_OK);
            assert_int_equal(sc_chansearch_init(&cs, list, 3, 0), SC_OK);
            assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 0, &until), 1);
            if (sweep) {
                assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 12, &until), 6);
                assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 24, &until), 11);
                assert_int_equal(sc_chansearch_step_rx(&cs, &rx, 36, &until), 1);
                if (protocols)
                    continue; /* without v2 later sweeps dwell */
            }
            assert_int_equal(sc_chansearch_step_rx(&cs, &rx, t0 + 12, &until), 6);
            ak_frame(&f, 900, 7);
            (void)sc_receiver_feed(&rx, &f, t0 + 22, &ev);
            if (protocols) {
                assert_int_equal(sc_chansearch_step_rx(&cs, &rx, t0 + 24, &until), 11);
                continue;
            }
            assert_int_equal(sc_chansearch_step_rx(&cs, &rx, t0 + 24, &until), 6);
            assert_int_equal(until, t0 + 22u + 17u);
            assert_int_equal(sc_chansearch_step_rx(&cs, &rx, until, &until), 11);
        }
    }
}

static long hop_decode(const sc_air_config_t *c, sc_rx_result_t *res)
{
    return hop_decode_only(c, 0, res);
}

/* Each protocol found while hopping, with all three listened for and (only) with its own: the
 * search's sensor for every protocol is v1's stream tracker (frames of ESP-TOUCH lengths heard,
 * candidate traffic), so a front without v1 must still feed it; until 2026-12-06 a device with
 * --protocols v2 (or airkiss) that hopped never found its phone (found by the CLI audit). */
static void test_search_each_protocol(void **state)
{
    (void)state;
    static const sc_air_proto_t protos[] = { SC_AIR_PROTO_V1, SC_AIR_PROTO_V2, SC_AIR_PROTO_AIRKISS };
    static const unsigned alone[] = { SC_PROTO_ESPTOUCH_V1, SC_PROTO_ESPTOUCH_V2, SC_PROTO_AIRKISS };
    for (unsigned p = 0; p < 3; p++) {
        for (unsigned seed = 1; seed <= 8; seed++) {
            sc_air_config_t c;
            sc_rx_result_t r;
            config(&c, protos[p]);
            c.seed = seed;
            c.channel = (uint8_t)((seed - 1u) % 4u * 3u + 4u); /* 4, 7, 10, 13 */
            c.start_ms = 2500u + 4100u * ((seed - 1u) % 4u + 1u); /* guide and data phases alike */
            c.duration_ms = 20000;
            long t = seed <= 4 ? hop_decode(&c, &r) : hop_decode_only(&c, alone[p], &r);
            assert_true(t >= 0);
            check_common(&r);
            assert_int_equal(r.channel, c.channel);
            assert_int_equal(r.proto, p == 0 ? SC_PROTO_ESPTOUCH_V1 : p == 1 ? SC_PROTO_ESPTOUCH_V2 : SC_PROTO_AIRKISS);
        }
    }
}

/* The search lingers on candidate traffic without a lock for up to a whole v2 packet list
 * (SC_CHANSEARCH_MAX_LINGER looks): a list of 41 groups takes 6.8 s, and v2 locks only at its
 * head. One transmitter on channel 6 sends lengths 61 and 63 in turn every 15 ms with
 * consecutive sequence numbers: candidate traffic for v1 (two frames of ESP-TOUCH lengths) and
 * AirKiss (two consecutive frames after one of a guide length), which no decoder locks on.
 * The search must stay longer than a 41-group list, and still leave (a foreign candidate costs
 * at most the cap). With the cap of 20 looks (until 2026-12-04) it left after 2.5 s. */
static void test_search_lingers_a_list(void **state)
{
    (void)state;
    assert_int_equal(sc_receiver_init(&rx, 0), SC_OK);
    sc_chansearch_t cs;
    assert_int_equal(sc_chansearch_init(&cs, NULL, 0, 0), SC_OK);
    uint32_t until = 0, next = 0, arrived = 0, left = 0;
    uint16_t seq = 0;
    uint8_t tuned = sc_chansearch_step_rx(&cs, &rx, 0, &until);
    for (uint32_t now = 0; now < 20000u && !left; now++) {
        if ((int32_t)(now - until) >= 0) {
            uint8_t ch = sc_chansearch_step_rx(&cs, &rx, now, &until);
            if (ch == 6 && tuned != 6 && !arrived)
                arrived = now;
            if (ch != 6 && tuned == 6 && arrived)
                left = now;
            tuned = ch;
            if ((int32_t)(until - now) <= 0)
                until = now + 1;
        }
        if (now == next) {
            sc_frame_t f;
            sc_rx_event_t ev;
            ak_frame(&f, (seq & 1u) ? 63 : 61, seq);
            seq++;
            next += 15;
            if (tuned == 6)
                assert_int_equal(sc_receiver_feed(&rx, &f, now, &ev), SC_ET_EV_NONE);
        }
    }
    assert_true(arrived > 0 && arrived < 500);
    assert_true(left > arrived);
    assert_true(left - arrived >= 6800u);
    assert_true(left - arrived <= SC_CHANSEARCH_LOOK_MS * (SC_CHANSEARCH_MAX_LINGER + 2u) + SC_CHANSEARCH_DWELL_MS);
}

/* v2's candidate signal for the search is a SYNC/COUNT pair among its transmitter's last three
 * lengths: the pair stays in the stream until it locks, and a foreign station that once sent
 * such lengths must not be candidate traffic with every later broadcast (the search lingers on
 * it for up to a whole list). */
static void test_v2_candidate_fresh(void **state)
{
    (void)state;
    static sc_et2_rx_t v2;
    assert_int_equal(sc_et2_rx_init(&v2, NULL), SC_OK);
    const uint16_t off = 80;
    const uint16_t lens[] = { SC_ET2_SYNC + off, SC_ET2_COUNT_BASE + 5u + off, 300u + off, 301u + off };
    const int fresh[] = { 0, 1, 1, 0 };
    uint32_t t = 1000;
    for (unsigned i = 0; i < 4; i++, t += 15) {
        sc_frame_t f;
        ak_frame(&f, lens[i], (uint16_t)(100u + i));
        assert_int_equal(sc_et2_rx_feed(&v2, &f, t, NULL), SC_ET_EV_NONE);
        assert_int_equal(sc_et2_rx_candidate(&v2, 6, t, 50), fresh[i]);
    }
    assert_int_equal(sc_et2_rx_locked_channel(&v2), 0);
}

/* v2 without a list head: a group's plane 7 (which opens a stream: its length reaches SYNC's
 * range) and the next group's marker one datagram later are candidate traffic; not in a burst,
 * not two datagrams apart, not for a step no plane 7 and marker make, and only while fresh. */
static void test_v2_candidate_plane7_marker(void **state)
{
    (void)state;
    static sc_et2_rx_t v2;
    const uint16_t off = 80;
    const uint16_t p7 = (uint16_t)((7u << 7) + 0x40u + 40u + off); /* 1080: in SYNC's range */
    const uint16_t mk = (uint16_t)(SC_ET2_SEQ_BASE + 3u + off);
    struct { uint32_t gap; uint16_t second; int cand; } cases[] = {
        { 15, mk, 1 }, { 12, mk, 1 }, { 17, mk, 1 },
        { 5, mk, 0 },                        /* a burst */
        { 30, mk, 0 },                       /* a datagram lost between: not this step */
        { 15, (uint16_t)(mk + 200u), 0 },    /* 200 shorter than plane 7: no marker */
        { 15, (uint16_t)(p7 - 1000u), 0 },   /* shorter than any marker */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(sc_et2_rx_init(&v2, NULL), SC_OK);
        sc_frame_t f;
        uint32_t t = 1000;
        ak_frame(&f, p7, 100);
        assert_int_equal(sc_et2_rx_feed(&v2, &f, t, NULL), SC_ET_EV_NONE);
        assert_int_equal(sc_et2_rx_candidate(&v2, 6, t, 50), 0);
        t += cases[i].gap;
        ak_frame(&f, cases[i].second, 101);
        assert_int_equal(sc_et2_rx_feed(&v2, &f, t, NULL), SC_ET_EV_NONE);
        assert_int_equal(sc_et2_rx_candidate(&v2, 6, t, 50), cases[i].cand);
        assert_int_equal(sc_et2_rx_candidate(&v2, 1, t, 50), 0);
        if (cases[i].cand) {
            /* stale once the window has passed, though the stream is still heard */
            ak_frame(&f, (uint16_t)(300u + off), 102);
            assert_int_equal(sc_et2_rx_feed(&v2, &f, t + 60, NULL), SC_ET_EV_NONE);
            assert_int_equal(sc_et2_rx_candidate(&v2, 6, t + 60, 50), 0);
        }
    }
}

/* The search's one-datagram sign of a phone with v2 (sc_receiver_relayed): while the front
 * notes them (sc_receiver_scan), a station's uplink frame and the AP's relay of it (FromDS, the
 * station as source) within 4 ms, lengths within 16; not a relay alone, not another station's,
 * not late, not on another channel, only while fresh, and not for a front without v2. The front
 * decodes as before meanwhile. */
static void test_relayed_pair(void **state)
{
    (void)state;
    static sc_receiver_t r;
    static const uint8_t bssid[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    struct { uint32_t gap; int other_station; int dlen; uint8_t ch; int want; } cases[] = {
        { 2, 0, -2, 6, 1 }, { 0, 0, 0, 6, 1 }, { 4, 0, 16, 6, 1 },
        { 5, 0, -2, 6, 0 },  /* too late for a relay of it */
        { 2, 1, -2, 6, 0 },  /* another station's broadcast */
        { 2, 0, 40, 6, 0 },  /* another frame of the station */
        { 2, 0, -2, 11, 0 }, /* the relay heard on another channel */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(sc_receiver_init(&r, 0), SC_OK);
        sc_receiver_scan(&r, 1);
        sc_frame_t up, rel;
        ak_frame(&up, 400, 100);
        rel = up;
        rel.fc = (uint16_t)((2u << 2) | SC_FC_FROMDS | SC_FC_PROTECTED);
        rel.channel = cases[i].ch;
        rel.len = (uint16_t)(400 + cases[i].dlen);
        memset(rel.addr1, 0xFF, 6);
        memcpy(rel.addr2, bssid, 6);
        memcpy(rel.addr3, up.addr2, 6);
        rel.addr3[5] = (uint8_t)(rel.addr3[5] + cases[i].other_station);
        uint32_t t = 1000;
        (void)sc_receiver_feed(&r, &up, t, NULL);
        assert_int_equal(sc_receiver_relayed(&r, 6, t, 50), 0);
        t += cases[i].gap;
        (void)sc_receiver_feed(&r, &rel, t, NULL);
        assert_int_equal(sc_receiver_relayed(&r, 6, t, 50), cases[i].want);
        assert_int_equal(sc_receiver_relayed(&r, 1, t, 50), 0);
        assert_int_equal(sc_receiver_relayed(&r, 6, t + 60, 50), 0); /* stale */
    }
    /* a relay alone */
    assert_int_equal(sc_receiver_init(&r, 0), SC_OK);
    sc_receiver_scan(&r, 1);
    sc_frame_t rel;
    ak_frame(&rel, 400, 100);
    rel.fc = (uint16_t)((2u << 2) | SC_FC_FROMDS | SC_FC_PROTECTED);
    memset(rel.addr1, 0xFF, 6);
    memcpy(rel.addr3, rel.addr2, 6);
    memcpy(rel.addr2, bssid, 6);
    (void)sc_receiver_feed(&r, &rel, 1000, NULL);
    assert_int_equal(sc_receiver_relayed(&r, 6, 1000, 50), 0);
    /* nor a pair while the front does not note them (the search did not ask, or asked no
     * more), nor a front without v2 */
    sc_frame_t up;
    ak_frame(&up, 400, 100);
    rel.len = 398;
    memcpy(rel.addr3, up.addr2, 6);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(sc_receiver_init(&r, k == 2 ? SC_PROTO_ESPTOUCH_V1 | SC_PROTO_AIRKISS : 0u), SC_OK);
        if (k)
            sc_receiver_scan(&r, 1);
        if (k == 1)
            sc_receiver_scan(&r, 0);
        (void)sc_receiver_feed(&r, &up, 1000, NULL);
        (void)sc_receiver_feed(&r, &rel, 1002, NULL);
        assert_int_equal(sc_receiver_relayed(&r, 6, 1002, 50), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_each_protocol),
        cmocka_unit_test(test_lock_offset),
        cmocka_unit_test(test_hostile_no_stall),
        cmocka_unit_test(test_same_protocol_flood),
        cmocka_unit_test(test_init_caller_size),
        cmocka_unit_test(test_not_initialised),
        cmocka_unit_test(test_v2_encrypted),
        cmocka_unit_test(test_variety),
        cmocka_unit_test(test_two_protocols),
        cmocka_unit_test(test_v1_locked_sender_airkiss_lock),
        cmocka_unit_test(test_search_each_protocol),
        cmocka_unit_test(test_search_v2_glances),
        cmocka_unit_test(test_search_lingers_a_list),
        cmocka_unit_test(test_v2_candidate_fresh),
        cmocka_unit_test(test_v2_candidate_plane7_marker),
        cmocka_unit_test(test_relayed_pair),
        cmocka_unit_test(test_search_first_sweep_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
