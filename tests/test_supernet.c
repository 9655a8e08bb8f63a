/* SuperNet (search/supernet.h): choice blocks and their branches read from
 * the graph (shared stems, skips, pools inside a branch) and what is
 * refused; θ in every mode (hand values, reproducible Gumbel noise, the
 * Gumbel-max law of hard_gumbel); the task gradient through the mix layers
 * against central differences (softmax, gumbel at fixed noise; hard: the
 * straight-through chain); the temperature schedule; the expected cost's
 * gradient through the bridge's presence against central differences, and
 * the hard state's cost equal to the exported network's; the export equal
 * to the supernet at one-hot θ in eval mode, written and read back. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "net_test_util.h"
#include "search.h"
#include "supernet.h"
#include "train.h"

enum { N = 4 };

/* stem is shared (never in a branch); block m1: [a1 bn relu | a2 relu |
 * skip]; block m2: [b1 | avgpool b2p + b2]. */
static const char *NET = "input: [3, 1, 10]\n"
                         "layers:\n"
                         "  - {name: stem, op: conv1d, out: 4, kernel: 3, padding: same}\n"
                         "  - {name: a1, op: conv1d, out: 4, kernel: 3, padding: same, bias: false}\n"
                         "  - {name: a1bn, op: batchnorm}\n"
                         "  - {name: a1r, op: relu}\n"
                         "  - {name: a2, op: conv1d, out: 4, kernel: 5, padding: same, input: stem}\n"
                         "  - {name: a2r, op: relu}\n"
                         "  - {name: m1, op: mix, inputs: [a1r, a2r, stem]}\n"
                         "  - {name: b1, op: conv1d, out: 6, kernel: 3, stride: 2, padding: same}\n"
                         "  - {name: b2p, op: avgpool, kernel: [1, 2], input: m1}\n"
                         "  - {name: b2, op: conv1d, out: 6, kernel: 1}\n"
                         "  - {name: m2, op: mix, inputs: [b1, b2]}\n"
                         "  - {name: bn, op: batchnorm}\n"
                         "  - {name: gp, op: global_avgpool}\n"
                         "  - {name: fc, op: linear, out: 3}\n";

typedef struct {
    train_net *net;
    search_supernet *s;
    float *x, *r; /* input batch (N samples), output weights of the loss Σ r·out */
} fixture;

static void fx_init(fixture *f, const char *yaml, search_supernet_mode mode, uint64_t seed) {
    dnas_error err;
    if (train_net_load_string(&f->net, yaml, "sn.yaml", &err)) fail_msg("load: %s", err.msg);
    train_net_init(f->net, 5);
    if (train_net_reserve(f->net, N, &err)) fail_msg("reserve: %s", err.msg);
    search_supernet_params p = search_supernet_default_params();
    p.mode = mode;
    if (search_supernet_init(&f->s, f->net, &p, seed, &err)) fail_msg("supernet: %s", err.msg);
    const train_layer *in = &f->net->layers[0];
    size_t nx = (size_t)N * in->c * in->h * in->w, ny = (size_t)N * train_net_output_size(f->net);
    f->x = gc_alloc(nx);
    f->r = gc_alloc(ny);
    uint64_t rng = 9;
    gc_fill(f->x, nx, -1, 1, &rng);
    gc_fill(f->r, ny, -1, 1, &rng);
    for (size_t k = 0; k < f->s->nalpha; k++) f->s->alpha[k] = 0.8f * (train_rng_uniform(&rng) - 0.5f);
    search_supernet_forward(f->s);
}

static void fx_free(fixture *f) {
    search_supernet_free(f->s);
    train_net_free(f->net);
    free(f->x);
    free(f->r);
}

static int layer(const train_net *n, const char *name) {
    int i = train_net_find(n, name);
    if (i < 0) fail_msg("no layer '%s'", name);
    return i;
}

