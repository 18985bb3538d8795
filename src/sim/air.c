/* SPDX-License-Identifier: Apache-2.0 */
/* Air simulator (air.h): the frames a sniffer on the AP's channel records while a phone runs
 * the reference ESP-TOUCH sender. The sender schedule drives everything: each datagram
 * yields the phone's uplink copy (plus retries), the AP's relayed copy a little later, and
 * some foreign traffic; a small time-ordered queue puts them in air order. All randomness
 * comes from one seeded xorshift generator drawn in generation order, so a given config
 * always produces the same capture whatever window of it is kept. */
#include <string.h>

#include "smartcfg/air.h"

#include "../common/outline.h"
#include "../common/state.h"

#define AIR_QCAP 224        /* pending frames; DTIM buffering is the largest producer */
#define AIR_DTIM_CAP 128    /* relays held for one DTIM interval (1000 ms / 8 ms = 125) */
#define AIR_BEACON_US 102400u
#define AIR_NSTA 4          /* foreign stations on our BSS */

typedef struct {
    uint64_t t_us;          /* air time since the sender started */
    uint32_t order;         /* generation order: ties keep it */
    uint8_t flags;
    sc_frame_t f;
} air_pending_t;

typedef struct {
    sc_air_config_t cfg;
    sc_et_encoder_t enc;
    sc_et_sched_t sched;
    sc_et2_encoder_t enc2;
    sc_et2_sched_t sched2;
    sc_ak_encoder_t enc_ak;
    sc_ak_sched_t sched_ak;
    uint32_t prev2;         /* v2: due time of the previous datagram */
    uint32_t gap_ms;        /* the sender's pause between datagrams (foreign traffic spreads over it) */
    uint8_t inited;
    uint64_t rng;
    uint64_t horizon_us;    /* every frame earlier than this has been generated */
    uint64_t start_us, end_us;
    uint64_t next_beacon_us;
    uint64_t next_dtim_us;
    uint32_t order;
    uint32_t mcast_base;
    uint16_t seq_phone, seq_ap, seq_ap2, seq_bss2, seq_sta[AIR_NSTA];
    uint8_t sched_done;
    uint8_t other_bssid[SC_MAC_LEN];
    uint8_t sta[AIR_NSTA][SC_MAC_LEN];
    uint8_t gateway[SC_MAC_LEN];
    sc_air_stats_t stats;
    uint16_t nq;
    uint16_t ndtim;
    air_pending_t q[AIR_QCAP];
    sc_frame_t dtim[AIR_DTIM_CAP];
} air_state_t;

SC_STATE_FITS(air_state_t, sc_air_t);

