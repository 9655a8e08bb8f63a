/* Symmetric per-output-channel weight fake quantizer, single and mixed
 * precision (MixPrec), and its integer export. Formulas, rounding and the
 * straight-through rule for the 0-bit term are in ops.h.
 *
 * Weights are small next to activations (a few 10^4 values per layer), so
 * these run on one thread. The fast path works channel by channel with
 * max|W| found once and each precision's scale, clip and coefficient
 * hoisted out of vectorized loops (the file is built with
 * -fno-trapping-math so that truncf vectorizes; results are the same), and
 * sums dθ with fq_dot_lanes; _ref loops precisions outermost over the
 * whole tensor, recomputing each channel's max, and sums serially. Each
 * element of W~ and dW sees the same float operations in the same order in
 * both, so they agree exactly; dθ agrees to rounding. Terms whose Q_p is 0
 * (0 bits, a zero channel) are skipped in both. */
#include "common.h"
#include "fq_internal.h"
#include "ops.h"

/* Per-channel constants of one precision; s == 0 means Q = 0 (0 bits, a
 * zero channel, or a max so small that max / n underflows). */
typedef struct {
    float s, qmax;
} wq_chan;

static float chan_maxabs(const float *w, int len) {
    float m = 0.0f;
    for (int i = 0; i < len; i++) {
        float a = fabsf(w[i]);
        m = a > m ? a : m;
    }
    return m;
}

static wq_chan chan_consts(float maxabs, int bits) {
    wq_chan k = {0.0f, 0.0f};
    if (bits == 0) return k;
    k.s = train_wq_scale(maxabs, bits);
    k.qmax = (float)((1 << (bits - 1)) - 1);
    return k;
}

/* Q_p of one weight. */
static inline float wq_value(float w, wq_chan k) {
    return k.s > 0.0f ? train_wq_level(w, k.s, k.qmax) * k.s : 0.0f;
}

static void check_bits(int bits) {
    DNAS_ASSERT(bits == 0 || (bits >= 2 && bits <= TRAIN_FQ_MAX_BITS));
}

static void check_dims(const train_wq_dims *d) {
    DNAS_ASSERT(d->cout >= 0 && d->len >= 0);
    DNAS_ASSERT(d->prec.nprec >= 1 && d->prec.nprec <= TRAIN_FQ_MAX_PREC);
    for (int p = 0; p < d->prec.nprec; p++) check_bits(d->prec.bits[p]);
}

void train_wq_forward(float *out, const float *w, int cout, int len, int bits) {
    check_bits(bits);
    for (int c = 0; c < cout; c++) {
        // w, out (Cout, len)
        const float *wc = w + (size_t)c * len;
        float *oc = out + (size_t)c * len;
        wq_chan k = chan_consts(chan_maxabs(wc, len), bits);
        for (int i = 0; i < len; i++) oc[i] = wq_value(wc[i], k);
    }
}

/* Forward: Q(W); straight-through: dQ/dW taken as 1. */
void train_wq_backward(float *dw, const float *dout, size_t count) {
    train_accumulate(dw, dout, count);
}

void train_wq_export(int32_t *q, float *scale, const float *w, int cout, int len, int bits) {
    check_bits(bits);
    for (int c = 0; c < cout; c++) {
        const float *wc = w + (size_t)c * len;
        int32_t *qc = q + (size_t)c * len;
        wq_chan k = chan_consts(chan_maxabs(wc, len), bits);
        scale[c] = k.s;
        for (int i = 0; i < len; i++) {
            float l = k.s > 0.0f ? train_wq_level(wc[i], k.s, k.qmax) : 0.0f;
            DNAS_ASSERT(l == l);  // a NaN weight has no integer level
            qc[i] = (int32_t)l;
        }
    }
}

/* ---- mixed precision ---- */

/* Per-channel constants of every precision for a channel's max|W|. */
static void chan_consts_all(wq_chan *k, float maxabs, const train_wq_dims *d) {
    for (int p = 0; p < d->prec.nprec; p++) k[p] = chan_consts(maxabs, d->prec.bits[p]);
}

