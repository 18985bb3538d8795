/* SPDX-License-Identifier: Apache-2.0 */
/* Frame input from libpcap (capture files and live interfaces) into sc_frame_t, and a
 * writer of synthesised frames as a radiotap capture. Link types read: 802.11 + radiotap
 * (FCS per the radiotap Flags field), plain 802.11, Ethernet (wired LAN / veth captures). */
#ifndef SC_PCAP_H
#define SC_PCAP_H

#include <stdio.h>

#include "smartcfg/esptouch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sc_pcap_src sc_pcap_src_t;

/* errbuf receives a clear message on failure (missing, unreadable, corrupt, unsupported link
 * type). Returns NULL on failure. */
sc_pcap_src_t *sc_pcap_open_file(const char *path, char *errbuf, size_t errlen);
/* Reads a capture from an open stream (e.g. fmemopen for the fuzzer); takes ownership of fp
 * (closed by sc_pcap_close, or on failure). name is used in messages. */
sc_pcap_src_t *sc_pcap_open_fp(FILE *fp, const char *name, char *errbuf, size_t errlen);
/* Live capture, promiscuous, non-blocking; monitor-mode Wi-Fi or any capture interface. */
sc_pcap_src_t *sc_pcap_open_live(const char *iface, char *errbuf, size_t errlen);
/* A BPF filter (tcpdump syntax, pcap-filter(7)) on a live source; 0, or -1 with the reason in
 * sc_pcap_error. */
int sc_pcap_set_filter(sc_pcap_src_t *src, const char *expr);
/* 1 = a frame in *f; 0 = end of file (or, live, nothing pending now); < 0 = error (errbuf of
 * sc_pcap_error). Frames the reader cannot parse are skipped and counted, never returned:
 * records too short for their headers, malformed radiotap, radiotap bad-FCS (Flags 0x40),
 * a truncated last record (then 0, end of file, and sc_pcap_error says so).
 * f->len is the record's original length (minus radiotap), never the captured length. */
int sc_pcap_next(sc_pcap_src_t *src, sc_frame_t *f);
const char *sc_pcap_error(const sc_pcap_src_t *src);
/* Live: a file descriptor to poll() for readability (-1 for files). */
int sc_pcap_fd(const sc_pcap_src_t *src);
/* Link type name ("802.11+radiotap", "802.11", "ethernet"). */
const char *sc_pcap_linktype(const sc_pcap_src_t *src);
unsigned long sc_pcap_skipped(const sc_pcap_src_t *src);
void sc_pcap_close(sc_pcap_src_t *src);

/* A capture's timestamps as a clock that never goes backwards and never jumps: microseconds
 * since the first frame, for a receiver or a replayed device. A step back of at most
 * SC_PCAP_CLOCK_HOLD_US (two sniffers' frames merged with skewed clocks, one record stamped a
 * few seconds early) holds the clock where it is: a break there would add the step to the
 * clock at the next frame of the later timeline, once per alternation of two skewed sniffers.
 * A larger step back (a clock set back, captures concatenated) or a step forward of more than
 * SC_PCAP_CLOCK_GAP_US (a record with an absurd timestamp) is a break: the clock goes on from
 * where it was, at the pace of the timestamps from that frame on. */
#define SC_PCAP_CLOCK_HOLD_US 60000000ull    /* 60 s */
#define SC_PCAP_CLOCK_GAP_US 3600000000ull   /* 1 hour */
typedef struct {
    bool started;
    uint64_t base_ts;   /* the timestamp of the frame at which the clock was last (re)based */
    uint64_t base_rel;  /* the clock at that frame */
    uint64_t rel;       /* the clock now */
    unsigned long breaks;
} sc_pcap_clock_t;
/* The clock for a frame of timestamp ts_us (in capture order). */
uint64_t sc_pcap_clock_at(sc_pcap_clock_t *c, uint64_t ts_us);

typedef struct sc_pcap_writer sc_pcap_writer_t;
/* Writes DLT_IEEE802_11_RADIO records: radiotap (flags incl. FCS, channel, dBm signal),
 * the 802.11 header from the frame fields, and filler to exactly f->len bytes. */
sc_pcap_writer_t *sc_pcap_writer_open(const char *path, char *errbuf, size_t errlen);
int sc_pcap_write(sc_pcap_writer_t *w, const sc_frame_t *f);
/* SC_PCAP_W_BADFCS: mark the record as received with a bad FCS (radiotap Flags 0x40, FCS
 * deliberately wrong when f->fcs) -- spoofed/corrupt receptions for negative tests.
 * Returns SC_ERR_RANGE when f->len is shorter than the header (and FCS). */
#define SC_PCAP_W_BADFCS 1u
/* SC_PCAP_W_EXT: write the radiotap header a multi-antenna card produces (three chained
 * present words, TSFT, per-antenna signal and antenna fields after the first word's fields). */
#define SC_PCAP_W_EXT 2u
int sc_pcap_write_ex(sc_pcap_writer_t *w, const sc_frame_t *f, unsigned flags);
int sc_pcap_writer_close(sc_pcap_writer_t *w);
/* As sc_pcap_writer_close; *err: the errno of the first write that failed (0: none). */
int sc_pcap_writer_close_err(sc_pcap_writer_t *w, int *err);

#ifdef __cplusplus
}
#endif
#endif
