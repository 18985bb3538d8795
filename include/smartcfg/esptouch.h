/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v1: CRC-8, the sender's encoder and send schedule, the 802.11 frame model
 * a sniffer delivers, and the device's acknowledgement. Protocol: docs/protocol/esptouch-v1.md.
 * Sans-I/O: nothing here sends, sleeps or allocates.
 * The receiver (decoder) is in esptouch_rx.h.
 * Left-out modules: the encoder and schedule (sc_et_encode, sc_et_datacode, sc_et_mcast_addr,
 * sc_et_sched_*) exist only with SMARTCFG_WITH_SENDER or SMARTCFG_WITH_SIM; the rest is always
 * built and the header always installed. A call to one of them in a build without them is a
 * compile error naming the switch (SC_LEFT_OUT, features.h). */
#ifndef SMARTCFG_ESPTOUCH_H
#define SMARTCFG_ESPTOUCH_H

#include "smartcfg/common.h"
#include "smartcfg/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* the encoder and schedule: with SMARTCFG_WITH_SENDER or SMARTCFG_WITH_SIM (features.h) */
#if SMARTCFG_WITH_SENDER || SMARTCFG_WITH_SIM
#define SC_ET_ENC_API SC_API
#else
#define SC_ET_ENC_API SC_API SC_LEFT_OUT("needs SMARTCFG_WITH_SENDER or SMARTCFG_WITH_SIM")
#endif

#define SC_ET_PORT 7001          /* destination port of the sender's datagrams */
#define SC_ET_ACK_PORT 18266     /* the phone listens here for device acks */
#define SC_ET_SP_MAX 113         /* ssid_len + password_len <= 113 (index <= 127) */
#define SC_ET_EXTRA_LEN 40
#define SC_ET_GUIDE_BASE 512     /* guide lengths 515, 514, 513, 512 */
#define SC_ET_MAX_CODES 111      /* T + 6 with T <= 105 */
#define SC_ET_MAX_CYCLE (3 * SC_ET_MAX_CODES)
#define SC_ET_ACK_LEN 11

/* Reflected CRC-8, poly 0x8C, init 0 (CRC-8/MAXIM-DOW; check "123456789" = 0xA1). */
SC_API uint8_t sc_crc8(const void *data, size_t len);
SC_API uint8_t sc_crc8_update(uint8_t crc, const void *data, size_t len);

/* What the phone sends. SSID/password are raw octets (not NUL-terminated). */
typedef struct {
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len;              /* 1..32 */
    uint8_t password[SC_PASSWORD_MAX];
    uint8_t password_len;          /* 0..64 */
    uint8_t bssid[SC_MAC_LEN];
    uint8_t phone_ip[4];           /* network order */
} sc_et_creds_t;

/* Validates lengths (ssid 1..32, password 0..64, ssid+password <= 113). */
SC_API sc_err_t sc_et_creds_check(const sc_et_creds_t *c);

typedef struct {
    uint8_t index;
    uint8_t value;
} sc_et_code_t;

/* The encoded datum: codes in the reference transmission order and the data cycle lengths. */
typedef struct {
    uint8_t t;                              /* T = 9 + ssid_len + password_len */
    uint8_t ncodes;                         /* T + 6 */
    uint8_t datum[128];                     /* value by index, 0 .. T+5 */
    sc_et_code_t order[SC_ET_MAX_CODES];    /* transmission order */
    uint16_t cycle[SC_ET_MAX_CYCLE];        /* 3 lengths per code, in order */
    uint16_t cycle_len;                     /* 3 * ncodes */
} sc_et_encoder_t;

SC_ET_ENC_API sc_err_t sc_et_encode(sc_et_encoder_t *enc, const sc_et_creds_t *c);
/* The three UDP payload lengths of one byte at one index. */
SC_ET_ENC_API void sc_et_datacode(uint8_t value, uint8_t index, uint16_t out[3]);

/* --- sender schedule ------------------------------------------------------------
 * The reference sender loop (docs/protocol/esptouch-v1.md#timing) as a deterministic iterator: each call
 * returns the next datagram and the time it is due. Pass the time the previous datagram
 * actually left (a real sender) or its due time (a simulator); phase decisions are taken
 * at the due time exactly as the reference loop takes them at "now". */
typedef struct {
    uint32_t gap_ms;      /* 8: pause after every datagram */
    uint32_t guide_ms;    /* 2000: guide phase length */
    uint32_t period_ms;   /* 6000: guide + data period */
    uint32_t window_ms;   /* 45000: sending window */
} sc_et_timing_t;

