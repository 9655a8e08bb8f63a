#include "checkpoint.h"

#include "dnas_build_info.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

#define NAME_FIELD 72

typedef struct {
    char name[NAME_FIELD];
    uint64_t offset, length;
} param_row;

static void quiet_hdf5(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static int write_floats(hid_t loc, const char *name, const float *data, size_t n) {
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(loc, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = ds >= 0 && (n == 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    return ok;
}

static int write_attr_str(hid_t loc, const char *name, const char *s) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(s) + 1);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, type, s) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    return ok;
}

static int write_attr_num(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *v) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, mem_type, v) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return ok;
}

static char *read_text_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = dnas_xmalloc(n > 0 ? (size_t)n + 1 : 1);
    size_t r = n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
    buf[r] = 0;
    fclose(f);
    return buf;
}

dnas_status train_ckpt_save(const char *path, const train_net *net, const train_optim *opt,
                             const train_ckpt_meta *meta, const char *config_text,
                             dnas_error *err) {
    quiet_hdf5();
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot create checkpoint (does the directory exist and is it writable?)", tmp);
    int ok = 1;
    ok &= write_floats(f, "params", net->params, net->nparams);
    ok &= write_floats(f, "state", net->state, net->nstate);

    hid_t strt = H5Tcopy(H5T_C_S1);
    H5Tset_size(strt, NAME_FIELD);
    hid_t rowt = H5Tcreate(H5T_COMPOUND, sizeof(param_row));
    H5Tinsert(rowt, "name", HOFFSET(param_row, name), strt);
    H5Tinsert(rowt, "offset", HOFFSET(param_row, offset), H5T_NATIVE_UINT64);
    H5Tinsert(rowt, "length", HOFFSET(param_row, length), H5T_NATIVE_UINT64);
    param_row *rows = dnas_xcalloc((size_t)net->nparam_table, sizeof *rows);
    for (int i = 0; i < net->nparam_table; i++) {
        snprintf(rows[i].name, NAME_FIELD, "%s", net->param_table[i].name);
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
            ok &= write_floats(g, "m", opt->m, opt->n);
            if (opt->v) ok &= write_floats(g, "v", opt->v, opt->n);
            H5Gclose(g);
        }
        long t = opt->t;
        ok &= write_attr_num(f, "optim_t", H5T_STD_I64LE, H5T_NATIVE_LONG, &t);
        int kind = (int)opt->p.kind;
        ok &= write_attr_num(f, "optim_kind", H5T_STD_I32LE, H5T_NATIVE_INT, &kind);
        ok &= write_attr_str(f, "optimizer", train_optim_kind_name(opt->p.kind));
    }
    ok &= write_attr_str(f, "format", "dnas-checkpoint-1");
    ok &= write_attr_str(f, "version", DNAS_VERSION);
    ok &= write_attr_str(f, "commit", DNAS_GIT_COMMIT);
    ok &= write_attr_str(f, "model", net->name);
    ok &= write_attr_num(f, "epoch", H5T_STD_I32LE, H5T_NATIVE_INT, &meta->epoch);
    ok &= write_attr_num(f, "step", H5T_STD_I64LE, H5T_NATIVE_LONG, &meta->step);
    ok &= write_attr_num(f, "rng", H5T_STD_U64LE, H5T_NATIVE_UINT64, &meta->rng);
    ok &= write_attr_num(f, "test_acc", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &meta->test_acc);
    ok &= write_attr_str(f, "config", config_text ? config_text : "");
    char *model_text = read_text_file(net->path);
    ok &= write_attr_str(f, "model_yaml", model_text ? model_text : "");
    free(model_text);
    ok &= H5Fclose(f) >= 0;
    if (!ok) {
        remove(tmp);
        return dnas_fail(err, DNAS_ERR_IO, "%s: writing the checkpoint failed (disk full?)", tmp);
    }
    if (rename(tmp, path) != 0)
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    return DNAS_OK;
}

static int read_floats(hid_t loc, const char *name, float *dst, size_t n) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return 0;
    hid_t space = H5Dget_space(ds);
    hssize_t count = H5Sget_simple_extent_npoints(space);
    int ok = count == (hssize_t)n &&
             (n == 0 || H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) >= 0);
    H5Sclose(space);
    H5Dclose(ds);
    return ok;
}

