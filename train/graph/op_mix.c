/* mix: y = Σ_k θ_k·x_k over inputs of equal shapes, the output of a
 * SuperNet choice block. θ lives outside the network (search/ owns the
 * architecture parameters): train_net_set_mix points L->coef at it, and
 * L->dcoef, when set, receives dθ_k += Σ dy·x_k in backward. Unset, θ is
 * 1/N for each of the N inputs (the average). */
#include "graph_internal.h"

/* θ in use: the caller's, or 1/N in buf. */
static const float *coefs(const train_layer *L, float *buf) {
    if (L->coef) return L->coef;
    for (int k = 0; k < L->ninputs; k++) buf[k] = 1.0f / (float)L->ninputs;
    return buf;
}

static void forward(const op_run *r) {
    const float *ins[TRAIN_MAX_INPUTS];
    float buf[TRAIN_MAX_INPUTS];
    for (int k = 0; k < r->L->ninputs; k++) ins[k] = op_x(r, k);
    train_mix_forward(r->net->act[r->i], ins, coefs(r->L, buf), r->L->ninputs, r->n * op_sample(r->L));
}

static void backward(const op_run *r) {
    const float *ins[TRAIN_MAX_INPUTS];
    float *dxs[TRAIN_MAX_INPUTS], buf[TRAIN_MAX_INPUTS];
    for (int k = 0; k < r->L->ninputs; k++) {
        ins[k] = op_x(r, k);
        dxs[k] = op_dx(r, k);
    }
    train_mix_backward(dxs, r->L->dcoef, r->net->dact[r->i], ins, coefs(r->L, buf), r->L->ninputs,
                       r->n * op_sample(r->L));
}

static dnas_status build(const op_build *b, train_layer *L) {
    L->ncoef = L->ninputs;
    return train_op_equal_shapes(b, L);
}

const op_desc train_op_mix_desc = {
    .name = "mix",
    .nvariants = 1,
    .variants = {{"mix", TRAIN_OP_NO_KEYS}},
    .min_inputs = 2, .max_inputs = TRAIN_MAX_INPUTS,
    .build = build, .forward = forward, .backward = backward,
};
