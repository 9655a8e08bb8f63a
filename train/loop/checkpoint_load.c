/* Reading checkpoints (layout in checkpoint.h). Nothing is written into
 * the network or the optimizer until the whole file has been checked:
 *   1. the path is a non-empty regular file and an HDF5 file;
 *   2. the `format` attribute is TRAIN_CKPT_FORMAT;
 *   3. epoch, step, rng, test_acc are single numbers in range;
 *   4. /param_table matches the model tensor by tensor (its row count is
 *      compared before anything is allocated for it);
 *   5. /params, /state and the optimizer's moments are float datasets of
 *      the model's sizes with finite values (read into buffers of our own),
 *      and the optimizer is the config's;
 *   6. only then are the buffers copied in. */
#include "checkpoint.h"

#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint_internal.h"
#include "config.h"

typedef struct {
    hid_t f;
    const char *path;
    dnas_error *err;
} ckpt_in;

/* Single numeric attribute name as mem_type into *v: a missing attribute is
 * DNAS_ERR_FORMAT naming it when `required`, else *found = 0. */
static dnas_status attr_num(ckpt_in *in, const char *name, hid_t mem_type, void *v, int required,
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

/* Single string attribute (fixed or variable length, as h5py writes it)
 * into buf; "" when it is missing. */
static dnas_status attr_str(ckpt_in *in, const char *name, char *buf, size_t len) {
    buf[0] = 0;
    if (H5Aexists(in->f, name) <= 0) return DNAS_OK;
    hid_t a = H5Aopen(in->f, name, H5P_DEFAULT);
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
    if (!ok)
        return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: attribute '%s' is not a string", in->path,
                         name);
    return DNAS_OK;
}

/* 1-D float dataset /name of exactly n values, all finite, into dst. */
static dnas_status read_floats(ckpt_in *in, const char *name, float *dst, size_t n,
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
                       "%s: dataset /%s has %lld values in %d dims, model '%s' needs "
                       "%zu in 1",
                       in->path, name, (long long)count, rank, model, n);
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

