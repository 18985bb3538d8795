/* SPDX-License-Identifier: Apache-2.0 */
/* Time to decode on simulated air, relative to the floor (sc_air_floor_ms: the air time until
 * every datum index has been sent once after the capture started). Each run picks a random
 * seed and a random capture start inside the sender's run (so captures begin in guide and
 * in data phases alike), feeds the receiver every frame and stops at the first correct
 * result. Reports per loss level the median and worst ratio and the success rate, the median
 * with a scan list holding the AP, and the worst ratio of starts inside a data phase; then
 * the hard cases of one link only (uplink copies, no relay) with a 64-byte password.
 * ESP-TOUCH v2 and AirKiss have no schedule floor yet (sc_air_floor_ms models v1's triplets):
 * for them each lossy capture is measured against the same capture (same start, same seed)
 * on clean air, through the three-protocol front (x_clean), and the clean time in ms is given.
 * Usage: bench_ttd [runs per level (60)] [master seed (20261125)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smartcfg/air.h"
#include "smartcfg/esptouch_rx.h"
#include "smartcfg/receiver.h"

#include "bench_util.h"

#define MAX_RUNS 1000
#define START_MAX_MS 30000u /* leaves >= 15 s (2.5 periods) of sending after any start */

static sc_air_t air;
static sc_et_rx_t rx;

static uint64_t master;
static uint32_t draw(void) { return bench_draw(&master); }

/* One capture: returns the ratio time-to-decode / floor, or a negative value on failure
 * (no correct result before the capture ends). */
enum { CASE_PW64 = 1, CASE_UPLINK_ONLY = 2 };

/* The loss floor: the air time until both nibble frames of every byte 0..T-1 have been received
 * at least once, in any copy and any round (the BSSID comes from the header). A receiver that
 * never guesses cannot finish earlier, except for the few bytes the CRCs and the XOR give. Each
 * received frame is mapped to its datagram by time: every copy of a datagram is on the air
 * within 4 ms of the datagram's due time, and datagrams are 8 ms apart. */
#define MAX_DGRAMS 8192
static uint32_t dg_at[MAX_DGRAMS];
static uint16_t dg_cursor[MAX_DGRAMS]; /* 0xffff: guide */
static size_t ndg;
static sc_et_encoder_t enc;
static uint8_t seen[128];
static unsigned seen_missing;

static void loss_floor_init(const sc_air_config_t *c)
{
    sc_et_sched_t sched;
    sc_et_dgram_t d;
    ndg = 0;
    if (sc_et_encode(&enc, &c->creds) != SC_OK || sc_et_sched_init(&sched, &enc, NULL) != SC_OK)
        return;
    uint32_t prev = 0;
    while (ndg < MAX_DGRAMS && sc_et_sched_next(&sched, prev, &d) == SC_OK) {
        prev = d.at_ms;
        dg_at[ndg] = d.at_ms;
        dg_cursor[ndg++] = d.is_guide ? 0xffffu : d.cursor;
    }
    memset(seen, 0, sizeof seen);
    seen_missing = 2u * enc.t;
}

/* Returns 1 when this frame completed the loss floor. */
static int loss_floor_frame(uint32_t t_abs)
{
    size_t lo = 0, hi = ndg;
    while (hi - lo > 1) { /* last datagram due at or before t_abs */
        size_t mid = (lo + hi) / 2;
        if (dg_at[mid] <= t_abs)
            lo = mid;
        else
            hi = mid;
    }
    if (!ndg || dg_at[lo] > t_abs || dg_cursor[lo] == 0xffffu || !seen_missing)
        return 0;
    unsigned pos = dg_cursor[lo] % 3u, idx = enc.order[dg_cursor[lo] / 3u].index;
    if (pos == 1 || idx >= enc.t || (seen[idx] & (pos ? 2u : 1u)))
        return 0;
    seen[idx] |= pos ? 2u : 1u;
    return --seen_missing == 0;
}

