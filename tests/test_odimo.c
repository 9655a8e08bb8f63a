/* ODiMO (search/odimo.h) on DIANA: which layers are searched, the view's
 * mixed 8-bit / ternary weights against hand-computed values, θ gradients
 * and the smooth-max latency and energy gradients against central
 * differences, the export (engines and per-channel wbits recorded, its eval-mode
 * outputs equal the supernet's at the hard choice, its YAML reads back),
 * the bridge pricing the recorded split, and the integer export of the
 * split network: ternary analog channels, evaluator bit-exact against a
 * direct integer computation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "method.h"
#include "qnet_test_util.h"
#include "quant.h"

typedef struct {
    search_config cfg;
    train_net *net;
    search_bridge *b;
    search_arch *a;
    search_odimo *o;
} fixture;

/* oc: the `odimo:` settings (NULL: the defaults) */
static void fixture_init_with(fixture *f, const char *yaml, uint64_t seed, const search_odimo_config *oc) {
    memset(f, 0, sizeof *f);
    search_config *c = &f->cfg;
    snprintf(c->path, sizeof c->path, "t.yaml");
    c->method = SEARCH_METHOD_ODIMO;
    c->bits = 8;
    const char *src = getenv("DNAS_SOURCE_DIR");
    snprintf(c->target, sizeof c->target, "%s/configs/targets/diana.yaml", src ? src : "..");
    search_odimo_config_default(&c->odimo);
    if (oc) c->odimo = *oc;
    dnas_error err;
    if (train_net_load_string(&f->net, yaml, "t.yaml", &err)) fail_msg("%s", err.msg);
    train_net_init(f->net, seed);
    assert_int_equal(train_net_reserve(f->net, 8, &err), DNAS_OK);
    assert_int_equal(search_bridge_init(&f->b, f->net, &err), DNAS_OK);
    if (search_arch_create(&f->a, c, f->net, f->b, &err)) fail_msg("%s", err.msg);
    f->o = f->a->impl;
}

static void fixture_init(fixture *f, const char *yaml, uint64_t seed) { fixture_init_with(f, yaml, seed, NULL); }

static void fixture_free(fixture *f) {
    f->a->detach(f->a, f->net);
    search_arch_free(f->a);
    search_bridge_free(f->b);
    train_net_free(f->net);
}

static const char *NET_A = "input: [3, 2, 2]\n"
                           "layers:\n"
                           "  - {name: c1, op: conv2d, out: 2, kernel: 1, bias: false}\n"
                           "  - {name: bn1, op: batchnorm}\n"
                           "  - {name: r1, op: relu}\n"
                           "  - {name: dw, op: depthwise, kernel: 1, bias: false}\n"
                           "  - {name: gp, op: global_avgpool}\n"
                           "  - {name: fc, op: linear, out: 3}\n";

