/* deploy_qnet_check: everything the evaluator, the HDF5 writer and the code
 * generators rely on, checked once, with a message naming the op or tensor
 * and what was expected. The kernels' own checks (dnas_rt_*_check) run
 * last, so a refusal there is already explained by a check here. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "qnet.h"

typedef struct {
    const deploy_qnet *q;
    const char *where;
    dnas_error *err;
} ctx;

static dnas_status tensor_fail(ctx *c, int i, dnas_status st, const char *what) {
    return dnas_fail(c->err, st, "%s: tensor %d '%s': %s", c->where, i, c->q->tensors[i].name,
                     what);
}

static dnas_status check_tensor(ctx *c, int i) {
    const deploy_qtensor *t = &c->q->tensors[i];
    char msg[256];
    if (!memchr(t->name, 0, sizeof t->name))
        return tensor_fail(c, i, DNAS_ERR_FORMAT, "name not terminated");
    if (t->h < 1 || t->w < 1 || t->c < 1 || t->h > DNAS_RT_DIM_MAX || t->w > DNAS_RT_DIM_MAX ||
        t->c > DNAS_RT_DIM_MAX || (int64_t)t->h * t->w * t->c > INT32_MAX) {
        snprintf(msg, sizeof msg,
                 "shape [%d][%d][%d]: expected each size in 1..%ld and at most 2^31 - 1 values",
                 t->h, t->w, t->c, (long)DNAS_RT_DIM_MAX);
        return tensor_fail(c, i, DNAS_ERR_SHAPE, msg);
    }
    if (t->bits < 2 || t->bits > 8 || (t->is_signed != 0 && t->is_signed != 1)) {
        snprintf(msg, sizeof msg, "bits %d, signed %d: expected bits 2..8 and signed 0 or 1",
                 t->bits, t->is_signed);
        return tensor_fail(c, i, DNAS_ERR_FORMAT, msg);
    }
    if (!isfinite(t->scale) || !(t->scale > 0)) {
        snprintf(msg, sizeof msg, "scale %g: expected a finite number > 0", (double)t->scale);
        return tensor_fail(c, i, DNAS_ERR_FORMAT, msg);
    }
    return DNAS_OK;
}

#define OP_FAIL(st, ...) op_fail(c, k, st, __VA_ARGS__)
__attribute__((format(printf, 4, 5))) static dnas_status op_fail(ctx *c, int k, dnas_status st,
                                                                 const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const deploy_qop *op = &c->q->ops[k];
    const char *kind = deploy_qop_kind_name(op->kind);
    return dnas_fail(c->err, st, "%s: op %d '%.*s' (%s): %s", c->where, k, DEPLOY_QNET_NAME_LEN,
                     op->name, kind ? kind : "?", msg);
}

static int same_shape(const deploy_qtensor *a, const deploy_qtensor *b) {
    return a->h == b->h && a->w == b->w && a->c == b->c;
}

/* Output sizes of a window op over I giving O. */
static dnas_status check_window(ctx *c, int k, const deploy_qtensor *I, const deploy_qtensor *O) {
    const deploy_qop *op = &c->q->ops[k];
    int32_t geo[] = {op->kh, op->kw, op->sh, op->sw, op->dh, op->dw};
    int32_t pad[] = {op->pt, op->pb, op->pl, op->pr};
    for (int j = 0; j < 6; j++)
        if (geo[j] < 1 || geo[j] > DNAS_RT_DIM_MAX)
            return OP_FAIL(DNAS_ERR_SHAPE,
                           "kernel %dx%d, stride %dx%d, dilation %dx%d: expected 1..%ld each",
                           op->kh, op->kw, op->sh, op->sw, op->dh, op->dw, (long)DNAS_RT_DIM_MAX);
    for (int j = 0; j < 4; j++)
        if (pad[j] < 0 || pad[j] > DNAS_RT_DIM_MAX)
            return OP_FAIL(DNAS_ERR_SHAPE, "padding %d,%d,%d,%d: expected 0..%ld each", op->pt,
                           op->pb, op->pl, op->pr, (long)DNAS_RT_DIM_MAX);
    int32_t ho = dnas_rt_conv_out_size(I->h, op->kh, op->sh, op->dh, op->pt, op->pb);
    int32_t wo = dnas_rt_conv_out_size(I->w, op->kw, op->sw, op->dw, op->pl, op->pr);
    if (O->h != ho || O->w != wo || ho < 1 || wo < 1)
        return OP_FAIL(DNAS_ERR_SHAPE, "output %dx%d, expected %dx%d from input %dx%d", O->h, O->w,
                       ho, wo, I->h, I->w);
    return DNAS_OK;
}

/* Weights, bias and multipliers of a conv / linear with k_terms terms per
 * output and cout channels, then the kernel's own check. */
static dnas_status check_weights(ctx *c, int k, const deploy_qtensor *I, const deploy_qtensor *O,
                                 int64_t k_terms) {
    const deploy_qop *op = &c->q->ops[k];
    if (op->wbits < 2 || op->wbits > 8)
        return OP_FAIL(DNAS_ERR_FORMAT, "wbits %d: expected 2..8", op->wbits);
    int64_t want = k_terms * O->c;
    if (!op->w || !op->m || (int64_t)op->wlen != want)
        return OP_FAIL(DNAS_ERR_SHAPE, "%zu weights%s: expected %lld and %d multipliers", op->wlen,
                       op->m ? "" : " and no multipliers", (long long)want, O->c);
    int32_t wmax = ((int32_t)1 << (op->wbits - 1)) - 1;
    for (size_t j = 0; j < op->wlen; j++)
        if (op->w[j] > wmax || op->w[j] < -wmax)
            return OP_FAIL(DNAS_ERR_FORMAT, "weight %zu is %d: expected -%d..%d at %d bits", j,
                           op->w[j], wmax, wmax, op->wbits);
    int64_t bmax = 0;
    for (int32_t j = 0; op->bias && j < O->c; j++) {
        int64_t b = op->bias[j] < 0 ? -(int64_t)op->bias[j] : op->bias[j];
        if (b > bmax) bmax = b;
    }
    int64_t bound = dnas_rt_acc_bound(k_terms, I->is_signed, op->wbits, bmax);
    if (bound > DNAS_RT_ACC_MAX)
        return OP_FAIL(
            DNAS_ERR_UNSUPPORTED,
            "%lld terms of %d-bit weights and %s input with |bias| up to %lld can leave int32 "
            "(bound %lld > 2^31 - 1)",
            (long long)k_terms, op->wbits, I->is_signed ? "int8" : "uint8", (long long)bmax,
            (long long)bound);
    return DNAS_OK;
}

static dnas_status check_rt(ctx *c, int k, dnas_rt_status rs) {
    if (rs == DNAS_RT_OK) return DNAS_OK;
    return OP_FAIL(DNAS_ERR_FORMAT, "the dnas_rt kernel check refuses it (status %d)", (int)rs);
}

