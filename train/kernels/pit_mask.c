/* PIT mask helpers: keep-alive, binarization, receptive-field and dilation
 * combinations, the effective kernel size and the time mask on 1-D conv
 * weights. Tap order and the kept-alive elements are described in ops.h. */
#include <math.h>

#include "common.h"
#include "ops.h"

int train_pit_dil_len(int k) {
    DNAS_ASSERT(k >= 1 && k <= (1 << 30));
    int l = 0;
    while ((1 << l) < k) l++;  // ceil(log2 k)
    return l > 1 ? l : 1;
}

int train_pit_dil_terms(int i, int l) {
    int n = 0;
    for (int p = 0; p < l; p++) n += i % (1 << p) == 0;
    return n;
}

void train_pit_keepalive_forward(float *out, const float *mask, int n, int keep) {
    for (int i = 0; i < n; i++) out[i] = i == keep ? 1.0f : fabsf(mask[i]);
}

/* Forward: a' = |a|·(1-ka) + ka. Derivative: sign(a)·(1-ka). */
void train_pit_keepalive_backward(float *dmask, const float *dout, const float *mask, int n,
                                  int keep) {
    for (int i = 0; i < n; i++) {
        if (i == keep) continue;
        float a = mask[i];
        dmask[i] += a > 0.0f ? dout[i] : (a < 0.0f ? -dout[i] : 0.0f);
    }
}

void train_pit_binarize_forward(float *out, const float *t, size_t count) {
    for (size_t i = 0; i < count; i++) out[i] = t[i] > TRAIN_PIT_THRESHOLD ? 1.0f : 0.0f;
}

/* Forward: H(t) = 1[t > 0.5]; backward straight-through (identity). */
void train_pit_binarize_backward(float *dt, const float *dout, size_t count) {
    train_accumulate(dt, dout, count);
}

void train_pit_rf_forward(float *tb, const float *b, int k) {
    // tb[i] = b[i] + tb[i+1]: a suffix sum from the oldest tap
    float s = 0.0f;
    for (int i = k - 1; i >= 0; i--) tb[i] = (s += b[i]);
}

/* Forward: tb[i] = Σ_{j >= i} b_j, so ∂tb[i]/∂b_j = 1[i <= j]: db_j += Σ_{i <= j} dtb[i]. */
void train_pit_rf_backward(float *db, const float *dtb, int k) {
    float s = 0.0f;
    for (int j = 0; j < k; j++) db[j] += (s += dtb[j]);
}

void train_pit_dil_forward(float *tg, const float *g, int k) {
    int l = train_pit_dil_len(k);
    for (int i = 0; i < k; i++) {
        float s = 0.0f;
        for (int p = 0; p < l; p++)
            if (i % (1 << p) == 0) s += g[p];
        tg[i] = s;
    }
}

/* Forward: tg[i] = Σ_p 1[i mod 2^p == 0]·g_p, so dg_p += Σ_{i : i mod 2^p == 0} dtg[i]. */
void train_pit_dil_backward(float *dg, const float *dtg, int k) {
    int l = train_pit_dil_len(k);
    for (int p = 0; p < l; p++) {
        float s = 0.0f;
        for (int i = 0; i < k; i += 1 << p) s += dtg[i];
        dg[p] += s;
    }
}

float train_pit_keff(const float *tb, const float *tg, int k) {
    int l = train_pit_dil_len(k);
    double s = 0.0;
    for (int i = 0; i < k; i++)
        s += (double)tb[i] * tg[i] / ((double)(k - i) * train_pit_dil_terms(i, l));
    return (float)s;
}

/* Forward: K_eff = Σ_i tb[i]·tg[i]·w_i with w_i = 1/((K-i)·n_g(i)), bilinear:
 * ∂/∂tb[i] = tg[i]·w_i, ∂/∂tg[i] = tb[i]·w_i. */
void train_pit_keff_backward(float *dtb, float *dtg, float dkeff, const float *tb, const float *tg,
                             int k) {
    int l = train_pit_dil_len(k);
    for (int i = 0; i < k; i++) {
        double w = (double)dkeff / ((double)(k - i) * train_pit_dil_terms(i, l));
        if (dtb) dtb[i] += (float)(tg[i] * w);
        if (dtg) dtg[i] += (float)(tb[i] * w);
    }
}

void train_pit_tap_mask_forward(float *out, const float *w, const float *m, int rows, int k) {
    for (int r = 0; r < rows; r++)
        // w, out (rows, K) in kw order; m (K) in tap order
        for (int kw = 0; kw < k; kw++)
            out[(size_t)r * k + kw] = w[(size_t)r * k + kw] * m[k - 1 - kw];
}

/* Forward: out[r][kw] = w[r][kw]·m[K-1-kw]. dw += dout·m; dm[K-1-kw] += Σ_r dout·w. */
void train_pit_tap_mask_backward(float *dw, float *dm, const float *dout, const float *w,
                                 const float *m, int rows, int k) {
    for (int kw = 0; kw < k; kw++) {
        double s = 0.0;
        for (int r = 0; r < rows; r++) {
            size_t at = (size_t)r * k + kw;
            if (dw) dw[at] += dout[at] * m[k - 1 - kw];
            s += (double)dout[at] * w[at];
        }
        if (dm) dm[k - 1 - kw] += (float)s;
    }
}