/* --- PRNG: splitmix64 to seed, xorshift64* to draw ------------------------------------ */
static uint64_t rng_next(air_state_t *s)
{
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

SC_OUTLINE static double rng_unit(air_state_t *s) { return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }

static uint32_t rng_range(air_state_t *s, uint32_t lo, uint32_t hi) /* inclusive */
{
    return lo + (uint32_t)(rng_next(s) % ((uint64_t)hi - lo + 1u));
}

static uint64_t splitmix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* --- overheads (docs/protocol/esptouch-v1.md#frame-length-and-overhead) ------------------------------------------------------ */
static uint16_t cipher_bytes(sc_cipher_t c)
{
    switch (c) {
    case SC_CIPHER_WEP: return 8;
    case SC_CIPHER_TKIP: return 20;
    case SC_CIPHER_CCMP: return 16;
    case SC_CIPHER_GCMP: return 24;
    default: return 0;
    }
}

uint16_t sc_air_overhead(sc_cipher_t c, int qos, int fcs)
{
    /* MAC header + security header/trailer + LLC/SNAP 8 + IPv4 20 + UDP 8 [+ FCS 4] */
    return (uint16_t)((qos ? 26 : 24) + cipher_bytes(c) + 8 + 20 + 8 + (fcs ? 4 : 0));
}

void sc_air_config_default(sc_air_config_t *cfg)
{
    static const char ssid[] = "TP-LINK_2.4G", pwd[] = "12345678";
    static const uint8_t bssid[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
    static const uint8_t ip[4] = { 192, 168, 1, 100 };
    static const uint8_t phone[6] = { 0x3c, 0x28, 0x6d, 0x12, 0x34, 0x56 };
    memset(cfg, 0, sizeof *cfg);
    cfg->creds.ssid_len = (uint8_t)(sizeof ssid - 1);
    memcpy(cfg->creds.ssid, ssid, sizeof ssid - 1);
    cfg->creds.password_len = (uint8_t)(sizeof pwd - 1);
    memcpy(cfg->creds.password, pwd, sizeof pwd - 1);
    memcpy(cfg->creds.bssid, bssid, 6);
    memcpy(cfg->creds.phone_ip, ip, 4);
    memcpy(cfg->phone_mac, phone, 6);
    cfg->channel = 6;
    cfg->pairwise = SC_CIPHER_CCMP;
    cfg->group = SC_CIPHER_CCMP;
    cfg->uplink = 1;
    cfg->downlink = 1;
    cfg->uplink_qos = 1;
    cfg->fcs = 1;
    cfg->seed = 1;
    cfg->ts_base_us = 1700000000ULL * 1000000ULL;
}

static int timing_is_zero(const sc_et_timing_t *t)
{
    return t->gap_ms == 0 && t->guide_ms == 0 && t->period_ms == 0 && t->window_ms == 0;
}

static sc_err_t check_config(const sc_air_config_t *c)
{
    if (sc_et_creds_check(&c->creds) != SC_OK)
        return SC_ERR_RANGE;
    if (c->channel == 0 || c->channel > 196)
        return SC_ERR_RANGE;
    if ((unsigned)c->pairwise > SC_CIPHER_GCMP || (unsigned)c->group > SC_CIPHER_GCMP)
        return SC_ERR_INVAL;
    /* written as negations so NaN is rejected too */
    if (!(c->loss >= 0.0 && c->loss <= 1.0) || !(c->retry >= 0.0 && c->retry < 1.0) ||
        !(c->foreign >= 0.0 && c->foreign <= 50.0))
        return SC_ERR_RANGE;
    if (c->dtim_ms > 1000)
        return SC_ERR_RANGE;
    if (!c->uplink && !c->downlink)
        return SC_ERR_INVAL;
    return SC_OK;
}

/* --- queue: binary min-heap on (t_us, order) ------------------------------------------- */
/* One queue entry copied over another: out of line in a size build (SC_OUTLINE), where GCC
 * otherwise expands each of the six copies of the 56-byte entry in place (72 bytes more). */
SC_OUTLINE static void move(air_pending_t *to, const air_pending_t *from)
{
    *to = *from;
}

/* Out of line in a size build (outline.h: GCC -Os inlined its 64-bit compare at all three
 * uses, 100 bytes more). */
SC_OUTLINE static int before(const air_pending_t *a, const air_pending_t *b)
{
    return a->t_us < b->t_us || (a->t_us == b->t_us && a->order < b->order);
}

static void push(air_state_t *s, uint64_t t_us, const sc_frame_t *f, uint8_t flags)
{
    if (s->nq >= AIR_QCAP) {
        s->stats.overflow++;
        return;
    }
    size_t i = s->nq++;
    air_pending_t e = { t_us, s->order++, flags, *f };
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&e, &s->q[parent]))
            break;
        move(&s->q[i], &s->q[parent]);
        i = parent;
    }
    move(&s->q[i], &e);
}

static void pop(air_state_t *s, air_pending_t *out)
{
    move(out, &s->q[0]);
    air_pending_t last;
    move(&last, &s->q[--s->nq]);
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const air_pending_t *best = &last;
        if (l < s->nq && before(&s->q[l], best)) {
            m = l;
            best = &s->q[l];
        }
        if (r < s->nq && before(&s->q[r], best))
            m = r;
        if (m == i)
            break;
        move(&s->q[i], &s->q[m]);
        i = m;
    }
    if (s->nq)
        move(&s->q[i], &last);
}

/* Each transmission is lost independently; lost frames still consume their sequence number
 * (the transmitter sent them, the sniffer missed them). */
static void emit(air_state_t *s, uint64_t t_us, const sc_frame_t *f)
{
    if (s->cfg.loss > 0.0 && rng_unit(s) < s->cfg.loss) {
        s->stats.lost++;
        return;
    }
    push(s, t_us, f, s->cfg.bad_fcs ? SC_AIR_F_BADFCS : 0);
}

