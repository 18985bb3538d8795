/* SPDX-License-Identifier: Apache-2.0 */
/* The device host (sc_posix_host.h): HAL assembly and cleanup, the device clock, the frame
 * pump and the poll() loop, the AT front-end and the extra-descriptor hook. */
#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "sc_posix.h"
#include "sc_posix_at.h"
#include "sc_posix_fw.h"
#include "sc_posix_host.h"
#include "sc_posix_http.h"
#include "sc_posix_mqtt.h"
#include "sc_posix_netif.h"
#include "sc_posix_softap.h"
#include "sc_posix_station.h"
#include "sc_posix_storage.h"
#include "sc_posix_udp.h"
#include "smartcfg/at_device.h"
#include "smartcfg/tc8266.h"

#define RADIO_BURST 512    /* frames drained per turn: a flood cannot starve timers and UDP */
#define POLL_MAX_MS 1000   /* signals, --timeout and a device that forgot a deadline */

struct sc_posix_host {
    sc_posix_host_cfg_t cfg;
    sc_device_config_t dcfg;
    uint8_t channels[SC_CHANSEARCH_MAX_CHANNELS]; /* what --channels parses: a dual-band list is 36 */
    sc_hal_t hal;
    sc_posix_udp_t udp;
    sc_posix_storage_t storage;
    sc_posix_station_t station;
    sc_posix_radio_t radio;
    sc_posix_softap_t softap;
    bool storage_open, udp_open, station_open, radio_open, mqtt_open, http_open, at_open;
    sc_device_t *dev;

    /* the clock: device time = monotonic + offset, or vnow while replaying on capture time */
    bool virtual_time;
    uint32_t vnow, offset;
    bool started;
    uint32_t t0, wall_start;

    /* the frame pump */
    bool replay, fast_replay, capture_done, listening, at_replay_started;
    uint32_t replay_base, listen_since, deadline;
    uint32_t linger_until;           /* nonzero: failed, serving the log until then (wall ms) */
    uint8_t at_log;                  /* --at: 0, 1 the failure's log served until at_log_until, 2 served */
    uint32_t at_log_until;
    unsigned long frames, missed;
    unsigned spins;

    /* front-ends */
    struct {
        int fd;
        short events;
        sc_posix_host_fd_cb cb;
        void *user;
    } extra[SC_POSIX_HOST_MAX_FDS];
    size_t nextra;
    sc_posix_host_tick_cb tick;
    void *tick_user;
    sc_at_device_t atb;
    bool at_hangup;
    sc_posix_fw_t fw;      /* the OTA image store (state directory) */
    sc_ota_t ota;          /* OTA of the AT MQTT session (docs/ota.md) */
    bool ota_on;
    unsigned mqtt_dropped;   /* MQTT messages the port's queue dropped, as last logged */
    unsigned mqtt_long_topics;  /* and those dropped for a topic too long */
    uint32_t mqtt_dropped_at;
};

/* Set by the stop signals' handler and by the output writer's thread when stdout's reader is
 * gone (sc_posix_output_gone, ports/posix/output.c), read by the run's loop: an atomic, which
 * a signal handler may store too (a lock-free int), where a volatile sig_atomic_t is safe only
 * from a handler on the same thread (ThreadSanitizer: a data race, integ.cli_stop). */
static atomic_int g_stop;

void sc_posix_host_request_stop(int sig)
{
    g_stop = sig ? sig : SIGTERM;
}

static bool before(uint32_t a, uint32_t b)
{
    return sc_ms_diff(a, b) < 0;
}

/* ------------------------------------------------------------------------------------------
 * The clock. */

static uint32_t dev_now(const sc_posix_host_t *h)
{
    return h->virtual_time ? h->vnow : sc_posix_now_ms() + h->offset;
}

static uint32_t sys_now(void *ctx)
{
    return dev_now(ctx);
}

static void clock_go_real(sc_posix_host_t *h)
{
    if (!h->virtual_time)
        return;
    h->offset = h->vnow - sc_posix_now_ms();
    h->virtual_time = false;
}

uint32_t sc_posix_host_ms(const sc_posix_host_t *h)
{
    return h && h->started ? dev_now(h) - h->t0 : 0;
}

sc_device_t *sc_posix_host_device(sc_posix_host_t *h)
{
    return h ? h->dev : NULL;
}

void sc_posix_host_log(sc_posix_host_t *h, sc_log_level_t level, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    h->hal.sys.log(h->hal.sys.ctx, level, line);
}

