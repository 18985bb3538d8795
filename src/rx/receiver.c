/* SPDX-License-Identifier: Apache-2.0 */
/* Receiver front (receiver.h): the three decoders side by side on the same frames. Each keeps
 * its own bounded state, so a stream one of them cannot use costs the others nothing, and
 * hostile input aimed at one decoder can at most occupy that decoder's slots. A decoder whose
 * switch is off (features.h) is not referenced at all, so a firmware does not link it. */
#include <string.h>

#include "smartcfg/receiver.h"

#include "../common/outline.h"
#include "../common/state.h"
#if SMARTCFG_WITH_ESPTOUCH_V2
#include "../esptouch/v2_stream.h"
#endif
#if SMARTCFG_WITH_AIRKISS
#include "../airkiss/ak_stream.h"
#endif
#include "rxkey.h"

typedef struct {
    uint32_t run;                 /* RXF_RUN after sc_receiver_init (and a reset or a resume),
                                     RXF_SCAN while running for the channel search's glance,
                                     RXF_DONE after a result, anything else: never initialised.
                                     The decoders' keyed feeds test no init marker and no
                                     "done" of their own: this one word stands for theirs (a
                                     decoder's DONE is the front's, which then feeds none) */
    sc_et_rx_t v1;
#if SMARTCFG_WITH_ESPTOUCH_V2
    sc_et2_rx_t v2;
#endif
#if SMARTCFG_WITH_AIRKISS
    sc_ak_rx_t ak;
#endif
    /* which senders the stream decoders have streams for (rxkey.h), so that a frame neither can
     * use skips them whole; updated after every call that may open a stream and every tick */
    uint32_t senders;             /* v2's summary (sc_rxsum_t) in bits 0..15, AirKiss's in 16..31:
                                     the front reads both with one load */
    uint8_t protocols;            /* sc_proto_t mask, within SC_PROTO_BUILT */
    sc_rxsum_t ak_locked;         /* AirKiss's locked streams' senders (the rest are searching) */
#if SMARTCFG_WITH_ESPTOUCH_V2
    /* for the channel search with v2 (relay_scan): the newest uplink frame's sender (MAC bytes
     * 4..5) | the low 16 bits of its time << 16, and its length; when an AP last relayed such
     * a frame (the low 16 bits of the time | 1 | its channel << 16; 0: never) */
    uint32_t up, relayed;
    uint16_t up_len;
#endif
} rx_state_t;

/* Four equal bytes: a Thumb-2 compare takes them as an immediate (the run word is tested on
 * every frame; a literal load was one more instruction) */
#define RXF_RUN 0x52525252u
#define RXF_DONE 0x44444444u
/* running, and noting a station's broadcasts relayed by its AP for the channel search
 * (sc_receiver_scan, relay_scan); with v2 only */
#define RXF_SCAN 0x53535353u
/* initialised, running or done */
static int inited(const rx_state_t *r) { return r->run == RXF_RUN || r->run == RXF_DONE || r->run == RXF_SCAN; }

SC_STATE_FITS(rx_state_t, sc_receiver_t);
_Static_assert(sizeof(sc_receiver_t) <= SC_RECEIVER_BUDGET, "all three decoders together stay within 3 KiB");

static rx_state_t *S(sc_receiver_t *r) { return (rx_state_t *)(void *)r->opaque; }
static const rx_state_t *CS(const sc_receiver_t *r) { return (const rx_state_t *)(const void *)r->opaque; }

const char *sc_proto_name(sc_proto_t p)
{
    switch (p) {
    case SC_PROTO_ESPTOUCH_V1: return "esptouch-v1";
    case SC_PROTO_ESPTOUCH_V2: return "esptouch-v2";
    case SC_PROTO_AIRKISS: return "airkiss";
    default: return "none";
    }
}

