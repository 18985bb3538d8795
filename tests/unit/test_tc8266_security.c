/* SPDX-License-Identifier: Apache-2.0 */
/* Issue 13, device side, over the fake HAL (docs/security.md#device): F3 tokens the cloud
 * would never issue are bad input and a LAN host spraying tokens does not take the flow from
 * the app; F4 no source-port rotation gets more reply bytes out than it sends, the log goes
 * out only while the log soft-AP is raised and does not tell the password's length; F9 a
 * failed record or log write is an event, the flow goes on, the next start says so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev_harness.h"

#define EVIL "EVILTOKEN"
#define EVIL_REQ "{\"cmdType\":0,\"token\":\"" EVIL "\"}"

static sc_err_t parse(const char *json, size_t len, uint16_t *err, int32_t *sub)
{
    sc_tc8266_req_t req;
    return sc_tc8266_parse_request(json, len ? len : strlen(json), &req, err, sub);
}

/* F3: only what the cloud could issue is a token. */
static void test_token_format(void **state)
{
    (void)state;
    uint16_t err;
    int32_t sub;
    assert_int_equal(parse("{\"cmdType\":0,\"token\":\"" TOKEN "\"}", 0, &err, &sub), SC_OK);
    assert_int_equal(parse("{\"cmdType\":0,\"token\":\"AbC-123_x.y\"}", 0, &err, &sub), SC_OK);
    /* a C client's trailing NUL is not part of the JSON */
    assert_int_equal(parse("{\"cmdType\":0,\"token\":\"" TOKEN "\"}", sizeof "{\"cmdType\":0,\"token\":\"" TOKEN "\"}",
                           &err, &sub), SC_OK);
    static const char *const bad[] = {
        "{\"cmdType\":0,\"token\":\"\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\xe4\xb8\xad\"}", /* 中中中中中 */
        "{\"cmdType\":0,\"token\":\"\\u4e2d\\u4e2d\"}",
        "{\"cmdType\":0,\"token\":\"a\\u0000b\"}",   /* must not become "a" */
        "{\"cmdType\":0,\"token\":\"a\\\\\\u0000b\"}", /* an escaped backslash, then the NUL escape */
        "{\"cmdType\":0,\"token\":\"a\\u0001b\"}",
        "{\"cmdType\":0,\"token\":\"a b\"}",
        "{\"cmdType\":0,\"token\":\"a\\\"b\"}",
        "{\"cmdType\":0,\"token\":\"\\u007f\"}",
        "{\"cmdType\":0,\"token\":\"0123456789abcdef0123456789abcdef0\"}", /* 33 */
        "{\"cmdType\":1,\"ssid\":\"a\\u0000b\",\"token\":\"" TOKEN "\"}",
        /* a cmdType beyond int (found by fuzz_device: the conversion was undefined) */
        "{\"cmdType\":7777777777777777777777777777777777777777777777777777770,\"token\":\"" TOKEN "\"}",
        "{\"cmdType\":2147483648,\"token\":\"" TOKEN "\"}",
        "{\"cmdType\":-1,\"token\":\"" TOKEN "\"}",
        "{\"cmdType\":1e400,\"token\":\"" TOKEN "\"}",
        /* saturated (INT_MIN) or truncated (0) by cJSON's valueint: never equal to the number */
        "{\"cmdType\":-1e400,\"token\":\"" TOKEN "\"}",
        "{\"cmdType\":-0.5,\"token\":\"" TOKEN "\"}",
        "{\"cmdType\":2147483647.5,\"token\":\"" TOKEN "\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sc_err_t e = parse(bad[i], 0, &err, &sub);
        if (e == SC_OK)
            fail_msg("bad token %zu accepted: %s", i, bad[i]);
        assert_int_equal(err, SC_ERRID_APP_CMD);
        assert_true(sub == SC_SUBID_JSON || sub == SC_SUBID_AP_INFO);
    }
    /* raw NUL inside the datagram */
    static const char raw[] = "{\"cmdType\":0,\"token\":\"a\0b\"}";
    assert_int_not_equal(parse(raw, sizeof raw - 1, &err, &sub), SC_OK);
    /* "\\u0000" as text (escaped backslash + u0000) is no NUL, but not a token either */
    assert_int_not_equal(parse("{\"cmdType\":0,\"token\":\"a\\\\u0000b\"}", 0, &err, &sub), SC_OK);
}

