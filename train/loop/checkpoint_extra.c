/* A checkpoint's extra named tensors, /extra/<name> (checkpoint.h): name
 * checks, writing, and reading with checks into the caller's buffers. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_internal.h"

/* Parts of [A-Za-z0-9_.-] separated by single '/', none "." or "..". */
static int valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= TRAIN_CKPT_EXTRA_NAME_LEN) return 0;
    const char *part = s;
    for (const char *c = s;; c++) {
        if (*c == '/' || !*c) {
            size_t len = (size_t)(c - part);
            if (len == 0 || (len == 1 && part[0] == '.') || (len == 2 && !strncmp(part, "..", 2)))
                return 0;
            if (!*c) return 1;
            part = c + 1;
        } else if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-')) {
            return 0;
        }
    }
}

/* Whether a is the group of b: b = a + "/..." */
static int is_group_of(const char *a, const char *b) {
    size_t n = strlen(a);
    return !strncmp(a, b, n) && b[n] == '/';
}

dnas_status train_ckpt_extra_check_names(const train_ckpt_tensor *extra, int nextra, const char *path,
                                   dnas_error *err) {
    DNAS_ASSERT(nextra >= 0 && (extra || nextra == 0));
    for (int i = 0; i < nextra; i++) {
        const char *name = extra[i].name;
        DNAS_ASSERT(extra[i].data || extra[i].len == 0);
        if (!name || !valid_name(name))
            return dnas_fail(err, DNAS_ERR_INVALID,
                             "%s: extra tensor %d: name '%.200s' is not 1..%d characters of "
                             "letters, digits, '_', '.', '-' in parts separated by '/'",
                             path, i, name ? name : "(null)", TRAIN_CKPT_EXTRA_NAME_LEN - 1);
        for (int j = 0; j < i; j++) {
            const char *other = extra[j].name;
            if (!strcmp(name, other))
                return dnas_fail(err, DNAS_ERR_INVALID, "%s: extra tensor '%s' is given twice",
                                 path, name);
            if (is_group_of(name, other) || is_group_of(other, name))
                return dnas_fail(err, DNAS_ERR_INVALID,
                                 "%s: extra tensors '%s' and '%s': one would be the group of "
                                 "the other",
                                 path, other, name);
        }
    }
    return DNAS_OK;
}

int train_ckpt_extra_write(hid_t f, const train_ckpt_tensor *extra, int nextra) {
    if (nextra == 0) return 1;
    int ok = 1;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE); /* extra/arch/alpha makes extra/arch */
    H5Pset_create_intermediate_group(lcpl, 1);
    for (int i = 0; i < nextra && ok; i++) {
        char name[TRAIN_CKPT_EXTRA_NAME_LEN + 8];
        snprintf(name, sizeof name, "extra/%s", extra[i].name);
        hsize_t dims[1] = {extra[i].len};
        hid_t space = H5Screate_simple(1, dims, NULL);
        hid_t ds = H5Dcreate2(f, name, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        ok = ds >= 0 && (extra[i].len == 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                                       H5P_DEFAULT, extra[i].data) >= 0);
        if (ds >= 0) H5Dclose(ds);
        H5Sclose(space);
    }
    H5Pclose(lcpl);
    return ok;
}

/* Whether every group on the way to name, and name, exist (H5Lexists
 * checks only the last part). */
static int path_exists(hid_t f, const char *name) {
    char part[TRAIN_CKPT_EXTRA_NAME_LEN + 8];
    for (const char *c = name;; c++) {
        if (*c == '/' || !*c) {
            snprintf(part, sizeof part, "%.*s", (int)(c - name), name);
            if (H5Lexists(f, part, H5P_DEFAULT) <= 0) return 0;
            if (!*c) return 1;
        }
    }
}

dnas_status train_ckpt_extra_read(ckpt_in *in, const train_ckpt_tensor *extra, int nextra,
                            float **bufs) {
    for (int i = 0; i < nextra; i++) {
        char name[TRAIN_CKPT_EXTRA_NAME_LEN + 8];
        snprintf(name, sizeof name, "extra/%s", extra[i].name);
        if (in->version < 2 || !path_exists(in->f, name))
            return dnas_fail(in->err, DNAS_ERR_FORMAT,
                             "%s: no dataset /%s (expected %zu float32 values)%s", in->path, name,
                             extra[i].len,
                             in->version < 2 ? "; a " TRAIN_CKPT_FORMAT_1 " file holds none" : "");
        dnas_status st = train_ckpt_read_floats(in, name, bufs[i], extra[i].len, NULL);
        if (st) return st;
    }
    return DNAS_OK;
}

dnas_status train_ckpt_extra_len(const char *path, const char *name, long *len,
                                 dnas_error *err) {
    train_ckpt_tensor t = {name, NULL, 0};
    dnas_status st = train_ckpt_extra_check_names(&t, 1, path, err);
    if (st) return st;
    ckpt_in in;
    if ((st = train_ckpt_open(&in, path, err))) return st;
    char full[TRAIN_CKPT_EXTRA_NAME_LEN + 8];
    snprintf(full, sizeof full, "extra/%s", name);
    long n = -1;
    st = train_ckpt_check_format(&in);
    if (!st && in.version >= 2 && path_exists(in.f, full)) {
        hid_t d = H5Dopen2(in.f, full, H5P_DEFAULT);
        hid_t space = d >= 0 ? H5Dget_space(d) : -1, type = d >= 0 ? H5Dget_type(d) : -1;
        size_t esize = type >= 0 ? H5Tget_size(type) : 0;
        if (type >= 0 && H5Tget_class(type) == H5T_FLOAT && (esize == 4 || esize == 8) &&
            space >= 0 && H5Sget_simple_extent_ndims(space) == 1)
            n = (long)H5Sget_simple_extent_npoints(space);
        else
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: /%s is not a 1-D float dataset", path, full);
        if (type >= 0) H5Tclose(type);
        if (space >= 0) H5Sclose(space);
        if (d >= 0) H5Dclose(d);
    }
    train_ckpt_close(&in);
    if (!st) *len = n;
    return st;
}