static void test_layers_and_view(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, NET_A, 1);
    search_odimo *o = f.o;
    train_net *net = f.net;
    int c1 = train_net_find(net, "c1"), dw = train_net_find(net, "dw"), fc = train_net_find(net, "fc");
    // DIANA: digital 8-bit, analog ternary; the depthwise conv runs on the digital engine only
    assert_int_equal(o->P, 2);
    assert_int_equal(o->bits[0], 8);
    assert_int_equal(o->bits[1], 2);
    assert_int_equal(o->nlayers, 2);
    assert_int_equal(o->slot_of[c1], 0);
    assert_int_equal(o->slot_of[fc], 1);
    assert_int_equal(o->slot_of[dw], -1);
    assert_int_equal(f.a->nalpha, (2 + 3) * 2);
    assert_int_equal(f.a->engine_mode, SEARCH_ENGINE_PARALLEL);
    assert_int_equal(f.a->nslices, 2);
    assert_string_equal(f.a->slices[0].name, "c1.theta");
    assert_string_equal(f.a->slices[1].name, "fc.theta");
    // uniform start
    for (size_t k = 0; k < o->nalpha; k++) assert_float_equal(o->theta[k], 0.5f, 1e-7);
    // c1: channel 0 {0.3, -0.6, 0.15}, channel 1 {0.9, 0.2, -0.1}
    const float w[6] = {0.3f, -0.6f, 0.15f, 0.9f, 0.2f, -0.1f};
    float *W = net->params + net->layers[c1].w_off;
    memcpy(W, w, sizeof w);
    // θ: channel 0 (0.5, 0.5), channel 1 (0.25, 0.75)
    o->alpha[0] = o->alpha[1] = o->alpha[2] = 0;
    o->alpha[3] = logf(3);
    f.a->forward(f.a);
    assert_float_equal(o->theta[2], 0.25f, 1e-6);
    f.a->apply(f.a, net);
    assert_ptr_equal(net->view, o->view);
    /* ternary, s = 2·max/3: ch0 s = 0.4 -> {0.4, -0.4, 0}; ch1 s = 0.6 -> {0.6, 0, 0}.
     * 8-bit, s = 2·max/255: ch0 {64, -127, 32}·1.2/255; ch1 {127, 28, -14}·1.8/255. */
    const double q8[6] = {64 * 1.2 / 255, -127 * 1.2 / 255, 32 * 1.2 / 255,
                          127 * 1.8 / 255, 28 * 1.8 / 255,  -14 * 1.8 / 255};
    const double q2[6] = {0.4, -0.4, 0, 0.6, 0, 0};
    for (int i = 0; i < 6; i++) {
        double t8 = i < 3 ? 0.5 : 0.25, want = t8 * q8[i] + (1 - t8) * q2[i];
        assert_float_equal(o->view[net->layers[c1].w_off + i], want, 2e-6);
    }
    // everything else as it is (BN affine, the depthwise and fc's bias)
    const train_layer *B = &net->layers[train_net_find(net, "bn1")];
    assert_memory_equal(o->view + B->w_off, net->params + B->w_off, 4 * sizeof(float));
    assert_memory_equal(o->view + net->layers[dw].w_off, net->params + net->layers[dw].w_off, 2 * sizeof(float));
    assert_memory_equal(o->view + net->layers[fc].b_off, net->params + net->layers[fc].b_off, 3 * sizeof(float));
    // cost state: soft share = mean θ; hard = fraction of argmax (ties: digital)
    search_layer_state s[7];
    search_bridge_state_default(f.b, s, 8, 8);
    f.a->state(f.a, s, 0);
    assert_float_equal(s[c1].share[0], 0.375, 1e-6);
    assert_float_equal(s[c1].share[1], 0.625, 1e-6);
    assert_float_equal(s[dw].share[0], 1, 0);
    f.a->state(f.a, s, 1);
    assert_float_equal(s[c1].share[0], 0.5, 0);
    assert_float_equal(s[c1].share[1], 0.5, 0);
    // hard: θ one-hot, so the view is one quantizer per channel
    o->hard = 1;
    f.a->forward(f.a);
    f.a->apply(f.a, net);
    for (int i = 0; i < 6; i++)
        assert_float_equal(o->view[net->layers[c1].w_off + i], i < 3 ? q8[i] : q2[i], 2e-6);
    fixture_free(&f);
}

static const char *NET_B = "input: [3, 6, 6]\n"
                           "layers:\n"
                           "  - {name: c1, op: conv2d, out: 6, kernel: 3, padding: 1, bias: false}\n"
                           "  - {name: bn1, op: batchnorm}\n"
                           "  - {name: r1, op: relu}\n"
                           "  - {name: dw, op: depthwise, kernel: 3, padding: 1, bias: false}\n"
                           "  - {name: bn2, op: batchnorm}\n"
                           "  - {name: r2, op: relu}\n"
                           "  - {name: c2, op: conv2d, out: 5, kernel: 1, stride: 2}\n"
                           "  - {name: r3, op: relu}\n"
                           "  - {name: gp, op: global_avgpool}\n"
                           "  - {name: fc, op: linear, out: 4}\n";

