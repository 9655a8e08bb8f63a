/* `wbits` of conv / linear layers (train/graph/op_wbits.c): forward reads
 * Q(W) (hand-computed), backward is straight-through to W and passes
 * Q(W) to the input gradient, a per-channel list quantizes each row at
 * its width (0: zero), the spec writer gives the key back, and a conv
 * equals the float conv of train_wq_forward's weights. */
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

static train_net *load(const char *yaml) {
    train_net *net;
    dnas_error err;
    if (train_net_load_string(&net, yaml, "w.yaml", &err)) fail_msg("%s", err.msg);
    if (train_net_reserve(net, 2, &err)) fail_msg("%s", err.msg);
    return net;
}

/* W = (0.5, -0.2) at 2 bits: s = 1/3, levels (1.5 -> 2 -> clipped 1, -0.6 -> -1): Q = (1/3, -1/3).
 * Row 2 (0.1, 0.3) at 0 bits: 0. x = (1, 2): y = (-1/3, 0). dy = (1, 1):
 * dW = dy·x = ((1, 2), (1, 2)) straight-through, dx = Σ dy·Q = (1/3, -1/3). */
static void test_linear_hand(void **state) {
    (void)state;
    train_net *net =
        load("input: [2, 1, 1]\nlayers:\n  - {name: fc, op: linear, out: 2, bias: false, "
             "wbits: [2, 0]}\n");
    const train_layer *L = &net->layers[1];
    assert_int_equal(L->wbits, -1);
    assert_int_equal(train_layer_wbits(L, 0), 2);
    assert_int_equal(train_layer_wbits(L, 1), 0);
    const float w[4] = {0.5f, -0.2f, 0.1f, 0.3f}, x[2] = {1, 2}, dy[2] = {1, 1};
    memcpy(net->params + L->w_off, w, sizeof w);
    const float *y = train_net_forward(net, x, 1, 1);
    assert_float_equal(y[0], -1.0f / 3, 1e-6f);
    assert_float_equal(y[1], 0.0f, 0);
    memset(net->grads, 0, net->nparams * sizeof *net->grads);
    train_net_backward(net, dy, 1);
    const float dw[4] = {1, 2, 1, 2};
    for (int k = 0; k < 4; k++)
        assert_float_equal(net->grads[L->w_off + k], dw[k], 0);
    assert_float_equal(net->params[L->w_off], 0.5f, 0); /* the raw weights stay */
    /* the spec writer gives the list back */
    train_spec *s = train_net_spec(net);
    char *yaml = train_spec_to_yaml(s);
    assert_non_null(strstr(yaml, "wbits: [2, 0]"));
    free(yaml);
    train_spec_free(s);
    train_net_free(net);
}

/* A conv at 4 bits equals the float conv whose weights are Q_4(W). */
static void test_conv_equals_quantized_float(void **state) {
    (void)state;
    train_net *q = load("input: [3, 5, 5]\nlayers:\n  - {name: c, op: conv2d, out: 4, kernel: 3, "
                        "padding: 1, wbits: 4}\n");
    train_net *f = load("input: [3, 5, 5]\nlayers:\n  - {name: c, op: conv2d, out: 4, kernel: 3, "
                        "padding: 1}\n");
    train_net_init(q, 5);
    const train_layer *L = &q->layers[1];
    memcpy(f->params, q->params, q->nparams * sizeof *f->params);
    train_wq_forward(f->params + L->w_off, q->params + L->w_off, 4, 27, 4);
    float x[2 * 75];
    uint64_t rng = 3;
    gc_fill(x, 150, -1, 1, &rng);
    const float *yq = train_net_forward(q, x, 2, 1), *yf = train_net_forward(f, x, 2, 1);
    assert_true(gc_max_abs_diff(yq, yf, 2 * 100) == 0.0f);
    train_spec *s = train_net_spec(q);
    char *yaml = train_spec_to_yaml(s);
    assert_non_null(strstr(yaml, "wbits: 4"));
    free(yaml);
    train_spec_free(s);
    train_net_free(q);
    train_net_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_hand),
        cmocka_unit_test(test_conv_equals_quantized_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
