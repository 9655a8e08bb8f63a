/* ReLU and capped ReLU (ReLU6) over flat buffers, split across threads
 * for large buffers. */
#include "ops.h"

#define PAR_MIN 32768

void train_relu_forward(float *out, const float *inp, size_t count, float cap) {
    if (cap > 0.0f) {
#pragma omp parallel for simd schedule(static) if (count > PAR_MIN)
        for (size_t i = 0; i < count; i++) {
            float x = inp[i] > 0.0f ? inp[i] : 0.0f;
            out[i] = x < cap ? x : cap;
        }
    } else {
#pragma omp parallel for simd schedule(static) if (count > PAR_MIN)
        for (size_t i = 0; i < count; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
    }
}

/* Forward: y = clamp(x, 0, cap). dy/dx = 1 on the open interval (0, cap), else 0. */
void train_relu_backward(float *dinp, const float *dout, const float *inp, size_t count,
                         float cap) {
    if (cap > 0.0f) {
#pragma omp parallel for simd schedule(static) if (count > PAR_MIN)
        for (size_t i = 0; i < count; i++)
            dinp[i] += (inp[i] > 0.0f && inp[i] < cap) ? dout[i] : 0.0f;
    } else {
#pragma omp parallel for simd schedule(static) if (count > PAR_MIN)
        for (size_t i = 0; i < count; i++) dinp[i] += inp[i] > 0.0f ? dout[i] : 0.0f;
    }
}
