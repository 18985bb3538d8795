/* SPDX-License-Identifier: Apache-2.0 */
/* Time to decode while the receiver hops channels (sc_chansearch_*), relative to the time the
 * same air takes on the right channel. The radio hears only the channel it is tuned to, as the
 * file radio does (ports/posix/radio_file.c), loses SWITCH_MS after every change, and hears
 * foreign broadcasts on every channel (NOISE_GAP_MS apart, random senders and lengths; the AP's
 * own channel also carries the simulator's foreign traffic). Each run draws the AP's channel
 * from the list, a seed, 10 % loss and:
 *  - "start": the phone starts while the device is already hopping (the usual case: the
 *    device searches before the user presses the button); the hopper's phase is random, the
 *    time is counted from the phone's start in both cases;
 *  - "mid": the device starts hopping at a random point of the phone's 45 s run, in a guide
 *    or a data phase alike (as bench_ttd's captures); time counted from the device's start.
 * Reports median and worst ratio per channel list: 2.4 GHz 1..13, and a dual-band card (1..11
 * and the 5 GHz channels 36..165); the *_dtim_* cases again with only the AP's relays, which
 * it holds for a 100 ms DTIM beacon and sends in bursts (the search must catch a burst).
 * "mid" also reports the floor for a hopper: the fixed receiver, deaf until a sweep that listens
 * one datagram slot per channel would first reach the AP's channel (what a search in list order cannot beat).
 * The v1 cases feed the v1 decoder and search with sc_chansearch_step; the front_* cases run the
 * same v1 air through the three-protocol front and sc_chansearch_step_rx (what a device does),
 * and the v2_* and ak_* cases ESP-TOUCH v2 and AirKiss senders (their reference timing: a
 * datagram every 15 and 5 ms; the floor listens one of their slots per channel) the same way;
 * the v2long_* cases v2 again with a 32-byte SSID and a 64-byte password (18 groups, a packet
 * list every 3 s, where vector A's comes every 0.86 s).
 * Usage: bench_chansearch [runs per case (60)] [master seed (20261202)]
 * BENCH_CS_DEBUG=1 lists the runs above 1.5x on stderr, BENCH_CS_TRACE=1 also their timelines
 * (and the first two runs per case that never decoded); BENCH_CS_OLD=1 runs the front's cases
 * with the search of 2026-12-03 (v1 signals only, a v2 or AirKiss lock overriding it);
 * BENCH_CS_ONLY=a,b runs only the cases whose name contains a or b (each keeps its draws);
 * BENCH_CS_RUN=i lists (and with BENCH_CS_TRACE traces) run i of each case instead, whatever its
 * ratio; BENCH_CS_HOPS=1 adds every hop to the timelines; BENCH_CS_FRONT_MASK=m runs the front_*
 * cases with the protocol mask m (sc_proto_t; 5 = v1 and AirKiss: the same runs without v2);
 * BENCH_CS_DTIM_MS=n sets the *_dtim_* cases' DTIM interval (100 ms); BENCH_CS_DTIM_FLOOR=1
 * also reports, for the *_dtim_mid cases, the floor of a search that listens one whole DTIM
 * interval on every channel before the AP's (with relays only, a visit notices the sender only
 * when it overlaps a burst, so the floor above, one datagram slot per channel, is out of reach
 * of any search that does not know the burst's phase). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smartcfg/air.h"
#include "smartcfg/esptouch_rx.h"
#include "smartcfg/receiver.h"

#include "bench_util.h"

#define MAX_RUNS 1000
#define START_MAX_MS 30000u
#define SWITCH_MS 2u     /* a retune loses this much air (a typical driver's channel switch) */
#define NOISE_GAP_MS 15u /* foreign broadcasts on every channel */
#define HOP_AHEAD_MAX 3000u /* "start": the device has been hopping up to this long */
#define SLOT_MS 8u       /* the sender's datagram interval: the least a visit must listen to hear one */

