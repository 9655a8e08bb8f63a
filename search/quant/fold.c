/* BN folding and the integer weights of a conv / linear op (step 3 of
 * quant.h for the ops that carry weights).
 *
 * With the input scale s_x, the output scale s_y and the per-channel
 * weight scales s_w,c of train_wq_export (so w ≈ q_c·s_w,c), the float
 * output y_c = Σ x·w + b'_c becomes
 *   y_c / s_y ≈ (s_x·s_w,c / s_y)·(Σ x_q·q + b'_c / (s_x·s_w,c))
 * hence bias b_q,c = round(b'_c / (s_x·s_w,c)) in int32 and the multiplier
 * of the ratio r_c = s_x·s_w,c / s_y (deploy_qnet_multipliers: one shift,
 * the largest multiplier with 31 bits). A channel whose weights are all 0
 * (train_wq_export gives s_w,c = 0) takes the layer's largest s_w instead,
 * so its constant output b'_c still reaches the integer network. */
#include <math.h>
#include <string.h>

#include "quant_internal.h"

void search_quant_fold(const train_net *net, int layer, float *w, float *b, int *bn) {
    const train_layer *L = &net->layers[layer];
    const float *wl = net->params + L->w_off;
    size_t per = L->w_len / (size_t)L->c;
    double *a = dnas_xmalloc((size_t)L->c * sizeof *a);
    search_qb_fold_coef(net, layer, a, b, bn);
    for (int c = 0; c < L->c; c++)
        for (size_t j = 0; j < per; j++)
            w[(size_t)c * per + j] = (float)(a[c] * wl[(size_t)c * per + j]);
    free(a);
}

void search_qb_fold_coef(const train_net *net, int layer, double *ac, float *b, int *bn) {
    const train_layer *L = &net->layers[layer];
    DNAS_ASSERT(L->op == TRAIN_OP_CONV || L->op == TRAIN_OP_LINEAR);
    int r = 0, nread = 0;
    for (int i = layer + 1; i < net->nlayers; i++)
        for (int k = 0; k < net->layers[i].ninputs; k++)
            if (net->layers[i].inputs[k] == layer) nread++, r = i;
    *bn = nread == 1 && net->layers[r].op == TRAIN_OP_BN ? r : 0;
    const train_layer *B = *bn ? &net->layers[*bn] : NULL;
    for (int c = 0; c < L->c; c++) {
        double bias = L->b_len ? net->params[L->b_off + (size_t)c] : 0.0, a = 1.0;
        if (B) {
            const float *mean = net->state + B->state_off, *var = mean + B->c;
            a = net->params[B->w_off + (size_t)c] / sqrt((double)var[c] + (double)B->eps);
            bias = a * (bias - mean[c]) + net->params[B->b_off + (size_t)c];
        }
        ac[c] = a;
        b[c] = (float)bias;
    }
}

/* A layer with `wbits` (trained on fake-quantized weights: a MixPrec or
 * ODiMO export, per layer or per channel): channel c's levels are those
 * its fake quantizer used in training, q = train_wq_export(W_c) at
 * train_layer_wbits(L, c) from the raw weights (a 2-bit channel, e.g. an
 * analog one, is ternary {-1, 0, 1}; a 0-bit one is all 0), and the fold
 * moves into the scale: a_c·Q(W_c) = (|a_c|·s_c)·(sign(a_c)·q), so the
 * integer weights are exactly the values training ran on. Returns the
 * layer's widest channel (the op's wbits). */
static int channel_levels(const train_net *net, int layer, int32_t *q, float *sw, float *b, int *bn) {
    const train_layer *L = &net->layers[layer];
    size_t len = L->w_len / (size_t)L->c;
    double *a = dnas_xmalloc((size_t)L->c * sizeof *a);
    search_qb_fold_coef(net, layer, a, b, bn);
    int wbits = 2;
    for (int c = 0; c < L->c; c++) {
        int32_t *qc = q + (size_t)c * len;
        int bits = train_layer_wbits(L, c);
        train_wq_export(qc, &sw[c], net->params + L->w_off + (size_t)c * len, 1, (int)len, bits);
        if (a[c] < 0)
            for (size_t j = 0; j < len; j++) qc[j] = -qc[j];
        sw[c] = (float)(fabs(a[c]) * sw[c]);
        wbits = bits > wbits ? bits : wbits;
    }
    free(a);
    return wbits;
}

/* Weights (Cout, len) in the float layout -> the kernel's: conv
 * [Cout][kh][kw][Cin/g] from (Cout, Cin/g, kh, kw); linear [Cout][H·W·C]
 * from (Cout, C·H·W) with (C, H, W) the order of the input's bytes. */
static void to_hwc(int8_t *dst, const int32_t *q, const train_layer *L, const qp_tensor *in) {
    size_t cout = (size_t)L->c, len = L->w_len / cout;
    for (size_t co = 0; co < cout; co++) {
        const int32_t *s = q + co * len;
        int8_t *d = dst + co * len;
        if (L->op == TRAIN_OP_CONV) {
            size_t cig = len / ((size_t)L->kh * L->kw), taps = (size_t)L->kh * L->kw;
            for (size_t ci = 0; ci < cig; ci++)
                for (size_t t = 0; t < taps; t++)
                    d[t * cig + ci] = (int8_t)s[ci * taps + t];
        } else {
            size_t C = (size_t)in->src_c, hw = (size_t)in->src_h * in->src_w;
            for (size_t c = 0; c < C; c++)
                for (size_t p = 0; p < hw; p++)
                    d[p * C + c] = (int8_t)s[c * hw + p];
        }
    }
}

dnas_status search_qb_weighted(deploy_qop *qop, deploy_qnet *q, const train_net *net,
                        const qp_plan *plan, const qp_op *op, int wbits, dnas_error *err) {
    const train_layer *L = &net->layers[op->layer];
    int cout = L->c;
    size_t len = L->w_len / (size_t)cout;
    float *wf = dnas_xmalloc(L->w_len * sizeof *wf), *bf = dnas_xmalloc((size_t)cout * sizeof *bf);
    float *sw = dnas_xmalloc((size_t)cout * sizeof *sw);
    int32_t *qi = dnas_xmalloc(L->w_len * sizeof *qi);
    double *r = dnas_xmalloc((size_t)cout * sizeof *r);
    int bn;
    if (L->wbits) {
        wbits = channel_levels(net, op->layer, qi, sw, bf, &bn);
    } else {
        search_quant_fold(net, op->layer, wf, bf, &bn);
        train_wq_export(qi, sw, wf, cout, (int)len, wbits);
    }
    float swmax = 0;
    for (int c = 0; c < cout; c++)
        swmax = sw[c] > swmax ? sw[c] : swmax;
    const deploy_qtensor *I = &q->tensors[qop->in[0]], *O = &q->tensors[qop->out];
    dnas_status st = DNAS_OK;
    qop->wbits = wbits;
    qop->wlen = L->w_len;
    qop->w = dnas_xmalloc(L->w_len);
    qop->m = dnas_xmalloc((size_t)cout * sizeof *qop->m);
    if (L->b_len || bn) qop->bias = dnas_xmalloc((size_t)cout * sizeof *qop->bias);
    to_hwc(qop->w, qi, L, &plan->tensors[op->in[0]]);
    if (L->engine_of) { /* each channel's engine, by name in the qnet's table */
        qop->engine = dnas_xmalloc((size_t)cout);
        for (int c = 0; c < cout; c++) {
            int e = deploy_qnet_engine(q, L->engine_names[L->engine_of[c]]);
            if (e < 0) {
                st = dnas_fail(err, DNAS_ERR_UNSUPPORTED, "model '%s': layer '%s': more than %d engine names",
                               net->name, L->name, DEPLOY_QNET_MAX_ENGINES);
                break;
            }
            qop->engine[c] = (int8_t)e;
        }
    }
    int64_t bmax = 0;
    for (int c = 0; c < cout && !st; c++) {
        double s = sw[c] > 0 ? sw[c] : swmax > 0 ? swmax : 1.0f;
        double sx_sw = (double)I->scale * s;
        r[c] = sx_sw / O->scale;
        if (!qop->bias) continue;
        double bq = round(bf[c] / sx_sw);
        if (!(fabs(bq) <= INT32_MAX))
            st = dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                           "model '%s': layer '%s' channel %d: bias %g at scale s_x·s_w = %g is %g "
                           "steps, beyond int32; no integer export",
                           net->name, L->name, c, (double)bf[c], sx_sw, bq);
        else
            qop->bias[c] = (int32_t)bq;
        bmax = fabs(bq) > (double)bmax ? (int64_t)fabs(bq) : bmax;
    }
    int64_t bound = dnas_rt_acc_bound((int64_t)len, I->is_signed, wbits, bmax);
    if (!st && bound > DNAS_RT_ACC_MAX)
        st = dnas_fail(
            err, DNAS_ERR_UNSUPPORTED,
            "model '%s': layer '%s': %zu terms of %d-bit weights and %s inputs with |bias| up "
            "to %lld can leave int32 (bound %lld); no integer export",
            net->name, L->name, len, wbits, I->is_signed ? "int8" : "uint8", (long long)bmax,
            (long long)bound);
    char what[200];
    snprintf(what, sizeof what, "model '%s': layer '%s'", net->name, L->name);
    if (!st) st = deploy_qnet_multipliers(qop->m, &qop->shift, r, cout, what, err);
    deploy_qtensor_range(O, &qop->lo, &qop->hi);
    free(wf), free(bf), free(sw), free(qi), free(r);
    return st;
}
