/* Writing a qnet to HDF5 (layout in docs/deploy.md, "The integer network"):
 * a group holding two compound tables (tensors, ops) and three flat arrays
 * (weights int8, bias int32, multipliers int32) that the ops' offsets
 * index, so h5py or pandas read each table in one line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dnas_build_info.h"
#include "qnet_h5_internal.h"

void deploy_qnet_types_create(qnet_types *t) {
    t->name_t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t->name_t, DEPLOY_QNET_NAME_LEN);
    t->kind_t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t->kind_t, QNET_KIND_LEN);
    t->tensor_t = H5Tcreate(H5T_COMPOUND, sizeof(qnet_tensor_row));
#define TF(field, name, type) H5Tinsert(t->tensor_t, name, HOFFSET(qnet_tensor_row, field), type)
    TF(name, "name", t->name_t);
    TF(h, "h", H5T_NATIVE_INT32);
    TF(w, "w", H5T_NATIVE_INT32);
    TF(c, "c", H5T_NATIVE_INT32);
    TF(is_signed, "signed", H5T_NATIVE_INT32);
    TF(bits, "bits", H5T_NATIVE_INT32);
    TF(scale, "scale", H5T_NATIVE_FLOAT);
#undef TF
    t->op_t = H5Tcreate(H5T_COMPOUND, sizeof(qnet_op_row));
#define OF(field, type) H5Tinsert(t->op_t, #field, HOFFSET(qnet_op_row, field), type)
    OF(name, t->name_t);
    OF(kind, t->kind_t);
    OF(in0, H5T_NATIVE_INT32);
    OF(in1, H5T_NATIVE_INT32);
    OF(out, H5T_NATIVE_INT32);
    OF(kh, H5T_NATIVE_INT32);
    OF(kw, H5T_NATIVE_INT32);
    OF(sh, H5T_NATIVE_INT32);
    OF(sw, H5T_NATIVE_INT32);
    OF(dh, H5T_NATIVE_INT32);
    OF(dw, H5T_NATIVE_INT32);
    OF(pt, H5T_NATIVE_INT32);
    OF(pb, H5T_NATIVE_INT32);
    OF(pl, H5T_NATIVE_INT32);
    OF(pr, H5T_NATIVE_INT32);
    OF(groups, H5T_NATIVE_INT32);
    OF(wbits, H5T_NATIVE_INT32);
    OF(shift, H5T_NATIVE_INT32);
    OF(lo, H5T_NATIVE_INT32);
    OF(hi, H5T_NATIVE_INT32);
    OF(ma, H5T_NATIVE_INT32);
    OF(mb, H5T_NATIVE_INT32);
    OF(w_off, H5T_NATIVE_INT64);
    OF(w_len, H5T_NATIVE_INT64);
    OF(b_off, H5T_NATIVE_INT64);
    OF(m_off, H5T_NATIVE_INT64);
#undef OF
}

void deploy_qnet_types_close(qnet_types *t) {
    H5Tclose(t->op_t);
    H5Tclose(t->tensor_t);
    H5Tclose(t->kind_t);
    H5Tclose(t->name_t);
}

static int write_attr_num(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, mtype, v) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return ok;
}

/* A 1-D float32 attribute of n >= 1 values. */
static int write_attr_floats(hid_t loc, const char *name, const float *v, int n) {
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t a = H5Acreate2(loc, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_FLOAT, v) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return ok;
}

/* The input preprocessing, when recorded: `input_layout` ("chw" or
 * "rows"), and `input_mean`, `input_std` (float32 [C]) when normalized. */
static int write_input(hid_t g, const deploy_qnet_input *in) {
    if (!in->recorded) return 1;
    int ok = dnas_h5_write_attr_str(g, "input_layout", in->rows ? "rows" : "chw");
    if (in->c > 0)
        ok = ok && write_attr_floats(g, "input_mean", in->mean, in->c) &&
             write_attr_floats(g, "input_std", in->std, in->c);
    return ok;
}