static void frame_base(const air_state_t *s, sc_frame_t *f, uint16_t fc, uint16_t len, int8_t rssi)
{
    memset(f, 0, sizeof *f);
    f->kind = SC_FRAME_80211;
    f->channel = s->cfg.channel;
    f->fcs = s->cfg.fcs ? 1 : 0;
    f->fc = fc;
    f->len = (uint16_t)(len + (s->cfg.fcs ? 4 : 0));
    f->rssi = rssi;
}

/* A data frame carrying a UDP payload of `body` bytes under `cipher`: its protected bit and
 * its length (header, security, LLC, IP, UDP) both follow from the cipher and the QoS header,
 * so the seven data frames of the simulator say them once. Every one goes one way through
 * the AP: up (a station to the AP, ToDS) or down (the AP to stations, FromDS), one argument
 * instead of the two direction bits. */
static void data_frame(const air_state_t *s, sc_frame_t *f, int qos, int up, sc_cipher_t cipher, uint16_t body,
                       int8_t rssi)
{
    uint16_t fc = (uint16_t)((2u << 2) | ((qos ? 8u : 0u) << 4));
    fc |= up ? SC_FC_TODS : SC_FC_FROMDS;
    if (cipher != SC_CIPHER_OPEN)
        fc |= SC_FC_PROTECTED;
    frame_base(s, f, fc, (uint16_t)(body + sc_air_overhead(cipher, qos, 0)), rssi);
}

static void dest_mac(const air_state_t *s, uint32_t group, uint8_t da[6])
{
    if (!s->cfg.multicast || s->cfg.protocol != SC_AIR_PROTO_V1) {
        memset(da, 0xFF, 6);
        return;
    }
    uint8_t ip[4];
    sc_et_mcast_addr(group + s->mcast_base, ip);
    da[0] = 0x01;
    da[1] = 0x00;
    da[2] = 0x5E;
    da[3] = (uint8_t)(ip[1] & 0x7F);
    da[4] = ip[2];
    da[5] = ip[3];
}

/* The AP's relay of a group-addressed datagram: immediately (after its own contention delay)
 * or held for the next DTIM beacon when stations doze. */
static void relay(air_state_t *s, uint64_t t_us, sc_frame_t *f)
{
    if (s->cfg.dtim_ms == 0) {
        emit(s, t_us + rng_range(s, 300, 3000), f);
        return;
    }
    if (s->ndtim < AIR_DTIM_CAP)
        s->dtim[s->ndtim++] = *f;
    else
        s->stats.overflow++;
}

static uint16_t next_seq(uint16_t *ctr)
{
    uint16_t v = (uint16_t)((*ctr & 0x0FFFu) << 4);
    *ctr = (uint16_t)((*ctr + 1u) & 0x0FFFu);
    return v;
}

static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

/* The three addresses of a frame and its sequence number from *ctr: one call per frame
 * instead of the same four statements at every frame the simulator makes. */
static void addrs(sc_frame_t *f, const uint8_t *a1, const uint8_t *a2, const uint8_t *a3, uint16_t *ctr)
{
    memcpy(f->addr1, a1, 6);
    memcpy(f->addr2, a2, 6);
    memcpy(f->addr3, a3, 6);
    f->seq_ctrl = next_seq(ctr);
}