void train_wq_mix_forward(float *out, const float *w, const float *theta, const train_wq_dims *d) {
    check_dims(d);
    int np = d->prec.nprec, tstride = d->theta_per_channel ? np : 0, len = d->len;
    for (int c = 0; c < d->cout; c++) {
        // w, out (Cout, len); theta (Cout, P) or (P)
        const float *wc = w + (size_t)c * len;
        const float *th = theta + (size_t)c * tstride;
        float *oc = out + (size_t)c * len;
        wq_chan k[TRAIN_FQ_MAX_PREC];
        chan_consts_all(k, chan_maxabs(wc, len), d);
        for (int i = 0; i < len; i++) oc[i] = 0.0f;
        for (int p = 0; p < np; p++) {
            if (k[p].s == 0.0f) continue;  // Q_p = 0: 0 bits or a zero channel
            const float t = th[p], s = k[p].s, qmax = k[p].qmax;
            for (int i = 0; i < len; i++) oc[i] += t * (train_wq_level(wc[i], s, qmax) * s);
        }
    }
}

/* Forward: W~ = Σ_p θ_p·Q_p(W). Derivatives: ∂W~/∂θ_p = Q_p(W) (exact);
 * ∂W~/∂W = Σ_p θ_p, each Q_p straight-through, Q_0 included (ops.h). */
void train_wq_mix_backward(float *dw, float *dtheta, const float *dout, const float *w,
                           const float *theta, const train_wq_dims *d) {
    check_dims(d);
    int np = d->prec.nprec, tstride = d->theta_per_channel ? np : 0, len = d->len;
    float v[FQ_BLOCK];
    for (int c = 0; c < d->cout; c++) {
        const float *wc = w + (size_t)c * len;
        const float *gc = dout + (size_t)c * len;
        const float *th = theta + (size_t)c * tstride;
        if (dw) {
            float tsum = 0.0f;
            for (int p = 0; p < np; p++) tsum += th[p];
            float *dwc = dw + (size_t)c * len;
            for (int i = 0; i < len; i++) dwc[i] += tsum * gc[i];
        }
        if (!dtheta) continue;
        wq_chan k[TRAIN_FQ_MAX_PREC];
        chan_consts_all(k, chan_maxabs(wc, len), d);
        for (int p = 0; p < np; p++) {
            double acc = 0.0;
            const float s = k[p].s, qmax = k[p].qmax;
            for (int b0 = 0; s > 0.0f && b0 < len; b0 += FQ_BLOCK) {
                int m = len - b0 < FQ_BLOCK ? len - b0 : FQ_BLOCK;
                for (int i = 0; i < m; i++) v[i] = train_wq_level(wc[b0 + i], s, qmax) * s;
                acc += fq_dot_lanes(gc + b0, v, (size_t)m);
            }
            dtheta[(size_t)c * tstride + p] += (float)acc;  // Q_p = 0 terms get 0
        }
    }
}

void train_wq_mix_forward_ref(float *out, const float *w, const float *theta,
                              const train_wq_dims *d) {
    check_dims(d);
    int np = d->prec.nprec, tstride = d->theta_per_channel ? np : 0;
    size_t count = (size_t)d->cout * d->len;
    for (size_t i = 0; i < count; i++) out[i] = 0.0f;
    for (int p = 0; p < np; p++) {
        if (d->prec.bits[p] == 0) continue;
        for (int c = 0; c < d->cout; c++) {
            const float *wc = w + (size_t)c * d->len;
            wq_chan k = chan_consts(chan_maxabs(wc, d->len), d->prec.bits[p]);
            if (k.s == 0.0f) continue;
            float th = theta[(size_t)c * tstride + p];
            for (int i = 0; i < d->len; i++) out[(size_t)c * d->len + i] += th * wq_value(wc[i], k);
        }
    }
}

void train_wq_mix_backward_ref(float *dw, float *dtheta, const float *dout, const float *w,
                               const float *theta, const train_wq_dims *d) {
    check_dims(d);
    int np = d->prec.nprec, tstride = d->theta_per_channel ? np : 0;
    for (int c = 0; c < d->cout; c++) {
        const float *wc = w + (size_t)c * d->len;
        const float *gc = dout + (size_t)c * d->len;
        for (int p = 0; p < np; p++) {
            wq_chan k = chan_consts(chan_maxabs(wc, d->len), d->prec.bits[p]);
            double acc = 0.0;
            for (int i = 0; i < d->len; i++)
                if (d->prec.bits[p]) acc += (double)gc[i] * wq_value(wc[i], k);
            if (dtheta) dtheta[(size_t)c * tstride + p] += (float)acc;
        }
        if (dw) {
            float tsum = 0.0f;
            for (int p = 0; p < np; p++) tsum += theta[(size_t)c * tstride + p];
            for (int i = 0; i < d->len; i++) dw[(size_t)c * d->len + i] += tsum * gc[i];
        }
    }
}
