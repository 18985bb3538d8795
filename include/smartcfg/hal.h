/* SPDX-License-Identifier: Apache-2.0 */
/* The hardware abstraction layer: the only way the core touches the world.
 * Each service is a table of function pointers plus an opaque context (the coreMQTT
 * TransportInterface_t style). A port fills an sc_hal_t; a NULL function pointer means
 * "not available on this port" and the core degrades or reports SC_ERR_UNSUPPORTED.
 * Inputs flow the other way: the port calls sc_device_on_frame() for sniffed frames and
 * the core polls UDP/MQTT through recv/poll functions from sc_device_step().
 *
 * Contract for every function unless noted:
 *  - called only from the thread/task that calls sc_device_step()/sc_device_on_frame();
 *    never re-entered; must not call back into the core;
 *  - returns quickly (non-blocking); SC_OK or a negative sc_err_t; no partial effects on error;
 *  - pointers passed in are valid only for the call: copy what you keep (SSID, password,
 *    MQTT credentials...); never log a secret (password, token, device secret, MQTT password).
 * Required for both flows (sc_device_start and sc_device_start_softap refuse a HAL without
 * one of them: SC_ERR_UNSUPPORTED, nothing started): sys.now_ms, station.join/status/get_ip,
 * udp.open/send_to/recv_from/close. Everything else may be NULL; what the core then does,
 * entry by entry, is in docs/porting.md ("Without an entry"); tests/unit/test_port_contract.c
 * runs every flow with each entry NULL. radio.* is not needed when the radio firmware decodes
 * ESP-TOUCH itself (sc_device_inject_credentials). Soft-AP (start and stop) for the soft-AP
 * and log flows, MQTT for binding, storage for persistence (without it records live in RAM
 * only). Which function may block: docs/porting.md ("Threads, contexts and blocking"). */
#ifndef SMARTCFG_HAL_H
#define SMARTCFG_HAL_H

#include "smartcfg/common.h"
#include "smartcfg/esptouch_rx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Radio in promiscuous mode. Frames reach the core through sc_device_on_frame() (from the
 * core's thread: a port whose driver calls back in an interrupt queues the few fields of
 * sc_frame_t and feeds them later). A port whose radio is driven elsewhere may leave
 * set_promiscuous and set_channel NULL: it then tunes to sc_device_channel() itself (0 = off)
 * after every sc_device_step(). */
typedef struct {
    void *ctx;
    /* on: deliver every 802.11 data frame (length and header fields; the payload is not
     * needed) on the current channel, including frames of other BSSs and encrypted ones. */
    sc_err_t (*set_promiscuous)(void *ctx, bool on);
    /* Tune to a 2.4 GHz channel 1..14 (HT20). Called when sc_device_channel() changes;
     * must take effect before the next frame is delivered (no frames of the old channel). */
    sc_err_t (*set_channel)(void *ctx, uint8_t channel);
    /* Optional: APs visible now (blocking allowed, called once before sniffing). Fills
     * out[0..*n), *n <= max. Lets the receiver finish early from a known SSID. */
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
    /* Starts joining (association + DHCP) and returns at once; SC_OK only means "started".
     * ssid is raw octets (may contain NUL, 1..32), password 0..64 octets (0 = open; 64 = hex
     * PSK), bssid NULL = any AP with that SSID. Copy all three: the core wipes its copy of the
     * password right after this call. Never log the password. */
    sc_err_t (*join)(void *ctx, const uint8_t *ssid, size_t ssid_len,
                     const uint8_t *password, size_t password_len, const uint8_t *bssid);
    /* Polled every ~20 ms while joining. GOT_IP once DHCP is done (get_ip then valid);
     * FAILED with *reason (reason may be NULL) when the port gave up — the core does not
     * retry; the port may retry internally within the core's join timeout (60 s). */
    sc_sta_status_t (*status)(void *ctx, sc_sta_reason_t *reason);
    /* The station's IPv4 address (network order), valid after GOT_IP. The core reads it again
     * on every step after the join until the flow ends: a port whose address can change (a DHCP
     * lease lost, another address given) returns the current one, and the acks still to go and
     * a new SC_DEV_EV_IP carry it; an error or 0.0.0.0 (no address at the moment) keeps the
     * last one. A port whose address never changes needs nothing more. */
    sc_err_t (*get_ip)(void *ctx, uint8_t ip[4]);
    /* The station interface's MAC (what the ESP-TOUCH ack carries). NULL or an error: the ack
     * carries 00:00:00:00:00:00, which the app cannot tell from another device's. */
    sc_err_t (*get_mac)(void *ctx, uint8_t mac[SC_MAC_LEN]);
    /* Optional: abandon a join in progress (join timeout). */
    sc_err_t (*leave)(void *ctx);
} sc_hal_station_t;