static void esptouch_copies(air_state_t *s, const sc_et_dgram_t *d)
{
    const sc_air_config_t *c = &s->cfg;
    uint64_t t0 = (uint64_t)d->at_ms * 1000u;
    uint8_t da[6];
    dest_mac(s, d->group, da);
    sc_frame_t f;
    if (c->uplink) {
        data_frame(s, &f, c->uplink_qos, 1, c->pairwise, d->len, (int8_t)(-44 - (int)rng_range(s, 0, 8)));
        addrs(&f, c->creds.bssid, c->phone_mac, da, &s->seq_phone);
        f.qos_ctrl = 0; /* TID 0, normal ack: the uplink is unicast to the AP */
        if (c->uplink_qos && c->ht_control) {
            /* an HT Control field after the QoS Control field, announced by the Order bit */
            f.fc |= SC_FC_ORDER;
            f.len = (uint16_t)(f.len + 4u);
        }
        if (c->uplink_qos && c->amsdu) {
            /* one A-MSDU subframe: its 14-byte header (DA, SA, length) before the LLC, and the
             * header's addr3 is the BSSID (the real DA is inside) */
            f.qos_ctrl |= 0x0080u;
            f.len = (uint16_t)(f.len + 14u);
            memcpy(f.addr3, c->creds.bssid, 6);
        }
        uint64_t t = t0 + rng_range(s, 0, 200);
        f.ts_us = 0;
        s->stats.esptouch_frames++;
        emit(s, t, &f);
        /* The phone repeats a frame the AP did not acknowledge: same sequence control, Retry
         * bit, a few hundred microseconds later; at most three times. */
        for (int k = 0; k < 3 && c->retry > 0.0 && rng_unit(s) < c->retry; k++) {
            f.fc |= SC_FC_RETRY;
            t += rng_range(s, 300, 1000);
            s->stats.esptouch_frames++;
            s->stats.retries++;
            emit(s, t, &f);
        }
    }
    if (c->downlink) {
        data_frame(s, &f, c->downlink_qos, 0, c->group, d->len, -38);
        addrs(&f, da, c->creds.bssid, c->phone_mac, &s->seq_ap);
        f.qos_ctrl = 0x0020; /* no-ack policy: group-addressed frames are never acknowledged */
        s->stats.esptouch_frames++;
        relay(s, t0, &f);
        if (c->multi_bssid) {
            /* a multi-BSSID AP relays the datagram once more from its second BSS */
            f.addr2[5] = (uint8_t)(f.addr2[5] + 1);
            f.seq_ctrl = next_seq(&s->seq_bss2);
            s->stats.esptouch_frames++;
            relay(s, t0, &f);
        }
    }
}

static void beacon(air_state_t *s, uint64_t t, int dtim)
{
    sc_frame_t f;
    /* 24 header + 12 fixed + SSID/rates/DS/TIM/RSN/WMM elements */
    frame_base(s, &f, (uint16_t)((0u << 2) | (8u << 4)), (uint16_t)(24 + 12 + 2 + s->cfg.creds.ssid_len + 150),
               -38);
    addrs(&f, bcast, s->cfg.creds.bssid, s->cfg.creds.bssid, &s->seq_ap);
    (void)dtim;
    s->stats.foreign++;
    emit(s, t, &f);
}

/* Flushes the relays held for the DTIM beacon at t: beacon first, then the burst with More
 * Data on every frame but the last. */
static void dtim_flush(air_state_t *s, uint64_t t)
{
    if (s->cfg.foreign > 0.0)
        beacon(s, t, 1);
    uint64_t at = t + 400;
    for (uint16_t i = 0; i < s->ndtim; i++) {
        sc_frame_t *f = &s->dtim[i];
        if (i + 1u < s->ndtim)
            f->fc |= SC_FC_MOREDATA;
        emit(s, at, f);
        at += rng_range(s, 250, 600);
    }
    s->ndtim = 0;
}

