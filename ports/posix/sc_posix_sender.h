/* SPDX-License-Identifier: Apache-2.0 */
/* The sender host: the phone's side of a provisioning run on a Linux host, around the sans-I/O
 * state machines of smartcfg/sender.h. It owns the sockets (sc_send_posix.h), the clock and
 * the timing loop that puts each ESP-TOUCH datagram on the wire at its instant, collects the
 * devices' acks, runs each device's UDP 8266 token handshake and, with a cloud, creates the
 * bind token and follows the binding through the token API (libcurl). Request ids come from
 * the port's entropy (getrandom). Applications keep options and reporting: every step reaches
 * them as an sc_posix_sender_event_t (plain facts, never the password or the whole token).
 *
 *   sc_posix_sender_t *s;
 *   if (sc_posix_sender_open(&s, &cfg, why, sizeof why)) ...            // sockets, HTTP client
 *   if (cfg.flow == SC_POSIX_SENDER_CLOUD && sc_posix_sender_create_token(s)) ...  // cloud refused
 *   sc_posix_sender_run(s);            // until every device is done, the timeout, or a stop
 *   ... sc_posix_sender_stats(), sc_posix_sender_device() for the summary ...
 *   sc_posix_sender_close(s);          // password and token wiped
 *
 * One sender per process; single-threaded, except sc_posix_sender_request_stop() (signal-safe). */
#ifndef SC_POSIX_SENDER_H
#define SC_POSIX_SENDER_H

#include "sc_send_posix.h"
#include "smartcfg/send_stream.h"
#include "smartcfg/sender.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sc_posix_sender sc_posix_sender_t;
typedef struct sc_posix_sender_event sc_posix_sender_event_t;

typedef enum {
    SC_POSIX_SENDER_ACK_ONLY = 0,   /* ESP-TOUCH and acks only */
    SC_POSIX_SENDER_TOKEN,          /* hand a given token to each device */
    SC_POSIX_SENDER_CLOUD           /* get a token from the token API and follow the binding */
} sc_posix_sender_flow_t;

/* Where a device is; the order is the order of the flow. */
typedef enum {
    SC_POSIX_SDEV_ACKED = 0,        /* ack received */
    SC_POSIX_SDEV_HANDSHAKE,        /* token request going out */
    SC_POSIX_SDEV_IDENTIFIED,       /* the device has the token and told us who it is */
    SC_POSIX_SDEV_BOUND,            /* the cloud says State 2 for this device */
    SC_POSIX_SDEV_FAILED
} sc_posix_sdev_step_t;

typedef enum { SC_POSIX_SFAIL_NONE = 0, SC_POSIX_SFAIL_DEVICE, SC_POSIX_SFAIL_CLOUD } sc_posix_sfail_t;

typedef struct {
    sc_et_creds_t creds;            /* SSID, password, BSSID, phone IP (copied; wiped at close) */
    sc_posix_send_cfg_t net;        /* interface, destination mode (phone_ip is taken from creds) */
    sc_proto_t proto;               /* SC_PROTO_ESPTOUCH_V1 (the default; 0 is read as v1), _V2, SC_PROTO_AIRKISS: sender, timing, ack */
    sc_send_extra_t extra;          /* v2 reserved data / key / IV / port mark, AirKiss random byte */
    uint32_t count;                 /* devices to wait for; 0 = as many as answer until the timeout */
    uint32_t timeout_ms;            /* look for devices this long (sending stops at 45 s at most) */
    /* Once the run has its devices (count reached, or all_found), acks still come from devices
     * that decoded the same datagrams and joined the AP later: listen this long past the last
     * datagram (or past the moment it had them, when sending was over by then) for them
     * (ACK_EXTRA, not taken). 0 (the default): end as soon as the devices are done. Not after
     * a timeout: the caller said how long to look. */
    uint32_t linger_ms;
    /* count 0 only, may be NULL: the app waits for devices it knows (a list of MACs or names)
     * and says when they are all there; discovery then ends as when count is reached, and the
     * timeout, when it comes first, is told (TIMEOUT) while this says false. */
    bool (*all_found)(void *user);
    sc_posix_sender_flow_t flow;
    const char *token;              /* TOKEN flow: the token (copied) */
    const char *cloud_url;          /* CLOUD flow: the token API's base URL */
    const char *access_token;       /* CLOUD flow: AccessToken (may be NULL) */
    const char *region;             /* added to the token request when not NULL */
    bool handle_signals;            /* SIGINT/SIGTERM stop the run; SIGPIPE ignored */
    void (*on_event)(void *user, const sc_posix_sender_event_t *ev);
    void (*on_turn)(void *user, uint32_t now_ms);   /* every turn of the loop (progress); may be NULL */
    void *user;
} sc_posix_sender_cfg_t;

typedef enum {
    SC_POSIX_SEV_TOKEN_CREATED = 0, /* text: abbreviated token; n: expire time; dev: -1 for the
                                     * token made before the run (the first device's), else the
                                     * device a fresh token was made for */
    SC_POSIX_SEV_CLOUD_ERROR,       /* the cloud refused or failed (dev -1: creating the token) */
    SC_POSIX_SEV_SENDING,           /* the run starts (its clock too): stats say what goes out */
    SC_POSIX_SEV_SENDING_DONE,      /* n: datagrams sent */
    SC_POSIX_SEV_ACK_REJECTED,      /* ip: from; n: length; text: reason (the first few only) */
    SC_POSIX_SEV_ACK_EXTRA,         /* a device acked that the run does not take: ip, mac; n: count;
                                     * reason: "count" (beyond count), "full" (the run's
                                     * SC_SEND_MAX_DEVICES are taken) or "late" (after the run
                                     * stopped looking); once per device (sc_posix_sender_extra) */
    SC_POSIX_SEV_ACK,               /* a new device: dev */
    SC_POSIX_SEV_IP_MISMATCH,       /* dev: its ack names another address than it came from */
    SC_POSIX_SEV_STRAY,             /* a UDP 8266 datagram from an address that never acked: ip */
    SC_POSIX_SEV_TOKEN_SENT,        /* dev; n: attempt; failed: the send failed */
    SC_POSIX_SEV_IDENTITY,          /* dev: product id / device name known */
    SC_POSIX_SEV_DEVICE_FAILED,     /* dev; text: why; reason: "device_error", "no_response",
                                     * "cloud_error" or "bind_timeout" */
    SC_POSIX_SEV_PREVIOUS_ERROR,    /* dev; text: the error the device queued earlier */
    SC_POSIX_SEV_MALFORMED,         /* dev; text: why its reply was unusable */
    SC_POSIX_SEV_POLL,              /* dev; n: poll number; state: its token's state */
    SC_POSIX_SEV_CLOUD_RETRY,       /* dev; text: what failed; the next request may do better */
    SC_POSIX_SEV_BOUND,             /* dev */
    SC_POSIX_SEV_BOUND_OTHER,       /* dev: its token was used by product_id/device_name */
    SC_POSIX_SEV_TIMEOUT,           /* n: devices found (< count) */
    SC_POSIX_SEV_SEND_ERROR         /* a datagram could not be sent (no route, the interface down,
                                     * a firewall): text: why (strerror); ip: to where; n: its
                                     * port. Told once a run, at the first such failure */
} sc_posix_sender_ev_type_t;

struct sc_posix_sender_event {
    sc_posix_sender_ev_type_t type;
    int dev;                        /* device index (sc_posix_sender_device) or -1 */
    const char *text;               /* message / reason / abbreviated token; never a secret */
    const char *reason;             /* SC_POSIX_SEV_DEVICE_FAILED: which failure */
    uint8_t ip[4];
    uint8_t mac[SC_MAC_LEN];
    uint32_t n;
    int32_t state;
    bool failed;
    const char *product_id, *device_name;
};

