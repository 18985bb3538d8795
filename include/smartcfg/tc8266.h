/* SPDX-License-Identifier: Apache-2.0 */
/* The UDP 8266 app <-> device protocol (docs/protocol/tencent.md#the-udp-8266-service): parse the
 * app's requests, build the identity and error replies. Pure functions over caller buffers; the
 * parser uses cJSON (it allocates, bounded by SC_TC8266_DGRAM_MAX) and accepts both the compact ESP
 * and the pretty-printed SDK forms. The service that runs it lives in the device (device.h). */
#ifndef SMARTCFG_TC8266_H
#define SMARTCFG_TC8266_H

#include "smartcfg/cloud.h"
#include "smartcfg/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SC_TC8266_LOG_AP_SSID "ESP-LOG-QUERY"    /* the log soft-AP the app knows to join */
#define SC_TC8266_LOG_AP_PASSWORD "86013388"
#define SC_TC8266_DGRAM_MAX 1024       /* longer datagrams are refused unparsed */
#define SC_TC8266_REPLY_MAX 320

typedef enum {
    SC_TC8266_CMD_TOKEN = 0,
    SC_TC8266_CMD_SOFTAP = 1,
    SC_TC8266_CMD_REPLY = 2,
    SC_TC8266_CMD_LOG = 3
} sc_tc8266_cmd_t;

typedef struct {
    int cmd_type;
    char token[SC_TOKEN_MAX + 1];
    char region[SC_REGION_MAX + 1];
    bool has_region;
    uint8_t ssid[SC_SSID_MAX];
    uint8_t ssid_len;
    uint8_t password[SC_PASSWORD_MAX];     /* secret: wipe after use */
    uint8_t password_len;
} sc_tc8266_req_t;

/* A token as the cloud issues it: IoT Explorer and our local cloud hand out 32 lower-case hex
 * digits; we accept 1..SC_TOKEN_MAX characters of [0-9A-Za-z._-] so a longer or differently
 * cased token format still works, and refuse everything else (NUL, control, non-ASCII,
 * quotes, spaces, over-long): such a token is never bound. */
#define SC_TC8266_TOKEN_MIN 1
SC_API bool sc_tc8266_token_valid(const char *token);

/* Parses one datagram. A NUL anywhere (raw or as the \u0000 escape) is a malformed request
 * (err 2, sub 201); a token that fails sc_tc8266_token_valid is err 2, sub 204. On failure returns SC_ERR_FORMAT (or SC_ERR_RANGE / SC_ERR_UNSUPPORTED)
 * and sets *err_id / *sub_id to what the app is told (err 2, sub 201 JSON / 204 AP info /
 * 208 unknown cmdType). Never reads past len; len > SC_TC8266_DGRAM_MAX is refused unparsed. */
SC_API sc_err_t sc_tc8266_parse_request(const void *buf, size_t len, sc_tc8266_req_t *out, uint16_t *err_id, int32_t *sub_id);

/* {"cmdType":2,"productId":..,"deviceName":..,"productRegion":..,"protoVersion":"2.0"}\r\n */
SC_API sc_err_t sc_tc8266_build_identity(char *out, size_t cap, const sc_identity_t *id, size_t *len);
/* {"cmdType":2,"deviceReply":"Current_Error"|"Previous_Error","log":"<text> (<err>, <sub>)"}\r\n */
SC_API sc_err_t sc_tc8266_build_error(char *out, size_t cap, bool previous, uint16_t err_id, int32_t sub_id, size_t *len);
/* A device's reply as the app reads it (either form). */
#define SC_TC8266_LOG_TEXT_MAX 159   /* longer "log" texts are cut: they are for people */
typedef struct {
    bool other_cmd;          /* a valid message with cmdType != 2 (5, 7: other flows) */
    bool is_error, previous; /* deviceReply Current_Error / Previous_Error */
    bool has_log;            /* is_error: a "log" string came with it */
    char product_id[SC_PRODUCT_ID_MAX + 1];
    char device_name[SC_DEVICE_NAME_MAX + 1];
    char region[SC_REGION_MAX + 1];      /* optional (the SDK form has none); cut to fit */
    char log[SC_TC8266_LOG_TEXT_MAX + 1];
    const char *why;         /* SC_ERR_FORMAT: what is wrong, in words (static text) */
} sc_tc8266_reply_t;
/* Parses the first JSON object of buf[0..len). A datagram may carry several (each usually
 * followed by "\r\n"): *used (may be NULL) gets the bytes the object took, 0 when buf does
 * not start with JSON at all (then nothing after it can be found either). SC_OK: an identity
 * (product id and device name, both non-empty and within the limits), an error report, or
 * other_cmd. SC_ERR_FORMAT: anything else, with out->why. Strings are copied as received:
 * a caller that prints them neutralises control characters. */
SC_API sc_err_t sc_tc8266_parse_reply(const void *buf, size_t len, sc_tc8266_reply_t *out, size_t *used);

#ifdef __cplusplus
}
#endif
#endif
