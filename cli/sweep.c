/* dnas sweep CONFIG.yaml: a campaign of search runs under mpirun (or as one
 * process), its campaign.h5 and its Pareto report. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sweep.h"

static const char *HELP =
    "usage: dnas sweep CONFIG.yaml [--resume] [--threads T] [--dry-run] [--no-report] [--quiet]\n"
    "       mpirun -np N dnas sweep CONFIG.yaml ...\n"
    "\n"
    "Runs a campaign of architecture searches: every combination of the\n"
    "config's search settings (one, or a list: e.g. PIT and MixPrec), mu\n"
    "values, constraint sets and seeds is one search run (dnas search), handed\n"
    "out to the MPI ranks as they become free; every rank computes. The\n"
    "warmup of each (seed, search settings) is trained once and shared. Each finished\n"
    "run is written at once to the campaign folder (default results/<campaign>/:\n"
    "runs/<id>.h5), so a killed campaign resumes with only the missing runs.\n"
    "At the end rank 0 merges them into campaign.h5 (/runs/<id>, /summary,\n"
    "/pareto/<cost>_vs_<accuracy> with hypervolumes) and writes the report\n"
    "(pareto.md, pareto.csv, plots; see dnas report) and prints the first\n"
    "front's table. With a deploy: section, rank 0 first deploys the selected\n"
    "runs (a front's points, or per target the most accurate run within its\n"
    "budget) into deploy/<run>_<target>/, builds and checks each (make check)\n"
    "and records them in campaign.h5 /deploy and the report. Config format,\n"
    "outputs and resume: docs/sweep.md; examples: configs/quickstart.yaml,\n"
    "configs/campaign_deploy_tiny.yaml.\n"
    "\n"
    "Rank 0 prints progress (runs done/total, each rank's run, the best point\n"
    "of the first front, ETA) to stderr; each rank's search logs go to\n"
    "logs/rank<R>.log in the campaign folder. A run that diverges or fails is\n"
    "recorded with its status and the campaign goes on. A rank that dies ends\n"
    "the job; the lowest surviving rank names it and the run it ran, and\n"
    "--resume redoes that run. On SLURM: sbatch slurm/campaign.sbatch CONFIG.yaml.\n"
    "\n"
    "options:\n"
    "  --resume      finish an existing campaign: run only the jobs without a run\n"
    "                file (the config must be the one it started with); without it\n"
    "                a campaign folder with results is an error\n"
    "  --threads T   threads per rank, 1.." CLI_STR(TRAIN_MAX_THREADS) " (overrides the config's threads;\n"
    "                default: the node's cores divided among its ranks)\n"
    "  --dry-run     check the config and list the jobs; no training\n"
    "  --no-report   no pareto.md / pareto.csv / plots at the end\n"
    "  --quiet       no progress lines\n"
    "  --help        this text\n"
    "\n" CLI_HELP_EXIT ".\n";

static void list_jobs(const search_sweep_config *sc) {
    int n = search_sweep_njobs(sc);
    printf("campaign %s: %d jobs (", sc->name, n);
    if (sc->nsearch > 1) printf("%d searches x ", sc->nsearch);
    printf("%d mu x %d constraint sets x %d seeds) -> %s/\n", sc->nmu, sc->nsets, sc->nseeds, sc->out);
    printf("%-6s %-14s %-12s %-40s %s\n", "run", "search", "mu", "constraints", "seed");
    for (int j = 0; j < n; j++) {
        search_sweep_job job;
        search_sweep_job_get(sc, j, &job);
        char what[32]; /* <k>:<method> */
        snprintf(what, sizeof what, "%d:%s", job.search, search_method_name(sc->search[job.search].method));
        printf("%-6s %-14s %-12g %-40s %llu\n", job.id, what, job.mu, sc->sets[job.set].desc,
               (unsigned long long)job.seed);
    }
    const search_sweep_deploy *d = &sc->deploy;
    if (d->select == SEARCH_DEPLOY_NONE) return;
    if (d->select == SEARCH_DEPLOY_FRONT)
        printf("then deploy: the points of front %s on", d->front);
    else
        printf("then deploy: per target the most accurate run within its budget, on");
    for (int k = 0; k < d->ntargets; k++) printf(" %s", d->t[k].label);
    printf(", %ld %s samples each\n", d->vectors, d->images ? "test-image" : "random");
}

