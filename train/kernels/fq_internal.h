/* Private helpers of the fake-quantizer kernels (fq_weight.c, fq_pact.c). */
#ifndef DNAS_TRAIN_FQ_INTERNAL_H
#define DNAS_TRAIN_FQ_INTERNAL_H

#include <stddef.h>

/* Elements per block: the fast paths work block by block so that a block's
 * temporaries stay in L1 and its loops vectorize. */
#define FQ_BLOCK 256
#define FQ_LANES 8

/* Σ a[i]·b[i] in double: FQ_LANES interleaved partial sums (a loop the
 * compiler vectorizes, unlike one serial double sum), then the tail, then
 * the lanes in order. The order depends on n alone. */
static inline double fq_dot_lanes(const float *a, const float *b, size_t n) {
    double lane[FQ_LANES] = {0}, s = 0.0;
    size_t i = 0;
    for (; i + FQ_LANES <= n; i += FQ_LANES)
        for (int j = 0; j < FQ_LANES; j++) lane[j] += (double)a[i + j] * b[i + j];
    for (; i < n; i++) s += (double)a[i] * b[i];
    for (int j = 0; j < FQ_LANES; j++) s += lane[j];
    return s;
}

#endif