static void test_blocks(void **state) {
    (void)state;
    fixture f;
    fx_init(&f, NET, SEARCH_SUPERNET_SOFTMAX, 1);
    search_supernet *s = f.s;
    assert_int_equal(s->nblocks, 2);
    assert_int_equal(s->nalpha, 5);
    assert_true(s->blocks[0].mix == layer(f.net, "m1") && s->blocks[0].n == 3 && s->blocks[0].off == 0);
    assert_true(s->blocks[1].mix == layer(f.net, "m2") && s->blocks[1].n == 2 && s->blocks[1].off == 3);
    static const struct {
        const char *name;
        int block, branch;
    } want[] = {{"stem", -1, -1}, {"a1", 0, 0},  {"a1bn", 0, 0}, {"a1r", 0, 0}, {"a2", 0, 1},
                {"a2r", 0, 1},    {"m1", -1, -1}, {"b1", 1, 0},   {"b2p", 1, 1}, {"b2", 1, 1},
                {"m2", -1, -1},   {"bn", -1, -1}, {"fc", -1, -1}};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        int i = layer(f.net, want[k].name);
        if (s->block_of[i] != want[k].block || s->branch_of[i] != want[k].branch)
            fail_msg("%s: block %d branch %d", want[k].name, s->block_of[i], s->branch_of[i]);
    }
    /* 1/N at init */
    search_supernet_params p = search_supernet_default_params();
    search_supernet *t;
    dnas_error err;
    assert_int_equal(search_supernet_init(&t, f.net, &p, 1, &err), DNAS_OK);
    assert_true(t->alpha[0] == 1.0f / 3 && t->alpha[4] == 0.5f && fabsf(t->theta[1] - 1.0f / 3) < 1e-6f);
    search_supernet_free(t);
    fx_free(&f);
}

static void refused(const char *yaml, const char *want) {
    train_net *net;
    dnas_error err;
    if (train_net_load_string(&net, yaml, "bad.yaml", &err)) fail_msg("load: %s", err.msg);
    search_supernet_params p = search_supernet_default_params();
    search_supernet *s;
    assert_int_equal(search_supernet_init(&s, net, &p, 1, &err), DNAS_ERR_UNSUPPORTED);
    assert_null(s);
    if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
    train_net_free(net);
}

static void test_refused(void **state) {
    (void)state;
    refused("input: [2, 1, 4]\nlayers:\n  - {name: c, op: conv1d, out: 2, kernel: 1}\n",
            "the model has no choice block");
    refused("input: [2, 1, 4]\nlayers:\n  - {name: c, op: conv1d, out: 2, kernel: 1}\n"
            "  - {name: m, op: mix, inputs: [c, c]}\n  - {name: fc, op: linear, out: 2}\n",
            "mix 'm' reads 'c' twice");
    refused("input: [2, 1, 4]\nlayers:\n  - {name: c, op: conv1d, out: 2, kernel: 1}\n"
            "  - {name: d, op: conv1d, out: 2, kernel: 3, padding: same, input: input}\n"
            "  - {name: m, op: mix, inputs: [c, d]}\n",
            "mix 'm' is the network output");
    refused("input: [2, 1, 4]\nlayers:\n  - {name: c, op: conv1d, out: 2, kernel: 1}\n"
            "  - {name: d, op: conv1d, out: 2, kernel: 3, padding: same, input: input}\n"
            "  - {name: inner, op: mix, inputs: [c, d]}\n"
            "  - {name: e, op: conv1d, out: 2, kernel: 1, input: input}\n"
            "  - {name: outer, op: mix, inputs: [inner, e]}\n  - {name: fc, op: linear, out: 2}\n",
            "mix 'inner' is inside a branch of mix 'outer' (nested choice blocks");
}

