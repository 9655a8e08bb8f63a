/* Network forward / backward over the layer DAG, initialization, buffers,
 * BN + ReLU fusion and counts. Layers are stored in a topological order
 * (each reads only earlier layers), so forward walks them up and backward
 * walks them down; what each layer does is its op's (TRAIN_OP_TABLE). */
#include <math.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "graph_internal.h"

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
    for (int i = 0; net->layers && i < net->nlayers; i++) {
        free(net->layers[i].wbits_ch);
        free(net->layers[i].engine_of);
        free(net->layers[i].engine_names);
    }
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

/* Layers draw from one generator in layer order, so a network's initial
 * values depend on its seed and its layers only. */
void train_net_init(train_net *net, uint64_t seed) {
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    for (int i = 1; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        if (TRAIN_OP_TABLE[L->op]->init) TRAIN_OP_TABLE[L->op]->init(net, L, &rng);
    }
    net->rng = rng;
}

/* Floats of the per-batch buffers of layer L at batch n: act, dact and aux
 * (the op's: BN mean/invstd, dropout mask, max-pool argmax). */
static int64_t layer_floats(const train_layer *L, int64_t n, int64_t *act) {
    /* n x sample: below 2^31 x 2^24 (int batch, loader limits), no overflow */
    *act = n * (int64_t)sample_size(L);
    const op_desc *d = TRAIN_OP_TABLE[L->op];
    return 2 * *act + (d->aux_floats ? d->aux_floats(L, *act) : 0);
}

/* Largest scratch (conv) at batch n for the current thread count. */
static size_t scratch_floats(const train_net *net, int n) {
    size_t most = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const op_desc *d = TRAIN_OP_TABLE[net->layers[i].op];
        size_t s = d->scratch_floats ? d->scratch_floats(net, &net->layers[i], n) : 0;
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

void train_net_fuse(train_net *net) {
    int n = net->nlayers;
    int *readers = dnas_xcalloc((size_t)n, sizeof *readers);
    for (int j = 1; j < n; j++)
        for (int k = 0; k < net->layers[j].ninputs; k++) readers[net->layers[j].inputs[k]]++;
    for (int i = 1; i < n; i++) {
        train_layer *L = &net->layers[i];
        if (L->op != TRAIN_OP_RELU || net->layers[L->inputs[0]].op != TRAIN_OP_BN) continue;
        int bn = L->inputs[0];
        if (readers[bn] == 1 && bn != net->output) {
            net->layers[bn].relu_next = i;
            L->bn_prev = bn;
        }
    }
    free(readers);
}

void train_net_set_param_view(train_net *net, const float *view) { net->view = view; }

void train_net_set_mix(train_net *net, int layer, const float *coef, float *dcoef) {
    DNAS_ASSERT(layer > 0 && layer < net->nlayers && net->layers[layer].op == TRAIN_OP_MIX);
    DNAS_ASSERT(coef || !dcoef);
    net->layers[layer].coef = coef;
    net->layers[layer].dcoef = dcoef;
}

void train_net_set_pact_coef(train_net *net, int layer, const float *theta, float *dtheta) {
    DNAS_ASSERT(layer > 0 && layer < net->nlayers && net->layers[layer].op == TRAIN_OP_PACT);
    DNAS_ASSERT(theta || !dtheta);
    net->layers[layer].coef = theta;
    net->layers[layer].dcoef = dtheta;
}

/* The values forward and backward read as parameters. */
static const float *param_values(const train_net *net) { return net->view ? net->view : net->params; }

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
        op_run r = {net, L, i, n, training, param_values(net)};
        TRAIN_OP_TABLE[L->op]->forward(&r);
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
        /* a fused BN reads its ReLU's gradient; a fused ReLU leaves its
         * input's (the BN's) untouched */
        if (!L->relu_next)
            zero_once(net, i, n); /* a layer nothing reads gets a zero gradient */
        if (!L->bn_prev)
            for (int k = 0; k < L->ninputs; k++) zero_once(net, L->inputs[k], n);
        op_run r = {net, L, i, n, 1, param_values(net)};
        TRAIN_OP_TABLE[L->op]->backward(&r);
        if (net->prof_bwd) net->prof_bwd[i] += now_s() - t0;
    }
}

train_counts train_net_layer_counts(const train_net *net, int layer) {
    const train_layer *L = &net->layers[layer];
    train_counts c = {0, 0, 0, 0};
    return TRAIN_OP_TABLE[L->op]->counts ? TRAIN_OP_TABLE[L->op]->counts(net, L) : c;
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
