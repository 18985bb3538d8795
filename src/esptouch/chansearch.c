/* SPDX-License-Identifier: Apache-2.0 */
/* Channel search policy shared by every port (docs/protocol/esptouch-v1.md#channel-search,
 * docs/receiver.md §7).
 *
 * The sender repeats a 2 s guide phase and a 4 s data phase, one datagram every 8 ms, and the
 * receiver locks on either (four guide frames, or three CRC-valid triplets). So a visit needs
 * only to *notice* a sender, and the time to reach the AP's channel is what a device that
 * starts mid-session loses (what it missed before comes back a round later, or after the next
 * guide phase). The first sweep therefore glances (half the dwell, 12 ms) at each channel and
 * stays longer only where a frame of an ESP-TOUCH length was heard (sc_et_rx_heard): until the
 * same transmitter's next datagram is due after the newest such frame (10 ms; 17 ms with a
 * front that decodes v2, whose datagrams are 15 ms apart, after the first sweep or an uplink
 * frame heard), enough for the two frames of one transmitter that make candidate traffic (a
 * guide step, two group frames at most two slots apart, or a CRC-valid triplet under some
 * offset). Later sweeps dwell on every channel, but with v2 they glance too (see visit_start).
 * Candidate traffic gets a longer look (103 ms, one beacon interval: a lock from either phase,
 * or the next DTIM burst of relays; a later sweep near a whole number of intervals is
 * stretched, sweep_end);
 * guide-less evidence (two triplets agreeing on an offset) up to four more looks. A lock holds
 * the radio only while guide frames or valid triplets keep supporting it
 * (sc_et_rx_pinned_channel), so a false lock on random traffic lets the search go on within
 * 400 ms instead of the lock's 2.5 s expiry.
 * sc_chansearch_step_rx reads the whole receiver front: a v2 or AirKiss lock pins too, their
 * candidate traffic gets the same look, and a look that did not lock while candidate traffic
 * went on gets more (up to SC_CHANSEARCH_MAX_LINGER): v2 locks only at the head of its packet
 * list and AirKiss only on its guide run, seconds apart, where a v1 sender locks in one look. */
#include <string.h>

#include "smartcfg/esptouch_rx.h"
#include "smartcfg/receiver.h"

#include "../common/outline.h"
#include "../common/state.h"

typedef struct {
    uint8_t channels[SC_CHANSEARCH_MAX_CHANNELS];
    uint8_t nchannels;
    uint8_t current;        /* index into channels */
    uint8_t locked_channel; /* nonzero: a supported lock holds the radio here */
    uint8_t started;
    uint8_t looked;         /* this visit already got its longer look */
    uint8_t full;           /* the glance of this visit is over (or it had none) */
    uint8_t extends;        /* extra looks granted on this visit */
    uint8_t swept;          /* the first sweep is over: visits no longer glance (but with v2) */
    uint8_t lingers;        /* looks added on this visit because candidate traffic went on */
    uint8_t v2;             /* the front decodes ESP-TOUCH v2: every sweep glances (visit_start) */
    uint8_t rewait;         /* after the first sweep: this visit may wait once more (waited_at) */
    uint32_t dwell_ms;      /* per-channel dwell while searching */
    uint32_t switch_at;     /* time of the next hop */
    uint32_t visit;         /* when this visit began */
    uint32_t waited_at;     /* when the glance's wait began */
    uint32_t sweep_at;      /* when this sweep began */
    uint8_t padded;         /* this sweep's last visit was already stretched (sweep_end) */
} cs_state_t;

SC_STATE_FITS(cs_state_t, sc_chansearch_t);

/* The glance: half the dwell (at least 1 ms), one datagram slot and the retune with margin at
 * the default dwell. */
#define CS_GLANCE_MS(dwell) (((dwell) + 1u) / 2u)

/* How long after a frame of an ESP-TOUCH length a v1-only glance waits for the same
 * transmitter's next datagram: the sender's 8 ms slot and 2 ms for its jitter. Counted from the
 * frame heard, so the retune is behind it. */
#define CS_NEXT_V1_MS 10u

