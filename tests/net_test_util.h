/* Test helpers over whole networks (cmocka asserts). */
#ifndef DNAS_NET_TEST_UTIL_H
#define DNAS_NET_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

/* Same name, layers (op and variant, inputs, shapes, geometry, attributes)
 * and parameter / state layout. */
static void assert_same_net(const train_net *a, const train_net *b) {
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->nlayers, b->nlayers);
    assert_int_equal(a->output, b->output);
    for (int i = 0; i < a->nlayers; i++) {
        const train_layer *x = &a->layers[i], *y = &b->layers[i];
        if (strcmp(x->name, y->name) || x->op != y->op || x->variant != y->variant)
            fail_msg("layer %d: %s (%s) vs %s (%s)", i, x->name, train_layer_op_name(x), y->name,
                     train_layer_op_name(y));
        int fx[] = {x->ninputs, x->c,  x->h,  x->w,  x->kh,       x->kw,     x->sh,       x->sw,
                    x->dh,      x->dw, x->pt, x->pb, x->pl,       x->pr,     x->pad_same, x->groups,
                    x->has_bias, x->relu_next, x->bn_prev, x->ncoef, x->prec.nprec};
        int fy[] = {y->ninputs, y->c,  y->h,  y->w,  y->kh,       y->kw,     y->sh,       y->sw,
                    y->dh,      y->dw, y->pt, y->pb, y->pl,       y->pr,     y->pad_same, y->groups,
                    y->has_bias, y->relu_next, y->bn_prev, y->ncoef, y->prec.nprec};
        for (size_t k = 0; k < sizeof fx / sizeof fx[0]; k++)
            if (fx[k] != fy[k]) fail_msg("layer '%s': field %zu is %d vs %d", x->name, k, fx[k], fy[k]);
        for (int k = 0; k < x->ninputs; k++) assert_int_equal(x->inputs[k], y->inputs[k]);
        assert_true(x->cap == y->cap && x->p == y->p && x->eps == y->eps && x->momentum == y->momentum);
        assert_true(x->clip_init == y->clip_init);
        for (int k = 0; k < x->prec.nprec; k++) assert_int_equal(x->prec.bits[k], y->prec.bits[k]);
        assert_true(x->w_off == y->w_off && x->w_len == y->w_len);
        assert_true(x->b_off == y->b_off && x->b_len == y->b_len);
        assert_true(x->state_off == y->state_off);
    }
    assert_int_equal(a->nparams, b->nparams);
    assert_int_equal(a->nstate, b->nstate);
    assert_int_equal(a->nparam_table, b->nparam_table);
    for (int i = 0; i < a->nparam_table; i++) {
        const train_param *p = &a->param_table[i], *q = &b->param_table[i];
        assert_string_equal(p->name, q->name);
        assert_true(p->layer == q->layer && p->off == q->off && p->len == q->len);
    }
    for (int i = 0; i < a->nlayers; i++) {
        train_counts c = train_net_layer_counts(a, i), d = train_net_layer_counts(b, i);
        assert_true(c.weights == d.weights && c.biases == d.biases && c.bn == d.bn && c.macs == d.macs);
    }
}

/* Seeded weights (train_net_init), then conv biases N(0, 0.2^2) and BN
 * affine parameters and running statistics away from 0 and 1, so that BN
 * folding, calibration and integer export see non-trivial values. */
static __attribute__((unused)) void ntu_perturb(train_net *net, uint64_t seed) {
    train_net_init(net, seed);
    uint64_t rng = seed + 99;
    for (int i = 1; i < net->nlayers; i++) {
        train_layer *L = &net->layers[i];
        for (size_t k = 0; L->op == TRAIN_OP_CONV && k < L->b_len; k++)
            net->params[L->b_off + k] = 0.2f * train_rng_normal(&rng);
        if (L->op != TRAIN_OP_BN) continue;
        for (int c = 0; c < L->c; c++) {
            net->params[L->w_off + (size_t)c] = 0.5f + train_rng_uniform(&rng);
            net->params[L->b_off + (size_t)c] = train_rng_uniform(&rng) - 0.5f;
            net->state[L->state_off + (size_t)c] = 0.3f * train_rng_normal(&rng);
            net->state[L->state_off + (size_t)(L->c + c)] = 0.5f + 1.5f * train_rng_uniform(&rng);
        }
    }
}

/* Writes net as a model YAML file (train_net_write_yaml), loads that file
 * back as dnas summary / cost / train do (train_net_load), checks the two
 * are the same network and returns the copy. */
static __attribute__((unused)) train_net *write_and_reload(const train_net *net) {
    char path[] = "/tmp/dnas_test_net_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(train_net_write_yaml(f, net), 0);
    assert_int_equal(fclose(f), 0);
    train_net *back;
    dnas_error err;
    dnas_status st = train_net_load(&back, path, &err);
    if (st) fail_msg("reloading the written model: %s", err.msg);
    unlink(path);
    assert_same_net(net, back);
    return back;
}

#endif
