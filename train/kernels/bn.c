/* Batch normalization over (N, HW) per channel, tensor (N, C, HW), alone or
 * fused with a following ReLU / ReLU6 (one pass over memory instead of two).
 * Sums run in float over one (n, c) row (vectorized) and in double across
 * rows, which keeps them accurate for large N·HW. Channels are independent
 * and split across threads. */
#include <math.h>

#include "ops.h"

/* below this many values a loop stays on one thread */
#define PAR_MIN 32768

/* Upper clip of the activation: cap, or +inf for a plain ReLU (cap <= 0),
 * so the element loops below stay branch-free and vectorize. */
static inline float act_hi(float cap) { return cap > 0.0f ? cap : INFINITY; }

/* y = clamp(v, 0, hi) when relu, else v */
static inline float act(float v, int relu, float hi) {
    if (!relu) return v;
    v = v > 0.0f ? v : 0.0f;
    return v < hi ? v : hi;
}

/* dy where the activation passes gradient (0 < y < hi), else 0 */
static inline float act_grad(float dy, float y, int relu, float hi) {
    if (!relu) return dy;
    return ((y > 0.0f) & (y < hi)) ? dy : 0.0f;
}

static inline void bn_forward_train(float *out, float *mean, float *invstd, float *running_mean,
                                    float *running_var, const float *inp, const float *gamma,
                                    const float *beta, const train_bn_dims *d, int relu, float cap) {
    const size_t hw = (size_t)d->hw, m = (size_t)d->n * hw;
    const float hi = act_hi(cap);
#pragma omp parallel for schedule(static) if (m * d->c > PAR_MIN)
    for (int c = 0; c < d->c; c++) {
        /* one pass: sums of x - s and (x - s)² with a shift s (the channel's
         * first value) so the variance does not cancel catastrophically */
        const float shift = inp[(size_t)c * hw];
        double s1 = 0.0, s2 = 0.0;
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
            for (size_t i = 0; i < hw; i++) {
                float t = x[i] - shift;
                a += t;
                b += t * t;
            }
            s1 += a;
            s2 += b;
        }
        double dm = s1 / (double)m, ss = s2 - s1 * dm; /* Σ (x - μ)² */
        if (ss < 0) ss = 0;
        double mu = shift + dm, var = ss / (double)m;
        float is = (float)(1.0 / sqrt(var + d->eps));
        mean[c] = (float)mu;
        invstd[c] = is;
        if (running_mean)
            running_mean[c] = (1.0f - d->momentum) * running_mean[c] + d->momentum * (float)mu;
        if (running_var) {
            double unbiased = m > 1 ? ss / (double)(m - 1) : var;
            running_var[c] = (1.0f - d->momentum) * running_var[c] + d->momentum * (float)unbiased;
        }
        float ga = gamma ? gamma[c] * is : is, gb = (beta ? beta[c] : 0.0f) - ga * (float)mu;
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            float *y = out + ((size_t)n * d->c + c) * hw;
#pragma omp simd
            for (size_t i = 0; i < hw; i++) y[i] = act(ga * x[i] + gb, relu, hi);
        }
    }
}

static inline void bn_forward_eval(float *out, const float *inp, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, const train_bn_dims *d, int relu,
                                   float cap) {
    const size_t hw = (size_t)d->hw;
    const float hi = act_hi(cap);
#pragma omp parallel for schedule(static) if (hw * d->n * d->c > PAR_MIN)
    for (int c = 0; c < d->c; c++) {
        float is = 1.0f / sqrtf(running_var[c] + d->eps);
        float a = gamma ? gamma[c] * is : is, b = (beta ? beta[c] : 0.0f) - a * running_mean[c];
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            float *y = out + ((size_t)n * d->c + c) * hw;
#pragma omp simd
            for (size_t i = 0; i < hw; i++) y[i] = act(a * x[i] + b, relu, hi);
        }
    }
}