enum { NB = 4 };

typedef struct {
    fixture *f;
    const float *x, *r;
} loss_ctx;

/* Σ r·y of the network in eval mode at the current alpha. */
static double task_loss(void *p) {
    loss_ctx *c = p;
    search_arch *a = c->f->a;
    a->forward(a);
    a->apply(a, c->f->net);
    const float *y = train_net_forward(c->f->net, c->x, NB, 1); /* batch statistics: what backward derives */
    return gc_dot(y, c->r, (size_t)NB * 4);
}

static void random_bn_stats(train_net *net, uint64_t *rng) {
    for (int i = 0; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        if (L->op != TRAIN_OP_BN) continue;
        float *mean = net->state + L->state_off, *var = mean + L->c;
        gc_fill(mean, (size_t)L->c, -0.2f, 0.2f, rng);
        gc_fill(var, (size_t)L->c, 0.5f, 1.5f, rng);
        gc_fill(net->params + L->w_off, (size_t)L->c, -1.5f, 1.5f, rng); /* γ of both signs */
    }
}

/* temperature → temperature_final over the search epochs (search_anneal):
 * geometric, both ends exact, θ sharper as T falls. */
static void test_temperature_schedule(void **state) {
    (void)state;
    assert_float_equal(search_anneal(4, 0.25, 0, 5, 0), 4, 0);
    assert_float_equal(search_anneal(4, 0.25, 2, 5, 0), 1, 1e-12);
    assert_float_equal(search_anneal(4, 0.25, 4, 5, 0), 0.25, 0);
    assert_float_equal(search_anneal(4, 0.25, 1, 5, 1), 4 - 3.75 / 4, 1e-12);
    assert_float_equal(search_anneal(4, 0.25, 3, 1, 0), 4, 0);
    search_odimo_config oc;
    search_odimo_config_default(&oc);
    oc.temperature = 2, oc.temperature_final = 0.5f;
    fixture f;
    fixture_init_with(&f, NET_A, 1, &oc);
    assert_non_null(f.a->epoch);
    f.o->alpha[0] = 1, f.o->alpha[1] = 0;
    double prev = 0;
    const double T[3] = {2, 1, 0.5};
    for (int e = 0; e < 3; e++) {
        f.a->epoch(f.a, e, 3);
        assert_float_equal(f.o->temperature, T[e], 1e-6);
        double want = 1 / (1 + exp(-1 / T[e]));
        assert_float_equal(f.o->theta[0], want, 1e-6);
        assert_true(f.o->theta[0] > prev);
        prev = f.o->theta[0];
    }
    fixture_free(&f);
}

static void test_theta_gradient(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, NET_B, 3);
    uint64_t rng = 7;
    random_bn_stats(f.net, &rng);
    float *x = gc_alloc((size_t)NB * 3 * 36), *r = gc_alloc((size_t)NB * 4);
    gc_fill(x, (size_t)NB * 3 * 36, -1, 1, &rng);
    gc_fill(r, (size_t)NB * 4, -1, 1, &rng);
    gc_fill(f.o->alpha, f.o->nalpha, -1, 1, &rng);
    loss_ctx c = {&f, x, r};
    task_loss(&c);
    memset(f.net->grads, 0, f.net->nparams * sizeof *f.net->grads);
    train_net_backward(f.net, r, NB);
    float *dalpha = gc_alloc(f.o->nalpha);
    f.a->backward(f.a, f.net, dalpha, 0);
    // the weights' gradient is the view's (straight-through): map_weights changes nothing
    float *g0 = gc_alloc(f.net->nparams);
    memcpy(g0, f.net->grads, f.net->nparams * sizeof *g0);
    f.a->backward(f.a, f.net, NULL, 1);
    assert_memory_equal(g0, f.net->grads, f.net->nparams * sizeof *g0);
    assert_true(gc_max_abs(dalpha, f.o->nalpha) > 1e-4f);
    int fails = gc_check("dL/dalpha", task_loss, &c, f.o->alpha, dalpha, f.o->nalpha, 1e-2f, 2e-2, 2e-4, 64, NULL);
    assert_int_equal(fails, 0);
    free(x), free(r), free(dalpha), free(g0);
    fixture_free(&f);
}

