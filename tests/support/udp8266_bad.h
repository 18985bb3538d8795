/* SPDX-License-Identifier: Apache-2.0 */
/* The UDP 8266 bad-input matrix, shared by the host device test (tests/unit/test_device.c)
 * and the Cortex-M4 self-test (tests/m4/selftest.c): each datagram must get exactly one
 * Current_Error reply "<text of err> (err, sub)" to its sender, with no state change. */
#ifndef SC_UDP8266_BAD_H
#define SC_UDP8266_BAD_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *d;
    size_t len;      /* 0: strlen(d) */
    uint16_t err;
    int32_t sub;
} udp8266_bad_t;

/* The caller's buffers the matrix points into: 2999 bytes of 'A' (over the datagram limit),
 * 999 nested '[' (within it: refused before the JSON parser, which would recurse per level)
 * and a token one byte too long. Valid JSON nested 9 levels is refused too (the bound is 8). */
typedef struct {
    char big[3000], deep[1000], longtok[200];
} udp8266_bad_bufs_t;

static inline void udp8266_bad_init(udp8266_bad_bufs_t *b, const char *token32)
{
    memset(b, 0, sizeof *b);
    memset(b->big, 'A', sizeof b->big - 1);
    memset(b->deep, '[', sizeof b->deep - 1);
    snprintf(b->longtok, sizeof b->longtok, "{\"cmdType\":0,\"token\":\"%s0\"}", token32);
}

#define UDP8266_BAD_INPUTS(b)                                                                      \
    {                                                                                              \
        { "", 0, 2, 201 },                                                                         \
        { "not json", 8, 2, 201 },                                                                 \
        { "\xff\xfe\x00garbage", 10, 2, 201 },                                                     \
        { "{", 1, 2, 201 },                                                                        \
        { "[]", 2, 2, 201 },                                                                       \
        { "{\"token\":\"abc\"}", 0, 2, 201 },                                                      \
        { "{\"cmdType\":0}", 0, 2, 201 },                                                          \
        { "{\"cmdType\":\"0\",\"token\":\"abc\"}", 0, 2, 201 },                                    \
        { "{\"cmdType\":0.5,\"token\":\"abc\"}", 0, 2, 201 },                                      \
        { "{\"cmdType\":42,\"token\":\"abc\"}", 0, 2, 208 },                                       \
        { "{\"cmdType\":0,\"token\":7}", 0, 2, 201 },                                              \
        { "{\"cmdType\":0,\"token\":\"\"}", 0, 2, 201 },                                           \
        { (b)->longtok, 0, 2, 204 },                                                               \
        { (b)->big, sizeof (b)->big - 1, 2, 201 },                                                 \
        { (b)->deep, sizeof (b)->deep - 1, 2, 201 },                                               \
        { "{\"cmdType\":0,\"token\":\"abc\",\"region\":\"ap-shanghai\"}", 0, 26, 104 },            \
        { "{\"cmdType\":0,\"token\":\"abc\",\"region\":5}", 0, 2, 201 },                           \
        { "{\"cmdType\":1,\"ssid\":\"x\",\"password\":\"y\",\"token\":\"abc\"}", 0, 2, 204 },     \
        { "{}{\"cmdType\":0,\"token\":\"abc\"}", 2, 2, 201 }, /* valid JSON past the length */     \
        { "{\"cmdType\":0,\"token\":\"abc\",\"x\":[[[[[[[[]]]]]]]]}", 0, 2, 201 }, /* 9 levels */    \
    }
#endif
