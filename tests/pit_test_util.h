/* Test helpers for PIT: a network from YAML text with random weights and
 * BN affine, its bridge and PIT state, and a random input batch. */
#ifndef DNAS_PIT_TEST_UTIL_H
#define DNAS_PIT_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "train.h"

enum { PIT_N = 3 };

typedef struct {
    train_net *net;
    search_bridge *bridge;
    search_pit *pit;
    float *x; /* (PIT_N, input) */
} pit_fixture;

/* A residual network: c1 and c2 meet in an add, the depthwise reads the
 * sum (one channel group of 4); pw: a group of 6; fc is the output. */
static const char *const PIT_RES_NET = "input: [3, 6, 6]\n"
                                       "layers:\n"
                                       "  - {name: c1, op: conv2d, out: 4, kernel: 3, padding: same, bias: false}\n"
                                       "  - {name: bn1, op: batchnorm}\n"
                                       "  - {name: r1, op: relu}\n"
                                       "  - {name: c2, op: conv2d, out: 4, kernel: 3, padding: same}\n"
                                       "  - {name: bn2, op: batchnorm}\n"
                                       "  - {name: sum, op: add, inputs: [bn2, r1]}\n"
                                       "  - {name: dw, op: depthwise, kernel: 3, padding: same}\n"
                                       "  - {name: bnd, op: batchnorm}\n"
                                       "  - {name: rd, op: relu}\n"
                                       "  - {name: pw, op: conv2d, out: 6, kernel: 1}\n"
                                       "  - {name: bnp, op: batchnorm}\n"
                                       "  - {name: rp, op: relu6}\n"
                                       "  - {name: gp, op: global_avgpool}\n"
                                       "  - {name: fc, op: linear, out: 5}\n";

static inline void pit_fixture_init(pit_fixture *f, const char *yaml) {
    dnas_error err;
    if (train_net_load_string(&f->net, yaml, "pit.yaml", &err)) fail_msg("load: %s", err.msg);
    train_net_init(f->net, 3);
    uint64_t rng = 11;
    for (int i = 0; i < f->net->nlayers; i++) {
        const train_layer *L = &f->net->layers[i];
        if (L->op == TRAIN_OP_BN)
            for (size_t k = 0; k < L->w_len; k++) {
                f->net->params[L->w_off + k] = 0.5f + train_rng_uniform(&rng);
                f->net->params[L->b_off + k] = 0.3f * (train_rng_uniform(&rng) - 0.5f);
            }
        else if (L->b_len)
            for (size_t k = 0; k < L->b_len; k++)
                f->net->params[L->b_off + k] = 0.2f * (train_rng_uniform(&rng) - 0.5f);
    }
    if (train_net_reserve(f->net, 8, &err)) fail_msg("reserve: %s", err.msg);
    if (search_bridge_init(&f->bridge, f->net, &err)) fail_msg("bridge: %s", err.msg);
    if (search_pit_init(&f->pit, f->net, f->bridge, &err)) fail_msg("pit: %s", err.msg);
    const train_layer *in = &f->net->layers[0];
    size_t n = (size_t)PIT_N * in->c * in->h * in->w;
    f->x = malloc(n * sizeof *f->x);
    for (size_t k = 0; k < n; k++)
        f->x[k] = 2.0f * train_rng_uniform(&rng) - 1.0f;
}

static inline void pit_fixture_free(pit_fixture *f) {
    search_pit_free(f->pit);
    search_bridge_free(f->bridge);
    train_net_free(f->net);
    free(f->x);
}

/* The bridge state of the masks (malloc'd, nlayers entries). */
static inline search_layer_state *pit_state(pit_fixture *f) {
    search_layer_state *s = calloc((size_t)f->net->nlayers, sizeof *s);
    search_bridge_state_default(f->bridge, s, 8, 8);
    search_pit_state(f->pit, s, 0);
    return s;
}

/* dL/dalpha (malloc'd) of L = Σ_k sin(k)·out_k after a training-mode forward through the view. */
static inline float *pit_task_grad(pit_fixture *f) {
    search_pit_apply(f->pit, f->net);
    train_net_forward(f->net, f->x, PIT_N, 1);
    size_t n = (size_t)PIT_N * train_net_output_size(f->net);
    float *r = malloc(n * sizeof *r), *dalpha = calloc(f->pit->nalpha + 1, sizeof *dalpha);
    for (size_t k = 0; k < n; k++)
        r[k] = sinf((float)k + 1.0f);
    memset(f->net->grads, 0, f->net->nparams * sizeof(float));
    train_net_backward(f->net, r, PIT_N);
    search_pit_backward(f->pit, f->net, dalpha, 0);
    free(r);
    return dalpha;
}

#endif