sc_err_t sc_proto_parse(const char *list, unsigned *mask)
{
    if (!list || !mask)
        return SC_ERR_INVAL;
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        { "v1", SC_PROTO_ESPTOUCH_V1 }, { "esptouch-v1", SC_PROTO_ESPTOUCH_V1 }, { "esptouch", SC_PROTO_ESPTOUCH_V1 },
        { "v2", SC_PROTO_ESPTOUCH_V2 }, { "esptouch-v2", SC_PROTO_ESPTOUCH_V2 }, { "airkiss", SC_PROTO_AIRKISS },
        { "all", SC_PROTO_BUILT },
    };
    unsigned m = 0;
    const char *p = list;
    for (;;) {
        const char *e = p;
        while (*e && *e != ',')
            e++;
        size_t n = (size_t)(e - p), i;
        for (i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && !memcmp(names[i].name, p, n))
                break;
        if (i == sizeof names / sizeof names[0])
            return SC_ERR_INVAL;
        if (names[i].bit & ~(unsigned)SC_PROTO_BUILT)
            return SC_ERR_UNSUPPORTED; /* a known protocol this build left out */
        m |= names[i].bit;
        if (!*e)
            break;
        p = e + 1;
    }
    *mask = m;
    return m ? SC_OK : SC_ERR_INVAL;
}

sc_err_t sc_receiver_init_sized(sc_receiver_t *rs, size_t size, unsigned protocols)
{
    return size < sizeof(sc_receiver_t) ? SC_ERR_INVAL : (sc_receiver_init)(rs, protocols);
}

sc_err_t(sc_receiver_init)(sc_receiver_t *rs, unsigned protocols)
{
    if (!rs || (protocols & ~(unsigned)SC_PROTO_ALL))
        return SC_ERR_INVAL;
    if (protocols & ~(unsigned)SC_PROTO_BUILT)
        return SC_ERR_UNSUPPORTED;
    memset(rs, 0, sizeof *rs);
    rx_state_t *r = S(rs);
    r->protocols = (uint8_t)(protocols ? protocols : SC_PROTO_BUILT);
    sc_err_t err = sc_et_rx_init(&r->v1, NULL);
#if SMARTCFG_WITH_ESPTOUCH_V2
    if (!err)
        err = sc_et2_rx_init(&r->v2, NULL);
#endif
#if SMARTCFG_WITH_AIRKISS
    if (!err)
        err = sc_ak_rx_init(&r->ak, NULL);
#endif
    if (!err)
        r->run = RXF_RUN;
    return err;
}

void sc_receiver_set_v2_key(sc_receiver_t *r, const uint8_t *key16)
{
#if SMARTCFG_WITH_ESPTOUCH_V2
    sc_et2_rx_set_key(&S(r)->v2, key16);
#else
    (void)r, (void)key16; /* no v2 decoder to key */
#endif
}

/* The summaries read again from the decoders' tables (after a change of their streams other
 * than an opening, which the feed handles). */
static void senders_read(rx_state_t *r)
{
#if SMARTCFG_WITH_ESPTOUCH_V2
    r->senders = sc_et2_rx_senders(&r->v2);
#endif
#if SMARTCFG_WITH_AIRKISS
    r->senders = (r->senders & 0xFFFFu) | (uint32_t)sc_ak_rx_senders(&r->ak) << 16;
    r->ak_locked = sc_ak_rx_locked_senders(&r->ak);
#endif
    (void)r;
}

void sc_receiver_reset(sc_receiver_t *rs)
{
    rx_state_t *r = S(rs);
    if (!inited(r))
        return;
    sc_et_rx_reset(&r->v1);
#if SMARTCFG_WITH_ESPTOUCH_V2
    sc_et2_rx_reset(&r->v2);
#endif
#if SMARTCFG_WITH_AIRKISS
    sc_ak_rx_reset(&r->ak);
#endif
    senders_read(r);
    r->run = RXF_RUN;
}