static dnas_status check_op(ctx *c, int k, char *written) {
    const deploy_qnet *q = c->q;
    const deploy_qop *op = &q->ops[k];
    if (!memchr(op->name, 0, sizeof op->name))
        return OP_FAIL(DNAS_ERR_FORMAT, "name not terminated");
    if (!deploy_qop_kind_name(op->kind))
        return OP_FAIL(DNAS_ERR_FORMAT, "unknown kind %d", (int)op->kind);
    int nin = op->kind == DEPLOY_QOP_ADD ? 2 : 1;
    for (int j = 0; j < nin; j++) {
        if (op->in[j] < 0 || op->in[j] >= q->ntensors)
            return OP_FAIL(DNAS_ERR_FORMAT, "input tensor %d: expected 0..%d", op->in[j],
                           q->ntensors - 1);
        if (!written[op->in[j]])
            return OP_FAIL(DNAS_ERR_FORMAT, "reads tensor %d '%s' before any op writes it",
                           op->in[j], q->tensors[op->in[j]].name);
    }
    if (nin == 1 && op->in[1] != -1)
        return OP_FAIL(DNAS_ERR_FORMAT, "second input %d: expected -1", op->in[1]);
    if (op->out < 1 || op->out >= q->ntensors)
        return OP_FAIL(DNAS_ERR_FORMAT, "output tensor %d: expected 1..%d (tensor 0 is the input)",
                       op->out, q->ntensors - 1);
    if (written[op->out])
        return OP_FAIL(DNAS_ERR_FORMAT, "writes tensor %d '%s', which an earlier op writes",
                       op->out, q->tensors[op->out].name);
    written[op->out] = 1;
    int convlike = op->kind == DEPLOY_QOP_CONV || op->kind == DEPLOY_QOP_LINEAR;
    if (!convlike && (op->w || op->bias || op->m || op->wlen))
        return OP_FAIL(DNAS_ERR_FORMAT,
                       "has weights, bias or multipliers: only conv and linear take them");
    const deploy_qtensor *I = &q->tensors[op->in[0]], *O = &q->tensors[op->out];
    if (op->engine && !convlike)
        return OP_FAIL(DNAS_ERR_FORMAT, "has per-channel engines: only conv and linear take them");
    for (int ch = 0; op->engine && ch < O->c; ch++)
        if (op->engine[ch] < 0 || op->engine[ch] >= q->nengines)
            return OP_FAIL(DNAS_ERR_FORMAT, "channel %d: engine %d: expected 0..%d (the qnet's %d engine names)",
                           ch, op->engine[ch], q->nengines - 1, q->nengines);
    int32_t lo, hi;
    deploy_qtensor_range(O, &lo, &hi);
    int copies = op->kind == DEPLOY_QOP_MAXPOOL || op->kind == DEPLOY_QOP_FLATTEN;
    if (copies) {
        if (O->is_signed != I->is_signed || O->bits != I->bits || O->scale != I->scale)
            return OP_FAIL(DNAS_ERR_FORMAT,
                           "output tensor '%s' must keep the input's signedness, bits and "
                           "scale (it copies values)",
                           O->name);
    } else if (op->lo < lo || op->hi > hi || op->lo > op->hi || op->shift < 0 ||
               op->shift > DNAS_RT_SHIFT_MAX) {
        return OP_FAIL(DNAS_ERR_FORMAT,
                       "clamp %d..%d, shift %d: expected %d <= lo <= hi <= %d (tensor '%s') "
                       "and shift 0..%d",
                       op->lo, op->hi, op->shift, lo, hi, O->name, DNAS_RT_SHIFT_MAX);
    }
    dnas_status st;
    switch (op->kind) {
    case DEPLOY_QOP_CONV: {
        if (op->groups < 1 || I->c % op->groups || O->c % op->groups)
            return OP_FAIL(DNAS_ERR_SHAPE, "groups %d must divide %d input and %d output channels",
                           op->groups, I->c, O->c);
        if ((st = check_window(c, k, I, O))) return st;
        if ((st = check_weights(c, k, I, O, (int64_t)op->kh * op->kw * (I->c / op->groups))))
            return st;
        dnas_rt_weights w = {op->w, op->wbits, DNAS_RT_PACK_INT8};
        dnas_rt_requant_params rq = {op->m, op->shift, op->lo, op->hi};
        dnas_rt_conv_dims d = deploy_qop_conv_dims(op, I, O);
        return check_rt(c, k, dnas_rt_conv2d_check(&w, op->bias, &rq, &d));
    }
    case DEPLOY_QOP_LINEAR: {
        if (O->h != 1 || O->w != 1)
            return OP_FAIL(DNAS_ERR_SHAPE, "output [%d][%d][%d]: expected [1][1][Cout]", O->h, O->w,
                           O->c);
        if ((st = check_weights(c, k, I, O, (int64_t)deploy_qtensor_size(I)))) return st;
        dnas_rt_weights w = {op->w, op->wbits, DNAS_RT_PACK_INT8};
        dnas_rt_requant_params rq = {op->m, op->shift, op->lo, op->hi};
        dnas_rt_linear_dims d = {(int32_t)deploy_qtensor_size(I), O->c, I->is_signed, O->is_signed};
        return check_rt(c, k, dnas_rt_linear_check(&w, op->bias, &rq, &d));
    }
    case DEPLOY_QOP_ADD: {
        const deploy_qtensor *B = &q->tensors[op->in[1]];
        if (!same_shape(I, O) || !same_shape(B, O))
            return OP_FAIL(DNAS_ERR_SHAPE,
                           "inputs [%d][%d][%d] and [%d][%d][%d], output [%d][%d][%d]: "
                           "expected one shape",
                           I->h, I->w, I->c, B->h, B->w, B->c, O->h, O->w, O->c);
        return DNAS_OK;
    }
    case DEPLOY_QOP_MAXPOOL:
    case DEPLOY_QOP_AVGPOOL:
        if (O->c != I->c)
            return OP_FAIL(DNAS_ERR_SHAPE, "%d output channels, expected %d", O->c, I->c);
        if (op->dh != 1 || op->dw != 1)
            return OP_FAIL(DNAS_ERR_SHAPE, "dilation %dx%d: expected 1x1", op->dh, op->dw);
        if ((st = check_window(c, k, I, O))) return st;
        if (op->pt >= op->kh || op->pb >= op->kh || op->pl >= op->kw || op->pr >= op->kw)
            return OP_FAIL(DNAS_ERR_SHAPE,
                           "padding %d,%d,%d,%d: expected each narrower than the %dx%d window",
                           op->pt, op->pb, op->pl, op->pr, op->kh, op->kw);
        if (op->kind == DEPLOY_QOP_AVGPOOL && (int64_t)op->kh * op->kw * 255 > INT32_MAX)
            return OP_FAIL(DNAS_ERR_UNSUPPORTED, "window %dx%d: its sum can leave int32", op->kh,
                           op->kw);
        return DNAS_OK;
    case DEPLOY_QOP_GAVGPOOL:
        if (O->h != 1 || O->w != 1 || O->c != I->c)
            return OP_FAIL(DNAS_ERR_SHAPE, "output [%d][%d][%d]: expected [1][1][%d]", O->h, O->w,
                           O->c, I->c);
        if ((int64_t)I->h * I->w * 255 > INT32_MAX)
            return OP_FAIL(DNAS_ERR_UNSUPPORTED, "%dx%d cells: their sum can leave int32", I->h,
                           I->w);
        return DNAS_OK;
    case DEPLOY_QOP_FLATTEN:
        if (O->h != 1 || O->w != 1 || (size_t)O->c != deploy_qtensor_size(I))
            return OP_FAIL(DNAS_ERR_SHAPE, "output [%d][%d][%d]: expected [1][1][%zu]", O->h, O->w,
                           O->c, deploy_qtensor_size(I));
        return DNAS_OK;
    case DEPLOY_QOP_COUNT_: break;
    }
    return OP_FAIL(DNAS_ERR_FORMAT, "unknown kind");
}

