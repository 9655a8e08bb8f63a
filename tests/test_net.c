/* Model loader, shape inference, error messages and whole-network
 * gradients (central finite differences through the DAG). */
#include <math.h>
#include <stdlib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <cblas.h>
#include <omp.h>

#include "train.h"

static train_net *load_ok(const char *yaml) {
    train_net *net;
    dnas_error err;
    dnas_status st = train_net_load_string(&net, yaml, "test.yaml", &err);
    if (st) fail_msg("unexpected load error: %s", err.msg);
    return net;
}

static void reserve(train_net *net, int batch) {
    dnas_error err;
    if (train_net_reserve(net, batch, &err)) fail_msg("%s", err.msg);
}

/* Loads yaml expecting failure; checks the message holds `want`. */
static void load_fails(const char *yaml, dnas_status want_status, const char *want) {
    train_net *net;
    dnas_error err;
    dnas_status st = train_net_load_string(&net, yaml, "bad.yaml", &err);
    assert_int_equal(st, want_status);
    assert_null(net);
    if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
}

static void test_shapes_same_padding(void **state) {
    (void)state;
    train_net *net = load_ok("input: [1, 49, 10]\n"
                             "layers:\n"
                             "  - {name: c1, op: conv2d, out: 64, kernel: [10, 4], stride: 2, padding: same, bias: false}\n"
                             "  - {name: dw, op: depthwise, kernel: 3, padding: same}\n"
                             "  - {name: p, op: global_avgpool}\n"
                             "  - {name: fc, op: linear, out: 12}\n");
    const train_layer *c1 = &net->layers[1];
    assert_int_equal(c1->c, 64);
    assert_int_equal(c1->h, 25);
    assert_int_equal(c1->w, 5);
    /* 49 rows, k 10, s 2: out 25, total pad (24*2+10-49)=9 -> 4 top, 5 bottom */
    assert_int_equal(c1->pt, 4);
    assert_int_equal(c1->pb, 5);
    /* 10 cols, k 4, s 2: out 5, total pad (4*2+4-10)=2 -> 1 left, 1 right */
    assert_int_equal(c1->pl, 1);
    assert_int_equal(c1->pr, 1);
    assert_int_equal(net->layers[2].groups, 64);
    assert_int_equal(train_net_output_size(net), 12);
    train_counts t = train_net_total_counts(net);
    assert_int_equal(t.weights, 2560 + 576 + 768);
    assert_int_equal(t.biases, 64 + 12);
    assert_int_equal(t.macs, 320000 + 72000 + 768);
    train_net_free(net);
}

/* conv1d padding [left, right]: a causal conv (all padding on the left)
 * keeps the length, reads only the past, and equals the reference kernel. */
static void test_conv1d_left_right_padding(void **state) {
    (void)state;
    train_net *net = load_ok("input: [2, 1, 10]\n"
                             "layers:\n"
                             "  - {name: c, op: conv1d, out: 3, kernel: 3, dilation: 2, padding: [4, 0]}\n"
                             "  - {name: d, op: conv1d, out: 2, kernel: 2, padding: [0, 3]}\n");
    const train_layer *c = &net->layers[1], *d = &net->layers[2];
    assert_int_equal(c->w, 10);
    assert_true(c->pl == 4 && c->pr == 0 && c->pt == 0 && c->pb == 0);
    assert_int_equal(d->w, 12);
    assert_true(d->pl == 0 && d->pr == 3);
    uint64_t rng = 5;
    for (size_t i = 0; i < net->nparams; i++) net->params[i] = train_rng_uniform(&rng) - 0.5f;
    float x[20], want[30];
    for (int i = 0; i < 20; i++) x[i] = train_rng_uniform(&rng) - 0.5f;
    reserve(net, 1);
    train_net_forward(net, x, 1, 0);
    train_conv_dims cd = {.n = 1, .cin = 2, .hin = 1, .win = 10, .cout = 3, .hout = 1, .wout = 10,
                          .kh = 1, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 2, .pt = 0, .pl = 4,
                          .groups = 1};
    train_conv2d_forward_ref(want, x, net->params + c->w_off, net->params + c->b_off, &cd);
    for (int i = 0; i < 30; i++) assert_float_equal(net->act[1][i], want[i], 1e-5);
    /* output 0 reads x[0] only (taps at -4, -2, 0) */
    float x2[20];
    memcpy(x2, x, sizeof x2);
    x2[1] += 1.0f;
    x2[11] += 1.0f;
    train_net_forward(net, x2, 1, 0);
    for (int o = 0; o < 3; o++) assert_float_equal(net->act[1][o * 10], want[o * 10], 0);
    train_net_free(net);
    load_fails("input: [2, 1, 4]\nlayers:\n  - {name: c, op: conv1d, out: 3, kernel: 9, padding: [1, 2]}\n",
               DNAS_ERR_SHAPE, "does not fit input length 4 with padding [1, 2]");
}

