/* SPDX-License-Identifier: Apache-2.0 */
/* Encoder, CRC-8, schedule and ack against docs/protocol/esptouch-v1.md#test-vectors vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smartcfg/esptouch.h"

static void make_creds(sc_et_creds_t *c, const char *ssid, const char *pwd)
{
    memset(c, 0, sizeof *c);
    c->ssid_len = (uint8_t)strlen(ssid);
    memcpy(c->ssid, ssid, c->ssid_len);
    c->password_len = (uint8_t)strlen(pwd);
    memcpy(c->password, pwd, c->password_len);
    const uint8_t bssid[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    memcpy(c->bssid, bssid, 6);
    const uint8_t ip[4] = { 192, 168, 1, 100 };
    memcpy(c->phone_ip, ip, 4);
}

static void test_crc8_check_value(void **state)
{
    (void)state;
    assert_int_equal(sc_crc8("123456789", 9), 0xA1);
    assert_int_equal(sc_crc8("", 0), 0x00);
    /* §9.3 outside vector: CRC8([value, index]) */
    const uint8_t v[4][3] = { { 0x55, 25, 0x89 }, { 0x69, 26, 0x0B }, { 0x66, 27, 0x4D }, { 0x69, 28, 0xD6 } };
    for (int i = 0; i < 4; i++) {
        uint8_t pair[2] = { v[i][0], v[i][1] };
        assert_int_equal(sc_crc8(pair, 2), v[i][2]);
    }
}

static void test_outside_vector(void **state)
{
    (void)state;
    /* ShielderSec capture: 173 321 189 | 46 322 225 | 110 323 254 | 254 324 145 */
    static const uint16_t want[4][3] = { { 173, 321, 189 }, { 46, 322, 225 }, { 110, 323, 254 }, { 254, 324, 145 } };
    static const uint8_t val[4] = { 0x55, 0x69, 0x66, 0x69 };
    for (int i = 0; i < 4; i++) {
        uint16_t out[3];
        sc_et_datacode(val[i], (uint8_t)(25 + i), out);
        assert_memory_equal(out, want[i], sizeof out);
    }
}

