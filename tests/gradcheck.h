/* Test helpers: random fills and a central finite-difference gradient check.
 * Included by the cmocka tests after <cmocka.h>; header-only (static). */
#ifndef DNAS_TESTS_GRADCHECK_H
#define DNAS_TESTS_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

static inline float *gc_alloc(size_t count) {
    float *p = calloc(count ? count : 1, sizeof(float));
    assert_non_null(p);
    return p;
}

static inline void gc_fill(float *x, size_t count, float lo, float hi, uint64_t *rng) {
    for (size_t i = 0; i < count; i++) x[i] = lo + (hi - lo) * train_rng_uniform(rng);
}

/* Σ r·out in double: the scalar loss whose gradient wrt out is r. */
static inline double gc_dot(const float *out, const float *r, size_t count) {
    double s = 0.0;
    for (size_t i = 0; i < count; i++) s += (double)out[i] * r[i];
    return s;
}

static inline float gc_max_abs_diff(const float *a, const float *b, size_t count) {
    float m = 0.0f;
    for (size_t i = 0; i < count; i++) m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}

static inline float gc_max_abs(const float *a, size_t count) {
    float m = 0.0f;
    for (size_t i = 0; i < count; i++) m = fmaxf(m, fabsf(a[i]));
    return m;
}

typedef double (*gc_loss_fn)(void *ctx);
typedef int (*gc_skip_fn)(void *ctx, size_t i);

/* Compares grad[i] with (L(x+eps e_i) - L(x-eps e_i)) / 2eps for up to
 * max_checks indices spread over x (restored afterwards). An index fails if
 * |num - ana| > rtol·max(|num|, |ana|) + atol. Returns the number of failures
 * (printing each); indices where skip() is true are not checked. */
static inline int gc_check(const char *what, gc_loss_fn loss, void *ctx, float *x,
                           const float *grad, size_t count, float eps, double rtol, double atol,
                           int max_checks, gc_skip_fn skip_fn) {
    size_t step = count > (size_t)max_checks ? count / (size_t)max_checks : 1;
    int fails = 0, checked = 0;
    for (size_t i = 0; i < count && checked < max_checks; i += step) {
        if (skip_fn && skip_fn(ctx, i)) continue;
        float x0 = x[i];
        x[i] = x0 + eps;
        double lp = loss(ctx);
        x[i] = x0 - eps;
        double lm = loss(ctx);
        x[i] = x0;
        double num = (lp - lm) / (2.0 * (double)eps), ana = grad[i];
        double tol = rtol * fmax(fabs(num), fabs(ana)) + atol;
        if (fabs(num - ana) > tol) {
            if (fails < 5)
                fprintf(stderr, "gradcheck %s[%zu]: numeric %.6g analytic %.6g\n", what, i, num,
                        ana);
            fails++;
        }
        checked++;
    }
    assert_true(checked > 0);
    return fails;
}

#endif
