/* Helpers shared by the dataset readers (data_*.c); not part of the API. */
#ifndef DNAS_TRAIN_DATA_INTERNAL_H
#define DNAS_TRAIN_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "data.h"

/* Largest class label + 1 a reader accepts; bigger labels are taken for
 * corrupt data rather than a real class count. */
#define TRAIN_DATA_MAX_CLASSES 65536

/* Reads the whole file through zlib, which inflates gzip (magic 1f 8b) and
 * passes plain files through. On success *buf (caller frees) holds *len
 * bytes; a missing file is DNAS_ERR_IO, a corrupt or truncated gzip
 * stream DNAS_ERR_FORMAT. *buf is NULL on failure. */
dnas_status train_data_read_file(const char *path, unsigned char **buf, size_t *len,
                                  dnas_error *err);

/* Fills ds with zeroed storage for count samples of shape (c, h, w), with a
 * label array when labels != 0. Shapes must already be validated. */
void train_data_alloc(train_dataset *ds, int count, int c, int h, int w, int labels);

/* Store label v of sample i, rejecting negative, too large or (for the
 * double form) non-integral values with a message naming path and i. */
dnas_status train_data_label_i64(train_dataset *ds, int i, int64_t v, const char *path,
                                  dnas_error *err);
dnas_status train_data_label_f64(train_dataset *ds, int i, double v, const char *path,
                                  dnas_error *err);

/* Sets ds->num_classes = max label + 1 (0 without labels). */
void train_data_finish_labels(train_dataset *ds);

/* Checks that the product of n dims fits in int64 and the count in int,
 * writes the product of dims[1..n) to *per_sample. Returns 0 on overflow
 * or a zero dim. */
int train_data_dims_ok(const uint64_t *dims, int n, uint64_t *per_sample);

#endif
