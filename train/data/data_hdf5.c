/* HDF5 reader: datasets <split>/x (float or integer, 1..4 dims, shaped as
 * for NPY) and <split>/y (integer or float holding integers, 1-D). HDF5
 * converts element types on read (to float for x, to double for y). Its
 * automatic error-stack printing is switched off while we read and
 * restored afterwards: failures come back as messages instead. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

#include "dnas_h5.h"
#include "data_internal.h"

/* Opens path/name as a dataset, checking each link on the way so a missing
 * group or dataset gets its own message. Returns a dataset id or < 0. */
static hid_t h5_open(hid_t file, const char *path, const char *split, const char *name,
                     dnas_error *err) {
    char full[256];
    snprintf(full, sizeof full, "%s/%s", split, name);
    const char *miss = H5Lexists(file, split, H5P_DEFAULT) <= 0 ? split
                       : H5Lexists(file, full, H5P_DEFAULT) <= 0 ? full
                                                                  : NULL;
    if (miss) {
        dnas_fail(err, DNAS_ERR_FORMAT, "%s: no dataset /%s (expected /%s/x and /%s/y)", path,
                   miss, split, split);
        return -1;
    }
    hid_t d = H5Dopen2(file, full, H5P_DEFAULT);
    if (d < 0) dnas_fail(err, DNAS_ERR_FORMAT, "%s: /%s is not a dataset", path, full);
    return d;
}

/* Rank, dims and type class of dataset d, checked against 1..maxdims. */
static dnas_status h5_shape(hid_t d, const char *path, const char *name, int maxdims,
                             uint64_t *dims, int *ndim, H5T_class_t *cls, dnas_error *err) {
    hid_t space = H5Dget_space(d), type = H5Dget_type(d);
    int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t hd[H5S_MAX_RANK];
    if (nd >= 1 && nd <= maxdims) H5Sget_simple_extent_dims(space, hd, NULL);
    *cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    size_t esize = type >= 0 ? H5Tget_size(type) : 0;
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (nd < 1 || nd > maxdims) {
        return dnas_fail(err, DNAS_ERR_SHAPE, "%s: dataset %s has %d dims, expected 1 to %d", path,
                          name, nd, maxdims);
    }
    if ((*cls != H5T_FLOAT && *cls != H5T_INTEGER) || esize < 1 || esize > 8) {
        return dnas_fail(err, DNAS_ERR_FORMAT,
                          "%s: dataset %s is not an array of floats or integers of 1 to 8 bytes", path, name);
    }
    for (int i = 0; i < nd; i++) dims[i] = hd[i];
    *ndim = nd;
    return DNAS_OK;
}

/* Storage of every element written: a dataset created but never (or only
 * partly) written reads back as fill values, which would train silently
 * on zeros. */
static dnas_status h5_written(hid_t d, const char *path, const char *name, dnas_error *err) {
    H5D_space_status_t status;
    if (H5Dget_space_status(d, &status) < 0 || status != H5D_SPACE_STATUS_ALLOCATED)
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: dataset %s has %s of its data written: expected every "
                         "element", path, name,
                         status == H5D_SPACE_STATUS_PART_ALLOCATED ? "only part" : "none");
    return DNAS_OK;
}

