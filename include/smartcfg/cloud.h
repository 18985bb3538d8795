/* Tencent Cloud IoT Explorer conventions (tencent.md §6, §7): MQTT credentials and topics,
 * the app_bind_token exchange as a sans-I/O step machine over the MQTT HAL, and dynamic
 * registration. HMAC/SHA/base64/AES from mbedTLS. */
#ifndef SMARTCFG_CLOUD_H
#define SMARTCFG_CLOUD_H

#include "smartcfg/hal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SC_PRODUCT_ID_MAX 10
#define SC_DEVICE_NAME_MAX 48
#define SC_DEVICE_SECRET_MAX 44
#define SC_PRODUCT_SECRET_MAX 64
#define SC_REGION_MAX 32
#define SC_TOKEN_MAX 32

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
    char register_url[160];  /* empty: https://gateway.tencentdevices.com/register/dev */
} sc_cloud_config_t;

/* Outcome of the bind step machine. */
typedef enum { SC_BIND_PENDING = 0, SC_BIND_DONE, SC_BIND_FAILED } sc_bind_status_t;

typedef struct {
    uint64_t opaque[512];    /* private state (buffers for topics/credentials included) */
} sc_cloud_bind_t;

/* Starts: (dynamic registration if needed, persisting the PSK via storage) -> connect ->
 * subscribe -> publish app_bind_token -> wait for the reply with the same clientToken. */
sc_err_t sc_cloud_bind_start(sc_cloud_bind_t *b, const sc_hal_t *hal, const sc_cloud_config_t *cfg,
                             sc_identity_t *id, const char *token, uint32_t now_ms);
/* Drives it; on SC_BIND_FAILED *err_id / *sub_id are the tencent.md §3 codes
 * (1 = MQTT connect, 24 = reply code != 0, 25 = reply timeout, 27 = device info). */
sc_bind_status_t sc_cloud_bind_step(sc_cloud_bind_t *b, uint32_t now_ms, uint16_t *err_id, int32_t *sub_id);
void sc_cloud_bind_abort(sc_cloud_bind_t *b);

#ifdef __cplusplus
}
#endif
#endif
