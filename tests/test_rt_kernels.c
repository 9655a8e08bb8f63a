/* dnas_rt conv2d (both paths) and linear, bit-exact against a direct int64
 * computation written here: named cases (stride 2 and 3, dilation 2,
 * asymmetric padding, groups 2, depthwise, 1-D, 1x1, int8 and uint8 input,
 * 8/4/2-bit weights, narrow output ranges) and seeded random shapes; a
 * deliberately changed weight changes exactly the outputs it feeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnas_rt.h"
#include "rt_test_util.h"

typedef struct {
    const char *name;
    int hin, win, cin, cout, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, groups;
    int in_signed, out_signed, bits;
} conv_case;

static int out_size(int in, int k, int s, int d, int pa, int pb) {
    int span = d * (k - 1) + 1;
    return in + pa + pb < span ? 0 : (in + pa + pb - span) / s + 1;
}

/* acc (Hout, Wout, Cout) in int64, the definition read directly. */
static void conv_ref_acc(int64_t *acc, const uint8_t *x, const int8_t *w, const int32_t *bias,
                         const conv_case *c, int hout, int wout) {
    int cig = c->cin / c->groups, cpg = c->cout / c->groups;
    for (int oy = 0; oy < hout; oy++)
        for (int ox = 0; ox < wout; ox++)
            for (int co = 0; co < c->cout; co++) {
                int64_t a = bias ? bias[co] : 0;
                for (int ky = 0; ky < c->kh; ky++)
                    for (int kx = 0; kx < c->kw; kx++) {
                        int iy = oy * c->sh + ky * c->dh - c->pt;
                        int ix = ox * c->sw + kx * c->dw - c->pl;
                        if (iy < 0 || ix < 0 || iy >= c->hin || ix >= c->win)
                            continue; // zero padding
                        for (int ci = 0; ci < cig; ci++) {
                            int cx = (co / cpg) * cig + ci;
                            int64_t xv = rtt_get(x, (size_t)((iy * c->win + ix) * c->cin + cx),
                                                 c->in_signed);
                            a += xv * w[((co * c->kh + ky) * c->kw + kx) * cig + ci];
                        }
                    }
                acc[(oy * wout + ox) * c->cout + co] = a;
            }
}

/* Per-channel multipliers of one magnitude (random bits), random signs. */
static void fill_mults(int32_t *m, int n) {
    int bits = (int)rtt_range(1, 31);
    for (int i = 0; i < n; i++) {
        int64_t v = rtt_range((int64_t)1 << (bits - 1), ((int64_t)1 << bits) - 1);
        m[i] = (int32_t)(rtt_next() & 1 ? -v : v);
    }
}

/* Runs one case through dnas_rt_conv2d and _ref; returns the mismatches. */
static long run_conv(const conv_case *c, uint64_t seed) {
    rtt_seed(seed);
    int hout = out_size(c->hin, c->kh, c->sh, c->dh, c->pt, c->pb);
    int wout = out_size(c->win, c->kw, c->sw, c->dw, c->pl, c->pr);
    assert_true(hout > 0 && wout > 0);
    size_t nx = (size_t)(c->hin * c->win * c->cin), ny = (size_t)(hout * wout * c->cout);
    size_t nw = (size_t)(c->cout * c->kh * c->kw * (c->cin / c->groups));
    uint8_t *x = malloc(nx), *y = malloc(ny), *yr = malloc(ny);
    int8_t *w = malloc(nw);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)c->cout);
    int32_t *m = malloc(sizeof(int32_t) * (size_t)c->cout);
    int64_t *acc = malloc(sizeof(int64_t) * ny);
    int32_t *want = malloc(sizeof(int32_t) * ny);
    rtt_fill(x, nx, c->in_signed);
    rtt_fill_weights(w, nw, c->bits);
    for (int i = 0; i < c->cout; i++)
        bias[i] = (int32_t)rtt_range(-5000, 5000);
    int use_bias = rtt_next() % 5 != 0;
    fill_mults(m, c->cout);
    conv_ref_acc(acc, x, w, use_bias ? bias : NULL, c, hout, wout);
    int32_t lo, hi;
    rtt_pick_range(c->out_signed, &lo, &hi);
    int64_t absmax = 0;
    for (size_t i = 0; i < ny; i++) {
        int64_t v = acc[i] * m[i % (size_t)c->cout];
        absmax = v < 0 ? (-v > absmax ? -v : absmax) : (v > absmax ? v : absmax);
    }
    int s = rtt_pick_shift(absmax, hi - lo + 1);
    for (size_t i = 0; i < ny; i++)
        want[i] = rtt_requant(acc[i], m[i % (size_t)c->cout], s, lo, hi);

    dnas_rt_conv_dims d = {c->hin, c->win, c->cin, hout, wout, c->cout, c->kh, c->kw,
                           c->sh, c->sw, c->dh, c->dw, c->pt, c->pb, c->pl, c->pr,
                           c->groups, c->in_signed, c->out_signed};
    dnas_rt_weights wt = {w, c->bits, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {m, s, lo, hi};
    const int32_t *b = use_bias ? bias : NULL;
    memset(y, 0xAB, ny);
    memset(yr, 0xCD, ny);
    assert_int_equal(dnas_rt_conv2d_check(&wt, b, &rq, &d), DNAS_RT_OK);
    assert_int_equal(dnas_rt_conv2d(y, x, &wt, b, &rq, &d), DNAS_RT_OK);
    assert_int_equal(dnas_rt_conv2d_ref(yr, x, &wt, b, &rq, &d), DNAS_RT_OK);
    long bad = rtt_compare(c->name, y, want, ny, c->out_signed, lo, hi) +
               rtt_compare(c->name, yr, want, ny, c->out_signed, lo, hi);
    free(x), free(y), free(yr), free(w), free(bias), free(m), free(acc), free(want);
    return bad;
}

