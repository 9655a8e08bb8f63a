/* Reading a qnet from HDF5 with checks. Nothing of the file is trusted:
 *   1. the group exists and its `format` attribute is DEPLOY_QNET_FORMAT;
 *      `output` is a single integer;
 *   2. the tables /tensors and /ops are 1-D with at most
 *      DEPLOY_QNET_MAX_ITEMS rows of exactly the compound type written
 *      (compared before reading: a foreign compound is refused, not
 *      converted);
 *   3. /weights is 1-D int8, /bias and /multipliers 1-D int32 (the stored
 *      integer size and sign compared, so nothing is clipped by a
 *      conversion), their bytes checked against the machine's memory before
 *      anything is allocated;
 *   4. each op's kind is known and its offsets and lengths lie inside the
 *      arrays, with the lengths its output channels give;
 *   5. the network as a whole passes deploy_qnet_check.
 * Messages name the file (where), the dataset and what was expected. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qnet_h5_internal.h"

typedef struct {
    hid_t g;
    const char *where, *group;
    dnas_error *err;
} rd;

#define RFAIL(st, ...) rfail(r, st, __VA_ARGS__)
__attribute__((format(printf, 3, 4))) static dnas_status rfail(rd *r, dnas_status st,
                                                               const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dnas_fail(r->err, st, "%s: %s", r->where, msg);
}

/* Opens dataset name of the group as a 1-D dataset: *n rows, *type its type. */
static dnas_status open_1d(rd *r, const char *name, const char *expect, hid_t *d, hid_t *type,
                           hssize_t *n) {
    *d = *type = -1;
    if (H5Lexists(r->g, name, H5P_DEFAULT) <= 0 || (*d = H5Dopen2(r->g, name, H5P_DEFAULT)) < 0)
        return RFAIL(DNAS_ERR_FORMAT, "no dataset %s/%s (expected %s)", r->group, name, expect);
    hid_t space = H5Dget_space(*d);
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    *n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) H5Sclose(space);
    *type = H5Dget_type(*d);
    if (rank != 1 || *n < 0 || *type < 0)
        return RFAIL(DNAS_ERR_FORMAT, "dataset %s/%s has %d dims: expected 1-D %s", r->group, name,
                     rank, expect);
    return DNAS_OK;
}

static void close_ds(hid_t d, hid_t type) {
    if (type >= 0) H5Tclose(type);
    if (d >= 0) H5Dclose(d);
}

/* A table of rows of exactly type rowt (row bytes), at most max rows. */
static dnas_status read_table(rd *r, const char *name, const char *expect, hid_t rowt, size_t row,
                              void **rows, int *n) {
    hid_t d, type;
    hssize_t count = 0;
    dnas_status st = open_1d(r, name, expect, &d, &type, &count);
    if (!st && H5Tequal(type, rowt) <= 0)
        st = RFAIL(DNAS_ERR_FORMAT, "dataset %s/%s is not a table of %s as dnas writes them",
                   r->group, name, expect);
    if (!st && count > DEPLOY_QNET_MAX_ITEMS)
        st = RFAIL(DNAS_ERR_FORMAT, "dataset %s/%s has %lld rows: expected at most %d", r->group,
                   name, (long long)count, DEPLOY_QNET_MAX_ITEMS);
    if (!st) {
        *rows = dnas_xcalloc(count ? (size_t)count : 1, row);
        *n = (int)count;
        if (count && H5Dread(d, rowt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) < 0)
            st = RFAIL(DNAS_ERR_FORMAT, "cannot read dataset %s/%s (corrupt?)", r->group, name);
    }
    close_ds(d, type);
    return st;
}

/* A 1-D signed integer array of exactly `bytes` per value into *out. */
static dnas_status read_ints(rd *r, const char *name, size_t bytes, hid_t mtype, void **out,
                             size_t *n) {
    const char *expect = bytes == 1 ? "1-D int8 values" : "1-D int32 values";
    hid_t d, type;
    hssize_t count = 0;
    dnas_status st = open_1d(r, name, expect, &d, &type, &count);
    if (!st && (H5Tget_class(type) != H5T_INTEGER || H5Tget_size(type) != bytes ||
                H5Tget_sign(type) != H5T_SGN_2))
        st = RFAIL(DNAS_ERR_FORMAT, "dataset %s/%s: expected %s", r->group, name, expect);
    char what[600];
    snprintf(what, sizeof what, "%s: dataset %s/%s", r->where, r->group, name);
    if (!st) st = dnas_check_bytes((uint64_t)count * bytes, what, r->err);
    if (!st) {
        *out = dnas_xmalloc(count ? (size_t)count * bytes : 1);
        *n = (size_t)count;
        if (count && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0)
            st = RFAIL(DNAS_ERR_FORMAT, "cannot read dataset %s/%s (corrupt?)", r->group, name);
    }
    close_ds(d, type);
    return st;
}