/* /param_table against the model, row by row. */
static dnas_status check_table(ckpt_in *in, const train_net *net, const char *model) {
    if (H5Lexists(in->f, "param_table", H5P_DEFAULT) <= 0)
        return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: no dataset /param_table", in->path);
    hid_t d = H5Dopen2(in->f, "param_table", H5P_DEFAULT);
    hid_t space = d >= 0 ? H5Dget_space(d) : -1, ftype = d >= 0 ? H5Dget_type(d) : -1;
    hid_t strt, rowt = train_ckpt_row_type(&strt);
    /* the stored row type must be the one written (no conversion of a
     * foreign compound type, where a corrupt file can crash libhdf5) */
    int same_type = ftype >= 0 && H5Tequal(ftype, rowt) > 0;
    if (ftype >= 0) H5Tclose(ftype);
    hssize_t nrows = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (space >= 0) H5Sclose(space);
    dnas_status st = DNAS_OK;
    if (d < 0 || rank != 1) {
        st = dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: /param_table is not a table (1-D dataset)", in->path);
    } else if (nrows != net->nparam_table) {
        st = dnas_fail(in->err, DNAS_ERR_SHAPE,
                       "%s: checkpoint of model '%s' has %lld parameter tensors, "
                       "model '%s' has %d",
                       in->path, model, (long long)nrows, net->name, net->nparam_table);
    } else if (!same_type) {
        st = dnas_fail(in->err, DNAS_ERR_FORMAT,
                       "%s: /param_table is not a table of rows (name, offset, length) as dnas writes them",
                       in->path);
    } else {
        train_ckpt_row *rows = dnas_xcalloc(nrows > 0 ? (size_t)nrows : 1, sizeof *rows);
        if (nrows > 0 && H5Dread(d, rowt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0)
            st = dnas_fail(in->err, DNAS_ERR_FORMAT,
                           "%s: cannot read /param_table (expected rows of name, "
                           "offset, length)",
                           in->path);
        for (int i = 0; st == DNAS_OK && i < net->nparam_table; i++) {
            const train_param *p = &net->param_table[i];
            rows[i].name[TRAIN_CKPT_NAME_FIELD - 1] = 0;
            if (strcmp(rows[i].name, p->name) || rows[i].length != p->len ||
                rows[i].offset != p->off)
                st = dnas_fail(in->err, DNAS_ERR_SHAPE,
                               "%s: parameter %d is '%s' (%llu values) in the checkpoint "
                               "of model '%s' but '%s' (%zu values) in model '%s'",
                               in->path, i, rows[i].name, (unsigned long long)rows[i].length, model,
                               p->name, p->len, net->name);
        }
        free(rows);
    }
    H5Tclose(rowt);
    H5Tclose(strt);
    if (d >= 0) H5Dclose(d);
    return st;
}

/* Steps 1-3: the file, its format and its counters. */
static dnas_status check_head(ckpt_in *in, train_ckpt_meta *meta) {
    char fmt[256];
    dnas_status st = attr_str(in, "format", fmt, sizeof fmt);
    if (st) return st;
    if (!fmt[0])
        return dnas_fail(in->err, DNAS_ERR_FORMAT,
                         "%s: not a dnas checkpoint: no 'format' attribute (expected "
                         "'%s')",
                         in->path, TRAIN_CKPT_FORMAT);
    if (strcmp(fmt, TRAIN_CKPT_FORMAT))
        return dnas_fail(in->err, DNAS_ERR_FORMAT, "%s: checkpoint format '%s', expected '%s'",
                         in->path, fmt, TRAIN_CKPT_FORMAT);
    int64_t epoch, step;
    int has_acc;
    if ((st = attr_num(in, "epoch", H5T_NATIVE_INT64, &epoch, 1, NULL)) ||
        (st = attr_num(in, "step", H5T_NATIVE_INT64, &step, 1, NULL)) ||
        (st = attr_num(in, "rng", H5T_NATIVE_UINT64, &meta->rng, 1, NULL)) ||
        (st = attr_num(in, "test_acc", H5T_NATIVE_FLOAT, &meta->test_acc, 0, &has_acc)))
        return st;
    if (epoch < 0 || epoch > TRAIN_MAX_EPOCHS)
        return dnas_fail(in->err, DNAS_ERR_FORMAT,
                         "%s: attribute 'epoch' is %lld: expected 0..%d (epochs done)", in->path,
                         (long long)epoch, TRAIN_MAX_EPOCHS);
    if (step < 0 || step > LONG_MAX)
        return dnas_fail(in->err, DNAS_ERR_FORMAT,
                         "%s: attribute 'step' is %lld: expected a step count >= 0", in->path,
                         (long long)step);
    if (!has_acc) meta->test_acc = -1;
    if (!(meta->test_acc == -1 || (meta->test_acc >= 0 && meta->test_acc <= 1)))
        return dnas_fail(in->err, DNAS_ERR_FORMAT,
                         "%s: attribute 'test_acc' is %g: expected 0..1 or -1", in->path,
                         (double)meta->test_acc);
    meta->epoch = (int)epoch;
    meta->step = (long)step;
    return DNAS_OK;
}

/* Step 5 for the optimizer: its kind, step count and moments. */
static dnas_status check_optim(ckpt_in *in, const train_optim *opt, const char *model, float *m,
                               float *v, long *t) {
    int64_t kind = -1, steps = 0;
    int found;
    dnas_status st = attr_num(in, "optim_kind", H5T_NATIVE_INT64, &kind, 0, &found);
    if (st) return st;
    if (!found || kind != (int64_t)opt->p.kind) {
        int known = found && kind >= TRAIN_OPTIM_SGD && kind <= TRAIN_OPTIM_ADAMW;
        return dnas_fail(in->err, DNAS_ERR_CONFIG,
                         "%s: the checkpoint holds %s optimizer state but the config asks for %s "
                         "(resume with the optimizer it was trained with)",
                         in->path,
                         known   ? train_optim_kind_name((train_optim_kind)kind)
                         : found ? "unknown"
                                 : "no",
                         train_optim_kind_name(opt->p.kind));
    }
    if ((st = attr_num(in, "optim_t", H5T_NATIVE_INT64, &steps, 1, NULL))) return st;
    if (steps < 0 || steps > LONG_MAX)
        return dnas_fail(in->err, DNAS_ERR_FORMAT,
                         "%s: attribute 'optim_t' is %lld: expected a step count >= 0", in->path,
                         (long long)steps);
    *t = (long)steps;
    if ((st = read_floats(in, "optim/m", m, opt->n, model))) return st;
    if (opt->v && (st = read_floats(in, "optim/v", v, opt->n, model))) return st;
    return DNAS_OK;
}

dnas_status train_ckpt_load(const char *path, train_net *net, train_optim *opt,
                            train_ckpt_meta *meta, dnas_error *err) {
    struct stat sb;
    if (stat(path, &sb) != 0)
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return dnas_fail(err, DNAS_ERR_IO, "%s: is a directory, expected a checkpoint file", path);
    if (sb.st_size == 0)
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: the file is empty, expected a checkpoint",
                         path);
    H5E_auto2_t old_func;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
    if (f < 0) {
        H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
        return dnas_fail(err, DNAS_ERR_FORMAT,
                         "%s: not an HDF5 file (corrupt or truncated checkpoint?)", path);
    }
    ckpt_in in = {f, path, err};
    train_ckpt_meta mt;
    char model[TRAIN_NAME_LEN + 8];
    float *params = dnas_xmalloc((net->nparams ? net->nparams : 1) * sizeof(float));
    float *state = dnas_xmalloc((net->nstate ? net->nstate : 1) * sizeof(float));
    size_t no = opt ? opt->n : 0;
    float *m = dnas_xmalloc((no ? no : 1) * sizeof(float)),
          *v = dnas_xmalloc((no ? no : 1) * sizeof(float));
    long t = 0;
    dnas_status st = check_head(&in, &mt);
    if (!st) st = attr_str(&in, "model", model, sizeof model);
    if (!st && !model[0]) snprintf(model, sizeof model, "?");
    if (!st) st = check_table(&in, net, model);
    if (!st) st = read_floats(&in, "params", params, net->nparams, model);
    if (!st) st = read_floats(&in, "state", state, net->nstate, model);
    if (!st && opt) st = check_optim(&in, opt, model, m, v, &t);
    if (!st) { /* 6. everything checked: copy in */
        memcpy(net->params, params, net->nparams * sizeof(float));
        memcpy(net->state, state, net->nstate * sizeof(float));
        if (opt) {
            memcpy(opt->m, m, no * sizeof(float));
            if (opt->v) memcpy(opt->v, v, no * sizeof(float));
            opt->t = t;
        }
        *meta = mt;
    }
    free(params), free(state), free(m), free(v);
    H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return st;
}
