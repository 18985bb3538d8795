/* SPDX-License-Identifier: Apache-2.0 */
/* File storage HAL: atomic replace, crash leftovers, key validation, permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sc_posix.h"
#include "sc_posix_fw.h"
#include "sc_posix_storage.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sc_storage_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_put_get_erase(void **state)
{
    (void)state;
    sc_posix_storage_t s;
    sc_hal_storage_t h;
    char err[128];
    char sub[300];
    snprintf(sub, sizeof sub, "%s/a/b", dir); /* missing parents are created */
    assert_int_equal(sc_posix_storage_open(&s, sub, &h, err, sizeof err), SC_OK);
    uint8_t buf[64];
    size_t len = 0;
    assert_int_equal(h.get(h.ctx, "err_record", buf, sizeof buf, &len), SC_ERR_NOTFOUND);
    assert_int_equal(h.put(h.ctx, "err_record", "hello", 5), SC_OK);
    assert_int_equal(h.get(h.ctx, "err_record", buf, sizeof buf, &len), SC_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "hello", 5);
    /* replace with a shorter value: no tail of the old one survives */
    assert_int_equal(h.put(h.ctx, "err_record", "hi", 2), SC_OK);
    assert_int_equal(h.get(h.ctx, "err_record", buf, sizeof buf, &len), SC_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(buf, "hi", 2);
    /* too small a buffer: NOSPACE with the needed size */
    assert_int_equal(h.get(h.ctx, "err_record", buf, 1, &len), SC_ERR_NOSPACE);
    assert_int_equal(len, 2);
    /* empty record */
    assert_int_equal(h.put(h.ctx, "empty", "", 0), SC_OK);
    assert_int_equal(h.get(h.ctx, "empty", buf, sizeof buf, &len), SC_OK);
    assert_int_equal(len, 0);
    assert_int_equal(h.erase(h.ctx, "err_record"), SC_OK);
    assert_int_equal(h.get(h.ctx, "err_record", buf, sizeof buf, &len), SC_ERR_NOTFOUND);
    assert_int_equal(h.erase(h.ctx, "err_record"), SC_ERR_NOTFOUND);
    sc_posix_storage_close(&s);
}

static void test_permissions(void **state)
{
    (void)state;
    sc_posix_storage_t s;
    sc_hal_storage_t h;
    char err[128], path[400];
    mode_t old = umask(0);
    assert_int_equal(sc_posix_storage_open(&s, dir, &h, err, sizeof err), SC_OK);
    assert_int_equal(h.put(h.ctx, "psk", "secret", 6), SC_OK);
    umask(old);
    snprintf(path, sizeof path, "%s/psk", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    sc_posix_storage_close(&s);
}

static void test_crash_leftover_is_ignored(void **state)
{
    (void)state;
    sc_posix_storage_t s;
    sc_hal_storage_t h;
    char err[128], path[400];
    assert_int_equal(sc_posix_storage_open(&s, dir, &h, err, sizeof err), SC_OK);
    assert_int_equal(h.put(h.ctx, "log", "old-value", 9), SC_OK);
    /* A power cut in the middle of put(): the temp file holds half of the new value. */
    snprintf(path, sizeof path, "%s/.log.tmp", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "new-va", 6), 6);
    close(fd);
    uint8_t buf[64];
    size_t len;
    assert_int_equal(h.get(h.ctx, "log", buf, sizeof buf, &len), SC_OK);
    assert_int_equal(len, 9);
    assert_memory_equal(buf, "old-value", 9);
    sc_posix_storage_close(&s);
    /* Reopening (the next boot) removes the leftover; the old value is still there. */
    assert_int_equal(sc_posix_storage_open(&s, dir, &h, err, sizeof err), SC_OK);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(h.get(h.ctx, "log", buf, sizeof buf, &len), SC_OK);
    assert_memory_equal(buf, "old-value", 9);
    /* and the next put works over whatever is left */
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(fd);
    assert_int_equal(h.put(h.ctx, "log", "new-value!", 10), SC_OK);
    assert_int_equal(h.get(h.ctx, "log", buf, sizeof buf, &len), SC_OK);
    assert_int_equal(len, 10);
    assert_int_equal(access(path, F_OK), -1);
    sc_posix_storage_close(&s);
}