static dnas_status read_head(rd *r, deploy_qnet *q) {
    char fmt[64] = "";
    if (dnas_h5_read_attr_str(r->g, "format", fmt, sizeof fmt) <= 0 || strcmp(fmt, DEPLOY_QNET_FORMAT))
        return RFAIL(DNAS_ERR_FORMAT, "group %s: attribute 'format' is '%s', expected '%s'",
                     r->group, fmt, DEPLOY_QNET_FORMAT);
    if (dnas_h5_read_attr_str(r->g, "name", q->name, sizeof q->name) <= 0)
        return RFAIL(DNAS_ERR_FORMAT, "group %s: no string attribute 'name'", r->group);
    hid_t a = H5Aexists(r->g, "output") > 0 ? H5Aopen(r->g, "output", H5P_DEFAULT) : -1;
    hid_t space = a >= 0 ? H5Aget_space(a) : -1, type = a >= 0 ? H5Aget_type(a) : -1;
    int ok = space >= 0 && H5Sget_simple_extent_npoints(space) == 1 && type >= 0 &&
             H5Tget_class(type) == H5T_INTEGER && H5Aread(a, H5T_NATIVE_INT, &q->output) >= 0;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (a >= 0) H5Aclose(a);
    if (!ok)
        return RFAIL(DNAS_ERR_FORMAT, "group %s: attribute 'output' is not a single integer",
                     r->group);
    return DNAS_OK;
}

/* The slice [off, off + len) of an array of n values, else an error. */
static dnas_status slice(rd *r, int k, const char *field, int64_t off, int64_t len, size_t n,
                         const char *array) {
    if (off < 0 || len < 0 || (uint64_t)off > n || (uint64_t)len > n - (uint64_t)off)
        return RFAIL(DNAS_ERR_FORMAT,
                     "dataset %s/ops row %d: %s %lld, length %lld: expected a slice of "
                     "%s/%s (%zu values)",
                     r->group, k, field, (long long)off, (long long)len, r->group, array, n);
    return DNAS_OK;
}

static dnas_status build_ops(rd *r, deploy_qnet *q, const qnet_op_row *rows, int nops,
                             const int8_t *w, size_t nw, const int32_t *b, size_t nb,
                             const int32_t *m, size_t nm) {
    dnas_status st;
    for (int k = 0; k < nops; k++) {
        qnet_op_row row = rows[k];
        row.name[DEPLOY_QNET_NAME_LEN - 1] = 0;
        row.kind[QNET_KIND_LEN - 1] = 0;
        int kind = -1;
        for (int j = 0; j < DEPLOY_QOP_COUNT_; j++)
            if (!strcmp(row.kind, deploy_qop_kind_name((deploy_qop_kind)j))) kind = j;
        if (kind < 0)
            return RFAIL(DNAS_ERR_FORMAT,
                         "dataset %s/ops row %d ('%s'): kind '%s': expected conv, linear, "
                         "add, maxpool, avgpool, global_avgpool or flatten",
                         r->group, k, row.name, row.kind);
        deploy_qop *op = deploy_qnet_add_op(q, (deploy_qop_kind)kind, row.name);
        op->in[0] = row.in0, op->in[1] = row.in1, op->out = row.out;
        op->kh = row.kh, op->kw = row.kw, op->sh = row.sh, op->sw = row.sw, op->dh = row.dh,
        op->dw = row.dw;
        op->pt = row.pt, op->pb = row.pb, op->pl = row.pl, op->pr = row.pr, op->groups = row.groups;
        op->wbits = row.wbits, op->shift = row.shift, op->lo = row.lo, op->hi = row.hi;
        op->ma = row.ma, op->mb = row.mb;
        int convlike = kind == DEPLOY_QOP_CONV || kind == DEPLOY_QOP_LINEAR;
        if (!convlike) {
            if (row.w_off != -1 || row.w_len != 0 || row.b_off != -1 || row.m_off != -1)
                return RFAIL(DNAS_ERR_FORMAT,
                             "dataset %s/ops row %d ('%s', %s): w_off, w_len, b_off, m_off "
                             "are %lld, %lld, %lld, %lld: expected -1, 0, -1, -1 (no weights)",
                             r->group, k, row.name, row.kind, (long long)row.w_off,
                             (long long)row.w_len, (long long)row.b_off, (long long)row.m_off);
            continue;
        }
        if (row.out < 0 || row.out >= q->ntensors)
            return RFAIL(DNAS_ERR_FORMAT,
                         "dataset %s/ops row %d ('%s'): output tensor %d: expected 0..%d", r->group,
                         k, row.name, row.out, q->ntensors - 1);
        int64_t cout = q->tensors[row.out].c;
        if ((st = slice(r, k, "w_off", row.w_off, row.w_len, nw, "weights")) ||
            (st = slice(r, k, "m_off", row.m_off, cout, nm, "multipliers")) ||
            (row.b_off != -1 && (st = slice(r, k, "b_off", row.b_off, cout, nb, "bias"))))
            return st;
        op->wlen = (size_t)row.w_len;
        op->w = dnas_xmalloc(op->wlen ? op->wlen : 1);
        memcpy(op->w, w + row.w_off, op->wlen);
        op->m = dnas_xmalloc((size_t)cout * sizeof *op->m);
        memcpy(op->m, m + row.m_off, (size_t)cout * sizeof *op->m);
        if (row.b_off != -1) {
            op->bias = dnas_xmalloc((size_t)cout * sizeof *op->bias);
            memcpy(op->bias, b + row.b_off, (size_t)cout * sizeof *op->bias);
        }
    }
    return DNAS_OK;
}

