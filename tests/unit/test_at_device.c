/* SPDX-License-Identifier: Apache-2.0 */
/* The default AT binding: device events become exactly one final URC per AT-started flow, the
 * application's own event callback still sees every event, MQTT state/disconnect go to the
 * MQTT HAL, the MAC to the station HAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* A radio that accepts everything, so the real device can start sniffing. */
static sc_err_t r_promisc(void *ctx, bool on) { (void)ctx; (void)on; return SC_OK; }
static sc_err_t r_channel(void *ctx, uint8_t ch) { (void)ctx; (void)ch; return SC_OK; }
static uint32_t r_now(void *ctx) { (void)ctx; return 0; }
static sc_err_t st_join(void *ctx, const uint8_t *s, size_t sl, const uint8_t *p, size_t pl, const uint8_t *b)
{
    (void)ctx; (void)s; (void)sl; (void)p; (void)pl; (void)b;
    return SC_OK;
}
static sc_sta_status_t st_status(void *ctx, sc_sta_reason_t *r) { (void)ctx; (void)r; return SC_STA_CONNECTING; }
static sc_err_t u_open(void *ctx, const uint8_t *ip, uint16_t port, bool bc, int *h)
{
    (void)ctx; (void)ip; (void)port; (void)bc;
    *h = 1;
    return SC_OK;
}
static sc_err_t u_recv(void *ctx, int h, sc_ipv4_ep_t *from, void *buf, size_t cap, size_t *len, bool *tr)
{
    (void)ctx; (void)h; (void)from; (void)buf; (void)cap; (void)len; (void)tr;
    return SC_ERR_AGAIN;
}

/* The rest of what hal.h requires for a flow (sc_device_start refuses a HAL without it). */
static sc_err_t st_ip(void *ctx, uint8_t ip[4]) { (void)ctx; memset(ip, 0, 4); return SC_OK; }
static sc_err_t u_send(void *ctx, int h, const sc_ipv4_ep_t *to, const void *buf, size_t len)
{
    (void)ctx; (void)h; (void)to; (void)buf; (void)len;
    return SC_OK;
}
static void u_close(void *ctx, int h) { (void)ctx; (void)h; }

static void feed(sc_at_t *at, const char *s)
{
    reset();
    sc_at_feed(at, s, strlen(s), 0);
}

/* A HAL for a real device behind the binding: the fake clock, radio, station and UDP. */
static void device_hal(sc_hal_t *hal)
{
    memset(hal, 0, sizeof *hal);
    hal->sys.now_ms = r_now;
    hal->radio.set_promiscuous = r_promisc;
    hal->radio.set_channel = r_channel;
    hal->station.join = st_join;
    hal->station.status = st_status;
    hal->station.get_ip = st_ip;
    hal->udp.open = u_open;
    hal->udp.recv_from = u_recv;
    hal->udp.send_to = u_send;
    hal->udp.close = u_close;
}

/* The binding of dev (NULL: none) on hal with base, and an AT context on it without echo
 * whose replies go into out. */
static void attach_at(sc_at_device_t *b, sc_at_t *at, sc_device_t *dev, const sc_hal_t *hal,
                      const sc_device_config_t *base)
{
    sc_at_ops_t ops;
    sc_at_device_bind(b, dev, hal, base, &ops);
    sc_at_config_t cfg;
    sc_at_config_default(&cfg);
    cfg.output = capture;
    cfg.echo = false;
    assert_int_equal(sc_at_init(at, &cfg, &ops), SC_OK);
    sc_at_device_attach(b, at);
}

static void test_events_to_urcs(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_device_t dev;   /* a real device: AT+TCSTARTSMART starts it sniffing */
    static sc_hal_t hal;
    device_hal(&hal);
    hal.mqtt.state = m_state;
    hal.mqtt.connect = m_connect;
    hal.mqtt.disconnect = m_disconnect;
    hal.station.get_mac = s_mac;
    sc_device_config_t base;
    sc_device_config_default(&base);
    base.on_event = chain;
    attach_at(&b, &at, &dev, &hal, &base);

    feed(&at, "AT+TCMODULE\r\n");
    assert_non_null(strstr(out, "Module Mac addr: ab:ab:ab:ab:ab:ab\r\n"));
    feed(&at, "AT+TCDEVINFOSET=1,\"P\",\"d\",\"cw==\"\r\n");
    feed(&at, "AT+TCSTARTSMART\r\n");
    assert_string_equal(out, "OK\r\n+TCSTARTSMART:OK\r\n");
    assert_true(sc_at_device_running(&b));

    reset();
    int chained0 = chained;   /* the real device's own events reach the application too */
    assert_true(chained0 > 0);
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
    assert_int_equal(chained - chained0, 4);
    assert_false(sc_at_device_running(&b));

    /* success */
    feed(&at, "AT+TCSTARTSMART\r\n");   /* a new flow forgets the last one's error */
    reset();
    ev = (sc_device_event_t){ .type = SC_DEV_EV_STATE, .state = SC_DEV_DONE };
    sc_at_device_on_event(&b, &ev);
    assert_string_equal(out, "+TCSTARTSMART:WIFI_CONNECT_SUCCESS\r\n");

    /* failure without an error record */
    feed(&at, "AT+TCSTARTSMART\r\n");
    reset();
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
    assert_string_equal(out, "+CME ERROR:208\r\n");
    feed(&at, "AT+TCSTOPSMART\r\n");
    assert_string_equal(out, "OK\r\n+TCSTOPSMART:OK\r\n");
}

/* The log soft-AP a port raises after a failure (smartcfg device --at --log-linger): a new
 * AT flow, AT+TCSTOPSMART or a restart takes it down, socket closed, before the device's
 * re-init could forget it open. */
static int lg_open, lg_close, ap_up, ap_starts;
static sc_err_t lg_u_open(void *ctx, const uint8_t *ip, uint16_t port, bool bc, int *h)
{
    (void)ctx; (void)ip; (void)port; (void)bc;
    *h = 10 + lg_open++;
    return SC_OK;
}
static void lg_u_close(void *ctx, int h) { (void)ctx; (void)h; lg_close++; }
static sc_err_t lg_ap_start(void *ctx, const char *ssid, const char *psw, uint8_t ch)
{
    (void)ctx; (void)ssid; (void)psw; (void)ch;
    ap_up = 1;
    ap_starts++;
    return SC_OK;
}
static sc_err_t lg_ap_stop(void *ctx) { (void)ctx; ap_up = 0; return SC_OK; }

