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

#endif
