/* Reading the parts of a checkpoint with checks (checkpoint_internal.h):
 * every reader checks what the file declares (class, size, rank) before
 * reading or allocating for it, and names the file and the item. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint_internal.h"
#include "dnas_h5.h"

dnas_status train_ckpt_open(ckpt_in *in, const char *path, dnas_error *err) {
    memset(in, 0, sizeof *in);
    in->f = -1;
    in->path = path;
    in->err = err;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return dnas_fail(err, DNAS_ERR_IO, "%s: is a directory, expected a checkpoint file", path);
    if (sb.st_size == 0)
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: the file is empty, expected a checkpoint",
                         path);
    dnas_h5_quiet_on(&in->quiet);
    in->f = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
    if (in->f < 0) {
        dnas_h5_quiet_off(&in->quiet);
        return dnas_fail(err, DNAS_ERR_FORMAT,
                         "%s: not an HDF5 file (corrupt or truncated checkpoint?)", path);
    }
    return DNAS_OK;
}

void train_ckpt_close(ckpt_in *in) {
    if (in->f < 0) return;
    H5Fclose(in->f);
    in->f = -1;
    dnas_h5_quiet_off(&in->quiet);
}

dnas_status train_ckpt_check_format(ckpt_in *in) {
    char fmt[256];
    dnas_status st = train_ckpt_attr_str(in, "format", fmt, sizeof fmt);
    if (st) return st;
    if (!fmt[0])
        return dnas_fail(in->err, DNAS_ERR_FORMAT,
                         "%s: not a dnas checkpoint: no 'format' attribute (expected '%s')",
                         in->path, TRAIN_CKPT_FORMAT);
    if (!strcmp(fmt, TRAIN_CKPT_FORMAT))
        in->version = 2;
    else if (!strcmp(fmt, TRAIN_CKPT_FORMAT_1))
        in->version = 1;
    else
        return dnas_fail(in->err, DNAS_ERR_FORMAT,
                         "%s: checkpoint format '%s', expected '%s' (or the older '%s')", in->path,
                         fmt, TRAIN_CKPT_FORMAT, TRAIN_CKPT_FORMAT_1);
    return DNAS_OK;
}

dnas_status train_ckpt_attr_num(ckpt_in *in, const char *name, hid_t mem_type, void *v, int required,
                          int *found) {
    if (found) *found = 0;
    if (H5Aexists(in->f, name) <= 0) {
        if (!required) return DNAS_OK;
        return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: not a dnas checkpoint: no '%s' attribute",
                         in->path, name);
    }
    hid_t a = H5Aopen(in->f, name, H5P_DEFAULT);
    hid_t space = a >= 0 ? H5Aget_space(a) : -1, type = a >= 0 ? H5Aget_type(a) : -1;
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    int ok = space >= 0 && H5Sget_simple_extent_npoints(space) == 1 &&
             (cls == H5T_INTEGER || cls == H5T_FLOAT) && H5Aread(a, mem_type, v) >= 0;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (a >= 0) H5Aclose(a);
    if (!ok)
        return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: attribute '%s' is not a single number",
                         in->path, name);
    if (found) *found = 1;
    return DNAS_OK;
}

dnas_status train_ckpt_attr_str(ckpt_in *in, const char *name, char *buf, size_t len) {
    if (dnas_h5_read_attr_str(in->f, name, buf, len) < 0)
        return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: attribute '%s' is not a string", in->path,
                         name);
    return DNAS_OK;
}

dnas_status train_ckpt_read_floats(ckpt_in *in, const char *name, float *dst, size_t n,
                             const char *model) {
    if (H5Lexists(in->f, name, H5P_DEFAULT) <= 0)
        return dnas_fail(in->err, DNAS_ERR_FORMAT,
                         "%s: no dataset /%s (expected %zu float32 values)", in->path, name, n);
    hid_t d = H5Dopen2(in->f, name, H5P_DEFAULT);
    hid_t space = d >= 0 ? H5Dget_space(d) : -1, type = d >= 0 ? H5Dget_type(d) : -1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    size_t esize = type >= 0 ? H5Tget_size(type) : 0;
    dnas_status st = DNAS_OK;
    if (d < 0 || cls != H5T_FLOAT || (esize != 4 && esize != 8))
        st = dnas_fail(in->err, DNAS_ERR_FORMAT,
                       "%s: /%s is not a float dataset (expected %zu float32 values)", in->path,
                       name, n);
    else if (rank != 1 || count != (hssize_t)n)
        st = dnas_fail(in->err, DNAS_ERR_SHAPE,
                       "%s: dataset /%s has %lld values in %d dims, %s%s%s %zu in 1", in->path,
                       name, (long long)count, rank, model ? "model '" : "expected",
                       model ? model : "", model ? "' needs" : "", n);
    else if (n && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
        st = dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: cannot read dataset /%s (corrupt?)", in->path,
                       name);
    for (size_t i = 0; st == DNAS_OK && i < n; i++)
        if (!isfinite(dst[i]))
            st = dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: dataset /%s: value %zu is %s", in->path,
                           name, i, isnan(dst[i]) ? "NaN" : "infinite");
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (d >= 0) H5Dclose(d);
    return st;
}

/* libhdf5's allocator for a variable-length string being read: refuses
 * (and notes) more than max bytes, so a file cannot make us allocate more. */
