/* hwcost target-independent models: hand-computed values on the layers of
 * the reference networks, mixed precision, gradients, monotonicity, zero
 * at zero channels, peak activation memory. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hwcost.h"

#include "hwcost_test_layers.h"

static double ev(hwcost_model m, const hwcost_layer *l) {
    hwcost_grad g;
    dnas_error err;
    dnas_status st = hwcost_eval(m, l, &g, &err);
    if (st) fail_msg("%s: %s", hwcost_model_name(m), err.msg);
    return g.value;
}

static void near(double a, double b, int line) {
    if (!(fabs(a - b) <= 1e-9 * (1 + fabs(b)))) fail_msg("line %d: got %.12g, expected %.12g", line, a, b);
}
#define NEAR(a, b) near((a), (b), __LINE__)

static void test_values_by_hand(void **state) {
    (void)state;
    hwcost_layer l = conv3x3();
    NEAR(ev(HWCOST_PARAMS, &l), 2304);          /* 16·16·9 */
    NEAR(ev(HWCOST_MACS_NO_BIAS, &l), 1806336); /* 2304·784 */
    NEAR(ev(HWCOST_BIT_PARAMS, &l), 18432);     /* 2304·8 */
    NEAR(ev(HWCOST_BIT_OPS, &l), 115605504);    /* 1806336·8·8 */
    NEAR(ev(HWCOST_WEIGHT_BYTES, &l), 2304);
    l.bias = 1;
    NEAR(ev(HWCOST_PARAMS, &l), 2320); /* 16·(16·9 + 1) */
    NEAR(ev(HWCOST_PARAMS_NO_BIAS, &l), 2304);
    NEAR(ev(HWCOST_MACS, &l), 1818880);      /* 2320·784 */
    NEAR(ev(HWCOST_WEIGHT_BYTES, &l), 2368); /* 2304 + 4·16 */

    l = dw();
    NEAR(ev(HWCOST_PARAMS, &l), 640); /* 64·(9 + 1) */
    NEAR(ev(HWCOST_PARAMS_NO_BIAS, &l), 576);
    NEAR(ev(HWCOST_MACS, &l), 80000);         /* 640·125 */
    NEAR(ev(HWCOST_MACS_NO_BIAS, &l), 72000); /* MLPerf Tiny DS-CNN: each DW 72,000 */
    NEAR(ev(HWCOST_BIT_PARAMS, &l), 4608);    /* 576·8 (groups: not Πk·Cin·Cout) */
    NEAR(ev(HWCOST_BIT_OPS, &l), 4608000);    /* 72000·64 */
    NEAR(ev(HWCOST_WEIGHT_BYTES, &l), 832);   /* 576 + 4·64 */

    l = pw();
    NEAR(ev(HWCOST_PARAMS, &l), 4096);
    NEAR(ev(HWCOST_MACS, &l), 512000); /* MLPerf Tiny DS-CNN: each PW 512,000 */

    l = fc();
    NEAR(ev(HWCOST_PARAMS, &l), 650); /* 10·(64 + 1) */
    NEAR(ev(HWCOST_PARAMS_NO_BIAS, &l), 640);
    NEAR(ev(HWCOST_MACS, &l), 650); /* one output pixel */
    NEAR(ev(HWCOST_MACS_NO_BIAS, &l), 640);
    NEAR(ev(HWCOST_BIT_OPS, &l), 40960);    /* 640·64 */
    NEAR(ev(HWCOST_WEIGHT_BYTES, &l), 680); /* 640 + 4·10 */

    l = strided();
    NEAR(ev(HWCOST_PARAMS, &l), 4608); /* 16·32·9 */
    NEAR(ev(HWCOST_MACS, &l), 903168); /* 4608·196 */

    l = conv1d();
    NEAR(ev(HWCOST_PARAMS, &l), 8064); /* 28·32·9 */
    NEAR(ev(HWCOST_MACS, &l), 225792); /* 8064·28 */

    /* dscnn: stem 10x4 1->64 on 25x5 = 320,000 MACs */
    l = mk(HWCOST_CONV, 1, 64, 10, 4, 25, 5, 0);
    NEAR(ev(HWCOST_MACS, &l), 320000);
}

