/* Training configuration (the YAML that `dnas train CONFIG.yaml` reads).
 * Format and defaults: docs/train.md. Paths in the file are relative to the
 * file's own directory, except `checkpoint`, which is relative to the
 * working directory. */
#ifndef DNAS_TRAIN_CONFIG_H
#define DNAS_TRAIN_CONFIG_H

#include <stdint.h>

#include "optim.h"
#include "common.h"

#define TRAIN_PATH_LEN 1024
#define TRAIN_MAX_FILES 8
/* Bounds of train.epochs (and a checkpoint's epoch) and train.threads,
 * shared with the options that override them. */
#define TRAIN_MAX_EPOCHS 100000
#define TRAIN_MAX_THREADS 1024

typedef enum { TRAIN_LOSS_XENT = 0, TRAIN_LOSS_MSE } train_loss_kind;
typedef enum {
    TRAIN_DATA_IDX = 0, TRAIN_DATA_NPY, TRAIN_DATA_CSV, TRAIN_DATA_HDF5, TRAIN_DATA_CIFAR10
} train_data_format;

typedef struct {
    train_data_format format;
    char train_x[TRAIN_PATH_LEN], train_y[TRAIN_PATH_LEN];
    char test_x[TRAIN_PATH_LEN], test_y[TRAIN_PATH_LEN];
    int ntrain_files, ntest_files;                         /* cifar10 batches */
    char train_files[TRAIN_MAX_FILES][TRAIN_PATH_LEN];
    char test_files[TRAIN_MAX_FILES][TRAIN_PATH_LEN];
    int label_col;                                         /* csv */
    int header;                                            /* csv: first line is a header */
    int rows;                                              /* layout: rows (image -> sequence) */
    int normalize;
    int val_split;                                         /* samples held out of train */
    int limit_train, limit_test;                           /* 0 = all */
} train_data_config;

typedef struct {
    char path[TRAIN_PATH_LEN];       /* the config file */
    char *text;                      /* its full text (stored in checkpoints) */
    char model[TRAIN_PATH_LEN];
    train_data_config data;
    int epochs, batch, threads;      /* threads 0 = one per core */
    uint64_t seed;
    train_loss_kind loss;
    train_optim_params optim;
    train_sched sched;               /* total_steps etc. filled at run time */
    float warmup_epochs, step_epochs;
    char checkpoint[TRAIN_PATH_LEN]; /* "" = none */
    int log_every;                   /* progress lines per epoch */
} train_config;

dnas_status train_config_load(train_config *cfg, const char *path, dnas_error *err);
/* The same from a config's text (e.g. the one a checkpoint stores), name
 * standing for the file in messages and cfg->path; relative paths in it
 * are taken from the current directory. */
dnas_status train_config_load_text(train_config *cfg, const char *text, const char *name,
                                   dnas_error *err);
/* The `data:` section alone, parsed and checked as train_config_load does
 * (for other configs that read data the same way, e.g. the search's): map
 * is the section's node in y, cfg_path the config file, against whose
 * directory relative paths resolve. d is reset to the defaults first. */
dnas_status train_config_parse_data(dnas_yaml *y, yaml_node_t *map, const char *cfg_path,
                                    train_data_config *d, dnas_error *err);
void train_config_free(train_config *cfg);

#endif