static void host_error(sc_posix_host_t *h, const char *text)
{
    if (h->cfg.on_error)
        h->cfg.on_error(h->cfg.user, text);
    else
        sc_posix_host_log(h, SC_LOG_ERROR, "%s", text);
}

/* ------------------------------------------------------------------------------------------
 * Front-end hooks. */

int sc_posix_host_add_fd(sc_posix_host_t *h, int fd, short events, sc_posix_host_fd_cb cb, void *user)
{
    if (!h || fd < 0 || !cb || h->nextra >= SC_POSIX_HOST_MAX_FDS)
        return -1;
    h->extra[h->nextra].fd = fd;
    h->extra[h->nextra].events = events;
    h->extra[h->nextra].cb = cb;
    h->extra[h->nextra].user = user;
    h->nextra++;
    return 0;
}

void sc_posix_host_remove_fd(sc_posix_host_t *h, int fd)
{
    for (size_t i = 0; h && i < h->nextra; i++)
        if (h->extra[i].fd == fd) {
            h->extra[i] = h->extra[--h->nextra];
            return;
        }
}

void sc_posix_host_set_tick(sc_posix_host_t *h, sc_posix_host_tick_cb cb, void *user)
{
    h->tick = cb;
    h->tick_user = user;
}

static void at_readable(void *user, int fd, short revents, sc_device_t *dev, uint32_t now_ms)
{
    sc_posix_host_t *h = user;
    (void)fd; (void)dev;
    if (revents & POLLOUT)
        sc_posix_at_on_writable();   /* replies queued for a slow line (F37) */
    if ((revents & ~POLLOUT) && sc_posix_at_on_readable(now_ms) == SC_ERR_CLOSED)
        h->at_hangup = true;
}

/* ------------------------------------------------------------------------------------------
 * Assembly and cleanup. */

void sc_posix_host_cfg_default(sc_posix_host_cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    sc_posix_vradio_opts_default(&cfg->vradio);
    cfg->handle_signals = true;
}

static sc_err_t open_storage(sc_posix_host_t *h, char *why, size_t cap)
{
    char dir[512];
    if (h->cfg.state_dir)
        snprintf(dir, sizeof dir, "%s", h->cfg.state_dir);
    else if (sc_posix_storage_default_dir(dir, sizeof dir) != SC_OK) {
        snprintf(why, cap, "no state directory (set --state-dir, XDG_STATE_HOME or HOME)");
        return SC_ERR_NOTFOUND;
    }
    if (sc_posix_storage_open(&h->storage, dir, &h->hal.storage, why, cap) != SC_OK)
        return SC_ERR_IO;
    h->storage_open = true;
    return SC_OK;
}

static sc_err_t open_station(sc_posix_host_t *h, char *why, size_t cap)
{
    char err[256] = "";
    const sc_posix_host_cfg_t *c = &h->cfg;
    sc_err_t e = sc_posix_station_open(&h->station, c->join_spec, c->iface, &h->hal.sys, &h->hal.station, err,
                                       sizeof err);
    if (e != SC_OK) {
        snprintf(why, cap, "--join: %s", err);
        /* A spec the user can correct is a usage error; a wpa_supplicant whose control socket
         * is not there (yet: at boot it may start after us) is a setup failure, which a
         * service manager retries (docs/device-linux.md, "Running as a service"). */
        return e == SC_ERR_IO ? SC_ERR_IO : SC_ERR_INVAL;
    }
    h->station_open = true;
    memcpy(h->station.sim_bssid, c->vradio.bssid, SC_MAC_LEN);
    h->station.sim_delay_ms = c->sim_delay_ms;
    h->station.wpa_save = c->wpa_save;
    uint8_t mac[SC_MAC_LEN];
    if (c->mac_set) {
        sc_posix_station_set_mac(&h->station, c->mac);
    } else if (!(c->iface && sc_posix_netif_mac(c->iface, mac) == SC_OK)) {
        /* Loopback and other MAC-less setups: one stable MAC per device identity, so several
         * simulated devices on one host acknowledge with distinct MACs. */
        char seed[80];
        snprintf(seed, sizeof seed, "%s/%s", h->dcfg.identity.product_id, h->dcfg.identity.device_name);
        sc_posix_fake_mac(seed, mac);
        sc_posix_station_set_mac(&h->station, mac);
    } /* else the station reports the interface's own MAC */
    if (c->wrap_station)
        c->wrap_station(c->wrap_ctx, &h->station, &h->hal.station);
    return SC_OK;
}

