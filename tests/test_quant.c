/* The integer export (search/quant.h): BN folding equals the unfolded float
 * network; exported networks (2-D with residual add, pools, ReLU6, dropout,
 * flatten + linear; 1-D with dilation and stride) run bit for bit as a
 * direct int64 computation (qnet_test_util.h) and close to the float
 * network; weights round exactly as train_wq_export; 4-bit export; a zero
 * channel keeps its bias; calibration percentiles; refused models and
 * overflowing biases name the layer. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net_test_util.h"
#include "qnet_test_util.h"
#include "search.h"
#include "train.h"

static train_net *load(const char *yaml) {
    train_net *net;
    dnas_error err;
    if (train_net_load_string(&net, yaml, "m.yaml", &err)) fail_msg("%s", err.msg);
    return net;
}

/* Seeded weights, conv biases, and BN affine and running statistics away
 * from 0 and 1 (ntu_perturb). */
static train_net *load_init(const char *yaml, uint64_t seed) {
    train_net *net = load(yaml);
    ntu_perturb(net, seed);
    return net;
}

/* count samples of the network's input shape, N(0, 1), labels mod k. */
static train_dataset random_data(const train_net *net, int count, int k, uint64_t seed) {
    const train_layer *in = &net->layers[0];
    train_dataset ds = {.count = count, .c = in->c, .h = in->h, .w = in->w, .num_classes = k};
    size_t n = (size_t)count * in->c * in->h * in->w;
    ds.x = malloc(n * sizeof *ds.x);
    ds.y = malloc((size_t)count * sizeof *ds.y);
    for (size_t i = 0; i < n; i++)
        ds.x[i] = train_rng_normal(&seed);
    for (int i = 0; i < count; i++)
        ds.y[i] = i % k;
    return ds;
}

static const char *NET_BN =
    "input: [3, 6, 5]\n"
    "layers:\n"
    "  - {name: c1, op: conv2d, out: 4, kernel: 3, padding: 1}\n"
    "  - {name: bn1, op: batchnorm}\n"
    "  - {name: r1, op: relu}\n"
    "  - {name: dw, op: depthwise, kernel: 3, stride: 2, padding: same, bias: false}\n"
    "  - {name: bn2, op: batchnorm, eps: 0.01}\n"
    "  - {name: r2, op: relu6}\n"
    "  - {name: flat, op: flatten}\n"
    "  - {name: fc, op: linear, out: 5}\n"
    "  - {name: bn3, op: batchnorm}\n";
static const char *NET_NOBN = "input: [3, 6, 5]\n"
                              "layers:\n"
                              "  - {name: c1, op: conv2d, out: 4, kernel: 3, padding: 1}\n"
                              "  - {name: r1, op: relu}\n"
                              "  - {name: dw, op: depthwise, kernel: 3, stride: 2, padding: same}\n"
                              "  - {name: r2, op: relu6}\n"
                              "  - {name: flat, op: flatten}\n"
                              "  - {name: fc, op: linear, out: 5}\n";

static void test_fold_equals_unfolded(void **state) {
    (void)state;
    train_net *a = load_init(NET_BN, 3), *b = load(NET_NOBN);
    const char *names[] = {"c1", "dw", "fc"};
    for (int j = 0; j < 3; j++) {
        int la = train_net_find(a, names[j]), lb = train_net_find(b, names[j]), bn;
        const train_layer *L = &b->layers[lb];
        search_quant_fold(a, la, b->params + L->w_off, b->params + L->b_off, &bn);
        assert_string_equal(a->layers[bn].name, j == 0 ? "bn1" : j == 1 ? "bn2" : "bn3");
    }
    enum { N = 16 };
    train_dataset ds = random_data(a, N, 5, 11);
    dnas_error err;
    assert_int_equal(train_net_reserve(a, N, &err), DNAS_OK);
    assert_int_equal(train_net_reserve(b, N, &err), DNAS_OK);
    const float *ya = train_net_forward(a, ds.x, N, 0), *yb = train_net_forward(b, ds.x, N, 0);
    double worst = 0;
    for (int i = 0; i < N * 5; i++) {
        double d = fabs((double)ya[i] - yb[i]) / (1 + fabs(ya[i]));
        worst = d > worst ? d : worst;
    }
    if (worst > 1e-5) fail_msg("folded and unfolded outputs differ by %g (relative)", worst);
    /* not trivially equal: the BN changes the values */
    int fc = train_net_find(a, "fc");
    assert_true(fabsf(ya[0] - a->act[fc][0]) > 1e-3f);
    train_dataset_free(&ds);
    train_net_free(a);
    train_net_free(b);
}

