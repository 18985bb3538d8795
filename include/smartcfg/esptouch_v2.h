/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v2: the sender's encoder and schedule, the device's acknowledgement and the
 * receiver (decoder). Protocol: docs/protocol/esptouch-v2.md. Sans-I/O, no heap: nothing here
 * sends, sleeps or allocates; random bytes (padding, IV) are the caller's to supply.
 * Left-out modules: its functions exist only with SMARTCFG_WITH_ESPTOUCH_V2, SMARTCFG_WITH_SENDER
 * or SMARTCFG_WITH_SIM on; the header is installed either way for receiver.h, which uses its types
 * and sizes. A call to one of them in a build without them is a compile error naming the switch
 * (SC_LEFT_OUT, features.h). */
#ifndef SMARTCFG_ESPTOUCH_V2_H
#define SMARTCFG_ESPTOUCH_V2_H

#include "smartcfg/esptouch_rx.h" /* sc_frame_t, event types */

#ifdef __cplusplus
extern "C" {
#endif

#if SMARTCFG_WITH_ESPTOUCH_V2 || SMARTCFG_WITH_SENDER || SMARTCFG_WITH_SIM
#define SC_ET2_API SC_API
#else
#define SC_ET2_API SC_API SC_LEFT_OUT("needs SMARTCFG_WITH_ESPTOUCH_V2, SMARTCFG_WITH_SENDER or SMARTCFG_WITH_SIM")
#endif

#define SC_ET2_PORT 7001            /* destination port of the phone's datagrams */
#define SC_ET2_ACK_PORT_BASE 18266  /* the phone listens on 18266 + 10000 * port mark */
#define SC_ET2_SYNC 1048            /* SYNC length */
#define SC_ET2_COUNT_BASE 1071      /* COUNT length = 1071 + N */
#define SC_ET2_SEQ_BASE 128         /* SEQ marker of body group j = 128 + j */
#define SC_ET2_MAX_GROUPS 41        /* N: header group + body groups */
#define SC_ET2_RESERVED_MAX 64      /* reserved ("custom") data bytes */
#define SC_ET2_KEY_LEN 16           /* AES-128 device key */
#define SC_ET2_IV_WIRE 20           /* security 2 sends 20 IV bytes, the first 16 are the IV */
#define SC_ET2_ACK_LEN 7            /* [port mark, STA MAC] */
#define SC_ET2_MAX_PKTS (4 + 8 + (SC_ET2_MAX_GROUPS - 1) * 11)

/* What the phone sends. */
typedef struct {
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len;               /* 0..32 (0: the device takes the SSID from its scan) */
    uint8_t password[SC_PASSWORD_MAX];
    uint8_t password_len;           /* 0..64 */
    uint8_t reserved[SC_ET2_RESERVED_MAX];
    uint8_t reserved_len;           /* 0..64 */
    uint8_t bssid[SC_MAC_LEN];
    uint8_t ipv6;                   /* 1: the phone's address is IPv6 (flag only; no address is sent) */
    uint8_t port_mark;              /* 0..3: the phone listens for acks on 18266 + 10000 * mark */
    uint8_t security;               /* 0: no AES; 1: AES-CBC, zero IV; 2: AES-CBC, random IV */
    uint8_t key[SC_ET2_KEY_LEN];    /* used when security != 0 */
    uint8_t iv[SC_ET2_IV_WIRE];     /* security 2: sent as is, the first 16 are the CBC IV */
} sc_et2_params_t;

/* The encoded packet list (one cycle) and the groups behind it. */
typedef struct {
    uint8_t header[6];
    uint8_t ngroups;                        /* N, header group included */
    uint8_t security;                       /* effective: 0 when no key or nothing to encrypt */
    uint16_t pkts[SC_ET2_MAX_PKTS];         /* UDP payload lengths in send order */
    uint16_t npkts;
} sc_et2_encoder_t;

/* pad: source of the segment padding bytes (the reference uses random 0..126); called once per
 * padding byte; NULL pads with zeros (the documented vectors). Returns SC_ERR_RANGE for lengths
 * beyond the limits or a layout needing more than 41 groups, SC_ERR_INVAL for a bad port mark
 * or security value, or for a password to encrypt that has bytes >= 0x80 and is not UTF-8 (a
 * receiver cannot tell its plaintext from a wrong key's; docs/protocol/esptouch-v2.md §8). */
typedef uint8_t (*sc_et2_pad_fn)(void *user);
SC_ET2_API sc_err_t sc_et2_encode(sc_et2_encoder_t *enc, const sc_et2_params_t *p, sc_et2_pad_fn pad, void *user);
/* 1 when a password may be sent encrypted: all bytes < 0x80, or UTF-8 (what sc_et2_encode
 * asks; a front-end says why before it fails). */
SC_ET2_API int sc_et2_can_encrypt(const uint8_t *password, unsigned len);

/* --- sender schedule (reference timing) ---------------------------------------------- */
typedef struct {
    uint32_t gap_ms;       /* 15: after every datagram, and once more after each complete list */
    uint32_t slow_after_ms;/* 45000: from here on the gap is slow_gap_ms */
    uint32_t slow_gap_ms;  /* 100 */
    uint32_t window_ms;    /* 90000: no datagram at or after this */
} sc_et2_timing_t;

#define SC_ET2_TIMING_DEFAULT { 15u, 45000u, 100u, 90000u }

typedef struct {
    uint32_t at_ms;        /* due time since the first datagram (t = 0) */
    uint16_t len;
    uint16_t index;        /* position in the packet list */
} sc_et2_dgram_t;

typedef struct {
    const sc_et2_encoder_t *enc;
    sc_et2_timing_t timing;
    uint32_t next_at;
    uint16_t index;
    uint32_t sent;
} sc_et2_sched_t;

SC_ET2_API sc_err_t sc_et2_sched_init(sc_et2_sched_t *s, const sc_et2_encoder_t *enc, const sc_et2_timing_t *timing);
/* Next datagram; sent_prev_ms as for sc_et_sched_next. SC_ERR_DONE after the window. */
SC_ET2_API sc_err_t sc_et2_sched_next(sc_et2_sched_t *s, uint32_t sent_prev_ms, sc_et2_dgram_t *out);

/* --- acknowledgement (device -> 255.255.255.255 : 18266 + 10000 * mark) ----------------- */
SC_ET2_API uint16_t sc_et2_ack_port(uint8_t port_mark);          /* marks > 3 count as 0, as devices do */
SC_ET2_API void sc_et2_ack_build(uint8_t port_mark, const uint8_t mac[SC_MAC_LEN], uint8_t out[SC_ET2_ACK_LEN]);
/* What the phone accepts: at least 7 bytes; the MAC is bytes 1..6. */
SC_ET2_API sc_err_t sc_et2_ack_parse(const uint8_t *buf, size_t len, uint8_t mac[SC_MAC_LEN]);

/* --- receiver ------------------------------------------------------------------------- */
typedef struct {
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len;               /* 0 when the phone did not send it */
    uint8_t password[SC_PASSWORD_MAX];
    uint8_t password_len;
    uint8_t reserved[SC_ET2_RESERVED_MAX];
    uint8_t reserved_len;
    uint8_t bssid[SC_MAC_LEN];      /* the AP whose BSSID matches the header's BSSID CRC */
    uint8_t has_bssid;              /* 0: no stream's BSSID matched (Ethernet, length-only) */
    uint8_t bssid_crc;              /* as sent */
    uint8_t port_mark;              /* where the phone waits for the ack */
    uint8_t security;               /* 0, 1, 2 as sent */
    uint8_t password_ok;            /* 0: encrypted and no (right) key: password and reserved
                                       are unknown (lengths 0), never guessed */
    uint8_t ipv6;
    uint8_t channel;
    uint16_t offset;                /* overhead of the stream that completed */
    uint8_t sender[SC_MAC_LEN];     /* the phone's MAC */
} sc_et2_result_t;

typedef struct {
    uint16_t offset_min;            /* accepted overhead range (defaults 0 .. 200) */
    uint16_t offset_max;
    uint32_t idle_unlock_ms;        /* drop a lock after this long without a v2 symbol (3000) */
} sc_et2_rx_config_t;

/* Receiver state: caller-owned storage (common.h), the same size on every target. */
#define SC_ET2_RX_SIZE 584u
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_ET2_RX_SIZE)];
} sc_et2_rx_t;

