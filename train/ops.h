/* Layer kernels of the training engine: forward and backward as free
 * functions over float32 NCHW buffers.
 *
 * Conventions (all kernels):
 * - Argument order: outputs, then what backward needs, then inputs, then a
 *   dims struct. `const` on every input.
 * - Backward ACCUMULATES into every gradient it writes (dinp, dweight, ...);
 *   the caller zeroes them. A NULL gradient pointer means "not needed"
 *   (e.g. dinp of the first layer) and is skipped.
 * - The caller owns all memory. Kernels that need scratch have a
 *   `_scratch_floats()` companion giving the size in floats.
 * - A 1-D convolution is a 2-D one with H = 1, kh = 1.
 * - Naive `_ref` versions are kept next to the fast paths and tests compare
 *   the two.
 */
#ifndef DNAS_TRAIN_OPS_H
#define DNAS_TRAIN_OPS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* ---- convolution ------------------------------------------------------ */

typedef struct {
    int n;                 /* batch */
    int cin, hin, win;     /* input  (N, Cin, Hin, Win) */
    int cout, hout, wout;  /* output (N, Cout, Hout, Wout) */
    int kh, kw;            /* kernel taps */
    int sh, sw;            /* stride */
    int dh, dw;            /* dilation */
    int pt, pl;            /* padding top / left; bottom / right follow from hout, wout */
    int groups;            /* cin and cout divisible by groups; depthwise: groups == cin == cout */
} train_conv_dims;

/* Output size for one axis with explicit symmetric padding p:
 * floor((in + 2p - d(k-1) - 1) / s) + 1. */
int train_conv_out_size(int in, int k, int s, int d, int p);
/* TF "same" padding for one axis: out = ceil(in / s); returns out and writes
 * the leading (top/left) padding; the extra pad goes bottom/right. */
int train_conv_same(int in, int k, int s, int d, int *pad_before);

/* Scratch floats train_conv2d_forward/backward need to run on
 * omp_get_max_threads() threads (as set when this is called). */
size_t train_conv2d_scratch_floats(const train_conv_dims *d);

/* out (N,Cout,Hout,Wout); weight (Cout, Cin/groups, kh, kw); bias (Cout) or NULL.
 * scratch holds scratch_floats floats: the kernels run on as many threads as
 * it has room for (at most omp_get_max_threads()), so a thread count raised
 * after sizing it is safe (only slower); room for less than one thread is a
 * caller bug (assert). */
void train_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                          const train_conv_dims *d, float *scratch, size_t scratch_floats);
/* dinp (N,Cin,Hin,Win) or NULL; dweight like weight; dbias (Cout) or NULL;
 * scratch as for forward. */
void train_conv2d_backward(float *dinp, float *dweight, float *dbias,
                           const float *dout, const float *inp, const float *weight,
                           const train_conv_dims *d, float *scratch, size_t scratch_floats);
void train_conv2d_forward_ref(float *out, const float *inp, const float *weight,
                              const float *bias, const train_conv_dims *d);
void train_conv2d_backward_ref(float *dinp, float *dweight, float *dbias,
                               const float *dout, const float *inp, const float *weight,
                               const train_conv_dims *d);

/* ---- linear ----------------------------------------------------------- */

/* out (N,O) = inp (N,I) · weight(O,I)^T + bias (O) or NULL. */
void train_linear_forward(float *out, const float *inp, const float *weight,
                          const float *bias, int n, int in_features, int out_features);
void train_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                           const float *inp, const float *weight,
                           int n, int in_features, int out_features);

/* ---- batch normalization over (N, H, W) per channel -------------------- */

typedef struct {
    int n, c, hw;          /* tensor (N, C, HW) */
    float eps;             /* e.g. 1e-5 */
    float momentum;        /* running = (1-m)·running + m·batch, e.g. 0.1 */
} train_bn_dims;

/* Training: batch statistics. Writes mean (C) and invstd (C) for backward,
 * updates running_mean / running_var (unbiased batch variance). */
void train_bn_forward_train(float *out, float *mean, float *invstd,
                            float *running_mean, float *running_var,
                            const float *inp, const float *gamma, const float *beta,
                            const train_bn_dims *d);
