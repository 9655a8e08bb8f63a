/* Convolution kernels: output-size helpers against hand values; the fast
 * im2col/sgemm and depthwise paths against the naive _ref versions (forward
 * and accumulating backward, tolerance 1e-4 relative to the largest value);
 * backward against central finite differences; on a team of 2 OpenMP
 * threads, against _ref and bit-identical from run to run; and on more
 * threads than the scratch was sized for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cblas.h>
#include <omp.h>

#include "gradcheck.h"
#include "ops.h"

static void test_conv_out_size(void **state) {
    (void)state;
    assert_int_equal(train_conv_out_size(28, 3, 1, 1, 1), 28);
    assert_int_equal(train_conv_out_size(28, 3, 2, 1, 1), 14);
    assert_int_equal(train_conv_out_size(28, 3, 1, 1, 0), 26);
    assert_int_equal(train_conv_out_size(9, 3, 2, 2, 0), 3);  // span 5: (9-5)/2+1
    assert_int_equal(train_conv_out_size(7, 7, 1, 1, 0), 1);
    assert_int_equal(train_conv_out_size(4, 7, 1, 1, 0), 0);
}

static void test_conv_same(void **state) {
    (void)state;
    int pad = -1;
    assert_int_equal(train_conv_same(49, 10, 2, 1, &pad), 25);
    assert_int_equal(pad, 4);
    assert_int_equal(train_conv_same(32, 3, 2, 1, &pad), 16);
    assert_int_equal(pad, 0);
    assert_int_equal(train_conv_same(28, 9, 1, 1, &pad), 28);
    assert_int_equal(pad, 4);
    assert_int_equal(train_conv_same(28, 3, 1, 2, &pad), 28);  // span 5 -> total 4
    assert_int_equal(pad, 2);
    assert_int_equal(train_conv_same(5, 1, 2, 1, &pad), 3);
    assert_int_equal(pad, 0);
}

typedef struct {
    const char *name;
    int n, cin, hin, win, cout, kh, kw, sh, sw, dh, dw;
    int ph, pw;   /* symmetric padding, or -1: TF "same" */
    int groups, bias;
} conv_case;

static train_conv_dims conv_case_dims(const conv_case *c) {
    train_conv_dims d = {.n = c->n, .cin = c->cin, .hin = c->hin, .win = c->win,
                         .cout = c->cout, .kh = c->kh, .kw = c->kw, .sh = c->sh, .sw = c->sw,
                         .dh = c->dh, .dw = c->dw, .groups = c->groups};
    if (c->ph < 0) {
        d.hout = train_conv_same(c->hin, c->kh, c->sh, c->dh, &d.pt);
        d.wout = train_conv_same(c->win, c->kw, c->sw, c->dw, &d.pl);
    } else {
        d.pt = c->ph;
        d.pl = c->pw;
        d.hout = train_conv_out_size(c->hin, c->kh, c->sh, c->dh, c->ph);
        d.wout = train_conv_out_size(c->win, c->kw, c->sw, c->dw, c->pw);
    }
    return d;
}

typedef struct {
    train_conv_dims d;
    float *inp, *w, *b, *out, *r, *scratch;
    size_t nin, nw, nout, ns;
} conv_ctx;

static double conv_loss(void *p) {
    conv_ctx *c = p;
    train_conv2d_forward(c->out, c->inp, c->w, c->b, &c->d, c->scratch, c->ns);
    return gc_dot(c->out, c->r, c->nout);
}