sc_err_t sc_receiver_resume(sc_receiver_t *rs)
{
    rx_state_t *r = S(rs);
    if (r->run != RXF_DONE)
        return SC_ERR_STATE;
    /* only the decoder that finished has anything to forget */
    (void)sc_et_rx_resume(&r->v1);
#if SMARTCFG_WITH_ESPTOUCH_V2
    (void)sc_et2_rx_resume(&r->v2);
#endif
#if SMARTCFG_WITH_AIRKISS
    (void)sc_ak_rx_resume(&r->ak);
#endif
    senders_read(r);
    r->run = RXF_RUN;
    return SC_OK;
}

/* How much an event matters (DONE 4, LOCKED 3, UNLOCKED 2, PROGRESS 1, NONE 0), by the enum's
 * order: a table, smaller than the switch GCC -Os inlined into the three callers. */
SC_OUTLINE static int rank(sc_et_event_type_t t)
{
    _Static_assert(SC_ET_EV_NONE == 0 && SC_ET_EV_LOCKED == 1 && SC_ET_EV_PROGRESS == 2 && SC_ET_EV_DONE == 3 &&
                       SC_ET_EV_UNLOCKED == 4,
                   "rank's table follows sc_et_event_type_t");
    static const uint8_t r[] = { 0, 3, 1, 4, 2 };
    return (unsigned)t < sizeof r ? r[t] : 0;
}

static void from_v1(sc_rx_result_t *o, const sc_et_result_t *v)
{
    memset(o, 0, sizeof *o);
    o->proto = SC_PROTO_ESPTOUCH_V1;
    memcpy(o->ssid, v->creds.ssid, v->creds.ssid_len);
    o->ssid_len = v->creds.ssid_len;
    memcpy(o->password, v->creds.password, v->creds.password_len);
    o->password_len = v->creds.password_len;
    o->password_known = 1;
    memcpy(o->bssid, v->creds.bssid, SC_MAC_LEN);
    o->has_bssid = 1;
    memcpy(o->phone_ip, v->creds.phone_ip, 4);
    o->has_phone_ip = 1;
    o->ack_token = v->t;
    o->channel = v->channel;
    o->offset = v->offset;
    memcpy(o->sender, v->sender, SC_MAC_LEN);
    o->v1 = *v;
}

#if SMARTCFG_WITH_ESPTOUCH_V2
static void from_v2(sc_rx_result_t *o, const sc_et2_result_t *v)
{
    memset(o, 0, sizeof *o);
    o->proto = SC_PROTO_ESPTOUCH_V2;
    memcpy(o->ssid, v->ssid, v->ssid_len);
    o->ssid_len = v->ssid_len;
    memcpy(o->password, v->password, v->password_len);
    o->password_len = v->password_len;
    o->password_known = v->password_ok;
    memcpy(o->reserved, v->reserved, v->reserved_len);
    o->reserved_len = v->reserved_len;
    memcpy(o->bssid, v->bssid, SC_MAC_LEN);
    o->has_bssid = v->has_bssid;
    o->ack_token = v->port_mark;
    o->channel = v->channel;
    o->offset = v->offset;
    memcpy(o->sender, v->sender, SC_MAC_LEN);
}

#endif

#if SMARTCFG_WITH_AIRKISS
static void from_ak(sc_rx_result_t *o, const sc_ak_result_t *v)
{
    memset(o, 0, sizeof *o);
    o->proto = SC_PROTO_AIRKISS;
    memcpy(o->ssid, v->ssid, v->ssid_len);
    o->ssid_len = v->ssid_len;
    memcpy(o->password, v->password, v->password_len);
    o->password_len = v->password_len;
    o->password_known = 1;
    /* the phone sends no BSSID: the stream's AP is only a hint for joining */
    memcpy(o->bssid, v->bssid, SC_MAC_LEN);
    o->random = v->random;
    o->ack_token = v->random;
    o->channel = v->channel;
    o->offset = v->offset;
    memcpy(o->sender, v->sender, SC_MAC_LEN);
}
#endif

#if SMARTCFG_WITH_ESPTOUCH_V2
/* The frame is a plain frame of s, a searching v2 stream whose upper key word is the frame's
 * (v2_plain_len): then it is noted as the decoder would note it, and 1; else 0, nothing
 * changed, and the decoder gets the frame. Out of line: inlined, its registers cost the
 * front's other paths more than the call costs here (docs/m4.md, branch pf14). */
