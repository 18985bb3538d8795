/* SPDX-License-Identifier: Apache-2.0 */
/* The phone-side state machines with a fake clock: ack collection, the token handshake's
 * retry timing and reply handling, token API messages and the polling policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "smartcfg/sender.h"

static void test_acks(void **state)
{
    (void)state;
    sc_send_acks_t a;
    sc_send_acks_init(&a, 29);
    const uint8_t ack[11] = { 0x1d, 0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56, 192, 168, 1, 57 };
    const uint8_t src[4] = { 192, 168, 1, 57 }, other[4] = { 192, 168, 1, 58 };
    uint32_t idx = 99;
    bool is_new = false;
    assert_int_equal(sc_send_acks_on_datagram(&a, src, ack, 11, &idx, &is_new), SC_OK);
    assert_true(is_new);
    assert_int_equal(idx, 0);
    assert_false(a.dev[0].ip_mismatch);
    /* repeated ack: same slot, not new */
    assert_int_equal(sc_send_acks_on_datagram(&a, src, ack, 11, &idx, &is_new), SC_OK);
    assert_false(is_new);
    assert_int_equal(a.ndev, 1);
    /* wrong first byte, wrong length: rejected */
    uint8_t bad[12];
    memcpy(bad, ack, 11);
    bad[0] = 0x1e;
    assert_int_equal(sc_send_acks_on_datagram(&a, src, bad, 11, &idx, &is_new), SC_ERR_PROTO);
    bad[0] = 0x1d;
    assert_int_equal(sc_send_acks_on_datagram(&a, src, bad, 12, &idx, &is_new), SC_ERR_FORMAT);
    assert_int_equal(sc_send_acks_on_datagram(&a, src, bad, 10, &idx, &is_new), SC_ERR_FORMAT);
    assert_int_equal(a.rejected, 3);
    /* a second device whose ack body disagrees with the source address */
    uint8_t ack2[11];
    memcpy(ack2, ack, 11);
    ack2[6] = 0x57;
    assert_int_equal(sc_send_acks_on_datagram(&a, other, ack2, 11, &idx, &is_new), SC_OK);
    assert_true(is_new);
    assert_int_equal(idx, 1);
    assert_true(a.dev[1].ip_mismatch);
    assert_memory_equal(a.dev[1].src_ip, other, 4);
    /* F31: another MAC from an address that already acked is not a second device */
    ack2[6] = 0x58;
    assert_int_equal(sc_send_acks_on_datagram(&a, other, ack2, 11, &idx, &is_new), SC_ERR_BUSY);
    assert_int_equal(a.ndev, 2);
    assert_int_equal(a.rejected, 4);
    /* ... while its own MAC from a new address (a new lease) is still that device */
    const uint8_t moved[4] = { 192, 168, 1, 99 };
    assert_int_equal(sc_send_acks_on_datagram(&a, moved, ack2 /* 0x58: new */, 11, &idx, &is_new), SC_OK);
    assert_true(is_new);
    assert_int_equal(sc_send_acks_on_datagram(&a, moved, ack, 11, &idx, &is_new), SC_OK);
    assert_false(is_new);
    assert_int_equal(idx, 0);
    /* table full: a device per address */
    for (int i = 3; i < SC_SEND_MAX_DEVICES; i++) {
        ack2[6] = (uint8_t)(0x60 + i);
        const uint8_t from[4] = { 10, 0, 0, (uint8_t)i };
        assert_int_equal(sc_send_acks_on_datagram(&a, from, ack2, 11, &idx, &is_new), SC_OK);
    }
    ack2[6] = 0xff;
    const uint8_t last[4] = { 10, 0, 1, 1 };
    assert_int_equal(sc_send_acks_on_datagram(&a, last, ack2, 11, &idx, &is_new), SC_ERR_NOSPACE);
}