static void test_log_softap_down_for_a_new_flow(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_device_t dev;
    static sc_hal_t hal;
    device_hal(&hal);
    hal.udp.open = lg_u_open;   /* counted: the log service's socket must be closed */
    hal.udp.close = lg_u_close;
    hal.softap.start = lg_ap_start;
    hal.softap.stop = lg_ap_stop;
    sc_device_config_t base;
    sc_device_config_default(&base);
    attach_at(&b, &at, &dev, &hal, &base);
    feed(&at, "AT+TCDEVINFOSET=1,\"P\",\"d\",\"cw==\"\r\n");

    const char *again[] = { "AT+TCSTARTSMART\r\n", "AT+TCSTOPSMART\r\n", "AT+RESTORE\r\n", "AT+RST\r\n" };
    for (size_t i = 0; i < sizeof again / sizeof again[0]; i++) {
        feed(&at, "AT+TCSTARTSMART\r\n");
        assert_true(sc_at_device_running(&b));
        sc_device_stop(&dev, 0, 0);   /* the flow fails */
        assert_int_equal(sc_device_state(&dev), SC_DEV_FAILED);
        int starts = ap_starts;
        assert_int_equal(sc_device_start_log_softap(&dev, 0), SC_OK);   /* what the port does then */
        assert_int_equal(ap_starts, starts + 1);
        assert_true(ap_up);
        assert_true(lg_open > lg_close);
        feed(&at, again[i]);
        assert_false(ap_up);
        assert_int_equal(lg_open, lg_close);   /* the log socket too: nothing left open */
    }
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

/* ---------------------------------------------------------------- MQTT session, dynreg */

static sc_mqtt_connect_t last_conn;
static char last_host[160], last_user[160], last_client[80];
static int connects;
static uint8_t last_psk[64];
static size_t last_psk_len;
static char last_psk_id[80];
static sc_err_t connect_ret;
static int connack_reason;

static sc_err_t m2_connect(void *ctx, const sc_mqtt_connect_t *p)
{
    (void)ctx;
    connects++;
    last_conn = *p;
    last_psk_len = p->psk != NULL ? p->psk_len : 0;
    if (p->psk != NULL) {
        assert_true(p->psk_len <= sizeof last_psk);
        memcpy(last_psk, p->psk, p->psk_len);
    }
    snprintf(last_psk_id, sizeof last_psk_id, "%s", p->psk_identity != NULL ? p->psk_identity : "");
    snprintf(last_host, sizeof last_host, "%s", p->host);
    snprintf(last_user, sizeof last_user, "%s", p->username);
    snprintf(last_client, sizeof last_client, "%s", p->client_id);
    if (connect_ret == SC_OK)
        mqtt_st = SC_MQTT_CONNECTING;
    return connect_ret;
}

static sc_mqtt_state_t m2_state(void *ctx, int *reason)
{
    (void)ctx;
    if (reason)
        *reason = connack_reason;
    return mqtt_st;
}

static void rnd(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, 7, len);
}

static uint64_t unix_time(void *ctx)
{
    (void)ctx;
    return 1700000000u;
}

static uint32_t clock_ms;
static uint32_t now_ms(void *ctx)
{
    (void)ctx;
    return clock_ms;
}

#define PSK "MTIzNDU2Nzg5MDEyMzQ1Ng=="
#define PRODSEC "product-secret-0123456789"

static sc_err_t http_post(void *ctx, const char *url, const char *ct, const void *body, size_t len, uint32_t to,
                          int *status, char *resp, size_t cap, size_t *rlen)
{
    (void)ctx; (void)ct; (void)to;
    assert_string_equal(url, "http://127.0.0.1:1/register/dev");
    assert_non_null(memmem(body, len, "\"productId\":\"PIDDYN0001\"", 24));
    assert_null(memmem(body, len, PRODSEC, strlen(PRODSEC)));
    *status = 200;
    assert_int_equal(sc_cloud_dynreg_response(PRODSEC, PSK, resp, cap, rlen), SC_OK);
    return SC_OK;
}

/* The binding on hal (no device), an AT context on it without echo, replies into out; the
 * registration URL the fake HTTP HALs expect. */
static void bind_at(sc_at_device_t *b, sc_at_t *at, const sc_hal_t *hal)
{
    sc_device_config_t base;
    memset(&base, 0, sizeof base);
    snprintf(base.cloud.register_url, sizeof base.cloud.register_url, "http://127.0.0.1:1/register/dev");
    attach_at(b, at, NULL, hal, &base);
}

/* The MQTT session's HAL of the AT tests (m2_*: a session the test opens and drops at will). */
static void mqtt_hal(sc_hal_t *hal)
{
    memset(hal, 0, sizeof *hal);
    hal->mqtt.connect = m2_connect;
    hal->mqtt.state = m2_state;
    hal->mqtt.disconnect = m_disconnect;
    hal->sys.random = rnd;
    hal->sys.unix_time = unix_time;
    hal->sys.now_ms = now_ms;
}

static void feed_now(sc_at_t *at, const char *s);

/* The binding on hal, device "dev" of product PID stored and CONN (an AT+TCMQTTCONN line)
 * answered +TCMQTTCONN:OK: how the MQTT data tests begin. at_now: the lines are fed at the
 * fake clock's time (for a test that lets a command's timeout run), else at 0. */
static void session_up(sc_at_device_t *b, sc_at_t *at, const sc_hal_t *hal, const char *pid, const char *conn,
                       bool at_now)
{
    bind_at(b, at, hal);
    connect_ret = SC_OK;
    connack_reason = 0;
    mqtt_st = SC_MQTT_DISCONNECTED;
    char info[96];
    snprintf(info, sizeof info, "AT+TCDEVINFOSET=0,\"%s\",\"dev\",\"" PSK "\"\r\n", pid);
    (at_now ? feed_now : feed)(at, info);
    (at_now ? feed_now : feed)(at, conn);
    mqtt_st = SC_MQTT_CONNECTED;
    sc_at_device_step(b, clock_ms += 100);
    assert_string_equal(out, "OK\r\n+TCMQTTCONN:OK\r\n");
}

/* A device configured for TLS-PSK (smartcfg device --tls-psk --at): tls mode 1 is TLS-PSK with
 * the stored secret, decoded, as key and the client id as identity, no CA file; tls mode 0
 * stays plain MQTT. */