static sc_air_t air;
static sc_et_rx_t rx;
/* v2 and AirKiss runs: the three-protocol front a device runs (sc_device_step), all protocols */
static sc_receiver_t front;
static int old_policy; /* BENCH_CS_OLD=1: the front's runs search as before (v1 signals only) */
static int v1_front;   /* the v1 "front_*" cases: v1 air through the front, as a device runs it */
static int long_creds; /* the v2long_* cases: a 32-byte SSID and a 64-byte password */
/* the front's protocols (0 = all built); the nov2_* cases: v1 and AirKiss, what the reference
 * ESP8266 device listens for (SC_TYPE_ESPTOUCH_AIRKISS) */
static unsigned front_protocols;
/* the DTIM interval of the *_dtim_* cases: 100 ms, or BENCH_CS_DTIM_MS (a real AP's beacon
 * interval is 102.4 ms, its DTIM period 1..3 of them) */
static unsigned dtim_ms = 100;

/* BENCH_CS_TRACE=1: the worst runs are replayed with a timeline on stderr (when the hopper
 * was on the AP's channel, the receiver's events, the sender's phase), to see where a run
 * lost its time. */
static int tracing;
static int false_locks; /* locks on foreign traffic while hopping (each costs the search time) */
static uint32_t trace_start; /* the air's time 0 in the sender's run (start_ms) */
static int trace_hops;       /* BENCH_CS_HOPS=1: the timeline lists every hop too */

static char phase_at(uint32_t air_ms)
{
    /* the reference sender: a 2 s guide phase at the start of every 6 s period */
    return (trace_start + air_ms) % 6000u < 2000u ? 'G' : 'D';
}

static uint64_t master;
static uint32_t draw(void) { return bench_draw(&master); }

static uint32_t noise_rng;
static uint32_t noise_next(void)
{
    noise_rng ^= noise_rng << 13;
    noise_rng ^= noise_rng >> 17;
    noise_rng ^= noise_rng << 5;
    return noise_rng;
}

/* A foreign group-addressed data frame on channel ch: some station's ARP/mDNS relayed by its
 * AP (one of a few senders per channel, so they form streams like a phone's would). */
static void noise_frame(sc_frame_t *f, uint8_t ch)
{
    uint32_t r = noise_next();
    memset(f, 0, sizeof *f);
    f->kind = SC_FRAME_80211;
    f->channel = ch;
    f->len = (uint16_t)(60 + noise_next() % 1440u);
    f->fc = (uint16_t)((2u << 2) | SC_FC_FROMDS | SC_FC_PROTECTED);
    memset(f->addr1, 0xff, 6);
    uint8_t bss[6] = { 0x02, 0xaa, ch, 0x00, 0x00, (uint8_t)(r & 1u) };
    memcpy(f->addr2, bss, 6);
    uint8_t sta[6] = { 0x02, 0xbb, ch, 0x00, 0x00, (uint8_t)(r >> 8 & 3u) };
    memcpy(f->addr3, sta, 6);
    f->seq_ctrl = (uint16_t)(noise_next() << 4);
}

/* The search step for the front's runs. Before (BENCH_CS_OLD=1, what sc_device_step did until
 * 2026-12-04): the search read the v1 decoder only and a v2 or AirKiss lock overrode its
 * answer. Now: sc_chansearch_step_rx reads all three. */
static uint8_t front_step(sc_chansearch_t *cs, uint32_t now, uint32_t *until)
{
    if (!old_policy)
        return sc_chansearch_step_rx(cs, &front, now, until);
    uint8_t ch = sc_chansearch_step(cs, sc_receiver_v1(&front), now, until);
    uint8_t other = sc_receiver_locked_channel(&front);
    if (other && !sc_et_rx_locked_channel(sc_receiver_v1(&front)))
        ch = other;
    return ch;
}

static int front_right(const sc_rx_result_t *r, const sc_air_config_t *c)
{
    return r->ssid_len == c->creds.ssid_len && r->password_len == c->creds.password_len && r->password_known &&
           !memcmp(r->ssid, c->creds.ssid, r->ssid_len) && !memcmp(r->password, c->creds.password, r->password_len);
}

/* Time (ms since the phone's start, or since the device's start with c->start_ms) to the
 * correct result; hopping over list when n > 0 (the hopper started ahead ms before the air's
 * time 0), else fixed on the AP's channel and deaf until late ms. UINT32_MAX when nothing
 * (correct) came before the capture ended. v1 air goes to the v1 decoder alone (the figures
 * since 2026-12-01), v2 and AirKiss air to the front. */
