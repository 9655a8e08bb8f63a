/* NPY reader. Layout: "\x93NUMPY", major, minor, header length (uint16 LE
 * for v1, uint32 LE for v2/v3), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
 * padded with spaces and '\n', then the raw array in C order. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

typedef enum { NPY_F4, NPY_F8, NPY_U1, NPY_I1, NPY_I4, NPY_I8 } npy_dtype;

typedef struct {
    npy_dtype dtype;
    size_t itemsize;
    int ndim;
    uint64_t dims[4];
    uint64_t per;            /* product of dims[1..ndim) */
    const unsigned char *data;
} npy_array;

static const struct {
    const char *descr;
    npy_dtype dtype;
    size_t size;
} npy_types[] = {
    {"<f4", NPY_F4, 4}, {"<f8", NPY_F8, 8}, {"|u1", NPY_U1, 1}, {"<u1", NPY_U1, 1},
    {"|i1", NPY_I1, 1}, {"<i1", NPY_I1, 1}, {"<i4", NPY_I4, 4}, {"<i8", NPY_I8, 8},
};

/* Value of key in the header dict: pointer just past "'key':" and spaces. */
static const char *npy_find(const char *hdr, const char *key) {
    size_t kl = strlen(key);
    for (const char *p = hdr; (p = strchr(p, key[0])) != NULL; p++) {
        if (p == hdr || (p[-1] != '\'' && p[-1] != '"')) continue;
        if (strncmp(p, key, kl) != 0 || p[kl] != p[-1]) continue;
        const char *q = p + kl + 1;
        while (*q == ' ') q++;
        if (*q != ':') continue;
        q++;
        while (*q == ' ') q++;
        return q;
    }
    return NULL;
}

static dnas_status npy_parse(npy_array *a, const unsigned char *buf, size_t len,
                              const char *path, dnas_error *err) {
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: not an NPY file (expected magic \\x93NUMPY)",
                          path);
    }
    int major = buf[6];
    size_t hlen, start;
    if (major == 1) {
        hlen = buf[8] | (size_t)buf[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) {
            return dnas_fail(err, DNAS_ERR_FORMAT, "%s: truncated NPY header", path);
        }
        hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        start = 12;
    } else {
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: NPY version %d unsupported (1, 2 or 3)",
                          path, major);
    }
    if (len - start < hlen) {
        return dnas_fail(err, DNAS_ERR_FORMAT,
                          "%s: truncated: NPY header of %zu bytes, file has %zu after the magic",
                          path, hlen, len - start);
    }
    char *hdr = dnas_xmalloc(hlen + 1);
    memcpy(hdr, buf + start, hlen);
    hdr[hlen] = '\0';
    dnas_status st = DNAS_OK;

    const char *d = npy_find(hdr, "descr");
    const char *f = npy_find(hdr, "fortran_order");
    const char *s = npy_find(hdr, "shape");
    if (!d || !f || !s || (*d != '\'' && *d != '"') || *s != '(') {
        st = dnas_fail(err, DNAS_ERR_FORMAT,
                        "%s: NPY header lacks descr, fortran_order or shape: %.200s", path, hdr);
        goto done;
    }
    size_t dl = strcspn(d + 1, "'\"");
    int found = 0;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++) {
        if (strlen(npy_types[i].descr) == dl && strncmp(d + 1, npy_types[i].descr, dl) == 0) {
            a->dtype = npy_types[i].dtype;
            a->itemsize = npy_types[i].size;
            found = 1;
        }
    }
    if (!found) {
        st = dnas_fail(err, DNAS_ERR_FORMAT,
                        "%s: NPY dtype '%.*s' unsupported (expected <f4, <f8, |u1, |i1, <i4 "
                        "or <i8)",
                        path, (int)(dl < 32 ? dl : 32), d + 1);
        goto done;
    }
    /* Parse the shape tuple "(a, b, c)", "(a,)" or "()". */
    a->ndim = 0;
    const char *p = s + 1;
    for (;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        if (!isdigit((unsigned char)*p) || a->ndim == 4) {
            st = dnas_fail(err, DNAS_ERR_FORMAT,
                            "%s: NPY shape must have 1 to 4 integer dims: %.100s", path, s);
            goto done;
        }
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        a->dims[a->ndim++] = v;
        p = end;
    }
    if (a->ndim == 0) {
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: NPY array is a scalar, expected 1 to 4 dims",
                        path);
        goto done;
    }
    if (strncmp(f, "True", 4) == 0 && a->ndim > 1) {
        st = dnas_fail(err, DNAS_ERR_FORMAT,
                        "%s: NPY array is in Fortran order; save it C-contiguous", path);
        goto done;
    }
    /* the file stays in memory while its floats are filled in */
    char what[1200];
    snprintf(what, sizeof what, "%s: NPY array", path);
    if ((st = train_data_check_shape(a->dims, a->ndim, 0, len, what, &a->per, err))) goto done;
    uint64_t expect = a->dims[0] * a->per * a->itemsize; /* at most twice the memory checked: no overflow */
    size_t have = len - start - hlen;
    if (have != expect) {
        st = dnas_fail(err, DNAS_ERR_FORMAT,
                        "%s: %s: expected %llu bytes of array data from the shape, got %zu", path,
                        have < expect ? "truncated" : "size mismatch",
                        (unsigned long long)expect, have);
        goto done;
    }
    a->data = buf + start + hlen;
