/* Fake quantizers: symmetric per-channel weights and PACT activations, single
 * and mixed precision. Hand-computed values at 2/4/8 bits (scales chosen so
 * W/s and x·n/c are exact, making ties real ties), integer export against
 * the fake quantizer, rounding independent of the FPU mode, straight-through
 * gradients against their definition, θ and c gradients against central
 * finite differences (θ enters linearly; c only where x is outside (0, c),
 * the one region where PACT's dc is the true derivative), fast against
 * _ref, thread-count independence, and the gradient of pruned channels. */
#include <fenv.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "ops.h"

#define EPS 1e-2f
#define RTOL 1e-3
#define ATOL 1e-4

/* ---- weights: hand values ---- */

typedef struct {
    int bits;
    float w[6], q[6], s;
} wq_case;

static void test_wq_hand(void **state) {
    (void)state;
    const wq_case cases[] = {
        // 2 bits, qmax 1: max 1.5 -> s = 2·1.5/3 = 1; ±0.5 ties go away from zero
        {2, {1.5f, 0.5f, -0.5f, 0.49f, -1.5f, 0.0f}, {1, 1, -1, 0, -1, 0}, 1.0f},
        // 2 bits, max 3 -> s = 2: W/s = 1.5 -> 2 -> clipped to 1, 0.45 -> 0
        {2, {3.0f, 1.0f, -1.0f, 0.9f, -3.0f, -0.2f}, {1, 1, -1, 0, -1, 0}, 2.0f},
        // 4 bits, qmax 7: max 7.5 -> s = 1
        {4, {7.5f, 2.5f, -2.5f, -7.5f, 0.5f, 1.4f}, {7, 3, -3, -7, 1, 1}, 1.0f},
        // 4 bits, max 3.75 -> s = 0.5: W/s = 7.5, -5, 1.5, -0.5, 2.5, 0.8
        {4, {3.75f, -2.5f, 0.75f, -0.25f, 1.25f, 0.4f}, {7, -5, 2, -1, 3, 1}, 0.5f},
        // 8 bits, qmax 127: max 127.5 -> s = 1
        {8, {-127.5f, 126.5f, 0.5f, -0.5f, 3.25f, 100.0f}, {-127, 127, 1, -1, 3, 100}, 1.0f},
        // all-zero channel: 0, no division by zero
        {8, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}, 0.0f},
        // 0 bits: pruned
        {0, {1.0f, -2.0f, 3.0f, 0, 0, 0}, {0, 0, 0, 0, 0, 0}, 0.0f},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const wq_case *c = &cases[k];
        float out[6], s;
        int32_t q[6];
        train_wq_forward(out, c->w, 1, 6, c->bits);
        train_wq_export(q, &s, c->w, 1, 6, c->bits);
        assert_float_equal(s, c->s, 0);
        for (int i = 0; i < 6; i++) {
            assert_int_equal(q[i], (int32_t)c->q[i]);
            assert_float_equal(out[i], c->q[i] * c->s, 0);
            assert_true(out[i] == (float)q[i] * s);  // export == fake quantizer, bit for bit
        }
    }
    // two channels at once: each has its own scale
    const float w2[4] = {1.5f, -0.5f, 3.0f, 1.0f};
    float o2[4], s2[2];
    int32_t q2[4];
    train_wq_forward(o2, w2, 2, 2, 2);
    train_wq_export(q2, s2, w2, 2, 2, 2);
    assert_float_equal(s2[0], 1, 0), assert_float_equal(s2[1], 2, 0);
    assert_float_equal(o2[1], -1, 0), assert_float_equal(o2[3], 2, 0);
    // straight-through backward
    float dw[4] = {1, 1, 1, 1};
    train_wq_backward(dw, w2, 4);
    assert_float_equal(dw[2], 4, 0);
}

/* The helper agrees with roundf (half away from zero) everywhere, and the
 * export gives the same integers under every FPU rounding mode. */
static void test_wq_rounding(void **state) {
    (void)state;
    const float v[] = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f,
                       0.50000006f, 8388609.0f, -8388609.5f, 1e30f, -0.0f, 0.0f, 126.5f};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_true(train_fq_round(v[i]) == roundf(v[i]));
    uint64_t rng = 7;
    for (int i = 0; i < 100000; i++) {
        float x = (train_rng_uniform(&rng) - 0.5f) * 600.0f;
        if (i % 2) x = floorf(x) + 0.5f;  // half of them exact ties
        assert_true(train_fq_round(x) == roundf(x));
    }
    const float w[6] = {1.5f, 0.5f, -0.5f, 1.0f, -1.0f, 0.25f};  // 2 bits: s = 1
    const int32_t want[6] = {1, 1, -1, 1, -1, 0};
    const int modes[4] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    for (int m = 0; m < 4; m++) {
        assert_int_equal(fesetround(modes[m]), 0);
        int32_t q[6];
        float s;
        train_wq_export(q, &s, w, 1, 6, 2);
        fesetround(FE_TONEAREST);
        for (int i = 0; i < 6; i++) assert_int_equal(q[i], want[i]);
    }
}

