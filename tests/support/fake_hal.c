/* SPDX-License-Identifier: Apache-2.0 */
/* Fake HAL (see fake_hal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hal.h"
#include "smartcfg/cloud.h"

sc_ipv4_ep_t fh_ep(const char *ip, uint16_t port)
{
    sc_ipv4_ep_t ep;
    unsigned a, b, c, d;
    memset(&ep, 0, sizeof ep);
    if (ip && sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d) == 4) {
        ep.addr[0] = (uint8_t)a;
        ep.addr[1] = (uint8_t)b;
        ep.addr[2] = (uint8_t)c;
        ep.addr[3] = (uint8_t)d;
    }
    ep.port = port;
    return ep;
}

/* --- sys --- */
static uint32_t f_now(void *ctx) { return ((fake_hal_t *)ctx)->now; }
static uint64_t f_unix(void *ctx) { return 1700000000u + ((fake_hal_t *)ctx)->now / 1000u; }
static void f_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++)
        ((uint8_t *)buf)[i] = (uint8_t)(rand() & 0xFF);
}
static void f_log(void *ctx, sc_log_level_t level, const char *line)
{
    fake_hal_t *fh = ctx;
    (void)level;
    size_t n = strlen(line);
    if (fh->loglen + n + 2 > fh->logcap) {
        fh->logcap = (fh->logcap + n + 2) * 2;
        fh->logtext = realloc(fh->logtext, fh->logcap);
    }
    memcpy(fh->logtext + fh->loglen, line, n);
    fh->loglen += n;
    fh->logtext[fh->loglen++] = '\n';
    fh->logtext[fh->loglen] = '\0';
}

/* --- radio --- */
static sc_err_t f_promisc(void *ctx, bool on) { ((fake_hal_t *)ctx)->promisc = on; return SC_OK; }
static sc_err_t f_channel(void *ctx, uint8_t ch)
{
    fake_hal_t *fh = ctx;
    fh->channel = ch;
    fh->channel_sets++;
    return SC_OK;
}

/* --- station --- */
static sc_err_t f_join(void *ctx, const uint8_t *ssid, size_t ssid_len, const uint8_t *pwd, size_t pwd_len,
                       const uint8_t *bssid)
{
    fake_hal_t *fh = ctx;
    (void)bssid;
    if (ssid_len > 32 || pwd_len > 64)
        return SC_ERR_RANGE;
    memcpy(fh->join_ssid, ssid, ssid_len);
    fh->join_ssid_len = ssid_len;
    memcpy(fh->join_pwd, pwd, pwd_len);
    fh->join_pwd_len = pwd_len;
    fh->joins++;
    fh->joining = true;
    fh->join_at = fh->now;
    return SC_OK;
}
static sc_sta_status_t f_status(void *ctx, sc_sta_reason_t *reason)
{
    fake_hal_t *fh = ctx;
    if (reason)
        *reason = SC_STA_REASON_NONE;
    if (!fh->joining)
        return SC_STA_IDLE;
    if ((int32_t)(fh->now - (fh->join_at + fh->sta_delay_ms)) < 0 || fh->sta_outcome == SC_STA_CONNECTING)
        return SC_STA_CONNECTING;
    if (fh->sta_outcome == SC_STA_FAILED && reason)
        *reason = fh->sta_reason;
    return fh->sta_outcome;
}
static sc_err_t f_get_ip(void *ctx, uint8_t ip[4]) { memcpy(ip, ((fake_hal_t *)ctx)->ip, 4); return SC_OK; }
static sc_err_t f_get_mac(void *ctx, uint8_t mac[6]) { memcpy(mac, ((fake_hal_t *)ctx)->mac, 6); return SC_OK; }
static sc_err_t f_leave(void *ctx) { ((fake_hal_t *)ctx)->joining = false; return SC_OK; }

/* --- soft-AP --- */
static sc_err_t f_ap_start(void *ctx, const char *ssid, const char *pwd, uint8_t ch)
{
    fake_hal_t *fh = ctx;
    snprintf(fh->ap_ssid, sizeof fh->ap_ssid, "%s", ssid);
    snprintf(fh->ap_pwd, sizeof fh->ap_pwd, "%s", pwd ? pwd : "");
    fh->ap_ch = ch;
    fh->ap_up = true;
    fh->ap_starts++;
    return SC_OK;
}
static sc_err_t f_ap_stop(void *ctx) { ((fake_hal_t *)ctx)->ap_up = false; return SC_OK; }