/* Latency on DIANA through the bridge: c1 (8 -> 32, 3x3 on 8x8) split. */
static const char *NET_C = "input: [8, 8, 8]\n"
                           "layers:\n"
                           "  - {name: c1, op: conv2d, out: 32, kernel: 3, padding: 1, bias: false}\n"
                           "  - {name: bn1, op: batchnorm}\n"
                           "  - {name: r1, op: relu}\n"
                           "  - {name: dw, op: depthwise, kernel: 3, padding: 1, bias: false}\n"
                           "  - {name: gp, op: global_avgpool}\n"
                           "  - {name: fc, op: linear, out: 4}\n";

typedef struct {
    fixture *f;
    search_layer_state *s;
    search_cost_result *r;
    search_cost_params p;
    int slot;
    double scale;
} cost_ctx;

static double cost_at(void *p) {
    cost_ctx *c = p;
    c->f->a->forward(c->f->a);
    search_bridge_state_default(c->f->b, c->s, 8, 8);
    c->f->a->state(c->f->a, c->s, 0);
    dnas_error err;
    if (search_bridge_eval(c->f->b, c->s, &c->p, c->r, &err)) fail_msg("%s", err.msg);
    return c->scale * c->r->value[c->slot];
}

/* Two parallel engines with smooth latency models (MACs / MAC per cycle,
 * no ceil steps whose straight-through derivative a finite difference
 * cannot see) and a wide smooth max, so that both engines' latencies move
 * the gradient: the whole chain softmax -> share -> parts -> smooth max is
 * checked against central differences. */
static const char *SMOOTH_TARGET =
    "name: smooth2\n"
    "clock_hz: 1.0e8\n"
    "source: {clock_hz: test}\n"
    "memory:\n"
    "  - {name: M, bytes: 1000000, connects: [], holds: [network_weights, network_activations],\n"
    "     source: {bytes: test}}\n"
    "engines:\n"
    "  - {name: digital, latency_model: mac_table, ops: [conv, depthwise, linear], grouped: true,\n"
    "     weight_bits: [8], act_bits: [8], power_w: 0.02, macs_per_cycle: [[8, 8, 16]],\n"
    "     source: {power_w: test, macs_per_cycle: test}}\n"
    "  - {name: analog, latency_model: mac_table, ops: [conv, linear], grouped: false,\n"
    "     weight_bits: [2], act_bits: [8], power_w: 0.03, macs_per_cycle: [[8, 2, 64]],\n"
    "     source: {power_w: test, macs_per_cycle: test}}\n"
    "parallel: {engines: [digital, analog], power_w: 0.04, smooth_max_tau_cycles: 2000,\n"
    "           source: {power_w: test, smooth_max_tau_cycles: test}}\n";

