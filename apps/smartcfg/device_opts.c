/* SPDX-License-Identifier: Apache-2.0 */
/* Options of a device program: command line, config file, environment (device_opts.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device_opts.h"
#include "sc_posix.h"
#include "sc_posix_netif.h"
#include "smartcfg/receiver.h"

enum {
    O_RADIO = 0, O_JOIN, O_IFACE, O_PRODUCT_ID, O_DEVICE_NAME, O_DEVICE_SECRET, O_PRODUCT_SECRET, O_REGION,
    O_STATE_DIR, O_BROKER, O_REGISTER_URL, O_TIMEOUT, O_LOG_LEVEL, O_MAC, O_CA_FILE, O_VIRTUAL_BSSID,
    O_VIRTUAL_CIPHER, O_VIRTUAL_LOSS, O_VIRTUAL_JITTER, O_VIRTUAL_CHANNEL, O_SIM_DELAY, O_AT, O_AT_BAUD, O_CHANNELS,
    O_LOG_LINGER, O_PROTOCOLS, O_AES_KEY, O_TOKEN_LINGER, O_NSTR,
    /* booleans */
    O_NO_CLOUD = O_NSTR, O_JSON, O_REALTIME, O_ANY_CHANNEL, O_VIRTUAL_QOS, O_VIRTUAL_NO_FCS, O_TLS, O_WPA_SAVE,
    O_TLS_PSK, O_NALL,
    /* the program's own options: O_NALL + index in spec->extra */
    O_NIDS = O_NALL + DEVICE_OPTS_MAX_EXTRA,
    O_CONFIG = O_NIDS,
    O_INPUT_WAIT   /* command line only, as --config: it bounds the reading of the config files */
};
_Static_assert(O_NIDS <= sizeof ((device_opts_t *)0)->val_ / sizeof(char *), "device_opts_t.val_ too small");

#define GETOPT_BASE 256 /* getopt_long values: id + GETOPT_BASE (cli.h keeps the low ones) */
#define GETOPT_OFF 512  /* a flag's opposite (--no-json): id + GETOPT_OFF */
#define MAX_CONFIGS 8   /* --config files, read in order */

static const char *const opt_names[O_NALL] = {
    "radio", "join", "iface", "product-id", "device-name", "device-secret", "product-secret", "region",
    "state-dir", "broker", "register-url", "timeout", "log-level", "mac", "ca-file", "virtual-bssid",
    "virtual-cipher", "virtual-loss", "virtual-jitter", "virtual-channel", "sim-delay", "at", "at-baud", "channels",
    "log-linger", "protocols", "aes-key", "token-linger",
    "no-cloud", "json", "realtime", "any-channel", "virtual-qos", "virtual-no-fcs", "tls", "wpa-save",
    "tls-psk",
};

static const char *opt_name(const device_opts_spec_t *spec, int id)
{
    return id < O_NALL ? opt_names[id] : spec->extra[id - O_NALL].name;
}

static bool is_flag(const device_opts_spec_t *spec, int id)
{
    return id < O_NALL ? id >= O_NSTR : !spec->extra[id - O_NALL].has_value;
}

/* The opposite of a flag, which turns it off: "no-json" for "json", "cloud" for "no-cloud",
 * "virtual-fcs" for "virtual-no-fcs". */
static void flag_opposite(const char *name, char *out, size_t cap)
{
    const char *no = strstr(name, "no-");
    if (no == name)
        snprintf(out, cap, "%s", name + 3);
    else if (no && no[-1] == '-')
        snprintf(out, cap, "%.*s%s", (int)(no - name), name, no + 3);
    else
        snprintf(out, cap, "no-%s", name);
}

/* A flag on or off. cli: from the command line (wins over the config files; there, as in a
 * config file, the last one given wins). */
static void flag_set(device_opts_t *o, int id, bool on, bool cli)
{
    if (!cli && o->cli_[id])
        return;
    o->flag_[id] = on;
    if (cli)
        o->cli_[id] = true;
}

/* cli: from the command line or the environment (wins over the config file). */
static void opt_set(device_opts_t *o, const device_opts_spec_t *spec, int id, const char *v, bool cli)
{
    if (!cli && o->cli_[id])
        return;
    if (is_flag(spec, id)) {
        o->flag_[id] = true;
    } else {
        sc_cli_free_wiped(&o->val_[id]);
        o->val_[id] = strdup(v);
    }
    if (cli)
        o->cli_[id] = true;
}

void device_opts_free(device_opts_t *o)
{
    for (size_t i = 0; i < sizeof o->val_ / sizeof o->val_[0]; i++)
        sc_cli_free_wiped(&o->val_[i]);
    for (size_t i = 0; i < sizeof o->env_ / sizeof o->env_[0]; i++)
        sc_cli_free_wiped(&o->env_[i]);
    explicit_bzero(&o->device.identity, sizeof o->device.identity);
}

/* ------------------------------------------------------------------------------------------
 * The help. */

static const char device_examples[] =
    "examples:\n"
    "  # no Wi-Fi card: a virtual radio on UDP 7001, a simulated AP, the device on 127.0.0.2\n"
    "  smartcfg device --radio udp --join sim:MyAP:secret123:127.0.0.2 \\\n"
    "      --product-id ABCDEFGHIJ --device-name dev1 --no-cloud --json\n"
    "  # replay a capture and join for real via a script\n"
    "  smartcfg device --radio file:session.pcap --join exec:/usr/local/sbin/join-wifi --iface wlan0 \\\n"
    "      --config /etc/smartcfg/device.conf\n"
    "  # a monitor-mode interface and wpa_supplicant\n"
    "  smartcfg device --radio pcap:mon0 --join wpa:/run/wpa_supplicant/wlan0 --iface wlan0 \\\n"
    "      --config /etc/smartcfg/device.conf\n";