/* F3: over the service, a bad token is answered as bad input and never bound. */
static void test_bad_token_never_bound(void **state)
{
    (void)state;
    T *t = mk(false);
    to_wait_token(t);
    app_send(t, "{\"cmdType\":0,\"token\":\"a\\u0000b\"}");
    run(t, 50);
    assert_non_null(reply(t, APP_IP, 8266, 0));
    assert_non_null(strstr(reply(t, APP_IP, 8266, 0), "Current_Error"));
    assert_int_equal(count_ev(t, SC_DEV_EV_TOKEN), 0);
    assert_int_equal(t->fh.mqtt_publishes, 0);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_WAIT_TOKEN);
    rm(t);
}

/* F3: a LAN host sends EVILTOKEN every 2 ms from before the app's first request until the
 * end; the app sends its real token with the reference schedule (every 2 s, 6 sends). The
 * cloud accepts only the app's token. The app must get its identity and no error, and the
 * device must bind the app's token, never report done for the refused one. */
static void test_sprayer_does_not_take_the_flow(void **state)
{
    (void)state;
    T *t = mk(false);
    t->fh.mqtt_state = SC_MQTT_CONNECTED;
    strcpy(t->fh.mqtt_good_token, TOKEN);
    to_wait_token(t);
    uint32_t start = t->fh.now;
    int app_sends = 0;
    bool bound_evil = false;
    for (uint32_t ms = 0; ms < 20000 && sc_device_state(t->dev) != SC_DEV_DONE; ms += 2) {
        assert_true(fh_inject(&t->fh, "192.168.1.66", (uint16_t)(40000 + ms % 1000), DEV_IP, 8266,
                              EVIL_REQ, strlen(EVIL_REQ)));
        if (ms >= 10 && (ms - 10) % 2000 == 0 && app_sends < 6) {
            app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
            app_sends++;
        }
        run(t, 2);
        if (count_ev(t, SC_DEV_EV_BOUND) && strcmp(t->fh.mqtt_last_token, TOKEN) != 0)
            bound_evil = true;
    }
    (void)start;
    assert_false(bound_evil);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_DONE);
    assert_int_equal(count_ev(t, SC_DEV_EV_BOUND), 1);
    assert_string_equal(t->fh.mqtt_last_token, TOKEN);
    assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
    assert_int_equal(count_replies_containing(t, APP_IP, 8266, "Error"), 0);
    assert_false(sc_device_last_error(t->dev, NULL, NULL));
    assert_no_secrets(t);
    rm(t);
}

/* F3: when the cloud refuses every candidate, the flow fails with the cloud's answer and
 * is never "done". */
static void test_all_refused_fails(void **state)
{
    (void)state;
    T *t = mk(false);
    t->fh.mqtt_state = SC_MQTT_CONNECTED;
    strcpy(t->fh.mqtt_good_token, "nobody-has-this");
    to_wait_token(t);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 100);
    assert_true(fh_inject(&t->fh, "192.168.1.66", 5000, DEV_IP, 8266, EVIL_REQ, strlen(EVIL_REQ)));
    run(t, 49000);
    assert_int_equal(sc_device_state(t->dev), SC_DEV_FAILED);
    assert_int_equal(count_ev(t, SC_DEV_EV_BOUND), 0);
    uint16_t e = 0;
    int32_t s = 0;
    assert_true(sc_device_last_error(t->dev, &e, &s));
    assert_int_equal(e, SC_ERRID_TOKEN_REPLY);
    assert_int_equal(s, 1001);
    assert_true(t->fh.mqtt_publishes >= 2); /* both were tried */
    rm(t);
}

static size_t bytes_sent_to(const T *t, const char *ip)
{
    size_t n = 0;
    for (size_t i = 0; i < t->fh.nsent; i++) {
        char a[20];
        const uint8_t *x = t->fh.sent[i].to.addr;
        snprintf(a, sizeof a, "%u.%u.%u.%u", x[0], x[1], x[2], x[3]);
        if (!strcmp(a, ip))
            n += t->fh.sent[i].len;
    }
    return n;
}

