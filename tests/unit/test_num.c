/* SPDX-License-Identifier: Apache-2.0 */
/* The core's one digit loop (src/common/num.c) and its two users, the AT answer formatter and
 * the cloud's string builder, against the C library's printf over edge and random values:
 * the 32-bit-only 64-bit conversion and the shared loop must print what the old per-module
 * loops (64-bit division, own digit tables) printed, which is what printf prints. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/at/at_sink.h"
#include "../../src/cloud/cloud_int.h"
#include "../../src/common/num.h"
#include "smartcfg/common.h"

static const uint64_t edges64[] = {
    0, 1, 9, 10, 11, 99, 100, 65535, 65536, 655359, 655360, 999999999, 1000000000, 2147483647, 2147483648u,
    4294967295u, 4294967296u, 4294967297u, 9999999999u, 10000000000u, 42949672950u, 42949672959u,
    42949672960u, 281474976710655u, 281474976710656u, 1700000000000u, 999999999999999999u,
    1000000000000000000u, 9223372036854775807u, 9223372036854775808u, 10000000000000000000u,
    18446744073709551614u, UINT64_MAX,
};

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* a random value of a random width, so every digit count is hit */
static uint64_t any64(void)
{
    uint64_t v = next64();
    return v >> (next64() % 64);
}

/* The loops the shared one replaced, as they were (strbuf.c's sc_sb_u64, at_sink.c's
 * put_uint): the new output must equal theirs as well as printf's. */
static void old_u64(char *dst, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + (v % 10u));
        v /= 10u;
    } while (v != 0);
    memcpy(dst, tmp + i, sizeof tmp - i);
    dst[sizeof tmp - i] = '\0';
}

static void old_uint(char *dst, unsigned v, unsigned base, unsigned width)
{
    char tmp[12];
    unsigned n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v || n < width);
    while (n)
        *dst++ = tmp[--n];
    *dst = '\0';
}

static void check_u64(uint64_t v)
{
    char want[32], old[32], got[SC_U64_DIGITS_MAX + 1];
    snprintf(want, sizeof want, "%" PRIu64, v);
    old_u64(old, v);
    assert_string_equal(old, want);
    char *p = sc_u64_digits(got + SC_U64_DIGITS_MAX, v);
    got[SC_U64_DIGITS_MAX] = '\0';
    assert_true(p >= got);
    assert_string_equal(p, want);
}

static void check_u32(uint32_t v, unsigned base, unsigned width)
{
    char want[32], old[32], got[SC_U32_DIGITS_MAX + 1];
    snprintf(want, sizeof want, base == 16 ? "%0*" PRIx32 : "%0*" PRIu32, (int)width, v);
    old_uint(old, v, base, width);
    assert_string_equal(old, want);
    char *p = sc_u32_digits(got + SC_U32_DIGITS_MAX, v, base, width);
    got[SC_U32_DIGITS_MAX] = '\0';
    assert_true(p >= got);
    assert_string_equal(p, want);
}

static void test_digits(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof edges64 / sizeof edges64[0]; i++) {
        check_u64(edges64[i]);
        if (edges64[i] <= UINT32_MAX)
            for (unsigned w = 0; w <= 2; w++) {
                check_u32((uint32_t)edges64[i], 10, w);
                check_u32((uint32_t)edges64[i], 16, w);
            }
    }
    for (int i = 0; i < 200000; i++) {
        uint64_t v = any64();
        check_u64(v);
        check_u32((uint32_t)v, 10, 1);
        check_u32((uint32_t)v, 16, (unsigned)(v % 3));
    }
}

static void check_sb(uint64_t u, int64_t s)
{
    char want[64], got[64];
    snprintf(want, sizeof want, "%" PRIu64 "|%" PRId64, u, s);
    sc_sb_t sb;
    sc_sb_init(&sb, got, sizeof got);
    sc_sb_u64(&sb, u);
    sc_sb_str(&sb, "|");
    sc_sb_i64(&sb, s);
    size_t n = 0;
    assert_int_equal(sc_sb_finish(&sb, &n), SC_OK);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
}

static void test_strbuf(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof edges64 / sizeof edges64[0]; i++) {
        check_sb(edges64[i], (int64_t)edges64[i]);
        check_sb(edges64[i], -(int64_t)(edges64[i] & INT64_MAX));
    }
    check_sb(0, INT64_MIN);
    check_sb(0, INT32_MIN);
    check_sb(0, INT32_MAX);
    for (int i = 0; i < 50000; i++) {
        uint64_t v = any64();
        check_sb(v, (int64_t)next64() >> (next64() % 64));
    }
    /* a number that does not fit is an overflow, never a cut number */
    char small[6];
    sc_sb_t sb;
    sc_sb_init(&sb, small, sizeof small);
    sc_sb_u64(&sb, 123456u);
    assert_int_equal(sc_sb_finish(&sb, NULL), SC_ERR_NOSPACE);
    assert_string_equal(small, "");
    sc_sb_init(&sb, small, sizeof small);
    sc_sb_u64(&sb, 12345u);
    assert_int_equal(sc_sb_finish(&sb, NULL), SC_OK);
    assert_string_equal(small, "12345");
}

static char out[4096];
static size_t out_len;
static void grab(void *user, const char *data, size_t len)
{
    (void)user;
    memcpy(out + out_len, data, len);
    out_len += len;
}

static void test_at_say(void **state)
{
    (void)state;
    const sc_at_sink_t sink = { grab, NULL };
    static const int ints[] = { 0, 1, -1, 9, -9, 10, -10, 204, -204, 65535, INT32_MAX, INT32_MIN, INT32_MIN + 1 };
    static const unsigned uns[] = { 0, 1, 9, 10, 4294967295u, 2147483648u, 1000000000u };
    char want[256];
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        for (size_t j = 0; j < sizeof uns / sizeof uns[0]; j++) {
            out_len = 0;
            sc_at_say(&sink, "+X:%d,%u", ints[i], uns[j]);
            snprintf(want, sizeof want, "+X:%d,%u\r\n", ints[i], uns[j]);
            assert_int_equal(out_len, strlen(want));
            assert_memory_equal(out, want, out_len);
        }
    for (int i = 0; i < 20000; i++) {
        uint32_t v = (uint32_t)next64();
        unsigned char b[6];
        for (int k = 0; k < 6; k++)
            b[k] = (unsigned char)next64();
        out_len = 0;
        sc_at_say(&sink, "%d %u %m %a", (int)v, (unsigned)v >> (v % 32), b, b);
        snprintf(want, sizeof want, "%d %u %02x:%02x:%02x:%02x:%02x:%02x %u.%u.%u.%u\r\n", (int)v, (unsigned)v >> (v % 32),
                 b[0], b[1], b[2], b[3], b[4], b[5], b[0], b[1], b[2], b[3]);
        assert_int_equal(out_len, strlen(want));
        assert_memory_equal(out, want, out_len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digits),
        cmocka_unit_test(test_strbuf),
        cmocka_unit_test(test_at_say),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