/* The same for a front that decodes ESP-TOUCH v2: its sender's next datagram comes 13..17 ms
 * after one (15 ms and 2 ms of jitter), the slowest of the three protocols. */
#define CS_NEXT_V2_MS 17u

static cs_state_t *CS(sc_chansearch_t *cs) { return (cs_state_t *)(void *)cs->opaque; }

static inline int32_t since(uint32_t now, uint32_t then) { return sc_ms_diff(now, then); }

/* The 20 MHz channel numbers APs use: 2.4 GHz 1..14; 5 GHz 36..64 (UNII-1, -2A), 100..144
 * (UNII-2C), 149..165 (UNII-3) and 169..177 (UNII-4, the 5.8 GHz SRD band: where regulators
 * allow), each in steps of 4. Other numbers of 32..177 (32, 68..96, 99, 33) name no channel an
 * AP is on: a list holding one is refused rather than searched in vain. */
bool sc_chansearch_channel_valid(unsigned ch)
{
    if (ch <= 14)
        return ch >= 1;
    if (ch >= 36 && ch <= 144)
        return ch % 4 == 0 && !(ch > 64 && ch < 100);
    return ch >= 149 && ch <= 177 && ch % 4 == 1;
}

static const char *parse_num(const char *p, unsigned *out)
{
    unsigned v = 0, nd = 0;
    while (*p >= '0' && *p <= '9' && nd < 4) {
        v = v * 10 + (unsigned)(*p - '0');
        p++;
        nd++;
    }
    if (!nd || (*p >= '0' && *p <= '9'))
        return NULL;
    *out = v;
    return p;
}

size_t sc_chansearch_parse(const char *list, uint8_t *out, size_t cap)
{
    if (!list || !out || !*list)
        return 0;
    size_t n = 0;
    const char *p = list;
    for (;;) {
        unsigned lo, hi;
        p = parse_num(p, &lo);
        if (!p || !sc_chansearch_channel_valid(lo))
            return 0;
        hi = lo;
        if (*p == '-') {
            p = parse_num(p + 1, &hi);
            if (!p || !sc_chansearch_channel_valid(hi) || hi < lo)
                return 0;
        }
        for (unsigned ch = lo; ch <= hi; ch++) {
            if (!sc_chansearch_channel_valid(ch))
                continue;
            if (n == cap)
                return 0;
            out[n++] = (uint8_t)ch;
        }
        if (!*p)
            return n;
        if (*p != ',')
            return 0;
        p++;
    }
}

sc_err_t sc_chansearch_init(sc_chansearch_t *pub, const uint8_t *channels, size_t n, uint32_t dwell_ms)
{
    if (!pub)
        return SC_ERR_INVAL;
    memset(pub, 0, sizeof *pub);
    cs_state_t *cs = CS(pub);
    if (!channels) {
        for (uint8_t i = 0; i < 13; i++)
            cs->channels[i] = (uint8_t)(i + 1);
        cs->nchannels = 13;
    } else {
        if (n == 0 || n > sizeof cs->channels)
            return SC_ERR_RANGE;
        for (size_t i = 0; i < n; i++) {
            if (!sc_chansearch_channel_valid(channels[i]))
                return SC_ERR_INVAL;
            cs->channels[i] = channels[i];
        }
        cs->nchannels = (uint8_t)n;
    }
    cs->dwell_ms = dwell_ms ? dwell_ms : SC_CHANSEARCH_DWELL_MS;
    return SC_OK;
}

/* Starts a visit of the current channel at now_ms. On the first sweep, with a receiver to ask,
 * the visit begins with a glance (half the dwell): a sender's datagrams come every 8 ms in
 * either phase, so one of its frames normally arrives in that time, and the rest of the dwell
 * is spent only where one did (sc_et_rx_heard). The first sweep is what a device that starts
 * while a phone is already sending loses. Later sweeps dwell on every channel: with an AP that
 * holds its relays for a 100 ms DTIM beacon and sends them in bursts, glancing on every sweep
 * cost 5-10 points of bench_chansearch's dual-band DTIM figure (v1 alone), and a sweep of 13
 * glances (about two DTIM intervals) was traced coming back between the same two bursts for
 * seconds. A front that decodes v2 glances on every sweep (docs/receiver.md §7): a 24 ms dwell
 * holds two of v2's datagrams (15 ms apart) only about half the time, and candidate traffic
 * needs two; the glance's wait for the heard frame's successor gives it two, and the time the
 * glances save pays for that wait. The dual-band DTIM line with v2's front lost about 2 points
 * (100 ms DTIM only: a sweep of 36 x 24 ms steps the AP channel's visits 64 ms across that
 * period, and glances make the sweep's length vary; with 102, 205 or 307 ms it gained). */
