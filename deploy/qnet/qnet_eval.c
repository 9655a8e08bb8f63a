/* The qnet evaluator: float input quantized into HWC bytes, then every op
 * in schedule order as one dnas_rt kernel call, sample by sample. The
 * kernels are the deployed code's, so these integer outputs are the
 * deployed network's (bit for bit, whatever the target). */
#include <math.h>
#include <string.h>

#include "qnet.h"

dnas_status deploy_qeval_init(deploy_qeval *ev, const deploy_qnet *q, const char *where,
                              dnas_error *err) {
    memset(ev, 0, sizeof *ev);
    dnas_status st = deploy_qnet_check(q, where, err);
    if (st) return st;
    ev->q = q;
    ev->buf = dnas_xcalloc((size_t)q->ntensors, sizeof *ev->buf);
    size_t most = 1;
    for (int i = 0; i < q->ntensors; i++) {
        size_t n = deploy_qtensor_size(&q->tensors[i]);
        ev->buf[i] = dnas_xcalloc(n, 1);
        most = n > most ? n : most;
    }
    ev->sat = dnas_xcalloc(most, 1);
    ev->alt = dnas_xcalloc(most, 1);
    return DNAS_OK;
}

void deploy_qeval_free(deploy_qeval *ev) {
    if (ev->buf)
        for (int i = 0; i < ev->q->ntensors; i++)
            free(ev->buf[i]);
    free(ev->buf);
    free(ev->sat);
    free(ev->alt);
    memset(ev, 0, sizeof *ev);
}