/* A 1-D dataset of n values (n may be 0). */
static int write_array(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *data,
                       size_t n) {
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = ds >= 0 && (n == 0 || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
    return ok;
}

/* The rows and arrays of q (checked), then the datasets. */
static int write_group(hid_t g, const deploy_qnet *q) {
    qnet_tensor_row *tr = dnas_xcalloc((size_t)q->ntensors, sizeof *tr);
    qnet_op_row *orow = dnas_xcalloc(q->nops ? (size_t)q->nops : 1, sizeof *orow);
    size_t nw = 0, nb = 0, nm = 0;
    for (int k = 0; k < q->nops; k++) {
        const deploy_qop *op = &q->ops[k];
        size_t cout = op->m ? (size_t)q->tensors[op->out].c : 0;
        nw += op->wlen;
        nb += op->bias ? cout : 0;
        nm += cout;
    }
    int8_t *w = dnas_xmalloc(nw ? nw : 1), *ce = dnas_xmalloc(nm ? nm : 1);
    int has_engines = 0;
    int32_t *b = dnas_xmalloc((nb ? nb : 1) * sizeof *b),
            *m = dnas_xmalloc((nm ? nm : 1) * sizeof *m);
    for (int i = 0; i < q->ntensors; i++) {
        const deploy_qtensor *t = &q->tensors[i];
        tr[i] = (qnet_tensor_row){.h = t->h,
                                  .w = t->w,
                                  .c = t->c,
                                  .is_signed = t->is_signed,
                                  .bits = t->bits,
                                  .scale = t->scale};
        memcpy(tr[i].name, t->name, sizeof tr[i].name);
    }
    nw = nb = nm = 0;
    for (int k = 0; k < q->nops; k++) {
        const deploy_qop *op = &q->ops[k];
        qnet_op_row *r = &orow[k];
        memcpy(r->name, op->name, sizeof r->name);
        snprintf(r->kind, sizeof r->kind, "%s", deploy_qop_kind_name(op->kind));
        r->in0 = op->in[0], r->in1 = op->in[1], r->out = op->out;
        r->kh = op->kh, r->kw = op->kw, r->sh = op->sh, r->sw = op->sw, r->dh = op->dh,
        r->dw = op->dw;
        r->pt = op->pt, r->pb = op->pb, r->pl = op->pl, r->pr = op->pr, r->groups = op->groups;
        r->wbits = op->wbits, r->shift = op->shift, r->lo = op->lo, r->hi = op->hi;
        r->ma = op->ma, r->mb = op->mb;
        r->w_off = r->b_off = r->m_off = -1;
        r->w_len = 0;
        if (!op->m) continue;
        size_t cout = (size_t)q->tensors[op->out].c;
        r->w_off = (int64_t)nw, r->w_len = (int64_t)op->wlen;
        memcpy(w + nw, op->w, op->wlen);
        nw += op->wlen;
        r->m_off = (int64_t)nm;
        memcpy(m + nm, op->m, cout * sizeof *m);
        for (size_t c = 0; c < cout; c++) ce[nm + c] = op->engine ? op->engine[c] : -1;
        has_engines |= op->engine != NULL;
        nm += cout;
        if (op->bias) {
            r->b_off = (int64_t)nb;
            memcpy(b + nb, op->bias, cout * sizeof *b);
            nb += cout;
        }
    }
    qnet_types ty;
    deploy_qnet_types_create(&ty);
    int ok = write_array(g, "tensors", ty.tensor_t, ty.tensor_t, tr, (size_t)q->ntensors);
    ok &= write_array(g, "ops", ty.op_t, ty.op_t, orow, (size_t)q->nops);
    ok &= write_array(g, "weights", H5T_STD_I8LE, H5T_NATIVE_INT8, w, nw);
    ok &= write_array(g, "bias", H5T_STD_I32LE, H5T_NATIVE_INT32, b, nb);
    ok &= write_array(g, "multipliers", H5T_STD_I32LE, H5T_NATIVE_INT32, m, nm);
    if (has_engines) { /* aligned with multipliers: one per output channel, -1 where not recorded */
        char names[DEPLOY_QNET_MAX_ENGINES * DEPLOY_QNET_ENGINE_LEN] = "";
        for (int k = 0; k < q->nengines; k++) {
            if (k) strcat(names, ",");
            strcat(names, q->engines[k]);
        }
        ok &= write_array(g, "channel_engines", H5T_STD_I8LE, H5T_NATIVE_INT8, ce, nm);
        ok &= dnas_h5_write_attr_str(g, "engines", names);
        int sat = 0;
        char bits[DEPLOY_QNET_MAX_ENGINES * 4] = "";
        for (int k = 0; k < q->nengines; k++) {
            snprintf(bits + strlen(bits), sizeof bits - strlen(bits), "%s%d", k ? "," : "",
                     q->engine_in_bits[k]);
            sat |= q->engine_in_bits[k] != 0;
        }
        if (sat) ok &= dnas_h5_write_attr_str(g, "engine_input_bits", bits);
    }
    int32_t out = q->output;
    ok &= dnas_h5_write_attr_str(g, "format", DEPLOY_QNET_FORMAT);
    ok &= dnas_h5_write_attr_str(g, "name", q->name);
    ok &= write_attr_num(g, "output", H5T_STD_I32LE, H5T_NATIVE_INT32, &out);
    ok &= write_input(g, &q->input);
    deploy_qnet_types_close(&ty);
    free(tr), free(orow), free(w), free(b), free(m), free(ce);
    return ok;
}

/* A network that fails deploy_qnet_check is a caller bug's result, not a
 * file's: DNAS_ERR_INVALID with the check's message. */
static dnas_status not_written(dnas_error *err) {
    char why[DNAS_ERROR_LEN];
    snprintf(why, sizeof why, "%s", err->msg);
    return dnas_fail(err, DNAS_ERR_INVALID, "not written: %.8000s", why);
}

dnas_status deploy_qnet_write(hid_t loc, const char *group, const deploy_qnet *q, const char *where,
                              dnas_error *err) {
    dnas_status st = deploy_qnet_check(q, where, err);
    if (st) return not_written(err);
    dnas_h5_quiet quiet;
    dnas_h5_quiet_on(&quiet);
    hid_t g = H5Gcreate2(loc, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = g >= 0 && write_group(g, q);
    if (g >= 0) ok &= H5Gclose(g) >= 0;
    dnas_h5_quiet_off(&quiet);
    if (!ok)
        return dnas_fail(err, DNAS_ERR_IO, "%s: writing the integer network to group %s failed%s",
                         where, group, g < 0 ? " (does it exist already?)" : " (disk full?)");
    return DNAS_OK;
}

dnas_status deploy_qnet_save(const char *path, const deploy_qnet *q, const deploy_quant_info *info,
                             dnas_error *err) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return dnas_fail(err, DNAS_ERR_IO, "%s: path longer than %d characters", path,
                         (int)sizeof tmp - 5);
    dnas_status st = deploy_qnet_check(q, path, err);
    if (st) return not_written(err);
    dnas_h5_quiet quiet;
    dnas_h5_quiet_on(&quiet);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    dnas_h5_quiet_off(&quiet);
    if (f < 0)
        return dnas_fail(err, DNAS_ERR_IO,
                         "%s: cannot create the file (does the directory exist and is it "
                         "writable?)",
                         tmp);
    st = deploy_qnet_write(f, "qnet", q, tmp, err);
    dnas_h5_quiet_on(&quiet);
    int ok = !st;
    double fa = info ? info->float_acc : -1, ia = info ? info->int_acc : -1;
    ok = ok && dnas_h5_write_attr_str(f, "format", DEPLOY_QUANT_FORMAT) &&
         dnas_h5_write_attr_str(f, "version", DNAS_VERSION) &&
         dnas_h5_write_attr_str(f, "commit", DNAS_GIT_COMMIT) &&
         dnas_h5_write_attr_str(f, "source", info && info->source ? info->source : "") &&
         write_attr_num(f, "float_acc", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &fa) &&
         write_attr_num(f, "int_acc", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &ia);
    ok &= H5Fclose(f) >= 0;
    dnas_h5_quiet_off(&quiet);
    if (!ok) {
        remove(tmp);
        return st ? st
                  : dnas_fail(err, DNAS_ERR_IO, "%s: writing the file failed (disk full?)", tmp);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp,
                         strerror(e));
    }
    return DNAS_OK;
}