static void test_errors_name_line(void **state) {
    (void)state;
    load_fails("input: [1, 8, 8]\nlayers:\n  - {name: a, op: conv2d, out: 4}\n", DNAS_ERR_CONFIG,
               "bad.yaml:3: layer 'a': missing 'kernel'");
    load_fails("input: [1, 8, 8]\nlayers:\n  - {name: a, op: convolution, out: 4}\n", DNAS_ERR_CONFIG,
               "bad.yaml:3: layer 'a': unknown op 'convolution'");
    load_fails("input: [1, 8, 8]\nlayers:\n  - {name: a, op: relu}\n  - {name: b, op: add, inputs: [a, zz]}\n",
               DNAS_ERR_CONFIG, "bad.yaml:4: layer 'b' reads 'zz': no layer of that name");
    load_fails("input: [1, 8, 8]\nlayers:\n  - {name: a, op: relu}\n  - {name: a, op: relu}\n", DNAS_ERR_CONFIG,
               "duplicate layer name 'a'");
    load_fails("input: [1, 8, 8]\nlayers:\n  - {name: a, op: conv2d, out: 4, kernel: 3}\n"
               "  - {name: b, op: add, inputs: [a, input]}\n",
               DNAS_ERR_SHAPE, "bad.yaml:4: layer 'b' (add): inputs must have equal shapes");
    load_fails("input: [1, 4, 4]\nlayers:\n  - {name: a, op: conv2d, out: 4, kernel: 5}\n", DNAS_ERR_SHAPE,
               "does not fit input 4x4");
    load_fails("input: [3, 1, 16]\nlayers:\n  - {name: a, op: conv2d, out: 4, kernel: 3, groups: 2}\n",
               DNAS_ERR_SHAPE, "groups 2 must divide input channels 3");
    load_fails("input: [3, 4, 16]\nlayers:\n  - {name: a, op: conv1d, out: 4, kernel: 3}\n", DNAS_ERR_SHAPE,
               "conv1d expects an input of height 1");
    load_fails("input: [1, 8, 8]\nlayers:\n  - {name: a, op: relu, colour: red}\n", DNAS_ERR_CONFIG,
               "bad.yaml:3: layer 'a': op relu does not take 'colour'");
    load_fails("input: [1, 8, 8]\nlayers:\n  - {name: a, op: relu\n", DNAS_ERR_CONFIG, "YAML syntax error");
    load_fails("input: [1, 8]\nlayers:\n  - {name: a, op: relu}\n", DNAS_ERR_CONFIG, "bad.yaml:1: input: expected");
    load_fails("input: [1, 8, 8]\nlayers:\n  - {name: a, op: conv2d, out: x4, kernel: 3}\n", DNAS_ERR_CONFIG,
               "bad.yaml:3: out: expected an integer in 1..16777216, found 'x4'");
}