static sc_err_t open_radio(sc_posix_host_t *h, char *why, size_t cap)
{
    char err[256] = "";
    sc_posix_vradio_opts_t v = h->cfg.vradio;
    if (h->cfg.iface)
        snprintf(v.mcast_iface, sizeof v.mcast_iface, "%s", h->cfg.iface);
    sc_err_t e = sc_posix_radio_open(&h->radio, h->cfg.radio_spec, &v, &h->hal.sys, &h->hal.radio, err, sizeof err);
    if (e != SC_OK) {
        snprintf(why, cap, "--radio: %s", err);
        return e;
    }
    h->radio_open = true;
    h->radio.any_channel = h->cfg.any_channel;
    h->replay = h->radio.kind == SC_POSIX_RADIO_FILE;
    h->fast_replay = h->replay && !h->cfg.realtime;
    return SC_OK;
}

/* The cloud binding (MQTT) and dynamic registration (HTTP); nothing connects until the device
 * reaches the binding step. */
static sc_err_t open_cloud(sc_posix_host_t *h, char *why, size_t cap)
{
    if (h->cfg.mqtt) {
        h->hal.mqtt = *h->cfg.mqtt; /* the program's (it cleans it up) */
    } else {
        if (sc_posix_mqtt_init(&h->hal.mqtt) != SC_OK) {
            snprintf(why, cap, "cannot set up the MQTT client");
            return SC_ERR_IO;
        }
        h->mqtt_open = true;
    }
    const char *ca = h->dcfg.cloud.ca_file[0] ? h->dcfg.cloud.ca_file : NULL;
    sc_posix_http_opts_t hopt = { .ca_file = ca, .insecure = false };
    if (sc_posix_http_init(&h->hal.http, &hopt) != SC_OK) {
        snprintf(why, cap, "cannot set up the HTTP client");
        return SC_ERR_IO;
    }
    h->http_open = true;
    return SC_OK;
}

static sc_err_t open_device(sc_posix_host_t *h, char *why, size_t cap)
{
    h->dev = calloc(1, sc_device_size());
    if (!h->dev) {
        snprintf(why, cap, "out of memory");
        return SC_ERR_NOMEM;
    }
    sc_err_t e = sc_device_init(h->dev, &h->hal, &h->dcfg);
    if (e != SC_OK && h->cfg.at_path) {
        /* AT: the placeholder identity may not satisfy the device; AT+TCSTARTSMART
         * initialises it again with the stored one, and reports a failure there. */
        sc_posix_host_log(h, SC_LOG_DEBUG, "device idle until AT starts it (%s)", sc_strerror(e));
        e = SC_OK;
    }
    if (e == SC_OK)
        return SC_OK;
    snprintf(why, cap, "cannot initialise the device: %s", sc_strerror(e));
    return SC_ERR_IO; /* a setup failure, not a spec to correct: exit 1 as before */
}

/* AT+SYSRAM?: on an MCU the free heap; here the kernel's free memory (sysinfo), capped to
 * what the reply's 32 bits hold. */