static void test_vector_a(void **state)
{
    (void)state;
    static const uint16_t cycle[] = {
        137, 296, 133, 72, 297, 176, 41, 298, 123, 195, 299, 144, 66, 300, 266, 136, 325, 40,
        180, 301, 216, 114, 302, 128, 104, 303, 153, 201, 326, 201, 206, 304, 92, 155, 305, 121,
        235, 306, 74, 170, 327, 234, 123, 307, 171, 219, 308, 124, 75, 309, 285, 123, 328, 219,
        187, 310, 174, 43, 311, 79, 235, 312, 144, 252, 329, 252, 173, 313, 284, 125, 314, 136,
        90, 315, 165, 61, 330, 157, 76, 316, 212, 172, 317, 225, 44, 318, 166, 204, 319, 147,
        93, 320, 55, 219, 321, 250, 282, 322, 278, 203, 323, 220, 236, 324, 223,
    };
    static const uint8_t datum[] = { 0x1d, 0x08, 0x13, 0xb8, 0xa2, 0xc0, 0xa8, 0x01, 0x64, 0x31, 0x32, 0x33,
                                     0x34, 0x35, 0x36, 0x37, 0x38, 0x54, 0x50, 0x2d, 0x4c, 0x49, 0x4e, 0x4b,
                                     0x5f, 0x32, 0x2e, 0x34, 0x47, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    sc_et_creds_t c;
    sc_et_encoder_t enc;
    make_creds(&c, "TP-LINK_2.4G", "12345678");
    assert_int_equal(sc_et_encode(&enc, &c), SC_OK);
    assert_int_equal(enc.t, 29);
    assert_int_equal(enc.cycle_len, sizeof cycle / sizeof cycle[0]);
    assert_memory_equal(enc.datum, datum, sizeof datum);
    assert_memory_equal(enc.cycle, cycle, sizeof cycle);
}

static void test_vector_b_empty_password(void **state)
{
    (void)state;
    static const uint16_t cycle[] = {
        57, 296, 93, 120, 297, 264, 41, 298, 123, 195, 299, 144, 146, 300, 178, 200, 317, 72,
        180, 301, 216, 114, 302, 128, 104, 303, 153, 137, 318, 169, 206, 304, 92, 253, 305, 44,
        45, 306, 184, 106, 319, 266, 138, 307, 181, 156, 308, 132, 252, 309, 113, 75, 320, 155,
        124, 310, 182, 284, 311, 195, 285, 312, 87, 204, 321, 60, 155, 313, 282, 90, 314, 246,
        139, 315, 188, 141, 322, 221, 44, 316, 191,
    };
    sc_et_creds_t c;
    sc_et_encoder_t enc;
    make_creds(&c, "TP-LINK_2.4G", "");
    assert_int_equal(sc_et_encode(&enc, &c), SC_OK);
    assert_int_equal(enc.t, 21);
    assert_int_equal(enc.cycle_len, sizeof cycle / sizeof cycle[0]);
    assert_memory_equal(enc.cycle, cycle, sizeof cycle);
}

static void test_vector_c_max(void **state)
{
    (void)state;
    /* first and last rows of the 333-length cycle */
    static const uint16_t head[] = { 270, 296, 177, 236, 297, 120, 119, 298, 223, 195, 299, 144, 63, 300, 89, 280, 401, 184 };
    static const uint16_t tail[] = { 235, 398, 43, 283, 399, 44, 155, 400, 125 };
    sc_et_creds_t c;
    sc_et_encoder_t enc;
    make_creds(&c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
               "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_int_equal(sc_et_encode(&enc, &c), SC_OK);
    assert_int_equal(enc.t, 105);
    assert_int_equal(enc.cycle_len, 333);
    assert_memory_equal(enc.cycle, head, sizeof head);
    assert_memory_equal(&enc.cycle[333 - 9], tail, sizeof tail);
    assert_int_equal(enc.datum[4], 0x71);
}

static void test_limits(void **state)
{
    (void)state;
    sc_et_creds_t c;
    sc_et_encoder_t enc;
    make_creds(&c, "x", "");
    c.ssid_len = 0;
    assert_int_equal(sc_et_encode(&enc, &c), SC_ERR_RANGE);
    c.ssid_len = 33;
    assert_int_equal(sc_et_encode(&enc, &c), SC_ERR_RANGE);
    c.ssid_len = 32;
    c.password_len = 65;
    assert_int_equal(sc_et_encode(&enc, &c), SC_ERR_RANGE);
    c.password_len = 64;
    assert_int_equal(sc_et_encode(&enc, &c), SC_OK);
}

static void test_schedule_reference_timing(void **state)
{
    (void)state;
    sc_et_creds_t c;
    sc_et_encoder_t enc;
    sc_et_sched_t s;
    sc_et_dgram_t d;
    make_creds(&c, "TP-LINK_2.4G", "12345678");
    assert_int_equal(sc_et_encode(&enc, &c), SC_OK);
    assert_int_equal(sc_et_sched_init(&s, &enc, NULL), SC_OK);
    uint32_t prev = 0, guides = 0, data = 0, groups_guide_phase0 = 0, first_data_at = 0;
    uint16_t expect_cursor = 0;
    while (sc_et_sched_next(&s, prev, &d) == SC_OK) {
        if (d.is_guide) {
            assert_int_equal(d.len, 515 - d.pos);
            guides++;
            if (d.at_ms < 2100 && d.pos == 0)
                groups_guide_phase0++;
        } else {
            if (!first_data_at)
                first_data_at = d.at_ms;
            assert_int_equal(d.cursor, expect_cursor); /* never reset by a guide phase */
            assert_int_equal(d.len, enc.cycle[d.cursor]);
            expect_cursor = (uint16_t)((expect_cursor + 1) % enc.cycle_len);
            data++;
        }
        if (s.sent > 1)
            assert_int_equal(d.at_ms, prev + 8);
        prev = d.at_ms;
    }
    assert_int_equal(groups_guide_phase0, 63); /* bursts start at 0, 32, ..., 1984 */
    assert_int_equal(first_data_at, 2016);
    assert_true(prev <= 45000 + 32);
    assert_int_equal(guides % 4, 0);
    assert_int_equal(data % 3, 0);
    assert_int_equal(guides, 8 * 63 * 4);
}

static void test_mcast_and_ack(void **state)
{
    (void)state;
    uint8_t ip[4];
    sc_et_mcast_addr(0, ip);
    assert_int_equal(ip[0], 234);
    assert_int_equal(ip[1], 1);
    sc_et_mcast_addr(199, ip);
    assert_int_equal(ip[3], 100);
    sc_et_ack_t a = { 23, { 0x24, 0x0a, 0xc4, 1, 2, 3 }, { 192, 168, 1, 50 } }, b;
    uint8_t buf[11];
    sc_et_ack_build(&a, buf);
    assert_int_equal(buf[0], 23);
    assert_int_equal(sc_et_ack_parse(buf, 11, 23, &b), SC_OK);
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_equal(sc_et_ack_parse(buf, 11, 24, &b), SC_ERR_PROTO);
    assert_int_equal(sc_et_ack_parse(buf, 12, 23, &b), SC_ERR_FORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc8_check_value),       cmocka_unit_test(test_outside_vector),
        cmocka_unit_test(test_vector_a),               cmocka_unit_test(test_vector_b_empty_password),
        cmocka_unit_test(test_vector_c_max),           cmocka_unit_test(test_limits),
        cmocka_unit_test(test_schedule_reference_timing), cmocka_unit_test(test_mcast_and_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
