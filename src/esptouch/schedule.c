/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "smartcfg/esptouch.h"

sc_err_t sc_et_sched_init(sc_et_sched_t *s, const sc_et_encoder_t *enc, const sc_et_timing_t *timing)
{
    static const sc_et_timing_t ref = SC_ET_TIMING_DEFAULT;
    if (!s || !enc || enc->cycle_len == 0)
        return SC_ERR_INVAL;
    memset(s, 0, sizeof *s);
    s->enc = enc;
    s->timing = timing ? *timing : ref;
    if (s->timing.gap_ms == 0 || s->timing.guide_ms >= s->timing.period_ms)
        return SC_ERR_INVAL;
    return SC_OK;
}

/* Starts a new guide burst or data triplet at time now, as the reference loop decides at the
 * top of each iteration (docs/protocol/esptouch-v1.md#timing). */
static sc_err_t start_group(sc_et_sched_t *s, uint32_t now)
{
    const sc_et_timing_t *t = &s->timing;
    if (now > t->window_ms)
        return SC_ERR_DONE;
    if (s->group_is_guide && s->started && now - s->guide_start < t->guide_ms) {
        /* still inside the guide phase: another burst */
    } else if (!s->started || now - s->guide_start >= t->period_ms) {
        s->started = 1;
        s->guide_start = now;
        s->group_is_guide = 1;
    } else {
        s->group_is_guide = 0;
    }
    s->pos = 0;
    s->group++;
    return SC_OK;
}

sc_err_t sc_et_sched_next(sc_et_sched_t *s, uint32_t sent_prev_ms, sc_et_dgram_t *out)
{
    uint32_t now = s->sent ? sent_prev_ms + s->timing.gap_ms : 0;
    if (s->sent && now < s->next_at)
        now = s->next_at;
    if (s->pos == 0) {
        sc_err_t err = start_group(s, now);
        if (err)
            return err;
    }
    memset(out, 0, sizeof *out);
    out->at_ms = now;
    out->is_guide = s->group_is_guide;
    out->pos = s->pos;
    out->group = s->group - 1;
    if (s->group_is_guide) {
        out->len = (uint16_t)(SC_ET_GUIDE_BASE + 3 - s->pos);
    } else {
        out->cursor = s->cursor;
        out->len = s->enc->cycle[s->cursor];
        s->cursor = (uint16_t)((s->cursor + 1) % s->enc->cycle_len);
    }
    s->pos++;
    if ((s->group_is_guide && s->pos >= 4) || (!s->group_is_guide && s->pos >= 3))
        s->pos = 0;
    s->next_at = now;
    s->sent++;
    return SC_OK;
}
