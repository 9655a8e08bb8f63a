/* Fully connected layer via sgemm, row-major float32. */
#include <cblas.h>

#include "ops.h"

void train_linear_forward(float *out, const float *inp, const float *weight,
                          const float *bias, int n, int in_features, int out_features) {
    // out (N,O), inp (N,I), weight (O,I), bias (O)
    float beta = 0.0f;
    if (bias) {
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out_features; o++) out[(size_t)i * out_features + o] = bias[o];
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out_features, in_features, 1.0f, inp,
                in_features, weight, in_features, beta, out, out_features);
}

/* Forward: out = inp · Wᵀ + b. Hence dinp += dout · W (N,O)(O,I),
 * dW += doutᵀ · inp (O,N)(N,I), db += Σ_n dout. */
void train_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                           const float *inp, const float *weight,
                           int n, int in_features, int out_features) {
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in_features, out_features, 1.0f,
                    dout, out_features, weight, in_features, 1.0f, dinp, in_features);
    if (dweight)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_features, in_features, n, 1.0f,
                    dout, out_features, inp, in_features, 1.0f, dweight, in_features);
    if (dbias)
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out_features; o++) dbias[o] += dout[(size_t)i * out_features + o];
}