/* Evaluation: running statistics. */
void train_bn_forward_eval(float *out, const float *inp, const float *gamma,
                           const float *beta, const float *running_mean,
                           const float *running_var, const train_bn_dims *d);
void train_bn_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                       const float *inp, const float *gamma, const float *mean,
                       const float *invstd, const train_bn_dims *d);

/* BatchNorm followed by ReLU (cap as in train_relu_forward) in one pass:
 * out = clamp(bn(inp), 0, cap). The backward takes the gradient of that
 * output and the output itself (whose sign is the ReLU's mask). */
void train_bn_relu_forward_train(float *out, float *mean, float *invstd,
                                 float *running_mean, float *running_var,
                                 const float *inp, const float *gamma, const float *beta,
                                 float cap, const train_bn_dims *d);
void train_bn_relu_forward_eval(float *out, const float *inp, const float *gamma,
                                const float *beta, const float *running_mean,
                                const float *running_var, float cap, const train_bn_dims *d);
void train_bn_relu_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                            const float *out, const float *inp, const float *gamma,
                            const float *mean, const float *invstd, float cap,
                            const train_bn_dims *d);

/* ---- activations (elementwise over count values) ----------------------- */

/* y = min(max(x, 0), cap); cap <= 0 means no upper bound (ReLU), 6 is ReLU6. */
void train_relu_forward(float *out, const float *inp, size_t count, float cap);
/* Derivative 1 where 0 < x < cap (x > 0 without cap); uses the forward input. */
void train_relu_backward(float *dinp, const float *dout, const float *inp, size_t count,
                         float cap);

/* ---- pooling ----------------------------------------------------------- */

typedef struct {
    int n, c;
    int hin, win, hout, wout;
    int kh, kw, sh, sw;
    int pt, pl;            /* padding; padded cells never win a max, and are
                              excluded from the average count */
} train_pool_dims;

/* argmax (N,C,Hout,Wout): flat index into the (Hin*Win) plane of the winner. */
void train_maxpool_forward(float *out, int32_t *argmax, const float *inp,
                           const train_pool_dims *d);
void train_maxpool_backward(float *dinp, const float *dout, const int32_t *argmax,
                            const train_pool_dims *d);
void train_avgpool_forward(float *out, const float *inp, const train_pool_dims *d);
void train_avgpool_backward(float *dinp, const float *dout, const train_pool_dims *d);
/* Global average pool: (N,C,HW) -> (N,C). */
void train_gavgpool_forward(float *out, const float *inp, int n, int c, int hw);
void train_gavgpool_backward(float *dinp, const float *dout, int n, int c, int hw);

/* ---- elementwise and data movement -------------------------------------- */

/* out = a + b over count values. Backward is dout added into both inputs. */
void train_add_forward(float *out, const float *a, const float *b, size_t count);
/* dx += dout over count values (also the backward of identity-like ops). */
void train_accumulate(float *dx, const float *dout, size_t count);

/* Concatenation along channels of k inputs, each (N, C_i, HW), into
 * (N, ΣC_i, HW). Backward splits dout back into the dinps (accumulating). */
void train_concat_forward(float *out, const float *const *inps, const int *channels, int k,
                          int n, int hw);
void train_concat_backward(float *const *dinps, const float *dout, const int *channels, int k,
                           int n, int hw);

/* Weighted sum of k inputs of count values each (a SuperNet choice block):
 * out = Σ_j coef[j]·inps[j], the terms added in j order from coef[0]·inps[0].
 * Backward: dinps[j] += coef[j]·dout (a NULL dinps[j] is skipped) and, when
 * dcoef is non-NULL, dcoef[j] += Σ_i dout_i·inps[j]_i, each sum in double
 * over 64 chunks fixed by count and added in chunk order, so it does not
 * depend on the thread count. */
void train_mix_forward(float *out, const float *const *inps, const float *coef, int k, size_t count);
void train_mix_backward(float *const *dinps, float *dcoef, const float *dout, const float *const *inps,
                        const float *coef, int k, size_t count);

/* Inverted dropout: keep with probability 1-p, scale kept by 1/(1-p).
 * mask (count) receives the scale (0 or 1/(1-p)); rng_state is advanced. */
void train_dropout_forward(float *out, float *mask, const float *inp, size_t count, float p,
                           uint64_t *rng_state);
void train_dropout_backward(float *dinp, const float *dout, const float *mask, size_t count);

