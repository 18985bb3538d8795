/* SPDX-License-Identifier: Apache-2.0 */
/* Radio HAL: spec parsing, the HAL table and what the backends share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_posix_netif.h"
#include "sc_posix_radio.h"

sc_err_t sc_posix_radio_pcap_open(sc_posix_radio_t *r, const char *iface, char *errbuf, size_t errlen);
sc_err_t sc_posix_radio_pcap_tune(sc_posix_radio_t *r, uint8_t channel);
void sc_posix_radio_pcap_close(sc_posix_radio_t *r);
sc_err_t sc_posix_radio_file_open(sc_posix_radio_t *r, const char *path, char *errbuf, size_t errlen);
sc_err_t sc_posix_radio_udp_open(sc_posix_radio_t *r, uint16_t port, char *errbuf, size_t errlen);
void sc_posix_radio_udp_close(sc_posix_radio_t *r);
int sc_posix_radio_udp_read(sc_posix_radio_t *r, uint32_t now_ms, sc_frame_t *f, char *errbuf, size_t errlen);

uint32_t sc_posix_channel_freq(uint8_t ch)
{
    if (ch >= 1 && ch <= 13)
        return 2407u + 5u * ch;
    if (ch == 14)
        return 2484u;
    if (ch >= 32 && ch <= 177)
        return 5000u + 5u * ch;
    return 0;
}

static sc_err_t radio_set_promiscuous(void *ctx, bool on)
{
    sc_posix_radio_t *r = ctx;
    r->promisc = on;
    r->promisc_called = true;
    return SC_OK;
}

static sc_err_t radio_set_channel(void *ctx, uint8_t channel)
{
    sc_posix_radio_t *r = ctx;
    if (sc_posix_channel_freq(channel) == 0)
        return SC_ERR_RANGE;
    if (r->kind == SC_POSIX_RADIO_PCAP && r->wireless) {
        sc_err_t err = sc_posix_radio_pcap_tune(r, channel);
        if (err != SC_OK) {
            r->channel_errors++;
            return err;
        }
    }
    /* Non-Wi-Fi capture interfaces, files and the virtual radio have nothing to tune: the
     * channel is reported as asked so the device's channel search settles normally. */
    r->channel = channel;
    return SC_OK;
}

void sc_posix_vradio_opts_default(sc_posix_vradio_opts_t *o)
{
    memset(o, 0, sizeof *o);
    memcpy(o->bssid, sc_posix_default_bssid, SC_MAC_LEN);
    o->cipher = SC_CIPHER_CCMP;
    o->qos = false;
    o->fcs = true;
}

sc_err_t sc_posix_radio_open(sc_posix_radio_t *r, const char *spec, const sc_posix_vradio_opts_t *v,
                             const sc_hal_sys_t *sys, sc_hal_radio_t *hal, char *errbuf, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->sys = sys;
    r->fd = -1;
    for (size_t i = 0; i < sizeof r->mcast_fds / sizeof r->mcast_fds[0]; i++)
        r->mcast_fds[i] = -1;
    r->channel = 1;
    if (v)
        r->v = *v;
    else
        sc_posix_vradio_opts_default(&r->v);
    if (!spec || !spec[0]) {
        snprintf(errbuf, errlen, "--radio needs a spec: pcap:IFACE, file:FILE or udp[:PORT]");
        return SC_ERR_INVAL;
    }
    sc_err_t err;
    if (!strncmp(spec, "pcap:", 5)) {
        r->kind = SC_POSIX_RADIO_PCAP;
        err = sc_posix_radio_pcap_open(r, spec + 5, errbuf, errlen);
    } else if (!strncmp(spec, "file:", 5)) {
        r->kind = SC_POSIX_RADIO_FILE;
        err = sc_posix_radio_file_open(r, spec + 5, errbuf, errlen);
    } else if (!strcmp(spec, "udp") || !strncmp(spec, "udp:", 4)) {
        r->kind = SC_POSIX_RADIO_UDP;
        unsigned long port = 7001;
        if (spec[3] == ':') {
            char *end;
            port = strtoul(spec + 4, &end, 10);
            if (end == spec + 4 || *end || port == 0 || port > 65535) {
                snprintf(errbuf, errlen, "udp: '%s' is not a port number (1..65535)", spec + 4);
                return SC_ERR_INVAL;
            }
        }
        if (r->v.loss < 0 || r->v.loss > 1) {
            snprintf(errbuf, errlen, "virtual loss must be between 0 and 1");
            return SC_ERR_RANGE;
        }
        err = sc_posix_radio_udp_open(r, (uint16_t)port, errbuf, errlen);
    } else {
        /* the kind given (before any ':'), so a typo or a stray comment shows */
        snprintf(errbuf, errlen, "unknown --radio backend '%.*s' (want pcap:IFACE, file:FILE or udp[:PORT])",
                 (int)(strcspn(spec, ":") < 40 ? strcspn(spec, ":") : 40), spec);
        return SC_ERR_INVAL;
    }
    if (err != SC_OK)
        return err;
    if (hal) {
        hal->ctx = r;
        hal->set_promiscuous = radio_set_promiscuous;
        hal->set_channel = radio_set_channel;
        hal->scan = NULL;
    }
    return SC_OK;
}

void sc_posix_radio_close(sc_posix_radio_t *r)
{
    if (r->kind == SC_POSIX_RADIO_UDP)
        sc_posix_radio_udp_close(r);
    else
        sc_posix_radio_pcap_close(r);
}

int sc_posix_radio_fd(const sc_posix_radio_t *r)
{
    if (r->kind == SC_POSIX_RADIO_UDP)
        return r->fd;
    if (r->kind == SC_POSIX_RADIO_PCAP && r->src)
        return sc_pcap_fd(r->src);
    return -1;
}

int sc_posix_radio_read(sc_posix_radio_t *r, uint32_t now_ms, sc_frame_t *f, char *errbuf, size_t errlen)
{
    if (r->kind == SC_POSIX_RADIO_UDP)
        return sc_posix_radio_udp_read(r, now_ms, f, errbuf, errlen);
    if (r->kind != SC_POSIX_RADIO_PCAP || !r->src)
        return 0;
    for (;;) {
        int n = sc_pcap_next(r->src, f);
        if (n < 0) {
            snprintf(errbuf, errlen, "capture on %s failed: %s", r->iface, sc_pcap_error(r->src));
            return -1;
        }
        if (n == 0)
            return 0;
        /* After a hop the kernel may still hold frames of the previous channel. */
        if (f->channel && r->wireless && f->channel != r->channel) {
            r->dropped_channel++;
            continue;
        }
        if (!f->channel)
            f->channel = r->channel;
        r->delivered++;
        return 1;
    }
}
