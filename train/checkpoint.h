/* HDF5 checkpoints: the network's parameters, BN state and optimizer
 * moments plus the config and model text, so a run can resume or be
 * inspected with h5dump / h5py. Layout (format 'dnas-checkpoint-2'):
 *   /params            float32 (nparams)      all trainable parameters
 *   /param_table       compound {name, offset, length} naming slices of /params
 *   /state             float32 (nstate)       BN running mean / var
 *   /optim/m, /optim/v float32 (nparams)      optimizer moments (v absent for SGD)
 *   /config_yaml       string (scalar)        the config text
 *   /model_yaml        string (scalar)        the model YAML the net was built from
 *   /extra/<name>      float32 (len)          the caller's named tensors, e.g.
 *                                             /extra/arch/alpha (train_ckpt_save_extra)
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

/* A named float tensor stored beside the network under /extra/<name>,
 * e.g. the search's architecture parameters and their optimizer moments
 * ("arch/alpha", "arch_optim/m", "arch_optim/v"), so that it resumes too.
 * A name has 1..TRAIN_CKPT_EXTRA_NAME_LEN - 1 characters: parts of letters,
 * digits, '_', '.' and '-', separated by '/' (none empty, "." or ".."). */
#define TRAIN_CKPT_EXTRA_NAME_LEN 128
typedef struct {
    const char *name;
    float *data;        /* save: the len values (only read); load: receives them */
    size_t len;         /* save: values stored; load: values expected */
} train_ckpt_tensor;

/* train_ckpt_save, plus nextra tensors (extra may be NULL when nextra is
 * 0). The names are checked before the file is created: an invalid name,
 * one given twice, or one that is the group of another ("arch" and
 * "arch/alpha") is DNAS_ERR_INVALID naming it. */
dnas_status train_ckpt_save_extra(const char *path, const train_net *net, const train_optim *opt,
                                  const train_ckpt_meta *meta, const char *config_text,
                                  const train_ckpt_tensor *extra, int nextra, dnas_error *err);
/* train_ckpt_load, plus nextra tensors read back by name into their data.
 * Each must be a 1-D float dataset /extra/<name> of exactly len finite
 * values; they are checked with the rest of the file, before anything is
 * copied, so a missing or mis-sized tensor (e.g. "PATH: dataset
 * /extra/arch/alpha has 5 values in 1 dims, expected 12 in 1") leaves net,
 * opt, meta and every tensor's data untouched. Tensors of the file not asked
 * for are ignored; a 'dnas-checkpoint-1' file holds none. */
dnas_status train_ckpt_load_extra(const char *path, train_net *net, train_optim *opt,
                                  train_ckpt_meta *meta, const train_ckpt_tensor *extra,
                                  int nextra, dnas_error *err);
/* *len = the length of the extra tensor `name` in the checkpoint at path,
 * or -1 when it has none of that name (e.g. to tell a search checkpoint
 * from a plain training one before loading). A dataset of that name that
 * is not a 1-D float tensor is DNAS_ERR_FORMAT. */
dnas_status train_ckpt_extra_len(const char *path, const char *name, long *len,
                                 dnas_error *err);

/* The config text and the model YAML stored in a checkpoint of either
 * format, each malloc'd and NUL-terminated (the caller frees them); either
 * pointer may be NULL. A text that is missing, not a string or longer than
 * DNAS_YAML_MAX_BYTES is an error naming the file and the item; nothing is
 * returned then. */
dnas_status train_ckpt_load_texts(const char *path, char **config_text, char **model_text,
                                  dnas_error *err);

#endif