static int run(int argc, char **argv, int rank, int *report, char *h5, size_t h5len, search_sweep_config *sc,
               int *quiet) {
    if (cli_wants_help(argc, argv)) {
        if (rank == 0) fputs(HELP, stdout);
        return CLI_EXIT_OK;
    }
    const char *path = NULL;
    int dry = 0;
    long threads = 0;
    search_sweep_opts opts = search_sweep_default_opts();
    /* usage errors: every rank meets them, rank 0 says so */
    int saved = -1;
    if (rank) {
        fflush(stderr);
        saved = dup(2);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2), close(null);
    }
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--resume"))
            opts.resume = 1;
        else if (!strcmp(a, "--dry-run"))
            dry = 1;
        else if (!strcmp(a, "--no-report"))
            *report = 0;
        else if (!strcmp(a, "--quiet"))
            opts.quiet = 1;
        else if (!strcmp(a, "--threads"))
            rc = cli_opt_long(argc, argv, &i, "T", 1, TRAIN_MAX_THREADS, &threads);
        else
            rc = cli_positional(argv, i, "CONFIG.yaml", &path);
    }
    if (!rc && !path) rc = cli_missing(argv, "CONFIG.yaml", HELP);
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
    }
    if (rc) return rc;
    opts.threads = (int)threads;
    *quiet = opts.quiet;
    dnas_error err;
    rc = CLI_EXIT_FAIL;
    if (search_sweep_config_load(sc, path, &err)) {
        if (rank == 0) fprintf(stderr, "dnas sweep: %s\n", err.msg);
    } else if (dry) {
        if (rank == 0) list_jobs(sc);
        *report = 0;
        rc = CLI_EXIT_OK;
    } else {
        search_sweep_outcome out;
        if (search_sweep_run(sc, &opts, &out, &err)) {
            if (err.msg[0]) fprintf(stderr, "dnas sweep: %s\n", err.msg);
        } else {
            if (rank == 0) {
                fprintf(stderr, "sweep %s: %d runs done now, %d before, of %d (%d ok, %d diverged, %d failed) -> %s\n",
                        sc->name, out.done, out.done_before, out.total, out.ok, out.diverged, out.failed,
                        out.campaign_h5);
                snprintf(h5, h5len, "%s", out.campaign_h5);
            }
            rc = CLI_EXIT_OK;
        }
    }
    return rc;
}

int cli_sweep(int argc, char **argv) {
    search_sweep_mpi_init(&argc, &argv);
    int rank = search_sweep_rank(), report = 1, quiet = 0;
    char h5[TRAIN_PATH_LEN + 16] = "";
    search_sweep_config *sc = dnas_xcalloc(1, sizeof *sc);
    int rc = run(argc, argv, rank, &report, h5, sizeof h5, sc, &quiet);
    search_sweep_mpi_finalize();
    /* the deploy stage after MPI too: it starts make */
    if (rc == CLI_EXIT_OK && rank == 0 && h5[0] && sc->deploy.select != SEARCH_DEPLOY_NONE) {
        search_sweep_deploy_outcome d;
        dnas_error err;
        if (search_sweep_deploy_run(sc, quiet ? NULL : stderr, &d, &err)) {
            fprintf(stderr, "dnas sweep: deploy: %s\n", err.msg);
            rc = CLI_EXIT_FAIL;
        } else {
            fprintf(stderr, "deploy %s: %d deployments (%d equal, %d differ, %d skipped, %d failed) -> %s/deploy/\n",
                    sc->name, d.total, d.equal, d.differ, d.skipped, d.failed, sc->out);
        }
    }
    search_sweep_config_free(sc);
    free(sc);
    /* the report after MPI: it may start gnuplot */
    if (rc == CLI_EXIT_OK && rank == 0 && report && h5[0]) {
        search_report_opts ro = search_report_default_opts();
        ro.out = stdout;
        ro.ntables = 1; /* the first front; pareto.md has them all */
        ro.warn = stderr;
        const char *paths[1] = {h5};
        dnas_error err;
        if (search_report(paths, 1, &ro, &err)) {
            fprintf(stderr, "dnas sweep: report: %s\n", err.msg);
            rc = CLI_EXIT_FAIL;
        }
    }
    return rc;
}
