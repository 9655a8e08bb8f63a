/* Non-convolution kernels: linear, batchnorm, relu/relu6, pooling, add,
 * concat, mix, dropout, losses, rng. Values against hand computations, backward
 * against central finite differences (eps 1e-2, rtol 1e-2, atol 1e-3) of
 * loss = Σ r·out with fixed random r; inputs are placed away from kinks
 * (relu at 0 and 6, max-pool ties). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <omp.h>

#include "gradcheck.h"
#include "ops.h"

#define EPS 1e-2f
#define RTOL 1e-2
#define ATOL 1e-3
#define CHECKS 40

/* ---- linear ---- */

typedef struct {
    int n, i, o;
    float *inp, *w, *b, *out, *r;
} lin_ctx;

static double lin_loss(void *p) {
    lin_ctx *c = p;
    train_linear_forward(c->out, c->inp, c->w, c->b, c->n, c->i, c->o);
    return gc_dot(c->out, c->r, (size_t)c->n * c->o);
}

static void test_linear(void **state) {
    (void)state;
    uint64_t rng = 1;
    lin_ctx c = {.n = 3, .i = 5, .o = 4};
    size_t ni = 15, nw = 20, no = 12;
    c.inp = gc_alloc(ni), c.w = gc_alloc(nw), c.b = gc_alloc(4), c.out = gc_alloc(no);
    c.r = gc_alloc(no);
    gc_fill(c.inp, ni, -1, 1, &rng), gc_fill(c.w, nw, -1, 1, &rng);
    gc_fill(c.b, 4, -1, 1, &rng), gc_fill(c.r, no, -1, 1, &rng);
    lin_loss(&c);
    for (int s = 0; s < c.n; s++)
        for (int o = 0; o < c.o; o++) {
            double want = c.b[o];
            for (int k = 0; k < c.i; k++) want += c.inp[s * c.i + k] * c.w[o * c.i + k];
            assert_float_equal(c.out[s * c.o + o], want, 1e-5);
        }
    float *di = gc_alloc(ni), *dw = gc_alloc(nw), *db = gc_alloc(4);
    train_linear_backward(di, dw, db, c.r, c.inp, c.w, c.n, c.i, c.o);
    int f = gc_check("lin inp", lin_loss, &c, c.inp, di, ni, EPS, RTOL, ATOL, CHECKS, NULL);
    f += gc_check("lin w", lin_loss, &c, c.w, dw, nw, EPS, RTOL, ATOL, CHECKS, NULL);
    f += gc_check("lin b", lin_loss, &c, c.b, db, 4, EPS, RTOL, ATOL, CHECKS, NULL);
    assert_int_equal(f, 0);
    // backward accumulates: a second call doubles the gradients
    float w0 = dw[3], b0 = db[1];
    train_linear_backward(NULL, dw, db, c.r, c.inp, c.w, c.n, c.i, c.o);
    assert_float_equal(dw[3], 2 * w0, 1e-5);
    assert_float_equal(db[1], 2 * b0, 1e-5);
    // no bias
    train_linear_forward(c.out, c.inp, c.w, NULL, c.n, c.i, c.o);
    double want = 0;
    for (int k = 0; k < c.i; k++) want += c.inp[k] * c.w[k];
    assert_float_equal(c.out[0], want, 1e-5);
    free(c.inp), free(c.w), free(c.b), free(c.out), free(c.r), free(di), free(dw), free(db);
}

/* ---- batchnorm ---- */

typedef struct {
    train_bn_dims d;
    float *inp, *g, *b, *out, *r, *mean, *invstd, *rm, *rv;
} bn_ctx;

static double bn_loss(void *p) {
    bn_ctx *c = p;
    train_bn_forward_train(c->out, c->mean, c->invstd, NULL, NULL, c->inp, c->g, c->b, &c->d);
    return gc_dot(c->out, c->r, (size_t)c->d.n * c->d.c * c->d.hw);
}

