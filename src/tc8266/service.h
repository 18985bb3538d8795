/* SPDX-License-Identifier: Apache-2.0 */
/* Core-internal: the UDP 8266 service (docs/protocol/tencent.md#the-udp-8266-service) and its twin,
 * the UDP 9876 log service of the log soft-AP
 * (docs/protocol/tencent.md#device-log-and-the-log-soft-ap). One socket each, sans-I/O over
 * hal.udp: the device's state machine drives it from sc_device_step() and decides what a valid
 * token request means; the service owns the wire — receiving and parsing, per-peer rate-limited
 * error replies, the identity reply and its repeats, error records to the app, the log reply.
 * Caller-owned state, no heap (cJSON's parse tree aside, bounded by SC_TC8266_DGRAM_MAX). */
#ifndef SC_TC8266_SERVICE_H
#define SC_TC8266_SERVICE_H

#include "smartcfg/diag.h"
#include "smartcfg/tc8266.h"

#define SC_TC8266_PEERS 8            /* per-peer error-reply rate limit table */
#define SC_TC8266_RL_BURST 4         /* error replies a peer may get at once ... */
#define SC_TC8266_RL_REFILL_MS 1000  /* ... and one more per second */
#define SC_TC8266_ID_REPEATS 2       /* the identity goes out 3 times in all ... */
#define SC_TC8266_ID_REPEAT_MS 1000  /* ... 1 s apart (UDP may be lost) */
#define SC_TC8266_LOG_RESEND_MS 500  /* the log service sends the log twice, 500 ms apart */
/* The reply budget, in bytes, over all peers and both services (one bucket the device shares
 * between 8266 and 9876): error and log replies spend it, identity replies (to requests with
 * an accepted token, rate-bounded by the device) do not. A per-peer table alone lets a host
 * rotating source ports get ~50x the bytes it sends; this bucket caps what all of the LAN
 * together gets at BUDGET_BYTES + BUDGET_RATE per second, so any flood above a trickle gets
 * back less than it sent. The capacity holds the longest log reply twice (it is sent twice). */
#define SC_TC8266_BUDGET_BYTES 3072
#define SC_TC8266_BUDGET_RATE 512    /* bytes per second */
/* The log (both copies) goes to one source address once per LOG_EVERY_MS: without it one host
 * asking 20 times a second kept the budget empty and the phone never got the log. Asked again
 * sooner, it goes out only while the budget keeps a whole log (both copies) for another
 * address besides (a phone whose two copies were lost is answered at once on a quiet device);
 * the last LOG_PEERS addresses served are remembered. */
#define SC_TC8266_LOG_EVERY_MS 10000
#define SC_TC8266_LOG_PEERS 4

typedef struct {
    uint32_t bytes;
    uint32_t at;                     /* last refill */
    bool started;
} sc_tc8266_budget_t;

typedef struct {
    uint8_t addr[4];
    bool used;
    uint32_t at;                     /* when it was last sent the log */
} sc_tc8266_log_peer_t;

typedef struct {
    sc_ipv4_ep_t ep;
    uint8_t tokens;
    uint8_t used;
    uint32_t refill_at;
    uint32_t last_seen;
} sc_tc8266_peer_t;

/* Counters, summed into sc_device_stats_t. */
typedef struct {
    uint32_t dgrams, bad_dgrams, err_replies, rate_limited, identity_replies, log_replies;
    uint32_t bytes_in, bytes_out;    /* all datagrams received / all replies sent */
} sc_tc8266_stats_t;

typedef struct {
    const sc_hal_t *hal;             /* the device's copy; outlives the service */
    const sc_diag_log_t *log;        /* what cmdType 3 returns */
    bool log_only;                   /* the 9876 service: cmdType 3 only, no error replies */
    bool log_raised;                 /* cmdType 3 is answered only while the log soft-AP is up */
    sc_tc8266_budget_t own_budget;
    sc_tc8266_budget_t *budget;      /* own_budget, or another service's (sc_tc8266_svc_share) */
    bool open;
    int h;
    sc_ipv4_ep_t app;                /* the sender of the last valid request */
    bool app_known;
    uint8_t id_repeats;
    uint32_t id_next;
    sc_ipv4_ep_t log_peer;           /* log service: where the second copy goes */
    bool log_resend;
    uint32_t log_resend_at;
    sc_tc8266_peer_t peers[SC_TC8266_PEERS];
    sc_tc8266_log_peer_t log_peers[SC_TC8266_LOG_PEERS];
    sc_tc8266_stats_t stats;
    uint8_t rxbuf[SC_TC8266_DGRAM_MAX + 1];
    char txbuf[SC_DIAG_LOG_ENTRIES * SC_DIAG_LOG_ENTRY_MAX + 1]; /* the longest reply: the log */
} sc_tc8266_svc_t;

void sc_tc8266_svc_init(sc_tc8266_svc_t *s, const sc_hal_t *hal, const sc_diag_log_t *log, bool log_only);
/* s spends `with`'s reply budget from now on (both must outlive each other). */
void sc_tc8266_svc_share(sc_tc8266_svc_t *s, sc_tc8266_svc_t *with);
/* The log soft-AP was raised (true) or taken down: cmdType 3 is answered only while it is up. */
void sc_tc8266_svc_log_raised(sc_tc8266_svc_t *s, bool up);
/* Binds local_ip (NULL = any):port. Keeps the peer table and counters. */
sc_err_t sc_tc8266_svc_open(sc_tc8266_svc_t *s, const uint8_t *local_ip, uint16_t port);
/* Closes the socket and forgets the app, pending repeats and who was sent the log; safe when
 * closed. */
void sc_tc8266_svc_close(sc_tc8266_svc_t *s);
/* Forgets the app and the rate-limit table (a new provisioning attempt). */
void sc_tc8266_svc_reset_peers(sc_tc8266_svc_t *s);

/* Takes one datagram off the socket. SC_OK: a token request (cmdType 0/1) the state machine
 * must judge, in *req (wipe it after use: cmdType 1 carries a password) from *from.
 * SC_ERR_DONE: a datagram was handled here (log query answered, bad datagram answered or
 * counted). SC_ERR_AGAIN: nothing queued (or closed). */
sc_err_t sc_tc8266_svc_recv(sc_tc8266_svc_t *s, uint32_t now, sc_ipv4_ep_t *from, sc_tc8266_req_t *req);

/* A Current_Error reply to one request the state machine refused: to its sender only,
 * rate-limited per peer, never a record, never a state change. `what` is for the log. */
void sc_tc8266_svc_reject(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *from, uint16_t err_id, int32_t sub_id,
                          uint32_t now, const char *what);
/* The sender of a valid request becomes the app: error records go there from now on. */
void sc_tc8266_svc_set_app(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *app);
/* Sends the identity reply to `to` now and schedules the repeats to the app. */
void sc_tc8266_svc_identify(sc_tc8266_svc_t *s, const sc_ipv4_ep_t *to, const sc_identity_t *id, uint32_t now);
/* Stops the identity repeats (the flow failed or left the service). */
void sc_tc8266_svc_stop_repeats(sc_tc8266_svc_t *s);
/* One error record to the app. SC_ERR_STATE when no app is known or the socket is closed. */
sc_err_t sc_tc8266_svc_send_error(sc_tc8266_svc_t *s, bool previous, uint16_t err_id, int32_t sub_id);

/* Time-driven work (identity repeats, the log's second copy); returns the next deadline,
 * at most `next`. */
uint32_t sc_tc8266_svc_step(sc_tc8266_svc_t *s, uint32_t now, const sc_identity_t *id, uint32_t next);

#endif
