/* The engine's hooks for the search (net.h): the effective-parameter view
 * and the mix op's external coefficients. */
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_equal_to_params),
        cmocka_unit_test(test_view_gradients),
        cmocka_unit_test(test_view_masks_bn_channels),
        cmocka_unit_test(test_mix_op),
        cmocka_unit_test(test_mix_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