static void usage(const sc_cli_t *cli, FILE *f)
{
    const device_opts_spec_t *spec = cli->ctx;
    fprintf(f,
            "usage: %s --radio SPEC --join SPEC [--iface IFACE] --product-id ID --device-name NAME\n"
            "       (--device-secret SECRET | --product-secret SECRET) [options]\n"
            "\n"
            "radio (where ESP-TOUCH frames come from):\n"
            "  --radio pcap:IFACE      live capture (monitor-mode Wi-Fi hops channels; others do not)\n"
            "  --radio file:FILE       replay a capture (fast, on the capture's clock; --realtime: at its pace)\n"
            "  --radio udp[:PORT]      virtual radio: UDP datagrams to PORT (7001) become sniffed frames\n"
            "  --any-channel           file: deliver frames of every channel (no hop emulation)\n"
            "  --channels LIST         channels to search, e.g. 1,6,11 or 1-11,36-165 (default 1-13): 1..14,\n"
            "                          5 GHz 36..64, 100..144, 149..177 in steps of 4; a range takes those\n"
            "  --protocols LIST        what the receiver listens for: v1,v2,airkiss (default all three)\n"
            "  --aes-key KEY           ESP-TOUCH v2 device key for encrypted sessions (16 characters;\n"
            "                          default: $SMARTCFG_AES_KEY, which keeps it out of argv)\n"
            "  --virtual-bssid MAC --virtual-cipher open|wep|tkip|ccmp|gcmp --virtual-qos --virtual-no-fcs\n"
            "  --virtual-loss PROB --virtual-jitter MS --virtual-channel CHANNEL   (udp: radio)\n"
            "join (how the device joins the AP it was told):\n"
            "  --join sim:SSID:PASSWORD[:ADDR]   simulated AP (--sim-delay MS: fixed join time)\n"
            "  --join exec:SCRIPT      SCRIPT gets SSID, PASSWORD, BSSID in its environment; exit 0 = joined\n"
            "  --join wpa:SOCKET       wpa_supplicant control socket; --wpa-save: once joined, SAVE_CONFIG\n"
            "                          (needs update_config=1), so the network outlives a reboot\n"
            "  --iface IFACE           the device's interface: its address after the join, its MAC\n"
            "  --mac MAC               station MAC to report (default: the interface's, else a stable fake)\n"
            "identity and cloud:\n"
            "  --product-id ID --device-name NAME --device-secret SECRET | --product-secret SECRET\n"
            "                          (the product secret: dynamic registration)\n"
            "  --region REGION (ap-guangzhou)  --broker HOST[:PORT][,HOST[:PORT]...] (1883, 8883 with --tls)\n"
            "  --tls  --ca-file FILE  --register-url URL\n"
            "  --tls-psk               MQTT over TLS-PSK (8883): the key is the device secret, the identity\n"
            "                          <ProductId><DeviceName>; no CA file, no clock (--ca-file then serves\n"
            "                          only --product-secret's registration); with --at: how tls mode 1 is done\n"
            "  --no-cloud              stop after the token handshake (no MQTT)\n"
            "  --token-linger SECONDS  --no-cloud: done once the app stopped resending its token that long\n"
            "                          (default 10: the app's 5 tries 2 s apart)\n"
            "  secrets are better kept out of argv: config file, SMARTCFG_DEVICE_SECRET, SMARTCFG_PRODUCT_SECRET,\n"
            "  SMARTCFG_AES_KEY\n"
            "general:\n"
            "  --config FILE           'key = value' lines with the same names as the options (a flag's:\n"
            "                          json = true or false); several --config files are read in order,\n"
            "                          a later line wins; the command line wins over them; a FIFO\n"
            "                          (--config <(...)) has --input-wait to be written to its end\n"
            "  --input-wait SECONDS    how long a FIFO or pipe given as --config may take to be written to\n"
            "                          its end (1..3600, default 10; on the command line only)\n"
            "  --state-dir DIR         persisted records (default $XDG_STATE_HOME/smartcfg or ~/.local/state/smartcfg)\n"
            "  --timeout SECONDS       give up after that many whole seconds (exit 3); 0, the default: no limit\n"
            "  --log-linger SECONDS    after a failure, raise the log soft-AP (ESP-LOG-QUERY) and serve the\n"
            "                          provisioning log on UDP 9876 that long before exiting (0: exit at once);\n"
            "                          with --at: that long or until the AT host starts, stops or restarts\n"
            "  --at TTY                AT command front-end on TTY (a serial device, a pty, or - for stdin/stdout):\n"
            "                          wait for AT+TCSTARTSMART / AT+TCSAP instead of starting at once; the identity\n"
            "                          comes from AT+TCDEVINFOSET (docs/at.md). --at-baud N (115200)\n"
            "  --json                  one JSON event per line on stdout\n"
            "  --log-level error|warn|info|debug\n"
            "  -h, --help              this text;  --version  the version\n",
            cli->name);
    /* every flag's opposite, so a flag a config file set can be turned off */
    fprintf(f, "  a flag's opposite turns it off (the last given wins):");
    int col = 54;
    for (int id = 0; id < O_NALL + (int)spec->nextra; id++) {
        char opp[48];
        if (!is_flag(spec, id))
            continue;
        flag_opposite(opt_name(spec, id), opp, sizeof opp);
        if (col + (int)strlen(opp) + 4 > 100) {
            fprintf(f, "\n                         ");
            col = 25;
        }
        fprintf(f, " --%s", opp);
        col += (int)strlen(opp) + 3;
    }
    fprintf(f, "\n");
    if (spec->nextra) {
        fprintf(f, "%s:\n", cli->name);
        for (size_t i = 0; i < spec->nextra; i++)
            fputs(spec->extra[i].help ? spec->extra[i].help : "", f);
    }
    fprintf(f, "exit: 0 done, 1 setup failure, 2 usage, 3 timeout, 4 device error, 5 cloud error, 130 interrupted\n"
               "      (SIGTERM/SIGINT/SIGHUP); as a service: restart on 1, 3, 4, 5, never on 2 (an interface\n"
               "      or wpa_supplicant not there yet is 1); one run per --state-dir (docs/device-linux.md)\n\n%s",
            spec->examples ? spec->examples : device_examples);
}

/* ------------------------------------------------------------------------------------------
 * The config file. */

