/* The engine's hooks for the search (net.h): the effective-parameter view,
 * the mix op and the pact op with their external coefficients. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "train.h"

static train_net *load_ok(const char *yaml) {
    train_net *net;
    dnas_error err;
    if (train_net_load_string(&net, yaml, "hooks.yaml", &err)) fail_msg("unexpected load error: %s", err.msg);
    return net;
}

static void reserve(train_net *net, int batch) {
    dnas_error err;
    if (train_net_reserve(net, batch, &err)) fail_msg("%s", err.msg);
}

/* Every op with parameters (conv, depthwise, BN fused and not, linear) on a
 * residual DAG. */
static const char *PARAM_NET = "input: [2, 6, 6]\n"
                               "layers:\n"
                               "  - {name: c1, op: conv2d, out: 4, kernel: 3, padding: 1}\n"
                               "  - {name: bn1, op: batchnorm}\n"
                               "  - {name: r1, op: relu}\n"
                               "  - {name: dw, op: depthwise, kernel: 3, padding: same}\n"
                               "  - {name: bn2, op: batchnorm}\n"
                               "  - {name: sum, op: add, inputs: [bn2, r1]}\n"
                               "  - {name: fl, op: flatten}\n"
                               "  - {name: fc, op: linear, out: 5}\n";

enum { N = 3, IN = 2 * 36, OUT = 5 };

static void random_bn(train_net *net, uint64_t *rng) {
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].op == TRAIN_OP_BN)
            for (size_t k = 0; k < net->layers[i].w_len; k++) {
                net->params[net->layers[i].w_off + k] = 0.5f + train_rng_uniform(rng);
                net->params[net->layers[i].b_off + k] = 0.3f * train_rng_normal(rng);
            }
}

/* Forward (training mode) and backward of a softmax cross-entropy; the
 * output and the gradients in out / grads. Returns the loss. */
static double step(train_net *net, const float *x, float *out, float *grads) {
    static const int32_t y[N] = {0, 3, 4};
    const float *o = train_net_forward(net, x, N, 1);
    float dout[N * OUT];
    double loss = train_softmax_xent(dout, NULL, o, y, N, OUT);
    if (out) memcpy(out, o, sizeof dout);
    memset(net->grads, 0, net->nparams * sizeof(float));
    train_net_backward(net, dout, N);
    if (grads) memcpy(grads, net->grads, net->nparams * sizeof(float));
    return loss;
}

/* A view holding the parameters' values gives bit-identical outputs and
 * gradients; net->params is not read meanwhile (NaN there changes
 * nothing); clearing the view reads net->params again. */
static void test_view_equal_to_params(void **state) {
    (void)state;
    train_net *net = load_ok(PARAM_NET);
    train_net_init(net, 7);
    reserve(net, N);
    uint64_t rng = 11;
    random_bn(net, &rng);
    float x[N * IN], out[2][N * OUT];
    for (int i = 0; i < N * IN; i++) x[i] = train_rng_normal(&rng);
    size_t bytes = net->nparams * sizeof(float);
    float *g[2] = {dnas_xmalloc(bytes), dnas_xmalloc(bytes)};
    float *view = dnas_xmalloc(bytes), *saved = dnas_xmalloc(bytes);
    step(net, x, out[0], g[0]);
    memcpy(view, net->params, bytes);
    memcpy(saved, net->params, bytes);
    for (size_t i = 0; i < net->nparams; i++) net->params[i] = NAN;
    train_net_set_param_view(net, view);
    step(net, x, out[1], g[1]);
    assert_memory_equal(out[0], out[1], sizeof out[0]);
    assert_memory_equal(g[0], g[1], bytes);
    train_net_set_param_view(net, NULL);
    step(net, x, out[1], NULL);
    assert_true(isnan(out[1][0]));
    memcpy(net->params, saved, bytes);
    step(net, x, out[1], NULL);
    assert_memory_equal(out[0], out[1], sizeof out[0]);
    free(g[0]);
    free(g[1]);
    free(view);
    free(saved);
    train_net_free(net);
}

/* Backward's gradients are with respect to the view's values: central
 * differences on view entries (away from the parameters' values). */