/* The optional per-channel engines: <group>/channel_engines (int8,
 * aligned with multipliers, -1 not recorded) and the attribute `engines`
 * (the names, comma-separated). An op whose channels are all -1 has none. */
static dnas_status read_engines(rd *r, deploy_qnet *q, const qnet_op_row *orow, size_t nm) {
    char names[DEPLOY_QNET_MAX_ENGINES * DEPLOY_QNET_ENGINE_LEN + 8] = "";
    if (dnas_h5_read_attr_str(r->g, "engines", names, sizeof names) <= 0)
        return RFAIL(DNAS_ERR_FORMAT, "group %s: dataset channel_engines without a string attribute 'engines'",
                     r->group);
    for (char *s = names, *e; *s; s = e + (*e == ',')) {
        e = s + strcspn(s, ",");
        char one[DEPLOY_QNET_ENGINE_LEN];
        if (e - s < 1 || e - s >= DEPLOY_QNET_ENGINE_LEN || q->nengines == DEPLOY_QNET_MAX_ENGINES)
            return RFAIL(DNAS_ERR_FORMAT, "group %s: attribute 'engines' '%s': expected at most %d names of 1..%d "
                         "characters, comma-separated", r->group, names, DEPLOY_QNET_MAX_ENGINES,
                         DEPLOY_QNET_ENGINE_LEN - 1);
        snprintf(one, sizeof one, "%.*s", (int)(e - s), s);
        deploy_qnet_engine(q, one);
    }
    char bits[DEPLOY_QNET_MAX_ENGINES * 4 + 8] = "";
    if (H5Aexists(r->g, "engine_input_bits") > 0) { /* optional: "0,7" per engine name */
        int got = 0, len = dnas_h5_read_attr_str(r->g, "engine_input_bits", bits, sizeof bits);
        for (char *s = bits, *e; len > 0 && *s && got < q->nengines; s = e + (*e == ',')) {
            long v = strtol(s, &e, 10);
            if (e == s || (*e && *e != ',') || v < 0 || v > 7 || v == 1) break;
            q->engine_in_bits[got++] = (int)v;
            if (!*e) break;
        }
        int commas = 0;
        for (const char *c = bits; *c; c++)
            commas += *c == ',';
        if (len <= 0 || got != q->nengines || commas != q->nengines - 1 ||
            bits[strspn(bits, "0123456789,")])
            return RFAIL(DNAS_ERR_FORMAT, "group %s: attribute 'engine_input_bits' '%s': expected %d "
                         "comma-separated values, each 0 or 2..7 (one per name of 'engines')",
                         r->group, bits, q->nengines);
    }
    int8_t *ce = NULL;
    size_t n = 0;
    dnas_status st = read_ints(r, "channel_engines", 1, H5T_NATIVE_INT8, (void **)&ce, &n);
    if (!st && n != nm)
        st = RFAIL(DNAS_ERR_FORMAT, "dataset %s/channel_engines has %zu values: expected %zu (one per multiplier)",
                   r->group, n, nm);
    for (int k = 0; !st && k < q->nops; k++) {
        deploy_qop *op = &q->ops[k];
        if (!op->m) continue;
        size_t cout = (size_t)q->tensors[op->out].c, any = 0;
        for (size_t c = 0; c < cout; c++) any |= ce[orow[k].m_off + (int64_t)c] != -1;
        if (!any) continue;
        op->engine = dnas_xmalloc(cout);
        memcpy(op->engine, ce + orow[k].m_off, cout);
    }
    free(ce);
    return st;
}