static uint32_t ttd(const sc_air_config_t *c, const uint8_t *list, size_t n, uint32_t ahead, uint32_t late,
                    int *wrong)
{
    int fr = c->protocol != SC_AIR_PROTO_V1 || v1_front;
    if (sc_air_init(&air, c) != SC_OK || (fr ? sc_receiver_init(&front, front_protocols) : sc_et_rx_init(&rx, NULL)) != SC_OK)
        return UINT32_MAX;
    noise_rng = c->seed | 1u;
    sc_chansearch_t cs;
    uint32_t until = 0, deaf_until = n ? 0 : late, noise_at = 0;
    uint8_t tuned = c->channel;
    uint32_t tuned_at = 0;
    if (n) {
        if (sc_chansearch_init(&cs, list, n, 0) != SC_OK)
            return UINT32_MAX;
        tuned = fr ? front_step(&cs, 0, &until) : sc_chansearch_step(&cs, &rx, 0, &until);
    }
    sc_frame_t f, nf;
    uint32_t t;
    sc_et_event_t ev;
    sc_rx_event_t fev;
    int have = sc_air_next(&air, &f, &t) == SC_OK;
    if (have)
        t += ahead;
    while (have) {
        /* the next thing to happen: a frame of the air, a foreign frame, or the hopper's deadline */
        int is_noise = (int32_t)(noise_at - t) < 0;
        uint32_t now = is_noise ? noise_at : t;
        if (n && (int32_t)(now - until) >= 0) {
            uint32_t at = until;
            uint8_t ch = fr ? front_step(&cs, at, &until) : sc_chansearch_step(&cs, &rx, at, &until);
            if (tracing && ch != tuned && (ch == c->channel || tuned == c->channel))
                fprintf(stderr, "  %6u %c %s AP channel\n", at - ahead, phase_at(at - ahead),
                        ch == c->channel ? "on " : "off");
            if (tracing && ch != tuned && trace_hops)
                fprintf(stderr, "  %6u   hop %u -> %u after %u ms\n", at - ahead, tuned, ch, at - tuned_at);
            if (ch != tuned) {
                if (tracing && at - tuned_at > 300u)
                    fprintf(stderr, "  %6u   stayed %u ms on ch %u\n", at - ahead, at - tuned_at, tuned);
                tuned_at = at;
                tuned = ch;
                deaf_until = at + SWITCH_MS;
            }
            if ((int32_t)(until - at) <= 0)
                until = at + 1;
            if ((fr ? sc_receiver_tick(&front, at) : sc_et_rx_tick(&rx, at, &ev)) == SC_ET_EV_UNLOCKED)
                until = at;
            continue;
        }
        /* the frame due now is fed at its own time: the air's next frame is read into f only
         * after f was copied (until 2026-12-04 f was overwritten first, so every air frame went
         * in with the time of the frame before it, the first not at all, and v1's stream clock
         * saw honest windows out of place) */
        sc_frame_t cur;
        const sc_frame_t *fp = &cur;
        if (is_noise) {
            noise_frame(&nf, tuned);
            fp = &nf;
            noise_at += NOISE_GAP_MS / 2u + noise_next() % NOISE_GAP_MS;
        } else {
            cur = f;
            have = sc_air_next(&air, &f, &t) == SC_OK;
            if (have)
                t += ahead;
        }
        if (fp->channel != tuned || (int32_t)(now - deaf_until) < 0)
            continue;
        sc_et_event_type_t et;
        int foreign_lock, right = 0;
        if (fr) {
            et = sc_receiver_feed(&front, fp, now, &fev);
            /* the front's events do not name the sender: a lock on another channel than the
             * AP's can only be foreign traffic */
            foreign_lock = fev.channel != c->channel;
            if (et == SC_ET_EV_DONE)
                right = front_right(&fev.result, c) &&
                        (c->protocol != SC_AIR_PROTO_V1 || bench_same_creds(&fev.result.v1.creds, &c->creds));
        } else {
            et = sc_et_rx_feed(&rx, fp, now, &ev);
            foreign_lock = memcmp(ev.sender, c->phone_mac, 6) != 0;
            if (et == SC_ET_EV_DONE)
                right = bench_same_creds(&ev.result.creds, &c->creds);
        }
        if (tracing && (et == SC_ET_EV_LOCKED || et == SC_ET_EV_UNLOCKED || et == SC_ET_EV_PROGRESS))
            fprintf(stderr, "  %6u %c %s ch %u known %u/%u%s\n", now - ahead, phase_at(now - ahead),
                    et == SC_ET_EV_LOCKED ? "LOCKED  " : et == SC_ET_EV_UNLOCKED ? "UNLOCKED" : "progress",
                    fp->channel, fr ? fev.known : ev.known, fr ? fev.needed : ev.needed,
                    fp->channel == c->channel ? "" : " (foreign)");
        if (et == SC_ET_EV_DONE) {
            if (right)
                return now - ahead;
            (*wrong)++;
            if (fr)
                (void)sc_receiver_resume(&front);
            else
                sc_et_rx_reset(&rx);
        }
        if (n && et == SC_ET_EV_LOCKED && foreign_lock)
            false_locks++;
        /* the port acts on a lock or an unlock at once, not at the next deadline */
        if (n && (et == SC_ET_EV_LOCKED || et == SC_ET_EV_UNLOCKED))
            until = now;
    }
    return UINT32_MAX;
}

