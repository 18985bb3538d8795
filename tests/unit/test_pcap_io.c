/* SPDX-License-Identifier: Apache-2.0 */
/* pcap reader/writer: round trip of simulated frames, Ethernet and plain 802.11 files made
 * with pcap_open_dead + pcap_dump, hand-built radiotap (extended bitmaps, alignment, FCS and
 * bad-FCS flags), and broken inputs (missing, empty, non-pcap, truncated, corrupt records,
 * unsupported link type): a clear error or a skipped record, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include "sc_pcap.h"
#include "smartcfg/air.h"

static char dir[] = "/tmp/sc_pcap_test_XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static sc_air_t air;
static sc_frame_t written[20000];
static unsigned badfcs_written;

static unsigned write_sim(const char *path, int fcs, double foreign, int bad_every)
{
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.fcs = (uint8_t)fcs;
    c.foreign = foreign;
    c.retry = 0.1;
    c.duration_ms = 2500;
    c.dtim_ms = 200;
    c.channel = 11;
    assert_int_equal(sc_air_init(&air, &c), SC_OK);
    char eb[256];
    sc_pcap_writer_t *w = sc_pcap_writer_open(path, eb, sizeof eb);
    assert_non_null(w);
    sc_frame_t f;
    uint32_t t;
    unsigned n = 0, i = 0;
    badfcs_written = 0;
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        int bad = bad_every && (i++ % bad_every) == 0;
        assert_int_equal(sc_pcap_write_ex(w, &f, bad ? SC_PCAP_W_BADFCS : 0), SC_OK);
        if (bad)
            badfcs_written++;
        else
            written[n++] = f;
        assert_true(n < 20000);
    }
    assert_int_equal(sc_pcap_writer_close(w), SC_OK);
    return n;
}

static void assert_same(const sc_frame_t *a, const sc_frame_t *b)
{
    assert_int_equal(a->len, b->len);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->channel, b->channel);
    assert_int_equal(a->rssi, b->rssi);
    assert_int_equal(a->fcs, b->fcs);
    assert_int_equal(a->fc, b->fc);
    assert_memory_equal(a->addr1, b->addr1, 6);
    assert_int_equal(a->ts_us, b->ts_us);
    if (SC_FC_TYPE(a->fc) != 1) {
        assert_memory_equal(a->addr2, b->addr2, 6);
        assert_memory_equal(a->addr3, b->addr3, 6);
        assert_int_equal(a->seq_ctrl, b->seq_ctrl);
    }
    if (SC_FC_TYPE(a->fc) == 2 && (SC_FC_SUBTYPE(a->fc) & 8))
        assert_int_equal(a->qos_ctrl, b->qos_ctrl);
}

static void round_trip(int fcs, int bad_every)
{
    const char *p = path_of(fcs ? "rt_fcs.pcap" : "rt_nofcs.pcap");
    unsigned n = write_sim(p, fcs, 3.0, bad_every);
    char eb[256];
    sc_pcap_src_t *s = sc_pcap_open_file(p, eb, sizeof eb);
    assert_non_null(s);
    assert_string_equal(sc_pcap_linktype(s), "802.11+radiotap");
    assert_int_equal(sc_pcap_fd(s), -1);
    sc_frame_t f;
    unsigned i = 0;
    while (sc_pcap_next(s, &f) == 1) {
        assert_true(i < n);
        assert_same(&written[i], &f);
        i++;
    }
    assert_int_equal(i, n);
    assert_int_equal(sc_pcap_skipped(s), badfcs_written);
    sc_pcap_close(s);
}

static void test_round_trip_fcs(void **state)
{
    (void)state;
    round_trip(1, 0);
}

static void test_round_trip_no_fcs(void **state)
{
    (void)state;
    round_trip(0, 0);
}

static void test_bad_fcs_skipped(void **state)
{
    (void)state;
    round_trip(1, 7);
    assert_true(badfcs_written > 100);
}

/* The FCS the writer appends is the real CRC-32 of the frame: check it independently. */
static void test_fcs_is_crc32(void **state)
{
    (void)state;
    const char *p = path_of("crc.pcap");
    sc_frame_t f;
    memset(&f, 0, sizeof f);
    f.kind = SC_FRAME_80211;
    f.fc = 0x0208; /* data, FromDS */
    f.len = 100;
    f.fcs = 1;
    f.channel = 1;
    char eb[256];
    sc_pcap_writer_t *w = sc_pcap_writer_open(p, eb, sizeof eb);
    assert_non_null(w);
    assert_int_equal(sc_pcap_write(w, &f), SC_OK);
    f.len = 20; /* shorter than header + FCS */
    assert_int_equal(sc_pcap_write(w, &f), SC_ERR_RANGE);
    assert_int_equal(sc_pcap_writer_close(w), SC_OK);
    pcap_t *pc = pcap_open_offline(p, eb);
    assert_non_null(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    assert_int_equal(pcap_next_ex(pc, &h, &d), 1);
    size_t rt = d[2] | (d[3] << 8);
    assert_int_equal(h->len - rt, 100);
    const u_char *m = d + rt;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < 96; i++) {
        c ^= m[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    c = ~c;
    uint32_t got = m[96] | (m[97] << 8) | (m[98] << 16) | ((uint32_t)m[99] << 24);
    assert_int_equal(c, got);
    /* the same check catches the classic residue: CRC over frame+FCS = 0x2144DF1C */
    pcap_close(pc);
}

static void dump_records(const char *p, int dlt, const uint8_t *const *recs, const size_t *caplens,
                         const size_t *lens, size_t n)
{
    pcap_t *dead = pcap_open_dead(dlt, 65535);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, p);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) {
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof h);
        h.ts.tv_sec = 1700000000 + (time_t)i;
        h.ts.tv_usec = 123456;
        h.caplen = (bpf_u_int32)caplens[i];
        h.len = (bpf_u_int32)lens[i];
        pcap_dump((u_char *)d, &h, recs[i]);
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static void test_ethernet(void **state)
{
    (void)state;
    const char *p = path_of("eth.pcap");
    uint8_t a[64], b[6];
    memset(a, 0, sizeof a);
    memset(a, 0xFF, 6);                                                     /* dst broadcast */
    memcpy(a + 6, (const uint8_t[]){ 0x3c, 0x28, 0x6d, 1, 2, 3 }, 6); /* src */
    a[12] = 0x08;
    memset(b, 0xFF, sizeof b);
    const uint8_t *recs[2] = { a, b };
    size_t cap[2] = { 64, 6 }, len[2] = { 42 + 515, 100 }; /* a UDP guide datagram, header only; a runt */
    dump_records(p, DLT_EN10MB, recs, cap, len, 2);
    char eb[256];
    sc_pcap_src_t *s = sc_pcap_open_file(p, eb, sizeof eb);
    assert_non_null(s);
    assert_string_equal(sc_pcap_linktype(s), "ethernet");
    sc_frame_t f;
    assert_int_equal(sc_pcap_next(s, &f), 1);
    assert_int_equal(f.kind, SC_FRAME_ETHERNET);
    assert_int_equal(f.len, 42 + 515); /* original length, not caplen */
    assert_memory_equal(f.addr1, a, 6);
    assert_memory_equal(f.addr2, a + 6, 6);
    assert_int_equal(f.ts_us, 1700000000ULL * 1000000u + 123456u);
    assert_int_equal(sc_pcap_next(s, &f), 0);
    assert_int_equal(sc_pcap_skipped(s), 1);
    sc_pcap_close(s);
}

static void test_plain_80211(void **state)
{
    (void)state;
    const char *p = path_of("plain.pcap");
    uint8_t q[26], d[24], ack[10], shortq[24];
    memset(q, 0, sizeof q);
    q[0] = 0x88;
    q[1] = 0x41; /* QoS data, ToDS, Protected */
    memset(q + 4, 0x11, 6);
    memset(q + 10, 0x22, 6);
    memset(q + 16, 0xFF, 6);
    q[22] = 0x50;
    q[23] = 0x01;
    q[24] = 0x05;
    memcpy(d, q, 24);
    d[0] = 0x08;
    d[1] = 0x42;
    memset(ack, 0, sizeof ack);
    ack[0] = 0xD4;
    memcpy(shortq, q, 24); /* QoS subtype without the QoS field captured */
    const uint8_t *recs[4] = { q, d, ack, shortq };
    size_t cap[4] = { 26, 24, 10, 24 }, len[4] = { 593, 588, 14, 600 };
    dump_records(p, DLT_IEEE802_11, recs, cap, len, 4);
    char eb[256];
    sc_pcap_src_t *s = sc_pcap_open_file(p, eb, sizeof eb);
    assert_non_null(s);
    assert_string_equal(sc_pcap_linktype(s), "802.11");
    sc_frame_t f;
    assert_int_equal(sc_pcap_next(s, &f), 1);
    assert_int_equal(f.kind, SC_FRAME_80211);
    assert_int_equal(f.len, 593);
    assert_int_equal(f.fc, 0x4188);
    assert_int_equal(f.seq_ctrl, 0x0150);
    assert_int_equal(f.qos_ctrl, 5);
    assert_int_equal(f.fcs, 0);
    assert_int_equal(f.channel, 0);
    assert_memory_equal(f.addr2, q + 10, 6);
    assert_int_equal(sc_pcap_next(s, &f), 1);
    assert_int_equal(f.len, 588);
    assert_int_equal(f.fc, 0x4208);
    assert_int_equal(sc_pcap_next(s, &f), 1);
    assert_int_equal(SC_FC_TYPE(f.fc), 1);
    assert_int_equal(f.len, 14);
    assert_int_equal(sc_pcap_next(s, &f), 0);
    assert_int_equal(sc_pcap_skipped(s), 1);
    sc_pcap_close(s);
}

/* Radiotap with TSFT (8-byte alignment), an extended present bitmap, Flags = FCS, Channel
 * 2462, dBm signal -57; then the same with the bad-FCS flag; then malformed headers. */
static void test_radiotap_parsing(void **state)
{
    (void)state;
    const char *p = path_of("rt.pcap");
    uint8_t r[64 + 24];
    memset(r, 0, sizeof r);
    /* present words at 4 and 8 (ext bit set in the first), data from 12, TSFT aligned to 16 */
    uint32_t pw = (1u << 0) | (1u << 1) | (1u << 3) | (1u << 5) | (1u << 31);
    r[4] = (uint8_t)pw;
    r[7] = (uint8_t)(pw >> 24);
    r[8] = 0x02; /* second word: some field of the extended bitmap we ignore; no further ext */
    /* TSFT 16..23, flags 24, channel 26..29, signal 30; it_len 32 (ext fields after: ignored) */
    r[24] = 0x10;
    r[26] = 2462 & 0xFF;
    r[27] = 2462 >> 8;
    r[30] = (uint8_t)-57;
    r[2] = 32;
    uint8_t *m = r + 32;
    m[0] = 0x08;
    m[1] = 0x02; /* data FromDS */
    memset(m + 4, 0xFF, 6);
    memset(m + 10, 0x44, 6);
    memset(m + 16, 0x55, 6);
    uint8_t bad[56];
    memcpy(bad, r, 56);
    bad[24] = 0x50; /* FCS + bad FCS */
    uint8_t trunc_rt[8] = { 0, 0, 200, 0, 0, 0, 0, 0 };       /* it_len past the record */
    uint8_t loop_rt[16] = { 0, 0, 16, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    uint8_t ver_rt[16] = { 1, 0, 8, 0 };                         /* unknown radiotap version */
    uint8_t tiny[3] = { 0, 0, 8 };
    const uint8_t *recs[6] = { r, bad, trunc_rt, loop_rt, ver_rt, tiny };
    size_t cap[6] = { 56, 56, 8, 16, 16, 3 }, len[6] = { 32 + 600, 32 + 600, 300, 300, 300, 3 };
    dump_records(p, DLT_IEEE802_11_RADIO, recs, cap, len, 6);
    char eb[256];
    sc_pcap_src_t *s = sc_pcap_open_file(p, eb, sizeof eb);
    assert_non_null(s);
    sc_frame_t f;
    assert_int_equal(sc_pcap_next(s, &f), 1);
    assert_int_equal(f.len, 600);
    assert_int_equal(f.fcs, 1);
    assert_int_equal(f.channel, 11);
    assert_int_equal(f.rssi, -57);
    assert_int_equal(f.fc, 0x0208);
    assert_memory_equal(f.addr2, m + 10, 6);
    assert_int_equal(sc_pcap_next(s, &f), 0);
    assert_int_equal(sc_pcap_skipped(s), 5);
    sc_pcap_close(s);
}

/* Radiotap Flags 0x20: the driver padded the QoS header (26 bytes) to 28; the pad is not
 * part of the frame on the air. */
static void test_radiotap_datapad(void **state)
{
    (void)state;
    const char *p = path_of("pad.pcap");
    uint8_t r[12 + 28];
    memset(r, 0, sizeof r);
    r[2] = 12;
    r[4] = 1u << 1; /* Flags only, at offset 8 */
    r[8] = 0x30;    /* FCS + data pad */
    uint8_t *m = r + 12;
    m[0] = 0x88;
    m[1] = 0x41;
    memset(m + 4, 0x11, 6);
    memset(m + 10, 0x22, 6);
    memset(m + 16, 0xFF, 6);
    m[24] = 7;
    const uint8_t *recs[1] = { r };
    size_t cap[1] = { sizeof r }, len[1] = { 12 + 28 + 515 + 36 + 16 + 4 };
    dump_records(p, DLT_IEEE802_11_RADIO, recs, cap, len, 1);
    char eb[256];
    sc_pcap_src_t *s = sc_pcap_open_file(p, eb, sizeof eb);
    assert_non_null(s);
    sc_frame_t f;
    assert_int_equal(sc_pcap_next(s, &f), 1);
    assert_int_equal(f.len, 26 + 515 + 36 + 16 + 4); /* = 515 + 82 */
    assert_int_equal(f.qos_ctrl, 7);
    assert_int_equal(f.fcs, 1);
    sc_pcap_close(s);
}

static void test_bad_files(void **state)
{
    (void)state;
    char eb[256];
    assert_null(sc_pcap_open_file(path_of("missing.pcap"), eb, sizeof eb));
    assert_non_null(strstr(eb, "No such file"));
    const char *e = path_of("empty.pcap");
    FILE *fp = fopen(e, "wb");
    fclose(fp);
    assert_null(sc_pcap_open_file(e, eb, sizeof eb));
    assert_non_null(strstr(eb, "empty"));
    const char *t = path_of("text.pcap");
    fp = fopen(t, "wb");
    fputs("this is not a capture file at all, just text\n", fp);
    fclose(fp);
    assert_null(sc_pcap_open_file(t, eb, sizeof eb));
    assert_non_null(strstr(eb, "not a readable"));
    assert_null(sc_pcap_open_file(dir, eb, sizeof eb)); /* a directory */
    assert_null(sc_pcap_open_file(NULL, eb, sizeof eb));
    /* header only, cut inside the global header */
    const char *full = path_of("full.pcap");
    unsigned n = write_sim(full, 1, 0.0, 0);
    fp = fopen(full, "rb");
    static uint8_t buf[1 << 20];
    size_t sz = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    const char *h = path_of("hdr.pcap");
    fp = fopen(h, "wb");
    fwrite(buf, 1, 10, fp);
    fclose(fp);
    assert_null(sc_pcap_open_file(h, eb, sizeof eb));
    /* cut in the middle of the last record: all earlier frames, then end with one skipped */
    const char *tr = path_of("trunc.pcap");
    fp = fopen(tr, "wb");
    fwrite(buf, 1, sz - 30, fp);
    fclose(fp);
    sc_pcap_src_t *s = sc_pcap_open_file(tr, eb, sizeof eb);
    assert_non_null(s);
    sc_frame_t f;
    unsigned got = 0;
    int rc;
    while ((rc = sc_pcap_next(s, &f)) == 1)
        got++;
    assert_int_equal(rc, 0);
    assert_int_equal(got, n - 1);
    assert_int_equal(sc_pcap_skipped(s), 1);
    assert_non_null(strstr(sc_pcap_error(s), "truncated"));
    sc_pcap_close(s);
    /* a record header claiming a huge caplen: an error, not a crash */
    const char *cor = path_of("corrupt.pcap");
    memcpy(buf + 24 + 8, "\xff\xff\xff\x7f", 4);
    fp = fopen(cor, "wb");
    fwrite(buf, 1, sz, fp);
    fclose(fp);
    s = sc_pcap_open_file(cor, eb, sizeof eb);
    assert_non_null(s);
    rc = sc_pcap_next(s, &f);
    assert_true(rc <= 0);
    if (rc < 0)
        assert_true(strlen(sc_pcap_error(s)) > 0);
    sc_pcap_close(s);
    /* unsupported link type */
    const char *raw = path_of("raw.pcap");
    const uint8_t *recs[1] = { buf };
    size_t cap[1] = { 20 }, len[1] = { 20 };
    dump_records(raw, DLT_RAW, recs, cap, len, 1);
    assert_null(sc_pcap_open_file(raw, eb, sizeof eb));
    assert_non_null(strstr(eb, "unsupported link type"));
}

static void test_open_fp(void **state)
{
    (void)state;
    const char *p = path_of("fp.pcap");
    unsigned n = write_sim(p, 0, 1.0, 0);
    char eb[256];
    sc_pcap_src_t *s = sc_pcap_open_fp(fopen(p, "rb"), "fp", eb, sizeof eb);
    assert_non_null(s);
    sc_frame_t f;
    unsigned got = 0;
    while (sc_pcap_next(s, &f) == 1)
        got++;
    assert_int_equal(got, n);
    sc_pcap_close(s);
    assert_null(sc_pcap_open_fp(NULL, "x", eb, sizeof eb));
}

/* F62: the capture's clock never goes back and never leaps (sc_pcap_clock_t). */
static void test_clock(void **state)
{
    (void)state;
    sc_pcap_clock_t c = { 0 };
    const uint64_t t0 = 1700000000000000ull;
    assert_int_equal(sc_pcap_clock_at(&c, t0), 0);
    assert_int_equal(sc_pcap_clock_at(&c, t0 + 5000), 5000);
    /* a small step back (merged sniffers) holds the clock; the old timeline goes on */
    assert_int_equal(sc_pcap_clock_at(&c, t0 + 4000), 5000);
    assert_int_equal(sc_pcap_clock_at(&c, t0 + 7000), 7000);
    assert_int_equal(c.breaks, 0);
    /* two sniffers merged, one 5 s behind, their frames alternating: the clock follows the
     * later one and gains nothing from the alternation (a break at each step back would add
     * 5 s at each return) */
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(sc_pcap_clock_at(&c, t0 + 7000 + i * 1000 - 5000000), 7000 + (i - 1) * 1000);
        assert_int_equal(sc_pcap_clock_at(&c, t0 + 7000 + i * 1000), 7000 + i * 1000);
    }
    assert_int_equal(sc_pcap_clock_at(&c, t0 + 11000 - SC_PCAP_CLOCK_HOLD_US), 11000);
    assert_int_equal(sc_pcap_clock_at(&c, t0 + 11000), 11000);
    assert_int_equal(c.breaks, 0);
    /* the clock set back an hour: it goes on from 11 ms at the new timestamps' pace */
    const uint64_t t1 = t0 - 3600000000ull;
    assert_int_equal(sc_pcap_clock_at(&c, t1), 11000);
    assert_int_equal(sc_pcap_clock_at(&c, t1 + 100000), 111000);
    assert_int_equal(c.breaks, 1);
    /* one record 30 days ahead, then the old timeline again: two breaks, no leap */
    assert_int_equal(sc_pcap_clock_at(&c, t1 + 30ull * 86400 * 1000000), 111000);
    assert_int_equal(sc_pcap_clock_at(&c, t1 + 200000), 111000);
    assert_int_equal(sc_pcap_clock_at(&c, t1 + 250000), 161000);
    assert_int_equal(c.breaks, 3);
    /* a real gap of up to an hour is kept */
    assert_int_equal(sc_pcap_clock_at(&c, t1 + 250000 + SC_PCAP_CLOCK_GAP_US), 161000 + SC_PCAP_CLOCK_GAP_US);
    assert_int_equal(c.breaks, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_fcs),
        cmocka_unit_test(test_round_trip_no_fcs),
        cmocka_unit_test(test_bad_fcs_skipped),
        cmocka_unit_test(test_fcs_is_crc32),
        cmocka_unit_test(test_ethernet),
        cmocka_unit_test(test_plain_80211),
        cmocka_unit_test(test_radiotap_parsing),
        cmocka_unit_test(test_radiotap_datapad),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_open_fp),
        cmocka_unit_test(test_clock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
