/* dnas: entry point and subcommand dispatch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dnas_build_info.h"

static const cli_command COMMANDS[] = {
    {"train", "train and evaluate a network from a config", cli_train},
    {"summary", "per-layer shapes, parameters and MACs of a model", cli_summary},
    {"cost", "per-layer hardware costs of a model on a target, and whether it fits", cli_cost},
    {"quantize", "the integer network of a checkpoint, float vs integer accuracy", cli_quantize},
    {"search", "one architecture search run (PIT, SuperNet, MixPrec, ODiMO): search, export, fine-tune, HDF5 run file", cli_search},
    {"sweep", "a campaign of search runs (mu x constraints x seeds) under MPI: campaign.h5, Pareto fronts", cli_sweep},
    {"report", "Pareto tables, CSV and plots of one or more campaigns", cli_report},
    {"deploy", "compile an integer network to C with a planned arena, and test vectors", cli_deploy},
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

static int run(int argc, char **argv) {
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

int main(int argc, char **argv) {
    int rc = run(argc, argv);
    /* Output that did not reach its file (a full disk, a closed stdout) is
     * a failure, not a silent exit 0. */
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dnas: writing the output failed%s%s\n", errno ? ": " : "",
                errno ? strerror(errno) : "");
        if (rc == CLI_EXIT_OK) rc = CLI_EXIT_FAIL;
    }
    return rc;
}
