/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommands of the smartcfg command (each lives in its own cmd_<name>.c) and the one
 * convention they share for the command line (cli.c):
 *  - `-h`/`--help` prints the help (ending with examples) on stdout, exit 0;
 *  - `--version` prints "<name> <version>" on stdout, exit 0;
 *  - a usage error prints "<name>: <what is wrong>" and a hint to --help on stderr, exit 2;
 *    an unknown option and an option missing its value say which one;
 *  - with `--json` anywhere on the command line, usage and setup errors are also one JSON
 *    line on stdout: {"event":"usage_error"|"setup_error","command":...,"message":...,"exit":N}.
 *
 *   static const struct option opts[] = { ..., SC_CLI_STD_OPTIONS, { NULL, 0, NULL, 0 } };
 *   sc_cli_t cli;
 *   sc_cli_init(&cli, "smartcfg foo", usage_fn, NULL, argc, argv);
 *   optind = 1; opterr = 0;
 *   while ((c = getopt_long(argc, argv, SC_CLI_SHORTOPTS, opts, NULL)) != -1) {
 *       int rc = sc_cli_std_option(&cli, c, argv);
 *       if (rc >= 0) return rc;                    // help, version, or a usage error
 *       switch (c) { ...own options...; bad value: return sc_cli_usage_error(&cli, "..."); }
 *   }
 * Values of getopt_long options must be >= 256 (below are the short options and the std ones). */
#ifndef SMARTCFG_CLI_H
#define SMARTCFG_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

