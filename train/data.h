/* Datasets: readers for IDX (.gz or raw), NPY, CSV, HDF5 and CIFAR-10 binary
 * files, into one in-memory float32 form, plus split, normalization, seeded
 * shuffling and batching.
 *
 * In memory a dataset is x (count, C, H, W) float32 and y (count) int32
 * class labels (or, for regression/autoencoders, y may be absent: has_labels
 * is 0). Readers validate headers against file sizes: a truncated or corrupt
 * file gives DNAS_ERR_FORMAT naming the file and what was expected; a
 * directory or missing file DNAS_ERR_IO, an empty file DNAS_ERR_FORMAT. The
 * size a header declares is checked (in 64 bits) against the machine's
 * memory before anything is allocated for it: DNAS_ERR_NOMEM naming the
 * file (and HDF5 dataset) and the bytes. */
#ifndef DNAS_TRAIN_DATA_H
#define DNAS_TRAIN_DATA_H

#include <stdint.h>
#include "common.h"

typedef struct {
    int count;            /* samples */
    int c, h, w;          /* sample shape */
    float *x;             /* (count, C, H, W) */
    int32_t *y;           /* (count) or NULL */
    int num_classes;      /* max label + 1, or 0 without labels */
} train_dataset;

void train_dataset_free(train_dataset *ds);

/* IDX (MNIST / Fashion-MNIST): images file (ubyte, 3-D: count × rows × cols)
 * and labels file (ubyte, 1-D); gzip is detected from the magic bytes.
 * labels_path may be NULL. Pixels are scaled to [0, 1]. Result shape
 * (count, 1, rows, cols). */
dnas_status train_data_load_idx(train_dataset *ds, const char *images_path,
                                 const char *labels_path, dnas_error *err);

/* NPY (v1/v2/v3, little-endian '<f4', '<f8', '|u1', '|i1', '<i4', '<i8', C
 * order) for x with 1..4 dims: (count) -> (count, 1, 1, 1), (count, F) ->
 * (count, 1, 1, F), (count, H, W) -> (count, 1, H, W), (count, C, H, W).
 * Values are taken as stored (no scaling, unlike IDX/CIFAR). y_path (may be
 * NULL) is a 1-D (or (count, 1)) integer or float array of integral,
 * non-negative labels. */
dnas_status train_data_load_npy(train_dataset *ds, const char *x_path, const char *y_path,
                                 dnas_error *err);

/* CSV of numbers, one sample a row. header != 0: the first non-blank line
 * is a header and skipped, whatever it holds; header == 0: every non-blank
 * line is a sample (a non-numeric first line is an error naming line 1 and
 * suggesting header: true). label_col is the column holding the class
 * label (negative counts from the end, e.g. -1 = last) or a large sentinel
 * TRAIN_DATA_NO_LABEL for none. The remaining F columns become
 * (count, 1, 1, F). gzip is detected. Errors name the line. */
#define TRAIN_DATA_NO_LABEL 0x7fffffff
dnas_status train_data_load_csv(train_dataset *ds, const char *path, int label_col, int header,
                                dnas_error *err);

/* HDF5 with datasets <split>/x and <split>/y (split is "train" or "test"):
 * x float/integer with 1..4 dims as for NPY (values as stored), y integer
 * (or float holding integers). Both must exist: a missing one is
 * DNAS_ERR_FORMAT naming it. */
dnas_status train_data_load_hdf5(train_dataset *ds, const char *path, const char *split,
                                  dnas_error *err);
/* *has = whether the HDF5 file holds a group or dataset named split
 * (errors as for train_data_load_hdf5 when the file cannot be opened). */
dnas_status train_data_hdf5_has_split(const char *path, const char *split, int *has, dnas_error *err);

/* CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes
 * (3×32×32, CHW). Loads and concatenates npaths files; pixels scaled to [0,1]. */
dnas_status train_data_load_cifar10(train_dataset *ds, const char *const *paths, int npaths,
                                     dnas_error *err);

/* View an image dataset (count, 1, H, W) as a sequence of H steps with W
 * channels: (count, W, 1, H), i.e. channels = image columns, time = rows.
 * Done in place (data is transposed). */
dnas_status train_data_to_rows(train_dataset *ds, dnas_error *err);

/* Move the last `count` samples (after a seeded shuffle of the whole set
 * when seed != 0) of src into a new dataset dst (the validation split).
 * Needs 0 < count < src->count (else DNAS_ERR_SHAPE, src unchanged).
 * dst keeps src's num_classes. */
dnas_status train_data_split(train_dataset *src, train_dataset *dst, int count,
                              uint64_t seed, dnas_error *err);

/* Per-channel mean / std computed on ds (std floored at 1e-8). mean and std
 * hold ds->c floats. */
void train_data_channel_stats(const train_dataset *ds, float *mean, float *std);
/* x = (x - mean[c]) / std[c] in place. */
void train_data_normalize(train_dataset *ds, const float *mean, const float *std);

/* Seeded permutation of 0..count-1 (Fisher-Yates), e.g. a new one per epoch. */
void train_data_permutation(int32_t *perm, int count, uint64_t *rng_state);
/* Gather batch samples perm[start .. start+n) into x (n, C, H, W) and y (n)
 * (y may be NULL). perm NULL means the identity order (samples start ..
 * start+n), e.g. for evaluation. */
void train_data_gather(float *x, int32_t *y, const train_dataset *ds, const int32_t *perm,
                       int start, int n);

#endif