static void test_mqtt_tls_psk(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    mqtt_hal(&hal);
    sc_device_config_t base;
    memset(&base, 0, sizeof base);
    base.cloud.tls = base.cloud.tls_psk = true;
    snprintf(base.cloud.ca_file, sizeof base.cloud.ca_file, "/nowhere/ca.pem");
    attach_at(&b, &at, NULL, &hal, &base);
    mqtt_st = SC_MQTT_DISCONNECTED;
    connect_ret = SC_OK;
    connects = 0;
    feed(&at, "AT+TCDEVINFOSET=1,\"PIDPSK0001\",\"dev-psk\",\"" PSK "\"\r\n");
    assert_string_equal(out, "OK\r\n+TCDEVINFOSET:OK\r\n");
    feed(&at, "AT+TCMQTTCONN=1,5000,240,1,0\r\n");
    assert_string_equal(out, "OK\r\n");
    assert_int_equal(connects, 1);
    assert_true(last_conn.tls);
    assert_int_equal(last_conn.port, 8883);
    assert_null(last_conn.ca_file);
    assert_int_equal(last_psk_len, 16);
    assert_memory_equal(last_psk, "1234567890123456", 16);   /* base64-decoded PSK */
    assert_string_equal(last_psk_id, "PIDPSK0001dev-psk");
    assert_string_equal(last_client, "PIDPSK0001dev-psk");
    mqtt_st = SC_MQTT_CONNECTED;
    reset();
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "+TCMQTTCONN:OK\r\n");
    feed(&at, "AT+TCMQTTDISCONN\r\n");
    mqtt_st = SC_MQTT_DISCONNECTED;

    feed(&at, "AT+TCMQTTCONN=0,5000,240,1,0\r\n");
    assert_string_equal(out, "OK\r\n");
    assert_int_equal(connects, 2);
    assert_false(last_conn.tls);
    assert_int_equal(last_conn.port, 1883);
    assert_null(last_conn.psk);
    assert_int_equal(last_psk_len, 0);
    mqtt_st = SC_MQTT_CONNECTED;
    sc_at_device_step(&b, clock_ms += 100);
    feed(&at, "AT+TCMQTTDISCONN\r\n");
    mqtt_st = SC_MQTT_DISCONNECTED;
    sc_at_device_step(&b, clock_ms += 100);
}

static void test_mqtt_session(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    mqtt_hal(&hal);
    hal.http.post = http_post;
    bind_at(&b, &at, &hal);
    mqtt_st = SC_MQTT_DISCONNECTED;

    /* dynamic registration over the HTTP HAL */
    feed(&at, "AT+TCPRDINFOSET=0,\"PIDDYN0001\",\"" PRODSEC "\",\"dev-dyn\"\r\n");
    assert_string_equal(out, "OK\r\n+TCPRDINFOSET:OK\r\n");
    feed(&at, "AT+TCDEVREG\r\n");
    assert_string_equal(out, "OK\r\n+TCDEVREG:OK\r\n");
    char want[160];
    snprintf(want, sizeof want, "+TCDEVINFOSET:0,\"PIDDYN0001\",\"dev-dyn\",%u,\"ap-guangzhou\"\r\nOK\r\n",
             sc_at_bcc(PSK));
    feed(&at, "AT+TCDEVINFOSET?\r\n");
    assert_string_equal(out, want);

    /* connect: plain (tls 0) to the default broker name, IoT Explorer credentials */
    feed(&at, "AT+TCMQTTCONN=0,5000,240,1,1\r\n");
    assert_string_equal(out, "OK\r\n");
    assert_int_equal(connects, 1);
    assert_string_equal(last_host, "PIDDYN0001.iotcloud.tencentdevices.com");
    assert_int_equal(last_conn.port, 1883);
    assert_false(last_conn.tls);
    assert_int_equal(last_conn.keepalive_s, 240);
    assert_string_equal(last_client, "PIDDYN0001dev-dyn");
    assert_int_equal(strncmp(last_user, "PIDDYN0001dev-dyn;21010406;", 27), 0);
    feed(&at, "AT\r\n");
    assert_string_equal(out, "busy p...\r\n");
    reset();
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "");
    mqtt_st = SC_MQTT_CONNECTED;
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "+TCMQTTCONN:OK\r\n");
    feed(&at, "AT+TCMQTTSTATE?\r\n");
    assert_string_equal(out, "+TCMQTTSTATE:1\r\nOK\r\n");
    feed(&at, "AT+TCMQTTCONN?\r\n");
    assert_string_equal(out, "+TCMQTTCONN:0,5000,240,1,1\r\nOK\r\n");

    /* a drop with reconnect on */
    reset();
    mqtt_st = SC_MQTT_DISCONNECTED;
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "+TCMQTTDISCON,-103\r\n+TCMQTTRECONNECTING\r\n");
    assert_int_equal(connects, 2);
    mqtt_st = SC_MQTT_CONNECTED;
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "+TCMQTTDISCON,-103\r\n+TCMQTTRECONNECTING\r\n+TCMQTTRECONNECTED\r\n");
    assert_true(sc_at_mqtt_task_running(&at));

    /* manual disconnect */
    feed(&at, "AT+TCMQTTDISCONN\r\n");
    assert_string_equal(out, "+TCMQTTDISCON,2\r\nOK\r\n");
    mqtt_st = SC_MQTT_DISCONNECTED;
    feed(&at, "AT+TCMQTTSTATE?\r\n");
    assert_string_equal(out, "+TCMQTTSTATE:0\r\nOK\r\n");

    /* refused by the broker: bad user name or password */
    feed(&at, "AT+TCMQTTCONN=0,5000,240,1,0\r\n");
    mqtt_st = SC_MQTT_FAILED;
    connack_reason = 4;
    reset();
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "+TCMQTTCONN:FAIL,-116\r\n");
    assert_false(sc_at_mqtt_task_running(&at));
    /* no answer within the command timeout */
    mqtt_st = SC_MQTT_DISCONNECTED;
    feed(&at, "AT+TCMQTTCONN=0,1000,240,1,0\r\n");
    reset();
    sc_at_device_step(&b, clock_ms += 999);
    assert_string_equal(out, "");
    sc_at_device_step(&b, clock_ms += 1);
    assert_string_equal(out, "+TCMQTTCONN:FAIL,-111\r\n");
    /* TCP connect fails at once */
    connect_ret = SC_ERR_IO;
    connack_reason = 111;
    feed(&at, "AT+TCMQTTCONN=1,5000,240,1,0\r\n");
    assert_string_equal(out, "OK\r\n+TCMQTTCONN:FAIL,-603\r\n");
    assert_true(last_conn.tls);
    assert_int_equal(last_conn.port, 8883);
    connect_ret = SC_OK;
    /* the binding keeps no credentials once the session is over */
    assert_null(memmem(&b, sizeof b, ";hmacsha", 8));        /* no MQTT password */
    assert_null(memmem(&b, sizeof b, PSK, strlen(PSK)));     /* no device secret */
}

