/* Networks from specs: a spec made in C builds (and the same network from
 * YAML is the same network); its errors read like the YAML ones without a
 * line; every op writes itself back (network -> YAML -> network gives the
 * same layers, shapes, counts and parameter layout); the op names. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train.h"
#include "net_test_util.h"

static train_net *load_ok(const char *yaml) {
    train_net *net;
    dnas_error err;
    if (train_net_load_string(&net, yaml, "test.yaml", &err)) fail_msg("unexpected load error: %s", err.msg);
    return net;
}

/* Every op and variant, and every attribute away from its default. */
static const char *ALL_OPS =
    "name: every_op\n"
    "input: [4, 9, 10]\n"
    "layers:\n"
    "  - {name: c1, op: conv2d, out: 6, kernel: [3, 2], stride: [2, 1], dilation: [1, 2], padding: [1, 0],"
    " groups: 2, bias: no}\n"
    "  - {name: bn1, op: batchnorm, eps: 1e-3, momentum: 0.25}\n"
    "  - {name: r1, op: relu}\n"
    "  - {name: dw, op: depthwise, kernel: 3, stride: 2, padding: same}\n"
    "  - {name: bn2, op: batchnorm}\n"
    "  - {name: r6, op: relu6, input: bn2}\n"
    "  - {name: cs, op: conv2d, out: 6, kernel: 1, stride: 2, padding: same, input: r1}\n"
    "  - {name: sum, op: add, inputs: [r6, cs, dw]}\n"
    "  - {name: mp, op: maxpool, kernel: [2, 1], padding: same}\n"
    "  - {name: ap, op: avgpool, kernel: 2, stride: 1, padding: [1, 0], input: sum}\n"
    "  - {name: ap2, op: avgpool, kernel: 2, stride: [1, 2], padding: 1, input: sum}\n"
    "  - {name: cat, op: concat, inputs: [mp, mp]}\n"
    "  - {name: gp, op: global_avgpool, input: ap2}\n"
    "  - {name: fl, op: flatten, input: cat}\n"
    "  - {name: dr, op: dropout, p: 0.2}\n"
    "  - {name: fc, op: linear, out: 5, bias: false}\n"
    "  - {name: fl2, op: flatten, input: gp}\n"
    "  - {name: fc2, op: linear, out: 5}\n"
    "  - {name: sum2, op: add, inputs: [fc, fc2]}\n"
    "  - {name: mx, op: mix, inputs: [fc, fc2, sum2]}\n"
    "  - {name: out, op: pact, bits: [2, 8], clip: 3.5}\n";

static const char *SEQ_OPS =
    "input: [3, 1, 40]\n"
    "layers:\n"
    "  - {name: a, op: conv1d, out: 4, kernel: 5, dilation: 2, padding: same}\n"
    "  - {name: b, op: conv1d, out: 4, kernel: 3, stride: 2, padding: 1, groups: 4}\n"
    "  - {name: c, op: conv1d, out: 2, kernel: 2}\n"
    "  - {name: c2, op: conv1d, out: 2, kernel: 3, dilation: 2, padding: [4, 0]}\n"
    "  - {name: d, op: depthwise, out: 2, kernel: [1, 3], padding: [0, 1]}\n"
    "  - {name: e, op: maxpool, kernel: [1, 2]}\n"
    "  - {name: f, op: pact, bits: [4, 8], clip: 2.5}\n"
    "  - {name: g, op: pact, bits: 8, clip: 6}\n";

static void test_every_op_writes_itself_back(void **state) {
    (void)state;
    const char *models[] = {ALL_OPS, SEQ_OPS};
    for (int m = 0; m < 2; m++) {
        train_net *net = load_ok(models[m]);
        train_net *back = write_and_reload(net);
        /* and the text the written file holds is what train_net_spec gives */
        train_spec *s = train_net_spec(net);
        char *text = train_spec_to_yaml(s);
        train_net *again = load_ok(text);
        assert_same_net(net, again);
        free(text);
        train_spec_free(s);
        train_net_free(again);
        train_net_free(back);
        train_net_free(net);
    }
}

