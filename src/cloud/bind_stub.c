/* Link stub: replaced by the real cloud binder. Delete when it lands. */
#include <string.h>

#include "smartcfg/cloud.h"

sc_err_t sc_cloud_bind_start(sc_cloud_bind_t *b, const sc_hal_t *hal, const sc_cloud_config_t *cfg,
                             sc_identity_t *id, const char *token, uint32_t now_ms)
{
    (void)hal; (void)cfg; (void)id; (void)token; (void)now_ms;
    memset(b, 0, sizeof *b);
    return SC_ERR_UNSUPPORTED;
}
sc_bind_status_t sc_cloud_bind_step(sc_cloud_bind_t *b, uint32_t now_ms, uint16_t *err_id, int32_t *sub_id)
{
    (void)b; (void)now_ms;
    *err_id = 1;
    *sub_id = SC_ERR_UNSUPPORTED;
    return SC_BIND_FAILED;
}
void sc_cloud_bind_abort(sc_cloud_bind_t *b) { (void)b; }