static void test_bn(void **state) {
    (void)state;
    uint64_t rng = 2;
    bn_ctx c = {.d = {.n = 3, .c = 2, .hw = 5, .eps = 1e-5f, .momentum = 0.1f}};
    size_t cnt = 30;
    c.inp = gc_alloc(cnt), c.out = gc_alloc(cnt), c.r = gc_alloc(cnt);
    c.g = gc_alloc(2), c.b = gc_alloc(2), c.mean = gc_alloc(2), c.invstd = gc_alloc(2);
    c.rm = gc_alloc(2), c.rv = gc_alloc(2);
    gc_fill(c.inp, cnt, -2, 3, &rng), gc_fill(c.r, cnt, -1, 1, &rng);
    c.g[0] = 1.5f, c.g[1] = -0.7f, c.b[0] = 0.3f, c.b[1] = -1.0f;
    c.rv[0] = c.rv[1] = 1.0f;
    train_bn_forward_train(c.out, c.mean, c.invstd, c.rm, c.rv, c.inp, c.g, c.b, &c.d);
    for (int ch = 0; ch < 2; ch++) {
        double s = 0, ss = 0, os = 0, oss = 0;
        for (int n = 0; n < 3; n++)
            for (int i = 0; i < 5; i++) {
                double x = c.inp[(n * 2 + ch) * 5 + i], y = c.out[(n * 2 + ch) * 5 + i];
                s += x, ss += x * x, os += y, oss += y * y;
            }
        double mu = s / 15, var = ss / 15 - mu * mu, omu = os / 15, ovar = oss / 15 - omu * omu;
        assert_float_equal(c.mean[ch], mu, 1e-5);
        assert_float_equal(c.invstd[ch], 1 / sqrt(var + 1e-5), 1e-4);
        assert_float_equal(omu, c.b[ch], 1e-4);                                 // mean -> beta
        assert_float_equal(ovar, c.g[ch] * c.g[ch] * var / (var + 1e-5), 1e-4);  // var -> γ²
        // running stats from (0, 1): 0.1·batch mean, 0.9 + 0.1·unbiased var
        assert_float_equal(c.rm[ch], 0.1 * mu, 1e-5);
        assert_float_equal(c.rv[ch], 0.9 + 0.1 * var * 15 / 14, 1e-5);
    }
    // eval mode uses the running statistics (index 12: n 1, channel 0)
    c.rm[0] = 0.5f, c.rv[0] = 4.0f;
    train_bn_forward_eval(c.out, c.inp, c.g, c.b, c.rm, c.rv, &c.d);
    assert_float_equal(c.out[12], 1.5f * (c.inp[12] - 0.5f) / sqrtf(4.0f + 1e-5f) + 0.3f, 1e-5);
    // train backward vs finite differences
    float *di = gc_alloc(cnt), *dg = gc_alloc(2), *db = gc_alloc(2);
    bn_loss(&c);
    train_bn_backward(di, dg, db, c.r, c.inp, c.g, c.mean, c.invstd, &c.d);
    int f = gc_check("bn inp", bn_loss, &c, c.inp, di, cnt, EPS, RTOL, ATOL, CHECKS, NULL);
    f += gc_check("bn gamma", bn_loss, &c, c.g, dg, 2, EPS, RTOL, ATOL, CHECKS, NULL);
    f += gc_check("bn beta", bn_loss, &c, c.b, db, 2, EPS, RTOL, ATOL, CHECKS, NULL);
    assert_int_equal(f, 0);
    free(c.inp), free(c.out), free(c.r), free(c.g), free(c.b), free(c.mean), free(c.invstd);
    free(c.rm), free(c.rv), free(di), free(dg), free(db);
}

/* ---- relu / relu6 ---- */

typedef struct {
    float *inp, *out, *r;
    size_t n;
    float cap;
} act_ctx;

static double act_loss(void *p) {
    act_ctx *c = p;
    train_relu_forward(c->out, c->inp, c->n, c->cap);
    return gc_dot(c->out, c->r, c->n);
}

