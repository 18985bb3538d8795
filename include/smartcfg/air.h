/* SPDX-License-Identifier: Apache-2.0 */
/* Air simulator: what a sniffer on the AP's channel sees while a phone runs the reference
 * sender (uplink ToDS copy and the AP's relayed FromDS copy), with the chosen ciphers, FCS,
 * loss, retries, foreign traffic and start point. Deterministic for a given seed. Used by
 * `smartcfg air`, the decoder tests and the benchmarks. Sans-I/O, no heap. */
#ifndef SMARTCFG_AIR_H
#define SMARTCFG_AIR_H

#include "smartcfg/airkiss.h"
#include "smartcfg/esptouch_v2.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SC_CIPHER_OPEN = 0, SC_CIPHER_WEP, SC_CIPHER_TKIP, SC_CIPHER_CCMP, SC_CIPHER_GCMP } sc_cipher_t;

typedef enum { SC_AIR_PROTO_V1 = 0, SC_AIR_PROTO_V2 = 1, SC_AIR_PROTO_AIRKISS = 2 } sc_air_proto_t;

typedef struct {
    sc_et_creds_t creds;
    uint8_t phone_mac[SC_MAC_LEN];
    uint8_t channel;            /* default 6 */
    sc_cipher_t pairwise;       /* uplink cipher (phone -> AP) */
    sc_cipher_t group;          /* downlink relay cipher (AP -> all) */
    uint8_t uplink;             /* include the ToDS copies */
    uint8_t downlink;           /* include the FromDS copies */
    uint8_t uplink_qos;         /* uplink as QoS data (WMM phone) */
    uint8_t downlink_qos;
    uint8_t fcs;                /* lengths include the 4-byte FCS */
    uint8_t multicast;          /* 234.n.n.n instead of broadcast */
    double loss;                /* 0..1, per frame, independent */
    double retry;               /* 0..1, probability a frame is repeated with Retry set */
    double foreign;             /* foreign frames per ESP-TOUCH datagram (other stations, beacons, ...) */
    uint32_t start_ms;          /* capture starts this far into the sender's run (0..45000) */
    uint32_t duration_ms;       /* capture length (default: until the sender's 45 s window ends) */
    uint32_t seed;
    uint64_t ts_base_us;        /* timestamp of time 0 (default 1700000000 s) */
    sc_et_timing_t timing;      /* zero = reference timing */
    uint32_t dtim_ms;           /* 0: relays follow each datagram after 0.3..3 ms; else the AP
                                   buffers them until the next DTIM beacon (<= 1000 ms) and sends
                                   them in a burst with More Data set */
    uint8_t multi_bssid;        /* the AP relays each datagram a second time from a second
                                   BSSID (last byte + 1), as multi-BSSID APs do */
    uint8_t bad_fcs;            /* every frame of this run is a bad-FCS reception (spoofing /
                                   corruption tests; reported by sc_air_next_ex) */
    /* Added fields (0 = ESP-TOUCH v1 as before). */
    sc_air_proto_t protocol;    /* which reference sender the phone runs (its own timing) */
    uint8_t reserved[SC_ET2_RESERVED_MAX]; /* v2 reserved data */
    uint8_t reserved_len;
    uint8_t v2_security;        /* v2: 0 none, 1 AES zero IV, 2 AES random IV (drawn from seed) */
    uint8_t v2_key[SC_ET2_KEY_LEN];
    uint8_t v2_port_mark;       /* v2: 0..3 */
    uint8_t ak_random;          /* AirKiss: R */
    uint8_t ht_control;         /* QoS uplink frames carry a 4-byte HT Control field (Order bit) */
    uint8_t amsdu;              /* QoS uplink frames are single-subframe A-MSDUs (+14 bytes, addr3 = BSSID) */
} sc_air_config_t;

/* Vector A credentials (TP-LINK_2.4G / 12345678, BSSID 00:11:22:33:44:55, 192.168.1.100),
 * channel 6, CCMP/CCMP, both copies, QoS uplink, non-QoS relay, FCS, broadcast, no loss,
 * no foreign traffic, whole 45 s run, seed 1. */
SC_API void sc_air_config_default(sc_air_config_t *cfg);

/* Simulator state: caller-owned storage (common.h), ~20 KiB (frame queue + DTIM buffer).
 * Holds a pointer into itself: do not copy an initialised sc_air_t. */
#define SC_AIR_SIZE (20416u + 12u * sizeof(void *))
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_AIR_SIZE)];
} sc_air_t;

#define SC_AIR_F_BADFCS 1u      /* sc_air_next_ex flag: frame was received with a bad FCS */

SC_API sc_err_t sc_air_init(sc_air_t *air, const sc_air_config_t *cfg);
/* Next frame in time order; SC_ERR_DONE at the end. *t_ms is the air time since the
 * capture start. */
SC_API sc_err_t sc_air_next(sc_air_t *air, sc_frame_t *out, uint32_t *t_ms);
/* Same, with per-frame flags (SC_AIR_F_*); flags may be NULL. */
SC_API sc_err_t sc_air_next_ex(sc_air_t *air, sc_frame_t *out, uint32_t *t_ms, unsigned *flags);
/* What the simulator generated so far (for tests and the air command's summary). */
typedef struct {
    uint32_t esptouch_frames;   /* ESP-TOUCH copies generated (incl. retries), before loss */
    uint32_t lost;              /* frames dropped by the loss model */
    uint32_t retries;           /* retry frames generated */
    uint32_t foreign;           /* foreign frames generated */
    uint32_t overflow;          /* frames dropped because the simulator's queue was full */
} sc_air_stats_t;
SC_API void sc_air_stats(const sc_air_t *air, sc_air_stats_t *out);
/* The floor: air time (ms since the capture start) until every datum index (0..T+5) has been
 * on the air once as a whole triplet sent after the capture start (ideal schedule, loss,
 * jitter and relay delay ignored). UINT32_MAX if that never happens before the sender stops
 * or the capture ends. */
SC_API uint32_t sc_air_floor_ms(const sc_air_config_t *cfg);
/* Overhead O = frame length - UDP payload length for a copy (for tests). */
SC_API uint16_t sc_air_overhead(sc_cipher_t c, int qos, int fcs);

#ifdef __cplusplus
}
#endif
#endif
