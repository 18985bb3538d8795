/* SPDX-License-Identifier: Apache-2.0 */
/* The phone's datagram stream for any of the three protocols: the reference sender's packets
 * and timing (ESP-TOUCH v1, ESP-TOUCH v2, AirKiss), the ports they use and what a valid ack
 * looks like. One iterator for `smartcfg send` and anything else that plays a phone. Sans-I/O. */
#ifndef SMARTCFG_SEND_STREAM_H
#define SMARTCFG_SEND_STREAM_H

#include "smartcfg/receiver.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What v2 and AirKiss carry beyond the v1 credentials. */
typedef struct {
    const uint8_t *reserved;        /* v2 reserved data (may be NULL) */
    uint8_t reserved_len;
    const uint8_t *key;             /* v2: 16-byte AES key, NULL = no encryption */
    uint8_t random_iv;              /* v2: security 2 (iv below) instead of a zero IV */
    uint8_t iv[SC_ET2_IV_WIRE];
    uint8_t port_mark;              /* v2: 0..3, the ack port is 18266 + 10000 * mark */
    uint8_t random;                 /* AirKiss: R */
    sc_et2_pad_fn pad;              /* v2 padding source (NULL = zeros) */
    void *pad_user;
} sc_send_extra_t;

typedef struct {
    uint32_t at_ms;                 /* due time since the stream's t = 0 */
    uint16_t len;                   /* UDP payload length */
    uint32_t group;                 /* v1 burst/triplet counter (multicast address); 0 otherwise */
    uint8_t boundary;               /* stopping before this datagram tears no unit apart */
} sc_send_dgram_t;

typedef struct {
    sc_proto_t proto;
    uint16_t dest_port;             /* 7001 (v1, v2) or 10001 (AirKiss) */
    uint16_t ack_port;              /* 18266, 18266 + 10000 * mark, or 10000 */
    uint8_t ack_token;              /* v1: T; v2: port mark; AirKiss: R */
    uint16_t cycle_len;             /* datagrams in one cycle / round */
    uint16_t max_len;               /* longest datagram */
    uint32_t prev_ms;
    union {
        struct { sc_et_encoder_t enc; sc_et_sched_t sched; } v1;
        struct { sc_et2_encoder_t enc; sc_et2_sched_t sched; } v2;
        struct { sc_ak_encoder_t enc; sc_ak_sched_t sched; } ak;
    } u;
} sc_send_stream_t;

/* window_ms: stop sending after this (capped by the protocol's own window: 45, 90, 60 s). */
SC_API sc_err_t sc_send_stream_init(sc_send_stream_t *s, sc_proto_t proto, const sc_et_creds_t *c,
                                    const sc_send_extra_t *x, uint32_t window_ms);
/* Next datagram; sent_prev_ms = when the previous one really left. SC_ERR_DONE at the end. */
SC_API sc_err_t sc_send_stream_next(sc_send_stream_t *s, uint32_t sent_prev_ms, sc_send_dgram_t *out);
/* A datagram received on ack_port: SC_OK when it is this session's ack; mac = the device's
 * MAC when the ack carries one (*has_mac), else zeros. */
SC_API sc_err_t sc_send_stream_ack(const sc_send_stream_t *s, const uint8_t *buf, size_t len, uint8_t mac[SC_MAC_LEN],
                                   bool *has_mac);

#ifdef __cplusplus
}
#endif
#endif