static dnas_status h5_read(train_dataset *ds, hid_t file, const char *path, const char *split,
                            dnas_error *err) {
    char xname[256], yname[256], what[1400];
    snprintf(xname, sizeof xname, "/%s/x", split);
    snprintf(yname, sizeof yname, "/%s/y", split);
    hid_t dx = h5_open(file, path, split, "x", err);
    if (dx < 0) return DNAS_ERR_FORMAT;
    hid_t dy = h5_open(file, path, split, "y", err);
    if (dy < 0) {
        H5Dclose(dx);
        return DNAS_ERR_FORMAT;
    }
    uint64_t xd[4], yd[4], per;
    int xn, yn;
    H5T_class_t xc, yc;
    dnas_status st = h5_shape(dx, path, xname, 4, xd, &xn, &xc, err);
    if (st == DNAS_OK) st = h5_shape(dy, path, yname, 2, yd, &yn, &yc, err);
    /* in memory: float32 x, int32 labels and the double labels read */
    snprintf(what, sizeof what, "%s: dataset %s", path, xname);
    if (st == DNAS_OK) st = train_data_check_shape(xd, xn, 4 + 8, 0, what, &per, err);
    if (st == DNAS_OK && (yd[0] != xd[0] || (yn == 2 && yd[1] != 1))) {
        char ys[64];
        if (yn == 2)
            snprintf(ys, sizeof ys, "(%llu, %llu)", (unsigned long long)yd[0], (unsigned long long)yd[1]);
        else
            snprintf(ys, sizeof ys, "(%llu)", (unsigned long long)yd[0]);
        st = dnas_fail(err, DNAS_ERR_SHAPE, "%s: dataset %s has shape %s for %llu samples in %s: expected "
                       "(%llu) or (%llu, 1)", path, yname, ys, (unsigned long long)xd[0], xname,
                       (unsigned long long)xd[0], (unsigned long long)xd[0]);
    }
    if (st == DNAS_OK) st = h5_written(dx, path, xname, err);
    if (st == DNAS_OK) st = h5_written(dy, path, yname, err);
    if (st == DNAS_OK) {
        int shape[3] = {1, 1, 1};
        for (int i = 1; i < xn; i++) shape[3 - xn + i] = (int)xd[i];
        st = train_data_alloc(ds, (int)xd[0], shape[0], shape[1], shape[2], 1, what, err);
    }
    if (st == DNAS_OK) {
        int count = ds->count;
        double *y = dnas_xmalloc((size_t)count * sizeof *y);
        if (H5Dread(dx, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds->x) < 0) {
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: cannot read dataset %s (corrupt?)", path, xname);
        } else if (H5Dread(dy, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) < 0) {
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: cannot read dataset %s (corrupt?)", path, yname);
        }
        snprintf(what, sizeof what, "%s: dataset %s", path, yname);
        for (int i = 0; st == DNAS_OK && i < count; i++) st = train_data_label_f64(ds, i, y[i], what, err);
        free(y);
        if (st == DNAS_OK) st = train_data_check_finite(ds, path, err);
        if (st == DNAS_OK) train_data_finish_labels(ds);
    }
    H5Dclose(dx);
    H5Dclose(dy);
    return st;
}

/* HDF5's error printing, switched off while a file is open. */

/* Opens path read-only with HDF5's error printing off (h5_close_file
 * restores it); *file < 0 on failure, err filled. */
static dnas_status h5_open_file(const char *path, const char *split, hid_t *file, dnas_h5_quiet *q,
                                dnas_error *err) {
    *file = -1;
    dnas_h5_quiet_on(q);
    dnas_status st = train_data_check_path(path, "an HDF5 file", NULL, err);
    if (st) return st;
    if (strlen(split) > 200 || strchr(split, '/'))
        return dnas_fail(err, DNAS_ERR_CONFIG, "%s: bad split name '%.200s'", path, split);
    if (H5Fis_hdf5(path) <= 0) return dnas_fail(err, DNAS_ERR_FORMAT, "%s: not an HDF5 file", path);
    *file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (*file < 0)
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: cannot open as HDF5 (truncated or corrupt?)", path);
    return DNAS_OK;
}

static void h5_close_file(hid_t file, const dnas_h5_quiet *q) {
    if (file >= 0) H5Fclose(file);
    dnas_h5_quiet_off(q);
}

dnas_status train_data_load_hdf5(train_dataset *ds, const char *path, const char *split,
                                  dnas_error *err) {
    memset(ds, 0, sizeof *ds);
    hid_t file;
    dnas_h5_quiet q;
    dnas_status st = h5_open_file(path, split, &file, &q, err);
    if (st == DNAS_OK) st = h5_read(ds, file, path, split, err);
    h5_close_file(file, &q);
    if (st != DNAS_OK) train_dataset_free(ds);
    return st;
}

dnas_status train_data_hdf5_has_split(const char *path, const char *split, int *has, dnas_error *err) {
    *has = 0;
    hid_t file;
    dnas_h5_quiet q;
    dnas_status st = h5_open_file(path, split, &file, &q, err);
    if (st == DNAS_OK) *has = H5Lexists(file, split, H5P_DEFAULT) > 0;
    h5_close_file(file, &q);
    return st;
}