static double run_one(double loss, uint32_t start_ms, uint32_t seed, int with_scan, int *wrong, unsigned flags,
                      double *vs_loss_floor)
{
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.loss = loss;
    if (flags & CASE_PW64) {
        static const char pw[] = "0123456789abcdef0123456789ABCDEF-a-64-byte-WPA-passphrase-:-)+=/";
        _Static_assert(sizeof pw - 1 == 64, "a 64-byte password");
        memcpy(c.creds.password, pw, 64);
        c.creds.password_len = 64;
    }
    if (flags & CASE_UPLINK_ONLY)
        c.downlink = 0;
    c.start_ms = start_ms;
    c.seed = seed;
    uint32_t fl = sc_air_floor_ms(&c);
    if (fl == UINT32_MAX || fl == 0 || sc_air_init(&air, &c) != SC_OK)
        return -2.0;
    if (sc_et_rx_init(&rx, NULL) != SC_OK)
        return -3.0;
    if (with_scan) {
        sc_scan_entry_t e;
        memset(&e, 0, sizeof e);
        memcpy(e.ssid, c.creds.ssid, c.creds.ssid_len);
        e.ssid_len = c.creds.ssid_len;
        memcpy(e.bssid, c.creds.bssid, 6);
        e.channel = c.channel;
        e.rssi = -40;
        sc_et_rx_set_scan(&rx, &e, 1);
    }
    sc_frame_t f;
    uint32_t t, done = 0, lfl = 0;
    sc_et_event_t ev;
    loss_floor_init(&c);
    while ((!done || !lfl) && sc_air_next(&air, &f, &t) == SC_OK) {
        if (!lfl && loss_floor_frame(t + start_ms))
            lfl = t ? t : 1;
        if (done || sc_et_rx_feed(&rx, &f, t, &ev) != SC_ET_EV_DONE)
            continue;
        if (bench_same_creds(&ev.result.creds, &c.creds)) {
            done = t ? t : 1;
            continue;
        }
        (*wrong)++;
        sc_et_rx_reset(&rx);
    }
    if (!done)
        return -1.0;
    if (vs_loss_floor)
        *vs_loss_floor = lfl ? (double)done / (double)lfl : 0.0; /* 0: the air never held it all */
    return (double)done / (double)fl;
}

typedef struct {
    double ratio[MAX_RUNS];
    int n, ok, wrong;
    double data_worst; /* worst ratio among starts inside a data phase */
    double lf_worst;   /* worst ratio to the loss floor */
} level_t;

static void measure(level_t *L, double loss, int runs, int with_scan, unsigned flags)
{
    memset(L, 0, sizeof *L);
    for (int i = 0; i < runs; i++) {
        uint32_t start = draw() % START_MAX_MS;
        uint32_t seed = draw();
        double lf = 0.0;
        double r = run_one(loss, start, seed, with_scan, &L->wrong, flags, &lf);
        if (r <= -3.0) {
            fprintf(stderr, "bench_ttd: the receiver is not available (link stub?)\n");
            L->n = runs;
            return;
        }
        L->n++;
        if (r < 0)
            continue;
        L->ratio[L->ok++] = r;
        if (lf > L->lf_worst)
            L->lf_worst = lf;
        if (getenv("BENCH_TTD_DEBUG") && lf > 1.2) /* runs far from the loss floor, to study */
            fprintf(stderr, "loss %.2f flags %u run %d start %u seed %u: %.2f x floor, %.2f x loss floor\n", loss,
                    flags, i, start, seed, r, lf);
        if (start % 6000u >= 2000u && r > L->data_worst)
            L->data_worst = r;
    }
    qsort(L->ratio, (size_t)L->ok, sizeof L->ratio[0], bench_cmp_double);
}

/* v2 / AirKiss: ms until the front returns the right credentials, 0 if never; counts wrong
 * results. */
static sc_receiver_t front;
static uint32_t front_ttd(sc_air_proto_t proto, double loss, uint32_t start_ms, uint32_t seed, int *wrong)
{
    sc_air_config_t c;
    sc_air_config_default(&c);
    c.protocol = proto;
    c.loss = loss;
    c.start_ms = start_ms;
    c.seed = seed;
    if (sc_air_init(&air, &c) != SC_OK || sc_receiver_init(&front, 0) != SC_OK)
        return 0;
    sc_frame_t f;
    uint32_t t;
    sc_rx_event_t ev;
    while (sc_air_next(&air, &f, &t) == SC_OK) {
        if (sc_receiver_feed(&front, &f, t, &ev) != SC_ET_EV_DONE)
            continue;
        const sc_rx_result_t *r = &ev.result;
        if (r->ssid_len == c.creds.ssid_len && r->password_len == c.creds.password_len && r->password_known &&
            !memcmp(r->ssid, c.creds.ssid, r->ssid_len) && !memcmp(r->password, c.creds.password, r->password_len))
            return t ? t : 1;
        (*wrong)++;
        sc_receiver_resume(&front);
    }
    return 0;
}

