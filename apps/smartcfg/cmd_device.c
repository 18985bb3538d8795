#include <stdio.h>

#include "cli.h"

/* Placeholder until the subcommand lands. */
int cmd_device(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smartcfg device: not implemented yet\n");
    return SC_EXIT_FAIL;
}
