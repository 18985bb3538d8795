/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the unit tests that talk to real processes over loopback (a broker,
 * `smartcfg cloud`): a free TCP port, a sleep, a one-slot in-memory storage for the HAL, and
 * removing a temporary directory. Test-only. */
#ifndef SC_TEST_UTIL_H
#define SC_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "smartcfg/hal.h"

/* A TCP port on 127.0.0.1 that was free a moment ago (asserts that it could bind one). */
uint16_t tu_free_port(void);
void tu_sleep_ms(unsigned ms);

/* One value, whatever the key: what the device persisted (its PSK). Set hal.storage.ctx to
 * a tu_store_t and .get/.put to these; clear .has to start empty. */
typedef struct {
    char val[128];
    size_t len;
    bool has;
} tu_store_t;
sc_err_t tu_store_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len);
sc_err_t tu_store_put(void *ctx, const char *key, const void *buf, size_t len);

/* Whether something accepts TCP connections on 127.0.0.1:port now. */
bool tu_port_open(uint16_t port);
/* mosquitto (bin) listening on 127.0.0.1:*port (0: a free one, written back), anonymous clients
 * allowed or not, plus extra config lines (may be ""); its config file in dir. Its pid once it
 * accepts connections; -1 after 5 tries (a port lost to a race, a restart on it too soon). */
pid_t tu_mosquitto(const char *bin, const char *dir, uint16_t *port, bool anonymous, const char *extra);

/* A fresh file name in /tmp, PREFIX-XXXXXX made unique by mkstemp and then unlinked (the code
 * under test creates the file): 0, or -1 (a cmocka setup's result). path holds 64 bytes. */
int tu_fresh_path(char path[64], const char *prefix);

/* Removes an SQLite database at path and its -wal and -shm files. */
void tu_unlink_sqlite(const char *path);

/* rm -rf dir: 0 when it succeeded, -1 otherwise (a cmocka teardown's result). */
int tu_rm_rf(const char *dir);

#endif