static void measure_front(sc_air_proto_t proto, const char *name, int runs)
{
    static double clean[MAX_RUNS], ratio[3][MAX_RUNS];
    static const double loss[3] = { 0.0, 0.1, 0.3 };
    int nclean = 0, n[3] = { 0, 0, 0 }, wrong = 0, tried = 0;
    for (int i = 0; i < runs; i++) {
        uint32_t start = draw() % START_MAX_MS, seed = draw();
        uint32_t t0 = front_ttd(proto, 0.0, start, seed, &wrong);
        tried++;
        if (!t0)
            continue;
        clean[nclean++] = t0;
        for (int k = 1; k < 3; k++) {
            uint32_t t = front_ttd(proto, loss[k], start, seed, &wrong);
            if (t)
                ratio[k][n[k]++] = (double)t / (double)t0;
        }
    }
    qsort(clean, (size_t)nclean, sizeof clean[0], bench_cmp_double);
    printf("BENCH ttd_%s_clean_median %.0f ms\n", name, nclean ? clean[nclean / 2] : 0.0);
    printf("BENCH ttd_%s_clean_worst %.0f ms\n", name, nclean ? clean[nclean - 1] : 0.0);
    printf("BENCH ttd_%s_clean_success %.0f %%\n", name, 100.0 * nclean / (tried ? tried : 1));
    for (int k = 1; k < 3; k++) {
        qsort(ratio[k], (size_t)n[k], sizeof ratio[k][0], bench_cmp_double);
        printf("BENCH ttd_%s_loss%.0f_median %.2f x_clean\n", name, loss[k] * 100, n[k] ? ratio[k][n[k] / 2] : 0.0);
        printf("BENCH ttd_%s_loss%.0f_worst %.2f x_clean\n", name, loss[k] * 100, n[k] ? ratio[k][n[k] - 1] : 0.0);
        printf("BENCH ttd_%s_loss%.0f_success %.0f %%\n", name, loss[k] * 100, 100.0 * n[k] / (nclean ? nclean : 1));
    }
    if (wrong)
        printf("BENCH ttd_%s_wrong_results %d count\n", name, wrong);
}

static double median(const level_t *L) { return L->ok ? L->ratio[L->ok / 2] : 0.0; }
static double worst(const level_t *L) { return L->ok ? L->ratio[L->ok - 1] : 0.0; }

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 60;
    if (runs < 1 || runs > MAX_RUNS)
        runs = 60;
    master = argc > 2 ? strtoull(argv[2], NULL, 10) : 20261125u;
    if (master == 0)
        master = 1;
    static const struct { double loss; const char *name; unsigned flags; } levels[] = {
        { 0.0, "loss0", 0 }, { 0.1, "loss10", 0 }, { 0.3, "loss30", 0 }
    };
    static level_t L;
    double data_worst_clean = 0.0;
    for (size_t k = 0; k < sizeof levels / sizeof levels[0]; k++) {
        measure(&L, levels[k].loss, runs, 0, levels[k].flags);
        printf("BENCH ttd_%s_median %.2f x_floor\n", levels[k].name, median(&L));
        printf("BENCH ttd_%s_worst %.2f x_floor\n", levels[k].name, worst(&L));
        printf("BENCH ttd_%s_success %.0f %%\n", levels[k].name, 100.0 * L.ok / (L.n ? L.n : 1));
        if (levels[k].loss > 0.0)
            printf("BENCH ttd_%s_worst_vs_loss_floor %.2f x\n", levels[k].name, L.lf_worst);
        if (L.wrong)
            printf("BENCH ttd_%s_wrong_results %d count\n", levels[k].name, L.wrong);
        if (k == 0)
            data_worst_clean = L.data_worst;
    }
    measure(&L, 0.0, runs, 1, 0);
    printf("BENCH ttd_scan_median %.2f x_floor\n", median(&L));
    printf("BENCH ttd_scan_success %.0f %%\n", 100.0 * L.ok / (L.n ? L.n : 1));
    /* a dedicated set of starts inside data phases (clean air) for the worst case */
    double dw = data_worst_clean;
    int fails = 0, wrong = 0;
    for (int i = 0; i < runs; i++) {
        uint32_t period = draw() % (START_MAX_MS / 6000u);
        uint32_t start = period * 6000u + 2000u + draw() % 4000u;
        double r = run_one(0.0, start, draw(), 0, &wrong, 0, NULL);
        if (r <= -3.0)
            break;
        if (r < 0)
            fails++;
        else if (r > dw)
            dw = r;
    }
    printf("BENCH ttd_datastart_worst %.2f x_floor\n", dw);
    printf("BENCH ttd_datastart_failures %d count\n", fails);
    /* one link only (a sniffer that hears the phone but not the AP), 64-byte password */
    static const struct { double loss; const char *name; } hard[] = { { 0.05, "pw64_uplink_loss5" },
                                                                      { 0.3, "pw64_uplink_loss30" } };
    for (size_t k = 0; k < sizeof hard / sizeof hard[0]; k++) {
        measure(&L, hard[k].loss, runs, 0, CASE_PW64 | CASE_UPLINK_ONLY);
        printf("BENCH ttd_%s_median %.2f x_floor\n", hard[k].name, median(&L));
        printf("BENCH ttd_%s_worst %.2f x_floor\n", hard[k].name, worst(&L));
        printf("BENCH ttd_%s_success %.0f %%\n", hard[k].name, 100.0 * L.ok / (L.n ? L.n : 1));
        printf("BENCH ttd_%s_worst_vs_loss_floor %.2f x\n", hard[k].name, L.lf_worst);
        if (L.wrong)
            printf("BENCH ttd_%s_wrong_results %d count\n", hard[k].name, L.wrong);
    }
    measure_front(SC_AIR_PROTO_V2, "v2", runs);
    measure_front(SC_AIR_PROTO_AIRKISS, "airkiss", runs);
    printf("BENCH ttd_runs_per_level %d runs\n", runs);
    return 0;
}
