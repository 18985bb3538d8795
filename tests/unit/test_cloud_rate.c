/* SPDX-License-Identifier: Apache-2.0 */
/* The per-device limit of the cloud's IoT Explorer topics (apps/cloud/cloud_rate.c): a burst
 * then the steady rate, keys apart, time never running backwards into tokens, and a table that
 * stays its size under a flood of distinct keys while the key sending now keeps its bucket; the
 * limit shared by several workers (cloud_rate_share, F28): a flooder held to about the limit in
 * total, a device under it served whole, however the queue splits its messages at random, also
 * when a worker leaves (F52, cloud_rate_reshare); a worker that joins gives a flooder one burst. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../apps/cloud/cloud_rate.c"

static int allowed(cloud_rate_t *r, const char *key, int64_t now, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += cloud_rate_allow(r, key, now);
    return ok;
}

static void test_burst_then_rate(void **state)
{
    (void)state;
    cloud_rate_t *r = cloud_rate_new(30.0, 60.0, 16, 1);
    assert_non_null(r);
    assert_int_equal(allowed(r, "P/dev1", 1000, 100), 60);   /* the burst */
    assert_int_equal(allowed(r, "P/dev1", 1100, 100), 3);    /* 100 ms at 30 a second */
    assert_int_equal(allowed(r, "P/dev1", 2100, 100), 30);   /* a second */
    assert_int_equal(allowed(r, "P/dev1", 999999, 100), 60); /* idle: back to the burst, no more */
    /* a clock read twice out of order adds nothing */
    assert_int_equal(allowed(r, "P/dev1", 999000, 100), 0);
    assert_int_equal(allowed(r, "P/dev1", 999999, 100), 0);
    /* a real device well under the limit (a report a second) is never refused */
    for (int64_t t = 2000000; t < 2600000; t += 1000)
        assert_true(cloud_rate_allow(r, "P/dev2", t));
    cloud_rate_free(r);
}

static void test_keys_apart(void **state)
{
    (void)state;
    cloud_rate_t *r = cloud_rate_new(1.0, 5.0, 1024, 42);
    assert_int_equal(allowed(r, "P/flood", 0, 1000), 5);
    assert_int_equal(allowed(r, "P/quiet", 0, 3), 3);        /* another device is not charged */
    assert_int_equal(allowed(r, "Q/flood", 0, 10), 5);       /* nor the same name in another product */
    assert_int_equal(allowed(r, "P/flood", 10, 10), 0);
    cloud_rate_free(r);
}

static void test_bounded(void **state)
{
    (void)state;
    cloud_rate_t *r = cloud_rate_new(0.001, 4.0, 4, 7);   /* 32 entries; ~no refill in the test */
    assert_int_equal(cloud_rate_entries(r), 4 * CLOUD_RATE_WAYS);
    assert_int_equal(allowed(r, "P/flood", 0, 10), 4);
    /* 100 000 distinct names, the flooder sending between each: every new name starts with a
     * full bucket, the table keeps its 32 entries, and the flooder (always the most recent in
     * its set) is never forgotten, so never refilled by being forgotten. */
    char key[64];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "P/d%06d", i);
        assert_true(cloud_rate_allow(r, key, 1 + i));
        assert_false(cloud_rate_allow(r, "P/flood", 1 + i));
    }
    assert_int_equal(cloud_rate_entries(r), 4 * CLOUD_RATE_WAYS);
    cloud_rate_free(r);
}