/* Other traffic on the channel, some of it deliberately ESP-TOUCH-like in length. */
static void foreign_frame(air_state_t *s, uint64_t t)
{
    const sc_air_config_t *c = &s->cfg;
    sc_frame_t f;
    uint32_t kind = rng_range(s, 0, 99);
    uint16_t body = (uint16_t)rng_range(s, 40, 1500);
    s->stats.foreign++;
    if (kind < 35) {
        /* another station of our BSS broadcasting (ARP/mDNS/SSDP), and the AP's relay */
        uint32_t k = rng_range(s, 0, AIR_NSTA - 1);
        uint8_t da[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
        if (rng_range(s, 0, 1)) {
            static const uint8_t mdns[6] = { 0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB };
            memcpy(da, mdns, 6);
        }
        data_frame(s, &f, 1, 1, c->pairwise, body, (int8_t)-(int)rng_range(s, 50, 80));
        addrs(&f, c->creds.bssid, s->sta[k], da, &s->seq_sta[k]);
        emit(s, t, &f);
        data_frame(s, &f, c->downlink_qos, 0, c->group, body, -38);
        addrs(&f, da, c->creds.bssid, s->sta[k], &s->seq_ap);
        relay(s, t, &f);
    } else if (kind < 55) {
        /* a neighbouring BSS on the same channel relaying broadcasts */
        data_frame(s, &f, 0, 0, SC_CIPHER_TKIP, body, (int8_t)-(int)rng_range(s, 60, 90));
        addrs(&f, bcast, s->other_bssid, s->sta[0], &s->seq_ap2);
        f.addr3[5] ^= 0x80;
        emit(s, t, &f);
    } else if (kind < 70) {
        /* the phone's own unicast traffic: same transmitter and BSSID as the ESP-TOUCH
         * uplink, but a unicast DA (the gateway) */
        data_frame(s, &f, c->uplink_qos, 1, c->pairwise, body, -46);
        addrs(&f, c->creds.bssid, c->phone_mac, s->gateway, &s->seq_phone);
        emit(s, t, &f);
    } else if (kind < 80) {
        /* unicast downlink to another station */
        uint32_t k = rng_range(s, 0, AIR_NSTA - 1);
        data_frame(s, &f, 1, 0, c->pairwise, body, -38);
        addrs(&f, s->sta[k], c->creds.bssid, s->gateway, &s->seq_ap);
        emit(s, t, &f);
    } else if (kind < 90) {
        /* probe request from a passer-by, or the neighbour's beacon */
        int probe = rng_range(s, 0, 1) != 0;
        frame_base(s, &f, (uint16_t)((probe ? 4u : 8u) << 4), (uint16_t)(probe ? rng_range(s, 40, 200) : 180),
                   (int8_t)-(int)rng_range(s, 60, 90));
        if (probe)
            addrs(&f, bcast, s->sta[3], bcast, &s->seq_sta[3]);
        else
            addrs(&f, bcast, s->other_bssid, s->other_bssid, &s->seq_ap2);
        emit(s, t, &f);
    } else {
        /* ACK to a station: 10-byte control frame */
        frame_base(s, &f, (uint16_t)((1u << 2) | (13u << 4)), 10, -40);
        memcpy(f.addr1, s->sta[rng_range(s, 0, AIR_NSTA - 1)], 6);
        emit(s, t, &f);
    }
}

/* The next datagram of whichever reference sender the phone runs, in the v1 shape (v2 and
 * AirKiss always broadcast: their group counter only feeds the multicast option of v1). */
static sc_err_t next_dgram(air_state_t *s, sc_et_dgram_t *d)
{
    memset(d, 0, sizeof *d);
    if (s->cfg.protocol == SC_AIR_PROTO_V2) {
        sc_et2_dgram_t g;
        sc_err_t err = sc_et2_sched_next(&s->sched2, s->prev2, &g);
        if (err)
            return err;
        s->prev2 = g.at_ms;
        d->at_ms = g.at_ms;
        d->len = g.len;
        return SC_OK;
    }
    if (s->cfg.protocol == SC_AIR_PROTO_AIRKISS) {
        sc_ak_dgram_t g;
        sc_err_t err = sc_ak_sched_next(&s->sched_ak, &g);
        if (err)
            return err;
        d->at_ms = g.at_ms;
        d->len = g.len;
        return SC_OK;
    }
    uint32_t prev = s->sched.sent ? s->sched.next_at : 0;
    return sc_et_sched_next(&s->sched, prev, d);
}

/* v2 segment padding: the reference draws 0..126 */
static uint8_t pad_byte(void *user) { return (uint8_t)(rng_next((air_state_t *)user) % 127u); }

/* Generates everything caused by the next datagram of the schedule, and the beacons and
 * DTIM bursts due before it. */
static void generate(air_state_t *s)
{
    sc_et_dgram_t d;
    if (s->sched_done || next_dgram(s, &d) != SC_OK) {
        s->sched_done = 1;
        if (s->ndtim)
            dtim_flush(s, s->next_dtim_us);
        s->horizon_us = UINT64_MAX;
        return;
    }
    uint64_t t0 = (uint64_t)d.at_ms * 1000u;
    if (s->cfg.dtim_ms) {
        while (s->next_dtim_us <= t0) {
            dtim_flush(s, s->next_dtim_us);
            s->next_dtim_us += (uint64_t)s->cfg.dtim_ms * 1000u;
        }
    }
    if (s->cfg.foreign > 0.0) {
        while (s->next_beacon_us < t0) {
            int at_dtim = s->cfg.dtim_ms && s->next_beacon_us == s->next_dtim_us;
            if (!at_dtim)
                beacon(s, s->next_beacon_us, 0);
            s->next_beacon_us += AIR_BEACON_US;
        }
    }
    esptouch_copies(s, &d);
    if (s->cfg.foreign > 0.0) {
        double r = s->cfg.foreign;
        uint32_t n = (uint32_t)r;
        if (rng_unit(s) < r - (double)n)
            n++;
        uint32_t span = s->gap_ms * 1000u;
        for (uint32_t i = 0; i < n; i++)
            foreign_frame(s, t0 + rng_range(s, 0, span ? span - 1 : 0));
    }
    s->horizon_us = t0;
}

sc_err_t sc_air_init(sc_air_t *air, const sc_air_config_t *cfg)
{
    if (!air || !cfg)
        return SC_ERR_INVAL;
    air_state_t *s = (air_state_t *)(void *)air;
    memset(s, 0, sizeof *s);
    sc_err_t err = check_config(cfg);
    if (err)
        return err;
    s->cfg = *cfg;
    if (timing_is_zero(&s->cfg.timing)) {
        const sc_et_timing_t ref = SC_ET_TIMING_DEFAULT;
        s->cfg.timing = ref;
    }
    s->rng = splitmix(cfg->seed);
    if (s->rng == 0)
        s->rng = 1;
    if (cfg->protocol == SC_AIR_PROTO_V2) {
        sc_et2_params_t p;
        memset(&p, 0, sizeof p);
        memcpy(p.ssid, cfg->creds.ssid, cfg->creds.ssid_len);
        p.ssid_len = cfg->creds.ssid_len;
        memcpy(p.password, cfg->creds.password, cfg->creds.password_len);
        p.password_len = cfg->creds.password_len;
        if (cfg->reserved_len > SC_ET2_RESERVED_MAX)
            return SC_ERR_RANGE;
        memcpy(p.reserved, cfg->reserved, cfg->reserved_len);
        p.reserved_len = cfg->reserved_len;
        memcpy(p.bssid, cfg->creds.bssid, 6);
        p.port_mark = cfg->v2_port_mark;
        p.security = cfg->v2_security;
        memcpy(p.key, cfg->v2_key, SC_ET2_KEY_LEN);
        for (unsigned i = 0; i < SC_ET2_IV_WIRE; i++)
            p.iv[i] = (uint8_t)rng_next(s);
        err = sc_et2_encode(&s->enc2, &p, pad_byte, s);
        memset(&p, 0, sizeof p);
        if (!err)
            err = sc_et2_sched_init(&s->sched2, &s->enc2, NULL);
        s->gap_ms = s->sched2.timing.gap_ms;
    } else if (cfg->protocol == SC_AIR_PROTO_AIRKISS) {
        sc_ak_params_t p;
        memset(&p, 0, sizeof p);
        memcpy(p.ssid, cfg->creds.ssid, cfg->creds.ssid_len);
        p.ssid_len = cfg->creds.ssid_len;
        memcpy(p.password, cfg->creds.password, cfg->creds.password_len);
        p.password_len = cfg->creds.password_len;
        p.random = cfg->ak_random;
        err = sc_ak_encode(&s->enc_ak, &p);
        memset(&p, 0, sizeof p);
        if (!err)
            err = sc_ak_sched_init(&s->sched_ak, &s->enc_ak, NULL);
        s->gap_ms = s->sched_ak.timing.gap_ms;
    } else if (cfg->protocol == SC_AIR_PROTO_V1) {
        err = sc_et_encode(&s->enc, &s->cfg.creds);
        if (!err)
            err = sc_et_sched_init(&s->sched, &s->enc, &s->cfg.timing);
        s->gap_ms = s->cfg.timing.gap_ms;
    } else {
        err = SC_ERR_INVAL;
    }
    if (err)
        return err;
    s->inited = 1;
    s->start_us = (uint64_t)cfg->start_ms * 1000u;
    s->end_us = cfg->duration_ms ? s->start_us + (uint64_t)cfg->duration_ms * 1000u : UINT64_MAX;
    /* the beacon grid and the multicast counter are unrelated to the sender's start */
    s->next_beacon_us = rng_next(s) % AIR_BEACON_US;
    s->next_dtim_us = cfg->dtim_ms ? rng_next(s) % ((uint64_t)cfg->dtim_ms * 1000u) : 0;
    s->mcast_base = (uint32_t)(rng_next(s) % 100u);
    s->seq_phone = (uint16_t)(rng_next(s) & 0xFFF);
    s->seq_ap = (uint16_t)(rng_next(s) & 0xFFF);
    s->seq_ap2 = (uint16_t)(rng_next(s) & 0xFFF);
    for (int k = 0; k < AIR_NSTA; k++) {
        uint64_t r = rng_next(s);
        s->sta[k][0] = 0x02; /* locally administered: never a real vendor */
        for (int j = 1; j < 6; j++)
            s->sta[k][j] = (uint8_t)(r >> (8 * j));
        s->seq_sta[k] = (uint16_t)((r >> 48) & 0xFFF);
    }
    memcpy(s->other_bssid, cfg->creds.bssid, 6);
    s->other_bssid[0] = 0x02;
    s->other_bssid[5] ^= 0x5A;
    memcpy(s->gateway, cfg->creds.bssid, 6);
    s->gateway[0] |= 0x02;
    s->gateway[4] ^= 0x77;
    return SC_OK;
}

sc_err_t sc_air_next_ex(sc_air_t *air, sc_frame_t *out, uint32_t *t_ms, unsigned *flags)
{
    if (!air || !out)
        return SC_ERR_INVAL;
    air_state_t *s = (air_state_t *)(void *)air;
    if (!s->inited)
        return SC_ERR_STATE; /* init failed or never ran */
    for (;;) {
        if (s->nq && s->q[0].t_us <= s->horizon_us) {
            air_pending_t e;
            pop(s, &e);
            if (e.t_us < s->start_us)
                continue;
            if (e.t_us >= s->end_us) {
                s->nq = 0;
                s->sched_done = 1;
                s->horizon_us = UINT64_MAX;
                return SC_ERR_DONE;
            }
            *out = e.f;
            uint64_t rel = e.t_us - s->start_us;
            out->ts_us = s->cfg.ts_base_us + rel;
            if (t_ms)
                *t_ms = (uint32_t)(rel / 1000u);
            if (flags)
                *flags = e.flags;
            return SC_OK;
        }
        if (s->sched_done && s->horizon_us == UINT64_MAX && s->nq == 0)
            return SC_ERR_DONE;
        if (s->horizon_us != UINT64_MAX && s->horizon_us >= s->end_us && s->nq == 0)
            return SC_ERR_DONE;
        generate(s);
    }
}

sc_err_t sc_air_next(sc_air_t *air, sc_frame_t *out, uint32_t *t_ms) { return sc_air_next_ex(air, out, t_ms, NULL); }

void sc_air_stats(const sc_air_t *air, sc_air_stats_t *out)
{
    const air_state_t *s = (const air_state_t *)(const void *)air;
    *out = s->stats;
}

uint32_t sc_air_floor_ms(const sc_air_config_t *cfg)
{
    if (cfg->protocol != SC_AIR_PROTO_V1)
        return UINT32_MAX; /* the floor model is v1's (whole triplets); none for the others yet */
    sc_et_encoder_t enc;
    sc_et_sched_t sched;
    sc_et_timing_t timing = cfg->timing;
    if (timing_is_zero(&timing)) {
        const sc_et_timing_t ref = SC_ET_TIMING_DEFAULT;
        timing = ref;
    }
    if (sc_et_encode(&enc, &cfg->creds) != SC_OK || sc_et_sched_init(&sched, &enc, &timing) != SC_OK)
        return UINT32_MAX;
    uint8_t seen[128];
    memset(seen, 0, sizeof seen);
    unsigned missing = enc.ncodes;
    uint64_t end = cfg->duration_ms ? (uint64_t)cfg->start_ms + cfg->duration_ms : UINT64_MAX;
    sc_et_dgram_t d;
    uint32_t prev = 0;
    int first_ok = 0; /* pos 0 of the current triplet was inside the capture */
    while (sc_et_sched_next(&sched, prev, &d) == SC_OK) {
        prev = d.at_ms;
        if (d.at_ms >= end)
            break;
        if (d.is_guide)
            continue;
        if (d.pos == 0)
            first_ok = d.at_ms >= cfg->start_ms;
        if (d.pos != 2 || !first_ok)
            continue;
        uint8_t idx = enc.order[d.cursor / 3].index;
        if (!seen[idx]) {
            seen[idx] = 1;
            if (--missing == 0)
                return d.at_ms - cfg->start_ms;
        }
    }
    return UINT32_MAX;
}
