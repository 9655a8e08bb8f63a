/* The training loop behind `dnas train`: data preparation, epochs of
 * shuffled mini-batches, evaluation, progress, checkpoints and resume. */
#ifndef DNAS_TRAIN_TRAINER_H
#define DNAS_TRAIN_TRAINER_H

#include <stdio.h>

#include "config.h"
#include "data.h"
#include "net.h"

typedef struct {
    const char *resume;     /* checkpoint to resume from, or NULL */
    int epochs;             /* > 0 overrides the config's epochs */
    int stop_after;         /* > 0: stop after this epoch; the schedule still spans all epochs */
    int quiet;              /* no progress lines */
    int profile;            /* print per-layer training times at the end */
    FILE *log;              /* progress output (default stderr) */
} train_run_opts;

train_run_opts train_run_default_opts(void);

typedef struct {
    int epochs_done;
    float train_loss;       /* mean over the last epoch */
    float val_loss, val_acc;    /* -1 without a validation split */
    float test_loss, test_acc;  /* accuracy in [0,1]; -1 for regression */
    double seconds;             /* training time of this invocation (no eval) */
    double samples_per_s;
} train_result;

/* Loads the datasets a config names (train, optional validation split,
 * test), applies layout and normalization (statistics from train). */
dnas_status train_data_prepare(const train_config *cfg, train_dataset *train, train_dataset *val,
                                train_dataset *test, dnas_error *err);

/* Mean loss and accuracy of net on ds (eval mode). acc is -1 for MSE.
 * Fails only as train_net_reserve does. */
dnas_status train_evaluate(train_net *net, const train_dataset *ds, int batch, train_loss_kind loss,
                           float *mean_loss, float *acc, dnas_error *err);

/* Full run: build the model, train cfg->epochs (or opts->epochs), evaluate,
 * checkpoint after every epoch. A non-finite loss stops the run with
 * DNAS_ERR_NAN; the last checkpoint on disk is then the last good one. */
dnas_status train_run(const train_config *cfg, const train_run_opts *opts, train_result *res,
                       dnas_error *err);

#endif
