/* SPDX-License-Identifier: Apache-2.0 */
/* libpcap frame source and radiotap writer (sc_pcap.h). The reader turns every record into
 * the sc_frame_t a radio driver would deliver: the 802.11 length as the radio reports it
 * (original record length minus radiotap, FCS included when radiotap says so), the header
 * fields, channel and signal. Anything it cannot trust is skipped and counted, never
 * returned, so the receiver only ever sees well-formed headers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "sc_pcap.h"
#include "sc_posix.h"
#include "smartcfg/diag.h"

#ifndef DLT_IEEE802_11_RADIO
#define DLT_IEEE802_11_RADIO 127
#endif
#ifndef DLT_IEEE802_11
#define DLT_IEEE802_11 105
#endif

/* Radiotap Flags field bits (radiotap.org "Flags"). */
#define RT_FLAG_FCS 0x10
#define RT_FLAG_DATAPAD 0x20 /* padding between the 802.11 header and the body */
#define RT_FLAG_BADFCS 0x40

/* Radiotap field numbers this reader uses; fields 0..5 all live in the first bitmap. */
enum { RT_TSFT = 0, RT_FLAGS = 1, RT_RATE = 2, RT_CHANNEL = 3, RT_FHSS = 4, RT_DBM_SIGNAL = 5 };

struct sc_pcap_src {
    pcap_t *p;
    int dlt;
    int live;
    unsigned long skipped;
    char err[PCAP_ERRBUF_SIZE + 128];
};

struct sc_pcap_writer {
    pcap_t *dead;
    pcap_dumper_t *dumper;
    int err;   /* the first write's errno that failed (ENOSPC): the writes stop there */
};

static uint16_t le16(const uint8_t *b) { return (uint16_t)(b[0] | (b[1] << 8)); }
static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static void set_err(char *errbuf, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, fmt, a, b);
}

static uint8_t freq_to_channel(unsigned f)
{
    if (f == 2484)
        return 14;
    if (f >= 2412 && f <= 2472)
        return (uint8_t)((f - 2407) / 5);
    if (f >= 5955 && f <= 7115)  /* 6 GHz: channel numbers restart at 1 */
        return (uint8_t)((f - 5950) / 5);
    if (f >= 5000 && f <= 5925)
        return (uint8_t)((f - 5000) / 5);
    return 0;
}

static unsigned channel_to_freq(uint8_t ch)
{
    if (ch == 0)
        return 0;
    if (ch == 14)
        return 2484;
    if (ch < 14)
        return 2407u + 5u * ch;
    return 5000u + 5u * ch;
}

static sc_pcap_src_t *wrap(pcap_t *p, int live, const char *what, char *errbuf, size_t errlen)
{
    int dlt = pcap_datalink(p);
    if (dlt != DLT_IEEE802_11_RADIO && dlt != DLT_IEEE802_11 && dlt != DLT_EN10MB) {
        char name[64];
        const char *n = pcap_datalink_val_to_name(dlt);
        snprintf(name, sizeof name, "%s (%d)", n ? n : "unknown", dlt);
        set_err(errbuf, errlen, "%s: unsupported link type %s (need 802.11+radiotap, 802.11 or Ethernet)",
                what, name);
        pcap_close(p);
        return NULL;
    }
    sc_pcap_src_t *s = calloc(1, sizeof *s);
    if (!s) {
        set_err(errbuf, errlen, "%s: %s", what, "out of memory");
        pcap_close(p);
        return NULL;
    }
    s->p = p;
    s->dlt = dlt;
    s->live = live;
    return s;
}