static void test_theta_modes(void **state) {
    (void)state;
    const float ln2 = 0.69314718f;
    fixture f;
    fx_init(&f, NET, SEARCH_SUPERNET_SOFTMAX, 1);
    float *a = f.s->alpha, *th = f.s->theta;
    a[0] = 0, a[1] = ln2, a[2] = 2 * ln2, a[3] = 0.3f, a[4] = 0.3f;
    search_supernet_set_tau(f.s, 1.0f);
    assert_float_equal(th[0], 1.0 / 7, 1e-6), assert_float_equal(th[2], 4.0 / 7, 1e-6);
    assert_float_equal(th[3], 0.5, 1e-7);
    search_supernet_set_tau(f.s, 0.5f); /* exp(2α) ∝ 1, 4, 16 */
    assert_float_equal(th[0], 1.0 / 21, 1e-6), assert_float_equal(th[1], 4.0 / 21, 1e-6);
    /* hard: one-hot at the argmax; the choice is alpha's argmax (first on ties) */
    f.s->p.mode = SEARCH_SUPERNET_HARD;
    search_supernet_forward(f.s);
    assert_true(th[0] == 0 && th[1] == 0 && th[2] == 1 && th[3] == 1 && th[4] == 0);
    assert_int_equal(search_supernet_choice(f.s, 0), 2);
    assert_int_equal(search_supernet_choice(f.s, 1), 0);
    /* gumbel: a distribution, reproducible from the seed, fresh at every forward */
    fixture g, h;
    fx_init(&g, NET, SEARCH_SUPERNET_GUMBEL, 7);
    fx_init(&h, NET, SEARCH_SUPERNET_GUMBEL, 7);
    assert_memory_equal(g.s->theta, h.s->theta, 5 * sizeof(float));
    float first[5];
    memcpy(first, g.s->theta, sizeof first);
    search_supernet_forward(g.s);
    assert_true(memcmp(first, g.s->theta, sizeof first) != 0);
    assert_float_equal(g.s->theta[0] + g.s->theta[1] + g.s->theta[2], 1, 1e-6);
    fx_free(&h);
    fx_init(&h, NET, SEARCH_SUPERNET_GUMBEL, 8);
    assert_true(memcmp(first, h.s->theta, sizeof first) != 0);
    fx_free(&h);
    /* hard_gumbel: one-hot draws with the softmax's law (Gumbel-max), at any τ */
    g.s->p.mode = SEARCH_SUPERNET_HARD_GUMBEL;
    g.s->alpha[3] = 0, g.s->alpha[4] = logf(3); /* P(branch 1) = 3/4 */
    search_supernet_set_tau(g.s, 0.3f);
    int ones = 0, draws = 4000;
    for (int k = 0; k < draws; k++) {
        search_supernet_forward(g.s);
        assert_true(g.s->theta[3] + g.s->theta[4] == 1 && (g.s->theta[4] == 0 || g.s->theta[4] == 1));
        ones += g.s->theta[4] == 1;
    }
    assert_true(fabs((double)ones / draws - 0.75) < 0.03);
    fx_free(&g);
    fx_free(&f);
}

/* L = Σ r·out after a training-mode forward at the current θ. */
static double task_loss(fixture *f) {
    search_supernet_apply(f->s, f->net);
    const float *y = train_net_forward(f->net, f->x, N, 1);
    return gc_dot(y, f->r, (size_t)N * train_net_output_size(f->net));
}

/* dL/dalpha by the method's chain (net backward into dθ, then to alpha). */
static float *task_grad(fixture *f) {
    task_loss(f);
    memset(f->net->grads, 0, f->net->nparams * sizeof(float));
    train_net_backward(f->net, f->r, N);
    float *d = gc_alloc(f->s->nalpha);
    search_supernet_backward(f->s, d);
    return d;
}

typedef struct {
    fixture *f;
    uint64_t rng; /* the noise of the point (gumbel): drawn again from here */
} loss_ctx;

static double alpha_loss(void *v) {
    loss_ctx *c = v;
    c->f->s->rng = c->rng;
    search_supernet_forward(c->f->s);
    return task_loss(c->f);
}