/* Defaults are left out, "same" stays "same" and conv1d's geometry stays scalar. */
static void test_written_form(void **state) {
    (void)state;
    train_net *net = load_ok(SEQ_OPS);
    train_spec *s = train_net_spec(net);
    char *text = train_spec_to_yaml(s);
    const char *want = "name: test\n"
                       "input: [3, 1, 40]\n"
                       "layers:\n"
                       "  - {name: a, op: conv1d, out: 4, kernel: 5, dilation: 2, padding: same}\n"
                       "  - {name: b, op: conv1d, out: 4, kernel: 3, stride: 2, padding: 1, groups: 4}\n"
                       "  - {name: c, op: conv1d, out: 2, kernel: 2}\n"
                       "  - {name: c2, op: conv1d, out: 2, kernel: 3, dilation: 2, padding: [4, 0]}\n"
                       "  - {name: d, op: depthwise, kernel: [1, 3], padding: [0, 1]}\n"
                       "  - {name: e, op: maxpool, kernel: [1, 2]}\n"
                       "  - {name: f, op: pact, bits: [4, 8], clip: 2.5}\n"
                       "  - {name: g, op: pact, bits: [8]}\n";
    assert_string_equal(text, want);
    free(text);
    train_spec_free(s);
    train_net_free(net);
}

/* A small residual network made in C, and the same written in YAML. */
static train_spec *residual_spec(void) {
    train_spec *s = train_spec_new("res", 2, 6, 6);
    train_spec_layer *l = train_spec_add(s, "c1", "conv2d");
    train_spec_set_int(l, "out", 4);
    train_spec_set_int(l, "kernel", 3);
    train_spec_set(l, "padding", "same");
    train_spec_set_bool(l, "bias", 0);
    train_spec_add(s, "bn1", "batchnorm");
    train_spec_add(s, "r1", "relu");
    l = train_spec_add(s, "c2", "conv2d");
    train_spec_set_int(l, "out", 4);
    train_spec_set_pair(l, "kernel", 3, 3);
    train_spec_set_int(l, "padding", 1);
    l = train_spec_add(s, "sum", "add");
    train_spec_add_input(l, "c2");
    train_spec_add_input(l, "r1");
    train_spec_add(s, "gp", "global_avgpool");
    l = train_spec_add(s, "fc", "linear");
    train_spec_set_int(l, "out", 3);
    return s;
}

static const char *RESIDUAL_YAML =
    "name: res\ninput: [2, 6, 6]\nlayers:\n"
    "  - {name: c1, op: conv2d, out: 4, kernel: 3, padding: same, bias: false}\n"
    "  - {name: bn1, op: batchnorm}\n  - {name: r1, op: relu}\n"
    "  - {name: c2, op: conv2d, out: 4, kernel: [3, 3], padding: 1}\n"
    "  - {name: sum, op: add, inputs: [c2, r1]}\n"
    "  - {name: gp, op: global_avgpool}\n  - {name: fc, op: linear, out: 3}\n";

static void test_spec_in_c_builds(void **state) {
    (void)state;
    train_spec *s = residual_spec();
    train_net *net;
    dnas_error err;
    if (train_net_build(&net, s, "search:res", &err)) fail_msg("%s", err.msg);
    train_spec_free(s); /* the network does not keep it */
    assert_string_equal(net->name, "res");
    assert_string_equal(net->path, "search:res");
    assert_int_equal(net->nlayers, 8);
    assert_int_equal(net->layers[1].line, 0);
    assert_int_equal(net->layers[2].relu_next, 3);
    train_counts t = train_net_total_counts(net);
    assert_int_equal(t.weights, 72 + 144 + 12);
    assert_int_equal(t.macs, 72 * 36 + 144 * 36 + 12);
    /* the same network from YAML: same layout, and the same outputs */
    train_net *ref = load_ok(RESIDUAL_YAML);
    assert_same_net(ref, net);
    /* net->text is the spec as YAML: it loads as the same network */
    train_net *from_text = load_ok(net->text);
    assert_same_net(net, from_text);
    train_net_init(net, 3);
    train_net_init(ref, 3);
    assert_int_equal(train_net_reserve(net, 2, &err), DNAS_OK);
    assert_int_equal(train_net_reserve(ref, 2, &err), DNAS_OK);
    float x[2 * 72];
    uint64_t rng = 9;
    for (int i = 0; i < 2 * 72; i++) x[i] = train_rng_normal(&rng);
    float out[6];
    memcpy(out, train_net_forward(net, x, 2, 1), sizeof out);
    const float *o = train_net_forward(ref, x, 2, 1);
    for (int i = 0; i < 6; i++) assert_true(out[i] == o[i]);
    train_net_free(from_text);
    train_net_free(ref);
    train_net_free(net);
}

/* Builds s expecting failure: status, a message holding want, no network. */
static void build_fails(train_spec *s, dnas_status want_status, const char *want) {
    train_net *net;
    dnas_error err;
    assert_int_equal(train_net_build(&net, s, "gen", &err), want_status);
    assert_null(net);
    if (!strstr(err.msg, want)) fail_msg("message '%s' lacks '%s'", err.msg, want);
    train_spec_free(s);
}

