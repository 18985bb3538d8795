/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommands of the smartcfg command; each lives in its own cmd_<name>.c. */
#ifndef SMARTCFG_CLI_H
#define SMARTCFG_CLI_H

int cmd_decode(int argc, char **argv);
int cmd_air(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_cloud(int argc, char **argv);

/* Exit codes shared by the subcommands. */
enum {
    SC_EXIT_OK = 0,
    SC_EXIT_FAIL = 1,       /* generic failure (e.g. bad input file) */
    SC_EXIT_USAGE = 2,      /* bad command line */
    SC_EXIT_TIMEOUT = 3,    /* nothing / not everything happened in time */
    SC_EXIT_DEVICE = 4,     /* a device reported an error */
    SC_EXIT_CLOUD = 5       /* the cloud refused or failed */
};

#endif
