/* Network forward / backward over the layer DAG, initialization, buffers
 * and counts. Layers are stored in a topological order (each reads only
 * earlier layers), so forward walks them up and backward walks them down. */
#include <math.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "net.h"

static void free_buffers(train_net *net) {
    if (net->act)
        for (int i = 0; i < net->nlayers; i++) {
            free(net->act[i]);
            free(net->dact[i]);
            free(net->aux[i]);
        }
    free(net->act);
    free(net->dact);
    free(net->aux);
    free(net->scratch);
    free(net->dact_ready);
    net->dact_ready = NULL;
    net->act = net->dact = net->aux = NULL;
    net->scratch = NULL;
}

void train_net_free(train_net *net) {
    if (!net) return;
    free_buffers(net);
    free(net->layers);
    free(net->params);
    free(net->grads);
    free(net->param_table);
    free(net->state);
    free(net->prof_fwd);
    free(net->prof_bwd);
    free(net->text);
    free(net);
}

int train_net_find(const train_net *net, const char *name) {
    for (int i = 0; i < net->nlayers; i++)
        if (!strcmp(net->layers[i].name, name)) return i;
    return -1;
}

static size_t sample_size(const train_layer *L) { return (size_t)L->c * L->h * L->w; }

int train_net_output_size(const train_net *net) {
    return (int)sample_size(&net->layers[net->output]);
}

static train_conv_dims conv_dims(const train_net *net, const train_layer *L, int n) {
    const train_layer *in = &net->layers[L->inputs[0]];
    train_conv_dims d = {
        .n = n, .cin = in->c, .hin = in->h, .win = in->w,
        .cout = L->c, .hout = L->h, .wout = L->w,
        .kh = L->kh, .kw = L->kw, .sh = L->sh, .sw = L->sw, .dh = L->dh, .dw = L->dw,
        .pt = L->pt, .pl = L->pl, .groups = L->groups,
    };
    return d;
}

static train_pool_dims pool_dims(const train_net *net, const train_layer *L, int n) {
    const train_layer *in = &net->layers[L->inputs[0]];
    train_pool_dims d = {
        .n = n, .c = L->c, .hin = in->h, .win = in->w, .hout = L->h, .wout = L->w,
        .kh = L->kh, .kw = L->kw, .sh = L->sh, .sw = L->sw, .pt = L->pt, .pl = L->pl,
    };
    return d;
}

void train_net_init(train_net *net, uint64_t seed) {
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    for (int i = 1; i < net->nlayers; i++) {
        train_layer *L = &net->layers[i];
        float *w = net->params + L->w_off, *b = net->params + L->b_off;
        if (L->op == TRAIN_OP_CONV || L->op == TRAIN_OP_LINEAR) {
            /* He-uniform: Var(w) = 2 / fan_in keeps ReLU activations at unit scale */
            size_t fan_in = L->w_len / (size_t)L->c;
            float bound = sqrtf(6.0f / (float)fan_in);
            for (size_t k = 0; k < L->w_len; k++) w[k] = (2.0f * train_rng_uniform(&rng) - 1.0f) * bound;
            memset(b, 0, L->b_len * sizeof *b);
        } else if (L->op == TRAIN_OP_BN) {
            for (int c = 0; c < L->c; c++) {
                w[c] = 1.0f;
                b[c] = 0.0f;
                net->state[L->state_off + c] = 0.0f;
                net->state[L->state_off + L->c + c] = 1.0f;
            }
        }
    }
    net->rng = rng;
}

/* Floats of the per-batch buffers of layer L at batch n: act, dact and aux
 * (BN mean/invstd, dropout mask, max-pool argmax). */
static int64_t layer_floats(const train_layer *L, int64_t n, int64_t *act) {
    /* n x sample: below 2^31 x 2^24 (int batch, loader limits), no overflow */
    *act = n * (int64_t)sample_size(L);
    int64_t aux = L->op == TRAIN_OP_BN ? 2 * (int64_t)L->c
                  : L->op == TRAIN_OP_DROPOUT || L->op == TRAIN_OP_MAXPOOL ? *act
                                                                          : 0;
    return 2 * *act + aux;
}

/* Largest conv scratch at batch n for the current thread count. */
static size_t scratch_floats(const train_net *net, int n) {
    size_t most = 0;
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].op == TRAIN_OP_CONV) {
            train_conv_dims d = conv_dims(net, &net->layers[i], n);
            size_t s = train_conv2d_scratch_floats(&d);
            if (s > most) most = s;
        }
    return most;
}

static int max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

