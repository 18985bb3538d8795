/* SPDX-License-Identifier: Apache-2.0 */
/* AT command front-end: the Tencent IoT AT command set (docs/protocol/tencent.md#at-commands) for a
 * host MCU on a serial line. Sans-I/O: bytes in (any chunking) through sc_at_feed(), reply bytes
 * out through an output callback; the commands act through an ops table (sc_at_ops_t) so the core
 * does not depend on the device orchestrator or the MQTT client. Device/product info is kept in the
 * storage HAL (keys "devinfo", "prdinfo"). No heap, no OS calls; the context is caller-owned. Exact
 * replies, error codes and where we differ from the reference: docs/at.md. */
#ifndef SMARTCFG_AT_H
#define SMARTCFG_AT_H

#include <limits.h>

#include "smartcfg/cloud.h"
#include "smartcfg/hal.h"
#include "smartcfg/ota.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest command line accepted, without its "\r\n" (ESP-AT's limit). A longer line is
 * answered with ERROR once and discarded up to its "\r\n". */
#define SC_AT_LINE_MAX 256
#define SC_AT_MAX_PARAMS 8
#define SC_AT_SAP_PASSWORD_MAX 32   /* AT+TCSAP: the firmware takes 8..32 characters */
/* MQTT data channel (the PDF's limits): topics up to 128 bytes, 10 subscriptions, PUBL /
 * PUBRAW payloads of 1..2048 bytes delivered within 20 s. */
#define SC_AT_TOPIC_MAX 128
#define SC_AT_SUB_MAX 10
#define SC_AT_PUBL_MAX 2048
#define SC_AT_PUBL_TIMEOUT_MS 20000u

/* "+CME ERROR:<n>" codes of the reference firmware (qcloud_at_cmd.h). */
enum {
    SC_AT_CME_DEALING = 200,   /* previous command still in progress */
    SC_AT_CME_OVERFLOW = 201,
    SC_AT_CME_TIMEOUT = 202,
    SC_AT_CME_CHECK = 203,
    SC_AT_CME_PARAM = 204,     /* missing / extra / out-of-range parameter */
    SC_AT_CME_FIRMWARE = 205,
    SC_AT_CME_MEM = 206,
    SC_AT_CME_FLASH = 207,     /* storage read/write failed, or no info stored */
    SC_AT_CME_STATE = 208,     /* not allowed now (MQTT task running, provisioning running) */
    SC_AT_CME_EXEC = 209       /* execution failed / not supported by this build */
};

/* Parameters of AT+TCMQTTCONN. */
typedef struct {
    uint8_t tls_mode;          /* 1 = TLS (reference), 0 = plain (ours) */
    uint32_t cmd_timeout_ms;   /* 1000..20000 */
    uint16_t keepalive_s;      /* 60..690 */
    uint8_t clean_session;     /* 0/1 */
    uint8_t reconnect;         /* 0/1 */
} sc_at_mqtt_params_t;

/* What AT+CWJAP? / AT+CIPSTA? / AT+CIPSTATUS report about the station (ESP-AT basics). */
typedef struct {
    bool joined;               /* associated and addressed (GOT_IP) */
    char ssid[SC_SSID_MAX + 1];
    uint8_t bssid[SC_MAC_LEN]; /* zeros when the port cannot tell */
    uint8_t channel;           /* 0 when unknown */
    int8_t rssi;               /* 0 when unknown */
    uint8_t ip[4], gateway[4], netmask[4];
} sc_at_wifi_info_t;

/* AT+CWJAP failure codes (ESP-AT's "+CWJAP:<code>"). */
enum { SC_AT_CWJAP_TIMEOUT = 1, SC_AT_CWJAP_PASSWORD = 2, SC_AT_CWJAP_NO_AP = 3, SC_AT_CWJAP_FAIL = 4 };

/* What the commands do. Every function may be NULL: the command then answers as "not
 * supported" (FAIL,209 or +CME ERROR:209). Functions returning int return 0 for success or a
 * docs/protocol/tencent.md#errors error id (e.g. 27 device info, 13 SmartConfig start, 7 AP init) which the
 * reply carries as "+TCxxx:FAIL,<id>". An operation that completes later returns
 * SC_AT_PENDING and reports through sc_at_complete(). Identity pointers are valid only
 * during the call (they point into the context, which wipes them after): copy what you keep. */
#define SC_AT_PENDING INT_MIN
typedef struct {
    void *ctx;
    /* id: the stored device info (with the product secret when only product info exists). */
    int (*start_smartconfig)(void *ctx, const sc_identity_t *id, uint8_t tls_mode);
    void (*stop_smartconfig)(void *ctx);
    /* psw NULL = open AP; channel 0 = automatic. */
    int (*start_softap)(void *ctx, const sc_identity_t *id, uint8_t tls_mode, const char *ssid,
                        const char *psw, uint8_t channel);
    void (*stop_softap)(void *ctx);
    /* Starts the AT MQTT session with the stored identity. */
    int (*mqtt_connect)(void *ctx, const sc_identity_t *id, const sc_at_mqtt_params_t *params);
    int (*mqtt_state)(void *ctx);      /* 1 connected, 0 not */
    /* 0, or the code "+CME ERROR:<code>" carries. */
    int (*mqtt_disconnect)(void *ctx);
    /* Dynamic registration: fills id->device_secret on success and returns 0, or returns
     * SC_AT_PENDING and later calls sc_at_complete_dynreg() (copy from id what you keep —
     * the product secret included — and wipe it when done). Meanwhile other commands get
     * "busy p...", as on the reference module. */
    int (*dynreg)(void *ctx, sc_identity_t *id);
    /* AT+TCRESTORE after the stored info was erased (e.g. stop everything, reboot). */
    void (*restore)(void *ctx);
    /* AT+TCLOG: 0 disable, 1 error, 2 warn, 3 info, 4 debug (the SDK's levels). */
    void (*set_log_level)(void *ctx, int level);
    /* Station MAC for AT+TCMODULE; may fail (zeros are printed). */
    sc_err_t (*get_mac)(void *ctx, uint8_t mac[SC_MAC_LEN]);
    /* MQTT data channel: 0 done, an SDK error code (e.g. -103 not connected, -108 refused) or
     * SC_AT_PENDING (QoS 1 PUBACK, SUBACK, UNSUBACK awaited; then sc_at_complete). */
    int (*mqtt_publish)(void *ctx, const char *topic, int qos, const void *payload, size_t len);
    int (*mqtt_subscribe)(void *ctx, const char *topic, int qos);
    int (*mqtt_unsubscribe)(void *ctx, const char *topic);
    /* ESP-AT basics. AT+CWJAP: join through the station HAL; 0 joined, SC_AT_CWJAP_* or
     * SC_AT_PENDING (then sc_at_complete with 0 / SC_AT_CWJAP_*). psw "" = open network. */
    int (*wifi_join)(void *ctx, const char *ssid, const char *psw);
    void (*wifi_quit)(void *ctx);                              /* AT+CWQAP, AT+CWMODE=0/2 */
    sc_err_t (*wifi_info)(void *ctx, sc_at_wifi_info_t *out);  /* may fail: "not joined" */
    /* AT+RST / AT+RESTORE: stop everything the module runs (flows, MQTT session, join); the
     * core then prints "ready" as a rebooted module does. */
    void (*reset)(void *ctx);
    /* AT+SYSRAM?: free memory in bytes (NULL: 0 is printed). */
    uint32_t (*free_ram)(void *ctx);
    /* AT+UART_CUR=: SC_OK when the port can switch; it switches after the reply is written.
     * NULL: only the current settings are accepted. */
    sc_err_t (*set_uart)(void *ctx, uint32_t baud, uint8_t databits, uint8_t stopbits, uint8_t parity,
                         uint8_t flow);
    /* AT+TCGWBIND's signature: an unpredictable nonce and the Unix time in seconds (0 unknown). */
    void (*nonce_time)(void *ctx, uint32_t *nonce, uint64_t *unix_s);
} sc_at_ops_t;

/* Writes reply bytes to the serial line; must take them all (buffer if needed). */
typedef void (*sc_at_output_fn)(void *user, const char *data, size_t len);

typedef struct {
    sc_at_output_fn output;
    void *output_user;
    const sc_hal_storage_t *storage;   /* NULL: info kept in RAM only */
    const char *module_name;           /* AT+TCMODULE "Module HW name" */
    const char *fw_version;            /* AT+TCMODULE / AT+GMR / AT+TCVER version */
    uint16_t flash_size_mb;
    bool echo;                         /* initial echo (ESP-AT default: on) */
    uint32_t pending_timeout_ms;       /* safety net for SC_AT_PENDING operations (0: 30 s) */
    uint32_t uart_baud;                /* AT+UART_CUR? (0: 115200) */
} sc_at_config_t;

SC_API void sc_at_config_default(sc_at_config_t *cfg);

/* Which provisioning flow the URCs belong to. */
typedef enum { SC_AT_FLOW_NONE = 0, SC_AT_FLOW_SMARTCONFIG, SC_AT_FLOW_SOFTAP } sc_at_flow_t;

/* One stored info record (device info or product info). */
typedef struct {
    bool valid;
    uint8_t tls_mode;
    sc_identity_t id;
} sc_at_info_t;

/* The context: caller-owned storage (common.h), ~5.6 KiB (2 KiB of it the PUBL/PUBRAW payload
 * buffer, 1.3 KiB the subscription list the reconnect restores, 1 KiB the gateway state). */
#define SC_AT_SIZE (912u + 3720u + 1000u + 31u * sizeof(void *))
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_AT_SIZE)];
} sc_at_t;

/* Loads the stored info (a missing or corrupt record is simply absent). */
/* cfg and ops are copied; what cfg points to is kept: storage (the table, not a copy),
 * module_name, fw_version and output_user must outlive the context. */
