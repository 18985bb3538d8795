/* SPDX-License-Identifier: Apache-2.0 */
/* Tencent Cloud IoT Explorer conventions (docs/protocol/tencent.md#mqtt, #dynamic-registration):
 * MQTT credentials and topics, the app_bind_token messages and dynamic registration, as pure
 * functions over caller buffers. HMAC/SHA/base64/AES from mbedTLS, JSON with cJSON. Public so that
 * the binder (binder.h), the AT front-end (AT+TCMQTTCONN), the local cloud, its broker plugin and
 * tests build and check the very same strings. Guide: docs/cloud-device.md.
 * Left-out modules: its functions are the binder's (SMARTCFG_WITH_CLOUD) and, sc_cloud_dynreg_*,
 * dynamic registration's (SMARTCFG_WITH_DYNREG: without it sc_cloud_dynreg_request and _decode are
 * stand-ins that answer SC_ERR_UNSUPPORTED, the other two are left out); a core built without them
 * has none of them. The header is installed either way: device.h, binder.h and tc8266.h use its
 * types and sizes. A call to one of them in a build without them is a compile error naming the
 * switch (SC_LEFT_OUT, features.h). */
#ifndef SMARTCFG_CLOUD_H
#define SMARTCFG_CLOUD_H

#include "smartcfg/hal.h"
#include "smartcfg/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

#if SMARTCFG_WITH_CLOUD
#define SC_CLOUD_API SC_API
#else
#define SC_CLOUD_API SC_API SC_LEFT_OUT("needs SMARTCFG_WITH_CLOUD")
#endif
#if SMARTCFG_WITH_DYNREG
#define SC_DYNREG_API SC_API
#else
#define SC_DYNREG_API SC_API SC_LEFT_OUT("needs SMARTCFG_WITH_DYNREG")
#endif

typedef struct {
    char product_id[SC_PRODUCT_ID_MAX + 1];
    char device_name[SC_DEVICE_NAME_MAX + 1];
    char device_secret[SC_DEVICE_SECRET_MAX + 1];   /* base64 PSK; empty when dynreg is needed */
    char product_secret[SC_PRODUCT_SECRET_MAX + 1]; /* for dynamic registration; may be empty */
    char region[SC_REGION_MAX + 1];                 /* default "ap-guangzhou" */
} sc_identity_t;

typedef struct {
    char host[128];          /* empty: <ProductId>.iotcloud.tencentdevices.com */
    uint16_t port;           /* 0: 1883 (8883 with tls) */
    bool tls;
    char ca_file[128];
    bool hmac_sha1;          /* false: ;hmacsha256 */
    bool tls_psk;            /* with tls: TLS-PSK instead of certificates (ca_file then serves
                              * registration's HTTPS only): identity = client id, key = the
                              * decoded device secret (docs/protocol/tencent.md#mqtt) */
    char register_url[160];  /* empty: https://gateway.tencentdevices.com/register/dev */
    uint32_t bind_timeout_ms;/* 0: SC_BINDER_TIMEOUT_MS, whole bind incl. connect */
} sc_cloud_config_t;

/* ---- constants ------------------------------------------------------------------------ */
#define SC_CLOUD_HOST_SUFFIX ".iotcloud.tencentdevices.com"
#define SC_CLOUD_PORT_PLAIN 1883
#define SC_CLOUD_PORT_TLS 8883
#define SC_CLOUD_SDKAPPID "21010406"
#define SC_CLOUD_CONNID_LEN 5
/* Username expiry = now + this; with an unknown clock (unix_now 0, or before
 * SC_CLOUD_CLOCK_FLOOR) the ESP SDK's 32-bit LONG_MAX is used instead, which the cloud accepts. */
#define SC_CLOUD_CRED_VALIDITY_S 86400u
#define SC_CLOUD_EXPIRY_UNKNOWN_CLOCK 2147483647u
/* 2023-01-01 00:00 UTC: a wall clock before it has not been set yet. A board counts from 1970
 * (or an RTC chip's reset date, 2000) until SNTP first answers; an expiry a day after that was
 * long past, and the broker refused the device ("expired") until the clock was set. Dynamic
 * registration, whose signed timestamp the cloud checks against its own clock, fails at once
 * with SC_SUBID_TIMESTAMP instead of being refused. */
#define SC_CLOUD_CLOCK_FLOOR 1672531200u
#define SC_CLOUD_REGISTER_URL "https://gateway.tencentdevices.com/register/dev"
#define SC_CLOUD_PSK_KEY "psk"                /* storage key of a dynamically registered PSK */