SC_OUTLINE static uint8_t visit_start(cs_state_t *cs, int glance, uint32_t now_ms, uint32_t *until_ms)
{
    glance = glance && (!cs->swept || cs->v2);
    cs->extends = 0;
    cs->looked = 0;
    cs->lingers = 0;
    cs->rewait = 0;
    cs->full = (uint8_t)!glance;
    cs->visit = now_ms;
    cs->switch_at = now_ms + (glance ? CS_GLANCE_MS(cs->dwell_ms) : cs->dwell_ms);
    *until_ms = cs->switch_at;
    return cs->channels[cs->current];
}

/* An AP whose stations doze holds group-addressed frames for its DTIM beacon and relays them
 * in a burst of a few ms, one beacon interval (100 TU, 102.4 ms) or a few apart, and a device
 * that hears only those relays notices a sender only in a visit that overlaps a burst. Later
 * sweeps visit every channel in the same order, so a channel's visits step across the burst's
 * phase by the sweep's length modulo that interval: a 13-channel sweep of 24 ms dwells lasts
 * 312 ms, 4.8 ms past three intervals (12 ms past three of the bench's 100 ms), and a visit
 * covering about 26 ms of phase (22 ms heard after the retune, and a burst that began a few ms
 * earlier) then comes back 5 ms further each sweep: up to 16 sweeps (5 s) to meet the burst.
 * A sweep that ends within CS_PAD_NEAR of a whole number of intervals is therefore stretched,
 * on its last channel (listening on), to CS_PAD_STEP past one: a channel's visits then step
 * 22 ms (29 ms with 100 ms) and meet the burst within five sweeps. Other sweep lengths are left
 * alone: every fixed target loses somewhere (a dual-band sweep of 864 ms is 44.8 ms past eight
 * intervals of 102.4 and 64 past eight of 100; stretching it to 22 past nine measured worse at
 * 100 ms, and the bench's 102 ms puts it near half an interval, docs/receiver.md §8). In tenths
 * of a ms; the sweep's length is first taken modulo five intervals (512 ms), so the product
 * cannot overflow. */
#define CS_BEACON_DMS 1024u /* 100 TU */
#define CS_PAD_NEAR 140u    /* 14 ms */
#define CS_PAD_STEP 220u    /* 22 ms */

/* At the end of a sweep: the ms its last visit goes on (0: the next sweep begins now). */
static SC_OUTLINE uint32_t sweep_end(cs_state_t *cs, int glance, uint32_t now_ms)
{
    uint32_t ph = (now_ms - cs->sweep_at) % 512u * 10u % CS_BEACON_DMS;
    if (glance && cs->swept && !cs->padded && (ph < CS_PAD_NEAR || ph > CS_BEACON_DMS - CS_PAD_NEAR)) {
        cs->padded = 1;
        return (CS_PAD_STEP + CS_BEACON_DMS - ph) % CS_BEACON_DMS / 10u;
    }
    cs->swept = 1;
    cs->sweep_at = now_ms;
    cs->padded = 0;
    return 0;
}

/* glance: there is a receiver to ask (visit_start); without one the dwell stays fixed. */
static uint8_t hop(cs_state_t *cs, int glance, uint32_t now_ms, uint32_t *until_ms)
{
    uint8_t next = (uint8_t)(cs->current + 1u);
    if (next >= cs->nchannels) {
        uint32_t pad = sweep_end(cs, glance, now_ms);
        if (pad) {
            /* the last visit of the sweep goes on (a look may still follow) */
            cs->switch_at = now_ms + pad;
            *until_ms = cs->switch_at;
            return cs->channels[cs->current];
        }
        next = 0;
    }
    cs->current = next;
    return visit_start(cs, glance, now_ms, until_ms);
}