static void run_conv_case(const conv_case *cc) {
    conv_ctx c = {.d = conv_case_dims(cc)};
    const train_conv_dims *d = &c.d;
    assert_true(d->hout > 0 && d->wout > 0);
    uint64_t rng = 12345;
    c.nin = (size_t)d->n * d->cin * d->hin * d->win;
    c.nw = (size_t)d->cout * (d->cin / d->groups) * d->kh * d->kw;
    c.nout = (size_t)d->n * d->cout * d->hout * d->wout;
    c.inp = gc_alloc(c.nin);
    c.w = gc_alloc(c.nw);
    c.b = cc->bias ? gc_alloc(d->cout) : NULL;
    c.out = gc_alloc(c.nout);
    c.r = gc_alloc(c.nout);
    // exactly the advertised scratch, so ASan catches any overrun
    c.ns = train_conv2d_scratch_floats(d);
    c.scratch = c.ns ? malloc(c.ns * sizeof(float)) : NULL;
    gc_fill(c.inp, c.nin, -1, 1, &rng);
    gc_fill(c.w, c.nw, -1, 1, &rng);
    if (c.b) gc_fill(c.b, d->cout, -1, 1, &rng);
    gc_fill(c.r, c.nout, -1, 1, &rng);

    // forward: fast vs ref
    float *ref = gc_alloc(c.nout);
    train_conv2d_forward(c.out, c.inp, c.w, c.b, d, c.scratch, c.ns);
    train_conv2d_forward_ref(ref, c.inp, c.w, c.b, d);
    float tol = 1e-4f * (1.0f + gc_max_abs(ref, c.nout));
    if (gc_max_abs_diff(c.out, ref, c.nout) > tol)
        fail_msg("%s: forward differs from ref by %g", cc->name,
                 gc_max_abs_diff(c.out, ref, c.nout));

    // backward: fast vs ref, both accumulating onto the same non-zero start
    float *dinp = gc_alloc(c.nin), *dw = gc_alloc(c.nw), *db = gc_alloc(d->cout);
    float *rdinp = gc_alloc(c.nin), *rdw = gc_alloc(c.nw), *rdb = gc_alloc(d->cout);
    gc_fill(dinp, c.nin, -1, 1, &rng);
    gc_fill(dw, c.nw, -1, 1, &rng);
    gc_fill(db, d->cout, -1, 1, &rng);
    memcpy(rdinp, dinp, c.nin * sizeof(float));
    memcpy(rdw, dw, c.nw * sizeof(float));
    memcpy(rdb, db, d->cout * sizeof(float));
    train_conv2d_backward(dinp, dw, c.b ? db : NULL, c.r, c.inp, c.w, d, c.scratch, c.ns);
    train_conv2d_backward_ref(rdinp, rdw, c.b ? rdb : NULL, c.r, c.inp, c.w, d);
    if (gc_max_abs_diff(dinp, rdinp, c.nin) > 1e-4f * (1.0f + gc_max_abs(rdinp, c.nin)))
        fail_msg("%s: dinp differs from ref", cc->name);
    if (gc_max_abs_diff(dw, rdw, c.nw) > 1e-4f * (1.0f + gc_max_abs(rdw, c.nw)))
        fail_msg("%s: dweight differs from ref", cc->name);
    if (gc_max_abs_diff(db, rdb, d->cout) > 1e-4f * (1.0f + gc_max_abs(rdb, d->cout)))
        fail_msg("%s: dbias differs from ref", cc->name);

    // NULL gradients are skipped; dweight alone still matches
    float *dw2 = gc_alloc(c.nw), *rdw2 = gc_alloc(c.nw);
    train_conv2d_backward(NULL, dw2, NULL, c.r, c.inp, c.w, d, c.scratch, c.ns);
    train_conv2d_backward_ref(NULL, rdw2, NULL, c.r, c.inp, c.w, d);
    if (gc_max_abs_diff(dw2, rdw2, c.nw) > 1e-4f * (1.0f + gc_max_abs(rdw2, c.nw)))
        fail_msg("%s: dweight-only differs from ref", cc->name);

    // finite differences of loss = Σ r·out, gradients from zero
    memset(dinp, 0, c.nin * sizeof(float));
    memset(dw, 0, c.nw * sizeof(float));
    memset(db, 0, d->cout * sizeof(float));
    train_conv2d_backward(dinp, dw, db, c.r, c.inp, c.w, d, c.scratch, c.ns);
    int fails = gc_check("inp", conv_loss, &c, c.inp, dinp, c.nin, 1e-2f, 1e-2, 1e-3, 30, NULL);
    fails += gc_check("weight", conv_loss, &c, c.w, dw, c.nw, 1e-2f, 1e-2, 1e-3, 30, NULL);
    if (c.b) fails += gc_check("bias", conv_loss, &c, c.b, db, d->cout, 1e-2f, 1e-2, 1e-3, 30, NULL);
    if (fails) fail_msg("%s: %d finite-difference mismatches", cc->name, fails);

    free(ref), free(dinp), free(dw), free(db), free(rdinp), free(rdw), free(rdb);
    free(dw2), free(rdw2);
    free(c.inp), free(c.w), free(c.b), free(c.out), free(c.r), free(c.scratch);
}

