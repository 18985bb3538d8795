/* SPDX-License-Identifier: Apache-2.0 */
/* The device orchestrator: the provisioning state machine that ties the ESP-TOUCH receiver,
 * the UDP 8266 token service, the ack, error records, the provisioning log and the cloud
 * binding together through the HAL. Driven by sc_device_on_frame() and sc_device_step(now).
 * The Tencent reference API names (start_smartconfig, query_wifi_config_state, ...) are in
 * device_compat.h. */
#ifndef SMARTCFG_DEVICE_H
#define SMARTCFG_DEVICE_H

#include "smartcfg/binder.h"
#include "smartcfg/cloud.h"
#include "smartcfg/esptouch_rx.h"
#include "smartcfg/errors.h"
#include "smartcfg/hal.h"
#include "smartcfg/receiver.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SC_DEV_IDLE = 0,
    SC_DEV_SNIFFING,      /* channel search / locked, decoding */
    SC_DEV_CREDENTIALS,   /* credentials decoded */
    SC_DEV_JOINING,       /* joining the AP */
    SC_DEV_ACKING,        /* has an IP, sending the ESP-TOUCH ack */
    SC_DEV_WAIT_TOKEN,    /* UDP 8266 service waiting for the app's token */
    SC_DEV_BINDING,       /* MQTT app_bind_token */
    SC_DEV_DONE,
    SC_DEV_FAILED,
    SC_DEV_SOFTAP         /* soft-AP flow: waiting for cmdType 1 */
} sc_device_state_t;

SC_API const char *sc_device_state_name(sc_device_state_t s);

typedef enum {
    SC_DEV_EV_STATE = 0,  /* state changed: ev->state */
    SC_DEV_EV_LOCKED,     /* sniffer locked: channel, offset, proto */
    SC_DEV_EV_PROGRESS,   /* known/needed */
    SC_DEV_EV_CREDENTIALS,/* ssid, proto, reserved (never the password) */
    SC_DEV_EV_IP,         /* got ip: ip; again with the new one when the station's address
                             changes before the flow ends (hal.h get_ip) */
    SC_DEV_EV_ACK_SENT,
    SC_DEV_EV_TOKEN,      /* token received from peer (the token itself is not given) */
    SC_DEV_EV_BOUND,      /* bind reply code 0 */
    SC_DEV_EV_ERROR,      /* err_id, sub_id, text */
    SC_DEV_EV_STORAGE     /* a record or log write failed (sub_id: sc_err_t; text: what); the
                             flow goes on. Once per failure streak, and from the first step
                             after init when the storage is not writable (the previous run's record may be missing). */
} sc_device_event_type_t;

typedef struct {
    sc_device_event_type_t type;
    sc_device_state_t state;
    uint8_t channel;
    uint16_t offset;
    uint8_t known, needed;
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len;
    uint8_t ip[4];
    sc_ipv4_ep_t peer;
    uint16_t err_id;
    int32_t sub_id;
    const char *text;
    /* SC_DEV_EV_LOCKED: the protocol that locked (an sc_proto_t) and, in offset, its stream's
     * overhead (every protocol; v2's and AirKiss's were 0 until 2026-12-06). SC_DEV_EV_CREDENTIALS: the protocol that delivered them and, for
     * ESP-TOUCH v2, the phone's reserved (custom) data, reserved_len bytes (NULL when none). */
    uint8_t proto;
    uint8_t reserved_len;
    const uint8_t *reserved;
} sc_device_event_t;

/* Runs inside sc_device_* calls: it may read (sc_device_state, sc_device_last_error, ...) but
 * must not start/stop/step the device. ev and its strings are valid for the call only. */
typedef void (*sc_device_event_cb)(void *user, const sc_device_event_t *ev);

typedef enum { SC_DEV_FLOW_SMARTCONFIG = 0, SC_DEV_FLOW_SOFTAP } sc_device_flow_t;

typedef struct {
    sc_identity_t identity;
    sc_cloud_config_t cloud;
    bool skip_cloud;               /* stop after the token handshake (no MQTT) */
    uint32_t window_ms;            /* 300000: whole provisioning window */
    uint32_t after_join_ms;        /* 50000: once joined, the rest */
    const uint8_t *channels;       /* NULL = 1..13 */
    size_t nchannels;
    sc_device_event_cb on_event;
    void *user;
    /* Added fields (0 = default). */
    uint32_t join_timeout_ms;      /* 60000: station join, capped by the window */
    uint32_t token_wait_ms;        /* 20000: after the ack burst, wait this long for the app's token */
    uint32_t linger_ms;            /* 10000: skip_cloud: DONE once the app stopped resending this long (its 5 x 2 s schedule) */
    uint16_t ack_count;            /* 30 ack rounds ... */
    uint16_t ack_interval_ms;      /* ... 100 ms apart */
    uint8_t protocols;             /* sc_proto_t mask the receiver listens for (0 = v1, v2 and AirKiss) */
    uint8_t v2_key[16];            /* ESP-TOUCH v2 device key (used when v2_key_set) */
    bool v2_key_set;
} sc_device_config_t;