static const char *NET_2D =
    "input: [2, 8, 8]\n"
    "layers:\n"
    "  - {name: c1, op: conv2d, out: 6, kernel: 3, padding: same, bias: false}\n"
    "  - {name: bn1, op: batchnorm}\n"
    "  - {name: r1, op: relu}\n"
    "  - {name: c2, op: conv2d, out: 6, kernel: 3, dilation: 2, padding: same}\n"
    "  - {name: bn2, op: batchnorm}\n"
    "  - {name: res, op: add, inputs: [bn2, r1]}\n"
    "  - {name: r2, op: relu}\n"
    "  - {name: mp, op: maxpool, kernel: 2}\n"
    "  - {name: r3, op: relu}\n"
    "  - {name: ap, op: avgpool, kernel: 2}\n"
    "  - {name: dw, op: depthwise, kernel: 3, padding: 1}\n"
    "  - {name: r4, op: relu6}\n"
    "  - {name: drop, op: dropout, p: 0.3}\n"
    "  - {name: flat, op: flatten}\n"
    "  - {name: fc, op: linear, out: 4}\n";
static const char *NET_1D =
    "input: [4, 1, 16]\n"
    "layers:\n"
    "  - {name: c1, op: conv1d, out: 8, kernel: 5, dilation: 2, padding: same, "
    "bias: false}\n"
    "  - {name: bn1, op: batchnorm}\n"
    "  - {name: r1, op: relu}\n"
    "  - {name: c2, op: conv1d, out: 8, kernel: 3, stride: 2, padding: same}\n"
    "  - {name: bn2, op: batchnorm}\n"
    "  - {name: r2, op: relu}\n"
    "  - {name: gap, op: global_avgpool}\n"
    "  - {name: fc, op: linear, out: 3}\n";

/* Exports net on random data into q; checks the evaluator against the
 * direct computation on 16 samples, and the float network on all 128: the
 * mean |float - dequantized int| output at most tol of the largest |float|
 * output, the argmax the same on all but 4·tol of the samples. */
static void export_and_compare(train_net *net, deploy_qnet *q, int bits, double tol) {
    enum { N = 128 };
    int k = train_net_output_size(net);
    train_dataset ds = random_data(net, N, k, 5);
    search_quant_params p = search_quant_default_params();
    p.batch = 32;
    p.calib_batches = 4;
    p.wbits = p.abits = bits;
    dnas_error err;
    if (search_quant_export(q, net, &ds, &p, &err)) fail_msg("%s", err.msg);
    deploy_qeval ev;
    assert_int_equal(deploy_qeval_init(&ev, q, "q", &err), DNAS_OK);
    int32_t *out = malloc((size_t)N * k * sizeof *out);
    assert_int_equal(deploy_qeval_run(&ev, out, ds.x, N, &err), DNAS_OK);
    const deploy_qtensor *T0 = &q->tensors[0], *TO = &q->tensors[q->output];
    size_t hw = (size_t)T0->h * T0->w, nin = hw * T0->c;
    int32_t *in = malloc(nin * sizeof *in);
    for (int s = 0; s < 16; s++) {
        for (size_t c = 0; c < (size_t)T0->c; c++)
            for (size_t i = 0; i < hw; i++)
                in[i * T0->c + c] = qtu_quantize(T0, ds.x[s * nin + c * hw + i]);
        int32_t **v = qtu_eval(q, in);
        for (int j = 0; j < k; j++)
            if (v[q->output][j] != out[s * k + j])
                fail_msg("sample %d output %d: evaluator %d, direct %d", s, j, out[s * k + j],
                         v[q->output][j]);
        qtu_free(q, v);
    }
    assert_int_equal(train_net_reserve(net, N, &err), DNAS_OK);
    const float *y = train_net_forward(net, ds.x, N, 0);
    double err_sum = 0, ymax = 0;
    int agree = 0;
    for (int s = 0; s < N; s++) {
        int bf = 0;
        for (int j = 0; j < k; j++) {
            err_sum += fabs(y[s * k + j] - TO->scale * out[s * k + j]);
            ymax = fmax(ymax, fabs(y[s * k + j]));
            if (y[s * k + j] > y[s * k + bf]) bf = j;
        }
        agree += bf == deploy_qnet_argmax(out + s * k, k);
    }
    double rel = err_sum / (N * k) / ymax;
    if (rel > tol || agree < N * (1 - 4 * tol))
        fail_msg(
            "%d bits: mean |float - int| = %.4f of the largest output, argmax agrees on %d of %d",
            bits, rel, agree, N);
    free(in);
    free(out);
    deploy_qeval_free(&ev);
    train_dataset_free(&ds);
}

static void test_export_2d(void **state) {
    (void)state;
    train_net *net = load_init(NET_2D, 21);
    deploy_qnet q;
    export_and_compare(net, &q, 8, 0.012); /* measured 0.0077, 125 of 128 agree */
    /* the plan: BN folded, ReLUs fused, r3 and drop aliases */
    const char *want[] = {"c1 conv",    "c2 conv", "res add",      "mp maxpool",
                          "ap avgpool", "dw conv", "flat flatten", "fc linear"};
    assert_int_equal(q.nops, 8);
    for (int k = 0; k < 8; k++) {
        char got[80];
        snprintf(got, sizeof got, "%s %s", q.ops[k].name, deploy_qop_kind_name(q.ops[k].kind));
        assert_string_equal(got, want[k]);
    }
    /* signedness: c2 + BN alone is signed; after a fused ReLU unsigned, kept by pools */
    const char *tensors[] = {"input", "r1", "bn2", "r2", "mp", "ap", "r4", "flat", "fc"};
    int sgn[] = {1, 0, 1, 0, 0, 0, 0, 0, 1};
    for (int i = 0; i < 9; i++) {
        assert_string_equal(q.tensors[i].name, tensors[i]);
        assert_int_equal(q.tensors[i].is_signed, sgn[i]);
    }
    assert_int_equal(q.ops[1].pt, 2); /* dilation 2, k 3, same: 2 before, 2 after */
    assert_int_equal(q.ops[1].pb, 2);
    /* c1's weights: train_wq_export of the folded weights, (Cout, Cin, kh, kw) ->
     * [Cout][kh][kw][Cin] */
    int l = train_net_find(net, "c1"), bn;
    const train_layer *L = &net->layers[l];
    float *w = malloc(L->w_len * sizeof *w), b[6], s[6];
    int32_t *qi = malloc(L->w_len * sizeof *qi);
    search_quant_fold(net, l, w, b, &bn);
    train_wq_export(qi, s, w, 6, 18, 8);
    for (int co = 0; co < 6; co++)
        for (int ci = 0; ci < 2; ci++)
            for (int t = 0; t < 9; t++)
                assert_int_equal(q.ops[0].w[(co * 9 + t) * 2 + ci], qi[(co * 2 + ci) * 9 + t]);
    free(w);
    free(qi);
    deploy_qnet_free(&q);
    train_net_free(net);
}

static void test_export_1d_and_4_bits(void **state) {
    (void)state;
    train_net *net = load_init(NET_1D, 8);
    deploy_qnet q;
    export_and_compare(net, &q, 8, 0.006); /* measured 0.0034, 128 of 128 agree */
    assert_int_equal(q.nops, 4);
    assert_int_equal(q.ops[0].dw, 2);
    assert_int_equal(q.ops[0].pl, 4);
    assert_int_equal(q.ops[1].sw, 2);
    deploy_qnet_free(&q);
    export_and_compare(net, &q, 4, 0.1); /* measured 0.065, 128 of 128 agree */
    for (int k = 0; k < q.nops; k++) {
        const deploy_qop *op = &q.ops[k];
        const deploy_qtensor *t = &q.tensors[op->out];
        assert_int_equal(t->bits, 4);
        assert_int_equal(op->hi, t->is_signed ? 7 : 15);
        for (size_t j = 0; j < op->wlen; j++)
            assert_true(op->w[j] >= -7 && op->w[j] <= 7);
    }
    deploy_qnet_free(&q);
    train_net_free(net);
}