static uint32_t at_free_ram(void *ctx)
{
    (void)ctx;
    struct sysinfo si;
    if (sysinfo(&si) != 0)
        return 0;
    uint64_t b = (uint64_t)si.freeram * (si.mem_unit ? si.mem_unit : 1u);
    return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

static sc_err_t open_at(sc_posix_host_t *h, char *why, size_t cap)
{
    sc_at_ops_t ops;
    sc_at_device_bind(&h->atb, h->dev, &h->hal, &h->dcfg, &ops);
    ops.free_ram = at_free_ram;
    sc_at_config_t atcfg;
    sc_at_config_default(&atcfg);
    atcfg.storage = &h->hal.storage;
    atcfg.fw_version = h->cfg.fw_version ? h->cfg.fw_version : "smartcfg";
    char err[256] = "";
    if (sc_posix_at_open(h->cfg.at_path, h->cfg.at_baud, &atcfg, &ops, err, sizeof err) != SC_OK) {
        snprintf(why, cap, "--at: %s", err);
        return SC_ERR_IO;
    }
    h->at_open = true;
    sc_at_device_attach(&h->atb, sc_posix_at_core());
    if (h->storage_open && h->http_open) {
        sc_posix_fw_init(&h->fw, h->storage.dirfd, &h->hal.fw);
        h->ota_on = sc_at_device_attach_ota(&h->atb, &h->ota, SC_POSIX_FW_MAX) == SC_OK;
    }
    sc_posix_host_add_fd(h, sc_posix_at_fd(), POLLIN, at_readable, h);
    return SC_OK;
}

static sc_err_t assemble(sc_posix_host_t *h, char *why, size_t cap)
{
    sc_posix_sys_init(&h->hal.sys);
    h->hal.sys.ctx = h;
    h->hal.sys.now_ms = sys_now;
    sc_err_t e = open_storage(h, why, cap);
    if (e != SC_OK)
        return e;
    if (h->cfg.udp) {
        h->hal.udp = *h->cfg.udp;
    } else {
        sc_posix_udp_init(&h->udp, &h->hal.udp);
        h->udp.sys = &h->hal.sys;
        h->udp_open = true;
    }
    sc_posix_softap_init(&h->softap, &h->hal.sys, &h->hal.softap);
    if (h->cfg.wrap_softap)
        h->cfg.wrap_softap(h->cfg.wrap_ctx, &h->hal.softap);
    if ((e = open_station(h, why, cap)) != SC_OK || (e = open_radio(h, why, cap)) != SC_OK)
        return e;
    if (h->cfg.cloud && (e = open_cloud(h, why, cap)) != SC_OK)
        return e;
    if ((e = open_device(h, why, cap)) != SC_OK)
        return e;
    return h->cfg.at_path ? open_at(h, why, cap) : SC_OK;
}

sc_err_t sc_posix_host_open(sc_posix_host_t **out, const sc_posix_host_cfg_t *cfg, const sc_device_config_t *dcfg,
                            char *why, size_t cap)
{
    *out = NULL;
    sc_posix_host_t *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(why, cap, "out of memory");
        return SC_ERR_NOMEM;
    }
    h->cfg = *cfg;
    h->dcfg = *dcfg;
    if (dcfg->nchannels) {
        if (dcfg->nchannels > sizeof h->channels) {
            snprintf(why, cap, "at most %zu channels", sizeof h->channels);
            free(h);
            return SC_ERR_RANGE;
        }
        memcpy(h->channels, dcfg->channels, dcfg->nchannels);
        h->dcfg.channels = h->channels;
    }
    sc_err_t e = assemble(h, why, cap);
    if (e != SC_OK) {
        sc_posix_host_close(h);
        return e;
    }
    *out = h;
    return SC_OK;
}

void sc_posix_host_close(sc_posix_host_t *h)
{
    if (!h)
        return;
    if (h->at_open) {
        sc_posix_host_remove_fd(h, sc_posix_at_fd());
        sc_posix_at_close();   /* gives the last replies up to 0.5 s */
        if (sc_posix_at_dropped())
            sc_posix_host_log(h, SC_LOG_WARN, "AT line: %lu reply lines (%lu bytes) dropped: the host did not read them",
                              sc_posix_at_dropped_replies(), sc_posix_at_dropped());
    }
    if (h->ota_on) {
        sc_ota_disable(&h->ota);
        sc_posix_fw_close(&h->fw);
    }
    if (h->dev) {
        /* The context holds credentials and the token: clear it before giving it back. */
        explicit_bzero(h->dev, sc_device_size());
        free(h->dev);
    }
    if (h->mqtt_open)
        sc_posix_mqtt_cleanup(&h->hal.mqtt);
    if (h->http_open)
        sc_posix_http_cleanup(&h->hal.http);
    if (h->udp_open)
        sc_posix_udp_close_all(&h->udp);
    if (h->radio_open)
        sc_posix_radio_close(&h->radio);
    if (h->station_open)
        sc_posix_station_close(&h->station);
    if (h->storage_open)
        sc_posix_storage_close(&h->storage);
    explicit_bzero(h, sizeof *h); /* the identity (device secret) is in dcfg */
    free(h);
}

/* ------------------------------------------------------------------------------------------
 * The loop. */

enum { TURN_NEXT = -2, TURN_WAIT = -1 }; /* turn results besides an sc_posix_host_end_t */

static void install_signals(const sc_posix_host_t *h)
{
    g_stop = 0;
    if (h->cfg.handle_signals)
        sc_posix_stop_signals(sc_posix_host_request_stop);
}

