/* Link stub: replaced by the real device orchestrator. Delete when it lands. */
#include "smartcfg/device.h"

const char *sc_device_state_name(sc_device_state_t s) { (void)s; return "idle"; }
void sc_device_config_default(sc_device_config_t *cfg) { (void)cfg; }
size_t sc_device_size(void) { return 1; }
sc_err_t sc_device_init(sc_device_t *dev, const sc_hal_t *hal, const sc_device_config_t *cfg)
{
    (void)dev; (void)hal; (void)cfg;
    return SC_ERR_UNSUPPORTED;
}
sc_err_t sc_device_start(sc_device_t *dev, uint32_t now_ms) { (void)dev; (void)now_ms; return SC_ERR_UNSUPPORTED; }
sc_err_t sc_device_start_softap(sc_device_t *dev, const char *ssid, const char *psw, uint8_t ch, uint32_t now_ms)
{
    (void)dev; (void)ssid; (void)psw; (void)ch; (void)now_ms;
    return SC_ERR_UNSUPPORTED;
}
void sc_device_stop(sc_device_t *dev, int32_t reason, uint32_t now_ms) { (void)dev; (void)reason; (void)now_ms; }
void sc_device_on_frame(sc_device_t *dev, const sc_frame_t *f, uint32_t now_ms) { (void)dev; (void)f; (void)now_ms; }
uint32_t sc_device_step(sc_device_t *dev, uint32_t now_ms) { (void)dev; return now_ms + 1000; }
sc_device_state_t sc_device_state(const sc_device_t *dev) { (void)dev; return SC_DEV_IDLE; }
uint8_t sc_device_channel(const sc_device_t *dev) { (void)dev; return 0; }
sc_err_t sc_device_start_log_softap(sc_device_t *dev, uint32_t now_ms) { (void)dev; (void)now_ms; return SC_ERR_UNSUPPORTED; }