int32_t deploy_qnet_quantize(const deploy_qtensor *t, float x) {
    int32_t lo, hi;
    deploy_qtensor_range(t, &lo, &hi);
    if (x != x) return 0; /* 0 lies in every tensor's range */
    double v = floor((double)x / (double)t->scale + 0.5);
    return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

/* The kernel dims of a conv op from I to O. */
dnas_rt_conv_dims deploy_qop_conv_dims(const deploy_qop *op, const deploy_qtensor *I,
                                       const deploy_qtensor *O) {
    dnas_rt_conv_dims d = {.hin = I->h,
                           .win = I->w,
                           .cin = I->c,
                           .hout = O->h,
                           .wout = O->w,
                           .cout = O->c,
                           .kh = op->kh,
                           .kw = op->kw,
                           .sh = op->sh,
                           .sw = op->sw,
                           .dh = op->dh,
                           .dw = op->dw,
                           .pt = op->pt,
                           .pb = op->pb,
                           .pl = op->pl,
                           .pr = op->pr,
                           .groups = op->groups,
                           .in_signed = I->is_signed,
                           .out_signed = O->is_signed};
    return d;
}

/* One op over the buffers, reading in (its input's bytes) and writing out. */
static dnas_rt_status run_op_on(const deploy_qnet *q, const deploy_qop *op, uint8_t **buf,
                                const void *in, void *out) {
    const deploy_qtensor *I = &q->tensors[op->in[0]], *O = &q->tensors[op->out];
    dnas_rt_weights w = {op->w, op->wbits, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {op->m, op->shift, op->lo, op->hi};
    dnas_rt_tensor_requant trq = {op->ma, op->shift, op->lo, op->hi};
    dnas_rt_pool_dims pd = {.hin = I->h,
                            .win = I->w,
                            .c = I->c,
                            .hout = O->h,
                            .wout = O->w,
                            .kh = op->kh,
                            .kw = op->kw,
                            .sh = op->sh,
                            .sw = op->sw,
                            .pt = op->pt,
                            .pb = op->pb,
                            .pl = op->pl,
                            .pr = op->pr,
                            .in_signed = I->is_signed,
                            .out_signed = O->is_signed};
    switch (op->kind) {
    case DEPLOY_QOP_CONV: {
        dnas_rt_conv_dims d = deploy_qop_conv_dims(op, I, O);
        return dnas_rt_conv2d(out, in, &w, op->bias, &rq, &d);
    }
    case DEPLOY_QOP_LINEAR: {
        dnas_rt_linear_dims d = {(int32_t)deploy_qtensor_size(I), O->c, I->is_signed, O->is_signed};
        return dnas_rt_linear(out, in, &w, op->bias, &rq, &d);
    }
    case DEPLOY_QOP_ADD: {
        const deploy_qtensor *B = &q->tensors[op->in[1]];
        dnas_rt_add_params p = {op->ma, op->mb, op->shift, op->lo, op->hi};
        dnas_rt_add_dims d = {O->h, O->w, O->c, I->is_signed, B->is_signed, O->is_signed};
        return dnas_rt_add(out, in, buf[op->in[1]], &p, &d);
    }
    case DEPLOY_QOP_MAXPOOL: return dnas_rt_maxpool(out, in, &pd);
    case DEPLOY_QOP_AVGPOOL: return dnas_rt_avgpool(out, in, &trq, &pd);
    case DEPLOY_QOP_GAVGPOOL: {
        dnas_rt_gavgpool_dims d = {I->h, I->w, I->c, I->is_signed, O->is_signed};
        return dnas_rt_global_avgpool(out, in, &trq, &d);
    }
    case DEPLOY_QOP_FLATTEN: memcpy(out, in, deploy_qtensor_size(I)); return DNAS_RT_OK;
    case DEPLOY_QOP_COUNT_: break;
    }
    return DNAS_RT_ERR_ARG;
}

/* One op: run_op_on over its own buffers; then, for each engine with input
 * bits below the input tensor's that some channel is on, the op again on
 * the input clamped to that engine's range (dnas_rt_saturate), whose
 * values those channels take. */
static dnas_rt_status run_op(const deploy_qnet *q, const deploy_qop *op, deploy_qeval *ev) {
    const deploy_qtensor *I = &q->tensors[op->in[0]], *O = &q->tensors[op->out];
    uint8_t *out = ev->buf[op->out];
    dnas_rt_status rs = run_op_on(q, op, ev->buf, ev->buf[op->in[0]], out);
    for (int e = 0; !rs && op->engine && e < q->nengines; e++) {
        int b = q->engine_in_bits[e], any = 0;
        if (!b || b >= I->bits) continue;
        for (int32_t c = 0; c < O->c; c++)
            any |= op->engine[c] == e;
        if (!any) continue;
        int32_t lo, hi;
        dnas_rt_saturate_range(I->is_signed, b, &lo, &hi);
        size_t n = deploy_qtensor_size(I), pix = deploy_qtensor_size(O) / (size_t)O->c;
        if ((rs = dnas_rt_saturate(ev->sat, ev->buf[op->in[0]], n, I->is_signed, lo, hi))) break;
        if ((rs = run_op_on(q, op, ev->buf, ev->sat, ev->alt))) break;
        for (size_t p = 0; p < pix; p++)
            for (int32_t c = 0; c < O->c; c++)
                if (op->engine[c] == e) out[p * (size_t)O->c + (size_t)c] = ev->alt[p * (size_t)O->c + (size_t)c];
    }
    return rs;
}

dnas_status deploy_qeval_sample(deploy_qeval *ev, int32_t *out, const void *in, dnas_error *err) {
    const deploy_qnet *q = ev->q;
    memcpy(ev->buf[0], in, deploy_qtensor_size(&q->tensors[0]));
    for (int k = 0; k < q->nops; k++) {
        dnas_rt_status rs = run_op(q, &q->ops[k], ev);
        if (rs != DNAS_RT_OK)
            return dnas_fail(err, DNAS_ERR_INVALID,
                             "%s: op %d '%s' (%s): the kernel refused it (status %d)", q->name, k,
                             q->ops[k].name, deploy_qop_kind_name(q->ops[k].kind), (int)rs);
    }
    const deploy_qtensor *T = &q->tensors[q->output];
    const uint8_t *b = ev->buf[q->output];
    size_t n = deploy_qtensor_size(T);
    for (size_t i = 0; i < n; i++)
        out[i] = T->is_signed ? (int32_t)(int8_t)b[i] : (int32_t)b[i];
    return DNAS_OK;
}

dnas_status deploy_qeval_run(deploy_qeval *ev, int32_t *out, const float *x, int n,
                             dnas_error *err) {
    const deploy_qnet *q = ev->q;
    const deploy_qtensor *T = &q->tensors[0];
    size_t hw = (size_t)T->h * T->w, count = hw * T->c,
           nout = deploy_qtensor_size(&q->tensors[q->output]);
    uint8_t *xq = dnas_xmalloc(count);
    dnas_status st = DNAS_OK;
    for (int s = 0; s < n && !st; s++) {
        // x (C, H, W) of sample s -> xq [H][W][C]
        const float *xs = x + (size_t)s * count;
        for (int32_t c = 0; c < T->c; c++)
            for (size_t p = 0; p < hw; p++) {
                int32_t v = deploy_qnet_quantize(T, xs[(size_t)c * hw + p]);
                xq[p * T->c + c] = T->is_signed ? (uint8_t)(int8_t)v : (uint8_t)v;
            }
        st = deploy_qeval_sample(ev, out + (size_t)s * nout, xq, err);
    }
    free(xq);
    return st;
}

int deploy_qnet_argmax(const int32_t *v, int k) {
    int best = k >= 1 ? 0 : -1;
    for (int j = 1; j < k; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

dnas_status deploy_qeval_correct(deploy_qeval *ev, long *correct, const float *x, const int32_t *y,
                                 int n, dnas_error *err) {
    const deploy_qnet *q = ev->q;
    size_t nin = deploy_qtensor_size(&q->tensors[0]);
    int k = (int)deploy_qtensor_size(&q->tensors[q->output]);
    enum { CHUNK = 64 };
    int32_t *out = dnas_xmalloc((size_t)CHUNK * (size_t)k * sizeof *out);
    dnas_status st = DNAS_OK;
    *correct = 0;
    for (int s = 0; s < n && !st; s += CHUNK) {
        int m = n - s < CHUNK ? n - s : CHUNK;
        st = deploy_qeval_run(ev, out, x + (size_t)s * nin, m, err);
        for (int i = 0; !st && i < m; i++)
            if (deploy_qnet_argmax(out + (size_t)i * k, k) == y[s + i]) (*correct)++;
    }
    free(out);
    return st;
}