static int start(sc_posix_host_t *h)
{
    install_signals(h);
    h->wall_start = sc_posix_now_ms();
    /* What a clock not set yet changes (F205, F206), said once: a device maker, or a reviewer,
     * sees why its user name has no expiry and its certificates' dates are not checked. */
    if (h->cfg.cloud && !sc_posix_wall_clock_set())
        sc_posix_host_log(h, SC_LOG_WARN,
                          "the wall clock is not set yet (before 2023): until it is (NTP), the MQTT user name carries no "
                          "expiry, TLS certificates are checked without their dates, and dynamic registration fails");
    if (h->fast_replay && !h->cfg.at_path) {
        h->virtual_time = true;
        h->vnow = h->wall_start;
    }
    h->t0 = dev_now(h);
    h->started = true;
    h->replay_base = h->t0; /* device time of the capture's first frame */
    h->listen_since = h->t0;
    /* from t0: the capture starts with the device; with AT it starts when AT starts it */
    h->listening = !h->cfg.at_path;
    if (h->cfg.at_path) {
        sc_posix_host_log(h, SC_LOG_INFO, "AT front-end on %s: waiting for commands", h->cfg.at_path);
    } else {
        sc_err_t e = sc_device_start(h->dev, dev_now(h));
        if (e != SC_OK) {
            char text[96];
            snprintf(text, sizeof text, "cannot start: %s", sc_strerror(e));
            host_error(h, text);
            return SC_POSIX_HOST_IO_ERROR;
        }
    }
    h->deadline = sc_device_step(h->dev, dev_now(h));
    return TURN_NEXT;
}

/* Raises the log soft-AP after a failure (--log-linger S): the wall-clock time its S seconds
 * end (never 0), or 0 when it could not start (said in the log). */
static uint32_t raise_log_ap(sc_posix_host_t *h)
{
    sc_err_t le = sc_device_start_log_softap(h->dev, dev_now(h));
    if (le != SC_OK) {
        sc_posix_host_log(h, SC_LOG_WARN, "cannot start the log service: %s", sc_strerror(le));
        return 0;
    }
    sc_posix_host_log(h, SC_LOG_INFO, "failed: serving the provisioning log on UDP 9876 for %u s",
                      (unsigned)h->cfg.log_linger_s);
    uint32_t until = sc_posix_now_ms() + h->cfg.log_linger_s * 1000u;
    return until ? until : 1;
}

/* As the reference AT firmware does after a failure: the log soft-AP and its UDP 9876
 * service, so the app can pull what happened, for a bounded time. */
static int failed(sc_posix_host_t *h)
{
    if (h->cfg.log_linger_s && !h->linger_until)
        h->linger_until = raise_log_ap(h);
    if (!h->linger_until || !before(sc_posix_now_ms(), h->linger_until) || g_stop)
        return SC_POSIX_HOST_FAILED;
    return TURN_WAIT;
}

/* --at: a failure does not end the run (the AT host decides what comes next), and with
 * --log-linger the log soft-AP serves that failure's log for S seconds meanwhile, as the
 * reference firmware does. A new flow, AT+TCSTOPSMART or a restart takes it down sooner
 * (sc_at_device: the device's re-init would forget its open socket). */
static void at_log_linger(sc_posix_host_t *h, sc_device_state_t st)
{
    if (!h->cfg.log_linger_s)
        return;
    if (st != SC_DEV_FAILED) {
        if (h->at_log == 1)
            sc_device_stop_log_softap(h->dev);
        h->at_log = 0;
        return;
    }
    if (h->at_log == 0) {
        /* A flow the AT host stopped (AT+TCSTOPSMART, a restart, a new flow) ends as a failure
         * too (error 3, sub id 102), but the host asked for it: no AP for that (--help). */
        uint16_t eid = 0;
        int32_t sub = 0;
        bool asked = sc_device_last_error(h->dev, &eid, &sub) && eid == SC_ERRID_BOARDING_STOP && sub == SC_SUBID_STOP_AT;
        h->at_log = 2;
        if (asked)
            sc_posix_host_log(h, SC_LOG_DEBUG, "stopped by the AT host: no log soft-AP");
        else if ((h->at_log_until = raise_log_ap(h)) != 0)
            h->at_log = 1;
    } else if (h->at_log == 1 && !before(sc_posix_now_ms(), h->at_log_until)) {
        sc_device_stop_log_softap(h->dev);
        h->at_log = 2;
        sc_posix_host_log(h, SC_LOG_INFO, "the provisioning log's %u s are over: log soft-AP down",
                          (unsigned)h->cfg.log_linger_s);
    }
}