/* A config key: an option's name, or a flag's opposite (*off: "no-json = true" is json = false). */
static int opt_lookup(const device_opts_spec_t *spec, const char *key, bool *off)
{
    char k[64], opp[64];
    size_t n = strlen(key);
    if (n >= sizeof k)
        return -1;
    for (size_t i = 0; i <= n; i++)
        k[i] = key[i] == '_' ? '-' : key[i];
    *off = false;
    for (int i = 0; i < O_NALL + (int)spec->nextra; i++) {
        if (!strcmp(k, opt_name(spec, i)))
            return i;
        if (is_flag(spec, i)) {
            flag_opposite(opt_name(spec, i), opp, sizeof opp);
            if (!strcmp(k, opp)) {
                *off = true;
                return i;
            }
        }
    }
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
        *out = false;
    else
        return false;
    return true;
}

/* One `key = value` line (comments and blanks already skipped). 0 or a usage error. */
static int config_line(device_opts_t *o, const device_opts_spec_t *spec, char *s, const char *where,
                       bool *has_secret)
{
    char *eq = strchr(s, '=');
    if (!eq)
        return sc_cli_usage_error(&o->cli, "%s: expected 'key = value'", where);
    *eq = '\0';
    char *key = trim(s), *val = trim(eq + 1);
    size_t vl = strlen(val);
    bool quoted = vl >= 2 && val[0] == '"' && val[vl - 1] == '"';
    if (quoted) {
        val[vl - 1] = '\0';
        val++;
    }
    /* A line's text is never shown, its key only once it is an option's name: a file that is
     * not a config (a password file given by mistake, `secret=...` mistyped) put a secret in the
     * message (a terminal, the journal). The line number says where. */
    bool off;
    int id = opt_lookup(spec, key, &off);
    if (id < 0 && (!strcmp(key, "input-wait") || !strcmp(key, "input_wait")))
        /* it bounds the reading of the config files themselves: from one of them it would
         * apply only to the files after it */
        return sc_cli_usage_error(&o->cli, "%s: 'input-wait' goes on the command line (--input-wait SECONDS: it "
                                           "bounds the reading of the config files themselves)", where);
    if (id < 0) {
        const char *names[O_NALL + DEVICE_OPTS_MAX_EXTRA];
        size_t nn = 0;
        for (int i = 0; i < O_NALL + (int)spec->nextra; i++)
            names[nn++] = opt_name(spec, i);
        const char *near = sc_cli_nearest(key, names, nn);
        return sc_cli_usage_error(&o->cli, "%s: unknown key%s%s%s (the keys are the options' names, as --help lists them)", where,
                                  near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    }
    if (!quoted && (strstr(val, " #") || strstr(val, "\t#"))) {
        /* `key = value  # why` is no comment here ('#' starts one only at a line's start): it
         * became part of the value, `device-name = dev1 # x` a device name the cloud would
         * refuse at the login, a flag an error saying only "wants true or false". The value
         * is not shown (it may be a secret). */
        return sc_cli_usage_error(&o->cli,
                                  "%s: '%s' has a '#' after a space in its value: a comment goes on a line of "
                                  "its own (a '#' that belongs to the value: put the value in double quotes)",
                                  where, key);
    }
    if (is_flag(spec, id)) {
        bool b;
        if (!parse_bool(val, &b))
            return sc_cli_usage_error(&o->cli, "%s: '%s' wants true or false", where, key);
        /* false turns the flag off: a later line or a later --config file undoes an earlier
         * true (it was ignored: json = true could not be taken back) */
        flag_set(o, id, b != off, false);
        return 0;
    }
    if (id == O_DEVICE_SECRET || id == O_PRODUCT_SECRET || id == O_AES_KEY)
        *has_secret = true;
    opt_set(o, spec, id, val, false);
    return 0;
}

/* The first directory from dir (a real path: no symlinks) up to / that another user could
 * change (sc_posix_stat_foreign; a sticky one only lets others add names, never replace ours):
 * its rule's value, why and its path in bad; 0 when none. One that cannot be looked at is
 * passed over (the script's own stat already answered for what can be reached). */
static int dir_chain_foreign(const char *dir, char *why, size_t wn, char *bad, size_t bn)
{
    char d[PATH_MAX], up[PATH_MAX];
    snprintf(d, sizeof d, "%s", dir);
    for (;;) {
        struct stat ds;
        if (stat(d, &ds) == 0) {
            int foreign = sc_posix_stat_foreign(&ds, why, wn);
            if (foreign == 2 && (ds.st_mode & S_ISVTX))
                foreign = 0; /* sticky (/tmp) */
            if (foreign) {
                snprintf(bad, bn, "%s", d);
                return foreign;
            }
        }
        if (!strcmp(d, "/") || !strcmp(d, "."))
            return 0;
        sc_posix_parent_dir(d, up, sizeof up);
        snprintf(d, sizeof d, "%s", up);
    }
}

/* Whether another user could change the file at path (st: the opened file's): its owner, a
 * group or other write bit, or a directory up to / that another user may change, where the
 * path names it and where a symlink leads. sc_posix_stat_foreign's value, why in why and the
 * directory (or "") in bad; 0 when none. */
static int path_foreign(const char *path, const struct stat *st, char *why, size_t wn, char *bad, size_t bn)
{
    char dir[PATH_MAX], real[PATH_MAX];
    bad[0] = 0;
    int foreign = sc_posix_stat_foreign(st, why, wn);
    sc_posix_parent_dir(path, dir, sizeof dir);
    if (!foreign && realpath(dir, real))
        foreign = dir_chain_foreign(real, why, wn, bad, bn);
    if (!foreign && realpath(path, real)) {
        sc_posix_parent_dir(real, dir, sizeof dir);
        foreign = dir_chain_foreign(dir, why, wn, bad, bn);
    }
    return foreign;
}

/* A config file another user could change (its owner, a group or other write bit, or one in a
 * directory up to / that another user may change, where the path names it and where a symlink
 * leads) would let that user decide what this device runs: `join = exec:/usr/bin/env` prints
 * the Wi-Fi password to the log, `broker =` sends the MQTT login elsewhere. Refused like such a
 * join script (F73, F74): 1 and the reason, nothing read. st is the opened file's. */
static int config_foreign(device_opts_t *o, const char *path, const struct stat *st)
{
    char why[96], bad[PATH_MAX];
    if (!path_foreign(path, st, why, sizeof why, bad, sizeof bad))
        return 0;
    return sc_cli_fail(&o->cli, SC_EXIT_FAIL,
                       "--config: '%s' is %s%s%s%s: another user could change the device's settings (the join "
                       "script that gets the Wi-Fi password, the broker); keep the file and its directories to "
                       "yourself (or root)",
                       path, bad[0] ? "in a directory " : "", why, bad[0] ? ", " : "", bad);
}

/* Whether a config file holding a secret lets others read it. Every bit for others does, and
 * group bits on a file of our own (we can chmod 600 it). A file of another owner (root: F90
 * refuses the rest) that is group-readable for our own group is the usual way a service user
 * reads root's /etc/smartcfg/device.conf (root:smartcfg 0640, the group its own or one of its
 * supplementary groups): "chmod 600" would lock the service out, so that one is not warned
 * about. */
static bool config_shows_secret(const struct stat *st, bool acl)
{
    if (st->st_mode & 007)
        return true;
    if (!(st->st_mode & 070))
        return false;
    if (acl)   /* the group bits are then the ACL's mask: readers the mode does not show (F110) */
        return true;
    if (st->st_uid == geteuid())
        return true;
    return !sc_cli_group_ours(st->st_gid);
}

/* `key = value` lines, '#' comments, optional double quotes around the value. */
#define CONFIG_FILE_MAX (256 * 1024) /* /dev/zero or a wrong file: not read to its end */

static int load_config(device_opts_t *o, const device_opts_spec_t *spec, const char *path)
{
    /* Opened without waiting for a FIFO's writer, and read whole within SC_CLI_INPUT_WAIT_S:
     * `--config <(...)` works, a FIFO nothing writes to no longer hangs the start for ever. */
    int fd = sc_cli_input_open(path, false);
    if (fd < 0)
        return sc_cli_usage_error(&o->cli, "cannot read config %s: %s", path, strerror(errno));
    const unsigned wait_s = o->input_wait_s ? o->input_wait_s : SC_CLI_INPUT_WAIT_S;
    struct stat st;
    int bad = fstat(fd, &st) == 0 ? config_foreign(o, path, &st) : 0;
    char *data = bad ? NULL : malloc(CONFIG_FILE_MAX);
    long n = data ? sc_cli_input_read(fd, data, CONFIG_FILE_MAX, wait_s) : -1;
    int err = data ? errno : ENOMEM;
    bool acl = !bad && sc_cli_has_acl(fd);
    close(fd);
    if (bad) {
        free(data);
        return bad;
    }
    if (n < 0) {
        char why[256];
        if (data)
            explicit_bzero(data, CONFIG_FILE_MAX);
        free(data);
        /* a directory (EISDIR) or an I/O error: the settings in it must not be silently missing */
        return sc_cli_usage_error(&o->cli, "cannot read config %s: %s", path,
                                  sc_cli_input_why(err, CONFIG_FILE_MAX, wait_s, why, sizeof why));
    }
    /* A NUL byte cut its line there: a value (a secret) taken short on a last line without
     * its newline, "line too long" on another (F113); a file saved as UTF-16 has one in every
     * line. Told by its line, as every other fault: never its text. */
    const char *nul = memchr(data, '\0', (size_t)n);
    if (nul != NULL) {
        int at = 1;
        for (const char *c = data; c < nul; c++)
            at += *c == '\n';
        explicit_bzero(data, (size_t)n);
        free(data);
        return sc_cli_usage_error(&o->cli, "%s:%d: a NUL byte: no text file (UTF-16? save it as UTF-8)", path, at);
    }
    FILE *f = n ? fmemopen(data, (size_t)n, "r") : NULL;
    char line[1024], where[300];
    int lineno = 0, rc = n && !f ? sc_cli_usage_error(&o->cli, "cannot read config %s: %s", path, strerror(errno)) : 0;
    bool has_secret = false;
    while (f && rc == 0 && fgets(line, sizeof line, f)) {
        snprintf(where, sizeof where, "%s:%d", path, ++lineno);
        if (!strchr(line, '\n') && !feof(f)) {
            rc = sc_cli_usage_error(&o->cli, "%s: line too long", where);
            break;
        }
        char *s = line;
        if (lineno == 1)
            s += sc_cli_bom(s, strlen(s));   /* a byte order mark, as Windows' Notepad writes one */
        s = trim(s);
        if (*s && *s != '#')
            rc = config_line(o, spec, s, where, &has_secret);
    }
    explicit_bzero(line, sizeof line);
    if (f)
        fclose(f);
    explicit_bzero(data, (size_t)n);
    free(data);
    if (rc == 0 && has_secret && config_shows_secret(&st, acl))
        sc_cli_warn(&o->cli, "%s holds a secret but is readable by others (%s)", path,
                    acl && !(st.st_mode & 007) ? "an access ACL: setfacl -b it, then chmod 600 or 640" : "chmod 600 it");
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * The command line. */

static void build_longopts(const device_opts_spec_t *spec, struct option *lo, char (*opp)[48])
{
    size_t n = 0;
    for (int i = 0; i < O_NALL + (int)spec->nextra; i++) {
        lo[n++] = (struct option){ opt_name(spec, i), is_flag(spec, i) ? no_argument : required_argument, NULL,
                                   GETOPT_BASE + i };
        if (is_flag(spec, i)) {
            flag_opposite(opt_name(spec, i), opp[i], sizeof opp[i]);
            lo[n++] = (struct option){ opp[i], no_argument, NULL, GETOPT_OFF + i };
        }
    }
    lo[n++] = (struct option){ "config", required_argument, NULL, GETOPT_BASE + O_CONFIG };
    lo[n++] = (struct option){ "input-wait", required_argument, NULL, GETOPT_BASE + O_INPUT_WAIT };
    lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
    lo[n++] = (struct option){ "version", no_argument, NULL, SC_CLI_OPT_VERSION };
    lo[n] = (struct option){ NULL, 0, NULL, 0 };
}

/* The getopt loop. DEVICE_OPTS_RUN, or an exit code. */
static int parse_cmdline(device_opts_t *o, const device_opts_spec_t *spec, int argc, char **argv,
                         const char **config_path, size_t *nconfig)
{
    struct option lo[2 * O_NIDS + 5];
    char opp[O_NIDS][48];
    build_longopts(spec, lo, opp);
    o->cli.longopts = lo;
    bool on_cli[3] = { false, false, false }; /* --device-secret, --product-secret, --aes-key */
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, SC_CLI_SHORTOPTS, lo, NULL)) != -1) {
        int rc = sc_cli_std_option(&o->cli, c, argv);
        if (rc >= 0) {
            o->cli.longopts = NULL;
            return rc;
        }
        if (c >= GETOPT_OFF) {
            flag_set(o, c - GETOPT_OFF, false, true);
            continue;
        }
        int id = c - GETOPT_BASE;
        if (id == O_CONFIG) {
            /* each one read in order (a second --config replaced the first without a word) */
            if (*nconfig == MAX_CONFIGS) {
                o->cli.longopts = NULL;
                return sc_cli_usage_error(&o->cli, "--config: at most %d files", MAX_CONFIGS);
            }
            config_path[(*nconfig)++] = optarg;
            continue;
        }
        if (id == O_INPUT_WAIT) {
            if ((rc = sc_cli_input_wait(&o->cli, optarg, &o->input_wait_s)) != 0) {
                o->cli.longopts = NULL;
                return rc;
            }
            continue;
        }
        if (is_flag(spec, id)) {
            flag_set(o, id, true, true);
            continue;
        }
        opt_set(o, spec, id, optarg, true);
        if (id == O_DEVICE_SECRET || id == O_PRODUCT_SECRET || id == O_AES_KEY) {
            on_cli[id == O_DEVICE_SECRET ? 0 : id == O_PRODUCT_SECRET ? 1 : 2] = true;
            /* Our copy is taken; blank argv so /proc/<pid>/cmdline stops showing it. */
            memset(optarg, 'x', strlen(optarg));
        } else if (id == O_JOIN && !strncmp(optarg, "sim:", 4)) {
            /* The simulated AP's password is a Wi-Fi password too. */
            memset(optarg + 4, 'x', strlen(optarg + 4));
        }
    }
    o->cli.longopts = NULL; /* lo is this function's */
    if (optind < argc)
        return sc_cli_usage_error(&o->cli, "unexpected argument '%s'", argv[optind]);
    /* one line, once, naming the variables of the secrets given (the key's was not named: it
     * had none) */
    static const char *const envs[3] = { "SMARTCFG_DEVICE_SECRET", "SMARTCFG_PRODUCT_SECRET", "SMARTCFG_AES_KEY" };
    char alt[128] = "";
    for (int i = 0; i < 3; i++)
        if (on_cli[i])
            snprintf(alt + strlen(alt), sizeof alt - strlen(alt), "%s%s", alt[0] ? " / " : "", envs[i]);
    if (alt[0])
        sc_cli_warn(&o->cli, "a secret on the command line is visible to other users (use --config FILE, or %s)", alt);
    return DEVICE_OPTS_RUN;
}

/* ------------------------------------------------------------------------------------------
 * Validation: values -> the host's and the device's configuration. */

/* unit: "seconds", "milliseconds" (said in the message, as the help says it), or NULL */
static int parse_uint(device_opts_t *o, int id, unsigned long min, unsigned long max, const char *unit, uint32_t *out)
{
    const char *s = o->val_[id];
    if (!s)
        return 0;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max || s[0] == '-')
    {
        char opt[40];
        snprintf(opt, sizeof opt, "--%s", opt_names[id]);
        return sc_cli_bad_value(&o->cli, opt, s, "a whole number%s%s in %lu..%lu", unit ? " of " : "", unit ? unit : "",
                                min, max);
    }
    *out = (uint32_t)v;
    return 0;
}

static int copy_field(device_opts_t *o, char *dst, size_t cap, const char *src, const char *what)
{
    if (!src)
        return 0;
    if (strlen(src) >= cap)
        return sc_cli_usage_error(&o->cli, "%s is too long (at most %zu characters)", what, cap - 1);
    strcpy(dst, src);
    return 0;
}

static int check_log_level(device_opts_t *o)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    static const sc_log_level_t levels[] = { SC_LOG_ERROR, SC_LOG_WARN, SC_LOG_INFO, SC_LOG_DEBUG };
    o->log_level = SC_LOG_INFO;
    const char *l = o->val_[O_LOG_LEVEL];
    for (size_t i = 0; l && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(l, names[i])) {
            o->log_level = levels[i];
            l = NULL;
        }
    if (l)
        return sc_cli_bad_value(&o->cli, "--log-level", o->val_[O_LOG_LEVEL], "one of error, warn, info, debug");
    sc_posix_log_level(o->log_level);
    return 0;
}

