/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v1 receiver: fed one sniffed frame at a time, it keys streams, calibrates the
 * per-stream length overhead (from the guide, or from the data phase alone), votes decoded
 * bytes across rounds and across the ToDS/FromDS copies, validates and emits credentials.
 * Also the channel search policy every port shares. Sans-I/O, no heap, caller-owned state.
 * Protocol: docs/protocol/esptouch-v1.md#the-receiver. */
#ifndef SMARTCFG_ESPTOUCH_RX_H
#define SMARTCFG_ESPTOUCH_RX_H

#include "smartcfg/esptouch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Result of a successful decode. */
typedef struct {
    sc_et_creds_t creds;       /* ssid, password, bssid, phone_ip */
    uint8_t t;                 /* T, the ack's first byte */
    uint8_t channel;
    uint16_t offset;           /* calibrated overhead of the stream that completed the decode */
    uint8_t sender[SC_MAC_LEN];/* the phone's MAC (zero when unknown) */
    uint8_t bssid_from_air;    /* 1: BSSID bytes were received; 0: taken from the 802.11 header */
    uint8_t ssid_from_scan;    /* 1: SSID completed from the scan list */
} sc_et_result_t;

typedef enum {
    SC_ET_EV_NONE = 0,
    SC_ET_EV_LOCKED,      /* a stream locked: channel, offset, bssid, sender */
    SC_ET_EV_PROGRESS,    /* known/needed changed */
    SC_ET_EV_DONE,        /* credentials ready in result */
    SC_ET_EV_UNLOCKED     /* a false or stale lock was dropped; search resumes */
} sc_et_event_type_t;

typedef struct {
    sc_et_event_type_t type;
    uint8_t channel;
    uint16_t offset;
    uint8_t bssid[SC_MAC_LEN];
    uint8_t sender[SC_MAC_LEN];
    uint8_t known;        /* datum bytes known */
    uint8_t needed;       /* datum bytes needed (T + 6 once T is known, else 0) */
    sc_et_result_t result;/* valid for SC_ET_EV_DONE */
} sc_et_event_t;

/* An AP from a scan: lets a known SSID complete the session early (never for hidden APs). */
typedef struct {
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len;     /* 0 = hidden */
    uint8_t bssid[SC_MAC_LEN];
    uint8_t channel;
    int8_t rssi;
} sc_scan_entry_t;

#define SC_ET_RX_MAX_SCAN 16

typedef struct {
    uint16_t offset_min;  /* accepted overhead range (defaults 0 .. 160) */
    uint16_t offset_max;
    uint32_t idle_unlock_ms; /* drop a lock after this long without accepted frames (default 2500) */
} sc_et_rx_config_t;

/* Receiver state: caller-owned storage (common.h), 2 KiB on every target. */
#define SC_ET_RX_SIZE 2048u
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_ET_RX_SIZE)];
} sc_et_rx_t;

SC_API sc_err_t sc_et_rx_init(sc_et_rx_t *rx, const sc_et_rx_config_t *cfg); /* cfg may be NULL */
SC_API void sc_et_rx_reset(sc_et_rx_t *rx);       /* clean unlock + restart, keeps config and scan list */
/* After SC_ET_EV_DONE: forget only the session that completed and go on decoding the others
 * (several phones in one capture). SC_ERR_STATE when not done. */
SC_API sc_err_t sc_et_rx_resume(sc_et_rx_t *rx);
/* Optional scan list (copied, at most SC_ET_RX_MAX_SCAN entries). */
SC_API sc_err_t sc_et_rx_set_scan(sc_et_rx_t *rx, const sc_scan_entry_t *list, size_t n);
/* Feeds one frame seen at now_ms (monotonic). Returns the most important event it caused
 * (SC_ET_EV_NONE mostly) and fills ev when not NULL. After SC_ET_EV_DONE the receiver stays
 * done until reset. */
SC_API sc_et_event_type_t sc_et_rx_feed(sc_et_rx_t *rx, const sc_frame_t *f, uint32_t now_ms, sc_et_event_t *ev);
/* Time passes without frames: expires stale locks (may return SC_ET_EV_UNLOCKED). */
SC_API sc_et_event_type_t sc_et_rx_tick(sc_et_rx_t *rx, uint32_t now_ms, sc_et_event_t *ev);
/* Locked on some stream? Returns its channel (0 if none). */
SC_API uint8_t sc_et_rx_locked_channel(const sc_et_rx_t *rx);
/* Counters of dropped input (bad CRC, retries, non-data, ...), for diagnostics. */
typedef struct {
    uint32_t frames, dropped_nondata, dropped_retry, bad_crc, triplets_ok, conflicts, false_locks;
} sc_et_rx_stats_t;
SC_API void sc_et_rx_stats(const sc_et_rx_t *rx, sc_et_rx_stats_t *out);
/* 1 if guide-less evidence (CRC-valid triplets agreeing on an offset) was seen on channel
 * within the last within_ms: a sender is probably there even before a lock. */
