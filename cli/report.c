/* dnas report CAMPAIGN.h5 [MORE.h5 ...]: Pareto tables, CSV and plots. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sweep.h"

static const char *HELP =
    "usage: dnas report CAMPAIGN.h5 [MORE.h5 ...] [--fronts COST,COST...] [--tables N] [--no-plot]\n"
    "\n"
    "Prints a Markdown table per Pareto front of one or more campaigns (dnas\n"
    "sweep): for each cost against test accuracy (and integer accuracy where\n"
    "the runs were quantized), the runs on the front in cost order with their\n"
    "mu, constraints, seed, accuracies, costs and a one-line architecture\n"
    "(conv/linear layers name:channels/kKERNEL/dDILATION), and the front's\n"
    "hypervolume against the seed network's cost and accuracy 0. Writes\n"
    "pareto.md, pareto.csv and, when gnuplot is on PATH (Debian package\n"
    "gnuplot-nox), pareto_<cost>_vs_<accuracy>.png into the first campaign's\n"
    "folder, several campaigns side by side (overlaid in the plots).\n"
    "\n"
    "A campaign is its campaign.h5 or its folder. When campaign.h5 is missing\n"
    "or older than a run file of the folder (a campaign still running, or\n"
    "killed), the run files (runs/<id>.h5) are read instead.\n"
    "\n"
    "options:\n"
    "  --fronts LIST  the costs of the fronts, comma-separated (default: params,\n"
    "                 macs, memory and, when the runs have them, latency, energy)\n"
    "  --tables N     print only the first N fronts' tables (the files get all)\n"
    "  --no-plot      no PNGs\n"
    "  --help         this text\n"
    "\n" CLI_HELP_EXIT ".\n";

int cli_report(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return CLI_EXIT_OK;
    }
    search_report_opts o = search_report_default_opts();
    o.out = stdout;
    o.warn = stderr;
    const char **paths = dnas_xcalloc((size_t)argc, sizeof *paths);
    int n = 0, rc = CLI_EXIT_OK;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i], *list;
        long nt;
        if (!strcmp(a, "--no-plot"))
            o.plot = 0;
        else if (!strcmp(a, "--tables")) {
            if ((rc = cli_opt_long(argc, argv, &i, "N", 1, 1000, &nt))) break;
            o.ntables = (int)nt;
        }
        else if (!strcmp(a, "--fronts")) {
            if ((rc = cli_opt_str(argc, argv, &i, "COST,COST...", &list))) break;
            char buf[512];
            snprintf(buf, sizeof buf, "%s", list);
            o.nfronts = 0;
            for (char *s = strtok(buf, ","); s && !rc; s = strtok(NULL, ",")) {
                int k = search_config_cost_parse(s);
                if (k < 0 || o.nfronts == SEARCH_SWEEP_MAX_FRONTS) {
                    fprintf(stderr, "dnas report: --fronts: expected at most %d cost names (params, macs, "
                                    "bitops, memory, latency, energy, ...), found '%s'\n",
                            SEARCH_SWEEP_MAX_FRONTS, s);
                    rc = CLI_EXIT_USAGE;
                } else
                    o.fronts[o.nfronts++] = k;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "dnas report: unknown option '%s' ('dnas report --help' lists the options)\n", a);
            rc = CLI_EXIT_USAGE;
        } else
            paths[n++] = a;
    }
    if (!rc && !n) rc = cli_missing(argv, "CAMPAIGN.h5", HELP);
    dnas_error err;
    if (!rc && search_report(paths, n, &o, &err)) {
        fprintf(stderr, "dnas report: %s\n", err.msg);
        rc = CLI_EXIT_FAIL;
    }
    free(paths);
    return rc;
}