/* How many ms ago the newest frame of an ESP-TOUCH length came on channel ch. The walk is
 * bounded by the visit and the dwell, so a port that asks late does not pay for it: an older
 * frame counts as that old, and the wait after it is then over at once. */
static uint32_t newest_heard(const cs_state_t *cs, const sc_et_rx_t *rx, uint8_t ch, uint32_t now_ms, uint32_t visit)
{
    uint32_t d = 0;
    while (d <= visit && d < cs->dwell_ms && !sc_et_rx_heard(rx, ch, now_ms, d))
        d++;
    return d;
}

/* rx: the v1 decoder (NULL: no receiver to ask, fixed dwell); front: the three-protocol front
 * rx belongs to, or NULL for v1 alone. */
static uint8_t step(sc_chansearch_t *pub, const sc_et_rx_t *rx, const sc_receiver_t *front, uint32_t now_ms,
                    uint32_t *until_ms)
{
    uint32_t dummy;
    if (!until_ms)
        until_ms = &dummy;
    cs_state_t *cs = pub ? CS(pub) : NULL;
    if (!cs || cs->nchannels == 0) {
        *until_ms = now_ms + SC_CHANSEARCH_DWELL_MS;
        return 0;
    }
    if (cs->current >= cs->nchannels)
        cs->current = 0;
    /* (a build without v2, features.h, drops what only v2 needs) */
    cs->v2 = (uint8_t)(SMARTCFG_WITH_ESPTOUCH_V2 && front && (sc_receiver_protocols(front) & SC_PROTO_ESPTOUCH_V2));
    if (!cs->started) {
        cs->started = 1;
        cs->sweep_at = now_ms;
        return visit_start(cs, rx != NULL, now_ms, until_ms);
    }
    /* a front without v1 in its mask feeds v1's decoder all the same, as the search's sensor
     * (receiver.c): its locks then pin nothing and hold no look */
    int v1 = rx && (!front || (sc_receiver_protocols(front) & SC_PROTO_ESPTOUCH_V1));
    uint8_t lc = v1 ? sc_et_rx_pinned_channel(rx, now_ms) : 0;
    if (!lc && front && !(v1 && sc_et_rx_locked_channel(rx)))
        lc = sc_receiver_locked_channel(front); /* a v2 or AirKiss lock (they need frames of
                                                   their protocol's structure) pins until it expires */
    if (lc) {
        /* a supported lock pins the radio; re-ask one dwell later so an unlock (or a lock that
         * stopped being supported) is noticed quickly */
        cs->locked_channel = lc;
        for (uint8_t i = 0; i < cs->nchannels; i++)
            if (cs->channels[i] == lc)
                cs->current = i;
        cs->extends = 0;
        cs->switch_at = now_ms + cs->dwell_ms;
        *until_ms = cs->switch_at;
        return lc;
    }
    if (cs->locked_channel) {
        /* unlocked, or the lock lost its support: the sender stopped or the lock was false;
         * the channel was just searched thoroughly, so move on */
        cs->locked_channel = 0;
        return hop(cs, rx != NULL, now_ms, until_ms);
    }
    if (since(now_ms, cs->switch_at) < 0) {
        *until_ms = cs->switch_at;
        return cs->channels[cs->current];
    }
    uint8_t ch = cs->channels[cs->current];
    uint32_t visit = now_ms - cs->visit;
    int glancing = !cs->full;
    cs->full = 1; /* whatever follows, the glance is over */
    /* candidate traffic since the visit began, or in the last look once it had one */
    uint32_t w = visit < SC_CHANSEARCH_LOOK_MS ? visit + 1u : SC_CHANSEARCH_LOOK_MS;
    int cand = rx && (sc_et_rx_candidate(rx, ch, now_ms, w) ||
                      (front && sc_receiver_stream_candidate(front, ch, now_ms, w)));
    if (v1 && cs->extends < SC_CHANSEARCH_MAX_EXTEND && sc_et_rx_recent_activity(rx, ch, now_ms, visit + 1u)) {
        /* two triplets agree on an offset: a lock needs a third */
        cs->extends++;
        cs->rewait = 0;
        cs->switch_at = now_ms + SC_CHANSEARCH_LOOK_MS;
    } else if ((cand && (!cs->looked || (front && cs->lingers < SC_CHANSEARCH_MAX_LINGER && ++cs->lingers))) ||
               (!cs->looked && cs->v2 && sc_receiver_relayed(front, ch, now_ms, w))) {
        /* (With v2, a station's broadcast heard in both copies, its uplink and the AP's relay,
         * gets the first look too: one datagram of a v2 phone shows it, and v2's own candidate
         * traffic needs two, 15 ms apart, which a glance and its wait miss more often than not
         * (their lengths, planes 4..7, SYNC and COUNT, lie above v1's, so the glance may not even
         * wait). Any station's broadcast shows it as well, so it never lingers: the look goes on
         * only on candidate traffic. docs/receiver.md §8: v2 mid-session 1..13 73/71/73 ->
         * 88 %, dual-band 48/45/48 -> 65 % within 1.5x.) */
        /* Something like a sender (a v1 guide step or triplet, two v1-length frames of one
         * transmitter, the head of a v2 packet list, two AirKiss frames in a row): look long
         * enough for a v1 lock from either phase, and for the next burst of relays an AP holds
         * for its DTIM beacon (100 ms apart).
         * With the front (sc_chansearch_step_rx), a look that did not lock while candidate
         * traffic went on is followed by more: a v1 sender would have locked by then, so this is
         * likely a v2 sender between the heads of its packet lists (one every 0.3..7 s) or an
         * AirKiss one between its guide runs (every few seconds), and both lock only there.
         * Up to a cap that covers a whole v2 packet list (7.2 s; a list of 41 groups takes
         * 6.8 s), since the next head may be a list away: a foreign candidate costs at most that,
         * but only while candidate traffic keeps coming in every look. bench_chansearch, v2 runs
         * that never decoded in the sender's 45 s: 226..274 of 300 -> 0..1 (vector A, a list
         * every 0.86 s; a cap of 10 measured worse, 40 the same); with 18 groups (a 3 s list,
         * the v2long cases) the cap of 2.4 s left before the next head. */
        cs->looked = 1;
        cs->rewait = 0;
        cs->switch_at = now_ms + SC_CHANSEARCH_LOOK_MS;
    } else if (rx && ((glancing && sc_et_rx_heard(rx, ch, now_ms, visit + 1u)) ||
                      (cs->rewait && since(now_ms, cs->waited_at) > 0 &&
                       sc_et_rx_heard(rx, ch, now_ms, (uint32_t)since(now_ms, cs->waited_at))))) {
        /* The glance heard a frame of an ESP-TOUCH length: stay until the same transmitter's
         * next datagram is due after the newest such frame (the frame shows the radio listens,
         * so no retune margin is needed after it), long enough for two frames of one
         * transmitter a datagram apart (a candidate). */
        /* With v2 on the first sweep, v2's wait only after a station's uplink frame came in
         * this visit (below; a build without v2 drops it). */
        int v2_wait = SMARTCFG_WITH_ESPTOUCH_V2 && cs->v2 &&
                      (cs->swept || sc_receiver_uplink_age(front, now_ms) <= visit + 1u);
        uint32_t next = now_ms - newest_heard(cs, rx, ch, now_ms, visit) + (v2_wait ? CS_NEXT_V2_MS : CS_NEXT_V1_MS);
        if (v2_wait) {
            /* v2's datagrams are 15 ms apart: until 2026-12-05 the visit stayed the dwell
             * (24 ms) here, which missed the successor of a frame heard late in the glance,
             * and later sweeps did not glance at all (docs/receiver.md §8: v2 mid-session
             * 1..13 68/67/62 -> 81/80/80 % within 1.5x).
             * After the first sweep, a new such frame that came during this wait without
             * making candidate traffic gets one wait more (rewait): the wait may have been for
             * a foreign frame's successor and the new one the sender's. Not on the first sweep,
             * whose pace is what v1 through the front loses (front_dual_mid 81/80/80 ->
             * 79/78/76 % with it). */
            cs->switch_at = next;
            cs->rewait = (uint8_t)(cs->swept && glancing);
            cs->waited_at = now_ms;
        } else {
            /* v1 alone, or a front without v2 (v1 and AirKiss, what the reference ESP8266
             * device listens for): v1's 8 ms slot and 2 ms of jitter, at most the dwell. A
             * third of the glances hear a foreign frame of such a length, and staying the dwell
             * there was most of the first sweep's time beyond the floor's 10 ms per channel
             * (docs/receiver.md §8: dual-band mid-session 82-83 -> 86-88 % within 1.5x).
             * Since 2026-12-06 also the first sweep of a front with v2 unless an uplink frame
             * came: a v2 phone's datagram heard in both copies gets its look from
             * sc_receiver_relayed, and its uplink heard without the relay (lost) gets v2's wait
             * above, so what this wait leaves out is a v2 datagram heard as a relay alone
             * (its uplink lost, or the phone on another band), while foreign relays, most of
             * what a glance hears, no longer hold the first sweep 17 ms each (bench_chansearch
             * front_dual_mid 82/80/78 -> 87/84/86 % within 1.5x, v2's lines -3..+5 points, with
             * 1000 runs -1..+2; docs/receiver.md §8). */
            cs->switch_at = cs->visit + cs->dwell_ms;
            if (since(next, cs->switch_at) < 0)
                cs->switch_at = next;
        }
        if (since(cs->switch_at, now_ms) <= 0)
            return hop(cs, 1, now_ms, until_ms);
    } else if (SMARTCFG_WITH_ESPTOUCH_V2 && glancing && cs->v2 &&
               sc_receiver_uplink_age(front, now_ms) <= visit + 1u) {
        /* With v2, a glance that heard a station's uplink frame of any length, without its
         * relay (lost, or due after the glance: an AP relays within a few ms), waits until that
         * station's next v2 datagram is due after it: v2's planes 4..7, SYNC and COUNT lie above
         * v1's lengths (sc_et_rx_heard), so such a phone's datagram made no wait, and its relay
         * or its next datagram gets the look (sc_receiver_relayed, candidate traffic). A foreign
         * station's uplink is relayed too and gets that look as one heard earlier in the glance
         * does (since 2026-12-06; docs/receiver.md §8: v2 mid-session dual-band 66/70/66 ->
         * 69/73/67 % within 1.5x). */
        cs->switch_at = now_ms - sc_receiver_uplink_age(front, now_ms) + CS_NEXT_V2_MS;
        if (since(cs->switch_at, now_ms) <= 0)
            return hop(cs, 1, now_ms, until_ms);
    } else {
        return hop(cs, rx != NULL, now_ms, until_ms);
    }
    *until_ms = cs->switch_at;
    return ch;
}

uint8_t sc_chansearch_step(sc_chansearch_t *pub, const sc_et_rx_t *rx, uint32_t now_ms, uint32_t *until_ms)
{
    return step(pub, rx, NULL, now_ms, until_ms);
}

uint8_t sc_chansearch_step_rx(sc_chansearch_t *pub, const sc_receiver_t *r, uint32_t now_ms, uint32_t *until_ms)
{
    /* sc_receiver_v1 hands out the decoder for writing too; the search only reads it */
    uint8_t ch = step(pub, r ? sc_receiver_v1((sc_receiver_t *)(uintptr_t)r) : NULL, r, now_ms, until_ms);
#if SMARTCFG_WITH_ESPTOUCH_V2
    /* The front notes a station's broadcasts relayed by its AP (sc_receiver_relayed, the first
     * look of a glance with v2) only while a visit has not looked and no lock holds the radio,
     * so a device's other frames pay nothing for it (docs/receiver.md §7): the search's one
     * write to the front, which it otherwise only reads. */
    const cs_state_t *cs = pub ? CS(pub) : NULL;
    if (r && cs)
        sc_receiver_scan((sc_receiver_t *)(uintptr_t)r, cs->v2 && !cs->looked && !cs->locked_channel);
#endif
    return ch;
}