/* A channel whose weights are all 0 outputs its folded bias: relu(β) here. */
static void test_zero_channel(void **state) {
    (void)state;
    train_net *net = load_init(NET_1D, 4);
    const train_layer *C = &net->layers[train_net_find(net, "c2")];
    const train_layer *B = &net->layers[train_net_find(net, "bn2")];
    size_t per = C->w_len / (size_t)C->c;
    memset(net->params + C->w_off + 3 * per, 0, per * sizeof(float));
    net->params[C->b_off + 3] = 0;
    net->params[B->b_off + 3] = 0.7f;
    net->state[B->state_off + 3] = 0;
    deploy_qnet q;
    enum { N = 32 };
    train_dataset ds = random_data(net, N, 3, 9);
    search_quant_params p = search_quant_default_params();
    p.batch = N;
    dnas_error err;
    if (search_quant_export(&q, net, &ds, &p, &err)) fail_msg("%s", err.msg);
    /* the c2 output tensor, channel 3, dequantized: 0.7 to within a step */
    deploy_qeval ev;
    assert_int_equal(deploy_qeval_init(&ev, &q, "q", &err), DNAS_OK);
    int32_t out[3];
    assert_int_equal(deploy_qeval_run(&ev, out, ds.x, 1, &err), DNAS_OK);
    const deploy_qtensor *T = &q.tensors[q.ops[1].out];
    for (int x = 0; x < T->w; x++) {
        double v = T->scale * ev.buf[q.ops[1].out][x * T->c + 3];
        if (fabs(v - 0.7) > T->scale)
            fail_msg("pixel %d: %g, expected 0.7 (scale %g)", x, v, T->scale);
    }
    deploy_qeval_free(&ev);
    deploy_qnet_free(&q);
    train_dataset_free(&ds);
    train_net_free(net);
}

static void test_calibration_percentile(void **state) {
    (void)state;
    train_net *net = load("input: [1, 1, 100]\nlayers:\n  - {name: fc, op: linear, out: 2}\n");
    train_net_init(net, 1);
    train_dataset ds = {.count = 1, .c = 1, .h = 1, .w = 100, .num_classes = 2};
    float x[100];
    int32_t y[1] = {0};
    for (int i = 0; i < 100; i++)
        x[i] = (float)(i % 2 ? i : -i); /* |x| = 0..99 */
    ds.x = x, ds.y = y;
    search_quant_params p = search_quant_default_params();
    p.batch = 1;
    search_quant_range r[2];
    dnas_error err;
    p.percentile = 100;
    assert_int_equal(search_quant_calibrate(net, &ds, &p, r, &err), DNAS_OK);
    assert_true(r[0].lo == -98 && r[0].hi == 99 && r[0].amax == 99);
    p.percentile = 50; /* the 50th of 100 values is 49: the upper edge of its bin, 1014·99/2048 */
    assert_int_equal(search_quant_calibrate(net, &ds, &p, r, &err), DNAS_OK);
    assert_true(r[0].amax >= 49 && r[0].amax <= 49.05f);
    train_net_free(net);
}

