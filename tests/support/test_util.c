/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

uint16_t tu_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l);
    close(s);
    return ntohs(a.sin_port);
}

void tu_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

sc_err_t tu_store_get(void *ctx, const char *key, void *buf, size_t cap, size_t *len)
{
    (void)key;
    const tu_store_t *s = ctx;
    if (!s->has)
        return SC_ERR_NOTFOUND;
    if (s->len > cap)
        return SC_ERR_NOSPACE;
    memcpy(buf, s->val, s->len);
    *len = s->len;
    return SC_OK;
}

sc_err_t tu_store_put(void *ctx, const char *key, const void *buf, size_t len)
{
    (void)key;
    tu_store_t *s = ctx;
    if (len > sizeof s->val)
        return SC_ERR_NOSPACE;
    memcpy(s->val, buf, len);
    s->len = len;
    s->has = true;
    return SC_OK;
}

int tu_rm_rf(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}