/* F4: 16 rotating source ports, 1-byte junk: the replies are fewer bytes than the junk. */
static void test_no_amplification_8266(void **state)
{
    (void)state;
    T *t = mk(true);
    to_wait_token(t);
    fh_clear_sent(&t->fh);
    size_t in = 0;
    for (int i = 0; i < 20000; i++) {
        assert_true(fh_inject(&t->fh, "192.168.1.200", (uint16_t)(6000 + i % 16), DEV_IP, 8266, "x", 1));
        in++;
        if (i % 64 == 63)
            run(t, 1);
    }
    run(t, 100);
    size_t out = bytes_sent_to(t, "192.168.1.200");
    print_message("8266 junk: %zu bytes in, %zu bytes out\n", in, out);
    assert_true(out > 0);   /* still answered, within the budget */
    assert_true(out <= in);
    /* the app still gets through */
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 50);
    assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY);
    rm(t);
}

/* F3/F4: a host sending a new token in every datagram (while the app's is being tried) gets
 * at most one identity a second, and the app's token still binds. */
static void test_rotating_tokens_bounded(void **state)
{
    (void)state;
    T *t = mk(false);
    t->fh.mqtt_state = SC_MQTT_CONNECTED;
    t->fh.mqtt_silent = true; /* the app's token stays "being tried" for the whole test */
    to_wait_token(t);
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 10);
    fh_clear_sent(&t->fh);
    for (int i = 0; i < 2000; i++) {
        char req[64];
        int n = snprintf(req, sizeof req, "{\"cmdType\":0,\"token\":\"spray%05d\"}", i);
        assert_true(fh_inject(&t->fh, "192.168.1.66", (uint16_t)(9000 + i % 16), DEV_IP, 8266, req, (size_t)n));
        run(t, 2);
    }
    size_t ids = 0;
    for (uint16_t p = 9000; p < 9016; p++)
        ids += fh_count_sent(&t->fh, "192.168.1.66", p);
    print_message("rotating tokens for 4 s: %zu replies\n", ids);
    assert_true(ids <= 6); /* one a second, 4 s (plus the first) */
    rm(t);
}

/* F59: one host asking for the log 20 times a second (any ports) kept the shared budget empty:
 * the app, asking every 2 s, never got it. The log now goes to an address once per 10 s, a
 * repeat sooner only from a budget that keeps a whole log for another address (F60): the app,
 * whenever in the asker's cycle it comes, gets both copies at its first try. */
static void test_log_not_starved_by_one_host(void **state)
{
    (void)state;
    static const int first[] = { 20, 5, 47, 59, 77, 95, 113, 131 }; /* the app's first ask, in 50 ms ticks */
    for (size_t k = 0; k < sizeof first / sizeof first[0]; k++) {
        T *t = mk(true);
        to_wait_token(t);
        assert_int_equal(sc_device_start_log_softap(t->dev, t->fh.now), SC_OK);
        fh_clear_sent(&t->fh);
        int asked = 0;
        for (int i = 0; i < 240; i++) { /* 12 s */
            assert_true(fh_inject(&t->fh, "192.168.1.201", (uint16_t)(7000 + i % 16), "192.168.4.1", 9876,
                                  "{\"cmdType\":3}", 13));
            if (i >= first[k] && (i - first[k]) % 40 == 0 && bytes_sent_to(t, APP_IP) == 0) {
                assert_true(fh_inject(&t->fh, APP_IP, 50000, "192.168.4.1", 9876, "{\"cmdType\":3}", 13));
                asked++;
            }
            run(t, 50);
        }
        size_t app = bytes_sent_to(t, APP_IP), att = bytes_sent_to(t, "192.168.1.201");
        print_message("12 s of 20 log queries a second, the app from %d ms: %zu bytes to the asker, %zu to the app "
                      "(asked %d times)\n",
                      first[k] * 50, att, app, asked);
        assert_int_equal(asked, 1);                                /* at its first try ... */
        assert_int_equal(fh_count_sent(&t->fh, APP_IP, 50000), 2); /* ... both copies */
        assert_true(att > 0);
        rm(t);
    }
}

/* F60: the phone's two copies were both lost (or its app restarted) and it asks again 2 s
 * later: on a quiet device it gets the log at once, not 10 s later (F59's limit refused every
 * repeat within 10 s, however full the budget). */
static void test_log_repeat_on_quiet_device(void **state)
{
    (void)state;
    T *t = mk(true);
    to_wait_token(t);
    assert_int_equal(sc_device_start_log_softap(t->dev, t->fh.now), SC_OK);
    fh_clear_sent(&t->fh);
    assert_true(fh_inject(&t->fh, APP_IP, 50000, "192.168.4.1", 9876, "{\"cmdType\":3}", 13));
    run(t, 2000);
    assert_int_equal(fh_count_sent(&t->fh, APP_IP, 50000), 2); /* both copies, "lost" */
    fh_clear_sent(&t->fh);
    assert_true(fh_inject(&t->fh, APP_IP, 50000, "192.168.4.1", 9876, "{\"cmdType\":3}", 13));
    run(t, 100);
    assert_int_equal(fh_count_sent(&t->fh, APP_IP, 50000), 1); /* at once */
    run(t, 1000);
    assert_int_equal(fh_count_sent(&t->fh, APP_IP, 50000), 2);
    rm(t);
}