int cmd_decode(int argc, char **argv);
int cmd_air(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_cloud(int argc, char **argv);

/* Exit codes shared by the subcommands. */
enum {
    SC_EXIT_OK = 0,
    SC_EXIT_FAIL = 1,       /* generic failure (e.g. bad input file), setup failure */
    SC_EXIT_USAGE = 2,      /* bad command line */
    SC_EXIT_TIMEOUT = 3,    /* nothing / not everything happened in time */
    SC_EXIT_DEVICE = 4,     /* a device reported an error */
    SC_EXIT_CLOUD = 5,      /* the cloud refused or failed */
    SC_EXIT_INTERRUPTED = 130 /* SIGINT/SIGTERM, as a shell reports 128 + SIGINT */
};

typedef struct sc_cli sc_cli_t;
struct option;
/* Writes the whole help text (ending with examples) to f. */
typedef void (*sc_cli_usage_fn)(const sc_cli_t *cli, FILE *f);

struct sc_cli {
    const char *name;        /* "smartcfg device": every message starts with it */
    sc_cli_usage_fn usage;
    const void *ctx;         /* for the usage function */
    bool json;               /* --json seen: errors are JSON lines on stdout too */
    /* The getopt_long options (set before the loop): an unknown option is then answered with
     * the one meant ("did you mean --password?") and an ambiguous abbreviation with the
     * options it could be. NULL: neither. */
    const struct option *longopts;
};

#define SC_CLI_OPT_VERSION 1  /* getopt_long value of --version */
#define SC_CLI_SHORTOPTS ":h" /* ':' first: a missing value is reported apart from an unknown option */
#define SC_CLI_STD_OPTIONS { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, SC_CLI_OPT_VERSION }

/* Fills cli; looks for --json in argv (before a "--") so errors found before it still come out
 * as JSON. */
void sc_cli_init(sc_cli_t *cli, const char *name, sc_cli_usage_fn usage, const void *ctx, int argc, char **argv);
/* Handles getopt_long's result when it is one of the common ones: 'h' / --version (exit code 0)
 * and '?' / ':' (unknown option, missing value, value given to a flag: a usage error, 2).
 * -1 when opt is the caller's own option. argv: the vector passed to getopt_long. */
int sc_cli_std_option(const sc_cli_t *cli, int opt, char **argv);
/* A bad command line: "<name>: <message>" + a hint to --help on stderr (and JSON). Returns 2. */
int sc_cli_usage_error(const sc_cli_t *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A bad option value, in the one form every subcommand uses (docs/cli.md, "Bad values"):
 *   <name>: <opt>: '<value>' is not <want>
 * then the --help hint; returns 2. want says what is wanted with its range and unit, e.g.
 * "a whole number of seconds in 0..86400" (ranges a..b include both ends). The value is shown
 * as printable ASCII (any other byte as '?', so a value cannot put escapes on the terminal),
 * cut to 40 characters; value NULL (a secret) shows as "the value (not shown)". */
int sc_cli_bad_value(const sc_cli_t *cli, const char *opt, const char *value, const char *want_fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* s as it may be shown on a terminal, in buf (n bytes; cut if longer): every control character
 * (C0, DEL, C1, the bidirectional ones) and every byte that is not UTF-8 as '?'. The messages
 * of sc_cli_usage_error, sc_cli_fail and sc_cli_warn are shown so already; this is for a name
 * the user gave that a command prints otherwise (a summary line). Returns buf. */
const char *sc_cli_shown(const char *s, char *buf, size_t n);
/* A setup failure (a file, a socket, a device that cannot be opened): "<name>: <message>" on
 * stderr (and JSON). Returns code. */
int sc_cli_fail(const sc_cli_t *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "<name>: warning: <message>" on stderr (never JSON: the run goes on). */
void sc_cli_warn(const sc_cli_t *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The ESP-TOUCH v2 options of `air` and `send`, checked alike: v2 (the protocol is v2), key
 * (--aes-key), random_iv, other (--reserved or --port-mark), the password that would be
 * encrypted. 0 when they agree, else the usage error's exit status. */
int sc_cli_v2_options(const sc_cli_t *cli, bool v2, bool key, bool random_iv, bool other, const uint8_t *password,
                      unsigned password_len);
/* A --protocols list (v1,v2,airkiss; aliases and "all" as sc_proto_parse takes them) into *mask,
 * each protocol named once: 0, else the usage error's status with a message naming the bad item
 * (unknown, empty, left out of this build, or a protocol an earlier item already named:
 * "v1,v1", "v1,esptouch-v1", "all,v2"). opt: the option as the message shows it. */
int sc_cli_protocols(const sc_cli_t *cli, const char *opt, const char *list, unsigned *mask);
/* What a channel number must be, as the messages and helps say it (the core's
 * sc_chansearch_channel_valid). */
#define SC_CLI_CHANNEL_WANT "a channel: 1..14, or 5 GHz 36..64, 100..144, 149..177 in steps of 4"
/* A --channels list into out (at most cap): 0 and *n, else the usage error's status with a
 * message naming the bad item ("99", an empty item, a range backwards, too many). */
int sc_cli_channels(const sc_cli_t *cli, const char *opt, const char *list, uint8_t *out, size_t cap, size_t *n);
/* One channel number (air --channel, device --virtual-channel; zero_ok: 0 is taken, "every
 * channel"): 0 and *ch, else the usage error's status. */
int sc_cli_channel(const sc_cli_t *cli, const char *opt, const char *value, bool zero_ok, uint8_t *ch);
/* The name among names[0..n) nearest to typed, if near enough to be a typo (one edit, two for
 * names of 6 or more characters), else NULL. */
const char *sc_cli_nearest(const char *typed, const char *const *names, size_t n);
/* Files read whole before anything runs (send --password-file and --expect, a device's
 * --config): a FIFO or a pipe is taken (`--password-file <(pass show wifi)` is how a secret
 * should be passed), but a read that cannot complete must not hang the start: at most
 * `--input-wait SECONDS` (send, device, smartcfg-lwip; default SC_CLI_INPUT_WAIT_S) is waited
 * for a writer and for the data's end. There is no "for ever": a FIFO nothing writes to hung
 * the start silently (F95); an hour is more than any unlock prompt needs. Captures (decode,
 * --radio file:) are streams and wait for their writer as any reader does. docs/cli.md, "Files". */
#define SC_CLI_INPUT_WAIT_S 10
#define SC_CLI_INPUT_WAIT_MAX_S 3600
/* What --input-wait takes, as the help and the bad-value message say it. */
#define SC_CLI_INPUT_WAIT_WANT "a whole number of seconds in 1..3600"
/* --input-wait's value into *secs: 0, else the usage error's status (sc_cli_bad_value). */
int sc_cli_input_wait(const sc_cli_t *cli, const char *value, unsigned *secs);
/* Opens path for such a read (dash and "-": a copy of stdin): without blocking on a FIFO that
 * has no writer yet, without becoming the controlling terminal. The descriptor, or -1 with errno. */
int sc_cli_input_open(const char *path, bool dash);
/* Reads fd to its end into buf (cap bytes): the length, or -1 with errno: EFBIG (more than cap
 * bytes: what was read stays in buf), ETIMEDOUT (no writer, or no end, within wait_s seconds),
 * EISDIR and read's others. */
long sc_cli_input_read(int fd, char *buf, size_t cap, unsigned wait_s);
/* The reason for sc_cli_input_open's or _read's errno e, as a message says it after the file's
 * name ("Is a directory"; ETIMEDOUT and EFBIG in the words of this convention; cap: the limit,
 * wait_s: the wait that ran out). */
const char *sc_cli_input_why(int e, size_t cap, unsigned wait_s, char *buf, size_t n);
/* Called before a command reads a secret (send, device and smartcfg-lwip, decode): the process
 * is made not dumpable, so no core dump holds the Wi-Fi password, a device secret, the v2 device
 * key or a token (a Ctrl-\ while `--password-file FIFO` waits for its writer dumped core with
 * what the process held; docs/security.md). Linux only; elsewhere nothing. */
void sc_cli_no_core(void);
/* A secret's variable taken out of the environment, read once: *out is a copy of its value
 * (sc_cli_free_wiped it; NULL when it is not set) and 1 is returned, 0 when it is not set, -1 when no
 * copy could be made (out of memory: the variable is left as it was). The value is wiped where
 * it stood, then unset: unsetenv() alone only takes the entry out of environ[], and the bytes
 * exec put there stay in memory and in /proc/PID/environ for the process's whole life (readable
 * by root, the process being not dumpable). Also out of what a program started later inherits. */
int sc_cli_env_take(const char *name, char **out);
/* The same without a copy: every NAME= entry's value wiped in place, then unset. */
void sc_cli_env_drop(const char *name);
/* A string holding a secret (sc_cli_env_take's copy, an option's value): wiped, freed, *p NULL.
 * NULL: nothing. */
void sc_cli_free_wiped(char **p);
/* The password a URL carries in its user part (scheme://USER:PASSWORD@HOST..., the last '@'
 * before a '?') or as libpq's ?password= parameter: its start in url and its length, or NULL
 * (the caller blanks it in argv: send --cloud, the cloud's --db, --rabbitmq,
 * --rabbitmq-management). */
char *sc_cli_url_password(char *url, size_t *len);
/* url (scheme://USER@HOST...) with ":PASSWORD" after USER, percent-encoded as URL parsers
 * decode it, into out (cap bytes): 0; -1 when there is no USER@ or a password there already
 * (nothing to add), -2 when it does not fit.
 * The password's way out of argv: send's $SC_CLOUD_PASSWORD, the cloud's
 * $SMARTCFG_RABBITMQ_PASSWORD. */
int sc_cli_url_add_password(const char *url, const char *password, char *out, size_t cap);
/* Prints "<name> <version>" (stdout). */
void sc_cli_version(const sc_cli_t *cli);
/* Whether gid is this process's effective group or one of its supplementary groups: a
 * root:GROUP 0640 file is how a service user is given root's secret (the device's config, the
 * cloud's admin key), and its group may be a supplementary one (usermod -aG). */
bool sc_cli_group_ours(unsigned gid);
/* The UTF-8 byte order mark Windows' Notepad writes at a text file's start: 3 when s (n bytes)
 * begins with it, else 0. The files the commands read skip it (a password, a config's first
 * key, an --expect line, the cloud's admin key). */
size_t sc_cli_bom(const char *s, size_t n);
/* Whether the open file fd has an access ACL beyond its mode bits (setfacl -m u:NAME:r): its
 * group bits are then the ACL's mask and do not tell who reads it. */
bool sc_cli_has_acl(int fd);

#endif
