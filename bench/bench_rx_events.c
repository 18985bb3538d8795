// SPDX-License-Identifier: Apache-2.0
/* Event dump of the receivers, and their wrong results under corrupted air.
 * Compares two builds event by event (issue #10: a change that makes the receiver cheaper must
 * not change what it decodes, or must be explained where it does), and counts results whose
 * SSID or password differ from what the phone sent (issue #11: corrupted or hostile frames never
 * yield a wrong SSID/password). Runs N simulated captures (air simulator: ESP-TOUCH v1, v2 and
 * AirKiss phones in turn, loss, retries, DTIM bursts, second BSSIDs, HT Control, A-MSDUs,
 * length-only and Ethernet captures) with mutated and injected frames on top (changed lengths,
 * spoofed senders, repeated retries, many extra group-addressed senders of random lengths, the
 * phone's MAC with bogus lengths; each protocol at each share of mutated frames: 0, 2, 4 %), and
 * feeds every frame to the receiver front (all three decoders) and to each decoder alone.
 * With --dump it prints one line per event (frame number, decoder, type, channel, offset,
 * progress; the credentials on DONE), every 100 ms of capture time the ticks' events and what
 * the channel search reads (locked/pinned channel, sc_et_rx_heard/candidate/recent_activity),
 * and each decoder's statistics at the end of a capture. Deterministic: two builds give the
 * same dump exactly when they decode the same. Without it, only BENCH lines (make bench);
 * --check exits 1 on any wrong result (integ.rx_no_wrong). --scale F multiplies the shares of
 * mutated frames (F 2.5: 0, 5, 10 %), for the rarer ways a wrong result could pass.
 *   build-rel/bench/bench_rx_events [captures (3000)] [--dump] [--check] [--scale F (1)] [--capture K]
 * Each capture draws from its own seed, so --capture K runs capture K alone exactly as it runs
 * among the others: what a 30 000-capture check names can be traced in a second.
 * Diffing two trees: build each (or cc -std=c11 -O2 -I include bench/bench_rx_events.c
 * $(find src -name '*.c') -lmbedcrypto -lcjson -lm), run with --dump, diff the outputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smartcfg/air.h"
#include "smartcfg/esptouch_rx.h"
#include "smartcfg/receiver.h"

static sc_air_t air;
static sc_receiver_t front;
static sc_et_rx_t v1;
static sc_et2_rx_t v2;
static sc_ak_rx_t ak;
static FILE *out; /* the dump (--dump), or /dev/null */
static double scale = 1.0; /* --scale: multiplies the shares of mutated frames */

static uint32_t rng = 1;
static uint32_t rnd(void)
{
    /* xorshift32: the mutations depend on the seed alone */
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}
static uint32_t rnd_range(uint32_t lo, uint32_t hi) { return lo + rnd() % (hi - lo + 1u); }

static const uint8_t v2key[SC_ET2_KEY_LEN] = "0123456789abcdef";