static const conv_case named[] = {
    /* name                     hin win cin cout kh kw sh sw dh dw pt pb pl pr g  is os bits */
    {"3x3 pad 1",                6, 7, 3, 4,   3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 8},
    {"stride 2",                 9, 8, 4, 5,   3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 8},
    {"stride 3, 3x2 kernel",    10, 11, 2, 3,  3, 2, 3, 3, 1, 1, 0, 2, 1, 0, 1, 1, 1, 8},
    {"dilation 2",               9, 9, 3, 4,   3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0, 1, 4},
    {"asymmetric padding",       6, 7, 3, 4,   3, 3, 1, 2, 1, 1, 2, 0, 0, 1, 1, 0, 1, 8},
    {"groups 2",                 5, 6, 6, 4,   3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 0, 1, 8},
    {"depthwise",                7, 7, 5, 5,   3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5, 0, 1, 8},
    {"depthwise stride 2 int8",  8, 8, 6, 6,   3, 3, 2, 2, 1, 1, 0, 1, 0, 1, 6, 1, 1, 4},
    {"depthwise multiplier 2",   5, 5, 3, 6,   3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 0, 0, 8},
    {"1-D causal dilation 2",    1, 20, 4, 6,  1, 3, 1, 1, 1, 2, 0, 0, 4, 0, 1, 0, 0, 8},
    {"1-D stride 3 groups 2",    1, 17, 4, 2,  1, 5, 1, 3, 1, 2, 0, 0, 2, 3, 2, 1, 1, 2},
    {"1x1",                      4, 5, 16, 8,  1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 8},
    {"1x1 stride 2 int8",        5, 5, 8, 3,   1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1, 8},
    {"int8 input",               6, 6, 3, 4,   3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8},
    {"4-bit weights",            6, 6, 3, 4,   3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 4},
    {"2-bit weights",            6, 6, 3, 4,   3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 2},
    {"padding wider than kernel", 4, 4, 2, 3,  2, 2, 1, 1, 1, 1, 3, 2, 2, 3, 1, 0, 1, 8},
    {"kernel over whole input",  5, 4, 3, 7,   5, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 8},
    {"stride above kernel",      9, 9, 2, 2,   2, 2, 3, 3, 1, 1, 0, 0, 0, 0, 1, 0, 1, 8},
};

static void test_conv_named(void **state) {
    (void)state;
    long bad = 0;
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        for (uint64_t seed = 1; seed <= 8; seed++)
            bad += run_conv(&named[i], seed * 1000 + i);
    assert_int_equal(bad, 0);
}

