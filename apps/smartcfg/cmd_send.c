#include <stdio.h>

#include "cli.h"

/* Placeholder until the subcommand lands. */
int cmd_send(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smartcfg send: not implemented yet\n");
    return SC_EXIT_FAIL;
}
