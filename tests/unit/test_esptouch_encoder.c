/* SPDX-License-Identifier: Apache-2.0 */
/* Encoder, CRC-8, schedule and ack against docs/protocol/esptouch-v1.md#test-vectors vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "et_vectors.h"
#include "smartcfg/esptouch.h"

static void test_crc8_check_value(void **state)
{
    (void)state;
    assert_int_equal(sc_crc8("123456789", 9), 0xA1);
    assert_int_equal(sc_crc8("", 0), 0x00);
    /* docs/protocol/esptouch-v1.md#independent-checks: CRC8([value, index]) */
    const uint8_t v[4][3] = ET_VEC_CRC_PAIRS;
    for (int i = 0; i < 4; i++) {
        uint8_t pair[2] = { v[i][0], v[i][1] };
        assert_int_equal(sc_crc8(pair, 2), v[i][2]);
    }
}

static void test_outside_vector(void **state)
{
    (void)state;
    static const uint16_t want[4][3] = ET_VEC_OUTSIDE;
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
    static const uint16_t cycle[] = ET_VEC_A_CYCLE;
    static const uint8_t datum[] = ET_VEC_A_DATUM;
    sc_et_creds_t c;
    sc_et_encoder_t enc;
    et_vec_creds(&c, "TP-LINK_2.4G", "12345678");
    assert_int_equal(sc_et_encode(&enc, &c), SC_OK);
    assert_int_equal(enc.t, 29);
    assert_int_equal(enc.cycle_len, sizeof cycle / sizeof cycle[0]);
    assert_memory_equal(enc.datum, datum, sizeof datum);
    assert_memory_equal(enc.cycle, cycle, sizeof cycle);
}

static void test_vector_b_empty_password(void **state)
{
    (void)state;
    static const uint16_t cycle[] = ET_VEC_B_CYCLE;
    sc_et_creds_t c;
    sc_et_encoder_t enc;
    et_vec_creds(&c, "TP-LINK_2.4G", "");
    assert_int_equal(sc_et_encode(&enc, &c), SC_OK);
    assert_int_equal(enc.t, 21);
    assert_int_equal(enc.cycle_len, sizeof cycle / sizeof cycle[0]);
    assert_memory_equal(enc.cycle, cycle, sizeof cycle);
}

static void test_vector_c_max(void **state)
{
    (void)state;
    /* first and last rows of the 333-length cycle */
    static const uint16_t head[] = ET_VEC_C_HEAD;
    static const uint16_t tail[] = ET_VEC_C_TAIL;
    sc_et_creds_t c;
    sc_et_encoder_t enc;
    et_vec_creds(&c, ET_VEC_C_SSID, ET_VEC_C_PASSWORD);
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
    et_vec_creds(&c, "x", "");
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
    et_vec_creds(&c, "TP-LINK_2.4G", "12345678");
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
