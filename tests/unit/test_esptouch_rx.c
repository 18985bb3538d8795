/* SPDX-License-Identifier: Apache-2.0 */
/* ESP-TOUCH v1 receiver: frames built from the encoder + reference schedule as a sniffer
 * sees them (ToDS uplink and FromDS relay, every cipher/QoS/FCS overhead, Ethernet, length
 * only), with loss, retries, guide-less starts, a second phone, spoofers, foreign traffic and
 * scan lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "smartcfg/esptouch_rx.h"
#include "smartcfg/receiver.h"

static const uint8_t BSSID[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t PHONE_A[6] = { 0x3c, 0x28, 0x6d, 0x12, 0x34, 0x56 };
static const uint8_t PHONE_B[6] = { 0x9a, 0x01, 0x02, 0x03, 0x04, 0x05 };

/* overheads of docs/protocol/esptouch-v1.md#frame-length-and-overhead: {data, qos} without FCS per cipher */
static const uint16_t OVH[5][2] = { { 60, 62 }, { 68, 70 }, { 80, 82 }, { 76, 78 }, { 84, 86 } };

typedef struct {
    sc_et_creds_t creds;
    sc_et_encoder_t enc;
    sc_et_sched_t sched;
    sc_et_dgram_t next;
    int has_next;
    uint8_t phone[6];
    uint8_t bssid[6];
    uint8_t channel;
    int kind;              /* SC_FRAME_* */
    int up, down;          /* which copies */
    uint16_t off_up, off_down;
    int qos_up, qos_down, prot;
    double loss, retry;
    uint32_t start_ms;     /* capture starts this far into the run */
    uint32_t rng;
    uint16_t seq_up, seq_down;
    int drop_index_from;   /* drop datagrams of triplets whose index >= this (-1 = none) */
    int drop_index_to;
    int ndrop;             /* drop single datagrams, every round: (index, position in triplet) */
    uint8_t drop_idx[16], drop_pos[16];
    uint32_t drop_until;   /* ... only before this time of the run (0 = always) */
} phone_t;

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}
static int chance(uint32_t *s, double p) { return p > 0 && (rnd(s) % 1000000u) < (uint32_t)(p * 1000000.0); }

static void creds_make(sc_et_creds_t *c, const void *ssid, size_t sl, const void *pwd, size_t pl)
{
    memset(c, 0, sizeof *c);
    memcpy(c->ssid, ssid, sl);
    c->ssid_len = (uint8_t)sl;
    memcpy(c->password, pwd, pl);
    c->password_len = (uint8_t)pl;
    memcpy(c->bssid, BSSID, 6);
    const uint8_t ip[4] = { 192, 168, 1, 100 };
    memcpy(c->phone_ip, ip, 4);
}

static void phone_init(phone_t *p, const sc_et_creds_t *c, const uint8_t mac[6], uint32_t seed)
{
    memset(p, 0, sizeof *p);
    p->creds = *c;
    assert_int_equal(sc_et_encode(&p->enc, c), SC_OK);
    assert_int_equal(sc_et_sched_init(&p->sched, &p->enc, NULL), SC_OK);
    memcpy(p->phone, mac, 6);
    memcpy(p->bssid, c->bssid, 6);
    p->channel = 6;
    p->kind = SC_FRAME_80211;
    p->up = p->down = 1;
    p->off_up = 78 + 4;   /* CCMP QoS + FCS */
    p->off_down = 76 + 4; /* CCMP data + FCS */
    p->qos_up = 1;
    p->prot = 1;
    p->rng = seed ? seed : 1;
    p->seq_up = (uint16_t)(seed * 16u);
    p->drop_index_from = -1;
}

static int phone_peek(phone_t *p)
{
    if (!p->has_next) {
        uint32_t prev = p->next.at_ms;
        if (sc_et_sched_next(&p->sched, prev, &p->next) != SC_OK)
            return 0;
        p->has_next = 1;
    }
    return 1;
}