static void test_latency_energy_gradient(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, NET_C, 5);
    search_odimo *o = f.o;
    hwcost_target t;
    dnas_error err;
    if (hwcost_target_load_string(&t, SMOOTH_TARGET, "smooth2.yaml", &err)) fail_msg("%s", err.msg);
    uint64_t rng = 11;
    // share_digital about 0.25: c1's parts about 1,800 cycles each, within the smooth max's width
    for (size_t k = 0; k < o->nalpha; k++) o->alpha[k] = (k % 2 ? 0.55f : -0.55f) + 0.3f * train_rng_uniform(&rng);
    search_layer_state *s = calloc((size_t)f.net->nlayers, sizeof *s);
    search_cost_result r;
    search_cost_result_init(&r, f.b);
    cost_ctx c = {&f, s, &r, search_cost_default_params(), SEARCH_COST_SECONDS, 1e6};
    c.p.target = &t;
    c.p.mode = SEARCH_ENGINE_PARALLEL;
    const int slots[3] = {SEARCH_COST_SECONDS, SEARCH_COST_ENERGY, SEARCH_COST_CYCLES};
    const double scales[3] = {1e6, 1e9, 1e-3};
    for (int k = 0; k < 3; k++) {
        c.slot = slots[k], c.scale = scales[k];
        cost_at(&c);
        // c1 and fc split across the two engines, the depthwise on the digital engine
        assert_true(r.rows[0].split);
        assert_false(r.rows[1].split);
        assert_int_equal(r.rows[1].engine, 0);
        assert_true(r.rows[2].split);
        float *dalpha = gc_alloc(o->nalpha);
        f.a->state_backward(f.a, r.grad[c.slot], c.scale, dalpha);
        assert_true(gc_max_abs(dalpha, o->nalpha) > 0);
        int fails = gc_check(search_cost_name(c.slot), cost_at, &c, o->alpha, dalpha, o->nalpha, 1e-3f, 2e-2,
                             1e-3 * gc_max_abs(dalpha, o->nalpha), 48, NULL);
        assert_int_equal(fails, 0);
        free(dalpha);
    }
    // the smooth max is below the larger part and pulls on both: c1's parts both carry gradient
    cost_at(&(cost_ctx){&f, s, &r, c.p, SEARCH_COST_CYCLES, 1});
    double cyc[2];
    for (int q = 0; q < 2; q++) {
        hwcost_grad g;
        assert_int_equal(hwcost_latency_cycles(&t, q, &r.rows[0].part[q], &g, &err), DNAS_OK);
        cyc[q] = g.value;
    }
    assert_true(fabs(cyc[0] - cyc[1]) < 2000);
    assert_true(r.rows[0].cycles < fmax(cyc[0], cyc[1]) && r.rows[0].cycles > fmin(cyc[0], cyc[1]));
    int c1 = train_net_find(f.net, "c1");
    assert_true(r.grad[SEARCH_COST_CYCLES][c1].d_share[0] > 0 && r.grad[SEARCH_COST_CYCLES][c1].d_share[1] > 0);
    search_cost_result_free(&r);
    free(s);
    fixture_free(&f);
}

/* On DIANA (ceil steps, straight-through): the layer's cycles are the
 * smooth max of its parts', within 0.3·τ of the larger (τ = 1 cycle). */
static void test_diana_split(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, NET_C, 5);
    search_odimo *o = f.o;
    for (size_t k = 0; k < o->nalpha; k++) o->alpha[k] = k % 2 ? -0.7f : 0.7f;
    search_layer_state *s = calloc((size_t)f.net->nlayers, sizeof *s);
    search_cost_result r;
    search_cost_result_init(&r, f.b);
    cost_ctx c = {&f, s, &r, search_cost_default_params(), SEARCH_COST_CYCLES, 1};
    c.p.target = &o->target;
    c.p.mode = SEARCH_ENGINE_PARALLEL;
    cost_at(&c);
    for (int k = 0; k < 3; k += 2) {
        assert_true(r.rows[k].split);
        double cmax = 0;
        for (int q = 0; q < 2; q++) {
            hwcost_grad g;
            dnas_error err;
            assert_int_equal(hwcost_latency_cycles(&o->target, o->target.parallel[q], &r.rows[k].part[q], &g, &err),
                             DNAS_OK);
            cmax = fmax(cmax, g.value);
        }
        assert_true(r.rows[k].cycles <= cmax + 1e-9 && r.rows[k].cycles >= cmax - 0.3 * o->target.smooth_max_tau);
    }
    assert_int_equal(r.rows[1].engine, hwcost_target_engine(&o->target, "digital"));
    // the gradient reaches alpha through the shares
    float *dalpha = gc_alloc(o->nalpha);
    f.a->state_backward(f.a, r.grad[SEARCH_COST_CYCLES], 1, dalpha);
    assert_true(gc_max_abs(dalpha, o->nalpha) > 0);
    free(dalpha);
    search_cost_result_free(&r);
    free(s);
    fixture_free(&f);
}