/* Buffer sizes (with the NUL). */
#define SC_CLOUD_CLIENT_ID_SIZE (SC_PRODUCT_ID_MAX + SC_DEVICE_NAME_MAX + 1)
#define SC_CLOUD_USERNAME_SIZE 112  /* PD;21010406;xxxxx;<20 digits> */
#define SC_CLOUD_PASSWORD_SIZE 80   /* 64 hex + ";hmacsha256" */
#define SC_CLOUD_TOPIC_SIZE 96      /* "$thing/down/service/" + P + "/" + D */
#define SC_CLOUD_CLIENT_TOKEN_SIZE 72

/* ---- MQTT credentials and topics (docs/protocol/tencent.md#mqtt) --------------------------------- */
typedef struct {
    char host[128];
    uint16_t port;
    bool tls;
    bool tls_psk;            /* TLS-PSK: identity client_id, key the decoded device secret */
    char client_id[SC_CLOUD_CLIENT_ID_SIZE];
    char username[SC_CLOUD_USERNAME_SIZE];
    char password[SC_CLOUD_PASSWORD_SIZE];   /* secret: never log it */
} sc_cloud_mqtt_creds_t;

/* Fills out from the identity (device_secret must be set) and cfg (NULL = defaults).
 * unix_now: current Unix time in seconds (0 or before SC_CLOUD_CLOCK_FLOOR = unknown, see
 * SC_CLOUD_EXPIRY_UNKNOWN_CLOCK).
 * random: SC_CLOUD_CONNID_LEN unpredictable bytes, mapped onto [A-Za-z0-9] for the connid.
 * SC_ERR_INVAL for a missing field, SC_ERR_FORMAT if the secret is not base64,
 * SC_ERR_RANGE for fields too long for the buffers. */
SC_CLOUD_API sc_err_t sc_cloud_mqtt_credentials(const sc_identity_t *id, const sc_cloud_config_t *cfg,
                                                uint64_t unix_now, const uint8_t random[SC_CLOUD_CONNID_LEN],
                                                sc_cloud_mqtt_creds_t *out);

/* The one HMAC of the Tencent flow (MQTT password, dynreg signature): lower-case hex of
 * HMAC-SHA1 (sha1) or HMAC-SHA256 of msg keyed with key; out needs 41 / 65 bytes. */
SC_CLOUD_API sc_err_t sc_cloud_hmac_hex(bool sha1, const void *key, size_t key_len, const void *msg, size_t msg_len,
                                        char *out, size_t cap);

/* The password alone: lower-case hex HMAC-SHA256 (or -SHA1) of username keyed with the
 * base64-decoded psk, followed by ";hmacsha256" (";hmacsha1"). */
SC_CLOUD_API sc_err_t sc_cloud_mqtt_password(const char *psk_b64, const char *username, bool sha1, char *out,
                                             size_t cap);
/* The broker's side (the local cloud's auth plugin): is `password` what a device holding
 * psk_b64 sends with `username`? SC_OK yes; SC_ERR_AUTH no; SC_ERR_UNSUPPORTED the suffix is
 * neither ";hmacsha256" nor ";hmacsha1"; SC_ERR_FORMAT no ';' or psk_b64 not base64.
 * The hex may be in either case; the comparison takes the same time wherever it differs.
 * *sha1 (may be NULL) tells which algorithm the password names. */
SC_CLOUD_API sc_err_t sc_cloud_mqtt_password_check(const char *psk_b64, const char *username, const char *password,
                                                   bool *sha1);

/* Gateway bind signature (docs/at.md "Gateway"): base64 of the HMAC-SHA256, keyed with the
 * sub-device's decoded PSK, of "<subP><subD>;<random>;<expiry>" — what the gateway sends in a
 * $gateway/operation "bind" and the cloud recomputes. out needs 45 bytes. */
#define SC_CLOUD_GW_SIGN_SIZE 45
SC_CLOUD_API sc_err_t sc_cloud_gw_bind_sign(const char *psk_b64, const char *sub_pid, const char *sub_dn,
                                            uint32_t random, uint64_t expiry, char *out, size_t cap);

/* "$thing/up/service/<P>/<D>" and "$thing/down/service/<P>/<D>". */
SC_CLOUD_API sc_err_t sc_cloud_topic_up(const sc_identity_t *id, char *out, size_t cap);
SC_CLOUD_API sc_err_t sc_cloud_topic_down(const sc_identity_t *id, char *out, size_t cap);