static void test_forgotten_is_let_through(void **state)
{
    (void)state;
    cloud_rate_t *r = cloud_rate_new(0.001, 2.0, 1, 3);   /* one set of 8 */
    assert_int_equal(allowed(r, "P/a", 0, 1), 1);         /* one token left */
    char key[32];
    for (int i = 0; i < CLOUD_RATE_WAYS; i++) {   /* 8 names that empty their buckets: the 8th */
        snprintf(key, sizeof key, "P/n%d", i);    /* pushes out the fullest, P/a */
        assert_int_equal(allowed(r, key, 10 + i, 5), 2);
    }
    assert_int_equal(allowed(r, "P/a", 100, 5), 2);   /* forgotten: a fresh bucket, never a refusal */
    /* it took the fullest entry then (n0's, refilled the longest), and it emptied its bucket:
     * new names now push out others, never P/a, which stays limited */
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "P/x%d", i);
        assert_true(cloud_rate_allow(r, key, 200 + i));
        assert_false(cloud_rate_allow(r, "P/a", 200 + i));
    }
    cloud_rate_free(r);
}

static void test_bad_arguments_and_long_keys(void **state)
{
    (void)state;
    assert_null(cloud_rate_new(1.0, 1.0, 3, 0));     /* not a power of two */
    assert_null(cloud_rate_new(1.0, 1.0, 0, 0));
    assert_null(cloud_rate_new(1.0, 0.5, 4, 0));     /* a bucket that never holds a token */
    assert_null(cloud_rate_new(0.0, 1.0, 4, 0));
    cloud_rate_free(NULL);
    cloud_rate_t *r = cloud_rate_new(1.0, 1.0, 4, 0);
    char a[300], b[300];
    memset(a, 'x', sizeof a - 1);
    a[sizeof a - 1] = 0;
    memcpy(b, a, sizeof b);
    b[250] = 'y';   /* differs past CLOUD_RATE_KEY_MAX: the same (cut) key */
    assert_true(cloud_rate_allow(r, a, 0));
    assert_false(cloud_rate_allow(r, b, 0));
    cloud_rate_free(r);
}

static void test_share(void **state)
{
    (void)state;
    double r, b;
    cloud_rate_share(30, 60, 0, &r, &b);   /* unknown: the whole limit */
    assert_true(r == 30 && b == 60);
    cloud_rate_share(30, 60, 1, &r, &b);
    assert_true(r == 30 && b == 60);
    cloud_rate_share(30, 60, 2, &r, &b);   /* 15, 30 + 3 sqrt(60) */
    assert_true(r == 15 && b > 53.2 && b < 53.3);
    cloud_rate_share(30, 60, 100, &r, &b);
    assert_true(r > 0.29 && r < 0.31 && b > 23.8 && b < 23.9);
    cloud_rate_share(1, 2, 2, &r, &b);     /* never more than the burst */
    assert_true(r == 0.5 && b == 2);
    cloud_rate_t *q = cloud_rate_new(30, 60, 16, 1);
    assert_int_equal(allowed(q, "P/d", 1000, 10), 10);    /* 50 left */
    assert_true(cloud_rate_set(q, 15, 20));
    assert_int_equal(allowed(q, "P/d", 1000, 100), 20);   /* cut to the new burst */
    assert_int_equal(allowed(q, "P/d", 2000, 100), 15);   /* the new rate */
    assert_false(cloud_rate_set(q, 0, 20));
    assert_false(cloud_rate_set(q, 1, 0.5));
    cloud_rate_free(q);
}

/* n workers, each with its part of the limit (30 a second, bursts of 60), the messages of all
 * devices given to them as a queue's round robin does under mixed traffic: at random. Over
 * 600 s a flooder (1 000 a second) is let through at about the limit in total (the old per
 * worker limit let n times as many through); a device sending 24 a second (80 % of the limit,
 * with a burst of 60 at the start) is never refused, and one at 27 (90 %) all but never.
 * Figures: docs/cloud.md "Limits". */
