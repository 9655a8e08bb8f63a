/* dnas: entry point and subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dnas_build_info.h"

static const cli_command COMMANDS[] = {
    {"train", "train and evaluate a network from a config", cli_train},
    {"summary", "per-layer shapes, parameters and MACs of a model", cli_summary},
    {"cost", "per-layer hardware costs of a model on a target, and whether it fits", cli_cost},
};
#define NCOMMANDS (int)(sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f) {
    fprintf(f,
            "usage: dnas <command> [options]\n"
            "\n"
            "dnas %s (%s): finds and ships tiny neural networks for microcontrollers.\n"
            "\n"
            "commands:\n",
            DNAS_VERSION, DNAS_GIT_COMMIT);
    for (int i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    fprintf(f, "\n'dnas <command> --help' describes one command.\n\n%s.\n", CLI_HELP_EXIT);
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("dnas %s (%s)\n", DNAS_VERSION, DNAS_GIT_COMMIT);
        return CLI_EXIT_OK;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "dnas: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
