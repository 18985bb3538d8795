/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: the device's cloud parsers fed by the network - down-topic messages (alone and
 * through the bind machine over a fake MQTT HAL, split at 0x00 bytes into several messages)
 * and the dynamic-registration response. Checks no crash, no hang, and that the binder
 * finishes only as DONE or FAILED within its budget. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smartcfg/binder.h"
#include "smartcfg/cloud.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in;
static size_t in_len, in_pos;
static uint32_t now;
static char client_token[SC_CLOUD_CLIENT_TOKEN_SIZE];

static sc_err_t f_connect(void *c, const sc_mqtt_connect_t *p) { (void)c; (void)p; return SC_OK; }
static sc_mqtt_state_t f_state(void *c, int *r) { (void)c; *r = 0; return SC_MQTT_CONNECTED; }
static sc_err_t f_sub(void *c, const char *t, int q) { (void)c; (void)t; (void)q; return SC_OK; }
static sc_err_t f_pub(void *c, const char *t, const void *p, size_t n, int q, int *mid)
{
    (void)c; (void)t; (void)q;
    sc_cloud_msg_t m;
    if (sc_cloud_parse_msg(p, n, &m) == SC_OK)
        memcpy(client_token, m.client_token, sizeof client_token);
    *mid = 1;
    return SC_OK;
}
static bool f_ack(void *c, int mid) { (void)c; return mid == 1; }
static sc_err_t f_poll(void *c, sc_mqtt_msg_t *msg)
{
    (void)c;
    if (in_pos >= in_len)
        return SC_ERR_AGAIN;
    size_t end = in_pos;
    while (end < in_len && in[end] != 0)
        end++;
    memset(msg, 0, sizeof *msg);
    strcpy(msg->topic, "$thing/down/service/PRODUCT001/dev");
    size_t n = end - in_pos;
    if (n > sizeof msg->payload) {
        n = sizeof msg->payload;
        msg->truncated = true;
    }
    memcpy(msg->payload, in + in_pos, n);
    /* an "@" in the input becomes the real clientToken, so the matching-reply paths run too */
    char *mt = memchr(msg->payload, '@', n);
    if (mt != NULL && n + strlen(client_token) < sizeof msg->payload) {
        size_t off = (size_t)(mt - (char *)msg->payload), ctl = strlen(client_token);
        memmove(mt + ctl, mt + 1, n - off - 1);
        memcpy(mt, client_token, ctl);
        n = n - 1 + ctl;
    }
    msg->payload_len = n;
    in_pos = end + 1;
    return SC_OK;
}
static sc_err_t f_disc(void *c) { (void)c; return SC_OK; }
static uint64_t f_unix(void *c) { (void)c; return 1700000000u; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_cloud_msg_t m;
    sc_cloud_parse_msg(data, size, &m);
    char psk[64];
    int32_t code;
    sc_cloud_dynreg_decode("productsecret0123456789", data, size, psk, sizeof psk, &code);

    static sc_hal_t hal;
    memset(&hal, 0, sizeof hal);
    hal.sys.unix_time = f_unix;
    hal.mqtt = (sc_hal_mqtt_t){ NULL, f_connect, f_state, f_sub, f_pub, f_ack, f_poll, f_disc, NULL, NULL, NULL, NULL };
    sc_identity_t id;
    memset(&id, 0, sizeof id);
    strcpy(id.product_id, "PRODUCT001");
    strcpy(id.device_name, "dev");
    strcpy(id.device_secret, "MDEyMzQ1Njc4OWFiY2RlZg==");
    in = data;
    in_len = size;
    in_pos = 0;
    now = 5;
    static sc_binder_t b;
    /* odd sizes run the bind_device_query variant of the machine */
    sc_err_t rc = (size & 1) ? sc_binder_query_start(&b, &hal, NULL, &id, now)
                             : sc_binder_start(&b, &hal, NULL, &id, "token", now);
    if (rc != SC_OK)
        abort();
    uint16_t e;
    int32_t s;
    sc_binder_status_t st = SC_BINDER_PENDING;
    for (int i = 0; i < 400 && st == SC_BINDER_PENDING; i++, now += 100)
        st = sc_binder_step(&b, now, &e, &s);
    if (st == SC_BINDER_PENDING)
        abort();   /* must end within its 30 s budget */
    sc_binder_abort(&b);
    return 0;
}