static void mac_str(char *o, const uint8_t *m)
{
    sprintf(o, "%02x%02x%02x%02x%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void print_bytes(const char *tag, const uint8_t *b, unsigned n)
{
    fprintf(out, " %s=", tag);
    for (unsigned i = 0; i < n; i++)
        fprintf(out, "%02x", b[i]);
}

static unsigned cap_no;
static unsigned long frame_no;
static const sc_et_creds_t *want;  /* what the capture's phone sends */
static unsigned long results, wrongs;

/* A result is wrong when its SSID differs, or its password where it has one (an encrypted v2
 * session without the key has none). */
static void check(const char *who, const uint8_t *ssid, unsigned sl, const uint8_t *pw, unsigned pl, int pw_known)
{
    results++;
    if (sl == want->ssid_len && !memcmp(ssid, want->ssid, sl) &&
        (!pw_known || (pl == want->password_len && !memcmp(pw, want->password, pl))))
        return;
    wrongs++;
    fprintf(stderr, "capture %u frame %lu: %s result wrong\n", cap_no, frame_no, who);
}


static void ev_front(const sc_rx_event_t *e)
{
    fprintf(out, "%u %lu front t=%d p=%d ch=%u off=%u k=%u n=%u", cap_no, frame_no, (int)e->type, (int)e->proto, e->channel,
           e->offset, e->known, e->needed);
    if (e->type == SC_ET_EV_DONE) {
        const sc_rx_result_t *r = &e->result;
        check("front", r->ssid, r->ssid_len, r->password, r->password_len, r->password_known);
        char s[13], b[13];
        mac_str(s, r->sender);
        mac_str(b, r->bssid);
        print_bytes("ssid", r->ssid, r->ssid_len);
        print_bytes("pw", r->password, r->password_len);
        print_bytes("res", r->reserved, r->reserved_len);
        fprintf(out, " pk=%u bssid=%s/%u ip=%u.%u.%u.%u/%u rnd=%u tok=%u rch=%u roff=%u sender=%s", r->password_known, b,
               r->has_bssid, r->phone_ip[0], r->phone_ip[1], r->phone_ip[2], r->phone_ip[3], r->has_phone_ip, r->random,
               r->ack_token, r->channel, r->offset, s);
    }
    fprintf(out, "\n");
}

static void ev_v1(const sc_et_event_t *e, const char *who)
{
    char s[13], b[13];
    mac_str(s, e->sender);
    mac_str(b, e->bssid);
    fprintf(out, "%u %lu %s t=%d ch=%u off=%u k=%u n=%u bssid=%s sender=%s", cap_no, frame_no, who, (int)e->type, e->channel,
           e->offset, e->known, e->needed, b, s);
    if (e->type == SC_ET_EV_DONE) {
        const sc_et_result_t *r = &e->result;
        check(who, r->creds.ssid, r->creds.ssid_len, r->creds.password, r->creds.password_len, 1);
        print_bytes("ssid", r->creds.ssid, r->creds.ssid_len);
        print_bytes("pw", r->creds.password, r->creds.password_len);
        print_bytes("bssid", r->creds.bssid, SC_MAC_LEN);
        print_bytes("ip", r->creds.phone_ip, 4);
        fprintf(out, " t=%u rch=%u roff=%u", r->t, r->channel, r->offset);
    }
    fprintf(out, "\n");
}

static void ev_v2(sc_et_event_type_t t, const sc_et2_result_t *r)
{
    uint8_t k = 0, n = 0;
    sc_et2_rx_progress(&v2, &k, &n);
    fprintf(out, "%u %lu v2 t=%d k=%u n=%u", cap_no, frame_no, (int)t, k, n);
    if (t == SC_ET_EV_DONE) {
        check("v2", r->ssid, r->ssid_len, r->password, r->password_len, r->password_ok);
        print_bytes("ssid", r->ssid, r->ssid_len);
        print_bytes("pw", r->password, r->password_len);
        print_bytes("res", r->reserved, r->reserved_len);
        print_bytes("bssid", r->bssid, SC_MAC_LEN);
        fprintf(out, " hb=%u pok=%u pm=%u ch=%u off=%u", r->has_bssid, r->password_ok, r->port_mark, r->channel, r->offset);
    }
    fprintf(out, "\n");
}

static void ev_ak(sc_et_event_type_t t, const sc_ak_result_t *r)
{
    uint8_t k = 0, n = 0;
    sc_ak_rx_progress(&ak, &k, &n);
    fprintf(out, "%u %lu ak t=%d k=%u n=%u", cap_no, frame_no, (int)t, k, n);
    if (t == SC_ET_EV_DONE) {
        check("airkiss", r->ssid, r->ssid_len, r->password, r->password_len, 1);
        print_bytes("ssid", r->ssid, r->ssid_len);
        print_bytes("pw", r->password, r->password_len);
        fprintf(out, " rnd=%u ch=%u off=%u", r->random, r->channel, r->offset);
    }
    fprintf(out, "\n");
}

static unsigned dones;

static void feed_all(const sc_frame_t *f, uint32_t t)
{
    sc_rx_event_t fe;
    if (sc_receiver_feed(&front, f, t, &fe) != SC_ET_EV_NONE) {
        ev_front(&fe);
        if (fe.type == SC_ET_EV_DONE) {
            dones++;
            /* both ways on: forget everything, or only the finished phone */
            if (cap_no & 1u)
                (void)sc_receiver_resume(&front);
            else
                sc_receiver_reset(&front);
        }
    }
    sc_et_event_t e;
    if (sc_et_rx_feed(&v1, f, t, &e) != SC_ET_EV_NONE) {
        ev_v1(&e, "v1");
        if (e.type == SC_ET_EV_DONE) {
            if (cap_no & 1u)
                (void)sc_et_rx_resume(&v1);
            else
                sc_et_rx_reset(&v1);
        }
    }
    sc_et2_result_t r2;
    sc_et_event_type_t t2 = sc_et2_rx_feed(&v2, f, t, &r2);
    if (t2 != SC_ET_EV_NONE) {
        ev_v2(t2, &r2);
        if (t2 == SC_ET_EV_DONE)
            (void)sc_et2_rx_resume(&v2);
    }
    sc_ak_result_t ra;
    sc_et_event_type_t ta = sc_ak_rx_feed(&ak, f, t, &ra);
    if (ta != SC_ET_EV_NONE) {
        ev_ak(ta, &ra);
        if (ta == SC_ET_EV_DONE)
            (void)sc_ak_rx_resume(&ak);
    }
}

static void tick_all(uint32_t t, uint8_t ch)
{
    sc_et_event_t e;
    int ft = (int)sc_receiver_tick(&front, t);
    int t1 = (int)sc_et_rx_tick(&v1, t, &e);
    int t2 = (int)sc_et2_rx_tick(&v2, t);
    int ta = (int)sc_ak_rx_tick(&ak, t);
    sc_et_rx_t *fv1 = sc_receiver_v1(&front);
    fprintf(out, "%u %lu tick %d %d %d %d lc=%u/%u/%u/%u pin=%u/%u heard=%d/%d cand=%d/%d act=%d/%d\n", cap_no, frame_no, ft,
           t1, t2, ta, sc_receiver_locked_channel(&front), sc_et_rx_locked_channel(&v1), sc_et2_rx_locked_channel(&v2),
           sc_ak_rx_locked_channel(&ak), sc_et_rx_pinned_channel(fv1, t), sc_et_rx_pinned_channel(&v1, t),
           sc_et_rx_heard(fv1, ch, t, 200), sc_et_rx_heard(&v1, ch, t, 200), sc_et_rx_candidate(fv1, ch, t, 1000),
           sc_et_rx_candidate(&v1, ch, t, 1000), sc_et_rx_recent_activity(fv1, ch, t, 1000),
           sc_et_rx_recent_activity(&v1, ch, t, 1000));
}

static void stats_all(void)
{
    sc_et_rx_stats_t a, b;
    sc_et_rx_stats(sc_receiver_v1(&front), &a);
    sc_et_rx_stats(&v1, &b);
    sc_et2_rx_stats_t c;
    sc_ak_rx_stats_t d;
    sc_et2_rx_stats(&v2, &c);
    sc_ak_rx_stats(&ak, &d);
    fprintf(out, "%u stats front-v1 frames=%lu nondata=%lu retry=%lu tok=%lu flocks=%lu | v1 frames=%lu nondata=%lu retry=%lu "
           "tok=%lu flocks=%lu | v2 %lu %lu %lu %lu %lu %lu %lu | ak %lu %lu %lu %lu %lu %lu\n",
           cap_no, (unsigned long)a.frames, (unsigned long)a.dropped_nondata, (unsigned long)a.dropped_retry,
           (unsigned long)a.triplets_ok, (unsigned long)a.false_locks, (unsigned long)b.frames,
           (unsigned long)b.dropped_nondata, (unsigned long)b.dropped_retry, (unsigned long)b.triplets_ok,
           (unsigned long)b.false_locks, (unsigned long)c.frames, (unsigned long)c.locks, (unsigned long)c.groups_ok,
           (unsigned long)c.bad_crc, (unsigned long)c.bad_header, (unsigned long)c.conflicts,
           (unsigned long)c.decrypt_fail, (unsigned long)d.frames, (unsigned long)d.locks, (unsigned long)d.blocks_ok,
           (unsigned long)d.bad_crc, (unsigned long)d.conflicts, (unsigned long)d.bad_ssid_crc);
}

/* One of the extra group-addressed senders: some station of some BSS broadcasting. */
static void foreign(sc_frame_t *o, const sc_frame_t *like, unsigned who)
{
    memset(o, 0, sizeof *o);
    o->kind = SC_FRAME_80211;
    o->channel = like->channel;
    o->ts_us = like->ts_us;
    int to_ds = (who & 1u) != 0;
    o->fc = (uint16_t)(0x0008u | (to_ds ? SC_FC_TODS : SC_FC_FROMDS) | ((who & 2u) ? 0x0080u : 0u) |
                       ((who & 4u) ? SC_FC_PROTECTED : 0u));
    uint8_t sta[6] = { 0x02, 0x5a, 0x00, 0x00, (uint8_t)(who >> 8), (uint8_t)who };
    uint8_t bss[6] = { 0x0a, 0xbb, 0x00, 0x00, 0x00, (uint8_t)(who % 5u) };
    uint8_t grp[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (to_ds) {
        memcpy(o->addr1, bss, 6);
        memcpy(o->addr2, sta, 6);
        memcpy(o->addr3, grp, 6);
    } else {
        memcpy(o->addr1, grp, 6);
        memcpy(o->addr2, bss, 6);
        memcpy(o->addr3, sta, 6);
    }
    /* lengths anywhere, often where one of the protocols' openers or symbols lie */
    switch (rnd() % 4u) {
    case 0: o->len = (uint16_t)rnd_range(1, 1600); break;
    case 1: o->len = (uint16_t)rnd_range(40, 700); break;        /* v1's */
    case 2: o->len = (uint16_t)rnd_range(1, 260); break;         /* AirKiss' */
    default: o->len = (uint16_t)rnd_range(1040, 1260); break;    /* v2's SYNC/COUNT */
    }
    o->seq_ctrl = (uint16_t)(rnd() << 4);
}

static void run_capture(unsigned k)
{
    sc_air_config_t c;
    sc_air_config_default(&c);
    rng = 0x9e3779b9u ^ (k * 2654435761u);
    if (!rng)
        rng = 1;
    c.seed = 1000 + k;
    c.protocol = (sc_air_proto_t)(k % 3u);
    c.loss = (double)(k % 4u) * 0.1;
    c.retry = (k % 5u) ? 0.05 : 0.2;
    c.foreign = (double)(k % 6u) * 0.6;
    c.start_ms = (k * 977u) % 9000u;
    c.duration_ms = 16000;
    c.creds.password[0] = (uint8_t)('a' + k % 26u);
    c.ak_random = (uint8_t)k;
    c.v2_security = (uint8_t)((k / 3u) % 3u);
    memcpy(c.v2_key, v2key, sizeof v2key);
    c.v2_port_mark = (uint8_t)(k % 4u);
    if (k % 7u == 3u)
        c.dtim_ms = 300;
    if (k % 11u == 5u)
        c.multi_bssid = 1;
    if (k % 13u == 2u)
        c.ht_control = 1;
    if (k % 17u == 8u)
        c.amsdu = 1;
    if (k % 9u == 4u)
        c.multicast = 1;
    if (k % 8u == 6u)
        c.downlink = 0;
    if (k % 10u == 7u)
        c.fcs = 0;
    /* how the radio delivers: mostly 802.11 headers, some length-only and Ethernet captures */
    unsigned kind = k % 12u == 10u ? SC_FRAME_LEN_ONLY : k % 12u == 11u ? SC_FRAME_ETHERNET : SC_FRAME_80211;
    unsigned nextra = (k % 4u) * 8u; /* extra group-addressed senders (0, 8, 16, 24) */
    double mut = ((k / 3u) % 3u) * 0.02 * scale; /* share of the phone's frames mutated (k / 3: every protocol gets each rate) */
    want = &c.creds;
    if (sc_air_init(&air, &c) != SC_OK) {
        fprintf(out, "%u air init failed\n", k);
        return;
    }
    cap_no = k;
    frame_no = 0;
    if (sc_receiver_init(&front, 0) != SC_OK || sc_et_rx_init(&v1, NULL) != SC_OK || sc_et2_rx_init(&v2, NULL) != SC_OK ||
        sc_ak_rx_init(&ak, NULL) != SC_OK) {
        fprintf(out, "%u init failed\n", k);
        return;
    }
    if (k % 2u) {
        sc_receiver_set_v2_key(&front, v2key);
        sc_et2_rx_set_key(&v2, v2key);
    }
    sc_frame_t f;
    uint32_t t, next_tick = 100;
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        while ((int32_t)(t - next_tick) >= 0) {
            tick_all(next_tick, c.channel);
            next_tick += 100;
        }
        if (kind == SC_FRAME_LEN_ONLY) {
            uint16_t len = f.len;
            uint8_t ch = f.channel;
            if ((f.fc & 0x000Cu) != 0x0008u)
                continue; /* such a radio reports data frames only */
            memset(&f, 0, sizeof f);
            f.kind = SC_FRAME_LEN_ONLY;
            f.len = len;
            f.channel = ch;
        } else if (kind == SC_FRAME_ETHERNET) {
            if ((f.fc & 0x000Cu) != 0x0008u)
                continue;
            sc_frame_t e;
            memset(&e, 0, sizeof e);
            e.kind = SC_FRAME_ETHERNET;
            int to_ds = (f.fc & SC_FC_TODS) != 0;
            memcpy(e.addr1, to_ds ? f.addr3 : f.addr1, 6);
            memcpy(e.addr2, to_ds ? f.addr2 : f.addr3, 6);
            e.len = (uint16_t)(f.len > 20 ? f.len - 20u : f.len);
            e.channel = f.channel;
            f = e;
        }
        /* extra senders in between */
        if (nextra && rnd() % 3u == 0) {
            sc_frame_t o;
            foreign(&o, &f, rnd() % nextra + (k % 5u) * 7u);
            if (kind == SC_FRAME_80211) {
                frame_no++;
                feed_all(&o, t);
            }
        }
        if (mut > 0.0 && (double)(rnd() % 10000u) < mut * 10000.0) {
            switch (rnd() % 6u) {
            case 0: f.len = (uint16_t)(f.len + rnd_range(1, 3)); break;   /* a changed length */
            case 1: f.len = (uint16_t)(f.len - rnd_range(1, 3)); break;
            case 2: f.addr2[5] ^= (uint8_t)rnd_range(1, 255); f.addr3[5] ^= 1u; break; /* another sender */
            case 3: {                                                       /* a repeated retry */
                sc_frame_t d = f;
                d.fc |= SC_FC_RETRY;
                frame_no++;
                feed_all(&f, t);
                f = d;
                break;
            }
            case 4: continue;                                               /* dropped */
            default: f.len = (uint16_t)rnd_range(1, 1600); break;          /* the phone's MAC, a bogus length */
            }
        }
        frame_no++;
        feed_all(&f, t);
    }
    tick_all(next_tick, c.channel);
    stats_all();
}

int main(int argc, char **argv)
{
    unsigned n = 3000;
    long only = -1; /* --capture K */
    int dump = 0, check_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dump"))
            dump = 1;
        else if (!strcmp(argv[i], "--check"))
            check_only = 1;
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc) {
            char *end;
            scale = strtod(argv[++i], &end);
            if (*end || end == argv[i] || !(scale > 0.0 && scale <= 12.5)) {
                fprintf(stderr, "bench_rx_events: --scale wants a number in (0, 12.5] (shares up to 50 %%)\n");
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--capture") && i + 1 < argc) {
            char *end;
            only = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || only < 0 || only > 10000000) {
                fprintf(stderr, "bench_rx_events: --capture wants a capture number (0..10000000)\n");
                return 2;
            }
        }
        else if (atoi(argv[i]) > 0)
            n = (unsigned)atoi(argv[i]);
        else {
            fprintf(stderr, "usage: bench_rx_events [captures] [--dump] [--check] [--scale F] [--capture K]\n");
            return 2;
        }
    }
    out = dump ? stdout : fopen("/dev/null", "w");
    if (!out) {
        perror("bench_rx_events: /dev/null");
        return 2;
    }
    if (only >= 0) {
        n = 1;
        run_capture((unsigned)only);
    } else {
        for (unsigned k = 0; k < n; k++)
            run_capture(k);
    }
    fprintf(out, "captures %u front-dones %u\n", n, dones);
    if (!dump) {
        printf("BENCH rx_events_captures %u count\n", n);
        printf("BENCH rx_events_results %lu count\n", results);
        printf("BENCH rx_events_wrong_results %lu count\n", wrongs);
    }
    return check_only && wrongs ? 1 : 0;
}