static void test_task_gradient(void **state) {
    (void)state;
    search_supernet_mode modes[] = {SEARCH_SUPERNET_SOFTMAX, SEARCH_SUPERNET_GUMBEL};
    for (int m = 0; m < 2; m++) {
        fixture f;
        fx_init(&f, NET, modes[m], 3);
        search_supernet_set_tau(f.s, 0.7f);
        loss_ctx c = {&f, f.s->rng};
        alpha_loss(&c);
        float *d = task_grad(&f);
        assert_true(gc_max_abs(d, f.s->nalpha) > 1e-4f);
        assert_int_equal(gc_check(search_supernet_mode_name(modes[m]), alpha_loss, &c, f.s->alpha, d, f.s->nalpha,
                                  1e-2f, 2e-2, 1e-4, 16, NULL),
                         0);
        free(d);
        fx_free(&f);
    }
}

/* hard: the forward is the network at one-hot θ; dα is the softmax's
 * Jacobian at soft applied to dL/dθ (itself checked against differences
 * in θ), so every logit gets a gradient, the unchosen ones too. */
typedef struct {
    fixture *f;
} theta_ctx;

static double theta_loss(void *v) {
    return task_loss(((theta_ctx *)v)->f);
}

static void test_hard_straight_through(void **state) {
    (void)state;
    fixture f;
    fx_init(&f, NET, SEARCH_SUPERNET_HARD, 3);
    search_supernet_set_tau(f.s, 0.7f);
    float *d = task_grad(&f);
    float dth[5];
    memcpy(dth, f.s->dtheta, sizeof dth);
    theta_ctx c = {&f};
    assert_int_equal(gc_check("dL/dθ", theta_loss, &c, f.s->theta, dth, 5, 1e-2f, 2e-2, 1e-4, 5, NULL), 0);
    float want[5] = {0};
    train_softmax_temp_backward(want, dth, f.s->soft, 1, 3, 0.7f);
    train_softmax_temp_backward(want + 3, dth + 3, f.s->soft + 3, 1, 2, 0.7f);
    for (int k = 0; k < 5; k++) {
        assert_float_equal(d[k], want[k], 1e-6);
        assert_true(d[k] != 0);
    }
    free(d);
    fx_free(&f);
}

static void test_schedule(void **state) {
    (void)state;
    search_supernet_params p = search_supernet_default_params();
    assert_true(p.tau_start == 1.0 && p.tau_end == 0.1 && p.anneal == SEARCH_SUPERNET_ANNEAL_EXP);
    for (int e = 0; e < 10; e++) assert_float_equal(search_supernet_tau(&p, e, 10), pow(10, -e / 9.0), 1e-12);
    assert_true(search_supernet_tau(&p, 0, 1) == 1.0 && search_supernet_tau(&p, 0, 0) == 1.0);
    p.anneal = SEARCH_SUPERNET_ANNEAL_LINEAR;
    p.tau_start = 5, p.tau_end = 1;
    assert_float_equal(search_supernet_tau(&p, 1, 5), 4.0, 1e-12);
    assert_float_equal(search_supernet_tau(&p, 4, 5), 1.0, 1e-12);
    assert_float_equal(search_supernet_tau(&p, 2, 3), 1.0, 1e-12);
}

typedef struct {
    fixture *f;
    search_bridge *b;
    search_layer_state *st;
    search_cost_result r;
    search_cost_params cp;
    int slot;
} cost_ctx;

static double eval_cost(cost_ctx *c, int hard) {
    search_bridge_state_default(c->b, c->st, 8, 8);
    search_supernet_state(c->f->s, c->st, hard);
    dnas_error err;
    if (search_bridge_eval(c->b, c->st, &c->cp, &c->r, &err)) fail_msg("%s", err.msg);
    return c->r.value[c->slot];
}

static double alpha_cost(void *v) {
    cost_ctx *c = v;
    search_supernet_forward(c->f->s);
    return eval_cost(c, 0);
}