static void test_key_validation(void **state)
{
    (void)state;
    const char *bad[] = { "", ".", "..", "../x", "a/b", "/etc/passwd", ".hidden", "a b", "k\n", "ä",
                          "x.tmp/..", "0123456789012345678901234567890123456789012345678901234567890123456789" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sc_posix_storage_key_valid(bad[i]));
    assert_false(sc_posix_storage_key_valid(NULL));
    const char *good[] = { "a", "err_record", "dev-secret.v2", "LOG_0", "x.tmp" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(sc_posix_storage_key_valid(good[i]));

    sc_posix_storage_t s;
    sc_hal_storage_t h;
    char err[128];
    assert_int_equal(sc_posix_storage_open(&s, dir, &h, err, sizeof err), SC_OK);
    uint8_t buf[8];
    size_t len;
    assert_int_equal(h.put(h.ctx, "../escape", "x", 1), SC_ERR_INVAL);
    assert_int_equal(h.get(h.ctx, "../escape", buf, sizeof buf, &len), SC_ERR_INVAL);
    assert_int_equal(h.erase(h.ctx, "/etc/passwd"), SC_ERR_INVAL);
    char parent[300];
    snprintf(parent, sizeof parent, "%s/../escape", dir);
    assert_int_equal(access(parent, F_OK), -1);
    /* a symlink planted under a key name is not followed */
    char link[400];
    snprintf(link, sizeof link, "%s/planted", dir);
    assert_int_equal(symlink("/etc/hostname", link), 0);
    assert_int_not_equal(h.get(h.ctx, "planted", buf, sizeof buf, &len), SC_OK);
    sc_posix_storage_close(&s);
}

/* F30 (docs/security.md#device): entries planted under a record's name by whoever can write
 * the state directory (another user when it is a shared sticky directory such as /tmp). A
 * FIFO used to block the device at start for ever (open(O_RDONLY) waits for a writer); a
 * record owned by another user was used as ours (an AT devinfo made by someone else is a
 * whole identity); a temp file hard-linked elsewhere was truncated and written through. A
 * hang ends the test with SIGALRM. */
static void test_hostile_entries(void **state)
{
    (void)state;
    alarm(20);
    sc_posix_storage_t s;
    sc_hal_storage_t h;
    char err[128];
    assert_int_equal(sc_posix_storage_open(&s, dir, &h, err, sizeof err), SC_OK);
    char path[400], out[400];
    uint8_t buf[64];
    size_t len = 0;
    /* a FIFO under a record's name and under its temp name */
    snprintf(path, sizeof path, "%s/errrec.a", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(h.get(h.ctx, "errrec.a", buf, sizeof buf, &len), SC_ERR_IO);
    snprintf(path, sizeof path, "%s/.devinfo.tmp", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(h.put(h.ctx, "devinfo", "rec", 3), SC_OK);
    assert_int_equal(h.get(h.ctx, "devinfo", buf, sizeof buf, &len), SC_OK);
    assert_int_equal(len, 3);
    /* a directory under a record's name: an error, not a crash */
    snprintf(path, sizeof path, "%s/prdinfo", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(h.get(h.ctx, "prdinfo", buf, sizeof buf, &len), SC_ERR_IO);
    assert_int_not_equal(h.put(h.ctx, "prdinfo", "x", 1), SC_OK);
    /* a temp name hard-linked to a file outside: the outside file is never written */
    snprintf(out, sizeof out, "%s.outside", dir);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fputs("precious", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/.psk.tmp", dir);
    assert_int_equal(link(out, path), 0);
    assert_int_equal(h.put(h.ctx, "psk", "secret", 6), SC_OK);
    f = fopen(out, "r");
    assert_non_null(f);
    char got[32] = "";
    assert_non_null(fgets(got, sizeof got, f));
    fclose(f);
    assert_string_equal(got, "precious");
    /* a record owned by someone else is not ours (needs root to make one) */
    if (geteuid() == 0) {
        assert_int_equal(h.put(h.ctx, "fwinfo", "theirs", 6), SC_OK);
        snprintf(path, sizeof path, "%s/fwinfo", dir);
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(h.get(h.ctx, "fwinfo", buf, sizeof buf, &len), SC_ERR_IO);
    }
    /* the image store: a FIFO as the image and as the partial image, a hard-linked part */
    sc_posix_fw_t fw;
    sc_hal_fw_t fh;
    sc_posix_fw_init(&fw, s.dirfd, &fh);
    snprintf(path, sizeof path, "%s/ota-image.bin", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(fh.read(fh.ctx, 0, buf, sizeof buf, &len), SC_ERR_IO);
    snprintf(path, sizeof path, "%s/ota-image.part", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(fh.write(fh.ctx, 0, "img", 3), SC_OK);
    assert_int_equal(fh.discard(fh.ctx), SC_OK);
    assert_int_equal(link(out, path), 0);
    assert_int_equal(fh.write(fh.ctx, 0, "img", 3), SC_OK);
    assert_int_equal(fh.discard(fh.ctx), SC_OK);
    f = fopen(out, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, sizeof got, f));
    fclose(f);
    assert_string_equal(got, "precious");
    sc_posix_fw_close(&fw);
    unlink(out);
    sc_posix_storage_close(&s);
    alarm(0);
}

static void test_bad_dir(void **state)
{
    (void)state;
    sc_posix_storage_t s;
    sc_hal_storage_t h;
    char err[128] = "";
    char path[300];
    snprintf(path, sizeof path, "%s/file", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    snprintf(path, sizeof path, "%s/file/sub", dir);
    assert_int_not_equal(sc_posix_storage_open(&s, path, &h, err, sizeof err), SC_OK);
    assert_true(strstr(err, "state directory") != NULL);
    assert_int_not_equal(sc_posix_storage_open(&s, "", &h, err, sizeof err), SC_OK);
}

/* The state directory itself (security.md, Device): one that others may write in (group or
 * other write bit, sticky or not) or that another user owns is refused at open with a message
 * that says why; one the storage creates is 0700 whatever the umask. */
static void test_dir_owner_and_mode(void **state)
{
    (void)state;
    sc_posix_storage_t s;
    sc_hal_storage_t h;
    char err[256] = "";
    char sub[300];
    struct stat st;
    snprintf(sub, sizeof sub, "%s/made/state", dir);
    mode_t old = umask(0);
    assert_int_equal(sc_posix_storage_open(&s, sub, &h, err, sizeof err), SC_OK);
    umask(old);
    sc_posix_storage_close(&s);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    static const struct {
        mode_t mode;
        const char *why;
    } bad[] = { { 0770, "writable by its group" }, { 0702, "writable by others" }, { 01777, "writable by others" },
                { 01770, "writable by its group" } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(chmod(sub, bad[i].mode), 0);
        err[0] = '\0';
        assert_int_not_equal(sc_posix_storage_open(&s, sub, &h, err, sizeof err), SC_OK);
        assert_non_null(strstr(err, bad[i].why));
        assert_non_null(strstr(err, "state directory"));
    }
    /* read and search bits for others are no risk: 0755 and 0711 are fine */
    assert_int_equal(chmod(sub, 0755), 0);
    assert_int_equal(sc_posix_storage_open(&s, sub, &h, err, sizeof err), SC_OK);
    sc_posix_storage_close(&s);
    /* another user's directory (needs root to make one) */
    if (geteuid() == 0) {
        assert_int_equal(chmod(sub, 0700), 0);
        assert_int_equal(chown(sub, 65534, 65534), 0);
        err[0] = '\0';
        assert_int_not_equal(sc_posix_storage_open(&s, sub, &h, err, sizeof err), SC_OK);
        assert_non_null(strstr(err, "owned by uid 65534"));
    }
}

/* The directory a path is in (the F36/F72/F73 checks look at it): a trailing slash names the
 * same last component, so "a/b/" is in a, not in a/b (F75: `--tls-dir /tmp/x/tls/` checked
 * /tmp/x/tls twice, not the 1777 /tmp/x the cloud then made it in). */
static void test_parent_dir(void **state)
{
    (void)state;
    static const char *const cases[][2] = { { "/a/b", "/a" },   { "/a/b/", "/a" }, { "/a/b//", "/a" }, { "a/b/", "a" },
                                            { "a//b", "a" },    { "/x", "/" },     { "/x/", "/" },     { "//x", "/" },
                                            { "x", "." },       { "x/", "." },     { "/", "/" },       { "./x", "." } };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sc_posix_parent_dir(cases[i][0], out, sizeof out);
        if (strcmp(out, cases[i][1]))
            fail_msg("parent of '%s': '%s', want '%s'", cases[i][0], out, cases[i][1]);
    }
}

/* One device per state directory: a second open (another smartcfg device on the same
 * --state-dir: a service started twice) is refused while the first holds it, and does not
 * remove the first one's temp file as stale; the lock has no file to go stale: a holder killed
 * with SIGKILL leaves the directory free for the restart. */
static void test_one_holder(void **state)
{
    (void)state;
    sc_posix_storage_t s1, s2;
    sc_hal_storage_t h1, h2;
    char err[256] = "", path[400];
    assert_int_equal(sc_posix_storage_open(&s1, dir, &h1, err, sizeof err), SC_OK);
    snprintf(path, sizeof path, "%s/.log.tmp", dir); /* the first one's put() in flight */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sc_posix_storage_open(&s2, dir, &h2, err, sizeof err), SC_ERR_BUSY);
    assert_non_null(strstr(err, "in use by another running smartcfg device"));
    assert_int_equal(access(path, F_OK), 0);
    sc_posix_storage_close(&s1);
    assert_int_equal(sc_posix_storage_open(&s2, dir, &h2, err, sizeof err), SC_OK);
    sc_posix_storage_close(&s2);
    /* a holder that dies without closing */
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sc_posix_storage_t sc;
        sc_hal_storage_t hc;
        char e[256];
        char ok = sc_posix_storage_open(&sc, dir, &hc, e, sizeof e) == SC_OK ? 'y' : 'n';
        (void)!write(ready[1], &ok, 1);
        for (;;)
            pause();
    }
    char ok = 0;
    assert_int_equal(read(ready[0], &ok, 1), 1);
    assert_int_equal(ok, 'y');
    assert_int_equal(sc_posix_storage_open(&s2, dir, &h2, err, sizeof err), SC_ERR_BUSY);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    close(ready[0]);
    close(ready[1]);
    assert_int_equal(sc_posix_storage_open(&s2, dir, &h2, err, sizeof err), SC_OK);
    sc_posix_storage_close(&s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_erase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_leftover_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_owner_and_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_holder, setup, teardown),
        cmocka_unit_test(test_parent_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
