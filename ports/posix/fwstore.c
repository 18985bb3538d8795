/* SPDX-License-Identifier: Apache-2.0 */
/* sc_hal_fw_t on files in the state directory; see sc_posix_fw.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sc_posix_fw.h"
#include "sc_posix_storage.h"

#define PART "ota-image.part"
#define IMAGE "ota-image.bin"

static sc_err_t io_err(void)
{
    return errno == ENOSPC || errno == EDQUOT || errno == EFBIG ? SC_ERR_NOSPACE : SC_ERR_IO;
}

static void close_part(sc_posix_fw_t *f)
{
    if (f->part >= 0)
        close(f->part);
    f->part = -1;
    f->part_len = 0;
}

static sc_err_t fw_write(void *ctx, uint32_t offset, const void *buf, size_t len)
{
    sc_posix_fw_t *f = ctx;
    if (offset == 0) {
        close_part(f);
        /* A fresh inode every time (F30): whatever is under the name (a FIFO, a hard link to
         * a file elsewhere) is unlinked, never opened. */
        if (unlinkat(f->dirfd, PART, 0) < 0 && errno != ENOENT)
            return SC_ERR_IO;
        f->part = openat(f->dirfd, PART, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (f->part < 0)
            return io_err();
    }
    if (f->part < 0 || offset != f->part_len)
        return SC_ERR_INVAL;   /* only ever appends to what this download wrote */
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(f->part, p, len, (off_t)f->part_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return io_err();
        p += n;
        len -= (size_t)n;
        f->part_len += (uint32_t)n;
    }
    return SC_OK;
}

static sc_err_t fw_commit(void *ctx)
{
    sc_posix_fw_t *f = ctx;
    if (f->part < 0)
        return SC_ERR_STATE;
    bool ok = fsync(f->part) == 0;
    close_part(f);
    ok = ok && renameat(f->dirfd, PART, f->dirfd, IMAGE) == 0 && fsync(f->dirfd) == 0;
    return ok ? SC_OK : io_err();
}

static sc_err_t fw_discard(void *ctx)
{
    sc_posix_fw_t *f = ctx;
    close_part(f);
    return unlinkat(f->dirfd, PART, 0) == 0 || errno == ENOENT ? SC_OK : SC_ERR_IO;
}

static sc_err_t fw_read(void *ctx, uint32_t offset, void *buf, size_t cap, size_t *len)
{
    sc_posix_fw_t *f = ctx;
    *len = 0;
    int fd = openat(f->dirfd, IMAGE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? SC_ERR_NOTFOUND : SC_ERR_IO;
    struct stat st;   /* a FIFO, a directory, someone else's file: not our image (F30) */
    if (fstat(fd, &st) < 0 || !sc_posix_storage_entry_ours(&st)) {
        close(fd);
        return SC_ERR_IO;
    }
    size_t got = 0;
    while (got < cap) {
        ssize_t n = pread(fd, (uint8_t *)buf + got, cap - got, (off_t)offset + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return SC_ERR_IO;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    return SC_OK;
}

void sc_posix_fw_init(sc_posix_fw_t *f, int dirfd, sc_hal_fw_t *hal)
{
    f->dirfd = dirfd;
    f->part = -1;
    f->part_len = 0;
    /* A partial image left by a crash is never presented: a download starts it afresh. */
    (void)unlinkat(dirfd, PART, 0);
    hal->ctx = f;
    hal->write = fw_write;
    hal->commit = fw_commit;
    hal->discard = fw_discard;
    hal->read = fw_read;
}

void sc_posix_fw_close(sc_posix_fw_t *f)
{
    close_part(f);
}