/* Non-smooth points: within 2·eps of 0 or of the cap. */
static int act_skip(void *p, size_t i) {
    act_ctx *c = p;
    float x = c->inp[i];
    return fabsf(x) < 2 * EPS || (c->cap > 0 && fabsf(x - c->cap) < 2 * EPS);
}

static void test_relu(void **state) {
    (void)state;
    const float x[5] = {-1.0f, 0.5f, 5.0f, 7.0f, 0.0f};
    float y[5];
    train_relu_forward(y, x, 5, 0.0f);
    assert_float_equal(y[0], 0, 0), assert_float_equal(y[3], 7, 0);
    train_relu_forward(y, x, 5, 6.0f);
    assert_float_equal(y[2], 5, 0), assert_float_equal(y[3], 6, 0), assert_float_equal(y[4], 0, 0);
    uint64_t rng = 3;
    for (int k = 0; k < 2; k++) {
        act_ctx c = {.n = 64, .cap = k ? 6.0f : 0.0f};
        c.inp = gc_alloc(c.n), c.out = gc_alloc(c.n), c.r = gc_alloc(c.n);
        gc_fill(c.inp, c.n, -3, 9, &rng), gc_fill(c.r, c.n, -1, 1, &rng);
        float *di = gc_alloc(c.n);
        train_relu_backward(di, c.r, c.inp, c.n, c.cap);
        assert_int_equal(gc_check("relu", act_loss, &c, c.inp, di, c.n, EPS, RTOL, ATOL, 64,
                                  act_skip), 0);
        free(c.inp), free(c.out), free(c.r), free(di);
    }
}

/* ---- pooling ---- */

typedef struct {
    train_pool_dims d;
    int kind;  /* 0 max, 1 avg, 2 global avg */
    float *inp, *out, *r;
    int32_t *am;
} pool_ctx;

static size_t pool_out_count(const pool_ctx *c) {
    return c->kind == 2 ? (size_t)c->d.n * c->d.c
                        : (size_t)c->d.n * c->d.c * c->d.hout * c->d.wout;
}

static double pool_loss(void *p) {
    pool_ctx *c = p;
    if (c->kind == 0) train_maxpool_forward(c->out, c->am, c->inp, &c->d);
    if (c->kind == 1) train_avgpool_forward(c->out, c->inp, &c->d);
    if (c->kind == 2) train_gavgpool_forward(c->out, c->inp, c->d.n, c->d.c, c->d.hin * c->d.win);
    return gc_dot(c->out, c->r, pool_out_count(c));
}

static void test_pool_hand(void **state) {
    (void)state;
    // 1x1x3x3 input 1..9, kernel 2, stride 2, pad 1 top/left -> 2x2 output
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    train_pool_dims d = {.n = 1, .c = 1, .hin = 3, .win = 3, .hout = 2, .wout = 2,
                         .kh = 2, .kw = 2, .sh = 2, .sw = 2, .pt = 1, .pl = 1};
    float y[4];
    int32_t am[4];
    train_maxpool_forward(y, am, x, &d);
    const float wmax[4] = {1, 3, 7, 9};
    const int32_t wam[4] = {0, 2, 6, 8};
    for (int i = 0; i < 4; i++) assert_float_equal(y[i], wmax[i], 0), assert_int_equal(am[i], wam[i]);
    train_avgpool_forward(y, x, &d);  // padded cells excluded from the count
    const float wavg[4] = {1, 2.5f, 5.5f, 7};
    for (int i = 0; i < 4; i++) assert_float_equal(y[i], wavg[i], 1e-6);
    float dx[9] = {0}, dy[4] = {1, 1, 1, 1};
    train_avgpool_backward(dx, dy, &d);
    assert_float_equal(dx[0], 1, 1e-6), assert_float_equal(dx[4], 0.25f, 1e-6);
    train_gavgpool_forward(y, x, 1, 1, 9);
    assert_float_equal(y[0], 5, 1e-6);
}

