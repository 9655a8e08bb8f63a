/* Softmax with temperature over architecture logits (rows of P), its
 * Gumbel-softmax and hard straight-through variants. Rows are a handful of
 * values (one per precision or branch), so plain loops. */
#include <math.h>

#include "common.h"
#include "ops.h"

/* theta (P) = softmax(z (P) / temp), shifted by the max so exp never overflows. */
static void softmax_row(float *theta, const double *z, int p, float temp) {
    double mx = z[0];
    for (int j = 1; j < p; j++) mx = z[j] > mx ? z[j] : mx;
    double s = 0.0, e[64];
    for (int j = 0; j < p; j++) s += (e[j] = exp((z[j] - mx) / temp));
    for (int j = 0; j < p; j++) theta[j] = (float)(e[j] / s);
}

static void check(int rows, int p, float temp) {
    DNAS_ASSERT(rows >= 0 && p >= 1 && p <= 64);
    DNAS_ASSERT(temp > 0.0f);
}

void train_softmax_temp_forward(float *theta, const float *alpha, int rows, int p, float temp) {
    check(rows, p, temp);
    double z[64];
    for (int r = 0; r < rows; r++) {
        // alpha, theta (rows, P)
        for (int j = 0; j < p; j++) z[j] = alpha[(size_t)r * p + j];
        softmax_row(theta + (size_t)r * p, z, p, temp);
    }
}

/* Forward: θ_j = exp(α_j/T) / Σ_k exp(α_k/T). Derivative:
 * ∂θ_k/∂α_j = θ_k (δ_kj - θ_j) / T, so dα_j = θ_j (dθ_j - Σ_k θ_k dθ_k) / T. */
void train_softmax_temp_backward(float *dalpha, const float *dtheta, const float *theta, int rows,
                                 int p, float temp) {
    check(rows, p, temp);
    for (int r = 0; r < rows; r++) {
        const float *th = theta + (size_t)r * p, *dth = dtheta + (size_t)r * p;
        double dot = 0.0;
        for (int k = 0; k < p; k++) dot += (double)th[k] * dth[k];
        for (int j = 0; j < p; j++)
            dalpha[(size_t)r * p + j] += (float)(th[j] * (dth[j] - dot) / temp);
    }
}

void train_gumbel_softmax_forward(float *theta, float *noise, const float *alpha, int rows, int p,
                                  float temp, uint64_t *rng_state) {
    check(rows, p, temp);
    double z[64];
    for (int r = 0; r < rows; r++) {
        for (int j = 0; j < p; j++) {
            // u in [2^-25, 1 - 2^-25]: both logs finite, G in about [-2.9, 17.3]
            double u = (double)train_rng_uniform(rng_state) + 0x1p-25;
            double g = -log(-log(u));
            if (noise) noise[(size_t)r * p + j] = (float)g;
            z[j] = alpha[(size_t)r * p + j] + g;
        }
        softmax_row(theta + (size_t)r * p, z, p, temp);
    }
}

void train_softmax_hard_forward(float *hard, const float *soft, int rows, int p) {
    DNAS_ASSERT(rows >= 0 && p >= 1);
    for (int r = 0; r < rows; r++) {
        const float *s = soft + (size_t)r * p;
        int best = 0;
        for (int j = 1; j < p; j++)
            if (s[j] > s[best]) best = j;
        for (int j = 0; j < p; j++) hard[(size_t)r * p + j] = j == best ? 1.0f : 0.0f;
    }
}