static void frame_80211(sc_frame_t *f, const phone_t *p, int tods, uint16_t len, uint16_t seq)
{
    memset(f, 0, sizeof *f);
    f->kind = SC_FRAME_80211;
    f->channel = p->channel;
    f->len = len;
    int qos = tods ? p->qos_up : p->qos_down;
    f->fc = (uint16_t)((2u << 2) | ((qos ? 8u : 0u) << 4) | (tods ? SC_FC_TODS : SC_FC_FROMDS) |
                       (p->prot ? SC_FC_PROTECTED : 0u));
    f->seq_ctrl = (uint16_t)(seq << 4);
    uint8_t da[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (tods) {
        memcpy(f->addr1, p->bssid, 6);
        memcpy(f->addr2, p->phone, 6);
        memcpy(f->addr3, da, 6);
    } else {
        memcpy(f->addr1, da, 6);
        memcpy(f->addr2, p->bssid, 6);
        memcpy(f->addr3, p->phone, 6);
        f->qos_ctrl = qos ? 0x20 : 0;
    }
}

typedef void (*feed_fn)(void *ctx, const sc_frame_t *f, uint32_t now);

/* Emits the frames of the phone's next datagram. Returns 0 at the end of the run. */
static int phone_step(phone_t *p, feed_fn fn, void *ctx)
{
    if (!phone_peek(p))
        return 0;
    sc_et_dgram_t d = p->next;
    p->has_next = 0;
    if (d.at_ms < p->start_ms)
        return 1;
    uint32_t now = d.at_ms - p->start_ms;
    if (p->drop_index_from >= 0 && !d.is_guide) {
        unsigned code = d.cursor / 3u;
        unsigned idx = p->enc.order[code].index;
        if ((int)idx >= p->drop_index_from && (int)idx <= p->drop_index_to)
            return 1;
    }
    if (p->ndrop && !d.is_guide && (!p->drop_until || d.at_ms < p->drop_until)) {
        unsigned idx = p->enc.order[d.cursor / 3u].index;
        for (int k = 0; k < p->ndrop; k++)
            if (p->drop_idx[k] == idx && p->drop_pos[k] == d.pos)
                return 1;
    }
    sc_frame_t f;
    if (p->kind == SC_FRAME_ETHERNET) {
        if (chance(&p->rng, p->loss))
            return 1;
        memset(&f, 0, sizeof f);
        f.kind = SC_FRAME_ETHERNET;
        f.len = (uint16_t)(d.len + p->off_up);
        memset(f.addr1, 0xff, 6);
        memcpy(f.addr2, p->phone, 6);
        fn(ctx, &f, now);
        return 1;
    }
    if (p->up) {
        p->seq_up = (uint16_t)((p->seq_up + 1) & 0xfff);
        if (!chance(&p->rng, p->loss)) {
            frame_80211(&f, p, 1, (uint16_t)(d.len + p->off_up), p->seq_up);
            if (p->kind == SC_FRAME_LEN_ONLY) {
                uint16_t len = f.len;
                memset(&f, 0, sizeof f);
                f.len = len;
                f.kind = SC_FRAME_LEN_ONLY;
                f.channel = p->channel;
            }
            fn(ctx, &f, now);
            if (p->kind == SC_FRAME_80211 && chance(&p->rng, p->retry)) {
                f.fc |= SC_FC_RETRY;
                fn(ctx, &f, now);
            }
        }
    }
    if (p->down) {
        p->seq_down = (uint16_t)((p->seq_down + 1) & 0xfff);
        if (!chance(&p->rng, p->loss)) {
            frame_80211(&f, p, 0, (uint16_t)(d.len + p->off_down), p->seq_down);
            if (p->kind == SC_FRAME_LEN_ONLY) {
                uint16_t len = f.len;
                memset(&f, 0, sizeof f);
                f.len = len;
                f.kind = SC_FRAME_LEN_ONLY;
                f.channel = p->channel;
            }
            fn(ctx, &f, now + 1);
        }
    }
    return 1;
}

/* --- the harness: phones in time order + foreign traffic into one receiver --------------- */

#define MAX_DONE 8
typedef struct {
    sc_et_rx_t rx;
    uint32_t rng;
    double foreign;           /* foreign frames per datagram */
    int spoof;                /* % of datagrams followed by a forged bad-CRC triplet */
    phone_t *spoof_as;
    int ndone, nlocked, nunlocked, nprogress;
    sc_et_result_t done[MAX_DONE];
    uint32_t done_ms[MAX_DONE];
    uint32_t first_lock_ms;
    int reset_on_done;        /* 1: sc_et_rx_reset after a result, 2: sc_et_rx_resume */
    uint32_t last_now;
} harness_t;

static void on_frame(void *ctx, const sc_frame_t *f, uint32_t now)
{
    harness_t *h = ctx;
    sc_et_event_t ev;
    h->last_now = now;
    sc_et_event_type_t t = sc_et_rx_feed(&h->rx, f, now, &ev);
    assert_int_equal(t, ev.type);
    if (t == SC_ET_EV_LOCKED) {
        if (!h->nlocked)
            h->first_lock_ms = now;
        h->nlocked++;
    } else if (t == SC_ET_EV_UNLOCKED) {
        h->nunlocked++;
    } else if (t == SC_ET_EV_PROGRESS) {
        h->nprogress++;
        assert_true(ev.known <= 128);
    } else if (t == SC_ET_EV_DONE) {
        if (h->ndone < MAX_DONE) {
            h->done[h->ndone] = ev.result;
            h->done_ms[h->ndone] = now;
        }
        h->ndone++;
        if (h->reset_on_done == 1)
            sc_et_rx_reset(&h->rx);
        else if (h->reset_on_done == 2)
            assert_int_equal(sc_et_rx_resume(&h->rx), SC_OK);
    }
}

static void foreign_frame(harness_t *h, uint32_t now)
{
    sc_frame_t f;
    memset(&f, 0, sizeof f);
    uint32_t r = rnd(&h->rng);
    f.kind = SC_FRAME_80211;
    f.channel = 6;
    f.len = (uint16_t)(24 + rnd(&h->rng) % 1500u);
    unsigned k = r % 8u;
    uint8_t sta[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, (uint8_t)(r >> 8 & 7u) };
    uint8_t grp[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
    f.fc = (uint16_t)((2u << 2) | ((r >> 12 & 1u) ? 0x80u : 0u) | SC_FC_PROTECTED);
    f.seq_ctrl = (uint16_t)(rnd(&h->rng) << 4);
    if (k < 3) { /* group data from stations, uplink */
        f.fc |= SC_FC_TODS;
        memcpy(f.addr1, BSSID, 6);
        memcpy(f.addr2, sta, 6);
        memcpy(f.addr3, grp, 6);
    } else if (k < 6) { /* relays */
        f.fc |= SC_FC_FROMDS;
        memcpy(f.addr1, grp, 6);
        memcpy(f.addr2, BSSID, 6);
        memcpy(f.addr3, sta, 6);
    } else if (k < 7) { /* beacon */
        f.fc = 0x0080;
        memset(f.addr1, 0xff, 6);
        memcpy(f.addr2, BSSID, 6);
    } else { /* unicast data */
        f.fc |= SC_FC_FROMDS;
        memcpy(f.addr1, sta, 6);
        memcpy(f.addr2, BSSID, 6);
        memcpy(f.addr3, sta, 6);
    }
    on_frame(h, &f, now);
}

static void harness_init(harness_t *h, const sc_et_rx_config_t *cfg)
{
    memset(h, 0, sizeof *h);
    assert_int_equal(sc_et_rx_init(&h->rx, cfg), SC_OK);
    h->rng = 12345;
}

/* Runs the phones (their schedules) until all are done or stop_after results. */
static void harness_run(harness_t *h, phone_t *ph, int n, int stop_after)
{
    for (;;) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (phone_peek(&ph[i]) && (best < 0 || ph[i].next.at_ms < ph[best].next.at_ms))
                best = i;
        if (best < 0)
            break;
        uint32_t at = ph[best].next.at_ms;
        uint32_t now = at >= ph[best].start_ms ? at - ph[best].start_ms : 0;
        if (at >= ph[best].start_ms) {
            double fr = h->foreign;
            while (fr > 0) {
                if (fr >= 1 || chance(&h->rng, fr))
                    foreign_frame(h, now);
                fr -= 1;
            }
            if (h->spoof && h->spoof_as && chance(&h->rng, 0.01 * h->spoof)) {
                /* a whole bad-CRC triplet with the phone's MAC, in its stream */
                phone_t *sp = h->spoof_as;
                uint8_t v = (uint8_t)rnd(&h->rng), i = (uint8_t)(rnd(&h->rng) & 127u);
                uint16_t L[3];
                sc_et_datacode(v, i, L);
                L[0] ^= 0x10; /* wrong CRC nibble */
                for (int k = 0; k < 3; k++) {
                    sc_frame_t f;
                    frame_80211(&f, sp, 1, (uint16_t)(L[k] + sp->off_up), (uint16_t)rnd(&h->rng));
                    on_frame(h, &f, now);
                }
            }
        }
        phone_step(&ph[best], on_frame, h);
        if (stop_after && h->ndone >= stop_after)
            break;
    }
    sc_et_event_t ev;
    sc_et_rx_tick(&h->rx, h->last_now + 10000, &ev);
}

static void assert_creds_equal(const sc_et_creds_t *a, const sc_et_creds_t *b)
{
    assert_int_equal(a->ssid_len, b->ssid_len);
    assert_memory_equal(a->ssid, b->ssid, a->ssid_len);
    assert_int_equal(a->password_len, b->password_len);
    if (a->password_len)
        assert_memory_equal(a->password, b->password, a->password_len);
    assert_memory_equal(a->bssid, b->bssid, 6);
    assert_memory_equal(a->phone_ip, b->phone_ip, 4);
}

static harness_t H;
static phone_t P[3];

static void decode_one(phone_t *p)
{
    harness_init(&H, NULL);
    harness_run(&H, p, 1, 1);
    assert_int_equal(H.ndone, 1);
    assert_creds_equal(&H.done[0].creds, &p->creds);
    assert_int_equal(H.done[0].t, p->enc.t);
}

/* P[0] alone never yields a result */
static void decode_none(void)
{
    harness_init(&H, NULL);
    harness_run(&H, P, 1, 1);
    assert_int_equal(H.ndone, 0);
}

/* --- tests ------------------------------------------------------------------------ */

static void test_state_size(void **state)
{
    (void)state;
    assert_true(sizeof(sc_et_rx_t) <= 2048);
}

static void test_vectors_abc(void **state)
{
    (void)state;
    static const char c_ssid[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    static const char c_pwd[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    phone_init(&P[0], &c, PHONE_A, 1);
    decode_one(&P[0]);
    assert_int_equal(H.done[0].t, 29);
    assert_memory_equal(H.done[0].sender, PHONE_A, 6);
    assert_int_equal(H.done[0].channel, 6);
    creds_make(&c, "TP-LINK_2.4G", 12, "", 0);
    phone_init(&P[0], &c, PHONE_A, 2);
    decode_one(&P[0]);
    assert_int_equal(H.done[0].t, 21);
    assert_int_equal(H.done[0].creds.password_len, 0);
    creds_make(&c, c_ssid, 32, c_pwd, 64);
    phone_init(&P[0], &c, PHONE_A, 3);
    decode_one(&P[0]);
    assert_int_equal(H.done[0].t, 105);
    /* binary SSID: NUL, high-bit and 0xff octets */
    static const uint8_t bin[] = { 0x00, 0xff, 0x80, 0xc3, 0xa9, 0x00, 0x7f, 0x01 };
    static const uint8_t binpwd[] = { 0xff, 0x00, 0xfe, 0x20 };
    creds_make(&c, bin, sizeof bin, binpwd, sizeof binpwd);
    phone_init(&P[0], &c, PHONE_A, 4);
    decode_one(&P[0]);
}

static void test_overhead_matrix(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "HomeNet", 7, "secret-pass", 11);
    for (int cipher = 0; cipher < 5; cipher++)
        for (int qos = 0; qos < 2; qos++)
            for (int fcs = 0; fcs < 2; fcs++)
                for (int dir = 0; dir < 2; dir++) {
                    phone_init(&P[0], &c, PHONE_A, (uint32_t)(7 + cipher * 8 + qos * 4 + fcs * 2 + dir));
                    P[0].prot = cipher != 0;
                    P[0].up = dir == 0;
                    P[0].down = dir == 1;
                    P[0].qos_up = P[0].qos_down = qos;
                    P[0].off_up = P[0].off_down = (uint16_t)(OVH[cipher][qos] + (fcs ? 4 : 0));
                    decode_one(&P[0]);
                    assert_int_equal(H.done[0].offset, P[0].off_up);
                }
}

static void test_ethernet(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "wired", 5, "p4ssw0rd", 8);
    for (int fcs = 0; fcs < 2; fcs++) {
        phone_init(&P[0], &c, PHONE_A, 40u + (uint32_t)fcs);
        P[0].kind = SC_FRAME_ETHERNET;
        P[0].off_up = (uint16_t)(42 + 4 * fcs);
        decode_one(&P[0]);
        assert_int_equal(H.done[0].offset, 42 + 4 * fcs);
        assert_int_equal(H.done[0].bssid_from_air, 1); /* no header BSSID on a wire */
    }
    /* without the BSSID bytes an Ethernet capture can never complete */
    phone_init(&P[0], &c, PHONE_A, 44);
    P[0].kind = SC_FRAME_ETHERNET;
    P[0].off_up = 42;
    P[0].drop_index_from = P[0].enc.t;
    P[0].drop_index_to = P[0].enc.t + 5;
    decode_none();
}

static void test_length_only(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "LenOnly", 7, "abcdefgh", 8);
    phone_init(&P[0], &c, PHONE_A, 50);
    P[0].kind = SC_FRAME_LEN_ONLY;
    P[0].down = 0;
    decode_one(&P[0]);
    assert_int_equal(H.done[0].bssid_from_air, 1);
    /* both copies interleaved, different overheads, in one length-only stream */
    phone_init(&P[0], &c, PHONE_A, 51);
    P[0].kind = SC_FRAME_LEN_ONLY;
    decode_one(&P[0]);
}

static void test_loss_and_retries(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    for (uint32_t seed = 1; seed <= 8; seed++) {
        phone_init(&P[0], &c, PHONE_A, 60 + seed);
        P[0].loss = 0.30;
        P[0].retry = 0.2;
        P[0].start_ms = seed * 1700u;
        decode_one(&P[0]);
    }
    sc_et_rx_stats_t st;
    phone_init(&P[0], &c, PHONE_A, 70);
    P[0].retry = 1.0;
    decode_one(&P[0]);
    sc_et_rx_stats(&H.rx, &st);
    assert_true(st.dropped_retry > 0);
}

static void test_guideless_start(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    for (uint32_t k = 0; k < 6; k++) {
        phone_init(&P[0], &c, PHONE_A, 80 + k);
        P[0].start_ms = 2100u + k * 317u; /* inside the first data phase */
        harness_init(&H, NULL);
        harness_run(&H, P, 1, 1);
        assert_int_equal(H.ndone, 1);
        assert_creds_equal(&H.done[0].creds, &c);
        /* locked and finished before the next guide phase (at 6000 ms of the run) */
        assert_true(H.first_lock_ms < 200);
        assert_true(H.done_ms[0] + P[0].start_ms < 6000);
    }
}