/* --- udp --- */
static sc_err_t f_open(void *ctx, const uint8_t *ip, uint16_t port, bool bcast, int *h)
{
    fake_hal_t *fh = ctx;
    static uint16_t eph = 40000;
    for (int i = 0; port && i < FH_SOCKS; i++) {
        fh_sock_t *s = &fh->sock[i];
        if (s->open && s->port == port && (s->any || !ip || !memcmp(s->ip, ip, 4)))
            return SC_ERR_BUSY;
    }
    for (int i = 0; i < FH_SOCKS; i++) {
        fh_sock_t *s = &fh->sock[i];
        if (s->open)
            continue;
        memset(s, 0, sizeof *s);
        s->open = true;
        s->any = ip == NULL;
        if (ip)
            memcpy(s->ip, ip, 4);
        s->port = port ? port : eph++;
        s->broadcast = bcast;
        *h = i;
        return SC_OK;
    }
    return SC_ERR_NOSPACE;
}
static void push(fh_dgram_t **arr, size_t *n, size_t *cap, const fh_dgram_t *d)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *arr = realloc(*arr, *cap * sizeof **arr);
    }
    (*arr)[(*n)++] = *d;
}
static sc_err_t f_send(void *ctx, int h, const sc_ipv4_ep_t *to, const void *buf, size_t len)
{
    fake_hal_t *fh = ctx;
    if (h < 0 || h >= FH_SOCKS || !fh->sock[h].open)
        return SC_ERR_INVAL;
    fh_sock_t *s = &fh->sock[h];
    static const uint8_t bc[4] = { 255, 255, 255, 255 };
    if (!memcmp(to->addr, bc, 4) && !s->broadcast)
        return SC_ERR_IO;
    fh_dgram_t d;
    memset(&d, 0, sizeof d);
    memcpy(d.from.addr, s->any ? fh->ap_ip : s->ip, 4);
    d.from.port = s->port;
    d.to = *to;
    d.len = len;
    d.sock = h;
    d.data = malloc(len + 1);
    memcpy(d.data, buf, len);
    d.data[len] = 0;
    push(&fh->sent, &fh->nsent, &fh->sentcap, &d);
    return SC_OK;
}
static sc_err_t f_recv(void *ctx, int h, sc_ipv4_ep_t *from, void *buf, size_t cap, size_t *len, bool *trunc)
{
    fake_hal_t *fh = ctx;
    if (h < 0 || h >= FH_SOCKS || !fh->sock[h].open)
        return SC_ERR_INVAL;
    fh_sock_t *s = &fh->sock[h];
    if (s->qhead == s->qn)
        return SC_ERR_AGAIN;
    fh_dgram_t *d = &s->q[s->qhead++];
    size_t n = d->len < cap ? d->len : cap;
    memcpy(buf, d->data, n);
    *len = n;
    if (trunc)
        *trunc = d->len > cap;
    *from = d->from;
    free(d->data);
    d->data = NULL;
    return SC_OK;
}
static void f_close(void *ctx, int h)
{
    fake_hal_t *fh = ctx;
    if (h < 0 || h >= FH_SOCKS)
        return;
    fh_sock_t *s = &fh->sock[h];
    for (size_t i = s->qhead; i < s->qn; i++)
        free(s->q[i].data);
    free(s->q);
    memset(s, 0, sizeof *s);
}

bool fh_inject(fake_hal_t *fh, const char *from_ip, uint16_t from_port, const char *to_ip, uint16_t to_port,
               const void *data, size_t len)
{
    sc_ipv4_ep_t to = fh_ep(to_ip, to_port);
    for (int i = 0; i < FH_SOCKS; i++) {
        fh_sock_t *s = &fh->sock[i];
        if (!s->open || s->port != to_port || (!s->any && memcmp(s->ip, to.addr, 4)))
            continue;
        fh_dgram_t d;
        memset(&d, 0, sizeof d);
        d.from = fh_ep(from_ip, from_port);
        d.to = to;
        d.len = len;
        d.data = malloc(len + 1);
        memcpy(d.data, data, len);
        push(&s->q, &s->qn, &s->qcap, &d);
        return true;
    }
    return false;
}

static bool match(const fh_dgram_t *d, const char *ip, uint16_t port)
{
    if (port && d->to.port != port)
        return false;
    if (ip) {
        sc_ipv4_ep_t e = fh_ep(ip, 0);
        if (memcmp(e.addr, d->to.addr, 4))
            return false;
    }
    return true;
}

size_t fh_count_sent(const fake_hal_t *fh, const char *ip, uint16_t port)
{
    size_t n = 0;
    for (size_t i = 0; i < fh->nsent; i++)
        n += match(&fh->sent[i], ip, port);
    return n;
}

