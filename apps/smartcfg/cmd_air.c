#include <stdio.h>

#include "cli.h"

/* Placeholder until the subcommand lands. */
int cmd_air(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smartcfg air: not implemented yet\n");
    return SC_EXIT_FAIL;
}