/* A session that ends without a reconnect takes the host's subscriptions with it (AT+TCMQTTSUB?
 * is empty after it); the OTA task listened on a subscription of that session too. It said it
 * still listened (AT+TCOTASET? 1), and after AT+TCMQTTCONN nothing subscribed the update topic
 * again: an update pushed then never arrived, and nothing told the host (F57). */
static int ota_subs;
static sc_err_t o_sub(void *ctx, const char *topic, int qos)
{
    (void)ctx; (void)qos;
    assert_string_equal(topic, "$ota/update/PIDOTA0001/dev-ota");
    ota_subs++;
    return SC_OK;
}
static sc_err_t o_pub(void *ctx, const char *topic, const void *p, size_t n, int qos, int *mid)
{
    (void)ctx; (void)topic; (void)p; (void)n; (void)qos;
    *mid = 1;
    return SC_OK;
}

static void test_ota_ends_with_session(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    static sc_ota_t ota;
    mqtt_hal(&hal);
    hal.mqtt.subscribe = o_sub;
    hal.mqtt.publish = o_pub;
    bind_at(&b, &at, &hal);
    assert_int_equal(sc_at_device_attach_ota(&b, &ota, 65536), SC_OK);
    connect_ret = SC_OK;
    connack_reason = 0;
    mqtt_st = SC_MQTT_DISCONNECTED;
    feed(&at, "AT+TCDEVINFOSET=0,\"PIDOTA0001\",\"dev-ota\",\"" PSK "\"\r\n");
    assert_string_equal(out, "OK\r\n+TCDEVINFOSET:OK\r\n");
    feed(&at, "AT+TCMQTTCONN=0,5000,240,1,0\r\n");
    mqtt_st = SC_MQTT_CONNECTED;
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "OK\r\n+TCMQTTCONN:OK\r\n");
    /* a version AT+TCOTASET? and AT+TCFWINFO? could not print unambiguously: a quote or a
     * backslash (F54), a comma (F119: hosts split those lines at commas) */
    static const char *const badver[] = { "AT+TCOTASET=1,\"1\\,0\"\r\n", "AT+TCOTASET=1,\"1.0\\\"\"\r\n",
                                          "AT+TCOTASET=1,\"\\\\\"\r\n", "AT+TCOTASET=0,\",\"\r\n" };
    for (size_t i = 0; i < sizeof badver / sizeof badver[0]; i++) {
        feed(&at, badver[i]);
        assert_string_equal(out, "+CME ERROR:204\r\n");
    }
    assert_int_equal(ota_subs, 0);
    feed(&at, "AT+TCOTASET=1,\"1.0.0\"\r\n");
    assert_string_equal(out, "OK\r\n+TCOTASET:OK\r\n");
    assert_int_equal(ota_subs, 1);
    /* the broker drops the session; no reconnect asked for */
    reset();
    mqtt_st = SC_MQTT_DISCONNECTED;
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "+TCMQTTDISCON,-103\r\n");
    feed(&at, "AT+TCMQTTSUB?\r\n");
    assert_string_equal(out, "OK\r\n");
    feed(&at, "AT+TCOTASET?\r\n");
    assert_string_equal(out, "OK\r\n+TCOTASET:0,\"1.0.0\"\r\n");   /* was 1: listening on nothing */
    /* a new session: the host enables OTA again, which subscribes the topic in it */
    feed(&at, "AT+TCMQTTCONN=0,5000,240,1,0\r\n");
    mqtt_st = SC_MQTT_CONNECTED;
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "OK\r\n+TCMQTTCONN:OK\r\n");
    feed(&at, "AT+TCOTASET=1,\"1.0.0\"\r\n");
    assert_string_equal(out, "OK\r\n+TCOTASET:OK\r\n");
    assert_int_equal(ota_subs, 2);
    feed(&at, "AT+TCMQTTDISCONN\r\n");
    mqtt_st = SC_MQTT_DISCONNECTED;
}

/* What the broker hands the AT session (F102, F103): a message the HAL kept only the start of
 * (over sc_mqtt_msg_t's 1024 bytes) is not printed as if whole, nor is one on a topic the host
 * could not read back as sent; both are counted in one warning line (at most every 10 s), the
 * good message between them still arrives. */
static sc_mqtt_msg_t rq[24];
static size_t rq_n, rq_at;
static char logs[2048];
static sc_err_t r_sub(void *ctx, const char *topic, int qos)
{
    (void)ctx; (void)topic; (void)qos;
    return SC_OK;
}
static sc_err_t r_poll(void *ctx, sc_mqtt_msg_t *m)
{
    (void)ctx;
    if (rq_at == rq_n)
        return SC_ERR_AGAIN;
    *m = rq[rq_at++];
    return SC_OK;
}
static void r_log(void *ctx, sc_log_level_t lv, const char *line)
{
    (void)ctx;
    size_t n = strlen(logs);
    snprintf(logs + n, sizeof logs - n, "%d %s\n", (int)lv, line);
}
static void r_push(const char *topic, const char *payload, size_t len, bool cut)
{
    sc_mqtt_msg_t *m = &rq[rq_n++];
    memset(m, 0, sizeof *m);
    snprintf(m->topic, sizeof m->topic, "%s", topic);
    memcpy(m->payload, payload, len);
    m->payload_len = len;
    m->truncated = cut;
}
/* A whole message from the port, with the order stamp it came in with (hal.h) */
static void r_push_at(const char *topic, const char *payload, uint32_t order)
{
    r_push(topic, payload, strlen(payload), false);
    rq[rq_n - 1].order = order;
}

/* The MQTT data tests' HAL: mqtt_hal's session, SUB through sub_req/status, messages from poll,
 * the log to logs[] */