static void forward_eval(train_net *net, const float *x, float *y) {
    const float *out = train_net_forward(net, x, NB, 0);
    memcpy(y, out, (size_t)NB * train_net_output_size(net) * sizeof *y);
}

/* The exported network at the hard choice, from NET_B with random alpha. */
static train_net *export_b(fixture *f, float *y_super, const float *x) {
    uint64_t rng = 21;
    random_bn_stats(f->net, &rng);
    gc_fill(f->o->alpha, f->o->nalpha, -1, 1, &rng);
    // c1 mixed, c2 all analog, fc all digital (one engine alone: no fixed cost of the other)
    for (int k = 1; k < f->o->nlayers; k++) {
        const search_odimo_layer *l = &f->o->layers[k];
        for (int c = 0; c < l->c; c++) f->o->alpha[l->off + 2 * (size_t)c + (k == 1)] = 5;
    }
    f->o->hard = 1;
    f->a->forward(f->a);
    f->a->apply(f->a, f->net);
    forward_eval(f->net, x, y_super);
    train_net *out;
    dnas_error err;
    if (f->a->export_net(f->a, f->net, &out, &err)) fail_msg("%s", err.msg);
    f->a->detach(f->a, f->net);
    assert_int_equal(train_net_reserve(out, 64, &err), DNAS_OK);
    return out;
}

