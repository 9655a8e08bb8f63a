/* Batch normalization over (N, HW) per channel, tensor (N, C, HW). */
#include <math.h>

#include "ops.h"

void train_bn_forward_train(float *out, float *mean, float *invstd,
                            float *running_mean, float *running_var,
                            const float *inp, const float *gamma, const float *beta,
                            const train_bn_dims *d) {
    const size_t hw = (size_t)d->hw, m = (size_t)d->n * hw;
    for (int c = 0; c < d->c; c++) {
        // two passes in double: mean, then centred sum of squares
        double s = 0.0;
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            for (size_t i = 0; i < hw; i++) s += x[i];
        }
        double mu = s / (double)m, ss = 0.0;
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            for (size_t i = 0; i < hw; i++) {
                double t = x[i] - mu;
                ss += t * t;
            }
        }
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
            for (size_t i = 0; i < hw; i++) y[i] = a * x[i] + b;
        }
    }
}

void train_bn_forward_eval(float *out, const float *inp, const float *gamma,
                           const float *beta, const float *running_mean,
                           const float *running_var, const train_bn_dims *d) {
    const size_t hw = (size_t)d->hw;
    for (int c = 0; c < d->c; c++) {
        float is = 1.0f / sqrtf(running_var[c] + d->eps);
        float a = gamma ? gamma[c] * is : is, b = (beta ? beta[c] : 0.0f) - a * running_mean[c];
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            float *y = out + ((size_t)n * d->c + c) * hw;
            for (size_t i = 0; i < hw; i++) y[i] = a * x[i] + b;
        }
    }
}

/* Forward: xh = (x - μ)·σ⁻¹, y = γ·xh + β, with μ, σ over the M = N·HW values
 * of a channel. dβ = Σ dy, dγ = Σ dy·xh, and through μ and σ:
 *   dx = γ·σ⁻¹/M · (M·dy - Σ dy - xh · Σ dy·xh). */
void train_bn_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                       const float *inp, const float *gamma, const float *mean,
                       const float *invstd, const train_bn_dims *d) {
    const size_t hw = (size_t)d->hw, m = (size_t)d->n * hw;
    for (int c = 0; c < d->c; c++) {
        float mu = mean[c], is = invstd[c];
        double sdy = 0.0, sdyxh = 0.0;
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            const float *dy = dout + ((size_t)n * d->c + c) * hw;
            for (size_t i = 0; i < hw; i++) {
                sdy += dy[i];
                sdyxh += dy[i] * (x[i] - mu) * is;
            }
        }
        if (dbeta) dbeta[c] += (float)sdy;
        if (dgamma) dgamma[c] += (float)sdyxh;
        if (!dinp) continue;
        float k = (gamma ? gamma[c] : 1.0f) * is;
        float mdy = (float)(sdy / (double)m), mdyxh = (float)(sdyxh / (double)m);
        for (int n = 0; n < d->n; n++) {
            const float *x = inp + ((size_t)n * d->c + c) * hw;
            const float *dy = dout + ((size_t)n * d->c + c) * hw;
            float *dx = dinp + ((size_t)n * d->c + c) * hw;
            for (size_t i = 0; i < hw; i++) {
                float xh = (x[i] - mu) * is;
                dx[i] += k * (dy[i] - mdy - xh * mdyxh);
            }
        }
    }
}
