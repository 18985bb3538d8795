/* SPDX-License-Identifier: Apache-2.0 */
/* The UDP 8266 app <-> device protocol (tencent.md §2): parse the app's requests, build the
 * identity and error replies. Pure functions over caller buffers; the parser uses cJSON (it
 * allocates, bounded by SC_BIND_DGRAM_MAX) and accepts both the compact ESP and the
 * pretty-printed SDK forms. The service that runs it lives in the device (device.h). */
#ifndef SMARTCFG_BIND_H
#define SMARTCFG_BIND_H

#include "smartcfg/cloud.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SC_BIND_PORT 8266
#define SC_BIND_LOG_PORT 9876
#define SC_BIND_DGRAM_MAX 1024       /* longer datagrams are refused unparsed */
#define SC_BIND_REPLY_MAX 320

/* tencent.md §3 error ids and sub ids used by the device. */
enum {
    SC_ERRID_OK = 0,
    SC_ERRID_MQTT_CONNECT = 1,
    SC_ERRID_APP_CMD = 2,
    SC_ERRID_BOARDING_STOP = 3,
    SC_ERRID_TASK = 4,
    SC_ERRID_STA_INIT = 6,
    SC_ERRID_AP_INIT = 7,
    SC_ERRID_WIFI_START = 8,
    SC_ERRID_WIFI_CONFIG = 9,
    SC_ERRID_WIFI_CONNECT = 10,
    SC_ERRID_SC_START = 13,
    SC_ERRID_SC_DATA = 14,
    SC_ERRID_SRV_OPEN = 15,
    SC_ERRID_SRV_BIND = 16,
    SC_ERRID_SRV_SEND = 22,
    SC_ERRID_TOKEN_SEND = 23,
    SC_ERRID_TOKEN_REPLY = 24,
    SC_ERRID_TOKEN_TIMEOUT = 25,
    SC_ERRID_REGION = 26,
    SC_ERRID_DEVINFO = 27,
    SC_ERRID__COUNT = 28
};
enum {
    SC_SUBID_STOP_APP = 101,
    SC_SUBID_STOP_AT = 102,
    SC_SUBID_TIMEOUT = 103,
    SC_SUBID_INVALID = 104,
    SC_SUBID_JSON = 201,
    SC_SUBID_TIMESTAMP = 202,
    SC_SUBID_SIGNATURE = 203,
    SC_SUBID_AP_INFO = 204,
    SC_SUBID_JSON_PRINT = 205,
    SC_SUBID_COMM_TASK = 206,
    /* Ours: join failure reasons under err 10 (sc_sta_reason_t + 300). */
    SC_SUBID_JOIN_BASE = 300,
    /* Ours: a request whose token differs from the one already accepted (err 2). */
    SC_SUBID_TOKEN_CHANGED = 207,
    /* Ours: unknown cmdType (err 2). */
    SC_SUBID_UNKNOWN_CMD = 208
};

/* The reference text of an error id ("MQTT connect error!"); "Unknown error!" if out of range. */
const char *sc_bind_err_text(uint16_t err_id);

typedef enum {
    SC_BIND_CMD_TOKEN = 0,
    SC_BIND_CMD_SOFTAP = 1,
    SC_BIND_CMD_REPLY = 2,
    SC_BIND_CMD_LOG = 3
} sc_bind_cmd_t;

typedef struct {
    int cmd_type;
    char token[SC_TOKEN_MAX + 1];
    char region[SC_REGION_MAX + 1];
    bool has_region;
    uint8_t ssid[32];
    uint8_t ssid_len;
    uint8_t password[64];     /* secret: wipe after use */
    uint8_t password_len;
} sc_bind_req_t;

/* Parses one datagram. On failure returns SC_ERR_FORMAT (or SC_ERR_RANGE / SC_ERR_UNSUPPORTED)
 * and sets *err_id / *sub_id to what the app is told (err 2, sub 201 JSON / 204 AP info /
 * 208 unknown cmdType). Never reads past len; len > SC_BIND_DGRAM_MAX is refused unparsed. */
sc_err_t sc_bind_parse(const void *buf, size_t len, sc_bind_req_t *out, uint16_t *err_id, int32_t *sub_id);

/* {"cmdType":2,"productId":..,"deviceName":..,"productRegion":..,"protoVersion":"2.0"}\r\n */
sc_err_t sc_bind_build_identity(char *out, size_t cap, const sc_identity_t *id, size_t *len);
/* {"cmdType":2,"deviceReply":"Current_Error"|"Previous_Error","log":"<text> (<err>, <sub>)"}\r\n */
sc_err_t sc_bind_build_error(char *out, size_t cap, bool previous, uint16_t err_id, int32_t sub_id, size_t *len);
/* Parses a device reply (either form): identity (*is_error false) or an error report. For tools/tests. */
typedef struct {
    bool is_error, previous;
    char product_id[SC_PRODUCT_ID_MAX + 1];
    char device_name[SC_DEVICE_NAME_MAX + 1];
    char region[SC_REGION_MAX + 1];
    char log[128];
} sc_bind_reply_t;
sc_err_t sc_bind_parse_reply(const void *buf, size_t len, sc_bind_reply_t *out);

#ifdef __cplusplus
}
#endif
#endif
