/* Shared HDF5 helpers (dnas_h5.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "dnas_h5.h"

void dnas_h5_quiet_on(dnas_h5_quiet *q) {
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void dnas_h5_quiet_off(const dnas_h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->func, q->data); }

static hid_t utf8_type(const char *s) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(s) + 1);
    H5Tset_cset(type, H5T_CSET_UTF8);
    return type;
}

int dnas_h5_write_attr_str(hid_t loc, const char *name, const char *s) {
    hid_t type = utf8_type(s), space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, type, s) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    return ok;
}

int dnas_h5_write_text(hid_t loc, const char *name, const char *s) {
    hid_t type = utf8_type(s), space = H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = ds >= 0 && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    H5Tclose(type);
    return ok;
}

int dnas_h5_write_floats(hid_t loc, const char *name, const float *v, size_t n) {
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(loc, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = ds >= 0 && (n == 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    return ok;
}

int dnas_h5_read_attr_str(hid_t loc, const char *name, char *buf, size_t len) {
    buf[0] = 0;
    if (H5Aexists(loc, name) <= 0) return 0;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t space = a >= 0 ? H5Aget_space(a) : -1, type = a >= 0 ? H5Aget_type(a) : -1;
    int ok = space >= 0 && H5Sget_simple_extent_npoints(space) == 1 && type >= 0 &&
             H5Tget_class(type) == H5T_STRING;
    if (ok && H5Tis_variable_str(type) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        char *s = NULL;
        ok = H5Aread(a, mt, &s) >= 0 && s;
        if (ok) snprintf(buf, len, "%s", s);
        H5free_memory(s);
        H5Tclose(mt);
    } else if (ok) {
        size_t n = H5Tget_size(type);
        char *s = dnas_xcalloc(n + 1, 1);
        ok = n > 0 && H5Aread(a, type, s) >= 0;
        if (ok) snprintf(buf, len, "%s", s);
        free(s);
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (a >= 0) H5Aclose(a);
    return ok ? 1 : -1;
}

int dnas_h5_write_attr_nums(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v, size_t n) {
    hsize_t dims[1] = {n};
    hid_t space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, mtype, v) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return ok;
}

int dnas_h5_write_attr_f64(hid_t loc, const char *name, double v) {
    return dnas_h5_write_attr_nums(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, 1);
}

int dnas_h5_write_attr_i64(hid_t loc, const char *name, long v) {
    return dnas_h5_write_attr_nums(loc, name, H5T_STD_I64LE, H5T_NATIVE_LONG, &v, 1);
}

int dnas_h5_read_attr_f64(hid_t loc, const char *name, double *v) {
    if (H5Aexists(loc, name) <= 0) return 0;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t space = a >= 0 ? H5Aget_space(a) : -1, type = a >= 0 ? H5Aget_type(a) : -1;
    int ok = space >= 0 && H5Sget_simple_extent_npoints(space) == 1 && type >= 0 &&
             (H5Tget_class(type) == H5T_FLOAT || H5Tget_class(type) == H5T_INTEGER) &&
             H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (a >= 0) H5Aclose(a);
    return ok ? 1 : -1;
}

int dnas_h5_write_table(hid_t loc, const char *name, hid_t type, const void *rows, size_t n) {
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = ds >= 0 && (n == 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    return ok;
}