static void test_pool_grad(void **state) {
    (void)state;
    uint64_t rng = 4;
    for (int kind = 0; kind < 3; kind++) {
        // 3x3 stride 2, pad 1, on 7x6: the last column window is cut by the implied pad
        pool_ctx c = {.kind = kind, .d = {.n = 2, .c = 2, .hin = 7, .win = 6, .hout = 4,
                                          .wout = 3, .kh = 3, .kw = 3, .sh = 2, .sw = 2,
                                          .pt = 1, .pl = 1}};
        size_t ni = 2 * 2 * 7 * 6, no = pool_out_count(&c);
        c.inp = gc_alloc(ni), c.out = gc_alloc(no), c.r = gc_alloc(no);
        c.am = calloc(no, sizeof(int32_t));
        // distinct values 0.05 apart (shuffled): ±eps never changes a max
        for (size_t i = 0; i < ni; i++) c.inp[i] = 0.05f * (float)i - 2.0f;
        for (size_t i = ni - 1; i > 0; i--) {
            size_t j = train_rng_next(&rng) % (i + 1);
            float t = c.inp[i];
            c.inp[i] = c.inp[j], c.inp[j] = t;
        }
        gc_fill(c.r, no, -1, 1, &rng);
        pool_loss(&c);
        float *di = gc_alloc(ni);
        if (kind == 0) train_maxpool_backward(di, c.r, c.am, &c.d);
        if (kind == 1) train_avgpool_backward(di, c.r, &c.d);
        if (kind == 2) train_gavgpool_backward(di, c.r, 2, 2, 42);
        assert_int_equal(gc_check("pool", pool_loss, &c, c.inp, di, ni, EPS, RTOL, ATOL, 84,
                                  NULL), 0);
        free(c.inp), free(c.out), free(c.r), free(c.am), free(di);
    }
}

/* ---- add, concat, dropout ---- */

static void test_add_concat(void **state) {
    (void)state;
    const float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40};
    float o[4], g[4] = {1, 1, 1, 1};
    train_add_forward(o, a, b, 4);
    assert_float_equal(o[3], 44, 0);
    train_accumulate(g, a, 4);  // backward of add: dout added into each input
    assert_float_equal(g[2], 4, 0);
    // concat of (N=2, 1, HW=2) and (2, 2, 2) -> (2, 3, 2)
    const float p[4] = {1, 2, 3, 4}, q[8] = {5, 6, 7, 8, 9, 10, 11, 12};
    const float *inps[2] = {p, q};
    const int ch[2] = {1, 2};
    float out[12];
    train_concat_forward(out, inps, ch, 2, 2, 2);
    const float want[12] = {1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12};
    for (int i = 0; i < 12; i++) assert_float_equal(out[i], want[i], 0);
    float dp[4] = {1, 1, 1, 1}, dq[8] = {0};
    float *dinps[2] = {dp, dq};
    train_concat_backward(dinps, want, ch, 2, 2, 2);
    assert_float_equal(dp[2], 4, 0), assert_float_equal(dq[7], 12, 0), assert_float_equal(dq[0], 5, 0);
    float *dinps_null[2] = {NULL, dq};  // NULL gradient skipped
    train_concat_backward(dinps_null, want, ch, 2, 2, 2);
    assert_float_equal(dq[0], 10, 0);
}

/* ---- mix: out = Σ_j c_j·x_j ---- */

typedef struct {
    size_t count;
    float *x[3], *coef, *out, *r;
} mix_ctx;

static double mix_loss(void *p) {
    mix_ctx *c = p;
    train_mix_forward(c->out, (const float *const *)c->x, c->coef, 3, c->count);
    return gc_dot(c->out, c->r, c->count);
}