SC_API int sc_et_rx_recent_activity(const sc_et_rx_t *rx, uint8_t channel, uint32_t now_ms, uint32_t within_ms);
/* 1 if candidate traffic (a guide step, or a CRC-valid triplet under some offset) was seen on
 * channel within the last within_ms (<= 30000): worth a longer look. Random traffic causes it
 * now and then. */
SC_API int sc_et_rx_candidate(const sc_et_rx_t *rx, uint8_t channel, uint32_t now_ms, uint32_t within_ms);
/* 1 if some stream on channel heard a group-addressed data frame of an ESP-TOUCH length
 * (data or guide, under any accepted overhead) within the last within_ms: one frame of a
 * sender is enough, so the channel search glances at a channel and stays a full dwell only
 * where this holds. Foreign broadcasts cause it often. */
SC_API int sc_et_rx_heard(const sc_et_rx_t *rx, uint8_t channel, uint32_t now_ms, uint32_t within_ms);
/* The channel of a lock still supported by guide frames or valid triplets in the last 400 ms,
 * or of one whose channel has been silent since (0 if none): what the channel search stays
 * on. A false lock stops pinning as soon as other frames on its channel show it is alive. */
SC_API uint8_t sc_et_rx_pinned_channel(const sc_et_rx_t *rx, uint32_t now_ms);

/* --- channel search policy ---------------------------------------------------------
 * Which channel to listen on next and for how long; the port only tunes the radio. The first
 * sweep glances at each channel for half the dwell and stays longer only where a frame of
 * an ESP-TOUCH length was heard (sc_chansearch_step: until 10 ms after it, the sender's next
 * datagram; the front's search: the same without v2, 17 ms with it), 13 channels in about 0.2 s, a dual-band list of 36
 * in about 0.5-0.6 s (docs/receiver.md §7); later sweeps dwell on every channel (with v2 they
 * glance too: v2's datagrams are 15 ms apart). A channel with candidate
 * traffic gets a longer look, one with guide-less evidence longer still, and a lock holds the
 * radio as long as guide frames or valid triplets keep supporting it. A device listening for
 * v2 and AirKiss too uses sc_chansearch_step_rx (receiver.h). */
#define SC_CHANSEARCH_MAX_CHANNELS 48 /* room for every valid channel (42) and a few repeats */

/* Caller-owned, opaque (common.h): the channel list, where the search is, the lock it follows. */
#define SC_CHANSEARCH_SIZE 96u
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_CHANSEARCH_SIZE)];
} sc_chansearch_t;

#define SC_CHANSEARCH_DWELL_MS 24u    /* default dwell: three datagrams of a sender's either phase
                                         (the first sweep glances for half of it first) */
#define SC_CHANSEARCH_LOOK_MS 103u    /* the longer look at a channel with candidate traffic: one
                                         beacon interval (100 TU, 102.4 ms), so the next burst of
                                         relays an AP holds for its DTIM beacon comes within it */
#define SC_CHANSEARCH_MAX_EXTEND 4u   /* extra looks granted on a channel with guide-less evidence */
#define SC_CHANSEARCH_MAX_LINGER 70u  /* sc_chansearch_step_rx: more looks while candidate traffic
                                         goes on without a lock (v2 and AirKiss lock only at the
                                         head of a list or a round): 7.2 s, a whole v2 packet list
                                         of 41 groups (6.8 s) */

/* The channel numbers a list may hold: 2.4 GHz 1..14; 5 GHz 36..64, 100..144 and 149..177,
 * each in steps of 4 (169..177 where regulators allow). 32, 68..96 and the numbers between
 * are no AP's channel. */
SC_API bool sc_chansearch_channel_valid(unsigned ch);
/* channels NULL = 1..13 (n ignored), else 1..SC_CHANSEARCH_MAX_CHANNELS valid channel numbers
 * (sc_chansearch_channel_valid). dwell_ms 0 = default; a radio whose retune takes more than
 * a few ms wants a longer one, so that the glance still hears a datagram slot. */
SC_API sc_err_t sc_chansearch_init(sc_chansearch_t *cs, const uint8_t *channels, size_t n, uint32_t dwell_ms);
/* Given the receiver state at now_ms, returns the channel to be tuned to now and sets
 * *until_ms to when to ask again (ask earlier too after a LOCKED or UNLOCKED event). */
SC_API uint8_t sc_chansearch_step(sc_chansearch_t *cs, const sc_et_rx_t *rx, uint32_t now_ms, uint32_t *until_ms);
/* Parses a channel list such as "1-13", "1,6,11" or "1-11,36-165": a range (its ends valid
 * channels) expands to the valid channels in it (36, 40, ... 64, 100 ... 144, 149 ... 177), a
 * 2.4 GHz range to every number. Returns the count, 0 on a syntax error, a number that is not a
 * valid channel (sc_chansearch_channel_valid) or more than cap channels. */
SC_API size_t sc_chansearch_parse(const char *list, uint8_t *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