/* Soft-AP (the soft-AP provisioning flow and the log soft-AP). start and stop come as a
 * pair: with either NULL both are SC_ERR_UNSUPPORTED. */
typedef struct {
    void *ctx;
    /* Raises an AP (WPA2-PSK, or open when password is NULL) with a DHCP server; channel 0 =
     * port's choice. UDP sockets opened with local_ip NULL must receive on the AP interface.
     * May be called while the station is joined (AP+STA) or not; start on a running AP
     * replaces it. */
    sc_err_t (*start)(void *ctx, const char *ssid, const char *password, uint8_t channel);
    sc_err_t (*stop)(void *ctx);
} sc_hal_softap_t;

/* UDP sockets; handles are small non-negative integers chosen by the port. */
typedef struct {
    void *ctx;
    /* Binds local_ip:local_port (local_ip NULL = any address, port 0 = any port); broadcast
     * sending allowed when asked. The device binds its services to its own address so that
     * several devices (and a phone) can share one host on distinct addresses. SC_ERR_BUSY when
     * the address is taken. The core uses at most 3 sockets at once (ack, 8266, 9876). */
    sc_err_t (*open)(void *ctx, const uint8_t *local_ip, uint16_t local_port, bool broadcast, int *handle);
    /* One datagram (len <= 1400) to `to`; 255.255.255.255 only on a broadcast socket. Must not
     * block: drop and return SC_ERR_AGAIN/SC_ERR_IO when the stack is out of buffers. The source
     * address and port are the socket's (the app matches replies on them). */
    sc_err_t (*send_to)(void *ctx, int handle, const sc_ipv4_ep_t *to, const void *buf, size_t len);
    /* Non-blocking: SC_ERR_AGAIN when nothing is queued. Datagrams longer than cap are
     * truncated and *len says cap (and *truncated = true when not NULL). */
    sc_err_t (*recv_from)(void *ctx, int handle, sc_ipv4_ep_t *from, void *buf, size_t cap,
                          size_t *len, bool *truncated);
    /* Releases the handle; queued datagrams are dropped. */
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
    /* TLS-PSK instead of certificates (tls is true too): psk non-NULL, psk_len 1..SC_MQTT_PSK_MAX
     * key bytes, psk_identity the PSK identity (IoT Explorer: the client id). No CA file, no
     * clock. A port without TLS-PSK returns SC_ERR_UNSUPPORTED from connect (nothing started).
     * psk is a secret: never logged; the port copies it; the binder wipes it when connect returns. */
    const char *psk_identity;
    const uint8_t *psk;       /* secret: never logged */
    size_t psk_len;
} sc_mqtt_connect_t;
#define SC_MQTT_PSK_MAX 48    /* longest key the core hands over (IoT Explorer's are 16 bytes) */

typedef struct {
    char topic[160];
    uint8_t payload[1024];
    size_t payload_len;       /* truncated to sizeof payload; truncated flag set */
    bool truncated;
    /* Optional: where the message came among what the port received: a count the port raises
     * on every PUBLISH, PUBACK, SUBACK and UNSUBACK it takes in, in the wire's order (skipping
     * 0 when it wraps), request_order() below. 0 = not stamped (the core zeroes it before poll()). */
    uint32_t order;
} sc_mqtt_msg_t;