/* F4: the log (9876 and cmdType 3 on 8266): only while raised, within the same budget. */
static void test_log_budget_and_raised(void **state)
{
    (void)state;
    T *t = mk(true);
    to_wait_token(t);
    fh_clear_sent(&t->fh);
    for (int i = 0; i < 16; i++)
        assert_true(fh_inject(&t->fh, "192.168.1.201", (uint16_t)(7000 + i), DEV_IP, 8266, "{\"cmdType\":3}", 13));
    run(t, 100);
    assert_int_equal(bytes_sent_to(t, "192.168.1.201"), 0); /* not raised: no log */
    assert_int_equal(sc_device_start_log_softap(t->dev, t->fh.now), SC_OK);
    size_t in = 0;
    for (int i = 0; i < 4000; i++) {
        const char *to = i % 2 ? "192.168.4.1" : DEV_IP;
        assert_true(fh_inject(&t->fh, "192.168.1.201", (uint16_t)(7000 + i % 16), to, i % 2 ? 9876 : 8266,
                              "{\"cmdType\":3}", 13));
        in += 13;
        if (i % 64 == 63)
            run(t, 1);
    }
    run(t, 1000);
    size_t out = bytes_sent_to(t, "192.168.1.201");
    print_message("log queries: %zu bytes in, %zu bytes out\n", in, out);
    assert_true(out > 0);
    assert_true(out <= in);
    /* the log does not give the password's length away (nor T, which holds it) */
    char log[2048];
    sc_device_log(t->dev, log, sizeof log);
    assert_null(strstr(log, "password"));
    assert_null(strstr(log, "T "));
    rm(t);
}

/* F9: storage that refuses every write: events, the flow goes on, the next start says so. */
static void test_storage_failure_is_loud(void **state)
{
    (void)state;
    T *t = mk(true);
    t->fh.st_dead = true;
    to_wait_token(t);
    assert_int_equal(count_ev(t, SC_DEV_EV_STORAGE), 1); /* the log write streak, once */
    app_send(t, "{\"cmdType\":0,\"token\":\"" TOKEN "\"}");
    run(t, 50);
    assert_string_equal(reply(t, APP_IP, 8266, 0), IDENTITY); /* the flow goes on */
    sc_device_stop(t->dev, SC_SUBID_TIMEOUT, t->fh.now);       /* an error record to save (a user stop is not kept) */
    assert_int_equal(count_ev(t, SC_DEV_EV_STORAGE), 2);
    assert_true(fh_log_contains(&t->fh, "may be missing"));
    sc_device_stats_t st;
    sc_device_stats(t->dev, &st);
    assert_true(st.storage_errors >= 2);
    reboot(t);
    assert_int_equal(count_ev(t, SC_DEV_EV_STORAGE), 0); /* not from inside init ... */
    run(t, 10);
    assert_int_equal(count_ev(t, SC_DEV_EV_STORAGE), 1); /* ... but from the first step */
    bool said = false;
    for (size_t i = 0; i < t->nev; i++)
        said |= t->ev[i].type == SC_DEV_EV_STORAGE && t->ev[i].text && strstr(t->ev[i].text, "previous");
    assert_true(said);
    /* writable again: quiet */
    t->fh.st_dead = false;
    reboot(t);
    run(t, 10);
    assert_int_equal(count_ev(t, SC_DEV_EV_STORAGE), 0);
    rm(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_format),
        cmocka_unit_test(test_bad_token_never_bound),
        cmocka_unit_test(test_sprayer_does_not_take_the_flow),
        cmocka_unit_test(test_all_refused_fails),
        cmocka_unit_test(test_rotating_tokens_bounded),
        cmocka_unit_test(test_no_amplification_8266),
        cmocka_unit_test(test_log_budget_and_raised),
        cmocka_unit_test(test_log_not_starved_by_one_host),
        cmocka_unit_test(test_log_repeat_on_quiet_device),
        cmocka_unit_test(test_storage_failure_is_loud),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
