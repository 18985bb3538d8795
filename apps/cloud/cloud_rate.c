/* SPDX-License-Identifier: Apache-2.0 */
/* Token buckets per key in a set-associative table of fixed size: see cloud_rate.h. */
#include "cloud_rate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char key[CLOUD_RATE_KEY_MAX];   /* "" free */
    double tokens;
    int64_t last_ms;
} rate_entry_t;

struct cloud_rate {
    double rate, burst;
    size_t mask;   /* sets - 1 */
    uint64_t seed;
    rate_entry_t *e;   /* sets * CLOUD_RATE_WAYS */
};

cloud_rate_t *cloud_rate_new(double rate, double burst, size_t sets, uint64_t seed)
{
    if (!sets || (sets & (sets - 1)) || burst < 1.0 || rate <= 0.0)
        return NULL;
    cloud_rate_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->e = calloc(sets * CLOUD_RATE_WAYS, sizeof *r->e);
    if (!r->e) {
        free(r);
        return NULL;
    }
    r->rate = rate;
    r->burst = burst;
    r->mask = sets - 1;
    r->seed = seed;
    return r;
}

/* FNV-1a over the seed's bytes then the key's, and a final mix so the low bits (the set) depend
 * on every byte. Not a keyed MAC: the seed only keeps sets from being chosen by name from outside,
 * and the broker lets only registered devices publish anyway. */
static uint64_t hash(uint64_t seed, const char *key)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (int i = 0; i < 8; i++) {
        h ^= (seed >> (8 * i)) & 0xff;
        h *= 0x100000001b3u;
    }
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return h;
}

/* The tokens e's bucket holds at now_ms (a free entry: more than any bucket). */
static double tokens_at(const cloud_rate_t *r, const rate_entry_t *e, int64_t now_ms)
{
    if (!e->key[0])
        return r->burst + 1.0;
    double t = e->tokens + (now_ms > e->last_ms ? (double)(now_ms - e->last_ms) * r->rate / 1000.0 : 0.0);
    return t > r->burst ? r->burst : t;
}

bool cloud_rate_allow(cloud_rate_t *r, const char *key, int64_t now_ms)
{
    char k[CLOUD_RATE_KEY_MAX];
    snprintf(k, sizeof k, "%s", key);
    rate_entry_t *set = &r->e[(hash(r->seed, k) & r->mask) * CLOUD_RATE_WAYS], *b = NULL, *fullest = NULL;
    double most = -1.0;
    for (size_t i = 0; i < CLOUD_RATE_WAYS && !b; i++) {
        if (set[i].key[0] && !strcmp(set[i].key, k)) {
            b = &set[i];
        } else {
            double t = tokens_at(r, &set[i], now_ms);
            if (t > most || (t == most && set[i].last_ms < fullest->last_ms)) {
                most = t;
                fullest = &set[i];
            }
        }
    }
    if (!b) {   /* a free entry if any, else the fullest bucket (at the burst: nothing is lost) */
        b = fullest;
        memcpy(b->key, k, sizeof k);
        b->tokens = r->burst;
        b->last_ms = now_ms;
    }
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * r->rate / 1000.0;
        b->last_ms = now_ms;
    }
    if (b->tokens > r->burst)   /* also after cloud_rate_set made the bucket smaller */
        b->tokens = r->burst;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

bool cloud_rate_set(cloud_rate_t *r, double rate, double burst)
{
    if (burst < 1.0 || rate <= 0.0)
        return false;
    r->rate = rate;
    r->burst = burst;
    return true;
}

static void credit(cloud_rate_t *r, double tokens)
{
    if (!(tokens > 0.0))
        return;
    for (size_t i = 0; i <= r->mask; i++)
        for (size_t w = 0; w < CLOUD_RATE_WAYS; w++) {
            rate_entry_t *e = &r->e[i * CLOUD_RATE_WAYS + w];
            if (e->key[0])   /* a free entry starts full anyway; the burst caps it at the next take */
                e->tokens = e->tokens + tokens > r->burst ? r->burst : e->tokens + tokens;
        }
}

size_t cloud_rate_entries(const cloud_rate_t *r)
{
    return (r->mask + 1) * CLOUD_RATE_WAYS;
}

void cloud_rate_free(cloud_rate_t *r)
{
    if (!r)
        return;
    free(r->e);
    free(r);
}

void cloud_rate_share(double rate, double burst, unsigned n, double *part_rate, double *part_burst)
{
    if (n <= 1) {
        *part_rate = rate;
        *part_burst = burst;
        return;
    }
    double b = burst / n + 3.0 * sqrt(burst);
    *part_rate = rate / n;
    *part_burst = b > burst ? burst : b < 1.0 ? 1.0 : b;
}

void cloud_rate_reshare(cloud_rate_t *r, double rate, double burst, unsigned n_old, unsigned n, int64_t since_ms)
{
    double ro, bo, rn, bn;
    cloud_rate_share(rate, burst, n_old, &ro, &bo);
    cloud_rate_share(rate, burst, n, &rn, &bn);
    cloud_rate_set(r, rn, bn);
    if (n && n < n_old)
        credit(r, bn - bo + (rn - ro) * (double)(since_ms > 0 ? since_ms : 0) / 1000.0);
}