static void test_mixed_precision(void **state) {
    (void)state;
    hwcost_layer l = pw();
    l.w.n = 3;
    l.w.bits[0] = 2, l.w.bits[1] = 4, l.w.bits[2] = 8;
    l.w.prob[0] = 0.25, l.w.prob[1] = 0.25, l.w.prob[2] = 0.5;
    l.a.n = 2;
    l.a.bits[0] = 4, l.a.bits[1] = 8;
    l.a.prob[0] = 0.5, l.a.prob[1] = 0.5;
    /* bit-ops = 512000 · E[a] · E[w] = 512000 · 6 · 5.5 */
    NEAR(ev(HWCOST_BIT_OPS, &l), 16896000);
    /* bit-params = 4096 · 5.5 */
    NEAR(ev(HWCOST_BIT_PARAMS, &l), 22528);
    /* weight bytes = 0.25·1024 + 0.25·2048 + 0.5·4096 */
    NEAR(ev(HWCOST_WEIGHT_BYTES, &l), 2816);
    hwcost_grad g;
    assert_int_equal(hwcost_eval(HWCOST_BIT_OPS, &l, &g, NULL), DNAS_OK);
    /* d/dθw_j = Σ_i θa_i·512000·a_i·w_j = 512000·6·w_j; d/dθa_i = 512000·5.5·a_i */
    NEAR(g.d_w[0], 512000.0 * 6 * 2);
    NEAR(g.d_w[2], 512000.0 * 6 * 8);
    NEAR(g.d_a[0], 512000.0 * 5.5 * 4);
    NEAR(g.d_a[1], 512000.0 * 5.5 * 8);
    /* 0-bit weights: the channel/layer is pruned and costs nothing */
    l.w.n = 2;
    l.w.bits[0] = 0, l.w.bits[1] = 8;
    l.w.prob[0] = 0.5, l.w.prob[1] = 0.5;
    NEAR(ev(HWCOST_PARAMS, &l), 2048);
    NEAR(ev(HWCOST_MACS, &l), 256000);
}

/* Central finite differences on the continuous inputs. The models here
 * have no ceil except weight bytes (checked on a multiple of 8 bits). */
static double ev_at(hwcost_model m, hwcost_layer l, int var, double x) {
    if (var == 0) l.cin = x;
    if (var == 1) l.cout = x;
    if (var == 2) l.k = x;
    if (var >= 3 && var < 3 + HWCOST_MAX_PREC) l.w.prob[var - 3] = x;
    if (var >= 3 + HWCOST_MAX_PREC) l.a.prob[var - 3 - HWCOST_MAX_PREC] = x;
    return ev(m, &l);
}

static void check_fd(hwcost_model m, hwcost_layer l) {
    hwcost_grad g;
    assert_int_equal(hwcost_eval(m, &l, &g, NULL), DNAS_OK);
    for (int var = 0; var < 3 + 2 * HWCOST_MAX_PREC; var++) {
        double x, an;
        if (var < 3) {
            x = var == 0 ? l.cin : var == 1 ? l.cout : l.k;
            an = var == 0 ? g.d_cin : var == 1 ? g.d_cout : g.d_k;
        } else if (var < 3 + HWCOST_MAX_PREC) {
            if (var - 3 >= l.w.n) continue;
            x = l.w.prob[var - 3], an = g.d_w[var - 3];
        } else {
            int i = var - 3 - HWCOST_MAX_PREC;
            if (i >= l.a.n) continue;
            x = l.a.prob[i], an = g.d_a[i];
        }
        double h = 1e-3, fd = (ev_at(m, l, var, x + h) - ev_at(m, l, var, x - h)) / (2 * h);
        if (fabs(fd - an) > 1e-6 * (1 + fabs(fd)))
            fail_msg("%s %s var %d: analytic %.9g, finite difference %.9g", hwcost_model_name(m),
                     hwcost_kind_name(l.kind), var, an, fd);
    }
}

static void test_gradients_fd(void **state) {
    (void)state;
    hwcost_layer ls[] = {conv3x3(), dw(), pw(), fc(), strided(), conv1d()};
    for (size_t i = 0; i < sizeof ls / sizeof ls[0]; i++) {
        hwcost_layer l = ls[i];
        l.cin *= 0.83, l.cout *= 0.71, l.k *= 0.77, l.bias = 1; /* soft, off integers */
        l.w.n = 3;
        l.w.bits[0] = 2, l.w.bits[1] = 4, l.w.bits[2] = 8;
        l.w.prob[0] = 0.2, l.w.prob[1] = 0.3, l.w.prob[2] = 0.5;
        l.a.n = 2;
        l.a.bits[0] = 4, l.a.bits[1] = 8;
        l.a.prob[0] = 0.4, l.a.prob[1] = 0.6;
        for (int m = 0; m < HWCOST_MODEL_COUNT_; m++)
            if (m != HWCOST_WEIGHT_BYTES) check_fd((hwcost_model)m, l);
    }
    /* weight bytes = ceil(P·w/8) + 4·Cout: FD sees the ceil as flat, so
     * check the straight-through derivative against params' instead:
     * d/dCin = dP/dCin·w/8, d/dCout = dP/dCout·w/8 + 4 */
    hwcost_layer l = conv3x3();
    l.cin = 13.3, l.cout = 11.1, l.bias = 1;
    l.w = hwcost_prec_single(4);
    hwcost_grad gb, gp;
    assert_int_equal(hwcost_eval(HWCOST_WEIGHT_BYTES, &l, &gb, NULL), DNAS_OK);
    assert_int_equal(hwcost_eval(HWCOST_PARAMS_NO_BIAS, &l, &gp, NULL), DNAS_OK);
    NEAR(gb.value, ceil(11.1 * 13.3 * 9 * 4 / 8) + 4 * 11.1);
    NEAR(gb.d_cin, gp.d_cin / 2);
    NEAR(gb.d_cout, gp.d_cout / 2 + 4);
    NEAR(gb.d_k, gp.d_k / 2);
    NEAR(gb.d_w[0], gb.value);
}