static train_spec *one_layer(const char *op) {
    train_spec *s = train_spec_new(NULL, 1, 4, 4);
    train_spec_add(s, "a", op);
    return s;
}

/* Errors of a spec made in C read like the YAML ones, without a line. */
static void test_spec_in_c_errors(void **state) {
    (void)state;
    train_spec *s = one_layer("relu");
    train_spec_set_int(s->layers[0], "kernel", 3);
    build_fails(s, DNAS_ERR_CONFIG,
                "gen: layer 'a': op relu does not take 'kernel' (it takes: name, op, input, inputs)");
    build_fails(one_layer("convolution"), DNAS_ERR_CONFIG,
                "gen: layer 'a': unknown op 'convolution' (expected conv2d,");
    build_fails(one_layer(NULL), DNAS_ERR_CONFIG, "gen: layer 'a': missing 'op'");
    s = one_layer("conv2d");
    train_spec_set_int(s->layers[0], "out", 4);
    build_fails(s, DNAS_ERR_CONFIG, "gen: layer 'a': missing 'kernel'");
    s = one_layer("conv2d");
    train_spec_set_int(s->layers[0], "out", 0);
    build_fails(s, DNAS_ERR_CONFIG, "gen: out: 0 is out of range: expected 1..16777216");
    s = one_layer("conv2d");
    train_spec_set_int(s->layers[0], "out", 2);
    train_spec_set_int(s->layers[0], "kernel", 5);
    build_fails(s, DNAS_ERR_SHAPE,
                "gen: layer 'a' (conv2d): kernel 5x5 (dilation 1x1) does not fit input 4x4");
    s = one_layer("relu");
    train_spec_add(s, "a", "relu");
    build_fails(s, DNAS_ERR_CONFIG, "gen: duplicate layer name 'a' (first is layer 1)");
    s = one_layer("add");
    train_spec_add_input(s->layers[0], "input");
    train_spec_add_input(s->layers[0], "b");
    build_fails(s, DNAS_ERR_CONFIG, "gen: layer 'a' reads 'b': no layer of that name");
    s = one_layer("add");
    for (int i = 0; i < 9; i++) train_spec_add_input(s->layers[0], "input");
    build_fails(s, DNAS_ERR_CONFIG, "gen: inputs: at most 8 inputs");
    s = one_layer("add");
    build_fails(s, DNAS_ERR_SHAPE, "gen: layer 'a' (add): needs at least two inputs");
    s = one_layer("relu");
    s->h = 0;
    build_fails(s, DNAS_ERR_CONFIG, "gen: input: expected C, H, W in 1..16777216, found (1, 0, 4)");
    s = one_layer("relu");
    s->c = s->h = s->w = 1 << 20;
    build_fails(s, DNAS_ERR_SHAPE,
                "gen: layer 'input' (input): output shape (1048576, 1048576, 1048576) holds");
    build_fails(train_spec_new(NULL, 1, 1, 1), DNAS_ERR_CONFIG,
                "gen: layers: expected a list of 1..1000000 items");
    s = one_layer("relu");
    free(s->layers[0]->name);
    s->layers[0]->name = strdup("");
    build_fails(s, DNAS_ERR_CONFIG, "gen: name '': expected 1..63 characters");
}

static void test_op_names(void **state) {
    (void)state;
    train_net *net = load_ok(ALL_OPS);
    const char *want[] = {"input",   "conv2d",  "batchnorm", "relu",           "depthwise", "batchnorm",
                          "relu6",   "conv2d",  "add",       "maxpool",        "avgpool",   "avgpool",
                          "concat",  "global_avgpool",       "flatten",        "dropout",   "linear",
                          "flatten", "linear",  "add",       "mix",            "pact"};
    assert_int_equal(net->nlayers, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < net->nlayers; i++) assert_string_equal(train_layer_op_name(&net->layers[i]), want[i]);
    assert_string_equal(train_op_name(net->layers[4].op), "conv2d");
    assert_string_equal(train_op_name(net->layers[6].op), "relu");
    assert_string_equal(train_op_name(TRAIN_OP_COUNT_), "?");
    train_net_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op_writes_itself_back),
        cmocka_unit_test(test_written_form),
        cmocka_unit_test(test_spec_in_c_builds),
        cmocka_unit_test(test_spec_in_c_errors),
        cmocka_unit_test(test_op_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