static SC_NOINLINE int v2_plain(v2_stream_t *s, const sc_rxkey_t *k, uint32_t now)
{
    /* the length first: a frame that is not plain leaves at once */
    if (!v2_plain_len(s, k->len, 0, SC_RX_OFFSET_MAX_DEFAULT) || (uint32_t)s->h.ks != (uint32_t)k->ks || s->h.kb != k->kb)
        return 0;
    v2_plain_note(s, k, now);
    return 1;
}
#endif

#if SMARTCFG_WITH_AIRKISS
/* The same for AirKiss (ak_plain_len). */
static SC_NOINLINE int ak_plain(ak_stream_t *s, const sc_rxkey_t *k, uint32_t now)
{
    if (!ak_plain_len(s, k->len) || (uint32_t)s->h.ks != (uint32_t)k->ks || s->h.kb != k->kb)
        return 0;
    ak_plain_note(s, k, now);
    return 1;
}
#endif

static void note(sc_rx_event_t *ev, int *best, sc_et_event_type_t t, sc_proto_t p, uint8_t ch, uint16_t off,
                 uint8_t known, uint8_t needed)
{
    if (rank(t) <= *best)
        return;
    *best = rank(t);
    ev->type = t;
    ev->proto = p;
    ev->channel = ch;
    ev->offset = off;
    ev->known = known;
    ev->needed = needed;
}

#if SMARTCFG_WITH_ESPTOUCH_V2
/* A station's broadcast and the AP's relay of it, for the channel search with v2 (RXF_SCAN,
 * docs/receiver.md §7): the front keeps the newest uplink frame (ToDS: the last two bytes of its
 * sender's MAC, its time and length), and a relay (FromDS) of a source with those two bytes,
 * within 4 ms of it and with a length within 16 of it (the two copies' overheads differ by a
 * QoS field, a cipher), marks the channel. One datagram of a phone shows it, where v2's
 * candidate traffic needs two, 15 ms apart; a station's other broadcasts show it as well, so it
 * is worth one look and no more (chansearch.c), and a rare match of two stations' last MAC
 * bytes costs at most that. Only while the search asks for it (sc_receiver_scan: a glance that
 * has not looked yet), the frame read here once more, out of the per-frame path: noting on
 * every frame cost the Cortex-M4 median 245 -> 261, this way nothing (docs/m4.md). */
static SC_NOINLINE void relay_scan(rx_state_t *r, const sc_frame_t *f, uint32_t now_ms)
{
    /* a group-addressed 802.11 data frame, uplink (ToDS: sender addr2, destination addr3) or
     * relay (FromDS: destination addr1, source addr3); read here rather than keyed (sc_rxkey),
     * whose second inlined copy cost more flash than the rest of this */
    unsigned dir = (f->fc >> 8) & 3u;
    if (f->kind != SC_FRAME_80211 || (f->fc & 0x0Cu) != 0x08u || dir - 1u > 1u ||
        !((dir == 1u ? f->addr3 : f->addr1)[0] & 1u))
        return;
    const uint8_t *src = dir == 1u ? f->addr2 : f->addr3;
    uint32_t mac = (uint32_t)src[4] | (uint32_t)src[5] << 8;
    if (dir == 1u) {
        r->up = mac | now_ms << 16;
        r->up_len = f->len;
    } else if (mac == (r->up & 0xFFFFu) && ((now_ms - (r->up >> 16)) & 0xFFFFu) <= 4u &&
               ((f->len - r->up_len + 16u) & 0xFFFFu) <= 32u) {
        r->relayed = (now_ms & 0xFFFFu) | 1u | (uint32_t)f->channel << 16;
    }
}

