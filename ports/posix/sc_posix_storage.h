/* SPDX-License-Identifier: Apache-2.0 */
/* Storage HAL on a directory: one file per key, replaced atomically (temp file, fsync, rename,
 * fsync of the directory), mode 0600 in a 0700 directory because records may hold secrets
 * (a dynamically registered device secret). */
#ifndef SC_POSIX_STORAGE_H
#define SC_POSIX_STORAGE_H

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SC_POSIX_KEY_MAX 64

typedef struct {
    int dirfd;
    char dir[512];
} sc_posix_storage_t;

/* Creates dir (and missing parents, mode 0700) when needed, takes an exclusive flock() on it
 * (SC_ERR_BUSY while another open storage holds it, in this process or another; released by
 * close or the holder's exit), removes stale temp files left by an interrupted put(), fills the
 * HAL table. errbuf gets a clear message on failure. */
sc_err_t sc_posix_storage_open(sc_posix_storage_t *s, const char *dir, sc_hal_storage_t *hal, char *errbuf,
                               size_t errlen);
void sc_posix_storage_close(sc_posix_storage_t *s);
/* Keys: 1..64 characters of [A-Za-z0-9_-.], not starting with '.' (so a key can never name
 * a temp file, "..", or a path). */
bool sc_posix_storage_key_valid(const char *key);
/* An entry found under a record's (or the image's) name is used only when it is a regular
 * file owned by the effective user: a FIFO, a directory or another user's file planted in the
 * state directory is never read as ours (docs/security.md F30). */
struct stat;
bool sc_posix_storage_entry_ours(const struct stat *st);
/* The default state directory: $XDG_STATE_HOME/smartcfg, else $HOME/.local/state/smartcfg. */
sc_err_t sc_posix_storage_default_dir(char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
