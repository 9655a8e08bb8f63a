/* The cost bridge (search/bridge.h): on zoo models its totals are dnas
 * summary's counts and the numbers tests/cli_cost.sh checks; channels chain
 * from producer to consumer (through BN/ReLU/pool, depthwise, add groups,
 * concat, flatten) in value and in gradient; the peak's gradient reaches
 * only the tensors alive at the peak; the hinges; bad states. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bridge_test_util.h"

static void near(double a, double b, int line) {
    if (!(fabs(a - b) <= 1e-9 * (1 + fabs(b)))) fail_msg("line %d: got %.12g, expected %.12g", line, a, b);
}
#define NEAR(a, b) near((a), (b), __LINE__)

static void test_totals_equal_summary(void **state) {
    (void)state;
    const char *models[] = {"tcn_fmnist", "resnet8_fmnist", "dscnn"};
    for (int k = 0; k < 3; k++) {
        bt_fixture f;
        bt_open(&f, models[k]);
        bt_eval(&f);
        train_counts c = train_net_total_counts(f.net);
        NEAR(f.r.value[SEARCH_COST_PARAMS_NO_BIAS], (double)c.weights);
        NEAR(f.r.value[SEARCH_COST_PARAMS], (double)(c.weights + c.biases));
        NEAR(f.r.value[SEARCH_COST_MACS_NO_BIAS], (double)c.macs);
        NEAR(f.r.value[SEARCH_COST_BIT_PARAMS], 8.0 * c.weights);
        NEAR(f.r.value[SEARCH_COST_BIT_OPS], 64.0 * c.macs);
        for (int r = 0; r < f.r.nrows; r++) {
            train_counts lc = train_net_layer_counts(f.net, f.r.rows[r].layer);
            NEAR(f.r.rows[r].v[HWCOST_PARAMS_NO_BIAS], (double)lc.weights);
            NEAR(f.r.rows[r].v[HWCOST_MACS_NO_BIAS], (double)lc.macs);
        }
        assert_int_equal(f.r.nmem, 0); /* no target: no levels, no latency */
        NEAR(f.r.value[SEARCH_COST_CYCLES], 0);
        bt_close(&f);
    }
}

/* The numbers of tests/cli_cost.sh, from the bridge. */
static void test_cli_cost_numbers(void **state) {
    (void)state;
    bt_fixture f;
    hwcost_target *d = bt_target("diana");
    bt_open(&f, "resnet8_fmnist");
    f.p.target = d;
    bt_eval(&f);
    NEAR(f.r.value[SEARCH_COST_PARAMS], 77082);
    NEAR(f.r.value[SEARCH_COST_PARAMS_NO_BIAS], 77072);
    NEAR(f.r.value[SEARCH_COST_MACS], 9345930);
    NEAR(f.r.value[SEARCH_COST_MACS_NO_BIAS], 9345920);
    /* s1_conv1 (3x3, 16->16, 28x28): digital 1*16*2*28*9 + 784*32/8 = 11200;
     * analog u=4: 1152 + 196*18.2 = 4719.2 */
    const search_cost_row *r = bt_row(&f, "s1_conv1");
    NEAR(r->cyc[0], 11200);
    NEAR(r->cyc[1], 4719.2);
    assert_int_equal(r->engine, 0);
    NEAR(bt_row(&f, "fc")->cyc[0], 73.25); /* 64 + 74/8 */
    /* weights 77,072 + 4*10 bias bytes; peak relu1 + s1_conv1 + s1_conv2 = 3*12,544 */
    NEAR(f.r.value[SEARCH_COST_WEIGHT_BYTES], 77112);
    NEAR(f.r.value[SEARCH_COST_PEAK_ACT], 37632);
    NEAR(f.r.value[SEARCH_COST_MEMORY], 114744);
    assert_string_equal(f.net->layers[f.r.peak_layer].name, "s1_conv2");
    int l2 = hwcost_target_memory(d, "L2");
    NEAR(f.r.value[SEARCH_COST_LEVEL(l2)], 114744);
    NEAR(search_cost_memory_hinge(&f.r, d, 1, NULL), 0); /* fits */
    /* L1_act: the largest row's input + output, s1_conv1 and s1_conv2 tie at
     * 2*12,544: the first is the largest; L1_wdig: s3_conv2's 36,864 B */
    int l1 = hwcost_target_memory(d, "L1_act"), lw = hwcost_target_memory(d, "L1_wdig");
    NEAR(f.r.value[SEARCH_COST_LEVEL(l1)], 25088);
    assert_int_equal(f.r.rows[f.r.largest[l1][1]].layer, bt_layer(&f, "s1_conv1"));
    NEAR(f.r.value[SEARCH_COST_LEVEL(lw)], 36864);
    assert_int_equal(f.r.rows[f.r.largest[lw][0]].layer, bt_layer(&f, "s3_conv2"));
    bt_close(&f);

    hwcost_target *g8 = bt_target("gap8"), *m = bt_target("mpic");
    bt_open(&f, "dscnn");
    f.p.target = g8;
    bt_eval(&f);
    NEAR(bt_row(&f, "dw1")->cyc[0], 72000); /* 4*16*125*9 */
    /* 2-bit weights on DIANA: depthwise has no engine, pw runs on analog */
    search_bridge_state_default(f.b, f.s, 2, 8);
    f.p.target = d;
    bt_eval(&f);
    assert_int_equal(f.r.nunmapped, 4);
    assert_int_equal(bt_row(&f, "dw1")->engine, -1);
    assert_int_equal(bt_row(&f, "pw1")->engine, hwcost_target_engine(d, "analog"));
    /* MPIC w4 a8: pw1 512,000 MACs / 2.3 */
    search_bridge_state_default(f.b, f.s, 4, 8);
    f.p.target = m;
    bt_eval(&f);
    NEAR(bt_row(&f, "pw1")->cycles, 512000 / 2.3);
    bt_close(&f);
    free(d), free(g8), free(m);
}