static void test_two_phones(void **state)
{
    (void)state;
    sc_et_creds_t a, b;
    creds_make(&a, "TP-LINK_2.4G", 12, "password-A", 10);
    creds_make(&b, "TP-LINK_2.4G", 12, "other-pw-B!!", 12);
    for (uint32_t k = 0; k < 4; k++) {
        phone_init(&P[0], &a, PHONE_A, 90 + k);
        phone_init(&P[1], &b, PHONE_B, 190 + k);
        P[0].loss = P[1].loss = 0.1 * k;
        P[1].start_ms = 0;
        P[0].start_ms = 0;
        /* B starts 1.3 s later in its own run */
        P[1].sched.next_at = 0;
        harness_init(&H, NULL);
        H.reset_on_done = 0;
        harness_run(&H, P, 2, 1);
        assert_int_equal(H.ndone, 1);
        const sc_et_result_t *r = &H.done[0];
        if (!memcmp(r->sender, PHONE_A, 6))
            assert_creds_equal(&r->creds, &a);
        else {
            assert_memory_equal(r->sender, PHONE_B, 6);
            assert_creds_equal(&r->creds, &b);
        }
    }
    /* keep decoding after each result (resume drops only the finished phone's session):
     * both phones come out, never a mix */
    phone_init(&P[0], &a, PHONE_A, 99);
    phone_init(&P[1], &b, PHONE_B, 199);
    P[0].loss = P[1].loss = 0.15;
    harness_init(&H, NULL);
    H.reset_on_done = 2;
    harness_run(&H, P, 2, 0);
    int seen_a = 0, seen_b = 0;
    for (int i = 0; i < H.ndone && i < MAX_DONE; i++) {
        if (!memcmp(H.done[i].sender, PHONE_A, 6)) {
            assert_creds_equal(&H.done[i].creds, &a);
            seen_a = 1;
        } else {
            assert_creds_equal(&H.done[i].creds, &b);
            seen_b = 1;
        }
    }
    assert_true(seen_a && seen_b);
}

static void test_spoofed_bad_crc(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    phone_init(&P[0], &c, PHONE_A, 300);
    harness_init(&H, NULL);
    H.spoof = 20; /* % of datagrams followed by a forged triplet */
    H.spoof_as = &P[0];
    harness_run(&H, P, 1, 1);
    assert_int_equal(H.ndone, 1);
    assert_creds_equal(&H.done[0].creds, &c);
    sc_et_rx_stats_t st;
    sc_et_rx_stats(&H.rx, &st);
    assert_true(st.bad_crc > 0);
}

/* CRC-valid but wrong values for a few indices, injected less often than the truth */
static void test_conflicting_values_vote(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    phone_init(&P[0], &c, PHONE_A, 310);
    harness_init(&H, NULL);
    /* lock first with the guide */
    for (int i = 0; i < 8; i++)
        phone_step(&P[0], on_frame, &H);
    /* the attacker: wrong password bytes at indices 9..12 from the phone's MAC, once each */
    for (uint8_t idx = 9; idx < 13; idx++) {
        uint16_t L[3];
        sc_et_datacode((uint8_t)('x' + idx), idx, L);
        for (int k = 0; k < 3; k++) {
            sc_frame_t f;
            frame_80211(&f, &P[0], 1, (uint16_t)(L[k] + P[0].off_up), (uint16_t)(500 + idx * 3 + k));
            on_frame(&H, &f, 10);
        }
    }
    harness_run(&H, P, 1, 1);
    assert_int_equal(H.ndone, 1);
    assert_creds_equal(&H.done[0].creds, &c);
    sc_et_rx_stats_t st;
    sc_et_rx_stats(&H.rx, &st);
    assert_true(st.conflicts > 0);
}

/* A conflicting CRC-valid value ties a byte: the decode waits for another vote instead of
 * trusting either value or restarting. */
static void test_tie_waits(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    phone_init(&P[0], &c, PHONE_A, 320);
    P[0].down = 0; /* one copy: one vote per byte per cycle */
    harness_init(&H, NULL);
    for (int i = 0; i < 4; i++)
        phone_step(&P[0], on_frame, &H);
    assert_int_equal(H.nlocked, 1);
    uint16_t L[3];
    sc_et_datacode('#', 9, L); /* a wrong password byte with a valid CRC */
    for (int k = 0; k < 3; k++) {
        sc_frame_t f;
        frame_80211(&f, &P[0], 1, (uint16_t)(L[k] + P[0].off_up), (uint16_t)(900 + k));
        on_frame(&H, &f, 5);
    }
    /* the guide phase, then exactly one data cycle: byte 9 is a tie, nothing completes */
    uint32_t cycle_end = 0;
    while (phone_peek(&P[0])) {
        if (!P[0].next.is_guide && P[0].next.cursor == P[0].enc.cycle_len - 1) {
            phone_step(&P[0], on_frame, &H);
            cycle_end = H.last_now;
            break;
        }
        phone_step(&P[0], on_frame, &H);
    }
    assert_true(cycle_end > 0);
    assert_int_equal(H.ndone, 0);
    assert_true(H.nprogress > 0);
    /* the next sighting of byte 9 decides */
    harness_run(&H, P, 1, 1);
    assert_int_equal(H.ndone, 1);
    assert_creds_equal(&H.done[0].creds, &c);
}

/* Many random runs with everything at once: loss, retries, foreign traffic, a spoofer and a
 * second phone. Every result must be exactly one of the two phones' credentials. */
static void test_stress_no_wrong_result(void **state)
{
    (void)state;
    sc_et_creds_t a, b;
    creds_make(&a, "Cafe \xc3\xa9t\xc3\xa9", 11, "hunter2-hunter2", 15);
    creds_make(&b, "Cafe \xc3\xa9t\xc3\xa9", 11, "hunter3-hunter3", 15);
    int ok = 0;
    for (uint32_t seed = 1; seed <= 24; seed++) {
        phone_init(&P[0], &a, PHONE_A, 1000 + seed);
        phone_init(&P[1], &b, PHONE_B, 2000 + seed);
        P[0].loss = P[1].loss = 0.05 * (seed % 7);
        P[0].retry = P[1].retry = 0.1;
        P[0].start_ms = 977u * seed % 20000u;
        P[1].start_ms = 1313u * seed % 20000u;
        P[1].off_up = 62; /* open QoS uplink for phone B */
        harness_init(&H, NULL);
        H.rng = seed * 7919u;
        H.foreign = 1.5;
        H.spoof = 10;
        H.spoof_as = &P[seed & 1];
        H.reset_on_done = 1;
        harness_run(&H, P, 2, 4);
        for (int i = 0; i < H.ndone && i < MAX_DONE; i++) {
            if (!memcmp(H.done[i].sender, PHONE_A, 6))
                assert_creds_equal(&H.done[i].creds, &a);
            else
                assert_creds_equal(&H.done[i].creds, &b);
            ok++;
        }
    }
    assert_true(ok >= 24);
}

/* The search policy and the receiver together: the radio hears only the channel it is tuned
 * to; the phone is on channel 11, a second (foreign) network on channel 6. */
typedef struct {
    harness_t *h;
    sc_chansearch_t cs;
    uint8_t tuned;
    uint32_t until;
} hop_t;

static hop_t HOP;

static void on_frame_tuned(void *ctx, const sc_frame_t *f, uint32_t now)
{
    hop_t *hp = ctx;
    if ((int32_t)(now - hp->until) >= 0)
        hp->tuned = sc_chansearch_step(&hp->cs, &hp->h->rx, now, &hp->until);
    if (f->channel == hp->tuned)
        on_frame(hp->h, f, now);
}

static void test_search_and_decode(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    for (uint32_t k = 0; k < 6; k++) {
        phone_init(&P[0], &c, PHONE_A, 700 + k);
        P[0].channel = 11;
        P[0].start_ms = 1000u * k + 333u;
        P[0].loss = 0.1;
        harness_init(&H, NULL);
        memset(&HOP, 0, sizeof HOP);
        HOP.h = &H;
        assert_int_equal(sc_chansearch_init(&HOP.cs, NULL, 0, 0), SC_OK);
        HOP.tuned = sc_chansearch_step(&HOP.cs, &H.rx, 0, &HOP.until);
        while (H.ndone == 0 && phone_step(&P[0], on_frame_tuned, &HOP)) {
            /* foreign group traffic on channel 6 */
            sc_frame_t f;
            memset(&f, 0, sizeof f);
            f.kind = SC_FRAME_80211;
            f.channel = 6;
            f.fc = 0x0208 | SC_FC_PROTECTED;
            memset(f.addr1, 0xff, 6);
            memcpy(f.addr2, PHONE_B, 6);
            f.len = (uint16_t)(100 + rnd(&H.rng) % 600u);
            on_frame_tuned(&HOP, &f, H.last_now);
        }
        assert_int_equal(H.ndone, 1);
        assert_creds_equal(&H.done[0].creds, &c);
        assert_int_equal(H.done[0].channel, 11);
        /* within two send periods wherever the capture started */
        assert_true(H.done_ms[0] < 12000);
    }
}

static void test_foreign_traffic_only(void **state)
{
    (void)state;
    harness_init(&H, NULL);
    sc_frame_t f;
    uint32_t now = 0;
    for (int i = 0; i < 400000; i++) {
        if (i % 4 == 0)
            now++;
        foreign_frame(&H, now);
        /* and length-only noise */
        memset(&f, 0, sizeof f);
        f.kind = SC_FRAME_LEN_ONLY;
        f.channel = 6;
        f.len = (uint16_t)(rnd(&H.rng) % 700u);
        on_frame(&H, &f, now);
    }
    assert_int_equal(H.ndone, 0);
    sc_et_event_t ev;
    sc_et_rx_tick(&H.rx, now + 5000, &ev);
    assert_int_equal(sc_et_rx_locked_channel(&H.rx), 0);
    /* a false lock, if one happened, was dropped again */
    assert_true(H.nunlocked + (ev.type == SC_ET_EV_UNLOCKED) >= H.nlocked || H.nlocked == 0);
}

static void test_foreign_mixed(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    for (uint32_t k = 0; k < 3; k++) {
        phone_init(&P[0], &c, PHONE_A, 400 + k);
        P[0].loss = 0.1;
        P[0].start_ms = 2500u * k;
        harness_init(&H, NULL);
        H.foreign = 3.0;
        harness_run(&H, P, 1, 1);
        assert_int_equal(H.ndone, 1);
        assert_creds_equal(&H.done[0].creds, &c);
    }
}

static sc_scan_entry_t scan_entry(const sc_et_creds_t *c, const uint8_t bssid[6])
{
    sc_scan_entry_t e;
    memset(&e, 0, sizeof e);
    memcpy(e.ssid, c->ssid, c->ssid_len);
    e.ssid_len = c->ssid_len;
    memcpy(e.bssid, bssid, 6);
    e.channel = 6;
    e.rssi = -50;
    return e;
}