static void test_missing_file(void **state) {
    (void)state;
    train_net *net;
    dnas_error err;
    assert_int_equal(train_net_load(&net, "/nonexistent/model.yaml", &err), DNAS_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/model.yaml"));
}

/* A path the net cannot keep whole is refused, not truncated (the
 * checkpoint reads the model text back from net->path). */
/* The network keeps the YAML it was built from (checkpoints store it), also
 * when loaded from a string whose "path" is no file. */
static void test_net_keeps_text(void **state) {
    (void)state;
    const char *yaml = "input: [1, 2, 2]\nlayers:\n  - {name: r, op: relu}\n";
    train_net *net = load_ok(yaml);
    assert_non_null(net->text);
    assert_string_equal(net->text, yaml);
    train_net_free(net);
}

static void test_path_too_long(void **state) {
    (void)state;
    char path[5000];
    memset(path, 'd', sizeof path - 1);
    path[sizeof path - 1] = 0;
    train_net *net;
    dnas_error err;
    assert_int_equal(train_net_load_string(&net, "input: [1, 1, 4]\nlayers:\n  - {name: r, op: relu}\n", path,
                                           &err),
                     DNAS_ERR_IO);
    assert_null(net);
    assert_non_null(strstr(err.msg, ": path longer than 4095 characters"));
}

/* A small DAG with every op: conv (strided, same), bn, relu, maxpool,
 * depthwise, add, concat, avgpool, dropout p=0, flatten, linear. */
static const char *GRAD_NET =
    "input: [2, 6, 6]\n"
    "layers:\n"
    "  - {name: c1, op: conv2d, out: 4, kernel: 3, padding: 1}\n"
    "  - {name: bn1, op: batchnorm}\n"
    "  - {name: r1, op: relu}\n"
    "  - {name: dw, op: depthwise, kernel: 3, padding: same}\n"
    "  - {name: bn2, op: batchnorm}\n"
    "  - {name: sum, op: add, inputs: [bn2, r1]}\n"
    "  - {name: r6, op: relu6}\n"
    "  - {name: c2, op: conv2d, out: 3, kernel: [3, 2], stride: 2, padding: same, input: input}\n"
    "  - {name: up, op: maxpool, kernel: 2, input: r6}\n"
    "  - {name: cat, op: concat, inputs: [up, c2]}\n"
    "  - {name: ap, op: avgpool, kernel: 2, stride: 1}\n"
    "  - {name: dr, op: dropout, p: 0}\n"
    "  - {name: fl, op: flatten}\n"
    "  - {name: fc, op: linear, out: 5}\n";

static double net_loss(train_net *net, const float *x, const int32_t *y, int n) {
    const float *out = train_net_forward(net, x, n, 1);
    return train_softmax_xent(NULL, NULL, out, y, n, train_net_output_size(net));
}

static void test_net_gradients(void **state) {
    (void)state;
    train_net *net = load_ok(GRAD_NET);
    train_net_init(net, 7);
    int n = 3;
    reserve(net, n);
    size_t insz = 2 * 6 * 6;
    float x[3 * 72];
    int32_t y[3] = {0, 3, 4};
    uint64_t rng = 11;
    for (size_t i = 0; i < n * insz; i++) x[i] = train_rng_normal(&rng);
    /* random non-trivial BN affine parameters */
    for (int i = 0; i < net->nlayers; i++)
        if (net->layers[i].op == TRAIN_OP_BN)
            for (size_t k = 0; k < net->layers[i].w_len; k++) {
                net->params[net->layers[i].w_off + k] = 0.5f + train_rng_uniform(&rng);
                net->params[net->layers[i].b_off + k] = 0.3f * train_rng_normal(&rng);
            }
    const float *out = train_net_forward(net, x, n, 1);
    float dout[15];
    train_softmax_xent(dout, NULL, out, y, n, 5);
    memset(net->grads, 0, net->nparams * sizeof(float));
    train_net_backward(net, dout, n);

    /* check a spread of parameters in every tensor */
    int checked = 0, bad = 0;
    for (int t = 0; t < net->nparam_table; t++) {
        const train_param *p = &net->param_table[t];
        size_t stride = p->len > 6 ? p->len / 6 : 1;
        for (size_t k = 0; k < p->len; k += stride) {
            size_t i = p->off + k;
            float save = net->params[i];
            const float eps = 2e-3f;
            net->params[i] = save + eps;
            double lp = net_loss(net, x, y, n);
            net->params[i] = save - eps;
            double lm = net_loss(net, x, y, n);
            net->params[i] = save;
            double num = (lp - lm) / (2 * eps);
            double ana = net->grads[i];
            double tol = 2e-2 * fmax(fabs(num), fabs(ana)) + 2e-3;
            if (fabs(num - ana) > tol) {
                /* a ReLU or max-pool kink inside ±eps makes FD meaningless; tolerate few */
                bad++;
                print_message("%s[%zu]: analytic %.6f numeric %.6f\n", p->name, k, ana, num);
            }
            checked++;
        }
    }
    assert_true(checked > 50);
    assert_true(bad <= checked / 25);
    train_net_free(net);
}

static void test_bn_eval_uses_running_stats(void **state) {
    (void)state;
    train_net *net = load_ok("input: [2, 1, 1]\nlayers:\n  - {name: bn, op: batchnorm, momentum: 1.0}\n");
    train_net_init(net, 1);
    reserve(net, 4);
    float x[8] = {1, 10, 2, 20, 3, 30, 4, 40};
    train_net_forward(net, x, 4, 1); /* momentum 1: running = batch stats */
    const train_layer *L = &net->layers[1];
    assert_float_equal(net->state[L->state_off + 0], 2.5f, 1e-5);
    assert_float_equal(net->state[L->state_off + 1], 25.0f, 1e-4);
    /* unbiased variance of 1..4 is 5/3 */
    assert_float_equal(net->state[L->state_off + 2], 5.0f / 3.0f, 1e-4);
    float one[2] = {2.5f, 25.0f};
    const float *out = train_net_forward(net, one, 1, 0);
    assert_float_equal(out[0], 0.0f, 1e-5);
    assert_float_equal(out[1], 0.0f, 1e-5);
    train_net_free(net);
}

/* BN -> ReLU / ReLU6 pairs run fused. A dropout with p = 0 between them
 * (an identity without parameters) keeps them apart: the same network
 * unfused, with the same parameter layout, must give the same outputs and
 * gradients. */
static void test_fused_bn_relu_matches_unfused(void **state) {
    (void)state;
    static const char *const MODEL[2] = {
        "input: [3, 5, 5]\nlayers:\n"
        "  - {name: c, op: conv2d, out: 4, kernel: 3, padding: 1}\n"
        "  - {name: bn, op: batchnorm}\n"
        "  - {name: r, op: relu6}\n"
        "  - {name: c2, op: conv2d, out: 4, kernel: 3, padding: 1}\n"
        "  - {name: bn2, op: batchnorm}\n"
        "  - {name: r2, op: relu}\n"
        "  - {name: fc, op: linear, out: 3}\n",
        "input: [3, 5, 5]\nlayers:\n"
        "  - {name: c, op: conv2d, out: 4, kernel: 3, padding: 1}\n"
        "  - {name: bn, op: batchnorm}\n"
        "  - {name: d, op: dropout, p: 0}\n"
        "  - {name: r, op: relu6}\n"
        "  - {name: c2, op: conv2d, out: 4, kernel: 3, padding: 1}\n"
        "  - {name: bn2, op: batchnorm}\n"
        "  - {name: d2, op: dropout, p: 0}\n"
        "  - {name: r2, op: relu}\n"
        "  - {name: fc, op: linear, out: 3}\n"};
    int n = 4;
    float x[4 * 75];
    uint64_t rng = 3;
    /* large inputs so that ReLU6 clips somewhere */
    for (int i = 0; i < n * 75; i++) x[i] = 4.0f * train_rng_normal(&rng);
    int32_t y[4] = {0, 1, 2, 1};
    float dout[12], out[2][12];
    float *g[2];
    int clipped = 0;
    for (int pass = 0; pass < 2; pass++) {
        train_net *net = load_ok(MODEL[pass]);
        assert_int_equal(net->layers[2].relu_next, pass ? 0 : 3);
        assert_int_equal(net->layers[pass ? 6 : 5].relu_next, pass ? 0 : 6);
        train_net_init(net, 5);
        reserve(net, n);
        for (int c = 0; c < 4; c++) net->params[net->layers[2].w_off + c] = 4.0f; /* gamma */
        memcpy(out[pass], train_net_forward(net, x, n, 1), sizeof out[pass]);
        train_softmax_xent(dout, NULL, out[pass], y, n, 3);
        memset(net->grads, 0, net->nparams * sizeof(float));
        train_net_backward(net, dout, n);
        g[pass] = dnas_xmalloc(net->nparams * sizeof(float));
        memcpy(g[pass], net->grads, net->nparams * sizeof(float));
        /* the clip at 6 happened: some BN outputs exceed 6 */
        int r = train_net_find(net, "r");
        for (int i = 0; i < n * 4 * 25; i++) clipped += net->act[r][i] == 6.0f;
        if (pass) {
            for (int i = 0; i < 12; i++) assert_float_equal(out[0][i], out[1][i], 1e-5);
            for (size_t i = 0; i < net->nparams; i++)
                assert_float_equal(g[0][i], g[1][i], 1e-5 * (1 + fabsf(g[0][i])));
        }
        train_net_free(net);
    }
    assert_true(clipped > 0);
    free(g[0]);
    free(g[1]);
}

/* The conv scratch is sized at reserve for the thread count then; a count
 * raised later (without a new reserve) runs teams that fit it, never past
 * its end (ASan); a new reserve regrows the scratch alone. The outputs and
 * gradients stay those of one thread within rounding. */
static void test_threads_raised_after_reserve(void **state) {
    (void)state;
    const int prev = omp_get_max_threads(), prev_blas = openblas_get_num_threads();
    openblas_set_num_threads(1);
    omp_set_num_threads(1);
    train_net *net = load_ok("input: [4, 9, 9]\nlayers:\n"
                             "  - {name: c1, op: conv2d, out: 8, kernel: 3, padding: same}\n"
                             "  - {name: c2, op: conv2d, out: 8, kernel: 3, stride: 2, padding: same}\n"
                             "  - {name: c3, op: conv2d, out: 6, kernel: 3, padding: 1}\n"
                             "  - {name: p, op: conv2d, out: 4, kernel: 1}\n"
                             "  - {name: fc, op: linear, out: 3}\n");
    train_net_init(net, 2);
    enum { N = 8, IN = 4 * 81, OUT = 3 };
    reserve(net, N);
    assert_int_equal(net->scratch_threads, 1);
    float x[N * IN], dout[N * OUT], out[3][N * OUT];
    uint64_t rng = 5;
    for (int i = 0; i < N * IN; i++) x[i] = train_rng_normal(&rng);
    for (int i = 0; i < N * OUT; i++) dout[i] = train_rng_normal(&rng);
    float *grads[3];
    for (int r = 0; r < 3; r++) {
        if (r == 1) omp_set_num_threads(4); /* raised after the reserve */
        if (r == 2) reserve(net, N);        /* regrows the scratch for 4 */
        memcpy(out[r], train_net_forward(net, x, N, 1), sizeof out[r]);
        memset(net->grads, 0, net->nparams * sizeof(float));
        train_net_backward(net, dout, N);
        grads[r] = dnas_xmalloc(net->nparams * sizeof(float));
        memcpy(grads[r], net->grads, net->nparams * sizeof(float));
    }
    assert_int_equal(net->scratch_threads, 4);
    assert_int_equal(net->max_batch, N);
    /* teams of other sizes sum in another order: equal within rounding */
    for (int r = 1; r < 3; r++) {
        for (int i = 0; i < N * OUT; i++)
            assert_float_equal(out[r][i], out[0][i], 1e-4 * (1 + fabsf(out[0][i])));
        for (size_t i = 0; i < net->nparams; i++)
            assert_float_equal(grads[r][i], grads[0][i], 1e-4 * (1 + fabsf(grads[0][i])));
    }
    for (int r = 0; r < 3; r++) free(grads[r]);
    train_net_free(net);
    omp_set_num_threads(prev);
    openblas_set_num_threads(prev_blas);
}

/* Buffers beyond the machine's memory: an error naming the network, the
 * batch and the largest layer; the buffers reserved before stay usable. */
static void test_reserve_too_big(void **state) {
    (void)state;
    train_net *net = load_ok("name: wide\ninput: [1, 8, 8]\nlayers:\n"
                             "  - {name: big, op: conv2d, out: 64, kernel: 3, padding: same}\n"
                             "  - {name: fc, op: linear, out: 2}\n");
    train_net_init(net, 1);
    reserve(net, 2);
    dnas_error err;
    setenv("DNAS_MEMORY_LIMIT", "1000000", 1);
    assert_int_equal(train_net_reserve(net, 1000, &err), DNAS_ERR_NOMEM);
    unsetenv("DNAS_MEMORY_LIMIT");
    const char *want = "network 'wide' at batch 1000 (largest layer 'big', (64, 8, 8) per sample) would need";
    if (!strstr(err.msg, want)) fail_msg("%s", err.msg);
    assert_int_equal(net->max_batch, 2);
    float x[2 * 64] = {0};
    train_net_forward(net, x, 2, 0);
    train_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_same_padding),
        cmocka_unit_test(test_conv1d_left_right_padding),
        cmocka_unit_test(test_errors_name_line),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_path_too_long),
        cmocka_unit_test(test_net_keeps_text),
        cmocka_unit_test(test_net_gradients),
        cmocka_unit_test(test_bn_eval_uses_running_stats),
        cmocka_unit_test(test_fused_bn_relu_matches_unfused),
        cmocka_unit_test(test_threads_raised_after_reserve),
        cmocka_unit_test(test_reserve_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