static void test_mix(void **state) {
    (void)state;
    const float a[2] = {1, 2}, b[2] = {10, 20}, coef[2] = {0.5f, -2.0f};
    const float *ab[2] = {a, b};
    float o[2], da[2] = {1, 1}, dc[2] = {100, 0}, g[2] = {1, 3};
    train_mix_forward(o, ab, coef, 2, 2);
    assert_float_equal(o[0], -19.5f, 0), assert_float_equal(o[1], -39.0f, 0);
    float *dab[2] = {da, NULL}; /* NULL gradient skipped */
    train_mix_backward(dab, dc, g, ab, coef, 2, 2);
    assert_float_equal(da[0], 1.5f, 0), assert_float_equal(da[1], 2.5f, 0);
    assert_float_equal(dc[0], 100 + 7, 0), assert_float_equal(dc[1], 70, 0);
    /* finite differences, on a tensor large enough to be split over threads */
    uint64_t rng = 17;
    mix_ctx c = {.count = 40000};
    float coefs[3] = {0.7f, -0.4f, 1.3f};
    c.coef = coefs;
    float *dx[3];
    for (int j = 0; j < 3; j++) {
        c.x[j] = gc_alloc(c.count);
        dx[j] = gc_alloc(c.count);
        gc_fill(c.x[j], c.count, -2, 2, &rng);
    }
    c.out = gc_alloc(c.count);
    c.r = gc_alloc(c.count);
    gc_fill(c.r, c.count, -1, 1, &rng);
    float dcoef[3] = {0}, dcoef1[3] = {0};
    train_mix_backward(dx, dcoef, c.r, (const float *const *)c.x, coefs, 3, c.count);
    for (int j = 0; j < 3; j++)
        assert_int_equal(gc_check("mix x", mix_loss, &c, c.x[j], dx[j], c.count, EPS, RTOL, ATOL, CHECKS, NULL),
                         0);
    assert_int_equal(gc_check("mix coef", mix_loss, &c, coefs, dcoef, 3, EPS, RTOL, ATOL, 3, NULL), 0);
    /* the coefficient sums do not depend on the thread count */
    int prev = omp_get_max_threads();
    omp_set_num_threads(prev > 1 ? 1 : 3);
    train_mix_backward((float *const[3]){NULL, NULL, NULL}, dcoef1, c.r, (const float *const *)c.x, coefs, 3,
                       c.count);
    omp_set_num_threads(prev);
    assert_memory_equal(dcoef, dcoef1, sizeof dcoef);
    for (int j = 0; j < 3; j++) {
        free(c.x[j]);
        free(dx[j]);
    }
    free(c.out);
    free(c.r);
}

static void test_dropout(void **state) {
    (void)state;
    size_t n = 100000;
    float *x = gc_alloc(n), *y = gc_alloc(n), *m = gc_alloc(n), *dx = gc_alloc(n);
    uint64_t rng = 5;
    gc_fill(x, n, -1, 1, &rng);
    float p = 0.3f, scale = 1.0f / 0.7f;
    train_dropout_forward(y, m, x, n, p, &rng);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(m[i] == 0.0f || fabsf(m[i] - scale) < 1e-6f);
        assert_float_equal(y[i], x[i] * m[i], 1e-6);
        kept += m[i] != 0.0f;
    }
    // keep ratio 0.7; binomial sd ≈ 0.0015, allow ~5 sd
    assert_float_equal((double)kept / n, 0.7, 0.0075);
    train_dropout_backward(dx, x, m, n);
    train_dropout_backward(dx, x, m, n);
    for (size_t i = 0; i < n; i += 997) assert_float_equal(dx[i], 2 * x[i] * m[i], 1e-6);
    train_dropout_forward(y, m, x, n, 0.0f, &rng);  // p = 0 is the identity
    for (size_t i = 0; i < n; i += 991) assert_float_equal(y[i], x[i], 0);
    free(x), free(y), free(m), free(dx);
}

/* ---- losses ---- */

typedef struct {
    float *z, *t;
    int32_t *lab;
    int n, k;
} loss_ctx;

static double xent_loss(void *p) {
    loss_ctx *c = p;
    return train_softmax_xent(NULL, NULL, c->z, c->lab, c->n, c->k);
}

static double mse_loss(void *p) {
    loss_ctx *c = p;
    return train_mse(NULL, c->z, c->t, (size_t)c->n * c->k);
}