/* BENCH_CS_ONLY: comma-separated parts of case names; unset = every case */
static int wanted(const char *name)
{
    const char *only = getenv("BENCH_CS_ONLY");
    if (!only)
        return 1;
    while (*only) {
        size_t k = strcspn(only, ",");
        for (const char *p = name; *p; p++)
            if (k && !strncmp(p, only, k))
                return 1;
        only += k + (only[k] == ',');
    }
    return 0;
}

static void measure(const char *name, const uint8_t *list, size_t n, int runs, int mid, int dtim,
                    sc_air_proto_t proto)
{
    static double ratio[MAX_RUNS];
    static double extra[MAX_RUNS];
    static double fl_ratio[MAX_RUNS]; /* the floor for a hopper / fixed */
    static double vs_floor[MAX_RUNS]; /* hopping / the floor for a hopper */
    static double fixed_ms[MAX_RUNS], hop_ms[MAX_RUNS]; /* absolute times: a decoder change that
                                                         * speeds up both moves the ratio either way */
    static double df_ratio[MAX_RUNS]; /* BENCH_CS_DTIM_FLOOR: the DTIM floor / fixed */
    int ok = 0, fails = 0, wrong = 0, within = 0, fl_within = 0, df_within = 0;
    const int dfloor = dtim && mid && getenv("BENCH_CS_DTIM_FLOOR");
    false_locks = 0;
    const int skip = !wanted(name); /* its runs still make their draws: the others keep theirs */
    for (int i = 0; i < runs; i++) {
        sc_air_config_t c;
        sc_air_config_default(&c);
        c.channel = list[draw() % n];
        c.start_ms = mid ? draw() % START_MAX_MS : 0;
        c.seed = draw();
        c.loss = 0.1;
        c.foreign = 1.0;
        c.protocol = proto;
        if (long_creds) {
            /* the longest SSID and a 64-byte password: v2 sends 18 groups, a list every 3 s */
            memset(c.creds.ssid, 'S', 32);
            c.creds.ssid_len = 32;
            memset(c.creds.password, 'p', 64);
            c.creds.password_len = 64;
        }
        if (dtim) {
            /* the device hears only the AP's relays, held for a DTIM beacon every 100 ms and
             * sent in a burst (a power-saving station on the AP; the phone on the other band) */
            c.uplink = 0;
            c.dtim_ms = dtim_ms;
        }
        uint32_t ahead = mid ? 0 : draw() % HOP_AHEAD_MAX;
        if (skip)
            continue;
        uint32_t fixed = ttd(&c, NULL, 0, 0, 0, &wrong);
        uint32_t hop = ttd(&c, list, n, ahead, 0, &wrong);
        if (fixed == UINT32_MAX)
            continue; /* not decodable even on the right channel: nothing to compare */
        if (hop == UINT32_MAX) {
            fails++;
            if (getenv("BENCH_CS_TRACE") && fails <= 2) {
                int w = 0;
                fprintf(stderr, "%s run %d ch %u start %u fixed %u: FAILED\n", name, i, c.channel, c.start_ms, fixed);
                tracing = 1;
                trace_start = c.start_ms;
                (void)ttd(&c, list, n, ahead, 0, &w);
                tracing = 0;
            }
            continue;
        }
        unsigned pos = 0;
        while (list[pos] != c.channel)
            pos++;
        /* The floor for a hopper ("mid"): a device that knows nothing of the AP's channel
         * reaches it at the earliest after listening one datagram slot on each channel before
         * it in the list (and retuning to each); from then on it is the fixed receiver. What it
         * could not hear before then, no search can recover. */
        uint32_t slot = proto == SC_AIR_PROTO_V2 ? 15u : proto == SC_AIR_PROTO_AIRKISS ? 5u : SLOT_MS;
        uint32_t late = mid ? pos * (slot + SWITCH_MS) : 0;
        uint32_t hfloor = mid ? ttd(&c, NULL, 0, 0, late, &wrong) : fixed;
        if (hfloor == UINT32_MAX || hfloor < fixed)
            hfloor = hfloor == UINT32_MAX ? hop : fixed;
        /* BENCH_CS_RUN=i: only run i, above 1.5x or not (the same run under two policies) */
        const char *only_run = getenv("BENCH_CS_RUN");
        if ((getenv("BENCH_CS_DEBUG") || getenv("BENCH_CS_TRACE")) &&
            (only_run ? atoi(only_run) == i : (double)hop > 1.5 * fixed)) {
            fprintf(stderr, "%s run %d ch %u (list position %u) start %u (phase %u) fixed %u floor %u hop %u\n",
                    name, i, c.channel, pos, c.start_ms, c.start_ms % 6000u, fixed, hfloor, hop);
            if (getenv("BENCH_CS_TRACE")) {
                int w = 0;
                tracing = 1;
                trace_start = c.start_ms;
                fprintf(stderr, " fixed:\n");
                (void)ttd(&c, NULL, 0, 0, 0, &w);
                fprintf(stderr, " hopping:\n");
                (void)ttd(&c, list, n, ahead, 0, &w);
                tracing = 0;
            }
        }
        if (dfloor) {
            /* one DTIM interval and a retune on every channel before the AP's */
            uint32_t df = ttd(&c, NULL, 0, 0, pos * (dtim_ms + SWITCH_MS), &wrong);
            if (df == UINT32_MAX || df < fixed)
                df = df == UINT32_MAX ? hop : fixed;
            df_ratio[ok] = (double)df / (double)(fixed ? fixed : 1);
            df_within += df_ratio[ok] <= 1.5;
        }
        ratio[ok] = (double)hop / (double)(fixed ? fixed : 1);
        within += ratio[ok] <= 1.5;
        fl_ratio[ok] = (double)hfloor / (double)(fixed ? fixed : 1);
        fl_within += fl_ratio[ok] <= 1.5;
        vs_floor[ok] = (double)hop / (double)(hfloor ? hfloor : 1);
        fixed_ms[ok] = (double)fixed;
        hop_ms[ok] = (double)hop;
        extra[ok++] = (double)hop - (double)fixed;
    }
    if (skip)
        return;
    qsort(ratio, (size_t)ok, sizeof ratio[0], bench_cmp_double);
    qsort(extra, (size_t)ok, sizeof extra[0], bench_cmp_double);
    qsort(fixed_ms, (size_t)ok, sizeof fixed_ms[0], bench_cmp_double);
    qsort(hop_ms, (size_t)ok, sizeof hop_ms[0], bench_cmp_double);
    qsort(fl_ratio, (size_t)ok, sizeof fl_ratio[0], bench_cmp_double);
    qsort(vs_floor, (size_t)ok, sizeof vs_floor[0], bench_cmp_double);
    printf("BENCH chansearch_%s_median %.2f x_fixed\n", name, ok ? ratio[ok / 2] : 0.0);
    printf("BENCH chansearch_%s_worst %.2f x_fixed\n", name, ok ? ratio[ok - 1] : 0.0);
    printf("BENCH chansearch_%s_extra_median %.0f ms\n", name, ok ? extra[ok / 2] : 0.0);
    printf("BENCH chansearch_%s_extra_worst %.0f ms\n", name, ok ? extra[ok - 1] : 0.0);
    printf("BENCH chansearch_%s_fixed_median_ms %.0f ms\n", name, ok ? fixed_ms[ok / 2] : 0.0);
    printf("BENCH chansearch_%s_hop_median_ms %.0f ms\n", name, ok ? hop_ms[ok / 2] : 0.0);
    printf("BENCH chansearch_%s_within_1_5x %.0f %%\n", name, ok ? 100.0 * within / ok : 0.0);
    if (mid) {
        printf("BENCH chansearch_%s_floor_median %.2f x_fixed\n", name, ok ? fl_ratio[ok / 2] : 0.0);
        printf("BENCH chansearch_%s_floor_worst %.2f x_fixed\n", name, ok ? fl_ratio[ok - 1] : 0.0);
        printf("BENCH chansearch_%s_floor_within_1_5x %.0f %%\n", name, ok ? 100.0 * fl_within / ok : 0.0);
        if (dfloor) {
            qsort(df_ratio, (size_t)ok, sizeof df_ratio[0], bench_cmp_double);
            printf("BENCH chansearch_%s_dtim_floor_median %.2f x_fixed\n", name, ok ? df_ratio[ok / 2] : 0.0);
            printf("BENCH chansearch_%s_dtim_floor_worst %.2f x_fixed\n", name, ok ? df_ratio[ok - 1] : 0.0);
            printf("BENCH chansearch_%s_dtim_floor_within_1_5x %.0f %%\n", name, ok ? 100.0 * df_within / ok : 0.0);
        }
        printf("BENCH chansearch_%s_vs_floor_median %.2f x_floor\n", name, ok ? vs_floor[ok / 2] : 0.0);
        printf("BENCH chansearch_%s_vs_floor_worst %.2f x_floor\n", name, ok ? vs_floor[ok - 1] : 0.0);
    }
    printf("BENCH chansearch_%s_failures %d count\n", name, fails);
    printf("BENCH chansearch_%s_wrong_results %d count\n", name, wrong);
    printf("BENCH chansearch_%s_foreign_locks %d count\n", name, false_locks);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 60;
    if (runs < 1 || runs > MAX_RUNS)
        runs = 60;
    master = argc > 2 ? strtoull(argv[2], NULL, 10) : 20261202u;
    if (master == 0)
        master = 1;
    uint8_t list24[13], dual[64];
    size_t n24 = 0, nd = 0;
    for (uint8_t ch = 1; ch <= 13; ch++)
        list24[n24++] = ch;
    for (uint8_t ch = 1; ch <= 11; ch++)
        dual[nd++] = ch;
    /* 5 GHz: UNII-1/2 36..64, UNII-2e 100..144, UNII-3 149..165 (20 MHz channels) */
    for (unsigned ch = 36; ch <= 165; ch += 4) {
        unsigned c5 = ch >= 148 ? ch + 1 : ch;
        if ((c5 > 64 && c5 < 100) || (c5 > 144 && c5 < 149) || c5 > 165)
            continue;
        dual[nd++] = (uint8_t)c5;
    }
    old_policy = getenv("BENCH_CS_OLD") != NULL;
    trace_hops = getenv("BENCH_CS_HOPS") != NULL;
    if (getenv("BENCH_CS_DTIM_MS") && atoi(getenv("BENCH_CS_DTIM_MS")) > 0)
        dtim_ms = (unsigned)atoi(getenv("BENCH_CS_DTIM_MS"));
    measure("2g_start", list24, n24, runs, 0, 0, SC_AIR_PROTO_V1);
    measure("dual_start", dual, nd, runs, 0, 0, SC_AIR_PROTO_V1);
    measure("2g_mid", list24, n24, runs, 1, 0, SC_AIR_PROTO_V1);
    measure("dual_mid", dual, nd, runs, 1, 0, SC_AIR_PROTO_V1);
    measure("2g_dtim_start", list24, n24, runs, 0, 1, SC_AIR_PROTO_V1);
    measure("dual_dtim_start", dual, nd, runs, 0, 1, SC_AIR_PROTO_V1);
    measure("2g_dtim_mid", list24, n24, runs, 1, 1, SC_AIR_PROTO_V1);
    measure("dual_dtim_mid", dual, nd, runs, 1, 1, SC_AIR_PROTO_V1);
    /* v1 air through the three-protocol front and sc_chansearch_step_rx (a device) */
    v1_front = 1;
    if (getenv("BENCH_CS_FRONT_MASK")) /* e.g. 5, v1 and AirKiss: the same runs without v2 */
        front_protocols = (unsigned)strtoul(getenv("BENCH_CS_FRONT_MASK"), NULL, 0);
    measure("front_2g_mid", list24, n24, runs, 1, 0, SC_AIR_PROTO_V1);
    measure("front_dual_mid", dual, nd, runs, 1, 0, SC_AIR_PROTO_V1);
    measure("front_dual_dtim_start", dual, nd, runs, 0, 1, SC_AIR_PROTO_V1);
    measure("front_dual_dtim_mid", dual, nd, runs, 1, 1, SC_AIR_PROTO_V1);
    v1_front = 0;
    front_protocols = 0;
    /* ESP-TOUCH v2 and AirKiss senders through the three-protocol front (uplink and relays) */
    measure("v2_2g_start", list24, n24, runs, 0, 0, SC_AIR_PROTO_V2);
    measure("v2_dual_start", dual, nd, runs, 0, 0, SC_AIR_PROTO_V2);
    measure("v2_2g_mid", list24, n24, runs, 1, 0, SC_AIR_PROTO_V2);
    measure("v2_dual_mid", dual, nd, runs, 1, 0, SC_AIR_PROTO_V2);
    measure("ak_2g_start", list24, n24, runs, 0, 0, SC_AIR_PROTO_AIRKISS);
    measure("ak_dual_start", dual, nd, runs, 0, 0, SC_AIR_PROTO_AIRKISS);
    measure("ak_2g_mid", list24, n24, runs, 1, 0, SC_AIR_PROTO_AIRKISS);
    measure("ak_dual_mid", dual, nd, runs, 1, 0, SC_AIR_PROTO_AIRKISS);
    /* v2 with long credentials (last, so the cases above keep their draws) */
    long_creds = 1;
    measure("v2long_2g_start", list24, n24, runs, 0, 0, SC_AIR_PROTO_V2);
    measure("v2long_2g_mid", list24, n24, runs, 1, 0, SC_AIR_PROTO_V2);
    measure("v2long_dual_mid", dual, nd, runs, 1, 0, SC_AIR_PROTO_V2);
    long_creds = 0;
    /* v1 and AirKiss air through a front without v2 (last, so the cases above keep their draws) */
    front_protocols = SC_PROTO_ESPTOUCH_V1 | SC_PROTO_AIRKISS;
    v1_front = 1;
    measure("nov2_front_2g_mid", list24, n24, runs, 1, 0, SC_AIR_PROTO_V1);
    measure("nov2_front_dual_mid", dual, nd, runs, 1, 0, SC_AIR_PROTO_V1);
    measure("nov2_front_dual_dtim_mid", dual, nd, runs, 1, 1, SC_AIR_PROTO_V1);
    v1_front = 0;
    measure("nov2_ak_dual_start", dual, nd, runs, 0, 0, SC_AIR_PROTO_AIRKISS);
    measure("nov2_ak_2g_mid", list24, n24, runs, 1, 0, SC_AIR_PROTO_AIRKISS);
    measure("nov2_ak_dual_mid", dual, nd, runs, 1, 0, SC_AIR_PROTO_AIRKISS);
    front_protocols = 0;
    printf("BENCH chansearch_dual_channels %zu count\n", nd);
    printf("BENCH chansearch_runs_per_list %d runs\n", runs);
    return 0;
}
