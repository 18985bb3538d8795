/* The hardware abstraction layer: the only way the core touches the world.
 * Each service is a table of function pointers plus an opaque context (the coreMQTT
 * TransportInterface_t style). A port fills an sc_hal_t; a NULL function pointer means
 * "not available on this port" and the core degrades or reports SC_ERR_UNSUPPORTED.
 * Inputs flow the other way: the port calls sc_device_on_frame() for sniffed frames and
 * the core polls UDP/MQTT through recv/poll functions from sc_device_step().
 * Every function returns quickly (non-blocking), except where noted. Porting guide:
 * docs/porting.md. */
#ifndef SMARTCFG_HAL_H
#define SMARTCFG_HAL_H

#include "smartcfg/common.h"
#include "smartcfg/esptouch_rx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Radio in promiscuous mode. Frames reach the core through sc_device_on_frame(). */
typedef struct {
    void *ctx;
    sc_err_t (*set_promiscuous)(void *ctx, bool on);
    sc_err_t (*set_channel)(void *ctx, uint8_t channel);
    /* Optional: APs visible now (blocking allowed, called once before sniffing). */
    sc_err_t (*scan)(void *ctx, sc_scan_entry_t *out, size_t max, size_t *n);
} sc_hal_radio_t;

typedef enum {
    SC_STA_IDLE = 0,
    SC_STA_CONNECTING,
    SC_STA_GOT_IP,
    SC_STA_FAILED
} sc_sta_status_t;

typedef enum {
    SC_STA_REASON_NONE = 0,
    SC_STA_REASON_WRONG_PASSWORD,
    SC_STA_REASON_NO_AP,        /* SSID/BSSID not found */
    SC_STA_REASON_ASSOC,        /* association rejected */
    SC_STA_REASON_DHCP,         /* associated but no IP */
    SC_STA_REASON_OTHER
} sc_sta_reason_t;

/* Station: join the AP the phone named. */
typedef struct {
    void *ctx;
    /* Starts joining; returns at once. bssid may be NULL. Secrets must not be logged. */
    sc_err_t (*join)(void *ctx, const uint8_t *ssid, size_t ssid_len,
                     const uint8_t *password, size_t password_len, const uint8_t *bssid);
    sc_sta_status_t (*status)(void *ctx, sc_sta_reason_t *reason);
    sc_err_t (*get_ip)(void *ctx, uint8_t ip[4]);
    sc_err_t (*get_mac)(void *ctx, uint8_t mac[SC_MAC_LEN]);
    sc_err_t (*leave)(void *ctx);
} sc_hal_station_t;

/* Soft-AP (the soft-AP provisioning flow and the log soft-AP). */
typedef struct {
    void *ctx;
    sc_err_t (*start)(void *ctx, const char *ssid, const char *password, uint8_t channel);
    sc_err_t (*stop)(void *ctx);
} sc_hal_softap_t;

/* UDP sockets; handles are small non-negative integers chosen by the port. */
typedef struct {
    void *ctx;
    /* Binds local_ip:local_port (local_ip NULL = any address, port 0 = any port); broadcast
     * sending allowed when asked. The device binds its services to its own address so that
     * several devices (and a phone) can share one host on distinct addresses. */
    sc_err_t (*open)(void *ctx, const uint8_t *local_ip, uint16_t local_port, bool broadcast, int *handle);
    sc_err_t (*send_to)(void *ctx, int handle, const sc_ipv4_ep_t *to, const void *buf, size_t len);
    /* Non-blocking: SC_ERR_AGAIN when nothing is queued. Datagrams longer than cap are
     * truncated and *len says cap (and *truncated = true when not NULL). */
    sc_err_t (*recv_from)(void *ctx, int handle, sc_ipv4_ep_t *from, void *buf, size_t cap,
                          size_t *len, bool *truncated);
    void (*close)(void *ctx, int handle);
} sc_hal_udp_t;

typedef enum { SC_MQTT_DISCONNECTED = 0, SC_MQTT_CONNECTING, SC_MQTT_CONNECTED, SC_MQTT_FAILED } sc_mqtt_state_t;

typedef struct {
    const char *host;
    uint16_t port;
    const char *client_id;
    const char *username;
    const char *password;     /* secret: never logged */
    uint16_t keepalive_s;
    bool tls;
    const char *ca_file;      /* TLS: CA bundle path (port-specific meaning) */
} sc_mqtt_connect_t;

typedef struct {
    char topic[160];
    uint8_t payload[1024];
    size_t payload_len;       /* truncated to sizeof payload; truncated flag set */
    bool truncated;
} sc_mqtt_msg_t;

/* MQTT 3.1.1 client. connect starts connecting and returns; state() tells the outcome. */
typedef struct {
    void *ctx;
    sc_err_t (*connect)(void *ctx, const sc_mqtt_connect_t *params);
    sc_mqtt_state_t (*state)(void *ctx, int *reason);   /* reason: port/broker code on failure */
    sc_err_t (*subscribe)(void *ctx, const char *topic, int qos);
    /* *mid identifies the publish; puback_received() tells when QoS 1 was acknowledged. */
    sc_err_t (*publish)(void *ctx, const char *topic, const void *payload, size_t len, int qos, int *mid);
    bool (*puback_received)(void *ctx, int mid);
    /* Non-blocking: SC_ERR_AGAIN when no message is queued. */
    sc_err_t (*poll)(void *ctx, sc_mqtt_msg_t *msg);
    sc_err_t (*disconnect)(void *ctx);
} sc_hal_mqtt_t;

/* Small key/value records with atomic replace: after a power cut during put(), get() returns
 * either the old or the new value, never a mix. Keys are short ASCII names. */
typedef struct {
    void *ctx;
    sc_err_t (*get)(void *ctx, const char *key, void *buf, size_t cap, size_t *len); /* SC_ERR_NOTFOUND */
    sc_err_t (*put)(void *ctx, const char *key, const void *buf, size_t len);
    sc_err_t (*erase)(void *ctx, const char *key);
} sc_hal_storage_t;

/* HTTP(S) POST for dynamic registration. Blocking, bounded by timeout_ms. */
typedef struct {
    void *ctx;
    sc_err_t (*post)(void *ctx, const char *url, const char *content_type, const void *body, size_t len,
                     uint32_t timeout_ms, int *status, char *resp, size_t cap, size_t *resp_len);
} sc_hal_http_t;

typedef enum { SC_LOG_ERROR = 0, SC_LOG_WARN, SC_LOG_INFO, SC_LOG_DEBUG } sc_log_level_t;

typedef struct {
    void *ctx;
    uint32_t (*now_ms)(void *ctx);                     /* monotonic milliseconds */
    uint64_t (*unix_time)(void *ctx);                  /* seconds since the epoch (0 = unknown) */
    void (*random)(void *ctx, void *buf, size_t len);  /* unpredictable bytes */
    void (*log)(void *ctx, sc_log_level_t level, const char *line); /* never receives a secret */
} sc_hal_sys_t;

/* Everything a device needs. */
typedef struct {
    sc_hal_sys_t sys;
    sc_hal_radio_t radio;
    sc_hal_station_t station;
    sc_hal_softap_t softap;
    sc_hal_udp_t udp;
    sc_hal_mqtt_t mqtt;
    sc_hal_storage_t storage;
    sc_hal_http_t http;
} sc_hal_t;

#ifdef __cplusplus
}
#endif
#endif
