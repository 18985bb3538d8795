/* SPDX-License-Identifier: Apache-2.0 */
/* Crash safety of the two-slot records (a storage HAL that loses power at every byte of a
 * write, in both torn-write models), error record queue, log ring format and bounds, and the
 * 8266 protocol builders/parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "smartcfg/tc8266.h"
#include "smartcfg/diag.h"
#include "smartcfg/device.h"
#include "smartcfg/errors.h"
#include "smartcfg/sender.h"

static uint8_t scratch[SC_DIAG_SLOT_MAX];

static void fill(uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v + i * 7);
}

/* For every cut point k of the next write (after a history of `history` good writes), the
 * reloaded record is either the previous one or the new one, never anything else. */
static void crash_every_point(bool erase_first, size_t len, int history)
{
    uint8_t old[1200], neu[1200], got[1200];
    size_t total = SC_DIAG_SLOT_HDR + len + 4;
    for (size_t k = 0; k <= total; k++) {
        fake_hal_t fh;
        fh_init(&fh);
        fh.st_erase_first = erase_first;
        sc_diag_slots_t s;
        sc_diag_slots_init(&s, "r.a", "r.b");
        for (int h = 0; h < history; h++) {
            fill(old, len, (uint8_t)(h + 1));
            assert_int_equal(sc_diag_slots_save(&s, &fh.hal.storage, old, len, scratch), SC_OK);
        }
        fill(neu, len, 0xC0);
        fh.st_budget = (long)k;
        sc_err_t e = sc_diag_slots_save(&s, &fh.hal.storage, neu, len, scratch);
        assert_true(k >= total ? e == SC_OK : e != SC_OK);
        /* reboot */
        sc_diag_slots_t r;
        sc_diag_slots_init(&r, "r.a", "r.b");
        size_t n = 0;
        e = sc_diag_slots_load(&r, &fh.hal.storage, got, sizeof got, &n, scratch);
        if (history == 0 && k < total) {
            assert_int_equal(e, SC_ERR_NOTFOUND);
        } else {
            assert_int_equal(e, SC_OK);
            assert_int_equal(n, len);
            if (k >= total)
                assert_memory_equal(got, neu, len);
            else
                assert_memory_equal(got, old, len);
        }
        /* writing continues correctly after the reboot */
        fh.st_dead = false;
        fh.st_budget = -1;
        fill(neu, len, 0x33);
        assert_int_equal(sc_diag_slots_save(&r, &fh.hal.storage, neu, len, scratch), SC_OK);
        sc_diag_slots_init(&r, "r.a", "r.b");
        assert_int_equal(sc_diag_slots_load(&r, &fh.hal.storage, got, sizeof got, &n, scratch), SC_OK);
        assert_memory_equal(got, neu, len);
        fh_free(&fh);
    }
}

static void test_slots_crash_every_byte(void **state)
{
    (void)state;
    for (int model = 0; model < 2; model++)
        for (int history = 0; history <= 3; history++) {
            crash_every_point(model == 0, 36, history);
            crash_every_point(model == 0, 0, history);
        }
    crash_every_point(true, 1100, 2);
    crash_every_point(false, 1100, 1);
}

static void test_slots_sequence_wrap_and_garbage(void **state)
{
    (void)state;
    fake_hal_t fh;
    fh_init(&fh);
    sc_diag_slots_t s;
    sc_diag_slots_init(&s, "r.a", "r.b");
    uint8_t v[4] = { 1, 2, 3, 4 }, got[8];
    size_t n;
    s.seq = 0xFFFFFFFEu;
    s.newest = 1;
    for (int i = 0; i < 5; i++) {
        v[0] = (uint8_t)i;
        assert_int_equal(sc_diag_slots_save(&s, &fh.hal.storage, v, 4, scratch), SC_OK);
        sc_diag_slots_t r;
        sc_diag_slots_init(&r, "r.a", "r.b");
        assert_int_equal(sc_diag_slots_load(&r, &fh.hal.storage, got, sizeof got, &n, scratch), SC_OK);
        assert_int_equal(got[0], i);
    }
    /* a flipped bit in the newest slot: the other one is used */
    fh_kv_t *kv = (fh_kv_t *)fh_kv(&fh, s.newest ? "r.b" : "r.a");
    kv->val[12] ^= 0x10;
    sc_diag_slots_init(&s, "r.a", "r.b");
    assert_int_equal(sc_diag_slots_load(&s, &fh.hal.storage, got, sizeof got, &n, scratch), SC_OK);
    assert_int_equal(got[0], 3);
    fh_free(&fh);
}

static void test_errors_persist_and_crash(void **state)
{
    (void)state;
    fake_hal_t fh;
    fh_init(&fh);
    sc_diag_errors_t e;
    sc_diag_errors_init(&e);
    sc_diag_errors_add(&e, 10, 301);
    sc_diag_errors_add(&e, 1, -4);
    assert_int_equal(sc_diag_errors_persist(&e, &fh.hal.storage, scratch), SC_OK);
    /* power cut at every byte while persisting the "sent, now empty" queue: either both
     * records survive (to be reported as previous) or none, never a half state */
    for (long k = 0; k < 30; k++) {
        fh.st_budget = k;
        fh.st_dead = false;
        sc_diag_errors_t w = e;
        sc_diag_errors_pop(&w);
        sc_diag_errors_pop(&w);
        sc_err_t rc = sc_diag_errors_persist(&w, &fh.hal.storage, scratch);
        sc_diag_errors_t r;
        sc_diag_errors_init(&r);
        fh.st_dead = false;
        fh.st_budget = -1;
        assert_int_equal(sc_diag_errors_load(&r, &fh.hal.storage, scratch), SC_OK);
        if (rc == SC_OK) {
            assert_int_equal(r.n, 0);
            break;
        }
        assert_int_equal(r.n, 2);
        assert_int_equal(r.rec[0].previous, 1);
        assert_int_equal(r.rec[0].err_id, 10);
        assert_int_equal(r.rec[0].sub_id, 301);
        assert_int_equal(r.rec[1].sub_id, -4);
    }
    /* queue of 16: the oldest is dropped */
    sc_diag_errors_init(&e);
    for (int i = 0; i < 20; i++)
        sc_diag_errors_add(&e, (uint16_t)i, i);
    assert_int_equal(e.n, SC_DIAG_MAX_ERRORS);
    assert_int_equal(e.rec[0].err_id, 4);
    fh_free(&fh);
}