/* A SYNC's length: it may open a v2 stream (the front runs the decoder with its defaults). */
static int v2_opens(unsigned len) { return len - SC_ET2_SYNC <= SC_RX_OFFSET_MAX_DEFAULT; }
#endif
#if SMARTCFG_WITH_AIRKISS
/* A guide run's first length (O + 1): it may open an AirKiss stream. */
static int ak_opens(unsigned len) { return len - 1u < SC_RX_OFFSET_MAX_DEFAULT + 4u; }
#endif

/* v1's event, the first of the frame (out of line, as the others' below). Returns the front's
 * best rank. A front without v1 in its mask still feeds v1's decoder (sc_receiver_feed) and
 * drops its events here; a session v1 finished is forgotten at once, so that its tracker goes
 * on hearing. */
static SC_NOINLINE int v1_event(rx_state_t *r, sc_rx_event_t *ev, const sc_et_event_t *e)
{
    int best = 0;
    if (!(r->protocols & SC_PROTO_ESPTOUCH_V1)) {
        if (e->type == SC_ET_EV_DONE)
            (void)sc_et_rx_resume(&r->v1);
        return 0;
    }
    note(ev, &best, e->type, SC_PROTO_ESPTOUCH_V1, e->channel, e->offset, e->known, e->needed);
    if (e->type == SC_ET_EV_DONE)
        from_v1(&ev->result, &e->result);
    return best;
}

#if SMARTCFG_WITH_ESPTOUCH_V2
/* The v2 decoder's call and its event, out of line: the front's frame and registers stay those
 * of its common paths (most frames call no stream decoder; docs/m4.md, branch pf16). The
 * sender's summary bit is read here before the call (when clear, an opening length may have
 * added its stream; tested here, so that the front keeps neither an opening flag nor the bit
 * across its calls: the bit cost v2's plain frames a spill). Returns the front's new best
 * rank. */
static SC_NOINLINE int v2_call(rx_state_t *r, const sc_rxkey_t *key, uint32_t now_ms, sc_rx_event_t *ev, int best)
{
    sc_et2_result_t res;
    unsigned had = (r->senders >> sc_rxsum_idx(key->ks)) & 1u;
    sc_et_event_type_t t = sc_et2_rx_feed_key(&r->v2, key, now_ms, &res);
    /* Read the summary again only after an opening for a sender whose bit was clear: a
     * summary may hold more bits than the table has senders (a stream replaced by an
     * opening under an already set bit), which costs only a call that finds no stream; it
     * must never hold fewer. A stream's sender sends many lengths of the opening range
     * under its set bit, and each reading walked the table. */
    if (!had && v2_opens(key->len))
        r->senders = (r->senders & 0xFFFF0000u) | sc_et2_rx_senders(&r->v2);
    if (t != SC_ET_EV_NONE && rank(t) > best) {
        uint8_t k = 0, n = 0;
        sc_et2_rx_progress(&r->v2, &k, &n);
        /* the decoder gives the stream's overhead with LOCKED and DONE (its feed returns no
         * UNLOCKED); PROGRESS carries none, as v1's */
        note(ev, &best, t, SC_PROTO_ESPTOUCH_V2, key->channel, t == SC_ET_EV_PROGRESS ? 0u : res.offset, k, n);
        if (t == SC_ET_EV_DONE)
            from_v2(&ev->result, &res);
    }
    return best;
}
#endif

#if SMARTCFG_WITH_AIRKISS
/* The same for AirKiss. */
static SC_NOINLINE int ak_call(rx_state_t *r, const sc_rxkey_t *key, uint32_t now_ms, sc_rx_event_t *ev, int best,
                               unsigned had)
{
    sc_ak_result_t res;
    sc_et_event_type_t t = sc_ak_rx_feed_key(&r->ak, key, now_ms, &res);
    /* as for v2 (a v1 phone sends many lengths of the guide range, and its AirKiss stream
     * matches them under a set bit) */
    if (!had && ak_opens(key->len)) {
        r->senders = (r->senders & 0xFFFFu) | (uint32_t)sc_ak_rx_senders(&r->ak) << 16;
        r->ak_locked = sc_ak_rx_locked_senders(&r->ak); /* the opening may have replaced a lock */
    } else if (t == SC_ET_EV_LOCKED) {
        r->ak_locked = sc_ak_rx_locked_senders(&r->ak);
    }
    if (t != SC_ET_EV_NONE && rank(t) > best) {
        uint8_t k = 0, n = 0;
        sc_ak_rx_progress(&r->ak, &k, &n);
        /* the decoder gives the stream's overhead with LOCKED and DONE (its feed returns no
         * UNLOCKED); PROGRESS carries none, as v1's */
        note(ev, &best, t, SC_PROTO_AIRKISS, key->channel, t == SC_ET_EV_PROGRESS ? 0u : res.offset, k, n);
        if (t == SC_ET_EV_DONE)
            from_ak(&ev->result, &res);
    }
    return best;
}
#endif

