/* Reading checkpoints (layout in checkpoint.h). Nothing is written into
 * the network, the optimizer or the extra tensors' data until the whole
 * file has been checked:
 *   1. the path is a non-empty regular file and an HDF5 file (and the
 *      extra tensors' names are valid);
 *   2. the `format` attribute is TRAIN_CKPT_FORMAT or TRAIN_CKPT_FORMAT_1;
 *   3. epoch, step, rng, test_acc are single numbers in range;
 *   4. /param_table matches the model tensor by tensor (its row count is
 *      compared before anything is allocated for it);
 *   5. /params, /state and the optimizer's moments are float datasets of
 *      the model's sizes with finite values (read into buffers of our own),
 *      and the optimizer is the config's; so are the extra tensors asked
 *      for, of the caller's sizes (checkpoint_extra.c);
 *   6. only then are the buffers copied in. */
#include "checkpoint.h"

#include <hdf5.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint_internal.h"
#include "config.h"

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

/* Steps 2-3: the format and the counters. */
static dnas_status check_head(ckpt_in *in, train_ckpt_meta *meta) {
    dnas_status st = train_ckpt_check_format(in);
    if (st) return st;
    int64_t epoch, step;
    int has_acc;
    if ((st = train_ckpt_attr_num(in, "epoch", H5T_NATIVE_INT64, &epoch, 1, NULL)) ||
        (st = train_ckpt_attr_num(in, "step", H5T_NATIVE_INT64, &step, 1, NULL)) ||
        (st = train_ckpt_attr_num(in, "rng", H5T_NATIVE_UINT64, &meta->rng, 1, NULL)) ||
        (st = train_ckpt_attr_num(in, "test_acc", H5T_NATIVE_FLOAT, &meta->test_acc, 0, &has_acc)))
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
    dnas_status st = train_ckpt_attr_num(in, "optim_kind", H5T_NATIVE_INT64, &kind, 0, &found);
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
    if ((st = train_ckpt_attr_num(in, "optim_t", H5T_NATIVE_INT64, &steps, 1, NULL))) return st;
    if (steps < 0 || steps > LONG_MAX)
        return dnas_fail(in->err, DNAS_ERR_FORMAT,
                         "%s: attribute 'optim_t' is %lld: expected a step count >= 0", in->path,
                         (long long)steps);
    *t = (long)steps;
    if ((st = train_ckpt_read_floats(in, "optim/m", m, opt->n, model))) return st;
    if (opt->v && (st = train_ckpt_read_floats(in, "optim/v", v, opt->n, model))) return st;
    return DNAS_OK;
}

dnas_status train_ckpt_load_extra(const char *path, train_net *net, train_optim *opt,
                                  train_ckpt_meta *meta, const train_ckpt_tensor *extra,
                                  int nextra, dnas_error *err) {
    dnas_status st = train_ckpt_extra_check_names(extra, nextra, path, err);
    if (st) return st;
    ckpt_in in;
    if ((st = train_ckpt_open(&in, path, err))) return st;
    train_ckpt_meta mt;
    char model[TRAIN_NAME_LEN + 8];
    float *params = dnas_xmalloc((net->nparams ? net->nparams : 1) * sizeof(float));
    float *state = dnas_xmalloc((net->nstate ? net->nstate : 1) * sizeof(float));
    size_t no = opt ? opt->n : 0;
    float *m = dnas_xmalloc((no ? no : 1) * sizeof(float)),
          *v = dnas_xmalloc((no ? no : 1) * sizeof(float));
    float **bufs = dnas_xcalloc(nextra ? (size_t)nextra : 1, sizeof *bufs);
    for (int i = 0; i < nextra; i++)
        bufs[i] = dnas_xmalloc((extra[i].len ? extra[i].len : 1) * sizeof(float));
    long t = 0;
    st = check_head(&in, &mt);
    if (!st) st = train_ckpt_attr_str(&in, "model", model, sizeof model);
    if (!st && !model[0]) snprintf(model, sizeof model, "?");
    if (!st) st = check_table(&in, net, model);
    if (!st) st = train_ckpt_read_floats(&in, "params", params, net->nparams, model);
    if (!st) st = train_ckpt_read_floats(&in, "state", state, net->nstate, model);
    if (!st && opt) st = check_optim(&in, opt, model, m, v, &t);
    if (!st) st = train_ckpt_extra_read(&in, extra, nextra, bufs);
    if (!st) { /* 6. everything checked: copy in */
        memcpy(net->params, params, net->nparams * sizeof(float));
        memcpy(net->state, state, net->nstate * sizeof(float));
        if (opt) {
            memcpy(opt->m, m, no * sizeof(float));
            if (opt->v) memcpy(opt->v, v, no * sizeof(float));
            opt->t = t;
        }
        for (int i = 0; i < nextra; i++)
            if (extra[i].len) memcpy(extra[i].data, bufs[i], extra[i].len * sizeof(float));
        *meta = mt;
    }
    for (int i = 0; i < nextra; i++) free(bufs[i]);
    free(bufs), free(params), free(state), free(m), free(v);
    train_ckpt_close(&in);
    return st;
}

dnas_status train_ckpt_load(const char *path, train_net *net, train_optim *opt,
                            train_ckpt_meta *meta, dnas_error *err) {
    return train_ckpt_load_extra(path, net, opt, meta, NULL, 0, err);
}