static void msg_hal(sc_hal_t *hal, sc_err_t (*sub_req)(void *, const char *, int, int *),
                    sc_err_t (*status)(void *, int), sc_err_t (*poll)(void *, sc_mqtt_msg_t *))
{
    mqtt_hal(hal);
    hal->mqtt.subscribe_req = sub_req;
    hal->mqtt.request_status = status;
    hal->mqtt.poll = poll;
    hal->sys.log = r_log;
}

/* session_up's CONN line: 5 s command timeout, reconnect on or off */
#define CONN_LINE(reconnect) \
    ((reconnect) ? "AT+TCMQTTCONN=0,5000,240,1,1\r\n" : "AT+TCMQTTCONN=0,5000,240,1,0\r\n")

/* AT+TCMQTTSUB of topic at qos, answered exactly want (the port's queue emptied first) */
static void sub_says(sc_at_t *at, const char *topic, int qos, const char *want)
{
    char line[128];
    snprintf(line, sizeof line, "AT+TCMQTTSUB=\"%s\",%d\r\n", topic, qos);
    rq_n = rq_at = 0;
    feed(at, line);
    assert_string_equal(out, want);
}

/* One binding step dt ms on: it prints exactly want */
static void step_says(sc_at_device_t *b, uint32_t dt, const char *want)
{
    reset();
    sc_at_device_step(b, clock_ms += dt);
    assert_string_equal(out, want);
}

/* The host ends the session (the tests' HAL then says so) */
static void session_down(sc_at_t *at)
{
    feed(at, "AT+TCMQTTDISCONN\r\n");
    mqtt_st = SC_MQTT_DISCONNECTED;
}

static void test_received_not_printable(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    msg_hal(&hal, NULL, NULL, r_poll);
    hal.mqtt.subscribe = r_sub;
    session_up(&b, &at, &hal, "PIDRCV0001", CONN_LINE(0), false);
    sub_says(&at, "PIDRCV0001/dev/#", 0, "OK\r\n+TCMQTTSUB:OK\r\n");
    static char big[1024];
    memset(big, 'A', sizeof big);
    big[0] = '{';
    rq_n = rq_at = 0;
    logs[0] = 0;
    r_push("PIDRCV0001/dev/data", big, sizeof big, true);                     /* cut by the HAL */
    r_push("PIDRCV0001/dev/x\r\nOK\r\n+TCMQTTDISCON,-103", "hi", 2, false);  /* whole lines */
    r_push("PIDRCV0001/dev/data", "ok", 2, false);
    r_push("PIDRCV0001/dev/x\",2,\"hi", "zz", 2, false);                       /* a fake length */
    reset();
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "+TCMQTTRCVPUB:\"PIDRCV0001/dev/data\",2,\"ok\"\r\n");
    assert_string_equal(logs, "1 AT: 1 messages over 1024 bytes, 2 on a topic not subscribed or with a quote, comma or "
                              "control byte: not printed as +TCMQTTRCVPUB (1, 2 in all)\n");
    /* more within 10 s: counted, said once the 10 s are over */
    rq_n = rq_at = 0;
    logs[0] = 0;
    r_push("PIDRCV0001/dev/,", "x", 1, false);
    reset();
    sc_at_device_step(&b, clock_ms += 9000);
    assert_string_equal(out, "");
    assert_string_equal(logs, "");
    sc_at_device_step(&b, clock_ms += 1000);
    assert_string_equal(logs, "1 AT: 0 messages over 1024 bytes, 1 on a topic not subscribed or with a quote, comma or "
                              "control byte: not printed as +TCMQTTRCVPUB (1, 3 in all)\n");
    /* nothing new: nothing said */
    logs[0] = 0;
    sc_at_device_step(&b, clock_ms += 20000);
    assert_string_equal(logs, "");
    /* F109: after a quiet spell of over 24.8 days (2^31 ms) the next drop is said at once (a
     * deadline read then looked 24.8 days away: the warning stayed unsaid that long) */
    clock_ms += 0x80000000u;
    r_push("PIDRCV0001/dev/\"", "x", 1, false);
    reset();
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(logs, "1 AT: 0 messages over 1024 bytes, 1 on a topic not subscribed or with a quote, comma or "
                              "control byte: not printed as +TCMQTTRCVPUB (1, 4 in all)\n");
    /* one more within the 10 s, then the session ends: said then, so the session's last
     * warning holds its totals (it stayed unsaid till the next drop 10 s on) */
    r_push("PIDRCV0001/dev/,", "x", 1, false);
    logs[0] = 0;
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(logs, "");
    feed(&at, "AT+TCMQTTDISCONN\r\n");
    mqtt_st = SC_MQTT_DISCONNECTED;
    assert_string_equal(logs, "1 AT: 0 messages over 1024 bytes, 1 on a topic not subscribed or with a quote, comma or "
                              "control byte: not printed as +TCMQTTRCVPUB (1, 5 in all)\n");
}

/* A SUB's topic delivers from its SUBACK on (the SDK adds the handler then). The port's client
 * runs beside the binding: the SUBACK and the retained message right after it may both come in
 * between the binding's question for the SUBACK and its read of the messages. Granted: the
 * host reads +TCMQTTSUB:OK, then the message (before, the message came first); refused (0x80):
 * FAIL and the message not printed (before, printed). */
static int rs_calls, rs_mid;
static sc_err_t rs_answer, rs_state;
static sc_err_t rs_sub_req(void *ctx, const char *topic, int qos, int *mid)
{
    (void)ctx; (void)topic; (void)qos;
    *mid = ++rs_mid;
    rs_calls = 0;
    rs_state = SC_ERR_AGAIN;
    return SC_OK;
}
static sc_err_t rs_status(void *ctx, int mid)
{
    (void)ctx;
    assert_int_equal(mid, rs_mid);
    if (rs_calls++ == 0) {
        /* just after this answer the client receives the SUBACK, then a retained message */
        rs_state = rs_answer;
        r_push("PIDRCV0001/dev/r", "old", 3, false);
        return SC_ERR_AGAIN;
    }
    return rs_state;
}

static void test_sub_delivers_from_suback(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    msg_hal(&hal, rs_sub_req, rs_status, r_poll);
    session_up(&b, &at, &hal, "PIDRCV0001", CONN_LINE(0), false);
    rs_answer = SC_ERR_REFUSED;
    sub_says(&at, "PIDRCV0001/dev/r", 1, "OK\r\n");
    step_says(&b, 5, "+TCMQTTSUB:FAIL,-108\r\n");
    rs_answer = SC_OK;
    sub_says(&at, "PIDRCV0001/dev/r", 1, "OK\r\n");
    step_says(&b, 5, "+TCMQTTSUB:OK\r\n+TCMQTTRCVPUB:\"PIDRCV0001/dev/r\",3,\"old\"\r\n");
    session_down(&at);
}