/* Messages the MQTT port had no room for are said, at most once every 10 s (F58). */
static void mqtt_drops(sc_posix_host_t *h)
{
    unsigned lt = 0, d = h->mqtt_open ? sc_posix_mqtt_dropped(&h->hal.mqtt, &lt) : 0;
    uint32_t now = sc_posix_now_ms();
    if ((d == h->mqtt_dropped && lt == h->mqtt_long_topics) ||
        (h->mqtt_dropped_at && now - h->mqtt_dropped_at < 10000))
        return;
    if (d != h->mqtt_dropped)
        sc_posix_host_log(h, SC_LOG_WARN, "MQTT: %u messages from the broker dropped, the inbound queue full (%u in all)",
                          d - h->mqtt_dropped, d);
    if (lt != h->mqtt_long_topics)
        sc_posix_host_log(h, SC_LOG_WARN, "MQTT: %u messages from the broker dropped, a topic over 159 bytes (%u in all)",
                          lt - h->mqtt_long_topics, lt);
    h->mqtt_dropped = d;
    h->mqtt_long_topics = lt;
    h->mqtt_dropped_at = now ? now : 1;
}

/* What the device's state, the AT line, a stop or the timeout decide for this turn. */
static int check_end(sc_posix_host_t *h)
{
    sc_device_state_t st = sc_device_state(h->dev);
    if (h->at_open) {
        /* The AT host decides what happens next: keep serving after success or failure. */
        if (h->at_hangup) {
            sc_posix_host_log(h, SC_LOG_INFO, "AT line closed");
            return SC_POSIX_HOST_AT_CLOSED;
        }
        sc_at_device_step(&h->atb, dev_now(h));
        sc_posix_at_tick(dev_now(h));
        mqtt_drops(h);
        at_log_linger(h, sc_device_state(h->dev));
        if (st == SC_DEV_DONE || st == SC_DEV_FAILED)
            st = SC_DEV_IDLE;
    }
    if (st == SC_DEV_DONE)
        return SC_POSIX_HOST_DONE;
    if (st == SC_DEV_FAILED && failed(h) == SC_POSIX_HOST_FAILED)
        return SC_POSIX_HOST_FAILED;
    if (g_stop) {
        sc_device_stop(h->dev, SC_SUBID_STOP_APP, dev_now(h));
        sc_posix_host_log(h, SC_LOG_WARN, "stopped by signal %d", (int)g_stop);
        return SC_POSIX_HOST_STOPPED;
    }
    if (h->cfg.timeout_s && !h->linger_until && sc_posix_now_ms() - h->wall_start >= h->cfg.timeout_s * 1000u) {
        host_error(h, "timed out (--timeout)");
        /* the user's limit, not the protocol's: a user stop, not kept as Previous_Error */
        sc_device_stop(h->dev, SC_SUBID_STOP_APP, dev_now(h));
        return SC_POSIX_HOST_TIMEOUT;
    }
    return TURN_NEXT;
}

static void follow_listening(sc_posix_host_t *h)
{
    bool listening = sc_device_state(h->dev) == SC_DEV_SNIFFING;
    if (listening && !h->listening) {
        /* (Re)starts listening: fast replay runs on capture time again, and frames that went by
         * while the device was not listening (joining, say) are missed, as on the air. */
        if (h->fast_replay && !h->virtual_time) {
            h->vnow = dev_now(h);
            h->virtual_time = true;
        }
        if (h->at_open && !h->at_replay_started) {
            h->replay_base = dev_now(h); /* the capture starts when AT starts the device */
            h->at_replay_started = true;
        }
        h->listen_since = dev_now(h);
    }
    h->listening = listening;
}

static void feed(sc_posix_host_t *h, const sc_frame_t *f, uint32_t now)
{
    sc_device_on_frame(h->dev, f, now);
    h->frames++;
}

/* The capture ended: let the device finish what the last frames started before judging. */
static int capture_end(sc_posix_host_t *h)
{
    h->capture_done = true;
    h->deadline = sc_device_step(h->dev, dev_now(h));
    if (sc_device_state(h->dev) == SC_DEV_SNIFFING) {
        host_error(h, "the capture ended before credentials were decoded");
        sc_device_stop(h->dev, SC_SUBID_TIMEOUT, dev_now(h));
        if (!h->at_open)
            return SC_POSIX_HOST_CAPTURE_END;
        /* tell the AT host (the stop is not an AT stop), then keep serving */
        sc_at_provision_result(sc_posix_at_core(), false, SC_ERRID_BOARDING_STOP, SC_SUBID_TIMEOUT);
    }
    clock_go_real(h);
    return TURN_NEXT;
}

