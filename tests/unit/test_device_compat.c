/* SPDX-License-Identifier: Apache-2.0 */
/* The reference API names over a registered device (fake HAL, fake clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_hal.h"
#include "smartcfg/device_compat.h"

static void run(fake_hal_t *fh, sc_device_t *dev, uint32_t ms)
{
    uint32_t end = fh->now + ms;
    while (sc_ms_diff(end, fh->now) > 0) {
        uint32_t next = sc_device_step(dev, fh->now);
        if (sc_ms_diff(next, fh->now) > 0)
            fh->now = sc_ms_min(next, end);
    }
}

static void test_compat(void **state)
{
    (void)state;
    fake_hal_t fh;
    fh_init(&fh);
    sc_device_t *dev = calloc(1, sc_device_size());
    sc_device_config_t cfg;
    sc_device_config_default(&cfg);
    cfg.skip_cloud = true;
    assert_int_equal(start_smartconfig(), 4); /* nothing registered */
    assert_int_equal(query_wifi_config_state(), WIFI_CONFIG_FAILED);
    /* no device info */
    assert_int_equal(sc_device_init(dev, &fh.hal, &cfg), SC_OK);
    sc_device_compat_register(dev);
    assert_int_equal(start_smartconfig(), 27);
    strcpy(cfg.identity.product_id, "ABCDEFGHIJ");
    strcpy(cfg.identity.device_name, "dev1");
    assert_int_equal(sc_device_configure(dev, &cfg), SC_OK);
    assert_int_equal(start_smartconfig(), 0);
    assert_int_equal(query_wifi_config_state(), WIFI_CONFIG_GOING_ON);
    assert_int_equal(sc_device_configure(dev, &cfg), SC_ERR_BUSY);
    assert_false(is_wifi_config_successful());
    stop_smartconfig();
    assert_int_equal(query_wifi_config_state(), WIFI_CONFIG_FAILED);
    uint16_t e;
    int32_t s;
    assert_true(sc_device_last_error(dev, &e, &s));
    assert_int_equal(e, 3);
    assert_int_equal(s, 101);
    /* soft-AP flow to success */
    assert_int_equal(start_softAP("Dev-AP", "12345678", 1), 0);
    assert_true(fh.ap_up);
    assert_int_equal(query_wifi_config_state(), WIFI_CONFIG_GOING_ON);
    const char *req = "{\"cmdType\":1,\"ssid\":\"Home\",\"password\":\"pw123456\",\"token\":\"tok\"}";
    assert_true(fh_inject(&fh, "192.168.4.2", 8266, "192.168.4.1", 8266, req, strlen(req)));
    run(&fh, dev, 4000);
    assert_int_equal(query_wifi_config_state(), WIFI_CONFIG_SUCCESS);
    assert_true(is_wifi_config_successful());
    stop_softAP(); /* after success: nothing recorded */
    assert_int_equal(query_wifi_config_state(), WIFI_CONFIG_SUCCESS);
    assert_int_equal(start_log_softAP(), 0);
    assert_string_equal(fh.ap_ssid, "ESP-LOG-QUERY");
    assert_int_equal(start_softAP("", NULL, 0), 7);
    sc_device_compat_register(NULL);
    fh_free(&fh);
    free(dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_compat) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
