/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: arbitrary bytes on the AT line, split at arbitrary points, with every op present
 * (succeeding, failing or pending) and an in-memory storage. Checks that nothing crashes, that
 * every reply is whole "\r\n"-terminated lines and that the stored secret never comes back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smartcfg/at.h"

static uint8_t rec[2][SC_AT_RECORD_SIZE];
static size_t reclen[2];
static int mode;  /* from the input: what the ops return */
static char outbuf[1 << 16];
static size_t outlen;

static int slot(const char *key) { return strcmp(key, "devinfo") ? 1 : 0; }
static sc_err_t st_get(void *c, const char *k, void *b, size_t cap, size_t *len)
{
    (void)c;
    int s = slot(k);
    if (!reclen[s])
        return SC_ERR_NOTFOUND;
    if (reclen[s] > cap)
        return SC_ERR_NOSPACE;
    memcpy(b, rec[s], reclen[s]);
    *len = reclen[s];
    return SC_OK;
}
static sc_err_t st_put(void *c, const char *k, const void *b, size_t len)
{
    (void)c;
    if (mode & 8)
        return SC_ERR_IO;
    int s = slot(k);
    memcpy(rec[s], b, len);
    reclen[s] = len;
    return SC_OK;
}
static sc_err_t st_erase(void *c, const char *k) { (void)c; reclen[slot(k)] = 0; return SC_OK; }

static int ret(void) { return (mode & 3) == 0 ? 0 : (mode & 3) == 1 ? 13 : SC_AT_PENDING; }
static int o_start(void *c, const sc_identity_t *id, uint8_t t) { (void)c; (void)id; (void)t; return ret(); }
static void o_stop(void *c) { (void)c; }
static int o_sap(void *c, const sc_identity_t *id, uint8_t t, const char *s, const char *p, uint8_t ch)
{ (void)c; (void)id; (void)t; (void)s; (void)p; (void)ch; return ret(); }
static int o_conn(void *c, const sc_identity_t *id, const sc_at_mqtt_params_t *p) { (void)c; (void)id; (void)p; return ret(); }
static int o_state(void *c) { (void)c; return mode & 4 ? 1 : 0; }
static int o_disc(void *c) { (void)c; return mode & 4 ? -103 : 0; }
static int o_dynreg(void *c, sc_identity_t *id) { (void)c; strcpy(id->device_secret, "ZHluc2VjcmV0"); return ret(); }

static int o_pub(void *c, const char *t, int q, const void *p, size_t n) { (void)c; (void)t; (void)q; (void)p; (void)n; return ret(); }
static int o_sub(void *c, const char *t, int q) { (void)c; (void)t; (void)q; return ret(); }
static int o_unsub(void *c, const char *t) { (void)c; (void)t; return ret(); }
static int o_join(void *c, const char *s, const char *p) { (void)c; (void)s; (void)p; return ret(); }
static void o_quit(void *c) { (void)c; }
static sc_err_t o_info(void *c, sc_at_wifi_info_t *w)
{
    (void)c;
    if (!(mode & 4))
        return SC_ERR_STATE;
    w->joined = true;
    memcpy(w->ssid, "ap", 3);
    return SC_OK;
}
static sc_err_t o_uart(void *c, uint32_t b, uint8_t d, uint8_t s, uint8_t p, uint8_t f)
{ (void)c; (void)b; (void)d; (void)s; (void)p; (void)f; return mode & 8 ? SC_ERR_UNSUPPORTED : SC_OK; }

static void out(void *u, const char *d, size_t n)
{
    (void)u;
    if (outlen + n > sizeof outbuf)
        outlen = 0;   /* only the tail matters for the checks */
    memcpy(outbuf + outlen, d, n);
    outlen += n;
}

/* After each feed: the output is whole lines, and a stored secret never came back (unless the
 * input itself carries it, which the echo may reflect). */
static void check(const uint8_t *in, size_t inlen)
{
    if (outlen && (outlen < 2 || outbuf[outlen - 2] != '\r' || outbuf[outlen - 1] != '\n'))
        abort();
    static const char *const secrets[] = { "FUZZSECRETxyz", "ZHluc2VjcmV0" };
    for (int i = 0; i < 2; i++) {
        size_t sl = strlen(secrets[i]);
        if (memmem(outbuf, outlen, secrets[i], sl) && !memmem(in, inlen, secrets[i], sl))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    mode = data[0];
    size_t split = data[1];
    data += 2;
    size -= 2;
    memset(reclen, 0, sizeof reclen);
    static sc_at_t at;
    sc_hal_storage_t st = { .get = st_get, .put = st_put, .erase = st_erase };
    sc_at_config_t cfg;
    sc_at_config_default(&cfg);
    cfg.output = out;
    cfg.storage = &st;
    cfg.echo = false;   /* the echo reflects the input itself */
    sc_at_ops_t ops = { .start_smartconfig = o_start, .stop_smartconfig = o_stop, .start_softap = o_sap,
                        .stop_softap = o_stop, .mqtt_connect = o_conn, .mqtt_state = o_state,
                        .mqtt_publish = o_pub, .mqtt_subscribe = o_sub, .mqtt_unsubscribe = o_unsub,
                        .wifi_join = o_join, .wifi_quit = o_quit, .wifi_info = o_info, .reset = o_quit,
                        .set_uart = o_uart,
                        .mqtt_disconnect = o_disc, .dynreg = o_dynreg };
    sc_at_init(&at, &cfg, &ops);
    static const char setup[] = "AT+TCDEVINFOSET=1,\"P\",\"d\",\"FUZZSECRETxyz\"\r\n";
    outlen = 0;
    sc_at_feed(&at, setup, sizeof setup - 1, 0);
    if (mode & 16)
        sc_at_complete(&at, 0);
    size_t k = split < size ? split : size;
    sc_at_feed(&at, data, k, 1);
    if (mode & 32)
        sc_at_provision_result(&at, mode & 64, 10, 2);
    sc_at_tick(&at, 40000);
    sc_at_feed(&at, data + k, size - k, 50000);
    check(data, size);   /* a trailing partial line has produced nothing yet */
    return 0;
}