/* tcn_fmnist: pruning conv1 lowers conv2's Cin, and conv2's cost reaches
 * conv1's Cout_eff: d params / d cout(conv1) = 28*9 (own) + 32*9 (conv2). */
static void test_chaining(void **state) {
    (void)state;
    bt_fixture f;
    bt_open(&f, "tcn_fmnist");
    int c1 = bt_layer(&f, "conv1");
    f.s[c1].cout = 16;
    bt_eval(&f);
    NEAR(bt_row(&f, "conv2")->d.cin, 16);
    NEAR(bt_row(&f, "conv1")->d.cout, 16);
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][c1].d_cout, 28 * 9 + 32 * 9);
    /* bit-ops at 8/8: 64 x MACs' gradient; conv2 runs 28 steps */
    NEAR(f.r.grad[SEARCH_COST_BIT_OPS][c1].d_cout, 64.0 * (28 * 9 * 28 + 32 * 9 * 28));
    /* the fc's Cin is conv4's Cout through BN, ReLU and the global pool */
    int c4 = bt_layer(&f, "conv4");
    f.s[c4].cout = 40;
    bt_eval(&f);
    NEAR(bt_row(&f, "fc")->d.cin, 40);
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][c4].d_cout, 64 * 9 + 10);
    /* K_eff: d params / d k(conv2) = Cin * Cout */
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][bt_layer(&f, "conv2")].d_k, 16 * 32);
    bt_close(&f);
}

/* resnet8_fmnist: the outputs that meet in an add share one count, held by
 * the group's first layer; dscnn: a depthwise conv follows its input. */
static void test_add_groups_and_depthwise(void **state) {
    (void)state;
    bt_fixture f;
    bt_open(&f, "resnet8_fmnist");
    int c1 = bt_layer(&f, "conv1"), s12 = bt_layer(&f, "s1_conv2");
    assert_int_equal(search_bridge_channel_owner(f.b, s12), c1);
    assert_int_equal(search_bridge_channel_owner(f.b, bt_layer(&f, "s1_add")), c1);
    assert_int_equal(search_bridge_channel_owner(f.b, bt_layer(&f, "s2_short")), bt_layer(&f, "s2_conv2"));
    assert_int_equal(search_bridge_channel_owner(f.b, bt_layer(&f, "s3_short")), bt_layer(&f, "s3_conv2"));
    assert_int_equal(search_bridge_channel_owner(f.b, bt_layer(&f, "fc")), bt_layer(&f, "fc"));
    f.s[s12].cout = 3; /* not read: conv1 holds the group's count */
    f.s[c1].cout = 12;
    bt_eval(&f);
    NEAR(bt_row(&f, "s1_conv2")->d.cout, 12);
    NEAR(bt_row(&f, "s1_conv1")->d.cin, 12);
    NEAR(bt_row(&f, "s2_conv1")->d.cin, 12);
    NEAR(bt_row(&f, "s2_short")->d.cin, 12);
    /* conv1 1*9 + s1_conv1 16*9 + s1_conv2 16*9 + s2_conv1 32*9 + s2_short 32*1 */
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][c1].d_cout, 9 + 144 + 144 + 288 + 32);
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][s12].d_cout, 0);
    bt_close(&f);

    bt_open(&f, "dscnn");
    c1 = bt_layer(&f, "conv1");
    int dw1 = bt_layer(&f, "dw1");
    assert_int_equal(search_bridge_channel_owner(f.b, dw1), c1);
    f.s[c1].cout = 48;
    bt_eval(&f);
    NEAR(bt_row(&f, "dw1")->d.cin, 48);
    NEAR(bt_row(&f, "pw1")->d.cin, 48);
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][c1].d_cout, 40 + 9 + 64); /* conv1, dw1, pw1 */
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][dw1].d_cout, 0);
    bt_close(&f);
}

