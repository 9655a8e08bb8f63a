/* Elementwise add, gradient accumulation, channel concat and dropout. */
#include <string.h>

#include "ops.h"

#define PAR_MIN 32768

void train_add_forward(float *out, const float *a, const float *b, size_t count) {
#pragma omp parallel for simd schedule(static) if (count > PAR_MIN)
    for (size_t i = 0; i < count; i++) out[i] = a[i] + b[i];
}

void train_accumulate(float *dx, const float *dout, size_t count) {
#pragma omp parallel for simd schedule(static) if (count > PAR_MIN)
    for (size_t i = 0; i < count; i++) dx[i] += dout[i];
}

void train_concat_forward(float *out, const float *const *inps, const int *channels, int k,
                          int n, int hw) {
    // inps[j] (N, C_j, HW) -> out (N, ΣC_j, HW)
    int ctot = 0;
    for (int j = 0; j < k; j++) ctot += channels[j];
    for (int s = 0; s < n; s++) {
        float *o = out + (size_t)s * ctot * hw;
        for (int j = 0; j < k; j++) {
            size_t len = (size_t)channels[j] * hw;
            memcpy(o, inps[j] + (size_t)s * len, sizeof(float) * len);
            o += len;
        }
    }
}

/* Forward copies channel blocks; backward adds the same blocks of dout back. */
void train_concat_backward(float *const *dinps, const float *dout, const int *channels, int k,
                           int n, int hw) {
    int ctot = 0;
    for (int j = 0; j < k; j++) ctot += channels[j];
    for (int s = 0; s < n; s++) {
        const float *g = dout + (size_t)s * ctot * hw;
        for (int j = 0; j < k; j++) {
            size_t len = (size_t)channels[j] * hw;
            if (dinps[j]) train_accumulate(dinps[j] + (size_t)s * len, g, len);
            g += len;
        }
    }
}

void train_dropout_forward(float *out, float *mask, const float *inp, size_t count, float p,
                           uint64_t *rng_state) {
    // p >= 1 drops everything (scale would be infinite)
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    for (size_t i = 0; i < count; i++) {
        float m = train_rng_uniform(rng_state) >= p ? scale : 0.0f;
        mask[i] = m;
        out[i] = inp[i] * m;
    }
}

/* Forward: y = x · mask, so dx += dy · mask. */
void train_dropout_backward(float *dinp, const float *dout, const float *mask, size_t count) {
    for (size_t i = 0; i < count; i++) dinp[i] += dout[i] * mask[i];
}