/* Optional 1-D float attribute name of exactly n values into v (the
 * caller's [n]); *present says whether it exists. */
static dnas_status read_attr_floats(rd *r, const char *name, float *v, int n, int *present) {
    *present = H5Aexists(r->g, name) > 0;
    if (!*present) return DNAS_OK;
    hid_t a = H5Aopen(r->g, name, H5P_DEFAULT);
    hid_t space = a >= 0 ? H5Aget_space(a) : -1, type = a >= 0 ? H5Aget_type(a) : -1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hssize_t cnt = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int ok = type >= 0 && H5Tget_class(type) == H5T_FLOAT && rank == 1 && cnt == n &&
             H5Aread(a, H5T_NATIVE_FLOAT, v) >= 0;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (a >= 0) H5Aclose(a);
    if (!ok)
        return RFAIL(DNAS_ERR_FORMAT,
                     "group %s: attribute '%s' has %lld values: expected %d floats (one per "
                     "input channel)",
                     r->group, name, (long long)cnt, n);
    return DNAS_OK;
}

/* The input preprocessing (qnet.h, deploy_qnet_input): absent in files
 * written before it was stored (then not recorded). */
static dnas_status read_input(rd *r, deploy_qnet *q) {
    char layout[16] = "";
    if (H5Aexists(r->g, "input_layout") <= 0) {
        if (H5Aexists(r->g, "input_mean") > 0 || H5Aexists(r->g, "input_std") > 0)
            return RFAIL(DNAS_ERR_FORMAT,
                         "group %s: attribute input_mean or input_std without 'input_layout'",
                         r->group);
        return DNAS_OK;
    }
    if (dnas_h5_read_attr_str(r->g, "input_layout", layout, sizeof layout) <= 0 ||
        (strcmp(layout, "chw") && strcmp(layout, "rows")))
        return RFAIL(DNAS_ERR_FORMAT, "group %s: attribute 'input_layout' is '%s': expected 'chw' or 'rows'",
                     r->group, layout);
    int c = q->tensors[0].c, hm = 0, hs = 0;
    if (c < 1 || c > DNAS_RT_DIM_MAX)
        return RFAIL(DNAS_ERR_FORMAT, "group %s: the input tensor has %d channels: expected 1..%ld",
                     r->group, c, (long)DNAS_RT_DIM_MAX);
    float *mean = dnas_xmalloc((size_t)c * sizeof *mean), *std = dnas_xmalloc((size_t)c * sizeof *std);
    dnas_status st = read_attr_floats(r, "input_mean", mean, c, &hm);
    if (!st) st = read_attr_floats(r, "input_std", std, c, &hs);
    if (!st && hm != hs)
        st = RFAIL(DNAS_ERR_FORMAT, "group %s: attribute '%s' without '%s'", r->group,
                   hm ? "input_mean" : "input_std", hm ? "input_std" : "input_mean");
    if (!st) deploy_qnet_set_input(q, !strcmp(layout, "rows"), hm ? c : 0, mean, std);
    free(mean), free(std);
    return st;
}

