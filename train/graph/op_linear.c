/* Linear: out (N, O) = flatten(x) (N, I) · W (O, I)^T + b (O). */
#include "graph_internal.h"

static dnas_status linear_build(const op_build *b, train_layer *L) {
    const train_layer *in = &b->net->layers[L->inputs[0]];
    dnas_status st;
    const train_spec_value *outv = train_op_attr(b, "out");
    if (!outv) return train_op_fail(b, b->s->line, "layer '%s': missing 'out' (output features)", L->name);
    long cout;
    if ((st = train_op_int(b, outv, "out", 1, DIM_MAX, &cout))) return st;
    if ((st = train_op_opt_bool(b, "bias", &L->has_bias, 1))) return st;
    int64_t wl = (int64_t)cout * in->c * in->h * in->w; /* < 2^24 * 2^31 */
    if (wl > SAMPLE_MAX)
        return train_op_shape_fail(b, L, "%ld x %d inputs = %lld weights: more than %ld", cout,
                             in->c * in->h * in->w, (long long)wl, SAMPLE_MAX);
    L->w_len = (size_t)wl;
    L->b_len = L->has_bias ? (size_t)cout : 0;
    if ((st = train_op_set_shape(b, L, cout, 1, 1))) return st;
    if ((st = train_op_wbits_build(b, L))) return st;
    return train_op_engines_build(b, L);
}

static void linear_to_spec(const train_net *net, const train_layer *L, train_spec_layer *s) {
    train_spec_set_int(s, "out", L->c);
    if (!L->has_bias) train_spec_set_bool(s, "bias", 0);
    train_op_wbits_to_spec(L, s);
    train_op_engines_to_spec(L, s);
}

static void linear_forward(const op_run *r) {
    const train_layer *L = r->L;
    const float *b = L->b_len ? r->P + L->b_off : NULL;
    train_linear_forward(r->net->act[r->i], op_x(r, 0), train_op_wbits_weights(r, r->P + L->w_off), b, r->n, (int)op_sample(op_in(r, 0)),
                         L->c);
}

static void linear_backward(const op_run *r) {
    const train_layer *L = r->L;
    train_net *net = r->net;
    float *db = L->b_len ? net->grads + L->b_off : NULL;
    train_linear_backward(op_dx(r, 0), net->grads + L->w_off, db, net->dact[r->i], op_x(r, 0),
                          L->wbits ? net->aux[r->i] : r->P + L->w_off, r->n, (int)op_sample(op_in(r, 0)), L->c);
}

static const char *const LINEAR_KEYS[] = {"out", "bias", "wbits", "engines", NULL};

const op_desc train_op_linear_desc = {
    .name = "linear",
    .nvariants = 1,
    .variants = {{"linear", LINEAR_KEYS}},
    .min_inputs = 1, .max_inputs = 1,
    .param_names = {"weight", "bias"},
    .build = linear_build, .to_spec = linear_to_spec, .aux_floats = train_op_wbits_aux, .init = train_op_weights_init,
    .forward = linear_forward, .backward = linear_backward, .counts = train_op_weights_counts,
};