static void test_refused(void **state) {
    (void)state;
    static const struct {
        const char *yaml, *frag;
    } cases[] = {
        {"input: [2, 4, 4]\nlayers:\n  - {name: a, op: conv2d, out: 2, kernel: 1}\n"
         "  - {name: cat, op: concat, inputs: [a, input]}\n",
         "layer 'cat' (concat, line 4): the integer kernels have no concat"},
        {"input: [2, 4, 4]\nlayers:\n  - {name: a, op: conv2d, out: 2, kernel: 1}\n"
         "  - {name: s, op: add, inputs: [a, input]}\n  - {name: bn, op: batchnorm}\n",
         "layer 'bn' (batchnorm, line 5): it does not directly follow a conv or linear whose only "
         "reader"},
        {"input: [2, 4, 4]\nlayers:\n  - {name: a, op: conv2d, out: 2, kernel: 1}\n"
         "  - {name: bn, op: batchnorm}\n  - {name: s, op: add, inputs: [a, bn]}\n",
         "layer 'bn' (batchnorm, line 4)"},
        {"input: [2, 4, 4]\nlayers:\n  - {name: a, op: conv2d, out: 2, kernel: 1}\n"
         "  - {name: mp, op: maxpool, kernel: 2}\n  - {name: r, op: relu}\n",
         "layer 'r' (relu, line 5): it does not follow a conv, linear, add or average pool"},
        {"input: [2, 4, 4]\nlayers:\n  - {name: a, op: conv2d, out: 2, kernel: 1}\n"
         "  - {name: r, op: relu}\n  - {name: mp, op: maxpool, kernel: 2}\n  - {name: r6, op: "
         "relu6}\n",
         "layer 'r6' (relu, line 6)"},
        {"input: [2, 5, 5]\nlayers:\n  - {name: ap, op: avgpool, kernel: 2, padding: same}\n",
         "layer 'ap' (avgpool, line 3): its windows reach into padding"},
        {"input: [2, 4, 4]\nlayers:\n  - {name: s, op: add, inputs: [input, input, input]}\n",
         "layer 's' (add, line 3): an add of 3 inputs"},
        {"input: [2, 2, 2]\nlayers:\n  - {name: flat, op: flatten}\n"
         "  - {name: c, op: conv2d, out: 2, kernel: 1}\n",
         "layer 'c' (conv2d, line 4): it reads the flattened tensor of 'flat'"},
        {"input: [2, 2, 2]\nlayers:\n  - {name: flat, op: flatten}\n",
         "the output 'flat' is a flattened tensor"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        train_net *net = load(cases[i].yaml);
        dnas_error err;
        dnas_status st = search_quant_check(net, &err);
        if (st != DNAS_ERR_UNSUPPORTED || !strstr(err.msg, cases[i].frag) ||
            !strstr(err.msg, "model 'm'"))
            fail_msg("case %zu: status %d, '%s' lacks '%s'", i, st, err.msg, cases[i].frag);
        train_net_free(net);
    }
    /* accepted: a ReLU6 over a maxpool of a fused ReLU6, a flatten of a 1x1 tensor as output */
    train_net *net =
        load("input: [2, 4, 4]\nlayers:\n  - {name: a, op: conv2d, out: 2, kernel: 1}\n"
             "  - {name: r, op: relu6}\n  - {name: mp, op: maxpool, kernel: 2}\n"
             "  - {name: r2, op: relu6}\n  - {name: g, op: global_avgpool}\n"
             "  - {name: f, op: flatten}\n");
    dnas_error err;
    if (search_quant_check(net, &err)) fail_msg("%s", err.msg);
    train_net_free(net);
}

/* A bias beyond int32 at scale s_x·s_w is refused naming the layer and channel. */
static void test_bias_overflow(void **state) {
    (void)state;
    train_net *net = load("input: [1, 1, 4]\nlayers:\n  - {name: fc, op: linear, out: 2}\n");
    const train_layer *L = &net->layers[1];
    for (size_t i = 0; i < L->w_len; i++)
        net->params[L->w_off + i] = 1e-7f;
    net->params[L->b_off + 1] = 1000;
    train_dataset ds = random_data(net, 8, 2, 1);
    search_quant_params p = search_quant_default_params();
    deploy_qnet q;
    dnas_error err;
    assert_int_equal(search_quant_export(&q, net, &ds, &p, &err), DNAS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "layer 'fc' channel 1: bias 1000 at scale s_x·s_w"));
    assert_int_equal(q.nops, 0);
    p.wbits = 9;
    assert_int_equal(search_quant_export(&q, net, &ds, &p, &err), DNAS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "weight bits 9, activation bits 8"));
    train_dataset_free(&ds);
    train_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_equals_unfolded),   cmocka_unit_test(test_export_2d),
        cmocka_unit_test(test_export_1d_and_4_bits),   cmocka_unit_test(test_zero_channel),
        cmocka_unit_test(test_calibration_percentile), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bias_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
