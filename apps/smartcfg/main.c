/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "smartcfg/version.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    { "send", cmd_send, "phone side: send SSID/password over ESP-TOUCH, collect acks, hand out tokens" },
    { "device", cmd_device, "device side: sniff, decode, join, ack, serve the token, bind to the cloud" },
    { "decode", cmd_decode, "decode every ESP-TOUCH session found in capture files" },
    { "air", cmd_air, "write a synthesised radiotap capture of a phone running the reference sender" },
    { "cloud", cmd_cloud, "run a local IoT Explorer stand-in (mosquitto + binding service + app API)" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: smartcfg <command> [options]   (smartcfg <command> --help)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SC_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("smartcfg %s\n", SMARTCFG_VERSION_STRING);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "smartcfg: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return SC_EXIT_USAGE;
}