/* ---- weights: mixed precision ---- */

typedef struct {
    train_wq_dims d;
    float *w, *theta, *out, *r;
} wqm_ctx;

static double wqm_loss(void *p) {
    wqm_ctx *c = p;
    train_wq_mix_forward(c->out, c->w, c->theta, &c->d);
    return gc_dot(c->out, c->r, (size_t)c->d.cout * c->d.len);
}

static void test_wq_mix(void **state) {
    (void)state;
    uint64_t rng = 11;
    for (int per_ch = 0; per_ch < 2; per_ch++) {
        wqm_ctx c = {.d = {.cout = 5, .len = 12, .theta_per_channel = per_ch,
                           .prec = {.nprec = 4, .bits = {0, 2, 4, 8}}}};
        size_t n = 60, nt = per_ch ? 20 : 4;
        c.w = gc_alloc(n), c.out = gc_alloc(n), c.r = gc_alloc(n), c.theta = gc_alloc(nt);
        float *alpha = gc_alloc(nt), *ref = gc_alloc(n);
        gc_fill(c.w, n, -1, 1, &rng), gc_fill(c.r, n, -1, 1, &rng), gc_fill(alpha, nt, -1, 1, &rng);
        for (int i = 24; i < 36; i++) c.w[i] = 0.0f;  // channel 2 all zero
        train_softmax_temp_forward(c.theta, alpha, per_ch ? 5 : 1, 4, 1.0f);
        // fast == _ref: W~ and dW exactly, dθ to the order of its sums
        train_wq_mix_forward(c.out, c.w, c.theta, &c.d);
        train_wq_mix_forward_ref(ref, c.w, c.theta, &c.d);
        assert_memory_equal(c.out, ref, n * sizeof(float));
        float *dw = gc_alloc(n), *dt = gc_alloc(nt), *dw_r = gc_alloc(n), *dt_r = gc_alloc(nt);
        train_wq_mix_backward(dw, dt, c.r, c.w, c.theta, &c.d);
        train_wq_mix_backward_ref(dw_r, dt_r, c.r, c.w, c.theta, &c.d);
        assert_memory_equal(dw, dw_r, n * sizeof(float));
        for (size_t i = 0; i < nt; i++) assert_float_equal(dt[i], dt_r[i], 1e-6);  // sum order
        // forward by definition: Σ_p θ_p Q_p(W), Q_p from the single quantizer
        float *q = gc_alloc(n);
        for (int p = 1; p < 4; p++) {
            train_wq_forward(q, c.w, 5, 12, c.d.prec.bits[p]);
            for (size_t i = 0; i < n; i++) ref[i] = (p == 1 ? 0.0f : ref[i]) +
                                                     c.theta[(i / 12) * (per_ch ? 4 : 0) + p] * q[i];
        }
        assert_memory_equal(c.out, ref, n * sizeof(float));
        // dθ against finite differences (W~ is linear in θ); the 0-bit θ gets 0
        assert_int_equal(gc_check("wq theta", wqm_loss, &c, c.theta, dt, nt, EPS, RTOL, ATOL, 40,
                                  NULL), 0);
        assert_float_equal(dt[0], 0, 0);
        // straight-through dW = (Σ_p θ_p, 0 bits included)·dW~ = dW~ for softmax θ
        for (size_t i = 0; i < n; i++) {
            const float *th = c.theta + (i / 12) * (per_ch ? 4 : 0);
            float ts = ((0.0f + th[0]) + th[1]) + th[2] + th[3];
            assert_true(dw[i] == ts * c.r[i]);
            assert_float_equal(dw[i], c.r[i], 1e-6);
        }
        free(c.w), free(c.out), free(c.r), free(c.theta), free(alpha), free(ref), free(q);
        free(dw), free(dt), free(dw_r), free(dt_r);
    }
}

/* A channel whose θ sits on 0 bits has W~ = 0 and still gets dW = dW~. */
static void test_wq_pruned_grad(void **state) {
    (void)state;
    train_wq_dims d = {.cout = 2, .len = 3, .theta_per_channel = 1,
                       .prec = {.nprec = 3, .bits = {0, 4, 8}}};
    const float w[6] = {0.3f, -0.7f, 0.2f, 0.5f, 0.1f, -0.4f};
    const float theta[6] = {1, 0, 0, 0, 0, 1};  // channel 0 pruned, channel 1 at 8 bits
    const float dout[6] = {0.5f, -1.0f, 2.0f, 1.0f, 1.0f, 1.0f};
    float out[6], dw[6] = {0}, dt[6] = {0};
    train_wq_mix_forward(out, w, theta, &d);
    for (int i = 0; i < 3; i++) assert_float_equal(out[i], 0, 0);
    train_wq_mix_backward(dw, dt, dout, w, theta, &d);
    for (int i = 0; i < 3; i++) {
        assert_true(dw[i] != 0.0f);
        assert_float_equal(dw[i], dout[i], 0);
    }
    // the pruned channel's non-zero precisions see their gradient, so θ can move back
    assert_true(dt[1] != 0.0f && dt[2] != 0.0f);
}