static void test_monotone_and_zero(void **state) {
    (void)state;
    hwcost_layer ls[] = {conv3x3(), dw(), pw(), fc(), strided(), conv1d()};
    for (size_t i = 0; i < sizeof ls / sizeof ls[0]; i++)
        for (int m = 0; m < HWCOST_MODEL_COUNT_; m++) {
            hwcost_layer l = ls[i];
            l.bias = 1;
            double prev = -1;
            for (double c = 0; c <= 64; c += 4) { /* channels */
                l.cin = c, l.cout = c;
                double v = ev((hwcost_model)m, &l);
                if (c == 0) NEAR(v, 0);
                assert_true(v >= prev);
                prev = v;
            }
            prev = -1;
            l.cin = l.cout = 16;
            for (int b = 1; b <= 8; b++) { /* bits */
                l.w = hwcost_prec_single(b);
                l.a = hwcost_prec_single(b);
                double v = ev((hwcost_model)m, &l);
                assert_true(v >= prev);
                prev = v;
            }
        }
}

static void test_invalid_layer(void **state) {
    (void)state;
    hwcost_layer l = conv3x3();
    hwcost_grad g;
    dnas_error err;
    l.cout = -1;
    assert_int_equal(hwcost_eval(HWCOST_PARAMS, &l, &g, &err), DNAS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "expected >= 0"));
    l = conv3x3();
    l.w.n = 0;
    assert_int_equal(hwcost_eval(HWCOST_PARAMS, &l, &g, &err), DNAS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "weight precisions"));
}

/* resnet-like chain: steps 0 input 1x28x28, 1 conv1 16x28x28 (read by 2
 * and by the add at 3), 2 conv2 16x28x28, 3 add 16x28x28, 4 fc 10.
 * live bytes at 8 bits: s0 784, s1 784 + 12544 = 13328, s2 25088,
 * s3 3·12544 = 37632, s4 12544 + 10 = 12554 -> peak 37632 at step 3. */
static void test_peak_activations(void **state) {
    (void)state;
    hwcost_tensor t[5] = {
        {1, 28, 28, 0, 1, hwcost_prec_single(8)},  {16, 28, 28, 1, 3, hwcost_prec_single(8)},
        {16, 28, 28, 2, 3, hwcost_prec_single(8)}, {16, 28, 28, 3, 4, hwcost_prec_single(8)},
        {10, 1, 1, 4, 4, hwcost_prec_single(8)},
    };
    double dch[5], dp[5][HWCOST_MAX_PREC];
    int step;
    NEAR(hwcost_peak_activation_bytes(t, 5, dch, dp, &step), 37632);
    assert_int_equal(step, 3);
    NEAR(dch[0], 0);
    NEAR(dch[1], 784); /* d bytes / d channels = 28·28·8/8 */
    NEAR(dch[4], 0);
    NEAR(dp[1][0], 12544);
    /* 4-bit activations halve it: 18816; a 50/50 mix of 4 and 8 bits: 28224 */
    for (int i = 0; i < 5; i++) t[i].a = hwcost_prec_single(4);
    NEAR(hwcost_peak_activation_bytes(t, 5, NULL, NULL, NULL), 18816);
    for (int i = 0; i < 5; i++) {
        t[i].a.n = 2;
        t[i].a.bits[1] = 8;
        t[i].a.prob[0] = t[i].a.prob[1] = 0.5;
    }
    NEAR(hwcost_peak_activation_bytes(t, 5, NULL, NULL, NULL), 28224);
    /* zero channels: zero bytes */
    for (int i = 0; i < 5; i++) t[i].channels = 0;
    NEAR(hwcost_peak_activation_bytes(t, 5, NULL, NULL, NULL), 0);
}

static void test_thousands(void **state) {
    (void)state;
    char buf[32];
    assert_string_equal(dnas_fmt_thousands(612345, buf, sizeof buf), "612,345");
    assert_string_equal(dnas_fmt_thousands(100345, buf, sizeof buf), "100,345");
    assert_string_equal(dnas_fmt_thousands(8388608, buf, sizeof buf), "8,388,608");
    assert_string_equal(dnas_fmt_thousands(999, buf, sizeof buf), "999");
    assert_string_equal(dnas_fmt_thousands(-1000, buf, sizeof buf), "-1,000");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_by_hand), cmocka_unit_test(test_mixed_precision),
        cmocka_unit_test(test_gradients_fd),   cmocka_unit_test(test_monotone_and_zero),
        cmocka_unit_test(test_invalid_layer),  cmocka_unit_test(test_peak_activations),
        cmocka_unit_test(test_thousands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