done:
    free(hdr);
    return st;
}

/* Element i of a as double (exact for every supported type but i8 > 2^53). */
static double npy_get(const npy_array *a, size_t i) {
    const unsigned char *p = a->data + i * a->itemsize;
    switch (a->dtype) {
    case NPY_F4: { float v; memcpy(&v, p, 4); return v; }
    case NPY_F8: { double v; memcpy(&v, p, 8); return v; }
    case NPY_U1: return *p;
    case NPY_I1: return (int8_t)*p;
    case NPY_I4: { int32_t v; memcpy(&v, p, 4); return v; }
    case NPY_I8: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    }
    return 0.0;
}

static dnas_status npy_labels(train_dataset *ds, const npy_array *a, const char *path,
                               dnas_error *err) {
    if (a->ndim != 1 && !(a->ndim == 2 && a->dims[1] == 1)) {
        return dnas_fail(err, DNAS_ERR_SHAPE, "%s: labels must be a 1-D array, got %d dims",
                          path, a->ndim);
    }
    if (a->dims[0] != (uint64_t)ds->count) {
        return dnas_fail(err, DNAS_ERR_SHAPE, "%s: %llu labels for %d samples", path,
                          (unsigned long long)a->dims[0], ds->count);
    }
    for (int i = 0; i < ds->count; i++) {
        dnas_status st;
        if (a->dtype == NPY_I8) {
            int64_t v;
            memcpy(&v, a->data + (size_t)i * 8, 8);
            st = train_data_label_i64(ds, i, v, path, err);
        } else {
            st = train_data_label_f64(ds, i, npy_get(a, (size_t)i), path, err);
        }
        if (st != DNAS_OK) return st;
    }
    train_data_finish_labels(ds);
    return DNAS_OK;
}

dnas_status train_data_load_npy(train_dataset *ds, const char *x_path, const char *y_path,
                                 dnas_error *err) {
    memset(ds, 0, sizeof *ds);
    unsigned char *xb = NULL, *yb = NULL;
    size_t xl = 0, yl = 0;
    npy_array xa, ya;
    dnas_status st = train_data_read_file(x_path, "an NPY file", &xb, &xl, err);
    if (st == DNAS_OK) st = npy_parse(&xa, xb, xl, x_path, err);
    if (st == DNAS_OK && y_path) {
        st = train_data_read_file(y_path, "an NPY file", &yb, &yl, err);
        if (st == DNAS_OK) st = npy_parse(&ya, yb, yl, y_path, err);
    }
    if (st == DNAS_OK) {
        /* (N) -> (N,1,1,1), (N,F) -> (N,1,1,F), (N,H,W) -> (N,1,H,W). */
        int shape[3] = {1, 1, 1};
        for (int i = 1; i < xa.ndim; i++) shape[3 - xa.ndim + i] = (int)xa.dims[i];
        st = train_data_alloc(ds, (int)xa.dims[0], shape[0], shape[1], shape[2], y_path != NULL, x_path, err);
    }
    if (st == DNAS_OK) {
        size_t n = (size_t)xa.dims[0] * xa.per;
        for (size_t i = 0; i < n; i++) ds->x[i] = (float)npy_get(&xa, i);
        st = train_data_check_finite(ds, x_path, err);
        if (st == DNAS_OK && y_path) st = npy_labels(ds, &ya, y_path, err);
        if (st != DNAS_OK) train_dataset_free(ds);
    }
    free(xb);
    free(yb);
    return st;
}
