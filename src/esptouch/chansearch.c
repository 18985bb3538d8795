/* SPDX-License-Identifier: Apache-2.0 */
/* Channel search policy shared by every port (docs/protocol/esptouch-v1.md#channel-search, docs/receiver.md): hop
 * through the list with a fixed dwell; stay while the receiver holds a lock; linger a few
 * dwells where guide-less evidence shows up; after an unlock resume with the next channel. */
#include <string.h>

#include "smartcfg/esptouch_rx.h"

#include "../common/state.h"

typedef struct {
    uint8_t channels[16];
    uint8_t nchannels;
    uint8_t current;          /* index into channels */
    uint8_t locked_channel;   /* nonzero: stay here */
    uint8_t started;          /* the first step ran */
    uint32_t dwell_ms;        /* per-channel dwell while searching */
    uint32_t switch_at;       /* time of the next hop */
    uint32_t extends;         /* extra dwells granted on this visit */
} cs_state_t;
SC_STATE_FITS(cs_state_t, sc_chansearch_t);

static inline int32_t since(uint32_t now, uint32_t then) { return sc_ms_diff(now, then); }

sc_err_t sc_chansearch_init(sc_chansearch_t *pub, const uint8_t *channels, size_t n, uint32_t dwell_ms)
{
    if (!pub)
        return SC_ERR_INVAL;
    cs_state_t *cs = (cs_state_t *)(void *)pub->opaque;
    memset(cs, 0, sizeof *cs);
    if (!channels) {
        for (uint8_t i = 0; i < 13; i++)
            cs->channels[i] = (uint8_t)(i + 1);
        cs->nchannels = 13;
    } else {
        if (n == 0 || n > sizeof cs->channels)
            return SC_ERR_RANGE;
        for (size_t i = 0; i < n; i++) {
            if (channels[i] == 0)
                return SC_ERR_INVAL;
            cs->channels[i] = channels[i];
        }
        cs->nchannels = (uint8_t)n;
    }
    cs->dwell_ms = dwell_ms ? dwell_ms : SC_CHANSEARCH_DWELL_MS;
    return SC_OK;
}

uint8_t sc_chansearch_step(sc_chansearch_t *pub, const sc_et_rx_t *rx, uint32_t now_ms, uint32_t *until_ms)
{
    cs_state_t *cs = pub ? (cs_state_t *)(void *)pub->opaque : NULL;
    uint32_t dummy;
    if (!until_ms)
        until_ms = &dummy;
    if (!cs || cs->nchannels == 0) {
        *until_ms = now_ms + SC_CHANSEARCH_DWELL_MS;
        return 0;
    }
    if (cs->current >= cs->nchannels)
        cs->current = 0;
    if (!cs->started) {
        cs->started = 1;
        cs->extends = 0;
        cs->switch_at = now_ms + cs->dwell_ms;
        *until_ms = cs->switch_at;
        return cs->channels[cs->current];
    }
    uint8_t lc = rx ? sc_et_rx_locked_channel(rx) : 0;
    if (lc) {
        /* a lock pins the radio; re-ask one dwell later so an unlock is noticed quickly */
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
        /* unlocked: the sender stopped or the lock was false; the channel was just searched
         * thoroughly, so move on */
        cs->locked_channel = 0;
        cs->extends = 0;
        cs->current = (uint8_t)((cs->current + 1) % cs->nchannels);
        cs->switch_at = now_ms + cs->dwell_ms;
        *until_ms = cs->switch_at;
        return cs->channels[cs->current];
    }
    if (since(now_ms, cs->switch_at) < 0) {
        *until_ms = cs->switch_at;
        return cs->channels[cs->current];
    }
    uint8_t ch = cs->channels[cs->current];
    if (rx && cs->extends < SC_CHANSEARCH_MAX_EXTEND &&
        sc_et_rx_recent_activity(rx, ch, now_ms, cs->dwell_ms)) {
        cs->extends++;
    } else {
        cs->extends = 0;
        cs->current = (uint8_t)((cs->current + 1) % cs->nchannels);
    }
    cs->switch_at = now_ms + cs->dwell_ms;
    *until_ms = cs->switch_at;
    return cs->channels[cs->current];
}
