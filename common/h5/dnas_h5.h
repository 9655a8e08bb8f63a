/* The HDF5 helpers every module that writes or reads HDF5 shares (train's
 * checkpoints, deploy's integer networks, search's run files): strings as
 * attributes and as datasets, and HDF5's own error printing switched off
 * while our messages say what failed. A separate library of the common/
 * leaf (dnas_h5), so modules without HDF5 (hwcost) do not link it. */
#ifndef DNAS_COMMON_H5_H
#define DNAS_COMMON_H5_H

#include <hdf5.h>
#include <stddef.h>

/* HDF5's error-stack printing off (on), restored to what it was (off). */
typedef struct {
    H5E_auto2_t func;
    void *data;
} dnas_h5_quiet;
void dnas_h5_quiet_on(dnas_h5_quiet *q);
void dnas_h5_quiet_off(const dnas_h5_quiet *q);

/* A scalar UTF-8 string attribute. 1 written, 0 failed. */
int dnas_h5_write_attr_str(hid_t loc, const char *name, const char *s);
/* A scalar UTF-8 string dataset (texts may pass HDF5's 64 KiB attribute
 * cap; h5py reads it as bytes). 1 written, 0 failed. */
int dnas_h5_write_text(hid_t loc, const char *name, const char *s);
/* A 1-D float32 dataset of n values. 1 written, 0 failed. */
int dnas_h5_write_floats(hid_t loc, const char *name, const float *v, size_t n);
/* A single fixed- or variable-length string attribute into buf (cut at
 * len − 1). 1 read, 0 absent (buf ""), −1 present but not one string. */
int dnas_h5_read_attr_str(hid_t loc, const char *name, char *buf, size_t len);

/* A 1-D dataset of n rows of the (e.g. compound) type `type`, in memory
 * as that type. 1 written, 0 failed. */
int dnas_h5_write_table(hid_t loc, const char *name, hid_t type, const void *rows, size_t n);
/* A numeric attribute of n values (a scalar when n is 1): file type ftype,
 * memory type mtype. 1 written, 0 failed. */
int dnas_h5_write_attr_nums(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v, size_t n);
int dnas_h5_write_attr_f64(hid_t loc, const char *name, double v);
int dnas_h5_write_attr_i64(hid_t loc, const char *name, long v);
/* A single numeric attribute (integer or float) as a double. 1 read, 0
 * absent, −1 present but not one number. */
int dnas_h5_read_attr_f64(hid_t loc, const char *name, double *v);

#endif
