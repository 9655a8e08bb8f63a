/* The training loop behind `dnas train`: data preparation, epochs of
 * shuffled mini-batches, evaluation, progress, checkpoints and resume; and
 * its parts that the search reuses: a batch iterator and one optimizer step
 * in composable pieces.
 *
 * A step is three calls, so a caller can act between backward and update:
 *   train_step_grads   forward (training mode), loss and its gradient, NaN
 *                      check, backward: net->grads holds d(mean loss)/dw;
 *   (the caller's)     e.g. add regularizer gradients to net->grads, or
 *                      read the architecture gradients the hooks produced;
 *   train_step_update  the optimizer's update of net->params at the
 *                      schedule's learning rate, and the step count + 1.
 * train_step is the first and the last together (what `dnas train` runs).
 *
 * Example, one search epoch: weight steps on training batches with a cost
 * gradient added, and architecture steps on validation batches (arch_split:
 * val), the validation order restarting when it runs out. Every order is a
 * function of the seed, the epoch and the pass, so a search resumed at an
 * epoch boundary sees the batches an uninterrupted one would:
 *
 *     train_batches tb, vb;
 *     train_batches_init(&tb, &train, cfg->batch, 1, cfg->seed);
 *     train_batches_init(&vb, &val, cfg->batch, 1, cfg->seed + 1);
 *     int vpass = 0;
 *     train_batches_epoch(&tb, epoch);
 *     train_batches_epoch(&vb, epoch * 1000 + vpass++);
 *     train_step_stats bs;
 *     while (train_batches_next(&tb)) {
 *         if ((st = train_step_grads(&ws, tb.x, tb.y, tb.n, &bs, err))) break;
 *         add_cost_grads(net->grads, mu);            // before the update
 *         train_step_update(&ws);
 *         if (!train_batches_next(&vb)) {
 *             train_batches_epoch(&vb, epoch * 1000 + vpass++);
 *             train_batches_next(&vb);
 *         }
 *         if ((st = train_step_grads(&ws, vb.x, vb.y, vb.n, &bs, err))) break;
 *         arch_grads(dalpha, net);                   // from the hooks
 *         train_optim_step(&arch_opt, alpha, dalpha, arch_lr);
 *     }
 *
 * (ws is a train_stepper over the network and the weights' optimizer; the
 * architecture step's net->grads are discarded: the next step zeroes them.) */
#ifndef DNAS_TRAIN_TRAINER_H
#define DNAS_TRAIN_TRAINER_H

#include <stdio.h>

#include "config.h"
#include "data.h"
#include "net.h"
#include "optim.h"

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

/* The samples of ds fit net's input, and its labels (cross-entropy) or
 * inputs (mse) its output; errors name cfg->path and net->path. */
dnas_status train_data_check(const train_net *net, const train_dataset *ds, const train_config *cfg,
                             dnas_error *err);

/* Mean loss and accuracy of net on ds (eval mode). acc is -1 for MSE.
 * Fails only as train_net_reserve does. */
dnas_status train_evaluate(train_net *net, const train_dataset *ds, int batch, train_loss_kind loss,
                           float *mean_loss, float *acc, dnas_error *err);

/* ---- batches ------------------------------------------------------------ */

/* Mini-batches over a dataset, epoch by epoch. Shuffled, an epoch's order
 * is a permutation that depends only on (seed, epoch): a resumed run sees
 * the batches an uninterrupted one would, on any thread count. In order
 * (shuffle 0, e.g. evaluation), batches point into the dataset, no copy.
 * The last batch of an epoch holds the remaining count % batch samples. */
typedef struct {
    const train_dataset *ds;
    int batch;             /* samples per batch, > 0 */
    int shuffle;
    uint64_t seed;
    long nbatches;         /* per epoch: ceil(count / batch) */
    long index;            /* batches handed out in this epoch */
    int32_t *perm;         /* (count) this epoch's order; NULL in order */
    float *xbuf;           /* (batch, C, H, W) gathered samples; NULL in order */
    int32_t *ybuf;         /* (batch) */
    /* the current batch, set by train_batches_next: */
    const float *x;        /* (n, C, H, W) */
    const int32_t *y;      /* (n) labels, NULL when the dataset has none */
    int n;
} train_batches;

/* Ready for epoch 0. ds must outlive the iterator. */
void train_batches_init(train_batches *it, const train_dataset *ds, int batch, int shuffle,
                        uint64_t seed);
void train_batches_free(train_batches *it);
/* Restart at the first batch of epoch (reshuffled when shuffling). */
void train_batches_epoch(train_batches *it, int epoch);
/* The next batch of the epoch into it->x, it->y, it->n; returns n, or 0
 * (and n = 0) once the epoch's batches have all been handed out. */
int train_batches_next(train_batches *it);

/* ---- one optimizer step ----------------------------------------------- */

/* What the steps share: the network, its optimizer and schedule, and the
 * loss gradient buffer. Fields are the caller's to read; `step` may be set
 * (e.g. from a checkpoint) before the first step. */
typedef struct {
    train_net *net;
    train_optim *opt;      /* updates net->params from net->grads */
    train_sched sched;     /* learning rate per step */
    long step;             /* updates taken: the schedule's position */
    train_loss_kind loss;
    int max_batch;
    float *dlogits;        /* (max_batch, k): d(mean loss)/d(outputs) of the last batch */
} train_stepper;

typedef struct {
    int n;                 /* samples in the batch */
    float loss;            /* their mean loss (NaN or inf when the step failed) */
    int correct;           /* argmax = label (cross-entropy; 0 for mse) */
} train_step_stats;

/* Reserves net's buffers for batches up to max_batch (fails as
 * train_net_reserve does) and allocates dlogits; step starts at 0. */
dnas_status train_stepper_init(train_stepper *s, train_net *net, train_optim *opt,
                               const train_sched *sched, train_loss_kind loss, int max_batch,
                               dnas_error *err);
void train_stepper_free(train_stepper *s);
/* The schedule's learning rate for the next update. */
float train_stepper_lr(const train_stepper *s);

/* Batch x (n, C, H, W), labels y (n; unused, may be NULL, for mse, which
 * reconstructs x), 0 < n <= max_batch: forward in training mode, loss and
 * s->dlogits, then net->grads zeroed and filled by backward. A NaN or
 * infinite loss is DNAS_ERR_NAN ("the loss is NaN (learning rate ... too
 * high, or bad data?)"), before backward: net->grads and net->params are
 * then as they were. stats may be NULL. */
dnas_status train_step_grads(train_stepper *s, const float *x, const int32_t *y, int n,
                             train_step_stats *stats, dnas_error *err);
/* params -= the optimizer's update from net->grads at train_stepper_lr(s);
 * s->step + 1. */
void train_step_update(train_stepper *s);
/* train_step_grads, then train_step_update when it succeeded. */
dnas_status train_step(train_stepper *s, const float *x, const int32_t *y, int n,
                       train_step_stats *stats, dnas_error *err);

/* ---- the run ------------------------------------------------------------ */

/* Full run: build the model, train cfg->epochs (or opts->epochs), evaluate,
 * checkpoint after every epoch. A non-finite loss stops the run with
 * DNAS_ERR_NAN; the last checkpoint on disk is then the last good one. */
dnas_status train_run(const train_config *cfg, const train_run_opts *opts, train_result *res,
                       dnas_error *err);

#endif