/* Fast replay: timers fire at their own instant between frames, as they would live. */
static int replay_fast(sc_posix_host_t *h, uint32_t due)
{
    if (before(h->deadline, due)) {
        if (before(h->vnow, h->deadline)) {
            h->vnow = h->deadline;
            h->spins = 0;
        } else if (++h->spins > 100) {
            h->vnow++; /* a device asking for "now" forever must not stall replay */
            h->spins = 0;
        }
        h->deadline = sc_device_step(h->dev, h->vnow);
        return TURN_NEXT;
    }
    if (before(h->vnow, due))
        h->vnow = due;
    sc_frame_t f;
    if (sc_posix_radio_file_take(&h->radio, &f))
        feed(h, &f, h->vnow);
    h->deadline = sc_device_step(h->dev, h->vnow);
    return TURN_NEXT;
}

/* One step of a capture replay while the device listens. */
static int replay_turn(sc_posix_host_t *h)
{
    const sc_frame_t *pf;
    uint32_t rel;
    char err[256] = "";
    int n = sc_posix_radio_file_peek(&h->radio, &pf, &rel, err, sizeof err);
    if (n < 0) {
        host_error(h, err);
        return SC_POSIX_HOST_IO_ERROR;
    }
    if (n == 0)
        return capture_end(h);
    uint32_t due = h->replay_base + rel;
    if (before(due, h->listen_since)) {
        sc_frame_t f;
        (void)sc_posix_radio_file_take(&h->radio, &f);
        h->missed++;
        return TURN_NEXT;
    }
    if (h->fast_replay)
        return replay_fast(h, due);
    if (!before(dev_now(h), due)) {
        sc_frame_t f;
        if (sc_posix_radio_file_take(&h->radio, &f))
            feed(h, &f, dev_now(h));
        h->deadline = sc_device_step(h->dev, dev_now(h));
        return TURN_NEXT;
    }
    return TURN_WAIT;
}

/* When the loop must wake: the device's deadline, a jittered virtual frame, the next replayed
 * frame, the tick hook. */
static int wait_ms(sc_posix_host_t *h, uint32_t now)
{
    uint32_t wake = h->deadline, due;
    if (sc_posix_radio_next_due(&h->radio, &due) && before(due, wake))
        wake = due;
    if (h->replay && h->listening && !h->capture_done) {
        const sc_frame_t *pf;
        uint32_t rel;
        char err[256];
        if (sc_posix_radio_file_peek(&h->radio, &pf, &rel, err, sizeof err) > 0 && before(h->replay_base + rel, wake))
            wake = h->replay_base + rel;
    }
    if (h->ota_on && sc_ota_downloading(&h->ota) && before(now + 5, wake))
        wake = now + 5;   /* the download moves in sc_at_device_step: keep it flowing */
    if (h->at_open && sc_at_device_registering(&h->atb) && before(now + 5, wake))
        wake = now + 5;   /* AT+TCDEVREG's POST moves in sc_at_device_step too */
    if (h->at_open && sc_at_mqtt_waiting(sc_posix_at_core()) && before(now + 5, wake))
        wake = now + 5;   /* the broker's answer is seen in sc_at_device_step: say it at once */
    if (h->tick) {
        uint32_t t = h->tick(h->tick_user, h->dev, now);
        if (before(t, wake))
            wake = t;
    }
    int ms = before(now, wake) ? (int)(wake - now) : 0;
    return ms > POLL_MAX_MS ? POLL_MAX_MS : ms;
}

/* Live radios: bounded per turn. The virtual radio is drained even when the device does not
 * listen, so stale datagrams do not pile up in the socket (the core ignores them then). */
static int drain_radio(sc_posix_host_t *h, uint32_t now)
{
    for (int k = 0; k < RADIO_BURST; k++) {
        sc_frame_t f;
        char err[256] = "";
        int n = sc_posix_radio_read(&h->radio, now, &f, err, sizeof err);
        if (n < 0) {
            host_error(h, err);
            return SC_POSIX_HOST_IO_ERROR;
        }
        if (n == 0)
            break;
        feed(h, &f, now);
    }
    return TURN_NEXT;
}