const fh_dgram_t *fh_nth_sent(const fake_hal_t *fh, const char *ip, uint16_t port, size_t k)
{
    for (size_t i = 0; i < fh->nsent; i++)
        if (match(&fh->sent[i], ip, port) && k-- == 0)
            return &fh->sent[i];
    return NULL;
}

void fh_clear_sent(fake_hal_t *fh)
{
    for (size_t i = 0; i < fh->nsent; i++)
        free(fh->sent[i].data);
    fh->nsent = 0;
}

/* --- storage --- */
static fh_kv_t *kv_find(fake_hal_t *fh, const char *key, bool create)
{
    fh_kv_t *freeslot = NULL;
    for (int i = 0; i < FH_KEYS; i++) {
        if (fh->kv[i].used && !strcmp(fh->kv[i].key, key))
            return &fh->kv[i];
        if (!fh->kv[i].used && !freeslot)
            freeslot = &fh->kv[i];
    }
    if (!create || !freeslot)
        return NULL;
    memset(freeslot, 0, sizeof *freeslot);
    freeslot->used = true;
    snprintf(freeslot->key, sizeof freeslot->key, "%s", key);
    return freeslot;
}
const fh_kv_t *fh_kv(const fake_hal_t *fh, const char *key) { return kv_find((fake_hal_t *)fh, key, false); }

static sc_err_t f_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len)
{
    fh_kv_t *kv = kv_find(ctx, key, false);
    if (!kv)
        return SC_ERR_NOTFOUND;
    if (kv->len > cap)
        return SC_ERR_NOSPACE;
    memcpy(buf, kv->val, kv->len);
    *len = kv->len;
    return SC_OK;
}
static sc_err_t f_put(void *ctx, const char *key, const void *buf, size_t len)
{
    fake_hal_t *fh = ctx;
    fh->puts++;
    if (fh->st_dead)
        return SC_ERR_IO;
    fh_kv_t *kv = kv_find(fh, key, true);
    if (!kv)
        return SC_ERR_NOSPACE;
    size_t n = len;
    bool cut = fh->st_budget >= 0 && (long)len > fh->st_budget;
    if (cut)
        n = (size_t)fh->st_budget;
    if (fh->st_budget >= 0)
        fh->st_budget -= (long)n;
    /* Torn write: erase-then-write leaves only the prefix; in-place overwrite leaves the new
     * prefix over the old tail. */
    size_t keep = fh->st_erase_first || !cut ? n : (kv->len > n ? kv->len : n);
    uint8_t *v = malloc(keep + 1);
    if (keep > n)
        memcpy(v, kv->val, keep);
    memcpy(v, buf, n);
    free(kv->val);
    kv->val = v;
    kv->len = keep;
    if (cut) {
        fh->st_dead = true;
        return SC_ERR_IO;
    }
    return SC_OK;
}
static sc_err_t f_erase(void *ctx, const char *key)
{
    fh_kv_t *kv = kv_find(ctx, key, false);
    if (kv) {
        free(kv->val);
        memset(kv, 0, sizeof *kv);
    }
    return SC_OK;
}

