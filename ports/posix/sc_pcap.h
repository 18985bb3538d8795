/* Frame input from libpcap (capture files and live interfaces) into sc_frame_t, and a
 * writer of synthesised frames as a radiotap capture. Link types read: 802.11 + radiotap
 * (FCS per the radiotap Flags field), plain 802.11, Ethernet (wired LAN / veth captures). */
#ifndef SC_PCAP_H
#define SC_PCAP_H

#include "smartcfg/esptouch.h"

typedef struct sc_pcap_src sc_pcap_src_t;

/* errbuf receives a clear message on failure (missing, unreadable, corrupt, unsupported link
 * type). Returns NULL on failure. */
sc_pcap_src_t *sc_pcap_open_file(const char *path, char *errbuf, size_t errlen);
/* Live capture, promiscuous, non-blocking; monitor-mode Wi-Fi or any capture interface. */
sc_pcap_src_t *sc_pcap_open_live(const char *iface, char *errbuf, size_t errlen);
/* 1 = a frame in *f; 0 = end of file (or, live, nothing pending now); < 0 = error (errbuf of
 * sc_pcap_error). Frames the reader cannot parse are skipped and counted, never returned. */
int sc_pcap_next(sc_pcap_src_t *src, sc_frame_t *f);
const char *sc_pcap_error(const sc_pcap_src_t *src);
/* Live: a file descriptor to poll() for readability (-1 for files). */
int sc_pcap_fd(const sc_pcap_src_t *src);
/* Link type name ("802.11+radiotap", "802.11", "ethernet"). */
const char *sc_pcap_linktype(const sc_pcap_src_t *src);
unsigned long sc_pcap_skipped(const sc_pcap_src_t *src);
void sc_pcap_close(sc_pcap_src_t *src);

typedef struct sc_pcap_writer sc_pcap_writer_t;
/* Writes DLT_IEEE802_11_RADIO records: radiotap (flags incl. FCS, channel, dBm signal),
 * the 802.11 header from the frame fields, and filler to exactly f->len bytes. */
sc_pcap_writer_t *sc_pcap_writer_open(const char *path, char *errbuf, size_t errlen);
int sc_pcap_write(sc_pcap_writer_t *w, const sc_frame_t *f);
int sc_pcap_writer_close(sc_pcap_writer_t *w);

#endif