static void test_scan_list(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    uint8_t other[6] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60 };
    sc_scan_entry_t list[3];
    list[0] = scan_entry(&c, other);
    list[0].ssid[0] = 'X';
    list[1] = scan_entry(&c, BSSID);
    list[2] = scan_entry(&c, other);
    /* an old "not hidden" sender that never sends the SSID bytes: only the scan completes */
    phone_init(&P[0], &c, PHONE_A, 500);
    P[0].drop_index_from = 9 + 8;
    P[0].drop_index_to = 9 + 8 + 11;
    harness_init(&H, NULL);
    assert_int_equal(sc_et_rx_set_scan(&H.rx, list, 3), SC_OK);
    harness_run(&H, P, 1, 1);
    assert_int_equal(H.ndone, 1);
    assert_creds_equal(&H.done[0].creds, &c);
    assert_int_equal(H.done[0].ssid_from_scan, 1);

    /* hidden AP: an empty SSID in the scan never completes */
    phone_init(&P[0], &c, PHONE_A, 501);
    P[0].drop_index_from = 17;
    P[0].drop_index_to = 28;
    harness_init(&H, NULL);
    sc_scan_entry_t hidden = scan_entry(&c, BSSID);
    hidden.ssid_len = 0;
    sc_et_rx_set_scan(&H.rx, &hidden, 1);
    harness_run(&H, P, 1, 1);
    assert_int_equal(H.ndone, 0);

    /* ambiguous: on a wire (no header BSSID), two APs whose SSIDs and BSSIDs collide in CRC */
    sc_scan_entry_t amb[2];
    amb[0] = scan_entry(&c, BSSID);
    amb[1] = scan_entry(&c, BSSID);
    uint8_t want = sc_crc8(c.ssid, 12);
    int found = 0;
    for (unsigned x = 0; x < 65536 && !found; x++) {
        amb[1].ssid[10] = (uint8_t)x;
        amb[1].ssid[11] = (uint8_t)(x >> 8);
        found = sc_crc8(amb[1].ssid, 12) == want && memcmp(amb[1].ssid, c.ssid, 12) != 0;
    }
    assert_true(found);
    amb[1].bssid[5] ^= 0x01;
    uint8_t bwant = sc_crc8(BSSID, 6);
    for (unsigned x = 0; x < 256 && sc_crc8(amb[1].bssid, 6) != bwant; x++)
        amb[1].bssid[4] = (uint8_t)x;
    assert_int_equal(sc_crc8(amb[1].bssid, 6), bwant);
    phone_init(&P[0], &c, PHONE_A, 502);
    P[0].kind = SC_FRAME_ETHERNET;
    P[0].off_up = 42;
    P[0].drop_index_from = 17;
    P[0].drop_index_to = 28;
    harness_init(&H, NULL);
    sc_et_rx_set_scan(&H.rx, amb, 2);
    harness_run(&H, P, 1, 1);
    assert_int_equal(H.ndone, 0);
    /* the same with only one of them: completes from the scan by BSSID-CRC */
    phone_init(&P[0], &c, PHONE_A, 503);
    P[0].kind = SC_FRAME_ETHERNET;
    P[0].off_up = 42;
    P[0].drop_index_from = 17;
    P[0].drop_index_to = 28;
    harness_init(&H, NULL);
    sc_et_rx_set_scan(&H.rx, amb, 1);
    harness_run(&H, P, 1, 1);
    assert_int_equal(H.ndone, 1);
    assert_creds_equal(&H.done[0].creds, &c);
    assert_int_equal(H.done[0].ssid_from_scan, 1);
}

static void test_scan_is_faster(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    /* from the start of a run the SSID bytes are the last ones sent
     * (docs/protocol/esptouch-v1.md#transmission-order) */
    phone_init(&P[0], &c, PHONE_A, 510);
    decode_one(&P[0]);
    uint32_t plain = H.done_ms[0];
    phone_init(&P[0], &c, PHONE_A, 510);
    harness_init(&H, NULL);
    sc_scan_entry_t e = scan_entry(&c, BSSID);
    sc_et_rx_set_scan(&H.rx, &e, 1);
    harness_run(&H, P, 1, 1);
    assert_int_equal(H.ndone, 1);
    assert_creds_equal(&H.done[0].creds, &c);
    assert_true(H.done_ms[0] < plain);
}

static void test_header_bssid_mismatch(void **state)
{
    (void)state;
    {
        /* BSSID bytes never seen: the 802.11 header's BSSID completes the datum */
        sc_et_creds_t c;
        creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
        phone_init(&P[0], &c, PHONE_A, 519);
        P[0].drop_index_from = P[0].enc.t;
        P[0].drop_index_to = P[0].enc.t + 5;
        decode_one(&P[0]);
        assert_int_equal(H.done[0].bssid_from_air, 0);
    }
    /* the phone claims another BSSID than the AP it talks through: the header BSSID fails the
     * BSSID-CRC and the decode waits for the BSSID bytes, which then win */
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    c.bssid[0] = 0x66;
    phone_init(&P[0], &c, PHONE_A, 520);
    memcpy(P[0].bssid, BSSID, 6);
    decode_one(&P[0]);
    assert_int_equal(H.done[0].bssid_from_air, 1);
    /* ... and without them: never */
    phone_init(&P[0], &c, PHONE_A, 521);
    memcpy(P[0].bssid, BSSID, 6);
    P[0].drop_index_from = P[0].enc.t;
    P[0].drop_index_to = P[0].enc.t + 5;
    decode_none();
}

