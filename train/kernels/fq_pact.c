/* PACT activation fake quantizer with a learned clip, single and mixed
 * precision (MixPrec). Formulas, rounding and the clip's lower bound are in
 * ops.h.
 *
 * Fast path: blocks of FQ_BLOCK elements split over threads (large
 * tensors); within a block one vectorized loop per precision. Its sums (dc,
 * dθ) are taken over NCHUNK chunks fixed by the element count alone, each
 * summed block by block with fq_dot_lanes, the chunks added in order: the
 * result does not depend on the thread count. _ref loops precisions
 * outermost over the whole tensor on one thread and sums serially. Per
 * element both do the same float operations in the same order, so outputs
 * and dinp agree exactly; dc and dθ to rounding. */
#include "common.h"
#include "fq_internal.h"
#include "ops.h"

#define PAR_MIN 32768
#define NCHUNK 64

/* Constants of one precision for clip c (after train_pact_clip). */
typedef struct {
    float c, n, inv_step, step;
} pact_k;

static pact_k pact_consts(float c, int bits) {
    DNAS_ASSERT(bits >= 1 && bits <= TRAIN_FQ_MAX_BITS);
    pact_k k;
    k.c = c;
    k.n = (float)((1 << bits) - 1);
    k.inv_step = k.n / c;
    k.step = c / k.n;
    return k;
}

/* PACT_p(x): c exactly at and above the clip, level·c/n below it. */
static inline float pact_value(float x, float c, float inv_step, float step, float n) {
    float l = train_pact_level(x, c, inv_step, n);
    return x >= c ? c : l * step;
}

static void consts_all(pact_k *k, float c, const train_pact_dims *d) {
    DNAS_ASSERT(d->prec.nprec >= 1 && d->prec.nprec <= TRAIN_FQ_MAX_PREC);
    for (int p = 0; p < d->prec.nprec; p++) k[p] = pact_consts(c, d->prec.bits[p]);
}

/* out (m) += th·PACT(x (m)) for one precision. */
static void add_term(float *out, const float *x, size_t m, float th, pact_k k) {
    const float c = k.c, inv = k.inv_step, step = k.step, n = k.n;
    for (size_t i = 0; i < m; i++) out[i] += th * pact_value(x[i], c, inv, step, n);
}

void train_pact_mix_forward(float *out, const float *inp, const float *theta, float c,
                            const train_pact_dims *d) {
    pact_k k[TRAIN_FQ_MAX_PREC];
    consts_all(k, train_pact_clip(c), d);
    int np = d->prec.nprec;
    size_t count = d->count, nblk = (count + FQ_BLOCK - 1) / FQ_BLOCK;
#pragma omp parallel for schedule(static) if (count > PAR_MIN)
    for (size_t b = 0; b < nblk; b++) {
        // inp, out (count): block b
        size_t lo = b * FQ_BLOCK, m = count - lo < FQ_BLOCK ? count - lo : FQ_BLOCK;
        for (size_t i = 0; i < m; i++) out[lo + i] = 0.0f;
        for (int p = 0; p < np; p++) add_term(out + lo, inp + lo, m, theta[p], k[p]);
    }
}

/* Forward: y = Σ_p θ_p·PACT_p(x). Derivatives: ∂y/∂θ_p = PACT_p(x);
 * ∂y/∂x = Σθ on 0 <= x < c, else 0; ∂y/∂c = Σθ on x >= c, else 0 (PACT's
 * straight-through for the levels). */