static double cost_of(const train_net *net, int slot) {
    search_bridge *b;
    dnas_error err;
    if (search_bridge_init(&b, net, &err)) fail_msg("%s", err.msg);
    search_layer_state *st = calloc((size_t)net->nlayers, sizeof *st);
    search_bridge_state_default(b, st, 8, 8);
    search_cost_result r;
    search_cost_result_init(&r, b);
    search_cost_params cp = search_cost_default_params();
    if (search_bridge_eval(b, st, &cp, &r, &err)) fail_msg("%s", err.msg);
    double v = r.value[slot];
    search_cost_result_free(&r);
    free(st);
    search_bridge_free(b);
    return v;
}

/* C(α) = Σ_blocks Σ_k θ_k·cost(branch k) + the rest: its gradient by the
 * bridge's d_presence and the softmax, against central differences; the
 * hard state's costs are the exported network's. */
static void test_expected_cost(void **state) {
    (void)state;
    static const int slots[] = {SEARCH_COST_PARAMS, SEARCH_COST_MACS, SEARCH_COST_WEIGHT_BYTES};
    fixture f;
    fx_init(&f, NET, SEARCH_SUPERNET_SOFTMAX, 3);
    search_supernet_set_tau(f.s, 0.6f);
    cost_ctx c = {.f = &f};
    dnas_error err;
    assert_int_equal(search_bridge_init(&c.b, f.net, &err), DNAS_OK);
    c.st = calloc((size_t)f.net->nlayers, sizeof *c.st);
    search_cost_result_init(&c.r, c.b);
    c.cp = search_cost_default_params();
    for (int k = 0; k < 3; k++) {
        c.slot = slots[k];
        double full = cost_of(f.net, c.slot), soft = alpha_cost(&c);
        assert_true(soft < full && soft > 0);
        float *d = gc_alloc(f.s->nalpha);
        search_supernet_state_backward(f.s, c.r.grad[c.slot], 1.0, d);
        assert_int_equal(gc_check(search_cost_name((search_cost)c.slot), alpha_cost, &c, f.s->alpha, d,
                                  f.s->nalpha, 1e-2f, 1e-2, 1e-6 * full, 5, NULL),
                         0);
        free(d);
    }
    /* the hard state: what the export keeps */
    f.s->alpha[2] = 2, f.s->alpha[3] = -1; /* m1: skip, m2: b2 */
    search_supernet_forward(f.s);
    train_net *e;
    if (search_supernet_export(f.s, f.net, &e, &err)) fail_msg("%s", err.msg);
    for (int k = 0; k < 3; k++) {
        c.slot = slots[k];
        assert_true(eval_cost(&c, 1) == cost_of(e, c.slot));
    }
    c.slot = SEARCH_COST_PARAMS;
    assert_true(eval_cost(&c, 1) == (double)(4 * 3 * 3 + 4 + 6 * 4 + 6 + 6 * 3 + 3)); /* stem, b2, fc */
    train_net_free(e);
    search_cost_result_free(&c.r);
    free(c.st);
    search_bridge_free(c.b);
    fx_free(&f);
}

/* Trains BN statistics a little, exports at the choices, compares the
 * eval outputs with the supernet's at one-hot θ; returns the export. */
static train_net *export_equal(fixture *f) {
    f->s->p.mode = SEARCH_SUPERNET_HARD;
    search_supernet_forward(f->s);
    search_supernet_apply(f->s, f->net);
    for (int k = 0; k < 3; k++) train_net_forward(f->net, f->x, N, 1);
    size_t ny = (size_t)N * train_net_output_size(f->net);
    float *want = gc_alloc(ny);
    memcpy(want, train_net_forward(f->net, f->x, N, 0), ny * sizeof *want);
    train_net *e;
    dnas_error err;
    if (search_supernet_export(f->s, f->net, &e, &err)) fail_msg("export: %s", err.msg);
    if (train_net_reserve(e, N, &err)) fail_msg("%s", err.msg);
    const float *got = train_net_forward(e, f->x, N, 0);
    float scale = gc_max_abs(want, ny);
    assert_true(scale > 0);
    for (size_t k = 0; k < ny; k++)
        if (fabsf(got[k] - want[k]) > 1e-5f * (1 + scale)) fail_msg("out[%zu]: %g vs %g", k, got[k], want[k]);
    free(want);
    return e;
}

