/* dnas search CONFIG.yaml: one architecture search run, written to an HDF5
 * run file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run.h"
#include "search.h"

static const char *HELP =
    "usage: dnas search CONFIG.yaml [--mu X] [--out RUN.h5] [--model-out FOUND.yaml]\n"
    "                   [--threads T] [--quiet]\n"
    "\n"
    "Runs one differentiable architecture search from a search config (method\n"
    "pit: channels and receptive fields; supernet: a branch per choice block of\n"
    "the model; mixprec: weight and activation precisions; odimo: each\n"
    "channel's engine on a target with parallel engines, e.g. DIANA's digital\n"
    "and analog): warmup (plain training of the seed network), search (weights\n"
    "and architecture parameters together, loss = task + constraint hinges +\n"
    "mu x cost), export of the found network, fine-tuning, evaluation. Config\n"
    "format and the run file's layout: docs/search.md; examples:\n"
    "configs/search_pit_tcn_fmnist.yaml (PIT masks),\n"
    "configs/search_supernet_tcn_fmnist.yaml (SuperNet: a line 'chosen:\n"
    "<mix>=<branch> ...' after the export, the choices in\n"
    "/runs/0/arch_params/choices), configs/search_mixprec_resnet8_fmnist.yaml,\n"
    "configs/search_odimo_resnet8_fmnist_diana.yaml.\n"
    "\n"
    "Progress lines (stderr) show the phase, epoch, loss, task loss, cost,\n"
    "accuracy and ETA. The run file (HDF5) holds the run group /runs/0: its\n"
    "attributes (method, mu, targets, seed, status ok|diverged|failed, wall\n"
    "seconds), the exported architecture per layer, metrics after search and\n"
    "after fine-tuning, every cost of the exported network and of the seed,\n"
    "the exported model YAML and weights, the integer network (/runs/0/qnet,\n"
    "int_bits of the config, default 8, or the layers' own widths after\n"
    "mixprec and odimo; docs/deploy.md) and its test accuracy\n"
    "(metrics int_test_acc), and the architecture parameters; for odimo also\n"
    "each channel's engine (/runs/0/channel_engines) and the costs of the same\n"
    "network unsplit (/runs/0/cost_unsplit: on DIANA all digital). A network the\n"
    "integer export refuses gives a warning line and no qnet, not a failure.\n"
    "A run whose loss becomes NaN or infinite is written with status diverged\n"
    "(exit code 3).\n"
    "\n"
    "options:\n"
    "  --mu X        strength of the cost regularizer, >= 0 (overrides the config)\n"
    "  --out RUN.h5  where to write the run file (overrides the config's output)\n"
    "  --model-out FOUND.yaml\n"
    "                also write the exported network as a model YAML (what dnas\n"
    "                summary, cost and train read; the run file holds it too)\n"
    "  --threads T   threads, 1.." CLI_STR(
        TRAIN_MAX_THREADS) " (overrides the config; default: one per core)\n"
                           "  --quiet       no progress lines\n"
                           "  --help        this text\n"
                           "\n"
                           "The final line is machine-readable:\n"
                           "  result status=S cost=C seed_cost=C search_test_acc=A test_acc=A int_test_acc=A seconds=S\n"
                           "(cost: the regularized cost of the exported network, seed_cost the\n"
                           "seed's (SuperNet: the whole supernet's); test_acc after fine-tuning,\n"
                           "int_test_acc of its integer network; -1 when not reached).\n"
                           "\n" CLI_HELP_EXIT ", 3 the run diverged (the loss became NaN or infinite).\n";

/* Whether path can be created (checked before a run of minutes to hours
 * rather than after it); an existing file is left as it is. */
static int can_create(const char *path) {
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        f = fopen(path, "a");
        if (!f) return 0;
        fclose(f);
        return 1;
    }
    if (!(f = fopen(path, "w"))) return 0;
    fclose(f);
    remove(path);
    return 1;
}

static int write_model(const char *path, const train_net *net) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int rc = train_net_write_yaml(f, net);
    int e = errno;
    if (fclose(f) && !rc) return -1;
    errno = e;
    return rc;
}