/* The recorded input preprocessing against the input tensor. */
static dnas_status check_input(const ctx *c) {
    const deploy_qnet_input *in = &c->q->input;
    const deploy_qtensor *t = &c->q->tensors[0];
    if (!in->recorded) return DNAS_OK;
    if (in->rows && t->h != 1)
        return dnas_fail(c->err, DNAS_ERR_FORMAT,
                         "%s: input preprocessing: layout rows (images read as sequences) but the "
                         "input is [%d][%d][%d]: expected [1][W][C]",
                         c->where, t->h, t->w, t->c);
    if (in->c == 0) return DNAS_OK;
    if (in->c != t->c || !in->mean || !in->std)
        return dnas_fail(c->err, DNAS_ERR_FORMAT,
                         "%s: input preprocessing: %d normalization channels: expected %d (the "
                         "input's)",
                         c->where, in->c, t->c);
    for (int k = 0; k < in->c; k++)
        if (!isfinite(in->mean[k]) || !isfinite(in->std[k]) || !(in->std[k] > 0))
            return dnas_fail(c->err, DNAS_ERR_FORMAT,
                             "%s: input preprocessing: channel %d has mean %g, std %g: expected "
                             "finite values, std > 0",
                             c->where, k, (double)in->mean[k], (double)in->std[k]);
    return DNAS_OK;
}

dnas_status deploy_qnet_check(const deploy_qnet *q, const char *where, dnas_error *err) {
    ctx c = {q, where ? where : q->name, err};
    if (q->ntensors < 1 || q->ntensors > DEPLOY_QNET_MAX_ITEMS || q->nops < 0 ||
        q->nops > DEPLOY_QNET_MAX_ITEMS)
        return dnas_fail(err, DNAS_ERR_FORMAT,
                         "%s: %d tensors and %d ops: expected 1..%d tensors and 0..%d ops", c.where,
                         q->ntensors, q->nops, DEPLOY_QNET_MAX_ITEMS, DEPLOY_QNET_MAX_ITEMS);
    dnas_status st;
    for (int e = 0; e < DEPLOY_QNET_MAX_ENGINES; e++) {
        int b = q->engine_in_bits[e];
        if (b && (e >= q->nengines || b < 2 || b > 7))
            return dnas_fail(err, DNAS_ERR_FORMAT,
                             "%s: engine %d%s%s%s: input bits %d: expected 0 (none) or 2..7 for "
                             "one of the %d engine names",
                             c.where, e, e < q->nengines ? " '" : "",
                             e < q->nengines ? q->engines[e] : "", e < q->nengines ? "'" : "", b,
                             q->nengines);
    }
    for (int i = 0; i < q->ntensors; i++)
        if ((st = check_tensor(&c, i))) return st;
    if (q->output < 0 || q->output >= q->ntensors)
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: output tensor %d: expected 0..%d", c.where,
                         q->output, q->ntensors - 1);
    if ((st = check_input(&c))) return st;
    char *written = dnas_xcalloc((size_t)q->ntensors, 1);
    written[0] = 1;
    st = DNAS_OK;
    for (int k = 0; k < q->nops && !st; k++)
        st = check_op(&c, k, written);
    for (int i = 0; i < q->ntensors && !st; i++)
        if (!written[i])
            st = tensor_fail(&c, i, DNAS_ERR_FORMAT,
                             "no op writes it (every tensor but the input is some op's output)");
    free(written);
    return st;
}