sc_pcap_src_t *sc_pcap_open_file(const char *path, char *errbuf, size_t errlen)
{
    if (!path) {
        set_err(errbuf, errlen, "%s%s", "no file given", "");
        return NULL;
    }
    /* Open the file ourselves first so a missing/unreadable file gets the plain errno text
     * instead of libpcap's wording. */
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        set_err(errbuf, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    int c0 = fgetc(fp);
    if (c0 == EOF) {
        set_err(errbuf, errlen, "%s: %s", path, ferror(fp) ? strerror(errno) : "empty file, not a capture");
        fclose(fp);
        return NULL;
    }
    ungetc(c0, fp);
    return sc_pcap_open_fp(fp, path, errbuf, errlen);
}

sc_pcap_src_t *sc_pcap_open_fp(FILE *fp, const char *name, char *errbuf, size_t errlen)
{
    char pe[PCAP_ERRBUF_SIZE] = "";
    if (!name)
        name = "(stream)";
    if (!fp) {
        set_err(errbuf, errlen, "%s: %s", name, "no stream");
        return NULL;
    }
    pcap_t *p = pcap_fopen_offline(fp, pe);
    if (!p) {
        fclose(fp);
        set_err(errbuf, errlen, "%s: not a readable pcap/pcapng capture (%s)", name, pe);
        return NULL;
    }
    return wrap(p, 0, name, errbuf, errlen);
}

sc_pcap_src_t *sc_pcap_open_live(const char *iface, char *errbuf, size_t errlen)
{
    char pe[PCAP_ERRBUF_SIZE] = "";
    if (!iface) {
        set_err(errbuf, errlen, "%s%s", "no interface given", "");
        return NULL;
    }
    pcap_t *p = pcap_create(iface, pe);
    if (!p) {
        set_err(errbuf, errlen, "%s: %s", iface, pe);
        return NULL;
    }
    /* Only the headers matter (the length comes from the record's original length), so a
     * small snap length keeps the kernel buffer cheap. */
    pcap_set_snaplen(p, 256);
    pcap_set_promisc(p, 1);
    pcap_set_timeout(p, 10);
    pcap_set_immediate_mode(p, 1);
    int rc = pcap_activate(p);
    if (rc < 0) {
        /* "socket: Operation not permitted" alone left a non-root user to guess what is missing */
        set_err(errbuf, errlen,
                rc == PCAP_ERROR_PERM_DENIED ? "%s: %s (a live capture needs root or the CAP_NET_RAW capability)"
                                             : "%s: %s",
                iface, pcap_geterr(p));
        pcap_close(p);
        return NULL;
    }
    if (pcap_setnonblock(p, 1, pe) < 0) {
        set_err(errbuf, errlen, "%s: %s", iface, pe);
        pcap_close(p);
        return NULL;
    }
    return wrap(p, 1, iface, errbuf, errlen);
}

int sc_pcap_set_filter(sc_pcap_src_t *src, const char *expr)
{
    if (!src || !expr)
        return -1;
    struct bpf_program prog;
    /* netmask unknown is fine: it only matters for "ip broadcast" */
    if (pcap_compile(src->p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(src->err, sizeof src->err, "bad filter '%.200s': %s", expr, pcap_geterr(src->p));
        return -1;
    }
    int rc = pcap_setfilter(src->p, &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
        snprintf(src->err, sizeof src->err, "cannot set filter: %s", pcap_geterr(src->p));
        return -1;
    }
    return 0;
}

/* Parses the 802.11 MAC header fields the receiver keys on. Returns 0 when the captured
 * bytes do not cover the header this frame type needs. */
static int parse_80211(const uint8_t *b, size_t caplen, sc_frame_t *f)
{
    if (caplen < 10)
        return 0;
    f->kind = SC_FRAME_80211;
    f->fc = le16(b);
    memcpy(f->addr1, b + 4, 6);
    unsigned type = SC_FC_TYPE(f->fc);
    if (type == 1) {
        /* Control frames: ACK/CTS carry only addr1; RTS, BlockAck etc. add the TA. */
        if (caplen >= 16)
            memcpy(f->addr2, b + 10, 6);
        return 1;
    }
    if (type == 3)
        return 0; /* reserved/extension type: nothing a sniffer decoder can use */
    if (caplen < 24)
        return 0;
    memcpy(f->addr2, b + 10, 6);
    memcpy(f->addr3, b + 16, 6);
    f->seq_ctrl = le16(b + 22);
    if (type == 2 && (SC_FC_SUBTYPE(f->fc) & 8)) {
        size_t q = ((f->fc & (SC_FC_TODS | SC_FC_FROMDS)) == (SC_FC_TODS | SC_FC_FROMDS)) ? 30 : 24;
        if (caplen < q + 2)
            return 0;
        f->qos_ctrl = le16(b + q);
    }
    return 1;
}

/* MAC header length of a data/management frame (0 for control frames: no padding applies). */
static size_t data_header_len(uint16_t fc)
{
    unsigned type = SC_FC_TYPE(fc);
    if (type == 1)
        return 0;
    size_t hl = 24;
    if (type == 2) {
        if ((fc & (SC_FC_TODS | SC_FC_FROMDS)) == (SC_FC_TODS | SC_FC_FROMDS))
            hl += 6;
        if (SC_FC_SUBTYPE(fc) & 8) {
            hl += 2;
            if (fc & SC_FC_ORDER)
                hl += 4; /* HT Control */
        }
    }
    return hl;
}

/* Walks the radiotap header. Returns the header length (it_len) or 0 when it is malformed;
 * fills fcs/channel/rssi and *bad_fcs. */
static size_t parse_radiotap(const uint8_t *b, size_t caplen, sc_frame_t *f, int *bad_fcs, int *datapad)
{
    if (caplen < 8 || b[0] != 0)
        return 0;
    size_t it_len = le16(b + 2);
    if (it_len < 8 || it_len > caplen)
        return 0;
    /* Present bitmaps chain while bit 31 is set; the fields start after the last one. */
    size_t off = 4;
    uint32_t first = le32(b + 4);
    uint32_t word = first;
    for (;;) {
        if (off + 4 > it_len)
            return 0;
        word = le32(b + off);
        off += 4;
        if (!(word & 0x80000000u))
            break;
    }
    /* Fields of the first bitmap come first, each aligned to its natural size relative to
     * the start of the radiotap header. Only 0..5 are needed, and their sizes are fixed. */
    static const uint8_t align[6] = { 8, 1, 1, 2, 2, 1 };
    static const uint8_t size[6] = { 8, 1, 1, 4, 2, 1 };
    for (unsigned bit = 0; bit <= RT_DBM_SIGNAL; bit++) {
        if (!(first & (1u << bit)))
            continue;
        off = (off + align[bit] - 1) & ~(size_t)(align[bit] - 1);
        if (off + size[bit] > it_len)
            return 0;
        const uint8_t *v = b + off;
        switch (bit) {
        case RT_FLAGS:
            if (v[0] & RT_FLAG_FCS)
                f->fcs = 1;
            if (v[0] & RT_FLAG_BADFCS)
                *bad_fcs = 1;
            if (v[0] & RT_FLAG_DATAPAD)
                *datapad = 1;
            break;
        case RT_CHANNEL:
            f->channel = freq_to_channel(le16(v));
            break;
        case RT_DBM_SIGNAL:
            f->rssi = (int8_t)v[0];
            break;
        default:
            break;
        }
        off += size[bit];
    }
    return it_len;
}

int sc_pcap_next(sc_pcap_src_t *src, sc_frame_t *f)
{
    if (!src || !f)
        return -1;
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(src->p, &h, &data);
        if (rc == 0)
            return 0; /* live: nothing pending */
        if (rc == PCAP_ERROR_BREAK)
            return 0; /* end of file */
        if (rc < 0) {
            const char *e = pcap_geterr(src->p);
            /* A capture cut short (a recorder killed mid-write) loses only its last record:
             * count it and treat it as the end rather than discarding what was read. */
            if (!src->live && e && strstr(e, "truncated")) {
                src->skipped++;
                snprintf(src->err, sizeof src->err, "%s", e);
                return 0;
            }
            snprintf(src->err, sizeof src->err, "capture read error: %s", e ? e : "unknown");
            return -1;
        }
        memset(f, 0, sizeof *f);
        f->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        size_t caplen = h->caplen;
        size_t wire = h->len;
        if (caplen > wire)
            wire = caplen; /* a writer that set len < caplen: trust what is really there */
        int ok = 0;
        if (src->dlt == DLT_EN10MB) {
            if (caplen >= 14) {
                f->kind = SC_FRAME_ETHERNET;
                memcpy(f->addr1, data, 6);
                memcpy(f->addr2, data + 6, 6);
                ok = wire <= 0xFFFF;
                f->len = (uint16_t)wire;
            }
        } else if (src->dlt == DLT_IEEE802_11) {
            ok = wire <= 0xFFFF && parse_80211(data, caplen, f);
            f->len = (uint16_t)wire;
        } else {
            int bad = 0, pad = 0;
            size_t rt = parse_radiotap(data, caplen, f, &bad, &pad);
            if (rt && !bad && wire - rt <= 0xFFFF && parse_80211(data + rt, caplen - rt, f)) {
                size_t len = wire - rt;
                /* Some drivers pad the header to 4 bytes; the pad is not on the air. */
                size_t hl = pad ? data_header_len(f->fc) : 0;
                size_t padlen = (4 - (hl & 3)) & 3;
                if (len >= hl + padlen) {
                    f->len = (uint16_t)(len - padlen);
                    ok = 1;
                }
            }
        }
        if (ok)
            return 1;
        src->skipped++;
    }
}

const char *sc_pcap_error(const sc_pcap_src_t *src) { return src ? src->err : "no source"; }
int sc_pcap_fd(const sc_pcap_src_t *src) { return src && src->live ? pcap_get_selectable_fd(src->p) : -1; }

const char *sc_pcap_linktype(const sc_pcap_src_t *src)
{
    if (!src)
        return "none";
    switch (src->dlt) {
    case DLT_IEEE802_11_RADIO: return "802.11+radiotap";
    case DLT_IEEE802_11: return "802.11";
    default: return "ethernet";
    }
}

unsigned long sc_pcap_skipped(const sc_pcap_src_t *src) { return src ? src->skipped : 0; }

void sc_pcap_close(sc_pcap_src_t *src)
{
    if (!src)
        return;
    pcap_close(src->p);
    free(src);
}

uint64_t sc_pcap_clock_at(sc_pcap_clock_t *c, uint64_t ts_us)
{
    if (!c->started) {
        c->started = true;
        c->base_ts = ts_us;
        c->base_rel = c->rel = 0;
        return 0;
    }
    /* the timestamp the clock stands at now (the latest one seen since the last break) */
    const uint64_t at = c->base_ts + (c->rel - c->base_rel);
    if (ts_us >= at ? ts_us - at > SC_PCAP_CLOCK_GAP_US : at - ts_us > SC_PCAP_CLOCK_HOLD_US) {
        c->base_ts = ts_us;
        c->base_rel = c->rel;
        c->breaks++;
    } else if (ts_us > at) {
        c->rel = c->base_rel + (ts_us - c->base_ts);
    }
    return c->rel;
}

/* --- writer ----------------------------------------------------------------------- */

sc_pcap_writer_t *sc_pcap_writer_open(const char *path, char *errbuf, size_t errlen)
{
    if (!path) {
        set_err(errbuf, errlen, "%s%s", "no output file given", "");
        return NULL;
    }
    sc_pcap_writer_t *w = calloc(1, sizeof *w);
    if (!w) {
        set_err(errbuf, errlen, "%s: %s", path, "out of memory");
        return NULL;
    }
    w->dead = pcap_open_dead(DLT_IEEE802_11_RADIO, 65535);
    if (!w->dead) {
        free(w);
        set_err(errbuf, errlen, "%s: %s", path, "pcap_open_dead failed");
        return NULL;
    }
    /* not pcap_dump_open(): it follows a symbolic link planted at the name and writes into
     * another user's file (sc_posix_open_output) */
    char why[256];
    FILE *fp = sc_posix_open_output(path, true, why, sizeof why);
    w->dumper = fp ? pcap_dump_fopen(w->dead, fp) : NULL;
    if (!w->dumper) {
        if (fp) {
            snprintf(why, sizeof why, "%s", pcap_geterr(w->dead));
            fclose(fp);
        }
        set_err(errbuf, errlen, "%s: %s", path, why);
        pcap_close(w->dead);
        free(w);
        return NULL;
    }
    return w;
}

#define RT_LEN 16 /* header 8 + flags 1 + pad 1 + channel 4 + signal 1 + pad 1 */
#define RT_EXT_LEN 36 /* header 8 + 2 more present words + TSFT 8 + flags, pad, channel, signal + 2 x (signal, antenna) + pad */

int sc_pcap_write_ex(sc_pcap_writer_t *w, const sc_frame_t *f, unsigned flags)
{
    if (!w || !f)
        return SC_ERR_INVAL;
    if (w->err)
        return SC_ERR_IO;
    uint8_t buf[RT_EXT_LEN + 65536];
    const int ext = (flags & SC_PCAP_W_EXT) != 0;
    const size_t rt_len = ext ? RT_EXT_LEN : RT_LEN;
    memset(buf, 0, rt_len);
    buf[2] = (uint8_t)rt_len;
    uint32_t present = (1u << RT_FLAGS) | (1u << RT_CHANNEL) | (1u << RT_DBM_SIGNAL);
    size_t o = 8; /* where the first word's fields start */
    if (ext) {
        /* word 0: TSFT, flags, channel, signal, +radiotap namespace, +ext; words 1 and 2: one
         * antenna each (signal, antenna), the last without ext: fields start at 16 */
        present |= (1u << RT_TSFT) | (1u << 29) | (1u << 31);
        uint32_t w1 = (1u << RT_DBM_SIGNAL) | (1u << 11) | (1u << 29) | (1u << 31), w2 = (1u << RT_DBM_SIGNAL) | (1u << 11);
        for (int i = 0; i < 4; i++) {
            buf[8 + i] = (uint8_t)(w1 >> (8 * i));
            buf[12 + i] = (uint8_t)(w2 >> (8 * i));
        }
        for (int i = 0; i < 8; i++)
            buf[16 + i] = (uint8_t)(f->ts_us >> (8 * i)); /* TSFT: any counter will do */
        o = 24;
    }
    for (int i = 0; i < 4; i++)
        buf[4 + i] = (uint8_t)(present >> (8 * i));
    uint8_t rtf = 0;
    if (f->fcs)
        rtf |= RT_FLAG_FCS;
    if (flags & SC_PCAP_W_BADFCS)
        rtf |= RT_FLAG_BADFCS;
    buf[o] = rtf;
    unsigned freq = channel_to_freq(f->channel);
    uint16_t chflags = f->channel > 14 ? 0x0140 : 0x00c0; /* 5 GHz|OFDM or 2 GHz|OFDM */
    buf[o + 2] = (uint8_t)freq;
    buf[o + 3] = (uint8_t)(freq >> 8);
    buf[o + 4] = (uint8_t)chflags;
    buf[o + 5] = (uint8_t)(chflags >> 8);
    buf[o + 6] = (uint8_t)f->rssi;
    if (ext) {
        buf[31] = (uint8_t)(f->rssi - 2); /* antenna 0 */
        buf[32] = 0;
        buf[33] = (uint8_t)(f->rssi - 4); /* antenna 1 */
        buf[34] = 1;
    }

    uint8_t *m = buf + rt_len;
    size_t n = f->len;
    size_t hl;
    unsigned type = SC_FC_TYPE(f->fc);
    if (f->kind == SC_FRAME_ETHERNET)
        return SC_ERR_UNSUPPORTED; /* the writer produces radiotap captures only */
    if (type == 1)
        hl = (SC_FC_SUBTYPE(f->fc) == 12 || SC_FC_SUBTYPE(f->fc) == 13) ? 10 : 16;
    else {
        hl = 24;
        if ((f->fc & (SC_FC_TODS | SC_FC_FROMDS)) == (SC_FC_TODS | SC_FC_FROMDS))
            hl += 6;
        if (type == 2 && (SC_FC_SUBTYPE(f->fc) & 8))
            hl += 2;
    }
    if (n < hl + (f->fcs ? 4u : 0u))
        return SC_ERR_RANGE;
    memset(m, 0, n);
    m[0] = (uint8_t)f->fc;
    m[1] = (uint8_t)(f->fc >> 8);
    memcpy(m + 4, f->addr1, 6);
    if (hl >= 16)
        memcpy(m + 10, f->addr2, 6);
    if (hl >= 24) {
        memcpy(m + 16, f->addr3, 6);
        m[22] = (uint8_t)f->seq_ctrl;
        m[23] = (uint8_t)(f->seq_ctrl >> 8);
    }
    if (type == 2 && (SC_FC_SUBTYPE(f->fc) & 8)) {
        m[hl - 2] = (uint8_t)f->qos_ctrl;
        m[hl - 1] = (uint8_t)(f->qos_ctrl >> 8);
    }
    /* Filler stands in for the (encrypted) body; its content is never inspected. */
    for (size_t i = hl; i < n; i++)
        m[i] = 0x31;
    if (f->fcs) {
        uint32_t c = sc_diag_crc32(m, n - 4); /* the 802.11 FCS is the IEEE CRC-32 */
        if (flags & SC_PCAP_W_BADFCS)
            c ^= 0xA5A5A5A5u; /* what a corrupted reception looks like */
        m[n - 4] = (uint8_t)c;
        m[n - 3] = (uint8_t)(c >> 8);
        m[n - 2] = (uint8_t)(c >> 16);
        m[n - 1] = (uint8_t)(c >> 24);
    }
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (time_t)(f->ts_us / 1000000u);
    h.ts.tv_usec = (suseconds_t)(f->ts_us % 1000000u);
    h.caplen = h.len = (bpf_u_int32)(rt_len + n);
    errno = 0;
    pcap_dump((u_char *)w->dumper, &h, buf);
    if (ferror(pcap_dump_file(w->dumper))) {
        /* a full disk (/dev/full): said as such, and no more written (air wrote the whole
         * capture into the error, then said only "I/O error") */
        w->err = errno ? errno : EIO;
        return SC_ERR_IO;
    }
    return SC_OK;
}

int sc_pcap_write(sc_pcap_writer_t *w, const sc_frame_t *f) { return sc_pcap_write_ex(w, f, 0); }

int sc_pcap_writer_close(sc_pcap_writer_t *w) { return sc_pcap_writer_close_err(w, NULL); }

int sc_pcap_writer_close_err(sc_pcap_writer_t *w, int *err)
{
    if (!w)
        return SC_ERR_INVAL;
    int rc = SC_OK;
    /* A write that failed earlier (a full disk) emptied the buffer and set the error flag:
     * the flush alone then succeeds and the capture was said written. */
    errno = 0;
    if (w->err || pcap_dump_flush(w->dumper) != 0 || ferror(pcap_dump_file(w->dumper))) {
        rc = SC_ERR_IO;
        if (!w->err)
            w->err = errno ? errno : EIO;
    }
    if (err)
        *err = w->err;
    pcap_dump_close(w->dumper);
    pcap_close(w->dead);
    free(w);
    return rc;
}