/* F153: a message the broker sent before its SUBACK is not the host's, even when the port has
 * taken in both before the binding looks (one TCP read): the order stamps (hal.h) say it came
 * first. Before, the binding saw the SUBACK, granted the topic, then read the earlier message
 * and printed it. Two ways in: the SUBACK already in when the step asks for it, and the
 * SUBACK coming in between the step's question and its read of the queue. The message after
 * the SUBACK is printed, after +TCMQTTSUB:OK. */
static int os_mid, os_calls, os_late;
static uint32_t os_order;   /* the SUBACK's stamp once it is in, else 0 */
static sc_err_t os_sub_req(void *ctx, const char *topic, int qos, int *mid)
{
    (void)ctx; (void)topic; (void)qos;
    *mid = ++os_mid;
    os_calls = 0;
    os_order = 0;
    return SC_OK;
}
static void os_wire(void)
{
    /* PUBLISH #7 "early", SUBACK #8, PUBLISH #9 "late": one read of the port's client */
    r_push_at("PIDORD0001/dev/o", "early", 7);
    os_order = 8;
    r_push_at("PIDORD0001/dev/o", "late", 9);
}
static sc_err_t os_status(void *ctx, int mid)
{
    (void)ctx;
    assert_int_equal(mid, os_mid);
    if (os_calls++ == 0 && os_late) {
        os_wire();   /* in just after this answer */
        return SC_ERR_AGAIN;
    }
    return os_order ? SC_OK : SC_ERR_AGAIN;
}
static uint32_t os_req_order(void *ctx, int mid)
{
    (void)ctx;
    return mid == os_mid ? os_order : 0;
}

static void test_sub_message_before_suback(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    msg_hal(&hal, os_sub_req, os_status, r_poll);
    hal.mqtt.request_order = os_req_order;
    for (os_late = 0; os_late <= 1; os_late++) {
        session_up(&b, &at, &hal, "PIDORD0001", CONN_LINE(0), false);
        sub_says(&at, "PIDORD0001/dev/o", 0, "OK\r\n");
        if (!os_late)
            os_wire();
        step_says(&b, 5, "+TCMQTTSUB:OK\r\n+TCMQTTRCVPUB:\"PIDORD0001/dev/o\",4,\"late\"\r\n");
        session_down(&at);
    }
}

/* F154: a message the broker sent before the PUBACK of the host's QoS 1 publish is printed before
 * +TCMQTTPUB:OK, one after it after, when the port took in all three at once: the SDK reads
 * them in the wire's order. Before, the PUBACK was looked at first: OK, then both messages. */
static bool pa_in;
static sc_err_t pa_pub(void *ctx, const char *topic, const void *p, size_t len, int qos, int *mid)
{
    (void)ctx; (void)topic; (void)p; (void)len; (void)qos;
    *mid = 41;
    pa_in = false;
    return SC_OK;
}
static bool pa_puback(void *ctx, int mid)
{
    (void)ctx;
    return pa_in && mid == 41;
}
static uint32_t pa_order(void *ctx, int mid)
{
    (void)ctx;
    return pa_in && mid == 41 ? 12 : 0;
}

static void test_pub_message_before_puback(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    mqtt_hal(&hal);
    hal.mqtt.subscribe = r_sub;
    hal.mqtt.publish = pa_pub;
    hal.mqtt.puback_received = pa_puback;
    hal.mqtt.request_order = pa_order;
    hal.mqtt.poll = r_poll;
    session_up(&b, &at, &hal, "PIDPUBA001", CONN_LINE(0), false);
    sub_says(&at, "PIDPUBA001/dev/#", 0, "OK\r\n+TCMQTTSUB:OK\r\n");
    feed(&at, "AT+TCMQTTPUB=\"PIDPUBA001/dev/up\",1,\"x\"\r\n");
    assert_string_equal(out, "OK\r\n");
    r_push_at("PIDPUBA001/dev/a", "before", 11);
    pa_in = true;   /* stamp 12 */
    r_push_at("PIDPUBA001/dev/a", "after", 13);
    step_says(&b, 5, "+TCMQTTRCVPUB:\"PIDPUBA001/dev/a\",6,\"before\"\r\n+TCMQTTPUB:OK\r\n"
                     "+TCMQTTRCVPUB:\"PIDPUBA001/dev/a\",5,\"after\"\r\n");
    session_down(&at);
}

/* F125: what the port received before the link went reaches the host before +TCMQTTDISCON, in
 * the wire's order: the SUBACK a SUB waits for (granted: +TCMQTTSUB:OK, and the topic is asked
 * for again after the reconnect), then the messages, more than one step reads. Before, the
 * drop was handled first: the SUB ended FAIL,-103 and the messages were lost (the reconnect's
 * connect empties the port's queue; without a reconnect the subscriptions ended first). */
static int dq_mid, dq_subs;
static sc_err_t dq_state;
static char dq_last[64];
static sc_err_t dq_sub_req(void *ctx, const char *topic, int qos, int *mid)
{
    (void)ctx; (void)qos;
    *mid = ++dq_mid;
    dq_subs++;
    snprintf(dq_last, sizeof dq_last, "%s", topic);
    return SC_OK;
}
static sc_err_t dq_status(void *ctx, int mid)
{
    (void)ctx;
    return mid == dq_mid ? dq_state : SC_ERR_NOTFOUND;
}