typedef struct {
    uint32_t frames, locks, groups_ok, bad_crc, bad_header, conflicts, decrypt_fail;
} sc_et2_rx_stats_t;

SC_ET2_API sc_err_t sc_et2_rx_init(sc_et2_rx_t *rx, const sc_et2_rx_config_t *cfg); /* cfg may be NULL */
/* The device key for encrypted sessions (16 bytes, copied); NULL forgets it. */
SC_ET2_API void sc_et2_rx_set_key(sc_et2_rx_t *rx, const uint8_t *key16);
SC_ET2_API void sc_et2_rx_reset(sc_et2_rx_t *rx);   /* forget everything but config and key */
/* After DONE: forget the completed session, keep decoding the others. */
SC_ET2_API sc_err_t sc_et2_rx_resume(sc_et2_rx_t *rx);
/* Feeds one frame at now_ms; returns SC_ET_EV_LOCKED / PROGRESS / DONE / NONE (UNLOCKED comes
 * from the tick). On DONE the result is in *res (when not NULL) and the receiver stays done
 * until resume or reset; on LOCKED only res->offset is written: the locked stream's overhead. */
SC_ET2_API sc_et_event_type_t sc_et2_rx_feed(sc_et2_rx_t *rx, const sc_frame_t *f, uint32_t now_ms,
                                             sc_et2_result_t *res);
SC_ET2_API sc_et_event_type_t sc_et2_rx_tick(sc_et2_rx_t *rx, uint32_t now_ms);
SC_ET2_API uint8_t sc_et2_rx_locked_channel(const sc_et2_rx_t *rx);
/* 1 if a searching stream on channel, heard within the last within_ms, saw the head of a
 * packet list (a SYNC then a COUNT of one transmitter): candidate traffic for the channel search. */
SC_ET2_API int sc_et2_rx_candidate(const sc_et2_rx_t *rx, uint8_t channel, uint32_t now_ms, uint32_t within_ms);
/* Groups validated / groups needed (0 until the header is known). */
SC_ET2_API void sc_et2_rx_progress(const sc_et2_rx_t *rx, uint8_t *known, uint8_t *needed);
SC_ET2_API void sc_et2_rx_stats(const sc_et2_rx_t *rx, sc_et2_rx_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif
