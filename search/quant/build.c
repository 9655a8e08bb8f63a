/* Step 3 of the export (quant.h): the qnet from the plan and the ranges.
 *
 * Scales (real = scale·q, no zero point): a tensor of b bits whose
 * calibrated |x| percentile is amax (calib.c) gets
 *   unsigned  scale = amax / (2^b - 1), amax clipped first to a fused
 *             ReLU6's cap;
 *   signed    scale = amax / (2^(b-1) - 1)   (-2^(b-1) is only reached by
 *             values beyond amax);
 * amax = 0 gives scale 1. The network's output tensor takes the largest |x|
 * instead of the percentile (two clipped logits would tie). The input is unsigned when calibration
 * saw no negative value, a tensor after a fused ReLU always. Maxpool and flatten outputs keep their
 * input's scale. Requantization ratios come from the scales as stored (float), in double: conv /
 * linear  s_x·s_w,c / s_y        (fold.c) add            s_a / s_y and s_b / s_y, one shift avgpool
 * s_x / (s_y·kh·kw) global avg     s_x / (s_y·H·W). */
#include <math.h>
#include <string.h>

#include "quant_internal.h"

search_quant_params search_quant_default_params(void) {
    search_quant_params p = {
        .wbits = 8, .abits = 8, .calib_batches = 10, .batch = 128, .seed = 1, .percentile = 99.99};
    return p;
}

static float scale_of(double amax, int is_signed, float cap, int bits) {
    if (cap > 0 && amax > cap) amax = cap;
    double qmax = is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
    return amax > 0 ? (float)(amax / qmax) : 1.0f;
}

static dnas_status add_tensors(deploy_qnet *q, const qp_plan *plan, const train_net *net,
                               const search_quant_range *r, int bits, dnas_error *err) {
    int output = plan->tensor_of[net->output];
    for (int i = 0; i < plan->ntensors; i++) {
        const qp_tensor *t = &plan->tensors[i];
        deploy_qtensor qt = {.h = t->h, .w = t->w, .c = t->c, .bits = bits};
        if (t->copy_of >= 0) {
            const deploy_qtensor *src = &q->tensors[t->copy_of];
            qt.is_signed = src->is_signed, qt.scale = src->scale, qt.bits = src->bits;
        } else if (t->pact) {
            /* PACT's own grid: level·c/n, n = 2^b - 1 (train/ops.h) */
            const train_layer *P = &net->layers[t->pact];
            qt.bits = P->prec.bits[0];
            qt.is_signed = 0;
            qt.scale = train_pact_clip(net->params[P->w_off]) / (float)((1 << qt.bits) - 1);
        } else {
            const search_quant_range *R = &r[t->head];
            if (!isfinite(R->lo) || !isfinite(R->amax) || R->amax < 0)
                return dnas_fail(err, DNAS_ERR_INVALID,
                                 "model '%s': no finite range for layer '%s'", net->name,
                                 net->layers[t->head].name);
            qt.is_signed = i == 0 ? R->lo < 0 : t->is_signed;
            /* the output keeps its largest values apart: a clipped top logit could tie */
            float amax = i == output ? fmaxf(fabsf(R->lo), fabsf(R->hi)) : R->amax;
            qt.scale = scale_of(amax, qt.is_signed, t->cap, bits);
        }
        snprintf(qt.name, sizeof qt.name, "%s", net->layers[t->head >= 0 ? t->head : 0].name);
        deploy_qnet_add_tensor(q, &qt);
    }
    /* copies take their names from the op writing them */
    for (int k = 0; k < plan->nops; k++)
        if (plan->tensors[plan->ops[k].out].copy_of >= 0)
            snprintf(q->tensors[plan->ops[k].out].name, DEPLOY_QNET_NAME_LEN, "%s",
                     net->layers[plan->ops[k].layer].name);
    return DNAS_OK;
}

/* Window geometry of a conv / pool layer reading I; padding after is what
 * the output size needs (the float loader may pad more than is read). */
static void window(deploy_qop *qop, const train_layer *L, const deploy_qtensor *I, int conv) {
    qop->kh = L->kh, qop->kw = L->kw, qop->sh = L->sh, qop->sw = L->sw;
    qop->dh = conv ? L->dh : 1, qop->dw = conv ? L->dw : 1;
    qop->pt = L->pt, qop->pl = L->pl;
    qop->pb = search_qp_pad_after(I->h, L->h, L->kh, L->sh, qop->dh, L->pt);
    qop->pr = search_qp_pad_after(I->w, L->w, L->kw, L->sw, qop->dw, L->pl);
    qop->groups = conv ? L->groups : 1;
}

/* One multiplier (ma, and mb when r1 >= 0) for real ratios. */
static dnas_status tensor_mult(deploy_qop *qop, const train_net *net, const train_layer *L,
                               double r0, double r1, dnas_error *err) {
    double r[2] = {r0, r1 >= 0 ? r1 : 0};
    int32_t m[2];
    char what[200];
    snprintf(what, sizeof what, "model '%s': layer '%s'", net->name, L->name);
    dnas_status st = deploy_qnet_multipliers(m, &qop->shift, r, r1 >= 0 ? 2 : 1, what, err);
    qop->ma = m[0];
    if (r1 >= 0) qop->mb = m[1];
    return st;
}

static dnas_status add_op(deploy_qnet *q, const qp_plan *plan, const train_net *net,
                          const qp_op *op, const search_quant_params *p, dnas_error *err) {
    const train_layer *L = &net->layers[op->layer];
    deploy_qop *qop = deploy_qnet_add_op(q, op->kind, L->name);
    qop->in[0] = op->in[0], qop->in[1] = op->in[1], qop->out = op->out;
    const deploy_qtensor *I = &q->tensors[op->in[0]], *O = &q->tensors[op->out];
    deploy_qtensor_range(O, &qop->lo, &qop->hi);
    double sx = I->scale, sy = O->scale;
    switch (op->kind) {
    case DEPLOY_QOP_CONV:
        window(qop, L, I, 1);
        return search_qb_weighted(qop, q, net, plan, op, p->wbits, err);
    case DEPLOY_QOP_LINEAR: return search_qb_weighted(qop, q, net, plan, op, p->wbits, err);
    /* (a layer's own wbits, when it has them, override p->wbits: fold.c) */
    case DEPLOY_QOP_ADD:
        return tensor_mult(qop, net, L, sx / sy, q->tensors[op->in[1]].scale / sy, err);
    case DEPLOY_QOP_MAXPOOL: window(qop, L, I, 0); return DNAS_OK;
    case DEPLOY_QOP_AVGPOOL:
        window(qop, L, I, 0);
        return tensor_mult(qop, net, L, sx / (sy * L->kh * L->kw), -1, err);
    case DEPLOY_QOP_GAVGPOOL: return tensor_mult(qop, net, L, sx / (sy * I->h * I->w), -1, err);
    case DEPLOY_QOP_FLATTEN:
    case DEPLOY_QOP_COUNT_: break;
    }
    return DNAS_OK;
}

dnas_status search_qp_check_params(const search_quant_params *p, dnas_error *err) {
    if (p->wbits < 2 || p->wbits > 8 || p->abits < 2 || p->abits > 8)
        return dnas_fail(err, DNAS_ERR_INVALID,
                         "weight bits %d, activation bits %d: expected 2..8 each", p->wbits,
                         p->abits);
    if (!(p->percentile > 0 && p->percentile <= 100) || p->calib_batches < 1 ||
        p->calib_batches > SEARCH_QUANT_MAX_CALIB || p->batch < 1)
        return dnas_fail(
            err, DNAS_ERR_INVALID,
            "percentile %g, %d calibration batches of %d: expected (0, 100], 1..%d, >= 1",
            p->percentile, p->calib_batches, p->batch, SEARCH_QUANT_MAX_CALIB);
    return DNAS_OK;
}

dnas_status search_quant_export_ranges(deploy_qnet *q, const train_net *net,
                                       const search_quant_range *r, const search_quant_params *p,
                                       dnas_error *err) {
    deploy_qnet_init(q, net->name);
    qp_plan plan;
    dnas_status st = search_qp_check_params(p, err);
    if (st) return st;
    st = search_qp_plan_make(&plan, net, err);
    if (st) return st;
    st = add_tensors(q, &plan, net, r, p->abits, err);
    for (int k = 0; k < plan.nops && !st; k++)
        st = add_op(q, &plan, net, &plan.ops[k], p, err);
    q->output = plan.tensor_of[net->output];
    search_qp_plan_free(&plan);
    if (!st) st = deploy_qnet_check(q, net->name, err);
    if (st) deploy_qnet_free(q);
    return st;
}

dnas_status search_quant_check(const train_net *net, dnas_error *err) {
    qp_plan plan;
    dnas_status st = search_qp_plan_make(&plan, net, err);
    if (!st) search_qp_plan_free(&plan);
    return st;
}

dnas_status search_quant_export(deploy_qnet *q, train_net *net, const train_dataset *ds,
                                const search_quant_params *p, dnas_error *err) {
    deploy_qnet_init(q, net->name);
    dnas_status st = search_qp_check_params(p, err);
    if (!st) st = search_quant_check(net, err); /* refuse before running any batch */
    if (st) return st;
    search_quant_range *r = dnas_xmalloc((size_t)net->nlayers * sizeof *r);
    st = search_quant_calibrate(net, ds, p, r, err);
    if (!st) st = search_quant_export_ranges(q, net, r, p, err);
    free(r);
    return st;
}

dnas_status search_quant_accuracy(const deploy_qnet *q, const train_dataset *ds, float *acc,
                                  dnas_error *err) {
    const deploy_qtensor *I = &q->tensors[0], *O = &q->tensors[q->output];
    if (!ds->y)
        return dnas_fail(err, DNAS_ERR_INVALID, "%s: the data has no labels: no accuracy", q->name);
    if (O->h != 1 || O->w != 1)
        return dnas_fail(err, DNAS_ERR_INVALID,
                         "%s: output [%d][%d][%d] is not [1][1][K]: no accuracy", q->name, O->h,
                         O->w, O->c);
    if (ds->c != I->c || ds->h != I->h || ds->w != I->w)
        return dnas_fail(err, DNAS_ERR_SHAPE,
                         "%s: data samples are (%d, %d, %d), the input is [%d][%d][%d]", q->name,
                         ds->c, ds->h, ds->w, I->h, I->w, I->c);
    deploy_qeval ev;
    dnas_status st = deploy_qeval_init(&ev, q, q->name, err);
    if (st) return st;
    long correct = 0;
    st = deploy_qeval_correct(&ev, &correct, ds->x, ds->y, ds->count, err);
    deploy_qeval_free(&ev);
    *acc = ds->count ? (float)correct / (float)ds->count : 0.0f;
    return st;
}