/* A group that meets the network input is fixed; concat sums; flatten
 * multiplies by H·W. */
static void test_input_group_concat_flatten(void **state) {
    (void)state;
    const char *yaml = "name: g\ninput: [8, 4, 4]\nlayers:\n"
                       "  - {name: a, op: conv2d, out: 8, kernel: 3, padding: 1, bias: false}\n"
                       "  - {name: sum, op: add, inputs: [a, input]}\n"
                       "  - {name: b, op: conv2d, out: 4, kernel: 1, bias: false}\n"
                       "  - {name: c, op: conv2d, input: sum, out: 6, kernel: 1, bias: false}\n"
                       "  - {name: cat, op: concat, inputs: [b, c]}\n"
                       "  - {name: flat, op: flatten}\n"
                       "  - {name: fc, op: linear, out: 2, bias: false}\n";
    train_net *net;
    dnas_error err;
    if (train_net_load_string(&net, yaml, "g.yaml", &err)) fail_msg("%s", err.msg);
    bt_fixture f;
    bt_open_net(&f, net);
    int a = bt_layer(&f, "a"), b = bt_layer(&f, "b"), c = bt_layer(&f, "c");
    assert_int_equal(search_bridge_channel_owner(f.b, a), 0);
    assert_int_equal(search_bridge_channel_owner(f.b, bt_layer(&f, "cat")), -1);
    f.s[a].cout = 5; /* fixed by the input: not read */
    f.s[b].cout = 3;
    f.s[c].cout = 2.5;
    bt_eval(&f);
    NEAR(bt_row(&f, "a")->d.cout, 8);
    NEAR(bt_row(&f, "b")->d.cin, 8);
    NEAR(bt_row(&f, "fc")->d.cin, (3 + 2.5) * 16);
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][a].d_cout, 0);
    /* b: own 8 + fc's 2 per input value x 16 pixels */
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][b].d_cout, 8 + 2 * 16);
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][c].d_cout, 8 + 2 * 16);
    bt_close(&f);

    /* a linear layer flattens its input itself: Cin = C·H·W */
    yaml = "name: l\ninput: [3, 4, 4]\nlayers:\n"
           "  - {name: a, op: conv2d, out: 5, kernel: 3, padding: 1, bias: false}\n"
           "  - {name: fc, op: linear, out: 2, bias: false}\n";
    if (train_net_load_string(&net, yaml, "l.yaml", &err)) fail_msg("%s", err.msg);
    bt_open_net(&f, net);
    a = bt_layer(&f, "a");
    f.s[a].cout = 4.5;
    bt_eval(&f);
    NEAR(bt_row(&f, "fc")->d.cin, 4.5 * 16);
    NEAR(f.r.grad[SEARCH_COST_PARAMS_NO_BIAS][a].d_cout, 3 * 9 + 2 * 16);
    bt_close(&f);
}

/* resnet8_fmnist's peak is at s1_conv2 with relu1 (conv1's tensor),
 * s1_conv1 and s1_conv2 alive: only their channels have a gradient. */
static void test_peak_gradient_alive_only(void **state) {
    (void)state;
    bt_fixture f;
    bt_open(&f, "resnet8_fmnist");
    bt_eval(&f);
    const search_layer_grad *g = f.r.grad[SEARCH_COST_PEAK_ACT];
    NEAR(g[bt_layer(&f, "conv1")].d_cout, 2 * 784); /* relu1 and s1_conv2 (its group) */
    NEAR(g[bt_layer(&f, "s1_conv1")].d_cout, 784);
    NEAR(g[bt_layer(&f, "s2_conv1")].d_cout, 0);
    NEAR(g[bt_layer(&f, "s3_conv2")].d_cout, 0);
    NEAR(g[bt_layer(&f, "fc")].d_cout, 0);
    NEAR(g[bt_layer(&f, "s1_conv1")].d_a[0], 12544); /* bytes at θa = 1 */
    NEAR(g[0].d_a[0], 0);                            /* the input is dead by then */
    bt_close(&f);
}

