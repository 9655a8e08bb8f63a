/* Ops without weights that map values one to one or join tensors: the
 * network input, ReLU / ReLU6, add, concat, flatten, dropout. */
#include <string.h>

#include "graph_internal.h"

const char *const TRAIN_OP_NO_KEYS[] = {NULL};

/* Layer 0: the network input, shaped by the spec; never built, run or
 * written as a layer. */
const op_desc train_op_input_desc = {.name = "input", .nvariants = 0};

/* Same shape as the (first) input. */
static dnas_status same_shape(const op_build *b, train_layer *L) {
    const train_layer *in = &b->net->layers[L->inputs[0]];
    return train_op_set_shape(b, L, in->c, in->h, in->w);
}

/* ---- relu: y = clamp(x, 0, cap), cap 0 = none (relu), 6 (relu6) ------------- */

static dnas_status relu_build(const op_build *b, train_layer *L) {
    L->cap = b->variant ? 6.0f : 0.0f;
    return same_shape(b, L);
}

/* Fused with its BN (L->bn_prev): the BN wrote this output and reads this
 * gradient itself. */
static void relu_forward(const op_run *r) {
    if (!r->L->bn_prev)
        train_relu_forward(r->net->act[r->i], op_x(r, 0), r->n * op_sample(r->L), r->L->cap);
}

static void relu_backward(const op_run *r) {
    float *dx = op_dx(r, 0);
    if (dx && !r->L->bn_prev)
        train_relu_backward(dx, r->net->dact[r->i], op_x(r, 0), r->n * op_sample(r->L), r->L->cap);
}

const op_desc train_op_relu_desc = {
    .name = "relu",
    .nvariants = 2,
    .variants = {{"relu", TRAIN_OP_NO_KEYS}, {"relu6", TRAIN_OP_NO_KEYS}},
    .min_inputs = 1, .max_inputs = 1,
    .build = relu_build, .forward = relu_forward, .backward = relu_backward,
};

/* ---- add: y = Σ_k x_k over inputs of equal shapes ----------------------------- */

/* Inputs of equal shapes (add, mix). */
dnas_status train_op_equal_shapes(const op_build *b, train_layer *L) {
    const train_layer *in = &b->net->layers[L->inputs[0]];
    for (int i = 1; i < L->ninputs; i++) {
        const train_layer *o = &b->net->layers[L->inputs[i]];
        if (o->c != in->c || o->h != in->h || o->w != in->w)
            return train_op_shape_fail(b, L, "inputs must have equal shapes: '%s' is (%d, %d, %d) but '%s' is "
                                       "(%d, %d, %d)",
                                 in->name, in->c, in->h, in->w, o->name, o->c, o->h, o->w);
    }
    return same_shape(b, L);
}

static void add_forward(const op_run *r) {
    size_t count = r->n * op_sample(r->L);
    float *out = r->net->act[r->i];
    train_add_forward(out, op_x(r, 0), op_x(r, 1), count);
    for (int k = 2; k < r->L->ninputs; k++) train_accumulate(out, op_x(r, k), count);
}

static void add_backward(const op_run *r) {
    size_t count = r->n * op_sample(r->L);
    for (int k = 0; k < r->L->ninputs; k++) {
        float *dx = op_dx(r, k);
        if (dx) train_accumulate(dx, r->net->dact[r->i], count);
    }
}

const op_desc train_op_add_desc = {
    .name = "add",
    .nvariants = 1,
    .variants = {{"add", TRAIN_OP_NO_KEYS}},
    .min_inputs = 2, .max_inputs = TRAIN_MAX_INPUTS,
    .build = train_op_equal_shapes, .forward = add_forward, .backward = add_backward,
};

/* ---- concat: channels of inputs of equal H, W, in input order ------------------ */

static dnas_status concat_build(const op_build *b, train_layer *L) {
    const train_layer *in = &b->net->layers[L->inputs[0]];
    int64_t c = in->c;
    for (int i = 1; i < L->ninputs; i++) {
        const train_layer *o = &b->net->layers[L->inputs[i]];
        if (o->h != in->h || o->w != in->w)
            return train_op_shape_fail(b, L,
                                 "inputs must have equal height and width: '%s' is %dx%d but '%s' is %dx%d",
                                 in->name, in->h, in->w, o->name, o->h, o->w);
        c += o->c;
    }
    return train_op_set_shape(b, L, c, in->h, in->w);
}

