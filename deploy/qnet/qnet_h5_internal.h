/* What the qnet HDF5 writer (qnet_h5.c) and reader (qnet_h5_read.c) share:
 * the rows of the two tables and their compound types (the file stores
 * exactly these; a reader compares types before reading, so a foreign
 * compound is refused instead of converted). Not part of the API. */
#ifndef DNAS_DEPLOY_QNET_H5_INTERNAL_H
#define DNAS_DEPLOY_QNET_H5_INTERNAL_H

#include <hdf5.h>
#include <stdint.h>

#include "dnas_h5.h"

#include "qnet.h"

#define QNET_KIND_LEN 16

/* One row of <group>/tensors. */
typedef struct {
    char name[DEPLOY_QNET_NAME_LEN];
    int32_t h, w, c, is_signed, bits;
    float scale;
} qnet_tensor_row;

/* One row of <group>/ops; offsets index <group>/weights, /bias and
 * /multipliers, -1 where the op has none. */
typedef struct {
    char name[DEPLOY_QNET_NAME_LEN];
    char kind[QNET_KIND_LEN];
    int32_t in0, in1, out;
    int32_t kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, groups;
    int32_t wbits, shift, lo, hi, ma, mb;
    int64_t w_off, w_len, b_off, m_off;
} qnet_op_row;

/* The compound types in memory (and in the file). The caller closes them
 * with deploy_qnet_types_close. */
typedef struct {
    hid_t name_t, kind_t, tensor_t, op_t;
} qnet_types;

void deploy_qnet_types_create(qnet_types *t);
void deploy_qnet_types_close(qnet_types *t);

/* Opens path read-only after checking it exists, is a file, is not empty
 * and is HDF5; -1 with *st and err set (naming path) otherwise. */
hid_t deploy_qnet_h5_open(const char *path, dnas_status *st, dnas_error *err);

#endif
