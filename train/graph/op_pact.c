/* pact: the activation fake quantizer of the mixed-precision search
 * (REFERENCE.md, MixPrec), y = Σ_p θ_p·PACT_p(x) over the candidate bit
 * widths `bits`, with one trained clip c ("<layer>.clip", initialised to
 * `clip`). It absorbs the ReLU: PACT_p(x) is 0 for x <= 0. Kernels and
 * their gradients: train_pact_mix_* (ops.h).
 *
 * θ lives outside the network (train_net_set_pact_coef); unset, it is
 * one-hot on the largest bit width, i.e. plain PACT at that precision. */
#include "graph_internal.h"

static dnas_status build(const op_build *b, train_layer *L) {
    const train_layer *in = &b->net->layers[L->inputs[0]];
    dnas_status st;
    const train_spec_value *v = train_op_attr(b, "bits");
    if (!v)
        return train_op_fail(b, b->s->line, "layer '%s': missing 'bits' (candidate bit widths, e.g. [2, 4, 8])",
                       L->name);
    int n = v->kind == TRAIN_SPEC_LIST ? v->nitems : 1;
    if (v->kind == TRAIN_SPEC_LIST && (n < 1 || n > TRAIN_FQ_MAX_PREC))
        return train_op_fail(b, v->line, "bits: expected a number or a list of 1..%d bit widths, found a list of "
                       "%d", TRAIN_FQ_MAX_PREC, n);
    L->prec.nprec = n;
    for (int k = 0; k < n; k++) {
        const train_spec_value *item = v->kind == TRAIN_SPEC_LIST ? &v->items[k] : v;
        long bits;
        if ((st = train_op_int(b, item, "bits", 1, TRAIN_FQ_MAX_BITS, &bits))) return st;
        for (int j = 0; j < k; j++)
            if (L->prec.bits[j] == bits) return train_op_fail(b, item->line, "bits: %ld is listed twice", bits);
        L->prec.bits[k] = (int)bits;
    }
    if ((st = train_op_opt_float(b, "clip", &L->clip_init, 6.0f, 0, 1e6, 1))) return st;
    L->ncoef = n;
    L->w_len = 1;
    return train_op_set_shape(b, L, in->c, in->h, in->w);
}

static void to_spec(const train_net *net, const train_layer *L, train_spec_layer *s) {
    long bits[TRAIN_FQ_MAX_PREC];
    for (int k = 0; k < L->prec.nprec; k++) bits[k] = L->prec.bits[k];
    train_spec_set_ints(s, "bits", bits, L->prec.nprec);
    if (L->clip_init != 6.0f) train_spec_set_float(s, "clip", L->clip_init);
}

static void init(train_net *net, const train_layer *L, uint64_t *rng) {
    net->params[L->w_off] = L->clip_init;
}

/* θ in use: the caller's, or one-hot on the largest bit width in buf. */
static const float *coefs(const train_layer *L, float *buf) {
    if (L->coef) return L->coef;
    int top = 0;
    for (int k = 0; k < L->prec.nprec; k++) {
        buf[k] = 0.0f;
        if (L->prec.bits[k] > L->prec.bits[top]) top = k;
    }
    buf[top] = 1.0f;
    return buf;
}

static void forward(const op_run *r) {
    const train_layer *L = r->L;
    train_pact_dims d = {r->n * op_sample(L), L->prec};
    float buf[TRAIN_FQ_MAX_PREC];
    train_pact_mix_forward(r->net->act[r->i], op_x(r, 0), coefs(L, buf), r->P[L->w_off], &d);
}

static void backward(const op_run *r) {
    const train_layer *L = r->L;
    train_pact_dims d = {r->n * op_sample(L), L->prec};
    float buf[TRAIN_FQ_MAX_PREC];
    train_pact_mix_backward(op_dx(r, 0), r->net->grads + L->w_off, L->dcoef, r->net->dact[r->i], op_x(r, 0),
                            coefs(L, buf), r->P[L->w_off], &d);
}

static const char *const PACT_KEYS[] = {"bits", "clip", NULL};

const op_desc train_op_pact_desc = {
    .name = "pact",
    .nvariants = 1,
    .variants = {{"pact", PACT_KEYS}},
    .min_inputs = 1, .max_inputs = 1,
    .param_names = {"clip", NULL},
    .build = build, .to_spec = to_spec, .init = init, .forward = forward, .backward = backward,
};
