/* SPDX-License-Identifier: Apache-2.0 */
/* WeChat AirKiss: the sender's symbols and exact schedule, the device's acknowledgement and the
 * receiver. Protocol: docs/protocol/airkiss.md. Sans-I/O, no heap; the random byte is the
 * caller's to draw.
 * Left-out modules: its functions exist only with SMARTCFG_WITH_AIRKISS, SMARTCFG_WITH_SENDER or
 * SMARTCFG_WITH_SIM on; the header is installed either way for receiver.h, which uses its types
 * and sizes. A call to one of them in a build without them is a compile error naming the switch
 * (SC_LEFT_OUT, features.h). */
#ifndef SMARTCFG_AIRKISS_H
#define SMARTCFG_AIRKISS_H

#include "smartcfg/esptouch_rx.h" /* sc_frame_t, event types, CRC-8 */

#ifdef __cplusplus
extern "C" {
#endif

#if SMARTCFG_WITH_AIRKISS || SMARTCFG_WITH_SENDER || SMARTCFG_WITH_SIM
#define SC_AK_API SC_API
#else
#define SC_AK_API SC_API SC_LEFT_OUT("needs SMARTCFG_WITH_AIRKISS, SMARTCFG_WITH_SENDER or SMARTCFG_WITH_SIM")
#endif

#define SC_AK_PORT 10001          /* the phone's datagrams go to 255.255.255.255:10001 */
#define SC_AK_ACK_PORT 10000      /* the device answers the random byte here */
#define SC_AK_MSG_MAX 127         /* T = password + 1 + SSID, as the magic field allows */
#define SC_AK_GUIDE_REPEAT 50
#define SC_AK_MAGIC_REPEAT 20
#define SC_AK_PREFIX_REPEAT 15
#define SC_AK_MAX_SEQ_SYMS (2 * 25 + 97) /* smartcfg's sender: T <= 97 */

typedef struct {
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len;             /* 1..32 */
    uint8_t password[SC_PASSWORD_MAX];
    uint8_t password_len;         /* 0..64 */
    uint8_t random;               /* R; smartcfg draws 0..126 */
} sc_ak_params_t;

typedef struct {
    uint8_t t, crc_ssid, p, crc_p;
    uint16_t guide[4], magic[4], prefix[4];
    uint16_t seq[SC_AK_MAX_SEQ_SYMS];  /* all sequence blocks, in order */
    uint16_t nseq;
    uint32_t round_len;                /* datagrams per round */
} sc_ak_encoder_t;

SC_AK_API sc_err_t sc_ak_encode(sc_ak_encoder_t *e, const sc_ak_params_t *p);

/* --- schedule: one datagram every 5 ms, rounds back to back, nothing after 60 s ---------- */
typedef struct {
    uint32_t gap_ms;              /* 5 */
    uint32_t window_ms;           /* 60000: the last datagram leaves at or before this */
} sc_ak_timing_t;

#define SC_AK_TIMING_DEFAULT { 5u, 60000u }

typedef struct {
    uint32_t at_ms;
    uint16_t len;
    uint8_t phase;                /* 0 guide, 1 magic, 2 prefix, 3 sequence */
} sc_ak_dgram_t;

typedef struct {
    const sc_ak_encoder_t *enc;
    sc_ak_timing_t timing;
    uint32_t k;                   /* datagrams returned */
} sc_ak_sched_t;

SC_AK_API sc_err_t sc_ak_sched_init(sc_ak_sched_t *s, const sc_ak_encoder_t *enc, const sc_ak_timing_t *timing);
/* Datagram k is due at k * gap (the schedule is the contract; a real sender that is late sends
 * it late, the next one is still due on the grid). SC_ERR_DONE after the window. */
SC_AK_API sc_err_t sc_ak_sched_next(sc_ak_sched_t *s, sc_ak_dgram_t *out);

/* --- acknowledgement ---------------------------------------------------------------------- */
/* What the phone accepts on UDP 10000: first byte R, length 1 or 7 (then MAC in bytes 1..6;
 * mac may be NULL). SC_ERR_PROTO for another R, SC_ERR_FORMAT for another length. */
SC_AK_API sc_err_t sc_ak_ack_parse(const uint8_t *buf, size_t len, uint8_t random, uint8_t mac[SC_MAC_LEN],
                                   bool *has_mac);

/* --- receiver --------------------------------------------------------------------------- */
typedef struct {
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len;
    uint8_t password[SC_PASSWORD_MAX];
    uint8_t password_len;
    uint8_t random;
    uint8_t bssid[SC_MAC_LEN];    /* the AP of the stream that completed (not sent by the phone) */
    uint8_t has_bssid;
    uint8_t channel;
    uint16_t offset;
    uint8_t sender[SC_MAC_LEN];
} sc_ak_result_t;

typedef struct {
    uint16_t offset_min;          /* accepted overhead range (0 .. 200) */
    uint16_t offset_max;
    uint32_t idle_unlock_ms;      /* 3000 */
} sc_ak_rx_config_t;

/* Receiver state: caller-owned storage (common.h), the same size on every target. */
#define SC_AK_RX_SIZE 384u
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_AK_RX_SIZE)];
} sc_ak_rx_t;

typedef struct {
    uint32_t frames, locks, blocks_ok, bad_crc, conflicts, bad_ssid_crc;
} sc_ak_rx_stats_t;

SC_AK_API sc_err_t sc_ak_rx_init(sc_ak_rx_t *rx, const sc_ak_rx_config_t *cfg);
SC_AK_API void sc_ak_rx_reset(sc_ak_rx_t *rx);
SC_AK_API sc_err_t sc_ak_rx_resume(sc_ak_rx_t *rx);
/* As sc_et2_rx_feed: the result in *res (when not NULL) on DONE; on LOCKED only res->offset,
 * the locked stream's overhead. */
SC_AK_API sc_et_event_type_t sc_ak_rx_feed(sc_ak_rx_t *rx, const sc_frame_t *f, uint32_t now_ms, sc_ak_result_t *res);
SC_AK_API sc_et_event_type_t sc_ak_rx_tick(sc_ak_rx_t *rx, uint32_t now_ms);
SC_AK_API uint8_t sc_ak_rx_locked_channel(const sc_ak_rx_t *rx);
/* 1 if a searching stream on channel, heard within the last within_ms, got two frames in a
 * row (by sequence number) since one of a guide length: candidate traffic for the channel search. */
SC_AK_API int sc_ak_rx_candidate(const sc_ak_rx_t *rx, uint8_t channel, uint32_t now_ms, uint32_t within_ms);
/* Message bytes known / T (0 until the magic is known). */
SC_AK_API void sc_ak_rx_progress(const sc_ak_rx_t *rx, uint8_t *known, uint8_t *needed);
SC_AK_API void sc_ak_rx_stats(const sc_ak_rx_t *rx, sc_ak_rx_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif
