/* SPDX-License-Identifier: Apache-2.0 */
/* The smartcfg command: dispatches to the subcommands, which follow cli.h's convention. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sc_posix_event.h"
#include "smartcfg/version.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    { "send", cmd_send, "phone side: send SSID/password (ESP-TOUCH v1/v2, AirKiss), collect acks, hand out tokens" },
    { "device", cmd_device, "device side: sniff, decode, join, ack, serve the token, bind to the cloud" },
    { "decode", cmd_decode, "decode every ESP-TOUCH v1/v2 and AirKiss session found in capture files" },
    { "air", cmd_air, "write a synthesised radiotap capture of a phone running the reference sender" },
    { "cloud", cmd_cloud, "run a local IoT Explorer stand-in (mosquitto + binding service + app API)" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(const sc_cli_t *cli, FILE *f)
{
    (void)cli;
    fprintf(f, "usage: smartcfg <command> [options]   (smartcfg <command> --help)\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f,
            "\n  -h, --help   this text (smartcfg help <command>: that command's)\n"
            "  --version    the version\n"
            "exit: 0 ok, 1 failure, 2 usage, 3 timeout, 4 device error, 5 cloud error, 130 interrupted\n\n"
            "examples:\n"
            "  # a capture of a phone provisioning \"MyAP\", then decode it\n"
            "  smartcfg air --ssid MyAP --password secret123 --ip 127.0.0.1 session.pcap\n"
            "  smartcfg decode session.pcap\n"
            "  # both sides on one host: a virtual-radio device, then a phone sending to it\n"
            "  smartcfg device --radio udp --join sim:MyAP:secret123:127.0.0.2 --product-id ABCDEFGHIJ \\\n"
            "      --device-name dev1 --no-cloud\n"
            "  smartcfg send --ssid MyAP --password-file - --bssid 02:5c:00:00:00:01 --ip 127.0.0.1 \\\n"
            "      --dest 127.0.0.1 --token 0123456789abcdef0123456789abcdef\n");
}

/* What a command printed is its result (decode's credentials, a help, a version): output that
 * could not be written (a full disk, `> /dev/full`) is a failure, not exit 0. Not for `send`,
 * `device` and `cloud`, whose result is what happened to the devices (their reader gone is a
 * stop of its own, docs/cli.md). */
static int output_written(const char *cmd, int rc)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    int err = errno;
    fprintf(stderr, "smartcfg%s%s: cannot write the output: %s\n", cmd ? " " : "", cmd ? cmd : "",
            err ? strerror(err) : "write error");
    return rc == SC_EXIT_OK ? SC_EXIT_FAIL : rc;
}

static int run(size_t i, int argc, char **argv)
{
    /* `--version` alone answers for every subcommand, whatever its own parser knows. */
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("smartcfg %s %s\n", commands[i].name, SMARTCFG_VERSION_STRING);
        return output_written(commands[i].name, SC_EXIT_OK);
    }
    int rc = commands[i].fn(argc, argv);
    if (commands[i].fn == cmd_decode || commands[i].fn == cmd_air)
        return output_written(commands[i].name, rc);
    /* a help of the others (their own runs decide for themselves) */
    for (int k = 1; k < argc; k++)
        if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h"))
            return output_written(commands[i].name, rc);
    return rc;
}

/* A command that is none: the one meant when it is a typo ("sned"); an option before the
 * command ("smartcfg --json send") says where options go. */
static int unknown_command(const sc_cli_t *cli, const char *cmd)
{
    const char *names[NCOMMANDS];
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    const char *meant = sc_cli_nearest(cmd, names, NCOMMANDS);
    if (meant)
        return sc_cli_usage_error(cli, "unknown command '%s' (did you mean %s?)", cmd, meant);
    if (cmd[0] == '-')
        return sc_cli_usage_error(cli, "unknown command '%s' (options go after the command: smartcfg <command> "
                                       "[options])", cmd);
    return sc_cli_usage_error(cli, "unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
    (void)sc_posix_event_ms(); /* starts the clock of the JSON lines' t_ms (docs/json.md) */
    sc_cli_t cli;
    sc_cli_init(&cli, "smartcfg", usage, NULL, argc, argv);
    if (argc < 2)
        return sc_cli_usage_error(&cli, "which command? (send, device, decode, air, cloud)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || (!strcmp(cmd, "help") && argc == 2)) {
        usage(&cli, stdout);
        return output_written(NULL, SC_EXIT_OK);
    }
    if (!strcmp(cmd, "--version")) {
        sc_cli_version(&cli);
        return output_written(NULL, SC_EXIT_OK);
    }
    if (!strcmp(cmd, "help")) {
        /* smartcfg help send == smartcfg send --help */
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (!strcmp(argv[2], commands[i].name)) {
                char *args[] = { argv[2], "--help", NULL };
                return output_written(commands[i].name, commands[i].fn(2, args));
            }
        return unknown_command(&cli, argv[2]);
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(cmd, commands[i].name))
            return run(i, argc - 1, argv + 1);
    return unknown_command(&cli, cmd);
}