static void test_export(void **state) {
    (void)state;
    static const struct {
        float a[5];
        const char *kept, *gone;
    } cases[] = {
        {{1, 0, 0, 1, 0}, "stem a1 a1bn a1r b1 bn gp fc", "a2 a2r m1 b2p b2 m2"},
        {{0, 1, 0, 0, 1}, "stem a2 a2r b2p b2 bn gp fc", "a1 a1bn a1r m1 b1 m2"},
        {{0, 0, 1, 0, 1}, "stem b2p b2 bn gp fc", "a1 a2 m1 b1 m2"},
    };
    for (int k = 0; k < 3; k++) {
        fixture f;
        fx_init(&f, NET, SEARCH_SUPERNET_SOFTMAX, 3);
        memcpy(f.s->alpha, cases[k].a, sizeof cases[k].a);
        train_net *e = export_equal(&f);
        char buf[128], *tok, *save;
        snprintf(buf, sizeof buf, "%s", cases[k].kept);
        int n = 0;
        for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save), n++)
            assert_true(train_net_find(e, tok) > 0);
        assert_int_equal(e->nlayers, n + 1);
        snprintf(buf, sizeof buf, "%s", cases[k].gone);
        for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
            assert_int_equal(train_net_find(e, tok), -1);
        /* the readers of a mix read the chosen input */
        const train_layer *bn = &e->layers[layer(e, "bn")];
        assert_string_equal(e->layers[bn->inputs[0]].name, k == 0 ? "b1" : "b2");
        train_net *back = write_and_reload(e);
        train_net_free(back);
        train_net_free(e);
        fx_free(&f);
    }
}

/* The zoo's supernet: the all-k9 choice is tcn_fmnist's parameter count. */
static void test_zoo_supernet(void **state) {
    (void)state;
    char path[4096];
    const char *src = getenv("DNAS_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/configs/models/tcn_supernet_fmnist.yaml", src && *src ? src : DNAS_SOURCE_DIR);
    train_net *net;
    dnas_error err;
    if (train_net_load(&net, path, &err)) fail_msg("%s", err.msg);
    search_supernet_params p = search_supernet_default_params();
    search_supernet *s;
    assert_int_equal(search_supernet_init(&s, net, &p, 1, &err), DNAS_OK);
    assert_int_equal(s->nblocks, 4);
    assert_int_equal(s->nalpha, 14);
    for (int b = 0; b < 4; b++) s->alpha[s->blocks[b].off + 2] = 1; /* k9 */
    train_net *e;
    if (search_supernet_export(s, net, &e, &err)) fail_msg("%s", err.msg);
    train_counts c = train_net_total_counts(e);
    assert_int_equal(c.weights, 73216);
    assert_int_equal(c.macs, 1258624);
    train_net_free(e);
    for (int b = 0; b < 4; b++) s->alpha[s->blocks[b].off + 2] = 0, s->alpha[s->blocks[b].off + (b % 2 ? 3 : 0)] = 1;
    assert_int_equal(search_supernet_export(s, net, &e, &err), DNAS_OK);
    assert_int_equal(train_net_total_counts(e).weights, 9472); /* k3, skip, k3, skip */
    train_net_free(e);
    search_supernet_free(s);
    train_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks),         cmocka_unit_test(test_refused),
        cmocka_unit_test(test_theta_modes),    cmocka_unit_test(test_task_gradient),
        cmocka_unit_test(test_hard_straight_through), cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_expected_cost),  cmocka_unit_test(test_export),
        cmocka_unit_test(test_zoo_supernet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