#define SC_ET_TIMING_DEFAULT { 8u, 2000u, 6000u, 45000u }

typedef struct {
    uint32_t at_ms;       /* due time, ms since the schedule start */
    uint16_t len;         /* UDP payload length */
    uint8_t is_guide;     /* 1 = guide datagram */
    uint8_t pos;          /* position inside its burst / triplet (0..3 / 0..2) */
    uint32_t group;       /* burst/triplet counter: multicast address rotates per group */
    uint16_t cursor;      /* data: index into enc->cycle of this datagram */
} sc_et_dgram_t;

typedef struct {
    const sc_et_encoder_t *enc;
    sc_et_timing_t timing;
    uint32_t next_at;          /* due time of the next datagram */
    uint32_t guide_start;      /* start of the current/last guide phase */
    uint16_t cursor;           /* data cursor, never reset by a guide phase */
    uint8_t pos;               /* next position in the burst/triplet */
    uint8_t group_is_guide;
    uint8_t started;           /* a guide phase has been started */
    uint32_t group;            /* number of groups started so far */
    uint32_t sent;             /* datagrams returned so far */
} sc_et_sched_t;

/* timing may be NULL (reference values). The schedule starts at 0 ms with a guide phase. */
SC_ET_ENC_API sc_err_t sc_et_sched_init(sc_et_sched_t *s, const sc_et_encoder_t *enc, const sc_et_timing_t *timing);
/* Next datagram due at or after sent_prev_ms (the time the previous one really left; pass
 * out->at_ms of the previous one for ideal timing). Returns SC_ERR_DONE after the window. */
SC_ET_ENC_API sc_err_t sc_et_sched_next(sc_et_sched_t *s, uint32_t sent_prev_ms, sc_et_dgram_t *out);
/* Multicast destination of a group: 234.n.n.n, n = 1 + (counter % 100). */
SC_ET_ENC_API void sc_et_mcast_addr(uint32_t group_counter, uint8_t ip[4]);

/* --- acknowledgement (device -> phone, UDP 18266) ---------------------------------- */
typedef struct {
    uint8_t t;               /* 9 + ssid_len + password_len */
    uint8_t mac[SC_MAC_LEN]; /* device station MAC */
    uint8_t ip[4];           /* device IPv4 */
} sc_et_ack_t;

SC_API void sc_et_ack_build(const sc_et_ack_t *a, uint8_t out[SC_ET_ACK_LEN]);
/* Accepts only exactly 11 bytes with byte 0 == expected_t (what the reference apps do). */
SC_API sc_err_t sc_et_ack_parse(const uint8_t *buf, size_t len, uint8_t expected_t, sc_et_ack_t *out);

/* --- what a sniffer delivers ------------------------------------------------------ */
enum {
    SC_FRAME_LEN_ONLY = 0,  /* the radio reported a length and nothing else */
    SC_FRAME_80211 = 1,     /* 802.11 MAC header fields are valid */
    SC_FRAME_ETHERNET = 2   /* a wired capture: addr1 = destination, addr2 = source */
};

typedef struct {
    uint16_t len;            /* frame length as the radio reports it (802.11 header onward;
                                includes the FCS when the radio does); Ethernet: whole frame */
    uint8_t kind;            /* SC_FRAME_* */
    uint8_t channel;         /* 0 = unknown */
    int8_t rssi;             /* dBm, 0 = unknown */
    uint8_t fcs;             /* 1: len includes a 4-byte FCS (informational) */
    uint16_t fc;             /* 802.11 frame control, host order (byte0 | byte1 << 8) */
    uint16_t seq_ctrl;       /* 802.11 sequence control */
    uint16_t qos_ctrl;       /* QoS control when the subtype is QoS data */
    uint8_t addr1[SC_MAC_LEN];
    uint8_t addr2[SC_MAC_LEN];
    uint8_t addr3[SC_MAC_LEN];
    uint64_t ts_us;          /* capture timestamp, microseconds (informational) */
} sc_frame_t;

/* Frame control helpers */
#define SC_FC_TYPE(fc)     (((fc) >> 2) & 3u)   /* 2 = data */
#define SC_FC_SUBTYPE(fc)  (((fc) >> 4) & 15u)  /* bit 3 set = QoS */
#define SC_FC_TODS         0x0100u
#define SC_FC_FROMDS       0x0200u
#define SC_FC_MOREFRAG     0x0400u
#define SC_FC_RETRY        0x0800u
#define SC_FC_MOREDATA     0x2000u
#define SC_FC_PROTECTED    0x4000u
#define SC_FC_ORDER        0x8000u

#ifdef __cplusplus
}
#endif
#endif