static void test_request(void **state)
{
    (void)state;
    sc_send_hs_t h;
    assert_int_equal(sc_send_hs_start(&h, "tok123", NULL, NULL, 0), SC_OK);
    assert_string_equal(h.request, "{\"cmdType\":0,\"token\":\"tok123\"}");
    assert_int_equal(sc_send_hs_start(&h, "tok123", "ap-guangzhou", NULL, 0), SC_OK);
    assert_string_equal(h.request, "{\"cmdType\":0,\"token\":\"tok123\",\"region\":\"ap-guangzhou\"}");
    assert_int_equal(sc_send_hs_start(&h, "", NULL, NULL, 0), SC_ERR_RANGE);
    assert_int_equal(sc_send_hs_start(&h, "a\"b\n", NULL, NULL, 0), SC_ERR_RANGE);
    char long_tok[80];
    memset(long_tok, 'a', sizeof long_tok - 1);
    long_tok[79] = 0;
    assert_int_equal(sc_send_hs_start(&h, long_tok, NULL, NULL, 0), SC_ERR_RANGE);
}

static void test_retry_timing(void **state)
{
    (void)state;
    sc_send_hs_t h;
    assert_int_equal(sc_send_hs_start(&h, "tok", NULL, NULL, 1000), SC_OK);
    uint32_t sends[8], n = 0, failed_at = 0;
    for (uint32_t t = 1000; t < 20000; t += 10) {
        sc_send_hs_ev_t ev;
        while ((ev = sc_send_hs_step(&h, t)) != SC_SEND_HS_EV_NONE) {
            if (ev == SC_SEND_HS_EV_SEND)
                sends[n++] = t;
            else if (ev == SC_SEND_HS_EV_NO_RESPONSE)
                failed_at = t;
        }
    }
    assert_int_equal(n, 6);
    for (uint32_t i = 0; i < 6; i++)
        assert_int_equal(sends[i], 1000 + 2000 * i);
    assert_int_equal(failed_at, 13000);
    assert_int_equal(h.state, SC_SEND_HS_FAILED);
    assert_int_equal(sc_send_hs_deadline(&h), UINT32_MAX);
}

static sc_send_hs_ev_t feed(sc_send_hs_t *h, const char *s)
{
    return sc_send_hs_on_datagram(h, (const uint8_t *)s, strlen(s));
}

static void test_identity_after_retries(void **state)
{
    (void)state;
    sc_send_hs_t h;
    sc_send_hs_start(&h, "tok", NULL, NULL, 0);
    assert_int_equal(sc_send_hs_step(&h, 0), SC_SEND_HS_EV_SEND);
    assert_int_equal(sc_send_hs_step(&h, 1999), SC_SEND_HS_EV_NONE);
    assert_int_equal(sc_send_hs_step(&h, 2000), SC_SEND_HS_EV_SEND);
    assert_int_equal(sc_send_hs_step(&h, 4000), SC_SEND_HS_EV_SEND);
    const char *id = "{\"cmdType\":2,\"productId\":\"ABCDEFGHIJ\",\"deviceName\":\"dev1\","
                     "\"productRegion\":\"ap-guangzhou\",\"protoVersion\":\"2.0\"}\r\n";
    assert_int_equal(feed(&h, id), SC_SEND_HS_EV_IDENTITY);
    assert_string_equal(h.product_id, "ABCDEFGHIJ");
    assert_string_equal(h.device_name, "dev1");
    assert_string_equal(h.product_region, "ap-guangzhou");
    /* sent 3 times by the device: counted once */
    assert_int_equal(feed(&h, id), SC_SEND_HS_EV_REPEAT);
    assert_int_equal(feed(&h, id), SC_SEND_HS_EV_REPEAT);
    /* no more resends once identified */
    assert_int_equal(sc_send_hs_step(&h, 6000), SC_SEND_HS_EV_NONE);
    assert_int_equal(sc_send_hs_step(&h, 60000), SC_SEND_HS_EV_NONE);
    assert_int_equal(h.state, SC_SEND_HS_IDENTIFIED);
    assert_int_equal(h.sends, 3);
    /* a conflicting identity is malformed, the first one stays */
    assert_int_equal(feed(&h, "{\"cmdType\":2,\"productId\":\"X\",\"deviceName\":\"Y\"}"), SC_SEND_HS_EV_MALFORMED);
    assert_string_equal(h.device_name, "dev1");
}

static void test_pretty_printed(void **state)
{
    (void)state;
    sc_send_hs_t h;
    sc_send_hs_start(&h, "tok", NULL, NULL, 0);
    sc_send_hs_step(&h, 0);
    const char *pretty = "{\n\t\"cmdType\":\t2,\n\t\"productId\":\t\"P1\",\n\t\"deviceName\":\t\"D1\",\n"
                         "\t\"protoVersion\":\t\"2.0\"\n}";
    assert_int_equal(feed(&h, pretty), SC_SEND_HS_EV_IDENTITY);
    assert_string_equal(h.product_id, "P1");
    assert_string_equal(h.product_region, "");
}

static void test_errors(void **state)
{
    (void)state;
    sc_send_hs_t h;
    sc_send_hs_start(&h, "tok", NULL, NULL, 0);
    sc_send_hs_step(&h, 0);
    assert_int_equal(feed(&h, "{\"cmdType\":2,\"deviceReply\":\"Previous_Error\",\"log\":\"MQTT connect error! (1, -4)\"}\r\n"),
                     SC_SEND_HS_EV_PREVIOUS_ERROR);
    assert_string_equal(h.text, "MQTT connect error! (1, -4)");
    assert_int_equal(h.state, SC_SEND_HS_WAITING);
    assert_int_equal(sc_send_hs_step(&h, 2000), SC_SEND_HS_EV_SEND); /* goes on */
    /* malformed replies: reported, ignored */
    const char *bad[] = { "not json", "[1,2]", "{\"cmdType\":\"2\"}", "{\"cmdType\":2}",
                          "{\"cmdType\":2,\"deviceReply\":\"Whatever\"}", "{\"cmdType\":2,\"deviceReply\":7}",
                          "{\"cmdType\":2,\"productId\":\"P\"}", "{\"cmdType\":2,\"productId\":\"P\",\"deviceName\":\"\"}",
                          "{\"cmdType\":2,\"productId\":\"P\",\"deviceName\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
                          "\r\n", "{\"cmdType\":2,", "\xff\xfe" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(feed(&h, bad[i]), SC_SEND_HS_EV_MALFORMED);
    assert_int_equal(sc_send_hs_on_datagram(&h, NULL, 0), SC_SEND_HS_EV_MALFORMED);
    assert_int_equal(feed(&h, "{\"cmdType\":5,\"x\":1}"), SC_SEND_HS_EV_IGNORED);
    assert_int_equal(h.state, SC_SEND_HS_WAITING);
    /* Current_Error aborts with the log text; control characters are neutralised */
    assert_int_equal(feed(&h, "{\"cmdType\":2,\"deviceReply\":\"Current_Error\",\"log\":\"MQTT\\u001b[2J connect error! (1, -4)\"}\r\n"),
                     SC_SEND_HS_EV_DEVICE_ERROR);
    assert_string_equal(h.text, "MQTT?[2J connect error! (1, -4)");
    assert_int_equal(h.state, SC_SEND_HS_FAILED);
    assert_int_equal(sc_send_hs_step(&h, 4000), SC_SEND_HS_EV_NONE);
    /* an identity after failure changes nothing */
    assert_int_equal(feed(&h, "{\"cmdType\":2,\"productId\":\"P\",\"deviceName\":\"D\"}"), SC_SEND_HS_EV_IGNORED);
    assert_int_equal(h.state, SC_SEND_HS_FAILED);
}

/* F35 (docs/security.md#device): a LAN host that acked answers the token with 1 400 nested
 * '[' (a 1500-byte datagram): cJSON recursed into each level (up to its limit of 1000), some
 * 100 KiB of stack in a debug build and tens of KiB on a chip running the phone side. The
 * reply is now refused as nested past 8 before cJSON sees it; run on a 32 KiB stack. */
static void *deep_reply(void *arg)
{
    sc_send_hs_t *h = arg;
    static char deep[1500];
    memset(deep, '[', 1400);
    memcpy(deep + 1400, "{\"cmdType\":2}", 14);
    static sc_send_hs_ev_t ev;
    ev = sc_send_hs_on_datagram(h, (const uint8_t *)deep, 1414);
    return &ev;
}

static void test_deep_reply(void **state)
{
    (void)state;
    sc_send_hs_t h;
    sc_send_hs_start(&h, "tok", NULL, NULL, 0);
    sc_send_hs_step(&h, 0);
    pthread_attr_t a;
    pthread_attr_init(&a);
    assert_int_equal(pthread_attr_setstacksize(&a, 32768), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, &a, deep_reply, &h), 0);
    void *ret = NULL;
    assert_int_equal(pthread_join(t, &ret), 0);
    assert_int_equal(*(sc_send_hs_ev_t *)ret, SC_SEND_HS_EV_MALFORMED);
    /* nesting up to 8 is still read */
    assert_int_equal(feed(&h, "{\"cmdType\":2,\"productId\":\"P\",\"deviceName\":\"D\",\"x\":[[[[[[[1]]]]]]]}"),
                     SC_SEND_HS_EV_IDENTITY);
}

static void test_two_objects_one_datagram(void **state)
{
    (void)state;
    sc_send_hs_t h;
    sc_send_hs_start(&h, "tok", NULL, NULL, 0);
    sc_send_hs_step(&h, 0);
    const char *two = "{\"cmdType\":2,\"deviceReply\":\"Previous_Error\",\"log\":\"old (1, -4)\"}\r\n"
                      "{\"cmdType\":2,\"productId\":\"P\",\"deviceName\":\"D\"}\r\n";
    assert_int_equal(feed(&h, two), SC_SEND_HS_EV_IDENTITY);
    assert_int_equal(h.state, SC_SEND_HS_IDENTIFIED);
}

static void test_api_messages(void **state)
{
    (void)state;
    char buf[256];
    assert_int_equal(sc_send_api_request(buf, sizeof buf, SC_SEND_API_CREATE_TOKEN, NULL, "rid1", "at"), SC_OK);
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "Action")->valuestring, "AppCreateDeviceBindToken");
    assert_string_equal(cJSON_GetObjectItem(o, "RequestId")->valuestring, "rid1");
    assert_string_equal(cJSON_GetObjectItem(o, "AccessToken")->valuestring, "at");
    assert_null(cJSON_GetObjectItem(o, "Token"));
    cJSON_Delete(o);
    assert_int_equal(sc_send_api_request(buf, sizeof buf, SC_SEND_API_TOKEN_STATE, "T1", "rid2", NULL), SC_OK);
    o = cJSON_Parse(buf);
    assert_string_equal(cJSON_GetObjectItem(o, "Token")->valuestring, "T1");
    cJSON_Delete(o);
    assert_int_equal(sc_send_api_request(buf, 10, SC_SEND_API_TOKEN_STATE, "T1", "rid2", NULL), SC_ERR_NOSPACE);

    sc_send_api_reply_t r;
    const char *ok = "{\"code\":0,\"msg\":\"\",\"data\":{\"Token\":\"abcdef123456\",\"ExpireTime\":1700000000}}";
    assert_int_equal(sc_send_api_parse(SC_SEND_API_CREATE_TOKEN, ok, strlen(ok), &r), SC_OK);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.token, "abcdef123456");
    const char *fail = "{\"code\":1001,\"msg\":\"bad\",\"data\":{\"Error\":{\"Code\":\"X\",\"Message\":\"access token expired\"}}}";
    assert_int_equal(sc_send_api_parse(SC_SEND_API_CREATE_TOKEN, fail, strlen(fail), &r), SC_OK);
    assert_int_equal(r.code, 1001);
    assert_string_equal(r.msg, "access token expired");
    const char *notok = "{\"code\":0,\"data\":{}}";
    assert_int_equal(sc_send_api_parse(SC_SEND_API_CREATE_TOKEN, notok, strlen(notok), &r), SC_ERR_FORMAT);
    assert_int_equal(sc_send_api_parse(SC_SEND_API_CREATE_TOKEN, "<html>", 6, &r), SC_ERR_FORMAT);
    assert_int_equal(sc_send_api_parse(SC_SEND_API_CREATE_TOKEN, "{\"msg\":1}", 9, &r), SC_ERR_FORMAT);
    const char *st = "{\"code\":0,\"msg\":\"\",\"data\":{\"State\":2,\"ProductId\":\"P\",\"DeviceName\":\"D\"}}";
    assert_int_equal(sc_send_api_parse(SC_SEND_API_TOKEN_STATE, st, strlen(st), &r), SC_OK);
    assert_int_equal(r.state, 2);
    assert_string_equal(r.device_name, "D");
    const char *st1 = "{\"code\":0,\"msg\":\"\",\"data\":{\"State\":\"2\"}}";
    assert_int_equal(sc_send_api_parse(SC_SEND_API_TOKEN_STATE, st1, strlen(st1), &r), SC_ERR_FORMAT);
    const char *multi = "{\"code\":0,\"msg\":\"\",\"data\":{\"Data\":[{\"ProductId\":\"P\",\"DeviceName\":\"D1\",\"State\":2},"
                        "{\"ProductId\":\"P\",\"DeviceName\":\"D2\",\"State\":1},7]}}";
    assert_int_equal(sc_send_api_parse(SC_SEND_API_MULTI_STATE, multi, strlen(multi), &r), SC_OK);
    assert_int_equal(r.nbound, 1);
    assert_string_equal(r.bound[0].device_name, "D1");
}

static void test_polling(void **state)
{
    (void)state;
    sc_send_poll_t p;
    sc_send_poll_init(&p, 2000, 20);
    assert_false(sc_send_poll_due(&p, 0)); /* not started */
    sc_send_poll_restart(&p, 1000);
    uint32_t n = 0, first = 0, last = 0;
    for (uint32_t t = 1000; t < 100000; t += 50) {
        if (sc_send_poll_due(&p, t)) {
            if (!n)
                first = t;
            last = t;
            n++;
        }
    }
    assert_int_equal(n, 20);
    assert_int_equal(first, 3000);
    assert_int_equal(last, 41000);
    assert_true(sc_send_poll_exhausted(&p));
    assert_int_equal(sc_send_poll_deadline(&p), UINT32_MAX);
    /* a new device restarts the budget */
    sc_send_poll_restart(&p, 100000);
    assert_false(sc_send_poll_exhausted(&p));
    assert_true(sc_send_poll_due(&p, 102000));
    sc_send_poll_stop(&p);
    assert_false(sc_send_poll_due(&p, 200000));
}

static void test_abbrev(void **state)
{
    (void)state;
    char out[16];
    sc_send_abbrev("ab12cd34ef56gh78", out, sizeof out);
    assert_string_equal(out, "ab12\xe2\x80\xa6");
    sc_send_abbrev("abc", out, sizeof out);
    assert_string_equal(out, "a\xe2\x80\xa6");
    sc_send_abbrev("ab", out, sizeof out);
    assert_string_equal(out, "\xe2\x80\xa6");
    sc_send_abbrev("ab12cd34", out, 3);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_retry_timing),
        cmocka_unit_test(test_identity_after_retries),
        cmocka_unit_test(test_pretty_printed),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_two_objects_one_datagram),
        cmocka_unit_test(test_deep_reply),
        cmocka_unit_test(test_api_messages),
        cmocka_unit_test(test_polling),
        cmocka_unit_test(test_abbrev),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