static void test_filters(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    phone_init(&P[0], &c, PHONE_A, 530);
    harness_init(&H, NULL);
    sc_frame_t g[4];
    for (int i = 0; i < 4; i++)
        frame_80211(&g[i], &P[0], 1, (uint16_t)(515 - i + P[0].off_up), (uint16_t)(i + 1));
    /* each variant of a perfect guide must be ignored */
    static const uint16_t bad_fc_bits[] = { SC_FC_MOREFRAG, SC_FC_ORDER };
    for (unsigned v = 0; v < 6; v++) {
        sc_et_rx_reset(&H.rx);
        for (int i = 0; i < 4; i++) {
            sc_frame_t f = g[i];
            if (v < 2)
                f.fc |= bad_fc_bits[v];
            else if (v == 2)
                f.fc |= SC_FC_TODS | SC_FC_FROMDS; /* WDS */
            else if (v == 3)
                f.addr3[0] = 0x02;  /* unicast destination */
            else if (v == 4)
                f.fc = (uint16_t)((f.fc & ~0x000cu) | (0u << 2)); /* management */
            else
                f.seq_ctrl |= 1; /* fragment number */
            sc_et_event_t ev;
            assert_int_equal(sc_et_rx_feed(&H.rx, &f, 1, &ev), SC_ET_EV_NONE);
        }
        assert_int_equal(sc_et_rx_locked_channel(&H.rx), 0);
    }
    sc_et_rx_stats_t st;
    sc_et_rx_stats(&H.rx, &st);
    assert_true(st.dropped_nondata >= 24);
    /* the plain guide locks */
    sc_et_event_t ev;
    for (int i = 0; i < 3; i++)
        sc_et_rx_feed(&H.rx, &g[i], 1, &ev);
    assert_int_equal(sc_et_rx_feed(&H.rx, &g[3], 1, &ev), SC_ET_EV_LOCKED);
    assert_int_equal(ev.offset, P[0].off_up);
    assert_int_equal(ev.channel, 6);
    assert_memory_equal(ev.sender, PHONE_A, 6);
    assert_memory_equal(ev.bssid, BSSID, 6);
    assert_int_equal(sc_et_rx_locked_channel(&H.rx), 6);
    /* an A-MSDU (QoS bit 7) is no filtered frame: a stream of its own, keyed apart from the
     * plain frames (it locks again although the plain guide's stream is locked) */
    {
        sc_et_event_t ea;
        sc_et_event_type_t last = SC_ET_EV_NONE;
        for (int i = 0; i < 4; i++) {
            sc_frame_t f = g[i];
            f.qos_ctrl |= 0x80;
            last = sc_et_rx_feed(&H.rx, &f, 1, &ea);
        }
        assert_int_equal(last, SC_ET_EV_LOCKED);
        assert_memory_equal(ea.sender, PHONE_A, 6);
    }
    /* idle: unlock after 2.5 s */
    assert_int_equal(sc_et_rx_tick(&H.rx, 2000, &ev), SC_ET_EV_NONE);
    assert_int_equal(sc_et_rx_tick(&H.rx, 2600, &ev), SC_ET_EV_UNLOCKED);
    assert_int_equal(sc_et_rx_locked_channel(&H.rx), 0);
    /* offset range is configurable: 80 is outside 0..40 */
    sc_et_rx_config_t cfg = { 0, 40, 1000 };
    assert_int_equal(sc_et_rx_init(&H.rx, &cfg), SC_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(sc_et_rx_feed(&H.rx, &g[i], 1, &ev), SC_ET_EV_NONE);
    sc_et_rx_config_t badcfg = { 100, 50, 1000 };
    assert_int_equal(sc_et_rx_init(&H.rx, &badcfg), SC_ERR_RANGE);
}

static void test_bad_input(void **state)
{
    (void)state;
    sc_et_event_t ev;
    sc_et_rx_stats_t st;
    static sc_et_rx_t rx;
    memset(&rx, 0xa5, sizeof rx); /* never initialised */
    assert_int_equal(sc_et_rx_feed(&rx, NULL, 0, &ev), SC_ET_EV_NONE);
    assert_int_equal(sc_et_rx_feed(NULL, NULL, 0, NULL), SC_ET_EV_NONE);
    assert_int_equal(sc_et_rx_init(NULL, NULL), SC_ERR_INVAL);
    assert_int_equal(sc_et_rx_set_scan(NULL, NULL, 0), SC_ERR_INVAL);
    assert_int_equal(sc_et_rx_locked_channel(NULL), 0);
    sc_et_rx_stats(NULL, &st);
    assert_int_equal(st.frames, 0);
    assert_int_equal(sc_et_rx_init(&rx, NULL), SC_OK);
    assert_int_equal(sc_et_rx_set_scan(&rx, NULL, 1), SC_ERR_INVAL);
    assert_int_equal(sc_et_rx_resume(&rx), SC_ERR_STATE);
    assert_int_equal(sc_et_rx_resume(NULL), SC_ERR_INVAL);
    sc_frame_t f;
    memset(&f, 0, sizeof f);
    for (unsigned i = 0; i < 70000; i++) {
        f.kind = (uint8_t)(i % 5u);
        f.len = (uint16_t)(i * 7919u);
        f.fc = (uint16_t)(i * 31u);
        f.addr1[0] = (uint8_t)i;
        sc_et_rx_feed(&rx, &f, i, NULL);
    }
    sc_et_rx_reset(&rx);
    assert_int_equal(sc_et_rx_locked_channel(&rx), 0);
}

/* The state is opaque: the list length and the dwell show in the hops (without a receiver,
 * every step at the end of a dwell hops). Returns the channels of one sweep, -1 when a dwell
 * is not dwell_ms. */
static int hops_per_sweep(sc_chansearch_t *cs, uint32_t dwell_ms)
{
    uint32_t now = 1000, until = 0;
    uint8_t first = sc_chansearch_step(cs, NULL, now, &until);
    for (int n = 1; n <= SC_CHANSEARCH_MAX_CHANNELS + 1; n++) {
        if (until != now + dwell_ms)
            return -1;
        now = until;
        if (sc_chansearch_step(cs, NULL, now, &until) == first)
            return n;
    }
    return -1;
}

static void test_chansearch(void **state)
{
    (void)state;
    sc_chansearch_t cs;
    uint32_t until;
    static const uint8_t list[] = { 1, 6, 11 };
    assert_int_equal(sc_chansearch_init(&cs, list, 3, 100), SC_OK);
    assert_int_equal(sc_chansearch_init(&cs, list, 0, 100), SC_ERR_RANGE);
    assert_int_equal(sc_chansearch_init(&cs, NULL, 0, 0), SC_OK);
    assert_int_equal(hops_per_sweep(&cs, SC_CHANSEARCH_DWELL_MS), 13);
    assert_int_equal(sc_chansearch_init(&cs, list, 3, 100), SC_OK);
    static sc_et_rx_t rx;
    sc_et_rx_init(&rx, NULL);
    /* with a receiver to ask, a silent channel gets only a glance (half the dwell) */
    assert_int_equal(sc_chansearch_step(&cs, &rx, 0, &until), 1);
    assert_int_equal(until, 50);
    assert_int_equal(sc_chansearch_step(&cs, &rx, 25, &until), 1);
    assert_int_equal(sc_chansearch_step(&cs, &rx, 50, &until), 6);
    assert_int_equal(until, 100);
    assert_int_equal(sc_chansearch_step(&cs, &rx, 100, &until), 11);
    /* after the first sweep every visit is a dwell */
    assert_int_equal(sc_chansearch_step(&cs, &rx, 300, &until), 1);
    assert_int_equal(until, 400);
    /* lock on channel 6 (a guide): stay there */
    sc_et_creds_t c;
    creds_make(&c, "x", 1, "", 0);
    phone_init(&P[0], &c, PHONE_A, 600);
    sc_frame_t f;
    sc_et_event_t ev;
    for (int i = 0; i < 4; i++) {
        frame_80211(&f, &P[0], 1, (uint16_t)(515 - i + P[0].off_up), (uint16_t)(i + 1));
        sc_et_rx_feed(&rx, &f, 350, &ev);
    }
    assert_int_equal(ev.type, SC_ET_EV_LOCKED);
    for (uint32_t t = 400; t < 2500; t += 100)
        assert_int_equal(sc_chansearch_step(&cs, &rx, t, &until), 6);
    /* after the unlock the search goes on with the next channel */
    assert_int_equal(sc_et_rx_tick(&rx, 3000, &ev), SC_ET_EV_UNLOCKED);
    assert_int_equal(sc_chansearch_step(&cs, &rx, 3000, &until), 11);
    /* activity (guide-less evidence) on a channel keeps the search there a few dwells */
    phone_init(&P[0], &c, PHONE_A, 601);
    P[0].start_ms = 2100;
    P[0].channel = 1;
    sc_et_rx_init(&rx, NULL);
    assert_int_equal(sc_chansearch_step(&cs, &rx, 3100, &until), 1);
    harness_init(&H, NULL);
    (void)H;
    int extended = 0;
    uint32_t t0 = 3100;
    /* feed two triplets through the receiver in this (short) window */
    int fed = 0;
    while (fed < 8 && phone_peek(&P[0])) {
        sc_et_dgram_t d = P[0].next;
        P[0].has_next = 0;
        if (d.at_ms < P[0].start_ms || d.is_guide)
            continue;
        frame_80211(&f, &P[0], 1, (uint16_t)(d.len + P[0].off_up), (uint16_t)(100 + fed));
        sc_et_rx_feed(&rx, &f, t0 + 10 + (uint32_t)fed, &ev);
        fed++;
    }
    extended = sc_chansearch_step(&cs, &rx, 3200, &until) == 1;
    assert_true(extended);
}

/* With relays held for a DTIM beacon, a channel's visits step across the burst's phase by the
 * sweep's length modulo the beacon interval (102.4 ms). 13 dwells of 24 ms make 312 ms, 4.8 ms
 * past three intervals: the sweep's last visit is stretched until 22 ms past them (17 ms more),
 * so the visits step 22 ms a sweep. A sweep of 3 dwells (72 ms) is left alone, and so is a
 * search without a receiver to ask. */
static void test_chansearch_sweep_pad(void **state)
{
    (void)state;
    static sc_et_rx_t rx;
    sc_et_rx_init(&rx, NULL);
    sc_chansearch_t cs;
    uint32_t now = 0, until = 0;
    assert_int_equal(sc_chansearch_init(&cs, NULL, 0, 0), SC_OK);
    /* the first sweep glances at the silent channels, the second dwells */
    uint8_t ch = sc_chansearch_step(&cs, &rx, now, &until);
    for (int i = 0; i < 13 + 12; i++) {
        assert_int_equal(until - now, i < 13 ? SC_CHANSEARCH_DWELL_MS / 2 : SC_CHANSEARCH_DWELL_MS);
        now = until;
        ch = sc_chansearch_step(&cs, &rx, now, &until);
    }
    uint32_t sweep_at = 13u * (SC_CHANSEARCH_DWELL_MS / 2);
    assert_int_equal(ch, 13);
    assert_int_equal(now, sweep_at + 12u * SC_CHANSEARCH_DWELL_MS);
    /* the last visit: its dwell, then 17 ms more on the same channel */
    assert_int_equal(until - now, SC_CHANSEARCH_DWELL_MS);
    now = until;
    assert_int_equal(sc_chansearch_step(&cs, &rx, now, &until), 13);
    assert_int_equal(now - sweep_at, 312);
    assert_int_equal(until - now, 17);
    now = until;
    assert_int_equal(sc_chansearch_step(&cs, &rx, now, &until), 1);
    assert_int_equal(now - sweep_at, 329); /* 3 x 102.4 + 22 (+ 0.2) */
    assert_int_equal(until - now, SC_CHANSEARCH_DWELL_MS);
    /* the next sweep is stretched the same way: channel 1 comes back 329 ms later */
    sweep_at = now;
    for (int i = 0; i < 13; i++) {
        now = until;
        ch = sc_chansearch_step(&cs, &rx, now, &until);
    }
    assert_int_equal(ch, 13);
    now = until;
    assert_int_equal(sc_chansearch_step(&cs, &rx, now, &until), 1);
    assert_int_equal(now - sweep_at, 329);

    /* 1, 6, 11: 72 ms a sweep, far from a whole interval: every visit a dwell */
    static const uint8_t list[] = { 1, 6, 11 };
    assert_int_equal(sc_chansearch_init(&cs, list, 3, 0), SC_OK);
    now = 0;
    (void)sc_chansearch_step(&cs, &rx, now, &until);
    for (int i = 0; i < 3 + 9; i++) {
        assert_int_equal(until - now, i < 3 ? SC_CHANSEARCH_DWELL_MS / 2 : SC_CHANSEARCH_DWELL_MS);
        now = until;
        assert_int_equal(sc_chansearch_step(&cs, &rx, now, &until), list[(i + 1) % 3]);
    }
    /* without a receiver the dwell stays fixed (13 dwells of 24 ms, no stretch) */
    assert_int_equal(sc_chansearch_init(&cs, NULL, 0, 0), SC_OK);
    now = 0;
    (void)sc_chansearch_step(&cs, NULL, now, &until);
    for (int i = 0; i < 3 * 13; i++) {
        assert_int_equal(until - now, SC_CHANSEARCH_DWELL_MS);
        now = until;
        assert_int_equal(sc_chansearch_step(&cs, NULL, now, &until), (i + 1) % 13 + 1);
    }
}

/* --- the hard tail: recovery paths ------------------------------------------------- */

static void drop_frame(phone_t *p, uint8_t idx, uint8_t pos)
{
    assert_true(p->ndrop < 16);
    p->drop_idx[p->ndrop] = idx;
    p->drop_pos[p->ndrop] = pos;
    p->ndrop++;
}

/* every frame of byte idx's triplet, every round */
static void drop_byte(phone_t *p, uint8_t idx)
{
    for (uint8_t pos = 0; pos < 3; pos++)
        drop_frame(p, idx, pos);
}

static const char PW64[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* The index frames of four password bytes never reach the air, in either copy or any round:
 * only the stream clock (the time since the last index frame) can tell whose nibble frames
 * these are. Decoded in the first data phase. */
static void test_clock_places_lone_frames(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    for (uint32_t k = 0; k < 3; k++) {
        phone_init(&P[0], &c, PHONE_A, 1100 + k);
        for (uint8_t i = 9; i < 13; i++)
            drop_frame(&P[0], i, 1);
        P[0].start_ms = 500u * k;
        decode_one(&P[0]);
        assert_true(H.done_ms[0] + P[0].start_ms < 6000);
    }
    /* a length-only stream has no clock: the same air never completes there */
    phone_init(&P[0], &c, PHONE_A, 1110);
    P[0].kind = SC_FRAME_LEN_ONLY;
    P[0].down = 0;
    for (uint8_t i = 9; i < 13; i++)
        drop_frame(&P[0], i, 1);
    decode_none();
}

/* Bytes of which only one half ever arrives: the other nibble comes from the triplet's CRC
 * nibble and the datum's XOR (byte 4), searched and taken only when one combination fits. */
static void test_fill_from_halves(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    phone_init(&P[0], &c, PHONE_A, 1120);
    drop_frame(&P[0], 10, 2); /* password byte '2': its low nibble never arrives */
    drop_frame(&P[0], 14, 0); /* password byte '6': its high nibble never arrives */
    drop_frame(&P[0], 22, 2); /* SSID byte 'N' */
    decode_one(&P[0]);
    assert_true(H.done_ms[0] < 6000);
    /* one password byte with no frame at all: the XOR alone would give it, unchecked, so it
     * is never taken and nothing completes */
    phone_init(&P[0], &c, PHONE_A, 1121);
    drop_byte(&P[0], 11);
    decode_none();
    /* ... while a missing SSID byte is checked by the SSID CRC and is taken */
    phone_init(&P[0], &c, PHONE_A, 1122);
    drop_byte(&P[0], 20);
    decode_one(&P[0]);
}

/* T (byte 0) never on the air: the order of index frames gives it (4 then T, T + m then
 * 5 + 3m, the wrap after the last code). p (byte 1) never on the air: the XOR gives it and the
 * SSID CRC checks it, because p moves the SSID's bounds. Both at once too. */
static void test_head_bytes_recovered(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, "12345678", 8);
    static const uint8_t drops[3][2] = { { 1, 0 }, { 0, 1 }, { 1, 1 } }; /* (byte 0, byte 1) */
    for (unsigned k = 0; k < 3; k++) {
        phone_init(&P[0], &c, PHONE_A, 1130 + k);
        for (uint8_t b = 0; b < 2; b++)
            if (drops[k][b])
                drop_byte(&P[0], b);
        decode_one(&P[0]);
        assert_true(H.done_ms[0] < 6000);
    }
    /* a 64-byte password (T = 85, all six BSSID bytes interleaved) without byte 0 */
    creds_make(&c, "TP-LINK_2.4G", 12, PW64, 64);
    phone_init(&P[0], &c, PHONE_A, 1135);
    drop_byte(&P[0], 0);
    decode_one(&P[0]);
}

/* A capture that begins mid-cycle meets the long password's bytes before T: the order there
 * (23, 24, ... T - 1) does not depend on T, so lone nibble frames are placed anyway. Here the
 * index frames of four of them are lost in the first round and the bytes never come again. */
static void test_lone_frames_before_t(void **state)
{
    (void)state;
    sc_et_creds_t c;
    creds_make(&c, "TP-LINK_2.4G", 12, PW64, 64);
    phone_init(&P[0], &c, PHONE_A, 1140);
    /* start in the first data phase at order position 35 (index 30): T (position 0) comes
     * only after the cycle wraps, about 1.3 s later */
    P[0].start_ms = 2000u + 35u * 3u * 8u;
    for (uint8_t i = 40; i < 44; i++)
        drop_frame(&P[0], i, 1);
    P[0].drop_until = P[0].start_ms + 1000u;
    harness_init(&H, NULL);
    /* after the first round the four bytes are gone entirely */
    while (phone_peek(&P[0]) && H.ndone == 0) {
        if (P[0].next.at_ms >= P[0].drop_until && P[0].ndrop == 4) {
            P[0].ndrop = 0;
            P[0].drop_until = 0;
            for (uint8_t i = 40; i < 44; i++)
                drop_byte(&P[0], i);
        }
        phone_step(&P[0], on_frame, &H);
    }
    assert_int_equal(H.ndone, 1);
    assert_creds_equal(&H.done[0].creds, &c);
}

/* Forged single frames with the phone's MAC at random times (each one lands in its stream's
 * clock like a real frame), two phones with different passwords, loss, retries and foreign
 * traffic: every result is exactly one phone's credentials. */
/* Forged lone nibble-sized frames with a phone's MAC beside two real phones. `order` picks which
 * of the spoof's three random draws comes first: gcc and clang once evaluated the draws of one
 * call in different orders, and clang's order (1) found a false result on main — two password
 * bytes wrong by the same amount, passing the XOR — built from halves that only the stream
 * clock had placed (docs/receiver.md §3). Both orders must give only right results. */
static void run_lone_spoofs(int order)
{
    sc_et_creds_t a, b;
    creds_make(&a, "TP-LINK_2.4G", 12, PW64, 64);
    creds_make(&b, "TP-LINK_2.4G", 12, "other-pw-B!!", 12);
    int ok = 0;
    for (uint32_t seed = 1; seed <= 24; seed++) {
        phone_init(&P[0], &a, PHONE_A, 1200 + seed);
        phone_init(&P[1], &b, PHONE_B, 1300 + seed);
        P[0].loss = P[1].loss = 0.1 + 0.02 * (seed % 5);
        P[0].retry = P[1].retry = 0.1;
        P[0].start_ms = 1931u * seed % 20000u;
        P[1].start_ms = 1409u * seed % 20000u;
        harness_init(&H, NULL);
        H.rng = seed * 104729u;
        H.foreign = 1.0;
        H.reset_on_done = 2;
        uint32_t spoofs = 0;
        for (;;) {
            int best = -1;
            for (int i = 0; i < 2; i++)
                if (phone_peek(&P[i]) && (best < 0 || P[i].next.at_ms < P[best].next.at_ms))
                    best = i;
            if (best < 0 || H.ndone >= 4)
                break;
            uint32_t at = P[best].next.at_ms;
            if (at >= P[best].start_ms && chance(&H.rng, 0.3)) {
                /* a lone nibble-sized frame from the phone's MAC, off the sender's slots */
                phone_t *sp = &P[rnd(&H.rng) & 1u];
                sc_frame_t f;
                uint16_t seq = 0, len = 0;
                uint32_t dir = 0;
                /* one draw per statement, in the order the case asks for */
                if (order == 0) {
                    seq = (uint16_t)rnd(&H.rng);
                    len = (uint16_t)(40u + rnd(&H.rng) % 256u + sp->off_up);
                    dir = rnd(&H.rng) & 1u;
                } else {
                    dir = rnd(&H.rng) & 1u;
                    len = (uint16_t)(40u + rnd(&H.rng) % 256u + sp->off_up);
                    seq = (uint16_t)rnd(&H.rng);
                }
                frame_80211(&f, sp, dir, len, seq);
                on_frame(&H, &f, at - P[best].start_ms + 1u + rnd(&H.rng) % 6u);
                spoofs++;
            }
            phone_step(&P[best], on_frame, &H);
        }
        assert_true(spoofs > 100);
        for (int i = 0; i < H.ndone && i < MAX_DONE; i++) {
            if (!memcmp(H.done[i].sender, PHONE_A, 6))
                assert_creds_equal(&H.done[i].creds, &a);
            else
                assert_creds_equal(&H.done[i].creds, &b);
            ok++;
        }
    }
    assert_true(ok >= 24);
}

static void test_no_false_result_lone_spoofs(void **state)
{
    (void)state;
    run_lone_spoofs(0);
}

static void test_no_false_result_lone_spoofs_order2(void **state)
{
    (void)state;
    run_lone_spoofs(1);
}

/* A frame whose length no search test can use (outside 40 + offset_min .. 518 + offset_max)
 * opens no stream: a burst of new group-addressed senders of such lengths (more senders than
 * stream slots) between a phone's guide frames does not evict the phone's searching stream, and
 * the quartet still locks. One sender of an ESP-TOUCH length still opens a stream (the heard
 * test sees it). */
static void test_foreign_lengths_open_no_stream(void **state)
{
    (void)state;
    static sc_et_rx_t rx;
    sc_et_event_t ev;
    assert_int_equal(sc_et_rx_init(&rx, NULL), SC_OK);
    sc_et_creds_t c;
    creds_make(&c, "x", 1, "", 0);
    phone_init(&P[0], &c, PHONE_A, 1401);
    sc_frame_t f;
    uint32_t t = 100;
    for (int i = 0; i < 3; i++) {
        frame_80211(&f, &P[0], 1, (uint16_t)(515 - i + P[0].off_up), (uint16_t)(i + 1));
        assert_int_equal(sc_et_rx_feed(&rx, &f, t++, &ev), SC_ET_EV_NONE);
    }
    for (int k = 0; k < 24; k++) {
        memset(&f, 0, sizeof f);
        f.kind = SC_FRAME_80211;
        f.channel = P[0].channel;
        f.fc = 0x0208 | SC_FC_PROTECTED;
        memset(f.addr1, 0xff, 6);
        memcpy(f.addr2, BSSID, 6);
        f.addr3[0] = 0x02;
        f.addr3[5] = (uint8_t)k;
        f.len = (uint16_t)(k & 1 ? 700 + 20 * k : 30); /* above 518 + 160, below 40 */
        assert_int_equal(sc_et_rx_feed(&rx, &f, t++, &ev), SC_ET_EV_NONE);
    }
    assert_false(sc_et_rx_heard(&rx, P[0].channel, t, 5));
    frame_80211(&f, &P[0], 1, (uint16_t)(512 + P[0].off_up), 4);
    assert_int_equal(sc_et_rx_feed(&rx, &f, t++, &ev), SC_ET_EV_LOCKED);
    assert_int_equal(ev.offset, P[0].off_up);
    /* a frame of an ESP-TOUCH length opens a stream as before */
    assert_int_equal(sc_et_rx_init(&rx, NULL), SC_OK);
    f.addr2[5] ^= 1;
    f.len = 300;
    sc_et_rx_feed(&rx, &f, t, &ev);
    assert_true(sc_et_rx_heard(&rx, P[0].channel, t, 5));
}

/* The search returns fast after a false lock: a lock that no guide frame or valid triplet
 * supports stops pinning the radio once other traffic on its channel shows the channel is
 * alive. Channel lists take 5 GHz numbers and ranges. */
static void test_chansearch_false_lock_and_lists(void **state)
{
    (void)state;
    static sc_et_rx_t rx;
    sc_chansearch_t cs;
    uint32_t until;
    sc_et_event_t ev;
    assert_int_equal(sc_et_rx_init(&rx, NULL), SC_OK);
    static const uint8_t list[] = { 1, 6, 11 };
    assert_int_equal(sc_chansearch_init(&cs, list, 3, 100), SC_OK);
    assert_int_equal(sc_chansearch_step(&cs, &rx, 0, &until), 1);
    assert_int_equal(sc_chansearch_step(&cs, &rx, 100, &until), 6);
    /* random traffic that happens to look like a guide quartet on channel 6 */
    sc_et_creds_t c;
    creds_make(&c, "x", 1, "", 0);
    phone_init(&P[0], &c, PHONE_A, 1400);
    sc_frame_t f;
    for (int i = 0; i < 4; i++) {
        frame_80211(&f, &P[0], 1, (uint16_t)(515 - i + P[0].off_up), (uint16_t)(i + 1));
        sc_et_rx_feed(&rx, &f, 150, &ev);
    }
    assert_int_equal(ev.type, SC_ET_EV_LOCKED);
    assert_int_equal(sc_chansearch_step(&cs, &rx, 150, &until), 6);
    /* nothing supports it, other stations keep talking */
    uint32_t t = 150, left = 0;
    while (t < 2000 && !left) {
        t += 20;
        memset(&f, 0, sizeof f);
        f.kind = SC_FRAME_80211;
        f.channel = 6;
        f.fc = 0x0208 | SC_FC_PROTECTED;
        memset(f.addr1, 0xff, 6);
        memcpy(f.addr2, BSSID, 6);
        f.addr3[5] = (uint8_t)(t / 20u);
        f.len = (uint16_t)(900 + t % 300u);
        sc_et_rx_feed(&rx, &f, t, &ev);
        if ((int32_t)(t - until) >= 0)
            left = sc_chansearch_step(&cs, &rx, t, &until) != 6;
    }
    assert_true(left);
    assert_true(t < 150 + 400 + 2 * 100 + 40);
    /* lists */
    uint8_t out[SC_CHANSEARCH_MAX_CHANNELS];
    assert_int_equal(sc_chansearch_parse("1-13", out, sizeof out), 13);
    assert_int_equal(out[12], 13);
    size_t n = sc_chansearch_parse("1-11,36-165", out, sizeof out);
    assert_int_equal(n, 11 + 8 + 12 + 5);
    assert_int_equal(out[11], 36);
    assert_int_equal(out[18], 64);
    assert_int_equal(out[19], 100);
    assert_int_equal(out[n - 1], 165);
    assert_int_equal(sc_chansearch_parse("6,149,177", out, sizeof out), 3);
    assert_int_equal(sc_chansearch_parse("1,x", out, sizeof out), 0);
    assert_int_equal(sc_chansearch_parse("0", out, sizeof out), 0);
    assert_int_equal(sc_chansearch_parse("15", out, sizeof out), 0);
    assert_int_equal(sc_chansearch_parse("13-1", out, sizeof out), 0);
    assert_int_equal(sc_chansearch_parse("1-13", out, 12), 0);
    assert_int_equal(sc_chansearch_parse("", out, sizeof out), 0);
    assert_int_equal(sc_chansearch_parse("1,,6", out, sizeof out), 0);
    assert_int_equal(sc_chansearch_init(&cs, out, sc_chansearch_parse("1-11,36-165", out, sizeof out), 0), SC_OK);
    assert_int_equal(hops_per_sweep(&cs, SC_CHANSEARCH_DWELL_MS), 36);
    static const uint8_t bad[] = { 6, 200 };
    assert_int_equal(sc_chansearch_init(&cs, bad, 2, 0), SC_ERR_INVAL);
    /* only channel numbers APs use: 32..177 held many that are none (33, 99, 68..96, 150) */
    static const unsigned none[] = { 0, 15, 31, 32, 33, 35, 37, 63, 68, 80, 96, 99, 101, 145, 148, 150, 165 + 2, 178, 181 };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        char one[8];
        snprintf(one, sizeof one, "%u", none[i]);
        assert_false(sc_chansearch_channel_valid(none[i]));
        assert_int_equal(sc_chansearch_parse(one, out, sizeof out), 0);
        uint8_t b[] = { 1, (uint8_t)none[i] };
        assert_int_equal(sc_chansearch_init(&cs, b, 2, 0), SC_ERR_INVAL);
    }
    unsigned valid = 0;
    for (unsigned ch = 0; ch < 256; ch++)
        valid += sc_chansearch_channel_valid(ch);
    assert_int_equal(valid, 14 + 8 + 12 + 8);   /* 1..14; 36..64; 100..144; 149..177 */
    assert_int_equal(sc_chansearch_parse("1-14,36-177", out, sizeof out), 14 + 8 + 12 + 8);
    assert_int_equal(sc_chansearch_parse("36-99", out, sizeof out), 0);   /* a range's ends too */
    assert_int_equal(sc_chansearch_parse("32-64", out, sizeof out), 0);
    assert_int_equal(sc_chansearch_parse("60-100", out, sizeof out), 3);   /* 60, 64, 100 */
}