static void test_softmax_xent(void **state) {
    (void)state;
    // row 0: logits (1,2,3), label 2; row 1: (1000, 0, 0), label 1 (stability)
    float z[6] = {1, 2, 3, 1000, 0, 0}, dz[6];
    int32_t lab[2] = {2, 1};
    int correct = -1;
    float l = train_softmax_xent(dz, &correct, z, lab, 2, 3);
    double s0 = exp(1) + exp(2) + exp(3);
    double want = ((log(s0) - 3) + 1000) / 2;  // row 1: log(1+2e-1000) - (0 - 1000)
    assert_float_equal(l, want, 1e-4);
    assert_int_equal(correct, 1);
    assert_float_equal(dz[0], exp(1) / s0 / 2, 1e-6);
    assert_float_equal(dz[2], (exp(3) / s0 - 1) / 2, 1e-6);
    assert_float_equal(dz[3], 0.5, 1e-6), assert_float_equal(dz[4], -0.5, 1e-6);
    // gradient by finite differences on moderate logits
    uint64_t rng = 6;
    loss_ctx c = {.n = 4, .k = 5};
    c.z = gc_alloc(20), c.lab = calloc(4, sizeof(int32_t));
    float *g = gc_alloc(20);
    gc_fill(c.z, 20, -3, 3, &rng);
    for (int i = 0; i < 4; i++) c.lab[i] = i;
    train_softmax_xent(g, &correct, c.z, c.lab, 4, 5);
    int argmax_ok = 0;
    for (int i = 0; i < 4; i++) {
        int b = 0;
        for (int j = 1; j < 5; j++) b = c.z[i * 5 + j] > c.z[i * 5 + b] ? j : b;
        argmax_ok += b == i;
    }
    assert_int_equal(correct, argmax_ok);
    assert_int_equal(gc_check("xent", xent_loss, &c, c.z, g, 20, EPS, RTOL, ATOL, 20, NULL), 0);
    free(c.z), free(c.lab), free(g);
}

static void test_mse(void **state) {
    (void)state;
    float p[3] = {1, 2, 4}, t[3] = {0, 2, 1}, d[3];
    assert_float_equal(train_mse(d, p, t, 3), 10.0 / 3, 1e-6);
    assert_float_equal(d[0], 2.0 / 3, 1e-6), assert_float_equal(d[2], 2.0, 1e-6);
    uint64_t rng = 8;
    loss_ctx c = {.n = 3, .k = 4};
    c.z = gc_alloc(12), c.t = gc_alloc(12);
    float *g = gc_alloc(12);
    gc_fill(c.z, 12, -2, 2, &rng), gc_fill(c.t, 12, -2, 2, &rng);
    train_mse(g, c.z, c.t, 12);
    assert_int_equal(gc_check("mse", mse_loss, &c, c.z, g, 12, EPS, RTOL, ATOL, 12, NULL), 0);
    free(c.z), free(c.t), free(g);
}

static void test_rng(void **state) {
    (void)state;
    uint64_t a = 42, b = 42;
    for (int i = 0; i < 10; i++) assert_true(train_rng_next(&a) == train_rng_next(&b));
    double su = 0, sn = 0, sn2 = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        float u = train_rng_uniform(&a);
        assert_true(u >= 0.0f && u < 1.0f);
        su += u;
        double z = train_rng_normal(&b);
        assert_true(isfinite(z));
        sn += z, sn2 += z * z;
    }
    assert_float_equal(su / n, 0.5, 0.005);
    assert_float_equal(sn / n, 0.0, 0.01);
    assert_float_equal(sn2 / n, 1.0, 0.02);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),       cmocka_unit_test(test_bn),
        cmocka_unit_test(test_relu),         cmocka_unit_test(test_pool_hand),
        cmocka_unit_test(test_pool_grad),    cmocka_unit_test(test_add_concat),
        cmocka_unit_test(test_mix),
        cmocka_unit_test(test_dropout),      cmocka_unit_test(test_softmax_xent),
        cmocka_unit_test(test_mse),          cmocka_unit_test(test_rng),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