static void test_export(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, NET_B, 9);
    uint64_t rng = 5;
    float *x = gc_alloc((size_t)NB * 3 * 36), y1[NB * 4], y2[NB * 4];
    gc_fill(x, (size_t)NB * 3 * 36, -1, 1, &rng);
    train_net *e = export_b(&f, y1, x);
    // every channel kept, each with its engine and its quantizer
    int n_ana = 0, n_dig = 0;
    for (int k = 0; k < f.o->nlayers; k++) {
        const search_odimo_layer *l = &f.o->layers[k];
        const train_layer *L = &e->layers[l->layer];
        assert_int_equal(L->c, l->c);
        assert_int_equal(L->wbits, -1); /* one width per channel */
        assert_non_null(L->engine_of);
        for (int c = 0; c < L->c; c++) {
            int p = search_odimo_channel_engine(f.o, k, c);
            assert_int_equal(train_layer_wbits(L, c), p ? 2 : 8);
            assert_string_equal(L->engine_names[L->engine_of[c]], p ? "analog" : "digital");
            n_ana += p, n_dig += !p;
        }
    }
    assert_true(n_ana > 0 && n_dig > 0);
    assert_null(e->layers[train_net_find(e, "dw")].engine_of);
    // eval-mode outputs equal the supernet's at the hard choice
    forward_eval(e, x, y2);
    float tol = 1e-5f * fmaxf(1, gc_max_abs(y1, NB * 4));
    assert_true(gc_max_abs_diff(y1, y2, NB * 4) <= tol);
    // the model YAML reads back with the same engines and bits
    train_spec *spec = train_net_spec(e);
    char *yaml = train_spec_to_yaml(spec);
    assert_non_null(strstr(yaml, "engines: ["));
    train_net *back;
    dnas_error err;
    if (train_net_load_string(&back, yaml, "e.yaml", &err)) fail_msg("%s", err.msg);
    int c1 = train_net_find(e, "c1");
    assert_memory_equal(back->layers[c1].wbits_ch, e->layers[c1].wbits_ch, 6);
    for (int c = 0; c < 6; c++)
        assert_string_equal(back->layers[c1].engine_names[back->layers[c1].engine_of[c]],
                            e->layers[c1].engine_names[e->layers[c1].engine_of[c]]);
    // the bridge prices the recorded split (FASTEST, what dnas cost uses); ignoring it: all digital
    search_bridge *b;
    assert_int_equal(search_bridge_init(&b, back, &err), DNAS_OK);
    search_layer_state s[16];
    search_bridge_state_default(b, s, 8, 8);
    search_cost_result r, ru;
    search_cost_result_init(&r, b);
    search_cost_result_init(&ru, b);
    search_cost_params p = search_cost_default_params();
    p.target = &f.o->target;
    assert_int_equal(search_bridge_eval(b, s, &p, &r, &err), DNAS_OK);
    for (int i = 0; i < 16 && i < back->nlayers; i++) s[i].w = hwcost_prec_single(8);
    p.ignore_engines = 1;
    assert_int_equal(search_bridge_eval(b, s, &p, &ru, &err), DNAS_OK);
    int dig = hwcost_target_engine(&f.o->target, "digital"), ana = hwcost_target_engine(&f.o->target, "analog");
    for (int k = 0; k < r.nrows; k++) {
        const train_layer *L = &back->layers[r.rows[k].layer];
        int na = 0;
        for (int c = 0; L->engine_of && c < L->c; c++) na += !strcmp(L->engine_names[L->engine_of[c]], "analog");
        assert_int_equal(ru.rows[k].engine, dig);
        if (!L->engine_of || na == 0) {
            assert_int_equal(r.rows[k].engine, dig);
        } else if (na == L->c) {
            assert_int_equal(r.rows[k].engine, ana);
        } else {
            assert_true(r.rows[k].split);
            assert_float_equal(r.rows[k].part[1].cout, na, 1e-9);
            assert_float_equal(r.rows[k].part[0].cout, L->c - na, 1e-9);
        }
    }
    // the search's hard cost (PARALLEL mode at the hard choice) is the exported network's
    search_layer_state hs[16];
    search_bridge_state_default(f.b, hs, 8, 8);
    f.a->state(f.a, hs, 1);
    search_cost_result rh;
    search_cost_result_init(&rh, f.b);
    p.ignore_engines = 0;
    p.mode = SEARCH_ENGINE_PARALLEL;
    assert_int_equal(search_bridge_eval(f.b, hs, &p, &rh, &err), DNAS_OK);
    const int same[4] = {SEARCH_COST_SECONDS, SEARCH_COST_ENERGY, SEARCH_COST_WEIGHT_BYTES, SEARCH_COST_BIT_OPS};
    for (int k = 0; k < 4; k++)
        assert_float_equal(rh.value[same[k]], r.value[same[k]], 1e-9 * r.value[same[k]]);
    search_cost_result_free(&rh);
    search_cost_result_free(&r);
    search_cost_result_free(&ru);
    search_bridge_free(b);
    train_net_free(back);
    free(yaml);
    train_spec_free(spec);
    train_net_free(e);
    free(x);
    fixture_free(&f);
}

