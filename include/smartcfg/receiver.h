/* SPDX-License-Identifier: Apache-2.0 */
/* The receiver front: every sniffed frame goes to the ESP-TOUCH v1, ESP-TOUCH v2 and AirKiss
 * decoders at once; the first session any of them completes is the result, tagged with its
 * protocol. One caller-owned object (<= 3 KiB, no heap), sans-I/O like the decoders it holds.
 * Frames are normalised here once for all three (a QoS HT Control field is taken out).
 * A build without SMARTCFG_WITH_ESPTOUCH_V2 / SMARTCFG_WITH_AIRKISS (features.h) leaves that
 * decoder out: its code is not linked and sc_receiver_t shrinks by its state. */
#ifndef SMARTCFG_RECEIVER_H
#define SMARTCFG_RECEIVER_H

#include "smartcfg/airkiss.h"
#include "smartcfg/esptouch_rx.h"
#include "smartcfg/esptouch_v2.h"
#include "smartcfg/features.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    SC_PROTO_NONE = 0,
    SC_PROTO_ESPTOUCH_V1 = 1,
    SC_PROTO_ESPTOUCH_V2 = 2,
    SC_PROTO_AIRKISS = 4,
    SC_PROTO_ALL = 7
} sc_proto_t;

/* The protocols this build decodes: v1 always, v2 and AirKiss when their switches are on. */
#define SC_PROTO_BUILT                                                                  \
    (SC_PROTO_ESPTOUCH_V1 | (SMARTCFG_WITH_ESPTOUCH_V2 ? SC_PROTO_ESPTOUCH_V2 : 0) |   \
     (SMARTCFG_WITH_AIRKISS ? SC_PROTO_AIRKISS : 0))

/* "esptouch-v1", "esptouch-v2", "airkiss" ("none" otherwise). */
SC_API const char *sc_proto_name(sc_proto_t p);
/* Parses "v1,v2,airkiss" (also "all", "esptouch-v1", ...) into a mask; SC_ERR_INVAL on an
 * unknown name or an empty list, SC_ERR_UNSUPPORTED for a protocol this build left out.
 * "all" is every protocol built (SC_PROTO_BUILT). */
SC_API sc_err_t sc_proto_parse(const char *list, unsigned *mask);

typedef struct {
    sc_proto_t proto;
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len;
    uint8_t password[SC_PASSWORD_MAX];
    uint8_t password_len;
    uint8_t password_known;       /* 0: encrypted v2 without the right key: no password at all */
    uint8_t reserved[SC_ET2_RESERVED_MAX];
    uint8_t reserved_len;         /* v2 only */
    uint8_t bssid[SC_MAC_LEN];
    uint8_t has_bssid;            /* v1: always; v2: when a stream's BSSID matched the CRC; AirKiss: never sent */
    uint8_t phone_ip[4];
    uint8_t has_phone_ip;         /* v1 only */
    uint8_t random;               /* AirKiss: R, what the ack carries */
    uint8_t ack_token;            /* v1: T; v2: port mark; AirKiss: R */
    uint8_t channel;
    uint16_t offset;
    uint8_t sender[SC_MAC_LEN];
    sc_et_result_t v1;            /* the v1 decoder's own result (v1 sessions) */
} sc_rx_result_t;

typedef struct {
    sc_et_event_type_t type;
    sc_proto_t proto;             /* the decoder that caused it */
    uint8_t channel;
    uint16_t offset;
    uint8_t known, needed;        /* progress in that decoder's units */
    sc_rx_result_t result;        /* valid for SC_ET_EV_DONE */
} sc_rx_event_t;

/* Caller-owned storage (common.h): the decoders' states side by side plus 16 bytes of its own
 * (its init marker, the protocols, the sender summaries) and, with v2, 16 for the channel
 * search (the newest uplink frame and relay, sc_receiver_relayed); only the decoders built
 * count. */
#define SC_RECEIVER_SIZE                                                                     \
    (16u + SC_ET_RX_SIZE + (SMARTCFG_WITH_ESPTOUCH_V2 ? SC_ET2_RX_SIZE + 16u : 0u) +         \
     (SMARTCFG_WITH_AIRKISS ? SC_AK_RX_SIZE : 0u))
typedef struct {
    uint64_t opaque[SC_STATE_WORDS(SC_RECEIVER_SIZE)];
} sc_receiver_t;

#define SC_RECEIVER_BUDGET 3072u  /* all three decoders together stay within 3 KiB */