/* Forward: xh = (x - μ)·σ⁻¹, z = γ·xh + β, y = act(z), with μ, σ over the
 * M = N·HW values of a channel. With g = dL/dz = act'(y)·dy:
 * dβ = Σ g, dγ = Σ g·xh, and through μ and σ:
 *   dx = γ·σ⁻¹/M · (M·g - Σ g - xh · Σ g·xh).
 * Σ g·xh = σ⁻¹·(Σ g·x - μ·Σ g), so one pass gives both sums. `y` is the
 * activation's output (its mask); unused without activation. */
static inline void bn_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                               const float *y, const float *inp, const float *gamma,
                               const float *mean, const float *invstd, const train_bn_dims *d,
                               int relu, float cap) {
    const size_t hw = (size_t)d->hw, m = (size_t)d->n * hw;
    const float hi = act_hi(cap);
#pragma omp parallel for schedule(static) if (m * d->c > PAR_MIN)
    for (int c = 0; c < d->c; c++) {
        float mu = mean[c], is = invstd[c];
        double sg = 0.0, sgxc = 0.0;
        for (int n = 0; n < d->n; n++) {
            size_t o = ((size_t)n * d->c + c) * hw;
            const float *x = inp + o, *dy = dout + o, *yy = relu ? y + o : dout + o;
            float a = 0.0f, b = 0.0f;
#pragma omp simd reduction(+ : a, b)
            for (size_t i = 0; i < hw; i++) {
                float g = act_grad(dy[i], yy[i], relu, hi);
                a += g;
                b += g * (x[i] - mu);
            }
            sg += a;
            sgxc += b;
        }
        double sgxh = sgxc * is;
        if (dbeta) dbeta[c] += (float)sg;
        if (dgamma) dgamma[c] += (float)sgxh;
        if (!dinp) continue;
        /* dx = k·g - k·mean(g) - k·mean(g·xh)·σ⁻¹·(x - μ) = k·g + (p·x + q) */
        float k = (gamma ? gamma[c] : 1.0f) * is;
        float mg = (float)(sg / (double)m), mgxh = (float)(sgxh / (double)m);
        float p = -k * mgxh * is, q = -k * mg + k * mgxh * is * mu;
        for (int n = 0; n < d->n; n++) {
            size_t o = ((size_t)n * d->c + c) * hw;
            const float *x = inp + o, *dy = dout + o, *yy = relu ? y + o : dout + o;
            float *dx = dinp + o;
#pragma omp simd
            for (size_t i = 0; i < hw; i++) dx[i] += k * act_grad(dy[i], yy[i], relu, hi) + p * x[i] + q;
        }
    }
}

void train_bn_forward_train(float *out, float *mean, float *invstd, float *running_mean,
                            float *running_var, const float *inp, const float *gamma,
                            const float *beta, const train_bn_dims *d) {
    bn_forward_train(out, mean, invstd, running_mean, running_var, inp, gamma, beta, d, 0, 0.0f);
}

void train_bn_forward_eval(float *out, const float *inp, const float *gamma, const float *beta,
                           const float *running_mean, const float *running_var,
                           const train_bn_dims *d) {
    bn_forward_eval(out, inp, gamma, beta, running_mean, running_var, d, 0, 0.0f);
}

void train_bn_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                       const float *inp, const float *gamma, const float *mean,
                       const float *invstd, const train_bn_dims *d) {
    bn_backward(dinp, dgamma, dbeta, dout, NULL, inp, gamma, mean, invstd, d, 0, 0.0f);
}

void train_bn_relu_forward_train(float *out, float *mean, float *invstd, float *running_mean,
                                 float *running_var, const float *inp, const float *gamma,
                                 const float *beta, float cap, const train_bn_dims *d) {
    bn_forward_train(out, mean, invstd, running_mean, running_var, inp, gamma, beta, d, 1, cap);
}

void train_bn_relu_forward_eval(float *out, const float *inp, const float *gamma,
                                const float *beta, const float *running_mean,
                                const float *running_var, float cap, const train_bn_dims *d) {
    bn_forward_eval(out, inp, gamma, beta, running_mean, running_var, d, 1, cap);
}

void train_bn_relu_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                            const float *out, const float *inp, const float *gamma,
                            const float *mean, const float *invstd, float cap,
                            const train_bn_dims *d) {
    bn_backward(dinp, dgamma, dbeta, dout, out, inp, gamma, mean, invstd, d, 1, cap);
}