SC_API void sc_device_config_default(sc_device_config_t *cfg);

/* The device context: caller-owned storage (common.h) holding the receiver, the channel
 * search, the 8266 service, the error records, the provisioning log, the binder and their
 * buffers. About 15 KiB (docs/porting.md has the figures): make it static or a member, not a
 * stack variable.
 *     static sc_device_t dev;        (no heap needed)
 * The size is base + the receiver + the binder (each smaller without its modules). */
#define SC_DEVICE_SIZE (9432u + SC_RECEIVER_SIZE + 68u * sizeof(void *) + SC_BINDER_SIZE) /* +320: token candidates, reply budget; +96: the log per address */
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_DEVICE_SIZE)];
} sc_device_t;
/* sizeof(sc_device_t), for code written against the earlier incomplete type. */
SC_API size_t sc_device_size(void);

/* Once per context (it forgets open HAL handles): loads the persisted log and unsent error
 * records. To change the configuration later use sc_device_configure.
 * The macro hands the library the caller's sizeof(sc_device_t): code compiled with other
 * SMARTCFG_WITH_* switches than the library (they change the size; smartcfg::core and
 * `pkg-config --cflags smartcfg` carry the library's) would give it a smaller object than it
 * writes, so sc_device_init_sized then refuses with SC_ERR_INVAL (and a log line) instead. */
SC_API sc_err_t sc_device_init_sized(sc_device_t *dev, size_t size, const sc_hal_t *hal, const sc_device_config_t *cfg);
#define sc_device_init(dev, hal, cfg) sc_device_init_sized((dev), sizeof(sc_device_t), (hal), (cfg))
/* The same without the size check (what the macro hides; its address may be taken). */
SC_API sc_err_t(sc_device_init)(sc_device_t *dev, const sc_hal_t *hal, const sc_device_config_t *cfg);
/* New configuration (identity, windows, ...) between attempts; SC_ERR_BUSY while a flow runs. */
SC_API sc_err_t sc_device_configure(sc_device_t *dev, const sc_device_config_t *cfg);
/* SmartConfig flow. SC_ERR_INVAL: not initialised, or cfg.identity has no product_id or
 * device_name (needed with skip_cloud too: the 8266 service answers with them); SC_ERR_UNSUPPORTED:
 * a required HAL entry is NULL; SC_ERR_BUSY: a flow runs; SC_ERR_IO: set_promiscuous failed. */
SC_API sc_err_t sc_device_start(sc_device_t *dev, uint32_t now_ms);
SC_API sc_err_t sc_device_start_softap(sc_device_t *dev, const char *ssid, const char *psw, uint8_t ch, uint32_t now_ms);
/* reason: the sub id recorded under error 3 (SC_SUBID_STOP_APP, SC_SUBID_STOP_AT, ...). */
SC_API void sc_device_stop(sc_device_t *dev, int32_t reason, uint32_t now_ms);
SC_API void sc_device_on_frame(sc_device_t *dev, const sc_frame_t *f, uint32_t now_ms);
/* Does all due work; returns the time (ms) at which it wants to be called again. */
SC_API uint32_t sc_device_step(sc_device_t *dev, uint32_t now_ms);
SC_API sc_device_state_t sc_device_state(const sc_device_t *dev);
/* The channel the radio should be on now (0: radio idle). */
SC_API uint8_t sc_device_channel(const sc_device_t *dev);
/* Raises the log soft-AP ESP-LOG-QUERY and the UDP 9876 log service. */
SC_API sc_err_t sc_device_start_log_softap(sc_device_t *dev, uint32_t now_ms);
SC_API void sc_device_stop_log_softap(sc_device_t *dev);

/* For ports whose radio firmware decodes ESP-TOUCH itself (and for tests): hands decoded
 * credentials to a started SmartConfig flow as if the receiver had produced them.
 * SC_ERR_STATE unless sniffing; SC_ERR_INVAL (err 14/104 recorded) for invalid lengths. */
SC_API sc_err_t sc_device_inject_credentials(sc_device_t *dev, const sc_et_result_t *res, uint32_t now_ms);

/* The last error recorded in this attempt (false if none). */
SC_API bool sc_device_last_error(const sc_device_t *dev, uint16_t *err_id, int32_t *sub_id);
/* Concatenated provisioning log (what cmdType 3 returns); returns its length. */
SC_API size_t sc_device_log(const sc_device_t *dev, char *out, size_t cap);

/* Counters for diagnostics and tests. */
typedef struct {
    uint32_t dgrams, bad_dgrams, err_replies, rate_limited, identity_replies, acks_sent, log_replies;
    uint32_t bytes_in, bytes_out;  /* UDP 8266 + 9876: received / sent (the amplification check) */
    uint32_t storage_errors;       /* failed record or log writes */
} sc_device_stats_t;
SC_API void sc_device_stats(const sc_device_t *dev, sc_device_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif
