/* Subcommands of the dnas binary: each takes argc/argv starting at its own
 * name and returns the process exit code (0 ok, 1 failure, 2 usage). */
#ifndef DNAS_CLI_H
#define DNAS_CLI_H

#include <stdio.h>

typedef struct {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv);
} cli_command;

int cli_train(int argc, char **argv);
int cli_summary(int argc, char **argv);
int cli_cost(int argc, char **argv);

/* 1 when argv[1..] asks for help. */
int cli_wants_help(int argc, char **argv);

#endif