/* ---- losses -------------------------------------------------------------- */

/* Mean softmax cross-entropy over N rows of K logits with integer labels.
 * If dlogits is non-NULL it receives (softmax - onehot) / N (overwritten, not
 * accumulated: a loss starts the backward pass). `correct` (may be NULL)
 * receives the number of rows whose argmax equals the label. */
float train_softmax_xent(float *dlogits, int *correct, const float *logits,
                         const int32_t *labels, int n, int k);
/* Mean squared error over count values: mean((pred - target)^2); dpred
 * (overwritten) = 2 (pred - target) / count. */
float train_mse(float *dpred, const float *pred, const float *target, size_t count);

/* ---- random numbers (xoshiro-style; seeded, reproducible) ---------------- */
uint64_t train_rng_next(uint64_t *state);
/* Uniform in [0, 1). */
float train_rng_uniform(uint64_t *state);
/* Standard normal (Box-Muller). */
float train_rng_normal(uint64_t *state);

/* ---- fake quantizers (mixed-precision search) ---------------------------- *
 * Plain kernels over float buffers; search/ decides where they apply.
 *
 * Weights, symmetric per output channel at p bits (weight (Cout, len),
 * len = Cin/groups·kh·kw, or a linear's in_features):
 *   n = 2^p - 1, qmax = 2^(p-1) - 1, s_c = 2·max_i|W_c,i| / n,
 *   q = clamp(round(W / s_c), -qmax, qmax),  Q_p(W) = q·s_c.
 *   The largest |W| lands at n/2 = qmax + 1/2, a tie that rounds away and is
 *   clipped: it maps to ±qmax however W / s_c rounds (-2^(p-1) is unused).
 * - s_c is computed in float as (max / n)·2 (the same value as 2·max / n
 *   without overflow) and q from the float quotient W / s_c, by
 *   train_wq_level below: the fake quantizer and the integer export call
 *   that one function, so they agree bit for bit.
 * - round() is round half away from zero (train_fq_round): exact float
 *   operations only, so it does not depend on the FPU rounding mode (unlike
 *   rintf / nearbyintf); it equals C's roundf. The integer export and any
 *   integer re-quantization of weights must use it.
 * - p == 0: Q_0(W) = 0 (the channel is pruned). A channel whose max|W| is 0
 *   (or so small that max / n underflows to 0) gives Q = 0, q = 0, s_c = 0:
 *   no division by zero. p is 0 or 2..16 (p == 1 would have qmax = 0).
 * - Backward, straight-through: dW += dQ; no gradient through s_c.
 * Mixed form over P precisions with coefficients theta (P per channel, or P
 * shared by the layer):
 *   W~ = Σ_p θ_p·Q_p(W)
 *   dθ_p += Σ_i dW~_i·Q_p(W_i)          (per channel, or summed over channels)
 *   dW   += (Σ_p θ_p)·dW~               the sum runs over ALL p, 0 bits included.
 * The 0-bit term takes part in the straight-through gradient as if Q_0 were
 * the identity in backward (its true derivative is 0). With θ from a
 * softmax, a Gumbel-softmax or a hard one-hot, Σ_p θ_p = 1, so dW = dW~
 * whatever θ_0 is: a channel whose θ sits on 0 bits (pruned, W~ = 0) keeps
 * receiving the full gradient its effective weight gets, its weights keep
 * training and it can come back when θ moves off 0 bits. Excluding the
 * 0-bit term would scale that gradient by (1 - θ_0), freezing pruned
 * channels. (With raw θ that do not sum to 1 the scale is their sum.) */

#define TRAIN_FQ_MAX_PREC 8  /* most precisions in one mixed quantizer */
#define TRAIN_FQ_MAX_BITS 16

typedef struct {
    int nprec;                    /* P, 1..TRAIN_FQ_MAX_PREC */
    int bits[TRAIN_FQ_MAX_PREC];  /* weights: 0 or 2..16; activations: 1..16 */
} train_fq_precs;

/* Round half away from zero: trunc, then the exact fractional part decides. */
static inline float train_fq_round(float v) {
    float t = truncf(v);
    float f = v - t;  /* exact for every float */
    return f >= 0.5f ? t + 1.0f : (f <= -0.5f ? t - 1.0f : t);
}

