/* SPDX-License-Identifier: Apache-2.0 */
/* The options of a device program (`smartcfg device`, and any program that must take exactly
 * the same options plus its own, such as `smartcfg-lwip --tap/--ip`): the command line, the
 * config file (`--config FILE`, `key = value` lines with the option names; `_` may stand for
 * `-`), the environment (SMARTCFG_DEVICE_SECRET, SMARTCFG_PRODUCT_SECRET); precedence
 * command line > environment > config file. Parsing validates everything it can without
 * opening anything and fills a device_opts_t: the device host's configuration, the device's
 * (identity, cloud, channels), the report settings, and the values of the program's own options.
 *
 *   static const device_opts_extra_t extra[] = {
 *       { "tap", true, "  --tap NAME              the tap interface lwIP runs on\n" },
 *       { "ip", true, "  --ip A.B.C.D            the device's address on it\n" },
 *   };
 *   device_opts_spec_t spec = { "smartcfg-lwip", extra, 2, NULL };
 *   device_opts_t o;
 *   int rc = device_opts_parse(&o, &spec, argc, argv);
 *   if (rc != DEVICE_OPTS_RUN) { device_opts_free(&o); return rc; }  // 0 after --help, 2 usage
 *   ... o.extra[0] is the --tap value (NULL: not given), o.host, o.device ...
 *   device_opts_free(&o);   // after the host is closed: o.host points into o
 *
 * Messages follow cli.h's convention ("<name>: ..."; JSON lines too with --json); a secret is
 * never repeated in one. Secrets given on the command line are blanked in argv at once and draw
 * a warning; a config file holding a secret that others can read draws one too. Link with
 * cli.c and device_opts.c; both need only the core and the POSIX port's headers. */
#ifndef SMARTCFG_DEVICE_OPTS_H
#define SMARTCFG_DEVICE_OPTS_H

#include "cli.h"
#include "sc_posix_host.h"
#include "smartcfg/device.h"
#include "smartcfg/esptouch_rx.h"

#define DEVICE_OPTS_RUN (-1)      /* device_opts_parse: go on and run */
#define DEVICE_OPTS_MAX_EXTRA 8
#define DEVICE_OPTS_MAX_CHANNELS SC_CHANSEARCH_MAX_CHANNELS

/* One option of the program's own: also accepted as a config-file key. */
typedef struct {
    const char *name;             /* long option name without "--", e.g. "tap" */
    bool has_value;               /* false: a flag (its value reads "1" when given) */
    const char *help;             /* its lines for the help text ("  --tap NAME   ...\n") */
    const char *required;         /* NULL: optional; else the usage error when it is missing,
                                   * checked before every other option's (the program's own
                                   * first need, e.g. smartcfg-lwip's --tap) */
} device_opts_extra_t;

typedef struct {
    const char *name;             /* for messages and the help: "smartcfg device" */
    const device_opts_extra_t *extra;
    size_t nextra;                /* <= DEVICE_OPTS_MAX_EXTRA */
    const char *examples;         /* the help's closing examples; NULL: `smartcfg device`'s */
} device_opts_spec_t;

typedef struct {
    sc_cli_t cli;                 /* for the program's own messages after parsing */
    sc_posix_host_cfg_t host;     /* radio, join, iface, state dir, vradio, MAC, AT, timeout...
                                   * (on_error/user and udp left for the program) */
    sc_device_config_t device;    /* defaults + identity, cloud, channels, skip_cloud */
    uint8_t channels[DEVICE_OPTS_MAX_CHANNELS];
    bool json;                    /* --json: one JSON event per line on stdout */
    sc_log_level_t log_level;     /* --log-level (also applied with sc_posix_log_level) */
    const char *extra[DEVICE_OPTS_MAX_EXTRA]; /* the program's own options, as spec->extra */
    unsigned input_wait_s;        /* --input-wait: a --config FIFO's time to be written (0: the default) */

    /* private: owned copies of the values (wiped when freed) */
    char *val_[45];
    bool flag_[45];
    bool cli_[45];
    char *env_[3];   /* the secrets' variables, taken at the start (sc_cli_env_take) */
} device_opts_t;

/* DEVICE_OPTS_RUN, or the exit code to return now: SC_EXIT_OK after --help / --version,
 * SC_EXIT_USAGE for a bad command line or config file (already reported). o is always
 * initialised: call device_opts_free() in every case. */
int device_opts_parse(device_opts_t *o, const device_opts_spec_t *spec, int argc, char **argv);
/* Wipes and frees the copies (secrets included) and the identity in o->device. */
void device_opts_free(device_opts_t *o);

#endif
