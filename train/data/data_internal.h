/* Helpers shared by the dataset readers (data_*.c); not part of the API. */
#ifndef DNAS_TRAIN_DATA_INTERNAL_H
#define DNAS_TRAIN_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "data.h"

/* Largest class label + 1 a reader accepts; bigger labels are taken for
 * corrupt data rather than a real class count. */
#define TRAIN_DATA_MAX_CLASSES 65536

/* A path a reader may open: DNAS_ERR_IO naming it when it is missing or a
 * directory, DNAS_ERR_FORMAT when it is an empty file; `expected` says what
 * it should hold ("an IDX file"). *size (may be NULL) gets the size of a
 * regular file, else -1. */
dnas_status train_data_check_path(const char *path, const char *expected, long long *size,
                                  dnas_error *err);

/* Reads the whole file through zlib, which inflates gzip (magic 1f 8b) and
 * passes plain files through, after train_data_check_path. On success *buf
 * (caller frees) holds *len > 0 bytes; a missing file is DNAS_ERR_IO, a
 * corrupt or truncated gzip stream or no data DNAS_ERR_FORMAT, more bytes
 * than the machine holds DNAS_ERR_NOMEM. *buf is NULL on failure. */
dnas_status train_data_read_file(const char *path, const char *expected, unsigned char **buf,
                                 size_t *len, dnas_error *err);

/* Checks the shape a file declares, dims[0] samples of dims[1..n) values
 * each, before anything is allocated for it (arithmetic in checked 64
 * bits): no zero dim (DNAS_ERR_FORMAT); the dataset in memory, float32
 * values plus label_bytes per sample plus extra_bytes (e.g. the file still
 * held), within the machine's memory (DNAS_ERR_NOMEM, dnas_check_bytes);
 * at most INT_MAX samples and values per sample (DNAS_ERR_UNSUPPORTED).
 * `what` names the array in messages ("PATH", "PATH: dataset /train/x").
 * Writes the values per sample. */
dnas_status train_data_check_shape(const uint64_t *dims, int n, int label_bytes, uint64_t extra_bytes,
                                   const char *what, uint64_t *per_sample, dnas_error *err);

/* Fills ds with zeroed storage for count samples of shape (c, h, w), with a
 * label array when labels != 0, after train_data_check_shape (`what` as
 * there). */
dnas_status train_data_alloc(train_dataset *ds, int count, int c, int h, int w, int labels, const char *what,
                             dnas_error *err);

/* Store label v of sample i, rejecting negative, too large or (for the
 * double form) non-integral values with a message naming path and i. */
dnas_status train_data_label_i64(train_dataset *ds, int i, int64_t v, const char *path, dnas_error *err);
dnas_status train_data_label_f64(train_dataset *ds, int i, double v, const char *path, dnas_error *err);

/* DNAS_ERR_FORMAT naming path, the sample and the value when a value of
 * ds->x is NaN or infinite (a float file that would train on them). */
dnas_status train_data_check_finite(const train_dataset *ds, const char *path, dnas_error *err);

/* Sets ds->num_classes = max label + 1 (0 without labels). */
void train_data_finish_labels(train_dataset *ds);

#endif