dnas_status train_net_reserve(train_net *net, int max_batch, dnas_error *err) {
    DNAS_ASSERT(max_batch >= 1);
    int threads = max_threads();
    int grow_batch = !net->act || max_batch > net->max_batch;
    if (!grow_batch && threads <= net->scratch_threads) return DNAS_OK;
    int batch = grow_batch ? max_batch : net->max_batch;
    /* 1. what the buffers would take, checked before anything is freed */
    int64_t floats = 0, act, most = -1;
    int largest = 0, ok = 1;
    for (int i = 0; i < net->nlayers; i++) {
        ok &= !dnas_add64(floats, layer_floats(&net->layers[i], batch, &act), &floats);
        if (act > most) most = act, largest = i;
    }
    size_t scratch = scratch_floats(net, batch);
    ok &= scratch <= INT64_MAX / 8 && !dnas_add64(floats, (int64_t)scratch, &floats) &&
          floats <= INT64_MAX / 4;
    const train_layer *L = &net->layers[largest];
    char what[400];
    snprintf(what, sizeof what,
             "the buffers of network '%s' at batch %d (largest layer '%s', (%d, %d, %d) per sample)",
             net->name, batch, L->name, L->c, L->h, L->w);
    dnas_status st = dnas_check_bytes(ok ? (uint64_t)floats * sizeof(float) : UINT64_MAX, what, err);
    if (st) return st;
    /* 2. a thread count raised since: only the conv scratch grows */
    if (!grow_batch) {
        free(net->scratch);
        net->scratch = dnas_xcalloc(scratch, sizeof(float));
        net->scratch_floats = scratch;
        net->scratch_threads = threads;
        return DNAS_OK;
    }
    free_buffers(net);
    net->max_batch = batch;
    net->act = dnas_xcalloc((size_t)net->nlayers, sizeof(float *));
    net->dact = dnas_xcalloc((size_t)net->nlayers, sizeof(float *));
    net->aux = dnas_xcalloc((size_t)net->nlayers, sizeof(float *));
    net->dact_ready = dnas_xcalloc((size_t)net->nlayers, 1);
    for (int i = 0; i < net->nlayers; i++) {
        int64_t all = layer_floats(&net->layers[i], batch, &act);
        net->act[i] = dnas_xcalloc((size_t)act, sizeof(float));
        net->dact[i] = dnas_xcalloc((size_t)act, sizeof(float));
        if (all > 2 * act) net->aux[i] = dnas_xcalloc((size_t)(all - 2 * act), sizeof(float));
    }
    net->scratch = dnas_xcalloc(scratch, sizeof(float));
    net->scratch_floats = scratch;
    net->scratch_threads = threads;
    return DNAS_OK;
}

/* BN layer i runs fused with its ReLU (neither carries a mask now). */
static int fused_bn_relu(const train_net *net, int i) {
    const train_layer *L = &net->layers[i];
    return L->relu_next && !L->out_mask && !net->layers[L->relu_next].out_mask;
}

