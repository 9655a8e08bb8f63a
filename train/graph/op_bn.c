/* BatchNorm over (N, H, W) per channel: γ and β trained (read from the
 * parameter view when one is set), running mean and variance in
 * net->state. A BN whose only reader is a ReLU (L->relu_next, set by
 * train_net_fuse) runs the fused kernel and writes the ReLU's output; the ReLU
 * then does nothing (op_elementwise.c). */
#include "graph_internal.h"

static dnas_status build(const op_build *b, train_layer *L) {
    dnas_status st;
    if ((st = train_op_opt_float(b, "eps", &L->eps, 1e-5f, 0, 1, 1)) ||
        (st = train_op_opt_float(b, "momentum", &L->momentum, 0.1f, 0, 1, 0)))
        return st;
    const train_layer *in = &b->net->layers[L->inputs[0]];
    L->w_len = L->b_len = (size_t)in->c;
    return train_op_set_shape(b, L, in->c, in->h, in->w);
}

static void to_spec(const train_net *net, const train_layer *L, train_spec_layer *s) {
    if (L->eps != 1e-5f) train_spec_set_float(s, "eps", L->eps);
    if (L->momentum != 0.1f) train_spec_set_float(s, "momentum", L->momentum);
}

/* running mean (C) then running variance (C) */
static size_t state_floats(const train_layer *L) { return 2 * (size_t)L->c; }
/* batch mean (C) then inverse std (C) saved for backward */
static int64_t aux_floats(const train_layer *L, int64_t act) { return 2 * (int64_t)L->c; }

static void init(train_net *net, const train_layer *L, uint64_t *rng) {
    float *gamma = net->params + L->w_off, *beta = net->params + L->b_off;
    float *rm = net->state + L->state_off, *rv = rm + L->c;
    for (int c = 0; c < L->c; c++) {
        gamma[c] = 1.0f;
        beta[c] = 0.0f;
        rm[c] = 0.0f;
        rv[c] = 1.0f;
    }
}

static void forward(const op_run *r) {
    const train_layer *L = r->L;
    train_net *net = r->net;
    train_bn_dims d = {r->n, L->c, L->h * L->w, L->eps, L->momentum};
    float *rm = net->state + L->state_off, *rv = rm + L->c;
    float *mean = net->aux[r->i], *invstd = mean + L->c;
    const float *gamma = r->P + L->w_off, *beta = r->P + L->b_off, *in = op_x(r, 0);
    if (L->relu_next) {
        /* writes the ReLU's output; this layer's own act stays unused */
        float cap = net->layers[L->relu_next].cap, *y = net->act[L->relu_next];
        if (r->training)
            train_bn_relu_forward_train(y, mean, invstd, rm, rv, in, gamma, beta, cap, &d);
        else
            train_bn_relu_forward_eval(y, in, gamma, beta, rm, rv, cap, &d);
    } else if (r->training) {
        train_bn_forward_train(net->act[r->i], mean, invstd, rm, rv, in, gamma, beta, &d);
    } else {
        train_bn_forward_eval(net->act[r->i], in, gamma, beta, rm, rv, &d);
    }
}

static void backward(const op_run *r) {
    const train_layer *L = r->L;
    train_net *net = r->net;
    train_bn_dims d = {r->n, L->c, L->h * L->w, L->eps, L->momentum};
    const float *gamma = r->P + L->w_off, *mean = net->aux[r->i], *invstd = mean + L->c;
    float *dgamma = net->grads + L->w_off, *dbeta = net->grads + L->b_off;
    if (L->relu_next) {
        int k = L->relu_next;
        train_bn_relu_backward(op_dx(r, 0), dgamma, dbeta, net->dact[k], net->act[k], op_x(r, 0), gamma, mean,
                               invstd, net->layers[k].cap, &d);
    } else {
        train_bn_backward(op_dx(r, 0), dgamma, dbeta, net->dact[r->i], op_x(r, 0), gamma, mean, invstd, &d);
    }
}

static train_counts counts(const train_net *net, const train_layer *L) {
    train_counts c = {0, 0, (int64_t)(L->w_len + L->b_len), 0};
    return c;
}

static const char *const BN_KEYS[] = {"eps", "momentum", NULL};

const op_desc train_op_bn_desc = {
    .name = "batchnorm",
    .nvariants = 1,
    .variants = {{"batchnorm", BN_KEYS}},
    .min_inputs = 1, .max_inputs = 1,
    .param_names = {"gamma", "beta"},
    .build = build, .to_spec = to_spec, .state_floats = state_floats, .aux_floats = aux_floats,
    .init = init, .forward = forward, .backward = backward, .counts = counts,
};