SC_HOT_LAYOUT sc_et_event_type_t sc_receiver_feed(sc_receiver_t *rs, const sc_frame_t *f, uint32_t now_ms, sc_rx_event_t *ev)
{
    sc_rx_event_t local;
    if (!ev)
        ev = &local;
    ev->type = SC_ET_EV_NONE;
    ev->proto = SC_PROTO_NONE;
    if (!rs || !f || CS(rs)->run != RXF_RUN) {
#if SMARTCFG_WITH_ESPTOUCH_V2
        /* running, and noting broadcasts relayed for the channel search (out of this path) */
        if (rs && f && CS(rs)->run == RXF_SCAN)
            relay_scan(S(rs), f, now_ms);
        else
#endif
            return SC_ET_EV_NONE; /* done, or never initialised (nothing is fed) */
    }
    rx_state_t *r = S(rs);
    int best = 0;
    /* One keying of the frame for all three decoders (rxkey.h): it also takes a QoS frame's HT
     * Control field out (4 more header bytes, set per frame by the phone's rate control;
     * without them the frame is an ordinary QoS frame of the same stream). */
    sc_rxkey_t key;
    unsigned use = sc_rxkey(f, &key);
    /* v1's decoder is fed whatever the protocol mask says: its stream tracker is the channel
     * search's sensor for all three protocols (frames of ESP-TOUCH lengths heard, candidate
     * traffic, a v2 packet list's head; chansearch.c), and a front without v1 dropped it: a
     * device listening for v2 or AirKiss alone that hopped never stayed on its phone's channel
     * (test_search_each_protocol). Without v1 in the mask v1_event drops its events and the
     * search ignores its locks. The mask is read where it is tested: the v2 and AirKiss tests
     * are rarely reached, and a copy kept across v1's call took a stack slot on every frame. */
    unsigned v1_lock; /* the frame's v1 stream is locked (read for AirKiss) */
    {
        sc_et_event_t e;
        sc_et_ev_none(&e); /* v1's feeds leave it to their caller */
        v1_lock = (use & SC_RXKEY_V1) ? sc_et_rx_feed_key(&r->v1, &key, now_ms, &e)
                                      : sc_et_rx_feed_nokey(&r->v1, now_ms, &e);
        if (e.type != SC_ET_EV_NONE)
            best = v1_event(r, ev, &e);
    }
#if SMARTCFG_WITH_ESPTOUCH_V2 || SMARTCFG_WITH_AIRKISS
    /* the stream decoders count only the frames they can key */
    if (!use)
        goto out;
#endif
#if SMARTCFG_WITH_ESPTOUCH_V2 || SMARTCFG_WITH_AIRKISS
    /* A stream decoder finds no stream for a sender whose bit its summary lacks, and opens one
     * only for a length of its opening range (the front runs them with their default offsets):
     * any other frame it would only count, so it is not called (most frames are foreign). */
    /* The sender's bit of both summaries, as bits 0 and 16 of one word shifted by the bit's
     * index: one load, and no mask to build (two instructions fewer a keyed frame, docs/m4.md,
     * branch pf17). The length is read once for both opening tests (the key's copy was loaded
     * again for AirKiss's). */
    unsigned idx = sc_rxsum_idx(key.ks);
    uint32_t had = r->senders >> idx;
    unsigned len = key.len;
#endif
#if SMARTCFG_WITH_ESPTOUCH_V2
    unsigned v2_had = had & 1u;
    /* the protocol is tested last: most frames neither have a bit nor may open a stream; a set
     * bit is checked against the table's sender words (another sender's bit cost a call), and
     * a plain frame of a searching stream (most frames of the foreign senders' streams) is
     * noted without the decoder's call (v2_plain), a SYNC-range length too (the v1 phone sends
     * none, so its frames pay nothing for the found stream's checks; AirKiss below cannot) */
    v2_stream_t *v2s;
    if ((v2_had && (v2s = (v2_stream_t *)(void *)sc_rxtab_hi(r->v2.opaque, SC_RXTAB_V2_N, SC_RXTAB_V2_SIZE,
                                                              (uint32_t)(key.ks >> 32)))
             ? !v2_plain(v2s, &key, now_ms)
             : v2_opens(len)) &&
        (r->protocols & SC_PROTO_ESPTOUCH_V2)) {
        best = v2_call(r, &key, now_ms, ev, best);
    }
#endif
#if SMARTCFG_WITH_AIRKISS
    unsigned ak_had = had & 0x10000u;
    /* A frame of a sender v1 has locked on (an ESP-TOUCH v1 phone) is not given to a searching
     * AirKiss stream when it is outside the guide range and has a sequence number (docs/m4.md):
     * such a frame breaks any guide run through it, and so does the gap it leaves in the
     * stream's sequence numbers when it is not seen. The v1 phone's lengths fall in and out of
     * the guide range in turn, so it has AirKiss streams, and they took every one of its frames.
     * Frames without sequence numbers (no gap would show) and AirKiss's own locks (ak_locked, a
     * subset of ak_senders: a bit without a stream costs a call that finds none) get them all.
     * Tested in this order because most frames have no AirKiss stream (the protocol last, as
     * for v2). */
    ak_stream_t *aks;
    if ((ak_opens(len) || (ak_had && (!v1_lock || !key.has_seq || ((r->ak_locked >> idx) & 1u)) &&
                      (aks = (ak_stream_t *)(void *)sc_rxtab_hi(r->ak.opaque, SC_RXTAB_AK_N, SC_RXTAB_AK_SIZE,
                                                                (uint32_t)(key.ks >> 32))) &&
                      !ak_plain(aks, &key, now_ms))) && /* a plain frame of a searching stream: noted, as for
                                                         * v2, but not a length of the opening range, which the
                                                         * v1 phone's frames mostly have: their call stays as it was */
        (r->protocols & SC_PROTO_AIRKISS)) {
        best = ak_call(r, &key, now_ms, ev, best, ak_had);
    }
#endif
#if SMARTCFG_WITH_ESPTOUCH_V2 || SMARTCFG_WITH_AIRKISS
out:
#endif
    (void)v1_lock, (void)best; /* read by the stream decoders only, when built */
    if (ev->type == SC_ET_EV_DONE)
        r->run = RXF_DONE;
    return ev->type;
}