static void test_integer_export(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, NET_B, 13);
    enum { N = 64 };
    uint64_t rng = 17;
    float *x = gc_alloc((size_t)N * 3 * 36), y1[NB * 4];
    gc_fill(x, (size_t)N * 3 * 36, -1, 1, &rng);
    train_net *e = export_b(&f, y1, x);
    train_dataset ds = {.count = N, .c = 3, .h = 6, .w = 6, .num_classes = 4, .x = x};
    ds.y = calloc(N, sizeof *ds.y);
    search_quant_params p = search_quant_default_params();
    p.batch = 16;
    p.calib_batches = 4;
    deploy_qnet q;
    dnas_error err;
    if (search_quant_export(&q, e, &ds, &p, &err)) fail_msg("%s", err.msg);
    // analog channels hold ternary weights, digital ones use the 8-bit range
    int checked = 0;
    for (int k = 0; k < q.nops; k++) {
        const deploy_qop *op = &q.ops[k];
        int i = train_net_find(e, op->name);
        const train_layer *L = &e->layers[i];
        if (!L->wbits) continue;
        int widest = 2;
        for (int c = 0; c < L->c; c++) widest = train_layer_wbits(L, c) > widest ? train_layer_wbits(L, c) : widest;
        assert_int_equal(op->wbits, widest); /* c2, all analog: 2 */
        size_t len = op->wlen / (size_t)L->c;
        for (int c = 0; c < L->c; c++) {
            int amax = 0;
            for (size_t j = 0; j < len; j++) amax = abs(op->w[c * len + j]) > amax ? abs(op->w[c * len + j]) : amax;
            if (train_layer_wbits(L, c) == 2)
                assert_true(amax <= 1);
            else
                assert_true(amax > 1 && amax <= 127);
        }
        checked++;
    }
    assert_int_equal(checked, 3);
    // each channel's engine recorded in the qnet, and read back from HDF5
    assert_int_equal(q.nengines, 2);
    for (int k = 0; k < q.nops; k++) {
        const train_layer *L = &e->layers[train_net_find(e, q.ops[k].name)];
        if (!L->engine_of) {
            assert_null(q.ops[k].engine);
            continue;
        }
        for (int c = 0; c < L->c; c++)
            assert_string_equal(q.engines[q.ops[k].engine[c]], L->engine_names[L->engine_of[c]]);
    }
    hid_t h5 = H5Fcreate("test_odimo_qnet.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(h5 >= 0);
    if (deploy_qnet_write(h5, "qnet", &q, "test", &err)) fail_msg("%s", err.msg);
    deploy_qnet back;
    if (deploy_qnet_read(h5, "qnet", &back, "test", &err)) fail_msg("%s", err.msg);
    H5Fclose(h5);
    remove("test_odimo_qnet.h5");
    assert_int_equal(back.nengines, q.nengines);
    for (int k = 0; k < q.nops; k++) {
        assert_int_equal(back.ops[k].engine == NULL, q.ops[k].engine == NULL);
        if (q.ops[k].engine)
            for (int c = 0; c < q.tensors[q.ops[k].out].c; c++)
                assert_string_equal(back.engines[back.ops[k].engine[c]], q.engines[q.ops[k].engine[c]]);
    }
    deploy_qnet_free(&back);
    // the evaluator (dnas_rt) against the direct integer computation, bit for bit
    deploy_qeval ev;
    assert_int_equal(deploy_qeval_init(&ev, &q, "q", &err), DNAS_OK);
    int32_t out[N * 4];
    assert_int_equal(deploy_qeval_run(&ev, out, x, N, &err), DNAS_OK);
    const deploy_qtensor *T0 = &q.tensors[0];
    size_t hw = (size_t)T0->h * T0->w, nin = hw * T0->c;
    int32_t *in = malloc(nin * sizeof *in);
    for (int s = 0; s < 16; s++) {
        for (size_t c = 0; c < (size_t)T0->c; c++)
            for (size_t i = 0; i < hw; i++) in[i * T0->c + c] = qtu_quantize(T0, x[s * nin + c * hw + i]);
        int32_t **v = qtu_eval(&q, in);
        for (int j = 0; j < 4; j++) assert_int_equal(v[q.output][j], out[s * 4 + j]);
        qtu_free(&q, v);
    }
    // and it tracks the float network
    const float *y = train_net_forward(e, x, N, 0);
    double err_sum = 0, ymax = 0;
    for (int i = 0; i < N * 4; i++) {
        err_sum += fabs(y[i] - q.tensors[q.output].scale * out[i]);
        ymax = fmax(ymax, fabs(y[i]));
    }
    assert_true(err_sum / (N * 4) < 0.05 * ymax);
    free(in);
    deploy_qeval_free(&ev);
    deploy_qnet_free(&q);
    free(ds.y);
    train_net_free(e);
    free(x);
    fixture_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_and_view),
        cmocka_unit_test(test_temperature_schedule),
        cmocka_unit_test(test_theta_gradient),
        cmocka_unit_test(test_latency_energy_gradient),
        cmocka_unit_test(test_diana_split),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_integer_export),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