static void test_conv_random(void **state) {
    (void)state;
    long bad = 0;
    for (int t = 0; t < 400; t++) {
        rtt_seed(777 + (uint64_t)t);
        conv_case c = {.name = "random"};
        int oned = rtt_next() % 4 == 0;
        c.hin = oned ? 1 : (int)rtt_range(1, 9);
        c.win = (int)rtt_range(1, oned ? 24 : 9);
        c.kh = oned ? 1 : (int)rtt_range(1, 4);
        c.kw = (int)rtt_range(1, oned ? 6 : 4);
        c.sh = oned ? 1 : (int)rtt_range(1, 3);
        c.sw = (int)rtt_range(1, 3);
        c.dh = oned ? 1 : (int)rtt_range(1, 2);
        c.dw = (int)rtt_range(1, 3);
        c.pt = oned ? 0 : (int)rtt_range(0, 3);
        c.pb = oned ? 0 : (int)rtt_range(0, 3);
        c.pl = (int)rtt_range(0, 3);
        c.pr = (int)rtt_range(0, 3);
        int kind = (int)rtt_range(0, 2); // plain, grouped, depthwise (multiplier 1 or 2)
        c.groups = kind == 0 ? 1 : (int)rtt_range(2, kind == 1 ? 3 : 6);
        c.cin = c.groups * (kind == 2 ? 1 : (int)rtt_range(1, 4));
        c.cout = c.groups * (kind == 2 ? (int)rtt_range(1, 2) : (int)rtt_range(1, 3));
        c.in_signed = (int)(rtt_next() & 1);
        c.out_signed = (int)(rtt_next() & 1);
        c.bits = (int[]){2, 4, 8}[rtt_range(0, 2)];
        if (out_size(c.hin, c.kh, c.sh, c.dh, c.pt, c.pb) <= 0 ||
            out_size(c.win, c.kw, c.sw, c.dw, c.pl, c.pr) <= 0)
            continue;
        long b = run_conv(&c, 5000 + (uint64_t)t);
        if (b)
            fprintf(stderr, "random case %d: %dx%dx%d -> cout %d, k %dx%d s %d,%d d %d,%d "
                            "pad %d,%d,%d,%d groups %d signed %d/%d bits %d\n",
                    t, c.hin, c.win, c.cin, c.cout, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pt,
                    c.pb, c.pl, c.pr, c.groups, c.in_signed, c.out_signed, c.bits);
        bad += b;
    }
    assert_int_equal(bad, 0);
}

static long run_linear(int cin, int cout, int in_signed, int out_signed, int bits, uint64_t seed) {
    rtt_seed(seed);
    uint8_t *x = malloc((size_t)cin), *y = malloc((size_t)cout);
    int8_t *w = malloc((size_t)(cin * cout));
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)cout);
    int32_t *m = malloc(sizeof(int32_t) * (size_t)cout);
    int32_t *want = malloc(sizeof(int32_t) * (size_t)cout);
    int64_t *acc = malloc(sizeof(int64_t) * (size_t)cout);
    rtt_fill(x, (size_t)cin, in_signed);
    rtt_fill_weights(w, (size_t)(cin * cout), bits);
    fill_mults(m, cout);
    int64_t absmax = 0;
    for (int o = 0; o < cout; o++) {
        bias[o] = (int32_t)rtt_range(-100000, 100000);
        acc[o] = bias[o];
        for (int i = 0; i < cin; i++)
            acc[o] += (int64_t)rtt_get(x, (size_t)i, in_signed) * w[o * cin + i];
        int64_t v = acc[o] * m[o];
        absmax = (v < 0 ? -v : v) > absmax ? (v < 0 ? -v : v) : absmax;
    }
    int32_t lo, hi;
    rtt_pick_range(out_signed, &lo, &hi);
    int s = rtt_pick_shift(absmax, hi - lo + 1);
    for (int o = 0; o < cout; o++)
        want[o] = rtt_requant(acc[o], m[o], s, lo, hi);
    dnas_rt_linear_dims d = {cin, cout, in_signed, out_signed};
    dnas_rt_weights wt = {w, bits, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {m, s, lo, hi};
    memset(y, 0xAB, (size_t)cout);
    assert_int_equal(dnas_rt_linear_check(&wt, bias, &rq, &d), DNAS_RT_OK);
    assert_int_equal(dnas_rt_linear(y, x, &wt, bias, &rq, &d), DNAS_RT_OK);
    long bad = rtt_compare("linear", y, want, (size_t)cout, out_signed, lo, hi);
    free(x), free(y), free(w), free(bias), free(m), free(want), free(acc);
    return bad;
}