/* One device as the app reports it. */
typedef struct {
    sc_posix_sdev_step_t step;
    sc_posix_sfail_t fail;
    uint8_t mac[SC_MAC_LEN];
    uint8_t ip[4];                  /* where its ack came from (the address we talk to) */
    uint8_t ack_ip[4];              /* the address its ack named */
    const char *product_id, *device_name, *product_region;  /* "" until known */
    const char *why;                /* FAILED: why */
    const char *token_abbrev;       /* its token, abbreviated ("" until it has one) */
    uint32_t sends, max_sends;      /* token requests sent so far / at most */
    uint32_t ack_ms;                /* when its first ack came (sc_posix_sender_ms) */
    uint32_t done_ms;               /* when it ended (done for the flow, or failed); valid if done */
    bool done;                      /* ended: sc_posix_sender_device_ok() or FAILED */
} sc_posix_sender_device_t;

/* A device that acked and was not taken (SC_POSIX_SEV_ACK_EXTRA). */
typedef struct {
    uint8_t mac[SC_MAC_LEN];
    uint8_t ip[4];                  /* where its ack came from */
    const char *reason;             /* "count", "full" or "late" */
    uint32_t ack_ms;
} sc_posix_sender_extra_t;

typedef struct {
    uint32_t datagrams, send_errors, acks_accepted, acks_rejected;
    int send_errno;                 /* the last datagram's that could not be sent (SEND_ERROR), 0 */
    uint32_t found;                 /* devices taken on */
    uint32_t extra;                 /* devices that acked and were not taken (sc_posix_sender_extra) */
    uint32_t extra_more;            /* acks of further such devices beyond the extra list, counted only */
    uint32_t cycle;                 /* datagrams in one ESP-TOUCH cycle */
    uint8_t dest[4];                /* where the first datagram goes (multicast: rotates) */
    bool cloud_failed, interrupted;
    bool lingering;                 /* the devices are done: listening on for late acks (linger_ms) */
    const char *phase;              /* "guide", "data", "handshake", "binding" or "listening" */
    const char *token_abbrev;       /* "" in the ack-only flow */
} sc_posix_sender_stats_t;

void sc_posix_sender_cfg_default(sc_posix_sender_cfg_t *cfg);
/* Opens the sockets (and the HTTP client for the cloud flow). why says what failed and what to
 * do (no secret). */
sc_err_t sc_posix_sender_open(sc_posix_sender_t **out, const sc_posix_sender_cfg_t *cfg, char *why, size_t cap);
/* CLOUD flow: creates the first device's bind token (blocking, at most 15 s); each further
 * device gets a fresh one from the run when it acks. SC_OK after TOKEN_CREATED;
 * otherwise a CLOUD_ERROR event said why. */
sc_err_t sc_posix_sender_create_token(sc_posix_sender_t *s);
/* Sends, collects acks, runs the handshakes and the cloud polling until every device is done
 * (count reached), the timeout passed with nothing left to do, or a stop. */
void sc_posix_sender_run(sc_posix_sender_t *s);
void sc_posix_sender_close(sc_posix_sender_t *s);
/* Async-signal-safe: the run ends at its next turn (stats.interrupted). */
void sc_posix_sender_request_stop(int sig);

/* Milliseconds since the run (or the token creation) started. */
uint32_t sc_posix_sender_ms(const sc_posix_sender_t *s);
void sc_posix_sender_stats(const sc_posix_sender_t *s, sc_posix_sender_stats_t *out);
/* false when i >= found. */
bool sc_posix_sender_device(const sc_posix_sender_t *s, uint32_t i, sc_posix_sender_device_t *out);
/* 1..max printable ASCII characters without a space: what a token or a region may be (they
 * are echoed into JSON and, abbreviated, onto terminals). */
bool sc_posix_sender_printable(const char *s, size_t max);
/* false when i >= stats.extra: the devices that acked and were not taken, in ack order. */
bool sc_posix_sender_extra(const sc_posix_sender_t *s, uint32_t i, sc_posix_sender_extra_t *out);
/* true when that device finished well for the flow (acked / identified / bound). */
bool sc_posix_sender_device_ok(const sc_posix_sender_t *s, uint32_t i);

#ifdef __cplusplus
}
#endif
#endif
