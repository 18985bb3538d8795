/* SPDX-License-Identifier: Apache-2.0 */
/* The device host: what a Linux process puts around the portable device core.
 *
 * It assembles the POSIX HAL from spec strings (radio, station, storage, UDP, soft-AP, MQTT,
 * HTTP), owns the device context and the device clock, runs the one poll() loop, and is the
 * only caller of sc_device_on_frame() in this port: live radios are drained into the core as
 * their descriptor becomes readable, capture files are replayed on their own timestamps (fast,
 * the default) or at capture pace (realtime). Front-ends join that loop: the AT line is built in
 * (cfg.at_path), a program's own descriptors come through sc_posix_host_add_fd() and its timers
 * through sc_posix_host_set_tick(). Applications keep options and reporting: they fill
 * sc_posix_host_cfg_t and an sc_device_config_t (identity, cloud, channels, on_event), run the
 * host and turn its outcome into an exit code.
 *
 *   sc_posix_host_t *h;
 *   if (sc_posix_host_open(&h, &hcfg, &dcfg, why, sizeof why) != SC_OK) ...report why...
 *   sc_posix_host_end_t end = sc_posix_host_run(h);   // until done, failed, stopped, ...
 *   ... sc_posix_host_state(h), sc_posix_host_ms(h) for the report ...
 *   sc_posix_host_close(h);                           // every port piece, secrets wiped
 *
 * The clock: live, the monotonic clock. Fast capture replay: the capture's timestamps while the
 * device sniffs; once it stops listening (credentials decoded) or the capture ends, the clock
 * runs at wall-clock pace from where the capture left it, so joins, acks and the token
 * exchange with real peers get real time. Frames that went by while the device was not
 * listening are missed, as on the air.
 *
 * One host per process (signals and the AT line are process-wide). Single-threaded: every
 * function from the thread that runs the loop, except sc_posix_host_request_stop(), which a
 * signal handler may call. */
#ifndef SC_POSIX_HOST_H
#define SC_POSIX_HOST_H

#include <poll.h>

#include "sc_posix_radio.h"
#include "sc_posix_station.h"
#include "smartcfg/device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sc_posix_host sc_posix_host_t;

typedef struct {
    const char *radio_spec;       /* --radio: pcap:IFACE, file:FILE, udp[:PORT] (sc_posix_radio.h) */
    const char *join_spec;        /* --join: sim:..., exec:..., wpa:... (sc_posix_station.h) */
    const char *iface;            /* NULL: none. The station's address/MAC, the multicast joins */
    const char *state_dir;        /* NULL: sc_posix_storage_default_dir() */
    sc_posix_vradio_opts_t vradio;/* udp: radio options (sc_posix_vradio_opts_default first) */
    bool any_channel;             /* file: deliver every channel's frames */
    bool realtime;                /* file: replay at capture pace instead of on capture time */
    bool mac_set;                 /* mac below is the station MAC; else the iface's, else a */
    uint8_t mac[SC_MAC_LEN];      /*   stable fake derived from ProductId/DeviceName */
    uint32_t sim_delay_ms;        /* sim: join time (0: random 1..3 s) */
    bool wpa_save;                /* wpa: SAVE_CONFIG once joined (sc_posix_station_t.wpa_save) */
    bool cloud;                   /* set up MQTT and HTTP (dynamic registration) */
    const char *at_path;          /* AT front-end on this tty ("-": stdin/stdout); NULL: none.
                                   * The device then waits for AT+TCSTARTSMART instead of starting */
    uint32_t at_baud;             /* 0: 115200 */
    const char *fw_version;       /* AT+GMR; NULL: "smartcfg" */
    uint32_t timeout_s;           /* give up after this long (0: never): SC_POSIX_HOST_TIMEOUT */
    uint32_t log_linger_s;        /* after a failure serve the log (UDP 9876) this long */
    bool handle_signals;          /* SIGINT/SIGTERM stop the device (sub id 101); SIGPIPE ignored */
    const sc_hal_udp_t *udp;      /* NULL: BSD sockets; else this table (e.g. a user-space stack,
                                   * whose descriptors the program adds with sc_posix_host_add_fd) */
    const sc_hal_mqtt_t *mqtt;    /* with cloud: NULL = libmosquitto; else this table (HTTP stays libcurl) */
    /* Optional: called once the station backend is open, before the device sees its table, so
     * a port can wrap it (e.g. the address and MAC of a user-space stack's interface). */
    void (*wrap_station)(void *wrap_ctx, sc_posix_station_t *backend, sc_hal_station_t *table);
    /* Optional, likewise for the soft-AP table (the simulated one's: it only logs), e.g. to
     * give the AP an interface on a user-space stack. */
    void (*wrap_softap)(void *wrap_ctx, sc_hal_softap_t *table);
    void *wrap_ctx;
    /* Failures the host itself detects (a capture that cannot be read, the capture ending while
     * sniffing, --timeout): plain text, no secret. Called before the device is stopped. */
    void (*on_error)(void *user, const char *text);
    void *user;
} sc_posix_host_cfg_t;

