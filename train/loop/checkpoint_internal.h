/* What checkpoint.c (save) and checkpoint_load.c share; not part of the API. */
#ifndef DNAS_TRAIN_CHECKPOINT_INTERNAL_H
#define DNAS_TRAIN_CHECKPOINT_INTERNAL_H

#include <hdf5.h>
#include <stdint.h>

/* The root attribute `format`; a loader refuses any other value. */
#define TRAIN_CKPT_FORMAT "dnas-checkpoint-1"
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

#endif
