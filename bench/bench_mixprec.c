/* bench_mixprec: a MixPrec search epoch against a plain training epoch of
 * the same seed, side by side in one process (the budget: at most
 * 2×).
 *
 * Plain epoch: per batch, the seed's train_net_forward + train_net_backward
 * (batch 128, BN + ReLU fused as training runs them).
 * MixPrec epoch: the supernet (ReLUs -> pact over 2/4/8 bits) with the
 * view; per batch θ from alpha, the view (Σ_p θ_p·Q_p(W) of every conv /
 * linear), forward + backward through the pacts, the architecture gradient
 * and the weight-gradient mapping, and the regularizer through the cost
 * bridge (bit-ops) with its gradient: what search/run/run_search.c does per
 * batch with arch_split: train. arch_split: val runs the view, forward and
 * backward once more per batch on a validation batch (reported too).
 * Optimizer steps are left out on both sides (the same Adam over the same
 * weights). Random inputs; `batches` batches per epoch (default 10).
 *
 *   OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 nice build/bench/bench_mixprec \
 *       [MODEL.yaml] [batches] [channel]
 *
 * `channel` as third argument searches per-channel weight precisions with
 * 0 bits (pruning) among the candidates. Output: seconds per epoch of
 * each, and the ratios. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "search.h"
#include "train.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void fail(const dnas_error *err) {
    fprintf(stderr, "bench_mixprec: %s\n", err->msg);
    exit(1);
}

int main(int argc, char **argv) {
    const char *model = argc > 1 ? argv[1] : "configs/models/resnet8_fmnist.yaml";
    int batches = argc > 2 ? atoi(argv[2]) : 10;
    int channel = argc > 3 && !strcmp(argv[3], "channel");
    const int n = 128;
    if (batches < 1) batches = 1;
    dnas_error err;
    train_net *seed, *super;
    if (train_net_load(&seed, model, &err) || train_net_load(&super, model, &err)) fail(&err);
    search_mixprec_config cfg;
    search_mixprec_config_default(&cfg);
    if (channel)
        cfg.granularity = SEARCH_MIXPREC_CHANNEL, cfg.wbits = (train_fq_precs){4, {0, 2, 4, 8}};
    search_bridge *b;
    search_mixprec *m;
    if (search_mixprec_prepare(&cfg, &super, &err) || train_net_reserve(seed, n, &err) ||
        train_net_reserve(super, n, &err) || search_bridge_init(&b, super, &err) ||
        search_mixprec_init(&m, &cfg, super, b, &err))
        fail(&err);
    train_net_init(seed, 1);
    train_net_init(super, 1);
    const train_layer *in = &seed->layers[0];
    size_t nx = (size_t)n * in->c * in->h * in->w, ny = (size_t)n * train_net_output_size(seed);
    float *x = malloc(nx * sizeof *x), *dy = malloc(ny * sizeof *dy);
    float *dalpha = calloc(m->nalpha + 1, sizeof *dalpha);
    uint64_t rng = 7;
    for (size_t k = 0; k < nx; k++)
        x[k] = train_rng_uniform(&rng);
    for (size_t k = 0; k < ny; k++)
        dy[k] = 1e-3f * (train_rng_uniform(&rng) - 0.5f);
    search_layer_state *s = calloc((size_t)super->nlayers, sizeof *s);
    search_cost_result r;
    search_cost_result_init(&r, b);
    search_cost_params cp = search_cost_default_params();

    /* one warm pass each, then the epochs, alternated so that a loaded
     * machine slows both alike */
    double plain = 0, search = 0, step2 = 0;
    for (int rep = -1; rep < batches; rep++) {
        double t0 = now();
        train_net_forward(seed, x, n, 1);
        memset(seed->grads, 0, seed->nparams * sizeof(float));
        train_net_backward(seed, dy, n);
        double t1 = now();
        search_mixprec_forward(m);
        search_mixprec_apply(m, super);
        train_net_forward(super, x, n, 1);
        memset(super->grads, 0, super->nparams * sizeof(float));
        train_net_backward(super, dy, n);
        search_mixprec_backward(m, super, dalpha, 0);
        search_mixprec_backward(m, super, NULL, 1);
        search_bridge_state_default(b, s, 8, 8);
        search_mixprec_state(m, s, 0);
        if (search_bridge_eval(b, s, &cp, &r, &err)) fail(&err);
        search_mixprec_state_backward(m, r.grad[SEARCH_COST_BIT_OPS], 1e-9, dalpha);
        double t2 = now();
        /* arch_split: val adds the view and a forward / backward on a validation batch */
        search_mixprec_apply(m, super);
        train_net_forward(super, x, n, 1);
        memset(super->grads, 0, super->nparams * sizeof(float));
        train_net_backward(super, dy, n);
        double t3 = now();
        if (rep < 0) continue;
        plain += t1 - t0, search += t2 - t1, step2 += t3 - t2;
    }
    printf("%s: %d batches of %d, one thread; MixPrec %s, %zu architecture parameters\n",
           seed->name, batches, n,
           channel ? "per channel over 0/2/4/8 bits" : "per layer over 2/4/8 bits", m->nalpha);
    printf("plain epoch %.3f s | MixPrec search epoch (arch_split: train) %.3f s, ratio %.2f | "
           "(arch_split: val) %.3f s, ratio %.2f\n",
           plain, search, search / plain, search + step2, (search + step2) / plain);
    search_cost_result_free(&r);
    free(s);
    free(x);
    free(dy);
    free(dalpha);
    search_mixprec_free(m);
    search_bridge_free(b);
    train_net_free(super);
    train_net_free(seed);
    return 0;
}
