/* Losses: mean softmax cross-entropy and mean squared error. */
#include <math.h>

#include "ops.h"
#include "common.h"

/* Per row: loss = log Σ_j exp(z_j - max) - (z_y - max) (shifted by the max so
 * exp never overflows). d loss / d z_j = softmax_j - [j == y], and the mean
 * over N rows divides by N. */
float train_softmax_xent(float *dlogits, int *correct, const float *logits,
                         const int32_t *labels, int n, int k) {
    double total = 0.0;
    int ok = 0;
    for (int i = 0; i < n; i++) {
        // z (K) logits of row i
        const float *z = logits + (size_t)i * k;
        int y = labels[i], best = 0;
        DNAS_ASSERT(y >= 0 && y < k);
        for (int j = 1; j < k; j++)
            if (z[j] > z[best]) best = j;
        float mx = z[best];
        double s = 0.0;
        for (int j = 0; j < k; j++) s += exp((double)z[j] - mx);
        total += log(s) - ((double)z[y] - mx);
        if (best == y) ok++;
        if (dlogits) {
            float *dz = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++) {
                double pj = exp((double)z[j] - mx) / s;
                dz[j] = (float)((pj - (j == y ? 1.0 : 0.0)) / n);
            }
        }
    }
    if (correct) *correct = ok;
    return (float)(total / n);
}

/* loss = Σ (p - t)² / count, so dp = 2 (p - t) / count. */
float train_mse(float *dpred, const float *pred, const float *target, size_t count) {
    double s = 0.0;
    for (size_t i = 0; i < count; i++) {
        double e = (double)pred[i] - target[i];
        s += e * e;
        if (dpred) dpred[i] = (float)(2.0 * e / (double)count);
    }
    return (float)(s / (double)count);
}
