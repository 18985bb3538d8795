/* SPDX-License-Identifier: Apache-2.0 */
/* A fake HAL for device tests: fake clock, in-memory UDP with addressable peers, scripted
 * station outcomes, soft-AP record, key/value storage that can be made to fail (torn write)
 * after any number of bytes, a scripted MQTT client, and a captured log. Test-only (heap). */
#ifndef SC_FAKE_HAL_H
#define SC_FAKE_HAL_H

#include "smartcfg/hal.h"

#define FH_SOCKS 8
#define FH_KEYS 16

typedef struct {
    sc_ipv4_ep_t from, to;
    size_t len;
    uint8_t *data;
    int sock;       /* sending socket (outbound) */
} fh_dgram_t;

typedef struct {
    bool open;
    bool any;
    uint8_t ip[4];
    uint16_t port;
    bool broadcast;
    fh_dgram_t *q;  /* inbound FIFO */
    size_t qn, qhead, qcap;
} fh_sock_t;

typedef struct {
    char key[32];
    bool used;
    uint8_t *val;
    size_t len;
} fh_kv_t;

typedef struct {
    sc_hal_t hal;
    uint32_t now;
    /* radio */
    bool promisc;
    uint8_t channel;
    unsigned channel_sets;
    /* station: outcome after delay */
    sc_sta_status_t sta_outcome;   /* SC_STA_GOT_IP (default) / SC_STA_FAILED / SC_STA_CONNECTING (never) */
    sc_sta_reason_t sta_reason;
    uint32_t sta_delay_ms;
    uint32_t join_at;
    unsigned joins;
    bool joining;
    uint8_t join_ssid[33];
    size_t join_ssid_len;
    uint8_t join_pwd[65];
    size_t join_pwd_len;
    uint8_t ip[4], mac[6];
    /* soft-AP */
    bool ap_up;
    char ap_ssid[33], ap_pwd[65];
    uint8_t ap_ch;
    unsigned ap_starts;
    /* udp */
    fh_sock_t sock[FH_SOCKS];
    uint8_t ap_ip[4];              /* address an "any" socket sends from */
    fh_dgram_t *sent;
    size_t nsent, sentcap;
    /* storage */
    fh_kv_t kv[FH_KEYS];
    long st_budget;                /* <0: unlimited; else bytes that may still be written */
    bool st_dead;                  /* power lost: every later put fails without writing */
    bool st_erase_first;           /* torn write model: true = erase then write prefix; false = overwrite in place */
    unsigned puts;
    /* mqtt (scripted): connect() -> mqtt_state; a publish of app_bind_token is answered with
     * app_bind_token_reply(code = mqtt_reply_code) on the down topic unless mqtt_silent */
    sc_mqtt_state_t mqtt_state;
    int mqtt_reason;
    int32_t mqtt_reply_code;
    bool mqtt_silent;
    unsigned mqtt_connects, mqtt_publishes, mqtt_subscribes;
    char mqtt_last_token[40];
    char mqtt_good_token[40];
    sc_mqtt_state_t mqtt_scripted;  /* restored by a connect after a disconnect */
    bool mqtt_was_disconnected;      /* non-empty: the only token the cloud accepts (others: code 1001) */
    sc_mqtt_msg_t mqtt_q[4];
    size_t mqtt_qn;
    /* captured log */
    char *logtext;
    size_t loglen, logcap;
} fake_hal_t;

void fh_init(fake_hal_t *fh);
void fh_free(fake_hal_t *fh);
/* A peer sends a datagram to `to`; false if no socket is bound there (dropped). */
bool fh_inject(fake_hal_t *fh, const char *from_ip, uint16_t from_port, const char *to_ip, uint16_t to_port,
               const void *data, size_t len);
/* Outbound datagrams to ip:port (ip NULL = any), counted / the k-th one. */
size_t fh_count_sent(const fake_hal_t *fh, const char *to_ip, uint16_t to_port);
const fh_dgram_t *fh_nth_sent(const fake_hal_t *fh, const char *to_ip, uint16_t to_port, size_t k);
void fh_clear_sent(fake_hal_t *fh);
sc_ipv4_ep_t fh_ep(const char *ip, uint16_t port);
/* Any stored value or log line containing the needle? */
bool fh_storage_contains(const fake_hal_t *fh, const void *needle, size_t n);
bool fh_log_contains(const fake_hal_t *fh, const char *needle);
const fh_kv_t *fh_kv(const fake_hal_t *fh, const char *key);

#endif