sc_et_event_type_t sc_receiver_tick(sc_receiver_t *rs, uint32_t now_ms)
{
    sc_et_event_type_t out = SC_ET_EV_NONE;
    if (!rs || (CS(rs)->run != RXF_RUN && CS(rs)->run != RXF_SCAN))
        return out;
    rx_state_t *r = S(rs);
    /* v1 is ticked whatever the mask says: it is fed so (sc_receiver_feed) */
    if (sc_et_rx_tick(&r->v1, now_ms, NULL) == SC_ET_EV_UNLOCKED && (r->protocols & SC_PROTO_ESPTOUCH_V1))
        out = SC_ET_EV_UNLOCKED;
#if SMARTCFG_WITH_ESPTOUCH_V2
    if ((r->protocols & SC_PROTO_ESPTOUCH_V2) && sc_et2_rx_tick(&r->v2, now_ms) == SC_ET_EV_UNLOCKED)
        out = SC_ET_EV_UNLOCKED;
#endif
#if SMARTCFG_WITH_AIRKISS
    if ((r->protocols & SC_PROTO_AIRKISS) && sc_ak_rx_tick(&r->ak, now_ms) == SC_ET_EV_UNLOCKED)
        out = SC_ET_EV_UNLOCKED;
#endif
    senders_read(r); /* expired locks freed their slots */
    return out;
}