static void test_view_gradients(void **state) {
    (void)state;
    train_net *net = load_ok(PARAM_NET);
    train_net_init(net, 3);
    reserve(net, N);
    uint64_t rng = 5;
    random_bn(net, &rng);
    float x[N * IN];
    for (int i = 0; i < N * IN; i++) x[i] = train_rng_normal(&rng);
    float *view = dnas_xmalloc(net->nparams * sizeof(float));
    for (size_t i = 0; i < net->nparams; i++)
        view[i] = 1.5f * net->params[i] + 0.05f * train_rng_normal(&rng);
    train_net_set_param_view(net, view);
    float *g = dnas_xmalloc(net->nparams * sizeof(float));
    step(net, x, NULL, g);
    int checked = 0, bad = 0;
    for (int t = 0; t < net->nparam_table; t++) {
        const train_param *p = &net->param_table[t];
        for (size_t k = 0; k < p->len; k += p->len > 5 ? p->len / 5 : 1) {
            size_t i = p->off + k;
            float save = view[i];
            const float eps = 2e-3f;
            view[i] = save + eps;
            double lp = step(net, x, NULL, NULL);
            view[i] = save - eps;
            double lm = step(net, x, NULL, NULL);
            view[i] = save;
            double num = (lp - lm) / (2 * eps), ana = g[i];
            if (fabs(num - ana) > 2e-2 * fmax(fabs(num), fabs(ana)) + 2e-3) {
                bad++; /* a ReLU kink within ±eps */
                print_message("%s[%zu]: analytic %.6f numeric %.6f\n", p->name, k, ana, num);
            }
            checked++;
        }
    }
    assert_true(checked > 30);
    assert_true(bad <= checked / 20);
    free(g);
    free(view);
    train_net_free(net);
}

/* A channel masked through BN γ and β in the view: its output is 0 (in the
 * fused BN + ReLU too, which stays on), and the BN's backward still
 * computes dγ for it. Behind a ReLU that gradient is 0 (the output sits at
 * the ReLU's kink, ReLU'(0) = 0); where the BN's output goes on linearly
 * (bn2 -> add -> linear) it is not. */
static void test_view_masks_bn_channels(void **state) {
    (void)state;
    train_net *net = load_ok(PARAM_NET);
    train_net_init(net, 9);
    reserve(net, N);
    uint64_t rng = 13;
    random_bn(net, &rng);
    float x[N * IN];
    for (int i = 0; i < N * IN; i++) x[i] = train_rng_normal(&rng);
    int bn1 = train_net_find(net, "bn1"), r1 = train_net_find(net, "r1"), bn2 = train_net_find(net, "bn2");
    assert_int_equal(net->layers[bn1].relu_next, r1);
    float *view = dnas_xmalloc(net->nparams * sizeof(float));
    memcpy(view, net->params, net->nparams * sizeof(float));
    const train_layer *B1 = &net->layers[bn1], *B2 = &net->layers[bn2];
    view[B1->w_off + 1] = view[B1->b_off + 1] = 0.0f; /* bn1 channel 1 */
    view[B2->w_off + 2] = view[B2->b_off + 2] = 0.0f; /* bn2 channel 2 */
    train_net_set_param_view(net, view);
    float *g = dnas_xmalloc(net->nparams * sizeof(float));
    step(net, x, NULL, g);
    int hw = 36, nonzero = 0;
    for (int b = 0; b < N; b++)
        for (int c = 0; c < 4; c++)
            for (int j = 0; j < hw; j++) {
                float a1 = net->act[r1][(b * 4 + c) * hw + j], a2 = net->act[bn2][(b * 4 + c) * hw + j];
                if (c == 1) assert_true(a1 == 0.0f);
                if (c == 2) assert_true(a2 == 0.0f);
                nonzero += (c != 1 && a1 != 0.0f) + (c != 2 && a2 != 0.0f);
            }
    assert_true(nonzero > 0);
    assert_true(fabsf(g[B2->w_off + 2]) > 1e-6f); /* dγ of the masked bn2 channel */
    assert_true(fabsf(g[B2->b_off + 2]) > 1e-6f);
    assert_true(g[B1->w_off + 1] == 0.0f); /* behind the ReLU's kink */
    assert_true(fabsf(g[B1->w_off + 0]) > 0.0f || fabsf(g[B1->w_off + 2]) > 0.0f);
    free(g);
    free(view);
    train_net_free(net);
}

/* A choice block: three branches of equal shapes (one reads the network
 * input directly), mixed. */