/* Waits for input or the next deadline, then pumps frames and runs the front-ends. */
static int wait_turn(sc_posix_host_t *h)
{
    struct pollfd pfd[3 + SC_POSIX_UDP_MAX + SC_POSIX_HOST_MAX_FDS];
    size_t np = 0;
    int rfd = sc_posix_radio_fd(&h->radio);
    if (rfd >= 0)
        pfd[np++] = (struct pollfd){ .fd = rfd, .events = POLLIN };
    if (h->udp_open)
        np += sc_posix_udp_pollfds(&h->udp, pfd + np, SC_POSIX_UDP_MAX);
    /* The AT MQTT session's messages wake the loop (read in sc_at_device_step): else they
     * waited up to a second, and what came beyond the port's queue of 16 meanwhile was lost
     * (F58). Only while the session reads them, or the descriptor would stay readable. */
    if (h->at_open && h->mqtt_open && sc_at_device_receiving(&h->atb))
        pfd[np++] = (struct pollfd){ .fd = sc_posix_mqtt_fd(&h->hal.mqtt), .events = POLLIN };
    size_t extra_from = np;
    for (size_t i = 0; i < h->nextra; i++)
        pfd[np++] = (struct pollfd){ .fd = h->extra[i].fd, .events = h->extra[i].events };
    /* AT replies waiting for the line: poll it for room too (on a tty the same descriptor as
     * its input; stdout for "-") */
    size_t at_out = SIZE_MAX;
    if (h->at_open) {
        int ifd = sc_posix_at_fd(), ofd = sc_posix_at_pending() ? sc_posix_at_out_fd() : -1;
        for (size_t i = extra_from; i < np; i++)
            if (pfd[i].fd == ifd) {
                /* input only while its replies have room (a hang-up is still reported) */
                pfd[i].events = sc_posix_at_wants_input() ? POLLIN : 0;
                if (ofd == ifd) {
                    pfd[i].events |= POLLOUT;
                    ofd = -1;
                }
            }
        if (ofd >= 0) {
            at_out = np;
            pfd[np++] = (struct pollfd){ .fd = ofd, .events = POLLOUT };
        }
    }
    int pr = poll(pfd, np, wait_ms(h, dev_now(h)));
    if (pr < 0 && errno != EINTR) {
        host_error(h, "poll failed");
        return SC_POSIX_HOST_IO_ERROR;
    }
    uint32_t now = dev_now(h);
    if ((rfd >= 0 || h->radio.qn) && drain_radio(h, now) != TURN_NEXT)
        return SC_POSIX_HOST_IO_ERROR;
    for (size_t i = extra_from; pr > 0 && i < np; i++) {
        if (!pfd[i].revents)
            continue;
        if (i == at_out) {
            sc_posix_at_on_writable();
            continue;
        }
        for (size_t k = 0; k < h->nextra; k++)
            if (h->extra[k].fd == pfd[i].fd) {
                h->extra[k].cb(h->extra[k].user, pfd[i].fd, pfd[i].revents, h->dev, now);
                break;
            }
    }
    h->deadline = sc_device_step(h->dev, dev_now(h));
    return TURN_NEXT;
}

static int turn(sc_posix_host_t *h)
{
    int r = check_end(h);
    if (r != TURN_NEXT)
        return r;
    follow_listening(h);
    if (h->replay && h->listening && !h->capture_done) {
        r = replay_turn(h);
        if (r != TURN_WAIT)
            return r;
    }
    if (h->virtual_time) {
        /* Sniffing is over (or never resumed): the rest happens with real peers. */
        sc_posix_host_log(h, SC_LOG_DEBUG,
                          "replay: %lu frames delivered, %lu on other channels, %lu missed while not listening; "
                          "clock now real time",
                          h->radio.delivered, h->radio.dropped_channel, h->missed);
        clock_go_real(h);
    }
    return wait_turn(h);
}

sc_posix_host_end_t sc_posix_host_run(sc_posix_host_t *h)
{
    int r = start(h);
    while (r == TURN_NEXT || r == TURN_WAIT)
        r = turn(h);
    sc_posix_host_log(h, SC_LOG_DEBUG,
                      "%lu frames to the device; radio: %lu delivered, %lu other channel, %lu lost, %lu oversize",
                      h->frames, h->radio.delivered, h->radio.dropped_channel, h->radio.dropped_loss,
                      h->radio.dropped_oversize);
    return (sc_posix_host_end_t)r;
}
