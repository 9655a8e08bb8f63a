/* bench_pit: PIT's mask math per search step against one training step of
 * the same network (DESIGN.md: the mask math must cost a small fraction of
 * a step).
 *
 * Per search step PIT runs (arch_split: val): masks from alpha
 * (search_pit_forward) and the view twice (search_pit_apply), the weight
 * gradients mapped back once and the architecture gradient once
 * (search_pit_backward), and the regularizer's cost through the bridge
 * with its gradient into alpha (search_bridge_eval + search_pit_state_backward).
 * A training step: train_net_forward + train_net_backward at batch 128,
 * one thread. Network: configs/models/tcn_fmnist.yaml (or argv[1]).
 *
 *   OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 build/bench/bench_pit [MODEL.yaml]
 *
 * Output: seconds of the mask math per step, of a training step, and the
 * ratio. */
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

int main(int argc, char **argv) {
    const char *model = argc > 1 ? argv[1] : "configs/models/tcn_fmnist.yaml";
    train_net *net;
    search_bridge *b;
    search_pit *p;
    dnas_error err;
    const int n = 128;
    if (train_net_load(&net, model, &err) || train_net_reserve(net, n, &err) ||
        search_bridge_init(&b, net, &err) || search_pit_init(&p, net, b, &err)) {
        fprintf(stderr, "bench_pit: %s\n", err.msg);
        return 1;
    }
    train_net_init(net, 1);
    const train_layer *in = &net->layers[0];
    size_t nx = (size_t)n * in->c * in->h * in->w, ny = (size_t)n * train_net_output_size(net);
    float *x = malloc(nx * sizeof *x), *dy = malloc(ny * sizeof *dy);
    float *dalpha = calloc(p->nalpha + 1, sizeof *dalpha);
    uint64_t rng = 7;
    for (size_t k = 0; k < nx; k++) x[k] = train_rng_uniform(&rng) - 0.5f;
    for (size_t k = 0; k < ny; k++) dy[k] = 1e-3f * (train_rng_uniform(&rng) - 0.5f);
    search_layer_state *s = calloc((size_t)net->nlayers, sizeof *s);
    search_cost_result r;
    search_cost_result_init(&r, b);
    search_cost_params cp = search_cost_default_params();

    int reps = 20;
    double t0 = now();
    for (int k = 0; k < reps; k++) {
        train_net_forward(net, x, n, 1);
        memset(net->grads, 0, net->nparams * sizeof(float));
        train_net_backward(net, dy, n);
    }
    double step = (now() - t0) / reps;

    int mreps = 200;
    t0 = now();
    for (int k = 0; k < mreps; k++) {
        search_pit_forward(p);
        search_pit_apply(p, net);
        search_pit_backward(p, net, NULL, 1);
        search_pit_apply(p, net);
        search_pit_backward(p, net, dalpha, 0);
        search_bridge_state_default(b, s, 8, 8);
        search_pit_state(p, s, 0);
        if (search_bridge_eval(b, s, &cp, &r, &err)) {
            fprintf(stderr, "bench_pit: %s\n", err.msg);
            return 1;
        }
        search_pit_state_backward(p, r.grad[SEARCH_COST_PARAMS], 1e-6, dalpha);
    }
    double mask = (now() - t0) / mreps;
    printf("%s: %zu params, %zu mask values; PIT mask math %.3g s per search step, training step "
           "(batch %d) %.3g s, ratio %.2g\n",
           net->name, net->nparams, p->nalpha, mask, n, step, mask / step);
    search_cost_result_free(&r);
    free(s);
    free(x);
    free(dy);
    free(dalpha);
    search_pit_free(p);
    search_bridge_free(b);
    train_net_free(net);
    return 0;
}