void train_pact_mix_backward(float *dinp, float *dc, float *dtheta, const float *dout,
                             const float *inp, const float *theta, float c,
                             const train_pact_dims *d) {
    const float cc = train_pact_clip(c);
    pact_k k[TRAIN_FQ_MAX_PREC];
    consts_all(k, cc, d);
    int np = d->prec.nprec;
    float tsum = 0.0f;
    for (int p = 0; p < np; p++) tsum += theta[p];
    size_t count = d->count, chunk = (count + NCHUNK - 1) / NCHUNK;
    // part[ch][p] Σ dy·PACT_p(x), part[ch][P] Σ dy on x >= c, over chunk ch
    double part[NCHUNK][TRAIN_FQ_MAX_PREC + 1];
#pragma omp parallel for schedule(static) if (count > PAR_MIN)
    for (int ch = 0; ch < NCHUNK; ch++) {
        size_t lo = (size_t)ch * chunk, hi = lo + chunk < count ? lo + chunk : count;
        double a[TRAIN_FQ_MAX_PREC + 1] = {0};
        float v[FQ_BLOCK];
        for (size_t b0 = lo; b0 < hi; b0 += FQ_BLOCK) {
            size_t m = hi - b0 < FQ_BLOCK ? hi - b0 : FQ_BLOCK;
            const float *x = inp + b0, *g = dout + b0;
            for (size_t i = 0; i < m; i++) v[i] = x[i] >= cc ? 1.0f : 0.0f;
            a[np] += fq_dot_lanes(g, v, m);
            if (dinp)
                for (size_t i = 0; i < m; i++)
                    dinp[b0 + i] += x[i] >= 0.0f && x[i] < cc ? tsum * g[i] : 0.0f;
            for (int p = 0; dtheta && p < np; p++) {
                const float inv = k[p].inv_step, step = k[p].step, n = k[p].n;
                for (size_t i = 0; i < m; i++) v[i] = pact_value(x[i], cc, inv, step, n);
                a[p] += fq_dot_lanes(g, v, m);
            }
        }
        for (int p = 0; p <= np; p++) part[ch][p] = a[p];
    }
    double s[TRAIN_FQ_MAX_PREC + 1] = {0};
    for (int ch = 0; ch < NCHUNK; ch++)
        for (int p = 0; p <= np; p++) s[p] += part[ch][p];
    if (dc) *dc += (float)((double)tsum * s[np]);
    if (dtheta)
        for (int p = 0; p < np; p++) dtheta[p] += (float)s[p];
}

void train_pact_mix_forward_ref(float *out, const float *inp, const float *theta, float c,
                                const train_pact_dims *d) {
    pact_k k[TRAIN_FQ_MAX_PREC];
    consts_all(k, train_pact_clip(c), d);
    for (size_t i = 0; i < d->count; i++) out[i] = 0.0f;
    for (int p = 0; p < d->prec.nprec; p++)
        for (size_t i = 0; i < d->count; i++)
            out[i] += theta[p] * pact_value(inp[i], k[p].c, k[p].inv_step, k[p].step, k[p].n);
}

void train_pact_mix_backward_ref(float *dinp, float *dc, float *dtheta, const float *dout,
                                 const float *inp, const float *theta, float c,
                                 const train_pact_dims *d) {
    float cc = train_pact_clip(c);
    pact_k k[TRAIN_FQ_MAX_PREC];
    consts_all(k, cc, d);
    float tsum = 0.0f;
    for (int p = 0; p < d->prec.nprec; p++) tsum += theta[p];
    double sc = 0.0;
    for (size_t i = 0; i < d->count; i++) {
        if (inp[i] >= cc) sc += dout[i];
        if (dinp) dinp[i] += inp[i] >= 0.0f && inp[i] < cc ? tsum * dout[i] : 0.0f;
    }
    if (dc) *dc += (float)((double)tsum * sc);
    for (int p = 0; dtheta && p < d->prec.nprec; p++) {
        double s = 0.0;
        for (size_t i = 0; i < d->count; i++)
            s += (double)dout[i] * pact_value(inp[i], cc, k[p].inv_step, k[p].step, k[p].n);
        dtheta[p] += (float)s;
    }
}

/* Single precision: the mixed form with one precision and θ = 1 (1·v and
 * 0 + v are exact, so this is PACT_p itself). */
void train_pact_forward(float *out, const float *inp, size_t count, int bits, float c) {
    train_pact_dims d = {.count = count, .prec = {.nprec = 1, .bits = {bits}}};
    const float one = 1.0f;
    train_pact_mix_forward(out, inp, &one, c, &d);
}

/* The gradients do not depend on the bits: dx += dy on 0 <= x < c, dc += Σ dy on x >= c. */
void train_pact_backward(float *dinp, float *dc, const float *dout, const float *inp, size_t count,
                         float c) {
    train_pact_dims d = {.count = count, .prec = {.nprec = 1, .bits = {8}}};
    const float one = 1.0f;
    train_pact_mix_backward(dinp, dc, NULL, dout, inp, &one, c, &d);
}
