/* The per-output-channel keys of conv / linear as an ODiMO export writes
 * them: a per-channel `wbits` list (train/graph/op_wbits.c) runs the layer
 * on its weights fake-quantized per channel (equal to the same network
 * whose weights are quantized beforehand, in forward, dx and a
 * straight-through dW), `engines` (train/graph/op_engines.c) is kept and
 * written back, and both read back from the spec writer's YAML. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "net.h"

static const char *QAT = "input: [3, 5, 5]\n"
                         "layers:\n"
                         "  - {name: c, op: conv2d, out: 3, kernel: 3, padding: 1, wbits: [8, 2, 4],\n"
                         "     engines: [digital, analog, digital]}\n"
                         "  - {name: r, op: relu}\n"
                         "  - {name: f, op: linear, out: 2, wbits: 2}\n";
static const char *PLAIN = "input: [3, 5, 5]\n"
                           "layers:\n"
                           "  - {name: c, op: conv2d, out: 3, kernel: 3, padding: 1}\n"
                           "  - {name: r, op: relu}\n"
                           "  - {name: f, op: linear, out: 2}\n";

static train_net *load(const char *yaml) {
    train_net *net;
    dnas_error err;
    if (train_net_load_string(&net, yaml, "t.yaml", &err)) fail_msg("%s", err.msg);
    assert_int_equal(train_net_reserve(net, 4, &err), DNAS_OK);
    return net;
}

static void test_qat_equals_prequantized(void **state) {
    (void)state;
    train_net *q = load(QAT), *p = load(PLAIN);
    assert_int_equal(q->nparams, p->nparams);
    train_net_init(q, 3);
    memcpy(p->params, q->params, q->nparams * sizeof *q->params);
    // p's weights quantized beforehand, channel by channel at q's widths
    const int bits_c[3] = {8, 2, 4};
    const train_layer *C = &q->layers[1], *F = &q->layers[3];
    size_t lc = C->w_len / 3, lf = F->w_len / 2;
    for (int c = 0; c < 3; c++)
        train_wq_forward(p->params + C->w_off + c * lc, q->params + C->w_off + c * lc, 1, (int)lc, bits_c[c]);
    train_wq_forward(p->params + F->w_off, q->params + F->w_off, 2, (int)lf, 2);
    uint64_t rng = 5;
    float x[4 * 75], dy[4 * 2];
    gc_fill(x, 4 * 75, -1, 1, &rng);
    gc_fill(dy, 8, -1, 1, &rng);
    const float *yq = train_net_forward(q, x, 4, 1);
    float y0[8];
    memcpy(y0, yq, sizeof y0);
    const float *yp = train_net_forward(p, x, 4, 1);
    assert_memory_equal(y0, yp, sizeof y0);
    memset(q->grads, 0, q->nparams * sizeof *q->grads);
    memset(p->grads, 0, p->nparams * sizeof *p->grads);
    train_net_forward(q, x, 4, 1);
    train_net_backward(q, dy, 4);
    train_net_backward(p, dy, 4);
    // straight-through: the raw weights get the gradient of the quantized ones
    assert_memory_equal(q->grads, p->grads, q->nparams * sizeof *q->grads);
    // the raw weights themselves stay float (the optimizer's)
    assert_true(memcmp(q->params + C->w_off, p->params + C->w_off, C->w_len * sizeof(float)) != 0);
    train_net_free(q);
    train_net_free(p);
}

static void test_keys_round_trip(void **state) {
    (void)state;
    train_net *q = load(QAT);
    const train_layer *C = &q->layers[1], *F = &q->layers[3];
    assert_int_equal(C->nengine_names, 2);
    assert_string_equal(C->engine_names[C->engine_of[1]], "analog");
    assert_string_equal(C->engine_names[C->engine_of[2]], "digital");
    assert_null(F->engine_of);
    assert_int_equal(F->wbits, 2);
    assert_int_equal(train_layer_wbits(F, 1), 2);
    train_spec *s = train_net_spec(q);
    char *yaml = train_spec_to_yaml(s);
    assert_non_null(strstr(yaml, "wbits: [8, 2, 4], engines: [digital, analog, digital]"));
    assert_non_null(strstr(yaml, "out: 2, wbits: 2}"));
    train_net *back = load(yaml);
    assert_memory_equal(back->layers[1].wbits_ch, C->wbits_ch, 3);
    assert_memory_equal(back->layers[1].engine_of, C->engine_of, 3);
    free(yaml);
    train_spec_free(s);
    train_net_free(back);
    train_net_free(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qat_equals_prequantized),
        cmocka_unit_test(test_keys_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
