#include <stdio.h>

#include "cli.h"

/* Placeholder until the subcommand lands. */
int cmd_cloud(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smartcfg cloud: not implemented yet\n");
    return SC_EXIT_FAIL;
}