int cli_search(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return CLI_EXIT_OK;
    }
    const char *path = NULL, *out = NULL, *mu_s = NULL, *model_out = NULL;
    long threads = 0;
    search_run_opts opts = search_run_default_opts();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = 0;
        if (!strcmp(a, "--quiet"))
            opts.quiet = 1;
        else if (!strcmp(a, "--mu"))
            rc = cli_opt_str(argc, argv, &i, "X", &mu_s);
        else if (!strcmp(a, "--out"))
            rc = cli_opt_path(argc, argv, &i, "RUN.h5", TRAIN_PATH_LEN - 1, &out);
        else if (!strcmp(a, "--model-out"))
            rc = cli_opt_path(argc, argv, &i, "FOUND.yaml", 4095, &model_out);
        else if (!strcmp(a, "--threads"))
            rc = cli_opt_long(argc, argv, &i, "T", 1, TRAIN_MAX_THREADS, &threads);
        else
            rc = cli_positional(argv, i, "CONFIG.yaml", &path);
        if (rc) return rc;
    }
    if (!path) return cli_missing(argv, "CONFIG.yaml", HELP);
    double mu = 0;
    if (mu_s && dnas_parse_double(mu_s, 0, 1e30, &mu)) {
        fprintf(stderr, "dnas search: --mu: expected a number in 0..1e30, found '%s'\n", mu_s);
        return CLI_EXIT_USAGE;
    }
    search_config *cfg = malloc(sizeof *cfg);
    search_result *res = malloc(sizeof *res);
    dnas_error err;
    int rc = CLI_EXIT_FAIL;
    if (!cfg || !res) {
        fprintf(stderr, "dnas search: out of memory\n");
        goto done;
    }
    memset(res, 0, sizeof *res);
    if (search_config_load(cfg, path, &err)) {
        fprintf(stderr, "dnas search: %s\n", err.msg);
        search_config_free(cfg);
        goto done;
    }
    if (mu_s) cfg->mu = mu;
    if (out) snprintf(cfg->output, sizeof cfg->output, "%s", out); /* fits: cli_opt_path */
    if (threads) cfg->threads = (int)threads;
    const char *outs[2] = {cfg->output, model_out};
    for (int k = 0; k < 2; k++)
        if (outs[k] && !can_create(outs[k])) {
            fprintf(stderr, "dnas search: %s: cannot create it: %s (checked before the run)\n", outs[k],
                    strerror(errno));
            search_config_free(cfg);
            goto done;
        }
    if (search_run(cfg, &opts, res, &err)) {
        fprintf(stderr, "dnas search: %s\n", err.msg);
    } else if (search_store_write(cfg->output, "0", cfg, res, &err)) {
        fprintf(stderr, "dnas search: %s\n", err.msg);
    } else if (model_out && res->exported && write_model(model_out, res->exported)) {
        fprintf(stderr, "dnas search: %s: cannot write the model: %s\n", model_out, strerror(errno));
    } else {
        if (res->status != SEARCH_STATUS_OK)
            fprintf(stderr, "dnas search: run %s in %s: %s (written to %s)\n",
                    search_status_name(res->status), res->phase, res->error, cfg->output);
        else if (!opts.quiet)
            fprintf(stderr, "run written to %s (/runs/0)\n", cfg->output);
        printf("result status=%s cost=%.6g seed_cost=%.6g search_test_acc=%.4f test_acc=%.4f "
               "int_test_acc=%.4f seconds=%.2f\n",
               search_status_name(res->status), res->exported ? res->cost[cfg->cost] : -1.0,
               res->seed_cost[cfg->cost], res->search.test_acc, res->finetune.test_acc, res->int_test_acc,
               res->seconds);
        rc = res->status == SEARCH_STATUS_OK         ? CLI_EXIT_OK
             : res->status == SEARCH_STATUS_DIVERGED ? CLI_EXIT_NAN
                                                     : CLI_EXIT_FAIL;
    }
    search_config_free(cfg);
    search_result_free(res);
done:
    free(cfg);
    free(res);
    return rc;
}