static int check_required(device_opts_t *o, const device_opts_spec_t *spec)
{
    for (size_t i = 0; i < spec->nextra; i++)
        if (spec->extra[i].required && !o->val_[O_NALL + i] && !o->flag_[O_NALL + i])
            return sc_cli_usage_error(&o->cli, "%s", spec->extra[i].required);
    if (!o->val_[O_RADIO] || !o->val_[O_JOIN])
        return sc_cli_usage_error(&o->cli, "--radio and --join are required");
    if (o->val_[O_AT]) {
        /* With --at the identity comes from AT+TCDEVINFOSET; the device is re-initialised with
         * it on AT+TCSTARTSMART. This placeholder only lets it sit idle until then. */
        if (!o->val_[O_PRODUCT_ID])
            opt_set(o, spec, O_PRODUCT_ID, "AT", true);
        if (!o->val_[O_DEVICE_NAME])
            opt_set(o, spec, O_DEVICE_NAME, "AT", true);
    }
    if (!o->val_[O_PRODUCT_ID] || !o->val_[O_DEVICE_NAME])
        return sc_cli_usage_error(&o->cli, "--product-id and --device-name are required");
    if (!o->flag_[O_NO_CLOUD] && !o->val_[O_AT] && !o->val_[O_DEVICE_SECRET] && !o->val_[O_PRODUCT_SECRET])
        return sc_cli_usage_error(&o->cli, "the cloud binding needs --device-secret or --product-secret "
                                           "(or --no-cloud)");
    return 0;
}

/* --broker HOST[:PORT][,HOST[:PORT]...]: the brokers of one cluster, tried in order when a
 * connection fails before the broker answered (the POSIX port does the failover). */
