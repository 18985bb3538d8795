/* SPDX-License-Identifier: Apache-2.0 */
/* Per-key token buckets in a table of fixed size (cloud_rate.c): the per-device limit of the
 * IoT Explorer topics (cloud_thing.c, docs/cloud.md "Limits"). The table never grows: a key
 * hashes (with a per-table random seed) to one set of CLOUD_RATE_WAYS entries; a key not in its
 * set takes the entry there whose bucket is fullest now (ties: the one idle the longest) and
 * starts with a full bucket. Forgetting a key whose bucket had refilled loses nothing; otherwise
 * it only ever lets that key through, never refuses a device wrongly; and a key that emptied its
 * bucket (a flooder) is the last one its set forgets. One thread at a time (no lock). */
#ifndef SMARTCFG_APPS_CLOUD_RATE_H
#define SMARTCFG_APPS_CLOUD_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLOUD_RATE_WAYS 8
#define CLOUD_RATE_KEY_MAX 120   /* "<P>/<D>": 64 + 1 + 48 and the NUL fit */

typedef struct cloud_rate cloud_rate_t;
/* rate: tokens a second; burst: the bucket's size (>= 1); sets: a power of two (entries =
 * sets * CLOUD_RATE_WAYS, allocated once here); seed: the hash's random seed. NULL: no memory. */
cloud_rate_t *cloud_rate_new(double rate, double burst, size_t sets, uint64_t seed);
/* Takes a token of key's bucket at now_ms (monotonic): true, or false when it is empty. A key
 * of CLOUD_RATE_KEY_MAX bytes or more is cut (two keys alike that far share a bucket). */
bool cloud_rate_allow(cloud_rate_t *r, const char *key, int64_t now_ms);
/* New rate and burst (as cloud_rate_new's) for every bucket from now on: a bucket holding more
 * than the new burst is cut to it. false (nothing changed) when they are out of range. */
bool cloud_rate_set(cloud_rate_t *r, double rate, double burst);
size_t cloud_rate_entries(const cloud_rate_t *r);
/* One worker's part of a limit the whole cluster enforces (docs/cloud.md "Limits"): with n
 * workers sharing the devices' messages round-robin (n 0 or 1: unknown or alone, the whole
 * limit), the rate is rate/n, so n workers hold a flooder to rate in total, and the burst
 * burst/n + 3 sqrt(burst) (at most burst, at least 1): a device's messages are split between
 * the workers about evenly but not exactly (at random, by the other devices' messages between
 * its own), and the slack, over 3 standard deviations of a worker's share of a burst, also
 * absorbs the drift of its share of a steady stream (tests/unit/test_cloud_rate.c). */
void cloud_rate_share(double rate, double burst, unsigned n, double *part_rate, double *part_burst);
/* The count of workers went from n_old to n (0: unknown): r is set to the new part
 * (cloud_rate_share of rate and burst, as cloud_rate_set). When workers left (0 < n < n_old),
 * a device's messages that went to them come here now, and this worker's buckets, filled at
 * the old part's rate and capped at its burst meanwhile, would refuse a device under its limit
 * until they caught up (F52): each bucket (at most the new burst) also gets the leavers' part,
 * the new burst less the old and the new rate less the old over since_ms, the time since the
 * count that still said n_old (the leave came after it, so the refill that was missed is at
 * most that). When workers joined, the part is smaller and nothing is taken back: a bucket over
 * the new burst is cut to it. */
void cloud_rate_reshare(cloud_rate_t *r, double rate, double burst, unsigned n_old, unsigned n, int64_t since_ms);
void cloud_rate_free(cloud_rate_t *r);

#endif
