/* SPDX-License-Identifier: Apache-2.0 */
/* A core built without the cloud module (SMARTCFG_WITH_CLOUD=0) still links the device: the
 * binder it would call reports "not supported", so a device configured without skip_cloud
 * fails its bind step with err 1 (MQTT connect) / sub SC_ERR_UNSUPPORTED instead of a
 * firmware that does not link. With the cloud module this file is empty. */
#include "smartcfg/binder.h"

#if !SMARTCFG_WITH_CLOUD
sc_err_t sc_binder_start(sc_binder_t *b, const sc_hal_t *hal, const sc_cloud_config_t *cfg,
                         sc_identity_t *id, const char *token, uint32_t now_ms)
{
    (void)b, (void)hal, (void)cfg, (void)id, (void)token, (void)now_ms;
    return SC_ERR_UNSUPPORTED;
}

sc_binder_status_t sc_binder_step(sc_binder_t *b, uint32_t now_ms, uint16_t *err_id, int32_t *sub_id)
{
    (void)b, (void)now_ms;
    if (err_id)
        *err_id = 1;
    if (sub_id)
        *sub_id = SC_ERR_UNSUPPORTED;
    return SC_BINDER_FAILED;
}

void sc_binder_abort(sc_binder_t *b) { (void)b; }
#else
typedef int sc_cloud_off_unused_t; /* ISO C: a translation unit holds at least one declaration */
#endif