static void test_linear(void **state) {
    (void)state;
    long bad = run_linear(1, 1, 0, 0, 8, 1) + run_linear(64, 12, 0, 1, 8, 2) +
               run_linear(1000, 10, 1, 1, 4, 3) + run_linear(7, 33, 1, 0, 2, 4);
    for (int t = 0; t < 200; t++) {
        rtt_seed(99 + (uint64_t)t);
        int cin = (int)rtt_range(1, 400), cout = (int)rtt_range(1, 16);
        int is = (int)(rtt_next() & 1), os = (int)(rtt_next() & 1);
        int bits = (int)rtt_range(2, 8);
        bad += run_linear(cin, cout, is, os, bits, 300 + (uint64_t)t);
    }
    assert_int_equal(bad, 0);
}

/* A weight changed by one changes every output of its channel by the input
 * it multiplies (here all ones, s = 0, m = 1: output = acc) and nothing
 * else; the comparison against the unchanged reference reports it. */
static void test_changed_weight(void **state) {
    (void)state;
    enum { H = 5, W = 6, CIN = 2, COUT = 3, K = 3, HO = 3, WO = 4 };
    uint8_t x[H * W * CIN], y0[HO * WO * COUT], y1[HO * WO * COUT];
    int8_t w[COUT * K * K * CIN];
    int32_t bias[COUT] = {100, 100, 100}, m[COUT] = {1, 1, 1}, want[HO * WO * COUT];
    memset(x, 1, sizeof x);
    rtt_seed(4);
    rtt_fill_weights(w, sizeof w, 2);
    dnas_rt_conv_dims d = {H, W, CIN, HO, WO, COUT, K, K, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0};
    dnas_rt_weights wt = {w, 2, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {m, 0, 0, 255};
    assert_int_equal(dnas_rt_conv2d(y0, x, &wt, bias, &rq, &d), DNAS_RT_OK);
    for (size_t i = 0; i < sizeof y0; i++)
        want[i] = y0[i];
    size_t wi = ((1 * K + 2) * K + 0) * CIN + 1; // w[co 1][ky 2][kx 0][ci 1]
    int delta = w[wi] < 1 ? 1 : -1;
    w[wi] = (int8_t)(w[wi] + delta);
    for (int ref = 0; ref < 2; ref++) {
        assert_int_equal((ref ? dnas_rt_conv2d_ref : dnas_rt_conv2d)(y1, x, &wt, bias, &rq, &d),
                         DNAS_RT_OK);
        for (size_t i = 0; i < sizeof y1; i++)
            assert_int_equal((int)y1[i] - (int)y0[i], i % COUT == 1 ? delta : 0);
        long before = rtt_compared;
        assert_int_equal(rtt_compare("changed weight (expected to differ)", y1, want, sizeof y1,
                                     0, 0, 255),
                         HO * WO);
        assert_int_equal(rtt_compared - before, (long)sizeof y1);
    }
    // linear: the same through the [Cout][Cin] layout
    int8_t lw[2 * 4] = {1, -1, 1, 0, 0, 1, 1, -1};
    uint8_t lx[4] = {3, 5, 7, 11}, ly0[2], ly1[2];
    dnas_rt_linear_dims ld = {4, 2, 0, 0};
    dnas_rt_weights lwt = {lw, 2, DNAS_RT_PACK_INT8};
    assert_int_equal(dnas_rt_linear(ly0, lx, &lwt, bias, &rq, &ld), DNAS_RT_OK);
    assert_int_equal(ly0[0], 100 + 3 - 5 + 7);
    assert_int_equal(ly0[1], 100 + 5 + 7 - 11);
    lw[6] = 0; // w[1][2]: channel 1 loses 7
    assert_int_equal(dnas_rt_linear(ly1, lx, &lwt, bias, &rq, &ld), DNAS_RT_OK);
    assert_int_equal(ly1[0], ly0[0]);
    assert_int_equal(ly1[1], ly0[1] - 7);
}

/* Over this binary, most compared outputs lie strictly inside lo..hi, so the
 * comparisons test the arithmetic, not just the clamp. */
static void test_outputs_not_saturated(void **state) {
    (void)state;
    fprintf(stderr, "compared %ld outputs, %ld inside lo..hi\n", rtt_compared, rtt_inside);
    assert_true(rtt_compared > 10000);
    assert_true(rtt_inside * 2 > rtt_compared);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_named),
        cmocka_unit_test(test_conv_random),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_changed_weight),
        cmocka_unit_test(test_outputs_not_saturated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
