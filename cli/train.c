/* dnas train CONFIG.yaml: train and evaluate a network from a config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "train.h"

static const char *HELP =
    "usage: dnas train CONFIG.yaml [--epochs N] [--stop-after N] [--resume CKPT.h5] [--checkpoint OUT.h5] [--quiet]\n"
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
    "  --epochs N          train N epochs in total (overrides the config)\n"
    "  --stop-after N      stop after epoch N; the LR schedule still spans all\n"
    "                      epochs, so --resume continues the same run (e.g. across\n"
    "                      job time limits)\n"
    "  --resume CKPT.h5    continue from a checkpoint (same model and config)\n"
    "  --checkpoint PATH   where to write checkpoints (overrides the config)\n"
    "  --threads T         threads, 1..1024 (overrides the config; default: one per core)\n"
    "  --quiet             no progress lines\n"
    "  --profile           print seconds per layer (forward, backward) at the end\n"
    "  --help              this text\n"
    "\n"
    "The final line is machine-readable:\n"
    "  result epochs=E train_loss=L test_loss=L test_acc=A seconds=S samples_per_s=R\n";

int cli_train(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return 0;
    }
    const char *path = NULL, *ckpt = NULL;
    train_run_opts opts = train_run_default_opts();
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--quiet")) {
            opts.quiet = 1;
        } else if (!strcmp(a, "--profile")) {
            opts.profile = 1;
        } else if (!strcmp(a, "--epochs") && has_val) {
            opts.epochs = atoi(argv[++i]);
            if (opts.epochs < 1) {
                fprintf(stderr, "dnas train: --epochs: expected a positive number, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--stop-after") && has_val) {
            opts.stop_after = atoi(argv[++i]);
            if (opts.stop_after < 1) {
                fprintf(stderr, "dnas train: --stop-after: expected a positive number, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--threads") && has_val) {
            long t;
            if (dnas_parse_long(argv[++i], 1, TRAIN_MAX_THREADS, &t)) {
                fprintf(stderr, "dnas train: --threads: expected a number in 1..%d, got '%s'\n",
                        TRAIN_MAX_THREADS, argv[i]);
                return 2;
            }
            threads = (int)t;
        } else if (!strcmp(a, "--resume") && has_val) {
            opts.resume = argv[++i];
        } else if (!strcmp(a, "--checkpoint") && has_val) {
            ckpt = argv[++i];
        } else if (a[0] == '-' || path) {
            fprintf(stderr, "dnas train: unexpected argument '%s'\n%s", a, HELP);
            return 2;
        } else {
            path = a;
        }
    }
    if (!path) {
        fprintf(stderr, "dnas train: missing CONFIG.yaml\n%s", HELP);
        return 2;
    }
    train_config cfg;
    dnas_error err;
    if (train_config_load(&cfg, path, &err)) {
        fprintf(stderr, "dnas train: %s\n", err.msg);
        train_config_free(&cfg);
        return 1;
    }
    if (ckpt) snprintf(cfg.checkpoint, sizeof cfg.checkpoint, "%s", ckpt);
    if (threads) cfg.threads = threads;
    train_result res;
    dnas_status st = train_run(&cfg, &opts, &res, &err);
    train_config_free(&cfg);
    if (st) {
        fprintf(stderr, "dnas train: %s\n", err.msg);
        return st == DNAS_ERR_NAN ? 3 : 1;
    }
    printf("result epochs=%d train_loss=%.4f test_loss=%.4f test_acc=%.4f seconds=%.2f samples_per_s=%.0f\n",
           res.epochs_done, res.train_loss, res.test_loss, res.test_acc, res.seconds, res.samples_per_s);
    return 0;
}