static void test_log_ring(void **state)
{
    (void)state;
    sc_diag_log_t l;
    sc_diag_log_init(&l);
    char longmsg[400];
    memset(longmsg, 'x', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = 0;
    const char *e = sc_diag_log_add(&l, 1234, "fn", 42, "hello\r\nworld");
    assert_string_equal(e, "1234|fn(42): hello  world\r\n");
    e = sc_diag_log_add(&l, 5, "fn", 1, longmsg);
    assert_int_equal(strlen(e), 128);
    assert_memory_equal(e + 126, "\r\n", 2);
    for (int i = 0; i < 20; i++) {
        char m[16];
        snprintf(m, sizeof m, "m%d", i);
        sc_diag_log_add(&l, (uint32_t)i, "f", i, m);
    }
    char all[2000];
    size_t n = sc_diag_log_concat(&l, all, sizeof all);
    assert_true(n <= 1280);
    assert_non_null(strstr(all, "10|f(10): m10\r\n"));
    assert_null(strstr(all, "9|f(9): m9\r\n"));
    assert_true(strncmp(all, "10|", 3) == 0);
    fake_hal_t fh;
    fh_init(&fh);
    assert_int_equal(sc_diag_log_persist(&l, &fh.hal.storage, scratch), SC_OK);
    sc_diag_log_t r;
    sc_diag_log_init(&r);
    assert_int_equal(sc_diag_log_load(&r, &fh.hal.storage, scratch), SC_OK);
    char all2[2000];
    sc_diag_log_concat(&r, all2, sizeof all2);
    assert_string_equal(all, all2);
    /* crash while persisting a new line: the old log survives intact */
    sc_diag_log_add(&r, 99, "f", 1, "new");
    fh.st_budget = 100;
    assert_int_not_equal(sc_diag_log_persist(&r, &fh.hal.storage, scratch), SC_OK);
    sc_diag_log_init(&r);
    assert_int_equal(sc_diag_log_load(&r, &fh.hal.storage, scratch), SC_OK);
    sc_diag_log_concat(&r, all2, sizeof all2);
    assert_string_equal(all, all2);
    fh_free(&fh);
}

static void test_bind_proto(void **state)
{
    (void)state;
    sc_tc8266_req_t r;
    uint16_t e;
    int32_t s;
    const char *ok = "{\n  \"cmdType\": 0,\n  \"token\": \"abc\",\n  \"region\": \"ap-guangzhou\",\n  \"x\": {}\n}";
    assert_int_equal(sc_tc8266_parse_request(ok, strlen(ok), &r, &e, &s), SC_OK);
    assert_int_equal(r.cmd_type, 0);
    assert_string_equal(r.token, "abc");
    assert_true(r.has_region);
    const char *sap = "{\"cmdType\":1,\"ssid\":\"Home\",\"password\":\"pw\",\"token\":\"t\"}";
    assert_int_equal(sc_tc8266_parse_request(sap, strlen(sap), &r, &e, &s), SC_OK);
    assert_int_equal(r.ssid_len, 4);
    assert_int_equal(r.password_len, 2);
    const char *sap_open = "{\"cmdType\":1,\"ssid\":\"Home\",\"token\":\"t\"}";
    assert_int_equal(sc_tc8266_parse_request(sap_open, strlen(sap_open), &r, &e, &s), SC_OK);
    assert_int_equal(r.password_len, 0);
    const char *sap_bad = "{\"cmdType\":1,\"password\":\"pw\",\"token\":\"t\"}";
    assert_int_not_equal(sc_tc8266_parse_request(sap_bad, strlen(sap_bad), &r, &e, &s), SC_OK);
    assert_int_equal(s, 204);
    assert_int_equal(r.password_len, 0);
    assert_int_equal(sc_tc8266_parse_request("{\"cmdType\":3}", 13, &r, &e, &s), SC_OK);
    assert_int_equal(r.cmd_type, 3);
    /* not NUL-terminated input is never read past len */
    char nonul[5] = { '{', '}', 'x', 'x', 'x' };
    assert_int_not_equal(sc_tc8266_parse_request(nonul, 2, &r, &e, &s), SC_OK);
    char buf[SC_TC8266_REPLY_MAX];
    size_t n;
    sc_identity_t id;
    memset(&id, 0, sizeof id);
    strcpy(id.product_id, "P\"1");
    strcpy(id.device_name, "d\\n");
    assert_int_equal(sc_tc8266_build_identity(buf, sizeof buf, &id, &n), SC_OK);
    assert_string_equal(buf, "{\"cmdType\":2,\"productId\":\"P\\\"1\",\"deviceName\":\"d\\\\n\",\"productRegion\":"
                             "\"ap-guangzhou\",\"protoVersion\":\"2.0\"}\r\n");
    assert_int_equal(n, strlen(buf));
    sc_tc8266_reply_t rep;
    assert_int_equal(sc_tc8266_parse_reply(buf, n, &rep, NULL), SC_OK);
    assert_string_equal(rep.product_id, "P\"1");
    assert_int_equal(sc_tc8266_build_error(buf, sizeof buf, true, 1, -4, &n), SC_OK);
    assert_string_equal(buf, "{\"cmdType\":2,\"deviceReply\":\"Previous_Error\",\"log\":\"MQTT connect error! (1, -4)\"}\r\n");
    assert_int_equal(sc_tc8266_parse_reply(buf, n, &rep, NULL), SC_OK);
    assert_true(rep.is_error && rep.previous);
    assert_int_equal(sc_tc8266_build_error(buf, 20, false, 1, -4, &n), SC_ERR_NOSPACE);
    assert_string_equal(sc_errid_text(26), "Product Region fault error!");
    assert_string_equal(sc_errid_text(999), "Unknown error!");
}

/* The name tables kept as text pools (src/common/pool.h): a pool is walked, not bounded by its
 * own size, so a name dropped or added in the middle would shift every later one, and one too
 * few would walk past the pool's end. Every name of each, and both neighbours of each range. */
static void test_name_pools(void **state)
{
    (void)state;
    static const char *const states[] = { "idle", "sniffing", "credentials", "joining", "acking",
                                          "wait_token", "binding", "done", "failed", "softap" };
    for (unsigned i = 0; i < sizeof states / sizeof states[0]; i++)
        assert_string_equal(sc_device_state_name((sc_device_state_t)i), states[i]);
    assert_string_equal(sc_device_state_name((sc_device_state_t)10), "unknown");
    assert_string_equal(sc_device_state_name((sc_device_state_t)-1), "unknown");

    static const char *const evs[] = { "none", "token_sent", "identity", "repeat", "device_error",
                                       "previous_error", "malformed", "no_response", "ignored" };
    for (unsigned i = 0; i < sizeof evs / sizeof evs[0]; i++)
        assert_string_equal(sc_send_hs_ev_name((sc_send_hs_ev_t)i), evs[i]);
    assert_string_equal(sc_send_hs_ev_name((sc_send_hs_ev_t)9), "unknown");

    static const struct { int32_t id; const char *text; } subs[] = {
        { 101, "stopped by app" }, { 102, "stopped by AT" }, { 103, "execution timeout" }, { 104, "invalid data" },
        { 201, "JSON format" },    { 202, "timestamp" },     { 203, "signature" },         { 204, "AP info" },
        { 205, "JSON print" },     { 206, "comm task" },     { 207, "token changed" },     { 208, "unknown cmdType" },
    };
    for (unsigned i = 0; i < sizeof subs / sizeof subs[0]; i++)
        assert_string_equal(sc_subid_text(subs[i].id), subs[i].text);
    static const int32_t none[] = { 0, 100, 105, 200, 209, -101, INT32_MIN, INT32_MAX };
    for (unsigned i = 0; i < sizeof none / sizeof none[0]; i++)
        assert_null(sc_subid_text(none[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots_crash_every_byte),
        cmocka_unit_test(test_slots_sequence_wrap_and_garbage),
        cmocka_unit_test(test_errors_persist_and_crash),
        cmocka_unit_test(test_log_ring),
        cmocka_unit_test(test_bind_proto),
        cmocka_unit_test(test_name_pools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
