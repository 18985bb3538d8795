/* SPDX-License-Identifier: Apache-2.0 */
/* Private layout of sc_device_t (src/device only). */
#ifndef SC_DEVICE_PRIV_H
#define SC_DEVICE_PRIV_H

#include "smartcfg/bind.h"
#include "smartcfg/device.h"
#include "smartcfg/diag.h"

#include "../common/state.h"

#define SC_DEV_PEERS 8            /* per-peer error-reply rate limit table */
#define SC_DEV_DRAIN_MAX 16       /* datagrams handled per step and socket: bounded work */
#define SC_DEV_POLL_MS 20         /* socket/station/MQTT poll period */
#define SC_DEV_IDLE_TICK_MS 3000  /* reference select tick: resend queued errors */
#define SC_DEV_RL_BURST 4         /* error replies a peer may get at once ... */
#define SC_DEV_RL_REFILL_MS 1000  /* ... and one more per second */

typedef struct {
    sc_ipv4_ep_t ep;
    uint8_t tokens;
    uint8_t used;
    uint32_t refill_at;
    uint32_t last_seen;
} sc_dev_peer_t;

/* The device state behind the caller-owned sc_device_t storage. */
typedef struct dev_state devstate_t;
struct dev_state {
    sc_hal_t hal;
    sc_device_config_t cfg;
    uint8_t channels[16];
    sc_device_state_t state;
    sc_device_flow_t flow;
    bool inited;

    uint32_t window_end;       /* whole-window deadline */
    uint32_t after_join_end;   /* once joined */
    uint32_t step_end;         /* per-step deadline (join, token wait) */
    bool joined;

    sc_et_rx_t rx;
    sc_chansearch_t cs;
    uint8_t channel;
    uint32_t cs_until;

    sc_et_result_t res;        /* holds the password until the join started */
    uint8_t ip[4], mac[SC_MAC_LEN];

    int ack_h;
    bool ack_open;
    uint16_t ack_left;
    uint32_t ack_next;
    uint32_t ack_end;

    int srv_h;
    bool srv_open;
    sc_ipv4_ep_t app;
    bool app_known;
    uint32_t idle_tick_at;
    char token[SC_TOKEN_MAX + 1];
    bool have_token;
    uint32_t last_token_req;
    uint8_t id_repeats;
    uint32_t id_next;
    sc_dev_peer_t peers[SC_DEV_PEERS];

    /* soft-AP flow */
    bool softap_up;
    uint32_t softap_join_at;   /* nonzero: start the station join at this time */
    uint8_t sap_ssid[32], sap_ssid_len;
    uint8_t sap_pwd[64], sap_pwd_len;

    /* log soft-AP */
    int log_h;
    bool log_open, log_ap_up;
    sc_ipv4_ep_t log_peer;
    bool log_resend;
    uint32_t log_resend_at;

    sc_cloud_bind_t bind;
    bool binding;

    bool have_last_err;
    uint16_t last_err;
    int32_t last_sub;

    sc_diag_errors_t errs;
    sc_diag_log_t log;
    sc_device_stats_t stats;
    uint8_t scratch[SC_DIAG_SLOT_MAX];
    uint8_t rxbuf[SC_BIND_DGRAM_MAX + 1];
    char txbuf[SC_DIAG_LOG_ENTRIES * SC_DIAG_LOG_ENTRY_MAX + 1];
};
SC_STATE_FITS(devstate_t, sc_device_t);

static inline devstate_t *DEV(sc_device_t *dev) { return (devstate_t *)(void *)dev; }
static inline const devstate_t *CDEV(const sc_device_t *dev) { return (const devstate_t *)(const void *)dev; }

#endif
