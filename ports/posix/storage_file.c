/* SPDX-License-Identifier: Apache-2.0 */
/* File-backed storage HAL. A put() is a write to ".<key>.tmp", fsync, rename over "<key>",
 * fsync of the directory: after a power cut the key holds the old or the new bytes, and a
 * left-over temp file is never read (get() only opens "<key>"; open() deletes leftovers). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sc_posix.h"
#include "sc_posix_storage.h"

#define MAX_RECORD (1u << 20) /* records are small; refuse anything absurd */

bool sc_posix_storage_entry_ours(const struct stat *st)
{
    return S_ISREG(st->st_mode) && st->st_uid == geteuid();
}

bool sc_posix_storage_key_valid(const char *key)
{
    if (!key || !key[0] || key[0] == '.')
        return false;
    size_t n = 0;
    for (const char *p = key; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-' || c == '.';
        if (!ok || n >= SC_POSIX_KEY_MAX)
            return false;
    }
    return true;
}

static bool is_temp_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' && n > 5 && !strcmp(name + n - 4, ".tmp");
}

static int mkdir_p(const char *path)
{
    char buf[512];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char saved = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                return -1;
            buf[i] = saved;
        }
    }
    return 0;
}

static sc_err_t st_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len)
{
    sc_posix_storage_t *s = ctx;
    if (!sc_posix_storage_key_valid(key) || !len || (!buf && cap))
        return SC_ERR_INVAL;
    /* O_NONBLOCK: a FIFO planted under the name must not block the device for ever (F30);
     * it then fails the checks below like a directory or a device node. */
    int fd = openat(s->dirfd, key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? SC_ERR_NOTFOUND : SC_ERR_IO;
    struct stat st;
    if (fstat(fd, &st) < 0 || !sc_posix_storage_entry_ours(&st)) {
        close(fd);
        return SC_ERR_IO;
    }
    if ((size_t)st.st_size > cap) {
        close(fd);
        *len = (size_t)st.st_size;
        return SC_ERR_NOSPACE;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, (uint8_t *)buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != (size_t)st.st_size)
        return SC_ERR_IO;
    *len = got;
    return SC_OK;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static sc_err_t st_put(void *ctx, const char *key, const void *buf, size_t len)
{
    sc_posix_storage_t *s = ctx;
    if (!sc_posix_storage_key_valid(key) || (!buf && len) || len > MAX_RECORD)
        return SC_ERR_INVAL;
    char tmp[SC_POSIX_KEY_MAX + 8];
    snprintf(tmp, sizeof tmp, ".%s.tmp", key);
    /* Whatever is under the temp name goes first (a crash's leftover, or a FIFO or a hard link
     * to a file elsewhere planted there, F30), then O_EXCL makes a new file: nothing but a
     * fresh inode of ours is ever written. */
    (void)unlinkat(s->dirfd, tmp, 0);
    int fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return SC_ERR_IO;
    if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
        close(fd);
        unlinkat(s->dirfd, tmp, 0);
        return SC_ERR_IO;
    }
    if (close(fd) < 0 || renameat(s->dirfd, tmp, s->dirfd, key) < 0) {
        unlinkat(s->dirfd, tmp, 0);
        return SC_ERR_IO;
    }
    /* The rename is durable only once the directory entry itself reaches the disk. */
    if (fsync(s->dirfd) < 0)
        return SC_ERR_IO;
    return SC_OK;
}

static sc_err_t st_erase(void *ctx, const char *key)
{
    sc_posix_storage_t *s = ctx;
    if (!sc_posix_storage_key_valid(key))
        return SC_ERR_INVAL;
    if (unlinkat(s->dirfd, key, 0) < 0)
        return errno == ENOENT ? SC_ERR_NOTFOUND : SC_ERR_IO;
    (void)fsync(s->dirfd);
    return SC_OK;
}

static void remove_stale_temps(sc_posix_storage_t *s)
{
    int fd = dup(s->dirfd);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (is_temp_name(e->d_name))
            (void)unlinkat(s->dirfd, e->d_name, 0);
    closedir(d);
}

sc_err_t sc_posix_storage_open(sc_posix_storage_t *s, const char *dir, sc_hal_storage_t *hal, char *errbuf,
                               size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->dirfd = -1;
    if (!dir || !dir[0] || strlen(dir) >= sizeof s->dir) {
        snprintf(errbuf, errlen, "state directory path is empty or too long");
        return SC_ERR_INVAL;
    }
    if (mkdir_p(dir) < 0) {
        snprintf(errbuf, errlen, "cannot create state directory %s: %s", dir, strerror(errno));
        return SC_ERR_IO;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errbuf, errlen, "cannot open state directory %s: %s", dir, strerror(errno));
        return SC_ERR_IO;
    }
    /* The directory itself must be ours and closed to others, as ssh's StrictModes wants of
     * ~/.ssh: whoever may write in it can put entries under names we have not written yet (a
     * FIFO, a file of theirs, F30) or, if it is not sticky, rename ours away and put theirs in
     * their place. A sticky bit (/tmp) does not help against the first: a name they took first
     * can be neither replaced nor removed by us, so a record could never be written. Checked on
     * the open descriptor, which every later access goes through (openat), so a directory
     * swapped under the path after this point is never used. Root's is accepted as owner
     * (root can do all of this anyway). */
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(errbuf, errlen, "cannot stat state directory %s: %s", dir, strerror(errno));
        close(fd);
        return SC_ERR_IO;
    }
    char why[96];
    int foreign = sc_posix_stat_foreign(&st, why, sizeof why);
    if (foreign) {
        snprintf(errbuf, errlen, "state directory %s is %s: %s", dir, why,
                 foreign == 1 ? "its owner could replace the records; use a directory of your own"
                              : "others could plant or replace records; chmod go-w it or use a directory of your own");
        close(fd);
        return SC_ERR_IO;
    }
    /* One device per state directory: a second run on the same directory (a service started
     * twice, a test run beside the product's) would share its records, remove the first run's
     * temp files as "stale" below, and answer the same phone as the same device. The lock is
     * on the directory's open descriptor, so there is no lock file to go stale: the kernel
     * drops it when the holder exits, however it exits (SIGKILL, a crash, a power cut). A
     * filesystem without flock() (EINVAL, ENOLCK) is used unlocked, as before. */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
        snprintf(errbuf, errlen,
                 "state directory %s is in use by another running smartcfg device (one device per state "
                 "directory): stop that one first, or give this one its own --state-dir",
                 dir);
        close(fd);
        return SC_ERR_BUSY;
    }
    s->dirfd = fd;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    remove_stale_temps(s);
    if (hal) {
        hal->ctx = s;
        hal->get = st_get;
        hal->put = st_put;
        hal->erase = st_erase;
    }
    return SC_OK;
}

void sc_posix_storage_close(sc_posix_storage_t *s)
{
    if (s->dirfd >= 0)
        close(s->dirfd);
    s->dirfd = -1;
}

sc_err_t sc_posix_storage_default_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(out, cap, "%s/smartcfg", xdg);
    else {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/')
            return SC_ERR_NOTFOUND;
        n = snprintf(out, cap, "%s/.local/state/smartcfg", home);
    }
    return (n < 0 || (size_t)n >= cap) ? SC_ERR_RANGE : SC_OK;
}