/* A glance, then a dwell only where a frame of an ESP-TOUCH length was heard, and one longer
 * look at candidate traffic; look-alike traffic that never locks lets the search go on. */
static void test_chansearch_glance_and_look(void **state)
{
    (void)state;
    static sc_et_rx_t rx;
    sc_chansearch_t cs;
    uint32_t until;
    sc_et_event_t ev;
    sc_frame_t f;
    const uint32_t D = SC_CHANSEARCH_DWELL_MS, G = SC_CHANSEARCH_DWELL_MS / 2u;
    assert_int_equal(sc_et_rx_init(&rx, NULL), SC_OK);
    static const uint8_t list[] = { 1, 6, 11 };
    assert_int_equal(sc_chansearch_init(&cs, list, 3, 0), SC_OK);
    sc_et_creds_t c;
    creds_make(&c, "x", 1, "", 0);
    phone_init(&P[0], &c, PHONE_A, 1500);
    /* channel 1: only a frame far longer than any ESP-TOUCH datagram */
    assert_int_equal(sc_chansearch_step(&cs, &rx, 0, &until), 1);
    assert_int_equal(until, G);
    P[0].channel = 1;
    frame_80211(&f, &P[0], 0, 1400, 1);
    sc_et_rx_feed(&rx, &f, 3, &ev);
    assert_false(sc_et_rx_heard(&rx, 1, G, G));
    assert_int_equal(sc_chansearch_step(&cs, &rx, G, &until), 6);
    assert_int_equal(until, 2 * G);
    /* channel 6: one data-sized frame is worth waiting for its transmitter's next datagram
     * (8 ms and 2 ms of jitter after it), not the rest of the dwell (until 2026-12-05) */
    P[0].channel = 6;
    frame_80211(&f, &P[0], 1, (uint16_t)(100 + P[0].off_up), 2);
    sc_et_rx_feed(&rx, &f, G + 4, &ev);
    assert_true(sc_et_rx_heard(&rx, 6, 2 * G, G));
    assert_false(sc_et_rx_heard(&rx, 11, 2 * G, G));
    assert_int_equal(sc_chansearch_step(&cs, &rx, 2 * G, &until), 6);
    assert_int_equal(until, G + 4 + 10);
    assert_int_equal(sc_chansearch_step(&cs, &rx, G + 4 + 10, &until), 11);
    /* channel 11: two group frames of one transmitter 8 ms apart (a candidate): one look */
    uint32_t t0 = G + 4 + 10;
    P[0].channel = 11;
    frame_80211(&f, &P[0], 1, (uint16_t)(200 + P[0].off_up), 3);
    sc_et_rx_feed(&rx, &f, t0 + 1, &ev);
    frame_80211(&f, &P[0], 1, (uint16_t)(200 + P[0].off_up), 4);
    sc_et_rx_feed(&rx, &f, t0 + 9, &ev);
    assert_int_equal(sc_chansearch_step(&cs, &rx, t0 + G, &until), 11);
    assert_int_equal(until, t0 + G + SC_CHANSEARCH_LOOK_MS);
    uint32_t arrived = until;
    const uint8_t ch = 1;
    assert_int_equal(sc_chansearch_step(&cs, &rx, arrived, &until), ch);
    /* look-alike traffic that keeps coming (one length, so never a triplet or a guide) holds
     * the radio for the look, not for ever */
    uint32_t t = arrived, left = 0;
    P[0].channel = ch;
    for (uint16_t k = 0; t < arrived + 2000 && !left; k++) {
        t += 8;
        frame_80211(&f, &P[0], 1, (uint16_t)(200 + P[0].off_up), (uint16_t)(10 + k));
        sc_et_rx_feed(&rx, &f, t, &ev);
        assert_int_equal(ev.type, SC_ET_EV_NONE);
        if ((int32_t)(t - until) >= 0 && sc_chansearch_step(&cs, &rx, t, &until) != ch)
            left = t;
    }
    assert_true(left != 0);
    assert_true(left - arrived >= SC_CHANSEARCH_LOOK_MS);
    assert_true(left - arrived <= SC_CHANSEARCH_LOOK_MS + 2 * D);
}

