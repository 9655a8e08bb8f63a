/* Batch normalization over (N, HW) per channel, tensor (N, C, HW).
 * Sums run in float over one (n, c) row (vectorized) and in double across
 * rows, which keeps them accurate for large N·HW. Channels are independent
 * and split across threads. */
#include <math.h>

#include "ops.h"

/* below this many values a loop stays on one thread */
#define PAR_MIN 32768

static float row_sum(const float *x, size_t len) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (size_t i = 0; i < len; i++) s += x[i];
    return s;
}

static float row_centred_sq(const float *x, size_t len, float mu) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (size_t i = 0; i < len; i++) {
        float t = x[i] - mu;
        s += t * t;
    }
    return s;
}

void train_bn_forward_train(float *out, float *mean, float *invstd,
                            float *running_mean, float *running_var,
                            const float *inp, const float *gamma, const float *beta,
                            const train_bn_dims *d) {
    const size_t hw = (size_t)d->hw, m = (size_t)d->n * hw;
#pragma omp parallel for schedule(static) if (m * d->c > PAR_MIN)
    for (int c = 0; c < d->c; c++) {
        // two passes: mean, then centred sum of squares
        double s = 0.0;
        for (int n = 0; n < d->n; n++) s += row_sum(inp + ((size_t)n * d->c + c) * hw, hw);
        double mu = s / (double)m, ss = 0.0;
        for (int n = 0; n < d->n; n++) ss += row_centred_sq(inp + ((size_t)n * d->c + c) * hw, hw, (float)mu);
        double var = ss / (double)m;
        float is = (float)(1.0 / sqrt(var + d->eps));
        mean[c] = (float)mu;
        invstd[c] = is;
        if (running_mean)
            running_mean[c] = (1.0f - d->momentum) * running_mean[c] + d->momentum * (float)mu;
        if (running_var) {
            double unbiased = m > 1 ? ss / (double)(m - 1) : var;
            running_var[c] = (1.0f - d->momentum) * running_var[c] + d->momentum * (float)unbiased;
        }
        float a = gamma ? gamma[c] * is : is, b = (beta ? beta[c] : 0.0f) - a * (float)mu;
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            float *y = out + ((size_t)n * d->c + c) * hw;
#pragma omp simd
            for (size_t i = 0; i < hw; i++) y[i] = a * x[i] + b;
        }
    }
}

void train_bn_forward_eval(float *out, const float *inp, const float *gamma,
                           const float *beta, const float *running_mean,
                           const float *running_var, const train_bn_dims *d) {
    const size_t hw = (size_t)d->hw;
#pragma omp parallel for schedule(static) if (hw * d->n * d->c > PAR_MIN)
    for (int c = 0; c < d->c; c++) {
        float is = 1.0f / sqrtf(running_var[c] + d->eps);
        float a = gamma ? gamma[c] * is : is, b = (beta ? beta[c] : 0.0f) - a * running_mean[c];
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            float *y = out + ((size_t)n * d->c + c) * hw;
#pragma omp simd
            for (size_t i = 0; i < hw; i++) y[i] = a * x[i] + b;
        }
    }
}

/* Forward: xh = (x - μ)·σ⁻¹, y = γ·xh + β, with μ, σ over the M = N·HW values
 * of a channel. dβ = Σ dy, dγ = Σ dy·xh, and through μ and σ:
 *   dx = γ·σ⁻¹/M · (M·dy - Σ dy - xh · Σ dy·xh).
 * Σ dy·xh = σ⁻¹·(Σ dy·x - μ·Σ dy), so one pass gives both sums. */
void train_bn_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                       const float *inp, const float *gamma, const float *mean,
                       const float *invstd, const train_bn_dims *d) {
    const size_t hw = (size_t)d->hw, m = (size_t)d->n * hw;
#pragma omp parallel for schedule(static) if (m * d->c > PAR_MIN)
    for (int c = 0; c < d->c; c++) {
        float mu = mean[c], is = invstd[c];
        double sdy = 0.0, sdyxc = 0.0;
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            const float *dy = dout + ((size_t)n * d->c + c) * hw;
            float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
            for (size_t i = 0; i < hw; i++) {
                a += dy[i];
                b += dy[i] * (x[i] - mu);
            }
            sdy += a;
            sdyxc += b;
        }
        double sdyxh = sdyxc * is;
        if (dbeta) dbeta[c] += (float)sdy;
        if (dgamma) dgamma[c] += (float)sdyxh;
        if (!dinp) continue;
        /* dx = k·dy - k·mdy - k·mdyxh·is·(x - μ) = k·dy + (p·x + q) */
        float k = (gamma ? gamma[c] : 1.0f) * is;
        float mdy = (float)(sdy / (double)m), mdyxh = (float)(sdyxh / (double)m);
        float p = -k * mdyxh * is, q = -k * mdy + k * mdyxh * is * mu;
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            const float *dy = dout + ((size_t)n * d->c + c) * hw;
            float *dx = dinp + ((size_t)n * d->c + c) * hw;
#pragma omp simd
            for (size_t i = 0; i < hw; i++) dx[i] += k * dy[i] + p * x[i] + q;
        }
    }
}