/* MQTT 3.1.1 client (used by the cloud binder, cloud.h). connect starts connecting and returns
 * (resolving a host name may block, docs/porting.md "Threads, contexts and blocking");
 * state() tells the outcome (reason: CONNACK code or port errno on FAILED). The port copies
 * the sc_mqtt_connect_t strings and the PSK (the binder wipes the password and the PSK when
 * connect returns).
 * Messages on subscribed topics are queued by the port (a few suffice) and drained through
 * poll(). connect, state, subscribe, publish and poll are the binder's minimum: with one of
 * them NULL the bind step fails with err 1, sub SC_ERR_UNSUPPORTED (told to the app). */
typedef struct {
    void *ctx;
    sc_err_t (*connect)(void *ctx, const sc_mqtt_connect_t *params);
    sc_mqtt_state_t (*state)(void *ctx, int *reason);   /* reason: port/broker code on failure */
    sc_err_t (*subscribe)(void *ctx, const char *topic, int qos);
    /* *mid identifies the publish; puback_received() tells when QoS 1 was acknowledged (NULL:
     * the binder takes the cloud's reply as the only evidence). */
    sc_err_t (*publish)(void *ctx, const char *topic, const void *payload, size_t len, int qos, int *mid);
    bool (*puback_received)(void *ctx, int mid);
    /* Non-blocking: SC_ERR_AGAIN when no message is queued. */
    sc_err_t (*poll)(void *ctx, sc_mqtt_msg_t *msg);
    sc_err_t (*disconnect)(void *ctx);
    /* Optional (NULL = unsupported; the AT data channel then trusts subscribe()): a SUBSCRIBE
     * / UNSUBSCRIBE whose broker answer the caller follows through request_status(*mid).
     * Same thread and non-blocking rules as publish(); the port copies the topic. */
    sc_err_t (*subscribe_req)(void *ctx, const char *topic, int qos, int *mid);
    sc_err_t (*unsubscribe)(void *ctx, const char *topic, int *mid);
    /* Outcome of such a request: SC_ERR_AGAIN not answered yet, SC_OK granted (UNSUBACK, or
     * SUBACK with a QoS), SC_ERR_REFUSED SUBACK 0x80, SC_ERR_NOTFOUND unknown or forgotten mid
     * (the port remembers at least the last 16 answers). */
    sc_err_t (*request_status)(void *ctx, int mid);
    /* Optional (NULL, or 0 from it = unknown): the order stamp (sc_mqtt_msg_t.order) of the
     * PUBACK, SUBACK or UNSUBACK that answered mid (a publish's or a request's), 0 while it is
     * not in. Lets the AT data channel tell a message the broker sent before a SUBACK (not
     * delivered: the topic was not granted yet) or a PUBACK (printed before the publish's OK)
     * from one after it, when both wait in the port at once; without it such a message is
     * delivered, after the answer. Same thread and non-blocking rules. */
    uint32_t (*request_order)(void *ctx, int mid);
} sc_hal_mqtt_t;

/* Small key/value records. What a port must guarantee, exactly:
 *  - put() replaces atomically: whenever power is lost during put(), a later get() returns
 *    the complete previous value (SC_ERR_NOTFOUND if there was none) or the complete new
 *    one — never a mix, never a prefix. (A file: write a temp file, fsync, rename. Flash: a
 *    copy-on-write key/value store, as vendor NVS libraries are.)
 *  - a put() that returns an error leaves the previous value; erase() is atomic too;
 *  - keys are independent: writing or erasing one never changes another;
 *  - a value read back is the value written (no silent truncation: SC_ERR_NOSPACE).
 * Nothing more: bit rot is the core's problem (every record carries a CRC-32 and reads as
 * absent when it fails). The core's records: psk (binder), devinfo/prdinfo (AT) are single
 * records resting on the atomic replace; errrec.a/b and log.a/b (device), rewritten on every
 * step, keep two slots so that even a cut mid-write on a port that broke the promise loses
 * at most the newest entry (diag.h). Keys are short ASCII names (<= 15 chars); values
 * <= 1400 bytes. put() may block for a flash write. */