static dnas_status read_all(rd *r, deploy_qnet *q) {
    dnas_status st = read_head(r, q);
    if (st) return st;
    qnet_types ty;
    deploy_qnet_types_create(&ty);
    qnet_tensor_row *tr = NULL;
    qnet_op_row *orow = NULL;
    int8_t *w = NULL;
    int32_t *b = NULL, *m = NULL;
    int nt = 0, no = 0;
    size_t nw = 0, nb = 0, nm = 0;
    if (!(st = read_table(r, "tensors", "rows (name, h, w, c, signed, bits, scale)", ty.tensor_t,
                          sizeof *tr, (void **)&tr, &nt)) &&
        !(st = read_table(r, "ops", "op rows (name, kind, in0, in1, out, ...)", ty.op_t,
                          sizeof *orow, (void **)&orow, &no)) &&
        !(st = read_ints(r, "weights", 1, H5T_NATIVE_INT8, (void **)&w, &nw)) &&
        !(st = read_ints(r, "bias", 4, H5T_NATIVE_INT32, (void **)&b, &nb)) &&
        !(st = read_ints(r, "multipliers", 4, H5T_NATIVE_INT32, (void **)&m, &nm))) {
        for (int i = 0; i < nt; i++) {
            deploy_qtensor t = {.h = tr[i].h,
                                .w = tr[i].w,
                                .c = tr[i].c,
                                .is_signed = tr[i].is_signed,
                                .bits = tr[i].bits,
                                .scale = tr[i].scale};
            memcpy(t.name, tr[i].name, sizeof t.name);
            t.name[DEPLOY_QNET_NAME_LEN - 1] = 0;
            deploy_qnet_add_tensor(q, &t);
        }
        st = build_ops(r, q, orow, no, w, nw, b, nb, m, nm);
        if (!st && H5Lexists(r->g, "channel_engines", H5P_DEFAULT) > 0) st = read_engines(r, q, orow, nm);
        if (!st && nt > 0) st = read_input(r, q);
    }
    deploy_qnet_types_close(&ty);
    free(tr), free(orow), free(w), free(b), free(m);
    if (st) return st;
    char where[4200];
    snprintf(where, sizeof where, "%s: group %s", r->where, r->group);
    return deploy_qnet_check(q, where, r->err);
}

dnas_status deploy_qnet_read(hid_t loc, const char *group, deploy_qnet *q, const char *where,
                             dnas_error *err) {
    deploy_qnet_init(q, "");
    dnas_h5_quiet quiet;
    dnas_h5_quiet_on(&quiet);
    rd r = {-1, where, group, err};
    dnas_status st;
    if (H5Lexists(loc, group, H5P_DEFAULT) <= 0 || (r.g = H5Gopen2(loc, group, H5P_DEFAULT)) < 0)
        st = rfail(&r, DNAS_ERR_FORMAT,
                   "no group %s (expected an integer network, e.g. from dnas quantize)", group);
    else
        st = read_all(&r, q);
    if (r.g >= 0) H5Gclose(r.g);
    dnas_h5_quiet_off(&quiet);
    if (st) deploy_qnet_free(q);
    return st;
}

hid_t deploy_qnet_h5_open(const char *path, dnas_status *st, dnas_error *err) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        *st = dnas_fail(err, DNAS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        *st = dnas_fail(err, DNAS_ERR_IO, "%s: is a directory, expected an integer network file",
                        path);
        return -1;
    }
    if (sb.st_size == 0) {
        *st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: the file is empty, expected an integer network",
                        path);
        return -1;
    }
    dnas_h5_quiet quiet;
    dnas_h5_quiet_on(&quiet);
    hid_t f = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
    dnas_h5_quiet_off(&quiet);
    if (f < 0)
        *st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: not an HDF5 file (corrupt or truncated?)", path);
    return f;
}

dnas_status deploy_qnet_load(const char *path, deploy_qnet *q, dnas_error *err) {
    deploy_qnet_init(q, "");
    dnas_status st = DNAS_OK;
    hid_t f = deploy_qnet_h5_open(path, &st, err);
    if (f < 0) return st;
    dnas_h5_quiet quiet;
    char fmt[64] = "";
    dnas_h5_quiet_on(&quiet);
    int has = dnas_h5_read_attr_str(f, "format", fmt, sizeof fmt) > 0;
    dnas_h5_quiet_off(&quiet);
    if (!has || strcmp(fmt, DEPLOY_QUANT_FORMAT))
        st = dnas_fail(err, DNAS_ERR_FORMAT,
                       "%s: attribute 'format' is '%s', expected '%s' (a file of dnas "
                       "quantize)",
                       path, fmt, DEPLOY_QUANT_FORMAT);
    else
        st = deploy_qnet_read(f, "qnet", q, path, err);
    dnas_h5_quiet_on(&quiet);
    H5Fclose(f);
    dnas_h5_quiet_off(&quiet);
    return st;
}
