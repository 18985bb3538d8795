/* SPDX-License-Identifier: Apache-2.0 */
/* Private layout of sc_device_t (src/device only). */
#ifndef SC_DEVICE_PRIV_H
#define SC_DEVICE_PRIV_H

#include "../tc8266/service.h"
#include "smartcfg/binder.h"
#include "smartcfg/receiver.h"
#include "smartcfg/device.h"
#include "smartcfg/diag.h"

#include "../common/state.h"

#define SC_DEV_DRAIN_MAX 16       /* datagrams handled per step and socket: bounded work */
#define SC_DEV_POLL_MS 20         /* socket/station/MQTT poll period */
#define SC_DEV_IDLE_TICK_MS 3000  /* reference select tick: resend queued errors */

/* Token candidates (docs/device.md#competing-tokens): on a LAN anyone can send a cmdType 0,
 * so the first token is not trusted to be the app's. Up to SC_DEV_CANDIDATES tokens from
 * different source addresses are kept and tried with the cloud one after the other until one
 * binds; one slot per source address, so a host spraying tokens only ever replaces its own. */
#define SC_DEV_CANDIDATES 4
#define SC_DEV_ID_MIN_MS 1000     /* identity to one candidate at most once a second (the app resends every 2 s) */
typedef enum { SC_CAND_FREE = 0, SC_CAND_PENDING, SC_CAND_TRYING, SC_CAND_REFUSED } sc_dev_cand_state_t;
typedef struct {
    char token[SC_TOKEN_MAX + 1];  /* secret: wiped with the flow */
    sc_ipv4_ep_t from;             /* its latest sender */
    uint32_t id_at;                /* last identity reply to it */
    uint32_t seq;                  /* arrival order: tried oldest first */
    uint8_t st;                    /* sc_dev_cand_state_t */
} sc_dev_cand_t;
_Static_assert(sizeof(sc_dev_cand_t) * SC_DEV_CANDIDATES <= 256, "token candidates stay within 256 bytes");

/* The device state behind the caller-owned sc_device_t storage. */
typedef struct dev_state devstate_t;
struct dev_state {
    sc_hal_t hal;
    sc_device_config_t cfg;
    uint8_t channels[SC_CHANSEARCH_MAX_CHANNELS];
    sc_device_state_t state;
    sc_device_flow_t flow;
    bool inited;

    uint32_t window_end;       /* whole-window deadline */
    uint32_t after_join_end;   /* once joined */
    uint32_t step_end;         /* per-step deadline (join, token wait) */
    bool joined;

    sc_receiver_t rx;          /* v1, v2 and AirKiss on the same frames */
    sc_chansearch_t cs;
    uint8_t channel;
    uint32_t cs_until;

    sc_et_result_t res;        /* holds the password until the join started */
    sc_proto_t proto;          /* the protocol that delivered res: the ack speaks it */
    uint8_t ack_token;         /* v2 port mark / AirKiss random byte */
    uint8_t ip[4], mac[SC_MAC_LEN];

    int ack_h;
    bool ack_open;
    uint16_t ack_left;
    uint32_t ack_next;
    uint32_t ack_end;

    sc_tc8266_svc_t svc;       /* UDP 8266: token requests, identity, error records */
    uint32_t idle_tick_at;
    char token[SC_TOKEN_MAX + 1];
    bool have_token;
    uint32_t last_token_req;
    sc_dev_cand_t cand[SC_DEV_CANDIDATES];
    uint32_t cand_seq;
    bool have_refusal;         /* the cloud refused a candidate this attempt: ... */
    uint16_t refused_err;      /* ... with this error, reported if none binds */
    int32_t refused_sub;

    /* soft-AP flow */
    bool softap_up;
    uint32_t softap_join_at;   /* nonzero: start the station join at this time */
    uint8_t sap_ssid[SC_SSID_MAX], sap_ssid_len;
    uint8_t sap_pwd[SC_PASSWORD_MAX], sap_pwd_len;

    /* log soft-AP */
    sc_tc8266_svc_t logsvc;    /* UDP 9876: cmdType 3 only */
    bool log_ap_up;

    sc_binder_t binder;
    bool binding;

    bool have_last_err;
    uint16_t last_err;
    int32_t last_sub;

    sc_diag_errors_t errs;
    sc_diag_log_t log;
    sc_device_stats_t stats;
    bool store_failing[2];     /* [0] error records, [1] log: a failure streak is reported once */
    sc_err_t store_boot_err;   /* the storage refused a write in init: reported by the first step */
    uint8_t scratch[SC_DIAG_SLOT_MAX];
};
SC_STATE_FITS(devstate_t, sc_device_t);

static inline devstate_t *DEV(sc_device_t *dev) { return (devstate_t *)(void *)dev; }
static inline const devstate_t *CDEV(const sc_device_t *dev) { return (const devstate_t *)(const void *)dev; }

/* Shared by the files of src/device: device.c is the state machine, ack.c the ESP-TOUCH ack
 * burst, logap.c the log soft-AP. */
void sc_dev_emit(devstate_t *d, sc_device_event_t *ev);
void sc_dev_ev_init(sc_device_event_t *ev, sc_device_event_type_t t);
/* The provisioning log: a persisted ring entry (what cmdType 3 returns) and the same line to
 * hal.sys.log. The function name is part of the entry so a pulled log tells where the flow
 * stopped. Callers format steps, codes and lengths only — never a secret. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
void sc_dev_log(devstate_t *d, uint32_t now, const char *func, int line, const char *fmt, ...);
#define DLOG(d, now, ...) sc_dev_log((d), (now), __func__, __LINE__, __VA_ARGS__)

/* ack.c. open: SC_OK with the burst due now; an error leaves no socket (ack_end = now). */
sc_err_t sc_dev_ack_open(devstate_t *d, uint32_t now);
void sc_dev_ack_step(devstate_t *d, uint32_t now);
void sc_dev_ack_close(devstate_t *d);

#endif
