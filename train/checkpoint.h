/* HDF5 checkpoints: the network's parameters, BN state and optimizer
 * moments plus the config and model text, so a run can resume or be
 * inspected with h5dump / h5py. Layout:
 *   /params            float32 (nparams)      all trainable parameters
 *   /param_table       compound {name, offset, length} naming slices of /params
 *   /state             float32 (nstate)       BN running mean / var
 *   /optim/m, /optim/v float32 (nparams)      optimizer moments (v absent for SGD)
 *   root attributes    format ("dnas-checkpoint-1", checked on load), version,
 *                      commit, model, epoch, step, optim_t,
 *                      optim_kind / optimizer (the optimizer, checked on resume),
 *                      rng, test_acc, config (text), model_yaml (text)
 * Writes go to PATH.tmp and are renamed over PATH, so a crash mid-write
 * leaves the previous checkpoint intact. */
#ifndef DNAS_TRAIN_CHECKPOINT_H
#define DNAS_TRAIN_CHECKPOINT_H

#include <stdint.h>

#include "net.h"
#include "optim.h"
#include "common.h"

typedef struct {
    int epoch;          /* epochs completed */
    long step;          /* optimizer steps taken */
    uint64_t rng;       /* network RNG (dropout) */
    float test_acc;     /* last evaluation, -1 if none */
} train_ckpt_meta;

dnas_status train_ckpt_save(const char *path, const train_net *net, const train_optim *opt,
                             const train_ckpt_meta *meta, const char *config_text,
                             dnas_error *err);
/* Loads into an already built net. The whole file is checked first (steps
 * in checkpoint_load.c): the format attribute, epoch (0..TRAIN_MAX_EPOCHS),
 * step, rng and test_acc, every /param_table entry against the model, the
 * type, size and finiteness of /params, /state and (opt non-NULL) the
 * optimizer's moments, and the optimizer kind. Any mismatch is an error
 * naming the file and what was expected, and leaves net, opt and meta
 * untouched. opt may be NULL. */
dnas_status train_ckpt_load(const char *path, train_net *net, train_optim *opt,
                             train_ckpt_meta *meta, dnas_error *err);

#endif
