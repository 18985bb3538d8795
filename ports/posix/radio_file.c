/* SPDX-License-Identifier: Apache-2.0 */
/* Capture-file radio. The driver decides when each frame "arrives": at once with the capture's
 * own timestamps as the device clock (fast replay), or at capture pace on the wall clock
 * (--realtime). Tuning is emulated: while the device searches, frames recorded on another
 * channel than the tuned one are dropped, as a hopping sniffer would miss them. */
#include <stdio.h>
#include <string.h>

#include "sc_posix_radio.h"

sc_err_t sc_posix_radio_file_open(sc_posix_radio_t *r, const char *path, char *errbuf, size_t errlen);

sc_err_t sc_posix_radio_file_open(sc_posix_radio_t *r, const char *path, char *errbuf, size_t errlen)
{
    if (!path[0]) {
        snprintf(errbuf, errlen, "file: needs a capture path");
        return SC_ERR_INVAL;
    }
    r->src = sc_pcap_open_file(path, errbuf, errlen);
    return r->src ? SC_OK : SC_ERR_IO;
}

int sc_posix_radio_file_peek(sc_posix_radio_t *r, const sc_frame_t **f, uint32_t *rel_ms, char *errbuf,
                             size_t errlen)
{
    if (r->kind != SC_POSIX_RADIO_FILE || !r->src)
        return 0;
    if (!r->have_pending) {
        if (r->eof)
            return 0;
        int n = sc_pcap_next(r->src, &r->pending);
        if (n < 0) {
            snprintf(errbuf, errlen, "capture file: %s", sc_pcap_error(r->src));
            r->eof = true;
            return -1;
        }
        if (n == 0) {
            r->eof = true;
            return 0;
        }
        /* Captures merged from several sources can step backwards, a record can carry an
         * absurd time: the device's clock must neither stop nor leap (sc_pcap_clock_t). */
        (void)sc_pcap_clock_at(&r->clock, r->pending.ts_us);
        r->have_pending = true;
    }
    *f = &r->pending;
    *rel_ms = (uint32_t)(r->clock.rel / 1000u);
    return 1;
}

bool sc_posix_radio_file_take(sc_posix_radio_t *r, sc_frame_t *out)
{
    if (!r->have_pending)
        return false;
    r->have_pending = false;
    if (!r->any_channel && r->pending.channel && r->pending.channel != r->channel) {
        r->dropped_channel++;
        return false;
    }
    *out = r->pending;
    if (!out->channel)
        out->channel = r->channel;
    r->delivered++;
    return true;
}