static int check_broker(device_opts_t *o, sc_cloud_config_t *cloud)
{
    const char *b = o->val_[O_BROKER];
    if (!b)
        return 0;
    for (const char *s = b;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        const char *colon = memchr(s, ':', n);
        size_t hl = colon ? (size_t)(colon - s) : n;
        if (colon) {
            char *end;
            errno = 0;
            unsigned long v = strtoul(colon + 1, &end, 10);
            if (colon + 1 == s + n || end != s + n || errno || v < 1 || v > 65535 || colon[1] == '-')
                hl = 0;
        }
        if (hl == 0)
            return sc_cli_bad_value(&o->cli, "--broker", b, "a list HOST[:PORT][,HOST[:PORT]...] (ports 1..65535)");
        if (!comma)
            break;
        s = comma + 1;
    }
    if (strlen(b) >= sizeof cloud->host)
        return sc_cli_bad_value(&o->cli, "--broker", b, "a list of at most %zu characters", sizeof cloud->host - 1);
    /* One address: host and port apart, as before (the port also picks TLS defaults). A list
     * goes to the port whole; its entries carry their own ports. */
    const char *colon = strchr(b, ',') ? NULL : strrchr(b, ':');
    size_t hl = colon ? (size_t)(colon - b) : strlen(b);
    memcpy(cloud->host, b, hl);
    cloud->host[hl] = '\0';
    cloud->port = colon ? (uint16_t)strtoul(colon + 1, NULL, 10) : 0;
    return 0;
}