/* max(0, M − M*): 0 and no gradient under the budget; above it, M − M* and
 * exactly dM (λ-scaled into the accumulator). */
static void test_hinge(void **state) {
    (void)state;
    bt_fixture f;
    hwcost_target *d = bt_target("diana");
    bt_open(&f, "resnet8_fmnist");
    f.p.target = d;
    bt_eval(&f);
    int n = f.net->nlayers, l2 = hwcost_target_memory(d, "L2");
    search_layer_grad *acc = calloc((size_t)n, sizeof *acc), *zero = calloc((size_t)n, sizeof *zero);
    NEAR(search_cost_memory_hinge(&f.r, d, 10, acc), 0);
    NEAR(search_cost_hinge(&f.r, SEARCH_COST_MEMORY, 200000, 10, acc), 0);
    assert_memory_equal(acc, zero, (size_t)n * sizeof *acc);
    d->mem[l2].bytes = 100000; /* does not fit by 14,744 B */
    NEAR(search_cost_memory_hinge(&f.r, d, 10, acc), 14744);
    const search_layer_grad *gl = f.r.grad[SEARCH_COST_LEVEL(l2)];
    for (int i = 0; i < n; i++) {
        NEAR(acc[i].d_cout, 10 * gl[i].d_cout);
        NEAR(acc[i].d_a[0], 10 * gl[i].d_a[0]);
        NEAR(acc[i].d_w[0], 10 * gl[i].d_w[0]);
    }
    /* L2 holds the network's weights and peak: its gradient is memory's */
    for (int i = 0; i < n; i++) NEAR(gl[i].d_cout, f.r.grad[SEARCH_COST_MEMORY][i].d_cout);
    assert_true(gl[bt_layer(&f, "conv1")].d_cout > 0);
    memset(acc, 0, (size_t)n * sizeof *acc);
    NEAR(search_cost_hinge(&f.r, SEARCH_COST_MEMORY, 100000, 1, acc), 14744);
    NEAR(acc[bt_layer(&f, "s3_conv2")].d_cout, f.r.grad[SEARCH_COST_MEMORY][bt_layer(&f, "s3_conv2")].d_cout);
    free(acc), free(zero), free(d);
    bt_close(&f);
}

static void test_bad_states(void **state) {
    (void)state;
    bt_fixture f;
    hwcost_target *d = bt_target("diana"), *g8 = bt_target("gap8");
    bt_open(&f, "tcn_fmnist");
    dnas_error err;
    f.s[bt_layer(&f, "conv2")].cout = -1;
    assert_int_equal(search_bridge_eval(f.b, f.s, &f.p, &f.r, &err), DNAS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "layer 'conv2': cout_eff -1"));
    search_bridge_state_default(f.b, f.s, 8, 8);
    f.s[bt_layer(&f, "conv3")].k = INFINITY;
    assert_int_equal(search_bridge_eval(f.b, f.s, &f.p, &f.r, &err), DNAS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "layer 'conv3': k_eff"));
    search_bridge_state_default(f.b, f.s, 8, 8);
    f.s[bt_layer(&f, "fc")].w.n = 9;
    assert_int_equal(search_bridge_eval(f.b, f.s, &f.p, &f.r, &err), DNAS_ERR_INVALID);
    search_bridge_state_default(f.b, f.s, 8, 8);
    f.p.target = g8;
    f.p.mode = SEARCH_ENGINE_PARALLEL;
    assert_int_equal(search_bridge_eval(f.b, f.s, &f.p, &f.r, &err), DNAS_ERR_UNSUPPORTED);
    f.p.target = d;
    f.p.mode = SEARCH_ENGINE_FIXED;
    f.p.engine = 2;
    assert_int_equal(search_bridge_eval(f.b, f.s, &f.p, &f.r, &err), DNAS_ERR_INVALID);
    f.p.engine = 1; /* analog: every tcn layer runs there */
    bt_eval(&f);
    assert_int_equal(f.r.nunmapped, 0);
    assert_int_equal(bt_row(&f, "conv1")->engine, 1);
    free(d), free(g8);
    bt_close(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_totals_equal_summary),
        cmocka_unit_test(test_cli_cost_numbers),
        cmocka_unit_test(test_chaining),
        cmocka_unit_test(test_add_groups_and_depthwise),
        cmocka_unit_test(test_input_group_concat_flatten),
        cmocka_unit_test(test_peak_gradient_alive_only),
        cmocka_unit_test(test_hinge),
        cmocka_unit_test(test_bad_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