/* An ESP-TOUCH v2 sender in a 24 ms visit: data plane 3 (an ESP-TOUCH length) and then plane 4
 * one datagram later (longer than any v1 length) is candidate traffic, so the channel search
 * takes its look; until 2026-12-04 a candidate needed both lengths in v1's range. The same two
 * lengths in a burst, two datagrams apart, or a step no plane makes are not. */
static void test_candidate_v2_plane_step(void **state)
{
    (void)state;
    static sc_et_rx_t rx;
    sc_et_event_t ev;
    sc_frame_t f;
    sc_et_creds_t c;
    creds_make(&c, "x", 1, "", 0);
    phone_init(&P[0], &c, PHONE_A, 1500);
    P[0].channel = 6;
    const uint16_t o = P[0].off_up;
    /* plane i with value d: (i << 7) | 0x40 | d, plus the overhead */
    const uint16_t p3 = (uint16_t)((3u << 7) + 0x40u + 9u + o), p4 = (uint16_t)((4u << 7) + 0x40u + 50u + o);
    struct { uint32_t gap; uint16_t second; int cand; } cases[] = {
        { 15, p4, 1 },                  /* the next plane, a datagram later */
        { 12, p4, 1 },                  /* the AP's relay jitter */
        { 17, p4, 1 },
        { 4, p4, 0 },                   /* a burst of one station's frames */
        { 30, p4, 0 },                  /* two datagrams apart: not the next plane */
        { 15, (uint16_t)(p3 + 200u), 0 }, /* more than a plane's step */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(sc_et_rx_init(&rx, NULL), SC_OK);
        uint32_t t = 1000;
        frame_80211(&f, &P[0], 1, p3, 1);
        sc_et_rx_feed(&rx, &f, t, &ev);
        assert_false(sc_et_rx_candidate(&rx, 6, t, 24));
        t += cases[i].gap;
        frame_80211(&f, &P[0], 1, cases[i].second, 2);
        sc_et_rx_feed(&rx, &f, t, &ev);
        assert_int_equal(sc_et_rx_candidate(&rx, 6, t, 24), cases[i].cand);
        assert_false(sc_et_rx_candidate(&rx, 1, t, 24)); /* only where it was heard */
    }
}