/* Scale s_c of one channel at p >= 2 bits from its max|W| (0 for a zero
 * channel). */
static inline float train_wq_scale(float maxabs, int bits) {
    return maxabs / (float)((1 << bits) - 1) * 2.0f;
}

/* Integer level q of one weight (an integer-valued float); s > 0. */
static inline float train_wq_level(float w, float s, float qmax) {
    float q = train_fq_round(w / s);
    return q > qmax ? qmax : (q < -qmax ? -qmax : q);
}

/* out (Cout, len) = Q_bits(w (Cout, len)). */
void train_wq_forward(float *out, const float *w, int cout, int len, int bits);
/* Straight-through: dw += dout over count values. */
void train_wq_backward(float *dw, const float *dout, size_t count);
/* Integer export: q (Cout, len) in [-qmax, qmax] and scale (Cout) s_c, with
 * q·s_c == train_wq_forward's output exactly. bits == 0 gives q = 0, s = 0.
 * A NaN weight has no level: a broken invariant here (assert). */
void train_wq_export(int32_t *q, float *scale, const float *w, int cout, int len, int bits);

typedef struct {
    int cout, len;          /* weight (Cout, len) */
    int theta_per_channel;  /* 1: theta (Cout, P); 0: theta (P) for the layer */
    train_fq_precs prec;    /* bits 0 or 2..16 */
} train_wq_dims;

/* out (Cout, len) = Σ_p θ_p·Q_p(w); theta as theta_per_channel says. The
 * fast path works channel by channel (max once, vectorized loops), _ref
 * precision by precision; both add the terms in p order from 0.0f,
 * skipping those whose Q_p is 0 (0 bits, zero channel), so out and dw
 * agree exactly. */
void train_wq_mix_forward(float *out, const float *w, const float *theta, const train_wq_dims *d);
/* dw (Cout, len) or NULL; dtheta like theta or NULL: each channel's sums in
 * double (fast: in interleaved lanes, so they agree with _ref's serial sums
 * to rounding), added into dtheta channel by channel in channel order. */
void train_wq_mix_backward(float *dw, float *dtheta, const float *dout, const float *w,
                           const float *theta, const train_wq_dims *d);
void train_wq_mix_forward_ref(float *out, const float *w, const float *theta,
                              const train_wq_dims *d);
void train_wq_mix_backward_ref(float *dw, float *dtheta, const float *dout, const float *w,
                               const float *theta, const train_wq_dims *d);

/* PACT activations at p bits (1..16) with a learned clip c (one per layer):
 *   n = 2^p - 1, y = round(clamp(x, 0, c)·n/c)·c/n   (round half up)
 *   backward: dx += dy where 0 <= x < c; dc += Σ dy where x >= c
 * (the dependence of the levels on c is ignored, as in PACT).
 * - The level is train_pact_round(clamp(x, 0, c)·(n/c)) with n/c computed
 *   once in float, clamped to [0, n]; x >= c gives level n and y = c
 *   exactly; x <= 0 (or NaN x) gives 0. y = level·(c/n) otherwise.
 * - c is clamped below at TRAIN_PACT_CLIP_MIN (the clip an optimizer step
 *   pushed to or below 0 acts as that minimum; dc still flows, so c can grow
 *   back). A NaN c gives NaN outputs, which the trainer's non-finite check
 *   reports.
 * - Rounding is half up, floor(v + 1/2), not the floor of the PACT paper:
 *   the deployed requantization (deploy/runtime, the one integer semantics)
 *   rounds half up, y_q = (acc·m + 2^(s-1)) >> s = floor(v + 1/2) for the
 *   real value v = acc·m/2^s, and the integer export of a pact (search/quant)
 *   takes the output scale c/n and clamps to [0, n]; so the integer network
 *   computes the levels training computed (up to the multiplier's 31-bit
 *   rounding), where floor would read every activation half a step (c/2n)
 *   lower in training than deployed.
 * Mixed form y = Σ_p θ_p·PACT_p(x) (θ per layer):
 *   dθ_p += Σ dy·PACT_p(x); dx += (Σθ)·dy where 0 <= x < c;
 *   dc += (Σθ)·Σ dy where x >= c. */
#define TRAIN_PACT_CLIP_MIN 1e-3f

