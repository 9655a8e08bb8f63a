/* HDF5 checkpoints: the network's parameters, BN state and optimizer
 * moments plus the config and model text, so a run can resume or be
 * inspected with h5dump / h5py. Layout (format 'dnas-checkpoint-2'):
 *   /params            float32 (nparams)      all trainable parameters
 *   /param_table       compound {name, offset, length} naming slices of /params
 *   /state             float32 (nstate)       BN running mean / var
 *   /optim/m, /optim/v float32 (nparams)      optimizer moments (v absent for SGD)
 *   /config_yaml       string (scalar)        the config text
 *   /model_yaml        string (scalar)        the model YAML the net was built from
 *   root attributes    format ("dnas-checkpoint-2", checked on load), version,
 *                      commit, model, epoch, step, optim_t,
 *                      optim_kind / optimizer (the optimizer, checked on resume),
 *                      rng, test_acc
 * The texts are datasets because HDF5 caps an attribute at 64 KiB. Format
 * 'dnas-checkpoint-1' (the texts in root attributes `config` and
 * `model_yaml`) is still read.
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
 * in checkpoint_load.c): the format attribute (2 or 1), epoch (0..TRAIN_MAX_EPOCHS),
 * step, rng and test_acc, every /param_table entry against the model, the
 * type, size and finiteness of /params, /state and (opt non-NULL) the
 * optimizer's moments, and the optimizer kind. Any mismatch is an error
 * naming the file and what was expected, and leaves net, opt and meta
 * untouched. opt may be NULL. */
dnas_status train_ckpt_load(const char *path, train_net *net, train_optim *opt,
                             train_ckpt_meta *meta, dnas_error *err);

/* The config text and the model YAML stored in a checkpoint of either
 * format, each malloc'd and NUL-terminated (the caller frees them); either
 * pointer may be NULL. A text that is missing, not a string or longer than
 * DNAS_YAML_MAX_BYTES is an error naming the file and the item; nothing is
 * returned then. */
dnas_status train_ckpt_load_texts(const char *path, char **config_text, char **model_text,
                                  dnas_error *err);

#endif
