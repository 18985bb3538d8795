/* SPDX-License-Identifier: Apache-2.0 */
/* A core built without dynamic registration (SMARTCFG_WITH_DYNREG=0: devices provisioned at
 * the factory with their PSK) saves its ~1.8 KB of flash. The binder and AT+TCDEVREG then get
 * "not supported" when a device has no PSK and fail with err 27 (device info) instead of
 * registering. With dynamic registration this file is empty. */
#include "smartcfg/cloud.h"

#if SMARTCFG_WITH_CLOUD && !SMARTCFG_WITH_DYNREG
sc_err_t sc_cloud_dynreg_request(const sc_identity_t *id, uint32_t nonce, uint64_t timestamp, char *out,
                                 size_t cap, size_t *len)
{
    (void)id, (void)nonce, (void)timestamp, (void)out, (void)cap, (void)len;
    return SC_ERR_UNSUPPORTED;
}

sc_err_t sc_cloud_dynreg_decode(const char *product_secret, const void *resp, size_t len, char *psk, size_t cap,
                                int32_t *cloud_code)
{
    (void)product_secret, (void)resp, (void)len, (void)psk, (void)cap, (void)cloud_code;
    return SC_ERR_UNSUPPORTED;
}
#else
typedef int sc_dynreg_off_unused_t; /* ISO C: a translation unit holds at least one declaration */
#endif