/* Round half up (v >= 0 here; floorf is exact, so this does not depend on
 * the FPU rounding mode). */
static inline float train_pact_round(float v) {
    return floorf(v + 0.5f);
}

/* The clip in use for a learned c (see TRAIN_PACT_CLIP_MIN). */
static inline float train_pact_clip(float c) {
    return c > TRAIN_PACT_CLIP_MIN || c != c ? c : TRAIN_PACT_CLIP_MIN;
}

/* Integer level in [0, n] of x for clip c (already through
 * train_pact_clip), inv_step = n/c. Branch-free, so loops over it vectorize. */
static inline float train_pact_level(float x, float c, float inv_step, float n) {
    float l = train_pact_round((x > 0.0f ? x : 0.0f) * inv_step);
    l = l < n ? l : n;
    return x >= c ? n : l;
}

typedef struct {
    size_t count;           /* elements of the activation tensor */
    train_fq_precs prec;    /* bits 1..16 */
} train_pact_dims;

/* out (count) = PACT_bits(inp) with clip c. */
void train_pact_forward(float *out, const float *inp, size_t count, int bits, float c);
/* dinp (count) or NULL; dc (1 float) or NULL. Accumulates. */
void train_pact_backward(float *dinp, float *dc, const float *dout, const float *inp, size_t count,
                         float c);
/* out = Σ_p θ_p·PACT_p(inp); theta (P). The fast path splits the elements
 * over threads; its sums (dc, dtheta) go through 64 fixed chunks added in
 * chunk order, so they do not depend on the thread count. Outputs and dinp
 * equal _ref's exactly; dc and dtheta to rounding (_ref sums serially). */
void train_pact_mix_forward(float *out, const float *inp, const float *theta, float c,
                            const train_pact_dims *d);
void train_pact_mix_backward(float *dinp, float *dc, float *dtheta, const float *dout,
                             const float *inp, const float *theta, float c,
                             const train_pact_dims *d);
void train_pact_mix_forward_ref(float *out, const float *inp, const float *theta, float c,
                                const train_pact_dims *d);
void train_pact_mix_backward_ref(float *dinp, float *dc, float *dtheta, const float *dout,
                                 const float *inp, const float *theta, float c,
                                 const train_pact_dims *d);

/* ---- softmax over architecture logits ------------------------------------ *
 * alpha, theta (rows, P): one softmax per row, 1 <= P <= 64. temp > 0 (assert). */

/* theta = softmax(alpha / temp) per row. */
void train_softmax_temp_forward(float *theta, const float *alpha, int rows, int p, float temp);
/* dalpha += (1/temp)·θ ⊙ (dθ - Σ_k θ_k dθ_k) per row; theta is the forward's
 * output. Also the backward of the Gumbel-softmax (pass its theta). */
void train_softmax_temp_backward(float *dalpha, const float *dtheta, const float *theta, int rows,
                                 int p, float temp);
/* theta = softmax((alpha + G)/temp), G = -log(-log u) per element, u uniform
 * in (0, 1) from train_rng_uniform(rng_state) + 2^-25 (in double, so G is
 * finite), drawn row by row. noise (rows, P) receives G, or NULL. */
void train_gumbel_softmax_forward(float *theta, float *noise, const float *alpha, int rows, int p,
                                  float temp, uint64_t *rng_state);
/* Hard straight-through: hard (rows, P) = one-hot of the argmax of soft per
 * row (first index on ties). Backward: the soft one's, i.e.
 * train_softmax_temp_backward(dalpha, dhard, soft, ...). */
void train_softmax_hard_forward(float *hard, const float *soft, int rows, int p);

