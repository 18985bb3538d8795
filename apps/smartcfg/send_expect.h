/* SPDX-License-Identifier: Apache-2.0 */
/* smartcfg send --expect FILE: the devices a rack should have (docs/send.md, "Provisioning a
 * rack"). One device a line: its MAC as its ack carries it, its name as its UDP 8266 answer
 * carries it (DEVICE_NAME or PRODUCT_ID/DEVICE_NAME), or both; '#' starts a comment. The run's
 * devices are matched to the lines (by MAC at their ack, by name once they told it), so the
 * summary names each expected device that never came and flags those nobody expected. */
#ifndef SEND_EXPECT_H
#define SEND_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smartcfg/limits.h"
#include "smartcfg/sender.h"
#include "sc_posix_sender.h"

#define SEND_EXPECT_LINE_MAX 255 /* characters of one line, comment included */

/* What became of one expected device (send_expect_state). */
typedef enum {
    SEND_EXPECT_MISSING = 0, /* no device of the run is it: never acked (or never told its name) */
    SEND_EXPECT_NOT_TAKEN,   /* it acked, and the run did not take it (sc_posix_sender_extra) */
    SEND_EXPECT_UNFINISHED,  /* taken, not done (an interrupted run) */
    SEND_EXPECT_FAILED,      /* taken and failed */
    SEND_EXPECT_OTHER_NAME,  /* its MAC acked, and the device told another name than the line's */
    SEND_EXPECT_DONE         /* taken and done for the flow */
} send_expect_state_t;

typedef struct {
    unsigned line;                              /* in the file, from 1 */
    bool has_mac;
    uint8_t mac[SC_MAC_LEN];
    char product_id[SC_PRODUCT_ID_MAX + 1];     /* "" unless PRODUCT_ID/DEVICE_NAME was given */
    char device_name[SC_DEVICE_NAME_MAX + 1];   /* "" when the line gives only a MAC */
    char entry[18 + SC_PRODUCT_ID_MAX + 1 + SC_DEVICE_NAME_MAX + 1]; /* the line, tidied: a re-run's line */
} send_expect_entry_t;

typedef struct {
    const char *path;
    uint32_t n;
    send_expect_entry_t e[SC_SEND_MAX_DEVICES];
    /* send_expect_match's result */
    int dev_of[SC_SEND_MAX_DEVICES];        /* entry -> the run's device, -1 */
    int extra_of[SC_SEND_MAX_DEVICES];      /* entry -> a device not taken (by MAC), -1 */
    int entry_of_dev[SC_SEND_MAX_DEVICES];  /* the run's device -> entry, -1 */
    bool unidentified;                      /* a device the run took never told its name */
} send_expect_t;

/* A secret of the run (the Wi-Fi password, the token, ...) that no line may name: a password
 * file given as --expect whose password reads as a device name (`hunter2`) was taken as one, and
 * the summary listed it as "never acked" (docs/security.md F96, F120). */
typedef struct {
    const char *what;      /* as the message names it: "the Wi-Fi password" */
    const uint8_t *bytes;  /* NULL or len 0: none */
    size_t len;
    bool hex_too;          /* its hex form (either case) too: what --password-hex takes */
} send_expect_secret_t;

/* Reads FILE ("-": stdin; a FIFO or a pipe: wait_s seconds for its writer and its end). 0, or -1 with why: every
 * bad line (up to three) with its number; a line that is one of the nsecrets secrets, or has
 * one as a field, is a bad line, told by its number and the secret's name only. */
int send_expect_load(send_expect_t *x, const char *path, unsigned wait_s, const send_expect_secret_t *secrets,
                     size_t nsecrets, char *why, size_t cap);
/* Matches the run's devices (and those it did not take) to the lines: by MAC first, then the
 * lines without a MAC by the name a device told, in the order the devices acked. */
void send_expect_match(send_expect_t *x, const sc_posix_sender_t *s);
/* Every line has a device of the run (after send_expect_match). */
bool send_expect_all_found(const send_expect_t *x);
send_expect_state_t send_expect_state(const send_expect_t *x, const sc_posix_sender_t *s, uint32_t i);
const char *send_expect_state_name(send_expect_state_t st);
/* A device of the run matched no line: known once every line with a name it could be has one,
 * or it told its name. */
bool send_expect_unexpected(const send_expect_t *x, const sc_posix_sender_t *s, uint32_t dev);
/* An extra (not taken) device's line, -1. */
int send_expect_extra_line(const send_expect_t *x, const uint8_t mac[SC_MAC_LEN]);

#endif
