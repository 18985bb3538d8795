/* The default AT binding: device events become exactly one final URC per AT-started flow, the
 * application's own event callback still sees every event, MQTT state/disconnect go to the
 * MQTT HAL, the MAC to the station HAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "smartcfg/at_device.h"

static char out[4096];
static size_t outlen;
static int chained;
static sc_mqtt_state_t mqtt_st = SC_MQTT_DISCONNECTED;
static int mqtt_disconnects;

static void capture(void *user, const char *d, size_t n)
{
    (void)user;
    memcpy(out + outlen, d, n);
    outlen += n;
    out[outlen] = 0;
}

static void reset(void)
{
    outlen = 0;
    out[0] = 0;
}

static void chain(void *user, const sc_device_event_t *ev)
{
    (void)user; (void)ev;
    chained++;
}

static sc_mqtt_state_t m_state(void *ctx, int *reason)
{
    (void)ctx;
    if (reason)
        *reason = 0;
    return mqtt_st;
}

static sc_err_t m_disconnect(void *ctx)
{
    (void)ctx;
    mqtt_disconnects++;
    return SC_OK;
}

static sc_err_t m_connect(void *ctx, const sc_mqtt_connect_t *p)
{
    (void)ctx; (void)p;
    return SC_OK;
}

static sc_err_t s_mac(void *ctx, uint8_t mac[SC_MAC_LEN])
{
    (void)ctx;
    memset(mac, 0xab, SC_MAC_LEN);
    return SC_OK;
}

static int fake_start(void *ctx, const sc_identity_t *id, uint8_t tls)
{
    (void)id; (void)tls;
    ((sc_at_device_t *)ctx)->running = true;   /* as the real op does on success */
    return 0;
}

static void feed(sc_at_t *at, const char *s)
{
    reset();
    sc_at_feed(at, s, strlen(s), 0);
}

static void test_events_to_urcs(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    sc_hal_t hal;
    memset(&hal, 0, sizeof hal);
    hal.mqtt.state = m_state;
    hal.mqtt.connect = m_connect;
    hal.mqtt.disconnect = m_disconnect;
    hal.station.get_mac = s_mac;
    sc_device_config_t base;
    memset(&base, 0, sizeof base);
    base.on_event = chain;
    sc_at_ops_t ops;
    sc_at_device_bind(&b, NULL, &hal, &base, &ops);
    ops.start_smartconfig = fake_start;   /* no orchestrator in this test */
    sc_at_config_t cfg;
    sc_at_config_default(&cfg);
    cfg.output = capture;
    cfg.echo = false;
    assert_int_equal(sc_at_init(&at, &cfg, &ops), SC_OK);
    sc_at_device_attach(&b, &at);

    feed(&at, "AT+TCMODULE\r\n");
    assert_non_null(strstr(out, "Module Mac addr: ab:ab:ab:ab:ab:ab\r\n"));
    feed(&at, "AT+TCDEVINFOSET=1,\"P\",\"d\",\"cw==\"\r\n");
    feed(&at, "AT+TCSTARTSMART\r\n");
    assert_string_equal(out, "OK\r\n+TCSTARTSMART:OK\r\n");
    assert_true(sc_at_device_running(&b));

    reset();
    sc_device_event_t ev = { .type = SC_DEV_EV_ERROR, .err_id = 10, .sub_id = 2, .text = "WIFI connect error!" };
    sc_at_device_on_event(&b, &ev);
    ev = (sc_device_event_t){ .type = SC_DEV_EV_STATE, .state = SC_DEV_JOINING };
    sc_at_device_on_event(&b, &ev);
    assert_string_equal(out, "");
    ev = (sc_device_event_t){ .type = SC_DEV_EV_STATE, .state = SC_DEV_FAILED };
    sc_at_device_on_event(&b, &ev);
    assert_string_equal(out, "+TCSTARTSMART:WIFI_CONNECT_FAILED,10,2\r\n");
    sc_at_device_on_event(&b, &ev);   /* once */
    assert_string_equal(out, "+TCSTARTSMART:WIFI_CONNECT_FAILED,10,2\r\n");
    assert_int_equal(chained, 4);
    assert_false(sc_at_device_running(&b));

    /* success */
    feed(&at, "AT+TCSTARTSMART\r\n");
    b.have_err = false;
    reset();
    ev = (sc_device_event_t){ .type = SC_DEV_EV_STATE, .state = SC_DEV_DONE };
    sc_at_device_on_event(&b, &ev);
    assert_string_equal(out, "+TCSTARTSMART:WIFI_CONNECT_SUCCESS\r\n");

    /* failure without an error record */
    feed(&at, "AT+TCSTARTSMART\r\n");
    reset();
    b.have_err = false;
    ev = (sc_device_event_t){ .type = SC_DEV_EV_STATE, .state = SC_DEV_FAILED };
    sc_at_device_on_event(&b, &ev);
    assert_string_equal(out, "+TCSTARTSMART:WIFI_CONNECT_FAILED,3,103\r\n");

    /* events of a flow AT did not start: no URC */
    reset();
    sc_at_device_on_event(&b, &ev);
    assert_string_equal(out, "");

    /* MQTT: state via the HAL only while the AT session is active */
    mqtt_st = SC_MQTT_CONNECTED;
    feed(&at, "AT+TCMQTTSTATE?\r\n");
    assert_string_equal(out, "+TCMQTTSTATE:0\r\nOK\r\n");
    feed(&at, "AT+TCMQTTDISCONN\r\n");
    assert_string_equal(out, "OK\r\n");
    feed(&at, "AT+TCSTOPSMART\r\n");
    assert_string_equal(out, "OK\r\n+TCSTOPSMART:OK\r\n");
}

static void test_no_device(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    sc_at_ops_t ops;
    sc_at_device_bind(&b, NULL, NULL, NULL, &ops);
    sc_at_config_t cfg;
    sc_at_config_default(&cfg);
    cfg.output = capture;
    cfg.echo = false;
    sc_at_init(&at, &cfg, &ops);
    sc_at_device_attach(&b, &at);
    feed(&at, "AT+TCDEVINFOSET=1,\"P\",\"d\",\"cw==\"\r\n");
    feed(&at, "AT+TCSTARTSMART\r\n");
    assert_string_equal(out, "OK\r\n+TCSTARTSMART:FAIL,13\r\n");
    feed(&at, "AT+TCSAP=\"x\"\r\n");
    assert_string_equal(out, "OK\r\n+TCSAP:FAIL,7\r\n");
    feed(&at, "AT+TCMQTTCONN=1,5000,240,1,1\r\n");
    assert_string_equal(out, "OK\r\n+TCMQTTCONN:FAIL,209\r\n");
    feed(&at, "AT+TCMODULE\r\n");
    assert_non_null(strstr(out, "Module Mac addr: 00:00:00:00:00:00\r\n"));
    feed(&at, "AT+TCDEVREG\r\n");
    assert_string_equal(out, "OK\r\n+TCDEVREG:FAIL,207\r\n");
    sc_at_device_step(&b, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_to_urcs),
        cmocka_unit_test(test_no_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