/* A glance that heard a frame of an ESP-TOUCH length late waits for its transmitter's next
 * datagram past the glance, and that pair gets the look; with the three-protocol front the
 * rest of the dwell is kept while it decodes v2 (a v2 sender's datagrams are 15 ms apart), and a
 * front without v2 waits as v1 alone does. */
static void test_chansearch_glance_waits_for_next(void **state)
{
    (void)state;
    static sc_et_rx_t rx;
    sc_chansearch_t cs;
    uint32_t until;
    sc_et_event_t ev;
    sc_frame_t f;
    const uint32_t G = SC_CHANSEARCH_DWELL_MS / 2u;
    assert_int_equal(sc_et_rx_init(&rx, NULL), SC_OK);
    static const uint8_t list[] = { 3, 9 };
    assert_int_equal(sc_chansearch_init(&cs, list, 2, 0), SC_OK);
    sc_et_creds_t c;
    creds_make(&c, "x", 1, "", 0);
    phone_init(&P[0], &c, PHONE_A, 1500);
    assert_int_equal(sc_chansearch_step(&cs, &rx, 1000, &until), 3);
    P[0].channel = 3;
    frame_80211(&f, &P[0], 1, (uint16_t)(150 + P[0].off_up), 2);
    sc_et_rx_feed(&rx, &f, 1000 + G - 1, &ev);
    assert_int_equal(sc_chansearch_step(&cs, &rx, 1000 + G, &until), 3);
    assert_int_equal(until, 1000 + G - 1 + 10);
    frame_80211(&f, &P[0], 1, (uint16_t)(150 + P[0].off_up), 3);
    sc_et_rx_feed(&rx, &f, 1000 + G - 1 + 8, &ev);
    assert_int_equal(sc_chansearch_step(&cs, &rx, until, &until), 3);
    assert_int_equal(until, 1000 + G - 1 + 10 + SC_CHANSEARCH_LOOK_MS);
    /* the front (with v2): until v2's next datagram is due, 17 ms after the frame, which for a
     * frame late in the glance is past the dwell */
    static sc_receiver_t front;
    assert_int_equal(sc_receiver_init(&front, 0), SC_OK);
    assert_int_equal(sc_chansearch_init(&cs, list, 2, 0), SC_OK);
    assert_int_equal(sc_chansearch_step_rx(&cs, &front, 2000, &until), 3);
    frame_80211(&f, &P[0], 1, (uint16_t)(150 + P[0].off_up), 4);
    sc_receiver_feed(&front, &f, 2002, NULL);
    assert_int_equal(sc_chansearch_step_rx(&cs, &front, 2000 + G, &until), 3);
    assert_int_equal(until, 2002 + 17);
    assert_int_equal(sc_chansearch_step_rx(&cs, &front, until, &until), 9);
    frame_80211(&f, &P[0], 1, (uint16_t)(150 + P[0].off_up), 5);
    f.channel = 9;
    sc_receiver_feed(&front, &f, 2019 + G - 1, NULL);
    assert_int_equal(sc_chansearch_step_rx(&cs, &front, 2019 + G, &until), 9);
    assert_int_equal(until, 2019 + G - 1 + 17);
    assert_true(until > 2019 + SC_CHANSEARCH_DWELL_MS);
    /* a front without v2 (v1 and AirKiss, the reference ESP8266's set) waits as v1 alone does */
    assert_int_equal(sc_receiver_init(&front, SC_PROTO_BUILT & ~(unsigned)SC_PROTO_ESPTOUCH_V2), SC_OK);
    assert_int_equal(sc_receiver_protocols(&front), SC_PROTO_BUILT & ~(unsigned)SC_PROTO_ESPTOUCH_V2);
    assert_int_equal(sc_chansearch_init(&cs, list, 2, 0), SC_OK);
    assert_int_equal(sc_chansearch_step_rx(&cs, &front, 3000, &until), 3);
    frame_80211(&f, &P[0], 1, (uint16_t)(150 + P[0].off_up), 5);
    sc_receiver_feed(&front, &f, 3000 + G - 1, NULL);
    assert_int_equal(sc_chansearch_step_rx(&cs, &front, 3000 + G, &until), 3);
    assert_int_equal(until, 3000 + G - 1 + 10);
    /* nothing more came: the next channel once that datagram was due */
    assert_int_equal(sc_chansearch_step_rx(&cs, &front, until, &until), 9);
}

/* The first sweep glances at every channel; later sweeps dwell on every channel, in list order
 * (glancing on every sweep missed an AP's DTIM bursts of relays for seconds; v1 alone: a front
 * that decodes v2 glances on every sweep, test_receiver's test_search_v2_glances). A later
 * sweep of 13 dwells (312 ms, 4.8 ms past three beacon intervals) ends with its last visit
 * stretched 17 ms (test_chansearch_sweep_pad). */
static void test_chansearch_first_sweep_glances(void **state)
{
    (void)state;
    static sc_et_rx_t rx;
    sc_chansearch_t cs;
    uint32_t now = 0, until = 0;
    assert_int_equal(sc_et_rx_init(&rx, NULL), SC_OK);
    assert_int_equal(sc_chansearch_init(&cs, NULL, 0, 0), SC_OK);
    for (int sw = 0; sw < 3; sw++)
        for (int i = 0; i < 13; i++) {
            assert_int_equal(sc_chansearch_step(&cs, &rx, now, &until), i + 1);
            assert_int_equal(until - now, sw ? SC_CHANSEARCH_DWELL_MS : SC_CHANSEARCH_DWELL_MS / 2u);
            now = until;
            if (sw && i == 12) {
                assert_int_equal(sc_chansearch_step(&cs, &rx, now, &until), 13);
                assert_int_equal(until - now, 17);
                now = until;
            }
        }
}

/* The air simulator (src/sim): realistic air with both copies, DTIM, multi-BSSID, multicast */
#include "smartcfg/air.h"
static sc_air_t AIR;

static void air_decode(sc_air_config_t *c)
{
    assert_int_equal(sc_air_init(&AIR, c), SC_OK);
    harness_init(&H, NULL);
    sc_frame_t f;
    uint32_t t;
    while (H.ndone == 0 && sc_air_next(&AIR, &f, &t) == SC_OK)
        on_frame(&H, &f, t);
    assert_int_equal(H.ndone, 1);
    assert_creds_equal(&H.done[0].creds, &c->creds);
}

static void test_air_sim(void **state)
{
    (void)state;
    sc_air_config_t c;
    sc_air_config_default(&c);
    air_decode(&c);
    sc_air_config_default(&c);
    c.loss = 0.3;
    c.retry = 0.2;
    c.foreign = 2.0;
    c.start_ms = 3000;
    c.seed = 7;
    air_decode(&c);
    sc_air_config_default(&c);
    c.dtim_ms = 300;
    c.multi_bssid = 1;
    c.multicast = 1;
    c.pairwise = SC_CIPHER_TKIP;
    c.group = SC_CIPHER_GCMP;
    c.fcs = 0;
    c.seed = 8;
    air_decode(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_size),
        cmocka_unit_test(test_vectors_abc),
        cmocka_unit_test(test_overhead_matrix),
        cmocka_unit_test(test_ethernet),
        cmocka_unit_test(test_length_only),
        cmocka_unit_test(test_loss_and_retries),
        cmocka_unit_test(test_guideless_start),
        cmocka_unit_test(test_two_phones),
        cmocka_unit_test(test_spoofed_bad_crc),
        cmocka_unit_test(test_conflicting_values_vote),
        cmocka_unit_test(test_tie_waits),
        cmocka_unit_test(test_stress_no_wrong_result),
        cmocka_unit_test(test_search_and_decode),
        cmocka_unit_test(test_foreign_traffic_only),
        cmocka_unit_test(test_foreign_mixed),
        cmocka_unit_test(test_scan_list),
        cmocka_unit_test(test_scan_is_faster),
        cmocka_unit_test(test_header_bssid_mismatch),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_chansearch),
        cmocka_unit_test(test_air_sim),
        cmocka_unit_test(test_clock_places_lone_frames),
        cmocka_unit_test(test_fill_from_halves),
        cmocka_unit_test(test_head_bytes_recovered),
        cmocka_unit_test(test_lone_frames_before_t),
        cmocka_unit_test(test_no_false_result_lone_spoofs),
        cmocka_unit_test(test_no_false_result_lone_spoofs_order2),
        cmocka_unit_test(test_foreign_lengths_open_no_stream),
        cmocka_unit_test(test_chansearch_false_lock_and_lists),
        cmocka_unit_test(test_chansearch_glance_and_look),
        cmocka_unit_test(test_candidate_v2_plane_step),
        cmocka_unit_test(test_chansearch_glance_waits_for_next),
        cmocka_unit_test(test_chansearch_first_sweep_glances),
        cmocka_unit_test(test_chansearch_sweep_pad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