typedef struct {
    size_t max, asked;
} vlen_cap;

static void *vlen_alloc(size_t size, void *info) {
    vlen_cap *cap = info;
    if (size > cap->max) {
        cap->asked = size;
        return NULL;
    }
    return malloc(size ? size : 1);
}

static void vlen_free(void *p, void *info) {
    (void)info;
    free(p);
}

/* The one string held by obj (an attribute when is_attr, else a dataset),
 * `what` naming it in messages. */
static dnas_status read_string(ckpt_in *in, hid_t obj, int is_attr, const char *what,
                               char **out) {
    const size_t max = DNAS_YAML_MAX_BYTES;
    hid_t space = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hid_t type = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    int ok = space >= 0 && type >= 0 && H5Sget_simple_extent_npoints(space) == 1 &&
             H5Tget_class(type) == H5T_STRING;
    size_t too_long = 0; /* bytes of a text over max */
    char *s = NULL;
    if (ok && H5Tis_variable_str(type) > 0) {
        /* (H5Dvlen_get_buf_size would say the size first, but crashes on a
         * scalar dataspace in libhdf5 1.10) */
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        char *v = NULL;
        if (is_attr) {
            ok = H5Aread(obj, mt, &v) >= 0 && v; /* attributes: at most 64 KiB */
            if (ok) {
                size_t n = strlen(v);
                s = dnas_xmalloc(n + 1);
                memcpy(s, v, n + 1);
            }
            if (v) H5free_memory(v);
        } else {
            vlen_cap cap = {max + 1, 0};
            hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
            H5Pset_vlen_mem_manager(dxpl, vlen_alloc, &cap, vlen_free, NULL);
            ok = H5Dread(obj, mt, H5S_ALL, H5S_ALL, dxpl, &v) >= 0 && v;
            H5Pclose(dxpl);
            if (cap.asked) too_long = cap.asked - 1, ok = 1;
            s = ok ? v : NULL;
            if (!ok) free(v);
        }
        H5Tclose(mt);
    } else if (ok) {
        size_t n = H5Tget_size(type);
        if (n > max)
            too_long = n;
        else if (n > 0) {
            s = dnas_xcalloc(n + 1, 1);
            ok = (is_attr ? H5Aread(obj, type, s)
                          : H5Dread(obj, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, s)) >= 0;
        } else
            ok = 0;
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (too_long) {
        free(s);
        return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: %s holds %zu bytes: expected at most %zu",
                         in->path, what, too_long, max);
    }
    if (!ok || !s) {
        free(s);
        return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: %s is not a string", in->path, what);
    }
    *out = s;
    return DNAS_OK;
}

dnas_status train_ckpt_read_text(ckpt_in *in, const char *name, const char *attr_name, char **out) {
    char what[128];
    dnas_status st;
    if (in->version >= 2) {
        snprintf(what, sizeof what, "dataset /%s", name);
        if (H5Lexists(in->f, name, H5P_DEFAULT) <= 0)
            return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: no %s (expected a string)", in->path,
                             what);
        hid_t d = H5Dopen2(in->f, name, H5P_DEFAULT);
        if (d < 0)
            return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: %s is not a string", in->path, what);
        st = read_string(in, d, 0, what, out);
        H5Dclose(d);
        return st;
    }
    snprintf(what, sizeof what, "attribute '%s'", attr_name);
    if (H5Aexists(in->f, attr_name) <= 0)
        return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: no %s (expected a string)", in->path,
                         what);
    hid_t a = H5Aopen(in->f, attr_name, H5P_DEFAULT);
    if (a < 0) return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: %s is not a string", in->path, what);
    st = read_string(in, a, 1, what, out);
    H5Aclose(a);
    return st;
}