/* How sc_posix_host_run() ended. */
typedef enum {
    SC_POSIX_HOST_DONE = 0,       /* the device reached done */
    SC_POSIX_HOST_FAILED,         /* the device failed (after the log linger) */
    SC_POSIX_HOST_STOPPED,        /* a signal / sc_posix_host_request_stop(): device stopped, 101 */
    SC_POSIX_HOST_TIMEOUT,        /* cfg.timeout_s: device stopped with sub id 103 */
    SC_POSIX_HOST_CAPTURE_END,    /* the capture ended while sniffing (stopped, 103) */
    SC_POSIX_HOST_AT_CLOSED,      /* the AT line hung up */
    SC_POSIX_HOST_IO_ERROR        /* the radio or poll() failed (on_error said why) */
} sc_posix_host_end_t;

/* Fills cfg with the defaults (every pointer NULL, virtual radio defaults, signals handled). */
void sc_posix_host_cfg_default(sc_posix_host_cfg_t *cfg);

/* Assembles the HAL and initialises the device with dcfg (copied; dcfg->channels too).
 * SC_ERR_INVAL / SC_ERR_RANGE / SC_ERR_NOTFOUND: a spec or value is wrong (a usage error: a
 * bad --radio, --join, no state directory); anything else: the host could not set up (why says
 * which; never a secret). *out is NULL on failure and nothing stays open. */
sc_err_t sc_posix_host_open(sc_posix_host_t **out, const sc_posix_host_cfg_t *cfg, const sc_device_config_t *dcfg,
                            char *why, size_t cap);
/* Starts the device (or the AT front-end) and runs the loop until the device is done or failed,
 * or a stop, a timeout, the capture's end or an I/O failure ends it. */
sc_posix_host_end_t sc_posix_host_run(sc_posix_host_t *h);
/* Closes everything the host opened and wipes the device context (credentials, token). */
void sc_posix_host_close(sc_posix_host_t *h);

/* Async-signal-safe: the loop stops the device at its next turn (SC_POSIX_HOST_STOPPED). */
void sc_posix_host_request_stop(int sig);

/* The device (for sc_device_state() and friends; the host stays its only frame source). */
sc_device_t *sc_posix_host_device(sc_posix_host_t *h);
/* Milliseconds of device time since the loop started (0 before). */
uint32_t sc_posix_host_ms(const sc_posix_host_t *h);
/* Logs through the host's sink (stderr, level from sc_posix_log_level). */
void sc_posix_host_log(sc_posix_host_t *h, sc_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- the extra-descriptor hook: front-ends sharing the loop -------------------------------- */
#define SC_POSIX_HOST_MAX_FDS 8

/* Runs on the loop's thread when fd is ready (revents from poll()); may add or remove fds. */
typedef void (*sc_posix_host_fd_cb)(void *user, int fd, short revents, sc_device_t *dev, uint32_t now_ms);
/* 0 = registered, -1 = table full or bad fd/cb. Register before sc_posix_host_run or from a
 * callback. */
int sc_posix_host_add_fd(sc_posix_host_t *h, int fd, short events, sc_posix_host_fd_cb cb, void *user);
void sc_posix_host_remove_fd(sc_posix_host_t *h, int fd);
/* A timer hook called every turn of the loop; returns when it wants to run again (device
 * time; the loop wakes by then). NULL cb removes it. */
typedef uint32_t (*sc_posix_host_tick_cb)(void *user, sc_device_t *dev, uint32_t now_ms);
void sc_posix_host_set_tick(sc_posix_host_t *h, sc_posix_host_tick_cb cb, void *user);

#ifdef __cplusplus
}
#endif
#endif