static const char *MIX_NET = "input: [2, 5, 5]\n"
                             "layers:\n"
                             "  - {name: a, op: conv2d, out: 3, kernel: 3, padding: same}\n"
                             "  - {name: b, op: conv2d, out: 3, kernel: 1, input: input}\n"
                             "  - {name: c, op: conv2d, out: 3, kernel: 5, padding: 2, input: input}\n"
                             "  - {name: m, op: mix, inputs: [a, b, c]}\n"
                             "  - {name: fl, op: flatten}\n"
                             "  - {name: fc, op: linear, out: 5}\n";

typedef struct {
    train_net *net;
    const float *x;
} mix_case;

static double mix_loss(void *p) {
    mix_case *c = p;
    return step(c->net, c->x, NULL, NULL);
}

/* Unset, the mix averages its inputs; set, its output is Σ θ_k·x_k and
 * backward gives dθ and the branches' parameter gradients (finite
 * differences); dθ accumulates; θ without dθ runs. */
static void test_mix_op(void **state) {
    (void)state;
    train_net *net = load_ok(MIX_NET);
    train_net_init(net, 4);
    reserve(net, N);
    int m = train_net_find(net, "m");
    assert_int_equal(net->layers[m].ncoef, 3);
    float x[N * 50];
    uint64_t rng = 21;
    for (int i = 0; i < N * 50; i++) x[i] = train_rng_normal(&rng);
    size_t count = (size_t)N * 75;
    step(net, x, NULL, NULL);
    for (size_t i = 0; i < count; i++) {
        float want = (net->act[1][i] + net->act[2][i] + net->act[3][i]) / 3.0f;
        assert_float_equal(net->act[m][i], want, 1e-6f * (1 + fabsf(want)));
    }
    float theta[3] = {0.2f, 0.5f, 0.3f}, dtheta[3] = {0};
    train_net_set_mix(net, m, theta, dtheta);
    float *g = dnas_xmalloc(net->nparams * sizeof(float));
    step(net, x, NULL, g);
    for (size_t i = 0; i < count; i++) {
        float want = 0.2f * net->act[1][i] + 0.5f * net->act[2][i] + 0.3f * net->act[3][i];
        assert_float_equal(net->act[m][i], want, 1e-6f * (1 + fabsf(want)));
    }
    float d1[3];
    memcpy(d1, dtheta, sizeof d1);
    mix_case c = {net, x};
    train_net_set_mix(net, m, theta, NULL); /* no dθ while differencing */
    assert_int_equal(gc_check("theta", mix_loss, &c, theta, d1, 3, 1e-2f, 1e-2, 1e-3, 3, NULL), 0);
    int bad = gc_check("params", mix_loss, &c, net->params, g, net->nparams, 1e-2f, 1e-2, 1e-3, 60, NULL);
    assert_int_equal(bad, 0);
    train_net_set_mix(net, m, theta, dtheta);
    step(net, x, NULL, NULL); /* adds the same dθ again */
    for (int k = 0; k < 3; k++) assert_float_equal(dtheta[k], 2 * d1[k], 1e-5f * (1 + fabsf(d1[k])));
    train_net_set_mix(net, m, NULL, NULL);
    step(net, x, NULL, NULL);
    assert_float_equal(net->act[m][0], (net->act[1][0] + net->act[2][0] + net->act[3][0]) / 3.0f, 1e-6f);
    free(g);
    train_net_free(net);
}

static void load_fails(const char *yaml, dnas_status want_status, const char *want) {
    train_net *net;
    dnas_error err;
    assert_int_equal(train_net_load_string(&net, yaml, "bad.yaml", &err), want_status);
    assert_null(net);
    if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
}

static void test_mix_checks(void **state) {
    (void)state;
    load_fails("input: [1, 4, 4]\nlayers:\n  - {name: a, op: relu}\n  - {name: m, op: mix, input: a}\n",
               DNAS_ERR_SHAPE, "bad.yaml:4: layer 'm' (mix): needs at least two inputs");
    load_fails("input: [1, 4, 4]\nlayers:\n  - {name: a, op: maxpool, kernel: 2}\n"
               "  - {name: m, op: mix, inputs: [a, input]}\n",
               DNAS_ERR_SHAPE,
               "layer 'm' (mix): inputs must have equal shapes: 'a' is (1, 2, 2) but 'input' is");
    load_fails("input: [1, 4, 4]\nlayers:\n  - {name: m, op: mix, inputs: [input, input], p: 1}\n",
               DNAS_ERR_CONFIG, "op mix does not take 'p' (it takes: name, op, input, inputs)");
}

