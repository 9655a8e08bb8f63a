/* What the checkpoint writer (checkpoint.c) and readers (checkpoint_read.c:
 * opening a file and reading single values, tensors and texts with checks;
 * checkpoint_load.c, checkpoint_text.c) share; not part of the API. */
#ifndef DNAS_TRAIN_CHECKPOINT_INTERNAL_H
#define DNAS_TRAIN_CHECKPOINT_INTERNAL_H

#include <hdf5.h>
#include <stdint.h>

#include "checkpoint.h"
#include "common.h"
#include "dnas_h5.h"

/* The root attribute `format` written; a loader also reads the format
 * before it (config and model text in attributes, no /extra) and refuses
 * any other value. */
#define TRAIN_CKPT_FORMAT "dnas-checkpoint-2"
#define TRAIN_CKPT_FORMAT_1 "dnas-checkpoint-1"
#define TRAIN_CKPT_NAME_FIELD 72

/* One row of /param_table. */
typedef struct {
    char name[TRAIN_CKPT_NAME_FIELD];
    uint64_t offset, length;
} train_ckpt_row;

/* The compound type of a row in memory; *strt gets the name's string type.
 * The caller closes both. */
static inline hid_t train_ckpt_row_type(hid_t *strt) {
    *strt = H5Tcopy(H5T_C_S1);
    H5Tset_size(*strt, TRAIN_CKPT_NAME_FIELD);
    hid_t rowt = H5Tcreate(H5T_COMPOUND, sizeof(train_ckpt_row));
    H5Tinsert(rowt, "name", HOFFSET(train_ckpt_row, name), *strt);
    H5Tinsert(rowt, "offset", HOFFSET(train_ckpt_row, offset), H5T_NATIVE_UINT64);
    H5Tinsert(rowt, "length", HOFFSET(train_ckpt_row, length), H5T_NATIVE_UINT64);
    return rowt;
}

/* An open checkpoint being read; HDF5's own error printing is off until
 * train_ckpt_close (our messages say what failed). */
typedef struct {
    hid_t f;
    const char *path;
    dnas_error *err;
    int version;             /* 1 or 2, once train_ckpt_check_format succeeded */
    dnas_h5_quiet quiet;
} ckpt_in;

/* A non-empty regular HDF5 file opened read-only, else DNAS_ERR_IO or
 * DNAS_ERR_FORMAT naming it (nothing left open). */
dnas_status train_ckpt_open(ckpt_in *in, const char *path, dnas_error *err);
void train_ckpt_close(ckpt_in *in);
/* The `format` attribute is one this reader knows: sets in->version. */
dnas_status train_ckpt_check_format(ckpt_in *in);

/* Single numeric root attribute as mem_type into *v: a missing attribute
 * is DNAS_ERR_FORMAT naming it when `required`, else *found = 0. */
dnas_status train_ckpt_attr_num(ckpt_in *in, const char *name, hid_t mem_type, void *v, int required,
                          int *found);
/* Single string root attribute (fixed or variable length) into buf; ""
 * when it is missing. */
dnas_status train_ckpt_attr_str(ckpt_in *in, const char *name, char *buf, size_t len);
/* 1-D float dataset `name` of exactly n values, all finite, into dst.
 * Sizes in messages: "model 'M' needs n" with model, else "expected n". */
dnas_status train_ckpt_read_floats(ckpt_in *in, const char *name, float *dst, size_t n,
                             const char *model);
/* A text of at most DNAS_YAML_MAX_BYTES: the scalar string dataset `name`
 * (format 2) or the root attribute attr_name (format 1), fixed or variable
 * length, into *out (malloc'd, NUL-terminated). Missing: DNAS_ERR_FORMAT. */
dnas_status train_ckpt_read_text(ckpt_in *in, const char *name, const char *attr_name, char **out);

/* ---- extra tensors (checkpoint_extra.c) ---- */

/* The names of nextra tensors are valid, distinct, and none is the group
 * of another; else DNAS_ERR_INVALID naming path and the tensor. */
dnas_status train_ckpt_extra_check_names(const train_ckpt_tensor *extra, int nextra, const char *path,
                                   dnas_error *err);
/* Writes them under /extra; 0 when a write failed. */
int train_ckpt_extra_write(hid_t f, const train_ckpt_tensor *extra, int nextra);
/* Reads and checks them into bufs[i] (extra[i].len floats each, the
 * caller's), nothing into their data. */
dnas_status train_ckpt_extra_read(ckpt_in *in, const train_ckpt_tensor *extra, int nextra,
                            float **bufs);

#endif