/* x[n, c, :] *= mask[c] over hw values per channel */
static void scale_channels(float *x, const float *mask, int n, int c, int hw) {
    for (int b = 0; b < n; b++)
        for (int k = 0; k < c; k++) {
            float m = mask[k];
            float *p = x + ((size_t)b * c + k) * hw;
            for (int j = 0; j < hw; j++) p[j] *= m;
        }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void train_net_profile(train_net *net) {
    free(net->prof_fwd);
    free(net->prof_bwd);
    net->prof_fwd = dnas_xcalloc((size_t)net->nlayers, sizeof(double));
    net->prof_bwd = dnas_xcalloc((size_t)net->nlayers, sizeof(double));
}

void train_net_profile_print(const train_net *net, FILE *f) {
    if (!net->prof_fwd) return;
    double total = 0;
    for (int i = 0; i < net->nlayers; i++) total += net->prof_fwd[i] + net->prof_bwd[i];
    fprintf(f, "%-20s %-15s %10s %10s %7s\n", "layer", "op", "fwd s", "bwd s", "share");
    for (int i = 1; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        double t = net->prof_fwd[i] + net->prof_bwd[i];
        fprintf(f, "%-20s %-15s %10.3f %10.3f %6.1f%%\n", L->name, train_op_name(L->op), net->prof_fwd[i],
                net->prof_bwd[i], total > 0 ? 100.0 * t / total : 0.0);
    }
    fprintf(f, "%-20s %-15s %21.3f\n", "total", "", total);
}

const float *train_net_forward(train_net *net, const float *x, int n, int training) {
    DNAS_ASSERT(net->act && n <= net->max_batch);
    memcpy(net->act[0], x, (size_t)n * sample_size(&net->layers[0]) * sizeof(float));
    for (int i = 1; i < net->nlayers; i++) {
        double t0 = net->prof_fwd ? now_s() : 0;
        train_layer *L = &net->layers[i];
        float *out = net->act[i];
        const float *in = net->act[L->inputs[0]];
        const train_layer *inl = &net->layers[L->inputs[0]];
        size_t count = (size_t)n * sample_size(L);
        const float *w = net->params + L->w_off;
        const float *b = L->b_len ? net->params + L->b_off : NULL;
        switch (L->op) {
        case TRAIN_OP_CONV: {
            train_conv_dims d = conv_dims(net, L, n);
            train_conv2d_forward(out, in, w, b, &d, net->scratch, net->scratch_floats);
            break;
        }
        case TRAIN_OP_LINEAR:
            train_linear_forward(out, in, w, b, n, (int)sample_size(inl), L->c);
            break;
        case TRAIN_OP_BN: {
            train_bn_dims d = {n, L->c, L->h * L->w, L->eps, L->momentum};
            float *rm = net->state + L->state_off, *rv = rm + L->c;
            const float *beta = net->params + L->b_off;
            if (fused_bn_relu(net, i)) {
                /* writes the ReLU's output; this layer's own act stays unused */
                const train_layer *R = &net->layers[L->relu_next];
                float *y = net->act[L->relu_next];
                if (training)
                    train_bn_relu_forward_train(y, net->aux[i], net->aux[i] + L->c, rm, rv, in, w,
                                                beta, R->cap, &d);
                else
                    train_bn_relu_forward_eval(y, in, w, beta, rm, rv, R->cap, &d);
            } else if (training) {
                train_bn_forward_train(out, net->aux[i], net->aux[i] + L->c, rm, rv, in, w, beta, &d);
            } else {
                train_bn_forward_eval(out, in, w, beta, rm, rv, &d);
            }
            break;
        }
        case TRAIN_OP_RELU:
            if (!(L->bn_prev && fused_bn_relu(net, L->bn_prev))) train_relu_forward(out, in, count, L->cap);
            break;
        case TRAIN_OP_MAXPOOL: {
            train_pool_dims d = pool_dims(net, L, n);
            train_maxpool_forward(out, (int32_t *)(void *)net->aux[i], in, &d);
            break;
        }
        case TRAIN_OP_AVGPOOL: {
            train_pool_dims d = pool_dims(net, L, n);
            train_avgpool_forward(out, in, &d);
            break;
        }
        case TRAIN_OP_GAVGPOOL:
            train_gavgpool_forward(out, in, n, L->c, inl->h * inl->w);
            break;
        case TRAIN_OP_ADD:
            train_add_forward(out, in, net->act[L->inputs[1]], count);
            for (int k = 2; k < L->ninputs; k++) train_accumulate(out, net->act[L->inputs[k]], count);
            break;
        case TRAIN_OP_CONCAT: {
            const float *ins[TRAIN_MAX_INPUTS];
            int ch[TRAIN_MAX_INPUTS];
            for (int k = 0; k < L->ninputs; k++) {
                ins[k] = net->act[L->inputs[k]];
                ch[k] = net->layers[L->inputs[k]].c;
            }
            train_concat_forward(out, ins, ch, L->ninputs, n, L->h * L->w);
            break;
        }
        case TRAIN_OP_DROPOUT:
            if (training && L->p > 0)
                train_dropout_forward(out, net->aux[i], in, count, L->p, &net->rng);
            else
                memcpy(out, in, count * sizeof(float));
            break;
        case TRAIN_OP_FLATTEN:
            memcpy(out, in, count * sizeof(float));
            break;
        case TRAIN_OP_INPUT:
        case TRAIN_OP_COUNT_:
            DNAS_ASSERT(0);
        }
        if (L->out_mask) scale_channels(out, L->out_mask, n, L->c, L->h * L->w);
        if (net->prof_fwd) net->prof_fwd[i] += now_s() - t0;
    }
    return net->act[net->output];
}

/* Zero a gradient buffer just before its first consumer accumulates into
 * it (not all up front): the buffer is then still in cache when the
 * consumer reads it back. */
static void zero_once(train_net *net, int i, int n) {
    if (net->dact_ready[i]) return;
    memset(net->dact[i], 0, (size_t)n * sample_size(&net->layers[i]) * sizeof(float));
    net->dact_ready[i] = 1;
}

void train_net_backward(train_net *net, const float *dout, int n) {
    memset(net->dact_ready, 0, (size_t)net->nlayers);
    memcpy(net->dact[net->output], dout, (size_t)n * sample_size(&net->layers[net->output]) * sizeof(float));
    net->dact_ready[net->output] = 1;
    for (int i = net->nlayers - 1; i >= 1; i--) {
        double t0 = net->prof_bwd ? now_s() : 0;
        train_layer *L = &net->layers[i];
        int fused_relu = L->bn_prev && fused_bn_relu(net, L->bn_prev);
        if (!(L->op == TRAIN_OP_BN && fused_bn_relu(net, i)))
            zero_once(net, i, n); /* a layer nothing reads gets a zero gradient */
        if (!fused_relu)
            for (int k = 0; k < L->ninputs; k++) zero_once(net, L->inputs[k], n);
        float *dy = net->dact[i];
        size_t count = (size_t)n * sample_size(L);
        if (L->out_mask) scale_channels(dy, L->out_mask, n, L->c, L->h * L->w);
        int src = L->inputs[0];
        const train_layer *inl = &net->layers[src];
        const float *in = net->act[src];
        /* the network input needs no gradient */
        float *dx = src > 0 ? net->dact[src] : NULL;
        const float *w = net->params + L->w_off;
        float *dw = net->grads + L->w_off;
        float *db = L->b_len ? net->grads + L->b_off : NULL;
        switch (L->op) {
        case TRAIN_OP_CONV: {
            train_conv_dims d = conv_dims(net, L, n);
            train_conv2d_backward(dx, dw, db, dy, in, w, &d, net->scratch, net->scratch_floats);
            break;
        }
        case TRAIN_OP_LINEAR:
            train_linear_backward(dx, dw, db, dy, in, w, n, (int)sample_size(inl), L->c);
            break;
        case TRAIN_OP_BN: {
            train_bn_dims d = {n, L->c, L->h * L->w, L->eps, L->momentum};
            float *db_bn = net->grads + L->b_off;
            if (fused_bn_relu(net, i)) {
                int r = L->relu_next;
                train_bn_relu_backward(dx, dw, db_bn, net->dact[r], net->act[r], in, w, net->aux[i],
                                       net->aux[i] + L->c, net->layers[r].cap, &d);
            } else {
                train_bn_backward(dx, dw, db_bn, dy, in, w, net->aux[i], net->aux[i] + L->c, &d);
            }
            break;
        }
        case TRAIN_OP_RELU:
            /* fused: its BN reads this layer's gradient directly */
            if (dx && !(L->bn_prev && fused_bn_relu(net, L->bn_prev)))
                train_relu_backward(dx, dy, in, count, L->cap);
            break;
        case TRAIN_OP_MAXPOOL: {
            train_pool_dims d = pool_dims(net, L, n);
            if (dx) train_maxpool_backward(dx, dy, (const int32_t *)(const void *)net->aux[i], &d);
            break;
        }
        case TRAIN_OP_AVGPOOL: {
            train_pool_dims d = pool_dims(net, L, n);
            if (dx) train_avgpool_backward(dx, dy, &d);
            break;
        }
        case TRAIN_OP_GAVGPOOL:
            if (dx) train_gavgpool_backward(dx, dy, n, L->c, inl->h * inl->w);
            break;
        case TRAIN_OP_ADD:
            for (int k = 0; k < L->ninputs; k++)
                if (L->inputs[k] > 0) train_accumulate(net->dact[L->inputs[k]], dy, count);
            break;
        case TRAIN_OP_CONCAT: {
            float *dxs[TRAIN_MAX_INPUTS];
            int ch[TRAIN_MAX_INPUTS];
            for (int k = 0; k < L->ninputs; k++) {
                /* the network input's gradient is computed but never read */
                dxs[k] = net->dact[L->inputs[k]];
                ch[k] = net->layers[L->inputs[k]].c;
            }
            train_concat_backward(dxs, dy, ch, L->ninputs, n, L->h * L->w);
            break;
        }
        case TRAIN_OP_DROPOUT:
            if (dx) {
                if (L->p > 0)
                    train_dropout_backward(dx, dy, net->aux[i], count);
                else
                    train_accumulate(dx, dy, count);
            }
            break;
        case TRAIN_OP_FLATTEN:
            if (dx) train_accumulate(dx, dy, count);
            break;
        case TRAIN_OP_INPUT:
        case TRAIN_OP_COUNT_:
            DNAS_ASSERT(0);
        }
        if (net->prof_bwd) net->prof_bwd[i] += now_s() - t0;
    }
}

train_counts train_net_layer_counts(const train_net *net, int layer) {
    const train_layer *L = &net->layers[layer];
    train_counts c = {0, 0, 0, 0};
    if (L->op == TRAIN_OP_CONV || L->op == TRAIN_OP_LINEAR) {
        c.weights = (int64_t)L->w_len;
        c.biases = (int64_t)L->b_len;
        c.macs = (int64_t)L->w_len * L->h * L->w;
    } else if (L->op == TRAIN_OP_BN) {
        c.bn = (int64_t)(L->w_len + L->b_len);
    }
    return c;
}

train_counts train_net_total_counts(const train_net *net) {
    train_counts t = {0, 0, 0, 0};
    for (int i = 1; i < net->nlayers; i++) {
        train_counts c = train_net_layer_counts(net, i);
        t.weights += c.weights;
        t.biases += c.biases;
        t.bn += c.bn;
        t.macs += c.macs;
    }
    return t;
}