/* pact over bits [2, 4] with clip 2, behind an identity (dropout p = 0) so
 * the gradient reaching its input can be read. Hand values, clip
 * c = 2: PACT_4 has step 2/15, PACT_2 step 2/3, levels floored:
 *   x      -1   0.3          1.0                 2.5
 *   PACT_2  0   0            2/3                 2
 *   PACT_4  0   2·2/15       7·2/15              2 */
static const char *PACT_NET = "input: [1, 1, 4]\n"
                              "layers:\n"
                              "  - {name: d, op: dropout, p: 0}\n"
                              "  - {name: q, op: pact, bits: [2, 4], clip: 2}\n";

static void test_pact_op(void **state) {
    (void)state;
    train_net *net = load_ok(PACT_NET);
    train_net_init(net, 1);
    reserve(net, 1);
    const train_layer *Q = &net->layers[2];
    assert_int_equal(net->nparam_table, 1);
    assert_string_equal(net->param_table[0].name, "q.clip");
    assert_int_equal(Q->w_len, 1);
    assert_int_equal(Q->ncoef, 2);
    assert_float_equal(net->params[Q->w_off], 2.0f, 0);
    train_counts t = train_net_total_counts(net);
    assert_true(t.weights == 0 && t.biases == 0 && t.bn == 0 && t.macs == 0);
    const float x[4] = {-1.0f, 0.3f, 1.0f, 2.5f}, dy[4] = {1, 2, 3, 4};
    /* default: one-hot on the largest width, PACT_4 */
    const float *y = train_net_forward(net, x, 1, 1);
    /* levels round half up: 1.0 is level 7.5 -> 8 at 4 bits, 1.5 -> 2 at 2 bits */
    const float p4[4] = {0, 2 * (2.0f / 15), 8 * (2.0f / 15), 2}, p2[4] = {0, 0, 4.0f / 3, 2};
    for (int i = 0; i < 4; i++) assert_float_equal(y[i], p4[i], 1e-6f);
    /* θ = (0.25, 0.75) with dθ */
    float theta[2] = {0.25f, 0.75f}, dtheta[2] = {0, 0};
    train_net_set_pact_coef(net, 2, theta, dtheta);
    y = train_net_forward(net, x, 1, 1);
    for (int i = 0; i < 4; i++) assert_float_equal(y[i], 0.25f * p2[i] + 0.75f * p4[i], 1e-6f);
    memset(net->grads, 0, net->nparams * sizeof(float));
    train_net_backward(net, dy, 1);
    /* dx = Σθ·dy on 0 <= x < c; dc = Σθ·Σ dy on x >= c; dθ_p = Σ dy·PACT_p(x) */
    const float want_dx[4] = {0, 2, 3, 0};
    for (int i = 0; i < 4; i++) assert_float_equal(net->dact[1][i], want_dx[i], 1e-6f);
    assert_float_equal(net->grads[Q->w_off], 4.0f, 1e-6f);
    assert_float_equal(dtheta[0], 3 * (4.0f / 3) + 4 * 2, 1e-5f);
    assert_float_equal(dtheta[1], 2 * p4[1] + 3 * p4[2] + 4 * 2, 1e-5f);
    /* the clip is read through the parameter view like any parameter */
    float view[1] = {1.0f};
    train_net_set_param_view(net, view);
    y = train_net_forward(net, x, 1, 1);
    /* c = 1: 0.3 -> PACT_2 round(0.9)·1/3, PACT_4 round(4.5) = 5 ·1/15; 1.0, 2.5 -> 1 */
    assert_float_equal(y[1], 0.25f / 3 + 0.75f * 5 / 15.0f, 1e-6f);
    assert_float_equal(y[2], 1.0f, 0), assert_float_equal(y[3], 1.0f, 0);
    train_net_free(net);
}

typedef struct {
    train_net *net;
    const float *x, *r;
    size_t count;
} pact_case;

/* Σ r·y of the pact layer's output (BN on batch statistics). */
static double pact_loss(void *p) {
    pact_case *c = p;
    const float *y = train_net_forward(c->net, c->x, N, 1);
    return gc_dot(y, c->r, c->count);
}

/* dθ against finite differences (y is linear in θ) on conv -> BN -> pact;
 * the default θ follows the largest width wherever it is listed. */
