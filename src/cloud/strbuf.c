/* SPDX-License-Identifier: Apache-2.0 */
#include "cloud_int.h"

#include <string.h>

#include "smartcfg/common.h"

#include "../common/num.h"

void sc_sb_init(sc_sb_t *sb, char *buf, size_t cap)
{
    sb->p = buf;
    sb->cap = cap;
    sb->len = 0;
    sb->overflow = (buf == NULL || cap == 0);
    if (!sb->overflow)
        buf[0] = '\0';
}

void sc_sb_mem(sc_sb_t *sb, const char *s, size_t n)
{
    if (sb->overflow)
        return;
    if (n >= sb->cap - sb->len) {  /* keep one byte for the NUL */
        sb->overflow = true;
        return;
    }
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

void sc_sb_str(sc_sb_t *sb, const char *s)
{
    sc_sb_mem(sb, s, strlen(s));
}

void sc_sb_u64(sc_sb_t *sb, uint64_t v)
{
    char tmp[SC_U64_DIGITS_MAX];
    const char *p = sc_u64_digits(tmp + sizeof tmp, v);
    sc_sb_mem(sb, p, (size_t)(tmp + sizeof tmp - p));
}

void sc_sb_i64(sc_sb_t *sb, int64_t v)
{
    if (v < 0) {
        sc_sb_mem(sb, "-", 1);
        sc_sb_u64(sb, (uint64_t)0 - (uint64_t)v);   /* INT64_MIN safe */
    } else {
        sc_sb_u64(sb, (uint64_t)v);
    }
}

/* Two lower-case hex digits a byte from the core's one digit loop (num.c): no second digit
 * table. Only signatures and passwords go through here, a few dozen bytes per bind. */
void sc_sb_hex(sc_sb_t *sb, const uint8_t *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char h[2];
        sc_sb_mem(sb, sc_u32_digits(h + 2, data[i], 16, 2), 2);
    }
}

int sc_sb_finish(sc_sb_t *sb, size_t *len)
{
    if (sb->overflow) {
        if (sb->p != NULL && sb->cap > 0)
            sb->p[0] = '\0';   /* never hand out a silently truncated string */
        if (len != NULL)
            *len = 0;
        return SC_ERR_NOSPACE;
    }
    if (len != NULL)
        *len = sb->len;
    return SC_OK;
}

size_t sc_cloud_strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n] != '\0')
        n++;
    return n;
}