/* ---- PACT ---- */

static void test_pact_hand(void **state) {
    (void)state;
    // 2 bits, c = 3: n = 3, step 1
    const float x2[7] = {-1.0f, 0.0f, 0.999f, 1.0f, 2.5f, 3.0f, 7.0f};
    // (round half up, as the integer requantization: 2.5 -> 3)
    const float y2[7] = {0, 0, 1, 1, 3, 3, 3};
    // 4 bits, c = 7.5: n = 15, step 0.5; 0.25 is a tie between levels 0 and 1: half up -> 1
    const float x4[7] = {-0.1f, 0.25f, 0.5f, 1.3f, 7.49f, 7.5f, 100.0f};
    const float y4[7] = {0, 0.5f, 0.5f, 1.5f, 7.5f, 7.5f, 7.5f};
    // 8 bits, c = 255/64: step 1/64; x = 1 + 1/128 is level 64.5: half up -> 65
    const float x8[7] = {-5.0f, 1.0f, 1.0078125f, 0.015625f, 3.96875f, 3.984375f, 4.0f};
    const float y8[7] = {0, 1.0f, 1.015625f, 0.015625f, 3.96875f, 3.984375f, 3.984375f};
    const struct {
        int bits;
        float c;
        const float *x, *y;
    } cases[3] = {{2, 3.0f, x2, y2}, {4, 7.5f, x4, y4}, {8, 3.984375f, x8, y8}};
    for (int k = 0; k < 3; k++) {
        float y[7];
        train_pact_forward(y, cases[k].x, 7, cases[k].bits, cases[k].c);
        for (int i = 0; i < 7; i++) assert_float_equal(y[i], cases[k].y[i], 0);
    }
    // x exactly at an inexact c gives c exactly, at every precision
    const float c = 6.1f, xc[2] = {6.1f, nextafterf(6.1f, 0.0f)};
    for (int b = 1; b <= 16; b++) {
        float y[2];
        train_pact_forward(y, xc, 2, b, c);
        assert_true(y[0] == c);
        assert_true(y[1] <= c);
    }
    // against the literal formula in double, away from level boundaries
    uint64_t rng = 5;
    for (int i = 0; i < 20000; i++) {
        float x = train_rng_uniform(&rng) * 7.0f - 0.5f, y;
        int b = 1 + (int)(train_rng_next(&rng) % 16);
        double n = (double)((1 << b) - 1), v = fmin(fmax(x, 0.0), c) * n / c;
        if (x < c && fabs(v - floor(v) - 0.5) < 3e-7 * v + 1e-6) continue;  // ties: float rounding
        train_pact_forward(&y, &x, 1, b, c);
        assert_float_equal(y, fmin(floor(v + 0.5), n) * c / n, 1e-6 * c);
    }
    // c below the minimum acts as TRAIN_PACT_CLIP_MIN; NaN c propagates
    float y, xs = 0.5f, nan_c = nanf("");
    train_pact_forward(&y, &xs, 1, 8, -1.0f);
    assert_float_equal(y, TRAIN_PACT_CLIP_MIN, 0);
    train_pact_forward(&y, &xs, 1, 8, nan_c);
    assert_true(isnan(y));
}

typedef struct {
    train_pact_dims d;
    float *x, *theta, *out, *r, c;
} pact_ctx;

static double pact_loss(void *p) {
    pact_ctx *c = p;
    train_pact_mix_forward(c->out, c->x, c->theta, c->c, &c->d);
    return gc_dot(c->out, c->r, c->d.count);
}

