/* SPDX-License-Identifier: Apache-2.0 */
/* Cases of the registry interface (apps/cloud/cloud_store.h) that both engines must pass:
 * included by test_cloud_store.c (SQLite, a temp file) and test_cloud_store_pg.c (a real
 * PostgreSQL server, tests/integration/cloud_pg.sh). Each opens the store at `path` (the file
 * or the URL the including test set up fresh), and count() is the including tests' too. */

/* The one integer a query answers (a count, a maximum). */
static int64_t count(cloud_store_t *s, const char *sql)
{
    cloud_rows_t *r = cloud_store_select(s, sql, "");
    assert_non_null(r);
    assert_int_equal(cloud_rows_next(r), 1);
    int64_t n = cloud_rows_int(r, 0);
    cloud_rows_free(r);
    return n;
}

static int nseen;
static char seen_cid[64];
static int64_t seen_due;
static void seen(void *u, const char *cid, int64_t due, int tries, int misses)
{
    (void)u;
    (void)tries;
    (void)misses;
    nseen++;
    snprintf(seen_cid, sizeof seen_cid, "%s", cid);
    seen_due = due;
}

static void test_revocations_shared(void **state)
{
    (void)state;
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    assert_int_equal(cloud_store_revoke_next(&s), INT64_MAX);
    assert_int_equal(cloud_store_revoke_add(&s, "Pdev1", 1000), 0);
    assert_int_equal(cloud_store_revoke_next(&s), 1000);
    /* not due yet: nobody takes it */
    nseen = 0;
    assert_int_equal(cloud_store_revoke_claim(&s, "A", 999, 999 + 120000, 16, seen, NULL), 0);
    assert_int_equal(nseen, 0);
    /* due: A takes it; B, while A's lease runs, does not */
    assert_int_equal(cloud_store_revoke_claim(&s, "A", 1000, 1000 + 120000, 16, seen, NULL), 1);
    assert_int_equal(nseen, 1);
    assert_string_equal(seen_cid, "Pdev1");
    assert_int_equal(seen_due, 1000);
    assert_int_equal(cloud_store_revoke_claim(&s, "B", 5000, 5000 + 120000, 16, seen, NULL), 0);
    assert_int_equal(nseen, 1);
    /* A died: once its lease is over B takes it */
    assert_int_equal(cloud_store_revoke_claim(&s, "B", 121001, 121001 + 120000, 16, seen, NULL), 1);
    assert_int_equal(nseen, 2);
    /* a new change moved the due meanwhile: finishing the old one keeps the row */
    assert_int_equal(cloud_store_revoke_add(&s, "Pdev1", 130000), 0);
    assert_int_equal(cloud_store_revoke_done(&s, "Pdev1", 1000), 0);
    assert_int_equal(cloud_store_revoke_next(&s), 130000);
    assert_int_equal(cloud_store_revoke_later(&s, "Pdev1", 130000, 136000, 0, 1), 0);
    assert_int_equal(cloud_store_revoke_next(&s), 136000);
    assert_int_equal(cloud_store_revoke_done(&s, "Pdev1", 136000), 0);
    assert_int_equal(cloud_store_revoke_next(&s), INT64_MAX);
    /* A change while a close is pending does not put it off (a gateway that sends offline more
     * often than the delay kept its own close from ever coming): the close comes at the first
     * due, and once more at the later change's, which it may predate. */
    assert_int_equal(cloud_store_revoke_add(&s, "Pgw1", 200000), 0);
    assert_int_equal(cloud_store_revoke_add(&s, "Pgw1", 201800), 0);
    assert_int_equal(cloud_store_revoke_add(&s, "Pgw1", 201500), 0);
    nseen = 0;
    assert_int_equal(cloud_store_revoke_claim(&s, "A", 200000, 200000 + 120000, 16, seen, NULL), 1);
    assert_int_equal(nseen, 1);
    assert_int_equal(seen_due, 200000);
    assert_int_equal(cloud_store_revoke_done(&s, "Pgw1", 200000), 0);
    assert_int_equal(cloud_store_revoke_next(&s), 201800);
    assert_int_equal(cloud_store_revoke_claim(&s, "B", 201800, 201800 + 120000, 16, seen, NULL), 1);
    assert_int_equal(seen_due, 201800);
    assert_int_equal(cloud_store_revoke_done(&s, "Pgw1", 201800), 0);
    assert_int_equal(cloud_store_revoke_next(&s), INT64_MAX);
    /* a change earlier than a retry's due needs no second close */
    assert_int_equal(cloud_store_revoke_add(&s, "Pgw1", 300000), 0);
    assert_int_equal(cloud_store_revoke_later(&s, "Pgw1", 300000, 310000, 1, 0), 0);
    assert_int_equal(cloud_store_revoke_add(&s, "Pgw1", 305000), 0);
    assert_int_equal(cloud_store_revoke_done(&s, "Pgw1", 310000), 0);
    assert_int_equal(cloud_store_revoke_next(&s), INT64_MAX);
    cloud_store_close(&s);
}