typedef struct {
    void *ctx;
    /* SC_ERR_NOTFOUND when absent; SC_ERR_NOSPACE when the value is longer than cap. */
    sc_err_t (*get)(void *ctx, const char *key, void *buf, size_t cap, size_t *len);
    sc_err_t (*put)(void *ctx, const char *key, const void *buf, size_t len);
    sc_err_t (*erase)(void *ctx, const char *key); /* SC_OK when absent */
} sc_hal_storage_t;

/* HTTP(S) POST for dynamic registration. post() blocks, bounded by timeout_ms. */
typedef struct {
    void *ctx;
    sc_err_t (*post)(void *ctx, const char *url, const char *content_type, const void *body, size_t len,
                     uint32_t timeout_ms, int *status, char *resp, size_t cap, size_t *resp_len);
    /* Optional: the same POST without blocking, so that a front-end keeps answering while it
     * runs (AT+TCDEVREG answers "busy p..." to other commands meanwhile; the binder's dynamic
     * registration leaves the device's step to its 8266 and log services; with NULL here both
     * block in post()). One at a time. post_start() copies url, content type and body before
     * it returns (the caller wipes its body at once) and never waits on the network;
     * post_poll() returns SC_ERR_AGAIN while the exchange runs, then once the result post()
     * would have given (status and response copied into resp, as post() does) and the
     * exchange is over; post_cancel() ends it at any time (idempotent). The port wipes its
     * copies of body and response: they carry signatures and secrets. */
    sc_err_t (*post_start)(void *ctx, const char *url, const char *content_type, const void *body, size_t len,
                           uint32_t timeout_ms);
    sc_err_t (*post_poll)(void *ctx, int *status, char *resp, size_t cap, size_t *resp_len);
    void (*post_cancel)(void *ctx);
    /* Optional (OTA, docs/ota.md): one streamed GET at a time, non-blocking. get_start() asks
     * for url from byte `offset` on ("Range: bytes=<offset>-" when offset > 0) and returns at
     * once; get_read() hands over what arrived: SC_OK with *len > 0, SC_ERR_AGAIN nothing yet,
     * SC_ERR_DONE the body ended cleanly, SC_ERR_NOTFOUND 404, SC_ERR_AUTH 401/403,
     * SC_ERR_RANGE 416, SC_ERR_PROTO any other status or a whole body (200) to a ranged
     * request, SC_ERR_IO the connection broke. get_close() ends it (any time, idempotent). */
    sc_err_t (*get_start)(void *ctx, const char *url, uint32_t offset);
    sc_err_t (*get_read)(void *ctx, void *buf, size_t cap, size_t *len);
    void (*get_close)(void *ctx);
} sc_hal_http_t;

/* Firmware image store (OTA): one complete image and one being downloaded ("partial"). Kept
 * apart from the key/value storage because an image is far bigger than a record. write()
 * goes to the partial image (offset 0 starts it afresh; offsets only ever follow what was
 * written); commit() makes the partial image the complete one atomically (power loss leaves
 * the old or the new, never a mix); discard() drops the partial image; read() reads the
 * complete one (SC_ERR_NOTFOUND when there is none, *len < cap at its end). May block for
 * a flash write. SC_ERR_NOSPACE when the medium is full. */
typedef struct {
    void *ctx;
    sc_err_t (*write)(void *ctx, uint32_t offset, const void *buf, size_t len);
    sc_err_t (*commit)(void *ctx);
    sc_err_t (*discard)(void *ctx);
    sc_err_t (*read)(void *ctx, uint32_t offset, void *buf, size_t cap, size_t *len);
} sc_hal_fw_t;

typedef enum { SC_LOG_ERROR = 0, SC_LOG_WARN, SC_LOG_INFO, SC_LOG_DEBUG } sc_log_level_t;

typedef struct {
    void *ctx;
    uint32_t (*now_ms)(void *ctx);                     /* monotonic milliseconds (may wrap) */
    uint64_t (*unix_time)(void *ctx);                  /* seconds since the epoch (0 = unknown; before
                                                        * SC_CLOUD_CLOCK_FLOOR, 2023: not set yet) */
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
    sc_hal_fw_t fw;          /* OTA image store (NULL functions: no OTA) */
} sc_hal_t;

#ifdef __cplusplus
}
#endif
#endif
