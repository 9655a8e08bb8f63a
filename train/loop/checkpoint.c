/* Writing checkpoints (layout in checkpoint.h; reading in checkpoint_load.c,
 * extra tensors in checkpoint_extra.c). */
#include "checkpoint.h"

#include "dnas_build_info.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint_internal.h"
#include "dnas_h5.h"

static dnas_status save(const char *path, const train_net *net, const train_optim *opt,
                        const train_ckpt_meta *meta, const char *config_text,
                        const train_ckpt_tensor *extra, int nextra, dnas_error *err) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return dnas_fail(err, DNAS_ERR_IO, "%s: checkpoint path longer than %d characters", path,
                         (int)sizeof tmp - 5);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return dnas_fail(err, DNAS_ERR_IO,
                         "%s: cannot create checkpoint (does the directory exist and is it writable?)", tmp);
    int ok = 1;
    ok &= dnas_h5_write_floats(f, "params", net->params, net->nparams);
    ok &= dnas_h5_write_floats(f, "state", net->state, net->nstate);

    hid_t strt, rowt = train_ckpt_row_type(&strt);
    train_ckpt_row *rows = dnas_xcalloc((size_t)net->nparam_table, sizeof *rows);
    for (int i = 0; i < net->nparam_table; i++) {
        snprintf(rows[i].name, TRAIN_CKPT_NAME_FIELD, "%s", net->param_table[i].name);
        rows[i].offset = net->param_table[i].off;
        rows[i].length = net->param_table[i].len;
    }
    hsize_t dims[1] = {(hsize_t)net->nparam_table};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(f, "param_table", rowt, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ok &= ds >= 0 && (net->nparam_table == 0 || H5Dwrite(ds, rowt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    H5Tclose(rowt);
    H5Tclose(strt);
    free(rows);

    if (opt) {
        hid_t g = H5Gcreate2(f, "optim", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        ok &= g >= 0;
        if (g >= 0) {
            ok &= dnas_h5_write_floats(g, "m", opt->m, opt->n);
            if (opt->v) ok &= dnas_h5_write_floats(g, "v", opt->v, opt->n);
            H5Gclose(g);
        }
        long t = opt->t;
        ok &= dnas_h5_write_attr_nums(f, "optim_t", H5T_STD_I64LE, H5T_NATIVE_LONG, &t, 1);
        int kind = (int)opt->p.kind;
        ok &= dnas_h5_write_attr_nums(f, "optim_kind", H5T_STD_I32LE, H5T_NATIVE_INT, &kind, 1);
        ok &= dnas_h5_write_attr_str(f, "optimizer", train_optim_kind_name(opt->p.kind));
    }
    ok &= train_ckpt_extra_write(f, extra, nextra);
    ok &= dnas_h5_write_attr_str(f, "format", TRAIN_CKPT_FORMAT);
    ok &= dnas_h5_write_attr_str(f, "version", DNAS_VERSION);
    ok &= dnas_h5_write_attr_str(f, "commit", DNAS_GIT_COMMIT);
    ok &= dnas_h5_write_attr_str(f, "model", net->name);
    ok &= dnas_h5_write_attr_nums(f, "epoch", H5T_STD_I32LE, H5T_NATIVE_INT, &meta->epoch, 1);
    ok &= dnas_h5_write_attr_nums(f, "step", H5T_STD_I64LE, H5T_NATIVE_LONG, &meta->step, 1);
    ok &= dnas_h5_write_attr_nums(f, "rng", H5T_STD_U64LE, H5T_NATIVE_UINT64, &meta->rng, 1);
    ok &= dnas_h5_write_attr_nums(f, "test_acc", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &meta->test_acc, 1);
    ok &= dnas_h5_write_text(f, "config_yaml", config_text ? config_text : "");
    ok &= dnas_h5_write_text(f, "model_yaml", net->text ? net->text : "");
    ok &= H5Fclose(f) >= 0;
    if (!ok) {
        remove(tmp);
        return dnas_fail(err, DNAS_ERR_IO, "%s: writing the checkpoint failed (disk full?)", tmp);
    }
    if (rename(tmp, path) != 0)
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    return DNAS_OK;
}

dnas_status train_ckpt_save_extra(const char *path, const train_net *net, const train_optim *opt,
                                  const train_ckpt_meta *meta, const char *config_text,
                                  const train_ckpt_tensor *extra, int nextra, dnas_error *err) {
    dnas_status st = train_ckpt_extra_check_names(extra, nextra, path, err);
    if (st) return st;
    /* HDF5's own error stack printing off while saving (our message says
     * what failed), then back as it was */
    dnas_h5_quiet q;
    dnas_h5_quiet_on(&q);
    st = save(path, net, opt, meta, config_text, extra, nextra, err);
    dnas_h5_quiet_off(&q);
    return st;
}

dnas_status train_ckpt_save(const char *path, const train_net *net, const train_optim *opt,
                            const train_ckpt_meta *meta, const char *config_text, dnas_error *err) {
    return train_ckpt_save_extra(path, net, opt, meta, config_text, NULL, 0, err);
}
