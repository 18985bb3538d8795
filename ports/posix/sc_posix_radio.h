/* SPDX-License-Identifier: Apache-2.0 */
/* Radio HAL backends, chosen by a spec string (`--radio SPEC`):
 *   pcap:IFACE    live capture; a monitor-mode Wi-Fi interface hops channels through nl80211,
 *                 any other capture interface (veth, Ethernet) keeps one "channel" (no-op hop)
 *   file:PATH     replays a capture file (radiotap / 802.11 / Ethernet)
 *   udp[:PORT]    virtual radio: each UDP datagram received on the ESP-TOUCH port (7001) becomes
 *                 the FromDS relay frame a sniffer would see, length = payload + overhead
 * Frames are pulled by the main loop (sc_posix_radio_read) and handed to sc_device_on_frame;
 * the device tunes the radio through the HAL table. */
#ifndef SC_POSIX_RADIO_H
#define SC_POSIX_RADIO_H

#include <net/if.h>

#include "sc_pcap.h"
#include "smartcfg/air.h"
#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SC_POSIX_RADIO_PCAP = 0, SC_POSIX_RADIO_FILE, SC_POSIX_RADIO_UDP } sc_posix_radio_kind_t;

/* Virtual radio (udp:) options. */
typedef struct {
    uint8_t bssid[SC_MAC_LEN];   /* addr2 of relayed frames; default sc_posix_default_bssid */
    sc_cipher_t cipher;          /* default CCMP */
    bool qos;                    /* QoS data frames (default off) */
    bool fcs;                    /* lengths include the FCS (default on) */
    double loss;                 /* 0..1 per datagram */
    uint32_t jitter_ms;          /* each frame delayed by 0..jitter_ms (reorders like the air) */
    uint8_t only_channel;        /* 0: frames appear on whatever channel is tuned; else only there */
    char mcast_iface[IF_NAMESIZE]; /* where to join the 234.n.n.n groups (empty: default route) */
} sc_posix_vradio_opts_t;

void sc_posix_vradio_opts_default(sc_posix_vradio_opts_t *o);

#define SC_POSIX_VRADIO_QUEUE 256

typedef struct {
    sc_frame_t f;
    uint32_t due_ms;
} sc_posix_vradio_slot_t;

typedef struct {
    sc_posix_radio_kind_t kind;
    const sc_hal_sys_t *sys;     /* device clock, randomness, log */
    bool promisc;
    bool promisc_called;         /* set_promiscuous was called at least once */
    uint8_t channel;             /* tuned channel (1 until set) */
    unsigned long delivered, dropped_channel, dropped_loss, dropped_queue, dropped_oversize, channel_errors;

    /* pcap: and file: */
    sc_pcap_src_t *src;
    char iface[IF_NAMESIZE];
    bool wireless;               /* monitor-mode Wi-Fi: hop with nl80211 */
    int ifindex;
    void *nl;                    /* struct nl_sock * */
    int nl_family;

    /* file: */
    bool any_channel;            /* deliver frames of every channel (no hop emulation) */
    bool have_pending;
    bool eof;
    sc_frame_t pending;
    sc_pcap_clock_t clock;       /* the capture's time, monotonic and without jumps */

    /* udp: */
    sc_posix_vradio_opts_t v;
    int fd;
    int mcast_fds[5];            /* helpers holding the 234.n.n.n memberships (20 per socket) */
    int mcast_joined;
    uint16_t port;
    uint16_t seq;
    sc_posix_vradio_slot_t q[SC_POSIX_VRADIO_QUEUE];
    size_t qn;
} sc_posix_radio_t;

/* spec as above; v may be NULL (defaults). errbuf gets a clear message on failure. */
sc_err_t sc_posix_radio_open(sc_posix_radio_t *r, const char *spec, const sc_posix_vradio_opts_t *v,
                             const sc_hal_sys_t *sys, sc_hal_radio_t *hal, char *errbuf, size_t errlen);
void sc_posix_radio_close(sc_posix_radio_t *r);
/* Descriptor to poll for input (-1 for capture files: they are always "ready"). */
int sc_posix_radio_fd(const sc_posix_radio_t *r);

/* Live backends (pcap:, udp:): next frame ready at now_ms. 1 = *f filled, 0 = none now,
 * < 0 = the source failed (errbuf says why). Frames on another channel than the tuned one
 * (when the source knows the channel) are dropped as a sniffer would never see them. */
int sc_posix_radio_read(sc_posix_radio_t *r, uint32_t now_ms, sc_frame_t *f, char *errbuf, size_t errlen);
/* udp: with jitter: when the next queued frame falls due (false: queue empty). */
bool sc_posix_radio_next_due(const sc_posix_radio_t *r, uint32_t *due_ms);

/* file: the next frame and its offset from the capture's first frame (ms, never decreasing
 * even when the capture's timestamps do). 1 = frame, 0 = end of capture, < 0 = error.
 * sc_posix_radio_file_take() consumes it; frames of another channel are then counted as
 * dropped and take() returns false. */
int sc_posix_radio_file_peek(sc_posix_radio_t *r, const sc_frame_t **f, uint32_t *rel_ms, char *errbuf,
                             size_t errlen);
bool sc_posix_radio_file_take(sc_posix_radio_t *r, sc_frame_t *out);

/* The overhead (frame length - UDP payload) of one ESP-TOUCH datagram relayed with these
 * settings (docs/protocol/esptouch-v1.md#frame-length-and-overhead). */
uint16_t sc_posix_vradio_overhead(sc_cipher_t cipher, bool qos, bool fcs);
/* The frame a sniffer sees for a datagram of payload_len bytes from src to dst (network order
 * addresses); used by the udp: backend and its tests. */
void sc_posix_vradio_frame(sc_posix_radio_t *r, const uint8_t src[4], const uint8_t dst[4], size_t payload_len,
                           sc_frame_t *f);

/* Channel number -> MHz (2.4 GHz 1..14, 5 GHz 32..177); 0 for none. */
uint32_t sc_posix_channel_freq(uint8_t channel);

#ifdef __cplusplus
}
#endif
#endif
