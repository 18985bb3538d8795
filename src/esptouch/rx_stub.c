/* Link stub: replaced by the real receiver (rx.c, chansearch.c). Delete when they land. */
#include <string.h>

#include "smartcfg/esptouch_rx.h"

sc_err_t sc_et_rx_init(sc_et_rx_t *rx, const sc_et_rx_config_t *cfg)
{
    (void)cfg;
    memset(rx, 0, sizeof *rx);
    return SC_ERR_UNSUPPORTED;
}
void sc_et_rx_reset(sc_et_rx_t *rx) { (void)rx; }
sc_err_t sc_et_rx_set_scan(sc_et_rx_t *rx, const sc_scan_entry_t *list, size_t n)
{
    (void)rx; (void)list; (void)n;
    return SC_ERR_UNSUPPORTED;
}
sc_et_event_type_t sc_et_rx_feed(sc_et_rx_t *rx, const sc_frame_t *f, uint32_t now_ms, sc_et_event_t *ev)
{
    (void)rx; (void)f; (void)now_ms;
    if (ev)
        memset(ev, 0, sizeof *ev);
    return SC_ET_EV_NONE;
}
sc_et_event_type_t sc_et_rx_tick(sc_et_rx_t *rx, uint32_t now_ms, sc_et_event_t *ev)
{
    return sc_et_rx_feed(rx, NULL, now_ms, ev);
}
uint8_t sc_et_rx_locked_channel(const sc_et_rx_t *rx) { (void)rx; return 0; }
void sc_et_rx_stats(const sc_et_rx_t *rx, sc_et_rx_stats_t *out) { (void)rx; memset(out, 0, sizeof *out); }
sc_err_t sc_chansearch_init(sc_chansearch_t *cs, const uint8_t *channels, size_t n, uint32_t dwell_ms)
{
    (void)channels; (void)n; (void)dwell_ms;
    memset(cs, 0, sizeof *cs);
    return SC_ERR_UNSUPPORTED;
}
uint8_t sc_chansearch_step(sc_chansearch_t *cs, const sc_et_rx_t *rx, uint32_t now_ms, uint32_t *until_ms)
{
    (void)cs; (void)rx;
    *until_ms = now_ms + 100;
    return 1;
}
