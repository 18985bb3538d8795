/* SPDX-License-Identifier: Apache-2.0 */
/* The one table of Tencent provisioning errors (docs/protocol/tencent.md#errors): the error
 * ids and sub ids a device reports to the app (8266 Current_Error / Previous_Error), to the AT
 * host (+TCSTARTSMART:WIFI_CONNECT_FAILED,<err>,<sub>) and in its records; the reference text
 * of each id (what goes on the wire, byte for byte) and a plain reason for people. Core, CLI,
 * local cloud and docs take the numbers and words from here and nowhere else. */
#ifndef SMARTCFG_ERRORS_H
#define SMARTCFG_ERRORS_H

#include "smartcfg/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Error ids (err_id). The gaps are ids the reference defines that we never raise; their
 * texts are still in the table (a peer may send them). */
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

/* Sub ids (sub_id). Where none of these applies the sub id is an sc_err_t, an errno of the
 * port, or the cloud's reply code (err 24). */
enum {
    SC_SUBID_STOP_APP = 101,      /* stopped by the app / the user */
    SC_SUBID_STOP_AT = 102,       /* stopped by the AT host */
    SC_SUBID_TIMEOUT = 103,       /* a step ran out of time */
    SC_SUBID_INVALID = 104,       /* invalid data */
    SC_SUBID_JSON = 201,          /* request is not the JSON we expect */
    SC_SUBID_TIMESTAMP = 202,
    SC_SUBID_SIGNATURE = 203,
    SC_SUBID_AP_INFO = 204,       /* token / SSID / password missing or too long */
    SC_SUBID_JSON_PRINT = 205,
    SC_SUBID_COMM_TASK = 206,
    /* Ours: a request whose token differs from the one already accepted (err 2). */
    SC_SUBID_TOKEN_CHANGED = 207,
    /* Ours: unknown cmdType (err 2). */
    SC_SUBID_UNKNOWN_CMD = 208,
    /* Ours: join failure reasons under err 10 (SC_SUBID_JOIN_BASE + sc_sta_reason_t). */
    SC_SUBID_JOIN_BASE = 300
};

/* Dynamic registration's codes: the "code" of IoT Explorer's /register/dev reply, which
 * AT+TCDEVREG prints as +TCDEVREG:FAIL,<code> (the reference command set's table). The local
 * cloud answers with these; SC_DYNREG_RATE_LIMITED is ours (no reference code). */
enum {
    SC_DYNREG_INTERNAL = 1000,          /* internal error */
    SC_DYNREG_NO_PRODUCT = 1004,        /* the product does not exist */
    SC_DYNREG_INVALID_PARAM = 1006,     /* a parameter is missing or invalid */
    SC_DYNREG_SIGNATURE = 1010,         /* the signature check failed (also: stale or replayed) */
    SC_DYNREG_NOT_SUPPORTED = 1011,     /* the product does not allow dynamic registration */
    SC_DYNREG_TOO_MANY_TIMES = 1012,    /* the device was registered too many times */
    SC_DYNREG_NO_SUCH_DEVICE = 1020,    /* pre-created mode: the device is not defined */
    SC_DYNREG_REGISTERED = 1021,        /* the device is already registered */
    SC_DYNREG_LIMIT = 1031,             /* the product's automatic registrations are used up */
    SC_DYNREG_RATE_LIMITED = 1429       /* ours: too many requests from one address */
};

/* The reference text of an error id ("MQTT connect error!"); "Unknown error!" if unknown.
 * This is what the 8266 error reply's "log" carries. */
SC_API const char *sc_errid_text(uint16_t err_id);
/* What a sub id means ("execution timeout"); NULL when it is not one of the named sub ids
 * (then it is an sc_err_t, an errno or a cloud code). */
SC_API const char *sc_subid_text(int32_t sub_id);
/* A plain sentence for people ("wrong Wi-Fi password or AP out of range"), from the pair:
 * the sub id refines the error id where it says more. Never NULL. Built with
 * SMARTCFG_WITH_REASONS=0 (the default on bare metal, features.h) it is sc_errid_text's line. */
SC_API const char *sc_errid_reason(uint16_t err_id, int32_t sub_id);
/* true for the errors of the cloud step (MQTT connect, token publish/reply/timeout, device
 * info): the network and the credentials are fine, the cloud side is not. */
SC_API bool sc_errid_is_cloud(uint16_t err_id);

#ifdef __cplusplus
}
#endif
#endif