static void test_drop_delivers_what_came_before(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    msg_hal(&hal, dq_sub_req, dq_status, r_poll);
    for (int reconnect = 0; reconnect <= 1; reconnect++) {
        session_up(&b, &at, &hal, "PIDDRP0001", CONN_LINE(reconnect), false);
        dq_state = SC_ERR_AGAIN;
        sub_says(&at, "PIDDRP0001/dev/a", 0, "OK\r\n");
        step_says(&b, 5, "");
        /* the SUBACK, 20 messages, then the broker closes: all in before the next step */
        dq_state = SC_OK;
        for (int i = 0; i < 20; i++) {
            char pl[8];
            snprintf(pl, sizeof pl, "m%02d", i);
            r_push("PIDDRP0001/dev/a", pl, 3, false);
        }
        mqtt_st = SC_MQTT_FAILED;
        int subs = dq_subs;
        char want[2048] = "+TCMQTTSUB:OK\r\n";
        for (int i = 0; i < 20; i++) {
            size_t n = strlen(want);
            snprintf(want + n, sizeof want - n, "+TCMQTTRCVPUB:\"PIDDRP0001/dev/a\",3,\"m%02d\"\r\n", i);
        }
        strcat(want, reconnect ? "+TCMQTTDISCON,-103\r\n+TCMQTTRECONNECTING\r\n" : "+TCMQTTDISCON,-103\r\n");
        step_says(&b, 5, want);
        if (reconnect) {
            /* back: the granted topic is asked for again */
            mqtt_st = SC_MQTT_CONNECTED;
            step_says(&b, 100, "+TCMQTTRECONNECTED\r\n");
            assert_int_equal(dq_subs, subs + 1);
            assert_string_equal(dq_last, "PIDDRP0001/dev/a");
            feed(&at, "AT+TCMQTTSUB?\r\n");
            assert_string_equal(out, "+TCMQTTSUB:\"PIDDRP0001/dev/a\",0\r\nOK\r\n");
            feed(&at, "AT+TCMQTTDISCONN\r\n");
        }
        mqtt_st = SC_MQTT_DISCONNECTED;
    }
}

/* F158: the link drops with more messages stamped before the SUBACK than the drop's rounds read
 * (8 x 8 = 64, the POSIX port's queue): the SUBACK came before the drop all the same, so
 * +TCMQTTSUB:OK comes before +TCMQTTDISCON, and a session that ends (no reconnect) leaves no
 * subscription behind. Before, the held answer completed after the session's end: DISCON, then
 * SUB:OK, and AT+TCMQTTSUB? listed a topic of a session gone. */
static int fl_left;
static uint32_t fl_order;
static sc_err_t fl_poll(void *ctx, sc_mqtt_msg_t *m)
{
    (void)ctx;
    if (fl_left == 0)
        return SC_ERR_AGAIN;
    fl_left--;
    memset(m, 0, sizeof *m);
    snprintf(m->topic, sizeof m->topic, "PIDFLD0001/dev/other");   /* not subscribed: not printed */
    memcpy(m->payload, "x", 1);
    m->payload_len = 1;
    m->order = ++fl_order;
    return SC_OK;
}
static uint32_t fl_req_order(void *ctx, int mid)
{
    (void)ctx;
    return mid == dq_mid && dq_state != SC_ERR_AGAIN ? 1000u : 0u;   /* after every message */
}

static void test_drop_answer_after_flood(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    msg_hal(&hal, dq_sub_req, dq_status, fl_poll);
    hal.mqtt.request_order = fl_req_order;
    for (int reconnect = 0; reconnect <= 1; reconnect++) {
        session_up(&b, &at, &hal, "PIDFLD0001", CONN_LINE(reconnect), false);
        dq_state = SC_ERR_AGAIN;
        fl_left = 0;
        sub_says(&at, "PIDFLD0001/dev/a", 0, "OK\r\n");
        /* 64 messages, then the SUBACK, then the broker closes: all in before the next step */
        fl_order = 0;
        fl_left = 64;
        dq_state = SC_OK;
        mqtt_st = SC_MQTT_FAILED;
        step_says(&b, 5, reconnect ? "+TCMQTTSUB:OK\r\n+TCMQTTDISCON,-103\r\n+TCMQTTRECONNECTING\r\n"
                                   : "+TCMQTTSUB:OK\r\n+TCMQTTDISCON,-103\r\n");
        if (!reconnect) {
            feed(&at, "AT+TCMQTTSUB?\r\n");
            assert_string_equal(out, "OK\r\n");   /* the session's subscriptions ended with it */
        } else {
            mqtt_st = SC_MQTT_CONNECTED;
            reset();
            sc_at_device_step(&b, clock_ms += 100);
            feed(&at, "AT+TCMQTTSUB?\r\n");
            assert_string_equal(out, "+TCMQTTSUB:\"PIDFLD0001/dev/a\",0\r\nOK\r\n");
            feed(&at, "AT+TCMQTTDISCONN\r\n");
        }
        mqtt_st = SC_MQTT_DISCONNECTED;
    }
}

/* F126: a PUBACK or SUBACK that comes after AT gave up on it (FAIL,202 at <cmdtimeout>) belongs
 * to no command: it completed whatever AT waited for next, an AT+CWJAP still joining printed
 * "WIFI CONNECTED ... OK"; a drop then ended the join "+CWJAP:4 FAIL". */
static sc_sta_status_t lj_st = SC_STA_CONNECTING;
static sc_sta_status_t lj_status(void *ctx, sc_sta_reason_t *r)
{
    (void)ctx;
    if (r)
        *r = SC_STA_REASON_NONE;
    return lj_st;
}

/* feed() at this test's clock: the AT core's deadlines count from it */
static void feed_now(sc_at_t *at, const char *s)
{
    reset();
    sc_at_feed(at, s, strlen(s), clock_ms);
}

static void test_late_answer_completes_nothing(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    mqtt_hal(&hal);
    hal.mqtt.subscribe_req = dq_sub_req;
    hal.mqtt.request_status = dq_status;
    hal.mqtt.poll = r_poll;
    hal.station.join = st_join;
    hal.station.status = lj_status;
    rq_n = rq_at = 0;
    session_up(&b, &at, &hal, "PIDLATE001", "AT+TCMQTTCONN=0,1000,240,1,0\r\n", true);
    dq_state = SC_ERR_AGAIN;
    feed_now(&at, "AT+TCMQTTSUB=\"PIDLATE001/dev/a\",0\r\n");
    assert_string_equal(out, "OK\r\n");
    sc_at_device_step(&b, clock_ms += 500);
    reset();
    sc_at_tick(&at, clock_ms += 600);
    assert_string_equal(out, "+TCMQTTSUB:FAIL,202\r\n");
    feed_now(&at, "AT+CWJAP=\"ap\",\"password1\"\r\n");
    assert_string_equal(out, "");
    dq_state = SC_OK;   /* the SUBACK, late */
    sc_at_device_step(&b, clock_ms += 5);
    assert_string_equal(out, "");
    mqtt_st = SC_MQTT_FAILED;   /* and the link goes */
    sc_at_device_step(&b, clock_ms += 5);
    assert_string_equal(out, "+TCMQTTDISCON,-103\r\n");
    /* the join still waits, and ends with its own outcome */
    feed_now(&at, "AT\r\n");
    assert_string_equal(out, "busy p...\r\n");
    lj_st = SC_STA_GOT_IP;
    sc_at_device_step(&b, clock_ms += 5);
    assert_string_equal(out, "busy p...\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\nOK\r\n");
    lj_st = SC_STA_CONNECTING;
    mqtt_st = SC_MQTT_DISCONNECTED;
}

