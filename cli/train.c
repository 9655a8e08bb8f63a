/* dnas train CONFIG.yaml: train and evaluate a network from a config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "train.h"

static const char *HELP =
    "usage: dnas train CONFIG.yaml [--epochs N] [--stop-after N] [--resume CKPT.h5]\n"
    "                  [--checkpoint PATH] [--threads T] [--quiet] [--profile]\n"
    "\n"
    "Trains the model a config names on its data, evaluates it after every\n"
    "epoch and writes an HDF5 checkpoint (weights, BN statistics, optimizer\n"
    "state, config). Config format: docs/train.md; example:\n"
    "configs/train_resnet8_fmnist.yaml.\n"
    "\n"
    "Progress lines (stderr) show epoch, loss, accuracy, samples/s and ETA.\n"
    "A NaN or infinite loss stops the run with exit code 3; the checkpoint on\n"
    "disk is then the last good epoch's.\n"
    "\n"
    "options:\n"
    "  --epochs N          train N epochs in total, 1.." CLI_STR(TRAIN_MAX_EPOCHS) " (overrides the config)\n"
    "  --stop-after N      stop after epoch N (1.." CLI_STR(TRAIN_MAX_EPOCHS) "); the LR schedule\n"
    "                      still spans all epochs, so --resume continues the same run\n"
    "                      (e.g. across job time limits)\n"
    "  --resume CKPT.h5    continue from a checkpoint (same model and config)\n"
    "  --checkpoint PATH   where to write checkpoints (overrides the config)\n"
    "  --threads T         threads, 1.." CLI_STR(TRAIN_MAX_THREADS) " (overrides the config; default: one\n"
    "                      per core)\n"
    "  --quiet             no progress lines\n"
    "  --profile           print seconds per layer (forward, backward) at the end\n"
    "  --help              this text\n"
    "\n"
    "The final line is machine-readable:\n"
    "  result epochs=E train_loss=L test_loss=L test_acc=A seconds=S samples_per_s=R\n"
    "\n"
    CLI_HELP_EXIT ", 3 the loss became NaN or infinite.\n";

int cli_train(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return CLI_EXIT_OK;
    }
    const char *path = NULL, *ckpt = NULL;
    train_run_opts opts = train_run_default_opts();
    long epochs = 0, stop_after = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = 0;
        if (!strcmp(a, "--quiet"))
            opts.quiet = 1;
        else if (!strcmp(a, "--profile"))
            opts.profile = 1;
        else if (!strcmp(a, "--epochs"))
            rc = cli_opt_long(argc, argv, &i, "N", 1, TRAIN_MAX_EPOCHS, &epochs);
        else if (!strcmp(a, "--stop-after"))
            rc = cli_opt_long(argc, argv, &i, "N", 1, TRAIN_MAX_EPOCHS, &stop_after);
        else if (!strcmp(a, "--threads"))
            rc = cli_opt_long(argc, argv, &i, "T", 1, TRAIN_MAX_THREADS, &threads);
        else if (!strcmp(a, "--resume"))
            rc = cli_opt_str(argc, argv, &i, "CKPT.h5", &opts.resume);
        else if (!strcmp(a, "--checkpoint"))
            rc = cli_opt_path(argc, argv, &i, "PATH", TRAIN_PATH_LEN - 1, &ckpt);
        else
            rc = cli_positional(argv, i, "CONFIG.yaml", &path);
        if (rc) return rc;
    }
    if (!path) return cli_missing(argv, "CONFIG.yaml", HELP);
    opts.epochs = (int)epochs;
    opts.stop_after = (int)stop_after;
    train_config cfg;
    dnas_error err;
    if (train_config_load(&cfg, path, &err)) {
        fprintf(stderr, "dnas train: %s\n", err.msg);
        train_config_free(&cfg);
        return CLI_EXIT_FAIL;
    }
    if (ckpt) snprintf(cfg.checkpoint, sizeof cfg.checkpoint, "%s", ckpt); /* fits: cli_opt_path */
    if (threads) cfg.threads = (int)threads;
    train_result res;
    dnas_status st = train_run(&cfg, &opts, &res, &err);
    train_config_free(&cfg);
    if (st) {
        fprintf(stderr, "dnas train: %s\n", err.msg);
        return st == DNAS_ERR_NAN ? CLI_EXIT_NAN : CLI_EXIT_FAIL;
    }
    printf("result epochs=%d train_loss=%.4f test_loss=%.4f test_acc=%.4f seconds=%.2f samples_per_s=%.0f\n",
           res.epochs_done, res.train_loss, res.test_loss, res.test_acc, res.seconds, res.samples_per_s);
    return CLI_EXIT_OK;
}