static int read_attr(hid_t loc, const char *name, hid_t mem_type, void *v) {
    if (H5Aexists(loc, name) <= 0) return 0;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    int ok = a >= 0 && H5Aread(a, mem_type, v) >= 0;
    if (a >= 0) H5Aclose(a);
    return ok;
}

dnas_status train_ckpt_load(const char *path, train_net *net, train_optim *opt,
                             train_ckpt_meta *meta, dnas_error *err) {
    quiet_hdf5();
    FILE *probe = fopen(path, "rb");
    if (!probe) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    fclose(probe);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return dnas_fail(err, DNAS_ERR_FORMAT, "%s: not an HDF5 file (corrupt or truncated checkpoint?)", path);
    dnas_status st = DNAS_OK;
    param_row *rows = NULL;
    hid_t strt = -1, rowt = -1;

    if (!read_attr(f, "epoch", H5T_NATIVE_INT, &meta->epoch) ||
        !read_attr(f, "step", H5T_NATIVE_LONG, &meta->step) ||
        !read_attr(f, "rng", H5T_NATIVE_UINT64, &meta->rng)) {
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: not a dnas checkpoint (missing epoch/step/rng attributes)", path);
        goto done;
    }
    if (!read_attr(f, "test_acc", H5T_NATIVE_FLOAT, &meta->test_acc)) meta->test_acc = -1;

    /* the parameter table must match the network slice by slice */
    hid_t ds = H5Dopen2(f, "param_table", H5P_DEFAULT);
    if (ds < 0) {
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: missing /param_table", path);
        goto done;
    }
    hid_t space = H5Dget_space(ds);
    hssize_t nrows = H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    strt = H5Tcopy(H5T_C_S1);
    H5Tset_size(strt, NAME_FIELD);
    rowt = H5Tcreate(H5T_COMPOUND, sizeof(param_row));
    H5Tinsert(rowt, "name", HOFFSET(param_row, name), strt);
    H5Tinsert(rowt, "offset", HOFFSET(param_row, offset), H5T_NATIVE_UINT64);
    H5Tinsert(rowt, "length", HOFFSET(param_row, length), H5T_NATIVE_UINT64);
    rows = dnas_xcalloc(nrows > 0 ? (size_t)nrows : 1, sizeof *rows);
    int rok = nrows == 0 || H5Dread(ds, rowt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0;
    H5Dclose(ds);
    if (!rok) {
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: cannot read /param_table", path);
        goto done;
    }
    if (nrows != net->nparam_table) {
        st = dnas_fail(err, DNAS_ERR_SHAPE, "%s: checkpoint has %lld parameter tensors, model '%s' has %d",
                        path, (long long)nrows, net->name, net->nparam_table);
        goto done;
    }
    for (int i = 0; i < net->nparam_table; i++) {
        const train_param *p = &net->param_table[i];
        if (strcmp(rows[i].name, p->name) || rows[i].length != p->len || rows[i].offset != p->off) {
            st = dnas_fail(err, DNAS_ERR_SHAPE, "%s: parameter %d is '%s' (%llu values) in the checkpoint but '%s' (%zu values) in model '%s'",
                            path, i, rows[i].name, (unsigned long long)rows[i].length, p->name, p->len, net->name);
            goto done;
        }
    }
    if (!read_floats(f, "params", net->params, net->nparams) ||
        !read_floats(f, "state", net->state, net->nstate)) {
        st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: /params or /state missing or of the wrong size", path);
        goto done;
    }
    if (opt) {
        long t = 0;
        int kind = -1;
        if (!read_attr(f, "optim_kind", H5T_NATIVE_INT, &kind) || kind != (int)opt->p.kind) {
            st = dnas_fail(err, DNAS_ERR_CONFIG,
                            "%s: the checkpoint holds %s optimizer state but the config asks for %s "
                            "(resume with the optimizer it was trained with)",
                            path, kind >= 0 ? train_optim_kind_name((train_optim_kind)kind) : "no",
                            train_optim_kind_name(opt->p.kind));
            goto done;
        }
        if (!read_attr(f, "optim_t", H5T_NATIVE_LONG, &t) || !read_floats(f, "optim/m", opt->m, opt->n) ||
            (opt->v && !read_floats(f, "optim/v", opt->v, opt->n))) {
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: optimizer state missing or of another optimizer", path);
            goto done;
        }
        opt->t = t;
    }
done:
    free(rows);
    if (rowt >= 0) H5Tclose(rowt);
    if (strt >= 0) H5Tclose(strt);
    H5Fclose(f);
    return st;
}