/* AT+TCDEVREG with the HAL's non-blocking POST: the line answers "busy p..." while the
 * exchange runs; the answer arrives through sc_at_device_step; a port that never answers is
 * cut at the binding's own bound (-11); when the AT core's deadline comes first, AT+RST
 * cancels the exchange; nothing secret stays behind. */
static int posts, polls, cancels;
static bool post_ready;
static sc_err_t post_result;
static sc_err_t hp_start(void *ctx, const char *url, const char *ct, const void *body, size_t len, uint32_t to)
{
    (void)ctx; (void)ct;
    assert_string_equal(url, "http://127.0.0.1:1/register/dev");
    assert_int_equal(to, SC_BINDER_DYNREG_TIMEOUT_MS);
    assert_non_null(memmem(body, len, "\"productId\":\"PIDDYN0001\"", 24));
    posts++;
    post_ready = false;
    return SC_OK;
}
static sc_err_t hp_poll(void *ctx, int *status, char *resp, size_t cap, size_t *rlen)
{
    (void)ctx;
    polls++;
    if (!post_ready)
        return SC_ERR_AGAIN;
    if (post_result != SC_OK)
        return post_result;
    *status = 200;
    assert_int_equal(sc_cloud_dynreg_response(PRODSEC, PSK, resp, cap, rlen), SC_OK);
    return SC_OK;
}
static void hp_cancel(void *ctx)
{
    (void)ctx;
    cancels++;
}

static void test_dynreg_async(void **state)
{
    (void)state;
    static sc_at_device_t b;
    static sc_at_t at;
    static sc_hal_t hal;
    memset(&hal, 0, sizeof hal);
    hal.sys.random = rnd;
    hal.sys.unix_time = unix_time;
    hal.sys.now_ms = now_ms;
    hal.http.post = http_post;   /* never called: the non-blocking pair is there */
    hal.http.post_start = hp_start;
    hal.http.post_poll = hp_poll;
    hal.http.post_cancel = hp_cancel;
    bind_at(&b, &at, &hal);
    clock_ms = 5000;
    sc_at_tick(&at, clock_ms);

    feed(&at, "AT+TCPRDINFOSET=0,\"PIDDYN0001\",\"" PRODSEC "\",\"dev-dyn\"\r\n");
    feed(&at, "AT+TCDEVREG\r\n");
    assert_string_equal(out, "OK\r\n");
    assert_int_equal(posts, 1);
    assert_true(sc_at_device_registering(&b));
    feed(&at, "AT+GMR\r\n");
    assert_string_equal(out, "busy p...\r\n");
    feed(&at, "AT+TCDEVREG\r\n");
    assert_string_equal(out, "busy p...\r\n");
    assert_int_equal(posts, 1);
    reset();
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "");
    post_ready = true;
    post_result = SC_OK;
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "+TCDEVREG:OK\r\n");
    assert_false(sc_at_device_registering(&b));
    char want[160];
    snprintf(want, sizeof want, "+TCDEVINFOSET:0,\"PIDDYN0001\",\"dev-dyn\",%u,\"ap-guangzhou\"\r\nOK\r\n",
             sc_at_bcc(PSK));
    feed(&at, "AT+TCDEVINFOSET?\r\n");
    assert_string_equal(out, want);

    /* the transport's timeout is the reference's -11 */
    feed(&at, "AT+TCDEVREG\r\n");
    post_ready = true;
    post_result = SC_ERR_TIMEOUT;
    reset();
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "+TCDEVREG:FAIL,-11\r\n");
    /* a port that never answers: cut 1 s past the HTTP bound, also -11 */
    feed(&at, "AT+TCDEVREG\r\n");
    reset();
    sc_at_device_step(&b, clock_ms += SC_BINDER_DYNREG_TIMEOUT_MS);
    sc_at_tick(&at, clock_ms);
    assert_string_equal(out, "");
    sc_at_device_step(&b, clock_ms += 1000);
    assert_string_equal(out, "+TCDEVREG:FAIL,-11\r\n");
    assert_false(sc_at_device_registering(&b));
    /* a refused connection */
    feed(&at, "AT+TCDEVREG\r\n");
    post_ready = true;
    post_result = SC_ERR_IO;
    reset();
    sc_at_device_step(&b, clock_ms += 10);
    assert_string_equal(out, "+TCDEVREG:FAIL,-603\r\n");

    /* the AT core's own deadline first (202), then AT+RST abandons the exchange */
    feed(&at, "AT+TCDEVREG\r\n");
    post_ready = false;
    reset();
    sc_at_tick(&at, clock_ms += 30000);
    assert_string_equal(out, "+TCDEVREG:FAIL,202\r\n");
    assert_true(sc_at_device_registering(&b));
    int c0 = cancels;
    feed(&at, "AT+RST\r\n");
    assert_false(sc_at_device_registering(&b));
    assert_true(cancels > c0);
    post_ready = true;
    post_result = SC_OK;
    reset();
    sc_at_device_step(&b, clock_ms += 100);
    assert_string_equal(out, "");   /* nothing is polled any more */

    /* no product or device secret kept in the binding */
    assert_null(memmem(&b, sizeof b, PRODSEC, strlen(PRODSEC)));
    assert_null(memmem(&b, sizeof b, PSK, strlen(PSK)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_to_urcs),
        cmocka_unit_test(test_log_softap_down_for_a_new_flow),
        cmocka_unit_test(test_no_device),
        cmocka_unit_test(test_mqtt_session),
        cmocka_unit_test(test_mqtt_tls_psk),
        cmocka_unit_test(test_ota_ends_with_session),
        cmocka_unit_test(test_dynreg_async),
        cmocka_unit_test(test_received_not_printable),
        cmocka_unit_test(test_sub_delivers_from_suback),
        cmocka_unit_test(test_sub_message_before_suback),
        cmocka_unit_test(test_pub_message_before_puback),
        cmocka_unit_test(test_drop_delivers_what_came_before),
        cmocka_unit_test(test_drop_answer_after_flood),
        cmocka_unit_test(test_late_answer_completes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