static uint64_t rng = 88172645463325252u;
static unsigned pick(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void split_run(unsigned n, double legit_rate, int secs, long *flood_ok, long *legit_refused)
{
    cloud_rate_t *w[8];
    double r, b;
    cloud_rate_share(30, 60, n, &r, &b);
    for (unsigned i = 0; i < n; i++)
        w[i] = cloud_rate_new(r, b, 16, i + 1);
    *flood_ok = 0;
    *legit_refused = 0;
    for (int i = 0; i < 60; i++)   /* the legitimate device's burst at the start */
        *legit_refused += !cloud_rate_allow(w[pick(n)], "P/legit", 0);
    double next_legit = 1000.0 / legit_rate;
    for (int64_t t = 1; t <= (int64_t)secs * 1000; t++) {   /* the flooder: one a millisecond */
        *flood_ok += cloud_rate_allow(w[pick(n)], "P/flood", t);
        for (; next_legit <= (double)t; next_legit += 1000.0 / legit_rate)
            *legit_refused += !cloud_rate_allow(w[pick(n)], "P/legit", t);
    }
    for (unsigned i = 0; i < n; i++)
        cloud_rate_free(w[i]);
}

static void test_share_split_at_random(void **state)
{
    (void)state;
    for (unsigned n = 1; n <= 4; n++) {
        long flood, refused80, refused90;
        split_run(n, 24.0, 600, &flood, &refused80);
        split_run(n, 27.0, 600, &flood, &refused90);
        print_message("%u worker(s): flooder let through %ld in 600 s (limit %d); refused of a device at 80 %%: %ld, at "
                      "90 %%: %ld of %d\n", n, flood, 30 * 600 + 60, refused80, refused90, 27 * 600 + 60);
        assert_true(flood >= 30 * 600 && flood <= 30 * 600 + 60 * 3);
        assert_int_equal(refused80, 0);
        assert_true(refused90 <= 16);   /* 0.1 % */
    }
}

/* F52: one of two workers leaves at 11.1 s, its last count at 11 s still said 2; the one that
 * remains counts every second, and again before it refuses (at most 4 a second on average,
 * cloud_thing.c). A device that sent 27 a second (90 %), paused 2 s and sends its whole burst
 * (60) at 11.2 s, then 27 a second again, is never refused: the recount finds 1 worker and
 * cloud_rate_reshare hands over the leaver's part. Without the hand-over (only the new part
 * from then on) the burst met the old part's bucket (53) and 7 were refused. A flooder (1 000
 * a second) gains at most that part: about the limit in total over the 20 s. */
static long leave_run(bool flooder, bool hand_over, long *refused)
{
    cloud_rate_t *w[2];
    double r, b;
    cloud_rate_share(30, 60, 2, &r, &b);
    for (unsigned i = 0; i < 2; i++)
        w[i] = cloud_rate_new(r, b, 16, i + 1);
    unsigned n = 2;
    int64_t counted = 0, good = 0;
    double recounts = 4;
    long ok = 0;
    *refused = 0;
    double next = 0;
    for (int64_t t = 0; t <= 20000; t++) {
        recounts = recounts + 0.004 > 4 ? 4 : recounts + 0.004;
        if (t - counted >= 1000) {   /* the periodic count (the queue knows at once) */
            unsigned now_n = t >= 11100 ? 1 : 2;
            counted = t;
            if (now_n != n) {
                if (hand_over) {
                    cloud_rate_reshare(w[0], 30, 60, n, now_n, t - good);
                } else {   /* before: the new part only */
                    cloud_rate_share(30, 60, now_n, &r, &b);
                    cloud_rate_set(w[0], r, b);
                }
                n = now_n;
            }
            good = t;
        }
        int sends = 0;
        if (flooder)
            sends = 1;
        else if (t == 11200)
            sends = 60;
        else if (t >= next && (next += 1000.0 / 27) > 0)   /* 27 a second, a pause from 9 s */
            sends = t < 9000 || t > 11200;
        for (int k = 0; k < sends; k++) {
            cloud_rate_t *q = w[t >= 11100 ? 0 : pick(2)];
            bool yes = cloud_rate_allow(q, "P/d", t);
            if (!yes && q == w[0] && recounts >= 1 && hand_over) {   /* the recount before refusing */
                recounts -= 1;
                unsigned now_n = t >= 11100 ? 1 : 2;
                if (now_n != n) {
                    cloud_rate_reshare(w[0], 30, 60, n, now_n, t - good);
                    n = now_n;
                    yes = cloud_rate_allow(q, "P/d", t);
                }
                counted = good = t;
            }
            ok += yes;
            *refused += !yes;
        }
    }
    cloud_rate_free(w[0]);
    cloud_rate_free(w[1]);
    return ok;
}

static void test_share_worker_leaves(void **state)
{
    (void)state;
    long refused, refused_before, flood_refused;
    leave_run(false, true, &refused);
    leave_run(false, false, &refused_before);
    long flood = leave_run(true, true, &flood_refused);
    print_message("a worker leaves: a device under its limit refused %ld (without the hand-over %ld); a flooder let "
                  "through %ld in 20 s (limit %d)\n", refused, refused_before, flood, 30 * 20 + 60);
    assert_int_equal(refused, 0);
    assert_true(refused_before >= 5);
    /* both buckets full at the start (2 x 53.2), 20 s at 30, the leaver's part (6.8 + 15 x 1 s) */
    assert_true(flood >= 30 * 20 && flood <= 30 * 20 + 107 + 22);
}

/* F52, the other way: a second worker joins at 10 s (it counts itself before its first message:
 * a fresh table, full buckets of its part); the first learns of it at its next count, here at
 * its next refusal of the flooder (1 000 a second) or the periodic one. The flooder gets the
 * new worker's burst once more and the first worker's old part for that moment: figures in
 * docs/cloud.md ("A worker joins"). */
static void test_share_worker_joins(void **state)
{
    (void)state;
    long got[2];
    for (int join = 0; join < 2; join++) {
        cloud_rate_t *w[2] = { cloud_rate_new(30, 60, 16, 1), NULL };
        unsigned n = 1;
        int64_t counted = 0, good = 0;
        double recounts = 4, r, b;
        got[join] = 0;
        for (int64_t t = 0; t <= 20000; t++) {
            recounts = recounts + 0.004 > 4 ? 4 : recounts + 0.004;
            unsigned real_n = join && t >= 10000 ? 2 : 1;
            if (real_n == 2 && !w[1]) {
                cloud_rate_share(30, 60, 2, &r, &b);
                w[1] = cloud_rate_new(r, b, 16, 2);
            }
            if (t - counted >= 1000) {
                if (real_n != n)
                    cloud_rate_reshare(w[0], 30, 60, n, real_n, t - good);
                n = real_n;
                counted = good = t;
            }
            cloud_rate_t *q = w[real_n == 2 ? pick(2) : 0];
            bool yes = cloud_rate_allow(q, "P/flood", t);
            if (!yes && q == w[0] && recounts >= 1) {
                recounts -= 1;
                if (real_n != n)
                    cloud_rate_reshare(w[0], 30, 60, n, real_n, t - good);
                n = real_n;
                counted = good = t;
            }
            got[join] += yes;
        }
        cloud_rate_free(w[0]);
        cloud_rate_free(w[1]);
    }
    print_message("a worker joins at 10 s: a flooder let through %ld in 20 s, %ld without the join (%ld more)\n",
                  got[1], got[0], got[1] - got[0]);
    /* the new worker's burst (53.2) and the old part's surplus (15 a second) for at most 1/4 s */
    assert_true(got[1] - got[0] >= 50 && got[1] - got[0] <= 54 + 4 + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_keys_apart),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_forgotten_is_let_through),
        cmocka_unit_test(test_bad_arguments_and_long_keys),
        cmocka_unit_test(test_share),
        cmocka_unit_test(test_share_split_at_random),
        cmocka_unit_test(test_share_worker_leaves),
        cmocka_unit_test(test_share_worker_joins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
