/* SPDX-License-Identifier: Apache-2.0 */
/* The device program of cmd_device.c, reusable by a program that must behave as `smartcfg
 * device` (same options, events, exit codes) with a port of its own underneath, such as
 * smartcfg-lwip (ports/lwip): the program adds its options (spec->extra) and hooks in to set up
 * its HAL tables before the host opens, to join the host's loop once it is open, and to report
 * its figures at the end. */
#ifndef SMARTCFG_DEVICE_RUN_H
#define SMARTCFG_DEVICE_RUN_H

#include "device_opts.h"
#include "sc_posix_host.h"

typedef struct {
    device_opts_spec_t spec;
    /* After parsing (o->extra holds the program's own options): set up the port and point
     * o->host at its tables. -1 to go on; else the exit code (the message already given). */
    int (*setup)(void *ctx, device_opts_t *o);
    /* The host is open and about to run: register descriptors (sc_posix_host_add_fd). */
    void (*opened)(void *ctx, sc_posix_host_t *h);
    /* The run is over: the port's figures, as JSON fields (",\"k\":v...") of one event named
     * report_event and as one human line (both may be left empty). */
    void (*report)(void *ctx, char *fields, size_t fcap, char *line, size_t lcap);
    const char *report_event;
    /* After the host is closed (also when it failed to open). */
    void (*teardown)(void *ctx);
    void *ctx;
} device_program_t;

/* The whole program; returns its exit code (cli.h). */
int device_program_run(const device_program_t *p, int argc, char **argv);

#endif