/* ---- messages (docs/protocol/tencent.md#mqtt) ---------------------------------------------------- */
/* "<DeviceName>-<ms>" */
SC_CLOUD_API sc_err_t sc_cloud_client_token(const char *device_name, uint64_t ms, char *out, size_t cap);

/* Builders write compact JSON and a NUL; *len (may be NULL) gets the length without it.
 * Strings are JSON-escaped. */
SC_CLOUD_API sc_err_t sc_cloud_build_app_bind_token(const char *client_token, const char *token, char *out, size_t cap,
                                              size_t *len);
SC_CLOUD_API sc_err_t sc_cloud_build_app_bind_token_reply(const char *client_token, int32_t code, char *out, size_t cap,
                                                    size_t *len);
SC_CLOUD_API sc_err_t sc_cloud_build_bind_device_query(const char *client_token, uint64_t timestamp_ms, char *out,
                                                       size_t cap, size_t *len);
SC_CLOUD_API sc_err_t sc_cloud_build_bind_device_query_reply(const char *client_token, int32_t code, char *out,
                                                             size_t cap, size_t *len);

typedef enum {
    SC_CLOUD_MSG_OTHER = 0,             /* valid JSON, a method we do not act on */
    SC_CLOUD_MSG_APP_BIND_TOKEN,        /* up: params.token */
    SC_CLOUD_MSG_APP_BIND_TOKEN_REPLY,  /* down: code */
    SC_CLOUD_MSG_BIND_DEVICE_QUERY,     /* up: timestamp */
    SC_CLOUD_MSG_BIND_DEVICE_QUERY_REPLY,/* down: code (0 = bound) */
    SC_CLOUD_MSG_BIND_DEVICE            /* down: the app bound the device */
} sc_cloud_msg_type_t;

typedef struct {
    sc_cloud_msg_type_t type;
    char method[40];                    /* as received (truncated) */
    char client_token[SC_CLOUD_CLIENT_TOKEN_SIZE]; /* empty when absent */
    bool has_code;
    int32_t code;
    char token[SC_TOKEN_MAX + 1];       /* app_bind_token only; secret: never log it */
    uint64_t timestamp;                 /* bind_device_query only */
} sc_cloud_msg_t;

/* Parses one message of either direction (compact or pretty JSON). SC_ERR_FORMAT when it is
 * not a JSON object with a string "method"; SC_ERR_RANGE when a field is too long. */
SC_CLOUD_API sc_err_t sc_cloud_parse_msg(const void *payload, size_t len, sc_cloud_msg_t *out);

/* ---- dynamic registration (docs/protocol/tencent.md#dynamic-registration) ------------------------ */
/* Builds the JSON body {"deviceName","nonce","productId","timestamp","signature"} with
 * signature = base64(hex(HMAC-SHA1(product secret, "deviceName=..&nonce=..&productId=..&timestamp=.."))). */
SC_CLOUD_API sc_err_t sc_cloud_dynreg_request(const sc_identity_t *id, uint32_t nonce, uint64_t timestamp, char *out,
                                        size_t cap, size_t *len);
/* The signature alone (base64 text, 56 characters + NUL). */
SC_DYNREG_API sc_err_t sc_cloud_dynreg_signature(const char *product_secret, const char *product_id,
                                                 const char *device_name, uint32_t nonce, uint64_t timestamp,
                                                 char *out, size_t cap);
/* Decodes the response body: {"code":0,"payload":base64(AES-128-CBC(...))} ->
 * {"encryptionType":2,"psk":"..."} -> psk (base64 text). *cloud_code (may be NULL) gets the
 * "code" field when there is one. SC_ERR_REFUSED: code != 0; SC_ERR_FORMAT: bad JSON/base64;
 * SC_ERR_AUTH: decrypts to garbage (wrong product secret); SC_ERR_UNSUPPORTED: certificate
 * devices (encryptionType 1); SC_ERR_INVAL: product secret shorter than 16. */
SC_CLOUD_API sc_err_t sc_cloud_dynreg_decode(const char *product_secret, const void *resp, size_t len, char *psk,
                                             size_t cap, int32_t *cloud_code);
/* The cloud's side, for the local cloud and tests: encrypts {"encryptionType":2,"psk":psk}
 * and wraps it as {"code":0,"message":"","len":n,"payload":"..."}. */
SC_DYNREG_API sc_err_t sc_cloud_dynreg_response(const char *product_secret, const char *psk, char *out, size_t cap,
                                         size_t *len);

#ifdef __cplusplus
}
#endif
#endif