/* A stream of valid logins of one user (an app that logs in at every start, a script in a
 * loop) added a row each, alive for a day (F29): each user now keeps its newest
 * CLOUD_ACCESS_PER_USER, the oldest evicted, and the expired ones of the user go at its next
 * login (the rest at gc). Another user's tokens are untouched. */
static void test_access_tokens_bounded(void **state)
{
    (void)state;
    cloud_store_t s;
    char err[300];
    assert_int_equal(cloud_store_open(&s, path, err, sizeof err), 0);
    assert_int_equal(cloud_store_add_user(&s, "u1", "alice", "salt", "hash", "f1", 1), 0);
    assert_int_equal(cloud_store_add_user(&s, "u2", "bob", "salt", "hash", "f2", 1), 0);
    cloud_user_t u;
    char tok[32];
    assert_int_equal(cloud_store_add_access_token(&s, "bob-0", "u2", 1000 + 86400, 1000000), 0);
    assert_int_equal(cloud_store_add_access_token(&s, "alice-old", "u1", 50, 10000), 0);   /* expires at 50 */
    for (int i = 0; i < 200; i++) {   /* 200 logins, five a second: the expiry alone does not order them */
        snprintf(tok, sizeof tok, "alice-%03d", i);
        assert_int_equal(cloud_store_add_access_token(&s, tok, "u1", 1000 + i / 5 + 86400, 1000000 + 200 * i), 0);
    }
    assert_int_equal(count(&s, "SELECT count(*) FROM access_tokens WHERE user_id='u1'"), CLOUD_ACCESS_PER_USER);
    assert_int_equal(count(&s, "SELECT count(*) FROM access_tokens WHERE token='alice-old'"), 0);
    /* the newest are kept, the oldest went */
    assert_int_equal(cloud_store_check_access_token(&s, "alice-199", 1040, &u), 0);
    assert_string_equal(u.user_name, "alice");
    snprintf(tok, sizeof tok, "alice-%03d", 200 - CLOUD_ACCESS_PER_USER);
    assert_int_equal(cloud_store_check_access_token(&s, tok, 1040, &u), 0);
    snprintf(tok, sizeof tok, "alice-%03d", 199 - CLOUD_ACCESS_PER_USER);
    assert_int_equal(cloud_store_check_access_token(&s, tok, 1040, &u), 1);
    assert_int_equal(cloud_store_check_access_token(&s, "bob-0", 1040, &u), 0);
    assert_int_equal(count(&s, "SELECT count(*) FROM access_tokens"), CLOUD_ACCESS_PER_USER + 1);
    /* gc takes the expired ones of users who do not log in again */
    assert_int_equal(cloud_store_gc(&s, 1000 + 86401, 600, 300), 1);   /* bob-0 */
    assert_int_equal(cloud_store_gc(&s, 1040 + 86400, 600, 300), CLOUD_ACCESS_PER_USER);
    assert_int_equal(count(&s, "SELECT count(*) FROM access_tokens"), 0);
    /* F53, a rolling upgrade: workers from before migration 7 log users in beside new ones, and
     * their rows have issued 0 (its default). Ordered by issued, such a row went first at the
     * next login through a new worker, however new: here the newest but one. It now counts as
     * issued in the last millisecond of its expiry's second less the lifetime, so it goes when
     * it is the oldest, no sooner (19 logins later), no later. One login a second. */
    for (int i = 0; i < CLOUD_ACCESS_PER_USER - 1; i++) {
        snprintf(tok, sizeof tok, "new-%02d", i);
        assert_int_equal(cloud_store_add_access_token(&s, tok, "u1", 2000 + i + 86400, (2000 + i) * 1000), 0);
    }
    /* an old worker's login at second 2019, its own statements (cap by expiry, no issued) */
    assert_true(cloud_store_run(&s, "DELETE FROM access_tokens WHERE user_id=?1 AND (expire<?2 OR token NOT IN"
                                    " (SELECT token FROM access_tokens WHERE user_id=?1 ORDER BY expire DESC, token DESC"
                                    " LIMIT ?3))", "tii", "u1", (int64_t)2019, (int64_t)CLOUD_ACCESS_PER_USER - 1) >= 0);
    assert_int_equal(cloud_store_run(&s, "INSERT INTO access_tokens(token, user_id, expire) VALUES(?,?,?)", "tti",
                                     "old-2019", "u1", (int64_t)2019 + 86400), 1);
    for (int i = 20; i < 40; i++) {   /* new workers' logins, seconds 2020..2039 */
        snprintf(tok, sizeof tok, "new-%02d", i);
        assert_int_equal(cloud_store_add_access_token(&s, tok, "u1", 2000 + i + 86400, (2000 + i) * 1000), 0);
        assert_int_equal(count(&s, "SELECT count(*) FROM access_tokens WHERE user_id='u1'"), CLOUD_ACCESS_PER_USER);
        /* the login at 2000 + i evicted the oldest: new-(i - 20) until 2038, then old-2019 */
        snprintf(tok, sizeof tok, "new-%02d", i - 20);
        assert_int_equal(cloud_store_check_access_token(&s, tok, 2040, &u), 1);
        assert_int_equal(cloud_store_check_access_token(&s, "old-2019", 2040, &u), i < 39 ? 0 : 1);
    }
    cloud_store_close(&s);
}

