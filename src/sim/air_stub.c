/* Link stub: replaced by the real air simulator (air.c). Delete when it lands. */
#include <string.h>

#include "smartcfg/air.h"

void sc_air_config_default(sc_air_config_t *cfg) { memset(cfg, 0, sizeof *cfg); }
sc_err_t sc_air_init(sc_air_t *air, const sc_air_config_t *cfg)
{
    (void)cfg;
    memset(air, 0, sizeof *air);
    return SC_ERR_UNSUPPORTED;
}
sc_err_t sc_air_next(sc_air_t *air, sc_frame_t *out, uint32_t *t_ms)
{
    (void)air; (void)out; (void)t_ms;
    return SC_ERR_DONE;
}
uint32_t sc_air_floor_ms(const sc_air_config_t *cfg) { (void)cfg; return 0; }
uint16_t sc_air_overhead(sc_cipher_t c, int qos, int fcs) { (void)c; (void)qos; (void)fcs; return 0; }
