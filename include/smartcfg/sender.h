/* SPDX-License-Identifier: Apache-2.0 */
/* The phone side of provisioning (what the EspTouch app / Tencent mini-program does after the
 * ESP-TOUCH datagrams are on the air), sans-I/O:
 *  - ack collector: validates ESP-TOUCH v1 acks (UDP 18266), de-duplicates devices by MAC and
 *    cross-checks the IP in the ack body with the datagram's source address;
 *  - token handshake (UDP 8266, docs/protocol/tencent.md#the-udp-8266-service): one state
 *    machine per device, fed the clock and the device's replies, tells when to (re)send the
 *    token request;
 *  - token API (docs/protocol/tencent.md#the-apps-token-api): request bodies and response
 *    parsing for the app <-> cloud calls, and the state polling policy.
 * Everything is driven by the caller with the current time; nothing here sends or sleeps.
 * cJSON builds/parses the JSON (small, bounded allocations, none in the datagram path). */
#ifndef SMARTCFG_SENDER_H
#define SMARTCFG_SENDER_H

#include "smartcfg/esptouch.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SC_SEND_MAX_DEVICES 32
#define SC_SEND_TEXT_MAX 160          /* device log text / cloud message kept for reporting */
#define SC_SEND_REQUEST_MAX 192       /* the cmdType 0 request */

/* --- ack collector -------------------------------------------------------------------- */
typedef struct {
    uint8_t mac[SC_MAC_LEN];
    uint8_t ack_ip[4];        /* the IP the device put in its ack */
    uint8_t src_ip[4];        /* where the ack came from */
    bool ip_mismatch;         /* ack_ip != src_ip (reported; src_ip is used) */
} sc_send_ack_dev_t;

typedef struct {
    uint8_t expected_t;       /* 9 + ssid_len + password_len */
    uint32_t ndev;
    sc_send_ack_dev_t dev[SC_SEND_MAX_DEVICES];
    uint32_t accepted;        /* valid acks, duplicates included */
    uint32_t rejected;        /* wrong length / wrong first byte / another MAC of a known address */
    uint32_t overflow;        /* new devices dropped because the table was full */
} sc_send_acks_t;

SC_API void sc_send_acks_init(sc_send_acks_t *a, uint8_t expected_t);
/* Feeds one datagram received on UDP 18266. SC_OK and *index = the device's slot
 * (*is_new says whether it is the first ack of that MAC); SC_ERR_FORMAT / SC_ERR_PROTO when
 * the datagram is not a valid ack for this session (counted, to be ignored); SC_ERR_BUSY
 * (counted as rejected) for a new MAC from an address that already acked under another one:
 * one device per address; SC_ERR_NOSPACE when the device table is full. */
SC_API sc_err_t sc_send_acks_on_datagram(sc_send_acks_t *a, const uint8_t src_ip[4], const uint8_t *buf,
                                         size_t len, uint32_t *index, bool *is_new);

/* --- token handshake (UDP 8266) ---------------------------------------------------------- */
typedef struct {
    uint32_t resend_ms;       /* 2000 */
    uint8_t max_sends;        /* 6: the first send + 5 resends */
} sc_send_hs_timing_t;

#define SC_SEND_HS_TIMING_DEFAULT { 2000u, 6u }

typedef enum {
    SC_SEND_HS_IDLE = 0,
    SC_SEND_HS_WAITING,       /* token sent, no identity yet */
    SC_SEND_HS_IDENTIFIED,    /* identity received: the device has the token */
    SC_SEND_HS_FAILED         /* Current_Error or no answer (UDP_NOT_RESPONSE) */
} sc_send_hs_state_t;

typedef enum {
    SC_SEND_HS_EV_NONE = 0,
    SC_SEND_HS_EV_SEND,           /* send the request (sc_send_hs_request) to the device now */
    SC_SEND_HS_EV_IDENTITY,       /* first identity reply: product_id, device_name */
    SC_SEND_HS_EV_REPEAT,         /* the same reply again (the device sends it 3 times) */
    SC_SEND_HS_EV_DEVICE_ERROR,   /* Current_Error: handshake aborted, text = device log */
    SC_SEND_HS_EV_PREVIOUS_ERROR, /* Previous_Error: reported, handshake goes on */
    SC_SEND_HS_EV_MALFORMED,      /* unusable reply: reported and ignored, text = why */
    SC_SEND_HS_EV_NO_RESPONSE,    /* no identity after max_sends: UDP_NOT_RESPONSE */
    SC_SEND_HS_EV_IGNORED         /* a valid message we have no use for in this state */
} sc_send_hs_ev_t;

typedef struct {
    sc_send_hs_timing_t timing;
    sc_send_hs_state_t state;
    char request[SC_SEND_REQUEST_MAX];
    size_t request_len;
    uint8_t sends;
    uint32_t next_at;             /* next send (WAITING, sends < max) or give-up time */
    uint32_t replies;             /* valid replies seen (identity and errors) */
    uint32_t malformed;
    char product_id[SC_PRODUCT_ID_MAX + 1];
    char device_name[SC_DEVICE_NAME_MAX + 1];
    char product_region[SC_REGION_MAX + 1];  /* optional in the reply */
    char text[SC_SEND_TEXT_MAX];  /* last error log / malformed reason (never a secret) */
} sc_send_hs_t;