static void test_pact_grad(void **state) {
    (void)state;
    uint64_t rng = 9;
    pact_ctx c = {.d = {.count = 200, .prec = {.nprec = 3, .bits = {2, 4, 8}}}, .c = 4.0f};
    size_t n = c.d.count;
    c.x = gc_alloc(n), c.out = gc_alloc(n), c.r = gc_alloc(n), c.theta = gc_alloc(3);
    gc_fill(c.x, n, -2, 6, &rng), gc_fill(c.r, n, -1, 1, &rng);
    c.x[0] = 4.0f, c.x[1] = 0.0f;  // exactly at c (no dx, dc) and at 0 (dx)
    const float alpha[3] = {0.2f, -0.4f, 0.9f};
    train_softmax_temp_forward(c.theta, alpha, 1, 3, 1.0f);
    float *dx = gc_alloc(n), dc = 0, dt[3] = {0};
    train_pact_mix_backward(dx, &dc, dt, c.r, c.x, c.theta, c.c, &c.d);
    // straight-through parts against their definition
    float ts = (0.0f + c.theta[0] + c.theta[1]) + c.theta[2];
    double want_dc = 0;
    for (size_t i = 0; i < n; i++) {
        int pass = c.x[i] >= 0.0f && c.x[i] < c.c;
        assert_true(dx[i] == (pass ? ts * c.r[i] : 0.0f));
        if (c.x[i] >= c.c) want_dc += c.r[i];
    }
    assert_true(dx[1] != 0 && dx[0] == 0);
    assert_float_equal(dc, ts * want_dc, 1e-5);
    // dθ: y is linear in θ
    assert_int_equal(gc_check("pact theta", pact_loss, &c, c.theta, dt, 3, EPS, RTOL, ATOL, 3,
                              NULL), 0);
    // dc: finite differences where it is the true derivative, x outside (0, c)
    for (size_t i = 0; i < n; i++)
        if (c.x[i] > 0 && c.x[i] < c.c + 2 * EPS) c.x[i] = i % 2 ? -c.x[i] : c.x[i] + c.c + 0.1f;
    dc = 0;
    train_pact_mix_backward(NULL, &dc, NULL, c.r, c.x, c.theta, c.c, &c.d);
    assert_int_equal(gc_check("pact c", pact_loss, &c, &c.c, &dc, 1, EPS, RTOL, ATOL, 1, NULL), 0);
    free(c.x), free(c.out), free(c.r), free(c.theta), free(dx);
}

/* Fast against _ref on a tensor large enough for threads; sums independent
 * of the thread count. */
static void test_pact_fast_ref(void **state) {
    (void)state;
    uint64_t rng = 13;
    train_pact_dims d = {.count = 100003, .prec = {.nprec = 3, .bits = {2, 4, 8}}};
    size_t n = d.count;
    float *x = gc_alloc(n), *g = gc_alloc(n), *y = gc_alloc(n), *y_r = gc_alloc(n);
    float *dx = gc_alloc(n), *dx_r = gc_alloc(n), theta[3] = {0.2f, 0.3f, 0.5f}, c = 5.0f;
    gc_fill(x, n, -2, 7, &rng), gc_fill(g, n, -1, 1, &rng);
    train_pact_mix_forward(y, x, theta, c, &d);
    train_pact_mix_forward_ref(y_r, x, theta, c, &d);
    assert_memory_equal(y, y_r, n * sizeof(float));
    float dc = 0, dc_r = 0, dt[3] = {0}, dt_r[3] = {0};
    train_pact_mix_backward(dx, &dc, dt, g, x, theta, c, &d);
    train_pact_mix_backward_ref(dx_r, &dc_r, dt_r, g, x, theta, c, &d);
    assert_memory_equal(dx, dx_r, n * sizeof(float));
    assert_float_equal(dc, dc_r, 1e-5 * fabsf(dc_r) + 1e-6);
    for (int p = 0; p < 3; p++) assert_float_equal(dt[p], dt_r[p], 1e-5 * fabsf(dt_r[p]) + 1e-6);
    const int prev = omp_get_max_threads();
    float dc1 = 0, dt1[3] = {0}, dc2 = 0, dt2[3] = {0};
    omp_set_num_threads(1);
    train_pact_mix_backward(NULL, &dc1, dt1, g, x, theta, c, &d);
    omp_set_num_threads(3);
    train_pact_mix_backward(NULL, &dc2, dt2, g, x, theta, c, &d);
    omp_set_num_threads(prev);
    assert_true(dc1 == dc && dc2 == dc);
    assert_memory_equal(dt1, dt, sizeof dt), assert_memory_equal(dt2, dt, sizeof dt);
    // the single-precision form is the mixed one with θ = 1
    const float one = 1.0f;
    train_pact_dims d1 = {.count = n, .prec = {.nprec = 1, .bits = {4}}};
    train_pact_forward(y, x, n, 4, c);
    train_pact_mix_forward_ref(y_r, x, &one, c, &d1);
    assert_memory_equal(y, y_r, n * sizeof(float));
    free(x), free(g), free(y), free(y_r), free(dx), free(dx_r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wq_hand),       cmocka_unit_test(test_wq_rounding),
        cmocka_unit_test(test_wq_mix),        cmocka_unit_test(test_wq_pruned_grad),
        cmocka_unit_test(test_pact_hand),     cmocka_unit_test(test_pact_grad),
        cmocka_unit_test(test_pact_fast_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
