/* HDF5 reader: datasets <split>/x (float or integer, 1..4 dims, shaped as
 * for NPY) and <split>/y (integer or float holding integers, 1-D). HDF5
 * converts element types on read (to float for x, to double for y). Its
 * automatic error-stack printing is switched off while we read and
 * restored afterwards: failures come back as messages instead. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

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
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (nd < 1 || nd > maxdims) {
        return dnas_fail(err, DNAS_ERR_SHAPE, "%s: %s has %d dims, expected 1 to %d", path,
                          name, nd, maxdims);
    }
    if (*cls != H5T_FLOAT && *cls != H5T_INTEGER) {
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: %s is not a float or integer array",
                          path, name);
    }
    for (int i = 0; i < nd; i++) dims[i] = hd[i];
    *ndim = nd;
    return DNAS_OK;
}

static dnas_status h5_read(train_dataset *ds, hid_t file, const char *path, const char *split,
                            dnas_error *err) {
    char xname[256], yname[256];
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
    if (st == DNAS_OK && !train_data_dims_ok(xd, xn, &per)) {
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: %s has a zero or too large dim", path, xname);
    }
    if (st == DNAS_OK && (yd[0] != xd[0] || (yn == 2 && yd[1] != 1))) {
        st = dnas_fail(err, DNAS_ERR_SHAPE, "%s: %s holds %llu labels for %llu samples in %s",
                        path, yname, (unsigned long long)(yd[0] * (yn == 2 ? yd[1] : 1)),
                        (unsigned long long)xd[0], xname);
    }
    if (st == DNAS_OK) {
        int shape[3] = {1, 1, 1};
        for (int i = 1; i < xn; i++) shape[3 - xn + i] = (int)xd[i];
        int count = (int)xd[0];
        train_data_alloc(ds, count, shape[0], shape[1], shape[2], 1);
        double *y = dnas_xmalloc((size_t)count * sizeof *y);
        if (H5Dread(dx, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds->x) < 0) {
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: cannot read %s", path, xname);
        } else if (H5Dread(dy, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) < 0) {
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: cannot read %s", path, yname);
        }
        for (int i = 0; st == DNAS_OK && i < count; i++) {
            st = train_data_label_f64(ds, i, y[i], path, err);
        }
        free(y);
        if (st == DNAS_OK) train_data_finish_labels(ds);
    }
    H5Dclose(dx);
    H5Dclose(dy);
    return st;
}

dnas_status train_data_load_hdf5(train_dataset *ds, const char *path, const char *split,
                                  dnas_error *err) {
    memset(ds, 0, sizeof *ds);
    FILE *probe = fopen(path, "rb");
    if (!probe) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open", path);
    fclose(probe);
    if (strlen(split) > 200 || strchr(split, '/')) {
        return dnas_fail(err, DNAS_ERR_CONFIG, "%s: bad split name '%.200s'", path, split);
    }

    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    dnas_status st = DNAS_OK;
    if (H5Fis_hdf5(path) <= 0) {
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: not an HDF5 file", path);
    } else {
        hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (file < 0) {
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: cannot open as HDF5 (corrupt?)", path);
        } else {
            st = h5_read(ds, file, path, split, err);
            H5Fclose(file);
        }
    }
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (st != DNAS_OK) train_dataset_free(ds);
    return st;
}