/* --- mqtt (scripted) --- */
static sc_err_t f_mconnect(void *ctx, const sc_mqtt_connect_t *p)
{
    (void)p;
    fake_hal_t *fh = ctx;
    fh->mqtt_connects++;
    if (fh->mqtt_was_disconnected) { /* a reconnect gets the scripted state again */
        fh->mqtt_state = fh->mqtt_scripted;
        fh->mqtt_was_disconnected = false;
    }
    return SC_OK;
}
static sc_mqtt_state_t f_mstate(void *ctx, int *reason)
{
    fake_hal_t *fh = ctx;
    if (reason)
        *reason = fh->mqtt_state == SC_MQTT_FAILED ? fh->mqtt_reason : 0;
    return fh->mqtt_state;
}
static sc_err_t f_msub(void *ctx, const char *topic, int qos)
{
    (void)topic;
    (void)qos;
    ((fake_hal_t *)ctx)->mqtt_subscribes++;
    return SC_OK;
}
static sc_err_t f_mpub(void *ctx, const char *topic, const void *payload, size_t len, int qos, int *mid)
{
    fake_hal_t *fh = ctx;
    (void)qos;
    fh->mqtt_publishes++;
    if (mid)
        *mid = (int)fh->mqtt_publishes;
    sc_cloud_msg_t m;
    if (sc_cloud_parse_msg(payload, len, &m) != SC_OK || m.type != SC_CLOUD_MSG_APP_BIND_TOKEN)
        return SC_OK;
    snprintf(fh->mqtt_last_token, sizeof fh->mqtt_last_token, "%s", m.token);
    if (fh->mqtt_silent || fh->mqtt_qn == 4)
        return SC_OK;
    sc_mqtt_msg_t *r = &fh->mqtt_q[fh->mqtt_qn++];
    memset(r, 0, sizeof *r);
    /* $thing/up/service/P/D -> $thing/down/service/P/D */
    if (strncmp(topic, "$thing/up/", 10) == 0)
        snprintf(r->topic, sizeof r->topic, "$thing/down/%s", topic + 10);
    else
        snprintf(r->topic, sizeof r->topic, "%s", topic);
    size_t n = 0;
    int32_t code = fh->mqtt_good_token[0] && strcmp(m.token, fh->mqtt_good_token) ? 1001 : fh->mqtt_reply_code;
    sc_cloud_build_app_bind_token_reply(m.client_token, code, (char *)r->payload, sizeof r->payload, &n);
    r->payload_len = n;
    return SC_OK;
}
static bool f_mpuback(void *ctx, int mid)
{
    (void)ctx;
    (void)mid;
    return true;
}
static sc_err_t f_mpoll(void *ctx, sc_mqtt_msg_t *msg)
{
    fake_hal_t *fh = ctx;
    if (!fh->mqtt_qn)
        return SC_ERR_AGAIN;
    *msg = fh->mqtt_q[0];
    memmove(&fh->mqtt_q[0], &fh->mqtt_q[1], (fh->mqtt_qn - 1) * sizeof fh->mqtt_q[0]);
    fh->mqtt_qn--;
    return SC_OK;
}
static sc_err_t f_mdisc(void *ctx)
{
    fake_hal_t *fh = ctx;
    if (!fh->mqtt_was_disconnected)
        fh->mqtt_scripted = fh->mqtt_state;
    fh->mqtt_was_disconnected = true;
    fh->mqtt_state = SC_MQTT_DISCONNECTED;
    fh->mqtt_qn = 0; /* replies for the old link are gone with it */
    return SC_OK;
}

void fh_init(fake_hal_t *fh)
{
    memset(fh, 0, sizeof *fh);
    fh->now = 1000;
    fh->st_budget = -1;
    fh->st_erase_first = true;
    fh->sta_outcome = SC_STA_GOT_IP;
    fh->sta_delay_ms = 500;
    const uint8_t ip[4] = { 192, 168, 1, 23 }, mac[6] = { 0x24, 0x0A, 0xC4, 0x01, 0x02, 0x03 },
                  apip[4] = { 192, 168, 4, 1 };
    memcpy(fh->ip, ip, 4);
    memcpy(fh->mac, mac, 6);
    memcpy(fh->ap_ip, apip, 4);
    fh->mqtt_state = SC_MQTT_FAILED;
    fh->mqtt_reason = -4;
    sc_hal_t *h = &fh->hal;
    h->sys = (sc_hal_sys_t){ fh, f_now, f_unix, f_random, f_log };
    h->radio = (sc_hal_radio_t){ fh, f_promisc, f_channel, NULL };
    h->station = (sc_hal_station_t){ fh, f_join, f_status, f_get_ip, f_get_mac, f_leave };
    h->softap = (sc_hal_softap_t){ fh, f_ap_start, f_ap_stop };
    h->udp = (sc_hal_udp_t){ fh, f_open, f_send, f_recv, f_close };
    h->storage = (sc_hal_storage_t){ fh, f_get, f_put, f_erase };
    h->mqtt = (sc_hal_mqtt_t){ fh, f_mconnect, f_mstate, f_msub, f_mpub, f_mpuback, f_mpoll, f_mdisc, NULL, NULL, NULL, NULL };
}

void fh_free(fake_hal_t *fh)
{
    fh_clear_sent(fh);
    free(fh->sent);
    for (int i = 0; i < FH_SOCKS; i++)
        f_close(fh, i);
    for (int i = 0; i < FH_KEYS; i++)
        free(fh->kv[i].val);
    free(fh->logtext);
    memset(fh, 0, sizeof *fh);
}

static bool memfind(const uint8_t *h, size_t hn, const void *n, size_t nn)
{
    if (!nn || hn < nn)
        return false;
    for (size_t i = 0; i + nn <= hn; i++)
        if (!memcmp(h + i, n, nn))
            return true;
    return false;
}

bool fh_storage_contains(const fake_hal_t *fh, const void *needle, size_t n)
{
    for (int i = 0; i < FH_KEYS; i++)
        if (fh->kv[i].used && memfind(fh->kv[i].val, fh->kv[i].len, needle, n))
            return true;
    return false;
}

bool fh_log_contains(const fake_hal_t *fh, const char *needle)
{
    return fh->logtext && strstr(fh->logtext, needle) != NULL;
}