SC_API sc_err_t sc_at_init(sc_at_t *at, const sc_at_config_t *cfg, const sc_at_ops_t *ops);
/* Feeds received bytes; replies go to cfg.output before it returns. */
SC_API void sc_at_feed(sc_at_t *at, const void *data, size_t len, uint32_t now_ms);
/* Times out a pending operation (answers FAIL,202). Returns the next deadline or now + 1 s. */
SC_API uint32_t sc_at_tick(sc_at_t *at, uint32_t now_ms);
/* True while a request to the broker (AT+TCMQTTCONN, a subscribe, unsubscribe, publish or
 * gateway request) waits for its answer: the port's MQTT client delivers it in the
 * background, so the loop should come round every few ms (not at sc_at_tick's deadline) to
 * answer the host as soon as it is in. */
SC_API bool sc_at_mqtt_waiting(const sc_at_t *at);
/* Result of an operation that returned SC_AT_PENDING: 0 or an error id (errors.h). */
SC_API void sc_at_complete(sc_at_t *at, int result);
/* Result of a dynreg op that returned SC_AT_PENDING: 0 with the device secret (base64, at
 * most SC_DEVICE_SECRET_MAX characters; it is copied and stored as the device info), or an
 * error id / the cloud's code (device_secret then ignored, may be NULL). Ignored unless an
 * AT+TCDEVREG is pending. */
SC_API void sc_at_complete_dynreg(sc_at_t *at, int result, const char *device_secret);

/* Final provisioning result: "+TCSTARTSMART:WIFI_CONNECT_SUCCESS" or
 * "+TCSTARTSMART:WIFI_CONNECT_FAILED,<err_id>,<sub_id>" (+TCSAP for the soft-AP flow).
 * Ignored when no flow is running (e.g. after AT+TCSTOPSMART). */
SC_API void sc_at_provision_result(sc_at_t *at, bool success, uint16_t err_id, int32_t sub_id);
/* MQTT session URCs: +TCMQTTDISCON,<code> (ends the MQTT task unless reconnecting),
 * +TCMQTTRECONNECTING, +TCMQTTRECONNECTED. */
SC_API void sc_at_mqtt_disconnected(sc_at_t *at, int code, bool will_reconnect);
SC_API void sc_at_mqtt_reconnecting(sc_at_t *at);
SC_API void sc_at_mqtt_reconnected(sc_at_t *at);
/* Any other unsolicited line (without "\r\n"). */
SC_API void sc_at_urc(sc_at_t *at, const char *line);
/* A message on a subscribed topic: +TCMQTTRCVPUB:"<topic>",<len>,"<payload>" (payload as
 * received, not escaped, as the reference prints it; the host reads <len> bytes). false: not
 * printed, because no subscription of the host matches the topic, or it has a quote or a
 * comma (and is not one the host subscribed to exactly) or a control byte, so the host could
 * not read it back as sent (docs/at.md); the caller counts it. Hand on only whole messages
 * (sc_mqtt_msg_t.truncated clear). */
SC_API bool sc_at_mqtt_received(sc_at_t *at, const char *topic, const void *payload, size_t len);
/* The subscription list (for restoring it after a reconnect): topic i or NULL past the end. */
SC_API const char *sc_at_subscription(const sc_at_t *at, size_t i, int *qos);

/* OTA (src/at/at_ota.c, docs/ota.md): AT+TCOTASET, AT+TCFWINFO?, AT+TCREADFWDATA act on ota
 * (NULL: no OTA; AT+TCFWINFO? then answers 205). The glue passes the OTA events on to
 * sc_at_ota_event, which prints the +TCOTASTATUS URCs. */
#define SC_AT_FWREAD_MAX 2048      /* AT+TCREADFWDATA's largest <len> (the test tool's reads) */
SC_API void sc_at_attach_ota(sc_at_t *at, sc_ota_t *ota);
SC_API void sc_at_ota_event(sc_at_t *at, sc_ota_event_t ev, int code);

/* Read-only views for the glue code. */
SC_API bool sc_at_echo(const sc_at_t *at);
SC_API sc_at_flow_t sc_at_flow(const sc_at_t *at);
SC_API bool sc_at_mqtt_task_running(const sc_at_t *at);
/* The stored device info (NULL when none). Holds the secret: never print it. */
SC_API const sc_at_info_t *sc_at_devinfo(const sc_at_t *at);

/* XOR of the secret's bytes, as AT+TCDEVINFOSET? reports it (0 for an empty secret). */
SC_API uint8_t sc_at_bcc(const char *secret);

/* Record codec used for "devinfo"/"prdinfo": magic, version, fields, CRC-32. */
#define SC_AT_RECORD_SIZE 192
SC_API sc_err_t sc_at_record_encode(const sc_at_info_t *info, bool product, uint8_t out[SC_AT_RECORD_SIZE]);
SC_API sc_err_t sc_at_record_decode(const uint8_t *buf, size_t len, bool product, sc_at_info_t *info);

#ifdef __cplusplus
}
#endif
#endif