static int check_identity(device_opts_t *o)
{
    sc_device_config_t *d = &o->device;
    if (copy_field(o, d->identity.product_id, sizeof d->identity.product_id, o->val_[O_PRODUCT_ID], "--product-id") ||
        copy_field(o, d->identity.device_name, sizeof d->identity.device_name, o->val_[O_DEVICE_NAME],
                   "--device-name") ||
        copy_field(o, d->identity.device_secret, sizeof d->identity.device_secret, o->val_[O_DEVICE_SECRET],
                   "the device secret") ||
        copy_field(o, d->identity.product_secret, sizeof d->identity.product_secret, o->val_[O_PRODUCT_SECRET],
                   "the product secret") ||
        copy_field(o, d->identity.region, sizeof d->identity.region,
                   o->val_[O_REGION] ? o->val_[O_REGION] : "ap-guangzhou", "--region") ||
        copy_field(o, d->cloud.register_url, sizeof d->cloud.register_url, o->val_[O_REGISTER_URL],
                   "--register-url") ||
        copy_field(o, d->cloud.ca_file, sizeof d->cloud.ca_file, o->val_[O_CA_FILE], "--ca-file"))
        return SC_EXIT_USAGE;
    if (!d->identity.product_id[0] || !d->identity.device_name[0])
        return sc_cli_usage_error(&o->cli, "--product-id and --device-name must not be empty");
    /* A CA bundle that cannot be read failed only at the MQTT login (or the registration),
     * after the Wi-Fi was provisioned: a cloud error (5) that every restart repeats. */
    const char *ca = o->val_[O_CA_FILE];
    if (ca && (!o->flag_[O_NO_CLOUD] || o->val_[O_AT])) {   /* (d->skip_cloud is set below) */
        /* Non-blocking, and a byte read only from a regular file (F78): a FIFO with no writer
         * hung the start for ever, and one with a writer (`--ca-file <(...)`) lost what this
         * check read to it, so the login read a bundle cut short. */
        int fd = open(ca, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        int err = fd >= 0 ? 0 : errno;
        struct stat cs;
        bool dev = false;
        if (fd >= 0 && fstat(fd, &cs) == 0 && (S_ISREG(cs.st_mode) || S_ISDIR(cs.st_mode))) {
            char byte;
            ssize_t r = read(fd, &byte, 1);
            err = r < 0 ? errno : r == 0 ? ENODATA : 0;
        } else if (fd >= 0) {
            /* a device node (/dev/zero, /dev/null) holds no bundle: the login would fail, a
             * cloud error (5) every restart repeats, as above */
            dev = S_ISCHR(cs.st_mode) || S_ISBLK(cs.st_mode);
        }
        if (fd >= 0)
            close(fd);
        if (err || dev)
            return sc_cli_usage_error(&o->cli, "--ca-file: cannot read '%s': %s", ca,
                                      dev ? "a device, not a file of certificates"
                                      : err == ENODATA ? "the file is empty" : strerror(err));
    }
    /* The region the identity reply names: as `send --region` takes it (an empty one went to
     * the phone as the device's region). */
    const char *r = d->identity.region;
    bool region_ok = r[0] != 0;
    for (; *r; r++)
        region_ok = region_ok && *r > 0x20 && *r < 0x7f;
    if (!region_ok)
        return sc_cli_bad_value(&o->cli, "--region", o->val_[O_REGION], "1..%d printable ASCII characters without spaces",
                                SC_REGION_MAX);
    d->cloud.tls = o->flag_[O_TLS] || o->flag_[O_TLS_PSK];
    d->cloud.tls_psk = o->flag_[O_TLS_PSK];
    d->skip_cloud = o->flag_[O_NO_CLOUD];
    /* TLS-PSK checks no certificate: a CA file would be read by nobody (unless a registration
     * over HTTPS comes first) and suggests a check that does not happen. */
    if (d->cloud.tls_psk && ca && !o->val_[O_PRODUCT_SECRET] && !o->val_[O_AT] && !d->skip_cloud)
        return sc_cli_usage_error(&o->cli, "--ca-file with --tls-psk: TLS-PSK checks no certificate (a CA file "
                                           "serves only a registration's HTTPS, with --product-secret)");
    /* An empty secret and no other (`--device-secret ''`, `device-secret = ""`) would let the
     * device be provisioned and fail only at its MQTT login, a cloud error (5) that every
     * restart repeats. (An empty device secret beside a product secret is dynamic registration.) */
    const char *ds = o->val_[O_DEVICE_SECRET], *ps = o->val_[O_PRODUCT_SECRET];
    if (!d->skip_cloud && !o->val_[O_AT] && (ds || ps) && !(ds && ds[0]) && !(ps && ps[0]))
        return sc_cli_usage_error(&o->cli, "--%s is empty (give the secret the console shows, or leave it out)",
                                  ds ? "device-secret" : "product-secret");
    /* The same for a secret that is no key at all (a typo, a line cut short, a product secret
     * given as the device's): every MQTT login and the TLS-PSK key decode it as base64, so it
     * failed only after the device had been provisioned and joined (exit 5). */
    if (!d->skip_cloud && !o->val_[O_AT] && ds && ds[0]) {
        char pw[SC_CLOUD_PASSWORD_SIZE];
        sc_err_t e = sc_cloud_mqtt_password(ds, "check", false, pw, sizeof pw);
        explicit_bzero(pw, sizeof pw);
        if (e != SC_OK)   /* (its length is checked with the identity's fields: 44 characters) */
            return sc_cli_usage_error(&o->cli, "--device-secret is no device key: not base64 (give the "
                                               "device secret the console shows)");
    }
    if (o->val_[O_TOKEN_LINGER]) {
        uint32_t s = 0;
        /* from 1: the core reads 0 as "the default" */
        if (parse_uint(o, O_TOKEN_LINGER, 1, 600, "seconds", &s))
            return SC_EXIT_USAGE;
        d->linger_ms = s * 1000u;
    }
    return check_broker(o, &d->cloud);
}

/* Hop only where the AP can be (a known channel, or the 5 GHz ones a card supports); the core
 * reads the list (ranges such as 1-11,36-165 expand to real channel numbers). */
static int check_channels(device_opts_t *o)
{
    const char *p = o->val_[O_CHANNELS];
    if (!p)
        return 0;
    size_t n = 0;
    int rc = sc_cli_channels(&o->cli, "--channels", p, o->channels, DEVICE_OPTS_MAX_CHANNELS, &n);
    if (rc)
        return rc;
    o->device.channels = o->channels;
    o->device.nchannels = n;
    return 0;
}

/* The receiver's protocols and the v2 device key. */
static int check_protocols(device_opts_t *o)
{
    unsigned mask = SC_PROTO_ALL;
    if (o->val_[O_PROTOCOLS]) {
        int rc = sc_cli_protocols(&o->cli, "--protocols", o->val_[O_PROTOCOLS], &mask);
        if (rc)
            return rc;
    }
    o->device.protocols = (uint8_t)mask;
    const char *k = o->val_[O_AES_KEY];
    if (k) {
        if (strlen(k) != sizeof o->device.v2_key)
            return sc_cli_bad_value(&o->cli, "--aes-key", NULL, "16 characters");
        memcpy(o->device.v2_key, k, sizeof o->device.v2_key);
        o->device.v2_key_set = true;
    }
    return 0;
}

static int check_cipher(device_opts_t *o, sc_cipher_t *c)
{
    static const struct {
        const char *n;
        sc_cipher_t c;
    } t[] = { { "open", SC_CIPHER_OPEN }, { "wep", SC_CIPHER_WEP }, { "tkip", SC_CIPHER_TKIP },
              { "ccmp", SC_CIPHER_CCMP }, { "gcmp", SC_CIPHER_GCMP } };
    const char *s = o->val_[O_VIRTUAL_CIPHER];
    for (size_t i = 0; s && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(s, t[i].n)) {
            *c = t[i].c;
            return 0;
        }
    return s ? sc_cli_bad_value(&o->cli, "--virtual-cipher", s, "one of open, wep, tkip, ccmp, gcmp") : 0;
}

static int check_vradio(device_opts_t *o)
{
    sc_posix_vradio_opts_t *v = &o->host.vradio;
    if (parse_uint(o, O_VIRTUAL_JITTER, 0, 10000, "milliseconds", &v->jitter_ms) ||
        (o->val_[O_VIRTUAL_CHANNEL] &&
         sc_cli_channel(&o->cli, "--virtual-channel", o->val_[O_VIRTUAL_CHANNEL], true, &v->only_channel)) ||
        check_cipher(o, &v->cipher))
        return SC_EXIT_USAGE;
    v->qos = o->flag_[O_VIRTUAL_QOS];
    v->fcs = !o->flag_[O_VIRTUAL_NO_FCS];
    if (o->val_[O_VIRTUAL_BSSID] && sc_posix_parse_mac(o->val_[O_VIRTUAL_BSSID], v->bssid) != SC_OK)
        return sc_cli_bad_value(&o->cli, "--virtual-bssid", o->val_[O_VIRTUAL_BSSID], "a MAC address like aa:bb:cc:dd:ee:ff");
    const char *loss = o->val_[O_VIRTUAL_LOSS];
    if (loss) {
        char *end;
        v->loss = strtod(loss, &end);
        if (end == loss || *end || !(v->loss >= 0 && v->loss <= 1))
            return sc_cli_bad_value(&o->cli, "--virtual-loss", loss, "a probability in 0..1");
    }
    return 0;
}

static int check_host(device_opts_t *o)
{
    sc_posix_host_cfg_t *h = &o->host;
    if (parse_uint(o, O_TIMEOUT, 0, 86400, "seconds", &h->timeout_s) ||
        parse_uint(o, O_LOG_LINGER, 0, 3600, "seconds", &h->log_linger_s) ||
        parse_uint(o, O_SIM_DELAY, 0, 600000, "milliseconds", &h->sim_delay_ms) ||
        parse_uint(o, O_AT_BAUD, 0, 4000000, NULL, &h->at_baud))
        return SC_EXIT_USAGE;
    if (o->val_[O_AT_BAUD] && !o->val_[O_AT]) /* it was ignored without a word */
        return sc_cli_usage_error(&o->cli, "--at-baud goes with --at TTY");
    /* The events went out between the AT replies, on the one line the AT host reads. */
    if (o->val_[O_AT] && !strcmp(o->val_[O_AT], "-") && o->flag_[O_JSON])
        return o->cli_[O_JSON]
                   ? sc_cli_usage_error(&o->cli, "--json and --at - both want stdout: --at - answers the AT host "
                                                 "there (give --at a tty or pty, or leave --json out)")
                   /* the config file's: say where it is and how to undo it here */
                   : sc_cli_usage_error(&o->cli, "json = true in the config file and --at - both want stdout: --at - "
                                                 "answers the AT host there (give --no-json, or --at a tty or pty)");
    if (o->val_[O_MAC]) {
        if (sc_posix_parse_mac(o->val_[O_MAC], h->mac) != SC_OK)
            return sc_cli_bad_value(&o->cli, "--mac", o->val_[O_MAC], "a MAC address like aa:bb:cc:dd:ee:ff");
        h->mac_set = true;
    }
    h->iface = o->val_[O_IFACE];
    /* An interface that is not there is a setup failure (1), not a usage error (2): at boot a
     * Wi-Fi driver or a USB dongle may not have made it yet, and a service manager restarts
     * on 1 but is told not to on 2 (docs/device-linux.md, "Running as a service"). */
    if (h->iface && !if_nametoindex(h->iface))
        return sc_cli_fail(&o->cli, SC_EXIT_FAIL, "--iface: no interface '%s' (not present now)", h->iface);
    h->radio_spec = o->val_[O_RADIO];
    h->join_spec = o->val_[O_JOIN];
    /* A join script that is not there or cannot run failed the join only once a phone had
     * sent the credentials (exit 4, the user told to try again from the app). */
    if (h->join_spec && !strncmp(h->join_spec, "exec:", 5) && h->join_spec[5]) {
        const char *script = h->join_spec + 5;
        struct stat st;
        int err = stat(script, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR
                                                   : access(script, X_OK) != 0 ? errno : 0;
        if (err)
            return sc_cli_usage_error(&o->cli, "--join: exec: cannot run '%s': %s%s", script, strerror(err),
                                      err == EACCES ? " (chmod +x it)" : "");
        /* The script gets the Wi-Fi password: one another user may change (or replace, through
         * its directory) would hand it to that user, and run as us (F73). Every directory up
         * to / counts, where the path is named and where a symlink leads (F74): in any of them
         * another user could rename the script, or a directory holding it, away after this
         * check and put their own in its place before the join runs it. */
        char why[96], bad[PATH_MAX];
        if (path_foreign(script, &st, why, sizeof why, bad, sizeof bad))
            return sc_cli_fail(&o->cli, SC_EXIT_FAIL,
                               "--join: exec: '%s' is %s%s%s%s: another user could change what runs with the Wi-Fi "
                               "password; keep the script and its directories to yourself (or root)",
                               script, bad[0] ? "in a directory " : "", why, bad[0] ? ", " : "", bad);
    }
    h->state_dir = o->val_[O_STATE_DIR];
    h->at_path = o->val_[O_AT];
    h->any_channel = o->flag_[O_ANY_CHANNEL];
    h->realtime = o->flag_[O_REALTIME];
    h->wpa_save = o->flag_[O_WPA_SAVE];
    if (h->wpa_save && (!h->join_spec || strncmp(h->join_spec, "wpa:", 4)))
        return o->cli_[O_WPA_SAVE]
                   ? sc_cli_usage_error(&o->cli, "--wpa-save goes with --join wpa:SOCKET")
                   /* the config's, with a --join given on the command line: say where it is */
                   : sc_cli_usage_error(&o->cli, "wpa-save = true in the config file goes with --join "
                                                 "wpa:SOCKET (give --no-wpa-save, or set wpa-save = false there, "
                                                 "to join another way)");
    h->cloud = !o->flag_[O_NO_CLOUD] || h->at_path;
    return check_vradio(o);
}

int device_opts_parse(device_opts_t *o, const device_opts_spec_t *spec, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    /* before any secret is read (argv, a config FIFO, the environment, later the phone's Wi-Fi
     * password): no core dump holds one */
    sc_cli_no_core();
    sc_cli_init(&o->cli, spec->name, usage, spec, argc, argv);
    /* The secrets' variables, out of the environment before anything can wait (a --config
     * FIFO): copied, wiped where exec put them and unset, so that neither /proc/PID/environ nor
     * a --join exec: script, the only program the device starts, sees them (F180, F185). They
     * are applied below, after the config files, which they win over. */
    static const char *const env_name[] = { "SMARTCFG_DEVICE_SECRET", "SMARTCFG_PRODUCT_SECRET", "SMARTCFG_AES_KEY" };
    _Static_assert(sizeof env_name / sizeof env_name[0] == sizeof o->env_ / sizeof o->env_[0], "one slot a variable");
    for (size_t i = 0; i < sizeof o->env_ / sizeof o->env_[0]; i++)
        if (sc_cli_env_take(env_name[i], &o->env_[i]) < 0)
            return sc_cli_fail(&o->cli, SC_EXIT_FAIL, "out of memory");
    sc_posix_host_cfg_default(&o->host);
    sc_device_config_default(&o->device);
    if (spec->nextra > DEVICE_OPTS_MAX_EXTRA)
        return sc_cli_fail(&o->cli, SC_EXIT_FAIL, "too many program options");
    const char *config_path[MAX_CONFIGS];
    size_t nconfig = 0;
    int rc = parse_cmdline(o, spec, argc, argv, config_path, &nconfig);
    if (rc != DEVICE_OPTS_RUN)
        return rc;
    for (size_t i = 0; i < nconfig; i++)
        if ((rc = load_config(o, spec, config_path[i])) != 0) /* usage, or 1 for a file others may change */
            return rc;
    static const int env_opt[] = { O_DEVICE_SECRET, O_PRODUCT_SECRET, O_AES_KEY };   /* env_name's order */
    for (size_t i = 0; i < sizeof o->env_ / sizeof o->env_[0]; i++) {
        if (!o->cli_[env_opt[i]] && o->env_[i] && o->env_[i][0])
            opt_set(o, spec, env_opt[i], o->env_[i], true);
        sc_cli_free_wiped(&o->env_[i]);   /* copied by opt_set, or not used */
    }
    o->json = o->cli.json = o->flag_[O_JSON];
    if (check_log_level(o) || check_required(o, spec) || check_identity(o) || check_channels(o) || check_protocols(o))
        return SC_EXIT_USAGE;
    if ((rc = check_host(o)) != 0) /* usage, or 1 for an interface that is not there */
        return rc;
    for (size_t i = 0; i < spec->nextra; i++)
        o->extra[i] = is_flag(spec, O_NALL + (int)i) ? (o->flag_[O_NALL + i] ? "1" : NULL) : o->val_[O_NALL + i];
    return DEVICE_OPTS_RUN;
}