uint8_t sc_receiver_locked_channel(const sc_receiver_t *rs)
{
    const rx_state_t *r = CS(rs);
    uint8_t ch = 0;
    if (r->protocols & SC_PROTO_ESPTOUCH_V1)
        ch = sc_et_rx_locked_channel(&r->v1);
#if SMARTCFG_WITH_ESPTOUCH_V2
    if (!ch && (r->protocols & SC_PROTO_ESPTOUCH_V2))
        ch = sc_et2_rx_locked_channel(&r->v2);
#endif
#if SMARTCFG_WITH_AIRKISS
    if (!ch && (r->protocols & SC_PROTO_AIRKISS))
        ch = sc_ak_rx_locked_channel(&r->ak);
#endif
    return ch;
}

sc_et_rx_t *sc_receiver_v1(sc_receiver_t *r) { return &S(r)->v1; }

unsigned sc_receiver_protocols(const sc_receiver_t *r) { return CS(r)->protocols; }

/* --- channel search signals (sc_chansearch_step_rx) ------------------------------------------
 * The v2 and AirKiss decoders' part of what the search reads; v1's it asks itself. */
int sc_receiver_stream_candidate(const sc_receiver_t *rs, uint8_t channel, uint32_t now_ms, uint32_t within_ms)
{
    int c = 0;
#if SMARTCFG_WITH_ESPTOUCH_V2
    if (CS(rs)->protocols & SC_PROTO_ESPTOUCH_V2)
        c = sc_et2_rx_candidate(&CS(rs)->v2, channel, now_ms, within_ms);
#endif
#if SMARTCFG_WITH_AIRKISS
    if (!c && (CS(rs)->protocols & SC_PROTO_AIRKISS))
        c = sc_ak_rx_candidate(&CS(rs)->ak, channel, now_ms, within_ms);
#endif
    (void)rs, (void)channel, (void)now_ms, (void)within_ms;
    return c;
}

int sc_receiver_relayed(const sc_receiver_t *rs, uint8_t channel, uint32_t now_ms, uint32_t within_ms)
{
#if SMARTCFG_WITH_ESPTOUCH_V2
    uint32_t m = rs && (CS(rs)->protocols & SC_PROTO_ESPTOUCH_V2) ? CS(rs)->relayed : 0u;
    return m && (m >> 16) == channel && ((now_ms - (m & 0xFFFEu)) & 0xFFFFu) <= within_ms + 1u;
#else
    (void)rs, (void)channel, (void)now_ms, (void)within_ms;
    return 0;
#endif
}

uint32_t sc_receiver_uplink_age(const sc_receiver_t *rs, uint32_t now_ms)
{
#if SMARTCFG_WITH_ESPTOUCH_V2
    uint32_t u = rs && (CS(rs)->protocols & SC_PROTO_ESPTOUCH_V2) ? CS(rs)->up : 0u;
    return u ? (now_ms - (u >> 16)) & 0xFFFFu : UINT32_MAX;
#else
    (void)rs, (void)now_ms;
    return UINT32_MAX;
#endif
}

void sc_receiver_scan(sc_receiver_t *rs, int on)
{
#if SMARTCFG_WITH_ESPTOUCH_V2
    rx_state_t *r = rs ? S(rs) : NULL;
    if (r && on && r->run == RXF_RUN && (r->protocols & SC_PROTO_ESPTOUCH_V2))
        r->run = RXF_SCAN;
    else if (r && !on && r->run == RXF_SCAN)
        r->run = RXF_RUN;
#else
    (void)rs, (void)on;
#endif
}