/* name, n, cin, hin, win, cout, kh, kw, sh, sw, dh, dw, ph, pw, groups, bias */
static const conv_case conv_cases[] = {
    {"3x3 pad1", 2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {"3x5 kernel", 1, 2, 7, 9, 3, 3, 5, 1, 1, 1, 1, 1, 2, 1, 1},
    {"stride 2", 2, 3, 9, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},
    {"dilation 2", 1, 2, 9, 8, 3, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1},
    {"groups 2", 2, 4, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1},
    {"depthwise s2 same", 2, 4, 9, 8, 4, 3, 3, 2, 2, 1, 1, -1, -1, 4, 1},
    {"depthwise dil2 pad2", 1, 3, 7, 7, 3, 3, 3, 1, 1, 2, 2, 2, 2, 3, 0},
    {"depthwise 5x5 same", 1, 2, 6, 7, 2, 5, 5, 1, 1, 1, 1, -1, -1, 2, 1},
    {"1x1", 2, 5, 6, 6, 7, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1},
    {"1x1 groups 2", 2, 4, 5, 5, 6, 1, 1, 1, 1, 1, 1, 0, 0, 2, 0},
    {"1x1 stride 2", 2, 4, 7, 7, 6, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1},
    {"same asym 4x3 s2", 2, 2, 9, 10, 3, 4, 3, 2, 2, 1, 1, -1, -1, 1, 1},
    {"same 10x4 s2 (kws)", 1, 1, 13, 10, 4, 10, 4, 2, 2, 1, 1, -1, -1, 1, 1},
    {"1-D k5 s2 same", 3, 3, 1, 20, 4, 1, 5, 1, 2, 1, 1, -1, -1, 1, 1},
    {"channel multiplier 2", 1, 3, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 3, 1},
    {"batch 3 chunked 16ch 14x14", 3, 16, 14, 14, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {"batch 5 small chunks", 5, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {"resnet 16ch 28x28", 2, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
    // big planes: row tiles, the last one partial (29 rows)
    {"row tiles 16ch 29x29", 1, 16, 29, 29, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {"row tiles s2 16ch 57x57", 1, 16, 57, 57, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},
    {"row tiles same 4x4 16ch", 1, 16, 29, 30, 8, 4, 4, 1, 1, 1, 1, -1, -1, 1, 0},
    {"row tiles groups 2 dil 2", 1, 32, 29, 29, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2, 0},
    // sample chunks (2 and 9 samples) with a last chunk of 1
    {"chunks 32ch 14x14 n5", 5, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
    {"chunks s2 32ch 14x14 n10", 10, 32, 14, 14, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},
    {"resnet stem 1ch 28x28", 3, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
    // direct kernel whose padded plane (8 lanes) outgrows the column matrix
    {"1x1 padded 1x1 plane", 1, 4, 1, 1, 4, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1},
    // direct kernel (Cout % 4 == 0): column phases for stride, dilation
    {"direct dilation 2", 2, 3, 9, 8, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1},
    {"direct s2 dil2 same", 2, 3, 11, 12, 4, 3, 3, 2, 2, 2, 2, -1, -1, 1, 1},
    {"direct s3 5x5", 1, 2, 13, 14, 8, 5, 5, 3, 3, 1, 1, 2, 2, 1, 0},
    {"direct s2 1x3 asym dil", 2, 3, 6, 15, 4, 1, 3, 1, 2, 1, 3, -1, -1, 1, 1},
    {"resnet s2 16->32 28x28", 2, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0},
    {"1x1 s2 shortcut", 2, 8, 14, 14, 8, 1, 1, 2, 2, 1, 1, 0, 0, 1, 0},
    // channels-in-lanes weight gradient (Cout % 16): a last block of taps
    // short of 6 (27 and 50 taps), strides, dilation, "same" padding
    {"dwt 3->16 tap tail", 2, 3, 9, 11, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {"dwt s2 dil2 same 3->32", 3, 3, 11, 12, 32, 3, 3, 2, 2, 2, 2, -1, -1, 1, 0},
    {"dwt s3 5x5 2->16", 2, 2, 13, 14, 16, 5, 5, 3, 3, 1, 1, 2, 2, 1, 1},
    {"direct 7x7 n4 (3 + 1 samples)", 4, 8, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
    // stride 1, both gradients from one padded dout (and one case that cannot)
    {"fused dil2 pad3", 2, 4, 9, 10, 4, 3, 3, 1, 1, 2, 2, 3, 3, 1, 0},
    {"not fused: pad 4 > k - 1", 1, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 4, 4, 1, 0},
    // strided input gradient by output phases (Cin % 4 == 0)
    {"phases same 4x3 s2", 2, 4, 9, 10, 4, 4, 3, 2, 2, 1, 1, -1, -1, 1, 1},
    {"phases s3 dil2", 1, 4, 13, 11, 4, 3, 3, 3, 3, 2, 2, 2, 1, 1, 0},
    {"phases s3 k2 (a phase without taps)", 1, 4, 10, 10, 4, 2, 2, 3, 3, 1, 1, 0, 0, 1, 0},
    {"phases s2 1-D", 3, 8, 1, 21, 8, 1, 5, 1, 2, 1, 1, -1, -1, 1, 1},
};

static void test_conv_cases(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++)
        run_conv_case(&conv_cases[i]);
}

/* Two threads (OpenBLAS single-threaded, as the kernels require for their
 * sgemm paths to go parallel): every path against _ref, and two runs give
 * the same bits (forward, accumulating backward, dweight alone). The scratch
 * is sized after omp_set_num_threads, exactly, so ASan catches a thread
 * writing outside its slice. */
static void run_conv_threads(const conv_case *cc, int sized_for) {
    const train_conv_dims dd = conv_case_dims(cc), *d = &dd;
    uint64_t rng = 99;
    size_t nin = (size_t)d->n * d->cin * d->hin * d->win;
    size_t nw = (size_t)d->cout * (d->cin / d->groups) * d->kh * d->kw;
    size_t nout = (size_t)d->n * d->cout * d->hout * d->wout, nb = d->cout;
    float *inp = gc_alloc(nin), *w = gc_alloc(nw), *b = gc_alloc(nb), *dy = gc_alloc(nout);
    float *g0 = gc_alloc(nin + nw + nb);  // starting values of dinp | dweight | dbias
    gc_fill(inp, nin, -1, 1, &rng), gc_fill(w, nw, -1, 1, &rng), gc_fill(b, nb, -1, 1, &rng);
    gc_fill(dy, nout, -1, 1, &rng), gc_fill(g0, nin + nw + nb, -1, 1, &rng);
    const int run_threads = omp_get_max_threads();
    omp_set_num_threads(sized_for);
    size_t ns = train_conv2d_scratch_floats(d);
    omp_set_num_threads(run_threads);
    float *scratch = ns ? malloc(ns * sizeof(float)) : NULL;
    // run r: out | dinp | dweight | dbias | dweight alone
    const size_t nr = nout + nin + nw + nb + nw;
    float *run[2] = {gc_alloc(nr), gc_alloc(nr)}, *ref = gc_alloc(nr);
    for (int r = 0; r < 3; r++) {
        float *o = r < 2 ? run[r] : ref, *gx = o + nout, *gw = gx + nin, *gb = gw + nw;
        memcpy(gx, g0, (nin + nw + nb) * sizeof(float));
        if (r < 2) {
            train_conv2d_forward(o, inp, w, b, d, scratch, ns);
            train_conv2d_backward(gx, gw, gb, dy, inp, w, d, scratch, ns);
            train_conv2d_backward(NULL, gb + nb, NULL, dy, inp, w, d, scratch, ns);
        } else {
            train_conv2d_forward_ref(o, inp, w, b, d);
            train_conv2d_backward_ref(gx, gw, gb, dy, inp, w, d);
            train_conv2d_backward_ref(NULL, gb + nb, NULL, dy, inp, w, d);
        }
    }
    if (memcmp(run[0], run[1], nr * sizeof(float)) != 0)
        fail_msg("%s: two runs on %d threads differ", cc->name, run_threads);
    const size_t off[6] = {0, nout, nout + nin, nout + nin + nw, nout + nin + nw + nb, nr};
    const char *what[5] = {"out", "dinp", "dweight", "dbias", "dweight alone"};
    for (int k = 0; k < 5; k++) {
        size_t len = off[k + 1] - off[k];
        float diff = gc_max_abs_diff(run[0] + off[k], ref + off[k], len);
        if (diff > 1e-4f * (1.0f + gc_max_abs(ref + off[k], len)))
            fail_msg("%s: %s on %d threads (scratch for %d) differs from ref by %g", cc->name, what[k],
                     run_threads, sized_for, diff);
    }
    free(inp), free(w), free(b), free(dy), free(g0), free(scratch);
    free(run[0]), free(run[1]), free(ref);
}

/* name, n, cin, hin, win, cout, kh, kw, sh, sw, dh, dw, ph, pw, groups, bias */
static const conv_case conv_thread_cases[] = {
    {"direct fwd, fused bwd", 5, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {"direct s2, phases dinp", 6, 8, 15, 15, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {"direct dweight + adjoint (not fused)", 3, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 4, 4, 1, 0},
    {"direct 7x7 chunks of 3 and 10", 23, 8, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
    {"sgemm tiles of samples, groups 2", 7, 4, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 1},
    {"sgemm s2 col2im", 5, 3, 9, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {"sgemm row tiles", 3, 16, 29, 29, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {"stem 1ch", 5, 1, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0},
    {"1x1 pointwise", 6, 8, 5, 5, 12, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1},
    {"1x1 s2", 5, 8, 7, 7, 8, 1, 1, 2, 2, 1, 1, 0, 0, 1, 0},
    {"depthwise", 4, 6, 9, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6, 1},
    {"one sample, two threads", 1, 16, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
};

static void test_conv_threads(void **state) {
    (void)state;
    const int prev = omp_get_max_threads(), prev_blas = openblas_get_num_threads();
    omp_set_num_threads(2);
    openblas_set_num_threads(1);
    for (size_t i = 0; i < sizeof conv_thread_cases / sizeof conv_thread_cases[0]; i++)
        run_conv_threads(&conv_thread_cases[i], 2);
    omp_set_num_threads(prev);
    openblas_set_num_threads(prev_blas);
}

/* A thread count raised after the scratch was sized (1 thread, then 4):
 * the kernels run a team that fits the scratch; ASan catches any slice
 * past its end. And scratch for 2 threads run on 4. */
static void test_conv_threads_raised(void **state) {
    (void)state;
    const int prev = omp_get_max_threads(), prev_blas = openblas_get_num_threads();
    omp_set_num_threads(4);
    openblas_set_num_threads(1);
    for (size_t i = 0; i < sizeof conv_thread_cases / sizeof conv_thread_cases[0]; i++) {
        run_conv_threads(&conv_thread_cases[i], 1);
        run_conv_threads(&conv_thread_cases[i], 2);
    }
    omp_set_num_threads(prev);
    openblas_set_num_threads(prev_blas);
}

/* The padding convention on a hand-sized example: 1 channel, 3x3 input of
 * ones, 2x2 kernel of ones, TF-same stride 1 -> pad only bottom/right, so
 * out = [[4,4,2],[4,4,2],[2,2,1]]. */
static void test_conv_same_hand(void **state) {
    (void)state;
    train_conv_dims d = {.n = 1, .cin = 1, .hin = 3, .win = 3, .cout = 1, .kh = 2, .kw = 2,
                         .sh = 1, .sw = 1, .dh = 1, .dw = 1, .groups = 1};
    d.hout = train_conv_same(3, 2, 1, 1, &d.pt);
    d.wout = train_conv_same(3, 2, 1, 1, &d.pl);
    assert_int_equal(d.pt, 0);
    float inp[9], w[4] = {1, 1, 1, 1}, out[9];
    for (int i = 0; i < 9; i++) inp[i] = 1.0f;
    size_t ns = train_conv2d_scratch_floats(&d);
    float *scratch = gc_alloc(ns);
    const float want[9] = {4, 4, 2, 4, 4, 2, 2, 2, 1};
    train_conv2d_forward(out, inp, w, NULL, &d, scratch, ns);
    for (int i = 0; i < 9; i++) assert_float_equal(out[i], want[i], 1e-6);
    train_conv2d_forward_ref(out, inp, w, NULL, &d);
    for (int i = 0; i < 9; i++) assert_float_equal(out[i], want[i], 1e-6);
    free(scratch);
}

/* The checker itself must reject a wrong gradient. */
static void test_gradcheck_detects_error(void **state) {
    (void)state;
    conv_case cc = {"meta", 1, 2, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
    conv_ctx c = {.d = conv_case_dims(&cc)};
    uint64_t rng = 7;
    c.nin = 50, c.nw = 36, c.nout = 50;
    c.inp = gc_alloc(c.nin), c.w = gc_alloc(c.nw), c.b = gc_alloc(2), c.out = gc_alloc(c.nout);
    c.r = gc_alloc(c.nout), c.ns = train_conv2d_scratch_floats(&c.d);
    c.scratch = gc_alloc(c.ns);
    gc_fill(c.inp, c.nin, -1, 1, &rng), gc_fill(c.w, c.nw, -1, 1, &rng);
    gc_fill(c.r, c.nout, -1, 1, &rng);
    float *dw = gc_alloc(c.nw);
    train_conv2d_backward(NULL, dw, NULL, c.r, c.inp, c.w, &c.d, c.scratch, c.ns);
    assert_int_equal(gc_check("w", conv_loss, &c, c.w, dw, c.nw, 1e-2f, 1e-2, 1e-3, 36, NULL), 0);
    dw[5] *= 1.1f;
    dw[5] += 0.1f;
    assert_true(gc_check("w", conv_loss, &c, c.w, dw, c.nw, 1e-2f, 1e-2, 1e-3, 36, NULL) >= 1);
    free(dw), free(c.inp), free(c.w), free(c.b), free(c.out), free(c.r), free(c.scratch);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_out_size),
        cmocka_unit_test(test_conv_same),
        cmocka_unit_test(test_conv_same_hand),
        cmocka_unit_test(test_conv_cases),
        cmocka_unit_test(test_conv_threads),
        cmocka_unit_test(test_conv_threads_raised),
        cmocka_unit_test(test_gradcheck_detects_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