/* Builds {"cmdType":0,"token":"<token>"[,"region":"<region>"]} (region NULL or "" = none).
 * token: 1..SC_TOKEN_MAX printable characters. The first send is due at now_ms. */
SC_API sc_err_t sc_send_hs_start(sc_send_hs_t *h, const char *token, const char *region,
                                 const sc_send_hs_timing_t *timing, uint32_t now_ms);
/* Time-driven part: returns SC_SEND_HS_EV_SEND when the request must go out now,
 * SC_SEND_HS_EV_NO_RESPONSE once when the device has not answered after the last resend's
 * interval, else SC_SEND_HS_EV_NONE. Call until it returns NONE. */
SC_API sc_send_hs_ev_t sc_send_hs_step(sc_send_hs_t *h, uint32_t now_ms);
/* The earliest time step() has something to do (UINT32_MAX when nothing is pending). */
SC_API uint32_t sc_send_hs_deadline(const sc_send_hs_t *h);
/* A datagram from the device. May hold several JSON objects (each optionally followed by
 * "\r\n"); the most significant event is returned and the state updated. Compact and
 * pretty-printed JSON are both accepted. */
SC_API sc_send_hs_ev_t sc_send_hs_on_datagram(sc_send_hs_t *h, const uint8_t *buf, size_t len);
SC_API const char *sc_send_hs_ev_name(sc_send_hs_ev_t ev);

/* --- token API (app <-> cloud, docs/protocol/tencent.md#the-apps-token-api) ------------------- */
#define SC_SEND_API_CREATE_TOKEN "AppCreateDeviceBindToken"
#define SC_SEND_API_TOKEN_STATE "AppGetDeviceBindTokenState"
#define SC_SEND_API_MULTI_STATE "AppGetMultiDeviceBindTokenState"

/* Request body {..params, "Action", "RequestId", "AccessToken"}; token NULL = no Token param.
 * Writes a NUL-terminated string; SC_ERR_NOSPACE when cap is too small. */
SC_API sc_err_t sc_send_api_request(char *out, size_t cap, const char *action, const char *token,
                                    const char *request_id, const char *access_token);

typedef struct {
    int code;                     /* envelope code (0 = ok) */
    char msg[SC_SEND_TEXT_MAX];   /* envelope msg, or data.Error.Message when present */
    char token[SC_TOKEN_MAX + 1];   /* AppCreateDeviceBindToken: Token */
    uint32_t expire_time;         /* AppCreateDeviceBindToken: ExpireTime (0 = absent) */
    int state;                    /* AppGetDeviceBindTokenState: State (0 = absent) */
    char product_id[SC_PRODUCT_ID_MAX + 1];
    char device_name[SC_DEVICE_NAME_MAX + 1];
    /* AppGetMultiDeviceBindTokenState: bound (State 2) devices */
    uint32_t nbound;
    struct {
        char product_id[SC_PRODUCT_ID_MAX + 1];
        char device_name[SC_DEVICE_NAME_MAX + 1];
    } bound[8];
} sc_send_api_reply_t;

/* Parses a response to `action`. SC_OK: envelope valid (check code); SC_ERR_FORMAT: not the
 * envelope, or a code-0 reply missing what the action must return (msg says what). */
SC_API sc_err_t sc_send_api_parse(const char *action, const char *body, size_t len, sc_send_api_reply_t *r);

/* The app's state polling policy: every interval_ms, at most max_polls times; restarted
 * (sc_send_poll_restart) when another device takes the token. */
typedef struct {
    uint32_t interval_ms;         /* 2000 */
    uint32_t max_polls;           /* 20 */
    uint32_t polls;
    uint32_t next_at;
    bool active;
} sc_send_poll_t;

SC_API void sc_send_poll_init(sc_send_poll_t *p, uint32_t interval_ms, uint32_t max_polls);
/* Starts or restarts the budget; the first poll is due interval_ms after now (the device
 * needs that long to reach the cloud). */
SC_API void sc_send_poll_restart(sc_send_poll_t *p, uint32_t now_ms);
/* true: issue a poll now (counted). */
SC_API bool sc_send_poll_due(sc_send_poll_t *p, uint32_t now_ms);
/* true once all max_polls have been issued and answered without success: give up
 * (BUSINESS_QUERY_BIND_TOKEN_TIMEOUT). Call after handling each poll's answer. */
SC_API bool sc_send_poll_exhausted(const sc_send_poll_t *p);
SC_API void sc_send_poll_stop(sc_send_poll_t *p);
SC_API uint32_t sc_send_poll_deadline(const sc_send_poll_t *p);

/* "ab12…" style abbreviation of a secret for display: at most 4 leading characters and an
 * ellipsis; never the whole secret (short secrets show fewer characters). */
SC_API void sc_send_abbrev(const char *secret, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