/* protocols: mask of SC_PROTO_* (0 = every protocol built). SC_ERR_UNSUPPORTED when it names
 * a protocol this build left out. The macro hands the library the caller's
 * sizeof(sc_receiver_t): SC_ERR_INVAL when it is smaller than the library's (the caller was
 * compiled with other SMARTCFG_WITH_ESPTOUCH_V2/_AIRKISS switches; see sc_device_init). */
SC_API sc_err_t sc_receiver_init_sized(sc_receiver_t *r, size_t size, unsigned protocols);
#define sc_receiver_init(r, protocols) sc_receiver_init_sized((r), sizeof(sc_receiver_t), (protocols))
SC_API sc_err_t(sc_receiver_init)(sc_receiver_t *r, unsigned protocols);
/* The v2 device key (16 bytes) for encrypted sessions; NULL forgets it. */
SC_API void sc_receiver_set_v2_key(sc_receiver_t *r, const uint8_t *key16);
SC_API void sc_receiver_reset(sc_receiver_t *r);
/* After a DONE: forget that session only, go on with the others (several phones). */
SC_API sc_err_t sc_receiver_resume(sc_receiver_t *r);
/* Feeds one frame to every enabled decoder; returns the most important event (DONE first)
 * and fills ev when not NULL. */
SC_API sc_et_event_type_t sc_receiver_feed(sc_receiver_t *r, const sc_frame_t *f, uint32_t now_ms, sc_rx_event_t *ev);
SC_API sc_et_event_type_t sc_receiver_tick(sc_receiver_t *r, uint32_t now_ms);
/* A channel some decoder is locked on (0 = none). */
SC_API uint8_t sc_receiver_locked_channel(const sc_receiver_t *r);
/* The ESP-TOUCH v1 decoder inside, for what only it has: the scan list (sc_et_rx_set_scan)
 * and the v1-only channel search (sc_chansearch_step; a device uses sc_chansearch_step_rx).
 * Not for feeding frames: the front keeps the decoders' init and done state for them. */
SC_API sc_et_rx_t *sc_receiver_v1(sc_receiver_t *r);
/* The protocols it decodes (sc_proto_t mask, as sc_receiver_init resolved them). */
SC_API unsigned sc_receiver_protocols(const sc_receiver_t *r);

/* The channel search over all three decoders (docs/receiver.md §7): sc_chansearch_step with
 * the v1 decoder's signals, plus a v2 or AirKiss lock holding the radio like a supported v1
 * lock, and their candidate traffic (a v2 packet list's head, two AirKiss frames in a row
 * after one of a guide length) getting a longer look, as v1's does. */
SC_API uint8_t sc_chansearch_step_rx(sc_chansearch_t *cs, const sc_receiver_t *r, uint32_t now_ms, uint32_t *until_ms);
/* What it reads beside v1 and sc_receiver_locked_channel: whether the v2 or the AirKiss
 * decoder saw candidate traffic on channel within the last within_ms. */
SC_API int sc_receiver_stream_candidate(const sc_receiver_t *r, uint8_t channel, uint32_t now_ms, uint32_t within_ms);
/* Whether an AP on channel relayed a station's broadcast heard beside its uplink copy within the
 * last within_ms, while the front noted them (sc_receiver_scan; a front that decodes v2, else
 * 0): the search's one look for a v2 phone seen in one datagram (docs/receiver.md §7). */
SC_API int sc_receiver_relayed(const sc_receiver_t *r, uint8_t channel, uint32_t now_ms, uint32_t within_ms);
/* on: the front notes uplink frames and their relays (the frame keyed once more while on; not
 * once it has a result) until called with 0, sc_receiver_reset or a result. sc_chansearch_step_rx turns it on for a glance and off once the visit looks or
 * a lock holds the radio. */
SC_API void sc_receiver_scan(sc_receiver_t *r, int on);
/* How many ms ago the newest station's group-addressed uplink frame (ToDS) came while the front
 * noted them (sc_receiver_scan; 0..65535, the note keeps 16 bits of time), UINT32_MAX when none
 * (or a front that does not decode v2): on the first sweep the search waits for v2's next
 * datagram only after one, and until it is due after that frame (docs/receiver.md §7). */
SC_API uint32_t sc_receiver_uplink_age(const sc_receiver_t *r, uint32_t now_ms);

#ifdef __cplusplus
}
#endif
#endif