static void test_pact_theta_gradient(void **state) {
    (void)state;
    train_net *net = load_ok("input: [2, 5, 5]\nlayers:\n"
                             "  - {name: c, op: conv2d, out: 3, kernel: 3, padding: 1}\n"
                             "  - {name: bn, op: batchnorm}\n"
                             "  - {name: q, op: pact, bits: [8, 2, 4], clip: 1.5}\n");
    train_net_init(net, 2);
    reserve(net, N);
    float x[N * 50], r[N * 75];
    uint64_t rng = 8;
    for (int i = 0; i < N * 50; i++) x[i] = train_rng_normal(&rng);
    for (int i = 0; i < N * 75; i++) r[i] = train_rng_normal(&rng);
    int q = train_net_find(net, "q");
    /* default: one-hot on 8 bits, listed first */
    const float *y = train_net_forward(net, x, N, 1);
    float *p8 = dnas_xmalloc(sizeof r);
    train_pact_forward(p8, net->act[q - 1], (size_t)N * 75, 8, 1.5f);
    assert_memory_equal(y, p8, sizeof r);
    float theta[3] = {0.2f, 0.3f, 0.5f}, dtheta[3] = {0};
    train_net_set_pact_coef(net, q, theta, dtheta);
    train_net_forward(net, x, N, 1);
    memset(net->grads, 0, net->nparams * sizeof(float));
    train_net_backward(net, r, N);
    pact_case c = {net, x, r, (size_t)N * 75};
    train_net_set_pact_coef(net, q, theta, NULL);
    assert_int_equal(gc_check("theta", pact_loss, &c, theta, dtheta, 3, 1e-2f, 1e-3, 1e-3, 3, NULL), 0);
    free(p8);
    train_net_free(net);
}

static void test_pact_checks(void **state) {
    (void)state;
    const char *head = "input: [1, 4, 4]\nlayers:\n  - {name: q, op: pact";
    char yaml[256];
    static const struct {
        const char *attrs, *want;
        dnas_status st;
    } CASES[] = {
        {"", "bad.yaml:3: layer 'q': missing 'bits' (candidate bit widths, e.g. [2, 4, 8])", DNAS_ERR_CONFIG},
        {", bits: 0", "bad.yaml:3: bits: 0 is out of range: expected 1..16", DNAS_ERR_CONFIG},
        {", bits: [2, 17]", "bits: 17 is out of range: expected 1..16", DNAS_ERR_CONFIG},
        {", bits: [2, 4, 2]", "bits: 2 is listed twice", DNAS_ERR_CONFIG},
        {", bits: []", "bits: expected a number or a list of 1..8 bit widths, found a list of 0",
         DNAS_ERR_CONFIG},
        {", bits: [1, 2, 3, 4, 5, 6, 7, 8, 9]", "found a list of 9", DNAS_ERR_CONFIG},
        {", bits: {a: 2}", "bits: expected a single value, found a mapping", DNAS_ERR_CONFIG},
        {", bits: 8, clip: 0", "clip: 0 is out of range: expected 0 < x <= 1e+06", DNAS_ERR_CONFIG},
        {", bits: 8, clip: x", "clip: expected a finite number, found 'x'", DNAS_ERR_CONFIG},
        {", bits: 8, kernel: 3",
         "op pact does not take 'kernel' (it takes: name, op, input, inputs, bits, clip)", DNAS_ERR_CONFIG},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        snprintf(yaml, sizeof yaml, "%s%s}\n", head, CASES[i].attrs);
        load_fails(yaml, CASES[i].st, CASES[i].want);
    }
    /* a single width as a number; clip default 6 */
    train_net *net = load_ok("input: [1, 4, 4]\nlayers:\n  - {name: q, op: pact, bits: 8}\n");
    assert_int_equal(net->layers[1].prec.nprec, 1);
    assert_int_equal(net->layers[1].prec.bits[0], 8);
    assert_float_equal(net->layers[1].clip_init, 6.0f, 0);
    train_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_equal_to_params),
        cmocka_unit_test(test_view_gradients),
        cmocka_unit_test(test_view_masks_bn_channels),
        cmocka_unit_test(test_mix_op),
        cmocka_unit_test(test_mix_checks),
        cmocka_unit_test(test_pact_op),
        cmocka_unit_test(test_pact_theta_gradient),
        cmocka_unit_test(test_pact_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