static void concat_forward(const op_run *r) {
    const float *ins[TRAIN_MAX_INPUTS];
    int ch[TRAIN_MAX_INPUTS];
    for (int k = 0; k < r->L->ninputs; k++) {
        ins[k] = op_x(r, k);
        ch[k] = op_in(r, k)->c;
    }
    train_concat_forward(r->net->act[r->i], ins, ch, r->L->ninputs, r->n, r->L->h * r->L->w);
}

static void concat_backward(const op_run *r) {
    float *dxs[TRAIN_MAX_INPUTS];
    int ch[TRAIN_MAX_INPUTS];
    for (int k = 0; k < r->L->ninputs; k++) {
        /* the network input's gradient is computed but never read */
        dxs[k] = r->net->dact[r->L->inputs[k]];
        ch[k] = op_in(r, k)->c;
    }
    train_concat_backward(dxs, r->net->dact[r->i], ch, r->L->ninputs, r->n, r->L->h * r->L->w);
}

const op_desc train_op_concat_desc = {
    .name = "concat",
    .nvariants = 1,
    .variants = {{"concat", TRAIN_OP_NO_KEYS}},
    .min_inputs = 2, .max_inputs = TRAIN_MAX_INPUTS,
    .build = concat_build, .forward = concat_forward, .backward = concat_backward,
};

/* ---- flatten: (C, H, W) -> (C·H·W, 1, 1), the same values ---------------------- */

static dnas_status flatten_build(const op_build *b, train_layer *L) {
    const train_layer *in = &b->net->layers[L->inputs[0]];
    return train_op_set_shape(b, L, (int64_t)in->c * in->h * in->w, 1, 1);
}

static void copy_forward(const op_run *r) {
    memcpy(r->net->act[r->i], op_x(r, 0), r->n * op_sample(r->L) * sizeof(float));
}

static void copy_backward(const op_run *r) {
    float *dx = op_dx(r, 0);
    if (dx) train_accumulate(dx, r->net->dact[r->i], r->n * op_sample(r->L));
}

const op_desc train_op_flatten_desc = {
    .name = "flatten",
    .nvariants = 1,
    .variants = {{"flatten", TRAIN_OP_NO_KEYS}},
    .min_inputs = 1, .max_inputs = 1,
    .build = flatten_build, .forward = copy_forward, .backward = copy_backward,
};

/* ---- dropout: inverted, keep with probability 1 - p; identity in eval ---------- */

static dnas_status dropout_build(const op_build *b, train_layer *L) {
    dnas_status st;
    if ((st = train_op_opt_float(b, "p", &L->p, 0.5f, 0, 1, 0))) return st;
    if (L->p >= 1) return train_op_fail(b, train_op_attr(b, "p")->line, "p: expected 0 <= p < 1");
    return same_shape(b, L);
}

static void dropout_to_spec(const train_net *net, const train_layer *L, train_spec_layer *s) {
    if (L->p != 0.5f) train_spec_set_float(s, "p", L->p);
}

/* the mask (scale 0 or 1/(1-p)) of every value */
static int64_t dropout_aux(const train_layer *L, int64_t act) { return act; }

static void dropout_forward(const op_run *r) {
    const train_layer *L = r->L;
    if (r->training && L->p > 0)
        train_dropout_forward(r->net->act[r->i], r->net->aux[r->i], op_x(r, 0), r->n * op_sample(L), L->p,
                              &r->net->rng);
    else
        copy_forward(r);
}

static void dropout_backward(const op_run *r) {
    float *dx = op_dx(r, 0);
    if (!dx) return;
    if (r->L->p > 0)
        train_dropout_backward(dx, r->net->dact[r->i], r->net->aux[r->i], r->n * op_sample(r->L));
    else
        train_accumulate(dx, r->net->dact[r->i], r->n * op_sample(r->L));
}

static const char *const DROPOUT_KEYS[] = {"p", NULL};

const op_desc train_op_dropout_desc = {
    .name = "dropout",
    .nvariants = 1,
    .variants = {{"dropout", DROPOUT_KEYS}},
    .min_inputs = 1, .max_inputs = 1,
    .build = dropout_build, .to_spec = dropout_to_spec, .aux_floats = dropout_aux,
    .forward = dropout_forward, .backward = dropout_backward,
};