/* ---- PIT masks --------------------------------------------------------------- *
 * Mask vectors for one layer (REFERENCE.md, PIT); tiny, no fast paths.
 * Taps are indexed from the most recent: tap i of a 1-D conv with K taps and
 * dilation d multiplies weight index kw = K-1-i (weight (Cout, Cin/g, 1, K)).
 * train's conv is a cross-correlation, out[t] = Σ_kw w[kw]·x[t·s + kw·d - pl],
 * so tap i reads x[t·s - pl + (K-1-i)·d]:
 * - causal conv (pl = (K-1)·d): tap i reads x[t - i·d], i time steps back;
 * - centered conv ("same", pl = (K-1)·d/2, train's models): tap i reads
 *   x[t + ((K-1)/2 - i)·d]; tap 0 is the latest input of the window.
 * The mask is applied the same way to both. An export that keeps every
 * kept tap reading the same sample sets pl' = pl - d·kw0, kw0 the weight
 * index of the oldest kept tap: a causal conv stays causal, (K'-1)·d'; a
 * centered one becomes off-centre (pl' < 0 when more than half the window
 * is pruned: the window starts after t, which needs right padding instead).
 * Keep-alive elements: the last channel for a (Cout-1), tap 0 (the most
 * recent) for b, the coarsest dilation term g_{L-1} for g (it covers tap 0;
 * PLiNIO's choice), L = train_pit_dil_len(K).
 * Receptive field: tb[i] = Σ_{j >= i} b'_j, the tap's own element and every
 * older one's, so the oldest tap (tb = b'_{K-1}) goes first and tap 0 (tb >=
 * b'_0 = 1) never. This is REFERENCE.md's Σ_{j <= i} b'_j with (i+1) terms
 * read with j counting from the oldest tap (kw order); with i from the most
 * recent, that literal sum would contain the kept-alive b'_0 at every tap
 * and could prune nothing. Here tap i has K - i terms.
 * Dilation: tg[i] = Σ_{p < L : i mod 2^p == 0} g'_p, n_g(i) terms; anchored
 * at the most recent tap (for K = 2^n + 1 the pattern is symmetric, the same
 * from either end).
 * Effective K (cost input, at init all ones: K_eff = K):
 *   K_eff = Σ_i (tb[i]/(K-i))·(tg[i]/n_g(i)). */

#define TRAIN_PIT_THRESHOLD 0.5f

/* L = max(ceil(log2 K), 1): length of the dilation mask for K taps. */
int train_pit_dil_len(int k);
/* n_g(i) = #{p < L : i mod 2^p == 0} (L for i == 0). */
int train_pit_dil_terms(int i, int l);

/* out (n) = |mask|·(1-ka) + ka with ka = 1 only at index keep (-1: none). */
void train_pit_keepalive_forward(float *out, const float *mask, int n, int keep);
/* dmask += dout·sign(mask) except at keep (sign(0) = 0). */
void train_pit_keepalive_backward(float *dmask, const float *dout, const float *mask, int n,
                                  int keep);
/* out = 1[t > 0.5]; backward straight-through: dt += dout. */
void train_pit_binarize_forward(float *out, const float *t, size_t count);
void train_pit_binarize_backward(float *dt, const float *dout, size_t count);
/* tb (K) from b' (K): tb[i] = Σ_{j >= i} b'_j. Backward: db'_j += Σ_{i <= j} dtb[i]. */
void train_pit_rf_forward(float *tb, const float *b, int k);
void train_pit_rf_backward(float *db, const float *dtb, int k);
/* tg (K) from g' (L): tg[i] = Σ_{p : i mod 2^p == 0} g'_p.
 * Backward: dg'_p += Σ_{i : i mod 2^p == 0} dtg[i]. */
void train_pit_dil_forward(float *tg, const float *g, int k);
void train_pit_dil_backward(float *dg, const float *dtg, int k);
/* K_eff from tb, tg (K). Backward: dtb[i] += dk·tg[i]/((K-i)·n_g(i)),
 * dtg[i] += dk·tb[i]/((K-i)·n_g(i)). */
float train_pit_keff(const float *tb, const float *tg, int k);
void train_pit_keff_backward(float *dtb, float *dtg, float dkeff, const float *tb, const float *tg,
                             int k);
/* Time mask m (K, in tap order, e.g. H(tb)·H(tg)) applied to a 1-D conv
 * weight w (rows = Cout·Cin/g, K) in kw order: out[r][kw] = w[r][kw]·m[K-1-kw].
 * Backward: dw += dout·m (NULL to skip), dm[K-1-kw] += Σ_r dout·w (NULL to
 * skip). A masked tap's weight gets no gradient; its mask element does. */
void train_pit_tap_mask_forward(float *out, const float *w, const float *m, int rows, int k);
void train_pit_tap_mask_backward(float *dw, float *dm, const float *dout, const float *w,
                                 const float *m, int rows, int k);

#endif
