/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the unit tests that talk to real processes over loopback (a broker,
 * `smartcfg cloud`): a free TCP port, a sleep, a one-slot in-memory storage for the HAL, and
 * removing a temporary directory. Test-only. */
#ifndef SC_TEST_UTIL_H
#define SC_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* rm -rf dir: 0 when it succeeded, -1 otherwise (a cmocka teardown's result). */
int tu_rm_rf(const char *dir);

#endif
