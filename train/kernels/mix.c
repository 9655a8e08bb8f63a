/* Weighted sum of inputs (SuperNet choice blocks). Elements split over
 * threads for large tensors; the coefficient gradients go through fixed
 * chunks (as fq_pact.c does), so they do not depend on the thread count. */
#include "ops.h"

#define PAR_MIN 32768
#define NCHUNK 64

void train_mix_forward(float *out, const float *const *inps, const float *coef, int k, size_t count) {
    // inps[j], out (count)
    const float c0 = coef[0], *x0 = inps[0];
#pragma omp parallel for simd schedule(static) if (count > PAR_MIN)
    for (size_t i = 0; i < count; i++) out[i] = c0 * x0[i];
    for (int j = 1; j < k; j++) {
        const float c = coef[j], *x = inps[j];
#pragma omp parallel for simd schedule(static) if (count > PAR_MIN)
        for (size_t i = 0; i < count; i++) out[i] += c * x[i];
    }
}

/* Forward: y = Σ_j c_j·x_j. Derivatives: ∂y/∂x_j = c_j, ∂y/∂c_j = x_j. */
void train_mix_backward(float *const *dinps, float *dcoef, const float *dout, const float *const *inps,
                        const float *coef, int k, size_t count) {
    for (int j = 0; j < k; j++) {
        float *dx = dinps[j];
        const float c = coef[j];
        if (dx) {
#pragma omp parallel for simd schedule(static) if (count > PAR_MIN)
            for (size_t i = 0; i < count; i++) dx[i] += c * dout[i];
        }
        if (!dcoef) continue;
        const float *x = inps[j];
        size_t chunk = (count + NCHUNK - 1) / NCHUNK;
        double part[NCHUNK];
#pragma omp parallel for schedule(static) if (count > PAR_MIN)
        for (int ch = 0; ch < NCHUNK; ch++) {
            size_t lo = (size_t)ch * chunk, hi = lo + chunk < count ? lo + chunk : count;
            double s = 0.0;
            for (size_t i = lo; i < hi; i++) s += (double)dout[i] * x[i];
            part[ch] = s;
        }
        double s = 0.0;
        for (int ch = 0; ch < NCHUNK; ch++) s += part[ch];
        dcoef[j] += (float)s;
    }
}
