/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "rxkey.h"

#include "../common/state.h"

/* every stream starts with sc_rxhdr_t (a uint64_t first): 4-byte aligned, its size a multiple
 * of 4, as sc_zero_words needs */
_Static_assert(_Alignof(sc_rxhdr_t) >= 4 && sizeof(sc_rxhdr_t) % 4u == 0, "streams are cleared a word at a time");

/* --- stream tables (rxkey.h) ---------------------------------------------------------- */
static sc_rxhdr_t *at(const sc_rxtab_t *t, unsigned i) { return (sc_rxhdr_t *)(void *)((char *)t->st + i * t->size); }

sc_rxhdr_t *sc_rxtab_open(const sc_rxtab_t *t, const sc_rxkey_t *k, uint32_t now)
{
    sc_rxhdr_t *victim = sc_rxtab_victim(t->st, t->n, t->size, t->search_quiet_ms, t->grace_ms, t->idle_unlock_ms, now);
    if (!victim)
        return NULL;
    sc_zero_words(victim, t->size);
    sc_rxhdr_claim(victim, k, now);
    return victim;
}

int sc_rxtab_expire(const sc_rxtab_t *t, uint32_t now)
{
    int freed = 0;
    for (unsigned i = 0; i < t->n; i++) {
        sc_rxhdr_t *h = at(t, i);
        if (h->state == SC_RXS_LOCKED && sc_ms_diff(now, h->last_ms) >= (int32_t)t->idle_unlock_ms) {
            sc_zero_words(h, t->size);
            freed = 1;
        }
    }
    return freed;
}

uint8_t sc_rxtab_locked_channel(const sc_rxtab_t *t)
{
    for (unsigned i = 0; i < t->n; i++)
        if (at(t, i)->state == SC_RXS_LOCKED)
            return at(t, i)->channel;
    return 0;
}
